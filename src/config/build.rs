//! From a [`ConfigSpec`] (a YAML file, or flags) to a [`Setup`]: every
//! address, name, key and rule parsed, every reference resolved, every
//! problem collected with its line.
//!
//! Rules beyond parsing:
//! - a zone is a primary (`file`) or a secondary (`primaries`), not both
//!   and not neither; a secondary names its zone; no zone twice;
//! - every key named (by a remote, a `key:` rule or a `primaries`/`notify`
//!   entry) is defined, in `keys` or a key file;
//! - a `primaries`/`notify` entry is an address or the `id` of a remote;
//! - at least one `listen` address (flags may give it instead);
//! - a zone's update rules, as `update.rs` says;
//! - an `rrset_order` is fixed, cyclic or random; views are a primary's,
//!   each with its prefixes and either `file` or `records` (whether their
//!   data load is the zones' check, at start or `dnslab check --config`).

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use dnslab_authoritative::{
    AccessRule, Remote, RemoteSpec, Role, TransferLimits, ZoneConfig, DEFAULT_DATA_DIR,
};
use dnslab_authoritative::{AuthConfig, AuthOptions, ZoneSource};
use dnslab_tsig::{Key, KeyRing};
use dnslab_wire::{absolute_name, RrsetOrder};

use super::spec::{ConfigSpec, LimitsSpec, RemoteEntry, ZoneSpec, FORMAT_VERSION};
use super::update::{update_config, Context};
use super::{Origin, Problem, Problems, Setup};
use crate::views::SECONDARY_VIEWS;
use crate::yaml::{Lines, Place};

/// Validates `spec` (read from `origin`) into a [`Setup`], or every
/// problem found.
pub fn build(spec: ConfigSpec, origin: &Origin<'_>) -> Result<Setup, Problems> {
    let mut builder = Builder {
        origin,
        lines: Lines::new(origin.text),
        problems: Vec::new(),
    };
    let setup = builder.setup(spec);
    match (setup, builder.problems.is_empty()) {
        (Some(setup), true) => Ok(setup),
        _ => Err(Problems(builder.problems)),
    }
}

struct Builder<'a> {
    origin: &'a Origin<'a>,
    lines: Lines<'a>,
    problems: Vec<Problem>,
}

impl Builder<'_> {
    fn problem(&mut self, line: Option<usize>, message: String) {
        let at = match (self.origin.file, line) {
            (Some(file), Some(line)) => Some(Place {
                file: file.to_path_buf(),
                line,
            }),
            _ => None,
        };
        self.problems.push(Problem { at, message });
    }

    fn setup(&mut self, spec: ConfigSpec) -> Option<Setup> {
        if let Some(version) = spec.version.filter(|&v| v != FORMAT_VERSION) {
            let line = self.lines.find("version", &version.to_string(), 0);
            self.problem(line, format!("this is configuration format version {version}; this dnslab reads version {FORMAT_VERSION}"));
        }
        let listen = self.listen(&spec.listen);
        let keys = self.keys(&spec);
        let remotes = self.remotes(&spec.remotes, &keys);
        let mut zones = Vec::new();
        let mut seen = HashSet::new();
        let insecure_updates = spec.insecure_updates.unwrap_or(false);
        for (nth, zone) in spec.zones.iter().enumerate() {
            let at = (nth, &spec.zones[..]);
            if let Some(config) = self.zone(zone, at, &remotes, &keys, insecure_updates) {
                if let Some(origin) = config.origin() {
                    if !seen.insert(origin.clone()) {
                        let line = self.zone_line(zone, nth, &spec.zones);
                        self.problem(line, format!("zone {origin} is configured twice"));
                    }
                }
                zones.push(config);
            }
        }
        let source_address = match &spec.source_address {
            Some(text) => match text.parse::<IpAddr>() {
                Ok(ip) => Some(ip),
                Err(_) => {
                    let line = self.lines.find("source_address", text, 0);
                    self.problem(
                        line,
                        format!("source_address `{text}` is not an IP address"),
                    );
                    None
                }
            },
            None => listen
                .first()
                .map(SocketAddr::ip)
                .filter(|ip| !ip.is_unspecified()),
        };
        let max_udp_payload = match spec.max_udp_payload {
            Some(size) if size < 512 => {
                let line = self.lines.find("max_udp_payload", &size.to_string(), 0);
                self.problem(
                    line,
                    format!("max_udp_payload {size} is below 512 (RFC 1035 4.2.1)"),
                );
                512
            }
            Some(size) => size,
            None => AuthOptions::default().max_udp_payload,
        };
        let data_dir = spec.data_dir.as_deref().unwrap_or(DEFAULT_DATA_DIR);
        let rrset_order = self.rrset_order(spec.rrset_order.as_deref(), None);
        Some(Setup {
            auth: AuthConfig {
                options: AuthOptions {
                    log_queries: spec.log_queries.unwrap_or(false),
                    server_name: None,
                    max_udp_payload,
                    rrset_order: rrset_order.unwrap_or_default(),
                    ecs: spec.ecs.unwrap_or(false),
                },
                zones,
                keys,
                data_dir: self.origin.base.join(data_dir),
                limits: limits(spec.limits.as_ref()),
                source_address,
            },
            listen,
            udp_workers: spec.udp_workers,
        })
    }

    fn listen(&mut self, listen: &[String]) -> Vec<SocketAddr> {
        let mut addrs = Vec::new();
        for text in listen {
            match text.parse::<SocketAddr>() {
                Ok(addr) => addrs.push(addr),
                Err(_) => {
                    let line = self.lines.find_key("listen");
                    self.problem(line, format!("listen address `{text}` is not ADDRESS:PORT (e.g. 127.0.0.1:5300, [::1]:5300)"));
                }
            }
        }
        if addrs.is_empty() && listen.is_empty() {
            self.problem(
                None,
                "no listen address: give `listen: [ADDRESS:PORT]` or --listen".into(),
            );
        }
        addrs
    }

    fn keys(&mut self, spec: &ConfigSpec) -> KeyRing {
        let mut ring = KeyRing::new();
        for file in &spec.key_files {
            let path = self.origin.base.join(file);
            if let Err(e) = ring.add_file(&path) {
                // The key file's own error names its file and line.
                self.problems.push(Problem {
                    at: None,
                    message: e.to_string(),
                });
            }
        }
        for key in &spec.keys {
            match Key::from_text(&key.name, &key.algorithm, &key.secret) {
                Ok(parsed) => {
                    if ring.get(parsed.name()).is_some() {
                        let line = self.lines.find("name", &key.name, 0);
                        self.problem(line, format!("key {} is defined twice", parsed.name()));
                    }
                    ring.insert(parsed);
                }
                Err(e) => {
                    let line = self.lines.find("name", &key.name, 0);
                    self.problem(line, format!("key {}: {e}", key.name));
                }
            }
        }
        ring
    }

    fn remotes<'s>(
        &mut self,
        entries: &'s [RemoteEntry],
        keys: &KeyRing,
    ) -> Vec<(&'s str, Remote)> {
        let mut remotes: Vec<(&str, Remote)> = Vec::new();
        for entry in entries {
            let line = self.lines.find("id", &entry.id, 0);
            if remotes.iter().any(|(id, _)| *id == entry.id) {
                self.problem(line, format!("remote id `{}` is used twice", entry.id));
                continue;
            }
            let addr = match entry.address.parse::<RemoteSpec>() {
                Ok(spec) if spec.key.is_none() => spec.addr,
                _ => {
                    self.problem(
                        line,
                        format!(
                            "remote `{}`: address `{}` is not ADDRESS[:PORT]",
                            entry.id, entry.address
                        ),
                    );
                    continue;
                }
            };
            let key = match &entry.key {
                Some(name) => match keys.get(name) {
                    Some(key) => Some(Arc::clone(key)),
                    None => {
                        self.problem(line, format!("remote `{}`: no key named {name} (define it in `keys` or a key file)", entry.id));
                        continue;
                    }
                },
                None => None,
            };
            remotes.push((&entry.id, Remote { addr, key }));
        }
        remotes
    }

    /// The line of the `nth` zone entry: its `zone:` key, else its `file:`.
    fn zone_line(&self, zone: &ZoneSpec, nth: usize, all: &[ZoneSpec]) -> Option<usize> {
        let same = |f: fn(&ZoneSpec) -> &Option<String>| {
            all[..nth].iter().filter(|z| f(z) == f(zone)).count()
        };
        if let Some(name) = &zone.zone {
            return self.lines.find("zone", name, same(|z| &z.zone));
        }
        zone.file
            .as_ref()
            .and_then(|file| self.lines.find("file", file, same(|z| &z.file)))
    }

    /// The zone `spec`, the `nth` of `all`.
    fn zone(
        &mut self,
        spec: &ZoneSpec,
        (nth, all): (usize, &[ZoneSpec]),
        remotes: &[(&str, Remote)],
        keys: &KeyRing,
        insecure_updates: bool,
    ) -> Option<ZoneConfig> {
        let line = self.zone_line(spec, nth, all);
        let shown = spec
            .zone
            .clone()
            .or_else(|| spec.file.clone())
            .unwrap_or_default();
        let origin = match &spec.zone {
            Some(text) => match absolute_name(text) {
                Ok(name) => Some(name),
                Err(reason) => {
                    self.problem(
                        line,
                        format!("zone `{text}` is not a domain name: {reason}"),
                    );
                    return None;
                }
            },
            None => None,
        };
        let lookup = |what: &str, text: &str, builder: &mut Self| -> Option<Remote> {
            if let Some((_, remote)) = remotes.iter().find(|(id, _)| *id == text) {
                return Some(remote.clone());
            }
            match text.parse::<RemoteSpec>() {
                Ok(spec) => match spec.key {
                    None => Some(Remote {
                        addr: spec.addr,
                        key: None,
                    }),
                    Some(name) => match keys.get(&name) {
                        Some(key) => Some(Remote {
                            addr: spec.addr,
                            key: Some(Arc::clone(key)),
                        }),
                        None => {
                            builder.problem(
                                line,
                                format!("zone {shown}: {what} `{text}`: no key named {name}"),
                            );
                            None
                        }
                    },
                },
                Err(e) => {
                    builder.problem(line, format!("zone {shown}: {what} `{text}` is neither a remote's id nor an address: {e}"));
                    None
                }
            }
        };
        let primaries: Vec<Remote> = spec
            .primaries
            .iter()
            .filter_map(|t| lookup("primary", t, self))
            .collect();
        let notify: Vec<Remote> = spec
            .notify
            .iter()
            .filter_map(|t| lookup("notify", t, self))
            .collect();
        let mut allow_transfer = Vec::new();
        for text in &spec.allow_transfer {
            match text.parse::<AccessRule>() {
                Ok(rule) => {
                    if let Some(name) = rule.key.as_deref().filter(|name| keys.get(name).is_none())
                    {
                        self.problem(
                            line,
                            format!("zone {shown}: allow_transfer `{text}`: no key named {name}"),
                        );
                    }
                    allow_transfer.push(rule);
                }
                Err(e) => self.problem(line, format!("zone {shown}: allow_transfer: {e}")),
            }
        }
        let (update, problems) = update_config(
            &spec.allow_update,
            spec.zonefile_sync,
            &Context {
                keys,
                insecure_updates,
                origin: origin.as_ref(),
                secondary: !spec.primaries.is_empty(),
                shown: &shown,
            },
        );
        for problem in problems {
            self.problem(line, problem);
        }
        let role = match (&spec.file, spec.primaries.is_empty(), origin) {
            (Some(file), true, origin) => Role::Primary(ZoneSource {
                origin,
                path: self.origin.base.join(file),
            }),
            (None, false, Some(origin)) => Role::Secondary { origin, primaries },
            (None, false, None) => {
                self.problem(line, "a secondary zone needs its name (`zone:`)".into());
                return None;
            }
            (Some(_), false, _) => {
                self.problem(line, format!("zone {shown} has both a file and primaries: a zone is a primary (file) or a secondary (primaries)"));
                return None;
            }
            (None, true, _) => {
                self.problem(
                    line,
                    format!("zone {shown} has neither a file nor primaries"),
                );
                return None;
            }
        };
        let rrset_order = self.rrset_order(spec.rrset_order.as_deref(), Some(&shown));
        let mut views = Vec::new();
        for view in &spec.views {
            let line = self.lines.find("name", &view.name, 0).or(line);
            let built = match &role {
                Role::Primary(_) => view.view(&self.origin.base),
                Role::Secondary { .. } => Err(SECONDARY_VIEWS.to_string()),
            };
            match built {
                Ok(built) => views.push(built),
                Err(reason) => {
                    let message = format!("zone {shown}, view {}: {reason}", view.name);
                    self.problem(line, message);
                }
            }
        }
        Some(ZoneConfig {
            role,
            notify,
            allow_transfer,
            update,
            rrset_order,
            views,
        })
    }

    /// An `rrset_order:` (the server's, or zone `zone`'s), or a problem at
    /// its line.
    fn rrset_order(&mut self, text: Option<&str>, zone: Option<&str>) -> Option<RrsetOrder> {
        let text = text?;
        match text.parse::<RrsetOrder>() {
            Ok(order) => Some(order),
            Err(error) => {
                let line = self.lines.find("rrset_order", text, 0);
                let message = match zone {
                    Some(zone) => format!("zone {zone}: {error}"),
                    None => error.to_string(),
                };
                self.problem(line, message);
                None
            }
        }
    }
}

/// The limits given, the rest default.
fn limits(spec: Option<&LimitsSpec>) -> TransferLimits {
    let default = TransferLimits::default();
    let Some(spec) = spec else {
        return default;
    };
    TransferLimits {
        transfers_out: spec.transfers_out.unwrap_or(default.transfers_out),
        transfers_in: spec.transfers_in.unwrap_or(default.transfers_in),
        transfer_in_timeout: spec
            .transfer_timeout
            .map_or(default.transfer_in_timeout, Duration::from_secs),
        transfer_in_idle: spec
            .transfer_idle
            .map_or(default.transfer_in_idle, Duration::from_secs),
        max_zone_records: spec.max_zone_records.unwrap_or(default.max_zone_records),
        max_transfer_bytes: spec
            .max_transfer_bytes
            .unwrap_or(default.max_transfer_bytes),
    }
}
