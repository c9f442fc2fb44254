//! The authoritative servers' zone events (NOTIFY, transfers) as the live
//! page and the terminal show them: each server of `dnslab up` gets a
//! [`ZoneFeed`] as its observer, which names the servers by their
//! addresses and pushes one [`ZoneEntry`] per event into the hierarchy's
//! [`ZoneLog`].

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use dnslab_authoritative::{ZoneEvent, ZoneObserver};
use dnslab_web::{ZoneEntry, ZoneLog};

/// One server's observer, writing into the shared log.
pub struct ZoneFeed {
    log: Arc<ZoneLog>,
    /// Every server's name by its address (the servers' requests leave
    /// from the address they listen on).
    names: Arc<HashMap<IpAddr, String>>,
}

impl ZoneFeed {
    pub fn new(log: Arc<ZoneLog>, names: Arc<HashMap<IpAddr, String>>) -> ZoneFeed {
        ZoneFeed { log, names }
    }

    /// The server at `addr` by name, its address when it has none.
    fn name(&self, addr: SocketAddr) -> String {
        self.names
            .get(&addr.ip().to_canonical())
            .cloned()
            .unwrap_or_else(|| addr.to_string())
    }
}

impl ZoneObserver for ZoneFeed {
    fn zone_event(&self, event: &ZoneEvent) {
        let entry = match event {
            ZoneEvent::NotifySent {
                server,
                zone,
                serial,
                to,
            } => {
                let mut entry =
                    ZoneEntry::new("NOTIFY", zone.to_string(), server.clone(), self.name(*to));
                entry.serial = Some(*serial);
                entry
            }
            ZoneEvent::NotifyReceived { server, zone, from } => ZoneEntry::new(
                "NOTIFY received",
                zone.to_string(),
                self.name(*from),
                server.clone(),
            ),
            ZoneEvent::Transferred {
                server,
                zone,
                from,
                kind,
                old_serial,
                serial,
                records,
                elapsed,
            } => {
                let kind = kind.to_string();
                let mut entry =
                    ZoneEntry::new(&kind, zone.to_string(), self.name(*from), server.clone());
                entry.old_serial = *old_serial;
                entry.serial = Some(*serial);
                entry.records = Some(*records);
                entry.ms = Some(elapsed.as_secs_f64() * 1000.0);
                entry
            }
            ZoneEvent::TransferFailed {
                server,
                zone,
                from,
                error,
            } => {
                let mut entry =
                    ZoneEntry::new("failed", zone.to_string(), self.name(*from), server.clone());
                entry.error = Some(error.clone());
                entry
            }
        };
        self.log.push(entry);
    }
}
