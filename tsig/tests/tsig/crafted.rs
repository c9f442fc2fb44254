//! The crate's client side against its server side, over real sockets,
//! with requests no tool sends: signed at a skewed time, or with the TSIG
//! in the wrong place; and transfers checked message by message.

use dnslab_tsig::{sign_request, unix_now, Checked, ResponseError, ResponseVerifier, TsigRcode};

use super::client::{query, tcp_exchange, udp_exchange};
use super::server::{Behaviour, TestServer};
use crate::{key, ring};

/// RFC 8945 5.2.3 from the client's side: a request signed an hour ago is
/// refused with BADTIME, and the signed reply gives the server's clock.
#[test]
fn a_request_signed_an_hour_ago_learns_the_servers_time() {
    let server = TestServer::start(Behaviour::new(ring([key("hmac-sha256")])));
    let mut request = query(6);
    let now = unix_now();
    let mac = sign_request(&mut request, &key("hmac-sha256"), now - 3600).expect("sign");
    let reply = udp_exchange(server.addr, &request);
    assert_eq!(reply[..2], [0xbe, 0xef]);
    assert_eq!(reply[3] & 0x0F, 9, "NOTAUTH");
    match ResponseVerifier::new(&mac).verify(&reply, now - 3600) {
        Err(ResponseError::Refused {
            error: TsigRcode::BADTIME,
            server_time: Some(server_time),
        }) => assert!(server_time.abs_diff(now) < 5, "server time {server_time}"),
        other => panic!("expected a signed BADTIME, got {other:?}"),
    }
}

/// RFC 8945 5.1: a record after the TSIG makes the request malformed:
/// FORMERR, with no TSIG in the reply.
#[test]
fn a_tsig_that_is_not_last_gets_formerr() {
    let server = TestServer::start(Behaviour::new(ring([key("hmac-sha256")])));
    let mut request = query(6);
    sign_request(&mut request, &key("hmac-sha256"), unix_now()).expect("sign");
    request[11] += 1;
    request.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x01");
    let reply = udp_exchange(server.addr, &request);
    assert_eq!(reply[..2], [0xbe, 0xef]);
    assert_eq!(reply[3] & 0x0F, 1, "FORMERR");
    assert_eq!(reply[10..12], [0, 0], "no TSIG");
}

/// A transfer of seven messages, signed every third and last, checked one
/// message at a time as a secondary would.
#[test]
fn a_transfer_verifies_message_by_message() {
    let mut behaviour = Behaviour::new(ring([key("hmac-sha384")]));
    behaviour.axfr_messages = 7;
    behaviour.sign_every = 3;
    let server = TestServer::start(behaviour);
    let mut request = query(252);
    let now = unix_now();
    let mac = sign_request(&mut request, &key("hmac-sha384"), now).expect("sign");
    let messages = tcp_exchange(server.addr, &request, 7);
    let mut verifier = ResponseVerifier::new(&mac);
    let checked: Vec<Checked> = messages
        .iter()
        .map(|msg| verifier.verify(msg, unix_now()).expect("verifies"))
        .collect();
    use Checked::{Signed as S, Unsigned as U};
    assert_eq!(checked, [S, U, U, S, U, U, S]);
    assert_eq!(verifier.finish(), Ok(()));
}

#[test]
fn a_forged_transfer_message_is_refused() {
    let mut behaviour = Behaviour::new(ring([key("hmac-sha256")]));
    behaviour.axfr_messages = 4;
    behaviour.tamper = Some(2);
    let server = TestServer::start(behaviour);
    let mut request = query(252);
    let mac = sign_request(&mut request, &key("hmac-sha256"), unix_now()).expect("sign");
    let messages = tcp_exchange(server.addr, &request, 4);
    let mut verifier = ResponseVerifier::new(&mac);
    assert_eq!(
        verifier.verify(&messages[0], unix_now()),
        Ok(Checked::Signed)
    );
    assert_eq!(
        verifier.verify(&messages[1], unix_now()),
        Ok(Checked::Signed)
    );
    assert_eq!(
        verifier.verify(&messages[2], unix_now()),
        Err(ResponseError::BadSig)
    );
}
