//! The listener: where the server may listen (loopback unless told
//! otherwise), how many connections it holds at once, and how it stops.
//!
//! Shaped as mini-redis's: [`serve`] takes a bound listener and a shutdown
//! future (tests pass a oneshot, the binary Ctrl-C); at shutdown it stops
//! accepting, ends every event stream, and returns once every connection
//! has finished.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::Request;
use axum::http::header::HOST;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dnslab_resolver::events::EventBus;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tracing::{debug, info};

use crate::backend::{AuthControl, ResolverControl};
use crate::error::ApiError;
use crate::routes;
use crate::zones::ZoneLog;

/// Connections served at once. Each open page holds one event stream and
/// briefly one or two more connections, so 64 is a classroom of laptops
/// watching one `dnslab up`; beyond it, connections wait in the kernel's
/// backlog, so a runaway script cannot take the file descriptors the DNS
/// servers in the same process need.
pub const MAX_CONNECTIONS: usize = 64;

/// What the web server serves: the event bus, and the backends it has.
pub struct Web {
    pub(crate) bus: Arc<EventBus>,
    pub(crate) resolver: Option<Arc<dyn ResolverControl>>,
    pub(crate) auth: Option<Arc<dyn AuthControl>>,
    pub(crate) zone_log: Option<Arc<ZoneLog>>,
    pub(crate) allow_non_loopback: bool,
    pub(crate) max_connections: usize,
}

impl Web {
    /// A server showing the walks published on `bus`, with no backend yet.
    pub fn new(bus: Arc<EventBus>) -> Web {
        Web {
            bus,
            resolver: None,
            auth: None,
            zone_log: None,
            allow_non_loopback: false,
            max_connections: MAX_CONNECTIONS,
        }
    }

    /// The resolver behind `/api/ask`, `/api/cache`, `/api/flush*`.
    pub fn with_resolver(mut self, resolver: Arc<dyn ResolverControl>) -> Web {
        self.resolver = Some(resolver);
        self
    }

    /// The authoritative servers behind `/api/reload` and zone serials.
    pub fn with_auth(mut self, auth: Arc<dyn AuthControl>) -> Web {
        self.auth = Some(auth);
        self
    }

    /// The servers' NOTIFY and transfers, behind `/api/transfers`.
    pub fn with_zone_log(mut self, log: Arc<ZoneLog>) -> Web {
        self.zone_log = Some(log);
        self
    }

    /// Serve on a non-loopback address too. The control API has no
    /// authentication: anyone who reaches the port can flush the cache.
    pub fn allow_non_loopback(mut self, allow: bool) -> Web {
        self.allow_non_loopback = allow;
        self
    }

    /// Overrides [`MAX_CONNECTIONS`] (tests).
    pub fn max_connections(mut self, max: usize) -> Web {
        self.max_connections = max.max(1);
        self
    }
}

/// What every handler sees.
pub(crate) struct Shared {
    pub(crate) web: Web,
    /// Turns true at shutdown; event streams end on it.
    pub(crate) shutdown: watch::Receiver<bool>,
    pub(crate) started: Instant,
}

/// Why the web server could not start.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("will not serve the web page on {addr}: not a loopback address, and the control API has no authentication (allow it explicitly to do so anyway)")]
    NotLoopback { addr: SocketAddr },
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("web server: {0}")]
    Io(#[from] io::Error),
}

/// Binds `addr`, refusing a non-loopback address unless allowed.
pub async fn bind(addr: SocketAddr, allow_non_loopback: bool) -> Result<TcpListener, WebError> {
    check_loopback(addr, allow_non_loopback)?;
    TcpListener::bind(addr)
        .await
        .map_err(|source| WebError::Bind { addr, source })
}

fn check_loopback(addr: SocketAddr, allowed: bool) -> Result<(), WebError> {
    if allowed || addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(WebError::NotLoopback { addr })
    }
}

/// Serves until `shutdown` completes, then ends the event streams and
/// waits for every connection to finish.
pub async fn serve(
    listener: TcpListener,
    web: Web,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WebError> {
    let local = listener.local_addr()?;
    check_loopback(local, web.allow_non_loopback)?;
    let (stop, stopped) = watch::channel(false);
    let permits = Arc::new(Semaphore::new(web.max_connections));
    let shared = Arc::new(Shared {
        web,
        shutdown: stopped,
        started: Instant::now(),
    });
    info!(url = %format!("http://{local}/"), "web page");
    let listener = Limited { listener, permits };
    axum::serve(listener, routes::router(shared))
        .with_graceful_shutdown(async move {
            shutdown.await;
            debug!("web server shutting down");
            // Nobody listening means every stream has already ended.
            let _ = stop.send(true);
        })
        .await?;
    Ok(())
}

/// Refuses requests whose `Host` is not loopback: a site that makes its
/// own name resolve to 127.0.0.1 (DNS rebinding) would otherwise read the
/// page's API from the user's browser as if it were its own.
pub(crate) async fn loopback_host_only(request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(HOST)
        .and_then(|value| value.to_str().ok());
    match host {
        Some(host) if !is_loopback_host(host) => ApiError::new(
            StatusCode::FORBIDDEN,
            format!("host {host:?} is not loopback; open the page at http://127.0.0.1:PORT/ or http://localhost:PORT/"),
        )
        .into_response(),
        _ => next.run(request).await,
    }
}

/// `localhost`, `127.0.0.1:8053`, `[::1]:8053`...
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The TCP listener with a cap on connections held at once.
struct Limited {
    listener: TcpListener,
    permits: Arc<Semaphore>,
}

impl axum::serve::Listener for Limited {
    type Io = Counted;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Counted, SocketAddr) {
        // A slot first, then the connection: beyond the cap, clients wait
        // in the kernel's backlog instead of costing us anything. The
        // semaphore is never closed, so the permit is always there.
        let permit = self.permits.clone().acquire_owned().await.ok();
        let (stream, addr) = axum::serve::Listener::accept(&mut self.listener).await;
        // Event streams are many small writes, each wanted at once.
        let _ = stream.set_nodelay(true);
        (
            Counted {
                stream,
                _permit: permit,
            },
            addr,
        )
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// A connection holding its slot until it is dropped.
struct Counted {
    stream: TcpStream,
    _permit: Option<OwnedSemaphorePermit>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in [
            "localhost",
            "localhost:8053",
            "LOCALHOST.:8053",
            "127.0.0.1",
            "127.0.0.1:8053",
            "127.3.2.1:80",
            "[::1]:8053",
            "[::1]",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "example.com",
            "evil.example:8053",
            "10.0.0.1:8053",
            "[2001:db8::1]:80",
            "localhost.evil.example",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn only_loopback_unless_allowed() {
        let lan: SocketAddr = "192.0.2.1:8053".parse().unwrap();
        assert!(matches!(
            check_loopback(lan, false),
            Err(WebError::NotLoopback { .. })
        ));
        assert!(check_loopback(lan, true).is_ok());
        assert!(check_loopback("127.0.0.1:8053".parse().unwrap(), false).is_ok());
        assert!(check_loopback("[::1]:8053".parse().unwrap(), false).is_ok());
    }
}
