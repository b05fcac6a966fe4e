//! Session pool: one multiplexed, logged-in session per router by default.
//!
//! Keeping sessions is what makes us light on routers: no login (and no
//! "user logged in via api" log line) per scrape. The pool is keyed by
//! (address, username, TLS settings) and guarantees that what it hands out is in a
//! known state:
//!
//! * failed sessions are dropped; sessions with an abandoned command still draining
//!   get a short grace period and are otherwise retired;
//! * a session idle for longer than `validate_after_idle` is checked with a cheap
//!   `/system/identity/print` first, and replaced transparently (one retry) if the
//!   router silently went away;
//! * failed connects and logins start a bounded exponential backoff, and a caller
//!   whose deadline ends before the next allowed attempt gets [`Error::Backoff`] at
//!   once instead of being held.

use crate::command::Command;
use crate::connection::{TlsConnect, connect};
use crate::error::{Error, Result};
use crate::login::login;
use crate::session::{Counters, Session, SessionOptions};
use crate::tls::TlsSettings;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Where and as whom to log in.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host:port` of the API service.
    pub address: String,
    /// API user name.
    pub username: String,
    /// API password (never logged or displayed).
    pub password: String,
    /// API-SSL settings; `None` for the plain API.
    pub tls: Option<TlsSettings>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("address", &self.address)
            .field("username", &self.username)
            .field("password", &"<secret>")
            .field("tls", &self.tls)
            .finish()
    }
}

impl Endpoint {
    /// The pool key of this endpoint.
    pub fn key(&self) -> PoolKey {
        PoolKey {
            address: self.address.clone(),
            username: self.username.clone(),
            tls: self.tls.clone(),
            credential: credential_digest(&self.password),
        }
    }
}

impl std::fmt::Debug for PoolKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolKey")
            .field("address", &self.address)
            .field("username", &self.username)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

/// A digest of the password, salted per process, so that two targets with the
/// same router and user but different passwords never share a session (the
/// wrong password must fail its own login), while the key itself reveals nothing
/// useful about the password.
fn credential_digest(password: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    static SALT: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    let salt = SALT.get_or_init(rand::random);
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(password.as_bytes());
    hasher.finalize().into()
}

/// Identity of a pool entry.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PoolKey {
    /// `host:port`.
    pub address: String,
    /// API user name.
    pub username: String,
    /// TLS settings, if any.
    pub tls: Option<TlsSettings>,
    /// Salted digest of the password (see [`Endpoint::key`]).
    credential: [u8; 32],
}

/// Pool tunables.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    /// Sessions per key. With 1 (the default) every command shares one
    /// multiplexed session; with more, a new session is opened when all are busy.
    pub max_sessions: usize,
    /// Sessions unused this long are closed.
    pub idle_timeout: Duration,
    /// Sessions unused this long are validated before reuse.
    pub validate_after_idle: Duration,
    /// Upper bound of a validation round trip.
    pub validate_timeout: Duration,
    /// How long to wait for an abandoned command's `!done` before retiring its
    /// session.
    pub drain_grace: Duration,
    /// First reconnect backoff after a failed connect or login.
    pub backoff_initial: Duration,
    /// Largest reconnect backoff.
    pub backoff_max: Duration,
    /// Options for each session.
    pub session: SessionOptions,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_sessions: 1,
            idle_timeout: Duration::from_secs(300),
            validate_after_idle: Duration::from_secs(60),
            validate_timeout: Duration::from_secs(2),
            drain_grace: Duration::from_millis(250),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(15),
            session: SessionOptions::default(),
        }
    }
}

/// Why the pool closed a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The session failed (EOF, I/O error, `!fatal`, protocol error).
    Failed,
    /// Unused for longer than the idle timeout.
    Idle,
    /// An abandoned command did not drain in time.
    Interrupted,
    /// The validation round trip failed.
    ValidationFailed,
    /// The target was removed or changed (reload).
    Removed,
    /// The exporter is shutting down.
    Shutdown,
}

impl CloseReason {
    /// All reasons, in metric order.
    pub const ALL: [CloseReason; 6] = [
        CloseReason::Failed,
        CloseReason::Idle,
        CloseReason::Interrupted,
        CloseReason::ValidationFailed,
        CloseReason::Removed,
        CloseReason::Shutdown,
    ];

    /// A short snake_case name for the reason (a metric label value).
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Failed => "failed",
            CloseReason::Idle => "idle",
            CloseReason::Interrupted => "interrupted",
            CloseReason::ValidationFailed => "validation_failed",
            CloseReason::Removed => "removed",
            CloseReason::Shutdown => "shutdown",
        }
    }
}

/// Counters of one pool entry (for the exporter's self metrics).
#[derive(Debug, Default)]
struct EntryStats {
    opened: AtomicU64,
    closed: [AtomicU64; 6],
    logins_ok: AtomicU64,
    logins_failed: AtomicU64,
    connect_failures: AtomicU64,
    traffic: Arc<Counters>,
}

/// A point-in-time copy of an entry's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Sessions opened (connected and logged in).
    pub sessions_opened: u64,
    /// Sessions closed, by [`CloseReason::ALL`] order.
    pub sessions_closed: [u64; 6],
    /// Successful logins.
    pub logins_ok: u64,
    /// Rejected logins.
    pub logins_failed: u64,
    /// Failed connection attempts (TCP, TLS or timeout before login).
    pub connect_failures: u64,
    /// Commands sent.
    pub commands: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Bytes received.
    pub bytes_received: u64,
    /// Sessions currently pooled.
    pub sessions_open: usize,
    /// Pooled sessions with at least one command in flight.
    pub sessions_busy: usize,
    /// Commands currently in flight on pooled sessions.
    pub commands_in_flight: usize,
}

impl PoolStats {
    /// Sessions closed for `reason`.
    pub fn closed(&self, reason: CloseReason) -> u64 {
        let i = CloseReason::ALL
            .iter()
            .position(|r| *r == reason)
            .unwrap_or_default();
        self.sessions_closed[i]
    }
}

struct Backoff {
    failures: u32,
    until: Instant,
    last: Arc<Error>,
}

#[derive(Default)]
struct EntryState {
    sessions: Vec<Session>,
    backoff: Option<Backoff>,
    tls: Option<(TlsSettings, TlsConnect)>,
}

struct Entry {
    state: tokio::sync::Mutex<EntryState>,
    stats: EntryStats,
    /// Snapshot of open sessions, readable without the async lock.
    open: Mutex<Vec<Session>>,
}

/// Per-target overrides of [`PoolConfig::max_sessions`] and
/// [`PoolConfig::idle_timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointLimits {
    /// Sessions kept for the key.
    pub max_sessions: usize,
    /// Idle sessions are closed after this long.
    pub idle_timeout: Duration,
}

/// The session pool. Share it with `Arc`.
pub struct Pool {
    config: PoolConfig,
    entries: Mutex<HashMap<PoolKey, Arc<Entry>>>,
    limits: Mutex<HashMap<PoolKey, EndpointLimits>>,
}

impl Pool {
    /// An empty pool.
    pub fn new(config: PoolConfig) -> Self {
        Self {
            config,
            entries: Mutex::new(HashMap::new()),
            limits: Mutex::new(HashMap::new()),
        }
    }

    /// Overrides the session count and idle timeout for one key (a target's
    /// `sessions:` settings).
    pub fn set_limits(&self, key: PoolKey, limits: EndpointLimits) {
        self.limits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, limits);
    }

    fn limits_for(&self, key: &PoolKey) -> EndpointLimits {
        self.limits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .copied()
            .unwrap_or(EndpointLimits {
                max_sessions: self.config.max_sessions,
                idle_timeout: self.config.idle_timeout,
            })
    }

    /// The configuration in force.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    fn entry(&self, key: PoolKey) -> Arc<Entry> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .entry(key)
            .or_insert_with(|| {
                Arc::new(Entry {
                    state: tokio::sync::Mutex::new(EntryState::default()),
                    stats: EntryStats::default(),
                    open: Mutex::new(Vec::new()),
                })
            })
            .clone()
    }

    /// A logged-in session for `endpoint`, reused when possible, before `deadline`.
    pub async fn acquire(&self, endpoint: &Endpoint, deadline: Instant) -> Result<Session> {
        let allowed = deadline.saturating_duration_since(Instant::now());
        let entry = self.entry(endpoint.key());
        let mut state = tokio::time::timeout_at(deadline, entry.state.lock())
            .await
            .map_err(|_| Error::Timeout(allowed, "waiting for the target's session pool"))?;
        let result = self
            .acquire_locked(&entry, &mut state, endpoint, deadline)
            .await;
        publish(&entry, &state);
        result
    }

    async fn acquire_locked(
        &self,
        entry: &Entry,
        state: &mut EntryState,
        endpoint: &Endpoint,
        deadline: Instant,
    ) -> Result<Session> {
        let now = Instant::now();
        let stats = &entry.stats;
        let limits = self.limits_for(&endpoint.key());
        state.sessions.retain(|s| {
            let keep_reason = if !s.is_healthy() {
                Some(CloseReason::Failed)
            } else if s.in_flight() == 0
                && now.duration_since(s.last_used()) > self.config.idle_timeout
            {
                quit_in_background(s.clone());
                Some(CloseReason::Idle)
            } else {
                None
            };
            if let Some(reason) = keep_reason {
                count_close(stats, reason);
            }
            keep_reason.is_none()
        });

        // Prefer the least busy session whose state is fully known.
        state.sessions.sort_by_key(Session::in_flight);
        let mut busy_fallback = None;
        let mut i = 0;
        while i < state.sessions.len() {
            let session = state.sessions[i].clone();
            if !session.is_reusable() {
                let until = deadline.min(Instant::now() + self.config.drain_grace);
                if !session.wait_drained(until).await {
                    state.sessions.remove(i);
                    count_close(stats, CloseReason::Interrupted);
                    continue;
                }
            }
            if session.in_flight() > 0 && state.sessions.len() < limits.max_sessions {
                busy_fallback.get_or_insert(session);
                i += 1;
                continue;
            }
            if Instant::now().duration_since(session.last_used()) > self.config.validate_after_idle
                && !self.validate(&session, deadline).await
            {
                state.sessions.remove(i);
                count_close(stats, CloseReason::ValidationFailed);
                continue;
            }
            return Ok(session);
        }

        match self.open(entry, state, endpoint, deadline).await {
            Ok(session) => {
                state.sessions.push(session.clone());
                Ok(session)
            }
            Err(e) => busy_fallback.ok_or(e),
        }
    }

    async fn validate(&self, session: &Session, deadline: Instant) -> bool {
        let until = deadline.min(Instant::now() + self.config.validate_timeout);
        let ping = Command::new("/system/identity/print").proplist(&["name"]);
        match session.done(&ping, until).await {
            Ok(_) => true,
            Err(e) => {
                tracing::debug!(session = session.id(), error = %e, "pooled session failed validation");
                session.poison(e);
                false
            }
        }
    }

    async fn open(
        &self,
        entry: &Entry,
        state: &mut EntryState,
        endpoint: &Endpoint,
        deadline: Instant,
    ) -> Result<Session> {
        if let Some(backoff) = &state.backoff {
            let now = Instant::now();
            if backoff.until > now {
                if backoff.until >= deadline {
                    return Err(Error::Backoff {
                        retry_in: backoff.until - now,
                        last: backoff.last.clone(),
                    });
                }
                tokio::time::sleep_until(backoff.until).await;
            }
        }
        let stats = &entry.stats;
        let result = self
            .connect_and_login(stats, state, endpoint, deadline)
            .await;
        match &result {
            Ok(session) => {
                state.backoff = None;
                stats.opened.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(address = %endpoint.address, session = session.id(), "session opened");
            }
            Err(e) => {
                let failures = state.backoff.as_ref().map_or(0, |b| b.failures) + 1;
                let delay = self
                    .config
                    .backoff_initial
                    .saturating_mul(1 << (failures - 1).min(16))
                    .min(self.config.backoff_max);
                state.backoff = Some(Backoff {
                    failures,
                    until: Instant::now() + delay,
                    last: Arc::new(e.clone()),
                });
                tracing::debug!(address = %endpoint.address, error = %e, ?delay, "connect failed; backing off");
            }
        }
        result
    }

    async fn connect_and_login(
        &self,
        stats: &EntryStats,
        state: &mut EntryState,
        endpoint: &Endpoint,
        deadline: Instant,
    ) -> Result<Session> {
        let tls = match &endpoint.tls {
            None => None,
            Some(settings) => Some(match &state.tls {
                Some((cached, connect)) if cached == settings => connect.clone(),
                _ => {
                    let connect = TlsConnect {
                        settings: settings.clone(),
                        config: settings.client_config()?,
                    };
                    state.tls = Some((settings.clone(), connect.clone()));
                    connect
                }
            }),
        };
        let transport = match connect(&endpoint.address, tls.as_ref(), deadline).await {
            Ok(t) => t,
            Err(e) => {
                stats.connect_failures.fetch_add(1, Ordering::Relaxed);
                return Err(e);
            }
        };
        let session = Session::start(transport, self.config.session, stats.traffic.clone());
        match login(&session, &endpoint.username, &endpoint.password, deadline).await {
            Ok(_) => {
                stats.logins_ok.fetch_add(1, Ordering::Relaxed);
                Ok(session)
            }
            Err(e) => {
                if matches!(e, Error::Auth { .. }) {
                    stats.logins_failed.fetch_add(1, Ordering::Relaxed);
                } else {
                    stats.connect_failures.fetch_add(1, Ordering::Relaxed);
                }
                session.poison(e.clone());
                Err(e)
            }
        }
    }

    /// Counters of the entry for `key` (zeros if it never existed).
    pub fn stats(&self, key: &PoolKey) -> PoolStats {
        let entry = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries.get(key).cloned()
        };
        entry.map(|e| snapshot(&e)).unwrap_or_default()
    }

    /// Closes and forgets every entry whose key `keep` rejects (config reload).
    pub fn retain(&self, mut keep: impl FnMut(&PoolKey) -> bool) {
        self.limits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|k, _| keep(k));
        let removed: Vec<Arc<Entry>> = {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            let gone: Vec<PoolKey> = entries.keys().filter(|k| !keep(k)).cloned().collect();
            gone.iter().filter_map(|k| entries.remove(k)).collect()
        };
        for entry in removed {
            for session in open_sessions(&entry) {
                count_close(&entry.stats, CloseReason::Removed);
                quit_in_background(session);
            }
        }
    }

    /// Sends `/quit` on every pooled session and waits for them until `until`.
    pub async fn shutdown(&self, until: Instant) {
        let entries: Vec<Arc<Entry>> = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries.values().cloned().collect()
        };
        let mut quits = tokio::task::JoinSet::new();
        for entry in entries {
            for session in open_sessions(&entry) {
                count_close(&entry.stats, CloseReason::Shutdown);
                quits.spawn(async move { session.quit(until).await });
            }
        }
        while quits.join_next().await.is_some() {}
    }
}

fn count_close(stats: &EntryStats, reason: CloseReason) {
    let i = CloseReason::ALL
        .iter()
        .position(|r| *r == reason)
        .unwrap_or_default();
    stats.closed[i].fetch_add(1, Ordering::Relaxed);
}

fn publish(entry: &Entry, state: &EntryState) {
    if let Ok(mut open) = entry.open.lock() {
        open.clone_from(&state.sessions);
    }
}

fn open_sessions(entry: &Entry) -> Vec<Session> {
    entry
        .open
        .lock()
        .map(|mut open| std::mem::take(&mut *open))
        .unwrap_or_default()
}

fn snapshot(entry: &Entry) -> PoolStats {
    let s = &entry.stats;
    let open = entry.open.lock().map(|o| o.clone()).unwrap_or_default();
    let live: Vec<&Session> = open.iter().filter(|s| s.is_healthy()).collect();
    PoolStats {
        sessions_opened: s.opened.load(Ordering::Relaxed),
        sessions_closed: std::array::from_fn(|i| s.closed[i].load(Ordering::Relaxed)),
        logins_ok: s.logins_ok.load(Ordering::Relaxed),
        logins_failed: s.logins_failed.load(Ordering::Relaxed),
        connect_failures: s.connect_failures.load(Ordering::Relaxed),
        commands: s.traffic.commands.load(Ordering::Relaxed),
        bytes_sent: s.traffic.bytes_sent.load(Ordering::Relaxed),
        bytes_received: s.traffic.bytes_received.load(Ordering::Relaxed),
        sessions_open: live.len(),
        sessions_busy: live.iter().filter(|s| s.in_flight() > 0).count(),
        commands_in_flight: live.iter().map(|s| s.in_flight()).sum(),
    }
}

fn quit_in_background(session: Session) {
    tokio::spawn(async move {
        session.quit(Instant::now() + Duration::from_secs(2)).await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(password: &str) -> Endpoint {
        Endpoint {
            address: "127.0.0.1:8728".into(),
            username: "admin".into(),
            password: password.into(),
            tls: None,
        }
    }

    #[test]
    fn keys_differ_by_password_without_showing_it() {
        assert_eq!(endpoint("a").key(), endpoint("a").key());
        assert_ne!(endpoint("a").key(), endpoint("b").key());
        let shown = format!("{:?} {:?}", endpoint("hunter2").key(), endpoint("hunter2"));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
