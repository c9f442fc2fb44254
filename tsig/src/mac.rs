//! The keyed hash and what goes into it (RFC 8945 4.3): a running HMAC
//! over the digest components in their order — the request or prior MAC,
//! the message as it was before the TSIG was added, then the TSIG
//! variables or, for the later messages of a multi-message response, the
//! timers only. Signing and verifying, on both sides, feed the same
//! components through this one type, so the two can never disagree.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha224, Sha256, Sha384, Sha512};

use crate::wire::{self, put_u48, HEADER_LEN};
use crate::{Algorithm, Key};

/// An HMAC in progress, for whichever algorithm the key uses.
#[derive(Clone)]
pub(crate) enum MacState {
    Sha1(Hmac<Sha1>),
    Sha224(Hmac<Sha224>),
    Sha256(Hmac<Sha256>),
    Sha384(Hmac<Sha384>),
    Sha512(Hmac<Sha512>),
}

/// Runs `$body` with `$mac` bound to the inner HMAC, whatever its type.
macro_rules! each {
    ($state:expr, $mac:ident => $body:expr) => {
        match $state {
            MacState::Sha1($mac) => $body,
            MacState::Sha224($mac) => $body,
            MacState::Sha256($mac) => $body,
            MacState::Sha384($mac) => $body,
            MacState::Sha512($mac) => $body,
        }
    };
}

/// The TSIG variables (RFC 8945 4.3.3), minus the key name, class, TTL and
/// algorithm, which come from the key.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Variables<'a> {
    pub time_signed: u64,
    pub fudge: u16,
    pub error: u16,
    pub other: &'a [u8],
}

impl MacState {
    pub fn new(key: &Key) -> MacState {
        fn keyed<M: Mac + hmac::digest::KeyInit>(secret: &[u8]) -> M {
            // HMAC takes keys of any length (RFC 2104 2), so this cannot fail.
            <M as hmac::digest::KeyInit>::new_from_slice(secret)
                .expect("HMAC accepts keys of any length")
        }
        let secret = key.secret();
        match key.algorithm() {
            Algorithm::HmacSha1 => MacState::Sha1(keyed(secret)),
            Algorithm::HmacSha224 => MacState::Sha224(keyed(secret)),
            Algorithm::HmacSha256 => MacState::Sha256(keyed(secret)),
            Algorithm::HmacSha384 => MacState::Sha384(keyed(secret)),
            Algorithm::HmacSha512 => MacState::Sha512(keyed(secret)),
        }
    }

    /// A digest for a response message: opened with the request MAC (or,
    /// in a multi-message response, the prior MAC).
    pub fn after_mac(key: &Key, prior_mac: &[u8]) -> MacState {
        let mut state = MacState::new(key);
        state.prior_mac(prior_mac);
        state
    }

    pub fn update(&mut self, data: &[u8]) {
        each!(self, mac => mac.update(data))
    }

    /// The full keyed hash.
    pub fn finalize(self) -> Vec<u8> {
        each!(self, mac => mac.finalize().into_bytes().to_vec())
    }

    /// Compares `received` with the leading octets of the keyed hash in
    /// constant time (RFC 8945 5.2.2.1 rule 4: a truncated MAC is compared
    /// with the hash truncated alike). An empty or over-long MAC never
    /// verifies.
    pub fn verify(self, received: &[u8]) -> bool {
        each!(self, mac => mac.verify_truncated_left(received).is_ok())
    }

    /// RFC 8945 4.3.1 / 4.3.2: the request MAC (for the first message of
    /// a response) or the prior MAC (for the later ones), length first.
    fn prior_mac(&mut self, mac: &[u8]) {
        // A MAC comes from a 16-bit MAC Size field, so its length fits.
        let len = u16::try_from(mac.len()).unwrap_or(u16::MAX);
        self.update(&len.to_be_bytes());
        self.update(mac);
    }

    /// A message that carries a TSIG record starting at `tsig_start`, as it
    /// was before the record was added (RFC 8945 4.3.1): with the original
    /// ID in the header, ARCOUNT one less, and without the record.
    /// `tsig_start` must lie past the header.
    pub fn signed_message(&mut self, msg: &[u8], tsig_start: usize, original_id: u16) {
        let (Some(header), Some(body)) = (msg.get(..HEADER_LEN), msg.get(HEADER_LEN..tsig_start))
        else {
            return;
        };
        let mut header: [u8; HEADER_LEN] = header.try_into().unwrap_or([0; HEADER_LEN]);
        header[..2].copy_from_slice(&original_id.to_be_bytes());
        let arcount = wire::u16_at(&header, wire::ARCOUNT_AT).unwrap_or(0);
        header[wire::ARCOUNT_AT..].copy_from_slice(&arcount.wrapping_sub(1).to_be_bytes());
        self.update(&header);
        self.update(body);
    }

    /// RFC 8945 4.3.3: the TSIG variables, with the key's name and
    /// algorithm in canonical form.
    pub fn variables(&mut self, key: &Key, vars: &Variables<'_>) {
        self.update(key.wire_name());
        self.update(&wire::CLASS_ANY.to_be_bytes());
        self.update(&0u32.to_be_bytes()); // TTL
        self.update(key.algorithm().wire_name());
        self.timers(vars.time_signed, vars.fudge);
        self.update(&vars.error.to_be_bytes());
        let other_len = u16::try_from(vars.other.len()).unwrap_or(u16::MAX);
        self.update(&other_len.to_be_bytes());
        self.update(vars.other);
    }

    /// RFC 8945 4.3.2 / 5.3.1: the timers (Time Signed and Fudge), all
    /// that the later messages of a multi-message response digest.
    pub fn timers(&mut self, time_signed: u64, fudge: u16) {
        let mut buf = Vec::with_capacity(8);
        put_u48(&mut buf, time_signed);
        buf.extend_from_slice(&fudge.to_be_bytes());
        self.update(&buf);
    }
}
