//! Which upstream addresses the resolver will ask.
//!
//! Addresses learned from the network (referrals, glue, name-server
//! lookups) are data a stranger wrote. A delegation to 127.0.0.1 would turn
//! the resolver against the machine it runs on (its own admin ports, a
//! local service that trusts loopback), so, as Unbound's
//! `do-not-query-localhost` and Knot Resolver's default rules do, these are
//! never asked:
//! - loopback (127.0.0.0/8, ::1), unless allowed (below);
//! - unspecified (0.0.0.0, ::): Linux delivers it to the host itself;
//! - broadcast (255.255.255.255, and 127.255.255.255, loopback's);
//! - multicast (224.0.0.0/4, ff00::/8): no name server lives there, and
//!   a query would go to every host on the link. (The issue did not name
//!   multicast; Unbound refuses it too.)
//!
//! IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are judged as the IPv4
//! address they carry. Loopback is allowed automatically when every root
//! hint is loopback (the hierarchy of `dnslab up`, a lab), and
//! [`UpstreamLoopback`] overrides that either way. Addresses the operator
//! configured (root hints, stub and forward zones) are asked whatever they
//! are, but for the family switches.
//!
//! The family switches are Unbound's `do-ip4`/`do-ip6`: with one off, its
//! addresses are skipped and no name server's addresses of that family are
//! looked up. With IPv6 on, an IPv6 address (other than ::1 and mapped
//! ones) is asked only when the host has an IPv6 route, read once when the
//! resolver starts ([`host_has_ipv6_route`]): on a host without one, an
//! IPv6-only server is skipped at once instead of timing out.
//!
//! A refused address counts as a server that failed, with a debug line;
//! the walk goes on with the zone's other servers.

use std::net::{IpAddr, Ipv4Addr};

use crate::ResolverConfig;

/// Whether loopback addresses learned from the network may be asked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UpstreamLoopback {
    /// Allowed when every root hint is loopback (a lab), denied otherwise.
    #[default]
    Auto,
    Allow,
    Deny,
}

/// Why an address is not asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    #[error("loopback, learned from the network (--upstream-loopback allow to ask)")]
    Loopback,
    #[error("unspecified (0.0.0.0 or ::): it would reach this host")]
    Unspecified,
    #[error("a broadcast address")]
    Broadcast,
    #[error("a multicast address")]
    Multicast,
    #[error("IPv4, and IPv4 upstreams are off")]
    Ipv4Off,
    #[error("IPv6, and IPv6 upstreams are off")]
    Ipv6Off,
    #[error("IPv6, and this host has no IPv6 route")]
    NoIpv6Route,
}

/// The rules above, settled when the resolver starts.
#[derive(Clone, Debug)]
pub(crate) struct Reach {
    loopback: bool,
    ipv4: bool,
    ipv6: bool,
    ipv6_routed: bool,
    /// Root hints, stub and forward servers: asked whatever they are.
    configured: Vec<IpAddr>,
}

impl Reach {
    pub(crate) fn new(config: &ResolverConfig) -> Reach {
        let hints: Vec<IpAddr> = config.root_hints.iter().map(|(_, ip)| *ip).collect();
        let loopback = match config.upstream_loopback {
            UpstreamLoopback::Allow => true,
            UpstreamLoopback::Deny => false,
            UpstreamLoopback::Auto => {
                !hints.is_empty() && hints.iter().all(|ip| ip.to_canonical().is_loopback())
            }
        };
        let mut configured = hints;
        for zone in config.forward_zones.iter().chain(&config.stub_zones) {
            configured.extend(zone.servers.iter().map(|addr| addr.ip()));
        }
        Reach {
            loopback,
            ipv4: config.ipv4_upstream,
            ipv6: config.ipv6_upstream,
            ipv6_routed: config.ipv6_upstream && host_has_ipv6_route(),
            configured,
        }
    }

    /// Whether `ip` may be asked (see the module doc).
    pub(crate) fn check(&self, ip: IpAddr) -> Result<(), Refusal> {
        let canonical = ip.to_canonical();
        match canonical {
            IpAddr::V4(_) if !self.ipv4 => return Err(Refusal::Ipv4Off),
            IpAddr::V6(_) if !self.ipv6 => return Err(Refusal::Ipv6Off),
            _ => {}
        }
        if self.configured.contains(&ip) {
            return Ok(());
        }
        let refusal = match canonical {
            IpAddr::V4(v4) if v4.is_broadcast() || v4 == Ipv4Addr::new(127, 255, 255, 255) => {
                Some(Refusal::Broadcast)
            }
            ip if ip.is_unspecified() => Some(Refusal::Unspecified),
            ip if ip.is_multicast() => Some(Refusal::Multicast),
            ip if ip.is_loopback() && !self.loopback => Some(Refusal::Loopback),
            IpAddr::V6(v6) if !v6.is_loopback() && !self.ipv6_routed => Some(Refusal::NoIpv6Route),
            _ => None,
        };
        refusal.map_or(Ok(()), Err)
    }

    /// Whether name servers' IPv4 (A) addresses are looked up.
    pub(crate) fn looks_up_ipv4(&self) -> bool {
        self.ipv4
    }

    /// Whether name servers' IPv6 (AAAA) addresses are looked up.
    pub(crate) fn looks_up_ipv6(&self) -> bool {
        self.ipv6
    }
}

/// Whether the host has a route to IPv6 addresses beyond its own links:
/// a usable (up, not reject) route in /proc/net/ipv6_route on an interface
/// other than `lo`, to a destination that is not link-local or multicast.
/// Read, not probed: no socket is opened and nothing is sent.
#[cfg(target_os = "linux")]
pub(crate) fn host_has_ipv6_route() -> bool {
    std::fs::read_to_string("/proc/net/ipv6_route")
        .map(|table| table.lines().any(usable_route))
        .unwrap_or(false)
}

/// Elsewhere: assume IPv6 is routed, as before this rule existed.
#[cfg(not(target_os = "linux"))]
pub(crate) fn host_has_ipv6_route() -> bool {
    true
}

/// One line of /proc/net/ipv6_route: destination, prefix length, source,
/// source prefix length, next hop, metric, reference count, use count,
/// flags, device.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn usable_route(line: &str) -> bool {
    const RTF_UP: u32 = 0x0001;
    const RTF_REJECT: u32 = 0x0200;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [destination, _, _, _, _, _, _, _, flags, device] = fields[..] else {
        return false;
    };
    let Ok(flags) = u32::from_str_radix(flags, 16) else {
        return false;
    };
    let local = destination.starts_with("fe8")
        || destination.starts_with("fe9")
        || destination.starts_with("fea")
        || destination.starts_with("feb")
        || destination.starts_with("ff");
    device != "lo" && flags & RTF_UP != 0 && flags & RTF_REJECT == 0 && !local
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ZoneServers;
    use hickory_proto::rr::Name;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn reach(hints: &[&str], adjust: impl FnOnce(&mut ResolverConfig)) -> Reach {
        let mut config = ResolverConfig {
            root_hints: hints
                .iter()
                .map(|h| (Name::from_ascii("a.root.").unwrap(), ip(h)))
                .collect(),
            ..ResolverConfig::default()
        };
        adjust(&mut config);
        let mut reach = Reach::new(&config);
        reach.ipv6_routed = true;
        reach
    }

    #[test]
    fn learned_addresses_that_reach_this_host_or_everyone_are_never_asked() {
        let internet = reach(&["198.41.0.4"], |_| {});
        for (addr, refusal) in [
            ("127.0.0.1", Refusal::Loopback),
            ("127.0.53.9", Refusal::Loopback),
            ("::1", Refusal::Loopback),
            ("::ffff:127.0.0.1", Refusal::Loopback),
            ("0.0.0.0", Refusal::Unspecified),
            ("::", Refusal::Unspecified),
            ("::ffff:0.0.0.0", Refusal::Unspecified),
            ("255.255.255.255", Refusal::Broadcast),
            ("127.255.255.255", Refusal::Broadcast),
            ("224.0.0.251", Refusal::Multicast),
            ("ff02::fb", Refusal::Multicast),
        ] {
            assert_eq!(internet.check(ip(addr)), Err(refusal), "{addr}");
        }
        assert_eq!(internet.check(ip("192.0.2.1")), Ok(()));
        assert_eq!(internet.check(ip("2001:db8::1")), Ok(()));
    }

    #[test]
    fn loopback_hints_allow_loopback_and_the_switch_overrides() {
        let lab = reach(&["127.0.53.1"], |_| {});
        assert_eq!(lab.check(ip("127.0.53.9")), Ok(()));
        assert_eq!(lab.check(ip("::1")), Ok(()));
        assert_eq!(
            lab.check(ip("127.255.255.255")),
            Err(Refusal::Broadcast),
            "never, even in a lab"
        );
        assert_eq!(lab.check(ip("0.0.0.0")), Err(Refusal::Unspecified));
        let denied = reach(&["127.0.53.1"], |c| {
            c.upstream_loopback = UpstreamLoopback::Deny
        });
        assert_eq!(denied.check(ip("127.0.53.9")), Err(Refusal::Loopback));
        assert_eq!(
            denied.check(ip("127.0.53.1")),
            Ok(()),
            "a hint is configured"
        );
        let allowed = reach(&["198.41.0.4"], |c| {
            c.upstream_loopback = UpstreamLoopback::Allow
        });
        assert_eq!(allowed.check(ip("127.0.0.1")), Ok(()));
        let stub = reach(&["198.41.0.4"], |c| {
            c.stub_zones = vec![ZoneServers::parse("lab.test=127.0.0.1:5300").unwrap()];
        });
        assert_eq!(
            stub.check(ip("127.0.0.1")),
            Ok(()),
            "a stub server is configured"
        );
        assert_eq!(stub.check(ip("127.0.0.2")), Err(Refusal::Loopback));
    }

    #[test]
    fn family_switches_and_the_ipv6_route() {
        let v4only = reach(&["127.0.53.1"], |c| c.ipv6_upstream = false);
        assert!(!v4only.looks_up_ipv6() && v4only.looks_up_ipv4());
        assert_eq!(v4only.check(ip("2001:db8::1")), Err(Refusal::Ipv6Off));
        assert_eq!(v4only.check(ip("::1")), Err(Refusal::Ipv6Off));
        assert_eq!(
            v4only.check(ip("::ffff:127.0.53.8")),
            Ok(()),
            "a mapped address is IPv4"
        );
        let v6only = reach(&["127.0.53.1"], |c| c.ipv4_upstream = false);
        assert_eq!(v6only.check(ip("127.0.53.1")), Err(Refusal::Ipv4Off));
        let mut unrouted = reach(&["127.0.53.1"], |_| {});
        unrouted.ipv6_routed = false;
        assert_eq!(unrouted.check(ip("2001:db8::1")), Err(Refusal::NoIpv6Route));
        assert_eq!(unrouted.check(ip("::1")), Ok(()), "loopback needs no route");
    }

    #[test]
    fn routes_that_count() {
        let zeros = "00000000000000000000000000000000";
        let line = |dest: &str, flags: &str, dev: &str| {
            format!("{dest} 00 {zeros} 00 {zeros} 00000400 00000003 00000000 {flags} {dev}")
        };
        assert!(
            usable_route(&line(zeros, "00000003", "eth0")),
            "default route"
        );
        assert!(
            !usable_route(&line(zeros, "00200200", "lo")),
            "lo's reject route"
        );
        assert!(!usable_route(&line(
            "fe800000000000000000000000000000",
            "00000001",
            "eth0"
        )));
        assert!(!usable_route(&line(
            "ff000000000000000000000000000000",
            "00000001",
            "eth0"
        )));
        assert!(!usable_route("garbage"));
    }
}
