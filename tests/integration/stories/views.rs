//! Answers that depend on who asks: `cdn.test.`'s views chosen by the
//! source address of the query, the longest prefix winning, or with ECS
//! on by the client network of its EDNS Client Subnet option (RFC 7871),
//! echoed with its scope; a malformed option is FORMERR; resolvers keep
//! one view per address, or with ECS cache per client network.

use dnslab_authoritative::AuthOptions;
use hickory_proto::op::{Edns, Message, ResponseCode};
use hickory_proto::rr::rdata::opt::{ClientSubnet, EdnsCode, EdnsOption};
use hickory_proto::rr::RecordType;
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};

use super::{
    addresses, ask_from, ip, served, Lab, Zones, EAST, EAST_A, LAB, LAB_A, NOBODY_A, NOWHERE, WEST,
    WEST_A,
};
use crate::common::{udp_from, udp_raw_from, Ask, TIMEOUT};

/// `qname` A with an ECS option for `network`/`source` (no RD: asked of
/// the authoritative server) or with RD for a resolver.
fn with_subnet(qname: &str, network: &str, source: u8, rd: bool) -> Message {
    let mut ask = Ask::new(qname, RecordType::A).edns(1232);
    ask.recursion_desired = rd;
    let mut query = ask.to_message();
    let subnet = ClientSubnet::new(network.parse().expect("address"), source, 0);
    if let Some(edns) = query.edns.as_mut() {
        edns.options_mut().insert(EdnsOption::Subnet(subnet));
    }
    query
}

/// The ECS option of a reply: (address, source, scope).
fn echoed(reply: &Message) -> Option<(String, u8, u8)> {
    match reply
        .edns
        .as_ref()
        .and_then(|e: &Edns| e.option(EdnsCode::Subnet))
    {
        Some(EdnsOption::Subnet(subnet)) => Some((
            subnet.addr().to_string(),
            subnet.source_prefix(),
            subnet.scope_prefix(),
        )),
        _ => None,
    }
}

/// The same name asked from four loopback addresses gets four answers:
/// the east's and the west's (a whole master file of its own), the
/// lab-wide 127.0.0.0/16 view for an address in no longer prefix, and the
/// zone's own data for an address in none. Names outside the zone with
/// views answer alike for everyone.
#[test]
fn the_asking_address_chooses_the_view_the_longest_prefix_winning() {
    let lab = Lab::start(AuthOptions::default(), None);
    let cdn = lab.server(2);
    let a1105 = |from| {
        let mut ask = Ask::new("a1105.cdn.test.", RecordType::A);
        ask.recursion_desired = false;
        let reply = udp_from(ip(from), cdn, &ask.to_message());
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert!(reply.metadata.authoritative);
        addresses(&reply)
    };
    assert_eq!(a1105(EAST), [EAST_A]);
    assert_eq!(a1105(WEST), [WEST_A]);
    assert_eq!(a1105(LAB), [LAB_A]);
    assert_eq!(a1105(NOWHERE), [NOBODY_A]);
    // The west's file is a whole zone: its other names are its own too.
    for from in [EAST, WEST, LAB, NOWHERE] {
        let reply = ask_from(from, cdn, "edge.cdn.test.");
        assert_eq!(addresses(&reply), ["198.51.100.200"]);
    }
}

/// Two resolvers on two loopback addresses, each asking from its own:
/// the CNAME's target is answered from each one's view, and each caches
/// its own (asked again, no upstream query).
#[test]
fn two_resolvers_get_two_answers_and_keep_them() {
    let lab = Lab::start(AuthOptions::default(), None);
    let east = lab.resolver(EAST, |_| {});
    let west = lab.resolver(WEST, |_| {});
    for (resolver, expected) in [(&east, EAST_A), (&west, WEST_A)] {
        let reply = ask_from(NOWHERE, resolver.addr, "video.test.");
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        assert_eq!(addresses(&reply), [expected]);
        let before = resolver.upstream_queries();
        let again = ask_from(NOWHERE, resolver.addr, "video.test.");
        assert_eq!(addresses(&again), [expected]);
        assert_eq!(
            resolver.upstream_queries(),
            before,
            "answered from its cache"
        );
    }
}

/// With ECS off (the default), the option is ignored: the source address
/// chooses and no option comes back. With it on, the option's network
/// chooses, and comes back with the bits that decided (RFC 7871 7.2.1):
/// all 24 of a prefix that holds it, 0 for a name of a zone without
/// views, and 0 for SOURCE 0 (the client asked not to be placed; its
/// source address chooses).
#[test]
fn ecs_chooses_the_view_and_comes_back_with_its_scope_when_on() {
    let zones = Zones::write();
    let off = served(vec![zones.cdn()], AuthOptions::default());
    let reply = udp_from(
        ip(EAST),
        off.addr,
        &with_subnet("a1105.cdn.test.", "127.0.1.0", 24, false),
    );
    assert_eq!(
        (addresses(&reply), echoed(&reply)),
        (vec![EAST_A.to_string()], None)
    );

    let options = AuthOptions {
        ecs: true,
        ..AuthOptions::default()
    };
    let on = served(zones.cdn_server(None), options);
    let ask = |qname: &str, network: &str, source: u8| {
        let reply = udp_from(
            ip(EAST),
            on.addr,
            &with_subnet(qname, network, source, false),
        );
        assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
        (addresses(&reply), echoed(&reply))
    };
    let answer = |address: &str| vec![address.to_string()];
    assert_eq!(
        ask("a1105.cdn.test.", "127.0.1.0", 24),
        (answer(WEST_A), Some(("127.0.1.0".into(), 24, 24)))
    );
    // 127.0.2.0/24 is in the lab's /16 only; 23 bits tell it from the
    // east's and the west's /24s.
    assert_eq!(
        ask("a1105.cdn.test.", "127.0.2.0", 24),
        (answer(LAB_A), Some(("127.0.2.0".into(), 24, 23)))
    );
    assert_eq!(
        ask("a1105.cdn.test.", "10.0.0.0", 8),
        (answer(NOBODY_A), Some(("10.0.0.0".into(), 8, 2)))
    );
    let www = ask("www.test.", "127.0.1.0", 24);
    assert_eq!(
        www.1,
        Some(("127.0.1.0".into(), 24, 0)),
        "no views in test."
    );
    assert_eq!(
        ask("a1105.cdn.test.", "0.0.0.0", 0),
        (answer(EAST_A), Some(("0.0.0.0".into(), 0, 0)))
    );
}

/// RFC 7871 6 and 7.2.1: a malformed ECS option (ADDRESS longer than the
/// source prefix needs, bits set beyond it, an unknown family, a SCOPE in
/// a query) is FORMERR with an OPT record, from the authoritative server
/// and from a resolver alike, ECS on or off.
#[test]
fn a_malformed_client_subnet_option_is_formerr() {
    let lab = Lab::start(AuthOptions::default(), None);
    let resolver = lab.resolver(EAST, |_| {});
    let malformed: [&[u8]; 4] = [
        &[0, 1, 24, 0, 127, 0, 1, 0],
        &[0, 1, 20, 0, 127, 0, 31],
        &[0, 3, 0, 0],
        &[0, 1, 24, 24, 127, 0, 1],
    ];
    for option in malformed {
        let mut bytes = Ask::new("a1105.cdn.test.", RecordType::A)
            .rd()
            .edns(1232)
            .to_message()
            .to_bytes()
            .expect("encode");
        // The OPT record is last: RDLENGTH, then the option.
        let len = u16::try_from(option.len() + 4).expect("short");
        let at = bytes.len() - 2;
        bytes[at..].copy_from_slice(&len.to_be_bytes());
        bytes.extend_from_slice(&[0, 8]);
        bytes.extend_from_slice(&u16::try_from(option.len()).expect("short").to_be_bytes());
        bytes.extend_from_slice(option);
        for server in [lab.server(2), resolver.addr] {
            let reply = udp_raw_from(ip(EAST), server, &bytes, TIMEOUT).expect("an answer");
            let reply = Message::from_bytes(&reply).expect("decodes");
            assert_eq!(
                reply.metadata.response_code,
                ResponseCode::FormErr,
                "{option:?}"
            );
            assert!(reply.edns.is_some(), "FORMERR carries an OPT record");
        }
    }
}

/// Without ECS a resolver is one client to the CDN: its clients, wherever
/// they are, share its view and its cache. With ECS on, at the resolver
/// and the CDN, each client network gets its own view, cached for that
/// network only (RFC 7871 7.3), while answers of scope 0 are cached for
/// everyone; a client's own option comes back with the answer's scope.
#[test]
fn a_resolvers_cache_is_per_client_network_only_with_ecs() {
    let plain = Lab::start(AuthOptions::default(), None);
    let resolver = plain.resolver(EAST, |_| {});
    for from in [EAST, WEST, NOWHERE] {
        assert_eq!(
            addresses(&ask_from(from, resolver.addr, "video.test.")),
            [EAST_A]
        );
    }

    let options = AuthOptions {
        ecs: true,
        ..AuthOptions::default()
    };
    let lab = Lab::start(options, None);
    let resolver = lab.resolver(EAST, |config| config.ecs = true);
    let east_client = [127, 0, 0, 9];
    let west_client = [127, 0, 1, 9];
    assert_eq!(
        addresses(&ask_from(east_client, resolver.addr, "video.test.")),
        [EAST_A]
    );
    let after_east = resolver.upstream_queries();
    assert_eq!(
        addresses(&ask_from(west_client, resolver.addr, "video.test.")),
        [WEST_A]
    );
    let after_west = resolver.upstream_queries();
    assert_eq!(
        after_west - after_east,
        1,
        "the CNAME (scope 0) is everyone's: only a1105 is asked for the west"
    );
    assert_eq!(
        addresses(&ask_from(east_client, resolver.addr, "video.test.")),
        [EAST_A]
    );
    assert_eq!(
        addresses(&ask_from(west_client, resolver.addr, "video.test.")),
        [WEST_A]
    );
    assert_eq!(
        resolver.upstream_queries(),
        after_west,
        "each network's answer is cached"
    );
    let echo = udp_from(
        ip(NOWHERE),
        resolver.addr,
        &with_subnet("video.test.", "127.0.1.0", 24, true),
    );
    assert_eq!(addresses(&echo), [WEST_A]);
    assert_eq!(echoed(&echo), Some(("127.0.1.0".into(), 24, 24)));
    // A client that sends its whole address gets its own option back
    // (RFC 7871 7.2.1), not the /24 the resolver asked upstream for.
    let whole = udp_from(
        ip(NOWHERE),
        resolver.addr,
        &with_subnet("video.test.", "127.0.1.9", 32, true),
    );
    assert_eq!(addresses(&whole), [WEST_A]);
    assert_eq!(echoed(&whole), Some(("127.0.1.9".into(), 32, 24)));
}
