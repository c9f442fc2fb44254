//! The web server's tests: one binary, one module per area. Every test
//! starts the real server on a loopback port and speaks HTTP to it over a
//! real socket; the DNS servers behind it are synthetic backends that
//! publish known walks (the real ones are wired in by the binary).

mod common;

/// The control API and the JSON errors of every refusal.
mod api;
/// The page in a real headless Chromium: the figure it draws.
mod browser;
/// `/metrics` read back by a Prometheus text parser.
mod metrics;
/// `/api/events`: SSE framing and ids, replay, resync, shutdown.
mod stream;
