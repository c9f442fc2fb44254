//! `dig` and `nslookup` against `dnslab auth` on the lab zones, asserting
//! on what they print: status, header flags and every section.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use super::servers::{start_dnslab, Server};
use super::{lab_zones, lines, shipped_zones};
use crate::common::{self, require};

/// dig's answer, parsed: the header status and flags, each section's
/// records as normalised lines ("owner ttl TYPE rdata", owner lowercased,
/// class dropped, sorted), and the OPT pseudo-section's `udp:` size.
#[derive(Debug)]
struct Dig {
    status: String,
    flags: BTreeSet<String>,
    sections: BTreeMap<String, Vec<String>>,
    edns_udp: Option<u16>,
    text: String,
}

impl Dig {
    fn section(&self, name: &str) -> Vec<String> {
        self.sections.get(name).cloned().unwrap_or_default()
    }

    fn has_flags(&self, expected: &[&str]) -> bool {
        self.flags == expected.iter().map(|f| f.to_string()).collect()
    }

    /// Asserts the status, the exact set of header flags and all three
    /// sections at once, showing dig's whole output when anything differs.
    fn assert_reply(
        &self,
        status: &str,
        flags: &[&str],
        answer: &[&str],
        authority: &[&str],
        additional: &[&str],
    ) {
        let got = (
            self.status.as_str(),
            self.flags
                .iter()
                .map(String::as_str)
                .collect::<BTreeSet<_>>(),
            [
                self.section("ANSWER"),
                self.section("AUTHORITY"),
                self.section("ADDITIONAL"),
            ],
        );
        let want = (
            status,
            flags.iter().copied().collect(),
            [lines(answer), lines(authority), lines(additional)],
        );
        assert_eq!(
            got, want,
            "(status, flags, [answer, authority, additional]); dig said:\n{}",
            self.text
        );
    }
}

/// Runs `dig +norec` (see [`common::dig`]) and parses its output.
fn dig(server: SocketAddr, args: &[&str]) -> Dig {
    let args = [&["+norec"], args].concat();
    parse_dig(common::dig(server, &args).expect("dig checked by the caller"))
}

fn parse_dig(text: String) -> Dig {
    let mut status = String::new();
    let mut flags = BTreeSet::new();
    let mut sections: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut edns_udp = None;
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(rest) = line.split("status: ").nth(1) {
            status = rest.split(',').next().unwrap_or_default().to_string();
        } else if let Some(rest) = line.strip_prefix(";; flags:") {
            flags = rest
                .split(';')
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .map(String::from)
                .collect();
        } else if let Some(rest) = line.strip_prefix("; EDNS:") {
            edns_udp = rest
                .split("udp: ")
                .nth(1)
                .and_then(|n| n.trim().parse().ok());
        } else if let Some(name) = line
            .strip_prefix(";; ")
            .and_then(|l| l.strip_suffix(" SECTION:"))
        {
            current = Some(name.to_string());
            sections.entry(name.to_string()).or_default();
        } else if line.trim().is_empty() {
            current = None;
        } else if let (Some(name), false) = (&current, line.starts_with(';')) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if let [owner, ttl, _class, rtype, rdata @ ..] = fields.as_slice() {
                let record = format!(
                    "{} {} {} {}",
                    owner.to_lowercase(),
                    ttl,
                    rtype,
                    rdata.join(" ")
                );
                sections.entry(name.clone()).or_default().push(record);
            }
        }
    }
    for records in sections.values_mut() {
        records.sort();
    }
    Dig {
        status,
        flags,
        sections,
        edns_udp,
        text,
    }
}

/// dnslab on the lab zones, or `None` (test skipped; failed in CI) without dig.
fn dig_setup() -> Option<Server> {
    require("dig", "bind9-dnsutils")?;
    Some(start_dnslab(&lab_zones()))
}

/// dnslab on the zones shipped in zones/ (the README's examples).
fn shipped_setup() -> Option<Server> {
    require("dig", "bind9-dnsutils")?;
    Some(start_dnslab(&shipped_zones()))
}

/// The everyday question: an A record, answered authoritatively (aa, no ra:
/// an authoritative-only server offers no recursion) with nothing else.
#[test]
fn a_question_gets_authoritative_answer() {
    let Some(server) = dig_setup() else { return };
    let out = dig(server.addr, &["www.example.com", "A"]);
    out.assert_reply(
        "NOERROR",
        &["qr", "aa"],
        &["www.example.com. 3600 A 192.0.2.10"],
        &[],
        &[],
    );
}

/// MX: both exchanges, and the address of the in-zone one in additional
/// (the out-of-zone mx.hosting.org has no data here).
#[test]
fn mx_brings_exchange_address_in_additional() {
    let Some(server) = dig_setup() else { return };
    let out = dig(server.addr, &["example.com", "MX"]);
    let mx = [
        "example.com. 3600 MX 10 mail.example.com.",
        "example.com. 3600 MX 20 mx.hosting.org.",
    ];
    out.assert_reply(
        "NOERROR",
        &["qr", "aa"],
        &mx,
        &[],
        &["mail.example.com. 3600 A 192.0.2.25"],
    );
}

/// A name that does not exist: NXDOMAIN, aa, the SOA in authority with the
/// negative TTL min(SOA TTL, MINIMUM) = 300 (RFC 2308 3).
#[test]
fn nxdomain_carries_soa_with_negative_ttl() {
    let Some(server) = dig_setup() else { return };
    let out = dig(server.addr, &["nosuch.example.com", "A"]);
    let soa = "example.com. 300 SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300";
    out.assert_reply("NXDOMAIN", &["qr", "aa"], &[], &[soa], &[]);
}

/// Below the shop.example.com cut: a referral, not authoritative (no aa),
/// the child's NS set in authority and its glue in additional.
#[test]
fn below_delegation_gets_referral_with_glue() {
    let Some(server) = dig_setup() else { return };
    let out = dig(server.addr, &["www.shop.example.com", "A"]);
    let ns = "shop.example.com. 3600 NS ns1.shop.example.com.";
    out.assert_reply(
        "NOERROR",
        &["qr"],
        &[],
        &[ns],
        &["ns1.shop.example.com. 3600 A 127.0.0.9"],
    );
}

/// The same server over TCP (`dig +tcp`): three A records at www2.
#[test]
fn tcp_gets_whole_rrset() {
    let Some(server) = dig_setup() else { return };
    let out = dig(server.addr, &["+tcp", "www2.example.com", "A"]);
    let a = [
        "www2.example.com. 3600 A 192.0.2.11",
        "www2.example.com. 3600 A 192.0.2.12",
        "www2.example.com. 3600 A 192.0.2.13",
    ];
    out.assert_reply("NOERROR", &["qr", "aa"], &a, &[], &[]);
}

/// EDNS (RFC 6891 7): a query with OPT gets an OPT back, advertising some
/// payload size of at least 512; a query without OPT gets none.
#[test]
fn edns_is_echoed_only_when_asked() {
    let Some(server) = dig_setup() else { return };
    let with = dig(server.addr, &["+bufsize=1232", "www.example.com", "A"]);
    assert_eq!(with.status, "NOERROR", "{}", with.text);
    let size = with
        .edns_udp
        .unwrap_or_else(|| panic!("no OPT in the reply:\n{}", with.text));
    assert!(size >= 512, "advertised payload {size}\n{}", with.text);
    let without = dig(server.addr, &["+noedns", "www.example.com", "A"]);
    assert_eq!(without.status, "NOERROR", "{}", without.text);
    assert_eq!(
        without.edns_udp, None,
        "OPT without EDNS query:\n{}",
        without.text
    );
    assert_eq!(without.section("ANSWER"), with.section("ANSWER"));
}

/// 40 TXT records do not fit a 512-octet UDP answer: TC=1 (dig +ignore
/// keeps the truncated answer instead of retrying), and over TCP the whole
/// RRset arrives without TC.
#[test]
fn large_rrset_truncates_over_udp_and_completes_over_tcp() {
    let Some(server) = dig_setup() else { return };
    let udp = dig(
        server.addr,
        &["+noedns", "+ignore", "txt.large.test", "TXT"],
    );
    assert_eq!(udp.status, "NOERROR", "{}", udp.text);
    assert!(
        udp.flags.contains("tc"),
        "no tc over UDP: {:?}\n{}",
        udp.flags,
        udp.text
    );
    let tcp = dig(server.addr, &["+tcp", "txt.large.test", "TXT"]);
    let txt: Vec<String> = (1..=40)
        .map(|i| format!("txt.large.test. 3600 TXT \"record {i:02} of forty: padding padding padding padding padding\""))
        .collect();
    let txt: Vec<&str> = txt.iter().map(String::as_str).collect();
    tcp.assert_reply("NOERROR", &["qr", "aa"], &txt, &[], &[]);
}

/// The shipped example zone's DNAME (RFC 6672): dig shows the DNAME, the
/// CNAME synthesised for the question (TTL of the DNAME) and, as
/// example.net is served too, the target's address.
#[test]
fn dname_in_shipped_zone_is_shown_with_synthesised_cname() {
    let Some(server) = shipped_setup() else {
        return;
    };
    let out = dig(server.addr, &["www.legacy.example.com", "A"]);
    let answer = [
        "legacy.example.com. 3600 DNAME example.net.",
        "www.legacy.example.com. 3600 CNAME www.example.net.",
        "www.example.net. 3600 A 198.51.100.10",
    ];
    out.assert_reply("NOERROR", &["qr", "aa"], &answer, &[], &[]);
}

/// SRV in the shipped example zone: the target's address in additional.
#[test]
fn srv_in_shipped_zone_brings_target_address() {
    let Some(server) = shipped_setup() else {
        return;
    };
    let out = dig(server.addr, &["_sip._tcp.example.com", "SRV"]);
    let srv = "_sip._tcp.example.com. 3600 SRV 10 60 5060 sip.example.com.";
    out.assert_reply(
        "NOERROR",
        &["qr", "aa"],
        &[srv],
        &[],
        &["sip.example.com. 3600 A 192.0.2.50"],
    );
}

/// nslookup (which asks with RD=1, for A and AAAA) prints both addresses
/// of www.example.com from the authoritative server.
#[test]
fn nslookup_prints_a_and_aaaa() {
    if require("nslookup", "bind9-dnsutils").is_none() {
        return;
    }
    let server = start_dnslab(&lab_zones());
    let args = [
        format!("-port={}", server.addr.port()),
        "-timeout=2".to_string(),
        "-retry=1".to_string(),
        "www.example.com".to_string(),
        server.addr.ip().to_string(),
    ];
    let text = common::run_tool("nslookup", &args).expect("nslookup checked above");
    let text: String = text.replace('\t', " ");
    assert!(
        text.contains("Name: www.example.com\nAddress: 192.0.2.10"),
        "{text}"
    );
    assert!(
        text.contains("Name: www.example.com\nAddress: 2001:db8::10"),
        "{text}"
    );
}

/// The dig parser, tested on a captured output.
mod parse {
    use super::*;

    /// Every dig test reads dig's text through `parse_dig`; were the parser
    /// wrong, the dig tests would check nothing. On a captured NXDOMAIN
    /// output it must find the status, the flags, EDNS's UDP size and each
    /// section, with owner names lowercased, the class dropped and the
    /// question section (a comment line in dig's output) empty.
    #[test]
    fn dig_output_is_parsed_into_status_flags_and_sections() {
        let text = ";; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 2733\n\
                    ;; flags: qr aa; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1\n\n\
                    ;; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 1232\n\
                    ;; QUESTION SECTION:\n;nx.example.com.\t\t\tIN\tA\n\n\
                    ;; AUTHORITY SECTION:\nExample.com.\t\t300\tIN\tSOA\tns1.example.com. h.example.com. 1 2 3 4 5\n\n";
        let dig = parse_dig(text.to_string());
        assert_eq!(dig.status, "NXDOMAIN");
        assert!(dig.has_flags(&["qr", "aa"]));
        assert_eq!(dig.edns_udp, Some(1232));
        assert_eq!(dig.section("QUESTION"), Vec::<String>::new());
        assert_eq!(
            dig.section("AUTHORITY"),
            lines(&["example.com. 300 SOA ns1.example.com. h.example.com. 1 2 3 4 5"])
        );
    }
}
