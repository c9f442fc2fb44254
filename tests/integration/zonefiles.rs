//! Zone files: what loads (every record as read, with its line), what is
//! rejected and with which line, the same verdicts from `named-checkzone`
//! (required in CI, skipped by hand without it), and `dnslab check` as a
//! user runs it.
//!
//! The files live in tests/data/zonefiles/{valid,broken}/. Four broken
//! files break rules `named-checkzone` lets through (out-of-zone data, data
//! below a delegation or a DNAME, missing glue): dnslab reports them as
//! warnings and loads the zone, as BIND does, so that a secondary serves
//! whatever a primary sends that BIND would serve.

use std::path::{Path, PathBuf};
use std::process::Command;

use dnslab_authoritative::{
    check_zone, read_master_file, MasterFile, ProblemKind, ReadError, ReadErrorKind, SourcedRecord,
};
use dnslab_wire::dname_target;
use hickory_proto::rr::{Name, RData, RecordType};

use crate::common::{dnslab, name, repo_path, require};

fn data_dir() -> PathBuf {
    repo_path("tests/data/zonefiles")
}

fn read(rel: &str, origin: Option<&str>) -> Result<MasterFile, ReadError> {
    read_master_file(&data_dir().join(rel), origin.map(name).as_ref())
}

/// Reads a file that must load and pass every check.
fn read_clean(rel: &str, origin: Option<&str>) -> MasterFile {
    let file = read(rel, origin).unwrap_or_else(|e| panic!("{rel} does not load: {e}"));
    let problems = check_zone(&file.origin, &file.records);
    assert!(problems.is_empty(), "{rel} has problems: {problems:#?}");
    file
}

/// `file:line` relative to the data directory.
fn place(file: &Path, line: u32) -> String {
    let rel = file.strip_prefix(data_dir()).unwrap_or(file);
    format!("{}:{line}", rel.display())
}

/// One record as `file:line owner ttl TYPE data`; DNAME shows its target
/// and unknown types their RFC 3597 form, since hickory prints base64.
fn describe(sr: &SourcedRecord) -> String {
    let r = &sr.record;
    let (rtype, data) = match &r.data {
        RData::Unknown {
            code: RecordType::DNAME,
            ..
        } => (
            "DNAME".to_string(),
            dname_target(&r.data).map_or("<not a name>".into(), |t| t.to_string()),
        ),
        RData::Unknown { code, rdata } => (
            format!("TYPE{}", u16::from(*code)),
            format!(
                "\\# {} {}",
                rdata.anything.len(),
                rdata
                    .anything
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            ),
        ),
        data => (r.record_type().to_string(), data.to_string()),
    };
    format!(
        "{} {} {} {rtype} {data}",
        place(&sr.location.file, sr.location.line),
        r.name,
        r.ttl
    )
}

fn described(file: &MasterFile) -> Vec<String> {
    file.records.iter().map(describe).collect()
}

/// The read error of a file that must not load, as (`file:line`, kind).
fn read_error(rel: &str, origin: Option<&str>) -> (String, ReadErrorKind) {
    match read(rel, origin) {
        Ok(_) => panic!("{rel} loaded but should not"),
        Err(e) => (place(&e.location.file, e.location.line), e.kind),
    }
}

/// Reads a broken file: asserts where the error is and that
/// `named-checkzone` rejects the file too; returns what the error is.
fn rejected_at(rel: &str, at: &str) -> ReadErrorKind {
    let (found, kind) = read_error(rel, None);
    assert_eq!(found, at, "{kind}");
    assert_bind_rejects(rel);
    kind
}

/// The problems of a file that loads but breaks zone rules.
fn problems(rel: &str) -> Vec<(String, Name, ProblemKind)> {
    let file = read(rel, Some("example.com.")).unwrap_or_else(|e| panic!("{rel}: {e}"));
    check_zone(&file.origin, &file.records)
        .into_iter()
        .map(|p| {
            let loc = p.location.expect("every problem has a location");
            (place(&loc.file, loc.line), p.name, p.kind)
        })
        .collect()
}

/// `named-checkzone`'s verdict on a file, or `None` when it is not
/// installed (a failure in CI, see [`require`]). `-i local` keeps it from
/// resolving names over the network.
fn named_checkzone(rel: &str) -> Option<bool> {
    let program = require("named-checkzone", "bind9-utils")?;
    let path = data_dir().join(rel);
    let output = Command::new(program)
        .args(["-i", "local", "example.com"])
        .arg(&path)
        // $INCLUDE paths are relative to BIND's working directory.
        .current_dir(path.parent().expect("file has a directory"))
        .output()
        .unwrap_or_else(|e| panic!("run named-checkzone on {rel}: {e}"));
    Some(output.status.success())
}

fn assert_bind_accepts(rel: &str) {
    if let Some(ok) = named_checkzone(rel) {
        assert!(ok, "named-checkzone rejects {rel}, which dnslab accepts");
    }
}

fn assert_bind_rejects(rel: &str) {
    if let Some(ok) = named_checkzone(rel) {
        assert!(!ok, "named-checkzone accepts {rel}, which dnslab rejects");
    }
}

// ---------------------------------------------------------------------------
// Files that load.

/// $TTL with units, $ORIGIN, @, relative and absolute names, an SOA across
/// lines with comments, omitted owners, TTL and class in either order,
/// quoted strings holding `;` and escapes, and names inside RDATA made
/// absolute against the origin.
#[test]
fn every_master_file_syntax_loads_as_bind_reads_it() {
    let rel = "valid/syntax.zone";
    let file = read_clean(rel, None);
    assert_eq!(file.origin, name("example.com."));
    assert!(file.warnings.is_empty(), "{:?}", file.warnings);
    assert_eq!(
        described(&file),
        [
            "valid/syntax.zone:4 example.com. 5400 SOA ns1.example.com. hostmaster.example.com. 2024010101 3600 900 604800 300",
            "valid/syntax.zone:10 example.com. 5400 NS ns1.example.com.",
            "valid/syntax.zone:11 example.com. 5400 NS ns2.example.net.",
            "valid/syntax.zone:12 ns1.example.com. 5400 A 192.0.2.1",
            "valid/syntax.zone:13 www.example.com. 300 A 192.0.2.10",
            "valid/syntax.zone:14 www.example.com. 600 AAAA 2001:db8::10",
            "valid/syntax.zone:15 mail.example.com. 5400 MX 10 ns1.example.com.",
            "valid/syntax.zone:16 example.com. 5400 MX 20 mail.example.com.",
            "valid/syntax.zone:17 _sip._tcp.example.com. 5400 SRV 1 2 5060 ns1.example.com.",
            "valid/syntax.zone:18 txt.example.com. 5400 TXT a;bsay \"hi\"plainA",
            "valid/syntax.zone:19 caa.example.com. 5400 CAA 0 issue \"letsencrypt.org\"",
            "valid/syntax.zone:20 alias.example.com. 5400 CNAME www.example.com.",
            "valid/syntax.zone:21 1.2.example.com. 5400 PTR www.example.com.",
            "valid/syntax.zone:22 old.example.com. 86400 DNAME target.example.net.",
            "valid/syntax.zone:23 sub.example.com. 5400 NS ns.sub.example.com.",
            "valid/syntax.zone:24 ns.sub.example.com. 5400 A 192.0.2.53",
        ]
    );
    // The TXT strings stay separate character-strings.
    let RData::TXT(txt) = &file.records[9].record.data else {
        panic!("record 9 is the TXT");
    };
    let strings: Vec<&[u8]> = txt.txt_data.iter().map(|s| &s[..]).collect();
    assert_eq!(strings, [&b"a;b"[..], b"say \"hi\"", b"plain", b"A"]);
    assert_bind_accepts(rel);
}

/// RFC 3597: TYPEnnn with `\#` data stays opaque, CLASS1 is IN, `\#` data
/// for a known type is decoded into that type; with no $ORIGIN the
/// absolute SOA owner is the origin.
#[test]
fn unknown_types_and_generic_data_follow_rfc_3597() {
    let rel = "valid/rfc3597.zone";
    let file = read_clean(rel, None);
    assert_eq!(file.origin, name("example.com."));
    assert_eq!(
        described(&file)[2..],
        [
            "valid/rfc3597.zone:5 ns1.example.com. 300 A 192.0.2.1",
            "valid/rfc3597.zone:6 unknown.example.com. 300 TYPE65534 \\# 4 0a000001",
            "valid/rfc3597.zone:7 generic.example.com. 300 A 192.0.2.2",
            "valid/rfc3597.zone:8 empty.example.com. 300 TYPE65535 \\# 0 ",
        ]
    );
    assert_bind_accepts(rel);
}

/// Types hickory parses: names inside SVCB and NAPTR data are made
/// absolute against the origin; DS is kept as its wire form.
#[test]
fn hickory_parsed_types_get_absolute_names() {
    let rel = "valid/types.zone";
    let file = read_clean(rel, None);
    assert_eq!(
        described(&file)[3..],
        [
            "valid/types.zone:8 box.example.com. 300 HINFO PC Linux",
            "valid/types.zone:9 box.example.com. 300 SSHFP 1 1 0123456789abcdef0123456789abcdef01234567",
            "valid/types.zone:10 _443._tcp.www.example.com. 300 TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "valid/types.zone:11 svc.example.com. 300 SVCB 1 ns1.example.com. alpn=h2, port=8443",
            "valid/types.zone:12 www.example.com. 300 HTTPS 1 . alpn=h2,",
            "valid/types.zone:13 sip.example.com. 300 NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com.",
            "valid/types.zone:14 sub.example.com. 300 NS ns1.example.com.",
            "valid/types.zone:15 sub.example.com. 300 TYPE43 \\# 36 30390802\
             0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ]
    );
    assert_bind_accepts(rel);
}

/// Without $TTL, BIND gives the SOA its MINIMUM (with a warning) and makes
/// it the default for later records without a TTL; an explicit TTL applies
/// to its own record.
#[test]
fn without_ttl_directive_the_soa_minimum_then_the_last_ttl_apply() {
    let rel = "valid/no-ttl.zone";
    let file = read_clean(rel, None);
    assert_eq!(
        described(&file),
        [
            "valid/no-ttl.zone:4 example.com. 600 SOA ns1.example.com. hostmaster.example.com. 1 3600 900 604800 600",
            "valid/no-ttl.zone:5 example.com. 600 NS ns1.example.com.",
            "valid/no-ttl.zone:6 ns1.example.com. 600 A 192.0.2.1",
            "valid/no-ttl.zone:7 www.example.com. 120 A 192.0.2.2",
            // The SOA MINIMUM became the default TTL, as BIND does.
            "valid/no-ttl.zone:8 www.example.com. 600 AAAA 2001:db8::2",
        ]
    );
    let warnings: Vec<String> = file
        .warnings
        .iter()
        .map(|w| {
            format!(
                "{}: {}",
                place(&w.location.file, w.location.line),
                w.message
            )
        })
        .collect();
    assert_eq!(
        warnings,
        ["valid/no-ttl.zone:4: no TTL specified; using SOA MINIMUM instead"]
    );
    assert_bind_accepts(rel);
}

/// BIND's $GENERATE: `$`, `${offset,width,base}` in decimal, hex and
/// nibbles, a stepped range, TTL and class between owner and type, and
/// `$$` / `\$` for a literal dollar.
#[test]
fn generate_expands_like_bind() {
    let rel = "valid/generate.zone";
    let file = read_clean(rel, None);
    assert_eq!(
        described(&file)[3..],
        [
            "valid/generate.zone:7 host1.example.com. 300 A 192.0.2.1",
            "valid/generate.zone:7 host3.example.com. 300 A 192.0.2.3",
            "valid/generate.zone:7 host5.example.com. 300 A 192.0.2.5",
            "valid/generate.zone:8 018-x.example.com. 60 CNAME www08.example.com.",
            "valid/generate.zone:8 019-x.example.com. 60 CNAME www09.example.com.",
            "valid/generate.zone:9 a.rev.example.com. 300 PTR host\\$\\$.example.com.",
            "valid/generate.zone:10 www09.example.com. 300 A 192.0.2.9",
            "valid/generate.zone:11 www08.example.com. 300 A 192.0.2.8",
        ]
    );
    assert_bind_accepts(rel);
}

/// $INCLUDE with and without an origin; an $ORIGIN inside an included
/// file does not leak into the including file, and each record keeps the
/// file and line it came from.
#[test]
fn include_keeps_origin_changes_inside_the_included_file() {
    let rel = "valid/include.zone";
    let file = read_clean(rel, None);
    assert_eq!(
        described(&file)[3..],
        [
            "valid/include/hosts.inc:2 inside.example.com. 300 A 192.0.2.20",
            "valid/include/hosts.inc:4 there.moved.example.com. 300 A 192.0.2.21",
            "valid/include.zone:8 after.example.com. 300 A 192.0.2.99",
            "valid/include/sub.inc:2 lab.example.com. 300 A 192.0.2.30",
            "valid/include/sub.inc:3 www.lab.example.com. 300 A 192.0.2.31",
            // The owner before the include is still the previous owner.
            "valid/include.zone:10 after.example.com. 300 A 192.0.2.100",
        ]
    );
    assert_bind_accepts(rel);
}

/// A zone name given by the caller wins over the file's SOA owner.
#[test]
fn a_given_origin_completes_relative_names() {
    let file = read_clean("valid/syntax.zone", Some("example.com."));
    assert_eq!(file.origin, name("example.com."));
    let file = read("broken/no-origin.zone", Some("example.org.")).expect("loads with an origin");
    assert_eq!(file.records[0].record.name, name("example.org."));
}

// ---------------------------------------------------------------------------
// Files the reader rejects, each at its line.

/// A TTL that is neither seconds nor BIND's units (`1x`) is a typo the
/// operator must see: the file is rejected at that record's line with the
/// text as written, instead of the record getting some default TTL and
/// being served for a time nobody chose.
#[test]
fn bad_ttl_is_rejected_at_its_line() {
    let kind = rejected_at("broken/bad-ttl.zone", "broken/bad-ttl.zone:6");
    assert!(
        matches!(kind, ReadErrorKind::BadTtl(ref t) if t == "1x"),
        "{kind}"
    );
}

/// A directive dnslab does not know (`$FOO`) is rejected at its line, as
/// BIND rejects it, rather than skipped: skipping a misspelt `$ORIGIN` or
/// `$INCLUDE` would load a different zone from the one the operator wrote.
#[test]
fn unknown_directive_is_rejected_at_its_line() {
    let kind = rejected_at(
        "broken/unknown-directive.zone",
        "broken/unknown-directive.zone:6",
    );
    assert!(
        matches!(kind, ReadErrorKind::UnknownDirective(ref d) if d == "$FOO"),
        "{kind}"
    );
}

/// The error points at the line that opened the parenthesis, not at the
/// end of the file where the lexer noticed.
#[test]
fn unterminated_parenthesis_is_reported_where_it_opened() {
    let kind = rejected_at(
        "broken/unterminated-paren.zone",
        "broken/unterminated-paren.zone:6",
    );
    assert!(
        matches!(kind, ReadErrorKind::UnterminatedParenthesis),
        "{kind}"
    );
}

/// Record data that does not parse for its type (an A record with octet
/// 300) is rejected at its line, naming the type, so the operator learns
/// which record is wrong, and no half-read record is ever served.
#[test]
fn bad_rdata_is_rejected_at_its_line() {
    let kind = rejected_at("broken/bad-rdata.zone", "broken/bad-rdata.zone:6");
    assert!(
        matches!(
            kind,
            ReadErrorKind::BadRdata {
                rtype: RecordType::A,
                ..
            }
        ),
        "{kind}"
    );
}

/// A type name the reader does not know (`BOGUS`) is rejected at its line
/// with the name as written: types dnslab cannot parse must be written in
/// RFC 3597 form (`TYPEnnn \# ...`), never guessed at.
#[test]
fn unknown_type_is_rejected_at_its_line() {
    let kind = rejected_at("broken/unknown-type.zone", "broken/unknown-type.zone:6");
    assert!(
        matches!(kind, ReadErrorKind::UnknownType(ref t) if t == "BOGUS"),
        "{kind}"
    );
}

/// `$INCLUDE` of a file that does not exist fails the whole zone, at the
/// `$INCLUDE` line of the including file: a zone silently missing an
/// included part would answer NXDOMAIN for every name in it.
#[test]
fn include_of_a_missing_file_is_rejected_at_the_include_line() {
    let kind = rejected_at(
        "broken/missing-include.zone",
        "broken/missing-include.zone:6",
    );
    assert!(matches!(kind, ReadErrorKind::Io { .. }), "{kind}");
}

/// An error inside an included file names that file and its line.
#[test]
fn errors_inside_an_included_file_name_that_file() {
    let kind = rejected_at("broken/bad-include.zone", "broken/include/bad.inc:2");
    assert!(matches!(kind, ReadErrorKind::BadRdata { .. }), "{kind}");
}

/// BIND: a record without TTL before any $TTL, explicit TTL or SOA.
#[test]
fn a_first_record_without_any_ttl_is_rejected() {
    let kind = rejected_at("broken/no-ttl.zone", "broken/no-ttl.zone:2");
    assert!(matches!(kind, ReadErrorKind::NoTtl), "{kind}");
}

/// A file with relative names, no `$ORIGIN` and no origin given by the
/// caller (`--zone NAME=`) has nothing to complete them with: the reader
/// stops at the first relative name with `NoOrigin`, rather than guessing
/// the root and serving names of the wrong zone.
#[test]
fn relative_names_without_any_origin_are_rejected() {
    let (at, kind) = read_error("broken/no-origin.zone", None);
    assert_eq!(at, "broken/no-origin.zone:2");
    assert!(matches!(kind, ReadErrorKind::NoOrigin(_)), "{kind}");
}

// ---------------------------------------------------------------------------
// Files that read but break zone rules.

/// A zone has exactly one SOA, at its apex (RFC 1035 5.2): a second one
/// (here with another serial) leaves it unclear which one the zone's
/// serial and negative TTL are. It is a problem at the second record's
/// line, where the operator has to look; BIND rejects the zone too.
#[test]
fn two_soa_records_are_a_problem_at_the_second() {
    assert_eq!(
        problems("broken/two-soa.zone"),
        [(
            "broken/two-soa.zone:6".into(),
            name("example.com."),
            ProblemKind::MultipleSoa
        )]
    );
    assert_bind_rejects("broken/two-soa.zone");
}

/// A zone without NS records at its apex cannot be delegated to or
/// verified by anyone (RFC 1034 4.2.1). The problem is reported at the
/// SOA, the one line that stands for the apex, since there is no NS line
/// to point at; BIND rejects the zone too.
#[test]
fn a_zone_without_apex_ns_is_a_problem_at_its_soa() {
    assert_eq!(
        problems("broken/missing-ns.zone"),
        [(
            "broken/missing-ns.zone:3".into(),
            name("example.com."),
            ProblemKind::MissingApexNs
        )]
    );
    assert_bind_rejects("broken/missing-ns.zone");
}

/// RFC 1034 3.6.2, with the message named after the rule.
#[test]
fn cname_and_other_data_is_a_problem_at_the_other_record() {
    let found = problems("broken/cname-and-a.zone");
    assert_eq!(
        found,
        [(
            "broken/cname-and-a.zone:7".into(),
            name("www.example.com."),
            ProblemKind::CnameAndOtherData(RecordType::A)
        )]
    );
    let file = read("broken/cname-and-a.zone", None).expect("reads");
    let message = check_zone(&file.origin, &file.records)[0].to_string();
    assert!(
        message.ends_with(
            "broken/cname-and-a.zone:7: www.example.com.: CNAME and other data (A) at the same name"
        ),
        "{message}"
    );
    assert_bind_rejects("broken/cname-and-a.zone");
}

/// A second CNAME is kept by the reader, not silently replacing the first,
/// so the checker can report it.
#[test]
fn a_second_cname_is_kept_and_reported() {
    let file = read("broken/two-cnames.zone", None).expect("reads");
    let cnames = file
        .records
        .iter()
        .filter(|r| r.record.record_type() == RecordType::CNAME)
        .count();
    assert_eq!(cnames, 2);
    assert_eq!(
        problems("broken/two-cnames.zone"),
        [(
            "broken/two-cnames.zone:7".into(),
            name("www.example.com."),
            ProblemKind::MultipleCnames
        )]
    );
    assert_bind_rejects("broken/two-cnames.zone");
}

/// A CNAME at the apex would sit beside the SOA and NS records the apex
/// must have, which RFC 1034 3.6.2 forbids; it is reported as its own
/// rule (`CnameAtApex`) at the CNAME's line, so the message says why
/// instead of a generic "CNAME and other data".
#[test]
fn cname_at_the_apex_is_a_problem() {
    assert_eq!(
        problems("broken/cname-at-apex.zone"),
        [(
            "broken/cname-at-apex.zone:6".into(),
            name("example.com."),
            ProblemKind::CnameAtApex
        )]
    );
    assert_bind_rejects("broken/cname-at-apex.zone");
}

/// What BIND loads with a warning or silently, dnslab loads with a warning:
/// the zone is served, the warning logged (and printed by `dnslab check`),
/// and `named-checkzone` accepts the file too.
fn assert_loads_with_warning(rel: &str) {
    let zone = dnslab_authoritative::load_zone(&data_dir().join(rel), Some(&name("example.com.")))
        .unwrap_or_else(|e| panic!("{rel} does not load: {e}"));
    assert!(!zone.warnings().is_empty(), "{rel}: no warning");
    assert!(zone.warnings().iter().all(|w| w.kind.is_warning()));
    assert_bind_accepts(rel);
}

/// A record whose owner is outside the zone (www.example.org. in
/// example.com.) could never be served authoritatively and may be a
/// forgotten origin: dnslab warns at its line, naming the apex, and loads
/// the zone without it, as BIND does ("ignoring out-of-zone data").
#[test]
fn out_of_zone_data_is_a_warning_and_left_out() {
    assert_eq!(
        problems("broken/out-of-zone.zone"),
        [(
            "broken/out-of-zone.zone:6".into(),
            name("www.example.org."),
            ProblemKind::OutOfZone {
                apex: name("example.com.")
            }
        )]
    );
    assert_loads_with_warning("broken/out-of-zone.zone");
}

/// Glue (the A of the cut's name server) is fine below a cut; a TXT there
/// is occluded by the delegation: warned about, loaded (BIND loads it
/// without a word), never answered.
#[test]
fn data_below_a_delegation_other_than_glue_is_a_warning() {
    assert_eq!(
        problems("broken/below-delegation.zone"),
        [(
            "broken/below-delegation.zone:8".into(),
            name("www.sub.example.com."),
            ProblemKind::BelowDelegation {
                cut: name("sub.example.com."),
                rtype: RecordType::TXT
            }
        )]
    );
    assert_loads_with_warning("broken/below-delegation.zone");
}

/// A delegation to a name server inside the delegated zone
/// (ns.sub.example.com. for sub.example.com.) cannot be followed without
/// its address as glue: finding the server's address would need an answer
/// from that very server. named-checkzone warns ("has no REQUIRED GLUE")
/// and loads the zone; so does dnslab, at the NS line, naming the cut and
/// the server.
#[test]
fn an_in_bailiwick_name_server_without_glue_is_a_warning() {
    assert_eq!(
        problems("broken/missing-glue.zone"),
        [(
            "broken/missing-glue.zone:6".into(),
            name("sub.example.com."),
            ProblemKind::MissingGlue {
                cut: name("sub.example.com."),
                ns: name("ns.sub.example.com.")
            }
        )]
    );
    assert_loads_with_warning("broken/missing-glue.zone");
}

/// RFC 6672 2.3: a DNAME owner has no descendants in the zone; one there
/// is occluded: warned about, loaded (as by BIND), never answered.
#[test]
fn data_below_a_dname_is_a_warning() {
    assert_eq!(
        problems("broken/below-dname.zone"),
        [(
            "broken/below-dname.zone:7".into(),
            name("www.old.example.com."),
            ProblemKind::BelowDname {
                dname: name("old.example.com."),
                rtype: RecordType::A
            }
        )]
    );
    assert_loads_with_warning("broken/below-dname.zone");
}

/// RFC 1034 6.1's own EDU zone: the apex's name server C.ISI.EDU lies
/// below the ISI.EDU delegation, without glue. named-checkzone loads it
/// with a warning; a secondary of such a zone must serve it as BIND does,
/// so dnslab loads it too, and answers for it.
#[test]
fn the_rfc_1034_edu_zone_loads_with_a_warning() {
    let path = data_dir().join("valid/rfc1034-edu.zone");
    let zone = dnslab_authoritative::load_zone(&path, Some(&name("EDU.")))
        .unwrap_or_else(|e| panic!("the EDU zone does not load: {e}"));
    let warned: Vec<String> = zone.warnings().iter().map(|w| w.kind.to_string()).collect();
    assert!(
        warned
            .iter()
            .any(|w| w.contains("C.ISI.EDU.") && w.contains("ISI.EDU.")),
        "{warned:?}"
    );
    if let Some(program) = require("named-checkzone", "bind9-utils") {
        let output = Command::new(program)
            .args(["-i", "local", "EDU"])
            .arg(&path)
            .output()
            .expect("run named-checkzone");
        assert!(
            output.status.success(),
            "named-checkzone loads it: {output:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// `dnslab check`.

/// Runs `dnslab check ARGS` in the data directory; (success, stdout).
fn dnslab_check(args: &[&str]) -> (bool, String) {
    let output = dnslab()
        .arg("check")
        .args(args)
        .current_dir(data_dir())
        .output()
        .expect("run dnslab check");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// `dnslab check` on a good file prints one summary line per zone
/// (records, names, delegations) and exits 0, so an operator sees at a
/// glance that the file holds what they expect before loading it.
#[test]
fn check_command_prints_a_summary_for_a_good_zone() {
    let (ok, stdout) = dnslab_check(&["example.com=valid/syntax.zone"]);
    assert!(ok, "{stdout}");
    assert_eq!(
        stdout,
        "valid/syntax.zone: zone example.com. OK: 16 records, 12 names, 1 delegations\n"
    );
}

/// Every file is checked even after a bad one; problems are printed as
/// `file:line: message` and the exit code is 1.
#[test]
fn check_command_reports_every_problem_and_fails() {
    let (ok, stdout) = dnslab_check(&[
        "--origin",
        "example.com",
        "broken/cname-and-a.zone",
        "broken/bad-ttl.zone",
        "valid/generate.zone",
    ]);
    assert!(!ok, "{stdout}");
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "broken/cname-and-a.zone:7: www.example.com.: CNAME and other data (A) at the same name",
            "broken/bad-ttl.zone:6: bad TTL \"1x\": expected seconds or units like 1h30m",
            "valid/generate.zone: zone example.com. OK: 11 records, 10 names, 0 delegations",
        ]
    );
}

/// A file that loads with a warning (no `$TTL`, so the SOA MINIMUM is
/// used, as BIND does) passes `dnslab check`, and the warning is printed
/// first as `file:line: warning: ...`: the operator learns of the implicit
/// TTL without the check failing.
#[test]
fn check_command_prints_warnings_with_their_line() {
    let (ok, stdout) = dnslab_check(&["valid/no-ttl.zone"]);
    assert!(ok, "{stdout}");
    assert_eq!(
        stdout.lines().next(),
        Some("valid/no-ttl.zone:4: warning: no TTL specified; using SOA MINIMUM instead")
    );
}
