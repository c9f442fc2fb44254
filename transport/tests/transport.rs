//! End-to-end tests of the transport: a real [`Server`] on 127.0.0.1 port 0
//! with a toy handler, and clients on real sockets.
//!
//! The toy handler reads the first byte of a request as a command:
//! `E` echo the request inline, `D` drop it, `L` echo it later (a
//! [`Reply::Deferred`] that sleeps for the second byte × 10 ms), `P` panic.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dnslab_transport::{
    Handler, Protocol, Reply, RequestMeta, Server, ServerConfig, TransportError,
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
            Some(b'P') => panic!("toy handler asked to panic"),
            _ => Reply::Drop,
        }
    }
}

/// A served [`Server`] and the means to stop it.
struct Running {
    addr: SocketAddr,
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
    assert_eq!(addrs.len(), 1);
    let handler = Arc::new(Toy::default());
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(server.run(handler.clone(), shutdown));
    Running {
        addr: addrs[0],
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_round_trip_echoes_inline_answer() {
    let server = start(config());
    let client = udp_client().await;
    assert_eq!(udp_ask(&client, server.addr, b"Ehello").await, b"Ehellou");
    assert_eq!(server.handler.calls.load(Ordering::Relaxed), 1);
    server.stop().await;
}

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
