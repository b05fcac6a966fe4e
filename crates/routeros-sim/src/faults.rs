//! Fault injection switches and per-router statistics.
//!
//! [`Faults`] is plain data (JSON over the control endpoint); a router reads the
//! current set at each decision point, so switching faults takes effect on the
//! next command without reconnecting.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Default reason of the over-limit `!fatal`.
pub const TOO_MANY_SESSIONS: &str = "too many sessions";

/// What a router does with a connection beyond its session limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverLimit {
    /// Accept the TCP connection and close it at once.
    Close,
    /// Answer the first sentence with `!fatal <reason>`, then close.
    Fatal(String),
}

impl Default for OverLimit {
    fn default() -> Self {
        OverLimit::Fatal(TOO_MANY_SESSIONS.to_owned())
    }
}

/// Faults a router injects. All fields default to "off"; durations are
/// milliseconds. Unless noted, faults apply to commands after login.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Delay before the first reply sentence of every command.
    pub latency_ms: u64,
    /// When non-zero, every write (login included) is cut into chunks of this many
    /// bytes with `drip_delay_ms` between them.
    pub drip_chunk_bytes: usize,
    /// Pause between drip-feed chunks.
    pub drip_delay_ms: u64,
    /// Keep reading but never answer commands after login.
    pub hang: bool,
    /// Never answer `/login` either.
    pub hang_login: bool,
    /// Answer `/login` with one sentence starting with this reply word (e.g.
    /// `!future`) and nothing else: no `!done` ever follows.
    pub login_unknown_reply: Option<String>,
    /// Answer `/login` with an endless stream of `!re` sentences (until the
    /// client closes), never `!done`.
    pub login_re_flood: bool,
    /// Send the first `!re` of a reply, then close the socket.
    pub drop_mid_reply: bool,
    /// Answer commands with `!fatal <reason>` and close.
    pub fatal: Option<String>,
    /// Answer commands with bytes starting with reserved control bytes (0xF8..).
    pub garbage: bool,
    /// Answer commands with a word prefix announcing a 4 GiB word.
    pub huge_word: bool,
    /// Reject every login with `invalid user name or password (6)`.
    pub auth_failure: bool,
    /// Accept TCP connections and close them immediately: what a RouterOS
    /// service restricted with `/ip service set … address=` does to a source
    /// outside its list ("access to the service is denied", the TCP handshake
    /// still succeeds).
    pub refuse: bool,
    /// Overrides the router's session limit.
    pub max_sessions: Option<usize>,
    /// Overrides the router's over-limit behaviour.
    pub over_limit: Option<OverLimit>,
    /// On the API-SSL port, answer the ClientHello with a handshake_failure alert
    /// (what an anonymous-DH-only RouterOS API-SSL service does to rustls).
    pub anon_dh_only: bool,
    /// Menus the logged-in user may not read (a restricted group policy):
    /// a command whose path starts with one of these answers
    /// `!trap =message=not enough permissions (9)`. An entry may also name one
    /// command (`/interface/lte/info`, which RouterOS 6 allows only with the
    /// `test` policy) and deny just that.
    pub denied_menus: Vec<String>,
}

impl Faults {
    /// Whether the user may not run `path`, a menu or a command (see
    /// [`Faults::denied_menus`]).
    pub fn denies(&self, path: &str) -> bool {
        self.denied_menus.iter().any(|prefix| {
            path.strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }
}

/// A snapshot of a router's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// TCP (or TLS) connections accepted, including refused and over-limit ones.
    pub connections_accepted: u64,
    /// Sessions currently open (counted against the session limit).
    pub connections_open: u64,
    /// Successful logins.
    pub logins_ok: u64,
    /// Rejected logins.
    pub logins_failed: u64,
    /// Commands received, by their first word (`/interface/print`).
    pub commands: BTreeMap<String, u64>,
    /// `/cancel` commands received.
    pub cancels: u64,
    /// Bytes received from clients.
    pub bytes_received: u64,
    /// Bytes sent to clients.
    pub bytes_sent: u64,
}

/// The live counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct StatsCounters {
    pub connections_accepted: AtomicU64,
    pub connections_open: AtomicU64,
    pub logins_ok: AtomicU64,
    pub logins_failed: AtomicU64,
    pub commands: Mutex<BTreeMap<String, u64>>,
    pub cancels: AtomicU64,
    pub bytes_received: AtomicU64,
    pub bytes_sent: AtomicU64,
}

impl StatsCounters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n` to `counter`.
    pub fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Counts one command by its first word.
    pub fn count_command(&self, command: &str) {
        let mut commands = self
            .commands
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match commands.get_mut(command) {
            Some(n) => *n += 1,
            None => {
                commands.insert(command.to_owned(), 1);
            }
        }
    }

    /// A consistent-enough snapshot.
    pub fn snapshot(&self) -> Stats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            connections_accepted: load(&self.connections_accepted),
            connections_open: load(&self.connections_open),
            logins_ok: load(&self.logins_ok),
            logins_failed: load(&self.logins_failed),
            commands: self
                .commands
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
            cancels: load(&self.cancels),
            bytes_received: load(&self.bytes_received),
            bytes_sent: load(&self.bytes_sent),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_json_uses_defaults_and_rejects_unknown_fields() {
        let f: Faults = serde_json::from_str(r#"{"latency_ms": 250, "fatal": "boom"}"#).unwrap();
        assert_eq!(f.latency_ms, 250);
        assert_eq!(f.fatal.as_deref(), Some("boom"));
        assert!(!f.hang);
        assert!(serde_json::from_str::<Faults>(r#"{"latency": 1}"#).is_err());
        let f: Faults = serde_json::from_str(r#"{"over_limit": "close"}"#).unwrap();
        assert_eq!(f.over_limit, Some(OverLimit::Close));
        let f: Faults = serde_json::from_str(r#"{"over_limit": {"fatal": "x"}}"#).unwrap();
        assert_eq!(f.over_limit, Some(OverLimit::Fatal("x".into())));
    }

    #[test]
    fn a_denied_entry_names_a_menu_or_one_command() {
        let f = Faults {
            denied_menus: vec!["/interface/lte/info".into(), "/ppp".into()],
            ..Faults::default()
        };
        assert!(f.denies("/interface/lte/info"));
        assert!(!f.denies("/interface/lte/print") && !f.denies("/interface/lte"));
        assert!(f.denies("/ppp/active/print") && f.denies("/ppp"));
        assert!(!f.denies("/pppoe/print"));
    }

    #[test]
    fn commands_are_counted_by_path() {
        let c = StatsCounters::default();
        c.count_command("/login");
        c.count_command("/interface/print");
        c.count_command("/interface/print");
        let s = c.snapshot();
        assert_eq!(s.commands.get("/interface/print"), Some(&2));
        assert_eq!(s.commands.get("/login"), Some(&1));
    }
}
