//! The server side (RFC 8945 5.2, 5.3): verifying a request against the
//! key ring, then signing the response to it — one message, or each
//! message of a multi-message response (AXFR, IXFR over TCP).
//!
//! The intended use is one code path whether or not the request was
//! signed:
//!
//! ```text
//! match verify_request(&request, &keys, now) {
//!     Ok(verified) => {
//!         let mut response = answer(&request, verified.key());
//!         sign_response(&mut response, &verified, now)?;  // no-op if unsigned
//!     }
//!     Err(error) => send(error_response(&request, &error, now)),
//! }
//! ```

use std::sync::Arc;

use crate::chain::{Chain, Unsignable};
use crate::error::{ClaimedKey, Malformed, SignError, TsigError, TsigRcode};
use crate::mac::{MacState, Variables};
use crate::record::{self, Covers, FUDGE};
use crate::{Algorithm, Key, KeyRing};

/// A request that passed verification.
#[derive(Clone, Debug)]
pub enum Verified {
    /// No TSIG record: whatever address-based rules apply decide.
    Unsigned,
    /// Signed with a known key, MAC verified, time within the fudge.
    Signed(SignedRequest),
}

impl Verified {
    /// The key that signed the request, for access rules (`key:NAME`).
    pub fn key(&self) -> Option<&Key> {
        match self {
            Verified::Unsigned => None,
            Verified::Signed(request) => Some(request.key()),
        }
    }

    /// Octets the response's TSIG record will take: what a UDP responder
    /// must leave free below the client's payload size.
    pub fn tsig_len(&self) -> usize {
        match self {
            Verified::Unsigned => 0,
            Verified::Signed(request) => request.tsig_len(),
        }
    }
}

/// What a response to a signed request is signed with: the key and the
/// request's MAC, which opens the response's digest (RFC 8945 4.3.2).
#[derive(Clone, Debug)]
pub struct SignedRequest {
    key: Arc<Key>,
    /// As received, truncated or not (RFC 8945 5.2.2.1 rule 4: the reply
    /// covers the truncated request MAC).
    mac: Vec<u8>,
    time_signed: u64,
    fudge: u16,
}

impl SignedRequest {
    pub fn key(&self) -> &Key {
        &self.key
    }

    pub fn mac(&self) -> &[u8] {
        &self.mac
    }

    pub fn time_signed(&self) -> u64 {
        self.time_signed
    }

    pub fn fudge(&self) -> u16 {
        self.fudge
    }

    /// The length of the response's MAC: the key's, or the request's if
    /// longer, as BIND does, so that a client that truncates accepts it.
    pub(crate) fn response_mac_len(&self) -> usize {
        self.key.mac_len().max(self.mac.len())
    }

    fn tsig_len(&self) -> usize {
        let wire = self.key.algorithm().wire_name();
        // BADTIME's six octets of Other Data are the longest case.
        record::encoded_len(self.key.wire_name(), wire, self.response_mac_len(), 6)
    }
}

/// RFC 8945 5.2: checks the request's TSIG, in the RFC's order — key
/// (5.2.1), MAC (5.2.2, with the truncation rules of 5.2.2.1), time
/// (5.2.3), truncation policy (5.2.4). `now` is the server's clock in
/// seconds since the epoch.
///
/// Not done: RFC 8945 5.2.3's "SHOULD" cache of the last Time Signed per
/// key to refuse replays within the fudge window; this function keeps no
/// state.
pub fn verify_request(msg: &[u8], keys: &KeyRing, now: u64) -> Result<Verified, TsigError> {
    let Some(tsig) = record::find(msg)? else {
        return Ok(Verified::Unsigned);
    };
    let claimed = || ClaimedKey {
        name: tsig.key_name.clone(),
        algorithm: tsig.algorithm.to_vec(),
    };
    // 5.2.1: "If a non-forwarding server does not recognize the key or
    // algorithm used by the client, the server MUST generate an error
    // response with RCODE 9 (NOTAUTH) and TSIG ERROR 17 (BADKEY)."
    let key = keys
        .get_wire(&tsig.key_name)
        .ok_or_else(|| TsigError::UnknownKey(claimed()))?;
    if Algorithm::from_wire(tsig.algorithm) != Some(key.algorithm()) {
        return Err(TsigError::WrongAlgorithm {
            claimed: claimed(),
            expected: key.algorithm(),
        });
    }
    // 5.2.2.1: a MAC longer than the hash, or shorter than its floor, is
    // FORMERR. An empty MAC is allowed only in error replies (5.3.2); in
    // a request it cannot verify (BIND: BADSIG).
    if tsig.mac.is_empty() {
        return Err(TsigError::BadSig(claimed()));
    }
    Malformed::check_mac_size(key.algorithm(), tsig.mac.len())?;
    // 5.2.2: the MAC over the request as it was before signing.
    if !record::verify(msg, &tsig, key, MacState::new(key), Covers::Variables) {
        return Err(TsigError::BadSig(claimed()));
    }
    let request = SignedRequest {
        key: Arc::clone(key),
        mac: tsig.mac.to_vec(),
        time_signed: tsig.time_signed,
        fudge: tsig.fudge,
    };
    // 5.2.3: "If the server time is outside the time interval specified
    // by the request (which is the Time Signed value plus/minus the Fudge
    // value), the server MUST generate an error response with RCODE 9
    // (NOTAUTH) and TSIG ERROR 18 (BADTIME)."
    if now.abs_diff(tsig.time_signed) > u64::from(tsig.fudge) {
        return Err(TsigError::BadTime {
            request: Box::new(request),
            server_time: now,
        });
    }
    // 5.2.4: a MAC truncated below local policy (the key's MAC length:
    // the full hash unless configured as, e.g., hmac-sha256-128) is
    // BADTRUNC.
    if tsig.mac.len() < key.mac_len() {
        return Err(TsigError::BadTrunc {
            request: Box::new(request),
        });
    }
    Ok(Verified::Signed(request))
}

/// Signs a single-message response to a verified request (RFC 8945 4.3.2:
/// request MAC, response, TSIG variables) and appends the TSIG record. A
/// response to an unsigned request is left as it is.
pub fn sign_response(
    response: &mut Vec<u8>,
    verified: &Verified,
    now: u64,
) -> Result<(), SignError> {
    ResponseSigner::new(verified).sign(response, now)
}

/// Signs the messages of a multi-message response (AXFR, IXFR over TCP)
/// in order, as RFC 8945 5.3.1 says (see `chain.rs`): the first covers
/// the request MAC and every TSIG variable, each later one the prior MAC,
/// the unsigned messages sent since, and only the timers.
///
/// Built from an unsigned request, it signs nothing, so the transfer code
/// has one path for both.
#[derive(Clone)]
pub struct ResponseSigner {
    /// The chain and the MAC length; `None` for an unsigned request.
    chain: Option<(Chain, usize)>,
}

impl ResponseSigner {
    pub fn new(verified: &Verified) -> ResponseSigner {
        let chain = match verified {
            Verified::Unsigned => None,
            Verified::Signed(request) => Some((
                Chain::new(Arc::clone(&request.key), request.mac.clone()),
                request.response_mac_len(),
            )),
        };
        ResponseSigner { chain }
    }

    /// Signs the next message and appends its TSIG record.
    pub fn sign(&mut self, msg: &mut Vec<u8>, now: u64) -> Result<(), SignError> {
        let Some((chain, mac_len)) = &mut self.chain else {
            return Ok(());
        };
        let vars = Variables {
            time_signed: now,
            fudge: FUDGE,
            error: TsigRcode::NOERROR.0,
            other: &[],
        };
        let covers = chain.covers();
        let digest = chain.take_digest();
        let mac = record::sign(msg, &chain.key, digest, vars, covers, *mac_len)?;
        chain.signed(mac);
        Ok(())
    }

    /// Sends the next message unsigned: it is digested into the next
    /// signed message's MAC. Never the first; at most 99 in a row; the
    /// caller must sign the last.
    pub fn leave_unsigned(&mut self, msg: &[u8]) -> Result<(), SignError> {
        let Some((chain, _)) = &mut self.chain else {
            return Ok(());
        };
        chain.unsigned(msg).map_err(|e| match e {
            Unsignable::First => SignError::FirstUnsigned,
            Unsignable::TooMany => SignError::TooManyUnsigned,
        })
    }
}
