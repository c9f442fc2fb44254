//! Names as the store and the lookup compare them: lowercased, in
//! uncompressed wire form, on the stack ([`WireName`]), and the canonical
//! order of RFC 4034 6.1 ([`canonical_cmp`]) that orders the NSEC chain.
//!
//! The name arena ([`super::arena`]) hashes these bytes to find a node;
//! the lookup walks a query name's ancestors with [`WireName::ancestor`].

use hickory_proto::rr::Name;
use smallvec::SmallVec;

/// A name in lowercased, uncompressed wire format (RFC 1035 3.1), built on
/// the stack. Because every label carries its length, the wire form of each
/// ancestor is a suffix of it, so walking up a name costs no allocation.
pub(crate) struct WireName {
    bytes: [u8; 255],
    len: u8,
    /// Offset in `bytes` where each label starts, most specific first.
    starts: [u8; 128],
    labels: u8,
}

impl WireName {
    /// The wire form of `name`, lowercased. Names longer than 255 octets
    /// cannot come from the wire or from a checked master file; should one
    /// appear, it is cut at the last label that fits.
    pub(crate) fn new(name: &Name) -> Self {
        Self::from_labels(name.iter())
    }

    /// The lowercased copy of `wire`, an uncompressed wire-format name.
    pub(super) fn from_wire(wire: &[u8]) -> Self {
        Self::from_labels(WireLabels(wire))
    }

    fn from_labels<'a>(labels: impl Iterator<Item = &'a [u8]>) -> Self {
        let mut wire = WireName {
            bytes: [0; 255],
            len: 0,
            starts: [0; 128],
            labels: 0,
        };
        let mut at = 0usize;
        for label in labels {
            let end = at + 1 + label.len();
            // The root octet must still fit after this label.
            if end >= wire.bytes.len() || label.len() > 63 || wire.labels >= 127 {
                break;
            }
            wire.starts[wire.labels as usize] = at as u8;
            wire.labels += 1;
            wire.bytes[at] = label.len() as u8;
            wire.bytes[at + 1..end].copy_from_slice(label);
            at = end;
        }
        wire.starts[wire.labels as usize] = at as u8;
        // The root label: bytes[at] is already 0.
        wire.len = (at + 1) as u8;
        // Length octets are at most 63, so lowercasing leaves them alone.
        wire.bytes[..at].make_ascii_lowercase();
        wire
    }

    /// Number of labels, not counting the root.
    pub(crate) fn labels(&self) -> usize {
        self.labels as usize
    }

    /// The wire form of the whole name.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The wire form of the ancestor-or-self with `n` labels (0 = the root).
    pub(crate) fn ancestor(&self, n: usize) -> &[u8] {
        let n = n.min(self.labels());
        let start = self.starts[self.labels() - n] as usize;
        &self.bytes[start..self.len as usize]
    }
}

/// The labels of an uncompressed wire-format name, stopping at the root or
/// at the first malformed length.
struct WireLabels<'a>(&'a [u8]);

impl<'a> Iterator for WireLabels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, rest) = self.0.split_first()?;
        let len = len as usize;
        if len == 0 || len > 63 || rest.len() < len {
            return None;
        }
        let (label, rest) = rest.split_at(len);
        self.0 = rest;
        Some(label)
    }
}

/// RFC 4034 6.1: the canonical order of two names in wire form: label by
/// label from the root, each label compared as lowercased octets, a label
/// that is a prefix of another before it, and a name before its
/// descendants.
pub(crate) fn canonical_cmp(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let labels = |wire| WireLabels(wire).collect::<SmallVec<[&[u8]; 8]>>();
    let (a, b) = (labels(a), labels(b));
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        let order = x
            .iter()
            .map(u8::to_ascii_lowercase)
            .cmp(y.iter().map(u8::to_ascii_lowercase));
        if order.is_ne() {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::super::testing::name;
    use super::*;

    #[test]
    fn wire_name_ancestors_are_suffixes() {
        let wire = WireName::new(&name("WWW.Example.COM."));
        assert_eq!(wire.labels(), 3);
        assert_eq!(wire.bytes(), b"\x03www\x07example\x03com\x00");
        assert_eq!(wire.ancestor(2), b"\x07example\x03com\x00");
        assert_eq!(wire.ancestor(0), b"\x00");
        assert_eq!(WireName::new(&Name::root()).bytes(), b"\x00");
    }

    #[test]
    fn canonical_order_is_rfc_4034s() {
        // RFC 4034 6.1's example, in its order.
        let names: Vec<Vec<u8>> = [
            &[&b"example"[..]][..],
            &[b"a", b"example"],
            &[b"yljkjljk", b"a", b"example"],
            &[b"Z", b"a", b"example"],
            &[b"zABC", b"a", b"EXAMPLE"],
            &[b"z", b"example"],
            &[b"\x01", b"z", b"example"],
            &[b"*", b"z", b"example"],
            &[b"\xc8", b"z", b"example"],
        ]
        .iter()
        .map(|labels| {
            let mut wire = Vec::new();
            for label in *labels {
                wire.push(label.len() as u8);
                wire.extend_from_slice(label);
            }
            wire.push(0);
            wire
        })
        .collect();
        let mut sorted = names.clone();
        sorted.reverse();
        sorted.sort_by(|a, b| canonical_cmp(a, b));
        assert_eq!(sorted, names);
    }
}
