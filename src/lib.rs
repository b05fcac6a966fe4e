//! routeros-exporter: a blackbox-style Prometheus exporter for MikroTik RouterOS.
//!
//! The data path is layered: the `routeros` crate (the API client) → [`collect`]
//! (metric groups) → [`probe`] (module plan, deadline, state, rendering) → `http`.
pub mod collect;
pub mod config;
pub mod http;
pub mod logging;
pub mod probe;
pub mod self_metrics;
