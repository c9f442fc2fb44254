//! Dynamic UPDATE (RFC 2136, with RFC 3007's signed updates and RFC 8945
//! TSIG): zones changed while they are served, every acknowledged change
//! durable in the zone's journal, announced to secondaries (NOTIFY) and
//! sent to them as IXFR differences.
//!
//! The path of one update:
//! 1. on the receiving worker ([`serve`]): the request check has let the
//!    opcode through (`dnslab_wire::Policy::AUTHORITATIVE`), the TSIG is
//!    verified (`crate::transfer`, as for every signed request); the zone
//!    section is judged (NOTAUTH for a zone this server does not serve as
//!    a primary, a secondary's included); a client that no rule of the
//!    zone names is REFUSED (`policy`); the update then waits in the
//!    zone's bounded queue, and the worker goes on answering queries
//!    ([`Reply::Deferred`]), never blocking on a disk;
//! 2. in the zone's writer (`writer`, one thread per zone that takes
//!    updates): every update waiting is taken at once, applied in order
//!    to the zone served, through an overlay of what they change (`edit`,
//!    `apply`: RFC 2136 section 3), the next version made from their
//!    changesets at the cost of what they change (`next`: the writer's
//!    spare copy, patched in place), the changesets appended to the
//!    journal with one flush to disk (group commit), the new version
//!    swapped in whole (readers see the zone before or after a batch,
//!    never half of one), then every client of the batch answered, and
//!    the secondaries notified;
//! 3. the journal is replayed over the master file at start
//!    (`crate::journal`), and the zone is written back to its file by
//!    `dnslab ctl zone-flush`, by `zonefile_sync`, or when the journal is
//!    over its limits (`flush`), as Knot's journal and `zonefile-sync`.
//!
//! Choices (README, "Dynamic updates"): a secondary answers an UPDATE
//! with NOTAUTH (RFC 2136 6 allows forwarding it to the primary, as Knot
//! does; BIND refuses it unless told `allow-update-forwarding`): a
//! forwarded signed update would need the primary to trust this server's
//! relaying, and NOTAUTH tells the client to send it to the primary. A
//! full queue is SERVFAIL, as BIND answers past its `update-quota`.
//!
//! Modules: `message` (reading an UPDATE), `policy` (who may change what,
//! the configuration), `edit` and `apply` (the RFC's rules on the zone
//! served, through an overlay), `next` (the next version, from the
//! changesets), `writer` (the per-zone thread), `flush` (the zone written
//! back to its master file).

mod apply;
mod edit;
mod flush;
mod message;
mod next;
mod policy;
mod writer;

use std::collections::HashMap;
use std::sync::mpsc::{self, SyncSender, TrySendError};

use dnslab_transport::{Reply, RequestMeta};
use dnslab_tsig::{sign_response, unix_now, Verified};
use dnslab_wire::{size_limit, EdnsQuery, Request, RequestHeader, WireName, CLASS_IN};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::Name;
use tokio::sync::oneshot;
use tracing::{debug, info, warn};

use crate::config::AuthConfig;
use crate::handler::AuthHandler;
use crate::respond::{self, Sections};
use crate::server::WeakServer;

pub(crate) use flush::flush;
pub use flush::{FlushError, Flushed};
pub use policy::{NameMatch, Names, UpdateConfig, UpdateRule};

use message::UpdateMessage;
use policy::{may_update, Client};
use writer::{Job, Writer};

/// Updates waiting per zone before more are answered SERVFAIL: a flood
/// costs this much memory and no more (BIND's `update-quota` is 100 for
/// the whole server). A batch of the writer takes at most this many.
const QUEUE: usize = 256;

/// The queues of the zones that take updates, each read by its writer.
pub(crate) struct Updates {
    /// By the zone's lowercased wire name.
    queues: HashMap<Box<[u8]>, SyncSender<Job>>,
}

impl Updates {
    /// Starts a writer for every primary zone with update rules; `zones`
    /// pairs each zone's name with its index in `config.zones`.
    pub(crate) fn start(
        server: &WeakServer,
        config: &AuthConfig,
        zones: &[(Name, usize)],
    ) -> Updates {
        let mut queues = HashMap::new();
        for (origin, at) in zones {
            let zone = &config.zones[*at];
            if zone.is_secondary() || !zone.update.enabled() {
                continue;
            }
            let (sender, jobs) = mpsc::sync_channel(QUEUE);
            let writer = Writer::new(server.clone(), origin.clone(), zone.update.clone(), jobs);
            let spawned = std::thread::Builder::new()
                .name(format!("update {origin}"))
                .spawn(move || writer.run());
            match spawned {
                Ok(_) => {
                    queues.insert(Box::from(WireName::new(origin).bytes()), sender);
                }
                Err(error) => {
                    warn!(zone = %origin, %error, "cannot start the zone's update writer; its updates are answered SERVFAIL");
                }
            }
        }
        Updates { queues }
    }

    fn queue(&self, zone: &Name) -> Option<&SyncSender<Job>> {
        self.queues.get(WireName::new(zone).bytes())
    }
}

/// What the response to an update echoes of its request.
#[derive(Clone, Debug)]
struct Echo {
    header: RequestHeader,
    /// The zone section as sent.
    zone: Vec<u8>,
    edns: Option<EdnsQuery>,
    max_udp: u16,
    limit: usize,
}

impl Echo {
    /// RFC 2136 3.8: the header with the RCODE, the zone section echoed
    /// (as BIND does), no other section; AA clear, as from BIND and Knot.
    fn write(&self, rcode: ResponseCode, response: &mut Vec<u8>) {
        respond::write(
            response,
            &self.header,
            Some(&self.zone),
            Sections::empty(rcode),
            self.edns,
            None,
            self.max_udp,
            self.limit,
        );
    }
}

/// Answers an UPDATE whose TSIG (if any) is `verified`: at once when it
/// is refused on sight, else once the zone's writer has applied it and
/// flushed it to disk ([`Reply::Deferred`]). An immediate answer is left
/// in `response` for the caller to sign; a deferred one is signed here.
pub(crate) fn serve(
    handler: &AuthHandler,
    bytes: &[u8],
    req: &Request<'_>,
    verified: &Verified,
    meta: &RequestMeta,
    response: &mut Vec<u8>,
) -> Reply {
    let max_udp = handler.max_udp_payload();
    let echo = Echo {
        header: req.header,
        zone: req.question.to_vec(),
        edns: req.edns,
        max_udp,
        limit: size_limit(meta.protocol, req.edns, max_udp).saturating_sub(verified.tsig_len()),
    };
    let refuse = |rcode: ResponseCode, why: &str, response: &mut Vec<u8>| {
        info!(client = %meta.peer, key = ?verified.key().map(|k| k.name()), ?rcode, why, "update refused");
        echo.write(rcode, response);
        Reply::Send
    };
    let message = match UpdateMessage::read(bytes) {
        Ok(message) => message,
        Err(error) => return refuse(ResponseCode::FormErr, &error, response),
    };
    let zone = &message.zone;
    // RFC 2136 3.1.1: a zone this server is not the primary of is NOTAUTH
    // (see the module doc for a secondary's).
    let config = match handler.transfers().zone_config(zone) {
        _ if req.qclass != CLASS_IN => {
            return refuse(ResponseCode::NotAuth, "not a class served", response)
        }
        None => return refuse(ResponseCode::NotAuth, "not a zone of this server", response),
        Some(config) if config.is_secondary() => {
            let why = "a secondary zone: send updates to its primary";
            return refuse(ResponseCode::NotAuth, why, response);
        }
        Some(config) => config,
    };
    let client = Client {
        ip: meta.peer.ip(),
        key: verified.key(),
    };
    if !may_update(&config.update.rules, client) {
        let why = match config.update.enabled() {
            true => "no update rule of the zone names this client",
            false => "the zone takes no updates",
        };
        return refuse(ResponseCode::Refused, why, response);
    }
    let Some(queue) = handler.updates().queue(zone).cloned() else {
        return refuse(
            ResponseCode::ServFail,
            "the zone's writer is not running",
            response,
        );
    };
    let verified = verified.clone();
    let peer = meta.peer;
    // Queued from the deferred answer, not here: an answer the transport
    // drops (its cap on answers in flight) never queues its update.
    Reply::Deferred(Box::pin(async move {
        let (reply, answered) = oneshot::channel();
        let records = message.len();
        let job = Job {
            message,
            ip: peer.ip(),
            verified: verified.clone(),
            reply,
        };
        let rcode = match queue.try_send(job) {
            Ok(()) => {
                debug!(client = %peer, records, "update queued");
                // A writer that went away (the server stopping) answers
                // nothing durable: SERVFAIL, never NOERROR.
                answered.await.unwrap_or(ResponseCode::ServFail)
            }
            Err(full_or_gone) => {
                let why = match full_or_gone {
                    TrySendError::Full(_) => "too many updates waiting",
                    TrySendError::Disconnected(_) => "the zone's writer stopped",
                };
                info!(client = %peer, why, "update refused (SERVFAIL)");
                ResponseCode::ServFail
            }
        };
        let mut response = Vec::new();
        echo.write(rcode, &mut response);
        match sign_response(&mut response, &verified, unix_now()) {
            Ok(()) => Some(response),
            Err(error) => {
                tracing::error!(client = %peer, %error, "cannot sign the update's response; none sent");
                None
            }
        }
    }))
}
