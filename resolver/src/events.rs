//! One lookup as the textbook draws it: numbered messages between the
//! requesting host, the resolver and the name servers, as events for the
//! live page (`/api/events`) and, in the same schema, for
//! `dnslab trace --json`; and the [`EventBus`] that carries them from the
//! resolver to whoever watches.
//!
//! This module owns the schema and the bus, nothing else: the walk
//! ([`crate::iterate`]) decides what happened, the web crate (`dnslab-web`)
//! streams and draws it.
//!
//! # Numbering
//!
//! `step` counts messages, as Kurose & Ross's figure of the DNS does:
//!
//! - step 1 is the client's query to the resolver (kind `query`);
//! - each upstream exchange is two steps: the resolver's query to a server
//!   (kind `query`), then that server's response (`referral`, `answer`,
//!   `cname`, `nxdomain`, `nodata`, `lame`, `servfail`), or `timeout` when
//!   none came: a timeout takes the response's step, `from` the server that
//!   stayed silent, `ms` the time waited;
//! - the last step is the resolver's answer to the client (`answer`,
//!   `nxdomain`, `nodata` or `servfail`; its `records` are what the client
//!   got, its `ms` the whole lookup).
//!
//! Everything one client question causes is one lookup, numbered on:
//! exchanges after a CNAME restart, and those that find a glueless name
//! server's address (their `qname` is the name server's name).
//!
//! A full cache hit is two steps: 1 (`query`) and 2, the resolver's answer
//! from its cache, of kind `cache-hit`, with `rcode` (NOERROR, NXDOMAIN),
//! `records` and `ttl_left` (the smallest TTL left among the records).
//!
//! A partly cached walk starts at the deepest delegation in the cache: the
//! tiers above it are not asked. Each such tier gets one event of kind
//! `cache-hit` with step **0** (it is not a message, so it takes no number
//! and leaves the textbook's numbering intact), published right after
//! step 1: `from` the resolver, `to` the tier not asked (its role, and the
//! server that would have been asked when the resolver knows it), `zone`
//! the zone of that tier, `detail` what the cache knew instead ("delegation
//! to edu. cached, TTL 172795 s left"), `ttl_left` that delegation's TTL
//! left and `records` its NS lines. For `www.cs.umass.edu` right after
//! `gaia.cs.umass.edu`: step 1, three tier events (root, the edu TLD and
//! dns.umass.edu: delegations to edu., umass.edu. and cs.umass.edu. cached),
//! steps 2 and 3 with dns.cs.umass.edu, step 4 the answer.
//!
//! Forward and stub zones (`--forward-zone`, `--stub-zone`) are not the
//! cache's doing: a walk that starts at a stub zone's configured servers
//! gets no tier event for the tiers above the stub zone (a delegation
//! cached below it is spared from the stub zone's server, as above from
//! the root), and a query to a stub zone's server or a forwarder says so
//! in its `detail` ("gaia.cs.umass.edu. A (a configured server of the
//! stub zone cs.umass.edu.)", "... (forwarded with RD=1 for the forward
//! zone .)").
//!
//! # Fields
//!
//! - `qname`, `qtype`: the question in this message, as sent (minimised
//!   names, RFC 9156, show as such); for steps 1 and last, the client's.
//! - `rcode`: the response's RCODE ("NOERROR", "NXDOMAIN", ...); empty for
//!   queries and tier events.
//! - `ms`: for a response, how long after its query it came; for the last
//!   step, the whole lookup; 0 for queries and tier events.
//! - `zone`: the zone the server was asked as an authority for (its
//!   bailiwick: "." for the root, "edu." for the edu servers), on both
//!   messages of an exchange and on tier events; `None` between client and
//!   resolver. The zone a referral points to is in `detail` and `records`.
//! - `detail`: the human text: "referral to edu. (a.edu-servers.lab.)",
//!   "answer (1 record)", "CNAME, restart at ...", "timed out after 800 ms".
//! - `records`: master-file lines of what came back (a referral's NS and
//!   glue, an answer's records, a negative answer's SOA).
//!
//! # The ten messages of gaia.cs.umass.edu
//!
//! In `dnslab up`'s hierarchy, with QNAME minimisation, an empty cache
//! (addresses abbreviated; `records` left out):
//!
//! | step | from | to | qname | kind | zone | detail |
//! | --- | --- | --- | --- | --- | --- | --- |
//! | 1 | client 127.0.0.1 | resolver | gaia.cs.umass.edu. A | query | | |
//! | 2 | resolver | root a.root-servers.lab. | edu. A | query | . | |
//! | 3 | root a.root-servers.lab. | resolver | edu. A | referral | . | referral to edu. (a.edu-servers.lab.) |
//! | 4 | resolver | tld a.edu-servers.lab. | umass.edu. A | query | edu. | |
//! | 5 | tld a.edu-servers.lab. | resolver | umass.edu. A | referral | edu. | referral to umass.edu. (dns.umass.edu.) |
//! | 6 | resolver | authoritative dns.umass.edu. | cs.umass.edu. A | query | umass.edu. | |
//! | 7 | authoritative dns.umass.edu. | resolver | cs.umass.edu. A | referral | umass.edu. | referral to cs.umass.edu. (dns.cs.umass.edu.) |
//! | 8 | resolver | authoritative dns.cs.umass.edu. | gaia.cs.umass.edu. A | query | cs.umass.edu. | |
//! | 9 | authoritative dns.cs.umass.edu. | resolver | gaia.cs.umass.edu. A | answer | cs.umass.edu. | answer (1 record) |
//! | 10 | resolver | client 127.0.0.1 | gaia.cs.umass.edu. A | answer | | answer (1 record) |
//!
//! Asked again within the hour: step 1 (`query`) and step 2 (`cache-hit`,
//! `ttl_left` 3600 minus the seconds since).
//!
//! # The bus
//!
//! Events cost nothing while nobody watches: producers ask
//! [`EventBus::watched`] (one relaxed atomic load) and build events only
//! when it says yes. Published events get a sequence number (the SSE `id`)
//! and go to every subscriber through a bounded tokio `broadcast` channel,
//! and into a bounded ring of the last ones, from which a reconnecting
//! subscriber is replayed (`Last-Event-ID`). A subscriber that falls more
//! than the channel's capacity behind is told so ([`Delivery::Resync`]) and
//! goes on from the oldest event still held: memory is bounded by the ring
//! and the channel, whatever the subscribers do.

use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::Name;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::lock;

/// One message of a lookup (or, with step 0, one tier the cache spared);
/// see the module doc for each field's convention.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WalkEvent {
    /// The lookup this message belongs to ([`EventBus::next_lookup`]).
    pub lookup: u64,
    /// The message's number in the textbook's figure; 0 for a tier the
    /// cache spared.
    pub step: u32,
    pub from: Endpoint,
    pub to: Endpoint,
    pub qname: String,
    pub qtype: String,
    pub kind: Kind,
    /// Empty for queries and tier events.
    pub rcode: String,
    pub ms: f64,
    /// Seconds left of what the cache served (cache hits only).
    #[serde(default)]
    pub ttl_left: Option<u32>,
    /// The server's bailiwick; `None` between client and resolver.
    #[serde(default)]
    pub zone: Option<String>,
    pub detail: String,
    /// Master-file lines of what came back.
    #[serde(default)]
    pub records: Vec<String>,
}

/// One end of a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub role: Role,
    /// A name server's name ("a.root-servers.lab."), "resolver", or the
    /// client's address.
    pub name: String,
    /// "IP:port" when known.
    #[serde(default)]
    pub addr: Option<String>,
}

/// Where a party sits in the textbook's figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The requesting host.
    Client,
    /// The local DNS server: dnslab's resolver.
    Resolver,
    Root,
    Tld,
    /// Any server of a zone below a TLD (the textbook's intermediate and
    /// authoritative servers alike).
    Authoritative,
}

/// What a message is. Serialised lowercase with hyphens ("cache-hit").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Query,
    Referral,
    Answer,
    Nxdomain,
    Nodata,
    /// The answer is an alias; the walk restarts at its target.
    Cname,
    /// Served from the cache: a whole answer (step 2), or a tier spared
    /// (step 0).
    CacheHit,
    /// No response in time.
    Timeout,
    /// The server answered SERVFAIL, the exchange failed otherwise (the
    /// detail says how), or the resolver gave up and answers SERVFAIL.
    Servfail,
    /// A response the resolver could not use: REFUSED, not authoritative,
    /// or out of bailiwick (the detail says which); the metrics count these
    /// per upstream server, so the page shows them too.
    Lame,
}

impl Kind {
    /// The name used in JSON, for text output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Query => "query",
            Kind::Referral => "referral",
            Kind::Answer => "answer",
            Kind::Nxdomain => "nxdomain",
            Kind::Nodata => "nodata",
            Kind::Cname => "cname",
            Kind::CacheHit => "cache-hit",
            Kind::Timeout => "timeout",
            Kind::Servfail => "servfail",
            Kind::Lame => "lame",
        }
    }
}

impl Role {
    /// The tier of the servers of `zone`: the root, a TLD (one label), or
    /// anything below.
    pub fn for_zone(zone: &Name) -> Role {
        match zone.num_labels() {
            0 => Role::Root,
            1 => Role::Tld,
            _ => Role::Authoritative,
        }
    }
}

impl Endpoint {
    /// The requesting host, named by its address.
    pub fn client(addr: SocketAddr) -> Endpoint {
        Endpoint {
            role: Role::Client,
            name: addr.ip().to_string(),
            addr: Some(addr.to_string()),
        }
    }

    /// A requesting host that is not a network client: the web page's Ask
    /// box ("web page"), `dnslab trace`.
    pub fn named_client(name: &str) -> Endpoint {
        Endpoint {
            role: Role::Client,
            name: name.to_string(),
            addr: None,
        }
    }

    /// dnslab's resolver, at the address clients ask it on, when known.
    pub fn resolver(addr: Option<SocketAddr>) -> Endpoint {
        Endpoint {
            role: Role::Resolver,
            name: "resolver".to_string(),
            addr: addr.map(|addr| addr.to_string()),
        }
    }

    /// A name server of `zone`, named by its NS name.
    pub fn server(zone: &Name, name: &Name, addr: Option<SocketAddr>) -> Endpoint {
        Endpoint {
            role: Role::for_zone(zone),
            name: name.to_string(),
            addr: addr.map(|addr| addr.to_string()),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// One line per message, as `dnslab up` prints a lookup:
/// `3  a.root-servers.lab. -> resolver   referral to edu. (a.edu-servers.lab.)   0.3 ms`.
impl fmt::Display for WalkEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match self.step {
            0 => "-".to_string(),
            n => n.to_string(),
        };
        let what = if self.detail.is_empty() {
            format!("{} {}", self.qname, self.qtype)
        } else {
            self.detail.clone()
        };
        write!(f, "{step:>2}  {} -> {}   {what}", self.from, self.to)?;
        // Tenths, as dig prints; a cache hit takes hundredths.
        if self.ms >= 0.1 {
            write!(f, "   {:.1} ms", self.ms)?;
        } else if self.ms > 0.0 {
            write!(f, "   {:.2} ms", self.ms)?;
        }
        Ok(())
    }
}

/// An RCODE as dig prints it ("NOERROR", "NXDOMAIN", "SERVFAIL"), the
/// events' `rcode`.
pub fn rcode_name(rcode: ResponseCode) -> String {
    format!("{rcode:?}").to_uppercase()
}

/// Events kept for replay to reconnecting subscribers (`Last-Event-ID`):
/// about a minute of a busy classroom, 1 to 2 MB.
pub const DEFAULT_RING: usize = 4096;

/// Events one subscriber may fall behind before it is resynced. Smaller
/// than the ring: a browser that far behind cannot draw what it missed.
pub const DEFAULT_CHANNEL: usize = 1024;

/// An event with its sequence number (the SSE `id`, from 1).
#[derive(Debug, PartialEq)]
pub struct Published {
    pub id: u64,
    pub event: WalkEvent,
}

/// What a subscriber receives next.
#[derive(Clone, Debug, PartialEq)]
pub enum Delivery {
    Event(Arc<Published>),
    /// Events were lost to this subscriber: it fell behind, asked to be
    /// replayed from before the ring's oldest event, or from an id this
    /// bus never gave (the server restarted). `missed` counts the events
    /// known lost (0 when unknown); a page should start afresh.
    Resync {
        missed: u64,
    },
}

struct Ring {
    events: VecDeque<Arc<Published>>,
    capacity: usize,
    /// The id the next published event gets.
    next_id: u64,
}

/// Carries [`WalkEvent`]s from producers (the resolver) to subscribers
/// (the web page's event streams, a terminal printer).
pub struct EventBus {
    /// Subscribers alive now; producers read it with one relaxed load.
    watchers: AtomicUsize,
    next_lookup: AtomicU64,
    sender: broadcast::Sender<Arc<Published>>,
    /// Held while an event is numbered, stored and sent, and while a
    /// subscriber copies its replay and subscribes, so that a subscriber
    /// sees every id exactly once, in order. Never held across an await.
    ring: Mutex<Ring>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus::new(DEFAULT_RING, DEFAULT_CHANNEL)
    }
}

impl fmt::Debug for EventBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventBus")
            .field("watchers", &self.watchers.load(Ordering::Relaxed))
            .field("held", &self.held())
            .finish()
    }
}

impl EventBus {
    /// A bus keeping the last `ring` events for replay, and letting a
    /// subscriber fall `channel` events behind before it is resynced.
    pub fn new(ring: usize, channel: usize) -> EventBus {
        let (sender, _) = broadcast::channel(channel.max(1));
        EventBus {
            watchers: AtomicUsize::new(0),
            next_lookup: AtomicU64::new(1),
            sender,
            ring: Mutex::new(Ring {
                events: VecDeque::with_capacity(ring.min(DEFAULT_RING)),
                capacity: ring.max(1),
                next_id: 1,
            }),
        }
    }

    /// Whether anyone listens. Producers build events only when this is
    /// true, so the query path pays one relaxed load otherwise. A
    /// subscriber arriving mid-lookup sees that lookup's later steps only.
    #[inline]
    pub fn watched(&self) -> bool {
        self.watchers.load(Ordering::Relaxed) > 0
    }

    /// A fresh lookup id (from 1), for the events of one client question.
    pub fn next_lookup(&self) -> u64 {
        self.next_lookup.fetch_add(1, Ordering::Relaxed)
    }

    /// Numbers the event, keeps it for replay and sends it to every
    /// subscriber; returns its id. Never blocks on a subscriber.
    pub fn publish(&self, event: WalkEvent) -> u64 {
        let mut ring = lock(&self.ring);
        let id = ring.next_id;
        ring.next_id += 1;
        let published = Arc::new(Published { id, event });
        if ring.events.len() == ring.capacity {
            ring.events.pop_front();
        }
        ring.events.push_back(published.clone());
        // An error only means nobody subscribes now: the ring keeps it.
        let _ = self.sender.send(published);
        id
    }

    /// The id of the last event published (0 before the first).
    pub fn last_id(&self) -> u64 {
        lock(&self.ring).next_id - 1
    }

    /// Events held in the ring now (never more than its capacity).
    pub fn held(&self) -> usize {
        lock(&self.ring).events.len()
    }

    /// Subscribers alive now.
    pub fn watchers(&self) -> usize {
        self.watchers.load(Ordering::Relaxed)
    }

    /// Subscribes. With `last_id` (an SSE `Last-Event-ID`), the events
    /// after it still in the ring come first, preceded by a resync if some
    /// are no longer there.
    pub fn subscribe(self: &Arc<Self>, last_id: Option<u64>) -> Subscription {
        let ring = lock(&self.ring);
        let receiver = self.sender.subscribe();
        self.watchers.fetch_add(1, Ordering::Relaxed);
        let newest = ring.next_id - 1;
        let mut pending = VecDeque::new();
        if let Some(last) = last_id {
            let oldest = ring.events.front().map_or(ring.next_id, |e| e.id);
            if last > newest {
                pending.push_back(Delivery::Resync { missed: 0 });
            } else if last + 1 < oldest {
                pending.push_back(Delivery::Resync {
                    missed: oldest - last - 1,
                });
            }
            pending.extend(
                ring.events
                    .iter()
                    .filter(|e| e.id > last)
                    .cloned()
                    .map(Delivery::Event),
            );
        }
        Subscription {
            bus: self.clone(),
            receiver,
            pending,
            delivered: newest,
        }
    }
}

/// One subscriber's bounded view of the bus; unsubscribes when dropped.
pub struct Subscription {
    bus: Arc<EventBus>,
    receiver: broadcast::Receiver<Arc<Published>>,
    /// The replay, delivered before anything live.
    pending: VecDeque<Delivery>,
    /// The highest id delivered (or replayed); live events up to it are
    /// not delivered twice.
    delivered: u64,
}

impl Subscription {
    /// The next event, or a resync when this subscriber fell behind.
    /// Waits for one; `None` only if the bus is gone.
    pub async fn next(&mut self) -> Option<Delivery> {
        if let Some(delivery) = self.pending.pop_front() {
            return Some(delivery);
        }
        loop {
            match self.receiver.recv().await {
                Ok(published) if published.id <= self.delivered => continue,
                Ok(published) => {
                    self.delivered = published.id;
                    return Some(Delivery::Event(published));
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    return Some(Delivery::Resync { missed })
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.bus.watchers.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(lookup: u64, step: u32, kind: Kind) -> WalkEvent {
        WalkEvent {
            lookup,
            step,
            from: Endpoint::resolver(None),
            to: Endpoint::server(
                &Name::root(),
                &Name::from_ascii("a.root-servers.lab.").unwrap(),
                Some("127.0.0.2:5300".parse().unwrap()),
            ),
            qname: "edu.".into(),
            qtype: "A".into(),
            kind,
            rcode: String::new(),
            ms: 0.0,
            ttl_left: None,
            zone: Some(".".into()),
            detail: String::new(),
            records: Vec::new(),
        }
    }

    fn id(delivery: Option<Delivery>) -> u64 {
        match delivery {
            Some(Delivery::Event(published)) => published.id,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    #[test]
    fn json_names_are_lowercase_with_hyphens() {
        let mut cached = event(7, 0, Kind::CacheHit);
        cached.ttl_left = Some(42);
        let json = serde_json::to_value(&cached).unwrap();
        assert_eq!(json["kind"], "cache-hit");
        assert_eq!(json["to"]["role"], "root");
        assert_eq!(json["from"]["role"], "resolver");
        assert_eq!(json["to"]["addr"], "127.0.0.2:5300");
        assert_eq!(json["ttl_left"], 42);
        let back: WalkEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, cached);
        for kind in [Kind::Nxdomain, Kind::Nodata, Kind::Servfail, Kind::Lame] {
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.as_str());
        }
    }

    #[test]
    fn tiers_follow_the_zone_depth() {
        let name = |s: &str| Name::from_ascii(s).unwrap();
        assert_eq!(Role::for_zone(&Name::root()), Role::Root);
        assert_eq!(Role::for_zone(&name("edu.")), Role::Tld);
        assert_eq!(Role::for_zone(&name("umass.edu.")), Role::Authoritative);
        assert_eq!(Role::for_zone(&name("cs.umass.edu.")), Role::Authoritative);
    }

    #[test]
    fn a_message_prints_as_one_numbered_line() {
        let mut referral = event(1, 3, Kind::Referral);
        std::mem::swap(&mut referral.from, &mut referral.to);
        referral.detail = "referral to edu. (a.edu-servers.lab.)".into();
        referral.ms = 0.31;
        assert_eq!(
            referral.to_string(),
            " 3  a.root-servers.lab. -> resolver   referral to edu. (a.edu-servers.lab.)   0.3 ms"
        );
    }

    #[tokio::test]
    async fn subscribers_are_counted_and_see_every_event_in_order() {
        let bus = Arc::new(EventBus::new(8, 8));
        assert!(!bus.watched());
        let mut first = bus.subscribe(None);
        let second = bus.subscribe(None);
        assert!(bus.watched());
        assert_eq!(bus.watchers(), 2);
        drop(second);
        assert_eq!(bus.watchers(), 1);
        assert_eq!(bus.publish(event(1, 1, Kind::Query)), 1);
        assert_eq!(bus.publish(event(1, 2, Kind::Query)), 2);
        assert_eq!(id(first.next().await), 1);
        assert_eq!(id(first.next().await), 2);
        drop(first);
        assert!(!bus.watched());
        assert_eq!(bus.last_id(), 2);
    }

    #[tokio::test]
    async fn last_event_id_replays_what_the_ring_still_holds() {
        let bus = Arc::new(EventBus::new(4, 16));
        for step in 1..=6 {
            bus.publish(event(1, step, Kind::Query));
        }
        assert_eq!(bus.held(), 4);
        // Ids 3..=6 are held: after 4, replay 5 and 6, then live events.
        let mut replay = bus.subscribe(Some(4));
        bus.publish(event(1, 7, Kind::Query));
        assert_eq!(id(replay.next().await), 5);
        assert_eq!(id(replay.next().await), 6);
        assert_eq!(id(replay.next().await), 7);
        // Now 4..=7 are held; after 1, ids 2 and 3 are gone: a resync
        // first, then 4..=7.
        let mut late = bus.subscribe(Some(1));
        assert_eq!(late.next().await, Some(Delivery::Resync { missed: 2 }));
        assert_eq!(id(late.next().await), 4);
        // An id from a previous run of the server: start afresh.
        let mut stale = bus.subscribe(Some(99));
        assert_eq!(stale.next().await, Some(Delivery::Resync { missed: 0 }));
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_is_resynced() {
        let bus = Arc::new(EventBus::new(4, 2));
        let mut slow = bus.subscribe(None);
        for step in 1..=5 {
            bus.publish(event(1, step, Kind::Query));
        }
        assert_eq!(slow.next().await, Some(Delivery::Resync { missed: 3 }));
        assert_eq!(id(slow.next().await), 4);
        assert_eq!(id(slow.next().await), 5);
        assert_eq!(bus.held(), 4);
    }
}
