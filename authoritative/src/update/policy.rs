//! Who may change what in a zone by dynamic UPDATE: the zone's update
//! rules (RFC 3007 leaves the policy to the server), in the spirit of
//! Knot's ACL with `update-owner` / `update-type` and BIND's
//! `update-policy`.
//!
//! A rule grants to whoever matches its [`AccessRule`] (a TSIG key, an
//! address prefix, or both, as `allow_transfer` reads them) the right to
//! change records whose owner is in its [`Names`] and whose type is in its
//! `types` (any type when empty). An update is allowed record by record
//! (RFC 2136 3.3): every record of its update section must be granted by
//! some rule, or the whole update is REFUSED. A zone with no rules takes
//! no updates (NSD's and Knot's default; BIND's too).
//!
//! Deleting every RRset at a name (class ANY, type ANY) needs a rule
//! without a type list, as BIND requires `ANY` in a rule's types for it:
//! a rule for A and AAAA must not let its holder delete a name's MX.
//!
//! Unsigned updates are allowed only by a rule naming an address prefix
//! without a key. The `dnslab` binary accepts such a rule only for
//! loopback addresses unless told `--insecure-updates`: anyone who can
//! forge a source address could otherwise rewrite the zone.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use dnslab_tsig::Key;
use hickory_proto::rr::{Name, RecordType};

use crate::config::AccessRule;

/// A zone's dynamic update configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateConfig {
    /// Who may change what; empty: no updates (REFUSED).
    pub rules: Vec<UpdateRule>,
    /// How long after an update the zone is written back to its master
    /// file (Knot's `zonefile-sync`; `Some(0)` right after each batch of
    /// updates); `None`: only by `dnslab ctl zone-flush` and when the
    /// journal is over its limits. The journal keeps every change
    /// durable either way.
    pub zonefile_sync: Option<Duration>,
}

impl UpdateConfig {
    /// Whether the zone takes updates at all.
    pub fn enabled(&self) -> bool {
        !self.rules.is_empty()
    }
}

/// One grant: requests matching `who` may change records at `names` of
/// the types listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateRule {
    pub who: AccessRule,
    pub names: Names,
    /// The types it may change; empty: every type.
    pub types: Vec<RecordType>,
}

/// The owner names a rule covers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Names {
    /// Every name of the zone (BIND's `zonesub`).
    #[default]
    Zone,
    /// The names listed, matched as `how` says.
    Listed { names: Vec<Name>, how: NameMatch },
}

/// How a listed name matches an owner, as Knot's `update-owner-match`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NameMatch {
    /// The name and every name below it (Knot's `sub-or-equal`, BIND's
    /// `subdomain`): the default.
    #[default]
    AtOrBelow,
    /// The name itself only (Knot's `equal`, BIND's `name`).
    At,
    /// Names strictly below it (Knot's `sub`, BIND's `wildcard *.NAME`):
    /// a registrar's key for the delegations of a TLD, not its apex.
    Below,
}

impl NameMatch {
    /// The spelling in configurations: `at-or-below`, `at`, `below`.
    pub const NAMES: [(&'static str, NameMatch); 3] = [
        ("at-or-below", NameMatch::AtOrBelow),
        ("at", NameMatch::At),
        ("below", NameMatch::Below),
    ];

    fn matches(self, listed: &Name, owner: &Name) -> bool {
        match self {
            NameMatch::AtOrBelow => listed.zone_of(owner),
            NameMatch::At => listed == owner,
            NameMatch::Below => listed.zone_of(owner) && listed != owner,
        }
    }
}

impl FromStr for NameMatch {
    type Err = String;

    fn from_str(text: &str) -> Result<NameMatch, String> {
        NameMatch::NAMES
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, how)| *how)
            .ok_or_else(|| format!("{text:?} is not at-or-below, at or below"))
    }
}

impl fmt::Display for NameMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = NameMatch::NAMES
            .iter()
            .find(|(_, how)| how == self)
            .map_or("?", |(name, _)| name);
        f.write_str(name)
    }
}

/// Who sent an update: its address and the key it was signed with
/// (verified), if any.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Client<'a> {
    pub ip: IpAddr,
    pub key: Option<&'a Key>,
}

impl UpdateRule {
    /// The rule for `who`, everything in the zone.
    pub fn whole_zone(who: AccessRule) -> UpdateRule {
        UpdateRule {
            who,
            names: Names::Zone,
            types: Vec::new(),
        }
    }

    fn grants_client(&self, client: Client<'_>) -> bool {
        self.who.matches(client.ip, client.key)
    }

    /// Whether it lets `client` change the records of type `rtype` at
    /// `owner` (`ANY`: every RRset at the name).
    fn grants(&self, client: Client<'_>, owner: &Name, rtype: RecordType) -> bool {
        let name_ok = match &self.names {
            Names::Zone => true,
            Names::Listed { names, how } => names.iter().any(|n| how.matches(n, owner)),
        };
        let type_ok = match rtype {
            RecordType::ANY => self.types.is_empty(),
            rtype => self.types.is_empty() || self.types.contains(&rtype),
        };
        name_ok && type_ok && self.grants_client(client)
    }
}

impl fmt::Display for UpdateRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.who)?;
        if let Names::Listed { names, how } = &self.names {
            let names: Vec<String> = names.iter().map(ToString::to_string).collect();
            write!(f, " {how} {}", names.join(" "))?;
        }
        if !self.types.is_empty() {
            let types: Vec<String> = self.types.iter().map(ToString::to_string).collect();
            write!(f, " types {}", types.join(" "))?;
        }
        Ok(())
    }
}

/// Whether any rule lets `client` update the zone at all: checked on the
/// request path, before the update waits for the zone's writer (BIND
/// likewise refuses a client no rule names before reading prerequisites,
/// which would otherwise tell it what the zone holds).
pub(crate) fn may_update(rules: &[UpdateRule], client: Client<'_>) -> bool {
    rules.iter().any(|rule| rule.grants_client(client))
}

/// Whether some rule lets `client` change type `rtype` at `owner` (RFC
/// 2136 3.3, per record of the update section).
pub(crate) fn may_change(
    rules: &[UpdateRule],
    client: Client<'_>,
    owner: &Name,
    rtype: RecordType,
) -> bool {
    rules.iter().any(|rule| rule.grants(client, owner, rtype))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    #[test]
    fn a_rule_grants_its_names_and_types_to_its_key_only() {
        let web = Key::from_dig_spec("hmac-sha256:web:c2VjcmV0").unwrap();
        let other = Key::from_dig_spec("hmac-sha256:other:c2VjcmV0").unwrap();
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let rule = UpdateRule {
            who: "key:web".parse().unwrap(),
            names: Names::Listed {
                names: vec![name("www.example.")],
                how: NameMatch::AtOrBelow,
            },
            types: vec![RecordType::A, RecordType::AAAA],
        };
        let rules = [rule];
        let signed = Client {
            ip: lo,
            key: Some(&web),
        };
        let www = name("WWW.example.");
        assert!(may_update(&rules, signed));
        assert!(may_change(&rules, signed, &www, RecordType::A));
        assert!(may_change(
            &rules,
            signed,
            &name("a.www.example."),
            RecordType::AAAA
        ));
        assert!(!may_change(&rules, signed, &www, RecordType::MX));
        assert!(!may_change(&rules, signed, &www, RecordType::ANY));
        assert!(!may_change(
            &rules,
            signed,
            &name("mail.example."),
            RecordType::A
        ));
        for stranger in [
            Client {
                ip: lo,
                key: Some(&other),
            },
            Client { ip: lo, key: None },
        ] {
            assert!(!may_update(&rules, stranger));
            assert!(!may_change(&rules, stranger, &www, RecordType::A));
        }
    }

    #[test]
    fn names_match_at_below_or_both() {
        let (com, child) = (name("com."), name("newstartup.com."));
        assert!(NameMatch::AtOrBelow.matches(&com, &com));
        assert!(NameMatch::AtOrBelow.matches(&com, &child));
        assert!(NameMatch::At.matches(&com, &name("COM.")));
        assert!(!NameMatch::At.matches(&com, &child));
        assert!(NameMatch::Below.matches(&com, &child));
        assert!(!NameMatch::Below.matches(&com, &com));
        assert!(!NameMatch::Below.matches(&child, &com));
        for (text, how) in NameMatch::NAMES {
            assert_eq!(text.parse::<NameMatch>().unwrap(), how);
            assert_eq!(how.to_string(), text);
        }
        assert!("sub".parse::<NameMatch>().is_err());
    }

    #[test]
    fn an_address_rule_grants_unsigned_updates_from_its_prefix() {
        let rules = [UpdateRule::whole_zone("127.0.0.0/8".parse().unwrap())];
        let lo = Client {
            ip: "127.0.0.9".parse().unwrap(),
            key: None,
        };
        let far = Client {
            ip: "192.0.2.1".parse().unwrap(),
            key: None,
        };
        assert!(may_change(&rules, lo, &name("x.example."), RecordType::ANY));
        assert!(!may_update(&rules, far));
        assert_eq!(rules[0].to_string(), "127.0.0.0/8");
    }
}
