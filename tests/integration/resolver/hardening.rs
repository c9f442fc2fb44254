//! The resolver hardened to the standard of Unbound and Knot Resolver
//! (issue 17), scenario by scenario over the lab: upstream servers that
//! answer in odd but real ways, addresses a referral must not make it ask,
//! a clock that jumps, forwarding and stub zones. Each scenario is a
//! domain that resolves everywhere else, or a stale answer served as
//! fresh, before the fix.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use dnslab_resolver::events::{Delivery, Endpoint, EventBus, Kind, Role, WalkEvent};
use dnslab_resolver::{trace, Clock, Resolver, ResolverConfig, UpstreamLoopback, ZoneServers};
use hickory_proto::op::ResponseCode::{NXDomain, NoError, ServFail};
use hickory_proto::rr::RecordType;

use super::{
    lab, lab_config, server_addr, TestResolver, AA_UPWARD, BAD_REFERRER, CATCHER, EXAMPLE_SOA,
    MOVED_NS, OLD_NS, VICTIM, WWW_CS, WWW_EXAMPLE,
};
use crate::common::{name, section_without_ttl, udp, Ask};

/// `zone=addresses` at the lab's port, for forward and stub zones.
fn zone_at(zone: &str, servers: &[SocketAddr]) -> ZoneServers {
    ZoneServers {
        zone: name(zone),
        servers: servers.to_vec(),
    }
}

/// The lab server 127.0.53.`last` at the lab's port.
fn lab_server(last: u8) -> SocketAddr {
    server_addr(last, lab().port)
}

/// Every address a traced resolution of `qname` sent a query to.
fn asked(config: ResolverConfig, qname: &str, qtype: RecordType) -> Vec<(IpAddr, RecordType)> {
    let traced = lab().runtime.block_on(trace(config, name(qname), qtype));
    traced
        .events
        .iter()
        .filter(|event| event.kind == Kind::Query && event.from.role == Role::Resolver)
        .map(|event| {
            let server = event.to.addr.as_deref().and_then(|a| a.parse().ok());
            let server: SocketAddr = server.expect("a query names its server's address");
            (server.ip(), event.qtype.parse().expect("a query's type"))
        })
        .collect()
}

/// Root hints that lead nowhere (nothing listens at 127.0.53.22): what
/// forward and stub zones must do without.
fn dead_root_hints() -> Vec<(hickory_proto::rr::Name, IpAddr)> {
    vec![(name("ns.root."), IpAddr::V4(Ipv4Addr::new(127, 0, 53, 22)))]
}

// Parent side and child side.

/// usesdead.edu's only server, ns.childdead.com, has two addresses: com's
/// glue (127.0.53.4, which answers) and childdead.com's own A record
/// (127.0.53.20, where nothing listens any more: the zone's admin
/// renumbered the server and forgot the zone). edu gives no glue, so the
/// resolver looks the server up, and its lookup ends at the child's dead
/// address; it must try the parent's address before giving up, as Unbound
/// does. It used to SERVFAIL.
#[test]
fn a_dead_child_side_address_falls_back_to_the_parent_glue() {
    let r = TestResolver::new();
    r.expect(
        "www.usesdead.edu.",
        RecordType::A,
        NoError,
        &["www.usesdead.edu. A 192.0.2.82"],
        &[],
    );
}

/// parentstale.com's server ns.sibling.com has stale glue in com
/// (127.0.53.21, nothing listens) while its own zone, sibling.com, says
/// 127.0.53.4. When the parent's address fails, the resolver looks the
/// server up in its own zone and asks the child's address: the other way
/// round from the case above.
#[test]
fn stale_parent_glue_falls_back_to_the_child_side_address() {
    let r = TestResolver::new();
    r.expect(
        "www.parentstale.com.",
        RecordType::A,
        NoError,
        &["www.parentstale.com. A 192.0.2.83"],
        &[],
    );
}

/// gluekept.edu is served by ns.badref.com, which edu names without glue.
/// Looking its address up goes to com, which gives glue for it in the
/// badref.com referral, and then to the server itself, which is broken for
/// its own zone and refers the question up to the root. The lookup fails,
/// but the address com gave is known: the resolver keeps it and asks it
/// about gluekept.edu (which it serves), instead of concluding that no
/// address is known. It used to SERVFAIL.
#[test]
fn a_glueless_lookup_that_hits_a_bad_referral_keeps_the_glue() {
    let r = TestResolver::new();
    r.expect(
        "www.gluekept.edu.",
        RecordType::A,
        NoError,
        &["www.gluekept.edu. A 192.0.2.90"],
        &[],
    );
    assert!(
        lab().hits.at(BAD_REFERRER) >= 2,
        "asked about its own address, then about gluekept.edu"
    );
}

/// movedns.com moved to a new server: its zone's own NS set says
/// ns2.movedns.com (127.0.53.41) only, while com still lists the old
/// server (127.0.53.36, silent now) and ns1 (which still serves a copy of
/// the zone). Once a server of the zone has answered authoritatively with
/// the child's NS set, it replaces the parent's, as in Unbound: later
/// questions go to the new server, and never to the old one.
#[test]
fn the_childs_ns_set_replaces_the_parents() {
    let r = TestResolver::new();
    r.expect(
        "movedns.com.",
        RecordType::NS,
        NoError,
        &["movedns.com. NS ns2.movedns.com."],
        &[],
    );
    // The new server's address, which its zone's old servers (the
    // parent's, the fallback now) give; the old one may be asked here.
    r.expect(
        "ns2.movedns.com.",
        RecordType::A,
        NoError,
        &["ns2.movedns.com. A 127.0.53.41"],
        &[],
    );
    let hits = &lab().hits;
    let (old, moved) = (hits.at(OLD_NS), hits.at(MOVED_NS));
    // RD=0: the cached delegation's NS set is the child's now.
    let referral = udp(r.addr, &Ask::new("x.movedns.com.", RecordType::A));
    assert_eq!(
        section_without_ttl(&referral.authorities),
        ["movedns.com. NS ns2.movedns.com."]
    );
    for i in 0..4 {
        let qname = format!("w{i}.movedns.com.");
        r.expect(
            &qname,
            RecordType::A,
            NoError,
            &[&format!("{qname} A 192.0.2.88")],
            &[],
        );
    }
    assert_eq!(
        hits.at(MOVED_NS) - moved,
        4,
        "every later question went to the new server"
    );
    assert_eq!(hits.at(OLD_NS), old, "and none to the old one");
}

/// brokenchild.com's zone says its only server is gone.brokenchild.com
/// (127.0.53.23, nothing listens), while com's delegation to ns1 works.
/// After the child's NS set is learned, its failure is not the end: the
/// parent's set is the fallback, and the name still resolves.
#[test]
fn the_parents_ns_set_is_the_fallback_when_the_childs_fails() {
    let r = TestResolver::new();
    r.expect(
        "brokenchild.com.",
        RecordType::NS,
        NoError,
        &["brokenchild.com. NS gone.brokenchild.com."],
        &[],
    );
    r.expect(
        "www.brokenchild.com.",
        RecordType::A,
        NoError,
        &["www.brokenchild.com. A 192.0.2.85"],
        &[],
    );
}

// What counts as lame, and what is only noise.

/// upaa.com's ns1 (127.0.53.38) claims authority (AA=1) but answers every
/// question with the root's NS set and no SOA: a server that does not
/// serve the zone. That is lame, not NODATA: the resolver asks ns2, which
/// answers; allupaa.com, whose only server it is, is SERVFAIL, not an
/// empty answer. upaa.com used to be NODATA whenever ns1 was asked first.
///
/// Which server is asked first is random at first, so four questions are
/// asked: before the fix, the lame server answered fast, was preferred,
/// and all but the first were NODATA.
#[test]
fn an_authoritative_upward_referral_is_lame_not_nodata() {
    let r = TestResolver::new();
    let soa = "upaa.com. SOA ns2.upaa.com. admin.upaa.com. 1 3600 600 86400 60";
    r.expect(
        "www.upaa.com.",
        RecordType::A,
        NoError,
        &["www.upaa.com. A 192.0.2.86"],
        &[],
    );
    r.expect("upaa.com.", RecordType::SOA, NoError, &[soa], &[]);
    r.expect(
        "ns2.upaa.com.",
        RecordType::A,
        NoError,
        &["ns2.upaa.com. A 127.0.53.4"],
        &[],
    );
    r.expect("www.upaa.com.", RecordType::TXT, NoError, &[], &[soa]);
    let before = lab().hits.at(AA_UPWARD);
    r.expect("www.allupaa.com.", RecordType::A, ServFail, &[], &[]);
    assert!(lab().hits.at(AA_UPWARD) > before, "its server was asked");
}

/// offtype.com's server answers every question with an A record: an
/// AAAA question gets the A record and the zone's SOA. The A record
/// neither answers the question nor leads to it: it is dropped, and the
/// response is judged by what remains, an authoritative NODATA; the
/// server is not lame for it, and its A answers still count.
#[test]
fn records_of_another_type_are_noise_not_lameness() {
    let r = TestResolver::new();
    r.expect(
        "www.offtype.com.",
        RecordType::AAAA,
        NoError,
        &[],
        &["offtype.com. SOA ns.offtype.com. admin.offtype.com. 1 3600 600 86400 60"],
    );
    let (_, cost) = r.expect(
        "www.offtype.com.",
        RecordType::A,
        NoError,
        &["www.offtype.com. A 192.0.2.91"],
        &[],
    );
    assert_eq!(cost, 1, "the same server, asked again at once");
}

// Addresses the resolver will not ask.

/// badglue.com's parent gives glue 0.0.0.0, 127.255.255.255 and
/// 255.255.255.255 for three of its four servers: the unspecified address
/// reaches this very host, the broadcast ones every host. None is ever
/// asked, even in a lab where loopback is allowed; the fourth server
/// answers. badns.edu's servers have no glue, and their own A records
/// say 0.0.0.0 and 255.255.255.255: nothing is sent there either, and
/// the name is SERVFAIL.
#[test]
fn learned_unspecified_and_broadcast_addresses_are_never_asked() {
    let r = TestResolver::new();
    r.expect(
        "www.badglue.com.",
        RecordType::A,
        NoError,
        &["www.badglue.com. A 192.0.2.87"],
        &[],
    );
    r.expect("www.badns.edu.", RecordType::A, ServFail, &[], &[]);
    assert_eq!(lab().hits.at(CATCHER), 0, "nothing sent to 0.0.0.0");
    let never: [IpAddr; 3] = [
        Ipv4Addr::UNSPECIFIED.into(),
        Ipv4Addr::new(127, 255, 255, 255).into(),
        Ipv4Addr::BROADCAST.into(),
    ];
    for qname in ["www.badglue.com.", "www.badns.edu."] {
        let steps = asked(lab_config(), qname, RecordType::A);
        assert!(!steps.is_empty());
        for (ip, _) in steps {
            assert!(!never.contains(&ip), "{qname}: asked {ip}");
        }
    }
}

/// With `--upstream-loopback deny`, a referral to a loopback address is
/// never followed, whether the address comes as glue (trap.com's server,
/// from com) or from looking a glueless server up (trapns.edu's
/// ns.trapped.com, whose zone says 127.0.53.40): the configured servers
/// (here stub zones for com, edu and trapped.com) are still asked. With
/// loopback allowed, the same questions do reach 127.0.53.40, which
/// counts them (and refuses).
#[test]
fn learned_loopback_addresses_are_never_asked_when_denied() {
    let stubs = || {
        vec![
            zone_at("com.", &[lab_server(2)]),
            zone_at("edu.", &[lab_server(3)]),
            zone_at("trapped.com.", &[lab_server(4)]),
        ]
    };
    let denied = TestResolver::with(|c| {
        c.upstream_loopback = UpstreamLoopback::Deny;
        c.stub_zones = stubs();
    });
    for qname in ["www.trap.com.", "www.trapns.edu."] {
        denied.expect(qname, RecordType::A, ServFail, &[], &[]);
    }
    assert_eq!(lab().hits.at(VICTIM), 0, "never asked");
    let allowed = TestResolver::with(|c| {
        c.upstream_loopback = UpstreamLoopback::Allow;
        c.stub_zones = stubs();
    });
    allowed.expect("www.trap.com.", RecordType::A, ServFail, &[], &[]);
    allowed.expect("www.trapns.edu.", RecordType::A, ServFail, &[], &[]);
    assert!(lab().hits.at(VICTIM) >= 2, "asked once loopback is allowed");
}

/// `--no-ipv6-upstream` on a host without IPv6: v6only.com's server has
/// only an AAAA record, so it is skipped at once, and no AAAA lookup is
/// made for it (nor for any name server); the name is SERVFAIL. With IPv6
/// on, the same walk asks for the AAAA and reaches it.
#[test]
fn without_ipv6_upstreams_no_aaaa_lookups_are_made() {
    let off = ResolverConfig {
        ipv6_upstream: false,
        ..lab_config()
    };
    let steps = asked(off, "www.v6only.com.", RecordType::A);
    assert!(!steps.is_empty());
    assert!(
        steps.iter().all(|(_, qtype)| *qtype != RecordType::AAAA),
        "{steps:?}"
    );
    let r = TestResolver::with(|c| c.ipv6_upstream = false);
    r.expect("www.v6only.com.", RecordType::A, ServFail, &[], &[]);
    let on = asked(lab_config(), "www.v6only.com.", RecordType::A);
    assert!(on.iter().any(|(_, qtype)| *qtype == RecordType::AAAA));
}

// Time.

/// A laptop is closed for three hours with www.example.com (TTL 300) in
/// its resolver's cache. CLOCK_MONOTONIC, which `Instant` reads, stops
/// during suspend; cache time does not. Jumping the clock forward stands
/// for the suspend: the next question walks again (root, com, example.com:
/// the delegations expired too), through the fast path for encoded
/// answers as well as the cache.
#[test]
fn a_suspended_machine_counts_the_time_it_slept() {
    let clock = Clock::new();
    let shared = clock.clone();
    let r = TestResolver::with(|c| c.clock = shared);
    r.expect(
        "www.example.com.",
        RecordType::A,
        NoError,
        &[WWW_EXAMPLE],
        &[],
    );
    for _ in 0..2 {
        // The first hit keeps the answer encoded; the second is copied.
        let (_, cost) = r.expect(
            "www.example.com.",
            RecordType::A,
            NoError,
            &[WWW_EXAMPLE],
            &[],
        );
        assert_eq!(cost, 0);
    }
    clock.jump_forward(Duration::from_secs(3 * 3600));
    let (msg, cost) = r.expect(
        "www.example.com.",
        RecordType::A,
        NoError,
        &[WWW_EXAMPLE],
        &[],
    );
    assert_eq!(cost, 3, "root, com and example.com asked again");
    assert_eq!(msg.answers[0].ttl, 300, "a fresh answer");
}

/// `--min-ttl` and `--max-ttl` bound negative answers too: example.com's
/// NXDOMAIN lives for its SOA's MINIMUM, 60 s, raised to 100 or lowered to
/// 30, and the SOA the client gets says so.
#[test]
fn negative_answers_are_clamped_to_the_configured_bounds() {
    for (min, max, ttl) in [(100, 86_400, 100), (0, 30, 30)] {
        let r = TestResolver::with(|c| {
            c.min_ttl = min;
            c.max_ttl = max;
        });
        let (msg, _) = r.expect_then_cached(
            "nosuch.example.com.",
            RecordType::A,
            NXDomain,
            &[],
            &[EXAMPLE_SOA],
        );
        assert_eq!(
            msg.authorities[0].ttl, ttl,
            "--min-ttl {min} --max-ttl {max}"
        );
    }
}

// Forwarding and stub zones.

/// A corporate resolver forwards everything (`.`) to another recursive
/// resolver, here a dnslab one iterating over the lab: one RD=1 query per
/// question, the other resolver does the walk, and CNAME chains across
/// zones come back whole. A dead forwarder beside it (nothing listens)
/// is failed over, and once it has failed it sinks below the live one
/// (servers are tried in RTT order, unmeasured ones in random order), so
/// it costs one query at most.
#[test]
fn questions_are_forwarded_to_a_recursive_resolver() {
    let upstream = TestResolver::new();
    let dead = lab_server(20);
    let r = TestResolver::with(|c| {
        c.forward_zones = vec![zone_at(".", &[dead, upstream.addr])];
        // Not the lab's root: forwarding must not need it.
        c.root_hints = dead_root_hints();
    });
    r.expect(
        "www.example.com.",
        RecordType::A,
        NoError,
        &[WWW_EXAMPLE],
        &[],
    );
    r.expect(
        "alias.example.com.",
        RecordType::A,
        NoError,
        &[super::ALIAS, WWW_CS],
        &[],
    );
    r.expect(
        "nosuch.example.com.",
        RecordType::A,
        NXDomain,
        &[],
        &[EXAMPLE_SOA],
    );
    let sent = r.queries();
    assert!(
        (3..=4).contains(&sent),
        "one query per question, and the dead forwarder once at most: {sent}"
    );
    assert!(upstream.queries() >= 3, "the other resolver walked");
}

/// Only example.com is forwarded: its names cost one query to the
/// forwarder; other names are walked from the root as usual.
#[test]
fn only_the_forward_zone_is_forwarded() {
    let upstream = TestResolver::new();
    let r = TestResolver::with(|c| {
        c.forward_zones = vec![zone_at("example.com.", &[upstream.addr])];
    });
    let (_, cost) = r.expect(
        "www.example.com.",
        RecordType::A,
        NoError,
        &[WWW_EXAMPLE],
        &[],
    );
    assert_eq!(cost, 1);
    let (_, cost) = r.expect("www.cs.umass.edu.", RecordType::A, NoError, &[WWW_CS], &[]);
    assert_eq!(cost, 4, "root, edu, umass.edu, cs.umass.edu");
}

/// A private zone on a local authoritative server: example.com is a stub
/// zone at 127.0.53.4, and the root hints lead nowhere. Its names are
/// asked of the stub server directly (one query each); below a stub the
/// walk goes on as usual (umass.edu's server refers cs.umass.edu).
#[test]
fn a_stub_zone_starts_the_walk_at_its_servers() {
    let r = TestResolver::with(|c| {
        c.root_hints = dead_root_hints();
        c.stub_zones = vec![
            zone_at("example.com.", &[lab_server(4)]),
            zone_at("umass.edu.", &[lab_server(6)]),
        ];
    });
    let (_, cost) = r.expect(
        "www.example.com.",
        RecordType::A,
        NoError,
        &[WWW_EXAMPLE],
        &[],
    );
    assert_eq!(cost, 1);
    r.expect(
        "nosuch.example.com.",
        RecordType::A,
        NXDomain,
        &[],
        &[EXAMPLE_SOA],
    );
    let (_, cost) = r.expect("www.cs.umass.edu.", RecordType::A, NoError, &[WWW_CS], &[]);
    assert_eq!(cost, 2, "umass.edu's stub server, then cs.umass.edu's");
    r.expect(
        "www.umass.edu.",
        RecordType::A,
        NoError,
        &["www.umass.edu. A 192.0.2.20"],
        &[],
    );
    // Outside the stub zones, the dead root hints: SERVFAIL.
    r.expect("www.edu.", RecordType::A, ServFail, &[], &[]);
}

/// The live view (and `trace`) say what forward and stub zones do instead
/// of inventing cached delegations. Before they met, a walk starting at
/// umass.edu's stub server was drawn as the root having handed out a
/// cached delegation to umass.edu. (TTL 0), and once cs.umass.edu's cut
/// was cached, as the root delegating cs.umass.edu. Now the first lookup
/// has no step-0 tier at all and its query to the stub server says so; the
/// second spares only the stub server's tier (cs.umass.edu.'s delegation
/// is cached); a forwarded question's query says it was forwarded with
/// RD=1.
#[test]
fn the_live_view_says_what_stub_and_forward_zones_do() {
    let stubbed = watched_lookups(
        |c| {
            c.root_hints = dead_root_hints();
            c.stub_zones = vec![zone_at("umass.edu.", &[lab_server(6)])];
        },
        &[
            ("www.cs.umass.edu.", RecordType::A),
            ("www.cs.umass.edu.", RecordType::AAAA),
        ],
    );
    let [first, second] = &stubbed[..] else {
        panic!("two lookups: {stubbed:?}");
    };
    assert!(
        first.iter().all(|e| e.step > 0),
        "no tier spared: {first:?}"
    );
    let to_stub = first
        .iter()
        .find(|e| e.kind == Kind::Query && e.to.name == "umass.edu.")
        .expect("the stub server is asked");
    assert_eq!(
        to_stub.detail,
        "cs.umass.edu. A (a configured server of the stub zone umass.edu.)"
    );
    let spared: Vec<(&str, Option<&str>, &str)> = second
        .iter()
        .filter(|e| e.step == 0)
        .map(|e| (e.to.name.as_str(), e.zone.as_deref(), e.detail.as_str()))
        .collect();
    let [(server, zone, detail)] = spared[..] else {
        panic!("one tier spared: {second:?}");
    };
    assert_eq!((server, zone), ("umass.edu.", Some("umass.edu.")));
    assert!(
        detail.starts_with("delegation to cs.umass.edu. cached"),
        "{detail}"
    );

    let upstream = TestResolver::new();
    let forwarded = watched_lookups(
        |c| c.forward_zones = vec![zone_at("example.com.", &[upstream.addr])],
        &[("www.example.com.", RecordType::A)],
    );
    let events = forwarded.concat();
    assert!(events.iter().all(|e| e.step > 0), "{events:?}");
    let queries: Vec<&str> = events
        .iter()
        .filter(|e| e.kind == Kind::Query && e.from.role == Role::Resolver)
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(
        queries,
        ["www.example.com. A (forwarded with RD=1 for the forward zone example.com.)"]
    );
    assert!(events.iter().any(|e| e.kind == Kind::Answer && e.step == 3));
}

/// The events of each lookup of `questions`, asked in turn of one
/// resolver (`adjust`ed from the lab's configuration) while a subscriber
/// watches its bus.
fn watched_lookups(
    adjust: impl FnOnce(&mut ResolverConfig),
    questions: &[(&str, RecordType)],
) -> Vec<Vec<WalkEvent>> {
    let mut config = lab_config();
    adjust(&mut config);
    let bus = Arc::new(EventBus::default());
    let resolver = Resolver::with_events(config, bus.clone());
    lab().runtime.block_on(async {
        let mut watching = bus.subscribe(None);
        let mut lookups = Vec::new();
        for (qname, qtype) in questions {
            let client = Endpoint::named_client("test");
            let (result, lookup) = resolver.resolve_for(client, name(qname), *qtype).await;
            result.expect("resolves");
            let lookup = lookup.expect("watched");
            let mut events = Vec::new();
            // Published while the lookup ran: all there once it is done.
            while let Ok(Some(Delivery::Event(published))) =
                tokio::time::timeout(Duration::from_millis(200), watching.next()).await
            {
                assert_eq!(published.event.lookup, lookup);
                events.push(published.event.clone());
            }
            lookups.push(events);
        }
        lookups
    })
}
