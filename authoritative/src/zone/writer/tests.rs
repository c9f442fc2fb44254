//! The writer's promise: every zone the reader reads, written and read
//! back, gives exactly the same records, and `named-checkzone` accepts
//! what it writes.

use std::path::{Path, PathBuf};
use std::process::Command;

use hickory_proto::rr::{Name, Record};

use super::*;
use crate::temp_dir::TempDir;
use crate::zone::reader::{read_master_file, unknown};
use crate::zone::store::testing::{name, record};
use crate::zone::{read_and_build, SourcedRecord};

/// Every master file the project ships that the reader accepts: the
/// default hierarchy, the examples, the interop zones (signed with NSEC
/// and NSEC3, every type the peers serve) and the reader's valid cases.
fn shipped_zone_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in [
        "zones",
        "zones/default",
        "tests/data/interop",
        "tests/data/zonefiles/valid",
        "tests/data/topologies/zones",
    ] {
        let entries = std::fs::read_dir(root.join(dir)).expect(dir);
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "zone") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() > 30, "{files:?}");
    files
}

/// Records as a sorted list of their exact wire forms (owner case, TTL,
/// type, data), so that two readings compare as multisets.
fn exact(records: impl IntoIterator<Item = Record>) -> Vec<(Vec<u8>, String)> {
    let mut wires: Vec<(Vec<u8>, String)> = records
        .into_iter()
        .map(|record| {
            let mut bytes = Vec::new();
            encode_record(&record, &mut bytes).unwrap();
            (bytes, record.to_string())
        })
        .collect();
    wires.sort();
    wires
}

/// Asserts two readings hold the same records, showing those that differ.
#[track_caller]
fn assert_same(
    back: impl IntoIterator<Item = Record>,
    records: impl IntoIterator<Item = Record>,
    what: &str,
) {
    let (back, records) = (exact(back), exact(records));
    if back != records {
        let missing: Vec<&String> = records
            .iter()
            .filter(|r| !back.contains(r))
            .map(|r| &r.1)
            .collect();
        let extra: Vec<&String> = back
            .iter()
            .filter(|r| !records.contains(r))
            .map(|r| &r.1)
            .collect();
        panic!(
            "{what}: lost {missing:#?}\ngained {extra:#?}\n({} records before, {} after)",
            records.len(),
            back.len()
        );
    }
}

fn plain(records: Vec<SourcedRecord>) -> Vec<Record> {
    records.into_iter().map(|r| r.record).collect()
}

/// Writes `records` to `dir/NAME.zone` and reads the file back.
fn write_and_read(dir: &Path, origin: &Name, records: &[Record]) -> (PathBuf, Vec<Record>) {
    let path = dir.join(format!("{}zone", origin.to_ascii()));
    let text = zone_text(origin, records).unwrap();
    std::fs::write(&path, &text).unwrap();
    let back = read_master_file(&path, Some(origin)).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(back.warnings.is_empty(), "{:?}", back.warnings);
    (path, plain(back.records))
}

#[test]
fn every_shipped_zone_reads_back_exactly_as_written() {
    let dir = TempDir::new("writer-round-trip");
    for file in shipped_zone_files() {
        // The topology tests' broken zone is refused by the reader.
        let Ok(read) = read_master_file(&file, None) else {
            continue;
        };
        let records = plain(read.records);
        let (_, back) = write_and_read(dir.path(), &read.origin, &records);
        assert_same(back, records, &file.display().to_string());
    }
}

/// The store's view of a zone ([`Zone::records`](crate::zone::Zone)),
/// written and loaded again, is the same zone: what zone-flush relies on.
#[test]
fn a_loaded_zone_written_and_loaded_again_is_the_same_zone() {
    let dir = TempDir::new("writer-zone");
    for file in shipped_zone_files() {
        let Ok(built) = read_and_build(&file, None) else {
            continue;
        };
        // Some test zones are read fine but refused by the checks.
        let Ok(zone) = built.zone else { continue };
        let records: Vec<Record> = zone.records().collect();
        let (path, _) = write_and_read(dir.path(), &built.origin, &records);
        let again = crate::zone::load_zone(&path, Some(&built.origin)).unwrap();
        assert_same(again.records(), records, &file.display().to_string());
        assert_eq!(again.summary(), zone.summary(), "{}", file.display());
    }
}

/// `named-checkzone` (BIND) accepts every file the writer writes, with the
/// same verdict as for the file it was read from.
#[test]
fn named_checkzone_accepts_what_the_writer_writes() {
    let Some(checkzone) = require_program("named-checkzone") else {
        return;
    };
    let dir = TempDir::new("writer-checkzone");
    let verdict = |origin: &Name, path: &Path| {
        let output = Command::new(&checkzone)
            .arg(origin.to_ascii())
            .arg(path)
            .output()
            .expect("run named-checkzone");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let mut checked = 0;
    for file in shipped_zone_files() {
        let Ok(read) = read_master_file(&file, None) else {
            continue;
        };
        let (original, _) = verdict(&read.origin, &file);
        if !original {
            continue; // A zone BIND refuses as it is (our own test cases).
        }
        let (path, _) = write_and_read(dir.path(), &read.origin, &plain(read.records));
        let (written, report) = verdict(&read.origin, &path);
        assert!(
            written,
            "named-checkzone refused the file written for {}:\n{report}\n{}",
            file.display(),
            std::fs::read_to_string(&path).unwrap()
        );
        checked += 1;
    }
    assert!(checked > 25, "only {checked} zones checked");
}

/// The program's path; `None` (after saying so) where it is not
/// installed, except in CI, which installs it (`.ci/run`) and must fail
/// without it.
fn require_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        assert!(
            !std::env::var("CI").is_ok_and(|ci| ci == "true"),
            "{program} is not installed but CI=true: apt-get install bind9-utils (see .ci/run)"
        );
        eprintln!("SKIPPED: {program} not installed (apt-get install bind9-utils)");
    }
    found
}

#[test]
fn the_file_has_a_header_origin_soa_first_and_relative_owners() {
    let origin = name("example.");
    let records: Vec<Record> = [
        "www 300 IN A 192.0.2.1",
        "@ 3600 IN NS ns.example.net.",
        "@ 3600 IN SOA ns.example.net. admin.example. 7 7200 900 1209600 300",
        "a.b 60 IN TXT \"x y\" \"z\"",
        "b 60 IN MX 10 mail.example.",
    ]
    .iter()
    .map(|line| record(&origin, line))
    .collect();
    let text = zone_text(&origin, &records).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("; Zone example. at serial 7, written by dnslab."));
    assert!(lines[1..3].iter().all(|l| l.starts_with("; ")), "{text}");
    assert_eq!(
        lines[3..],
        [
            "$ORIGIN example.",
            "@\t3600\tIN\tSOA\tns.example.net. admin.example. 7 7200 900 1209600 300",
            "@\t3600\tIN\tNS\tns.example.net.",
            "b\t60\tIN\tMX\t10 mail.example.",
            "a.b\t60\tIN\tTXT\t\"x y\" \"z\"",
            "www\t300\tIN\tA\t192.0.2.1",
        ]
    );
}

#[test]
fn odd_names_and_data_are_escaped_or_written_generically() {
    let origin = name("example.");
    let owner = |labels: &[&[u8]]| {
        let mut name = Name::root();
        for label in labels {
            name = name
                .append_label(hickory_proto::rr::Label::from_raw_bytes(label).unwrap())
                .unwrap();
        }
        name.append_domain(&origin).unwrap()
    };
    let records = vec![
        record(
            &origin,
            "@ 3600 IN SOA ns.example.net. admin.example. 1 7200 900 1209600 300",
        ),
        Record::from_rdata(
            owner(&[b"@", b"$x", b"a.b", b"sp ace", b"\x00\xff;()\"\\"]),
            60,
            RData::CNAME(hickory_proto::rr::rdata::CNAME(owner(&[b"t\x07"]))),
        ),
        // A DS without digest has no presentation form.
        Record::from_rdata(
            name("sub.example."),
            60,
            unknown(RecordType::DS, vec![0, 1, 13, 2]),
        ),
        Record::from_rdata(
            name("u.example."),
            60,
            unknown(RecordType::Unknown(65280), Vec::new()),
        ),
        Record::from_rdata(
            name("WiTh.Case.example."),
            60,
            RData::TXT(hickory_proto::rr::rdata::TXT::from_bytes(vec![
                b"\x00\xe9\"\\;".as_slice(),
                b"",
            ])),
        ),
    ];
    let text = zone_text(&origin, &records).unwrap();
    assert!(text.contains("sub\t60\tIN\tDS\t\\# 4 00010D02\n"), "{text}");
    assert!(text.contains("u\t60\tIN\tTYPE65280\t\\# 0\n"), "{text}");
    assert!(
        text.contains("\\@.\\$x.a\\.b.sp\\032ace.\\000\\255\\;\\(\\)\\\"\\\\\t60\tIN\tCNAME\tt\\007.example.\n"),
        "{text}"
    );
    let dir = TempDir::new("writer-odd");
    let (_, back) = write_and_read(dir.path(), &origin, &records);
    assert_same(back, records, "written");
}

#[test]
fn a_zone_of_the_root_is_written_relative_to_it() {
    let origin = Name::root();
    let records = vec![
        record(
            &origin,
            "@ 86400 IN SOA a.root-servers.lab. admin.lab. 1 1800 900 604800 300",
        ),
        record(&origin, "com. 86400 IN NS a.gtld-servers.lab."),
    ];
    let text = zone_text(&origin, &records).unwrap();
    assert!(text.contains("$ORIGIN .\n@\t86400\tIN\tSOA\t"), "{text}");
    assert!(
        text.contains("\ncom\t86400\tIN\tNS\ta.gtld-servers.lab.\n"),
        "{text}"
    );
    let dir = TempDir::new("writer-root");
    let (_, back) = write_and_read(dir.path(), &origin, &records);
    assert_same(back, records, "written");
}
