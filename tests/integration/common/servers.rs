//! Servers for the length of one test: any handler served on loopback by a
//! runtime of its own, and the random shared port on which a hierarchy of
//! servers on several 127.x.y.z addresses is started.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use dnslab_transport::{Handler, Server, ServerConfig};
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
    let addr = server.local_addrs()[0];
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        test_runtime()
            .block_on(server.run(handler, async move {
                let _ = stopped.await;
            }))
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
