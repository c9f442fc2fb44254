//! A storm of malformed UDP packets at a running authoritative server,
//! interleaved with valid queries that must all still be answered right.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::assert_www_a;
use super::packets::{malformed, query, reply_rcode, Expect};
use super::start_example_auth;
use crate::common::loopback_config;

/// Rounds of the storm; each sends every kind of malformed packet once
/// (about 20) and then one valid query: a few thousand packets in all.
const ROUNDS: u16 = 150;
/// The whole storm must be over by then, even on a loaded machine.
const STORM_BUDGET: Duration = Duration::from_secs(60);

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
        assert!(
            self.answered.insert(id, 0).is_none(),
            "{kind}: answered twice"
        );
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

/// Thousands of malformed packets (truncated headers, counts larger than
/// the data, compression loops, long labels and names, zero or two
/// questions, two OPT records, responses, random bytes) do not stop the
/// server from answering valid queries correctly, each malformed packet
/// gets exactly what RFC 1035 / RFC 6891 say (FORMERR, NOTIMP, BADVERS or
/// silence), and no response is ever answered.
#[test]
fn malformed_udp_storm_leaves_valid_queries_answered() {
    let server = start_example_auth(loopback_config());
    let seed: u64 = rand::random();
    eprintln!("storm seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind client");
    let mut ledger = Ledger {
        sent: HashMap::new(),
        answered: HashMap::new(),
    };
    let mut next_id: u16 = 1;
    let started = Instant::now();

    for _ in 0..ROUNDS {
        for packet in malformed(0, "www.example.com", &mut rng) {
            let mut bytes = packet.bytes;
            if bytes.len() >= 2 {
                bytes[..2].copy_from_slice(&next_id.to_be_bytes());
                ledger.sent.insert(next_id, (packet.kind, packet.expect));
                next_id += 1;
            }
            socket.send_to(&bytes, server.addr).expect("send");
        }
        let valid_id = next_id;
        next_id += 1;
        ledger
            .sent
            .insert(valid_id, ("valid query", Expect::Rcode(0)));
        let reply = ask_valid(&socket, server.addr, valid_id, &mut ledger);
        assert_www_a(valid_id, &reply);
        assert!(
            started.elapsed() < STORM_BUDGET,
            "storm took over {STORM_BUDGET:?}"
        );
    }

    // Late replies to the last round, then the count: every packet that had
    // a header to answer and is not a response got its answer.
    drain(&socket, Duration::from_secs(2), &mut ledger);
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
fn ask_valid(socket: &UdpSocket, server: SocketAddr, id: u16, ledger: &mut Ledger) -> Vec<u8> {
    let bytes = query(id, "www.example.com");
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("set timeout");
    let mut buf = vec![0u8; 65535];
    for _ in 0..3 {
        socket.send_to(&bytes, server).expect("send");
        while let Ok((n, _)) = socket.recv_from(&mut buf) {
            if ledger.receive(&buf[..n]) == Some(id) {
                return buf[..n].to_vec();
            }
        }
    }
    panic!("valid query {id} not answered after three tries");
}

fn drain(socket: &UdpSocket, quiet: Duration, ledger: &mut Ledger) {
    socket.set_read_timeout(Some(quiet)).expect("set timeout");
    let mut buf = vec![0u8; 65535];
    while let Ok((n, _)) = socket.recv_from(&mut buf) {
        ledger.receive(&buf[..n]);
    }
}
