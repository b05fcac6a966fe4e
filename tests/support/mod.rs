//! Helpers shared by the integration tests, one module per job. Each test crate
//! includes them with `#[allow(dead_code)] mod support;` (no crate uses every
//! helper).

pub mod exposition;
pub mod group;
pub mod harness;
pub mod http;
pub mod menus;
pub mod net;
pub mod process;
