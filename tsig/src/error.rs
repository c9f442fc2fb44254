//! What can go wrong, as small enums whose variants name the rule broken:
//! [`TsigError`] for a request a server refuses (each maps to the reply
//! RFC 8945 5.2 prescribes), [`ResponseError`] for a response a client
//! refuses, [`SignError`] for a message that cannot be signed, and
//! [`Malformed`] for a TSIG record that cannot be interpreted.

use std::fmt;

use crate::server::SignedRequest;
use crate::wire::name_to_text;
use crate::Algorithm;

/// The Error field of a TSIG record (RFC 8945 3, the TSIG error values of
/// the DNS RCODE registry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TsigRcode(pub u16);

impl TsigRcode {
    pub const NOERROR: TsigRcode = TsigRcode(0);
    pub const BADSIG: TsigRcode = TsigRcode(16);
    pub const BADKEY: TsigRcode = TsigRcode(17);
    pub const BADTIME: TsigRcode = TsigRcode(18);
    pub const BADTRUNC: TsigRcode = TsigRcode(22);
}

impl fmt::Display for TsigRcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TsigRcode::NOERROR => f.write_str("NOERROR"),
            TsigRcode::BADSIG => f.write_str("BADSIG"),
            TsigRcode::BADKEY => f.write_str("BADKEY"),
            TsigRcode::BADTIME => f.write_str("BADTIME"),
            TsigRcode::BADTRUNC => f.write_str("BADTRUNC"),
            TsigRcode(other) => write!(f, "TSIG error {other}"),
        }
    }
}

/// RFC 1035 4.1.1 RCODE 1.
pub const RCODE_FORMERR: u8 = 1;
/// RFC 8945 5.2: every TSIG failure but a malformed record is NOTAUTH.
pub const RCODE_NOTAUTH: u8 = 9;

/// A message whose TSIG cannot be interpreted: FORMERR, no TSIG in the
/// reply (RFC 8945 5.2, 5.2.2.1 rules 1 and 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("message shorter than a DNS header")]
    ShortHeader,
    #[error("message ends inside its records")]
    Truncated,
    #[error("TSIG record that is not the last record of the additional section")]
    NotLast,
    #[error("bytes after the TSIG record")]
    TrailingBytes,
    #[error("TSIG record of class other than ANY or TTL other than 0")]
    ClassOrTtl,
    #[error("TSIG RDATA that does not match its length")]
    Rdata,
    #[error("compressed algorithm name in the TSIG record (RFC 8945 4.2 forbids it)")]
    CompressedAlgorithm,
    #[error("MAC of {size} octets, longer than {algorithm}'s {max}")]
    MacTooLong {
        algorithm: Algorithm,
        size: usize,
        max: usize,
    },
    #[error("MAC of {size} octets, shorter than the {min} {algorithm} may be truncated to")]
    MacTooShort {
        algorithm: Algorithm,
        size: usize,
        min: usize,
    },
}

impl Malformed {
    /// RFC 8945 5.2.2.1 rules 1 and 3: a non-empty MAC is between the
    /// algorithm's truncation floor and its output length.
    pub(crate) fn check_mac_size(algorithm: Algorithm, size: usize) -> Result<(), Malformed> {
        if size > algorithm.output_len() {
            return Err(Malformed::MacTooLong {
                algorithm,
                size,
                max: algorithm.output_len(),
            });
        }
        if size < algorithm.min_mac_len() {
            return Err(Malformed::MacTooShort {
                algorithm,
                size,
                min: algorithm.min_mac_len(),
            });
        }
        Ok(())
    }
}

/// The key a request claims, as its TSIG record names it: what an unsigned
/// BADKEY or BADSIG reply echoes (RFC 8945 5.3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedKey {
    /// The key name in canonical wire form.
    pub(crate) name: Vec<u8>,
    /// The algorithm name as the request wrote it, in wire form.
    pub(crate) algorithm: Vec<u8>,
}

impl ClaimedKey {
    /// The key name in presentation form.
    pub fn name(&self) -> String {
        name_to_text(&self.name)
    }

    /// The algorithm name in presentation form.
    pub fn algorithm(&self) -> String {
        name_to_text(&self.algorithm)
    }
}

/// Why a server refuses a signed request (RFC 8945 5.2). Each variant
/// maps to one reply; [`crate::error_response`] builds it.
#[derive(Debug, thiserror::Error)]
pub enum TsigError {
    /// RFC 8945 5.2: FORMERR, no TSIG.
    #[error("malformed TSIG: {0}")]
    Malformed(#[from] Malformed),
    /// RFC 8945 5.2.1: NOTAUTH, unsigned TSIG with BADKEY.
    #[error("BADKEY: no key {} in the key ring", .0.name())]
    UnknownKey(ClaimedKey),
    /// RFC 8945 5.2.1: NOTAUTH, unsigned TSIG with BADKEY.
    #[error("BADKEY: key {} is {expected}, the request used {}", .claimed.name(), .claimed.algorithm())]
    WrongAlgorithm {
        claimed: ClaimedKey,
        expected: Algorithm,
    },
    /// RFC 8945 5.2.2: NOTAUTH, unsigned TSIG with BADSIG.
    #[error("BADSIG: the MAC does not verify with key {}", .0.name())]
    BadSig(ClaimedKey),
    /// RFC 8945 5.2.3: NOTAUTH, signed TSIG with BADTIME and the server's
    /// time in Other Data.
    #[error("BADTIME: signed at {} by key {}, {} seconds from the server's clock {server_time}, fudge {}", .request.time_signed(), .request.key().name(), .request.time_signed().abs_diff(*.server_time), .request.fudge())]
    BadTime {
        request: Box<SignedRequest>,
        server_time: u64,
    },
    /// RFC 8945 5.2.4: NOTAUTH, signed TSIG with BADTRUNC.
    #[error("BADTRUNC: MAC truncated to {} octets, key {} requires {}", .request.mac().len(), .request.key().name(), .request.key().mac_len())]
    BadTrunc { request: Box<SignedRequest> },
}

impl TsigError {
    /// The RCODE of the reply.
    pub fn rcode(&self) -> u8 {
        match self {
            TsigError::Malformed(_) => RCODE_FORMERR,
            _ => RCODE_NOTAUTH,
        }
    }

    /// The Error field of the reply's TSIG; `None` when the reply carries
    /// no TSIG (FORMERR).
    pub fn tsig_rcode(&self) -> Option<TsigRcode> {
        match self {
            TsigError::Malformed(_) => None,
            TsigError::UnknownKey(_) | TsigError::WrongAlgorithm { .. } => Some(TsigRcode::BADKEY),
            TsigError::BadSig(_) => Some(TsigRcode::BADSIG),
            TsigError::BadTime { .. } => Some(TsigRcode::BADTIME),
            TsigError::BadTrunc { .. } => Some(TsigRcode::BADTRUNC),
        }
    }
}

/// Why a client refuses a response to its signed request (RFC 8945 5.3,
/// 5.3.1). A refused response must be treated as if it had not arrived.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    #[error("malformed TSIG in the response: {0}")]
    Malformed(#[from] Malformed),
    /// The first message of a response, or the last of a transfer, has no
    /// TSIG; `rcode` says what the server answered.
    #[error("response (rcode {rcode}) is not signed")]
    Unsigned { rcode: u8 },
    #[error("response is signed with key {name} {algorithm}, not the request's")]
    WrongKey { name: String, algorithm: String },
    #[error("response MAC does not verify")]
    BadSig,
    #[error("response signed at {time_signed}, outside {now} ± fudge {fudge}")]
    BadTime {
        time_signed: u64,
        now: u64,
        fudge: u16,
    },
    #[error("response MAC truncated to {size} octets, the key requires {required}")]
    BadTrunc { size: usize, required: usize },
    /// The server refused the request with a TSIG error (unsigned for
    /// BADKEY and BADSIG; signed for BADTIME, with its clock).
    #[error("server answered {error}{}", .server_time.map(|t| format!(" (server time {t})")).unwrap_or_default())]
    Refused {
        error: TsigRcode,
        server_time: Option<u64>,
    },
    /// RFC 8945 5.3.1: the last message of a response must be signed.
    #[error("the last message of the response is not signed")]
    UnsignedLast,
    /// RFC 8945 5.3.1: at most 99 unsigned messages in a row.
    #[error("more than 99 consecutive unsigned messages in a multi-message response")]
    TooManyUnsigned,
}

/// Why a message cannot be signed: it is our own, so these are bugs or
/// limits, never network input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("message shorter than a DNS header")]
    ShortMessage,
    #[error("additional section already holds 65535 records")]
    AdditionalFull,
    #[error("the first message of a response must be signed (RFC 8945 5.3.1)")]
    FirstUnsigned,
    #[error("more than 99 consecutive unsigned messages (RFC 8945 5.3.1)")]
    TooManyUnsigned,
}
