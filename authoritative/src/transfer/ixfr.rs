//! IXFR out (RFC 1995 4): the differences between the client's version of
//! a zone and the served one, from the zone's history (its journal): the
//! served SOA, then for each step the old SOA and the records removed, the
//! new SOA and the records added, then the served SOA again.
//!
//! The history is read when the request comes, and used only when its
//! chain ends at the version served then (a reload between the two would
//! otherwise send differences to a version the client could not check);
//! else, and when it does not reach back to the client's serial, the zone
//! goes AXFR-style (`axfr.rs`).

use hickory_proto::rr::Record;

use super::encode::{MessageWriter, Section};
use super::stream::Records;
use super::Transfers;
use crate::journal::Chain;
use crate::server::serial;
use crate::zone::diff::Changeset;
use crate::zone::Zone;

/// Where a transfer is in the differences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cursor {
    OpeningSoa,
    /// The `at`-th record of the removals (`added` false) or additions of
    /// the `change`-th difference.
    Change {
        change: usize,
        added: bool,
        at: usize,
    },
    ClosingSoa,
    Done,
}

/// A chain of differences ending at the version served.
pub(super) struct ChangeRecords {
    soa: Record,
    changes: Vec<Changeset>,
    cursor: Cursor,
    written: usize,
}

impl ChangeRecords {
    /// The differences from `client_serial` to `zone`, when the zone's
    /// history has them.
    pub(super) fn since(
        transfers: &Transfers,
        zone: &Zone,
        client_serial: u32,
    ) -> Option<ChangeRecords> {
        let history = transfers.history.as_ref()?;
        let Chain::Changes(changes) = history.changes_since(zone.origin(), client_serial) else {
            return None;
        };
        if changes.last().map(|c| c.to_serial) != Some(serial(zone)) {
            return None;
        }
        Some(ChangeRecords {
            soa: zone.soa().clone(),
            changes,
            cursor: Cursor::OpeningSoa,
            written: 0,
        })
    }

    /// The record at the cursor, and the cursor after it.
    fn current(&self) -> Option<(&Record, Cursor)> {
        match self.cursor {
            Cursor::OpeningSoa => Some((
                &self.soa,
                Cursor::Change {
                    change: 0,
                    added: false,
                    at: 0,
                },
            )),
            Cursor::Change { change, added, at } => {
                let Some(step) = self.changes.get(change) else {
                    return Some((&self.soa, Cursor::Done));
                };
                let part = if added { &step.added } else { &step.removed };
                let next = match (at + 1 < part.len(), added) {
                    (true, _) => Cursor::Change {
                        change,
                        added,
                        at: at + 1,
                    },
                    (false, false) => Cursor::Change {
                        change,
                        added: true,
                        at: 0,
                    },
                    (false, true) if change + 1 < self.changes.len() => Cursor::Change {
                        change: change + 1,
                        added: false,
                        at: 0,
                    },
                    (false, true) => Cursor::ClosingSoa,
                };
                part.get(at).map(|record| (record, next))
            }
            Cursor::ClosingSoa => Some((&self.soa, Cursor::Done)),
            Cursor::Done => None,
        }
    }
}

impl Records for ChangeRecords {
    fn fill(&mut self, msg: &mut MessageWriter<'_>) -> bool {
        while let Some((record, next)) = self.current() {
            if !msg.push_record(Section::Answer, record) {
                return false;
            }
            self.written += 1;
            self.cursor = next;
        }
        true
    }

    fn written(&self) -> usize {
        self.written
    }
}
