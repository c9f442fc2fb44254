//! The live view of the servers this process runs: the web server's
//! backends, the terminal printer of walks, and the counters behind
//! `/metrics`.
//!
//! - [`counted`]: a handler wrapper counting every answered query
//!   ([`counted::ServerCounters`]), for both servers.
//! - [`resolver`]: the resolver as `dnslab_web`'s [`ResolverControl`].
//! - [`auth`]: the authoritative servers as its [`AuthControl`].
//! - [`printer`]: the walk and the zone events on the terminal
//!   (`dnslab up`).
//! - [`zones`]: the servers' NOTIFY and transfers into the page's log.
//!
//! Neighbours: `dnslab_web` serves the page and the API over these
//! backends; the resolver publishes the walks on its event bus;
//! [`crate::topology::run`] and the `resolver` and `auth` subcommands wire
//! them together.
//!
//! [`ResolverControl`]: dnslab_web::ResolverControl
//! [`AuthControl`]: dnslab_web::AuthControl

pub mod auth;
pub mod counted;
pub mod printer;
pub mod resolver;
pub mod zones;

use std::net::SocketAddr;

pub use auth::{AuthBackend, AuthEntry};
pub use counted::{Counted, ServerCounters};
pub use resolver::ResolverBackend;
pub use zones::ZoneFeed;

/// Where `dnslab up` serves the page unless told otherwise.
pub const DEFAULT_WEB: &str = "127.0.0.1:8053";

/// Binds the web server's port, with an error that says what to do when
/// it is taken.
pub async fn bind_web(addr: SocketAddr) -> Result<tokio::net::TcpListener, String> {
    dnslab_web::bind(addr, false).await.map_err(|error| match &error {
        dnslab_web::WebError::Bind { source, .. }
            if source.kind() == std::io::ErrorKind::AddrInUse =>
        {
            format!("{error}: the web port is in use (another dnslab?); choose another with --web ADDR:PORT, or --no-web")
        }
        _ => error.to_string(),
    })
}
