//! A tiny authoritative server for the tests: UDP and TCP on one port of
//! 127.0.0.1, every request verified with the crate, every answer signed
//! with it. It answers any name: SOA queries with the SOA, AXFR (TCP) with
//! a zone of a few hundred A records at the apex spread over several
//! messages, other types NXDOMAIN with the SOA. Its clock can be skewed to provoke
//! BADTIME.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use dnslab_tsig::{error_response, unix_now, verify_request, KeyRing, ResponseSigner};

const TYPE_NS: u16 = 2;
const TYPE_SOA: u16 = 6;
const TYPE_AXFR: u16 = 252;
const RCODE_NXDOMAIN: u8 = 3;

/// How the server behaves.
#[derive(Clone)]
pub struct Behaviour {
    pub keys: KeyRing,
    /// Seconds added to the system clock: the server's clock skew.
    pub clock_skew: i64,
    /// Messages of an AXFR answer (SOA first, SOA last, A records between).
    pub axfr_messages: usize,
    /// Sign only every `sign_every`-th AXFR message (and the last), as
    /// RFC 8945 5.3.1 allows; 1 signs them all.
    pub sign_every: usize,
    /// Flips a bit of the MAC of this message of every answer: a forged
    /// response, for tests that show a client notices.
    pub tamper: Option<usize>,
}

impl Behaviour {
    pub fn new(keys: KeyRing) -> Behaviour {
        Behaviour {
            keys,
            clock_skew: 0,
            axfr_messages: 3,
            sign_every: 1,
            tamper: None,
        }
    }

    fn now(&self) -> u64 {
        unix_now().saturating_add_signed(self.clock_skew)
    }
}

/// The server, stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl TestServer {
    pub fn start(behaviour: Behaviour) -> TestServer {
        let (udp, tcp) = bind_pair();
        let addr = udp.local_addr().expect("udp address");
        let stop = Arc::new(AtomicBool::new(false));
        let behaviour = Arc::new(behaviour);
        let udp_thread = {
            let (stop, behaviour) = (Arc::clone(&stop), Arc::clone(&behaviour));
            std::thread::spawn(move || serve_udp(&udp, &behaviour, &stop))
        };
        let tcp_thread = {
            let (stop, behaviour) = (Arc::clone(&stop), Arc::clone(&behaviour));
            std::thread::spawn(move || serve_tcp(&tcp, &behaviour, &stop))
        };
        TestServer {
            addr,
            stop,
            threads: vec![udp_thread, tcp_thread],
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake both threads from their blocking calls.
        if let Ok(socket) = UdpSocket::bind("127.0.0.1:0") {
            let _ = socket.send_to(&[], self.addr);
        }
        let _ = TcpStream::connect(self.addr);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A UDP socket and a TCP listener on the same port of 127.0.0.1.
pub fn bind_pair() -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = udp.local_addr().expect("udp address").port();
        if let Ok(tcp) = TcpListener::bind(("127.0.0.1", port)) {
            return (udp, tcp);
        }
    }
    panic!("no port free for both UDP and TCP");
}

fn serve_udp(socket: &UdpSocket, behaviour: &Behaviour, stop: &AtomicBool) {
    let mut buf = [0u8; 65535];
    while let Ok((len, peer)) = socket.recv_from(&mut buf) {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        if let Some(reply) = respond(&buf[..len], behaviour).into_iter().next() {
            let _ = socket.send_to(&reply, peer);
        }
    }
}

fn serve_tcp(listener: &TcpListener, behaviour: &Behaviour, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        if let Ok(stream) = stream {
            let _ = serve_connection(stream, behaviour);
        }
    }
}

fn serve_connection(mut stream: TcpStream, behaviour: &Behaviour) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    loop {
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).is_err() {
            return Ok(());
        }
        let mut request = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut request)?;
        for reply in respond(&request, behaviour) {
            let len = u16::try_from(reply.len()).expect("reply fits TCP framing");
            stream.write_all(&len.to_be_bytes())?;
            stream.write_all(&reply)?;
        }
    }
}

/// The messages answering `request`: verified, answered, signed.
pub fn respond(request: &[u8], behaviour: &Behaviour) -> Vec<Vec<u8>> {
    let now = behaviour.now();
    let verified = match verify_request(request, &behaviour.keys, now) {
        Ok(verified) => verified,
        Err(error) => return vec![error_response(request, &error, now)],
    };
    let Some((question, qtype)) = question(request) else {
        return Vec::new();
    };
    let mut signer = ResponseSigner::new(&verified);
    let mut messages = match qtype {
        TYPE_AXFR => axfr(request, question, behaviour.axfr_messages),
        TYPE_SOA => vec![message(request, question, 0, &[soa()], &[])],
        _ => vec![message(request, question, RCODE_NXDOMAIN, &[], &[soa()])],
    };
    let last = messages.len() - 1;
    for (index, msg) in messages.iter_mut().enumerate() {
        if index % behaviour.sign_every == 0 || index == last {
            signer.sign(msg, now).expect("sign response");
        } else {
            signer.leave_unsigned(msg).expect("leave unsigned");
        }
    }
    if let Some(msg) = behaviour.tamper.and_then(|index| messages.get_mut(index)) {
        // The MAC's last octet: Original ID, Error and Other Len (empty
        // Other Data) follow it.
        let at = msg.len() - 7;
        msg[at] ^= 1;
    }
    messages
}

/// The question's bytes and QTYPE (one question, name uncompressed).
fn question(request: &[u8]) -> Option<(&[u8], u16)> {
    let mut at = 12;
    loop {
        let len = usize::from(*request.get(at)?);
        at += 1 + len;
        if len == 0 {
            break;
        }
    }
    let qtype = u16::from_be_bytes([*request.get(at)?, *request.get(at + 1)?]);
    Some((request.get(12..at + 4)?, qtype))
}

/// A response with the request's ID, opcode and RD, AA set.
fn message(
    request: &[u8],
    question: &[u8],
    rcode: u8,
    answers: &[Vec<u8>],
    authority: &[Vec<u8>],
) -> Vec<u8> {
    let mut msg = request[..2].to_vec();
    msg.push(0x80 | 0x04 | (request[2] & 0x79));
    msg.push(rcode);
    for count in [1, answers.len(), authority.len(), 0] {
        msg.extend_from_slice(&(count as u16).to_be_bytes());
    }
    msg.extend_from_slice(question);
    for record in answers.iter().chain(authority) {
        msg.extend_from_slice(record);
    }
    msg
}

/// A record owned by the question's name (a pointer to offset 12).
fn record(rtype: u16, rdata: &[u8]) -> Vec<u8> {
    let mut rr = vec![0xC0, 12];
    rr.extend_from_slice(&rtype.to_be_bytes());
    rr.extend_from_slice(&1u16.to_be_bytes());
    rr.extend_from_slice(&3600u32.to_be_bytes());
    rr.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    rr.extend_from_slice(rdata);
    rr
}

fn soa() -> Vec<u8> {
    let mut rdata = b"\x03ns1\xC0\x0c\x0ahostmaster\xC0\x0c".to_vec();
    for value in [2024010101u32, 7200, 3600, 1209600, 300] {
        rdata.extend_from_slice(&value.to_be_bytes());
    }
    record(TYPE_SOA, &rdata)
}

/// A records in each AXFR message.
pub const AXFR_RECORDS_PER_MESSAGE: usize = 100;

/// Records in an AXFR of `messages` messages: the A records, the NS, and
/// the SOA twice.
pub fn axfr_records(messages: usize) -> usize {
    messages * AXFR_RECORDS_PER_MESSAGE + 3
}

/// SOA and NS, then `AXFR_RECORDS_PER_MESSAGE` A records per message,
/// SOA last: a zone Knot accepts as a secondary.
fn axfr(request: &[u8], question: &[u8], messages: usize) -> Vec<Vec<u8>> {
    let a = |n: usize| record(1, &[127, 0, (n / 256) as u8, (n % 256) as u8]);
    (0..messages)
        .map(|index| {
            let mut records: Vec<Vec<u8>> = (0..AXFR_RECORDS_PER_MESSAGE)
                .map(|n| a(index * AXFR_RECORDS_PER_MESSAGE + n))
                .collect();
            if index == 0 {
                records.splice(0..0, [soa(), record(TYPE_NS, b"\x03ns1\xC0\x0c")]);
            }
            if index + 1 == messages {
                records.push(soa());
            }
            message(request, question, 0, &records, &[])
        })
        .collect()
}
