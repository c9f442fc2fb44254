//! Records in uncompressed wire form (RFC 1035 4.1.3: owner, type, class,
//! TTL, RDLENGTH, RDATA), the one encoding the storage side of a zone
//! uses: the journal's payload ([`crate::journal`]), the identity of a
//! record when two versions of a zone are compared ([`RecordKey`], for
//! [`super::diff`]) and RFC 3597 `\#` data in written master files
//! ([`super::writer`]).
//!
//! Names are never compressed, so a record's bytes stand on their own, and
//! keep their case. Decoding reads the RDATA as the master-file reader's
//! `\#` path does (`RData::read`), so a record read back from the journal
//! is the record the reader would build from the same data; in particular
//! empty RDATA stays data of its type instead of hickory's `Update0`.

use hickory_proto::rr::{RData, Record};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder, NameEncoding};
use hickory_proto::ProtoError;

/// Appends `record` in uncompressed wire form.
pub(crate) fn encode_record(record: &Record, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let mut encoder = BinEncoder::new(out);
    encoder.set_name_encoding(NameEncoding::Uncompressed);
    record.emit(&mut encoder)
}

/// The RDATA alone in uncompressed wire form.
pub(crate) fn rdata_wire(rdata: &RData) -> Result<Vec<u8>, ProtoError> {
    let mut out = Vec::new();
    let mut encoder = BinEncoder::new(&mut out);
    encoder.set_name_encoding(NameEncoding::Uncompressed);
    rdata.emit(&mut encoder)?;
    Ok(out)
}

/// What makes two records the same record of a zone (RFC 2181 5: name,
/// class, type and data; the TTL too, so that a TTL change is a change):
/// the uncompressed wire form with the owner lowercased, since owner names
/// compare without case. Names inside the data keep their case, so a
/// change of case there is a change, as it is on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct RecordKey(Box<[u8]>);

impl RecordKey {
    pub(crate) fn new(record: &Record) -> Result<RecordKey, ProtoError> {
        let mut bytes = Vec::with_capacity(64);
        encode_record(record, &mut bytes)?;
        // The owner is the first name: lowercase its labels, not the
        // length octets (at most 63, below 'A', so lowercasing would leave
        // them alone anyway).
        let mut at = 0;
        while let Some(&len) = bytes.get(at) {
            let len = usize::from(len);
            if len == 0 {
                break;
            }
            if let Some(label) = bytes.get_mut(at + 1..at + 1 + len) {
                label.make_ascii_lowercase();
            }
            at += 1 + len;
        }
        Ok(RecordKey(bytes.into_boxed_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::store::testing::{name, record};

    #[test]
    fn keys_ignore_owner_case_but_not_ttl_or_data_case() {
        let origin = name("example.");
        let key = |line| RecordKey::new(&record(&origin, line)).unwrap();
        assert_eq!(key("WWW 300 IN A 192.0.2.1"), key("www 300 IN A 192.0.2.1"));
        assert_ne!(key("www 300 IN A 192.0.2.1"), key("www 60 IN A 192.0.2.1"));
        let cname = |target| {
            let data = RData::CNAME(hickory_proto::rr::rdata::CNAME(name(target)));
            RecordKey::new(&Record::from_rdata(name("www.example."), 300, data)).unwrap()
        };
        assert_ne!(cname("A.example."), cname("a.example."));
    }
}
