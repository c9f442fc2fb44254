//! UDP sockets for upstream queries, kept between queries to the same
//! server, and the receive buffer, one per thread.
//!
//! A fresh socket per query (socket, connect, register with the reactor,
//! deregister, close) was a fifth of the CPU of a cache miss, and
//! zeroing or allocating a 64 KiB receive buffer a quarter. Reuse must not
//! weaken RFC 5452's defence (an off-path attacker has to guess the source
//! port as well as the ID), so a socket is:
//! - bound by the kernel to a random ephemeral port (RFC 5452 9.2 asks for
//!   ports drawn from a large range; see [`connect_new`]);
//! - connected to one server and reused only for that same server: the
//!   port a hostile server learns from our queries to it is never used
//!   towards anyone else;
//! - used by one query at a time, and returned only after that query got
//!   its matching answer (a socket that timed out or failed is closed, so
//!   no late answer can meet a later query);
//! - closed after its pool's `max_uses` queries (at most [`MAX_USES`]) or
//!   [`MAX_AGE`], whichever comes first, so the set of open ports keeps
//!   changing (an attacker probing for open ports, as in SAD DNS, finds
//!   stale ones).
//!
//! By default `max_uses` is 1: every upstream query gets a fresh random
//! source port, as the resolver's specification and Unbound do. Reuse is
//! an opt-in trade of port entropy for CPU
//! (`dnslab resolver --upstream-socket-uses N`).
//!
//! Sockets are registered with the tokio runtime that created them, so the
//! pool is keyed by runtime as well as by server.
//!
//! A pool may have a source address (BIND's `query-source`): every socket,
//! UDP here and TCP in `upstream`, is bound to it before it connects, so
//! that authoritative servers see this resolver's own address (two local
//! DNS servers on one machine, each on its own loopback address, are two
//! clients to a CDN's server).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::runtime::{Handle, Id};
use tokio::time::Instant;

use crate::lock;

/// The most queries one socket may ever carry before it is closed.
pub(crate) const MAX_USES: u32 = 64;
/// How long one socket may live (it is checked when the socket is taken).
pub(crate) const MAX_AGE: Duration = Duration::from_secs(1);
/// Idle sockets kept per server: about the queries in flight to one
/// server at a time on a busy resolver.
const IDLE_PER_SERVER: usize = 128;
/// Idle sockets kept in all, a bound on the file descriptors held: well
/// inside the common soft limit of 1024 descriptors, next to the client
/// TCP connections and the queries in flight.
const IDLE_TOTAL: usize = 256;

/// A UDP socket connected to one upstream server.
pub(crate) struct Connected {
    pub socket: UdpSocket,
    born: Instant,
    uses: u32,
}

impl Connected {
    fn worn_out(&self, max_uses: u32) -> bool {
        self.uses >= max_uses || self.born.elapsed() >= MAX_AGE
    }
}

/// Idle connected sockets by runtime and server.
pub(crate) struct SocketPool {
    idle: Mutex<Idle>,
    /// Queries one socket carries (1 = a new random port per query).
    max_uses: u32,
    /// The address sockets are bound to; the system's choice when `None`.
    source: Option<IpAddr>,
}

impl Default for SocketPool {
    /// A fresh random source port for every query.
    fn default() -> Self {
        SocketPool::new(1, None)
    }
}

#[derive(Default)]
struct Idle {
    by_server: HashMap<(Id, SocketAddr), Vec<Connected>>,
    total: usize,
}

impl SocketPool {
    /// A pool whose sockets carry up to `max_uses` queries each (clamped
    /// to 1..=[`MAX_USES`]), bound to `source` when given.
    pub(crate) fn new(max_uses: u32, source: Option<IpAddr>) -> SocketPool {
        SocketPool {
            idle: Mutex::default(),
            max_uses: max_uses.clamp(1, MAX_USES),
            source,
        }
    }

    /// The source address of a socket towards `server`: the pool's, when
    /// it has one of the server's family.
    pub(crate) fn source_for(&self, server: SocketAddr) -> Option<SocketAddr> {
        self.source
            .filter(|source| source.is_ipv4() == server.is_ipv4())
            .map(|source| SocketAddr::new(source, 0))
    }

    /// A socket connected to `server`: an idle one if there is one still
    /// fresh, otherwise a new one. Must be called inside a tokio runtime.
    pub(crate) fn take(&self, server: SocketAddr) -> io::Result<Connected> {
        let key = (Handle::current().id(), server);
        while let Some(conn) = self.pop(&key) {
            if !conn.worn_out(self.max_uses) {
                return Ok(Connected {
                    uses: conn.uses + 1,
                    ..conn
                });
            }
        }
        let socket = connect_new(server, self.source_for(server))?;
        Ok(Connected {
            socket,
            born: Instant::now(),
            uses: 1,
        })
    }

    fn pop(&self, key: &(Id, SocketAddr)) -> Option<Connected> {
        let mut idle = lock(&self.idle);
        let sockets = idle.by_server.get_mut(key)?;
        let conn = sockets.pop();
        if sockets.is_empty() {
            idle.by_server.remove(key);
        }
        if conn.is_some() {
            idle.total -= 1;
        }
        conn
    }

    /// Returns a socket whose query got its matching answer, to be reused
    /// for `server`; closes it instead if it is worn out or the pool full.
    pub(crate) fn give_back(&self, server: SocketAddr, conn: Connected) {
        if conn.worn_out(self.max_uses) {
            return;
        }
        let key = (Handle::current().id(), server);
        let mut idle = lock(&self.idle);
        if idle.total >= IDLE_TOTAL {
            return;
        }
        let sockets = idle.by_server.entry(key).or_default();
        if sockets.len() < IDLE_PER_SERVER {
            sockets.push(conn);
            idle.total += 1;
        }
    }
}

/// A new non-blocking UDP socket connected to `server`, registered with the
/// current runtime.
///
/// Not bound first without a `source`: connecting an unbound socket makes
/// the kernel bind it to a random free ephemeral port, the very code path
/// `bind` to port 0 takes, and saves a system call on every upstream
/// query. With a `source` (port 0) the kernel picks the port the same way.
/// Connecting lets the kernel report ICMP port unreachable (a dead server
/// fails at once instead of timing out) and drop datagrams from other
/// sources.
fn connect_new(server: SocketAddr, source: Option<SocketAddr>) -> io::Result<UdpSocket> {
    // Created non-blocking (and close-on-exec) in the one call.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let kind = Type::DGRAM.nonblocking();
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let kind = Type::DGRAM;
    let socket = Socket::new(Domain::for_address(server), kind, Some(Protocol::UDP))?;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    socket.set_nonblocking(true)?;
    if let Some(source) = source {
        socket.bind(&source.into())?;
    }
    socket.connect(&server.into())?;
    UdpSocket::from_std(socket.into())
}

thread_local! {
    /// Room for the largest datagram, borrowed only between a socket's
    /// readiness and the end of decoding (never across an `.await`), so one
    /// per thread serves every query in flight. Never zeroed.
    static RECV_BUFFER: RefCell<Vec<u8>> =
        RefCell::new(Vec::with_capacity(usize::from(u16::MAX)));
}

/// Receives one datagram on `socket` and hands it, with its source, to
/// `read`, which must not block.
pub(crate) async fn recv_from<T>(
    socket: &UdpSocket,
    mut read: impl FnMut(&[u8], SocketAddr) -> T,
) -> io::Result<T> {
    // ERROR too, as tokio's own receive does: an ICMP port unreachable
    // makes the socket only EPOLLERR, and a dead server must fail at once.
    socket
        .async_io(Interest::READABLE | Interest::ERROR, || {
            let received: io::Result<T> = RECV_BUFFER.with(|buf| {
                let mut buf = buf.borrow_mut();
                buf.clear();
                let (_, from) = socket.try_recv_buf_from(&mut *buf)?;
                Ok(read(&buf, from))
            });
            match received {
                // Woken for an error and nothing to read: report the error
                // (SO_ERROR), or wait again if there is none.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => match socket.take_error()? {
                    Some(error) => Err(error),
                    None => Err(e),
                },
                other => other,
            }
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket is reused for the same server only, and only until it is
    /// worn out.
    #[tokio::test(start_paused = true)]
    async fn sockets_are_reused_per_server_until_worn_out() {
        let pool = SocketPool::new(MAX_USES, None);
        let a: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let b: SocketAddr = "127.0.0.2:9".parse().unwrap();
        let first = pool.take(a).unwrap();
        let port = first.socket.local_addr().unwrap().port();
        pool.give_back(a, first);
        let other = pool.take(b).unwrap();
        assert_ne!(other.socket.local_addr().unwrap().port(), port);
        let again = pool.take(a).unwrap();
        assert_eq!(again.socket.local_addr().unwrap().port(), port);
        assert_eq!(again.uses, 2);
        pool.give_back(a, again);
        tokio::time::advance(MAX_AGE).await;
        let fresh = pool.take(a).unwrap();
        assert_eq!(fresh.uses, 1, "a socket older than MAX_AGE is closed");
        let worn = Connected {
            uses: MAX_USES,
            ..fresh
        };
        pool.give_back(a, worn);
        assert_eq!(pool.take(a).unwrap().uses, 1);
    }

    /// RFC 5452: every fresh socket gets its own port, drawn at random by
    /// the kernel (not one fixed port, not the next one up each time).
    #[tokio::test]
    async fn fresh_sockets_get_random_ephemeral_ports() {
        let pool = SocketPool::default();
        let server: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let mut ports = Vec::new();
        for _ in 0..16 {
            let conn = pool.take(server).unwrap();
            ports.push(conn.socket.local_addr().unwrap().port());
            pool.give_back(server, conn);
        }
        let mut distinct = ports.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() >= 14, "ports repeat: {ports:?}");
        let spread = distinct.last().unwrap() - distinct.first().unwrap();
        assert!(spread > 1000, "ports are not spread out: {ports:?}");
        let steps = ports
            .windows(2)
            .filter(|w| w[1].abs_diff(w[0]) <= 1)
            .count();
        assert!(steps < 4, "ports follow each other: {ports:?}");
    }

    #[tokio::test]
    async fn by_default_every_query_gets_a_new_socket() {
        let pool = SocketPool::default();
        let a: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let first = pool.take(a).unwrap();
        pool.give_back(a, first);
        assert_eq!(
            lock(&pool.idle).total,
            0,
            "a used socket is closed, not kept"
        );
        let second = pool.take(a).unwrap();
        // (Its port is the kernel's new random pick, which may by chance
        // equal the closed socket's: not asserted.)
        assert_eq!(second.uses, 1, "a used socket is never handed out again");
    }
}
