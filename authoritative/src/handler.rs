//! The authoritative request path: bytes in, bytes out, one function.
//!
//! [`AuthHandler::handle`] reads the query ([`crate::request`]), applies the
//! rules that do not need the zones (FORMERR, NOTIMP, BADVERS, class,
//! transfers), then copies the prepared answer of the current zone snapshot
//! ([`crate::prepared`]) into the response ([`crate::respond`]). The common
//! case takes one lock-free snapshot load, one shard lock, and allocates
//! nothing; for the same reason there is no `#[instrument]` span per query
//! (a span costs more than the answer) and the query log is one event,
//! formatted only when `log_queries` is on.
//!
//! Neighbours: the transport calls it on its workers;
//! [`crate::server::AuthServer`] creates it and swaps the snapshot it reads.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use arc_swap::ArcSwap;
use dnslab_transport::{Handler, Reply, RequestMeta};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};
use tracing::{debug, error, info};

use crate::dnssec::add_dnssec_records;
use crate::lookup::lookup;
use crate::prepared::{Outcome, Prepared, Records};
use crate::request::{self, ParseError, Request, CLASS_ANY, CLASS_IN};
use crate::respond::{self, Fit, Sections};
use crate::server::{AuthOptions, Snapshot};

/// RFC 1995 and RFC 5936: incremental and full zone transfer.
const QTYPE_IXFR: u16 = 251;
const QTYPE_AXFR: u16 = 252;

/// Answers queries from whatever snapshot is current; cheap to share.
pub struct AuthHandler {
    snapshot: Arc<ArcSwap<Snapshot>>,
    options: AuthOptions,
}

impl AuthHandler {
    pub(crate) fn new(snapshot: Arc<ArcSwap<Snapshot>>, options: AuthOptions) -> AuthHandler {
        AuthHandler { snapshot, options }
    }

    /// Answers a query with no records and `rcode`, echoing its question.
    fn reply_empty(&self, req: &Request<'_>, rcode: ResponseCode, limit: usize, out: &mut Vec<u8>) {
        let sections = Sections::empty(rcode);
        let max = self.options.max_udp_payload;
        respond::write(
            out,
            &req.header,
            Some(req.question),
            sections,
            req.edns,
            max,
            limit,
        );
    }

    /// The prepared answer to `req` from the current snapshot, built on
    /// the first query for its (name, type).
    fn prepared(&self, req: &Request<'_>) -> Arc<Prepared> {
        let snapshot = self.snapshot.load();
        snapshot.prepared.get_or_build(req.key(), || {
            let qtype = RecordType::from(req.qtype);
            let qname = Name::from_bytes(req.lowercase_name());
            match qname {
                // The prepared sections point into the question by offset,
                // so hickory must encode the name exactly as it came.
                Ok(qname) if qname.to_bytes().is_ok_and(|w| w == req.lowercase_name()) => {
                    // A bug in the lookup for one name must not take down a
                    // worker: that name gets SERVFAIL (cached like any
                    // answer until the next reload) and the error is logged.
                    let dnssec_ok = req.edns.is_some_and(|edns| edns.dnssec_ok);
                    let looked_up = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        let mut response = lookup(&snapshot.catalog, &qname, qtype);
                        if dnssec_ok {
                            add_dnssec_records(&snapshot.catalog, &qname, &mut response);
                        }
                        response
                    }));
                    let Ok(response) = looked_up else {
                        error!(%qname, ?qtype, "lookup panicked; answering SERVFAIL");
                        return Prepared::error(ResponseCode::ServFail);
                    };
                    let records = Records {
                        rcode: response.rcode,
                        authoritative: response.authoritative,
                        answers: &response.answers,
                        authority: &response.authority,
                        additionals: &response.additionals,
                    };
                    Prepared::build(&qname, qtype, records)
                }
                // Labels hickory cannot represent; nothing in a zone has them.
                _ => Prepared::error(ResponseCode::FormErr),
            }
        })
    }

    fn log_query(&self, req: &Request<'_>, meta: &RequestMeta, outcome: &Outcome, fit: Fit) {
        let qname = Name::from_bytes(req.question).map_or_else(|_| "?".into(), |n| n.to_string());
        let server = ServerLabel(self.options.server_name.as_deref(), meta.local);
        info!(
            %server,
            client = %meta.peer,
            protocol = ?meta.protocol,
            %qname,
            qtype = %RecordType::from(req.qtype),
            %outcome,
            truncated = fit == Fit::Truncated,
            "query"
        );
    }
}

/// The server's name in logs, or its address when it was given none.
struct ServerLabel<'a>(Option<&'a str>, SocketAddr);

impl std::fmt::Display for ServerLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(name) => write!(f, "{name}"),
            None => write!(f, "{}", self.1),
        }
    }
}

impl Handler for AuthHandler {
    fn handle(&self, request: &[u8], meta: &RequestMeta, response: &mut Vec<u8>) -> Reply {
        let max_udp = self.options.max_udp_payload;
        let req = match request::parse(request) {
            Ok(req) => req,
            Err(error) => {
                if self.options.log_queries {
                    let server = ServerLabel(self.options.server_name.as_deref(), meta.local);
                    let protocol = meta.protocol;
                    info!(%server, client = %meta.peer, ?protocol, %error, "bad query");
                } else {
                    debug!(client = %meta.peer, %error, "bad query");
                }
                let (header, rcode) = match error {
                    ParseError::ShortHeader(_) | ParseError::NotAQuery => return Reply::Drop,
                    ParseError::NotImplemented(header) => (header, ResponseCode::NotImp),
                    ParseError::Malformed(header, _) => (header, ResponseCode::FormErr),
                };
                // RFC 6891 6.1.1: an OPT record in the request gets one in
                // the response, errors included (as from Knot).
                let edns = request::find_edns(request);
                let limit = respond::size_limit(meta.protocol, edns, max_udp);
                let sections = Sections::empty(rcode);
                respond::write(response, &header, None, sections, edns, max_udp, limit);
                return Reply::Send;
            }
        };
        let limit = respond::size_limit(meta.protocol, req.edns, max_udp);

        let refusal = match (req.edns, req.qclass, req.qtype) {
            // RFC 6891 6.1.3: only EDNS version 0 is implemented.
            (Some(edns), _, _) if edns.version > 0 => Some(ResponseCode::BADVERS),
            // Only IN zones are served: CH and HS get REFUSED, as from NSD;
            // QCLASS ANY is answered from them (see below).
            (_, qclass, _) if qclass != CLASS_IN && qclass != CLASS_ANY => {
                Some(ResponseCode::Refused)
            }
            // IXFR, AXFR: no transfers are offered (NSD's default). Other
            // meta and obsolete types (OPT, MAILA, ...) get NODATA from the
            // lookup, as from Knot.
            (_, _, QTYPE_IXFR | QTYPE_AXFR) => Some(ResponseCode::Refused),
            _ => None,
        };
        if let Some(rcode) = refusal {
            self.reply_empty(&req, rcode, limit, response);
            if self.options.log_queries {
                let outcome = match rcode {
                    ResponseCode::Refused => Outcome::Refused,
                    rcode => Outcome::Error(rcode),
                };
                self.log_query(&req, meta, &outcome, Fit::Complete);
            }
            return Reply::Send;
        }

        let prepared = self.prepared(&req);
        let mut sections = prepared.sections();
        // QCLASS ANY gets the IN data, as from NSD and Knot, but not as
        // authoritative (as from NSD): we hold no other class, so the
        // answer may not be complete for "any class" (RFC 6895 3.2).
        if req.qclass == CLASS_ANY {
            sections.authoritative = false;
        }
        let fit = respond::write(
            response,
            &req.header,
            Some(req.question),
            sections,
            req.edns,
            max_udp,
            limit,
        );
        if self.options.log_queries {
            self.log_query(&req, meta, &prepared.outcome, fit);
        }
        Reply::Send
    }
}
