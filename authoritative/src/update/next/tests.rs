//! The writer's versions: the spare copy patched in place when nobody
//! holds it, a copy or a build when it cannot be, each next version the
//! zone its records build, and readers of a version never seeing it
//! change while batches go on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::*;
use crate::zone::diff::diff;
use crate::zone::store::testing::{name, record, texts, zone};

/// The zone at `serial`, with `a` and `b` both at 192.0.2.`value`
/// (every batch changes the two together).
fn text(serial: u32, value: u32) -> String {
    format!(
        "@ 3600 IN SOA ns.example.net. admin.example. {serial} 7200 900 1209600 300
@ 3600 IN NS ns.example.net.
a 300 IN A 192.0.2.{value}
b 300 IN A 192.0.2.{value}
c.d 300 IN TXT \"{serial}\""
    )
}

fn records(text: &str) -> Vec<Record> {
    let origin = name("example.");
    text.lines().map(|l| record(&origin, l.trim())).collect()
}

fn sorted(zone: &Zone) -> Vec<String> {
    let mut lines = texts(&zone.records().collect::<Vec<_>>());
    lines.sort();
    lines
}

/// One batch through `versions`, served as the writer serves it: the
/// new version, and how it was made.
fn batch(versions: &mut Versions, served: &mut Arc<Zone>, to: &str) -> Made {
    let from: Vec<Record> = served.records().collect();
    let changeset = diff(&from, &records(to)).unwrap();
    let (next, made) = versions
        .next(served, std::slice::from_ref(&changeset))
        .unwrap();
    let next = Arc::new(next);
    let base = std::mem::replace(served, Arc::clone(&next));
    versions.served(base, &next, vec![changeset]);
    made
}

/// The first batch copies the version served; from the second on, the
/// version the batch before replaced is brought level and patched in
/// place; every version is the zone its records build.
#[test]
fn the_spare_is_patched_in_place_and_each_version_is_the_built_zone() {
    let mut versions = Versions::default();
    let mut served = Arc::new(zone("example.", &text(1, 1)));
    let mut made = Vec::new();
    for serial in 2..8 {
        made.push(batch(&mut versions, &mut served, &text(serial, serial)));
        assert_eq!(
            sorted(&served),
            sorted(&zone("example.", &text(serial, serial)))
        );
        assert_eq!(
            served.summary(),
            zone("example.", &text(serial, serial)).summary()
        );
    }
    assert_eq!(made[0], Made::Copy);
    assert!(made[1..].iter().all(|&m| m == Made::Spare), "{made:?}");
}

/// A version someone still reads (a zone transfer) is not the spare:
/// the batch copies the version served, and the reader's version is as
/// it was.
#[test]
fn a_version_still_read_is_not_changed() {
    let mut versions = Versions::default();
    let mut served = Arc::new(zone("example.", &text(1, 1)));
    let reader = Arc::clone(&served);
    assert_eq!(batch(&mut versions, &mut served, &text(2, 2)), Made::Copy);
    assert_eq!(batch(&mut versions, &mut served, &text(3, 3)), Made::Copy);
    assert_eq!(sorted(&reader), sorted(&zone("example.", &text(1, 1))));
    assert_eq!(sorted(&served), sorted(&zone("example.", &text(3, 3))));
    drop(reader);
    // The version 2 the last batch replaced was let go: used again.
    assert_eq!(batch(&mut versions, &mut served, &text(4, 4)), Made::Spare);
    assert_eq!(sorted(&served), sorted(&zone("example.", &text(4, 4))));
}

/// A version served that is not the one the spare leads to (a reload
/// replaced it) is copied; the spare is not used.
#[test]
fn a_reload_leaves_the_spare_unused() {
    let mut versions = Versions::default();
    let mut served = Arc::new(zone("example.", &text(1, 1)));
    batch(&mut versions, &mut served, &text(2, 2));
    let mut reloaded = Arc::new(zone("example.", &text(10, 7)));
    assert_eq!(
        batch(&mut versions, &mut reloaded, &text(11, 8)),
        Made::Copy
    );
    assert_eq!(sorted(&reloaded), sorted(&zone("example.", &text(11, 8))));
}

/// A change to the NSEC3 chain is built from the records, with the
/// chain ordered again.
#[test]
fn a_change_to_the_nsec3_chain_builds_the_zone() {
    let mut versions = Versions::default();
    let mut served = Arc::new(zone("example.", &text(1, 1)));
    let with_chain = format!("{}\nhashed 300 IN NSEC3 1", text(2, 1));
    assert_eq!(batch(&mut versions, &mut served, &with_chain), Made::Build);
    assert_eq!(served.nsec3_records().len(), 1);
    assert_eq!(sorted(&served), sorted(&zone("example.", &with_chain)));
}

/// Readers loading the version served while batches go on, some holding
/// it for a while as a zone transfer would: each sees `a` and `b` at the
/// same address (a batch changes both), never one of a batch without
/// the other, and the version they hold never changes under them.
#[test]
fn readers_see_each_version_whole_while_spares_are_patched() {
    let served = Arc::new(ArcSwap::from_pointee(zone("example.", &text(1, 1))));
    let stop = Arc::new(AtomicBool::new(false));
    let address = |zone: &Zone, owner: &Name| -> Option<RData> {
        zone.node(owner)?.rrset(RecordType::A)?.rdatas().next()
    };
    let readers: Vec<_> = (0..2)
        .map(|reader| {
            let (served, stop) = (Arc::clone(&served), Arc::clone(&stop));
            std::thread::spawn(move || {
                let (a, b) = (name("a.example."), name("b.example."));
                let mut seen = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let version = served.load_full();
                    let first = address(&version, &a);
                    assert_eq!(first, address(&version, &b), "half of a batch");
                    if reader == 1 && seen.is_multiple_of(64) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    assert_eq!(first, address(&version, &a), "a version changed");
                    seen += 1;
                }
                seen
            })
        })
        .collect();
    let mut versions = Versions::default();
    let mut spares = 0;
    for serial in 2..400u32 {
        let base = served.load_full();
        let to = text(serial, serial % 250);
        let from: Vec<Record> = base.records().collect();
        let changeset = diff(&from, &records(&to)).unwrap();
        let (next, made) = versions
            .next(&base, std::slice::from_ref(&changeset))
            .unwrap();
        spares += usize::from(made == Made::Spare);
        let next = Arc::new(next);
        served.store(Arc::clone(&next));
        versions.served(base, &next, vec![changeset]);
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        assert!(reader.join().expect("a reader failed") > 0);
    }
    assert_eq!(
        sorted(&served.load()),
        sorted(&zone("example.", &text(399, 399 % 250)))
    );
    assert!(spares > 100, "the spare was used {spares} times of 398");
}
