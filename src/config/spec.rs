//! The configuration file as written: YAML in the spirit of Knot's
//! (`server`-wide settings, keys, remotes, then zones), read with
//! `deny_unknown_fields` so that a misspelt key is an error with its line,
//! never silently ignored. Field docs are the user's reference; the
//! README has a complete example.
//!
//! The flags of `dnslab auth` fill the same structure ([`ConfigSpec`]), so
//! both are validated by one conversion (`build.rs`).

use serde::Deserialize;

use crate::views::ViewSpec;

/// The format's only version.
pub const FORMAT_VERSION: u32 = 1;

/// A whole configuration file, version 1.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigSpec {
    /// The format's version; only 1 exists.
    pub version: Option<u32>,
    /// Addresses to serve on, UDP and TCP: `ADDRESS:PORT`.
    #[serde(default)]
    pub listen: Vec<String>,
    /// UDP sockets (and threads) per address; default one per CPU.
    pub udp_workers: Option<usize>,
    /// One log line per query.
    pub log_queries: Option<bool>,
    /// The largest UDP response and the EDNS size advertised (>= 512).
    pub max_udp_payload: Option<u16>,
    /// The order of each RRset's records in answers, for zones that do not
    /// say: fixed, cyclic (the default) or random.
    pub rrset_order: Option<String>,
    /// Choose views by a query's EDNS Client Subnet (RFC 7871) and answer
    /// with its scope; default off.
    pub ecs: Option<bool>,
    /// Where secondary copies and transfer history are kept (default
    /// `./dnslab-data`); relative to the configuration file.
    pub data_dir: Option<String>,
    /// The address NOTIFY, SOA queries and transfers leave from (default:
    /// the first `listen` address).
    pub source_address: Option<String>,
    /// BIND key files, as `tsig-keygen` writes them; relative to the
    /// configuration file.
    #[serde(default)]
    pub key_files: Vec<String>,
    /// Keys written here instead of in a key file.
    #[serde(default)]
    pub keys: Vec<KeySpec>,
    /// Other servers by name, for `primaries` and `notify`.
    #[serde(default)]
    pub remotes: Vec<RemoteEntry>,
    /// Bounds on transfer sessions.
    pub limits: Option<LimitsSpec>,
    /// Allow `allow_update` rules for unsigned updates from addresses
    /// other than loopback (anyone who can forge such an address can
    /// then rewrite the zone). Default: off.
    pub insecure_updates: Option<bool>,
    #[serde(default)]
    pub zones: Vec<ZoneSpec>,
}

/// A TSIG key: `{ name: transfer, algorithm: hmac-sha256, secret: ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    pub name: String,
    /// hmac-sha256, hmac-sha384, hmac-sha512 (or sha1, sha224), optionally
    /// truncated as BIND writes it (`hmac-sha256-128`).
    pub algorithm: String,
    /// Base64, as `tsig-keygen` prints it.
    pub secret: String,
}

/// A named remote server: `{ id: knot, address: 192.0.2.1:53, key: xfr }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteEntry {
    pub id: String,
    /// `ADDRESS` or `ADDRESS:PORT` (`[v6]:PORT`); the port defaults to 53.
    pub address: String,
    /// The key requests to it are signed with (its answers must be too).
    pub key: Option<String>,
}

/// Bounds on transfer sessions; each defaults to the value documented in
/// `dnslab_authoritative::TransferLimits`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// Outgoing transfers at once (more are answered SERVFAIL).
    pub transfers_out: Option<usize>,
    /// Incoming transfers at once, over every secondary zone.
    pub transfers_in: Option<usize>,
    /// Seconds an incoming transfer may take in all.
    pub transfer_timeout: Option<u64>,
    /// Seconds a primary may stay silent within a transfer.
    pub transfer_idle: Option<u64>,
    /// Records at most in an incoming zone.
    pub max_zone_records: Option<usize>,
    /// Octets at most of one incoming transfer.
    pub max_transfer_bytes: Option<u64>,
}

/// One zone: a primary (`file`) or a secondary (`primaries`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneSpec {
    /// The zone's name; a primary's may come from its file (`$ORIGIN` or
    /// the SOA's owner).
    pub zone: Option<String>,
    /// A primary: its master file, relative to the configuration file.
    pub file: Option<String>,
    /// A secondary: the servers it copies from, tried in order; each a
    /// remote's `id` or `[key:NAME@]ADDRESS[:PORT]`.
    #[serde(default)]
    pub primaries: Vec<String>,
    /// Secondaries to NOTIFY of each new version (remote ids or
    /// addresses, as `primaries`).
    #[serde(default)]
    pub notify: Vec<String>,
    /// Who may transfer the zone: `CIDR` (a bare address is one host),
    /// `key:NAME`, or `key:NAME@CIDR` for both. Default: nobody.
    #[serde(default)]
    pub allow_transfer: Vec<String>,
    /// Who may change the zone by dynamic UPDATE, and what (see
    /// [`UpdateRuleSpec`]). Default: nobody.
    #[serde(default)]
    pub allow_update: Vec<UpdateRuleSpec>,
    /// Seconds after an update before the zone is written back to its
    /// file (0: after every update); default: only by `dnslab ctl
    /// zone-flush`. The journal keeps every update durable meanwhile.
    pub zonefile_sync: Option<u64>,
    /// fixed, cyclic or random; the server's `rrset_order` by default.
    pub rrset_order: Option<String>,
    /// Answers chosen by who asks, a primary's (see `crate::views`).
    #[serde(default)]
    pub views: Vec<ViewSpec>,
}

/// One update rule: who, as `allow_transfer` writes it, for the whole
/// zone (`"key:ddns"`, `"127.0.0.1"`), or a mapping that narrows what it
/// may change:
///
/// ```yaml
/// - who: "key:registrar"
///   names: [com.]          # owner names, matched as `match` says
///   match: below           # at-or-below (default), at, below
///   types: [NS, A, AAAA, DS]   # default: every type
/// ```
#[derive(Clone, Debug)]
pub enum UpdateRuleSpec {
    Who(String),
    Rule(RuleSpec),
}

/// The mapping form of [`UpdateRuleSpec`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub who: String,
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(rename = "match")]
    pub how: Option<String>,
    #[serde(default)]
    pub types: Vec<String>,
}

impl<'de> Deserialize<'de> for UpdateRuleSpec {
    /// A string or a mapping; the mapping keeps `deny_unknown_fields`'s
    /// message (an untagged enum would only say that nothing matched).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = UpdateRuleSpec;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("\"key:NAME\", an address prefix, or { who, names, match, types }")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<UpdateRuleSpec, E> {
                Ok(UpdateRuleSpec::Who(text.to_string()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<UpdateRuleSpec, A::Error> {
                let deserializer = serde::de::value::MapAccessDeserializer::new(map);
                RuleSpec::deserialize(deserializer).map(UpdateRuleSpec::Rule)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}
