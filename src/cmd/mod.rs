//! One module per subcommand: its arguments and the call into the libraries;
//! here, what the server subcommands share (runtime, serving until stopped).

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use dnslab_transport::{Handler, Server, ServerConfig};
use tracing::{error, info};

pub mod auth;
pub mod check;
pub mod ctl;
pub mod resolver;
pub mod trace;
pub mod up;

/// Structured logs to stderr; `RUST_LOG` overrides the default `info`.
/// `extra` directives come on top of either (`dnslab auth --log-queries`
/// turns on the servers' debug-level query lines).
pub fn init_logging(extra: &[&str]) {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    for directive in extra {
        if let Ok(directive) = directive.parse() {
            filter = filter.add_directive(directive);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal; logs piped to a file stay plain.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Where and how a server subcommand listens (`auth`, `resolver`).
#[derive(clap::Args, Debug)]
pub struct ListenArgs {
    /// Address to serve on, UDP and TCP (repeatable), e.g. 127.0.0.1:1053.
    #[arg(long, required = true, value_name = "ADDR:PORT")]
    listen: Vec<SocketAddr>,
    /// UDP sockets (and threads) per address; default: one per CPU.
    #[arg(long, value_name = "N")]
    udp_workers: Option<usize>,
}

impl ListenArgs {
    pub fn server_config(self) -> ServerConfig {
        let mut config = ServerConfig::new(self.listen);
        if let Some(workers) = self.udp_workers {
            config.udp_workers = workers;
        }
        config
    }
}

/// Binds every address of `config`; failure with one line on stderr.
pub fn bind(command: &str, config: ServerConfig) -> Result<Server, ExitCode> {
    Server::bind(config).map_err(|e| {
        eprintln!("dnslab {command}: {e}");
        ExitCode::FAILURE
    })
}

/// Runs a server subcommand's `serve` on a multi-threaded tokio runtime.
pub fn block_on(command: &str, serve: impl Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(serve),
        Err(e) => {
            eprintln!("dnslab {command}: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The web server of a subcommand (`--web`), its port bound.
pub struct WebServer {
    listener: tokio::net::TcpListener,
    web: dnslab_web::Web,
}

impl WebServer {
    /// Binds `addr` for `web`; failure with one line on stderr (a port in
    /// use says so, and what to do).
    pub async fn bind(
        command: &str,
        addr: SocketAddr,
        web: dnslab_web::Web,
    ) -> Result<WebServer, ExitCode> {
        match dnslab::live::bind_web(addr).await {
            Ok(listener) => Ok(WebServer { listener, web }),
            Err(e) => {
                eprintln!("dnslab {command}: {e}");
                Err(ExitCode::FAILURE)
            }
        }
    }

    /// The page's address, as printed for a person to open.
    pub fn url(&self) -> String {
        match self.listener.local_addr() {
            Ok(addr) => format!("http://{addr}/"),
            Err(_) => "(the web server's address is unknown)".to_string(),
        }
    }

    /// Serves until `stop` turns true (or its sender goes).
    pub fn spawn(
        self,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<Result<(), dnslab_web::WebError>> {
        tokio::spawn(dnslab_web::serve(self.listener, self.web, async move {
            let _ = stop.wait_for(|&stop| stop).await;
        }))
    }
}

/// Serves `handler` on `server` (and the web server, if any) until Ctrl-C
/// or SIGTERM, then shuts down cleanly: success, or failure with one line
/// on stderr.
pub async fn serve_until_stopped(
    command: &str,
    server: Server,
    handler: Arc<dyn Handler>,
    web: Option<WebServer>,
) -> ExitCode {
    let shutdown = match stop_signal(command) {
        Ok(shutdown) => shutdown,
        Err(code) => return code,
    };
    let (stop_web, web_stopped) = tokio::sync::watch::channel(false);
    let web = web.map(|web| {
        info!(url = %web.url(), "web page, /metrics and the control API");
        web.spawn(web_stopped)
    });
    let served = server.run(handler, shutdown).await;
    let _ = stop_web.send(true);
    if let Some(web) = web {
        if let Ok(Err(e)) = web.await {
            error!(%e, "web server stopped");
        }
    }
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!(%e, "server stopped");
            eprintln!("dnslab {command}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A future that completes on Ctrl-C, or on SIGTERM from a service manager
/// or `kill`; or failure with one line on stderr when the handler cannot be
/// installed. Must be called within the runtime.
pub fn stop_signal(command: &str) -> Result<impl Future<Output = ()> + Send + 'static, ExitCode> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(terminate) => terminate,
        Err(e) => {
            eprintln!("dnslab {command}: cannot install signal handlers: {e}");
            return Err(ExitCode::FAILURE);
        }
    };
    Ok(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => info!("interrupted; shutting down"),
            _ = terminate.recv() => info!("SIGTERM; shutting down"),
        }
    })
}
