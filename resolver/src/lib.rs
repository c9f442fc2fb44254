//! The recursive resolver: walks root -> TLD -> authoritative servers
//! iteratively (RFC 1034 5.3.3) and caches what it learns.
//!
//! What other crates use is re-exported here, and nothing else is public:
//! [`Resolver`] (built from a [`ResolverConfig`], served to clients through
//! [`Resolver::handler`] or asked directly with [`Resolver::resolve`];
//! [`Resolver::with_events`] publishes its lookups on an
//! [`events::EventBus`] while anyone watches, [`Resolver::flush`],
//! [`Resolver::dump_cache`] and [`Resolver::metrics`] serve the control API),
//! [`trace()`] for `dnslab trace`, the root hints ([`iana_root_hints`],
//! [`parse_root_hints`]), the access list's [`Cidr`], and [`classify()`],
//! the reading of one upstream response, for the fuzz target.
//!
//! The modules, private, are cut along the path of one client question:
//! - `handler`: the [`dnslab_transport::Handler`]; cache hits are answered
//!   on the receiving worker, misses become a deferred resolution.
//! - `encoded`: answers kept encoded for cache hits, TTLs patched per hit,
//!   in each rotation of their RRsets (load distribution).
//! - `respond`: responses written with hickory's encoder (the full path
//!   and the kept answers), their RRsets rotated, the client's ECS echoed.
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
//! - `recorder`: one lookup as it happens, as the numbered messages of
//!   [`events`], published while someone watches or collected for `trace`.
//! - `metrics`: cache hits and misses, upstream queries, timeouts and lame
//!   answers per server ([`ResolverMetrics`]).
//! - `trace`: one resolution from an empty cache, recorded, for `dnslab trace`.
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
mod metrics;
mod reach;
mod recorder;
mod respond;
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

use dnslab_wire::{ClientSubnet, RrsetOrder};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, Record, RecordType};
use tokio::sync::oneshot;
use tokio::time::Instant;

use events::{Endpoint, EventBus};
use recorder::Recorder;

pub use acl::{Cidr, CidrError};
pub use cache::{CacheLine, Delegation, Flush, Origin};
pub use classify::{classify, Classified, Conclusion, Lame, Restart};
pub use clock::Clock;
pub use error::ResolveError;
pub use hints::{iana_root_hints, parse_root_hints, HintsError};
pub use metrics::{ResolverMetrics, UpstreamCounts, MAX_UPSTREAMS};
pub use reach::UpstreamLoopback;
pub use trace::{trace, Trace};
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
    /// The order of the records of each RRset in answers to clients
    /// (Unbound's `rrset-roundrobin`, as `--rrset-order`); cyclic by
    /// default.
    pub rrset_order: RrsetOrder,
    /// RFC 7871: send each client's network (/24, /56) upstream, and cache
    /// answers by the network their scope says they hold for. Off by
    /// default: it tells every server part of the client's address.
    pub ecs: bool,
    /// The address upstream queries leave from (BIND's `query-source`),
    /// so that servers see this resolver's own address; the system's
    /// choice when `None`.
    pub source_address: Option<IpAddr>,
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
            rrset_order: RrsetOrder::default(),
            ecs: false,
            source_address: None,
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
    /// RFC 7871: the leading bits of the client's network that the answer
    /// holds for; 0 when it holds for everyone (always, without `--ecs`).
    pub scope: u8,
}

/// A question in flight: identical ones share one resolution; with
/// `--ecs`, only for the same client network.
type InflightKey = (Name, RecordType, Option<ClientSubnet>);
type Waiters = Vec<oneshot::Sender<Result<Resolution, ResolveError>>>;

pub(crate) struct Inner {
    pub(crate) config: ResolverConfig,
    pub(crate) cache: cache::Cache,
    /// Answers kept encoded for cache hits (see `encoded`), here and not
    /// in each handler so that a flush empties them too.
    pub(crate) encoded: encoded::EncodedAnswers,
    pub(crate) servers: servers::ServerStats,
    pub(crate) upstream_queries: AtomicU64,
    pub(crate) counters: metrics::Counters,
    pub(crate) sockets: sockets::SocketPool,
    /// Where lookups are published while someone watches; `None` for a
    /// resolver nobody can watch.
    pub(crate) events: Option<Arc<EventBus>>,
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
        Resolver::build(config, None)
    }

    /// A resolver whose lookups are published on `bus` while anyone
    /// subscribes to it (the live page, `dnslab up`'s terminal).
    pub fn with_events(config: ResolverConfig, bus: Arc<EventBus>) -> Resolver {
        Resolver::build(config, Some(bus))
    }

    fn build(config: ResolverConfig, events: Option<Arc<EventBus>>) -> Resolver {
        let cache = cache::Cache::new(
            config.cache_size,
            config.min_ttl,
            config.max_ttl,
            config.clock.clone(),
        );
        let sockets = sockets::SocketPool::new(config.upstream_socket_uses, config.source_address);
        let encoded = encoded::EncodedAnswers::new(
            config.cache_size,
            config.rrset_order,
            config.clock.clone(),
        );
        let reach = reach::Reach::new(&config);
        Resolver {
            inner: Arc::new(Inner {
                reach,
                config,
                cache,
                encoded,
                servers: servers::ServerStats::default(),
                upstream_queries: AtomicU64::new(0),
                counters: metrics::Counters::default(),
                sockets,
                events,
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

    /// Removes cached data (and every answer kept encoded, which the next
    /// hits encode again); returns how many cache entries went.
    pub fn flush(&self, what: &Flush) -> usize {
        let removed = self.inner.cache.flush(what);
        self.inner.encoded.clear();
        tracing::info!(?what, removed, "cache flushed");
        removed
    }

    /// Every cached record with the time it has left and where it came
    /// from, as master-file lines.
    pub fn dump_cache(&self) -> Vec<CacheLine> {
        self.inner.cache.dump()
    }

    /// Cache hits and misses, and the upstream servers' counts.
    pub fn metrics(&self) -> ResolverMetrics {
        self.inner.counters.snapshot()
    }

    /// The bus lookups are published on, if any.
    pub fn events(&self) -> Option<&Arc<EventBus>> {
        self.inner.events.as_ref()
    }

    /// A recorder for a lookup starting now, when someone watches: one
    /// relaxed load when nobody does.
    #[inline]
    pub(crate) fn watch(&self) -> Option<Instant> {
        let watched = self.inner.events.as_ref().is_some_and(|bus| bus.watched());
        watched.then(Instant::now)
    }

    /// A recorder publishing the lookup `client` asks, started at
    /// `started` ([`Resolver::watch`]).
    pub(crate) fn recorder(
        &self,
        started: Instant,
        client: Endpoint,
        resolver: Endpoint,
        name: &Name,
        rtype: RecordType,
    ) -> Option<Recorder> {
        let bus = self.inner.events.clone()?;
        let sink = recorder::Sink::Bus(bus);
        Some(Recorder::start(
            sink, client, resolver, name, rtype, started,
        ))
    }

    /// Resolves one question for `client` as [`Resolver::resolve`] does,
    /// publishing its messages while anyone watches; returns the lookup id
    /// they carry, when they were published.
    pub async fn resolve_for(
        &self,
        client: Endpoint,
        mut name: Name,
        rtype: RecordType,
    ) -> (Result<Resolution, ResolveError>, Option<u64>) {
        name.set_fqdn(true);
        let recorder = self.watch().and_then(|started| {
            self.recorder(started, client, Endpoint::resolver(None), &name, rtype)
        });
        let result = self
            .resolve_recorded(name, rtype, None, recorder.as_ref())
            .await;
        (result, recorder.map(|recorder| recorder.lookup()))
    }

    /// The transport handler serving this resolver to clients.
    pub fn handler(&self) -> Arc<dyn dnslab_transport::Handler> {
        Arc::new(handler::ResolverHandler::new(self.clone()))
    }

    /// Resolves one question (class IN). Identical questions in flight at
    /// the same time share one resolution.
    pub async fn resolve(&self, name: Name, rtype: RecordType) -> Result<Resolution, ResolveError> {
        self.resolve_recorded(name, rtype, None, None).await
    }

    /// [`Resolver::resolve`] for the client network `subnet` (with
    /// `--ecs`: sent upstream, and used to find the answers tied to it,
    /// RFC 7871), its messages given to `recorder`, which ends with the
    /// answer to the client.
    pub(crate) async fn resolve_recorded(
        &self,
        mut name: Name,
        rtype: RecordType,
        subnet: Option<ClientSubnet>,
        recorder: Option<&Recorder>,
    ) -> Result<Resolution, ResolveError> {
        // Names are absolute on the wire; "example.com" means "example.com.".
        name.set_fqdn(true);
        let key = (name.to_lowercase(), rtype, subnet);
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
            let result = rx.await.unwrap_or(Err(ResolveError::Abandoned));
            if let Some(recorder) = recorder {
                recorder.finish(&result, true);
            }
            return result;
        }
        // If this future is dropped mid-way, the guard removes the entry;
        // the waiters' receivers then fail and they answer SERVFAIL.
        let guard = InflightGuard {
            inner: &self.inner,
            key: Some(key),
        };
        let result = iterate::Walk::new(&self.inner, recorder)
            .for_client(subnet)
            .resolve(&name, rtype)
            .await;
        guard.finish(&result);
        if let Some(recorder) = recorder {
            recorder.finish(&result, false);
        }
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
