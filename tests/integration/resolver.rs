//! The recursive resolver over a hierarchy of dnslab authoritative servers
//! run in-process: root, com and edu, example.com on two servers, the
//! three-level umass.edu -> cs.umass.edu chain, and the broken corners a
//! resolver must survive (a glueless delegation, a lame server, a fast lame
//! server beside a slow good one, dead addresses, a truncating zone, a
//! CNAME loop, an NS loop, a lying server).
//!
//! The hierarchy is started once (servers on 127.0.53.x sharing one random
//! port) and shared; every test starts its own resolver with an empty cache
//! on 127.0.0.1 port 0, asks it over real sockets, and checks the RCODE,
//! flags, every section, and how many upstream queries were sent.

use std::fs;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use dnslab_authoritative::{AuthOptions, AuthServer, ZoneSource};
use dnslab_resolver::{trace, Cidr, Clock, Resolver, ResolverConfig};
use dnslab_transport::{Handler, Server, ServerConfig, TransportError};
use hickory_proto::op::ResponseCode::{NXDomain, NoError, ServFail};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record, RecordType};
use hickory_proto::serialize::binary::BinEncodable;
use tokio::runtime::Runtime;

mod hardening;
mod unbound;

use crate::common::{
    assert_recursive_header, dnslab, lines, loopback_config, name, on_a_random_port, response_to,
    section_without_ttl, serve, tcp, test_runtime, udp, udp_message, Ask, FakeUdp, Process,
    Running, ScratchDir,
};

/// The zones: (file name, text); the file name is the origin ("root" is `.`).
const ZONES: &[(&str, &str)] = &[
    (
        "root",
        "$TTL 3600
. SOA ns.root. admin.root. 1 3600 600 86400 300
. NS ns.root.
ns.root. A 127.0.53.1
com. NS ns.com.
ns.com. A 127.0.53.2
edu. NS ns.edu.
ns.edu. A 127.0.53.3
",
    ),
    (
        "com",
        "$TTL 3600
com. SOA ns.com. admin.com. 1 3600 600 86400 300
com. NS ns.com.
ns.com. A 127.0.53.2
example.com. NS ns1.example.com.
example.com. NS ns2.example.com.
ns1.example.com. A 127.0.53.4
ns2.example.com. A 127.0.53.5
glueless.com. NS ns.cs.umass.edu.
v6only.com. NS ns6.cs.umass.edu.
lame.com. NS ns.lame.com.
ns.lame.com. A 127.0.53.9
halflame.com. NS ns1.halflame.com.
halflame.com. NS ns2.halflame.com.
ns1.halflame.com. A 127.0.53.9
ns2.halflame.com. A 127.0.53.4
dead.com. NS ns1.dead.com.
dead.com. NS ns2.dead.com.
ns1.dead.com. A 127.0.53.20
ns2.dead.com. A 127.0.53.4
alldead.com. NS ns1.alldead.com.
alldead.com. NS ns2.alldead.com.
ns1.alldead.com. A 127.0.53.21
ns2.alldead.com. A 127.0.53.22
big.com. NS ns.big.com.
ns.big.com. A 127.0.53.4
loop.com. NS ns.loop.edu.
liar.com. NS ns.liar.com.
ns.liar.com. A 127.0.53.30
silent.com. NS ns.silent.com.
ns.silent.com. A 127.0.53.31
picky.com. NS ns.picky.com.
ns.picky.com. A 127.0.53.32
twospeed.com. NS ns1.twospeed.com.
twospeed.com. NS ns2.twospeed.com.
ns1.twospeed.com. A 127.0.53.33
ns2.twospeed.com. A 127.0.53.34
childdead.com. NS ns.childdead.com.
ns.childdead.com. A 127.0.53.4
sibling.com. NS ns1.sibling.com.
ns1.sibling.com. A 127.0.53.4
ns.sibling.com. A 127.0.53.21
parentstale.com. NS ns.sibling.com.
badref.com. NS ns.badref.com.
ns.badref.com. A 127.0.53.37
movedns.com. NS old.movedns.com.
movedns.com. NS ns1.movedns.com.
old.movedns.com. A 127.0.53.36
ns1.movedns.com. A 127.0.53.4
brokenchild.com. NS ns1.brokenchild.com.
ns1.brokenchild.com. A 127.0.53.4
upaa.com. NS ns1.upaa.com.
upaa.com. NS ns2.upaa.com.
ns1.upaa.com. A 127.0.53.38
ns2.upaa.com. A 127.0.53.4
allupaa.com. NS ns.allupaa.com.
ns.allupaa.com. A 127.0.53.38
offtype.com. NS ns.offtype.com.
ns.offtype.com. A 127.0.53.39
badglue.com. NS ns1.badglue.com.
badglue.com. NS ns2.badglue.com.
badglue.com. NS ns3.badglue.com.
badglue.com. NS ns4.badglue.com.
ns1.badglue.com. A 0.0.0.0
ns2.badglue.com. A 127.255.255.255
ns3.badglue.com. A 255.255.255.255
ns4.badglue.com. A 127.0.53.4
trap.com. NS ns.trap.com.
ns.trap.com. A 127.0.53.40
",
    ),
    (
        "edu",
        "$TTL 3600
edu. SOA ns.edu. admin.edu. 1 3600 600 86400 300
edu. NS ns.edu.
ns.edu. A 127.0.53.3
umass.edu. NS ns.umass.edu.
ns.umass.edu. A 127.0.53.6
loop.edu. NS ns.loop.com.
usesdead.edu. NS ns.childdead.com.
gluekept.edu. NS ns.badref.com.
trapns.edu. NS ns.trapped.com.
badns.edu. NS zero-ns.example.com.
badns.edu. NS bcast-ns.example.com.
",
    ),
    (
        "example.com",
        "$TTL 300
@ SOA ns1 admin 1 3600 600 86400 60
@ NS ns1
@ NS ns2
ns1 A 127.0.53.4
ns2 A 127.0.53.5
www A 192.0.2.1
mail A 192.0.2.2
short 2 A 192.0.2.3
alias CNAME www.cs.umass.edu.
loop1 CNAME loop2
loop2 CNAME loop1
*.wild A 192.0.2.99
moved DNAME umass.edu.
zero 0 A 192.0.2.77
MiXeD A 192.0.2.78
zero-ns A 0.0.0.0
bcast-ns A 255.255.255.255
",
    ),
    (
        "umass.edu",
        "$TTL 300
@ SOA ns admin 1 3600 600 86400 60
@ NS ns
ns A 127.0.53.6
www A 192.0.2.20
cs NS ns.cs
cs DS 12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE5F1E5B0E9F0E5A2B3C4D5E6F
ns.cs A 127.0.53.8
",
    ),
    (
        "cs.umass.edu",
        "$TTL 300
@ SOA ns admin 1 3600 600 86400 60
@ NS ns
ns A 127.0.53.8
www A 192.0.2.30
ns6 AAAA ::ffff:127.0.53.8
",
    ),
    (
        "glueless.com",
        "$TTL 300
@ SOA ns.cs.umass.edu. admin 1 3600 600 86400 60
@ NS ns.cs.umass.edu.
www A 192.0.2.40
",
    ),
    (
        "v6only.com",
        "$TTL 300
@ SOA ns6.cs.umass.edu. admin 1 3600 600 86400 60
@ NS ns6.cs.umass.edu.
www A 192.0.2.70
",
    ),
    (
        "halflame.com",
        "$TTL 300
@ SOA ns2 admin 1 3600 600 86400 60
@ NS ns1
@ NS ns2
ns1 A 127.0.53.9
ns2 A 127.0.53.4
www A 192.0.2.50
",
    ),
    (
        "dead.com",
        "$TTL 300
@ SOA ns2 admin 1 3600 600 86400 60
@ NS ns1
@ NS ns2
ns1 A 127.0.53.20
ns2 A 127.0.53.4
www A 192.0.2.60
",
    ),
    (
        "childdead.com",
        "$TTL 300
@ SOA ns admin 1 3600 600 86400 60
@ NS ns
ns A 127.0.53.20
www A 192.0.2.81
",
    ),
    (
        "usesdead.edu",
        "$TTL 300
@ SOA ns.childdead.com. admin 1 3600 600 86400 60
@ NS ns.childdead.com.
www A 192.0.2.82
",
    ),
    (
        "sibling.com",
        "$TTL 300
@ SOA ns1 admin 1 3600 600 86400 60
@ NS ns1
ns1 A 127.0.53.4
ns A 127.0.53.4
",
    ),
    (
        "parentstale.com",
        "$TTL 300
@ SOA ns.sibling.com. admin 1 3600 600 86400 60
@ NS ns.sibling.com.
www A 192.0.2.83
",
    ),
    (
        "movedns.com",
        "$TTL 300
@ SOA ns1 admin 1 3600 600 86400 60
@ NS ns2
ns1 A 127.0.53.4
ns2 A 127.0.53.41
* A 192.0.2.84
",
    ),
    (
        "brokenchild.com",
        "$TTL 300
@ SOA ns1 admin 1 3600 600 86400 60
@ NS gone
gone A 127.0.53.23
www A 192.0.2.85
",
    ),
    (
        "upaa.com",
        "$TTL 300
@ SOA ns2 admin 1 3600 600 86400 60
@ NS ns1
@ NS ns2
ns1 A 127.0.53.38
ns2 A 127.0.53.4
www A 192.0.2.86
",
    ),
    (
        "badglue.com",
        "$TTL 300
@ SOA ns4 admin 1 3600 600 86400 60
@ NS ns4
ns4 A 127.0.53.4
www A 192.0.2.87
",
    ),
    (
        "trapped.com",
        "$TTL 300
@ SOA ns admin 1 3600 600 86400 60
@ NS ns
ns A 127.0.53.40
",
    ),
    (
        "nothing.org",
        "$TTL 300
@ SOA ns admin 1 3600 600 86400 60
@ NS ns
ns A 127.0.53.9
",
    ),
];

/// Which server (last octet of 127.0.53.x) serves which zone files.
const SERVERS: &[(u8, &[&str])] = &[
    (1, &["root"]),
    (2, &["com"]),
    (3, &["edu"]),
    (
        4,
        &[
            "example.com",
            "halflame.com",
            "dead.com",
            "big.com",
            "childdead.com",
            "usesdead.edu",
            "sibling.com",
            "parentstale.com",
            "movedns.com",
            "brokenchild.com",
            "upaa.com",
            "badglue.com",
            "trapped.com",
        ],
    ),
    (5, &["example.com"]),
    (6, &["umass.edu"]),
    (8, &["cs.umass.edu", "glueless.com", "v6only.com"]),
    // Lame for lame.com and halflame.com: it serves neither (REFUSED).
    (9, &["nothing.org"]),
];

/// The lying server's address (last octet); see [`liar_reply`].
const LIAR: u8 = 30;
/// The server refusing minimised queries; see [`picky_reply`].
const PICKY: u8 = 32;
/// A server that never answers (its socket is open but never read).
const SILENT: u8 = 31;
/// twospeed.com's servers: one refuses every query at once (lame), the
/// other answers every name after [`SLOW`]; see
/// [`a_fast_lame_server_stays_known_as_lame`].
const FAST_LAME: u8 = 33;
const SLOW_GOOD: u8 = 34;
/// How long twospeed.com's good server takes to answer.
const SLOW: Duration = Duration::from_millis(50);
/// movedns.com's old server, which only its parent still lists: silent.
const OLD_NS: u8 = 36;
/// ns.badref.com: serves gluekept.edu, and refers every other question
/// upwards to the root (a broken badref.com).
const BAD_REFERRER: u8 = 37;
/// A server claiming authority (AA=1) with the root's NS set and no SOA
/// for every question: lame for upaa.com and allupaa.com.
const AA_UPWARD: u8 = 38;
/// offtype.com's server: answers every question with an A record.
const OFF_TYPE: u8 = 39;
/// The address trap.com and trapped.com point at: counts, and refuses.
const VICTIM: u8 = 40;
/// movedns.com's new server, in the child's NS set only.
const MOVED_NS: u8 = 41;
/// Every scripted server, by last octet.
const CUSTOM: [u8; 11] = [
    LIAR,
    SILENT,
    PICKY,
    FAST_LAME,
    SLOW_GOOD,
    OLD_NS,
    BAD_REFERRER,
    AA_UPWARD,
    OFF_TYPE,
    VICTIM,
    MOVED_NS,
];
/// The index in [`Hits`] of the socket on 127.0.0.1 at the lab's port:
/// what the resolver would send to 0.0.0.0 arrives there (Linux delivers
/// the unspecified address to the host itself).
const CATCHER: u8 = 0;

/// TXT records making big.com's answer larger than 1232 bytes.
fn big_zone() -> String {
    let mut text =
        String::from("$TTL 300\n@ SOA ns admin 1 3600 600 86400 60\n@ NS ns\nns A 127.0.53.4\n");
    for i in 0..40 {
        text.push_str(&format!(
            "www TXT \"record {i:02} padding padding padding padding padding\"\n"
        ));
    }
    text
}

/// The running hierarchy, shared by every test in this module.
struct Lab {
    port: u16,
    runtime: Runtime,
    /// The scripted servers and the catcher.
    _custom: Vec<FakeUdp>,
    /// Queries they received.
    hits: Arc<Hits>,
}

/// Queries received by each scripted server, by last octet ([`CATCHER`]
/// for the catcher). Each test process has its lab, so only that test's
/// queries count.
struct Hits([AtomicU64; 64]);

impl Hits {
    fn new() -> Hits {
        Hits(std::array::from_fn(|_| AtomicU64::new(0)))
    }

    /// Queries received so far by the server at 127.0.53.`last`.
    fn at(&self, last: u8) -> u64 {
        self.0
            .get(usize::from(last))
            .map_or(0, |hits| hits.load(Ordering::Relaxed))
    }
}

fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(start_lab)
}

fn server_addr(last: u8, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 53, last)), port)
}

/// The lab's zone files in a fresh scratch directory. Servers hold their
/// zones in memory once loaded: the directory may go after that.
fn write_zones() -> ScratchDir {
    let dir = ScratchDir::new("resolver-lab");
    for (file, text) in ZONES {
        fs::write(zone_path(&dir, file), text).expect("write zone");
    }
    fs::write(zone_path(&dir, "big.com"), big_zone()).expect("write zone");
    dir
}

fn zone_path(dir: &ScratchDir, file: &str) -> PathBuf {
    dir.join(format!("{file}.zone"))
}

fn start_lab() -> Lab {
    let dir = write_zones();
    // Every server shares one port; pick a random one below the ephemeral
    // range and try another if any address has it taken.
    let (port, servers, mut custom) =
        on_a_random_port("the lab hierarchy", |port| match bind_lab(port, &dir) {
            Ok((servers, custom)) => {
                let catcher = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).ok()?;
                let mut custom = custom;
                custom.push((CATCHER, catcher));
                Some((port, servers, custom))
            }
            Err(TransportError::Bind { source, .. })
                if source.kind() == std::io::ErrorKind::AddrInUse =>
            {
                None
            }
            Err(e) => panic!("cannot start the lab hierarchy: {e}"),
        });
    let runtime = serve_lab(servers);
    let (custom, hits) = serve_custom(std::mem::take(&mut custom));
    Lab {
        port,
        runtime,
        _custom: custom,
        hits,
    }
}

/// Serves the scripted servers' sockets (see [`respond`]) until the
/// returned servers are dropped, counting what each receives.
fn serve_custom(sockets: Vec<(u8, std::net::UdpSocket)>) -> (Vec<FakeUdp>, Arc<Hits>) {
    let hits = Arc::new(Hits::new());
    let servers = sockets
        .into_iter()
        .map(|(last, socket)| {
            let hits = Arc::clone(&hits);
            custom_server(socket, move |query, reply| {
                if let Some(count) = hits.0.get(usize::from(last)) {
                    count.fetch_add(1, Ordering::Relaxed);
                }
                respond(last, query, reply)
            })
        })
        .collect();
    (servers, hits)
}

/// What the scripted server at 127.0.53.`last` makes of `query`.
fn respond(last: u8, query: &Message, reply: &mut Message) -> Option<()> {
    let asked = query.queries.first()?;
    let a = |last: u8| RData::A(A::new(192, 0, 2, last));
    match last {
        LIAR => liar_reply(query, reply),
        PICKY => picky_reply(query, reply),
        FAST_LAME | VICTIM => {
            reply.metadata.authoritative = false;
            reply.metadata.response_code = ResponseCode::Refused;
            Some(())
        }
        SLOW_GOOD => {
            std::thread::sleep(SLOW);
            reply.add_answer(Record::from_rdata(asked.name.clone(), 300, a(80)));
            Some(())
        }
        BAD_REFERRER if name("gluekept.edu.").zone_of(&asked.name) => {
            reply.add_answer(Record::from_rdata(asked.name.clone(), 300, a(90)));
            Some(())
        }
        BAD_REFERRER | AA_UPWARD => {
            reply.metadata.authoritative = last == AA_UPWARD;
            let root_ns = RData::NS(hickory_proto::rr::rdata::NS(name("ns.root.")));
            reply.add_authority(Record::from_rdata(name("."), 3600, root_ns));
            Some(())
        }
        OFF_TYPE => {
            reply.add_answer(Record::from_rdata(asked.name.clone(), 300, a(91)));
            if asked.query_type != RecordType::A {
                reply.add_authority(offtype_soa());
            }
            Some(())
        }
        // Its own address as its zone gives it; 192.0.2.88 for any other
        // name (the zone's copy at ns1 says 192.0.2.84).
        MOVED_NS if asked.name == name("ns2.movedns.com.") => {
            let own = RData::A(A::new(127, 0, 53, MOVED_NS));
            reply.add_answer(Record::from_rdata(asked.name.clone(), 300, own));
            Some(())
        }
        MOVED_NS => {
            reply.add_answer(Record::from_rdata(asked.name.clone(), 300, a(88)));
            Some(())
        }
        // SILENT, OLD_NS, the catcher: read and never answer.
        _ => None,
    }
}

/// offtype.com's SOA (negative TTL 60).
fn offtype_soa() -> Record {
    let soa = hickory_proto::rr::rdata::SOA::new(
        name("ns.offtype.com."),
        name("admin.offtype.com."),
        1,
        3600,
        600,
        86400,
        60,
    );
    Record::from_rdata(name("offtype.com."), 300, RData::SOA(soa))
}

type Handlers = Vec<(Server, std::sync::Arc<dyn Handler>)>;

/// Serves the bound lab servers until the returned runtime is dropped.
fn serve_lab(servers: Handlers) -> Runtime {
    let runtime = test_runtime();
    for (server, handler) in servers {
        runtime.spawn(server.run(handler, std::future::pending()));
    }
    runtime
}

/// The scripted servers' sockets, by last octet.
type CustomSockets = Vec<(u8, std::net::UdpSocket)>;

/// Binds every lab address on `port`: the authoritative servers, and the
/// scripted servers' sockets ([`CUSTOM`]).
/// The zone files are read from `zones` (see [`write_zones`]).
fn bind_lab(port: u16, zones: &ScratchDir) -> Result<(Handlers, CustomSockets), TransportError> {
    let raw = |last: u8| {
        let addr = server_addr(last, port);
        std::net::UdpSocket::bind(addr).map_err(|source| TransportError::Bind {
            addr,
            protocol: dnslab_transport::Protocol::Udp,
            source,
        })
    };
    let custom = CUSTOM
        .iter()
        .map(|&last| Ok((last, raw(last)?)))
        .collect::<Result<CustomSockets, TransportError>>()?;
    let mut bound = Vec::new();
    for (last, files) in SERVERS {
        let sources = files
            .iter()
            .map(|file| ZoneSource {
                origin: Some(name(&if *file == "root" {
                    ".".to_string()
                } else {
                    format!("{file}.")
                })),
                path: zone_path(zones, file),
            })
            .collect();
        let auth = AuthServer::load(sources, AuthOptions::default())
            .unwrap_or_else(|e| panic!("lab zones for 127.0.53.{last} load: {e}"));
        let mut config = ServerConfig::new(vec![server_addr(*last, port)]);
        // Two cores are shared by every test running in parallel.
        config.udp_workers = 1;
        bound.push((Server::bind(config)?, auth.handler()));
    }
    Ok((bound, custom))
}

/// A custom UDP server: `respond` turns each query into a reply
/// (`None`: no reply). Replies are authoritative and echo the question.
fn custom_server(
    socket: std::net::UdpSocket,
    respond: impl Fn(&Message, &mut Message) -> Option<()> + Send + 'static,
) -> FakeUdp {
    FakeUdp::spawn(socket, move |query, peer, socket| {
        let mut reply = response_to(query, ResponseCode::NoError);
        if respond(query, &mut reply).is_none() {
            return;
        }
        if let Ok(bytes) = reply.to_bytes() {
            let _ = socket.send_to(&bytes, peer);
        }
    })
}

/// The liar claims authority for anything it is asked and slips in an A
/// record for www.example.com pointing at 6.6.6.6, in the answer and the
/// additional section: out of its bailiwick, so never to be believed.
fn liar_reply(query: &Message, reply: &mut Message) -> Option<()> {
    let asked = query.queries.first()?;
    reply.add_answer(Record::from_rdata(
        asked.name.clone(),
        300,
        RData::A(A::new(192, 0, 2, 66)),
    ));
    let lie = Record::from_rdata(name("www.example.com."), 3600, RData::A(A::new(6, 6, 6, 6)));
    reply.add_answer(lie.clone());
    reply.add_additional(lie);
    Some(())
}

/// The picky server (for picky.com) knows only a.b.picky.com and answers
/// REFUSED to any other name, as some broken servers do for the empty
/// non-terminals a minimised query asks about.
fn picky_reply(query: &Message, reply: &mut Message) -> Option<()> {
    let asked = query.queries.first()?;
    if asked.name == name("a.b.picky.com.") {
        reply.add_answer(Record::from_rdata(
            asked.name.clone(),
            300,
            RData::A(A::new(192, 0, 2, 77)),
        ));
    } else {
        reply.metadata.authoritative = false;
        reply.metadata.response_code = ResponseCode::Refused;
    }
    Some(())
}

/// A configuration rooted in the lab's root server.
fn lab_config() -> ResolverConfig {
    ResolverConfig {
        root_hints: vec![(name("ns.root."), IpAddr::V4(Ipv4Addr::new(127, 0, 53, 1)))],
        upstream_port: lab().port,
        ..ResolverConfig::default()
    }
}

/// A resolver with an empty cache serving on 127.0.0.1 port 0.
struct TestResolver {
    addr: SocketAddr,
    resolver: Resolver,
    _running: Running,
}

impl TestResolver {
    fn new() -> TestResolver {
        TestResolver::with(|_| {})
    }

    fn with(adjust: impl FnOnce(&mut ResolverConfig)) -> TestResolver {
        let mut config = lab_config();
        adjust(&mut config);
        let resolver = Resolver::new(config);
        let running = serve(resolver.handler(), loopback_config());
        TestResolver {
            addr: running.addr,
            resolver,
            _running: running,
        }
    }

    /// Asks with RD=1 over UDP.
    fn ask(&self, qname: &str, qtype: RecordType) -> Message {
        udp(self.addr, &Ask::new(qname, qtype).rd())
    }

    fn queries(&self) -> u64 {
        self.resolver.stats().upstream_queries
    }
}

/// Checks a recursive answer: rcode, RA=1, AA=0, TC=0, and the answer and
/// authority sections.
fn assert_answer(msg: &Message, rcode: ResponseCode, answers: &[&str], authorities: &[&str]) {
    assert_eq!(msg.metadata.response_code, rcode, "rcode of {msg:?}");
    assert_recursive_header(msg, &format!("{:?}", msg.queries));
    assert_eq!(
        section_without_ttl(&msg.answers),
        lines(answers),
        "answer section"
    );
    assert_eq!(
        section_without_ttl(&msg.authorities),
        lines(authorities),
        "authority section"
    );
}

impl TestResolver {
    /// Asks `qname` with RD=1 over UDP, checks the response as
    /// [`assert_answer`] does, and returns it with the number of upstream
    /// queries it cost.
    fn expect(
        &self,
        qname: &str,
        qtype: RecordType,
        rcode: ResponseCode,
        answers: &[&str],
        authorities: &[&str],
    ) -> (Message, u64) {
        let before = self.queries();
        let msg = self.ask(qname, qtype);
        assert_answer(&msg, rcode, answers, authorities);
        (msg, self.queries() - before)
    }

    /// [`expect`](Self::expect), then the same question again, which must
    /// be answered alike from the cache without any upstream query. Returns
    /// the first response and its cost.
    fn expect_then_cached(
        &self,
        qname: &str,
        qtype: RecordType,
        rcode: ResponseCode,
        answers: &[&str],
        authorities: &[&str],
    ) -> (Message, u64) {
        let first = self.expect(qname, qtype, rcode, answers, authorities);
        let (_, cost) = self.expect(qname, qtype, rcode, answers, authorities);
        assert_eq!(cost, 0, "a repeated question asks no one");
        first
    }
}

const EXAMPLE_SOA: &str =
    "example.com. SOA ns1.example.com. admin.example.com. 1 3600 600 86400 60";
const WWW_EXAMPLE: &str = "www.example.com. A 192.0.2.1";
const WWW_CS: &str = "www.cs.umass.edu. A 192.0.2.30";
const ALIAS: &str = "alias.example.com. CNAME www.cs.umass.edu.";

/// The first lookup walks root, com and example.com (one query each); the
/// same question again is answered from the cache with no query at all.
#[test]
fn cold_lookup_walks_root_tld_authoritative_then_cache_answers() {
    let r = TestResolver::new();
    let www = ("www.example.com.", RecordType::A);
    let (_, cost) = r.expect_then_cached(www.0, www.1, NoError, &[WWW_EXAMPLE], &[]);
    assert_eq!(cost, 3, "root, com, example.com");
    assert!(r.ask(www.0, www.1).answers[0].ttl <= 300, "TTL counts down");
}

/// The delegation to example.com is cached: a sibling name goes straight
/// to example.com's servers.
#[test]
fn sibling_name_skips_root_and_tld() {
    let r = TestResolver::new();
    r.expect(
        "www.example.com.",
        RecordType::A,
        NoError,
        &[WWW_EXAMPLE],
        &[],
    );
    let (_, cost) = r.expect(
        "mail.example.com.",
        RecordType::A,
        NoError,
        &["mail.example.com. A 192.0.2.2"],
        &[],
    );
    assert_eq!(cost, 1);
}

/// A 2-second TTL runs out (the cache's clock, frozen, jumps 2 s): the
/// next question asks example.com again (and only it, the delegation being
/// still cached).
#[test]
fn expired_ttl_is_asked_again() {
    let r = TestResolver::with(|c| c.clock = Clock::frozen());
    let short = ["short.example.com. A 192.0.2.3"];
    let (msg, _) = r.expect("short.example.com.", RecordType::A, NoError, &short, &[]);
    assert_eq!(msg.answers[0].ttl, 2);
    r.resolver
        .config()
        .clock
        .jump_forward(Duration::from_secs(2));
    let (_, cost) = r.expect("short.example.com.", RecordType::A, NoError, &short, &[]);
    assert_eq!(cost, 1);
}

/// NXDOMAIN comes with the zone's SOA and is cached (RFC 2308): the second
/// time nobody is asked, whatever the type.
#[test]
fn nxdomain_is_cached() {
    let r = TestResolver::new();
    let nope = ("nope.example.com.", RecordType::A);
    let (msg, _) = r.expect_then_cached(nope.0, nope.1, NXDomain, &[], &[EXAMPLE_SOA]);
    assert!(
        msg.authorities[0].ttl <= 60,
        "negative TTL is the SOA minimum"
    );
    let (_, cost) = r.expect(nope.0, RecordType::AAAA, NXDomain, &[], &[EXAMPLE_SOA]);
    assert_eq!(cost, 0, "NXDOMAIN holds for every type of the name");
}

/// NODATA (the name exists, the type does not) is cached the same way.
#[test]
fn nodata_is_cached() {
    let r = TestResolver::new();
    r.expect_then_cached(
        "www.example.com.",
        RecordType::MX,
        NoError,
        &[],
        &[EXAMPLE_SOA],
    );
}

/// A CNAME into another TLD: the resolver restarts at the target and the
/// client gets the chain and the final record; the whole chain is cached.
#[test]
fn cname_across_zones_is_followed() {
    let r = TestResolver::new();
    let alias = ("alias.example.com.", RecordType::A);
    let (_, cost) = r.expect_then_cached(alias.0, alias.1, NoError, &[ALIAS, WWW_CS], &[]);
    // root, com, example.com; then root (edu), edu, umass.edu, cs.umass.edu.
    assert_eq!(cost, 7);
}

/// moved.example.com has a DNAME to umass.edu (RFC 6672): the answer keeps
/// the DNAME before the CNAME its server synthesised, as Unbound's does,
/// also when the chain comes from the cache for another type; and another
/// name below it is synthesised from the cached DNAME, as by Unbound,
/// without asking example.com's servers.
#[test]
fn dname_is_kept_before_its_synthesised_cname() {
    let r = TestResolver::new();
    const DNAME: &str = "moved.example.com. DNAME BXVtYXNzA2VkdQA="; // umass.edu. on the wire
    const CNAME: &str = "www.moved.example.com. CNAME www.umass.edu.";
    let www = "www.moved.example.com.";
    let (_, cost) = r.expect_then_cached(
        www,
        RecordType::A,
        NoError,
        &[DNAME, CNAME, "www.umass.edu. A 192.0.2.20"],
        &[],
    );
    // root, com, example.com twice (moved.example.com minimised, then the
    // full name); then root (edu), edu, umass.edu.
    assert_eq!(cost, 7);
    // AAAA: the chain from the cache, NODATA from umass.edu's server.
    let (_, cost) = r.expect(
        www,
        RecordType::AAAA,
        NoError,
        &[DNAME, CNAME],
        &["umass.edu. SOA ns.umass.edu. admin.umass.edu. 1 3600 600 86400 60"],
    );
    assert_eq!(cost, 1);
    let (_, cost) = r.expect(
        "mail.moved.example.com.",
        RecordType::A,
        NXDomain,
        &[DNAME, "mail.moved.example.com. CNAME mail.umass.edu."],
        &["umass.edu. SOA ns.umass.edu. admin.umass.edu. 1 3600 600 86400 60"],
    );
    assert_eq!(cost, 1, "only umass.edu's server is asked");
}

/// edu -> umass.edu -> cs.umass.edu: three referrals below the root.
#[test]
fn three_level_delegation_chain() {
    let r = TestResolver::new();
    let (_, cost) = r.expect("www.cs.umass.edu.", RecordType::A, NoError, &[WWW_CS], &[]);
    assert_eq!(cost, 4);
    let (_, cost) = r.expect(
        "www.umass.edu.",
        RecordType::A,
        NoError,
        &["www.umass.edu. A 192.0.2.20"],
        &[],
    );
    assert_eq!(cost, 1, "umass.edu's servers are known by now");
}

/// glueless.com's server is ns.cs.umass.edu, for which com has no glue:
/// the resolver looks its address up from the root (RFC 1034 5.3.3).
#[test]
fn glueless_delegation_resolves_the_server_address() {
    let r = TestResolver::new();
    let (_, cost) = r.expect(
        "www.glueless.com.",
        RecordType::A,
        NoError,
        &["www.glueless.com. A 192.0.2.40"],
        &[],
    );
    // root, com; for ns.cs.umass.edu: root, edu, umass.edu, cs.umass.edu;
    // then the glueless.com server itself.
    assert_eq!(cost, 7);
}

/// DS is the parent's data (RFC 4035 4.2): cs.umass.edu DS is asked of
/// umass.edu's server, which holds it, not of cs.umass.edu's; a name with
/// no DS gets the NODATA of the zone above it.
#[test]
fn ds_is_asked_of_the_parent_zone() {
    let r = TestResolver::new();
    let (_, cost) = r.expect(
        "cs.umass.edu.",
        RecordType::DS,
        NoError,
        // The zone's DS, as hickory shows data it keeps opaque (base64).
        &["cs.umass.edu. DS MDkIAkn9RubEtFxV1Kxpy9PNNKwa/lHeXx5bDp8OWis8TV5v"],
        &[],
    );
    // root, edu (both minimised), then umass.edu with the DS question.
    assert_eq!(cost, 3);
    let (_, cost) = r.expect(
        "umass.edu.",
        RecordType::DS,
        NoError,
        &[],
        &["edu. SOA ns.edu. admin.edu. 1 3600 600 86400 300"],
    );
    assert_eq!(cost, 1, "edu's server, known by now");
}

/// v6only.com's server, ns6.cs.umass.edu, has an IPv6 address only (an
/// IPv4-mapped one, so that the lab needs no IPv6 listener): after the A
/// lookup finds none, the resolver asks for AAAA and reaches it.
#[test]
fn glueless_server_with_only_an_ipv6_address_is_reached() {
    let r = TestResolver::new();
    let (_, cost) = r.expect(
        "www.v6only.com.",
        RecordType::A,
        NoError,
        &["www.v6only.com. A 192.0.2.70"],
        &[],
    );
    // root, com; for ns6.cs.umass.edu A: root, edu, umass.edu,
    // cs.umass.edu (no A); its AAAA: cs.umass.edu; then the v6only.com
    // server itself.
    assert_eq!(cost, 8);
}

/// A generous bound for "promptly" on a busy two-core machine, below the
/// default 5-second budget of a resolution.
const PROMPTLY: Duration = Duration::from_secs(4);

/// Asks, checks, and fails if the answer took `limit` or longer.
fn expect_within(
    r: &TestResolver,
    qname: &str,
    rcode: ResponseCode,
    answers: &[&str],
    limit: Duration,
) {
    let started = Instant::now();
    r.expect(qname, RecordType::A, rcode, answers, &[]);
    let took = started.elapsed();
    assert!(took < limit, "{qname} took {took:?}");
}

/// One of dead.com's two servers has nothing listening: the other answers
/// promptly.
#[test]
fn one_dead_server_the_other_answers() {
    let r = TestResolver::new();
    expect_within(
        &r,
        "www.dead.com.",
        NoError,
        &["www.dead.com. A 192.0.2.60"],
        PROMPTLY,
    );
}

/// Every server of alldead.com is dead: SERVFAIL, within the time limit.
#[test]
fn all_servers_dead_is_servfail_in_bounded_time() {
    let r = TestResolver::new();
    expect_within(&r, "www.alldead.com.", ServFail, &[], PROMPTLY);
}

/// lame.com's only server does not serve it (REFUSED): SERVFAIL.
#[test]
fn lame_delegation_is_servfail() {
    let r = TestResolver::new();
    r.expect("www.lame.com.", RecordType::A, ServFail, &[], &[]);
}

/// halflame.com has one lame and one good server: the good one answers
/// whichever is tried first.
#[test]
fn lame_server_is_skipped_for_the_other() {
    let r = TestResolver::new();
    r.expect(
        "www.halflame.com.",
        RecordType::A,
        NoError,
        &["www.halflame.com. A 192.0.2.50"],
        &[],
    );
}

/// twospeed.com has two servers: ns1 answers REFUSED at once (it does not
/// serve the zone), ns2 answers after 50 ms. Both are new at first, so the
/// first misses try them in random order until ns1 has answered once;
/// from then on ns1 is known as lame for twospeed.com (for 15 minutes, as
/// Unbound keeps a lame server), and every later miss in the zone goes to
/// ns2 first: one upstream query each, and none to ns1. When a lame
/// answer counted as a good round-trip time, the fast REFUSED put ns1
/// first for every miss: two queries each, half of them wasted.
#[test]
fn a_fast_lame_server_stays_known_as_lame() {
    let r = TestResolver::new();
    let hits = &lab().hits;
    let received = || (hits.at(FAST_LAME), hits.at(SLOW_GOOD));
    let answer = |i: u32| format!("n{i}.twospeed.com. A 192.0.2.80");
    let mut i = 0;
    while received().0 == 0 {
        assert!(
            i < 2,
            "the unknown lame server was asked by the second miss"
        );
        r.expect(
            &format!("n{i}.twospeed.com."),
            RecordType::A,
            NoError,
            &[&answer(i)],
            &[],
        );
        i += 1;
    }
    let (lame, good) = received();
    assert_eq!(lame, 1, "one lame answer so far");
    for i in i..i + 5 {
        let qname = format!("n{i}.twospeed.com.");
        let (_, cost) = r.expect(&qname, RecordType::A, NoError, &[&answer(i)], &[]);
        assert_eq!(cost, 1, "{qname}: the good server first, and only it");
    }
    assert_eq!(
        received(),
        (lame, good + 5),
        "(lame, good) queries: later misses all go to the good server"
    );
}

/// big.com's TXT set does not fit 1232 bytes: the server truncates, the
/// resolver retries over TCP and gets all 40 records; a UDP client without
/// EDNS gets TC=1 from us and all of it over TCP.
#[test]
fn truncated_upstream_answer_is_fetched_over_tcp() {
    let r = TestResolver::new();
    let over_udp = r.ask("www.big.com.", RecordType::TXT);
    assert_eq!(over_udp.metadata.response_code, NoError);
    assert!(over_udp.metadata.truncation, "too big for 512 bytes: TC=1");
    assert!(over_udp.answers.is_empty());
    assert_eq!(r.queries(), 3, "root, com, big.com (UDP then TCP)");
    let over_tcp = tcp(r.addr, &Ask::new("www.big.com.", RecordType::TXT).rd());
    assert_eq!(over_tcp.metadata.response_code, NoError);
    assert_recursive_header(&over_tcp, "www.big.com./TXT over TCP");
    assert_eq!(over_tcp.answers.len(), 40);
    assert!(over_tcp
        .answers
        .iter()
        .all(|r| r.name == name("www.big.com.") && r.record_type() == RecordType::TXT));
    assert_eq!(r.queries(), 3, "the second answer came from the cache");
}

/// loop1 -> loop2 -> loop1: SERVFAIL, promptly.
#[test]
fn cname_loop_is_servfail() {
    let r = TestResolver::new();
    expect_within(&r, "loop1.example.com.", ServFail, &[], PROMPTLY);
}

/// loop.com is served by ns.loop.edu, and loop.edu by ns.loop.com: neither
/// address can ever be found. SERVFAIL, promptly, with a bounded number of
/// queries.
#[test]
fn ns_loop_is_servfail() {
    let r = TestResolver::new();
    expect_within(&r, "www.loop.com.", ServFail, &[], PROMPTLY);
    assert!(r.queries() <= 64);
}

/// liar.com's server adds www.example.com A 6.6.6.6 to its answers. Its
/// own answer is used, the lie is neither served nor cached: asking for
/// www.example.com afterwards gets the truth from example.com's servers.
#[test]
fn out_of_bailiwick_records_are_never_cached_or_served() {
    let r = TestResolver::new();
    let (msg, _) = r.expect(
        "www.liar.com.",
        RecordType::A,
        NoError,
        &["www.liar.com. A 192.0.2.66"],
        &[],
    );
    assert!(msg.additionals.is_empty());
    let (_, cost) = r.expect(
        "www.example.com.",
        RecordType::A,
        NoError,
        &[WWW_EXAMPLE],
        &[],
    );
    assert_eq!(cost, 2, "com and example.com's server were asked");
}

/// RD=0 questions are answered from the cache only (as Unbound does): a
/// cached name is answered, an uncached one gets the closest cached
/// delegation, and nobody is asked.
#[test]
fn rd0_is_answered_from_cache_only() {
    let r = TestResolver::new();
    r.expect(
        "www.example.com.",
        RecordType::A,
        NoError,
        &[WWW_EXAMPLE],
        &[],
    );
    let before = r.queries();
    let cached = udp(r.addr, &Ask::new("www.example.com.", RecordType::A));
    assert_answer(&cached, NoError, &[WWW_EXAMPLE], &[]);
    let missing = udp(r.addr, &Ask::new("other.example.com.", RecordType::A));
    let referral = [
        "example.com. NS ns1.example.com.",
        "example.com. NS ns2.example.com.",
    ];
    assert_answer(&missing, NoError, &[], &referral);
    assert_eq!(r.queries(), before);
}

/// Without QNAME minimisation the same walk takes the same number of
/// queries here (every zone is a cut), and gets the same answer.
#[test]
fn full_qname_walk_without_minimisation() {
    let r = TestResolver::with(|c| c.qname_minimisation = false);
    let (_, cost) = r.expect("www.cs.umass.edu.", RecordType::A, NoError, &[WWW_CS], &[]);
    assert_eq!(cost, 4);
}

/// Clients outside the allow list are REFUSED without any resolution.
#[test]
fn clients_outside_the_allow_list_are_refused() {
    let allow: Cidr = "10.0.0.0/8".parse().expect("cidr");
    let r = TestResolver::with(|c| c.allow = vec![allow]);
    let (_, cost) = r.expect(
        "www.example.com.",
        RecordType::A,
        ResponseCode::Refused,
        &[],
        &[],
    );
    assert_eq!(cost, 0);
}

/// The library call used by `dnslab up`: resolve() directly, with a name
/// written without the final dot (still absolute).
#[test]
fn resolve_api_returns_the_chain() {
    let r = TestResolver::new();
    let resolution = lab()
        .runtime
        .block_on(r.resolver.resolve(name("alias.example.com"), RecordType::A))
        .expect("resolves");
    assert_eq!(resolution.rcode, NoError);
    assert_eq!(section_without_ttl(&resolution.answers), [ALIAS, WWW_CS]);
}

/// silent.com's only server never answers: after one upstream timeout the
/// client gets SERVFAIL.
#[test]
fn silent_server_times_out_to_servfail() {
    let r = TestResolver::with(|c| c.limits.upstream_timeout = Duration::from_millis(300));
    expect_within(&r, "www.silent.com.", ServFail, &[], PROMPTLY);
}

/// The total time limit ends a resolution even while waiting on a server
/// that would be given longer.
#[test]
fn total_time_limit_is_servfail_promptly() {
    let r = TestResolver::with(|c| {
        c.limits.upstream_timeout = Duration::from_secs(30);
        c.limits.total_time = Duration::from_millis(500);
    });
    expect_within(&r, "www.silent.com.", ServFail, &[], PROMPTLY);
}

/// Past the upstream query budget the answer is SERVFAIL, and no further
/// query is sent.
#[test]
fn query_budget_is_enforced() {
    let r = TestResolver::with(|c| c.limits.max_upstream_queries = 2);
    let (_, cost) = r.expect("www.example.com.", RecordType::A, ServFail, &[], &[]);
    assert_eq!(cost, 2);
}

/// A CNAME chain longer than the limit is SERVFAIL.
#[test]
fn cname_chain_limit_is_enforced() {
    let r = TestResolver::with(|c| c.limits.max_cname_chain = 0);
    r.expect("alias.example.com.", RecordType::A, ServFail, &[], &[]);
}

/// Identical questions in flight at once share one resolution.
#[test]
fn identical_questions_in_flight_share_one_walk() {
    let r = TestResolver::new();
    let www = || r.resolver.resolve(name("www.example.com."), RecordType::A);
    let (first, second) = lab().runtime.block_on(async { tokio::join!(www(), www()) });
    let (first, second) = (first.expect("resolves"), second.expect("resolves"));
    assert_eq!(section_without_ttl(&first.answers), [WWW_EXAMPLE]);
    assert_eq!(section_without_ttl(&second.answers), [WWW_EXAMPLE]);
    assert_eq!(r.queries(), 3, "one walk for both");
}

/// `trace` records each exchange: with QNAME minimisation the root sees
/// only `com.`, com only `example.com.`, and example.com the full name.
#[test]
fn trace_records_each_minimised_step() {
    let config = lab_config();
    let traced = lab()
        .runtime
        .block_on(trace(config, name("www.example.com."), RecordType::A));
    let steps: Vec<(String, String, &str)> = traced
        .responses()
        .map(|e| (e.from.name.clone(), e.qname.clone(), e.kind.as_str()))
        .collect();
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert_eq!(steps[0], ("ns.root.".into(), "com.".into(), "referral"));
    assert_eq!(
        steps[1],
        ("ns.com.".into(), "example.com.".into(), "referral")
    );
    assert_eq!(steps[2].1, "www.example.com.");
    assert_eq!(steps[2].2, "answer");
    let numbers: Vec<u32> = traced.events.iter().map(|e| e.step).collect();
    assert_eq!(
        numbers,
        (1..=8).collect::<Vec<_>>(),
        "question, 3 exchanges, answer"
    );
    let root = server_addr(1, lab().port).to_string();
    assert_eq!(traced.events[1].to.addr.as_deref(), Some(root.as_str()));
    assert_eq!(traced.queries, 3);
    let resolution = traced.result.expect("resolves");
    assert_eq!(section_without_ttl(&resolution.answers), [WWW_EXAMPLE]);
}

/// The lab's root hints as a file for the commands' `--root-hints`, in a
/// scratch directory removed when the test ends.
fn root_hints_file() -> (ScratchDir, PathBuf) {
    let dir = ScratchDir::new("resolver-hints");
    let hints = dir.join("hints");
    fs::write(&hints, ". NS ns.root.\nns.root. A 127.0.53.1\n").expect("write hints");
    (dir, hints)
}

/// `dnslab trace --json` prints one JSON object per step, then the result.
#[test]
fn trace_command_prints_json_lines() {
    let lab = lab();
    let (_dir, hints) = root_hints_file();
    let output = dnslab()
        .args([
            "trace",
            "www.cs.umass.edu",
            "A",
            "--json",
            "--upstream-port",
        ])
        .arg(lab.port.to_string())
        .arg("--root-hints")
        .arg(&hints)
        .env("RUST_LOG", "off")
        .output()
        .expect("run dnslab trace");
    assert!(output.status.success(), "{output:?}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    // The schema of the live page's events: the question, four
    // exchanges (query, response), the answer.
    let kinds: Vec<&str> = lines.iter().filter_map(|l| l["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "query", "query", "referral", "query", "referral", "query", "referral", "query",
            "answer", "answer"
        ]
    );
    let steps: Vec<u64> = lines.iter().filter_map(|l| l["step"].as_u64()).collect();
    assert_eq!(steps, (1..=10).collect::<Vec<_>>());
    assert_eq!(lines[1]["to"]["addr"], format!("127.0.53.1:{}", lab.port));
    assert_eq!(lines[1]["to"]["role"], "root");
    assert_eq!(
        lines[6]["detail"],
        "referral to cs.umass.edu. (ns.cs.umass.edu.)"
    );
    let answer = &lines[9];
    assert_eq!(answer["rcode"], "NOERROR");
    assert_eq!(answer["to"]["role"], "client");
    let records = answer["records"].as_array().expect("records");
    assert_eq!(records.len(), 1);
    assert!(
        records[0]
            .as_str()
            .is_some_and(|a| a.contains("192.0.2.30")),
        "{records:?}"
    );
}

/// picky.com's server refuses the minimised question (b.picky.com): the
/// resolver asks it the full name instead (Unbound's relaxed mode).
#[test]
fn refused_minimised_query_falls_back_to_the_full_name() {
    let r = TestResolver::new();
    let answer = ["a.b.picky.com. A 192.0.2.77"];
    let (_, cost) = r.expect("a.b.picky.com.", RecordType::A, NoError, &answer, &[]);
    assert_eq!(
        cost, 4,
        "root, com, picky (minimised, refused), picky (full)"
    );
}

/// A minimised name that does not exist ends the walk (RFC 8020): nothing
/// below it can exist, so the full name is never sent.
#[test]
fn nxdomain_for_a_minimised_name_ends_the_walk() {
    let r = TestResolver::new();
    let deep = ("a.nope.example.com.", RecordType::A);
    let (_, cost) = r.expect_then_cached(deep.0, deep.1, NXDomain, &[], &[EXAMPLE_SOA]);
    assert_eq!(
        cost, 3,
        "root, com, example.com asked nope.example.com only"
    );
}

/// The lab benchmark's miss phase: fresh names under a wildcard. The first
/// one walks root, com, then asks example.com the minimised
/// `wild.example.com A` (NODATA: an empty non-terminal, no cut) and the full
/// name. Every later name must cost one query: the cached NODATA already
/// proves there is no cut at wild.example.com (RFC 9156 3), where dnslab
/// used to ask it again for each name (2 queries per name; Unbound: 1).
#[test]
fn fresh_name_under_a_cached_wildcard_costs_one_query() {
    let r = TestResolver::new();
    let wild = |label: &str| format!("{label}.wild.example.com. A 192.0.2.99");
    let (_, cold) = r.expect(
        "first.wild.example.com.",
        RecordType::A,
        NoError,
        &[&wild("first")],
        &[],
    );
    assert_eq!(
        cold, 4,
        "root, com, wild.example.com (minimised), full name"
    );
    for label in ["second", "third", "fourth"] {
        let (_, cost) = r.expect_then_cached(
            &format!("{label}.wild.example.com."),
            RecordType::A,
            NoError,
            &[&wild(label)],
            &[],
        );
        assert_eq!(cost, 1, "{label}: only the full name is asked");
    }
    // The minimised step's own answer is served from the cache too.
    let (_, cost) = r.expect(
        "wild.example.com.",
        RecordType::A,
        NoError,
        &[],
        &[EXAMPLE_SOA],
    );
    assert_eq!(cost, 0, "wild.example.com A NODATA was cached");
}

/// The cache is bounded in entries (`--cache-size`): a stream of fresh
/// names, each cached as it is resolved, never makes it hold more than
/// its size, and the resolver keeps answering correctly as it evicts.
#[test]
fn cache_never_holds_more_than_its_configured_entries() {
    const SIZE: usize = 32;
    let r = TestResolver::with(|config| config.cache_size = SIZE);
    for i in 0..200 {
        let label = format!("fresh{i}");
        r.expect(
            &format!("{label}.wild.example.com."),
            RecordType::A,
            NoError,
            &[&format!("{label}.wild.example.com. A 192.0.2.99")],
            &[],
        );
        let stats = r.resolver.stats();
        assert!(
            stats.cached_rrsets <= SIZE && stats.cached_delegations <= SIZE,
            "after {} names the cache holds {} RRsets and {} delegations, more than {SIZE}",
            i + 1,
            stats.cached_rrsets,
            stats.cached_delegations
        );
    }
    assert!(
        r.resolver.stats().cached_rrsets > SIZE / 2,
        "the cache was filled, so the bound was exercised"
    );
}

/// Cache hits after the first are copied from an answer kept encoded
/// (header, question and OPT written per query, TTLs patched): every way
/// of asking the same cached question (UDP or TCP, with or without EDNS,
/// RD=0, in another case) must still get the full answer, with the
/// question echoed as asked, an OPT only when the query had one, and no
/// upstream query.
/// Negative answers (NXDOMAIN with its SOA) take the same path.
#[test]
fn cache_hits_in_every_form_get_the_same_answer() {
    let r = TestResolver::new();
    r.expect(
        "alias.example.com.",
        RecordType::A,
        NoError,
        &[ALIAS, WWW_CS],
        &[],
    );
    r.expect(
        "nope.example.com.",
        RecordType::A,
        NXDomain,
        &[],
        &[EXAMPLE_SOA],
    );
    let before = r.queries();
    for round in 0..3 {
        for (name, rcode, answers, authorities) in [
            ("Alias.EXAMPLE.com.", NoError, &[ALIAS, WWW_CS][..], &[][..]),
            ("alias.example.com.", NoError, &[ALIAS, WWW_CS], &[]),
            ("nope.example.com.", NXDomain, &[], &[EXAMPLE_SOA]),
        ] {
            let no_rd = Ask::new(name, RecordType::A);
            let plain = no_rd.clone().rd();
            let asks = [
                ("udp", udp(r.addr, &plain)),
                ("udp edns", udp(r.addr, &plain.clone().edns(1232))),
                ("udp rd=0", udp(r.addr, &no_rd)),
                ("tcp edns", tcp(r.addr, &plain.clone().edns(4096))),
            ];
            for (how, msg) in asks {
                let context = format!("{name} {how} round {round}");
                assert_answer(&msg, rcode, answers, authorities);
                assert_eq!(msg.queries.len(), 1, "{context}");
                assert_eq!(msg.queries[0].name.to_string(), name, "{context}: as asked");
                assert_eq!(msg.edns.is_some(), how.contains("edns"), "{context}: OPT");
                assert_eq!(
                    msg.metadata.recursion_desired,
                    how != "udp rd=0",
                    "{context}: RD copied"
                );
                let ttls = msg.answers.iter().chain(&msg.authorities).map(|r| r.ttl);
                assert!(ttls.clone().all(|ttl| ttl > 0 && ttl <= 300), "{context}");
            }
        }
    }
    assert_eq!(r.queries(), before, "every one of them a cache hit");
}

/// `dnslab resolver` as a process: serves a client over UDP and TCP from
/// the lab hierarchy given by `--root-hints` and `--upstream-port`.
#[test]
fn resolver_command_serves_clients() {
    let lab = lab();
    let (_dir, hints) = root_hints_file();
    let (addr, _resolver, msg) = on_a_random_port("dnslab resolver", |port| {
        let addr = server_addr(40, port);
        let mut resolver = Process::spawn(
            dnslab()
                .args(["resolver", "--udp-workers", "1", "--listen"])
                .arg(addr.to_string())
                .arg("--root-hints")
                .arg(&hints)
                .arg("--upstream-port")
                .arg(lab.port.to_string())
                .env("RUST_LOG", "off")
                .stderr(std::process::Stdio::null()),
        );
        // Wait until it serves, or exits (the port was taken: try another).
        let msg = resolver.poll(Duration::from_secs(10), || {
            let query = Ask::new("www.example.com.", RecordType::A)
                .rd()
                .to_message();
            udp_message(addr, &query, Duration::from_millis(500))
        })?;
        Some((addr, resolver, msg))
    });
    assert_answer(&msg, NoError, &[WWW_EXAMPLE], &[]);
    let over_tcp = tcp(addr, &Ask::new("www.example.com.", RecordType::A).rd());
    assert_answer(&over_tcp, NoError, &[WWW_EXAMPLE], &[]);
}

/// `--max-ttl` and `--min-ttl` bound the TTLs cached and served.
#[test]
fn ttls_are_clamped_to_the_configured_bounds() {
    let r = TestResolver::with(|c| {
        c.min_ttl = 10;
        c.max_ttl = 100;
    });
    let (www, _) = r.expect(
        "www.example.com.",
        RecordType::A,
        NoError,
        &[WWW_EXAMPLE],
        &[],
    );
    assert_eq!(www.answers[0].ttl, 100, "300 lowered to the maximum");
    let short = ["short.example.com. A 192.0.2.3"];
    let (msg, _) = r.expect("short.example.com.", RecordType::A, NoError, &short, &[]);
    assert_eq!(msg.answers[0].ttl, 10, "2 raised to the minimum");
}
