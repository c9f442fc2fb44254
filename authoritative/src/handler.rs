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
//! Before the prepared answer, the query's view is chosen
//! ([`crate::views`]; one branch when no zone has views) from its source
//! address or, with `--ecs`, its EDNS Client Subnet, and it is part of the
//! answer's key; the prepared answer picks the rotation of its RRsets
//! (load distribution). The query log names the view when there are some.
//!
//! Neighbours: the transport calls it on its workers;
//! [`crate::server::AuthServer`] creates it and swaps the snapshot it reads.

use std::net::{IpAddr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use arc_swap::ArcSwap;
use dnslab_transport::{Handler, Reply, RequestMeta};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};
use tracing::{debug, error};

use dnslab_wire::{
    check_request, size_limit, ClientSubnet, Policy, Rejection, Request, Verdict, OPCODE_QUERY,
    QTYPE_AXFR, QTYPE_IXFR,
};

use crate::dnssec::records_with_dnssec;
use crate::lookup::{lookup, ResponseRecords};
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
            None,
            max_udp,
            limit,
        );
        match &rejection.request {
            Some(req) if self.logs_queries() => {
                let kind = match rcode {
                    ResponseCode::Refused => AnswerKind::Refused,
                    rcode => AnswerKind::Error(rcode),
                };
                self.log_query(req, meta, &kind, Fit::Complete, None);
            }
            Some(_) => {}
            None => self.log_bad_query(&rejection.reason, meta),
        }
        Reply::Send
    }

    /// Whether query lines are wanted and would be written: `log_queries`
    /// and the debug level on for this module, so that a line filtered
    /// out costs no name decoding.
    fn logs_queries(&self) -> bool {
        self.options.log_queries && tracing::enabled!(tracing::Level::DEBUG)
    }

    /// A request that is not a readable query: logged with what is wrong,
    /// with the server and protocol when queries are logged.
    fn log_bad_query(&self, error: &dyn std::fmt::Display, meta: &RequestMeta) {
        if self.logs_queries() {
            let server = ServerLabel(self.options.server_name.as_deref(), meta.local);
            let protocol = meta.protocol;
            debug!(%server, client = %meta.peer, ?protocol, %error, "bad query");
        } else {
            debug!(client = %meta.peer, %error, "bad query");
        }
    }

    /// The view `req` is answered from, and the client network of its ECS
    /// option when the server acts on ECS (RFC 7871 7.2.1). The view is
    /// chosen by that network when it has one: an option with SOURCE
    /// PREFIX-LENGTH 0 asks that no client address be used (RFC 7871
    /// 7.1.2), and the query's source address chooses then, as it does
    /// without the option.
    fn client(&self, snapshot: &Snapshot, req: &Request<'_>, peer: IpAddr) -> Client {
        let subnet = match self.options.ecs {
            true => req.edns.and_then(|edns| edns.client_subnet),
            false => None,
        };
        if snapshot.views.is_empty() {
            return Client { view: 0, subnet };
        }
        let address = match subnet {
            Some(subnet) if subnet.source() > 0 => subnet.addr(),
            _ => peer,
        };
        Client {
            view: snapshot.views.select(address),
            subnet,
        }
    }

    /// The prepared answer to `req` in `view` from `snapshot`, built on
    /// the first query for its (name, type, DO, view).
    fn prepared(&self, snapshot: &Snapshot, req: &Request<'_>, view: u8) -> Arc<PreparedAnswer> {
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
                    let catalog = snapshot.views.catalog(view, &snapshot.catalog);
                    let looked_up = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        let found = lookup(catalog, &qname, qtype);
                        let kind = AnswerKind::of(&found);
                        let order = snapshot.rrset_order(found.zone(), self.options.rrset_order);
                        let records = if dnssec_ok {
                            records_with_dnssec(catalog, found)
                        } else {
                            found.into_records()
                        };
                        (records, kind, order)
                    }));
                    let Ok((records, kind, order)) = looked_up else {
                        error!(%qname, ?qtype, "lookup panicked; answering SERVFAIL");
                        return PreparedAnswer::error(ResponseCode::ServFail);
                    };
                    let by_view = depends_on_view(snapshot, &qname, &records);
                    let mut prepared = PreparedAnswer::build(&qname, qtype, records, kind, order);
                    prepared.by_view = by_view;
                    prepared
                }
                // Labels hickory cannot represent; nothing in a zone has them.
                _ => PreparedAnswer::error(ResponseCode::FormErr),
            }
        })
    }

    /// One debug line per query; `view` names the view that answered when
    /// the server has views (`-` for an answer from the zones' own data).
    fn log_query(
        &self,
        req: &Request<'_>,
        meta: &RequestMeta,
        outcome: &AnswerKind,
        fit: Fit,
        view: Option<&str>,
    ) {
        let qname = Name::from_bytes(req.question).map_or_else(|_| "?".into(), |n| n.to_string());
        let server = ServerLabel(self.options.server_name.as_deref(), meta.local);
        let truncated = fit == Fit::Truncated;
        let qtype = RecordType::from(req.qtype);
        let protocol = meta.protocol;
        match view {
            Some(view) => debug!(
                %server, client = %meta.peer, ?protocol, %qname, %qtype, %outcome, view = %view,
                truncated, "query"
            ),
            None => debug!(
                %server, client = %meta.peer, ?protocol, %qname, %qtype, %outcome, truncated,
                "query"
            ),
        }
    }
}

/// Who a query is answered for: its view, and the ECS option to echo.
struct Client {
    view: u8,
    subnet: Option<ClientSubnet>,
}

/// Whether the answer `records` to `qname` depends on the view: the
/// question or one of its records lies in a zone that has views (RFC
/// 7871 7.2.1: an answer that does not depend on the client's network
/// has SCOPE PREFIX-LENGTH 0, so that resolvers cache it for everyone).
fn depends_on_view(snapshot: &Snapshot, qname: &Name, records: &ResponseRecords) -> bool {
    if snapshot.views.is_empty() {
        return false;
    }
    let in_views = |name: &Name| {
        snapshot
            .catalog
            .find(name)
            .is_some_and(|zone| snapshot.views.has_views(zone.origin()))
    };
    in_views(qname)
        || [&records.answers, &records.authority, &records.additionals]
            .into_iter()
            .flatten()
            .any(|record| in_views(&record.name))
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
        let snapshot = self.snapshot.load();
        let client = self.client(&snapshot, req, meta.peer.ip());
        // A view's answers are kept under a key of their own.
        let in_view;
        let keyed = match client.view {
            0 => req,
            view => {
                let mut viewed = req.clone();
                viewed.set_view(view);
                in_view = viewed;
                &in_view
            }
        };
        let prepared = self.prepared(&snapshot, keyed, client.view);
        let mut sections = prepared.sections();
        // QCLASS ANY gets the IN data, but not as authoritative
        // (`Policy::AUTHORITATIVE`).
        sections.authoritative &= authoritative;
        // RFC 7871 7.2.1: the query's network echoed, with the bits of it
        // that chose the answer (none when the answer is everyone's).
        let subnet = client.subnet.map(|subnet| {
            let scope = match prepared.by_view && subnet.source() > 0 {
                true => snapshot.views.scope(subnet.addr()),
                false => 0,
            };
            subnet.with_scope(scope)
        });
        let fit = respond::write(
            response,
            &req.header,
            Some(req.question),
            sections,
            req.edns,
            subnet.as_ref(),
            max_udp,
            limit,
        );
        if self.logs_queries() {
            // `-`: the answer is the zones' own data, whoever asks.
            let view = (!snapshot.views.is_empty()).then(|| match prepared.by_view {
                true => snapshot.views.name(client.view),
                false => "-",
            });
            self.log_query(req, meta, &prepared.kind, fit, view);
        }
        Reply::Send
    }
}
