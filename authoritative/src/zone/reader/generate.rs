//! BIND's `$GENERATE`: one record for each value of a range, with `$`
//! and `${offset,width,base}` in the owner and data replaced by the value.
//!
//! Each generated line goes back through the [`super::lexer`] and the
//! record reader ([`super::columns`]) as if it had been written out.

use super::columns::is_ttl_or_class;
use super::lexer::{join_tokens, Lexer, Token};
use super::{FileState, ReadErrorKind, Reader};

/// Most records one `$GENERATE` may make: a typo in a range (`1-10000000000`
/// is rejected as too large for u32, but `0-4000000000` is not) must not
/// exhaust memory; two million is well above the largest real use.
const MAX_GENERATED: u64 = 1 << 21;
/// Widest `${offset,width}` field of `$GENERATE`: the length of a name.
const MAX_GENERATE_WIDTH: usize = 255;

impl Reader<'_> {
    /// BIND's `$GENERATE range lhs [ttl] [class] type rhs`: one record per
    /// value of the range, `$` in lhs and rhs replaced by the value.
    pub(super) fn generate(
        &mut self,
        state: &mut FileState,
        line: u32,
        args: &[Token<'_>],
    ) -> Result<(), ReadErrorKind> {
        let bad = |problem: String| ReadErrorKind::BadDirective {
            directive: "$GENERATE",
            problem,
        };
        let [range, template @ ..] = args else {
            return Err(bad("expects a range, an owner, a type and data".into()));
        };
        if template.len() < 3 {
            return Err(bad("expects a range, an owner, a type and data".into()));
        }
        let range = GenerateRange::parse(range.text).map_err(bad)?;
        if u64::from((range.stop - range.start) / range.step) >= MAX_GENERATED {
            return Err(bad(format!(
                "the range makes more than {MAX_GENERATED} records"
            )));
        }
        // Which template tokens are lhs/rhs (expanded) and which are the
        // TTL/class/type columns (kept).
        let type_at = template
            .iter()
            .skip(1)
            .position(|t| !t.quoted && !is_ttl_or_class(t.text))
            .map(|p| p + 1)
            .ok_or_else(|| bad("missing record type".into()))?;
        let mut value = range.start;
        loop {
            let text = join_tokens(template, |i, text, out| {
                if i == 0 || i > type_at {
                    expand_generate(text, value, out)
                } else {
                    out.push_str(text);
                    Ok(())
                }
            })
            .map_err(bad)?;
            let mut lexer = Lexer::new(&text);
            lexer.line = line;
            let mut generated = Vec::with_capacity(template.len());
            match lexer.next_entry(&mut generated) {
                Ok(Some(entry)) => self.record(state, entry, &generated)?,
                Ok(None) => return Err(bad("expands to nothing".into())),
                Err((_, kind)) => return Err(kind),
            }
            match value.checked_add(range.step) {
                Some(next) if next <= range.stop => value = next,
                _ => return Ok(()),
            }
        }
    }
}

/// `start-stop[/step]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct GenerateRange {
    start: u32,
    stop: u32,
    step: u32,
}

impl GenerateRange {
    fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("range {text:?} is not START-STOP[/STEP]");
        let (range, step) = match text.split_once('/') {
            Some((range, step)) => (range, step.parse::<u32>().map_err(|_| bad())?),
            None => (text, 1),
        };
        let (start, stop) = range.split_once('-').ok_or_else(bad)?;
        let start = start.parse::<u32>().map_err(|_| bad())?;
        let stop = stop.parse::<u32>().map_err(|_| bad())?;
        if start > stop || step == 0 {
            return Err(format!(
                "range {text:?} must have START <= STOP and STEP > 0"
            ));
        }
        Ok(GenerateRange { start, stop, step })
    }
}

/// Appends `template` with BIND's `$GENERATE` substitutions for `value`:
/// `$` is the value, `${offset[,width[,base]]}` formats it, `$$` and `\$`
/// are a literal `$`.
fn expand_generate(template: &str, value: u32, out: &mut String) -> Result<(), String> {
    let mut rest = template;
    while let Some(at) = rest.find(['$', '\\']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("\\$") {
            out.push('$');
            rest = after;
        } else if let Some(after) = tail.strip_prefix('\\') {
            // Other escapes belong to the name or string: keep them.
            out.push('\\');
            let mut chars = after.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
        } else if let Some(after) = tail.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let (spec, after) = after
                .split_once('}')
                .ok_or_else(|| format!("unterminated ${{ in {template:?}"))?;
            format_generate(spec, value, out)?;
            rest = after;
        } else {
            out.push_str(&value.to_string());
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(())
}

/// `offset[,width[,base]]` with base one of d, o, x, X, n, N (BIND).
fn format_generate(spec: &str, value: u32, out: &mut String) -> Result<(), String> {
    let bad = || format!("bad modifier ${{{spec}}}: expected ${{offset[,width[,base]]}}");
    let mut parts = spec.split(',');
    let offset: i64 = parts
        .next()
        .unwrap_or("0")
        .trim()
        .parse()
        .map_err(|_| bad())?;
    let width: usize = match parts.next() {
        Some(w) => w.trim().parse().map_err(|_| bad())?,
        None => 0,
    };
    let base = match parts.next() {
        Some(b) if b.len() == 1 => b.as_bytes()[0],
        Some(_) => return Err(bad()),
        None => b'd',
    };
    if parts.next().is_some() {
        return Err(bad());
    }
    // A name is at most 255 octets: a wider field is a typo, and an
    // unbounded one would allocate whatever the zone file asks for.
    if width > MAX_GENERATE_WIDTH {
        return Err(bad());
    }
    let value = i64::from(value).checked_add(offset).ok_or_else(bad)?;
    if value < 0 {
        return Err(format!("${{{spec}}} gives a negative number"));
    }
    let formatted = match base {
        b'd' => format!("{value:0width$}"),
        b'o' => format!("{value:0width$o}"),
        b'x' => format!("{value:0width$x}"),
        b'X' => format!("{value:0width$X}"),
        b'n' | b'N' => nibbles(value as u64, width, base == b'N'),
        _ => return Err(bad()),
    };
    out.push_str(&formatted);
    Ok(())
}

/// BIND's nibble format: hex digits lowest first, dot-separated, padded
/// to `width` characters (dots included), as in `ip6.arpa` names.
fn nibbles(mut value: u64, mut width: usize, upper: bool) -> String {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = String::new();
    loop {
        out.push(char::from(digits[(value & 0xf) as usize]));
        value >>= 4;
        width = width.saturating_sub(1);
        if width > 0 || value != 0 {
            out.push('.');
            width = width.saturating_sub(1);
        }
        if value == 0 && width == 0 {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use hickory_proto::rr::Name;

    use super::super::tests::read_str;
    use super::*;

    #[test]
    fn generate_substitutions() {
        let expand = |t: &str, v: u32| {
            let mut s = String::new();
            expand_generate(t, v, &mut s).map(|()| s)
        };
        assert_eq!(expand("host$", 7).unwrap(), "host7");
        assert_eq!(expand("${10,3,d}", 7).unwrap(), "017");
        assert_eq!(expand("${0,4,x}.${0,0,X}", 255).unwrap(), "00ff.FF");
        assert_eq!(expand("${0,3,o}", 8).unwrap(), "010");
        assert_eq!(expand("$$ \\$ $", 1).unwrap(), "$ $ 1");
        assert_eq!(expand("${-1}", 5).unwrap(), "4");
        assert_eq!(expand("${0,0,n}", 0x1a).unwrap(), "a.1");
        assert_eq!(expand("${0,7,n}", 0x1a).unwrap(), "a.1.0.0");
        assert!(expand("${1,2", 1).is_err());
        assert!(expand("${-9}", 1).is_err());
        // Zone-file numbers that would overflow or allocate without bound.
        assert!(expand("${9223372036854775807}", 1).is_err());
        assert!(expand("${0,99999999999}", 1).is_err());
        assert!(expand("${0,4294967295,n}", 1).is_err());
    }

    #[test]
    fn generate_refuses_ranges_that_would_exhaust_memory() {
        let origin = Name::from_ascii("example.com.").unwrap();
        let err = read_str(
            "$GENERATE 0-4000000000 h$ A 10.0.0.1\n",
            Some(origin.clone()),
        )
        .unwrap_err();
        assert_eq!(err.location.line, 1);
        assert!(
            matches!(err.kind, ReadErrorKind::BadDirective { .. }),
            "{err}"
        );
        let records = read_str("$TTL 1\n$GENERATE 0-1000/500 h$ A 10.0.0.1\n", Some(origin));
        assert_eq!(records.unwrap().len(), 3);
    }

    #[test]
    fn generate_ranges() {
        assert_eq!(
            GenerateRange::parse("1-10/3").unwrap(),
            GenerateRange {
                start: 1,
                stop: 10,
                step: 3
            }
        );
        assert!(GenerateRange::parse("10-1").is_err());
        assert!(GenerateRange::parse("1-10/0").is_err());
        assert!(GenerateRange::parse("x").is_err());
    }
}
