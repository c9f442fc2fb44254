//! What transfers keep in the data directory (`--data-dir`): each zone's
//! history of differences (a [`Journal`]), for IXFR, and each secondary
//! zone's copy, a master file served at the next start until it expires.
//!
//! Which zones keep history: every secondary (its copy, and the
//! differences it received, for its own secondaries), and every primary
//! that others copy (one with `allow_transfer` or `notify`). A server with
//! neither never touches a data directory, so `dnslab auth --zone FILE`
//! alone writes nothing.
//!
//! The order of writes keeps what is on disk consistent whatever moment a
//! crash comes (the journal's own writes are flushed before they return;
//! files are replaced whole, `crate::data_dir`):
//! - a primary reloaded with a newer serial appends the difference from
//!   the served version (a `Reload` changeset), then serves the new one;
//! - a secondary appends what it received (`Transfer` changesets: the
//!   IXFR's differences, or the difference between two AXFRs), serves the
//!   new version, writes its copy, then marks the journal flushed at that
//!   serial; at start, a journal ahead of the copy (a crash before the
//!   copy was written) is replayed over it.
//!
//! The copy's modification time is the last time a primary answered for
//! the zone: EXPIRE counts from it across restarts, as BIND's does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use dnslab_wire::WireName;
use hickory_proto::rr::{Name, Record};
use tracing::{info, warn};

use crate::data_dir::{write_atomically_with, DataDir, DataDirError};
use crate::journal::{Chain, ChangeKind, Journal, JournalError, JournalLimits, ReplayError};
use crate::zone::diff::{diff, Changeset};
use crate::zone::serial::serial_gt;
use crate::zone::writer::write_zone;
use crate::zone::Zone;

/// The data directory, locked, and the journals of the zones that keep
/// history.
pub(crate) struct History {
    dir: DataDir,
    /// By the zone's lowercased wire name. Locked for a journal operation
    /// (a few file reads or one flushed write), never across an `.await`.
    journals: HashMap<Box<[u8]>, Mutex<Journal>>,
}

/// Whether a zone's master file holds everything its journal does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileState {
    /// Nothing journaled is missing from the file.
    Current,
    /// Updates are journaled that the file lacks; `written` is the serial
    /// the file was last written at, when the journal knows it.
    Behind { written: Option<u32> },
}

/// Why the data directory or a zone's history could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HistoryError {
    #[error("{0}")]
    DataDir(#[from] DataDirError),
    #[error("{0}")]
    Journal(#[from] JournalError),
    #[error("{0}")]
    Replay(#[from] ReplayError),
    #[error("secondary copy {path}: {reason}")]
    Copy { path: PathBuf, reason: String },
}

fn key(zone: &Name) -> Box<[u8]> {
    Box::from(WireName::new(zone).bytes())
}

impl History {
    /// Opens (creating, locking) the data directory at `path`.
    pub(crate) fn open(path: &Path) -> Result<History, HistoryError> {
        Ok(History {
            dir: DataDir::open(path)?,
            journals: HashMap::new(),
        })
    }

    /// Opens the journal of `origin`, served now as `served` (its master
    /// file or saved copy as loaded, if any); returns the version to
    /// serve, which differs from `served` only when the journal holds
    /// changes the file lacks (then it is rebuilt from the file and the
    /// journal).
    pub(crate) fn open_zone(
        &mut self,
        origin: &Name,
        served: Option<Zone>,
    ) -> Result<Option<Zone>, HistoryError> {
        let path = self.dir.journal_path(origin);
        let records = served.as_ref().map_or(0, |zone| zone.summary().records);
        let (mut journal, report) = Journal::open(&path, origin, JournalLimits::for_zone(records))?;
        if let Some(dropped) = &report.dropped {
            warn!(zone = %origin, %dropped, "the zone's journal had a damaged tail; the history before it is kept");
        }
        let zone = match (served, journal.newest_serial()) {
            (None, Some(_)) => {
                // A secondary without its copy: the history has no base.
                journal.reset(0)?;
                None
            }
            (served, None) => {
                // A new journal: the file is its base, so that updates
                // journaled from now on are known to be missing from it.
                if let Some(zone) = &served {
                    journal.mark_flushed(crate::server::serial(zone))?;
                }
                served
            }
            (Some(served), Some(newest)) if newest == crate::server::serial(&served) => {
                // The file holds the newest version (written back, and
                // stopped before the journal was told).
                if journal.flushed_serial() != Some(newest) {
                    journal.mark_flushed(newest)?;
                }
                Some(served)
            }
            (Some(served), Some(_)) if journal.has_unflushed() => {
                let file_serial = crate::server::serial(&served);
                let replayed = journal.replay(served.records().collect())?;
                info!(zone = %origin, outcome = ?replayed.outcome, serial = replayed.serial, "journal replayed over the zone");
                if journal.flushed_serial().is_none() {
                    journal.mark_flushed(file_serial)?;
                }
                Some(build(origin, replayed.records, &path)?)
            }
            (Some(served), Some(newest)) => {
                let serial = crate::server::serial(&served);
                warn!(zone = %origin, file_serial = serial, journal_serial = newest, "the zone changed while the server was down: its IXFR history is cleared");
                journal.reset(serial)?;
                Some(served)
            }
        };
        self.journals.insert(key(origin), Mutex::new(journal));
        Ok(zone)
    }

    /// A secondary zone at start: its saved copy, if there is one and it
    /// has not expired (EXPIRE counted from the copy's modification time),
    /// with its history opened, and how long ago a primary last answered.
    pub(crate) fn load_copy(
        &mut self,
        origin: &Name,
    ) -> Result<(Option<Zone>, Option<Duration>), HistoryError> {
        let path = self.copy_path(origin);
        if !path.exists() {
            return Ok((self.open_zone(origin, None)?, None));
        }
        let copy = crate::zone::load_zone(&path, Some(origin)).map_err(|e| HistoryError::Copy {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let age = copy_age(&path).unwrap_or_default();
        let expire = match &copy.soa().data {
            hickory_proto::rr::RData::SOA(soa) => {
                Duration::from_secs(u64::try_from(soa.expire).unwrap_or(0))
            }
            _ => Duration::ZERO,
        };
        if age >= expire {
            warn!(zone = %origin, path = %path.display(), age_s = age.as_secs(), expire_s = expire.as_secs(), "the saved copy has expired; not served until a primary answers");
            return Ok((self.open_zone(origin, None)?, None));
        }
        info!(zone = %origin, path = %path.display(), serial = crate::server::serial(&copy), age_s = age.as_secs(), "serving the saved copy until a primary answers");
        Ok((self.open_zone(origin, Some(copy))?, Some(age)))
    }

    fn journal(&self, zone: &Name) -> Option<MutexGuard<'_, Journal>> {
        let journal = self.journals.get(&key(zone))?;
        Some(
            journal
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// The differences from `serial` to the newest version (IXFR out).
    pub(crate) fn changes_since(&self, zone: &Name, serial: u32) -> Chain {
        let Some(journal) = self.journal(zone) else {
            return Chain::NotReachable;
        };
        journal.changes_since(serial).unwrap_or_else(|error| {
            warn!(%zone, %error, "cannot read the zone's history; answering AXFR-style");
            Chain::NotReachable
        })
    }

    /// Records the step from `old` to `new` (a reload, or two AXFRs): their
    /// difference when the serial moved forward, else the history is
    /// cleared (a serial that went backwards or stayed: secondaries at the
    /// old serial cannot be told what changed).
    pub(crate) fn record_step(&self, kind: ChangeKind, old: &Zone, new: &Zone) {
        let Some(mut journal) = self.journal(new.origin()) else {
            return;
        };
        let (from, to) = (crate::server::serial(old), crate::server::serial(new));
        let zone = new.origin();
        if from == to {
            return;
        }
        if !serial_gt(to, from) {
            warn!(%zone, from, to, "the serial went backwards: secondaries will not take this version (RFC 1982), and the IXFR history is cleared");
            if let Err(error) = journal.reset(to) {
                warn!(%zone, %error, "cannot clear the zone's history");
            }
            return;
        }
        let old_records: Vec<Record> = old.records().collect();
        let new_records: Vec<Record> = new.records().collect();
        let appended = diff(&old_records, &new_records)
            .map_err(|e| e.to_string())
            .and_then(|changeset| journal.append(kind, &changeset).map_err(|e| e.to_string()));
        if let Err(error) = appended {
            warn!(%zone, from, to, %error, "cannot keep the difference: IXFR from serial {from} will get the whole zone");
            let _ = journal.reset(to);
        }
    }

    /// Appends `changes` (the differences an IXFR brought, or accepted
    /// updates) with one flush to disk: when this returns, they are
    /// durable.
    pub(crate) fn record_changes(
        &self,
        kind: ChangeKind,
        zone: &Name,
        changes: &[Changeset],
    ) -> Result<(), HistoryError> {
        if let Some(mut journal) = self.journal(zone) {
            journal.append_all(kind, changes)?;
        }
        Ok(())
    }

    /// Whether `zone`'s journal holds changes its master file lacks
    /// (updates not yet written back), and if so which serial the file
    /// was last written at, when known.
    pub(crate) fn file_state(&self, zone: &Name) -> FileState {
        match self.journal(zone) {
            Some(journal) if journal.has_unflushed() => FileState::Behind {
                written: journal.flushed_serial(),
            },
            _ => FileState::Current,
        }
    }

    /// `zone` has `records` records now: its journal's limits follow
    /// ([`JournalLimits::for_zone`]).
    pub(crate) fn fit_limits(&self, zone: &Name, records: usize) {
        if let Some(mut journal) = self.journal(zone) {
            journal.set_limits(JournalLimits::for_zone(records));
        }
    }

    /// The zone's master file now holds version `serial` (zone-flush).
    pub(crate) fn mark_written(&self, zone: &Name, serial: u32) -> Result<(), HistoryError> {
        if let Some(mut journal) = self.journal(zone) {
            journal.mark_flushed(serial)?;
        }
        Ok(())
    }

    /// The journal is over its limits with changes only the master file
    /// can take off it (see [`Journal::needs_flush`]).
    pub(crate) fn needs_flush(&self, zone: &Name) -> bool {
        self.journal(zone)
            .is_some_and(|journal| journal.needs_flush())
    }

    /// Starts the history over at `zone`'s version (a first copy).
    pub(crate) fn reset(&self, zone: &Zone) {
        if let Some(mut journal) = self.journal(zone.origin()) {
            if let Err(error) = journal.reset(crate::server::serial(zone)) {
                warn!(zone = %zone.origin(), %error, "cannot reset the zone's history");
            }
        }
    }

    /// Where the secondary copy of `zone` lives.
    pub(crate) fn copy_path(&self, zone: &Name) -> PathBuf {
        self.dir.zone_copy_path(zone)
    }

    /// Replaces the secondary copy of `zone` with `records` (written whole,
    /// then renamed over the old one), and marks the journal flushed at its
    /// serial.
    pub(crate) fn save_copy(&self, zone: &Zone) -> Result<(), HistoryError> {
        let path = self.copy_path(zone.origin());
        let records: Vec<Record> = zone.records().collect();
        write_atomically_with(&path, |out| write_zone(zone.origin(), &records, out)).map_err(
            |e| HistoryError::Copy {
                path: path.clone(),
                reason: e.to_string(),
            },
        )?;
        if let Some(mut journal) = self.journal(zone.origin()) {
            journal.mark_flushed(crate::server::serial(zone))?;
        }
        Ok(())
    }

    /// A primary answered for `zone`: the copy's modification time moves
    /// to now, where EXPIRE counts from after a restart.
    pub(crate) fn touch_copy(&self, zone: &Name) {
        let path = self.copy_path(zone);
        let touched = std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|file| file.set_modified(SystemTime::now()));
        if let Err(error) = touched {
            warn!(%zone, path = %path.display(), %error, "cannot touch the secondary copy; after a restart it may expire early");
        }
    }
}

/// How long ago a primary last answered for the secondary copy at
/// `path`: its modification time's age (see the module doc).
pub(crate) fn copy_age(path: &Path) -> Option<Duration> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(
        SystemTime::now()
            .duration_since(modified)
            .unwrap_or_default(),
    )
}

/// Builds a zone from records the journal rebuilt.
fn build(origin: &Name, records: Vec<Record>, journal: &Path) -> Result<Zone, HistoryError> {
    crate::transfer::secondary::build(origin.clone(), records, journal.display().to_string())
        .map_err(|problems| HistoryError::Copy {
            path: journal.to_path_buf(),
            reason: format!(
                "the zone rebuilt from the journal fails {} check(s); the first: {}",
                problems.len(),
                problems
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            ),
        })
}
