//! Topologies for `dnslab up`: a whole DNS hierarchy (root, TLDs,
//! authoritative servers and a recursive resolver) described in one YAML
//! file and run on loopback in one process.
//!
//! - [`spec`]: the YAML format (`deny_unknown_fields`) and its conversion
//!   into a [`Topology`], with the line of every problem; beside it
//!   `resolvers` (the local DNS servers, `resolver:` or `resolvers:`); a
//!   zone's `views:` and `rrset_order:` are `crate::views`'.
//! - [`check`]: the whole-topology check of every delegation against the
//!   zone data (lame delegations, missing or disagreeing glue).
//! - [`default`]: the built-in hierarchy of `zones/default/`, compiled in.
//! - [`run`]: starting every server and the resolver, and stopping them.
//! - [`transfers`]: zones copied between servers (`secondary_of`): each
//!   server's transfer and NOTIFY configuration, and their data
//!   directories.
//! - [`registrar`]: zones served but not delegated yet (`delegated:
//!   false`), and the UPDATE that registers each with its parent.
//! - [`problem`]: what can be wrong, as [`Problem`]s naming file and line.
//!
//! Neighbours: `dnslab_authoritative` serves each server's zones,
//! `dnslab_resolver` resolves through them, `dnslab_transport` owns the
//! sockets; `cmd/up.rs` is the CLI over [`load`] and [`run::start`].

pub mod check;
pub mod default;
pub mod problem;
pub mod registrar;
mod resolvers;
pub mod run;
pub mod spec;
pub mod transfers;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use dnslab_authoritative::UpdateConfig;
use dnslab_authoritative::View;
use dnslab_tsig::KeyRing;
use dnslab_wire::RrsetOrder;
use hickory_proto::rr::Name;

pub use problem::{Place, Problem, ProblemKind, Problems};
pub use resolvers::check_resolvers;
pub use run::{start, Hierarchy, Reloader, RunningResolver, RunningServer, StartError};

/// A parsed topology whose per-entry rules hold (see [`load`] for the
/// whole-topology check).
#[derive(Clone, Debug)]
pub struct Topology {
    /// The YAML file it came from; zone file paths are resolved against it.
    pub source: PathBuf,
    /// The port shared by every server of the hierarchy.
    pub port: u16,
    /// The local DNS servers (recursive resolvers), each with its own
    /// cache and address: the textbook's ISPs. At least one.
    pub resolvers: Vec<LocalResolver>,
    /// One log line per query at every server.
    pub log_queries: bool,
    /// TSIG keys every server knows (for `allow_update` rules).
    pub keys: KeyRing,
    pub servers: Vec<Server>,
}

/// One local DNS server of the hierarchy.
#[derive(Clone, Debug)]
pub struct LocalResolver {
    /// Its name in `up`'s table, e.g. "ISP in the east".
    pub name: String,
    /// Where it listens; its upstream queries leave from this address
    /// too, so that servers (a CDN's) tell the resolvers apart.
    pub address: SocketAddr,
    /// RFC 7871: send each client's network upstream (`--ecs`).
    pub ecs: bool,
    /// The order of RRsets in its answers (`--rrset-order`).
    pub rrset_order: RrsetOrder,
    /// Questions it forwards to recursive servers (its section's
    /// `forward_zones`, `--forward-zone`).
    pub forward_zones: Vec<dnslab_resolver::ZoneServers>,
    /// Zones whose walk starts at configured servers (its section's
    /// `stub_zones`, `--stub-zone`).
    pub stub_zones: Vec<dnslab_resolver::ZoneServers>,
    /// Line of its entry in the YAML file.
    pub line: usize,
}

/// One authoritative server of the hierarchy.
#[derive(Clone, Debug)]
pub struct Server {
    /// Its host name, as NS records name it; also its name in query logs.
    pub name: Name,
    pub address: IpAddr,
    pub zones: Vec<ZoneFile>,
    /// RFC 7871: choose views by a query's EDNS Client Subnet (`--ecs`).
    pub ecs: bool,
    /// Lines of its `name:` and `address:` keys in the YAML file.
    pub line: usize,
    pub address_line: usize,
}

/// One zone a server serves: from a master file, or copied from another
/// server of the topology.
#[derive(Clone, Debug)]
pub struct ZoneFile {
    pub origin: Name,
    /// The master file the zone's data comes from: the server's own, or
    /// for a secondary its primary's (what the checks read).
    pub path: PathBuf,
    /// Line of its `file:` key (a secondary's `zone:` key) in the YAML file.
    pub line: usize,
    /// The server it is copied from (`secondary_of`), for a secondary.
    pub secondary_of: Option<Name>,
    /// Who may change it by dynamic UPDATE (a primary's).
    pub update: UpdateConfig,
    /// `false` for a zone its parent does not delegate yet (a registrar
    /// will, by UPDATE: [`registrar`]).
    pub delegated: bool,
    /// The order of its RRsets' records; the server's (cyclic) when `None`.
    pub rrset_order: Option<RrsetOrder>,
    /// Answers chosen by who asks, with the line of each view's `name:`.
    pub views: Vec<(View, usize)>,
}

impl Topology {
    /// The server whose host name is `name`.
    pub fn server_named(&self, name: &Name) -> Option<&Server> {
        self.servers.iter().find(|s| s.name == *name)
    }

    /// The server listening on `address`.
    pub fn server_at(&self, address: IpAddr) -> Option<&Server> {
        self.servers.iter().find(|s| s.address == address)
    }

    /// A line of the topology file.
    pub fn place(&self, line: usize) -> Place {
        Place {
            file: self.source.clone(),
            line,
        }
    }

    /// Root hints for the resolver: every server that serves the root zone.
    pub fn root_hints(&self) -> Vec<(Name, IpAddr)> {
        self.servers
            .iter()
            .filter(|s| s.zones.iter().any(|z| z.origin.is_root()))
            .map(|s| (s.name.clone(), s.address))
            .collect()
    }
}

/// Reads the topology at `path` and runs every check: the YAML, each
/// server's entries, each zone file, and every delegation. Returns every
/// problem found, each naming its file and line.
pub fn load(path: &Path) -> Result<Topology, Problems> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Problems(vec![Problem::new(
            None,
            ProblemKind::Unreadable(format!("{}: {e}", path.display())),
        )])
    })?;
    let topology = spec::parse(&text, path).map_err(Problems)?;
    let (facts, mut problems) = check::read_zones(&topology);
    problems.extend(check::check_views(&topology));
    problems.extend(check::check_delegations(&topology, &facts));
    if problems.is_empty() {
        Ok(topology)
    } else {
        Err(Problems(problems))
    }
}
