//! Forward and stub zones: names for which configured servers replace the
//! walk from the root (Unbound's `forward-zone` and `stub-zone`).
//!
//! - A forward zone sends every question at or below its name to
//!   recursive servers, with RD=1, and takes their answer: the split
//!   horizon of a corporate network, or `.` to forward everything.
//! - A stub zone starts the walk at authoritative servers given for its
//!   name instead of at the root (a private zone on a local
//!   `dnslab auth`); below it the walk goes on as usual, referrals and
//!   all.
//!
//! The deepest configured zone at or above a name applies, forward or
//! stub, as in Unbound; a stub zone applies only where no deeper zone cut
//! is cached. Servers are written `NAME=ADDR[:PORT],...` on the command
//! line (`[V6]:PORT` for an IPv6 address with a port); the port is 53
//! unless given, as in Unbound, whatever `--upstream-port` says (that
//! port is for the servers the walk finds).

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use hickory_proto::rr::Name;

/// The port of a forward or stub server written without one.
pub const DEFAULT_ZONE_SERVER_PORT: u16 = 53;

/// A zone and the servers configured for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneServers {
    pub zone: Name,
    pub servers: Vec<SocketAddr>,
}

/// Why `NAME=ADDR[:PORT],...` could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ZoneServersError {
    #[error("{0:?} has no '=': write NAME=ADDR[:PORT],...")]
    NoEquals(String),
    #[error("{0:?} is not a domain name")]
    BadName(String),
    #[error("no server given for {0}")]
    NoServers(String),
    #[error("{0:?} is not an address, ADDR:PORT or [V6]:PORT")]
    BadServer(String),
}

impl ZoneServers {
    /// Reads `NAME=ADDR[:PORT],...`, port 53 where none is given.
    pub fn parse(text: &str) -> Result<ZoneServers, ZoneServersError> {
        ZoneServers::parse_with_port(text, DEFAULT_ZONE_SERVER_PORT)
    }

    /// Reads `NAME=ADDR[:PORT],...`, `port` where none is given (`dnslab
    /// up`'s topology gives its servers' port).
    pub fn parse_with_port(text: &str, port: u16) -> Result<ZoneServers, ZoneServersError> {
        let (zone, servers) = text
            .split_once('=')
            .ok_or_else(|| ZoneServersError::NoEquals(text.to_string()))?;
        let zone = parse_zone(zone.trim())?;
        let servers = servers
            .split(',')
            .map(str::trim)
            .filter(|server| !server.is_empty())
            .map(|server| parse_server(server, port))
            .collect::<Result<Vec<_>, _>>()?;
        if servers.is_empty() {
            return Err(ZoneServersError::NoServers(zone.to_string()));
        }
        Ok(ZoneServers { zone, servers })
    }
}

impl FromStr for ZoneServers {
    type Err = ZoneServersError;

    fn from_str(text: &str) -> Result<ZoneServers, ZoneServersError> {
        ZoneServers::parse(text)
    }
}

/// A zone name, absolute whether or not it ends in a dot.
fn parse_zone(text: &str) -> Result<Name, ZoneServersError> {
    let mut name =
        Name::from_ascii(text).map_err(|_| ZoneServersError::BadName(text.to_string()))?;
    if text.is_empty() {
        return Err(ZoneServersError::BadName(text.to_string()));
    }
    name.set_fqdn(true);
    Ok(name.to_lowercase())
}

/// `ADDR`, `ADDR:PORT` or `[V6]:PORT`; `port` when none is given.
fn parse_server(text: &str, port: u16) -> Result<SocketAddr, ZoneServersError> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    text.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, port))
        .map_err(|_| ZoneServersError::BadServer(text.to_string()))
}

/// What the configuration says about where a name's walk starts.
pub(crate) enum Configured<'a> {
    /// Forward the question to these recursive servers.
    Forward(&'a ZoneServers),
    /// Start the walk at these authoritative servers.
    Stub(&'a ZoneServers),
}

/// The deepest forward or stub zone at or above `name`, if any. On a tie
/// (the same zone configured both ways) forwarding wins, as the stricter.
pub(crate) fn configured_for<'a>(
    forward: &'a [ZoneServers],
    stub: &'a [ZoneServers],
    name: &Name,
) -> Option<Configured<'a>> {
    let deepest = |zones: &'a [ZoneServers]| {
        zones
            .iter()
            .filter(|z| z.zone.zone_of(name))
            .max_by_key(|z| z.zone.num_labels())
    };
    match (deepest(forward), deepest(stub)) {
        (Some(f), Some(s)) if s.zone.num_labels() > f.zone.num_labels() => {
            Some(Configured::Stub(s))
        }
        (Some(f), _) => Some(Configured::Forward(f)),
        (None, Some(s)) => Some(Configured::Stub(s)),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    #[test]
    fn zone_servers_are_read_with_and_without_ports() {
        let zone = ZoneServers::parse("Corp.Example=127.0.0.1,127.0.0.2:5353, [::1]:5300").unwrap();
        assert_eq!(zone.zone, n("corp.example."));
        assert_eq!(
            zone.servers,
            vec![
                "127.0.0.1:53".parse().unwrap(),
                "127.0.0.2:5353".parse().unwrap(),
                "[::1]:5300".parse().unwrap()
            ]
        );
        assert_eq!(ZoneServers::parse(".=::1").unwrap().zone, Name::root());
        assert_eq!(
            ZoneServers::parse_with_port("lab.test=127.0.0.9", 5300)
                .unwrap()
                .servers,
            vec!["127.0.0.9:5300".parse().unwrap()]
        );
        assert_eq!(
            ZoneServers::parse("corp.example"),
            Err(ZoneServersError::NoEquals("corp.example".into()))
        );
        assert_eq!(
            ZoneServers::parse("corp.example="),
            Err(ZoneServersError::NoServers("corp.example.".into()))
        );
        assert_eq!(
            ZoneServers::parse("corp.example=host.example"),
            Err(ZoneServersError::BadServer("host.example".into()))
        );
        assert!(matches!(
            ZoneServers::parse("=127.0.0.1"),
            Err(ZoneServersError::BadName(_))
        ));
    }

    #[test]
    fn the_deepest_configured_zone_applies() {
        let forward = [ZoneServers::parse(".=127.0.0.1").unwrap()];
        let stub = [ZoneServers::parse("lab.test=127.0.0.2").unwrap()];
        let kind = |name: &str| match configured_for(&forward, &stub, &n(name)) {
            Some(Configured::Forward(z)) => format!("forward {}", z.zone),
            Some(Configured::Stub(z)) => format!("stub {}", z.zone),
            None => "walk".into(),
        };
        assert_eq!(kind("www.example.com."), "forward .");
        assert_eq!(kind("www.LAB.test."), "stub lab.test.");
        assert_eq!(kind("lab.test."), "stub lab.test.");
        assert!(configured_for(&[], &stub, &n("test.")).is_none());
    }
}
