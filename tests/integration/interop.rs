//! Interoperability: `dig` and `nslookup` against the real `dnslab auth`
//! binary, and a differential test of dnslab against Knot DNS and NSD
//! serving the same zone files.
//!
//! Every server here is a child process on 127.0.0.1 and a port picked at
//! random (retried if the server cannot bind it), stopped by its PID when the
//! test's guard is dropped, so a failing assertion never leaves one running.
//! Tools that are missing (dig, knotd, nsd) make a test print `SKIPPED: ...`
//! and pass: CI installs them (see `.ci/run`), a developer laptop may not.
//!
//! The zones in `tests/data/interop/` are copies of the anchor lab's
//! `com.`, `example.com.` and `example.org.` (the lab is not part of this
//! repository), plus `large.test.`, an RRset too big for UDP.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};

use crate::common::{self, Ask};

// ------------------------------------------------------------ the zones ---

/// A zone as given to every server: its origin and its master file.
#[derive(Clone, Debug)]
struct ZoneFile {
    origin: String,
    path: PathBuf,
}

impl ZoneFile {
    fn new(origin: &str, path: PathBuf) -> Self {
        ZoneFile {
            origin: origin.to_string(),
            path,
        }
    }
}

/// The lab's zones (copied into tests/data/interop) plus `large.test.`.
fn lab_zones() -> Vec<ZoneFile> {
    ["com.", "example.com.", "example.org.", "large.test."]
        .iter()
        .map(|origin| {
            let file = format!("tests/data/interop/{}zone", origin);
            ZoneFile::new(origin, common::repo_path(&file))
        })
        .collect()
}

/// The zones shipped in `zones/` (`zones/<origin>.zone`; subdirectories such
/// as `zones/default/` belong to `dnslab up` and are not included).
fn shipped_zones() -> Vec<ZoneFile> {
    let Ok(dir) = fs::read_dir(common::repo_path("zones")) else {
        return Vec::new();
    };
    let mut zones: Vec<ZoneFile> = dir
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter_map(|path| {
            let stem = path
                .file_name()?
                .to_str()?
                .strip_suffix(".zone")?
                .to_string();
            path.is_file()
                .then(|| ZoneFile::new(&format!("{stem}."), path))
        })
        .collect();
    zones.sort_by(|a, b| a.origin.cmp(&b.origin));
    zones
}

// -------------------------------------------------------------- programs ---

/// The full path of an installed program, looked up in PATH and in the
/// sbin directories (knotd and nsd live in /usr/sbin, which a non-root PATH
/// may lack).
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The program, or `None` after printing why the test is skipped.
fn require(program: &str, package: &str) -> Option<PathBuf> {
    let found = find_program(program);
    if found.is_none() {
        eprintln!("SKIPPED: {program} not installed (apt-get install {package})");
    }
    found
}

/// A scratch directory for one server's config and log, removed on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(what: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "dnslab-interop-{}-{}-{n}",
            std::process::id(),
            what
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create scratch dir");
        ScratchDir(dir)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A child process and everything it forked (NSD forks twice), stopped by
/// PID on drop: TERM, up to 10 s for the whole tree to exit, then KILL.
struct Daemon {
    child: Child,
}

impl Daemon {
    /// PIDs of the process and all its descendants, from /proc.
    fn tree(pid: u32) -> Vec<u32> {
        let mut pids = vec![pid];
        let mut i = 0;
        while let Some(&p) = pids.get(i) {
            if let Ok(tasks) = fs::read_dir(format!("/proc/{p}/task")) {
                for task in tasks.flatten() {
                    let children =
                        fs::read_to_string(task.path().join("children")).unwrap_or_default();
                    pids.extend(
                        children
                            .split_whitespace()
                            .filter_map(|c| c.parse::<u32>().ok()),
                    );
                }
            }
            i += 1;
        }
        pids
    }

    /// True while the process exists and is not a zombie.
    fn running(pid: u32) -> bool {
        match fs::read_to_string(format!("/proc/{pid}/status")) {
            Ok(status) => !status
                .lines()
                .any(|l| l.starts_with("State:") && l.contains('Z')),
            Err(_) => false,
        }
    }

    fn signal(pid: u32, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, &pid.to_string()])
            .stderr(Stdio::null())
            .status();
    }

    fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let tree = Daemon::tree(self.child.id());
        Daemon::signal(self.child.id(), "-TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let _ = self.child.try_wait(); // reap our direct child
            if !tree.iter().any(|&p| Daemon::running(p)) || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for &pid in tree.iter().filter(|&&p| Daemon::running(p)) {
            Daemon::signal(pid, "-KILL");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The DNS servers this module runs side by side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
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
struct Server {
    kind: Kind,
    addr: SocketAddr,
    _daemon: Daemon,
    _dir: ScratchDir,
}

/// A port that is free for both UDP and TCP on 127.0.0.1 right now. The
/// server binds it a moment later; if someone else took it meanwhile the
/// server fails to start and `Server::start` tries another one.
fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp port 0");
        let port = udp.local_addr().expect("local addr").port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

impl Server {
    /// Starts `kind` on 127.0.0.1 serving `zones`, and waits until it answers
    /// SOA of the first zone authoritatively. Panics with the server's log if
    /// it never does.
    fn start(kind: Kind, program: &Path, zones: &[ZoneFile]) -> Server {
        const ATTEMPTS: usize = 3;
        let mut last_log = String::new();
        for _ in 0..ATTEMPTS {
            let dir = ScratchDir::new(&kind.to_string());
            let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
            let mut command = Server::command(kind, program, zones, addr, &dir.0);
            let log = dir.0.join("out.log");
            let out = fs::File::create(&log).expect("create log file");
            let err = out.try_clone().expect("clone log file");
            command.stdin(Stdio::null()).stdout(out).stderr(err);
            let child = command
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {kind} ({}): {e}", program.display()));
            let mut daemon = Daemon { child };
            if wait_ready(&mut daemon, addr, &zones[0].origin) {
                return Server {
                    kind,
                    addr,
                    _daemon: daemon,
                    _dir: dir,
                };
            }
            drop(daemon);
            last_log = read_logs(&dir.0);
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

/// Every log file in a server's scratch dir, for a failure message.
fn read_logs(dir: &Path) -> String {
    let mut text = String::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "log") {
            let body = fs::read_to_string(&path).unwrap_or_default();
            let tail: Vec<&str> = body.lines().rev().take(30).collect();
            text.push_str(&format!("--- {}\n", path.display()));
            for line in tail.into_iter().rev() {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    text
}

/// Polls SOA of `origin` until an authoritative NOERROR answer arrives
/// (true), the process exits, or 20 s pass (false).
fn wait_ready(daemon: &mut Daemon, addr: SocketAddr, origin: &str) -> bool {
    let query = Ask::new(origin, RecordType::SOA).to_message();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if daemon.has_exited() {
            return false;
        }
        if let Ok(msg) = exchange(addr, &query, Duration::from_millis(200)) {
            if msg.metadata.authoritative && msg.metadata.response_code == ResponseCode::NoError {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// One query over UDP; the decoded reply, or why there is none. Unlike
/// `common::udp` it does not panic, so that the differential can report a
/// server that stays silent as one difference among the others.
fn exchange(addr: SocketAddr, query: &Message, timeout: Duration) -> Result<Message, String> {
    let bytes = query.to_bytes().expect("encode query");
    let reply = common::udp_raw(addr, &bytes, timeout)
        .ok_or_else(|| format!("no answer within {timeout:?}"))?;
    let msg = Message::from_bytes(&reply).map_err(|e| format!("undecodable reply: {e}"))?;
    if msg.metadata.id != query.metadata.id {
        return Err(format!(
            "reply ID {} for query ID {}",
            msg.metadata.id, query.metadata.id
        ));
    }
    Ok(msg)
}

fn start_dnslab(zones: &[ZoneFile]) -> Server {
    Server::start(Kind::Dnslab, Path::new(env!("CARGO_BIN_EXE_dnslab")), zones)
}

// ------------------------------------------------------------------- dig ---

/// dig's answer, parsed: the header status and flags, each section's
/// records as normalised lines ("owner ttl TYPE rdata", owner lowercased,
/// class dropped, sorted), and the OPT pseudo-section's `udp:` size.
#[derive(Debug)]
struct Dig {
    status: String,
    flags: BTreeSet<String>,
    sections: BTreeMap<String, Vec<String>>,
    edns_udp: Option<u16>,
    text: String,
}

impl Dig {
    fn section(&self, name: &str) -> Vec<String> {
        self.sections.get(name).cloned().unwrap_or_default()
    }

    fn has_flags(&self, expected: &[&str]) -> bool {
        self.flags == expected.iter().map(|f| f.to_string()).collect()
    }

    /// Asserts the status, the exact set of header flags and all three
    /// sections at once, showing dig's whole output when anything differs.
    fn assert_reply(
        &self,
        status: &str,
        flags: &[&str],
        answer: &[&str],
        authority: &[&str],
        additional: &[&str],
    ) {
        let got = (
            self.status.as_str(),
            self.flags
                .iter()
                .map(String::as_str)
                .collect::<BTreeSet<_>>(),
            [
                self.section("ANSWER"),
                self.section("AUTHORITY"),
                self.section("ADDITIONAL"),
            ],
        );
        let want = (
            status,
            flags.iter().copied().collect(),
            [lines(answer), lines(authority), lines(additional)],
        );
        assert_eq!(
            got, want,
            "(status, flags, [answer, authority, additional]); dig said:\n{}",
            self.text
        );
    }
}

/// Runs `dig +norec +time=2 +tries=1 -p PORT @ADDR ARGS...` and parses its
/// output. dig's own timeout bounds the wait.
fn dig(server: SocketAddr, args: &[&str]) -> Dig {
    let dig = find_program("dig").expect("dig checked by the caller");
    let output = Command::new(dig)
        .args([
            "+norec",
            "+time=2",
            "+tries=1",
            "-p",
            &server.port().to_string(),
        ])
        .arg(format!("@{}", server.ip()))
        .args(args)
        .output()
        .expect("run dig");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    parse_dig(text)
}

fn parse_dig(text: String) -> Dig {
    let mut status = String::new();
    let mut flags = BTreeSet::new();
    let mut sections: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut edns_udp = None;
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(rest) = line.split("status: ").nth(1) {
            status = rest.split(',').next().unwrap_or_default().to_string();
        } else if let Some(rest) = line.strip_prefix(";; flags:") {
            flags = rest
                .split(';')
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .map(String::from)
                .collect();
        } else if let Some(rest) = line.strip_prefix("; EDNS:") {
            edns_udp = rest
                .split("udp: ")
                .nth(1)
                .and_then(|n| n.trim().parse().ok());
        } else if let Some(name) = line
            .strip_prefix(";; ")
            .and_then(|l| l.strip_suffix(" SECTION:"))
        {
            current = Some(name.to_string());
            sections.entry(name.to_string()).or_default();
        } else if line.trim().is_empty() {
            current = None;
        } else if let (Some(name), false) = (&current, line.starts_with(';')) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if let [owner, ttl, _class, rtype, rdata @ ..] = fields.as_slice() {
                let record = format!(
                    "{} {} {} {}",
                    owner.to_lowercase(),
                    ttl,
                    rtype,
                    rdata.join(" ")
                );
                sections.entry(name.clone()).or_default().push(record);
            }
        }
    }
    for records in sections.values_mut() {
        records.sort();
    }
    Dig {
        status,
        flags,
        sections,
        edns_udp,
        text,
    }
}

fn lines(records: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = records.iter().map(|r| r.to_string()).collect();
    v.sort();
    v
}

/// dnslab on the lab zones, or `None` (test skipped) without dig.
fn dig_setup() -> Option<Server> {
    require("dig", "bind9-dnsutils")?;
    Some(start_dnslab(&lab_zones()))
}

/// The everyday question: an A record, answered authoritatively (aa, no ra:
/// an authoritative-only server offers no recursion) with nothing else.
#[test]
fn dig_gets_authoritative_a_answer() {
    let Some(server) = dig_setup() else { return };
    let out = dig(server.addr, &["www.example.com", "A"]);
    out.assert_reply(
        "NOERROR",
        &["qr", "aa"],
        &["www.example.com. 3600 A 192.0.2.10"],
        &[],
        &[],
    );
}

/// MX: both exchanges, and the address of the in-zone one in additional
/// (the out-of-zone mx.hosting.org has no data here).
#[test]
fn dig_mx_brings_exchange_address_in_additional() {
    let Some(server) = dig_setup() else { return };
    let out = dig(server.addr, &["example.com", "MX"]);
    let mx = [
        "example.com. 3600 MX 10 mail.example.com.",
        "example.com. 3600 MX 20 mx.hosting.org.",
    ];
    out.assert_reply(
        "NOERROR",
        &["qr", "aa"],
        &mx,
        &[],
        &["mail.example.com. 3600 A 192.0.2.25"],
    );
}

/// A name that does not exist: NXDOMAIN, aa, the SOA in authority with the
/// negative TTL min(SOA TTL, MINIMUM) = 300 (RFC 2308 3).
#[test]
fn dig_nxdomain_carries_soa_with_negative_ttl() {
    let Some(server) = dig_setup() else { return };
    let out = dig(server.addr, &["nosuch.example.com", "A"]);
    let soa = "example.com. 300 SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300";
    out.assert_reply("NXDOMAIN", &["qr", "aa"], &[], &[soa], &[]);
}

/// Below the shop.example.com cut: a referral, not authoritative (no aa),
/// the child's NS set in authority and its glue in additional.
#[test]
fn dig_below_delegation_gets_referral_with_glue() {
    let Some(server) = dig_setup() else { return };
    let out = dig(server.addr, &["www.shop.example.com", "A"]);
    let ns = "shop.example.com. 3600 NS ns1.shop.example.com.";
    out.assert_reply(
        "NOERROR",
        &["qr"],
        &[],
        &[ns],
        &["ns1.shop.example.com. 3600 A 127.0.0.9"],
    );
}

/// The same server over TCP (`dig +tcp`): three A records at www2.
#[test]
fn dig_over_tcp_gets_whole_rrset() {
    let Some(server) = dig_setup() else { return };
    let out = dig(server.addr, &["+tcp", "www2.example.com", "A"]);
    let a = [
        "www2.example.com. 3600 A 192.0.2.11",
        "www2.example.com. 3600 A 192.0.2.12",
        "www2.example.com. 3600 A 192.0.2.13",
    ];
    out.assert_reply("NOERROR", &["qr", "aa"], &a, &[], &[]);
}

/// EDNS (RFC 6891 7): a query with OPT gets an OPT back, advertising some
/// payload size of at least 512; a query without OPT gets none.
#[test]
fn dig_edns_is_echoed_only_when_asked() {
    let Some(server) = dig_setup() else { return };
    let with = dig(server.addr, &["+bufsize=1232", "www.example.com", "A"]);
    assert_eq!(with.status, "NOERROR", "{}", with.text);
    let size = with
        .edns_udp
        .unwrap_or_else(|| panic!("no OPT in the reply:\n{}", with.text));
    assert!(size >= 512, "advertised payload {size}\n{}", with.text);
    let without = dig(server.addr, &["+noedns", "www.example.com", "A"]);
    assert_eq!(without.status, "NOERROR", "{}", without.text);
    assert_eq!(
        without.edns_udp, None,
        "OPT without EDNS query:\n{}",
        without.text
    );
    assert_eq!(without.section("ANSWER"), with.section("ANSWER"));
}

/// 40 TXT records do not fit a 512-octet UDP answer: TC=1 (dig +ignore
/// keeps the truncated answer instead of retrying), and over TCP the whole
/// RRset arrives without TC.
#[test]
fn dig_large_rrset_truncates_over_udp_and_completes_over_tcp() {
    let Some(server) = dig_setup() else { return };
    let udp = dig(
        server.addr,
        &["+noedns", "+ignore", "txt.large.test", "TXT"],
    );
    assert_eq!(udp.status, "NOERROR", "{}", udp.text);
    assert!(
        udp.flags.contains("tc"),
        "no tc over UDP: {:?}\n{}",
        udp.flags,
        udp.text
    );
    let tcp = dig(server.addr, &["+tcp", "txt.large.test", "TXT"]);
    let txt: Vec<String> = (1..=40)
        .map(|i| format!("txt.large.test. 3600 TXT \"record {i:02} of forty: padding padding padding padding padding\""))
        .collect();
    let txt: Vec<&str> = txt.iter().map(String::as_str).collect();
    tcp.assert_reply("NOERROR", &["qr", "aa"], &txt, &[], &[]);
}

/// nslookup (which asks with RD=1, for A and AAAA) prints both addresses
/// of www.example.com from the authoritative server.
#[test]
fn nslookup_prints_a_and_aaaa() {
    let Some(nslookup) = require("nslookup", "bind9-dnsutils") else {
        return;
    };
    let server = start_dnslab(&lab_zones());
    let output = Command::new(nslookup)
        .args([
            format!("-port={}", server.addr.port()),
            "-timeout=2".to_string(),
            "-retry=1".to_string(),
            "www.example.com".to_string(),
            server.addr.ip().to_string(),
        ])
        .output()
        .expect("run nslookup");
    let text = String::from_utf8_lossy(&output.stdout);
    let text: String = text.replace('\t', " ");
    assert!(
        text.contains("Name: www.example.com\nAddress: 192.0.2.10"),
        "{text}"
    );
    assert!(
        text.contains("Name: www.example.com\nAddress: 2001:db8::10"),
        "{text}"
    );
}

// ---------------------------------------------------------- differential ---

/// One reply reduced to what the differential compares: rcode, AA, TC, the
/// question as echoed (case kept: RFC 1035 7.3, 0x20), and each section as
/// a sorted list of normalised records (`common::section`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Outcome {
    rcode: String,
    aa: bool,
    tc: bool,
    question: String,
    answer: Vec<String>,
    authority: Vec<String>,
    additional: Vec<String>,
}

impl Outcome {
    fn of(msg: &Message) -> Outcome {
        Outcome {
            rcode: msg.metadata.response_code.to_string(),
            aa: msg.metadata.authoritative,
            tc: msg.metadata.truncation,
            question: msg
                .queries
                .iter()
                .map(|q| format!("{} {}", q.name(), q.query_type()))
                .collect::<Vec<_>>()
                .join(", "),
            answer: common::section(&msg.answers),
            authority: common::section(&msg.authorities),
            additional: common::section(&msg.additionals),
        }
    }

    /// Undoes NSD's one policy that Knot and dnslab do not share: NSD puts
    /// the zone's apex NS RRset in the authority section of every positive
    /// answer and the addresses of those name servers in additional
    /// (Knot and dnslab answer minimally). `apexes` are the served zones.
    fn without_apex_ns(mut self, apexes: &BTreeSet<String>) -> Outcome {
        if self.answer.is_empty() {
            return self;
        }
        let is_apex_ns = |line: &String| {
            let f: Vec<&str> = line.split(' ').collect();
            f.get(2) == Some(&"NS") && f.first().is_some_and(|owner| apexes.contains(*owner))
        };
        let removed: Vec<String> = self
            .authority
            .iter()
            .filter(|l| is_apex_ns(l))
            .cloned()
            .collect();
        if removed.is_empty() {
            return self;
        }
        self.authority.retain(|l| !is_apex_ns(l));
        let targets = |records: &[String]| -> BTreeSet<String> {
            records
                .iter()
                .filter_map(|l| l.split(' ').next_back())
                .map(|t| t.to_lowercase())
                .collect()
        };
        let stripped = targets(&removed);
        let mut still_needed = targets(&self.answer);
        still_needed.extend(targets(&self.authority));
        self.additional.retain(|l| {
            let owner = l.split(' ').next().unwrap_or_default();
            !stripped.contains(owner) || still_needed.contains(owner)
        });
        self
    }

    /// Accepts the additional records dnslab takes from another zone it
    /// serves. RFC 1034 4.3.2 step 6 adds "other RRs which may be useful"
    /// from "local data", and dnslab (like BIND) counts every zone it serves
    /// as local data; Knot and NSD only look in the zone of the answer. An
    /// extra record is accepted only if it is an address of a name server,
    /// mail exchange or service target named in the answer or authority
    /// section, and `confirm` (the reference peer asked for it directly)
    /// answers exactly that record.
    fn accept_cross_zone_additional(
        &mut self,
        reference: &Outcome,
        confirm: impl Fn(&str, RecordType) -> Outcome,
    ) {
        let targets: BTreeSet<String> = self
            .answer
            .iter()
            .chain(&self.authority)
            .filter(|l| matches!(l.split(' ').nth(2), Some("NS" | "MX" | "SRV")))
            .filter_map(|l| l.split(' ').next_back())
            .map(str::to_lowercase)
            .collect();
        let confirmed = |line: &String| {
            let fields: Vec<&str> = line.split(' ').collect();
            let qtype = match fields.get(2) {
                Some(&"A") => RecordType::A,
                Some(&"AAAA") => RecordType::AAAA,
                _ => return false,
            };
            let owner = fields.first().copied().unwrap_or_default();
            targets.contains(owner) && confirm(owner, qtype).answer.contains(line)
        };
        self.additional
            .retain(|l| reference.additional.contains(l) || !confirmed(l));
    }

    /// Forgets the sections: what a server leaves in a truncated reply is
    /// its own choice (RFC 2181 9), only the header and question count.
    fn truncated_view(&mut self) {
        self.answer.clear();
        self.authority.clear();
        self.additional.clear();
    }

    /// The header fields compared, as one line.
    fn header(&self) -> String {
        format!("rcode={} aa={} tc={}", self.rcode, self.aa, self.tc)
    }
}

/// A readable diff of two outcomes: header fields side by side, then the
/// records only `expected` has and those only `got` has, each line labelled.
/// Empty when equal.
fn diff(expected: &Outcome, got: &Outcome, minus: &str, plus: &str) -> String {
    let mut out = String::new();
    for (name, want, have) in [
        ("header", expected.header(), got.header()),
        ("question", expected.question.clone(), got.question.clone()),
    ] {
        if want != have {
            out.push_str(&format!("    {name}: expected {want}, got {have}\n"));
        }
    }
    for (name, want, have) in [
        ("answer", &expected.answer, &got.answer),
        ("authority", &expected.authority, &got.authority),
        ("additional", &expected.additional, &got.additional),
    ] {
        if want != have {
            out.push_str(&format!("    {name}:\n"));
            for line in want.iter().filter(|l| !have.contains(l)) {
                out.push_str(&format!("      {minus} {line}\n"));
            }
            for line in have.iter().filter(|l| !want.contains(l)) {
                out.push_str(&format!("      {plus} {line}\n"));
            }
        }
    }
    out
}

/// A name with its letters in alternating case, for 0x20-style queries.
fn mixed_case(name: &str) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| {
            if i % 2 == 0 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// The questions asked of every server, generated from the zones' records
/// (read with dnslab's own master-file reader):
/// every owner name × (its own types and A, AAAA, MX, TXT, NS, SOA, CNAME);
/// the empty non-terminals between owners and their zone's apex; below each
/// wildcard one and two fresh labels; below each delegation a host name; a
/// fresh name in each zone and below an existing name (NXDOMAIN); a name in
/// no served zone (REFUSED); and every owner's A question again in mixed
/// case. QTYPE ANY is not asked: RFC 8482 lets servers pick what to return
/// and Knot and NSD pick different RRsets.
fn questions(zones: &[ZoneFile]) -> Vec<(String, RecordType)> {
    use RecordType::*;
    const COMMON: [RecordType; 7] = [A, AAAA, MX, TXT, NS, SOA, CNAME];
    let mut asked: BTreeSet<(String, RecordType)> = BTreeSet::new();
    let mut owners: BTreeMap<Name, BTreeSet<RecordType>> = BTreeMap::new();
    let mut wildcards = BTreeSet::new();
    let mut cuts = BTreeSet::new();
    let mut ents = BTreeSet::new();
    for zone in zones {
        let origin = Name::from_str(&zone.origin).expect("origin parses");
        let file = dnslab_authoritative::zone::reader::read_file(&zone.path, Some(&origin))
            .unwrap_or_else(|e| panic!("dnslab cannot read {}: {e}", zone.path.display()));
        for sourced in &file.records {
            let record = &sourced.record;
            let name = record.name.to_lowercase();
            owners
                .entry(name.clone())
                .or_default()
                .insert(record.record_type());
            if name.is_wildcard() {
                wildcards.insert(name.base_name());
            }
            if record.record_type() == NS && name != origin.to_lowercase() {
                cuts.insert(name.clone());
            }
            let mut parent = name.base_name();
            while parent.num_labels() > origin.num_labels() {
                ents.insert(parent.clone());
                parent = parent.base_name();
            }
        }
        asked.insert((format!("nx-differential.{}", zone.origin), A));
    }
    for (name, types) in &owners {
        for qtype in types.iter().chain(COMMON.iter()) {
            if *qtype != ANY {
                asked.insert((name.to_string(), *qtype));
            }
        }
        asked.insert((mixed_case(&name.to_string()), A));
        if !name.is_wildcard() {
            asked.insert((format!("nosuch.{name}"), A));
        }
    }
    for ent in ents.iter().filter(|n| !owners.contains_key(*n)) {
        asked.insert((ent.to_string(), A));
        asked.insert((ent.to_string(), TXT));
    }
    for base in &wildcards {
        for qtype in [A, TXT, MX, AAAA] {
            asked.insert((format!("anything.{base}"), qtype));
        }
        asked.insert((format!("two.labels.{base}"), A));
    }
    for cut in &cuts {
        asked.insert((format!("host.{cut}"), A));
        asked.insert((format!("host.{cut}"), NS));
    }
    asked.insert(("nowhere.invalid.".to_string(), A));
    asked.into_iter().collect()
}

/// Asks one question over UDP with EDNS (1232 octets, as resolvers do),
/// twice if the first try gets nothing (UDP); a server that never answers
/// gives an outcome whose rcode says so.
fn ask(server: &Server, name: &str, qtype: RecordType) -> Outcome {
    let query = Ask::new(name, qtype).edns(1232).to_message();
    let mut result = exchange(server.addr, &query, Duration::from_secs(2));
    if result.is_err() {
        result = exchange(server.addr, &query, Duration::from_secs(2));
    }
    match result {
        Ok(msg) => Outcome::of(&msg),
        Err(why) => Outcome {
            rcode: why,
            ..Outcome::default()
        },
    }
}

/// The differential proper: every question to Knot, NSD and dnslab.
///
/// Where Knot and NSD agree (after removing NSD's apex-NS authority, see
/// [`Outcome::without_apex_ns`]), dnslab must give the same. Where they
/// still disagree, the peer closer to dnslab's documented choice is the
/// reference:
/// - CNAME chains that leave a zone (also the CNAME synthesised from a
///   DNAME, RFC 6672 2.2): dnslab follows them through every zone it serves
///   (authoritative/src/lookup.rs), as NSD does; Knot stops at the zone
///   boundary. So the reference is NSD, and a chain that ends in a name
///   missing from another served zone is NXDOMAIN with that zone's SOA.
/// - Any other disagreement is printed (not failed) and NSD is the reference.
///
/// One documented choice of dnslab differs from both peers: addresses in
/// the additional section may come from another zone it serves; they are
/// accepted when NSD confirms them (see
/// [`Outcome::accept_cross_zone_additional`]).
///
/// Truncated replies (TC=1) are compared on rcode, AA, TC and question only:
/// what a server leaves in a truncated reply is its own choice (RFC 2181 9).
fn differential(zones: &[ZoneFile]) {
    let (Some(knotd), Some(nsd)) = (require("knotd", "knot"), require("nsd", "nsd")) else {
        return;
    };
    let apexes: BTreeSet<String> = zones.iter().map(|z| z.origin.to_lowercase()).collect();
    let questions = questions(zones);
    let knot = Server::start(Kind::Knot, &knotd, zones);
    let nsd = Server::start(Kind::Nsd, &nsd, zones);
    let dnslab = start_dnslab(zones);

    let mut failures = Vec::new();
    let mut peer_disagreements = Vec::new();
    for (name, qtype) in &questions {
        let from_knot = ask(&knot, name, *qtype);
        let mut want = ask(&nsd, name, *qtype).without_apex_ns(&apexes);
        let mut have = ask(&dnslab, name, *qtype);
        have.accept_cross_zone_additional(&want, |owner, qtype| ask(&nsd, owner, qtype));
        let peers_agree = from_knot == want;
        if !peers_agree {
            let d = diff(&want, &from_knot, "nsd only: ", "knot only:");
            peer_disagreements.push(format!("  {name} {qtype}:\n{d}"));
        }
        if want.tc && have.tc {
            want.truncated_view();
            have.truncated_view();
        }
        let d = diff(&want, &have, "expected:", "dnslab:  ");
        if !d.is_empty() {
            let reference = if peers_agree { "knot and nsd" } else { "nsd" };
            failures.push(format!("  {name} {qtype} (reference: {reference}):\n{d}"));
        }
    }
    if !peer_disagreements.is_empty() {
        eprintln!(
            "knot and nsd disagree on {} of {} questions (nsd is the reference):\n{}",
            peer_disagreements.len(),
            questions.len(),
            peer_disagreements.join("")
        );
    }
    assert!(
        failures.is_empty(),
        "{} on {} of {} questions differs from the peers ({} = {}, {} = {}):\n{}",
        dnslab.kind,
        failures.len(),
        questions.len(),
        knot.kind,
        knot.addr,
        nsd.kind,
        nsd.addr,
        failures.join("")
    );
}

/// The lab's com., example.com. and example.org. zones plus large.test.:
/// referrals with glue, wildcards, in-zone and cross-zone CNAME chains, a
/// dangling CNAME, NXDOMAIN, NODATA, ENTs, REFUSED and truncation.
#[test]
fn differential_lab_zones_match_knot_and_nsd() {
    differential(&lab_zones());
}

/// The zones shipped in zones/, the README's examples.
#[test]
fn differential_shipped_zones_match_knot_and_nsd() {
    let zones = shipped_zones();
    if zones.is_empty() {
        eprintln!("SKIPPED: no zones/*.zone files in the repository yet");
        return;
    }
    differential(&zones);
}

/// The differential's own tools, tested without servers.
mod tools {
    use super::*;

    #[test]
    fn dig_output_is_parsed_into_status_flags_and_sections() {
        let text = ";; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 2733\n\
                    ;; flags: qr aa; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1\n\n\
                    ;; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 1232\n\
                    ;; QUESTION SECTION:\n;nx.example.com.\t\t\tIN\tA\n\n\
                    ;; AUTHORITY SECTION:\nExample.com.\t\t300\tIN\tSOA\tns1.example.com. h.example.com. 1 2 3 4 5\n\n";
        let dig = parse_dig(text.to_string());
        assert_eq!(dig.status, "NXDOMAIN");
        assert!(dig.has_flags(&["qr", "aa"]));
        assert_eq!(dig.edns_udp, Some(1232));
        assert_eq!(dig.section("QUESTION"), Vec::<String>::new());
        assert_eq!(
            dig.section("AUTHORITY"),
            lines(&["example.com. 300 SOA ns1.example.com. h.example.com. 1 2 3 4 5"])
        );
    }

    fn outcome(answer: &[&str], authority: &[&str], additional: &[&str]) -> Outcome {
        Outcome {
            rcode: "No Error".into(),
            aa: true,
            tc: false,
            question: String::new(),
            answer: lines(answer),
            authority: lines(authority),
            additional: lines(additional),
        }
    }

    #[test]
    fn nsd_apex_ns_is_removed_but_needed_addresses_stay() {
        let apexes: BTreeSet<String> = ["example.com.".to_string()].into();
        let nsd = outcome(
            &["example.com. 3600 MX 10 ns1.example.com."],
            &[
                "example.com. 3600 NS ns1.example.com.",
                "example.com. 3600 NS ns2.example.com.",
            ],
            &[
                "ns1.example.com. 3600 A 127.0.0.7",
                "ns2.example.com. 3600 A 127.0.0.8",
            ],
        );
        let minimal = outcome(
            &["example.com. 3600 MX 10 ns1.example.com."],
            &[],
            &["ns1.example.com. 3600 A 127.0.0.7"],
        );
        assert_eq!(nsd.without_apex_ns(&apexes), minimal);
        // A referral keeps its NS set: its owner is not a served apex.
        let referral = outcome(
            &["store.example.com. 3600 CNAME www.shop.example.com."],
            &["shop.example.com. 3600 NS ns1.shop.example.com."],
            &[],
        );
        assert_eq!(referral.clone().without_apex_ns(&apexes), referral);
    }

    #[test]
    fn cross_zone_additional_is_accepted_only_for_confirmed_targets() {
        let reference = outcome(&["example.net. 3600 NS ns1.example.com."], &[], &[]);
        let truth =
            |owner: &str, _: RecordType| outcome(&[&format!("{owner} 3600 A 192.0.2.1")], &[], &[]);
        let mut dnslab = outcome(
            &["example.net. 3600 NS ns1.example.com."],
            &[],
            &[
                "ns1.example.com. 3600 A 192.0.2.1",  // a target, confirmed
                "ns1.example.com. 3600 A 192.0.2.99", // a target, wrong address
                "www.example.com. 3600 A 192.0.2.1",  // not a target
            ],
        );
        dnslab.accept_cross_zone_additional(&reference, truth);
        assert_eq!(
            dnslab.additional,
            lines(&[
                "ns1.example.com. 3600 A 192.0.2.99",
                "www.example.com. 3600 A 192.0.2.1"
            ])
        );
    }

    #[test]
    fn diff_names_each_differing_record() {
        let want = outcome(&["a. 1 A 192.0.2.1"], &[], &[]);
        let have = outcome(&["a. 1 A 192.0.2.2"], &[], &[]);
        assert_eq!(diff(&want, &want, "-", "+"), "");
        assert_eq!(
            diff(&want, &have, "-", "+"),
            "    answer:\n      - a. 1 A 192.0.2.1\n      + a. 1 A 192.0.2.2\n"
        );
    }

    #[test]
    fn mixed_case_alternates_letters() {
        assert_eq!(mixed_case("www.example.com."), "WwW.ExAmPlE.CoM.");
    }
}
