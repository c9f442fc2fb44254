//! The one request check: what a server does with a request before it
//! looks anything up, decided from the octets alone.
//!
//! Both servers apply the same rules, each beside the RFC that makes it,
//! in this order:
//! 1. fewer than 12 octets, or QR=1: no response at all (RFC 1035 4.1.1;
//!    answering a response invites reflection loops between servers);
//! 2. an opcode the [`Policy`] does not answer: NOTIMP, header only, every
//!    flag but the opcode cleared (RFC 1035 4.1.1; as BIND answers);
//! 3. not one well-formed question (QDCOUNT other than 1, records in the
//!    answer or authority section of a plain query, a truncated or
//!    compressed question name, two OPT records, OPT options cut short, a
//!    malformed ECS option, an UPDATE whose zone section is not of type
//!    SOA...): FORMERR, header only (RFC 1035 4.1.1, RFC 9619, RFC 6891
//!    6.1.1, RFC 7871 7.2.1, RFC 2136 3.1.1). An ECS option is checked
//!    whether or not the server acts on it (`--ecs`), as BIND checks it: a
//!    broken client learns of its bug either way;
//! 4. an EDNS version other than 0: BADVERS (RFC 6891 6.1.3);
//! 5. a class other than IN and ANY: REFUSED, as from NSD, Knot and
//!    Unbound (only class IN data is held or resolved);
//! 6. AXFR and IXFR: REFUSED where the [`Policy`] says so.
//!
//! Everything else is a request to answer: a question, or (where the
//! policy lets them through) a zone transfer, a NOTIFY or an UPDATE, whose
//! own rules (TSIG, access lists, TCP only, an update's sections) belong to
//! the server that answers them.
//! Error responses carry an OPT
//! record when the request had one that can be found (RFC 6891 6.1.1),
//! FORMERR and NOTIMP included.
//!
//! Where the two servers differ, [`Policy`] says it, once:
//! [`Policy::AUTHORITATIVE`] and [`Policy::RESOLVER`]. Neighbours:
//! [`crate::request`] reads the request; each server's handler writes the
//! response the [`Verdict`] calls for, and the resolver checks its access
//! list beside it.

use std::fmt;

use hickory_proto::op::ResponseCode;

use crate::request::{
    find_edns, parse_request, EdnsQuery, Malformed, Opcodes, ParseError, Request, RequestHeader,
    CLASS_ANY, CLASS_IN, OPCODE_NOTIFY, OPCODE_UPDATE, QTYPE_AXFR, QTYPE_IXFR,
};

/// Where the two servers differ in what they do with a readable query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The kinds of request answered; others get NOTIMP.
    pub opcodes: Opcodes,
    /// Refuse AXFR and IXFR with REFUSED. (Other meta and obsolete types,
    /// OPT, MAILA and the like, are questions like any other: NODATA from
    /// the authoritative lookup, as from Knot.)
    pub refuse_zone_transfers: bool,
    /// QCLASS ANY (RFC 1035 3.2.5) is answered with the class IN data by
    /// both servers, as NSD, Knot and Unbound do; `true` makes that answer
    /// not authoritative (AA=0).
    pub class_any_not_authoritative: bool,
}

impl Policy {
    /// The authoritative server: queries, zone transfers, NOTIFY and
    /// UPDATE, whose access rules it applies itself (no transfer or update
    /// is allowed unless configured, NSD's and Knot's default); QCLASS ANY
    /// gets the IN data without AA, as from NSD (Knot sets AA): holding no
    /// other class, the server cannot vouch for "any" (RFC 6895 3.2).
    pub const AUTHORITATIVE: Policy = Policy {
        opcodes: Opcodes::QUERY.with(OPCODE_NOTIFY).with(OPCODE_UPDATE),
        refuse_zone_transfers: false,
        class_any_not_authoritative: true,
    };

    /// The resolver: zone transfers are between a zone's servers, never
    /// through a resolver (BIND refuses them likewise); its answers never
    /// carry AA, for any class.
    pub const RESOLVER: Policy = Policy {
        opcodes: Opcodes::QUERY,
        refuse_zone_transfers: true,
        class_any_not_authoritative: false,
    };
}

/// What to do with one request.
#[derive(Debug)]
pub enum Verdict<'a> {
    /// A question to answer. `authoritative` is false where the policy
    /// says the answer cannot vouch for what was asked (QCLASS ANY).
    Answer {
        request: Request<'a>,
        authoritative: bool,
    },
    /// Reply with the rejection's RCODE and no records.
    Reply(Rejection<'a>),
    /// Send nothing (a short header or QR=1).
    Drop(ParseError),
}

/// A request answered with an error RCODE and no records.
#[derive(Clone, Debug)]
pub struct Rejection<'a> {
    pub reason: Reason,
    pub header: RequestHeader,
    /// The request's OPT record, when it can be found: the response gets
    /// one too (RFC 6891 6.1.1).
    pub edns: Option<EdnsQuery>,
    /// The query, when it could be read (BADVERS, REFUSED): its question
    /// is echoed. `None` for NOTIMP and FORMERR, which are answered with
    /// the header only.
    pub request: Option<Request<'a>>,
}

impl<'a> Rejection<'a> {
    pub fn rcode(&self) -> ResponseCode {
        self.reason.rcode()
    }

    /// The question as sent, to echo, when the query could be read.
    pub fn question(&self) -> Option<&'a [u8]> {
        self.request.as_ref().map(|request| request.question)
    }
}

/// The rule a rejected request breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// RFC 1035 4.1.1: an opcode this server does not implement (NOTIFY
    /// or UPDATE to the resolver, IQUERY, ...): NOTIMP, "does not support the
    /// requested kind of query".
    NotImplemented { opcode: u8 },
    /// Not one well-formed question: FORMERR.
    Malformed(Malformed),
    /// RFC 6891 6.1.3: only EDNS version 0 is implemented: BADVERS.
    BadVersion(u8),
    /// A class other than IN and ANY: REFUSED.
    Class(u16),
    /// AXFR or IXFR where the policy refuses them: REFUSED.
    ZoneTransfer(u16),
}

impl Reason {
    pub fn rcode(self) -> ResponseCode {
        match self {
            Reason::NotImplemented { .. } => ResponseCode::NotImp,
            Reason::Malformed(_) => ResponseCode::FormErr,
            Reason::BadVersion(_) => ResponseCode::BADVERS,
            Reason::Class(_) | Reason::ZoneTransfer(_) => ResponseCode::Refused,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NotImplemented { opcode } => write!(f, "opcode {opcode} is not implemented"),
            Reason::Malformed(why) => write!(f, "malformed query: {why}"),
            Reason::BadVersion(version) => write!(f, "EDNS version {version} is not implemented"),
            Reason::Class(class) => write!(f, "class {class} is not served"),
            Reason::ZoneTransfer(qtype) => write!(f, "zone transfer (type {qtype}) refused"),
        }
    }
}

/// Applies the rules of this module, in their order, to `msg`.
pub fn check_request<'a>(msg: &'a [u8], policy: &Policy) -> Verdict<'a> {
    let request = match parse_request(msg, policy.opcodes) {
        Ok(request) => request,
        Err(error) => {
            let (header, reason) = match error {
                ParseError::ShortHeader(_) | ParseError::NotAQuery => return Verdict::Drop(error),
                // BIND answers an opcode it does not know with every flag
                // cleared but QR and the opcode: RD and CD are not echoed,
                // since nothing was recursed or checked.
                ParseError::NotImplemented(header) => (
                    RequestHeader {
                        recursion_desired: false,
                        checking_disabled: false,
                        ..header
                    },
                    Reason::NotImplemented {
                        opcode: header.opcode,
                    },
                ),
                ParseError::Malformed(header, why) => (header, Reason::Malformed(why)),
            };
            return Verdict::Reply(Rejection {
                reason,
                header,
                edns: find_edns(msg),
                request: None,
            });
        }
    };
    let reason = match (request.edns, request.qclass, request.qtype) {
        (Some(edns), _, _) if edns.version > 0 => Some(Reason::BadVersion(edns.version)),
        (_, qclass, _) if qclass != CLASS_IN && qclass != CLASS_ANY => Some(Reason::Class(qclass)),
        (_, _, qtype @ (QTYPE_IXFR | QTYPE_AXFR)) if policy.refuse_zone_transfers => {
            Some(Reason::ZoneTransfer(qtype))
        }
        _ => None,
    };
    match reason {
        Some(reason) => Verdict::Reply(Rejection {
            reason,
            header: request.header,
            edns: request.edns,
            request: Some(request),
        }),
        None => Verdict::Answer {
            authoritative: !(request.qclass == CLASS_ANY && policy.class_any_not_authoritative),
            request,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query for `a.` with the given opcode, QDCOUNT, type, class and,
    /// when `edns` is given, an OPT record of that version.
    fn query(opcode: u8, qdcount: u16, qtype: u16, qclass: u16, edns: Option<u8>) -> Vec<u8> {
        let mut m = vec![0xAB, 0xCD, opcode << 3, 0, 0, qdcount as u8, 0, 0, 0, 0, 0];
        m.push(u8::from(edns.is_some()));
        m.extend_from_slice(b"\x01a\x00");
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&qclass.to_be_bytes());
        if let Some(version) = edns {
            m.extend_from_slice(&[0, 0, 41, 4, 0, 0, version, 0, 0, 0, 0]);
        }
        m
    }

    fn rcode(msg: &[u8], policy: &Policy) -> Option<ResponseCode> {
        match check_request(msg, policy) {
            Verdict::Answer { .. } => Some(ResponseCode::NoError),
            Verdict::Reply(rejection) => Some(rejection.rcode()),
            Verdict::Drop(_) => None,
        }
    }

    #[test]
    fn each_rule_gives_its_rcode_in_order() {
        let auth = &Policy::RESOLVER;
        let cases = [
            (query(0, 1, 1, CLASS_IN, None), Some(ResponseCode::NoError)),
            (
                query(0, 1, 1, CLASS_IN, Some(1)),
                Some(ResponseCode::BADVERS),
            ),
            (query(4, 1, 6, CLASS_IN, None), Some(ResponseCode::NotImp)),
            (query(5, 1, 6, CLASS_IN, None), Some(ResponseCode::NotImp)),
            (query(0, 2, 1, CLASS_IN, None), Some(ResponseCode::FormErr)),
            // The question count is checked before the EDNS version.
            (
                query(0, 2, 1, CLASS_IN, Some(1)),
                Some(ResponseCode::FormErr),
            ),
            (query(0, 1, 1, 3, None), Some(ResponseCode::Refused)),
            (
                query(0, 1, QTYPE_AXFR, CLASS_IN, None),
                Some(ResponseCode::Refused),
            ),
            (
                query(0, 1, QTYPE_IXFR, CLASS_IN, None),
                Some(ResponseCode::Refused),
            ),
            (query(0, 1, 1, CLASS_ANY, None), Some(ResponseCode::NoError)),
            (query(0, 1, 1, CLASS_IN, None)[..11].to_vec(), None),
        ];
        for (msg, expected) in cases {
            assert_eq!(rcode(&msg, auth), expected, "{msg:02x?}");
        }
        let mut response = query(0, 1, 1, CLASS_IN, None);
        response[2] |= 0x80;
        assert_eq!(rcode(&response, auth), None, "QR=1 is dropped");
    }

    #[test]
    fn refusals_echo_the_question_and_errors_only_the_header_and_opt() {
        let class = query(0, 1, 1, 3, Some(0));
        let Verdict::Reply(refused) = check_request(&class, &Policy::RESOLVER) else {
            panic!("a query of class 3 must get a REFUSED reply");
        };
        assert_eq!(refused.question(), Some(&class[12..19]));
        assert!(refused.edns.is_some());
        let notify = query(4, 1, 6, CLASS_IN, Some(0));
        let Verdict::Reply(notimp) = check_request(&notify, &Policy::RESOLVER) else {
            panic!("a NOTIFY to the resolver must get a NOTIMP reply");
        };
        assert_eq!(notimp.question(), None);
        assert_eq!(notimp.edns.map(|e| e.udp_size), Some(1024));
        assert_eq!(notimp.header.id, 0xABCD);
    }

    #[test]
    fn the_authoritative_policy_lets_transfers_notify_and_update_through() {
        let auth = &Policy::AUTHORITATIVE;
        for msg in [
            query(0, 1, QTYPE_AXFR, CLASS_IN, None),
            query(0, 1, QTYPE_IXFR, CLASS_IN, None),
            query(OPCODE_NOTIFY, 1, 6, CLASS_IN, None),
            query(OPCODE_UPDATE, 1, 6, CLASS_IN, None),
        ] {
            assert_eq!(rcode(&msg, auth), Some(ResponseCode::NoError), "{msg:02x?}");
        }
        // RFC 2136 3.1.1: the zone section names the zone by its SOA.
        assert_eq!(
            rcode(&query(OPCODE_UPDATE, 1, 1, CLASS_IN, None), auth),
            Some(ResponseCode::FormErr)
        );
        // RFC 2136 3.1.1 again: one zone, ZOCOUNT 1.
        assert_eq!(
            rcode(&query(OPCODE_UPDATE, 2, 6, CLASS_IN, None), auth),
            Some(ResponseCode::FormErr)
        );
        // The resolver holds no zone to update.
        assert_eq!(
            rcode(
                &query(OPCODE_UPDATE, 1, 6, CLASS_IN, None),
                &Policy::RESOLVER
            ),
            Some(ResponseCode::NotImp)
        );
    }

    /// BIND clears every flag of a NOTIMP reply but the opcode; copying RD
    /// and CD back would claim a recursion or a check that never happened.
    #[test]
    fn not_implemented_clears_rd_and_cd() {
        let mut iquery = query(1, 1, 6, CLASS_IN, None);
        iquery[2] |= 0x01; // RD
        iquery[3] |= 0x10; // CD
        let Verdict::Reply(notimp) = check_request(&iquery, &Policy::AUTHORITATIVE) else {
            panic!("an IQUERY must get a NOTIMP reply");
        };
        assert_eq!(notimp.rcode(), ResponseCode::NotImp);
        assert!(!notimp.header.recursion_desired && !notimp.header.checking_disabled);
        assert_eq!(notimp.header.opcode, 1);
    }

    #[test]
    fn class_any_is_authoritative_only_where_the_policy_allows() {
        let any = query(0, 1, 1, CLASS_ANY, None);
        let authoritative = |policy| match check_request(&any, policy) {
            Verdict::Answer { authoritative, .. } => authoritative,
            other => panic!("{other:?}"),
        };
        assert!(!authoritative(&Policy::AUTHORITATIVE));
        assert!(authoritative(&Policy::RESOLVER));
    }
}
