//! Names as people write them (RFC 1035 5.1 presentation format): escapes,
//! and [`absolute_name`] for names typed outside zone files.
//!
//! The zone reader reads master files with [`escaped_name`] and
//! [`for_each_byte`]; the binary (command-line flags, topology YAML) and
//! the resolver (root hints) read names with [`absolute_name`], so that a
//! name means the same wherever it is typed. Neighbours: [`crate::name`]
//! owns names in wire form.

use hickory_proto::rr::{Label, Name};

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
pub fn escaped_name(text: &str) -> Result<Name, String> {
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

/// Calls `each` with every byte `text` stands for, and whether it was
/// escaped (RFC 1035 5.1: `\X` is X, `\DDD` is the byte with decimal value
/// DDD; an escaped dot in a name is data, not a label separator).
pub fn for_each_byte(
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
}
