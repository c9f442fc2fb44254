//! Creating the listening sockets, before anything is served, so that a
//! caller learns "address in use" from [`Server::bind`](crate::Server::bind)
//! rather than from a log line.
//!
//! Each listen address gets one TCP listener and `udp_workers` UDP sockets,
//! all on the same port. The TCP listener is bound first and without
//! `SO_REUSEPORT`: it is the exclusive claim on the port. The UDP sockets
//! need `SO_REUSEPORT` to share the port between workers, and with it the
//! kernel would let a second server of the same user join the group (and
//! with port 0 may even pick a port another group holds); the TCP claim makes
//! that a bind error instead.

use std::io;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::time::Duration;

use socket2::{Domain, Protocol as SockProtocol, Socket, Type};
use tracing::{debug, info};

use crate::{Protocol, ServerConfig, TransportError};

/// How many ports to try when port 0 is asked for and the port the kernel
/// gave TCP turns out to be taken for UDP.
const PORT_ATTEMPTS: usize = 16;

/// Connections the kernel completes before we accept them. Large enough for
/// bursts; the connection cap is enforced by the accept loop, not here.
const TCP_BACKLOG: i32 = 1024;

/// A blocked UDP `recv_from` wakes at least this often to look for shutdown.
/// Shutdown normally wakes it at once (see `udp`); this is the fallback.
pub(crate) const UDP_READ_TIMEOUT: Duration = Duration::from_millis(500);

/// The sockets for one listen address.
pub(crate) struct Bound {
    /// The address actually bound (port 0 resolved).
    pub addr: SocketAddr,
    pub tcp: TcpListener,
    pub udp: Vec<UdpSocket>,
}

/// Binds every address of `config`, or fails naming the first that could
/// not be bound.
pub(crate) fn bind_all(config: &ServerConfig) -> Result<Vec<Bound>, TransportError> {
    if config.listen.is_empty() {
        return Err(TransportError::NoListenAddress);
    }
    let workers = config.udp_workers.max(1);
    config
        .listen
        .iter()
        .map(|&addr| bind_one(addr, workers, config.udp_recv_buffer))
        .collect()
}

fn bind_one(addr: SocketAddr, workers: usize, recv_buffer: usize) -> Result<Bound, TransportError> {
    let attempts = if addr.port() == 0 { PORT_ATTEMPTS } else { 1 };
    for attempt in 1..=attempts {
        let tcp = tcp_listener(addr).map_err(|source| TransportError::Bind {
            addr,
            protocol: Protocol::Tcp,
            source,
        })?;
        let bound_addr = tcp.local_addr().map_err(|source| TransportError::Bind {
            addr,
            protocol: Protocol::Tcp,
            source,
        })?;
        match udp_sockets(bound_addr, workers, recv_buffer) {
            Ok(udp) => {
                return Ok(Bound {
                    addr: bound_addr,
                    tcp,
                    udp,
                })
            }
            // Only a port the kernel picked for us is worth another try.
            Err(e) if addr.port() == 0 && e.kind() == io::ErrorKind::AddrInUse => {
                debug!(%bound_addr, attempt, "port taken for UDP, trying another");
            }
            Err(source) => {
                return Err(TransportError::Bind {
                    addr: bound_addr,
                    protocol: Protocol::Udp,
                    source,
                })
            }
        }
    }
    Err(TransportError::NoSharedPort { addr, attempts })
}

fn new_socket(addr: SocketAddr, ty: Type, protocol: SockProtocol) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), ty, Some(protocol))?;
    if addr.is_ipv6() {
        // `[::]` should not also claim `0.0.0.0`, which may be listed too.
        socket.set_only_v6(true)?;
    }
    Ok(socket)
}

fn tcp_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = new_socket(addr, Type::STREAM, SockProtocol::TCP)?;
    // Lets a restarted server bind while old connections sit in TIME_WAIT;
    // on Linux it does not let two listeners share the port.
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(TCP_BACKLOG)?;
    Ok(socket.into())
}

/// Sets DF on every answer (RFC 9715 3.1: a DNS responder should not let
/// its UDP responses be fragmented; ours are at most 1,232 bytes anyway,
/// larger ones go TC=1 and over TCP). On Linux, IPv4 uses
/// `IP_PMTUDISC_PROBE`: DF without trusting path-MTU reports, which can be
/// forged. A side effect that shows in benchmarks: the kernel then needs
/// no per-destination IP ID, a hashed lookup on every datagram sent.
/// Elsewhere the system's default stays.
#[cfg(target_os = "linux")]
fn dont_fragment(socket: &Socket, addr: SocketAddr) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let (level, name, value) = if addr.is_ipv4() {
        (
            libc::IPPROTO_IP,
            libc::IP_MTU_DISCOVER,
            libc::IP_PMTUDISC_PROBE,
        )
    } else {
        (libc::IPPROTO_IPV6, libc::IPV6_DONTFRAG, 1)
    };
    let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` is a live c_int and `len` its size; the descriptor
    // is the open socket `socket` borrows.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            std::ptr::from_ref(&value).cast(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn dont_fragment(_socket: &Socket, _addr: SocketAddr) -> io::Result<()> {
    Ok(())
}

fn udp_sockets(addr: SocketAddr, workers: usize, recv_buffer: usize) -> io::Result<Vec<UdpSocket>> {
    let mut sockets = Vec::with_capacity(workers);
    for _ in 0..workers {
        let socket = new_socket(addr, Type::DGRAM, SockProtocol::UDP)?;
        socket.set_reuse_port(true)?;
        dont_fragment(&socket, addr)?;
        if recv_buffer > 0 {
            socket.set_recv_buffer_size(recv_buffer)?;
        }
        socket.set_read_timeout(Some(UDP_READ_TIMEOUT))?;
        socket.bind(&addr.into())?;
        sockets.push(socket);
    }
    // Linux reports twice the size it books (for its own overhead) and caps
    // the request at net.core.rmem_max; say so once if we got less.
    if let Some(first) = sockets.first() {
        let effective = first.recv_buffer_size()? / 2;
        if effective < recv_buffer {
            info!(%addr, requested = recv_buffer, effective, "UDP receive buffer capped; raise net.core.rmem_max");
        }
    }
    Ok(sockets.into_iter().map(UdpSocket::from).collect())
}
