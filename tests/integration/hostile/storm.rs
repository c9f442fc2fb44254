//! A storm of malformed packets at a running authoritative server, over
//! UDP and over one TCP connection, interleaved with valid queries that
//! must all still be answered right.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::assert_www_a;
use super::packets::{malformed, query, reply_rcode, Expect};
use super::start_example_auth;
use crate::common::{loopback_config, tcp_recv, tcp_send, TIMEOUT};

/// Rounds of the storm; each sends every kind of malformed packet once
/// (about 20) and then one valid query: a few thousand packets in all.
const ROUNDS: u16 = 150;
/// The whole storm must be over by then, even on a loaded machine.
const STORM_BUDGET: Duration = Duration::from_secs(60);

/// The kind of the interleaved valid queries, which UDP may send twice.
const VALID: &str = "valid query";

/// What the storm saw, per packet ID.
struct Ledger {
    sent: HashMap<u16, (&'static str, Expect)>,
    answered: HashMap<u16, u16>,
}

impl Ledger {
    /// Checks one datagram from the server against what its ID was sent
    /// with; panics with the packet's kind when the server got it wrong.
    fn receive(&mut self, reply: &[u8]) -> Option<u16> {
        let id = u16::from_be_bytes([*reply.first()?, *reply.get(1)?]);
        let (kind, expect) = *self
            .sent
            .get(&id)
            .unwrap_or_else(|| panic!("reply with ID {id} that no packet carried"));
        let first = self.answered.insert(id, 0).is_none();
        assert!(first || kind == VALID, "{kind}: answered twice");
        match expect {
            Expect::Silence => panic!("{kind}: must not be answered, got {reply:02x?}"),
            Expect::Rcode(want) => {
                let got = reply_rcode(id, reply).unwrap_or_else(|e| panic!("{kind}: {e}"));
                assert_eq!(got, want, "{kind}: RCODE");
            }
            Expect::WellFormedIfAnswered => {
                reply_rcode(id, reply).unwrap_or_else(|e| panic!("{kind}: {e}"));
            }
        }
        Some(id)
    }
}

/// One way to reach the server: a UDP socket, or one TCP connection.
enum Wire {
    Udp(UdpSocket, SocketAddr),
    Tcp(TcpStream),
}

impl Wire {
    fn send(&mut self, bytes: &[u8]) {
        match self {
            Wire::Udp(socket, server) => {
                socket.send_to(bytes, *server).expect("send");
            }
            Wire::Tcp(stream) => tcp_send(stream, bytes),
        }
    }

    /// The next message from the server, or `None` after `wait`.
    fn recv(&mut self, wait: Duration) -> Option<Vec<u8>> {
        match self {
            Wire::Udp(socket, _) => {
                socket.set_read_timeout(Some(wait)).expect("set timeout");
                let mut buf = vec![0u8; 65535];
                let (n, _) = socket.recv_from(&mut buf).ok()?;
                buf.truncate(n);
                Some(buf)
            }
            Wire::Tcp(stream) => {
                stream.set_read_timeout(Some(wait)).expect("set timeout");
                tcp_recv(stream).ok()
            }
        }
    }
}

/// Sends `ROUNDS` rounds of every malformed packet followed by a valid
/// query, checking every reply as it comes and each valid answer in full;
/// then checks that every packet owed an answer got one.
fn storm(wire: &mut Wire) {
    let seed: u64 = rand::random();
    eprintln!("storm seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut ledger = Ledger {
        sent: HashMap::new(),
        answered: HashMap::new(),
    };
    let mut next_id: u16 = 1;
    let started = Instant::now();

    for _ in 0..ROUNDS {
        for packet in malformed(0, "www.example.com", &mut rng) {
            let mut bytes = packet.bytes;
            // A zero-length TCP message is a framing error that closes the
            // connection (transport/tests pins that); UDP gets it.
            if bytes.is_empty() && matches!(wire, Wire::Tcp(_)) {
                continue;
            }
            if bytes.len() >= 2 {
                bytes[..2].copy_from_slice(&next_id.to_be_bytes());
                ledger.sent.insert(next_id, (packet.kind, packet.expect));
                next_id += 1;
            }
            wire.send(&bytes);
        }
        let valid_id = next_id;
        next_id += 1;
        ledger.sent.insert(valid_id, (VALID, Expect::Rcode(0)));
        let reply = ask_valid(wire, valid_id, &mut ledger);
        assert_www_a(valid_id, &reply);
        assert!(
            started.elapsed() < STORM_BUDGET,
            "storm took over {STORM_BUDGET:?}"
        );
    }

    // Late replies to the last round, then the count: every packet that had
    // a header to answer and is not a response got its answer.
    while let Some(reply) = wire.recv(Duration::from_secs(2)) {
        ledger.receive(&reply);
    }
    let unanswered: Vec<&str> = ledger
        .sent
        .iter()
        .filter(|(id, (_, expect))| {
            matches!(expect, Expect::Rcode(_)) && !ledger.answered.contains_key(id)
        })
        .map(|(_, (kind, _))| *kind)
        .collect();
    assert!(unanswered.is_empty(), "no answer to: {unanswered:?}");
}

/// Sends the valid query `id` for www.example.com/A until its answer comes
/// (UDP may drop under load: up to three tries), checking every other reply
/// that arrives meanwhile.
fn ask_valid(wire: &mut Wire, id: u16, ledger: &mut Ledger) -> Vec<u8> {
    let bytes = query(id, "www.example.com");
    for _ in 0..3 {
        wire.send(&bytes);
        while let Some(reply) = wire.recv(Duration::from_secs(2)) {
            if ledger.receive(&reply) == Some(id) {
                return reply;
            }
        }
    }
    panic!("valid query {id} not answered after three tries");
}

/// Thousands of malformed UDP packets (truncated headers, counts larger
/// than the data, compression loops, long labels and names, zero or two
/// questions, two OPT records, responses, random bytes) do not stop the
/// server from answering valid queries correctly, each malformed packet
/// gets exactly what RFC 1035 / RFC 6891 say (FORMERR, NOTIMP, BADVERS or
/// silence), and no response is ever answered.
#[test]
fn malformed_udp_storm_leaves_valid_queries_answered() {
    let server = start_example_auth(loopback_config());
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind client");
    storm(&mut Wire::Udp(socket, server.addr));
}

/// The same storm as whole messages on one TCP connection: the connection
/// survives every malformed message, each gets the same answer as over UDP,
/// and the valid queries between them are answered right.
#[test]
fn malformed_tcp_messages_leave_the_connection_serving() {
    let server = start_example_auth(loopback_config());
    let stream = TcpStream::connect_timeout(&server.addr, TIMEOUT).expect("tcp connect");
    storm(&mut Wire::Tcp(stream));
}
