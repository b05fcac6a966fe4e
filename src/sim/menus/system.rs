//! `/system/...` menus.

use super::{Menu, RouterView, SimRow, row};
use std::sync::Arc;

/// The `/system` menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Identity)]
}

/// `/system/identity`: one row, the router's name.
struct Identity;

impl Menu for Identity {
    fn path(&self) -> &'static str {
        "/system/identity"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        vec![row([("name", view.name)])]
    }
}
