//! `/system/clock`: the router's local date and time (UTC in the simulator).
//!
//! `date` follows the personality's date style (`jan/02/2027` before ~7.10,
//! `2027-01-02` after), `time` is `HH:MM:SS`, `gmt-offset` `+00:00`.

use super::format::{self, DateStyle, boolean};
use super::{Menu, RouterView, SimRow, push};
use std::sync::Arc;

/// The clock menu.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Clock)]
}

/// `/system/clock`.
struct Clock;

impl Menu for Clock {
    fn path(&self) -> &'static str {
        "/system/clock"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let stamp = format::date(view.now_unix, DateStyle::of(view.personality));
        let (date, time) = stamp.split_once(' ').unwrap_or((stamp.as_str(), ""));
        let mut r: SimRow = Vec::with_capacity(6);
        push(&mut r, "time", time);
        push(&mut r, "date", date);
        push(&mut r, "time-zone-autodetect", boolean(true));
        push(&mut r, "time-zone-name", "UTC");
        push(&mut r, "gmt-offset", "+00:00");
        push(&mut r, "dst-active", boolean(false));
        vec![r]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, get, text};

    #[test]
    fn date_style_follows_the_version() {
        let f7 = Fixture::v7();
        let r = &Clock.rows(&f7.view(0, 10))[0];
        assert_eq!(text(r, "date"), Some("2026-03-01"));
        assert_eq!(text(r, "time"), Some("12:00:00"));
        assert_eq!(text(r, "gmt-offset"), Some("+00:00"));
        assert_eq!(text(r, "time-zone-name"), Some("UTC"));
        assert!(get(r, ".id").is_none());
        let f6 = Fixture::v6();
        let r = &Clock.rows(&f6.view(0, 10))[0];
        assert_eq!(text(r, "date"), Some("mar/01/2026"));
        assert_eq!(text(r, "time"), Some("12:00:00"));
    }
}
