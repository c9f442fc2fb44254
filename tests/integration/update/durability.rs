//! What survives: every acknowledged update, through a restart, a
//! SIGKILL in the middle of a burst, and a journal whose tail was torn;
//! the master file written back by `zone-flush`; a file edited by hand
//! while updates are journaled. The `dnslab auth` binary, as a user runs
//! it.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};

use super::{
    add, data, key, nsupdate, owners, serial, update_message, write_keys, write_zone, ZONE,
};
use crate::common::ScratchDir;
use crate::transfer::peers::{free_addr, DnslabChild};

/// `dnslab auth` serving update.test. from `dir`, updates by the ddns key,
/// transfers to 127.0.0.1, its journal in `dir/data`.
fn start(dir: &Path, extra: &[&str]) -> DnslabChild {
    let mut args = vec![
        format!("--zone={}", dir.join("update.test.zone").display()),
        format!("--tsig-key={}", dir.join("keys.conf").display()),
        format!("--data-dir={}", dir.join("data").display()),
        format!("--allow-update=key:{}", super::DDNS),
        "--allow-transfer=127.0.0.1".to_string(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    DnslabChild::start(dir, free_addr(), &args)
}

/// `dnslab ctl zone-flush` for the zone, through the web port `web`.
fn zone_flush(web: SocketAddr) -> std::process::Output {
    ctl(web, &["zone-flush", ZONE])
}

/// `dnslab ctl` with `args`, through the web port `web`.
fn ctl(web: SocketAddr, args: &[&str]) -> std::process::Output {
    crate::common::dnslab()
        .args(["ctl", "--server", &format!("http://{web}")])
        .args(args)
        .output()
        .expect("dnslab ctl")
}

/// The story: a zone is changed by nsupdate (an add, a delete, a change
/// of an RRset), the server stops and starts again: every change is
/// served, at the serial it had, from the journal replayed over the
/// untouched master file. `zone-flush` then writes them into the file,
/// which `named-checkzone`'s rules accept, and the next start needs no
/// replay.
#[test]
fn a_restart_keeps_every_update_and_zone_flush_writes_them_to_the_file() {
    let dir = ScratchDir::new("update-restart");
    write_keys(&dir);
    let file = write_zone(&dir);
    let original = std::fs::read_to_string(&file).expect("zone file");
    let server = start(&dir, &[]);
    let key = dir.join("ddns.key");
    for script in [
        format!("update add kept.{ZONE} 300 A 192.0.2.20"),
        format!("update delete mail.{ZONE} MX"),
        format!("update delete www.{ZONE} A 192.0.2.1\nupdate add www.{ZONE} 300 A 192.0.2.9"),
    ] {
        let Some(ran) = nsupdate(server.addr, &script, Some(&key), false) else {
            return;
        };
        assert!(ran.ok, "{script}: {}", ran.output);
    }
    assert_eq!(serial(server.addr), 4);
    drop(server);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        original,
        "the file is untouched"
    );

    let server = start(&dir, &[]);
    assert_eq!(serial(server.addr), 4);
    assert_eq!(
        data(server.addr, &format!("kept.{ZONE}"), RecordType::A),
        ["192.0.2.20"]
    );
    assert!(data(server.addr, &format!("mail.{ZONE}"), RecordType::MX).is_empty());
    assert_eq!(
        data(server.addr, &format!("www.{ZONE}"), RecordType::A),
        ["192.0.2.2", "192.0.2.9"]
    );
    assert!(
        server.log().contains("journal replayed over the zone"),
        "{}",
        server.log()
    );

    // zone-flush: the file now holds serial 4 and every change.
    let web = free_addr();
    drop(server);
    let server = start(&dir, &[&format!("--web={web}")]);
    let out = zone_flush(web);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(printed.contains("serial 4 written to"), "{printed}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("kept\t300\tIN\tA\t192.0.2.20"), "{text}");
    assert!(!text.contains("MX"), "{text}");
    assert!(text.contains("www\t300\tIN\tA\t192.0.2.9"), "{text}");
    assert!(text.contains("www\t300\tIN\tA\t192.0.2.2"), "{text}");
    assert!(!text.contains("192.0.2.1\n"), "{text}");
    assert!(text.contains(" 4 3600 600 86400 300"), "serial 4: {text}");
    let Some(checkzone) = crate::common::require("named-checkzone", "bind9-utils") else {
        return;
    };
    let checked = std::process::Command::new(checkzone)
        .arg(ZONE)
        .arg(&file)
        .output()
        .expect("run named-checkzone");
    assert!(checked.status.success(), "named-checkzone: {checked:?}");
    drop(server);
    let server = start(&dir, &[]);
    assert_eq!(serial(server.addr), 4);
    assert!(
        !server.log().contains("journal replayed"),
        "{}",
        server.log()
    );
}

/// The story: while updates are journaled but not yet in the file, an
/// operator edits the file (a new serial) and reloads. Taking the file
/// would drop the updates, so the reload is refused, the log says what to
/// do, and the zone keeps serving with its updates. After `zone-flush`
/// and the edit again, the reload takes the file, updates included.
#[test]
fn a_file_edited_while_updates_are_journaled_is_refused_until_flushed() {
    let dir = ScratchDir::new("update-edit");
    write_keys(&dir);
    let file = write_zone(&dir);
    let web = free_addr();
    let server = start(&dir, &[&format!("--web={web}")]);
    let Some(ran) = nsupdate(
        server.addr,
        &format!("update add kept.{ZONE} 300 A 192.0.2.20"),
        Some(&dir.join("ddns.key")),
        false,
    ) else {
        return;
    };
    assert!(ran.ok, "{}", ran.output);
    let edit = |serial: u32| {
        let text = super::zone_text(serial) + "edited IN A 192.0.2.30\n";
        std::fs::write(&file, text).expect("edit the file");
    };
    edit(10);
    server.reload();
    let refused = wait_for(|| server.log().contains("dynamic updates it lacks"));
    assert!(refused, "{}", server.log());
    assert!(server.log().contains("zone-flush"), "{}", server.log());
    assert_eq!(serial(server.addr), 2);
    assert_eq!(
        data(server.addr, &format!("kept.{ZONE}"), RecordType::A),
        ["192.0.2.20"]
    );
    // `dnslab ctl reload` says so too, and exits 1 for a script to see.
    let out = ctl(web, &["reload"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("NOT reloaded"), "{out:?}");
    assert_eq!(out.status.code(), Some(1), "{out:?}");

    std::fs::write(&file, super::zone_text(1)).expect("put the file back");
    let out = zone_flush(web);
    assert!(out.status.success(), "{out:?}");
    let mut text = std::fs::read_to_string(&file).expect("flushed file");
    text = text.replace(" 2 3600 600 86400 300", " 10 3600 600 86400 300");
    text.push_str("edited\t300\tIN\tA\t192.0.2.30\n");
    std::fs::write(&file, text).expect("edit the flushed file");
    server.reload();
    assert!(wait_for(|| serial(server.addr) == 10), "{}", server.log());
    assert_eq!(
        data(server.addr, &format!("kept.{ZONE}"), RecordType::A),
        ["192.0.2.20"]
    );
    assert_eq!(
        data(server.addr, &format!("edited.{ZONE}"), RecordType::A),
        ["192.0.2.30"]
    );
}

/// The story: sixteen clients send signed updates as fast as they are
/// answered, each adding a name of its own, and the server is killed
/// (SIGKILL) in the middle of the burst. After a restart every name
/// whose update was acknowledged (NOERROR) is served, and the journal
/// loaded (a torn last entry, if the kill tore one, dropped with a
/// warning): nothing acknowledged is lost.
#[test]
fn sigkill_during_a_burst_loses_no_acknowledged_update() {
    let dir = ScratchDir::new("update-sigkill");
    write_keys(&dir);
    write_zone(&dir);
    let mut server = start(&dir, &[]);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..16)
        .map(|client| {
            let (acknowledged, stop, addr) = (acknowledged.clone(), stop.clone(), server.addr);
            std::thread::spawn(move || burst(addr, client, &acknowledged, &stop))
        })
        .collect();
    // Kill once a good number are acknowledged, well inside the burst.
    let enough = wait_for(|| acknowledged.lock().unwrap().len() >= 200);
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().expect("client thread");
    }
    assert!(
        enough,
        "only {} acknowledged",
        acknowledged.lock().unwrap().len()
    );
    let acknowledged = acknowledged.lock().unwrap().clone();
    drop(server);

    let server = start(&dir, &[]);
    let served = owners(server.addr);
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|n| !served.contains(*n))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged updates lost: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
    let serial = serial(server.addr);
    assert!(serial > acknowledged.len() as u32, "one serial per update");
    eprintln!(
        "{} updates acknowledged before SIGKILL, {} applied after the restart (serial {serial})",
        acknowledged.len(),
        serial - 1
    );
}

/// One client of the burst: adds `c<client>-<n>.update.test.` for n = 0,
/// 1, ... until told to stop or the server stops answering; each name
/// acknowledged NOERROR goes into `acknowledged`.
fn burst(addr: SocketAddr, client: usize, acknowledged: &Mutex<Vec<String>>, stop: &AtomicBool) {
    let key = key(super::DDNS);
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(1)))
        .expect("timeout");
    let deadline = Instant::now() + Duration::from_secs(20);
    for n in 0.. {
        if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
            return;
        }
        let owner = format!("c{client}-{n}.{ZONE}");
        let record = add(&owner, 300, RData::A(A::new(192, 0, 2, (n % 250) as u8)));
        let message = update_message(ZONE, vec![], vec![record]);
        let mut bytes = message.to_bytes().expect("encode");
        dnslab_tsig::sign_request(&mut bytes, &key, dnslab_tsig::unix_now()).expect("sign");
        if socket.send_to(&bytes, addr).is_err() {
            return;
        }
        let mut buf = vec![0; 4096];
        let Ok((len, _)) = socket.recv_from(&mut buf) else {
            return; // killed: no answer, so not acknowledged
        };
        let Ok(reply) = Message::from_bytes(&buf[..len]) else {
            continue;
        };
        if reply.metadata.id == message.metadata.id
            && reply.metadata.response_code == ResponseCode::NoError
        {
            acknowledged.lock().unwrap().push(owner.to_lowercase());
        }
    }
}

/// The story: the end of the journal is damaged (a crash while its last
/// entry was written, here cut in the middle; or garbage after it). The
/// server starts anyway, says so in its log, and serves every update
/// before the damage.
#[test]
fn a_torn_journal_tail_loads_with_a_warning() {
    let dir = ScratchDir::new("update-torn");
    write_keys(&dir);
    write_zone(&dir);
    let server = start(&dir, &[]);
    for n in 0..3 {
        let Some(ran) = nsupdate(
            server.addr,
            &format!("update add t{n}.{ZONE} 300 A 192.0.2.{n}"),
            Some(&dir.join("ddns.key")),
            false,
        ) else {
            return;
        };
        assert!(ran.ok, "{}", ran.output);
    }
    drop(server);
    let journal = dir.join("data").join("update.test.journal");
    let bytes = std::fs::read(&journal).expect("the zone's journal");
    // The last entry cut short, as a crash mid-write leaves it.
    std::fs::write(&journal, &bytes[..bytes.len() - 7]).expect("tear the journal");
    let server = start(&dir, &[]);
    let log = server.log();
    assert!(
        log.contains("journal tail dropped") && log.contains("WARN"),
        "{log}"
    );
    assert_eq!(serial(server.addr), 3, "the first two updates");
    assert_eq!(
        data(server.addr, &format!("t1.{ZONE}"), RecordType::A),
        ["192.0.2.1"]
    );
    assert!(data(server.addr, &format!("t2.{ZONE}"), RecordType::A).is_empty());
    drop(server);
    // Garbage after the last entry.
    let mut bytes = std::fs::read(&journal).expect("journal");
    bytes.extend_from_slice(b"\x00\x00\x01\x00garbage that is no entry");
    std::fs::write(&journal, bytes).expect("append garbage");
    let server = start(&dir, &[]);
    assert!(
        server.log().contains("journal tail dropped"),
        "{}",
        server.log()
    );
    assert_eq!(serial(server.addr), 3);
}

/// The story: an update would leave the zone breaking a rule of the
/// checks of a load (here an NS naming a server inside the zone that has
/// no address). It is REFUSED, the log names the rule, nothing changes.
#[test]
fn an_update_that_would_break_the_zone_is_refused_and_logged() {
    let dir = ScratchDir::new("update-invalid");
    write_keys(&dir);
    write_zone(&dir);
    let server = start(&dir, &[]);
    let script = format!("update add {ZONE} 300 NS ns2.{ZONE}");
    let Some(ran) = nsupdate(server.addr, &script, Some(&dir.join("ddns.key")), false) else {
        return;
    };
    assert!(!ran.ok && ran.output.contains("REFUSED"), "{}", ran.output);
    let logged = wait_for(|| {
        server.log().contains(&format!(
            "name server ns2.{ZONE} is in the zone but has no A/AAAA record"
        ))
    });
    assert!(logged, "{}", server.log());
    assert_eq!(serial(server.addr), 1);
}

/// Polls `done` every 50 ms for up to 10 s.
fn wait_for(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}
