//! The TSIG record (RFC 8945 4.2): finding it in a message, where it may
//! only be the last record of the additional section; reading its fields;
//! and the two operations built on it that both sides share — appending a
//! freshly computed one, and checking a received one's MAC.

use crate::error::{Malformed, SignError};
use crate::mac::{MacState, Variables};
use crate::wire::{self, HEADER_LEN, TYPE_TSIG};
use crate::Key;

/// RFC 8945 5.1: "The RECOMMENDED value [of Fudge] is 300 seconds", which
/// BIND and Knot send.
pub const FUDGE: u16 = 300;

/// The fields of a received TSIG record, borrowed from the message.
#[derive(Clone, Debug)]
pub(crate) struct TsigRecord<'a> {
    /// Offset of the record in the message: where the signed part ends.
    pub start: usize,
    /// The owner name, the key's, in canonical (lowercase) wire form.
    pub key_name: Vec<u8>,
    /// The algorithm name in wire form, as received.
    pub algorithm: &'a [u8],
    pub time_signed: u64,
    pub fudge: u16,
    pub mac: &'a [u8],
    pub original_id: u16,
    pub error: u16,
    pub other: &'a [u8],
}

impl TsigRecord<'_> {
    pub fn variables(&self) -> Variables<'_> {
        Variables {
            time_signed: self.time_signed,
            fudge: self.fudge,
            error: self.error,
            other: self.other,
        }
    }
}

/// The message's TSIG record, `None` when it has none. RFC 8945 5.1: the
/// TSIG "MUST be the last record in the additional section"; one anywhere
/// else, or bytes after it, make the message malformed.
pub(crate) fn find(msg: &[u8]) -> Result<Option<TsigRecord<'_>>, Malformed> {
    let counts = wire::counts(msg).ok_or(Malformed::ShortHeader)?;
    let records =
        u32::from(counts.answer) + u32::from(counts.authority) + u32::from(counts.additional);
    // Most queries: one question and no records, or an OPT only.
    if records == 0 {
        return Ok(None);
    }
    let mut at = HEADER_LEN;
    for _ in 0..counts.question {
        at = wire::skip_question(msg, at).ok_or(Malformed::Truncated)?;
    }
    let mut tsig = None;
    for index in 0..records {
        let record = wire::record_at(msg, at).ok_or(Malformed::Truncated)?;
        if record.rtype == TYPE_TSIG {
            if index + 1 != records || counts.additional == 0 {
                return Err(Malformed::NotLast);
            }
            tsig = Some((at, record));
        }
        at = record.end;
    }
    let Some((start, record)) = tsig else {
        return Ok(None);
    };
    if at != msg.len() {
        return Err(Malformed::TrailingBytes);
    }
    if record.class != wire::CLASS_ANY || record.ttl != 0 {
        return Err(Malformed::ClassOrTtl);
    }
    let (key_name, _) = wire::read_name(msg, start).ok_or(Malformed::Truncated)?;
    let rdata = msg
        .get(record.rdata..record.end)
        .ok_or(Malformed::Truncated)?;
    parse_rdata(rdata, start, key_name).map(Some)
}

fn parse_rdata(rdata: &[u8], start: usize, key_name: Vec<u8>) -> Result<TsigRecord<'_>, Malformed> {
    let alg_end = match wire::skip_uncompressed_name(rdata, 0) {
        Some(end) => end,
        None if wire::skip_name(rdata, 0).is_some() => return Err(Malformed::CompressedAlgorithm),
        None => return Err(Malformed::Rdata),
    };
    let field = |at| wire::u16_at(rdata, at).ok_or(Malformed::Rdata);
    let time_signed = wire::u48_at(rdata, alg_end).ok_or(Malformed::Rdata)?;
    let fudge = field(alg_end + 6)?;
    let mac_size = usize::from(field(alg_end + 8)?);
    let mac_at = alg_end + 10;
    let mac = rdata
        .get(mac_at..mac_at + mac_size)
        .ok_or(Malformed::Rdata)?;
    let after_mac = mac_at + mac_size;
    let other_len = usize::from(field(after_mac + 4)?);
    let other_at = after_mac + 6;
    if other_at + other_len != rdata.len() {
        return Err(Malformed::Rdata);
    }
    Ok(TsigRecord {
        start,
        key_name,
        algorithm: rdata.get(..alg_end).ok_or(Malformed::Rdata)?,
        time_signed,
        fudge,
        mac,
        original_id: field(after_mac)?,
        error: field(after_mac + 2)?,
        other: rdata.get(other_at..).ok_or(Malformed::Rdata)?,
    })
}

/// The fields of a TSIG record to append.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NewTsig<'a> {
    pub key_name: &'a [u8],
    pub algorithm: &'a [u8],
    pub vars: Variables<'a>,
    pub mac: &'a [u8],
}

/// Octets a TSIG record takes, for a server reserving room in a response.
pub(crate) fn encoded_len(key_name: &[u8], algorithm: &[u8], mac: usize, other: usize) -> usize {
    // TYPE, CLASS, TTL, RDLENGTH; then time, fudge, MAC size, [MAC],
    // original ID, error, other len, [other].
    key_name.len() + 10 + algorithm.len() + 10 + mac + 6 + other
}

/// Appends the record and counts it in ARCOUNT. The original ID is the
/// message's ID (RFC 8945 4.2).
pub(crate) fn append(msg: &mut Vec<u8>, new: &NewTsig<'_>) -> Result<(), SignError> {
    let original_id = wire::u16_at(msg, 0).ok_or(SignError::ShortMessage)?;
    let arcount = wire::u16_at(msg, wire::ARCOUNT_AT).ok_or(SignError::ShortMessage)?;
    let arcount = arcount.checked_add(1).ok_or(SignError::AdditionalFull)?;
    wire::set_arcount(msg, arcount).ok_or(SignError::ShortMessage)?;
    let rdlength = encoded_len(&[], new.algorithm, new.mac.len(), new.vars.other.len()) - 10;
    msg.reserve(new.key_name.len() + 10 + rdlength);
    msg.extend_from_slice(new.key_name);
    msg.extend_from_slice(&TYPE_TSIG.to_be_bytes());
    msg.extend_from_slice(&wire::CLASS_ANY.to_be_bytes());
    msg.extend_from_slice(&0u32.to_be_bytes());
    msg.extend_from_slice(&(rdlength as u16).to_be_bytes());
    msg.extend_from_slice(new.algorithm);
    wire::put_u48(msg, new.vars.time_signed);
    msg.extend_from_slice(&new.vars.fudge.to_be_bytes());
    msg.extend_from_slice(&(new.mac.len() as u16).to_be_bytes());
    msg.extend_from_slice(new.mac);
    msg.extend_from_slice(&original_id.to_be_bytes());
    msg.extend_from_slice(&new.vars.error.to_be_bytes());
    msg.extend_from_slice(&(new.vars.other.len() as u16).to_be_bytes());
    msg.extend_from_slice(new.vars.other);
    Ok(())
}

/// Which TSIG fields a message's digest ends with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Covers {
    /// RFC 8945 4.3.3: every variable (requests; first response message).
    Variables,
    /// RFC 8945 5.3.1: the timers only (later messages of a response).
    Timers,
}

/// Signs `msg` with `key` and appends the TSIG record; `state` already
/// holds what precedes the message in the digest (request or prior MAC,
/// unsigned messages). Returns the MAC sent: the hash truncated to
/// `mac_len` octets.
pub(crate) fn sign(
    msg: &mut Vec<u8>,
    key: &Key,
    mut state: MacState,
    vars: Variables<'_>,
    covers: Covers,
    mac_len: usize,
) -> Result<Vec<u8>, SignError> {
    if msg.len() < HEADER_LEN {
        return Err(SignError::ShortMessage);
    }
    state.update(msg);
    match covers {
        Covers::Variables => state.variables(key, &vars),
        Covers::Timers => state.timers(vars.time_signed, vars.fudge),
    }
    let mut mac = state.finalize();
    mac.truncate(mac_len);
    append(
        msg,
        &NewTsig {
            key_name: key.wire_name(),
            algorithm: key.algorithm().wire_name(),
            vars,
            mac: &mac,
        },
    )?;
    Ok(mac)
}

/// Whether `record`'s MAC is the keyed hash of `msg` (as it was before the
/// record was added), in constant time; `state` already holds what
/// precedes the message in the digest.
pub(crate) fn verify(
    msg: &[u8],
    record: &TsigRecord<'_>,
    key: &Key,
    mut state: MacState,
    covers: Covers,
) -> bool {
    state.signed_message(msg, record.start, record.original_id);
    match covers {
        Covers::Variables => state.variables(key, &record.variables()),
        Covers::Timers => state.timers(record.time_signed, record.fudge),
    }
    state.verify(record.mac)
}
