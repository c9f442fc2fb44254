//! The columns before the data of each record: owner, TTL and class in
//! either order, and type (RFC 1035 5.1), with the TTL decided as BIND
//! decides it (see the module doc of [`super`]).
//!
//! The readers of those tokens ([`parse_name`], [`parse_ttl`],
//! [`parse_type`]) serve the record data too, for the names, intervals and
//! types inside it.
//!
//! The tokens come from the [`super::lexer`]; the data after the type is
//! read by [`super::rdata`], and the finished record goes to the reader's
//! [`super::RecordSink`].

use std::str::FromStr;

use hickory_proto::rr::{DNSClass, Label, Name, RData, Record, RecordType};

use super::lexer::{Entry, Token};
use super::rdata::parse_rdata;
use super::{FileState, ReadErrorKind, Reader};
use dnslab_wire::escaped_name;

impl Reader<'_> {
    /// One resource record: `[owner] [ttl] [class] type rdata` with TTL and
    /// class in either order (RFC 1035 5.1).
    pub(super) fn record(
        &mut self,
        state: &mut FileState,
        entry: Entry,
        tokens: &[Token<'_>],
    ) -> Result<(), ReadErrorKind> {
        let (owner, mut rest) = if entry.blank_owner {
            (
                state.last_owner.clone().ok_or(ReadErrorKind::NoOwner)?,
                tokens,
            )
        } else {
            (
                parse_name(tokens[0].text, state.origin.as_ref())?,
                &tokens[1..],
            )
        };

        let mut ttl = None;
        let mut class_seen = false;
        while let Some((token, after)) = rest.split_first() {
            if token.quoted {
                break;
            }
            let first = token.text.as_bytes().first().copied().unwrap_or(0);
            if ttl.is_none() && first.is_ascii_digit() {
                ttl = Some(self.checked_ttl(state, entry.line, token.text)?);
            } else if !class_seen && is_class(token.text) {
                if parse_class(token.text) != Some(DNSClass::IN) {
                    return Err(ReadErrorKind::WrongClass(token.text.to_string()));
                }
                class_seen = true;
            } else {
                break;
            }
            rest = after;
        }
        let (rtype_token, rdata_tokens) = rest.split_first().ok_or(ReadErrorKind::MissingType)?;
        if rtype_token.quoted {
            return Err(ReadErrorKind::UnknownType(rtype_token.text.to_string()));
        }
        let rtype = parse_type(rtype_token.text)
            .ok_or_else(|| ReadErrorKind::UnknownType(rtype_token.text.to_string()))?;

        // With no $ORIGIN and no origin given, an absolute SOA owner is the
        // origin, so the SOA's own relative names can be read against it.
        if rtype == RecordType::SOA && state.origin.is_none() && owner.is_fqdn() {
            state.origin = Some(owner.clone());
        }
        if rtype == RecordType::SOA && self.zone_origin.is_none() {
            self.zone_origin = Some(owner.clone());
        }

        let rdata = parse_rdata(rtype, rdata_tokens, state.origin.as_ref())
            .map_err(|reason| ReadErrorKind::BadRdata { rtype, reason })?;
        let ttl = self.resolve_ttl(state, entry.line, ttl, &rdata)?;

        let mut record = Record::from_rdata(owner.clone(), ttl, rdata);
        record.dns_class = DNSClass::IN;
        self.sink.push(record, state.at(entry.line));
        state.last_owner = Some(owner);
        Ok(())
    }

    /// The TTL of a record as BIND decides it (see the module doc).
    fn resolve_ttl(
        &mut self,
        state: &FileState,
        line: u32,
        explicit: Option<u32>,
        rdata: &RData,
    ) -> Result<u32, ReadErrorKind> {
        if let Some(ttl) = explicit {
            self.last_ttl = Some(ttl);
            return Ok(ttl);
        }
        if let Some(ttl) = self.default_ttl {
            return Ok(ttl);
        }
        if let Some(ttl) = self.last_ttl {
            return Ok(ttl);
        }
        match rdata {
            RData::SOA(soa) => {
                let ttl = soa.minimum;
                self.warn(
                    state,
                    line,
                    "no TTL specified; using SOA MINIMUM instead".into(),
                );
                self.default_ttl = Some(ttl);
                Ok(ttl)
            }
            _ => Err(ReadErrorKind::NoTtl),
        }
    }

    /// A TTL token; values above 2^31-1 become 0 as RFC 2181 8 says, with
    /// a warning.
    pub(super) fn checked_ttl(
        &mut self,
        state: &FileState,
        line: u32,
        text: &str,
    ) -> Result<u32, ReadErrorKind> {
        let ttl = parse_ttl(text).ok_or_else(|| ReadErrorKind::BadTtl(text.to_string()))?;
        if ttl > i32::MAX as u32 {
            self.warn(
                state,
                line,
                format!("TTL {ttl} above 2^31-1 taken as 0 (RFC 2181 8)"),
            );
            return Ok(0);
        }
        Ok(ttl)
    }
}

/// A domain name token: `@` is the origin, names without a final dot are
/// relative to it (RFC 1035 5.1).
pub(super) fn parse_name(text: &str, origin: Option<&Name>) -> Result<Name, ReadErrorKind> {
    if text == "@" {
        return origin
            .cloned()
            .ok_or_else(|| ReadErrorKind::NoOrigin(text.to_string()));
    }
    let bad = |e: hickory_proto::ProtoError| ReadErrorKind::BadName {
        name: text.to_string(),
        reason: e.to_string(),
    };
    let name = if text.contains('\\') {
        // hickory reads `\DDD` as octal; RFC 1035 5.1 (and BIND) decimal.
        escaped_name(text).map_err(|reason| ReadErrorKind::BadName {
            name: text.to_string(),
            reason,
        })?
    } else if text.contains("..") || text.starts_with('.') {
        Name::from_ascii(text).map_err(bad)?
    } else {
        // The hot path (a million `hostN` owners): labels straight from the
        // token's bytes, with no escapes to interpret.
        let mut name = Name::new();
        for label in text.split('.').filter(|l| !l.is_empty()) {
            name = name
                .append_label(Label::from_raw_bytes(label.as_bytes()).map_err(bad)?)
                .map_err(bad)?;
        }
        name.set_fqdn(text.ends_with('.'));
        name
    };
    if name.is_fqdn() {
        return Ok(name);
    }
    let origin = origin.ok_or_else(|| ReadErrorKind::NoOrigin(text.to_string()))?;
    name.append_domain(origin).map_err(bad)
}

/// A TTL in seconds or BIND units (`1w2d3h4m5s`, case-insensitive, a
/// trailing bare number is seconds); `None` when malformed or above u32.
pub(super) fn parse_ttl(text: &str) -> Option<u32> {
    if text.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for b in text.bytes() {
        if b.is_ascii_digit() {
            let n = number.unwrap_or(0) * 10 + u64::from(b - b'0');
            if n > u64::from(u32::MAX) {
                return None;
            }
            number = Some(n);
            continue;
        }
        let unit = match b.to_ascii_lowercase() {
            b's' => 1,
            b'm' => 60,
            b'h' => 3600,
            b'd' => 86_400,
            b'w' => 604_800,
            _ => return None,
        };
        // Each term fits u64, but a long token of terms could still
        // overflow the sum: stop as soon as it leaves u32.
        total += number.take()? * unit;
        if total > u64::from(u32::MAX) {
            return None;
        }
    }
    total += number.unwrap_or(0);
    u32::try_from(total).ok()
}

fn is_class(text: &str) -> bool {
    parse_class(text).is_some()
}

/// `IN`, `CH`, `HS` or RFC 3597 `CLASSnnn`, case-insensitive.
fn parse_class(text: &str) -> Option<DNSClass> {
    if text.eq_ignore_ascii_case("IN") {
        return Some(DNSClass::IN);
    }
    if text.eq_ignore_ascii_case("CH") {
        return Some(DNSClass::CH);
    }
    if text.eq_ignore_ascii_case("HS") {
        return Some(DNSClass::HS);
    }
    let number = strip_prefix_ignore_case(text, "CLASS")?;
    number.parse::<u16>().ok().map(DNSClass::from)
}

pub(super) fn is_ttl_or_class(text: &str) -> bool {
    parse_ttl(text).is_some() || is_class(text)
}

/// A type mnemonic (case-insensitive) or RFC 3597 `TYPEnnn`.
pub(super) fn parse_type(text: &str) -> Option<RecordType> {
    // The hot path: upper-case mnemonics parse without allocating.
    if let Ok(rtype) = RecordType::from_str(text) {
        return Some(rtype);
    }
    if let Some(number) = strip_prefix_ignore_case(text, "TYPE") {
        return number.parse::<u16>().ok().map(RecordType::from);
    }
    if let Some(&(_, code)) = MORE_TYPES
        .iter()
        .find(|(mnemonic, _)| mnemonic.eq_ignore_ascii_case(text))
    {
        return Some(RecordType::from(code));
    }
    RecordType::from_str(&text.to_ascii_uppercase()).ok()
}

/// How a type is written so that [`parse_type`] reads it back: its
/// mnemonic when there is one, else RFC 3597's `TYPEnnn`.
pub(crate) fn type_mnemonic(rtype: RecordType) -> String {
    let code = u16::from(rtype);
    if let Some((mnemonic, _)) = MORE_TYPES.iter().find(|(_, c)| *c == code) {
        return (*mnemonic).to_string();
    }
    let text = rtype.to_string();
    if !matches!(rtype, RecordType::Unknown(_)) && parse_type(&text) == Some(rtype) {
        text
    } else {
        format!("TYPE{code}")
    }
}

/// Mnemonics BIND, NSD and Knot read that hickory-proto 0.26 does not
/// know. Their data is read here and kept as wire bytes, as DS is.
const MORE_TYPES: [(&str, u16); 4] = [
    ("RP", TYPE_RP),
    ("LOC", TYPE_LOC),
    ("SPF", TYPE_SPF),
    ("URI", TYPE_URI),
];
/// RFC 1183 2.2: a mailbox and the owner of a TXT record.
pub(super) const TYPE_RP: u16 = 17;
/// RFC 1876: a location on the globe.
pub(super) const TYPE_LOC: u16 = 29;
/// RFC 7208 (obsolete, still found in zones): TXT's format.
pub(super) const TYPE_SPF: u16 = 99;
/// RFC 7553 4.5: priority, weight, target.
pub(super) const TYPE_URI: u16 = 256;

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
        .filter(|rest| !rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("3600"), Some(3600));
        assert_eq!(parse_ttl("1h30m"), Some(5400));
        assert_eq!(
            parse_ttl("1W2d3H4m5S"),
            Some(604_800 + 2 * 86_400 + 3 * 3600 + 4 * 60 + 5)
        );
        assert_eq!(parse_ttl("1h30"), Some(3630));
        assert_eq!(parse_ttl("h"), None);
        assert_eq!(parse_ttl("1x"), None);
        assert_eq!(parse_ttl("4294967296"), None);
        assert_eq!(parse_ttl(""), None);
        // Many large terms must fail cleanly, not overflow the sum.
        assert_eq!(parse_ttl(&"4294967295w".repeat(10_000)), None);
        assert_eq!(parse_ttl("4294967295s1s"), None);
    }

    #[test]
    fn types_and_classes() {
        assert_eq!(parse_type("A"), Some(RecordType::A));
        assert_eq!(parse_type("aaaa"), Some(RecordType::AAAA));
        assert_eq!(parse_type("TYPE65534"), Some(RecordType::Unknown(65534)));
        assert_eq!(parse_type("type1"), Some(RecordType::A));
        assert_eq!(parse_type("BOGUS"), None);
        for code in [1, 2, 17, 29, 43, 46, 65, 99, 256, 65280] {
            let rtype = RecordType::from(code);
            assert_eq!(parse_type(&type_mnemonic(rtype)), Some(rtype), "{code}");
        }
        assert_eq!(type_mnemonic(RecordType::from(17)), "RP");
        assert_eq!(type_mnemonic(RecordType::from(65280)), "TYPE65280");
        assert_eq!(parse_class("CLASS1"), Some(DNSClass::IN));
        assert_eq!(parse_class("in"), Some(DNSClass::IN));
        assert_eq!(parse_class("CLASS"), None);
    }

    #[test]
    fn names_are_completed_with_the_origin() {
        let origin = Name::from_ascii("example.com.").unwrap();
        let name = |t: &str| parse_name(t, Some(&origin)).unwrap().to_string();
        assert_eq!(name("@"), "example.com.");
        assert_eq!(name("www"), "www.example.com.");
        assert_eq!(name("other.org."), "other.org.");
        // RFC 1035 5.1: \DDD is the byte DDD, \X is X.
        assert_eq!(name("dec\\065"), "decA.example.com.");
        let dotted = parse_name("a\\.b", Some(&origin)).unwrap();
        assert_eq!(dotted.num_labels(), 3, "one label holding a dot");
        assert!(matches!(
            parse_name("www", None),
            Err(ReadErrorKind::NoOrigin(_))
        ));
    }
}
