//! The authoritative servers behind the web server: their zones and
//! serials, `dnslab ctl reload` and `zone-flush`, and their query counts
//! in `/metrics`.
//! One server for `dnslab auth --web`, every server of the hierarchy for
//! `dnslab up`.

use std::net::SocketAddr;
use std::sync::Arc;

use dnslab_authoritative::AuthServer;
use dnslab_web::metrics::MetricsSnapshot;
use dnslab_web::{AuthControl, ZoneFlush, ZoneInfo, ZoneReload};
use hickory_proto::rr::Name;

use super::counted::ServerCounters;

/// One authoritative server as the web server sees it.
#[derive(Clone, Debug)]
pub struct AuthEntry {
    /// Its host name ("a.root-servers.lab."), or its address when it has
    /// none: the `server` of its zones.
    pub name: String,
    /// Where it listens: the `server` label of its query counts
    /// ("dns://127.0.0.2:5300").
    pub listening: SocketAddr,
    pub server: AuthServer,
    pub counters: Arc<ServerCounters>,
}

/// Every authoritative server of this process.
pub struct AuthBackend {
    servers: Vec<AuthEntry>,
}

impl AuthBackend {
    pub fn new(servers: Vec<AuthEntry>) -> AuthBackend {
        AuthBackend { servers }
    }
}

impl AuthControl for AuthBackend {
    fn zones(&self) -> Vec<ZoneInfo> {
        let mut zones = Vec::new();
        for entry in &self.servers {
            zones.extend(
                entry
                    .server
                    .zone_serials()
                    .into_iter()
                    .map(|(zone, serial)| ZoneInfo {
                        server: entry.name.clone(),
                        zone: zone.to_string(),
                        serial,
                    }),
            );
        }
        zones
    }

    fn reload(&self) -> Vec<ZoneReload> {
        let mut reloaded = Vec::new();
        for entry in &self.servers {
            // A failed reload leaves the old zones serving; each says why.
            let error = entry.server.reload().err().map(|errors| errors.to_string());
            for (zone, serial) in entry.server.zone_serials() {
                reloaded.push(ZoneReload {
                    server: entry.name.clone(),
                    zone: zone.to_string(),
                    serial,
                    error: error.clone(),
                });
            }
        }
        reloaded
    }

    fn zone_flush(&self, zone: &Name) -> Vec<ZoneFlush> {
        self.servers
            .iter()
            .filter(|entry| entry.server.zones().contains(zone))
            .map(|entry| {
                let (serial, file, error) = match entry.server.zone_flush(zone) {
                    Ok(flushed) => (
                        flushed.serial,
                        Some(flushed.file.display().to_string()),
                        None,
                    ),
                    Err(error) => (0, None, Some(error.to_string())),
                };
                ZoneFlush {
                    server: entry.name.clone(),
                    zone: zone.to_string(),
                    serial,
                    file,
                    error,
                }
            })
            .collect()
    }

    fn fill_metrics(&self, snapshot: &mut MetricsSnapshot) {
        for entry in &self.servers {
            let server = format!("dns://{}", entry.listening);
            entry
                .counters
                .queries
                .add_to(&server, &mut snapshot.queries);
        }
    }
}
