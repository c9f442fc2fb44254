//! The resolver against hostile upstream servers: ones that never answer,
//! answer garbage, answer from another address or port, refer to huge
//! glueless server sets, or chain CNAMEs forever. Each costs only its own
//! client a bounded wait and a SERVFAIL; healthy names keep being answered
//! promptly meanwhile, and the work pending at once stays capped.
//!
//! The hierarchy is fake on purpose: a few scripted UDP servers, each on its
//! own 127.x.y.z address and one shared port (the resolver asks every
//! server on `upstream_port`), so that each can misbehave exactly.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dnslab_resolver::{Cidr, Limits, Resolver, ResolverConfig};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::{A, CNAME, NS, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use rand::RngCore;

use crate::common::{
    assert_recursive_header, loopback_config, name, on_a_random_port, response_to,
    section_without_ttl, serve, udp_message, Ask, FakeUdp, Running,
};

/// What one fake upstream does with every query it gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Upstream {
    /// Refers each TLD below to its server, with glue.
    Root,
    /// Answers every A question with 192.0.2.1, authoritatively.
    Good,
    /// Reads and never answers.
    Silent,
    /// Random octets, a matching ID over a garbage body, and a well-formed
    /// answer under another ID.
    Garbage,
    /// The right answer (ID, question) but from another address, and from
    /// another port of its own address (RFC 5452 9.1: both must be ignored).
    WrongSource,
    /// A referral to 60 name servers, all glueless and all under `silent.`.
    WideReferral,
    /// `nN.loop.` is a CNAME for `nN+1.loop2.` and the other way round, so
    /// every answer makes the resolver restart in the other zone.
    CnameLoop,
}

/// The TLDs of the fake hierarchy and who serves each.
const TLDS: [(&str, Upstream); 7] = [
    ("good.", Upstream::Good),
    ("silent.", Upstream::Silent),
    ("garbage.", Upstream::Garbage),
    ("spoof.", Upstream::WrongSource),
    ("wide.", Upstream::WideReferral),
    ("loop.", Upstream::CnameLoop),
    ("loop2.", Upstream::CnameLoop),
];
/// The address the spoofed answers come from (last octet).
const SPOOFER: u8 = 200;
/// The address no honest answer contains.
const LIE: Ipv4Addr = Ipv4Addr::new(6, 6, 6, 6);
/// The answer every good name gets.
const GOOD: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

/// The fake servers, on 127.`net`.z:`port`, until dropped.
struct Hierarchy {
    net: [u8; 2],
    port: u16,
    _servers: Vec<FakeUdp>,
}

impl Hierarchy {
    fn addr(net: [u8; 2], last: u8) -> Ipv4Addr {
        Ipv4Addr::new(127, net[0], net[1], last)
    }

    /// The address of the server for `kind` (the root is .1, each TLD
    /// server .2 upwards, in `TLDS` order).
    fn server(net: [u8; 2], kind: Upstream) -> Ipv4Addr {
        let index = TLDS
            .iter()
            .position(|(_, k)| *k == kind)
            .map_or(0, |i| i + 1);
        Hierarchy::addr(net, 1 + index as u8)
    }

    /// Binds every server on one random high port of a random 127.x.y.0/24,
    /// trying again elsewhere if any address is taken.
    fn start() -> Hierarchy {
        on_a_random_port("the fake hierarchy", |port| {
            let mut random = [0u8; 2];
            rand::rng().fill_bytes(&mut random);
            let net = [100 + random[0] % 150, random[1]];
            let mut kinds = vec![Upstream::Root];
            kinds.extend(TLDS.iter().map(|(_, kind)| *kind));
            kinds.dedup();
            let bound: Result<Vec<(Upstream, UdpSocket)>, _> = kinds
                .iter()
                .map(|&kind| {
                    UdpSocket::bind((Hierarchy::server(net, kind), port)).map(|s| (kind, s))
                })
                .collect();
            let spoofer = UdpSocket::bind((Hierarchy::addr(net, SPOOFER), port));
            let (Ok(bound), Ok(spoofer)) = (bound, spoofer) else {
                return None;
            };
            let spoofer = Arc::new(spoofer);
            let servers = bound
                .into_iter()
                .map(|(kind, socket)| {
                    let spoofer = Arc::clone(&spoofer);
                    FakeUdp::spawn(socket, move |query, peer, socket| {
                        send_fake(kind, query, peer, socket, &spoofer, net)
                    })
                })
                .collect();
            Some(Hierarchy {
                net,
                port,
                _servers: servers,
            })
        })
    }

    /// A resolver rooted in this hierarchy, with tight limits so that
    /// hostile names fail within seconds.
    fn resolver(&self, max_deferred: usize) -> Running {
        let config = ResolverConfig {
            root_hints: vec![(name("a.root."), IpAddr::V4(Hierarchy::addr(self.net, 1)))],
            upstream_port: self.port,
            cache_size: 1000,
            qname_minimisation: false,
            allow: vec![Cidr::from_str("127.0.0.0/8").expect("loopback CIDR")],
            limits: Limits {
                total_time: BUDGET,
                upstream_timeout: Duration::from_millis(300),
                ..Limits::default()
            },
            ..ResolverConfig::default()
        };
        let mut transport = loopback_config();
        transport.max_deferred = max_deferred;
        serve(Resolver::new(config).handler(), transport)
    }
}

/// The resolver's budget for one question in these tests.
const BUDGET: Duration = Duration::from_secs(4);
/// Generous bound for a healthy answer on a loaded two-core machine.
const PROMPTLY: Duration = Duration::from_millis(2500);

/// Sends what `respond` makes of `query` from where each part must come.
fn send_fake(
    kind: Upstream,
    query: &Message,
    peer: SocketAddr,
    socket: &UdpSocket,
    spoofer: &UdpSocket,
    net: [u8; 2],
) {
    for (from, bytes) in respond(kind, query, net) {
        let _ = match from {
            From::Own => socket.send_to(&bytes, peer),
            From::Spoofer => spoofer.send_to(&bytes, peer),
            From::OtherPort => socket
                .local_addr()
                .and_then(|own| UdpSocket::bind((own.ip(), 0)))
                .and_then(|other| other.send_to(&bytes, peer)),
        };
    }
}

fn a(owner: &Name, ip: Ipv4Addr) -> Record {
    Record::from_rdata(owner.clone(), 300, RData::A(A(ip)))
}

/// Which socket a fake response leaves from.
enum From {
    /// The server's own address and port: the only source a resolver may
    /// accept.
    Own,
    /// Another address of the hierarchy, on the same port.
    Spoofer,
    /// The server's address, another port.
    OtherPort,
}

/// What the server `kind` sends back, and from where.
fn respond(kind: Upstream, query: &Message, net: [u8; 2]) -> Vec<(From, Vec<u8>)> {
    let Some(question) = query.queries.first() else {
        return Vec::new();
    };
    let qname = question.name().clone();
    let encode = |msg: &Message| msg.to_vec().expect("encode fake response");
    match kind {
        Upstream::Root => {
            let tld = TLDS.iter().find(|(tld, _)| name(tld).zone_of(&qname));
            let mut msg = response_to(query, ResponseCode::NXDomain);
            if let Some((tld, server)) = tld {
                let ns = name(&format!("ns.{tld}"));
                msg.metadata.authoritative = false;
                msg.metadata.response_code = ResponseCode::NoError;
                msg.add_authority(Record::from_rdata(
                    name(tld),
                    3600,
                    RData::NS(NS(ns.clone())),
                ));
                msg.add_additional(a(&ns, Hierarchy::server(net, *server)));
            }
            vec![(From::Own, encode(&msg))]
        }
        Upstream::Good if question.query_type() == RecordType::A => {
            let mut msg = response_to(query, ResponseCode::NoError);
            msg.add_answer(a(&qname, GOOD));
            vec![(From::Own, encode(&msg))]
        }
        Upstream::Good => {
            let mut msg = response_to(query, ResponseCode::NoError);
            let soa = SOA::new(
                name("ns.good."),
                name("admin.good."),
                1,
                3600,
                600,
                86400,
                60,
            );
            msg.add_authority(Record::from_rdata(name("good."), 60, RData::SOA(soa)));
            vec![(From::Own, encode(&msg))]
        }
        Upstream::Silent => Vec::new(),
        Upstream::Garbage => {
            let mut noise = vec![0u8; 64];
            rand::rng().fill_bytes(&mut noise);
            let mut same_id = noise.clone();
            same_id[..2].copy_from_slice(&query.metadata.id.to_be_bytes());
            same_id[2] |= 0x80;
            let mut other_id = response_to(query, ResponseCode::NoError);
            other_id.metadata.id = query.metadata.id.wrapping_add(1);
            other_id.add_answer(a(&qname, LIE));
            vec![
                (From::Own, noise),
                (From::Own, same_id),
                (From::Own, encode(&other_id)),
            ]
        }
        Upstream::WrongSource => {
            let mut msg = response_to(query, ResponseCode::NoError);
            msg.add_answer(a(&qname, LIE));
            let bytes = encode(&msg);
            vec![(From::Spoofer, bytes.clone()), (From::OtherPort, bytes)]
        }
        Upstream::WideReferral => {
            let mut msg = response_to(query, ResponseCode::NoError);
            msg.metadata.authoritative = false;
            let cut = name("sub.wide.");
            for i in 0..60 {
                let ns = name(&format!("ns{i}.silent."));
                msg.add_authority(Record::from_rdata(cut.clone(), 3600, RData::NS(NS(ns))));
            }
            vec![(From::Own, encode(&msg))]
        }
        Upstream::CnameLoop => {
            let first = qname
                .iter()
                .next()
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .unwrap_or_default();
            let n: u64 = first.trim_start_matches('n').parse().unwrap_or(0);
            let next_zone = if name("loop.").zone_of(&qname) {
                "loop2."
            } else {
                "loop."
            };
            let target = name(&format!("n{}.{next_zone}", n + 1));
            let mut msg = response_to(query, ResponseCode::NoError);
            msg.add_answer(Record::from_rdata(qname, 300, RData::CNAME(CNAME(target))));
            vec![(From::Own, encode(&msg))]
        }
    }
}

/// Asks the resolver at `server` for `qname`/A with RD, waiting up to
/// `BUDGET` plus a margin; `None` if no answer came.
fn ask(server: SocketAddr, qname: &str) -> Option<(Message, Duration)> {
    let query = Ask::new(qname, RecordType::A).rd().to_message();
    let started = Instant::now();
    let msg = udp_message(server, &query, BUDGET + Duration::from_secs(5))?;
    Some((msg, started.elapsed()))
}

fn assert_good(server: SocketAddr, qname: &str) {
    let (msg, took) = ask(server, qname).unwrap_or_else(|| panic!("no answer for {qname}"));
    assert_eq!(msg.metadata.response_code, ResponseCode::NoError, "{qname}");
    assert_recursive_header(&msg, qname);
    // The TTL counts down once cached.
    assert_eq!(
        section_without_ttl(&msg.answers),
        [format!("{qname} A {GOOD}")],
        "{qname}"
    );
    assert!(
        msg.answers.iter().all(|r| r.ttl <= 300),
        "{qname}: TTL above the zone's"
    );
    assert!(
        took < PROMPTLY,
        "{qname} took {took:?} while hostile names resolve"
    );
}

/// Silent, garbage-spewing and spoofing servers, a 60-server glueless
/// referral and an endless CNAME chain, all being resolved at once: each
/// fails on its own with SERVFAIL within the resolver's budget, never with
/// the spoofed address, while fresh names under a healthy zone are
/// answered promptly the whole time.
#[test]
fn hostile_upstreams_fail_alone_while_healthy_names_are_answered_promptly() {
    let hierarchy = Hierarchy::start();
    let resolver = hierarchy.resolver(10_000);
    let addr = resolver.addr;
    assert_good(addr, "warmup.good.");

    const HOSTILE: [&str; 5] = [
        "a.silent.",
        "a.garbage.",
        "a.spoof.",
        "a.sub.wide.",
        "n0.loop.",
    ];
    let askers: Vec<_> = HOSTILE
        .iter()
        .map(|qname| (qname, std::thread::spawn(move || ask(addr, qname))))
        .collect();
    let mut i = 0;
    while askers.iter().any(|(_, t)| !t.is_finished()) {
        assert_good(addr, &format!("h{i}.good."));
        i += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    for (qname, asker) in askers {
        let (msg, took) = asker
            .join()
            .expect("asker")
            .unwrap_or_else(|| panic!("no answer for {qname}"));
        assert_eq!(
            msg.metadata.response_code,
            ResponseCode::ServFail,
            "{qname}: {msg:?}"
        );
        assert!(
            msg.answers.iter().all(|r| r.data != RData::A(A(LIE))),
            "{qname}: spoofed answer accepted"
        );
        assert!(
            took < BUDGET + PROMPTLY,
            "{qname} took {took:?}, budget {BUDGET:?}"
        );
    }
    assert!(
        i > 0,
        "healthy names were asked while hostile ones resolved"
    );
}

/// Forty questions for distinct names under a silent zone, sent at once,
/// with `max_deferred` = 4: at most four resolutions are pending at a time
/// (the rest are dropped, and a real client would retry), so a flood of
/// slow names cannot grow memory without bound; cached names are still
/// answered at once, on the receiving worker.
#[test]
fn pending_resolutions_are_capped_and_cached_names_still_answered() {
    const CAP: usize = 4;
    let hierarchy = Hierarchy::start();
    let resolver = hierarchy.resolver(CAP);
    assert_good(resolver.addr, "cached.good.");

    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind client");
    for i in 0..40 {
        let query = Ask::new(&format!("s{i}.silent."), RecordType::A)
            .rd()
            .to_message();
        socket
            .send_to(&query.to_vec().expect("encode"), resolver.addr)
            .expect("send");
    }
    assert_good(resolver.addr, "cached.good.");

    socket
        .set_read_timeout(Some(BUDGET + Duration::from_secs(2)))
        .expect("set timeout");
    let mut buf = vec![0u8; 65535];
    let mut answered = 0;
    while let Ok((n, _)) = socket.recv_from(&mut buf) {
        let msg = Message::from_vec(&buf[..n]).expect("answer parses");
        assert_eq!(msg.metadata.response_code, ResponseCode::ServFail);
        answered += 1;
        socket
            .set_read_timeout(Some(Duration::from_secs(1)))
            .expect("set timeout");
    }
    assert!(
        (1..=CAP).contains(&answered),
        "{answered} of 40 slow questions answered, cap {CAP}"
    );
}
