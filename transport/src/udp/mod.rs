//! UDP: one OS thread per socket, each receiving a batch of datagrams with
//! one blocking call on its own `SO_REUSEPORT` socket, calling the handler
//! inline for each, and sending the answers with one call (`batch`).
//!
//! Why threads and not tasks: the common case (an authoritative answer, a
//! resolver cache hit) takes a few microseconds, and a blocking loop with
//! buffers reused across queries does it with at most two system calls, no
//! allocation, no wake-ups and no locks. Only [`Reply::Deferred`] touches the
//! runtime: the future is spawned there and sends through the same socket.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tracing::{debug, error};

use crate::server::Shared;
use crate::{Deferred, Protocol, Reply, RequestMeta, TransportError};

mod batch;

use batch::{Inbox, Outbox};

/// After an unexpected receive error, wait this long before the next try.
const ERROR_BACKOFF: Duration = Duration::from_millis(10);

/// Starts the worker thread for one socket.
pub(crate) fn spawn_worker(
    socket: Arc<UdpSocket>,
    local: SocketAddr,
    index: usize,
    shared: Arc<Shared>,
) -> Result<JoinHandle<()>, TransportError> {
    std::thread::Builder::new()
        .name(format!("dnslab-udp-{index}"))
        .spawn(move || worker(socket, local, shared))
        .map_err(TransportError::Spawn)
}

fn worker(socket: Arc<UdpSocket>, local: SocketAddr, shared: Arc<Shared>) {
    debug!(%local, "UDP worker started");
    let mut inbox = Inbox::new();
    let mut outbox = Outbox::new();
    while !shared.stopping.load(Ordering::Acquire) {
        let received = match inbox.receive(&socket) {
            Ok(received) => received,
            Err(e) if is_transient(&e) => continue,
            Err(e) => {
                debug!(%local, error = %e, "UDP receive failed");
                // Whatever it is, do not let it spin a core.
                std::thread::sleep(ERROR_BACKOFF);
                continue;
            }
        };
        for i in 0..received {
            // Empty reads are skipped: shutdown(SHUT_RD) yields them too,
            // and the loop condition tells the two apart.
            let Some((request, peer)) = inbox.get(i) else {
                continue;
            };
            let meta = RequestMeta {
                peer,
                local,
                protocol: Protocol::Udp,
            };
            let response = outbox.buffer();
            // A panicking handler is a bug, but it must not take a worker
            // (and a share of the port's traffic) down with it.
            let reply = catch_unwind(AssertUnwindSafe(|| {
                shared.handler.handle(request, &meta, response)
            }));
            match reply {
                Ok(Reply::Send) => outbox.queue(peer),
                Ok(Reply::Drop) => {}
                Ok(Reply::Deferred(future)) => defer(&socket, &shared, future, peer),
                Err(_) => error!(%peer, "handler panicked; request dropped"),
            }
        }
        outbox.flush(&socket);
    }
    debug!(%local, "UDP worker stopped");
}

/// Errors that say nothing about our socket: the read timeout that lets us
/// look at the shutdown flag, a signal, and the ICMP port unreachable a
/// previous reply provoked (Linux reports it on the next receive). Retrying
/// at once cannot spin: each is reported once.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock
            | io::ErrorKind::TimedOut
            | io::ErrorKind::Interrupted
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
    )
}

/// Sends one deferred answer exactly as the handler produced it; a failure
/// is the client's loss (it will retry), not the server's.
fn send(socket: &UdpSocket, response: &[u8], peer: SocketAddr) {
    if let Err(e) = socket.send_to(response, peer) {
        debug!(%peer, len = response.len(), error = %e, "UDP send failed");
    }
}

/// What a deferred reply task owns. Fields drop in order: the socket before
/// `shared`, so that when `Server::run` sees the last `Shared` go, the
/// socket is closed.
struct DeferredReply {
    socket: Arc<UdpSocket>,
    shared: Arc<Shared>,
}

/// Runs `future` on the runtime and sends what it yields, unless the
/// server-wide cap on deferred replies is reached: then the query is dropped
/// and the client will retry.
fn defer(socket: &Arc<UdpSocket>, shared: &Arc<Shared>, future: Deferred, peer: SocketAddr) {
    let Ok(permit) = Arc::clone(&shared.deferred).try_acquire_owned() else {
        debug!(%peer, "too many deferred replies in flight; query dropped");
        return;
    };
    let owned = DeferredReply {
        socket: Arc::clone(socket),
        shared: Arc::clone(shared),
    };
    shared.runtime.spawn(async move {
        let _permit = permit;
        let shutdown = owned.shared.on_shutdown();
        tokio::select! {
            reply = future => {
                // A blocking send from a task: UDP sends only block when the
                // socket's send buffer is full, and then briefly.
                if let Some(reply) = reply {
                    send(&owned.socket, &reply, peer);
                }
            }
            () = shutdown => {}
        }
    });
}
