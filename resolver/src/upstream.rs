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

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
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
}

/// Asks `server` one question, waiting at most `timeout` in total; with
/// RD=1 when `recursion_desired` (a forwarder, see `zones`).
pub(crate) async fn exchange(
    sockets: &SocketPool,
    server: SocketAddr,
    question: &Query,
    recursion_desired: bool,
    timeout: Duration,
) -> Result<Exchange, UpstreamError> {
    let started = Instant::now();
    let deadline = started + timeout;
    let response = timeout_at(
        deadline,
        udp_exchange(sockets, server, question, recursion_desired),
    )
    .await
    .map_err(|_| UpstreamError::Timeout {
        server,
        waited: timeout,
    })??;
    if !response.metadata.truncation {
        return Ok(Exchange {
            response,
            rtt: started.elapsed(),
            via_tcp: false,
        });
    }
    debug!(%server, qname = %question.name, "truncated, retrying over TCP");
    let response = timeout_at(deadline, tcp_exchange(server, question, recursion_desired))
        .await
        .map_err(|_| UpstreamError::Timeout {
            server,
            waited: timeout,
        })??;
    Ok(Exchange {
        response,
        rtt: started.elapsed(),
        via_tcp: true,
    })
}

fn query_bytes(
    server: SocketAddr,
    question: &Query,
    recursion_desired: bool,
) -> Result<(u16, Vec<u8>), UpstreamError> {
    let id: u16 = rand::random();
    let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = recursion_desired;
    msg.add_query(question.clone());
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_PAYLOAD);
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
    question: &Query,
    recursion_desired: bool,
) -> Result<Message, UpstreamError> {
    let (id, bytes) = query_bytes(server, question, recursion_desired)?;
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
    server: SocketAddr,
    question: &Query,
    recursion_desired: bool,
) -> Result<Message, UpstreamError> {
    let io_err = |e| unreachable_or(server, "TCP", e);
    let (id, bytes) = query_bytes(server, question, recursion_desired)?;
    let mut stream = TcpStream::connect(server).await.map_err(io_err)?;
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
        exchange(&sockets, server, &question(), false, Duration::from_secs(5))
            .await
            .unwrap()
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
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        let tcp = TcpListener::bind(addr).await.unwrap();
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
        let result = exchange(&sockets, dead, &question(), false, Duration::from_secs(10)).await;
        assert!(
            matches!(result, Err(UpstreamError::Unreachable { .. })),
            "{result:?}"
        );
        // The ICMP port unreachable ends the wait, not the timeout (a
        // receive that waits only for readability misses it).
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
