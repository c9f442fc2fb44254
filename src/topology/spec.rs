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
use std::path::Path;

use dnslab_resolver::ZoneServers;
use dnslab_wire::absolute_name;
use hickory_proto::rr::Name;
use serde::Deserialize;

use super::problem::{Place, Problem, ProblemKind};
use super::{Server, Topology, ZoneFile};

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
    /// The recursive resolver: ADDRESS:PORT, or its section
    /// ([`ResolverSpec`]), read after the rest so that a mistake in it is
    /// named (an untagged enum would only say that nothing matched).
    resolver: Option<serde_yaml::Value>,
    /// Log every query every server receives (default: on).
    log_queries: Option<bool>,
    servers: Vec<ServerSpec>,
}

/// The resolver's section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolverSpec {
    /// ADDRESS:PORT where it listens (default 127.0.0.1:1053).
    address: Option<String>,
    /// `NAME=ADDR[:PORT],...`: questions at or below NAME go to these
    /// recursive servers with RD=1 (as `--forward-zone`). PORT defaults to
    /// the topology's `port`.
    #[serde(default)]
    forward_zones: Vec<String>,
    /// `NAME=ADDR[:PORT],...`: the walk for names at or below NAME starts
    /// at these authoritative servers (as `--stub-zone`). PORT defaults to
    /// the topology's `port`.
    #[serde(default)]
    stub_zones: Vec<String>,
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
    /// Relative to the topology file.
    file: String,
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
    let section = match spec.resolver {
        None => ResolverSpec::default(),
        Some(serde_yaml::Value::String(address)) => ResolverSpec {
            address: Some(address),
            ..ResolverSpec::default()
        },
        Some(value) => serde_yaml::from_value(value).unwrap_or_else(|e| {
            problems.push(Problem::new(
                at(lines.find_key("resolver")),
                ProblemKind::Yaml(format!("resolver: {e}")),
            ));
            ResolverSpec::default()
        }),
    };
    let resolver_text = section.address.as_deref().unwrap_or(DEFAULT_RESOLVER);
    let resolver = resolver_text.parse::<SocketAddr>().unwrap_or_else(|_| {
        problems.push(Problem::new(
            at(lines
                .find("resolver", resolver_text, 0)
                .or_else(|| lines.find("address", resolver_text, 0))),
            ProblemKind::BadResolverAddress(resolver_text.to_string()),
        ));
        SocketAddr::from(([127, 0, 0, 1], 1053))
    });
    let mut zone_servers = |entries: &[String]| -> Vec<ZoneServers> {
        let mut parsed = Vec::new();
        for entry in entries {
            match ZoneServers::parse_with_port(entry, port) {
                Ok(zone) => parsed.push(zone),
                Err(error) => problems.push(Problem::new(
                    at(line_containing(text, entry)),
                    ProblemKind::BadResolverZone(error.to_string()),
                )),
            }
        }
        parsed
    };
    let forward_zones = zone_servers(&section.forward_zones);
    let stub_zones = zone_servers(&section.stub_zones);

    // Counts how often each (key, value) was seen, so that the n-th server
    // with a repeated value finds its own line, not the first one's.
    let mut seen: HashMap<(&str, String), usize> = HashMap::new();
    let mut line_of = |key: &'static str, value: &str| -> Option<usize> {
        let count = seen.entry((key, value.to_string())).or_insert(0);
        let line = lines.find(key, value, *count);
        *count += 1;
        line
    };

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
            let file_line = line_of("file", &zone.file);
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
            let path = base.join(&zone.file);
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
            zones.push(ZoneFile {
                origin,
                path,
                line: file_line.unwrap_or(0),
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
        servers,
        forward_zones,
        stub_zones,
    })
}

/// The 1-based line of the first line of `text` containing `needle`: for
/// list items, which [`Lines`] (`key: value` pairs) does not hold.
fn line_containing(text: &str, needle: &str) -> Option<usize> {
    text.lines()
        .position(|line| line.contains(needle))
        .map(|index| index + 1)
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

/// The `key: value` pairs of a YAML text with their line numbers, in both
/// block (`key: value`) and flow (`{ key: value, ... }`) style.
struct Lines<'a> {
    pairs: Vec<(&'a str, &'a str, usize)>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let mut pairs = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.split(" #").next().unwrap_or_default();
            if line.trim_start().starts_with('#') {
                continue;
            }
            for piece in line.split(['{', '}', ',']) {
                let piece = piece.trim().trim_start_matches("- ").trim();
                if let Some((key, value)) = piece.split_once(':') {
                    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
                    pairs.push((key.trim(), value, index + 1));
                }
            }
        }
        Lines { pairs }
    }

    /// The line of the `nth` (0-based) occurrence of `key: value`.
    fn find(&self, key: &str, value: &str, nth: usize) -> Option<usize> {
        self.pairs
            .iter()
            .filter(|(k, v, _)| *k == key && *v == value)
            .nth(nth)
            .map(|(_, _, line)| *line)
    }

    /// The line of the first `key:`, whatever its value.
    fn find_key(&self, key: &str) -> Option<usize> {
        self.pairs
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, line)| *line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_finds_block_and_flow_pairs_by_occurrence() {
        let text = "port: 5300\nservers:\n  - name: a.\n    zones:\n      - { zone: ., file: root.zone }\n  - name: a.  # again\n";
        let lines = Lines::new(text);
        assert_eq!(lines.find("port", "5300", 0), Some(1));
        assert_eq!(lines.find("name", "a.", 0), Some(3));
        assert_eq!(lines.find("name", "a.", 1), Some(6));
        assert_eq!(lines.find("file", "root.zone", 0), Some(5));
        assert_eq!(lines.find("zone", ".", 0), Some(5));
        assert_eq!(lines.find("name", "a.", 2), None);
    }

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

    /// The resolver's section: where it listens, and its forward and stub
    /// zones, whose port defaults to the topology's.
    #[test]
    fn the_resolver_section_gives_forward_and_stub_zones() {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("zones/default/t.yaml");
        let text = format!(
            "port: 5301\nresolver:\n  address: 127.0.0.1:1054\n  forward_zones: [\"corp.example=127.0.0.1:5353,127.0.0.2\"]\n  stub_zones:\n    - lab.test=127.0.0.9\n{ROOT}"
        );
        let topology = parse(&text, &source).unwrap();
        assert_eq!(topology.resolver.to_string(), "127.0.0.1:1054");
        let addrs = |zones: &[ZoneServers]| -> Vec<String> {
            zones
                .iter()
                .flat_map(|z| z.servers.iter().map(move |a| format!("{} {a}", z.zone)))
                .collect()
        };
        assert_eq!(
            addrs(&topology.forward_zones),
            [
                "corp.example. 127.0.0.1:5353",
                "corp.example. 127.0.0.2:5301"
            ]
        );
        assert_eq!(addrs(&topology.stub_zones), ["lab.test. 127.0.0.9:5301"]);
    }

    #[test]
    fn a_bad_resolver_zone_and_an_unknown_key_are_reported_at_their_lines() {
        let text = format!("resolver:\n  stub_zones:\n    - lab.test=nowhere\n{ROOT}");
        assert_eq!(
            problems(&text),
            ["3: resolver zone: \"nowhere\" is not an address, ADDR:PORT or [V6]:PORT"]
        );
        let text = format!("resolver:\n  forwarders: []\n{ROOT}");
        let found = problems(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("1: resolver: unknown field `forwarders`"),
            "{found:?}"
        );
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
