//! Running a [`Topology`]: one authoritative server per entry, each on its
//! own address and the shared port, and the recursive resolver with root
//! hints taken from the servers of the root zone, all on the caller's
//! tokio runtime.
//!
//! Every socket is bound before anything serves, so a port in use fails
//! the whole start cleanly (the bound sockets are dropped with the error).
//! Shutdown follows the transport: one `watch` flag tells every server to
//! stop and [`Hierarchy::stop`] waits until they all have.

use std::net::SocketAddr;
use std::sync::Arc;

use dnslab_authoritative::{AuthOptions, AuthServer, LoadErrors, ZoneSource};
use dnslab_resolver::{Resolver, ResolverConfig};
use dnslab_transport::{Handler, Server, ServerConfig, TransportError};
use hickory_proto::rr::Name;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::info;

use super::Topology;

/// One authoritative server as started.
#[derive(Clone, Debug)]
pub struct RunningServer {
    pub name: Name,
    pub address: SocketAddr,
    pub zones: Vec<Name>,
}

/// Why the hierarchy could not start. Nothing is left running.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Port 0 would give every server a different port, but the resolver
    /// asks them all on one.
    #[error("the servers need one shared port; port 0 would give each its own")]
    PortZero,
    /// A server's zones did not load (each line names `file:line`).
    #[error("server {server}: cannot load its zones:\n{errors}")]
    Zones { server: Name, errors: LoadErrors },
    /// A socket could not be bound: the address is in use, not configured
    /// on this machine, or the port needs root.
    #[error("{what}: {source}")]
    Bind {
        what: String,
        #[source]
        source: TransportError,
    },
}

impl StartError {
    /// Did binding fail because the port is taken? Tests pick another
    /// random port then.
    pub fn is_addr_in_use(&self) -> bool {
        match self {
            StartError::Bind {
                source: TransportError::Bind { source, .. },
                ..
            } => source.kind() == std::io::ErrorKind::AddrInUse,
            _ => false,
        }
    }
}

/// A running hierarchy. Dropping it without [`Hierarchy::stop`] aborts the
/// servers' tasks; `stop` ends them cleanly and waits.
pub struct Hierarchy {
    pub servers: Vec<RunningServer>,
    /// Where the resolver listens (port 0 in the topology is resolved).
    pub resolver: SocketAddr,
    resolver_handle: Resolver,
    stop: watch::Sender<bool>,
    tasks: JoinSet<Result<(), TransportError>>,
}

impl Hierarchy {
    /// The running resolver, for its counters.
    pub fn resolver(&self) -> &Resolver {
        &self.resolver_handle
    }

    /// Tells every server to stop and waits until all have; returns the
    /// first error a server ended with.
    pub async fn stop(mut self) -> Result<(), TransportError> {
        let _ = self.stop.send(true);
        let mut first = Ok(());
        while let Some(joined) = self.tasks.join_next().await {
            if let Ok(Err(e)) = joined {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }
}

/// UDP worker threads per authoritative server: a lab hierarchy has a
/// dozen servers on a laptop, each seeing a handful of queries, so one
/// thread each keeps the process small. The resolver keeps the default.
const SERVER_UDP_WORKERS: usize = 1;

/// Loads every server's zones, binds every socket, then starts serving.
/// Must be called within a tokio runtime.
pub async fn start(topology: &Topology) -> Result<Hierarchy, StartError> {
    if topology.port == 0 {
        return Err(StartError::PortZero);
    }
    let mut ready: Vec<(Server, Arc<dyn Handler>, RunningServer)> = Vec::new();
    for server in &topology.servers {
        let sources = server
            .zones
            .iter()
            .map(|z| ZoneSource {
                origin: Some(z.origin.clone()),
                path: z.path.clone(),
            })
            .collect();
        let options = AuthOptions {
            log_queries: topology.log_queries,
            server_name: Some(server.name.to_string()),
            ..AuthOptions::default()
        };
        let auth = AuthServer::load(sources, options).map_err(|errors| StartError::Zones {
            server: server.name.clone(),
            errors,
        })?;
        let address = SocketAddr::new(server.address, topology.port);
        let mut config = ServerConfig::new(vec![address]);
        config.udp_workers = SERVER_UDP_WORKERS;
        let bound = bind(config, || format!("server {} ({address})", server.name))?;
        let running = RunningServer {
            name: server.name.clone(),
            address: bound.local_addrs().first().copied().unwrap_or(address),
            zones: server.zones.iter().map(|z| z.origin.clone()).collect(),
        };
        ready.push((bound, auth.handler(), running));
    }

    let resolver = Resolver::new(ResolverConfig {
        root_hints: topology.root_hints(),
        upstream_port: topology.port,
        forward_zones: topology.forward_zones.clone(),
        stub_zones: topology.stub_zones.clone(),
        ..ResolverConfig::default()
    });
    let resolver_server = bind(ServerConfig::new(vec![topology.resolver]), || {
        format!("resolver ({})", topology.resolver)
    })?;
    let resolver_addr = resolver_server
        .local_addrs()
        .first()
        .copied()
        .unwrap_or(topology.resolver);

    let (stop, stopped) = watch::channel(false);
    let on_stop = move || {
        let mut stopped = stopped.clone();
        async move {
            // A dropped sender means stop as well.
            let _ = stopped.wait_for(|&stop| stop).await;
        }
    };
    let mut tasks = JoinSet::new();
    let mut servers = Vec::new();
    for (bound, handler, running) in ready {
        let zones: Vec<String> = running.zones.iter().map(ToString::to_string).collect();
        info!(server = %running.name, address = %running.address, zones = %zones.join(" "), "serving");
        tasks.spawn(bound.run(handler, on_stop()));
        servers.push(running);
    }
    info!(address = %resolver_addr, hints = topology.root_hints().len(), "resolver serving");
    tasks.spawn(resolver_server.run(resolver.handler(), on_stop()));

    Ok(Hierarchy {
        servers,
        resolver: resolver_addr,
        resolver_handle: resolver,
        stop,
        tasks,
    })
}

/// Binds one server, naming it in the error.
fn bind(config: ServerConfig, what: impl FnOnce() -> String) -> Result<Server, StartError> {
    Server::bind(config).map_err(|source| StartError::Bind {
        what: what(),
        source,
    })
}
