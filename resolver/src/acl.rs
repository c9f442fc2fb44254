//! Which clients the resolver serves. An open resolver is an amplifier
//! for anyone on the Internet, so by default only loopback and private
//! networks are served; `--allow` replaces the list.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An address prefix such as `10.0.0.0/8` or `fc00::/7`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("{0:?} is not an address prefix: write it as ADDRESS/LENGTH, e.g. 10.0.0.0/8")]
    Malformed(String),
    #[error("prefix length {len} is too long for {addr} (at most {max})")]
    PrefixTooLong { addr: IpAddr, len: u8, max: u8 },
}

impl Cidr {
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Cidr, CidrError> {
        let max = max_prefix(addr);
        if prefix > max {
            return Err(CidrError::PrefixTooLong {
                addr,
                len: prefix,
                max,
            });
        }
        Ok(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 client reaching a dual-stack socket appears as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            IpAddr::V4(_) => ip,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(
                u128::from(u32::from(net)),
                u128::from(u32::from(ip)),
                self.prefix,
                32,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    if addr.is_ipv4() {
        32
    } else {
        128
    }
}

/// Whether the top `prefix` bits of two `width`-bit numbers agree.
fn prefix_eq(a: u128, b: u128, prefix: u8, width: u32) -> bool {
    let shift = width - u32::from(prefix);
    a.checked_shr(shift).unwrap_or(0) == b.checked_shr(shift).unwrap_or(0)
}

impl FromStr for Cidr {
    type Err = CidrError;

    /// `ADDR/LEN`, or a bare address meaning that one host.
    fn from_str(s: &str) -> Result<Cidr, CidrError> {
        let malformed = || CidrError::Malformed(s.to_string());
        let (addr, len) = match s.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| malformed())?;
        let len = match len {
            Some(len) => len.parse().map_err(|_| malformed())?,
            None => max_prefix(addr),
        };
        Cidr::new(addr, len)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Loopback and private networks (RFC 1918, RFC 4193): the default allow list.
pub(crate) fn private_networks() -> Vec<Cidr> {
    [
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "fc00::/7",
    ]
    .iter()
    .filter_map(|s| s.parse().ok())
    .collect()
}

/// Whether any prefix in `allow` contains `ip`.
pub(crate) fn allowed(allow: &[Cidr], ip: IpAddr) -> bool {
    allow.iter().any(|cidr| cidr.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn default_list_serves_private_and_loopback_only() {
        let list = private_networks();
        assert_eq!(list.len(), 6);
        for ok in [
            "127.0.0.1",
            "127.9.8.7",
            "::1",
            "10.1.2.3",
            "172.31.255.1",
            "192.168.1.1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(allowed(&list, ip(ok)), "{ok} should be served");
        }
        for no in ["8.8.8.8", "172.32.0.1", "192.169.0.1", "2001:db8::1", "::2"] {
            assert!(!allowed(&list, ip(no)), "{no} should be refused");
        }
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!(
            "0.0.0.0/0".parse::<Cidr>().unwrap().to_string(),
            "0.0.0.0/0"
        );
        assert!("0.0.0.0/0".parse::<Cidr>().unwrap().contains(ip("1.2.3.4")));
        assert!("1.2.3.4".parse::<Cidr>().unwrap().contains(ip("1.2.3.4")));
        assert!(!"1.2.3.4".parse::<Cidr>().unwrap().contains(ip("1.2.3.5")));
        assert!(matches!(
            "10.0.0.0/33".parse::<Cidr>(),
            Err(CidrError::PrefixTooLong { .. })
        ));
        assert!(matches!(
            "ten/8".parse::<Cidr>(),
            Err(CidrError::Malformed(_))
        ));
    }
}
