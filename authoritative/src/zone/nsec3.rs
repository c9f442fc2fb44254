//! The NSEC3 chain of a zone signed with NSEC3 (RFC 5155): its records,
//! kept beside the name tree, ordered by the hash their owner names hold,
//! so that denial proofs find the record matching or covering a name.

use dnslab_wire::WireName;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use sha1::{Digest, Sha1};

use super::reader::type_covered;

/// The hash parameters of a chain (RFC 5155 3.1: algorithm 1 is SHA-1,
/// the only one defined).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Parameters {
    iterations: u16,
    salt: Vec<u8>,
}

/// The NSEC3 records of a zone and their signatures, with the chain's
/// order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Nsec3Chain {
    /// NSEC3 records and the RRSIGs over them, as read.
    records: Vec<Record>,
    /// `None` when the zone has no usable NSEC3PARAM and NSEC3 records.
    parameters: Option<Parameters>,
    /// (owner hash, index of the NSEC3 record in `records`), by hash.
    order: Vec<(Vec<u8>, usize)>,
    /// (owner hash, index of an RRSIG over an NSEC3 in `records`), by
    /// hash: a proof finds its signatures without scanning the chain.
    signatures: Vec<(Vec<u8>, usize)>,
}

impl Nsec3Chain {
    /// The chain of `records` (NSEC3 and RRSIG over NSEC3) with the
    /// parameters of the zone's NSEC3PARAM, `param` (its data), or else of
    /// its first NSEC3 record with hash algorithm 1.
    pub(crate) fn new(records: Vec<Record>, param: Option<&RData>, origin: &Name) -> Nsec3Chain {
        let parameters = param.and_then(parameters_of).or_else(|| {
            records
                .iter()
                .filter(|r| r.record_type() == RecordType::NSEC3)
                .find_map(|r| parameters_of(&r.data))
        });
        let by_hash = |keep: &dyn Fn(&Record) -> bool| {
            let mut by_hash: Vec<(Vec<u8>, usize)> = records
                .iter()
                .enumerate()
                .filter(|(_, r)| r.name.base_name() == *origin && keep(r))
                .filter_map(|(at, r)| Some((owner_hash(&r.name)?, at)))
                .collect();
            by_hash.sort();
            by_hash
        };
        let order = by_hash(&|r| {
            r.record_type() == RecordType::NSEC3
                && parameters.as_ref() == parameters_of(&r.data).as_ref()
        });
        let signatures = by_hash(&|r| type_covered(&r.data) == Some(RecordType::NSEC3));
        Nsec3Chain {
            records,
            parameters,
            order,
            signatures,
        }
    }

    pub(crate) fn records(&self) -> &[Record] {
        &self.records
    }

    /// Whether denial proofs can be given: parameters and a chain.
    pub(crate) fn is_usable(&self) -> bool {
        self.parameters.is_some() && !self.order.is_empty()
    }

    /// The NSEC3 whose owner is the hash of `name`, with its RRSIGs.
    pub(crate) fn matching(&self, name: &Name) -> Option<Vec<Record>> {
        let hash = self.hash(name)?;
        let at = self.order.binary_search_by(|(h, _)| h.cmp(&hash)).ok()?;
        Some(self.with_signatures(at))
    }

    /// The NSEC3 covering the hash of `name` (the last before it, or the
    /// last of all), with its RRSIGs; `None` if a record matches instead.
    pub(crate) fn covering(&self, name: &Name) -> Option<Vec<Record>> {
        let hash = self.hash(name)?;
        let before = match self.order.binary_search_by(|(h, _)| h.cmp(&hash)) {
            Ok(_) => return None,
            Err(before) => before,
        };
        let at = match before.checked_sub(1) {
            Some(previous) => previous,
            None => self.order.len().checked_sub(1)?,
        };
        Some(self.with_signatures(at))
    }

    /// RFC 5155 5: `IH(salt, x, k)`, the SHA-1 of the name in canonical
    /// (lowercased) wire form and the salt, hashed again with the salt
    /// `iterations` times.
    fn hash(&self, name: &Name) -> Option<Vec<u8>> {
        let Parameters { iterations, salt } = self.parameters.as_ref()?;
        let mut digest = Sha1::new()
            .chain_update(WireName::new(name).bytes())
            .chain_update(salt)
            .finalize();
        for _ in 0..*iterations {
            digest = Sha1::new()
                .chain_update(digest)
                .chain_update(salt)
                .finalize();
        }
        Some(digest.to_vec())
    }

    /// The NSEC3 at `order[at]` and the RRSIGs over it (same owner, so
    /// same hash).
    fn with_signatures(&self, at: usize) -> Vec<Record> {
        let (hash, index) = &self.order[at];
        let first = self.signatures.partition_point(|(h, _)| h < hash);
        let mut out = vec![self.records[*index].clone()];
        out.extend(
            self.signatures[first..]
                .iter()
                .take_while(|(h, _)| h == hash)
                .map(|&(_, sig)| self.records[sig].clone()),
        );
        out
    }
}

/// Hash algorithm 1 and the iterations and salt of NSEC3 or NSEC3PARAM
/// data (both start `ALGORITHM FLAGS ITERATIONS SALT-LENGTH SALT`).
fn parameters_of(data: &RData) -> Option<Parameters> {
    let RData::Unknown { rdata, .. } = data else {
        return None;
    };
    let bytes = &rdata.anything;
    let (&algorithm, &[hi, lo, salt_len]) = (bytes.first()?, bytes.get(2..5)?.try_into().ok()?);
    let salt = bytes.get(5..5 + usize::from(salt_len))?.to_vec();
    (algorithm == 1).then_some(Parameters {
        iterations: u16::from_be_bytes([hi, lo]),
        salt,
    })
}

/// The hash an NSEC3 owner name holds in its first label (base32hex).
fn owner_hash(owner: &Name) -> Option<Vec<u8>> {
    let label = owner.iter().next()?;
    data_encoding::BASE32HEX_NOPAD
        .decode(&label.to_ascii_uppercase())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::reader::unknown;

    /// RFC 5155 appendix A: the zone `example` with salt aabbccdd and 12
    /// iterations; its first two hashes.
    #[test]
    fn names_hash_as_in_rfc_5155_appendix_a() {
        let param = unknown(
            RecordType::NSEC3PARAM,
            vec![1, 0, 0, 12, 4, 0xaa, 0xbb, 0xcc, 0xdd],
        );
        let origin = Name::from_ascii("example.").unwrap();
        let chain = Nsec3Chain::new(Vec::new(), Some(&param), &origin);
        let hash = |name: &str| {
            let hash = chain.hash(&Name::from_ascii(name).unwrap()).unwrap();
            data_encoding::BASE32HEX_NOPAD
                .encode(&hash)
                .to_ascii_lowercase()
        };
        assert_eq!(hash("example."), "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom");
        assert_eq!(hash("a.example."), "35mthgpgcu1qg68fab165klnsnk3dpvl");
        assert_eq!(hash("A.EXAMPLE."), "35mthgpgcu1qg68fab165klnsnk3dpvl");
    }

    #[test]
    fn the_chain_finds_matching_and_covering_records() {
        let origin = Name::from_ascii("example.").unwrap();
        let param = unknown(RecordType::NSEC3PARAM, vec![1, 0, 0, 0, 0]);
        // No salt, no extra iteration: each owner is just SHA-1 of the name.
        let chain_for = |names: &[&str]| {
            let records = names
                .iter()
                .map(|name| {
                    let probe = Nsec3Chain::new(Vec::new(), Some(&param), &origin);
                    let hash = probe.hash(&Name::from_ascii(name).unwrap()).unwrap();
                    let label = data_encoding::BASE32HEX_NOPAD.encode(&hash);
                    let owner = Name::from_ascii(&label)
                        .unwrap()
                        .append_domain(&origin)
                        .unwrap();
                    // Each NSEC3 with its RRSIG, told apart by a last
                    // byte: the name's length.
                    let covered = u16::from(RecordType::NSEC3).to_be_bytes();
                    let sig = vec![covered[0], covered[1], name.len() as u8];
                    [
                        Record::from_rdata(
                            owner.clone(),
                            300,
                            unknown(RecordType::NSEC3, vec![1, 0, 0, 0, 0]),
                        ),
                        Record::from_rdata(owner, 300, unknown(RecordType::RRSIG, sig)),
                    ]
                })
                .rev()
                .flatten()
                .collect();
            Nsec3Chain::new(records, Some(&param), &origin)
        };
        let chain = chain_for(&["example.", "www.example."]);
        assert!(chain.is_usable());
        let name = |text: &str| Name::from_ascii(text).unwrap();
        let sig_marker = |record: &Record| match &record.data {
            RData::Unknown { rdata, .. } => rdata.anything.last().copied(),
            _ => None,
        };
        let matching = chain.matching(&name("www.example.")).unwrap();
        assert_eq!(matching.len(), 2);
        assert_eq!(matching[0].record_type(), RecordType::NSEC3);
        assert_eq!(matching[1].record_type(), RecordType::RRSIG);
        assert_eq!(matching[1].name, matching[0].name);
        assert_eq!(sig_marker(&matching[1]), Some("www.example.".len() as u8));
        assert!(chain.covering(&name("www.example.")).is_none());
        // Any other name falls between (or around) the two hashes.
        let covering = chain.covering(&name("nope.example.")).unwrap();
        assert_eq!(covering.len(), 2);
        assert_eq!(covering[0].record_type(), RecordType::NSEC3);
        assert_eq!(covering[1].record_type(), RecordType::RRSIG);
        assert_eq!(covering[1].name, covering[0].name);
        assert!(chain.matching(&name("nope.example.")).is_none());
        assert!(!Nsec3Chain::default().is_usable());
    }
}
