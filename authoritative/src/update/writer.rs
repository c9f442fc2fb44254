//! One zone's writer: the thread that applies its updates, one batch at a
//! time, and is the only one that does (so their order is the queue's).
//!
//! A batch is every update waiting when the writer is free (at most
//! [`super::QUEUE`]): while one batch is being flushed to disk, the next
//! gathers, so sixteen clients in flight share one `fdatasync` where one
//! client alone pays one each (the journal's group commit). For a batch:
//! 1. the updates are applied in order to the zone served now, through
//!    an overlay of the names they change ([`ZoneEdit`]), each whole or
//!    not at all (`super::apply`), the rules of a load that an update can
//!    break checked on what it changed;
//! 2. the next version is made from their changesets (`super::next`: the
//!    writer's spare copy of the zone, patched in place);
//! 3. under the server's lock on its zones, if the zone is still the
//!    version the batch started from (a reload may have replaced it: the
//!    batch is then redone on the new one), the changesets are appended
//!    to the journal and flushed to disk, then the new version is swapped
//!    in ([`AuthServer::commit_update`]);
//! 4. only then is each client answered, and the secondaries notified.
//!
//! A crash before step 3's flush loses updates nobody was told were
//! applied; after it, the journal has them and start-up replays them.
//! A batch costs time in proportion to what it changes, not to the
//! zone's size (`super::next` says when it does not).
//!
//! Besides updates, the writer writes the zone back to its master file
//! when `zonefile_sync` says (after the first unwritten update, that many
//! seconds later) or when the journal says only that can bring it under
//! its limits.

use std::net::IpAddr;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Instant;

use dnslab_tsig::Verified;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::Name;
use tokio::sync::oneshot;
use tracing::{debug, error, info, warn};

use super::apply::apply;
use super::edit::ZoneEdit;
use super::message::UpdateMessage;
use super::next::Versions;
use super::policy::{Client, UpdateConfig};
use crate::journal::ChangeKind;
use crate::server::{AuthServer, CommitError, WeakServer};
use crate::zone::diff::Changeset;
use crate::zone::Zone;

/// One update waiting for the writer.
pub(crate) struct Job {
    pub message: UpdateMessage,
    pub ip: IpAddr,
    /// Its TSIG, verified (the key decides what it may change).
    pub verified: Verified,
    /// Where the RCODE goes once the update is durable (or refused).
    pub reply: oneshot::Sender<ResponseCode>,
}

/// How many times a batch is redone on a zone a reload replaced under
/// it, before its clients get SERVFAIL.
const ATTEMPTS: usize = 3;

pub(crate) struct Writer {
    server: WeakServer,
    origin: Name,
    config: UpdateConfig,
    jobs: Receiver<Job>,
    versions: Versions,
}

impl Writer {
    pub(crate) fn new(
        server: WeakServer,
        origin: Name,
        config: UpdateConfig,
        jobs: Receiver<Job>,
    ) -> Writer {
        Writer {
            server,
            origin,
            config,
            jobs,
            versions: Versions::default(),
        }
    }

    /// Runs until the server is gone (its queue closed).
    pub(crate) fn run(mut self) {
        // When the first update not yet in the master file was applied.
        let mut unwritten: Option<Instant> = None;
        loop {
            let sync_due = self
                .config
                .zonefile_sync
                .zip(unwritten)
                .map(|(after, since)| since + after);
            let wake = sync_due
                .into_iter()
                .chain(self.versions.idle_deadline())
                .min();
            let first = match wake {
                Some(at) => match self
                    .jobs
                    .recv_timeout(at.saturating_duration_since(Instant::now()))
                {
                    Ok(job) => Some(job),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                },
                None => match self.jobs.recv() {
                    Ok(job) => Some(job),
                    Err(_) => return,
                },
            };
            self.versions.drop_if_idle();
            let Some(server) = self.server.upgrade() else {
                return;
            };
            if let Some(first) = first {
                let mut batch = vec![first];
                batch.extend(self.jobs.try_iter().take(super::QUEUE));
                if self.process(&server, batch) {
                    unwritten.get_or_insert_with(Instant::now);
                }
            }
            let due = match (self.config.zonefile_sync, unwritten) {
                (Some(after), Some(since)) => since.elapsed() >= after,
                _ => false,
            };
            let full = server
                .transfers()
                .history
                .as_ref()
                .is_some_and(|history| history.needs_flush(&self.origin));
            if due || full {
                match super::flush(&server, &self.origin) {
                    Ok(flushed) => {
                        info!(zone = %self.origin, serial = flushed.serial, file = %flushed.file.display(), journal_full = full, "zone written back to its master file");
                        unwritten = None;
                    }
                    Err(error) => {
                        error!(zone = %self.origin, %error, "cannot write the zone back to its master file; its journal keeps the updates")
                    }
                }
            }
        }
    }

    /// Applies `batch`, makes it durable and serves it, then answers each
    /// client; whether the zone changed.
    fn process(&mut self, server: &AuthServer, batch: Vec<Job>) -> bool {
        for _ in 0..ATTEMPTS {
            let Some(base) = server.zone(&self.origin) else {
                break;
            };
            let (outcomes, changesets) = self.apply_all(&base, &batch);
            if changesets.is_empty() {
                answer(batch, &outcomes);
                return false;
            }
            let next = match self.versions.next(&base, &changesets) {
                Ok((next, made)) => {
                    debug!(zone = %self.origin, ?made, updates = changesets.len(), "next version");
                    Arc::new(next)
                }
                Err(reason) => {
                    error!(zone = %self.origin, %reason, "the updated zone cannot be built; the batch is not applied (each update was checked: a bug)");
                    fail(batch);
                    return false;
                }
            };
            let history = server.transfers().history.as_ref();
            let durable = || match history {
                Some(history) => history
                    .record_changes(ChangeKind::Update, &self.origin, &changesets)
                    .map_err(|e| e.to_string()),
                None => Err("the zone has no journal".to_string()),
            };
            match server.commit_update(&self.origin, &base, Arc::clone(&next), durable) {
                Ok(()) => {
                    self.log(&batch, &outcomes);
                    answer(batch, &outcomes);
                    server.transfers().zone_changed(&next);
                    if let Some(history) = history {
                        history.fit_limits(&self.origin, next.summary().records);
                    }
                    self.versions.served(base, &next, changesets);
                    return true;
                }
                Err(CommitError::Moved) => continue,
                Err(CommitError::NotDurable(reason)) => {
                    error!(zone = %self.origin, %reason, "cannot journal the updates; they are not applied");
                    fail(batch);
                    return false;
                }
            }
        }
        warn!(zone = %self.origin, updates = batch.len(), "the zone is not served, or kept changing under the updates; answered SERVFAIL");
        fail(batch);
        false
    }

    /// Every update of the batch applied in order to `base` (through an
    /// overlay of what they change): each one's outcome, and the
    /// changesets of those that changed it.
    fn apply_all(&self, base: &Arc<Zone>, batch: &[Job]) -> (Vec<Outcome>, Vec<Changeset>) {
        let mut edit = ZoneEdit::new(Arc::clone(base));
        let mut changesets = Vec::new();
        let outcomes = batch
            .iter()
            .map(|job| {
                let client = Client {
                    ip: job.ip,
                    key: job.verified.key(),
                };
                match apply(&mut edit, &job.message, client, &self.config.rules) {
                    Ok(Some(changeset)) => {
                        let outcome = Outcome::Changed {
                            serial: changeset.to_serial,
                            changes: changeset.changes(),
                        };
                        changesets.push(changeset);
                        outcome
                    }
                    Ok(None) => Outcome::Unchanged,
                    Err(error) => {
                        info!(zone = %self.origin, client = %job.ip, key = ?client.key.map(|k| k.name()), rcode = ?error.rcode(), %error, "update refused");
                        Outcome::Refused(error.rcode())
                    }
                }
            })
            .collect();
        (outcomes, changesets)
    }

    /// One line per update that changed the zone, once it is served.
    fn log(&self, batch: &[Job], outcomes: &[Outcome]) {
        for (job, outcome) in batch.iter().zip(outcomes) {
            if let Outcome::Changed { serial, changes } = outcome {
                let key = job.verified.key().map(|k| k.name());
                info!(zone = %self.origin, client = %job.ip, ?key, serial, changes, batch = batch.len(), "update applied");
            }
        }
    }
}

/// What one update of a batch did.
#[derive(Clone, Copy, Debug)]
enum Outcome {
    /// Applied: the zone's new serial and the records removed and added.
    Changed {
        serial: u32,
        changes: usize,
    },
    /// Nothing to do (duplicates, deletes of nothing): NOERROR.
    Unchanged,
    Refused(ResponseCode),
}

/// Sends each job its RCODE, once the batch is durable and served.
fn answer(batch: Vec<Job>, outcomes: &[Outcome]) {
    for (job, outcome) in batch.into_iter().zip(outcomes) {
        let rcode = match outcome {
            Outcome::Changed { .. } | Outcome::Unchanged => ResponseCode::NoError,
            Outcome::Refused(rcode) => *rcode,
        };
        // A client that stopped waiting (a TCP connection closed) is fine.
        let _ = job.reply.send(rcode);
    }
}

/// SERVFAIL to every job of a batch that could not be made durable.
fn fail(batch: Vec<Job>) {
    for job in batch {
        let _ = job.reply.send(ResponseCode::ServFail);
    }
}
