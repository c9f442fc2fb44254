//! `dnslab up`: checks a topology (the built-in default hierarchy when no
//! file is given), starts every server and the resolver in this process,
//! prints what runs where and what to dig (and, for a zone not yet
//! delegated, the registrar's UPDATE), reloads every zone file on
//! SIGHUP (secondaries follow by NOTIFY and IXFR), and stops on Ctrl-C or
//! SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use dnslab::live::printer;
use dnslab::topology::default::{DefaultTopology, EXAMPLES, EXAMPLES_EVERY_RESOLVER};
use dnslab::topology::registrar::Registration;
use dnslab::topology::{self, Hierarchy, LocalResolver, Problems, Topology};
use dnslab_wire::RrsetOrder;
use tokio::signal::unix::{signal, SignalKind};
use tracing::info;

#[derive(clap::Args, Debug)]
pub struct UpArgs {
    /// Topology file (YAML). Without it, the built-in hierarchy of
    /// zones/default/ (root, com, net, org, edu, uk and the textbook's stories).
    pub topology: Option<PathBuf>,
    /// The port every server of the hierarchy listens on (overrides the
    /// file; default 5300). 53 needs root.
    #[arg(long)]
    pub port: Option<u16>,
    /// Where a local DNS server listens, ADDRESS:PORT (repeatable: the
    /// n-th replaces the n-th resolver of the file, the built-in one's
    /// 127.0.0.1:1053 and 127.0.1.1:1053; any more are added).
    #[arg(long, value_name = "ADDR:PORT")]
    pub resolver: Vec<SocketAddr>,
    /// Log every query every server receives, one line each at debug level
    /// (RUST_LOG=debug shows them; the default, beside the walk).
    #[arg(long, overrides_with = "no_log_queries")]
    pub log_queries: bool,
    /// Do not log queries.
    #[arg(long, overrides_with = "log_queries")]
    pub no_log_queries: bool,
    /// Only check the topology: exit 0 when clean, 1 with every problem.
    #[arg(long)]
    pub check: bool,
    /// Where to serve the live page of the walk, /metrics and the control
    /// API (`dnslab ctl`).
    #[arg(long, value_name = "ADDR:PORT", default_value = dnslab::live::DEFAULT_WEB)]
    pub web: SocketAddr,
    /// Serve no web page.
    #[arg(long)]
    pub no_web: bool,
    /// Print nothing per lookup (the walk is printed by default).
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: UpArgs) -> ExitCode {
    // Keeps the built-in files on disk until we exit.
    let mut _default = None;
    let path = match &args.topology {
        Some(path) => path.clone(),
        None => match DefaultTopology::write() {
            Ok(written) => _default.insert(written).path(),
            Err(e) => {
                eprintln!("dnslab up: cannot write the built-in topology to a temp dir: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let shown = args
        .topology
        .as_ref()
        .map_or("the built-in topology".to_string(), |p| {
            p.display().to_string()
        });
    let mut topology = match topology::load(&path) {
        Ok(topology) => topology,
        Err(problems) => {
            eprintln!(
                "dnslab up: {} problem(s) in {shown}:\n{problems}",
                problems.0.len()
            );
            return ExitCode::FAILURE;
        }
    };
    if let Some(port) = args.port {
        // Port 0 is refused by `topology::start`.
        topology.port = port;
    }
    for (at, address) in args.resolver.iter().enumerate() {
        match topology.resolvers.get_mut(at) {
            Some(resolver) => resolver.address = *address,
            None => topology.resolvers.push(LocalResolver {
                name: format!("resolver {}", at + 1),
                address: *address,
                ecs: false,
                rrset_order: RrsetOrder::default(),
                forward_zones: Vec::new(),
                stub_zones: Vec::new(),
                line: 0,
            }),
        }
    }
    let overridden = topology::check_resolvers(&topology);
    if !overridden.is_empty() {
        let problems = Problems(overridden);
        eprintln!("dnslab up: the resolvers as given:\n{problems}");
        return ExitCode::FAILURE;
    }
    if args.check {
        let zones: usize = topology.servers.iter().map(|s| s.zones.len()).sum();
        println!(
            "{shown}: OK ({} servers, {zones} zones, {} resolvers; every delegation checked)",
            topology.servers.len(),
            topology.resolvers.len()
        );
        return ExitCode::SUCCESS;
    }
    if args.log_queries || args.no_log_queries {
        topology.log_queries = args.log_queries;
    }
    let web = (!args.no_web).then_some(args.web);
    let quiet = args.quiet;
    let registrations = topology::registrar::registrations(&topology);
    let examples: Vec<String> = match args.topology {
        None => EXAMPLES.iter().map(|e| e.to_string()).collect(),
        Some(_) => deepest_zone(&topology).into_iter().collect(),
    };
    // What to ask every other local DNS server too: the CDN's story for
    // the built-in topology (each ISP gets its own cluster).
    let every: Vec<String> = match args.topology {
        None => EXAMPLES_EVERY_RESOLVER
            .iter()
            .map(|e| e.to_string())
            .collect(),
        Some(_) => examples.iter().take(1).cloned().collect(),
    };

    super::block_on("up", async {
        // Installed before anything starts, so SIGTERM during start-up
        // stops the hierarchy once it is up rather than killing it.
        let stop = match super::stop_signal("up") {
            Ok(stop) => stop,
            Err(code) => return code,
        };
        let hierarchy = match topology::start(&topology).await {
            Ok(hierarchy) => hierarchy,
            Err(e) => {
                eprintln!("dnslab up: {e}");
                return ExitCode::FAILURE;
            }
        };
        let web = match web {
            Some(addr) => match super::WebServer::bind("up", addr, hierarchy.web()).await {
                Ok(web) => Some(web),
                Err(code) => {
                    let _ = hierarchy.stop().await;
                    return code;
                }
            },
            None => None,
        };
        let url = web.as_ref().map(super::WebServer::url);
        print_table(&hierarchy, &examples, &every, url.clone());
        print_registrations(&hierarchy, &registrations, url.as_deref());
        println!("Ctrl-C stops every server.");
        // The walk and the zone events on the terminal: subscribed before
        // any question or reload can come.
        let printer = (!quiet).then(|| {
            let names = hierarchy
                .resolvers
                .iter()
                .map(|r| (r.address.to_string(), r.name.clone()))
                .collect();
            (
                printer::spawn(&hierarchy.bus, names),
                printer::spawn_zones(&hierarchy.zone_log),
            )
        });
        let (stop_web, web_stopped) = tokio::sync::watch::channel(false);
        let web = web.map(|web| web.spawn(web_stopped));
        // SIGHUP: every server re-reads its zone files; primaries with a
        // new serial NOTIFY their secondaries, which follow.
        let reloader = hierarchy.reloader();
        match signal(SignalKind::hangup()) {
            Ok(mut hangup) => {
                tokio::spawn(async move {
                    while hangup.recv().await.is_some() {
                        info!("SIGHUP: reloading every server's zones");
                        let reloader = reloader.clone();
                        let _ = tokio::task::spawn_blocking(move || reloader.reload()).await;
                    }
                });
            }
            Err(e) => eprintln!("dnslab up: cannot install the SIGHUP handler (no reload): {e}"),
        }
        stop.await;
        eprintln!("dnslab up: stopping");
        if let Some((walks, zones)) = printer {
            walks.abort();
            zones.abort();
        }
        let _ = stop_web.send(true);
        if let Some(web) = web {
            if let Ok(Err(e)) = web.await {
                eprintln!("dnslab up: {e}");
            }
        }
        match hierarchy.stop().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("dnslab up: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// For a user's topology, the apex of its deepest zone is the one name we
/// know exists (its SOA).
fn deepest_zone(topology: &Topology) -> Option<String> {
    topology
        .servers
        .iter()
        .flat_map(|s| &s.zones)
        .max_by_key(|z| z.origin.num_labels())
        .map(|z| format!("{} SOA", z.origin))
}

fn print_table(hierarchy: &Hierarchy, examples: &[String], every: &[String], url: Option<String>) {
    println!("{:<22} {:<28} ZONES", "ADDRESS", "SERVER");
    for server in &hierarchy.servers {
        let zones: Vec<String> = server.zones.iter().map(ToString::to_string).collect();
        println!(
            "{:<22} {:<28} {}",
            // Name's Display ignores width: pad its string.
            server.address.to_string(),
            server.name.to_string(),
            zones.join(" ")
        );
    }
    for local in &hierarchy.resolvers {
        println!(
            "{:<22} {:<28} (local DNS server: a recursive resolver with its own cache)",
            local.address.to_string(),
            local.name
        );
    }
    let resolver = hierarchy.resolver;
    println!();
    let first = hierarchy
        .resolvers
        .first()
        .map_or("resolver", |r| r.name.as_str());
    println!("Ask the {first}:");
    for example in examples {
        println!("  dig @{} -p {} {example}", resolver.ip(), resolver.port());
    }
    if let Some(first) = examples.first() {
        let name = first.split_whitespace().next().unwrap_or(first);
        println!(
            "  nslookup -port={} {name} {}",
            resolver.port(),
            resolver.ip()
        );
        if let Some(root) = hierarchy
            .servers
            .iter()
            .find(|s| s.zones.iter().any(|z| z.is_root()))
        {
            println!("Or walk it yourself, one server at a time, starting at the root:");
            println!(
                "  dig @{} -p {} +norec {name}",
                root.address.ip(),
                root.address.port()
            );
        }
    }
    for other in hierarchy.resolvers.iter().skip(1) {
        println!(
            "Ask the {} too (its own cache, its own address):",
            other.name
        );
        for example in every {
            let address = other.address;
            println!("  dig @{} -p {} {example}", address.ip(), address.port());
        }
    }
    if let Some(url) = url {
        println!("Watch each lookup drawn as the textbook's figure: {url}");
    }
}

/// The registrar's story, for each zone served but not yet delegated: the
/// question that fails, the UPDATE that registers the zone with its
/// parent (as an nsupdate script with its key file), and the question
/// again.
fn print_registrations(hierarchy: &Hierarchy, registrations: &[Registration], url: Option<&str>) {
    let resolver = hierarchy.resolver;
    for registration in registrations {
        let Some((_, key_file)) = hierarchy
            .key_files
            .iter()
            .find(|(name, _)| *name == registration.key)
        else {
            continue;
        };
        let ask = format!(
            "dig @{} -p {} {}",
            resolver.ip(),
            resolver.port(),
            registration.example
        );
        println!();
        println!(
            "Register {} with {}, as a registrar does (an UPDATE to the {} server, RFC 2136):",
            registration.zone, registration.parent, registration.parent
        );
        println!("  {ask:<52} # NXDOMAIN: not delegated yet");
        println!("  nsupdate -k {} <<'EOF'", key_file.display());
        for line in registration.nsupdate_script().lines() {
            println!("  {line}");
        }
        println!("  EOF");
        match url {
            Some(url) => {
                let url = url.trim_end_matches('/');
                let server = match url == format!("http://{}", dnslab::live::DEFAULT_WEB) {
                    true => String::new(),
                    false => format!(" --server {url}"),
                };
                let flush = format!("dnslab ctl{server} flush-zone {}", registration.zone);
                println!("  {flush:<52} # the resolver forgets its NXDOMAIN");
            }
            None => println!("  (the resolver keeps its NXDOMAIN for the SOA's negative TTL)"),
        }
        println!(
            "  {ask:<52} # found: {} now refers to its servers",
            registration.parent
        );
    }
}
