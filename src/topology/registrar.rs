//! The registrar's story (Kurose & Ross 2.4.3, "Inserting records into
//! the DNS database"): a zone is served by its own server but its parent
//! does not delegate it yet (`delegated: false`), so no resolver can find
//! it. The registrar adds the delegation, the NS records and the glue
//! addresses, to the parent zone's primary server by dynamic UPDATE (RFC
//! 2136), signed with a key the parent's `allow_update` rules accept.
//!
//! [`registrations`] finds, for each such zone, the UPDATE that registers
//! it: the parent's primary, the key, and the records; `dnslab up` prints
//! it as an `nsupdate` script, with the key written to a file
//! ([`write_key_files`]) in the hierarchy's data directory.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use dnslab_authoritative::Names;
use dnslab_tsig::KeyRing;
use hickory_proto::rr::{Name, RecordType};

use super::Topology;

/// The TTL of the records a registration adds: a day, as TLDs delegate.
const TTL: u32 = 86400;

/// One zone to register with its parent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub zone: Name,
    pub parent: Name,
    /// The parent zone's primary server, where the UPDATE goes.
    pub server: SocketAddr,
    /// The key the parent's rules accept for the zone's delegation.
    pub key: String,
    /// The records to add, as nsupdate's `update add` takes them: NS for
    /// each of the zone's servers, and glue for those named inside the
    /// parent zone.
    pub records: Vec<String>,
    /// A question to ask before and after: a host of the zone (`NAME` or
    /// `NAME TYPE`, as dig takes it).
    pub example: String,
}

impl Registration {
    /// The nsupdate script that registers the zone (`nsupdate -k KEYFILE`
    /// reads it on its standard input).
    pub fn nsupdate_script(&self) -> String {
        let mut script = format!(
            "server {} {}\nzone {}\n",
            self.server.ip(),
            self.server.port(),
            self.parent
        );
        for record in &self.records {
            let _ = writeln!(script, "update add {record}");
        }
        script.push_str("send\n");
        script
    }
}

/// Every zone marked `delegated: false` whose parent's primary takes
/// updates signed with a key for the zone's name: how to register it.
pub fn registrations(topology: &Topology) -> Vec<Registration> {
    let mut found = Vec::new();
    for server in &topology.servers {
        for zone in server.zones.iter().filter(|z| !z.delegated) {
            if found.iter().any(|r: &Registration| r.zone == zone.origin) {
                continue;
            }
            if let Some(registration) = registration(topology, &zone.origin) {
                found.push(registration);
            }
        }
    }
    found
}

fn registration(topology: &Topology, child: &Name) -> Option<Registration> {
    // The parent: the deepest zone of the topology above the child, and
    // its primary (the server with the file, which takes the updates).
    let (primary, parent) = topology
        .servers
        .iter()
        .flat_map(|s| s.zones.iter().map(move |z| (s, z)))
        .filter(|(_, z)| z.secondary_of.is_none() && z.origin != *child && z.origin.zone_of(child))
        .max_by_key(|(_, z)| z.origin.num_labels())?;
    let key = parent.update.rules.iter().find_map(|rule| {
        let covers = match &rule.names {
            Names::Zone => true,
            Names::Listed { names, how: _ } => names.iter().any(|n| n.zone_of(child)),
        };
        rule.who
            .key
            .as_ref()
            .filter(|_| covers && rule.who.address.is_none())
    })?;
    let mut records = Vec::new();
    let servers: Vec<_> = topology
        .servers
        .iter()
        .filter(|s| s.zones.iter().any(|z| z.origin == *child))
        .collect();
    let example = servers
        .iter()
        .flat_map(|s| &s.zones)
        .find(|z| z.origin == *child && z.secondary_of.is_none())
        .and_then(|z| a_host(&z.path, child, &servers))
        .unwrap_or_else(|| format!("{child} SOA"));
    for server in servers {
        records.insert(0, format!("{child} {TTL} NS {}", server.name));
        if parent.origin.zone_of(&server.name) {
            let rtype = match server.address {
                IpAddr::V4(_) => "A",
                IpAddr::V6(_) => "AAAA",
            };
            records.push(format!("{} {TTL} {rtype} {}", server.name, server.address));
        }
    }
    Some(Registration {
        zone: child.clone(),
        parent: parent.origin.clone(),
        server: SocketAddr::new(primary.address, topology.port),
        key: key.clone(),
        records,
        example,
    })
}

/// The first name of the zone file at `path` with an A record that is
/// not one of the zone's servers (the textbook's www), without its dot.
fn a_host(path: &Path, origin: &Name, servers: &[&super::Server]) -> Option<String> {
    let file = dnslab_authoritative::read_master_file(path, Some(origin)).ok()?;
    file.records
        .iter()
        .map(|sourced| &sourced.record)
        .find(|r| r.record_type() == RecordType::A && !servers.iter().any(|s| s.name == r.name))
        .map(|r| r.name.to_string().trim_end_matches('.').to_string())
}

/// Writes each key of `keys` into `dir` as a BIND key file (what
/// `tsig-keygen` writes, what `nsupdate -k` reads), `<name>.key` with
/// the name's final dot left out; the files written, by key name.
pub fn write_key_files(keys: &KeyRing, dir: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for key in keys.iter() {
        let name = key.name().trim_end_matches('.');
        let path = dir.join(format!("{name}.key"));
        std::fs::write(&path, key.to_key_file())?;
        written.push((key.name().to_string(), path));
    }
    Ok(written)
}
