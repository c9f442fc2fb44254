//! Zone transfers out: who may have the zone, and the zone sent as a
//! stream of messages (RFC 5936 2.2): the SOA, every record, the SOA
//! again, packed into as few messages as fit 64 KiB, each signed when the
//! request was (RFC 8945 5.3.1).
//!
//! The stream holds the `Arc` of the zone version that was current when
//! the request came, so the transfer is one consistent version even when
//! a reload or another transfer swaps the served zone meanwhile. It is
//! produced message by message as the connection writes them
//! (`dnslab_transport::MessageStream`), so a slow secondary costs one
//! message of memory, never the zone.
//!
//! The rules, in the order they are applied (BIND's order and RCODEs):
//! 1. a zone this server does not have: NOTAUTH;
//! 2. a zone configured but without data (a secondary before its first
//!    transfer, or expired): SERVFAIL;
//! 3. a client the zone's `allow_transfer` does not list, by address or
//!    by verified TSIG key: REFUSED;
//! 4. AXFR over UDP: REFUSED (RFC 5936 4.2 allows AXFR over TCP only;
//!    BIND says FORMERR, NSD and Knot REFUSED);
//! 5. IXFR: a single SOA when the client is as new as the zone or asks
//!    over UDP (RFC 1995 2 and 4; TC when even that does not fit),
//!    FORMERR without the client's SOA in the authority section, else
//!    the zone AXFR-style (RFC 1995 4: "the server ... may ... send the
//!    entire zone", done while no history reaches the client's serial);
//! 6. more than `transfers_out` transfers at once: SERVFAIL, retried by
//!    the secondary (BIND's quota).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use dnslab_transport::{MessageStream, Protocol, RequestMeta};
use dnslab_tsig::{unix_now, ResponseSigner, Verified};
use dnslab_wire::{opt_record, size_limit, Request, OPT_LEN, QTYPE_AXFR, TCP_LIMIT};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_proto::serialize::binary::BinDecodable;
use tokio::sync::OwnedSemaphorePermit;
use tracing::{debug, error, info, warn};

use super::encode::{response_header, Compressor, Header, MessageWriter, Section};
use crate::config::allowed;
use crate::handler::AuthHandler;
use crate::respond::{self, Sections};
use crate::server::serial;
use crate::zone::serial::serial_gt;
use crate::zone::{RDataRef, Zone};

/// Serves an AXFR or IXFR request: the stream of the zone, or `None` with
/// a one-message answer (an error, or IXFR's single SOA) in `response`.
pub(super) fn serve(
    handler: &AuthHandler,
    bytes: &[u8],
    req: &Request<'_>,
    verified: &Verified,
    meta: &RequestMeta,
    response: &mut Vec<u8>,
) -> Option<Box<dyn MessageStream>> {
    let transfers = handler.transfers();
    let kind = if req.qtype == QTYPE_AXFR {
        "AXFR"
    } else {
        "IXFR"
    };
    let refuse = |rcode: ResponseCode, why: &str, response: &mut Vec<u8>| {
        info!(client = %meta.peer, kind, %rcode, reason = why, "zone transfer refused");
        write_error(handler, req, rcode, meta, response);
        None
    };
    let Ok(qname) = Name::from_bytes(req.lowercase_name()) else {
        return refuse(ResponseCode::FormErr, "unreadable zone name", response);
    };
    let Some(config) = transfers.zone_config(&qname) else {
        return refuse(ResponseCode::NotAuth, "not a zone of this server", response);
    };
    let snapshot = handler.snapshot();
    let Some(zone) = snapshot.zone(&qname).cloned() else {
        return refuse(
            ResponseCode::ServFail,
            "the zone has no data (not yet transferred, or expired)",
            response,
        );
    };
    if !allowed(&config.allow_transfer, meta.peer.ip(), verified.key()) {
        return refuse(
            ResponseCode::Refused,
            "not in the zone's allow_transfer",
            response,
        );
    }
    if req.qtype == QTYPE_AXFR && meta.protocol == Protocol::Udp {
        return refuse(ResponseCode::Refused, "AXFR over UDP", response);
    }
    let mut style = "AXFR";
    if req.qtype != QTYPE_AXFR {
        let Some(client_serial) = client_serial(bytes, &qname) else {
            return refuse(
                ResponseCode::FormErr,
                "IXFR without the client's SOA",
                response,
            );
        };
        let current = serial(&zone);
        if meta.protocol == Protocol::Udp || !serial_gt(current, client_serial) {
            debug!(client = %meta.peer, zone = %qname, client_serial, serial = current, "IXFR answered with the current SOA");
            single_soa(handler, req, &zone, verified, meta, response);
            return None;
        }
        style = "AXFR-style IXFR";
    }
    let Ok(permit) = Arc::clone(&transfers.outgoing).try_acquire_owned() else {
        return refuse(
            ResponseCode::ServFail,
            "too many transfers in progress (transfers_out)",
            response,
        );
    };
    info!(
        client = %meta.peer,
        zone = %qname,
        serial = serial(&zone),
        kind = style,
        key = verified.key().map(|k| k.name()).unwrap_or("-"),
        "zone transfer started"
    );
    Some(Box::new(ZoneStream::new(
        zone,
        req,
        verified,
        meta.peer,
        style,
        permit,
        handler.max_udp_payload(),
    )))
}

/// The serial of the SOA an IXFR request carries for `zone` in its
/// authority section (RFC 1995 3).
fn client_serial(bytes: &[u8], zone: &Name) -> Option<u32> {
    let request = Message::from_bytes(bytes).ok()?;
    request
        .authorities
        .iter()
        .find_map(|record| match &record.data {
            RData::SOA(soa) if record.name == *zone => Some(soa.serial),
            _ => None,
        })
}

/// An error answer: header, question, OPT.
fn write_error(
    handler: &AuthHandler,
    req: &Request<'_>,
    rcode: ResponseCode,
    meta: &RequestMeta,
    response: &mut Vec<u8>,
) {
    let max_udp = handler.max_udp_payload();
    let limit = size_limit(meta.protocol, req.edns, max_udp);
    respond::write(
        response,
        &req.header,
        Some(req.question),
        Sections::empty(rcode),
        req.edns,
        max_udp,
        limit,
    );
}

/// IXFR's answer for a client that is current, or that asked over UDP:
/// the zone's SOA alone (RFC 1995 2, 4), with TC when even it does not fit.
fn single_soa(
    handler: &AuthHandler,
    req: &Request<'_>,
    zone: &Zone,
    verified: &Verified,
    meta: &RequestMeta,
    response: &mut Vec<u8>,
) {
    let max_udp = handler.max_udp_payload();
    let opt = req.edns.map(|edns| opt_record(max_udp, 0, edns.dnssec_ok));
    let limit = size_limit(meta.protocol, req.edns, max_udp)
        - verified.tsig_len()
        - opt.map_or(0, |opt| opt.len());
    let header = header(req);
    let mut names = Compressor::default();
    let mut msg = MessageWriter::new(response, &mut names, header, Some(req.question), limit);
    if !push_soa(&mut msg, zone) {
        let truncated = Header {
            flags: header.flags | 0x0200,
            ..header
        };
        msg = MessageWriter::new(response, &mut names, truncated, Some(req.question), limit);
    }
    if let Some(opt) = opt {
        msg.push_raw_additional(&opt);
    }
    msg.finish();
}

/// The header of a transfer's messages: the request's ID, RD and CD, AA.
fn header(req: &Request<'_>) -> Header {
    response_header(
        req.header.id,
        req.header.opcode,
        req.header.recursion_desired,
        req.header.checking_disabled,
        true,
        0,
    )
}

/// The zone's SOA into the answer section.
fn push_soa(msg: &mut MessageWriter<'_>, zone: &Zone) -> bool {
    let mut owner = Vec::new();
    dnslab_wire::push_name(zone.origin(), &mut owner);
    let soa = zone.soa();
    msg.push(
        Section::Answer,
        &owner,
        RecordType::SOA,
        soa.ttl,
        RDataRef::Other(&soa.data),
    )
}

/// Where a transfer is in the zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cursor {
    FirstSoa,
    /// The `rdata`-th record of the `rrset`-th RRset of the `node`-th node.
    Node {
        node: usize,
        rrset: usize,
        rdata: usize,
    },
    /// The NSEC3 chain, kept beside the nodes.
    Nsec3(usize),
    LastSoa,
    Done,
}

/// One zone version sent as a stream of messages.
struct ZoneStream {
    zone: Arc<Zone>,
    /// The zone's name in wire form, as the SOA and the apex node have it.
    apex: Vec<u8>,
    cursor: Cursor,
    header: Header,
    /// The question, echoed in the first message only (RFC 5936 2.2.1).
    question: Option<Box<[u8]>>,
    /// The OPT record every message carries when the request had one.
    opt: Option<[u8; OPT_LEN]>,
    signer: ResponseSigner,
    names: Compressor,
    /// Octets of records a message may hold: 64 KiB less OPT and TSIG.
    limit: usize,
    /// Released when the transfer ends (`transfers_out`).
    _permit: OwnedSemaphorePermit,
    // For the log line at the end.
    client: SocketAddr,
    kind: &'static str,
    started: Instant,
    messages: usize,
    records: usize,
}

impl ZoneStream {
    fn new(
        zone: Arc<Zone>,
        req: &Request<'_>,
        verified: &Verified,
        client: SocketAddr,
        kind: &'static str,
        permit: OwnedSemaphorePermit,
        max_udp: u16,
    ) -> ZoneStream {
        let opt = req.edns.map(|edns| opt_record(max_udp, 0, edns.dnssec_ok));
        let limit = TCP_LIMIT - verified.tsig_len() - opt.map_or(0, |opt| opt.len());
        let mut apex = Vec::new();
        dnslab_wire::push_name(zone.origin(), &mut apex);
        ZoneStream {
            zone,
            apex,
            cursor: Cursor::FirstSoa,
            header: header(req),
            question: Some(req.question.into()),
            opt,
            signer: ResponseSigner::new(verified),
            names: Compressor::default(),
            limit,
            _permit: permit,
            client,
            kind,
            started: Instant::now(),
            messages: 0,
            records: 0,
        }
    }

    /// Writes records into `msg` from the cursor on, until one does not
    /// fit or the zone has been sent.
    fn fill(&mut self, msg: &mut MessageWriter<'_>) {
        let zone = &*self.zone;
        loop {
            let pushed = match self.cursor {
                Cursor::FirstSoa | Cursor::LastSoa => push_soa(msg, zone),
                Cursor::Node { node, rrset, rdata } => {
                    let Some(at) = zone.node_at(node) else {
                        self.cursor = Cursor::Nsec3(0);
                        continue;
                    };
                    let next_set = Cursor::Node {
                        node,
                        rrset: rrset + 1,
                        rdata: 0,
                    };
                    let Some(set) = at.rrsets().get(rrset) else {
                        self.cursor = Cursor::Node {
                            node: node + 1,
                            rrset: 0,
                            rdata: 0,
                        };
                        continue;
                    };
                    // The apex SOA opens and closes the transfer instead.
                    let apex_soa = set.record_type() == RecordType::SOA
                        && at.wire().eq_ignore_ascii_case(&self.apex);
                    let Some(data) = set.rdata_ref(rdata).filter(|_| !apex_soa) else {
                        self.cursor = next_set;
                        continue;
                    };
                    msg.push(
                        Section::Answer,
                        at.wire(),
                        set.record_type(),
                        set.ttl(),
                        data,
                    )
                }
                Cursor::Nsec3(at) => match zone.nsec3_records().get(at) {
                    Some(record) => msg.push_record(Section::Answer, record),
                    None => {
                        self.cursor = Cursor::LastSoa;
                        continue;
                    }
                },
                Cursor::Done => return,
            };
            if !pushed {
                return;
            }
            self.records += 1;
            self.cursor = match self.cursor {
                Cursor::FirstSoa => Cursor::Node {
                    node: 0,
                    rrset: 0,
                    rdata: 0,
                },
                Cursor::Node { node, rrset, rdata } => Cursor::Node {
                    node,
                    rrset,
                    rdata: rdata + 1,
                },
                Cursor::Nsec3(at) => Cursor::Nsec3(at + 1),
                Cursor::LastSoa | Cursor::Done => Cursor::Done,
            };
        }
    }
}

impl MessageStream for ZoneStream {
    fn next_message(&mut self, out: &mut Vec<u8>) -> bool {
        if self.cursor == Cursor::Done {
            return false;
        }
        let question = self.question.take();
        let header = self.header;
        let limit = self.limit;
        let mut names = std::mem::take(&mut self.names);
        let mut msg = MessageWriter::new(out, &mut names, header, question.as_deref(), limit);
        self.fill(&mut msg);
        let empty = msg.records() == 0;
        if let Some(opt) = self.opt {
            msg.push_raw_additional(&opt);
        }
        msg.finish();
        self.names = names;
        if empty {
            // Only a record larger than a whole message could do this.
            error!(client = %self.client, zone = %self.zone.origin(), cursor = ?self.cursor, "a record does not fit a message; transfer abandoned");
            self.cursor = Cursor::Done;
            return false;
        }
        if let Err(e) = self.signer.sign(out, unix_now()) {
            error!(client = %self.client, error = %e, "cannot sign a transfer message; transfer abandoned");
            self.cursor = Cursor::Done;
            return false;
        }
        self.messages += 1;
        true
    }
}

impl Drop for ZoneStream {
    fn drop(&mut self) {
        let elapsed_ms = self.started.elapsed().as_millis();
        let zone = self.zone.origin();
        if self.cursor == Cursor::Done {
            info!(client = %self.client, %zone, kind = self.kind, messages = self.messages, records = self.records, elapsed_ms, "zone transfer completed");
        } else {
            warn!(client = %self.client, %zone, kind = self.kind, messages = self.messages, records = self.records, elapsed_ms, "zone transfer ended early (connection closed or timed out)");
        }
    }
}
