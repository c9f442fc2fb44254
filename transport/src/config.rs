//! The transport's limits: what a [`ServerConfig`] holds and why each default
//! is what it is. The `dnslab` binary fills one from its flags; tests build
//! one with small timeouts.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::time::Duration;

/// Where to listen and how much to accept. Values of 0 for the counts are
/// read as 1 (a server with no worker or no connection slot would hang).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Every address is served on both UDP and TCP, on the same port. Port 0
    /// picks one free port for both.
    pub listen: Vec<SocketAddr>,
    /// UDP sockets (and OS threads) per address, bound with `SO_REUSEPORT`
    /// so the kernel spreads datagrams over them without locks.
    pub udp_workers: usize,
    /// Open TCP connections at most, over all addresses; each costs a task,
    /// buffers and a file descriptor. At the cap, new clients wait in the
    /// kernel's backlog until one closes. Keep it below the process's file
    /// descriptor limit (`ulimit -n`), or accepts fail (and are retried).
    pub tcp_max_connections: usize,
    /// A TCP connection with nothing in flight is closed when no complete
    /// message arrives for this long. It also bounds reading one message, so
    /// a client trickling bytes cannot hold a slot (RFC 7766 6.2.3 suggests
    /// an idle timeout of seconds).
    pub tcp_idle_timeout: Duration,
    /// The longest a multi-message response (a zone transfer,
    /// [`crate::Reply::Stream`]) may take to write; past it the connection
    /// is closed. Each message must also be written within
    /// `tcp_idle_timeout`, so a client that stops reading is cut off
    /// sooner; this bounds one that reads, but too slowly to ever finish
    /// (BIND's `max-transfer-time-out` is two hours; a lab's zones take
    /// seconds).
    pub tcp_stream_timeout: Duration,
    /// Deferred queries in flight on one TCP connection; when reached, the
    /// connection stops reading until one completes (RFC 7766 6.2.1.1 lets
    /// answers return out of order; this bounds the memory one client uses).
    pub tcp_max_pipelined: usize,
    /// `SO_RCVBUF` for each UDP socket. Bursts overflow the default buffer
    /// and the kernel drops what does not fit (servers with default buffers
    /// lost answers that way on the lab: "Socket receive buffers" in
    /// `../shared/lab/README.md`); the kernel caps it at `net.core.rmem_max`.
    /// 0 keeps the system default.
    pub udp_recv_buffer: usize,
    /// Deferred replies in flight over the whole server. Past it, a UDP
    /// query is dropped (the client retries) and a TCP connection waits.
    pub max_deferred: usize,
}

impl ServerConfig {
    /// The defaults, listening on `listen`.
    pub fn new(listen: Vec<SocketAddr>) -> Self {
        ServerConfig {
            listen,
            ..ServerConfig::default()
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: Vec::new(),
            udp_workers: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            tcp_max_connections: 1024,
            tcp_idle_timeout: Duration::from_secs(10),
            tcp_stream_timeout: Duration::from_secs(600),
            tcp_max_pipelined: 32,
            udp_recv_buffer: 4 * 1024 * 1024,
            max_deferred: 10_000,
        }
    }
}
