//! What one upstream response means for the question we asked and the zone
//! we asked it of: a pure function from the response to a [`Classified`]
//! (a conclusion, a CNAME chain to restart from, a referral, or lame),
//! unit-tested with hand-built messages.
//!
//! Bailiwick: a server is trusted only for names inside the zone it was
//! asked about. Records outside that zone are dropped (and logged) before
//! anything else looks at them, so a lying server cannot plant data for
//! another domain in the cache.

use std::net::IpAddr;

use dnslab_wire::{dname_target, substitute_dname};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use tracing::debug;

use crate::cache::Delegation;

/// What a response settles about the question: the end of the CNAME
/// chain (if any) inside the zone asked, and what is there.
#[derive(Clone, Debug, PartialEq)]
pub enum Conclusion {
    /// The question's RRset, preceded by any CNAME chain leading to it.
    Answer { records: Vec<Record> },
    /// The name (at the end of `records`' CNAME chain) does not exist.
    NxDomain {
        records: Vec<Record>,
        soa: Option<Record>,
    },
    /// The name exists but has no records of the type asked.
    NoData {
        records: Vec<Record>,
        soa: Option<Record>,
    },
}

/// A CNAME chain whose end this server cannot answer (it leaves the zone,
/// leads into a child zone, or loops): the walk caches the chain and asks
/// again for `target` (RFC 1034 5.3.3 step 4: "change the SNAME to the
/// canonical name in the CNAME RR and go to step 1").
#[derive(Clone, Debug, PartialEq)]
pub struct Restart {
    /// The chain from the name asked to `target`, DNAMEs before the CNAMEs
    /// they synthesised.
    pub records: Vec<Record>,
    pub target: Name,
}

/// Why a server's response is useless; the walk asks another server.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Lame {
    /// REFUSED, SERVFAIL, NOTIMP, FORMERR or anything but NOERROR/NXDOMAIN.
    #[error("answered {0:?}: it does not serve the zone, or is broken")]
    Rcode(ResponseCode),
    /// No answer, no referral, and not authoritative.
    #[error("no answer, no referral and not authoritative: it does not serve the zone")]
    NotAuthoritative,
    /// A referral to a zone that is not below the zone asked about, with
    /// or without AA=1.
    #[error("referred upwards or sideways, to {zone}")]
    UpwardReferral { zone: Name },
    /// A forwarder (asked with RD=1) answered with a referral: it does
    /// not recurse for us.
    #[error("a forwarder answered with a referral: it does not recurse")]
    NotRecursive,
}

/// What one upstream response means for the question asked.
#[derive(Clone, Debug, PartialEq)]
pub enum Classified {
    Conclusion(Conclusion),
    Restart(Restart),
    /// RFC 1034 4.3.2 step 3b: the servers of a zone below, to ask next.
    Referral(Delegation),
    Lame(Lame),
}

/// Classifies `response` to the question (`qname`, `qtype`) asked of a
/// server for `zone`. The caller has already matched ID and question.
pub fn classify(response: &Message, qname: &Name, qtype: RecordType, zone: &Name) -> Classified {
    let rcode = response.metadata.response_code;
    if rcode != ResponseCode::NoError && rcode != ResponseCode::NXDomain {
        return Classified::Lame(Lame::Rcode(rcode));
    }
    let answers = in_bailiwick(&response.answers, zone, "answer");
    let authorities = in_bailiwick(&response.authorities, zone, "authority");

    // Follow the CNAME chain inside the answer section (RFC 1034 4.3.2 step
    // 3a restarts there; the server may already have done it for us).
    let mut chain: Vec<Record> = Vec::new();
    let mut current = qname.clone();
    loop {
        let rrset: Vec<Record> = answers
            .iter()
            .filter(|r| r.name == current && (r.record_type() == qtype || qtype == RecordType::ANY))
            .map(|r| (*r).clone())
            .collect();
        if !rrset.is_empty() {
            chain.extend(rrset);
            return Classified::Conclusion(Conclusion::Answer { records: chain });
        }
        let cname = answers.iter().find(|r| {
            r.name == current && qtype != RecordType::CNAME && matches!(r.data, RData::CNAME(_))
        });
        let Some(cname) = cname else { break };
        let RData::CNAME(target) = &cname.data else {
            break;
        };
        let target = target.0.clone();
        if let Some(dname) = synthesising_dname(answers.iter().copied(), &current, &target) {
            chain.push(dname.clone());
        }
        chain.push((*cname).clone());
        // A loop, or a target this server is not authoritative for: the
        // walk decides what to do with the target.
        if !zone.zone_of(&target) || chain.iter().any(|r| r.name == target) {
            return Classified::Restart(Restart {
                records: chain,
                target,
            });
        }
        current = target;
    }

    let soa = authorities
        .iter()
        .find(|r| r.record_type() == RecordType::SOA && r.name.zone_of(&current))
        .map(|r| (*r).clone());
    let restart =
        |records: Vec<Record>, target: Name| Classified::Restart(Restart { records, target });
    if rcode == ResponseCode::NXDomain {
        return Classified::Conclusion(Conclusion::NxDomain {
            records: chain,
            soa,
        });
    }

    if let Some(delegation) = referral(response, &authorities, &current, zone) {
        return match delegation {
            Ok(delegation) if chain.is_empty() => Classified::Referral(delegation),
            // The chain leads into a child zone: ask from the top for it.
            Ok(_) => restart(chain, current),
            // An authoritative NODATA that carries the zone's own apex NS
            // set, or an SOA, beside NS records.
            Err(Lame::UpwardReferral { zone: cut })
                if response.metadata.authoritative && (cut == *zone || soa.is_some()) =>
            {
                debug!(%cut, "ignoring NS records in an authoritative answer");
                Classified::Conclusion(Conclusion::NoData {
                    records: chain,
                    soa,
                })
            }
            // AA=1 does not make a referral upwards or sideways (the
            // root's or a parent's NS set, no SOA) an answer: that is how
            // a server that does not serve the zone answers, and taking it
            // for NODATA would hide the name's records behind a lame
            // server. Unbound and Knot Resolver try the next server too.
            Err(lame) => Classified::Lame(lame),
        };
    }
    if response.metadata.authoritative || soa.is_some() {
        return Classified::Conclusion(Conclusion::NoData {
            records: chain,
            soa,
        });
    }
    if !chain.is_empty() {
        return restart(chain, current);
    }
    Classified::Lame(Lame::NotAuthoritative)
}

/// The zone's own NS set (the child's, as opposed to the parent's in a
/// referral) when an authoritative response for `zone` carries it in its
/// answer or authority section, with its TTL. Borrowed: most of the time
/// it is the set the cache holds already, and nothing need be copied.
pub(crate) fn apex_servers<'m>(response: &'m Message, zone: &Name) -> Option<(Vec<&'m Name>, u32)> {
    if !response.metadata.authoritative {
        return None;
    }
    let mut servers: Vec<&Name> = Vec::new();
    let mut ttl = u32::MAX;
    for record in response.answers.iter().chain(&response.authorities) {
        if let RData::NS(server) = &record.data {
            if record.name == *zone && record.dns_class == DNSClass::IN {
                ttl = ttl.min(record.ttl);
                if !servers.contains(&&server.0) {
                    servers.push(&server.0);
                }
            }
        }
    }
    (!servers.is_empty()).then_some((servers, ttl))
}

/// The DNAME among `records` that synthesised the CNAME `owner` ->
/// `target` (RFC 6672 3.1). The answer keeps it before the CNAME, as
/// Unbound and BIND keep it, so that a client learns the whole mapping.
pub(crate) fn synthesising_dname<'a>(
    records: impl IntoIterator<Item = &'a Record>,
    owner: &Name,
    target: &Name,
) -> Option<&'a Record> {
    records.into_iter().find(|record| {
        dname_target(&record.data)
            .and_then(|to| substitute_dname(owner, &record.name, &to))
            .is_some_and(|synthesised| synthesised == *target)
    })
}

/// The records of a section that lie inside `zone` (class IN only).
fn in_bailiwick<'a>(records: &'a [Record], zone: &Name, section: &'static str) -> Vec<&'a Record> {
    records
        .iter()
        .filter(|r| {
            let inside = zone.zone_of(&r.name) && r.dns_class == DNSClass::IN;
            if !inside {
                debug!(owner = %r.name, %zone, section, rtype = %r.record_type(), "dropping out-of-bailiwick record");
            }
            inside
        })
        .collect()
}

/// A referral (RFC 1034 4.3.2 step 3b) from a server for `zone` about
/// `current`: `None` if there are no NS records in the authority section,
/// an error if they point upwards or sideways.
fn referral(
    response: &Message,
    authorities: &[&Record],
    current: &Name,
    zone: &Name,
) -> Option<Result<Delegation, Lame>> {
    let cut = response
        .authorities
        .iter()
        .find(|r| r.record_type() == RecordType::NS)?
        .name
        .clone();
    // The cut must be strictly below the zone asked and at or above the name.
    if !(zone.zone_of(&cut) && cut.num_labels() > zone.num_labels() && cut.zone_of(current)) {
        return Some(Err(Lame::UpwardReferral { zone: cut }));
    }
    let ns: Vec<&&Record> = authorities
        .iter()
        .filter(|r| r.name == cut && r.record_type() == RecordType::NS)
        .collect();
    let servers: Vec<Name> = ns
        .iter()
        .filter_map(|r| match &r.data {
            RData::NS(ns) => Some(ns.0.clone()),
            _ => None,
        })
        .collect();
    let ttl = ns.iter().map(|r| r.ttl).min().unwrap_or(0);
    let glue = in_bailiwick(&response.additionals, zone, "additional")
        .into_iter()
        .filter(|r| servers.contains(&r.name))
        .filter_map(|r| Some((r.name.clone(), address(r)?)))
        .collect();
    Some(Ok(Delegation {
        zone: cut,
        servers,
        glue,
        ttl,
        ..Delegation::default()
    }))
}

/// The address an A or AAAA record holds.
pub(crate) fn address(record: &Record) -> Option<IpAddr> {
    match &record.data {
        RData::A(a) => Some(IpAddr::V4(a.0)),
        RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{MessageType, OpCode, Query};
    use hickory_proto::rr::rdata::{A, CNAME, NS, SOA};

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn a(name: &str, ip: [u8; 4]) -> Record {
        Record::from_rdata(n(name), 300, RData::A(A::new(ip[0], ip[1], ip[2], ip[3])))
    }

    fn ns(zone: &str, server: &str) -> Record {
        Record::from_rdata(n(zone), 3600, RData::NS(NS(n(server))))
    }

    fn cname(name: &str, target: &str) -> Record {
        Record::from_rdata(n(name), 300, RData::CNAME(CNAME(n(target))))
    }

    fn soa(zone: &str) -> Record {
        let data = SOA::new(
            n("ns1.example.com."),
            n("admin.example.com."),
            1,
            3600,
            600,
            86400,
            60,
        );
        Record::from_rdata(n(zone), 600, RData::SOA(data))
    }

    fn response(qname: &str, qtype: RecordType, rcode: ResponseCode, aa: bool) -> Message {
        let mut msg = Message::new(7, MessageType::Response, OpCode::Query);
        msg.add_query(Query::query(n(qname), qtype));
        msg.metadata.response_code = rcode;
        msg.metadata.authoritative = aa;
        msg
    }

    fn run(msg: &Message, qname: &str, qtype: RecordType, zone: &str) -> Classified {
        classify(msg, &n(qname), qtype, &n(zone))
    }

    #[test]
    fn answer_with_chain_inside_the_zone() {
        let mut msg = response(
            "www.example.com.",
            RecordType::A,
            ResponseCode::NoError,
            true,
        );
        msg.add_answer(cname("www.example.com.", "web.example.com."));
        msg.add_answer(a("web.example.com.", [192, 0, 2, 1]));
        let classified = run(&msg, "www.example.com.", RecordType::A, "example.com.");
        assert_eq!(
            classified,
            Classified::Conclusion(Conclusion::Answer {
                records: vec![
                    cname("www.example.com.", "web.example.com."),
                    a("web.example.com.", [192, 0, 2, 1])
                ]
            })
        );
    }

    #[test]
    fn cname_out_of_zone_restarts_and_drops_the_target_records() {
        let mut msg = response(
            "www.example.com.",
            RecordType::A,
            ResponseCode::NoError,
            true,
        );
        msg.add_answer(cname("www.example.com.", "www.example.net."));
        msg.add_answer(a("www.example.net.", [6, 6, 6, 6]));
        let classified = run(&msg, "www.example.com.", RecordType::A, "example.com.");
        assert_eq!(
            classified,
            Classified::Restart(Restart {
                records: vec![cname("www.example.com.", "www.example.net.")],
                target: n("www.example.net."),
            })
        );
    }

    #[test]
    fn cname_loop_inside_one_response_ends() {
        let mut msg = response("a.example.com.", RecordType::A, ResponseCode::NoError, true);
        msg.add_answer(cname("a.example.com.", "b.example.com."));
        msg.add_answer(cname("b.example.com.", "a.example.com."));
        let Classified::Restart(Restart { records, target }) =
            run(&msg, "a.example.com.", RecordType::A, "example.com.")
        else {
            panic!("a loop is a restart for the walk to detect");
        };
        assert_eq!(records.len(), 2);
        assert_eq!(target, n("a.example.com."));
    }

    #[test]
    fn referral_keeps_in_bailiwick_glue_only() {
        let mut msg = response(
            "www.example.com.",
            RecordType::A,
            ResponseCode::NoError,
            false,
        );
        msg.add_authority(ns("example.com.", "ns1.example.com."));
        msg.add_authority(ns("example.com.", "ns.other.net."));
        msg.add_additional(a("ns1.example.com.", [127, 0, 53, 3]));
        msg.add_additional(a("ns.other.net.", [6, 6, 6, 6]));
        let classified = run(&msg, "www.example.com.", RecordType::A, "com.");
        assert_eq!(
            classified,
            Classified::Referral(Delegation {
                zone: n("example.com."),
                servers: vec![n("ns1.example.com."), n("ns.other.net.")],
                glue: vec![(n("ns1.example.com."), "127.0.53.3".parse().unwrap())],
                ttl: 3600,
                ..Delegation::default()
            })
        );
    }

    #[test]
    fn upward_and_sideways_referrals_are_lame() {
        let mut up = response(
            "www.example.com.",
            RecordType::A,
            ResponseCode::NoError,
            false,
        );
        up.add_authority(ns(".", "a.root-servers.net."));
        assert_eq!(
            run(&up, "www.example.com.", RecordType::A, "example.com."),
            Classified::Lame(Lame::UpwardReferral { zone: n(".") })
        );
        let mut side = response(
            "www.example.com.",
            RecordType::A,
            ResponseCode::NoError,
            false,
        );
        side.add_authority(ns("example.org.", "ns.example.org."));
        assert!(matches!(
            run(&side, "www.example.com.", RecordType::A, "com."),
            Classified::Lame(Lame::UpwardReferral { .. })
        ));
    }

    /// A server that does not serve the zone but claims authority, and
    /// answers with the root's NS set (upwards) or a sibling's: lame, not
    /// NODATA. The zone's own apex NS set, or an SOA, beside AA=1 is NODATA.
    #[test]
    fn an_authoritative_referral_upwards_is_lame_and_the_apex_ns_set_is_nodata() {
        for (cut, server) in [
            (".", "a.root-servers.net."),
            ("example.org.", "ns.example.org."),
        ] {
            let mut msg = response(
                "www.example.com.",
                RecordType::A,
                ResponseCode::NoError,
                true,
            );
            msg.add_authority(ns(cut, server));
            assert_eq!(
                run(&msg, "www.example.com.", RecordType::A, "example.com."),
                Classified::Lame(Lame::UpwardReferral { zone: n(cut) }),
                "{cut}"
            );
        }
        let mut apex = response(
            "www.example.com.",
            RecordType::MX,
            ResponseCode::NoError,
            true,
        );
        apex.add_authority(ns("example.com.", "ns1.example.com."));
        assert_eq!(
            run(&apex, "www.example.com.", RecordType::MX, "example.com."),
            Classified::Conclusion(Conclusion::NoData {
                records: vec![],
                soa: None
            })
        );
        assert_eq!(
            apex_servers(&apex, &n("EXAMPLE.com.")),
            Some((vec![&n("ns1.example.com.")], 3600))
        );
        apex.metadata.authoritative = false;
        assert_eq!(apex_servers(&apex, &n("example.com.")), None, "AA=0");
    }

    /// Records that neither answer the question nor lead to it (an A
    /// record for an AAAA question) are dropped, and the response is
    /// judged by what remains: an authoritative NODATA, not a lame server.
    #[test]
    fn off_type_answers_are_noise() {
        let mut msg = response(
            "www.example.com.",
            RecordType::AAAA,
            ResponseCode::NoError,
            true,
        );
        msg.add_answer(a("www.example.com.", [192, 0, 2, 1]));
        msg.add_authority(soa("example.com."));
        assert_eq!(
            run(&msg, "www.example.com.", RecordType::AAAA, "example.com."),
            Classified::Conclusion(Conclusion::NoData {
                records: vec![],
                soa: Some(soa("example.com."))
            })
        );
        let mut both = response(
            "www.example.com.",
            RecordType::A,
            ResponseCode::NoError,
            true,
        );
        both.add_answer(Record::from_rdata(
            n("www.example.com."),
            300,
            RData::AAAA(hickory_proto::rr::rdata::AAAA::new(
                0x2001, 0xdb8, 0, 0, 0, 0, 0, 1,
            )),
        ));
        both.add_answer(a("www.example.com.", [192, 0, 2, 1]));
        assert_eq!(
            run(&both, "www.example.com.", RecordType::A, "example.com."),
            Classified::Conclusion(Conclusion::Answer {
                records: vec![a("www.example.com.", [192, 0, 2, 1])]
            })
        );
    }

    #[test]
    fn negative_answers_carry_the_soa() {
        let mut nx = response(
            "nope.example.com.",
            RecordType::A,
            ResponseCode::NXDomain,
            true,
        );
        nx.add_authority(soa("example.com."));
        assert_eq!(
            run(&nx, "nope.example.com.", RecordType::A, "example.com."),
            Classified::Conclusion(Conclusion::NxDomain {
                records: vec![],
                soa: Some(soa("example.com."))
            })
        );
        let mut nodata = response(
            "www.example.com.",
            RecordType::MX,
            ResponseCode::NoError,
            true,
        );
        nodata.add_authority(soa("example.com."));
        assert_eq!(
            run(&nodata, "www.example.com.", RecordType::MX, "example.com."),
            Classified::Conclusion(Conclusion::NoData {
                records: vec![],
                soa: Some(soa("example.com."))
            })
        );
    }

    #[test]
    fn errors_and_unauthoritative_silence_are_lame() {
        for rcode in [
            ResponseCode::Refused,
            ResponseCode::ServFail,
            ResponseCode::NotImp,
        ] {
            let msg = response("www.example.com.", RecordType::A, rcode, false);
            assert_eq!(
                run(&msg, "www.example.com.", RecordType::A, "example.com."),
                Classified::Lame(Lame::Rcode(rcode))
            );
        }
        let empty = response(
            "www.example.com.",
            RecordType::A,
            ResponseCode::NoError,
            false,
        );
        assert_eq!(
            run(&empty, "www.example.com.", RecordType::A, "example.com."),
            Classified::Lame(Lame::NotAuthoritative)
        );
    }

    #[test]
    fn out_of_bailiwick_answer_is_not_an_answer() {
        // Asked example.com's server about www.example.com; it answers only
        // for www.victim.org.
        let mut msg = response(
            "www.example.com.",
            RecordType::A,
            ResponseCode::NoError,
            true,
        );
        msg.add_answer(a("www.victim.org.", [6, 6, 6, 6]));
        msg.add_authority(soa("example.com."));
        assert_eq!(
            run(&msg, "www.example.com.", RecordType::A, "example.com."),
            Classified::Conclusion(Conclusion::NoData {
                records: vec![],
                soa: Some(soa("example.com."))
            })
        );
    }
}
