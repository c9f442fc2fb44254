//! dnslab as the secondary of Knot and NSD: the first copy by AXFR, a
//! change by NOTIFY (and IXFR, where the primary offers it), a change
//! found by the refresh timer alone, a restart served from the data
//! directory, and a zone that expires when its primary is gone.

use std::path::Path;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use super::{free_addr, DnslabChild, Kind, Peer, PeerZone, Role, PATIENCE};
use crate::common::{name, section, udp, Ask, ScratchDir};
use crate::transfer::{
    apex_with_timers, served_serial, tcp_transfer, transfer_request, wait_for_rcode,
    wait_for_serial,
};

/// How long a change may take to reach dnslab: NOTIFY, or a 1 s refresh.
const FOLLOW: Duration = Duration::from_secs(15);

fn write_zone(path: &Path, origin: &str, serial: u32, timers: [u32; 3], names: &[&str]) {
    let mut text = apex_with_timers(origin, serial, timers);
    for (i, host) in names.iter().enumerate() {
        text.push_str(&format!("{host} IN A 192.0.2.{}\n", i + 1));
    }
    std::fs::write(path, text).expect("write zone");
}

/// The story: `kind` is the primary of two zones, dnslab their secondary.
/// notified.test has an hour's refresh and `kind` sends NOTIFY for it;
/// polled.test has a 1 s refresh, a 5 s expire and no NOTIFY. dnslab copies
/// both by AXFR and serves what the files say; a change to notified.test
/// reaches it by NOTIFY (by IXFR from Knot; NSD 4.6 answers IXFR with the
/// whole zone), a change to polled.test by its refresh timer. Then `kind`
/// goes away and dnslab restarts: both zones are served at once from the
/// copies in its data directory, until polled.test's EXPIRE passes
/// without an answer and it is SERVFAIL, while notified.test is still
/// served.
fn dnslab_copies_peer(kind: Kind) {
    let dir = ScratchDir::new(&format!("secondary-of-{kind:?}"));
    let notified = dir.join("notified.test.zone");
    let polled = dir.join("polled.test.zone");
    let long = [3600, 600, 86400];
    let short = [1, 1, 5];
    write_zone(&notified, "notified.test.", 1, long, &["www"]);
    write_zone(&polled, "polled.test.", 1, short, &["www"]);
    let (peer_addr, dnslab_addr) = (free_addr(), free_addr());
    let peer_dir = dir.join("peer");
    std::fs::create_dir_all(&peer_dir).expect("peer dir");
    let zones = [
        PeerZone {
            origin: "notified.test.",
            file: Some(&notified),
            notify: Some(dnslab_addr),
        },
        PeerZone {
            origin: "polled.test.",
            file: Some(&polled),
            notify: None,
        },
    ];
    let Some(peer) = Peer::start(kind, &peer_dir, peer_addr, &Role::Primary, &zones) else {
        return;
    };
    let args = [
        format!("--secondary=notified.test.={peer_addr}"),
        format!("--secondary=polled.test.={peer_addr}"),
        "--allow-transfer=127.0.0.1".into(),
        format!("--data-dir={}", dir.join("data").display()),
    ];
    let dnslab = DnslabChild::start(&dir, dnslab_addr, &args);
    let copied = wait_for_serial(dnslab.addr, "notified.test.", 1, PATIENCE)
        && wait_for_serial(dnslab.addr, "polled.test.", 1, PATIENCE);
    assert!(
        copied,
        "dnslab did not copy from {kind:?}; its log:\n{}\n{kind:?}:\n{}",
        dnslab.log(),
        peer.logs()
    );
    let copy = tcp_transfer(
        dnslab.addr,
        &transfer_request("notified.test.", RecordType::AXFR, None),
    );
    let file = dnslab_authoritative::read_master_file(&notified, Some(&name("notified.test.")))
        .expect("file");
    let records: Vec<_> = file.records.iter().map(|r| r.record.clone()).collect();
    assert_eq!(copy.lines(), section(&records), "dnslab's copy is the file");

    write_zone(&notified, "notified.test.", 2, long, &["www", "new"]);
    write_zone(&polled, "polled.test.", 2, short, &["www", "new"]);
    peer.reload();
    let followed = wait_for_serial(dnslab.addr, "notified.test.", 2, FOLLOW)
        && wait_for_serial(dnslab.addr, "polled.test.", 2, FOLLOW);
    assert!(
        followed,
        "dnslab did not follow {kind:?}; its log:\n{}\n{kind:?}:\n{}",
        dnslab.log(),
        peer.logs()
    );
    let new = udp(dnslab.addr, &Ask::new("new.notified.test.", RecordType::A));
    assert_eq!(new.answers.len(), 1);
    // The log line follows the switch to the new version by a moment
    // (the copy is saved in between).
    let logged = |log: &str| log.matches("zone transferred and now served").count() >= 4;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !logged(&dnslab.log()) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = dnslab.log();
    let took = |zone: &str, kind: &str| {
        log.lines().any(|l| {
            l.contains("zone transferred")
                && l.contains(zone)
                && l.contains(&format!("kind=\"{kind}\""))
                && l.contains("serial=2")
        })
    };
    assert!(
        log.contains("NOTIFY received") && log.contains("zone=notified.test."),
        "{log}"
    );
    if kind == Kind::Knot {
        assert!(
            took("zone=notified.test.", "IXFR"),
            "IXFR from Knot; dnslab's log:\n{log}"
        );
    }
    assert!(
        took("zone=polled.test.", "IXFR") || took("zone=polled.test.", "AXFR"),
        "{log}"
    );

    drop(peer);
    drop(dnslab);
    let restarted = DnslabChild::start(&dir, free_addr(), &args);
    assert_eq!(
        served_serial(restarted.addr, "notified.test."),
        Some(2),
        "the saved copy, at once"
    );
    assert_eq!(served_serial(restarted.addr, "polled.test."), Some(2));
    let expired = wait_for_rcode(
        restarted.addr,
        "polled.test.",
        ResponseCode::ServFail,
        FOLLOW,
    );
    assert!(expired, "polled.test. expired; log:\n{}", restarted.log());
    assert_eq!(
        served_serial(restarted.addr, "notified.test."),
        Some(2),
        "notified.test. has not expired"
    );
}

#[test]
fn dnslab_copies_knot_by_axfr_then_ixfr_and_survives_a_restart() {
    dnslab_copies_peer(Kind::Knot);
}

#[test]
fn dnslab_copies_nsd_and_survives_a_restart() {
    dnslab_copies_peer(Kind::Nsd);
}
