//! Servers for the length of one test: any handler served on loopback by a
//! runtime of its own, hand-written UDP servers for upstreams that must
//! misbehave exactly, and the random shared port on which a hierarchy of
//! servers on several 127.x.y.z addresses is started.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use dnslab_authoritative::{AuthOptions, AuthServer, ZoneSource};
use dnslab_transport::{Handler, Server, ServerConfig};
use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use tokio::sync::oneshot;

/// A server serving on its own runtime thread until dropped.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// A configuration on 127.0.0.1, port 0, with one UDP worker (the machine
/// has two cores shared by every test).
pub fn loopback_config() -> ServerConfig {
    let mut config = ServerConfig::new(vec!["127.0.0.1:0".parse().expect("loopback address")]);
    config.udp_workers = 1;
    config
}

/// Binds `config` and serves `handler` on a runtime of its own.
pub fn serve(handler: Arc<dyn Handler>, config: ServerConfig) -> Running {
    let server = Server::bind(config).expect("bind test server");
    serve_bound(server, handler, None)
}

/// Serves `handler` on `server`, already bound, on a runtime of its own;
/// with `auth`, its transfer and NOTIFY tasks run there too.
pub fn serve_bound(server: Server, handler: Arc<dyn Handler>, auth: Option<AuthServer>) -> Running {
    let addr = server.local_addrs()[0];
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        test_runtime()
            .block_on(async move {
                let _tasks = auth.map(|auth| auth.spawn_tasks());
                server
                    .run(handler, async move {
                        let _ = stopped.await;
                    })
                    .await
            })
            .expect("server stops cleanly");
    });
    Running {
        addr,
        stop: Some(stop),
        thread: Some(thread),
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A server that panicked already failed the test through the
            // client; do not panic again while unwinding.
            let _ = thread.join();
        }
    }
}

/// An [`AuthServer`] on zone files, serving on loopback until dropped; the
/// server itself is kept for tests that reload it.
pub struct ServedAuth {
    pub addr: SocketAddr,
    pub auth: AuthServer,
    _running: Running,
}

impl ServedAuth {
    pub fn zones(sources: Vec<ZoneSource>) -> ServedAuth {
        ServedAuth::with_options(sources, AuthOptions::default())
    }

    pub fn with_options(sources: Vec<ZoneSource>, options: AuthOptions) -> ServedAuth {
        ServedAuth::with_config(sources, options, loopback_config())
    }

    /// With the test's transport limits in `config`.
    pub fn with_config(
        sources: Vec<ZoneSource>,
        options: AuthOptions,
        config: ServerConfig,
    ) -> ServedAuth {
        let auth = AuthServer::load(sources, options).expect("zones load");
        ServedAuth::serve(auth, config)
    }

    /// A server built from a whole configuration (transfer rules, keys).
    pub fn from_config(config: dnslab_authoritative::AuthConfig) -> ServedAuth {
        let auth = AuthServer::new(config).expect("zones load");
        ServedAuth::serve(auth, loopback_config())
    }

    /// A server from a whole configuration on `server`, already bound (so
    /// that its address could go into another server's configuration),
    /// with its transfer and NOTIFY tasks running.
    pub fn with_tasks(config: dnslab_authoritative::AuthConfig, server: Server) -> ServedAuth {
        let auth = AuthServer::new(config).expect("zones load");
        let running = serve_bound(server, auth.handler(), Some(auth.clone()));
        ServedAuth {
            addr: running.addr,
            auth,
            _running: running,
        }
    }

    fn serve(auth: AuthServer, config: ServerConfig) -> ServedAuth {
        let running = serve(auth.handler(), config);
        ServedAuth {
            addr: running.addr,
            auth,
            _running: running,
        }
    }
}

/// zones/example.com.zone, the README's example zone, as `dnslab auth
/// --zone zones/example.com.zone` gives it (origin from the file).
pub fn example_com_zone() -> ZoneSource {
    ZoneSource {
        origin: None,
        path: crate::common::repo_path("zones/example.com.zone"),
    }
}

/// A runtime for servers under test: two workers, as the machine has two
/// cores shared by every test running in parallel.
pub fn test_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("test runtime")
}

/// A random port below the kernel's ephemeral range (32768-60999), so no
/// client socket of another test holds it by chance.
pub fn random_port() -> u16 {
    rand::random_range(10_000..32_000)
}

/// How many random ports [`on_a_random_port`] tries before it gives up.
const PORT_ATTEMPTS: usize = 20;

/// Starts `what` with `start` on random ports until it returns `Some`.
///
/// Servers that share one port on several 127.x.y.z addresses (a hierarchy,
/// or the README's layout) cannot bind port 0; tests starting them in
/// parallel differ by port instead. `start` returns `None` when the port is
/// taken (EADDRINUSE, or a child process that exited saying so) and panics
/// on any other failure.
pub fn on_a_random_port<T>(what: &str, mut start: impl FnMut(u16) -> Option<T>) -> T {
    for _attempt in 0..PORT_ATTEMPTS {
        if let Some(started) = start(random_port()) {
            return started;
        }
    }
    panic!("no free port for {what} after {PORT_ATTEMPTS} attempts");
}

/// A hand-written UDP server on a thread of its own, for upstreams that
/// must misbehave exactly (lie, stay silent, spoof). Stopped and joined on
/// drop.
pub struct FakeUdp {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeUdp {
    /// How often the thread looks at its stop flag while no query comes.
    const POLL: Duration = Duration::from_millis(100);

    /// Serves on `socket`: `answer` gets every query that decodes, with the
    /// peer and the socket to reply from (or not to reply at all); what
    /// does not decode is dropped.
    pub fn spawn(
        socket: UdpSocket,
        mut answer: impl FnMut(&Message, SocketAddr, &UdpSocket) + Send + 'static,
    ) -> FakeUdp {
        socket
            .set_read_timeout(Some(FakeUdp::POLL))
            .expect("set timeout");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65535];
            while !stopped.load(Ordering::Acquire) {
                // A timeout, or an error a test's traffic may cause: look
                // at the stop flag and read again.
                let Ok((len, peer)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                if let Some(query) = buf.get(..len).and_then(|b| Message::from_vec(b).ok()) {
                    answer(&query, peer, &socket);
                }
            }
        });
        FakeUdp {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for FakeUdp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A response to `query` with its ID and question, AA set: what a fake
/// authoritative server starts every answer from.
pub fn response_to(query: &Message, rcode: ResponseCode) -> Message {
    let mut msg = Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
    msg.metadata.authoritative = true;
    msg.metadata.response_code = rcode;
    msg.add_queries(query.queries.clone());
    msg
}

/// Unbound (Debian's package) on 127.0.0.1 and a random port, with a
/// scratch directory for its files; stopped on drop. Field order: the
/// process before its directory.
pub struct Unbound {
    pub addr: SocketAddr,
    _process: crate::common::Process,
    _dir: crate::common::ScratchDir,
}

impl Unbound {
    /// Starts `program` with the settings every test shares (one thread,
    /// loopback clients, loopback servers allowed, no daemon, no chroot, no
    /// remote control) plus `settings(dir)`: more `server:` lines, then any
    /// other clauses. Ready once it answers `probe`.
    pub fn start(
        program: &std::path::Path,
        settings: impl Fn(&std::path::Path) -> String,
        probe: &Message,
    ) -> Unbound {
        on_a_random_port("unbound", |port| {
            let dir = crate::common::ScratchDir::new("unbound");
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let conf = dir.join("unbound.conf");
            let d = dir.display();
            std::fs::write(
                &conf,
                format!(
                    "remote-control:\n    control-enable: no\n\
                     server:\n    interface: 127.0.0.1@{port}\n    port: {port}\n    do-ip6: no\n\
                     \x20   access-control: 127.0.0.0/8 allow\n    do-not-query-localhost: no\n\
                     \x20   chroot: \"\"\n    username: \"\"\n    directory: \"{d}\"\n    pidfile: \"\"\n\
                     \x20   logfile: \"{d}/unbound.log\"\n    use-syslog: no\n    do-daemonize: no\n\
                     \x20   num-threads: 1\n{}",
                    settings(&dir)
                ),
            )
            .expect("write unbound.conf");
            let mut process = crate::common::Process::spawn(
                std::process::Command::new(program)
                    .arg("-d")
                    .arg("-c")
                    .arg(&conf)
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null()),
            );
            process.poll(Duration::from_secs(20), || {
                crate::common::udp_message(addr, probe, Duration::from_millis(500))
            })?;
            Some(Unbound {
                addr,
                _process: process,
                _dir: dir,
            })
        })
    }
}
