//! The zone events of the servers behind the page: NOTIFY sent and
//! received, transfers done or failed. The binary turns each server's
//! events into [`ZoneEntry`]s (names instead of addresses) and pushes them
//! into one [`ZoneLog`]; the page reads the latest from
//! `GET /api/transfers` (newest first), and the terminal of `dnslab up`
//! prints them as they come ([`ZoneLog::subscribe`]).
//!
//! The log keeps the latest [`KEPT`] entries: a page opened after a
//! reload still shows it, and a zone that changes every second never
//! grows it.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// Entries kept for the page.
pub const KEPT: usize = 100;

/// One zone event, as the page and the terminal show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZoneEntry {
    /// When it happened, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// "NOTIFY" (sent), "NOTIFY received", "AXFR", "IXFR", "failed".
    pub kind: String,
    pub zone: String,
    /// The primary (the data and the NOTIFY go from it to `to`).
    pub from: String,
    /// The secondary.
    pub to: String,
    /// The serial announced or transferred, when known.
    pub serial: Option<u32>,
    /// The secondary's serial before a transfer (none before its first).
    pub old_serial: Option<u32>,
    /// The zone's records (AXFR) or the changes (IXFR).
    pub records: Option<usize>,
    pub ms: Option<f64>,
    /// Why a transfer failed.
    pub error: Option<String>,
}

impl ZoneEntry {
    /// An entry of `kind` for `zone` from `from` to `to`, now, with
    /// nothing else known yet.
    pub fn new(kind: &str, zone: String, from: String, to: String) -> ZoneEntry {
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| {
                u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
            });
        ZoneEntry {
            at_ms,
            kind: kind.to_string(),
            zone,
            from,
            to,
            serial: None,
            old_serial: None,
            records: None,
            ms: None,
            error: None,
        }
    }
}

/// One line: `zone  FROM -> TO  KIND ZONE  serial OLD -> NEW  N records  MS ms`.
impl fmt::Display for ZoneEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "zone  {} -> {}  {} {}",
            self.from, self.to, self.kind, self.zone
        )?;
        match (self.old_serial, self.serial) {
            (Some(old), Some(new)) => write!(f, "  serial {old} -> {new}")?,
            (None, Some(new)) => write!(f, "  serial {new}")?,
            _ => {}
        }
        if let Some(records) = self.records {
            let what = if self.kind == "IXFR" {
                "change"
            } else {
                "record"
            };
            let plural = if records == 1 { "" } else { "s" };
            write!(f, "  {records} {what}{plural}")?;
        }
        if let Some(ms) = self.ms {
            write!(f, "  {ms:.1} ms")?;
        }
        if let Some(error) = &self.error {
            write!(f, "  {error}")?;
        }
        Ok(())
    }
}

/// The latest zone events, and their live feed.
pub struct ZoneLog {
    entries: Mutex<VecDeque<ZoneEntry>>,
    live: broadcast::Sender<ZoneEntry>,
}

impl Default for ZoneLog {
    fn default() -> Self {
        ZoneLog {
            entries: Mutex::new(VecDeque::with_capacity(KEPT)),
            live: broadcast::channel(KEPT).0,
        }
    }
}

impl ZoneLog {
    /// Keeps `entry` (dropping the oldest beyond [`KEPT`]) and hands it
    /// to every subscriber. Never blocks on a subscriber.
    pub fn push(&self, entry: ZoneEntry) {
        {
            let mut entries = self.lock();
            if entries.len() == KEPT {
                entries.pop_front();
            }
            entries.push_back(entry.clone());
        }
        // No subscriber is no error.
        let _ = self.live.send(entry);
    }

    /// The entries kept, newest first.
    pub fn recent(&self) -> Vec<ZoneEntry> {
        self.lock().iter().rev().cloned().collect()
    }

    /// Every entry pushed from now on; a subscriber that falls more than
    /// [`KEPT`] behind is told how many it missed.
    pub fn subscribe(&self) -> broadcast::Receiver<ZoneEntry> {
        self.live.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<ZoneEntry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(serial: u32) -> ZoneEntry {
        let mut entry = ZoneEntry::new("IXFR", "lab.".into(), "a.".into(), "b.".into());
        entry.serial = Some(serial);
        entry
    }

    #[test]
    fn keeps_the_latest_newest_first() {
        let log = ZoneLog::default();
        for serial in 0..(KEPT as u32 + 5) {
            log.push(entry(serial));
        }
        let recent = log.recent();
        assert_eq!(recent.len(), KEPT);
        assert_eq!(recent[0].serial, Some(KEPT as u32 + 4));
        assert_eq!(recent[KEPT - 1].serial, Some(5));
    }

    #[test]
    fn one_line_each() {
        let mut ixfr = entry(2);
        ixfr.old_serial = Some(1);
        ixfr.records = Some(3);
        ixfr.ms = Some(1.25);
        assert_eq!(
            ixfr.to_string(),
            "zone  a. -> b.  IXFR lab.  serial 1 -> 2  3 changes  1.2 ms"
        );
        ixfr.records = Some(1);
        ixfr.ms = None;
        assert_eq!(
            ixfr.to_string(),
            "zone  a. -> b.  IXFR lab.  serial 1 -> 2  1 change"
        );
        let notify = ZoneEntry::new("NOTIFY", ".".into(), "a.".into(), "b.".into());
        assert_eq!(notify.to_string(), "zone  a. -> b.  NOTIFY .");
    }
}
