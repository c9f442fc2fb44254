//! A zone's dynamic update settings, from `allow_update` and
//! `zonefile_sync` (or `--allow-update`, `--zonefile-sync`; or a zone of a
//! `dnslab up` topology) to the library's `UpdateConfig`, with the rules
//! beyond parsing:
//! - every key a rule names is defined;
//! - a rule for unsigned updates (an address prefix without a key) names
//!   loopback addresses only, unless `insecure_updates` (RFC 3007 3:
//!   unsigned updates trust the source address, which anyone on the path
//!   can forge);
//! - listed names are inside the zone;
//! - a secondary takes no update rules (it answers NOTAUTH).

use std::time::Duration;

use dnslab_authoritative::{AccessRule, NameMatch, Names, UpdateConfig, UpdateRule};
use dnslab_tsig::KeyRing;
use dnslab_wire::absolute_name;
use hickory_proto::rr::{Name, RecordType};

use super::spec::UpdateRuleSpec;

/// What [`update_config`] needs to know beside the zone's entry.
pub(crate) struct Context<'a> {
    pub keys: &'a KeyRing,
    pub insecure_updates: bool,
    /// The zone's name, when known (a primary's may come from its file).
    pub origin: Option<&'a Name>,
    pub secondary: bool,
    /// How problems name the zone.
    pub shown: &'a str,
}

/// The zone's update settings from its `allow_update` and
/// `zonefile_sync`, and every problem found (messages for the zone's
/// line).
pub(crate) fn update_config(
    allow_update: &[UpdateRuleSpec],
    zonefile_sync: Option<u64>,
    context: &Context<'_>,
) -> (UpdateConfig, Vec<String>) {
    let shown = context.shown;
    let mut problems = Vec::new();
    if context.secondary && (!allow_update.is_empty() || zonefile_sync.is_some()) {
        problems.push(format!("zone {shown} is a secondary: it takes no updates (it answers NOTAUTH; give the rules to its primary)"));
    }
    let mut rules = Vec::new();
    for rule in allow_update {
        match update_rule(rule, context) {
            Ok(rule) => rules.push(rule),
            Err(problem) => problems.push(format!("zone {shown}: allow_update: {problem}")),
        }
    }
    let config = UpdateConfig {
        rules,
        zonefile_sync: zonefile_sync.map(Duration::from_secs),
    };
    (config, problems)
}

fn update_rule(spec: &UpdateRuleSpec, context: &Context<'_>) -> Result<UpdateRule, String> {
    let (who, names, how, types) = match spec {
        UpdateRuleSpec::Who(who) => (who, &[][..], None, &[][..]),
        UpdateRuleSpec::Rule(rule) => (
            &rule.who,
            &rule.names[..],
            rule.how.as_deref(),
            &rule.types[..],
        ),
    };
    let who_rule: AccessRule = who.parse().map_err(|e| format!("{e}"))?;
    if let Some(name) = who_rule.key.as_deref() {
        if context.keys.get(name).is_none() {
            return Err(format!(
                "`{who}`: no key named {name} (define it in `keys` or a key file)"
            ));
        }
    }
    if let (Some(cidr), None) = (who_rule.address, &who_rule.key) {
        if !cidr.is_loopback() && !context.insecure_updates {
            return Err(format!("`{who}` allows unsigned updates from beyond this machine, which anyone who can forge a source address could send: sign them (key:NAME), or set insecure_updates (--insecure-updates)"));
        }
    }
    let mut listed = Vec::new();
    for text in names {
        let name = absolute_name(text).map_err(|reason| format!("name `{text}`: {reason}"))?;
        if let Some(origin) = context.origin.filter(|origin| !origin.zone_of(&name)) {
            return Err(format!("name {name} is not in zone {origin}"));
        }
        listed.push(name);
    }
    let how = match how {
        Some(text) => text.parse::<NameMatch>()?,
        None => NameMatch::default(),
    };
    let names = match (listed.is_empty(), how) {
        (true, NameMatch::AtOrBelow) => Names::Zone,
        (true, _) => return Err(format!("`match: {how}` needs `names`")),
        (false, how) => Names::Listed { names: listed, how },
    };
    let types = types
        .iter()
        .map(|text| {
            text.to_ascii_uppercase()
                .parse::<RecordType>()
                .map_err(|_| format!("`{text}` is not a record type"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(UpdateRule {
        who: who_rule,
        names,
        types,
    })
}
