//! A patched zone against the zone its records build: the same records,
//! names (empty non-terminals and NXDOMAIN alike), summary, NSEC chain
//! and NSEC3 chain, for hand-written changes, signed zones, and long
//! seeded random sequences patched in place as the update writer does.

use std::collections::BTreeSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::super::testing::{name, record, texts, zone};
use super::*;
use crate::zone::diff::diff;

const V1: &str = "@ 3600 IN SOA ns.example.net. admin.example. 1 7200 900 1209600 300
@ 3600 IN NS ns.example.net.
www 300 IN A 192.0.2.1
a.b.c 300 IN A 192.0.2.2
x.b.c 300 IN TXT \"x\"
mail 300 IN MX 10 www.example.";

fn lines_of(text: &str) -> Vec<Record> {
    let origin = name("example.");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| record(&origin, l.trim()))
        .collect()
}

/// The changeset from `from` to `to` (zone texts), as an update makes.
fn change(from: &str, to: &str) -> Changeset {
    diff(&lines_of(from), &lines_of(to)).unwrap()
}

fn sorted(zone: &Zone) -> Vec<String> {
    let mut lines = texts(&zone.records().collect::<Vec<_>>());
    lines.sort();
    lines
}

/// Every name either zone has a node for (those out of the index
/// included), and a name below each.
fn names_of(zones: [&Zone; 2]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for zone in zones {
        for node in zone.nodes() {
            let name = node.name().to_lowercase().to_string();
            names.insert(format!("below.{name}"));
            names.insert(name);
        }
    }
    names
}

/// `patched` answers as `built` does: records, which names exist and
/// which are empty non-terminals, the summary, the NSEC record covering
/// each name, and the NSEC3 chain.
fn assert_same(patched: &Zone, built: &Zone) {
    assert_eq!(sorted(patched), sorted(built));
    assert_eq!(patched.summary(), built.summary());
    assert_eq!(patched.soa().to_string(), built.soa().to_string());
    for text in names_of([patched, built]) {
        let owner = name(&text);
        let exists = |zone: &Zone| zone.node(&owner).map(|n| n.is_empty_non_terminal());
        assert_eq!(exists(patched), exists(built), "{text}: exists, empty");
        let covering = |zone: &Zone| {
            zone.nsec_covering(&owner)
                .map(|n| n.name().to_lowercase().to_string())
        };
        assert_eq!(covering(patched), covering(built), "NSEC covering {text}");
    }
    assert_eq!(texts(patched.nsec3_records()), texts(built.nsec3_records()));
    assert_eq!(
        patched.nsec3_chain().is_some(),
        built.nsec3_chain().is_some()
    );
}

/// A patched zone is the zone its records would build, lookups
/// included: a name added gets its empty non-terminals, a name left
/// empty goes with the ancestors it alone kept, one that still has
/// names below stays an empty non-terminal; the old version is
/// untouched.
#[test]
fn a_patched_zone_is_the_zone_its_records_build() {
    let old = zone("example.", V1);
    let v2 = V1
        .replace(" 1 7200", " 2 7200")
        .replace("a.b.c 300 IN A 192.0.2.2\n", "")
        .replace(
            "mail 300 IN MX 10 www.example.",
            "new.d.e 60 IN A 192.0.2.9\nwww 300 IN A 192.0.2.3",
        );
    let v3 = v2
        .replace(" 2 7200", " 3 7200")
        .replace("x.b.c 300 IN TXT \"x\"\n", "");
    let patched = old.patched(&[change(V1, &v2), change(&v2, &v3)]).unwrap();
    assert_same(&patched, &zone("example.", &v3));
    assert_eq!(crate::server::serial(&patched), 3);
    for gone in [
        "a.b.c.example.",
        "b.c.example.",
        "c.example.",
        "mail.example.",
    ] {
        assert!(patched.node(&name(gone)).is_none(), "{gone} is NXDOMAIN");
    }
    let ent = patched
        .node(&name("d.e.example."))
        .expect("an empty non-terminal");
    assert!(ent.rrsets().is_empty());
    assert_eq!(
        patched.node(&name("www.example.")).unwrap().rrsets()[0].len(),
        2
    );
    // The version served before is as it was.
    assert_same(&old, &zone("example.", V1));
    assert!(old.node(&name("a.b.c.example.")).is_some());
}

/// A name taken out and added again gets a new node; when most nodes
/// are gone, the zone says so and the writer builds it afresh.
#[test]
fn names_removed_and_added_again_and_a_sparse_zone() {
    let mut versions = vec![V1.to_string()];
    for serial in 2..200u32 {
        let last = versions.last().unwrap();
        let next = last.replace(&format!(" {} 7200", serial - 1), &format!(" {serial} 7200"));
        let next = match serial % 2 {
            0 => next.replace("www 300 IN A 192.0.2.1\n", ""),
            _ => next.replace("mail 300", "www 300 IN A 192.0.2.1\nmail 300"),
        };
        versions.push(next);
    }
    let mut zone = super::super::testing::zone("example.", V1);
    for pair in versions.windows(2) {
        zone.patch(&[change(&pair[0], &pair[1])]).unwrap();
    }
    let built = super::super::testing::zone("example.", versions.last().unwrap());
    assert_same(&zone, &built);
    assert!(zone.node(&name("www.example.")).is_some());
    assert!(
        zone.is_sparse(),
        "{} nodes, {} indexed",
        zone.nodes.len(),
        zone.index.len()
    );
}

/// Changes a patch does not make (the NSEC3 chain's, which a build
/// orders) and changesets that do not describe the zone are errors, the
/// first before anything changed.
#[test]
fn what_patching_cannot_do_is_an_error() {
    let old = zone("example.", V1);
    let next = V1.replace(" 1 7200", " 2 7200");
    for chain in [
        "abc 300 IN NSEC3 1",
        "abc 300 IN RRSIG NSEC3 1",
        "@ 300 IN NSEC3PARAM 1 0 0 -",
    ] {
        let mut zone = old.clone();
        let changeset = change(V1, &format!("{next}\n{chain}"));
        assert_eq!(zone.patch(&[changeset]).unwrap_err(), PatchError::Nsec3);
        assert_same(&zone, &old);
    }
    let origin = name("example.");
    let mut wrong = change(V1, &next);
    wrong
        .removed
        .push(record(&origin, "nothing 300 IN A 192.0.2.9"));
    assert!(matches!(
        old.patched(&[wrong]),
        Err(PatchError::NotPresent(_))
    ));
    let mut wrong = change(V1, &next);
    wrong.added.push(record(&origin, "www 300 IN A 192.0.2.1"));
    assert!(matches!(
        old.patched(&[wrong]),
        Err(PatchError::AlreadyPresent(_))
    ));
    let mut wrong = change(V1, &next);
    wrong
        .added
        .push(record(&origin, "www.example.org. 300 IN A 192.0.2.1"));
    assert!(matches!(
        old.patched(&[wrong]),
        Err(PatchError::OutOfZone(_))
    ));
}

/// A zone signed with NSEC: names, their NSEC records and signatures (of
/// two TTLs) come and go; the chain covers each name as a build's does,
/// and the signatures are counted.
#[test]
fn an_nsec_signed_zone_keeps_its_chain_in_order() {
    let signed = "@ 3600 IN SOA ns.example.net. admin.example. 1 7200 900 1209600 300
@ 3600 IN NS ns.example.net.
@ 3600 IN RRSIG SOA 1
@ 300 IN NSEC b.example.
@ 300 IN RRSIG NSEC 2
b 300 IN A 192.0.2.1
b 300 IN RRSIG A 3
b 300 IN NSEC d.example.
b 60 IN RRSIG NSEC 4
d 300 IN A 192.0.2.2
d 300 IN NSEC example.";
    let v2 = signed
        .replace(" 1 7200", " 2 7200")
        .replace("b 300 IN NSEC d.example.", "b 300 IN NSEC c.x.example.")
        .replace(
            "d 300 IN A 192.0.2.2",
            "c.x 300 IN A 192.0.2.3\nc.x 300 IN NSEC d.example.\nc.x 60 IN RRSIG NSEC 5\n\
             d 300 IN A 192.0.2.2",
        );
    let v3 = v2
        .replace(" 2 7200", " 3 7200")
        .replace("@ 300 IN NSEC b.example.", "@ 300 IN NSEC c.x.example.")
        .replace(
            "b 300 IN A 192.0.2.1\nb 300 IN RRSIG A 3\nb 300 IN NSEC c.x.example.\nb 60 IN RRSIG NSEC 4\n",
            "",
        );
    let mut zone = super::super::testing::zone("example.", signed);
    assert!(zone.is_nsec_signed());
    zone.patch(&[change(signed, &v2)]).unwrap();
    assert_same(&zone, &super::super::testing::zone("example.", &v2));
    zone.patch(&[change(&v2, &v3)]).unwrap();
    let built = super::super::testing::zone("example.", &v3);
    assert_same(&zone, &built);
    assert!(zone.node(&name("b.example.")).is_none());
    assert_eq!(
        zone.nsec_covering(&name("a.example."))
            .map(|n| n.name().to_string()),
        Some("example.".into())
    );
    assert_eq!(zone.summary().signatures, 3);
}

/// A zone signed with NSEC3: changes beside the chain (a name, its
/// signature) are patched and leave the chain as it was.
#[test]
fn an_nsec3_signed_zone_keeps_its_chain() {
    let signed = "@ 3600 IN SOA ns.example.net. admin.example. 1 7200 900 1209600 300
@ 3600 IN NS ns.example.net.
@ 3600 IN NSEC3PARAM 1 0 0 -
www 300 IN A 192.0.2.1
hashed 300 IN NSEC3 1
hashed 300 IN RRSIG NSEC3 1";
    let v2 = signed.replace(" 1 7200", " 2 7200").replace(
        "www 300 IN A 192.0.2.1",
        "www 300 IN A 192.0.2.1\nnew.sub 300 IN A 192.0.2.2\nnew.sub 300 IN RRSIG A 2",
    );
    let mut zone = super::super::testing::zone("example.", signed);
    zone.patch(&[change(signed, &v2)]).unwrap();
    assert_same(&zone, &super::super::testing::zone("example.", &v2));
    assert_eq!(zone.nsec3_records().len(), 2);
    assert!(zone.node(&name("hashed.example.")).is_none());
}

/// One zone's records as a set of lines, changed at random by what
/// updates do: records added (to an RRset at its TTL), removed, RRsets
/// given a new TTL, names emptied; deep names so that empty
/// non-terminals come and go, delegations, NSEC and signatures.
struct RandomZone {
    serial: u32,
    lines: BTreeSet<(String, String, u32, String)>,
}

const OWNERS: [&str; 9] = [
    "@", "a", "b.a", "c.b.a", "d", "x.d", "e.x.d", "f.e.x.d", "g",
];

impl RandomZone {
    fn text(&self) -> String {
        let mut text = format!(
            "@ 3600 IN SOA ns.example.net. admin.example. {} 7200 900 1209600 300\n\
             @ 3600 IN NS ns.example.net.\n",
            self.serial
        );
        for (owner, rtype, ttl, data) in &self.lines {
            text.push_str(&format!("{owner} {ttl} IN {rtype} {data}\n"));
        }
        text
    }

    fn step(&mut self, rng: &mut StdRng) {
        self.serial += 1;
        let pick =
            |rng: &mut StdRng, lines: &BTreeSet<_>| -> Option<(String, String, u32, String)> {
                let at = rng.random_range(0..lines.len().max(1));
                lines.iter().nth(at).cloned()
            };
        match rng.random_range(0..10) {
            0..=4 => {
                let owner = OWNERS[rng.random_range(0..OWNERS.len())].to_string();
                let (rtype, data) = match rng.random_range(0..6) {
                    0 | 1 => ("A", format!("192.0.2.{}", rng.random_range(1..4))),
                    2 => ("TXT", format!("\"t{}\"", rng.random_range(0..3))),
                    3 if owner != "@" => {
                        ("NS", format!("ns{}.example.net.", rng.random_range(0..2)))
                    }
                    4 => (
                        "NSEC",
                        format!("{}.example.", OWNERS[rng.random_range(1..OWNERS.len())]),
                    ),
                    _ => ("RRSIG", format!("A {}", rng.random_range(0..3))),
                };
                let ttl = match self
                    .lines
                    .iter()
                    .find(|(o, t, _, _)| *o == owner && t == rtype)
                {
                    Some((_, _, ttl, _)) if rtype != "RRSIG" => *ttl,
                    _ => [60, 300][rng.random_range(0..2)],
                };
                self.lines.insert((owner, rtype.to_string(), ttl, data));
            }
            5..=7 => {
                if let Some(line) = pick(rng, &self.lines) {
                    self.lines.remove(&line);
                }
            }
            8 => {
                if let Some((owner, rtype, ttl, _)) = pick(rng, &self.lines) {
                    if rtype != "RRSIG" {
                        let ttl = if ttl == 60 { 300 } else { 60 };
                        let set: Vec<_> = self
                            .lines
                            .iter()
                            .filter(|(o, t, _, _)| *o == owner && *t == rtype)
                            .cloned()
                            .collect();
                        for line in set {
                            self.lines.remove(&line);
                            self.lines.insert((line.0, line.1, ttl, line.3));
                        }
                    }
                }
            }
            _ => {
                if let Some((owner, ..)) = pick(rng, &self.lines) {
                    self.lines.retain(|(o, ..)| *o != owner);
                }
            }
        }
    }
}

/// Seeded random sequences of updates, patched in place in batches of
/// one to four changesets as the writer patches its spare copy: after
/// every batch, the zone is the one its records build.
#[test]
fn random_updates_patched_in_place_build_the_same_zone() {
    for seed in 0..12 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut random = RandomZone {
            serial: 1,
            lines: BTreeSet::new(),
        };
        let mut zone = super::super::testing::zone("example.", &random.text());
        for _ in 0..60 {
            let mut changesets = Vec::new();
            for _ in 0..rng.random_range(1..5) {
                let before = random.text();
                random.step(&mut rng);
                changesets.push(change(&before, &random.text()));
            }
            zone.patch(&changesets)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            let built = super::super::testing::zone("example.", &random.text());
            assert_same(&zone, &built);
        }
    }
}

/// Updates that add and replace never count the zone's children (a pass
/// over every name); the first that takes a name away does, and the
/// counts follow from then on.
#[test]
fn children_are_counted_only_once_a_name_goes() {
    let mut zone = super::super::testing::zone("example.", V1);
    let v2 = V1.replace(" 1 7200", " 2 7200").replace(
        "www 300 IN A 192.0.2.1",
        "www 300 IN A 192.0.2.5\nnew.e 300 IN A 192.0.2.6",
    );
    zone.patch(&[change(V1, &v2)]).unwrap();
    assert!(zone.children.is_empty());
    let v3 = v2
        .replace(" 2 7200", " 3 7200")
        .replace("a.b.c 300 IN A 192.0.2.2\n", "");
    zone.patch(&[change(&v2, &v3)]).unwrap();
    assert_eq!(zone.children.len(), zone.nodes.len());
    let v4 = v3
        .replace(" 3 7200", " 4 7200")
        .replace("x.b.c 300 IN TXT \"x\"\n", "y.b.c 300 IN TXT \"y\"\n");
    zone.patch(&[change(&v3, &v4)]).unwrap();
    assert_eq!(zone.children.len(), zone.nodes.len());
    assert_same(&zone, &super::super::testing::zone("example.", &v4));
}
