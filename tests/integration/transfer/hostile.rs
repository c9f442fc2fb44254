//! A hostile primary: dnslab, its secondary, must never serve what a
//! primary did not fully and correctly send, and one bad primary must not
//! hold up the other zones.
//!
//! The fake primary answers SOA queries over UDP with a serial that says
//! "transfer", and transfer requests over TCP as told: well at first, so
//! that the secondary has a good copy, then badly.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dnslab_authoritative::TransferLimits;
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, NS, SOA};
use hickory_proto::rr::{RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};

use super::{apex, bound, config, primary, secondary, served_serial, wait_for_serial};
use crate::common::{name, udp, udp_message, Ask, ScratchDir, ServedAuth, TIMEOUT};

const ZONE: &str = "hostile.test.";

/// How the fake primary answers a transfer request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    /// The zone at the current serial, whole: SOA, NS, ns A, www A, SOA.
    Good,
    /// Bytes that are no DNS message.
    Garbage,
    /// The zone without its closing SOA, then the connection closed.
    Truncated,
    /// The SOA, then records forever, a message every 10 ms.
    Endless,
    /// A record of another zone among the zone's.
    OutOfZone,
    /// A closing SOA with another serial than the opening one.
    TwoSoas,
    /// A CNAME beside other data: the zone checks refuse it.
    FailsChecks,
}

/// A primary that misbehaves on demand; stopped when dropped.
struct FakePrimary {
    addr: SocketAddr,
    serial: Arc<AtomicU32>,
    behaviour: Arc<Mutex<Behaviour>>,
    /// Transfer requests received.
    transfers: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

fn soa(serial: u32) -> Record {
    Record::from_rdata(
        name(ZONE),
        300,
        RData::SOA(SOA::new(
            name("ns.hostile.test."),
            name("admin.hostile.test."),
            serial,
            3600,
            600,
            86400,
            300,
        )),
    )
}

fn a(owner: &str) -> Record {
    Record::from_rdata(name(owner), 300, RData::A(A::new(192, 0, 2, 7)))
}

/// The zone's records between its SOAs.
fn body(serial: u32) -> Vec<Record> {
    vec![
        Record::from_rdata(name(ZONE), 300, RData::NS(NS(name("ns.hostile.test.")))),
        a("ns.hostile.test."),
        a(&format!("www{serial}.hostile.test.")),
    ]
}

fn reply_to(query: &Message, answers: Vec<Record>) -> Message {
    let mut msg = Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
    msg.metadata.authoritative = true;
    msg.add_queries(query.queries.clone());
    msg.add_answers(answers);
    msg
}

fn send(stream: &mut TcpStream, msg: &Message) -> std::io::Result<()> {
    send_bytes(stream, &msg.to_bytes().expect("encode"))
}

fn send_bytes(stream: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(bytes);
    stream.write_all(&framed)
}

/// A UDP socket and a TCP listener on the same loopback port. The port the
/// kernel picks for UDP may be taken for TCP by another test running at the
/// same time, so a few ports are tried.
fn udp_and_tcp_on_one_port() -> (UdpSocket, TcpListener) {
    for _ in 0..16 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        if let Ok(tcp) = TcpListener::bind(udp.local_addr().expect("addr")) {
            return (udp, tcp);
        }
    }
    panic!("no loopback port free for both UDP and TCP after 16 tries");
}

impl FakePrimary {
    fn start() -> FakePrimary {
        let (udp, tcp) = udp_and_tcp_on_one_port();
        let addr = udp.local_addr().expect("addr");
        udp.set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        tcp.set_nonblocking(true).expect("nonblocking");
        let serial = Arc::new(AtomicU32::new(10));
        let behaviour = Arc::new(Mutex::new(Behaviour::Good));
        let transfers = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let udp_thread = {
            let (serial, stop) = (Arc::clone(&serial), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while !stop.load(Ordering::Acquire) {
                    let Ok((len, peer)) = udp.recv_from(&mut buf) else {
                        continue;
                    };
                    let Ok(query) = Message::from_bytes(&buf[..len]) else {
                        continue;
                    };
                    let reply = reply_to(&query, vec![soa(serial.load(Ordering::Acquire))]);
                    let _ = udp.send_to(&reply.to_bytes().expect("encode"), peer);
                }
            })
        };
        let tcp_thread = {
            let (serial, behaviour, transfers, stop) = (
                Arc::clone(&serial),
                Arc::clone(&behaviour),
                Arc::clone(&transfers),
                Arc::clone(&stop),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    let Ok((mut stream, _)) = tcp.accept() else {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    };
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.set_read_timeout(Some(TIMEOUT));
                    let mut len = [0u8; 2];
                    if stream.read_exact(&mut len).is_err() {
                        continue;
                    }
                    let mut request = vec![0u8; usize::from(u16::from_be_bytes(len))];
                    if stream.read_exact(&mut request).is_err() {
                        continue;
                    }
                    let Ok(query) = Message::from_bytes(&request) else {
                        continue;
                    };
                    transfers.fetch_add(1, Ordering::AcqRel);
                    let serial = serial.load(Ordering::Acquire);
                    let behaviour = *behaviour.lock().expect("lock");
                    let _ = answer(&mut stream, &query, serial, behaviour, &stop);
                }
            })
        };
        FakePrimary {
            addr,
            serial,
            behaviour,
            transfers,
            stop,
            threads: vec![udp_thread, tcp_thread],
        }
    }

    /// From now on: `serial` in SOA answers, transfers answered as `how`.
    fn turn(&self, serial: u32, how: Behaviour) {
        *self.behaviour.lock().expect("lock") = how;
        self.serial.store(serial, Ordering::Release);
    }
}

/// Answers one transfer request as `how` says.
fn answer(
    stream: &mut TcpStream,
    query: &Message,
    serial: u32,
    how: Behaviour,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let mut whole = vec![soa(serial)];
    whole.extend(body(serial));
    match how {
        Behaviour::Good => {
            whole.push(soa(serial));
            send(stream, &reply_to(query, whole))
        }
        Behaviour::Garbage => send_bytes(stream, b"\x13\x37 this is not a DNS message at all"),
        Behaviour::Truncated => send(stream, &reply_to(query, whole)),
        Behaviour::Endless => {
            send(stream, &reply_to(query, whole))?;
            let started = Instant::now();
            let mut n = 0u32;
            // Bounded by the test's own patience, in case the secondary
            // never gives up (the test then fails on its own assertion).
            while !stop.load(Ordering::Acquire) && started.elapsed() < Duration::from_secs(30) {
                n += 1;
                send(
                    stream,
                    &reply_to(query, vec![a(&format!("more{n}.hostile.test."))]),
                )?;
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(())
        }
        Behaviour::OutOfZone => {
            whole.push(a("www.elsewhere.test."));
            whole.push(soa(serial));
            send(stream, &reply_to(query, whole))
        }
        Behaviour::TwoSoas => {
            whole.push(soa(serial + 1));
            send(stream, &reply_to(query, whole))
        }
        Behaviour::FailsChecks => {
            whole.push(Record::from_rdata(
                name(&format!("www{serial}.hostile.test.")),
                300,
                RData::CNAME(hickory_proto::rr::rdata::CNAME(name("elsewhere.test."))),
            ));
            whole.push(soa(serial));
            send(stream, &reply_to(query, whole))
        }
    }
}

impl Drop for FakePrimary {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Tells the secondary at `to` that `ZONE` changed, from 127.0.0.1 (the
/// primary's address).
fn notify(to: SocketAddr) {
    let mut msg = Message::new(rand::random(), MessageType::Query, OpCode::Notify);
    msg.metadata.authoritative = true;
    msg.add_query(Query::query(name(ZONE), RecordType::SOA));
    let reply = udp_message(to, &msg, TIMEOUT).expect("NOTIFY answered");
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
}

/// Waits until the fake primary has received `count` transfer requests.
fn wait_for_transfers(fake: &FakePrimary, count: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if fake.transfers.load(Ordering::Acquire) >= count {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The story: a secondary holds a good copy of hostile.test (serial 10)
/// when its primary turns hostile and announces serial 11. Whatever the
/// primary sends — garbage, a stream cut before its closing SOA, a record
/// of another zone, a closing SOA that is not the opening one, a zone the
/// checks refuse — the secondary keeps serving serial 10, every name of
/// it, and takes serial 12 once the primary is good again.
#[test]
fn a_hostile_primary_never_replaces_a_good_zone() {
    let data = ScratchDir::new("hostile-primary");
    let fake = FakePrimary::start();
    let (server, _) = bound();
    let copy = ServedAuth::with_tasks(
        config(vec![secondary(ZONE, &[fake.addr])], &data.join("secondary")),
        server,
    );
    assert!(
        wait_for_serial(copy.addr, ZONE, 10, Duration::from_secs(10)),
        "the good first copy"
    );
    let mut expected = fake.transfers.load(Ordering::Acquire);
    for how in [
        Behaviour::Garbage,
        Behaviour::Truncated,
        Behaviour::OutOfZone,
        Behaviour::TwoSoas,
        Behaviour::FailsChecks,
    ] {
        fake.turn(11, how);
        notify(copy.addr);
        // At least one attempt (IXFR, then AXFR after a refusal).
        expected += 1;
        assert!(
            wait_for_transfers(&fake, expected),
            "{how:?}: the secondary tried"
        );
        std::thread::sleep(Duration::from_millis(300));
        expected = fake.transfers.load(Ordering::Acquire);
        assert_eq!(
            served_serial(copy.addr, ZONE),
            Some(10),
            "{how:?} did not replace the zone"
        );
        let www = udp(copy.addr, &Ask::new("www10.hostile.test.", RecordType::A));
        assert_eq!(
            www.answers.len(),
            1,
            "{how:?}: the good zone's names are served"
        );
    }
    fake.turn(12, Behaviour::Good);
    notify(copy.addr);
    assert!(
        wait_for_serial(copy.addr, ZONE, 12, Duration::from_secs(10)),
        "good again"
    );
}

/// A primary whose transfer never ends is cut off at the transfer time
/// limit, and meanwhile the secondary's other zone, from a good primary,
/// still follows its NOTIFY: one bad primary holds up nothing else.
#[test]
fn an_endless_transfer_is_cut_off_and_blocks_no_other_zone() {
    let data = ScratchDir::new("hostile-endless");
    let fake = FakePrimary::start();
    let good_file = data.join("good.test.zone");
    std::fs::write(&good_file, apex("good.test.", 1)).expect("write zone");
    let (good_server, good_addr) = bound();
    let (copy_server, copy_addr) = bound();
    let mut good_zone = primary(&good_file, "good.test.", &["127.0.0.1"]);
    good_zone.notify = vec![dnslab_authoritative::Remote {
        addr: copy_addr,
        key: None,
    }];
    let good = ServedAuth::with_tasks(config(vec![good_zone], &data.join("good")), good_server);
    let mut copy_config = config(
        vec![
            secondary(ZONE, &[fake.addr]),
            secondary("good.test.", &[good_addr]),
        ],
        &data.join("secondary"),
    );
    copy_config.limits = TransferLimits {
        transfer_in_timeout: Duration::from_secs(3),
        ..TransferLimits::default()
    };
    let copy = ServedAuth::with_tasks(copy_config, copy_server);
    assert!(wait_for_serial(
        copy.addr,
        ZONE,
        10,
        Duration::from_secs(10)
    ));
    assert!(wait_for_serial(
        copy.addr,
        "good.test.",
        1,
        Duration::from_secs(10)
    ));

    fake.turn(11, Behaviour::Endless);
    let before = fake.transfers.load(Ordering::Acquire);
    notify(copy.addr);
    assert!(
        wait_for_transfers(&fake, before + 1),
        "the endless transfer began"
    );
    std::fs::write(&good_file, apex("good.test.", 2)).expect("write zone");
    good.auth.reload().expect("reload");
    assert!(
        wait_for_serial(copy.addr, "good.test.", 2, Duration::from_secs(10)),
        "the other zone followed meanwhile"
    );
    assert_eq!(
        served_serial(copy.addr, ZONE),
        Some(10),
        "the endless stream replaced nothing"
    );
    // Cut off after 3 s: the secondary retries (RETRY 600 s, so only a
    // NOTIFY makes it try again at once), with a good primary this time.
    std::thread::sleep(Duration::from_secs(4));
    fake.turn(12, Behaviour::Good);
    notify(copy.addr);
    assert!(
        wait_for_serial(copy.addr, ZONE, 12, Duration::from_secs(10)),
        "free again after the cut"
    );
}
