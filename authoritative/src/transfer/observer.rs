//! Zone events for whoever watches the server: NOTIFY sent and received,
//! transfers in done or failed. `dnslab up` shows them on its live page
//! and its terminal; a server without an observer builds none.
//!
//! The observer is set once, before [`crate::AuthServer::spawn_tasks`];
//! only the NOTIFY and transfer paths look at it, never plain queries.
//! It is called on the server's async tasks, so it must return at once
//! (push to a list or a channel, print a line).

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::rr::Name;

/// Told of each zone event of one server.
pub trait ZoneObserver: Send + Sync + 'static {
    fn zone_event(&self, event: &ZoneEvent);
}

/// How a zone came in (RFC 5936, RFC 1995).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferKind {
    Axfr,
    Ixfr,
}

impl TransferKind {
    /// "AXFR" or "IXFR", as the query type is named.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferKind::Axfr => "AXFR",
            TransferKind::Ixfr => "IXFR",
        }
    }
}

impl fmt::Display for TransferKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event; `server` is the observed server's name (its
/// [`crate::AuthOptions::server_name`], "-" without one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ZoneEvent {
    /// A NOTIFY for `serial` went to a secondary (its first attempt;
    /// retries are not reported).
    NotifySent {
        server: String,
        zone: Name,
        serial: u32,
        to: SocketAddr,
    },
    /// A NOTIFY from a primary was accepted: the secondary checks the
    /// primary's SOA now (RFC 1996 3.11).
    NotifyReceived {
        server: String,
        zone: Name,
        from: SocketAddr,
    },
    /// A transfer was received and its version is served: `records` are
    /// the zone's records (AXFR) or the changes (IXFR).
    Transferred {
        server: String,
        zone: Name,
        from: SocketAddr,
        kind: TransferKind,
        old_serial: Option<u32>,
        serial: u32,
        records: usize,
        elapsed: Duration,
    },
    /// A transfer failed; the zone served is unchanged.
    TransferFailed {
        server: String,
        zone: Name,
        from: SocketAddr,
        error: String,
    },
}
