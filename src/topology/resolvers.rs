//! The local DNS servers of a topology: `resolver:` (one) or `resolvers:`
//! (a list, the textbook's two ISPs), each entry `ADDRESS:PORT` or a
//! section, read into [`LocalResolver`]s, and the rules they keep.
//!
//! ```yaml
//! resolvers:
//!   - { name: ISP in the east, address: 127.0.0.1:1053 }
//!   - name: ISP in the west
//!     address: 127.0.1.1:1053
//!     ecs: false
//!     stub_zones: [cs.umass.edu=127.0.0.14]
//! ```
//!
//! A single `resolver: 127.0.0.1:1053` is the one-item list, so older
//! files keep working. Each resolver listens on its own loopback address
//! and sends its upstream queries from it: an authoritative server that
//! answers by the asking resolver's address (a CDN) can then tell them
//! apart, so [`check_resolvers`] wants distinct loopback addresses (and
//! none a server of the hierarchy uses).

use std::net::SocketAddr;

use dnslab_resolver::ZoneServers;
use dnslab_wire::RrsetOrder;
use serde::Deserialize;
use serde_yaml::Value;

use super::problem::{Place, Problem, ProblemKind};
use super::spec::DEFAULT_RESOLVER;
use super::{LocalResolver, Topology};
use crate::yaml::Lines;

/// One resolver's section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolverSpec {
    /// Its name in `up`'s table (default: `resolver`, or `resolver N` in
    /// a list).
    name: Option<String>,
    /// ADDRESS:PORT where it listens (default 127.0.0.1:1053).
    address: Option<String>,
    /// Send each client's network upstream (RFC 7871; default off).
    ecs: Option<bool>,
    /// fixed, cyclic (default) or random.
    rrset_order: Option<String>,
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

/// `resolver:` or `resolvers:` as written, into the resolvers, with each
/// problem at its line; `port` is the topology's, for forward and stub
/// servers written without one. Without either: one resolver at
/// 127.0.0.1:1053.
pub(super) fn parse(
    one: Option<Value>,
    list: Option<Vec<Value>>,
    port: u16,
    lines: &Lines<'_>,
    at: &dyn Fn(Option<usize>) -> Option<Place>,
    problems: &mut Vec<Problem>,
) -> Vec<LocalResolver> {
    let entries = match (one, list) {
        (Some(_), Some(_)) => {
            problems.push(Problem::new(
                at(lines.find_key("resolvers")),
                ProblemKind::ResolverAndResolvers,
            ));
            return Vec::new();
        }
        (Some(one), None) => vec![(one, "resolver".to_string())],
        (None, Some(list)) if list.is_empty() => {
            problems.push(Problem::new(
                at(lines.find_key("resolvers")),
                ProblemKind::NoResolver,
            ));
            return Vec::new();
        }
        (None, Some(list)) => list
            .into_iter()
            .enumerate()
            .map(|(i, entry)| (entry, format!("resolver {}", i + 1)))
            .collect(),
        (None, None) => vec![(Value::Null, "resolver".to_string())],
    };
    let mut seen = Vec::new();
    let mut zones_seen = Vec::new();
    entries
        .into_iter()
        .filter_map(|(entry, default_name)| {
            let spec = section(entry, lines, at, problems)?;
            let address_text = spec.address.as_deref().unwrap_or(DEFAULT_RESOLVER);
            let nth = seen.iter().filter(|a| *a == address_text).count();
            seen.push(address_text.to_string());
            let line = lines
                .find("address", address_text, nth)
                .or_else(|| lines.find("resolver", address_text, nth))
                .or_else(|| lines.containing(address_text, nth));
            let Ok(address) = address_text.parse::<SocketAddr>() else {
                problems.push(Problem::new(
                    at(line),
                    ProblemKind::BadResolverAddress(address_text.to_string()),
                ));
                return None;
            };
            let rrset_order = match spec.rrset_order.as_deref().map(str::parse::<RrsetOrder>) {
                None => RrsetOrder::default(),
                Some(Ok(order)) => order,
                Some(Err(error)) => {
                    problems.push(Problem::new(
                        at(line),
                        ProblemKind::BadRrsetOrder(error.to_string()),
                    ));
                    RrsetOrder::default()
                }
            };
            let mut zones = |entries: &[String]| {
                zone_servers(entries, port, &mut zones_seen, lines, at, problems)
            };
            let forward_zones = zones(&spec.forward_zones);
            let stub_zones = zones(&spec.stub_zones);
            Some(LocalResolver {
                name: spec.name.unwrap_or(default_name),
                address,
                ecs: spec.ecs.unwrap_or(false),
                rrset_order,
                forward_zones,
                stub_zones,
                line: line.unwrap_or(0),
            })
        })
        .collect()
}

/// A section's `forward_zones` or `stub_zones`, each entry
/// `NAME=ADDR[:PORT],...` with `port` where none is given; a bad entry is
/// a problem at its own line (the `nth` line holding its text, counted in
/// `seen`, so that two resolvers' equal entries each find their own).
fn zone_servers(
    entries: &[String],
    port: u16,
    seen: &mut Vec<String>,
    lines: &Lines<'_>,
    at: &dyn Fn(Option<usize>) -> Option<Place>,
    problems: &mut Vec<Problem>,
) -> Vec<ZoneServers> {
    let mut parsed = Vec::new();
    for entry in entries {
        let nth = seen.iter().filter(|e| *e == entry).count();
        seen.push(entry.clone());
        match ZoneServers::parse_with_port(entry, port) {
            Ok(zone) => parsed.push(zone),
            Err(error) => problems.push(Problem::new(
                at(lines.containing(entry, nth)),
                ProblemKind::BadResolverZone(error.to_string()),
            )),
        }
    }
    parsed
}

/// One entry: `ADDRESS:PORT`, or a section read after the rest so that a
/// mistake in it is named (an untagged enum would only say that nothing
/// matched). Nothing at all is the default resolver.
fn section(
    entry: Value,
    lines: &Lines<'_>,
    at: &dyn Fn(Option<usize>) -> Option<Place>,
    problems: &mut Vec<Problem>,
) -> Option<ResolverSpec> {
    match entry {
        Value::Null => Some(ResolverSpec::default()),
        Value::String(address) => Some(ResolverSpec {
            address: Some(address),
            ..ResolverSpec::default()
        }),
        value => match serde_yaml::from_value(value) {
            Ok(spec) => Some(spec),
            Err(e) => {
                let e = e.to_string();
                let start = lines.find_key("resolvers").or(lines.find_key("resolver"));
                // serde_yaml names no line for a value: an unknown key is
                // found below the section's start, anything else at it.
                let line = unknown_field(&e)
                    .and_then(|field| lines.find_key_from(field, start.unwrap_or(0)))
                    .or(start);
                problems.push(Problem::new(
                    at(line),
                    ProblemKind::Yaml(format!("resolver: {e}")),
                ));
                None
            }
        },
    }
}

/// The key serde's message `unknown field `KEY`, expected ...` names.
fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split_once('`').map(|(field, _)| field)
}

/// The rules the resolvers of `topology` keep: loopback addresses, one
/// address each, none a server's address and port. Run on the file's
/// resolvers and again on `up --resolver`'s.
pub fn check_resolvers(topology: &Topology) -> Vec<Problem> {
    let at = |line: usize| Some(topology.place(line));
    let mut problems = Vec::new();
    for (i, resolver) in topology.resolvers.iter().enumerate() {
        let address = resolver.address.ip();
        if !address.is_loopback() {
            problems.push(Problem::new(
                at(resolver.line),
                ProblemKind::ResolverNotLoopback {
                    name: resolver.name.clone(),
                    address,
                },
            ));
        }
        let earlier = topology.resolvers.get(..i).unwrap_or_default();
        if let Some(first) = earlier.iter().find(|r| r.address.ip() == address) {
            problems.push(Problem::new(
                at(resolver.line),
                ProblemKind::ResolversShareAddress {
                    name: resolver.name.clone(),
                    first: first.name.clone(),
                    first_line: first.line,
                    address,
                },
            ));
        }
        if let Some(server) = topology
            .servers
            .iter()
            .find(|s| s.address == address && topology.port == resolver.address.port())
        {
            problems.push(Problem::new(
                at(server.address_line),
                ProblemKind::ResolverClash(resolver.address),
            ));
        }
    }
    problems
}
