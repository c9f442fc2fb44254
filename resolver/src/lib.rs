//! The recursive resolver: walks root -> TLD -> authoritative servers
//! iteratively (RFC 1034 5.3.3) and caches what it learns.
//!
//! What other crates use is re-exported here, and nothing else is public:
//! [`Resolver`] (built from a [`ResolverConfig`], served to clients through
//! [`Resolver::handler`] or asked directly with [`Resolver::resolve`]),
//! [`trace()`] for `dnslab trace`, the root hints ([`iana_root_hints`],
//! [`parse_root_hints`]), the access list's [`Cidr`], and [`classify()`],
//! the reading of one upstream response, for the fuzz target.
//!
//! The modules, private, are cut along the path of one client question:
//! - `handler`: the [`dnslab_transport::Handler`]; cache hits are answered
//!   on the receiving worker, misses become a deferred resolution.
//! - `encoded`: answers kept encoded for cache hits, TTLs patched per hit.
//! - `cache`: RRsets, negative answers (RFC 2308) and zone cuts
//!   ([`Delegation`]), bounded LRU; and answering from them, the one place
//!   that does it, for the handler and the walk alike.
//! - `iterate`: the walk itself: delegations, CNAME restarts, glueless name
//!   servers, QNAME minimisation (RFC 9156), limits.
//! - `classify`: a pure function from one upstream response to a
//!   [`Classified`]: a [`Conclusion`] (answer, NXDOMAIN, NODATA), a
//!   [`Restart`] at a CNAME target, a referral, or [`Lame`]; with bailiwick
//!   filtering.
//! - `upstream`: one exchange with one server (UDP, TCP on truncation).
//! - `sockets`: upstream UDP sockets reused per server, within RFC 5452.
//! - `servers`: smoothed RTT per server address, the servers known as lame
//!   for a zone, and the order to ask them.
//! - `hints`: root hints (named.root) and the built-in IANA set.
//! - `zones`: forward and stub zones ([`ZoneServers`]), where configured
//!   servers replace the walk from the root.
//! - `reach`: which upstream addresses are never asked (loopback learned
//!   from the network, unspecified, broadcast) and the address families.
//! - `clock`: cache time ([`Clock`]), CLOCK_BOOTTIME so that TTLs count
//!   suspended time; injectable, so tests jump it forward.
//! - `acl`: which clients are served.
//! - `trace`: one resolution recorded step by step, for `dnslab trace`.
//! - `error`: why a question could not be resolved ([`ResolveError`]).
//! - [`events`]: the walk as numbered messages for the live page and
//!   `trace --json`, and the bus that carries them (public: the web crate
//!   reads them).

// Every `pub` item is reachable from here; the rest says `pub(crate)`.
#![warn(unreachable_pub)]

mod acl;
mod cache;
mod classify;
mod clock;
mod encoded;
mod error;
pub mod events;
mod handler;
mod hints;
mod iterate;
mod reach;
mod servers;
mod sockets;
mod trace;
mod upstream;
mod zones;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, Record, RecordType};
use tokio::sync::oneshot;

pub use acl::{Cidr, CidrError};
pub use cache::Delegation;
pub use classify::{classify, Classified, Conclusion, Lame, Restart};
pub use clock::Clock;
pub use error::ResolveError;
pub use hints::{iana_root_hints, parse_root_hints, HintsError};
pub use reach::UpstreamLoopback;
pub use trace::{trace, Step, StepOutcome, Trace};
pub use zones::{ZoneServers, ZoneServersError, DEFAULT_ZONE_SERVER_PORT};

/// Bounds on the work one client question may cause. Exceeding any of them
/// ends the resolution with SERVFAIL instead of letting a hostile or broken
/// hierarchy keep us busy.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Referrals followed in total, across CNAME restarts and name-server
    /// lookups.
    pub max_referrals: u32,
    /// CNAME records followed (Unbound and BIND stop around 12).
    pub max_cname_chain: u32,
    /// Upstream queries sent for one client question.
    pub max_upstream_queries: u32,
    /// Nesting of name-server address lookups (glueless delegations whose
    /// servers are themselves glueless...).
    pub max_ns_depth: u32,
    /// Wall-clock budget for one client question.
    pub total_time: Duration,
    /// How long to wait for one upstream server before trying the next.
    pub upstream_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_referrals: 30,
            max_cname_chain: 12,
            max_upstream_queries: 64,
            max_ns_depth: 4,
            total_time: Duration::from_secs(5),
            upstream_timeout: Duration::from_millis(800),
        }
    }
}

/// Everything the resolver needs to know, already validated (the CLI parses
/// flags into this).
#[derive(Clone, Debug)]
pub struct ResolverConfig {
    /// Root name servers and their addresses; the walk starts here when no
    /// deeper delegation is cached.
    pub root_hints: Vec<(Name, IpAddr)>,
    /// The port every upstream server is asked on (53 on the Internet; an
    /// unprivileged port for a toy hierarchy on loopback).
    pub upstream_port: u16,
    /// Entries in each of the RRset and delegation caches.
    pub cache_size: usize,
    /// TTLs below this are raised before caching (seconds), negative
    /// answers' included; a negative answer without an SOA is cached for
    /// this long (and not at all when it is 0).
    pub min_ttl: u32,
    /// TTLs above this are lowered before caching (seconds), negative
    /// answers' included.
    pub max_ttl: u32,
    /// RFC 9156: reveal to each server only the labels it needs.
    pub qname_minimisation: bool,
    /// Clients served; everyone else gets REFUSED.
    pub allow: Vec<Cidr>,
    pub limits: Limits,
    /// Upstream queries one UDP socket may carry, to the same server only
    /// (see `sockets`): 1, the default, gives every query a fresh random
    /// source port (RFC 5452); more saves CPU per cache miss.
    pub upstream_socket_uses: u32,
    /// Whether loopback addresses learned from referrals, glue and
    /// name-server lookups are asked (see `reach`).
    pub upstream_loopback: UpstreamLoopback,
    /// Ask IPv4 servers and look up name servers' A records (Unbound's
    /// `do-ip4`).
    pub ipv4_upstream: bool,
    /// Ask IPv6 servers (when the host has an IPv6 route) and look up name
    /// servers' AAAA records (Unbound's `do-ip6`).
    pub ipv6_upstream: bool,
    /// Zones whose questions go to recursive servers with RD=1.
    pub forward_zones: Vec<ZoneServers>,
    /// Zones whose walk starts at these authoritative servers.
    pub stub_zones: Vec<ZoneServers>,
    /// Cache time; clones share it, so a test keeps one to jump forward.
    pub clock: Clock,
}

impl Default for ResolverConfig {
    fn default() -> Self {
        ResolverConfig {
            root_hints: iana_root_hints(),
            upstream_port: 53,
            cache_size: 10_000,
            min_ttl: 0,
            max_ttl: 86_400,
            qname_minimisation: true,
            allow: acl::private_networks(),
            limits: Limits::default(),
            upstream_socket_uses: 1,
            upstream_loopback: UpstreamLoopback::Auto,
            ipv4_upstream: true,
            ipv6_upstream: true,
            forward_zones: Vec::new(),
            stub_zones: Vec::new(),
            clock: Clock::new(),
        }
    }
}

/// Counters for tests and operators.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Queries sent to upstream servers (UDP and TCP attempts both count).
    pub upstream_queries: u64,
    /// RRsets and negative answers in the cache now.
    pub cached_rrsets: usize,
    /// Delegations in the cache now.
    pub cached_delegations: usize,
}

/// The outcome of resolving one question, as it goes to a client.
#[derive(Clone, Debug)]
pub struct Resolution {
    /// NOERROR or NXDOMAIN: the rcode at the end of the CNAME chain.
    pub rcode: ResponseCode,
    /// The CNAME chain, then the final RRset (empty for NXDOMAIN/NODATA).
    pub answers: Vec<Record>,
    /// The SOA proving a negative answer, when one was seen.
    pub authorities: Vec<Record>,
}

type InflightKey = (Name, RecordType);
type Waiters = Vec<oneshot::Sender<Result<Resolution, ResolveError>>>;

pub(crate) struct Inner {
    pub(crate) config: ResolverConfig,
    pub(crate) cache: cache::Cache,
    pub(crate) servers: servers::ServerStats,
    pub(crate) upstream_queries: AtomicU64,
    pub(crate) sockets: sockets::SocketPool,
    /// Which upstream addresses may be asked.
    pub(crate) reach: reach::Reach,
    /// Questions being resolved now; later identical questions wait for the
    /// first one instead of walking the tree again.
    inflight: Mutex<HashMap<InflightKey, Waiters>>,
}

/// The recursive resolver. Cheap to clone: clones share the cache, the RTT
/// table and the counters.
#[derive(Clone)]
pub struct Resolver {
    pub(crate) inner: Arc<Inner>,
}

impl Resolver {
    pub fn new(config: ResolverConfig) -> Resolver {
        let cache = cache::Cache::new(
            config.cache_size,
            config.min_ttl,
            config.max_ttl,
            config.clock.clone(),
        );
        let sockets = sockets::SocketPool::new(config.upstream_socket_uses);
        let reach = reach::Reach::new(&config);
        Resolver {
            inner: Arc::new(Inner {
                reach,
                config,
                cache,
                servers: servers::ServerStats::default(),
                upstream_queries: AtomicU64::new(0),
                sockets,
                inflight: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn config(&self) -> &ResolverConfig {
        &self.inner.config
    }

    pub fn stats(&self) -> Stats {
        let (cached_rrsets, cached_delegations) = self.inner.cache.len();
        Stats {
            upstream_queries: self.inner.upstream_queries.load(Ordering::Relaxed),
            cached_rrsets,
            cached_delegations,
        }
    }

    /// The transport handler serving this resolver to clients.
    pub fn handler(&self) -> Arc<dyn dnslab_transport::Handler> {
        Arc::new(handler::ResolverHandler::new(self.clone()))
    }

    /// Resolves one question (class IN). Identical questions in flight at
    /// the same time share one resolution.
    pub async fn resolve(
        &self,
        mut name: Name,
        rtype: RecordType,
    ) -> Result<Resolution, ResolveError> {
        // Names are absolute on the wire; "example.com" means "example.com.".
        name.set_fqdn(true);
        let key = (name.to_lowercase(), rtype);
        let waiter = {
            let mut inflight = lock(&self.inner.inflight);
            match inflight.get_mut(&key) {
                Some(waiters) => {
                    let (tx, rx) = oneshot::channel();
                    waiters.push(tx);
                    Some(rx)
                }
                None => {
                    inflight.insert(key.clone(), Vec::new());
                    None
                }
            }
        };
        if let Some(rx) = waiter {
            return rx.await.unwrap_or(Err(ResolveError::Abandoned));
        }
        // If this future is dropped mid-way, the guard removes the entry;
        // the waiters' receivers then fail and they answer SERVFAIL.
        let guard = InflightGuard {
            inner: &self.inner,
            key: Some(key),
        };
        let result = iterate::Walk::new(&self.inner, None)
            .resolve(&name, rtype)
            .await;
        guard.finish(&result);
        result
    }
}

struct InflightGuard<'a> {
    inner: &'a Inner,
    key: Option<InflightKey>,
}

impl InflightGuard<'_> {
    fn finish(mut self, result: &Result<Resolution, ResolveError>) {
        let waiters = self
            .key
            .take()
            .and_then(|key| lock(&self.inner.inflight).remove(&key))
            .unwrap_or_default();
        for waiter in waiters {
            // A waiter whose client went away is not an error.
            let _ = waiter.send(result.clone());
        }
    }
}

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            lock(&self.inner.inflight).remove(&key);
        }
    }
}

/// Locks a mutex that is only ever held for short, non-panicking sections;
/// a poisoned lock still holds consistent data, so take it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
