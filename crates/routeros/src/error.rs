//! The typed errors of the RouterOS client.

use crate::codec::ProtocolError;
use std::sync::Arc;
use std::time::Duration;

/// Everything that can go wrong talking to a router.
///
/// Errors are `Clone` because one session failure (EOF, `!fatal`, a protocol
/// violation) must be delivered to every command in flight on that session.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// TCP connect failed.
    #[error("connect to {address}: {source}")]
    Connect {
        /// Address dialled.
        address: String,
        /// The underlying I/O error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The deadline passed before the operation finished.
    #[error("timed out after {0:?} ({1})")]
    Timeout(Duration, &'static str),
    /// Reading or writing the socket failed.
    #[error("i/o error: {0}")]
    Io(#[source] Arc<std::io::Error>),
    /// The router closed the connection.
    #[error("connection closed by router")]
    Eof,
    /// The router broke the wire protocol.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// The TLS handshake or configuration failed.
    #[error("tls: {0}")]
    Tls(String),
    /// The router rejected the credentials; carries its message verbatim.
    #[error("login failed: {message}")]
    Auth {
        /// The router's trap message, e.g. `invalid user name or password (6)`.
        message: String,
    },
    /// The command failed with `!trap` (the first trap; `more` counts the others).
    #[error("router trap: {message}{}", further_traps(.more))]
    Trap {
        /// The router's `=message=` verbatim.
        message: String,
        /// `=category=` when the router sent one.
        category: Option<u8>,
        /// Further traps the command received before `!done`.
        more: Vec<String>,
    },
    /// The router sent `!fatal` and closed the session.
    #[error("router closed the session: {0}")]
    Fatal(String),
    /// A reply word this client does not understand.
    #[error("unknown reply word {0}")]
    UnknownReply(String),
    /// The command's reply exceeded the per-command byte limit.
    #[error("reply exceeded the {0}-byte limit")]
    ReplyTooLarge(usize),
    /// The session failed earlier and cannot run commands.
    #[error("session unusable: {0}")]
    SessionFailed(Arc<Error>),
    /// The pool is waiting out a reconnect backoff that ends after the deadline.
    #[error("reconnect backoff for {retry_in:?} after: {last}")]
    Backoff {
        /// Time until the next connection attempt is allowed.
        retry_in: Duration,
        /// The error that started the backoff.
        last: Arc<Error>,
    },
    /// A command was issued without a logged-in session.
    #[error("no logged-in RouterOS session")]
    NoSession,
}

impl Error {
    /// Wraps an I/O error.
    pub fn io(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::UnexpectedEof => Error::Eof,
            _ => Error::Io(Arc::new(e)),
        }
    }

    /// True for a trap saying the menu or command does not exist on this router
    /// (missing package, older/newer RouterOS, or a policy hiding it).
    pub fn is_missing_menu(&self) -> bool {
        match self {
            Error::Trap { message, more, .. } => std::iter::once(message)
                .chain(more)
                .any(|m| m.contains("no such command")),
            _ => false,
        }
    }

    /// The innermost error, looking through [`Error::SessionFailed`].
    pub fn root(&self) -> &Error {
        match self {
            Error::SessionFailed(inner) => inner.root(),
            other => other,
        }
    }
}

fn further_traps(more: &[String]) -> String {
    more.iter().map(|m| format!("; {m}")).collect()
}

/// Client result type.
pub type Result<T> = std::result::Result<T, Error>;
