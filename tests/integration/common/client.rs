//! The client side of every test: queries as a test wants to send them,
//! one exchange over real UDP or TCP sockets, and sections rendered as
//! sorted lines so that they compare as sets.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};

/// How long a test waits for one answer before failing.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// A query as a test wants to send it.
#[derive(Clone, Debug)]
pub struct Ask {
    pub name: Name,
    pub qtype: RecordType,
    pub recursion_desired: bool,
    /// EDNS0 UDP payload size to advertise; `None` sends no OPT record.
    pub edns: Option<u16>,
    /// The DO bit (RFC 3225), with `edns`.
    pub dnssec_ok: bool,
}

impl Ask {
    /// `name` is taken as written, case included (see [`name`]), so that
    /// tests can ask in mixed case (RFC 4343, 0x20).
    pub fn new(name: &str, qtype: RecordType) -> Self {
        Ask {
            name: self::name(name),
            qtype,
            recursion_desired: false,
            edns: None,
            dnssec_ok: false,
        }
    }

    pub fn rd(mut self) -> Self {
        self.recursion_desired = true;
        self
    }

    pub fn edns(mut self, size: u16) -> Self {
        self.edns = Some(size);
        self
    }

    /// Sets DO: DNSSEC records wanted (needs [`Ask::edns`]).
    pub fn dnssec(mut self) -> Self {
        self.dnssec_ok = true;
        self
    }

    pub fn to_message(&self) -> Message {
        let mut msg = Message::new(rand::random(), MessageType::Query, OpCode::Query);
        msg.metadata.recursion_desired = self.recursion_desired;
        msg.add_query(Query::query(self.name.clone(), self.qtype));
        if let Some(size) = self.edns {
            let mut edns = Edns::new();
            edns.set_max_payload(size);
            edns.set_dnssec_ok(self.dnssec_ok);
            msg.edns = Some(edns);
        }
        msg
    }
}

/// Sends raw bytes over UDP and returns the raw reply, or `None` on timeout.
pub fn udp_raw(server: SocketAddr, bytes: &[u8], timeout: Duration) -> Option<Vec<u8>> {
    let source = match server {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
    };
    udp_raw_from(source, server, bytes, timeout)
}

/// [`udp_raw`] from the address `source` (any of 127.0.0.0/8 on
/// loopback): for servers that answer by who asks.
pub fn udp_raw_from(
    source: IpAddr,
    server: SocketAddr,
    bytes: &[u8],
    timeout: Duration,
) -> Option<Vec<u8>> {
    let socket = UdpSocket::bind(SocketAddr::new(source, 0)).expect("bind client socket");
    socket.set_read_timeout(Some(timeout)).expect("set timeout");
    socket.send_to(bytes, server).expect("send");
    let mut buf = vec![0u8; 65535];
    match socket.recv_from(&mut buf) {
        Ok((n, _)) => Some(buf[..n].to_vec()),
        Err(_) => None,
    }
}

/// Sends a (possibly hand-built) message over UDP and decodes the reply;
/// `None` on timeout. Panics on a reply that does not decode or whose ID
/// does not match.
pub fn udp_message(server: SocketAddr, query: &Message, timeout: Duration) -> Option<Message> {
    let reply = udp_raw(server, &query.to_bytes().expect("encode query"), timeout)?;
    let msg = Message::from_bytes(&reply).expect("decode reply");
    assert_eq!(msg.metadata.id, query.metadata.id, "reply ID matches");
    Some(msg)
}

/// Sends one query over UDP and decodes the reply; panics on timeout or on
/// a reply whose ID does not match.
pub fn udp(server: SocketAddr, ask: &Ask) -> Message {
    udp_message(server, &ask.to_message(), TIMEOUT)
        .unwrap_or_else(|| panic!("no UDP answer from {server} to {ask:?}"))
}

/// [`udp`] for a whole message, sent from the address `source`.
pub fn udp_from(source: IpAddr, server: SocketAddr, query: &Message) -> Message {
    let bytes = query.to_bytes().expect("encode query");
    let reply = udp_raw_from(source, server, &bytes, TIMEOUT)
        .unwrap_or_else(|| panic!("no UDP answer from {server} to {source}"));
    let msg = Message::from_bytes(&reply).expect("decode reply");
    assert_eq!(msg.metadata.id, query.metadata.id, "reply ID matches");
    msg
}

/// Checks the header every answer from a recursive resolver has: RA=1 (it
/// offers recursion), AA=0 (it is not the zone's server) and TC=0 (every
/// answer the tests ask for fits in UDP). `asked` names the question in
/// the failure message.
pub fn assert_recursive_header(msg: &Message, asked: &str) {
    assert!(msg.metadata.recursion_available, "RA=1 for {asked}");
    assert!(
        !msg.metadata.authoritative,
        "a resolver's answer is not AA for {asked}"
    );
    assert!(!msg.metadata.truncation, "TC=0 for {asked}");
}

/// Sends one length-prefixed message on an open TCP stream.
pub fn tcp_send(stream: &mut TcpStream, bytes: &[u8]) {
    let len = u16::try_from(bytes.len()).expect("message fits TCP frame");
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(bytes);
    stream.write_all(&framed).expect("tcp write");
}

/// Reads one length-prefixed message from an open TCP stream.
pub fn tcp_recv(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len)?;
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    stream.read_exact(&mut buf)?;
    Ok(buf)
}

/// Sends one query over a fresh TCP connection and decodes the reply.
pub fn tcp(server: SocketAddr, ask: &Ask) -> Message {
    let mut stream = TcpStream::connect_timeout(&server, TIMEOUT).expect("tcp connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("set timeout");
    let query = ask.to_message();
    tcp_send(&mut stream, &query.to_bytes().expect("encode query"));
    let reply = tcp_recv(&mut stream).expect("tcp reply");
    let msg = Message::from_bytes(&reply).expect("decode reply");
    assert_eq!(msg.metadata.id, query.metadata.id, "reply ID matches");
    msg
}

/// A record rendered as one normalised presentation line, so that sections
/// can be compared as sets of strings (order-insensitive, case-folded owner).
pub fn rr_line(record: &Record) -> String {
    format!(
        "{} {} {} {}",
        record.name.to_lowercase(),
        record.ttl,
        record.record_type(),
        record.data
    )
}

/// Every record of a section as sorted presentation lines.
pub fn section(records: &[Record]) -> Vec<String> {
    let mut lines: Vec<String> = records.iter().map(rr_line).collect();
    lines.sort();
    lines
}

/// A record as `owner TYPE data`, without its TTL: a resolver counts TTLs
/// down, so a cached answer differs from the first only there.
pub fn rr_line_without_ttl(record: &Record) -> String {
    format!(
        "{} {} {}",
        record.name.to_lowercase(),
        record.record_type(),
        record.data
    )
}

/// Every record of a section as sorted lines without TTLs (see
/// [`rr_line_without_ttl`]).
pub fn section_without_ttl(records: &[Record]) -> Vec<String> {
    let mut lines: Vec<String> = records.iter().map(rr_line_without_ttl).collect();
    lines.sort();
    lines
}

/// Expected records as sorted lines, the form [`section`] gives.
pub fn lines(records: &[&str]) -> Vec<String> {
    let mut lines: Vec<String> = records.iter().map(|r| r.to_string()).collect();
    lines.sort();
    lines
}

/// A domain name a test writes by hand, its case kept (`Name::from_str`
/// goes through IDNA, which lowercases).
pub fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("test name parses")
}
