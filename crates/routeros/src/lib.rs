#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod codec;
pub mod command;
pub mod connection;
pub mod error;
pub mod file;
pub mod login;
pub mod pool;
pub mod reply;
pub mod session;
pub mod text;
pub mod tls;

pub use codec::{ProtocolError, Sentence, SizeLimits};
pub use command::Command;
pub use error::{Error, Result};
pub use pool::{Endpoint, Pool, PoolConfig, PoolKey, PoolStats};
pub use reply::{Reply, ReplyKind, Row};
pub use session::{CommandStream, Session, SessionOptions};
pub use tls::TlsSettings;
