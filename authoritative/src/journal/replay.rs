//! Replay at start: the zone as served is its master file with the
//! journal's chain applied from the file's serial to the newest, as Knot
//! and BIND rebuild a dynamic zone.
//!
//! The file's serial decides:
//! - the newest the journal knows (or the journal is empty): the file is
//!   current, nothing to apply;
//! - the start of a changeset in the journal: the chain from there is
//!   applied (the file was written back, by zone-flush, before those
//!   changes, or never since they began);
//! - anywhere else: someone edited the file (or put another one in its
//!   place) while the server was down. Then:
//!   - if the journal holds no change the file lacks (every changeset was
//!     written back before, as after a zone-flush), the file is the new
//!     base: the history is cleared ([`ReplayOutcome::NewBase`], a
//!     warning), and IXFR from older serials falls back to AXFR;
//!   - if it holds changes the file does not (updates acknowledged but
//!     not yet written back), the zone is refused with
//!     [`ReplayError::FileOffChain`], which says how to choose.
//!
//! Why refuse rather than follow Knot's `zonefile-load: difference`
//! (take the file as the new base and journal its difference from the
//! journal's newest version)? That difference needs the journal's newest
//! version, and this journal keeps changesets, not the zone: with the file
//! off the chain, no version the chain starts from exists any more, so the
//! newest version cannot be built and the difference cannot be computed.
//! Taking the file anyway would silently drop updates that clients were
//! told are safe, the one thing the journal promises never to do; BIND
//! refuses such a zone too ("journal out of sync with zone"). The operator
//! decides instead: restore the file to a serial on the chain, or move the
//! journal aside and serve the file as it is.
//!
//! While the server runs, a reload has the newest version in memory, so
//! the server can take a hand-edited file as Knot's `difference` does:
//! [`crate::zone::diff::diff`] from the served version to the file,
//! appended as a [`ChangeKind::Reload`](super::ChangeKind) changeset. When
//! the journal has unflushed updates (see
//! [`Journal::has_unflushed`](super::Journal::has_unflushed)), that
//! difference would revert them; the same refusal as here keeps them.

use hickory_proto::rr::Record;

use super::{Journal, JournalError};
use crate::zone::diff::{ApplyError, RecordSet};

/// The zone rebuilt at start.
#[derive(Debug)]
pub(crate) struct Replayed {
    /// The zone's records: the file's with the chain applied.
    pub records: Vec<Record>,
    /// The serial of the zone as rebuilt.
    pub serial: u32,
    pub outcome: ReplayOutcome,
}

/// Which case of the module doc applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReplayOutcome {
    /// The file holds the newest version; nothing was applied.
    UpToDate,
    /// Changesets were applied from the file's serial to the newest.
    Applied {
        changesets: usize,
        from_serial: u32,
        to_serial: u32,
    },
    /// The file is not on the journal's chain, and the journal held
    /// nothing the file lacks: the file was taken as the new base and the
    /// history (which ended at `journal_serial`) cleared.
    NewBase { journal_serial: u32 },
}

/// Why the zone could not be rebuilt from its file and journal.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReplayError {
    #[error("zone {zone}: the master file has no SOA record")]
    NoSoa { zone: String },
    #[error(
        "zone {zone}: the master file's serial {file_serial} is not on the journal's \
         chain (serials {oldest} to {newest}), and the journal holds changes not yet \
         written to the file (last written: serial {flushed}): the file was edited or \
         replaced while updates were journaled. Restore a file whose serial is on the chain \
         (the journal is then replayed over it), or move the journal {journal} \
         aside to serve the file as it is and lose those changes"
    )]
    FileOffChain {
        zone: String,
        file_serial: u32,
        oldest: u32,
        newest: u32,
        /// The last version known to be in the file ("none" when never).
        flushed: String,
        journal: String,
    },
    #[error(
        "zone {zone}: the journal's changeset {from} -> {to} does not fit the master \
         file (was the file edited without a new serial?): {source}. Move the \
         journal {journal} aside to serve the file as it is"
    )]
    Apply {
        zone: String,
        from: u32,
        to: u32,
        journal: String,
        source: ApplyError,
    },
    #[error("zone {zone}: the master file's records: {source}")]
    Records { zone: String, source: ApplyError },
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl Journal {
    /// Rebuilds the zone from its master file's records and the journal,
    /// as the module doc says; `NewBase` rewrites the journal.
    pub(crate) fn replay(&mut self, file_records: Vec<Record>) -> Result<Replayed, ReplayError> {
        let zone = self.zone.to_string();
        let mut set = RecordSet::new(file_records).map_err(|source| ReplayError::Records {
            zone: zone.clone(),
            source,
        })?;
        let file_serial = set
            .serial()
            .ok_or(ReplayError::NoSoa { zone: zone.clone() })?;
        let done = |set: RecordSet, serial, outcome| Replayed {
            records: set.into_records(),
            serial,
            outcome,
        };
        let Some(newest) = self.newest_serial().filter(|&n| n != file_serial) else {
            return Ok(done(set, file_serial, ReplayOutcome::UpToDate));
        };
        if let Some(at) = self
            .entries
            .iter()
            .rposition(|e| e.from_serial == file_serial)
        {
            let chain = self.read_changesets(at)?;
            for changeset in &chain {
                set.apply(changeset).map_err(|source| ReplayError::Apply {
                    zone: zone.clone(),
                    from: changeset.from_serial,
                    to: changeset.to_serial,
                    journal: self.path.display().to_string(),
                    source,
                })?;
            }
            let outcome = ReplayOutcome::Applied {
                changesets: chain.len(),
                from_serial: file_serial,
                to_serial: newest,
            };
            return Ok(done(set, newest, outcome));
        }
        if self.has_unflushed() {
            return Err(ReplayError::FileOffChain {
                zone,
                file_serial,
                oldest: self.entries.first().map_or(newest, |e| e.from_serial),
                newest,
                flushed: self
                    .flushed
                    .map_or_else(|| "none".to_string(), |s| s.to_string()),
                journal: self.path.display().to_string(),
            });
        }
        tracing::warn!(
            %zone, file_serial, journal_serial = newest,
            "master file not on the journal's chain, but every journaled change was \
             in the file before: the file is the new base, the IXFR history is cleared"
        );
        self.reset(file_serial)?;
        Ok(done(
            set,
            file_serial,
            ReplayOutcome::NewBase {
                journal_serial: newest,
            },
        ))
    }
}
