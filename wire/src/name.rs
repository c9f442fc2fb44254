//! Names in wire form: [`WireName`], the one lowercased, uncompressed name
//! both servers look things up by, its labels, and the canonical order of
//! RFC 4034 6.1.
//!
//! A name in wire form carries the length of every label (RFC 1035 3.1),
//! so the wire form of each ancestor is a suffix of it: walking up a name
//! (the closest enclosing zone, the closest delegation, a DNAME above it)
//! costs no allocation, and keys hash and compare as plain bytes where
//! hickory's `Name` hashes byte by byte.
//!
//! Neighbours: [`crate::request`] reads the question name into a
//! `WireName` (the key of both servers' prepared answers); the
//! authoritative zone store indexes its nodes by it; the resolver's cache
//! keys RRsets and delegations by it. Names typed by people are
//! [`crate::text`]'s.

use hickory_proto::rr::Name;
use smallvec::SmallVec;

/// RFC 1035 3.1: a name is at most 255 octets in wire form.
pub const MAX_NAME_LEN: usize = 255;
/// RFC 1035 2.3.4: a label is at most 63 octets.
const MAX_LABEL_LEN: usize = 63;
/// Labels a 255-octet name can have besides the root (one octet each).
const MAX_LABELS: usize = 127;
/// Octets a lookup key may carry after the name (see
/// [`WireName::set_suffix`]): the type, a flag octet, and the view an
/// answer was prepared for.
pub const KEY_SUFFIX_LEN: usize = 4;

/// A name in lowercased, uncompressed wire format, built on the stack,
/// with room after it for a key suffix (a type, a flag).
#[derive(Clone)]
pub struct WireName {
    /// The name, then up to [`KEY_SUFFIX_LEN`] octets of suffix.
    bytes: [u8; MAX_NAME_LEN + KEY_SUFFIX_LEN],
    /// Length of the name, root octet included (1 to 255).
    len: u8,
    /// Length of the suffix written after the name.
    suffix: u8,
    /// Offset where each label starts, most specific first; the entry
    /// after the last label is the root octet's.
    starts: [u8; MAX_LABELS + 1],
    /// Number of labels, not counting the root.
    labels: u8,
}

/// Why a name in a message cannot be read ([`WireName::read`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    /// The message ends inside the name.
    Truncated,
    /// A compression pointer or a reserved label type (its length octet).
    LabelType(u8),
    /// RFC 1035 3.1: longer than 255 octets.
    TooLong,
}

impl WireName {
    /// The root name, to which labels are added.
    fn empty() -> WireName {
        WireName {
            bytes: [0; MAX_NAME_LEN + KEY_SUFFIX_LEN],
            len: 1,
            suffix: 0,
            starts: [0; MAX_LABELS + 1],
            labels: 0,
        }
    }

    /// The wire form of `name`, lowercased. hickory builds no name longer
    /// than 255 octets (RFC 1035 3.1), so every `Name` fits; should one
    /// not, it would be cut at the last label that fits.
    pub fn new(name: &Name) -> WireName {
        Self::from_labels(name.iter())
    }

    /// The lowercased copy of `wire`, an uncompressed wire-format name
    /// already known to be well formed (a zone's own names); it stops at
    /// the root or at the first malformed length.
    pub fn from_wire(wire: &[u8]) -> WireName {
        Self::from_labels(WireLabels(wire))
    }

    fn from_labels<'a>(labels: impl Iterator<Item = &'a [u8]>) -> WireName {
        let mut wire = WireName::empty();
        for label in labels {
            if !wire.push_label(label) {
                break;
            }
        }
        wire
    }

    /// Reads the uncompressed name at `at` in `msg`, lowercased; returns it
    /// and the offset just past it. A question is the first name of a
    /// message, so it never needs compression: a pointer there is an error
    /// (as in NSD).
    pub fn read(msg: &[u8], at: usize) -> Result<(WireName, usize), NameError> {
        let mut wire = WireName::empty();
        let mut pos = at;
        loop {
            let len = *msg.get(pos).ok_or(NameError::Truncated)?;
            if len & 0xC0 != 0 {
                return Err(NameError::LabelType(len));
            }
            let len = usize::from(len);
            if len == 0 {
                return Ok((wire, pos + 1));
            }
            // `len` counts the root octet already written.
            if usize::from(wire.len) + len > MAX_NAME_LEN {
                return Err(NameError::TooLong);
            }
            let label = msg
                .get(pos + 1..pos + 1 + len)
                .ok_or(NameError::Truncated)?;
            if !wire.push_label(label) {
                return Err(NameError::TooLong);
            }
            pos += 1 + len;
        }
    }

    /// Appends `label` (lowercased) before the root octet; `false`, and
    /// nothing appended, when it is not a label or the name would exceed
    /// 255 octets.
    fn push_label(&mut self, label: &[u8]) -> bool {
        let at = usize::from(self.len) - 1;
        let end = at + 1 + label.len();
        // The root octet must still fit after this label.
        if end >= MAX_NAME_LEN || label.len() > MAX_LABEL_LEN || self.labels() >= MAX_LABELS {
            return false;
        }
        let (Ok(start), Ok(len), Ok(next)) = (
            u8::try_from(at),
            u8::try_from(label.len()),
            u8::try_from(end),
        ) else {
            return false;
        };
        self.starts[self.labels()] = start;
        self.labels += 1;
        self.starts[self.labels()] = next;
        self.bytes[at] = len;
        for (to, from) in self.bytes[at + 1..end].iter_mut().zip(label) {
            *to = from.to_ascii_lowercase();
        }
        self.bytes[end] = 0;
        self.len = next + 1;
        self.suffix = 0;
        true
    }

    /// Number of labels, not counting the root.
    pub fn labels(&self) -> usize {
        usize::from(self.labels)
    }

    /// The wire form of the whole name.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The wire form of the ancestor-or-self with `n` labels (0 = the root).
    pub fn ancestor(&self, n: usize) -> &[u8] {
        let n = n.min(self.labels());
        let start = usize::from(self.starts[self.labels() - n]);
        &self.bytes[start..usize::from(self.len)]
    }

    /// The name and its ancestors, longest first, ending with the root.
    pub fn ancestors(&self) -> impl Iterator<Item = &[u8]> {
        let end = usize::from(self.len);
        self.starts[..=self.labels()]
            .iter()
            .map(move |&start| &self.bytes[usize::from(start)..end])
    }

    /// Writes `suffix` (at most [`KEY_SUFFIX_LEN`] octets; any more are
    /// dropped) after the name: [`WireName::key`] is then the name followed
    /// by it, a lookup key built in place.
    pub fn set_suffix(&mut self, suffix: &[u8]) {
        let suffix = suffix.get(..KEY_SUFFIX_LEN).unwrap_or(suffix);
        let at = usize::from(self.len);
        self.bytes[at..at + suffix.len()].copy_from_slice(suffix);
        // At most KEY_SUFFIX_LEN (4), so it fits a byte.
        self.suffix = suffix.len() as u8;
    }

    /// The name followed by `suffix`: [`WireName::set_suffix`], then
    /// [`WireName::key`].
    pub fn key_with(&mut self, suffix: &[u8]) -> &[u8] {
        self.set_suffix(suffix);
        self.key()
    }

    /// The name followed by the suffix last set.
    pub fn key(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len) + usize::from(self.suffix)]
    }

    /// The keys of the name's proper ancestors but the root, longest
    /// first, each followed by the suffix (as [`WireName::key`]): the
    /// suffix is written once after the name, which ends every ancestor.
    pub fn ancestor_keys(&self) -> impl Iterator<Item = &[u8]> {
        let end = usize::from(self.len) + usize::from(self.suffix);
        self.starts[..self.labels()]
            .iter()
            .skip(1)
            .map(move |&start| &self.bytes[usize::from(start)..end])
    }
}

impl std::fmt::Debug for WireName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("WireName").field(&self.key()).finish()
    }
}

/// The labels of an uncompressed wire-format name, most specific first,
/// stopping at the root or at the first malformed length.
pub struct WireLabels<'a>(pub &'a [u8]);

impl<'a> Iterator for WireLabels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, rest) = self.0.split_first()?;
        let len = usize::from(len);
        if len == 0 || len > MAX_LABEL_LEN || rest.len() < len {
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
/// descendants. The order of NSEC chains, and of RRsets to be signed.
pub fn canonical_cmp(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
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

/// Appends `name` in wire form, uncompressed, as spelled.
pub fn push_name(name: &Name, wire: &mut Vec<u8>) {
    for label in name.iter() {
        // Labels are at most 63 octets, so the length fits a byte.
        wire.push(label.len() as u8);
        wire.extend_from_slice(label);
    }
    wire.push(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    #[test]
    fn wire_names_are_lowercased_with_their_ancestors_as_suffixes() {
        let wire = WireName::new(&n("WWW.Example.com."));
        assert_eq!(wire.bytes(), b"\x03www\x07example\x03com\x00");
        assert_eq!(wire.labels(), 3);
        let ancestors: Vec<&[u8]> = wire.ancestors().collect();
        assert_eq!(
            ancestors,
            [
                &b"\x03www\x07example\x03com\x00"[..],
                b"\x07example\x03com\x00",
                b"\x03com\x00",
                b"\x00",
            ]
        );
        assert_eq!(wire.ancestor(1), b"\x03com\x00");
        assert_eq!(wire.ancestor(0), b"\x00");
        assert_eq!(wire.ancestor(9), wire.bytes());
        let root = WireName::new(&Name::root());
        assert_eq!(root.bytes(), b"\x00");
        assert_eq!(root.ancestors().collect::<Vec<_>>(), [&b"\x00"[..]]);
        // The longest name RFC 1035 allows: 127 one-letter labels (255 octets).
        let wire = WireName::new(&n(&"a.".repeat(127)));
        assert_eq!(wire.bytes().len(), 255);
        assert_eq!(wire.ancestors().count(), 128);
    }

    #[test]
    fn keys_are_the_name_and_its_suffix_and_so_are_the_ancestors() {
        let mut wire = WireName::new(&n("a.b.example."));
        assert_eq!(wire.key(), wire.bytes());
        wire.set_suffix(&[0, 15]);
        assert_eq!(wire.key(), b"\x01a\x01b\x07example\x00\x00\x0f");
        let keys: Vec<&[u8]> = wire.ancestor_keys().collect();
        assert_eq!(
            keys,
            [
                &b"\x01b\x07example\x00\x00\x0f"[..],
                b"\x07example\x00\x00\x0f"
            ]
        );
        wire.set_suffix(&[1, 2, 3, 4]);
        assert_eq!(wire.key().len(), wire.bytes().len() + KEY_SUFFIX_LEN);
    }

    #[test]
    fn names_are_read_from_messages_lowercased_and_checked() {
        let msg = b"\xff\x03WwW\x07Example\x00\x00\x01";
        let (wire, end) = WireName::read(msg, 1).unwrap();
        assert_eq!(wire.bytes(), b"\x03www\x07example\x00");
        assert_eq!(end, 14);
        assert_eq!(
            WireName::read(b"\x03ab", 0).unwrap_err(),
            NameError::Truncated
        );
        assert_eq!(
            WireName::read(b"\x01a\xc0\x00", 0).unwrap_err(),
            NameError::LabelType(0xC0)
        );
        let long = [&[63u8][..], &[b'x'; 63]].concat().repeat(4);
        assert_eq!(WireName::read(&long, 0).unwrap_err(), NameError::TooLong);
        assert_eq!(
            WireName::from_wire(b"\x01A\x01B\x00").bytes(),
            b"\x01a\x01b\x00"
        );
    }

    #[test]
    fn canonical_order_is_rfc_4034s() {
        // RFC 4034 6.1's own example, shuffled.
        let names = [
            "example.",
            "a.example.",
            "yljkjljk.a.example.",
            "Z.a.example.",
            "zABC.a.EXAMPLE.",
            "z.example.",
            "\\001.z.example.",
            "*.z.example.",
            "\\200.z.example.",
        ];
        let wire = |s: &str| {
            let mut out = Vec::new();
            push_name(&crate::absolute_name(s).unwrap(), &mut out);
            out
        };
        let mut sorted: Vec<Vec<u8>> = names.iter().rev().map(|s| wire(s)).collect();
        sorted.sort_by(|a, b| canonical_cmp(a, b));
        let expected: Vec<Vec<u8>> = names.iter().map(|s| wire(s)).collect();
        assert_eq!(sorted, expected);
    }
}
