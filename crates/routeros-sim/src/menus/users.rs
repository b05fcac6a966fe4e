//! `/user/active`: who is logged in to the router.
//!
//! Three fixed sessions (an `admin` on WinBox and on SSH, a read-only `noc` on
//! the web interface) plus one `api` session per API connection open to the
//! simulated router at the time of the print (the one asking included), all
//! `admin` from `127.0.0.1`. Login times (`when`, in the personality's date
//! style) are fixed offsets after boot, capped at now: the API sessions as if
//! they logged in right after boot, since the simulator does not keep each
//! connection's login time.

use super::format::{self, DateStyle, boolean, id};
use super::{Menu, RouterView, SimRow, push};
use std::sync::Arc;

/// The user menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Active)]
}

/// The fixed sessions: name, source address, method, group, seconds after boot.
const FIXED: [(&str, &str, &str, &str, u64); 3] = [
    ("admin", "192.168.88.10", "winbox", "full", 600),
    ("admin", "10.0.0.5", "ssh", "full", 3_000),
    ("noc", "192.168.88.20", "web", "read", 5_400),
];

/// `/user/active`.
struct Active;

impl Menu for Active {
    fn path(&self) -> &'static str {
        "/user/active"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let api = ("admin", "127.0.0.1", "api", "full", 1);
        FIXED
            .into_iter()
            .chain(std::iter::repeat_n(api, view.api_sessions))
            .enumerate()
            .map(|(k, session)| session_row(view, k, session))
            .collect()
    }
}

/// The row of the `k`th session.
fn session_row(
    view: &RouterView<'_>,
    k: usize,
    (name, address, via, group, after_boot): (&str, &str, &str, &str, u64),
) -> SimRow {
    let up = view.uptime.as_secs();
    let boot = view.now_unix - i64::try_from(up).unwrap_or(i64::MAX);
    let when = boot + i64::try_from(after_boot.min(up)).unwrap_or(0);
    let mut r: SimRow = Vec::with_capacity(7);
    push(&mut r, ".id", id(k as u64 + 1));
    push(
        &mut r,
        "when",
        format::date(when, DateStyle::of(view.personality)),
    );
    push(&mut r, "name", name);
    push(&mut r, "address", address);
    push(&mut r, "via", via);
    push(&mut r, "group", group);
    push(&mut r, "radius", boolean(false));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, NOW, text};

    fn vias(rows: &[SimRow]) -> Vec<&str> {
        rows.iter().filter_map(|r| text(r, "via")).collect()
    }

    #[test]
    fn fixed_sessions_plus_one_api_row_per_connection() {
        let f = Fixture::v7();
        let rows = Active.rows(&f.view(0, 86_400));
        assert_eq!(vias(&rows), ["winbox", "ssh", "web", "api"]);
        let three = RouterView {
            api_sessions: 3,
            ..f.view(0, 86_400)
        };
        let rows = Active.rows(&three);
        assert_eq!(vias(&rows), ["winbox", "ssh", "web", "api", "api", "api"]);
        assert_eq!(text(&rows[5], ".id"), Some("*6"));
        assert_eq!(text(&rows[2], "group"), Some("read"));
        assert_eq!(text(&rows[0], "address"), Some("192.168.88.10"));
    }

    #[test]
    fn login_times_follow_boot_and_the_date_style() {
        let f7 = Fixture::v7();
        // Up one day: booted 2026-02-28 12:00:00, WinBox login ten minutes later.
        let rows = Active.rows(&f7.view(0, 86_400));
        assert_eq!(text(&rows[0], "when"), Some("2026-02-28 12:10:00"));
        let f6 = Fixture::v6();
        let rows = Active.rows(&f6.view(0, 86_400));
        assert_eq!(text(&rows[0], "when"), Some("feb/28/2026 12:10:00"));
        // Up a minute: nobody logged in before boot or after now.
        let rows = Active.rows(&f7.view(0, 60));
        let now = format::date(NOW, DateStyle::Iso);
        assert_eq!(text(&rows[2], "when"), Some(now.as_str()));
    }
}
