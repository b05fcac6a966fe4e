//! The HTTP server: our own accept loop over hyper's HTTP/1.1 connections,
//! so that every connection is bounded.
//!
//! * **Connection limit** (`--web.max-connections`, 512): the loop accepts
//!   only while fewer connections are open; the rest wait in the kernel's
//!   accept backlog (as Prometheus' own `--web.max-connections` does) and are
//!   served as soon as others close. An attacker holding every slot holds it
//!   for at most the header-read timeout.
//! * **Header-read timeout** (`--web.read-header-timeout`, 10 s): from accept,
//!   or from the first byte after an idle spell, to a complete request head;
//!   it also bounds the TLS handshake.
//! * **Idle timeout** (`--web.idle-timeout`, 90 s): between requests on a
//!   keep-alive connection, and the longest a client may stall reading a
//!   response. A handler itself is bounded by the probe's deadline, not here.
//! * **Request head** at most [`ServerOptions::max_header_bytes`] (431 above)
//!   and a request target (path and query) of at most
//!   [`ServerOptions::max_uri_bytes`] (414 above).
//!
//! HTTP/1.1 only (Prometheus scrapes over HTTP/1.1; `http2: true` in a web
//! config is accepted and served as HTTP/1.1).

mod conn;
pub mod front;

use crate::http::App;
use axum::Router;
use conn::{Activity, Expiry, GuardedBody, Timeouts, Watched};
use front::Front;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

/// The server's bounds; [`Default`] is what the flags default to.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    /// Accept to complete request head (also the TLS handshake).
    pub header_read_timeout: Duration,
    /// Keep-alive idle time, and the longest a response may stall.
    pub idle_timeout: Duration,
    /// Open connections at most; more wait in the accept backlog.
    pub max_connections: usize,
    /// Request line and headers together, at most (431 above).
    pub max_header_bytes: usize,
    /// Path and query, at most (414 above).
    pub max_uri_bytes: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(90),
            max_connections: 512,
            max_header_bytes: 16 * 1024,
            max_uri_bytes: 8 * 1024,
        }
    }
}

/// Counters of the server, for `/metrics`.
#[derive(Debug, Default)]
pub struct ServerStats {
    open: AtomicU64,
    limit: AtomicU64,
    accepted: AtomicU64,
    timed_out: [AtomicU64; 3],
    unauthorized: AtomicU64,
}

/// One reading of [`ServerStats`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCounts {
    /// Connections open now.
    pub open: u64,
    /// `--web.max-connections` (0 before the server starts).
    pub limit: u64,
    /// Connections accepted since start.
    pub accepted: u64,
    /// Connections closed by a timeout, by phase label
    /// (`header`, `idle`, `write`).
    pub timed_out: Vec<(&'static str, u64)>,
    /// Requests answered 401.
    pub unauthorized: u64,
}

const EXPIRIES: [Expiry; 3] = [Expiry::Header, Expiry::Idle, Expiry::Write];

impl ServerStats {
    /// The current counts.
    pub fn read(&self) -> ServerCounts {
        ServerCounts {
            open: self.open.load(Ordering::Relaxed),
            limit: self.limit.load(Ordering::Relaxed),
            accepted: self.accepted.load(Ordering::Relaxed),
            timed_out: EXPIRIES
                .iter()
                .zip(&self.timed_out)
                .map(|(e, n)| (e.label(), n.load(Ordering::Relaxed)))
                .collect(),
            unauthorized: self.unauthorized.load(Ordering::Relaxed),
        }
    }

    fn timed_out(&self, why: Expiry) {
        let index = EXPIRIES.iter().position(|e| *e == why).unwrap_or(0);
        self.timed_out[index].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn unauthorized(&self) {
        self.unauthorized.fetch_add(1, Ordering::Relaxed);
    }
}

/// TLS and the request-level checks of `--web.config.file`; [`Default`] is
/// plain HTTP with neither.
#[derive(Clone, Default)]
pub struct Security {
    /// Serve HTTPS with this.
    pub tls: Option<TlsAcceptor>,
    /// Basic auth, open paths and extra headers.
    pub front: Front,
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Security")
            .field("tls", &self.tls.is_some())
            .field("front", &self.front)
            .finish()
    }
}

/// What every connection task shares.
struct Shared {
    router: Router,
    options: ServerOptions,
    tls: Option<TlsAcceptor>,
    front: Front,
    stats: Arc<ServerStats>,
    http1: http1::Builder,
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops
/// accepting, closes idle connections at once, lets requests in flight
/// finish and returns when every connection is closed. The caller bounds
/// that wait.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    options: ServerOptions,
    security: Security,
    shutdown: impl Future<Output = ()>,
) {
    let stats = app.metrics.server_stats();
    let max = options
        .max_connections
        .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
    stats.limit.store(max as u64, Ordering::Relaxed);
    let mut front = security.front;
    front.max_uri_bytes = options.max_uri_bytes;
    front.stats = stats.clone();
    let shared = Arc::new(Shared {
        router: crate::http::router(app),
        options,
        tls: security.tls,
        front,
        stats,
        http1: http1_builder(&options),
    });
    let slots = Arc::new(Semaphore::new(max));
    let (closing_tx, closing) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener, &slots) => accepted,
        };
        let Some((stream, peer, slot)) = accepted else {
            continue;
        };
        shared.stats.accepted.fetch_add(1, Ordering::Relaxed);
        shared.stats.open.fetch_add(1, Ordering::Relaxed);
        let (shared, closing) = (shared.clone(), closing.clone());
        tokio::spawn(async move {
            connection(stream, peer, &shared, closing).await;
            shared.stats.open.fetch_sub(1, Ordering::Relaxed);
            drop(slot);
        });
    }
    drop(listener);
    let _ = closing_tx.send(true);
    // Every slot back means every connection task has ended.
    let _all = slots.acquire_many(max as u32).await;
}

fn http1_builder(options: &ServerOptions) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // The watchdog (conn.rs) times the head instead, from the first byte.
        .header_read_timeout(None)
        .max_header_size(options.max_header_bytes)
        // Read buffer: a head that does not fit is a 431 before it completes.
        .max_buf_size((options.max_header_bytes * 2).max(8192));
    builder
}

/// Waits for a free slot, then for a connection. `None` after an accept
/// error, which is logged (and, when out of file descriptors, waited out).
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> Option<(TcpStream, SocketAddr, tokio::sync::OwnedSemaphorePermit)> {
    let slot = slots.clone().acquire_owned().await.ok()?;
    match listener.accept().await {
        Ok((stream, peer)) => Some((stream, peer, slot)),
        Err(e) => {
            // EMFILE/ENFILE: the connection stays in the backlog; retrying at
            // once would spin. Other errors (a reset before accept) are the
            // peer's.
            tracing::warn!(error = %e, "cannot accept a connection");
            tokio::time::sleep(Duration::from_millis(100)).await;
            None
        }
    }
}

/// One connection: TLS handshake (bounded by the header timeout), then HTTP.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
    closing: watch::Receiver<bool>,
) {
    let accepted = Instant::now();
    let _ = stream.set_nodelay(true);
    let activity = Activity::new(accepted);
    tracing::trace!(%peer, "connection accepted");
    let Some(acceptor) = &shared.tls else {
        return http(stream, peer, activity, shared, closing).await;
    };
    let deadline = accepted + shared.options.header_read_timeout;
    match tokio::time::timeout_at(deadline, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => http(tls, peer, activity, shared, closing).await,
        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
        Err(_) => {
            tracing::debug!(%peer, "connection closed: no TLS handshake in time");
            shared.stats.timed_out(Expiry::Header);
        }
    }
}

/// Serves HTTP/1.1 on `io` until the client closes, a phase times out, or
/// shutdown (idle: at once; busy: after the response).
async fn http<I>(
    io: I,
    peer: SocketAddr,
    activity: Arc<Activity>,
    shared: &Shared,
    mut closing: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = {
        let (router, front, activity) = (
            shared.router.clone(),
            shared.front.clone(),
            activity.clone(),
        );
        hyper::service::service_fn(move |request| {
            let guard = activity.request();
            let (router, front) = (router.clone(), front.clone());
            async move {
                let response = front.handle(router, request).await;
                Ok::<_, std::convert::Infallible>(
                    response.map(|body| GuardedBody::new(body, guard)),
                )
            }
        })
    };
    let io = TokioIo::new(Watched::new(io, activity.clone()));
    let conn = shared.http1.serve_connection(io, service);
    tokio::pin!(conn);
    let timeouts = Timeouts {
        header: shared.options.header_read_timeout,
        idle: shared.options.idle_timeout,
    };
    let expired = activity.expired(timeouts);
    tokio::pin!(expired);
    let mut draining = *closing.borrow();
    loop {
        if draining && !activity.is_busy() {
            tracing::trace!(%peer, "idle connection closed: shutting down");
            return;
        }
        tokio::select! {
            result = conn.as_mut() => {
                match result {
                    Ok(()) => tracing::trace!(%peer, "connection closed"),
                    Err(e) => tracing::debug!(%peer, error = %e, "connection closed"),
                }
                return;
            }
            why = &mut expired => {
                tracing::debug!(%peer, timeout = why.label(), "connection closed: timed out");
                shared.stats.timed_out(why);
                return;
            }
            changed = closing.changed(), if !draining => {
                draining = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}
