//! Reading a query off the wire: the header, the one question and the OPT
//! record, and nothing else.
//!
//! This is the hot path of both servers, so it does not decode a whole
//! hickory `Message` (that alone costs microseconds): it walks the bytes
//! once, reads the question name lowercased into a [`WireName`] on the
//! stack (with the type and the DO bit after it, the key of both servers'
//! prepared answers) and keeps a borrowed slice of the question as the
//! client wrote it, to echo it verbatim.
//!
//! Every read is bounds-checked with `get`: network input never reaches an
//! index that can panic. Neighbours: [`crate::check`] turns a [`Request`]
//! or a [`ParseError`] into what a server does with it; [`crate::edns`]
//! sizes the response.

use std::fmt;

use crate::ecs::{ClientSubnet, EcsError, OPTION_ECS};
use crate::name::{NameError, WireName};

/// RFC 1035 4.1.1: the fixed header.
pub const HEADER_LEN: usize = 12;
/// RFC 6891 6.1.1: the OPT pseudo-record type.
pub const TYPE_OPT: u16 = 41;
/// RFC 8945 4.2: the TSIG pseudo-record type.
pub const TYPE_TSIG: u16 = 250;
/// RFC 1035 3.2.4: the Internet class.
pub const CLASS_IN: u16 = 1;
/// RFC 1035 3.2.5: QCLASS `*`, any class.
pub const CLASS_ANY: u16 = 255;
/// RFC 1035 4.1.1: OPCODE 0, a standard query.
pub const OPCODE_QUERY: u8 = 0;
/// RFC 1996: OPCODE 4, NOTIFY.
pub const OPCODE_NOTIFY: u8 = 4;
/// RFC 2136: OPCODE 5, UPDATE.
pub const OPCODE_UPDATE: u8 = 5;
/// RFC 1035 3.2.2: the SOA type, which an UPDATE's zone section asks
/// (RFC 2136 2.3).
pub const TYPE_SOA: u16 = 6;
/// RFC 1995: incremental zone transfer.
pub const QTYPE_IXFR: u16 = 251;
/// RFC 5936: full zone transfer.
pub const QTYPE_AXFR: u16 = 252;

/// A set of opcodes, one bit each: the kinds of request a server answers
/// (RFC 1035 4.1.1's "kind of query"); the others get NOTIMP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opcodes(u16);

impl Opcodes {
    /// Standard queries only.
    pub const QUERY: Opcodes = Opcodes(1 << OPCODE_QUERY);

    /// This set and `opcode`.
    pub const fn with(self, opcode: u8) -> Opcodes {
        Opcodes(self.0 | 1 << (opcode & 0x0F))
    }

    pub const fn contains(self, opcode: u8) -> bool {
        self.0 & 1 << (opcode & 0x0F) != 0
    }
}

/// The header fields a response must echo (RFC 1035 4.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestHeader {
    pub id: u16,
    pub opcode: u8,
    pub recursion_desired: bool,
    /// Copied into the response as NSD and Knot do (RFC 4035 3.2.2 asks
    /// the same of security-aware servers).
    pub checking_disabled: bool,
}

/// What the client's OPT record said (RFC 6891 6.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EdnsQuery {
    /// The requestor's UDP payload size, before any clamping.
    pub udp_size: u16,
    pub version: u8,
    /// RFC 3225 3: the DO bit is copied into the response.
    pub dnssec_ok: bool,
    /// RFC 7871: the client network the question is asked for, when the
    /// OPT record carries an ECS option.
    pub client_subnet: Option<ClientSubnet>,
}

/// A readable query with exactly one question.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub header: RequestHeader,
    /// The question section exactly as sent (name in the client's case,
    /// type, class): responses echo it byte for byte.
    pub question: &'a [u8],
    pub qtype: u16,
    pub qclass: u16,
    pub edns: Option<EdnsQuery>,
    /// A TSIG record ends the additional section (RFC 8945 4.2): the
    /// request must be verified before it is answered, and the answer
    /// signed; it is never answered as if unsigned.
    pub signed: bool,
    /// Records in the answer and authority sections, which only some kinds
    /// of request carry (see [`records_allowed`]): a NOTIFY's SOA (RFC 1996
    /// 3.7), an IXFR's SOA of the client's version (RFC 1995 3), an
    /// UPDATE's prerequisites and updates (RFC 2136 2.4, 2.5).
    pub ancount: u16,
    pub nscount: u16,
    /// The lowercased question name, followed by the qtype and the DO bit
    /// (answers with DNSSEC records differ), and by the view when a server
    /// sets one ([`Request::set_view`]): the lookup key of prepared
    /// answers, built without allocating.
    name: WireName,
}

impl Request<'_> {
    /// Lowercased wire name followed by the two qtype octets and the DO bit.
    pub fn key(&self) -> &[u8] {
        self.name.key()
    }

    /// The lowercased question name in wire form.
    pub fn lowercase_name(&self) -> &[u8] {
        self.name.bytes()
    }

    /// Adds `view` to [`Request::key`], for a server whose answers depend
    /// on who asks: each view's answers are kept apart. View 0, every
    /// client's when there are no views, keeps the key as parsed.
    pub fn set_view(&mut self, view: u8) {
        if view != 0 {
            let [qtype_hi, qtype_lo] = self.qtype.to_be_bytes();
            let dnssec_ok = u8::from(self.edns.is_some_and(|e| e.dnssec_ok));
            self.name.set_suffix(&[qtype_hi, qtype_lo, dnssec_ok, view]);
        }
    }
}

/// Why a query gets no answer or an error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Shorter than a header: there is no ID to answer to, so send nothing.
    ShortHeader(usize),
    /// QR=1: never answer a response, or two servers could loop forever
    /// (reflection).
    NotAQuery,
    /// RFC 1035 4.1.1: an opcode this server does not implement (UPDATE
    /// for the resolver, ...); answered with NOTIMP, "does not support the
    /// requested kind of query".
    NotImplemented(RequestHeader),
    /// The header is readable but the rest is not a well-formed query:
    /// answered with FORMERR.
    Malformed(RequestHeader, Malformed),
}

/// The ways a query with a readable header can be malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// Only one question per query is answerable (RFC 9619).
    QuestionCount(u16),
    /// A query carries no answer or authority records (RFC 1035 4.1.1),
    /// except where [`records_allowed`] says.
    RecordsInQuery,
    /// The message ends inside the answer or authority section.
    TruncatedRecords,
    /// The message ends inside the question.
    TruncatedQuestion,
    /// A compression pointer or reserved label type in the question name.
    LabelType(u8),
    /// RFC 1035 3.1: a name longer than 255 octets.
    NameTooLong,
    /// The message ends inside an additional record (ARCOUNT is too big).
    TruncatedAdditional,
    /// RFC 6891 6.1.1: more than one OPT record.
    DuplicateOpt,
    /// RFC 6891 6.1.2: the OPT owner must be the root.
    OptNotAtRoot,
    /// RFC 2136 3.1.1: an UPDATE's zone section names a zone by its SOA
    /// type; any other ZTYPE is FORMERR.
    UpdateZoneType(u16),
    /// RFC 6891 6.1.2: the OPT RDATA is not a list of whole options.
    OptOptions,
    /// RFC 7871 6 and 7.2.1: an ECS option that does not follow the rules.
    ClientSubnet(EcsError),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::ShortHeader(len) => {
                write!(f, "{len} bytes is shorter than a DNS header; dropped")
            }
            ParseError::NotAQuery => write!(f, "QR=1 (a response); dropped"),
            ParseError::NotImplemented(header) => {
                write!(f, "opcode {} is not implemented", header.opcode)
            }
            ParseError::Malformed(_, why) => write!(f, "malformed query: {why}"),
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::QuestionCount(n) => write!(f, "QDCOUNT is {n}, expected 1"),
            Malformed::RecordsInQuery => write!(f, "ANCOUNT or NSCOUNT is not 0"),
            Malformed::TruncatedQuestion => write!(f, "message ends inside the question"),
            Malformed::TruncatedRecords => {
                write!(f, "message ends inside the answer or authority section")
            }
            Malformed::LabelType(b) => {
                write!(f, "label type {:#04x} in the question name", b & 0xC0)
            }
            Malformed::NameTooLong => write!(f, "question name longer than 255 octets"),
            Malformed::TruncatedAdditional => {
                write!(f, "message ends inside the additional section")
            }
            Malformed::DuplicateOpt => write!(f, "more than one OPT record"),
            Malformed::OptNotAtRoot => write!(f, "OPT record owner is not the root"),
            Malformed::UpdateZoneType(ztype) => {
                write!(f, "UPDATE zone section of type {ztype}, not SOA")
            }
            Malformed::OptOptions => write!(f, "OPT RDATA is not a list of whole options"),
            Malformed::ClientSubnet(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for ParseError {}

impl From<NameError> for Malformed {
    fn from(error: NameError) -> Malformed {
        match error {
            NameError::Truncated => Malformed::TruncatedQuestion,
            NameError::LabelType(octet) => Malformed::LabelType(octet),
            NameError::TooLong => Malformed::NameTooLong,
        }
    }
}

/// The big-endian u16 at `at`, if the message is that long.
pub fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

/// Reads the header fields a response echoes. `None` when there is no
/// complete header.
pub fn read_header(msg: &[u8]) -> Option<RequestHeader> {
    let id = u16_at(msg, 0)?;
    let flags = u16_at(msg, 2)?;
    if msg.len() < HEADER_LEN {
        return None;
    }
    Some(RequestHeader {
        id,
        opcode: ((flags >> 11) & 0x0F) as u8,
        recursion_desired: flags & 0x0100 != 0,
        checking_disabled: flags & 0x0010 != 0,
    })
}

/// Parses a request (RFC 1035 4.1) far enough to answer it: a query, or
/// another kind of request in `opcodes` (whose sections are judged by the
/// code that answers it).
pub fn parse_request(msg: &[u8], opcodes: Opcodes) -> Result<Request<'_>, ParseError> {
    let header = read_header(msg).ok_or(ParseError::ShortHeader(msg.len()))?;
    let flags = u16_at(msg, 2).unwrap_or_default();
    if flags & 0x8000 != 0 {
        return Err(ParseError::NotAQuery);
    }
    if !opcodes.contains(header.opcode) {
        return Err(ParseError::NotImplemented(header));
    }
    let malformed = |why| ParseError::Malformed(header, why);
    let count = |at| u16_at(msg, at).unwrap_or_default();
    let (qdcount, ancount, nscount, arcount) = (count(4), count(6), count(8), count(10));
    if qdcount != 1 {
        return Err(malformed(Malformed::QuestionCount(qdcount)));
    }

    let (mut name, name_end) = WireName::read(msg, HEADER_LEN).map_err(|e| malformed(e.into()))?;
    let qtype = u16_at(msg, name_end).ok_or(malformed(Malformed::TruncatedQuestion))?;
    let qclass = u16_at(msg, name_end + 2).ok_or(malformed(Malformed::TruncatedQuestion))?;
    if header.opcode == OPCODE_UPDATE && qtype != TYPE_SOA {
        return Err(malformed(Malformed::UpdateZoneType(qtype)));
    }
    let question_end = name_end + 4;
    let question = msg
        .get(HEADER_LEN..question_end)
        .ok_or(malformed(Malformed::TruncatedQuestion))?;
    if (ancount != 0 || nscount != 0) && !records_allowed(header.opcode, qtype) {
        return Err(malformed(Malformed::RecordsInQuery));
    }
    let additional_at = skip_records(msg, question_end, u32::from(ancount) + u32::from(nscount))
        .ok_or(malformed(Malformed::TruncatedRecords))?;
    let additionals =
        read_additionals(msg, additional_at, arcount, Options::Checked).map_err(malformed)?;
    let edns = additionals.edns;
    let [qtype_hi, qtype_lo] = qtype.to_be_bytes();
    name.set_suffix(&[
        qtype_hi,
        qtype_lo,
        u8::from(edns.is_some_and(|e| e.dnssec_ok)),
    ]);
    Ok(Request {
        header,
        question,
        qtype,
        qclass,
        edns,
        signed: additionals.signed,
        ancount,
        nscount,
        name,
    })
}

/// Which requests carry records besides the question and the additional
/// section: an IXFR query its client's SOA in the authority section (RFC
/// 1995 3), a NOTIFY the zone's new SOA in the answer section (RFC 1996
/// 3.7), an UPDATE its prerequisites and updates (RFC 2136 2). A plain
/// query carries none (RFC 1035 4.1.1).
pub fn records_allowed(opcode: u8, qtype: u16) -> bool {
    match opcode {
        OPCODE_QUERY => qtype == QTYPE_IXFR,
        OPCODE_NOTIFY | OPCODE_UPDATE => true,
        _ => false,
    }
}

/// The offset after `count` records starting at `at`, if they all lie
/// within the message.
pub fn skip_records(msg: &[u8], mut at: usize, count: u32) -> Option<usize> {
    for _ in 0..count {
        at = skip_name(msg, at)?;
        at += 10 + usize::from(u16_at(msg, at + 8)?);
    }
    (at <= msg.len()).then_some(at)
}

/// The OPT record of a query that [`parse_request`] rejects, if the message can be
/// walked that far: RFC 6891 6.1.1 wants an OPT record in every response
/// to a request that had one, errors included. `None` when a section
/// before it cannot be walked or the OPT record itself is at fault.
pub fn find_edns(msg: &[u8]) -> Option<EdnsQuery> {
    let count = |at| u16_at(msg, at);
    let (questions, answers, authority, additional) = (count(4)?, count(6)?, count(8)?, count(10)?);
    let mut pos = HEADER_LEN;
    for _ in 0..questions {
        pos = skip_name(msg, pos)? + 4;
    }
    let pos = skip_records(msg, pos, u32::from(answers) + u32::from(authority))?;
    read_additionals(msg, pos, additional, Options::Ignored)
        .ok()?
        .edns
}

/// Whether the OPT record's options are read (a request to answer) or not
/// (the OPT record of a request already rejected, only to echo its size).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Options {
    Checked,
    Ignored,
}

/// What the additional section holds that a server acts on before
/// answering.
struct Additionals {
    edns: Option<EdnsQuery>,
    signed: bool,
}

/// Walks the additional section for the OPT record (RFC 6891 6.1) and a
/// TSIG record (RFC 8945 4.2), which `dnslab-tsig` verifies; other records
/// are skipped. Bytes after the last counted record are ignored, as NSD
/// does.
fn read_additionals(
    msg: &[u8],
    mut pos: usize,
    count: u16,
    options: Options,
) -> Result<Additionals, Malformed> {
    let mut edns = None;
    let mut signed = false;
    for _ in 0..count {
        let owner_is_root = msg.get(pos) == Some(&0);
        pos = skip_name(msg, pos).ok_or(Malformed::TruncatedAdditional)?;
        let rtype = u16_at(msg, pos).ok_or(Malformed::TruncatedAdditional)?;
        let class = u16_at(msg, pos + 2).ok_or(Malformed::TruncatedAdditional)?;
        let ttl_hi = u16_at(msg, pos + 4).ok_or(Malformed::TruncatedAdditional)?;
        let ttl_lo = u16_at(msg, pos + 6).ok_or(Malformed::TruncatedAdditional)?;
        let rdlen = u16_at(msg, pos + 8).ok_or(Malformed::TruncatedAdditional)?;
        let rdata_at = pos + 10;
        pos = rdata_at + usize::from(rdlen);
        let rdata = msg
            .get(rdata_at..pos)
            .ok_or(Malformed::TruncatedAdditional)?;
        if rtype == TYPE_TSIG {
            signed = true;
        }
        if rtype != TYPE_OPT {
            continue;
        }
        if edns.is_some() {
            return Err(Malformed::DuplicateOpt);
        }
        if !owner_is_root {
            return Err(Malformed::OptNotAtRoot);
        }
        let client_subnet = match options {
            Options::Checked => read_options(rdata)?,
            Options::Ignored => None,
        };
        // RFC 6891 6.1.3: TTL = extended RCODE (8) | VERSION (8) | DO | Z.
        edns = Some(EdnsQuery {
            udp_size: class,
            version: (ttl_hi & 0xFF) as u8,
            dnssec_ok: ttl_lo & 0x8000 != 0,
            client_subnet,
        });
    }
    Ok(Additionals { edns, signed })
}

/// Reads the options of an OPT record (RFC 6891 6.1.2: OPTION-CODE,
/// OPTION-LENGTH, OPTION-DATA, one after another) for the one both
/// servers act on, ECS (RFC 7871); the others are skipped, as options a
/// server does not know are ignored (RFC 6891 6.1.2). A list that ends
/// inside an option, two ECS options, or one that breaks RFC 7871 6 (or
/// has a SCOPE other than 0, which queries must not) is malformed.
fn read_options(mut rdata: &[u8]) -> Result<Option<ClientSubnet>, Malformed> {
    let mut subnet = None;
    while let [code_hi, code_lo, len_hi, len_lo, rest @ ..] = rdata {
        let len = usize::from(u16::from_be_bytes([*len_hi, *len_lo]));
        let data = rest.get(..len).ok_or(Malformed::OptOptions)?;
        rdata = rest.get(len..).unwrap_or_default();
        if u16::from_be_bytes([*code_hi, *code_lo]) != OPTION_ECS {
            continue;
        }
        if subnet.is_some() {
            return Err(Malformed::ClientSubnet(EcsError::Duplicate));
        }
        let parsed = ClientSubnet::parse(data).map_err(Malformed::ClientSubnet)?;
        if parsed.scope() != 0 {
            return Err(Malformed::ClientSubnet(EcsError::ScopeInQuery(
                parsed.scope(),
            )));
        }
        subnet = Some(parsed);
    }
    if rdata.is_empty() {
        Ok(subnet)
    } else {
        Err(Malformed::OptOptions)
    }
}

/// Returns the offset past a possibly compressed name, without following
/// the pointer (its target does not matter for skipping).
pub fn skip_name(msg: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *msg.get(pos)?;
        match len & 0xC0 {
            0x00 if len == 0 => return Some(pos + 1),
            0x00 => pos += 1 + usize::from(len),
            0xC0 => return msg.get(pos + 1).map(|_| pos + 2),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs::EcsError;

    /// A query for `name` (presentation labels) with the given counts.
    fn query(flags: u16, counts: [u16; 4], labels: &[&str], qtype: u16) -> Vec<u8> {
        let mut m = vec![0x12, 0x34];
        m.extend_from_slice(&flags.to_be_bytes());
        for c in counts {
            m.extend_from_slice(&c.to_be_bytes());
        }
        for l in labels {
            m.push(l.len() as u8);
            m.extend_from_slice(l.as_bytes());
        }
        m.push(0);
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&CLASS_IN.to_be_bytes());
        m
    }

    fn opt(udp: u16, version: u8, dnssec_ok: bool) -> Vec<u8> {
        let mut o = vec![0];
        o.extend_from_slice(&TYPE_OPT.to_be_bytes());
        o.extend_from_slice(&udp.to_be_bytes());
        o.extend_from_slice(&[0, version, if dnssec_ok { 0x80 } else { 0 }, 0, 0, 0]);
        o
    }

    fn parse_request_q(msg: &[u8]) -> Result<Request<'_>, ParseError> {
        parse_request(msg, Opcodes::QUERY)
    }

    #[test]
    fn find_edns_reads_the_opt_record_of_a_rejected_query() {
        // No question, an OPT record (FORMERR).
        let mut none = query(0, [0, 0, 0, 1], &[], 1);
        none.truncate(12);
        none.extend(opt(1232, 0, true));
        let found = EdnsQuery {
            udp_size: 1232,
            version: 0,
            dnssec_ok: true,
            client_subnet: None,
        };
        assert_eq!(find_edns(&none), Some(found));
        // Two questions, then the OPT record.
        let mut two = query(0, [2, 0, 0, 1], &["a"], 1);
        two.extend_from_within(12..);
        two.extend(opt(4096, 0, false));
        assert_eq!(find_edns(&two).map(|e| e.udp_size), Some(4096));
        // NOTIFY (opcode 4) with a question and an OPT record.
        let mut notify = query(4 << 11, [1, 0, 0, 1], &["a"], 6);
        notify.extend(opt(512, 0, false));
        assert_eq!(find_edns(&notify).map(|e| e.udp_size), Some(512));
    }

    #[test]
    fn find_edns_gives_up_on_what_it_cannot_walk_or_trust() {
        // No OPT record at all.
        assert_eq!(find_edns(&query(0, [2, 0, 0, 0], &["a"], 1)), None);
        // ARCOUNT says 1 but the message ends after the question.
        assert_eq!(find_edns(&query(0, [1, 0, 0, 1], &["a"], 1)), None);
        // QDCOUNT larger than the questions present.
        let mut short = query(0, [3, 0, 0, 1], &["a"], 1);
        short.extend(opt(1232, 0, false));
        assert_eq!(find_edns(&short), None);
        // Two OPT records: the OPT itself is at fault.
        let mut twice = query(0, [0, 0, 0, 2], &[], 1);
        twice.truncate(12);
        twice.extend(opt(1232, 0, false));
        twice.extend(opt(1232, 0, false));
        assert_eq!(find_edns(&twice), None);
        // Shorter than a header.
        assert_eq!(find_edns(&[0; 11]), None);
    }

    #[test]
    fn question_is_lowercased_in_the_key_and_echoed_as_sent() {
        let msg = query(0x0100, [1, 0, 0, 0], &["WwW", "Example", "COM"], 1);
        let req = parse_request_q(&msg).expect("parses");
        assert_eq!(req.question, &msg[12..]);
        assert_eq!(req.lowercase_name(), b"\x03www\x07example\x03com\x00");
        assert_eq!(req.key(), b"\x03www\x07example\x03com\x00\x00\x01\x00");
        let mut in_view = req.clone();
        in_view.set_view(2);
        assert_eq!(
            in_view.key(),
            b"\x03www\x07example\x03com\x00\x00\x01\x00\x02"
        );
        assert!(req.header.recursion_desired);
        assert_eq!(
            (req.header.id, req.qtype, req.qclass, req.edns),
            (0x1234, 1, 1, None)
        );
    }

    #[test]
    fn opt_record_fields_are_read() {
        let mut msg = query(0, [1, 0, 0, 1], &["a"], 1);
        msg.extend(opt(4096, 1, true));
        let edns = parse_request_q(&msg).expect("parses").edns;
        assert_eq!(
            edns,
            Some(EdnsQuery {
                udp_size: 4096,
                version: 1,
                dnssec_ok: true,
                client_subnet: None,
            })
        );
    }

    #[test]
    fn unanswerable_packets_are_dropped() {
        assert_eq!(
            parse_request_q(&[0; 5]).unwrap_err(),
            ParseError::ShortHeader(5)
        );
        let msg = query(0x8000, [1, 0, 0, 0], &["a"], 1);
        assert_eq!(parse_request_q(&msg).unwrap_err(), ParseError::NotAQuery);
    }

    #[test]
    fn opcodes_outside_the_set_are_not_implemented() {
        let msg = query(4 << 11, [1, 0, 0, 0], &["a"], 6);
        assert!(
            matches!(parse_request_q(&msg), Err(ParseError::NotImplemented(h)) if h.opcode == 4)
        );
    }

    #[test]
    fn malformed_queries_name_the_broken_rule() {
        let long = &*"x".repeat(63);
        let cases = [
            (query(0, [0, 0, 0, 0], &[], 1), Malformed::QuestionCount(0)),
            (
                query(0, [2, 0, 0, 0], &["a"], 1),
                Malformed::QuestionCount(2),
            ),
            (query(0, [1, 1, 0, 0], &["a"], 1), Malformed::RecordsInQuery),
            (
                query(0, [1, 0, 0, 1], &["a"], 1),
                Malformed::TruncatedAdditional,
            ),
            (
                query(0, [1, 0, 0, 0], &[long, long, long, long], 1),
                Malformed::NameTooLong,
            ),
        ];
        for (msg, why) in cases {
            assert!(
                matches!(parse_request_q(&msg), Err(ParseError::Malformed(_, w)) if w == why),
                "{why}"
            );
        }
        let short = query(0, [1, 0, 0, 0], &["abc"], 1);
        for cut in 13..short.len() {
            let got = parse_request_q(&short[..cut]);
            assert!(
                matches!(
                    got,
                    Err(ParseError::Malformed(_, Malformed::TruncatedQuestion))
                ),
                "cut at {cut}: {got:?}"
            );
        }
        let mut pointer = query(0, [1, 0, 0, 0], &[], 1);
        pointer.splice(12..13, [0xC0, 0x0C]);
        assert!(matches!(
            parse_request_q(&pointer),
            Err(ParseError::Malformed(_, Malformed::LabelType(0xC0)))
        ));
        let mut two_opts = query(0, [1, 0, 0, 2], &["a"], 1);
        two_opts.extend(opt(1232, 0, false));
        two_opts.extend(opt(1232, 0, false));
        assert!(matches!(
            parse_request_q(&two_opts),
            Err(ParseError::Malformed(_, Malformed::DuplicateOpt))
        ));
        let mut opt_named = query(0, [1, 0, 0, 1], &["a"], 1);
        opt_named.extend([1, b'x', 0]);
        opt_named.extend(&opt(1232, 0, false)[1..]);
        assert!(matches!(
            parse_request_q(&opt_named),
            Err(ParseError::Malformed(_, Malformed::OptNotAtRoot))
        ));
    }

    /// `msg` (a query with ARCOUNT 1) with an OPT record whose RDATA is
    /// `options`.
    fn with_options(mut msg: Vec<u8>, options: &[u8]) -> Vec<u8> {
        let mut o = opt(1232, 0, false);
        let len = u16::try_from(options.len()).unwrap();
        o[9..11].copy_from_slice(&len.to_be_bytes());
        o.extend_from_slice(options);
        msg.extend(o);
        msg
    }

    /// RFC 7871: the ECS option is read among others; a malformed one, a
    /// second one, a SCOPE in a query and a list that ends inside an
    /// option are FORMERR, while the OPT record is still found for the
    /// error response (RFC 6891 6.1.1).
    #[test]
    fn the_client_subnet_option_is_read_or_rejected() {
        let plain = || query(0, [1, 0, 0, 1], &["a"], 1);
        let cookie = [0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8];
        let ecs = [0, 8, 0, 7, 0, 1, 24, 0, 198, 51, 100];
        let both: Vec<u8> = cookie.iter().chain(&ecs).copied().collect();
        let req = with_options(plain(), &both);
        let subnet = parse_request_q(&req)
            .expect("parses")
            .edns
            .and_then(|e| e.client_subnet)
            .expect("ECS read");
        assert_eq!(subnet.to_string(), "198.51.100.0/24/0");
        let twice: Vec<u8> = ecs.iter().chain(&ecs).copied().collect();
        let cases: [(&[u8], Malformed); 5] = [
            (
                &[0, 8, 0, 6, 0, 1, 24, 0, 198, 51],
                Malformed::ClientSubnet(EcsError::AddressLength {
                    got: 2,
                    needed: 3,
                    prefix: 24,
                }),
            ),
            (
                &[0, 8, 0, 7, 0, 1, 24, 24, 198, 51, 100],
                Malformed::ClientSubnet(EcsError::ScopeInQuery(24)),
            ),
            (&twice, Malformed::ClientSubnet(EcsError::Duplicate)),
            (&[0, 8, 0, 9, 0, 1, 24, 0], Malformed::OptOptions),
            (&[0, 8, 0], Malformed::OptOptions),
        ];
        for (options, why) in cases {
            let req = with_options(plain(), options);
            assert!(
                matches!(parse_request_q(&req), Err(ParseError::Malformed(_, w)) if w == why),
                "{why}: {:?}",
                parse_request_q(&req)
            );
            assert_eq!(find_edns(&req).map(|e| e.udp_size), Some(1232), "{why}");
        }
    }

    /// An SOA record for the root, as an IXFR's authority or a NOTIFY's
    /// answer section carries one.
    fn soa_record() -> Vec<u8> {
        let mut rr = vec![0, 0, 6, 0, 1, 0, 0, 0, 60, 0, 22, 0, 0];
        rr.extend_from_slice(&[0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
        rr
    }

    #[test]
    fn ixfr_and_notify_may_carry_an_soa_but_a_plain_query_may_not() {
        let notify_opcodes = Opcodes::QUERY.with(OPCODE_NOTIFY);
        let mut ixfr = query(0, [1, 0, 1, 1], &["a"], QTYPE_IXFR);
        ixfr.extend(soa_record());
        ixfr.extend(opt(1232, 0, false));
        let req = parse_request(&ixfr, Opcodes::QUERY).expect("an IXFR with its SOA");
        assert_eq!((req.nscount, req.ancount), (1, 0));
        assert_eq!(
            req.edns.map(|e| e.udp_size),
            Some(1232),
            "OPT after the SOA"
        );
        let mut notify = query(u16::from(OPCODE_NOTIFY) << 11, [1, 1, 0, 0], &["a"], 6);
        notify.extend(soa_record());
        let req = parse_request(&notify, notify_opcodes).expect("a NOTIFY with its SOA");
        assert_eq!(req.ancount, 1);
        assert!(matches!(
            parse_request(&notify, Opcodes::QUERY),
            Err(ParseError::NotImplemented(_))
        ));
        let mut a_query = query(0, [1, 0, 1, 0], &["a"], 1);
        a_query.extend(soa_record());
        assert!(matches!(
            parse_request_q(&a_query),
            Err(ParseError::Malformed(_, Malformed::RecordsInQuery))
        ));
        let short = &ixfr[..ixfr.len() - 20];
        assert!(matches!(
            parse_request_q(short),
            Err(ParseError::Malformed(_, Malformed::TruncatedRecords))
        ));
    }

    #[test]
    fn a_tsig_record_marks_the_request_signed() {
        let mut signed = query(0, [1, 0, 0, 1], &["a"], 1);
        // Key name `k.`, type TSIG, class ANY, TTL 0, 4 octets of RDATA.
        signed.extend([1, b'k', 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
        assert!(parse_request_q(&signed).expect("parses").signed);
        let unsigned = query(0, [1, 0, 0, 0], &["a"], 1);
        assert!(!parse_request_q(&unsigned).expect("parses").signed);
    }

    #[test]
    fn names_up_to_255_octets_are_accepted() {
        // 3 labels of 63 + 1 of 61 = 4 + 250 + root = 255 octets.
        let labels = [
            &"a".repeat(63)[..],
            &"b".repeat(63),
            &"c".repeat(63),
            &"d".repeat(61),
        ];
        let msg = query(0, [1, 0, 0, 0], &labels, 1);
        assert_eq!(
            parse_request_q(&msg)
                .expect("parses")
                .lowercase_name()
                .len(),
            255
        );
    }
}
