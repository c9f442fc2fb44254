//! The order of the records within an RRset in a response: load
//! distribution (Kurose & Ross 2.4.1: "the server responds with the entire
//! set of IP addresses, but rotates the ordering of the addresses within
//! each reply"), so that clients, which take the first, spread over the
//! replicas.
//!
//! RFC 2181 5 leaves the order of an RRset's records free. Three orders,
//! as BIND's `rrset-order` names them:
//! - `fixed`: as the zone file lists them (NSD's and Knot's behaviour);
//! - `cyclic` (the default, BIND's long-standing one): each answer to the
//!   same question starts one record further on;
//! - `random`: each answer starts at a record chosen at random.
//!
//! Both servers keep answers encoded, so a response is never re-encoded
//! per query: an answer is encoded once per rotation ([`rotations`] of
//! them, every RRset of the answer rotated [`rotate_rrsets`] by the same
//! step, each RRset modulo its own size) and each query copies one of the
//! encodings, chosen by [`RrsetOrder::pick`]. Rotating is a permutation of
//! whole records, re-encoded, so compression pointers stay valid in every
//! form. `random` picks a rotation, not a shuffle: the first record is
//! uniform, the cyclic order of the rest is kept.
//!
//! Neighbours: the authoritative server's prepared answers and the
//! resolver's encoded answers and responses use it.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use hickory_proto::rr::Record;

/// At most this many encodings of one answer are kept. An answer whose
/// RRsets' sizes have a least common multiple up to this has that many
/// (every RRset takes each of its rotations equally often); a larger one
/// has as many as its largest RRset, up to this: an RRset of more than 16
/// records starts at one of its first 16.
pub const MAX_ROTATIONS: usize = 16;

/// How the records of an RRset are ordered in each response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RrsetOrder {
    /// As the zone file (or the upstream server) gave them.
    Fixed,
    /// Each response starts one record further on.
    #[default]
    Cyclic,
    /// Each response starts at a record chosen at random.
    Random,
}

/// An `--rrset-order` or `rrset_order:` value that is none of the three.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an RRset order: write fixed, cyclic or random")]
pub struct RrsetOrderError(String);

impl FromStr for RrsetOrder {
    type Err = RrsetOrderError;

    fn from_str(text: &str) -> Result<RrsetOrder, RrsetOrderError> {
        match text {
            "fixed" => Ok(RrsetOrder::Fixed),
            "cyclic" => Ok(RrsetOrder::Cyclic),
            "random" => Ok(RrsetOrder::Random),
            other => Err(RrsetOrderError(other.to_string())),
        }
    }
}

impl fmt::Display for RrsetOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RrsetOrder::Fixed => "fixed",
            RrsetOrder::Cyclic => "cyclic",
            RrsetOrder::Random => "random",
        })
    }
}

impl RrsetOrder {
    /// How many encodings an answer of these sections needs in this order:
    /// one when fixed or when no RRset has two records.
    pub fn rotations<'a>(self, sections: impl IntoIterator<Item = &'a [Record]>) -> usize {
        if self == RrsetOrder::Fixed {
            return 1;
        }
        let mut lcm = 1usize;
        let mut largest = 1usize;
        for section in sections {
            for len in rrset_lengths(section).filter(|&len| len > 1) {
                largest = largest.max(len);
                lcm = lcm / gcd(lcm, len) * len.min(MAX_ROTATIONS + 1);
                lcm = lcm.min(MAX_ROTATIONS + 1);
            }
        }
        if lcm <= MAX_ROTATIONS {
            lcm
        } else {
            largest.min(MAX_ROTATIONS)
        }
    }

    /// Which of `rotations` encodings answers the next query: the first
    /// when fixed (or when there is one); the counter's next value when
    /// cyclic; a random one when random.
    pub fn pick(self, counter: &AtomicU32, rotations: usize) -> usize {
        let n = u32::try_from(rotations).unwrap_or(1).max(1);
        let at = match self {
            _ if n == 1 => 0,
            RrsetOrder::Fixed => 0,
            RrsetOrder::Cyclic => counter.fetch_add(1, Ordering::Relaxed) % n,
            RrsetOrder::Random => rand::random::<u32>() % n,
        };
        usize::try_from(at).unwrap_or(0)
    }
}

/// Rotates every RRset of `records` (a run of records with the same
/// owner, type and class) left by `by` modulo its size: rotation 1 of
/// (a, b, c) is (b, c, a).
pub fn rotate_rrsets(records: &mut [Record], by: usize) {
    let mut start = 0;
    while start < records.len() {
        let len = rrset_len(records.get(start..).unwrap_or_default());
        if let Some(rrset) = records.get_mut(start..start + len) {
            rrset.rotate_left(by % len.max(1));
        }
        start += len.max(1);
    }
}

/// The sizes of the RRsets of `records`, in order.
fn rrset_lengths(records: &[Record]) -> impl Iterator<Item = usize> + '_ {
    let mut rest = records;
    std::iter::from_fn(move || {
        let len = rrset_len(rest);
        rest = rest.get(len..)?;
        (len > 0).then_some(len)
    })
}

/// The size of the RRset `records` starts with: the records after the
/// first with its owner (any case), type and class.
fn rrset_len(records: &[Record]) -> usize {
    let Some(first) = records.first() else {
        return 0;
    };
    records
        .iter()
        .take_while(|r| {
            r.record_type() == first.record_type()
                && r.dns_class == first.dns_class
                && r.name == first.name
        })
        .count()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, NS};
    use hickory_proto::rr::{Name, RData};

    fn a(owner: &str, last: u8) -> Record {
        let name = Name::from_ascii(owner).unwrap();
        Record::from_rdata(name, 60, RData::A(A::new(192, 0, 2, last)))
    }

    fn ns(owner: &str, target: &str) -> Record {
        let name = Name::from_ascii(owner).unwrap();
        let target = Name::from_ascii(target).unwrap();
        Record::from_rdata(name, 60, RData::NS(NS(target)))
    }

    fn lasts(records: &[Record]) -> Vec<u8> {
        records
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(a.0.octets()[3]),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn each_rrset_rotates_modulo_its_own_size() {
        let mut records = vec![
            a("www.example.", 1),
            a("www.example.", 2),
            a("www.example.", 3),
            ns("example.", "a.example."),
            a("other.example.", 7),
            a("other.example.", 8),
        ];
        rotate_rrsets(&mut records, 1);
        assert_eq!(lasts(&records), [2, 3, 1, 8, 7]);
        rotate_rrsets(&mut records, 2);
        assert_eq!(lasts(&records), [1, 2, 3, 8, 7]);
        // Owners in another case are the same owner.
        let mut mixed = vec![a("www.example.", 1), a("WWW.example.", 2)];
        rotate_rrsets(&mut mixed, 1);
        assert_eq!(lasts(&mixed), [2, 1]);
    }

    #[test]
    fn rotations_are_the_lcm_of_the_rrset_sizes_within_bounds() {
        let three: Vec<Record> = (1..=3).map(|i| a("www.example.", i)).collect();
        let two: Vec<Record> = (1..=2).map(|i| a("ns.example.", i)).collect();
        let five: Vec<Record> = (1..=5).map(|i| a("big.example.", i)).collect();
        let twenty: Vec<Record> = (1..=20).map(|i| a("huge.example.", i)).collect();
        let one = [a("one.example.", 1)];
        let cyclic = RrsetOrder::Cyclic;
        assert_eq!(cyclic.rotations([&one[..]]), 1);
        assert_eq!(cyclic.rotations([&three[..], &two[..]]), 6);
        assert_eq!(cyclic.rotations([&three[..], &five[..]]), 15);
        assert_eq!(cyclic.rotations([&two[..], &three[..], &five[..]]), 5);
        assert_eq!(cyclic.rotations([&twenty[..]]), MAX_ROTATIONS);
        assert_eq!(RrsetOrder::Fixed.rotations([&three[..]]), 1);
        assert_eq!(RrsetOrder::Random.rotations([&three[..]]), 3);
    }

    #[test]
    fn cyclic_takes_turns_random_stays_in_range_fixed_stays_first() {
        let counter = AtomicU32::new(0);
        let picks: Vec<usize> = (0..6)
            .map(|_| RrsetOrder::Cyclic.pick(&counter, 3))
            .collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
        assert!((0..100).all(|_| RrsetOrder::Random.pick(&counter, 3) < 3));
        assert_eq!(RrsetOrder::Fixed.pick(&counter, 3), 0);
        assert_eq!(RrsetOrder::Cyclic.pick(&counter, 1), 0);
        assert_eq!("random".parse(), Ok(RrsetOrder::Random));
        assert!("shuffled".parse::<RrsetOrder>().is_err());
        assert_eq!(RrsetOrder::default().to_string(), "cyclic");
    }
}
