//! [`Server`]: binds the sockets, starts the UDP workers and the TCP accept
//! loops with one handler, and stops them all when the shutdown future
//! completes.
//!
//! Shutdown follows mini-redis: a `watch` channel tells every task to stop;
//! every task, thread and deferred reply holds an `Arc<Shared>`, whose
//! `mpsc::Sender` is dropped with the last of them, so [`Server::run`] knows
//! everything has stopped when `recv` yields `None`. Tasks drop their
//! sockets before their `Arc<Shared>`, so the ports are free by then.
//! UDP workers are OS threads, told by a flag and woken by shutting down the
//! read side of their socket, then joined.

use std::future::Future;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use socket2::SockRef;
use tokio::sync::{mpsc, watch, Semaphore};
use tracing::{debug, error, info};

use crate::bind::{bind_all, Bound};
use crate::{tcp, udp, Handler, ServerConfig, TransportError};

/// A bound, not yet serving, UDP+TCP server.
pub struct Server {
    config: ServerConfig,
    bound: Vec<Bound>,
}

/// What every worker and connection shares.
pub(crate) struct Shared {
    pub handler: Arc<dyn Handler>,
    pub config: ServerConfig,
    /// Caps deferred replies in flight over the whole server
    /// ([`ServerConfig::max_deferred`]), so a slow upstream cannot make
    /// pending work grow without bound.
    pub deferred: Arc<Semaphore>,
    /// One permit per open TCP connection, over all addresses
    /// ([`ServerConfig::tcp_max_connections`]): each connection costs a
    /// task, buffers and a file descriptor, and a flood of them must not
    /// exhaust those.
    pub tcp_slots: Arc<Semaphore>,
    /// Becomes `true` at shutdown (a dropped sender means the same).
    pub shutdown: watch::Receiver<bool>,
    /// Read by UDP threads between datagrams; set at shutdown.
    pub stopping: AtomicBool,
    /// Dropped with the last reference to `Shared`; `run` waits for that.
    pub _done: mpsc::Sender<()>,
}

impl Shared {
    /// A future that completes at shutdown, for `select!` in tasks.
    pub fn on_shutdown(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut shutdown = self.shutdown.clone();
        async move {
            // An error means the sender was dropped: shut down all the same.
            let _ = shutdown.wait_for(|&stop| stop).await;
        }
    }
}

impl Server {
    /// Binds every UDP and TCP socket of `config` now, so that errors (address
    /// in use, no such local address) are reported before serving.
    pub fn bind(config: ServerConfig) -> Result<Server, TransportError> {
        let bound = bind_all(&config)?;
        Ok(Server { config, bound })
    }

    /// The addresses served, one per configured address, with port 0
    /// replaced by the port picked (the same for UDP and TCP).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.bound.iter().map(|b| b.addr).collect()
    }

    /// Serves with `handler` until `shutdown` completes, then stops accepting,
    /// closes connections, abandons deferred replies and returns once every
    /// worker has stopped (the ports are free again). Must be called from
    /// within a tokio runtime; UDP workers run on their own OS threads.
    pub async fn run(
        self,
        handler: Arc<dyn Handler>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), TransportError> {
        let addrs = self.local_addrs();
        let (notify, shutdown_rx) = watch::channel(false);
        let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
        let shared = Arc::new(Shared {
            handler,
            deferred: Arc::new(Semaphore::new(self.config.max_deferred.max(1))),
            tcp_slots: Arc::new(Semaphore::new(self.config.tcp_max_connections.max(1))),
            config: self.config,
            shutdown: shutdown_rx,
            stopping: AtomicBool::new(false),
            _done: done_tx,
        });

        // Stops the UDP threads even if this future is dropped half-way
        // (a panicking test, a cancelled task), so no thread outlives it.
        let mut stop = StopGuard {
            shared: Arc::clone(&shared),
            notify,
            udp: Vec::new(),
        };
        let mut threads = Vec::new();
        for bound in self.bound {
            let listener = tokio::net::TcpListener::from_std(bound.tcp).map_err(|source| {
                TransportError::Bind {
                    addr: bound.addr,
                    protocol: crate::Protocol::Tcp,
                    source,
                }
            })?;
            tokio::spawn(tcp::accept_loop(listener, bound.addr, Arc::clone(&shared)));
            for socket in bound.udp {
                let socket = Arc::new(socket);
                stop.udp.push(Arc::clone(&socket));
                threads.push(udp::spawn_worker(
                    socket,
                    bound.addr,
                    threads.len(),
                    Arc::clone(&shared),
                )?);
            }
        }
        info!(?addrs, udp_threads = threads.len(), "listening");

        shutdown.await;
        info!(?addrs, "shutting down");
        drop(stop);
        drop(shared);
        let _ = done_rx.recv().await;
        join_threads(threads).await
    }
}

/// Tells everything to stop when dropped.
struct StopGuard {
    shared: Arc<Shared>,
    notify: watch::Sender<bool>,
    udp: Vec<Arc<UdpSocket>>,
}

impl Drop for StopGuard {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::Release);
        let _ = self.notify.send(true);
        for socket in &self.udp {
            // On Linux, shutting down the read side of even an unconnected
            // UDP socket wakes a blocked `recv_from`, which then returns 0
            // (it also reports ENOTCONN, which is expected). Elsewhere the
            // read timeout wakes the thread.
            match SockRef::from(&**socket).shutdown(std::net::Shutdown::Read) {
                Err(e) if e.kind() != std::io::ErrorKind::NotConnected => {
                    debug!(error = %e, "UDP shutdown(SHUT_RD)");
                }
                _ => {}
            }
        }
    }
}

/// Joins the UDP threads without blocking the runtime.
async fn join_threads(threads: Vec<JoinHandle<()>>) -> Result<(), TransportError> {
    let joined = tokio::task::spawn_blocking(move || {
        threads
            .into_iter()
            .map(JoinHandle::join)
            .filter(Result::is_err)
            .count()
    })
    .await;
    match joined {
        Ok(0) => Ok(()),
        Ok(panicked) => {
            error!(panicked, "UDP worker threads panicked");
            Err(TransportError::WorkerPanicked)
        }
        Err(_) => Err(TransportError::WorkerPanicked),
    }
}
