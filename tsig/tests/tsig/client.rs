//! The client end of the tests' own exchanges: a query built by hand,
//! one UDP exchange, one TCP exchange of several messages.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(5);

/// A query for `example.com.` of `qtype`, ID 0xbeef.
pub fn query(qtype: u16) -> Vec<u8> {
    let mut msg = vec![0xbe, 0xef, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    msg.extend_from_slice(b"\x07example\x03com\x00");
    msg.extend_from_slice(&qtype.to_be_bytes());
    msg.extend_from_slice(&[0, 1]);
    msg
}

pub fn udp_exchange(server: SocketAddr, request: &[u8]) -> Vec<u8> {
    udp_try(server, request, TIMEOUT).expect("a reply")
}

/// One UDP exchange; `None` when no reply comes within `timeout`.
pub fn udp_try(server: SocketAddr, request: &[u8], timeout: Duration) -> Option<Vec<u8>> {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket.set_read_timeout(Some(timeout)).expect("timeout");
    socket.send_to(request, server).expect("send");
    let mut buf = vec![0u8; 65535];
    let len = socket.recv(&mut buf).ok()?;
    buf.truncate(len);
    Some(buf)
}

/// Sends `request` over TCP and reads `count` messages back.
pub fn tcp_exchange(server: SocketAddr, request: &[u8], count: usize) -> Vec<Vec<u8>> {
    let mut read = 0;
    tcp_exchange_until(server, request, |_| {
        read += 1;
        read == count
    })
}

/// Sends `request` over TCP and reads messages back until `last` says
/// the one just read is the last.
pub fn tcp_exchange_until(
    server: SocketAddr,
    request: &[u8],
    mut last: impl FnMut(&[u8]) -> bool,
) -> Vec<Vec<u8>> {
    let mut stream = TcpStream::connect(server).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let len = u16::try_from(request.len()).expect("small request");
    stream.write_all(&len.to_be_bytes()).expect("send");
    stream.write_all(request).expect("send");
    let mut messages = Vec::new();
    loop {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).expect("a message");
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut msg).expect("a whole message");
        let done = last(&msg);
        messages.push(msg);
        if done {
            return messages;
        }
    }
}

/// The header's RCODE and ANCOUNT.
pub fn rcode_and_answers(msg: &[u8]) -> (u8, u16) {
    (msg[3] & 0x0F, u16::from_be_bytes([msg[6], msg[7]]))
}
