//! The walk: RFC 1034 5.3.3 from the deepest known zone cut down to the
//! servers that can answer, restarting at CNAME targets.
//!
//! One client question becomes one [`Walk`], which carries the budget
//! (upstream queries, referrals, wall-clock deadline) shared by everything
//! the question causes: CNAME restarts and lookups of name-server addresses
//! for glueless delegations. Running out of any budget ends the walk with an
//! error, which the handler turns into SERVFAIL.
//!
//! The walk asks; the cache answers. Each name the walk reaches is first
//! answered from [`crate::cache`] if it can be, and what the servers
//! conclude is stored and turned into the client's answer there too.
//!
//! With `--ecs` the walk asks for one client network (RFC 7871): every
//! upstream query carries it, and each answer's scope says whether the
//! cache ties it to that network (`crate::cache`'s `tailored`).
//!
//! QNAME minimisation follows RFC 9156 in Unbound's relaxed form: below a
//! zone cut we ask for one more label at a time (type A); a referral moves
//! the cut, an answer or NODATA means "no cut here, add a label", an
//! NXDOMAIN ends everything (RFC 8020: nothing exists below), and a server
//! that only errs on the minimised name is asked the full name instead.
//!
//! Where the configuration says so (`zones`), a question is forwarded to
//! recursive servers instead of walked, or its walk starts at a stub
//! zone's servers instead of the root.
//!
//! A server may have two sets of addresses: the parent's glue and the
//! child zone's own A/AAAA records. Both are asked, fastest first by the
//! RTTs `servers` keeps, so when one fails the other is tried before the
//! zone is given up, and the RTTs remember which worked. Glue the cache
//! holds for a server from another delegation counts as known, so a
//! lookup of its address that runs into a broken zone does not lose it;
//! and a server known only from glue outside the zone is looked up (its
//! child-side address) when everything else has failed. Addresses `reach`
//! refuses are skipped as failed servers.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use dnslab_wire::ClientSubnet;
use hickory_proto::op::Query;
use hickory_proto::rr::{Name, Record, RecordType};
use tokio::time::{timeout_at, Instant};
use tracing::{debug, instrument};

use crate::cache::{tie, CacheAnswer, Chain, Delegation, Lookup};
use crate::classify::{address, apex_servers, classify, Classified, Conclusion, Lame, Restart};
use crate::metrics::Upstream;
use crate::recorder::{Recorder, Via};
use crate::zones::{configured_for, Configured};
use crate::{lock, upstream, Inner, Resolution, ResolveError, ZoneServers};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The state of one client question's resolution.
pub(crate) struct Walk<'a> {
    inner: &'a Inner,
    queries: AtomicU32,
    referrals: AtomicU32,
    deadline: Instant,
    /// Name servers whose addresses are being looked up right now: asking
    /// for one of them again means the delegations depend on each other.
    pending: Mutex<Vec<Name>>,
    /// The lookup's messages, while someone watches or `dnslab trace`
    /// asks (see [`crate::recorder`]).
    recorder: Option<&'a Recorder>,
    /// The client network asked for (`--ecs`).
    client: Option<ClientSubnet>,
}

/// One [`Walk::ask_zone`]: the question, and what asking has found so far.
struct Asking<'c> {
    cut: &'c Delegation,
    question: Query,
    depth: u32,
    /// Every address asked or refused, each once.
    tried: Vec<SocketAddr>,
    /// Why the last lame server was lame.
    lame: Option<Lame>,
}

/// How the walk for one name ends: with what its servers concluded, or
/// with a chain to follow from elsewhere; each with the SCOPE
/// PREFIX-LENGTH of the response (RFC 7871; 0 without ECS).
enum WalkEnd {
    Conclusion(Conclusion, u8),
    Restart(Restart, u8),
}

/// A usable response of one server, classified, and its ECS scope.
struct Answered {
    classified: Classified,
    scope: u8,
}

impl<'a> Walk<'a> {
    pub(crate) fn new(inner: &'a Inner, recorder: Option<&'a Recorder>) -> Walk<'a> {
        Walk {
            inner,
            queries: AtomicU32::new(0),
            referrals: AtomicU32::new(0),
            deadline: Instant::now() + inner.config.limits.total_time,
            pending: Mutex::new(Vec::new()),
            recorder,
            client: None,
        }
    }

    /// The walk for the client network `client` (`--ecs`; `None`: for no
    /// particular client, the resolver's own).
    pub(crate) fn for_client(mut self, client: Option<ClientSubnet>) -> Walk<'a> {
        self.client = client;
        self
    }

    // Debug, not the default info: at info (how `dnslab resolve` logs) the
    // span was built, its fields formatted, and entered on every poll, for
    // every miss, to decorate debug lines that are off.
    #[instrument(level = "debug", skip_all, fields(%qname, ?qtype))]
    pub(crate) async fn resolve(
        &self,
        qname: &Name,
        qtype: RecordType,
    ) -> Result<Resolution, ResolveError> {
        let limit = self.inner.config.limits.total_time;
        timeout_at(self.deadline, self.resolve_at_depth(qname, qtype, 0))
            .await
            .unwrap_or(Err(ResolveError::Timeout { limit }))
    }

    /// Resolves `qname` following CNAMEs, from the cache where it can.
    /// `depth` counts nested name-server address lookups.
    fn resolve_at_depth<'b>(
        &'b self,
        qname: &'b Name,
        qtype: RecordType,
        depth: u32,
    ) -> BoxFuture<'b, Result<Resolution, ResolveError>> {
        Box::pin(async move {
            let cache = &self.inner.cache;
            let max_cnames = self.inner.config.limits.max_cname_chain;
            let mut chain = Chain::for_client(max_cnames, self.client);
            let mut current = qname.clone();
            loop {
                match cache.answer(&current, qtype, &mut chain)? {
                    CacheAnswer::Done(resolution) => return Ok(resolution),
                    CacheAnswer::Miss(name) => current = name,
                }
                match self.walk(&current, qtype, depth).await? {
                    WalkEnd::Conclusion(conclusion, scope) => {
                        return cache.conclude(&current, qtype, conclusion, scope, chain)
                    }
                    // RFC 1034 5.3.3 step 4: cache the CNAME, change SNAME
                    // to its target, go to step 1.
                    WalkEnd::Restart(restart, scope) => {
                        current = cache.follow(restart, scope, &mut chain)?
                    }
                }
            }
        })
    }

    /// Walks down the delegations to the servers for `qname` and returns
    /// what they say about it.
    async fn walk(
        &self,
        qname: &Name,
        qtype: RecordType,
        depth: u32,
    ) -> Result<WalkEnd, ResolveError> {
        // RFC 4035 4.2: DS is the parent side's data, so its question goes
        // to the servers of the zone above QNAME, never to QNAME's own.
        let above = if qtype == RecordType::DS && !qname.is_root() {
            qname.base_name()
        } else {
            qname.clone()
        };
        let config = &self.inner.config;
        let cached = self.inner.cache.closest_delegation(&above);
        let (mut cut, stub) =
            match configured_for(&config.forward_zones, &config.stub_zones, &above) {
                Some(Configured::Forward(zone)) => {
                    return self.forward(zone, qname, qtype, depth).await
                }
                // A cut cached below the stub zone (learned from its servers)
                // is closer; the stub replaces anything above it.
                Some(Configured::Stub(stub)) => match cached {
                    Some(cut) if cut.zone.num_labels() > stub.zone.num_labels() => {
                        (cut, Some(stub))
                    }
                    _ => (Delegation::stub(stub), Some(stub)),
                },
                None => (
                    cached.unwrap_or_else(|| Delegation::root(&config.root_hints)),
                    None,
                ),
            };
        let mut minimise = self.inner.config.qname_minimisation;
        let mut labels = cut.zone.num_labels() + 1;
        if let Some(recorder) = self.recorder {
            self.record_spared(recorder, &cut, stub);
        }
        loop {
            let full = !minimise || labels >= qname.num_labels();
            let (ask_name, ask_type) = if full {
                (qname.clone(), qtype)
            } else {
                // RFC 9156 3: the minimised query asks for type A.
                (qname.trim_to(usize::from(labels)), RecordType::A)
            };
            // RFC 9156 3: use what the cache knows instead of asking again.
            // Without this, every fresh name under a wildcard
            // (x.wild.example.com) asked `wild.example.com A` again before
            // the real question: two upstream queries where one suffices.
            // Skipping is safe even if the entry outlived the knowledge of a
            // cut below it: the zone's servers then answer the longer name
            // with a referral, which is followed like any other.
            if !full {
                match self.inner.cache.lookup(&ask_name, RecordType::A) {
                    // It exists (or is an empty non-terminal) in the zone
                    // above: no cut here, one more label.
                    Lookup::Hit(_) | Lookup::Cname(_) | Lookup::NoData { .. } => {
                        labels += 1;
                        continue;
                    }
                    // RFC 8020: nothing exists below a name that does not exist.
                    Lookup::NxDomain { soa } => {
                        let records = Vec::new();
                        let nxdomain = Conclusion::NxDomain { records, soa };
                        return Ok(WalkEnd::Conclusion(nxdomain, 0));
                    }
                    Lookup::Miss => {}
                }
            }
            let Answered { classified, scope } =
                self.ask_zone(&cut, &ask_name, ask_type, depth).await?;
            if !full {
                // Cached as for any question, so that the walk finds it for
                // the next name below; referrals are cached below, lame
                // responses teach nothing.
                let network = tie(self.client.as_ref(), scope);
                let cache = &self.inner.cache;
                match (&classified, &network) {
                    (Classified::Conclusion(conclusion), _) => {
                        cache.store_conclusion(&ask_name, ask_type, conclusion, network.as_ref());
                    }
                    (Classified::Restart(restart), Some(network)) => {
                        cache.store_tied_records(&restart.records, network)
                    }
                    (Classified::Restart(restart), None) => cache.store_records(&restart.records),
                    (Classified::Referral(_) | Classified::Lame(_), _) => {}
                }
            }
            match classified {
                Classified::Referral(delegation) => {
                    let followed = self.referrals.fetch_add(1, Ordering::Relaxed) + 1;
                    let limit = self.inner.config.limits.max_referrals;
                    if followed > limit {
                        return Err(ResolveError::TooManyReferrals { limit });
                    }
                    debug!(from = %cut.zone, to = %delegation.zone, "referral");
                    self.inner.cache.store_delegation(&delegation);
                    labels = delegation.zone.num_labels() + 1;
                    cut = delegation;
                }
                Classified::Conclusion(conclusion) if full => {
                    return Ok(WalkEnd::Conclusion(conclusion, scope))
                }
                Classified::Restart(restart) if full => {
                    return Ok(WalkEnd::Restart(restart, scope))
                }
                // RFC 8020: nothing exists below a name that does not exist.
                Classified::Conclusion(Conclusion::NxDomain { soa, .. }) => {
                    let records = Vec::new();
                    let nxdomain = Conclusion::NxDomain { records, soa };
                    return Ok(WalkEnd::Conclusion(nxdomain, scope));
                }
                // The minimised name exists and is not a cut: one more label.
                Classified::Conclusion(_) | Classified::Restart(_) => labels += 1,
                Classified::Lame(reason) if !full => {
                    debug!(zone = %cut.zone, ?reason, "minimised query failed; asking the full name");
                    minimise = false;
                }
                Classified::Lame(reason) => {
                    return Err(ResolveError::LameDelegation {
                        zone: cut.zone,
                        reason: reason.to_string(),
                    })
                }
            }
        }
    }

    /// Asks the servers of `cut`, best first, until one gives a usable
    /// response. Returns [`Classified::Lame`] if every server that answered was
    /// lame. Servers without a known address are looked up only when the
    /// ones with addresses have all failed (RFC 1034 5.3.3 step 3), and
    /// the parent's servers that the child's NS set dropped only when the
    /// child's have all failed (see [`Delegation`]).
    async fn ask_zone(
        &self,
        cut: &Delegation,
        qname: &Name,
        qtype: RecordType,
        depth: u32,
    ) -> Result<Answered, ResolveError> {
        let mut asking = Asking {
            cut,
            question: Query::query(qname.clone(), qtype),
            depth,
            tried: Vec::new(),
            lame: None,
        };
        if !cut.stub.is_empty() {
            let stub = cut.stub.iter().map(|addr| (cut.zone.clone(), *addr));
            if let Some(usable) = self.ask_each(&mut asking, stub.collect()).await? {
                return Ok(usable);
            }
        }
        for servers in [&cut.servers, &cut.fallback] {
            let (known, unresolved) = self.known_addresses(cut, servers);
            if let Some(usable) = self.ask_each(&mut asking, known).await? {
                return Ok(usable);
            }
            for server in unresolved {
                let mut ips = match self.server_addresses(&server, depth).await {
                    Ok(ips) => ips,
                    Err(error) if error.is_budget() => return Err(error),
                    Err(error) => {
                        debug!(%server, %error, "no address for name server");
                        Vec::new()
                    }
                };
                // The parent's glue for it, which the lookup's walk may
                // have just cached: kept even when the lookup failed.
                ips.extend(self.inner.cache.glue_for(&server));
                ips.sort_unstable();
                ips.dedup();
                let found = ips
                    .into_iter()
                    .map(|ip| (server.clone(), self.upstream(ip)));
                if let Some(usable) = self.ask_each(&mut asking, found.collect()).await? {
                    return Ok(usable);
                }
            }
        }
        match asking.lame {
            Some(reason) => Ok(Answered {
                classified: Classified::Lame(reason),
                scope: 0,
            }),
            None if asking.tried.is_empty() => Err(ResolveError::NoServerAddress {
                zone: cut.zone.clone(),
            }),
            None => Err(ResolveError::NoServerAnswered {
                zone: cut.zone.clone(),
            }),
        }
    }

    /// Asks `candidates`, best first, skipping addresses already tried
    /// and those `reach` refuses; the first usable response, if any.
    async fn ask_each(
        &self,
        asking: &mut Asking<'_>,
        candidates: Vec<(Name, SocketAddr)>,
    ) -> Result<Option<Answered>, ResolveError> {
        if candidates.is_empty() {
            return Ok(None);
        }
        let zone = &asking.cut.zone;
        for (server, addr) in self.order(zone, candidates) {
            if asking.tried.contains(&addr) {
                continue;
            }
            asking.tried.push(addr);
            if !self.may_ask(&server, addr, zone) {
                continue;
            }
            match self
                .ask(&server, addr, &asking.question, zone, asking.depth)
                .await?
            {
                Some(Answered {
                    classified: Classified::Lame(reason),
                    ..
                }) => {
                    debug!(%server, %addr, %zone, ?reason, "lame server");
                    asking.lame = Some(reason);
                }
                Some(answered) => return Ok(Some(answered)),
                None => {}
            }
        }
        Ok(None)
    }

    /// Whether `reach` lets the walk ask `addr`; a refusal is logged and
    /// counts as a server that failed.
    fn may_ask(&self, server: &Name, addr: SocketAddr, zone: &Name) -> bool {
        match self.inner.reach.check(addr.ip()) {
            Ok(()) => true,
            Err(refusal) => {
                debug!(%server, %addr, %zone, %refusal, "not asking this address");
                false
            }
        }
    }

    /// `candidates` for `zone`, best first (see `servers`).
    fn order(&self, zone: &Name, candidates: Vec<(Name, SocketAddr)>) -> Vec<(Name, SocketAddr)> {
        self.inner
            .servers
            .order(zone, candidates, |(_, addr)| addr.ip())
    }

    /// The walk's address for a server at `ip`.
    fn upstream(&self, ip: IpAddr) -> SocketAddr {
        SocketAddr::new(ip, self.inner.config.upstream_port)
    }

    /// The addresses known for `servers` of `cut`: for each, its glue
    /// (the parent side), its addresses in the cache (the child side) and,
    /// without glue here, the glue cached for it from another cut. Also,
    /// in the order to look them up: the servers with no known address,
    /// then those known only from glue whose names lie outside the zone
    /// (their own zone may give another address when the glue is stale).
    fn known_addresses(
        &self,
        cut: &Delegation,
        servers: &[Name],
    ) -> (Vec<(Name, SocketAddr)>, Vec<Name>) {
        let cache = &self.inner.cache;
        let mut known = Vec::new();
        let mut glueless = Vec::new();
        let mut parent_only = Vec::new();
        for server in servers {
            let mut ips: Vec<IpAddr> = cut
                .glue
                .iter()
                .filter(|(name, _)| name == server)
                .map(|(_, ip)| *ip)
                .collect();
            let parent_side = ips.len();
            ips.extend(cache.addresses(server));
            let child_side = ips.len() - parent_side;
            if parent_side == 0 {
                ips.extend(cache.glue_for(server));
            }
            ips.sort_unstable();
            ips.dedup();
            if ips.is_empty() {
                glueless.push(server.clone());
            } else if child_side == 0 && !cut.zone.zone_of(server) {
                parent_only.push(server.clone());
            }
            known.extend(
                ips.into_iter()
                    .map(|ip| (server.clone(), self.upstream(ip))),
            );
        }
        glueless.extend(parent_only);
        (known, glueless)
    }

    /// The recursive servers of a forward zone, asked as a stub zone's
    /// are (best first, until one gives a usable response) but with RD=1
    /// (see [`Walk::ask`]): what one concludes, or a CNAME chain leaving
    /// the zone to restart from, is the walk's end. Its answer is read as
    /// a server's for the forward zone is, records outside the zone
    /// dropped; a referral is lame (it does not recurse).
    async fn forward(
        &self,
        zone: &ZoneServers,
        qname: &Name,
        qtype: RecordType,
        depth: u32,
    ) -> Result<WalkEnd, ResolveError> {
        let Answered { classified, scope } = self
            .ask_zone(&Delegation::stub(zone), qname, qtype, depth)
            .await?;
        let reason = match classified {
            Classified::Conclusion(conclusion) => {
                return Ok(WalkEnd::Conclusion(conclusion, scope))
            }
            Classified::Restart(restart) => return Ok(WalkEnd::Restart(restart, scope)),
            Classified::Lame(reason) => reason,
            Classified::Referral(_) => Lame::NotRecursive,
        };
        Err(ResolveError::LameDelegation {
            zone: zone.zone.clone(),
            reason: reason.to_string(),
        })
    }

    /// Resolves a glueless name server's addresses (RFC 1034 5.3.3 step 3:
    /// "start a new request for the addresses"): its IPv4 addresses, and
    /// its IPv6 addresses only if it has no IPv4 one. A dual-stack server
    /// is then reached over IPv4 at the cost of one resolution, as most
    /// are today, and an IPv6-only server is still reached. (Unbound asks
    /// for both at once; the second question is seldom needed.)
    async fn server_addresses(
        &self,
        server: &Name,
        depth: u32,
    ) -> Result<Vec<IpAddr>, ResolveError> {
        let limit = self.inner.config.limits.max_ns_depth;
        if depth >= limit {
            return Err(ResolveError::NsDepthExceeded {
                server: server.clone(),
                limit,
            });
        }
        {
            let mut pending = lock(&self.pending);
            if pending.contains(server) {
                return Err(ResolveError::NsDependencyLoop {
                    server: server.clone(),
                });
            }
            pending.push(server.clone());
        }
        let result = self.addresses_of(server, depth).await;
        lock(&self.pending).retain(|name| name != server);
        result
    }

    /// The A, else the AAAA addresses of `server`, of the families
    /// `reach` looks up. When neither has any, the error is the A lookup's
    /// unless it merely found no address.
    async fn addresses_of(&self, server: &Name, depth: u32) -> Result<Vec<IpAddr>, ResolveError> {
        let reach = &self.inner.reach;
        let mut v4_error = None;
        if reach.looks_up_ipv4() {
            match self
                .resolve_at_depth(server, RecordType::A, depth + 1)
                .await
            {
                Ok(v4) => {
                    let found: Vec<IpAddr> = addresses(&v4.answers).collect();
                    if !found.is_empty() {
                        return Ok(found);
                    }
                }
                Err(error) if error.is_budget() => return Err(error),
                Err(error) => v4_error = Some(error),
            }
        }
        if !reach.looks_up_ipv6() {
            return v4_error.map_or(Ok(Vec::new()), Err);
        }
        let v6 = self
            .resolve_at_depth(server, RecordType::AAAA, depth + 1)
            .await?;
        let found: Vec<IpAddr> = addresses(&v6.answers).collect();
        match v4_error {
            Some(error) if found.is_empty() => Err(error),
            _ => Ok(found),
        }
    }

    /// Whether `addr` is a forwarder of the forward zone `zone` (asked
    /// with RD=1).
    fn is_forwarder(&self, zone: &Name, addr: SocketAddr) -> bool {
        configures(&self.inner.config.forward_zones, zone, addr)
    }

    /// How the server at `addr` came to be asked for `zone`, as the
    /// recorder's query says it: a forwarder, a stub zone's configured
    /// server, or one the walk found.
    fn via(&self, zone: &Name, addr: SocketAddr, forwarding: bool) -> Via {
        if forwarding {
            Via::Forwarder
        } else if configures(&self.inner.config.stub_zones, zone, addr) {
            Via::Stub
        } else {
            Via::Walk
        }
    }

    /// One exchange with one server. `Ok(None)` if it did not answer.
    /// A forwarder (an address of a forward zone) is asked with RD=1.
    async fn ask(
        &self,
        server: &Name,
        addr: SocketAddr,
        question: &Query,
        zone: &Name,
        depth: u32,
    ) -> Result<Option<Answered>, ResolveError> {
        let limits = &self.inner.config.limits;
        let sent = self.queries.fetch_add(1, Ordering::Relaxed) + 1;
        if sent > limits.max_upstream_queries {
            return Err(ResolveError::TooManyQueries {
                limit: limits.max_upstream_queries,
            });
        }
        let now = Instant::now();
        let timeout = limits
            .upstream_timeout
            .min(self.deadline.saturating_duration_since(now));
        if timeout.is_zero() {
            return Err(ResolveError::Timeout {
                limit: limits.total_time,
            });
        }
        self.inner.upstream_queries.fetch_add(1, Ordering::Relaxed);
        let ip = addr.ip();
        let forwarding = self.is_forwarder(zone, addr);
        let endpoint = self.recorder.map(|r| {
            let via = self.via(zone, addr, forwarding);
            r.query(zone, server, addr, question, depth, via)
        });
        let subnet = self.client.as_ref();
        let sockets = &self.inner.sockets;
        let result = upstream::exchange(sockets, addr, question, subnet, forwarding, timeout).await;
        let (classified, exchange) = match result {
            Ok(exchange) => {
                let mut classified = classify(
                    &exchange.response,
                    &question.name,
                    question.query_type,
                    zone,
                );
                if forwarding && matches!(classified, Classified::Referral(_)) {
                    classified = Classified::Lame(Lame::NotRecursive);
                }
                // The child's own NS set, when an answer carries it.
                if matches!(
                    classified,
                    Classified::Conclusion(_) | Classified::Restart(_)
                ) {
                    if let Some((child, ttl)) = apex_servers(&exchange.response, zone) {
                        self.inner.cache.adopt_child_servers(zone, &child, ttl);
                    }
                }
                // Only a usable response measures the server; a lame one
                // is a failure of it for this zone (see `servers`).
                match classified {
                    Classified::Lame(_) => self.inner.servers.record_lame(ip, zone),
                    _ => self.inner.servers.record_rtt(ip, exchange.rtt),
                }
                debug!(%server, %addr, qname = %question.name, qtype = ?question.query_type, outcome = ?classified, scope = exchange.scope, "upstream response");
                (Ok(classified), Some(exchange))
            }
            Err(error) => {
                self.inner.servers.record_failure(ip, now.elapsed());
                debug!(%server, %addr, qname = %question.name, %error, "upstream failed");
                (Err(error), None)
            }
        };
        self.inner
            .counters
            .upstream(addr, Upstream::of(&classified));
        if let (Some(recorder), Some(endpoint)) = (self.recorder, endpoint) {
            let ms = now.elapsed().as_secs_f64() * 1000.0;
            recorder.response(endpoint, zone, question, &classified, exchange.as_ref(), ms);
        }
        let scope = exchange.map_or(0, |exchange| exchange.scope);
        Ok(classified
            .ok()
            .map(|classified| Answered { classified, scope }))
    }

    /// The tiers above `cut` that this walk does not ask because their
    /// delegations are cached: each cached cut up to the root's, or up to
    /// the stub zone `stub` the walk starts from. A stub zone's own cut is
    /// configured, not cached: the tiers above it are spared by the
    /// configuration and get no event (its queries say they go to a stub
    /// zone's server, see [`Via`]).
    fn record_spared(&self, recorder: &Recorder, cut: &Delegation, stub: Option<&ZoneServers>) {
        let config = &self.inner.config;
        let top = match stub {
            Some(stub) => Delegation::stub(stub),
            None => Delegation::root(&config.root_hints),
        };
        if cut.zone == top.zone || recorder.asked_upstream() {
            return;
        }
        let mut cuts = vec![cut.clone()];
        let mut zone = cut.zone.base_name();
        while zone != top.zone {
            let Some(above) = self.inner.cache.closest_delegation(&zone) else {
                break;
            };
            // Above the stub zone nothing is asked whatever is cached.
            if above.zone.num_labels() <= top.zone.num_labels() {
                break;
            }
            zone = above.zone.base_name();
            cuts.push(above);
        }
        cuts.reverse();
        recorder.spared(&top, &cuts, config.upstream_port);
    }
}

/// Whether `zones` configure `addr` as a server of `zone`.
fn configures(zones: &[ZoneServers], zone: &Name, addr: SocketAddr) -> bool {
    !zones.is_empty()
        && zones
            .iter()
            .any(|z| z.zone == *zone && z.servers.contains(&addr))
}

fn addresses(records: &[Record]) -> impl Iterator<Item = IpAddr> + '_ {
    records.iter().filter_map(address)
}
