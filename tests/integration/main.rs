//! dnslab's integration tests: one binary, one module per area. Every test
//! starts real servers on loopback and speaks real DNS to them.

mod common;

/// The authoritative server: RFC 1034 4.3.2 answers over UDP and TCP.
mod auth;
/// Hostile input: malformed packets, abusive TCP clients, lying upstreams.
mod hostile;
/// Interoperability with dig and differential answers against Knot/NSD.
mod interop;
/// The live view of `dnslab up`: walk events over HTTP, replay, resync,
/// `/metrics`.
mod live;
/// The README's commands, run as a new user types them.
mod readme;
/// The recursive resolver over a hierarchy of dnslab servers.
mod resolver;
/// Load distribution and answers by who asks: rotation, views, ECS.
mod stories;
/// Zone transfers, NOTIFY and TSIG: dnslab as primary and secondary.
mod transfer;
/// `dnslab up`: topologies and the built-in default hierarchy.
mod up;
/// Dynamic UPDATE: nsupdate and knsupdate, durability, secondaries.
mod update;
/// Zone files: what loads, what is rejected and with which line.
mod zonefiles;
