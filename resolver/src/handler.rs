//! The resolver as a [`Handler`] for the shared transport.
//!
//! Cache hits are answered right here on the receiving worker
//! ([`Reply::Send`]); misses become a [`Reply::Deferred`] resolution.
//! Queries with RD=0 are answered from the cache only, as Unbound does
//! for clients allowed to snoop: a miss yields the cached CNAME chain (if
//! any) and the closest cached delegation's NS set as a referral.

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::NS;
use hickory_proto::rr::{DNSClass, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable, BinEncoder};
use tracing::debug;

use dnslab_transport::{Handler, Protocol, Reply, RequestMeta};

use crate::iterate::{from_cache, CacheAnswer};
use crate::upstream::EDNS_PAYLOAD;
use crate::{acl, Resolution, Resolver};

pub struct ResolverHandler {
    resolver: Resolver,
}

impl ResolverHandler {
    pub fn new(resolver: Resolver) -> ResolverHandler {
        ResolverHandler { resolver }
    }
}

impl Handler for ResolverHandler {
    fn handle(&self, request: &[u8], meta: &RequestMeta, response: &mut Vec<u8>) -> Reply {
        let request = match Message::from_bytes(request) {
            Ok(request) => request,
            Err(_) => return format_error(request, response),
        };
        if request.metadata.message_type != MessageType::Query {
            return Reply::Drop;
        }
        let ctx = Respond::new(&request, meta.protocol);
        let config = self.resolver.config();
        if !acl::allowed(&config.allow, meta.peer.ip()) {
            debug!(peer = %meta.peer, "refusing a client outside the allow list");
            return ctx.error(ResponseCode::Refused, response);
        }
        if request.metadata.op_code != OpCode::Query {
            return ctx.error(ResponseCode::NotImp, response);
        }
        let [query] = request.queries.as_slice() else {
            return ctx.error(ResponseCode::FormErr, response);
        };
        // Only class IN is resolved; zone transfers are between a zone's
        // servers, never through a resolver (BIND refuses them likewise).
        if query.query_class != DNSClass::IN
            || matches!(query.query_type, RecordType::AXFR | RecordType::IXFR)
        {
            return ctx.error(ResponseCode::Refused, response);
        }
        let cache = &self.resolver.inner.cache;
        let mut chain = Vec::new();
        match from_cache(
            cache,
            &query.name,
            query.query_type,
            &mut chain,
            config.limits.max_cname_chain,
        ) {
            Ok(CacheAnswer::Done(resolution)) => return ctx.write(&resolution, response),
            Ok(CacheAnswer::Miss(end)) if !request.metadata.recursion_desired => {
                let referral = cache.closest_delegation(&end).map(|cut| {
                    cut.servers
                        .iter()
                        .map(|server| {
                            Record::from_rdata(
                                cut.zone.clone(),
                                cut.ttl,
                                RData::NS(NS(server.clone())),
                            )
                        })
                        .collect()
                });
                let resolution = Resolution {
                    rcode: ResponseCode::NoError,
                    answers: chain,
                    authorities: referral.unwrap_or_default(),
                };
                return ctx.write(&resolution, response);
            }
            Ok(CacheAnswer::Miss(_)) => {}
            Err(error) => {
                debug!(qname = %query.name, %error, "cached chain unusable");
                return ctx.error(ResponseCode::ServFail, response);
            }
        }
        let resolver = self.resolver.clone();
        let (qname, qtype) = (query.name.clone(), query.query_type);
        Reply::Deferred(Box::pin(async move {
            let mut out = Vec::new();
            match resolver.resolve(qname.clone(), qtype).await {
                Ok(resolution) => ctx.write(&resolution, &mut out),
                Err(error) => {
                    debug!(%qname, ?qtype, %error, "resolution failed");
                    ctx.error(ResponseCode::ServFail, &mut out)
                }
            };
            Some(out)
        }))
    }
}

/// What a response needs from its request, owned so that a deferred
/// resolution can carry it.
struct Respond {
    id: u16,
    op_code: OpCode,
    recursion_desired: bool,
    query: Option<Query>,
    edns: bool,
    /// Largest response that fits (RFC 1035 4.2.1: 512 without EDNS; RFC
    /// 6891 6.2.5: the client's payload size, but at least 512).
    limit: usize,
}

impl Respond {
    fn new(request: &Message, protocol: Protocol) -> Respond {
        let limit = match (protocol, &request.edns) {
            (Protocol::Tcp, _) => usize::from(u16::MAX),
            (Protocol::Udp, Some(edns)) => usize::from(edns.max_payload().clamp(512, EDNS_PAYLOAD)),
            (Protocol::Udp, None) => 512,
        };
        Respond {
            id: request.metadata.id,
            op_code: request.metadata.op_code,
            recursion_desired: request.metadata.recursion_desired,
            query: request.queries.first().cloned(),
            edns: request.edns.is_some(),
            limit,
        }
    }

    fn message(&self, rcode: ResponseCode) -> Message {
        let mut msg = Message::new(self.id, MessageType::Response, self.op_code);
        msg.metadata.recursion_desired = self.recursion_desired;
        msg.metadata.recursion_available = true;
        msg.metadata.response_code = rcode;
        if let Some(query) = &self.query {
            msg.add_query(query.clone());
        }
        if self.edns {
            let mut edns = Edns::new();
            edns.set_max_payload(EDNS_PAYLOAD);
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

/// An undecodable request: FORMERR if the header at least is a query's
/// (RFC 1035 4.1.1), otherwise nothing.
fn format_error(request: &[u8], out: &mut Vec<u8>) -> Reply {
    match request {
        [id_hi, id_lo, flags, ..] if request.len() >= 12 && flags & 0x80 == 0 => {
            let msg = Message::error_msg(
                u16::from_be_bytes([*id_hi, *id_lo]),
                OpCode::Query,
                ResponseCode::FormErr,
            );
            encode(&msg, 512, out)
        }
        _ => Reply::Drop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResolverConfig;
    use dnslab_transport::RequestMeta;
    use hickory_proto::rr::rdata::{A, TXT};
    use hickory_proto::rr::Name;
    use std::net::SocketAddr;

    fn handler() -> (Resolver, ResolverHandler) {
        let resolver = Resolver::new(ResolverConfig {
            root_hints: Vec::new(),
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

    #[test]
    fn cache_hit_is_answered_inline_with_ra() {
        let (resolver, handler) = handler();
        let www = Name::from_ascii("www.example.com.").unwrap();
        resolver.inner.cache.store_records(&[Record::from_rdata(
            www.clone(),
            300,
            RData::A(A::new(192, 0, 2, 1)),
        )]);
        let request = query("WWW.example.com.", RecordType::A, true)
            .to_bytes()
            .unwrap();
        let (Some(msg), false) = run(&handler, &request, &meta(CLIENT, Protocol::Udp)) else {
            panic!("a cache hit is sent inline");
        };
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
        assert_eq!(msg.answers[0].name, www);
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
