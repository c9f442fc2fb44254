//! The authoritative server: zones loaded from RFC 1035 master files and
//! answered as RFC 1034 4.3.2 says.
//!
//! - [`zone`]: reading master files, checking zones, the in-memory store.
//! - [`lookup`]: RFC 1034 4.3.2 as one function from catalog, name and type
//!   to the records of a response.
//! - the request path: `dnslab_wire` reads and checks a query off the wire,
//!   [`prepared`] holds the encoded answers per (name, type), [`respond`]
//!   writes the response (EDNS, truncation), [`handler`] ties them into a
//!   [`dnslab_transport::Handler`].
//! - [`server`]: [`AuthServer`], the zone files, their snapshot and reload.
//! - state that survives a restart: [`data_dir`] (the `--data-dir`
//!   directory, files replaced atomically), [`journal`] (each zone's
//!   changes, durable before they are acknowledged).

pub mod data_dir;
pub mod dnssec;
pub mod handler;
pub mod journal;
pub mod lookup;
pub mod prepared;
pub mod respond;
pub mod server;
#[cfg(test)]
mod temp_dir;
pub mod zone;

pub use server::{AuthOptions, AuthServer, LoadErrors, ReloadSummary, ZoneSource};
