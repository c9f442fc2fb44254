//! NSD and Knot as secondaries of a zone changed by updates: every
//! accepted update is a new version, announced by NOTIFY and sent as an
//! IXFR difference (RFC 1995) from the journal.

use hickory_proto::rr::RecordType;

use super::{data, nsupdate, write_keys, write_zone, ZONE};
use crate::common::{section, ScratchDir};
use crate::transfer::peers::{free_addr, DnslabChild, Kind, Peer, PeerZone, Role, PATIENCE};
use crate::transfer::{tcp_transfer, transfer_request, wait_for_serial};

/// The story: dnslab is the primary of update.test. and `kind` its
/// secondary. The secondary copies the zone (AXFR); then three updates
/// (an add, a delete, a change of an RRset, one of them by TCP) each make
/// a new serial: dnslab NOTIFYs, the secondary asks for the differences
/// (dnslab's log says IXFR) and serves, record for record, what dnslab
/// serves.
fn secondary_follows_updates_by_ixfr(kind: Kind) {
    let dir = ScratchDir::new(&format!("update-secondary-{kind:?}"));
    write_keys(&dir);
    let file = write_zone(&dir);
    let (dnslab_addr, peer_addr) = (free_addr(), free_addr());
    let dnslab = DnslabChild::start(
        &dir,
        dnslab_addr,
        &[
            format!("--zone={}", file.display()),
            format!("--tsig-key={}", dir.join("keys.conf").display()),
            format!("--data-dir={}", dir.join("data").display()),
            format!("--allow-update=key:{}", super::DDNS),
            "--allow-transfer=127.0.0.1".into(),
            format!("--notify={peer_addr}"),
        ],
    );
    let peer_dir = dir.join("peer");
    std::fs::create_dir_all(&peer_dir).expect("peer dir");
    let zones = [PeerZone {
        origin: ZONE,
        file: None,
        notify: None,
    }];
    let role = Role::Secondary {
        primary: dnslab_addr,
        signed: false,
    };
    let Some(peer) = Peer::start(kind, &peer_dir, peer_addr, &role, &zones) else {
        return;
    };
    assert!(
        wait_for_serial(peer.addr, ZONE, 1, PATIENCE),
        "{kind:?} did not copy the zone:\n{}\ndnslab:\n{}",
        peer.logs(),
        dnslab.log()
    );
    let key = dir.join("ddns.key");
    let updates = [
        (format!("update add new.{ZONE} 300 A 192.0.2.10"), false),
        (format!("update delete mail.{ZONE} MX"), true),
        (
            format!("update delete www.{ZONE} A 192.0.2.1\nupdate add www.{ZONE} 300 A 192.0.2.9"),
            false,
        ),
    ];
    for (n, (script, tcp)) in updates.iter().enumerate() {
        let Some(ran) = nsupdate(dnslab.addr, script, Some(&key), *tcp) else {
            return;
        };
        assert!(ran.ok, "{script}: {}", ran.output);
        let serial = 2 + n as u32;
        assert!(
            wait_for_serial(peer.addr, ZONE, serial, PATIENCE),
            "{kind:?} did not follow to serial {serial}:\n{}\ndnslab:\n{}",
            peer.logs(),
            dnslab.log()
        );
    }
    assert_eq!(
        data(peer.addr, &format!("new.{ZONE}"), RecordType::A),
        ["192.0.2.10"]
    );
    assert!(data(peer.addr, &format!("mail.{ZONE}"), RecordType::MX).is_empty());
    assert_eq!(
        data(peer.addr, &format!("www.{ZONE}"), RecordType::A),
        ["192.0.2.2", "192.0.2.9"]
    );
    let axfr = || transfer_request(ZONE, RecordType::AXFR, None);
    let primary = tcp_transfer(dnslab.addr, &axfr());
    let secondary = tcp_transfer(peer.addr, &axfr());
    assert_eq!(
        secondary.lines(),
        primary.lines(),
        "{kind:?} serves what dnslab serves"
    );
    let log = dnslab.log();
    let ixfr = log
        .lines()
        .filter(|line| line.contains("zone transfer completed") && line.contains("kind=\"IXFR\""))
        .count();
    assert!(
        ixfr >= 1,
        "{kind:?} took the updates by IXFR; dnslab's log:\n{log}"
    );
    assert_eq!(
        section(&primary.records).len(),
        section(&secondary.records).len()
    );
}

#[test]
fn knot_follows_updates_by_ixfr() {
    secondary_follows_updates_by_ixfr(Kind::Knot);
}

#[test]
fn nsd_follows_updates_by_ixfr() {
    secondary_follows_updates_by_ixfr(Kind::Nsd);
}
