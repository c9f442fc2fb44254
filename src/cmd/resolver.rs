//! `dnslab resolver`: the recursive resolver on the shared transport,
//! until Ctrl-C or SIGTERM.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use dnslab::live::{Counted, ResolverBackend, ServerCounters};
use dnslab_resolver::{
    iana_root_hints, parse_root_hints, Cidr, Resolver, ResolverConfig, UpstreamLoopback,
    ZoneServers,
};
use dnslab_transport::ServerConfig;
use dnslab_web::{EventBus, Web};
use dnslab_wire::RrsetOrder;
use hickory_proto::rr::Name;
use tracing::info;

/// Where the walk starts; shared by `resolver` and `trace`.
#[derive(clap::Args, Debug)]
pub struct UpstreamArgs {
    /// Root hints in named.root format; default: the built-in IANA hints.
    #[arg(long, value_name = "FILE")]
    root_hints: Option<PathBuf>,
    /// The port every upstream server is asked on (a toy hierarchy on
    /// loopback uses an unprivileged one).
    #[arg(long, value_name = "PORT", default_value_t = 53)]
    upstream_port: u16,
    /// Send every question at or below NAME to these recursive servers
    /// with RD=1 (repeatable; `.` forwards everything). PORT is 53 unless
    /// given; an IPv6 address with a port is written [ADDR]:PORT.
    #[arg(long, value_name = "NAME=ADDR[:PORT],...")]
    forward_zone: Vec<ZoneServers>,
    /// Start the walk for names at or below NAME at these authoritative
    /// servers instead of the root (repeatable).
    #[arg(long, value_name = "NAME=ADDR[:PORT],...")]
    stub_zone: Vec<ZoneServers>,
    /// Whether loopback addresses learned from referrals, glue and name
    /// server lookups are asked; by default only when every root hint is
    /// loopback (a lab).
    #[arg(long, value_name = "POLICY")]
    upstream_loopback: Option<LoopbackPolicy>,
    /// Never ask IPv6 servers, nor look up name servers' AAAA records.
    #[arg(long)]
    no_ipv6_upstream: bool,
    /// Never ask IPv4 servers, nor look up name servers' A records.
    #[arg(long)]
    no_ipv4_upstream: bool,
}

/// `--upstream-loopback`'s values.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum LoopbackPolicy {
    Allow,
    Deny,
}

impl UpstreamArgs {
    /// The default configuration with these hints, port and upstream
    /// rules, or the line to print when they cannot be used.
    pub fn config(&self) -> Result<ResolverConfig, String> {
        if self.no_ipv4_upstream && self.no_ipv6_upstream {
            return Err(
                "--no-ipv4-upstream and --no-ipv6-upstream leave no server to ask".to_string(),
            );
        }
        Ok(ResolverConfig {
            root_hints: self.root_hints()?,
            upstream_port: self.upstream_port,
            forward_zones: self.forward_zone.clone(),
            stub_zones: self.stub_zone.clone(),
            upstream_loopback: match self.upstream_loopback {
                None => UpstreamLoopback::Auto,
                Some(LoopbackPolicy::Allow) => UpstreamLoopback::Allow,
                Some(LoopbackPolicy::Deny) => UpstreamLoopback::Deny,
            },
            ipv4_upstream: !self.no_ipv4_upstream,
            ipv6_upstream: !self.no_ipv6_upstream,
            ..ResolverConfig::default()
        })
    }

    fn root_hints(&self) -> Result<Vec<(Name, IpAddr)>, String> {
        let Some(path) = &self.root_hints else {
            return Ok(iana_root_hints());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        parse_root_hints(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

#[derive(clap::Args, Debug)]
pub struct ResolverArgs {
    #[command(flatten)]
    listen: super::ListenArgs,
    #[command(flatten)]
    upstream: UpstreamArgs,
    /// RRsets (and, separately, delegations) kept in the cache.
    #[arg(long, value_name = "N", default_value_t = ResolverConfig::default().cache_size)]
    cache_size: usize,
    /// Cached TTLs below this are raised (seconds), negative answers'
    /// too; a negative answer without an SOA is cached this long.
    #[arg(long, value_name = "S", default_value_t = ResolverConfig::default().min_ttl)]
    min_ttl: u32,
    /// Cached TTLs above this are lowered (seconds), negative answers'
    /// too.
    #[arg(long, value_name = "S", default_value_t = ResolverConfig::default().max_ttl)]
    max_ttl: u32,
    /// Send every server the full question (RFC 9156 off).
    #[arg(long)]
    no_qname_minimisation: bool,
    /// Upstream queries one UDP socket may carry, to one server only (at
    /// most 64, within 1 s). 1 gives every query a fresh random source
    /// port (RFC 5452); more trades port entropy for CPU per cache miss.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    upstream_socket_uses: u32,
    /// Clients to serve (repeatable); replaces the default loopback and
    /// private networks. Others get REFUSED.
    #[arg(long, value_name = "CIDR")]
    allow: Vec<Cidr>,
    /// The order of the records of each RRset in answers: fixed (as the
    /// server gave them), cyclic (one further on each answer, as
    /// Unbound's rrset-roundrobin) or random.
    #[arg(long, value_name = "ORDER", default_value_t = RrsetOrder::default())]
    rrset_order: RrsetOrder,
    /// Send each client's network upstream (EDNS Client Subnet, RFC 7871:
    /// /24 or /56) and cache answers by the network they hold for.
    #[arg(long)]
    ecs: bool,
    /// The address upstream queries leave from (BIND's query-source), so
    /// that servers see this resolver's address; default: the system's
    /// choice.
    #[arg(long, value_name = "ADDR")]
    query_source: Option<IpAddr>,
    /// Serve the live page of the walk, /metrics and the control API
    /// (`dnslab ctl`) on this address; off by default.
    #[arg(long, value_name = "ADDR:PORT")]
    web: Option<SocketAddr>,
}

pub fn run(args: ResolverArgs) -> ExitCode {
    let mut config = match args.upstream.config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("dnslab resolver: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.min_ttl > args.max_ttl {
        eprintln!(
            "dnslab resolver: --min-ttl {} is above --max-ttl {}; no TTL could satisfy both",
            args.min_ttl, args.max_ttl
        );
        return ExitCode::FAILURE;
    }
    config.cache_size = args.cache_size;
    config.min_ttl = args.min_ttl;
    config.max_ttl = args.max_ttl;
    config.qname_minimisation = !args.no_qname_minimisation;
    config.upstream_socket_uses = args.upstream_socket_uses;
    config.rrset_order = args.rrset_order;
    config.ecs = args.ecs;
    config.source_address = args.query_source;
    if !args.allow.is_empty() {
        config.allow = args.allow;
    }
    let server_config = args.listen.server_config();
    let web = args.web;
    super::block_on("resolver", serve(config, server_config, web))
}

async fn serve(
    config: ResolverConfig,
    server_config: ServerConfig,
    web: Option<SocketAddr>,
) -> ExitCode {
    let server = match super::bind("resolver", server_config) {
        Ok(server) => server,
        Err(code) => return code,
    };
    let counters = Arc::new(ServerCounters::default());
    let (resolver, web) = match web {
        Some(addr) => {
            let bus = Arc::new(EventBus::default());
            let resolver = Resolver::with_events(config, bus.clone());
            let listening = server.local_addrs().first().copied().unwrap_or(addr);
            let backend = ResolverBackend::new(resolver.clone(), listening, counters.clone());
            let web = Web::new(bus).with_resolver(Arc::new(backend));
            match super::WebServer::bind("resolver", addr, web).await {
                Ok(web) => (resolver, Some(web)),
                Err(code) => return code,
            }
        }
        None => (Resolver::new(config), None),
    };
    let config = resolver.config();
    info!(
        addrs = ?server.local_addrs(),
        root_servers = config.root_hints.len(),
        upstream_port = config.upstream_port,
        qname_minimisation = config.qname_minimisation,
        rrset_order = %config.rrset_order,
        ecs = config.ecs,
        forward_zones = config.forward_zones.len(),
        stub_zones = config.stub_zones.len(),
        "resolver serving"
    );
    // Answers are counted only when /metrics can show them.
    let handler = match web {
        Some(_) => Counted::wrap(resolver.handler(), counters),
        None => resolver.handler(),
    };
    super::serve_until_stopped("resolver", server, handler, web).await
}
