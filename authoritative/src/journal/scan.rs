//! Reading a journal from its start, as [`super::Journal::open`] does
//! and as a compaction checks what it wrote: the header must be this
//! zone's ([`super::JournalError`] otherwise), then every complete entry
//! is kept, and the first one that is short, fails its checksum, does not
//! decode or does not continue the chain ends the journal
//! ([`super::TailProblem`]); the caller cuts the file there.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use hickory_proto::rr::Name;
use hickory_proto::serialize::binary::BinDecodable;

use super::format::{self, Payload, FRAME_HEADER};
use super::{ChangeKind, EntryInfo, JournalError, TailProblem};

/// What reading a journal from its start found.
pub(super) struct Scan {
    pub(super) entries: Vec<EntryInfo>,
    pub(super) flushed: Option<u32>,
    /// The end of the last complete entry.
    pub(super) end: u64,
    pub(super) file_len: u64,
    /// Why the bytes after `end` were not kept.
    pub(super) problem: Option<TailProblem>,
}

/// Reads the header and every entry of the journal in `file`.
pub(super) fn scan(file: &File, path: &Path, zone: &Name) -> Result<Scan, JournalError> {
    let io_error = |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file_len = file.metadata().map_err(io_error)?.len();
    let mut reader = BufReader::with_capacity(1 << 16, file);
    // The longest header: 12 fixed bytes, a 255-byte name, the checksum.
    let mut head = Vec::with_capacity(271);
    (&mut reader)
        .take(271)
        .read_to_end(&mut head)
        .map_err(io_error)?;
    let header_len = format::read_header(&head, zone).map_err(|problem| match problem {
        format::HeaderProblem::Zone(found) => JournalError::WrongZone {
            path: path.to_path_buf(),
            expected: zone.to_string(),
            found: Name::from_bytes(&found)
                .map_or_else(|_| format!("{found:?}"), |n| n.to_string()),
        },
        problem => JournalError::BadHeader {
            path: path.to_path_buf(),
            problem: match problem {
                format::HeaderProblem::TooShort => "the header is incomplete".into(),
                format::HeaderProblem::Magic => "it does not begin with DNSLAB-J".into(),
                format::HeaderProblem::Version(v) => {
                    format!("format version {v}, not {}", format::VERSION)
                }
                format::HeaderProblem::Checksum => "the header's checksum does not match".into(),
                format::HeaderProblem::Zone(_) => unreachable!("handled above"),
            },
        },
    })?;
    let mut scan = Scan {
        entries: Vec::new(),
        flushed: None,
        end: header_len as u64,
        file_len,
        problem: None,
    };
    // Entries start after the header, in the bytes already read or not.
    let mut pending = head.split_off(header_len);
    let mut payload = Vec::new();
    loop {
        let remaining = file_len - scan.end;
        if remaining == 0 {
            break;
        }
        if remaining < FRAME_HEADER as u64 {
            scan.problem = Some(TailProblem::Short);
            break;
        }
        let mut frame_header = [0; FRAME_HEADER];
        read_exact(&mut pending, &mut reader, &mut frame_header).map_err(io_error)?;
        let (length, crc) = format::frame(frame_header);
        if remaining - (FRAME_HEADER as u64) < u64::from(length) {
            scan.problem = Some(TailProblem::Short);
            break;
        }
        payload.resize(length as usize, 0);
        read_exact(&mut pending, &mut reader, &mut payload).map_err(io_error)?;
        if crc32fast::hash(&payload) != crc {
            scan.problem = Some(TailProblem::Checksum);
            break;
        }
        let offset = scan.end;
        let length = FRAME_HEADER as u64 + u64::from(length);
        match format::decode_payload(&payload) {
            Err(reason) => {
                scan.problem = Some(TailProblem::Undecodable(reason));
                break;
            }
            Ok(Payload::Flushed { serial, .. }) => scan.flushed = Some(serial),
            Ok(Payload::Changeset {
                kind,
                timestamp,
                changeset,
            }) => {
                let newest = scan.entries.last().map(|e| e.to_serial).or(scan.flushed);
                let from = changeset.from_serial;
                if let Some(expected) = newest.filter(|&n| n != from) {
                    scan.problem = Some(TailProblem::Discontinuous {
                        expected,
                        found: from,
                    });
                    break;
                }
                if kind == ChangeKind::Reload {
                    scan.flushed = Some(changeset.to_serial);
                }
                scan.entries.push(EntryInfo {
                    kind,
                    timestamp,
                    from_serial: from,
                    to_serial: changeset.to_serial,
                    offset,
                    length,
                });
            }
        }
        scan.end = offset + length;
    }
    Ok(scan)
}

/// Fills `out` from `pending` (bytes already read) first, then `reader`.
fn read_exact(pending: &mut Vec<u8>, reader: &mut impl Read, out: &mut [u8]) -> io::Result<()> {
    let from_pending = pending.len().min(out.len());
    out[..from_pending].copy_from_slice(&pending[..from_pending]);
    pending.drain(..from_pending);
    reader.read_exact(&mut out[from_pending..])
}
