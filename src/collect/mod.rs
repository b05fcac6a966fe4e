//! Metric groups: one file per group, each with its API commands, value parsing and metric families.

pub mod family;
pub mod parse;
