//! Real queries, mutated, through the authoritative request path directly
//! (`Handler::handle`, no sockets): the bounded, in-CI cousin of the
//! `auth_request` fuzz target.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use dnslab_authoritative::{AuthOptions, AuthServer};
use dnslab_transport::{Handler, Protocol, Reply, RequestMeta};
use hickory_proto::op::{Message, MessageType};
use hickory_proto::rr::RecordType;
use proptest::prelude::*;

use crate::common::{example_com_zone, Ask};

/// The signed zones of the interop tests: NSEC, NSEC3, NSEC3 opt-out.
const SIGNED_ZONES: [&str; 3] = ["signed.test", "nsec3.test", "optout.test"];

/// The handler of the example zone and the signed zones, loaded once for
/// every case.
fn handler() -> &'static Arc<dyn Handler> {
    static HANDLER: OnceLock<Arc<dyn Handler>> = OnceLock::new();
    HANDLER.get_or_init(|| {
        let mut zones = vec![example_com_zone()];
        for origin in SIGNED_ZONES {
            let path = crate::common::repo_path(&format!("tests/data/interop/{origin}.zone"));
            zones.push(
                format!("{origin}={}", path.display())
                    .parse()
                    .expect("zone argument"),
            );
        }
        AuthServer::load(zones, AuthOptions::default())
            .expect("the zones load")
            .handler()
    })
}

/// How many queries [`seeds`] gives.
const SEEDS: usize = 13;

/// Queries as clients send them: names that hit every answer kind of the
/// example zone, with and without EDNS, over the types that matter; and
/// with DO, the signed zones' proofs (NXDOMAIN, wildcard, referral).
fn seeds() -> Vec<Vec<u8>> {
    let asks = [
        Ask::new("www.example.com.", RecordType::A),
        Ask::new("example.com.", RecordType::SOA).edns(1232),
        Ask::new("alias.example.com.", RecordType::AAAA).rd(),
        Ask::new("x.sub.example.com.", RecordType::A).edns(4096),
        Ask::new("a.wild.example.com.", RecordType::TXT),
        Ask::new("nosuch.example.com.", RecordType::MX).edns(512),
        Ask::new("big.example.com.", RecordType::TXT).edns(1232),
        Ask::new("x.legacy.example.com.", RecordType::A),
        Ask::new("example.org.", RecordType::A),
        Ask::new("www.signed.test.", RecordType::A)
            .edns(512)
            .dnssec(),
        Ask::new("nope.nsec3.test.", RecordType::A)
            .edns(1232)
            .dnssec(),
        Ask::new("x.wild.signed.test.", RecordType::TXT)
            .edns(1232)
            .dnssec(),
        Ask::new("host.insecure.optout.test.", RecordType::A)
            .edns(1232)
            .dnssec(),
    ];
    assert_eq!(asks.len(), SEEDS, "every seed is drawn");
    asks.iter()
        .map(|ask| ask.to_message().to_vec().expect("encode seed"))
        .collect()
}

/// One change to a message's octets.
#[derive(Clone, Debug)]
enum Mutation {
    Flip {
        at: usize,
        bit: u8,
    },
    Set {
        at: usize,
        value: u8,
    },
    Insert {
        at: usize,
        value: u8,
    },
    Remove {
        at: usize,
    },
    Truncate {
        at: usize,
    },
    /// Copies a run of octets elsewhere: duplicated labels, records, OPTs.
    Splice {
        from: usize,
        len: usize,
        to: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Mutation::Set { at, value }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Mutation::Insert { at, value }),
        any::<usize>().prop_map(|at| Mutation::Remove { at }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), 1usize..32, any::<usize>()).prop_map(|(from, len, to)| Mutation::Splice {
            from,
            len,
            to
        }),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len().max(1);
    match *mutation {
        Mutation::Flip { at, bit } => {
            if let Some(b) = bytes.get_mut(at % len) {
                *b ^= 1 << bit;
            }
        }
        Mutation::Set { at, value } => {
            if let Some(b) = bytes.get_mut(at % len) {
                *b = value;
            }
        }
        Mutation::Insert { at, value } => bytes.insert(at % (bytes.len() + 1), value),
        Mutation::Remove { at } => {
            if !bytes.is_empty() {
                bytes.remove(at % len);
            }
        }
        Mutation::Truncate { at } => bytes.truncate(at % len),
        Mutation::Splice { from, len: run, to } => {
            let from = from % len;
            let run: Vec<u8> = bytes.iter().skip(from).take(run).copied().collect();
            let to = to % (bytes.len() + 1);
            bytes.splice(to..to, run);
        }
    }
}

/// What any answer must be, whatever was asked: the query's ID, QR=1,
/// parseable, and within the size the transport can carry (RFC 1035 4.2.1
/// for UDP without EDNS; the server's 1232 default with it).
fn check(
    request: &[u8],
    protocol: Protocol,
    reply: Reply,
    response: &[u8],
) -> Result<(), TestCaseError> {
    // A transfer's stream: its first message stands for the answer.
    let mut first = Vec::new();
    let response = match reply {
        Reply::Drop => return Ok(()),
        Reply::Deferred(_) => {
            return Err(TestCaseError::fail("the authoritative handler deferred"))
        }
        Reply::Send => response,
        Reply::Stream(mut stream) => {
            prop_assert_eq!(protocol, Protocol::Tcp, "a stream over UDP");
            prop_assert!(stream.next_message(&mut first), "an empty stream");
            &first[..]
        }
    };
    prop_assert!(request.len() >= 12, "answered a packet without a header");
    prop_assert_eq!(request[2] & 0x80, 0, "answered a response (QR=1)");
    let limit = match protocol {
        Protocol::Tcp => usize::from(u16::MAX),
        _ if Message::from_vec(request).is_ok_and(|q| q.edns.is_none()) => 512,
        _ => usize::from(AuthOptions::default().max_udp_payload.max(512)),
    };
    prop_assert!(
        response.len() <= limit,
        "{protocol} response of {} octets, limit {limit}",
        response.len()
    );
    let msg = Message::from_vec(response)
        .map_err(|e| TestCaseError::fail(format!("response does not parse: {e}")))?;
    prop_assert_eq!(
        msg.metadata.id,
        u16::from_be_bytes([request[0], request[1]])
    );
    prop_assert_eq!(msg.metadata.message_type, MessageType::Response);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// 2,000 real queries with one to eight random mutations each (DO
    /// queries to signed zones among them): the
    /// request path never panics, never answers a response or a headerless
    /// packet, and every answer is well formed and within its size limit.
    #[test]
    fn mutated_queries_get_well_formed_answers_or_none(
        seed in 0usize..SEEDS,
        mutations in proptest::collection::vec(mutation(), 1..8),
        tcp in any::<bool>(),
    ) {
        let mut request = seeds().swap_remove(seed);
        for m in &mutations {
            apply(&mut request, m);
        }
        let protocol = if tcp { Protocol::Tcp } else { Protocol::Udp };
        let meta = RequestMeta {
            peer: SocketAddr::from(([127, 0, 0, 1], 53535)),
            local: SocketAddr::from(([127, 0, 0, 1], 53)),
            protocol,
        };
        let mut response = Vec::new();
        let reply = handler().handle(&request, &meta, &mut response);
        check(&request, protocol, reply, &response)?;
    }
}
