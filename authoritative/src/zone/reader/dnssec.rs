//! The data of DNSSEC records in master files (RFC 4034, RFC 5155, RFC
//! 7344), read into wire bytes and kept opaque, as every type hickory reads
//! only with its DNSSEC feature: a signed zone (the output of
//! `dnssec-signzone`, `ldns-signzone` or Knot's `kzonesign`) loads as BIND,
//! NSD and Knot load it. The server hands these records out when asked
//! for them by type; it does not add signatures or denial proofs to other
//! answers (see the README).

use std::collections::BTreeSet;

use hickory_proto::rr::{Name, RData, RecordType};

use super::columns::{parse_name, parse_ttl, parse_type};
use super::lexer::Token;
use super::rdata::{hex_into, unknown};
use dnslab_wire::push_name;

/// RFC 4034 2.2 (DNSKEY; CDNSKEY, RFC 7344, is alike): `FLAGS PROTOCOL
/// ALGORITHM BASE64...`.
pub(super) fn dnskey_rdata(rtype: RecordType, tokens: &[Token<'_>]) -> Result<RData, String> {
    let [flags, protocol, algorithm, key @ ..] = tokens else {
        return Err("expected FLAGS PROTOCOL ALGORITHM KEY".into());
    };
    let mut wire = number::<u16>(flags, "flags")?.to_be_bytes().to_vec();
    wire.push(number::<u8>(protocol, "protocol")?);
    wire.push(number::<u8>(algorithm, "algorithm")?);
    base64_into(key, "key", &mut wire)?;
    Ok(unknown(rtype, wire))
}

/// RFC 4034 5.3: `KEYTAG ALGORITHM DIGESTTYPE HEX...` (CDS, RFC 7344, is
/// alike).
pub(super) fn ds_rdata(rtype: RecordType, tokens: &[Token<'_>]) -> Result<RData, String> {
    let [key_tag, algorithm, digest_type, digest @ ..] = tokens else {
        return Err("expected KEYTAG ALGORITHM DIGESTTYPE DIGEST".into());
    };
    if digest.is_empty() {
        return Err("missing digest".into());
    }
    let mut wire = number::<u16>(key_tag, "key tag")?.to_be_bytes().to_vec();
    wire.push(number::<u8>(algorithm, "algorithm")?);
    wire.push(number::<u8>(digest_type, "digest type")?);
    hex_into(digest, &mut wire)?;
    Ok(unknown(rtype, wire))
}

/// RFC 4034 3.1: the type an RRSIG covers (the first field of its data, as
/// the reader keeps it); `None` for any other record data.
pub(crate) fn type_covered(data: &RData) -> Option<RecordType> {
    match data {
        RData::Unknown {
            code: RecordType::RRSIG,
            rdata,
        } => match rdata.anything.get(..2)? {
            &[high, low] => Some(RecordType::from(u16::from_be_bytes([high, low]))),
            _ => None,
        },
        _ => None,
    }
}

/// RFC 4034 3.2: `TYPE ALGORITHM LABELS ORIGINAL-TTL EXPIRATION INCEPTION
/// KEYTAG SIGNER BASE64...`; the times are `YYYYMMDDHHmmSS` (UTC) or
/// seconds since 1970.
pub(super) fn rrsig_rdata(tokens: &[Token<'_>], origin: Option<&Name>) -> Result<RData, String> {
    let [covered, algorithm, labels, original_ttl, expiration, inception, key_tag, signer, signature @ ..] =
        tokens
    else {
        return Err(
            "expected TYPE ALGORITHM LABELS TTL EXPIRATION INCEPTION KEYTAG SIGNER SIGNATURE"
                .into(),
        );
    };
    let covered = parse_type(covered.text)
        .ok_or_else(|| format!("{:?} is not a record type", covered.text))?;
    let mut wire = u16::from(covered).to_be_bytes().to_vec();
    wire.push(number::<u8>(algorithm, "algorithm")?);
    wire.push(number::<u8>(labels, "labels")?);
    let original_ttl = parse_ttl(original_ttl.text)
        .ok_or_else(|| format!("original TTL {:?} is not a TTL", original_ttl.text))?;
    wire.extend_from_slice(&original_ttl.to_be_bytes());
    wire.extend_from_slice(&signature_time(expiration.text)?.to_be_bytes());
    wire.extend_from_slice(&signature_time(inception.text)?.to_be_bytes());
    wire.extend_from_slice(&number::<u16>(key_tag, "key tag")?.to_be_bytes());
    push_name(&name(signer, origin)?, &mut wire);
    base64_into(signature, "signature", &mut wire)?;
    Ok(unknown(RecordType::RRSIG, wire))
}

/// RFC 4034 4.2: `NEXT-NAME TYPE...`.
pub(super) fn nsec_rdata(tokens: &[Token<'_>], origin: Option<&Name>) -> Result<RData, String> {
    let [next, types @ ..] = tokens else {
        return Err("expected NEXT-NAME TYPES".into());
    };
    let mut wire = Vec::new();
    push_name(&name(next, origin)?, &mut wire);
    type_bitmap_into(types, &mut wire)?;
    Ok(unknown(RecordType::NSEC, wire))
}

/// RFC 5155 3.3: `ALGORITHM FLAGS ITERATIONS SALT NEXT-HASHED-OWNER
/// TYPE...`; the salt is hex or `-` (none), the next owner base32hex.
pub(super) fn nsec3_rdata(tokens: &[Token<'_>]) -> Result<RData, String> {
    let [algorithm, flags, iterations, salt, next, types @ ..] = tokens else {
        return Err("expected ALGORITHM FLAGS ITERATIONS SALT NEXT-HASHED-OWNER TYPES".into());
    };
    let mut wire = nsec3_parameters(algorithm, flags, iterations, salt)?;
    let next = data_encoding::BASE32HEX_NOPAD
        .decode(next.text.to_ascii_uppercase().as_bytes())
        .map_err(|e| format!("next hashed owner {:?} is not base32hex: {e}", next.text))?;
    wire.push(
        u8::try_from(next.len())
            .map_err(|_| "the next hashed owner is longer than 255 bytes".to_string())?,
    );
    wire.extend_from_slice(&next);
    type_bitmap_into(types, &mut wire)?;
    Ok(unknown(RecordType::NSEC3, wire))
}

/// RFC 5155 4.3: `ALGORITHM FLAGS ITERATIONS SALT`.
pub(super) fn nsec3param_rdata(tokens: &[Token<'_>]) -> Result<RData, String> {
    let [algorithm, flags, iterations, salt] = tokens else {
        return Err("expected ALGORITHM FLAGS ITERATIONS SALT".into());
    };
    let wire = nsec3_parameters(algorithm, flags, iterations, salt)?;
    Ok(unknown(RecordType::NSEC3PARAM, wire))
}

/// The fields NSEC3 and NSEC3PARAM begin with, the salt with its length.
fn nsec3_parameters(
    algorithm: &Token<'_>,
    flags: &Token<'_>,
    iterations: &Token<'_>,
    salt: &Token<'_>,
) -> Result<Vec<u8>, String> {
    let mut wire = vec![
        number::<u8>(algorithm, "hash algorithm")?,
        number::<u8>(flags, "flags")?,
    ];
    wire.extend_from_slice(&number::<u16>(iterations, "iterations")?.to_be_bytes());
    let mut bytes = Vec::new();
    if salt.text != "-" {
        hex_into(std::slice::from_ref(salt), &mut bytes)?;
    }
    wire.push(u8::try_from(bytes.len()).map_err(|_| "the salt is longer than 255 bytes")?);
    wire.extend_from_slice(&bytes);
    Ok(wire)
}

/// RFC 4034 4.1.2: the types, in windows of 256, each a bitmap trimmed
/// after its last set bit.
fn type_bitmap_into(tokens: &[Token<'_>], wire: &mut Vec<u8>) -> Result<(), String> {
    let mut types = BTreeSet::new();
    for token in tokens {
        let rtype = parse_type(token.text)
            .ok_or_else(|| format!("{:?} is not a record type", token.text))?;
        types.insert(u16::from(rtype));
    }
    let mut types = types.into_iter().peekable();
    while let Some(&first) = types.peek() {
        let window = first >> 8;
        let mut bitmap = [0u8; 32];
        let mut used = 0;
        while let Some(rtype) = types.next_if(|t| t >> 8 == window) {
            let low = usize::from(rtype & 0xff);
            bitmap[low / 8] |= 0x80 >> (low % 8);
            used = low / 8 + 1;
        }
        // `window` is the high byte of a u16, `used` at most 32.
        wire.extend_from_slice(&[window as u8, used as u8]);
        wire.extend_from_slice(&bitmap[..used]);
    }
    Ok(())
}

/// RFC 4034 3.2: a signature time, `YYYYMMDDHHmmSS` in UTC or seconds since
/// 1970, as the 32-bit serial number the wire holds (RFC 4034 3.1.5: times
/// after 2106 wrap around).
fn signature_time(text: &str) -> Result<u32, String> {
    let bad = || format!("{text:?} is not a time (YYYYMMDDHHmmSS or seconds since 1970)");
    if !text.bytes().all(|b| b.is_ascii_digit()) || text.is_empty() {
        return Err(bad());
    }
    if text.len() != 14 {
        return text.parse::<u32>().map_err(|_| bad());
    }
    let field = |range: std::ops::Range<usize>| text[range].parse::<i64>().map_err(|_| bad());
    let (year, month, day) = (field(0..4)?, field(4..6)?, field(6..8)?);
    let (hour, minute, second) = (field(8..10)?, field(10..12)?, field(12..14)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    let seconds = days_since_epoch(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    // Serial number arithmetic: the low 32 bits.
    Ok(seconds.rem_euclid(1 << 32) as u32)
}

/// Days from 1970-01-01 to the given date of the proleptic Gregorian
/// calendar (H. Hinnant's `days_from_civil`).
fn days_since_epoch(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// An unsigned field of record data, and its range for error messages.
trait Field: std::str::FromStr {
    const RANGE: &'static str;
}

impl Field for u8 {
    const RANGE: &'static str = "0-255";
}

impl Field for u16 {
    const RANGE: &'static str = "0-65535";
}

fn number<T: Field>(token: &Token<'_>, what: &str) -> Result<T, String> {
    token
        .text
        .parse::<T>()
        .map_err(|_| format!("{what} {:?} is not a number {}", token.text, T::RANGE))
}

fn name(token: &Token<'_>, origin: Option<&Name>) -> Result<Name, String> {
    parse_name(token.text, origin).map_err(|e| e.to_string())
}

/// Appends the bytes of base64 text spread over `tokens`.
fn base64_into(tokens: &[Token<'_>], what: &str, wire: &mut Vec<u8>) -> Result<(), String> {
    let text: String = tokens.iter().map(|t| t.text).collect();
    if text.is_empty() {
        return Err(format!("missing {what}"));
    }
    let bytes = data_encoding::BASE64
        .decode(text.as_bytes())
        .map_err(|e| format!("the {what} is not base64: {e}"))?;
    wire.extend_from_slice(&bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_times_read_as_dates_or_seconds() {
        assert_eq!(signature_time("19700101000000"), Ok(0));
        assert_eq!(signature_time("20000301000000"), Ok(951_868_800));
        // RFC 4034 3.3's example.
        assert_eq!(signature_time("20030322173103"), Ok(1_048_354_263));
        assert_eq!(signature_time("1048354263"), Ok(1_048_354_263));
        // After 2106 the serial wraps.
        assert_eq!(signature_time("21060207062816"), Ok(0));
        for bad in ["2003032217310", "20031322173103", "2003-03-22", "", "x"] {
            assert!(signature_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn type_bitmaps_are_windows_trimmed_after_the_last_type() {
        let bitmap = |types: &[&'static str]| {
            let tokens: Vec<Token<'_>> = types.iter().map(|t| Token::bare(t)).collect();
            let mut wire = Vec::new();
            type_bitmap_into(&tokens, &mut wire).map(|()| wire)
        };
        // RFC 4034 4.3's example: A MX RRSIG NSEC TYPE1234.
        assert_eq!(
            bitmap(&["A", "MX", "RRSIG", "NSEC", "TYPE1234"]),
            Ok([
                &[0x00, 0x06, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03][..],
                &[0x04, 0x1b],
                &[0; 26],
                &[0x20],
            ]
            .concat())
        );
        assert_eq!(bitmap(&[]), Ok(Vec::new()));
        assert!(bitmap(&["A", "NOSUCHTYPE"]).is_err());
    }
}
