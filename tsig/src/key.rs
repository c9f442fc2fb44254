//! Shared secrets: a [`Key`] (name, algorithm, secret, MAC length), the
//! [`KeyRing`] a server looks keys up in by the name a request carries,
//! and dig's and kdig's `-y [alg:]name:secret` form. BIND's key files are
//! read in `keyfile.rs`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use data_encoding::BASE64;

use crate::wire::name_to_text;
use crate::Algorithm;

/// A TSIG key. Its name is kept in canonical form (lowercase, absolute),
/// since RFC 8945 4.3.3 digests it that way and names compare without case.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    /// Presentation form, lowercase, with the trailing dot.
    name: String,
    /// Canonical wire form of `name`: the ring's index and what is digested.
    wire_name: Vec<u8>,
    algorithm: Algorithm,
    secret: Vec<u8>,
    /// Octets of MAC this key signs with and the fewest it accepts (RFC
    /// 8945 5.2.2.1 and 5.2.4): the full hash unless the key was configured
    /// truncated, as BIND's `hmac-sha256-128`.
    mac_len: usize,
}

/// Why a key's definition cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("unknown algorithm {0:?} (known: hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512, optionally truncated as hmac-sha256-128)")]
    UnknownAlgorithm(String),
    #[error("{algorithm} cannot be truncated to {bits} bits: RFC 8945 5.2.2.1 allows whole octets from {min} to {max} bits")]
    BadTruncation {
        algorithm: Algorithm,
        bits: usize,
        min: usize,
        max: usize,
    },
    #[error("the secret is not valid base64 ({0}); tsig-keygen prints one")]
    BadSecret(String),
    #[error("the secret is empty")]
    EmptySecret,
    #[error("key name {name:?} {reason}")]
    BadName { name: String, reason: &'static str },
    #[error("expected [algorithm:]name:secret, as dig -y and kdig -y take it")]
    BadSpec,
}

impl Key {
    /// A key signing with the full hash output.
    pub fn new(name: &str, algorithm: Algorithm, secret: Vec<u8>) -> Result<Key, KeyError> {
        if secret.is_empty() {
            return Err(KeyError::EmptySecret);
        }
        let wire_name = name_to_wire(name)?;
        Ok(Key {
            name: name_to_text(&wire_name),
            wire_name,
            algorithm,
            secret,
            mac_len: algorithm.output_len(),
        })
    }

    /// A key whose algorithm is written as in BIND and dig: `hmac-sha256`,
    /// or `hmac-sha256-128` for a MAC truncated to 128 bits; the secret in
    /// base64 (whitespace inside it ignored, as BIND does).
    pub fn from_text(name: &str, algorithm: &str, secret_base64: &str) -> Result<Key, KeyError> {
        let (algorithm, bits) = parse_algorithm(algorithm)?;
        let secret = decode_secret(secret_base64)?;
        let key = Key::new(name, algorithm, secret)?;
        match bits {
            Some(bits) => key.truncated_to_bits(bits),
            None => Ok(key),
        }
    }

    /// dig's and kdig's `-y [alg:]name:secret`. Without `alg` the key is
    /// hmac-sha256, kdig's default (dig's is hmac-md5, which this crate
    /// does not implement).
    pub fn from_dig_spec(spec: &str) -> Result<Key, KeyError> {
        let parts: Vec<&str> = spec.split(':').collect();
        match parts.as_slice() {
            [name, secret] if !name.is_empty() => Key::from_text(name, "hmac-sha256", secret),
            [alg, name, secret] if !name.is_empty() => Key::from_text(name, alg, secret),
            _ => Err(KeyError::BadSpec),
        }
    }

    /// The same key, signing with (and requiring) MACs of `bits` bits.
    pub fn truncated_to_bits(mut self, bits: usize) -> Result<Key, KeyError> {
        let min = self.algorithm.min_mac_len() * 8;
        let max = self.algorithm.output_len() * 8;
        if !bits.is_multiple_of(8) || bits < min || bits > max {
            return Err(KeyError::BadTruncation {
                algorithm: self.algorithm,
                bits,
                min,
                max,
            });
        }
        self.mac_len = bits / 8;
        Ok(self)
    }

    /// The name in presentation form: lowercase, with the trailing dot.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Octets of MAC this key signs with, and the fewest it accepts.
    pub fn mac_len(&self) -> usize {
        self.mac_len
    }

    pub(crate) fn wire_name(&self) -> &[u8] {
        &self.wire_name
    }

    pub(crate) fn secret(&self) -> &[u8] {
        &self.secret
    }
}

/// Never prints the secret.
impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .field("mac_len", &self.mac_len)
            .finish_non_exhaustive()
    }
}

/// `hmac-sha256` or `hmac-sha256-128`: the algorithm and the truncation.
fn parse_algorithm(text: &str) -> Result<(Algorithm, Option<usize>), KeyError> {
    if let Some(alg) = Algorithm::from_name(text) {
        return Ok((alg, None));
    }
    let unknown = || KeyError::UnknownAlgorithm(text.to_string());
    let (alg, bits) = text.rsplit_once('-').ok_or_else(unknown)?;
    let alg = Algorithm::from_name(alg).ok_or_else(unknown)?;
    let bits = bits.parse().map_err(|_| unknown())?;
    Ok((alg, Some(bits)))
}

fn decode_secret(text: &str) -> Result<Vec<u8>, KeyError> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let secret = BASE64
        .decode(compact.as_bytes())
        .map_err(|e| KeyError::BadSecret(e.to_string()))?;
    if secret.is_empty() {
        return Err(KeyError::EmptySecret);
    }
    Ok(secret)
}

/// A key name in presentation form (relative names are taken as absolute,
/// as BIND does for key names) to canonical wire form. Escapes are not
/// supported: key names are host-like words in practice.
fn name_to_wire(name: &str) -> Result<Vec<u8>, KeyError> {
    let bad = |reason| KeyError::BadName {
        name: name.to_string(),
        reason,
    };
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() {
        return Err(bad("is empty"));
    }
    let mut wire = Vec::with_capacity(trimmed.len() + 2);
    for label in trimmed.split('.') {
        if label.is_empty() {
            return Err(bad("has an empty label (two dots in a row)"));
        }
        if label.len() > 63 {
            return Err(bad("has a label longer than 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'\\' && b != b'"')
        {
            return Err(bad("may hold only printable characters without \\ or \""));
        }
        wire.push(label.len() as u8);
        wire.extend(label.bytes().map(|b| b.to_ascii_lowercase()));
    }
    wire.push(0);
    if wire.len() > 255 {
        return Err(bad("is longer than 255 octets"));
    }
    Ok(wire)
}

/// Keys by name: what a server verifies requests against.
#[derive(Clone, Debug, Default)]
pub struct KeyRing {
    keys: HashMap<Vec<u8>, Arc<Key>>,
}

impl KeyRing {
    pub fn new() -> KeyRing {
        KeyRing::default()
    }

    /// Adds `key`; a key of the same name is replaced and returned.
    pub fn insert(&mut self, key: Key) -> Option<Arc<Key>> {
        self.keys.insert(key.wire_name.clone(), Arc::new(key))
    }

    /// The key named `name`, in any case, with or without trailing dot.
    pub fn get(&self, name: &str) -> Option<&Arc<Key>> {
        self.keys.get(&name_to_wire(name).ok()?)
    }

    /// The key whose canonical (lowercase) wire name is `wire_name`.
    pub(crate) fn get_wire(&self, wire_name: &[u8]) -> Option<&Arc<Key>> {
        self.keys.get(wire_name)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Key>> {
        self.keys.values()
    }
}

impl FromIterator<Key> for KeyRing {
    fn from_iter<I: IntoIterator<Item = Key>>(iter: I) -> KeyRing {
        let mut ring = KeyRing::new();
        for key in iter {
            ring.insert(key);
        }
        ring
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "sxxbTbF0fZ5SAcswZgMJuG1uWJKPvT/QADP8akrBQ0E=";

    #[test]
    fn dig_spec_with_and_without_algorithm() {
        let key = Key::from_dig_spec(&format!("hmac-sha512:Transfer.Key.:{SECRET}")).unwrap();
        assert_eq!(key.name(), "transfer.key.");
        assert_eq!(key.algorithm(), Algorithm::HmacSha512);
        assert_eq!(key.mac_len(), 64);
        assert_eq!(key.secret().len(), 32);
        let key = Key::from_dig_spec(&format!("transfer.key:{SECRET}")).unwrap();
        assert_eq!(key.algorithm(), Algorithm::HmacSha256);
        assert_eq!(key.wire_name(), b"\x08transfer\x03key\x00");
    }

    #[test]
    fn dig_spec_errors_say_what_is_wrong() {
        assert_eq!(Key::from_dig_spec("justaname"), Err(KeyError::BadSpec));
        assert_eq!(
            Key::from_dig_spec(&format!(":{SECRET}")),
            Err(KeyError::BadSpec)
        );
        assert_eq!(
            Key::from_dig_spec(&format!("hmac-md5:k:{SECRET}")),
            Err(KeyError::UnknownAlgorithm("hmac-md5".into()))
        );
        assert!(matches!(
            Key::from_dig_spec("k:not*base64"),
            Err(KeyError::BadSecret(_))
        ));
        assert_eq!(Key::from_dig_spec("k:"), Err(KeyError::EmptySecret));
        assert!(matches!(
            Key::from_dig_spec(&format!("a..b:{SECRET}")),
            Err(KeyError::BadName { .. })
        ));
        // The secret never appears in an error.
        let err = Key::from_dig_spec(&format!("a:b:c:{SECRET}")).unwrap_err();
        assert!(!err.to_string().contains(SECRET));
    }

    #[test]
    fn truncated_algorithms_follow_rfc_8945_floor() {
        let key = Key::from_text("k", "hmac-sha256-128", SECRET).unwrap();
        assert_eq!(
            (key.algorithm(), key.mac_len()),
            (Algorithm::HmacSha256, 16)
        );
        for bad in ["hmac-sha256-120", "hmac-sha256-130", "hmac-sha256-264"] {
            assert!(
                matches!(
                    Key::from_text("k", bad, SECRET),
                    Err(KeyError::BadTruncation { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            Key::from_text("k", "hmac-sha1-80", SECRET)
                .unwrap()
                .mac_len(),
            10
        );
    }

    #[test]
    fn ring_finds_keys_without_case_or_trailing_dot() {
        let ring: KeyRing = [Key::from_dig_spec(&format!("Xfr.Example:{SECRET}")).unwrap()]
            .into_iter()
            .collect();
        assert_eq!(ring.len(), 1);
        for name in ["xfr.example", "XFR.EXAMPLE.", "xfr.Example."] {
            assert_eq!(ring.get(name).map(|k| k.name()), Some("xfr.example."));
        }
        assert!(ring.get("other").is_none());
        assert!(!format!("{:?}", ring).contains("secret:"));
    }
}
