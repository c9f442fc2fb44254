//! The resolver as a [`Handler`] for the shared transport.
//!
//! Every request goes through the one request check both servers share
//! ([`dnslab_wire::check_request`] with [`Policy::RESOLVER`]), on the wire,
//! and the access list is checked once, right after the check's drop rules.
//! Cache hits are answered right here on the receiving worker
//! ([`Reply::Send`]); misses become a [`Reply::Deferred`] resolution.
//! A hit seen before is copied from an answer kept encoded
//! ([`crate::encoded`]), having read only the header, question and OPT;
//! otherwise (the first hit, a miss) the question is decoded with hickory,
//! the cache answers ([`crate::cache`]), and the first hit's response is
//! kept encoded for the next ones.
//! Every question answered from the cache counts as a hit, every other one
//! as a miss ([`crate::metrics`]). While someone watches the bus, a hit is
//! published as its two messages and a miss becomes a recorded lookup
//! ([`crate::recorder`]); otherwise that costs one relaxed load.
//! Queries with RD=0 are answered from the cache only, as Unbound does
//! for clients allowed to snoop: a miss yields the cached CNAME chain (if
//! any) and the closest cached delegation's NS set as a referral.
//!
//! Bad requests are answered as the check says: no response to fewer than
//! 12 octets or to QR=1; REFUSED to a client outside the access list,
//! whatever else it sent; then NOTIMP and FORMERR (header only), BADVERS
//! and REFUSED (question echoed), each with RA=1 and with an OPT record
//! when the request had one that can be found. The resolver used to judge
//! requests on a whole message decoded by hickory, whose rules differ from
//! the check's in corners no test pinned; it now answers them as the
//! authoritative server does (the hostile tests pin those answers there):
//! - records in the answer or authority section of a query and a
//!   compressed question name are FORMERR (hickory read them); an
//!   additional record hickory cannot decode (a broken TSIG) is skipped,
//!   not FORMERR;
//! - an unassigned opcode is NOTIMP even when the rest cannot be decoded;
//!   two questions with EDNS version 1 are FORMERR, not BADVERS;
//! - a client outside the access list gets REFUSED, not FORMERR, for a
//!   query that cannot be read;
//! - FORMERR and NOTIMP carry the header only (no question); a FORMERR
//!   echoes the opcode, RD and CD and has RA=1, where hickory's error
//!   message had none of them.
//!
//! The resolver's rcodes the tests pin (REFUSED outside the access list
//! and for CHAOS and AXFR, NOTIMP, FORMERR, BADVERS, silence for responses
//! and short packets) are as before.

use std::net::IpAddr;
use std::sync::atomic::AtomicU32;

use hickory_proto::op::{OpCode, Query, ResponseCode};
use hickory_proto::serialize::binary::BinDecodable;
use tracing::debug;

use dnslab_transport::{Handler, Reply, RequestMeta};
use dnslab_wire::{check_request, size_limit, ClientSubnet, Policy, Request, Verdict, CLASS_IN};

use crate::cache::{CacheAnswer, Chain};
use crate::encoded::{EncodedAnswers, Question};
use crate::events::Endpoint;
use crate::respond::Responder;
use crate::upstream::EDNS_PAYLOAD;
use crate::{acl, Resolution, Resolver};
use tokio::time::Instant;

pub(crate) struct ResolverHandler {
    resolver: Resolver,
    /// The cyclic order's count of answers written by the full path.
    rotations: AtomicU32,
}

impl ResolverHandler {
    pub(crate) fn new(resolver: Resolver) -> ResolverHandler {
        ResolverHandler {
            resolver,
            rotations: AtomicU32::new(0),
        }
    }

    /// With `--ecs`, the network asked for on behalf of the client at
    /// `peer` (RFC 7871 7.1.1; the client's own option when it sent one,
    /// 7.1.3, shortened to /24 or /56), and the option the client sent, to
    /// echo in the answer as it came: FAMILY, SOURCE PREFIX-LENGTH and
    /// ADDRESS unchanged (7.2.1), or the client drops the answer (7.3).
    fn client_subnet(
        &self,
        request: &Request<'_>,
        peer: IpAddr,
    ) -> (Option<ClientSubnet>, Option<ClientSubnet>) {
        if !self.resolver.config().ecs {
            return (None, None);
        }
        let sent = request.edns.and_then(|edns| edns.client_subnet);
        (Some(ClientSubnet::for_client(peer, sent)), sent)
    }

    /// Encoded answers to questions already answered from the cache.
    fn encoded(&self) -> &EncodedAnswers {
        &self.resolver.inner.encoded
    }

    /// The cache-hit fast path: copies an encoded answer, if there is one
    /// for this question and it fits. Only the header, the question and
    /// the OPT record of the request have been read.
    fn answer_encoded(
        &self,
        request: &Request<'_>,
        meta: &RequestMeta,
        response: &mut Vec<u8>,
    ) -> bool {
        // QCLASS ANY takes the full path, which echoes its class.
        if request.qclass != CLASS_IN {
            return false;
        }
        let question = Question {
            id: request.header.id,
            recursion_desired: request.header.recursion_desired,
            checking_disabled: request.header.checking_disabled,
            question: request.question,
            key: request.key(),
            edns: request.edns.map(|_| EDNS_PAYLOAD),
            dnssec_ok: request.edns.is_some_and(|edns| edns.dnssec_ok),
            limit: size_limit(meta.protocol, request.edns, EDNS_PAYLOAD),
        };
        self.encoded().answer(&question, response)
    }
}

impl Handler for ResolverHandler {
    fn handle(&self, bytes: &[u8], meta: &RequestMeta, response: &mut Vec<u8>) -> Reply {
        let verdict = check_request(bytes, &Policy::RESOLVER);
        let (header, question, edns) = match &verdict {
            Verdict::Drop(_) => return Reply::Drop,
            Verdict::Answer { request, .. } => {
                (request.header, Some(request.question), request.edns)
            }
            Verdict::Reply(rejection) => (rejection.header, rejection.question(), rejection.edns),
        };
        // An open resolver is an amplifier: outsiders learn nothing else.
        if !acl::allowed(&self.resolver.config().allow, meta.peer.ip()) {
            debug!(client = %meta.peer, "refusing a client outside the allow list");
            let responder = Responder::new(&header, decode_question(question), edns, meta.protocol);
            return responder.error(ResponseCode::Refused, response);
        }
        let request = match verdict {
            Verdict::Answer { request, .. } => request,
            Verdict::Reply(rejection) => {
                let responder =
                    Responder::new(&header, decode_question(question), edns, meta.protocol);
                return responder.error(rejection.rcode(), response);
            }
            Verdict::Drop(_) => return Reply::Drop,
        };
        // One relaxed load: `Some` only while someone watches.
        let watched = self.resolver.watch();
        let counters = &self.resolver.inner.counters;
        let (subnet, echo) = self.client_subnet(&request, meta.peer.ip());
        // A client's ECS option is echoed, which the kept answers do not.
        if echo.is_none() && self.answer_encoded(&request, meta, response) {
            counters.hit();
            if let Some(started) = watched {
                self.publish_hit(started, decode_question(question), meta, None);
            }
            return Reply::Send;
        }
        // Not kept encoded: the question, decoded, goes to the cache.
        let Some(query) = decode_question(question) else {
            let responder = Responder::new(&header, None, edns, meta.protocol);
            return responder.error(ResponseCode::FormErr, response);
        };
        let order = self.resolver.config().rrset_order;
        let responder = Responder::new(&header, Some(query.clone()), edns, meta.protocol)
            .echo(echo)
            .rotated(order, &self.rotations);
        let cache = &self.resolver.inner.cache;
        let max_cnames = self.resolver.config().limits.max_cname_chain;
        let mut chain = Chain::for_client(max_cnames, subnet);
        match cache.answer(&query.name, query.query_type, &mut chain) {
            Ok(CacheAnswer::Done(resolution)) => {
                counters.hit();
                // An answer tied to a client network is not everyone's.
                if resolution.scope == 0 && !self.encoded().holds(request.key()) {
                    self.keep_encoded(request.key(), &query, &resolution, responder.ticket);
                }
                if let Some(started) = watched {
                    self.publish_hit(started, Some(query), meta, Some(&resolution));
                }
                return responder.write(&resolution, response);
            }
            Ok(CacheAnswer::Miss(end)) if !header.recursion_desired => {
                counters.miss();
                let referral = cache.referral(chain, &end);
                if let Some(started) = watched {
                    self.publish_hit(started, Some(query), meta, Some(&referral));
                }
                return responder.write(&referral, response);
            }
            Ok(CacheAnswer::Miss(_)) => counters.miss(),
            Err(error) => {
                debug!(qname = %query.name, %error, "cached chain unusable");
                return responder.error(ResponseCode::ServFail, response);
            }
        }
        let resolver = self.resolver.clone();
        let Query {
            name: qname,
            query_type: qtype,
            ..
        } = query;
        let recorder = watched.and_then(|started| {
            let (client, us) = endpoints(meta);
            resolver.recorder(started, client, us, &qname, qtype)
        });
        Reply::Deferred(Box::pin(async move {
            let mut out = Vec::new();
            let resolved =
                resolver.resolve_recorded(qname.clone(), qtype, subnet, recorder.as_ref());
            match resolved.await {
                Ok(resolution) => responder.write(&resolution, &mut out),
                Err(error) => {
                    debug!(%qname, ?qtype, %error, "resolution failed");
                    responder.error(ResponseCode::ServFail, &mut out)
                }
            };
            Some(out)
        }))
    }
}

/// The requesting host and the resolver, as the events name them.
fn endpoints(meta: &RequestMeta) -> (Endpoint, Endpoint) {
    (
        Endpoint::client(meta.peer),
        Endpoint::resolver(Some(meta.local)),
    )
}

/// The question as sent (name in the client's case), decoded by hickory.
fn decode_question(question: Option<&[u8]>) -> Option<Query> {
    Query::from_bytes(question?).ok()
}

impl ResolverHandler {
    /// Publishes a question answered from the cache: the client's query
    /// and the cache's answer (with the TTL left), the two messages of the
    /// textbook's repeated lookup. Only while someone watches: the
    /// encoded path answered without the records, so they are read again.
    #[cold]
    fn publish_hit(
        &self,
        started: Instant,
        query: Option<Query>,
        meta: &RequestMeta,
        resolution: Option<&Resolution>,
    ) {
        let Some(query) = query else { return };
        let mut chain = Chain::new(self.resolver.config().limits.max_cname_chain);
        let resolution =
            match resolution {
                Some(resolution) => resolution.clone(),
                None => match self.resolver.inner.cache.answer(
                    &query.name,
                    query.query_type,
                    &mut chain,
                ) {
                    Ok(CacheAnswer::Done(resolution)) => resolution,
                    // Expired between the two reads: nothing left to show.
                    _ => return,
                },
            };
        let (client, us) = endpoints(meta);
        let recorder = self
            .resolver
            .recorder(started, client, us, &query.name, query.query_type);
        if let Some(recorder) = recorder {
            recorder.finish(&Ok(resolution), false);
        }
    }

    /// Encodes `resolution` as the answer to the lowercased question, with
    /// no OPT and no size limit, in each rotation of its RRsets, and keeps
    /// it for the fast path, whose first hit copies the rotation after the
    /// one of ticket `written`.
    fn keep_encoded(&self, key: &[u8], query: &Query, resolution: &Resolution, written: u32) {
        let mut lowercase = query.clone();
        lowercase.name = lowercase.name.to_lowercase();
        let rotations = Responder::rotations(self.resolver.config().rrset_order, resolution);
        let mut forms = Vec::with_capacity(rotations);
        for ticket in 0..rotations {
            let responder = Responder {
                id: 0,
                op_code: OpCode::Query,
                recursion_desired: false,
                checking_disabled: false,
                query: Some(lowercase.clone()),
                edns: None,
                subnet: None,
                limit: usize::from(u16::MAX),
                ticket: u32::try_from(ticket).unwrap_or(0),
            };
            let mut encoded = Vec::new();
            if let Reply::Send = responder.write(resolution, &mut encoded) {
                forms.push(encoded);
            }
        }
        let next = usize::try_from(written).unwrap_or(0).wrapping_add(1);
        self.encoded().keep(key, &forms, next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResolverConfig;
    use dnslab_transport::{Protocol, RequestMeta};
    use dnslab_wire::RrsetOrder;
    use hickory_proto::op::{Edns, Message, MessageType};
    use hickory_proto::rr::rdata::{A, TXT};
    use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
    use std::net::SocketAddr;
    use std::time::Duration;

    use hickory_proto::serialize::binary::BinEncodable;

    fn handler() -> (Resolver, ResolverHandler) {
        handler_in(RrsetOrder::default())
    }

    fn handler_in(rrset_order: RrsetOrder) -> (Resolver, ResolverHandler) {
        let resolver = Resolver::new(ResolverConfig {
            root_hints: Vec::new(),
            rrset_order,
            clock: crate::Clock::frozen(),
            ..ResolverConfig::default()
        });
        (resolver.clone(), ResolverHandler::new(resolver))
    }

    fn meta(peer: &str, protocol: Protocol) -> RequestMeta {
        RequestMeta {
            peer: peer.parse::<SocketAddr>().unwrap(),
            local: "127.0.0.1:53".parse().unwrap(),
            protocol,
        }
    }

    fn query(name: &str, rtype: RecordType, rd: bool) -> Message {
        let mut msg = Message::new(0x1234, MessageType::Query, OpCode::Query);
        msg.metadata.recursion_desired = rd;
        msg.add_query(Query::query(Name::from_ascii(name).unwrap(), rtype));
        msg
    }

    /// Runs the handler; returns the decoded response if it sent one inline,
    /// and whether it deferred.
    fn run(
        handler: &ResolverHandler,
        request: &[u8],
        meta: &RequestMeta,
    ) -> (Option<Message>, bool) {
        let mut out = Vec::new();
        match handler.handle(request, meta, &mut out) {
            Reply::Send => (Some(Message::from_bytes(&out).unwrap()), false),
            Reply::Drop => (None, false),
            Reply::Deferred(_) => (None, true),
            Reply::Stream(_) => panic!("the resolver answers no request with a stream"),
        }
    }

    const CLIENT: &str = "127.0.0.1:5000";

    /// A handler whose cache holds www.example.com. A 192.0.2.1.
    fn handler_with_www() -> ResolverHandler {
        let (resolver, handler) = handler();
        resolver.inner.cache.store_records(&[Record::from_rdata(
            Name::from_ascii("www.example.com.").unwrap(),
            300,
            RData::A(A::new(192, 0, 2, 1)),
        )]);
        handler
    }

    /// The answer a UDP client gets to `request`, which must be sent
    /// inline (neither deferred nor dropped).
    #[track_caller]
    fn answer_inline(handler: &ResolverHandler, request: &Message) -> Message {
        let bytes = request.to_bytes().unwrap();
        let (Some(msg), false) = run(handler, &bytes, &meta(CLIENT, Protocol::Udp)) else {
            panic!("{:?} is answered inline", request.queries);
        };
        msg
    }

    /// What the full encoder writes for `request` from the cache, the
    /// reference an encoded answer must match.
    fn full_path_bytes(resolver: &Resolver, request: &Message) -> Vec<u8> {
        let query = &request.queries[0];
        let Ok(CacheAnswer::Done(resolution)) =
            resolver
                .inner
                .cache
                .answer(&query.name, query.query_type, &mut Chain::new(12))
        else {
            panic!("{query:?} is cached");
        };
        let bytes = request.to_bytes().unwrap();
        let Verdict::Answer { request, .. } = check_request(&bytes, &Policy::RESOLVER) else {
            panic!("{query:?} is a question to answer");
        };
        let responder = Responder::new(
            &request.header,
            Some(query.clone()),
            request.edns,
            Protocol::Udp,
        );
        let mut full = Vec::new();
        responder.write(&resolution, &mut full);
        full
    }

    /// RFC 6891 6.1.3, as Unbound answers: BADVERS (extended RCODE 16,
    /// its high bits in our OPT record, which says version 0), even for a
    /// name in the cache.
    #[test]
    fn edns_version_above_0_is_badvers() {
        let handler = handler_with_www();
        let mut request = query("www.example.com.", RecordType::A, true);
        let msg = answer_inline(&handler, &request);
        assert_eq!(msg.metadata.response_code, ResponseCode::NoError, "no EDNS");
        let mut edns = Edns::new();
        edns.set_version(1);
        request.set_edns(edns);
        let msg = answer_inline(&handler, &request);
        // hickory reads 16 as BADSIG, which shares the number with BADVERS.
        assert_eq!(u16::from(msg.metadata.response_code), 16);
        assert!(msg.answers.is_empty() && msg.authorities.is_empty());
        assert_eq!(msg.edns.as_ref().map(Edns::version), Some(0));
        assert!(msg.metadata.recursion_available);
    }

    /// QCLASS ANY gets the IN answer with the question echoed, as from
    /// Unbound; CHAOS is refused.
    #[test]
    fn class_any_is_answered_with_in_and_chaos_refused() {
        let handler = handler_with_www();
        for (class, rcode, answers) in [
            (DNSClass::ANY, ResponseCode::NoError, 1),
            (DNSClass::CH, ResponseCode::Refused, 0),
        ] {
            let mut request = query("www.example.com.", RecordType::A, true);
            request.queries[0].set_query_class(class);
            let msg = answer_inline(&handler, &request);
            assert_eq!(msg.metadata.response_code, rcode, "{class}");
            assert_eq!(msg.queries[0].query_class(), class);
            assert_eq!(msg.answers.len(), answers, "{class}");
            assert!(msg.answers.iter().all(|r| r.dns_class == DNSClass::IN));
        }
    }

    #[test]
    fn cache_hit_is_answered_inline_with_ra() {
        let handler = handler_with_www();
        let msg = answer_inline(&handler, &query("WWW.example.com.", RecordType::A, true));
        assert_eq!(msg.metadata.id, 0x1234);
        assert_eq!(msg.metadata.response_code, ResponseCode::NoError);
        assert!(msg.metadata.recursion_available && msg.metadata.recursion_desired);
        assert!(!msg.metadata.authoritative);
        assert_eq!(
            msg.queries[0].name.to_string(),
            "WWW.example.com.",
            "question echoed as asked"
        );
        assert_eq!(msg.answers.len(), 1);
        assert_eq!(msg.answers[0].name.to_string(), "www.example.com.");
    }

    #[test]
    fn miss_with_rd_is_deferred_and_without_rd_answered_from_cache() {
        let (_, handler) = handler();
        let rd = query("www.example.com.", RecordType::A, true)
            .to_bytes()
            .unwrap();
        assert!(matches!(
            run(&handler, &rd, &meta(CLIENT, Protocol::Udp)),
            (None, true)
        ));
        let no_rd = query("www.example.com.", RecordType::A, false)
            .to_bytes()
            .unwrap();
        let (Some(msg), false) = run(&handler, &no_rd, &meta(CLIENT, Protocol::Udp)) else {
            panic!("RD=0 is answered from the cache, inline");
        };
        assert_eq!(msg.metadata.response_code, ResponseCode::NoError);
        assert!(msg.answers.is_empty() && msg.authorities.is_empty());
    }

    #[test]
    fn refusals_and_errors() {
        let (_, handler) = handler();
        let udp = meta(CLIENT, Protocol::Udp);
        let plain = query("www.example.com.", RecordType::A, true);

        let outsider = meta("192.0.2.9:5000", Protocol::Udp);
        let (Some(msg), _) = run(&handler, &plain.to_bytes().unwrap(), &outsider) else {
            panic!()
        };
        assert_eq!(msg.metadata.response_code, ResponseCode::Refused);

        let mut status = plain.clone();
        status.metadata.op_code = OpCode::Status;
        let (Some(msg), _) = run(&handler, &status.to_bytes().unwrap(), &udp) else {
            panic!()
        };
        assert_eq!(msg.metadata.response_code, ResponseCode::NotImp);

        let axfr = query("example.com.", RecordType::AXFR, true);
        let (Some(msg), _) = run(&handler, &axfr.to_bytes().unwrap(), &udp) else {
            panic!()
        };
        assert_eq!(msg.metadata.response_code, ResponseCode::Refused);

        let mut two = plain.clone();
        two.add_query(Query::query(
            Name::from_ascii("b.example.").unwrap(),
            RecordType::A,
        ));
        let (Some(msg), _) = run(&handler, &two.to_bytes().unwrap(), &udp) else {
            panic!()
        };
        assert_eq!(msg.metadata.response_code, ResponseCode::FormErr);

        let mut garbage = plain.to_bytes().unwrap();
        garbage.truncate(14);
        let (Some(msg), _) = run(&handler, &garbage, &udp) else {
            panic!("FORMERR for a readable header")
        };
        assert_eq!(
            (msg.metadata.id, msg.metadata.response_code),
            (0x1234, ResponseCode::FormErr)
        );

        assert!(
            matches!(run(&handler, &[1, 2, 3], &udp), (None, false)),
            "too short: dropped"
        );
        let mut response = plain.clone();
        response.metadata.message_type = MessageType::Response;
        assert!(matches!(
            run(&handler, &response.to_bytes().unwrap(), &udp),
            (None, false)
        ));
    }

    /// The one request check decides, on the wire: records in a query's
    /// answer section are FORMERR (hickory decoded them), with the header
    /// echoed and RA=1; an outsider's unreadable query gets REFUSED.
    #[test]
    fn the_wire_check_judges_what_hickory_would_have_read() {
        let (_, handler) = handler();
        let mut with_answer = query("www.example.com.", RecordType::A, true);
        with_answer.add_answer(Record::from_rdata(
            Name::from_ascii("www.example.com.").unwrap(),
            300,
            RData::A(A::new(192, 0, 2, 1)),
        ));
        let bytes = with_answer.to_bytes().unwrap();
        let (Some(msg), false) = run(&handler, &bytes, &meta(CLIENT, Protocol::Udp)) else {
            panic!("FORMERR is sent inline");
        };
        assert_eq!(msg.metadata.response_code, ResponseCode::FormErr);
        assert!(msg.metadata.recursion_desired && msg.metadata.recursion_available);
        assert!(msg.queries.is_empty(), "header only");

        let mut garbage = query("www.example.com.", RecordType::A, true)
            .to_bytes()
            .unwrap();
        garbage.truncate(14);
        let outsider = meta("192.0.2.9:5000", Protocol::Udp);
        let (Some(msg), false) = run(&handler, &garbage, &outsider) else {
            panic!("an outsider is answered");
        };
        assert_eq!(msg.metadata.response_code, ResponseCode::Refused);
    }

    /// The first hit goes the full way and keeps the answer encoded; the
    /// second is copied from it and must be the same bytes (but for the
    /// ID), for plain and EDNS queries, in the client's case; then the TTLs
    /// count down, and the entry dies with the shortest one. (In the fixed
    /// order, so that every answer is the full encoder's first.)
    #[test]
    fn encoded_hit_matches_the_full_encoder_and_counts_down() {
        let (resolver, handler) = handler_in(RrsetOrder::Fixed);
        let cname = Record::from_rdata(
            Name::from_ascii("web.example.com.").unwrap(),
            100,
            RData::CNAME(hickory_proto::rr::rdata::CNAME(
                Name::from_ascii("www.example.com.").unwrap(),
            )),
        );
        let www = Name::from_ascii("www.example.com.").unwrap();
        resolver.inner.cache.store_records(&[
            cname,
            Record::from_rdata(www.clone(), 300, RData::A(A::new(192, 0, 2, 1))),
            Record::from_rdata(www, 300, RData::A(A::new(192, 0, 2, 2))),
        ]);
        let udp = meta(CLIENT, Protocol::Udp);
        // The first question takes the full path and keeps the answer.
        answer_inline(&handler, &query("web.example.com.", RecordType::A, true));
        // Without and with EDNS (DO clear and set), CD clear and set: the
        // encoded bytes are the full encoder's, which copies DO (RFC 3225
        // 3) and CD (RFC 4035 3.2.2) as Unbound does.
        for (edns, dnssec_ok, checking_disabled) in [
            (false, false, false),
            (false, false, true),
            (true, false, false),
            (true, true, true),
        ] {
            let mut request = query("web.example.com.", RecordType::A, true);
            request.metadata.id = 0x4321;
            request.metadata.checking_disabled = checking_disabled;
            if edns {
                let mut opt = Edns::new();
                opt.set_dnssec_ok(dnssec_ok);
                request.set_edns(opt);
            }
            let mut fast = Vec::new();
            assert!(matches!(
                handler.handle(&request.to_bytes().unwrap(), &udp, &mut fast),
                Reply::Send
            ));
            let full = full_path_bytes(&resolver, &request);
            let case = format!("edns {edns}, DO {dnssec_ok}, CD {checking_disabled}");
            assert_eq!(fast, full, "{case}");
            let msg = Message::from_bytes(&fast).unwrap();
            assert_eq!(msg.metadata.checking_disabled, checking_disabled, "{case}");
            let expected_opt = edns.then_some(dnssec_ok);
            assert_eq!(
                msg.edns.map(|e| e.flags().dnssec_ok),
                expected_opt,
                "{case}"
            );
        }
        // In another case, the full encoder does not compress owner names
        // against the question (hickory compares case-sensitively) but the
        // encoded answer does: other bytes, the same records.
        let mixed = query("Web.Example.COM.", RecordType::A, true);
        let fast = answer_inline(&handler, &mixed);
        assert_eq!(fast.queries, mixed.queries, "question echoed as asked");
        let full = Message::from_bytes(&full_path_bytes(&resolver, &mixed)).unwrap();
        assert_eq!((fast.metadata, fast.answers), (full.metadata, full.answers));
        resolver
            .config()
            .clock
            .jump_forward(Duration::from_secs(40));
        let request = query("web.example.com.", RecordType::A, false);
        let (Some(msg), false) = run(&handler, &request.to_bytes().unwrap(), &udp) else {
            panic!("an encoded hit is sent inline");
        };
        assert!(!msg.metadata.recursion_desired && msg.metadata.recursion_available);
        let ttls: Vec<u32> = msg.answers.iter().map(|r| r.ttl).collect();
        assert_eq!(ttls, vec![60, 260, 260], "TTLs count down");
        resolver
            .config()
            .clock
            .jump_forward(Duration::from_secs(60));
        let (Some(msg), false) = run(&handler, &request.to_bytes().unwrap(), &udp) else {
            panic!("answered from the RRset cache");
        };
        assert_eq!(
            msg.answers.len(),
            0,
            "the CNAME expired: no encoded answer survives it"
        );
    }

    #[test]
    fn answer_too_big_for_udp_is_truncated() {
        let (resolver, handler) = handler();
        let big = Name::from_ascii("big.example.").unwrap();
        let records: Vec<Record> = (0..20)
            .map(|i| {
                Record::from_rdata(
                    big.clone(),
                    300,
                    RData::TXT(TXT::new(vec![format!("{i:02} {}", "x".repeat(40))])),
                )
            })
            .collect();
        resolver.inner.cache.store_records(&records);
        let request = query("big.example.", RecordType::TXT, true)
            .to_bytes()
            .unwrap();
        let (Some(udp), _) = run(&handler, &request, &meta(CLIENT, Protocol::Udp)) else {
            panic!()
        };
        assert!(udp.metadata.truncation && udp.answers.is_empty());
        let (Some(tcp), _) = run(&handler, &request, &meta(CLIENT, Protocol::Tcp)) else {
            panic!()
        };
        assert!(!tcp.metadata.truncation);
        assert_eq!(tcp.answers.len(), 20);
    }

    /// The first address of each of `n` answers to `name` A over UDP.
    fn first_addresses(handler: &ResolverHandler, name: &str, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| {
                let msg = answer_inline(handler, &query(name, RecordType::A, true));
                let a = msg
                    .answers
                    .iter()
                    .find(|r| r.record_type() == RecordType::A);
                a.map(|r| r.data.to_string()).unwrap_or_default()
            })
            .collect()
    }

    /// Unbound's rrset-roundrobin: answers from the cache rotate the
    /// RRset, the full path's first answer and the kept encodings taking
    /// turns alike (cyclic), at random (random), or not at all (fixed);
    /// behind a CNAME too.
    #[test]
    fn cached_rrsets_rotate_in_the_configured_order() {
        let store = |resolver: &Resolver| {
            let www = Name::from_ascii("www.example.com.").unwrap();
            let records: Vec<Record> = (1..=3)
                .map(|i| Record::from_rdata(www.clone(), 300, RData::A(A::new(192, 0, 2, i))))
                .collect();
            resolver.inner.cache.store_records(&records);
            resolver.inner.cache.store_records(&[Record::from_rdata(
                Name::from_ascii("web.example.com.").unwrap(),
                300,
                RData::CNAME(hickory_proto::rr::rdata::CNAME(www)),
            )]);
        };
        let (resolver, cyclic) = handler_in(RrsetOrder::Cyclic);
        store(&resolver);
        let firsts = first_addresses(&cyclic, "www.example.com.", 7);
        assert_eq!(
            firsts,
            [
                "192.0.2.1",
                "192.0.2.2",
                "192.0.2.3",
                "192.0.2.1",
                "192.0.2.2",
                "192.0.2.3",
                "192.0.2.1"
            ]
        );
        // Another question starts where the answers' count is, then takes
        // turns as well.
        let behind_cname = first_addresses(&cyclic, "web.example.com.", 4);
        let cycle = ["192.0.2.1", "192.0.2.2", "192.0.2.3"];
        for pair in behind_cname.windows(2) {
            let at = cycle.iter().position(|a| *a == pair[0]).unwrap();
            assert_eq!(pair[1], cycle[(at + 1) % 3], "{behind_cname:?}");
        }
        let (resolver, fixed) = handler_in(RrsetOrder::Fixed);
        store(&resolver);
        assert_eq!(
            first_addresses(&fixed, "www.example.com.", 3),
            ["192.0.2.1"; 3]
        );
        let (resolver, random) = handler_in(RrsetOrder::Random);
        store(&resolver);
        let firsts = first_addresses(&random, "www.example.com.", 60);
        for address in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
            assert!(firsts.iter().any(|a| a == address), "{address} never first");
        }
    }
}
