//! `dnslab auth`: serve zones authoritatively until Ctrl-C or SIGTERM:
//! primaries from master files, secondaries copied from their primaries,
//! with zone transfers, NOTIFY, TSIG and dynamic updates. SIGHUP reloads
//! every master file at once (the old zones keep serving if any file is
//! broken).
//!
//! The flags are shorthand for the YAML configuration (`--config FILE`):
//! both become one `ConfigSpec` and are validated alike
//! (`dnslab::config`); `--allow-transfer` and `--notify` apply to every
//! zone given by flags, `--allow-update` and `--zonefile-sync` to every
//! primary zone.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use dnslab::config::{self, ConfigSpec, Origin, Setup, UpdateRuleSpec, ZoneSpec};
use dnslab::live::{AuthBackend, AuthEntry, Counted, ServerCounters};
use dnslab_authoritative::DEFAULT_DATA_DIR;
use dnslab_authoritative::{AuthOptions, AuthServer, ZoneSource};
use dnslab_transport::ServerConfig;
use dnslab_web::{EventBus, Web};
use dnslab_wire::RrsetOrder;
use tokio::signal::unix::{signal, SignalKind};
use tracing::info;

#[derive(clap::Args, Debug)]
pub struct AuthArgs {
    /// A YAML configuration (listen addresses, keys, remotes, zones with
    /// their transfer rules); instead of the flags below.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["zone", "secondary", "allow_transfer", "notify", "tsig_key", "data_dir", "allow_update", "insecure_updates", "zonefile_sync"])]
    config: Option<PathBuf>,
    /// Address to serve on, UDP and TCP (repeatable), e.g. 127.0.0.1:5300.
    #[arg(long, value_name = "ADDR:PORT", required_unless_present = "config")]
    listen: Vec<SocketAddr>,
    /// UDP sockets (and threads) per address; default: one per CPU.
    #[arg(long, value_name = "N")]
    udp_workers: Option<usize>,
    /// A master file to serve as a primary, optionally with its zone name
    /// (repeatable).
    #[arg(long, value_name = "FILE|NAME=FILE")]
    zone: Vec<ZoneSource>,
    /// A zone to copy from a primary, as a secondary (repeatable); the
    /// primary as [key:KEY@]ADDR[:PORT] (port 53 by default; with a key,
    /// requests to it are signed).
    #[arg(long, value_name = "NAME=ADDR[:PORT]")]
    secondary: Vec<String>,
    /// Who may transfer every zone: an address prefix (CIDR, or one
    /// address), key:NAME (a request signed with that key), or
    /// key:NAME@CIDR (both). Repeatable; default: nobody.
    #[arg(long, value_name = "CIDR|key:NAME")]
    allow_transfer: Vec<String>,
    /// A secondary to NOTIFY of each new version of every zone,
    /// [key:KEY@]ADDR[:PORT] (repeatable).
    #[arg(long, value_name = "ADDR[:PORT]")]
    notify: Vec<String>,
    /// Who may change every zone given by --zone by dynamic UPDATE
    /// (RFC 2136): key:NAME (signed with that key, RFC 3007), CIDR
    /// (unsigned, from those addresses: loopback only unless
    /// --insecure-updates), or key:NAME@CIDR. Repeatable; default: nobody.
    #[arg(long, value_name = "key:NAME|CIDR")]
    allow_update: Vec<String>,
    /// Allow --allow-update CIDR for addresses other than loopback.
    #[arg(long)]
    insecure_updates: bool,
    /// Write a zone back to its master file this many seconds after an
    /// update (0: after every update); default: only on `dnslab ctl
    /// zone-flush`. The journal in --data-dir keeps updates durable.
    #[arg(long, value_name = "SECONDS")]
    zonefile_sync: Option<u64>,
    /// A BIND key file, as tsig-keygen writes it (repeatable).
    #[arg(long, value_name = "FILE")]
    tsig_key: Vec<PathBuf>,
    /// Where secondary copies and transfer history are kept.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
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
    /// The order of the records of each RRset in answers: fixed (the zone
    /// file's), cyclic (one further on each answer; the default) or
    /// random. With --config, it replaces the file's server-wide order.
    #[arg(long, value_name = "ORDER")]
    rrset_order: Option<RrsetOrder>,
    /// Choose views (a zone's answers by who asks, from --config) by a
    /// query's EDNS Client Subnet option (RFC 7871) and answer with its
    /// scope; without it the option is ignored.
    #[arg(long)]
    ecs: bool,
}

/// The log directive that shows the query lines (at debug level).
const QUERY_LINES: &str = "dnslab_authoritative::handler=debug";

pub fn run(args: AuthArgs) -> ExitCode {
    let setup = match &args.config {
        Some(path) => config::load(path),
        None => from_flags(&args),
    };
    let mut setup = match setup {
        Ok(setup) => setup,
        Err(problems) => {
            eprintln!("dnslab auth: {problems}");
            return ExitCode::FAILURE;
        }
    };
    // Flags given with --config override the file's.
    if !args.listen.is_empty() {
        setup.listen = args.listen.clone();
    }
    if args.udp_workers.is_some() {
        setup.udp_workers = args.udp_workers;
    }
    setup.auth.options.log_queries |= args.log_queries;
    setup.auth.options.ecs |= args.ecs;
    if let Some(order) = args.rrset_order {
        setup.auth.options.rrset_order = order;
    }
    match setup.auth.options.log_queries {
        true => super::init_logging(&[QUERY_LINES]),
        false => super::init_logging(&[]),
    }
    let auth = match AuthServer::new(setup.auth) {
        Ok(auth) => auth,
        Err(errors) => {
            eprintln!("dnslab auth: {errors}");
            return ExitCode::FAILURE;
        }
    };
    let mut transport = ServerConfig::new(setup.listen);
    if let Some(workers) = setup.udp_workers {
        transport.udp_workers = workers;
    }
    super::block_on("auth", serve(auth, transport, args.web))
}

/// The flags as the configuration they are shorthand for.
fn from_flags(args: &AuthArgs) -> Result<Setup, config::Problems> {
    let every_zone = |zone: Option<String>, file: Option<String>, primaries: Vec<String>| {
        // Updates go to primaries only.
        let primary = primaries.is_empty();
        ZoneSpec {
            zone,
            file,
            primaries,
            notify: args.notify.clone(),
            allow_transfer: args.allow_transfer.clone(),
            allow_update: match primary {
                true => args
                    .allow_update
                    .iter()
                    .map(|rule| UpdateRuleSpec::Who(rule.clone()))
                    .collect(),
                false => Vec::new(),
            },
            zonefile_sync: args.zonefile_sync.filter(|_| primary),
            ..ZoneSpec::default()
        }
    };
    let path = |path: &Path| path.display().to_string();
    let mut zones: Vec<ZoneSpec> = args
        .zone
        .iter()
        .map(|source| {
            every_zone(
                source.origin.as_ref().map(ToString::to_string),
                Some(path(&source.path)),
                Vec::new(),
            )
        })
        .collect();
    let mut problems = Vec::new();
    for secondary in &args.secondary {
        match secondary.split_once('=') {
            Some((name, primary)) if !name.is_empty() && !primary.is_empty() => {
                zones.push(every_zone(
                    Some(name.to_string()),
                    None,
                    vec![primary.to_string()],
                ));
            }
            _ => problems.push(config::Problem {
                at: None,
                message: format!("--secondary {secondary:?}: expected NAME=[key:KEY@]ADDR[:PORT]"),
            }),
        }
    }
    if zones.is_empty() && problems.is_empty() {
        problems.push(config::Problem {
            at: None,
            message: "no zone to serve: give --zone FILE, --secondary NAME=ADDR or --config FILE"
                .into(),
        });
    }
    if !problems.is_empty() {
        return Err(config::Problems(problems));
    }
    let spec = ConfigSpec {
        listen: args.listen.iter().map(ToString::to_string).collect(),
        udp_workers: args.udp_workers,
        log_queries: Some(args.log_queries),
        max_udp_payload: Some(args.max_udp_payload),
        data_dir: Some(path(&args.data_dir)),
        key_files: args.tsig_key.iter().map(|p| path(p)).collect(),
        insecure_updates: Some(args.insecure_updates),
        zones,
        ..ConfigSpec::default()
    };
    let origin = Origin {
        file: None,
        text: "",
        base: PathBuf::from("."),
    };
    config::build(spec, &origin)
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
    // NOTIFY out and the secondaries' refresh, until we return.
    let _tasks = auth.spawn_tasks();

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
