//! What can be wrong with a topology, and where: one [`Problem`] per broken
//! rule, each pointing at the line of the YAML file or zone file to fix.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use hickory_proto::rr::Name;

pub use crate::yaml::Place;

/// One broken rule, with the line to look at when it is known.
#[derive(Clone, Debug)]
pub struct Problem {
    pub at: Option<Place>,
    pub kind: ProblemKind,
}

impl Problem {
    pub fn new(at: Option<Place>, kind: ProblemKind) -> Self {
        Problem { at, kind }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some(at) => write!(f, "{at}: {}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

/// Where the addresses of a name server named in a delegation came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressSource {
    /// Glue: address records at or below the zone cut in the parent zone.
    Glue,
    /// Ordinary (authoritative) data of the zone that holds the name.
    ZoneData,
}

impl fmt::Display for AddressSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressSource::Glue => "glue",
            AddressSource::ZoneData => "address record",
        })
    }
}

/// The rules a topology must keep. Each `Display` says what to change.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ProblemKind {
    #[error("cannot read the topology: {0}")]
    Unreadable(String),
    /// serde_yaml's own message (it names the key and the column).
    #[error("{0}")]
    Yaml(String),
    #[error("{what} `{value}` is not a domain name: {reason}")]
    BadName {
        what: &'static str,
        value: String,
        reason: String,
    },
    #[error("{what} `{value}` is not an IP address")]
    BadAddress { what: &'static str, value: String },
    #[error("the resolver address `{0}` is not ADDRESS:PORT (e.g. 127.0.0.1:1053)")]
    BadResolverAddress(String),
    /// A forward or stub zone of the resolver's section.
    #[error("resolver zone: {0}")]
    BadResolverZone(String),
    #[error("this is topology format version {0}; this dnslab reads version 1")]
    UnsupportedVersion(u32),
    #[error("port 0 cannot be shared by the servers; choose a port such as 5300")]
    PortZero,
    #[error("server {server} has address {address}, which is not loopback: dnslab up only runs servers on 127.0.0.0/8 or ::1")]
    NotLoopback { server: Name, address: IpAddr },
    #[error("address {address} is used twice: {server} and {first} (line {first_line}); every server needs its own address")]
    DuplicateAddress {
        address: IpAddr,
        server: Name,
        first: Name,
        first_line: usize,
    },
    #[error("server name {server} is used twice (first at line {first_line}); rename one")]
    DuplicateName { server: Name, first_line: usize },
    #[error("the resolver listens on {0}, which a server of the hierarchy also uses")]
    ResolverClash(std::net::SocketAddr),
    #[error("give `resolver:` (one local DNS server) or `resolvers:` (a list), not both")]
    ResolverAndResolvers,
    #[error("`resolvers:` is empty; list at least one local DNS server")]
    NoResolver,
    #[error("resolver {name} listens on {address}, which is not loopback: dnslab up only runs servers on 127.0.0.0/8 or ::1")]
    ResolverNotLoopback { name: String, address: IpAddr },
    #[error("resolvers {name} and {first} (line {first_line}) share the address {address}; each local DNS server needs its own, so that authoritative servers can tell them apart")]
    ResolversShareAddress {
        name: String,
        first: String,
        first_line: usize,
        address: IpAddr,
    },
    #[error("{0}")]
    BadRrsetOrder(String),
    #[error("zone {zone}, view {view}: {reason}")]
    BadView {
        zone: Name,
        view: String,
        reason: String,
    },
    /// The authoritative server's message about a zone's views.
    #[error("{0}")]
    Views(String),
    #[error("server {server} serves zone {zone} twice")]
    DuplicateZone { server: Name, zone: Name },
    #[error("zone file {path} for zone {zone} (server {server}) does not exist or cannot be read: {reason}")]
    MissingZoneFile {
        server: Name,
        zone: Name,
        path: PathBuf,
        reason: String,
    },
    #[error("zone {zone} of server {server} needs either `file:` (a primary) or `secondary_of:` (a secondary){}", if *both { ", not both" } else { "" })]
    FileOrSecondary {
        server: Name,
        zone: Name,
        both: bool,
    },
    #[error("zone {zone} of server {server} is a secondary of {primary}, which is no server of the topology")]
    UnknownPrimary {
        server: Name,
        zone: Name,
        primary: Name,
    },
    #[error(
        "zone {zone} of server {server} is a secondary of {primary}, which does not serve {zone}"
    )]
    PrimaryLacksZone {
        server: Name,
        zone: Name,
        primary: Name,
    },
    #[error("zone {zone} of server {server}: its secondary_of chain loops and reaches no primary")]
    SecondaryLoop { server: Name, zone: Name },
    /// The zone reader's or checker's message; it carries its own `file:line`.
    #[error("zone {zone}: {message}")]
    BadZone { zone: Name, message: String },
    #[error("no server serves the root zone `.`, so the resolver has no root hints; add a server with `zone: .`")]
    NoRootServer,
    #[error("key {name}: {reason}")]
    BadKey { name: String, reason: String },
    /// A zone's `allow_update` rule (the message names the zone).
    #[error("{0}")]
    Update(String),
    #[error("zone {child} is marked `delegated: false`, but its parent zone {parent} delegates it; remove `delegated: false`")]
    AlreadyDelegated { child: Name, parent: Name },
    #[error("zone {child} is served (by {servers}) but its parent zone {parent} has no NS records delegating it, so no resolver can find it")]
    NotDelegated {
        child: Name,
        parent: Name,
        servers: String,
    },
    #[error("delegation of {child} in zone {parent} names {ns}, which is no server of the topology (no server has that name or address)")]
    UnknownNameServer { parent: Name, child: Name, ns: Name },
    #[error("lame delegation: zone {parent} delegates {child} to {ns} ({address}), but that server does not serve {child} (it serves: {serves}; see {server_at})")]
    LameDelegation {
        parent: Name,
        child: Name,
        ns: Name,
        address: IpAddr,
        serves: String,
        /// The server's entry in the topology file.
        server_at: Place,
    },
    #[error("missing glue: zone {parent} delegates {child} to {ns}, a name inside {child}, but has no A/AAAA record for it; add `{ns} A {expected}`")]
    MissingGlue {
        parent: Name,
        child: Name,
        ns: Name,
        expected: String,
    },
    #[error("zone {parent} delegates {child} to {{{delegation}}} but {child} itself lists {{{apex}}} at its apex; make the two NS sets the same")]
    NsSetMismatch {
        parent: Name,
        child: Name,
        delegation: String,
        apex: String,
    },
    #[error("no address for {ns} (name server of {child}): {reason}")]
    NoAddress {
        child: Name,
        ns: Name,
        reason: String,
    },
    #[error("{via} for {ns} (name server of {child}) says {found}, but server {ns} is at {expected} in the topology ({server_at})")]
    AddressMismatch {
        child: Name,
        ns: Name,
        via: AddressSource,
        found: String,
        expected: IpAddr,
        /// The server's `address:` line in the topology file.
        server_at: Place,
    },
}

/// Every problem of a topology; `Display` puts one per line.
#[derive(Clone, Debug)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for Problems {}
