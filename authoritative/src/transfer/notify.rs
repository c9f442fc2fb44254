//! NOTIFY (RFC 1996): a primary tells its secondaries that a zone has a
//! new version, so they need not wait for their refresh timer.
//!
//! In: a NOTIFY is answered with AA and the question echoed (RFC 1996
//! 4.7) as BIND answers it: FORMERR when it is not about an SOA; NOTAUTH
//! for a zone this server does not have; NOERROR for a primary zone (there
//! is nothing to fetch); for a secondary zone, REFUSED unless it comes from
//! one of the zone's primaries' addresses or is signed with a key of ours,
//! else NOERROR and the zone's refresh task checks the primary's SOA now
//! (RFC 1996 3.11: the NOTIFY is a hint, the SOA query decides).
//!
//! Out: each new version of a zone (a reload with another serial, a
//! transfer in) is announced to the zone's `notify` targets over UDP, with
//! the new SOA in the answer section, signed with the target's key when
//! it has one, and sent again after 2, 4, 8 and 16 seconds while no
//! answer comes (RFC 1996 3.6: "periodically ... until a response is
//! received"; BIND tries five times too). A newer version supersedes the
//! announcement of an older one.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dnslab_transport::RequestMeta;
use dnslab_tsig::Verified;
use dnslab_wire::{Request, OPCODE_NOTIFY};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, Record, RecordType};
use hickory_proto::serialize::binary::BinDecodable;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::client::{udp_exchange, Outgoing};
use super::encode::Section;
use super::{Transfers, ZoneEvent, ZoneObserver};
use crate::config::{Remote, Role};

/// Attempts of one NOTIFY, the first included.
const ATTEMPTS: u32 = 5;
/// How long the first attempt waits for its answer; each later one waits
/// twice as long as the one before.
const FIRST_WAIT: Duration = Duration::from_secs(2);

/// One new version of a zone to announce.
#[derive(Clone, Debug)]
pub(crate) struct NotifyJob {
    pub origin: Name,
    pub serial: u32,
    /// The new SOA, sent in the answer section.
    pub soa: Record,
    pub targets: Vec<Remote>,
}

/// The RCODE of the answer to a NOTIFY request (RFC 1996 4.7), after
/// waking the zone's refresh when it is one to act on.
pub(super) fn answer(
    transfers: &Transfers,
    server: &str,
    req: &Request<'_>,
    verified: &Verified,
    meta: &RequestMeta,
) -> ResponseCode {
    let client = meta.peer;
    if req.qtype != u16::from(RecordType::SOA) {
        debug!(%server, %client, qtype = req.qtype, "NOTIFY not about an SOA: FORMERR");
        return ResponseCode::FormErr;
    }
    let Ok(zone) = Name::from_bytes(req.lowercase_name()) else {
        return ResponseCode::FormErr;
    };
    let key = verified.key().map(|key| key.name()).unwrap_or("-");
    let Some(config) = transfers.zone_config(&zone) else {
        info!(%server, %client, %zone, key, "NOTIFY for a zone this server does not have: NOTAUTH");
        return ResponseCode::NotAuth;
    };
    let Role::Secondary { primaries, .. } = &config.role else {
        info!(%server, %client, %zone, key, "NOTIFY for a primary zone: nothing to do");
        return ResponseCode::NoError;
    };
    let from_primary = primaries
        .iter()
        .any(|primary| same_host(primary.addr.ip(), client.ip()));
    if !from_primary && verified.key().is_none() {
        warn!(%server, %client, %zone, "NOTIFY from a server that is not a primary of the zone, unsigned: REFUSED");
        return ResponseCode::Refused;
    }
    info!(%server, %client, %zone, key, "NOTIFY received; checking the primary's SOA");
    transfers.observe(|| ZoneEvent::NotifyReceived {
        server: server.to_string(),
        zone: zone.clone(),
        from: client,
    });
    if let Some(waker) = transfers.refresh_waker(&zone) {
        waker.notify_one();
    }
    ResponseCode::NoError
}

/// Addresses equal, an IPv4 client on a dual-stack socket included.
fn same_host(a: IpAddr, b: IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}

/// Sends every job's NOTIFY until the channel closes; `source` is the
/// address they leave from.
pub(crate) async fn run_notifier(
    mut jobs: mpsc::UnboundedReceiver<NotifyJob>,
    source: Option<IpAddr>,
    server_name: Option<String>,
    observer: Option<Arc<dyn ZoneObserver>>,
) {
    // The latest serial announced per zone: older announcements stop.
    let latest: Arc<Mutex<HashMap<Name, u32>>> = Arc::default();
    let mut running = tokio::task::JoinSet::new();
    while let Some(job) = jobs.recv().await {
        lock(&latest).insert(job.origin.clone(), job.serial);
        for target in &job.targets {
            running.spawn(notify_one(
                job.clone(),
                target.clone(),
                source,
                Arc::clone(&latest),
                server_name.clone(),
                observer.clone(),
            ));
        }
        // Reap what has finished, so the set does not grow.
        while running.try_join_next().is_some() {}
    }
    running.shutdown().await;
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One NOTIFY to one target, retried until answered or superseded.
async fn notify_one(
    job: NotifyJob,
    target: Remote,
    source: Option<IpAddr>,
    latest: Arc<Mutex<HashMap<Name, u32>>>,
    server: Option<String>,
    observer: Option<Arc<dyn ZoneObserver>>,
) {
    let server = server.as_deref().unwrap_or("-");
    let zone = &job.origin;
    let mut wait = FIRST_WAIT;
    for attempt in 1..=ATTEMPTS {
        if lock(&latest).get(zone) != Some(&job.serial) {
            debug!(%server, %zone, serial = job.serial, %target, "NOTIFY superseded by a newer version");
            return;
        }
        let request = Outgoing::new(
            OPCODE_NOTIFY,
            zone,
            RecordType::SOA,
            Some((Section::Answer, &job.soa)),
            &target,
        );
        info!(%server, %zone, serial = job.serial, %target, attempt, "NOTIFY sent");
        if let (1, Some(observer)) = (attempt, &observer) {
            observer.zone_event(&ZoneEvent::NotifySent {
                server: server.to_string(),
                zone: zone.clone(),
                serial: job.serial,
                to: target.addr,
            });
        }
        let deadline = tokio::time::Instant::now() + wait;
        match udp_exchange(source, &target, &request, wait).await {
            Ok(reply) => {
                let rcode = reply.get(3).map_or(0, |flags| flags & 0x0F);
                let rcode = ResponseCode::from_low(rcode);
                if rcode == ResponseCode::NoError {
                    info!(%server, %zone, serial = job.serial, %target, "NOTIFY acknowledged");
                } else {
                    warn!(%server, %zone, serial = job.serial, %target, %rcode, "NOTIFY answered with an error; not sent again");
                }
                return;
            }
            Err(error) => {
                debug!(%server, %zone, %target, attempt, %error, "no answer to NOTIFY");
                // An error can come at once (ICMP port unreachable): the
                // next attempt still waits its turn.
                tokio::time::sleep_until(deadline).await;
            }
        }
        wait *= 2;
    }
    warn!(%server, %zone, serial = job.serial, %target, attempts = ATTEMPTS, "NOTIFY never answered; the secondary will find the new version at its next refresh");
}
