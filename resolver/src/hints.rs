//! Root hints: where the walk starts when nothing deeper is cached.
//!
//! Read from a named.root file (the master-file subset IANA publishes:
//! root NS records and their A/AAAA records), or the built-in copy of
//! IANA's, which is parsed by the same code.

use std::collections::HashSet;
use std::net::IpAddr;
use std::str::FromStr;

use dnslab_wire::absolute_name;
use hickory_proto::rr::Name;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HintsError {
    #[error("line {line}: {text:?} is not `OWNER [TTL] [IN] TYPE DATA`")]
    Malformed { line: usize, text: String },
    #[error("line {line}: {name:?} is not a domain name")]
    BadName { line: usize, name: String },
    #[error("line {line}: {addr:?} is not an IP address")]
    BadAddress { line: usize, addr: String },
    #[error("no address for any root name server: root hints need `. NS name` and `name A address` lines")]
    NoAddresses,
}

/// Parses root hints: `. NS` records name the root servers, A and AAAA
/// records give their addresses. Addresses of names that are not root
/// servers are ignored; other record types are skipped.
pub fn parse_root_hints(text: &str) -> Result<Vec<(Name, IpAddr)>, HintsError> {
    let mut servers = HashSet::new();
    let mut addresses = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split(';').next().unwrap_or("");
        let fields: Vec<&str> = content.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        // OWNER, then optional TTL and class in either order, then TYPE DATA.
        let mut rest =
            fields.iter().skip(1).copied().skip_while(|f| {
                f.eq_ignore_ascii_case("IN") || f.chars().all(|c| c.is_ascii_digit())
            });
        let (Some(rtype), Some(data)) = (rest.next(), rest.next()) else {
            return Err(HintsError::Malformed {
                line,
                text: raw.trim().to_string(),
            });
        };
        let owner = parse_name(fields[0], line)?;
        match rtype.to_ascii_uppercase().as_str() {
            "NS" if owner.is_root() => {
                servers.insert(parse_name(data, line)?);
            }
            "A" | "AAAA" => {
                let addr = IpAddr::from_str(data).map_err(|_| HintsError::BadAddress {
                    line,
                    addr: data.to_string(),
                })?;
                addresses.push((owner, addr));
            }
            _ => {}
        }
    }
    let hints: Vec<(Name, IpAddr)> = addresses
        .into_iter()
        .filter(|(name, _)| servers.contains(name))
        .collect();
    if hints.is_empty() {
        return Err(HintsError::NoAddresses);
    }
    Ok(hints)
}

fn parse_name(text: &str, line: usize) -> Result<Name, HintsError> {
    let bad = || HintsError::BadName {
        line,
        name: text.to_string(),
    };
    // Hints are always absolute, with or without the final dot.
    absolute_name(text).map_err(|_| bad())
}

/// The IANA root hints (<https://www.internic.net/domain/named.root>).
pub fn iana_root_hints() -> Vec<(Name, IpAddr)> {
    parse_root_hints(IANA_NAMED_ROOT).unwrap_or_default()
}

const IANA_NAMED_ROOT: &str = "
.                        3600000      NS    A.ROOT-SERVERS.NET.
A.ROOT-SERVERS.NET.      3600000      A     198.41.0.4
A.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:ba3e::2:30
.                        3600000      NS    B.ROOT-SERVERS.NET.
B.ROOT-SERVERS.NET.      3600000      A     170.247.170.2
B.ROOT-SERVERS.NET.      3600000      AAAA  2801:1b8:10::b
.                        3600000      NS    C.ROOT-SERVERS.NET.
C.ROOT-SERVERS.NET.      3600000      A     192.33.4.12
C.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2::c
.                        3600000      NS    D.ROOT-SERVERS.NET.
D.ROOT-SERVERS.NET.      3600000      A     199.7.91.13
D.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2d::d
.                        3600000      NS    E.ROOT-SERVERS.NET.
E.ROOT-SERVERS.NET.      3600000      A     192.203.230.10
E.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:a8::e
.                        3600000      NS    F.ROOT-SERVERS.NET.
F.ROOT-SERVERS.NET.      3600000      A     192.5.5.241
F.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2f::f
.                        3600000      NS    G.ROOT-SERVERS.NET.
G.ROOT-SERVERS.NET.      3600000      A     192.112.36.4
G.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:12::d0d
.                        3600000      NS    H.ROOT-SERVERS.NET.
H.ROOT-SERVERS.NET.      3600000      A     198.97.190.53
H.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:1::53
.                        3600000      NS    I.ROOT-SERVERS.NET.
I.ROOT-SERVERS.NET.      3600000      A     192.36.148.17
I.ROOT-SERVERS.NET.      3600000      AAAA  2001:7fe::53
.                        3600000      NS    J.ROOT-SERVERS.NET.
J.ROOT-SERVERS.NET.      3600000      A     192.58.128.30
J.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:c27::2:30
.                        3600000      NS    K.ROOT-SERVERS.NET.
K.ROOT-SERVERS.NET.      3600000      A     193.0.14.129
K.ROOT-SERVERS.NET.      3600000      AAAA  2001:7fd::1
.                        3600000      NS    L.ROOT-SERVERS.NET.
L.ROOT-SERVERS.NET.      3600000      A     199.7.83.42
L.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:9f::42
.                        3600000      NS    M.ROOT-SERVERS.NET.
M.ROOT-SERVERS.NET.      3600000      A     202.12.27.33
M.ROOT-SERVERS.NET.      3600000      AAAA  2001:dc3::35
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_hints_have_thirteen_servers_in_both_families() {
        let hints = iana_root_hints();
        assert_eq!(hints.len(), 26);
        let a = Name::from_ascii("a.root-servers.net.").unwrap();
        assert!(hints.contains(&(a, "198.41.0.4".parse().unwrap())));
    }

    #[test]
    fn parses_a_toy_file_with_comments_and_optional_fields() {
        let text = "; toy root\n. NS ns1.root.\n.\t3600 IN NS ns2.root\nns1.root. A 127.0.53.1 ; here\nns2.root IN 60 AAAA ::1\nother. A 127.0.0.9\n";
        let hints = parse_root_hints(text).unwrap();
        let names: Vec<String> = hints.iter().map(|(n, a)| format!("{n} {a}")).collect();
        assert_eq!(names, ["ns1.root. 127.0.53.1", "ns2.root. ::1"]);
    }

    #[test]
    fn reports_the_line_of_an_error() {
        assert_eq!(
            parse_root_hints(". NS a.\na. A 300.1.1.1\n"),
            Err(HintsError::BadAddress {
                line: 2,
                addr: "300.1.1.1".into()
            })
        );
        assert!(matches!(
            parse_root_hints(". NS\n"),
            Err(HintsError::Malformed { line: 1, .. })
        ));
        assert_eq!(
            parse_root_hints("; nothing\n"),
            Err(HintsError::NoAddresses)
        );
    }
}
