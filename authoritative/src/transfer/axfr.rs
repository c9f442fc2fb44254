//! Zone transfers out: who may have a zone, and the zone sent whole
//! (RFC 5936 2.2): the SOA, every record, the SOA again, in the messages
//! of `stream.rs`; or its differences (`ixfr.rs`).
//!
//! The transfer holds the `Arc` of the zone version that was current when
//! the request came, so it is one consistent version even when a reload
//! or another transfer swaps the served zone meanwhile. It is produced
//! message by message as the connection writes them
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
//!    the differences from the client's serial when the zone's history
//!    reaches back to it, else the zone AXFR-style (RFC 1995 4);
//! 6. more than `transfers_out` transfers at once: SERVFAIL, retried by
//!    the secondary (BIND's quota).

use std::sync::Arc;

use dnslab_transport::{MessageStream, Protocol, RequestMeta};
use dnslab_tsig::Verified;
use dnslab_wire::{opt_record, size_limit, Request, QTYPE_AXFR};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_proto::serialize::binary::BinDecodable;
use tracing::{debug, info};

use super::encode::{Compressor, Header, MessageWriter, Section};
use super::ixfr::ChangeRecords;
use super::stream::{header, Peer, Records, TransferStream};
use crate::config::allowed;
use crate::handler::AuthHandler;
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
    let server = handler.server_label(meta);
    let asked = if req.qtype == QTYPE_AXFR {
        "AXFR"
    } else {
        "IXFR"
    };
    let refuse = |rcode: ResponseCode, why: &str, response: &mut Vec<u8>| {
        info!(%server, client = %meta.peer, kind = asked, %rcode, reason = why, "zone transfer refused");
        super::write_rcode(handler, req, rcode, verified, meta, response);
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
        let why = "the zone has no data (not yet transferred, or expired)";
        return refuse(ResponseCode::ServFail, why, response);
    };
    if !allowed(&config.allow_transfer, meta.peer.ip(), verified.key()) {
        let why = "not in the zone's allow_transfer";
        return refuse(ResponseCode::Refused, why, response);
    }
    if req.qtype == QTYPE_AXFR && meta.protocol == Protocol::Udp {
        return refuse(ResponseCode::Refused, "AXFR over UDP", response);
    }
    let mut changes = None;
    if req.qtype != QTYPE_AXFR {
        let Some(client_serial) = client_serial(bytes, &qname) else {
            let why = "IXFR without the client's SOA";
            return refuse(ResponseCode::FormErr, why, response);
        };
        let current = serial(&zone);
        if meta.protocol == Protocol::Udp || !serial_gt(current, client_serial) {
            debug!(client = %meta.peer, zone = %qname, client_serial, serial = current, "IXFR answered with the current SOA");
            single_soa(handler, req, &zone, verified, meta, response);
            return None;
        }
        changes = ChangeRecords::since(transfers, &zone, client_serial);
    }
    let kind = match (&changes, req.qtype == QTYPE_AXFR) {
        (Some(_), _) => "IXFR",
        (None, true) => "AXFR",
        (None, false) => "AXFR-style IXFR",
    };
    let Ok(permit) = Arc::clone(&transfers.outgoing).try_acquire_owned() else {
        let why = "too many transfers in progress (transfers_out)";
        return refuse(ResponseCode::ServFail, why, response);
    };
    info!(
        %server,
        client = %meta.peer,
        zone = %qname,
        serial = serial(&zone),
        kind,
        key = verified.key().map(|k| k.name()).unwrap_or("-"),
        "zone transfer started"
    );
    let peer = Peer {
        server,
        client: meta.peer,
        zone: qname,
        kind,
    };
    let max_udp = handler.max_udp_payload();
    Some(match changes {
        Some(changes) => Box::new(TransferStream::new(
            changes, req, verified, max_udp, permit, peer,
        )),
        None => Box::new(TransferStream::new(
            ZoneRecords::new(zone),
            req,
            verified,
            max_udp,
            permit,
            peer,
        )),
    })
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
        .saturating_sub(verified.tsig_len() + opt.map_or(0, |opt| opt.len()));
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

/// The zone's SOA into the answer section.
pub(super) fn push_soa(msg: &mut MessageWriter<'_>, zone: &Zone) -> bool {
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

/// A whole zone version, between its SOA twice, straight from the store:
/// the nodes in the store's order (parents first, then file order; RFC
/// 5936 2.2 asks for no order), then the NSEC3 chain.
pub(super) struct ZoneRecords {
    zone: Arc<Zone>,
    /// The zone's name in wire form, as the apex node has it.
    apex: Vec<u8>,
    cursor: Cursor,
    written: usize,
}

impl ZoneRecords {
    pub(super) fn new(zone: Arc<Zone>) -> ZoneRecords {
        let mut apex = Vec::new();
        dnslab_wire::push_name(zone.origin(), &mut apex);
        ZoneRecords {
            zone,
            apex,
            cursor: Cursor::FirstSoa,
            written: 0,
        }
    }
}

impl Records for ZoneRecords {
    fn fill(&mut self, msg: &mut MessageWriter<'_>) -> bool {
        let zone = &*self.zone;
        loop {
            let pushed = match self.cursor {
                Cursor::FirstSoa | Cursor::LastSoa => push_soa(msg, zone),
                Cursor::Node { node, rrset, rdata } => {
                    let Some(at) = zone.node_at(node) else {
                        self.cursor = Cursor::Nsec3(0);
                        continue;
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
                        self.cursor = Cursor::Node {
                            node,
                            rrset: rrset + 1,
                            rdata: 0,
                        };
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
                Cursor::Done => return true,
            };
            if !pushed {
                return false;
            }
            self.written += 1;
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

    fn written(&self) -> usize {
        self.written
    }
}
