//! The reply to a request whose TSIG failed (RFC 8945 5.2, 5.3.2), for
//! every server that verifies requests (transfers, NOTIFY, UPDATE):
//!
//! - malformed TSIG: FORMERR, no TSIG;
//! - BADKEY, BADSIG: NOTAUTH with an unsigned TSIG (MAC Size 0) carrying
//!   the error — 5.3.2: "It MUST NOT send back a signed error message";
//! - BADTIME: NOTAUTH, signed, Time Signed copied from the request and the
//!   server's time in the six octets of Other Data, so that the client
//!   can measure the skew (as BIND and Knot do);
//! - BADTRUNC: NOTAUTH, signed.

use crate::error::{ClaimedKey, SignError, TsigError, TsigRcode};
use crate::mac::{MacState, Variables};
use crate::record::{self, Covers, NewTsig, FUDGE};
use crate::server::SignedRequest;
use crate::wire::{self, put_u48, HEADER_LEN};

/// The reply to `request` refused with `error`: the request's ID, opcode,
/// RD bit and question, QR set, the RCODE and TSIG of RFC 8945 5.2. `now`
/// is the server's clock in seconds since the epoch.
pub fn error_response(request: &[u8], error: &TsigError, now: u64) -> Vec<u8> {
    let mut reply = reply_header(request, error.rcode());
    let appended = match error {
        TsigError::Malformed(_) => Ok(()),
        TsigError::UnknownKey(claimed) | TsigError::WrongAlgorithm { claimed, .. } => {
            unsigned_tsig(&mut reply, claimed, TsigRcode::BADKEY, now)
        }
        TsigError::BadSig(claimed) => unsigned_tsig(&mut reply, claimed, TsigRcode::BADSIG, now),
        TsigError::BadTime {
            request,
            server_time,
        } => {
            let mut other = Vec::with_capacity(6);
            put_u48(&mut other, *server_time);
            signed_tsig(
                &mut reply,
                request,
                Variables {
                    time_signed: request.time_signed(),
                    fudge: FUDGE,
                    error: TsigRcode::BADTIME.0,
                    other: &other,
                },
            )
        }
        TsigError::BadTrunc { request } => signed_tsig(
            &mut reply,
            request,
            Variables {
                time_signed: now,
                fudge: FUDGE,
                error: TsigRcode::BADTRUNC.0,
                other: &[],
            },
        ),
    };
    // The reply starts with a whole header, and ARCOUNT is 0 before the
    // TSIG is added: appending cannot fail.
    debug_assert_eq!(appended, Ok(()));
    reply
}

/// Header and question section of the reply.
fn reply_header(request: &[u8], rcode: u8) -> Vec<u8> {
    let id = request.get(..2).unwrap_or(&[0, 0]);
    let flags = request.get(2).copied().unwrap_or(0);
    // QR, the request's opcode and RD; AA, TC, RA, AD, CD clear.
    let flags = 0x80 | (flags & 0x78) | (flags & 0x01);
    let mut reply = Vec::with_capacity(512);
    reply.extend_from_slice(id);
    reply.extend_from_slice(&[flags, rcode & 0x0F]);
    reply.extend_from_slice(&[0; HEADER_LEN - 4]);
    // The question, if it can be walked: a reply names what it refuses.
    let questions = wire::counts(request).map_or(0, |c| c.question);
    let mut end = Some(HEADER_LEN);
    for _ in 0..questions {
        end = end.and_then(|at| wire::skip_question(request, at));
    }
    if let Some(question) = end.and_then(|end| request.get(HEADER_LEN..end)) {
        reply[4..6].copy_from_slice(&questions.to_be_bytes());
        reply.extend_from_slice(question);
    }
    reply
}

/// RFC 8945 5.3.2: the TSIG of a BADKEY or BADSIG reply, with no MAC.
fn unsigned_tsig(
    reply: &mut Vec<u8>,
    claimed: &ClaimedKey,
    error: TsigRcode,
    now: u64,
) -> Result<(), SignError> {
    record::append(
        reply,
        &NewTsig {
            key_name: &claimed.name,
            algorithm: &claimed.algorithm,
            vars: Variables {
                time_signed: now,
                fudge: FUDGE,
                error: error.0,
                other: &[],
            },
            mac: &[],
        },
    )
}

/// A signed error reply: its digest opens with the request MAC, as any
/// response's does (RFC 8945 4.3.2).
fn signed_tsig(
    reply: &mut Vec<u8>,
    request: &SignedRequest,
    vars: Variables<'_>,
) -> Result<(), SignError> {
    let key = request.key();
    record::sign(
        reply,
        key,
        MacState::after_mac(key, request.mac()),
        vars,
        Covers::Variables,
        request.response_mac_len(),
    )
    .map(drop)
}
