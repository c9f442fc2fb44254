//! The differential test: the same zone files served by Knot, NSD and
//! dnslab, every question generated from the zones asked of all three, and
//! dnslab's replies compared with the peers' (see [`differential`]).

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::time::Duration;

use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RecordType};

use super::servers::{exchange, start_dnslab, Kind, Server, Transport};
use super::{lab_zones, lines, shipped_zones, ZoneFile};
use crate::common::{self, require, Ask};

/// One reply reduced to what the differential compares: rcode, AA, TC, the
/// question as echoed (case kept: RFC 1035 7.3, 0x20), and each section as
/// a sorted list of normalised records (`common::section`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Outcome {
    rcode: String,
    aa: bool,
    tc: bool,
    question: String,
    answer: Vec<String>,
    authority: Vec<String>,
    additional: Vec<String>,
}

impl Outcome {
    fn of(msg: &Message) -> Outcome {
        Outcome {
            rcode: msg.metadata.response_code.to_string(),
            aa: msg.metadata.authoritative,
            tc: msg.metadata.truncation,
            question: msg
                .queries
                .iter()
                .map(|q| format!("{} {}", q.name(), q.query_type()))
                .collect::<Vec<_>>()
                .join(", "),
            answer: common::section(&msg.answers),
            authority: common::section(&msg.authorities),
            additional: common::section(&msg.additionals),
        }
    }

    /// Undoes NSD's one policy that Knot and dnslab do not share: NSD puts
    /// the zone's apex NS RRset in the authority section of every positive
    /// answer and the addresses of those name servers in additional
    /// (Knot and dnslab answer minimally). `apexes` are the served zones.
    fn without_apex_ns(mut self, apexes: &BTreeSet<String>) -> Outcome {
        if self.answer.is_empty() {
            return self;
        }
        // The apex NS and, with DO, their signature.
        let is_apex_ns = |line: &String| {
            let f: Vec<&str> = line.split(' ').collect();
            let ns = match f.get(2) {
                Some(&"NS") => true,
                Some(&"RRSIG") => rrsig_covers(line) == Some(RecordType::NS),
                _ => false,
            };
            ns && f.first().is_some_and(|owner| apexes.contains(*owner))
        };
        let removed: Vec<String> = self
            .authority
            .iter()
            .filter(|l| is_apex_ns(l))
            .cloned()
            .collect();
        if removed.is_empty() {
            return self;
        }
        self.authority.retain(|l| !is_apex_ns(l));
        let targets = |records: &[String]| -> BTreeSet<String> {
            records
                .iter()
                .filter(|l| l.split(' ').nth(2) != Some("RRSIG"))
                .filter_map(|l| l.split(' ').next_back())
                .map(|t| t.to_lowercase())
                .collect()
        };
        let stripped = targets(&removed);
        let mut still_needed = targets(&self.answer);
        still_needed.extend(targets(&self.authority));
        self.additional.retain(|l| {
            let owner = l.split(' ').next().unwrap_or_default();
            !stripped.contains(owner) || still_needed.contains(owner)
        });
        self
    }

    /// Accepts the additional records dnslab takes from another zone it
    /// serves. RFC 1034 4.3.2 step 6 adds "other RRs which may be useful"
    /// from "local data", and dnslab (like BIND) counts every zone it serves
    /// as local data; Knot and NSD only look in the zone of the answer. An
    /// extra record is accepted only if it is an address of a name server,
    /// mail exchange or service target named in the answer or authority
    /// section, and `confirm` (the reference peer asked for it directly)
    /// answers exactly that record.
    fn accept_cross_zone_additional(
        &mut self,
        reference: &Outcome,
        confirm: impl Fn(&str, RecordType) -> Outcome,
    ) {
        let targets: BTreeSet<String> = self
            .answer
            .iter()
            .chain(&self.authority)
            .filter(|l| matches!(l.split(' ').nth(2), Some("NS" | "MX" | "SRV")))
            .filter_map(|l| l.split(' ').next_back())
            .map(str::to_lowercase)
            .collect();
        let confirmed = |line: &String| {
            let fields: Vec<&str> = line.split(' ').collect();
            let qtype = match fields.get(2) {
                Some(&"A") => RecordType::A,
                Some(&"AAAA") => RecordType::AAAA,
                _ => return false,
            };
            let owner = fields.first().copied().unwrap_or_default();
            targets.contains(owner) && confirm(owner, qtype).answer.contains(line)
        };
        self.additional
            .retain(|l| reference.additional.contains(l) || !confirmed(l));
    }

    /// The header fields compared, as one line.
    fn header(&self) -> String {
        format!("rcode={} aa={} tc={}", self.rcode, self.aa, self.tc)
    }
}

/// A readable diff of two outcomes: header fields side by side, then the
/// records only `expected` has and those only `got` has, each line labelled.
/// Empty when equal.
fn diff(expected: &Outcome, got: &Outcome, minus: &str, plus: &str) -> String {
    let mut out = String::new();
    for (name, want, have) in [
        ("header", expected.header(), got.header()),
        ("question", expected.question.clone(), got.question.clone()),
    ] {
        if want != have {
            out.push_str(&format!("    {name}: expected {want}, got {have}\n"));
        }
    }
    for (name, want, have) in [
        ("answer", &expected.answer, &got.answer),
        ("authority", &expected.authority, &got.authority),
        ("additional", &expected.additional, &got.additional),
    ] {
        if want != have {
            out.push_str(&format!("    {name}:\n"));
            for line in want.iter().filter(|l| !have.contains(l)) {
                out.push_str(&format!("      {minus} {line}\n"));
            }
            for line in have.iter().filter(|l| !want.contains(l)) {
                out.push_str(&format!("      {plus} {line}\n"));
            }
        }
    }
    out
}

/// A name with its letters in alternating case, for 0x20-style queries.
fn mixed_case(name: &str) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| {
            if i % 2 == 0 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// The origin of `zone` and its records, as dnslab's reader reads them.
fn read_zone(zone: &ZoneFile) -> (Name, Vec<dnslab_authoritative::SourcedRecord>) {
    let origin = Name::from_str(&zone.origin).expect("origin parses");
    let file = dnslab_authoritative::read_master_file(&zone.path, Some(&origin))
        .unwrap_or_else(|e| panic!("dnslab cannot read {}: {e}", zone.path.display()));
    (origin, file.records)
}

/// The questions asked of every server, generated from the zones' records
/// (read with dnslab's own master-file reader):
/// every owner name × (its own types and A, AAAA, MX, TXT, NS, SOA, CNAME);
/// the empty non-terminals between owners and their zone's apex; below each
/// wildcard one and two fresh labels; below each delegation a host name;
/// DS at each apex, each delegation and below it (RFC 4035 3.1.4.1: the
/// parent side answers DS, even without DNSSEC); a
/// fresh name in each zone and below an existing name (NXDOMAIN), and
/// names with a `*` label that is no wildcard of the zone (`a.*.<apex>`,
/// whose closest encloser is the apex, not `*.<apex>`; `*.nx-star.<apex>`,
/// whose next closer name is `nx-star.<apex>`); a name in
/// no served zone (REFUSED); and every owner's A question again in mixed
/// case. QTYPE ANY is not asked: RFC 8482 lets servers pick what to return
/// and Knot and NSD pick different RRsets.
fn questions(zones: &[ZoneFile]) -> Vec<(String, RecordType)> {
    use RecordType::*;
    const COMMON: [RecordType; 7] = [A, AAAA, MX, TXT, NS, SOA, CNAME];
    let mut asked: BTreeSet<(String, RecordType)> = BTreeSet::new();
    let mut owners: BTreeMap<Name, BTreeSet<RecordType>> = BTreeMap::new();
    let mut wildcards = BTreeSet::new();
    let mut cuts = BTreeSet::new();
    let mut ents = BTreeSet::new();
    for zone in zones {
        let (origin, records) = read_zone(zone);
        for sourced in &records {
            let record = &sourced.record;
            let name = record.name.to_lowercase();
            owners
                .entry(name.clone())
                .or_default()
                .insert(record.record_type());
            if name.is_wildcard() {
                wildcards.insert(name.base_name());
            }
            if record.record_type() == NS && name != origin.to_lowercase() {
                cuts.insert(name.clone());
            }
            let mut parent = name.base_name();
            while parent.num_labels() > origin.num_labels() {
                ents.insert(parent.clone());
                parent = parent.base_name();
            }
        }
        asked.insert((format!("nx-differential.{}", zone.origin), A));
        asked.insert((format!("a.*.{}", zone.origin), A));
        asked.insert((format!("*.nx-star.{}", zone.origin), A));
        asked.insert((zone.origin.clone(), DS));
    }
    for (name, types) in &owners {
        for qtype in types.iter().chain(COMMON.iter()) {
            if *qtype != ANY {
                asked.insert((name.to_string(), *qtype));
            }
        }
        asked.insert((mixed_case(&name.to_string()), A));
        if !name.is_wildcard() {
            asked.insert((format!("nosuch.{name}"), A));
        }
    }
    for ent in ents.iter().filter(|n| !owners.contains_key(*n)) {
        asked.insert((ent.to_string(), A));
        asked.insert((ent.to_string(), TXT));
    }
    for base in &wildcards {
        for qtype in [A, TXT, MX, AAAA] {
            asked.insert((format!("anything.{base}"), qtype));
        }
        asked.insert((format!("two.labels.{base}"), A));
    }
    for cut in &cuts {
        asked.insert((format!("host.{cut}"), A));
        asked.insert((format!("host.{cut}"), NS));
        asked.insert((cut.to_string(), DS));
        asked.insert((format!("host.{cut}"), DS));
    }
    asked.insert(("nowhere.invalid.".to_string(), A));
    asked.into_iter().collect()
}

/// The type an RRSIG line (`owner ttl RRSIG data`, the data as base64, since
/// hickory decodes RRSIG only with its DNSSEC feature) covers.
fn rrsig_covers(line: &str) -> Option<RecordType> {
    let data = line.split(' ').nth(3)?;
    let bytes = data_encoding::BASE64.decode(data.as_bytes()).ok()?;
    Some(RecordType::from(u16::from_be_bytes([
        *bytes.first()?,
        *bytes.get(1)?,
    ])))
}

/// The questions asked again with DO: those in the signed zones (NSEC or
/// NSEC3), whose answers then carry signatures and denial proofs (RFC 4035
/// 3.1, RFC 5155 7.2).
struct DnssecQuestions {
    questions: Vec<(String, RecordType)>,
    /// The owners of NSEC3 records, lowercased.
    nsec3_owners: BTreeSet<Name>,
}

impl DnssecQuestions {
    fn new(zones: &[ZoneFile], questions: &[(String, RecordType)]) -> DnssecQuestions {
        let mut signed = Vec::new();
        let mut nsec3_owners = BTreeSet::new();
        for zone in zones {
            let (origin, records) = read_zone(zone);
            let mut is_signed = false;
            for record in records.iter().map(|r| &r.record) {
                match record.record_type() {
                    RecordType::NSEC => is_signed = true,
                    RecordType::NSEC3 => {
                        is_signed = true;
                        nsec3_owners.insert(record.name.to_lowercase());
                    }
                    _ => {}
                }
            }
            if is_signed {
                signed.push(origin);
            }
        }
        let questions = questions
            .iter()
            .filter(|(name, _)| {
                Name::from_str(name)
                    .is_ok_and(|name| signed.iter().any(|origin| origin.zone_of(&name)))
            })
            .cloned()
            .collect();
        DnssecQuestions {
            questions,
            nsec3_owners,
        }
    }

    /// Where NSD proves a name of an NSEC3 zone its own way, and Knot and
    /// dnslab as RFC 5155 7.2 does: NSD treats the chain's hashed owners as
    /// names (to prove names below them), and answers for a wildcard's own
    /// owner name with the wildcard's proof; for RFC 5155 the hashed owners
    /// are no names (7.2.8) and the wildcard's owner is an exact match.
    fn knot_is_the_reference(&self, name: &str) -> bool {
        let Ok(name) = Name::from_str(name) else {
            return false;
        };
        let name = name.to_lowercase();
        let below_hashed_owner = self.nsec3_owners.iter().any(|owner| owner.zone_of(&name));
        let in_nsec3_zone = self
            .nsec3_owners
            .iter()
            .any(|owner| owner.base_name().zone_of(&name));
        below_hashed_owner || (in_nsec3_zone && name.is_wildcard())
    }
}

/// Asks one question with EDNS (1232 octets, as resolvers do), and DO
/// when `dnssec_ok`, twice if the first try gets nothing; a server that
/// never answers gives an outcome whose rcode says so.
fn ask(
    server: &Server,
    name: &str,
    qtype: RecordType,
    dnssec_ok: bool,
    transport: Transport,
) -> Outcome {
    let mut ask = Ask::new(name, qtype).edns(1232);
    if dnssec_ok {
        ask = ask.dnssec();
    }
    let query = ask.to_message();
    let timeout = Duration::from_secs(2);
    match exchange(server.addr, &query, transport, timeout)
        .or_else(|_| exchange(server.addr, &query, transport, timeout))
    {
        Ok(msg) => Outcome::of(&msg),
        Err(why) => Outcome {
            rcode: why,
            ..Outcome::default()
        },
    }
}

/// The differential proper: every question to Knot, NSD and dnslab.
///
/// Where Knot and NSD agree (after removing NSD's apex-NS authority, see
/// [`Outcome::without_apex_ns`]), dnslab must give the same. Where they
/// still disagree, the peer closer to dnslab's documented choice is the
/// reference:
/// - CNAME chains that leave a zone (also the CNAME synthesised from a
///   DNAME, RFC 6672 2.2): dnslab follows them through every zone it serves
///   (authoritative/src/lookup/mod.rs), as NSD does; Knot stops at the zone
///   boundary. So the reference is NSD, and a chain that ends in a name
///   missing from another served zone is NXDOMAIN with that zone's SOA.
/// - With DO, in a zone signed with NSEC3, names below the chain's hashed
///   owners and a wildcard's own owner name: Knot is the reference (see
///   [`DnssecQuestions::knot_is_the_reference`]).
/// - Any other disagreement is printed (not failed) and NSD is the reference.
///
/// One documented choice of dnslab differs from both peers: addresses in
/// the additional section may come from another zone it serves; they are
/// accepted when NSD confirms them (see
/// [`Outcome::accept_cross_zone_additional`]).
///
/// Questions whose UDP answer is truncated (TC=1) at both NSD and dnslab are
/// asked again over TCP, and those answers are compared: what a server
/// leaves in a truncated reply is its own choice (RFC 2181 9).
fn differential(zones: &[ZoneFile]) {
    let (Some(knotd), Some(nsd)) = (require("knotd", "knot"), require("nsd", "nsd")) else {
        return;
    };
    let apexes: BTreeSet<String> = zones.iter().map(|z| z.origin.to_lowercase()).collect();
    let questions = questions(zones);
    let dnssec = DnssecQuestions::new(zones, &questions);
    let asked = questions.len() + dnssec.questions.len();
    let knot = Server::start(Kind::Knot, &knotd, zones);
    let nsd = Server::start(Kind::Nsd, &nsd, zones);
    let dnslab = start_dnslab(zones);

    let mut failures = Vec::new();
    let mut peer_disagreements = Vec::new();
    let all = questions
        .iter()
        .map(|q| (q, false))
        .chain(dnssec.questions.iter().map(|q| (q, true)));
    for ((name, qtype), dnssec_ok) in all {
        let (qtype, label) = (*qtype, if dnssec_ok { " +dnssec" } else { "" });
        let from_knot = ask(&knot, name, qtype, dnssec_ok, Transport::Udp);
        let mut want = ask(&nsd, name, qtype, dnssec_ok, Transport::Udp);
        let mut have = ask(&dnslab, name, qtype, dnssec_ok, Transport::Udp);
        let truncated = want.tc && have.tc;
        if truncated {
            // What a server leaves in a truncated reply is its own choice
            // (RFC 2181 9); the whole answer is the one over TCP.
            want = ask(&nsd, name, qtype, dnssec_ok, Transport::Tcp);
            have = ask(&dnslab, name, qtype, dnssec_ok, Transport::Tcp);
        }
        want = want.without_apex_ns(&apexes);
        have.accept_cross_zone_additional(&want, |owner, qtype| {
            ask(&nsd, owner, qtype, false, Transport::Udp)
        });
        // over TCP only NSD was asked again: Knot agrees if it truncated too
        let peers_agree = if truncated {
            from_knot.tc
        } else {
            from_knot == want
        };
        if !peers_agree {
            let d = diff(&want, &from_knot, "nsd only: ", "knot only:");
            peer_disagreements.push(format!("  {name} {qtype}{label}:\n{d}"));
        }
        let knot_reference = dnssec_ok && !peers_agree && dnssec.knot_is_the_reference(name);
        if knot_reference {
            want = from_knot;
        }
        let d = diff(&want, &have, "expected:", "dnslab:  ");
        if !d.is_empty() {
            let reference = match (peers_agree, knot_reference) {
                (true, _) => "knot and nsd",
                (false, true) => "knot",
                (false, false) => "nsd",
            };
            failures.push(format!(
                "  {name} {qtype}{label} (reference: {reference}):\n{d}"
            ));
        }
    }
    if !peer_disagreements.is_empty() {
        eprintln!(
            "knot and nsd disagree on {} of {} questions (nsd is the reference):\n{}",
            peer_disagreements.len(),
            asked,
            peer_disagreements.join("")
        );
    }
    assert!(
        failures.is_empty(),
        "{} on {} of {} questions differs from the peers ({} = {}, {} = {}):\n{}",
        dnslab.kind,
        failures.len(),
        asked,
        knot.kind,
        knot.addr,
        nsd.kind,
        nsd.addr,
        failures.join("")
    );
}

/// The lab's com., example.com. and example.org. zones plus large.test.:
/// referrals with glue, wildcards, in-zone and cross-zone CNAME chains, a
/// dangling CNAME, NXDOMAIN, NODATA, ENTs, REFUSED and truncation.
#[test]
fn lab_zones_match_knot_and_nsd() {
    differential(&lab_zones());
}

/// The zones shipped in zones/, the README's examples.
#[test]
fn shipped_zones_match_knot_and_nsd() {
    differential(&shipped_zones());
}

/// The differential's own tools, tested without servers.
mod tools {
    use super::*;

    fn outcome(answer: &[&str], authority: &[&str], additional: &[&str]) -> Outcome {
        Outcome {
            rcode: "No Error".into(),
            aa: true,
            tc: false,
            question: String::new(),
            answer: lines(answer),
            authority: lines(authority),
            additional: lines(additional),
        }
    }

    /// NSD adds the apex NS RRset and its addresses to every positive answer;
    /// the differential strips them before comparing. The tool must strip only
    /// that: an address the answer itself needs (the MX target ns1) stays, and
    /// a referral's NS set (not a served apex) is untouched. Were it to strip
    /// too much, real differences would disappear from the comparison.
    #[test]
    fn nsd_apex_ns_is_removed_but_needed_addresses_stay() {
        let apexes: BTreeSet<String> = ["example.com.".to_string()].into();
        let nsd = outcome(
            &["example.com. 3600 MX 10 ns1.example.com."],
            &[
                "example.com. 3600 NS ns1.example.com.",
                "example.com. 3600 NS ns2.example.com.",
            ],
            &[
                "ns1.example.com. 3600 A 127.0.0.7",
                "ns2.example.com. 3600 A 127.0.0.8",
            ],
        );
        let minimal = outcome(
            &["example.com. 3600 MX 10 ns1.example.com."],
            &[],
            &["ns1.example.com. 3600 A 127.0.0.7"],
        );
        assert_eq!(nsd.without_apex_ns(&apexes), minimal);
        // A referral keeps its NS set: its owner is not a served apex.
        let referral = outcome(
            &["store.example.com. 3600 CNAME www.shop.example.com."],
            &["shop.example.com. 3600 NS ns1.shop.example.com."],
            &[],
        );
        assert_eq!(referral.clone().without_apex_ns(&apexes), referral);
    }

    /// dnslab may add addresses from another zone it serves (as BIND does).
    /// The differential accepts such an extra record only when it is a target
    /// named in the answer and the reference peer confirms that very record:
    /// a wrong address for a target, or an address of a name nobody asked
    /// about, stays in dnslab's additional section and fails the comparison.
    #[test]
    fn cross_zone_additional_is_accepted_only_for_confirmed_targets() {
        let reference = outcome(&["example.net. 3600 NS ns1.example.com."], &[], &[]);
        let truth =
            |owner: &str, _: RecordType| outcome(&[&format!("{owner} 3600 A 192.0.2.1")], &[], &[]);
        let mut dnslab = outcome(
            &["example.net. 3600 NS ns1.example.com."],
            &[],
            &[
                "ns1.example.com. 3600 A 192.0.2.1",  // a target, confirmed
                "ns1.example.com. 3600 A 192.0.2.99", // a target, wrong address
                "www.example.com. 3600 A 192.0.2.1",  // not a target
            ],
        );
        dnslab.accept_cross_zone_additional(&reference, truth);
        assert_eq!(
            dnslab.additional,
            lines(&[
                "ns1.example.com. 3600 A 192.0.2.99",
                "www.example.com. 3600 A 192.0.2.1"
            ])
        );
    }

    /// The differential's failure report: identical answers give no diff, and
    /// a differing record is printed under its section with the expected and
    /// the actual line, so a failing run of 1,800 questions shows exactly what
    /// to look at.
    #[test]
    fn diff_names_each_differing_record() {
        let want = outcome(&["a. 1 A 192.0.2.1"], &[], &[]);
        let have = outcome(&["a. 1 A 192.0.2.2"], &[], &[]);
        assert_eq!(diff(&want, &want, "-", "+"), "");
        assert_eq!(
            diff(&want, &have, "-", "+"),
            "    answer:\n      - a. 1 A 192.0.2.1\n      + a. 1 A 192.0.2.2\n"
        );
    }

    /// Questions are also asked in mixed case (as resolvers using 0x20
    /// randomisation ask them), to check that every server echoes the
    /// question as asked and matches names without case: the helper must
    /// alternate the case of the letters and keep the dots.
    #[test]
    fn mixed_case_alternates_letters() {
        assert_eq!(mixed_case("www.example.com."), "WwW.ExAmPlE.CoM.");
    }
}
