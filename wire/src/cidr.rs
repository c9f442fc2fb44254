//! Address prefixes (`10.0.0.0/8`, `fc00::/7`) as access lists write
//! them: who may use the resolver, who may transfer a zone or send a
//! NOTIFY.

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

impl Cidr {
    /// Whether every address of the prefix is a loopback address
    /// (127.0.0.0/8, ::1): a rule for this machine's own clients only.
    pub fn is_loopback(&self) -> bool {
        match self.addr {
            IpAddr::V4(v4) => v4.is_loopback() && self.prefix >= 8,
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.is_loopback() && self.prefix >= 104,
                None => v6.is_loopback() && self.prefix == 128,
            },
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

impl Cidr {
    /// The prefix's address, as written.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.prefix
    }

    /// Whether every address of `other` is in this prefix (it is as long
    /// or longer, and starts with this one).
    pub fn covers(&self, other: &Cidr) -> bool {
        self.prefix <= other.prefix && self.contains(other.addr)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
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

    #[test]
    fn loopback_prefixes_are_told_apart() {
        for loopback in ["127.0.0.1", "127.0.0.0/8", "::1", "::ffff:127.0.0.1"] {
            assert!(
                loopback.parse::<Cidr>().unwrap().is_loopback(),
                "{loopback}"
            );
        }
        for other in ["127.0.0.0/7", "0.0.0.0/0", "192.0.2.1", "::/0", "::2"] {
            assert!(!other.parse::<Cidr>().unwrap().is_loopback(), "{other}");
        }
    }
}
