//! Which clients the resolver serves. An open resolver is an amplifier
//! for anyone on the Internet, so by default only loopback and private
//! networks are served; `--allow` replaces the list.

use std::net::IpAddr;

pub use dnslab_wire::{Cidr, CidrError};

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
}
