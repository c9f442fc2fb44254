//! Not a test: the load generator of `bench/update.sh`. Sends signed
//! dynamic updates (RFC 2136, TSIG) to one server with N in flight, each
//! adding a name of its own, for a fixed time, and prints how many were
//! acknowledged (NOERROR) per second, with latency percentiles. The same
//! client for every server, so that the figures compare the servers.
//!
//! ```sh
//! cargo run --release --example update_load -- \
//!     127.0.0.30:53 bench.lab. hmac-sha256:bench:SECRET IN_FLIGHT SECONDS TAG
//! ```
//!
//! Each of the IN_FLIGHT clients is a thread with its own UDP socket that
//! sends one update, waits for its answer (2 s at most), then sends the
//! next: "one at a time" is IN_FLIGHT 1. An update adds
//! `TAG-<client>-<n>.ZONE 300 IN A 192.0.2.x` (TAG keeps runs apart). The
//! last line is machine-readable: `RESULT in_flight=... acked=...
//! rate=... p50_ms=... p99_ms=...`.

use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use dnslab_tsig::{sign_request, unix_now, Key};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};

/// What one client thread counted.
#[derive(Default)]
struct Tally {
    acked: u64,
    refused: u64,
    timeouts: u64,
    /// Latency of each acknowledged update.
    latencies: Vec<Duration>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [server, zone, key, in_flight, seconds, tag] = &args[..] else {
        eprintln!("usage: update_load ADDR:PORT ZONE ALG:NAME:SECRET IN_FLIGHT SECONDS TAG");
        return ExitCode::FAILURE;
    };
    let (Ok(server), Ok(zone), Ok(key), Ok(in_flight), Ok(seconds)) = (
        server.parse::<SocketAddr>(),
        Name::from_ascii(zone),
        Key::from_dig_spec(key),
        in_flight.parse::<usize>(),
        seconds.parse::<u64>(),
    ) else {
        eprintln!("update_load: bad arguments {args:?}");
        return ExitCode::FAILURE;
    };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let clients: Vec<_> = (0..in_flight)
        .map(|client| {
            let (zone, key, tag) = (zone.clone(), key.clone(), tag.clone());
            std::thread::spawn(move || run_client(server, &zone, &key, &tag, client, deadline))
        })
        .collect();
    let mut total = Tally::default();
    for client in clients {
        let Ok(tally) = client.join() else {
            eprintln!("update_load: a client thread failed");
            return ExitCode::FAILURE;
        };
        total.acked += tally.acked;
        total.refused += tally.refused;
        total.timeouts += tally.timeouts;
        total.latencies.extend(tally.latencies);
    }
    let elapsed = started.elapsed().as_secs_f64();
    total.latencies.sort();
    let percentile = |p: f64| {
        let at = ((total.latencies.len() as f64 - 1.0) * p).round() as usize;
        total
            .latencies
            .get(at)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "RESULT in_flight={in_flight} acked={} refused={} timeouts={} seconds={elapsed:.2} rate={:.0} p50_ms={:.3} p99_ms={:.3}",
        total.acked,
        total.refused,
        total.timeouts,
        total.acked as f64 / elapsed,
        percentile(0.5),
        percentile(0.99)
    );
    ExitCode::SUCCESS
}

/// One client: update after update until `deadline`.
fn run_client(
    server: SocketAddr,
    zone: &Name,
    key: &Key,
    tag: &str,
    client: usize,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let Ok(socket) = UdpSocket::bind("127.0.0.1:0") else {
        return tally;
    };
    if socket.connect(server).is_err()
        || socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .is_err()
    {
        return tally;
    }
    let mut buf = vec![0; 4096];
    for n in 0u64.. {
        if Instant::now() >= deadline {
            break;
        }
        let Ok(owner) = Name::from_ascii(format!("{tag}-{client}-{n}")) else {
            break;
        };
        let Ok(owner) = owner.append_domain(zone) else {
            break;
        };
        let mut message = Message::new(rand::random(), MessageType::Query, OpCode::Update);
        message.add_query(Query::query(zone.clone(), RecordType::SOA));
        let data = RData::A(A::new(192, 0, 2, (n % 250) as u8));
        message.authorities = vec![Record::from_rdata(owner, 300, data)];
        let Ok(mut bytes) = message.to_bytes() else {
            break;
        };
        if sign_request(&mut bytes, key, unix_now()).is_err() {
            break;
        }
        let sent = Instant::now();
        if socket.send(&bytes).is_err() {
            tally.timeouts += 1;
            continue;
        }
        // Skip stray answers (a late one to a timed-out update).
        let answer = loop {
            match socket.recv(&mut buf) {
                Ok(len) => match Message::from_bytes(&buf[..len]) {
                    Ok(reply) if reply.metadata.id == message.metadata.id => break Some(reply),
                    _ => continue,
                },
                Err(_) => break None,
            }
        };
        match answer {
            Some(reply) if reply.metadata.response_code == ResponseCode::NoError => {
                tally.acked += 1;
                tally.latencies.push(sent.elapsed());
            }
            Some(_) => tally.refused += 1,
            None => tally.timeouts += 1,
        }
    }
    tally
}
