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
//! - [`server`]: [`AuthServer`], its zones (primaries from files,
//!   secondaries from their primaries), their snapshot, reload and the
//!   replacement of one zone.
//! - [`config`]: what the server is told to do ([`AuthConfig`]), validated.
//! - `transfer`: zone transfers out, NOTIFY in and out, the secondary's
//!   refresh, and TSIG on every request that carries it.
//! - state that survives a restart: [`data_dir`] (the `--data-dir`
//!   directory, files replaced atomically), [`journal`] (each zone's
//!   changes, durable before they are acknowledged).

pub mod config;
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
pub(crate) mod transfer;
pub mod zone;

pub use config::AuthConfig;
pub use server::{AuthOptions, AuthServer, BackgroundTasks, LoadErrors, ReloadSummary, ZoneSource};
