//! The TSIG algorithms (RFC 8945 6, table 3): their names, in text and on
//! the wire, and their output lengths, which the truncation rules of
//! RFC 8945 5.2.2.1 are measured against.

use std::fmt;

/// An HMAC algorithm TSIG can use. HMAC-MD5 and GSS-TSIG are not offered:
/// RFC 8945 6 lists MD5 as "not recommended" for use, and neither dig nor
/// kdig picks it unless told to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    HmacSha1,
    HmacSha224,
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

impl Algorithm {
    pub const ALL: [Algorithm; 5] = [
        Algorithm::HmacSha1,
        Algorithm::HmacSha224,
        Algorithm::HmacSha256,
        Algorithm::HmacSha384,
        Algorithm::HmacSha512,
    ];

    /// The name as BIND's key files, dig and kdig write it.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::HmacSha1 => "hmac-sha1",
            Algorithm::HmacSha224 => "hmac-sha224",
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::HmacSha384 => "hmac-sha384",
            Algorithm::HmacSha512 => "hmac-sha512",
        }
    }

    /// The algorithm name in canonical wire form (RFC 8945 4.3.3: the name
    /// is digested lowercase and uncompressed; it is a one-label name).
    pub(crate) fn wire_name(self) -> &'static [u8] {
        match self {
            Algorithm::HmacSha1 => b"\x09hmac-sha1\x00",
            Algorithm::HmacSha224 => b"\x0bhmac-sha224\x00",
            Algorithm::HmacSha256 => b"\x0bhmac-sha256\x00",
            Algorithm::HmacSha384 => b"\x0bhmac-sha384\x00",
            Algorithm::HmacSha512 => b"\x0bhmac-sha512\x00",
        }
    }

    /// The algorithm named by `name`, in any case, with or without the
    /// trailing dot.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        let name = name.strip_suffix('.').unwrap_or(name);
        Algorithm::ALL
            .into_iter()
            .find(|alg| alg.name().eq_ignore_ascii_case(name))
    }

    /// The algorithm of a TSIG record's (already lowercased or not)
    /// wire-form algorithm name.
    pub(crate) fn from_wire(wire: &[u8]) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|alg| alg.wire_name().eq_ignore_ascii_case(wire))
    }

    /// Octets of the keyed hash's output: the longest MAC allowed.
    pub fn output_len(self) -> usize {
        match self {
            Algorithm::HmacSha1 => 20,
            Algorithm::HmacSha224 => 28,
            Algorithm::HmacSha256 => 32,
            Algorithm::HmacSha384 => 48,
            Algorithm::HmacSha512 => 64,
        }
    }

    /// RFC 8945 5.2.2.1 rule 3: a MAC may be truncated to no fewer octets
    /// than the larger of 10 and half the hash output.
    pub fn min_mac_len(self) -> usize {
        (self.output_len() / 2).max(10)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_any_case() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
            let upper = format!("{}.", alg.name().to_ascii_uppercase());
            assert_eq!(Algorithm::from_name(&upper), Some(alg));
            let wire = alg.wire_name();
            assert_eq!(usize::from(wire[0]), alg.name().len());
            assert_eq!(&wire[1..wire.len() - 1], alg.name().as_bytes());
            assert_eq!(Algorithm::from_wire(&wire.to_ascii_uppercase()), Some(alg));
        }
        assert_eq!(Algorithm::from_name("hmac-md5"), None);
    }

    #[test]
    fn truncation_floor_follows_rfc_8945() {
        assert_eq!(Algorithm::HmacSha1.min_mac_len(), 10);
        assert_eq!(Algorithm::HmacSha224.min_mac_len(), 14);
        assert_eq!(Algorithm::HmacSha256.min_mac_len(), 16);
        assert_eq!(Algorithm::HmacSha512.min_mac_len(), 32);
    }
}
