//! `dnslab auth`: serve zone files authoritatively until Ctrl-C or SIGTERM;
//! SIGHUP reloads every zone at once (the old zones keep serving if any
//! file is broken).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use dnslab::live::{AuthBackend, AuthEntry, Counted, ServerCounters};
use dnslab_authoritative::{AuthOptions, AuthServer, ZoneSource};
use dnslab_transport::ServerConfig;
use dnslab_web::{EventBus, Web};
use tokio::signal::unix::{signal, SignalKind};
use tracing::info;

#[derive(clap::Args, Debug)]
pub struct AuthArgs {
    #[command(flatten)]
    listen: super::ListenArgs,
    /// A master file to serve, optionally with its zone name (repeatable).
    #[arg(long, required = true, value_name = "FILE|NAME=FILE")]
    zone: Vec<ZoneSource>,
    /// Log one line per query: client, question and outcome.
    #[arg(long)]
    log_queries: bool,
    /// Serve /metrics and the control API (`dnslab ctl reload`, `status`,
    /// `stats`) on this address; off by default.
    #[arg(long, value_name = "ADDR:PORT")]
    web: Option<std::net::SocketAddr>,
    /// Largest UDP response and the EDNS size advertised (at least 512).
    #[arg(long, value_name = "N", default_value_t = AuthOptions::default().max_udp_payload,
          value_parser = clap::value_parser!(u16).range(512..))]
    max_udp_payload: u16,
}

/// The log directive that shows the query lines (at debug level).
pub const QUERY_LINES: &str = "dnslab_authoritative::handler=debug";

impl AuthArgs {
    pub fn log_queries(&self) -> bool {
        self.log_queries
    }
}

pub fn run(args: AuthArgs) -> ExitCode {
    let options = AuthOptions {
        log_queries: args.log_queries,
        server_name: None,
        max_udp_payload: args.max_udp_payload,
    };
    let auth = match AuthServer::load(args.zone, options) {
        Ok(auth) => auth,
        Err(errors) => {
            eprintln!("dnslab auth: {errors}");
            return ExitCode::FAILURE;
        }
    };
    super::block_on("auth", serve(auth, args.listen.server_config(), args.web))
}

async fn serve(auth: AuthServer, config: ServerConfig, web: Option<SocketAddr>) -> ExitCode {
    let server = match super::bind("auth", config) {
        Ok(server) => server,
        Err(code) => return code,
    };
    let counters = Arc::new(ServerCounters::default());
    let web = match web {
        Some(addr) => {
            let entry = AuthEntry {
                name: server
                    .local_addrs()
                    .first()
                    .map_or_else(|| "auth".to_string(), ToString::to_string),
                listening: server.local_addrs().first().copied().unwrap_or(addr),
                server: auth.clone(),
                counters: counters.clone(),
            };
            // No resolver here: the page has no walks to show, but
            // /metrics and the control API serve the zones.
            let web = Web::new(Arc::new(EventBus::default()))
                .with_auth(Arc::new(AuthBackend::new(vec![entry])));
            match super::WebServer::bind("auth", addr, web).await {
                Ok(web) => Some(web),
                Err(code) => return code,
            }
        }
        None => None,
    };
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(hangup) => hangup,
        Err(e) => {
            eprintln!("dnslab auth: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addrs = server.local_addrs();
    let zones: Vec<String> = auth.zones().iter().map(ToString::to_string).collect();
    info!(?addrs, ?zones, "serving");

    let reloader = auth.clone();
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            info!("SIGHUP: reloading every zone");
            // Reading zone files blocks; keep it off the async workers.
            let auth = reloader.clone();
            // The outcome is logged by reload() itself.
            let _ = tokio::task::spawn_blocking(move || auth.reload()).await;
        }
    });
    // Answers are counted only when /metrics can show them.
    let handler = match web {
        Some(_) => Counted::wrap(auth.handler(), counters),
        None => auth.handler(),
    };
    super::serve_until_stopped("auth", server, handler, web).await
}
