//! The journal's promises: what was appended is there after reopening; a
//! torn or corrupt tail is cut with a warning, never a failed load; a bad
//! header is an error; compaction keeps a reachable chain and survives a
//! crash; replay rebuilds the zone or refuses with a reason; and a process
//! killed with SIGKILL while appending loses nothing it acknowledged.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hickory_proto::rr::{Name, Record};

use super::*;
use crate::temp_dir::TempDir;
use crate::zone::diff::{apply, diff};
use crate::zone::store::testing::{name, record, texts};

fn zone() -> Name {
    name("example.")
}

fn soa(serial: u32) -> String {
    format!("@ 3600 IN SOA ns.example.net. admin.example. {serial} 7200 900 1209600 300")
}

fn records(lines: &[String]) -> Vec<Record> {
    lines.iter().map(|line| record(&zone(), line)).collect()
}

/// The changeset `from -> to` that removes and adds the records given
/// (SOAs first, as RFC 1995 lays them out).
fn changeset(from: u32, to: u32, removed: &[&str], added: &[&str]) -> Changeset {
    let list = |serial, lines: &[&str]| {
        let mut all = vec![soa(serial)];
        all.extend(lines.iter().map(|l| l.to_string()));
        records(&all)
    };
    Changeset {
        from_serial: from,
        to_serial: to,
        removed: list(from, removed),
        added: list(to, added),
    }
}

/// The n-th changeset of a test chain: serial n to n + 1, adding a host.
fn step(n: u32) -> Changeset {
    let host = format!("h{n} 300 IN A 192.0.{}.{}", n / 250 % 250, n % 250);
    changeset(n, n + 1, &[], &[&host])
}

/// Changesets compared as their records' texts (TTL and case included).
fn shown(changesets: &[Changeset]) -> Vec<(u32, u32, Vec<String>, Vec<String>)> {
    changesets
        .iter()
        .map(|c| {
            (
                c.from_serial,
                c.to_serial,
                texts(&c.removed),
                texts(&c.added),
            )
        })
        .collect()
}

/// A version of a zone as the sorted texts of its records.
fn sorted(records: &[Record]) -> Vec<String> {
    let mut texts = texts(records);
    texts.sort();
    texts
}

fn open(path: &Path) -> (Journal, OpenReport) {
    open_with(path, JournalLimits::default())
}

fn open_with(path: &Path, limits: JournalLimits) -> (Journal, OpenReport) {
    Journal::open(path, &zone(), limits).unwrap_or_else(|e| panic!("{e}"))
}

fn changes(journal: &Journal, serial: u32) -> Vec<Changeset> {
    match journal.changes_since(serial).unwrap() {
        Chain::Changes(changes) => changes,
        other => panic!("from {serial}: {other:?}"),
    }
}

#[test]
fn appended_changesets_are_there_after_reopening() {
    let dir = TempDir::new("journal-reopen");
    let path = dir.path().join("example.journal");
    let (mut journal, report) = open(&path);
    assert!(report.created);
    let all = [
        changeset(1, 2, &[], &["www 300 IN A 192.0.2.1"]),
        changeset(
            2,
            3,
            &["www 300 IN A 192.0.2.1"],
            &["www 60 IN A 192.0.2.1", "Mail 300 IN MX 10 mx.example."],
        ),
        changeset(3, 4, &["Mail 300 IN MX 10 mx.example."], &[]),
    ];
    journal.append(ChangeKind::Update, &all[0]).unwrap();
    journal.append_all(ChangeKind::Update, &all[1..]).unwrap();
    assert_eq!(journal.syncs(), 2, "one flush per call");
    drop(journal);

    let (journal, report) = open(&path);
    assert_eq!(
        report,
        OpenReport {
            changesets: 3,
            ..OpenReport::default()
        }
    );
    let serials: Vec<(u32, u32)> = journal
        .entries()
        .iter()
        .map(|e| (e.from_serial, e.to_serial))
        .collect();
    assert_eq!(serials, [(1, 2), (2, 3), (3, 4)]);
    assert!(journal
        .entries()
        .iter()
        .all(|e| e.kind == ChangeKind::Update));
    assert_eq!(shown(&changes(&journal, 1)), shown(&all));
    assert_eq!(shown(&changes(&journal, 3)), shown(&all[2..]));
    assert_eq!(journal.changes_since(4).unwrap(), Chain::UpToDate);
    assert_eq!(journal.changes_since(0).unwrap(), Chain::NotReachable);
    assert_eq!(journal.newest_serial(), Some(4));
    assert!(journal.has_unflushed());
}

#[test]
fn group_commit_flushes_once_for_many_changesets() {
    let dir = TempDir::new("journal-group");
    let (mut journal, _) = open(&dir.path().join("j"));
    let batch: Vec<Changeset> = (1..=20).map(step).collect();
    journal.append_all(ChangeKind::Update, &batch).unwrap();
    assert_eq!(journal.syncs(), 1);
    assert_eq!(journal.entries().len(), 20);
    // A batch with a gap is refused whole: nothing of it is written.
    let gap = [step(21), step(23)];
    assert!(matches!(
        journal.append_all(ChangeKind::Update, &gap),
        Err(JournalError::NotContinuous {
            newest: 22,
            from: 23,
            ..
        })
    ));
    assert_eq!((journal.entries().len(), journal.syncs()), (20, 1));
}

#[test]
fn appends_must_continue_the_chain_and_move_the_serial_forward() {
    let dir = TempDir::new("journal-serials");
    let (mut journal, _) = open(&dir.path().join("j"));
    // RFC 1982: u32::MAX -> 0 moves forward.
    journal
        .append(ChangeKind::Update, &changeset(u32::MAX, 0, &[], &[]))
        .unwrap();
    let err = journal
        .append(ChangeKind::Update, &changeset(5, 6, &[], &[]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "changeset 5 -> 6 does not continue the journal, which is at serial 0"
    );
    assert!(matches!(
        journal.append(ChangeKind::Update, &changeset(0, 0, &[], &[])),
        Err(JournalError::SerialNotNewer { from: 0, to: 0 })
    ));
    // Half the circle away is not "greater" either.
    assert!(matches!(
        journal.append(ChangeKind::Update, &changeset(0, 1 << 31, &[], &[])),
        Err(JournalError::SerialNotNewer { .. })
    ));
    let mut no_soa = changeset(0, 1, &[], &["www 300 IN A 192.0.2.1"]);
    no_soa.added.remove(0);
    assert!(matches!(
        journal.append(ChangeKind::Update, &no_soa),
        Err(JournalError::Malformed { from: 0, to: 1 })
    ));
    assert_eq!(journal.entries().len(), 1);
    assert_eq!(journal.syncs(), 1);
}

/// Builds a journal of three changesets and returns its bytes and where
/// each entry starts.
fn three_entries(path: &Path) -> (Vec<u8>, Vec<u64>) {
    let (mut journal, _) = open(path);
    journal
        .append_all(ChangeKind::Update, &[step(1), step(2), step(3)])
        .unwrap();
    let offsets = journal.entries().iter().map(|e| e.offset).collect();
    (std::fs::read(path).unwrap(), offsets)
}

/// A crash in the middle of an append leaves any prefix of its bytes:
/// cut the file at every byte of the last entry; each time, opening keeps
/// the two complete entries, cuts the rest with a warning, and appending
/// goes on from there.
#[test]
fn a_torn_last_entry_is_cut_at_every_byte_offset() {
    let dir = TempDir::new("journal-torn");
    let path = dir.path().join("j");
    let (bytes, offsets) = three_entries(&path);
    let last = offsets[2] as usize;
    for cut in last..bytes.len() {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let (mut journal, report) = open(&path);
        assert_eq!(report.changesets, 2, "cut at {cut}");
        let expected = (cut > last).then(|| DroppedTail {
            offset: last as u64,
            bytes: (cut - last) as u64,
            problem: TailProblem::Short,
        });
        assert_eq!(report.dropped, expected, "cut at {cut}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), last as u64);
        assert_eq!(journal.newest_serial(), Some(3));
        if cut == last + (bytes.len() - last) / 2 {
            journal.append(ChangeKind::Update, &step(3)).unwrap();
            drop(journal);
            let (journal, report) = open(&path);
            assert_eq!((report.changesets, report.dropped), (3, None));
            assert_eq!(journal.newest_serial(), Some(4));
        }
    }
}

/// A flipped byte inside the middle entry (its frame or its payload):
/// the first entry is kept, everything from the middle one on is cut
/// with a warning saying why.
#[test]
fn a_corrupt_middle_entry_drops_the_tail_from_there() {
    let dir = TempDir::new("journal-corrupt");
    let path = dir.path().join("j");
    let (bytes, offsets) = three_entries(&path);
    let middle = offsets[1] as usize;
    for (at, problem) in [
        // The checksum field, the payload's kind, a record's data.
        (middle + 5, Some(TailProblem::Checksum)),
        (middle + 8, Some(TailProblem::Checksum)),
        (offsets[2] as usize - 3, Some(TailProblem::Checksum)),
        // The length field: longer than the file, or a wrong checksum.
        (middle, None),
        (middle + 3, None),
    ] {
        let mut corrupt = bytes.clone();
        corrupt[at] ^= 0x40;
        std::fs::write(&path, &corrupt).unwrap();
        let (journal, report) = open(&path);
        assert_eq!(report.changesets, 1, "flip at {at}");
        let dropped = report.dropped.expect("a warning");
        assert_eq!(
            (dropped.offset, dropped.bytes),
            (middle as u64, (bytes.len() - middle) as u64)
        );
        if let Some(problem) = problem {
            assert_eq!(dropped.problem, problem, "flip at {at}");
        }
        assert_eq!(journal.newest_serial(), Some(2));
    }
}

/// A checksummed entry that does not decode, or that does not continue
/// the chain, is cut like a corrupt one.
#[test]
fn entries_that_do_not_decode_or_continue_are_cut() {
    let dir = TempDir::new("journal-undecodable");
    let path = dir.path().join("j");
    let (bytes, offsets) = three_entries(&path);
    let mut garbage = bytes[..offsets[1] as usize].to_vec();
    format::push_raw(&[9, 0, 0, 0, 0, 0, 0, 0, 0], &mut garbage);
    std::fs::write(&path, &garbage).unwrap();
    let (_, report) = open(&path);
    assert_eq!(
        report.dropped.map(|d| d.problem),
        Some(TailProblem::Undecodable("unknown entry kind 9".into()))
    );

    let mut gap = bytes[..offsets[1] as usize].to_vec();
    format::push_changeset(ChangeKind::Update, 0, &step(7), &mut gap).unwrap();
    std::fs::write(&path, &gap).unwrap();
    let (journal, report) = open(&path);
    assert_eq!(
        report.dropped.map(|d| d.problem),
        Some(TailProblem::Discontinuous {
            expected: 2,
            found: 7
        })
    );
    assert_eq!(journal.entries().len(), 1);
}

/// A header that is not this zone's journal's is an error, and the file
/// is left as it was for the operator to look at.
#[test]
fn a_bad_header_is_an_error_and_the_file_is_left_alone() {
    let dir = TempDir::new("journal-header");
    let path = dir.path().join("j");
    let (bytes, _) = three_entries(&path);
    let error = |bytes: &[u8]| {
        std::fs::write(&path, bytes).unwrap();
        let err = Journal::open(&path, &zone(), JournalLimits::default()).unwrap_err();
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "file changed");
        err.to_string()
    };
    let mut magic = bytes.clone();
    magic[0] = b'X';
    assert!(error(&magic).contains("it does not begin with DNSLAB-J"));
    let mut flipped = bytes.clone();
    flipped[13] ^= 1;
    assert!(error(&flipped).contains("the header's checksum does not match"));
    assert!(error(&bytes[..10]).contains("the header is incomplete"));
    let mut newer = format::header(&zone());
    newer[9] = 2;
    let crc_at = newer.len() - 4;
    let crc = crc32fast::hash(&newer[..crc_at]);
    newer[crc_at..].copy_from_slice(&crc.to_be_bytes());
    assert!(error(&newer).contains("format version 2, not 1"));

    std::fs::write(&path, &bytes).unwrap();
    let err = Journal::open(&path, &name("example.org."), JournalLimits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "journal {} belongs to zone example., not example.org.",
            path.display()
        )
    );
    // An empty file is no journal: a new one is made.
    std::fs::write(&path, b"").unwrap();
    let (journal, report) = open(&path);
    assert!(report.created);
    assert!(journal.entries().is_empty());
}

/// Past its limits the journal keeps the newest changesets, and the chain
/// from the oldest it keeps still leads to the newest version.
#[test]
fn compaction_keeps_a_reachable_chain_within_the_limits() {
    let dir = TempDir::new("journal-compact");
    let path = dir.path().join("j");
    let limits = JournalLimits {
        max_bytes: 4000,
        max_changesets: 10,
    };
    let (mut journal, _) = open_with(&path, limits);
    let mut versions = vec![records(&[soa(1)])];
    for n in 1..=60 {
        let changeset = step(n);
        versions.push(apply(versions.last().unwrap().clone(), &changeset).unwrap());
        // Reload differences: the zone's file holds each new version.
        journal.append(ChangeKind::Reload, &changeset).unwrap();
        assert!(journal.entries().len() <= 10, "after {n}");
        assert!(std::fs::metadata(&path).unwrap().len() <= 4000, "after {n}");
    }
    assert!(!journal.needs_flush());
    let oldest = journal.entries()[0].from_serial;
    assert!(oldest > 45, "kept from {oldest}");
    assert_eq!(journal.changes_since(1).unwrap(), Chain::NotReachable);
    let mut zone = versions[oldest as usize - 1].clone();
    for changeset in changes(&journal, oldest) {
        zone = apply(zone, &changeset).unwrap();
    }
    assert_eq!(sorted(&zone), sorted(&versions[60]));
    drop(journal);
    let (journal, report) = open_with(&path, limits);
    assert_eq!(report.dropped, None);
    assert_eq!(journal.entries()[0].from_serial, oldest);
    assert_eq!(journal.flushed_serial(), Some(61));
}

/// Updates not yet written to the zone's file are the only copy: over
/// the limits they are kept, and the journal says it needs a flush; once
/// the file is written back and marked, the next compaction drops what
/// the file holds.
#[test]
fn compaction_never_drops_changes_not_in_the_zone_file() {
    let dir = TempDir::new("journal-unflushed");
    let path = dir.path().join("j");
    let limits = JournalLimits {
        max_bytes: 1 << 20,
        max_changesets: 4,
    };
    let (mut journal, _) = open_with(&path, limits);
    for n in 1..=10 {
        journal.append(ChangeKind::Update, &step(n)).unwrap();
    }
    assert_eq!(journal.entries().len(), 10);
    assert!(journal.needs_flush());
    // The zone's file now holds serial 8 (zone-flush wrote it).
    journal.mark_flushed(8).unwrap();
    let kept: Vec<u32> = journal.entries().iter().map(|e| e.from_serial).collect();
    assert_eq!(kept, [8, 9, 10]);
    assert!(!journal.needs_flush());
    drop(journal);
    let (mut journal, _) = open_with(&path, limits);
    assert_eq!(journal.flushed_serial(), Some(8));
    assert!(journal.has_unflushed());
    let file: Vec<String> = [soa(8)]
        .into_iter()
        .chain((1..8).map(|n| format!("h{n} 300 IN A 192.0.0.{n}")))
        .collect();
    let replayed = journal.replay(records(&file)).unwrap();
    assert_eq!(
        replayed.outcome,
        ReplayOutcome::Applied {
            changesets: 3,
            from_serial: 8,
            to_serial: 11
        }
    );
    assert_eq!(replayed.records.len(), 11);
}

/// A crash after the compacted file was written but before it replaced
/// the journal: the journal is the old one, whole, and the leftover is
/// removed when it is opened.
#[test]
fn a_compaction_interrupted_before_its_rename_leaves_the_old_journal() {
    let dir = TempDir::new("journal-crash-compact");
    let path = dir.path().join("j");
    let (mut journal, _) = open(&path);
    journal
        .append_all(ChangeKind::Reload, &(1..=5).map(step).collect::<Vec<_>>())
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let temp = journal.write_compacted(3, Some(6)).unwrap();
    assert!(temp.exists());
    drop(journal); // The crash.
    let (journal, report) = open(&path);
    assert!(report.removed_temp);
    assert_eq!((report.changesets, report.dropped), (5, None));
    assert!(!temp.exists());
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(
        shown(&changes(&journal, 1)),
        shown(&(1..=5).map(step).collect::<Vec<_>>())
    );
}

/// Versions 1 to 4 of a zone and the journal of their differences.
fn zone_history(path: &Path) -> (Journal, Vec<Vec<Record>>) {
    let versions: Vec<Vec<Record>> = [
        vec![soa(1), "www 300 IN A 192.0.2.1".into()],
        vec![soa(2), "www 300 IN A 192.0.2.2".into()],
        vec![
            soa(3),
            "www 300 IN A 192.0.2.2".into(),
            "mail 300 IN A 192.0.2.3".into(),
        ],
        vec![soa(4), "mail 60 IN A 192.0.2.3".into()],
    ]
    .iter()
    .map(|lines| records(lines))
    .collect();
    let (mut journal, _) = open(path);
    for pair in versions.windows(2) {
        let changeset = diff(&pair[0], &pair[1]).unwrap();
        journal.append(ChangeKind::Update, &changeset).unwrap();
    }
    (journal, versions)
}

#[test]
fn replay_applies_the_chain_from_the_file_serial() {
    let dir = TempDir::new("journal-replay");
    let (mut journal, versions) = zone_history(&dir.path().join("j"));
    for (file, applied) in [(0, 3), (2, 1)] {
        let replayed = journal.replay(versions[file].clone()).unwrap();
        assert_eq!(replayed.serial, 4);
        assert_eq!(
            replayed.outcome,
            ReplayOutcome::Applied {
                changesets: applied,
                from_serial: file as u32 + 1,
                to_serial: 4
            }
        );
        assert_eq!(sorted(&replayed.records), sorted(&versions[3]));
    }
    let current = journal.replay(versions[3].clone()).unwrap();
    assert_eq!(
        (current.serial, current.outcome),
        (4, ReplayOutcome::UpToDate)
    );
    // A journal that does not fit the file (edited without a new serial).
    let edited = records(&[soa(3), "www 300 IN A 192.0.2.9".into()]);
    let err = journal.replay(edited).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "zone example.: the journal's changeset 3 -> 4 does not fit the master file \
             (was the file edited without a new serial?): removes a record the zone does \
             not have: www.example. 300 IN A 192.0.2.2"
        ),
        "{err}"
    );
}

/// The file edited by hand to serial 7 while updates 1 -> 4 are in the
/// journal and not in the file: refused, with what to do, and the journal
/// is kept as it was.
#[test]
fn a_file_off_the_chain_is_refused_while_updates_are_not_in_it() {
    let dir = TempDir::new("journal-off-chain");
    let path = dir.path().join("j");
    let (mut journal, _) = zone_history(&path);
    let err = journal
        .replay(records(&[soa(7), "www 300 IN A 192.0.2.7".into()]))
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(
        err,
        ReplayError::FileOffChain {
            file_serial: 7,
            oldest: 1,
            newest: 4,
            ..
        }
    ));
    assert!(
        text.contains("the master file's serial 7 is not on the journal's chain (serials 1 to 4)"),
        "{text}"
    );
    assert!(text.contains("last written: serial none"), "{text}");
    assert!(text.contains("move the journal"), "{text}");
    drop(journal);
    let (journal, _) = open(&path);
    assert_eq!(journal.entries().len(), 3);
}

/// The same edit after every update was written back (zone-flush): the
/// file is the new base, the history starts again from it.
#[test]
fn a_file_off_the_chain_becomes_the_new_base_when_nothing_is_lost() {
    let dir = TempDir::new("journal-new-base");
    let path = dir.path().join("j");
    let (mut journal, _) = zone_history(&path);
    journal.mark_flushed(4).unwrap();
    let file = records(&[soa(7), "www 300 IN A 192.0.2.7".into()]);
    let replayed = journal.replay(file.clone()).unwrap();
    assert_eq!(
        replayed.outcome,
        ReplayOutcome::NewBase { journal_serial: 4 }
    );
    assert_eq!(
        (replayed.serial, texts(&replayed.records)),
        (7, texts(&file))
    );
    drop(journal);
    let (mut journal, _) = open(&path);
    assert!(journal.entries().is_empty());
    assert_eq!(journal.newest_serial(), Some(7));
    assert_eq!(journal.changes_since(1).unwrap(), Chain::NotReachable);
    journal.append(ChangeKind::Update, &step(7)).unwrap();
    assert_eq!(changes(&journal, 7).len(), 1);
}

/// Set by the durability test for the child process it starts.
const CHILD_JOURNAL: &str = "DNSLAB_JOURNAL_CHILD";

/// The child's side of the durability test: append changesets one at a
/// time and print `ack N` once the changeset ending at serial N is
/// durable (append returned), until killed; every 10 serials, the zone's
/// file is said to be written back, so compactions (limits of 16
/// changesets) happen while it may be killed. Stops by itself after 30 s.
/// Run on its own (without the variable), it appends 40 changesets to a
/// fresh journal and checks they are all there after reopening.
#[test]
fn appending_child_acknowledges_each_changeset_once_durable() {
    let child = std::env::var_os(CHILD_JOURNAL).map(PathBuf::from);
    let dir = child.is_none().then(|| TempDir::new("journal-child"));
    let path = match (&child, &dir) {
        (Some(path), _) => path.clone(),
        (None, Some(dir)) => dir.path().join("j"),
        (None, None) => unreachable!("a directory when not a child"),
    };
    let limits = JournalLimits {
        max_bytes: 1 << 20,
        max_changesets: 16,
    };
    let (mut journal, _) = open_with(&path, limits);
    let start = journal.newest_serial().unwrap_or(1);
    let last = if child.is_some() {
        u32::MAX
    } else {
        start + 40
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    for n in start..last {
        if Instant::now() > deadline {
            break;
        }
        journal.append(ChangeKind::Update, &step(n)).unwrap();
        if (n + 1) % 10 == 0 {
            journal.mark_flushed(n + 1).unwrap();
        }
        println!("ack {}", n + 1);
    }
    if child.is_none() {
        drop(journal);
        let (journal, report) = open_with(&path, limits);
        assert_eq!((report.dropped, journal.newest_serial()), (None, Some(41)));
        assert!(journal.entries().len() <= 16);
        assert_eq!(journal.flushed_serial(), Some(40));
    }
}

/// SIGKILL at a random moment while a child process appends (and
/// compacts): reopening finds every changeset the child acknowledged,
/// on a chain that still reaches them from the version the zone's file
/// holds. Three rounds on one journal, each child going on from where
/// the last was killed.
#[test]
fn a_process_killed_while_appending_loses_nothing_it_acknowledged() {
    let dir = TempDir::new("journal-sigkill");
    let path = dir.path().join("j");
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let mut acknowledged = 0;
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "journal::tests::appending_child_acknowledges_each_changeset_once_durable",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_JOURNAL, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the child");
        let stdout = child.stdout.take().unwrap();
        let (acks, received) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(serial) = line.strip_prefix("ack ") {
                    let _ = acks.send(serial.parse::<u32>().unwrap());
                }
            }
        });
        // Wait for the child to be appending, then kill it at a random
        // moment within the next 300 ms.
        let first = received
            .recv_timeout(Duration::from_secs(20))
            .expect("the child acknowledged nothing");
        acknowledged = acknowledged.max(first);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(seed % 300));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        acknowledged = received.try_iter().fold(acknowledged, u32::max);

        let (journal, report) = open(&path);
        let newest = journal.newest_serial().unwrap();
        assert!(
            newest >= acknowledged,
            "round {round}: acknowledged {acknowledged}, journal ends at {newest} ({report:?})"
        );
        // The zone's file holds the flushed serial; from there the chain
        // leads to the newest version.
        let flushed = journal.flushed_serial().unwrap_or(1);
        match journal.changes_since(flushed).unwrap() {
            Chain::UpToDate => assert_eq!(flushed, newest),
            Chain::Changes(chain) => {
                assert_eq!(chain.last().map(|c| c.to_serial), Some(newest));
                assert_eq!(chain.len() as u32, newest - flushed);
            }
            Chain::NotReachable => panic!("round {round}: {flushed} not on the chain"),
        }
    }
    assert!(acknowledged > 1);
}

/// A big zone's journal holds a changeset per ten records before it asks
/// for the zone to be written back; a small one's the default 1000.
#[test]
fn the_limit_on_changesets_grows_with_the_zone() {
    let default = JournalLimits::default();
    assert_eq!(JournalLimits::for_zone(3), default);
    assert_eq!(JournalLimits::for_zone(10_000), default);
    let big = JournalLimits::for_zone(1_000_000);
    assert_eq!(big.max_changesets, 100_000);
    assert_eq!(big.max_bytes, default.max_bytes);
}

/// A zone grown by updates gets more room: a journal that asked for a
/// write-back no longer does once its limits fit the bigger zone, and
/// keeps every changeset.
#[test]
fn limits_that_grow_with_the_zone_lift_the_need_for_a_flush() {
    let dir = TempDir::new("journal-limits");
    let path = dir.path().join("j");
    let small = JournalLimits {
        max_bytes: 1 << 20,
        max_changesets: 4,
    };
    let (mut journal, _) = open_with(&path, small);
    for n in 1..=6 {
        journal.append(ChangeKind::Update, &step(n)).unwrap();
    }
    assert!(journal.needs_flush());
    journal.set_limits(JournalLimits {
        max_changesets: 10,
        ..small
    });
    assert!(!journal.needs_flush());
    journal.append(ChangeKind::Update, &step(7)).unwrap();
    assert!(!journal.needs_flush());
    assert_eq!(journal.entries().len(), 7);
    journal.set_limits(small);
    assert!(!journal.needs_flush(), "asked again only at an append");
    journal.append(ChangeKind::Update, &step(8)).unwrap();
    assert!(journal.needs_flush());
}
