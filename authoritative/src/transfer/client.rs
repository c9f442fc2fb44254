//! This server as a client of other servers: the requests a notifier and
//! a secondary send (NOTIFY, SOA queries, AXFR and IXFR), signed with the
//! remote's key when it has one, and the exchanges that carry them: one
//! UDP request and its matching reply, or a TCP connection whose
//! response comes as a stream of messages, each read within the limits
//! a hostile or broken server must not pass.
//!
//! Requests leave from the server's own address (BIND's `notify-source`
//! and `transfer-source`) when it has one, so that the other side's access
//! rules by address see the address it was told about.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use dnslab_tsig::{sign_request, unix_now, Checked, RequestMac, ResponseError, ResponseVerifier};
use dnslab_wire::{u16_at, OPCODE_QUERY};
use hickory_proto::rr::{Name, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};
use tokio::time::timeout;

use super::encode::{question, Compressor, Header, MessageWriter, Section};
use crate::config::Remote;

/// Why an exchange with a remote server failed; each says what to log.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExchangeError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the answer's TSIG does not verify: {0}")]
    Tsig(#[from] ResponseError),
    #[error("the connection closed before the answer was complete")]
    Closed,
    #[error("a message of {0} octets is longer than the request allows")]
    TooLong(usize),
}

/// A request ready to send, and what its reply is checked against.
pub(crate) struct Outgoing {
    pub bytes: Vec<u8>,
    pub id: u16,
    /// The request's MAC, when signed: its answers must be signed too.
    mac: Option<RequestMac>,
}

impl Outgoing {
    /// A request of `opcode` for `zone`/`qtype` with `record` in `section`
    /// (a NOTIFY's SOA in the answer, an IXFR's in the authority), signed
    /// with `remote`'s key if it has one.
    pub(crate) fn new(
        opcode: u8,
        zone: &Name,
        qtype: RecordType,
        record: Option<(Section, &Record)>,
        remote: &Remote,
    ) -> Outgoing {
        let id = rand::random::<u16>();
        // RFC 1996 3.7: a NOTIFY has AA set; a query has no flag set (RD
        // clear: nothing here asks for recursion).
        let flags =
            (u16::from(opcode & 0x0F) << 11) | if opcode == OPCODE_QUERY { 0 } else { 0x0400 };
        let mut bytes = Vec::with_capacity(512);
        let mut names = Compressor::default();
        let question = question(zone, qtype);
        let mut msg = MessageWriter::new(
            &mut bytes,
            &mut names,
            Header { id, flags },
            Some(&question),
            65535,
        );
        if let Some((section, record)) = record {
            msg.push_record(section, record);
        }
        msg.finish();
        // Signing fails only for a message without a header.
        let mac = remote
            .key
            .as_ref()
            .and_then(|key| sign_request(&mut bytes, key, unix_now()).ok());
        Outgoing { bytes, id, mac }
    }

    /// A verifier for the messages of the reply, when the request is signed.
    pub(crate) fn verifier(&self) -> Option<ResponseVerifier> {
        self.mac.as_ref().map(ResponseVerifier::new)
    }
}

/// The local address requests to `remote` leave from: the server's own
/// address of `remote`'s family, or any.
fn local_for(source: Option<IpAddr>, remote: SocketAddr) -> SocketAddr {
    let ip = match (source, remote) {
        (Some(ip), _) if ip.is_ipv4() == remote.is_ipv4() && !ip.is_unspecified() => ip,
        (_, SocketAddr::V4(_)) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        (_, SocketAddr::V6(_)) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    SocketAddr::new(ip, 0)
}

/// Sends `request` over UDP and returns the first reply from `remote`
/// with the request's ID and QR set, its TSIG verified when the request
/// was signed; other datagrams are ignored (RFC 5452: only the server
/// asked may answer).
pub(crate) async fn udp_exchange(
    source: Option<IpAddr>,
    remote: &Remote,
    request: &Outgoing,
    wait: Duration,
) -> Result<Vec<u8>, ExchangeError> {
    let socket = UdpSocket::bind(local_for(source, remote.addr)).await?;
    socket.connect(remote.addr).await?;
    socket.send(&request.bytes).await?;
    let mut buf = vec![0u8; 65535];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let len = match tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
            Ok(received) => received?,
            Err(_) => return Err(ExchangeError::Timeout(wait)),
        };
        let Some(reply) = buf.get(..len) else {
            continue;
        };
        let is_reply = u16_at(reply, 0) == Some(request.id)
            && u16_at(reply, 2).is_some_and(|flags| flags & 0x8000 != 0);
        if !is_reply {
            continue;
        }
        if let Some(mut verifier) = request.verifier() {
            verifier.verify(reply, unix_now())?;
        }
        return Ok(reply.to_vec());
    }
}
/// A TCP connection to a remote server carrying one request and the
/// messages of its reply.
pub(crate) struct TcpExchange {
    stream: TcpStream,
    verifier: Option<ResponseVerifier>,
    id: u16,
    /// Each message must arrive within this (BIND's idle limit).
    idle: Duration,
}

impl TcpExchange {
    /// Connects to `remote` and sends `request`, within `wait`.
    pub(crate) async fn start(
        source: Option<IpAddr>,
        remote: &Remote,
        request: &Outgoing,
        wait: Duration,
        idle: Duration,
    ) -> Result<TcpExchange, ExchangeError> {
        let local = local_for(source, remote.addr);
        let socket = match local {
            SocketAddr::V4(_) => TcpSocket::new_v4()?,
            SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        socket.bind(local)?;
        let mut stream = timeout(wait, socket.connect(remote.addr))
            .await
            .map_err(|_| ExchangeError::Timeout(wait))??;
        let len = u16::try_from(request.bytes.len())
            .map_err(|_| ExchangeError::TooLong(request.bytes.len()))?;
        let mut framed = len.to_be_bytes().to_vec();
        framed.extend_from_slice(&request.bytes);
        timeout(wait, stream.write_all(&framed))
            .await
            .map_err(|_| ExchangeError::Timeout(wait))??;
        Ok(TcpExchange {
            stream,
            verifier: request.verifier(),
            id: request.id,
            idle,
        })
    }

    /// The next message of the reply into `buf`, its ID checked and its
    /// TSIG verified (an unsigned message between signed ones is accepted
    /// until a later one covers it, RFC 8945 5.3.1). A message with
    /// another ID is an error: a connection carries one request here.
    pub(crate) async fn next(&mut self, buf: &mut Vec<u8>) -> Result<(), ExchangeError> {
        let mut prefix = [0u8; 2];
        match timeout(self.idle, self.stream.read_exact(&mut prefix)).await {
            Err(_) => return Err(ExchangeError::Timeout(self.idle)),
            Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(ExchangeError::Closed)
            }
            Ok(Err(e)) => return Err(e.into()),
            Ok(Ok(_)) => {}
        }
        buf.clear();
        buf.resize(usize::from(u16::from_be_bytes(prefix)), 0);
        match timeout(self.idle, self.stream.read_exact(buf)).await {
            Err(_) => return Err(ExchangeError::Timeout(self.idle)),
            Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(ExchangeError::Closed)
            }
            Ok(Err(e)) => return Err(e.into()),
            Ok(Ok(_)) => {}
        }
        if u16_at(buf, 0) != Some(self.id) {
            return Err(ExchangeError::Io(io::Error::other(
                "a message with another ID than the request's",
            )));
        }
        if let Some(verifier) = &mut self.verifier {
            let _: Checked = verifier.verify(buf, unix_now())?;
        }
        Ok(())
    }

    /// At the end of the reply: RFC 8945 5.3.1, its last message signed.
    pub(crate) fn finish(&self) -> Result<(), ExchangeError> {
        match &self.verifier {
            Some(verifier) => Ok(verifier.finish()?),
            None => Ok(()),
        }
    }
}
