//! The resolver's reading of an upstream response: any octets that parse
//! as a DNS message, classified for the question it carries (or
//! www.example.com/A) as if asked of the root, of com. and of example.com.
//!
//! Asserts: never panics, and the bailiwick rule holds whatever the server
//! sent: every record of a conclusion or a restart lies inside the zone asked, a
//! referral points strictly below that zone and at or above the question,
//! and glue is only for the referral's own servers.
#![no_main]

use dnslab_resolver::{classify, Classified, Conclusion, Restart};
use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RecordType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(response) = Message::from_vec(data) else {
        return;
    };
    let (qname, qtype) = match response.queries.first() {
        Some(q) => (q.name().clone(), q.query_type()),
        None => (
            Name::from_ascii("www.example.com.").expect("static name"),
            RecordType::A,
        ),
    };
    for zone in ["", "com.", "example.com."] {
        let zone = if zone.is_empty() {
            Name::root()
        } else {
            Name::from_ascii(zone).expect("static name")
        };
        check(&classify(&response, &qname, qtype, &zone), &qname, &zone);
    }
});

fn check(classified: &Classified, qname: &Name, zone: &Name) {
    match classified {
        Classified::Conclusion(
            Conclusion::Answer { records }
            | Conclusion::NxDomain { records, .. }
            | Conclusion::NoData { records, .. },
        )
        | Classified::Restart(Restart { records, .. }) => {
            for record in records {
                assert!(
                    zone.zone_of(&record.name),
                    "{} kept from a server for {zone}",
                    record.name
                );
            }
        }
        Classified::Referral(delegation) => {
            assert!(
                zone.zone_of(&delegation.zone),
                "referral to {} from {zone}",
                delegation.zone
            );
            assert!(
                delegation.zone.num_labels() > zone.num_labels(),
                "referral to {} is not below {zone}",
                delegation.zone
            );
            assert!(
                delegation.zone.zone_of(qname),
                "referral to {} for {qname}",
                delegation.zone
            );
            for (name, _) in &delegation.glue {
                assert!(
                    delegation.servers.contains(name),
                    "glue for {name}, not a server of the cut"
                );
            }
        }
        Classified::Lame(_) => {}
    }
}
