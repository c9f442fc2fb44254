//! `GET /api/events`: the walk, live, as Server-Sent Events.
//!
//! Each [`WalkEvent`] is one message: `id:` its sequence number, `data:`
//! its JSON (the schema of `dnslab_resolver::events`). A client that
//! reconnects sends `Last-Event-ID` (browsers do it by themselves) and is
//! replayed what the bus's ring still holds. A client that falls behind,
//! or asks for events no longer held, gets `event: resync` with
//! `data: {"missed": N}` and goes on from there: it is never buffered
//! without end. A comment every 15 s keeps proxies and browsers from
//! timing the stream out. Streams end when the server shuts down.
//!
//! [`WalkEvent`]: dnslab_resolver::events::WalkEvent

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use dnslab_resolver::events::{Delivery, Subscription};
use futures_util::stream::{self, Stream, StreamExt};
use serde_json::json;
use tokio::sync::watch;
use tracing::debug;

use crate::error::ApiError;
use crate::server::Shared;

/// How often an idle stream gets a comment line.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How long a browser waits before reconnecting a dropped stream.
const RETRY: Duration = Duration::from_secs(1);

pub async fn events(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let last_id = match headers.get("last-event-id") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|text| text.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::bad_request("Last-Event-ID must be an event id (a number)")
                })?,
        ),
    };
    let subscription = shared.web.bus.subscribe(last_id);
    debug!(
        ?last_id,
        watchers = shared.web.bus.watchers(),
        "event stream opened"
    );
    let first = Event::default().comment("dnslab walk events").retry(RETRY);
    let state = (subscription, shared.shutdown.clone());
    let live = stream::unfold(state, next_event);
    let stream = stream::once(async { Ok(first) }).chain(live);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// The next SSE message, or the end of the stream at shutdown.
async fn next_event(
    (mut subscription, mut shutdown): (Subscription, watch::Receiver<bool>),
) -> Option<(
    Result<Event, Infallible>,
    (Subscription, watch::Receiver<bool>),
)> {
    let delivery = tokio::select! {
        // An error means the server is gone: end the stream too.
        _ = shutdown.wait_for(|&stop| stop) => return None,
        delivery = subscription.next() => delivery?,
    };
    let event = match delivery {
        Delivery::Event(published) => Event::default()
            .id(published.id.to_string())
            .json_data(&published.event)
            .unwrap_or_else(|error| {
                Event::default()
                    .event("error")
                    .data(format!("event {} not encodable: {error}", published.id))
            }),
        Delivery::Resync { missed } => Event::default()
            .event("resync")
            .data(json!({ "missed": missed }).to_string()),
    };
    Some((Ok(event), (subscription, shutdown)))
}
