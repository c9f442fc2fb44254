//! DNSSEC end to end: a validating Unbound, given the signed test zones'
//! keys as trust anchors and dnslab as their server (a stub zone each),
//! must find dnslab's answers secure (AD) for every kind of answer and
//! denial (insecure where opt-out makes them so): a signature or a proof
//! that is missing or wrong makes them bogus (SERVFAIL). The differential
//! test compares the records with NSD and Knot; this one checks that they
//! prove what they should.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};

use super::servers::start_dnslab;
use super::{lab_zones, ZoneFile};
use crate::common::{require, udp_message, Ask, Unbound};

/// The signed zones of the differential test.
const SIGNED: [&str; 3] = ["signed.test.", "nsec3.test.", "optout.test."];

/// Unbound validating with the zones' key-signing keys as trust anchors,
/// asking dnslab (at `server`) for them.
fn start_validator(program: &std::path::Path, zones: &[ZoneFile], server: SocketAddr) -> Unbound {
    let mut settings = String::from(
        "    module-config: \"validator iterator\"\n    val-log-level: 2\n\
         \x20   local-zone: \"test.\" nodefault\n",
    );
    for key in zones.iter().flat_map(key_signing_keys) {
        settings.push_str(&format!("    trust-anchor: \"{key}\"\n"));
    }
    for zone in zones {
        settings.push_str(&format!(
            "stub-zone:\n    name: \"{}\"\n    stub-addr: {}@{}\n",
            zone.origin,
            server.ip(),
            server.port()
        ));
    }
    let probe = Ask::new("signed.test.", RecordType::SOA).to_message();
    Unbound::start(program, |_| settings.clone(), &probe)
}

/// Asks `validator` recursively with DO, as a stub resolver that wants AD
/// does.
fn ask(validator: &Unbound, name: &str, qtype: RecordType) -> Message {
    let query = Ask::new(name, qtype).rd().edns(1232).dnssec().to_message();
    udp_message(validator.addr, &query, Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no answer from the validator to {name} {qtype}"))
}

/// The zone's DNSKEY records with the SEP flag (257), in presentation form.
fn key_signing_keys(zone: &ZoneFile) -> Vec<String> {
    let origin = zone.origin.parse().expect("origin parses");
    let file =
        dnslab_authoritative::read_master_file(&zone.path, Some(&origin)).expect("the zone reads");
    file.records
        .iter()
        .filter(|r| r.record.record_type() == RecordType::DNSKEY)
        .filter_map(|r| match &r.record.data {
            RData::Unknown { rdata, .. } => match &rdata.anything[..] {
                [1, 1, protocol, algorithm, key @ ..] => Some(format!(
                    "{} DNSKEY 257 {protocol} {algorithm} {}",
                    zone.origin,
                    data_encoding::BASE64.encode(key)
                )),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// A signed answer is only as good as a validator's verdict on it: the
/// differential test compares records with NSD and Knot, but a missing
/// RRSIG or a proof that does not cover the name would fail only here.
/// Unbound, trusting the zones' keys, asks dnslab for an answer, a CNAME
/// and its target, NODATA (also at an empty non-terminal and from a
/// wildcard), NXDOMAIN, a wildcard answer, the DS of a secure delegation
/// and its absence at an unsigned one, in the NSEC, NSEC3 and opt-out
/// zones: each must come back with the expected rcode and AD set (secure),
/// or without AD exactly where opt-out leaves the proof insecure (RFC 5155
/// 9.2); SERVFAIL would mean bogus.
#[test]
fn a_validating_resolver_finds_every_kind_of_answer_secure_or_opted_out() {
    let Some(program) = require("unbound", "unbound") else {
        return;
    };
    let zones: Vec<ZoneFile> = lab_zones()
        .into_iter()
        .filter(|zone| SIGNED.contains(&zone.origin.as_str()))
        .collect();
    assert_eq!(zones.len(), SIGNED.len(), "the signed test zones");
    let dnslab = start_dnslab(&zones);
    let validator = start_validator(&program, &zones, dnslab.addr);
    use RecordType::{A, DS, TXT};
    let noerror = ResponseCode::NoError;
    // With opt-out, an NSEC3 that covers a name may hide an unsigned
    // delegation there, so what such a record proves is insecure (RFC 5155
    // 9.2): correct, but without AD. Bogus would be SERVFAIL.
    let mut wrong = Vec::new();
    for zone in SIGNED {
        let opt_out = zone == "optout.test.";
        for (name, qtype, rcode, secure_with_opt_out, what) in [
            ("www", A, noerror, true, "an answer"),
            ("nope", A, ResponseCode::NXDomain, false, "NXDOMAIN"),
            ("www", TXT, noerror, true, "NODATA"),
            ("ent", A, noerror, true, "NODATA at an empty non-terminal"),
            ("x.wild", TXT, noerror, false, "a wildcard answer"),
            ("x.wild", A, noerror, false, "NODATA from a wildcard"),
            ("alias", A, noerror, true, "a CNAME and its target"),
            ("sub", DS, noerror, true, "the DS of a secure delegation"),
            (
                "insecure",
                DS,
                noerror,
                false,
                "no DS at an unsigned delegation",
            ),
        ] {
            let qname = format!("{name}.{zone}");
            let reply = ask(&validator, &qname, qtype);
            let secure = !opt_out || secure_with_opt_out;
            let got = (reply.metadata.response_code, reply.metadata.authentic_data);
            if got != (rcode, secure) {
                wrong.push(format!(
                    "  {qname} {qtype} ({what}): want {rcode} AD={secure}, got {} AD={}; answer {:?}",
                    got.0, got.1, reply.answers
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "answers the validator did not find as secure as they should be:\n{}",
        wrong.join("\n")
    );
}
