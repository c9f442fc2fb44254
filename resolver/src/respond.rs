//! Writing the resolver's responses with hickory's encoder: answers from
//! the cache or from a walk, errors, and the answers kept encoded for the
//! fast path (`crate::encoded`), in each rotation of their RRsets.
//!
//! A [`Responder`] holds what a response needs of its request, owned, so
//! that a deferred resolution can carry it: the header fields echoed, the
//! question, the OPT record's DO bit and size, the client's ECS option to
//! echo (RFC 7871, `--ecs`), and the ticket that chooses the rotation of
//! the answer's RRsets (load distribution, as Unbound's
//! `rrset-roundrobin`: cyclic tickets are consecutive, random ones
//! random, so one answer rotates like its encoded copies).
//!
//! Neighbours: `crate::handler` makes the responders and hands them the
//! resolutions; `dnslab_wire` says how large a response may be.

use std::sync::atomic::AtomicU32;

use dnslab_transport::{Protocol, Reply};
use dnslab_wire::{rotate_rrsets, size_limit, ClientSubnet, EdnsQuery, RequestHeader, RrsetOrder};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::opt::{self, EdnsOption};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
use tracing::debug;

use crate::upstream::EDNS_PAYLOAD;
use crate::Resolution;

/// Writes the responses to one request, from what they need of it.
pub(crate) struct Responder {
    pub(crate) id: u16,
    pub(crate) op_code: OpCode,
    pub(crate) recursion_desired: bool,
    /// CD, copied from the query (RFC 4035 3.2.2).
    pub(crate) checking_disabled: bool,
    pub(crate) query: Option<Query>,
    /// An OPT record in the response (the query had one), with the query's
    /// DO bit (RFC 3225 3).
    pub(crate) edns: Option<bool>,
    /// The client's ECS option, echoed with the answer's scope (RFC 7871
    /// 7.2.1, as a resolver answers a stub that sent one).
    pub(crate) subnet: Option<ClientSubnet>,
    /// Largest response that fits ([`dnslab_wire::size_limit`]: RFC 1035
    /// 4.2.1, 512 without EDNS; RFC 6891 6.2.5, the client's payload size,
    /// at least 512, at most ours).
    pub(crate) limit: usize,
    /// Chooses the rotation of the answer's RRsets: the answer has some
    /// number N of rotations, and this one is the ticket modulo N.
    pub(crate) ticket: u32,
}

impl Responder {
    /// The responder to a request with this header, question and OPT
    /// record, on `protocol`; no ECS echoed and no rotation until
    /// [`Responder::echo`] and [`Responder::rotated`] say otherwise.
    pub(crate) fn new(
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
            subnet: None,
            limit: size_limit(protocol, edns, EDNS_PAYLOAD),
            ticket: 0,
        }
    }

    /// Echoes the client's ECS option `subnet` in every response.
    pub(crate) fn echo(mut self, subnet: Option<ClientSubnet>) -> Responder {
        self.subnet = subnet;
        self
    }

    /// Takes the next ticket of `counter` in `order`.
    pub(crate) fn rotated(mut self, order: RrsetOrder, counter: &AtomicU32) -> Responder {
        self.ticket = ticket(order, counter);
        self
    }

    fn message(&self, rcode: ResponseCode, scope: u8) -> Message {
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
            if let Some(subnet) = self.subnet {
                let echoed = opt::ClientSubnet::new(subnet.addr(), subnet.source(), scope);
                edns.options_mut().insert(EdnsOption::Subnet(echoed));
            }
            msg.set_edns(edns);
        }
        msg
    }

    pub(crate) fn error(&self, rcode: ResponseCode, out: &mut Vec<u8>) -> Reply {
        encode(&self.message(rcode, 0), self.limit, out)
    }

    /// The answer `resolution`, its RRsets in the rotation of this
    /// responder's ticket.
    pub(crate) fn write(&self, resolution: &Resolution, out: &mut Vec<u8>) -> Reply {
        let mut msg = self.message(resolution.rcode, resolution.scope);
        msg.add_answers(resolution.answers.iter().cloned());
        msg.add_authorities(resolution.authorities.iter().cloned());
        // Ticket 0 is every RRset as cached: nothing to work out.
        if self.ticket != 0 {
            let rotations = RrsetOrder::Cyclic.rotations([&msg.answers[..], &msg.authorities[..]]);
            let at = self.ticket as usize % rotations.max(1);
            rotate_rrsets(&mut msg.answers, at);
            rotate_rrsets(&mut msg.authorities, at);
        }
        encode(&msg, self.limit, out)
    }

    /// How many rotations `resolution` has: the encodings the fast path
    /// keeps of it.
    pub(crate) fn rotations(order: RrsetOrder, resolution: &Resolution) -> usize {
        order.rotations([&resolution.answers[..], &resolution.authorities[..]])
    }
}

/// A ticket in `order`: the counter's next value when cyclic, a random
/// one when random, 0 when fixed.
fn ticket(order: RrsetOrder, counter: &AtomicU32) -> u32 {
    let any = usize::try_from(u32::MAX).unwrap_or(usize::MAX);
    u32::try_from(order.pick(counter, any)).unwrap_or(0)
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
