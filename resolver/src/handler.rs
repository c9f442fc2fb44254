//! The resolver as a [`Handler`] for the shared transport.
//!
//! Cache hits are answered right here on the receiving worker
//! ([`Reply::Send`]); misses become a [`Reply::Deferred`] resolution.
//! Queries with RD=0 are answered from the cache only, as Unbound does
//! for clients allowed to snoop: a miss yields the cached CNAME chain (if
//! any) and the closest cached delegation's NS set as a referral.

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::NS;
use hickory_proto::rr::{DNSClass, RData, Record};
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
        if query.query_class != DNSClass::IN {
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
