//! Malformed DNS packets built octet by octet, each with what a correct
//! server does with it. Built by hand rather than with hickory-proto,
//! because an encoder refuses to write exactly the packets we need.

use rand::rngs::StdRng;
use rand::{Rng, RngCore};

/// QR, the first bit of the flags (RFC 1035 4.1.1).
const QR: u16 = 0x8000;
/// RD, so that the valid skeleton looks like what a stub sends.
const RD: u16 = 0x0100;
const TYPE_A: u16 = 1;
const TYPE_OPT: u16 = 41;
const CLASS_IN: u16 = 1;

/// What a server must do with one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// No reply at all: a response (QR=1) or fewer than 12 octets, where
    /// there is no header to answer (RFC 1035 4.1.1; answering responses
    /// invites reflection loops between servers).
    Silence,
    /// A reply with this RCODE (extended RCODEs included), same ID, QR=1.
    Rcode(u16),
    /// Anything, but a reply must be a parseable message with the same ID
    /// and QR=1 (random bytes can be anything, even a valid query).
    WellFormedIfAnswered,
}

pub const FORMERR: u16 = 1;
pub const NOTIMP: u16 = 4;
/// RFC 6891 6.1.3: an unsupported EDNS version.
pub const BADVERS: u16 = 16;

/// One hostile packet: what it is, its octets, what a server must do.
#[derive(Clone, Debug)]
pub struct Packet {
    pub kind: &'static str,
    pub bytes: Vec<u8>,
    pub expect: Expect,
}

/// A 12-octet header (RFC 1035 4.1.1).
pub fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    for count in counts {
        out.extend_from_slice(&count.to_be_bytes());
    }
    out
}

/// A name in wire form, uncompressed, from dotted text (no escapes).
pub fn wire_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

/// A question entry: name, QTYPE, QCLASS (RFC 1035 4.1.2).
pub fn question(name: &[u8], qtype: u16) -> Vec<u8> {
    let mut out = name.to_vec();
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    out
}

/// An OPT pseudo-record (RFC 6891 6.1.2) with no options.
pub fn opt(payload: u16, version: u8) -> Vec<u8> {
    let mut out = vec![0];
    out.extend_from_slice(&TYPE_OPT.to_be_bytes());
    out.extend_from_slice(&payload.to_be_bytes());
    out.extend_from_slice(&[0, version, 0, 0]);
    out.extend_from_slice(&0u16.to_be_bytes());
    out
}

/// A well-formed query for `name`/A, the skeleton the mutations start from.
pub fn query(id: u16, name: &str) -> Vec<u8> {
    let mut out = header(id, RD, [1, 0, 0, 0]);
    out.extend(question(&wire_name(name), TYPE_A));
    out
}

/// A query whose question name is given in raw wire octets.
fn query_with_raw_name(id: u16, name: &[u8]) -> Vec<u8> {
    let mut out = header(id, 0, [1, 0, 0, 0]);
    out.extend(question(name, TYPE_A));
    out
}

fn formerr(kind: &'static str, bytes: Vec<u8>) -> Packet {
    Packet {
        kind,
        bytes,
        expect: Expect::Rcode(FORMERR),
    }
}

/// Octets of unknown meaning after a header: QR=1 must get silence,
/// anything else may get any well-formed answer.
fn anything_unless_response(kind: &'static str, bytes: Vec<u8>) -> Packet {
    let expect = match bytes.get(2) {
        Some(flags) if flags & 0x80 == 0 => Expect::WellFormedIfAnswered,
        _ => Expect::Silence,
    };
    Packet {
        kind,
        bytes,
        expect,
    }
}

/// Every kind of malformation the storm sends, for the packet `id` about
/// `name` (a name the server is authoritative for). The list is the
/// contract: each entry names the rule it breaks.
pub fn malformed(id: u16, name: &str, rng: &mut StdRng) -> Vec<Packet> {
    let valid = query(id, name);
    let mut packets = Vec::new();

    // Fewer than 12 octets: no header, nothing to answer.
    let cut = rng.random_range(0..12);
    packets.push(Packet {
        kind: "truncated header",
        bytes: valid[..cut].to_vec(),
        expect: Expect::Silence,
    });

    // A header, then a question cut short.
    let cut = rng.random_range(13..valid.len());
    packets.push(formerr("truncated question", valid[..cut].to_vec()));

    // Counts larger than the data: one more question, or records that are
    // not there (RFC 1035 4.1.1 counts are promises about what follows).
    let mut more_questions = valid.clone();
    more_questions[5] = 2;
    packets.push(formerr("QDCOUNT larger than data", more_questions));
    let mut more_records = valid.clone();
    more_records[6] = rng.random_range(1..=255);
    more_records[11] = rng.random_range(1..=255);
    packets.push(formerr("ANCOUNT/ARCOUNT larger than data", more_records));

    // Compression pointers (RFC 1035 4.1.4) that loop: to themselves, and
    // through a label back to the start of the name.
    packets.push(formerr(
        "pointer to itself",
        query_with_raw_name(id, &[0xC0, 12]),
    ));
    packets.push(formerr(
        "pointer loop through a label",
        query_with_raw_name(id, &[1, b'a', 0xC0, 12]),
    ));
    packets.push(formerr(
        "pointer past the end",
        query_with_raw_name(id, &[1, b'a', 0xC0, 0xFF]),
    ));

    // Labels are at most 63 octets; 0x40-0xBF are not lengths (RFC 1035
    // 2.3.4, RFC 6891 5): a 64-octet "label".
    let mut long_label = vec![64];
    long_label.extend(std::iter::repeat_n(b'a', 64));
    long_label.push(0);
    packets.push(formerr(
        "label longer than 63",
        query_with_raw_name(id, &long_label),
    ));

    // Names are at most 255 octets on the wire (RFC 1035 2.3.4): 5 x 63.
    let long_name = format!("{0}.{0}.{0}.{0}.{0}.{name}", "a".repeat(63));
    packets.push(formerr(
        "name longer than 255",
        query_with_raw_name(id, &wire_name(&long_name)),
    ));

    // Exactly one question (RFC 9619 for QDCOUNT > 1; none is no query).
    packets.push(formerr("zero questions", header(id, RD, [0, 0, 0, 0])));
    let mut two = header(id, RD, [2, 0, 0, 0]);
    two.extend(question(&wire_name(name), TYPE_A));
    two.extend(question(&wire_name(name), TYPE_A));
    packets.push(formerr("two questions", two));

    // RFC 6891 6.1.1: more than one OPT record is a FORMERR.
    let mut two_opts = header(id, RD, [1, 0, 0, 2]);
    two_opts.extend(question(&wire_name(name), TYPE_A));
    two_opts.extend(opt(1232, 0));
    two_opts.extend(opt(4096, 0));
    packets.push(formerr("two OPT records", two_opts));

    // RFC 6891 6.1.3: an EDNS version we do not implement gets BADVERS.
    let mut edns1 = header(id, RD, [1, 0, 0, 1]);
    edns1.extend(question(&wire_name(name), TYPE_A));
    edns1.extend(opt(1232, 1));
    packets.push(Packet {
        kind: "EDNS version 1",
        bytes: edns1,
        expect: Expect::Rcode(BADVERS),
    });

    // Opcodes other than QUERY are not implemented (RFC 1035 4.1.1):
    // STATUS (2) and an unassigned one (3).
    for op in [2u16, 3] {
        let mut other = valid.clone();
        other[2] |= (op << 3) as u8;
        packets.push(Packet {
            kind: "opcode not QUERY",
            bytes: other,
            expect: Expect::Rcode(NOTIMP),
        });
    }

    // A response must never be answered, even a well-formed one.
    let mut response = valid.clone();
    response[2] |= (QR >> 8) as u8;
    packets.push(Packet {
        kind: "QR=1",
        bytes: response,
        expect: Expect::Silence,
    });

    // Random octets under our ID; QR decides whether a reply is allowed.
    let len = rng.random_range(12..600);
    let mut noise = vec![0u8; len];
    rng.fill_bytes(&mut noise);
    noise[..2].copy_from_slice(&id.to_be_bytes());
    packets.push(anything_unless_response("random bytes", noise));

    // A valid query with one random octet flipped after the ID.
    let mut flipped = valid;
    let at = rng.random_range(2..flipped.len());
    flipped[at] ^= 1 << rng.random_range(0..8);
    packets.push(anything_unless_response("one bit flipped", flipped));

    packets
}

/// The RCODE of a reply, extended by the OPT record's high bits when there
/// is one (RFC 6891 6.1.3), or why the reply is not a well-formed answer
/// to the query `id`.
pub fn reply_rcode(id: u16, reply: &[u8]) -> Result<u16, String> {
    use hickory_proto::op::{Message, MessageType};
    let msg = Message::from_vec(reply).map_err(|e| format!("reply does not parse: {e}"))?;
    if msg.metadata.id != id {
        return Err(format!("reply ID {} for query ID {id}", msg.metadata.id));
    }
    if msg.metadata.message_type != MessageType::Response {
        return Err("reply has QR=0".into());
    }
    Ok(u16::from(msg.metadata.response_code))
}
