//! The whole-topology check a careful registrar would run before a
//! delegation goes live: every zone file loads and passes the zone checks,
//! every served zone is delegated from its parent, and every delegation
//! (an NS RRset at a zone cut, RFC 1034 4.2.1) points at a server of the
//! topology that really serves the child zone, reachable at the address the
//! hierarchy gives for it (glue, RFC 1034 4.2.1 and RFC 9471, or the
//! authoritative address record when the delegation is glueless).
//!
//! The checks run on [`ZoneFacts`], a small summary of one zone file, so
//! that they are pure functions unit-tested with hand-built facts.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use dnslab_authoritative::{
    check_views as check_views_of, read_master_file, SourcedRecord, View, ViewError, Zone,
};
use hickory_proto::rr::{Name, RData};

use super::problem::{AddressSource, Place, Problem, ProblemKind};
use super::{Server, Topology};

/// What the delegation checks need to know of one zone file.
#[derive(Clone, Debug)]
pub struct ZoneFacts {
    pub origin: Name,
    /// The zone's own NS RRset, at the apex.
    pub apex_ns: Vec<Name>,
    /// NS RRsets at names below the apex: the zone cuts, in file order.
    pub cuts: Vec<Cut>,
    /// Every A and AAAA record of the file with its owner, glue included.
    pub addresses: Vec<(Name, IpAddr)>,
}

/// One delegation: the child zone and the name servers the parent names.
#[derive(Clone, Debug)]
pub struct Cut {
    pub child: Name,
    /// Each NS target with the line of its NS record.
    pub ns: Vec<(Name, Option<Place>)>,
}

impl ZoneFacts {
    /// Summarises the records of the zone `origin` as read from its file.
    pub fn from_records(origin: &Name, records: &[SourcedRecord]) -> ZoneFacts {
        let mut cuts: Vec<Cut> = Vec::new();
        let mut apex_ns = Vec::new();
        let mut addresses = Vec::new();
        for sourced in records {
            let record = &sourced.record;
            match &record.data {
                RData::NS(ns) if record.name == *origin => apex_ns.push(ns.0.clone()),
                RData::NS(ns) => {
                    let place = Some(Place {
                        file: sourced.location.file.to_path_buf(),
                        line: sourced.location.line as usize,
                    });
                    let target = ns.0.clone();
                    match cuts.iter_mut().find(|c| c.child == record.name) {
                        Some(cut) => cut.ns.push((target, place)),
                        None => cuts.push(Cut {
                            child: record.name.clone(),
                            ns: vec![(target, place)],
                        }),
                    }
                }
                RData::A(a) => addresses.push((record.name.clone(), IpAddr::V4(a.0))),
                RData::AAAA(aaaa) => addresses.push((record.name.clone(), IpAddr::V6(aaaa.0))),
                _ => {}
            }
        }
        ZoneFacts {
            origin: origin.clone(),
            apex_ns,
            cuts,
            addresses,
        }
    }

    /// Is `name` inside this zone's namespace (at or below the apex)?
    fn contains(&self, name: &Name) -> bool {
        self.origin.zone_of(name)
    }

    /// The delegation at or above `name`, if `name` is not authoritative
    /// data of this zone.
    fn cut_above(&self, name: &Name) -> Option<&Cut> {
        self.cuts.iter().find(|cut| cut.child.zone_of(name))
    }

    fn addresses_of(&self, name: &Name) -> Vec<IpAddr> {
        self.addresses
            .iter()
            .filter(|(owner, _)| owner == name)
            .map(|(_, address)| *address)
            .collect()
    }
}

/// Reads every zone file of the topology once (several servers may load
/// the same file) and runs the zone checks on it. Returns the facts of the
/// files that loaded and the problems of those that did not.
pub fn read_zones(topology: &Topology) -> (HashMap<PathBuf, ZoneFacts>, Vec<Problem>) {
    let mut facts = HashMap::new();
    let mut problems = Vec::new();
    for server in &topology.servers {
        for zone in &server.zones {
            if facts.contains_key(&zone.path) {
                continue;
            }
            match read_zone(&zone.origin, &zone.path) {
                Ok(summary) => {
                    facts.insert(zone.path.clone(), summary);
                }
                Err(messages) => problems.extend(messages.into_iter().map(|message| {
                    Problem::new(
                        None,
                        ProblemKind::BadZone {
                            zone: zone.origin.clone(),
                            message,
                        },
                    )
                })),
            }
        }
    }
    (facts, problems)
}

/// The views of every zone: each view's data loaded and checked as the
/// authoritative server will (a master file, or records replacing the
/// zone's), and the views of a zone checked together (one name and one
/// prefix per view); each problem at the line of the view's `name:`.
pub fn check_views(topology: &Topology) -> Vec<Problem> {
    let mut problems = Vec::new();
    for zone in topology.servers.iter().flat_map(|s| &s.zones) {
        let Some(&(_, first_line)) = zone.views.first() else {
            continue;
        };
        let views: Vec<View> = zone.views.iter().map(|(view, _)| view.clone()).collect();
        for error in check_views_of(&zone.origin, &zone.path, &views) {
            let line = match &error {
                ViewError::Zone { problem, .. } => zone
                    .views
                    .iter()
                    .find(|(view, _)| view.name == problem.view())
                    .map_or(first_line, |&(_, line)| line),
                _ => first_line,
            };
            let place = Some(topology.place(line));
            problems.push(Problem::new(place, ProblemKind::Views(error.to_string())));
        }
    }
    problems
}

/// One zone file through the reader and into the zone store, which runs
/// `named-checkzone`'s checks; the messages carry their own `file:line`.
/// The facts come from the records as read, so that problems found later
/// can point at the line of the NS record.
fn read_zone(origin: &Name, path: &Path) -> Result<ZoneFacts, Vec<String>> {
    let file = read_master_file(path, Some(origin)).map_err(|e| vec![e.to_string()])?;
    let facts = ZoneFacts::from_records(origin, &file.records);
    Zone::from_records(origin.clone(), file.records)
        .map_err(|problems| problems.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    Ok(facts)
}

/// Every delegation and every served zone of the topology, checked against
/// the zone data in `facts` (keyed by zone file path).
pub fn check_delegations(topology: &Topology, facts: &HashMap<PathBuf, ZoneFacts>) -> Vec<Problem> {
    let served = served_zones(topology, facts);
    let mut problems = Vec::new();
    for zone in &served {
        if !zone.facts.origin.is_root() {
            check_delegated(topology, zone, &served, &mut problems);
        }
        for cut in &zone.facts.cuts {
            if let Some(kind) = check_ns_sets(zone.facts, cut, &served) {
                let first = cut.ns.first().and_then(|(_, place)| place.clone());
                problems.push(Problem::new(first, kind));
            }
            for (ns, place) in &cut.ns {
                if let Some(kind) = check_name_server(topology, zone.facts, cut, ns, &served) {
                    problems.push(Problem::new(place.clone(), kind));
                }
                // A lame server is reported even when its address is fine.
                if let Some(kind) = check_lame(topology, zone.facts, cut, ns, &served) {
                    problems.push(Problem::new(place.clone(), kind));
                }
            }
        }
    }
    problems
}

/// One zone file as served by the topology: its facts and who serves it.
struct ServedZone<'a> {
    facts: &'a ZoneFacts,
    servers: Vec<&'a Server>,
}

/// The distinct zone files of the topology with the servers loading each,
/// in the order the topology lists them (so reports are stable).
fn served_zones<'a>(
    topology: &'a Topology,
    facts: &'a HashMap<PathBuf, ZoneFacts>,
) -> Vec<ServedZone<'a>> {
    let mut order: Vec<&Path> = Vec::new();
    let mut by_path: BTreeMap<&Path, Vec<&Server>> = BTreeMap::new();
    for server in &topology.servers {
        for zone in &server.zones {
            if facts.contains_key(&zone.path) {
                let servers = by_path.entry(&zone.path).or_default();
                if servers.is_empty() {
                    order.push(&zone.path);
                }
                servers.push(server);
            }
        }
    }
    order
        .into_iter()
        .filter_map(|path| {
            Some(ServedZone {
                facts: facts.get(path)?,
                servers: by_path.remove(path)?,
            })
        })
        .collect()
}

/// RFC 1034 4.2.2: the NS RRset at the top of a zone and the copy in the
/// parent at the cut should be the same; resolvers that prefer the child's
/// set would otherwise ask other servers than the parent announced.
fn check_ns_sets(parent: &ZoneFacts, cut: &Cut, served: &[ServedZone<'_>]) -> Option<ProblemKind> {
    let sorted = |names: &mut dyn Iterator<Item = &Name>| {
        let mut names: Vec<String> = names.map(|n| n.to_lowercase().to_string()).collect();
        names.sort();
        names.dedup();
        names
    };
    let delegation = sorted(&mut cut.ns.iter().map(|(ns, _)| ns));
    served
        .iter()
        .map(|s| s.facts)
        .filter(|child| child.origin == cut.child)
        .map(|child| sorted(&mut child.apex_ns.iter()))
        .find(|apex| *apex != delegation)
        .map(|apex| ProblemKind::NsSetMismatch {
            parent: parent.origin.clone(),
            child: cut.child.clone(),
            delegation: delegation.join(" "),
            apex: apex.join(" "),
        })
}

/// A served zone other than the root must be reachable: the closest
/// enclosing served zone must delegate it (or a name above it, whose own
/// delegation is then checked in its turn).
fn check_delegated(
    topology: &Topology,
    zone: &ServedZone<'_>,
    served: &[ServedZone<'_>],
    problems: &mut Vec<Problem>,
) {
    let child = &zone.facts.origin;
    let parent = served
        .iter()
        .map(|s| s.facts)
        .filter(|f| f.origin != *child && f.origin.zone_of(child))
        .max_by_key(|f| f.origin.num_labels());
    let Some(parent) = parent else {
        return; // Only possible without a root zone, reported elsewhere.
    };
    let entry = zone
        .servers
        .first()
        .and_then(|s| s.zones.iter().find(|z| z.origin == *child));
    let line = entry.map(|z| z.line);
    let delegated = parent.cut_above(child).is_some();
    // `delegated: false`: served, waiting for a registrar's UPDATE.
    if entry.is_some_and(|z| !z.delegated) {
        if delegated {
            problems.push(Problem::new(
                line.map(|line| topology.place(line)),
                ProblemKind::AlreadyDelegated {
                    child: child.clone(),
                    parent: parent.origin.clone(),
                },
            ));
        }
        return;
    }
    if !delegated {
        let servers: Vec<String> = zone.servers.iter().map(|s| s.name.to_string()).collect();
        problems.push(Problem::new(
            line.map(|line| topology.place(line)),
            ProblemKind::NotDelegated {
                child: child.clone(),
                parent: parent.origin.clone(),
                servers: servers.join(", "),
            },
        ));
    }
}

/// The addresses the hierarchy gives for `ns`, a name server of `cut` in
/// `parent`: the parent's own records when it holds the name (glue when the
/// name is at or below a cut), else the authoritative address records of
/// the deepest served zone that holds the name (a glueless delegation, or a
/// server named under a sibling delegation without sibling glue).
fn addresses_for(
    parent: &ZoneFacts,
    cut: &Cut,
    ns: &Name,
    served: &[ServedZone<'_>],
) -> (Vec<IpAddr>, AddressSource) {
    if parent.contains(ns) {
        let own = parent.addresses_of(ns);
        match parent.cut_above(ns) {
            None => return (own, AddressSource::ZoneData),
            Some(at) if at.child == cut.child || !own.is_empty() => {
                return (own, AddressSource::Glue)
            }
            Some(_) => {}
        }
    }
    let holder = served
        .iter()
        .map(|s| s.facts)
        .filter(|f| f.contains(ns))
        .max_by_key(|f| f.origin.num_labels());
    let addresses = match holder {
        Some(zone) if zone.cut_above(ns).is_none() => zone.addresses_of(ns),
        _ => Vec::new(),
    };
    (addresses, AddressSource::ZoneData)
}

/// Can a resolver reach `ns` at the right address? Missing glue, glue or
/// address records that disagree with the topology, and names no server
/// of the topology answers to.
fn check_name_server(
    topology: &Topology,
    parent: &ZoneFacts,
    cut: &Cut,
    ns: &Name,
    served: &[ServedZone<'_>],
) -> Option<ProblemKind> {
    let named = topology.server_named(ns);
    let (addresses, via) = addresses_for(parent, cut, ns, served);
    if addresses.is_empty() {
        return Some(if cut.child.zone_of(ns) {
            // RFC 1034 4.2.1: a name server inside the zone it serves can
            // only be found through the parent's copy of its address.
            ProblemKind::MissingGlue {
                parent: parent.origin.clone(),
                child: cut.child.clone(),
                ns: ns.clone(),
                expected: named.map_or("<its address>".to_string(), |s| s.address.to_string()),
            }
        } else if named.is_none() {
            ProblemKind::UnknownNameServer {
                parent: parent.origin.clone(),
                child: cut.child.clone(),
                ns: ns.clone(),
            }
        } else {
            let reason = if parent.contains(ns) {
                format!("zone {} has no A/AAAA record for it", parent.origin)
            } else {
                "no zone of the topology has an A/AAAA record for it".to_string()
            };
            ProblemKind::NoAddress {
                child: cut.child.clone(),
                ns: ns.clone(),
                reason,
            }
        });
    }
    match named {
        Some(server) if !addresses.contains(&server.address) => {
            Some(ProblemKind::AddressMismatch {
                child: cut.child.clone(),
                ns: ns.clone(),
                via,
                found: join(&addresses),
                expected: server.address,
                server_at: topology.place(server.address_line),
            })
        }
        Some(_) => None,
        None if addresses.iter().any(|a| topology.server_at(*a).is_some()) => None,
        None => Some(ProblemKind::UnknownNameServer {
            parent: parent.origin.clone(),
            child: cut.child.clone(),
            ns: ns.clone(),
        }),
    }
}

/// A lame delegation (RFC 1912 2.8): the named server exists but does not
/// serve the child zone, so it would answer with a referral or REFUSED.
fn check_lame(
    topology: &Topology,
    parent: &ZoneFacts,
    cut: &Cut,
    ns: &Name,
    served: &[ServedZone<'_>],
) -> Option<ProblemKind> {
    let server = topology.server_named(ns).or_else(|| {
        let (addresses, _) = addresses_for(parent, cut, ns, served);
        addresses.iter().find_map(|a| topology.server_at(*a))
    })?;
    if server.zones.iter().any(|z| z.origin == cut.child) {
        return None;
    }
    let serves: Vec<String> = server.zones.iter().map(|z| z.origin.to_string()).collect();
    Some(ProblemKind::LameDelegation {
        parent: parent.origin.clone(),
        child: cut.child.clone(),
        ns: ns.clone(),
        address: server.address,
        serves: if serves.is_empty() {
            "nothing".to_string()
        } else {
            serves.join(", ")
        },
        server_at: topology.place(server.line),
    })
}

fn join(addresses: &[IpAddr]) -> String {
    addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::super::ZoneFile;
    use super::*;

    fn name(text: &str) -> Name {
        Name::from_str(text).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// A topology whose servers serve the zones listed, one file per zone
    /// named after it.
    fn topology(servers: &[(&str, &str, &[&str])]) -> Topology {
        Topology {
            source: PathBuf::from("t.yaml"),
            port: 5300,
            resolvers: Vec::new(),
            log_queries: false,
            keys: Default::default(),
            servers: servers
                .iter()
                .enumerate()
                .map(|(i, (server, address, zones))| Server {
                    name: name(server),
                    address: ip(address),
                    zones: zones
                        .iter()
                        .map(|z| ZoneFile {
                            origin: name(z),
                            path: PathBuf::from(z),
                            line: i + 1,
                            secondary_of: None,
                            update: Default::default(),
                            delegated: true,
                            rrset_order: None,
                            views: Vec::new(),
                        })
                        .collect(),
                    ecs: false,
                    line: i + 1,
                    address_line: i + 1,
                })
                .collect(),
        }
    }

    /// Zone facts from the apex NS set, (child, [ns]) cuts and (owner,
    /// address) records.
    fn facts(
        origin: &str,
        apex: &[&str],
        cuts: &[(&str, &[&str])],
        addresses: &[(&str, &str)],
    ) -> (PathBuf, ZoneFacts) {
        let facts = ZoneFacts {
            origin: name(origin),
            apex_ns: apex.iter().map(|n| name(n)).collect(),
            cuts: cuts
                .iter()
                .map(|(child, ns)| Cut {
                    child: name(child),
                    ns: ns.iter().map(|n| (name(n), None)).collect(),
                })
                .collect(),
            addresses: addresses.iter().map(|(n, a)| (name(n), ip(a))).collect(),
        };
        (PathBuf::from(origin), facts)
    }

    fn kinds(topology: &Topology, zones: Vec<(PathBuf, ZoneFacts)>) -> Vec<String> {
        let facts: HashMap<_, _> = zones.into_iter().collect();
        check_delegations(topology, &facts)
            .iter()
            .map(|p| p.kind.to_string())
            .collect()
    }

    const ROOT: (&str, &str, &[&str]) = ("a.root.lab.", "127.0.0.2", &["."]);

    /// A root zone whose one delegation is com. to `ns`, with `addresses`.
    fn root_delegating_com(ns: &str, addresses: &[(&str, &str)]) -> (PathBuf, ZoneFacts) {
        facts(".", &[], &[("com.", &[ns])], addresses)
    }

    #[test]
    fn glued_and_glueless_delegations_to_serving_servers_are_clean() {
        let t = topology(&[
            ROOT,
            ("ns.x.com.", "127.0.0.3", &["com.", "x.com."]),
            ("ns.y.net.", "127.0.0.4", &["net.", "y.com."]),
        ]);
        let root = facts(
            ".",
            &[],
            &[("com.", &["ns.x.com."]), ("net.", &["ns.y.net."])],
            &[("ns.x.com.", "127.0.0.3"), ("ns.y.net.", "127.0.0.4")],
        );
        let com = facts(
            "com.",
            &["ns.x.com."],
            &[("x.com.", &["ns.x.com."]), ("y.com.", &["ns.y.net."])],
            &[("ns.x.com.", "127.0.0.3")],
        );
        let net = facts("net.", &["ns.y.net."], &[], &[("ns.y.net.", "127.0.0.4")]);
        let x = facts("x.com.", &["ns.x.com."], &[], &[("ns.x.com.", "127.0.0.3")]);
        let y = facts("y.com.", &["ns.y.net."], &[], &[]);
        assert_eq!(kinds(&t, vec![root, com, net, x, y]), Vec::<String>::new());
    }

    #[test]
    fn lame_delegation_names_the_server_and_what_it_serves() {
        let t = topology(&[ROOT, ("ns.com.", "127.0.0.3", &["net."])]);
        let root = root_delegating_com("ns.com.", &[("ns.com.", "127.0.0.3")]);
        let problems = kinds(&t, vec![root]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("lame delegation"), "{problems:?}");
        assert!(problems[0].contains("serves: net."), "{problems:?}");
    }

    #[test]
    fn glue_that_disagrees_with_the_topology_is_reported() {
        let t = topology(&[ROOT, ("ns.com.", "127.0.0.3", &["com."])]);
        let root = root_delegating_com("ns.com.", &[("ns.com.", "127.0.0.9")]);
        let com = facts("com.", &["ns.com."], &[], &[("ns.com.", "127.0.0.3")]);
        let problems = kinds(&t, vec![root, com]);
        assert_eq!(problems, vec!["glue for ns.com. (name server of com.) says 127.0.0.9, but server ns.com. is at 127.0.0.3 in the topology (t.yaml:2)"]);
    }

    #[test]
    fn missing_glue_for_an_in_bailiwick_server_is_reported() {
        let t = topology(&[ROOT, ("ns.com.", "127.0.0.3", &["com."])]);
        let root = root_delegating_com("ns.com.", &[]);
        let com = facts("com.", &["ns.com."], &[], &[("ns.com.", "127.0.0.3")]);
        let problems = kinds(&t, vec![root, com]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("missing glue"), "{problems:?}");
        assert!(problems[0].contains("ns.com. A 127.0.0.3"), "{problems:?}");
    }

    #[test]
    fn unknown_name_server_and_undelegated_zone_are_reported() {
        let t = topology(&[ROOT, ("ns.org.", "127.0.0.3", &["org."])]);
        let root = root_delegating_com("ns.nowhere.", &[]);
        let org = facts("org.", &["ns.org."], &[], &[]);
        let problems = kinds(&t, vec![root, org]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("zone org. is served")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("names ns.nowhere., which is no server")),
            "{problems:?}"
        );
    }

    #[test]
    fn glueless_server_without_any_address_record_is_reported() {
        let t = topology(&[ROOT, ("ns.x.net.", "127.0.0.3", &["com."])]);
        let root = root_delegating_com("ns.x.net.", &[]);
        let com = facts("com.", &["ns.x.net."], &[], &[]);
        let problems = kinds(&t, vec![root, com]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("no address for ns.x.net."),
            "{problems:?}"
        );
    }

    #[test]
    fn ns_sets_that_differ_between_parent_and_child_are_reported() {
        let t = topology(&[ROOT, ("ns.com.", "127.0.0.3", &["com."])]);
        let root = root_delegating_com("ns.com.", &[("ns.com.", "127.0.0.3")]);
        let com = facts(
            "com.",
            &["ns.com.", "ns2.com."],
            &[],
            &[("ns.com.", "127.0.0.3")],
        );
        let problems = kinds(&t, vec![root, com]);
        assert_eq!(
            problems,
            vec!["zone . delegates com. to {ns.com.} but com. itself lists {ns.com. ns2.com.} at its apex; make the two NS sets the same"]
        );
    }
}
