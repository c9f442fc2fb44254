//! Counting every answered query, by protocol, type and rcode, around any
//! server's handler: the `dnslab_dns_queries_total` family, and for the
//! resolver the time each deferred answer (a walk) took.
//!
//! A wrapper, so that neither server's request path changes: after the
//! inner handler has written its response, the type is read from the
//! request's question and the rcode from the response's header (and, for
//! an extended rcode such as BADVERS, from the OPT record such a response
//! carries right after the question). That is a few dozen byte reads and
//! one relaxed add on the counting thread's own cache line
//! ([`QueryCounters`]): no lock, no allocation, no formatting.
//!
//! Cache hits are not timed: they are answered in microseconds on the
//! receiving worker, and two clock reads would be a noticeable share of
//! that; `dnslab_cache_hits_total` counts them. The resolution histogram
//! is the time of the answers that needed a walk, measured from the
//! question's arrival at the handler to the answer's bytes.

use std::sync::Arc;
use std::time::Instant;

use dnslab_transport::{Handler, Protocol, Reply, RequestMeta};
use dnslab_web::metrics::{Histogram, Proto, QueryCounters};
use dnslab_wire::{skip_name, u16_at, HEADER_LEN, TYPE_OPT};

/// One server's counters.
#[derive(Debug, Default)]
pub struct ServerCounters {
    pub queries: QueryCounters,
    /// Deferred answers (a resolver's walks), from question to answer.
    pub resolution: Histogram,
}

/// A handler whose answers are counted in `counters`.
pub struct Counted {
    inner: Arc<dyn Handler>,
    counters: Arc<ServerCounters>,
}

impl Counted {
    /// `inner`, its answers counted in `counters`.
    pub fn wrap(inner: Arc<dyn Handler>, counters: Arc<ServerCounters>) -> Arc<dyn Handler> {
        Arc::new(Counted { inner, counters })
    }
}

impl Handler for Counted {
    fn handle(&self, request: &[u8], meta: &RequestMeta, response: &mut Vec<u8>) -> Reply {
        let reply = self.inner.handle(request, meta, response);
        let proto = match meta.protocol {
            Protocol::Udp => Proto::Udp,
            Protocol::Tcp => Proto::Tcp,
        };
        match reply {
            Reply::Send => {
                count(&self.counters.queries, proto, request, response);
                Reply::Send
            }
            Reply::Deferred(answer) => {
                let counters = self.counters.clone();
                let qtype = qtype(request);
                let started = Instant::now();
                Reply::Deferred(Box::pin(async move {
                    let bytes = answer.await;
                    if let Some(bytes) = &bytes {
                        counters.resolution.observe(started.elapsed());
                        counters.queries.count(proto, qtype, rcode(bytes));
                    }
                    bytes
                }))
            }
            other => other,
        }
    }
}

fn count(counters: &QueryCounters, proto: Proto, request: &[u8], response: &[u8]) {
    counters.count(proto, qtype(request), rcode(response));
}

/// The question's type; 0 (counted as "other") when there is none to read.
fn qtype(request: &[u8]) -> u16 {
    skip_name(request, HEADER_LEN)
        .and_then(|end| u16_at(request, end))
        .unwrap_or(0)
}

/// The response's RCODE: the header's four bits, and the OPT record's
/// upper eight when a response with no records has one (RFC 6891 6.1.3:
/// BADVERS is 16, whose low bits are NOERROR's).
fn rcode(response: &[u8]) -> u16 {
    let low = u16_at(response, 2).map_or(0, |flags| flags & 0x000F);
    let high = match low {
        0 => extended_rcode(response).unwrap_or(0),
        _ => 0,
    };
    high << 4 | low
}

/// The upper bits of the RCODE from the OPT record of a response without
/// answer or authority records, the first additional record.
fn extended_rcode(response: &[u8]) -> Option<u16> {
    let (questions, answers, authority) = (
        u16_at(response, 4)?,
        u16_at(response, 6)?,
        u16_at(response, 8)?,
    );
    if answers != 0 || authority != 0 {
        return None;
    }
    let mut at = HEADER_LEN;
    for _ in 0..questions {
        at = skip_name(response, at)? + 4;
    }
    // The root name, TYPE OPT, the class, then the TTL whose first octet
    // is the rcode's upper bits.
    if *response.get(at)? != 0 || u16_at(response, at + 1)? != TYPE_OPT {
        return None;
    }
    response.get(at + 5).map(|high| u16::from(*high))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
    use hickory_proto::rr::{Name, RecordType};
    use hickory_proto::serialize::binary::BinEncodable;

    fn message(rcode: ResponseCode, edns: bool) -> Vec<u8> {
        let mut msg = Message::new(7, MessageType::Response, OpCode::Query);
        msg.add_query(Query::query(
            Name::from_ascii("www.example.").unwrap(),
            RecordType::MX,
        ));
        msg.metadata.response_code = rcode;
        if edns {
            msg.set_edns(Edns::new());
        }
        msg.to_bytes().unwrap()
    }

    #[test]
    fn types_and_rcodes_are_read_off_the_wire() {
        assert_eq!(qtype(&message(ResponseCode::NoError, false)), 15);
        assert_eq!(qtype(&[0; 5]), 0);
        assert_eq!(rcode(&message(ResponseCode::NXDomain, false)), 3);
        assert_eq!(rcode(&message(ResponseCode::NoError, true)), 0);
        assert_eq!(rcode(&message(ResponseCode::BADVERS, true)), 16);
        assert_eq!(rcode(&[1, 2, 0x80]), 0);
    }
}
