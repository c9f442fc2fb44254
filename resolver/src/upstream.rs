//! One exchange with one upstream server.
//!
//! Each query gets a random ID and a socket of its own from
//! [`crate::sockets`] (a random ephemeral source port, reused only towards
//! the same server), RD=0 (RD=1 to a forwarder) and EDNS0 with a
//! 1232-byte payload (the DNS Flag Day 2020 size that avoids IP
//! fragmentation). A response counts only if it comes from the server's
//! address and port and matches the ID and the question (RFC 5452 9.1);
//! anything else is logged and ignored while we keep waiting. A truncated
//! response (TC=1) is retried over TCP (RFC 1035 4.2.2, RFC 7766).
//!
//! With `--ecs` the query carries the client's network (RFC 7871 7.1.1),
//! and the response's option must echo it (7.3: FAMILY, SOURCE
//! PREFIX-LENGTH and ADDRESS), else the response is dropped as not ours;
//! its SCOPE PREFIX-LENGTH (0 without an option) says for which network
//! the answer may be cached.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use dnslab_wire::ClientSubnet;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::rdata::opt::{self, EdnsCode, EdnsOption};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{timeout_at, Instant};
use tracing::debug;

use crate::sockets::{self, SocketPool};

/// EDNS0 UDP payload size we advertise.
pub(crate) const EDNS_PAYLOAD: u16 = 1232;

/// A matching response and how it was obtained.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub response: Message,
    pub rtt: Duration,
    /// The UDP answer was truncated and this one came over TCP.
    pub via_tcp: bool,
    /// RFC 7871 7.3.1: the leading bits of the client's network the answer
    /// covers (its SCOPE PREFIX-LENGTH, at most the SOURCE we sent); 0,
    /// for every client, when the response has no ECS option.
    pub scope: u8,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum UpstreamError {
    #[error("no answer from {server} within {waited:?}")]
    Timeout {
        server: SocketAddr,
        waited: Duration,
    },
    #[error("{server} is unreachable ({source}); is anything listening there?")]
    Unreachable {
        server: SocketAddr,
        source: io::Error,
    },
    #[error("talking to {server} over {protocol}: {source}")]
    Io {
        server: SocketAddr,
        protocol: &'static str,
        source: io::Error,
    },
    #[error("{server} answered over TCP with a message that does not match the query")]
    TcpMismatch { server: SocketAddr },
    #[error("could not encode a query for {server}: {reason}")]
    Encode { server: SocketAddr, reason: String },
    #[error("{server} answered for the client network {got}, not for the {sent} asked about")]
    SubnetMismatch {
        server: SocketAddr,
        sent: ClientSubnet,
        got: String,
    },
}

/// Asks `server` one question, with the ECS option `subnet` when given
/// and RD=1 when `recursion_desired` (a forwarder, see `zones`), waiting
/// at most `timeout` in total.
pub(crate) async fn exchange(
    sockets: &SocketPool,
    server: SocketAddr,
    question: &Query,
    subnet: Option<&ClientSubnet>,
    recursion_desired: bool,
    timeout: Duration,
) -> Result<Exchange, UpstreamError> {
    let started = Instant::now();
    let deadline = started + timeout;
    let timed_out = |_| UpstreamError::Timeout {
        server,
        waited: timeout,
    };
    let asked = Asked {
        question,
        subnet,
        recursion_desired,
    };
    let mut response = timeout_at(deadline, udp_exchange(sockets, server, &asked))
        .await
        .map_err(timed_out)??;
    let via_tcp = response.metadata.truncation;
    if via_tcp {
        debug!(%server, qname = %question.name, "truncated, retrying over TCP");
        response = timeout_at(deadline, tcp_exchange(sockets, server, &asked))
            .await
            .map_err(timed_out)??;
    }
    let scope = scope(server, &response, subnet)?;
    Ok(Exchange {
        response,
        rtt: started.elapsed(),
        via_tcp,
        scope,
    })
}

/// What is asked of one server: the question, the client network, and
/// whether it should recurse (a forwarder).
struct Asked<'a> {
    question: &'a Query,
    subnet: Option<&'a ClientSubnet>,
    recursion_desired: bool,
}

/// RFC 7871 7.3: the scope of `response` to a query that carried
/// `sent`. An option that does not echo FAMILY, SOURCE PREFIX-LENGTH and
/// ADDRESS drops the response; a SCOPE longer than the SOURCE covers only
/// the SOURCE's bits (7.3.1). A response without the option, or to a
/// query without one, covers every client.
fn scope(
    server: SocketAddr,
    response: &Message,
    sent: Option<&ClientSubnet>,
) -> Result<u8, UpstreamError> {
    let (Some(sent), Some(EdnsOption::Subnet(got))) = (
        sent,
        response
            .edns
            .as_ref()
            .and_then(|edns| edns.option(EdnsCode::Subnet)),
    ) else {
        return Ok(0);
    };
    if got.addr() != sent.addr() || got.source_prefix() != sent.source() {
        return Err(UpstreamError::SubnetMismatch {
            server,
            sent: *sent,
            got: format!("{}/{}", got.addr(), got.source_prefix()),
        });
    }
    Ok(got.scope_prefix().min(sent.source()))
}

fn query_bytes(server: SocketAddr, query: &Asked<'_>) -> Result<(u16, Vec<u8>), UpstreamError> {
    let id: u16 = rand::random();
    let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = query.recursion_desired;
    msg.add_query(query.question.clone());
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_PAYLOAD);
    if let Some(subnet) = query.subnet {
        let option = opt::ClientSubnet::new(subnet.addr(), subnet.source(), 0);
        edns.options_mut().insert(EdnsOption::Subnet(option));
    }
    msg.set_edns(edns);
    let bytes = msg.to_bytes().map_err(|e| UpstreamError::Encode {
        server,
        reason: e.to_string(),
    })?;
    Ok((id, bytes))
}

/// Whether `response` answers the query with `id` about `question`.
pub(crate) fn matches(response: &Message, id: u16, question: &Query) -> bool {
    let [asked] = response.queries.as_slice() else {
        return false;
    };
    response.metadata.id == id
        && response.metadata.message_type == MessageType::Response
        && asked.name == question.name
        && asked.query_type == question.query_type
        && asked.query_class == question.query_class
}

async fn udp_exchange(
    sockets: &SocketPool,
    server: SocketAddr,
    query: &Asked<'_>,
) -> Result<Message, UpstreamError> {
    let question = query.question;
    let (id, bytes) = query_bytes(server, query)?;
    let conn = sockets.take(server).map_err(|source| UpstreamError::Io {
        server,
        protocol: "UDP",
        source,
    })?;
    conn.socket
        .send(&bytes)
        .await
        .map_err(|e| unreachable_or(server, "UDP", e))?;
    loop {
        let received = sockets::recv_from(&conn.socket, |packet, from| {
            (from == server).then(|| Message::from_bytes(packet))
        })
        .await
        .map_err(|e| unreachable_or(server, "UDP", e))?;
        match received {
            Some(Ok(response)) if matches(&response, id, question) => {
                sockets.give_back(server, conn);
                return Ok(response);
            }
            Some(Ok(response)) => {
                debug!(%server, id = response.metadata.id, expected = id, "ignoring a response that does not match the query")
            }
            Some(Err(error)) => debug!(%server, %error, "ignoring an undecodable datagram"),
            None => debug!(%server, "ignoring a datagram from the wrong address"),
        }
    }
}

async fn tcp_exchange(
    sockets: &SocketPool,
    server: SocketAddr,
    query: &Asked<'_>,
) -> Result<Message, UpstreamError> {
    let io_err = |e| unreachable_or(server, "TCP", e);
    let question = query.question;
    let (id, bytes) = query_bytes(server, query)?;
    let mut stream = tcp_connect(server, sockets.source_for(server))
        .await
        .map_err(io_err)?;
    let len = u16::try_from(bytes.len()).map_err(|_| UpstreamError::Encode {
        server,
        reason: "query longer than 65535 bytes".into(),
    })?;
    let mut framed = Vec::with_capacity(bytes.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(&bytes);
    stream.write_all(&framed).await.map_err(io_err)?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.map_err(io_err)?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut buf).await.map_err(io_err)?;
    match Message::from_bytes(&buf) {
        Ok(response) if matches(&response, id, question) => Ok(response),
        _ => Err(UpstreamError::TcpMismatch { server }),
    }
}

/// A TCP connection to `server`, from `source` when given.
async fn tcp_connect(server: SocketAddr, source: Option<SocketAddr>) -> io::Result<TcpStream> {
    let Some(source) = source else {
        return TcpStream::connect(server).await;
    };
    let socket = match server {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.bind(source)?;
    socket.connect(server).await
}

fn unreachable_or(server: SocketAddr, protocol: &'static str, source: io::Error) -> UpstreamError {
    match source.kind() {
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset => {
            UpstreamError::Unreachable { server, source }
        }
        _ => UpstreamError::Io {
            server,
            protocol,
            source,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::{Name, RData, Record, RecordType};
    use tokio::net::{TcpListener, UdpSocket};

    fn question() -> Query {
        Query::query(Name::from_ascii("www.example.com.").unwrap(), RecordType::A)
    }

    /// One exchange that must succeed, on a pool of its own.
    async fn ask(server: SocketAddr) -> Exchange {
        let sockets = SocketPool::default();
        exchange(
            &sockets,
            server,
            &question(),
            None,
            false,
            Duration::from_secs(5),
        )
        .await
        .unwrap()
    }

    /// A UDP socket and a TCP listener on the same loopback port. The port
    /// the kernel picks for UDP may be taken for TCP by another test running
    /// at the same time, so a few ports are tried.
    async fn udp_and_tcp_on_one_port() -> (UdpSocket, TcpListener) {
        for _ in 0..16 {
            let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            if let Ok(tcp) = TcpListener::bind(udp.local_addr().unwrap()).await {
                return (udp, tcp);
            }
        }
        panic!("no loopback port free for both UDP and TCP after 16 tries");
    }

    fn reply_to(query: &Message, last: u8) -> Message {
        let mut reply = Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
        reply.metadata.authoritative = true;
        reply.add_queries(query.queries.clone());
        reply.add_answer(Record::from_rdata(
            Name::from_ascii("www.example.com.").unwrap(),
            60,
            RData::A(A::new(192, 0, 2, last)),
        ));
        reply
    }

    fn answer_last_octet(msg: &Message) -> Option<u8> {
        match &msg.answers.first()?.data {
            RData::A(a) => Some(a.0.octets()[3]),
            _ => None,
        }
    }

    /// A spoofer races the real server: first a reply with the wrong ID,
    /// then one with the right ID from another port, then one for another
    /// question; only the genuine reply, sent last, may be accepted.
    #[tokio::test]
    async fn spoofed_responses_are_ignored() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let spoofer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let responder = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let (len, client) = server.recv_from(&mut buf).await.unwrap();
            let query = Message::from_bytes(&buf[..len]).unwrap();
            assert!(
                !query.metadata.recursion_desired,
                "upstream queries are iterative"
            );
            assert_eq!(
                query.edns.as_ref().map(|e| e.max_payload()),
                Some(EDNS_PAYLOAD)
            );
            let mut wrong_id = reply_to(&query, 6);
            wrong_id.metadata.id = query.metadata.id.wrapping_add(1);
            server
                .send_to(&wrong_id.to_bytes().unwrap(), client)
                .await
                .unwrap();
            spoofer
                .send_to(&reply_to(&query, 7).to_bytes().unwrap(), client)
                .await
                .unwrap();
            let mut wrong_question = reply_to(&query, 8);
            wrong_question.queries[0].name = Name::from_ascii("www.victim.org.").unwrap();
            server
                .send_to(&wrong_question.to_bytes().unwrap(), client)
                .await
                .unwrap();
            server
                .send_to(&reply_to(&query, 1).to_bytes().unwrap(), client)
                .await
                .unwrap();
        });
        let exchange = ask(addr).await;
        assert_eq!(answer_last_octet(&exchange.response), Some(1));
        assert!(!exchange.via_tcp);
        responder.await.unwrap();
    }

    /// A server that truncates over UDP is asked again over TCP on the same
    /// port, and the TCP answer is the one returned.
    #[tokio::test]
    async fn truncated_answer_is_retried_over_tcp() {
        let (udp, tcp) = udp_and_tcp_on_one_port().await;
        let addr = udp.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let (len, client) = udp.recv_from(&mut buf).await.unwrap();
            let query = Message::from_bytes(&buf[..len]).unwrap();
            let mut truncated = reply_to(&query, 9);
            truncated.answers.clear();
            truncated.metadata.truncation = true;
            udp.send_to(&truncated.to_bytes().unwrap(), client)
                .await
                .unwrap();
        });
        tokio::spawn(async move {
            let (mut stream, _) = tcp.accept().await.unwrap();
            let mut len = [0u8; 2];
            stream.read_exact(&mut len).await.unwrap();
            let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
            stream.read_exact(&mut buf).await.unwrap();
            let query = Message::from_bytes(&buf).unwrap();
            let bytes = reply_to(&query, 2).to_bytes().unwrap();
            stream
                .write_all(&(bytes.len() as u16).to_be_bytes())
                .await
                .unwrap();
            stream.write_all(&bytes).await.unwrap();
        });
        let exchange = ask(addr).await;
        assert!(exchange.via_tcp);
        assert_eq!(answer_last_octet(&exchange.response), Some(2));
    }

    #[tokio::test]
    async fn silent_server_times_out_and_dead_server_fails_fast() {
        let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let started = std::time::Instant::now();
        let sockets = SocketPool::default();
        let result = exchange(
            &sockets,
            silent.local_addr().unwrap(),
            &question(),
            None,
            false,
            Duration::from_millis(200),
        )
        .await;
        assert!(
            matches!(result, Err(UpstreamError::Timeout { .. })),
            "{result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(3));

        let dead = silent.local_addr().unwrap();
        drop(silent);
        let started = std::time::Instant::now();
        let result = exchange(
            &sockets,
            dead,
            &question(),
            None,
            false,
            Duration::from_secs(10),
        )
        .await;
        assert!(
            matches!(result, Err(UpstreamError::Unreachable { .. })),
            "{result:?}"
        );
        // The ICMP port unreachable ends the wait, not the timeout (a
        // receive that waits only for readability misses it).
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    /// RFC 7871 7.3: the query carries the client's network from the
    /// resolver's own source address; the response's scope is read,
    /// capped at the source sent (7.3.1); a response for another network
    /// is dropped; one without the option covers everyone.
    #[tokio::test]
    async fn the_client_network_goes_up_and_its_scope_comes_back() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        // Each reply: the scope to answer with, or another network, or none.
        let replies: [Option<(&str, u8, u8)>; 3] = [
            Some(("127.0.1.0", 24, 32)),
            Some(("127.0.2.0", 24, 24)),
            None,
        ];
        let responder = tokio::spawn(async move {
            let mut seen = Vec::new();
            for reply in replies {
                let mut buf = vec![0u8; 2048];
                let (len, client) = server.recv_from(&mut buf).await.unwrap();
                let query = Message::from_bytes(&buf[..len]).unwrap();
                let sent = query
                    .edns
                    .as_ref()
                    .and_then(|e| e.option(EdnsCode::Subnet))
                    .cloned();
                seen.push((client.ip(), sent));
                let mut response = reply_to(&query, 1);
                let mut edns = Edns::new();
                if let Some((net, source, scope)) = reply {
                    let echoed = opt::ClientSubnet::new(net.parse().unwrap(), source, scope);
                    edns.options_mut().insert(EdnsOption::Subnet(echoed));
                }
                response.set_edns(edns);
                server
                    .send_to(&response.to_bytes().unwrap(), client)
                    .await
                    .unwrap();
            }
            seen
        });
        let sockets = SocketPool::new(1, Some("127.0.0.7".parse().unwrap()));
        let subnet = ClientSubnet::for_client("127.0.1.9".parse().unwrap(), None);
        let question = question();
        let ask = || {
            exchange(
                &sockets,
                addr,
                &question,
                Some(&subnet),
                false,
                Duration::from_secs(5),
            )
        };
        assert_eq!(
            ask().await.unwrap().scope,
            24,
            "32 is capped at the 24 sent"
        );
        assert!(matches!(
            ask().await,
            Err(UpstreamError::SubnetMismatch { .. })
        ));
        assert_eq!(ask().await.unwrap().scope, 0, "no option: everyone's");
        let seen = responder.await.unwrap();
        let expected = opt::ClientSubnet::new("127.0.1.0".parse().unwrap(), 24, 0);
        for (source, sent) in seen {
            assert_eq!(source.to_string(), "127.0.0.7", "the pool's source address");
            assert_eq!(sent, Some(EdnsOption::Subnet(expected)));
        }
    }
}
