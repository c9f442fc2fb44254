//! dnslab's one HTTP server, on the runtime the DNS servers already use:
//! the live page of the walk, its event stream, `/metrics`, and the control
//! API behind `dnslab ctl`.
//!
//! - `routes`: every route in one table, the place to start reading.
//! - [`server`]: [`serve`] and [`bind`]: loopback only unless allowed, a
//!   bounded number of connections, shutdown as a future.
//! - [`backend`]: the two traits the DNS servers implement
//!   ([`ResolverControl`], [`AuthControl`]), both optional.
//! - `stream`: `/api/events`, Server-Sent Events from the resolver's
//!   [`EventBus`] (schema and bus: `dnslab_resolver::events`).
//! - `api`: the JSON handlers and `/metrics`.
//! - [`metrics`]: the snapshot the backends fill, its Prometheus text, and
//!   lock-free counters for the query path.
//! - `assets`: the page (`web/static/`), compiled in.
//! - [`zones`]: NOTIFY and transfers of the servers behind the page
//!   (`/api/transfers`), and their live feed for the terminal.
//! - `error`: every refusal as a status and `{"error": "..."}`.
//!
//! [`EventBus`]: dnslab_resolver::events::EventBus

mod api;
mod assets;
pub mod backend;
mod error;
pub mod metrics;
mod routes;
pub mod server;
mod stream;
pub mod zones;

pub use backend::{
    Asked, AuthControl, BoxFuture, CacheLine, Flush, Origin, ResolverControl, ZoneFlush, ZoneInfo,
    ZoneReload,
};
pub use dnslab_resolver::events::{EventBus, WalkEvent};
pub use server::{bind, serve, Web, WebError, MAX_CONNECTIONS};
pub use zones::{ZoneEntry, ZoneLog};
