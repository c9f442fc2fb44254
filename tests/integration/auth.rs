//! The authoritative server over real sockets: every rule of RFC 1034 4.3.2
//! and of the request path (FORMERR, NOTIMP, EDNS, truncation, reload),
//! asked of the README's example zones (`zones/example.com.zone`,
//! `zones/example.net.zone`) served in-process on 127.0.0.1 and port 0.
//!
//! Each test checks the RCODE, the AA/TC/RA flags and every section.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;

use dnslab_authoritative::{AuthOptions, ZoneSource};
use hickory_proto::op::{Message, OpCode, ResponseCode};
use hickory_proto::rr::{DNSClass, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};

use crate::common::{
    self, lines, section, tcp, udp, udp_message, udp_raw, Ask, ScratchDir, ServedAuth, TIMEOUT,
};

/// The README's example: example.com and example.net on one server.
fn example_server() -> ServedAuth {
    ServedAuth::zones(example_sources(&common::repo_path("zones")))
}

fn example_sources(dir: &Path) -> Vec<ZoneSource> {
    vec![
        ZoneSource {
            origin: None,
            path: dir.join("example.com.zone"),
        },
        format!("example.net={}", dir.join("example.net.zone").display())
            .parse()
            .expect("NAME=FILE parses"),
    ]
}

/// The header bits a test asserts, in one comparable value.
#[derive(Debug, PartialEq, Eq)]
struct Flags {
    rcode: ResponseCode,
    aa: bool,
    tc: bool,
    ra: bool,
}

fn flags(msg: &Message) -> Flags {
    Flags {
        rcode: msg.metadata.response_code,
        aa: msg.metadata.authoritative,
        tc: msg.metadata.truncation,
        ra: msg.metadata.recursion_available,
    }
}

const AUTH: Flags = Flags {
    rcode: ResponseCode::NoError,
    aa: true,
    tc: false,
    ra: false,
};

fn with(rcode: ResponseCode, aa: bool) -> Flags {
    Flags { rcode, aa, ..AUTH }
}

/// The three record sections as sorted presentation lines.
fn sections(msg: &Message) -> [Vec<String>; 3] {
    [
        section(&msg.answers),
        section(&msg.authorities),
        section(&msg.additionals),
    ]
}

/// An empty section.
const NONE: Vec<String> = Vec::new();

const SOA_COM: &str =
    "example.com. 300 SOA ns1.example.com. hostmaster.example.com. 2026112201 7200 900 1209600 300";
const SOA_NET: &str =
    "example.net. 300 SOA ns1.example.com. hostmaster.example.net. 2026112201 7200 900 1209600 300";

/// The referral to `sub.example.com`: its NS, and their glue.
const SUB_NS: [&str; 2] = [
    "sub.example.com. 3600 NS ns1.sub.example.com.",
    "sub.example.com. 3600 NS ns2.sub.example.com.",
];
const SUB_GLUE: [&str; 2] = [
    "ns1.sub.example.com. 3600 A 192.0.2.53",
    "ns2.sub.example.com. 3600 A 192.0.2.54",
];

/// Asks `name`/`qtype` over UDP and checks the flags and every section
/// (answer, authority, additional) against presentation lines.
fn expect_udp(addr: SocketAddr, name: &str, qtype: RecordType, want: Flags, records: [&[&str]; 3]) {
    let reply = udp(addr, &Ask::new(name, qtype));
    assert_eq!(flags(&reply), want, "{name} {qtype}");
    assert_eq!(sections(&reply), records.map(lines), "{name} {qtype}");
}

/// A name that exists with the type asked: its RRset, AA=1, nothing else
/// (no NS in authority, as NSD and Knot answer minimal responses).
#[test]
fn exact_match_is_authoritative() {
    let server = example_server();
    let www = [
        "www.example.com. 3600 A 192.0.2.10",
        "www.example.com. 3600 A 192.0.2.11",
    ];
    expect_udp(
        server.addr,
        "www.example.com.",
        RecordType::A,
        AUTH,
        [&www, &[], &[]],
    );
}

/// Names match case-insensitively (RFC 4343), and the question comes back
/// exactly as asked, mixed case included: some clients (0x20 randomisation)
/// reject an answer whose question differs in case.
#[test]
fn case_insensitive_match_echoes_the_question_as_asked() {
    let server = example_server();
    // The case is set on the wire, to compare the echo octet by octet.
    let query = Ask::new("www.example.com.", RecordType::AAAA).to_message();
    let mut bytes = query.to_bytes().expect("encode");
    let mixed = b"\x03wWw\x07ExAmPlE\x03cOm\x00";
    bytes[12..12 + mixed.len()].copy_from_slice(mixed);
    let raw = udp_raw(server.addr, &bytes, TIMEOUT).expect("an answer");
    assert_eq!(
        raw.get(12..12 + mixed.len()),
        Some(&mixed[..]),
        "question echoed as sent"
    );
    let reply = Message::from_bytes(&raw).expect("decode");
    assert_eq!(flags(&reply), AUTH);
    let want = lines(&["www.example.com. 3600 AAAA 2001:db8::10"]);
    assert_eq!(sections(&reply), [want, NONE, NONE]);
}

/// RFC 1034 4.3.2 step 3a: a CNAME is followed, across the zones this
/// server is authoritative for: alias -> alias2 -> www in example.com, and
/// external -> www.example.net in the second zone.
#[test]
fn cname_chain_is_followed_within_and_across_zones() {
    let server = example_server();
    let chain = [
        "alias.example.com. 3600 CNAME alias2.example.com.",
        "alias2.example.com. 3600 CNAME www.example.com.",
        "www.example.com. 3600 A 192.0.2.10",
        "www.example.com. 3600 A 192.0.2.11",
    ];
    expect_udp(
        server.addr,
        "alias.example.com.",
        RecordType::A,
        AUTH,
        [&chain, &[], &[]],
    );
    let across = [
        "external.example.com. 3600 CNAME www.example.net.",
        "www.example.net. 3600 A 198.51.100.10",
    ];
    expect_udp(
        server.addr,
        "external.example.com.",
        RecordType::A,
        AUTH,
        [&across, &[], &[]],
    );
}

/// Step 3b: below a zone cut the server is not authoritative: AA=0, the
/// child's NS in authority and their glue addresses in additional.
#[test]
fn below_a_delegation_is_a_referral_with_glue() {
    let server = example_server();
    let referral = with(ResponseCode::NoError, false);
    expect_udp(
        server.addr,
        "host.sub.example.com.",
        RecordType::A,
        referral,
        [&[], &SUB_NS, &SUB_GLUE],
    );
}

/// RFC 2308 3 and 5: NXDOMAIN carries the zone's SOA, with TTL the minimum
/// of the SOA's TTL (3600) and its MINIMUM field (300).
#[test]
fn nxdomain_carries_soa_with_negative_ttl() {
    let server = example_server();
    let nxdomain = with(ResponseCode::NXDomain, true);
    expect_udp(
        server.addr,
        "nope.example.com.",
        RecordType::A,
        nxdomain,
        [&[], &[SOA_COM], &[]],
    );
}

/// RFC 2308 2.2: a name that exists without the type asked is NODATA:
/// NOERROR, empty answer, SOA in authority.
#[test]
fn missing_type_is_nodata() {
    let server = example_server();
    expect_udp(
        server.addr,
        "mail.example.com.",
        RecordType::AAAA,
        AUTH,
        [&[], &[SOA_COM], &[]],
    );
}

/// RFC 4592 2.2.2 / RFC 8020: `ent` owns nothing but has a child
/// (`leaf.ent`), so it exists: NODATA, not NXDOMAIN.
#[test]
fn empty_non_terminal_is_nodata() {
    let server = example_server();
    expect_udp(
        server.addr,
        "ent.example.com.",
        RecordType::A,
        AUTH,
        [&[], &[SOA_COM], &[]],
    );
}

/// RFC 4592 3.3.1: a name that does not exist under `wild` is synthesised
/// from `*.wild`, with the owner set to the name asked.
#[test]
fn wildcard_synthesises_the_name_asked() {
    let server = example_server();
    let txt = ["anything.wild.example.com. 3600 TXT synthesised from *.wild"];
    expect_udp(
        server.addr,
        "anything.wild.example.com.",
        RecordType::TXT,
        AUTH,
        [&txt, &[], &[]],
    );
}

/// RFC 4592 2.2.1: a wildcard only covers names that do not exist.
/// `host.wild` exists, so it gets its own A and NODATA for TXT.
#[test]
fn wildcard_does_not_apply_where_the_name_exists() {
    let server = example_server();
    let a = ["host.wild.example.com. 3600 A 192.0.2.81"];
    expect_udp(
        server.addr,
        "host.wild.example.com.",
        RecordType::A,
        AUTH,
        [&a, &[], &[]],
    );
    expect_udp(
        server.addr,
        "host.wild.example.com.",
        RecordType::TXT,
        AUTH,
        [&[], &[SOA_COM], &[]],
    );
}

/// RFC 1034 4.3.2 step 3b comes before 3c: a name below a delegation is a
/// referral, even where nothing below the cut exists in this zone.
#[test]
fn no_wildcard_or_nxdomain_below_a_delegation() {
    let server = example_server();
    let referral = with(ResponseCode::NoError, false);
    expect_udp(
        server.addr,
        "deep.down.sub.example.com.",
        RecordType::TXT,
        referral,
        [&[], &SUB_NS, &SUB_GLUE],
    );
}

/// RFC 6672 2.2: a name below a DNAME owner gets the DNAME and a CNAME
/// synthesised with the substituted target (TTL of the DNAME), then the
/// target is followed into example.net; there, a name that does not exist
/// is NXDOMAIN with example.net's SOA.
#[test]
fn dname_rewrites_and_follows() {
    let server = example_server();
    // hickory-proto without its dnssec features shows DNAME RDATA as
    // base64 of the wire form: this is `example.net.`.
    let dname = "legacy.example.com. 3600 DNAME B2V4YW1wbGUDbmV0AA==";
    let found = [
        dname,
        "www.legacy.example.com. 3600 CNAME www.example.net.",
        "www.example.net. 3600 A 198.51.100.10",
    ];
    expect_udp(
        server.addr,
        "www.legacy.example.com.",
        RecordType::A,
        AUTH,
        [&found, &[], &[]],
    );
    let gone = [
        dname,
        "gone.legacy.example.com. 3600 CNAME gone.example.net.",
    ];
    let nxdomain = with(ResponseCode::NXDomain, true);
    expect_udp(
        server.addr,
        "gone.legacy.example.com.",
        RecordType::A,
        nxdomain,
        [&gone, &[SOA_NET], &[]],
    );
}

/// RFC 1035 3.3.9, RFC 2782, RFC 1034 4.3.2 step 6: the addresses of MX
/// exchanges, SRV targets and NS hosts in the zone go in additional.
#[test]
fn additional_addresses_for_mx_srv_and_ns() {
    let server = example_server();
    let mx = ["example.com. 3600 MX 10 mail.example.com."];
    let mail = ["mail.example.com. 3600 A 192.0.2.25"];
    expect_udp(
        server.addr,
        "example.com.",
        RecordType::MX,
        AUTH,
        [&mx, &[], &mail],
    );
    let srv = ["_sip._tcp.example.com. 3600 SRV 10 60 5060 sip.example.com."];
    let sip = ["sip.example.com. 3600 A 192.0.2.50"];
    expect_udp(
        server.addr,
        "_sip._tcp.example.com.",
        RecordType::SRV,
        AUTH,
        [&srv, &[], &sip],
    );
    let ns = [
        "example.com. 3600 NS ns1.example.com.",
        "example.com. 3600 NS ns2.example.com.",
    ];
    let hosts = [
        "ns1.example.com. 3600 A 192.0.2.1",
        "ns2.example.com. 3600 A 192.0.2.2",
        "ns2.example.com. 3600 AAAA 2001:db8::2",
    ];
    expect_udp(
        server.addr,
        "example.com.",
        RecordType::NS,
        AUTH,
        [&ns, &[], &hosts],
    );
}

/// A name in no zone of this server is REFUSED (RFC 1035 4.1.1): an
/// authoritative server does not guess, and does not refer to the root.
#[test]
fn name_outside_every_zone_is_refused() {
    let server = example_server();
    let reply = udp(server.addr, &Ask::new("www.example.org.", RecordType::A));
    assert_eq!(flags(&reply), with(ResponseCode::Refused, false));
    assert_eq!(reply.queries[0].name().to_string(), "www.example.org.");
    assert_eq!(sections(&reply), [NONE, NONE, NONE]);
}

/// QCLASS ANY (RFC 1035 3.2.5) gets the IN data, as from NSD and Knot,
/// without AA as from NSD: the server holds no other class, so it cannot
/// vouch for "any" (RFC 6895 3.2). A negative answer keeps its SOA.
#[test]
fn class_any_is_answered_from_in_without_authority() {
    let server = example_server();
    let ask = |name: &str| {
        let mut query = Ask::new(name, RecordType::A).to_message();
        query.queries[0].set_query_class(DNSClass::ANY);
        let reply = udp_message(server.addr, &query, TIMEOUT).expect("an answer");
        assert_eq!(
            reply.queries[0].query_class(),
            DNSClass::ANY,
            "question echoed"
        );
        reply
    };
    let www = ask("www.example.com.");
    assert_eq!(flags(&www), with(ResponseCode::NoError, false));
    let addresses = lines(&[
        "www.example.com. 3600 A 192.0.2.10",
        "www.example.com. 3600 A 192.0.2.11",
    ]);
    assert_eq!(sections(&www), [addresses, NONE, NONE]);
    let nosuch = ask("nosuch.example.com.");
    assert_eq!(flags(&nosuch), with(ResponseCode::NXDomain, false));
    assert_eq!(sections(&nosuch), [NONE, lines(&[SOA_COM]), NONE]);
}

/// Only class IN is served: a CHAOS question is REFUSED with the question
/// echoed, as NSD answers it.
#[test]
fn other_classes_are_refused() {
    let server = example_server();
    let mut query = Ask::new("www.example.com.", RecordType::A).to_message();
    query.queries[0].set_query_class(DNSClass::CH);
    let reply = udp_message(server.addr, &query, TIMEOUT).expect("an answer");
    assert_eq!(flags(&reply), with(ResponseCode::Refused, false));
    assert_eq!(reply.queries.len(), 1);
    assert_eq!(sections(&reply), [NONE, NONE, NONE]);
}

/// Zone transfers are offered only to the clients a zone's
/// `allow_transfer` lists, none by default (NSD's and Knot's default): AXFR
/// and IXFR are REFUSED, with the question echoed. Other non-data types
/// (OPT, MAILA) are NODATA, as Knot answers them.
#[test]
fn transfers_are_refused_and_other_meta_types_are_nodata() {
    let server = example_server();
    for qtype in [RecordType::AXFR, RecordType::IXFR] {
        let reply = udp(server.addr, &Ask::new("example.com.", qtype));
        assert_eq!(flags(&reply), with(ResponseCode::Refused, false), "{qtype}");
        assert_eq!(reply.queries[0].query_type(), qtype);
        assert_eq!(sections(&reply), [NONE, NONE, NONE], "{qtype}");
    }
    for qtype in [RecordType::OPT, RecordType::Unknown(254)] {
        let nodata = [&[][..], &[SOA_COM], &[]];
        expect_udp(server.addr, "example.com.", qtype, AUTH, nodata);
    }
}

/// RFC 1035 4.1.1: opcodes other than QUERY, NOTIFY and UPDATE (here
/// IQUERY, obsolete since RFC 3425, and STATUS) get NOTIMP, with the opcode and ID echoed; with an OPT record
/// when the query had one (RFC 6891 6.1.1, as from Knot). RD and CD are
/// not echoed: BIND clears every flag of a request it cannot handle, and
/// nothing was recursed or checked.
#[test]
fn other_opcodes_are_not_implemented() {
    let server = example_server();
    for opcode in [OpCode::Unknown(1), OpCode::Status] {
        for edns in [None, Some(1232)] {
            let mut ask = Ask::new("example.com.", RecordType::SOA);
            ask.edns = edns;
            let mut query = ask.to_message();
            query.metadata.op_code = opcode;
            query.metadata.recursion_desired = true;
            query.metadata.checking_disabled = true;
            let reply = udp_message(server.addr, &query, TIMEOUT).expect("an answer");
            assert_eq!(flags(&reply), with(ResponseCode::NotImp, false));
            assert!(!reply.metadata.recursion_desired, "{opcode:?} RD cleared");
            assert!(!reply.metadata.checking_disabled, "{opcode:?} CD cleared");
            assert_eq!(reply.metadata.op_code, opcode);
            assert_eq!(sections(&reply), [NONE, NONE, NONE]);
            assert_eq!(reply.edns.is_some(), edns.is_some(), "{opcode:?} OPT");
        }
    }
}

/// A query with zero or two questions is FORMERR, with no question in the
/// response (there is no single question to echo), and an OPT record when
/// the query had one (RFC 6891 6.1.1; Knot and NSD send one too).
#[test]
fn zero_or_two_questions_are_formerr() {
    let server = example_server();
    for edns in [None, Some(1232)] {
        let mut ask = Ask::new("example.com.", RecordType::A);
        ask.edns = edns;
        let mut none = ask.to_message();
        none.queries.clear();
        let mut two = ask.to_message();
        two.queries.push(two.queries[0].clone());
        for query in [none, two] {
            let reply = udp_message(server.addr, &query, TIMEOUT).expect("an answer");
            assert_eq!(flags(&reply), with(ResponseCode::FormErr, false));
            assert_eq!(reply.metadata.id, query.metadata.id);
            assert!(reply.queries.is_empty());
            assert_eq!(sections(&reply), [NONE, NONE, NONE]);
            assert_eq!(reply.edns.is_some(), edns.is_some(), "OPT in the FORMERR");
        }
    }
}

/// Never answer a response (QR=1): two servers answering each other's
/// answers would loop forever. Nor a packet too short to hold a header.
/// A good query afterwards proves the server is alive and the silence was
/// a choice.
#[test]
fn responses_and_garbage_get_no_answer() {
    let server = example_server();
    let mut response = Ask::new("www.example.com.", RecordType::A).to_message();
    response.metadata.message_type = hickory_proto::op::MessageType::Response;
    let bytes = response.to_bytes().expect("encode");
    let quiet = std::time::Duration::from_millis(500);
    assert_eq!(
        udp_raw(server.addr, &bytes, quiet),
        None,
        "QR=1 was answered"
    );
    assert_eq!(udp_raw(server.addr, b"\x12\x34\x00\x00\x00", quiet), None);
    let reply = udp(server.addr, &Ask::new("www.example.com.", RecordType::A));
    assert_eq!(flags(&reply), AUTH);
}

/// RFC 6891 7: OPT in the response iff the query had one, advertising our
/// payload size (1232); without EDNS the response has no OPT.
#[test]
fn edns_is_echoed_only_when_asked() {
    let server = example_server();
    let reply = udp(
        server.addr,
        &Ask::new("www.example.com.", RecordType::A).edns(4096),
    );
    assert_eq!(flags(&reply), AUTH);
    let edns = reply.edns.as_ref().expect("OPT in the response");
    assert_eq!((edns.max_payload(), edns.version()), (1232, 0));
    assert_eq!(reply.answers.len(), 2);

    let reply = udp(server.addr, &Ask::new("www.example.com.", RecordType::A));
    assert!(reply.edns.is_none());
    assert_eq!(reply.additionals.len(), 0);
}

/// RFC 6891 6.1.3: EDNS version 1 is not implemented: BADVERS (extended
/// RCODE 16, its high bits in the OPT), OPT with version 0, no records.
#[test]
fn edns_version_1_is_badvers() {
    let server = example_server();
    let mut query = Ask::new("www.example.com.", RecordType::A)
        .edns(1232)
        .to_message();
    query.edns.as_mut().expect("edns").set_version(1);
    let reply = udp_message(server.addr, &query, TIMEOUT).expect("an answer");
    // hickory reads 16 as BADSIG, which shares the number with BADVERS.
    assert_eq!(u16::from(reply.metadata.response_code), 16);
    assert_eq!(reply.edns.as_ref().map(|e| e.version()), Some(0));
    assert!(!reply.metadata.authoritative);
    assert_eq!(sections(&reply), [NONE, NONE, NONE]);
}

/// RFC 2181 9: 40 TXT records do not fit in 1232 bytes, so the UDP answer
/// is header + question (+ OPT) with TC=1; the same question over TCP gets
/// every record.
#[test]
fn large_answer_is_truncated_over_udp_and_complete_over_tcp() {
    let server = example_server();
    let ask = Ask::new("big.example.com.", RecordType::TXT).edns(4096);
    let reply = udp(server.addr, &ask);
    assert_eq!(flags(&reply), Flags { tc: true, ..AUTH });
    assert_eq!(reply.queries.len(), 1);
    assert!(reply.edns.is_some());
    assert_eq!(sections(&reply), [NONE, NONE, NONE]);

    let reply = tcp(server.addr, &ask);
    assert_eq!(flags(&reply), AUTH);
    assert_eq!(reply.answers.len(), 40);
    let first = "big.example.com. 3600 TXT record 00 of a deliberately large RRset, to force truncation over UDP";
    assert_eq!(section(&reply.answers)[0], first);
    assert_eq!(sections(&reply)[1..], [NONE, NONE]);
}

/// `max_udp_payload` is the server's ceiling: raised to 4096, the 3.3 kB
/// RRset goes over UDP to a client offering 4096, but a client offering
/// 1232 still gets TC=1; OPT advertises the configured size.
#[test]
fn configured_udp_payload_limit_is_honoured() {
    let sources = example_sources(&common::repo_path("zones"));
    let options = AuthOptions {
        max_udp_payload: 4096,
        ..AuthOptions::default()
    };
    let server = ServedAuth::with_options(sources, options);
    let reply = udp(
        server.addr,
        &Ask::new("big.example.com.", RecordType::TXT).edns(4096),
    );
    assert_eq!(flags(&reply), AUTH);
    assert_eq!(reply.answers.len(), 40);
    assert_eq!(reply.edns.as_ref().map(|e| e.max_payload()), Some(4096));
    assert_eq!(sections(&reply)[1..], [NONE, NONE]);

    let reply = udp(
        server.addr,
        &Ask::new("big.example.com.", RecordType::TXT).edns(1232),
    );
    assert_eq!(flags(&reply), Flags { tc: true, ..AUTH });
    assert_eq!(sections(&reply), [NONE, NONE, NONE]);
}

/// RFC 7766 6.2.1: several queries written at once on one connection are
/// all answered, each matched by its ID.
#[test]
fn pipelined_tcp_queries_are_all_answered() {
    let server = example_server();
    let mut stream = TcpStream::connect_timeout(&server.addr, TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let asks = [
        ("www.example.com.", RecordType::A, ResponseCode::NoError, 2),
        (
            "nope.example.com.",
            RecordType::A,
            ResponseCode::NXDomain,
            0,
        ),
        ("mail.example.com.", RecordType::A, ResponseCode::NoError, 1),
    ];
    let mut expected = std::collections::HashMap::new();
    for (name, qtype, rcode, answers) in asks {
        let query = Ask::new(name, qtype).to_message();
        common::tcp_send(&mut stream, &query.to_bytes().expect("encode"));
        expected.insert(query.metadata.id, (name, rcode, answers));
    }
    for _ in 0..asks.len() {
        let reply =
            Message::from_bytes(&common::tcp_recv(&mut stream).expect("reply")).expect("decode");
        let (name, rcode, answers) = expected.remove(&reply.metadata.id).expect("an ID we sent");
        assert_eq!(reply.queries[0].name().to_string(), name);
        assert_eq!(flags(&reply), with(rcode, true));
        assert_eq!(reply.answers.len(), answers, "{name}");
    }
}

/// RFC 8482 4.1: ANY is answered with one RRset, the first at the name in
/// file order (the SOA at the apex, as NSD answers), so that ANY cannot
/// amplify; at a name without records, NODATA.
#[test]
fn any_gets_one_rrset() {
    let server = example_server();
    let soa = "example.com. 3600 SOA ns1.example.com. hostmaster.example.com. 2026112201 7200 900 1209600 300";
    expect_udp(
        server.addr,
        "example.com.",
        RecordType::ANY,
        AUTH,
        [&[soa], &[], &[]],
    );
    let www = "www.example.com. 3600 A 192.0.2.10";
    let reply = udp(server.addr, &Ask::new("www.example.com.", RecordType::ANY));
    assert_eq!(flags(&reply), AUTH);
    assert!(
        section(&reply.answers).contains(&www.to_string()),
        "{:?}",
        sections(&reply)
    );
    assert_eq!(reply.answers.len(), 2, "one RRset: the two A records");
    expect_udp(
        server.addr,
        "ent.example.com.",
        RecordType::ANY,
        AUTH,
        [&[], &[SOA_COM], &[]],
    );
}

/// SIGHUP's reload: a good reload changes answers at once (prepared
/// answers of the old zone are dropped with it); a broken file leaves the
/// old zones serving and reports the file.
#[test]
fn reload_swaps_good_zones_and_keeps_old_ones_on_error() {
    let dir = ScratchDir::new("auth");
    for file in ["example.com.zone", "example.net.zone"] {
        std::fs::copy(common::repo_path("zones").join(file), dir.join(file)).expect("copy zone");
    }
    let server = ServedAuth::zones(example_sources(&dir));
    let ask = Ask::new("mail.example.com.", RecordType::A);
    assert_eq!(
        section(&udp(server.addr, &ask).answers),
        ["mail.example.com. 3600 A 192.0.2.25"]
    );

    let zone = dir.join("example.com.zone");
    let text = std::fs::read_to_string(&zone).expect("read zone");
    let changed = text
        .replace("192.0.2.25", "192.0.2.26")
        .replace("2026112201", "2026112202");
    std::fs::write(&zone, &changed).expect("write zone");
    let summary = server.auth.reload().expect("good reload");
    assert!(summary.zones.iter().any(|z| z.serial == 2026112202));
    let reply = udp(server.addr, &ask);
    assert_eq!(flags(&reply), AUTH);
    assert_eq!(
        section(&reply.answers),
        ["mail.example.com. 3600 A 192.0.2.26"]
    );

    std::fs::write(&zone, format!("{changed}\nbroken IN A not-an-address\n")).expect("write zone");
    let error = server.auth.reload().expect_err("broken zone is rejected");
    assert!(error.to_string().contains("example.com.zone"), "{error}");
    let reply = udp(server.addr, &ask);
    assert_eq!(flags(&reply), AUTH);
    assert_eq!(
        section(&reply.answers),
        ["mail.example.com. 3600 A 192.0.2.26"]
    );
}

// ------------------------------------------------ the `dnslab auth` binary ---

/// `dnslab auth` started as a child process, killed by its PID on drop,
/// its stderr read line by line as it is written.
struct Binary {
    process: common::Process,
    stderr: std::sync::mpsc::Receiver<String>,
}

impl Binary {
    fn start(args: &[&str]) -> Binary {
        let mut process = common::Process::spawn(
            common::dnslab()
                .arg("auth")
                .args(args)
                .env("NO_COLOR", "1")
                .env("RUST_LOG", "info")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped()),
        );
        let stderr = process.child().stderr.take().expect("piped stderr");
        let (lines, received) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        Binary {
            process,
            stderr: received,
        }
    }

    /// The next stderr line containing `needle`, within a generous bound.
    fn line_with(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => continue,
                Err(e) => panic!("no stderr line with {needle:?}: {e}"),
            }
        }
    }

    /// The address from the "serving" line.
    fn serving_addr(&self) -> SocketAddr {
        let serving = self.line_with("serving");
        serving
            .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == ':'))
            .find_map(|word| word.parse().ok())
            .unwrap_or_else(|| panic!("no address in {serving:?}"))
    }

    /// Waits (bounded) for the process to exit; its exit code and stderr.
    fn exit(mut self) -> (Option<i32>, String) {
        let status = self
            .process
            .wait_exit(std::time::Duration::from_secs(20))
            .expect("dnslab auth did not exit");
        let stderr: Vec<String> = self.stderr.iter().collect();
        (status.code(), stderr.join("\n"))
    }

    fn signal(&self, signal: &str) {
        self.process.signal(signal);
    }
}

/// A zone that does not load stops `dnslab auth` before it serves: exit
/// code 1 and the error names the file and line.
#[test]
fn auth_command_names_the_bad_zone_line_and_exits_1() {
    let dir = ScratchDir::new("auth");
    let zone = dir.join("bad.zone");
    let text = "$TTL 300\n@ IN SOA ns hm 1 2 3 4 5\nwww IN A 300.1.2.3\n";
    std::fs::write(&zone, text).expect("write zone");
    let zone_arg = format!("bad.test={}", zone.display());
    let binary = Binary::start(&["--listen", "127.0.0.1:0", "--zone", &zone_arg]);
    let (code, stderr) = binary.exit();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:3", zone.display())),
        "{stderr}"
    );
}

/// A port that is taken stops `dnslab auth` with exit code 1 and an error
/// naming the address.
#[test]
fn auth_command_names_a_busy_address_and_exits_1() {
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind a port");
    let addr = taken.local_addr().expect("address").to_string();
    let zone = common::repo_path("zones/example.net.zone");
    let zone_arg = format!("example.net={}", zone.display());
    let binary = Binary::start(&["--listen", &addr, "--zone", &zone_arg]);
    let (code, stderr) = binary.exit();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(&addr), "{stderr}");
}

/// The whole daemon: SIGHUP re-reads the zone file (the answer changes),
/// a broken file on the next SIGHUP is logged and the zone keeps serving,
/// and SIGTERM stops it cleanly (exit code 0).
#[test]
fn auth_command_reloads_on_sighup_and_stops_on_sigterm() {
    let dir = ScratchDir::new("auth");
    let zone = dir.join("example.net.zone");
    let text = std::fs::read_to_string(common::repo_path("zones/example.net.zone")).expect("read");
    std::fs::write(&zone, &text).expect("write zone");
    let zone_arg = format!("example.net={}", zone.display());
    let binary = Binary::start(&[
        "--listen",
        "127.0.0.1:0",
        "--zone",
        &zone_arg,
        "--udp-workers",
        "1",
    ]);
    let addr = binary.serving_addr();
    let ask = Ask::new("www.example.net.", RecordType::A);
    assert_eq!(
        section(&udp(addr, &ask).answers),
        ["www.example.net. 3600 A 198.51.100.10"]
    );

    std::fs::write(&zone, text.replace("198.51.100.10", "198.51.100.11")).expect("write zone");
    binary.signal("-HUP");
    binary.line_with("zone reloaded");
    let reply = udp(addr, &ask);
    assert_eq!(flags(&reply), AUTH);
    assert_eq!(
        section(&reply.answers),
        ["www.example.net. 3600 A 198.51.100.11"]
    );

    std::fs::write(&zone, "$TTL 300\n@ IN SOA broken\n").expect("write zone");
    binary.signal("-HUP");
    binary.line_with("reload failed");
    assert_eq!(
        section(&udp(addr, &ask).answers),
        ["www.example.net. 3600 A 198.51.100.11"]
    );

    binary.signal("-TERM");
    let (code, stderr) = binary.exit();
    assert_eq!(code, Some(0), "{stderr}");
}

/// `--log-queries`: each query is one info line naming the client, the
/// question and the outcome, which is how `dnslab up` shows a walk.
#[test]
fn auth_command_logs_each_query_in_one_line() {
    let zones: Vec<String> = example_sources(&common::repo_path("zones"))
        .iter()
        .map(ToString::to_string)
        .collect();
    let binary = Binary::start(&[
        "--listen",
        "127.0.0.1:0",
        "--zone",
        &zones[0],
        "--zone",
        &zones[1],
        "--log-queries",
    ]);
    let addr = binary.serving_addr();
    let reply = udp(addr, &Ask::new("host.sub.example.com.", RecordType::A));
    assert_eq!(flags(&reply), with(ResponseCode::NoError, false));
    let line = binary.line_with("host.sub.example.com.");
    assert!(
        line.contains("outcome=referral to sub.example.com."),
        "{line}"
    );
    assert!(line.contains("qtype=A"), "{line}");
    udp(addr, &Ask::new("nope.example.com.", RecordType::AAAA));
    let line = binary.line_with("nope.example.com.");
    assert!(line.contains("outcome=NXDOMAIN"), "{line}");
}
