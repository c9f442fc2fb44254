//! The library half of the `dnslab` package: what the binary's subcommands
//! share with the integration tests, which start hierarchies in-process.
//!
//! - [`topology`]: the YAML topologies of `dnslab up`, their checks, the
//!   built-in default hierarchy, and running one.

pub mod topology;
