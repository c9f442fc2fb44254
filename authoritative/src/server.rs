//! The authoritative server as a value: its zones, each with a state of
//! its own (a primary read from a master file, a secondary copied from its
//! primaries), the immutable snapshot the request path reads, and the
//! changes that replace it: a reload of every master file, or a new
//! version of one zone.
//!
//! [`AuthServer`] is a cheap handle (an `Arc`). Its snapshot (the
//! [`Catalog`] of the zones that have data, the prepared answers built
//! from it, and the zones that have none) sits behind an `ArcSwap`:
//! workers load it without a lock, and every change builds a complete new
//! snapshot before swapping it in, so a query sees either the old zones or
//! the new ones, and a failed reload changes nothing. Changes themselves
//! are serialised by one lock on the table of zones (never held across an
//! `.await`), so a reload and a transfer cannot interleave their swaps;
//! a change to one zone drops the prepared answers of all (they are
//! rebuilt on demand). A primary's views (`crate::views`) are loaded and
//! reloaded with its master file, and the snapshot holds their table.
//!
//! Neighbours: [`crate::zone`] loads files, [`crate::handler`] answers
//! from the snapshot, [`crate::transfer`] serves and runs transfers and
//! NOTIFY over the same zones; the `dnslab` binary and tests plug
//! [`AuthServer::handler`] into a `dnslab_transport::Server`. Loading a
//! zone's data, and how a load fails, is `server/load.rs`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Instant;

use arc_swap::ArcSwap;
use dnslab_transport::Handler;
use dnslab_wire::{absolute_name, RrsetOrder, WireName, DEFAULT_MAX_UDP_PAYLOAD};
use hickory_proto::rr::Name;
use tracing::{error, info, warn};

use crate::config::{AuthConfig, Role, ZoneConfig};
use crate::handler::AuthHandler;
use crate::prepared::PreparedCache;
use crate::transfer::{FileState, History, Transfers};
use crate::update::{FlushError, Flushed, Updates};
use crate::views::{LoadedView, ViewSet, ZoneViews};
use crate::zone::{Catalog, Zone};

/// Prepared answers kept per snapshot. Enough for every name of a typical
/// zone times a few types; a flood of random names evicts, never grows.
mod load;

use load::{load_primary, load_views, load_zone};
pub use load::{LoadErrors, LoadFailure, LoadedZone, ReloadSummary};

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
    /// The order of the records of each RRset in answers, for zones that
    /// do not choose their own (`--rrset-order`; cyclic by default, as in
    /// BIND: load distribution).
    pub rrset_order: RrsetOrder,
    /// RFC 7871: a query's EDNS Client Subnet option, when it has one,
    /// chooses the view instead of the query's source address, and the
    /// answer carries the option with its scope (`--ecs`). Off by default:
    /// the option gives away part of the address of the client behind a
    /// resolver, and ECS multiplies the answers resolvers cache.
    pub ecs: bool,
}

impl Default for AuthOptions {
    fn default() -> Self {
        AuthOptions {
            log_queries: false,
            server_name: None,
            max_udp_payload: DEFAULT_MAX_UDP_PAYLOAD,
            rrset_order: RrsetOrder::default(),
            ecs: false,
        }
    }
}

/// The zones being served and the answers prepared from them. Replaced as
/// a whole on every change, never modified.
pub(crate) struct Snapshot {
    pub(crate) catalog: Catalog,
    pub(crate) prepared: PreparedCache,
    /// Zones configured but without data: a secondary before its first
    /// transfer, or expired. Names in them are answered SERVFAIL, as BIND
    /// answers for an expired zone, rather than REFUSED or with the
    /// parent zone's referral. Lowercased wire names.
    unavailable: Vec<Box<[u8]>>,
    /// The zones' views, and the catalog of each (empty without views).
    pub(crate) views: ViewSet,
    /// The zones that order their RRsets otherwise than the server.
    orders: Vec<(Name, RrsetOrder)>,
}

impl Snapshot {
    /// The snapshot of `zones` as `config` serves them: their RRset
    /// orders, and the views of those with data.
    fn new(zones: &[Slot], config: &AuthConfig) -> Result<Snapshot, Box<LoadFailure>> {
        let served: Vec<Arc<Zone>> = zones.iter().filter_map(|slot| slot.zone.clone()).collect();
        let unavailable = zones
            .iter()
            .filter(|slot| slot.zone.is_none())
            .map(|slot| Box::from(WireName::new(&slot.origin).bytes()))
            .collect();
        let with_views = zones
            .iter()
            .filter(|slot| slot.zone.is_some() && !slot.views.is_empty())
            .map(|slot| ZoneViews {
                origin: slot.origin.clone(),
                views: slot.views.clone(),
            })
            .collect();
        let orders = zones
            .iter()
            .filter_map(|slot| {
                let order = config.zones.get(slot.config)?.rrset_order?;
                Some((slot.origin.clone(), order))
            })
            .collect();
        Ok(Snapshot {
            views: ViewSet::new(&served, with_views).map_err(|e| Box::new(LoadFailure::View(e)))?,
            catalog: Catalog::new(served).map_err(|e| Box::new(LoadFailure::Catalog(e)))?,
            prepared: PreparedCache::new(PREPARED_ENTRIES, PREPARED_BYTES),
            unavailable,
            orders,
        })
    }

    /// The order of the RRsets of an answer from `zone` (the zone of its
    /// question); `default` for other zones and for no zone.
    pub(crate) fn rrset_order(&self, zone: Option<&Zone>, default: RrsetOrder) -> RrsetOrder {
        zone.and_then(|zone| {
            self.orders
                .iter()
                .find(|(origin, _)| origin == zone.origin())
        })
        .map_or(default, |&(_, order)| order)
    }

    /// Whether the most specific zone configured for `qname` has no data
    /// to answer with.
    pub(crate) fn unavailable(&self, qname: &Name) -> bool {
        if self.unavailable.is_empty() {
            return false;
        }
        let wire = WireName::new(qname);
        let served = self
            .catalog
            .find(qname)
            .map_or(0, |zone| WireName::new(zone.origin()).labels() + 1);
        (served..=wire.labels()).any(|labels| {
            let ancestor = wire.ancestor(labels);
            self.unavailable.iter().any(|origin| **origin == *ancestor)
        })
    }

    /// The zone named exactly `origin`, if it is served with data.
    pub(crate) fn zone(&self, origin: &Name) -> Option<&Arc<Zone>> {
        self.catalog
            .find(origin)
            .filter(|zone| zone.origin() == origin)
    }
}

/// One configured zone as it stands now.
struct Slot {
    /// Index into the configuration's zones.
    config: usize,
    /// The zone's name: configured, or read from its master file.
    origin: Name,
    /// What is served; `None` for a secondary without data.
    zone: Option<Arc<Zone>>,
    /// A primary's views, loaded with its master file.
    views: Vec<LoadedView>,
    /// A secondary's saved copy at start: when a primary last answered.
    contact: Option<Instant>,
}

struct Shared {
    config: Arc<AuthConfig>,
    snapshot: Arc<ArcSwap<Snapshot>>,
    /// Every configured zone, in configuration order: the writer side.
    /// Locked while a new snapshot is built and stored.
    zones: Mutex<Vec<Slot>>,
    transfers: Arc<Transfers>,
    /// The queues of the zones that take dynamic updates.
    updates: Arc<Updates>,
}

/// A handle that does not keep the server alive: what a zone's update
/// writer holds, so that dropping the last [`AuthServer`] stops it.
#[derive(Clone)]
pub(crate) struct WeakServer(Weak<Shared>);

impl WeakServer {
    pub(crate) fn upgrade(&self) -> Option<AuthServer> {
        self.0.upgrade().map(|shared| AuthServer { shared })
    }
}

/// Why [`AuthServer::commit_update`] did not serve a new version.
#[derive(Debug)]
pub(crate) enum CommitError {
    /// The zone is no longer the version the changes were made to (a
    /// reload replaced it): nothing was journaled.
    Moved,
    /// The journal could not make the changes durable: nothing served.
    NotDurable(String),
}

/// An authoritative server over its configured zones; a cheap handle.
#[derive(Clone)]
pub struct AuthServer {
    shared: Arc<Shared>,
}

impl fmt::Debug for AuthServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthServer")
            .field("zones", &self.zones())
            .field("options", &self.shared.config.options)
            .finish_non_exhaustive()
    }
}

impl AuthServer {
    /// Serves the master files `sources`, and nothing else (no transfers,
    /// no NOTIFY); fails, listing every problem, if any zone fails.
    pub fn load(sources: Vec<ZoneSource>, options: AuthOptions) -> Result<AuthServer, LoadErrors> {
        AuthServer::new(AuthConfig::primaries(sources, options))
    }

    /// Loads every primary zone's master file; secondary zones start
    /// without data until their first transfer. Fails, listing every
    /// problem, if any master file fails. Transfers in and NOTIFY out run
    /// once [`AuthServer::spawn_tasks`] has started them.
    pub fn new(config: AuthConfig) -> Result<AuthServer, LoadErrors> {
        let mut history = match config.uses_data_dir() {
            true => Some(History::open(&config.data_dir).map_err(|e| LoadErrors(vec![e.into()]))?),
            false => None,
        };
        let mut slots = Vec::with_capacity(config.zones.len());
        let mut failures = Vec::new();
        for (at, zone_config) in config.zones.iter().enumerate() {
            let loaded =
                load_zone(zone_config, history.as_mut()).and_then(|(origin, zone, contact)| {
                    let views = load_views(zone_config, &origin)?;
                    Ok(Slot {
                        config: at,
                        origin,
                        zone: zone.map(Arc::new),
                        views,
                        contact,
                    })
                });
            match loaded {
                Ok(slot) => slots.push(slot),
                Err(failure) => failures.push(*failure),
            }
        }
        if !failures.is_empty() {
            return Err(LoadErrors(failures));
        }
        let snapshot = Snapshot::new(&slots, &config).map_err(|e| LoadErrors(vec![*e]))?;
        log_loaded(&summary(&slots), "zone loaded");
        let config = Arc::new(config);
        let origins: Vec<(Name, usize)> =
            slots.iter().map(|s| (s.origin.clone(), s.config)).collect();
        let shared = Arc::new_cyclic(|weak| {
            let updates = Updates::start(&WeakServer(weak.clone()), &config, &origins);
            Shared {
                transfers: Arc::new(Transfers::new(Arc::clone(&config), origins, history)),
                config,
                snapshot: Arc::new(ArcSwap::from_pointee(snapshot)),
                zones: Mutex::new(slots),
                updates: Arc::new(updates),
            }
        });
        Ok(AuthServer { shared })
    }

    /// Re-reads every primary zone's master file and swaps them all in at
    /// once; secondary zones are left as they are. On any failure nothing
    /// changes: the old zones keep serving, and the error is logged and
    /// returned. Zones whose serial changed are announced to their
    /// secondaries (NOTIFY).
    pub fn reload(&self) -> Result<ReloadSummary, LoadErrors> {
        let mut zones = self.lock_zones();
        let mut failures = Vec::new();
        let mut loaded = Vec::new();
        for (at, slot) in zones.iter().enumerate() {
            let zone_config = &self.shared.config.zones[slot.config];
            let Role::Primary(source) = &zone_config.role else {
                continue;
            };
            let views = load_views(zone_config, &slot.origin);
            match (load_primary(source), views) {
                (Ok(zone), _) if zone.origin() != &slot.origin => {
                    failures.push(LoadFailure::OriginChanged {
                        source: source.clone(),
                        was: slot.origin.clone(),
                        now: zone.origin().clone(),
                    })
                }
                (Ok(zone), Ok(views)) => match self.file_state(&slot.origin) {
                    FileState::Current => loaded.push((at, zone, views)),
                    // Updates are journaled that the file lacks: an
                    // untouched file (its serial the one last written, or
                    // the one served) leaves them serving (the zone's
                    // views are reloaded beside them); an edited one
                    // would drop them.
                    FileState::Behind { written } => {
                        let (file, served) = (serial(&zone), slot.zone.as_deref().map(serial));
                        if Some(file) != written && Some(file) != served {
                            failures.push(LoadFailure::UnwrittenUpdates {
                                source: source.clone(),
                                zone: slot.origin.clone(),
                                file_serial: file,
                                served_serial: served.unwrap_or_default(),
                            });
                        } else if let Some(served) = &slot.zone {
                            loaded.push((at, Arc::clone(served), views));
                        }
                    }
                },
                (Err(failure), _) | (_, Err(failure)) => failures.push(*failure),
            }
        }
        if !failures.is_empty() {
            let errors = LoadErrors(failures);
            error!(%errors, "reload failed; the previous zones keep serving");
            return Err(errors);
        }
        let mut changed = Vec::new();
        for (at, zone, views) in loaded {
            let slot = &mut zones[at];
            slot.views = views;
            if let Some(old) = slot.zone.as_deref() {
                if serial(old) != serial(&zone) {
                    changed.push(Arc::clone(&zone));
                    // Kept before the new version is served: an IXFR that
                    // sees it finds its difference.
                    self.shared.transfers.record_step(old, &zone);
                }
            }
            slot.zone = Some(zone);
        }
        match Snapshot::new(&zones, &self.shared.config) {
            Ok(snapshot) => self.shared.snapshot.store(Arc::new(snapshot)),
            Err(e) => {
                let errors = LoadErrors(vec![*e]);
                error!(%errors, "reload failed; the previous zones keep serving");
                return Err(errors);
            }
        }
        let summary = summary(&zones);
        drop(zones);
        log_loaded(&summary, "zone reloaded");
        for zone in changed {
            self.shared.transfers.zone_changed(&zone);
        }
        Ok(summary)
    }

    /// Serves `zone` (a new version from a transfer), or nothing for the
    /// zone `origin` (expired), in place of what it served; the other
    /// zones are untouched. `false` when `origin` is not a configured zone
    /// or the zone cannot be served beside the others.
    pub(crate) fn replace_zone(&self, origin: &Name, zone: Option<Arc<Zone>>) -> bool {
        let mut zones = self.lock_zones();
        let Some(at) = zones.iter().position(|slot| slot.origin == *origin) else {
            return false;
        };
        let previous = std::mem::replace(&mut zones[at].zone, zone);
        match Snapshot::new(&zones, &self.shared.config) {
            Ok(snapshot) => {
                self.shared.snapshot.store(Arc::new(snapshot));
                true
            }
            Err(e) => {
                error!(zone = %origin, error = %e, "cannot serve the new version; the old one stays");
                zones[at].zone = previous;
                false
            }
        }
    }

    /// Serves `next`, a version of `origin` made from `base` by updates,
    /// once `durable` has made its changes durable (the journal): both
    /// under the lock on the zones, and only while `base` is still the
    /// version served, so that no reload comes in between.
    pub(crate) fn commit_update(
        &self,
        origin: &Name,
        base: &Arc<Zone>,
        next: Arc<Zone>,
        durable: impl FnOnce() -> Result<(), String>,
    ) -> Result<(), CommitError> {
        let mut zones = self.lock_zones();
        let Some(slot) = zones.iter_mut().find(|slot| slot.origin == *origin) else {
            return Err(CommitError::Moved);
        };
        if !slot
            .zone
            .as_ref()
            .is_some_and(|zone| Arc::ptr_eq(zone, base))
        {
            return Err(CommitError::Moved);
        }
        durable().map_err(CommitError::NotDurable)?;
        slot.zone = Some(next);
        match Snapshot::new(&zones, &self.shared.config) {
            Ok(snapshot) => self.shared.snapshot.store(Arc::new(snapshot)),
            // The set of origins did not change, so this cannot happen;
            // the journal has the changes, and the next start serves them.
            Err(e) => error!(zone = %origin, error = %e, "cannot serve the updated zone"),
        }
        Ok(())
    }

    /// Runs `f` on `origin`'s configuration and version served now, with
    /// the zones locked (nothing replaces it meanwhile); `None` when the
    /// zone is not configured.
    pub(crate) fn with_zone_locked<R>(
        &self,
        origin: &Name,
        f: impl FnOnce(&ZoneConfig, Option<&Arc<Zone>>) -> R,
    ) -> Option<R> {
        let zones = self.lock_zones();
        let slot = zones.iter().find(|slot| slot.origin == *origin)?;
        Some(f(
            &self.shared.config.zones[slot.config],
            slot.zone.as_ref(),
        ))
    }

    /// Writes the version of `origin` served now back to its master file
    /// (`dnslab ctl zone-flush`); see `crate::update`'s `flush`. Blocks
    /// while the file is written.
    pub fn zone_flush(&self, origin: &Name) -> Result<Flushed, FlushError> {
        crate::update::flush(self, origin)
    }

    fn file_state(&self, origin: &Name) -> FileState {
        match &self.shared.transfers.history {
            Some(history) => history.file_state(origin),
            None => FileState::Current,
        }
    }

    fn lock_zones(&self) -> MutexGuard<'_, Vec<Slot>> {
        self.shared
            .zones
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The request handler to give a `dnslab_transport::Server`.
    pub fn handler(&self) -> Arc<dyn Handler> {
        Arc::new(AuthHandler::new(
            Arc::clone(&self.shared.snapshot),
            self.shared.config.options.clone(),
            Arc::clone(&self.shared.transfers),
            Arc::clone(&self.shared.updates),
        ))
    }

    /// The origins and SOA serials of the zones served now (the web
    /// server's status and `dnslab_zone_serial`).
    pub fn zone_serials(&self) -> Vec<(Name, u32)> {
        let snapshot = self.shared.snapshot.load();
        self.zones()
            .into_iter()
            .filter_map(|origin| {
                let served = snapshot.zone(&origin)?;
                Some((origin, serial(served)))
            })
            .collect()
    }

    pub fn options(&self) -> &AuthOptions {
        &self.shared.config.options
    }

    pub fn config(&self) -> &AuthConfig {
        &self.shared.config
    }

    /// The origins of every configured zone, served or not.
    pub fn zones(&self) -> Vec<Name> {
        self.lock_zones()
            .iter()
            .map(|slot| slot.origin.clone())
            .collect()
    }

    /// The version of `origin` served now, if any.
    pub fn zone(&self, origin: &Name) -> Option<Arc<Zone>> {
        self.shared.snapshot.load().zone(origin).cloned()
    }

    pub(crate) fn transfers(&self) -> &Arc<Transfers> {
        &self.shared.transfers
    }

    /// Tells `observer` of every NOTIFY sent or accepted and every
    /// transfer in, from now on (the live view of `dnslab up`); set it
    /// before [`AuthServer::spawn_tasks`]. Only the first call counts.
    pub fn set_zone_observer(&self, observer: Arc<dyn crate::ZoneObserver>) {
        self.shared.transfers.set_observer(observer);
    }

    /// Starts, on the current tokio runtime, what runs beside the request
    /// path: the NOTIFY sender, which first announces every zone that has
    /// NOTIFY targets (as BIND and Knot do when they load a zone, so that
    /// secondaries started earlier catch up), and one refresh task per
    /// secondary zone. Everything stops when the returned handle is
    /// dropped.
    pub fn spawn_tasks(&self) -> BackgroundTasks {
        let mut tasks = tokio::task::JoinSet::new();
        let (sender, jobs) = tokio::sync::mpsc::unbounded_channel();
        self.shared.transfers.set_notifier(sender);
        let config = &self.shared.config;
        tasks.spawn(crate::transfer::run_notifier(
            jobs,
            config.source_address,
            config.options.server_name.clone(),
            self.shared.transfers.observer(),
        ));
        let zones: Vec<Arc<Zone>> = self
            .lock_zones()
            .iter()
            .filter_map(|slot| slot.zone.clone())
            .collect();
        for zone in zones {
            self.shared.transfers.zone_changed(&zone);
        }
        let server_name = config
            .options
            .server_name
            .clone()
            .unwrap_or_else(|| "-".into());
        let contacts: std::collections::HashMap<Name, Instant> = self
            .lock_zones()
            .iter()
            .filter_map(|slot| Some((slot.origin.clone(), slot.contact?)))
            .collect();
        for zone_config in &config.zones {
            let Role::Secondary { origin, primaries } = &zone_config.role else {
                continue;
            };
            let Some(waker) = self.shared.transfers.refresh_waker(origin) else {
                continue;
            };
            let secondary = crate::transfer::Secondary {
                server: self.clone(),
                origin: origin.clone(),
                primaries: primaries.clone(),
                waker: Arc::clone(waker),
                limits: config.limits.clone(),
                transfers_in: Arc::clone(self.shared.transfers.incoming()),
                source: config.source_address,
                server_name: server_name.clone(),
                last_contact: contacts.get(origin).copied(),
            };
            tasks.spawn(secondary.run());
        }
        BackgroundTasks { _tasks: tasks }
    }
}

/// The tasks [`AuthServer::spawn_tasks`] started; dropping this stops them.
#[derive(Debug)]
pub struct BackgroundTasks {
    _tasks: tokio::task::JoinSet<()>,
}

/// The serial of the zone's SOA.
pub(crate) fn serial(zone: &Zone) -> u32 {
    crate::zone::diff::soa_serial(zone.soa()).unwrap_or(0)
}

fn summary(zones: &[Slot]) -> ReloadSummary {
    ReloadSummary {
        zones: zones
            .iter()
            .filter_map(|slot| slot.zone.as_deref())
            .map(|zone| LoadedZone {
                origin: zone.origin().clone(),
                serial: serial(zone),
                summary: zone.summary(),
            })
            .collect(),
    }
}

pub(crate) fn log_loaded(summary: &ReloadSummary, message: &'static str) {
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
