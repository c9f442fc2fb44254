//! dnslab with NSD, Knot and BIND as its secondaries and primaries: each
//! peer started by the test on 127.0.0.1 and a free port, with a
//! configuration the test writes in a scratch directory, stopped by PID;
//! dnslab as the `dnslab auth` binary, configured by its flags as a user
//! would.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use hickory_proto::op::Message;
use hickory_proto::rr::RecordType;

use crate::common::{free_port, read_logs, require, udp_message, Ask, Daemon};

/// dnslab as the primary of NSD, Knot and BIND.
mod as_primary;
/// dnslab as the secondary of Knot and NSD.
mod as_secondary;

/// The transfer key every peer test shares (hmac-sha256, 32 octets), as
/// `tsig-keygen xfr` writes one.
pub const KEY_NAME: &str = "xfr";
pub const KEY_SECRET: &str = "Vf7xgcI5X4o8n2IIdQpc6xFyqQ7D6gD3OPH+/RYdb6k=";

/// How long a peer may take to start and copy a zone on a loaded
/// two-core machine.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Writes the shared key as a BIND key file, for `dnslab auth --tsig-key`.
pub fn write_key_file(dir: &Path) -> PathBuf {
    let path = dir.join("xfr.key");
    let key = dnslab_tsig::Key::from_text(KEY_NAME, "hmac-sha256", KEY_SECRET).expect("the key");
    std::fs::write(&path, key.to_key_file()).expect("write key file");
    path
}

/// A server answering on `addr`, any answer (REFUSED, SERVFAIL...): it is up.
fn answers(addr: SocketAddr) -> Option<()> {
    let query = Ask::new(".", RecordType::SOA).to_message();
    udp_message(addr, &query, Duration::from_millis(200)).map(|_: Message| ())
}

/// Starts `command` with its output in `log`, and waits until it answers
/// on `addr`; panics with the logs of `dir` if it never does.
fn start_logged(command: &mut Command, log: &Path, addr: SocketAddr, dir: &Path) -> Daemon {
    let out = std::fs::File::create(log).expect("create log");
    command
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("clone log"))
        .stderr(out);
    let mut daemon = Daemon::spawn(command);
    let up = daemon.process.poll(PATIENCE, || answers(addr));
    assert!(
        up.is_some(),
        "{:?} did not start; its logs:\n{}",
        command.get_program(),
        read_logs(dir)
    );
    // What answered may be another test's server that took the port
    // first, while this one fails to bind it: a moment later, that one
    // has exited, and the test says so rather than talk to a stranger.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        daemon.process.exited().is_none(),
        "{:?} exited after something answered on {addr} (the port taken?); its logs:\n{}",
        command.get_program(),
        read_logs(dir)
    );
    daemon
}

/// `dnslab auth` as a child process, its log in its scratch directory.
pub struct DnslabChild {
    pub addr: SocketAddr,
    daemon: Daemon,
    log: PathBuf,
}

impl DnslabChild {
    /// Starts `dnslab auth --listen ADDR ARGS...`, on `addr`, and waits
    /// until it answers.
    pub fn start(dir: &Path, addr: SocketAddr, args: &[String]) -> DnslabChild {
        let log = dir.join("dnslab.log");
        let mut command = crate::common::dnslab();
        command
            .args(["auth", "--listen", &addr.to_string(), "--udp-workers", "1"])
            .args(args)
            .env("RUST_LOG", "info");
        let daemon = start_logged(&mut command, &log, addr, dir);
        DnslabChild { addr, daemon, log }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGHUP: every master file reloaded.
    pub fn reload(&self) {
        self.daemon.process.signal("-HUP");
    }

    /// SIGKILL: the server dies at once, in the middle of whatever it was
    /// writing; returns once it has.
    pub fn kill(&mut self) {
        self.daemon.process.signal("-KILL");
        let died = self.daemon.process.wait_exit(Duration::from_secs(5));
        assert!(died.is_some(), "dnslab survived SIGKILL");
    }
}

/// The peer servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Knot,
    Nsd,
    Bind,
}

impl Kind {
    fn program(self) -> Option<PathBuf> {
        match self {
            Kind::Knot => require("knotd", "knot"),
            Kind::Nsd => require("nsd", "nsd"),
            Kind::Bind => require("named", "bind9"),
        }
    }
}

/// A zone as a peer is told about it.
pub struct PeerZone<'a> {
    pub origin: &'a str,
    /// A primary's master file; `None` for a secondary.
    pub file: Option<&'a Path>,
    /// A primary's secondary to NOTIFY.
    pub notify: Option<SocketAddr>,
}

/// A peer's role and the server on the other side.
pub enum Role {
    /// Copies its zones from `primary`, signing with the shared key when
    /// `signed`.
    Secondary { primary: SocketAddr, signed: bool },
    /// Serves its zones from files, to anyone on 127.0.0.1.
    Primary,
}

/// A running peer. Field order: the daemon stops before its directory
/// goes.
pub struct Peer {
    pub addr: SocketAddr,
    daemon: Daemon,
    dir: PathBuf,
}

impl Peer {
    /// Starts `kind` on `addr` with `zones`, in `dir`, once it answers;
    /// `None` when the program is not installed (a failure in CI).
    pub fn start(
        kind: Kind,
        dir: &Path,
        addr: SocketAddr,
        role: &Role,
        zones: &[PeerZone<'_>],
    ) -> Option<Peer> {
        let program = kind.program()?;
        let mut command = Command::new(program);
        let conf = match kind {
            Kind::Knot => dir.join("knot.conf"),
            Kind::Nsd => dir.join("nsd.conf"),
            Kind::Bind => dir.join("named.conf"),
        };
        let text = match kind {
            Kind::Knot => knot_config(dir, addr, role, zones),
            Kind::Nsd => nsd_config(dir, addr, role, zones),
            Kind::Bind => bind_config(dir, addr, role, zones),
        };
        std::fs::write(&conf, text).expect("write peer config");
        match kind {
            Kind::Knot => command.arg("-c").arg(&conf),
            Kind::Nsd => command.arg("-d").arg("-c").arg(&conf),
            Kind::Bind => command.arg("-f").arg("-c").arg(&conf),
        };
        let daemon = start_logged(&mut command, &dir.join("stdout.log"), addr, dir);
        Some(Peer {
            addr,
            daemon,
            dir: dir.to_path_buf(),
        })
    }

    /// Every log the peer wrote.
    pub fn logs(&self) -> String {
        read_logs(&self.dir)
    }

    /// SIGHUP: the peer reloads its zone files (Knot computes the
    /// difference from the version it served, for IXFR).
    pub fn reload(&self) {
        self.daemon.process.signal("-HUP");
    }
}

/// A free port on 127.0.0.1, as an address.
pub fn free_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_port()))
}

fn at(addr: SocketAddr, separator: &str) -> String {
    format!("{}{separator}{}", addr.ip(), addr.port())
}

/// Knot: one worker of each kind; a secondary keeps its copies and a
/// journal of changes in `dir`; a primary computes the difference of each
/// reloaded file (`zonefile-load: difference`) so that it serves IXFR.
fn knot_config(dir: &Path, addr: SocketAddr, role: &Role, zones: &[PeerZone<'_>]) -> String {
    let d = dir.display();
    let mut conf = format!(
        "server:\n    rundir: \"{d}\"\n    listen: {}\n    udp-workers: 1\n    tcp-workers: 1\n    background-workers: 1\n\
         database:\n    storage: \"{d}\"\n\
         log:\n  - target: \"{d}/knot.log\"\n    any: info\n\
         key:\n  - id: {KEY_NAME}\n    algorithm: hmac-sha256\n    secret: {KEY_SECRET}\n",
        at(addr, "@")
    );
    let mut remotes = String::new();
    let mut acl =
        "acl:\n  - id: transfer\n    address: 127.0.0.1\n    action: transfer\n".to_string();
    match role {
        Role::Secondary { primary, signed } => {
            let key = if *signed {
                format!("    key: {KEY_NAME}\n")
            } else {
                String::new()
            };
            remotes.push_str(&format!(
                "  - id: primary\n    address: {}\n{key}",
                at(*primary, "@")
            ));
            acl.push_str(&format!(
                "  - id: notify\n    address: 127.0.0.1\n    action: notify\n{key}"
            ));
        }
        Role::Primary => {}
    }
    for (i, zone) in zones.iter().enumerate() {
        if let Some(secondary) = zone.notify {
            remotes.push_str(&format!(
                "  - id: secondary{i}\n    address: {}\n",
                at(secondary, "@")
            ));
        }
    }
    if !remotes.is_empty() {
        conf.push_str("remote:\n");
        conf.push_str(&remotes);
    }
    conf.push_str(&acl);
    conf.push_str(&format!(
        "template:\n  - id: default\n    storage: \"{d}\"\n    semantic-checks: off\n    zonefile-sync: -1\n    zonefile-load: difference\n    journal-content: changes\n\
         zone:\n"
    ));
    for (i, zone) in zones.iter().enumerate() {
        conf.push_str(&format!("  - domain: \"{}\"\n", zone.origin));
        match (zone.file, role) {
            (Some(file), _) => conf.push_str(&format!(
                "    file: \"{}\"\n    acl: transfer\n",
                file.display()
            )),
            (None, _) => conf.push_str("    master: primary\n    acl: [notify, transfer]\n"),
        }
        if zone.notify.is_some() {
            conf.push_str(&format!("    notify: secondary{i}\n"));
        }
    }
    conf
}

/// NSD in the foreground without chroot or database; a secondary asks its
/// primary (IXFR, then AXFR) and accepts its NOTIFY.
fn nsd_config(dir: &Path, addr: SocketAddr, role: &Role, zones: &[PeerZone<'_>]) -> String {
    let d = dir.display();
    let mut conf = format!(
        "server:\n    ip-address: {}\n    do-ip6: no\n    server-count: 1\n    username: \"\"\n    chroot: \"\"\n    database: \"\"\n\
         \x20   zonesdir: \"{d}\"\n    zonelistfile: \"{d}/zone.list\"\n    xfrdfile: \"{d}/xfrd.state\"\n    xfrdir: \"{d}\"\n\
         \x20   pidfile: \"{d}/nsd.pid\"\n    logfile: \"{d}/nsd.log\"\n    verbosity: 2\n    reuseport: no\n    rrl-ratelimit: 0\n\
         remote-control:\n    control-enable: no\n\
         key:\n    name: \"{KEY_NAME}\"\n    algorithm: hmac-sha256\n    secret: \"{KEY_SECRET}\"\n",
        at(addr, "@")
    );
    for zone in zones {
        conf.push_str(&format!(
            "zone:\n    name: \"{}\"\n    provide-xfr: 127.0.0.1 NOKEY\n",
            zone.origin
        ));
        match (zone.file, role) {
            (Some(file), _) => conf.push_str(&format!("    zonefile: \"{}\"\n", file.display())),
            (None, Role::Secondary { primary, signed }) => {
                let key = if *signed { KEY_NAME } else { "NOKEY" };
                conf.push_str(&format!(
                    "    zonefile: \"{}.zone\"\n    request-xfr: {} {key}\n    allow-notify: 127.0.0.1 {key}\n",
                    zone.origin.trim_end_matches('.'),
                    at(*primary, "@")
                ));
            }
            (None, Role::Primary) => {}
        }
        if let Some(secondary) = zone.notify {
            conf.push_str(&format!("    notify: {} NOKEY\n", at(secondary, "@")));
        }
    }
    conf
}

/// BIND as a secondary (the only role the tests give it): logs to a file,
/// no recursion, no control channel, no NOTIFY of its own.
fn bind_config(dir: &Path, addr: SocketAddr, role: &Role, zones: &[PeerZone<'_>]) -> String {
    let d = dir.display();
    let mut conf = format!(
        "options {{\n    directory \"{d}\";\n    listen-on port {} {{ {}; }};\n    listen-on-v6 {{ none; }};\n\
         \x20   pid-file \"{d}/named.pid\";\n    managed-keys-directory \"{d}\";\n    recursion no;\n    dnssec-validation no;\n    notify no;\n}};\n\
         controls {{ }};\n\
         key \"{KEY_NAME}\" {{ algorithm hmac-sha256; secret \"{KEY_SECRET}\"; }};\n\
         logging {{\n    channel file {{ file \"{d}/named.log\"; severity info; print-time yes; }};\n\
         \x20   category default {{ file; }};\n    category xfer-in {{ file; }};\n    category notify {{ file; }};\n}};\n",
        addr.port(),
        addr.ip()
    );
    if let Role::Secondary { primary, signed } = role {
        let key = if *signed {
            format!(" key {KEY_NAME}")
        } else {
            String::new()
        };
        for zone in zones {
            conf.push_str(&format!(
                "zone \"{}\" {{\n    type secondary;\n    primaries port {} {{ {}{key}; }};\n    file \"{}.bk\";\n\
                 \x20   allow-notify {{ 127.0.0.1; }};\n    allow-transfer {{ 127.0.0.1; }};\n}};\n",
                zone.origin,
                primary.port(),
                primary.ip(),
                zone.origin.trim_end_matches('.')
            ));
        }
    }
    conf
}
