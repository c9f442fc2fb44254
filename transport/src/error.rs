//! What can go wrong in the transport. Only setting up can fail: once
//! serving, socket errors are logged and the server carries on.

use std::io;
use std::net::SocketAddr;

use crate::Protocol;

/// Why a [`Server`](crate::Server) could not bind or run.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The configuration lists no address.
    #[error("no listen address given")]
    NoListenAddress,
    /// The operating system refused a socket (address in use, not a local
    /// address, permission for a port below 1024).
    #[error("cannot listen on {addr}/{protocol}: {source}")]
    Bind {
        addr: SocketAddr,
        protocol: Protocol,
        #[source]
        source: io::Error,
    },
    /// Port 0 was asked for, but every port tried for TCP was taken for UDP.
    #[error(
        "cannot listen on {addr}: no port free for both UDP and TCP after {attempts} attempts"
    )]
    NoSharedPort { addr: SocketAddr, attempts: usize },
    /// A UDP worker thread could not be started.
    #[error("cannot start a UDP worker thread: {0}")]
    Spawn(#[source] io::Error),
    /// A UDP worker thread panicked (a bug in a handler); the others served on.
    #[error("a UDP worker thread panicked; see the log for the message")]
    WorkerPanicked,
}
