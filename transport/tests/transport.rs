//! End-to-end tests of the transport: a real [`Server`] on 127.0.0.1 port 0
//! with a toy handler, and clients on real sockets.
//!
//! The toy handler reads the first byte of a request as a command:
//! `E` echo the request inline, `D` drop it, `L` echo it later (a
//! [`Reply::Deferred`] that sleeps for the second byte × 10 ms), `U` echo
//! it later after a round trip through a UDP socket of its own (as a
//! resolver's upstream query), `N` defer forever, `P` panic, `S` answer
//! with a stream of messages (a zone transfer: `S`, a 4-octet count, a
//! 3-octet size; each message is `S`, its 4-octet index and padding).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dnslab_transport::{
    Handler, MessageStream, Protocol, Reply, RequestMeta, Server, ServerConfig, TransportError,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// Upper bound for anything that should happen "promptly" on a noisy,
/// shared 2-core machine.
const PROMPTLY: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Toy {
    /// Requests seen, to check what reached the handler.
    calls: AtomicUsize,
    /// Messages produced by `S` streams, to check the backpressure.
    streamed: Arc<AtomicUsize>,
}

/// The `S` command's stream: `count` messages of `size` octets.
struct Counted {
    next: u32,
    count: u32,
    size: usize,
    produced: Arc<AtomicUsize>,
}

impl MessageStream for Counted {
    fn next_message(&mut self, out: &mut Vec<u8>) -> bool {
        if self.next == self.count {
            return false;
        }
        out.push(b'S');
        out.extend_from_slice(&self.next.to_be_bytes());
        out.resize(self.size.max(5), b'.');
        self.next += 1;
        self.produced.fetch_add(1, Ordering::Relaxed);
        true
    }
}

/// The request asking for a stream of `count` messages of `size` octets.
fn stream_request(count: u32, size: u32) -> Vec<u8> {
    let mut request = vec![b'S'];
    request.extend_from_slice(&count.to_be_bytes());
    request.extend_from_slice(&size.to_be_bytes()[1..]);
    request
}

impl Handler for Toy {
    fn handle(&self, request: &[u8], meta: &RequestMeta, response: &mut Vec<u8>) -> Reply {
        self.calls.fetch_add(1, Ordering::Relaxed);
        match request.first() {
            Some(b'E') => {
                response.extend_from_slice(request);
                // Tag the protocol so tests see the right one was reported.
                response.push(match meta.protocol {
                    Protocol::Udp => b'u',
                    Protocol::Tcp => b't',
                });
                Reply::Send
            }
            Some(b'L') => {
                let delay =
                    Duration::from_millis(10 * u64::from(request.get(1).copied().unwrap_or(0)));
                let mut answer = request.to_vec();
                answer.push(b'l');
                Reply::Deferred(Box::pin(async move {
                    tokio::time::sleep(delay).await;
                    Some(answer)
                }))
            }
            Some(b'U') => {
                let request = request.to_vec();
                Reply::Deferred(Box::pin(async move {
                    let upstream = UdpSocket::bind("127.0.0.1:0").await.ok()?;
                    upstream.connect(upstream.local_addr().ok()?).await.ok()?;
                    upstream.send(&request).await.ok()?;
                    let mut answer = vec![0; 512];
                    let len = upstream.recv(&mut answer).await.ok()?;
                    answer.truncate(len);
                    answer.push(b'x');
                    Some(answer)
                }))
            }
            Some(b'N') => Reply::Deferred(Box::pin(std::future::pending())),
            Some(b'S') => {
                let field = |at: usize, len: usize| {
                    request
                        .get(at..at + len)
                        .map_or(0, |b| b.iter().fold(0u32, |n, &o| n << 8 | u32::from(o)))
                };
                Reply::Stream(Box::new(Counted {
                    next: 0,
                    count: field(1, 4),
                    size: field(5, 3) as usize,
                    produced: Arc::clone(&self.streamed),
                }))
            }
            Some(b'P') => panic!("toy handler asked to panic"),
            _ => Reply::Drop,
        }
    }
}

/// A served [`Server`] and the means to stop it.
struct Running {
    /// The first of `addrs`, for tests that listen on one address.
    addr: SocketAddr,
    addrs: Vec<SocketAddr>,
    handler: Arc<Toy>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), TransportError>>,
}

fn config() -> ServerConfig {
    let mut config = ServerConfig::new(vec!["127.0.0.1:0".parse().unwrap()]);
    config.udp_workers = 2;
    config.udp_recv_buffer = 256 * 1024;
    config
}

fn start(config: ServerConfig) -> Running {
    let server = Server::bind(config).expect("bind");
    let addrs = server.local_addrs();
    let handler = Arc::new(Toy::default());
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(server.run(handler.clone(), shutdown));
    Running {
        addr: addrs[0],
        addrs,
        handler,
        stop: Some(stop),
        task,
    }
}

impl Running {
    /// Triggers shutdown and waits for `run` to return.
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let result = timeout(PROMPTLY, &mut self.task)
            .await
            .expect("run returns promptly after shutdown");
        result.expect("run task").expect("run result");
    }
}

fn with<T>(mut value: T, change: impl FnOnce(&mut T)) -> T {
    change(&mut value);
    value
}

async fn udp_client() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").await.unwrap()
}

async fn udp_ask(socket: &UdpSocket, server: SocketAddr, request: &[u8]) -> Vec<u8> {
    socket.send_to(request, server).await.unwrap();
    udp_recv(socket).await.expect("a UDP answer")
}

/// The next datagram from anyone, or `None` after `wait`.
async fn udp_recv_within(socket: &UdpSocket, wait: Duration) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 65_535];
    let (len, _) = timeout(wait, socket.recv_from(&mut buf))
        .await
        .ok()?
        .unwrap();
    buf.truncate(len);
    Some(buf)
}

/// Nothing further arrives (within a short wait: a datagram already sent
/// on loopback would be there at once).
async fn assert_no_more_datagrams(socket: &UdpSocket) {
    let late = udp_recv_within(socket, Duration::from_millis(200)).await;
    assert_eq!(late, None, "unexpected datagram");
}

async fn udp_recv(socket: &UdpSocket) -> Option<Vec<u8>> {
    udp_recv_within(socket, PROMPTLY).await
}

fn framed(message: &[u8]) -> Vec<u8> {
    let mut out = u16::try_from(message.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(message);
    out
}

/// Reads one length-prefixed message; `None` on a clean close.
async fn tcp_read(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut prefix = [0u8; 2];
    match timeout(PROMPTLY, stream.read_exact(&mut prefix))
        .await
        .expect("TCP read in time")
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return None,
        Err(e) => panic!("TCP read: {e}"),
    }
    let mut message = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    stream
        .read_exact(&mut message)
        .await
        .expect("TCP message body");
    Some(message)
}

async fn tcp_ask(stream: &mut TcpStream, request: &[u8]) -> Vec<u8> {
    stream.write_all(&framed(request)).await.unwrap();
    tcp_read(stream).await.expect("a TCP answer")
}

/// True once the server has closed `stream` (EOF or reset), polling up to
/// `wait`. Any data read instead is a failure.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 64];
    match timeout(wait, stream.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(n)) => panic!("unexpected {n} bytes"),
        Err(_) => false,
    }
}

/// The simplest path through the transport: one datagram in, the
/// handler's inline answer out to the sender's address, and the handler
/// called exactly once. Every other UDP test builds on this; if it fails,
/// neither server can answer anything over UDP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_round_trip_echoes_inline_answer() {
    let server = start(config());
    let client = udp_client().await;
    assert_eq!(udp_ask(&client, server.addr, b"Ehello").await, b"Ehellou");
    assert_eq!(server.handler.calls.load(Ordering::Relaxed), 1);
    server.stop().await;
}

/// RFC 7766 6.2.1: a client may send several length-prefixed queries on
/// one TCP connection, and each gets its answer on it. Two in a row on one
/// stream must both be answered, framed and intact; a server that closed
/// the connection after the first answer would make every client reconnect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_round_trip_answers_several_queries_on_one_connection() {
    let server = start(config());
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(tcp_ask(&mut stream, b"Eone").await, b"Eonet");
    assert_eq!(tcp_ask(&mut stream, b"Etwo").await, b"Etwot");
    server.stop().await;
}

/// RFC 7766 6.2.3: a connection that sends nothing is closed after the idle
/// timeout, freeing its slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_idle_connection_is_closed_after_idle_timeout() {
    let mut config = config();
    config.tcp_idle_timeout = Duration::from_millis(300);
    let server = start(config);
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(tcp_ask(&mut stream, b"Eping").await, b"Epingt");
    assert!(
        closed_within(&mut stream, PROMPTLY).await,
        "idle connection closed"
    );
    server.stop().await;
}

/// RFC 7766 6.2.1.1: pipelined queries are answered as they complete. An
/// inline answer goes out at once; deferred ones in completion order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_pipelined_deferred_answers_come_back_in_completion_order() {
    let server = start(config());
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let mut batch = framed(b"L\x64slow"); // 1 s
    batch.extend(framed(b"L\x00fast"));
    batch.extend(framed(b"Enow"));
    stream.write_all(&batch).await.unwrap();
    assert_eq!(tcp_read(&mut stream).await.unwrap(), b"Enowt");
    assert_eq!(tcp_read(&mut stream).await.unwrap(), b"L\x00fastl");
    assert_eq!(tcp_read(&mut stream).await.unwrap(), b"L\x64slowl");
    server.stop().await;
}

/// With `tcp_max_pipelined` = 1 the connection reads no further query while
/// one is deferred, so a fast query queued behind a slow one waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_pipelining_limit_holds_further_queries_back() {
    let server = start(with(config(), |c| c.tcp_max_pipelined = 1));
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let mut batch = framed(b"L\x14slow"); // 200 ms
    batch.extend(framed(b"L\x00fast"));
    stream.write_all(&batch).await.unwrap();
    assert_eq!(tcp_read(&mut stream).await.unwrap(), b"L\x14slowl");
    assert_eq!(tcp_read(&mut stream).await.unwrap(), b"L\x00fastl");
    server.stop().await;
}

/// A message may arrive split anywhere, even inside the length prefix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_message_split_across_writes_is_reassembled() {
    let server = start(config());
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let bytes = framed(b"Esplit");
    for byte in &bytes {
        stream.write_all(std::slice::from_ref(byte)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(tcp_read(&mut stream).await.unwrap(), b"Esplitt");
    server.stop().await;
}

/// A zero length prefix cannot start a DNS message: the server closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_zero_length_message_closes_connection() {
    let server = start(config());
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(&[0, 0]).await.unwrap();
    assert!(closed_within(&mut stream, PROMPTLY).await);
    assert_eq!(server.handler.calls.load(Ordering::Relaxed), 0);
    server.stop().await;
}

/// A length prefix promising more than ever comes, or a client sending a
/// byte at a time, holds only its own connection, and only until the idle
/// timeout: the timeout covers the whole message, not each read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_slow_or_truncated_clients_do_not_block_others_and_are_cut_off() {
    let server = start(with(config(), |c| {
        c.tcp_idle_timeout = Duration::from_millis(500)
    }));
    let mut truncated = TcpStream::connect(server.addr).await.unwrap();
    truncated
        .write_all(&[0x01, 0xf4, b'E', b'x'])
        .await
        .unwrap(); // 500 promised

    let mut trickle = TcpStream::connect(server.addr).await.unwrap();
    trickle.set_nodelay(true).unwrap();
    let message = framed(&[b'E'; 200]);
    let trickler = tokio::spawn(async move {
        // 200 bytes at 20 ms each: 4 s, far past the 500 ms timeout.
        for byte in &message {
            if trickle.write_all(std::slice::from_ref(byte)).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        trickle
    });

    let mut good = TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(tcp_ask(&mut good, b"Egood").await, b"Egoodt");
    assert!(closed_within(&mut truncated, PROMPTLY).await);

    let mut trickle = timeout(Duration::from_secs(10), trickler)
        .await
        .unwrap()
        .unwrap();
    assert!(closed_within(&mut trickle, PROMPTLY).await);
    // Neither partial message reached the handler.
    assert_eq!(server.handler.calls.load(Ordering::Relaxed), 1);
    server.stop().await;
}

/// Shutdown closes open connections, abandons deferred replies, and
/// returns once everything has stopped: the same port can be bound again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_connections_and_frees_the_port() {
    let server = start(config());
    let addr = server.addr;
    let mut idle = TcpStream::connect(addr).await.unwrap();
    assert_eq!(tcp_ask(&mut idle, b"Ehi").await, b"Ehit");
    let mut pending = TcpStream::connect(addr).await.unwrap();
    pending.write_all(&framed(b"Nnever")).await.unwrap();
    let client = udp_client().await;
    client.send_to(b"Nnever", addr).await.unwrap();
    // Both deferred queries have reached the handler before we stop.
    let deadline = tokio::time::Instant::now() + PROMPTLY;
    while server.handler.calls.load(Ordering::Relaxed) < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "queries reach the handler"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    server.stop().await;
    assert!(closed_within(&mut idle, PROMPTLY).await);
    assert!(closed_within(&mut pending, PROMPTLY).await);

    let again = Server::bind(ServerConfig::new(vec![addr])).expect("port is free again");
    assert_eq!(again.local_addrs(), vec![addr]);
}

/// Bind errors surface from `bind`, naming the address and protocol.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_error_on_a_port_in_use_names_the_address() {
    let taken_udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = taken_udp.local_addr().unwrap();
    let error = Server::bind(ServerConfig::new(vec![addr]))
        .err()
        .expect("UDP port in use");
    assert!(matches!(
        error,
        TransportError::Bind {
            protocol: Protocol::Udp,
            ..
        }
    ));
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot listen on {addr}/udp: ")),
        "{error}"
    );

    let taken_tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken_tcp.local_addr().unwrap();
    let error = Server::bind(ServerConfig::new(vec![addr]))
        .err()
        .expect("TCP port in use");
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot listen on {addr}/tcp: ")),
        "{error}"
    );

    assert!(matches!(
        Server::bind(ServerConfig::default()),
        Err(TransportError::NoListenAddress)
    ));
}

/// Port 0 on several addresses: each gets one port shared by UDP and TCP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_zero_serves_udp_and_tcp_on_the_same_port_per_address() {
    let server = start(with(config(), |c| c.listen = two_addresses()));
    let client = udp_client().await;
    for (addr, ip) in server.addrs.iter().zip(["127.0.0.1", "127.0.0.2"]) {
        assert_eq!(addr.ip().to_string(), ip);
        assert_ne!(addr.port(), 0);
        assert_eq!(udp_ask(&client, *addr, b"Eu").await, b"Euu");
        let mut stream = TcpStream::connect(addr).await.unwrap();
        assert_eq!(tcp_ask(&mut stream, b"Et").await, b"Ett");
    }
    server.stop().await;
}

fn two_addresses() -> Vec<SocketAddr> {
    vec![
        "127.0.0.1:0".parse().unwrap(),
        "127.0.0.2:0".parse().unwrap(),
    ]
}

/// At the cap, a new client waits in the backlog and is served as soon as
/// another connection closes. The cap is the server's, not each address's:
/// a connection to one address holds the only slot against the other's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_connection_cap_holds_over_all_addresses_and_a_waiting_client_is_served_after_a_close()
{
    let server = start(with(config(), |c| {
        c.listen = two_addresses();
        c.tcp_max_connections = 1;
    }));
    let mut first = TcpStream::connect(server.addrs[0]).await.unwrap();
    assert_eq!(tcp_ask(&mut first, b"Efirst").await, b"Efirstt");
    let mut second = TcpStream::connect(server.addrs[1]).await.unwrap();
    second.write_all(&framed(b"Esecond")).await.unwrap();
    let mut buf = [0u8; 1];
    let early = timeout(Duration::from_millis(300), second.read(&mut buf)).await;
    assert!(early.is_err(), "second address served over the cap");
    assert_eq!(server.handler.calls.load(Ordering::Relaxed), 1);
    drop(first);
    assert_eq!(tcp_read(&mut second).await.unwrap(), b"Esecondt");
    server.stop().await;
}

/// `Reply::Drop` sends nothing: the next datagram from the same client (on
/// the same worker, so handled in order) is the first answer it gets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_drop_sends_nothing() {
    let server = start(config());
    let client = udp_client().await;
    client.send_to(b"Dquiet", server.addr).await.unwrap();
    assert_eq!(udp_ask(&client, server.addr, b"Eloud").await, b"Eloudu");
    assert_no_more_datagrams(&client).await;
    assert_eq!(server.handler.calls.load(Ordering::Relaxed), 2);
    server.stop().await;
}

/// A deferred reply is computed on the worker's runtime and sent from the
/// socket the query came to, whatever runtime the server itself runs on
/// (here tokio's test default, a current-thread one).
#[tokio::test]
async fn udp_deferred_reply_arrives() {
    let server = start(config());
    let client = udp_client().await;
    client.send_to(b"L\x05later", server.addr).await.unwrap();
    let mut buf = [0u8; 512];
    let (len, from) = timeout(PROMPTLY, client.recv_from(&mut buf))
        .await
        .expect("deferred answer in time")
        .unwrap();
    assert_eq!(&buf[..len], b"L\x05laterl");
    assert_eq!(from, server.addr);
    server.stop().await;
}

/// A worker with deferred replies in flight goes on answering inline, and
/// drives their timers and sockets itself: with one worker, a fast query
/// sent after a slow one is answered first, a deferred reply that waits for
/// a socket of its own completes, and the slow one still arrives.
#[tokio::test]
async fn udp_worker_answers_inline_while_deferred_replies_wait_on_timers_and_sockets() {
    let server = start(with(config(), |c| c.udp_workers = 1));
    let client = udp_client().await;
    client.send_to(b"L\x14slow", server.addr).await.unwrap(); // 200 ms
    client.send_to(b"Efast", server.addr).await.unwrap();
    client.send_to(b"Uround trip", server.addr).await.unwrap();
    assert_eq!(udp_recv(&client).await.unwrap(), b"Efastu");
    assert_eq!(udp_recv(&client).await.unwrap(), b"Uround tripx");
    assert_eq!(udp_recv(&client).await.unwrap(), b"L\x14slowl");
    assert_no_more_datagrams(&client).await;
    server.stop().await;
}

/// Past `max_deferred` replies in flight, a UDP query is dropped (the client
/// retries) rather than queued without bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_deferred_cap_drops_excess_queries() {
    let server = start(with(config(), |c| c.max_deferred = 1));
    let client = udp_client().await;
    client.send_to(b"L\xc8first", server.addr).await.unwrap(); // 2 s
    client.send_to(b"L\x00second", server.addr).await.unwrap();
    assert_eq!(udp_recv(&client).await.unwrap(), b"L\xc8firstl");
    assert_no_more_datagrams(&client).await;
    assert_eq!(server.handler.calls.load(Ordering::Relaxed), 2);
    server.stop().await;
}

/// A handler that panics loses that one query; the worker goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_worker_survives_a_panicking_handler() {
    let server = start(with(config(), |c| c.udp_workers = 1));
    let client = udp_client().await;
    client.send_to(b"Pboom", server.addr).await.unwrap();
    assert_eq!(udp_ask(&client, server.addr, b"Eafter").await, b"Eafteru");
    server.stop().await;
}

/// A client that sends queries but never reads its answers fills the
/// socket buffers until the server's write blocks; shutdown must not wait
/// for that write (here the idle timeout, which would, is a minute).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_a_client_that_does_not_read() {
    let server = start(with(config(), |c| {
        c.tcp_idle_timeout = Duration::from_secs(60)
    }));
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let (_read_half, mut write_half) = stream.into_split();
    let query = framed(&[b'E'; 60_000]);
    let writer = tokio::spawn(async move {
        // 24 MB of echoes: more than both sides' socket buffers hold.
        for _ in 0..400 {
            if write_half.write_all(&query).await.is_err() {
                break;
            }
        }
    });
    // Wait until the server stops taking queries: its write is blocked.
    let mut seen = 0;
    let deadline = tokio::time::Instant::now() + PROMPTLY;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = server.handler.calls.load(Ordering::Relaxed);
        if now == seen && now > 0 {
            break;
        }
        seen = now;
    }
    assert!(seen < 400, "the server's writes should have blocked");
    server.stop().await;
    writer.abort();
}

/// A burst from several clients is received and answered in batches; each
/// answer goes to the client that asked, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_burst_from_many_clients_gets_every_answer_to_its_sender() {
    let server = start(with(config(), |c| c.udp_workers = 1));
    let mut clients = Vec::new();
    for _ in 0..8 {
        clients.push(udp_client().await);
    }
    for round in 0..20u8 {
        for (c, client) in clients.iter().enumerate() {
            let query = [b'E', c as u8, round];
            client.send_to(&query, server.addr).await.unwrap();
        }
    }
    for (c, client) in clients.iter().enumerate() {
        let mut rounds = Vec::new();
        for _ in 0..20 {
            let answer = udp_recv(client).await.expect("every query answered");
            assert_eq!(answer.len(), 4, "{answer:?}");
            assert_eq!((answer[0], answer[1], answer[3]), (b'E', c as u8, b'u'));
            rounds.push(answer[2]);
        }
        rounds.sort_unstable();
        assert_eq!(rounds, (0..20).collect::<Vec<u8>>());
    }
    server.stop().await;
}

/// A zone transfer is one request answered by many messages (RFC 5936
/// 2.2): every message arrives framed and in order, and a query pipelined
/// behind the transfer is answered once it is complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_stream_sends_every_message_in_order_then_the_next_answer() {
    let server = start(config());
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let mut both = framed(&stream_request(50, 1000));
    both.extend(framed(b"Eafter"));
    stream.write_all(&both).await.unwrap();
    for index in 0..50u32 {
        let message = tcp_read(&mut stream).await.expect("a message");
        assert_eq!(message.len(), 1000);
        assert_eq!(
            &message[..5],
            &[&[b'S'][..], &index.to_be_bytes()].concat()[..]
        );
    }
    assert_eq!(tcp_read(&mut stream).await.expect("the echo"), b"Eaftert");
    server.stop().await;
}

/// A message of a stream too long for its length prefix cannot be sent,
/// and skipping it would hand the client a transfer with a hole in it:
/// the connection is closed instead, and nothing after it is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_stream_with_a_message_over_65535_octets_is_closed_not_skipped() {
    let server = start(config());
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let mut both = framed(&stream_request(3, 70_000));
    both.extend(framed(b"Eafter"));
    stream.write_all(&both).await.unwrap();
    let next = timeout(PROMPTLY, tcp_read(&mut stream))
        .await
        .expect("closed promptly");
    assert_eq!(next, None, "no message after the one too long");
    assert_eq!(server.handler.streamed.load(Ordering::Relaxed), 1);
    server.stop().await;
}

/// A client that asks for a transfer and does not read must not make the
/// server produce (and hold) the whole response: messages are produced as
/// the socket takes them, so what is produced stops at what the socket
/// buffers hold; then the idle timeout closes the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_stream_to_a_client_that_does_not_read_is_held_back_then_closed() {
    let server = start(with(config(), |c| {
        c.tcp_idle_timeout = Duration::from_millis(500)
    }));
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // 10,000 messages of 60,000 octets: 600 MB.
    stream
        .write_all(&framed(&stream_request(10_000, 60_000)))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let produced = server.handler.streamed.load(Ordering::Relaxed);
    // Loopback socket buffers hold a few megabytes: ~100 messages at most.
    assert!(
        produced > 0 && produced < 200,
        "{produced} messages produced"
    );
    // The write stalls, and the connection is closed after the timeout.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = server.handler.streamed.load(Ordering::Relaxed);
    assert!(after < 200, "{after} messages produced");
    let mut buf = vec![0u8; 1 << 20];
    let closed = timeout(PROMPTLY, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    })
    .await
    .unwrap_or(false);
    assert!(closed, "the stalled connection is closed");
    server.stop().await;
}

/// A client that reads, but too slowly to ever finish, is cut off after
/// the stream timeout even though each write completes within the idle
/// timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_stream_read_too_slowly_is_cut_off_after_the_stream_timeout() {
    let server = start(with(config(), |c| {
        c.tcp_idle_timeout = Duration::from_secs(5);
        c.tcp_stream_timeout = Duration::from_millis(700);
    }));
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(&framed(&stream_request(u32::MAX, 100)))
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    // About 1.3 MB/s: the socket buffers fill, then each write waits for
    // the client; what was buffered is still delivered before the close.
    let mut buf = vec![0u8; 65_536];
    let closed = loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        match timeout(PROMPTLY, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(_)) => {}
            Err(_) => break false,
        }
        if started.elapsed() > Duration::from_secs(10) {
            break false;
        }
    };
    assert!(closed, "cut off");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(600), "{elapsed:?}");
    let produced = server.handler.streamed.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.handler.streamed.load(Ordering::Relaxed), produced);
    server.stop().await;
}

/// A stream over UDP (a handler's mistake) sends its first message only:
/// a datagram carries one message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_stream_sends_only_its_first_message() {
    let server = start(config());
    let client = udp_client().await;
    let first = udp_ask(&client, server.addr, &stream_request(3, 20)).await;
    assert_eq!(&first[..5], b"S\0\0\0\0");
    assert_no_more_datagrams(&client).await;
    server.stop().await;
}

/// Shutdown does not wait for a transfer in progress to finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_a_stream_in_progress() {
    let server = start(config());
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(&framed(&stream_request(u32::MAX, 1000)))
        .await
        .unwrap();
    assert!(tcp_read(&mut stream).await.is_some());
    server.stop().await;
}
