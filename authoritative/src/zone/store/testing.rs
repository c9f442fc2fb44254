//! Zones built in code for the unit tests of the store and of the lookup.

use std::path::PathBuf;
use std::sync::Arc;

use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::BinEncodable;

use super::Zone;
use crate::zone::reader::unknown;
use crate::zone::{Location, SourcedRecord};
use dnslab_wire::dname_rdata;

/// Records from lines `owner ttl IN type rdata`: owner `@`, relative to
/// `origin` or absolute; names inside RDATA absolute. DNAME and DS,
/// which hickory cannot parse, are stored as the reader stores them.
pub(crate) fn records(origin: &Name, lines: &str) -> Vec<SourcedRecord> {
    let file = Arc::new(PathBuf::from("test.zone"));
    lines
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(at, line)| SourcedRecord {
            record: record(origin, line),
            location: Location {
                file: file.clone(),
                line: at as u32 + 1,
            },
        })
        .collect()
}

/// One record written as in [`records`].
pub(crate) fn record(origin: &Name, line: &str) -> Record {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [owner, ttl, _class, rtype, ..] = fields[..] else {
        panic!("bad test record {line:?}");
    };
    let rdata_text = fields[4..].join(" ");
    let owner = match owner {
        "@" => origin.clone(),
        // `Name::parse` would lowercase (IDNA); keep the case as written.
        name => {
            let name = Name::from_ascii(name).expect(line);
            if name.is_fqdn() {
                name
            } else {
                name.append_domain(origin).expect(line)
            }
        }
    };
    let rtype: RecordType = rtype.parse().expect(line);
    let data = match rtype {
        RecordType::DNAME => dname_rdata(&Name::from_ascii(&rdata_text).expect(line)),
        RecordType::DS => {
            let [tag, algorithm, digest_type, digest] = fields[4..] else {
                panic!("bad test DS {line:?}");
            };
            let mut wire = tag.parse::<u16>().expect(line).to_be_bytes().to_vec();
            wire.push(algorithm.parse().expect(line));
            wire.push(digest_type.parse().expect(line));
            for pair in digest.as_bytes().chunks(2) {
                let hex = std::str::from_utf8(pair).expect(line);
                wire.push(u8::from_str_radix(hex, 16).expect(line));
            }
            unknown(RecordType::DS, wire)
        }
        // `RRSIG TYPE-COVERED N`: what the store reads of a signature
        // (the type it covers), then N standing for the rest.
        RecordType::RRSIG => {
            let [covered, n] = fields[4..] else {
                panic!("bad test RRSIG {line:?}");
            };
            let covered: RecordType = covered.parse().expect(line);
            let mut wire = u16::from(covered).to_be_bytes().to_vec();
            wire.push(n.parse().expect(line));
            unknown(RecordType::RRSIG, wire)
        }
        // `NSEC NEXT`: the next name, without the type bitmap.
        RecordType::NSEC => {
            let next = Name::from_ascii(&rdata_text).expect(line);
            unknown(RecordType::NSEC, next.to_bytes().expect(line))
        }
        // `NSEC3 N`: an NSEC3 record, N standing for its data.
        RecordType::NSEC3 => unknown(RecordType::NSEC3, vec![rdata_text.parse().expect(line)]),
        // `NSEC3PARAM ...`: SHA-1, no flags, no iterations, no salt.
        RecordType::NSEC3PARAM => unknown(RecordType::NSEC3PARAM, vec![1, 0, 0, 0, 0]),
        _ => RData::try_from_str(rtype, &rdata_text).expect(line),
    };
    Record::from_rdata(owner, ttl.parse().expect(line), data)
}

pub(crate) fn zone(origin: &str, lines: &str) -> Zone {
    let origin = Name::from_ascii(origin).unwrap();
    Zone::from_records(origin.clone(), records(&origin, lines)).expect("test zone is valid")
}

/// Records as text, so that tests compare TTL and the case of names
/// too (`Record`'s `PartialEq` ignores both).
pub(crate) fn texts(records: &[Record]) -> Vec<String> {
    records.iter().map(Record::to_string).collect()
}

/// The apex every test zone needs to pass the checker.
pub(crate) const SOA: &str = "@ 3600 IN SOA ns.example.net. admin.example. 1 7200 900 1209600 300
                              @ 3600 IN NS ns.example.net.";

pub(crate) fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}
