//! RFC 2136 section 3 on one message: prerequisites (3.2), permission
//! (3.3, with RFC 3007's policy: `super::policy`), the update section's
//! prescan (3.4.1) and its records applied in order (3.4.2), all or none;
//! then the checks of a load on what changed, and the SOA serial moved
//! forward. A pure function of a [`ZoneEdit`] and the message, so that
//! each rule is unit-tested with hand-built records (`tests.rs`).
//!
//! The choices RFC 2136 leaves, as BIND makes them:
//! - adding a record to an RRset whose records have another TTL sets
//!   the TTL of the whole RRset to the new one (RFC 2181 5.2: one TTL per
//!   RRset), except for RRSIG, whose records keep their own;
//! - CNAME, DNAME and SOA are singletons: adding one replaces the one
//!   there; a CNAME is not added beside other data, nor other data beside
//!   a CNAME (RRSIG and NSEC may sit beside one, RFC 4035 2.5); such
//!   adds are ignored, as RFC 2136 3.4.2.2 says;
//! - an SOA is replaced only by one at the apex with a greater serial
//!   (RFC 1982); deleting it is ignored; the apex NS RRset is never
//!   emptied (3.4.2.4);
//! - the serial moves up by one for every update that changed something
//!   (skipping 0, as BIND does), unless the update set a greater one
//!   itself; an update that changes nothing (duplicates, deletes of
//!   nothing) keeps the serial and is answered NOERROR;
//! - an update that would break a rule of the checks of a load (an
//!   in-zone name server left without an address) is REFUSED as a
//!   whole, and the log names the rule;
//! - an add with an empty RDATA is FORMERR, except for a type unknown to
//!   hickory-proto (RFC 3597 allows `\# 0`).

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use super::edit::{EditSet, ZoneEdit};
use super::message::UpdateMessage;
use super::policy::{may_change, Client, UpdateRule};
use crate::zone::check::ProblemKind;
use crate::zone::diff::Changeset;
use crate::zone::reader::unknown;
use crate::zone::serial::{serial_add, serial_gt};

/// Why an update was not applied; each variant names the rule, and
/// [`UpdateError::rcode`] is what the client is told.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub(crate) enum UpdateError {
    /// RFC 2136 3.2.5, 3.4.1.3: a record outside the zone.
    #[error("{0} is not in the zone")]
    NotZone(Name),
    /// A record breaks the section's form (a TTL or RDATA where there
    /// must be none, a class or type the section cannot have).
    #[error("{section} record {record}: {why}")]
    Malformed {
        section: Section,
        record: String,
        why: &'static str,
    },
    /// RFC 2136 2.4.4: "name is in use" failed.
    #[error("prerequisite failed: no record at {0} (name is in use)")]
    NameNotInUse(Name),
    /// RFC 2136 2.4.5: "name is not in use" failed.
    #[error("prerequisite failed: {0} owns records (name is not in use)")]
    NameInUse(Name),
    /// RFC 2136 2.4.1: "RRset exists (value independent)" failed.
    #[error("prerequisite failed: no {1} RRset at {0} (RRset exists)")]
    RRsetMissing(Name, RecordType),
    /// RFC 2136 2.4.3: "RRset does not exist" failed.
    #[error("prerequisite failed: {0} has a {1} RRset (RRset does not exist)")]
    RRsetExists(Name, RecordType),
    /// RFC 2136 2.4.2: "RRset exists (value dependent)" failed.
    #[error("prerequisite failed: the {1} RRset at {0} is not the one given (RRset exists, value dependent)")]
    RRsetDiffers(Name, RecordType),
    /// RFC 2136 3.3, RFC 3007: no rule lets this client change it.
    #[error("{rtype} at {name}: no update rule allows this client to change it")]
    Denied { name: Name, rtype: RecordType },
    /// The zone would break a rule of the checks of a load.
    #[error("the update would break a rule of the zone's checks: {0}")]
    Check(Box<ProblemKind>),
}

impl UpdateError {
    pub(crate) fn rcode(&self) -> ResponseCode {
        match self {
            UpdateError::NotZone(_) => ResponseCode::NotZone,
            UpdateError::Malformed { .. } => ResponseCode::FormErr,
            UpdateError::NameNotInUse(_) => ResponseCode::NXDomain,
            UpdateError::NameInUse(_) => ResponseCode::YXDomain,
            UpdateError::RRsetMissing(..) | UpdateError::RRsetDiffers(..) => ResponseCode::NXRRSet,
            UpdateError::RRsetExists(..) => ResponseCode::YXRRSet,
            UpdateError::Denied { .. } | UpdateError::Check(_) => ResponseCode::Refused,
        }
    }
}

/// Which section a malformed record is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Section {
    Prerequisite,
    Update,
}

impl std::fmt::Display for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Section::Prerequisite => "prerequisite",
            Section::Update => "update",
        })
    }
}

/// Applies `message` from `client` to `edit` as RFC 2136 section 3 says:
/// the changeset it made (`None` when it changed nothing), or why nothing
/// was changed.
pub(crate) fn apply(
    edit: &mut ZoneEdit,
    message: &UpdateMessage,
    client: Client<'_>,
    rules: &[UpdateRule],
) -> Result<Option<Changeset>, UpdateError> {
    check_prerequisites(edit, message)?;
    for record in &message.updates {
        // RFC 2136 3.3; outside the zone is NOTZONE, from the prescan.
        let (name, rtype) = (&record.name, record.record_type());
        if edit.origin().zone_of(name) && !may_change(rules, client, name, rtype) {
            return Err(UpdateError::Denied {
                name: name.clone(),
                rtype,
            });
        }
    }
    prescan(edit.origin(), message)?;
    let Some(old_soa) = edit.soa() else {
        // Unreachable: a served zone has its SOA, and nothing removes it.
        return Ok(None);
    };
    edit.begin();
    for record in &message.updates {
        update(edit, record);
    }
    if !edit.changed() {
        return Ok(None);
    }
    if let Err(rule) = edit.check() {
        edit.rollback();
        return Err(UpdateError::Check(rule));
    }
    if !edit.soa_changed() {
        next_serial(edit, &old_soa);
    }
    Ok(edit.commit(old_soa))
}

/// RFC 2136 3.2.5, in its order: the first prerequisite that fails
/// decides the RCODE.
fn check_prerequisites(edit: &ZoneEdit, message: &UpdateMessage) -> Result<(), UpdateError> {
    let malformed = |record: &Record, why| UpdateError::Malformed {
        section: Section::Prerequisite,
        record: record.to_string(),
        why,
    };
    // temp<name, type>: the value-dependent RRsets, in the order given.
    let mut expected: Vec<(&Name, RecordType, Vec<RData>)> = Vec::new();
    for record in &message.prerequisites {
        if record.ttl != 0 {
            return Err(malformed(record, "a prerequisite's TTL must be 0"));
        }
        let (name, rtype) = (&record.name, record.record_type());
        if !edit.origin().zone_of(name) {
            return Err(UpdateError::NotZone(name.clone()));
        }
        let empty = matches!(record.data, RData::Update0(_));
        match record.dns_class {
            DNSClass::ANY | DNSClass::NONE if !empty => {
                return Err(malformed(record, "class ANY and NONE take no RDATA"))
            }
            DNSClass::ANY if rtype == RecordType::ANY => {
                if !edit.name_in_use(name) {
                    return Err(UpdateError::NameNotInUse(name.clone()));
                }
            }
            DNSClass::ANY => {
                if edit.rrset(name, rtype).is_none() {
                    return Err(UpdateError::RRsetMissing(name.clone(), rtype));
                }
            }
            DNSClass::NONE if rtype == RecordType::ANY => {
                if edit.name_in_use(name) {
                    return Err(UpdateError::NameInUse(name.clone()));
                }
            }
            DNSClass::NONE => {
                if edit.rrset(name, rtype).is_some() {
                    return Err(UpdateError::RRsetExists(name.clone(), rtype));
                }
            }
            class if class == message.class && !is_meta(rtype) => {
                let data = data_of(record).ok_or_else(|| malformed(record, "empty RDATA"))?;
                match expected
                    .iter_mut()
                    .find(|(n, t, _)| *n == name && *t == rtype)
                {
                    Some((_, _, datas)) if datas.contains(&data) => {}
                    Some((_, _, datas)) => datas.push(data),
                    None => expected.push((name, rtype, vec![data])),
                }
            }
            _ => {
                return Err(malformed(
                    record,
                    "a class or type a prerequisite cannot have",
                ))
            }
        }
    }
    for (name, rtype, datas) in expected {
        let same = edit.rrset(name, rtype).is_some_and(|set| {
            set.records.len() == datas.len() && datas.iter().all(|data| set.contains(data))
        });
        if !same {
            return Err(UpdateError::RRsetDiffers(name.clone(), rtype));
        }
    }
    Ok(())
}

/// RFC 2136 3.4.1.3: every update record is in the zone and of a form
/// section 2.5 allows, before any is applied.
fn prescan(origin: &Name, message: &UpdateMessage) -> Result<(), UpdateError> {
    for record in &message.updates {
        let malformed = |why| UpdateError::Malformed {
            section: Section::Update,
            record: record.to_string(),
            why,
        };
        if !origin.zone_of(&record.name) {
            return Err(UpdateError::NotZone(record.name.clone()));
        }
        let rtype = record.record_type();
        let empty = matches!(record.data, RData::Update0(_));
        match record.dns_class {
            class if class == message.class => {
                if is_meta(rtype) {
                    return Err(malformed("a meta type cannot be added"));
                }
                if data_of(record).is_none() {
                    return Err(malformed("empty RDATA"));
                }
            }
            DNSClass::ANY => {
                if record.ttl != 0 || !empty {
                    return Err(malformed("a delete (class ANY) has TTL 0 and no RDATA"));
                }
                if is_meta(rtype) && rtype != RecordType::ANY {
                    return Err(malformed("a meta type cannot be deleted"));
                }
            }
            DNSClass::NONE => {
                if record.ttl != 0 {
                    return Err(malformed("a delete (class NONE) has TTL 0"));
                }
                if is_meta(rtype) {
                    return Err(malformed("a meta type cannot be deleted"));
                }
            }
            _ => return Err(malformed("class is not the zone's, ANY or NONE")),
        }
    }
    Ok(())
}

/// RFC 2136 3.4.2: one update record applied (the prescan has passed).
fn update(edit: &mut ZoneEdit, record: &Record) {
    let (name, rtype) = (&record.name, record.record_type());
    let at_apex = name == edit.origin();
    match record.dns_class {
        // 3.4.2.3: delete every RRset at the name, the apex's SOA and NS
        // excepted.
        DNSClass::ANY if rtype == RecordType::ANY => {
            for rtype in edit.types_at(name) {
                if !(at_apex && matches!(rtype, RecordType::SOA | RecordType::NS)) {
                    edit.put(name, rtype, None);
                }
            }
        }
        // 3.4.2.3: delete one RRset, never the apex's SOA or NS.
        DNSClass::ANY => {
            if !(at_apex && matches!(rtype, RecordType::SOA | RecordType::NS)) {
                edit.put(name, rtype, None);
            }
        }
        // 3.4.2.4: delete one record (its TTL does not matter); never the
        // SOA, never the apex's last NS.
        DNSClass::NONE => {
            let Some(set) = edit.rrset(name, rtype) else {
                return;
            };
            let data = data_of(record);
            let mut left = set.clone();
            left.records.retain(|(_, d)| Some(d) != data.as_ref());
            let last_apex_ns = at_apex && rtype == RecordType::NS && left.records.is_empty();
            if rtype == RecordType::SOA || last_apex_ns || left.records.len() == set.records.len() {
                return;
            }
            let left = (!left.records.is_empty()).then_some(left);
            edit.put(name, rtype, left);
        }
        // 3.4.2.2: add.
        _ => add(edit, record),
    }
}

/// RFC 2136 3.4.2.2: adds one record, or ignores it (see the module doc).
fn add(edit: &mut ZoneEdit, record: &Record) {
    let (name, rtype) = (&record.name, record.record_type());
    let Some(data) = data_of(record) else {
        return;
    };
    let beside_cname = |t: RecordType| matches!(t, RecordType::RRSIG | RecordType::NSEC);
    let types = edit.types_at(name);
    match rtype {
        RecordType::SOA => {
            let newer = match (edit.soa().map(|soa| soa.data), &data) {
                (Some(RData::SOA(old)), RData::SOA(new)) => serial_gt(new.serial, old.serial),
                _ => false,
            };
            if name != edit.origin() || !newer {
                return;
            }
        }
        RecordType::CNAME
            if types
                .iter()
                .any(|&t| t != RecordType::CNAME && !beside_cname(t)) =>
        {
            return
        }
        RecordType::CNAME => {}
        rtype if !beside_cname(rtype) && types.contains(&RecordType::CNAME) => return,
        _ => {}
    }
    let singleton = matches!(
        rtype,
        RecordType::SOA | RecordType::CNAME | RecordType::DNAME
    );
    let mut set = match edit.rrset(name, rtype) {
        Some(_) if singleton => EditSet {
            rtype,
            records: Vec::new(),
        },
        Some(set) if set.contains(&data) && set.records.iter().all(|(t, _)| *t == record.ttl) => {
            return;
        }
        Some(set) => set.clone(),
        None => EditSet {
            rtype,
            records: Vec::new(),
        },
    };
    set.records.retain(|(_, d)| *d != data);
    if rtype != RecordType::RRSIG {
        for (ttl, _) in &mut set.records {
            *ttl = record.ttl;
        }
    }
    set.records.push((record.ttl, data));
    edit.put(name, rtype, Some(set));
}

/// The SOA with the serial one up from `old` (skipping 0, which some
/// secondaries take for "no serial").
fn next_serial(edit: &mut ZoneEdit, old: &Record) {
    let RData::SOA(soa) = &old.data else {
        return;
    };
    let mut serial = serial_add(soa.serial, 1);
    if serial == 0 {
        serial = 1;
    }
    let next = SOA::new(
        soa.mname.clone(),
        soa.rname.clone(),
        serial,
        soa.refresh,
        soa.retry,
        soa.expire,
        soa.minimum,
    );
    let set = EditSet {
        rtype: RecordType::SOA,
        records: vec![(old.ttl, RData::SOA(next))],
    };
    let origin = edit.origin().clone();
    edit.put(&origin, RecordType::SOA, Some(set));
}

/// The record's data; an empty RDATA only for a type hickory-proto does
/// not know (RFC 3597 `\# 0`).
fn data_of(record: &Record) -> Option<RData> {
    match &record.data {
        RData::Update0(RecordType::Unknown(code)) => {
            Some(unknown(RecordType::Unknown(*code), Vec::new()))
        }
        RData::Update0(_) => None,
        data => Some(data.clone()),
    }
}

/// Types that are not data (RFC 6895 3.1): queries' and transfers' types,
/// OPT and TSIG.
fn is_meta(rtype: RecordType) -> bool {
    matches!(
        rtype,
        RecordType::ANY
            | RecordType::AXFR
            | RecordType::IXFR
            | RecordType::OPT
            | RecordType::TSIG
            | RecordType::Unknown(249) // TKEY
            | RecordType::Unknown(253) // MAILB
            | RecordType::Unknown(254) // MAILA
    )
}

#[cfg(test)]
mod tests;
