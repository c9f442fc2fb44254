//! Knot (knotd 3.2) as the other end: the crate's client side asks a
//! Knot primary, and a Knot secondary transfers a zone from the crate's
//! server. Knot verifies every message of a transfer it receives, so the
//! second test is the strictest check of multi-message signing.

use std::fs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dnslab_tsig::{
    sign_request, unix_now, Checked, Key, ResponseError, ResponseVerifier, TsigRcode,
};

use super::client::{
    query, rcode_and_answers, tcp_exchange, tcp_exchange_until, udp_exchange, udp_try,
};
use super::server::{axfr_records, bind_pair, Behaviour, TestServer};
use super::tools::require;
use crate::{key, ring, KEY_NAME, OTHER_SECRET, SECRET};

/// TXT records in the zone Knot serves: enough for a transfer of several
/// 64 KB messages.
const TXT_RECORDS: usize = 3000;

/// A knotd process and its scratch directory, both gone when dropped.
struct Knot {
    addr: SocketAddr,
    child: Child,
    dir: PathBuf,
}

impl Drop for Knot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl Knot {
    /// Starts knotd with the test key and `zone_clauses` (the `zone:`
    /// section), and waits until it answers on UDP. `None` when knotd is
    /// not installed (outside CI).
    fn start(name: &str, zone_clauses: &str, files: &[(&str, String)]) -> Option<Knot> {
        let knotd = require("knotd", "knot")?;
        // Free for both UDP and TCP right now; knotd binds it a moment later.
        let addr = bind_pair().0.local_addr().expect("address");
        // Tests run as threads of one process: the port tells them apart.
        let dir = std::env::temp_dir().join(format!(
            "dnslab-tsig-{name}-{}-{}",
            std::process::id(),
            addr.port()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("scratch dir");
        for (file, text) in files {
            fs::write(dir.join(file), text).expect("write zone file");
        }
        let d = dir.display();
        let conf = format!(
            "server:\n    rundir: \"{d}\"\n    listen: {addr_knot}\n    udp-workers: 1\n    tcp-workers: 1\n    background-workers: 1\n\
             database:\n    storage: \"{d}\"\n\
             log:\n  - target: \"{d}/knot.log\"\n    any: info\n\
             key:\n  - id: {KEY_NAME}\n    algorithm: hmac-sha256\n    secret: {SECRET}\n\
             template:\n  - id: default\n    storage: \"{d}\"\n    zonefile-sync: -1\n    journal-content: none\n\
             {zone_clauses}",
            addr_knot = format_args!("{}@{}", addr.ip(), addr.port()),
        );
        fs::write(dir.join("knot.conf"), conf).expect("write knot.conf");
        let child = Command::new(knotd)
            .arg("-c")
            .arg(dir.join("knot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start knotd");
        let knot = Knot { addr, child, dir };
        let answers = wait_for(Duration::from_secs(10), || {
            udp_try(knot.addr, &query(6), Duration::from_millis(200))
        });
        assert!(answers.is_some(), "knotd never answered:\n{}", knot.log());
        Some(knot)
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("knot.log")).unwrap_or_default()
    }
}

/// Polls `probe` every 50 ms until it returns `Some` or `limit` passes.
fn wait_for<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(found) = probe() {
            return Some(found);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// example.com with SOA, NS, glue and `TXT_RECORDS` TXT records.
fn big_zone() -> String {
    let mut zone = String::from(
        "$ORIGIN example.com.\n$TTL 3600\n@ SOA ns1 hostmaster 2024010101 7200 3600 1209600 300\n\
         @ NS ns1\nns1 A 192.0.2.1\n",
    );
    for n in 0..TXT_RECORDS {
        zone.push_str(&format!("t{n} TXT \"{:060}\"\n", n));
    }
    zone
}

/// Knot as a primary of [`big_zone`], transfers allowed with the key.
fn knot_primary() -> Option<Knot> {
    Knot::start(
        "primary",
        &format!(
            "acl:\n  - id: keyed\n    key: {KEY_NAME}\n    action: transfer\n\
             zone:\n  - domain: example.com.\n    file: \"example.com.zone\"\n    acl: keyed\n"
        ),
        &[("example.com.zone", big_zone())],
    )
}

/// Our signed SOA query, Knot's signed answer, verified.
#[test]
fn knot_answers_our_signed_query_and_we_verify_its_answer() {
    let Some(knot) = knot_primary() else {
        return;
    };
    let mut request = query(6);
    let mac = sign_request(&mut request, &key("hmac-sha256"), unix_now()).expect("sign");
    let reply = udp_exchange(knot.addr, &request);
    assert_eq!(rcode_and_answers(&reply), (0, 1), "{}", knot.log());
    let mut verifier = ResponseVerifier::new(&mac);
    assert_eq!(verifier.verify(&reply, unix_now()), Ok(Checked::Signed));
    assert_eq!(verifier.finish(), Ok(()));
}

/// A transfer of several messages from Knot, each verified in turn over
/// the prior MAC (RFC 8945 5.3.1).
#[test]
fn we_verify_every_message_of_a_transfer_from_knot() {
    let Some(knot) = knot_primary() else {
        return;
    };
    let mut request = query(252);
    let mac = sign_request(&mut request, &key("hmac-sha256"), unix_now()).expect("sign");
    // SOA at both ends: one record more than the zone has.
    let total = TXT_RECORDS + 4;
    let mut received = 0;
    let messages = tcp_exchange_until(knot.addr, &request, |msg| {
        received += usize::from(rcode_and_answers(msg).1);
        received >= total
    });
    assert_eq!(received, total);
    assert!(messages.len() >= 3, "{} messages", messages.len());
    let mut verifier = ResponseVerifier::new(&mac);
    for (n, msg) in messages.iter().enumerate() {
        assert_eq!(
            verifier.verify(msg, unix_now()),
            Ok(Checked::Signed),
            "message {n}"
        );
    }
    assert_eq!(verifier.finish(), Ok(()));
}

/// Knot's refusals, read by our client: BADSIG and BADKEY unsigned, and
/// BADTIME signed with Knot's clock, whose MAC we verify.
#[test]
fn we_read_knots_badsig_badkey_and_badtime() {
    let Some(knot) = knot_primary() else {
        return;
    };
    let now = unix_now();
    let wrong_secret = Key::from_text(KEY_NAME, "hmac-sha256", OTHER_SECRET).expect("key");
    let unknown = Key::from_text("unknown.example", "hmac-sha256", SECRET).expect("key");
    for (key, time, error) in [
        (wrong_secret, now, TsigRcode::BADSIG),
        (unknown, now, TsigRcode::BADKEY),
        (key("hmac-sha256"), now - 3600, TsigRcode::BADTIME),
    ] {
        let mut request = query(6);
        let mac = sign_request(&mut request, &key, time).expect("sign");
        let reply = udp_exchange(knot.addr, &request);
        assert_eq!(rcode_and_answers(&reply), (9, 0), "NOTAUTH for {error}");
        match ResponseVerifier::new(&mac).verify(&reply, time) {
            Err(ResponseError::Refused {
                error: got,
                server_time,
            }) if got == error => {
                if error == TsigRcode::BADTIME {
                    let server_time = server_time.expect("Knot's clock");
                    assert!(server_time.abs_diff(now) < 5, "{server_time}");
                }
            }
            other => panic!("expected {error}, got {other:?}"),
        }
    }
}

/// A Knot secondary of `behaviour`'s server with the test key; `None`
/// when knotd is missing outside CI.
fn knot_secondary(primary: &TestServer) -> Option<Knot> {
    Knot::start(
        "secondary",
        &format!(
            "remote:\n  - id: primary\n    address: {}@{}\n    key: {KEY_NAME}\n\
             zone:\n  - domain: example.com.\n    master: primary\n",
            primary.addr.ip(),
            primary.addr.port()
        ),
        &[],
    )
}

/// Whether Knot serves example.com: an authoritative SOA answer.
fn serves_zone(knot: &Knot) -> bool {
    udp_try(knot.addr, &query(6), Duration::from_millis(200))
        .is_some_and(|reply| reply[2] & 0x04 != 0 && rcode_and_answers(&reply) == (0, 1))
}

/// Knot transfers from our server, its SOA query and AXFR signed with the
/// key; five messages, of which the second and fourth go unsigned.
#[test]
fn knot_accepts_a_transfer_signed_by_our_server() {
    let mut behaviour = Behaviour::new(ring([key("hmac-sha256")]));
    behaviour.axfr_messages = 5;
    behaviour.sign_every = 2;
    let primary = TestServer::start(behaviour);
    let Some(knot) = knot_secondary(&primary) else {
        return;
    };
    let loaded = wait_for(Duration::from_secs(15), || serves_zone(&knot).then_some(()));
    assert!(
        loaded.is_some(),
        "Knot never served the zone:\n{}",
        knot.log()
    );
    // Every A record arrived: ask Knot over TCP.
    let reply = tcp_exchange(knot.addr, &query(1), 1);
    assert_eq!(
        usize::from(rcode_and_answers(&reply[0]).1),
        axfr_records(5) - 3,
        "{}",
        knot.log()
    );
    let log = knot.log();
    assert!(
        log.lines().any(|l| l.contains("AXFR, incoming")
            && l.contains("finished")
            && l.contains("5 messages")),
        "{log}"
    );
}

/// The negative control: Knot refuses a transfer with a forged message.
#[test]
fn knot_refuses_a_transfer_with_a_forged_message() {
    let mut behaviour = Behaviour::new(ring([key("hmac-sha256")]));
    behaviour.axfr_messages = 3;
    behaviour.tamper = Some(1);
    let primary = TestServer::start(behaviour);
    let Some(knot) = knot_secondary(&primary) else {
        return;
    };
    let refused = wait_for(Duration::from_secs(15), || {
        let log = knot.log();
        log.lines()
            .find(|line| line.contains("failed (failed to verify TSIG)"))
            .map(str::to_string)
    });
    assert!(
        refused.is_some(),
        "no TSIG failure in Knot's log:\n{}",
        knot.log()
    );
    assert!(!serves_zone(&knot));
}
