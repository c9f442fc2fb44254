//! Which server of a zone to ask first: smoothed round-trip time per
//! address, as BIND and Unbound keep it, and which servers answered lamely
//! for which zone.
//!
//! Unknown servers start with a small random estimate, so a fresh zone's
//! servers are tried in random order and each gets measured; a timeout or
//! an unreachable port multiplies the estimate, so a dead server sinks to
//! the end of the list but is retried once its penalty has been smoothed
//! away.
//!
//! Only a usable response is a round-trip time sample. A lame one
//! (REFUSED, SERVFAIL, an upward referral, no answer and no authority: see
//! [`crate::Lame`]) comes back as fast as a good one, and counting it as
//! one kept a quickly refusing server first for every question in its zone.
//! It is recorded as a failure of that server for that zone instead, as
//! Unbound's infrastructure cache records it: the (zone, address) is known
//! as lame for [`LAME_TTL`], and is ordered after every other server of the
//! zone, whatever its RTT. The address may serve other zones well, so its
//! RTT is left alone. Unlike Unbound, which asks no lame server while the
//! zone has others, a lame server is still asked, last, when the others
//! fail: a zone whose servers all err for some names (refuse a minimised
//! question, say) still resolves the rest.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use hickory_proto::rr::Name;
use rand::Rng;
use tokio::time::Instant;

use crate::lock;

/// Weight of the old estimate when a new sample arrives (BIND uses 0.7).
const SMOOTHING: f64 = 0.7;
/// Ceiling for a penalised estimate.
const MAX_SRTT: Duration = Duration::from_secs(10);
/// Floor for a failed server's estimate: a refused connection fails in
/// microseconds, and must not leave the server looking fast.
const FAILURE_SRTT: Duration = Duration::from_secs(1);
/// Above this many addresses, or zones with lame servers, a table is
/// cleared rather than grown.
const MAX_TRACKED: usize = 10_000;
/// How long a server stays known as lame for a zone: Unbound's default
/// `infra-host-ttl`, the lifetime of what its infrastructure cache knows
/// of a server, lameness included.
const LAME_TTL: Duration = Duration::from_secs(900);
/// Lame addresses remembered per zone; the oldest is forgotten first.
const MAX_LAME_PER_ZONE: usize = 64;

#[derive(Default)]
pub(crate) struct ServerStats {
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    srtt: HashMap<IpAddr, Duration>,
    /// Per zone, the addresses that answered lamely for it and until when
    /// that is remembered.
    lame: HashMap<Name, Vec<(IpAddr, Instant)>>,
}

impl ServerStats {
    /// `candidates` (anything with an address) for `zone`, best first:
    /// by RTT, those known as lame for the zone after all the others.
    pub(crate) fn order<T>(
        &self,
        zone: &Name,
        candidates: Vec<T>,
        addr: impl Fn(&T) -> IpAddr,
    ) -> Vec<T> {
        let now = Instant::now();
        let mut rng = rand::rng();
        let mut keyed: Vec<((bool, Duration), T)> = {
            let table = lock(&self.table);
            let lame = table.lame.get(zone).map(Vec::as_slice).unwrap_or_default();
            candidates
                .into_iter()
                .map(|c| {
                    let ip = addr(&c);
                    let is_lame = lame.iter().any(|&(at, until)| at == ip && until > now);
                    let srtt = table
                        .srtt
                        .get(&ip)
                        .copied()
                        .unwrap_or_else(|| Duration::from_micros(rng.random_range(0..5_000)));
                    ((is_lame, srtt), c)
                })
                .collect()
        };
        keyed.sort_by_key(|(key, _)| *key);
        keyed.into_iter().map(|(_, c)| c).collect()
    }

    /// A usable response took `rtt`.
    pub(crate) fn record_rtt(&self, addr: IpAddr, rtt: Duration) {
        self.update(addr, |old| match old {
            Some(old) => old.mul_f64(SMOOTHING) + rtt.mul_f64(1.0 - SMOOTHING),
            None => rtt,
        });
    }

    /// A timeout or unreachable port: at least double the estimate, and
    /// never below the time waited or [`FAILURE_SRTT`].
    pub(crate) fn record_failure(&self, addr: IpAddr, waited: Duration) {
        self.update(addr, |old| {
            let old = old.unwrap_or(waited);
            (old * 2).max(waited).max(FAILURE_SRTT).min(MAX_SRTT)
        });
    }

    /// A lame response from `addr` to a question about `zone`: the server
    /// is known as lame for the zone for [`LAME_TTL`] from now.
    pub(crate) fn record_lame(&self, addr: IpAddr, zone: &Name) {
        let now = Instant::now();
        let mut table = lock(&self.table);
        if table.lame.len() >= MAX_TRACKED && !table.lame.contains_key(zone) {
            table.lame.clear();
        }
        let lame = table.lame.entry(zone.clone()).or_default();
        lame.retain(|&(at, until)| at != addr && until > now);
        if lame.len() >= MAX_LAME_PER_ZONE {
            lame.remove(0);
        }
        lame.push((addr, now + LAME_TTL));
    }

    #[cfg(test)]
    fn srtt(&self, addr: IpAddr) -> Option<Duration> {
        lock(&self.table).srtt.get(&addr).copied()
    }

    fn update(&self, addr: IpAddr, f: impl FnOnce(Option<Duration>) -> Duration) {
        let table = &mut lock(&self.table).srtt;
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

    fn zone(name: &str) -> Name {
        Name::from_ascii(name).unwrap()
    }

    #[test]
    fn fastest_first_and_failures_sink() {
        let stats = ServerStats::default();
        stats.record_rtt(ip(1), Duration::from_millis(50));
        stats.record_rtt(ip(2), Duration::from_millis(10));
        stats.record_failure(ip(3), Duration::from_millis(800));
        let servers = stats.order(&zone("example."), vec![ip(3), ip(1), ip(2), ip(4)], |s| *s);
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

    /// A fast server that answered lamely for a zone comes after a slow
    /// good one there, for LAME_TTL, and nowhere else; its RTT is untouched.
    #[tokio::test(start_paused = true)]
    async fn a_lame_server_comes_last_in_its_zone_until_the_lameness_expires() {
        let stats = ServerStats::default();
        let (lame, slow) = (ip(1), ip(2));
        stats.record_rtt(lame, Duration::from_millis(1));
        stats.record_rtt(slow, Duration::from_millis(300));
        stats.record_lame(lame, &zone("example."));
        let order = |name: &str| stats.order(&zone(name), vec![lame, slow], |s| *s);
        assert_eq!(order("example."), vec![slow, lame]);
        assert_eq!(
            order("EXAMPLE."),
            vec![slow, lame],
            "zones match in any case"
        );
        assert_eq!(order("other."), vec![lame, slow], "lame for example. only");
        assert_eq!(stats.srtt(lame), Some(Duration::from_millis(1)));
        tokio::time::advance(LAME_TTL - Duration::from_secs(1)).await;
        assert_eq!(order("example."), vec![slow, lame], "still known as lame");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(order("example."), vec![lame, slow], "lameness forgotten");
    }
}
