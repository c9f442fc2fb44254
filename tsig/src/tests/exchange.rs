//! Whole exchanges, as the client sees them: a signed request, the
//! server's verification, its signed response (one message or many), and
//! the error replies of RFC 8945 5.3.2.

use super::{key, query, response, ring, tsig_error_and_mac, NOW};
use crate::{
    error_response, sign_request, sign_response, verify_request, Algorithm, Checked, ResponseError,
    ResponseSigner, ResponseVerifier, SignError, TsigRcode, Verified, RCODE_FORMERR, RCODE_NOTAUTH,
};

/// A request signed with the SHA-256 test key, what the server verified,
/// and what the client keeps to check the response.
fn exchange() -> (Vec<u8>, Verified, ResponseVerifier) {
    let mut request = query();
    let mac = sign_request(&mut request, &key(Algorithm::HmacSha256), NOW).unwrap();
    let verified = verify_request(&request, &ring([key(Algorithm::HmacSha256)]), NOW).unwrap();
    (request, verified, ResponseVerifier::new(&mac))
}

#[test]
fn a_signed_response_verifies_for_every_algorithm() {
    for alg in Algorithm::ALL {
        let mut request = query();
        let mac = sign_request(&mut request, &key(alg), NOW).unwrap();
        let verified = verify_request(&request, &ring([key(alg)]), NOW + 5).unwrap();
        let mut reply = response(1);
        sign_response(&mut reply, &verified, NOW + 5).unwrap();
        assert_eq!(
            tsig_error_and_mac(&reply).1.len(),
            alg.output_len(),
            "{alg}"
        );
        let mut verifier = ResponseVerifier::new(&mac);
        assert_eq!(
            verifier.verify(&reply, NOW + 6),
            Ok(Checked::Signed),
            "{alg}"
        );
        assert_eq!(verifier.finish(), Ok(()));
    }
}

#[test]
fn a_response_to_an_unsigned_request_stays_unsigned() {
    let mut reply = response(1);
    sign_response(&mut reply, &Verified::Unsigned, NOW).unwrap();
    assert_eq!(reply, response(1));
    let mut signer = ResponseSigner::new(&Verified::Unsigned);
    signer.sign(&mut reply, NOW).unwrap();
    signer.leave_unsigned(&reply).unwrap();
    assert_eq!(reply, response(1));
}

#[test]
fn the_client_refuses_a_forged_or_misdirected_response() {
    let (_, verified, mut verifier) = exchange();
    let mut reply = response(2);
    sign_response(&mut reply, &verified, NOW).unwrap();
    reply[35] ^= 1; // the first answer's TTL
    assert_eq!(verifier.verify(&reply, NOW), Err(ResponseError::BadSig));

    // Signed with the right secret under another key name.
    let (_, _, mut verifier) = exchange();
    let mut other = query();
    let other_key = crate::Key::from_text("other.key", "hmac-sha256", super::SECRET).unwrap();
    sign_request(&mut other, &other_key, NOW).unwrap();
    let verified = verify_request(&other, &ring([other_key]), NOW).unwrap();
    let mut reply = response(1);
    sign_response(&mut reply, &verified, NOW).unwrap();
    assert_eq!(
        verifier.verify(&reply, NOW),
        Err(ResponseError::WrongKey {
            name: "other.key.".into(),
            algorithm: "hmac-sha256.".into()
        })
    );

    // An unsigned answer to a signed request.
    let (_, _, mut verifier) = exchange();
    assert_eq!(
        verifier.verify(&response(1), NOW),
        Err(ResponseError::Unsigned { rcode: 0 })
    );

    // Signed too long ago.
    let (_, verified, mut verifier) = exchange();
    let mut reply = response(1);
    sign_response(&mut reply, &verified, NOW - 400).unwrap();
    assert_eq!(
        verifier.verify(&reply, NOW),
        Err(ResponseError::BadTime {
            time_signed: NOW - 400,
            now: NOW,
            fudge: 300
        })
    );
}

/// RFC 8945 5.3.1: later messages chain on the prior MAC, unsigned ones
/// are covered by the next signed one.
#[test]
fn a_multi_message_response_with_unsigned_messages_verifies() {
    let (_, verified, mut verifier) = exchange();
    let mut signer = ResponseSigner::new(&verified);
    let plan = [true, false, false, true, true, false, true];
    let mut messages = Vec::new();
    for (n, &signed) in plan.iter().enumerate() {
        let mut msg = response(n as u16 + 1);
        if signed {
            signer.sign(&mut msg, NOW + n as u64).unwrap();
        } else {
            signer.leave_unsigned(&msg).unwrap();
        }
        messages.push(msg);
    }
    for (msg, &signed) in messages.iter().zip(&plan) {
        let expected = if signed {
            Checked::Signed
        } else {
            Checked::Unsigned
        };
        assert_eq!(verifier.verify(msg, NOW + 3), Ok(expected));
    }
    assert_eq!(verifier.finish(), Ok(()));

    // The same stream with an unsigned message altered: the next signed
    // message does not verify.
    let (_, _, mut verifier) = exchange();
    messages[2][35] ^= 1; // the first answer's TTL
    assert_eq!(verifier.verify(&messages[0], NOW), Ok(Checked::Signed));
    assert_eq!(verifier.verify(&messages[1], NOW), Ok(Checked::Unsigned));
    assert_eq!(verifier.verify(&messages[2], NOW), Ok(Checked::Unsigned));
    assert_eq!(
        verifier.verify(&messages[3], NOW),
        Err(ResponseError::BadSig)
    );
}

#[test]
fn the_first_and_last_messages_must_be_signed_and_99_unsigned_at_most() {
    let (_, verified, mut verifier) = exchange();
    let mut signer = ResponseSigner::new(&verified);
    assert_eq!(
        signer.leave_unsigned(&response(1)),
        Err(SignError::FirstUnsigned)
    );
    let mut first = response(1);
    signer.sign(&mut first, NOW).unwrap();
    assert_eq!(verifier.verify(&first, NOW), Ok(Checked::Signed));
    for _ in 0..99 {
        signer.leave_unsigned(&response(1)).unwrap();
        assert_eq!(verifier.verify(&response(1), NOW), Ok(Checked::Unsigned));
    }
    assert_eq!(verifier.finish(), Err(ResponseError::UnsignedLast));
    assert_eq!(
        signer.leave_unsigned(&response(1)),
        Err(SignError::TooManyUnsigned)
    );
    assert_eq!(
        verifier.clone().verify(&response(1), NOW),
        Err(ResponseError::TooManyUnsigned)
    );
    // The 100th message signed: all 101 verified.
    let mut last = response(1);
    signer.sign(&mut last, NOW).unwrap();
    assert_eq!(verifier.verify(&last, NOW), Ok(Checked::Signed));
    assert_eq!(verifier.finish(), Ok(()));

    let (_, _, verifier) = exchange();
    assert_eq!(
        verifier.finish(),
        Err(ResponseError::UnsignedLast),
        "nothing verified"
    );
}

/// Header fields every error reply shares: the request's ID, QR, the
/// question, the RCODE, and the TSIG (if any) last.
fn check_reply(reply: &[u8], request: &[u8], rcode: u8, arcount: u8) {
    assert_eq!(reply[..2], request[..2], "ID");
    assert_eq!(reply[2], 0x81, "QR, opcode QUERY, RD");
    assert_eq!(reply[3], rcode);
    assert_eq!(reply[4..12], [0, 1, 0, 0, 0, 0, 0, arcount]);
    assert_eq!(reply[12..29], query()[12..29], "question");
}

/// RFC 8945 5.3.2: BADKEY and BADSIG replies carry a TSIG with the error
/// and no MAC; the client reads them as a refusal.
#[test]
fn badkey_and_badsig_replies_are_unsigned() {
    let (request, _, verifier) = exchange();
    let cases = [
        (crate::KeyRing::new(), TsigRcode::BADKEY),
        (ring([key(Algorithm::HmacSha512)]), TsigRcode::BADKEY),
        (
            ring([crate::Key::from_text("test.key", "hmac-sha256", "c2VjcmV0").unwrap()]),
            TsigRcode::BADSIG,
        ),
    ];
    for (keys, expected) in cases {
        let err = verify_request(&request, &keys, NOW).unwrap_err();
        assert_eq!(err.tsig_rcode(), Some(expected));
        let reply = error_response(&request, &err, NOW + 1);
        check_reply(&reply, &request, RCODE_NOTAUTH, 1);
        let tsig = crate::record::find(&reply).unwrap().unwrap();
        assert_eq!(tsig.error, expected.0);
        assert!(tsig.mac.is_empty());
        assert_eq!(tsig.time_signed, NOW + 1);
        assert_eq!(tsig.original_id, 0x1234);
        assert_eq!(tsig.algorithm, Algorithm::HmacSha256.wire_name());
        assert_eq!(
            verifier.clone().verify(&reply, NOW),
            Err(ResponseError::Refused {
                error: expected,
                server_time: None
            })
        );
    }
}

/// RFC 8945 5.2.3: BADTIME is signed, keeps the request's Time Signed and
/// carries the server's clock in Other Data.
#[test]
fn badtime_replies_are_signed_and_carry_the_servers_time() {
    let (request, _, mut verifier) = exchange();
    let server_time = NOW + 3600;
    let err =
        verify_request(&request, &ring([key(Algorithm::HmacSha256)]), server_time).unwrap_err();
    let reply = error_response(&request, &err, server_time);
    check_reply(&reply, &request, RCODE_NOTAUTH, 1);
    let tsig = crate::record::find(&reply).unwrap().unwrap();
    assert_eq!(tsig.error, TsigRcode::BADTIME.0);
    assert_eq!(tsig.time_signed, NOW);
    assert_eq!(tsig.other, &server_time.to_be_bytes()[2..]);
    assert_eq!(tsig.mac.len(), 32);
    assert_eq!(
        verifier.verify(&reply, NOW + 1),
        Err(ResponseError::Refused {
            error: TsigRcode::BADTIME,
            server_time: Some(server_time)
        })
    );
}

#[test]
fn badtrunc_replies_are_signed() {
    let truncated = key(Algorithm::HmacSha256).truncated_to_bits(128).unwrap();
    let mut request = query();
    let mac = sign_request(&mut request, &truncated, NOW).unwrap();
    let err = verify_request(&request, &ring([key(Algorithm::HmacSha256)]), NOW).unwrap_err();
    let reply = error_response(&request, &err, NOW);
    check_reply(&reply, &request, RCODE_NOTAUTH, 1);
    assert_eq!(tsig_error_and_mac(&reply).0, TsigRcode::BADTRUNC.0);
    assert_eq!(
        ResponseVerifier::new(&mac).verify(&reply, NOW),
        Err(ResponseError::Refused {
            error: TsigRcode::BADTRUNC,
            server_time: None
        })
    );
}

#[test]
fn a_malformed_tsig_gets_formerr_without_tsig() {
    let (mut request, _, _) = exchange();
    request.push(0);
    let err = verify_request(&request, &ring([key(Algorithm::HmacSha256)]), NOW).unwrap_err();
    let reply = error_response(&request, &err, NOW);
    check_reply(&reply, &request, RCODE_FORMERR, 0);
    assert_eq!(reply.len(), 29);
    // Even a header alone gets a reply with its ID.
    let reply = error_response(&request[..12], &err, NOW);
    assert_eq!(reply[..2], request[..2]);
    assert_eq!(reply[4..6], [0, 0], "no question to echo");
}

/// Truncated keys on both ends: the response MAC is as long as the key
/// says, and the client accepts it.
#[test]
fn truncated_keys_on_both_ends_agree() {
    let truncated = key(Algorithm::HmacSha512).truncated_to_bits(256).unwrap();
    let mut request = query();
    let mac = sign_request(&mut request, &truncated, NOW).unwrap();
    let verified = verify_request(&request, &ring([truncated]), NOW).unwrap();
    let mut reply = response(1);
    sign_response(&mut reply, &verified, NOW).unwrap();
    assert_eq!(tsig_error_and_mac(&reply).1.len(), 32);
    assert_eq!(
        ResponseVerifier::new(&mac).verify(&reply, NOW),
        Ok(Checked::Signed)
    );
}
