//! `/system/ntp/client`: the router's time synchronisation (one row, no `.id`).
//!
//! RouterOS 7 reports a `status` (`started` in the first minute, then
//! `synchronized`) and, once synchronised, the server, its stratum and the
//! system offset: in bare milliseconds (`-0.412`) on even router indexes and
//! with a unit (`-412us`) on odd ones, as RouterOS versions differ. RouterOS 6
//! (the SNTP client of the `system` package) reports the server it last
//! updated from, how long ago (`last-update-before`, a poll every 15 minutes)
//! and the last adjustment. Routers `4k+3` never reach their servers:
//! `waiting` on 7, no `last-update-*` fields on 6.

use super::format;
use super::synth::wander;
use super::{Menu, RouterView, SimRow, push, row};
use std::sync::Arc;

/// The NTP menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Client)]
}

/// The address the client synchronises from.
const SERVER: &str = "162.159.200.1";

/// Seconds between RouterOS 6 SNTP updates.
const POLL: u64 = 900;

/// `/system/ntp/client`.
struct Client;

impl Menu for Client {
    fn path(&self) -> &'static str {
        "/system/ntp/client"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let reachable = view.index % 4 != 3;
        let up = view.uptime.as_secs();
        // Offset in microseconds, within ±1 ms.
        let offset_us = wander(1_000, 1_000, view.uptime, 64, view.index as u64) as i64 - 1_000;
        if view.personality.is_v7() {
            vec![v7_row(view.index, reachable, up, offset_us)]
        } else {
            vec![v6_row(reachable, up, offset_us)]
        }
    }
}

/// The RouterOS 7 row.
fn v7_row(index: usize, reachable: bool, up: u64, offset_us: i64) -> SimRow {
    let status = match (reachable, up < 60) {
        (false, _) => "waiting",
        (true, true) => "started",
        (true, false) => "synchronized",
    };
    let mut r = row([
        ("enabled", "true"),
        ("mode", "unicast"),
        ("servers", "time.cloudflare.com,pool.ntp.org"),
        ("vrf", "main"),
        ("status", status),
    ]);
    if status == "synchronized" {
        let offset = if index.is_multiple_of(2) {
            format!("{:.3}", offset_us as f64 / 1_000.0)
        } else {
            format!("{offset_us}us")
        };
        push(&mut r, "synced-server", SERVER);
        push(&mut r, "synced-stratum", "3");
        push(&mut r, "system-offset", offset);
        push(&mut r, "freq-drift", "-12.345");
    }
    r
}

/// The RouterOS 6 row.
fn v6_row(reachable: bool, up: u64, offset_us: i64) -> SimRow {
    let mut r = row([
        ("enabled", "true"),
        ("primary-ntp", "0.0.0.0"),
        ("secondary-ntp", "0.0.0.0"),
        ("server-dns-names", "pool.ntp.org"),
        ("mode", "unicast"),
        ("poll-interval", "15m"),
        ("active-server", if reachable { SERVER } else { "" }),
    ]);
    if reachable && up >= 10 {
        // `7ms630us` style: sub-second durations carry microseconds.
        let us = offset_us.unsigned_abs() + 630;
        let adjustment = match us / 1_000 {
            0 => format!("{us}us"),
            ms => format!("{ms}ms{}us", us % 1_000),
        };
        push(&mut r, "last-update-from", SERVER);
        push(&mut r, "last-update-before", format::secs((up - 10) % POLL));
        push(&mut r, "last-adjustment", adjustment);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, text};

    #[test]
    fn v7_synchronises_after_a_minute_and_4k3_keeps_waiting() {
        let f = Fixture::v7();
        let status = |index, up| {
            let rows = Client.rows(&f.view(index, up));
            text(&rows[0], "status").map(str::to_owned)
        };
        assert_eq!(status(0, 30).as_deref(), Some("started"));
        assert_eq!(status(0, 3_600).as_deref(), Some("synchronized"));
        assert_eq!(status(3, 3_600).as_deref(), Some("waiting"));
        let even = &Client.rows(&f.view(0, 3_600))[0];
        assert!(text(even, "system-offset").is_some_and(|o| !o.ends_with("us")));
        let odd = &Client.rows(&f.view(1, 3_600))[0];
        assert!(text(odd, "system-offset").is_some_and(|o| o.ends_with("us")));
        assert_eq!(text(odd, "synced-stratum"), Some("3"));
    }

    #[test]
    fn v6_reports_the_last_update_when_the_server_answers() {
        let f = Fixture::v6();
        let r = &Client.rows(&f.view(0, 1_000))[0];
        assert_eq!(text(r, "last-update-from"), Some(SERVER));
        assert_eq!(text(r, "last-update-before"), Some("1m30s"));
        assert!(text(r, "last-adjustment").is_some_and(|a| a.ends_with("us")));
        let unreachable = &Client.rows(&f.view(3, 1_000))[0];
        assert_eq!(text(unreachable, "last-update-from"), None);
    }
}
