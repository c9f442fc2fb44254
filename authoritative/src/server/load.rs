//! Loading zones, at start and at a reload: a primary's master file
//! (rebuilt with its journal when it keeps one), a secondary's saved
//! copy, a primary's views; how a load fails ([`LoadFailure`], every one
//! of an attempt in [`LoadErrors`]) and what it serves ([`ReloadSummary`]).
//! [`super::AuthServer`] decides what to do with each.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use hickory_proto::rr::Name;

use super::ZoneSource;
use crate::config::{Role, ZoneConfig};
use crate::transfer::{History, HistoryError};
use crate::views::{load_view, LoadedView, ViewError};
use crate::zone::{self, CatalogError, Zone, ZoneSummary};

/// Why one zone, or the set of zones, could not be loaded.
#[derive(Debug)]
pub enum LoadFailure {
    /// A master file did not read or check; its `Display` names `file:line`.
    Zone {
        source: ZoneSource,
        error: zone::ZoneFileError,
    },
    /// The zones load but cannot be served together.
    Catalog(CatalogError),
    /// A zone's views cannot be served.
    View(ViewError),
    /// The data directory, a zone's journal or a secondary's copy cannot
    /// be used (the message names the file).
    History(String),
    /// A master file now names another zone than the one it was first
    /// loaded as (its `$ORIGIN` or SOA owner changed): the server keeps
    /// serving zones by name, so the old one stays.
    OriginChanged {
        source: ZoneSource,
        was: Name,
        now: Name,
    },
    /// The master file changed while updates it lacks are journaled:
    /// taking it would drop them (see `crate::journal`'s replay), so the
    /// zone keeps serving with its updates.
    UnwrittenUpdates {
        source: ZoneSource,
        zone: Name,
        file_serial: u32,
        served_serial: u32,
    },
}

impl fmt::Display for LoadFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadFailure::Zone { error, .. } => write!(f, "{error}"),
            LoadFailure::Catalog(error) => write!(f, "{error}"),
            LoadFailure::View(error) => write!(f, "{error}"),
            LoadFailure::History(error) => write!(f, "{error}"),
            LoadFailure::OriginChanged { source, was, now } => write!(
                f,
                "{}: the file now holds zone {now}, loaded before as {was}; restart the server to serve it under its new name",
                source.path.display()
            ),
            LoadFailure::UnwrittenUpdates {
                source,
                zone,
                file_serial,
                served_serial,
            } => write!(
                f,
                "{}: the file (serial {file_serial}) changed while zone {zone} has dynamic updates it lacks (serial {served_serial} served): taking it would lose them. Put the file back, run `dnslab ctl zone-flush {zone}` (the file then holds every update), edit it with a serial above {served_serial}, and reload",
                source.path.display()
            ),
        }
    }
}

impl From<HistoryError> for LoadFailure {
    fn from(error: HistoryError) -> LoadFailure {
        LoadFailure::History(error.to_string())
    }
}

/// Every problem found while loading, one per line; nothing was served
/// from this attempt.
#[derive(Debug)]
pub struct LoadErrors(pub Vec<LoadFailure>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, failure) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{failure}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

/// One zone as loaded, for the log and the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedZone {
    pub origin: Name,
    pub serial: u32,
    pub summary: ZoneSummary,
}

/// What a successful load or reload now serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReloadSummary {
    pub zones: Vec<LoadedZone>,
}

/// One configured zone at start: its name, what to serve (a primary's
/// file, a secondary's saved copy; either rebuilt with its journal), and
/// for a secondary when a primary last answered.
pub(super) fn load_zone(
    config: &ZoneConfig,
    history: Option<&mut History>,
) -> Result<(Name, Option<Zone>, Option<Instant>), Box<LoadFailure>> {
    let history_failure = |error: HistoryError| Box::new(LoadFailure::from(error));
    match (&config.role, history) {
        (Role::Primary(source), history) => {
            let zone = zone::load_zone(&source.path, source.origin.as_ref()).map_err(|error| {
                Box::new(LoadFailure::Zone {
                    source: source.clone(),
                    error,
                })
            })?;
            let origin = zone.origin().clone();
            let zone = match history {
                Some(history) if config.keeps_history() => history
                    .open_zone(&origin, Some(zone))
                    .map_err(history_failure)?,
                _ => Some(zone),
            };
            Ok((origin, zone, None))
        }
        (Role::Secondary { origin, .. }, Some(history)) => {
            let (zone, age) = history.load_copy(origin).map_err(history_failure)?;
            let contact = age.and_then(|age| Instant::now().checked_sub(age));
            Ok((origin.clone(), zone, contact))
        }
        (Role::Secondary { origin, .. }, None) => Ok((origin.clone(), None, None)),
    }
}

/// A primary's views, each built from its own data (a master file, or the
/// zone's with RRsets replaced). A secondary has none: its configuration
/// refuses them (a view's records would replace what transfers bring).
pub(super) fn load_views(
    config: &ZoneConfig,
    origin: &Name,
) -> Result<Vec<LoadedView>, Box<LoadFailure>> {
    let Role::Primary(source) = &config.role else {
        return Ok(Vec::new());
    };
    config
        .views
        .iter()
        .map(|view| {
            let zone = load_view(origin, &source.path, view)
                .map_err(|e| Box::new(LoadFailure::View(e)))?;
            Ok(LoadedView {
                name: view.name.clone(),
                clients: view.clients.clone(),
                zone: Arc::new(zone),
            })
        })
        .collect()
}

/// Reads, checks and builds one master file.
pub(super) fn load_primary(source: &ZoneSource) -> Result<Arc<Zone>, Box<LoadFailure>> {
    zone::load_zone(&source.path, source.origin.as_ref())
        .map(Arc::new)
        .map_err(|error| {
            Box::new(LoadFailure::Zone {
                source: source.clone(),
                error,
            })
        })
}
