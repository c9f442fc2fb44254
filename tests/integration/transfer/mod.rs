//! Zones on many servers: dnslab as a primary that secondaries copy from
//! (AXFR, IXFR), NOTIFY, TSIG, and what every transfer test shares: a
//! transfer client over a real TCP connection, zone files written for the
//! test, and servers configured with transfer rules.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};

use dnslab_authoritative::{AccessRule, Role, ZoneConfig};
use dnslab_authoritative::{AuthConfig, AuthOptions, ZoneSource};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};

use crate::common::{name, tcp_recv, tcp_send, TIMEOUT};

/// `dnslab check --config`: the configuration file's rules and lines.
mod config;
/// A hostile primary: nothing it sends badly is ever served.
mod hostile;
/// dnslab as a primary: AXFR, IXFR, access rules, NOTIFY in.
mod out;
/// NSD, Knot and BIND as dnslab's secondaries, and as its primaries.
pub mod peers;
/// dnslab as a secondary of dnslab: transfer, NOTIFY, timers, expire.
mod secondary;
/// TSIG errors and signed answers as dig and kdig see them.
mod tsig;

/// A zone's apex lines: SOA with `serial` (refresh 3600, retry 600,
/// expire 86400, minimum 300) and one NS.
pub fn apex(origin: &str, serial: u32) -> String {
    apex_with_timers(origin, serial, [3600, 600, 86400])
}

/// [`apex`] with the SOA's refresh, retry and expire.
pub fn apex_with_timers(origin: &str, serial: u32, [refresh, retry, expire]: [u32; 3]) -> String {
    format!(
        "$ORIGIN {origin}\n$TTL 300\n@ IN SOA ns.{origin} admin.{origin} {serial} {refresh} {retry} {expire} 300\n@ IN NS ns.{origin}\nns IN A 192.0.2.53\n"
    )
}

/// A secondary zone copied from `primaries`.
pub fn secondary(origin: &str, primaries: &[SocketAddr]) -> ZoneConfig {
    ZoneConfig {
        role: Role::Secondary {
            origin: name(origin),
            primaries: primaries
                .iter()
                .map(|&addr| dnslab_authoritative::Remote { addr, key: None })
                .collect(),
        },
        notify: Vec::new(),
        allow_transfer: Vec::new(),
        update: Default::default(),
        rrset_order: None,
        views: Vec::new(),
    }
}

/// A transport server bound on 127.0.0.1 and a free port, not serving
/// yet: its address can go into another server's configuration first.
pub fn bound() -> (dnslab_transport::Server, SocketAddr) {
    let server = dnslab_transport::Server::bind(crate::common::loopback_config()).expect("bind");
    let addr = server.local_addrs()[0];
    (server, addr)
}

/// The serial of `zone`'s SOA as `server` answers it, or `None` when it
/// answers otherwise (SERVFAIL before a transfer, REFUSED...).
pub fn served_serial(server: SocketAddr, zone: &str) -> Option<u32> {
    let ask = crate::common::Ask::new(zone, RecordType::SOA);
    let reply = crate::common::udp_message(server, &ask.to_message(), TIMEOUT)?;
    reply.answers.first().and_then(Transfer::soa_serial)
}

/// Polls `server` every 100 ms, up to `within`, until its answer to
/// `zone`'s SOA has `rcode` (an expiring zone's SERVFAIL); whether it did.
pub fn wait_for_rcode(
    server: SocketAddr,
    zone: &str,
    rcode: ResponseCode,
    within: std::time::Duration,
) -> bool {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        let ask = crate::common::Ask::new(zone, RecordType::SOA);
        let reply = crate::common::udp_message(server, &ask.to_message(), TIMEOUT);
        if reply.is_some_and(|r| r.metadata.response_code == rcode) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}

/// Polls `server` every 50 ms, up to `within`, until `zone`'s serial is
/// `serial`; whether it got there.
pub fn wait_for_serial(
    server: SocketAddr,
    zone: &str,
    serial: u32,
    within: std::time::Duration,
) -> bool {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if served_serial(server, zone) == Some(serial) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

/// Writes a zone of `hosts` A records (host1 .. hostN) with `serial` to
/// `path`: 3 + `hosts` records.
pub fn write_big_zone(path: &Path, origin: &str, serial: u32, hosts: u32) {
    let mut text = apex(origin, serial);
    for i in 1..=hosts {
        let _ = writeln!(
            text,
            "host{i} IN A 10.{}.{}.{}",
            i >> 16,
            (i >> 8) & 0xFF,
            i & 0xFF
        );
    }
    let mut file = std::fs::File::create(path).expect("create zone file");
    file.write_all(text.as_bytes()).expect("write zone file");
}

/// A primary zone from `path` whose transfers `allow` permits.
pub fn primary(path: &Path, origin: &str, allow: &[&str]) -> ZoneConfig {
    ZoneConfig {
        role: Role::Primary(ZoneSource {
            origin: Some(name(origin)),
            path: path.to_path_buf(),
        }),
        notify: Vec::new(),
        allow_transfer: allow
            .iter()
            .map(|rule| rule.parse::<AccessRule>().expect("rule"))
            .collect(),
        update: Default::default(),
        rrset_order: None,
        views: Vec::new(),
    }
}

/// A configuration serving `zones` with its data directory in `data`,
/// everything else default.
pub fn config(zones: Vec<ZoneConfig>, data: &Path) -> AuthConfig {
    AuthConfig {
        zones,
        data_dir: data.to_path_buf(),
        ..AuthConfig::primaries(Vec::new(), AuthOptions::default())
    }
}

/// The shipped example.com zone file.
pub fn example_com() -> PathBuf {
    crate::common::repo_path("zones/example.com.zone")
}

/// A transfer request: `qtype` AXFR or IXFR (with `serial` as the client's
/// SOA in the authority section).
pub fn transfer_request(zone: &str, qtype: RecordType, serial: Option<u32>) -> Message {
    let mut msg = Message::new(rand::random(), MessageType::Query, OpCode::Query);
    msg.add_query(Query::query(name(zone), qtype));
    if let Some(serial) = serial {
        let soa = SOA::new(name(zone), name(zone), serial, 0, 0, 0, 0);
        msg.add_authority(Record::from_rdata(name(zone), 0, RData::SOA(soa)));
    }
    msg
}

/// What came back over TCP for one transfer request.
pub struct Transfer {
    pub messages: Vec<Message>,
    /// Octets of each message.
    pub sizes: Vec<usize>,
    /// Every answer record, in order.
    pub records: Vec<Record>,
}

impl Transfer {
    pub fn rcode(&self) -> ResponseCode {
        self.messages[0].metadata.response_code
    }

    /// The records as sorted presentation lines, without the closing SOA.
    pub fn lines(&self) -> Vec<String> {
        let records = &self.records[..self.records.len().saturating_sub(1)];
        crate::common::section(records)
    }

    pub fn soa_serial(record: &Record) -> Option<u32> {
        match &record.data {
            RData::SOA(soa) => Some(soa.serial),
            _ => None,
        }
    }
}

/// Sends `request` over TCP and reads messages until the answer is
/// complete (see [`complete`]). Panics on a timeout.
pub fn tcp_transfer(server: SocketAddr, request: &Message) -> Transfer {
    let mut stream = TcpStream::connect_timeout(&server, TIMEOUT).expect("tcp connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("set timeout");
    tcp_send(&mut stream, &request.to_bytes().expect("encode request"));
    let mut transfer = Transfer {
        messages: Vec::new(),
        sizes: Vec::new(),
        records: Vec::new(),
    };
    loop {
        let bytes = tcp_recv(&mut stream).expect("a transfer message");
        let msg = Message::from_bytes(&bytes).expect("decode transfer message");
        assert_eq!(msg.metadata.id, request.metadata.id, "message ID");
        transfer.sizes.push(bytes.len());
        transfer.records.extend(msg.answers.iter().cloned());
        let rcode = msg.metadata.response_code;
        let lone_soa = transfer.messages.is_empty() && msg.answers.len() == 1;
        transfer.messages.push(msg);
        if rcode != ResponseCode::NoError || lone_soa || complete(&transfer.records) {
            return transfer;
        }
    }
}

/// A transfer's records are complete (RFC 5936 2.2, RFC 1995 4): the
/// first SOA's serial N seen again, after the whole zone (AXFR-style), or
/// in the additions of the last difference (an incremental answer: SOA N,
/// then differences SOA old, deletions, SOA new, additions, then SOA N).
pub fn complete(records: &[Record]) -> bool {
    let serial = Transfer::soa_serial;
    let Some(n) = records.first().and_then(serial) else {
        return false;
    };
    let incremental = records.get(1).and_then(serial).is_some_and(|s| s != n);
    if !incremental {
        return records.len() > 1 && records.last().and_then(serial) == Some(n);
    }
    let mut in_additions = true;
    for record in &records[1..] {
        if let Some(s) = serial(record) {
            if in_additions && s == n {
                return true;
            }
            in_additions = !in_additions;
        }
    }
    false
}
