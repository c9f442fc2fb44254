//! The live view of `dnslab up`, in-process and over real sockets: the
//! default hierarchy started, its web server on a loopback port, the
//! events read from `/api/events` over HTTP while the resolver is asked
//! over UDP, as a browser and `dig` would. The textbook's ten messages of
//! gaia.cs.umass.edu, the two of the repeated question, the sibling name
//! that skips the root and the TLD, replay with `Last-Event-ID`, a slow
//! page resynced, and `/metrics` read back by a Prometheus parser with
//! exact counts after known traffic.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use dnslab_resolver::events::{Kind, Role, WalkEvent, DEFAULT_RING};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use tokio::sync::oneshot;

use crate::common::{
    cannot_run, dnslab, on_a_random_port, random_port, repo_path, require, test_runtime, udp,
    udp_message, Ask, Process, ScratchDir,
};
use crate::up::RunningDefault;

/// The web tests' plain HTTP client (SSE framing included), shared.
#[path = "../../web/tests/web/common/http.rs"]
#[allow(dead_code)]
mod http;

use http::EventStream;

/// The default hierarchy with its web server on an ephemeral port.
struct Live {
    running: RunningDefault,
    web: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl Live {
    fn start() -> Live {
        let running = RunningDefault::start();
        let web = running.hierarchy().web();
        let (addr, stop) = running.runtime.block_on(async {
            let listener = dnslab::live::bind_web("127.0.0.1:0".parse().unwrap())
                .await
                .expect("an ephemeral web port");
            let addr = listener.local_addr().unwrap();
            let (stop, stopped) = oneshot::channel::<()>();
            tokio::spawn(dnslab_web::serve(listener, web, async {
                let _ = stopped.await;
            }));
            (addr, stop)
        });
        Live {
            running,
            web: addr,
            _stop: stop,
        }
    }

    /// Opens `/api/events` and waits until the bus counts it as a watcher.
    fn subscribe(&self, last_event_id: Option<&str>, receive_buffer: Option<u32>) -> EventStream {
        let bus = self.running.hierarchy().bus.clone();
        let before = bus.watchers();
        let stream = self.running.runtime.block_on(EventStream::open(
            self.web,
            last_event_id,
            receive_buffer,
        ));
        while bus.watchers() == before {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        stream
    }

    /// The next `n` events of `stream`.
    fn events(&self, stream: &mut EventStream, n: usize) -> Vec<WalkEvent> {
        (0..n)
            .map(|_| {
                let message = self
                    .running
                    .runtime
                    .block_on(stream.next())
                    .expect("the stream stays open");
                serde_json::from_str(&message.data)
                    .unwrap_or_else(|e| panic!("a walk event ({e}): {}", message.data))
            })
            .collect()
    }

    /// Asks the resolver over UDP with RD=1; the rcode.
    fn ask(&self, name: &str) -> ResponseCode {
        let reply = udp(self.running.resolver(), &Ask::new(name, RecordType::A).rd());
        reply.metadata.response_code
    }

    fn get(&self, path: &str) -> http::Reply {
        self.running.runtime.block_on(http::get(self.web, path))
    }
}

/// (step, from role, from name, to role, to name, qname, kind) of each event.
type Row = (u32, Role, String, Role, String, String, Kind);

fn rows(events: &[WalkEvent]) -> Vec<Row> {
    events
        .iter()
        .map(|e| {
            (
                e.step,
                e.from.role,
                e.from.name.clone(),
                e.to.role,
                e.to.name.clone(),
                e.qname.clone(),
                e.kind,
            )
        })
        .collect()
}

fn row(step: u32, from: (Role, &str), to: (Role, &str), qname: &str, kind: Kind) -> Row {
    let (from_role, from_name) = from;
    let (to_role, to_name) = to;
    (
        step,
        from_role,
        from_name.to_string(),
        to_role,
        to_name.to_string(),
        qname.to_string(),
        kind,
    )
}

const GAIA: &str = "gaia.cs.umass.edu.";
const RESOLVER: (Role, &str) = (Role::Resolver, "resolver");
const CLIENT: (Role, &str) = (Role::Client, "127.0.0.1");
const EDU: (Role, &str) = (Role::Tld, "a.edu-servers.lab.");
const UMASS: (Role, &str) = (Role::Authoritative, "dns.umass.edu.");
const CS_UMASS: (Role, &str) = (Role::Authoritative, "dns.cs.umass.edu.");

/// The textbook's figure from real traffic: `dig gaia.cs.umass.edu`
/// through the resolver is ten messages in order, a root, the edu TLD and
/// the two umass servers, each asked only the labels it needs (RFC 9156);
/// the same question again is exactly two messages, answered from the
/// cache with the TTL left; and www.cs.umass.edu, asked next, skips the
/// root, the TLD and dns.umass.edu. (three tier events, step 0) because
/// the delegation to cs.umass.edu. is cached, and takes four messages.
#[test]
fn a_dig_is_the_textbooks_ten_messages_then_two_from_the_cache_then_a_shorter_walk() {
    let live = Live::start();
    let mut stream = live.subscribe(None, None);

    assert_eq!(live.ask("gaia.cs.umass.edu."), ResponseCode::NoError);
    let walk = live.events(&mut stream, 10);
    let root = (Role::Root, walk[1].to.name.as_str());
    assert!(root.1.ends_with(".root-servers.lab."), "{:?}", walk[1].to);
    assert_eq!(
        rows(&walk),
        [
            row(1, CLIENT, RESOLVER, GAIA, Kind::Query),
            row(2, RESOLVER, root, "edu.", Kind::Query),
            row(3, root, RESOLVER, "edu.", Kind::Referral),
            row(4, RESOLVER, EDU, "umass.edu.", Kind::Query),
            row(5, EDU, RESOLVER, "umass.edu.", Kind::Referral),
            row(6, RESOLVER, UMASS, "cs.umass.edu.", Kind::Query),
            row(7, UMASS, RESOLVER, "cs.umass.edu.", Kind::Referral),
            row(8, RESOLVER, CS_UMASS, GAIA, Kind::Query),
            row(9, CS_UMASS, RESOLVER, GAIA, Kind::Answer),
            row(10, RESOLVER, CLIENT, GAIA, Kind::Answer),
        ]
    );
    let lookup = walk[0].lookup;
    assert!(walk.iter().all(|e| e.lookup == lookup), "one lookup");
    assert_eq!(walk[2].detail, "referral to edu. (a.edu-servers.lab.)");
    assert_eq!(walk[2].zone.as_deref(), Some("."));
    assert_eq!(walk[8].zone.as_deref(), Some("cs.umass.edu."));
    assert_eq!(
        walk[7].to.addr.as_deref(),
        Some(
            format!(
                "127.0.0.10:{}",
                live.running.hierarchy().servers[0].address.port()
            )
            .as_str()
        )
    );
    assert_eq!(walk[9].rcode, "NOERROR");
    assert_eq!(walk[9].records, ["gaia.cs.umass.edu. 3600 IN A 192.0.2.12"]);
    assert!(walk[9].ms >= walk[8].ms, "the whole lookup takes longest");

    assert_eq!(live.ask("gaia.cs.umass.edu."), ResponseCode::NoError);
    assert_eq!(live.ask("www.cs.umass.edu."), ResponseCode::NoError);
    let next = live.events(&mut stream, 2 + 7);
    let (hit, sibling) = next.split_at(2);
    assert_eq!(
        rows(hit),
        [
            row(1, CLIENT, RESOLVER, GAIA, Kind::Query),
            row(2, RESOLVER, CLIENT, GAIA, Kind::CacheHit),
        ]
    );
    assert_eq!(hit[0].lookup, lookup + 1);
    assert_eq!(hit[1].lookup, lookup + 1, "exactly two messages");
    let left = hit[1].ttl_left.expect("the TTL left");
    assert!((3590..=3600).contains(&left), "{left}");

    let www = "www.cs.umass.edu.";
    assert!(sibling.iter().all(|e| e.lookup == lookup + 2));
    assert_eq!(
        rows(sibling),
        [
            row(1, CLIENT, RESOLVER, www, Kind::Query),
            row(
                0,
                RESOLVER,
                (Role::Root, "a.root-servers.lab."),
                www,
                Kind::CacheHit
            ),
            row(0, RESOLVER, EDU, www, Kind::CacheHit),
            row(0, RESOLVER, UMASS, www, Kind::CacheHit),
            row(2, RESOLVER, CS_UMASS, www, Kind::Query),
            row(3, CS_UMASS, RESOLVER, www, Kind::Answer),
            row(4, RESOLVER, CLIENT, www, Kind::Answer),
        ]
    );
    let spared: Vec<(Option<&str>, &str)> = sibling[1..4]
        .iter()
        .map(|e| {
            (
                e.zone.as_deref(),
                e.detail.split(',').next().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        spared,
        [
            (Some("."), "delegation to edu. cached"),
            (Some("edu."), "delegation to umass.edu. cached"),
            (Some("umass.edu."), "delegation to cs.umass.edu. cached"),
        ]
    );
    assert!(sibling[3].ttl_left.is_some_and(|left| left <= 3600));
}

/// A page that reconnects with `Last-Event-ID` gets what it missed from
/// the ring, in order, then the live events; a page that does not read
/// while a class digs away is resynced (`event: resync`) instead of
/// buffered, and the bus holds no more than its ring.
#[test]
fn last_event_id_replays_and_a_slow_page_is_resynced_with_bounded_memory() {
    let live = Live::start();
    let mut first = live.subscribe(None, None);
    live.ask("gaia.cs.umass.edu.");
    let walk = live.events(&mut first, 10);
    assert_eq!(walk[9].step, 10);

    let mut again = live.subscribe(Some("4"), None);
    let replayed = live.events(&mut again, 6);
    let steps: Vec<u32> = replayed.iter().map(|e| e.step).collect();
    assert_eq!(steps, [5, 6, 7, 8, 9, 10], "ids 5 to 10 replayed");
    drop((first, again));

    // A page that reads nothing, behind a 4 KiB receive buffer.
    let mut slow = live.subscribe(None, Some(4096));
    const HITS: u64 = 6000;
    for _ in 0..HITS {
        live.ask("gaia.cs.umass.edu.");
    }
    let bus = live.running.hierarchy().bus.clone();
    assert!(
        bus.held() <= DEFAULT_RING,
        "the ring is bounded: {}",
        bus.held()
    );
    let last = bus.last_id();
    let (mut data, mut resyncs, mut missed, mut last_id) = (0u64, 0u64, 0u64, 10u64);
    while last_id < last {
        let message = live
            .running
            .runtime
            .block_on(slow.next())
            .expect("the stream stays open");
        if message.event.as_deref() == Some("resync") {
            resyncs += 1;
            let json: serde_json::Value = serde_json::from_str(&message.data).unwrap();
            missed += json["missed"].as_u64().unwrap();
        } else {
            data += 1;
            last_id = message.id.unwrap().parse().unwrap();
        }
    }
    assert!(resyncs >= 1, "the slow page was told it missed events");
    assert_eq!(
        data + missed,
        2 * HITS,
        "every event delivered or counted missed"
    );
}

/// A Prometheus text parser reads `/metrics` after known traffic: two
/// walks, a cache hit and an NXDOMAIN through the resolver, each count
/// exact (queries by server, type and rcode; hits and misses; upstream
/// queries per server; the resolution histogram; each zone's serial).
#[test]
fn metrics_count_known_traffic_exactly() {
    let live = Live::start();
    assert_eq!(live.ask("gaia.cs.umass.edu."), ResponseCode::NoError);
    assert_eq!(live.ask("gaia.cs.umass.edu."), ResponseCode::NoError);
    assert_eq!(live.ask("www.cs.umass.edu."), ResponseCode::NoError);
    assert_eq!(live.ask("nope.cs.umass.edu."), ResponseCode::NXDomain);

    let reply = live.get("/metrics");
    assert_eq!(reply.status, 200);
    let lines = reply.body.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text");
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let found: Vec<f64> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => panic!("{name} is a plain value"),
            })
            .collect();
        found.iter().sum()
    };
    let resolver = format!("dns://{}", live.running.resolver());
    let queries = "dnslab_dns_queries_total";
    let udp_a = |server: &str, rcode: &str| {
        value(
            queries,
            &[
                ("server", server),
                ("proto", "udp"),
                ("type", "A"),
                ("rcode", rcode),
            ],
        )
    };
    assert_eq!(udp_a(&resolver, "NOERROR"), 3.0);
    assert_eq!(udp_a(&resolver, "NXDOMAIN"), 1.0);
    let port = live.running.hierarchy().servers[0].address.port();
    let cs = format!("dns://127.0.0.10:{port}");
    assert_eq!(udp_a(&cs, "NOERROR"), 2.0, "gaia and www");
    assert_eq!(udp_a(&cs, "NXDOMAIN"), 1.0);
    let by_server: HashMap<&str, f64> = [
        "127.0.0.2",
        "127.0.0.3",
        "127.0.0.6",
        "127.0.0.9",
        "127.0.0.10",
    ]
    .into_iter()
    .map(|ip| {
        let to = format!("{ip}:{port}");
        (ip, value("dnslab_upstream_queries_total", &[("to", &to)]))
    })
    .collect();
    assert_eq!(
        by_server["127.0.0.2"] + by_server["127.0.0.3"],
        1.0,
        "one root"
    );
    assert_eq!(by_server["127.0.0.6"], 1.0, "edu.");
    assert_eq!(by_server["127.0.0.9"], 1.0, "umass.edu.");
    assert_eq!(by_server["127.0.0.10"], 3.0, "cs.umass.edu.");
    assert_eq!(value("dnslab_upstream_timeouts_total", &[]), 0.0);
    assert_eq!(value("dnslab_upstream_lame_total", &[]), 0.0);
    assert_eq!(
        value("dnslab_cache_hits_total", &[("server", &resolver)]),
        1.0
    );
    assert_eq!(
        value("dnslab_cache_misses_total", &[("server", &resolver)]),
        3.0
    );
    let histogram = scrape
        .samples
        .iter()
        .find(|s| s.metric == "dnslab_resolution_duration_seconds")
        .expect("the resolution histogram");
    let prometheus_parse::Value::Histogram(buckets) = &histogram.value else {
        panic!("a histogram: {:?}", histogram.value);
    };
    let inf = buckets.iter().map(|b| b.count).fold(0.0, f64::max);
    assert_eq!(inf, 3.0, "three walks timed");
    assert_eq!(
        value(
            "dnslab_zone_serial",
            &[("server", "dns.cs.umass.edu."), ("zone", "cs.umass.edu.")]
        ),
        2026112201.0
    );
    assert_eq!(
        value(
            "dnslab_cache_entries",
            &[("server", &resolver), ("type", "delegation")]
        ),
        3.0,
        "edu., umass.edu., cs.umass.edu."
    );
}

// ---------------------------------------------------------------------------
// The binary: `dnslab up` with its page, and `dnslab ctl`
// ---------------------------------------------------------------------------

/// `dnslab up` as a user runs it, on a random port, its page on another;
/// returns it once its resolver answers (localhost., which leaves the
/// hierarchy's names uncached), with the resolver's and the page's
/// addresses.
pub(crate) fn start_up_binary() -> (Process, SocketAddr, SocketAddr) {
    let up = crate::up::start_up("localhost.", true, false, &[]);
    (up.process, up.resolver, up.web)
}

/// `dnslab ctl --server http://WEB ARGS`: exit success, stdout, stderr.
fn ctl(web: SocketAddr, args: &[&str]) -> (bool, String, String) {
    let output = dnslab()
        .arg("ctl")
        .args(["--server", &format!("http://{web}")])
        .args(args)
        .output()
        .expect("run dnslab ctl");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Every `dnslab ctl` command against a running `dnslab up`: status and
/// stats as JSON, the cache dumped with each record's origin, a flush of
/// one RRset, of a zone and of everything (after which gaia.cs.umass.edu
/// walks from a root again, as the terminal shows), reload; and the
/// errors a user makes: no server there, a refused request, an unknown
/// command, a missing argument.
#[test]
fn every_ctl_command_works_against_dnslab_up() {
    let (mut up, resolver, web) = start_up_binary();
    let gaia = Ask::new("gaia.cs.umass.edu.", RecordType::A).rd();

    let (ok, status, err) = ctl(web, &["status"]);
    assert!(ok, "{err}");
    let status: serde_json::Value = serde_json::from_str(&status).expect("JSON");
    assert_eq!(status["resolver"], true);
    let zones = status["zones"].as_array().expect("zones");
    assert!(
        zones.iter().any(|z| z["zone"] == "cs.umass.edu."),
        "{zones:?}"
    );

    assert_eq!(udp(resolver, &gaia).answers.len(), 1);
    let (ok, dump, err) = ctl(web, &["dump-cache"]);
    assert!(ok, "{err}");
    for line in [
        "gaia.cs.umass.edu. ",
        "IN A 192.0.2.12 ; answer",
        "cs.umass.edu. ",
        "IN NS dns.cs.umass.edu. ; referral",
        "IN A 127.0.0.10 ; glue",
    ] {
        assert!(dump.contains(line), "{line:?} in {dump}");
    }
    let (ok, stats, err) = ctl(web, &["stats"]);
    assert!(ok, "{err}");
    let stats: serde_json::Value = serde_json::from_str(&stats).expect("JSON");
    // The start-up probe (localhost.) and gaia: two misses.
    assert_eq!(stats["caches"][0]["misses"], 2, "{stats}");

    assert_eq!(
        ctl(web, &["flush", "gaia.cs.umass.edu", "A"]).1,
        "removed 1 entries\n"
    );
    let (ok, flushed, err) = ctl(web, &["flush-zone", "umass.edu"]);
    assert!(ok, "{err}");
    assert_eq!(flushed, "removed 2 entries\n", "the two delegations");
    let (ok, flushed, _) = ctl(web, &["flush"]);
    assert!(ok && flushed.starts_with("removed "), "{flushed}");
    assert_eq!(udp(resolver, &gaia).answers.len(), 1);

    let (ok, reloaded, err) = ctl(web, &["reload"]);
    assert!(ok, "{err}");
    assert!(
        reloaded.contains("dns.cs.umass.edu. cs.umass.edu. serial 2026112201"),
        "{reloaded}"
    );
    assert!(!reloaded.contains("NOT reloaded"), "{reloaded}");

    let (ok, _, err) = ctl(web, &["flush-zone", "bad..name"]);
    assert!(
        !ok && err.contains("refused") && err.contains("HTTP 400"),
        "{err}"
    );
    let (ok, _, err) = ctl(web, &["frobnicate"]);
    assert!(!ok && err.contains("unknown command"), "{err}");
    let (ok, _, err) = ctl(web, &["flush-zone"]);
    assert!(!ok && err.contains("flush-zone takes NAME"), "{err}");
    let nobody = SocketAddr::from(([127, 0, 0, 1], random_port()));
    let (ok, _, err) = ctl(nobody, &["status"]);
    assert!(!ok && err.contains("no dnslab answers at"), "{err}");

    up.signal("-TERM");
    up.wait_exit(Duration::from_secs(10))
        .expect("stops on SIGTERM");
    let stdout = String::from_utf8_lossy(&up.output().stdout).into_owned();
    let walks_from_a_root = stdout
        .lines()
        .filter(|line| line.contains("-> resolver   referral to edu."))
        .count();
    assert_eq!(
        walks_from_a_root, 2,
        "after the flush, a root again:\n{stdout}"
    );
}

/// The page in a real browser over real traffic: Debian's headless
/// Chromium driven by Playwright (as in the web crate's browser test,
/// whose helpers the script imports) loads the page of a running `dnslab
/// up`; `dig gaia.cs.umass.edu` through the resolver must be drawn as
/// arrows 1 to 10 between a root, a.edu-servers.lab., dns.umass.edu. and
/// dns.cs.umass.edu.; the same dig again as the cache hit; the "Zone
/// transfers" list must show the four secondaries' first AXFRs (zone,
/// primary → secondary, serial, records, ms); and the console must stay
/// free of errors. The screenshot after the first dig,
/// target/live-screenshot.png, is the README's picture (web/screenshot.png).
#[test]
fn the_page_draws_a_real_dig_and_its_cache_hit() {
    const CHROMIUM: &str = "/usr/bin/chromium";
    if require("dig", "bind9-dnsutils").is_none() {
        return;
    }
    let playwright = std::process::Command::new("python3")
        .args(["-c", "import playwright.sync_api"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !playwright || !std::path::Path::new(CHROMIUM).is_file() {
        cannot_run(
            "the browser test needs python3 with playwright and chromium (.ci/run installs both)",
        );
        return;
    }
    let (up, resolver, web) = start_up_binary();
    let out = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo_path("target"));
    std::fs::create_dir_all(&out).unwrap();
    let mut browser = Process::spawn(
        std::process::Command::new("python3")
            .arg(repo_path("tests/integration/live_browser.py"))
            .arg(format!("http://{web}/"))
            .arg(CHROMIUM)
            .arg(&out)
            .arg(resolver.ip().to_string())
            .arg(resolver.port().to_string())
            .arg(repo_path("web/tests/web"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    // A cold Chromium on a loaded two-core machine takes seconds.
    let status = browser.wait_exit(Duration::from_secs(180));
    let output = browser.output();
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        status.is_some_and(|status| status.success()),
        "the page did not draw the dig's walk:\n{report}"
    );
    assert!(out.join("live-screenshot.png").is_file());
    drop(up);
}

/// A root zone with one name in it, for a standalone resolver to walk.
const TINY_ROOT: &str = "\
$TTL 3600
@ IN SOA ns.root. hostmaster.root. 7 3600 600 86400 300
@ IN NS ns.root.
ns.root. IN A 127.0.0.1
www.example. IN A 192.0.2.80
";

/// Starts `dnslab ARGS` and waits until `probe` (a DNS question to it)
/// is answered; `None` when it exits first (a port taken), with stderr.
fn start_answering(args: &[String], server: SocketAddr, ask: &Ask) -> Result<Process, String> {
    let mut process = Process::spawn(
        dnslab()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let query = ask.to_message();
    let answered = process.poll(Duration::from_secs(20), || {
        udp_message(server, &query, Duration::from_millis(500))
    });
    match answered {
        Some(_) => Ok(process),
        None => Err(String::from_utf8_lossy(&process.output().stderr).into_owned()),
    }
}

/// The standalone servers serve their web ports too: `dnslab resolver
/// --web` shows its walks' upstream counts and has no zones; `dnslab auth
/// --web` reloads its zones and, having no resolver, refuses cache
/// commands with the reason; and `dnslab up` whose page port is taken
/// stops at once and says so.
#[test]
fn resolver_and_auth_serve_web_ports_and_a_taken_port_is_a_clear_error() {
    let dir = ScratchDir::new("live-web");
    std::fs::write(dir.join("root.zone"), TINY_ROOT).unwrap();
    std::fs::write(dir.join("hints"), ". NS ns.root.\nns.root. A 127.0.0.1\n").unwrap();
    let www = Ask::new("www.example.", RecordType::A).rd();
    let (_auth, _resolver, auth_web, resolver_web, port) =
        on_a_random_port("auth and resolver", |port| {
            let auth = SocketAddr::from(([127, 0, 0, 1], port));
            let resolver = SocketAddr::from(([127, 0, 0, 1], random_port()));
            let (auth_web, resolver_web) = (random_port(), random_port());
            let zone = format!(".={}", dir.join("root.zone").display());
            let args = |list: &[&str]| list.iter().map(|a| a.to_string()).collect::<Vec<_>>();
            let auth_args = args(&["auth", "--listen", &auth.to_string(), "--zone", &zone]);
            let web = format!("127.0.0.1:{auth_web}");
            let auth_args = [auth_args, args(&["--web", &web])].concat();
            let auth_process =
                start_answering(&auth_args, auth, &Ask::new("www.example.", RecordType::A));
            let auth_process = match auth_process {
                Ok(process) => process,
                Err(stderr) if stderr.contains("in use") => return None,
                Err(stderr) => panic!("dnslab auth: {stderr}"),
            };
            let hints = dir.join("hints").display().to_string();
            let web = format!("127.0.0.1:{resolver_web}");
            let resolver_args = args(&[
                "resolver",
                "--listen",
                &resolver.to_string(),
                "--root-hints",
                &hints,
                "--upstream-port",
                &port.to_string(),
                "--web",
                &web,
            ]);
            match start_answering(&resolver_args, resolver, &www) {
                Ok(process) => Some((auth_process, process, auth_web, resolver_web, port)),
                Err(stderr) if stderr.contains("in use") => None,
                Err(stderr) => panic!("dnslab resolver: {stderr}"),
            }
        });
    let resolver_web = SocketAddr::from(([127, 0, 0, 1], resolver_web));
    let auth_web = SocketAddr::from(([127, 0, 0, 1], auth_web));

    let (ok, stats, err) = ctl(resolver_web, &["stats"]);
    assert!(ok, "{err}");
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    let upstreams = stats["upstreams"].as_array().expect("upstreams");
    assert_eq!(upstreams.len(), 1, "{stats}");
    assert_eq!(upstreams[0]["to"], format!("127.0.0.1:{port}"));
    assert_eq!(
        upstreams[0]["queries"], 2,
        "example. (minimised), then www.example."
    );
    let (ok, status, _) = ctl(resolver_web, &["status"]);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert!(
        ok && status["resolver"] == true && status["zones"].is_null(),
        "{status}"
    );

    let (ok, reloaded, err) = ctl(auth_web, &["reload"]);
    assert!(ok, "{err}");
    assert_eq!(reloaded, format!("127.0.0.1:{port} . serial 7\n"));
    let (ok, _, err) = ctl(auth_web, &["dump-cache"]);
    assert!(
        !ok && err.contains("HTTP 501") && err.contains("resolver"),
        "{err}"
    );
    let metrics = test_runtime().block_on(http::get(auth_web, "/metrics"));
    assert!(
        metrics.body.contains(&format!(
            "dnslab_zone_serial{{server=\"127.0.0.1:{port}\",zone=\".\"}} 7"
        )),
        "{}",
        metrics.body
    );
    assert!(
        metrics.body.contains(&format!(
            "dnslab_dns_queries_total{{server=\"dns://127.0.0.1:{port}\",proto=\"udp\",type=\"A\",rcode=\"NOERROR\"}}"
        )),
        "{}",
        metrics.body
    );

    // The auth server holds auth_web: `up` asked to serve its page there.
    let resolver_port = random_port();
    let taken = dnslab()
        .args(["up", "--port", &random_port().to_string()])
        .args(["--resolver", &format!("127.0.0.1:{resolver_port}")])
        .args(["--resolver", &format!("127.0.1.1:{resolver_port}")])
        .args(["--web", &auth_web.to_string()])
        .output()
        .expect("run dnslab up");
    assert_eq!(taken.status.code(), Some(1), "{taken:?}");
    let stderr = String::from_utf8_lossy(&taken.stderr);
    assert!(stderr.contains("the web port is in use"), "{stderr}");
}

/// `GET /api/transfers`: the hierarchy's NOTIFY and transfers, newest first.
fn transfers(live: &Live) -> Vec<dnslab_web::ZoneEntry> {
    let reply = live.get("/api/transfers");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    serde_json::from_value(body["events"].clone())
        .unwrap_or_else(|e| panic!("zone entries ({e}): {}", reply.body))
}

/// The page's "Zone transfers" list, over HTTP: the b. root server's first
/// copy of the root zone (AXFR) is there from the start; after the root
/// zone's serial is raised (one name added) and the hierarchy reloaded,
/// a.root-servers.lab. sends NOTIFY for the new serial, b.root-servers.lab.
/// accepts it and follows by IXFR with exactly one change; newest first.
#[test]
fn notify_and_ixfr_of_a_reload_are_listed_on_api_transfers() {
    let live = Live::start();
    let (a, b) = ("a.root-servers.lab.", "b.root-servers.lab.");
    let at_start = transfers(&live);
    let first = at_start
        .iter()
        .find(|e| e.kind == "AXFR" && e.zone == ".")
        .unwrap_or_else(|| panic!("the first copy of the root: {at_start:#?}"));
    assert_eq!((first.from.as_str(), first.to.as_str()), (a, b));
    assert_eq!(first.old_serial, None);
    assert!(first.records.is_some_and(|n| n > 10), "{first:?}");

    let path = live.running.zone_file("root.zone");
    let text = std::fs::read_to_string(&path).expect("root zone file");
    let old: u32 = 2026112201;
    assert!(text.contains(&old.to_string()), "the root's serial");
    let new = old + 1;
    let text = text.replacen(&old.to_string(), &new.to_string(), 1);
    std::fs::write(&path, format!("{text}lab-test IN A 192.0.2.99\n")).expect("write zone");
    live.running.hierarchy().reloader().reload();

    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let entries = loop {
        let entries = transfers(&live);
        if entries.iter().any(|e| e.kind == "IXFR" && e.zone == ".") {
            break entries;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no IXFR of the root within 10 s: {entries:#?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let position = |kind: &str| {
        entries
            .iter()
            .position(|e| e.kind == kind && e.zone == "." && e.serial == Some(new))
            .unwrap_or_else(|| panic!("{kind} of serial {new}: {entries:#?}"))
    };
    let (sent, received, ixfr) = (
        position("NOTIFY"),
        entries
            .iter()
            .position(|e| e.kind == "NOTIFY received" && e.zone == "." && e.to == b)
            .unwrap_or_else(|| panic!("NOTIFY received by {b}: {entries:#?}")),
        position("IXFR"),
    );
    for at in [sent, received, ixfr] {
        let entry = &entries[at];
        assert_eq!(
            (entry.from.as_str(), entry.to.as_str()),
            (a, b),
            "{entry:?}"
        );
    }
    let ixfr_entry = &entries[ixfr];
    assert_eq!(ixfr_entry.old_serial, Some(old));
    assert_eq!(ixfr_entry.records, Some(1), "one name added");
    assert!(ixfr_entry.ms.is_some() && ixfr_entry.error.is_none());
    // Newest first: the transfer after the NOTIFY that caused it.
    assert!(ixfr < received && received < sent, "{entries:#?}");
    assert!(
        entries.windows(2).all(|w| w[0].at_ms >= w[1].at_ms),
        "{entries:#?}"
    );
}
