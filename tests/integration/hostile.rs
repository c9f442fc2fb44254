//! Hostile input and faults: malformed packets at a running authoritative
//! server, abusive TCP clients, lying and silent upstreams for the
//! resolver, and a property test of the request path. Every test is bounded
//! in packets and time, so it can run in CI beside the others.

use dnslab_authoritative::AuthOptions;
use dnslab_transport::ServerConfig;
use hickory_proto::op::{Message, ResponseCode};

use crate::common::{example_com_zone, section, ServedAuth};

/// Mutated real queries through the request path (proptest).
mod mutation;
mod packets;
/// A storm of malformed UDP packets at the authoritative server.
mod storm;
/// Abusive TCP clients against the authoritative server.
mod tcp;
/// Silent, lying and abusive upstream servers for the resolver.
mod upstreams;

/// The answer section zones/example.com.zone gives for www.example.com/A,
/// the valid query every hostile scenario keeps asking.
const WWW_A: [&str; 2] = [
    "www.example.com. 3600 A 192.0.2.10",
    "www.example.com. 3600 A 192.0.2.11",
];

/// Asserts that `reply` is the right answer to query `id` for
/// www.example.com/A: NOERROR, AA, not truncated, both addresses.
fn assert_www_a(id: u16, reply: &[u8]) {
    let msg = Message::from_vec(reply).expect("answer parses");
    assert_eq!(msg.metadata.id, id, "answer carries the query ID");
    assert_eq!(msg.metadata.response_code, ResponseCode::NoError);
    assert!(msg.metadata.authoritative, "AA on an authoritative answer");
    assert!(!msg.metadata.truncation, "a small answer is not truncated");
    assert_eq!(section(&msg.answers), WWW_A, "answer section");
}

/// The authoritative server on zones/example.com.zone, as `dnslab auth`
/// would serve it, with the test's transport limits.
fn start_example_auth(config: ServerConfig) -> ServedAuth {
    ServedAuth::with_config(vec![example_com_zone()], AuthOptions::default(), config)
}
