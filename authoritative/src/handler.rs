//! The authoritative request path: bytes in, bytes out, one function.
//!
//! [`AuthHandler::handle`] reads the query and applies the rules that do not
//! need the zones (FORMERR, NOTIMP, BADVERS, class, transfers): the one
//! request check both servers share ([`dnslab_wire::check_request`], with
//! [`Policy::AUTHORITATIVE`]). It then copies the prepared answer of the
//! current zone snapshot
//! ([`crate::prepared`]) into the response ([`crate::respond`]). The common
//! case takes one lock-free snapshot load, one shard lock, and allocates
//! nothing; for the same reason there is no `#[instrument]` span per query
//! (a span costs more than the answer) and the query log is one event at
//! debug level (`dnslab up` shows walks instead; `dnslab auth
//! --log-queries` turns the level on), formatted only when `log_queries`
//! is on.
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
use tracing::{debug, error};

use dnslab_wire::{
    check_request, size_limit, Policy, Rejection, Request, Verdict, OPCODE_QUERY, QTYPE_AXFR,
    QTYPE_IXFR,
};

use crate::dnssec::records_with_dnssec;
use crate::lookup::lookup;
use crate::prepared::{AnswerKind, PreparedAnswer};
use crate::respond::{self, Fit, Sections};
use crate::server::{AuthOptions, Snapshot};
use crate::transfer::{self, Transfers};
use crate::update::Updates;

/// Answers queries from whatever snapshot is current; cheap to share.
pub(crate) struct AuthHandler {
    snapshot: Arc<ArcSwap<Snapshot>>,
    options: AuthOptions,
    /// Transfers, NOTIFY and TSIG: every request but a plain query.
    transfers: Arc<Transfers>,
    /// Where UPDATEs wait for their zone's writer.
    updates: Arc<Updates>,
}

impl AuthHandler {
    pub(crate) fn new(
        snapshot: Arc<ArcSwap<Snapshot>>,
        options: AuthOptions,
        transfers: Arc<Transfers>,
        updates: Arc<Updates>,
    ) -> AuthHandler {
        AuthHandler {
            snapshot,
            options,
            transfers,
            updates,
        }
    }

    pub(crate) fn transfers(&self) -> &Transfers {
        &self.transfers
    }

    pub(crate) fn updates(&self) -> &Updates {
        &self.updates
    }

    /// The snapshot current now.
    pub(crate) fn snapshot(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.snapshot.load()
    }

    pub(crate) fn max_udp_payload(&self) -> u16 {
        self.options.max_udp_payload
    }

    /// The server's name for logs (its address when it has none), as the
    /// query log shows it.
    pub(crate) fn server_label(&self, meta: &RequestMeta) -> String {
        ServerLabel(self.options.server_name.as_deref(), meta.local).to_string()
    }

    /// Answers a rejected request with its RCODE and no records, echoing
    /// the question when it could be read; logs it.
    fn reject(
        &self,
        rejection: &Rejection<'_>,
        meta: &RequestMeta,
        response: &mut Vec<u8>,
    ) -> Reply {
        let max_udp = self.options.max_udp_payload;
        let limit = size_limit(meta.protocol, rejection.edns, max_udp);
        let rcode = rejection.rcode();
        let sections = Sections::empty(rcode);
        let question = rejection.question();
        respond::write(
            response,
            &rejection.header,
            question,
            sections,
            rejection.edns,
            max_udp,
            limit,
        );
        match &rejection.request {
            Some(req) if self.options.log_queries => {
                let kind = match rcode {
                    ResponseCode::Refused => AnswerKind::Refused,
                    rcode => AnswerKind::Error(rcode),
                };
                self.log_query(req, meta, &kind, Fit::Complete);
            }
            Some(_) => {}
            None => self.log_bad_query(&rejection.reason, meta),
        }
        Reply::Send
    }

    /// A request that is not a readable query: logged with what is wrong,
    /// with the server and protocol when queries are logged.
    fn log_bad_query(&self, error: &dyn std::fmt::Display, meta: &RequestMeta) {
        if self.options.log_queries {
            let server = ServerLabel(self.options.server_name.as_deref(), meta.local);
            let protocol = meta.protocol;
            debug!(%server, client = %meta.peer, ?protocol, %error, "bad query");
        } else {
            debug!(client = %meta.peer, %error, "bad query");
        }
    }

    /// The prepared answer to `req` from the current snapshot, built on
    /// the first query for its (name, type).
    fn prepared(&self, req: &Request<'_>) -> Arc<PreparedAnswer> {
        let snapshot = self.snapshot.load();
        snapshot.prepared.get_or_build(req.key(), || {
            let qtype = RecordType::from(req.qtype);
            let qname = Name::from_bytes(req.lowercase_name());
            match qname {
                // A secondary zone without data (not yet transferred, or
                // expired): SERVFAIL, as from BIND.
                Ok(qname) if snapshot.unavailable(&qname) => {
                    PreparedAnswer::error(ResponseCode::ServFail)
                }
                // The prepared sections point into the question by offset,
                // so hickory must encode the name exactly as it came.
                Ok(qname) if qname.to_bytes().is_ok_and(|w| w == req.lowercase_name()) => {
                    // A bug in the lookup for one name must not take down a
                    // worker: that name gets SERVFAIL (cached like any
                    // answer until the next reload) and the error is logged.
                    let dnssec_ok = req.edns.is_some_and(|edns| edns.dnssec_ok);
                    let looked_up = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        let found = lookup(&snapshot.catalog, &qname, qtype);
                        let kind = AnswerKind::of(&found);
                        let records = if dnssec_ok {
                            records_with_dnssec(&snapshot.catalog, found)
                        } else {
                            found.into_records()
                        };
                        (records, kind)
                    }));
                    let Ok((records, kind)) = looked_up else {
                        error!(%qname, ?qtype, "lookup panicked; answering SERVFAIL");
                        return PreparedAnswer::error(ResponseCode::ServFail);
                    };
                    PreparedAnswer::build(&qname, qtype, records, kind)
                }
                // Labels hickory cannot represent; nothing in a zone has them.
                _ => PreparedAnswer::error(ResponseCode::FormErr),
            }
        })
    }

    fn log_query(&self, req: &Request<'_>, meta: &RequestMeta, outcome: &AnswerKind, fit: Fit) {
        let qname = Name::from_bytes(req.question).map_or_else(|_| "?".into(), |n| n.to_string());
        let server = ServerLabel(self.options.server_name.as_deref(), meta.local);
        debug!(
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
        let (req, authoritative) = match check_request(request, &Policy::AUTHORITATIVE) {
            Verdict::Answer {
                request,
                authoritative,
            } => (request, authoritative),
            Verdict::Reply(rejection) if rejection.request.as_ref().is_some_and(|r| r.signed) => {
                let reject = |response: &mut Vec<u8>| self.reject(&rejection, meta, response);
                return transfer::sign_rejection(&self.transfers, request, meta, response, reject);
            }
            Verdict::Reply(rejection) => return self.reject(&rejection, meta, response),
            Verdict::Drop(error) => {
                self.log_bad_query(&error, meta);
                return Reply::Drop;
            }
        };
        // Signed requests, transfers, NOTIFY and UPDATE: off the hot path.
        if req.signed
            || req.header.opcode != OPCODE_QUERY
            || matches!(req.qtype, QTYPE_AXFR | QTYPE_IXFR)
        {
            return transfer::serve(self, request, &req, authoritative, meta, response);
        }
        self.answer(&req, authoritative, meta, response, 0)
    }
}

impl AuthHandler {
    /// Answers a query from the prepared answers, leaving `reserve` octets
    /// free below the size limit (for a TSIG record to come).
    pub(crate) fn answer(
        &self,
        req: &Request<'_>,
        authoritative: bool,
        meta: &RequestMeta,
        response: &mut Vec<u8>,
        reserve: usize,
    ) -> Reply {
        let max_udp = self.options.max_udp_payload;
        let limit = size_limit(meta.protocol, req.edns, max_udp).saturating_sub(reserve);
        let prepared = self.prepared(req);
        let mut sections = prepared.sections();
        // QCLASS ANY gets the IN data, but not as authoritative
        // (`Policy::AUTHORITATIVE`).
        sections.authoritative &= authoritative;
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
            self.log_query(req, meta, &prepared.kind, fit);
        }
        Reply::Send
    }
}
