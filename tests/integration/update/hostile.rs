//! Updates that must change nothing, and the server's behaviour under
//! them: malformed sections, records outside the zone, classes and types
//! where RFC 2136 forbids them, a prerequisite list as long as a message
//! allows, a flood bigger than the zone's queue; and readers, who see
//! each update whole or not at all while updates run.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::{A, TXT};
use hickory_proto::rr::{DNSClass, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};

use super::{
    add, data, empty, key, owners, send, serial, served, update_message, write_keys, ZONE,
};
use crate::common::{name, tcp_recv, tcp_send, udp, udp_raw, Ask, ScratchDir, TIMEOUT};

fn a(owner: &str, last: u8) -> Record {
    add(owner, 300, RData::A(A::new(192, 0, 2, last)))
}

/// The story: a client sends updates broken in every way RFC 2136 names,
/// each signed with a good key and each starting with a good record.
/// Each gets its RCODE (FORMERR, NOTZONE, NOTAUTH, REFUSED) and the zone
/// keeps its serial and data; garbage gets FORMERR or nothing.
#[test]
fn malformed_and_out_of_zone_updates_change_nothing() {
    let dir = ScratchDir::new("update-malformed");
    write_keys(&dir);
    let server = served(&dir);
    let addr = server.addr;
    let key = key(super::DDNS);
    let good = || a(&format!("good.{ZONE}"), 1);
    let mut with_ttl = empty(&format!("www.{ZONE}"), RecordType::A, DNSClass::ANY);
    with_ttl.ttl = 60;
    let mut chaos = a(&format!("x.{ZONE}"), 2);
    chaos.dns_class = DNSClass::CH;
    let mut prerequisite_ttl = a(&format!("www.{ZONE}"), 1);
    prerequisite_ttl.ttl = 60;
    let cases: Vec<(Message, ResponseCode)> = vec![
        (
            update_message(ZONE, vec![], vec![good(), a("www.example.org.", 1)]),
            ResponseCode::NotZone,
        ),
        (
            update_message(
                ZONE,
                vec![empty("www.example.org.", RecordType::A, DNSClass::ANY)],
                vec![good()],
            ),
            ResponseCode::NotZone,
        ),
        (
            update_message(ZONE, vec![], vec![good(), with_ttl]),
            ResponseCode::FormErr,
        ),
        (
            update_message(ZONE, vec![], vec![good(), chaos]),
            ResponseCode::FormErr,
        ),
        (
            update_message(ZONE, vec![prerequisite_ttl], vec![good()]),
            ResponseCode::FormErr,
        ),
        (
            update_message(
                ZONE,
                vec![],
                vec![
                    good(),
                    empty(&format!("www.{ZONE}"), RecordType::AXFR, DNSClass::ANY),
                ],
            ),
            ResponseCode::FormErr,
        ),
        (
            update_message("other.test.", vec![], vec![a("x.other.test.", 1)]),
            ResponseCode::NotAuth,
        ),
        (
            update_message("test.", vec![], vec![a(&format!("x.{ZONE}"), 1)]),
            ResponseCode::NotAuth,
        ),
    ];
    for (message, expected) in cases {
        let got = send(addr, &message, Some(&key));
        assert_eq!(got, Some(expected), "{message:?}");
    }
    // The zone section's own rules (RFC 2136 3.1.1): one zone, type SOA.
    let mut two_zones = update_message(ZONE, vec![], vec![good()]);
    two_zones.add_query(hickory_proto::op::Query::query(name(ZONE), RecordType::SOA));
    let mut zone_type_a = update_message(ZONE, vec![], vec![good()]);
    zone_type_a.queries[0].set_query_type(RecordType::A);
    let mut zone_class_any = update_message(ZONE, vec![], vec![good()]);
    zone_class_any.queries[0].set_query_class(DNSClass::ANY);
    for (message, expected) in [
        (two_zones, ResponseCode::FormErr),
        (zone_type_a, ResponseCode::FormErr),
        (zone_class_any, ResponseCode::NotAuth),
    ] {
        assert_eq!(send(addr, &message, None), Some(expected), "{message:?}");
    }
    // Bytes that do not decode past the header: FORMERR; a message cut
    // inside its update section: FORMERR.
    let mut garbage = update_message(ZONE, vec![], vec![good()])
        .to_bytes()
        .unwrap();
    let cut = garbage.len() - 3;
    garbage.truncate(cut);
    let reply = udp_raw(addr, &garbage, TIMEOUT).expect("a reply");
    let reply = Message::from_bytes(&reply).expect("decodes");
    assert_eq!(reply.metadata.response_code, ResponseCode::FormErr);
    assert_eq!(serial(addr), 1, "nothing changed");
    assert!(data(addr, &format!("good.{ZONE}"), RecordType::A).is_empty());
}

/// The story: a prerequisite list as long as one TCP message allows
/// (about 3,000 "name is in use" entries) is checked in full and quickly:
/// answered NOERROR and applied when every one holds, NXDOMAIN with
/// nothing changed when the last one fails; queries are answered
/// meanwhile.
#[test]
fn a_huge_prerequisite_list_is_checked_in_full() {
    let dir = ScratchDir::new("update-huge");
    write_keys(&dir);
    let server = served(&dir);
    let key = key(super::DDNS);
    let prerequisites = |last: &str| {
        let mut list: Vec<Record> = (0..2000)
            .map(|_| empty(&format!("www.{ZONE}"), RecordType::ANY, DNSClass::ANY))
            .collect();
        list.push(empty(last, RecordType::ANY, DNSClass::ANY));
        list
    };
    for (last, expected, serial_after) in [
        (format!("nothing.{ZONE}"), ResponseCode::NXDomain, 1),
        (format!("mail.{ZONE}"), ResponseCode::NoError, 2),
    ] {
        let message = update_message(
            ZONE,
            prerequisites(&last),
            vec![a(&format!("big.{ZONE}"), 7)],
        );
        let mut bytes = message.to_bytes().expect("encode");
        assert!(bytes.len() > 30_000, "{} octets", bytes.len());
        dnslab_tsig::sign_request(&mut bytes, &key, dnslab_tsig::unix_now()).expect("sign");
        let started = Instant::now();
        let mut stream = std::net::TcpStream::connect(server.addr).expect("connect");
        stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        tcp_send(&mut stream, &bytes);
        let reply = Message::from_bytes(&tcp_recv(&mut stream).expect("reply")).expect("decode");
        assert_eq!(reply.metadata.response_code, expected);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(serial(server.addr), serial_after);
    }
}

/// The story: readers ask for www's A RRset while another client swaps
/// one of its records for another, a thousand times, each swap one
/// update (delete 192.0.2.1, add 192.0.2.3, then back). Every answer is
/// one version or the other, never half a swap; and every query is
/// answered while updates are written.
#[test]
fn readers_see_each_update_whole_or_not_at_all() {
    let dir = ScratchDir::new("update-atomic");
    write_keys(&dir);
    let server = served(&dir);
    let addr = server.addr;
    let done = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (done, seen) = (done.clone(), seen.clone());
            std::thread::spawn(move || {
                let www = format!("www.{ZONE}");
                while !done.load(Ordering::Relaxed) {
                    let set = data(addr, &www, RecordType::A);
                    let whole =
                        set == ["192.0.2.1", "192.0.2.2"] || set == ["192.0.2.2", "192.0.2.3"];
                    assert!(whole, "half an update: {set:?}");
                    seen.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let key = key(super::DDNS);
    let www = format!("www.{ZONE}");
    let delete = |last: u8| {
        let mut record = a(&www, last);
        record.dns_class = DNSClass::NONE;
        record.ttl = 0;
        record
    };
    for n in 0..1000 {
        let (gone, new) = if n % 2 == 0 { (1, 3) } else { (3, 1) };
        let swap = update_message(ZONE, vec![], vec![delete(gone), a(&www, new)]);
        assert_eq!(send(addr, &swap, Some(&key)), Some(ResponseCode::NoError));
    }
    done.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.join().expect("a reader saw half an update");
    }
    assert_eq!(serial(addr), 1001);
    assert!(seen.load(Ordering::Relaxed) > 100, "readers were answered");
}

/// The story: eight clients fire 4,000 updates at once without waiting
/// (each adding a name of its own), more than the zone's queue holds,
/// while a reader asks questions. Every update gets NOERROR (applied) or
/// SERVFAIL (the queue was full: not applied), or no answer when the
/// transport itself sheds load; the zone holds exactly the names
/// acknowledged NOERROR and none refused; the reader is answered
/// throughout.
#[test]
fn a_flood_of_updates_is_bounded_and_queries_are_answered() {
    let dir = ScratchDir::new("update-flood");
    write_keys(&dir);
    let server = served(&dir);
    let addr = server.addr;
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut slowest = Duration::ZERO;
            let mut answered = 0;
            while !done.load(Ordering::Relaxed) {
                let started = Instant::now();
                let reply = udp(addr, &Ask::new(&format!("mail.{ZONE}"), RecordType::MX));
                assert_eq!(reply.answers.len(), 1);
                slowest = slowest.max(started.elapsed());
                answered += 1;
            }
            (answered, slowest)
        })
    };
    let outcomes: Vec<_> = (0..8)
        .map(|client| std::thread::spawn(move || flood(addr, client, 500)))
        .collect();
    let mut acknowledged = Vec::new();
    let mut refused = Vec::new();
    for client in outcomes {
        let (ok, servfail) = client.join().expect("flood client");
        acknowledged.extend(ok);
        refused.extend(servfail);
    }
    done.store(true, Ordering::Relaxed);
    let (answered, slowest) = reader.join().expect("the reader was answered");
    assert!(answered > 10, "{answered} queries answered");
    assert!(
        slowest < Duration::from_secs(1),
        "slowest query {slowest:?}"
    );
    assert!(!acknowledged.is_empty());
    // Each update adds one name: the serial counts the applied ones.
    let applied = serial(addr) - 1;
    assert!(
        applied as usize >= acknowledged.len(),
        "{applied} < {}",
        acknowledged.len()
    );
    // The zone, whole: every acknowledged name, no refused one, and as
    // many flooded names as updates applied (an update whose answer the
    // transport shed may be among them).
    let names = owners(addr);
    for owner in &acknowledged {
        assert!(names.contains(owner), "{owner} was acknowledged");
    }
    for owner in &refused {
        assert!(!names.contains(owner), "{owner} was refused");
    }
    // The flood's names are f<client>-<n>; the zone has no other f name.
    let flooded = names.iter().filter(|owner| owner.starts_with('f')).count();
    assert_eq!(flooded, applied as usize, "one name per applied update");
    eprintln!(
        "flood: {} NOERROR, {} SERVFAIL, {applied} applied; {answered} queries answered, slowest {slowest:?}",
        acknowledged.len(),
        refused.len()
    );
}

/// Sends `count` signed updates as fast as the socket takes them, then
/// reads the answers for up to 10 s: the names acknowledged NOERROR and
/// those answered SERVFAIL.
fn flood(addr: SocketAddr, client: usize, count: usize) -> (Vec<String>, Vec<String>) {
    let key = key(super::DDNS);
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let mut sent = std::collections::HashMap::new();
    for n in 0..count {
        let owner = format!("f{client}-{n}.{ZONE}");
        let txt = RData::TXT(TXT::new(vec![format!("{client} {n}")]));
        let mut message = update_message(ZONE, vec![], vec![add(&owner, 300, txt)]);
        // Distinct IDs across the flood, to match every answer.
        message.metadata.id = (client * count + n) as u16;
        let mut bytes = message.to_bytes().expect("encode");
        dnslab_tsig::sign_request(&mut bytes, &key, dnslab_tsig::unix_now()).expect("sign");
        sent.insert(message.metadata.id, owner.to_lowercase());
        let _ = socket.send_to(&bytes, addr);
    }
    let (mut ok, mut servfail) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(10);
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let mut buf = vec![0; 4096];
    while Instant::now() < deadline && ok.len() + servfail.len() < sent.len() {
        let Ok((len, _)) = socket.recv_from(&mut buf) else {
            break;
        };
        let reply = Message::from_bytes(&buf[..len]).expect("decode");
        let Some(owner) = sent.get(&reply.metadata.id) else {
            continue;
        };
        match reply.metadata.response_code {
            ResponseCode::NoError => ok.push(owner.clone()),
            ResponseCode::ServFail => servfail.push(owner.clone()),
            other => panic!("{owner}: {other:?}"),
        }
    }
    (ok, servfail)
}
