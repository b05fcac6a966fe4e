//! routeros-exporter: a blackbox-style Prometheus exporter for MikroTik RouterOS.
pub mod config;
pub mod routeros;
pub mod sim;
