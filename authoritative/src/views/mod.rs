//! Answers that depend on who asks: a zone's views, in the spirit of
//! BIND's views and PowerDNS's geo backends, for the textbook's CDN,
//! which answers each local DNS server with the cluster nearest to it.
//!
//! A zone may have [`View`]s, each for some client prefixes and each with
//! its own data ([`ViewData`]): a whole master file of the zone (a
//! variant), or RRsets that replace the zone's own at some names. A query
//! is answered from the view one of whose prefixes holds the client's
//! address most specifically (the longest prefix wins; no prefix holds
//! it: the zone's own data). The client is the query's source address or,
//! with `--ecs`, the network of its EDNS Client Subnet option (RFC 7871).
//!
//! Several zones may have views, each choosing its own; [`ViewSet`] makes
//! that one number per query. Every prefix of every view is a row of one
//! table, longest first, and each row names the catalog in which every
//! zone with views has the view that prefix selects (rows selecting the
//! same views share one). The prefixes that hold an address are nested,
//! so the longest row holding it decides for every zone at once. That
//! number (0 when no row holds the address: no view) goes into the key of
//! the prepared answers (`dnslab_wire::Request::set_view`), so each view's
//! answers are prepared once and copied like any other; without views the
//! table is empty and a query pays one branch.
//!
//! Neighbours: `crate::server` builds a [`ViewSet`] with every snapshot
//! from the zones' views (`variant` builds each view's zone);
//! `crate::handler` asks it for each query's view, and for the ECS scope
//! of answers that depend on it.

mod variant;

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dnslab_wire::{truncate, Cidr};
use hickory_proto::rr::Name;

use crate::zone::{Catalog, CatalogError, Zone, ZoneFileError};

pub(crate) use variant::load_view;

/// One view of a zone: which clients see it, and what they see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    /// Its name, in the query log.
    pub name: String,
    /// The client prefixes it answers.
    pub clients: Vec<Cidr>,
    pub data: ViewData,
}

/// What a view's clients see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewData {
    /// A whole master file for the zone, in place of the zone's own.
    File(PathBuf),
    /// The zone's own data, with the RRsets of these records replacing
    /// the zone's RRsets of the same name and type.
    Records(Vec<ViewRecords>),
}

/// Records at one name, as master-file lines after the owner: `A
/// 192.0.2.1`, `300 IN AAAA 2001:db8::1`. A line without a TTL takes the
/// TTL of the zone's SOA record (the zone's own `$TTL` is not kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewRecords {
    /// The owner as written: relative to the zone, or absolute.
    pub owner: String,
    pub records: Vec<String>,
}

/// Why the views of the zones cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error("zone {zone}: {problem}")]
    Zone {
        zone: Name,
        problem: Box<ViewProblem>,
    },
    #[error("more than 255 combinations of views; merge some prefixes")]
    TooMany,
    #[error("{0}")]
    Catalog(CatalogError),
}

/// What is wrong with one zone's views.
#[derive(Debug, thiserror::Error)]
pub enum ViewProblem {
    #[error("view {view}: {error}")]
    File { view: String, error: ZoneFileError },
    #[error("view {view}: records at {owner}: {reason}")]
    Record {
        view: String,
        owner: String,
        reason: String,
    },
    #[error("the prefix {prefix} is in views {first} and {second}; a client must see one")]
    SharedPrefix {
        prefix: Cidr,
        first: String,
        second: String,
    },
    #[error("two views are named {0}")]
    DuplicateName(String),
    #[error("view {0}: a view needs at least one client prefix")]
    NoClients(String),
}

impl ViewProblem {
    /// The view the problem is about (the second of two that clash).
    pub fn view(&self) -> &str {
        match self {
            ViewProblem::File { view, .. }
            | ViewProblem::Record { view, .. }
            | ViewProblem::SharedPrefix { second: view, .. }
            | ViewProblem::DuplicateName(view)
            | ViewProblem::NoClients(view) => view,
        }
    }
}

impl ViewError {
    fn zone(zone: &Name, problem: ViewProblem) -> ViewError {
        ViewError::Zone {
            zone: zone.clone(),
            problem: Box::new(problem),
        }
    }
}

/// One zone's views, loaded: each one's name, prefixes and zone.
pub(crate) struct ZoneViews {
    pub(crate) origin: Name,
    pub(crate) views: Vec<LoadedView>,
}

#[derive(Clone)]
pub(crate) struct LoadedView {
    pub(crate) name: String,
    pub(crate) clients: Vec<Cidr>,
    pub(crate) zone: Arc<Zone>,
}

/// Every view of a snapshot's zones, as one table from client address to
/// view number, and a catalog per number.
#[derive(Default)]
pub(crate) struct ViewSet {
    /// Every prefix of every view, longest first, with the number of the
    /// views it selects.
    table: Vec<(Cidr, u8)>,
    /// The catalog of view number `n` at `n - 1`, and its name.
    catalogs: Vec<(Catalog, String)>,
    /// The origins of the zones that have views.
    zones: Vec<Name>,
}

impl fmt::Debug for ViewSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ViewSet")
            .field("table", &self.table)
            .field("zones", &self.zones)
            .finish_non_exhaustive()
    }
}

impl ViewSet {
    /// The table for `with_views`, served beside `zones` (every zone, each
    /// with its own data).
    pub(crate) fn new(
        zones: &[Arc<Zone>],
        with_views: Vec<ZoneViews>,
    ) -> Result<ViewSet, ViewError> {
        for zone in &with_views {
            let views = zone.views.iter().map(|v| (v.name.as_str(), &v.clients[..]));
            check_zone_views(&zone.origin, views)?;
        }
        let mut prefixes: Vec<Cidr> = with_views
            .iter()
            .flat_map(|zone| {
                zone.views
                    .iter()
                    .flat_map(|view| view.clients.iter().copied())
            })
            .map(network)
            .collect();
        prefixes.sort_by_key(|p| (std::cmp::Reverse(p.prefix_len()), p.to_string()));
        prefixes.dedup();
        // The view each zone shows to the clients of each prefix.
        let mut numbers: HashMap<Vec<Option<usize>>, u8> = HashMap::new();
        let mut set = ViewSet {
            zones: with_views.iter().map(|z| z.origin.clone()).collect(),
            ..ViewSet::default()
        };
        for prefix in prefixes {
            let chosen: Vec<Option<usize>> = with_views
                .iter()
                .map(|zone| choose(zone, &prefix))
                .collect();
            let number = match numbers.get(&chosen) {
                Some(&number) => number,
                None => {
                    let number =
                        u8::try_from(set.catalogs.len() + 1).map_err(|_| ViewError::TooMany)?;
                    set.catalogs.push(combine(zones, &with_views, &chosen)?);
                    numbers.insert(chosen, number);
                    number
                }
            };
            set.table.push((prefix, number));
        }
        Ok(set)
    }

    /// Whether no zone has views.
    pub(crate) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The view number for a client at `client`: the longest prefix
    /// holding it, else 0.
    pub(crate) fn select(&self, client: IpAddr) -> u8 {
        self.table
            .iter()
            .find(|(prefix, _)| prefix.contains(client))
            .map_or(0, |&(_, number)| number)
    }

    /// The catalog of view `number`; `base` (every zone's own data) for 0.
    pub(crate) fn catalog<'a>(&'a self, number: u8, base: &'a Catalog) -> &'a Catalog {
        usize::from(number)
            .checked_sub(1)
            .and_then(|at| self.catalogs.get(at))
            .map_or(base, |(catalog, _)| catalog)
    }

    /// The name of view `number` for the query log: its views' names
    /// (one per zone with views, `-` where a zone shows its own data).
    pub(crate) fn name(&self, number: u8) -> &str {
        usize::from(number)
            .checked_sub(1)
            .and_then(|at| self.catalogs.get(at))
            .map_or("-", |(_, name)| name)
    }

    /// Whether the zone `origin` has views.
    pub(crate) fn has_views(&self, origin: &Name) -> bool {
        self.zones.iter().any(|zone| zone == origin)
    }

    /// RFC 7871 7.2.1: the SCOPE PREFIX-LENGTH of an answer chosen for the
    /// network `client`, the number of its leading bits that decide the
    /// view: the least length L such that every address sharing L bits
    /// with `client` selects the same view. A prefix Q of the table tells
    /// apart two addresses sharing L bits with `client` exactly when Q is
    /// longer than L and its first L bits are the client's, so L is the
    /// largest min(length of Q, bits Q shares with `client` + 1).
    pub(crate) fn scope(&self, client: IpAddr) -> u8 {
        self.table
            .iter()
            .filter_map(|(prefix, _)| {
                let shared = shared_bits(prefix.addr(), client)?;
                Some(prefix.prefix_len().min(shared.saturating_add(1)))
            })
            .max()
            .unwrap_or(0)
    }
}

/// Every problem the views of the zone `origin`, whose own master file
/// is `base`, would stop a server with: each view's data loaded and
/// checked, and the views checked together (for `dnslab up --check`).
pub fn check_views(origin: &Name, base: &Path, views: &[View]) -> Vec<ViewError> {
    let named = views.iter().map(|v| (v.name.as_str(), &v.clients[..]));
    let together = check_zone_views(origin, named).err();
    let loaded = views
        .iter()
        .filter_map(|view| load_view(origin, base, view).err());
    together.into_iter().chain(loaded).collect()
}

/// Two views of one zone with the same name or prefix, or a view without
/// prefixes, are a mistake to report, not to resolve silently.
fn check_zone_views<'a>(
    origin: &Name,
    views: impl Iterator<Item = (&'a str, &'a [Cidr])>,
) -> Result<(), ViewError> {
    let problem = |problem| Err(ViewError::zone(origin, problem));
    let mut names: Vec<&str> = Vec::new();
    let mut seen: Vec<(Cidr, &str)> = Vec::new();
    for (name, clients) in views {
        if clients.is_empty() {
            return problem(ViewProblem::NoClients(name.to_string()));
        }
        if names.contains(&name) {
            return problem(ViewProblem::DuplicateName(name.to_string()));
        }
        names.push(name);
        for prefix in clients.iter().map(|&p| network(p)) {
            if let Some((_, first)) = seen.iter().find(|(p, v)| *p == prefix && *v != name) {
                return problem(ViewProblem::SharedPrefix {
                    prefix,
                    first: first.to_string(),
                    second: name.to_string(),
                });
            }
            seen.push((prefix, name));
        }
    }
    Ok(())
}

/// The view of `zone` that the clients of `prefix` see: the one with the
/// longest prefix covering it, if any.
fn choose(zone: &ZoneViews, prefix: &Cidr) -> Option<usize> {
    zone.views
        .iter()
        .enumerate()
        .filter_map(|(at, view)| {
            let longest = view
                .clients
                .iter()
                .filter(|client| client.covers(prefix))
                .map(Cidr::prefix_len)
                .max()?;
            Some((longest, at))
        })
        .max_by_key(|&(longest, _)| longest)
        .map(|(_, at)| at)
}

/// The catalog in which each zone of `with_views` shows its view
/// `chosen` (or its own data), and the name of that combination.
fn combine(
    zones: &[Arc<Zone>],
    with_views: &[ZoneViews],
    chosen: &[Option<usize>],
) -> Result<(Catalog, String), ViewError> {
    let shown: Vec<(&Name, Option<&LoadedView>)> = with_views
        .iter()
        .zip(chosen)
        .map(|(zone, at)| (&zone.origin, at.and_then(|at| zone.views.get(at))))
        .collect();
    let catalog_zones = zones
        .iter()
        .map(|zone| {
            let view = shown
                .iter()
                .find(|(origin, _)| *origin == zone.origin())
                .and_then(|(_, view)| *view);
            view.map_or_else(|| Arc::clone(zone), |view| Arc::clone(&view.zone))
        })
        .collect();
    let catalog = Catalog::new(catalog_zones).map_err(ViewError::Catalog)?;
    let names: Vec<&str> = shown
        .iter()
        .map(|(_, view)| view.map_or("-", |view| view.name.as_str()))
        .collect();
    Ok((catalog, names.join("+")))
}

/// `prefix` with the bits beyond its length cleared, so that `10.1.2.3/8`
/// and `10.0.0.0/8` are one prefix.
fn network(prefix: Cidr) -> Cidr {
    Cidr::new(
        truncate(prefix.addr(), prefix.prefix_len()),
        prefix.prefix_len(),
    )
    .unwrap_or(prefix)
}

/// How many leading bits `a` and `b` share; `None` across families.
fn shared_bits(a: IpAddr, b: IpAddr) -> Option<u8> {
    let b = match b {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(b, IpAddr::V4),
        IpAddr::V4(_) => b,
    };
    let bits = match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) ^ u32::from(b)).leading_zeros(),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a) ^ u128::from(b)).leading_zeros(),
        _ => return None,
    };
    u8::try_from(bits).ok()
}

#[cfg(test)]
mod tests;
