//! Running a [`Topology`]: one authoritative server per entry, each on its
//! own address and the shared port, and each local DNS server (recursive
//! resolver, with a cache of its own) with root hints taken from the
//! servers of the root zone, all on the caller's tokio runtime. A
//! resolver's upstream queries leave from its own address, so servers
//! that answer by who asks (views) tell the resolvers apart.
//!
//! The resolvers publish their lookups on one event bus (read by the live
//! page and the terminal printer, see [`crate::live`]), the servers their
//! NOTIFY and transfers in one zone log ([`Hierarchy::zone_log`]), and every server's
//! answers are counted ([`crate::live::Counted`]); [`Hierarchy::web`] is
//! the web server over all of them (its control API drives the first
//! resolver).
//!
//! Every socket is bound before anything serves, so a port in use fails
//! the whole start cleanly (the bound sockets are dropped with the error).
//! Shutdown follows the transport: one `watch` flag tells every server to
//! stop and [`Hierarchy::stop`] waits until they all have.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use dnslab_authoritative::{AuthOptions, AuthServer, BackgroundTasks, LoadErrors};
use dnslab_resolver::events::EventBus;
use dnslab_resolver::{Resolver, ResolverConfig};
use dnslab_transport::{Handler, Server, ServerConfig, TransportError};
use dnslab_web::ZoneLog;
use hickory_proto::rr::Name;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::info;

use super::registrar;
use super::transfers::{self, DataRoot};
use super::Topology;
use crate::live::{AuthBackend, AuthEntry, Counted, ResolverBackend, ServerCounters, ZoneFeed};

/// One authoritative server as started.
#[derive(Clone, Debug)]
pub struct RunningServer {
    pub name: Name,
    pub address: SocketAddr,
    pub zones: Vec<Name>,
    /// The server itself (zones, serials, reload).
    pub auth: AuthServer,
    pub counters: Arc<ServerCounters>,
}

/// One local DNS server as started.
#[derive(Clone)]
pub struct RunningResolver {
    pub name: String,
    /// Where it listens (port 0 in the topology is resolved).
    pub address: SocketAddr,
    /// The resolver itself, for its counters.
    pub resolver: Resolver,
    /// Its answers, for /metrics.
    counters: Arc<ServerCounters>,
}

/// Why the hierarchy could not start. Nothing is left running.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Port 0 would give every server a different port, but the resolver
    /// asks them all on one.
    #[error("the servers need one shared port; port 0 would give each its own")]
    PortZero,
    /// A hierarchy needs a local DNS server to be asked through.
    #[error("the topology has no resolver")]
    NoResolver,
    /// A server's zones did not load (each line names `file:line`).
    #[error("server {server}: cannot load its zones:\n{errors}")]
    Zones { server: Name, errors: LoadErrors },
    /// The topology's keys could not be written for `nsupdate -k`.
    #[error("cannot write the keys to {dir}: {source}")]
    Keys {
        dir: PathBuf,
        source: std::io::Error,
    },
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
    /// Where the first local DNS server listens (port 0 in the topology
    /// is resolved): the one `up`'s examples ask.
    pub resolver: SocketAddr,
    /// Every local DNS server, the first one first.
    pub resolvers: Vec<RunningResolver>,
    resolver_handle: Resolver,
    resolver_counters: Arc<ServerCounters>,
    /// Where the resolvers publish their lookups.
    pub bus: Arc<EventBus>,
    /// The servers' NOTIFY and transfers (those of the start included).
    pub zone_log: Arc<ZoneLog>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<Result<(), TransportError>>,
    /// Every authoritative server, for reload.
    auths: Vec<AuthServer>,
    /// NOTIFY out and secondaries' refresh, stopped with the hierarchy.
    _background: Vec<BackgroundTasks>,
    /// The topology's TSIG keys as BIND key files (for `nsupdate -k`),
    /// by key name, in the data root.
    pub key_files: Vec<(String, PathBuf)>,
    _data_root: DataRoot,
}

impl Hierarchy {
    /// The first running resolver, for its counters.
    pub fn resolver(&self) -> &Resolver {
        &self.resolver_handle
    }

    /// The web server showing this hierarchy: the resolver's walks and
    /// cache, every server's zones and counters.
    pub fn web(&self) -> dnslab_web::Web {
        let resolver = ResolverBackend::new(
            self.resolver_handle.clone(),
            self.resolver,
            self.resolver_counters.clone(),
        );
        let servers = self
            .servers
            .iter()
            .map(|server| AuthEntry {
                name: server.name.to_string(),
                listening: server.address,
                server: server.auth.clone(),
                counters: server.counters.clone(),
            })
            .collect();
        dnslab_web::Web::new(self.bus.clone())
            .with_resolver(Arc::new(resolver))
            .with_auth(Arc::new(AuthBackend::new(servers)))
            .with_zone_log(self.zone_log.clone())
    }

    /// What reloads every server's zones, to keep beside a running
    /// hierarchy (SIGHUP in `dnslab up`).
    pub fn reloader(&self) -> Reloader {
        Reloader(self.auths.clone())
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

/// Reloads the zones of every server of a hierarchy; cheap to clone.
#[derive(Clone, Debug)]
pub struct Reloader(Vec<AuthServer>);

impl Reloader {
    /// Re-reads every primary zone's master file on every server (the
    /// servers announce new serials to their secondaries, which follow).
    /// Blocks while files are read: call it off the async workers.
    pub fn reload(&self) {
        for auth in &self.0 {
            // Each failure is logged by reload() itself.
            let _ = auth.reload();
        }
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
    let data_root = DataRoot::new();
    let key_files = registrar::write_key_files(&topology.keys, &data_root.path().join("keys"))
        .map_err(|source| StartError::Keys {
            dir: data_root.path().join("keys"),
            source,
        })?;
    let mut ready: Vec<(Server, Arc<dyn Handler>, RunningServer)> = Vec::new();
    for server in &topology.servers {
        let options = AuthOptions {
            // At debug level (the walk printer shows the lookups); the
            // handler builds a line only when that level is on.
            log_queries: topology.log_queries,
            server_name: Some(server.name.to_string()),
            ecs: server.ecs,
            ..AuthOptions::default()
        };
        let config = transfers::auth_config(topology, server, options, &data_root);
        let auth = AuthServer::new(config).map_err(|errors| StartError::Zones {
            server: server.name.clone(),
            errors,
        })?;
        let address = SocketAddr::new(server.address, topology.port);
        let mut config = ServerConfig::new(vec![address]);
        config.udp_workers = SERVER_UDP_WORKERS;
        let bound = bind(config, || format!("server {} ({address})", server.name))?;
        let counters = Arc::new(ServerCounters::default());
        let handler = Counted::wrap(auth.handler(), counters.clone());
        let running = RunningServer {
            name: server.name.clone(),
            address: bound.local_addrs().first().copied().unwrap_or(address),
            zones: server.zones.iter().map(|z| z.origin.clone()).collect(),
            auth,
            counters,
        };
        ready.push((bound, handler, running));
    }

    let bus = Arc::new(EventBus::default());
    let mut resolvers = Vec::new();
    for local in &topology.resolvers {
        let config = ResolverConfig {
            root_hints: topology.root_hints(),
            upstream_port: topology.port,
            rrset_order: local.rrset_order,
            ecs: local.ecs,
            source_address: Some(local.address.ip()),
            forward_zones: local.forward_zones.clone(),
            stub_zones: local.stub_zones.clone(),
            ..ResolverConfig::default()
        };
        // Every resolver publishes on the one bus: the page shows both
        // ISPs' lookups, each from its own address.
        let resolver = Resolver::with_events(config, bus.clone());
        let bound = bind(ServerConfig::new(vec![local.address]), || {
            format!("resolver {} ({})", local.name, local.address)
        })?;
        let running = RunningResolver {
            name: local.name.clone(),
            address: bound
                .local_addrs()
                .first()
                .copied()
                .unwrap_or(local.address),
            resolver,
            counters: Arc::new(ServerCounters::default()),
        };
        resolvers.push((bound, running));
    }
    let Some((_, first)) = resolvers.first() else {
        return Err(StartError::NoResolver);
    };
    let resolver_addr = first.address;
    let resolver_handle = first.resolver.clone();
    let resolver_counters = first.counters.clone();

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
    let mut auths = Vec::new();
    for (bound, handler, running) in ready {
        let zones: Vec<String> = running.zones.iter().map(ToString::to_string).collect();
        info!(server = %running.name, address = %running.address, zones = %zones.join(" "), "serving");
        tasks.spawn(bound.run(handler, on_stop()));
        auths.push(running.auth.clone());
        servers.push(running);
    }
    let mut running_resolvers = Vec::new();
    for (bound, running) in resolvers {
        info!(resolver = %running.name, address = %running.address, hints = topology.root_hints().len(), "resolver serving");
        let handler = Counted::wrap(running.resolver.handler(), running.counters.clone());
        tasks.spawn(bound.run(handler, on_stop()));
        running_resolvers.push(running);
    }
    // Every server listens now: NOTIFY and the first transfers can go,
    // each reported by name.
    let zone_log = Arc::new(ZoneLog::default());
    let names: HashMap<IpAddr, String> = servers
        .iter()
        .map(|server| (server.address.ip().to_canonical(), server.name.to_string()))
        .collect();
    let names = Arc::new(names);
    for auth in &auths {
        auth.set_zone_observer(Arc::new(ZoneFeed::new(zone_log.clone(), names.clone())));
    }
    let background = auths.iter().map(AuthServer::spawn_tasks).collect();
    wait_for_secondaries(topology, &auths).await;

    Ok(Hierarchy {
        servers,
        resolver: resolver_addr,
        resolvers: running_resolvers,
        resolver_handle,
        resolver_counters,
        bus,
        zone_log,
        stop,
        tasks,
        auths,
        _background: background,
        key_files,
        _data_root: data_root,
    })
}

/// Whether the servers' per-query lines (debug level) would be shown.
/// How long start-up waits for every secondary's first copy.
const FIRST_COPIES: std::time::Duration = std::time::Duration::from_secs(10);

/// Waits, up to [`FIRST_COPIES`], until every secondary zone has its
/// first copy, so that the hierarchy answers from every server once
/// started; a secondary that is still empty answers SERVFAIL meanwhile.
async fn wait_for_secondaries(topology: &Topology, auths: &[AuthServer]) {
    let deadline = tokio::time::Instant::now() + FIRST_COPIES;
    let pending = || {
        topology.servers.iter().zip(auths).any(|(server, auth)| {
            server
                .zones
                .iter()
                .any(|zone| zone.secondary_of.is_some() && auth.zone(&zone.origin).is_none())
        })
    };
    while pending() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Binds one server, naming it in the error.
fn bind(config: ServerConfig, what: impl FnOnce() -> String) -> Result<Server, StartError> {
    Server::bind(config).map_err(|source| StartError::Bind {
        what: what(),
        source,
    })
}
