//! Zones on many servers: zone transfers out (AXFR, RFC 5936; IXFR, RFC
//! 1995), NOTIFY in and out (RFC 1996), the secondary's copies of its
//! primaries' zones, and TSIG (RFC 8945) on every request that carries it.
//!
//! The request path hands this module every request that is not a plain
//! unsigned query ([`serve`]): a signed request is verified first, and a
//! request that fails gets the TSIG error reply of RFC 8945 5.2 (a signed
//! query is never answered as if it were unsigned); then a transfer, a
//! NOTIFY or a signed query is answered, and the answer signed with the
//! request's key. An UPDATE, verified alike, goes on to `crate::update`. Plain queries never come here, so the hot path pays
//! one flag test for all of this.
//!
//! - `encode`: messages written record by record, with compression.
//! - `axfr`: who may transfer a zone, and the zone sent whole (AXFR, and
//!   IXFR when the history does not reach back);
//! - `ixfr`: the differences sent (IXFR from the history);
//! - `stream`: the messages of either, one at a time, signed.
//! - `history`: the data directory: each zone's journal of differences,
//!   each secondary's saved copy.
//! - `notify`: NOTIFY answered (and the secondary woken), NOTIFY sent.
//! - `client`: this server's own requests to other servers.
//! - `incoming`: SOA queries and transfers from a primary, read and judged.
//! - `secondary`: each secondary zone's refresh task.
//! - `observer`: NOTIFY and transfers reported to an optional watcher
//!   (the live view of `dnslab up`).
//!
//! Neighbours: [`crate::config`] says who may do what,
//! [`crate::server::AuthServer`] owns the zones and calls
//! [`Transfers::zone_changed`] when one has a new version.

mod axfr;
mod client;
pub(crate) mod encode;
mod history;
mod incoming;
mod ixfr;
mod notify;
mod observer;
pub(crate) mod secondary;
mod stream;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use dnslab_transport::{Reply, RequestMeta};
use dnslab_tsig::{error_response, sign_response, unix_now, verify_request, Verified};
use dnslab_wire::{
    size_limit, Request, WireName, OPCODE_NOTIFY, OPCODE_UPDATE, QTYPE_AXFR, QTYPE_IXFR,
};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::Name;
use tokio::sync::{mpsc, Notify, Semaphore};
use tracing::{error, info};

use crate::config::{AuthConfig, ZoneConfig};
use crate::handler::AuthHandler;
use crate::respond::{self, Sections};
use crate::zone::Zone;

pub(crate) use history::{FileState, History, HistoryError};
pub(crate) use notify::{run_notifier, NotifyJob};
pub use observer::{TransferKind, ZoneEvent, ZoneObserver};
pub(crate) use secondary::Secondary;

/// What transfers and NOTIFY share across requests and tasks.
pub(crate) struct Transfers {
    pub(crate) config: Arc<AuthConfig>,
    /// Index into `config.zones` by the zone's lowercased wire name.
    zones: HashMap<Box<[u8]>, usize>,
    /// One permit per outgoing transfer in progress
    /// ([`crate::config::TransferLimits::transfers_out`]).
    outgoing: Arc<Semaphore>,
    /// One permit per incoming transfer in progress, over all secondary
    /// zones ([`crate::config::TransferLimits::transfers_in`]).
    incoming: Arc<Semaphore>,
    /// Wakes a secondary zone's refresh task (a NOTIFY came), by the
    /// zone's lowercased wire name.
    refresh: HashMap<Box<[u8]>, Arc<Notify>>,
    /// NOTIFY to send, once the notifier task runs (`None` before: a
    /// server without tasks, in tests, sends none).
    notifier: Mutex<Option<mpsc::UnboundedSender<NotifyJob>>>,
    /// The data directory, when a zone keeps history.
    pub(crate) history: Option<History>,
    /// Who is told of NOTIFY and transfers, when anyone is.
    observer: OnceLock<Arc<dyn ZoneObserver>>,
}

impl Transfers {
    /// `origins` pairs each zone's name with its index in `config.zones`.
    pub(crate) fn new(
        config: Arc<AuthConfig>,
        origins: Vec<(Name, usize)>,
        history: Option<History>,
    ) -> Transfers {
        let key = |origin: &Name| Box::from(WireName::new(origin).bytes());
        let refresh = origins
            .iter()
            .filter(|(_, at)| config.zones[*at].is_secondary())
            .map(|(origin, _)| (key(origin), Arc::new(Notify::new())))
            .collect();
        Transfers {
            outgoing: Arc::new(Semaphore::new(config.limits.transfers_out.max(1))),
            incoming: Arc::new(Semaphore::new(config.limits.transfers_in.max(1))),
            zones: origins.iter().map(|(o, at)| (key(o), *at)).collect(),
            refresh,
            notifier: Mutex::new(None),
            history,
            config,
            observer: OnceLock::new(),
        }
    }

    /// Sets who is told of zone events; only the first call counts.
    pub(crate) fn set_observer(&self, observer: Arc<dyn ZoneObserver>) {
        let _ = self.observer.set(observer);
    }

    /// The observer, when one is set.
    pub(crate) fn observer(&self) -> Option<Arc<dyn ZoneObserver>> {
        self.observer.get().cloned()
    }

    /// Tells the observer, if any, of the event `event` builds (built
    /// only when someone watches).
    pub(crate) fn observe(&self, event: impl FnOnce() -> ZoneEvent) {
        if let Some(observer) = self.observer.get() {
            observer.zone_event(&event());
        }
    }

    /// A primary zone reloaded from `old` to `new`: their difference goes
    /// into its history (IXFR).
    pub(crate) fn record_step(&self, old: &Zone, new: &Zone) {
        if let Some(history) = &self.history {
            history.record_step(crate::journal::ChangeKind::Reload, old, new);
        }
    }

    /// The configuration of the zone named exactly `origin`.
    pub(crate) fn zone_config(&self, origin: &Name) -> Option<&ZoneConfig> {
        let at = self.zones.get(WireName::new(origin).bytes())?;
        self.config.zones.get(*at)
    }

    /// The waker of the secondary zone `origin`'s refresh task.
    pub(crate) fn refresh_waker(&self, origin: &Name) -> Option<&Arc<Notify>> {
        self.refresh.get(WireName::new(origin).bytes())
    }

    /// Sends NOTIFY for `zone`'s new version to its configured
    /// secondaries (RFC 1996 3.5), if the notifier runs.
    pub(crate) fn zone_changed(&self, zone: &Zone) {
        let Some(config) = self.zone_config(zone.origin()) else {
            return;
        };
        if config.notify.is_empty() {
            return;
        }
        let job = NotifyJob {
            origin: zone.origin().clone(),
            serial: crate::server::serial(zone),
            soa: zone.soa().clone(),
            targets: config.notify.clone(),
        };
        let notifier = self
            .notifier
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(sender) = notifier.as_ref() {
            let _ = sender.send(job);
        }
    }

    /// The bound on incoming transfers, shared by every secondary zone.
    pub(crate) fn incoming(&self) -> &Arc<Semaphore> {
        &self.incoming
    }

    /// Where [`Transfers::zone_changed`] sends from now on.
    pub(crate) fn set_notifier(&self, sender: mpsc::UnboundedSender<NotifyJob>) {
        *self
            .notifier
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(sender);
    }
}

/// Answers a request that is not a plain unsigned query: verifies its
/// TSIG, then answers the transfer, NOTIFY or query it is, signed with
/// the request's key.
pub(crate) fn serve(
    handler: &AuthHandler,
    bytes: &[u8],
    req: &Request<'_>,
    authoritative: bool,
    meta: &RequestMeta,
    response: &mut Vec<u8>,
) -> Reply {
    let transfers = handler.transfers();
    let Some(verified) = verify(transfers, bytes, meta, response) else {
        return Reply::Send;
    };
    let reply = match (req.header.opcode, req.qtype) {
        (OPCODE_UPDATE, _) => crate::update::serve(handler, bytes, req, &verified, meta, response),
        (OPCODE_NOTIFY, _) => {
            let server = handler.server_label(meta);
            let rcode = notify::answer(transfers, &server, req, &verified, meta);
            write_rcode(handler, req, rcode, &verified, meta, response);
            Reply::Send
        }
        (_, QTYPE_AXFR | QTYPE_IXFR) => {
            match axfr::serve(handler, bytes, req, &verified, meta, response) {
                Some(stream) => return Reply::Stream(stream),
                None => Reply::Send,
            }
        }
        _ => handler.answer(req, authoritative, meta, response, verified.tsig_len()),
    };
    sign(reply, response, &verified, meta)
}

/// A one-message answer without records: the header with `rcode` (AA
/// only with NOERROR, as BIND sets it), the question, the OPT record when
/// the request had one; room left for the TSIG the answer will carry.
fn write_rcode(
    handler: &AuthHandler,
    req: &Request<'_>,
    rcode: ResponseCode,
    verified: &Verified,
    meta: &RequestMeta,
    response: &mut Vec<u8>,
) {
    let max_udp = handler.max_udp_payload();
    let limit = size_limit(meta.protocol, req.edns, max_udp).saturating_sub(verified.tsig_len());
    let sections = Sections {
        authoritative: rcode == ResponseCode::NoError,
        ..Sections::empty(rcode)
    };
    respond::write(
        response,
        &req.header,
        Some(req.question),
        sections,
        req.edns,
        None,
        max_udp,
        limit,
    );
}

/// RFC 8945 5.2: the request verified, or `None` with the error reply
/// written into `response`.
fn verify(
    transfers: &Transfers,
    bytes: &[u8],
    meta: &RequestMeta,
    response: &mut Vec<u8>,
) -> Option<Verified> {
    let now = unix_now();
    match verify_request(bytes, &transfers.config.keys, now) {
        Ok(verified) => Some(verified),
        Err(error) => {
            info!(client = %meta.peer, %error, "TSIG verification failed; refused");
            response.clear();
            response.extend_from_slice(&error_response(bytes, &error, now));
            None
        }
    }
}

/// Signs a one-message reply to a verified request (nothing to do for an
/// unsigned one).
fn sign(reply: Reply, response: &mut Vec<u8>, verified: &Verified, meta: &RequestMeta) -> Reply {
    if !matches!(reply, Reply::Send) {
        return reply;
    }
    match sign_response(response, verified, unix_now()) {
        Ok(()) => Reply::Send,
        Err(e) => {
            // Our own message: a bug, never network input. An unsigned
            // answer to a signed request must not go out.
            error!(client = %meta.peer, error = %e, "cannot sign the response; none sent");
            Reply::Drop
        }
    }
}

/// A signed request the request check refused (REFUSED for a class,
/// BADVERS...): verified and signed like any other, so that the error is
/// authentic, or answered with the TSIG error instead.
pub(crate) fn sign_rejection(
    transfers: &Transfers,
    bytes: &[u8],
    meta: &RequestMeta,
    response: &mut Vec<u8>,
    reject: impl FnOnce(&mut Vec<u8>) -> Reply,
) -> Reply {
    let Some(verified) = verify(transfers, bytes, meta, response) else {
        return Reply::Send;
    };
    let reply = reject(response);
    sign(reply, response, &verified, meta)
}
