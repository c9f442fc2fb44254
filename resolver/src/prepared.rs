//! Prepared answers: the cache-hit fast path.
//!
//! Decoding a whole request and encoding a whole response with hickory is
//! most of what a cache hit costs. So the first time a question is answered
//! from the cache, the sections after the question are kept here, encoded,
//! with the offset of every TTL field; later hits copy the header, the
//! question as asked and these bytes, and patch the ID, the flags and the
//! TTLs (RFC 1035 3.2.1: a cached TTL counts down; RFC 2181 8: the time
//! the record may still be cached). The entry expires with its shortest
//! TTL, when the first of its records would leave the RRset cache anyway.
//!
//! The sections are encoded for a question whose name is the lowercased
//! qname at offset 12 (as in the authoritative crate's prepared answers): a
//! client's name has the same length whatever its case, so compression
//! pointers into it stay valid when the question is echoed as asked.
//!
//! Neighbours: [`crate::handler`] parses requests with the authoritative
//! crate's wire-level parser ([`dnslab_authoritative::request`]) and builds
//! entries from the responses its full encoder writes; [`crate::cache`]
//! remains the source of truth, and misses here simply take the full path.

use std::time::Duration;

use dnslab_authoritative::request::{skip_name, HEADER_LEN};
use tokio::time::Instant;

use crate::cache::Shards;
use crate::lock;

/// The encoded answer and authority sections of one cached response.
struct Prepared {
    /// The low four bits of the response's flags (RCODE).
    rcode: u8,
    ancount: u16,
    nscount: u16,
    /// Every record after the question, compressed against a question
    /// at offset 12.
    sections: Vec<u8>,
    /// Offsets into `sections` of each TTL field, with the TTL it held when
    /// the entry was prepared.
    ttls: Vec<(usize, u32)>,
    prepared: Instant,
    expires: Instant,
}

/// Response flags other than RD and RCODE: QR=1, RA=1 (RFC 1035 4.1.1).
const FLAGS_QR: u8 = 0x80;
const FLAGS_RD: u8 = 0x01;
const FLAGS_RA: u8 = 0x80;

/// Prepared answers keyed by (lowercased wire qname, qtype), bounded LRU
/// in shards so that UDP workers rarely contend. Locks are held for one
/// map operation and a copy, never across `.await`.
pub struct PreparedAnswers {
    shards: Shards<Vec<u8>, Prepared>,
}

/// What the hit path needs from the request, already parsed.
pub struct Question<'a> {
    pub id: u16,
    pub recursion_desired: bool,
    /// The question section as the client wrote it.
    pub question: &'a [u8],
    /// Lowercased wire qname followed by the qtype: the key.
    pub key: &'a [u8],
    /// Append an OPT record (the request had one).
    pub edns: Option<u16>,
    /// The largest response allowed on this transport.
    pub limit: usize,
}

impl PreparedAnswers {
    /// At most `size` entries in all.
    pub fn new(size: usize) -> PreparedAnswers {
        PreparedAnswers {
            shards: Shards::new(size),
        }
    }

    /// Writes the response to `question` into `out` if a live prepared
    /// answer fits in `question.limit`; `false` (and `out` unspecified)
    /// otherwise, for the full path to answer.
    pub fn answer(&self, question: &Question<'_>, out: &mut Vec<u8>) -> bool {
        let now = Instant::now();
        let mut shard = lock(self.shards.of(question.key));
        let Some(prepared) = shard.get(question.key) else {
            return false;
        };
        if prepared.expires <= now {
            shard.pop(question.key);
            return false;
        }
        let opt_len = if question.edns.is_some() { OPT_LEN } else { 0 };
        let len = HEADER_LEN + question.question.len() + prepared.sections.len() + opt_len;
        if len > question.limit {
            return false;
        }
        let [id_hi, id_lo] = question.id.to_be_bytes();
        let [an_hi, an_lo] = prepared.ancount.to_be_bytes();
        let [ns_hi, ns_lo] = prepared.nscount.to_be_bytes();
        let rd = if question.recursion_desired {
            FLAGS_RD
        } else {
            0
        };
        out.clear();
        out.extend_from_slice(&[
            id_hi,
            id_lo,
            FLAGS_QR | rd,
            FLAGS_RA | prepared.rcode,
            0,
            1,
            an_hi,
            an_lo,
            ns_hi,
            ns_lo,
            0,
            u8::from(question.edns.is_some()),
        ]);
        out.extend_from_slice(question.question);
        let at = out.len();
        out.extend_from_slice(&prepared.sections);
        let elapsed =
            u32::try_from(now.duration_since(prepared.prepared).as_secs()).unwrap_or(u32::MAX);
        for &(offset, ttl) in &prepared.ttls {
            if let Some(field) = out.get_mut(at + offset..at + offset + 4) {
                field.copy_from_slice(&ttl.saturating_sub(elapsed).to_be_bytes());
            }
        }
        if let Some(payload) = question.edns {
            out.extend_from_slice(&opt_record(payload));
        }
        true
    }

    /// Keeps the answer and authority sections of `response` (a complete
    /// response with a lowercased question and no additional section) for
    /// `key`. Responses whose records would not stay cached (no records, a
    /// zero TTL) or that cannot be walked are not kept.
    pub fn prepare(&self, key: &[u8], response: &[u8]) {
        let Some(prepared) = walk(response) else {
            return;
        };
        lock(self.shards.of(key)).put(key.to_vec(), prepared);
    }
}

/// RFC 6891 6.1.2: root owner, type OPT, class = payload size, TTL 0
/// (extended RCODE 0, version 0, DO=0), no options.
const OPT_LEN: usize = 11;

fn opt_record(payload: u16) -> [u8; OPT_LEN] {
    let [hi, lo] = payload.to_be_bytes();
    [0, 0, 41, hi, lo, 0, 0, 0, 0, 0, 0]
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))
}

/// Finds the sections and TTL fields of an encoded response (RFC 1035
/// 4.1.3: name, type, class, TTL, RDLENGTH, RDATA).
fn walk(response: &[u8]) -> Option<Prepared> {
    let rcode = response.get(3)? & 0x0F;
    let ancount = u16_at(response, 6)?;
    let nscount = u16_at(response, 8)?;
    if u16_at(response, 4)? != 1 || u16_at(response, 10)? != 0 {
        return None;
    }
    let start = skip_name(response, HEADER_LEN)? + 4;
    let mut pos = start;
    let mut ttls = Vec::new();
    for _ in 0..u32::from(ancount) + u32::from(nscount) {
        pos = skip_name(response, pos)?;
        let ttl = u32::from_be_bytes(response.get(pos + 4..pos + 8)?.try_into().ok()?);
        ttls.push((pos + 4 - start, ttl));
        pos += 10 + usize::from(u16_at(response, pos + 8)?);
    }
    if pos != response.len() {
        return None;
    }
    let sections = response.get(start..pos)?.to_vec();
    let shortest = ttls.iter().map(|&(_, ttl)| ttl).min().filter(|&t| t > 0)?;
    let now = Instant::now();
    Some(Prepared {
        rcode,
        ancount,
        nscount,
        sections,
        ttls,
        prepared: now,
        expires: now + Duration::from_secs(u64::from(shortest)),
    })
}
