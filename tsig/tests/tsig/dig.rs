//! dig (BIND 9.18) against the crate's server. dig verifies every TSIG it
//! receives; what it prints is what an operator sees, so the tests check
//! those lines and the TSIG record's fields. A forged reply shows what
//! dig prints when verification fails, so that the absence of those lines
//! means something.

use std::process::Command;

use data_encoding::BASE64;
use dnslab_tsig::{unix_now, Algorithm, KeyRing};

use super::output::{single_tsig, status, tsig_lines};
use super::server::{axfr_records, Behaviour, TestServer};
use super::tools::{dig, require};
use crate::{dig_key, key, ring, KEY_NAME, OTHER_SECRET, SECRET};

/// What dig prints when a TSIG does not verify or carries an error.
const DIG_FAILURES: [&str; 3] = [
    "Couldn't verify signature",
    "tsig verify failure",
    "Some TSIG could not be validated",
];

fn assert_verified(output: &str) {
    for failure in DIG_FAILURES {
        assert!(
            !output.contains(failure),
            "dig printed {failure:?}:\n{output}"
        );
    }
}

fn server(keys: KeyRing) -> TestServer {
    TestServer::start(Behaviour::new(keys))
}

/// For each algorithm, over UDP and TCP: dig's signed SOA query is
/// answered, the answer signed with the same key, and dig accepts it.
#[test]
fn dig_accepts_responses_signed_with_its_key() {
    for alg in Algorithm::ALL {
        let server = server(ring([key(alg.name())]));
        for transport in ["+notcp", "+tcp"] {
            let y = dig_key(alg.name(), SECRET);
            let Some(out) = dig(server.addr, &[transport, "-y", &y, "example.com", "SOA"]) else {
                return;
            };
            assert_verified(&out);
            assert_eq!(status(&out).as_deref(), Some("NOERROR"), "{out}");
            assert!(out.contains("ANSWER: 1,"), "{out}");
            let tsig = single_tsig(&out);
            assert_eq!(tsig.key, KEY_NAME);
            assert_eq!(tsig.algorithm, format!("{}.", alg.name()));
            assert_eq!((tsig.error.as_str(), tsig.fudge), ("NOERROR", 300));
            assert_eq!(tsig.mac_size, alg.output_len(), "{alg} {transport}");
            assert!(tsig.time_signed.abs_diff(unix_now()) < 5);
        }
    }
}

/// The negative control: a reply whose MAC was altered after signing.
#[test]
fn dig_notices_a_forged_response() {
    let mut behaviour = Behaviour::new(ring([key("hmac-sha256")]));
    behaviour.tamper = Some(0);
    let server = TestServer::start(behaviour);
    let y = dig_key("hmac-sha256", SECRET);
    let Some(out) = dig(server.addr, &["-y", &y, "example.com", "SOA"]) else {
        return;
    };
    assert!(
        out.contains(";; Couldn't verify signature: tsig verify failure"),
        "{out}"
    );
}

/// A request without TSIG gets an answer without TSIG.
#[test]
fn an_unsigned_query_gets_an_unsigned_answer() {
    let server = server(ring([key("hmac-sha256")]));
    let Some(out) = dig(server.addr, &["example.com", "SOA"]) else {
        return;
    };
    assert_eq!(status(&out).as_deref(), Some("NOERROR"), "{out}");
    assert!(!out.contains("TSIG"), "{out}");
    assert!(out.contains("ADDITIONAL: 0"), "{out}");
}

/// RFC 8945 5.2.2: the right key name with the wrong secret. NOTAUTH, and
/// a TSIG with BADSIG and no MAC (5.3.2), which dig reports as an error
/// in the TSIG rather than as a verification failure.
#[test]
fn a_wrong_secret_gets_notauth_badsig_unsigned() {
    let server = server(ring([key("hmac-sha256")]));
    let y = dig_key("hmac-sha256", OTHER_SECRET);
    let Some(out) = dig(server.addr, &["-y", &y, "example.com", "SOA"]) else {
        return;
    };
    assert_eq!(status(&out).as_deref(), Some("NOTAUTH"), "{out}");
    assert!(
        out.contains(";; Couldn't verify signature: tsig indicates error"),
        "{out}"
    );
    assert!(out.contains("ANSWER: 0,"), "{out}");
    let tsig = single_tsig(&out);
    assert_eq!((tsig.error.as_str(), tsig.mac_size), ("BADSIG", 0), "{out}");
    assert_eq!(tsig.key, KEY_NAME);
    assert_eq!(tsig.other_len, 0);
}

/// RFC 8945 5.2.1: a key the server does not have, and a known key name
/// used with another algorithm: NOTAUTH/BADKEY, unsigned.
#[test]
fn an_unknown_key_or_algorithm_gets_notauth_badkey_unsigned() {
    let server = server(ring([key("hmac-sha256")]));
    let unknown = format!("hmac-sha256:other.example.:{SECRET}");
    let other_algorithm = dig_key("hmac-sha512", SECRET);
    for (y, expected_key, expected_alg) in [
        (unknown, "other.example.", "hmac-sha256."),
        (other_algorithm, KEY_NAME, "hmac-sha512."),
    ] {
        let Some(out) = dig(server.addr, &["-y", &y, "example.com", "SOA"]) else {
            return;
        };
        assert_eq!(status(&out).as_deref(), Some("NOTAUTH"), "{out}");
        assert!(out.contains("tsig indicates error"), "{out}");
        let tsig = single_tsig(&out);
        assert_eq!((tsig.error.as_str(), tsig.mac_size), ("BADKEY", 0), "{out}");
        assert_eq!(
            (tsig.key.as_str(), tsig.algorithm.as_str()),
            (expected_key, expected_alg)
        );
    }
}

/// RFC 8945 5.2.3: the server's clock is an hour ahead. NOTAUTH/BADTIME,
/// signed; Time Signed is dig's own, and Other Data the server's time.
/// dig says "clocks are unsynchronized" only once the MAC has verified
/// ("tsig verify failure" otherwise).
#[test]
fn a_skewed_clock_gets_signed_badtime_with_the_servers_time() {
    let mut behaviour = Behaviour::new(ring([key("hmac-sha256")]));
    behaviour.clock_skew = 3600;
    let server = TestServer::start(behaviour);
    let y = dig_key("hmac-sha256", SECRET);
    let Some(out) = dig(server.addr, &["-y", &y, "example.com", "SOA"]) else {
        return;
    };
    assert_eq!(status(&out).as_deref(), Some("NOTAUTH"), "{out}");
    assert!(
        out.contains(";; Couldn't verify signature: clocks are unsynchronized"),
        "{out}"
    );
    let tsig = single_tsig(&out);
    assert_eq!(
        (tsig.error.as_str(), tsig.mac_size),
        ("BADTIME", 32),
        "{out}"
    );
    assert!(
        tsig.time_signed.abs_diff(unix_now()) < 5,
        "dig's time: {out}"
    );
    assert_eq!(tsig.other_len, 6);
    let other = BASE64
        .decode(tsig.other.expect("Other Data").as_bytes())
        .expect("base64 Other Data");
    let server_time = other.iter().fold(0u64, |t, &b| (t << 8) | u64::from(b));
    assert!(
        server_time.abs_diff(unix_now() + 3600) < 5,
        "server time {server_time}"
    );
}

/// RFC 8945 5.2.4: dig truncates its MAC to 128 bits (`hmac-sha256-128`),
/// which the RFC allows but the server's key (full length) does not:
/// NOTAUTH/BADTRUNC, signed with the full MAC, which dig verifies.
#[test]
fn a_mac_truncated_below_the_keys_policy_gets_signed_badtrunc() {
    let server = server(ring([key("hmac-sha256")]));
    let y = dig_key("hmac-sha256-128", SECRET);
    let Some(out) = dig(server.addr, &["-y", &y, "example.com", "SOA"]) else {
        return;
    };
    assert_eq!(status(&out).as_deref(), Some("NOTAUTH"), "{out}");
    assert!(out.contains("tsig indicates error"), "{out}");
    assert!(!out.contains("tsig verify failure"), "{out}");
    let tsig = single_tsig(&out);
    assert_eq!(
        (tsig.error.as_str(), tsig.mac_size),
        ("BADTRUNC", 32),
        "{out}"
    );
}

/// A key configured truncated on both ends (`hmac-sha256-128`, as BIND
/// writes it): accepted, and the answer's MAC is 16 octets.
#[test]
fn truncated_macs_pass_when_the_key_says_so() {
    let server = server(ring([key("hmac-sha256-128")]));
    let y = dig_key("hmac-sha256-128", SECRET);
    let Some(out) = dig(server.addr, &["-y", &y, "example.com", "SOA"]) else {
        return;
    };
    assert_verified(&out);
    assert_eq!(status(&out).as_deref(), Some("NOERROR"), "{out}");
    assert_eq!(single_tsig(&out).mac_size, 16);
}

/// Runs `dig -y KEY example.com AXFR` against `behaviour`'s server.
fn dig_axfr(behaviour: Behaviour) -> Option<String> {
    let server = TestServer::start(behaviour);
    dig(
        server.addr,
        &["-y", &dig_key("hmac-sha256", SECRET), "example.com", "AXFR"],
    )
}

/// RFC 8945 5.3.1: dig verifies every message of a transfer; three
/// messages, each signed, the later ones over the prior MAC and the
/// timers only.
#[test]
fn dig_verifies_every_message_of_a_signed_axfr() {
    let Some(out) = dig_axfr(Behaviour::new(ring([key("hmac-sha256")]))) else {
        return;
    };
    assert_verified(&out);
    let records = axfr_records(3);
    assert!(
        out.contains(&format!("XFR size: {records} records (messages 3,")),
        "{out}"
    );
    let tsigs = tsig_lines(&out);
    assert_eq!(tsigs.len(), 3, "{out}");
    assert!(tsigs
        .iter()
        .all(|t| t.error == "NOERROR" && t.mac_size == 32));
}

/// RFC 8945 5.3.1: a server may leave up to 99 messages in a row
/// unsigned; here messages 2, 3 and 5 of 6. dig accepts them.
#[test]
fn dig_accepts_unsigned_messages_between_signed_ones() {
    let mut behaviour = Behaviour::new(ring([key("hmac-sha256")]));
    behaviour.axfr_messages = 6;
    behaviour.sign_every = 3;
    let Some(out) = dig_axfr(behaviour) else {
        return;
    };
    assert_verified(&out);
    assert!(out.contains("(messages 6,"), "{out}");
    assert_eq!(
        tsig_lines(&out).len(),
        3,
        "messages 1, 4 and 6 signed:\n{out}"
    );
}

/// The negative controls for transfers: a forged signed message, and an
/// unsigned message altered in transit, which the next signed message's
/// MAC covers.
#[test]
fn dig_notices_a_forged_message_in_a_transfer() {
    for (sign_every, tamper) in [(1, 1), (3, 1)] {
        let mut behaviour = Behaviour::new(ring([key("hmac-sha256")]));
        behaviour.axfr_messages = 4;
        behaviour.sign_every = sign_every;
        behaviour.tamper = Some(tamper);
        let Some(out) = dig_axfr(behaviour) else {
            return;
        };
        assert!(
            out.contains(";; Couldn't verify signature: tsig verify failure"),
            "sign every {sign_every}, message {tamper} altered:\n{out}"
        );
    }
}

/// The key file as `tsig-keygen` writes it, read by the server
/// (`KeyRing::from_file`) and by dig (`-k`).
#[test]
fn a_tsig_keygen_file_works_on_both_ends() {
    let Some(keygen) = require("tsig-keygen", "bind9") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("dnslab-tsig-keygen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let file = dir.join("keys.conf");
    let generated = Command::new(keygen)
        .args(["-a", "hmac-sha384", "Keygen.Example"])
        .output()
        .expect("run tsig-keygen");
    assert!(generated.status.success(), "{generated:?}");
    std::fs::write(&file, &generated.stdout).expect("write key file");
    let keys = KeyRing::from_file(&file).expect("the server reads tsig-keygen's file");
    let server = server(keys);
    let out = dig(
        server.addr,
        &[
            "-k",
            file.to_str().expect("utf-8 path"),
            "example.com",
            "SOA",
        ],
    );
    std::fs::remove_dir_all(&dir).expect("remove scratch dir");
    let Some(out) = out else {
        return;
    };
    assert_verified(&out);
    assert_eq!(status(&out).as_deref(), Some("NOERROR"), "{out}");
    let tsig = single_tsig(&out);
    assert_eq!(tsig.key.to_ascii_lowercase(), "keygen.example.");
    assert_eq!(
        (tsig.algorithm.as_str(), tsig.mac_size),
        ("hmac-sha384.", 48)
    );
}
