//! Writing a response into the transport's reused buffer: header, the
//! question as the client sent it, prepared sections, OPT; and truncation.
//!
//! Every response, answer or error, goes through [`write`], so the header
//! flags and EDNS live in one place; the size rules are
//! [`dnslab_wire::size_limit`], shared with the resolver. Neighbours:
//! `dnslab_wire` supplies the parsed query, [`crate::prepared`] the encoded
//! sections.

use dnslab_wire::{
    opt_len, push_opt_record, ClientSubnet, EdnsQuery, RequestHeader, HEADER_LEN, TCP_LIMIT,
};
use hickory_proto::op::ResponseCode;

/// The sections of a response after the question, already encoded with
/// compression pointers that assume the question name starts at offset 12.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sections<'a> {
    pub rcode: ResponseCode,
    pub authoritative: bool,
    /// ANCOUNT, NSCOUNT, ARCOUNT of `body` (ARCOUNT without our OPT).
    pub counts: [u16; 3],
    pub body: &'a [u8],
}

impl Sections<'_> {
    /// A response with no records: errors, REFUSED, BADVERS.
    pub(crate) fn empty(rcode: ResponseCode) -> Sections<'static> {
        Sections {
            rcode,
            authoritative: false,
            counts: [0; 3],
            body: &[],
        }
    }
}

/// Whether the whole response fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fit {
    Complete,
    /// TC=1: only header, question and OPT were sent (RFC 2181 9).
    Truncated,
}

/// Writes a complete response into `buf` (cleared first).
///
/// `question` is the question as sent, or `None` when it could not be read.
/// An OPT record is added iff the query had one (RFC 6891 7), advertising
/// `max_udp_payload` and carrying the high bits of the RCODE, and the ECS
/// option `subnet` when the answer was chosen for a client network (RFC
/// 7871 7.2.1). If the response exceeds `limit`, it is cut back to the
/// header, question and OPT with TC=1, as NSD and Knot do: the client
/// retries over TCP for all of it.
#[allow(clippy::too_many_arguments)] // each is one field of the response
pub(crate) fn write(
    buf: &mut Vec<u8>,
    header: &RequestHeader,
    question: Option<&[u8]>,
    sections: Sections<'_>,
    edns: Option<EdnsQuery>,
    subnet: Option<&ClientSubnet>,
    max_udp_payload: u16,
    limit: usize,
) -> Fit {
    let question = question.unwrap_or_default();
    let opt_len = if edns.is_some() { opt_len(subnet) } else { 0 };
    let full_len = HEADER_LEN + question.len() + sections.body.len() + opt_len;
    let fit = if full_len <= limit.min(TCP_LIMIT) {
        Fit::Complete
    } else {
        Fit::Truncated
    };
    let (counts, body) = match fit {
        Fit::Complete => (sections.counts, sections.body),
        Fit::Truncated => ([0; 3], &[][..]),
    };

    buf.clear();
    buf.reserve(full_len);
    buf.extend_from_slice(&header.id.to_be_bytes());
    // RFC 1035 4.1.1: QR, opcode echoed, AA, TC, RD copied; RA=0 (no
    // recursion here); AD=0; CD copied.
    let mut flags = 0x8000 | (u16::from(header.opcode & 0x0F) << 11);
    flags |= u16::from(sections.authoritative) << 10;
    flags |= u16::from(fit == Fit::Truncated) << 9;
    flags |= u16::from(header.recursion_desired) << 8;
    flags |= u16::from(header.checking_disabled) << 4;
    flags |= u16::from(sections.rcode.low());
    buf.extend_from_slice(&flags.to_be_bytes());
    let qdcount = u16::from(!question.is_empty());
    let arcount = counts[2].saturating_add(u16::from(edns.is_some()));
    for count in [qdcount, counts[0], counts[1], arcount] {
        buf.extend_from_slice(&count.to_be_bytes());
    }
    buf.extend_from_slice(question);
    buf.extend_from_slice(body);
    if let Some(edns) = edns {
        push_opt_record(
            buf,
            max_udp_payload,
            sections.rcode.high(),
            edns.dnssec_ok,
            subnet,
        );
    }
    fit
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Message;
    use hickory_proto::serialize::binary::BinDecodable;

    const HEADER: RequestHeader = RequestHeader {
        id: 0xBEEF,
        opcode: 0,
        recursion_desired: true,
        checking_disabled: false,
    };
    const QUESTION: &[u8] = b"\x03WwW\x00\x00\x01\x00\x01";
    const EDNS: EdnsQuery = EdnsQuery {
        udp_size: 4096,
        version: 0,
        dnssec_ok: true,
        client_subnet: None,
    };

    /// Writes `sections` for QUESTION with EDNS, into a 512-byte limit.
    fn write_512(sections: Sections<'_>) -> (Fit, Vec<u8>) {
        let mut buf = Vec::new();
        let fit = write(
            &mut buf,
            &HEADER,
            Some(QUESTION),
            sections,
            Some(EDNS),
            None,
            1232,
            512,
        );
        (fit, buf)
    }

    #[test]
    fn badvers_goes_in_the_opt_record() {
        let (_, buf) = write_512(Sections::empty(ResponseCode::BADVERS));
        let msg = Message::from_bytes(&buf).expect("decodes");
        // hickory decodes 16 as BADSIG, which shares the number with BADVERS.
        assert_eq!(u16::from(msg.metadata.response_code), 16);
        assert_eq!(msg.metadata.id, 0xBEEF);
        assert!(msg.metadata.recursion_desired && !msg.metadata.authoritative);
        let edns = msg.edns.expect("OPT echoed");
        assert_eq!((edns.max_payload(), edns.version()), (1232, 0));
        assert!(edns.flags().dnssec_ok);
        assert_eq!(msg.queries[0].name().to_string(), "WwW.");
    }

    #[test]
    fn oversized_answers_keep_only_question_and_opt() {
        let body = [0u8; 600];
        let sections = Sections {
            rcode: ResponseCode::NoError,
            authoritative: true,
            counts: [3, 0, 0],
            body: &body,
        };
        let (fit, buf) = write_512(sections);
        assert_eq!(fit, Fit::Truncated);
        assert_eq!(
            buf.len(),
            HEADER_LEN + QUESTION.len() + dnslab_wire::OPT_LEN
        );
        assert_eq!(&buf[2..4], &[0x87, 0x00], "QR AA TC RD");
        assert_eq!(&buf[4..12], &[0, 1, 0, 0, 0, 0, 0, 1]);
    }
}
