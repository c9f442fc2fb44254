//! `dnslab up`: the topology checks (one broken topology per rule, each
//! rejected with a message naming the problem and its line), and the
//! built-in default hierarchy started for real on loopback: every story of
//! zones/default/topology.yaml answered through the resolver, single steps
//! of the walk answered by the root, a TLD and an authoritative server, the
//! same through `dig`, and the built binary run as a user would.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use dnslab::topology::default::DefaultTopology;
use dnslab::topology::{self, Hierarchy, RunningResolver, Topology};
use dnslab_resolver::ZoneServers;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};

use crate::common::{
    assert_recursive_header, dig, dnslab, lines, on_a_random_port, random_port, repo_path,
    run_tool, section_without_ttl, test_runtime, udp, udp_message, Ask, Process,
};

// ---------------------------------------------------------------------------
// Checks of broken topologies
// ---------------------------------------------------------------------------

/// The 1-based line of the `nth` line of `file` containing `needle`, so the
/// tests do not hard-code line numbers of the fixtures.
fn line_of(file: &Path, needle: &str, nth: usize) -> usize {
    let text = std::fs::read_to_string(file).expect("fixture readable");
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.contains(needle))
        .nth(nth)
        .map(|(i, _)| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} not in {}", file.display()))
}

/// Loads `tests/data/topologies/<name>` and returns every problem, one per
/// line; panics when it loads clean.
fn problems_of(name: &str) -> Vec<String> {
    match topology::load(&fixture(name)) {
        Ok(_) => panic!("{name} was accepted"),
        Err(problems) => problems.0.iter().map(ToString::to_string).collect(),
    }
}

/// `tests/data/topologies/<name>`.
fn fixture(name: &str) -> PathBuf {
    repo_path(&format!("tests/data/topologies/{name}"))
}

/// The only problem of a broken topology; its text must point at
/// `file:line` and contain every one of `words`.
fn assert_one_problem(name: &str, file: &Path, line: usize, words: &[&str]) {
    let problems = problems_of(name);
    assert_eq!(problems.len(), 1, "{name}: {problems:#?}");
    let at = format!("{}:{line}: ", file.display());
    assert!(
        problems[0].contains(&at),
        "{name}: expected {at:?} in {:?}",
        problems[0]
    );
    for word in words {
        assert!(
            problems[0].contains(word),
            "{name}: expected {word:?} in {:?}",
            problems[0]
        );
    }
}

/// Two local DNS servers on one address: `--check` wants each on its own
/// loopback address, or a CDN's server could not tell them apart.
#[test]
fn resolvers_sharing_an_address_are_reported_at_the_second() {
    let yaml = fixture("resolvers-shared.yaml");
    assert_one_problem(
        "resolvers-shared.yaml",
        &yaml,
        line_of(&yaml, "ISP in the west", 0),
        &[
            "ISP in the west",
            "ISP in the east",
            "share the address 127.0.0.1",
        ],
    );
}

/// A secondary names its primary by server name (`secondary_of`); a name
/// that is no server of the topology is reported at the zone's line,
/// naming both, before anything starts.
#[test]
fn a_secondary_of_an_unknown_server_is_reported_at_its_line() {
    let file = fixture("secondary-of-unknown.yaml");
    let line = line_of(&file, "secondary_of", 0);
    assert_one_problem(
        "secondary-of-unknown.yaml",
        &file,
        line,
        &[
            "ns2.example.com.",
            "ns1.exmaple.com.",
            "no server of the topology",
        ],
    );
}

/// A primary must serve the zone it is asked to copy out: org. is no
/// zone of a.gtld.test., so the secondary could never get it. A zone
/// copied as it should be (com., the root) raises nothing.
#[test]
fn a_secondary_of_a_server_without_the_zone_is_reported() {
    let file = fixture("secondary.yaml");
    let line = line_of(&file, "zone: org.", 0);
    assert_one_problem(
        "secondary.yaml",
        &file,
        line,
        &["org.", "a.gtld.test.", "does not serve org."],
    );
}

/// The fixture all the broken ones are variations of loads clean, so each
/// broken one fails for its own reason only.
#[test]
fn good_fixture_topology_validates_clean() {
    let topology = topology::load(&fixture("good.yaml")).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(topology.servers.len(), 3);
    assert_eq!(topology.port, 5300);
    let addresses: Vec<String> = topology
        .resolvers
        .iter()
        .map(|r| r.address.to_string())
        .collect();
    assert_eq!(addresses, ["127.0.0.1:1053"], "a single `resolver:`");
    assert!(
        topology.log_queries,
        "query logs are on unless the file says otherwise"
    );
}

/// A server named by a delegation that does not serve the child zone
/// would answer with REFUSED or an upward referral: a lame delegation,
/// reported at the NS record of the parent zone.
#[test]
fn lame_delegation_is_reported_at_the_parents_ns_record() {
    let com = fixture("zones/com.zone");
    let yaml = fixture("lame.yaml");
    let server_at = format!(
        "see {}:{}",
        yaml.display(),
        line_of(&yaml, "name: ns1.example.com.", 0)
    );
    assert_one_problem(
        "lame.yaml",
        &com,
        line_of(&com, "example         IN NS", 0),
        &[
            "lame delegation",
            "example.com.",
            "ns1.example.com.",
            "127.0.0.4",
            "serves: nothing",
            &server_at,
        ],
    );
}

/// Glue in com. says 127.0.0.4, the topology runs the server on
/// 127.0.0.5: resolvers would ask the wrong address.
#[test]
fn glue_that_disagrees_with_the_topology_is_reported() {
    let com = fixture("zones/com.zone");
    let yaml = fixture("glue-mismatch.yaml");
    let server_at = format!(
        "({}:{})",
        yaml.display(),
        line_of(&yaml, "address: 127.0.0.5", 0)
    );
    assert_one_problem(
        "glue-mismatch.yaml",
        &com,
        line_of(&com, "example         IN NS", 0),
        &[
            "glue for ns1.example.com.",
            "says 127.0.0.4",
            "at 127.0.0.5",
            &server_at,
        ],
    );
}

/// A name server inside the zone it serves is unreachable without glue.
/// The zone checks of the parent already catch it, at the NS record.
#[test]
fn missing_glue_is_reported_at_the_parents_ns_record() {
    let com = fixture("zones/com-noglue.zone");
    assert_one_problem(
        "missing-glue.yaml",
        &com,
        line_of(&com, "example         IN NS", 0),
        &["glue", "ns1.example.com."],
    );
}

/// A zone nobody delegates cannot be found by any resolver.
#[test]
fn undelegated_zone_is_reported_at_its_yaml_line() {
    let yaml = fixture("not-delegated.yaml");
    assert_one_problem(
        "not-delegated.yaml",
        &yaml,
        line_of(&yaml, "zones/example.net.zone", 0),
        &[
            "zone example.net. is served (by ns1.example.com.)",
            "parent zone . has no NS records delegating it",
        ],
    );
}

/// `delegated: false` says a zone waits for its registration; it is no
/// problem then (the default's newstartup.com.), but it is one where the
/// parent does delegate the zone: the mark would mislead the reader.
#[test]
fn a_zone_marked_not_delegated_must_not_be_delegated() {
    let written = DefaultTopology::write().expect("write default topology");
    let path = written.path();
    let yaml = std::fs::read_to_string(&path).expect("topology");
    let marked = yaml.replace(
        "{ zone: enterprise.com., file: enterprise.com.zone }",
        "{ zone: enterprise.com., file: enterprise.com.zone, delegated: false }",
    );
    assert_ne!(marked, yaml);
    std::fs::write(&path, marked).expect("write topology");
    let problems = topology::load(&path).expect_err("enterprise.com. is delegated");
    assert_eq!(problems.0.len(), 1, "{problems}");
    let problem = problems.0[0].to_string();
    assert!(
        problem.contains("zone enterprise.com. is marked `delegated: false`, but its parent zone com. delegates it"),
        "{problem}"
    );
    assert!(
        problem.starts_with(&format!("{}:", path.display())),
        "{problem}"
    );
}

/// A topology names a zone file that is not there (a typo, a file not yet
/// written). `dnslab up` must refuse to start and point at the YAML line
/// that names the file, not fail later with an I/O error from deep inside
/// the zone loader: the user fixes the line it shows.
#[test]
fn missing_zone_file_is_reported_at_its_yaml_line() {
    let yaml = fixture("missing-file.yaml");
    assert_one_problem(
        "missing-file.yaml",
        &yaml,
        line_of(&yaml, "no-such.zone", 0),
        &["zone file", "no-such.zone", "does not exist"],
    );
}

/// The zone reader's own message, with the zone file's line, comes through.
#[test]
fn broken_zone_file_is_reported_with_its_own_line() {
    let problems = problems_of("bad-zone.yaml");
    let zone = fixture("zones/broken.zone");
    let at = format!("{}:{}", zone.display(), line_of(&zone, "not-an-address", 0));
    assert!(
        problems.iter().any(|p| p.contains(&at)),
        "expected {at} in {problems:#?}"
    );
}

/// A topology that is not even YAML (an unclosed `{`) is one problem, at
/// the line where the parser noticed, so an editing slip in a hand-written
/// file is found as quickly as a broken rule; libyaml may notice on the
/// line itself or on the next, and either is accepted.
#[test]
fn bad_yaml_is_reported_with_its_line() {
    let problems = problems_of("bad-yaml.yaml");
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let yaml = fixture("bad-yaml.yaml");
    // libyaml notices the unclosed `{` at the end of the file or on the line.
    let open = line_of(&yaml, "zones/example.com.zone", 0);
    let prefix = format!("{}:", yaml.display());
    let line: usize = problems[0]
        .strip_prefix(&prefix)
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no line in {:?}", problems[0]));
    assert!(
        (open..=open + 1).contains(&line),
        "line {line}, expected near {open}: {problems:?}"
    );
}

/// A misspelt key (`adress`) would otherwise be ignored and the server
/// started without its address. Unknown keys are errors
/// (`deny_unknown_fields`): the message names the key, the line and the
/// keys that are allowed there, so the typo is obvious.
#[test]
fn unknown_key_is_rejected_naming_the_key_and_line() {
    let yaml = fixture("unknown-key.yaml");
    assert_one_problem(
        "unknown-key.yaml",
        &yaml,
        line_of(&yaml, "adress:", 0),
        &[
            "unknown field `adress`",
            "expected one of `name`, `address`, `ecs`, `zones`",
        ],
    );
}

/// Two servers given one address would race for the same socket, and one
/// of them would silently never serve. The problem is reported at the
/// second use, naming both servers and the line of the first, so the user
/// sees which two entries collide.
#[test]
fn duplicate_address_names_both_servers_and_lines() {
    let yaml = fixture("duplicate-address.yaml");
    let first = line_of(&yaml, "address: 127.0.0.3", 0);
    assert_one_problem(
        "duplicate-address.yaml",
        &yaml,
        line_of(&yaml, "address: 127.0.0.3", 1),
        &[
            "address 127.0.0.3 is used twice",
            "ns1.example.com.",
            "a.gtld.test.",
            &format!("(line {first})"),
        ],
    );
}

/// `dnslab up` binds every server it runs, and the lab only ever sends
/// traffic to loopback: an address that is not loopback (here 192.0.2.4)
/// is rejected at its line before anything starts, rather than failing to
/// bind or, worse, answering on a real network.
#[test]
fn non_loopback_server_address_is_rejected() {
    let yaml = fixture("not-loopback.yaml");
    assert_one_problem(
        "not-loopback.yaml",
        &yaml,
        line_of(&yaml, "192.0.2.4", 0),
        &["192.0.2.4", "not loopback"],
    );
}

// ---------------------------------------------------------------------------
// The default hierarchy, running
// ---------------------------------------------------------------------------

/// The built-in hierarchy (`zones/default/`, compiled into the binary) is
/// what `dnslab up` runs without arguments, so it must pass every check a
/// user's topology must pass: 15 servers on port 5300, and root hints
/// taken from the two servers of `.`. A change to the default's zones that
/// breaks a delegation fails here first.
#[test]
fn default_topology_validates_clean() {
    let written = DefaultTopology::write().expect("write default topology");
    let topology = topology::load(&written.path()).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(topology.servers.len(), 15);
    assert_eq!(topology.port, 5300);
    let hints: Vec<String> = topology
        .root_hints()
        .iter()
        .map(|(n, a)| format!("{n} {a}"))
        .collect();
    assert_eq!(
        hints,
        [
            "a.root-servers.lab. 127.0.0.2",
            "b.root-servers.lab. 127.0.0.3"
        ]
    );
}

/// The default hierarchy running on a random shared port, its resolver on
/// an ephemeral port of 127.0.0.1. The runtime lives as long as the value.
pub(crate) struct RunningDefault {
    hierarchy: Option<Hierarchy>,
    pub(crate) runtime: tokio::runtime::Runtime,
    _files: DefaultTopology,
}

impl RunningDefault {
    /// The servers use the default's fixed 127.0.0.x addresses, so tests
    /// starting it concurrently differ by port: pick a random high one and
    /// try another when it is taken.
    pub(crate) fn start() -> RunningDefault {
        RunningDefault::start_with(|_| {})
    }

    /// [`start`](Self::start), with `adjust` applied to the topology once
    /// its port is chosen.
    fn start_with(adjust: impl Fn(&mut Topology)) -> RunningDefault {
        let files = DefaultTopology::write().expect("write default topology");
        let mut topology: Topology =
            topology::load(&files.path()).unwrap_or_else(|p| panic!("{p}"));
        for resolver in &mut topology.resolvers {
            resolver.address.set_port(0);
        }
        topology.log_queries = false;
        let runtime = test_runtime();
        let hierarchy = on_a_random_port("the default hierarchy", |port| {
            topology.port = port;
            adjust(&mut topology);
            match runtime.block_on(topology::start(&topology)) {
                Ok(hierarchy) => Some(hierarchy),
                Err(e) if e.is_addr_in_use() => None,
                Err(e) => panic!("cannot start the default hierarchy: {e}"),
            }
        });
        RunningDefault {
            hierarchy: Some(hierarchy),
            runtime,
            _files: files,
        }
    }

    pub(crate) fn hierarchy(&self) -> &Hierarchy {
        self.hierarchy.as_ref().expect("running")
    }

    /// The first local DNS server, the ISP in the east.
    pub(crate) fn resolver(&self) -> SocketAddr {
        self.hierarchy().resolver
    }

    /// The local DNS server named `name`.
    fn resolver_named(&self, name: &str) -> &RunningResolver {
        let resolvers = &self.hierarchy().resolvers;
        resolvers
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no resolver {name}"))
    }

    fn port(&self) -> u16 {
        self.hierarchy().servers[0].address.port()
    }

    /// The master file `name` of the running topology (e.g. "root.zone").
    pub(crate) fn zone_file(&self, name: &str) -> std::path::PathBuf {
        self._files.dir().join(name)
    }

    /// The server of the hierarchy at `address` (e.g. "127.0.0.2").
    fn server(&self, address: &str) -> SocketAddr {
        SocketAddr::new(address.parse().unwrap(), self.port())
    }
}

impl Drop for RunningDefault {
    fn drop(&mut self) {
        if let Some(hierarchy) = self.hierarchy.take() {
            let stopped = self.runtime.block_on(async {
                tokio::time::timeout(Duration::from_secs(10), hierarchy.stop()).await
            });
            if !std::thread::panicking() {
                assert!(stopped.is_ok(), "the hierarchy stops promptly");
            }
        }
    }
}

/// RFC 1996 in the lab: dns2.networkutopia.com is a secondary of dns1.
/// It serves dns1's copy from the start; after the zone file is edited
/// (serial + 1, a new name) and the hierarchy reloaded (`dnslab up` on
/// SIGHUP), dns1 sends NOTIFY and dns2 serves the new name within
/// seconds, through the resolver too.
#[test]
fn a_secondary_of_the_default_hierarchy_follows_its_primary_after_a_reload() {
    let running = RunningDefault::start();
    let dns2 = running.server("127.0.0.12");
    let soa = |server| udp(server, &Ask::new("networkutopia.com.", RecordType::SOA));
    let before = soa(dns2);
    assert!(
        before.metadata.authoritative,
        "dns2 serves its copy from the start"
    );
    let RData::SOA(old) = &before.answers[0].data else {
        panic!("an SOA")
    };
    let serial = old.serial;
    let path = running._files.dir().join("networkutopia.com.zone");
    let text = std::fs::read_to_string(&path).expect("zone file");
    let text = text.replacen(&serial.to_string(), &(serial + 1).to_string(), 1);
    std::fs::write(&path, format!("{text}blog IN A 192.0.2.77\n")).expect("write zone");
    running.hierarchy().reloader().reload();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut followed = false;
    while !followed && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        followed =
            matches!(&soa(dns2).answers[0].data, RData::SOA(new) if new.serial == serial + 1);
    }
    assert!(followed, "dns2 took serial {}", serial + 1);
    let blog = udp(dns2, &Ask::new("blog.networkutopia.com.", RecordType::A));
    assert_eq!(blog.answers.len(), 1);
    assert_answer(
        &running,
        "blog.networkutopia.com.",
        RecordType::A,
        &["blog.networkutopia.com. A 192.0.2.77"],
    );
}

/// Asks the resolver with RD=1 and checks what every answer through a
/// resolver must have (see [`assert_recursive_header`]).
fn resolve(running: &RunningDefault, name: &str, qtype: RecordType) -> Message {
    let reply = udp(running.resolver(), &Ask::new(name, qtype).rd());
    assert_recursive_header(&reply, name);
    reply
}

fn assert_answer(running: &RunningDefault, name: &str, qtype: RecordType, expected: &[&str]) {
    let reply = resolve(running, name, qtype);
    assert_eq!(
        reply.metadata.response_code,
        ResponseCode::NoError,
        "{name} {qtype}"
    );
    assert_eq!(
        section_without_ttl(&reply.answers),
        lines(expected),
        "answer for {name} {qtype}"
    );
}

/// The resolver's section of a topology gives it stub zones (and forward
/// zones) as `--stub-zone` does: with cs.umass.edu a stub zone at its
/// server (127.0.0.10), gaia.cs.umass.edu is one upstream query, not the
/// walk from the root through edu and umass.edu.
#[test]
fn the_resolver_section_stub_zone_is_asked_directly() {
    let running = RunningDefault::start_with(|topology| {
        let text = format!("cs.umass.edu=127.0.0.10:{}", topology.port);
        let stub = ZoneServers::parse(&text).expect("a stub zone");
        for resolver in &mut topology.resolvers {
            resolver.stub_zones = vec![stub.clone()];
        }
    });
    let before = running.hierarchy().resolver().stats().upstream_queries;
    assert_answer(
        &running,
        "gaia.cs.umass.edu.",
        RecordType::A,
        &["gaia.cs.umass.edu. A 192.0.2.12"],
    );
    let cost = running.hierarchy().resolver().stats().upstream_queries - before;
    assert_eq!(cost, 1, "the stub server only");
}

/// Every story of zones/default/topology.yaml, answered through the
/// resolver: the walk through an intermediate server, glue, aliasing,
/// load distribution, CDN handover through a glueless delegation, and a
/// wildcard, plus a name that does not exist.
#[test]
fn default_hierarchy_answers_every_story_through_the_resolver() {
    let running = RunningDefault::start();
    // 1. root -> edu -> umass.edu -> cs.umass.edu.
    assert_answer(
        &running,
        "gaia.cs.umass.edu.",
        RecordType::A,
        &["gaia.cs.umass.edu. A 192.0.2.12"],
    );
    // 2. networkutopia.com, via the glue in com.
    assert_answer(
        &running,
        "www.networkutopia.com.",
        RecordType::A,
        &["www.networkutopia.com. A 203.0.113.80"],
    );
    assert_answer(
        &running,
        "networkutopia.com.",
        RecordType::MX,
        &["networkutopia.com. MX 10 mail.networkutopia.com."],
    );
    // 3. Host aliasing: the CNAME, then the canonical name's address.
    assert_answer(
        &running,
        "www.enterprise.com.",
        RecordType::A,
        &[
            "www.enterprise.com. CNAME relay1.west-coast.enterprise.com.",
            "relay1.west-coast.enterprise.com. A 198.51.100.10",
        ],
    );
    // 4. Mail-server aliasing: one name, both A and MX.
    assert_answer(
        &running,
        "enterprise.com.",
        RecordType::A,
        &["enterprise.com. A 198.51.100.10"],
    );
    assert_answer(
        &running,
        "enterprise.com.",
        RecordType::MX,
        &["enterprise.com. MX 10 relay1.west-coast.enterprise.com."],
    );
    // 5. Load distribution: every replica.
    assert_answer(
        &running,
        "www.busy-site.org.",
        RecordType::A,
        &[
            "www.busy-site.org. A 203.0.113.10",
            "www.busy-site.org. A 203.0.113.11",
            "www.busy-site.org. A 203.0.113.12",
        ],
    );
    // 6 and 7. CDN handover, both zones behind glueless delegations.
    assert_answer(
        &running,
        "video.netcinema.com.",
        RecordType::A,
        &[
            "video.netcinema.com. CNAME a1105.kingcdn.com.",
            "a1105.kingcdn.com. A 203.0.113.105",
            "a1105.kingcdn.com. A 203.0.113.106",
        ],
    );
    // 8. The wildcard, and a name that exists next to it.
    assert_answer(
        &running,
        "anything.tea-shop.co.uk.",
        RecordType::A,
        &["anything.tea-shop.co.uk. A 192.0.2.81"],
    );
    assert_answer(
        &running,
        "www.tea-shop.co.uk.",
        RecordType::A,
        &["www.tea-shop.co.uk. A 192.0.2.80"],
    );
    // No such name: NXDOMAIN with the zone's SOA.
    let reply = resolve(&running, "nosuch.cs.umass.edu.", RecordType::A);
    assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
    assert!(reply.answers.is_empty(), "{:?}", reply.answers);
    let soa: Vec<String> = reply
        .authorities
        .iter()
        .map(|r| format!("{} {}", r.name, r.record_type()))
        .collect();
    assert_eq!(soa, ["cs.umass.edu. SOA"]);
}

/// The textbook's CDN, as its figure shows it: two ISPs' local DNS servers
/// ask for video.netcinema.com, follow the CNAME to the CDN's
/// a1105.kingcdn.com, and the CDN's server answers each with the cluster
/// near it, chosen by the resolver's own address (kingcdn.com's views).
/// Each keeps its answer in a cache of its own: asked again, neither asks
/// anyone.
#[test]
fn two_isps_get_two_cdn_clusters_each_from_its_own_cache() {
    let running = RunningDefault::start();
    let clusters = [
        ("ISP in the east", ["203.0.113.105", "203.0.113.106"]),
        ("ISP in the west", ["198.51.100.105", "198.51.100.106"]),
    ];
    for (isp, cluster) in clusters {
        let local = running.resolver_named(isp);
        let ask = || {
            udp(
                local.address,
                &Ask::new("video.netcinema.com.", RecordType::A).rd(),
            )
        };
        let reply = ask();
        assert_recursive_header(&reply, isp);
        let mut expected = vec!["video.netcinema.com. CNAME a1105.kingcdn.com.".to_string()];
        expected.extend(cluster.iter().map(|a| format!("a1105.kingcdn.com. A {a}")));
        expected.sort();
        assert_eq!(section_without_ttl(&reply.answers), expected, "{isp}");
        let asked = local.resolver.stats().upstream_queries;
        assert!(asked > 0, "{isp} walked the hierarchy itself");
        assert_eq!(section_without_ttl(&ask().answers), expected, "{isp} again");
        assert_eq!(
            local.resolver.stats().upstream_queries,
            asked,
            "{isp}'s cache"
        );
    }
}

/// Load distribution through a local DNS server: 30 digs for
/// www.busy-site.org, and each of its three replicas comes first about a
/// third of the time (the cache's answers take turns; the first comes
/// from the authoritative server, which rotates too).
#[test]
fn thirty_digs_spread_over_the_three_replicas() {
    let running = RunningDefault::start();
    let mut first = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..30 {
        let Some(out) = dig(running.resolver(), &["+short", "www.busy-site.org"]) else {
            return; // no dig: SKIPPED (a failure in CI)
        };
        let addresses: Vec<&str> = out.lines().collect();
        assert_eq!(
            addresses.len(),
            3,
            "every answer holds every replica: {out}"
        );
        *first.entry(addresses[0].to_string()).or_default() += 1;
    }
    let replicas = ["203.0.113.10", "203.0.113.11", "203.0.113.12"];
    assert_eq!(first.keys().collect::<Vec<_>>(), replicas, "{first:?}");
    for (replica, times) in &first {
        assert!(
            (8..=12).contains(times),
            "{replica} first {times} times of 30: {first:?}"
        );
    }
}

/// The textbook's "10 messages" case: a cold lookup of gaia.cs.umass.edu
/// costs the resolver exactly four exchanges (root, edu., umass.edu. and
/// cs.umass.edu.), which with the client's query and the answer makes ten
/// messages; asked again, the cache answers and no server is asked.
#[test]
fn gaia_cold_lookup_asks_four_servers_and_a_repeat_asks_none() {
    let running = RunningDefault::start();
    let sent = || running.hierarchy().resolver().stats().upstream_queries;
    let before = sent();
    assert_answer(
        &running,
        "gaia.cs.umass.edu.",
        RecordType::A,
        &["gaia.cs.umass.edu. A 192.0.2.12"],
    );
    assert_eq!(sent() - before, 4, "root, edu., umass.edu., cs.umass.edu.");
    assert_answer(
        &running,
        "gaia.cs.umass.edu.",
        RecordType::A,
        &["gaia.cs.umass.edu. A 192.0.2.12"],
    );
    assert_eq!(
        sent() - before,
        4,
        "a repeated question is answered from the cache"
    );
}

/// A referral as one step of the walk shows it: AA=0, no answer, the
/// child's NS records in authority and their glue (if any) in additional.
fn assert_referral(msg: &Message, ns: &[&str], glue: &[&str]) {
    assert!(
        !msg.metadata.authoritative,
        "a referral is not authoritative"
    );
    assert!(msg.answers.is_empty(), "a referral has no answer");
    assert_eq!(section_without_ttl(&msg.authorities), lines(ns), "NS");
    assert_eq!(section_without_ttl(&msg.additionals), lines(glue), "glue");
}

/// One step of the walk at a time, as `dig +norec` shows it: the root and
/// the TLD refer (AA=0, NS in authority, glue in additional where the
/// parent has it), the last server answers with AA=1.
#[test]
fn default_hierarchy_servers_answer_single_steps_without_recursion() {
    let running = RunningDefault::start();
    let ask = Ask::new("gaia.cs.umass.edu.", RecordType::A);

    let root = udp(running.server("127.0.0.2"), &ask);
    assert_eq!(root.metadata.response_code, ResponseCode::NoError);
    assert!(!root.metadata.recursion_available);
    assert_referral(
        &root,
        &["edu. NS a.edu-servers.lab."],
        &["a.edu-servers.lab. A 127.0.0.6"],
    );

    let edu = udp(running.server("127.0.0.6"), &ask);
    assert_referral(
        &edu,
        &["umass.edu. NS dns.umass.edu."],
        &["dns.umass.edu. A 127.0.0.9"],
    );

    let umass = udp(running.server("127.0.0.9"), &ask);
    assert_referral(
        &umass,
        &["cs.umass.edu. NS dns.cs.umass.edu."],
        &["dns.cs.umass.edu. A 127.0.0.10"],
    );

    let cs = udp(running.server("127.0.0.10"), &ask);
    assert_eq!(cs.metadata.response_code, ResponseCode::NoError);
    assert!(
        cs.metadata.authoritative,
        "the zone's own server answers AA=1"
    );
    assert_eq!(
        section_without_ttl(&cs.answers),
        ["gaia.cs.umass.edu. A 192.0.2.12"]
    );

    // A glueless referral: com. cannot hold addresses under net.
    let com = udp(
        running.server("127.0.0.4"),
        &Ask::new("video.netcinema.com.", RecordType::A),
    );
    // No glue for a glueless delegation.
    assert_referral(&com, &["netcinema.com. NS ns1.hosting.net."], &[]);
}

/// What a user pastes from `dnslab up`'s table works: dig through the
/// resolver, and `dig +norec` at a root, a TLD and an authoritative server.
#[test]
fn dig_through_the_resolver_and_at_each_level_of_the_default_hierarchy() {
    let running = RunningDefault::start();
    let Some(out) = dig(running.resolver(), &["+short", "video.netcinema.com"]) else {
        return;
    };
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        ["203.0.113.105", "203.0.113.106", "a1105.kingcdn.com."]
    );

    let out = dig(running.resolver(), &["gaia.cs.umass.edu"]).unwrap_or_default();
    assert!(out.contains("status: NOERROR"), "{out}");
    assert!(out.contains(" ra"), "RA in dig's flags: {out}");

    let out = dig(
        running.server("127.0.0.2"),
        &["+norec", "gaia.cs.umass.edu"],
    )
    .unwrap_or_default();
    assert!(out.contains("status: NOERROR"), "{out}");
    assert!(
        out.contains("ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 2"),
        "one NS, its glue and OPT: {out}"
    );
    assert!(out.contains("a.edu-servers.lab."), "{out}");
    assert!(
        !out.contains(" aa"),
        "the root refers, it does not answer: {out}"
    );

    let out = dig(
        running.server("127.0.0.4"),
        &["+norec", "www.networkutopia.com"],
    )
    .unwrap_or_default();
    assert!(out.contains("AUTHORITY: 2"), "{out}");
    assert!(
        out.contains("127.0.0.11") && out.contains("127.0.0.12"),
        "glue for dns1 and dns2: {out}"
    );

    let out = dig(
        running.server("127.0.0.11"),
        &["+norec", "networkutopia.com", "MX"],
    )
    .unwrap_or_default();
    assert!(out.contains(" aa"), "{out}");
    assert!(out.contains("10 mail.networkutopia.com."), "{out}");

    // The nslookup line of the table, as printed.
    let resolver = running.resolver();
    let nslookup = [
        format!("-port={}", resolver.port()),
        "www.enterprise.com".to_string(),
        resolver.ip().to_string(),
    ];
    let Some(out) = run_tool("nslookup", &nslookup) else {
        return;
    };
    assert!(
        out.contains("canonical name = relay1.west-coast.enterprise.com."),
        "{out}"
    );
    assert!(out.contains("Address: 198.51.100.10"), "{out}");
}

// ---------------------------------------------------------------------------
// The binary
// ---------------------------------------------------------------------------

/// The walk printed on the terminal: the ten numbered messages of
/// gaia.cs.umass.edu, a root, edu., umass.edu. and cs.umass.edu. asked in
/// that order, and the answer.
fn assert_walk_printed(stdout: &str) {
    let plain = strip_ansi(stdout);
    let walk: Vec<&str> = plain
        .lines()
        .skip_while(|line| !line.contains("127.0.0.1 -> resolver   gaia.cs.umass.edu. A"))
        .take(10)
        .collect();
    assert_eq!(walk.len(), 10, "ten messages printed:\n{plain}");
    let asked: Vec<&str> = walk
        .iter()
        .filter(|line| line.contains("resolver -> "))
        .filter_map(|line| line.split("resolver -> ").nth(1)?.split_whitespace().next())
        .collect();
    assert_eq!(asked.len(), 5, "{walk:#?}");
    assert!(
        asked[0].ends_with(".root-servers.lab."),
        "a root first: {asked:?}"
    );
    assert_eq!(
        asked[1..],
        [
            "a.edu-servers.lab.",
            "dns.umass.edu.",
            "dns.cs.umass.edu.",
            "127.0.0.1"
        ]
    );
    for (n, line) in walk.iter().enumerate() {
        assert!(
            line.trim_start().starts_with(&(n + 1).to_string()),
            "{line}"
        );
    }
    assert!(
        walk[2].contains("referral to edu. (a.edu-servers.lab.)"),
        "{}",
        walk[2]
    );
}

/// The log without terminal colours (ESC [ ... m).
fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// `dnslab up --quiet`, for a class where the terminal is projected next to
/// the page: the table and the dig lines are printed, the lookups are
/// answered, but no lookup is printed (neither walk nor cache hit).
#[test]
fn binary_up_quiet_prints_the_table_and_no_lookup() {
    let (_port, resolver, mut up, reply) = start_default_up(&["--quiet"]);
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    // A second lookup, answered from the cache: not printed either.
    let again = udp(
        resolver,
        &Ask::new("gaia.cs.umass.edu.", RecordType::A).rd(),
    );
    assert_eq!(
        section_without_ttl(&again.answers),
        ["gaia.cs.umass.edu. A 192.0.2.12"]
    );
    up.signal("-TERM");
    let status = up.wait_exit(Duration::from_secs(10));
    let output = up.output();
    assert!(status.is_some_and(|s| s.success()), "{output:?}");
    let stdout = strip_ansi(&String::from_utf8_lossy(&output.stdout));
    assert!(
        stdout.contains(&format!(
            "dig @127.0.0.1 -p {} gaia.cs.umass.edu",
            resolver.port()
        )),
        "the dig lines are printed: {stdout}"
    );
    let lookup_lines: Vec<&str> = stdout
        .lines()
        .filter(|line| line.contains(" -> ") || line.contains("asked of "))
        .collect();
    assert_eq!(lookup_lines, Vec::<&str>::new(), "{stdout}");
}

/// `dnslab up --check` as a user runs it: on the default it prints OK with
/// the number of servers and exits 0; on a topology with a lame delegation
/// it exits 1 and prints the problem with the zone file and line on
/// stderr. Scripts and CI rely on that exit code to vet a topology before
/// starting it.
#[test]
fn binary_check_accepts_the_default_and_rejects_a_lame_delegation() {
    let ok = dnslab()
        .args(["up", "--check"])
        .output()
        .expect("run dnslab");
    assert!(ok.status.success(), "{ok:?}");
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains("OK (15 servers"),
        "{ok:?}"
    );

    let lame = dnslab()
        .args(["up", "--check"])
        .arg(fixture("lame.yaml"))
        .output()
        .expect("run dnslab");
    assert_eq!(lame.status.code(), Some(1), "{lame:?}");
    let stderr = String::from_utf8_lossy(&lame.stderr);
    assert!(stderr.contains("lame delegation"), "{stderr}");
    assert!(stderr.contains("com.zone:"), "{stderr}");
}

/// `dnslab up` with the servers on `port`, the ISP in the east's resolver
/// on `resolver` and the west's on 127.0.1.1 at the same port (neither on
/// the default 1053 another test may hold), the web page on `web` (the
/// README's 8053 is the README test's).
pub(crate) fn up_command(port: u16, resolver: SocketAddr, web: SocketAddr) -> Command {
    let west = SocketAddr::new(IpAddr::from([127, 0, 1, 1]), resolver.port());
    let mut command = dnslab();
    command.args([
        "up",
        "--port",
        &port.to_string(),
        "--resolver",
        &resolver.to_string(),
        "--resolver",
        &west.to_string(),
        "--web",
        &web.to_string(),
    ]);
    command
}

/// A web address for `up` whose port nobody needs to know.
pub(crate) const ANY_WEB_PORT: SocketAddr =
    SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

/// A running `dnslab up` binary, started by [`start_up`].
pub(crate) struct UpBinary {
    pub port: u16,
    pub resolver: SocketAddr,
    /// The page's address, when asked for one of its own.
    pub web: SocketAddr,
    pub process: Process,
    /// The resolver's answer to the question it was started with.
    pub first: Message,
}

/// The binary running the default hierarchy on random ports with `extra`
/// arguments, its page on a random port when `web_port` (else on port 0),
/// once its resolver (the ISP in the east) has answered `probe` A. With
/// `query_lines`, the servers log each query (debug) on its stderr, which
/// is piped and read once it exits: for short tests only.
pub(crate) fn start_up(probe: &str, web_port: bool, query_lines: bool, extra: &[&str]) -> UpBinary {
    let query = Ask::new(probe, RecordType::A).rd().to_message();
    on_a_random_port("dnslab up", |port| {
        let resolver = SocketAddr::new(IpAddr::from([127, 0, 0, 1]), random_port());
        let web = match web_port {
            true => SocketAddr::from(([127, 0, 0, 1], random_port())),
            false => ANY_WEB_PORT,
        };
        let mut up = Process::spawn(
            up_command(port, resolver, web)
                .args(extra)
                // The servers' query lines (debug), for the view's.
                .env(
                    "RUST_LOG",
                    match query_lines {
                        true => "info,dnslab_authoritative::handler=debug",
                        false => "info",
                    },
                )
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        );
        // Poll until the resolver answers or the process exits (port taken).
        let answered = up.poll(Duration::from_secs(20), || {
            udp_message(resolver, &query, Duration::from_millis(500))
        });
        let Some(first) = answered else {
            let output = up.output();
            let stderr = String::from_utf8_lossy(&output.stderr);
            if stderr.contains("in use") {
                return None; // Another test has this port: try another.
            }
            panic!("dnslab up did not answer: {stderr}");
        };
        Some(UpBinary {
            port,
            resolver,
            web,
            process: up,
            first,
        })
    })
}

/// [`start_up`] with gaia.cs.umass.edu asked first: the servers' port,
/// the east's resolver, the process and the answer.
fn start_default_up(extra: &[&str]) -> (u16, SocketAddr, Process, Message) {
    let up = start_up("gaia.cs.umass.edu.", false, true, extra);
    (up.port, up.resolver, up.process, up.first)
}

/// `dnslab up --port P` as a user runs it: it starts, answers through its
/// resolver, prints the walk as numbered messages (each lookup under the
/// name of the ISP's resolver it was asked of) and the page's URL, and
/// stops cleanly on SIGTERM.
#[test]
fn binary_up_serves_the_default_until_sigterm() {
    let (port, resolver, mut up, reply) = start_default_up(&[]);
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_recursive_header(&reply, "gaia.cs.umass.edu./A");
    assert_eq!(
        section_without_ttl(&reply.answers),
        ["gaia.cs.umass.edu. A 192.0.2.12"]
    );
    // The ISP in the west: its own resolver, the CDN's west cluster.
    let west = SocketAddr::new(IpAddr::from([127, 0, 1, 1]), resolver.port());
    let cdn = udp(west, &Ask::new("video.netcinema.com.", RecordType::A).rd());
    assert_eq!(
        section_without_ttl(&cdn.answers),
        [
            "a1105.kingcdn.com. A 198.51.100.105",
            "a1105.kingcdn.com. A 198.51.100.106",
            "video.netcinema.com. CNAME a1105.kingcdn.com.",
        ]
    );

    up.signal("-TERM");
    let status = up
        .wait_exit(Duration::from_secs(10))
        .expect("dnslab up stops promptly on SIGTERM");
    let output = up.output();
    assert!(status.success(), "clean exit on SIGTERM: {output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("127.0.0.2:{port}")),
        "the table lists the root: {stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "dig @127.0.0.1 -p {} gaia.cs.umass.edu",
            resolver.port()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("http://127.0.0.1:"),
        "the page's URL: {stdout}"
    );
    assert_walk_printed(&stdout);
    // Each lookup says whose it is: two local DNS servers print walks.
    let plain = strip_ansi(&stdout);
    let lines: Vec<&str> = plain.lines().collect();
    for (asked_of, first_step) in [
        (
            format!("asked of ISP in the east (127.0.0.1:{})", resolver.port()),
            "-> resolver   gaia.cs.umass.edu. A",
        ),
        (
            format!("asked of ISP in the west (127.0.1.1:{})", resolver.port()),
            "-> resolver   video.netcinema.com. A",
        ),
    ] {
        let at = lines.iter().position(|line| line.contains(first_step));
        let before = at.and_then(|at| lines.get(at.checked_sub(1)?));
        assert_eq!(
            before.map(|line| line.trim()),
            Some(asked_of.as_str()),
            "{plain}"
        );
    }
    for row in [
        format!("127.0.1.1:{}", resolver.port()),
        "ISP in the west".to_string(),
        format!("dig @127.0.1.1 -p {} video.netcinema.com", resolver.port()),
    ] {
        assert!(stdout.contains(&row), "{row:?} in {stdout}");
    }
    // ns.kingcdn.net's query log names the view that answered the west.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let view_logged = strip_ansi(&stderr).lines().any(|line| {
        line.contains("server=ns.kingcdn.net.")
            && line.contains("client=127.0.1.1:")
            && line.contains("qname=a1105.kingcdn.com.")
            && line.contains("view=west")
    });
    assert!(view_logged, "{stderr}");
}

/// `dnslab up` as a user follows the README: the root zone's serial
/// raised (one name added) in the topology's files, then SIGHUP. The
/// terminal prints one line for a.root-servers.lab.'s NOTIFY to
/// b.root-servers.lab. with the new serial and one for the IXFR that
/// follows it (old -> new serial, one change), in that order, while
/// b.root-servers.lab. serves the new serial.
#[test]
fn binary_up_prints_the_notify_and_the_ixfr_of_a_reload() {
    let files = DefaultTopology::write().expect("write default topology");
    let topology = files.path();
    let (port, _resolver, mut up, _) = start_default_up(&[topology.to_str().expect("UTF-8")]);
    let old: u32 = 2026112201;
    let new = old + 1;
    let path = files.dir().join("root.zone");
    let text = std::fs::read_to_string(&path).expect("root zone file");
    assert!(text.contains(&old.to_string()), "the root's serial");
    let text = text.replacen(&old.to_string(), &new.to_string(), 1);
    std::fs::write(&path, format!("{text}lab-test IN A 192.0.2.99\n")).expect("write zone");
    up.signal("-HUP");

    let b_root = SocketAddr::new(IpAddr::from([127, 0, 0, 3]), port);
    let serial = || match udp(b_root, &Ask::new(".", RecordType::SOA)).answers.first() {
        Some(record) => match &record.data {
            RData::SOA(soa) => soa.serial,
            _ => 0,
        },
        None => 0,
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while serial() != new && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(serial(), new, "b.root-servers.lab. follows");
    // The line is printed just after the new version is served.
    std::thread::sleep(Duration::from_millis(300));
    up.signal("-TERM");
    let status = up.wait_exit(Duration::from_secs(10));
    let output = up.output();
    assert!(status.is_some_and(|s| s.success()), "{output:?}");
    let stdout = strip_ansi(&String::from_utf8_lossy(&output.stdout));
    let route = "zone  a.root-servers.lab. -> b.root-servers.lab.";
    let notify = format!("{route}  NOTIFY .  serial {new}");
    let ixfr = format!("{route}  IXFR .  serial {old} -> {new}  1 change  ");
    let at = |wanted: &str| {
        stdout
            .lines()
            .position(|line| line == wanted || line.starts_with(wanted) && line.ends_with(" ms"))
            .unwrap_or_else(|| panic!("no line {wanted:?}:\n{stdout}"))
    };
    assert!(at(&notify) < at(&ixfr), "{stdout}");
}
