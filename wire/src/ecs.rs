//! EDNS Client Subnet (RFC 7871): the network a question is asked for,
//! read from a query's OPT record, written back into a response's, and
//! made by a resolver for the queries it sends.
//!
//! The option (RFC 7871 6) is FAMILY (1 IPv4, 2 IPv6), SOURCE
//! PREFIX-LENGTH, SCOPE PREFIX-LENGTH and ADDRESS, truncated to the
//! octets SOURCE PREFIX-LENGTH needs. [`ClientSubnet::parse`] is strict, as
//! RFC 7871 7.2.1 asks of a server: an unknown family, a prefix longer
//! than the family's addresses, too few or too many address octets, or
//! address bits set beyond the source prefix are each an [`EcsError`],
//! answered with FORMERR. (The query-only rule, SCOPE 0 in queries, is the
//! request reader's: a response carries a scope.)
//!
//! Neighbours: [`crate::request`] finds the option in a query's OPT
//! record; [`crate::edns`] writes the option into a response; the
//! authoritative server picks a view with [`ClientSubnet::addr`], the
//! resolver sends one made with [`ClientSubnet::for_client`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// RFC 7871 6: the option code of ECS.
pub const OPTION_ECS: u16 = 8;
/// Address family numbers (IANA): IPv4.
const FAMILY_IPV4: u16 = 1;
/// Address family numbers (IANA): IPv6.
const FAMILY_IPV6: u16 = 2;

/// RFC 7871 11.1: a resolver sends at most 24 bits of an IPv4 client's
/// address ...
pub const ECS_IPV4_PREFIX: u8 = 24;
/// ... and at most 56 of an IPv6 client's.
pub const ECS_IPV6_PREFIX: u8 = 56;

/// One ECS option: the client network a question is about, and in a
/// response the part of it the answer covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientSubnet {
    /// The network's address, its bits beyond `source` zero.
    address: IpAddr,
    /// SOURCE PREFIX-LENGTH: the bits of `address` the question is for.
    source: u8,
    /// SCOPE PREFIX-LENGTH: in a response, the bits the answer covers.
    scope: u8,
}

/// Why an ECS option cannot be read (RFC 7871 6 and 7.2.1): FORMERR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EcsError {
    #[error("ECS option shorter than its FAMILY and prefix lengths")]
    Short,
    #[error("ECS FAMILY {0} is neither 1 (IPv4) nor 2 (IPv6)")]
    Family(u16),
    #[error("ECS {what} prefix length {len} is longer than the address ({max} bits)")]
    PrefixTooLong {
        what: &'static str,
        len: u8,
        max: u8,
    },
    #[error("ECS ADDRESS has {got} octets where a /{prefix} prefix needs {needed}")]
    AddressLength {
        got: usize,
        needed: usize,
        prefix: u8,
    },
    #[error("ECS ADDRESS has bits set beyond its /{0} source prefix")]
    BitsBeyondSource(u8),
    #[error("ECS SCOPE PREFIX-LENGTH is {0} in a query (it must be 0)")]
    ScopeInQuery(u8),
    #[error("more than one ECS option")]
    Duplicate,
}

impl ClientSubnet {
    /// Reads the option data (after OPTION-CODE and OPTION-LENGTH),
    /// checking every rule of RFC 7871 6.
    pub fn parse(data: &[u8]) -> Result<ClientSubnet, EcsError> {
        let [family_hi, family_lo, source, scope, address @ ..] = data else {
            return Err(EcsError::Short);
        };
        let family = u16::from_be_bytes([*family_hi, *family_lo]);
        let max = match family {
            FAMILY_IPV4 => 32,
            FAMILY_IPV6 => 128,
            other => return Err(EcsError::Family(other)),
        };
        for (what, len) in [("SOURCE", *source), ("SCOPE", *scope)] {
            if len > max {
                return Err(EcsError::PrefixTooLong { what, len, max });
            }
        }
        let needed = octets_for(*source);
        if address.len() != needed {
            return Err(EcsError::AddressLength {
                got: address.len(),
                needed,
                prefix: *source,
            });
        }
        let mut octets = [0u8; 16];
        octets
            .get_mut(..needed)
            .ok_or(EcsError::Short)?
            .copy_from_slice(address);
        let address = match family {
            FAMILY_IPV4 => IpAddr::V4(Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3])),
            _ => IpAddr::V6(Ipv6Addr::from(octets)),
        };
        if truncate(address, *source) != address {
            return Err(EcsError::BitsBeyondSource(*source));
        }
        Ok(ClientSubnet {
            address,
            source: *source,
            scope: *scope,
        })
    }

    /// What a resolver sends for a client at `client` (RFC 7871 7.1.1 and
    /// 11.1): its address truncated to 24 bits (IPv4) or 56 (IPv6), or to
    /// `asked` when the client sent its own, shorter, option (7.1.3; a
    /// client's SOURCE 0 asks that nothing of its address be sent).
    pub fn for_client(client: IpAddr, asked: Option<ClientSubnet>) -> ClientSubnet {
        let client = canonical(client);
        let (address, limit) = match asked {
            Some(asked) => (asked.address, asked.source),
            None => (client, u8::MAX),
        };
        let max = if address.is_ipv4() {
            ECS_IPV4_PREFIX
        } else {
            ECS_IPV6_PREFIX
        };
        let source = limit.min(max);
        ClientSubnet {
            address: truncate(address, source),
            source,
            scope: 0,
        }
    }

    /// The network's address (bits beyond the source prefix are zero).
    pub fn addr(&self) -> IpAddr {
        self.address
    }

    /// SOURCE PREFIX-LENGTH.
    pub fn source(&self) -> u8 {
        self.source
    }

    /// SCOPE PREFIX-LENGTH.
    pub fn scope(&self) -> u8 {
        self.scope
    }

    /// The same network with SCOPE PREFIX-LENGTH `scope`, for a response.
    pub fn with_scope(self, scope: u8) -> ClientSubnet {
        ClientSubnet { scope, ..self }
    }

    /// Whether `other` asks about the same network: FAMILY, SOURCE
    /// PREFIX-LENGTH and ADDRESS agree (RFC 7871 7.3: a response whose
    /// option does not echo the query's is dropped).
    pub fn same_network(&self, other: &ClientSubnet) -> bool {
        self.address == other.address && self.source == other.source
    }

    /// Octets of the whole option, code and length included.
    pub fn option_len(&self) -> usize {
        8 + octets_for(self.source)
    }

    /// Appends the option: OPTION-CODE, OPTION-LENGTH, then the data.
    pub fn write_option(&self, out: &mut Vec<u8>) {
        let needed = octets_for(self.source);
        let (family, octets) = match self.address {
            IpAddr::V4(v4) => {
                let mut all = [0u8; 16];
                all[..4].copy_from_slice(&v4.octets());
                (FAMILY_IPV4, all)
            }
            IpAddr::V6(v6) => (FAMILY_IPV6, v6.octets()),
        };
        let len = u16::try_from(4 + needed).unwrap_or(4);
        out.extend_from_slice(&OPTION_ECS.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&family.to_be_bytes());
        out.extend_from_slice(&[self.source, self.scope]);
        out.extend_from_slice(octets.get(..needed).unwrap_or_default());
    }
}

impl fmt::Display for ClientSubnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.address, self.source, self.scope)
    }
}

/// Address octets a prefix of `bits` needs (RFC 7871 6: the last partly
/// used octet included).
fn octets_for(bits: u8) -> usize {
    usize::from(bits).div_ceil(8)
}

/// `address` with every bit beyond the first `bits` cleared.
pub fn truncate(address: IpAddr, bits: u8) -> IpAddr {
    match address {
        IpAddr::V4(v4) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(bits.min(32)))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(bits.min(128)))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

/// An IPv4 client reaching a dual-stack socket is `::ffff:a.b.c.d`: it is
/// an IPv4 client.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_well_formed_option_reads_and_writes_back() {
        let data = [0, 1, 24, 0, 192, 0, 2];
        let subnet = ClientSubnet::parse(&data).unwrap();
        assert_eq!(subnet.addr(), ip("192.0.2.0"));
        assert_eq!((subnet.source(), subnet.scope()), (24, 0));
        let mut out = Vec::new();
        subnet.with_scope(16).write_option(&mut out);
        assert_eq!(out, [0, 8, 0, 7, 0, 1, 24, 16, 192, 0, 2]);
        assert_eq!(out.len(), subnet.option_len());
        let v6 = ClientSubnet::parse(&[0, 2, 20, 0, 0x20, 0x01, 0xd0]).unwrap();
        assert_eq!(v6.addr(), ip("2001:d000::"));
        // SOURCE 0: no address at all.
        let none = ClientSubnet::parse(&[0, 1, 0, 0]).unwrap();
        assert_eq!((none.addr(), none.source()), (ip("0.0.0.0"), 0));
    }

    /// RFC 7871 6: each of these is answered with FORMERR.
    #[test]
    fn every_malformation_is_named() {
        let cases: [(&[u8], EcsError); 7] = [
            (&[0, 1, 24], EcsError::Short),
            (&[0, 3, 0, 0], EcsError::Family(3)),
            (&[0, 0, 0, 0], EcsError::Family(0)),
            (
                &[0, 1, 33, 0, 1, 2, 3, 4, 5],
                EcsError::PrefixTooLong {
                    what: "SOURCE",
                    len: 33,
                    max: 32,
                },
            ),
            (
                &[0, 1, 24, 0, 192, 0],
                EcsError::AddressLength {
                    got: 2,
                    needed: 3,
                    prefix: 24,
                },
            ),
            (
                &[0, 1, 8, 0, 192, 0],
                EcsError::AddressLength {
                    got: 2,
                    needed: 1,
                    prefix: 8,
                },
            ),
            (&[0, 1, 20, 0, 192, 0, 0x2F], EcsError::BitsBeyondSource(20)),
        ];
        for (data, error) in cases {
            assert_eq!(ClientSubnet::parse(data), Err(error), "{data:?}");
        }
    }

    /// RFC 7871 7.1.1 and 11.1: /24 and /56 at most; a client's own
    /// shorter option is kept (7.1.3), its SOURCE 0 too.
    #[test]
    fn a_resolver_sends_a_truncated_network() {
        let v4 = ClientSubnet::for_client(ip("198.51.100.77"), None);
        assert_eq!(v4.to_string(), "198.51.100.0/24/0");
        let mapped = ClientSubnet::for_client(ip("::ffff:198.51.100.77"), None);
        assert_eq!(mapped, v4);
        let v6 = ClientSubnet::for_client(ip("2001:db8:1:2ff:3::1"), None);
        assert_eq!(v6.to_string(), "2001:db8:1:200::/56/0");
        let asked = ClientSubnet::parse(&[0, 1, 16, 0, 203, 0]).unwrap();
        let kept = ClientSubnet::for_client(ip("127.0.0.1"), Some(asked));
        assert_eq!(kept.to_string(), "203.0.0.0/16/0");
        let opted_out = ClientSubnet::parse(&[0, 1, 0, 0]).unwrap();
        let none = ClientSubnet::for_client(ip("127.0.0.1"), Some(opted_out));
        assert_eq!(none.source(), 0);
        assert!(v4.same_network(&v4.with_scope(24)));
        assert!(!v4.same_network(&kept));
    }
}
