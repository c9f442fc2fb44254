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

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable, BinEncoder};
use tracing::debug;

use dnslab_transport::{Handler, Protocol, Reply, RequestMeta};
use dnslab_wire::{
    check_request, size_limit, EdnsQuery, Policy, Request, RequestHeader, Verdict, CLASS_IN,
};

use crate::cache::{CacheAnswer, Chain};
use crate::encoded::{EncodedAnswers, Question};
use crate::upstream::EDNS_PAYLOAD;
use crate::{acl, Resolution, Resolver};

pub(crate) struct ResolverHandler {
    resolver: Resolver,
    /// Encoded answers to questions already answered from the cache.
    encoded: EncodedAnswers,
}

impl ResolverHandler {
    pub(crate) fn new(resolver: Resolver) -> ResolverHandler {
        let config = resolver.config();
        let encoded = EncodedAnswers::new(config.cache_size, config.clock.clone());
        ResolverHandler { resolver, encoded }
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
        self.encoded.answer(&question, response)
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
        if self.answer_encoded(&request, meta, response) {
            return Reply::Send;
        }
        // Not kept encoded: the question, decoded, goes to the cache.
        let Some(query) = decode_question(question) else {
            let responder = Responder::new(&header, None, edns, meta.protocol);
            return responder.error(ResponseCode::FormErr, response);
        };
        let responder = Responder::new(&header, Some(query.clone()), edns, meta.protocol);
        let cache = &self.resolver.inner.cache;
        let mut chain = Chain::new(self.resolver.config().limits.max_cname_chain);
        match cache.answer(&query.name, query.query_type, &mut chain) {
            Ok(CacheAnswer::Done(resolution)) => {
                self.keep_encoded(request.key(), &query, &resolution);
                return responder.write(&resolution, response);
            }
            Ok(CacheAnswer::Miss(end)) if !header.recursion_desired => {
                return responder.write(&cache.referral(chain, &end), response);
            }
            Ok(CacheAnswer::Miss(_)) => {}
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
        Reply::Deferred(Box::pin(async move {
            let mut out = Vec::new();
            match resolver.resolve(qname.clone(), qtype).await {
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

/// The question as sent (name in the client's case), decoded by hickory.
fn decode_question(question: Option<&[u8]>) -> Option<Query> {
    Query::from_bytes(question?).ok()
}

impl ResolverHandler {
    /// Encodes `resolution` as the answer to the lowercased question, with
    /// no OPT and no size limit, and keeps it for the fast path.
    fn keep_encoded(&self, key: &[u8], query: &Query, resolution: &Resolution) {
        let mut lowercase = query.clone();
        lowercase.name = lowercase.name.to_lowercase();
        let responder = Responder {
            id: 0,
            op_code: OpCode::Query,
            recursion_desired: false,
            checking_disabled: false,
            query: Some(lowercase),
            edns: None,
            limit: usize::from(u16::MAX),
        };
        let mut encoded = Vec::new();
        if let Reply::Send = responder.write(resolution, &mut encoded) {
            self.encoded.keep(key, &encoded);
        }
    }
}

/// Writes the responses to one request, from what they need of it, owned
/// so that a deferred resolution can carry it.
struct Responder {
    id: u16,
    op_code: OpCode,
    recursion_desired: bool,
    /// CD, copied from the query (RFC 4035 3.2.2).
    checking_disabled: bool,
    query: Option<Query>,
    /// An OPT record in the response (the query had one), with the query's
    /// DO bit (RFC 3225 3).
    edns: Option<bool>,
    /// Largest response that fits ([`dnslab_wire::size_limit`]: RFC 1035
    /// 4.2.1, 512 without EDNS; RFC 6891 6.2.5, the client's payload size,
    /// at least 512, at most ours).
    limit: usize,
}

impl Responder {
    fn new(
        header: &RequestHeader,
        query: Option<Query>,
        edns: Option<EdnsQuery>,
        protocol: Protocol,
    ) -> Responder {
        Responder {
            id: header.id,
            op_code: OpCode::from_u8(header.opcode),
            recursion_desired: header.recursion_desired,
            checking_disabled: header.checking_disabled,
            query,
            edns: edns.map(|edns| edns.dnssec_ok),
            limit: size_limit(protocol, edns, EDNS_PAYLOAD),
        }
    }

    fn message(&self, rcode: ResponseCode) -> Message {
        let mut msg = Message::new(self.id, MessageType::Response, self.op_code);
        msg.metadata.recursion_desired = self.recursion_desired;
        msg.metadata.recursion_available = true;
        msg.metadata.checking_disabled = self.checking_disabled;
        msg.metadata.response_code = rcode;
        if let Some(query) = &self.query {
            msg.add_query(query.clone());
        }
        if let Some(dnssec_ok) = self.edns {
            let mut edns = Edns::new();
            edns.set_max_payload(EDNS_PAYLOAD);
            edns.set_dnssec_ok(dnssec_ok);
            msg.set_edns(edns);
        }
        msg
    }

    fn error(&self, rcode: ResponseCode, out: &mut Vec<u8>) -> Reply {
        encode(&self.message(rcode), self.limit, out)
    }

    fn write(&self, resolution: &Resolution, out: &mut Vec<u8>) -> Reply {
        let mut msg = self.message(resolution.rcode);
        msg.add_answers(resolution.answers.iter().cloned());
        msg.add_authorities(resolution.authorities.iter().cloned());
        encode(&msg, self.limit, out)
    }
}

/// Encodes `msg` into `out`; if it exceeds `limit`, sends the header and
/// question with TC=1 instead so the client retries over TCP.
fn encode(msg: &Message, limit: usize, out: &mut Vec<u8>) -> Reply {
    out.clear();
    if msg.emit(&mut BinEncoder::new(out)).is_ok() && out.len() <= limit {
        return Reply::Send;
    }
    out.clear();
    match msg.truncate().emit(&mut BinEncoder::new(out)) {
        Ok(()) => Reply::Send,
        Err(error) => {
            debug!(%error, "could not encode a response");
            Reply::Drop
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResolverConfig;
    use dnslab_transport::RequestMeta;
    use hickory_proto::rr::rdata::{A, TXT};
    use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
    use std::net::SocketAddr;
    use std::time::Duration;

    fn handler() -> (Resolver, ResolverHandler) {
        let resolver = Resolver::new(ResolverConfig {
            root_hints: Vec::new(),
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
    /// count down, and the entry dies with the shortest one.
    #[test]
    fn encoded_hit_matches_the_full_encoder_and_counts_down() {
        let (resolver, handler) = handler();
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
}
