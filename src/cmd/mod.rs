//! One module per subcommand: its arguments and the call into the libraries.

pub mod auth;
pub mod check;
pub mod resolver;
pub mod trace;
pub mod up;

/// Structured logs to stderr; `RUST_LOG` overrides the default `info`.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
