//! `dnslab auth`: serve zone files authoritatively until Ctrl-C or SIGTERM;
//! SIGHUP reloads every zone at once (the old zones keep serving if any
//! file is broken).

use std::process::ExitCode;

use dnslab_authoritative::{AuthOptions, AuthServer, ZoneSource};
use dnslab_transport::ServerConfig;
use dnslab_wire::RrsetOrder;
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
    /// Largest UDP response and the EDNS size advertised (at least 512).
    #[arg(long, value_name = "N", default_value_t = AuthOptions::default().max_udp_payload,
          value_parser = clap::value_parser!(u16).range(512..))]
    max_udp_payload: u16,
    /// The order of the records of each RRset in answers: fixed (the zone
    /// file's), cyclic (one further on each answer) or random.
    #[arg(long, value_name = "ORDER", default_value_t = RrsetOrder::default())]
    rrset_order: RrsetOrder,
    /// Choose views by a query's EDNS Client Subnet option (RFC 7871) and
    /// answer with its scope; without it the option is ignored.
    #[arg(long)]
    ecs: bool,
}

pub fn run(args: AuthArgs) -> ExitCode {
    let options = AuthOptions {
        log_queries: args.log_queries,
        server_name: None,
        max_udp_payload: args.max_udp_payload,
        rrset_order: args.rrset_order,
        ecs: args.ecs,
    };
    let auth = match AuthServer::load(args.zone, options) {
        Ok(auth) => auth,
        Err(errors) => {
            eprintln!("dnslab auth: {errors}");
            return ExitCode::FAILURE;
        }
    };
    super::block_on("auth", serve(auth, args.listen.server_config()))
}

async fn serve(auth: AuthServer, config: ServerConfig) -> ExitCode {
    let server = match super::bind("auth", config) {
        Ok(server) => server,
        Err(code) => return code,
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
    super::serve_until_stopped("auth", server, auth.handler()).await
}
