use std::net::IpAddr;
use std::sync::Arc;

use hickory_proto::rr::{RData, RecordType};

use super::variant::replace;
use super::*;
use crate::lookup::lookup;
use crate::zone::store::testing::{name, records, zone, SOA};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn cidrs(texts: &[&str]) -> Vec<Cidr> {
    texts.iter().map(|t| t.parse().unwrap()).collect()
}

/// The zone `origin` whose `www` has the A address `last`.
fn www(origin: &str, last: u8) -> Arc<Zone> {
    Arc::new(zone(origin, &format!("{SOA}\nwww 60 IN A 192.0.2.{last}")))
}

fn view(name: &str, clients: &[&str], zone: Arc<Zone>) -> LoadedView {
    LoadedView {
        name: name.to_string(),
        clients: cidrs(clients),
        zone,
    }
}

/// `cdn.example.`'s views: (name, prefixes, the last octet of its www).
fn cdn_views(views: &[(&str, &[&str], u8)]) -> ZoneViews {
    ZoneViews {
        origin: name("cdn.example."),
        views: views
            .iter()
            .map(|&(name, clients, last)| view(name, clients, www("cdn.example.", last)))
            .collect(),
    }
}

/// The last octet of the A record `qname` gets in view `number`.
fn answer(set: &ViewSet, base: &Catalog, number: u8, qname: &str) -> u8 {
    let catalog = set.catalog(number, base);
    let records = lookup(catalog, &name(qname), RecordType::A).into_records();
    match records.answers.first().map(|r| &r.data) {
        Some(RData::A(a)) => a.0.octets()[3],
        other => panic!("{qname}: {other:?}"),
    }
}

/// Overlapping prefixes: the longest holding the client wins, and a
/// client no prefix holds sees the zone's own data.
#[test]
fn the_longest_prefix_holding_the_client_chooses_the_view() {
    let zones = vec![www("cdn.example.", 1)];
    let base = Catalog::new(zones.clone()).unwrap();
    let views = cdn_views(&[
        ("wide", &["127.0.0.0/8"], 8),
        ("west", &["127.0.1.0/24"], 24),
    ]);
    let set = ViewSet::new(&zones, vec![views]).unwrap();
    let seen = |client: &str| {
        let number = set.select(ip(client));
        (
            set.name(number).to_string(),
            answer(&set, &base, number, "www.cdn.example."),
        )
    };
    assert_eq!(seen("127.0.1.1"), ("west".to_string(), 24));
    assert_eq!(seen("127.0.0.1"), ("wide".to_string(), 8));
    assert_eq!(seen("127.9.9.9"), ("wide".to_string(), 8));
    assert_eq!(seen("192.0.2.1"), ("-".to_string(), 1));
    assert_eq!(seen("::ffff:127.0.1.1"), ("west".to_string(), 24));
}

/// Two zones with views: one number per query selects both zones' views
/// (and the name says which), and prefixes selecting the same views
/// share one catalog.
#[test]
fn each_zone_with_views_shows_its_own_view_under_one_number() {
    let zones = vec![
        www("a.example.", 1),
        www("b.example.", 2),
        www("c.example.", 3),
    ];
    let base = Catalog::new(zones.clone()).unwrap();
    let a = ZoneViews {
        origin: name("a.example."),
        views: vec![view("east", &["127.0.0.0/24"], www("a.example.", 10))],
    };
    let b = ZoneViews {
        origin: name("b.example."),
        views: vec![
            view(
                "lab",
                &["127.0.0.0/16", "10.0.0.0/8"],
                www("b.example.", 20),
            ),
            view("west", &["127.0.1.0/24"], www("b.example.", 21)),
        ],
    };
    let set = ViewSet::new(&zones, vec![a, b]).unwrap();
    let east = set.select(ip("127.0.0.9"));
    let west = set.select(ip("127.0.1.9"));
    let lab = set.select(ip("127.0.9.9"));
    assert_eq!(set.name(east), "east+lab");
    assert_eq!(set.name(west), "-+west");
    assert_eq!(set.name(lab), "-+lab");
    assert_eq!(
        set.select(ip("10.1.2.3")),
        lab,
        "the same views, one number"
    );
    assert_eq!(set.select(ip("192.0.2.1")), 0);
    let answers = |number| {
        ["www.a.example.", "www.b.example.", "www.c.example."]
            .map(|qname| answer(&set, &base, number, qname))
    };
    assert_eq!(answers(east), [10, 20, 3]);
    assert_eq!(answers(west), [1, 21, 3]);
    assert_eq!(answers(0), [1, 2, 3]);
    assert!(set.has_views(&name("b.example.")) && !set.has_views(&name("c.example.")));
}

/// RFC 7871 7.2.1: the scope is the number of leading bits that decide
/// the view, whether or not the client is in a view's prefix.
#[test]
fn the_scope_covers_the_bits_that_decide_the_view() {
    let zones = vec![www("cdn.example.", 1)];
    let views = cdn_views(&[
        ("east", &["127.0.0.0/24"], 2),
        ("west", &["127.0.1.0/24"], 3),
    ]);
    let set = ViewSet::new(&zones, vec![views]).unwrap();
    // Inside a prefix: all of it.
    assert_eq!(set.scope(ip("127.0.0.77")), 24);
    // The third octet of 127.0.2.1 is 0000_0010: it shares 22 bits with
    // both prefixes (0000_0000 and 0000_0001), so 23 bits decide.
    assert_eq!(set.scope(ip("127.0.2.1")), 23);
    // 10.x shares one bit with 127.x (0 then 0 vs 1): two bits decide.
    assert_eq!(set.scope(ip("10.0.0.0")), 2);
    // Another family: nothing in the table can tell it apart.
    assert_eq!(set.scope(ip("2001:db8::1")), 0);
    assert_eq!(ViewSet::default().scope(ip("127.0.0.1")), 0);
}

#[test]
fn ambiguous_views_are_refused() {
    let zones = vec![www("cdn.example.", 1)];
    let two = |first: &str, second: (&str, &[&str])| {
        cdn_views(&[(first, &["127.0.0.0/24"], 2), (second.0, second.1, 3)])
    };
    let shared = ViewSet::new(&zones, vec![two("east", ("west", &["127.0.0.1/24"]))]);
    let problem = |result: Result<ViewSet, ViewError>| match result {
        Err(error) => error.to_string(),
        Ok(_) => panic!("accepted"),
    };
    assert_eq!(
        problem(shared),
        "zone cdn.example.: the prefix 127.0.0.0/24 is in views east and west; a client must see one"
    );
    let named = ViewSet::new(&zones, vec![two("east", ("east", &["127.0.1.0/24"]))]);
    assert_eq!(
        problem(named),
        "zone cdn.example.: two views are named east"
    );
    let empty = ViewSet::new(&zones, vec![two("east", ("west", &[]))]);
    assert_eq!(
        problem(empty),
        "zone cdn.example.: view west: a view needs at least one client prefix"
    );
}

/// Per-name records replace the zone's RRset of their type only, and a
/// line without a TTL takes the SOA's.
#[test]
fn view_records_replace_rrsets_of_their_name_and_type() {
    let origin = name("cdn.example.");
    let base = records(
        &origin,
        &format!("{SOA}\nwww 60 IN A 192.0.2.1\nwww 60 IN A 192.0.2.2\nwww 60 IN AAAA 2001:db8::1"),
    );
    let replacing = [
        ViewRecords {
            owner: "www".to_string(),
            records: vec!["A 198.51.100.1".to_string(), "A 198.51.100.2".to_string()],
        },
        ViewRecords {
            owner: "mail.cdn.example.".to_string(),
            records: vec!["30 IN A 198.51.100.25".to_string()],
        },
    ];
    let replaced = replace(&origin, "west", base, &replacing).unwrap();
    let zone = Zone::from_records(origin.clone(), replaced).unwrap();
    let catalog = Catalog::new(vec![Arc::new(zone)]).unwrap();
    let texts = |qname, rtype| {
        let found = lookup(&catalog, &name(qname), rtype).into_records();
        crate::zone::store::testing::texts(&found.answers)
    };
    assert_eq!(
        texts("www.cdn.example.", RecordType::A),
        [
            "www.cdn.example. 3600 IN A 198.51.100.1",
            "www.cdn.example. 3600 IN A 198.51.100.2"
        ]
    );
    assert_eq!(
        texts("www.cdn.example.", RecordType::AAAA),
        ["www.cdn.example. 60 IN AAAA 2001:db8::1"]
    );
    assert_eq!(
        texts("mail.cdn.example.", RecordType::A),
        ["mail.cdn.example. 30 IN A 198.51.100.25"]
    );
    let bad = [ViewRecords {
        owner: "www".to_string(),
        records: vec!["A not-an-address".to_string()],
    }];
    let error = replace(&origin, "west", Vec::new(), &bad).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("zone cdn.example.: view west: records at www:"),
        "{error}"
    );
}
