//! Not a test: the CPU one cache-miss resolution costs the resolver, for
//! performance work. One authoritative server (the real one, on its own UDP
//! thread) serves a root zone with a wildcard; the root hints point at it,
//! so after the first name every fresh `<n>.wild.` is exactly one upstream
//! query. The auth threads' CPU is subtracted from the process's.
//!
//! `cargo test -p dnslab-resolver --release --test miss_probe -- --ignored --nocapture`

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use dnslab_authoritative::{AuthOptions, AuthServer, ZoneSource};
use dnslab_resolver::{Resolver, ResolverConfig};
use dnslab_transport::{Server, ServerConfig};
use hickory_proto::rr::{Name, RecordType};

const ZONE: &str = "\
$TTL 3600
@ IN SOA ns.probe. host.probe. 1 3600 600 86400 3600
@ IN NS ns.probe.
ns.probe. IN A 127.0.0.1
*.wild IN A 192.0.2.1
";

/// User + system CPU in clock ticks (100 Hz) of the threads of this
/// process, all of them or those whose name starts with `prefix`.
fn cpu_ticks(prefix: Option<&str>) -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").expect("procfs") {
        let path = task.expect("task").path();
        let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        if prefix.is_some_and(|p| !comm.starts_with(p)) {
            continue;
        }
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        // utime and stime are fields 14 and 15; fields[0] is field 3.
        total += fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    }
    total
}

#[test]
#[ignore]
fn miss_probe() {
    let n: usize = std::env::var("PROBE_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let inflight = 100;
    let dir = std::env::temp_dir().join(format!("dnslab-miss-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
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
    let mut config = ServerConfig::new(vec![SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0)]);
    config.udp_workers = 1;
    let server = Server::bind(config).unwrap();
    let port = server.local_addrs()[0].port();
    let auth_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("probe-auth")
        .enable_all()
        .build()
        .unwrap();
    auth_rt.spawn(server.run(auth.handler(), std::future::pending()));

    let resolver = Resolver::new(ResolverConfig {
        root_hints: vec![(
            Name::from_ascii("ns.probe.").unwrap(),
            IpAddr::V4(Ipv4Addr::LOCALHOST),
        )],
        upstream_port: port,
        cache_size: 4 * n,
        ..ResolverConfig::default()
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let name = |i: usize| Name::from_ascii(format!("h{i}.wild.")).unwrap();
    rt.block_on(async {
        // Warm up: caches `wild.` so each later name is one query.
        resolver.resolve(name(0), RecordType::A).await.unwrap();
        let before = resolver.stats().upstream_queries;
        let (all, auth_cpu) = (cpu_ticks(None), cpu_ticks(Some("dnslab-udp")));
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
        let all = cpu_ticks(None) - all;
        let auth_cpu = cpu_ticks(Some("dnslab-udp")) - auth_cpu;
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
    let _ = std::fs::remove_dir_all(&dir);
}
