//! dnslab as the primary of NSD, Knot and BIND: the peer copies the
//! shipped example.com and a 100,000-record zone by AXFR with TSIG, then
//! follows a reload by NOTIFY and IXFR.

use std::time::Duration;

use dnslab_authoritative::read_master_file as read_file;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use super::{free_addr, write_key_file, DnslabChild, Kind, Peer, PeerZone, Role, PATIENCE};
use crate::common::{name, repo_path, section, ScratchDir};
use crate::transfer::{tcp_transfer, transfer_request, wait_for_serial, write_big_zone, Transfer};

/// The serial of the shipped example.com.
const SERIAL: u32 = 2026112201;

/// The story: an operator runs dnslab as the primary of the shipped
/// example.com and example.net and of a 100,000-record zone, transfers
/// allowed only with the key `xfr`, and
/// `peer` as its secondary. The peer copies both zones (the big one takes
/// many messages, each signed); what it serves is what the zone files say.
/// An unsigned transfer request to dnslab is REFUSED. Then the operator
/// adds a name, raises the serial and reloads: dnslab sends NOTIFY, the
/// peer asks for the difference (IXFR, dnslab's log says so) and serves
/// the new name within seconds.
fn peer_copies_dnslab_and_follows_by_ixfr(kind: Kind) {
    let dir = ScratchDir::new(&format!("primary-of-{kind:?}"));
    let example = dir.join("example.com.zone");
    std::fs::copy(repo_path("zones/example.com.zone"), &example).expect("copy zone");
    let big = dir.join("big.test.zone");
    write_big_zone(&big, "big.test.", 1, 100_000);
    let key = write_key_file(&dir);
    let (dnslab_addr, peer_addr) = (free_addr(), free_addr());
    let dnslab = DnslabChild::start(
        &dir,
        dnslab_addr,
        &[
            format!("--zone=example.com.={}", example.display()),
            format!(
                "--zone=example.net.={}",
                repo_path("zones/example.net.zone").display()
            ),
            format!("--zone=big.test.={}", big.display()),
            "--allow-transfer=key:xfr".into(),
            format!("--notify=key:xfr@{peer_addr}"),
            format!("--tsig-key={}", key.display()),
            format!("--data-dir={}", dir.join("data").display()),
        ],
    );
    let peer_dir = dir.join("peer");
    std::fs::create_dir_all(&peer_dir).expect("peer dir");
    let zones = [
        PeerZone {
            origin: "example.com.",
            file: None,
            notify: None,
        },
        PeerZone {
            origin: "example.net.",
            file: None,
            notify: None,
        },
        PeerZone {
            origin: "big.test.",
            file: None,
            notify: None,
        },
    ];
    let role = Role::Secondary {
        primary: dnslab_addr,
        signed: true,
    };
    let Some(peer) = Peer::start(kind, &peer_dir, peer_addr, &role, &zones) else {
        return;
    };
    let copied = wait_for_serial(peer.addr, "example.com.", SERIAL, PATIENCE)
        && wait_for_serial(peer.addr, "example.net.", SERIAL, PATIENCE)
        && wait_for_serial(peer.addr, "big.test.", 1, PATIENCE);
    assert!(
        copied,
        "{kind:?} did not copy the zones; its logs:\n{}\ndnslab:\n{}",
        peer.logs(),
        dnslab.log()
    );

    // What the peer serves is the zone file, record for record.
    let file = read_file(&example, Some(&name("example.com."))).expect("zone file");
    let mut expected: Vec<_> = file.records.iter().map(|r| r.record.clone()).collect();
    expected.dedup();
    let copy = tcp_transfer(
        peer.addr,
        &transfer_request("example.com.", RecordType::AXFR, None),
    );
    assert_eq!(
        copy.lines(),
        section(&expected),
        "{kind:?}'s copy of example.com"
    );
    let net = read_file(
        &repo_path("zones/example.net.zone"),
        Some(&name("example.net.")),
    )
    .expect("zone file");
    let mut expected: Vec<_> = net.records.iter().map(|r| r.record.clone()).collect();
    expected.dedup();
    let net_copy = tcp_transfer(
        peer.addr,
        &transfer_request("example.net.", RecordType::AXFR, None),
    );
    assert_eq!(
        net_copy.lines(),
        section(&expected),
        "{kind:?}'s copy of example.net"
    );
    let big_copy = tcp_transfer(
        peer.addr,
        &transfer_request("big.test.", RecordType::AXFR, None),
    );
    assert_eq!(
        big_copy.records.len(),
        100_004,
        "{kind:?}'s copy of big.test"
    );
    assert!(dnslab.log().matches("zone transfer completed").count() >= 2);

    // TSIG required: an unsigned request is refused.
    let unsigned = tcp_transfer(
        dnslab.addr,
        &transfer_request("example.com.", RecordType::AXFR, None),
    );
    assert_eq!(unsigned.rcode(), ResponseCode::Refused);

    // A reload with serial + 1: NOTIFY, then IXFR.
    let text = std::fs::read_to_string(&example).expect("read zone");
    let text = text.replace(&SERIAL.to_string(), &(SERIAL + 1).to_string());
    std::fs::write(&example, format!("{text}added 300 IN A 192.0.2.200\n")).expect("write zone");
    dnslab.reload();
    assert!(
        wait_for_serial(
            peer.addr,
            "example.com.",
            SERIAL + 1,
            Duration::from_secs(20)
        ),
        "{kind:?} did not follow the reload; its logs:\n{}\ndnslab:\n{}",
        peer.logs(),
        dnslab.log()
    );
    let added = crate::common::udp(
        peer.addr,
        &crate::common::Ask::new("added.example.com.", RecordType::A),
    );
    assert_eq!(added.answers.len(), 1, "{kind:?} serves the new name");
    let log = dnslab.log();
    let ixfr = log.lines().any(|line| {
        line.contains("zone transfer completed")
            && line.contains("zone=example.com.")
            && line.contains("kind=\"IXFR\"")
    });
    assert!(
        ixfr,
        "{kind:?} took the change by IXFR; dnslab's log:\n{log}"
    );
    let serials: Vec<u32> = copy
        .records
        .iter()
        .filter_map(Transfer::soa_serial)
        .collect();
    assert_eq!(serials, [SERIAL, SERIAL]);
}

#[test]
fn knot_copies_dnslab_and_follows_by_ixfr() {
    peer_copies_dnslab_and_follows_by_ixfr(Kind::Knot);
}

#[test]
fn nsd_copies_dnslab_and_follows_by_ixfr() {
    peer_copies_dnslab_and_follows_by_ixfr(Kind::Nsd);
}

#[test]
fn bind_copies_dnslab_and_follows_by_ixfr() {
    peer_copies_dnslab_and_follows_by_ixfr(Kind::Bind);
}
