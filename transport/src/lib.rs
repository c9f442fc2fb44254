//! The one UDP/TCP transport of dnslab, shared by the authoritative server
//! and the resolver.
//!
//! It owns sockets, framing (RFC 1035 4.2.2 length prefix on TCP), limits
//! (connection cap, idle timeout, message sizes) and shutdown. It knows
//! nothing about DNS beyond that: a [`Handler`] turns request bytes into
//! response bytes. Neighbours: `dnslab-wire` reads the DNS in those bytes
//! for `dnslab-authoritative` and `dnslab-resolver`, which each implement
//! [`Handler`]; the `dnslab` binary binds a [`Server`] for them.
//!
//! Logs name the address a request came from `client`, as both servers'
//! logs do, so that one filter follows a client through all of them.
//!
//! Layout, along the path a request takes:
//! - [`config`] — the limits and their defaults ([`ServerConfig`]).
//! - `bind` — creating the sockets, so that bind errors surface before serving.
//! - `udp` — one OS thread per UDP socket, answering inline; deferred
//!   answers run on that thread's own runtime.
//! - `tcp` — the accept loop and one task per connection (RFC 7766 framing).
//! - [`server`] — [`Server`], which ties them together and owns shutdown.
//! - [`error`] — [`TransportError`].
//!
//! `unsafe` is confined to three places, each with its `SAFETY` note: the
//! `recvmmsg`/`sendmmsg` batches (`udp/batch.rs`, most of it), one
//! `setsockopt` for DF on answers (`bind.rs`), and registering a UDP
//! socket with its worker's runtime (`udp/mod.rs`).

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

mod bind;
pub mod config;
pub mod error;
pub mod server;
mod tcp;
mod udp;

pub use config::ServerConfig;
pub use error::TransportError;
pub use server::Server;

/// Which transport a request came in on; the handler needs it to apply the
/// UDP size limit and set TC (RFC 1035 4.2.1, RFC 6891 6.2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Udp,
    Tcp,
}

impl fmt::Display for Protocol {
    /// Lower case, as in `127.0.0.1:53/udp`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Udp => "udp",
            Protocol::Tcp => "tcp",
        })
    }
}

/// Where a request came from and how.
#[derive(Clone, Copy, Debug)]
pub struct RequestMeta {
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub protocol: Protocol,
}

/// A response that is computed later (a resolver cache miss); the transport
/// runs it (on UDP, on the receiving worker's thread and runtime; on TCP,
/// as a task of the connection's, on the server's runtime) and sends the
/// bytes it yields, if any.
pub type Deferred = Pin<Box<dyn Future<Output = Option<Vec<u8>>> + Send + 'static>>;

/// The messages of one multi-message response (a zone transfer, RFC 5936
/// 2.2), produced one at a time as the connection writes them.
///
/// The transport asks for the next message only once the previous one has
/// been written to the socket, so a slow reader holds one message in the
/// server's memory, never the whole response (a million-record zone is
/// tens of megabytes). Producing a message must not block: it runs on the
/// connection's task.
pub trait MessageStream: Send + 'static {
    /// Writes the next message into `out`, which is empty; `false` when the
    /// response is complete (then `out` is not sent).
    fn next_message(&mut self, out: &mut Vec<u8>) -> bool;
}

/// What a handler did with one request.
pub enum Reply {
    /// The response is in the buffer passed to [`Handler::handle`]: send it.
    Send,
    /// Send nothing (unreadable header, a response packet, a refused client).
    Drop,
    /// The answer needs more work: run the future and send what it yields.
    Deferred(Deferred),
    /// A response of several messages, for TCP (RFC 5936 4.2: zone
    /// transfers only over TCP). The buffer passed to the handler is not
    /// sent. Over UDP only the first message would be sent; handlers do not
    /// return one there.
    Stream(Box<dyn MessageStream>),
}

/// Turns one DNS request into a response. Called on the receiving worker
/// with a reused, empty `response` buffer, so the common case allocates
/// nothing and never crosses tasks.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, request: &[u8], meta: &RequestMeta, response: &mut Vec<u8>) -> Reply;
}
