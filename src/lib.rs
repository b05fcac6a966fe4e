//! routeros-exporter: a blackbox-style Prometheus exporter for MikroTik RouterOS.
pub mod routeros;
pub mod sim;
