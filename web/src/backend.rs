//! What the web server asks of the DNS servers behind it: two small
//! traits, one for the resolver and one for the authoritative servers.
//!
//! Both are optional ([`crate::Web::with_resolver`],
//! [`crate::Web::with_auth`]): a standalone `dnslab auth --web` has no
//! resolver, a standalone resolver no zones, and the routes that need a
//! missing one answer 501 with a JSON error. The binary implements them
//! over the real servers; the tests over a synthetic backend.
//!
//! Names and types arrive parsed and validated (a bad one is the web
//! server's 400, never the backend's problem); nothing here can fail, so
//! there is no error type: a lookup that fails is an answer (SERVFAIL),
//! a zone that does not reload says so in its [`ZoneReload`].

use std::future::Future;
use std::pin::Pin;

use hickory_proto::rr::{Name, RecordType};
use serde::{Deserialize, Serialize};

use crate::metrics::MetricsSnapshot;

/// What [`ResolverControl::flush`] removes, and one line of
/// [`ResolverControl::dump_cache`]: the resolver's own types.
pub use dnslab_resolver::{CacheLine, Flush, Origin};

/// A boxed future, so that the traits stay usable as `dyn`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The resolver, as the page and `dnslab ctl` see it.
pub trait ResolverControl: Send + Sync + 'static {
    /// Resolves `name`/`qtype` as a client's question would be (through
    /// the cache, publishing the walk's events while anyone watches).
    fn ask(&self, name: Name, qtype: RecordType) -> BoxFuture<'_, Asked>;

    /// Removes cached data; returns how many entries went.
    fn flush(&self, what: &Flush) -> usize;

    /// Every cached record, as master-file lines with TTL left and origin.
    fn dump_cache(&self) -> Vec<CacheLine>;

    /// Adds the resolver's counters (queries, cache, upstream servers,
    /// resolution times) to the snapshot `/metrics` and `/api/stats` show.
    fn fill_metrics(&self, snapshot: &mut MetricsSnapshot);
}

/// The authoritative servers (one, or the whole hierarchy of `dnslab up`).
pub trait AuthControl: Send + Sync + 'static {
    /// Every zone served, by each server serving it.
    fn zones(&self) -> Vec<ZoneInfo>;

    /// Reloads every zone from its file. A zone that fails to load keeps
    /// serving its old data; its entry says why. May block (file reads):
    /// the web server calls it on a blocking thread.
    fn reload(&self) -> Vec<ZoneReload>;

    /// Writes `zone` back to its master file (with its dynamic updates)
    /// on every server that serves it, as Knot's `zone-flush`; an empty
    /// list when none does. May block (file writes): the web server calls
    /// it on a blocking thread.
    fn zone_flush(&self, zone: &Name) -> Vec<ZoneFlush>;

    /// Adds the servers' query counters to the snapshot. Zone serials are
    /// added by the web server from [`AuthControl::zones`].
    fn fill_metrics(&self, snapshot: &mut MetricsSnapshot);
}

/// The result of [`ResolverControl::ask`], as `/api/ask` returns it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Asked {
    /// The id the walk's events carry, when they were published (someone
    /// watched); the page selects that lookup.
    pub lookup: Option<u64>,
    /// "NOERROR", "NXDOMAIN", "SERVFAIL".
    pub rcode: String,
    /// Master-file lines: the CNAME chain, then the answer.
    pub answers: Vec<String>,
    /// The SOA of a negative answer.
    pub authorities: Vec<String>,
    /// Time to resolve, in milliseconds.
    pub ms: f64,
    /// Why the resolution failed (SERVFAIL), in words.
    pub error: Option<String>,
}

/// One zone on one server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneInfo {
    /// The server's name ("a.root-servers.lab."), or its address when it
    /// has none; the `server` label of the zone's metrics.
    pub server: String,
    pub zone: String,
    pub serial: u32,
}

/// What reloading one zone did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneReload {
    pub server: String,
    pub zone: String,
    /// The serial served after the reload (the old one when it failed).
    pub serial: u32,
    /// Why the new file was not loaded; `None` when it was.
    pub error: Option<String>,
}

/// What writing one zone back to its file did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneFlush {
    pub server: String,
    pub zone: String,
    /// The serial written (the one served); 0 when nothing was.
    pub serial: u32,
    /// The master file written.
    pub file: Option<String>,
    /// Why it was not written; `None` when it was.
    pub error: Option<String>,
}
