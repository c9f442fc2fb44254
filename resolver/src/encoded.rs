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
//! An answer with RRsets of several records is kept in each rotation of
//! them (load distribution, `--rrset-order`): a hit copies the next one in
//! turn (cyclic) or one at random, so answers rotate without encoding per
//! hit. Answers tied to a client network (`--ecs`) are not kept here: the
//! key holds no network.
//!
//! Neighbours: [`crate::handler`] reads requests with the wire-level
//! parser both servers share ([`dnslab_wire::check_request`]) and builds
//! entries from the responses its full encoder writes; [`crate::cache`]
//! remains the source of truth, and misses here simply take the full path.
//! The entries live in the one sharded LRU ([`dnslab_wire::ShardedLru`]).

use std::time::Duration;

use dnslab_wire::{
    opt_record, skip_name, u16_at, Cached, RrsetOrder, ShardedLru, HEADER_LEN, OPT_LEN, SHARDS,
};
use smallvec::SmallVec;

use crate::clock::{Clock, Stamp};

/// The encoded answer and authority sections of one cached response, in
/// each rotation of its RRsets.
///
/// Everything a hit reads is in `data`, one allocation: the key (to check
/// that the entry found under a hash is this question's), then each
/// rotation's sections and TTL fields' offsets. A hit then reads the map,
/// the entry and `data`, not also a boxed key and two vectors.
struct EncodedAnswer {
    /// The key, then per rotation the sections and [`TTL_ENTRY`] bytes per
    /// TTL field (its offset in the sections, u16, and the TTL it held, u32).
    data: Box<[u8]>,
    key_len: u16,
    /// The size of each rotation in `data`: one without rotations.
    forms: SmallVec<[Form; 1]>,
    /// The low four bits of the response's flags (RCODE).
    rcode: u8,
    ancount: u16,
    nscount: u16,
    /// Hits since the entry was last moved to the front of the LRU order.
    hits: u8,
    /// The rotation the next hit copies, in the cyclic order.
    turn: u8,
    stored: Stamp,
    expires: Stamp,
}

/// One rotation's share of [`EncodedAnswer::data`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Form {
    sections_len: u16,
    ttls: u16,
}

impl Form {
    fn len(self) -> usize {
        usize::from(self.sections_len) + TTL_ENTRY * usize::from(self.ttls)
    }
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
    /// Rotation `at`: its sections, and (offset in the sections, TTL when
    /// stored) of each TTL field.
    fn form(&self, at: usize) -> (&[u8], impl Iterator<Item = (usize, u32)> + '_) {
        let start = usize::from(self.key_len)
            + self
                .forms
                .iter()
                .take(at)
                .map(|form| form.len())
                .sum::<usize>();
        let form = self.forms.get(at).copied().unwrap_or(Form {
            sections_len: 0,
            ttls: 0,
        });
        let sections_end = start + usize::from(form.sections_len);
        let sections = self.data.get(start..sections_end).unwrap_or_default();
        let ttls = self
            .data
            .get(sections_end..start + form.len())
            .unwrap_or_default()
            .chunks_exact(TTL_ENTRY)
            .map(|entry| {
                let offset = u16::from_be_bytes([entry[0], entry[1]]);
                let ttl = u32::from_be_bytes([entry[2], entry[3], entry[4], entry[5]]);
                (usize::from(offset), ttl)
            });
        (sections, ttls)
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
    /// Which rotation of an entry each hit copies.
    order: RrsetOrder,
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
    /// At most about `size` entries in all (at least one per shard), whose
    /// rotations are copied in `order`, timed on the cache's `clock`.
    pub(crate) fn new(size: usize, order: RrsetOrder, clock: Clock) -> EncodedAnswers {
        EncodedAnswers::with_shards(size, SHARDS, order, clock)
    }

    fn with_shards(size: usize, shards: usize, order: RrsetOrder, clock: Clock) -> EncodedAnswers {
        EncodedAnswers {
            answers: ShardedLru::new(size, shards),
            order,
            clock,
        }
    }

    /// Forgets every answer (after a cache flush).
    pub(crate) fn clear(&self) {
        self.answers.remove_if(|_| true);
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
        let rotations = encoded.forms.len();
        let rotation = match self.order {
            _ if rotations <= 1 => 0,
            RrsetOrder::Random => rand::random_range(0..rotations),
            RrsetOrder::Cyclic | RrsetOrder::Fixed => usize::from(encoded.turn) % rotations,
        };
        let (sections, ttls) = encoded.form(rotation);
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
        for (offset, ttl) in ttls {
            if let Some(field) = out.get_mut(at + offset..at + offset + 4) {
                field.copy_from_slice(&ttl.saturating_sub(elapsed).to_be_bytes());
            }
        }
        if let Some(payload) = question.edns {
            out.extend_from_slice(&opt_record(payload, 0, question.dnssec_ok));
        }
        // The turn moves on with a rotation sent, not one too long to send.
        if rotations > 1 && self.order == RrsetOrder::Cyclic {
            encoded.turn = u8::try_from((rotation + 1) % rotations).unwrap_or(0);
        }
        encoded.hits = encoded.hits.wrapping_add(1);
        if encoded.hits >= HITS_PER_PROMOTION {
            encoded.hits = 0;
            slot.promote();
        }
        true
    }

    /// Keeps the answer and authority sections of `responses` (complete
    /// responses with a lowercased question and no additional section:
    /// the rotations of one answer) for `key`. Responses whose records
    /// would not stay cached (no records, a zero TTL), that cannot be
    /// walked or whose rotations differ in more than order are not kept.
    /// `next` is the rotation the first hit copies in the cyclic order
    /// (the one after the answer that was just written).
    /// Whether an unexpired answer is kept for `key`: a question that
    /// takes the full path on every hit (a client the kept answer does not
    /// fit, one that sends its ECS option, class ANY) leaves it as it is
    /// instead of encoding every rotation again.
    pub(crate) fn holds(&self, key: &[u8]) -> bool {
        let now = self.clock.now();
        self.answers
            .slot(key)
            .peek()
            .is_some_and(|encoded| encoded.expires > now)
    }

    pub(crate) fn keep(&self, key: &[u8], responses: &[Vec<u8>], next: usize) {
        if let Some(mut encoded) = build(key, responses, self.clock.now()) {
            let turn = next % encoded.forms.len().max(1);
            encoded.turn = u8::try_from(turn).unwrap_or(0);
            self.answers.put(encoded);
        }
    }
}

/// One walked response: its header fields, sections and TTL fields.
struct Walked<'a> {
    rcode: u8,
    ancount: u16,
    nscount: u16,
    sections: &'a [u8],
    /// (offset in the sections, TTL) of each TTL field.
    ttls: Vec<(u16, u32)>,
}

/// Finds the sections and TTL fields of an encoded response (RFC 1035
/// 4.1.3: name, type, class, TTL, RDLENGTH, RDATA).
fn walk(response: &[u8]) -> Option<Walked<'_>> {
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
    Some(Walked {
        rcode,
        ancount,
        nscount,
        sections: response.get(start..pos)?,
        ttls,
    })
}

/// The entry for `key` from the rotations `responses` of one answer,
/// stored `now`.
fn build(key: &[u8], responses: &[Vec<u8>], now: Stamp) -> Option<EncodedAnswer> {
    let walked: Vec<Walked<'_>> = responses.iter().map(|r| walk(r)).collect::<Option<_>>()?;
    let first = walked.first()?;
    let same = |w: &Walked<'_>| {
        (w.rcode, w.ancount, w.nscount, w.ttls.len())
            == (first.rcode, first.ancount, first.nscount, first.ttls.len())
    };
    if !walked.iter().all(same) {
        return None;
    }
    let shortest = first
        .ttls
        .iter()
        .map(|&(_, ttl)| ttl)
        .min()
        .filter(|&t| t > 0)?;
    let size: usize = walked
        .iter()
        .map(|w| w.sections.len() + TTL_ENTRY * w.ttls.len())
        .sum();
    let mut data = Vec::with_capacity(key.len() + size);
    data.extend_from_slice(key);
    let mut forms = SmallVec::new();
    for form in &walked {
        data.extend_from_slice(form.sections);
        for (offset, ttl) in &form.ttls {
            data.extend_from_slice(&offset.to_be_bytes());
            data.extend_from_slice(&ttl.to_be_bytes());
        }
        forms.push(Form {
            sections_len: u16::try_from(form.sections.len()).ok()?,
            ttls: u16::try_from(form.ttls.len()).ok()?,
        });
    }
    Some(EncodedAnswer {
        data: data.into_boxed_slice(),
        key_len: u16::try_from(key.len()).ok()?,
        forms,
        rcode: first.rcode,
        ancount: first.ancount,
        nscount: first.nscount,
        hits: 0,
        turn: 0,
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
        ask_within(answers, key, 512)
    }

    /// [`ask`] by a client that takes answers of `limit` octets at most.
    fn ask_within(answers: &EncodedAnswers, key: &[u8], limit: usize) -> Option<Vec<u8>> {
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
            limit,
        };
        answers.answer(&asked, &mut out).then_some(out)
    }

    #[test]
    fn a_hit_copies_the_sections_behind_the_question_as_asked() {
        let answers = EncodedAnswers::new(10, RrsetOrder::Cyclic, Clock::frozen());
        let www = key("www.example");
        answers.keep(&www, &[response(300)], 0);
        let out = ask(&answers, &www).expect("kept");
        let mut expected = vec![0, 7, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        expected.extend_from_slice(b"\x03WWW\x07example\x00\x00\x01\x00\x01");
        expected.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192, 0, 2, 1]);
        assert_eq!(out, expected);
    }

    #[test]
    fn an_entry_for_another_key_under_the_same_hash_is_a_miss() {
        let answers = EncodedAnswers::new(10, RrsetOrder::Cyclic, Clock::frozen());
        let (www, ftp) = (key("www.example"), key("ftp.example"));
        assert_eq!(ask(&answers, &www), None);
        // Two keys sharing a hash: store ftp's entry where www's goes.
        let entry = build(&ftp, &[response(300)], Stamp::default()).expect("walkable");
        answers.answers.slot(&www).put(entry);
        assert_eq!(ask(&answers, &www), None, "the stored key is checked");
    }

    #[test]
    fn responses_that_would_not_stay_cached_are_not_kept() {
        let answers = EncodedAnswers::new(10, RrsetOrder::Cyclic, Clock::frozen());
        answers.keep(&key("www.example"), &[response(0)], 0);
        assert_eq!(answers.len(), 0);
        let mut trailing = response(300);
        trailing.push(0);
        answers.keep(&key("www.example"), &[trailing.clone()], 0);
        answers.keep(&key("www.example"), &[response(300), trailing], 0);
        assert_eq!(answers.len(), 0);
    }

    #[test]
    fn an_entry_hit_often_survives_newer_ones_and_one_not_hit_is_evicted() {
        let answers = EncodedAnswers::with_shards(2, 1, RrsetOrder::Cyclic, Clock::frozen());
        let (a, b, c) = (key("a.example"), key("b.example"), key("c.example"));
        answers.keep(&a, &[response(300)], 0);
        answers.keep(&b, &[response(300)], 0);
        for _ in 0..HITS_PER_PROMOTION {
            assert!(ask(&answers, &a).is_some());
        }
        answers.keep(&c, &[response(300)], 0);
        assert!(ask(&answers, &a).is_some(), "the popular entry stays");
        assert!(ask(&answers, &b).is_none(), "the least recently used goes");
        assert!(ask(&answers, &c).is_some());
        assert_eq!(answers.len(), 2);
    }

    #[test]
    fn ttls_count_down_and_the_entry_expires_with_its_shortest() {
        let answers = EncodedAnswers::new(10, RrsetOrder::Cyclic, Clock::frozen());
        let www = key("www.example");
        answers.keep(&www, &[response(100)], 0);
        answers.clock.jump_forward(Duration::from_secs(40));
        let out = ask(&answers, &www).expect("still live");
        let ttl = &out[out.len() - 10..out.len() - 6];
        assert_eq!(ttl, 60u32.to_be_bytes());
        answers.clock.jump_forward(Duration::from_secs(60));
        assert_eq!(ask(&answers, &www), None);
        assert_eq!(answers.len(), 0, "the expired entry was dropped");
    }

    /// Load distribution: an entry kept in two rotations is copied in
    /// turn (cyclic) or either at random.
    #[test]
    fn rotations_are_copied_in_turn_or_at_random() {
        let mut second = response(300);
        let last = second.len() - 1;
        second[last] = 2;
        let www = key("www.example");
        let last_octets = |answers: &EncodedAnswers, n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| *ask(answers, &www).expect("kept").last().unwrap())
                .collect()
        };
        let cyclic = EncodedAnswers::new(10, RrsetOrder::Cyclic, Clock::frozen());
        cyclic.keep(&www, &[response(300), second.clone()], 0);
        assert_eq!(last_octets(&cyclic, 5), [1, 2, 1, 2, 1]);
        let random = EncodedAnswers::new(10, RrsetOrder::Random, Clock::frozen());
        random.keep(&www, &[response(300), second], 0);
        let seen = last_octets(&random, 64);
        assert!(seen.contains(&1) && seen.contains(&2), "{seen:?}");
    }

    /// A client the kept answer does not fit takes the full path: the
    /// answer stays kept (the full path need not encode it again) and its
    /// turn does not move for a rotation that was not sent.
    #[test]
    fn an_answer_too_long_for_the_client_keeps_its_turn_and_stays_kept() {
        let mut second = response(300);
        let last = second.len() - 1;
        second[last] = 2;
        let www = key("www.example");
        let answers = EncodedAnswers::new(10, RrsetOrder::Cyclic, Clock::frozen());
        assert!(!answers.holds(&www));
        answers.keep(&www, &[response(300), second], 0);
        assert!(answers.holds(&www));
        assert_eq!(ask_within(&answers, &www, 20), None);
        assert_eq!(ask_within(&answers, &www, 20), None);
        assert!(answers.holds(&www));
        let first = ask(&answers, &www).expect("kept");
        assert_eq!(first.last(), Some(&1), "still the first rotation's turn");
        assert_eq!(ask(&answers, &www).expect("kept").last(), Some(&2));
    }
}
