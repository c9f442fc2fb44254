//! The walk: RFC 1034 5.3.3 from the deepest known zone cut down to the
//! servers that can answer, restarting at CNAME targets.
//!
//! One client question becomes one [`Walk`], which carries the budget
//! (upstream queries, referrals, wall-clock deadline) shared by everything
//! the question causes: CNAME restarts and lookups of name-server addresses
//! for glueless delegations. Running out of any budget ends the walk with an
//! error, which the handler turns into SERVFAIL.
//!
//! QNAME minimisation follows RFC 9156 in Unbound's relaxed form: below a
//! zone cut we ask for one more label at a time (type A); a referral moves
//! the cut, an answer or NODATA means "no cut here, add a label", an
//! NXDOMAIN ends everything (RFC 8020: nothing exists below), and a server
//! that only errs on the minimised name is asked the full name instead.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use hickory_proto::op::{Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::time::{timeout_at, Instant};
use tracing::{debug, instrument};

use dnslab_wire::{dname_target, substitute_dname};

use crate::cache::{Cache, Lookup};
use crate::classify::{
    address, classify, synthesising_dname, Classified, Conclusion, Delegation, Restart,
};
use crate::trace::{Step, StepOutcome};
use crate::{lock, upstream, Inner, Resolution};

/// Why a question could not be resolved; every variant ends in SERVFAIL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("resolution took longer than {limit:?}: servers too slow or unreachable")]
    Timeout { limit: Duration },
    #[error("more than {limit} upstream queries needed; raise limits.max_upstream_queries if the hierarchy is really this deep")]
    TooManyQueries { limit: u32 },
    #[error("more than {limit} referrals followed; a delegation loop?")]
    TooManyReferrals { limit: u32 },
    #[error("CNAME chain longer than {limit} records")]
    CnameChainTooLong { limit: u32 },
    #[error("CNAME loop through {name}")]
    CnameLoop { name: Name },
    #[error("finding the address of name server {server} needs more than {limit} nested lookups")]
    NsDepthExceeded { server: Name, limit: u32 },
    #[error("finding the address of name server {server} depends on itself (a delegation loop)")]
    NsDependencyLoop { server: Name },
    #[error("no address known or found for any name server of {zone}")]
    NoServerAddress { zone: Name },
    #[error("no server for {zone} answered (all dead or timing out)")]
    NoServerAnswered { zone: Name },
    #[error("every server for {zone} that answered was lame ({reason})")]
    LameDelegation { zone: Name, reason: String },
    #[error("the identical question this one was waiting for was abandoned")]
    Abandoned,
}

impl ResolveError {
    /// Errors that end the whole client question, not only one branch of it
    /// (one name server's address lookup).
    fn is_budget(&self) -> bool {
        matches!(
            self,
            ResolveError::Timeout { .. }
                | ResolveError::TooManyQueries { .. }
                | ResolveError::TooManyReferrals { .. }
        )
    }
}

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
    /// Every exchange, when `dnslab trace` wants them.
    steps: Option<&'a Mutex<Vec<Step>>>,
}

/// How the walk for one name ends: with what its servers concluded, or
/// with a chain to follow from elsewhere.
enum WalkEnd {
    Conclusion(Conclusion),
    Restart(Restart),
}

/// What the cache alone says about a question.
pub(crate) enum CacheAnswer {
    Done(Resolution),
    /// The chain (if any) leads to this name, which the cache cannot answer.
    Miss(Name),
}

impl<'a> Walk<'a> {
    pub(crate) fn new(inner: &'a Inner, steps: Option<&'a Mutex<Vec<Step>>>) -> Walk<'a> {
        Walk {
            inner,
            queries: AtomicU32::new(0),
            referrals: AtomicU32::new(0),
            deadline: Instant::now() + inner.config.limits.total_time,
            pending: Mutex::new(Vec::new()),
            steps,
        }
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
            let max_chain = self.inner.config.limits.max_cname_chain;
            let mut chain = Vec::new();
            let mut current = qname.clone();
            loop {
                match from_cache(cache, &current, qtype, &mut chain, max_chain)? {
                    CacheAnswer::Done(resolution) => return Ok(resolution),
                    CacheAnswer::Miss(name) => current = name,
                }
                let conclusion = match self.walk(&current, qtype, depth).await? {
                    WalkEnd::Conclusion(conclusion) => conclusion,
                    WalkEnd::Restart(Restart { records, target }) => {
                        cache.store_records(&records);
                        extend_chain(&mut chain, clamped(cache, records), max_chain)?;
                        current = target;
                        continue;
                    }
                };
                let soa = store_conclusion(cache, &current, qtype, &conclusion);
                let (rcode, records) = match conclusion {
                    Conclusion::Answer { records } | Conclusion::NoData { records, .. } => {
                        (ResponseCode::NoError, records)
                    }
                    Conclusion::NxDomain { records, .. } => (ResponseCode::NXDomain, records),
                };
                extend_chain(&mut chain, clamped(cache, records), max_chain)?;
                return Ok(Resolution {
                    rcode,
                    answers: chain,
                    authorities: soa.into_iter().collect(),
                });
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
        let mut cut = self
            .inner
            .cache
            .closest_delegation(&above)
            .unwrap_or_else(|| root_delegation(&self.inner.config.root_hints));
        let mut minimise = self.inner.config.qname_minimisation;
        let mut labels = cut.zone.num_labels() + 1;
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
                        return Ok(WalkEnd::Conclusion(Conclusion::NxDomain {
                            records: Vec::new(),
                            soa,
                        }))
                    }
                    Lookup::Miss => {}
                }
            }
            let classified = self.ask_zone(&cut, &ask_name, ask_type, depth).await?;
            if !full {
                // Cached as for any question, so that the walk finds it for
                // the next name below; referrals are cached below, lame
                // responses teach nothing.
                match &classified {
                    Classified::Conclusion(conclusion) => {
                        store_conclusion(&self.inner.cache, &ask_name, ask_type, conclusion);
                    }
                    Classified::Restart(restart) => {
                        self.inner.cache.store_records(&restart.records)
                    }
                    Classified::Referral(_) | Classified::Lame(_) => {}
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
                    return Ok(WalkEnd::Conclusion(conclusion))
                }
                Classified::Restart(restart) if full => return Ok(WalkEnd::Restart(restart)),
                // RFC 8020: nothing exists below a name that does not exist.
                Classified::Conclusion(Conclusion::NxDomain { soa, .. }) => {
                    return Ok(WalkEnd::Conclusion(Conclusion::NxDomain {
                        records: Vec::new(),
                        soa,
                    }))
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
    /// ones with addresses have all failed (RFC 1034 5.3.3 step 3).
    async fn ask_zone(
        &self,
        cut: &Delegation,
        qname: &Name,
        qtype: RecordType,
        depth: u32,
    ) -> Result<Classified, ResolveError> {
        let question = Query::query(qname.clone(), qtype);
        let (mut candidates, mut unresolved) = self.known_addresses(cut);
        let mut tried: Vec<IpAddr> = Vec::new();
        let mut lame = None;
        loop {
            for (server, ip) in self.inner.servers.order(candidates, |(_, ip)| *ip) {
                if tried.contains(&ip) {
                    continue;
                }
                tried.push(ip);
                match self.ask(&server, ip, &question, &cut.zone, depth).await? {
                    Some(Classified::Lame(reason)) => {
                        debug!(%server, %ip, zone = %cut.zone, ?reason, "lame server");
                        lame = Some(reason);
                    }
                    Some(classified) => return Ok(classified),
                    None => {}
                }
            }
            candidates = Vec::new();
            while candidates.is_empty() {
                let Some(server) = unresolved.pop() else {
                    return match lame {
                        Some(reason) => Ok(Classified::Lame(reason)),
                        None if tried.is_empty() => Err(ResolveError::NoServerAddress {
                            zone: cut.zone.clone(),
                        }),
                        None => Err(ResolveError::NoServerAnswered {
                            zone: cut.zone.clone(),
                        }),
                    };
                };
                match self.server_addresses(&server, depth).await {
                    Ok(ips) => {
                        candidates = ips.into_iter().map(|ip| (server.clone(), ip)).collect()
                    }
                    Err(error) if error.is_budget() => return Err(error),
                    Err(error) => debug!(%server, %error, "no address for name server"),
                }
            }
        }
    }

    /// Addresses for the servers of `cut` from glue and the cache, and the
    /// servers for which neither has one.
    fn known_addresses(&self, cut: &Delegation) -> (Vec<(Name, IpAddr)>, Vec<Name>) {
        let mut known = Vec::new();
        let mut unresolved = Vec::new();
        for server in &cut.servers {
            let before = known.len();
            known.extend(cut.glue.iter().filter(|(name, _)| name == server).cloned());
            if known.len() == before {
                for rtype in [RecordType::A, RecordType::AAAA] {
                    if let Lookup::Hit(records) = self.inner.cache.lookup(server, rtype) {
                        known.extend(addresses(&records).map(|ip| (server.clone(), ip)));
                    }
                }
            }
            if known.len() == before {
                unresolved.push(server.clone());
            }
        }
        // Popped from the end: keep the zone's order of preference.
        unresolved.reverse();
        (known, unresolved)
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

    /// The A, else the AAAA addresses of `server`. When neither has any,
    /// the error is the A lookup's unless it merely found no address.
    async fn addresses_of(&self, server: &Name, depth: u32) -> Result<Vec<IpAddr>, ResolveError> {
        let v4_error = match self
            .resolve_at_depth(server, RecordType::A, depth + 1)
            .await
        {
            Ok(v4) => {
                let found: Vec<IpAddr> = addresses(&v4.answers).collect();
                if !found.is_empty() {
                    return Ok(found);
                }
                None
            }
            Err(error) if error.is_budget() => return Err(error),
            Err(error) => Some(error),
        };
        let v6 = self
            .resolve_at_depth(server, RecordType::AAAA, depth + 1)
            .await?;
        let found: Vec<IpAddr> = addresses(&v6.answers).collect();
        match v4_error {
            Some(error) if found.is_empty() => Err(error),
            _ => Ok(found),
        }
    }

    /// One exchange with one server. `Ok(None)` if it did not answer.
    async fn ask(
        &self,
        server: &Name,
        ip: IpAddr,
        question: &Query,
        zone: &Name,
        depth: u32,
    ) -> Result<Option<Classified>, ResolveError> {
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
        let addr = SocketAddr::new(ip, self.inner.config.upstream_port);
        let result = upstream::exchange(&self.inner.sockets, addr, question, timeout).await;
        let (classified, via_tcp) = match result {
            Ok(exchange) => {
                self.inner.servers.record_rtt(ip, exchange.rtt);
                let classified = classify(
                    &exchange.response,
                    &question.name,
                    question.query_type,
                    zone,
                );
                debug!(%server, %addr, qname = %question.name, qtype = ?question.query_type, outcome = ?classified, "upstream response");
                (Ok(classified), exchange.via_tcp)
            }
            Err(error) => {
                self.inner.servers.record_failure(ip, now.elapsed());
                debug!(%server, %addr, qname = %question.name, %error, "upstream failed");
                (Err(error), false)
            }
        };
        if let Some(steps) = self.steps {
            lock(steps).push(Step {
                server_name: server.clone(),
                server: addr,
                qname: question.name.clone(),
                qtype: question.query_type,
                zone: zone.clone(),
                outcome: StepOutcome::new(&classified),
                elapsed: now.elapsed(),
                via_tcp,
                depth,
            });
        }
        Ok(classified.ok())
    }
}

/// Answers a question from the cache alone, following cached CNAMEs and
/// appending them to `chain`.
pub(crate) fn from_cache(
    cache: &Cache,
    qname: &Name,
    qtype: RecordType,
    chain: &mut Vec<Record>,
    max_chain: u32,
) -> Result<CacheAnswer, ResolveError> {
    let mut current = qname.clone();
    loop {
        let (rcode, soa) = match cache.lookup(&current, qtype) {
            Lookup::Hit(records) => {
                chain.extend(records);
                (ResponseCode::NoError, None)
            }
            Lookup::NxDomain { soa } => (ResponseCode::NXDomain, soa),
            Lookup::NoData { soa } => (ResponseCode::NoError, soa),
            Lookup::Cname(cname) => {
                let Some(target) = cname_target(&cname) else {
                    return Ok(CacheAnswer::Miss(current));
                };
                chain.extend(cached_dname(cache, &current, &target));
                extend_chain(chain, vec![cname], max_chain)?;
                current = target;
                continue;
            }
            Lookup::Miss => match synthesise_from_dname(cache, &current) {
                // RFC 6672 3.4: a cached DNAME above the name answers for
                // it, as Unbound and BIND answer, without asking its zone.
                Some((dname, cname, target)) => {
                    chain.push(dname);
                    extend_chain(chain, vec![cname], max_chain)?;
                    current = target;
                    continue;
                }
                None => return Ok(CacheAnswer::Miss(current)),
            },
        };
        return Ok(CacheAnswer::Done(Resolution {
            rcode,
            answers: std::mem::take(chain),
            authorities: soa.into_iter().collect(),
        }));
    }
}

/// The cached DNAME that synthesised the cached CNAME `owner` -> `target`:
/// a cached answer carries it as the first one did (see
/// [`synthesising_dname`]).
fn cached_dname(cache: &Cache, owner: &Name, target: &Name) -> Option<Record> {
    let dname = cache.dname_above(owner)?;
    synthesising_dname([&dname], owner, target)
        .is_some()
        .then_some(dname)
}

/// The DNAME cached above `name`, the CNAME it synthesises for `name` (with
/// the DNAME's remaining TTL) and that CNAME's target.
fn synthesise_from_dname(cache: &Cache, name: &Name) -> Option<(Record, Record, Name)> {
    let dname = cache.dname_above(name)?;
    let target = substitute_dname(name, &dname.name, &dname_target(&dname.data)?)?;
    let cname = Record::from_rdata(
        name.clone(),
        dname.ttl,
        RData::CNAME(hickory_proto::rr::rdata::CNAME(target.clone())),
    );
    Some((dname, cname, target))
}

/// Appends CNAME records to the chain, enforcing the length limit and
/// refusing a target that is already an owner in the chain (a loop).
fn extend_chain(
    chain: &mut Vec<Record>,
    records: Vec<Record>,
    max_chain: u32,
) -> Result<(), ResolveError> {
    for record in records {
        if let Some(target) = cname_target(&record) {
            if chain.iter().any(|r| r.name == target) || record.name == target {
                return Err(ResolveError::CnameLoop { name: target });
            }
        }
        chain.push(record);
    }
    let cnames = chain
        .iter()
        .filter(|r| r.record_type() == RecordType::CNAME)
        .count();
    if cnames > max_chain as usize {
        return Err(ResolveError::CnameChainTooLong { limit: max_chain });
    }
    Ok(())
}

fn cname_target(record: &Record) -> Option<Name> {
    match &record.data {
        RData::CNAME(target) => Some(target.0.clone()),
        _ => None,
    }
}

/// Records with the TTL the cache keeps them for, as a client should see.
fn clamped(cache: &Cache, mut records: Vec<Record>) -> Vec<Record> {
    for record in &mut records {
        record.ttl = cache.clamp(record.ttl);
    }
    records
}

/// Caches what the servers concluded about (`qname`, `qtype`): the
/// records, and a negative answer at the end of their CNAME chain. Returns
/// the SOA of a negative answer as clients should see it.
fn store_conclusion(
    cache: &Cache,
    qname: &Name,
    qtype: RecordType,
    conclusion: &Conclusion,
) -> Option<Record> {
    let (records, nx, soa) = match conclusion {
        Conclusion::Answer { records } => {
            cache.store_records(records);
            return None;
        }
        Conclusion::NxDomain { records, soa } => (records, true, soa),
        Conclusion::NoData { records, soa } => (records, false, soa),
    };
    cache.store_records(records);
    let end = records
        .iter()
        .rev()
        .find_map(cname_target)
        .unwrap_or_else(|| qname.clone());
    cache.store_negative(&end, qtype, nx, soa.clone())
}

fn addresses(records: &[Record]) -> impl Iterator<Item = IpAddr> + '_ {
    records.iter().filter_map(address)
}

/// The root zone cut from the hints; never cached, always available.
fn root_delegation(hints: &[(Name, IpAddr)]) -> Delegation {
    let mut servers: Vec<Name> = Vec::new();
    for (name, _) in hints {
        if !servers.contains(name) {
            servers.push(name.clone());
        }
    }
    Delegation {
        zone: Name::root(),
        servers,
        glue: hints.to_vec(),
        ttl: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, CNAME};

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn cname(from: &str, to: &str) -> Record {
        Record::from_rdata(n(from), 300, RData::CNAME(CNAME(n(to))))
    }

    #[test]
    fn chain_limits_length_and_loops() {
        let mut chain = Vec::new();
        extend_chain(&mut chain, vec![cname("a.", "b."), cname("b.", "c.")], 2).unwrap();
        assert_eq!(
            extend_chain(&mut chain, vec![cname("c.", "d.")], 2),
            Err(ResolveError::CnameChainTooLong { limit: 2 })
        );
        let mut chain = vec![cname("a.", "b.")];
        assert_eq!(
            extend_chain(&mut chain, vec![cname("b.", "a.")], 12),
            Err(ResolveError::CnameLoop { name: n("a.") })
        );
        assert_eq!(
            extend_chain(&mut Vec::new(), vec![cname("self.", "self.")], 12),
            Err(ResolveError::CnameLoop { name: n("self.") })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn cache_follows_cached_cnames_to_the_answer_or_the_first_gap() {
        let cache = Cache::new(100, 0, 86400);
        let target = Record::from_rdata(n("c.example."), 300, RData::A(A::new(192, 0, 2, 3)));
        cache.store_records(&[
            cname("a.example.", "b.example."),
            cname("b.example.", "c.example."),
        ]);
        let mut chain = Vec::new();
        let Ok(CacheAnswer::Miss(gap)) =
            from_cache(&cache, &n("a.example."), RecordType::A, &mut chain, 12)
        else {
            panic!("c.example. is not cached yet");
        };
        assert_eq!((gap, chain.len()), (n("c.example."), 2));
        cache.store_records(std::slice::from_ref(&target));
        let mut chain = Vec::new();
        let Ok(CacheAnswer::Done(resolution)) =
            from_cache(&cache, &n("a.example."), RecordType::A, &mut chain, 12)
        else {
            panic!("the whole chain is cached");
        };
        assert_eq!(resolution.rcode, ResponseCode::NoError);
        assert_eq!(resolution.answers.len(), 3);
        assert_eq!(resolution.answers[2], target);
    }

    #[test]
    fn root_delegation_lists_each_hint_server_once() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let hints = vec![
            (n("a.root."), ip("127.0.53.1")),
            (n("a.root."), ip("::1")),
            (n("b.root."), ip("127.0.53.2")),
        ];
        let root = root_delegation(&hints);
        assert!(root.zone.is_root());
        assert_eq!(root.servers, vec![n("a.root."), n("b.root.")]);
        assert_eq!(root.glue, hints);
    }
}
