//! TSIG (RFC 8945) on dnslab's transfers and queries, as dig and kdig,
//! the tools operators use, sign requests and check replies: a transfer
//! with the key succeeds and verifies; every refusal is the reply the
//! tools expect (BADKEY and BADSIG unsigned, BADTIME signed with the
//! server's clock, BADTRUNC signed); a signed query is never answered as if
//! it were unsigned.

use dnslab_authoritative::AuthConfig;
use dnslab_tsig::{
    sign_request, unix_now, Key, KeyRing, ResponseError, ResponseVerifier, TsigRcode,
};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};

use super::{config, example_com, primary};
use crate::common::{tool_output, udp_raw, Ask, ScratchDir, ServedAuth, TIMEOUT};

const SECRET: &str = super::peers::KEY_SECRET;
/// The key as dig and kdig take it.
const GOOD: &str = "hmac-sha256:xfr:Vf7xgcI5X4o8n2IIdQpc6xFyqQ7D6gD3OPH+/RYdb6k=";

/// example.com., transfers only with the key `xfr`.
fn server(data: &ScratchDir) -> ServedAuth {
    let key = Key::from_text("xfr", "hmac-sha256", SECRET).expect("key");
    let config = AuthConfig {
        keys: [key].into_iter().collect::<KeyRing>(),
        ..config(
            vec![primary(&example_com(), "example.com.", &["key:xfr"])],
            &data.join("data"),
        )
    };
    ServedAuth::from_config(config)
}

fn dig(server: &ServedAuth, args: &[&str]) -> Option<String> {
    let mut all = vec!["+time=5", "+tries=1"];
    all.extend_from_slice(args);
    tool_output("dig", "bind9-dnsutils", server.addr, &all)
}

fn kdig(server: &ServedAuth, args: &[&str]) -> Option<String> {
    let mut all = vec!["+time=5", "+retry=0"];
    all.extend_from_slice(args);
    tool_output("kdig", "knot-dnsutils", server.addr, &all)
}

/// The story: an operator checks a zone's transfer by hand. With the key,
/// dig and kdig get the whole zone (67 records and the closing SOA) and
/// verify every
/// signature; IXFR from the current serial gets the SOA alone; without the
/// key, both are refused.
#[test]
fn dig_and_kdig_transfer_with_the_key_and_are_refused_without() {
    let data = ScratchDir::new("tsig-transfer");
    let server = server(&data);
    let Some(signed) = dig(&server, &["-y", GOOD, "example.com.", "AXFR"]) else {
        return;
    };
    assert!(signed.contains(";; XFR size: 68 records"), "{signed}");
    assert!(
        !signed.contains("Couldn't verify") && !signed.contains("failed"),
        "{signed}"
    );
    let Some(signed) = kdig(&server, &["-y", GOOD, "example.com.", "AXFR"]) else {
        return;
    };
    assert!(signed.contains("(1 messages, 68 records)"), "{signed}");
    assert!(
        !signed.contains("could not be validated"),
        "kdig verified every TSIG: {signed}"
    );
    let Some(current) = dig(
        &server,
        &["-y", GOOD, "example.com.", "IXFR=2026112201", "+short"],
    ) else {
        return;
    };
    assert_eq!(current.lines().count(), 1, "the SOA alone: {current}");
    assert!(current.contains(" 2026112201 "), "{current}");
    let Some(unsigned) = dig(&server, &["example.com.", "AXFR"]) else {
        return;
    };
    assert!(unsigned.contains("Transfer failed"), "{unsigned}");
    let Some(unsigned) = kdig(&server, &["example.com.", "AXFR"]) else {
        return;
    };
    assert!(unsigned.contains("REFUSED"), "{unsigned}");
}

/// RFC 8945 5.2: a key the server does not know is NOTAUTH with an
/// unsigned TSIG saying BADKEY; a MAC that does not verify is BADSIG; a
/// MAC truncated below what the key requires is BADTRUNC, signed. dig and
/// kdig read each as the error it is (and none as an answer); kdig takes
/// no truncated key, so BADTRUNC is dig's alone.
#[test]
fn every_tsig_error_is_the_reply_dig_and_kdig_expect() {
    let data = ScratchDir::new("tsig-errors");
    let server = server(&data);
    let unknown = "hmac-sha256:other:Vf7xgcI5X4o8n2IIdQpc6xFyqQ7D6gD3OPH+/RYdb6k=";
    let wrong = "hmac-sha256:xfr:c2VjcmV0c2VjcmV0c2VjcmV0";
    let truncated = "hmac-sha256-128:xfr:Vf7xgcI5X4o8n2IIdQpc6xFyqQ7D6gD3OPH+/RYdb6k=";
    for (key, error) in [
        (unknown, "BADKEY"),
        (wrong, "BADSIG"),
        (truncated, "BADTRUNC"),
    ] {
        let Some(out) = dig(&server, &["-y", key, "www.example.com.", "A"]) else {
            return;
        };
        assert!(out.contains("status: NOTAUTH"), "dig {error}: {out}");
        assert!(out.contains(&format!(" {error} ")), "dig {error}: {out}");
        assert!(out.contains("ANSWER: 0"), "dig {error}: {out}");
        // kdig does not take truncated algorithms (hmac-sha256-128).
        if error != "BADTRUNC" {
            let Some(out) = kdig(&server, &["-y", key, "www.example.com.", "A"]) else {
                return;
            };
            assert!(
                out.contains(&format!("status: {error}")),
                "kdig {error}: {out}"
            );
        }
        let Some(out) = dig(&server, &["-y", key, "example.com.", "AXFR"]) else {
            return;
        };
        assert!(
            out.contains("Transfer failed") && out.contains(error),
            "dig AXFR {error}: {out}"
        );
    }
}

/// RFC 8945 5.2.3: a request signed outside the fudge (here 1,000 s ago)
/// is NOTAUTH with BADTIME, signed, carrying the server's clock in Other
/// Data so that the client can see the skew. dig and kdig cannot sign in
/// the past, so the request is signed here and the reply checked as they
/// would check it.
#[test]
fn a_request_signed_outside_the_fudge_gets_badtime_with_the_servers_clock() {
    let data = ScratchDir::new("tsig-badtime");
    let server = server(&data);
    let key = Key::from_dig_spec(GOOD).expect("key");
    let mut query = Ask::new("www.example.com.", RecordType::A)
        .to_message()
        .to_bytes()
        .expect("encode");
    let then = unix_now() - 1000;
    let mac = sign_request(&mut query, &key, then).expect("sign");
    let reply = udp_raw(server.addr, &query, TIMEOUT).expect("a reply");
    let decoded = hickory_proto::op::Message::from_bytes(&reply).expect("decode");
    assert_eq!(decoded.metadata.response_code, ResponseCode::NotAuth);
    assert!(decoded.answers.is_empty());
    // The reply's Time Signed is the request's: a client whose clock is
    // 1,000 s slow verifies it, and learns the server's time.
    let now = unix_now();
    match ResponseVerifier::new(&mac).verify(&reply, then) {
        Err(ResponseError::Refused {
            error,
            server_time: Some(time),
        }) => {
            assert_eq!(error, TsigRcode::BADTIME);
            assert!(
                time.abs_diff(now) <= 5,
                "the server's clock: {time} vs {now}"
            );
        }
        other => panic!("expected a signed BADTIME, got {other:?}"),
    }
}

/// A signed query is answered signed, with the answer: dig verifies the
/// reply. And with a key that does not verify, the answer is never given.
#[test]
fn a_signed_query_is_answered_signed() {
    let data = ScratchDir::new("tsig-query");
    let server = server(&data);
    let Some(out) = dig(&server, &["-y", GOOD, "www.example.com.", "A"]) else {
        return;
    };
    assert!(
        out.contains("status: NOERROR") && out.contains("ANSWER: 2"),
        "{out}"
    );
    assert!(
        out.contains("xfr.") && out.contains("NOERROR 0"),
        "a TSIG in the reply: {out}"
    );
    assert!(!out.contains("Couldn't verify"), "{out}");
    let Some(out) = dig(&server, &["-y", GOOD, "www.example.com.", "A", "+tcp"]) else {
        return;
    };
    assert!(
        out.contains("ANSWER: 2") && !out.contains("Couldn't verify"),
        "{out}"
    );
}
