//! The resolver's counters for `/metrics`: client questions answered from
//! the cache or walked, and each upstream server's queries, timeouts and
//! lame answers.
//!
//! Hits are counted on the receiving worker for every cache hit, so they
//! are [`Striped`]: no cache line shared between workers, no lock. The
//! upstream table is touched once per upstream query, beside the RTT
//! table's own lock, and is bounded: past [`MAX_UPSTREAMS`] servers the
//! rest are counted together (the `to` label "other"), so a resolver
//! talking to the whole Internet keeps a few kilobytes of them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;

use dnslab_wire::Striped;

use crate::classify::Classified;
use crate::lock;
use crate::upstream::UpstreamError;

/// Upstream servers counted one by one.
pub const MAX_UPSTREAMS: usize = 512;

/// What happened to one upstream query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Upstream {
    /// A usable response.
    Answered,
    Timeout,
    /// A response the resolver could not use (REFUSED, SERVFAIL, not
    /// authoritative, out of bailiwick), or a failed exchange.
    Lame,
}

impl Upstream {
    /// What an exchange's outcome counts as.
    pub(crate) fn of(outcome: &Result<Classified, UpstreamError>) -> Upstream {
        match outcome {
            Ok(Classified::Lame(_)) => Upstream::Lame,
            Ok(_) => Upstream::Answered,
            Err(UpstreamError::Timeout { .. }) => Upstream::Timeout,
            Err(_) => Upstream::Lame,
        }
    }
}

#[derive(Default)]
pub(crate) struct Counters {
    hits: Striped<AtomicU64>,
    misses: Striped<AtomicU64>,
    upstreams: Mutex<HashMap<Option<SocketAddr>, UpstreamCounts>>,
}

/// One upstream server's counts; `to` is `None` for the servers beyond
/// [`MAX_UPSTREAMS`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpstreamCounts {
    pub to: Option<SocketAddr>,
    pub queries: u64,
    pub timeouts: u64,
    pub lame: u64,
}

/// The resolver's counters at one moment ([`crate::Resolver::metrics`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolverMetrics {
    /// Client questions answered from the cache alone.
    pub cache_hits: u64,
    /// Client questions the cache could not answer whole: walked, or (RD=0)
    /// answered with what the cache had.
    pub cache_misses: u64,
    /// Per upstream server, by address.
    pub upstreams: Vec<UpstreamCounts>,
}

impl Counters {
    #[inline]
    pub(crate) fn hit(&self) {
        self.hits.increment();
    }

    pub(crate) fn miss(&self) {
        self.misses.increment();
    }

    pub(crate) fn upstream(&self, server: SocketAddr, what: Upstream) {
        let mut upstreams = lock(&self.upstreams);
        let key = if upstreams.len() < MAX_UPSTREAMS || upstreams.contains_key(&Some(server)) {
            Some(server)
        } else {
            None
        };
        let counts = upstreams.entry(key).or_insert(UpstreamCounts {
            to: key,
            ..UpstreamCounts::default()
        });
        counts.queries += 1;
        match what {
            Upstream::Answered => {}
            Upstream::Timeout => counts.timeouts += 1,
            Upstream::Lame => counts.lame += 1,
        }
    }

    pub(crate) fn snapshot(&self) -> ResolverMetrics {
        let mut upstreams: Vec<UpstreamCounts> = lock(&self.upstreams).values().copied().collect();
        upstreams.sort_by_key(|counts| (counts.to.is_none(), counts.to));
        ResolverMetrics {
            cache_hits: self.hits.sum(),
            cache_misses: self.misses.sum(),
            upstreams,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_beyond_the_bound_are_counted_together() {
        let counters = Counters::default();
        for i in 0..MAX_UPSTREAMS + 3 {
            let addr = SocketAddr::from(([127, 0, (i / 250) as u8, (i % 250) as u8], 53));
            counters.upstream(addr, Upstream::Timeout);
        }
        let first = SocketAddr::from(([127, 0, 0, 0], 53));
        counters.upstream(first, Upstream::Lame);
        let snapshot = counters.snapshot();
        assert_eq!(snapshot.upstreams.len(), MAX_UPSTREAMS + 1);
        let other = snapshot.upstreams.last().unwrap();
        assert_eq!((other.to, other.queries, other.timeouts), (None, 3, 3));
        let first = snapshot.upstreams[0];
        assert_eq!((first.queries, first.timeouts, first.lame), (2, 1, 1));
    }
}
