//! The recursive resolver over a hierarchy of dnslab authoritative servers
//! run in-process: root, com and edu, example.com on two servers, the
//! three-level umass.edu -> cs.umass.edu chain, and the broken corners a
//! resolver must survive (a glueless delegation, a lame server, dead
//! addresses, a truncating zone, a CNAME loop, an NS loop, a lying server).
//!
//! The hierarchy is started once (servers on 127.0.53.x sharing one random
//! port) and shared; every test starts its own resolver with an empty cache
//! on 127.0.0.1 port 0, asks it over real sockets, and checks the RCODE,
//! flags, every section, and how many upstream queries were sent.

use std::fs;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use dnslab_authoritative::{AuthOptions, AuthServer, ZoneSource};
use dnslab_resolver::{Cidr, Resolver, ResolverConfig};
use dnslab_transport::{Handler, Server, ServerConfig, TransportError};
use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use crate::common::{section, tcp, udp, Ask};

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
    (4, &["example.com", "halflame.com", "dead.com", "big.com"]),
    (5, &["example.com"]),
    (6, &["umass.edu"]),
    (8, &["cs.umass.edu", "glueless.com"]),
    // Lame for lame.com and halflame.com: it serves neither (REFUSED).
    (9, &["nothing.org"]),
];

/// The lying server's address (last octet); see [`liar`].
const LIAR: u8 = 30;

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
}

fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(start_lab)
}

fn server_addr(last: u8, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 53, last)), port)
}

fn start_lab() -> Lab {
    let dir = std::env::temp_dir().join(format!("dnslab-resolver-test-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("create zone dir");
    let path = |file: &str| -> PathBuf { dir.join(format!("{file}.zone")) };
    for (file, text) in ZONES {
        fs::write(path(file), text).expect("write zone");
    }
    fs::write(path("big.com"), big_zone()).expect("write zone");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("lab runtime");
    // Every server shares one port; pick a random one below the ephemeral
    // range and try another if any address has it taken.
    for _attempt in 0..20 {
        let port = rand::random_range(10_000..30_000);
        match bind_lab(port, &path) {
            Ok(servers) => {
                for (server, handler) in servers {
                    runtime.spawn(server.run(handler, std::future::pending()));
                }
                let liar = runtime
                    .block_on(tokio::net::UdpSocket::bind(server_addr(LIAR, port)))
                    .expect("bind the liar");
                runtime.spawn(liar_loop(liar));
                return Lab { port, runtime };
            }
            Err(TransportError::Bind { source, .. })
                if source.kind() == std::io::ErrorKind::AddrInUse =>
            {
                continue
            }
            Err(e) => panic!("cannot start the lab hierarchy: {e}"),
        }
    }
    panic!("no free port for the lab hierarchy after 20 attempts");
}

type Bound = Vec<(Server, std::sync::Arc<dyn Handler>)>;

fn bind_lab(port: u16, path: &dyn Fn(&str) -> PathBuf) -> Result<Bound, TransportError> {
    // The liar's port must be free too: check it before binding the rest.
    drop(
        std::net::UdpSocket::bind(server_addr(LIAR, port)).map_err(|source| {
            TransportError::Bind {
                addr: server_addr(LIAR, port),
                protocol: dnslab_transport::Protocol::Udp,
                source,
            }
        })?,
    );
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
                path: path(file),
            })
            .collect();
        let auth = AuthServer::load(sources, AuthOptions::default())
            .unwrap_or_else(|e| panic!("lab zones for 127.0.53.{last} load: {e}"));
        let mut config = ServerConfig::new(vec![server_addr(*last, port)]);
        // Two cores are shared by every test running in parallel.
        config.udp_workers = 1;
        bound.push((Server::bind(config)?, auth.handler()));
    }
    Ok(bound)
}

/// A server that claims authority for anything it is asked and slips in an
/// A record for www.example.com pointing at 6.6.6.6, in the answer and the
/// additional section: out of its bailiwick, so never to be believed.
async fn liar_loop(socket: tokio::net::UdpSocket) {
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((len, peer)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        let Ok(query) = Message::from_bytes(&buf[..len]) else {
            continue;
        };
        let mut reply = Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
        reply.metadata.authoritative = true;
        reply.add_queries(query.queries.clone());
        let lie = Record::from_rdata(name("www.example.com."), 3600, RData::A(A::new(6, 6, 6, 6)));
        if let Some(q) = query.queries.first() {
            reply.add_answer(Record::from_rdata(
                q.name.clone(),
                300,
                RData::A(A::new(192, 0, 2, 66)),
            ));
        }
        reply.add_answer(lie.clone());
        reply.add_additional(lie);
        if let Ok(bytes) = reply.to_bytes() {
            let _ = socket.send_to(&bytes, peer).await;
        }
    }
}

/// A resolver with an empty cache serving on 127.0.0.1 port 0.
struct TestResolver {
    addr: SocketAddr,
    resolver: Resolver,
    stop: Option<oneshot::Sender<()>>,
}

impl TestResolver {
    fn new() -> TestResolver {
        TestResolver::with(|_| {})
    }

    fn with(adjust: impl FnOnce(&mut ResolverConfig)) -> TestResolver {
        let lab = lab();
        let mut config = ResolverConfig {
            root_hints: vec![(name("ns.root."), IpAddr::V4(Ipv4Addr::new(127, 0, 53, 1)))],
            upstream_port: lab.port,
            ..ResolverConfig::default()
        };
        adjust(&mut config);
        let resolver = Resolver::new(config);
        let mut server_config = ServerConfig::new(vec!["127.0.0.1:0".parse().expect("address")]);
        server_config.udp_workers = 1;
        let server = Server::bind(server_config).expect("bind the resolver");
        let addr = server.local_addrs()[0];
        let (stop, stopped) = oneshot::channel::<()>();
        lab.runtime
            .spawn(server.run(resolver.handler(), async move {
                let _ = stopped.await;
            }));
        TestResolver {
            addr,
            resolver,
            stop: Some(stop),
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

impl Drop for TestResolver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn name(s: &str) -> Name {
    Name::from_ascii(s).expect("test name")
}

/// A section as sorted `owner TYPE data` lines, without TTLs (they count
/// down in cached answers).
fn rrs(records: &[Record]) -> Vec<String> {
    section(records)
        .into_iter()
        .map(|line| {
            let mut fields: Vec<&str> = line.split(' ').collect();
            fields.remove(1);
            fields.join(" ")
        })
        .collect()
}

/// Checks a recursive answer: rcode, RA=1, AA=0, TC=0, and the answer and
/// authority sections.
fn assert_answer(msg: &Message, rcode: ResponseCode, answers: &[&str], authorities: &[&str]) {
    assert_eq!(msg.metadata.response_code, rcode, "rcode of {msg:?}");
    assert!(msg.metadata.recursion_available, "RA=1");
    assert!(
        !msg.metadata.authoritative,
        "a resolver is not authoritative"
    );
    assert!(!msg.metadata.truncation, "TC=0");
    let mut want: Vec<String> = answers.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(rrs(&msg.answers), want, "answer section");
    let mut want: Vec<String> = authorities.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(rrs(&msg.authorities), want, "authority section");
}

const EXAMPLE_SOA: &str =
    "example.com. SOA ns1.example.com. admin.example.com. 1 3600 600 86400 60";

/// The first lookup walks root, com and example.com (one query each); the
/// same question again is answered from the cache with no query at all.
#[test]
fn cold_lookup_walks_root_tld_authoritative_then_cache_answers() {
    let r = TestResolver::new();
    let msg = r.ask("www.example.com.", RecordType::A);
    assert_answer(
        &msg,
        ResponseCode::NoError,
        &["www.example.com. A 192.0.2.1"],
        &[],
    );
    assert_eq!(r.queries(), 3, "root, com, example.com");
    let again = r.ask("www.example.com.", RecordType::A);
    assert_answer(
        &again,
        ResponseCode::NoError,
        &["www.example.com. A 192.0.2.1"],
        &[],
    );
    assert!(again.answers[0].ttl <= 300);
    assert_eq!(r.queries(), 3, "a repeated question asks no one");
}

/// The delegation to example.com is cached: a sibling name goes straight
/// to example.com's servers.
#[test]
fn sibling_name_skips_root_and_tld() {
    let r = TestResolver::new();
    r.ask("www.example.com.", RecordType::A);
    let before = r.queries();
    let msg = r.ask("mail.example.com.", RecordType::A);
    assert_answer(
        &msg,
        ResponseCode::NoError,
        &["mail.example.com. A 192.0.2.2"],
        &[],
    );
    assert_eq!(r.queries() - before, 1);
}

/// A 2-second TTL runs out: the next question asks example.com again (and
/// only it, the delegation being still cached).
#[test]
fn expired_ttl_is_asked_again() {
    let r = TestResolver::new();
    let msg = r.ask("short.example.com.", RecordType::A);
    assert_answer(
        &msg,
        ResponseCode::NoError,
        &["short.example.com. A 192.0.2.3"],
        &[],
    );
    assert_eq!(msg.answers[0].ttl, 2);
    let before = r.queries();
    std::thread::sleep(Duration::from_millis(2500));
    let msg = r.ask("short.example.com.", RecordType::A);
    assert_answer(
        &msg,
        ResponseCode::NoError,
        &["short.example.com. A 192.0.2.3"],
        &[],
    );
    assert_eq!(r.queries() - before, 1);
}

/// NXDOMAIN comes with the zone's SOA and is cached (RFC 2308): the second
/// time nobody is asked.
#[test]
fn nxdomain_is_cached() {
    let r = TestResolver::new();
    let msg = r.ask("nope.example.com.", RecordType::A);
    assert_answer(&msg, ResponseCode::NXDomain, &[], &[EXAMPLE_SOA]);
    assert!(
        msg.authorities[0].ttl <= 60,
        "negative TTL is the SOA minimum"
    );
    let before = r.queries();
    let again = r.ask("nope.example.com.", RecordType::A);
    assert_answer(&again, ResponseCode::NXDomain, &[], &[EXAMPLE_SOA]);
    assert_eq!(r.queries(), before);
}

/// NODATA (the name exists, the type does not) is cached the same way.
#[test]
fn nodata_is_cached() {
    let r = TestResolver::new();
    let msg = r.ask("www.example.com.", RecordType::MX);
    assert_answer(&msg, ResponseCode::NoError, &[], &[EXAMPLE_SOA]);
    let before = r.queries();
    let again = r.ask("www.example.com.", RecordType::MX);
    assert_answer(&again, ResponseCode::NoError, &[], &[EXAMPLE_SOA]);
    assert_eq!(r.queries(), before);
}

/// A CNAME into another TLD: the resolver restarts at the target and the
/// client gets the chain and the final record.
#[test]
fn cname_across_zones_is_followed() {
    let r = TestResolver::new();
    let msg = r.ask("alias.example.com.", RecordType::A);
    assert_answer(
        &msg,
        ResponseCode::NoError,
        &[
            "alias.example.com. CNAME www.cs.umass.edu.",
            "www.cs.umass.edu. A 192.0.2.30",
        ],
        &[],
    );
    // root, com, example.com; then root (edu), edu, umass.edu, cs.umass.edu.
    assert_eq!(r.queries(), 7);
    let again = r.ask("alias.example.com.", RecordType::A);
    assert_eq!(
        rrs(&again.answers),
        rrs(&msg.answers),
        "the chain is cached too"
    );
    assert_eq!(r.queries(), 7);
}

/// edu -> umass.edu -> cs.umass.edu: three referrals below the root.
#[test]
fn three_level_delegation_chain() {
    let r = TestResolver::new();
    let msg = r.ask("www.cs.umass.edu.", RecordType::A);
    assert_answer(
        &msg,
        ResponseCode::NoError,
        &["www.cs.umass.edu. A 192.0.2.30"],
        &[],
    );
    assert_eq!(r.queries(), 4);
    let msg = r.ask("www.umass.edu.", RecordType::A);
    assert_answer(
        &msg,
        ResponseCode::NoError,
        &["www.umass.edu. A 192.0.2.20"],
        &[],
    );
    assert_eq!(r.queries(), 5, "umass.edu's servers are known by now");
}

/// glueless.com's server is ns.cs.umass.edu, for which com has no glue:
/// the resolver looks its address up from the root (RFC 1034 5.3.3).
#[test]
fn glueless_delegation_resolves_the_server_address() {
    let r = TestResolver::new();
    let msg = r.ask("www.glueless.com.", RecordType::A);
    assert_answer(
        &msg,
        ResponseCode::NoError,
        &["www.glueless.com. A 192.0.2.40"],
        &[],
    );
    // root, com; for ns.cs.umass.edu: root, edu, umass.edu, cs.umass.edu;
    // then the glueless.com server itself.
    assert_eq!(r.queries(), 7);
}

/// One of dead.com's two servers has nothing listening: the other answers
/// promptly.
#[test]
fn one_dead_server_the_other_answers() {
    let r = TestResolver::new();
    let started = Instant::now();
    let msg = r.ask("www.dead.com.", RecordType::A);
    assert_answer(
        &msg,
        ResponseCode::NoError,
        &["www.dead.com. A 192.0.2.60"],
        &[],
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
}

/// Every server of alldead.com is dead: SERVFAIL, within the time limit.
#[test]
fn all_servers_dead_is_servfail_in_bounded_time() {
    let r = TestResolver::new();
    let started = Instant::now();
    let msg = r.ask("www.alldead.com.", RecordType::A);
    assert_answer(&msg, ResponseCode::ServFail, &[], &[]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

/// lame.com's only server does not serve it (REFUSED): SERVFAIL.
#[test]
fn lame_delegation_is_servfail() {
    let r = TestResolver::new();
    let msg = r.ask("www.lame.com.", RecordType::A);
    assert_answer(&msg, ResponseCode::ServFail, &[], &[]);
}

/// halflame.com has one lame and one good server: the good one answers
/// whichever is tried first.
#[test]
fn lame_server_is_skipped_for_the_other() {
    let r = TestResolver::new();
    let msg = r.ask("www.halflame.com.", RecordType::A);
    assert_answer(
        &msg,
        ResponseCode::NoError,
        &["www.halflame.com. A 192.0.2.50"],
        &[],
    );
}

/// big.com's TXT set does not fit 1232 bytes: the server truncates, the
/// resolver retries over TCP and gets all 40 records; a UDP client without
/// EDNS gets TC=1 from us and all of it over TCP.
#[test]
fn truncated_upstream_answer_is_fetched_over_tcp() {
    let r = TestResolver::new();
    let over_udp = r.ask("www.big.com.", RecordType::TXT);
    assert_eq!(over_udp.metadata.response_code, ResponseCode::NoError);
    assert!(over_udp.metadata.truncation, "too big for 512 bytes: TC=1");
    assert!(over_udp.answers.is_empty());
    assert_eq!(r.queries(), 3, "root, com, big.com (UDP then TCP)");
    let over_tcp = tcp(r.addr, &Ask::new("www.big.com.", RecordType::TXT).rd());
    assert_eq!(over_tcp.metadata.response_code, ResponseCode::NoError);
    assert!(over_tcp.metadata.recursion_available && !over_tcp.metadata.truncation);
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
    let started = Instant::now();
    let msg = r.ask("loop1.example.com.", RecordType::A);
    assert_answer(&msg, ResponseCode::ServFail, &[], &[]);
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// loop.com is served by ns.loop.edu, and loop.edu by ns.loop.com: neither
/// address can ever be found. SERVFAIL, promptly, with a bounded number of
/// queries.
#[test]
fn ns_loop_is_servfail() {
    let r = TestResolver::new();
    let started = Instant::now();
    let msg = r.ask("www.loop.com.", RecordType::A);
    assert_answer(&msg, ResponseCode::ServFail, &[], &[]);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(r.queries() <= 64);
}

/// liar.com's server adds www.example.com A 6.6.6.6 to its answers. Its
/// own answer is used, the lie is neither served nor cached: asking for
/// www.example.com afterwards gets the truth from example.com's servers.
#[test]
fn out_of_bailiwick_records_are_never_cached_or_served() {
    let r = TestResolver::new();
    let msg = r.ask("www.liar.com.", RecordType::A);
    assert_answer(
        &msg,
        ResponseCode::NoError,
        &["www.liar.com. A 192.0.2.66"],
        &[],
    );
    assert!(msg.additionals.is_empty());
    let before = r.queries();
    let msg = r.ask("www.example.com.", RecordType::A);
    assert_answer(
        &msg,
        ResponseCode::NoError,
        &["www.example.com. A 192.0.2.1"],
        &[],
    );
    assert_eq!(
        r.queries() - before,
        2,
        "com and example.com's server were asked"
    );
}

/// RD=0 questions are answered from the cache only (as Unbound does): a
/// cached name is answered, an uncached one gets the closest cached
/// delegation, and nobody is asked.
#[test]
fn rd0_is_answered_from_cache_only() {
    let r = TestResolver::new();
    r.ask("www.example.com.", RecordType::A);
    let before = r.queries();
    let cached = udp(r.addr, &Ask::new("www.example.com.", RecordType::A));
    assert_answer(
        &cached,
        ResponseCode::NoError,
        &["www.example.com. A 192.0.2.1"],
        &[],
    );
    let missing = udp(r.addr, &Ask::new("other.example.com.", RecordType::A));
    assert_answer(
        &missing,
        ResponseCode::NoError,
        &[],
        &[
            "example.com. NS ns1.example.com.",
            "example.com. NS ns2.example.com.",
        ],
    );
    assert_eq!(r.queries(), before);
}

/// Without QNAME minimisation the same walk takes the same number of
/// queries here (every zone is a cut), and gets the same answer.
#[test]
fn full_qname_walk_without_minimisation() {
    let r = TestResolver::with(|c| c.qname_minimisation = false);
    let msg = r.ask("www.cs.umass.edu.", RecordType::A);
    assert_answer(
        &msg,
        ResponseCode::NoError,
        &["www.cs.umass.edu. A 192.0.2.30"],
        &[],
    );
    assert_eq!(r.queries(), 4);
}

/// Clients outside the allow list are REFUSED without any resolution.
#[test]
fn clients_outside_the_allow_list_are_refused() {
    let allow: Cidr = "10.0.0.0/8".parse().expect("cidr");
    let r = TestResolver::with(|c| c.allow = vec![allow]);
    let msg = r.ask("www.example.com.", RecordType::A);
    assert_eq!(msg.metadata.response_code, ResponseCode::Refused);
    assert!(msg.answers.is_empty());
    assert_eq!(r.queries(), 0);
}

/// The library call used by `dnslab up`: resolve() directly.
#[test]
fn resolve_api_returns_the_chain() {
    let r = TestResolver::new();
    let resolution = lab()
        .runtime
        .block_on(
            r.resolver
                .resolve(name("alias.example.com."), RecordType::A),
        )
        .expect("resolves");
    assert_eq!(resolution.rcode, ResponseCode::NoError);
    assert_eq!(
        rrs(&resolution.answers),
        [
            "alias.example.com. CNAME www.cs.umass.edu.",
            "www.cs.umass.edu. A 192.0.2.30"
        ]
    );
}
