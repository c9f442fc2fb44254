//! Integration tests of TSIG (RFC 8945) against real tools, over real
//! sockets on loopback: a tiny server built on the crate (`server`),
//! questioned by dig and kdig; the crate's client side against Knot; Knot
//! as a secondary transferring from the crate's server.

mod tsig {
    /// Hand-built queries and raw exchanges over UDP and TCP.
    pub mod client;
    /// Our client against our server, with requests crafted to fail.
    mod crafted;
    /// dig against our server: every reply dig must accept or refuse.
    mod dig;
    /// kdig against our server.
    mod kdig;
    /// Our client against knotd; knotd transferring from our server.
    mod knot;
    /// Parsing what dig and kdig print.
    pub mod output;
    /// The test server.
    pub mod server;
    /// Finding and running the tools (a missing one fails in CI).
    pub mod tools;
}

use dnslab_tsig::{Key, KeyRing};

/// The test key's name and secret (a `tsig-keygen` secret).
pub const KEY_NAME: &str = "transfer.example.";
pub const SECRET: &str = "sxxbTbF0fZ5SAcswZgMJuG1uWJKPvT/QADP8akrBQ0E=";
/// Another secret, for the wrong-secret cases.
pub const OTHER_SECRET: &str = "c3h4YlRiRjBmWjVTQWNzd1pnTUp1RzF1V0pLUHZUL1E=";

/// The test key with `algorithm` (dig's spelling, e.g. `hmac-sha256-128`).
pub fn key(algorithm: &str) -> Key {
    Key::from_text(KEY_NAME, algorithm, SECRET).expect("test key")
}

pub fn ring(keys: impl IntoIterator<Item = Key>) -> KeyRing {
    keys.into_iter().collect()
}

/// The `-y` argument of dig and kdig for the test key name.
pub fn dig_key(algorithm: &str, secret: &str) -> String {
    format!("{algorithm}:{KEY_NAME}:{secret}")
}
