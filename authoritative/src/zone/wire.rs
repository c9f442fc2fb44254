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

use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{
    BinDecodable, BinDecoder, BinEncodable, BinEncoder, NameEncoding, Restrict,
};
use hickory_proto::ProtoError;

/// Appends `record` in uncompressed wire form.
pub(crate) fn encode_record(record: &Record, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    // Encoded on its own: hickory's encoder writes from the start of the
    // vector it is given, and refuses to go past 64 KiB in it.
    let mut bytes = Vec::with_capacity(64);
    let mut encoder = BinEncoder::new(&mut bytes);
    encoder.set_name_encoding(NameEncoding::Uncompressed);
    record.emit(&mut encoder)?;
    out.extend_from_slice(&bytes);
    Ok(())
}

/// The RDATA alone in uncompressed wire form.
pub(crate) fn rdata_wire(rdata: &RData) -> Result<Vec<u8>, ProtoError> {
    let mut out = Vec::new();
    let mut encoder = BinEncoder::new(&mut out);
    encoder.set_name_encoding(NameEncoding::Uncompressed);
    rdata.emit(&mut encoder)?;
    Ok(out)
}

/// Reads one record written by [`encode_record`].
pub(crate) fn decode_record(decoder: &mut BinDecoder<'_>) -> Result<Record, ProtoError> {
    let name = Name::read(decoder)?;
    let record_type = RecordType::read(decoder)?;
    let class = DNSClass::read(decoder)?;
    let ttl = decoder.read_u32()?.unverified(/* any TTL */);
    let length = decoder.read_u16()?.unverified(/* checked by the read below */);
    if usize::from(length) > decoder.len() {
        return Err(ProtoError::from("RDLENGTH runs past the end of the data"));
    }
    let data = RData::read(decoder, record_type, Restrict::new(length))?;
    let mut record = Record::from_rdata(name, ttl, data);
    record.dns_class = class;
    Ok(record)
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
    fn records_round_trip_uncompressed_with_their_case() {
        let origin = name("example.");
        for line in [
            "Www 300 IN A 192.0.2.1",
            "@ 3600 IN SOA ns.Example. admin.example. 7 7200 900 1209600 300",
            "mail 60 IN MX 10 Mail.example.",
            "old 60 IN DNAME target.example.net.",
            "sub 60 IN DS 12345 13 2 ABCDEF",
            "x 60 IN NSEC www.example.",
        ] {
            let original = record(&origin, line);
            let mut bytes = Vec::new();
            encode_record(&original, &mut bytes).unwrap();
            // Uncompressed: the owner's suffix is written again in RDATA.
            let mut decoder = BinDecoder::new(&bytes);
            let back = decode_record(&mut decoder).unwrap();
            assert!(decoder.is_empty(), "{line}");
            assert_eq!(back.to_string(), original.to_string(), "{line}");
            assert_eq!(back.data, original.data, "{line}");
        }
    }

    #[test]
    fn records_are_appended_after_what_the_buffer_holds() {
        let record = record(&name("example."), "www 300 IN TXT \"hello\"");
        let mut bytes = vec![0xaa; 70_000];
        encode_record(&record, &mut bytes).unwrap();
        assert_eq!(bytes[..70_000], [0xaa; 70_000]);
        let back = decode_record(&mut BinDecoder::new(&bytes[70_000..])).unwrap();
        assert_eq!(back.to_string(), record.to_string());
    }

    #[test]
    fn empty_rdata_stays_data_of_its_type() {
        let empty = Record::from_rdata(
            name("e.example."),
            60,
            crate::zone::reader::unknown(RecordType::Unknown(65535), Vec::new()),
        );
        let mut bytes = Vec::new();
        encode_record(&empty, &mut bytes).unwrap();
        let back = decode_record(&mut BinDecoder::new(&bytes)).unwrap();
        assert_eq!(back.data, empty.data);
    }

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

    #[test]
    fn truncated_bytes_are_an_error_not_a_panic() {
        let record = record(&name("example."), "www 300 IN TXT \"hello\"");
        let mut bytes = Vec::new();
        encode_record(&record, &mut bytes).unwrap();
        for cut in 0..bytes.len() {
            assert!(decode_record(&mut BinDecoder::new(&bytes[..cut])).is_err());
        }
    }
}
