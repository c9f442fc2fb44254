//! The JSON API and `/metrics`: thin handlers that parse, call a backend
//! ([`crate::backend`]) and return what it says. `dnslab ctl`'s commands
//! map one to one: `status`, `stats`, `dump-cache`, `flush`, `flush-zone`,
//! `reload`, `zone-flush`.
//!
//! Every POST takes a JSON object (`{}` when there is nothing to say):
//! a page on another site cannot send `application/json` to us without a
//! CORS preflight, which this server never grants, so it cannot flush the
//! cache or reload zones behind the user's back.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::Json;
use hickory_proto::rr::{Name, RecordType};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::backend::{
    Asked, AuthControl, CacheLine, Flush, ResolverControl, ZoneFlush, ZoneReload,
};
use crate::error::{ApiError, JsonBody};
use crate::metrics::{self, EventCounts, MetricsSnapshot};
use crate::server::Shared;

type Api<T> = Result<Json<T>, ApiError>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskRequest {
    name: String,
    #[serde(rename = "type", default = "default_type")]
    qtype: String,
}

fn default_type() -> String {
    "A".to_string()
}

#[derive(Serialize)]
pub struct AskResponse {
    name: String,
    #[serde(rename = "type")]
    qtype: String,
    #[serde(flatten)]
    asked: Asked,
}

/// `POST /api/ask {"name": ..., "type": "A"}`: resolves through the
/// resolver, as a client's question.
pub async fn ask(
    State(shared): State<Arc<Shared>>,
    JsonBody(request): JsonBody<AskRequest>,
) -> Api<AskResponse> {
    let resolver = resolver(&shared)?;
    let name = parse_name(&request.name)?;
    let qtype = parse_type(&request.qtype)?;
    let asked = resolver.ask(name.clone(), qtype).await;
    Ok(Json(AskResponse {
        name: name.to_string(),
        qtype: type_name(qtype),
        asked,
    }))
}

/// `GET /api/status`: what runs here.
pub async fn status(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let web = &shared.web;
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": shared.started.elapsed().as_secs(),
        "resolver": web.resolver.is_some(),
        "zones": web.auth.as_ref().map(|auth| auth.zones()),
        "events": events(&shared),
    }))
}

/// `GET /api/transfers`: the latest NOTIFY and zone transfers, newest
/// first; none when no servers report them.
pub async fn transfers(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let events = shared
        .web
        .zone_log
        .as_ref()
        .map(|log| log.recent())
        .unwrap_or_default();
    Json(json!({ "events": events }))
}

/// `GET /api/stats`: the metrics snapshot as JSON.
pub async fn stats(State(shared): State<Arc<Shared>>) -> Json<MetricsSnapshot> {
    Json(snapshot(&shared))
}

/// `GET /metrics`: the same snapshot in the Prometheus text format.
pub async fn prometheus(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let text = metrics::render(&snapshot(&shared));
    ([(CONTENT_TYPE, metrics::CONTENT_TYPE)], text)
}

#[derive(Serialize)]
pub struct CacheDump {
    entries: Vec<CacheLine>,
}

/// `GET /api/cache`: every cached record (`dnslab ctl dump-cache`).
pub async fn dump_cache(State(shared): State<Arc<Shared>>) -> Api<CacheDump> {
    let entries = resolver(&shared)?.dump_cache();
    Ok(Json(CacheDump { entries }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlushRequest {
    name: Option<String>,
    #[serde(rename = "type")]
    qtype: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlushZoneRequest {
    name: String,
}

#[derive(Serialize)]
pub struct Flushed {
    removed: usize,
}

/// `POST /api/flush {}`, `{"name": N}` or `{"name": N, "type": T}`.
pub async fn flush(
    State(shared): State<Arc<Shared>>,
    JsonBody(request): JsonBody<FlushRequest>,
) -> Api<Flushed> {
    let resolver = resolver(&shared)?;
    let what = match (request.name, request.qtype) {
        (None, None) => Flush::All,
        (Some(name), None) => Flush::Name(parse_name(&name)?),
        (Some(name), Some(qtype)) => Flush::RRset(parse_name(&name)?, parse_type(&qtype)?),
        (None, Some(_)) => return Err(ApiError::bad_request("a type needs a name to flush")),
    };
    Ok(Json(Flushed {
        removed: resolver.flush(&what),
    }))
}

/// `POST /api/flush-zone {"name": N}`: everything at and below N.
pub async fn flush_zone(
    State(shared): State<Arc<Shared>>,
    JsonBody(request): JsonBody<FlushZoneRequest>,
) -> Api<Flushed> {
    let resolver = resolver(&shared)?;
    let zone = parse_name(&request.name)?;
    Ok(Json(Flushed {
        removed: resolver.flush(&Flush::Zone(zone)),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReloadRequest {}

#[derive(Serialize)]
pub struct Reloaded {
    zones: Vec<ZoneReload>,
}

/// `POST /api/reload {}`: every authoritative zone from its file.
pub async fn reload(
    State(shared): State<Arc<Shared>>,
    JsonBody(ReloadRequest {}): JsonBody<ReloadRequest>,
) -> Api<Reloaded> {
    let auth = auth(&shared)?;
    let started = Instant::now();
    // Reading zone files blocks: keep it off the runtime's workers.
    let zones = tokio::task::spawn_blocking(move || auth.reload())
        .await
        .map_err(|error| {
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("reload failed: {error}"),
            )
        })?;
    tracing::info!(zones = zones.len(), elapsed = ?started.elapsed(), "zones reloaded");
    Ok(Json(Reloaded { zones }))
}

#[derive(Serialize)]
pub struct ZonesFlushed {
    zones: Vec<ZoneFlush>,
}

/// `POST /api/zone-flush {"name": N}`: the authoritative zone N written
/// back to its master file, with its dynamic updates.
pub async fn zone_flush(
    State(shared): State<Arc<Shared>>,
    JsonBody(request): JsonBody<FlushZoneRequest>,
) -> Api<ZonesFlushed> {
    let auth = auth(&shared)?;
    let zone = parse_name(&request.name)?;
    let asked = zone.clone();
    // Writing a zone file blocks: keep it off the runtime's workers.
    let zones = tokio::task::spawn_blocking(move || auth.zone_flush(&asked))
        .await
        .map_err(|error| {
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("zone-flush failed: {error}"),
            )
        })?;
    if zones.is_empty() {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!("no authoritative server here serves zone {zone}"),
        ));
    }
    Ok(Json(ZonesFlushed { zones }))
}

fn auth(shared: &Shared) -> Result<Arc<dyn AuthControl>, ApiError> {
    shared
        .web
        .auth
        .clone()
        .ok_or_else(|| ApiError::missing("authoritative server"))
}

fn resolver(shared: &Shared) -> Result<&dyn ResolverControl, ApiError> {
    shared
        .web
        .resolver
        .as_deref()
        .ok_or_else(|| ApiError::missing("resolver"))
}

fn snapshot(shared: &Shared) -> MetricsSnapshot {
    let mut snapshot = MetricsSnapshot::default();
    if let Some(resolver) = &shared.web.resolver {
        resolver.fill_metrics(&mut snapshot);
    }
    if let Some(auth) = &shared.web.auth {
        auth.fill_metrics(&mut snapshot);
        snapshot.zones = auth.zones();
    }
    snapshot.events = events(shared);
    snapshot
}

fn events(shared: &Shared) -> EventCounts {
    EventCounts {
        published: shared.web.bus.last_id(),
        subscribers: shared.web.bus.watchers() as u64,
    }
}

/// A domain name as typed (absolute with or without the final dot,
/// RFC 1035 5.1 escapes allowed).
fn parse_name(text: &str) -> Result<Name, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::bad_request("the name is empty"));
    }
    let mut name = Name::from_str(text)
        .map_err(|error| ApiError::bad_request(format!("bad name {text:?}: {error}")))?;
    name.set_fqdn(true);
    Ok(name)
}

/// A type's mnemonic, or RFC 3597's TYPEnnn for one without.
fn type_name(qtype: RecordType) -> String {
    match qtype {
        RecordType::Unknown(code) => format!("TYPE{code}"),
        known => known.to_string(),
    }
}

/// A record type by mnemonic ("AAAA") or as RFC 3597 "TYPE65534".
fn parse_type(text: &str) -> Result<RecordType, ApiError> {
    let upper = text.trim().to_ascii_uppercase();
    RecordType::from_str(&upper)
        .ok()
        .or_else(|| {
            upper
                .strip_prefix("TYPE")
                .and_then(|n| n.parse::<u16>().ok())
                .map(RecordType::from)
        })
        .ok_or_else(|| ApiError::bad_request(format!("unknown record type {text:?}")))
}
