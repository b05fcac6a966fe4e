//! `routeros-sim`: a simulated RouterOS router (or many), the test bed for the
//! client, the exporter's `--demo` mode and the benchmarks.

pub mod menus;
pub mod personality;
