//! The probe: module plan, deadline, per-target state and rendering.

pub mod render;
