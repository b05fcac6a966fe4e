//! routeros-exporter: a blackbox-style Prometheus exporter for MikroTik RouterOS.
pub mod collect;
pub mod probe;
pub mod routeros;
pub mod sim;
