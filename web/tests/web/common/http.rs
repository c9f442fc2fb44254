//! A plain HTTP/1.1 client over a tokio TCP stream, so the tests see the
//! bytes a browser sees (status line, headers, chunked bodies, SSE
//! framing) with no HTTP library between them and the server.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;

/// How long any one read may wait before the test fails: longer than the
/// server's 15 s keep-alive, which a test with paused time waits for.
const PATIENCE: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// The request's bytes: `Host` is the server's address unless `headers`
/// gives one; a body is sent with its length.
fn request_bytes(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Vec<u8> {
    let mut text = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        text.push_str(&format!("Host: {addr}\r\n"));
    }
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        text.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    text.push_str("Connection: close\r\n\r\n");
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default().as_bytes());
    bytes
}

/// One request on a fresh connection; the whole reply.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(&request_bytes(addr, method, path, headers, body))
        .await
        .unwrap();
    let mut raw = Vec::new();
    timeout(PATIENCE, stream.read_to_end(&mut raw))
        .await
        .expect("the reply comes and the connection closes")
        .unwrap();
    parse_reply(&raw)
}

pub async fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path, &[], None).await
}

/// POSTs a JSON body.
pub async fn post(addr: SocketAddr, path: &str, json: &str) -> Reply {
    request(
        addr,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        Some(json),
    )
    .await
}

fn parse_reply(raw: &[u8]) -> Reply {
    let split = find(raw, b"\r\n\r\n").expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        let mut decoder = Dechunk::default();
        decoder.feed(rest)
    } else {
        rest.to_vec()
    };
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Decodes a chunked body as its bytes arrive.
#[derive(Default)]
struct Dechunk {
    pending: Vec<u8>,
    /// Bytes of the current chunk still to come (then its CRLF).
    left: usize,
    in_chunk: bool,
}

impl Dechunk {
    fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            if self.in_chunk {
                if self.pending.len() < self.left + 2 {
                    let take = self.pending.len().min(self.left);
                    out.extend(self.pending.drain(..take));
                    self.left -= take;
                    return out;
                }
                out.extend(self.pending.drain(..self.left));
                self.pending.drain(..2);
                self.left = 0;
                self.in_chunk = false;
            }
            let Some(end) = find(&self.pending, b"\r\n") else {
                return out;
            };
            let size_line = String::from_utf8_lossy(&self.pending[..end]).into_owned();
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .unwrap_or_else(|_| panic!("bad chunk size {size_line:?}"));
            self.pending.drain(..end + 2);
            if size == 0 {
                return out;
            }
            self.left = size;
            self.in_chunk = true;
        }
    }
}

/// One SSE message: its fields as sent.
#[derive(Debug, Default, Clone)]
pub struct Message {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
    /// The message's lines exactly as framed (for framing assertions).
    pub raw: String,
}

/// An open `/api/events` stream.
pub struct EventStream {
    stream: TcpStream,
    decoder: Dechunk,
    text: String,
    pub headers: Vec<(String, String)>,
    pub status: u16,
    /// Body bytes received so far.
    pub received: usize,
}

impl EventStream {
    /// Opens the stream; `receive_buffer` shrinks the socket's buffer to
    /// play a slow reader.
    pub async fn open(
        addr: SocketAddr,
        last_event_id: Option<&str>,
        receive_buffer: Option<u32>,
    ) -> EventStream {
        let socket = TcpSocket::new_v4().unwrap();
        if let Some(size) = receive_buffer {
            socket.set_recv_buffer_size(size).unwrap();
        }
        let mut stream = socket.connect(addr).await.unwrap();
        let mut text =
            format!("GET /api/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n");
        if let Some(id) = last_event_id {
            text.push_str(&format!("Last-Event-ID: {id}\r\n"));
        }
        text.push_str("\r\n");
        stream.write_all(text.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        let split = loop {
            if let Some(split) = find(&raw, b"\r\n\r\n") {
                break split;
            }
            let n = timeout(PATIENCE, stream.read(&mut buf))
                .await
                .expect("response headers")
                .unwrap();
            assert!(n > 0, "connection closed before the headers: {raw:?}");
            raw.extend_from_slice(&buf[..n]);
        };
        let reply = parse_reply(&raw[..split + 4]);
        let mut events = EventStream {
            stream,
            decoder: Dechunk::default(),
            text: String::new(),
            headers: reply.headers,
            status: reply.status,
            received: 0,
        };
        let rest = raw[split + 4..].to_vec();
        events.take(&rest);
        events
    }

    fn take(&mut self, bytes: &[u8]) {
        let body = self.decoder.feed(bytes);
        self.received += body.len();
        self.text.push_str(&String::from_utf8_lossy(&body));
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The next message with data (comments and keep-alives skipped), or
    /// `None` when the server closed the stream.
    pub async fn next(&mut self) -> Option<Message> {
        self.next_block(false).await
    }

    /// The next block of lines, comments included (`raw` only).
    pub async fn next_comment(&mut self) -> Option<Message> {
        self.next_block(true).await
    }

    async fn next_block(&mut self, comments: bool) -> Option<Message> {
        loop {
            while let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                let mut message = Message {
                    raw: block.clone(),
                    ..Message::default()
                };
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("id:") {
                        message.id = Some(value.trim_start().to_string());
                    } else if let Some(value) = line.strip_prefix("event:") {
                        message.event = Some(value.trim_start().to_string());
                    } else if let Some(value) = line.strip_prefix("data:") {
                        if !message.data.is_empty() {
                            message.data.push('\n');
                        }
                        message
                            .data
                            .push_str(value.strip_prefix(' ').unwrap_or(value));
                    }
                }
                if !message.data.is_empty() || (comments && block.starts_with(':')) {
                    return Some(message);
                }
            }
            let mut buf = vec![0u8; 65536];
            let n = timeout(PATIENCE, self.stream.read(&mut buf))
                .await
                .expect("an event within the patience")
                .unwrap();
            if n == 0 {
                return None;
            }
            self.take(&buf[..n]);
        }
    }
}
