//! Record data: the tokens after the type, turned into [`RData`]. The
//! common types are read here (they are the hot path, and the names in
//! their data are made absolute against the current origin); DNSSEC types
//! in [`super::dnssec`], LOC in [`super::loc`]; the rest through
//! hickory-proto's `RData::try_from_str`, and RFC 3597 `\#` data through
//! hickory's wire decoder.
//!
//! The tokens come from the [`super::lexer`]; names in the data are read by
//! [`super::columns::parse_name`], and wire-form names by [`super::names`].

use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use hickory_proto::rr::rdata::{A, AAAA, ANAME, CNAME, MX, NS, NULL, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_proto::serialize::binary::{BinDecoder, Restrict};

use super::columns::{parse_name, parse_ttl, TYPE_LOC, TYPE_RP, TYPE_SPF, TYPE_URI};
use super::lexer::{join_tokens, Token};
use super::{dnssec, loc};
use dnslab_wire::{dname_rdata, dname_target, for_each_byte, push_name};

/// The RDATA of one record from its tokens. Types whose data holds domain
/// names are read here so that relative names are completed with the
/// current origin (hickory's `try_from_str` has none).
pub(super) fn parse_rdata(
    rtype: RecordType,
    tokens: &[Token<'_>],
    origin: Option<&Name>,
) -> Result<RData, String> {
    if let Some(first) = tokens.first() {
        if !first.quoted && first.text == "\\#" {
            return parse_generic_rdata(rtype, &tokens[1..]);
        }
    }
    let name = |token: &Token<'_>| parse_name(token.text, origin).map_err(|e| e.to_string());
    let number = |token: &Token<'_>, what: &str| {
        token
            .text
            .parse::<u16>()
            .map_err(|_| format!("{what} {:?} is not a number 0-65535", token.text))
    };
    let interval = |token: &Token<'_>, what: &str| {
        parse_ttl(token.text)
            .and_then(|v| i32::try_from(v).ok())
            .ok_or_else(|| format!("{what} {:?} is not a time interval", token.text))
    };
    let fields = |n: usize| -> Result<(), String> {
        if tokens.len() == n {
            Ok(())
        } else {
            Err(format!("expected {n} fields, found {}", tokens.len()))
        }
    };
    let rdata = match rtype {
        RecordType::A => {
            fields(1)?;
            let addr = Ipv4Addr::from_str(tokens[0].text)
                .map_err(|_| format!("{:?} is not an IPv4 address", tokens[0].text))?;
            RData::A(A(addr))
        }
        RecordType::AAAA => {
            fields(1)?;
            let addr = Ipv6Addr::from_str(tokens[0].text)
                .map_err(|_| format!("{:?} is not an IPv6 address", tokens[0].text))?;
            RData::AAAA(AAAA(addr))
        }
        RecordType::NS
        | RecordType::CNAME
        | RecordType::PTR
        | RecordType::ANAME
        | RecordType::DNAME => {
            fields(1)?;
            let target = name(&tokens[0])?;
            match rtype {
                RecordType::NS => RData::NS(NS(target)),
                RecordType::CNAME => RData::CNAME(CNAME(target)),
                RecordType::PTR => RData::PTR(PTR(target)),
                RecordType::ANAME => RData::ANAME(ANAME(target)),
                _ => dname_rdata(&target),
            }
        }
        RecordType::MX => {
            fields(2)?;
            RData::MX(MX::new(
                number(&tokens[0], "preference")?,
                name(&tokens[1])?,
            ))
        }
        RecordType::SRV => {
            fields(4)?;
            RData::SRV(SRV::new(
                number(&tokens[0], "priority")?,
                number(&tokens[1], "weight")?,
                number(&tokens[2], "port")?,
                name(&tokens[3])?,
            ))
        }
        RecordType::SOA => {
            fields(7)?;
            let serial = tokens[2]
                .text
                .parse::<u32>()
                .map_err(|_| format!("serial {:?} is not a number", tokens[2].text))?;
            let minimum = parse_ttl(tokens[6].text)
                .ok_or_else(|| format!("minimum {:?} is not a time interval", tokens[6].text))?;
            RData::SOA(SOA::new(
                name(&tokens[0])?,
                name(&tokens[1])?,
                serial,
                interval(&tokens[3], "refresh")?,
                interval(&tokens[4], "retry")?,
                interval(&tokens[5], "expire")?,
                minimum,
            ))
        }
        RecordType::TXT => {
            let strings = character_strings(tokens)?;
            RData::TXT(TXT::from_bytes(strings.iter().map(Vec::as_slice).collect()))
        }
        RecordType::Unknown(TYPE_SPF) => {
            let mut wire = Vec::new();
            for string in character_strings(tokens)? {
                // At most 255 bytes: checked by character_strings.
                wire.push(string.len() as u8);
                wire.extend_from_slice(&string);
            }
            unknown(rtype, wire)
        }
        RecordType::Unknown(TYPE_RP) => {
            let [mailbox, text] = tokens else {
                return Err("expected MAILBOX-NAME TXT-NAME".into());
            };
            let mut wire = Vec::new();
            push_name(&name(mailbox)?, &mut wire);
            push_name(&name(text)?, &mut wire);
            unknown(rtype, wire)
        }
        RecordType::Unknown(TYPE_LOC) => unknown(rtype, loc::loc_rdata(tokens)?),
        RecordType::Unknown(TYPE_URI) => {
            let [priority, weight, target] = tokens else {
                return Err("expected PRIORITY WEIGHT \"TARGET\"".into());
            };
            let target = unescape(target.text)?;
            if target.is_empty() {
                return Err("the target is empty".into());
            }
            let mut wire = number(priority, "priority")?.to_be_bytes().to_vec();
            wire.extend_from_slice(&number(weight, "weight")?.to_be_bytes());
            wire.extend_from_slice(&target);
            unknown(rtype, wire)
        }
        RecordType::Unknown(code) => {
            return Err(format!(
                "type {code} is unknown: write its data as \\# LENGTH HEX (RFC 3597)"
            ))
        }
        RecordType::DS | RecordType::CDS => dnssec::ds_rdata(rtype, tokens)?,
        RecordType::DNSKEY | RecordType::CDNSKEY => dnssec::dnskey_rdata(rtype, tokens)?,
        RecordType::RRSIG => dnssec::rrsig_rdata(tokens, origin)?,
        RecordType::NSEC => dnssec::nsec_rdata(tokens, origin)?,
        RecordType::NSEC3 => dnssec::nsec3_rdata(tokens)?,
        RecordType::NSEC3PARAM => dnssec::nsec3param_rdata(tokens)?,
        _ => {
            if tokens.is_empty() {
                return Err("missing data".into());
            }
            // The domain name inside these types' data, made absolute here
            // because hickory's parser knows no origin.
            let name_at = match rtype {
                RecordType::SVCB | RecordType::HTTPS => Some(1),
                RecordType::NAPTR => Some(5),
                _ => None,
            };
            let text = join_tokens(tokens, |i, text, out| {
                if Some(i) == name_at {
                    let name = parse_name(text, origin).map_err(|e| e.to_string())?;
                    out.push_str(&name.to_string());
                } else {
                    out.push_str(text);
                }
                Ok(())
            })?;
            RData::try_from_str(rtype, &text).map_err(|e| {
                format!("{e} (data hickory cannot read may be written as \\# LENGTH HEX, RFC 3597)")
            })?
        }
    };
    Ok(rdata)
}

/// Character-strings (RFC 1035 3.3), each at most 255 bytes: TXT's data.
fn character_strings(tokens: &[Token<'_>]) -> Result<Vec<Vec<u8>>, String> {
    if tokens.is_empty() {
        return Err("expected at least one string".into());
    }
    let strings = tokens
        .iter()
        .map(|t| unescape(t.text))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(long) = strings.iter().find(|s| s.len() > 255) {
        return Err(format!(
            "a string of {} bytes is longer than 255 (split it into several)",
            long.len()
        ));
    }
    Ok(strings)
}

/// Appends the bytes of hex digits spread over `tokens`.
pub(super) fn hex_into(tokens: &[Token<'_>], out: &mut Vec<u8>) -> Result<(), String> {
    for token in tokens {
        let digits = token.text.as_bytes();
        if digits.len() % 2 != 0 {
            return Err(format!("{:?} is not whole hex bytes", token.text));
        }
        for pair in digits.chunks(2) {
            let byte = std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("{:?} is not hex", token.text))?;
            out.push(byte);
        }
    }
    Ok(())
}

/// RFC 3597 5: `\# LENGTH HEX...`. Known types are decoded into their
/// usual variant (so `A \# 4 c0000201` is an A record); unknown ones are
/// kept as opaque bytes.
fn parse_generic_rdata(rtype: RecordType, tokens: &[Token<'_>]) -> Result<RData, String> {
    let (length, hex) = tokens
        .split_first()
        .ok_or("\\# must be followed by the data length")?;
    let length: u16 = length
        .text
        .parse()
        .map_err(|_| format!("\\# length {:?} is not a number 0-65535", length.text))?;
    let mut bytes = Vec::with_capacity(usize::from(length));
    hex_into(hex, &mut bytes)?;
    if bytes.len() != usize::from(length) {
        return Err(format!(
            "\\# says {length} bytes but {} follow",
            bytes.len()
        ));
    }
    if matches!(rtype, RecordType::Unknown(_) | RecordType::DNAME) {
        if rtype == RecordType::DNAME && dname_target(&unknown(rtype, bytes.clone())).is_none() {
            return Err("the data is not an uncompressed domain name".into());
        }
        return Ok(unknown(rtype, bytes));
    }
    let mut decoder = BinDecoder::new(&bytes);
    let rdata = RData::read(&mut decoder, rtype, Restrict::new(length))
        .map_err(|e| format!("the data is not valid {rtype} wire format: {e}"))?;
    if !decoder.is_empty() {
        return Err(format!(
            "{} bytes left over after the {rtype} data",
            decoder.len()
        ));
    }
    Ok(rdata)
}

/// Data of a type we keep as wire bytes (DNAME, DS, RFC 3597 types).
pub(crate) fn unknown(code: RecordType, bytes: Vec<u8>) -> RData {
    // `NULL::with` insists on data; RFC 3597 allows `\# 0`.
    let rdata = if bytes.is_empty() {
        NULL::new()
    } else {
        NULL::with(bytes)
    };
    RData::Unknown { code, rdata }
}

/// The bytes of a character-string, escapes decoded (see
/// [`for_each_byte`]).
pub(super) fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    for_each_byte(text, |byte, _| {
        out.push(byte);
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_str;
    use super::*;

    /// The wire bytes of the one record `line` (in example.com.) holds.
    fn wire_of(line: &str) -> Result<(RecordType, Vec<u8>), String> {
        let origin = Name::from_ascii("example.com.").unwrap();
        let records =
            read_str(&format!("$TTL 60\n{line}\n"), Some(origin)).map_err(|e| e.to_string())?;
        match &records[..] {
            [one] => match &one.record.data {
                RData::Unknown { code, rdata } => Ok((*code, rdata.anything.to_vec())),
                other => Err(format!("not kept as wire bytes: {other:?}")),
            },
            _ => Err(format!("{} records", records.len())),
        }
    }

    #[test]
    fn types_hickory_cannot_read_are_kept_as_their_wire_bytes() {
        let name = |labels: &[&str]| {
            let mut wire = Vec::new();
            for label in labels {
                wire.push(label.len() as u8);
                wire.extend_from_slice(label.as_bytes());
            }
            wire.push(0);
            wire
        };
        let rp = [name(&["admin", "example", "com"]), name(&["txt", "other"])].concat();
        assert_eq!(
            wire_of("@ RP admin txt.other."),
            Ok((RecordType::from(17), rp))
        );
        assert_eq!(
            wire_of("@ SPF \"v=spf1\" \"-all\""),
            Ok((RecordType::from(99), b"\x06v=spf1\x04-all".to_vec()))
        );
        let uri = [&[0, 10, 0, 1][..], b"https://a/"].concat();
        assert_eq!(
            wire_of("@ URI 10 1 \"https://a/\""),
            Ok((RecordType::from(256), uri))
        );
        let key = [&[0x01, 0x01, 3, 13][..], b"key"].concat();
        for rtype in [RecordType::DNSKEY, RecordType::CDNSKEY] {
            // "a2V5" is base64 for "key"; it may be split into several tokens.
            assert_eq!(
                wire_of(&format!("@ {rtype} 257 3 13 a2 V5")),
                Ok((rtype, key.clone()))
            );
        }
        assert_eq!(
            wire_of("@ CDS 12345 13 2 AB CD"),
            Ok((RecordType::CDS, vec![0x30, 0x39, 13, 2, 0xAB, 0xCD]))
        );
        for bad in [
            "@ RP admin",
            "@ URI 10 1 \"\"",
            "@ URI 10 \"https://a/\"",
            "@ DNSKEY 257 3 13 not*base64",
            "@ DNSKEY 257 3 13",
            "@ DNSKEY 65536 3 13 a2V5",
            "@ SPF",
        ] {
            assert!(wire_of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dnssec_records_of_signed_zones_are_kept_as_their_wire_bytes() {
        let example_com = b"\x07example\x03com\x00";
        let mut rrsig = vec![0, 1, 13, 2, 0, 0, 1, 0x2c];
        rrsig.extend_from_slice(&2_111_702_400u32.to_be_bytes());
        rrsig.extend_from_slice(&1_796_083_200u32.to_be_bytes());
        rrsig.extend_from_slice(&[0x30, 0x39]);
        rrsig.extend_from_slice(example_com);
        rrsig.extend_from_slice(b"key");
        // The signature may be split over lines, inside parentheses.
        assert_eq!(
            wire_of("@ RRSIG A 13 2 300 20361201000000 20261201000000 12345 @ (\n a2\n V5 )"),
            Ok((RecordType::RRSIG, rrsig))
        );
        let nsec = [
            &b"\x03www"[..],
            example_com,
            &[0, 6, 0x40, 0, 0, 0, 0, 0x03],
        ]
        .concat();
        assert_eq!(
            wire_of("@ NSEC www A RRSIG NSEC"),
            Ok((RecordType::NSEC, nsec))
        );
        // RFC 5155 appendix A's first NSEC3 record.
        let next = [
            23, 78, 178, 64, 159, 226, 139, 203, 72, 135, 161, 131, 111, 149, 127, 10, 132, 37,
            226, 123,
        ];
        let nsec3 = [
            &[1, 1, 0, 12, 4, 0xaa, 0xbb, 0xcc, 0xdd, 20][..],
            &next,
            &[0, 7, 0x22, 0x01, 0, 0, 0, 0x02, 0x90],
        ]
        .concat();
        assert_eq!(
            wire_of("@ NSEC3 1 1 12 aabbccdd ( 2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG )"),
            Ok((RecordType::NSEC3, nsec3))
        );
        assert_eq!(
            wire_of("@ NSEC3PARAM 1 0 0 -"),
            Ok((RecordType::NSEC3PARAM, vec![1, 0, 0, 0, 0]))
        );
        for bad in [
            "@ RRSIG A 13 2 300 20361301000000 20261201000000 12345 @ a2V5",
            "@ RRSIG A 13 2 300 20361201000000 20261201000000 12345 @",
            "@ RRSIG NOSUCH 13 2 300 20361201000000 20261201000000 12345 @ a2V5",
            "@ NSEC",
            "@ NSEC www A BOGUS",
            "@ NSEC3 1 1 12 aabbccdd not-base32hex A",
            "@ NSEC3PARAM 1 0 0",
            "@ NSEC3PARAM 1 0 0 xyz",
        ] {
            assert!(wire_of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn generic_rdata_decodes_known_types() {
        let tok = |t: &'static str| Token::bare(t);
        let a = parse_generic_rdata(RecordType::A, &[tok("4"), tok("c0"), tok("000201")]).unwrap();
        assert_eq!(a, RData::A(A::new(192, 0, 2, 1)));
        let unknown = parse_generic_rdata(RecordType::Unknown(65534), &[tok("2"), tok("abcd")]);
        assert_eq!(
            unknown.unwrap(),
            super::unknown(RecordType::Unknown(65534), vec![0xab, 0xcd])
        );
        assert!(parse_generic_rdata(RecordType::A, &[tok("3"), tok("c00002")]).is_err());
        assert!(parse_generic_rdata(RecordType::A, &[tok("4"), tok("c00002")]).is_err());
    }
}
