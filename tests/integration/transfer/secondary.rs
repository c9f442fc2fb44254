//! dnslab as a secondary of another dnslab: the copy follows the primary
//! by NOTIFY and by its timers, and stops being served when it expires.

use std::path::Path;
use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

use super::{
    apex, apex_with_timers, bound, config, primary, secondary, served_serial, wait_for_serial,
};
use crate::common::{udp, Ask, ScratchDir, ServedAuth};

/// How long a change may take to reach a secondary that was told by
/// NOTIFY, on a loaded two-core machine.
const FOLLOW: Duration = Duration::from_secs(10);

/// A primary serving the file `path` as `origin` (transfers allowed to
/// 127.0.0.1) that NOTIFYs its secondary, and that secondary, both
/// running their tasks, each with a data directory under `data`; with
/// `serve_on`, the secondary lets 127.0.0.1 transfer its copy too.
struct Pair {
    primary: ServedAuth,
    copy: ServedAuth,
    /// The secondary's configuration, to start it again.
    copy_config: dnslab_authoritative::AuthConfig,
}

fn pair(data: &Path, path: &Path, origin: &str, serve_on: bool) -> Pair {
    let (primary_server, primary_addr) = bound();
    let (secondary_server, secondary_addr) = bound();
    let mut primary_zone = primary(path, origin, &["127.0.0.1"]);
    primary_zone.notify = vec![dnslab_authoritative::Remote {
        addr: secondary_addr,
        key: None,
    }];
    let primary = ServedAuth::with_tasks(
        config(vec![primary_zone], &data.join("primary")),
        primary_server,
    );
    let mut copy_zone = secondary(origin, &[primary_addr]);
    if serve_on {
        copy_zone.allow_transfer = vec!["127.0.0.1".parse().expect("rule")];
    }
    let copy_config = config(vec![copy_zone], &data.join("secondary"));
    let copy = ServedAuth::with_tasks(copy_config.clone(), secondary_server);
    Pair {
        primary,
        copy,
        copy_config,
    }
}

/// A zone file for `origin` at `serial` with an A record for each of `hosts`.
fn zone_text(origin: &str, serial: u32, hosts: &[&str]) -> String {
    let mut text = apex(origin, serial);
    for host in hosts {
        text.push_str(&format!("{host} IN A 192.0.2.1\n"));
    }
    text
}

/// The story of RFC 1996: a secondary copies example.test from its
/// primary at start; the operator edits the primary's file (serial 2, a
/// new name) and reloads; the primary sends NOTIFY, and the secondary,
/// whose refresh timer is an hour away, serves the new name within
/// seconds. Names the primary serves, the secondary serves the same.
#[test]
fn a_secondary_copies_its_primary_and_follows_its_notify() {
    let data = ScratchDir::new("secondary-notify");
    let path = data.join("example.test.zone");
    std::fs::write(&path, zone_text("example.test.", 1, &["www"])).unwrap();
    let Pair { primary, copy, .. } = pair(&data, &path, "example.test.", false);
    assert!(
        wait_for_serial(copy.addr, "example.test.", 1, FOLLOW),
        "the first copy"
    );
    let www = udp(copy.addr, &Ask::new("www.example.test.", RecordType::A));
    assert!(www.metadata.authoritative);
    assert_eq!(www.answers.len(), 1);

    std::fs::write(&path, zone_text("example.test.", 2, &["www", "new"])).unwrap();
    primary.auth.reload().expect("reload");
    assert!(
        wait_for_serial(copy.addr, "example.test.", 2, FOLLOW),
        "followed the NOTIFY"
    );
    let new = udp(copy.addr, &Ask::new("new.example.test.", RecordType::A));
    assert_eq!(new.metadata.response_code, ResponseCode::NoError);
    assert_eq!(new.answers.len(), 1);
}

/// Without NOTIFY a secondary still follows, at its REFRESH timer (here
/// 1 s); when the primary goes away, the copy is served until EXPIRE
/// (here 3 s) has passed without an answer, then SERVFAIL, as BIND does:
/// stale data is worse than none.
#[test]
fn a_secondary_refreshes_on_its_timer_and_expires_without_its_primary() {
    let dir = ScratchDir::new("secondary-timers");
    let path = dir.join("timers.test.zone");
    let zone = |serial| apex_with_timers("timers.test.", serial, [1, 1, 3]);
    std::fs::write(&path, zone(1)).unwrap();
    let (primary_server, primary_addr) = bound();
    let (secondary_server, _) = bound();
    let primary = ServedAuth::with_tasks(
        config(
            vec![primary(&path, "timers.test.", &["127.0.0.1"])],
            &dir.join("server3"),
        ),
        primary_server,
    );
    let copy = ServedAuth::with_tasks(
        config(
            vec![secondary("timers.test.", &[primary_addr])],
            &dir.join("server4"),
        ),
        secondary_server,
    );
    assert!(wait_for_serial(copy.addr, "timers.test.", 1, FOLLOW));
    std::fs::write(&path, zone(2)).unwrap();
    primary.auth.reload().expect("reload");
    assert!(
        wait_for_serial(copy.addr, "timers.test.", 2, FOLLOW),
        "refreshed without NOTIFY"
    );

    drop(primary);
    // Still served right after the primary went away...
    assert_eq!(served_serial(copy.addr, "timers.test."), Some(2));
    // ...then expired.
    let expired = super::wait_for_rcode(copy.addr, "timers.test.", ResponseCode::ServFail, FOLLOW);
    assert!(expired, "the expired zone answers SERVFAIL");
}

/// A secondary that has never reached its primary has nothing to serve:
/// SERVFAIL (not REFUSED, which would say the zone is not its own).
#[test]
fn a_secondary_without_a_copy_answers_servfail() {
    let data = ScratchDir::new("a-secondary-without-a-copy-a");
    let (secondary_server, _) = bound();
    // Nothing listens on port 9 of 127.0.0.1.
    let nowhere = "127.0.0.1:9".parse().unwrap();
    let copy = ServedAuth::with_tasks(
        config(
            vec![secondary("never.test.", &[nowhere])],
            &data.join("server5"),
        ),
        secondary_server,
    );
    let reply = udp(copy.addr, &Ask::new("www.never.test.", RecordType::A));
    assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
}

/// The copy a secondary keeps in its data directory: after the primary
/// has gone and the secondary restarts, the secondary serves the copy (its
/// newest version, taken by IXFR) at once, until EXPIRE; and what it
/// received is history it can serve by IXFR to secondaries of its own.
#[test]
fn a_secondary_serves_its_saved_copy_after_a_restart() {
    let data = ScratchDir::new("secondary-copy");
    let path = data.join("copy.test.zone");
    std::fs::write(&path, zone_text("copy.test.", 1, &["www"])).unwrap();
    let Pair {
        primary,
        copy,
        copy_config,
    } = pair(&data, &path, "copy.test.", true);
    assert!(wait_for_serial(copy.addr, "copy.test.", 1, FOLLOW));
    std::fs::write(&path, zone_text("copy.test.", 2, &["www", "new"])).unwrap();
    primary.auth.reload().expect("reload");
    assert!(wait_for_serial(copy.addr, "copy.test.", 2, FOLLOW));
    let request = super::transfer_request("copy.test.", RecordType::IXFR, Some(1));
    let ixfr = super::tcp_transfer(copy.addr, &request);
    let serials: Vec<u32> = ixfr
        .records
        .iter()
        .filter_map(super::Transfer::soa_serial)
        .collect();
    assert_eq!(
        serials,
        [2, 1, 2, 2],
        "the secondary serves what it received as a difference"
    );
    drop(copy);
    drop(primary);

    let (restarted_server, _) = bound();
    let restarted = ServedAuth::with_tasks(copy_config, restarted_server);
    assert_eq!(
        served_serial(restarted.addr, "copy.test."),
        Some(2),
        "the saved copy, at once"
    );
    let new = udp(restarted.addr, &Ask::new("new.copy.test.", RecordType::A));
    assert_eq!(new.answers.len(), 1);
}

/// RFC 1982: serials live on a circle. A primary at 4294967295 that moves
/// to 1 has moved forward (1 is 2 ahead), and its secondary follows, by
/// IXFR since the difference was kept; a primary that moves back (from 1
/// to 0x8000_0002, more than half way round: behind) is not followed.
#[test]
fn a_secondary_follows_a_serial_that_wraps_around() {
    let data = ScratchDir::new("secondary-wrap");
    let path = data.join("wrap.test.zone");
    std::fs::write(&path, zone_text("wrap.test.", u32::MAX, &["before"])).unwrap();
    let Pair { primary, copy, .. } = pair(&data, &path, "wrap.test.", false);
    assert!(wait_for_serial(copy.addr, "wrap.test.", u32::MAX, FOLLOW));
    std::fs::write(&path, zone_text("wrap.test.", 1, &["after"])).unwrap();
    primary.auth.reload().expect("reload");
    assert!(
        wait_for_serial(copy.addr, "wrap.test.", 1, FOLLOW),
        "4294967295 -> 1 is forward"
    );
    let after = udp(copy.addr, &Ask::new("after.wrap.test.", RecordType::A));
    assert_eq!(after.answers.len(), 1);

    std::fs::write(&path, zone_text("wrap.test.", 0x8000_0002, &["behind"])).unwrap();
    primary.auth.reload().expect("reload");
    assert_eq!(served_serial(primary.addr, "wrap.test."), Some(0x8000_0002));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        served_serial(copy.addr, "wrap.test."),
        Some(1),
        "a serial behind is not followed"
    );
}

/// RFC 1996 3.10: a NOTIFY is a hint that costs the secondary an SOA
/// query, so only the zone's primaries may send one (by address), or a
/// server holding one of its keys. Anyone else is REFUSED, and nothing is
/// asked of the primary.
#[test]
fn notify_to_a_secondary_is_accepted_from_its_primaries_or_signed() {
    use dnslab_tsig::{sign_request, unix_now, Key};
    use hickory_proto::op::{Message, MessageType, OpCode, Query};
    use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};

    let data = ScratchDir::new("secondary-notify-acl");
    let (server, _) = bound();
    // The primary is on 127.0.0.2 (nothing listens there): a NOTIFY from
    // 127.0.0.1 is not from it.
    let far = "127.0.0.2:9".parse().unwrap();
    let key = Key::from_text("xfr", "hmac-sha256", super::peers::KEY_SECRET).expect("key");
    let config = dnslab_authoritative::AuthConfig {
        keys: [key.clone()].into_iter().collect(),
        ..config(
            vec![secondary("acl.test.", &[far])],
            &data.join("secondary"),
        )
    };
    let copy = ServedAuth::with_tasks(config, server);
    let notify = || {
        let mut msg = Message::new(rand::random(), MessageType::Query, OpCode::Notify);
        msg.metadata.authoritative = true;
        msg.add_query(Query::query(
            crate::common::name("acl.test."),
            RecordType::SOA,
        ));
        msg.to_bytes().expect("encode")
    };
    let rcode = |bytes: &[u8]| {
        let reply =
            crate::common::udp_raw(copy.addr, bytes, crate::common::TIMEOUT).expect("an answer");
        Message::from_bytes(&reply)
            .expect("decode")
            .metadata
            .response_code
    };
    assert_eq!(
        rcode(&notify()),
        ResponseCode::Refused,
        "unsigned, not from the primary"
    );
    let mut signed = notify();
    sign_request(&mut signed, &key, unix_now()).expect("sign");
    assert_eq!(
        rcode(&signed),
        ResponseCode::NoError,
        "signed with a key of ours"
    );
}
