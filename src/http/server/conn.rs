//! One HTTP/1.1 connection under a watchdog.
//!
//! hyper's own `header_read_timeout` starts again as soon as a keep-alive
//! connection goes idle, so it cannot tell "slow headers" (10 s) from "idle
//! between scrapes" (90 s). Instead the connection's reads and writes and the
//! requests it carries move it through phases, each with its own deadline:
//!
//! | phase | begins | deadline |
//! |---|---|---|
//! | `Head` | accept, or the first byte after an idle spell | header-read timeout |
//! | `Handling` | the request's head is parsed | none: the probe's own deadline bounds it |
//! | `Responding` | the handler returned | idle timeout since the client last took bytes |
//! | `Idle` | the response body is done | idle timeout |
//!
//! When the deadline passes the connection is dropped (closed) without a
//! response: a client that has not finished its headers has no request to
//! answer.

use axum::body::Body;
use axum::body::Bytes;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

/// Why the watchdog closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// The request head did not arrive in time (slowloris, a bare connection).
    Header,
    /// No request arrived on a keep-alive connection.
    Idle,
    /// The client stopped reading the response.
    Write,
}

impl Expiry {
    /// The `phase` label of `routeros_exporter_http_connections_timed_out_total`.
    pub fn label(self) -> &'static str {
        match self {
            Expiry::Header => "header",
            Expiry::Idle => "idle",
            Expiry::Write => "write",
        }
    }
}

/// The deadlines of [`Activity`].
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// From accept (or the first byte after idling) to a complete request head.
    pub header: Duration,
    /// Between requests, and the longest a client may stall reading a response.
    pub idle: Duration,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Head(Instant),
    Handling,
    Responding,
    Idle(Instant),
}

#[derive(Debug)]
struct State {
    phase: Phase,
    /// Requests whose response is not finished (at most 1 with HTTP/1.1; a
    /// count all the same, so a pipelined request cannot confuse it).
    requests: usize,
    /// Bytes arrived while a request was being answered: the next request's
    /// head has started, so the connection goes to `Head`, not `Idle`.
    pending: bool,
    /// When the client last accepted response bytes.
    last_write: Instant,
}

/// What one connection is doing, shared by its IO wrapper, its requests and
/// its watchdog.
#[derive(Debug)]
pub struct Activity {
    state: Mutex<State>,
    changed: Notify,
}

impl Activity {
    /// A connection accepted at `accepted`: its head is due first.
    pub fn new(accepted: Instant) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                phase: Phase::Head(accepted),
                requests: 0,
                pending: false,
                last_write: accepted,
            }),
            changed: Notify::new(),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves plain data behind: keep going.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn bytes_read(&self) {
        let mut state = self.state();
        match state.phase {
            Phase::Idle(_) => {
                state.phase = Phase::Head(Instant::now());
                drop(state);
                self.changed.notify_one();
            }
            Phase::Handling | Phase::Responding => state.pending = true,
            Phase::Head(_) => {}
        }
    }

    fn bytes_written(&self) {
        self.state().last_write = Instant::now();
    }

    /// A request head was parsed; the returned guard ends the request when the
    /// response body is finished or dropped.
    pub fn request(self: &Arc<Self>) -> RequestGuard {
        {
            let mut state = self.state();
            state.requests += 1;
            state.phase = Phase::Handling;
        }
        self.changed.notify_one();
        RequestGuard {
            activity: self.clone(),
        }
    }

    fn responding(&self) {
        let mut state = self.state();
        state.last_write = Instant::now();
        if matches!(state.phase, Phase::Handling) {
            state.phase = Phase::Responding;
        }
        drop(state);
        self.changed.notify_one();
    }

    fn request_done(&self) {
        let mut state = self.state();
        state.requests = state.requests.saturating_sub(1);
        if state.requests == 0 {
            let now = Instant::now();
            state.phase = if std::mem::take(&mut state.pending) {
                Phase::Head(now)
            } else {
                Phase::Idle(now)
            };
        }
        drop(state);
        self.changed.notify_one();
    }

    /// True while a request is being answered: shutting down must let it finish.
    pub fn is_busy(&self) -> bool {
        self.state().requests > 0
    }

    fn deadline(&self, timeouts: Timeouts) -> Option<(Instant, Expiry)> {
        let state = self.state();
        match state.phase {
            Phase::Head(since) => Some((since + timeouts.header, Expiry::Header)),
            Phase::Idle(since) => Some((since + timeouts.idle, Expiry::Idle)),
            Phase::Responding => Some((state.last_write + timeouts.idle, Expiry::Write)),
            Phase::Handling => None,
        }
    }

    /// Resolves when the current phase outlives its deadline.
    pub async fn expired(&self, timeouts: Timeouts) -> Expiry {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            // Registered before the state is read, so no change is missed.
            notified.as_mut().enable();
            match self.deadline(timeouts) {
                Some((at, why)) if at <= Instant::now() => return why,
                Some((at, _)) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = notified => {}
                    }
                }
                None => notified.await,
            }
        }
    }
}

/// Ends a request on drop (see [`Activity::request`]).
#[derive(Debug)]
pub struct RequestGuard {
    activity: Arc<Activity>,
}

impl RequestGuard {
    /// The handler returned: from now on the client must keep reading.
    pub fn responding(&self) {
        self.activity.responding();
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.activity.request_done();
    }
}

/// A response body that holds its request open until hyper has taken the
/// last frame (or dropped it: the client went away).
pub struct GuardedBody {
    inner: Body,
    _guard: RequestGuard,
}

impl GuardedBody {
    /// `inner`, ending `guard`'s request with it.
    pub fn new(inner: Body, guard: RequestGuard) -> Self {
        guard.responding();
        Self {
            inner,
            _guard: guard,
        }
    }
}

impl http_body::Body for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The connection's byte stream, reporting reads and writes to its
/// [`Activity`].
pub struct Watched<I> {
    inner: I,
    activity: Arc<Activity>,
}

impl<I> Watched<I> {
    /// Wraps `inner`.
    pub fn new(inner: I, activity: Arc<Activity>) -> Self {
        Self { inner, activity }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_read();
        }
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.bytes_written();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.bytes_written();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = Timeouts {
        header: Duration::from_secs(10),
        idle: Duration::from_secs(90),
    };

    #[tokio::test(start_paused = true)]
    async fn phases_have_their_deadlines() {
        let start = Instant::now();
        let a = Activity::new(start);
        assert_eq!(a.deadline(T), Some((start + T.header, Expiry::Header)));
        let guard = a.request();
        assert_eq!(a.deadline(T), None, "a handler runs as long as it needs");
        assert!(a.is_busy());
        tokio::time::advance(Duration::from_secs(5)).await;
        guard.responding();
        let responding = Instant::now();
        assert_eq!(a.deadline(T), Some((responding + T.idle, Expiry::Write)));
        drop(guard);
        assert!(!a.is_busy());
        let idle = Instant::now();
        assert_eq!(a.deadline(T), Some((idle + T.idle, Expiry::Idle)));
        tokio::time::advance(Duration::from_secs(30)).await;
        a.bytes_read();
        assert_eq!(
            a.deadline(T),
            Some((Instant::now() + T.header, Expiry::Header)),
            "the first byte after idling starts the header clock"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn bytes_during_a_request_start_the_next_head() {
        let a = Activity::new(Instant::now());
        let guard = a.request();
        a.bytes_read();
        drop(guard);
        assert!(matches!(a.deadline(T), Some((_, Expiry::Header))));
    }

    #[tokio::test(start_paused = true)]
    async fn expired_waits_for_the_phase_deadline() {
        let a = Activity::new(Instant::now());
        let guard = a.request();
        let waiting = {
            let a = a.clone();
            tokio::spawn(async move { a.expired(T).await })
        };
        tokio::time::advance(Duration::from_secs(3_600)).await;
        assert!(!waiting.is_finished(), "no deadline while handling");
        drop(guard);
        assert_eq!(waiting.await.ok(), Some(Expiry::Idle));
    }
}
