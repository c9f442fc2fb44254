//! The topology file as written (YAML, `deny_unknown_fields`) and its
//! conversion into a [`Topology`] whose names and addresses are parsed and
//! whose per-entry rules hold. Rules that need the zone files live in
//! [`super::check`].
//!
//! serde_yaml reports syntax errors and unknown keys with their line; for
//! the semantic rules checked after parsing, [`Lines`] finds the line of the
//! offending entry by scanning the text, since serde_yaml 0.9 keeps no spans.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use dnslab_wire::absolute_name;
use hickory_proto::rr::Name;
use serde::Deserialize;

use super::problem::{Place, Problem, ProblemKind};
use super::{resolvers, Server, Topology, ZoneFile};
use crate::config::spec::{KeySpec, UpdateRuleSpec};
use crate::config::update::{update_config, Context};
use crate::views::{ViewSpec, SECONDARY_VIEWS};
use crate::yaml::Lines;
use dnslab_tsig::{Key, KeyRing};

/// The port every server of the hierarchy listens on when the file does not
/// say: unprivileged, so `dnslab up` works without root, and clear of 53.
pub const DEFAULT_PORT: u16 = 5300;

/// Where the resolver listens when the file does not say.
pub const DEFAULT_RESOLVER: &str = "127.0.0.1:1053";

/// The version of the format this module reads.
pub const FORMAT_VERSION: u32 = 1;

/// The file format, version 1. Field docs are the user's reference.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopologySpec {
    /// The format's version; only 1 exists. Optional, so that a later
    /// format can be told apart from this one.
    version: Option<u32>,
    /// The one port shared by every server (each has its own address).
    port: Option<u16>,
    /// The recursive resolver (the local DNS server): ADDRESS:PORT or its
    /// section (see `super::resolvers`).
    resolver: Option<serde_yaml::Value>,
    /// Several local DNS servers, each ADDRESS:PORT or a section.
    resolvers: Option<Vec<serde_yaml::Value>>,
    /// Log every query every server receives (default: on).
    log_queries: Option<bool>,
    /// TSIG keys every server knows, for zones' `allow_update` rules
    /// (`{ name, algorithm, secret }`, as in `dnslab auth --config`).
    #[serde(default)]
    keys: Vec<KeySpec>,
    servers: Vec<ServerSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSpec {
    /// The server's host name, as delegations name it in NS records.
    name: String,
    /// A loopback address of its own.
    address: String,
    /// Choose views by a query's EDNS Client Subnet (RFC 7871; default
    /// off, as `dnslab auth --ecs`).
    ecs: Option<bool>,
    zones: Vec<ZoneSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneSpec {
    zone: String,
    /// A primary's master file, relative to the topology file.
    file: Option<String>,
    /// A secondary: the server it copies the zone from (AXFR, IXFR,
    /// NOTIFY), which must serve the zone itself.
    secondary_of: Option<String>,
    /// Who may change a primary zone by dynamic UPDATE, as in `dnslab
    /// auth --config` (`"key:NAME"`, or `{ who, names, match, types }`).
    #[serde(default)]
    allow_update: Vec<UpdateRuleSpec>,
    /// `false`: served, but not delegated by its parent yet (a registrar
    /// will, by UPDATE); the check then does not ask for a delegation.
    delegated: Option<bool>,
    /// fixed, cyclic (the default) or random (see `crate::views`).
    rrset_order: Option<String>,
    /// Answers chosen by who asks, a primary's (see `crate::views`).
    #[serde(default)]
    views: Vec<ViewSpec>,
}

/// Parses `text` (the contents of `source`) into a topology. Zone files are
/// only checked for existence here. Every problem found is returned, not
/// just the first.
pub fn parse(text: &str, source: &Path) -> Result<Topology, Vec<Problem>> {
    let spec: TopologySpec = serde_yaml::from_str(text).map_err(|e| {
        let at = e.location().map(|l| Place {
            file: source.to_path_buf(),
            line: l.line(),
        });
        vec![Problem::new(at, ProblemKind::Yaml(e.to_string()))]
    })?;
    let lines = Lines::new(text);
    let base = source.parent().unwrap_or(Path::new("."));
    let at = |line: Option<usize>| {
        line.map(|line| Place {
            file: source.to_path_buf(),
            line,
        })
    };
    let mut problems = Vec::new();

    if let Some(version) = spec.version.filter(|&v| v != FORMAT_VERSION) {
        problems.push(Problem::new(
            at(lines.find("version", &version.to_string(), 0)),
            ProblemKind::UnsupportedVersion(version),
        ));
    }
    let port = spec.port.unwrap_or(DEFAULT_PORT);
    if port == 0 {
        problems.push(Problem::new(
            at(lines.find("port", "0", 0)),
            ProblemKind::PortZero,
        ));
    }
    let resolvers = resolvers::parse(
        spec.resolver,
        spec.resolvers,
        port,
        &lines,
        &at,
        &mut problems,
    );

    // Counts how often each (key, value) was seen, so that the n-th server
    // with a repeated value finds its own line, not the first one's.
    let mut seen: HashMap<(&str, String), usize> = HashMap::new();
    let mut line_of = |key: &'static str, value: &str| -> Option<usize> {
        let count = seen.entry((key, value.to_string())).or_insert(0);
        let line = lines.find(key, value, *count);
        *count += 1;
        line
    };

    let keys = keys(&spec.keys, &lines, &at, &mut problems);
    let mut servers = Vec::new();
    for raw in &spec.servers {
        let name_line = line_of("name", &raw.name);
        let address_line = line_of("address", &raw.address);
        let name = match parse_name("server name", &raw.name) {
            Ok(name) => name,
            Err(kind) => {
                problems.push(Problem::new(at(name_line), *kind));
                continue;
            }
        };
        let address = match raw.address.parse::<IpAddr>() {
            Ok(address) => address,
            Err(_) => {
                problems.push(Problem::new(
                    at(address_line),
                    ProblemKind::BadAddress {
                        what: "server address",
                        value: raw.address.clone(),
                    },
                ));
                continue;
            }
        };
        if !address.is_loopback() {
            problems.push(Problem::new(
                at(address_line),
                ProblemKind::NotLoopback {
                    server: name.clone(),
                    address,
                },
            ));
        }
        let mut zones: Vec<ZoneFile> = Vec::new();
        for zone in &raw.zones {
            let zone_line = line_of("zone", &zone.zone);
            let origin = match parse_name("zone", &zone.zone) {
                Ok(origin) => origin,
                Err(kind) => {
                    problems.push(Problem::new(at(zone_line), *kind));
                    continue;
                }
            };
            if zones.iter().any(|z| z.origin == origin) {
                problems.push(Problem::new(
                    at(zone_line),
                    ProblemKind::DuplicateZone {
                        server: name.clone(),
                        zone: origin.clone(),
                    },
                ));
            }
            let source = match (&zone.file, &zone.secondary_of) {
                (Some(file), None) => {
                    let file_line = line_of("file", file);
                    let path = base.join(file);
                    if let Err(e) = std::fs::metadata(&path).and_then(|m| {
                        if m.is_file() {
                            Ok(())
                        } else {
                            Err(std::io::Error::other("not a regular file"))
                        }
                    }) {
                        problems.push(Problem::new(
                            at(file_line),
                            ProblemKind::MissingZoneFile {
                                server: name.clone(),
                                zone: origin.clone(),
                                path: path.clone(),
                                reason: e.to_string(),
                            },
                        ));
                    }
                    (path, None, file_line)
                }
                (None, Some(primary)) => match parse_name("secondary_of", primary) {
                    Ok(primary) => (PathBuf::new(), Some(primary), zone_line),
                    Err(kind) => {
                        problems.push(Problem::new(at(zone_line), *kind));
                        continue;
                    }
                },
                (file, _) => {
                    problems.push(Problem::new(
                        at(zone_line),
                        ProblemKind::FileOrSecondary {
                            server: name.clone(),
                            zone: origin.clone(),
                            both: file.is_some(),
                        },
                    ));
                    continue;
                }
            };
            let (path, secondary_of, line) = source;
            let (update, messages) = update_config(
                &zone.allow_update,
                None,
                &Context {
                    keys: &keys,
                    insecure_updates: false,
                    origin: Some(&origin),
                    secondary: secondary_of.is_some(),
                    shown: &zone.zone,
                },
            );
            for message in messages {
                problems.push(Problem::new(at(zone_line), ProblemKind::Update(message)));
            }
            let rrset_order = match zone.rrset_order.as_deref().map(str::parse) {
                None => None,
                Some(Ok(order)) => Some(order),
                Some(Err(error)) => {
                    let line = zone
                        .rrset_order
                        .as_deref()
                        .and_then(|o| line_of("rrset_order", o));
                    let kind = ProblemKind::BadRrsetOrder(format!("{error}"));
                    problems.push(Problem::new(at(line), kind));
                    None
                }
            };
            let mut views = Vec::new();
            for spec in &zone.views {
                let line = line_of("name", &spec.name);
                let view = match secondary_of {
                    Some(_) => Err(SECONDARY_VIEWS.to_string()),
                    None => spec.view(base),
                };
                match view {
                    Ok(view) => views.push((view, line.unwrap_or(0))),
                    Err(reason) => problems.push(Problem::new(
                        at(line),
                        ProblemKind::BadView {
                            zone: origin.clone(),
                            view: spec.name.clone(),
                            reason,
                        },
                    )),
                }
            }
            zones.push(ZoneFile {
                origin,
                path,
                line: line.unwrap_or(0),
                secondary_of,
                update,
                delegated: zone.delegated.unwrap_or(true),
                rrset_order,
                views,
            });
        }
        servers.push(Server {
            name,
            address,
            zones,
            ecs: raw.ecs.unwrap_or(false),
            line: name_line.unwrap_or(0),
            address_line: address_line.unwrap_or(0),
        });
    }

    check_unique(&servers, source, &mut problems);
    resolve_primaries(&mut servers, source, &mut problems);
    if !servers
        .iter()
        .any(|s| s.zones.iter().any(|z| z.origin.is_root()))
    {
        problems.push(Problem::new(
            at(lines.find_key("servers")),
            ProblemKind::NoRootServer,
        ));
    }
    let topology = Topology {
        source: source.to_path_buf(),
        port,
        resolvers,
        log_queries: spec.log_queries.unwrap_or(true),
        keys,
        servers,
    };
    problems.extend(resolvers::check_resolvers(&topology));
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(topology)
}

/// The topology's TSIG keys; a bad one is a problem at its `name:` line.
fn keys(
    specs: &[KeySpec],
    lines: &Lines<'_>,
    at: &dyn Fn(Option<usize>) -> Option<Place>,
    problems: &mut Vec<Problem>,
) -> KeyRing {
    let mut ring = KeyRing::new();
    for spec in specs {
        match Key::from_text(&spec.name, &spec.algorithm, &spec.secret) {
            Ok(key) => {
                ring.insert(key);
            }
            Err(e) => problems.push(Problem::new(
                at(lines.find("name", &spec.name, 0)),
                ProblemKind::BadKey {
                    name: spec.name.clone(),
                    reason: e.to_string(),
                },
            )),
        }
    }
    ring
}

/// Two servers cannot share an address (they share the port) and should
/// not share a name (delegations find servers by name).
fn check_unique(servers: &[Server], source: &Path, problems: &mut Vec<Problem>) {
    let at = |line: usize| {
        Some(Place {
            file: source.to_path_buf(),
            line,
        })
    };
    for (i, server) in servers.iter().enumerate() {
        let earlier = servers.get(..i).unwrap_or_default();
        if let Some(first) = earlier.iter().find(|s| s.address == server.address) {
            problems.push(Problem::new(
                at(server.address_line),
                ProblemKind::DuplicateAddress {
                    address: server.address,
                    server: server.name.clone(),
                    first: first.name.clone(),
                    first_line: first.address_line,
                },
            ));
        }
        if let Some(first) = earlier.iter().find(|s| s.name == server.name) {
            problems.push(Problem::new(
                at(server.line),
                ProblemKind::DuplicateName {
                    server: server.name.clone(),
                    first_line: first.line,
                },
            ));
        }
    }
}

/// Gives each secondary zone the master file of the server it copies
/// from (following a chain of secondaries to the primary), so that the
/// checks read the data it will serve; reports a `secondary_of` that names
/// no server, a server without the zone, or a loop.
fn resolve_primaries(servers: &mut [Server], source: &Path, problems: &mut Vec<Problem>) {
    let at = |line: usize| {
        Some(Place {
            file: source.to_path_buf(),
            line,
        })
    };
    let mut resolved = Vec::new();
    for (s, server) in servers.iter().enumerate() {
        for (z, zone) in server.zones.iter().enumerate() {
            let Some(mut primary) = zone.secondary_of.clone() else {
                continue;
            };
            let mut hops = 0;
            let path = loop {
                let Some(upstream) = servers.iter().find(|other| other.name == primary) else {
                    problems.push(Problem::new(
                        at(zone.line),
                        ProblemKind::UnknownPrimary {
                            server: server.name.clone(),
                            zone: zone.origin.clone(),
                            primary,
                        },
                    ));
                    break None;
                };
                let Some(copy) = upstream.zones.iter().find(|z| z.origin == zone.origin) else {
                    problems.push(Problem::new(
                        at(zone.line),
                        ProblemKind::PrimaryLacksZone {
                            server: server.name.clone(),
                            zone: zone.origin.clone(),
                            primary,
                        },
                    ));
                    break None;
                };
                match &copy.secondary_of {
                    None => break Some(copy.path.clone()),
                    Some(next) if hops < servers.len() => {
                        primary = next.clone();
                        hops += 1;
                    }
                    Some(_) => {
                        problems.push(Problem::new(
                            at(zone.line),
                            ProblemKind::SecondaryLoop {
                                server: server.name.clone(),
                                zone: zone.origin.clone(),
                            },
                        ));
                        break None;
                    }
                }
            };
            if let Some(path) = path {
                resolved.push((s, z, path));
            }
        }
    }
    for (s, z, path) in resolved {
        servers[s].zones[z].path = path;
    }
}

/// Topology names are always absolute: `com` and `com.` are the same zone.
/// (The error is boxed: a `ProblemKind` holds several names.)
pub fn parse_name(what: &'static str, value: &str) -> Result<Name, Box<ProblemKind>> {
    absolute_name(value).map_err(|reason| {
        Box::new(ProblemKind::BadName {
            what,
            value: value.to_string(),
            reason,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_absolute() {
        assert_eq!(
            parse_name("zone", "com").unwrap(),
            parse_name("zone", "com.").unwrap()
        );
        assert!(parse_name("zone", "com").unwrap().is_fqdn());
    }

    /// Parses `text` as if it sat in zones/default/ (so its zone files
    /// exist) and returns each problem as `line: message`.
    fn problems(text: &str) -> Vec<String> {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("zones/default/t.yaml");
        match parse(text, &source) {
            Ok(_) => Vec::new(),
            Err(problems) => problems
                .iter()
                .map(|p| format!("{}: {}", p.at.as_ref().map_or(0, |at| at.line), p.kind))
                .collect(),
        }
    }

    const ROOT: &str = "servers:\n  - name: a.root.\n    address: 127.0.0.2\n    zones: [{ zone: ., file: root.zone }]\n";

    #[test]
    fn defaults_fill_what_the_file_leaves_out() {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("zones/default/t.yaml");
        let topology = parse(ROOT, &source).unwrap();
        assert_eq!(topology.port, DEFAULT_PORT);
        let [resolver] = &topology.resolvers[..] else {
            panic!("one resolver by default");
        };
        assert_eq!(resolver.address.to_string(), DEFAULT_RESOLVER);
        assert_eq!(resolver.name, "resolver");
        assert!(topology.log_queries);
        assert_eq!(topology.root_hints().len(), 1);
    }

    #[test]
    fn an_unknown_format_version_is_reported() {
        let text = format!("version: 2\n{ROOT}");
        assert_eq!(
            problems(&text),
            ["1: this is topology format version 2; this dnslab reads version 1"]
        );
    }

    #[test]
    fn port_zero_and_a_bad_resolver_address_are_reported_at_their_lines() {
        let text = format!("port: 0\nresolver: localhost\n{ROOT}");
        assert_eq!(
            problems(&text),
            [
                "1: port 0 cannot be shared by the servers; choose a port such as 5300",
                "2: the resolver address `localhost` is not ADDRESS:PORT (e.g. 127.0.0.1:1053)",
            ]
        );
    }

    #[test]
    fn a_repeated_server_name_is_reported_at_the_second() {
        let text = format!("{ROOT}  - name: a.root.\n    address: 127.0.0.3\n    zones: []\n");
        assert_eq!(
            problems(&text),
            ["5: server name a.root. is used twice (first at line 2); rename one"]
        );
    }

    #[test]
    fn a_topology_without_a_root_server_is_reported() {
        let text = "servers:\n  - name: ns.com.\n    address: 127.0.0.2\n    zones: [{ zone: com, file: com.zone }]\n";
        let found = problems(text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("1: no server serves the root zone"),
            "{found:?}"
        );
    }

    /// Keys and update rules are checked at their lines: a secret that
    /// is not base64, a rule naming a key that is not defined, rules on a
    /// secondary; a good rule becomes the zone's update configuration.
    #[test]
    fn keys_and_update_rules_are_checked_at_their_lines() {
        let text = "keys:
  - { name: registrar, algorithm: hmac-sha256, secret: \"not base64!\" }
servers:
  - name: a.root.
    address: 127.0.0.2
    zones:
      - zone: .
        file: root.zone
        allow_update: [\"key:registrar\"]
  - name: b.root.
    address: 127.0.0.3
    zones: [{ zone: ., secondary_of: a.root., allow_update: [127.0.0.1] }]
";
        let found = problems(text);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[0].starts_with("2: key registrar: the secret is not valid base64"),
            "{found:?}"
        );
        assert!(
            found[1]
                .starts_with("7: zone .: allow_update: `key:registrar`: no key named registrar."),
            "{found:?}"
        );
        assert!(
            found[2].starts_with("12: zone . is a secondary: it takes no updates"),
            "{found:?}"
        );
        let good = "keys:
  - { name: registrar, algorithm: hmac-sha256, secret: \"c2VjcmV0\" }
servers:
  - name: a.root.
    address: 127.0.0.2
    zones:
      - { zone: ., file: root.zone, allow_update: [{ who: \"key:registrar\", names: [com.], match: below }] }
";
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("zones/default/t.yaml");
        let topology = parse(good, &source).unwrap();
        let zone = &topology.servers[0].zones[0];
        assert_eq!(zone.update.rules.len(), 1);
        assert_eq!(
            zone.update.rules[0].to_string(),
            "key:registrar. below com."
        );
        assert!(zone.delegated);
        assert_eq!(topology.keys.len(), 1);
    }

    #[test]
    fn a_resolver_on_a_server_address_and_port_is_reported() {
        let text = format!("port: 5300\nresolver: 127.0.0.2:5300\n{ROOT}");
        assert_eq!(
            problems(&text),
            ["5: the resolver listens on 127.0.0.2:5300, which a server of the hierarchy also uses"]
        );
    }

    /// `resolvers:` lists the local DNS servers, each ADDRESS:PORT or a
    /// section; a single `resolver:` still works, and not both.
    #[test]
    fn resolvers_are_a_list_of_addresses_or_sections() {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("zones/default/t.yaml");
        let text = format!(
            "resolvers:\n  - {{ name: ISP in the east, address: 127.0.0.1:1053 }}\n  - 127.0.1.1:1054\n  - name: lab\n    address: 127.0.2.1:1053\n    ecs: true\n    rrset_order: fixed\n{ROOT}"
        );
        let topology = parse(&text, &source).unwrap();
        let seen: Vec<String> = topology
            .resolvers
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {} {}",
                    r.line, r.name, r.address, r.ecs, r.rrset_order
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                "2 ISP in the east 127.0.0.1:1053 false cyclic",
                "3 resolver 2 127.0.1.1:1054 false cyclic",
                "5 lab 127.0.2.1:1053 true fixed",
            ]
        );
        let both = format!("resolver: 127.0.0.1:1053\nresolvers: [127.0.1.1:1053]\n{ROOT}");
        assert_eq!(
            problems(&both),
            ["2: give `resolver:` (one local DNS server) or `resolvers:` (a list), not both"]
        );
    }

    /// The resolver's section: where it listens, and its forward and stub
    /// zones, whose port defaults to the topology's.
    #[test]
    fn the_resolver_section_gives_forward_and_stub_zones() {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("zones/default/t.yaml");
        let text = format!(
            "port: 5301\nresolver:\n  address: 127.0.0.1:1054\n  forward_zones: [\"corp.example=127.0.0.1:5353,127.0.0.2\"]\n  stub_zones:\n    - lab.test=127.0.0.9\n{ROOT}"
        );
        let topology = parse(&text, &source).unwrap();
        let [resolver] = &topology.resolvers[..] else {
            panic!("one resolver");
        };
        assert_eq!(resolver.address.to_string(), "127.0.0.1:1054");
        assert_eq!(
            zone_addrs(&resolver.forward_zones),
            [
                "corp.example. 127.0.0.1:5353",
                "corp.example. 127.0.0.2:5301"
            ]
        );
        assert_eq!(
            zone_addrs(&resolver.stub_zones),
            ["lab.test. 127.0.0.9:5301"]
        );
    }

    /// Each entry of `resolvers:` takes its own forward and stub zones
    /// beside its name, ECS and RRset order.
    #[test]
    fn each_of_the_resolvers_takes_its_own_zones() {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("zones/default/t.yaml");
        let text = format!(
            "resolvers:\n  - {{ name: east, address: 127.0.0.1:1053, stub_zones: [lab.test=127.0.0.9] }}\n  - name: west\n    address: 127.0.1.1:1053\n    ecs: true\n    rrset_order: fixed\n    forward_zones: [.=127.0.0.8:5353]\n{ROOT}"
        );
        let topology = parse(&text, &source).unwrap();
        let [east, west] = &topology.resolvers[..] else {
            panic!("two resolvers");
        };
        assert_eq!(
            (
                zone_addrs(&east.stub_zones),
                zone_addrs(&east.forward_zones)
            ),
            (vec!["lab.test. 127.0.0.9:5300".to_string()], Vec::new())
        );
        assert_eq!(
            (
                zone_addrs(&west.forward_zones),
                zone_addrs(&west.stub_zones)
            ),
            (vec![". 127.0.0.8:5353".to_string()], Vec::new())
        );
        assert!(west.ecs);
        assert_eq!(west.rrset_order, dnslab_wire::RrsetOrder::Fixed);
    }

    /// Each zone's servers as `zone address` lines.
    fn zone_addrs(zones: &[dnslab_resolver::ZoneServers]) -> Vec<String> {
        zones
            .iter()
            .flat_map(|z| z.servers.iter().map(move |a| format!("{} {a}", z.zone)))
            .collect()
    }

    #[test]
    fn a_bad_resolver_zone_and_an_unknown_key_are_reported_at_their_lines() {
        let text = format!("resolver:\n  stub_zones:\n    - lab.test=nowhere\n{ROOT}");
        assert_eq!(
            problems(&text),
            ["3: resolver zone: \"nowhere\" is not an address, ADDR:PORT or [V6]:PORT"]
        );
        let text = format!(
            "resolvers:\n  - 127.0.0.1:1053\n  - address: 127.0.1.1:1053\n    stub_zones: [lab.test=127.0.0.9]\n  - address: 127.0.2.1:1053\n    stub_zones: [lab.test=127.0.0.9, lab.test=nowhere]\n{ROOT}"
        );
        assert_eq!(
            problems(&text),
            ["6: resolver zone: \"nowhere\" is not an address, ADDR:PORT or [V6]:PORT"]
        );
        for (text, line) in [
            ("resolver:\n  forwarders: []\n", 2),
            (
                "resolvers:\n  - 127.0.0.1:1053\n  - name: west\n    address: 127.0.1.1:1053\n    forwarders: []\n",
                5,
            ),
        ] {
            let found = problems(&format!("{text}{ROOT}"));
            assert_eq!(found.len(), 1, "{found:?}");
            let expected = format!("{line}: resolver: unknown field `forwarders`");
            assert!(found[0].starts_with(&expected), "{found:?}");
        }
    }

    /// `--check` wants each resolver on a loopback address of its own.
    #[test]
    fn resolvers_need_distinct_loopback_addresses() {
        let text = format!(
            "resolvers:\n  - {{ name: east, address: 127.0.0.1:1053 }}\n  - {{ name: west, address: 127.0.0.1:1054 }}\n  - {{ name: far, address: 192.0.2.1:1053 }}\n  - {{ name: odd, address: 127.0.3.1:1053, rrset_order: shuffled }}\n{ROOT}"
        );
        assert_eq!(
            problems(&text),
            [
                "5: \"shuffled\" is not an RRset order: write fixed, cyclic or random",
                "3: resolvers west and east (line 2) share the address 127.0.0.1; each local DNS server needs its own, so that authoritative servers can tell them apart",
                "4: resolver far listens on 192.0.2.1, which is not loopback: dnslab up only runs servers on 127.0.0.0/8 or ::1",
            ]
        );
    }

    /// A zone's `rrset_order:` and `views:` (records or a file), and the
    /// mistakes a view can have, each at its line.
    #[test]
    fn zones_take_an_rrset_order_and_views() {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("zones/default/t.yaml");
        let server = "  - name: ns.kingcdn.net.\n    address: 127.0.0.15\n    ecs: true\n    zones:\n      - zone: kingcdn.com.\n        file: kingcdn.com.zone\n        rrset_order: random\n        views:\n";
        let good = "          - name: east\n            clients: [127.0.0.0/24]\n            records:\n              a1105: [A 203.0.113.1]\n          - name: west\n            clients: [127.0.1.0/24, 10.0.0.0/8]\n            file: kingcdn.com.zone\n";
        let topology = parse(&format!("{ROOT}{server}{good}"), &source).unwrap();
        let cdn = &topology.servers[1];
        assert!(cdn.ecs);
        let zone = &cdn.zones[0];
        assert_eq!(zone.rrset_order, Some(dnslab_wire::RrsetOrder::Random));
        let views: Vec<String> = zone
            .views
            .iter()
            .map(|(view, line)| format!("{line} {} {}", view.name, view.clients.len()))
            .collect();
        assert_eq!(views, ["13 east 1", "17 west 2"]);
        let bad = "          - name: both\n            clients: [127.0.0.0/24]\n            file: kingcdn.com.zone\n            records: {}\n          - name: nowhere\n            clients: [127.0.0.0/33]\n            file: kingcdn.com.zone\n";
        assert_eq!(
            problems(&format!("{ROOT}{server}{bad}")),
            [
                "13: zone kingcdn.com., view both: give either `file:` or `records:`",
                "17: zone kingcdn.com., view nowhere: prefix length 33 is too long for 127.0.0.0 (at most 32)",
            ]
        );
    }
}
