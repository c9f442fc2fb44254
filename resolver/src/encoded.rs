//! Encoded answers: the cache-hit fast path.
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
//! Neighbours: [`crate::handler`] reads requests with the wire-level
//! parser both servers share ([`dnslab_wire::check_request`]) and builds
//! entries from the responses its full encoder writes; [`crate::cache`]
//! remains the source of truth, and misses here simply take the full path.
//! The entries live in the one sharded LRU ([`dnslab_wire::ShardedLru`]).

use std::time::Duration;

use dnslab_wire::{opt_record, skip_name, u16_at, Cached, ShardedLru, HEADER_LEN, OPT_LEN, SHARDS};

use crate::clock::{Clock, Stamp};

/// The encoded answer and authority sections of one cached response.
///
/// Everything a hit reads is in `data`, one allocation: the key (to check
/// that the entry found under a hash is this question's), the sections and
/// the TTL fields' offsets. A hit then reads the map, the entry and `data`,
/// not also a boxed key and two vectors.
struct EncodedAnswer {
    /// The key, then the sections, then [`TTL_ENTRY`] bytes per TTL field
    /// (its offset in the sections, u16, and the TTL it held, u32).
    data: Box<[u8]>,
    key_len: u16,
    sections_len: u16,
    /// The low four bits of the response's flags (RCODE).
    rcode: u8,
    ancount: u16,
    nscount: u16,
    /// Hits since the entry was last moved to the front of the LRU order.
    hits: u8,
    stored: Stamp,
    expires: Stamp,
}

/// Bytes per TTL field in [`EncodedAnswer::data`].
const TTL_ENTRY: usize = 6;

/// A hit moves its entry to the front of the LRU order only every this many
/// hits: the move writes to the entry's two neighbours, two more places in
/// memory per hit. A popular entry still moves often enough not to be
/// evicted; one hit fewer than this many times since it moved is evicted
/// as if it had not been hit.
const HITS_PER_PROMOTION: u8 = 8;

impl EncodedAnswer {
    fn sections(&self) -> &[u8] {
        let start = usize::from(self.key_len);
        self.data
            .get(start..start + usize::from(self.sections_len))
            .unwrap_or_default()
    }

    /// (offset in the sections, TTL when stored) of each TTL field.
    fn ttls(&self) -> impl Iterator<Item = (usize, u32)> + '_ {
        let start = usize::from(self.key_len) + usize::from(self.sections_len);
        self.data
            .get(start..)
            .unwrap_or_default()
            .chunks_exact(TTL_ENTRY)
            .map(|entry| {
                let offset = u16::from_be_bytes([entry[0], entry[1]]);
                let ttl = u32::from_be_bytes([entry[2], entry[3], entry[4], entry[5]]);
                (usize::from(offset), ttl)
            })
    }
}

/// Response flags other than RD and RCODE: QR=1, RA=1 (RFC 1035 4.1.1).
const FLAGS_QR: u8 = 0x80;
const FLAGS_RD: u8 = 0x01;
const FLAGS_RA: u8 = 0x80;
/// CD, copied from the query (RFC 4035 3.2.2).
const FLAGS_CD: u8 = 0x10;

impl Cached for EncodedAnswer {
    fn key(&self) -> &[u8] {
        self.data
            .get(..usize::from(self.key_len))
            .unwrap_or_default()
    }
}

/// Encoded answers keyed by (lowercased wire qname, qtype, DO), bounded
/// LRU in shards: the key is hashed once per request, and the entry holds
/// the key itself, so a hash that two keys share costs a miss, never a
/// wrong answer. Locks are held for one map operation and a copy, never
/// across `.await`.
pub(crate) struct EncodedAnswers {
    answers: ShardedLru<EncodedAnswer>,
    /// The cache's clock: an entry expires when its records do.
    clock: Clock,
}

/// What the hit path needs from the request, already parsed.
pub(crate) struct Question<'a> {
    pub id: u16,
    pub recursion_desired: bool,
    /// The question section as the client wrote it.
    pub question: &'a [u8],
    /// Lowercased wire qname followed by the qtype: the key.
    pub key: &'a [u8],
    pub checking_disabled: bool,
    /// Append an OPT record with this payload size (the request had one).
    pub edns: Option<u16>,
    /// The request's DO bit, copied into that OPT record (RFC 3225 3).
    pub dnssec_ok: bool,
    /// The largest response allowed on this transport.
    pub limit: usize,
}

impl EncodedAnswers {
    /// At most about `size` entries in all (at least one per shard).
    pub(crate) fn new(size: usize, clock: Clock) -> EncodedAnswers {
        EncodedAnswers::with_shards(size, SHARDS, clock)
    }

    fn with_shards(size: usize, shards: usize, clock: Clock) -> EncodedAnswers {
        EncodedAnswers {
            answers: ShardedLru::new(size, shards),
            clock,
        }
    }

    /// Entries held in all shards.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.answers.len()
    }

    /// Writes the response to `question` into `out` if a live encoded
    /// answer fits in `question.limit`; `false` (and `out` unspecified)
    /// otherwise, for the full path to answer.
    pub(crate) fn answer(&self, question: &Question<'_>, out: &mut Vec<u8>) -> bool {
        let now = self.clock.now();
        let mut slot = self.answers.slot(question.key);
        let Some(encoded) = slot.peek() else {
            return false;
        };
        if encoded.expires <= now {
            slot.remove();
            return false;
        }
        let sections = encoded.sections();
        let opt_len = if question.edns.is_some() { OPT_LEN } else { 0 };
        let len = HEADER_LEN + question.question.len() + sections.len() + opt_len;
        if len > question.limit {
            return false;
        }
        let [id_hi, id_lo] = question.id.to_be_bytes();
        let [an_hi, an_lo] = encoded.ancount.to_be_bytes();
        let [ns_hi, ns_lo] = encoded.nscount.to_be_bytes();
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
            FLAGS_RA
                | if question.checking_disabled {
                    FLAGS_CD
                } else {
                    0
                }
                | encoded.rcode,
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
        out.extend_from_slice(sections);
        let elapsed = u32::try_from(encoded.stored.until(now).as_secs()).unwrap_or(u32::MAX);
        for (offset, ttl) in encoded.ttls() {
            if let Some(field) = out.get_mut(at + offset..at + offset + 4) {
                field.copy_from_slice(&ttl.saturating_sub(elapsed).to_be_bytes());
            }
        }
        if let Some(payload) = question.edns {
            out.extend_from_slice(&opt_record(payload, 0, question.dnssec_ok));
        }
        encoded.hits = encoded.hits.wrapping_add(1);
        if encoded.hits >= HITS_PER_PROMOTION {
            encoded.hits = 0;
            slot.promote();
        }
        true
    }

    /// Keeps the answer and authority sections of `response` (a complete
    /// response with a lowercased question and no additional section) for
    /// `key`. Responses whose records would not stay cached (no records, a
    /// zero TTL) or that cannot be walked are not kept.
    pub(crate) fn keep(&self, key: &[u8], response: &[u8]) {
        if let Some(encoded) = walk(key, response, self.clock.now()) {
            self.answers.put(encoded);
        }
    }
}

/// Finds the sections and TTL fields of an encoded response (RFC 1035
/// 4.1.3: name, type, class, TTL, RDLENGTH, RDATA) and builds the entry
/// for `key`.
fn walk(key: &[u8], response: &[u8], now: Stamp) -> Option<EncodedAnswer> {
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
        ttls.push((u16::try_from(pos + 4 - start).ok()?, ttl));
        pos += 10 + usize::from(u16_at(response, pos + 8)?);
    }
    if pos != response.len() {
        return None;
    }
    let sections = response.get(start..pos)?;
    let shortest = ttls.iter().map(|&(_, ttl)| ttl).min().filter(|&t| t > 0)?;
    let mut data = Vec::with_capacity(key.len() + sections.len() + TTL_ENTRY * ttls.len());
    data.extend_from_slice(key);
    data.extend_from_slice(sections);
    for (offset, ttl) in ttls {
        data.extend_from_slice(&offset.to_be_bytes());
        data.extend_from_slice(&ttl.to_be_bytes());
    }
    Some(EncodedAnswer {
        data: data.into_boxed_slice(),
        key_len: u16::try_from(key.len()).ok()?,
        sections_len: u16::try_from(sections.len()).ok()?,
        rcode,
        ancount,
        nscount,
        hits: 0,
        stored: now,
        expires: now.after(Duration::from_secs(u64::from(shortest))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response to `www.example.` A (lowercased, ID 0) with one A record
    /// of TTL `ttl`: header, question, answer.
    fn response(ttl: u32) -> Vec<u8> {
        let mut r = vec![0, 0, 0x80, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        r.extend_from_slice(b"\x03www\x07example\x00\x00\x01\x00\x01");
        r.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1]);
        r.extend_from_slice(&ttl.to_be_bytes());
        r.extend_from_slice(&[0, 4, 192, 0, 2, 1]);
        r
    }

    fn key(name: &str) -> Vec<u8> {
        let mut key = Vec::new();
        for label in name.split('.').filter(|l| !l.is_empty()) {
            key.push(label.len() as u8);
            key.extend_from_slice(label.as_bytes());
        }
        key.extend_from_slice(&[0, 0, 1]);
        key
    }

    /// Answers `key` as a client asking `www.example.` A with ID 7 would be.
    fn ask(answers: &EncodedAnswers, key: &[u8]) -> Option<Vec<u8>> {
        let question = b"\x03WWW\x07example\x00\x00\x01\x00\x01";
        let mut out = Vec::new();
        let asked = Question {
            id: 7,
            recursion_desired: true,
            checking_disabled: false,
            question,
            key,
            edns: None,
            dnssec_ok: false,
            limit: 512,
        };
        answers.answer(&asked, &mut out).then_some(out)
    }

    #[test]
    fn a_hit_copies_the_sections_behind_the_question_as_asked() {
        let answers = EncodedAnswers::new(10, Clock::frozen());
        let www = key("www.example");
        answers.keep(&www, &response(300));
        let out = ask(&answers, &www).expect("kept");
        let mut expected = vec![0, 7, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        expected.extend_from_slice(b"\x03WWW\x07example\x00\x00\x01\x00\x01");
        expected.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192, 0, 2, 1]);
        assert_eq!(out, expected);
    }

    #[test]
    fn an_entry_for_another_key_under_the_same_hash_is_a_miss() {
        let answers = EncodedAnswers::new(10, Clock::frozen());
        let (www, ftp) = (key("www.example"), key("ftp.example"));
        assert_eq!(ask(&answers, &www), None);
        // Two keys sharing a hash: store ftp's entry where www's goes.
        let entry = walk(&ftp, &response(300), Stamp::default()).expect("walkable");
        answers.answers.slot(&www).put(entry);
        assert_eq!(ask(&answers, &www), None, "the stored key is checked");
    }

    #[test]
    fn responses_that_would_not_stay_cached_are_not_kept() {
        let answers = EncodedAnswers::new(10, Clock::frozen());
        answers.keep(&key("www.example"), &response(0));
        assert_eq!(answers.len(), 0);
        let mut trailing = response(300);
        trailing.push(0);
        answers.keep(&key("www.example"), &trailing);
        assert_eq!(answers.len(), 0);
    }

    #[test]
    fn an_entry_hit_often_survives_newer_ones_and_one_not_hit_is_evicted() {
        let answers = EncodedAnswers::with_shards(2, 1, Clock::frozen());
        let (a, b, c) = (key("a.example"), key("b.example"), key("c.example"));
        answers.keep(&a, &response(300));
        answers.keep(&b, &response(300));
        for _ in 0..HITS_PER_PROMOTION {
            assert!(ask(&answers, &a).is_some());
        }
        answers.keep(&c, &response(300));
        assert!(ask(&answers, &a).is_some(), "the popular entry stays");
        assert!(ask(&answers, &b).is_none(), "the least recently used goes");
        assert!(ask(&answers, &c).is_some());
        assert_eq!(answers.len(), 2);
    }

    #[test]
    fn ttls_count_down_and_the_entry_expires_with_its_shortest() {
        let answers = EncodedAnswers::new(10, Clock::frozen());
        let www = key("www.example");
        answers.keep(&www, &response(100));
        answers.clock.jump_forward(Duration::from_secs(40));
        let out = ask(&answers, &www).expect("still live");
        let ttl = &out[out.len() - 10..out.len() - 6];
        assert_eq!(ttl, 60u32.to_be_bytes());
        answers.clock.jump_forward(Duration::from_secs(60));
        assert_eq!(ask(&answers, &www), None);
        assert_eq!(answers.len(), 0, "the expired entry was dropped");
    }
}
