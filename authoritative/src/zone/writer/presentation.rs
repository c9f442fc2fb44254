//! The presentation form of what a master file holds: names and
//! character-strings with RFC 1035 5.1 escapes, and the data of the types
//! the reader keeps as wire bytes (DNAME, DS, CDS, DNSKEY, CDNSKEY, RRSIG,
//! NSEC, NSEC3, NSEC3PARAM, RP, LOC, SPF, URI), written back as BIND, NSD
//! and Knot write them and as the reader's `dnssec`, `loc` and `rdata`
//! files read them.
//!
//! Each `*_text` function returns `None` for data its type's presentation
//! cannot express (too short, bytes left over, an empty key or digest the
//! reader would refuse); the writer then falls back to RFC 3597 `\#`.

use std::fmt::Write;

use hickory_proto::rr::{Label, Name, RecordType};

use crate::zone::reader::type_mnemonic;

/// Appends `name`, absolute (with its final dot), escaped.
pub(super) fn push_absolute(name: &Name, out: &mut String) {
    if name.is_root() {
        out.push('.');
        return;
    }
    for label in name.iter() {
        push_label(label, out);
        out.push('.');
    }
}

/// Appends one label with the escapes of RFC 1035 5.1, decimal `\DDD`
/// where hickory would write octal: the characters a master file gives a
/// meaning to (`.` `\` `"` `(` `)` `;` `@` `$` and blanks) as `\X`, bytes
/// outside printable ASCII as `\DDD`.
pub(super) fn push_label(label: &[u8], out: &mut String) {
    for &byte in label {
        match byte {
            b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                out.push('\\');
                out.push(char::from(byte));
            }
            0x21..=0x7e => out.push(char::from(byte)),
            _ => {
                let _ = write!(out, "\\{byte:03}");
            }
        }
    }
}

/// Appends a character-string (RFC 1035 3.3) in quotes, `"` and `\`
/// escaped, bytes outside printable ASCII as `\DDD`.
pub(super) fn push_string(bytes: &[u8], out: &mut String) {
    out.push('"');
    for &byte in bytes {
        match byte {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(byte));
            }
            0x20..=0x7e => out.push(char::from(byte)),
            _ => {
                let _ = write!(out, "\\{byte:03}");
            }
        }
    }
    out.push('"');
}

/// RFC 3597 5: `\# LENGTH HEX`, the form every type can be written in.
pub(super) fn push_generic(wire: &[u8], out: &mut String) {
    let _ = write!(out, "\\# {}", wire.len());
    if !wire.is_empty() {
        out.push(' ');
        push_hex(wire, out);
    }
}

fn push_hex(bytes: &[u8], out: &mut String) {
    out.push_str(&data_encoding::HEXUPPER.encode(bytes));
}

/// The presentation of data the reader keeps as wire bytes, for the types
/// it reads that way; `None` for any other type, or data the type's
/// presentation cannot express.
pub(super) fn wire_kept_text(rtype: RecordType, wire: &[u8]) -> Option<String> {
    let mut data = Wire(wire);
    let mut out = String::new();
    match u16::from(rtype) {
        // DNAME (RFC 6672 2.1).
        39 => push_absolute(&data.name()?, &mut out),
        // DS (RFC 4034 5.3), CDS (RFC 7344).
        43 | 59 => {
            let _ = write!(out, "{} {} {} ", data.u16()?, data.u8()?, data.u8()?);
            push_hex(data.rest_nonempty()?, &mut out);
        }
        // DNSKEY (RFC 4034 2.2), CDNSKEY (RFC 7344).
        48 | 60 => {
            let _ = write!(out, "{} {} {} ", data.u16()?, data.u8()?, data.u8()?);
            out.push_str(&data_encoding::BASE64.encode(data.rest_nonempty()?));
        }
        // RRSIG (RFC 4034 3.2).
        46 => {
            let covered = RecordType::from(data.u16()?);
            let (algorithm, labels, original_ttl) = (data.u8()?, data.u8()?, data.u32()?);
            let (expiration, inception) = (data.u32()?, data.u32()?);
            let key_tag = data.u16()?;
            let _ = write!(
                out,
                "{} {algorithm} {labels} {original_ttl} {} {} {key_tag} ",
                type_mnemonic(covered),
                signature_time(expiration),
                signature_time(inception),
            );
            push_absolute(&data.name()?, &mut out);
            out.push(' ');
            out.push_str(&data_encoding::BASE64.encode(data.rest_nonempty()?));
        }
        // NSEC (RFC 4034 4.2).
        47 => {
            push_absolute(&data.name()?, &mut out);
            push_types(data.rest(), &mut out)?;
        }
        // NSEC3 (RFC 5155 3.3).
        50 => {
            push_nsec3_parameters(&mut data, &mut out)?;
            let next = data.counted()?;
            if next.is_empty() {
                return None;
            }
            out.push(' ');
            out.push_str(
                &data_encoding::BASE32HEX_NOPAD
                    .encode(next)
                    .to_ascii_lowercase(),
            );
            push_types(data.rest(), &mut out)?;
        }
        // NSEC3PARAM (RFC 5155 4.3).
        51 => {
            push_nsec3_parameters(&mut data, &mut out)?;
            data.end()?;
        }
        // RP (RFC 1183 2.2).
        17 => {
            push_absolute(&data.name()?, &mut out);
            out.push(' ');
            push_absolute(&data.name()?, &mut out);
            data.end()?;
        }
        // SPF (RFC 7208 3): TXT's format, at least one string.
        99 => {
            let mut first = true;
            while !data.0.is_empty() || first {
                if !first {
                    out.push(' ');
                }
                push_string(data.counted()?, &mut out);
                first = false;
            }
        }
        // URI (RFC 7553 4.5).
        256 => {
            let _ = write!(out, "{} {} ", data.u16()?, data.u16()?);
            push_string(data.rest_nonempty()?, &mut out);
        }
        // LOC (RFC 1876).
        29 => loc_text(&mut data, &mut out)?,
        _ => return None,
    }
    data.end()?;
    Some(out)
}

/// `ALGORITHM FLAGS ITERATIONS SALT`, the salt hex or `-` when empty.
fn push_nsec3_parameters(data: &mut Wire<'_>, out: &mut String) -> Option<()> {
    let _ = write!(out, "{} {} {} ", data.u8()?, data.u8()?, data.u16()?);
    match data.counted()? {
        [] => out.push('-'),
        salt => push_hex(salt, out),
    }
    Some(())
}

/// RFC 4034 4.1.2: the types of a type bitmap, each after a space.
fn push_types(mut bitmap: &[u8], out: &mut String) -> Option<()> {
    while let [window, length, rest @ ..] = bitmap {
        let length = usize::from(*length);
        if !(1..=32).contains(&length) || rest.len() < length {
            return None;
        }
        let (bits, after) = rest.split_at(length);
        for (i, byte) in bits.iter().enumerate() {
            for bit in 0..8 {
                if byte & (0x80 >> bit) != 0 {
                    let code = u16::from(*window) << 8 | (i * 8 + bit) as u16;
                    out.push(' ');
                    out.push_str(&type_mnemonic(RecordType::from(code)));
                }
            }
        }
        bitmap = after;
    }
    bitmap.is_empty().then_some(())
}

/// RFC 1876 3: `D M S.sss N|S D M S.sss E|W ALTm SIZEm HPm VPm`.
fn loc_text(data: &mut Wire<'_>, out: &mut String) -> Option<()> {
    if data.u8()? != 0 {
        return None; // Only version 0 has a presentation.
    }
    let sizes = [data.u8()?, data.u8()?, data.u8()?];
    let latitude = angle(data.u32()?, 90, ('N', 'S'))?;
    let longitude = angle(data.u32()?, 180, ('E', 'W'))?;
    let altitude = i64::from(data.u32()?) - 10_000_000;
    let _ = write!(out, "{latitude} {longitude} {}m", metres(altitude));
    for code in sizes {
        let (mantissa, exponent) = (code >> 4, code & 0x0f);
        // What the reader's size_code rounds to, and nothing else, reads
        // back as this code.
        if mantissa > 9 || exponent > 9 || (mantissa == 0 && exponent != 0) {
            return None;
        }
        let cm = i64::from(mantissa) * 10i64.pow(u32::from(exponent));
        let _ = write!(out, " {}m", metres(cm));
    }
    Some(())
}

/// Thousandths of a second of arc from 2^31 as `D M S.sss H`.
fn angle(value: u32, max_degrees: i64, (positive, negative): (char, char)) -> Option<String> {
    let offset = i64::from(value) - (1i64 << 31);
    let thousandths = offset.abs();
    if thousandths > max_degrees * 3_600_000 {
        return None;
    }
    let hemisphere = if offset < 0 { negative } else { positive };
    Some(format!(
        "{} {} {}.{:03} {hemisphere}",
        thousandths / 3_600_000,
        thousandths / 60_000 % 60,
        thousandths / 1000 % 60,
        thousandths % 1000
    ))
}

/// Centimetres as metres with two decimals.
fn metres(cm: i64) -> String {
    let sign = if cm < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cm.abs() / 100, cm.abs() % 100)
}

/// RFC 4034 3.2: a signature time as `YYYYMMDDHHmmSS` (UTC), the form the
/// reader reads back to the same 32-bit value.
fn signature_time(seconds: u32) -> String {
    let seconds = i64::from(seconds);
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// The date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`, the
/// inverse of the reader's `days_since_epoch`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Record data being read field by field; every read is `None` past the
/// end.
struct Wire<'a>(&'a [u8]);

impl<'a> Wire<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    /// A length octet and that many bytes.
    fn counted(&mut self) -> Option<&'a [u8]> {
        let length = self.u8()?;
        self.take(usize::from(length))
    }

    /// An uncompressed name (the reader's `push_name` form).
    fn name(&mut self) -> Option<Name> {
        let mut name = Name::root();
        loop {
            let label = self.counted()?;
            if label.is_empty() {
                return Some(name);
            }
            if label.len() > 63 {
                return None;
            }
            name = name.append_label(Label::from_raw_bytes(label).ok()?).ok()?;
        }
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }

    fn rest_nonempty(&mut self) -> Option<&'a [u8]> {
        Some(self.rest()).filter(|rest| !rest.is_empty())
    }

    fn end(&self) -> Option<()> {
        self.0.is_empty().then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_strings_are_escaped_in_decimal() {
        let mut out = String::new();
        push_label(b"a.b\\c\"d(e)f;g@h$i j\x00\xff-*", &mut out);
        assert_eq!(out, "a\\.b\\\\c\\\"d\\(e\\)f\\;g\\@h\\$i\\032j\\000\\255-*");
        let mut out = String::new();
        push_string(b"say \"hi\"; \\ \x07\xe9", &mut out);
        assert_eq!(out, "\"say \\\"hi\\\"; \\\\ \\007\\233\"");
        let mut out = String::new();
        push_absolute(&Name::root(), &mut out);
        assert_eq!(out, ".");
    }

    #[test]
    fn signature_times_are_utc_dates() {
        assert_eq!(signature_time(0), "19700101000000");
        assert_eq!(signature_time(2_111_702_400), "20361201000000");
        assert_eq!(signature_time(u32::MAX), "21060207062815");
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn malformed_data_has_no_presentation() {
        let ds = RecordType::DS;
        assert_eq!(wire_kept_text(ds, &[0, 1, 13]), None);
        assert_eq!(wire_kept_text(ds, &[0, 1, 13, 2]), None, "no digest");
        assert_eq!(
            wire_kept_text(ds, &[0x30, 0x39, 13, 2, 0xab]).as_deref(),
            Some("12345 13 2 AB")
        );
        // A bitmap window longer than 32 bytes.
        let nsec = [&[0][..], &[0, 33], &[0; 33]].concat();
        assert_eq!(wire_kept_text(RecordType::NSEC, &nsec), None);
        // Bytes after the name of a DNAME.
        assert_eq!(wire_kept_text(RecordType::DNAME, &[0, 1]), None);
        assert_eq!(wire_kept_text(RecordType::Unknown(65280), &[1]), None);
    }
}
