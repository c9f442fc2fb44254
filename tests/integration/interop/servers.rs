//! Servers as child processes: dnslab from the test build, Knot and NSD
//! with configs written like the anchor lab's lib.sh, each on 127.0.0.1 and
//! a random port, each stopped by PID (with everything it forked) on drop.

use std::fmt;
use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};

use super::ZoneFile;
use crate::common::{self, free_port, read_logs, Ask, Daemon, ScratchDir};

/// The DNS servers this module runs side by side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Dnslab,
    Knot,
    Nsd,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Dnslab => "dnslab",
            Kind::Knot => "knot",
            Kind::Nsd => "nsd",
        })
    }
}

/// A running authoritative server. Field order matters: the process is
/// stopped before its scratch directory is removed.
pub(super) struct Server {
    pub(super) kind: Kind,
    pub(super) addr: SocketAddr,
    _daemon: Daemon,
    _dir: ScratchDir,
}

impl Server {
    /// Starts `kind` on 127.0.0.1 serving `zones`, and waits until it answers
    /// SOA of the first zone authoritatively. Panics with the server's log if
    /// it never does.
    pub(super) fn start(kind: Kind, program: &Path, zones: &[ZoneFile]) -> Server {
        const ATTEMPTS: usize = 3;
        let mut last_log = String::new();
        for _ in 0..ATTEMPTS {
            let dir = ScratchDir::new(&format!("interop-{kind}"));
            let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
            let mut command = Server::command(kind, program, zones, addr, &dir);
            let log = dir.join("out.log");
            let out = fs::File::create(&log).expect("create log file");
            let err = out.try_clone().expect("clone log file");
            command.stdin(Stdio::null()).stdout(out).stderr(err);
            let mut daemon = Daemon::spawn(&mut command);
            if wait_ready(&mut daemon, addr, &zones[0].origin) {
                return Server {
                    kind,
                    addr,
                    _daemon: daemon,
                    _dir: dir,
                };
            }
            drop(daemon);
            last_log = read_logs(&dir);
        }
        panic!(
            "{kind} did not answer SOA {} authoritatively; its log:\n{last_log}",
            zones[0].origin
        );
    }

    /// The command line that starts `kind`, with config files (for the
    /// peers, as the anchor lab's lib.sh writes them) in `dir`.
    fn command(
        kind: Kind,
        program: &Path,
        zones: &[ZoneFile],
        addr: SocketAddr,
        dir: &Path,
    ) -> Command {
        let mut command = Command::new(program);
        match kind {
            Kind::Dnslab => {
                command.args(["auth", "--listen", &addr.to_string()]);
                for zone in zones {
                    command
                        .arg("--zone")
                        .arg(format!("{}={}", zone.origin, zone.path.display()));
                }
            }
            Kind::Knot => {
                let conf = dir.join("knot.conf");
                fs::write(&conf, knot_config(zones, addr, dir)).expect("write knot.conf");
                command.arg("-c").arg(conf);
            }
            Kind::Nsd => {
                let conf = dir.join("nsd.conf");
                fs::write(&conf, nsd_config(zones, addr, dir)).expect("write nsd.conf");
                command.arg("-d").arg("-c").arg(conf);
            }
        }
        command
    }
}

/// Knot with one worker, no journal, the zone files as they are.
fn knot_config(zones: &[ZoneFile], addr: SocketAddr, dir: &Path) -> String {
    let d = dir.display();
    let head = format!(
        "server:\n    rundir: \"{d}\"\n    listen: {ip}@{port}\n    udp-workers: 1\n    tcp-workers: 1\n    background-workers: 1\n\
         database:\n    storage: \"{d}\"\n\
         log:\n  - target: \"{d}/knot.log\"\n    any: info\n\
         template:\n  - id: default\n    storage: \"{d}\"\n    semantic-checks: off\n    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n\
         zone:\n",
        ip = addr.ip(),
        port = addr.port()
    );
    with_zones(
        head,
        zones,
        "  - domain: \"{origin}\"\n    file: \"{file}\"\n",
    )
}

/// NSD in the foreground without chroot or database. Debian builds NSD with
/// response-rate limiting, which would drop a burst of test queries: off.
fn nsd_config(zones: &[ZoneFile], addr: SocketAddr, dir: &Path) -> String {
    let d = dir.display();
    let head = format!(
        "server:\n    ip-address: {ip}@{port}\n    do-ip6: no\n    server-count: 1\n    username: \"\"\n    chroot: \"\"\n    database: \"\"\n\
         \x20   zonelistfile: \"{d}/zone.list\"\n    xfrdfile: \"{d}/xfrd.state\"\n    xfrdir: \"{d}\"\n    pidfile: \"{d}/nsd.pid\"\n    logfile: \"{d}/nsd.log\"\n\
         \x20   verbosity: 1\n    refuse-any: no\n    reuseport: no\n    rrl-ratelimit: 0\n    rrl-whitelist-ratelimit: 0\n\
         remote-control:\n    control-enable: no\n",
        ip = addr.ip(),
        port = addr.port()
    );
    with_zones(
        head,
        zones,
        "zone:\n    name: \"{origin}\"\n    zonefile: \"{file}\"\n",
    )
}

/// A peer's config: `head`, then `entry` once per zone with `{origin}` and
/// `{file}` filled in.
fn with_zones(mut conf: String, zones: &[ZoneFile], entry: &str) -> String {
    for zone in zones {
        let file = zone.path.display().to_string();
        conf.push_str(
            &entry
                .replace("{origin}", &zone.origin)
                .replace("{file}", &file),
        );
    }
    conf
}

/// Polls SOA of `origin` until an authoritative NOERROR answer arrives
/// (true), the process exits, or 20 s pass (false).
fn wait_ready(daemon: &mut Daemon, addr: SocketAddr, origin: &str) -> bool {
    let query = Ask::new(origin, RecordType::SOA).to_message();
    daemon
        .process
        .poll(Duration::from_secs(20), || {
            let msg = exchange(addr, &query, Transport::Udp, Duration::from_millis(200)).ok()?;
            (msg.metadata.authoritative && msg.metadata.response_code == ResponseCode::NoError)
                .then_some(())
        })
        .is_some()
}

/// How a query travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Transport {
    Udp,
    /// A fresh connection per query, as after a truncated UDP answer
    /// (RFC 7766 5).
    Tcp,
}

/// One query; the decoded reply, or why there is none. Unlike `common::udp`
/// and `common::tcp` it does not panic, so that the differential can report
/// a server that stays silent as one difference among the others.
pub(super) fn exchange(
    addr: SocketAddr,
    query: &Message,
    transport: Transport,
    timeout: Duration,
) -> Result<Message, String> {
    let bytes = query.to_bytes().expect("encode query");
    let reply = match transport {
        Transport::Udp => common::udp_raw(addr, &bytes, timeout)
            .ok_or_else(|| format!("no UDP answer within {timeout:?}"))?,
        Transport::Tcp => {
            let mut stream = TcpStream::connect_timeout(&addr, timeout)
                .map_err(|e| format!("TCP connect: {e}"))?;
            stream
                .set_read_timeout(Some(timeout))
                .map_err(|e| format!("TCP timeout: {e}"))?;
            common::tcp_send(&mut stream, &bytes);
            common::tcp_recv(&mut stream).map_err(|e| format!("no TCP answer: {e}"))?
        }
    };
    let msg = Message::from_bytes(&reply).map_err(|e| format!("undecodable reply: {e}"))?;
    if msg.metadata.id != query.metadata.id {
        return Err(format!(
            "reply ID {} for query ID {}",
            msg.metadata.id, query.metadata.id
        ));
    }
    Ok(msg)
}

pub(super) fn start_dnslab(zones: &[ZoneFile]) -> Server {
    Server::start(Kind::Dnslab, Path::new(env!("CARGO_BIN_EXE_dnslab")), zones)
}
