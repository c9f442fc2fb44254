//! Counters cheap enough for the query path: one relaxed atomic add per
//! event, on cache lines the counting thread keeps to itself
//! ([`dnslab_wire::Striped`]), no lock, no allocation, no formatting; and
//! [`super::MetricsSnapshot`] is filled from them when `/metrics` is read.
//!
//! Label values are folded into fixed sets here ([`TYPES`], [`RCODES`]),
//! which is what keeps every label's cardinality bounded.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dnslab_wire::Striped;
use serde::Serialize;

use super::QueryCount;

/// The transport a query came over (the `proto` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Udp,
    Tcp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Udp => "udp",
            Proto::Tcp => "tcp",
        }
    }
}

/// Query types counted by name; every other type counts as "other".
pub const TYPES: [(u16, &str); 21] = [
    (1, "A"),
    (2, "NS"),
    (5, "CNAME"),
    (6, "SOA"),
    (12, "PTR"),
    (15, "MX"),
    (16, "TXT"),
    (28, "AAAA"),
    (33, "SRV"),
    (35, "NAPTR"),
    (43, "DS"),
    (46, "RRSIG"),
    (47, "NSEC"),
    (48, "DNSKEY"),
    (50, "NSEC3"),
    (64, "SVCB"),
    (65, "HTTPS"),
    (257, "CAA"),
    (251, "IXFR"),
    (252, "AXFR"),
    (255, "ANY"),
];

/// Response codes counted by name, 0 to 5 (RFC 1035 4.1.1); the rest
/// (RFC 2136's, extended RCODEs) count as "other".
pub const RCODES: [&str; 6] = [
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
];

const N_TYPES: usize = TYPES.len() + 1;
const N_RCODES: usize = RCODES.len() + 1;
const N_PROTOS: usize = 2;

/// Queries by protocol, type and rcode, for one server: one array of
/// counters per stripe (counters shared by every core would bounce their
/// cache lines between the workers on every query), added up when read.
pub struct QueryCounters {
    counts: Striped<Box<[AtomicU64]>>,
}

impl Default for QueryCounters {
    fn default() -> Self {
        QueryCounters {
            counts: Striped::new(|| {
                (0..N_PROTOS * N_TYPES * N_RCODES)
                    .map(|_| AtomicU64::new(0))
                    .collect()
            }),
        }
    }
}

impl std::fmt::Debug for QueryCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total: u64 = self
            .counts
            .iter()
            .flat_map(|counts| counts.iter())
            .map(|c| c.load(Ordering::Relaxed))
            .sum();
        f.debug_struct("QueryCounters")
            .field("total", &total)
            .finish()
    }
}

impl QueryCounters {
    /// Counts one answered query.
    #[inline]
    pub fn count(&self, proto: Proto, qtype: u16, rcode: u16) {
        let t = TYPES
            .iter()
            .position(|&(code, _)| code == qtype)
            .unwrap_or(TYPES.len());
        let r = usize::from(rcode).min(RCODES.len());
        let index = (proto as usize * N_TYPES + t) * N_RCODES + r;
        if let Some(counter) = self.counts.local().get(index) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Adds every non-zero count to `out`, labelled with `server`, merging
    /// with what another worker's counters already put there.
    pub fn add_to(&self, server: &str, out: &mut Vec<QueryCount>) {
        for index in 0..N_PROTOS * N_TYPES * N_RCODES {
            let count: u64 = self
                .counts
                .iter()
                .filter_map(|counts| counts.get(index))
                .map(|counter| counter.load(Ordering::Relaxed))
                .sum();
            if count == 0 {
                continue;
            }
            let proto = if index / (N_TYPES * N_RCODES) == 0 {
                Proto::Udp
            } else {
                Proto::Tcp
            };
            let t = index / N_RCODES % N_TYPES;
            let r = index % N_RCODES;
            let qtype = TYPES.get(t).map_or("other", |&(_, name)| name);
            let rcode = RCODES.get(r).copied().unwrap_or("other");
            match out.iter_mut().find(|q| {
                q.server == server && q.proto == proto && q.qtype == qtype && q.rcode == rcode
            }) {
                Some(existing) => existing.count += count,
                None => out.push(QueryCount {
                    server: server.to_string(),
                    proto,
                    qtype: qtype.to_string(),
                    rcode: rcode.to_string(),
                    count,
                }),
            }
        }
    }
}

/// Upper bounds of the resolution-time buckets, in nanoseconds: a walk
/// that finds most of its answer cached (tens of microseconds), a walk on
/// loopback (about a millisecond), a walk on the Internet (tens to
/// hundreds), and timeouts (seconds).
const BOUNDS_NS: [u64; 16] = [
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
];

/// A histogram with fixed buckets ([`BOUNDS_NS`]), lock-free.
pub struct Histogram {
    /// Observations per bucket (not cumulative), the last one above every
    /// bound (+Inf).
    buckets: [AtomicU64; BOUNDS_NS.len() + 1],
    sum_ns: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_ns: AtomicU64::new(0),
        }
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.snapshot().count)
            .finish()
    }
}

impl Histogram {
    /// Records one duration.
    #[inline]
    pub fn observe(&self, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_NS.partition_point(|&bound| bound < ns);
        if let Some(counter) = self.buckets.get(bucket) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// The cumulative counts as Prometheus wants them. `count` is the
    /// +Inf bucket's, so it always agrees with the buckets.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = Vec::with_capacity(BOUNDS_NS.len());
        let mut running = 0;
        for counter in &self.buckets[..BOUNDS_NS.len()] {
            running += counter.load(Ordering::Relaxed);
            cumulative.push(running);
        }
        let above = self.buckets[BOUNDS_NS.len()].load(Ordering::Relaxed);
        HistogramSnapshot {
            bounds: BOUNDS_NS.iter().map(|&ns| ns as f64 / 1e9).collect(),
            cumulative,
            count: running + above,
            sum: self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

/// A histogram at one moment.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HistogramSnapshot {
    /// Upper bounds in seconds (the `le` labels), ascending.
    pub bounds: Vec<f64>,
    /// Observations at or below each bound.
    pub cumulative: Vec<u64>,
    /// All observations (the +Inf bucket).
    pub count: u64,
    /// Their sum, in seconds.
    pub sum: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_land_in_the_bucket_of_their_upper_bound() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_micros(20));
        histogram.observe(Duration::from_micros(50)); // on the bound: le="0.00005"
        histogram.observe(Duration::from_micros(1500));
        histogram.observe(Duration::from_secs(9));
        let snapshot = histogram.snapshot();
        assert_eq!(snapshot.count, 4);
        assert_eq!(snapshot.cumulative[0], 2);
        assert_eq!(snapshot.bounds[5], 0.0025);
        assert_eq!(snapshot.cumulative[4], 2);
        assert_eq!(snapshot.cumulative[5], 3);
        assert_eq!(*snapshot.cumulative.last().unwrap(), 3);
        assert!((snapshot.sum - 9.00157).abs() < 1e-9);
    }

    #[test]
    fn query_counts_fold_rare_labels_and_merge_workers() {
        let (one, two) = (QueryCounters::default(), QueryCounters::default());
        one.count(Proto::Udp, 1, 0);
        one.count(Proto::Udp, 1, 0);
        two.count(Proto::Udp, 1, 0);
        two.count(Proto::Tcp, 99, 3);
        two.count(Proto::Udp, 28, 16); // BADVERS
        let mut out = Vec::new();
        one.add_to("dns://127.0.0.1:1053", &mut out);
        two.add_to("dns://127.0.0.1:1053", &mut out);
        let find = |proto, qtype: &str, rcode: &str| {
            out.iter()
                .find(|q| q.proto == proto && q.qtype == qtype && q.rcode == rcode)
                .map(|q| q.count)
        };
        assert_eq!(find(Proto::Udp, "A", "NOERROR"), Some(3));
        assert_eq!(find(Proto::Tcp, "other", "NXDOMAIN"), Some(1));
        assert_eq!(find(Proto::Udp, "AAAA", "other"), Some(1));
        assert_eq!(out.len(), 3);
    }
}
