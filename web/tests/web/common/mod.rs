//! What every web test needs: the walks of the textbook's lookups as
//! events, synthetic backends that publish them and record what they are
//! asked, a server on a loopback port, and a plain HTTP client.

#![allow(dead_code)]

pub mod http;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use dnslab_resolver::events::{Endpoint, EventBus, Kind, WalkEvent};
use dnslab_web::metrics::{
    CacheCounts, Histogram, MetricsSnapshot, Proto, QueryCounters, ResolutionTimes, UpstreamCounts,
};
use dnslab_web::{
    Asked, AuthControl, BoxFuture, CacheLine, Flush, Origin, ResolverControl, Web, WebError,
    ZoneFlush, ZoneInfo, ZoneReload,
};
use hickory_proto::rr::{Name, RecordType};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const RESOLVER: &str = "127.0.0.1:1053";

fn client() -> Endpoint {
    Endpoint::client("127.0.0.1:40000".parse().unwrap())
}

fn resolver() -> Endpoint {
    Endpoint::resolver(Some(RESOLVER.parse().unwrap()))
}

fn server(zone: &str, name: &str, addr: &str) -> Endpoint {
    Endpoint::server(
        &Name::from_ascii(zone).unwrap(),
        &Name::from_ascii(name).unwrap(),
        Some(addr.parse().unwrap()),
    )
}

/// One message; the fields not given are filled by the caller.
fn message(
    lookup: u64,
    step: u32,
    from: Endpoint,
    to: Endpoint,
    qname: &str,
    kind: Kind,
) -> WalkEvent {
    WalkEvent {
        lookup,
        step,
        from,
        to,
        qname: qname.to_string(),
        qtype: "A".to_string(),
        kind,
        rcode: if kind == Kind::Query {
            String::new()
        } else {
            "NOERROR".to_string()
        },
        ms: 0.0,
        ttl_left: None,
        zone: None,
        detail: String::new(),
        records: Vec::new(),
    }
}

/// One upstream exchange: the resolver's query and the server's reply.
#[allow(clippy::too_many_arguments)]
fn exchange(
    lookup: u64,
    step: u32,
    zone: &str,
    peer: Endpoint,
    qname: &str,
    kind: Kind,
    detail: &str,
    records: &[&str],
    ms: f64,
) -> [WalkEvent; 2] {
    let mut query = message(lookup, step, resolver(), peer.clone(), qname, Kind::Query);
    query.zone = Some(zone.to_string());
    let mut reply = message(lookup, step + 1, peer, resolver(), qname, kind);
    reply.zone = Some(zone.to_string());
    reply.detail = detail.to_string();
    reply.records = records.iter().map(|r| r.to_string()).collect();
    reply.ms = ms;
    [query, reply]
}

pub fn root() -> Endpoint {
    server(".", "a.root-servers.lab.", "127.0.0.2:5300")
}
pub fn edu() -> Endpoint {
    server("edu.", "a.edu-servers.lab.", "127.0.0.6:5300")
}
pub fn umass() -> Endpoint {
    server("umass.edu.", "dns.umass.edu.", "127.0.0.9:5300")
}
pub fn cs_umass() -> Endpoint {
    server("cs.umass.edu.", "dns.cs.umass.edu.", "127.0.0.10:5300")
}

const GAIA: &str = "gaia.cs.umass.edu. 3600 IN A 192.0.2.12";

/// The ten messages of `gaia.cs.umass.edu` from an empty cache, as
/// `dnslab up`'s hierarchy gives them (QNAME minimisation on).
pub fn gaia_walk(lookup: u64) -> Vec<WalkEvent> {
    let mut events = vec![message(
        lookup,
        1,
        client(),
        resolver(),
        "gaia.cs.umass.edu.",
        Kind::Query,
    )];
    events.extend(exchange(
        lookup,
        2,
        ".",
        root(),
        "edu.",
        Kind::Referral,
        "referral to edu. (a.edu-servers.lab.)",
        &[
            "edu. 172800 IN NS a.edu-servers.lab.",
            "a.edu-servers.lab. 172800 IN A 127.0.0.6",
        ],
        0.31,
    ));
    events.extend(exchange(
        lookup,
        4,
        "edu.",
        edu(),
        "umass.edu.",
        Kind::Referral,
        "referral to umass.edu. (dns.umass.edu.)",
        &[
            "umass.edu. 3600 IN NS dns.umass.edu.",
            "dns.umass.edu. 3600 IN A 127.0.0.9",
        ],
        0.27,
    ));
    events.extend(exchange(
        lookup,
        6,
        "umass.edu.",
        umass(),
        "cs.umass.edu.",
        Kind::Referral,
        "referral to cs.umass.edu. (dns.cs.umass.edu.)",
        &[
            "cs.umass.edu. 3600 IN NS dns.cs.umass.edu.",
            "dns.cs.umass.edu. 3600 IN A 127.0.0.10",
        ],
        0.25,
    ));
    events.extend(exchange(
        lookup,
        8,
        "cs.umass.edu.",
        cs_umass(),
        "gaia.cs.umass.edu.",
        Kind::Answer,
        "answer (1 record)",
        &[GAIA],
        0.22,
    ));
    let mut answer = message(
        lookup,
        10,
        resolver(),
        client(),
        "gaia.cs.umass.edu.",
        Kind::Answer,
    );
    answer.detail = "answer (1 record)".into();
    answer.records = vec![GAIA.into()];
    answer.ms = 1.62;
    events.push(answer);
    events
}

/// The same question again: the two messages of a full cache hit.
pub fn gaia_cache_hit(lookup: u64, ttl_left: u32) -> Vec<WalkEvent> {
    let question = message(
        lookup,
        1,
        client(),
        resolver(),
        "gaia.cs.umass.edu.",
        Kind::Query,
    );
    let mut answer = message(
        lookup,
        2,
        resolver(),
        client(),
        "gaia.cs.umass.edu.",
        Kind::CacheHit,
    );
    answer.detail = format!("from cache, TTL {ttl_left} s left");
    answer.records = vec![format!("gaia.cs.umass.edu. {ttl_left} IN A 192.0.2.12")];
    answer.ttl_left = Some(ttl_left);
    answer.ms = 0.02;
    vec![question, answer]
}

/// `www.cs.umass.edu` after gaia: the delegation to cs.umass.edu. is
/// cached, so root, TLD and dns.umass.edu. are not asked (three tier
/// events, step 0), and the walk is four messages.
pub fn sibling_walk(lookup: u64) -> Vec<WalkEvent> {
    let www = "www.cs.umass.edu.";
    let mut events = vec![message(lookup, 1, client(), resolver(), www, Kind::Query)];
    for (tier, zone, child, ns, ttl) in [
        (root(), ".", "edu.", "a.edu-servers.lab.", 172_795),
        (edu(), "edu.", "umass.edu.", "dns.umass.edu.", 3595),
        (
            umass(),
            "umass.edu.",
            "cs.umass.edu.",
            "dns.cs.umass.edu.",
            3595,
        ),
    ] {
        let mut skipped = message(lookup, 0, resolver(), tier, www, Kind::CacheHit);
        skipped.rcode = String::new();
        skipped.zone = Some(zone.into());
        skipped.ttl_left = Some(ttl);
        skipped.detail = format!("delegation to {child} cached, TTL {ttl} s left");
        skipped.records = vec![format!("{child} {ttl} IN NS {ns}")];
        events.push(skipped);
    }
    let www_line = "www.cs.umass.edu. 3600 IN A 192.0.2.13";
    events.extend(exchange(
        lookup,
        2,
        "cs.umass.edu.",
        cs_umass(),
        www,
        Kind::Answer,
        "answer (1 record)",
        &[www_line],
        0.2,
    ));
    let mut answer = message(lookup, 4, resolver(), client(), www, Kind::Answer);
    answer.detail = "answer (1 record)".into();
    answer.records = vec![www_line.into()];
    answer.ms = 0.41;
    events.push(answer);
    events
}

/// `video.netcinema.com` from an empty cache: the busiest story of the
/// default hierarchy. netcinema.com's server is named under net. without
/// glue, so the walk first finds ns1.hosting.net's address (steps 6 to
/// 11, the root and the TLD asked a second time), then gets a CNAME into
/// the CDN and restarts at a1105.kingcdn.com: twenty messages, four
/// exchanges with the one TLD server.
pub fn netcinema_walk(lookup: u64) -> Vec<WalkEvent> {
    let video = "video.netcinema.com.";
    let gtld = || server("com.", "a.gtld-servers.lab.", "127.0.0.4:5300");
    let gtld_net = || server("net.", "a.gtld-servers.lab.", "127.0.0.4:5300");
    let hosting = |zone| server(zone, "ns1.hosting.net.", "127.0.0.14:5300");
    let kingcdn = server("kingcdn.com.", "ns.kingcdn.net.", "127.0.0.15:5300");
    let mut events = vec![message(lookup, 1, client(), resolver(), video, Kind::Query)];
    // Each upstream exchange in turn, two steps each, from step 2.
    let mut step = 2;
    let mut ask =
        |zone: &str, peer: Endpoint, qname: &str, kind: Kind, detail: &str, records: &[&str]| {
            events.extend(exchange(
                lookup, step, zone, peer, qname, kind, detail, records, 0.3,
            ));
            step += 2;
        };
    ask(
        ".",
        root(),
        "com.",
        Kind::Referral,
        "referral to com. (a.gtld-servers.lab. b.gtld-servers.lab.)",
        &["com. 172800 IN NS a.gtld-servers.lab."],
    );
    ask(
        "com.",
        gtld(),
        "netcinema.com.",
        Kind::Referral,
        "referral to netcinema.com. (ns1.hosting.net.)",
        &["netcinema.com. 3600 IN NS ns1.hosting.net."],
    );
    ask(
        ".",
        root(),
        "net.",
        Kind::Referral,
        "referral to net. (a.gtld-servers.lab. b.gtld-servers.lab.)",
        &["net. 172800 IN NS a.gtld-servers.lab."],
    );
    ask(
        "net.",
        gtld_net(),
        "hosting.net.",
        Kind::Referral,
        "referral to hosting.net. (ns1.hosting.net.)",
        &[
            "hosting.net. 3600 IN NS ns1.hosting.net.",
            "ns1.hosting.net. 3600 IN A 127.0.0.14",
        ],
    );
    ask(
        "hosting.net.",
        hosting("hosting.net."),
        "ns1.hosting.net.",
        Kind::Answer,
        "answer (1 record)",
        &["ns1.hosting.net. 3600 IN A 127.0.0.14"],
    );
    ask(
        "netcinema.com.",
        hosting("netcinema.com."),
        video,
        Kind::Cname,
        "CNAME, restart at a1105.kingcdn.com.",
        &["video.netcinema.com. 3600 IN CNAME a1105.kingcdn.com."],
    );
    ask(
        "com.",
        gtld(),
        "kingcdn.com.",
        Kind::Referral,
        "referral to kingcdn.com. (ns.kingcdn.net.)",
        &["kingcdn.com. 3600 IN NS ns.kingcdn.net."],
    );
    ask(
        "net.",
        gtld_net(),
        "kingcdn.net.",
        Kind::Referral,
        "referral to kingcdn.net. (ns.kingcdn.net.)",
        &[
            "kingcdn.net. 3600 IN NS ns.kingcdn.net.",
            "ns.kingcdn.net. 3600 IN A 127.0.0.15",
        ],
    );
    ask(
        "kingcdn.com.",
        kingcdn,
        "a1105.kingcdn.com.",
        Kind::Answer,
        "answer (1 record)",
        &["a1105.kingcdn.com. 60 IN A 203.0.113.5"],
    );
    let mut answer = message(lookup, 20, resolver(), client(), video, Kind::Answer);
    answer.detail = "answer (2 records)".into();
    answer.records = vec![
        "video.netcinema.com. 3600 IN CNAME a1105.kingcdn.com.".into(),
        "a1105.kingcdn.com. 60 IN A 203.0.113.5".into(),
    ];
    answer.ms = 3.9;
    events.push(answer);
    events
}

/// Publishes a walk, as the resolver does: only while someone watches.
/// Returns the lookup id when it was published.
pub fn publish(bus: &EventBus, walk: impl FnOnce(u64) -> Vec<WalkEvent>) -> Option<u64> {
    if !bus.watched() {
        return None;
    }
    let lookup = bus.next_lookup();
    for event in walk(lookup) {
        bus.publish(event);
    }
    Some(lookup)
}

/// A resolver that knows the textbook's names: the first question for
/// gaia walks, later ones hit the cache until a flush; www.cs.umass.edu
/// walks from the cached delegation; every other name is NXDOMAIN.
#[derive(Default)]
pub struct SyntheticResolver {
    pub bus: Arc<EventBus>,
    /// Names asked and answered since the last flush (the "cache").
    cached: Mutex<HashMap<String, u32>>,
    /// What each flush asked for, in order.
    pub flushes: Mutex<Vec<Flush>>,
}

impl SyntheticResolver {
    pub fn new(bus: Arc<EventBus>) -> SyntheticResolver {
        SyntheticResolver {
            bus,
            ..SyntheticResolver::default()
        }
    }
}

impl ResolverControl for SyntheticResolver {
    fn ask(&self, name: Name, qtype: RecordType) -> BoxFuture<'_, Asked> {
        Box::pin(async move {
            let key = name.to_string().to_ascii_lowercase();
            let seen = {
                let mut cached = self.cached.lock().unwrap();
                let count = cached.entry(key.clone()).or_default();
                *count += 1;
                *count - 1
            };
            let (lookup, answers, rcode) = match (key.as_str(), qtype) {
                ("gaia.cs.umass.edu.", RecordType::A) if seen == 0 => (
                    publish(&self.bus, gaia_walk),
                    vec![GAIA.to_string()],
                    "NOERROR",
                ),
                ("gaia.cs.umass.edu.", RecordType::A) => (
                    publish(&self.bus, |id| gaia_cache_hit(id, 3600 - 5 * seen)),
                    vec![format!(
                        "gaia.cs.umass.edu. {} IN A 192.0.2.12",
                        3600 - 5 * seen
                    )],
                    "NOERROR",
                ),
                ("video.netcinema.com.", RecordType::A) => (
                    publish(&self.bus, netcinema_walk),
                    vec!["a1105.kingcdn.com. 60 IN A 203.0.113.5".to_string()],
                    "NOERROR",
                ),
                ("www.cs.umass.edu.", RecordType::A) => (
                    publish(&self.bus, sibling_walk),
                    vec!["www.cs.umass.edu. 3600 IN A 192.0.2.13".to_string()],
                    "NOERROR",
                ),
                _ => (None, Vec::new(), "NXDOMAIN"),
            };
            Asked {
                lookup,
                rcode: rcode.to_string(),
                answers,
                authorities: Vec::new(),
                ms: 1.5,
                error: None,
            }
        })
    }

    fn flush(&self, what: &Flush) -> usize {
        self.flushes.lock().unwrap().push(what.clone());
        let mut cached = self.cached.lock().unwrap();
        let removed = cached.len();
        cached.clear();
        removed
    }

    fn dump_cache(&self) -> Vec<CacheLine> {
        vec![
            CacheLine {
                line: "gaia.cs.umass.edu. 3542 IN A 192.0.2.12".into(),
                ttl_left: 3542,
                origin: Origin::Answer,
            },
            CacheLine {
                line: "cs.umass.edu. 3542 IN NS dns.cs.umass.edu.".into(),
                ttl_left: 3542,
                origin: Origin::Referral,
            },
            CacheLine {
                line: "dns.cs.umass.edu. 3542 IN A 127.0.0.10".into(),
                ttl_left: 3542,
                origin: Origin::Glue,
            },
            CacheLine {
                line: "nope.cs.umass.edu. 280 IN SOA dns.cs.umass.edu. hostmaster.cs.umass.edu. 2026112201 1800 900 604800 300".into(),
                ttl_left: 280,
                origin: Origin::Negative,
            },
        ]
    }

    /// Known numbers: 7 A/NOERROR and 2 MX/NXDOMAIN over UDP, 1 TXT over
    /// TCP; 6 hits, 3 misses; three upstream servers; resolution times
    /// 20 us (x6), 1.5 ms (x2), 900 ms.
    fn fill_metrics(&self, snapshot: &mut MetricsSnapshot) {
        let server = format!("dns://{RESOLVER}");
        let counters = QueryCounters::default();
        for _ in 0..7 {
            counters.count(Proto::Udp, 1, 0);
        }
        for _ in 0..2 {
            counters.count(Proto::Udp, 15, 3);
        }
        counters.count(Proto::Tcp, 16, 0);
        counters.add_to(&server, &mut snapshot.queries);
        snapshot.caches.push(CacheCounts {
            server: server.clone(),
            hits: 6,
            misses: 3,
            rrsets: 11,
            delegations: 4,
        });
        for (to, queries, timeouts, lame) in [
            ("127.0.0.2:5300", 3, 0, 0),
            ("127.0.0.6:5300", 3, 1, 0),
            ("127.0.0.9:5300", 2, 0, 1),
        ] {
            snapshot.upstreams.push(UpstreamCounts {
                to: to.into(),
                queries,
                timeouts,
                lame,
            });
        }
        let histogram = Histogram::default();
        for _ in 0..6 {
            histogram.observe(std::time::Duration::from_micros(20));
        }
        for _ in 0..2 {
            histogram.observe(std::time::Duration::from_micros(1500));
        }
        histogram.observe(std::time::Duration::from_millis(900));
        snapshot.resolution.push(ResolutionTimes {
            server,
            histogram: histogram.snapshot(),
        });
    }
}

/// Two servers of the textbook's hierarchy.
#[derive(Default)]
pub struct SyntheticAuth {
    pub reloads: Mutex<u32>,
}

impl AuthControl for SyntheticAuth {
    fn zones(&self) -> Vec<ZoneInfo> {
        vec![
            ZoneInfo {
                server: "a.root-servers.lab.".into(),
                zone: ".".into(),
                serial: 2026112201,
            },
            ZoneInfo {
                server: "dns.cs.umass.edu.".into(),
                zone: "cs.umass.edu.".into(),
                serial: 2026112202,
            },
        ]
    }

    fn reload(&self) -> Vec<ZoneReload> {
        *self.reloads.lock().unwrap() += 1;
        vec![
            ZoneReload {
                server: "a.root-servers.lab.".into(),
                zone: ".".into(),
                serial: 2026112201,
                error: None,
            },
            ZoneReload {
                server: "dns.cs.umass.edu.".into(),
                zone: "cs.umass.edu.".into(),
                serial: 2026112202,
                error: Some("cs.umass.edu.zone:9: bad TTL".into()),
            },
        ]
    }

    fn zone_flush(&self, zone: &Name) -> Vec<ZoneFlush> {
        if *zone != Name::from_ascii("cs.umass.edu.").unwrap() {
            return Vec::new();
        }
        vec![ZoneFlush {
            server: "dns.cs.umass.edu.".into(),
            zone: "cs.umass.edu.".into(),
            serial: 2026112203,
            file: Some("cs.umass.edu.zone".into()),
            error: None,
        }]
    }

    fn fill_metrics(&self, snapshot: &mut MetricsSnapshot) {
        let counters = QueryCounters::default();
        for _ in 0..4 {
            counters.count(Proto::Udp, 1, 0);
        }
        counters.add_to("dns://127.0.0.2:5300", &mut snapshot.queries);
    }
}

/// A web server on a loopback port, stopped when dropped.
pub struct Server {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub task: Option<JoinHandle<Result<(), WebError>>>,
}

impl Server {
    /// Starts `web` on 127.0.0.1, port chosen by the kernel.
    pub async fn start(web: Web) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(dnslab_web::serve(listener, web, async {
            let _ = stopped.await;
        }));
        Server {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The whole set: a bus, the synthetic resolver and auth servers.
    pub async fn with_backends(
        bus: Arc<EventBus>,
    ) -> (Server, Arc<SyntheticResolver>, Arc<SyntheticAuth>) {
        let resolver = Arc::new(SyntheticResolver::new(bus.clone()));
        let auth = Arc::new(SyntheticAuth::default());
        let web = Web::new(bus)
            .with_resolver(resolver.clone())
            .with_auth(auth.clone());
        (Server::start(web).await, resolver, auth)
    }

    /// Asks the server to stop and waits until `serve` has returned.
    pub async fn shutdown(&mut self) -> Result<(), WebError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => tokio::time::timeout(std::time::Duration::from_secs(10), task)
                .await
                .expect("serve returns within 10 s of shutdown")
                .expect("serve does not panic"),
            None => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
