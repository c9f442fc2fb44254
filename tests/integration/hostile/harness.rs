//! Running a real [`Server`] on loopback for one test, with a configuration
//! the test chooses (short timeouts, small caps), and stopping it when the
//! test ends, even by panic.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use dnslab_authoritative::{AuthOptions, AuthServer, ZoneSource};
use dnslab_transport::{Handler, Server, ServerConfig};
use tokio::sync::oneshot;

use crate::common::repo_path;

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
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("test runtime");
        runtime
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

/// The authoritative server on zones/example.com.zone, as `dnslab auth`
/// would serve it, with the test's transport limits.
pub fn start_example_auth(config: ServerConfig) -> Running {
    let zone = ZoneSource {
        origin: None,
        path: repo_path("zones/example.com.zone"),
    };
    let server = AuthServer::load(vec![zone], AuthOptions::default()).expect("example zone loads");
    serve(server.handler(), config)
}
