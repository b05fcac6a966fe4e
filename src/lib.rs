//! routeros-exporter: a blackbox-style Prometheus exporter for MikroTik RouterOS.
//!
//! The data path is layered: the `routeros` crate (the API client) → [`collect`]
//! (metric groups) → [`probe`] (module plan, deadline, state, rendering) → `http`.
#![warn(missing_docs)]
pub mod collect;
pub mod config;
pub mod http;
pub mod logging;
pub mod memory;
pub mod probe;
