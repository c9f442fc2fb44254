//! The topology file as written (YAML, `deny_unknown_fields`) and its
//! conversion into a [`Topology`] whose names and addresses are parsed and
//! whose per-entry rules hold. Rules that need the zone files live in
//! [`super::check`].
//!
//! serde_yaml reports syntax errors and unknown keys with their line; for
//! the semantic rules checked after parsing, [`Lines`] finds the line of the
//! offending entry by scanning the text, since serde_yaml 0.9 keeps no spans.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use dnslab_wire::absolute_name;
use hickory_proto::rr::Name;
use serde::Deserialize;

use super::problem::{Place, Problem, ProblemKind};
use super::{Server, Topology, ZoneFile};
use crate::config::spec::{KeySpec, UpdateRuleSpec};
use crate::config::update::{update_config, Context};
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
    /// ADDRESS:PORT of the recursive resolver.
    resolver: Option<String>,
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
    let resolver_text = spec.resolver.as_deref().unwrap_or(DEFAULT_RESOLVER);
    let resolver = resolver_text.parse::<SocketAddr>().unwrap_or_else(|_| {
        problems.push(Problem::new(
            at(lines.find("resolver", resolver_text, 0)),
            ProblemKind::BadResolverAddress(resolver_text.to_string()),
        ));
        SocketAddr::from(([127, 0, 0, 1], 1053))
    });

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
            zones.push(ZoneFile {
                origin,
                path,
                line: line.unwrap_or(0),
                secondary_of,
                update,
                delegated: zone.delegated.unwrap_or(true),
            });
        }
        servers.push(Server {
            name,
            address,
            zones,
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
    if let Some(server) = servers
        .iter()
        .find(|s| s.address == resolver.ip() && port == resolver.port())
    {
        problems.push(Problem::new(
            at(Some(server.address_line)),
            ProblemKind::ResolverClash(resolver),
        ));
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Topology {
        source: source.to_path_buf(),
        port,
        resolver,
        log_queries: spec.log_queries.unwrap_or(true),
        keys,
        servers,
    })
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
        assert_eq!(topology.resolver.to_string(), DEFAULT_RESOLVER);
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
}
