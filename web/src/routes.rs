//! Every route, in one table: what this server offers, read top to bottom.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{middleware, Router};

use crate::server::{loopback_host_only, Shared};
use crate::{api, assets, error, stream};

/// The largest request body: the API's requests are a name and a type;
/// anything near this size is a mistake or an attack.
pub const MAX_BODY: usize = 16 * 1024;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let router = Router::new()
        // The page and its files.
        .route("/", get(assets::index))
        .route("/static/{file}", get(assets::file))
        // The walk, live.
        .route("/api/events", get(stream::events))
        // NOTIFY and zone transfers, newest first.
        .route("/api/transfers", get(api::transfers))
        // A question through the resolver (the page's Ask box).
        .route("/api/ask", post(api::ask))
        // Control, for `dnslab ctl`.
        .route("/api/status", get(api::status))
        .route("/api/stats", get(api::stats))
        .route("/api/cache", get(api::dump_cache))
        .route("/api/flush", post(api::flush))
        .route("/api/flush-zone", post(api::flush_zone))
        .route("/api/reload", post(api::reload))
        .route("/api/zone-flush", post(api::zone_flush))
        // Prometheus.
        .route("/metrics", get(api::prometheus))
        // Everything else: a JSON error.
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY));
    let router = if shared.web.allow_non_loopback {
        router
    } else {
        router.layer(middleware::from_fn(loopback_host_only))
    };
    router.with_state(shared)
}
