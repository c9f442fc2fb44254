//! The reads of RFC 1035 wire format that TSIG needs beyond those every
//! server shares in `dnslab-wire` (header fields, [`skip_name`]): section
//! counts, records, names that must not be compressed, and the key name in
//! canonical form. Every read is bounds-checked (`get`) and returns `None`
//! past the end of the message, so network input can never make it panic.
//!
//! This is the only file of the crate that walks messages.

pub use dnslab_wire::{skip_name, u16_at, CLASS_ANY, HEADER_LEN, MAX_NAME_LEN};

/// RFC 8945 4.2: the TSIG RR type.
pub const TYPE_TSIG: u16 = dnslab_wire::TYPE_TSIG;
/// Offset of ARCOUNT in the header.
pub const ARCOUNT_AT: usize = 10;

pub fn u32_at(msg: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(msg.get(at..at + 4)?.try_into().ok()?))
}

/// RFC 8945 4.2: "Time Signed" is an unsigned 48-bit integer.
pub fn u48_at(msg: &[u8], at: usize) -> Option<u64> {
    let bytes = msg.get(at..at + 6)?;
    Some(bytes.iter().fold(0, |acc, &b| (acc << 8) | u64::from(b)))
}

pub fn put_u48(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_be_bytes()[2..]);
}

/// The four section counts of the header (RFC 1035 4.1.1).
#[derive(Clone, Copy, Debug)]
pub struct Counts {
    pub question: u16,
    pub answer: u16,
    pub authority: u16,
    pub additional: u16,
}

pub fn counts(msg: &[u8]) -> Option<Counts> {
    Some(Counts {
        question: u16_at(msg, 4)?,
        answer: u16_at(msg, 6)?,
        authority: u16_at(msg, 8)?,
        additional: u16_at(msg, ARCOUNT_AT)?,
    })
}

/// Sets ARCOUNT; `None` when the message has no header.
pub fn set_arcount(msg: &mut [u8], count: u16) -> Option<()> {
    msg.get_mut(ARCOUNT_AT..ARCOUNT_AT + 2)?
        .copy_from_slice(&count.to_be_bytes());
    Some(())
}

/// The offset just after a name that must not be compressed (RFC 3597 4,
/// RFC 8945 4.2's algorithm name); `None` at a compression pointer or a
/// reserved label type (RFC 6891 5).
pub fn skip_uncompressed_name(msg: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = *msg.get(at)?;
        match len & 0xC0 {
            0x00 if len == 0 => return Some(at + 1),
            0x00 => at += 1 + usize::from(len),
            _ => return None,
        }
    }
}

/// The name at `at` in uncompressed wire form with ASCII letters
/// lowercased (RFC 4034 6.2's canonical form, which RFC 8945 4.3.3 asks
/// for), and the offset after it. Compression pointers must point
/// strictly backwards, which bounds the walk.
pub fn read_name(msg: &[u8], at: usize) -> Option<(Vec<u8>, usize)> {
    let mut name = Vec::new();
    let mut end = None;
    let mut pos = at;
    loop {
        let len = *msg.get(pos)?;
        match len & 0xC0 {
            0x00 => {
                let label = msg.get(pos..pos + 1 + usize::from(len))?;
                name.extend(label.iter().map(u8::to_ascii_lowercase));
                if name.len() > MAX_NAME_LEN {
                    return None;
                }
                pos += label.len();
                if len == 0 {
                    return Some((name, end.unwrap_or(pos)));
                }
            }
            0xC0 => {
                let target = usize::from(u16_at(msg, pos)? & 0x3FFF);
                end.get_or_insert(pos + 2);
                if target >= pos {
                    return None;
                }
                pos = target;
            }
            _ => return None,
        }
    }
}

/// The offset after the question that starts at `at` (QNAME, QTYPE, QCLASS).
pub fn skip_question(msg: &[u8], at: usize) -> Option<usize> {
    let end = skip_name(msg, at)? + 4;
    (end <= msg.len()).then_some(end)
}

/// Where one resource record lies in a message (RFC 1035 4.1.3).
#[derive(Clone, Copy, Debug)]
pub struct RecordAt {
    pub rtype: u16,
    pub class: u16,
    pub ttl: u32,
    /// Offset of the RDATA.
    pub rdata: usize,
    /// Offset just after the record.
    pub end: usize,
}

pub fn record_at(msg: &[u8], at: usize) -> Option<RecordAt> {
    let fixed = skip_name(msg, at)?;
    let rdlength = usize::from(u16_at(msg, fixed + 8)?);
    let rdata = fixed + 10;
    let end = rdata + rdlength;
    (end <= msg.len()).then_some(RecordAt {
        rtype: u16_at(msg, fixed)?,
        class: u16_at(msg, fixed + 2)?,
        ttl: u32_at(msg, fixed + 4)?,
        rdata,
        end,
    })
}

/// A wire-form name as presentation text, absolute (trailing dot), with
/// bytes outside letters, digits, `-` and `_` escaped as RFC 1035 5.1's
/// `\DDD`; for messages a user reads.
pub fn name_to_text(wire: &[u8]) -> String {
    let mut text = String::new();
    let mut pos = 0;
    while let Some(&len) = wire.get(pos) {
        if len == 0 {
            break;
        }
        let label = wire.get(pos + 1..pos + 1 + usize::from(len)).unwrap_or(&[]);
        for &b in label {
            match b {
                b'.' | b'\\' => {
                    text.push('\\');
                    text.push(char::from(b));
                }
                b if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' => {
                    text.push(char::from(b))
                }
                b => text.push_str(&format!("\\{b:03}")),
            }
        }
        text.push('.');
        pos += 1 + usize::from(len);
    }
    if text.is_empty() {
        text.push('.');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_name_follows_backward_pointers_and_lowercases() {
        // "Example.COM" at 0, then "www" + pointer to 0 at 13.
        let mut msg = b"\x07Example\x03COM\x00".to_vec();
        msg.extend_from_slice(b"\x03WWW\xC0\x00");
        assert_eq!(
            read_name(&msg, 13),
            Some((b"\x03www\x07example\x03com\x00".to_vec(), 19))
        );
        assert_eq!(skip_name(&msg, 13), Some(19));
    }

    #[test]
    fn read_name_refuses_loops_and_overruns() {
        assert_eq!(read_name(b"\xC0\x00", 0), None, "pointer to itself");
        assert_eq!(read_name(b"\x03ab", 0), None, "label past the end");
        assert_eq!(read_name(b"\x40", 0), None, "reserved label type");
        let long: Vec<u8> = (0..5).flat_map(|_| [63u8; 64]).chain([0]).collect();
        assert_eq!(read_name(&long, 0), None, "longer than 255 octets");
    }

    #[test]
    fn record_at_checks_rdlength_against_the_message() {
        let rr = b"\x00\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x01";
        let at = record_at(rr, 0).expect("an A record");
        assert_eq!(
            (at.rtype, at.class, at.ttl, at.rdata, at.end),
            (1, 1, 60, 11, 15)
        );
        assert!(record_at(&rr[..14], 0).is_none());
    }

    #[test]
    fn names_print_as_text() {
        assert_eq!(name_to_text(b"\x03key\x07example\x00"), "key.example.");
        assert_eq!(name_to_text(b"\x00"), ".");
        assert_eq!(name_to_text(b"\x03a.b\x00"), "a\\.b.");
    }
}
