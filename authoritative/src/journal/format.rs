//! The journal's bytes on disk, all integers big-endian; enough to write a
//! dumper from.
//!
//! ```text
//! header   magic      8 bytes   "DNSLAB-J"
//!          version    u16       1
//!          name_len   u16       length of the zone name
//!          zone       name_len  the zone's name, uncompressed wire form,
//!                               lowercased (RFC 1035 3.1)
//!          crc        u32       CRC-32 of every header byte before it
//!
//! entry    length     u32       length of the payload
//!  (repeated to       crc       u32       CRC-32 (IEEE, as zlib) of the payload
//!  the end of file)   payload   length bytes:
//!
//! payload  kind       u8        1 reload, 2 update, 3 transfer: a changeset
//!                               4 flushed: a mark, see below
//!          timestamp  u64       seconds since 1970 (UTC) when appended
//!   changeset kinds:
//!          from       u32       serial of the version changed
//!          to         u32       serial of the version it became
//!          removed    u32       number of records removed
//!          added      u32       number of records added
//!          records    removed + added records, each in uncompressed wire
//!                     form (owner, type, class, TTL, RDLENGTH, RDATA;
//!                     RFC 1035 4.1.3), the removed first; the first of
//!                     each list is the SOA of serial `from`, then `to`
//!                     (the layout of one difference in RFC 1995 4)
//!   flushed mark:
//!          serial     u32       the zone's file on disk holds this version
//! ```
//!
//! A file is created whole with its header (written to a temporary file
//! and renamed), so a header is never torn; entries are only ever
//! appended. An entry is complete when its 8-byte frame and whole payload
//! are there and the payload's checksum and decoding agree; anything after
//! the last complete entry is a torn or corrupt tail.

use hickory_proto::rr::{Name, Record};
use hickory_proto::serialize::binary::{BinDecoder, BinEncodable};

use crate::zone::diff::{soa_serial, Changeset};
use crate::zone::wire::{decode_record, encode_record};

/// The first bytes of every journal.
pub(super) const MAGIC: [u8; 8] = *b"DNSLAB-J";
/// The format this code writes and reads.
pub(super) const VERSION: u16 = 1;
/// Length and checksum before each payload.
pub(super) const FRAME_HEADER: usize = 8;

/// What an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    /// The difference between the zone and its master file, reloaded with
    /// a new serial: afterwards the file holds the new version.
    Reload,
    /// A dynamic update (RFC 2136), not yet in the master file until it is
    /// flushed.
    Update,
    /// A difference received by zone transfer (IXFR, or the difference
    /// between two AXFRs) on a secondary.
    Transfer,
}

impl ChangeKind {
    fn code(self) -> u8 {
        match self {
            ChangeKind::Reload => 1,
            ChangeKind::Update => 2,
            ChangeKind::Transfer => 3,
        }
    }

    fn from_code(code: u8) -> Option<ChangeKind> {
        match code {
            1 => Some(ChangeKind::Reload),
            2 => Some(ChangeKind::Update),
            3 => Some(ChangeKind::Transfer),
            _ => None,
        }
    }
}

/// The code of a flushed mark.
const FLUSHED: u8 = 4;

/// One decoded payload.
#[derive(Debug)]
pub(super) enum Payload {
    Changeset {
        kind: ChangeKind,
        timestamp: u64,
        changeset: Changeset,
    },
    Flushed {
        serial: u32,
    },
}

/// The header of a journal of `zone`.
pub(super) fn header(zone: &Name) -> Vec<u8> {
    let name = zone_wire(zone);
    let mut out = Vec::with_capacity(16 + name.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_be_bytes());
    // A name's wire form is at most 255 bytes.
    out.extend_from_slice(&(name.len() as u16).to_be_bytes());
    out.extend_from_slice(&name);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// The lowercased wire form of a zone name, as the header holds it.
pub(super) fn zone_wire(zone: &Name) -> Vec<u8> {
    zone.to_lowercase().to_bytes().unwrap_or_else(|_| vec![0])
}

/// Why a header could not be read, for [`super::JournalError`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum HeaderProblem {
    TooShort,
    Magic,
    Version(u16),
    Checksum,
    /// The zone name the header holds, in wire form.
    Zone(Vec<u8>),
}

/// Reads the header at the start of `bytes` for `zone`; its length.
pub(super) fn read_header(bytes: &[u8], zone: &Name) -> Result<usize, HeaderProblem> {
    let fixed = bytes.get(..12).ok_or(HeaderProblem::TooShort)?;
    if fixed[..8] != MAGIC {
        return Err(HeaderProblem::Magic);
    }
    let version = u16::from_be_bytes([fixed[8], fixed[9]]);
    let name_len = usize::from(u16::from_be_bytes([fixed[10], fixed[11]]));
    let length = 12 + name_len + 4;
    let header = bytes.get(..length).ok_or(HeaderProblem::TooShort)?;
    let (body, crc) = header.split_at(length - 4);
    if crc32fast::hash(body) != u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]) {
        return Err(HeaderProblem::Checksum);
    }
    // The version is read only once the checksum says the bytes are the
    // ones written: a newer format's header is intact, a flipped bit is not.
    if version != VERSION {
        return Err(HeaderProblem::Version(version));
    }
    let name = &body[12..];
    if name != zone_wire(zone).as_slice() {
        return Err(HeaderProblem::Zone(name.to_vec()));
    }
    Ok(length)
}

/// Appends the entry (frame and payload) of a changeset.
pub(super) fn push_changeset(
    kind: ChangeKind,
    timestamp: u64,
    changeset: &Changeset,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let start = begin_frame(out);
    out.push(kind.code());
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(&changeset.from_serial.to_be_bytes());
    out.extend_from_slice(&changeset.to_serial.to_be_bytes());
    for list in [&changeset.removed, &changeset.added] {
        let count = u32::try_from(list.len()).map_err(|_| "too many records")?;
        out.extend_from_slice(&count.to_be_bytes());
    }
    for record in changeset.removed.iter().chain(&changeset.added) {
        encode_record(record, out).map_err(|e| format!("{record}: {e}"))?;
    }
    end_frame(out, start)
}

/// Appends the entry of a flushed mark.
pub(super) fn push_flushed(timestamp: u64, serial: u32, out: &mut Vec<u8>) {
    let start = begin_frame(out);
    out.push(FLUSHED);
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(&serial.to_be_bytes());
    // A 13-byte payload always fits the frame.
    let _ = end_frame(out, start);
}

/// Frames any payload with a right checksum, for tests of payloads that
/// do not decode.
#[cfg(test)]
pub(super) fn push_raw(payload: &[u8], out: &mut Vec<u8>) {
    let start = begin_frame(out);
    out.extend_from_slice(payload);
    let _ = end_frame(out, start);
}

fn begin_frame(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_HEADER]);
    start
}

fn end_frame(out: &mut [u8], start: usize) -> Result<(), String> {
    let payload = &out[start + FRAME_HEADER..];
    let length = u32::try_from(payload.len()).map_err(|_| "changeset over 4 GiB")?;
    let crc = crc32fast::hash(payload);
    out[start..start + 4].copy_from_slice(&length.to_be_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_be_bytes());
    Ok(())
}

/// The payload length and checksum of a frame header.
pub(super) fn frame(bytes: [u8; FRAME_HEADER]) -> (u32, u32) {
    let [a, b, c, d, e, f, g, h] = bytes;
    (
        u32::from_be_bytes([a, b, c, d]),
        u32::from_be_bytes([e, f, g, h]),
    )
}

/// Decodes a payload whose checksum matched; `Err` says what in it is
/// malformed.
pub(super) fn decode_payload(payload: &[u8]) -> Result<Payload, String> {
    let (&code, rest) = payload.split_first().ok_or("empty payload")?;
    let timestamp = rest
        .get(..8)
        .and_then(|t| t.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or("payload too short for its timestamp")?;
    let body = &rest[8..];
    if code == FLUSHED {
        let serial: [u8; 4] = body
            .try_into()
            .map_err(|_| "flushed mark of wrong length")?;
        return Ok(Payload::Flushed {
            serial: u32::from_be_bytes(serial),
        });
    }
    let kind = ChangeKind::from_code(code).ok_or_else(|| format!("unknown entry kind {code}"))?;
    let mut decoder = BinDecoder::new(body);
    let mut field = || {
        decoder
            .read_u32()
            .map(|v| v.unverified(/* any value */))
            .map_err(|_| "payload too short for its serials and counts".to_string())
    };
    let (from_serial, to_serial) = (field()?, field()?);
    let (removed, added) = (field()?, field()?);
    let mut list = |count: u32| -> Result<Vec<Record>, String> {
        // Each record takes at least 11 bytes: no count can make this
        // allocate more than the payload could hold.
        let mut records = Vec::with_capacity((count as usize).min(decoder.len() / 11));
        for _ in 0..count {
            records.push(decode_record(&mut decoder).map_err(|e| format!("a record: {e}"))?);
        }
        Ok(records)
    };
    let removed = list(removed)?;
    let added = list(added)?;
    if !decoder.is_empty() {
        return Err(format!("{} bytes after the records", decoder.len()));
    }
    let first_serial = |records: &[Record]| records.first().and_then(soa_serial);
    if first_serial(&removed) != Some(from_serial) || first_serial(&added) != Some(to_serial) {
        return Err("the records do not begin with the SOAs of their serials".into());
    }
    Ok(Payload::Changeset {
        kind,
        timestamp,
        changeset: Changeset {
            from_serial,
            to_serial,
            removed,
            added,
        },
    })
}
