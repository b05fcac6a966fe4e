//! Simulated menus a test moves in time while the rest of the router keeps
//! its clock (its `/system/resource` uptime): interfaces past PPP reconnects,
//! WireGuard peers roaming, without a reboot.

use routeros_sim::Personality;
use routeros_sim::menus::{Menu, RouterView, SimRow, registry};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// `inner` rendered `shift` seconds away from the router's uptime (earlier
/// when negative).
struct TimeShifted {
    inner: Arc<dyn Menu>,
    shift: Arc<AtomicI64>,
}

impl Menu for TimeShifted {
    fn path(&self) -> &'static str {
        self.inner.path()
    }

    fn available(&self, personality: &Personality) -> bool {
        self.inner.available(personality)
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let shift = self.shift.load(Ordering::SeqCst);
        let by = Duration::from_secs(shift.unsigned_abs());
        let uptime = if shift >= 0 {
            view.uptime + by
        } else {
            view.uptime.saturating_sub(by)
        };
        self.inner.rows(&RouterView { uptime, ..*view })
    }
}

/// The simulator's menus with the one at `path` time-shifted (the shifted
/// copy comes last and overrides it), and the shift in seconds to set.
pub fn with_shifted(path: &str) -> (Vec<Arc<dyn Menu>>, Arc<AtomicI64>) {
    let shift = Arc::new(AtomicI64::new(0));
    let mut menus = registry();
    let inner = menus
        .iter()
        .find(|m| m.path() == path)
        .cloned()
        .unwrap_or_else(|| panic!("no {path} menu"));
    menus.push(Arc::new(TimeShifted {
        inner,
        shift: shift.clone(),
    }));
    (menus, shift)
}
