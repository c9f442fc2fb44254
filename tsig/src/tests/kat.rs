//! Known answers: exchanges captured from dig, kdig and Knot (in
//! `testdata/`, with how each was captured). The crate must verify what
//! they signed, and sign what they signed to the same bytes: HMAC is
//! deterministic, so any difference in the digest's components (RFC 8945
//! 4.3) shows as a different MAC.

use data_encoding::HEXLOWER;

use super::strip_tsig;
use crate::{
    sign_request, sign_response, verify_request, Checked, Key, KeyRing, ResponseVerifier,
    TsigError, Verified,
};

struct Capture {
    key: Key,
    time: u64,
    request: Vec<u8>,
    response: Vec<u8>,
}

fn capture(text: &str) -> Capture {
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("capture has no {name}"))
    };
    let hex = |name| HEXLOWER.decode(field(name).as_bytes()).expect("hex");
    Capture {
        key: Key::from_dig_spec(field("key")).expect("key"),
        time: field("time").parse().expect("time"),
        request: hex("request"),
        response: hex("response"),
    }
}

fn captures() -> [Capture; 2] {
    [
        capture(include_str!("../../testdata/dig-sha256-knot.txt")),
        capture(include_str!("../../testdata/kdig-sha512-knot.txt")),
    ]
}

fn ring_of(key: &Key) -> KeyRing {
    [key.clone()].into_iter().collect()
}

#[test]
fn requests_from_dig_and_kdig_verify() {
    for c in captures() {
        let verified = verify_request(&c.request, &ring_of(&c.key), c.time).expect("verifies");
        let Verified::Signed(request) = verified else {
            panic!("a signed request verified as unsigned");
        };
        assert_eq!(request.key().name(), c.key.name());
        assert_eq!(request.time_signed(), c.time);
        assert_eq!(request.mac().len(), c.key.algorithm().output_len());
    }
}

#[test]
fn signing_a_request_gives_the_bytes_dig_and_kdig_sent() {
    for c in captures() {
        let mut request = strip_tsig(&c.request);
        let mac = sign_request(&mut request, &c.key, c.time).expect("signs");
        assert_eq!(HEXLOWER.encode(&request), HEXLOWER.encode(&c.request));
        assert_eq!(mac.key().name(), c.key.name());
    }
}

#[test]
fn knots_responses_verify_with_the_request_mac() {
    for c in captures() {
        let mut request = strip_tsig(&c.request);
        let mac = sign_request(&mut request, &c.key, c.time).expect("signs");
        let mut verifier = ResponseVerifier::new(&mac);
        assert_eq!(verifier.verify(&c.response, c.time), Ok(Checked::Signed));
        assert_eq!(verifier.finish(), Ok(()));
    }
}

#[test]
fn signing_knots_response_gives_the_bytes_knot_sent() {
    for c in captures() {
        let verified = verify_request(&c.request, &ring_of(&c.key), c.time).expect("verifies");
        let mut response = strip_tsig(&c.response);
        sign_response(&mut response, &verified, c.time).expect("signs");
        assert_eq!(HEXLOWER.encode(&response), HEXLOWER.encode(&c.response));
    }
}

#[test]
fn captured_request_fails_each_check_as_the_rfc_says() {
    let c = &captures()[0];
    let other_secret = Key::from_text(c.key.name(), "hmac-sha256", "c2VjcmV0").unwrap();
    assert!(matches!(
        verify_request(&c.request, &ring_of(&other_secret), c.time),
        Err(TsigError::BadSig(_))
    ));
    let other_algorithm = Key::from_text(c.key.name(), "hmac-sha512", super::SECRET).unwrap();
    assert!(matches!(
        verify_request(&c.request, &ring_of(&other_algorithm), c.time),
        Err(TsigError::WrongAlgorithm { .. })
    ));
    assert!(matches!(
        verify_request(&c.request, &KeyRing::new(), c.time),
        Err(TsigError::UnknownKey(_))
    ));
    // Fudge 300: the edges of the window are inside it.
    for now in [c.time - 300, c.time + 300] {
        assert!(verify_request(&c.request, &ring_of(&c.key), now).is_ok());
    }
    for now in [c.time - 301, c.time + 301] {
        match verify_request(&c.request, &ring_of(&c.key), now) {
            Err(TsigError::BadTime { server_time, .. }) => assert_eq!(server_time, now),
            other => panic!("expected BADTIME, got {other:?}"),
        }
    }
}

/// Any bit flipped anywhere in a signed request makes it fail, or turns
/// it into a message without a TSIG; it never verifies as signed. Two
/// exceptions, by design: the ID, which the digest replaces by the
/// Original ID so that forwarders may change it (RFC 8945 4.3.1), and the
/// case of the key and algorithm names, digested in canonical form
/// (RFC 8945 4.3.3).
#[test]
fn no_single_bit_flip_verifies() {
    for c in captures() {
        let ring = ring_of(&c.key);
        let tsig = crate::record::find(&c.request).unwrap().unwrap();
        let names_end = tsig.start + tsig.key_name.len() + 10 + tsig.algorithm.len();
        for at in 0..c.request.len() {
            for bit in 0..8 {
                let mut msg = c.request.clone();
                msg[at] ^= 1 << bit;
                let result = verify_request(&msg, &ring, c.time);
                let case_only = (tsig.start..names_end).contains(&at)
                    && bit == 5
                    && c.request[at].is_ascii_alphabetic();
                if at < 2 || case_only {
                    assert!(matches!(result, Ok(Verified::Signed(_))), "octet {at}");
                } else {
                    assert!(
                        !matches!(result, Ok(Verified::Signed(_))),
                        "octet {at} bit {bit} still verifies"
                    );
                }
            }
        }
    }
}
