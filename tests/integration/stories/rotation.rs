//! Load distribution: "the server responds with the entire set of IP
//! addresses, but rotates the ordering of the addresses within each
//! reply". `www.test.` has three A records; each order mode is asked over
//! UDP and TCP, of the authoritative server and of a resolver.

use std::net::SocketAddr;

use dnslab_authoritative::AuthOptions;
use dnslab_wire::RrsetOrder;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use super::{addresses, served, Lab, Zones, EAST};
use crate::common::{tcp, udp, Ask};

const REPLICAS: [&str; 3] = ["192.0.2.1", "192.0.2.2", "192.0.2.3"];

/// Asks `server` for www.test. A `n` times over UDP, then `n` times over
/// TCP; checks every answer holds all three replicas and returns the first
/// address of each.
fn firsts(server: SocketAddr, rd: bool, n: usize) -> Vec<String> {
    let mut ask = Ask::new("www.test.", RecordType::A);
    ask.recursion_desired = rd;
    let answers = (0..n)
        .map(|_| udp(server, &ask))
        .chain((0..n).map(|_| tcp(server, &ask)));
    answers
        .map(|msg| {
            assert_eq!(msg.metadata.response_code, ResponseCode::NoError);
            let mut found = addresses(&msg);
            let first = found.first().cloned().unwrap_or_default();
            found.sort();
            assert_eq!(found, REPLICAS, "every answer holds the whole set");
            first
        })
        .collect()
}

/// Checks that each first address is the one after the previous first in
/// the zone's order: cyclic, across UDP and TCP alike.
fn assert_takes_turns(firsts: &[String]) {
    for pair in firsts.windows(2) {
        let at = REPLICAS
            .iter()
            .position(|r| *r == pair[0])
            .expect("a replica");
        assert_eq!(pair[1], REPLICAS[(at + 1) % 3], "cyclic order: {firsts:?}");
    }
}

/// Checks that every replica came first at least once.
fn assert_each_first(firsts: &[String]) {
    for replica in REPLICAS {
        assert!(
            firsts.iter().any(|f| f == replica),
            "{replica} never first: {firsts:?}"
        );
    }
}

/// The authoritative server in each order: cyclic answers start one
/// further on each time (UDP and TCP share the turn), random ones
/// anywhere, fixed ones at the zone file's first record.
#[test]
fn the_authoritative_server_rotates_in_each_order_over_udp_and_tcp() {
    let zones = Zones::write();
    let serve = |order| {
        let options = AuthOptions {
            rrset_order: order,
            ..AuthOptions::default()
        };
        served(zones.cdn_server(None), options)
    };
    let cyclic = firsts(serve(RrsetOrder::Cyclic).addr, false, 4);
    assert_takes_turns(&cyclic);
    assert_each_first(&cyclic);
    let fixed = firsts(serve(RrsetOrder::Fixed).addr, false, 3);
    assert_eq!(fixed, [REPLICAS[0]; 6]);
    let random = firsts(serve(RrsetOrder::Random).addr, false, 30);
    assert_each_first(&random);
}

/// A zone's own order wins over the server's: `test.` fixed in a cyclic
/// server (and cyclic in a fixed one).
#[test]
fn a_zones_order_overrides_the_servers() {
    let zones = Zones::write();
    let serve = |server: RrsetOrder, zone: RrsetOrder| {
        let options = AuthOptions {
            rrset_order: server,
            ..AuthOptions::default()
        };
        served(vec![zones.test(Some(zone))], options)
    };
    let fixed = firsts(serve(RrsetOrder::Cyclic, RrsetOrder::Fixed).addr, false, 3);
    assert_eq!(fixed, [REPLICAS[0]; 6]);
    assert_takes_turns(&firsts(
        serve(RrsetOrder::Fixed, RrsetOrder::Cyclic).addr,
        false,
        3,
    ));
}

/// The resolver rotates what it answers from its cache (Unbound's
/// rrset-roundrobin) in each order, over UDP and TCP, whatever order the
/// authoritative server answered in (fixed here).
#[test]
fn the_resolver_rotates_its_cached_answers_in_each_order_over_udp_and_tcp() {
    let lab = Lab::start(AuthOptions::default(), Some(RrsetOrder::Fixed));
    let resolver = |order| lab.resolver(EAST, |config| config.rrset_order = order);
    let cyclic = resolver(RrsetOrder::Cyclic);
    let firsts_cyclic = firsts(cyclic.addr, true, 4);
    // The first answer comes from the walk; from the second on, the cache
    // answers and takes turns.
    assert_takes_turns(&firsts_cyclic[1..]);
    assert_eq!(
        cyclic.upstream_queries(),
        2,
        "test., then www.test. asked once"
    );
    let fixed = resolver(RrsetOrder::Fixed);
    assert_eq!(firsts(fixed.addr, true, 3), [REPLICAS[0]; 6]);
    let random = resolver(RrsetOrder::Random);
    assert_each_first(&firsts(random.addr, true, 30));
}
