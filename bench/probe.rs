//! Not a test: probes of what one resolver query costs in CPU, for
//! performance work (the figures go to `bench/README.md`). Each runs the
//! real servers in this one process, so `/proc/self/task` splits the CPU
//! between the resolver and the rest, without the lab.
//!
//! ```sh
//! cargo run --release --example probe -- miss     # Resolver::resolve, fresh names
//! cargo run --release --example probe -- served   # the same over UDP through the transport
//! cargo run --release --example probe -- hit      # the handler answering one cached name
//! cargo run --release --example probe -- hit web  # the same with the web server on
//! ```
//!
//! `PROBE_N` sets how many fresh names the miss probes resolve (20,000).
//!
//! With `web` after the probe's name, the resolver runs as `dnslab up`
//! and `resolver --web` run it: lookups published on an event bus (which
//! nobody watches: no page is open), every answer counted
//! (`dnslab::live::Counted`), and the web server serving on loopback; so
//! the pairs `hit` / `hit web` and `served` / `served web` show what the
//! live view costs a query while nobody looks (`bench/web-cost.sh`).
//!
//! The miss probes: one authoritative server (the real one, on its own UDP
//! thread) serves a root zone with a wildcard; the root hints point at it,
//! so after the first name every fresh `<n>.wild.` is exactly one upstream
//! query. The auth threads' CPU is subtracted from the process's.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Instant;

use std::sync::Arc;

use dnslab::live::{Counted, ResolverBackend, ServerCounters};
use dnslab_authoritative::{AuthOptions, AuthServer, ZoneSource};
use dnslab_resolver::events::EventBus;
use dnslab_resolver::{Resolver, ResolverConfig};
use dnslab_transport::{Handler, Protocol, Reply, RequestMeta, Server, ServerConfig};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use hickory_proto::serialize::binary::BinEncodable;

const ZONE: &str = "\
$TTL 3600
@ IN SOA ns.probe. host.probe. 1 3600 600 86400 3600
@ IN NS ns.probe.
ns.probe. IN A 127.0.0.1
*.wild IN A 192.0.2.1
";

/// Each thread of this process: its id, name and user + system CPU in
/// clock ticks (100 Hz).
fn threads() -> Vec<(String, String, u64)> {
    let mut threads = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").expect("procfs") {
        let path = task.expect("task").path();
        let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        // utime and stime are fields 14 and 15; fields[0] is field 3.
        let ticks = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        let tid = path.file_name().unwrap().to_string_lossy().into_owned();
        threads.push((tid, stat[open + 1..close].to_string(), ticks));
    }
    threads
}

/// CPU ticks of the threads `which` selects by id and name.
fn cpu_ticks(which: impl Fn(&str, &str) -> bool) -> u64 {
    threads()
        .into_iter()
        .filter(|(tid, name, _)| which(tid, name))
        .map(|(_, _, ticks)| ticks)
        .sum()
}

/// Starts the authoritative server for the probe zone on its own runtime;
/// returns its port, the runtime and the ids of its threads.
fn start_auth(dir: &std::path::Path) -> (u16, tokio::runtime::Runtime, Vec<String>) {
    let before: Vec<String> = threads().into_iter().map(|(tid, _, _)| tid).collect();
    let path = dir.join("root.zone");
    std::fs::write(&path, ZONE).unwrap();
    let auth = AuthServer::load(
        vec![ZoneSource {
            origin: Some(Name::root()),
            path,
        }],
        AuthOptions::default(),
    )
    .unwrap();
    let server = bind_loopback();
    let port = server.local_addrs()[0].port();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("probe-auth")
        .enable_all()
        .build()
        .unwrap();
    rt.spawn(server.run(auth.handler(), std::future::pending()));
    std::thread::sleep(std::time::Duration::from_millis(200));
    let tids = threads()
        .into_iter()
        .map(|(tid, _, _)| tid)
        .filter(|tid| !before.contains(tid))
        .collect();
    (port, rt, tids)
}

/// A server on 127.0.0.1, port 0, with one UDP thread.
fn bind_loopback() -> Server {
    let mut config = ServerConfig::new(vec![SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0)]);
    config.udp_workers = 1;
    Server::bind(config).unwrap()
}

/// The auth server running and a resolver whose root hints name it.
struct Probe {
    /// Fresh names to resolve.
    n: usize,
    dir: std::path::PathBuf,
    _auth_rt: tokio::runtime::Runtime,
    auth_tids: Vec<String>,
    resolver: Resolver,
    /// What the transport calls: the resolver's handler, counted when the
    /// web server is on.
    handler: Arc<dyn Handler>,
}

impl Probe {
    fn start(tag: &str, web: bool) -> Probe {
        // As `dnslab resolver` logs (info), so that spans and events cost
        // what they cost there; the lines themselves go nowhere.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_writer(std::io::sink)
            .try_init();
        let n = probe_n();
        let dir = std::env::temp_dir().join(format!("dnslab-{tag}-probe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (port, _auth_rt, auth_tids) = start_auth(&dir);
        let config = ResolverConfig {
            root_hints: vec![(
                Name::from_ascii("ns.probe.").unwrap(),
                IpAddr::V4(Ipv4Addr::LOCALHOST),
            )],
            upstream_port: port,
            cache_size: 4 * n,
            ..ResolverConfig::default()
        };
        let (resolver, handler) = if web {
            // As `dnslab resolver --web` runs it, on the auth server's
            // runtime (its threads' CPU is not the resolver's).
            let bus = Arc::new(EventBus::default());
            let resolver = Resolver::with_events(config, bus.clone());
            let counters = Arc::new(ServerCounters::default());
            let handler = Counted::wrap(resolver.handler(), counters.clone());
            let listening = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 53);
            let backend = ResolverBackend::new(resolver.clone(), listening, counters);
            let web = dnslab_web::Web::new(bus).with_resolver(Arc::new(backend));
            let listener = _auth_rt
                .block_on(dnslab::live::bind_web("127.0.0.1:0".parse().unwrap()))
                .unwrap();
            _auth_rt.spawn(dnslab_web::serve(listener, web, std::future::pending()));
            (resolver, handler)
        } else {
            let resolver = Resolver::new(config);
            let handler = resolver.handler();
            (resolver, handler)
        };
        Probe {
            n,
            dir,
            _auth_rt,
            auth_tids,
            resolver,
            handler,
        }
    }
}

fn probe_n() -> usize {
    std::env::var("PROBE_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// Questions kept in flight.
const INFLIGHT: usize = 100;

fn name(i: usize) -> Name {
    Name::from_ascii(format!("h{i}.wild.")).unwrap()
}

/// Cache misses through [`Resolver::resolve`], 100 in flight: the
/// resolver's own CPU per miss, without the transport.
fn miss_probe(web: bool) {
    let probe = Probe::start("miss", web);
    let (n, inflight, auth_tids, resolver) = (
        probe.n,
        INFLIGHT,
        probe.auth_tids.clone(),
        probe.resolver.clone(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // Warm up: caches `wild.` so each later name is one query.
        resolver.resolve(name(0), RecordType::A).await.unwrap();
        let before = resolver.stats().upstream_queries;
        let is_auth = |tid: &str, _: &str| auth_tids.iter().any(|a| a == tid);
        let (all, auth_cpu) = (cpu_ticks(|_, _| true), cpu_ticks(is_auth));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for t in 0..inflight {
            let resolver = resolver.clone();
            tasks.push(tokio::spawn(async move {
                let mut i = 1 + t;
                while i <= n {
                    let res = resolver.resolve(name(i), RecordType::A).await.unwrap();
                    assert_eq!(res.answers.len(), 1);
                    i += inflight;
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let wall = started.elapsed();
        let all = cpu_ticks(|_, _| true) - all;
        let auth_cpu = cpu_ticks(is_auth) - auth_cpu;
        let queries = resolver.stats().upstream_queries - before;
        let per = |ticks: u64| ticks as f64 * 10_000.0 / n as f64;
        println!(
            "{n} misses, {queries} upstream queries in {wall:?} ({:.0}/s): \
             resolver {:.1} µs CPU per miss, auth {:.1} µs, process {:.1} µs",
            n as f64 / wall.as_secs_f64(),
            per(all - auth_cpu),
            per(auth_cpu),
            per(all),
        );
    });
    let _ = std::fs::remove_dir_all(&probe.dir);
}

/// The same through the whole server: a client thread keeps 100 questions
/// in flight over UDP to a resolver on the shared transport. The client's
/// CPU is subtracted as well as the auth server's.
fn served_miss_probe(web: bool) {
    let probe = Probe::start("served", web);
    let (n, inflight, auth_tids, resolver) = (
        probe.n,
        INFLIGHT,
        probe.auth_tids.clone(),
        probe.resolver.clone(),
    );
    let server = bind_loopback();
    let addr = server.local_addrs()[0];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("probe-resolver")
        .enable_all()
        .build()
        .unwrap();
    rt.spawn(server.run(probe.handler.clone(), std::future::pending()));
    rt.block_on(resolver.resolve(name(0), RecordType::A))
        .unwrap();

    let query = |i: usize| {
        let mut msg = Message::new(i as u16, MessageType::Query, OpCode::Query);
        msg.metadata.recursion_desired = true;
        msg.add_query(Query::query(name(i), RecordType::A));
        msg.to_bytes().unwrap()
    };
    let queries: Vec<Vec<u8>> = (1..=n).map(query).collect();
    let is_auth = move |tid: &str, _: &str| auth_tids.iter().any(|a| a == tid);
    let is_client = |_: &str, name: &str| name == "probe-client";
    let client = std::thread::Builder::new()
        .name("probe-client".into())
        .spawn(move || {
            let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.connect(addr).unwrap();
            socket
                .set_read_timeout(Some(std::time::Duration::from_secs(2)))
                .unwrap();
            let ticks = |f: &dyn Fn(&str, &str) -> bool| cpu_ticks(f);
            let (all, auth, me) = (ticks(&|_, _| true), ticks(&is_auth), ticks(&is_client));
            let started = Instant::now();
            let mut next = queries.iter();
            for q in next.by_ref().take(inflight) {
                socket.send(q).unwrap();
            }
            let mut buf = [0u8; 4096];
            let mut answered = 0;
            while answered < queries.len() {
                if socket.recv(&mut buf).is_err() {
                    break;
                }
                answered += 1;
                if let Some(q) = next.next() {
                    socket.send(q).unwrap();
                }
            }
            let wall = started.elapsed();
            let all = ticks(&|_, _| true) - all;
            let auth = ticks(&is_auth) - auth;
            let me = ticks(&is_client) - me;
            let per = |ticks: u64| ticks as f64 * 10_000.0 / answered as f64;
            println!(
                "{answered}/{} answered in {wall:?} ({:.0}/s): resolver {:.1} µs CPU \
                 per miss, auth {:.1} µs, client {:.1} µs",
                queries.len(),
                answered as f64 / wall.as_secs_f64(),
                per(all - auth - me),
                per(auth),
                per(me),
            );
        })
        .unwrap();
    client.join().unwrap();
    let _ = std::fs::remove_dir_all(&probe.dir);
}

/// One cached name asked again and again of the resolver's handler, as a
/// UDP worker calls it (no sockets, one thread): the in-process cost of a
/// cache hit, encoded answer included. The first question is a miss,
/// resolved from the probe's auth server; then 1,000 warm-up hits.
fn hit_probe(web: bool) {
    let probe = Probe::start("hit", web);
    let handler = probe.handler.clone();
    let mut query = Message::new(0x1234, MessageType::Query, OpCode::Query);
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(name(0), RecordType::A));
    query.set_edns(Edns::new());
    let request = query.to_bytes().unwrap();
    let udp = RequestMeta {
        peer: SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 5000),
        local: SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 53),
        protocol: Protocol::Udp,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut out = Vec::with_capacity(4096);
    if let Reply::Deferred(resolution) = handler.handle(&request, &udp, &mut out) {
        rt.block_on(resolution)
            .expect("the first question is answered");
    }
    for _ in 0..1000 {
        handler.handle(&request, &udp, &mut out);
    }
    let iterations = 500_000;
    let start = Instant::now();
    for _ in 0..iterations {
        assert!(matches!(
            handler.handle(&request, &udp, &mut out),
            Reply::Send
        ));
    }
    let per_hit = start.elapsed().as_nanos() / iterations;
    println!("cache hit: {per_hit} ns per query ({} bytes)", out.len());
    let _ = std::fs::remove_dir_all(&probe.dir);
}

fn main() -> ExitCode {
    let web = match std::env::args().nth(2).as_deref() {
        None => false,
        Some("web") => true,
        Some(other) => {
            eprintln!("probe: {other:?}: only `web` may follow the probe's name");
            return ExitCode::from(2);
        }
    };
    match std::env::args().nth(1).as_deref() {
        Some("miss") => miss_probe(web),
        Some("served") => served_miss_probe(web),
        Some("hit") => hit_probe(web),
        _ => {
            eprintln!(
                "usage: probe miss|served|hit [web] (PROBE_N=20000 names for the miss probes)"
            );
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
