//! Dynamic UPDATE (RFC 2136, RFC 3007, RFC 8945): zones changed while
//! they are served, by the tools operators use (`nsupdate`, `knsupdate`)
//! and by hand-built messages, and what every update test shares: the
//! zone `update.test.`, its keys, a server taking updates, and the tools
//! run over UDP or TCP.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use dnslab_authoritative::{AuthConfig, UpdateConfig, UpdateRule};
use dnslab_tsig::{sign_request, unix_now, Key, KeyRing};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};

use crate::common::{name, require, udp, udp_raw, Ask, ScratchDir, ServedAuth, TIMEOUT};
use crate::transfer::{config, primary, tcp_transfer, transfer_request};

/// Update rules in the YAML configuration, validated and applied.
mod config;
/// Acknowledged updates survive restarts and SIGKILL; a torn journal loads.
mod durability;
/// Malformed, out-of-zone, oversized and flooding updates change nothing.
mod hostile;
/// NSD and Knot as secondaries follow the updates by IXFR.
mod peers;
/// The registrar's story through `dnslab up`.
mod registrar;
/// nsupdate and knsupdate: every prerequisite, update and refusal.
mod tools;

/// The zone every update test changes.
pub const ZONE: &str = "update.test.";

/// The key that may change anything in the zone, as `tsig-keygen ddns`
/// writes one (hmac-sha256).
pub const DDNS: &str = "ddns";
pub const DDNS_SECRET: &str = "loJyJt/ZbAqKUuk+Azwmu8P4YVGxXBqcQ0M/CCiM/jI=";
/// A key allowed A and AAAA at www.update.test. only.
pub const WEB: &str = "web";
pub const WEB_SECRET: &str = "7e1sLt8nJ+VwXqFd4Y0hR2cQ9mZpKb3aUoIgTe6NxWs=";

/// `update.test.` at `serial`: the apex, its name server, www (two A).
pub fn zone_text(serial: u32) -> String {
    format!(
        "$ORIGIN {ZONE}\n$TTL 300\n\
         @ IN SOA ns.{ZONE} admin.{ZONE} {serial} 3600 600 86400 300\n\
         @ IN NS ns.{ZONE}\n\
         ns IN A 192.0.2.53\n\
         www IN A 192.0.2.1\n\
         www IN A 192.0.2.2\n\
         mail IN MX 10 www.{ZONE}\n"
    )
}

/// Writes the zone file (serial 1) into `dir`.
pub fn write_zone(dir: &Path) -> PathBuf {
    let path = dir.join("update.test.zone");
    std::fs::write(&path, zone_text(1)).expect("write zone");
    path
}

/// Both keys as one BIND key file, for `dnslab auth --tsig-key` and
/// `nsupdate -k`; and each alone, as nsupdate takes one key per file.
pub fn write_keys(dir: &Path) -> PathBuf {
    let key = |name: &str, secret: &str| {
        dnslab_tsig::Key::from_text(name, "hmac-sha256", secret)
            .expect("a test key")
            .to_key_file()
    };
    std::fs::write(dir.join("ddns.key"), key(DDNS, DDNS_SECRET)).expect("write key");
    std::fs::write(dir.join("web.key"), key(WEB, WEB_SECRET)).expect("write key");
    let both = dir.join("keys.conf");
    std::fs::write(&both, key(DDNS, DDNS_SECRET) + &key(WEB, WEB_SECRET)).expect("write keys");
    both
}

/// The key `name` as dig, kdig and knsupdate take it (`-y`).
pub fn dig_key(name: &str) -> String {
    let secret = if name == DDNS {
        DDNS_SECRET
    } else {
        WEB_SECRET
    };
    format!("hmac-sha256:{name}:{secret}")
}

pub fn key(name: &str) -> Key {
    Key::from_dig_spec(&dig_key(name)).expect("key")
}

/// The zone's rules as the YAML would give them: `ddns` anything, `web`
/// A and AAAA at www only, unsigned updates from 127.0.0.2 (not the
/// tests' own 127.0.0.1, so that an unsigned update is refused).
pub fn rules() -> Vec<UpdateRule> {
    vec![
        UpdateRule::whole_zone(format!("key:{DDNS}").parse().expect("rule")),
        UpdateRule {
            who: format!("key:{WEB}").parse().expect("rule"),
            names: dnslab_authoritative::Names::Listed {
                names: vec![name(&format!("www.{ZONE}"))],
                how: dnslab_authoritative::NameMatch::At,
            },
            types: vec![RecordType::A, RecordType::AAAA],
        },
        UpdateRule::whole_zone("127.0.0.2".parse().expect("rule")),
    ]
}

/// A configuration serving the zone file at `file` with [`rules`] and
/// both keys, its data directory in `dir`.
pub fn update_config(file: &Path, dir: &Path) -> AuthConfig {
    let mut zone = primary(file, ZONE, &["127.0.0.1"]);
    zone.update = UpdateConfig {
        rules: rules(),
        zonefile_sync: None,
    };
    AuthConfig {
        keys: [key(DDNS), key(WEB)].into_iter().collect::<KeyRing>(),
        ..config(vec![zone], &dir.join("data"))
    }
}

/// The zone served in-process from a fresh scratch directory.
pub fn served(dir: &ScratchDir) -> ServedAuth {
    let file = write_zone(dir);
    ServedAuth::from_config(update_config(&file, dir))
}

/// What a tool printed, and whether it exited 0.
#[derive(Debug)]
pub struct ToolRun {
    pub ok: bool,
    pub output: String,
}

/// Runs `nsupdate` (TCP with `tcp`, else UDP) on `script` against
/// `server`, signing with the key file `key`; `None` when it is not
/// installed (a failure in CI).
pub fn nsupdate(
    server: SocketAddr,
    script: &str,
    key: Option<&Path>,
    tcp: bool,
) -> Option<ToolRun> {
    let program = require("nsupdate", "bind9-dnsutils")?;
    let mut command = Command::new(program);
    if let Some(key) = key {
        command.arg("-k").arg(key);
    }
    if tcp {
        command.arg("-v");
    }
    command.args(["-t", "5"]);
    run_with_script(command, server, script)
}

/// Runs `knsupdate` (TCP with `tcp`) on `script`, signing with `key` as
/// `-y` takes it.
pub fn knsupdate(
    server: SocketAddr,
    script: &str,
    key: Option<&str>,
    tcp: bool,
) -> Option<ToolRun> {
    let program = require("knsupdate", "knot-dnsutils")?;
    let mut command = Command::new(program);
    if let Some(key) = key {
        command.args(["-y", key]);
    }
    if tcp {
        command.arg("-v");
    }
    command.args(["-t", "5", "-r", "0"]);
    run_with_script(command, server, script)
}

/// Feeds the tool `server ...`, `zone update.test.`, then `script` and
/// `send` on its standard input.
fn run_with_script(command: Command, server: SocketAddr, script: &str) -> Option<ToolRun> {
    let text = format!(
        "server {} {}\nzone {ZONE}\n{script}\nsend\n",
        server.ip(),
        server.port()
    );
    Some(run_script(command, &text))
}

/// Runs `command` with `text` on its standard input: whether it exited 0,
/// and what it printed.
pub fn run_script(mut command: Command, text: &str) -> ToolRun {
    use std::io::Write;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the update tool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write the script");
    let output = child.wait_with_output().expect("the update tool ends");
    let mut printed = String::from_utf8_lossy(&output.stdout).into_owned();
    printed.push_str(&String::from_utf8_lossy(&output.stderr));
    ToolRun {
        ok: output.status.success(),
        output: printed,
    }
}

/// The data at `owner`/`rtype` as `server` answers it, sorted.
pub fn data(server: SocketAddr, owner: &str, rtype: RecordType) -> Vec<String> {
    let reply = udp(server, &Ask::new(owner, rtype));
    let mut data: Vec<String> = reply
        .answers
        .iter()
        .filter(|r| r.record_type() == rtype)
        .map(|r| r.data.to_string())
        .collect();
    data.sort();
    data
}

/// The zone's serial as `server` answers it.
pub fn serial(server: SocketAddr) -> u32 {
    match data(server, ZONE, RecordType::SOA).first() {
        Some(soa) => soa
            .split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .expect("a serial"),
        None => panic!("no SOA from {server}"),
    }
}

/// An UPDATE of `zone` with `prerequisites` and `updates`, as a client
/// builds one (RFC 2136 2: zone, prerequisite, update sections).
pub fn update_message(zone: &str, prerequisites: Vec<Record>, updates: Vec<Record>) -> Message {
    let mut message = Message::new(rand::random(), MessageType::Query, OpCode::Update);
    message.add_query(Query::query(name(zone), RecordType::SOA));
    message.answers = prerequisites;
    message.authorities = updates;
    message
}

/// A record to add: `owner ttl` with `data`, class IN.
pub fn add(owner: &str, ttl: u32, data: RData) -> Record {
    Record::from_rdata(name(owner), ttl, data)
}

/// A delete or a prerequisite without data: `owner`, `rtype`, `class`.
pub fn empty(owner: &str, rtype: RecordType, class: DNSClass) -> Record {
    let mut record = Record::from_rdata(name(owner), 0, RData::Update0(rtype));
    record.dns_class = class;
    record
}

/// Sends `message` over UDP, signed with `key` when given; the RCODE of
/// the reply, or `None` when none came.
pub fn send(server: SocketAddr, message: &Message, key: Option<&Key>) -> Option<ResponseCode> {
    let mut bytes = message.to_bytes().expect("encode update");
    if let Some(key) = key {
        sign_request(&mut bytes, key, unix_now()).expect("sign");
    }
    let reply = udp_raw(server, &bytes, TIMEOUT)?;
    let reply = Message::from_bytes(&reply).expect("decode reply");
    assert_eq!(reply.metadata.id, message.metadata.id);
    assert_eq!(reply.metadata.op_code, OpCode::Update);
    Some(reply.metadata.response_code)
}

/// Every owner name of the zone as `server` serves it, lowercased, by
/// AXFR.
pub fn owners(server: SocketAddr) -> HashSet<String> {
    let transfer = tcp_transfer(server, &transfer_request(ZONE, RecordType::AXFR, None));
    assert_eq!(transfer.rcode(), ResponseCode::NoError);
    transfer
        .records
        .iter()
        .map(|r| r.name.to_lowercase().to_string())
        .collect()
}
