//! The library half of the `dnslab` package: what the binary's subcommands
//! share with the integration tests, which start hierarchies in-process.
//!
//! - [`topology`]: the YAML topologies of `dnslab up`, their checks, the
//!   built-in default hierarchy, and running one.
//! - [`live`]: the servers seen live: the web server's backends, the walk
//!   on the terminal, the query counters.
//! - [`config`]: the authoritative server's configuration, from YAML
//!   (`dnslab auth --config`) or from flags, into one validated form.
//! - [`views`]: a zone's views and RRset order as both YAML formats
//!   write them.
//! - [`yaml`]: what both YAML formats share (lines of keys, places).

pub mod config;
pub mod live;
pub mod topology;
pub mod views;
pub mod yaml;
