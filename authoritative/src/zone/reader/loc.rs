//! LOC (RFC 1876): a location in its master-file form, read into the wire
//! form, which hickory-proto does not know.

use super::lexer::Token;

/// RFC 1876 3: `D1 [M1 [S1]] N|S D2 [M2 [S2]] E|W ALT[m] [SIZE[m] [HP[m]
/// [VP[m]]]]`; defaults size 1 m, horizontal precision 10,000 m, vertical
/// precision 10 m.
pub(super) fn loc_rdata(tokens: &[Token<'_>]) -> Result<Vec<u8>, String> {
    let mut rest = tokens.iter().map(|t| t.text);
    let latitude = angle(&mut rest, ("N", "S"), 90)?;
    let longitude = angle(&mut rest, ("E", "W"), 180)?;
    let altitude = rest.next().ok_or("missing altitude")?;
    // RFC 1876 2: centimetres above a base 100,000 m below the WGS 84
    // reference spheroid; at most 42,849,672.95 m.
    let altitude_cm = centimetres(altitude, "altitude")?
        .checked_add(10_000_000)
        .and_then(|cm| u32::try_from(cm).ok())
        .ok_or_else(|| format!("altitude {altitude:?} is out of range"))?;
    // Size, horizontal and vertical precision, with their defaults.
    let mut wire = vec![0];
    for (what, default_cm) in [
        ("size", 100),
        ("horizontal precision", 1_000_000),
        ("vertical precision", 1000),
    ] {
        wire.push(match rest.next() {
            Some(text) => size_code(centimetres(text, what)?, text)?,
            None => size_code(default_cm, what)?,
        });
    }
    if let Some(extra) = rest.next() {
        return Err(format!("unexpected {extra:?} after the vertical precision"));
    }
    wire.extend_from_slice(&latitude.to_be_bytes());
    wire.extend_from_slice(&longitude.to_be_bytes());
    wire.extend_from_slice(&altitude_cm.to_be_bytes());
    Ok(wire)
}

/// Degrees, optional minutes and seconds (with up to three decimals), and
/// the hemisphere letter; as thousandths of a second of arc from 2^31.
fn angle<'a>(
    tokens: &mut impl Iterator<Item = &'a str>,
    (positive, negative): (&str, &str),
    max_degrees: u32,
) -> Result<u32, String> {
    let mut fields = Vec::new();
    let sign = loop {
        let token = tokens
            .next()
            .ok_or_else(|| format!("missing {positive} or {negative}"))?;
        if token.eq_ignore_ascii_case(positive) {
            break 1;
        }
        if token.eq_ignore_ascii_case(negative) {
            break -1;
        }
        if fields.len() == 3 {
            return Err(format!(
                "expected {positive} or {negative}, found {token:?}"
            ));
        }
        fields.push(token);
    };
    let [degrees, minutes, seconds] = [0, 1, 2].map(|i| fields.get(i).copied());
    let degrees: u32 = degrees
        .ok_or("missing degrees")?
        .parse()
        .map_err(|_| format!("degrees {:?} are not a number", fields[0]))?;
    let minutes: u32 = match minutes {
        Some(text) => text
            .parse()
            .ok()
            .filter(|m| *m < 60)
            .ok_or_else(|| format!("minutes {text:?} are not 0-59"))?,
        None => 0,
    };
    let milliseconds = match seconds {
        Some(text) => thousandths(text)
            .filter(|ms| *ms < 60_000)
            .ok_or_else(|| format!("seconds {text:?} are not 0-59.999"))?,
        None => 0,
    };
    let total =
        (i64::from(degrees) * 3600 + i64::from(minutes) * 60) * 1000 + i64::from(milliseconds);
    if total > i64::from(max_degrees) * 3_600_000 {
        return Err(format!("{degrees} degrees is beyond {max_degrees}"));
    }
    // Within ±648,000,000 of 2^31: fits.
    Ok(((1i64 << 31) + sign * total) as u32)
}

/// `123`, `123.4`, `123.456` as thousandths.
fn thousandths(text: &str) -> Option<u32> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u32 = whole.parse().ok()?;
    let fraction: u32 = format!("{fraction:0<3}").parse().ok()?;
    whole.checked_mul(1000)?.checked_add(fraction)
}

/// Metres with an optional `m` and up to two decimals, as centimetres.
fn centimetres(text: &str, what: &str) -> Result<i64, String> {
    let bad = || format!("{what} {text:?} is not a length in metres (at most two decimals)");
    let number = text.strip_suffix(['m', 'M']).unwrap_or(text);
    let (negative, number) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || fraction.len() > 2 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    let cm = whole
        .checked_mul(100)
        .and_then(|cm| cm.checked_add(fraction))
        .ok_or_else(bad)?;
    Ok(if negative { -cm } else { cm })
}

/// RFC 1876 2: a size or precision as a mantissa (high nibble) and a power
/// of ten (low nibble) of centimetres, as BIND's `precsize_aton` rounds it.
fn size_code(cm: i64, text: &str) -> Result<u8, String> {
    if !(0..=9_000_000_000).contains(&cm) {
        return Err(format!("{text:?} is not a size from 0 to 90,000,000 m"));
    }
    let mut exponent = 0;
    while exponent < 9 && cm >= 10i64.pow(exponent + 1) {
        exponent += 1;
    }
    let mantissa = (cm / 10i64.pow(exponent)).min(9);
    // Both at most 9.
    Ok(((mantissa as u8) << 4) | exponent as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(text: &str) -> Result<Vec<u8>, String> {
        let tokens: Vec<Token<'_>> = text.split_whitespace().map(Token::bare).collect();
        loc_rdata(&tokens)
    }

    #[test]
    fn rfc_1876_example_reads_into_its_wire_form() {
        // RFC 1876 4's example, cambridge-net.kei.com.
        let wire = loc("42 21 54 N 71 06 18 W -24m 30m").unwrap();
        let latitude = (1u32 << 31) + ((42 * 3600 + 21 * 60 + 54) * 1000);
        let longitude = (1u32 << 31) - ((71 * 3600 + 6 * 60 + 18) * 1000);
        let expected = [
            &[0, 0x33, 0x16, 0x13][..],
            &latitude.to_be_bytes(),
            &longitude.to_be_bytes(),
            &(10_000_000u32 - 2400).to_be_bytes(),
        ]
        .concat();
        assert_eq!(wire, expected);
    }

    #[test]
    fn optional_fields_default_and_bad_ones_are_refused() {
        let wire = loc("52 N 4 E 0.5").unwrap();
        assert_eq!(wire[..4], [0, 0x12, 0x16, 0x13]);
        assert_eq!(wire[4..8], ((1u32 << 31) + 52 * 3_600_000).to_be_bytes());
        assert_eq!(wire[12..16], 10_000_050u32.to_be_bytes());
        assert_eq!(
            loc("0 0 0.001 S 0 E 0m 1m 2m 3m").unwrap()[1..4],
            [0x12, 0x22, 0x32]
        );
        for bad in [
            "91 N 0 E 0",
            "10 60 N 0 E 0",
            "10 N 0 E",
            "10 X 0 E 0",
            "10 N 0 E 0 1 2 3 4",
            "10 N 0 E 0.123",
            "10 N 0 E -100001m",
            "10 N 181 W 0",
        ] {
            assert!(loc(bad).is_err(), "{bad}");
        }
    }
}
