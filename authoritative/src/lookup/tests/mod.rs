use std::sync::Arc;

use hickory_proto::op::ResponseCode;

use super::*;
use crate::zone::store::testing::{texts, zone};

/// The zone most tests ask: one of each thing RFC 1034 4.3.2 and its
/// updates distinguish. Negative TTL: min(3600, 300) = 300.
const EXAMPLE: &str = "
    @ 3600 IN SOA ns1.example. admin.example. 1 7200 900 1209600 300
    @ 3600 IN NS ns1.example.
    @ 3600 IN NS ns.example.net.
    ns1 3600 IN A 192.0.2.53
    www 300 IN A 192.0.2.1
    www 300 IN A 192.0.2.2
    www 300 IN TXT \"web\"
    Mixed 300 IN A 192.0.2.7
    x.ent 300 IN A 192.0.2.3
    alias 300 IN CNAME www.example.
    to-other 300 IN CNAME www.other.
    to-nx 300 IN CNAME missing.other.
    to-outside 300 IN CNAME www.example.net.
    to-cut 300 IN CNAME host.sub.example.
    loop1 300 IN CNAME loop2.example.
    loop2 300 IN CNAME loop1.example.
    mail 300 IN MX 10 mx1.example.
    mail 300 IN MX 20 mx1.example.
    mail 300 IN MX 30 www.other.
    mail 300 IN MX 40 mx.example.net.
    mx1 300 IN A 192.0.2.25
    mx1 300 IN AAAA 2001:db8::25
    _sip._udp 300 IN SRV 0 5 5060 sip.example.
    sip 300 IN AAAA 2001:db8::5060
    sub 3600 IN NS ns1.sub.example.
    sub 3600 IN NS ns1.example.
    sub 3600 IN NS ns.example.org.
    ns1.sub 3600 IN A 192.0.2.54
    signed 3600 IN NS ns1.example.
    signed 3600 IN DS 12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE5F1E5B0E9F0E5A2B3C4D5E6F
    *.wild 300 IN A 192.0.2.99
    host.wild 300 IN TXT \"real\"
    y.e.wild 300 IN A 192.0.2.4
    cut.wild 3600 IN NS ns1.example.
    *.cwild 300 IN CNAME www.example.
    dname 300 IN DNAME example.net.
    dname-in 300 IN DNAME other.
    long 300 IN DNAME aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.
";

/// A second zone on the same server. Negative TTL: min(60, 600) = 60.
const OTHER: &str = "
    @ 60 IN SOA ns.other. admin.other. 1 7200 900 1209600 600
    @ 3600 IN NS ns.other.
    ns 3600 IN A 198.51.100.53
    www 300 IN A 198.51.100.1
    mx 300 IN MX 5 mx1.example.
";

const EXAMPLE_SOA: &str = "example. 300 IN SOA ns1.example. admin.example. 1 7200 900 1209600 300";
const OTHER_SOA: &str = "other. 60 IN SOA ns.other. admin.other. 1 7200 900 1209600 600";

fn catalog() -> Catalog {
    Catalog::new(vec![
        Arc::new(zone("example.", EXAMPLE)),
        Arc::new(zone("other.", OTHER)),
    ])
    .unwrap()
}

/// The plain response [`lookup`] makes.
fn records_of(catalog: &Catalog, qname: &Name, qtype: RecordType) -> ResponseRecords {
    lookup(catalog, qname, qtype).into_records()
}

fn ask(qname: &str, qtype: RecordType) -> ResponseRecords {
    records_of(&catalog(), &Name::from_ascii(qname).unwrap(), qtype)
}

/// Asserts every part of a response; sections as record texts.
#[track_caller]
fn check(
    response: &ResponseRecords,
    rcode: ResponseCode,
    aa: bool,
    answers: &[&str],
    authority: &[&str],
    additionals: &[&str],
) {
    assert_eq!(response.rcode, rcode, "rcode of {response:#?}");
    assert_eq!(response.authoritative, aa, "AA of {response:#?}");
    assert_eq!(texts(&response.answers), answers, "answers");
    assert_eq!(texts(&response.authority), authority, "authority");
    assert_eq!(texts(&response.additionals), additionals, "additionals");
}

/// An authoritative NOERROR with `answers` and nothing else.
#[track_caller]
fn assert_answer(qname: &str, qtype: RecordType, answers: &[&str]) {
    check(&ask(qname, qtype), NOERROR, true, answers, &[], &[]);
}

/// NODATA from example.: NOERROR, AA, only the negative SOA.
#[track_caller]
fn assert_nodata(qname: &str, qtype: RecordType) {
    check(&ask(qname, qtype), NOERROR, true, &[], &[EXAMPLE_SOA], &[]);
}

/// NXDOMAIN from example.: AA, only the negative SOA.
#[track_caller]
fn assert_nxdomain(qname: &str) {
    check(
        &ask(qname, RecordType::A),
        NXDOMAIN,
        true,
        &[],
        &[EXAMPLE_SOA],
        &[],
    );
}

/// The referral to sub.example.: its NS, and glue for the two targets
/// in example. (none for the one in example.org.).
const SUB_NS: [&str; 3] = [
    "sub.example. 3600 IN NS ns1.sub.example.",
    "sub.example. 3600 IN NS ns1.example.",
    "sub.example. 3600 IN NS ns.example.org.",
];
const SUB_GLUE: [&str; 2] = [
    "ns1.sub.example. 3600 IN A 192.0.2.54",
    "ns1.example. 3600 IN A 192.0.2.53",
];

const NOERROR: ResponseCode = ResponseCode::NoError;
const NXDOMAIN: ResponseCode = ResponseCode::NXDomain;

#[test]
fn a_name_in_no_zone_is_refused_without_records() {
    let response = ask("www.example.org.", RecordType::A);
    check(&response, ResponseCode::Refused, false, &[], &[], &[]);
}

#[test]
fn an_exact_match_answers_the_rrset_authoritatively() {
    assert_answer(
        "WWW.EXAMPLE.",
        RecordType::A,
        &[
            "www.example. 300 IN A 192.0.2.1",
            "www.example. 300 IN A 192.0.2.2",
        ],
    );
}

#[test]
fn answers_keep_the_owner_spelling_of_the_zone() {
    assert_answer(
        "mixed.example.",
        RecordType::A,
        &["Mixed.example. 300 IN A 192.0.2.7"],
    );
}

#[test]
fn signatures_are_answered_with_their_ttls_and_a_cnames_own_are_not_followed() {
    let signed = zone(
        "signed.",
        "@ 3600 IN SOA ns.signed. admin.signed. 1 7200 900 1209600 300
         @ 3600 IN NS ns.signed.
         ns 3600 IN A 192.0.2.53
         www 300 IN A 192.0.2.1
         www 300 IN RRSIG A 1
         www 60 IN RRSIG NSEC 2
         alias 300 IN CNAME www.signed.
         alias 300 IN RRSIG CNAME 3",
    );
    let catalog = Catalog::new(vec![Arc::new(signed)]).unwrap();
    let ask = |qname: &str, qtype| records_of(&catalog, &Name::from_ascii(qname).unwrap(), qtype);
    let summary = |response: &ResponseRecords| -> Vec<(String, RecordType, u32)> {
        response
            .answers
            .iter()
            .map(|r| (r.name.to_string(), r.record_type(), r.ttl))
            .collect()
    };
    let www = ask("www.signed.", RecordType::RRSIG);
    assert_eq!((www.rcode, www.authoritative), (NOERROR, true));
    assert_eq!(
        summary(&www),
        [
            ("www.signed.".into(), RecordType::RRSIG, 300),
            ("www.signed.".into(), RecordType::RRSIG, 60)
        ]
    );
    // RFC 4035 2.5: the CNAME's own signature, not the target's.
    let alias = ask("alias.signed.", RecordType::RRSIG);
    assert_eq!(
        summary(&alias),
        [("alias.signed.".into(), RecordType::RRSIG, 300)]
    );
    assert!(alias.authority.is_empty() && alias.additionals.is_empty());
    // Any other type still follows the CNAME.
    assert_eq!(
        summary(&ask("alias.signed.", RecordType::A)),
        [
            ("alias.signed.".into(), RecordType::CNAME, 300),
            ("www.signed.".into(), RecordType::A, 300)
        ]
    );
}

#[test]
fn a_missing_type_is_nodata_with_the_negative_soa() {
    assert_nodata("www.example.", RecordType::AAAA);
}

#[test]
fn a_missing_name_is_nxdomain_with_the_negative_soa() {
    assert_nxdomain("nope.example.");
    assert_nxdomain("deeper.www.example.");
}

#[test]
fn an_empty_non_terminal_is_nodata_not_nxdomain() {
    assert_nodata("ent.example.", RecordType::A);
}

#[test]
fn any_answers_the_first_rrset_only() {
    assert_answer(
        "www.example.",
        RecordType::ANY,
        &[
            "www.example. 300 IN A 192.0.2.1",
            "www.example. 300 IN A 192.0.2.2",
        ],
    );
    assert_answer(
        "alias.example.",
        RecordType::ANY,
        &["alias.example. 300 IN CNAME www.example."],
    );
    assert_nodata("ent.example.", RecordType::ANY);
}

/// 3.b: glue for the targets at or below the cut and for in-zone ones
/// elsewhere; none for out-of-zone targets.
#[test]
fn a_name_below_a_cut_gets_a_referral_with_glue() {
    let response = ask("host.sub.example.", RecordType::A);
    check(&response, NOERROR, false, &[], &SUB_NS, &SUB_GLUE);
}

#[test]
fn the_cut_itself_gets_a_referral_for_every_type_but_ds() {
    let below = ask("host.sub.example.", RecordType::A);
    for qtype in [RecordType::NS, RecordType::A, RecordType::ANY] {
        let response = ask("sub.example.", qtype);
        assert_eq!(response, below, "{qtype}");
        assert!(!response.authoritative);
    }
    // Glue below the cut is the child's data: a referral too.
    let glue = ask("ns1.sub.example.", RecordType::A);
    assert_eq!(glue, below);
}

/// RFC 4035 3.1.4.1, as NSD and Knot answer: DS at a cut is the
/// parent's data, NODATA when the parent has none.
#[test]
fn ds_at_a_cut_is_answered_by_the_parent() {
    assert_nodata("sub.example.", RecordType::DS);
    // DS is kept as wire bytes; hickory shows them in base64.
    assert_answer(
        "signed.example.",
        RecordType::DS,
        &["signed.example. 3600 IN DS MDkIAkn9RubEtFxV1Kxpy9PNNKwa/lHeXx5bDp8OWis8TV5v"],
    );
    // Below the cut, DS is the child's business: a referral.
    let below = ask("host.sub.example.", RecordType::A);
    assert_eq!(ask("host.sub.example.", RecordType::DS), below);
}

/// A server for both sides of a cut answers DS from the parent zone,
/// every other type at the child's apex from the child.
#[test]
fn ds_for_a_child_zone_we_also_serve_comes_from_the_parent() {
    let child = "@ 600 IN SOA ns1.sub.example. admin.example. 1 7200 900 1209600 600\n\
                 @ 3600 IN NS ns1.sub.example.\n\
                 ns1 3600 IN A 192.0.2.54\n";
    let catalog = Catalog::new(vec![
        Arc::new(zone("example.", EXAMPLE)),
        Arc::new(zone("sub.example.", child)),
    ])
    .unwrap();
    let sub = Name::from_ascii("sub.example.").unwrap();
    let ds = records_of(&catalog, &sub, RecordType::DS);
    check(&ds, NOERROR, true, &[], &[EXAMPLE_SOA], &[]);
    let ns = records_of(&catalog, &sub, RecordType::NS);
    check(
        &ns,
        NOERROR,
        true,
        &["sub.example. 3600 IN NS ns1.sub.example."],
        &[],
        &["ns1.sub.example. 3600 IN A 192.0.2.54"],
    );
}

#[test]
fn the_apex_ns_is_an_authoritative_answer_with_addresses() {
    let response = ask("example.", RecordType::NS);
    check(
        &response,
        NOERROR,
        true,
        &[
            "example. 3600 IN NS ns1.example.",
            "example. 3600 IN NS ns.example.net.",
        ],
        &[],
        &["ns1.example. 3600 IN A 192.0.2.53"],
    );
}

#[test]
fn mx_targets_get_their_addresses_once_from_any_of_our_zones() {
    let response = ask("mail.example.", RecordType::MX);
    check(
        &response,
        NOERROR,
        true,
        &[
            "mail.example. 300 IN MX 10 mx1.example.",
            "mail.example. 300 IN MX 20 mx1.example.",
            "mail.example. 300 IN MX 30 www.other.",
            "mail.example. 300 IN MX 40 mx.example.net.",
        ],
        &[],
        &[
            "mx1.example. 300 IN A 192.0.2.25",
            "mx1.example. 300 IN AAAA 2001:db8::25",
            "www.other. 300 IN A 198.51.100.1",
        ],
    );
    let from_other_zone = ask("mx.other.", RecordType::MX);
    check(
        &from_other_zone,
        NOERROR,
        true,
        &["mx.other. 300 IN MX 5 mx1.example."],
        &[],
        &[
            "mx1.example. 300 IN A 192.0.2.25",
            "mx1.example. 300 IN AAAA 2001:db8::25",
        ],
    );
}

#[test]
fn srv_targets_get_their_addresses() {
    let response = ask("_sip._udp.example.", RecordType::SRV);
    check(
        &response,
        NOERROR,
        true,
        &["_sip._udp.example. 300 IN SRV 0 5 5060 sip.example."],
        &[],
        &["sip.example. 300 IN AAAA 2001:db8::5060"],
    );
}

#[test]
fn a_wildcard_answers_with_the_query_name_as_owner() {
    for qname in ["x.wild.example.", "a.b.wild.example."] {
        let response = ask(qname, RecordType::A);
        let answer = format!("{qname} 300 IN A 192.0.2.99");
        check(&response, NOERROR, true, &[&answer], &[], &[]);
    }
}

#[test]
fn a_wildcard_without_the_type_is_nodata() {
    assert_nodata("x.wild.example.", RecordType::AAAA);
}

/// RFC 4592 2.2.1: a name that exists, even as an empty non-terminal,
/// is never synthesised.
#[test]
fn a_wildcard_does_not_cover_names_that_exist() {
    assert_nodata("host.wild.example.", RecordType::A);
    assert_nodata("e.wild.example.", RecordType::A);
    // The closest encloser of x.host.wild is host.wild, which has no
    // wildcard child: NXDOMAIN, not *.wild.
    assert_nxdomain("x.host.wild.example.");
}

#[test]
fn a_wildcard_does_not_reach_below_a_delegation() {
    let response = ask("x.cut.wild.example.", RecordType::A);
    check(
        &response,
        NOERROR,
        false,
        &[],
        &["cut.wild.example. 3600 IN NS ns1.example."],
        &["ns1.example. 3600 IN A 192.0.2.53"],
    );
}

#[test]
fn a_wildcard_cname_is_synthesised_and_followed() {
    assert_answer(
        "foo.cwild.example.",
        RecordType::A,
        &[
            "foo.cwild.example. 300 IN CNAME www.example.",
            "www.example. 300 IN A 192.0.2.1",
            "www.example. 300 IN A 192.0.2.2",
        ],
    );
}

/// The hierarchy `dnslab up` builds starts at a root zone: its apex is
/// the empty name, and every name is below it.
#[test]
fn the_root_zone_refers_to_a_tld_and_answers_for_itself() {
    let root = "
        @ 86400 IN SOA a.root-servers.test. admin.root. 1 7200 900 1209600 3600
        @ 86400 IN NS a.root-servers.test.
        a.root-servers.test. 86400 IN A 127.0.0.10
        com. 172800 IN NS a.gtld.com.
        a.gtld.com. 172800 IN A 127.0.0.20
    ";
    let catalog = Catalog::new(vec![Arc::new(zone(".", root))]).unwrap();
    let ask_root =
        |qname: &str, qtype| records_of(&catalog, &Name::from_ascii(qname).unwrap(), qtype);
    check(
        &ask_root("www.example.com.", RecordType::A),
        NOERROR,
        false,
        &[],
        &["com. 172800 IN NS a.gtld.com."],
        &["a.gtld.com. 172800 IN A 127.0.0.20"],
    );
    check(
        &ask_root(".", RecordType::NS),
        NOERROR,
        true,
        &[". 86400 IN NS a.root-servers.test."],
        &[],
        &["a.root-servers.test. 86400 IN A 127.0.0.10"],
    );
    let soa = ". 3600 IN SOA a.root-servers.test. admin.root. 1 7200 900 1209600 3600";
    check(
        &ask_root("nope.", RecordType::A),
        NXDOMAIN,
        true,
        &[],
        &[soa],
        &[],
    );
}

/// Query names come off the network: the longest and oddest legal
/// names must get an answer, not a panic.
#[test]
fn extreme_query_names_get_answers() {
    let catalog = catalog();
    let from_labels = |labels: Vec<Vec<u8>>| Name::from_labels(labels).unwrap();
    // 123 one-octet labels below example.: 255 octets.
    let mut many = vec![b"a".to_vec(); 123];
    many.push(b"example".to_vec());
    let many = from_labels(many);
    // Binary labels, 250 octets in all.
    let mut binary: Vec<Vec<u8>> = (0..3).map(|i| vec![0xff - i; 61]).collect();
    binary.push(vec![0x2a; 54]);
    binary.push(b"example".to_vec());
    let binary = from_labels(binary);
    let star = from_labels(vec![
        b"*".to_vec(),
        b"*".to_vec(),
        b"dname".to_vec(),
        b"example".to_vec(),
    ]);
    let cases: [(&Name, ResponseCode); 4] = [
        (&many, NXDOMAIN),
        (&binary, NXDOMAIN),
        (&star, NOERROR),
        (&Name::root(), ResponseCode::Refused),
    ];
    for (qname, rcode) in cases {
        for qtype in [
            RecordType::A,
            RecordType::ANY,
            RecordType::CNAME,
            RecordType::DNAME,
        ] {
            let response = records_of(&catalog, qname, qtype);
            assert_eq!(response.rcode, rcode, "{qname} {qtype}: {response:#?}");
        }
    }
    // A 250-octet name below a DNAME to a shorter target still fits.
    let long_below_dname = from_labels(vec![
        vec![b'x'; 63],
        vec![b'y'; 63],
        vec![b'z'; 63],
        vec![b'w'; 42],
        b"dname".to_vec(),
        b"example".to_vec(),
    ]);
    let response = records_of(&catalog, &long_below_dname, RecordType::A);
    assert_eq!(response.rcode, NOERROR, "{response:#?}");
    assert_eq!(response.answers.len(), 2, "{response:#?}");
}

#[test]
fn a_child_zone_on_the_same_server_answers_for_itself() {
    let child = "
        @ 3600 IN SOA ns1.sub.example. admin.example. 1 7200 900 1209600 300
        @ 3600 IN NS ns1.sub.example.
        ns1 3600 IN A 192.0.2.54
        host 300 IN A 192.0.2.80
    ";
    let catalog = Catalog::new(vec![
        Arc::new(zone("example.", EXAMPLE)),
        Arc::new(zone("sub.example.", child)),
    ])
    .unwrap();
    let response = records_of(
        &catalog,
        &Name::from_ascii("host.sub.example.").unwrap(),
        RecordType::A,
    );
    check(
        &response,
        NOERROR,
        true,
        &["host.sub.example. 300 IN A 192.0.2.80"],
        &[],
        &[],
    );
}

mod aliases;
mod outcome;
