//! kdig (Knot 3.2) against the crate's server: a second, independent
//! verifier for single-message replies. kdig prints the TSIG error as the
//! status (`status: BADSIG`) and a warning when it cannot verify a reply;
//! a forged reply shows that warning, so that its absence means
//! something. (kdig does not check the TSIG of each transfer message, so
//! transfers are dig's and Knot's tests.)

use dnslab_tsig::unix_now;

use super::output::{single_tsig, status};
use super::server::{Behaviour, TestServer};
use super::tools::kdig;
use crate::{dig_key, key, ring, KEY_NAME, OTHER_SECRET, SECRET};

const KDIG_FAILURE: &str = ";; WARNING: reply verification for";

fn kdig_soa(behaviour: Behaviour, y: &str, transport: &str) -> Option<String> {
    let server = TestServer::start(behaviour);
    kdig(server.addr, &[transport, "-y", y, "example.com", "SOA"])
}

#[test]
fn kdig_accepts_responses_signed_with_its_key() {
    for alg in ["hmac-sha1", "hmac-sha256", "hmac-sha512"] {
        for transport in ["+notcp", "+tcp"] {
            let behaviour = Behaviour::new(ring([key(alg)]));
            let Some(out) = kdig_soa(behaviour, &dig_key(alg, SECRET), transport) else {
                return;
            };
            assert!(!out.contains(KDIG_FAILURE), "{out}");
            assert_eq!(status(&out).as_deref(), Some("NOERROR"), "{out}");
            let tsig = single_tsig(&out);
            assert_eq!(
                (tsig.key.as_str(), tsig.error.as_str()),
                (KEY_NAME, "NOERROR")
            );
            assert_eq!(tsig.algorithm, format!("{alg}."));
        }
    }
}

/// The negative control: kdig warns about a reply whose MAC was altered.
#[test]
fn kdig_notices_a_forged_response() {
    let mut behaviour = Behaviour::new(ring([key("hmac-sha256")]));
    behaviour.tamper = Some(0);
    let Some(out) = kdig_soa(behaviour, &dig_key("hmac-sha256", SECRET), "+notcp") else {
        return;
    };
    assert!(out.contains("(failed to verify TSIG)"), "{out}");
}

#[test]
fn kdig_sees_badsig_and_badkey_unsigned() {
    let unknown = format!("hmac-sha256:other.example.:{SECRET}");
    for (y, expected) in [
        (dig_key("hmac-sha256", OTHER_SECRET), "BADSIG"),
        (unknown, "BADKEY"),
        (dig_key("hmac-sha384", SECRET), "BADKEY"),
    ] {
        let behaviour = Behaviour::new(ring([key("hmac-sha256")]));
        let Some(out) = kdig_soa(behaviour, &y, "+notcp") else {
            return;
        };
        assert_eq!(status(&out).as_deref(), Some(expected), "{out}");
        assert!(out.contains(KDIG_FAILURE), "{out}");
        let tsig = single_tsig(&out);
        assert_eq!((tsig.error.as_str(), tsig.mac_size), (expected, 0), "{out}");
    }
}

/// kdig prints BADTIME's Other Data as the server's time in seconds.
#[test]
fn kdig_sees_badtime_with_the_servers_time() {
    let mut behaviour = Behaviour::new(ring([key("hmac-sha256")]));
    behaviour.clock_skew = -7200;
    let Some(out) = kdig_soa(behaviour, &dig_key("hmac-sha256", SECRET), "+notcp") else {
        return;
    };
    assert_eq!(status(&out).as_deref(), Some("BADTIME"), "{out}");
    assert!(out.contains("(TSIG out of time window)"), "{out}");
    let tsig = single_tsig(&out);
    assert_eq!(
        (tsig.error.as_str(), tsig.mac_size, tsig.other_len),
        ("BADTIME", 32, 6)
    );
    let server_time: u64 = tsig.other.expect("Other Data").parse().expect("a time");
    assert!(server_time.abs_diff(unix_now() - 7200) < 5, "{out}");
    assert!(
        tsig.time_signed.abs_diff(unix_now()) < 5,
        "kdig's own time: {out}"
    );
}
