//! dnslab as a primary: what a secondary asking for a zone gets.

use std::time::Duration;

use dnslab_authoritative::read_master_file as read_file;
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::RecordType;

use super::{
    config, example_com, primary, tcp_transfer, transfer_request, write_big_zone, Transfer,
};
use crate::common::{name, section, udp_message, ScratchDir, ServedAuth, TIMEOUT};

/// The story: a secondary asks the primary for example.com by AXFR. It
/// must get every record of the zone file, between two copies of the SOA
/// (RFC 5936 2.2), the first message echoing the question, all of it
/// authoritative, so that the copy it serves is the primary's zone.
#[test]
fn axfr_sends_every_record_between_two_soas() {
    let data = ScratchDir::new("axfr-sends-every-record-betw");
    let server = ServedAuth::from_config(config(
        vec![primary(&example_com(), "example.com.", &["127.0.0.0/8"])],
        &data.join("server1"),
    ));
    let request = transfer_request("example.com.", RecordType::AXFR, None);
    let transfer = tcp_transfer(server.addr, &request);
    assert_eq!(transfer.rcode(), ResponseCode::NoError);
    let first = &transfer.messages[0];
    assert!(first.metadata.authoritative, "AA on a transfer");
    assert_eq!(first.queries.len(), 1, "the question echoed first");
    assert_eq!(
        transfer.records.first().map(|r| r.record_type()),
        Some(RecordType::SOA)
    );
    assert_eq!(
        transfer.records.last().map(|r| r.record_type()),
        Some(RecordType::SOA)
    );
    let file = read_file(&example_com(), Some(&name("example.com."))).expect("zone file");
    let mut expected: Vec<_> = file.records.iter().map(|r| r.record.clone()).collect();
    expected.dedup_by(|a, b| a == b);
    assert_eq!(transfer.lines(), section(&expected));
}

/// A 100,000-record zone does not fit one message: it comes in many,
/// each within the 65,535 octets a TCP frame can carry, the SOA first
/// and last, every record exactly once.
#[test]
fn axfr_of_a_big_zone_comes_in_many_messages() {
    let dir = ScratchDir::new("axfr-big");
    let path = dir.join("big.test.zone");
    write_big_zone(&path, "big.test.", 7, 100_000);
    let server = ServedAuth::from_config(config(
        vec![primary(&path, "big.test.", &["127.0.0.1"])],
        &dir.join("server2"),
    ));
    let transfer = tcp_transfer(
        server.addr,
        &transfer_request("big.test.", RecordType::AXFR, None),
    );
    assert_eq!(transfer.rcode(), ResponseCode::NoError);
    assert!(
        transfer.messages.len() > 10,
        "{} messages",
        transfer.messages.len()
    );
    assert!(transfer.sizes.iter().all(|&size| size <= 65_535));
    // SOA, NS, ns A, 100,000 hosts, SOA.
    assert_eq!(transfer.records.len(), 100_004);
    let mut lines = transfer.lines();
    let before = lines.len();
    lines.dedup();
    assert_eq!(lines.len(), before, "no record twice");
    assert!(
        transfer.messages[1..].iter().all(|m| m.queries.is_empty()),
        "the question only in the first message"
    );
}

/// Transfers are for the clients a zone lists, over TCP: a client not in
/// `allow_transfer` is REFUSED, an AXFR over UDP is REFUSED even for an
/// allowed client (RFC 5936 4.2), and a zone the server does not have is
/// NOTAUTH (as from BIND), so that a secondary misconfigured to ask the
/// wrong server learns why.
#[test]
fn transfers_are_refused_where_they_are_not_allowed() {
    let data = ScratchDir::new("transfers-are-refused-where-");
    let server = ServedAuth::from_config(config(
        vec![
            primary(&example_com(), "example.com.", &["192.0.2.0/24"]),
            primary(
                &crate::common::repo_path("zones/example.net.zone"),
                "example.net.",
                &["127.0.0.0/8"],
            ),
        ],
        &data.join("server3"),
    ));
    let refused = tcp_transfer(
        server.addr,
        &transfer_request("example.com.", RecordType::AXFR, None),
    );
    assert_eq!(refused.rcode(), ResponseCode::Refused);
    assert!(refused.records.is_empty());
    let allowed = tcp_transfer(
        server.addr,
        &transfer_request("example.net.", RecordType::AXFR, None),
    );
    assert_eq!(allowed.rcode(), ResponseCode::NoError);
    let over_udp = udp_message(
        server.addr,
        &transfer_request("example.net.", RecordType::AXFR, None),
        TIMEOUT,
    )
    .expect("an answer over UDP");
    assert_eq!(over_udp.metadata.response_code, ResponseCode::Refused);
    let unknown = tcp_transfer(
        server.addr,
        &transfer_request("example.org.", RecordType::AXFR, None),
    );
    assert_eq!(unknown.rcode(), ResponseCode::NotAuth);
}

/// RFC 1995 2 and 4: a client whose serial is the primary's gets the SOA
/// alone, over TCP as over UDP; over UDP a client behind gets the SOA alone
/// too (BIND's answer: "ask again over TCP"); over TCP it gets the zone.
#[test]
fn ixfr_gets_the_soa_alone_when_current_or_over_udp() {
    let data = ScratchDir::new("ixfr-gets-the-soa-alone-when");
    let server = ServedAuth::from_config(config(
        vec![primary(&example_com(), "example.com.", &["127.0.0.1"])],
        &data.join("server4"),
    ));
    let soa = crate::common::udp(
        server.addr,
        &crate::common::Ask::new("example.com.", RecordType::SOA),
    );
    let serial = Transfer::soa_serial(&soa.answers[0]).expect("an SOA");
    for client in [serial, serial.wrapping_add(5)] {
        let request = transfer_request("example.com.", RecordType::IXFR, Some(client));
        let current = tcp_transfer(server.addr, &request);
        assert_eq!(
            current.records.len(),
            1,
            "client at {client}: the SOA alone"
        );
        assert_eq!(Transfer::soa_serial(&current.records[0]), Some(serial));
    }
    let behind = transfer_request(
        "example.com.",
        RecordType::IXFR,
        Some(serial.wrapping_sub(1)),
    );
    let udp = udp_message(server.addr, &behind, TIMEOUT).expect("an answer over UDP");
    assert_eq!(udp.metadata.response_code, ResponseCode::NoError);
    assert_eq!(udp.answers.len(), 1, "the SOA alone over UDP");
    assert!(udp.metadata.authoritative);
    let full = tcp_transfer(server.addr, &behind);
    assert!(full.records.len() > 10, "the zone, AXFR-style, over TCP");
    let missing_soa = tcp_transfer(
        server.addr,
        &transfer_request("example.com.", RecordType::IXFR, None),
    );
    assert_eq!(missing_soa.rcode(), ResponseCode::FormErr);
}

/// A transfer is one version of the zone: a reload that swaps in a new
/// version while the transfer is being read does not mix the two (the
/// stream holds the version it started with).
#[test]
fn a_transfer_is_one_version_while_a_reload_swaps_the_zone() {
    let dir = ScratchDir::new("axfr-reload");
    let path = dir.join("big.test.zone");
    write_big_zone(&path, "big.test.", 1, 60_000);
    let server = ServedAuth::from_config(config(
        vec![primary(&path, "big.test.", &["127.0.0.1"])],
        &dir.join("server5"),
    ));
    let request = transfer_request("big.test.", RecordType::AXFR, None);
    let mut stream = std::net::TcpStream::connect_timeout(&server.addr, TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    crate::common::tcp_send(
        &mut stream,
        &hickory_proto::serialize::binary::BinEncodable::to_bytes(&request).expect("encode"),
    );
    let first = crate::common::tcp_recv(&mut stream).expect("first message");
    let first = <Message as hickory_proto::serialize::binary::BinDecodable>::from_bytes(&first)
        .expect("decode");
    // A new version: serial 2, other addresses.
    write_big_zone(&path, "big.test.", 2, 30_000);
    server.auth.reload().expect("reload");
    let mut records = first.answers.clone();
    while !super::complete(&records) {
        let bytes = crate::common::tcp_recv(&mut stream).expect("a message");
        let msg = <Message as hickory_proto::serialize::binary::BinDecodable>::from_bytes(&bytes)
            .expect("decode");
        records.extend(msg.answers);
    }
    assert_eq!(records.len(), 60_004, "the whole first version");
    assert_eq!(records.last().and_then(Transfer::soa_serial), Some(1));
    let after = tcp_transfer(server.addr, &request);
    assert_eq!(
        after.records.len(),
        30_004,
        "the next transfer has the new version"
    );
    drop(stream);
    std::thread::sleep(Duration::from_millis(10));
}

/// RFC 1996 4.7: a NOTIFY is answered with AA and the question echoed. For
/// a primary zone there is nothing to fetch (NOERROR, as from BIND); for a
/// zone the server does not have, NOTAUTH; a NOTIFY about anything but an
/// SOA is FORMERR.
#[test]
fn notify_is_answered_for_primary_and_unknown_zones() {
    let data = ScratchDir::new("notify-is-answered-for-prima");
    let server = ServedAuth::from_config(config(
        vec![primary(&example_com(), "example.com.", &[])],
        &data.join("server6"),
    ));
    let notify = |zone: &str, qtype: RecordType| {
        let mut msg = Message::new(rand::random(), MessageType::Query, OpCode::Notify);
        msg.metadata.authoritative = true;
        msg.add_query(Query::query(name(zone), qtype));
        udp_message(server.addr, &msg, TIMEOUT).expect("an answer")
    };
    let primary = notify("example.com.", RecordType::SOA);
    assert_eq!(primary.metadata.response_code, ResponseCode::NoError);
    assert!(primary.metadata.authoritative);
    assert_eq!(primary.metadata.op_code, OpCode::Notify);
    assert_eq!(primary.queries.len(), 1);
    let unknown = notify("example.org.", RecordType::SOA);
    assert_eq!(unknown.metadata.response_code, ResponseCode::NotAuth);
    assert!(!unknown.metadata.authoritative);
    let not_soa = notify("example.com.", RecordType::A);
    assert_eq!(not_soa.metadata.response_code, ResponseCode::FormErr);
}

/// RFC 1995: after the operator reloads the zone with a new serial, a
/// secondary at the old serial gets only what changed: the new SOA, then
/// the old SOA and the records removed, the new SOA and the records
/// added, then the new SOA. Two reloads make two differences in a row,
/// and the history survives a restart of the primary (it lives in the
/// data directory); a serial the history does not know gets the zone.
#[test]
fn ixfr_sends_the_differences_kept_from_each_reload() {
    let data = ScratchDir::new("ixfr-differences");
    let path = data.join("diff.test.zone");
    let write = |serial: u32, hosts: &[&str]| {
        let mut text = super::apex("diff.test.", serial);
        for host in hosts {
            text.push_str(&format!("{host} IN A 192.0.2.1\n"));
        }
        std::fs::write(&path, text).expect("write zone");
    };
    write(1, &["a", "b"]);
    let zone = || {
        config(
            vec![primary(&path, "diff.test.", &["127.0.0.1"])],
            &data.join("data"),
        )
    };
    let server = ServedAuth::from_config(zone());
    write(2, &["a", "c"]);
    server.auth.reload().expect("reload to 2");
    let ixfr = |server: &ServedAuth, from| {
        tcp_transfer(
            server.addr,
            &transfer_request("diff.test.", RecordType::IXFR, Some(from)),
        )
    };
    let one = ixfr(&server, 1);
    let lines: Vec<String> = one.records.iter().map(crate::common::rr_line).collect();
    let soa = |serial: u32| {
        format!("diff.test. 300 SOA ns.diff.test. admin.diff.test. {serial} 3600 600 86400 300")
    };
    assert_eq!(
        lines,
        [
            soa(2),
            soa(1),
            "b.diff.test. 300 A 192.0.2.1".into(),
            soa(2),
            "c.diff.test. 300 A 192.0.2.1".into(),
            soa(2)
        ]
    );
    write(3, &["a", "c", "d"]);
    server.auth.reload().expect("reload to 3");
    let two = ixfr(&server, 1);
    let serials: Vec<u32> = two
        .records
        .iter()
        .filter_map(Transfer::soa_serial)
        .collect();
    assert_eq!(serials, [3, 1, 2, 2, 3, 3], "two differences in a row");
    drop(server);

    let restarted = ServedAuth::from_config(zone());
    let after = ixfr(&restarted, 2);
    let serials: Vec<u32> = after
        .records
        .iter()
        .filter_map(Transfer::soa_serial)
        .collect();
    assert_eq!(serials, [3, 2, 3, 3], "the history survived the restart");
    let unknown = ixfr(&restarted, 0);
    assert_eq!(
        unknown.records.len(),
        7,
        "a serial outside the history: the zone, AXFR-style"
    );
}
