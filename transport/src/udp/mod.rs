//! UDP: one OS thread per socket, each receiving a batch of datagrams with
//! one call on its own `SO_REUSEPORT` socket, calling the handler inline
//! for each, and sending the answers with one call (`batch`).
//!
//! Why threads and not tasks: the common case (an authoritative answer, a
//! resolver cache hit) takes a few microseconds, and a blocking loop with
//! buffers reused across queries does it with at most two system calls, no
//! allocation, no wake-ups and no locks.
//!
//! A [`Reply::Deferred`] future (a resolver cache miss) runs on the worker's
//! own single-threaded runtime, on the same thread, and sends through the
//! same socket. While any is in flight the worker stops blocking in the
//! receive call and waits for the socket on that runtime instead, so new
//! queries, upstream replies and timers are served by one event loop, as
//! Unbound's thread does. Running them on a shared runtime instead costs a
//! thread wake-up and two context switches per miss, a large share of a
//! miss's CPU on the lab's benchmark (figures in bench/README.md). Once
//! nothing is in flight, the worker blocks in the receive call again.

use std::cell::Cell;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::runtime::Runtime;
use tokio::task::LocalSet;
use tracing::{debug, error, warn};

use crate::server::Shared;
use crate::{Deferred, Protocol, Reply, RequestMeta, TransportError};

mod batch;

use batch::{Inbox, Outbox, Wait};

/// Batches received with no deferred reply in flight before the socket is
/// no longer watched by the runtime: a burst of misses followed by hits
/// does not register and deregister it for every miss.
const IDLE_BATCHES_WATCHED: u32 = 64;

/// After an unexpected receive error, wait this long before the next try.
const ERROR_BACKOFF: Duration = Duration::from_millis(10);

/// Starts the worker thread for one socket, with its own runtime for
/// deferred replies.
pub(crate) fn spawn_worker(
    socket: Arc<UdpSocket>,
    local: SocketAddr,
    index: usize,
    shared: Arc<Shared>,
) -> Result<JoinHandle<()>, TransportError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(TransportError::Spawn)?;
    std::thread::Builder::new()
        .name(format!("dnslab-udp-{index}"))
        .spawn(move || {
            let worker = Worker {
                socket,
                local,
                shared,
                inbox: Inbox::new(),
                outbox: Outbox::new(),
                in_flight: Rc::new(Cell::new(0)),
            };
            worker.run(&runtime);
        })
        .map_err(TransportError::Spawn)
}

/// One UDP socket's receive loop and what it reuses across batches.
struct Worker {
    socket: Arc<UdpSocket>,
    local: SocketAddr,
    shared: Arc<Shared>,
    inbox: Inbox,
    outbox: Outbox,
    /// Deferred replies of this worker not yet finished.
    in_flight: Rc<Cell<usize>>,
}

impl Worker {
    fn run(mut self, runtime: &Runtime) {
        debug!(local = %self.local, "UDP worker started");
        // Deferred replies are spawned on this set, on this thread; they
        // are dropped (abandoned) with it when the loop ends.
        let tasks = LocalSet::new();
        tasks.block_on(runtime, async {
            // Registered with the runtime only while replies are in flight
            // (and a little after): while it is, the kernel also wakes the
            // runtime's poller on every datagram this socket sends, a few
            // percent of a cache hit's cost.
            let mut readiness: Option<AsyncFd<Arc<UdpSocket>>> = None;
            let mut idle_batches: u32 = 0;
            let mut shutdown = std::pin::pin!(self.shared.on_shutdown());
            while !self.shared.stopping.load(Ordering::Acquire) {
                let in_flight = self.in_flight.get();
                if in_flight == 0 {
                    idle_batches = idle_batches.saturating_add(1);
                    if idle_batches > IDLE_BATCHES_WATCHED {
                        readiness = None;
                    }
                } else {
                    idle_batches = 0;
                    if readiness.is_none() {
                        readiness = self.watch();
                    }
                }
                let received = match (&readiness, in_flight) {
                    (Some(readiness), 1..) => {
                        let mut ready = tokio::select! {
                            biased;
                            () = &mut shutdown => break,
                            ready = readiness.readable() => match ready {
                                Ok(ready) => ready,
                                Err(e) => {
                                    debug!(local = %self.local, error = %e, "UDP readiness failed");
                                    continue;
                                }
                            },
                        };
                        match ready.try_io(|socket| self.inbox.receive(socket.get_ref(), Wait::No))
                        {
                            Ok(received) => received,
                            // Nothing queued after all: wait again.
                            Err(_would_block) => continue,
                        }
                    }
                    // Nothing in flight (or the socket cannot be watched:
                    // then replies progress between datagrams).
                    _ => self.inbox.receive(&self.socket, Wait::ForOne),
                };
                match received {
                    Ok(received) => self.answer(received),
                    Err(e) if is_transient(&e) => {}
                    Err(e) => {
                        debug!(local = %self.local, error = %e, "UDP receive failed");
                        // Whatever it is, do not let it spin a core.
                        tokio::time::sleep(ERROR_BACKOFF).await;
                    }
                }
                if self.in_flight.get() > 0 {
                    // Let the deferred replies run before the next batch.
                    tokio::task::yield_now().await;
                }
            }
        });
        debug!(local = %self.local, "UDP worker stopped");
    }

    /// Registers the socket with this thread's runtime, so the loop can wait
    /// for it and for the deferred replies at once.
    fn watch(&self) -> Option<AsyncFd<Arc<UdpSocket>>> {
        let socket = Arc::clone(&self.socket);
        // SAFETY: the `Arc` keeps the socket, and with it the same open
        // descriptor, alive for as long as the registration.
        match unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE) } {
            Ok(readiness) => Some(readiness),
            Err(e) => {
                // Not expected (it needs memory in the kernel); tried again
                // at the next deferred reply.
                warn!(local = %self.local, error = %io::Error::from(e), "cannot watch the UDP socket; deferred replies wait for the next datagram");
                None
            }
        }
    }

    /// Answers the `received` datagrams of the last batch.
    fn answer(&mut self, received: usize) {
        for i in 0..received {
            // Empty reads are skipped: shutdown(SHUT_RD) yields them too,
            // and the loop condition tells the two apart.
            let Some((request, peer)) = self.inbox.get(i) else {
                continue;
            };
            let meta = RequestMeta {
                peer,
                local: self.local,
                protocol: Protocol::Udp,
            };
            let response = self.outbox.buffer();
            // A panicking handler is a bug, but it must not take a worker
            // (and a share of the port's traffic) down with it.
            let reply = catch_unwind(AssertUnwindSafe(|| {
                self.shared.handler.handle(request, &meta, response)
            }));
            match reply {
                Ok(Reply::Send) => self.outbox.queue(peer),
                Ok(Reply::Drop) => {}
                Ok(Reply::Deferred(future)) => self.defer(future, peer),
                // A TCP answer (see `Reply::Stream`): one datagram at most.
                Ok(Reply::Stream(mut stream)) => {
                    if stream.next_message(self.outbox.buffer()) {
                        self.outbox.queue(peer);
                    }
                }
                Err(_) => error!(client = %peer, "handler panicked; request dropped"),
            }
        }
        self.outbox.flush(&self.socket);
    }

    /// Runs `future` on this worker's thread and sends what it yields,
    /// unless the server-wide cap on deferred replies is reached: then the
    /// query is dropped and the client will retry.
    fn defer(&self, future: Deferred, peer: SocketAddr) {
        let Ok(permit) = Arc::clone(&self.shared.deferred).try_acquire_owned() else {
            debug!(client = %peer, "too many deferred replies in flight; query dropped");
            return;
        };
        let in_flight = InFlight::enter(&self.in_flight);
        let socket = Arc::clone(&self.socket);
        let shutdown = self.shared.on_shutdown();
        tokio::task::spawn_local(async move {
            let _permit = permit;
            let _in_flight = in_flight;
            tokio::select! {
                reply = future => {
                    // A blocking send from the loop's thread: UDP sends only
                    // block when the socket's send buffer is full, and then
                    // briefly.
                    if let Some(reply) = reply {
                        send(&socket, &reply, peer);
                    }
                }
                () = shutdown => {}
            }
        });
    }
}

/// Counts one deferred reply in flight until dropped.
struct InFlight(Rc<Cell<usize>>);

impl InFlight {
    fn enter(count: &Rc<Cell<usize>>) -> InFlight {
        count.set(count.get() + 1);
        InFlight(Rc::clone(count))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
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
        debug!(client = %peer, len = response.len(), error = %e, "UDP send failed");
    }
}
