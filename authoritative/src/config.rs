//! What the authoritative server is told to do, validated: its zones (each
//! a primary read from a master file or a secondary copied from primaries),
//! who may transfer them, whom to NOTIFY, the TSIG keys, where secondary
//! copies and transfer history live, and the bounds on transfers.
//!
//! Nothing here reads YAML or flags: the `dnslab` binary turns both
//! (`dnslab auth --config FILE`, or `--zone`, `--secondary`,
//! `--allow-transfer`, `--notify`, `--tsig-key`) into an [`AuthConfig`],
//! reporting each problem at its line. The text forms shared by flags and
//! YAML ([`AccessRule`]: `CIDR`, `key:NAME`; [`RemoteSpec`]:
//! `[key:NAME@]ADDR[:PORT]`) are parsed here so that both read them alike.
//!
//! A zone also says how it is answered beyond its data: the order of its
//! RRsets' records and its views (answers chosen by who asks), and who
//! may change it by dynamic UPDATE: its rules sit beside `allow_transfer`
//! in [`ZoneConfig`], as their own [`UpdateConfig`] (defined with the
//! updates, in `crate::update`).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use dnslab_tsig::{Key, KeyRing};
use dnslab_wire::{absolute_name, Cidr, RrsetOrder};
use hickory_proto::rr::Name;

use crate::server::{AuthOptions, ZoneSource};
use crate::update::UpdateConfig;
use crate::views::View;

/// The port DNS servers listen on when an address is given without one.
pub const DNS_PORT: u16 = 53;

/// The default data directory, relative to the working directory, as the
/// issue's `--data-dir` default says.
pub const DEFAULT_DATA_DIR: &str = "./dnslab-data";

/// The whole configuration of one authoritative server.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    pub options: AuthOptions,
    pub zones: Vec<ZoneConfig>,
    /// Keys that requests may be signed with, and that the server signs
    /// its own requests (SOA queries, transfers, NOTIFY) with.
    pub keys: KeyRing,
    /// Where secondary copies and transfer history are kept.
    pub data_dir: PathBuf,
    pub limits: TransferLimits,
    /// The address this server's own requests (NOTIFY, SOA queries,
    /// transfers) leave from, so that the other side's address rules see
    /// the address it was told about (BIND's `notify-source` and
    /// `transfer-source`); the binary sets it to the first `--listen`
    /// address. `None`: the system's choice.
    pub source_address: Option<IpAddr>,
}

impl AuthConfig {
    /// Primary zones from master files, nothing else: no transfers, no
    /// NOTIFY, no keys (what `dnslab auth --zone` was before transfers).
    pub fn primaries(sources: Vec<ZoneSource>, options: AuthOptions) -> AuthConfig {
        AuthConfig {
            options,
            zones: sources.into_iter().map(ZoneConfig::primary).collect(),
            keys: KeyRing::new(),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            limits: TransferLimits::default(),
            source_address: None,
        }
    }

    /// Whether any zone keeps history, so that the data directory is
    /// used (see [`ZoneConfig::keeps_history`]).
    pub fn uses_data_dir(&self) -> bool {
        self.zones.iter().any(ZoneConfig::keeps_history)
    }

    /// The key named `name` (any case, with or without the final dot).
    pub fn key(&self, name: &str) -> Option<&Arc<Key>> {
        self.keys.get(name)
    }
}

/// One zone and its transfer rules.
#[derive(Clone, Debug)]
pub struct ZoneConfig {
    pub role: Role,
    /// Secondaries told of each new version (RFC 1996), beside nothing
    /// else: the zone's NS records are not notified implicitly (Knot's
    /// and NSD's model; BIND notifies them too).
    pub notify: Vec<Remote>,
    /// Who may transfer the zone; empty: nobody (NSD's and Knot's
    /// default; BIND allows anyone).
    pub allow_transfer: Vec<AccessRule>,
    /// Who may change it by dynamic UPDATE, and when it is written back
    /// to its file; default: no updates.
    pub update: UpdateConfig,
    /// The order of its RRsets' records in answers; the server's
    /// ([`AuthOptions::rrset_order`]) when `None`.
    pub rrset_order: Option<RrsetOrder>,
    /// Answers chosen by who asks (`crate::views`); none: every client
    /// sees the zone's own data. A primary's only: a view replaces what
    /// its master file holds, and a secondary's data comes by transfer.
    /// A transfer gives the zone's own data, never a view's.
    pub views: Vec<View>,
}

impl ZoneConfig {
    /// A primary zone with no transfer or update rules, in the server's
    /// RRset order, without views.
    pub fn primary(source: ZoneSource) -> ZoneConfig {
        ZoneConfig {
            role: Role::Primary(source),
            notify: Vec::new(),
            allow_transfer: Vec::new(),
            update: UpdateConfig::default(),
            rrset_order: None,
            views: Vec::new(),
        }
    }

    pub fn is_secondary(&self) -> bool {
        matches!(self.role, Role::Secondary { .. })
    }

    /// Whether the zone keeps a history of its versions in the data
    /// directory: a secondary always (with its copy), a primary when
    /// others copy it (for IXFR) or when it takes updates (its journal).
    pub fn keeps_history(&self) -> bool {
        self.is_secondary()
            || !self.allow_transfer.is_empty()
            || !self.notify.is_empty()
            || self.update.enabled()
    }

    /// The zone's name, when the configuration gives it (a primary's may
    /// come from its file).
    pub fn origin(&self) -> Option<&Name> {
        match &self.role {
            Role::Primary(source) => source.origin.as_ref(),
            Role::Secondary { origin, .. } => Some(origin),
        }
    }
}

/// Where a zone's data comes from.
#[derive(Clone, Debug)]
pub enum Role {
    /// Read from a master file, reloaded on SIGHUP.
    Primary(ZoneSource),
    /// Copied from the first of `primaries` that answers (RFC 1034 4.3.5),
    /// kept fresh by NOTIFY and the SOA timers.
    Secondary {
        origin: Name,
        primaries: Vec<Remote>,
    },
}

/// Another server: a primary to copy from, or a secondary to notify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remote {
    pub addr: SocketAddr,
    /// Requests to it are signed with this key, and its answers must be.
    pub key: Option<Arc<Key>>,
}

impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "key:{}@{}", key.name(), self.addr),
            None => write!(f, "{}", self.addr),
        }
    }
}

/// A remote as written, `[key:NAME@]ADDR[:PORT]`, before its key name is
/// looked up: `127.0.0.1`, `127.0.0.1:5301`, `[::1]:5301`,
/// `key:transfer@192.0.2.1`. The port defaults to 53.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteSpec {
    pub addr: SocketAddr,
    pub key: Option<String>,
}

/// A text form of this module that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    #[error("{0:?} is not ADDRESS or ADDRESS:PORT (write [key:NAME@]192.0.2.1:53, or [::1]:53 for IPv6)")]
    Remote(String),
    #[error("{0:?} is not an address prefix or key:NAME (e.g. 192.0.2.0/24 or key:transfer)")]
    Rule(String),
    #[error("key name {name:?}: {reason}")]
    KeyName { name: String, reason: String },
}

impl FromStr for RemoteSpec {
    type Err = SyntaxError;

    fn from_str(text: &str) -> Result<RemoteSpec, SyntaxError> {
        let (key, addr) = match text.strip_prefix("key:").and_then(|k| k.split_once('@')) {
            Some((key, addr)) => (Some(key_name(key)?), addr),
            None => (None, text),
        };
        let bad = || SyntaxError::Remote(text.to_string());
        let addr = match addr.parse::<SocketAddr>() {
            Ok(addr) => addr,
            Err(_) => SocketAddr::new(addr.parse::<IpAddr>().map_err(|_| bad())?, DNS_PORT),
        };
        Ok(RemoteSpec { addr, key })
    }
}

/// A key name as flags and YAML write it: absolute, lowercase, as
/// [`Key::name`] gives it.
fn key_name(text: &str) -> Result<String, SyntaxError> {
    if text.is_empty() || text == "." {
        return Err(SyntaxError::KeyName {
            name: text.to_string(),
            reason: "a key needs a name".into(),
        });
    }
    absolute_name(text)
        .map(|name| name.to_lowercase().to_string())
        .map_err(|reason| SyntaxError::KeyName {
            name: text.to_string(),
            reason,
        })
}

/// One entry of an access list: the request comes from an address in
/// `address`, or is signed with the key `key` (verified), or both where
/// both are given (Knot's ACL: address and key together). A list allows a
/// request when any entry matches (BIND's `allow-transfer`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRule {
    pub address: Option<Cidr>,
    /// The key's name, absolute and lowercase.
    pub key: Option<String>,
}

impl AccessRule {
    /// Whether a request from `peer`, signed with `key` (already
    /// verified) or unsigned, matches this rule.
    pub fn matches(&self, peer: IpAddr, key: Option<&Key>) -> bool {
        let address_ok = self.address.is_none_or(|cidr| cidr.contains(peer));
        let key_ok = match &self.key {
            None => true,
            Some(name) => key.is_some_and(|key| key.name() == name),
        };
        address_ok && key_ok && (self.address.is_some() || self.key.is_some())
    }
}

/// Whether any rule of `rules` matches; an empty list allows nobody.
pub fn allowed(rules: &[AccessRule], peer: IpAddr, key: Option<&Key>) -> bool {
    rules.iter().any(|rule| rule.matches(peer, key))
}

impl FromStr for AccessRule {
    type Err = SyntaxError;

    /// `CIDR` (a bare address is one host), `key:NAME`, or both as
    /// `key:NAME@CIDR`.
    fn from_str(text: &str) -> Result<AccessRule, SyntaxError> {
        let bad = || SyntaxError::Rule(text.to_string());
        let cidr = |s: &str| s.parse::<Cidr>().map_err(|_| bad());
        match text.strip_prefix("key:") {
            Some(rest) => match rest.split_once('@') {
                Some((key, address)) => Ok(AccessRule {
                    address: Some(cidr(address)?),
                    key: Some(key_name(key)?),
                }),
                None => Ok(AccessRule {
                    address: None,
                    key: Some(key_name(rest)?),
                }),
            },
            None => Ok(AccessRule {
                address: Some(cidr(text)?),
                key: None,
            }),
        }
    }
}

impl fmt::Display for AccessRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.key, &self.address) {
            (Some(key), Some(address)) => write!(f, "key:{key}@{address}"),
            (Some(key), None) => write!(f, "key:{key}"),
            (None, Some(address)) => write!(f, "{address}"),
            (None, None) => f.write_str("nobody"),
        }
    }
}

/// Bounds on transfer sessions, so that neither a greedy secondary nor a
/// hostile primary can take the server's connections, time or memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferLimits {
    /// Outgoing transfers (AXFR, IXFR) at once; more are answered SERVFAIL
    /// and retried by the secondary later (BIND's `transfers-out`, 10).
    pub transfers_out: usize,
    /// Incoming transfers at once, over all secondary zones (BIND's
    /// `transfers-in`, 10); the others wait their turn.
    pub transfers_in: usize,
    /// The longest one incoming transfer may take, connection included
    /// (BIND's `max-transfer-time-in` is two hours; a lab's zones take
    /// seconds, and a primary that never ends its stream is cut off here).
    pub transfer_in_timeout: Duration,
    /// The longest the primary may stay silent within a transfer (BIND's
    /// `max-transfer-idle-in`).
    pub transfer_in_idle: Duration,
    /// Records at most in an incoming zone: its memory bound (a record
    /// costs a few hundred bytes until the zone is built).
    pub max_zone_records: usize,
    /// Octets at most of the messages of one incoming transfer.
    pub max_transfer_bytes: u64,
}

impl Default for TransferLimits {
    fn default() -> Self {
        TransferLimits {
            transfers_out: 10,
            transfers_in: 10,
            transfer_in_timeout: Duration::from_secs(600),
            transfer_in_idle: Duration::from_secs(60),
            max_zone_records: 5_000_000,
            max_transfer_bytes: 1 << 30,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remotes_parse_with_and_without_port_and_key() {
        let plain: RemoteSpec = "127.0.0.1".parse().unwrap();
        assert_eq!(plain.addr, "127.0.0.1:53".parse().unwrap());
        assert_eq!(plain.key, None);
        let keyed: RemoteSpec = "key:Transfer.Example@[::1]:5301".parse().unwrap();
        assert_eq!(keyed.addr, "[::1]:5301".parse().unwrap());
        assert_eq!(keyed.key.as_deref(), Some("transfer.example."));
        assert!("localhost:53".parse::<RemoteSpec>().is_err());
        assert!("key:@127.0.0.1".parse::<RemoteSpec>().is_err());
    }

    #[test]
    fn rules_match_address_key_or_both() {
        let ring: KeyRing = [
            Key::from_dig_spec("hmac-sha256:xfr:c2VjcmV0").unwrap(),
            Key::from_dig_spec("hmac-sha256:other:c2VjcmV0").unwrap(),
        ]
        .into_iter()
        .collect();
        let xfr = ring.get("xfr").map(|k| &**k);
        let other = ring.get("other").map(|k| &**k);
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let far: IpAddr = "192.0.2.1".parse().unwrap();
        let net: AccessRule = "127.0.0.0/8".parse().unwrap();
        assert!(net.matches(lo, None) && net.matches(lo, xfr) && !net.matches(far, None));
        let key: AccessRule = "key:XFR.".parse().unwrap();
        assert!(key.matches(far, xfr) && !key.matches(far, None) && !key.matches(lo, other));
        let both: AccessRule = "key:xfr@127.0.0.0/8".parse().unwrap();
        assert!(both.matches(lo, xfr) && !both.matches(far, xfr) && !both.matches(lo, None));
        assert_eq!(both.to_string(), "key:xfr.@127.0.0.0/8");
        assert!(!allowed(&[], lo, xfr), "an empty list allows nobody");
        assert!(allowed(&[key, net], lo, None));
        assert!("nobody".parse::<AccessRule>().is_err());
    }
}
