//! The RouterOS API client: wire codec → connection → session (login, tags) → pool.
//!
//! This layer knows nothing about Prometheus or HTTP; it moves sentences to and from
//! routers and reports failures as typed [`Error`]s.

pub mod codec;
pub mod command;
pub mod error;
pub mod reply;
pub mod text;

pub use codec::{Limits, ProtocolError, Sentence};
pub use command::Command;
pub use error::{Error, Result};
pub use reply::{Reply, ReplyKind, Row};
