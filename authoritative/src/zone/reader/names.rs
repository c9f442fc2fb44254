//! Names that need no origin and no reader state: names typed on a
//! command line or in a topology or hints file ([`absolute_name`]), the
//! escapes of RFC 1035 5.1 ([`for_each_byte`]), names in uncompressed wire
//! form ([`push_name`]), and DNAME data, which hickory-proto 0.26 keeps as
//! unknown bytes ([`dname_target`], [`dname_rdata`]).
//!
//! Used by the reader's columns and record data ([`super::columns`],
//! [`super::rdata`]), and, through the re-exports of [`super`], by the
//! lookup, the resolver and the `dnslab` binary.

use hickory_proto::rr::rdata::NULL;
use hickory_proto::rr::{Label, Name, RData, RecordType};
use hickory_proto::serialize::binary::BinDecodable;

/// The target of a DNAME record as this reader (and hickory's wire decoder)
/// represent it: `RData::Unknown` with the uncompressed target name as
/// bytes, since hickory-proto 0.26 has no DNAME variant.
pub fn dname_target(rdata: &RData) -> Option<Name> {
    match rdata {
        RData::Unknown {
            code: RecordType::DNAME,
            rdata,
        } => Name::from_bytes(&rdata.anything).ok(),
        _ => None,
    }
}

/// The RDATA of a DNAME record pointing at `target` (RFC 6672 2.1: the
/// target is never compressed).
pub fn dname_rdata(target: &Name) -> RData {
    let mut wire = Vec::with_capacity(target.len() + 2);
    push_name(target, &mut wire);
    RData::Unknown {
        code: RecordType::DNAME,
        rdata: NULL::with(wire),
    }
}

/// A domain name typed on a command line or in a topology or root hints
/// file: escapes as in master files (RFC 1035 5.1: `\DDD` is decimal, where
/// hickory's parser reads octal), and always absolute, with or without the
/// final dot, since there is no origin to be relative to.
pub fn absolute_name(text: &str) -> Result<Name, String> {
    let mut name = if text.contains('\\') {
        escaped_name(text)?
    } else {
        Name::from_ascii(text).map_err(|e| e.to_string())?
    };
    name.set_fqdn(true);
    Ok(name)
}

/// A name written with escapes (RFC 1035 5.1, see [`for_each_byte`]): an
/// unescaped dot ends a label, and a final one makes the name absolute.
pub(super) fn escaped_name(text: &str) -> Result<Name, String> {
    let mut name = Name::new();
    let mut label = Vec::new();
    let mut fqdn = false;
    for_each_byte(text, |byte, escaped| {
        fqdn = byte == b'.' && !escaped;
        if !fqdn {
            label.push(byte);
        } else if label.is_empty() {
            return Err("an empty label".into());
        } else {
            name = append_raw_label(std::mem::replace(&mut name, Name::new()), &label)?;
            label.clear();
        }
        Ok(())
    })?;
    if !label.is_empty() {
        name = append_raw_label(name, &label)?;
    }
    name.set_fqdn(fqdn);
    Ok(name)
}

fn append_raw_label(name: Name, label: &[u8]) -> Result<Name, String> {
    Label::from_raw_bytes(label)
        .and_then(|label| name.append_label(label))
        .map_err(|e| e.to_string())
}

/// Appends `name` in wire form, uncompressed.
pub(super) fn push_name(name: &Name, wire: &mut Vec<u8>) {
    for label in name.iter() {
        // Labels are at most 63 bytes, so the length fits a byte.
        wire.push(label.len() as u8);
        wire.extend_from_slice(label);
    }
    wire.push(0);
}

/// Calls `each` with every byte `text` stands for, and whether it was
/// escaped (RFC 1035 5.1: `\X` is X, `\DDD` is the byte with decimal value
/// DDD; an escaped dot in a name is data, not a label separator).
pub(super) fn for_each_byte(
    text: &str,
    mut each: impl FnMut(u8, bool) -> Result<(), String>,
) -> Result<(), String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'\\' {
            each(b, false)?;
            i += 1;
            continue;
        }
        match bytes.get(i + 1..i + 4) {
            Some(d) if d.iter().all(u8::is_ascii_digit) => {
                let value = d
                    .iter()
                    .fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'));
                let byte =
                    u8::try_from(value).map_err(|_| format!("escape \\{value} is above 255"))?;
                each(byte, true)?;
                i += 4;
            }
            _ => {
                let next = bytes.get(i + 1).ok_or("text ends with a lone backslash")?;
                each(*next, true)?;
                i += 2;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use hickory_proto::rr::rdata::A;

    use super::*;

    #[test]
    fn names_typed_outside_zone_files_are_absolute_and_escaped_as_in_them() {
        use hickory_proto::serialize::binary::BinEncodable;
        let wire = |text: &str| absolute_name(text).map(|n| n.to_bytes().unwrap());
        assert_eq!(wire("com"), Ok(b"\x03com\x00".to_vec()));
        assert_eq!(wire("com."), Ok(b"\x03com\x00".to_vec()));
        assert_eq!(wire("."), Ok(b"\x00".to_vec()));
        assert_eq!(wire("dec\\065.a\\.b"), Ok(b"\x04decA\x03a.b\x00".to_vec()));
        assert!(absolute_name("a..b").is_err());
        assert!(absolute_name("a\\256").is_err());
    }

    #[test]
    fn dname_round_trips() {
        let target = Name::from_ascii("target.example.net.").unwrap();
        assert_eq!(dname_target(&dname_rdata(&target)), Some(target));
        assert_eq!(dname_target(&RData::A(A::new(192, 0, 2, 1))), None);
    }
}
