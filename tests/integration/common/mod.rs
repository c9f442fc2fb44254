//! Shared test tools: a DNS client over real UDP and TCP sockets built on
//! hickory-proto's message types ([`client`]), servers on loopback for the
//! length of a test ([`servers`]), the `dnslab` binary as a child process
//! stopped by its PID ([`process`]), and the repository's files and
//! scratch directories ([`files`]), and daemons (a peer server and what it
//! forks) stopped by PID ([`daemon`]).

#![allow(dead_code)]

pub mod client;
pub mod daemon;
pub mod files;
pub mod process;
pub mod servers;

pub use client::*;
pub use daemon::*;
pub use files::*;
pub use process::*;
pub use servers::*;
