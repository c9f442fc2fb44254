//! The authoritative request path: any octets in, through the same
//! `Handler::handle` the transport calls, for UDP and TCP.
//!
//! Asserts: never panics; a packet with no header (fewer than 12 octets) or
//! with QR=1 is never answered; an answer is a parseable DNS message with
//! the query's ID and QR=1, at most 65535 octets, and over UDP at most the
//! server's payload limit (512 when the query has no OPT record, RFC 1035
//! 4.2.1 / RFC 6891 6.2.5). The server never defers: it owns its answers.
#![no_main]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use dnslab_authoritative::{AuthOptions, AuthServer, ZoneSource};
use dnslab_transport::{Handler, Protocol, Reply, RequestMeta};
use hickory_proto::op::{Message, MessageType};
use libfuzzer_sys::fuzz_target;

/// The shipped example zone, loaded once per fuzzing process.
fn handler() -> &'static (Arc<dyn Handler>, u16) {
    static HANDLER: OnceLock<(Arc<dyn Handler>, u16)> = OnceLock::new();
    HANDLER.get_or_init(|| {
        let zone = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../zones/example.com.zone");
        let options = AuthOptions::default();
        let max_udp = options.max_udp_payload.max(512);
        let server = AuthServer::load(
            vec![ZoneSource {
                origin: None,
                path: zone,
            }],
            options,
        )
        .expect("zones/example.com.zone loads");
        (server.handler(), max_udp)
    })
}

fuzz_target!(|request: &[u8]| {
    let (handler, max_udp) = handler();
    for protocol in [Protocol::Udp, Protocol::Tcp] {
        let meta = RequestMeta {
            peer: SocketAddr::from(([127, 0, 0, 1], 53535)),
            local: SocketAddr::from(([127, 0, 0, 1], 53)),
            protocol,
        };
        let mut response = Vec::new();
        match handler.handle(request, &meta, &mut response) {
            Reply::Drop => {}
            Reply::Send => check(request, &response, protocol, *max_udp),
            Reply::Deferred(_) => panic!("the authoritative handler deferred"),
            // A zone transfer: its first message stands for the answer.
            Reply::Stream(mut stream) => {
                assert_eq!(protocol, Protocol::Tcp, "a stream over UDP");
                let mut first = Vec::new();
                assert!(stream.next_message(&mut first), "an empty stream");
                check(request, &first, protocol, *max_udp);
            }
        }
    }
});

fn check(request: &[u8], response: &[u8], protocol: Protocol, max_udp: u16) {
    assert!(request.len() >= 12, "answered a packet without a header");
    assert_eq!(request[2] & 0x80, 0, "answered a response (QR=1)");
    assert!(
        response.len() <= usize::from(u16::MAX),
        "response of {} octets",
        response.len()
    );
    if protocol == Protocol::Udp {
        // When hickory reads the query and finds no OPT, the classic limit.
        let no_edns = Message::from_vec(request).is_ok_and(|q| q.edns.is_none());
        let limit = if no_edns { 512 } else { usize::from(max_udp) };
        assert!(
            response.len() <= limit,
            "UDP response of {} octets, limit {limit}",
            response.len()
        );
    }
    let msg = Message::from_vec(response)
        .unwrap_or_else(|e| panic!("response does not parse: {e}\n{response:02x?}"));
    assert_eq!(
        msg.metadata.id,
        u16::from_be_bytes([request[0], request[1]]),
        "response ID"
    );
    assert_eq!(
        msg.metadata.message_type,
        MessageType::Response,
        "QR=1 on the response"
    );
}
