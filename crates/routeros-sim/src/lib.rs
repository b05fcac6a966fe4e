//! `routeros-sim`: simulated RouterOS routers speaking the binary API, the test
//! bed for the client, the exporter's `--demo` mode and the benchmarks.
//!
//! # Model
//!
//! A [`Simulator`] runs one or more routers. Each router is a TCP listener (plus an
//! optional API-SSL listener with a self-signed certificate) that implements the
//! RouterOS API the way a real router does:
//!
//! * no banner; `/login` first (plain `=name=`/`=password=`, or the MD5 challenge
//!   on pre-6.43 personalities); anything else before login gets the bare-word
//!   `!fatal not logged in` and the connection closes;
//! * every command runs in its own task, so tagged commands interleave at sentence
//!   granularity; each reply sentence carries the command's `.tag` (position per
//!   [`TagPosition`]);
//! * `<menu>/print` (alias `getall`) with `.proplist`, query words (see [`query`]),
//!   `=count-only=`, `!empty` on 7.18+; `monitor` with `=once=` or streaming until
//!   `/cancel`; unknown menus answer with the two traps real routers send;
//! * `/quit` → `!fatal session terminated on request`; a session limit with a
//!   configurable over-limit behaviour ([`OverLimit`]).
//!
//! The data comes from [`menus`]: each [`menus::Menu`] renders rows from a
//! [`menus::RouterView`] (personality, scale, uptime). Static menus are cached per
//! router together with their encoded `!re` sentences, so very large tables stream
//! at memory-copy speed.
//!
//! # Faults and observation
//!
//! [`Faults`] switch misbehaviour on at runtime (latency, drip-feed, hangs,
//! mid-reply drops, `!fatal`, garbage bytes, huge word prefixes, auth failure,
//! refused connections, session limits, anonymous-DH-only TLS);
//! [`RouterHandle::reboot`] closes all connections and restarts uptime; [`Stats`]
//! count connections, logins, commands and bytes;
//! [`RouterHandle::start_capture`] records the request sentences a router
//! receives as raw wire bytes (see [`capture`]), for benchmarks that replay them.
//! The same controls are served over HTTP by [`Simulator::serve_control`] (see
//! [`control`]).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use routeros_sim::{RouterConfig, SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig { routers: vec![RouterConfig::v7("r1")] }).await?;
//! let r1 = sim.router("r1").expect("configured");
//! println!("api at {}", r1.addr());
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod capture;
pub mod control;
pub mod faults;
pub mod login;
pub mod menus;
pub mod personality;
pub mod query;
pub mod server;
pub mod tls;
pub mod wire;

mod commands;
mod connection;
mod router;

pub use capture::Captured;
pub use faults::{Faults, OverLimit, Stats};
pub use personality::{BareLogin, Personality, Version};
pub use server::{RouterHandle, Simulator};
use std::time::Duration;
pub use wire::TagPosition;

use menus::Scale;
use std::net::{IpAddr, Ipv4Addr};

/// Default session limit (RouterOS `/ip service` `max-sessions`).
pub const DEFAULT_MAX_SESSIONS: usize = 20;

/// The routers a [`Simulator`] runs.
#[derive(Debug, Clone, Default)]
pub struct SimConfig {
    /// One entry per simulated router.
    pub routers: Vec<RouterConfig>,
}

/// One simulated router.
#[derive(Debug, Clone)]
pub struct RouterConfig {
    /// Router name (also its `/system/identity`).
    pub name: String,
    /// Which RouterOS it pretends to be.
    pub personality: Personality,
    /// The only user that may log in.
    pub username: String,
    /// That user's password.
    pub password: String,
    /// How much data it holds.
    pub scale: Scale,
    /// Address the listeners bind to (default 127.0.0.1).
    pub bind_ip: IpAddr,
    /// API port; 0 picks an ephemeral port.
    pub port: u16,
    /// API-SSL port: `None` for no TLS listener, `Some(0)` for an ephemeral one.
    pub tls_port: Option<u16>,
    /// Where `.tag` goes in replies.
    pub tag_position: TagPosition,
    /// Sessions allowed at once.
    pub max_sessions: usize,
    /// What happens to a connection over the limit.
    pub over_limit: OverLimit,
    /// Faults active from the start.
    pub faults: Faults,
    /// Uptime the router reports when the simulator starts (as if it had booted
    /// that long ago); a reboot restarts from zero.
    pub initial_uptime: Duration,
}

impl RouterConfig {
    /// A RouterOS 7.16 router named `name`: user `admin`, empty password,
    /// ephemeral port on 127.0.0.1, no TLS.
    pub fn v7(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            personality: Personality::v7(),
            username: "admin".to_owned(),
            password: String::new(),
            scale: Scale::default(),
            bind_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            tls_port: None,
            tag_position: TagPosition::default(),
            max_sessions: DEFAULT_MAX_SESSIONS,
            over_limit: OverLimit::default(),
            faults: Faults::default(),
            initial_uptime: Duration::ZERO,
        }
    }

    /// Like [`RouterConfig::v7`] with a RouterOS 6.49.10 personality.
    pub fn v6(name: impl Into<String>) -> Self {
        Self {
            personality: Personality::v6(),
            ..Self::v7(name)
        }
    }

    /// Same router with another version.
    pub fn with_version(mut self, version: Version) -> Self {
        self.personality = Personality::for_version(version);
        self
    }
}
