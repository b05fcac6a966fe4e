//! Placeholder.

use super::Menu;
use std::sync::Arc;

/// The menus of this family.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    Vec::new()
}
