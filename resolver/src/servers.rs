//! Which server of a zone to ask first: smoothed round-trip time per
//! address, as BIND and Unbound keep it.
//!
//! Unknown servers start with a small random estimate, so a fresh zone's
//! servers are tried in random order and each gets measured; a timeout or
//! refusal multiplies the estimate, so a dead server sinks to the end of
//! the list but is retried once its penalty has been smoothed away.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;

use crate::lock;

/// Weight of the old estimate when a new sample arrives (BIND uses 0.7).
const SMOOTHING: f64 = 0.7;
/// Ceiling for a penalised estimate.
const MAX_SRTT: Duration = Duration::from_secs(10);
/// Floor for a failed server's estimate: a refused connection fails in
/// microseconds, and must not leave the server looking fast.
const FAILURE_SRTT: Duration = Duration::from_secs(1);
/// Above this many addresses the table is cleared rather than grown.
const MAX_TRACKED: usize = 10_000;

#[derive(Default)]
pub(crate) struct ServerStats {
    srtt: Mutex<HashMap<IpAddr, Duration>>,
}

impl ServerStats {
    /// `candidates` (anything with an address), best first.
    pub(crate) fn order<T>(&self, candidates: Vec<T>, addr: impl Fn(&T) -> IpAddr) -> Vec<T> {
        let mut rng = rand::rng();
        let mut keyed: Vec<(Duration, T)> = {
            let table = lock(&self.srtt);
            candidates
                .into_iter()
                .map(|c| {
                    let srtt = table
                        .get(&addr(&c))
                        .copied()
                        .unwrap_or_else(|| Duration::from_micros(rng.random_range(0..5_000)));
                    (srtt, c)
                })
                .collect()
        };
        keyed.sort_by_key(|(srtt, _)| *srtt);
        keyed.into_iter().map(|(_, c)| c).collect()
    }

    pub(crate) fn record_rtt(&self, addr: IpAddr, rtt: Duration) {
        self.update(addr, |old| match old {
            Some(old) => old.mul_f64(SMOOTHING) + rtt.mul_f64(1.0 - SMOOTHING),
            None => rtt,
        });
    }

    /// A timeout or refusal: at least double the estimate, and never below
    /// the time waited or [`FAILURE_SRTT`].
    pub(crate) fn record_failure(&self, addr: IpAddr, waited: Duration) {
        self.update(addr, |old| {
            let old = old.unwrap_or(waited);
            (old * 2).max(waited).max(FAILURE_SRTT).min(MAX_SRTT)
        });
    }

    #[cfg(test)]
    fn srtt(&self, addr: IpAddr) -> Option<Duration> {
        lock(&self.srtt).get(&addr).copied()
    }

    fn update(&self, addr: IpAddr, f: impl FnOnce(Option<Duration>) -> Duration) {
        let mut table = lock(&self.srtt);
        if table.len() >= MAX_TRACKED && !table.contains_key(&addr) {
            table.clear();
        }
        let new = f(table.get(&addr).copied());
        table.insert(addr, new);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 53, last])
    }

    #[test]
    fn fastest_first_and_failures_sink() {
        let stats = ServerStats::default();
        stats.record_rtt(ip(1), Duration::from_millis(50));
        stats.record_rtt(ip(2), Duration::from_millis(10));
        stats.record_failure(ip(3), Duration::from_millis(800));
        let servers = stats.order(vec![ip(3), ip(1), ip(2), ip(4)], |s| *s);
        assert_eq!(
            servers,
            vec![ip(4), ip(2), ip(1), ip(3)],
            "unknown first, then by RTT, dead last"
        );
    }

    #[test]
    fn smoothing_moves_towards_new_samples() {
        let stats = ServerStats::default();
        stats.record_rtt(ip(1), Duration::from_millis(100));
        stats.record_rtt(ip(1), Duration::from_millis(0));
        assert_eq!(stats.srtt(ip(1)), Some(Duration::from_millis(70)));
        stats.record_failure(ip(1), Duration::from_millis(20));
        assert_eq!(
            stats.srtt(ip(1)),
            Some(FAILURE_SRTT),
            "an instant refusal still counts as slow"
        );
        stats.record_failure(ip(1), Duration::from_millis(20));
        assert_eq!(stats.srtt(ip(1)), Some(FAILURE_SRTT * 2));
    }
}
