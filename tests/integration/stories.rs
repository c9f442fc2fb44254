//! The textbook's stories that need more than one fixed answer: load
//! distribution (every multi-record RRset rotates, in the authoritative
//! server and in the resolver's answers from its cache, `rotation`), and
//! answers that depend on who asks (a zone's views chosen by the asking
//! resolver's address or by EDNS Client Subnet, `views`), both as the
//! configuration of `dnslab auth --config` gives them (`auth_config`).
//!
//! A small hierarchy runs in-process on 127.0.55.x, one random port: the
//! root (127.0.55.1), and 127.0.55.2 serving `test.` and `cdn.test.`,
//! whose `a1105` has views. Clients and resolvers ask from addresses of
//! their own in 127.0.0.0/8: the east (127.0.0.0/24), the west
//! (127.0.1.0/24), elsewhere in the lab (127.0.0.0/16), or nowhere known.

use std::fs;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use dnslab_authoritative::{
    AuthConfig, AuthOptions, AuthServer, View, ViewData, ViewRecords, ZoneConfig, ZoneSource,
};
use dnslab_resolver::{Resolver, ResolverConfig};
use dnslab_transport::{Server, ServerConfig, TransportError};
use dnslab_wire::RrsetOrder;
use hickory_proto::op::Message;
use hickory_proto::rr::{RData, RecordType};
use tokio::runtime::Runtime;

use crate::common::{
    name, on_a_random_port, serve, test_runtime, udp_from, Ask, Running, ScratchDir, ServedAuth,
};

mod auth_config;
mod rotation;
mod views;

/// The root zone: `test.` is delegated to 127.0.55.2.
const ROOT: &str = "$TTL 3600
. SOA ns.root. admin.root. 1 3600 600 86400 300
. NS ns.root.
ns.root. A 127.0.55.1
test. NS ns.test.
ns.test. A 127.0.55.2
";

/// `test.`: three replicas of www (load distribution), a video name that
/// hands over to the CDN's zone, and the CDN's delegation.
const TEST: &str = "$TTL 60
@ SOA ns admin 1 3600 600 86400 60
@ NS ns
ns A 127.0.55.2
www A 192.0.2.1
www A 192.0.2.2
www A 192.0.2.3
video CNAME a1105.cdn.test.
cdn NS ns
";

/// `cdn.test.`: what a client nobody placed gets.
const CDN: &str = "$TTL 60
@ SOA ns.test. admin.test. 1 3600 600 86400 60
@ NS ns.test.
a1105 A 198.51.100.100
edge A 198.51.100.200
";

/// The west view's own master file of `cdn.test.`.
const CDN_WEST: &str = "$TTL 60
@ SOA ns.test. admin.test. 1 3600 600 86400 60
@ NS ns.test.
a1105 A 198.51.100.2
edge A 198.51.100.200
";

/// Where the clients and resolvers of the stories ask from.
const EAST: [u8; 4] = [127, 0, 0, 1];
const WEST: [u8; 4] = [127, 0, 1, 1];
/// In the lab's 127.0.0.0/16 but neither east nor west.
const LAB: [u8; 4] = [127, 0, 2, 1];
/// In no view's prefix.
const NOWHERE: [u8; 4] = [127, 1, 0, 1];

fn ip(octets: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(octets))
}

/// The A address of `a1105.cdn.test.` for each client: east, west (from
/// its own file), the lab-wide view, and the zone's own data.
const EAST_A: &str = "198.51.100.1";
const WEST_A: &str = "198.51.100.2";
const LAB_A: &str = "198.51.100.16";
const NOBODY_A: &str = "198.51.100.100";

/// The story's zone files in a scratch directory.
struct Zones(ScratchDir);

impl Zones {
    fn write() -> Zones {
        let dir = ScratchDir::new("stories");
        for (file, text) in [
            ("root.zone", ROOT),
            ("test.zone", TEST),
            ("cdn.zone", CDN),
            ("cdn-west.zone", CDN_WEST),
        ] {
            fs::write(dir.join(file), text).expect("write zone");
        }
        Zones(dir)
    }

    fn source(&self, origin: &str, file: &str) -> ZoneSource {
        ZoneSource {
            origin: Some(name(origin)),
            path: self.0.join(file),
        }
    }

    /// `cdn.test.` with its three views: east and lab as records replacing
    /// a1105's, west as a master file of its own.
    fn cdn(&self) -> ZoneConfig {
        let records = |address: &str| {
            ViewData::Records(vec![ViewRecords {
                owner: "a1105".to_string(),
                records: vec![format!("A {address}")],
            }])
        };
        let view = |name: &str, prefix: &str, data| View {
            name: name.to_string(),
            clients: vec![prefix.parse().expect("prefix")],
            data,
        };
        ZoneConfig {
            views: vec![
                view("east", "127.0.0.0/24", records(EAST_A)),
                view(
                    "west",
                    "127.0.1.0/24",
                    ViewData::File(self.0.join("cdn-west.zone")),
                ),
                view("lab", "127.0.0.0/16", records(LAB_A)),
            ],
            ..ZoneConfig::primary(self.source("cdn.test.", "cdn.zone"))
        }
    }

    /// `test.`, in `order` (the server's when `None`).
    fn test(&self, order: Option<RrsetOrder>) -> ZoneConfig {
        ZoneConfig {
            rrset_order: order,
            ..ZoneConfig::primary(self.source("test.", "test.zone"))
        }
    }

    /// The zones of 127.0.55.2: `test.` (in `order`) and `cdn.test.`.
    fn cdn_server(&self, order: Option<RrsetOrder>) -> Vec<ZoneConfig> {
        vec![self.test(order), self.cdn()]
    }
}

/// The configuration of a server of `zones` answering with `options`.
fn config(zones: Vec<ZoneConfig>, options: AuthOptions) -> AuthConfig {
    AuthConfig {
        zones,
        ..AuthConfig::primaries(Vec::new(), options)
    }
}

/// A server of `zones` on 127.0.0.1 (port 0), answering with `options`.
fn served(zones: Vec<ZoneConfig>, options: AuthOptions) -> ServedAuth {
    ServedAuth::from_config(config(zones, options))
}

/// The story's hierarchy on one random port.
struct Lab {
    port: u16,
    _runtime: Runtime,
    _zones: Zones,
}

impl Lab {
    /// The hierarchy, 127.0.55.2 answering with `options` (its ECS
    /// setting) and `test.` in `order` (the server's when `None`).
    fn start(options: AuthOptions, order: Option<RrsetOrder>) -> Lab {
        let zones = Zones::write();
        let root = vec![ZoneConfig::primary(zones.source(".", "root.zone"))];
        let servers = [
            (1, root, AuthOptions::default()),
            (2, zones.cdn_server(order), options),
        ];
        let (port, bound) = on_a_random_port("the stories' hierarchy", |port| {
            let mut bound = Vec::new();
            for (last, served, options) in &servers {
                let config = config(served.clone(), options.clone());
                let auth = AuthServer::new(config).expect("zones load");
                let mut config = ServerConfig::new(vec![server(*last, port)]);
                config.udp_workers = 1;
                match Server::bind(config) {
                    Ok(server) => bound.push((server, auth.handler())),
                    Err(TransportError::Bind { source, .. })
                        if source.kind() == std::io::ErrorKind::AddrInUse =>
                    {
                        return None
                    }
                    Err(e) => panic!("cannot start the stories' hierarchy: {e}"),
                }
            }
            Some((port, bound))
        });
        let runtime = test_runtime();
        for (server, handler) in bound {
            runtime.spawn(server.run(handler, std::future::pending()));
        }
        Lab {
            port,
            _runtime: runtime,
            _zones: zones,
        }
    }

    fn server(&self, last: u8) -> SocketAddr {
        server(last, self.port)
    }

    /// A resolver of the lab on `listen` (port 0), asking from its own
    /// address, configured by `adjust`.
    fn resolver(&self, listen: [u8; 4], adjust: impl FnOnce(&mut ResolverConfig)) -> LabResolver {
        let mut config = ResolverConfig {
            root_hints: vec![(name("ns.root."), ip([127, 0, 55, 1]))],
            upstream_port: self.port,
            source_address: Some(ip(listen)),
            ..ResolverConfig::default()
        };
        adjust(&mut config);
        let resolver = Resolver::new(config);
        let mut listening = ServerConfig::new(vec![SocketAddr::new(ip(listen), 0)]);
        listening.udp_workers = 1;
        let running = serve(resolver.handler(), listening);
        LabResolver {
            addr: running.addr,
            resolver,
            _running: running,
        }
    }
}

fn server(last: u8, port: u16) -> SocketAddr {
    SocketAddr::new(ip([127, 0, 55, last]), port)
}

/// A resolver of the lab, serving until dropped.
struct LabResolver {
    addr: SocketAddr,
    resolver: Resolver,
    _running: Running,
}

impl LabResolver {
    fn upstream_queries(&self) -> u64 {
        self.resolver.stats().upstream_queries
    }
}

/// Asks `server` for `qname` A (RD=1) from `source`.
fn ask_from(source: [u8; 4], server: SocketAddr, qname: &str) -> Message {
    udp_from(
        ip(source),
        server,
        &Ask::new(qname, RecordType::A).rd().to_message(),
    )
}

/// The A addresses of an answer, in its order.
fn addresses(msg: &Message) -> Vec<String> {
    msg.answers
        .iter()
        .filter_map(|record| match &record.data {
            RData::A(a) => Some(a.0.to_string()),
            _ => None,
        })
        .collect()
}
