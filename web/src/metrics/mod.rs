//! Metrics: a plain snapshot the servers fill ([`MetricsSnapshot`]), its
//! rendering in the Prometheus text format ([`render`], served at
//! `/metrics`; the same snapshot is `/api/stats` as JSON), and lock-free
//! counters cheap enough for the query path ([`counters`]).
//!
//! Names follow Prometheus's conventions (`dnslab_` prefix, `_total` for
//! counters, seconds for durations) and labels CoreDNS's names, so that
//! dashboards written for CoreDNS read them with a changed prefix:
//!
//! | metric | labels | CoreDNS's |
//! | --- | --- | --- |
//! | `dnslab_dns_queries_total` | server, proto, type, rcode | `coredns_dns_requests_total`, `coredns_dns_responses_total` |
//! | `dnslab_cache_hits_total`, `dnslab_cache_misses_total` | server | `coredns_cache_hits_total`, `coredns_cache_misses_total` |
//! | `dnslab_cache_entries` | server, type (rrset, delegation) | `coredns_cache_entries` |
//! | `dnslab_upstream_queries_total`, `dnslab_upstream_timeouts_total`, `dnslab_upstream_lame_total` | to | `coredns_forward_requests_total` |
//! | `dnslab_resolution_duration_seconds` (histogram) | server | `coredns_dns_request_duration_seconds` |
//! | `dnslab_zone_serial` | server, zone | `coredns_reload_...` (none quite) |
//! | `dnslab_events_published_total`, `dnslab_events_subscribers` | | |
//!
//! Every label has few, bounded values: `type` and `rcode` are folded into
//! a fixed set ([`counters::TYPES`], [`counters::RCODES`], the rest
//! "other"); `to` is one per upstream server, which a backend should cap
//! (the busiest few, then "other") when it talks to the whole Internet.

pub mod counters;
mod render;

use serde::Serialize;

pub use counters::{Histogram, HistogramSnapshot, Proto, QueryCounters};
pub use render::{render, CONTENT_TYPE};

use crate::backend::ZoneInfo;

/// Everything `/metrics` shows at one moment, filled by the backends.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MetricsSnapshot {
    pub queries: Vec<QueryCount>,
    pub caches: Vec<CacheCounts>,
    pub upstreams: Vec<UpstreamCounts>,
    pub resolution: Vec<ResolutionTimes>,
    pub zones: Vec<ZoneInfo>,
    pub events: EventCounts,
}

/// Queries a server answered with one type, protocol and rcode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueryCount {
    /// The listening server, as CoreDNS writes it: "dns://127.0.0.1:1053".
    pub server: String,
    pub proto: Proto,
    /// The question's type ("A", ..., "other").
    #[serde(rename = "type")]
    pub qtype: String,
    pub rcode: String,
    pub count: u64,
}

/// One resolver's cache.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CacheCounts {
    pub server: String,
    /// Client questions answered from the cache.
    pub hits: u64,
    /// Client questions the cache could not answer whole: walked, or
    /// (RD=0) answered with what the cache had.
    pub misses: u64,
    /// RRsets and negative answers held now.
    pub rrsets: u64,
    /// Delegations held now.
    pub delegations: u64,
}

/// The resolver's exchanges with one upstream server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UpstreamCounts {
    /// "IP:port" of the upstream server (CoreDNS's forward plugin's `to`).
    pub to: String,
    pub queries: u64,
    pub timeouts: u64,
    /// Responses the resolver could not use (REFUSED, not authoritative,
    /// out of bailiwick).
    pub lame: u64,
}

/// How long client questions that needed a walk took, at one server
/// (cache hits are counted, not timed).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResolutionTimes {
    pub server: String,
    pub histogram: HistogramSnapshot,
}

/// The event bus, filled by the web server itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EventCounts {
    /// Events published since start (the last SSE id).
    pub published: u64,
    /// Event streams open now.
    pub subscribers: u64,
}
