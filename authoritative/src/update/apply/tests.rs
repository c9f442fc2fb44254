//! RFC 2136 section 3, rule by rule, on a small zone: each prerequisite
//! kind passing and failing with its RCODE, each kind of update, the
//! protections of the SOA and the apex NS, CNAME exclusivity, the checks
//! of a load, the serial, and "all or none".

use std::net::IpAddr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use std::sync::Arc;

use super::*;
use crate::update::edit::EditSet;
use crate::update::policy::{NameMatch, Names};
use crate::zone::store::testing::{name, record, texts, zone};
use crate::zone::Zone;

const ZONE: &str = "
@ 3600 IN SOA ns.example. admin.example. 10 7200 900 1209600 300
@ 3600 IN NS ns.example.
ns 3600 IN A 192.0.2.53
www 300 IN A 192.0.2.1
www 300 IN A 192.0.2.2
alias 300 IN CNAME www.example.
mail 300 IN MX 10 www.example.
";

fn origin() -> Name {
    name("example.")
}

/// The zone as the writer holds it: a served version, the next built by
/// patching it with each message's changeset.
struct Edited {
    zone: Arc<Zone>,
}

impl Edited {
    fn from_text(origin: &str, text: &str) -> Edited {
        Edited {
            zone: Arc::new(zone(origin, text)),
        }
    }

    /// `message` from `client` under `rules`, as one batch of one.
    fn apply(
        &mut self,
        message: &UpdateMessage,
        client: Client<'_>,
        rules: &[UpdateRule],
    ) -> Result<Option<Changeset>, UpdateError> {
        let mut edit = ZoneEdit::new(Arc::clone(&self.zone));
        let result = apply(&mut edit, message, client, rules);
        if let Ok(Some(changeset)) = &result {
            let next = self.zone.patched(std::slice::from_ref(changeset));
            self.zone = Arc::new(next.expect("the changeset patches the zone"));
        }
        result
    }

    fn rrset(&self, name: &Name, rtype: RecordType) -> Option<EditSet> {
        ZoneEdit::new(Arc::clone(&self.zone)).rrset(name, rtype)
    }

    fn soa(&self) -> Option<Record> {
        ZoneEdit::new(Arc::clone(&self.zone)).soa()
    }
}

fn edit() -> Edited {
    Edited::from_text("example.", ZONE)
}

/// A record of the zone's class, as an add or a value-dependent
/// prerequisite (`ttl` 0) would carry it.
fn rr(line: &str) -> Record {
    record(&origin(), line)
}

/// A record of class `class`, type `rtype`, no RDATA: a delete or a
/// value-independent prerequisite.
fn empty(owner: &str, rtype: RecordType, class: DNSClass) -> Record {
    let mut record = Record::from_rdata(name(owner), 0, RData::Update0(rtype));
    record.dns_class = class;
    record
}

/// `line` as a delete of that one record (class NONE, TTL 0).
fn delete_rr(line: &str) -> Record {
    let mut record = rr(line);
    record.dns_class = DNSClass::NONE;
    record.ttl = 0;
    record
}

fn message(prerequisites: Vec<Record>, updates: Vec<Record>) -> UpdateMessage {
    UpdateMessage {
        zone: origin(),
        class: DNSClass::IN,
        prerequisites,
        updates,
    }
}

fn anyone() -> Vec<UpdateRule> {
    vec![UpdateRule::whole_zone("127.0.0.0/8".parse().unwrap())]
}

fn client() -> Client<'static> {
    Client {
        ip: IpAddr::from([127, 0, 0, 1]),
        key: None,
    }
}

/// Applies `updates` under `prerequisites` for anyone on loopback.
fn run(
    edit: &mut Edited,
    prerequisites: Vec<Record>,
    updates: Vec<Record>,
) -> Result<Option<Changeset>, UpdateError> {
    edit.apply(&message(prerequisites, updates), client(), &anyone())
}

fn rcode(result: Result<Option<Changeset>, UpdateError>) -> ResponseCode {
    match result {
        Ok(_) => ResponseCode::NoError,
        Err(error) => error.rcode(),
    }
}

/// The zone as sorted lines (owners lowercased).
fn lines(edit: &Edited) -> Vec<String> {
    let records: Vec<Record> = edit.zone.records().collect();
    let mut lines: Vec<String> = texts(&records)
        .into_iter()
        .map(|l| l.to_lowercase())
        .collect();
    lines.sort();
    lines
}

fn serial(edit: &Edited) -> u32 {
    match edit.soa().map(|soa| soa.data) {
        Some(RData::SOA(soa)) => soa.serial,
        _ => 0,
    }
}

/// RFC 2136 2.4 and 3.2.5: each of the five prerequisites, passing and
/// failing with its own RCODE; prerequisites change nothing.
#[test]
fn each_prerequisite_passes_and_fails_with_its_rcode() {
    use DNSClass::{ANY, NONE};
    let mut edit = edit();
    let before = lines(&edit);
    let cases: Vec<(Record, ResponseCode)> = vec![
        // Name is in use (2.4.4).
        (
            empty("www.example.", RecordType::ANY, ANY),
            ResponseCode::NoError,
        ),
        (
            empty("new.example.", RecordType::ANY, ANY),
            ResponseCode::NXDomain,
        ),
        // Name is not in use (2.4.5).
        (
            empty("new.example.", RecordType::ANY, NONE),
            ResponseCode::NoError,
        ),
        (
            empty("www.example.", RecordType::ANY, NONE),
            ResponseCode::YXDomain,
        ),
        // RRset exists, value independent (2.4.1).
        (
            empty("www.example.", RecordType::A, ANY),
            ResponseCode::NoError,
        ),
        (
            empty("www.example.", RecordType::AAAA, ANY),
            ResponseCode::NXRRSet,
        ),
        // RRset does not exist (2.4.3).
        (
            empty("www.example.", RecordType::AAAA, NONE),
            ResponseCode::NoError,
        ),
        (
            empty("www.example.", RecordType::A, NONE),
            ResponseCode::YXRRSet,
        ),
        // Outside the zone.
        (
            empty("www.example.org.", RecordType::A, ANY),
            ResponseCode::NotZone,
        ),
    ];
    for (prerequisite, expected) in cases {
        let shown = format!("{prerequisite:?}");
        assert_eq!(
            rcode(run(&mut edit, vec![prerequisite], vec![])),
            expected,
            "{shown}"
        );
    }
    assert_eq!(lines(&edit), before, "prerequisites change nothing");
    assert_eq!(serial(&edit), 10);
}

/// RFC 2136 2.4.2: the RRset must be exactly the records given (TTLs
/// ignored, order and duplicates too), no more and no fewer.
#[test]
fn value_dependent_prerequisites_compare_whole_rrsets() {
    let mut edit = edit();
    let both = vec![rr("www 0 IN A 192.0.2.2"), rr("www 0 IN A 192.0.2.1")];
    assert_eq!(rcode(run(&mut edit, both, vec![])), ResponseCode::NoError);
    let one = vec![rr("www 0 IN A 192.0.2.1")];
    assert_eq!(rcode(run(&mut edit, one, vec![])), ResponseCode::NXRRSet);
    let three = vec![
        rr("www 0 IN A 192.0.2.1"),
        rr("www 0 IN A 192.0.2.2"),
        rr("www 0 IN A 192.0.2.3"),
    ];
    assert_eq!(rcode(run(&mut edit, three, vec![])), ResponseCode::NXRRSet);
    let none = vec![rr("nothing 0 IN A 192.0.2.1")];
    assert_eq!(rcode(run(&mut edit, none, vec![])), ResponseCode::NXRRSet);
    // A prerequisite with a TTL is malformed.
    let ttl = vec![rr("www 300 IN A 192.0.2.1")];
    assert_eq!(rcode(run(&mut edit, ttl, vec![])), ResponseCode::FormErr);
}

/// RFC 2136 3.4.2: add to an RRset, delete one record, delete an RRset,
/// delete every RRset at a name; in order, as one change with one new
/// serial, the changeset saying exactly what went and came.
#[test]
fn each_kind_of_update_applies_in_order_as_one_change() {
    let mut edit = edit();
    let updates = vec![
        rr("www 300 IN A 192.0.2.3"),
        delete_rr("www 0 IN A 192.0.2.1"),
        empty("mail.example.", RecordType::MX, DNSClass::ANY),
        rr("new 600 IN TXT \"hello\""),
        empty("alias.example.", RecordType::ANY, DNSClass::ANY),
    ];
    let changeset = run(&mut edit, vec![], updates).unwrap().expect("a change");
    assert_eq!((changeset.from_serial, changeset.to_serial), (10, 11));
    assert_eq!(
        texts(&changeset.removed),
        [
            "example. 3600 IN SOA ns.example. admin.example. 10 7200 900 1209600 300",
            "www.example. 300 IN A 192.0.2.1",
            "mail.example. 300 IN MX 10 www.example.",
            "alias.example. 300 IN CNAME www.example.",
        ]
    );
    assert_eq!(
        texts(&changeset.added),
        [
            "example. 3600 IN SOA ns.example. admin.example. 11 7200 900 1209600 300",
            "www.example. 300 IN A 192.0.2.3",
            "new.example. 600 IN TXT hello",
        ]
    );
    assert_eq!(
        lines(&edit),
        [
            "example. 3600 in ns ns.example.",
            "example. 3600 in soa ns.example. admin.example. 11 7200 900 1209600 300",
            "new.example. 600 in txt hello",
            "ns.example. 3600 in a 192.0.2.53",
            "www.example. 300 in a 192.0.2.2",
            "www.example. 300 in a 192.0.2.3",
        ]
    );
}

/// RFC 2136 3.4.2.2: a duplicate is ignored; an update that changes
/// nothing keeps the serial and makes no changeset. A record added with
/// another TTL sets the RRset's TTL (RFC 2181 5.2), as BIND does.
#[test]
fn duplicates_change_nothing_and_a_new_ttl_applies_to_the_rrset() {
    let mut edit = edit();
    let same = run(&mut edit, vec![], vec![rr("www 300 IN A 192.0.2.1")]).unwrap();
    assert_eq!(same, None);
    let nothing = run(&mut edit, vec![], vec![delete_rr("www 0 IN A 192.0.2.99")]).unwrap();
    assert_eq!(nothing, None);
    assert_eq!(serial(&edit), 10);
    let changeset = run(&mut edit, vec![], vec![rr("www 60 IN A 192.0.2.1")])
        .unwrap()
        .expect("the TTL changed");
    assert_eq!(changeset.changes(), 4, "two removed, two added");
    assert!(lines(&edit).contains(&"www.example. 60 in a 192.0.2.2".to_string()));
}

/// RFC 2136 3.4.2.2-3.4.2.4: the SOA is never deleted and replaced only
/// by a greater serial; the apex NS RRset is never emptied.
#[test]
fn the_soa_and_the_apex_ns_are_protected() {
    use DNSClass::ANY;
    let mut edit = edit();
    let untouched = vec![
        empty("example.", RecordType::SOA, ANY),
        empty("example.", RecordType::NS, ANY),
        delete_rr("@ 0 IN NS ns.example."),
        delete_rr("@ 0 IN SOA ns.example. admin.example. 10 7200 900 1209600 300"),
        empty("example.", RecordType::ANY, ANY),
        rr("@ 3600 IN SOA ns.example. admin.example. 9 1 1 1 1"),
        rr("@ 3600 IN SOA ns.example. admin.example. 10 1 1 1 1"),
    ];
    for update in untouched {
        let shown = update.to_string();
        assert_eq!(run(&mut edit, vec![], vec![update]), Ok(None), "{shown}");
    }
    // Deleting all at the apex removes what is not SOA or NS.
    run(&mut edit, vec![], vec![rr("@ 300 IN TXT \"apex\"")]).unwrap();
    run(
        &mut edit,
        vec![],
        vec![empty("example.", RecordType::ANY, ANY)],
    )
    .unwrap();
    assert!(edit.rrset(&origin(), RecordType::TXT).is_none());
    assert_eq!(serial(&edit), 12);
    // A second NS may go, then the last one stays.
    run(&mut edit, vec![], vec![rr("@ 3600 IN NS ns2.example.net.")]).unwrap();
    let both = vec![
        delete_rr("@ 0 IN NS ns.example."),
        delete_rr("@ 0 IN NS ns2.example.net."),
    ];
    run(&mut edit, vec![], both).unwrap();
    let ns = edit.rrset(&origin(), RecordType::NS).expect("apex NS");
    assert_eq!(ns.records.len(), 1, "the last apex NS stays");
    // A greater serial replaces the SOA, and is the new serial.
    let soa = rr("@ 3600 IN SOA ns.example. admin.example. 100 1 1 1 1");
    let changeset = run(&mut edit, vec![], vec![soa]).unwrap().expect("new SOA");
    assert_eq!(changeset.to_serial, 100);
    assert_eq!(serial(&edit), 100);
}

/// RFC 2136 3.4.2.2: a CNAME is not added beside other data, nor data
/// beside a CNAME; a new CNAME replaces the old.
#[test]
fn cnames_stand_alone() {
    let mut edit = edit();
    let ignored = vec![
        rr("www 300 IN CNAME elsewhere.example."),
        rr("alias 300 IN A 192.0.2.9"),
        rr("@ 300 IN CNAME elsewhere.example."),
    ];
    for update in ignored {
        let shown = update.to_string();
        assert_eq!(run(&mut edit, vec![], vec![update]), Ok(None), "{shown}");
    }
    run(
        &mut edit,
        vec![],
        vec![rr("alias 300 IN CNAME mail.example.")],
    )
    .unwrap();
    let cname = edit
        .rrset(&name("alias.example."), RecordType::CNAME)
        .unwrap();
    assert_eq!(cname.records.len(), 1);
    assert_eq!(cname.records[0].1.to_string(), "mail.example.");
}

/// RFC 2136 3.4: the message is applied whole or not at all. A
/// prerequisite failing, a record denied, or a change that leaves an
/// in-zone name server without an address leaves the zone as it was.
#[test]
fn all_or_nothing() {
    let mut edit = edit();
    let before = lines(&edit);
    let failing = run(
        &mut edit,
        vec![empty("nothing.example.", RecordType::ANY, DNSClass::ANY)],
        vec![rr("new 300 IN A 192.0.2.9")],
    );
    assert_eq!(rcode(failing), ResponseCode::NXDomain);
    let orphan = run(
        &mut edit,
        vec![],
        vec![
            rr("extra 300 IN A 192.0.2.9"),
            empty("ns.example.", RecordType::A, DNSClass::ANY),
        ],
    );
    let Err(UpdateError::Check(rule)) = orphan else {
        panic!("{orphan:?}");
    };
    assert_eq!(*rule, ProblemKind::NsWithoutAddress(name("ns.example.")));
    let unaddressed = run(&mut edit, vec![], vec![rr("@ 3600 IN NS ns3.example.")]);
    assert_eq!(rcode(unaddressed), ResponseCode::Refused);
    assert_eq!(lines(&edit), before);
    // With its address in the same message, it is fine; so is a name
    // server below a new delegation without glue (only a warning).
    let addressed = vec![
        rr("@ 3600 IN NS ns3.example."),
        rr("ns3 3600 IN A 192.0.2.54"),
    ];
    assert!(run(&mut edit, vec![], addressed).unwrap().is_some());
    let delegation = vec![rr("sub 3600 IN NS ns.sub.example.")];
    assert!(run(&mut edit, vec![], delegation).unwrap().is_some());
    let apex_ns = vec![rr("@ 3600 IN NS ns.sub.example.")];
    assert!(run(&mut edit, vec![], apex_ns).unwrap().is_some());
    // Deleting that delegation would leave ns.sub.example. in the zone,
    // named by the apex NS, without an address: refused.
    let undelegate = vec![empty("sub.example.", RecordType::NS, DNSClass::ANY)];
    assert_eq!(
        rcode(run(&mut edit, vec![], undelegate)),
        ResponseCode::Refused
    );
}

/// RFC 2136 3.4.1.3 and 2.5: out-of-zone records are NOTZONE; a delete
/// with a TTL, RDATA where none belongs, a meta type, a class other than
/// the zone's, ANY or NONE are FORMERR; none of them changes anything.
#[test]
fn hostile_updates_are_refused_whole() {
    let mut edit = edit();
    let before = lines(&edit);
    let mut with_ttl = empty("www.example.", RecordType::A, DNSClass::ANY);
    with_ttl.ttl = 300;
    let mut chaos = rr("www 300 IN A 192.0.2.9");
    chaos.dns_class = DNSClass::CH;
    let mut any_with_data = rr("www 0 IN A 192.0.2.1");
    any_with_data.dns_class = DNSClass::ANY;
    let mut none_with_ttl = delete_rr("www 0 IN A 192.0.2.1");
    none_with_ttl.ttl = 60;
    let cases = [
        (
            rr("www.example.org. 300 IN A 192.0.2.9"),
            ResponseCode::NotZone,
        ),
        (with_ttl, ResponseCode::FormErr),
        (chaos, ResponseCode::FormErr),
        (any_with_data, ResponseCode::FormErr),
        (none_with_ttl, ResponseCode::FormErr),
        (
            empty("www.example.", RecordType::AXFR, DNSClass::ANY),
            ResponseCode::FormErr,
        ),
        (
            empty("www.example.", RecordType::A, DNSClass::IN),
            ResponseCode::FormErr,
        ),
    ];
    for (bad, expected) in cases {
        let shown = format!("{bad:?}");
        // A good record first: the bad one must undo it.
        let updates = vec![rr("good 300 IN A 192.0.2.10"), bad];
        assert_eq!(rcode(run(&mut edit, vec![], updates)), expected, "{shown}");
    }
    assert_eq!(lines(&edit), before);
}

/// RFC 3007 with the zone's rules: a key allowed some names and types is
/// refused anything else, and the whole update with it.
#[test]
fn a_key_changes_only_what_its_rule_grants() {
    let key = dnslab_tsig::Key::from_dig_spec("hmac-sha256:web:c2VjcmV0").unwrap();
    let rules = vec![UpdateRule {
        who: "key:web".parse().unwrap(),
        names: Names::Listed {
            names: vec![name("www.example.")],
            how: NameMatch::At,
        },
        types: vec![RecordType::A],
    }];
    let signed = Client {
        ip: IpAddr::from([192, 0, 2, 1]),
        key: Some(&key),
    };
    let mut edit = edit();
    let allowed = message(vec![], vec![rr("www 300 IN A 192.0.2.7")]);
    assert!(edit.apply(&allowed, signed, &rules).unwrap().is_some());
    for denied in [
        vec![rr("www 300 IN AAAA 2001:db8::1")],
        vec![rr("mail 300 IN A 192.0.2.7")],
        vec![empty("www.example.", RecordType::ANY, DNSClass::ANY)],
        vec![rr("www 300 IN A 192.0.2.8"), rr("web 300 IN A 192.0.2.8")],
    ] {
        let result = edit.apply(&message(vec![], denied), signed, &rules);
        assert!(
            matches!(result, Err(UpdateError::Denied { .. })),
            "{result:?}"
        );
    }
    assert_eq!(serial(&edit), 11);
}

/// The serial moves by one per update and wraps past 2^32 - 1 to 1, not
/// 0 (RFC 1982; BIND skips 0 too).
#[test]
fn the_serial_wraps_past_zero() {
    let mut edit = Edited::from_text(
        "example.",
        "@ 3600 IN SOA ns.example. admin.example. 4294967295 7200 900 1209600 300\n\
         @ 3600 IN NS ns.example.net.",
    );
    let changeset = run(&mut edit, vec![], vec![rr("a 300 IN A 192.0.2.1")])
        .unwrap()
        .expect("a change");
    assert_eq!(
        (changeset.from_serial, changeset.to_serial),
        (4294967295, 1)
    );
}
