//! How large a response may be, and the OPT record that says so (RFC 6891).
//!
//! Both servers clamp a client's UDP payload size the same way and write
//! the same OPT record into their responses; the authoritative server's
//! limit is configurable (`--max-udp-payload`), the resolver's is the
//! 1232 octets it also advertises upstream. Neighbours: [`crate::request`]
//! reads the client's OPT record ([`EdnsQuery`]).

use dnslab_transport::Protocol;

use crate::ecs::ClientSubnet;
use crate::request::{EdnsQuery, TYPE_OPT};

/// RFC 1035 4.2.1: a UDP message without EDNS carries at most 512 octets.
pub const CLASSIC_UDP_LIMIT: u16 = 512;
/// DNS Flag Day 2020: the largest UDP payload unlikely to fragment.
pub const DEFAULT_MAX_UDP_PAYLOAD: u16 = 1232;
/// RFC 1035 4.2.2: the TCP length prefix is 16 bits.
pub const TCP_LIMIT: usize = 65535;
/// Root owner, type, class, TTL and RDLENGTH: an OPT record without options.
pub const OPT_LEN: usize = 11;

/// How large a response may be for this client (RFC 6891 6.2.3, 6.2.5):
/// without OPT 512 over UDP; with OPT the client's size clamped to
/// `[512, max_udp_payload]`; over TCP the frame limit.
pub fn size_limit(protocol: Protocol, edns: Option<EdnsQuery>, max_udp_payload: u16) -> usize {
    match (protocol, edns) {
        (Protocol::Tcp, _) => TCP_LIMIT,
        (Protocol::Udp, None) => usize::from(CLASSIC_UDP_LIMIT),
        (Protocol::Udp, Some(e)) => {
            let max = max_udp_payload.max(CLASSIC_UDP_LIMIT);
            usize::from(e.udp_size.clamp(CLASSIC_UDP_LIMIT, max))
        }
    }
}

/// RFC 6891 6.1.2-6.1.3: root owner, CLASS = our UDP payload size (at
/// least 512), TTL = extended RCODE (its high 8 bits) | VERSION 0 | DO
/// (copied from the request, RFC 3225 3) | Z, no options.
pub fn opt_record(udp_payload: u16, extended_rcode: u8, dnssec_ok: bool) -> [u8; OPT_LEN] {
    let [type_hi, type_lo] = TYPE_OPT.to_be_bytes();
    let [size_hi, size_lo] = udp_payload.max(CLASSIC_UDP_LIMIT).to_be_bytes();
    let do_bit = if dnssec_ok { 0x80 } else { 0 };
    [
        0,
        type_hi,
        type_lo,
        size_hi,
        size_lo,
        extended_rcode,
        0,
        do_bit,
        0,
        0,
        0,
    ]
}

/// Octets of a response's OPT record: [`OPT_LEN`], and the ECS option
/// when there is one.
pub fn opt_len(subnet: Option<&ClientSubnet>) -> usize {
    OPT_LEN + subnet.map_or(0, ClientSubnet::option_len)
}

/// Appends a response's OPT record: [`opt_record`], carrying `subnet` as
/// an ECS option when the answer was chosen for a client network (RFC
/// 7871 7.2.1: the query's FAMILY, SOURCE PREFIX-LENGTH and ADDRESS, and
/// the SCOPE PREFIX-LENGTH the answer covers).
pub fn push_opt_record(
    out: &mut Vec<u8>,
    udp_payload: u16,
    extended_rcode: u8,
    dnssec_ok: bool,
    subnet: Option<&ClientSubnet>,
) {
    let mut opt = opt_record(udp_payload, extended_rcode, dnssec_ok);
    let Some(subnet) = subnet else {
        out.extend_from_slice(&opt);
        return;
    };
    let rdlen = u16::try_from(subnet.option_len()).unwrap_or(0);
    opt[OPT_LEN - 2..].copy_from_slice(&rdlen.to_be_bytes());
    out.extend_from_slice(&opt);
    subnet.write_option(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    const EDNS: EdnsQuery = EdnsQuery {
        udp_size: 4096,
        version: 0,
        dnssec_ok: true,
        client_subnet: None,
    };

    #[test]
    fn limits_follow_edns_and_protocol() {
        let small = EdnsQuery {
            udp_size: 100,
            ..EDNS
        };
        assert_eq!(size_limit(Protocol::Udp, None, 1232), 512);
        assert_eq!(size_limit(Protocol::Udp, Some(EDNS), 1232), 1232);
        assert_eq!(size_limit(Protocol::Udp, Some(small), 1232), 512);
        assert_eq!(size_limit(Protocol::Udp, Some(EDNS), 4000), 4000);
        assert_eq!(size_limit(Protocol::Tcp, None, 1232), 65535);
    }

    #[test]
    fn opt_record_layout() {
        assert_eq!(
            opt_record(1232, 1, true),
            [0, 0, 41, 0x04, 0xD0, 1, 0, 0x80, 0, 0, 0]
        );
        assert_eq!(opt_record(100, 0, false)[3..5], 512u16.to_be_bytes());
    }

    #[test]
    fn opt_record_with_a_client_subnet() {
        let subnet = ClientSubnet::parse(&[0, 1, 24, 0, 192, 0, 2]).unwrap();
        let mut out = Vec::new();
        push_opt_record(&mut out, 1232, 0, false, Some(&subnet.with_scope(24)));
        let mut expected = opt_record(1232, 0, false).to_vec();
        expected[OPT_LEN - 1] = 11;
        expected.extend_from_slice(&[0, 8, 0, 7, 0, 1, 24, 24, 192, 0, 2]);
        assert_eq!(out, expected);
        assert_eq!(out.len(), opt_len(Some(&subnet)));
        out.clear();
        push_opt_record(&mut out, 1232, 0, true, None);
        assert_eq!(out, opt_record(1232, 0, true));
    }
}
