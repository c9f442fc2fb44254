//! One lookup as it happens, turned into the numbered messages of
//! [`crate::events`]: the one mechanism behind the live page (events
//! published on the bus while someone watches) and `dnslab trace` (the
//! same events collected).
//!
//! The walk ([`crate::iterate`]), the handler ([`crate::handler`]) and
//! [`crate::Resolver`] hold an `Option<&Recorder>`: `None` costs them
//! nothing but the branch, and nothing is built, formatted or allocated
//! for a lookup nobody watches. A recorder numbers the messages as the
//! module doc of [`crate::events`] says: step 1 is the client's question
//! (sent when the recorder is made), each upstream exchange takes the next
//! two, and [`Recorder::finish`] the last; tiers spared by a cached
//! delegation take step 0. A query to a server the configuration names
//! (a forwarder, a stub zone's server) says so in its detail ([`Via`]).

use std::fmt::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use std::net::SocketAddr;

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::time::Instant;

use crate::cache::Delegation;
use crate::classify::{Classified, Conclusion, Restart};
use crate::events::{rcode_name, Endpoint, EventBus, Kind, WalkEvent};
use crate::upstream::{Exchange, UpstreamError};
use crate::{lock, Resolution, ResolveError};

/// Where the events go.
pub(crate) enum Sink {
    /// Published as they happen (the live page, the terminal printer).
    Bus(Arc<EventBus>),
    /// Kept for the caller (`dnslab trace`).
    Collect(Mutex<Vec<WalkEvent>>),
}

/// The messages of one client question.
pub(crate) struct Recorder {
    sink: Sink,
    lookup: u64,
    client: Endpoint,
    resolver: Endpoint,
    qname: String,
    qtype: String,
    /// The last step number given (1 once the client's question is in).
    step: AtomicU32,
    started: Instant,
}

impl Recorder {
    /// A lookup whose events are kept for [`Recorder::into_events`].
    pub(crate) fn collecting(client: Endpoint, qname: &Name, qtype: RecordType) -> Recorder {
        let sink = Sink::Collect(Mutex::new(Vec::new()));
        let resolver = Endpoint::resolver(None);
        Recorder::start(sink, client, resolver, qname, qtype, Instant::now())
    }

    /// A lookup whose events go to `sink` (on a bus, numbered by it), with
    /// the client's question (step 1) given at once; `started` is when the
    /// question arrived.
    pub(crate) fn start(
        sink: Sink,
        client: Endpoint,
        resolver: Endpoint,
        qname: &Name,
        qtype: RecordType,
        started: Instant,
    ) -> Recorder {
        let lookup = match &sink {
            Sink::Bus(bus) => bus.next_lookup(),
            Sink::Collect(_) => 1,
        };
        let recorder = Recorder {
            sink,
            lookup,
            client,
            resolver,
            qname: qname.to_string(),
            qtype: qtype.to_string(),
            step: AtomicU32::new(0),
            started,
        };
        let question = recorder.event(
            recorder.client.clone(),
            recorder.resolver.clone(),
            Kind::Query,
        );
        recorder.emit(question);
        recorder
    }

    /// The lookup's id (the events' `lookup`).
    pub(crate) fn lookup(&self) -> u64 {
        self.lookup
    }

    /// Whether any server has been asked yet in this lookup.
    pub(crate) fn asked_upstream(&self) -> bool {
        self.step.load(Ordering::Relaxed) > 1
    }

    /// The events collected ([`Recorder::collecting`]); none for a live one.
    pub(crate) fn into_events(self) -> Vec<WalkEvent> {
        match self.sink {
            Sink::Collect(events) => events
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            Sink::Bus(_) => Vec::new(),
        }
    }

    /// An event of this lookup about the client's question, numbered
    /// next; the caller fills in the rest.
    fn event(&self, from: Endpoint, to: Endpoint, kind: Kind) -> WalkEvent {
        WalkEvent {
            lookup: self.lookup,
            step: self.step.fetch_add(1, Ordering::Relaxed) + 1,
            from,
            to,
            qname: self.qname.clone(),
            qtype: self.qtype.clone(),
            kind,
            rcode: String::new(),
            ms: 0.0,
            ttl_left: None,
            zone: None,
            detail: String::new(),
            records: Vec::new(),
        }
    }

    fn emit(&self, event: WalkEvent) {
        match &self.sink {
            Sink::Bus(bus) => {
                bus.publish(event);
            }
            Sink::Collect(events) => lock(events).push(event),
        }
    }

    /// The resolver's query to `server` at `addr`, an authority for
    /// `zone` (or its forwarder); returns the server as the events name
    /// it. `depth` above 0 means the query looks up a glueless name
    /// server's address, which its detail says, as it says a server the
    /// configuration names (`via`).
    pub(crate) fn query(
        &self,
        zone: &Name,
        server: &Name,
        addr: SocketAddr,
        question: &Query,
        depth: u32,
        via: Via,
    ) -> Endpoint {
        let endpoint = Endpoint::server(zone, server, Some(addr));
        let mut event = self.event(self.resolver.clone(), endpoint.clone(), Kind::Query);
        event.qname = question.name.to_string();
        event.qtype = question.query_type.to_string();
        event.zone = Some(zone.to_string());
        let configured = match via {
            Via::Walk => None,
            Via::Stub => Some(format!("a configured server of the stub zone {zone}")),
            Via::Forwarder => Some(format!("forwarded with RD=1 for the forward zone {zone}")),
        };
        let notes: Vec<String> = (depth > 0)
            .then(|| "a name server's address".to_string())
            .into_iter()
            .chain(configured)
            .collect();
        if !notes.is_empty() {
            let notes = notes.join("; ");
            event.detail = format!("{} {} ({notes})", event.qname, event.qtype);
        }
        self.emit(event);
        endpoint
    }

    /// What came back from `server` for the last [`Recorder::query`]: its
    /// response (`exchange`) as the walk classified it, or why there was
    /// none; `ms` after the query.
    pub(crate) fn response(
        &self,
        server: Endpoint,
        zone: &Name,
        question: &Query,
        classified: &Result<Classified, UpstreamError>,
        exchange: Option<&Exchange>,
        ms: f64,
    ) {
        let (kind, rcode, detail, records) = match (classified, exchange) {
            (Ok(classified), Some(exchange)) => {
                let rcode = exchange.response.metadata.response_code;
                let (kind, mut detail) = describe(classified, rcode);
                if exchange.via_tcp {
                    detail.push_str(" (over TCP)");
                }
                (kind, rcode_name(rcode), detail, lines(&exchange.response))
            }
            (Err(UpstreamError::Timeout { waited, .. }), _) => (
                Kind::Timeout,
                String::new(),
                format!("timed out after {} ms", waited.as_millis()),
                Vec::new(),
            ),
            (Err(error), _) => (
                Kind::Servfail,
                String::new(),
                format!("no answer: {error}"),
                Vec::new(),
            ),
            (Ok(classified), None) => {
                let (kind, detail) = describe(classified, ResponseCode::NoError);
                (kind, String::new(), detail, Vec::new())
            }
        };
        let mut event = self.event(server, self.resolver.clone(), kind);
        event.qname = question.name.to_string();
        event.qtype = question.query_type.to_string();
        event.zone = Some(zone.to_string());
        event.rcode = rcode;
        event.ms = ms;
        event.detail = detail;
        event.records = records;
        self.emit(event);
    }

    /// The tiers a walk starting at the cached `cuts` does not ask: each
    /// cut is the delegation its parent tier (`top` for the first: the
    /// root, or the stub zone the walk starts from) would have given.
    /// Recorded only before any server was asked, as the textbook's
    /// figure has them (step 0, right after step 1).
    pub(crate) fn spared(&self, top: &Delegation, cuts: &[Delegation], upstream_port: u16) {
        if self.asked_upstream() {
            return;
        }
        let mut parent = top;
        for cut in cuts {
            let Some(server) = first_server(parent, upstream_port) else {
                break;
            };
            let event = WalkEvent {
                lookup: self.lookup,
                step: 0,
                from: self.resolver.clone(),
                to: server,
                qname: self.qname.clone(),
                qtype: self.qtype.clone(),
                kind: Kind::CacheHit,
                rcode: String::new(),
                ms: 0.0,
                ttl_left: Some(cut.ttl),
                zone: Some(parent.zone.to_string()),
                detail: format!("delegation to {} cached, TTL {} s left", cut.zone, cut.ttl),
                records: cut
                    .servers
                    .iter()
                    .map(|ns| format!("{} {} IN NS {ns}", cut.zone, cut.ttl))
                    .collect(),
            };
            self.emit(event);
            parent = cut;
        }
    }

    /// The resolver's answer to the client (the last step). A lookup that
    /// asked no server was answered from the cache. `shared` says the
    /// answer came from an identical question's walk, in flight already.
    pub(crate) fn finish(&self, result: &Result<Resolution, ResolveError>, shared: bool) {
        let from_cache = !shared && !self.asked_upstream();
        let (kind, rcode, mut detail, records, ttl_left) = match result {
            Ok(resolution) => {
                let records: Vec<&Record> = resolution
                    .answers
                    .iter()
                    .chain(&resolution.authorities)
                    .collect();
                let ttl_left = records.iter().map(|r| r.ttl).min();
                let kind = final_kind(resolution, &self.qtype);
                let detail = match kind {
                    Kind::Answer => answer_detail(resolution.answers.len()),
                    _ => kind_word(kind).to_string(),
                };
                let lines = records.iter().map(ToString::to_string).collect();
                (kind, rcode_name(resolution.rcode), detail, lines, ttl_left)
            }
            Err(error) => (
                Kind::Servfail,
                rcode_name(ResponseCode::ServFail),
                format!("SERVFAIL: {error}"),
                Vec::new(),
                None,
            ),
        };
        let (kind, ttl_left) = match (from_cache, result.is_ok()) {
            (true, true) => {
                let left = ttl_left.unwrap_or(0);
                detail = match kind {
                    Kind::Answer => format!("from cache, TTL {left} s left"),
                    _ => format!("from cache: {detail}, TTL {left} s left"),
                };
                (Kind::CacheHit, Some(left))
            }
            _ => (kind, None),
        };
        if shared {
            detail.push_str(" (shared with an identical question in flight)");
        }
        let mut event = self.event(self.resolver.clone(), self.client.clone(), kind);
        event.rcode = rcode;
        event.ms = self.started.elapsed().as_secs_f64() * 1000.0;
        event.ttl_left = ttl_left;
        event.detail = detail;
        event.records = records;
        self.emit(event);
    }
}

/// How a server came to be asked: found by the walk, or named by the
/// configuration (which its query's detail says).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Via {
    /// The walk found it: the hints, a referral, the cache.
    Walk,
    /// A server configured for a stub zone (`--stub-zone`).
    Stub,
    /// A recursive server configured for a forward zone
    /// (`--forward-zone`), asked with RD=1.
    Forwarder,
}

/// The server a tier's query would have gone to: its first server, at
/// its glue address when known, or a stub zone's first configured server
/// (named by the zone, as the walk names it).
fn first_server(cut: &Delegation, upstream_port: u16) -> Option<Endpoint> {
    if let Some(addr) = cut.stub.first() {
        return Some(Endpoint::server(&cut.zone, &cut.zone, Some(*addr)));
    }
    let name = cut.servers.first()?;
    let ip = cut.glue.iter().find(|(n, _)| n == name).map(|g| g.1);
    let addr = ip.map(|ip| SocketAddr::new(ip, upstream_port));
    Some(Endpoint::server(&cut.zone, name, addr))
}

/// The kind and words of one classified response.
fn describe(classified: &Classified, rcode: ResponseCode) -> (Kind, String) {
    match classified {
        Classified::Referral(cut) => {
            let mut detail = format!("referral to {} (", cut.zone);
            for (i, server) in cut.servers.iter().enumerate() {
                let space = if i > 0 { " " } else { "" };
                let _ = write!(detail, "{space}{server}");
            }
            detail.push(')');
            (Kind::Referral, detail)
        }
        Classified::Conclusion(Conclusion::Answer { records }) => {
            (Kind::Answer, answer_detail(records.len()))
        }
        Classified::Conclusion(Conclusion::NxDomain { .. }) => (Kind::Nxdomain, "NXDOMAIN".into()),
        Classified::Conclusion(Conclusion::NoData { .. }) => (Kind::Nodata, "NODATA".into()),
        Classified::Restart(Restart { target, .. }) => {
            (Kind::Cname, format!("CNAME, restart at {target}"))
        }
        Classified::Lame(_) if rcode == ResponseCode::ServFail => {
            (Kind::Servfail, "SERVFAIL: the server failed".into())
        }
        Classified::Lame(reason) => (Kind::Lame, format!("lame: {reason}")),
    }
}

/// What the client got: an answer when its type (or a CNAME chain to
/// it) is there, else NXDOMAIN or NODATA.
fn final_kind(resolution: &Resolution, qtype: &str) -> Kind {
    if resolution.rcode == ResponseCode::NXDomain {
        return Kind::Nxdomain;
    }
    let asked = resolution
        .answers
        .iter()
        .any(|r| r.record_type().to_string() == qtype || qtype == "ANY");
    if asked {
        Kind::Answer
    } else {
        Kind::Nodata
    }
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Nxdomain => "NXDOMAIN",
        Kind::Nodata => "NODATA",
        other => other.as_str(),
    }
}

fn answer_detail(records: usize) -> String {
    let s = if records == 1 { "" } else { "s" };
    format!("answer ({records} record{s})")
}

/// Master-file lines of every record of a response (its OPT is not a
/// record of any section once decoded).
fn lines(response: &Message) -> Vec<String> {
    response
        .answers
        .iter()
        .chain(&response.authorities)
        .chain(&response.additionals)
        .filter(|record| !matches!(record.data, RData::OPT(_)))
        .map(ToString::to_string)
        .collect()
}
