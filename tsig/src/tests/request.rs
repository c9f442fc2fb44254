//! The server's checks of a request (RFC 8945 5.2), on messages built
//! here: where the TSIG may be, the MAC size rules of 5.2.2.1, the
//! truncation policy of 5.2.4, and the order of the checks.

use super::{key, query, ring, NOW};
use crate::mac::Variables;
use crate::record::{self, NewTsig, FUDGE};
use crate::{sign_request, verify_request, Algorithm, Malformed, TsigError, Verified};

/// `query()` with a TSIG record appended as given.
fn with_tsig(algorithm: &[u8], mac: &[u8]) -> Vec<u8> {
    let mut msg = query();
    record::append(
        &mut msg,
        &NewTsig {
            key_name: b"\x04test\x03key\x00",
            algorithm,
            vars: Variables {
                time_signed: NOW,
                fudge: FUDGE,
                error: 0,
                other: &[],
            },
            mac,
        },
    )
    .unwrap();
    msg
}

fn sha256_ring() -> crate::KeyRing {
    ring([key(Algorithm::HmacSha256)])
}

#[test]
fn unsigned_requests_are_told_apart() {
    let keys = sha256_ring();
    assert!(matches!(
        verify_request(&query(), &keys, NOW),
        Ok(Verified::Unsigned)
    ));
    // With an OPT record, the walk reaches the end and finds no TSIG.
    let mut with_opt = query();
    with_opt[11] = 1;
    with_opt.extend_from_slice(b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00");
    assert!(matches!(
        verify_request(&with_opt, &keys, NOW),
        Ok(Verified::Unsigned)
    ));
    assert!(matches!(
        verify_request(&[0x12, 0x34], &keys, NOW),
        Err(TsigError::Malformed(Malformed::ShortHeader))
    ));
}

#[test]
fn a_signed_request_verifies_with_its_key() {
    let mut msg = query();
    sign_request(&mut msg, &key(Algorithm::HmacSha384), NOW).unwrap();
    let keys = ring([key(Algorithm::HmacSha384)]);
    let verified = verify_request(&msg, &keys, NOW).unwrap();
    assert_eq!(verified.key().map(|k| k.name()), Some("test.key."));
    // Key name, class, TTL, RDLENGTH, algorithm, 16 fixed octets, MAC.
    assert_eq!(verified.tsig_len(), 10 + 10 + 13 + 16 + 48 + 6);
}

/// RFC 8945 5.1: the TSIG "MUST be the last record"; FORMERR otherwise.
#[test]
fn a_tsig_that_is_not_last_is_formerr() {
    let mut msg = query();
    sign_request(&mut msg, &key(Algorithm::HmacSha256), NOW).unwrap();
    // An A record after the TSIG, counted.
    msg[11] += 1;
    msg.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x01");
    let err = verify_request(&msg, &sha256_ring(), NOW).unwrap_err();
    assert!(
        matches!(err, TsigError::Malformed(Malformed::NotLast)),
        "{err}"
    );
    assert_eq!(err.rcode(), crate::RCODE_FORMERR);
    assert_eq!(err.tsig_rcode(), None);

    // A TSIG in the answer section.
    let mut msg = query();
    sign_request(&mut msg, &key(Algorithm::HmacSha256), NOW).unwrap();
    msg[7] = 1;
    msg[11] = 0;
    assert!(matches!(
        verify_request(&msg, &sha256_ring(), NOW),
        Err(TsigError::Malformed(Malformed::NotLast))
    ));
}

#[test]
fn bytes_after_the_tsig_are_formerr() {
    let mut msg = query();
    sign_request(&mut msg, &key(Algorithm::HmacSha256), NOW).unwrap();
    msg.push(0);
    assert!(matches!(
        verify_request(&msg, &sha256_ring(), NOW),
        Err(TsigError::Malformed(Malformed::TrailingBytes))
    ));
}

#[test]
fn a_compressed_algorithm_name_is_formerr() {
    // A pointer to "com." in the question.
    let msg = with_tsig(b"\xc0\x14", &[0; 32]);
    assert!(matches!(
        verify_request(&msg, &sha256_ring(), NOW),
        Err(TsigError::Malformed(Malformed::CompressedAlgorithm))
    ));
}

#[test]
fn class_other_than_any_is_formerr() {
    let mut msg = query();
    sign_request(&mut msg, &key(Algorithm::HmacSha256), NOW).unwrap();
    // CLASS follows the key name (10 octets) and TYPE.
    let class_at = query().len() + 10 + 2;
    msg[class_at + 1] = 1;
    assert!(matches!(
        verify_request(&msg, &sha256_ring(), NOW),
        Err(TsigError::Malformed(Malformed::ClassOrTtl))
    ));
}

/// RFC 8945 5.2.2.1: a MAC longer than the hash (rule 1) or shorter than
/// max(10, half the hash) (rule 3) is FORMERR; checked once the key, and
/// so the hash, is known.
#[test]
fn mac_sizes_outside_the_rules_are_formerr() {
    let alg = Algorithm::HmacSha256.wire_name();
    for (size, long) in [(33, true), (15, false), (1, false)] {
        let msg = with_tsig(alg, &vec![0; size]);
        match verify_request(&msg, &sha256_ring(), NOW) {
            Err(TsigError::Malformed(Malformed::MacTooLong {
                size: s, max: 32, ..
            })) if long => {
                assert_eq!(s, size)
            }
            Err(TsigError::Malformed(Malformed::MacTooShort {
                size: s, min: 16, ..
            })) if !long => {
                assert_eq!(s, size)
            }
            other => panic!("MAC of {size}: {other:?}"),
        }
    }
    // An empty MAC is allowed only in error replies: in a request, BADSIG.
    assert!(matches!(
        verify_request(&with_tsig(alg, &[]), &sha256_ring(), NOW),
        Err(TsigError::BadSig(_))
    ));
    // An unknown key is BADKEY before any MAC rule.
    assert!(matches!(
        verify_request(&with_tsig(alg, &[0; 99]), &crate::KeyRing::new(), NOW),
        Err(TsigError::UnknownKey(_))
    ));
}

/// RFC 8945 5.2.4: a MAC truncated within the RFC's rules but below the
/// key's policy is BADTRUNC; a key configured truncated accepts it.
#[test]
fn truncation_below_the_keys_policy_is_badtrunc() {
    let truncated = key(Algorithm::HmacSha256).truncated_to_bits(128).unwrap();
    let mut msg = query();
    let mac = sign_request(&mut msg, &truncated, NOW).unwrap();
    assert_eq!(mac.mac().len(), 16);
    let err = verify_request(&msg, &sha256_ring(), NOW).unwrap_err();
    assert!(matches!(err, TsigError::BadTrunc { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "BADTRUNC: MAC truncated to 16 octets, key test.key. requires 32"
    );
    assert!(verify_request(&msg, &ring([truncated]), NOW).is_ok());
}

/// RFC 8945 5.2: the MAC is checked before the time, so that a forged
/// request never learns the server's clock from a signed BADTIME.
#[test]
fn a_bad_mac_outside_the_window_is_badsig_not_badtime() {
    let mut msg = query();
    sign_request(&mut msg, &key(Algorithm::HmacSha256), NOW - 10_000).unwrap();
    let last = msg.len() - 7; // the MAC's last octet
    msg[last] ^= 1;
    assert!(matches!(
        verify_request(&msg, &sha256_ring(), NOW),
        Err(TsigError::BadSig(_))
    ));
}

#[test]
fn key_names_match_without_case_and_errors_name_the_key() {
    let mut msg = query();
    let upper = crate::Key::from_text("TEST.Key", "hmac-sha256", super::SECRET).unwrap();
    sign_request(&mut msg, &upper, NOW).unwrap();
    assert!(verify_request(&msg, &sha256_ring(), NOW).is_ok());
    let err = verify_request(&msg, &ring([key(Algorithm::HmacSha1)]), NOW).unwrap_err();
    assert_eq!(
        err.to_string(),
        "BADKEY: key test.key. is hmac-sha1, the request used hmac-sha256."
    );
    let err = verify_request(&msg, &crate::KeyRing::new(), NOW).unwrap_err();
    assert_eq!(err.to_string(), "BADKEY: no key test.key. in the key ring");
}
