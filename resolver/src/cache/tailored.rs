//! Answers for one client network (RFC 7871 7.3), kept beside everyone's.
//!
//! With `--ecs` an upstream query carries the client's network, and the
//! server's answer says, by its SCOPE PREFIX-LENGTH, which leading bits of
//! it the answer holds for. An answer of scope 0 (or without the option)
//! holds for everyone and is cached as any other. One of a longer scope is
//! tied to the client's network cut to that many bits (to the SOURCE we
//! sent when the scope is longer, 7.3.1): its RRsets are stored in the same
//! LRU under the ordinary key followed by the network (family, length and
//! the address octets the length covers), and found again by a client
//! whose address is in that network. Only the answer is tied (7.3.1: the
//! authority and additional sections, the delegations the walk follows,
//! stay everyone's).
//!
//! A lookup for a client tries, longest first, each network length that
//! some tied entry has (kept as bit sets, so nothing is tried while no
//! answer has been tied), before everyone's entries.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use dnslab_wire::{truncate, Cidr, ClientSubnet};
use hickory_proto::rr::{Name, Record, RecordType};

use super::{Cache, Lookup};

/// The network lengths tied entries have: bit `n` of word `n / 64` for a
/// length of `n` bits, IPv4 and IPv6 apart.
#[derive(Default)]
pub(super) struct Lengths {
    v4: AtomicU64,
    v6: [AtomicU64; 3],
}

impl Lengths {
    fn words(&self, v4: bool) -> &[AtomicU64] {
        if v4 {
            std::slice::from_ref(&self.v4)
        } else {
            &self.v6
        }
    }

    fn insert(&self, network: &Cidr) {
        let len = usize::from(network.prefix_len());
        if let Some(word) = self.words(network.addr().is_ipv4()).get(len / 64) {
            word.fetch_or(1 << (len % 64), Ordering::Relaxed);
        }
    }

    /// The lengths present for `client`'s family, longest first.
    fn longest_first(&self, client: IpAddr) -> impl Iterator<Item = u8> + '_ {
        let words = self.words(client.is_ipv4());
        (0..words.len() * 64).rev().filter_map(move |len| {
            let word = words.get(len / 64)?.load(Ordering::Relaxed);
            let present = word & (1 << (len % 64)) != 0;
            present.then(|| u8::try_from(len).ok()).flatten()
        })
    }
}

/// The network an answer of SCOPE PREFIX-LENGTH `scope`, to a query for
/// `client`, holds for (RFC 7871 7.3.1): the client's network cut to the
/// scope, or to the SOURCE sent when that is shorter; `None`, everyone,
/// for scope 0 or a query without ECS.
pub(crate) fn tie(client: Option<&ClientSubnet>, scope: u8) -> Option<Cidr> {
    let client = client?;
    let len = scope.min(client.source());
    if len == 0 {
        return None;
    }
    Cidr::new(truncate(client.addr(), len), len).ok()
}

/// The key suffix of entries tied to `network`.
fn suffix(network: &Cidr) -> Vec<u8> {
    let len = network.prefix_len();
    let (family, octets) = match truncate(network.addr(), len) {
        IpAddr::V4(v4) => (1, v4.octets().to_vec()),
        IpAddr::V6(v6) => (2, v6.octets().to_vec()),
    };
    let used = usize::from(len).div_ceil(8);
    let mut key = vec![family, len];
    key.extend_from_slice(octets.get(..used).unwrap_or_default());
    key
}

impl Cache {
    /// Stores the records of an answer that holds for `network` only.
    pub(crate) fn store_tied_records(&self, records: &[Record], network: &Cidr) {
        self.tied.insert(network);
        self.store_records_in(records, Some(&suffix(network)));
    }

    /// Stores a negative answer that holds for `network` only; returns the
    /// SOA as clients should see it, as [`Cache::store_negative`] does.
    pub(crate) fn store_tied_negative(
        &self,
        name: &Name,
        rtype: RecordType,
        nx: bool,
        soa: Option<Record>,
        network: &Cidr,
    ) -> Option<Record> {
        self.tied.insert(network);
        self.store_negative_in(name, rtype, nx, soa, Some(&suffix(network)))
    }

    /// What the cache holds about (`name`, `rtype`) for the client
    /// network `client`/`source` alone, with the length of the network it
    /// was tied to; `None` when nothing is tied to a network holding it.
    /// A network longer than `source` is not the client's to use (RFC 7871
    /// 7.3.1: a /16 question is not answered with one /24's answer).
    pub(crate) fn lookup_tied(
        &self,
        name: &Name,
        rtype: RecordType,
        client: IpAddr,
        source: u8,
    ) -> Option<(Lookup, u8)> {
        let lengths = self.tied.longest_first(client);
        lengths.filter(|&len| len <= source).find_map(|len| {
            let network = Cidr::new(truncate(client, len), len).ok()?;
            match self.lookup_in(name, rtype, Some(&suffix(&network))) {
                Lookup::Miss => None,
                found => Some((found, len)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::RData;

    fn a(last: u8) -> Record {
        let name = Name::from_ascii("cdn.example.").unwrap();
        Record::from_rdata(name, 60, RData::A(A::new(192, 0, 2, last)))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn cidr(text: &str) -> Cidr {
        text.parse().unwrap()
    }

    /// Tied answers are found by clients of their network only, the
    /// longest network first; everyone's stay apart.
    #[test]
    fn a_tied_answer_is_found_within_its_network_only() {
        let cache = Cache::new(100, 0, 86400, crate::Clock::frozen());
        let name = Name::from_ascii("cdn.example.").unwrap();
        assert!(cache
            .lookup_tied(&name, RecordType::A, ip("127.0.0.1"), 32)
            .is_none());
        cache.store_tied_records(&[a(1)], &cidr("127.0.0.0/24"));
        cache.store_tied_records(&[a(2)], &cidr("127.0.0.0/16"));
        cache.store_tied_records(&[a(3)], &cidr("127.0.1.0/24"));
        let seen_from = |client: &str, source| match cache.lookup_tied(
            &name,
            RecordType::A,
            ip(client),
            source,
        ) {
            Some((Lookup::Hit(records), len)) => Some((records[0].data.to_string(), len)),
            _ => None,
        };
        let seen = |client: &str| seen_from(client, 24);
        assert_eq!(seen("127.0.0.9"), Some(("192.0.2.1".to_string(), 24)));
        assert_eq!(seen("127.0.1.9"), Some(("192.0.2.3".to_string(), 24)));
        assert_eq!(seen("127.0.7.9"), Some(("192.0.2.2".to_string(), 16)));
        assert_eq!(seen("10.0.0.1"), None);
        assert_eq!(seen("2001:db8::1"), None);
        // A client that asks for its /16 gets the /16's answer, not that
        // of the /24 its address happens to fall in.
        assert_eq!(
            seen_from("127.0.0.0", 16),
            Some(("192.0.2.2".to_string(), 16))
        );
        assert_eq!(seen_from("127.0.0.0", 8), None);
        assert_eq!(
            cache.lookup(&name, RecordType::A),
            Lookup::Miss,
            "not everyone's"
        );
    }
}
