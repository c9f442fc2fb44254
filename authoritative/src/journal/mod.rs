//! A zone's journal: the durable, append-only history of its changes, in
//! the spirit of Knot's journal and NSD's transfer files. It is where a
//! dynamic update is made durable before it is acknowledged (RFC 2136),
//! where the differences between reloaded versions are kept
//! for IXFR (RFC 1995), and where a secondary keeps the history it serves
//! its own secondaries.
//!
//! What this module owns:
//! - the file, one per zone in the data directory ([`crate::data_dir`]):
//!   a header, then entries appended one after another, each a checksummed
//!   [`Changeset`] with its [`ChangeKind`] and time, or a mark saying
//!   which version the zone's file on disk holds; the byte layout is in
//!   the doc of `format.rs`;
//! - durability: [`Journal::append`] returns only once the entry is
//!   written and flushed to disk (`fdatasync`), so a server acknowledges an
//!   update after it returns; [`Journal::append_all`] writes many entries
//!   with one flush (group commit, for many updates in flight);
//! - recovery: [`Journal::open`] keeps every complete entry and cuts a torn
//!   or corrupt tail (a short entry, a bad checksum, a payload that does
//!   not decode, a changeset that does not continue the chain) with a
//!   warning, never an error that stops the zone from loading; a bad
//!   header is an error, since the file is then not this zone's journal;
//! - history: [`Journal::changes_since`] gives the chain of changesets from
//!   a serial to the newest, for IXFR;
//! - bounds: past [`JournalLimits`], the oldest changesets are dropped by
//!   rewriting the newest into a new file (written beside it, flushed,
//!   renamed over it, the directory flushed); changesets the zone's file
//!   does not hold yet are never dropped, since the journal is their only
//!   durable copy ([`Journal::needs_flush`] says when only writing the
//!   zone's file back can bring it under its limits);
//! - start: [`Journal::replay`] rebuilds the zone from its master file
//!   and the chain, and decides what happens when the file was edited by
//!   hand while changes were journaled (see the doc of `replay.rs`:
//!   refused when that would lose journaled changes).
//!
//! The serials of a chain move forward by RFC 1982 arithmetic
//! ([`crate::zone::serial`]): each changeset starts where the previous one
//! ended, at a serial greater than where it started.
//!
//! A `Journal` is used by one owner at a time (`&mut self`); its methods
//! do blocking file I/O, so an async server calls them off its reactor
//! (`spawn_blocking`). After a write or flush fails, the journal refuses
//! to append until it is opened again: what reached the disk is then
//! unknown (a failed `fsync` may have dropped the pages it could not
//! write), and reopening reads what is really there.
//!
//! Files: `format.rs` (the bytes on disk), `scan.rs` (reading a journal
//! from its start, where a torn tail is found), `replay.rs` (rebuilding a
//! zone at start); this file holds the API, appending and compaction.

mod format;
mod replay;
mod scan;
#[cfg(test)]
mod tests;

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use hickory_proto::rr::Name;

use crate::data_dir::{install_temp, temp_path, write_atomically, write_temp};
use crate::zone::diff::Changeset;
use crate::zone::serial::serial_gt;
use format::{Payload, FRAME_HEADER};
use scan::scan;

pub(crate) use format::ChangeKind;
pub(crate) use replay::ReplayError;
#[cfg(test)]
pub(crate) use replay::ReplayOutcome;

/// When the journal is compacted: past either limit, it is rewritten
/// with the newest changesets that fit in half of each (so that a
/// compaction is followed by many appends before the next), and every
/// changeset the zone's file does not hold yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct JournalLimits {
    /// The size of the file, in bytes.
    pub max_bytes: u64,
    /// The number of changesets.
    pub max_changesets: usize,
}

impl Default for JournalLimits {
    /// 100 MiB, Knot's `journal-max-usage`; 1000 changesets, enough for a
    /// secondary to catch up by IXFR after a day of an update a minute.
    fn default() -> Self {
        JournalLimits {
            max_bytes: 100 << 20,
            max_changesets: 1000,
        }
    }
}

impl JournalLimits {
    /// The limits for a zone of `records` records (when its journal is
    /// opened, and as updates make it grow): the default, with room for a
    /// changeset per ten records when that is more. Changesets the
    /// zone's file lacks are only dropped once the zone is written back,
    /// which costs the zone's size (some 1.4 s for 1,000,000 records, a
    /// pause for the updates waiting): with room in proportion to the
    /// zone, each update's share of the write-backs a full journal forces
    /// stays the same whatever the zone's size, instead of a big zone
    /// being rewritten every 1000 updates (`bench/README.md`, update.sh).
    pub(crate) fn for_zone(records: usize) -> JournalLimits {
        let default = JournalLimits::default();
        JournalLimits {
            max_changesets: default.max_changesets.max(records / 10),
            ..default
        }
    }
}

/// One changeset in the journal, without its records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EntryInfo {
    pub kind: ChangeKind,
    /// Seconds since 1970 when it was appended.
    pub timestamp: u64,
    pub from_serial: u32,
    pub to_serial: u32,
    /// Where its frame starts in the file, and its length with the frame.
    offset: u64,
    length: u64,
}

/// What [`Journal::open`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct OpenReport {
    /// There was no journal (or an empty file): a new one was created.
    pub created: bool,
    /// Changesets kept.
    pub changesets: usize,
    /// The tail cut off after the last complete entry, if any.
    pub dropped: Option<DroppedTail>,
    /// A compaction's temporary file, left by a crash, was removed.
    pub removed_temp: bool,
}

/// Bytes cut off the end of a journal when it was opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DroppedTail {
    /// Where the first incomplete or corrupt entry started.
    pub offset: u64,
    /// How many bytes were cut, from there to the end of the file.
    pub bytes: u64,
    pub problem: TailProblem,
}

impl fmt::Display for DroppedTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cut {} bytes at offset {}: {}",
            self.bytes, self.offset, self.problem
        )
    }
}

/// What was wrong with the first entry that was not kept.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TailProblem {
    /// A write interrupted by a crash: the usual torn tail.
    #[error("the last entry is incomplete (a write interrupted by a crash)")]
    Short,
    #[error("an entry's checksum does not match its bytes (corruption on disk)")]
    Checksum,
    #[error("an entry does not decode: {0}")]
    Undecodable(String),
    #[error(
        "a changeset starts at serial {found}, not at serial {expected} where the journal was"
    )]
    Discontinuous { expected: u32, found: u32 },
}

/// The answer to [`Journal::changes_since`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Chain {
    /// The serial asked about is the newest the journal knows.
    UpToDate,
    /// The changesets from the serial asked about to the newest, in order.
    Changes(Vec<Changeset>),
    /// The history does not reach back to that serial (or never had it):
    /// a full transfer is needed.
    NotReachable,
}

/// Why the journal could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JournalError {
    #[error("journal {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "journal {path}: {problem}; this is not a dnslab journal this version \
         can read: move it aside to start a new one"
    )]
    BadHeader { path: PathBuf, problem: String },
    #[error("journal {path} belongs to zone {found}, not {expected}")]
    WrongZone {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("journal {path}: an earlier write failed; reopen the journal to continue")]
    Failed { path: PathBuf },
    #[error("changeset {from} -> {to}: the removals and additions must begin with the SOAs of those serials (RFC 1995 4)")]
    Malformed { from: u32, to: u32 },
    #[error("changeset {from} -> {to} does not continue the journal, which is at serial {newest}")]
    NotContinuous { newest: u32, from: u32, to: u32 },
    #[error("changeset {from} -> {to}: serial {to} is not greater than {from} (RFC 1982)")]
    SerialNotNewer { from: u32, to: u32 },
    #[error("changeset {from} -> {to} cannot be encoded: {reason}")]
    Unencodable { from: u32, to: u32, reason: String },
}

/// The journal of one zone, open for appending.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    zone: Name,
    file: File,
    /// Where the next entry goes: the end of the last complete entry.
    end: u64,
    entries: Vec<EntryInfo>,
    /// The version the zone's file on disk holds, when known: from the
    /// last flushed mark or reload difference.
    flushed: Option<u32>,
    limits: JournalLimits,
    /// Over the limits with nothing that may be dropped (see
    /// [`Journal::needs_flush`]).
    needs_flush: bool,
    /// A write or flush failed: no more appends (see the module doc).
    failed: bool,
    /// Flushes to disk since the journal was opened.
    syncs: u64,
}

impl Journal {
    /// Opens the journal of `zone` at `path`, creating it when there is
    /// none; see [`OpenReport`] for what was found and repaired.
    pub(crate) fn open(
        path: &Path,
        zone: &Name,
        limits: JournalLimits,
    ) -> Result<(Journal, OpenReport), JournalError> {
        let io_error = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut report = OpenReport::default();
        // A compaction interrupted before its rename: the journal itself
        // is the old one, whole.
        let temp = temp_path(path);
        if temp.exists() {
            std::fs::remove_file(&temp).map_err(io_error)?;
            tracing::warn!(path = %temp.display(), "removed a journal compaction interrupted by a crash");
            report.removed_temp = true;
        }
        // An empty file is taken as no journal: a journal is created whole
        // with its header, so only something else can have left one.
        let has_data = match std::fs::metadata(path) {
            Ok(metadata) => metadata.len() > 0,
            Err(error) if error.kind() == io::ErrorKind::NotFound => false,
            Err(error) => return Err(io_error(error)),
        };
        if !has_data {
            write_atomically(path, &format::header(zone)).map_err(io_error)?;
            report.created = true;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io_error)?;
        let scan = scan(&file, path, zone)?;
        if let Some(problem) = scan.problem {
            let dropped = DroppedTail {
                offset: scan.end,
                bytes: scan.file_len - scan.end,
                problem,
            };
            tracing::warn!(
                path = %path.display(), %dropped,
                kept = scan.entries.len(),
                "journal tail dropped"
            );
            file.set_len(scan.end).map_err(io_error)?;
            file.sync_all().map_err(io_error)?;
            report.dropped = Some(dropped);
        }
        report.changesets = scan.entries.len();
        let journal = Journal {
            path: path.to_path_buf(),
            zone: zone.clone(),
            file,
            end: scan.end,
            entries: scan.entries,
            flushed: scan.flushed,
            limits,
            needs_flush: false,
            failed: false,
            syncs: 0,
        };
        Ok((journal, report))
    }

    /// The changesets, oldest first.
    #[cfg(test)]
    pub(crate) fn entries(&self) -> &[EntryInfo] {
        &self.entries
    }

    /// The serial of the newest version the journal knows: the end of the
    /// last changeset, else the version last marked flushed.
    pub(crate) fn newest_serial(&self) -> Option<u32> {
        self.entries.last().map(|e| e.to_serial).or(self.flushed)
    }

    /// The version the zone's file on disk holds, when the journal knows.
    pub(crate) fn flushed_serial(&self) -> Option<u32> {
        self.flushed
    }

    /// Some changesets are not in the zone's file yet: they must be
    /// replayed at start, and writing the file back would record them.
    pub(crate) fn has_unflushed(&self) -> bool {
        self.first_unflushed() < self.entries.len()
    }

    /// From now on, `limits` (a zone grown by updates gets the room
    /// [`JournalLimits::for_zone`] gives its new size); a journal within
    /// them no longer asks for a write-back.
    pub(crate) fn set_limits(&mut self, limits: JournalLimits) {
        self.limits = limits;
        self.needs_flush = self.needs_flush && self.over_limits();
    }

    /// Over its limits, with everything that may be dropped dropped: only
    /// writing the zone's file back (then [`Journal::mark_flushed`]) lets
    /// the next append compact it.
    pub(crate) fn needs_flush(&self) -> bool {
        self.needs_flush
    }

    /// How many times the journal was flushed to disk since it was opened.
    #[cfg(test)]
    pub(crate) fn syncs(&self) -> u64 {
        self.syncs
    }

    /// Appends one changeset and flushes it to disk before returning.
    pub(crate) fn append(
        &mut self,
        kind: ChangeKind,
        changeset: &Changeset,
    ) -> Result<(), JournalError> {
        self.append_all(kind, std::slice::from_ref(changeset))
    }

    /// Appends changesets that follow one another, with one flush to disk
    /// for all of them: all are durable when it returns, and none are when
    /// it fails.
    pub(crate) fn append_all(
        &mut self,
        kind: ChangeKind,
        changesets: &[Changeset],
    ) -> Result<(), JournalError> {
        let mut newest = self.newest_serial();
        let timestamp = now();
        let mut bytes = Vec::new();
        let mut new_entries = Vec::with_capacity(changesets.len());
        for changeset in changesets {
            let (from, to) = (changeset.from_serial, changeset.to_serial);
            check_shape(changeset)?;
            if let Some(newest) = newest.filter(|&n| n != from) {
                return Err(JournalError::NotContinuous { newest, from, to });
            }
            if !serial_gt(to, from) {
                return Err(JournalError::SerialNotNewer { from, to });
            }
            let offset = self.end + bytes.len() as u64;
            format::push_changeset(kind, timestamp, changeset, &mut bytes)
                .map_err(|reason| JournalError::Unencodable { from, to, reason })?;
            new_entries.push(EntryInfo {
                kind,
                timestamp,
                from_serial: from,
                to_serial: to,
                offset,
                length: self.end + bytes.len() as u64 - offset,
            });
            newest = Some(to);
        }
        if new_entries.is_empty() {
            return Ok(());
        }
        self.write_and_sync(&bytes)?;
        if kind == ChangeKind::Reload {
            self.flushed = newest;
        }
        self.entries.extend(new_entries);
        self.compact_if_needed();
        Ok(())
    }

    /// Records that the zone's file on disk now holds version `serial`
    /// (after zone-flush wrote it, or a secondary saved its copy): the
    /// changesets up to it may be dropped when the journal is compacted.
    pub(crate) fn mark_flushed(&mut self, serial: u32) -> Result<(), JournalError> {
        let mut bytes = Vec::new();
        format::push_flushed(now(), serial, &mut bytes);
        self.write_and_sync(&bytes)?;
        self.flushed = Some(serial);
        self.compact_if_needed();
        Ok(())
    }

    /// Forgets the history: the journal is rewritten with no changesets,
    /// the zone's file holding version `serial`. For a zone whose new
    /// version does not follow from the old by any changeset (a full
    /// transfer, a master file edited while the server was down).
    pub(crate) fn reset(&mut self, serial: u32) -> Result<(), JournalError> {
        self.rewrite(self.entries.len(), Some(serial))
    }

    /// The chain of changesets from version `serial` to the newest.
    pub(crate) fn changes_since(&self, serial: u32) -> Result<Chain, JournalError> {
        if self.newest_serial() == Some(serial) {
            return Ok(Chain::UpToDate);
        }
        match self.entries.iter().rposition(|e| e.from_serial == serial) {
            Some(at) => Ok(Chain::Changes(self.read_changesets(at)?)),
            None => Ok(Chain::NotReachable),
        }
    }

    /// The changesets from entry `at` to the newest, read from the file.
    fn read_changesets(&self, at: usize) -> Result<Vec<Changeset>, JournalError> {
        self.entries[at..]
            .iter()
            .map(|entry| {
                let mut frame = vec![0; entry.length as usize];
                self.file
                    .read_exact_at(&mut frame, entry.offset)
                    .map_err(|e| self.io_error(e))?;
                let corrupt = |reason: String| {
                    self.io_error(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "changeset {} -> {}: {reason}",
                            entry.from_serial, entry.to_serial
                        ),
                    ))
                };
                let (header, payload) = frame.split_at(FRAME_HEADER);
                let (_, crc) = format::frame(header.try_into().unwrap_or_default());
                if crc32fast::hash(payload) != crc {
                    return Err(corrupt(
                        "its checksum no longer matches (corruption on disk)".into(),
                    ));
                }
                match format::decode_payload(payload).map_err(corrupt)? {
                    Payload::Changeset { changeset, .. } => Ok(changeset),
                    Payload::Flushed { .. } => Err(corrupt("not a changeset".into())),
                }
            })
            .collect()
    }

    /// Index of the first changeset the zone's file does not hold: after
    /// the last one ending at the flushed version, or 0 when that is not
    /// known (nothing may be assumed flushed).
    fn first_unflushed(&self) -> usize {
        let Some(flushed) = self.flushed else {
            return 0;
        };
        self.entries
            .iter()
            .rposition(|e| e.to_serial == flushed)
            .map_or(0, |at| at + 1)
    }

    fn write_and_sync(&mut self, bytes: &[u8]) -> Result<(), JournalError> {
        if self.failed {
            return Err(JournalError::Failed {
                path: self.path.clone(),
            });
        }
        if let Err(error) = self.file.write_all_at(bytes, self.end) {
            // Take back what part of it was written; if even that fails,
            // the file's end is unknown.
            self.failed = self.file.set_len(self.end).is_err();
            return Err(self.io_error(error));
        }
        if let Err(error) = self.file.sync_data() {
            self.failed = true;
            return Err(self.io_error(error));
        }
        self.syncs += 1;
        self.end += bytes.len() as u64;
        Ok(())
    }

    fn over_limits(&self) -> bool {
        self.end > self.limits.max_bytes || self.entries.len() > self.limits.max_changesets
    }

    /// Drops the oldest changesets when over the limits (see
    /// [`JournalLimits`]), never one the zone's file does not hold. Called
    /// after an append is durable, so it never fails the append: a failed
    /// compaction is logged (and, if it got as far as replacing the file,
    /// stops further appends until the journal is reopened).
    fn compact_if_needed(&mut self) {
        if !self.over_limits() {
            self.needs_flush = false;
            return;
        }
        let first_unflushed = self.first_unflushed();
        let (budget_bytes, budget_count) =
            (self.limits.max_bytes / 2, self.limits.max_changesets / 2);
        let mut keep_from = self.entries.len();
        let mut kept_bytes = 0;
        while let Some(at) = keep_from.checked_sub(1) {
            let length = self.entries[at].length;
            let fits =
                kept_bytes + length <= budget_bytes && self.entries.len() - at <= budget_count;
            if at < first_unflushed && !fits {
                break;
            }
            kept_bytes += length;
            keep_from = at;
        }
        if keep_from > 0 {
            let kept = self.entries.len() - keep_from;
            // What was appended is durable whatever happens here: a failed
            // compaction is a warning, not a failed append.
            match self.rewrite(keep_from, self.flushed) {
                Ok(()) => tracing::debug!(
                    path = %self.path.display(), dropped = keep_from, kept,
                    "journal compacted"
                ),
                Err(error) => {
                    tracing::warn!(%error, "journal compaction failed");
                    return;
                }
            }
        }
        let needs_flush = self.over_limits();
        if needs_flush && !self.needs_flush {
            tracing::warn!(
                path = %self.path.display(),
                changesets = self.entries.len(),
                bytes = self.end,
                "journal over its limits with changes not yet in the zone's file: \
                 write the zone back to its file (zone-flush)"
            );
        }
        self.needs_flush = needs_flush;
    }

    /// Replaces the file with one holding the changesets from `keep_from`
    /// and a flushed mark: written beside it, flushed, renamed over it.
    fn rewrite(&mut self, keep_from: usize, flushed: Option<u32>) -> Result<(), JournalError> {
        let temp = self.write_compacted(keep_from, flushed)?;
        // From the rename on, the open file may no longer be the journal:
        // should anything fail, appending stops until the journal is
        // opened again.
        self.failed = true;
        install_temp(&temp, &self.path).map_err(|e| self.io_error(e))?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.path)
            .map_err(|e| self.io_error(e))?;
        let scan = scan(&file, &self.path, &self.zone)?;
        if let Some(problem) = scan.problem {
            return Err(self.io_error(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the compacted journal does not read back: {problem}"),
            )));
        }
        self.file = file;
        self.end = scan.end;
        self.entries = scan.entries;
        self.flushed = scan.flushed;
        self.failed = false;
        Ok(())
    }

    /// The first half of [`Journal::rewrite`]: the new file, complete and
    /// flushed, at the temporary path, the journal itself untouched.
    fn write_compacted(
        &self,
        keep_from: usize,
        flushed: Option<u32>,
    ) -> Result<PathBuf, JournalError> {
        write_temp(&self.path, |out| {
            out.write_all(&format::header(&self.zone))?;
            let mut frame = Vec::new();
            for entry in &self.entries[keep_from..] {
                frame.resize(entry.length as usize, 0);
                self.file.read_exact_at(&mut frame, entry.offset)?;
                out.write_all(&frame)?;
            }
            if let Some(serial) = flushed {
                let mut mark = Vec::new();
                format::push_flushed(now(), serial, &mut mark);
                out.write_all(&mark)?;
            }
            Ok(())
        })
        .map_err(|e| self.io_error(e))
    }

    fn io_error(&self, source: io::Error) -> JournalError {
        JournalError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

/// RFC 1995 4: a difference begins its removals and additions with the
/// old and new SOAs.
fn check_shape(changeset: &Changeset) -> Result<(), JournalError> {
    use hickory_proto::rr::{rdata::SOA, RData, Record};
    let serial = |records: &[Record]| match records.first().map(|r| &r.data) {
        Some(RData::SOA(SOA { serial, .. })) => Some(*serial),
        _ => None,
    };
    if serial(&changeset.removed) == Some(changeset.from_serial)
        && serial(&changeset.added) == Some(changeset.to_serial)
    {
        Ok(())
    } else {
        Err(JournalError::Malformed {
            from: changeset.from_serial,
            to: changeset.to_serial,
        })
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
