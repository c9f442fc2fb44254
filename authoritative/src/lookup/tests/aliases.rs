//! Aliases: CNAME chains within, across and out of our zones, loops and
//! the chain limit (RFC 1034 4.3.2 step 3.a, RFC 6604), and DNAME
//! substitution (RFC 6672).

use super::*;

#[test]
fn a_cname_is_followed_within_the_zone() {
    assert_answer(
        "alias.example.",
        RecordType::A,
        &[
            "alias.example. 300 IN CNAME www.example.",
            "www.example. 300 IN A 192.0.2.1",
            "www.example. 300 IN A 192.0.2.2",
        ],
    );
}

#[test]
fn a_cname_query_gets_the_cname_unfollowed() {
    assert_answer(
        "alias.example.",
        RecordType::CNAME,
        &["alias.example. 300 IN CNAME www.example."],
    );
}

#[test]
fn a_cname_is_followed_into_another_zone_of_the_server() {
    assert_answer(
        "to-other.example.",
        RecordType::A,
        &[
            "to-other.example. 300 IN CNAME www.other.",
            "www.other. 300 IN A 198.51.100.1",
        ],
    );
}

/// RFC 6604: the rcode is that of the last name in the chain, and the
/// SOA is that of the zone which said so.
#[test]
fn a_cname_to_a_missing_name_in_our_zones_is_nxdomain_with_that_zones_soa() {
    let response = ask("to-nx.example.", RecordType::A);
    check(
        &response,
        NXDOMAIN,
        true,
        &["to-nx.example. 300 IN CNAME missing.other."],
        &[OTHER_SOA],
        &[],
    );
}

#[test]
fn a_cname_to_nodata_ends_with_the_soa() {
    let response = ask("to-other.example.", RecordType::AAAA);
    check(
        &response,
        NOERROR,
        true,
        &["to-other.example. 300 IN CNAME www.other."],
        &[OTHER_SOA],
        &[],
    );
}

#[test]
fn a_cname_out_of_our_zones_is_the_whole_answer() {
    assert_answer(
        "to-outside.example.",
        RecordType::A,
        &["to-outside.example. 300 IN CNAME www.example.net."],
    );
}

#[test]
fn a_cname_into_a_delegation_ends_with_the_referral() {
    let response = ask("to-cut.example.", RecordType::A);
    check(
        &response,
        NOERROR,
        true,
        &["to-cut.example. 300 IN CNAME host.sub.example."],
        &SUB_NS,
        &SUB_GLUE,
    );
}

#[test]
fn a_cname_loop_stops_after_one_turn() {
    assert_answer(
        "loop1.example.",
        RecordType::A,
        &[
            "loop1.example. 300 IN CNAME loop2.example.",
            "loop2.example. 300 IN CNAME loop1.example.",
        ],
    );
}

#[test]
fn a_long_cname_chain_stops_at_the_limit() {
    let origin = "@ 3600 IN SOA ns.example.net. admin.example. 1 7200 900 1209600 300\n\
                  @ 3600 IN NS ns.example.net.\n";
    let chain: String = (0..30)
        .map(|i| format!("c{i} 300 IN CNAME c{}.example.\n", i + 1))
        .collect();
    let catalog = Catalog::new(vec![Arc::new(zone(
        "example.",
        &format!("{origin}{chain}"),
    ))])
    .unwrap();
    let response = records_of(
        &catalog,
        &Name::from_ascii("c0.example.").unwrap(),
        RecordType::A,
    );
    let expected: Vec<String> = (0..MAX_CHAIN)
        .map(|i| format!("c{i}.example. 300 IN CNAME c{}.example.", i + 1))
        .collect();
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    check(&response, NOERROR, true, &expected, &[], &[]);
}

/// The DNAME record at `owner` as text, as a DNAME query answers it.
fn dname_text(owner: &str) -> String {
    let response = ask(owner, RecordType::DNAME);
    assert_eq!(response.answers.len(), 1, "{response:#?}");
    let text = response.answers[0].to_string();
    assert!(
        text.starts_with(&format!("{owner} 300 IN DNAME ")),
        "{text}"
    );
    text
}

#[test]
fn a_dname_synthesises_a_cname_for_names_below_it() {
    let dname = dname_text("dname.example.");
    assert_answer(
        "a.b.dname.example.",
        RecordType::A,
        &[&dname, "a.b.dname.example. 300 IN CNAME a.b.example.net."],
    );
}

#[test]
fn a_dname_chain_is_followed_into_our_zones() {
    let dname = dname_text("dname-in.example.");
    assert_answer(
        "www.dname-in.example.",
        RecordType::A,
        &[
            &dname,
            "www.dname-in.example. 300 IN CNAME www.other.",
            "www.other. 300 IN A 198.51.100.1",
        ],
    );
    let missing = ask("nope.dname-in.example.", RecordType::A);
    check(
        &missing,
        NXDOMAIN,
        true,
        &[&dname, "nope.dname-in.example. 300 IN CNAME nope.other."],
        &[OTHER_SOA],
        &[],
    );
}

#[test]
fn the_dname_owner_itself_is_not_redirected() {
    assert_nodata("dname.example.", RecordType::A);
}

#[test]
fn a_dname_result_too_long_is_yxdomain() {
    let dname = dname_text("long.example.");
    // 11 + 245 octets > 255.
    let response = ask("aaaaaaaaaa.long.example.", RecordType::A);
    check(&response, ResponseCode::YXDomain, true, &[&dname], &[], &[]);
    // 2 + 245 octets fit.
    let fits = ask("a.long.example.", RecordType::A);
    assert_eq!(fits.rcode, NOERROR);
    assert_eq!(fits.answers.len(), 2);
    assert_eq!(fits.answers[1].record_type(), RecordType::CNAME);
}
