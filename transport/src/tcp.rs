//! TCP (RFC 7766): the accept loop, and one task per connection that reads
//! length-prefixed messages (RFC 1035 4.2.2), answers each as it completes,
//! and closes idle or stalled connections. A multi-message answer (a zone
//! transfer, [`crate::Reply::Stream`]) is written message by message, each
//! produced only once the previous one is written, within
//! `tcp_stream_timeout` in all.
//!
//! Connection cap: when `tcp_max_connections` are open (over all
//! addresses), each address's accept loop holds the one connection it has
//! just accepted until another closes (as mini-redis waits before
//! accepting). Further clients wait in the kernel's backlog. All are served
//! as slots free, which the idle timeout guarantees within
//! `tcp_idle_timeout`; none is refused.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::{sleep_until, timeout, Instant};
use tracing::{debug, warn};

use crate::server::Shared;
use crate::{MessageStream, Protocol, Reply, RequestMeta};

/// The length prefix of every message on a DNS TCP stream.
const PREFIX: usize = 2;

/// Read at least this much per system call when the buffer has room.
const READ_CHUNK: usize = 4096;

/// After a failed `accept` (out of file descriptors, mostly), wait this long
/// before the next, so that the loop does not spin while nothing can change.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Accepts connections until shutdown, while the server has fewer than
/// `tcp_max_connections` open (over all its addresses).
pub(crate) async fn accept_loop(listener: TcpListener, local: SocketAddr, shared: Arc<Shared>) {
    let shutdown = shared.on_shutdown();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                debug!(%local, error = %e, "TCP accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        // Accept, then wait for a slot: a slot taken before `accept` would
        // sit idle on a quiet address while another address's clients wait.
        let permit = tokio::select! {
            permit = Arc::clone(&shared.tcp_slots).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break, // never closed
            },
            () = &mut shutdown => break,
        };
        debug!(client = %peer, %local, "TCP connection accepted");
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let _permit = permit;
            connection(stream, peer, local, shared).await;
        });
    }
    drop(listener);
    debug!(%local, "TCP listener closed");
}

/// Why a connection ended, for the log.
#[derive(Debug)]
enum Closed {
    /// The client closed its side and every answer was sent.
    ByPeer,
    /// No complete message within `tcp_idle_timeout` (RFC 7766 6.2.3).
    Idle,
    /// A zero length prefix: nothing valid can follow.
    ZeroLength,
    /// A write did not complete within `tcp_idle_timeout`: the client does
    /// not read its answers.
    WriteStalled,
    /// A multi-message response was not written within
    /// `tcp_stream_timeout`: the client reads too slowly to ever finish.
    StreamTooSlow,
    /// A message of a multi-message response longer than a length prefix
    /// can say: skipping it would leave a hole in the stream (a zone
    /// transfer missing records), so the stream ends there.
    StreamMessageTooLong(usize),
    Shutdown,
    Io(io::Error),
}

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Closed::ByPeer => f.write_str("closed by peer"),
            Closed::Idle => f.write_str("idle timeout"),
            Closed::ZeroLength => f.write_str("zero-length message"),
            Closed::WriteStalled => f.write_str("peer does not read its answers"),
            Closed::StreamTooSlow => f.write_str("peer reads a multi-message answer too slowly"),
            Closed::StreamMessageTooLong(len) => {
                write!(
                    f,
                    "a {len}-byte message of a multi-message answer cannot be sent"
                )
            }
            Closed::Shutdown => f.write_str("server shutting down"),
            Closed::Io(e) => write!(f, "{e}"),
        }
    }
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    shared: Arc<Shared>,
) {
    // Answers go out one write each; Nagle would hold the second of two
    // pipelined answers until the first is acknowledged.
    if let Err(e) = stream.set_nodelay(true) {
        debug!(client = %peer, error = %e, "TCP_NODELAY");
    }
    let meta = RequestMeta {
        peer,
        local,
        protocol: Protocol::Tcp,
    };
    let mut connection = Connection::new(&mut stream, meta, &shared);
    let closed = connection.serve().await;
    // Deferred answers still running are abandoned, and waited for, so
    // that nothing of this connection outlives `Server::run`.
    connection.in_flight.shutdown().await;
    debug!(client = %peer, %local, reason = %closed, "TCP connection closed");
    // Close the socket before `shared` goes (see `server`).
    drop(stream);
    drop(shared);
}

/// One connection's state: its buffers are reused for every message.
struct Connection<'a> {
    stream: &'a mut TcpStream,
    meta: RequestMeta,
    shared: &'a Shared,
    /// Completes at server shutdown; every wait of the connection races it.
    shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// Bytes read and not yet consumed; `start` is where the next message's
    /// length prefix begins.
    read: Vec<u8>,
    start: usize,
    /// The handler's response buffer.
    response: Vec<u8>,
    /// Length prefix and answer, written with one call.
    write: Vec<u8>,
    /// Deferred answers of this connection, completing in any order
    /// (RFC 7766 6.2.1.1).
    in_flight: JoinSet<Option<Vec<u8>>>,
    /// When the connection counts as idle: reset by each complete message
    /// and each answer sent, not by partial reads, so a client trickling
    /// bytes is cut off as surely as a silent one.
    deadline: Instant,
    /// The client has closed its sending side.
    eof: bool,
}

/// What woke the connection up.
enum Event {
    Answer(Option<Vec<u8>>),
    Read(io::Result<usize>),
}

impl<'a> Connection<'a> {
    fn new(stream: &'a mut TcpStream, meta: RequestMeta, shared: &'a Shared) -> Self {
        Connection {
            stream,
            meta,
            shared,
            shutdown: Box::pin(shared.on_shutdown()),
            read: Vec::with_capacity(READ_CHUNK),
            start: 0,
            response: Vec::new(),
            write: Vec::new(),
            in_flight: JoinSet::new(),
            deadline: Instant::now() + shared.config.tcp_idle_timeout,
            eof: false,
        }
    }

    fn touch(&mut self) {
        self.deadline = Instant::now() + self.shared.config.tcp_idle_timeout;
    }

    async fn serve(&mut self) -> Closed {
        loop {
            if let Err(closed) = self.answer_buffered().await {
                return closed;
            }
            if let Err(closed) = self.wait().await {
                return closed;
            }
        }
    }

    /// Waits for the next thing to do: a deferred answer to send, bytes to
    /// read. Ends the connection on shutdown, idleness, or when the client
    /// has closed and every answer is out.
    async fn wait(&mut self) -> Result<(), Closed> {
        let idle = self.in_flight.is_empty();
        if self.eof && idle {
            return Err(Closed::ByPeer);
        }
        let can_read = !self.eof && self.in_flight.len() < self.max_pipelined();
        if can_read {
            self.make_room();
        }
        let event = tokio::select! {
            () = &mut self.shutdown => return Err(Closed::Shutdown),
            // An error is a deferred future that panicked: it loses its answer only.
            Some(joined) = self.in_flight.join_next(), if !idle => Event::Answer(joined.ok().flatten()),
            read = self.stream.read_buf(&mut self.read), if can_read => Event::Read(read),
            // Idle only with nothing in flight (RFC 7766 6.2.3).
            () = sleep_until(self.deadline), if idle => return Err(Closed::Idle),
        };
        match event {
            Event::Answer(Some(answer)) => self.send(Outgoing::Deferred(&answer)).await,
            Event::Answer(None) => Ok(()),
            Event::Read(Ok(0)) => {
                self.eof = true;
                Ok(())
            }
            Event::Read(Ok(_)) => Ok(()),
            Event::Read(Err(e)) => Err(Closed::Io(e)),
        }
    }

    fn max_pipelined(&self) -> usize {
        self.shared.config.tcp_max_pipelined.max(1)
    }

    /// Answers every complete message in the read buffer, until the
    /// connection's limit of deferred answers is reached.
    async fn answer_buffered(&mut self) -> Result<(), Closed> {
        while self.in_flight.len() < self.max_pipelined() {
            let Some(len) = self.next_length() else {
                return Ok(());
            };
            if len == 0 {
                return Err(Closed::ZeroLength);
            }
            let end = self.start + PREFIX + len;
            let Some(message) = self.read.get(self.start + PREFIX..end) else {
                return Ok(()); // not all here yet
            };
            self.response.clear();
            let reply = self
                .shared
                .handler
                .handle(message, &self.meta, &mut self.response);
            self.start = end;
            self.touch();
            match reply {
                Reply::Send => self.send(Outgoing::Response).await?,
                Reply::Drop => {}
                Reply::Stream(stream) => self.send_stream(stream).await?,
                Reply::Deferred(future) => {
                    // The server-wide cap: wait for a slot rather than drop
                    // the query, since a TCP client will not retry.
                    let permit = tokio::select! {
                        permit = Arc::clone(&self.shared.deferred).acquire_owned() => permit,
                        () = &mut self.shutdown => return Err(Closed::Shutdown),
                    };
                    self.in_flight.spawn(async move {
                        let _permit = permit;
                        future.await
                    });
                }
            }
        }
        Ok(())
    }

    /// The length prefix at `start`, if both bytes have arrived.
    fn next_length(&self) -> Option<usize> {
        match self.read.get(self.start..self.start + PREFIX)? {
            &[hi, lo] => Some(usize::from(u16::from_be_bytes([hi, lo]))),
            _ => None,
        }
    }

    /// Drops consumed bytes and makes sure a read has room for the rest of
    /// the current message (at most 64 KiB), so `read_buf` never has to
    /// grow the buffer by small steps.
    fn make_room(&mut self) {
        if self.start > 0 {
            self.read.drain(..self.start);
            self.start = 0;
        }
        let wanted = self.next_length().map_or(0, |len| PREFIX + len);
        let missing = wanted.saturating_sub(self.read.len()).max(READ_CHUNK);
        self.read.reserve(missing);
    }

    /// Writes one answer with its length prefix (RFC 1035 4.2.2). A client
    /// that does not read gets `tcp_idle_timeout` to drain, then is closed.
    async fn send(&mut self, outgoing: Outgoing<'_>) -> Result<(), Closed> {
        let answer = match outgoing {
            Outgoing::Response => &self.response[..],
            Outgoing::Deferred(answer) => answer,
        };
        let Ok(len) = u16::try_from(answer.len()) else {
            warn!(client = %self.meta.peer, len = answer.len(), "answer longer than 65535 bytes; not sent");
            return Ok(());
        };
        self.write.clear();
        self.write.extend_from_slice(&len.to_be_bytes());
        self.write.extend_from_slice(answer);
        let limit = self.shared.config.tcp_idle_timeout;
        tokio::select! {
            written = timeout(limit, self.stream.write_all(&self.write)) => match written {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(Closed::Io(e)),
                Err(_) => return Err(Closed::WriteStalled),
            },
            () = &mut self.shutdown => return Err(Closed::Shutdown),
        }
        self.touch();
        Ok(())
    }
}

impl Connection<'_> {
    /// Writes every message of a multi-message response in order, asking
    /// for each only once the previous one is written (the backpressure of
    /// [`crate::MessageStream`]). Nothing else is read or sent meanwhile:
    /// RFC 7766 6.2.1.1 lets answers come in any order, and those of
    /// queries pipelined behind a transfer follow it.
    async fn send_stream(&mut self, mut stream: Box<dyn MessageStream>) -> Result<(), Closed> {
        let limit = Instant::now() + self.shared.config.tcp_stream_timeout;
        loop {
            self.response.clear();
            if !stream.next_message(&mut self.response) {
                return Ok(());
            }
            if u16::try_from(self.response.len()).is_err() {
                return Err(Closed::StreamMessageTooLong(self.response.len()));
            }
            tokio::select! {
                sent = self.send(Outgoing::Response) => sent?,
                () = sleep_until(limit) => return Err(Closed::StreamTooSlow),
            }
        }
    }
}

/// Which bytes [`Connection::send`] writes: the handler's response buffer,
/// or a deferred answer.
enum Outgoing<'b> {
    Response,
    Deferred(&'b [u8]),
}
