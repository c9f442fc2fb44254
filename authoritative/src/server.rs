//! The authoritative server as a value: which zone files it serves, the
//! current immutable snapshot of them, and atomic reload.
//!
//! [`AuthServer`] is a cheap handle (an `Arc`). Its snapshot (the
//! [`Catalog`] plus the prepared answers built from it) sits behind an
//! `ArcSwap`: workers load it without a lock, and [`AuthServer::reload`]
//! builds a complete new one before swapping it in, so a query sees either
//! all old zones or all new ones, and a failed reload changes nothing.
//! Neighbours: [`crate::zone`] loads files, [`crate::handler`] answers
//! from the snapshot, the `dnslab` binary and tests plug
//! [`AuthServer::handler`] into a `dnslab_transport::Server`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use dnslab_transport::Handler;
use dnslab_wire::{absolute_name, DEFAULT_MAX_UDP_PAYLOAD};
use hickory_proto::rr::{Name, RData};
use tracing::{error, info, warn};

use crate::handler::AuthHandler;
use crate::prepared::PreparedCache;
use crate::zone::{self, Catalog, CatalogError, Zone, ZoneSummary};

/// Prepared answers kept per snapshot. Enough for every name of a typical
/// zone times a few types; a flood of random names evicts, never grows.
const PREPARED_ENTRIES: usize = 65_536;
/// Bytes of prepared answers kept per snapshot (most are under 200 bytes).
const PREPARED_BYTES: usize = 64 * 1024 * 1024;

/// One zone to serve: `FILE`, or `NAME=FILE` to give its origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneSource {
    /// The zone name; `None` takes it from the file (`$ORIGIN` or SOA).
    pub origin: Option<Name>,
    pub path: PathBuf,
}

/// A `--zone` argument that is not `FILE` or `NAME=FILE`.
#[derive(Debug, thiserror::Error)]
pub enum ZoneSourceError {
    #[error("empty zone argument; expected FILE or NAME=FILE")]
    Empty,
    #[error("zone name {name:?} in {arg:?} is not a domain name: {reason}")]
    BadName {
        arg: String,
        name: String,
        reason: String,
    },
}

impl FromStr for ZoneSource {
    type Err = ZoneSourceError;

    /// `NAME=FILE` when there is an `=`, else `FILE`.
    fn from_str(arg: &str) -> Result<ZoneSource, ZoneSourceError> {
        let (origin, path) = match arg.split_once('=') {
            Some((name, path)) => {
                let origin = absolute_name(name).map_err(|reason| ZoneSourceError::BadName {
                    arg: arg.into(),
                    name: name.into(),
                    reason,
                })?;
                (Some(origin), path)
            }
            None => (None, arg),
        };
        if path.is_empty() {
            return Err(ZoneSourceError::Empty);
        }
        Ok(ZoneSource {
            origin,
            path: PathBuf::from(path),
        })
    }
}

impl fmt::Display for ZoneSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Some(origin) => write!(f, "{origin}={}", self.path.display()),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

/// How the server answers, beyond its zones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthOptions {
    /// One debug line per query (server, client, question, outcome):
    /// what each server of `dnslab up` saw, beside the walk it prints.
    pub log_queries: bool,
    /// The name shown in query logs; the local address when `None`.
    pub server_name: Option<String>,
    /// The largest UDP response, and the size advertised in OPT (RFC 6891
    /// 6.2.5). Values below 512 are read as 512.
    pub max_udp_payload: u16,
}

impl Default for AuthOptions {
    fn default() -> Self {
        AuthOptions {
            log_queries: false,
            server_name: None,
            max_udp_payload: DEFAULT_MAX_UDP_PAYLOAD,
        }
    }
}

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
}

impl fmt::Display for LoadFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadFailure::Zone { error, .. } => write!(f, "{error}"),
            LoadFailure::Catalog(error) => write!(f, "{error}"),
        }
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

/// The zones being served and the answers prepared from them. Replaced as
/// a whole on reload, never modified.
pub(crate) struct Snapshot {
    pub(crate) catalog: Catalog,
    pub(crate) prepared: PreparedCache,
}

struct Shared {
    sources: Vec<ZoneSource>,
    options: AuthOptions,
    snapshot: Arc<ArcSwap<Snapshot>>,
    /// Serialises reloads, so two SIGHUPs cannot interleave their swaps.
    reloading: Mutex<()>,
}

/// An authoritative server over a fixed list of zone files; a cheap handle.
#[derive(Clone)]
pub struct AuthServer {
    shared: Arc<Shared>,
}

impl fmt::Debug for AuthServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthServer")
            .field("sources", &self.shared.sources)
            .field("options", &self.shared.options)
            .finish_non_exhaustive()
    }
}

impl AuthServer {
    /// Loads every zone; fails, listing every problem, if any zone fails.
    pub fn load(sources: Vec<ZoneSource>, options: AuthOptions) -> Result<AuthServer, LoadErrors> {
        let (snapshot, summary) = build_snapshot(&sources)?;
        log_loaded(&summary, "zone loaded");
        Ok(AuthServer {
            shared: Arc::new(Shared {
                sources,
                options,
                snapshot: Arc::new(ArcSwap::from_pointee(snapshot)),
                reloading: Mutex::new(()),
            }),
        })
    }

    /// Re-reads every zone file and swaps them all in at once. On any
    /// failure nothing changes: the old zones keep serving, and the error
    /// is logged and returned.
    pub fn reload(&self) -> Result<ReloadSummary, LoadErrors> {
        let _serialised = self
            .shared
            .reloading
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match build_snapshot(&self.shared.sources) {
            Ok((snapshot, summary)) => {
                self.shared.snapshot.store(Arc::new(snapshot));
                log_loaded(&summary, "zone reloaded");
                Ok(summary)
            }
            Err(errors) => {
                error!(%errors, "reload failed; the previous zones keep serving");
                Err(errors)
            }
        }
    }

    /// The request handler to give a `dnslab_transport::Server`.
    pub fn handler(&self) -> Arc<dyn Handler> {
        Arc::new(AuthHandler::new(
            Arc::clone(&self.shared.snapshot),
            self.shared.options.clone(),
        ))
    }

    /// The origins and SOA serials of the zones served now (the web
    /// server's status and `dnslab_zone_serial`).
    pub fn zone_serials(&self) -> Vec<(Name, u32)> {
        let snapshot = self.shared.snapshot.load();
        let zones = snapshot.catalog.zones().iter();
        let serial = |zone: &Zone| match &zone.soa().data {
            RData::SOA(soa) => soa.serial,
            _ => 0,
        };
        zones.map(|z| (z.origin().clone(), serial(z))).collect()
    }

    pub fn options(&self) -> &AuthOptions {
        &self.shared.options
    }

    /// The origins of the zones currently served.
    pub fn zones(&self) -> Vec<Name> {
        let snapshot = self.shared.snapshot.load();
        snapshot
            .catalog
            .zones()
            .iter()
            .map(|z| z.origin().clone())
            .collect()
    }
}

/// Loads every source into a new snapshot, collecting every failure.
fn build_snapshot(sources: &[ZoneSource]) -> Result<(Snapshot, ReloadSummary), LoadErrors> {
    let mut zones = Vec::with_capacity(sources.len());
    let mut failures = Vec::new();
    for source in sources {
        match zone::load_zone(&source.path, source.origin.as_ref()) {
            Ok(zone) => zones.push(Arc::new(zone)),
            Err(error) => failures.push(LoadFailure::Zone {
                source: source.clone(),
                error,
            }),
        }
    }
    if !failures.is_empty() {
        return Err(LoadErrors(failures));
    }
    let summary = ReloadSummary {
        zones: zones.iter().map(|z| loaded_zone(z)).collect(),
    };
    let catalog = Catalog::new(zones).map_err(|e| LoadErrors(vec![LoadFailure::Catalog(e)]))?;
    let snapshot = Snapshot {
        catalog,
        prepared: PreparedCache::new(PREPARED_ENTRIES, PREPARED_BYTES),
    };
    Ok((snapshot, summary))
}

fn loaded_zone(zone: &Zone) -> LoadedZone {
    let serial = match &zone.soa().data {
        RData::SOA(soa) => soa.serial,
        _ => 0,
    };
    LoadedZone {
        origin: zone.origin().clone(),
        serial,
        summary: zone.summary(),
    }
}

fn log_loaded(summary: &ReloadSummary, message: &'static str) {
    for zone in &summary.zones {
        info!(
            zone = %zone.origin,
            serial = zone.serial,
            records = zone.summary.records,
            names = zone.summary.names,
            delegations = zone.summary.delegations,
            "{message}"
        );
        if zone.summary.signatures > 0 && !zone.summary.proves_denial {
            warn!(
                zone = %zone.origin,
                signatures = zone.summary.signatures,
                "the zone is signed but has no usable NSEC or NSEC3 chain: its DNSSEC records are answered when asked for, but answers carry no signatures or denial proofs (DO is not acted on)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_arguments_parse() {
        let plain: ZoneSource = "zones/a.zone".parse().expect("parses");
        assert_eq!(plain.origin, None);
        assert_eq!(plain.path, PathBuf::from("zones/a.zone"));
        let named: ZoneSource = "example.com=zones/a=b.zone".parse().expect("parses");
        assert_eq!(
            named.origin,
            Some(Name::from_ascii("example.com.").expect("name"))
        );
        assert_eq!(named.path, PathBuf::from("zones/a=b.zone"));
        assert_eq!(named.to_string(), "example.com.=zones/a=b.zone");
        assert!(matches!(
            "x=".parse::<ZoneSource>(),
            Err(ZoneSourceError::Empty)
        ));
        assert!(matches!(
            "a..b=f".parse::<ZoneSource>(),
            Err(ZoneSourceError::BadName { .. })
        ));
        // Escapes as in the zone file: \065 is decimal, "A".
        use hickory_proto::serialize::binary::BinEncodable;
        let escaped: ZoneSource = "dec\\065.test=f".parse().expect("parses");
        let wire = escaped.origin.expect("named").to_bytes().expect("wire");
        assert_eq!(wire, b"\x04decA\x04test\x00");
    }
}
