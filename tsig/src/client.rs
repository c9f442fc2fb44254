//! The client side (RFC 8945 5.1, 5.3, 5.3.1): signing a request (a
//! secondary's SOA query or transfer, a NOTIFY, an UPDATE) and verifying
//! the response, one message or the many of a zone transfer, where up to
//! 99 messages in a row may come unsigned but the first and the last must
//! be signed.

use std::sync::Arc;

use crate::chain::{Chain, Unsignable};
use crate::error::{Malformed, ResponseError, SignError, TsigRcode};
use crate::mac::{MacState, Variables};
use crate::record::{self, Covers, FUDGE};
use crate::wire;
use crate::{Algorithm, Key};

/// What a signed request leaves to verify its response with.
#[derive(Clone, Debug)]
pub struct RequestMac {
    key: Arc<Key>,
    mac: Vec<u8>,
}

impl RequestMac {
    pub fn key(&self) -> &Key {
        &self.key
    }

    pub fn mac(&self) -> &[u8] {
        &self.mac
    }
}

/// RFC 8945 5.1: signs `msg` (the whole request, ID final) with `key` at
/// `now` (seconds since the epoch) and appends the TSIG record, which must
/// be the message's last: nothing may be added after this.
pub fn sign_request(msg: &mut Vec<u8>, key: &Key, now: u64) -> Result<RequestMac, SignError> {
    let key = Arc::new(key.clone());
    let vars = Variables {
        time_signed: now,
        fudge: FUDGE,
        error: TsigRcode::NOERROR.0,
        other: &[],
    };
    let mac = record::sign(
        msg,
        &key,
        MacState::new(&key),
        vars,
        Covers::Variables,
        key.mac_len(),
    )?;
    Ok(RequestMac { key, mac })
}

/// How a message of the response passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checked {
    /// Its own TSIG verified: it and every unsigned message before it are
    /// authentic.
    Signed,
    /// An unsigned message within a multi-message response, accepted on
    /// condition that a later signed message covers it.
    Unsigned,
}

/// Verifies the messages of the response to one signed request, in the
/// order they arrive. After an error the response must be abandoned.
#[derive(Clone)]
pub struct ResponseVerifier {
    chain: Chain,
}

impl ResponseVerifier {
    pub fn new(request: &RequestMac) -> ResponseVerifier {
        ResponseVerifier {
            chain: Chain::new(Arc::clone(&request.key), request.mac.clone()),
        }
    }

    /// Checks the next message of the response; `now` is the client's
    /// clock in seconds since the epoch.
    pub fn verify(&mut self, msg: &[u8], now: u64) -> Result<Checked, ResponseError> {
        let Some(tsig) = record::find(msg)? else {
            return match self.chain.unsigned(msg) {
                Ok(()) => Ok(Checked::Unsigned),
                Err(Unsignable::First) => Err(ResponseError::Unsigned {
                    rcode: msg.get(3).map_or(0, |b| b & 0x0F),
                }),
                Err(Unsignable::TooMany) => Err(ResponseError::TooManyUnsigned),
            };
        };
        let key = Arc::clone(&self.chain.key);
        // BIND: "key name and algorithm do not match" that of the query.
        if tsig.key_name != key.wire_name()
            || Algorithm::from_wire(tsig.algorithm) != Some(key.algorithm())
        {
            return Err(ResponseError::WrongKey {
                name: wire::name_to_text(&tsig.key_name),
                algorithm: wire::name_to_text(tsig.algorithm),
            });
        }
        let error = TsigRcode(tsig.error);
        // RFC 8945 5.3.2: BADKEY and BADSIG come back unsigned.
        if tsig.mac.is_empty() {
            return Err(if error == TsigRcode::NOERROR {
                ResponseError::BadSig
            } else {
                ResponseError::Refused {
                    error,
                    server_time: None,
                }
            });
        }
        Malformed::check_mac_size(key.algorithm(), tsig.mac.len())?;
        let covers = self.chain.covers();
        let digest = self.chain.take_digest();
        if !record::verify(msg, &tsig, &key, digest, covers) {
            return Err(ResponseError::BadSig);
        }
        if now.abs_diff(tsig.time_signed) > u64::from(tsig.fudge) {
            return Err(ResponseError::BadTime {
                time_signed: tsig.time_signed,
                now,
                fudge: tsig.fudge,
            });
        }
        if tsig.mac.len() < key.mac_len() {
            return Err(ResponseError::BadTrunc {
                size: tsig.mac.len(),
                required: key.mac_len(),
            });
        }
        if error != TsigRcode::NOERROR {
            // A signed error: BADTIME carries the server's clock.
            let server_time = (error == TsigRcode::BADTIME && tsig.other.len() == 6)
                .then(|| wire::u48_at(tsig.other, 0))
                .flatten();
            return Err(ResponseError::Refused { error, server_time });
        }
        self.chain.signed(tsig.mac.to_vec());
        Ok(Checked::Signed)
    }

    /// At the end of the response: RFC 8945 5.3.1, the last message must
    /// be signed (and at least one must have been).
    pub fn finish(&self) -> Result<(), ResponseError> {
        if self.chain.has_unsigned() || self.chain.covers() == Covers::Variables {
            return Err(ResponseError::UnsignedLast);
        }
        Ok(())
    }
}
