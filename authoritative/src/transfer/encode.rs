//! Writing DNS messages record by record, with name compression (RFC 1035
//! 4.1.4): the messages of zone transfers out, and the requests a
//! secondary or a notifier sends.
//!
//! The request path encodes answers through hickory once per question and
//! copies them; a transfer encodes every record of a zone once per
//! transfer, a million for a big zone, so it writes straight from the
//! store's wire-form names and compact RDATA instead. Owner names, and the
//! names inside the RDATA of RFC 1035's own types (NS, CNAME, PTR, MX,
//! SOA: the only ones RFC 3597 4 lets a server compress), point back to
//! an earlier occurrence of their longest suffix. Names are matched byte
//! for byte, so every name keeps its case. Other RDATA is hickory's
//! uncompressed encoding.
//!
//! A record that does not fit the message's limit is not written, so the
//! caller can start the next message with it.

use std::collections::HashMap;
use std::hash::Hasher;

use dnslab_wire::{push_name, BuildFnv, Fnv, HEADER_LEN};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder, NameEncoding};

use crate::zone::RDataRef;

/// Compression pointers are 14 bits: they reach only the first 16 KiB.
const POINTER_REACH: usize = 0x4000;
/// RFC 1035 3.2.4: class IN.
const CLASS_IN: u16 = 1;

/// Earlier names of one message, by the hash of their uncompressed wire
/// form, with their offsets; reused from message to message.
#[derive(Default)]
pub(crate) struct Compressor {
    offsets: HashMap<u64, u16, BuildFnv>,
    /// RDATA of other types, encoded by hickory before it is copied.
    scratch: Vec<u8>,
    /// A hickory name in wire form, for records that hold `Name`s.
    name: Vec<u8>,
}

/// The header fields a transfer's messages and a request carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub id: u16,
    /// Flags and RCODE, RFC 1035 4.1.1's second 16-bit word.
    pub flags: u16,
}

/// The sections records go in, in the order they must be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Section {
    Answer = 0,
    Authority = 1,
    Additional = 2,
}

/// One message being written into a caller's buffer.
pub(crate) struct MessageWriter<'a> {
    out: &'a mut Vec<u8>,
    names: &'a mut Compressor,
    limit: usize,
    counts: [u16; 3],
    section: Section,
}

impl<'a> MessageWriter<'a> {
    /// Starts a message in `out` (cleared): the header, then `question`
    /// (a name, type and class as on the wire, echoed as received) if any.
    /// Nothing past `limit` octets is written.
    pub(crate) fn new(
        out: &'a mut Vec<u8>,
        names: &'a mut Compressor,
        header: Header,
        question: Option<&[u8]>,
        limit: usize,
    ) -> MessageWriter<'a> {
        out.clear();
        names.offsets.clear();
        out.extend_from_slice(&header.id.to_be_bytes());
        out.extend_from_slice(&header.flags.to_be_bytes());
        out.extend_from_slice(&u16::from(question.is_some()).to_be_bytes());
        out.extend_from_slice(&[0; 6]);
        if let Some(question) = question {
            out.extend_from_slice(question);
        }
        MessageWriter {
            out,
            names,
            limit,
            counts: [0; 3],
            section: Section::Answer,
        }
    }

    /// Records written so far, all sections.
    pub(crate) fn records(&self) -> usize {
        self.counts.iter().map(|&c| usize::from(c)).sum()
    }

    /// Appends one record of class IN to `section` (not before the
    /// sections already written to); `false`, with nothing written, when
    /// it would pass the limit or its RDATA cannot be encoded.
    pub(crate) fn push(
        &mut self,
        section: Section,
        owner: &[u8],
        rtype: RecordType,
        ttl: u32,
        rdata: RDataRef<'_>,
    ) -> bool {
        if section < self.section {
            return false;
        }
        let start = self.out.len();
        let written = self.write_record(owner, rtype, ttl, rdata);
        let index = section as usize;
        if written.is_none() || self.out.len() > self.limit || self.counts[index] == u16::MAX {
            self.out.truncate(start);
            self.names.forget_from(start);
            return false;
        }
        self.section = section;
        self.counts[index] += 1;
        true
    }

    /// [`MessageWriter::push`] for a hickory record.
    pub(crate) fn push_record(&mut self, section: Section, record: &Record) -> bool {
        let mut owner = std::mem::take(&mut self.names.name);
        owner.clear();
        push_name(&record.name, &mut owner);
        let pushed = self.push(
            section,
            &owner,
            record.record_type(),
            record.ttl,
            RDataRef::Other(&record.data),
        );
        self.names.name = owner;
        pushed
    }

    /// Appends one record already in wire form to the additional section
    /// (an OPT record); the caller left room for it below the limit.
    pub(crate) fn push_raw_additional(&mut self, record: &[u8]) {
        self.out.extend_from_slice(record);
        self.section = Section::Additional;
        self.counts[Section::Additional as usize] += 1;
    }

    /// Writes the section counts; the message is complete.
    pub(crate) fn finish(self) {
        for (at, count) in [6, 8, 10].into_iter().zip(self.counts) {
            if let Some(field) = self.out.get_mut(at..at + 2) {
                field.copy_from_slice(&count.to_be_bytes());
            }
        }
    }

    fn write_record(
        &mut self,
        owner: &[u8],
        rtype: RecordType,
        ttl: u32,
        rdata: RDataRef<'_>,
    ) -> Option<()> {
        self.names.write_name(self.out, owner);
        self.out.extend_from_slice(&u16::from(rtype).to_be_bytes());
        self.out.extend_from_slice(&CLASS_IN.to_be_bytes());
        self.out.extend_from_slice(&ttl.to_be_bytes());
        let length_at = self.out.len();
        self.out.extend_from_slice(&[0, 0]);
        self.write_rdata(rdata)?;
        let length = u16::try_from(self.out.len() - length_at - 2).ok()?;
        self.out[length_at..length_at + 2].copy_from_slice(&length.to_be_bytes());
        Some(())
    }

    fn write_rdata(&mut self, rdata: RDataRef<'_>) -> Option<()> {
        let names = &mut *self.names;
        let name = |names: &mut Compressor, out: &mut Vec<u8>, name: &Name| {
            let mut wire = std::mem::take(&mut names.name);
            wire.clear();
            push_name(name, &mut wire);
            names.write_name(out, &wire);
            names.name = wire;
        };
        match rdata {
            RDataRef::A(a) => self.out.extend_from_slice(&a.octets()),
            RDataRef::Aaaa(a) => self.out.extend_from_slice(&a.octets()),
            // RFC 3597 4: RFC 1035's own types may be compressed.
            RDataRef::Other(RData::NS(target)) => name(names, self.out, &target.0),
            RDataRef::Other(RData::CNAME(target)) => name(names, self.out, &target.0),
            RDataRef::Other(RData::PTR(target)) => name(names, self.out, &target.0),
            RDataRef::Other(RData::MX(mx)) => {
                self.out.extend_from_slice(&mx.preference.to_be_bytes());
                name(names, self.out, &mx.exchange);
            }
            RDataRef::Other(RData::SOA(soa)) => {
                name(names, self.out, &soa.mname);
                name(names, self.out, &soa.rname);
                for field in [soa.serial, soa.refresh as u32, soa.retry as u32] {
                    self.out.extend_from_slice(&field.to_be_bytes());
                }
                for field in [soa.expire as u32, soa.minimum] {
                    self.out.extend_from_slice(&field.to_be_bytes());
                }
            }
            RDataRef::Other(other) => {
                names.scratch.clear();
                let mut encoder = BinEncoder::new(&mut names.scratch);
                encoder.set_name_encoding(NameEncoding::Uncompressed);
                other.emit(&mut encoder).ok()?;
                self.out.extend_from_slice(&names.scratch);
            }
        }
        Some(())
    }
}

impl Compressor {
    /// Writes `name` (uncompressed wire form) at the end of `out`, the
    /// longest suffix already in the message as a pointer to it.
    fn write_name(&mut self, out: &mut Vec<u8>, name: &[u8]) {
        let mut at = 0;
        while let Some(&len) = name.get(at) {
            let Some(suffix) = name.get(at..) else { break };
            if len == 0 || len & 0xC0 != 0 {
                break;
            }
            let hash = hash(suffix);
            if let Some(&offset) = self.offsets.get(&hash) {
                if matches_at(out, usize::from(offset), suffix) {
                    out.extend_from_slice(&(0xC000 | offset).to_be_bytes());
                    return;
                }
            }
            let here = out.len();
            if here < POINTER_REACH {
                // Fits in 14 bits, checked just above.
                self.offsets.entry(hash).or_insert(here as u16);
            }
            let end = at + 1 + usize::from(len);
            out.extend_from_slice(name.get(at..end).unwrap_or_default());
            at = end;
        }
        out.push(0);
    }

    /// Forgets names written at or after `offset` (a record taken back).
    fn forget_from(&mut self, offset: usize) {
        if offset < POINTER_REACH {
            self.offsets.retain(|_, &mut at| usize::from(at) < offset);
        }
    }
}

fn hash(suffix: &[u8]) -> u64 {
    let mut fnv = Fnv::default();
    fnv.write(suffix);
    fnv.finish()
}

/// Whether the (possibly compressed) name at `offset` of `msg` is exactly
/// `suffix`, an uncompressed wire name.
fn matches_at(msg: &[u8], mut offset: usize, suffix: &[u8]) -> bool {
    let mut at = 0;
    // Pointers written here only ever point backwards; bound the walk
    // all the same.
    for _ in 0..128 {
        let Some(&len) = msg.get(offset) else {
            return false;
        };
        if len & 0xC0 == 0xC0 {
            let Some(&low) = msg.get(offset + 1) else {
                return false;
            };
            offset = usize::from(u16::from_be_bytes([len & 0x3F, low]));
            continue;
        }
        let label = usize::from(len) + 1;
        if msg.get(offset..offset + label) != suffix.get(at..at + label) {
            return false;
        }
        if len == 0 {
            return true;
        }
        offset += label;
        at += label;
    }
    false
}

/// The header of a response to a request with `id`, opcode `opcode`,
/// RD and CD as asked (echoed, as the query path does), AA set, `rcode`.
pub(crate) fn response_header(
    id: u16,
    opcode: u8,
    rd: bool,
    cd: bool,
    authoritative: bool,
    rcode: u8,
) -> Header {
    let mut flags = 0x8000 | (u16::from(opcode & 0x0F) << 11);
    flags |= u16::from(authoritative) << 10;
    flags |= u16::from(rd) << 8;
    flags |= u16::from(cd) << 4;
    flags |= u16::from(rcode & 0x0F);
    Header { id, flags }
}

/// The wire form of a question: `name`, `qtype`, class IN.
pub(crate) fn question(name: &Name, qtype: RecordType) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN);
    push_name(name, &mut out);
    out.extend_from_slice(&u16::from(qtype).to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Message;
    use hickory_proto::serialize::binary::BinDecodable;
    use std::net::Ipv4Addr;

    fn wire(name: &str) -> Vec<u8> {
        let mut out = Vec::new();
        push_name(&Name::from_ascii(name).unwrap(), &mut out);
        out
    }

    #[test]
    fn owners_and_rdata_names_compress_and_read_back() {
        let mut out = Vec::new();
        let mut names = Compressor::default();
        let header = Header {
            id: 7,
            flags: 0x8400,
        };
        let mut msg = MessageWriter::new(&mut out, &mut names, header, None, 65535);
        let a = RDataRef::A(Ipv4Addr::new(192, 0, 2, 1));
        assert!(msg.push(
            Section::Answer,
            &wire("www.Example.com."),
            RecordType::A,
            60,
            a
        ));
        assert!(msg.push(
            Section::Answer,
            &wire("mail.Example.com."),
            RecordType::A,
            60,
            a
        ));
        let ns = RData::NS(hickory_proto::rr::rdata::NS(
            Name::from_ascii("ns.Example.com.").unwrap(),
        ));
        let owner = wire("Example.com.");
        assert!(msg.push(
            Section::Authority,
            &owner,
            RecordType::NS,
            60,
            RDataRef::Other(&ns)
        ));
        // Not back into the answer section once the authority has begun.
        assert!(!msg.push(Section::Answer, &owner, RecordType::A, 60, a));
        msg.finish();
        // www.Example.com. written whole (17 octets); mail. + pointer
        // (7); Example.com. a pointer (2); ns. + pointer (5).
        let fixed = 10;
        assert_eq!(
            out.len(),
            12 + (17 + fixed + 4) + (7 + fixed + 4) + (2 + fixed + 5)
        );
        let decoded = Message::from_bytes(&out).expect("decodes");
        let texts: Vec<String> = decoded
            .answers
            .iter()
            .chain(&decoded.authorities)
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            texts,
            [
                "www.Example.com. 60 IN A 192.0.2.1",
                "mail.Example.com. 60 IN A 192.0.2.1",
                "Example.com. 60 IN NS ns.Example.com.",
            ]
        );
    }

    #[test]
    fn names_differing_in_case_are_not_merged() {
        let mut out = Vec::new();
        let mut names = Compressor::default();
        let mut msg =
            MessageWriter::new(&mut out, &mut names, Header { id: 1, flags: 0 }, None, 512);
        let a = RDataRef::A(Ipv4Addr::LOCALHOST);
        assert!(msg.push(Section::Answer, &wire("a.EXAMPLE."), RecordType::A, 1, a));
        assert!(msg.push(Section::Answer, &wire("b.example."), RecordType::A, 1, a));
        msg.finish();
        let decoded = Message::from_bytes(&out).expect("decodes");
        assert_eq!(decoded.answers[1].name.to_string(), "b.example.");
    }

    #[test]
    fn a_record_past_the_limit_is_taken_back_whole() {
        let mut out = Vec::new();
        let mut names = Compressor::default();
        let a = RDataRef::A(Ipv4Addr::LOCALHOST);
        let owner = wire("host.example.");
        let mut msg = MessageWriter::new(
            &mut out,
            &mut names,
            Header { id: 1, flags: 0 },
            None,
            12 + 30 + 20,
        );
        assert!(msg.push(Section::Answer, &owner, RecordType::A, 1, a));
        assert!(msg.push(Section::Answer, &owner, RecordType::A, 1, a));
        assert!(!msg.push(
            Section::Answer,
            &wire("other.example."),
            RecordType::A,
            1,
            a
        ));
        assert_eq!(msg.records(), 2);
        msg.finish();
        assert_eq!(out.len(), 12 + 28 + 16);
        assert_eq!(Message::from_bytes(&out).expect("decodes").answers.len(), 2);
    }
}
