//! TSIG, secret key transaction authentication for DNS (RFC 8945), on
//! wire-format messages: who may transfer a zone, send a NOTIFY or change
//! a zone by UPDATE is decided by a shared secret, and every message of
//! the exchange carries a MAC over itself.
//!
//! The crate works on bytes, not on a parsed message: a TSIG covers the
//! message exactly as sent, and a server must not pay for a decode to learn
//! that a query is unsigned. It owns:
//!
//! - keys: [`Key`], [`KeyRing`], BIND's key files (`keyfile.rs`, as
//!   `tsig-keygen` writes them) and dig's `-y [alg:]name:secret`
//!   ([`Key::from_dig_spec`]); the algorithms of RFC 8945 6
//!   ([`Algorithm`]: HMAC-SHA1, -SHA224, -SHA256, -SHA384, -SHA512);
//! - the server side (RFC 8945 5.2, 5.3): [`verify_request`] (key, MAC,
//!   time and truncation checks in the RFC's order), [`sign_response`] and
//!   [`ResponseSigner`] for multi-message responses (5.3.1), and
//!   [`error_response`] for the FORMERR / NOTAUTH replies of 5.2 and 5.3.2;
//! - the client side (RFC 8945 5.1, 5.3.1): [`sign_request`] and
//!   [`ResponseVerifier`].
//!
//! Where the RFC's pieces live:
//!
//! | RFC 8945 | what | where |
//! | --- | --- | --- |
//! | 4.2 | the TSIG record, last in the additional section | `record.rs` |
//! | 4.3.1–4.3.3 | digest components: request/prior MAC, message, variables | `mac.rs` |
//! | 5.2.1–5.2.4 | server checks: key, MAC (+ 5.2.2.1 truncation), time, policy | `server.rs` |
//! | 5.3.1 | multi-message responses: prior MAC, timers, 99 unsigned | `chain.rs` |
//! | 5.3.2 | error replies: BADKEY/BADSIG unsigned, BADTIME/BADTRUNC signed | `reply.rs` |
//! | 6 | algorithms | `algorithm.rs` |
//!
//! Times are seconds since the Unix epoch, passed in by the caller
//! ([`unix_now`] reads the clock), so that tests can skew them. Not
//! implemented: HMAC-MD5 and GSS-TSIG; TKEY; the replay cache of 5.2.3
//! (a SHOULD); forwarding of signed messages.

mod algorithm;
mod chain;
mod client;
mod error;
mod key;
mod keyfile;
mod mac;
mod record;
mod reply;
mod server;
mod wire;

pub use algorithm::Algorithm;
pub use client::{sign_request, Checked, RequestMac, ResponseVerifier};
pub use error::{
    ClaimedKey, Malformed, ResponseError, SignError, TsigError, TsigRcode, RCODE_FORMERR,
    RCODE_NOTAUTH,
};
pub use key::{Key, KeyError, KeyRing};
pub use keyfile::{KeyFileError, Problem};
pub use record::FUDGE;
pub use reply::error_response;
pub use server::{sign_response, verify_request, ResponseSigner, SignedRequest, Verified};

/// The system clock in seconds since the Unix epoch, as TSIG's Time Signed
/// counts (RFC 8945 4.2); 0 if the clock is before 1970.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
