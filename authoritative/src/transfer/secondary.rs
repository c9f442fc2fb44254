//! A secondary zone (RFC 1034 4.3.5): a copy of a primary's zone, kept
//! fresh by the SOA timers and by NOTIFY.
//!
//! One task per secondary zone, so that a slow or hostile primary of one
//! zone never holds up another:
//! 1. ask each primary in turn for the zone's SOA; the first that answers
//!    is the one transferred from;
//! 2. if its serial is newer than ours by RFC 1982 arithmetic (wrap-around
//!    included), transfer: IXFR from our version when we have one, AXFR
//!    when we have none or the primary refuses IXFR;
//! 3. check the result as a master file is checked, build it off the
//!    async workers, and only then replace the version served (a
//!    transfer that fails anywhere changes nothing); the differences go
//!    into the zone's history and the new version is saved as the copy
//!    served at the next start (`history.rs`);
//! 4. wait REFRESH seconds after a successful check, RETRY after a failed
//!    one (the SOA's timers; before the first copy, 1 s doubling to a
//!    minute), or until a NOTIFY wakes the task;
//! 5. when EXPIRE seconds pass without a successful check, stop serving
//!    the zone: its names are answered SERVFAIL, as from BIND, until a
//!    primary answers again.
//!
//! Incoming transfers are bounded together by `transfers_in`, each by
//! the limits of [`TransferLimits`] (see `incoming.rs`).

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::rr::{Name, RData, Record};
use tokio::sync::{Notify, Semaphore};
use tracing::{debug, info, warn};

use super::incoming::{query_soa, receive, Received, TransferError};
use super::{TransferKind, ZoneEvent};
use crate::config::{Remote, TransferLimits};
use crate::journal::ChangeKind;
use crate::server::{serial, AuthServer};
use crate::zone::diff::soa_serial;
use crate::zone::diff::{Changeset, RecordSet};
use crate::zone::serial::{serial_cmp, serial_gt};
use crate::zone::{Location, SourcedRecord, Zone};

/// The first retry before a zone has a copy; it doubles up to
/// [`MAX_FIRST_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_FIRST_RETRY: Duration = Duration::from_secs(60);

/// Everything one secondary zone's task needs.
pub(crate) struct Secondary {
    pub server: AuthServer,
    pub origin: Name,
    pub primaries: Vec<Remote>,
    /// Woken by a NOTIFY for the zone.
    pub waker: Arc<Notify>,
    pub limits: TransferLimits,
    /// Bounds incoming transfers over all zones.
    pub transfers_in: Arc<Semaphore>,
    pub source: Option<IpAddr>,
    /// This server's name, for the log (`dnslab up` runs many).
    pub server_name: String,
    /// When a primary last answered for the zone; the expire clock. Set at
    /// start from the age of the copy in the data directory.
    pub last_contact: Option<Instant>,
}

/// The zone's timers (RFC 1035 3.3.13), at least one second each.
#[derive(Clone, Copy, Debug)]
struct Timers {
    refresh: Duration,
    retry: Duration,
    expire: Duration,
}

impl Timers {
    fn of(soa: &Record) -> Option<Timers> {
        let RData::SOA(soa) = &soa.data else {
            return None;
        };
        let seconds = |value: i32| Duration::from_secs(u64::try_from(value).unwrap_or(0).max(1));
        Some(Timers {
            refresh: seconds(soa.refresh),
            retry: seconds(soa.retry),
            expire: seconds(soa.expire),
        })
    }
}

impl Secondary {
    /// Keeps the zone fresh until the task is dropped.
    pub(crate) async fn run(mut self) {
        let mut first_retry = FIRST_RETRY;
        loop {
            let current = self.server.zone(&self.origin);
            let timers = current.as_ref().and_then(|zone| Timers::of(zone.soa()));
            let wait = match self.refresh(current.clone()).await {
                Ok(()) => {
                    self.last_contact = Some(Instant::now());
                    first_retry = FIRST_RETRY;
                    // The zone may have changed: its new timers.
                    let fresh = self.server.zone(&self.origin);
                    fresh
                        .and_then(|zone| Timers::of(zone.soa()))
                        .map_or(first_retry, |t| t.refresh)
                }
                Err(()) => match timers {
                    Some(timers) => timers.retry,
                    None => {
                        let wait = first_retry;
                        first_retry = (first_retry * 2).min(MAX_FIRST_RETRY);
                        wait
                    }
                },
            };
            let wait = self.expire_if_due(wait);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.waker.notified() => {
                    debug!(server = %self.server_name, zone = %self.origin, "woken by NOTIFY");
                }
            }
        }
    }

    /// Stops serving the zone when EXPIRE has passed since the last
    /// contact; returns how long to wait at most before looking again.
    fn expire_if_due(&self, wait: Duration) -> Duration {
        let Some(zone) = self.server.zone(&self.origin) else {
            return wait;
        };
        let (Some(timers), Some(contact)) = (Timers::of(zone.soa()), self.last_contact) else {
            return wait;
        };
        let age = contact.elapsed();
        if age >= timers.expire {
            warn!(server = %self.server_name, zone = %self.origin, serial = serial(&zone), expire_s = timers.expire.as_secs(), "zone expired: no primary answered within EXPIRE; answering SERVFAIL until one does");
            self.server.replace_zone(&self.origin, None);
            return wait;
        }
        wait.min(timers.expire - age)
    }

    /// One refresh: the primaries' SOA, and a transfer if one is newer.
    /// `Err` when no primary could be checked or the transfer failed.
    async fn refresh(&self, current: Option<Arc<Zone>>) -> Result<(), ()> {
        let ours = current.as_deref().map(serial);
        for primary in &self.primaries {
            let theirs = match query_soa(self.source, primary, &self.origin).await {
                Ok(soa) => soa_serial(&soa).unwrap_or(0),
                Err(error) => {
                    warn!(server = %self.server_name, zone = %self.origin, %primary, %error, "SOA query failed; trying the next primary");
                    continue;
                }
            };
            match ours {
                Some(ours) if !serial_gt(theirs, ours) => {
                    if serial_cmp(theirs, ours).is_some_and(|o| o.is_lt()) {
                        warn!(server = %self.server_name, zone = %self.origin, %primary, ours, theirs, "the primary's serial is older than ours; keeping ours");
                    } else {
                        debug!(server = %self.server_name, zone = %self.origin, %primary, serial = ours, "up to date");
                    }
                    self.touch_copy().await;
                    return Ok(());
                }
                _ => {}
            }
            info!(server = %self.server_name, zone = %self.origin, %primary, ours = ours.map(i64::from).unwrap_or(-1), theirs, "the primary has a newer version; transferring");
            return match self.transfer(primary, current.clone()).await {
                Ok(()) => Ok(()),
                Err(error) => {
                    warn!(server = %self.server_name, zone = %self.origin, %primary, %error, "zone transfer failed; the zone served is unchanged");
                    self.server
                        .transfers()
                        .observe(|| ZoneEvent::TransferFailed {
                            server: self.server_name.clone(),
                            zone: self.origin.clone(),
                            from: primary.addr,
                            error: error.to_string(),
                        });
                    Err(())
                }
            };
        }
        Err(())
    }

    /// Transfers the zone from `primary` and serves the result: IXFR when
    /// we have a version, AXFR when not, when the primary refuses IXFR, or
    /// when its differences do not apply to our version.
    async fn transfer(
        &self,
        primary: &Remote,
        current: Option<Arc<Zone>>,
    ) -> Result<(), TransferError> {
        let _permit = Arc::clone(&self.transfers_in).acquire_owned().await;
        let started = Instant::now();
        let old_serial = current.as_deref().map(serial);
        let ours = current.as_ref().map(|zone| zone.soa().clone());
        let received = match receive(
            self.source,
            primary,
            &self.origin,
            ours.as_ref(),
            &self.limits,
        )
        .await
        {
            Err(error) if ours.is_some() && error.ixfr_refused() => {
                info!(server = %self.server_name, zone = %self.origin, %primary, %error, "IXFR refused; falling back to AXFR");
                receive(self.source, primary, &self.origin, None, &self.limits).await?
            }
            received => received?,
        };
        let (mut kind, mut count) = match &received {
            Received::UpToDate(serial) => {
                debug!(server = %self.server_name, zone = %self.origin, serial, "IXFR: already up to date");
                self.touch_copy().await;
                return Ok(());
            }
            Received::Full(records) => (TransferKind::Axfr, records.len()),
            Received::Incremental(changes) => (
                TransferKind::Ixfr,
                changes.iter().map(Changeset::changes).sum(),
            ),
        };
        let installed = self
            .install(received, current.clone(), format!("{kind} from {primary}"))
            .await;
        let zone = match installed {
            Err(InstallError::NotApplicable(error)) => {
                warn!(server = %self.server_name, zone = %self.origin, %primary, %error, "the IXFR differences do not apply to our version; transferring the whole zone");
                let received =
                    receive(self.source, primary, &self.origin, None, &self.limits).await?;
                if let Received::Full(records) = &received {
                    (kind, count) = (TransferKind::Axfr, records.len());
                }
                self.install(received, current, format!("AXFR from {primary}"))
                    .await
                    .map_err(InstallError::into_transfer_error)?
            }
            installed => installed.map_err(InstallError::into_transfer_error)?,
        };
        info!(
            server = %self.server_name,
            zone = %self.origin,
            %primary,
            kind = kind.as_str(),
            serial = serial(&zone),
            records = count,
            elapsed_ms = started.elapsed().as_millis(),
            "zone transferred and now served"
        );
        self.server.transfers().observe(|| ZoneEvent::Transferred {
            server: self.server_name.clone(),
            zone: self.origin.clone(),
            from: primary.addr,
            kind,
            old_serial,
            serial: serial(&zone),
            records: count,
            elapsed: started.elapsed(),
        });
        self.server.transfers().zone_changed(&zone);
        Ok(())
    }

    /// Builds the new version from what was received (the whole zone, or
    /// our version with the differences applied), checks it, records it in
    /// the history, serves it and saves the copy; off the async workers.
    async fn install(
        &self,
        received: Received,
        current: Option<Arc<Zone>>,
        from: String,
    ) -> Result<Arc<Zone>, InstallError> {
        let server = self.server.clone();
        let origin = self.origin.clone();
        let server_name = self.server_name.clone();
        tokio::task::spawn_blocking(move || {
            let (records, changes) = match received {
                Received::Full(records) => (records, None),
                Received::Incremental(changes) => {
                    let base = current.as_deref().ok_or(InstallError::NotApplicable(
                        "differences without a version to apply them to".into(),
                    ))?;
                    let mut set = RecordSet::new(base.records().collect())
                        .map_err(|e| InstallError::NotApplicable(e.to_string()))?;
                    for change in &changes {
                        set.apply(change)
                            .map_err(|e| InstallError::NotApplicable(e.to_string()))?;
                    }
                    (set.into_records(), Some(changes))
                }
                Received::UpToDate(_) => {
                    return Err(InstallError::Failed("nothing to install".into()))
                }
            };
            let zone = build(origin.clone(), records, from).map_err(|problems| {
                for problem in problems.iter().take(5) {
                    warn!(server = %server_name, zone = %origin, %problem, "the transferred zone fails a check");
                }
                InstallError::Failed(format!(
                    "the transferred zone fails {} check(s); the first: {}",
                    problems.len(),
                    problems.first().map(ToString::to_string).unwrap_or_default()
                ))
            })?;
            for warning in zone.warnings() {
                warn!(server = %server_name, zone = %origin, %warning, "the transferred zone is served with a warning");
            }
            let zone = Arc::new(zone);
            let history = server.transfers().history.as_ref();
            if let Some(history) = history {
                match (&changes, current.as_deref()) {
                    (Some(changes), _) => history
                        .record_changes(ChangeKind::Transfer, &origin, changes)
                        .map_err(|e| InstallError::Failed(e.to_string()))?,
                    (None, Some(old)) => history.record_step(ChangeKind::Transfer, old, &zone),
                    (None, None) => history.reset(&zone),
                }
            }
            if !server.replace_zone(&origin, Some(Arc::clone(&zone))) {
                return Err(InstallError::Failed("cannot serve it beside the other zones".into()));
            }
            if let Some(history) = history {
                if let Err(error) = history.save_copy(&zone) {
                    warn!(server = %server_name, zone = %origin, %error, "cannot save the copy; it is served, but a restart will transfer it again");
                }
            }
            Ok(zone)
        })
        .await
        .unwrap_or_else(|e| Err(InstallError::Failed(e.to_string())))
    }

    /// A primary answered: EXPIRE counts from now after a restart too.
    async fn touch_copy(&self) {
        let server = self.server.clone();
        let origin = self.origin.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Some(history) = &server.transfers().history {
                if server.zone(&origin).is_some() {
                    history.touch_copy(&origin);
                }
            }
        })
        .await;
    }
}

/// Why a received version was not installed.
#[derive(Debug)]
enum InstallError {
    /// IXFR differences that do not fit our version: an AXFR may.
    NotApplicable(String),
    Failed(String),
}

impl InstallError {
    fn into_transfer_error(self) -> TransferError {
        match self {
            InstallError::NotApplicable(why) | InstallError::Failed(why) => {
                TransferError::Install(why)
            }
        }
    }
}

/// Checks and builds a transferred zone, as a master file is checked; the
/// records' "file" is `from`, their "line" their place in the transfer.
pub(crate) fn build(
    origin: Name,
    records: Vec<Record>,
    from: String,
) -> Result<Zone, Vec<crate::zone::check::Problem>> {
    let file = Arc::new(PathBuf::from(from));
    let sourced = records
        .into_iter()
        .enumerate()
        .map(|(at, record)| SourcedRecord {
            record,
            location: Location {
                file: Arc::clone(&file),
                line: u32::try_from(at + 1).unwrap_or(u32::MAX),
            },
        })
        .collect();
    Zone::from_records(origin, sourced)
}
