//! Zones copied between the servers of a hierarchy: a zone entry with
//! `secondary_of: SERVER` makes that server a secondary, and its primary
//! NOTIFYs it and lets it (and only it, by address) transfer the zone.
//! This turns one topology server into the authoritative server's
//! configuration ([`auth_config`]).
//!
//! Each server keeps its transfer history and copies in a data directory
//! of its own under one [`DataRoot`], in the system's temporary directory,
//! removed when the hierarchy stops: a lab restarts from its zone files.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use dnslab_authoritative::{
    AccessRule, AuthConfig, AuthOptions, Remote, Role, TransferLimits, ZoneConfig, ZoneSource,
};

use super::{Server, Topology};

/// The data directories of one running hierarchy; removed when dropped.
#[derive(Debug)]
pub struct DataRoot(PathBuf);

impl DataRoot {
    /// A fresh directory under the system's temporary directory, distinct
    /// per process and per hierarchy (tests start several at once).
    pub fn new() -> DataRoot {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        DataRoot(std::env::temp_dir().join(format!("dnslab-up-{}-{n}", std::process::id())))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Default for DataRoot {
    fn default() -> Self {
        DataRoot::new()
    }
}

impl Drop for DataRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The authoritative configuration of `server`: its zones, each a primary
/// from its file or a secondary of the server it names, with NOTIFY and
/// transfer rights for the servers that copy it. Its own requests leave
/// from its own address, which is what its primaries allow.
pub fn auth_config(
    topology: &Topology,
    server: &Server,
    options: AuthOptions,
    root: &DataRoot,
) -> AuthConfig {
    let at = |server: &Server| SocketAddr::new(server.address, topology.port);
    let zones = server
        .zones
        .iter()
        .map(|zone| {
            let copies: Vec<&Server> = topology
                .servers
                .iter()
                .filter(|other| {
                    other.zones.iter().any(|z| {
                        z.origin == zone.origin && z.secondary_of.as_ref() == Some(&server.name)
                    })
                })
                .collect();
            let role = match zone
                .secondary_of
                .as_ref()
                .and_then(|name| topology.server_named(name))
            {
                Some(primary) => Role::Secondary {
                    origin: zone.origin.clone(),
                    primaries: vec![Remote {
                        addr: at(primary),
                        key: None,
                    }],
                },
                None => Role::Primary(ZoneSource {
                    origin: Some(zone.origin.clone()),
                    path: zone.path.clone(),
                }),
            };
            ZoneConfig {
                role,
                notify: copies
                    .iter()
                    .map(|copy| Remote {
                        addr: at(copy),
                        key: None,
                    })
                    .collect(),
                allow_transfer: copies
                    .iter()
                    .filter_map(|copy| copy.address.to_string().parse::<AccessRule>().ok())
                    .collect(),
                update: zone.update.clone(),
                rrset_order: zone.rrset_order,
                views: zone.views.iter().map(|(view, _)| view.clone()).collect(),
            }
        })
        .collect();
    AuthConfig {
        options,
        zones,
        keys: topology.keys.clone(),
        data_dir: root
            .path()
            .join(server.name.to_string().trim_end_matches('.')),
        limits: TransferLimits::default(),
        source_address: Some(server.address),
    }
}
