//! `/tool/netwatch`: `scale.netwatch_hosts` watched hosts.
//!
//! On RouterOS 7 host `i` (from 0) probes with type `simple`, `tcp-conn`,
//! `icmp` and `http-get` in turn and carries that type's read-only
//! results: ICMP `loss-percent` (`0%`, or `100%` when down) and the RTT
//! statistics as durations (`2ms363us`), TCP `tcp-connect-time`, HTTP
//! `http-status-code` and `http-resp-time`. RouterOS 6 rows have `host`,
//! `interval`, `timeout`, `status`, `since`, `comment` and `disabled` only.
//!
//! Host 1 is `down` (when there are at least three hosts) and the last one
//! (when there are at least two) `unknown`: not probed yet, no `since`, no
//! results. Every other host is `up`. A host's status changed `30 + 7·i`
//! seconds after boot (`since`, router local time in the personality's date
//! style); even-numbered hosts have a comment.

use super::format::{self, DateStyle, boolean, id};
use super::synth::{counter, wander};
use super::{Menu, RouterView, SimRow, push};
use std::sync::Arc;

/// The netwatch menu.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Netwatch)]
}

/// The RouterOS 7 probe types, in the order hosts take them.
const TYPES: [&str; 4] = ["simple", "tcp-conn", "icmp", "http-get"];

/// A host's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Up,
    Down,
    Unknown,
}

impl Status {
    fn of(i: usize, n: usize) -> Self {
        if n >= 2 && i == n - 1 {
            Status::Unknown
        } else if n >= 3 && i == 1 {
            Status::Down
        } else {
            Status::Up
        }
    }

    fn word(self) -> &'static str {
        match self {
            Status::Up => "up",
            Status::Down => "down",
            Status::Unknown => "unknown",
        }
    }
}

/// Microseconds as a RouterOS duration: `363us`, `2ms363us`, `12ms`.
fn micros(us: u64) -> String {
    match (us / 1_000, us % 1_000) {
        (0, u) => format!("{u}us"),
        (m, 0) => format!("{m}ms"),
        (m, u) => format!("{m}ms{u}us"),
    }
}

/// `/tool/netwatch`.
struct Netwatch;

impl Netwatch {
    /// The type-specific read-only results of a probed v7 host.
    fn results(view: &RouterView<'_>, r: &mut SimRow, i: usize, kind: &str, status: Status) {
        let up = status == Status::Up;
        let seed = (view.index * 1_000 + i) as u64;
        let rtt =
            |base: u64, step: u64| micros(wander(base, base / 4, view.uptime, 10, seed + step));
        let tests = counter(1, view.uptime, seed) / 10;
        push(r, "done-tests", tests.to_string());
        push(
            r,
            "failed-tests",
            if up {
                "0".to_owned()
            } else {
                tests.to_string()
            },
        );
        match kind {
            "icmp" => {
                push(r, "sent-count", "10");
                push(r, "response-count", if up { "10" } else { "0" });
                push(r, "loss-count", if up { "0" } else { "10" });
                push(r, "loss-percent", if up { "0%" } else { "100%" });
                if up {
                    push(r, "rtt-avg", rtt(2_400, 1));
                    push(r, "rtt-min", rtt(1_200, 2));
                    push(r, "rtt-max", rtt(9_000, 3));
                    push(r, "rtt-jitter", rtt(800, 4));
                    push(r, "rtt-stdev", rtt(600, 5));
                }
            }
            "tcp-conn" if up => push(r, "tcp-connect-time", rtt(1_500, 6)),
            "http-get" if up => {
                push(r, "http-status-code", "200");
                push(r, "http-resp-time", rtt(35_000, 7));
            }
            _ => {}
        }
    }
}

impl Menu for Netwatch {
    fn path(&self) -> &'static str {
        "/tool/netwatch"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let n = view.scale.netwatch_hosts;
        let v7 = view.personality.is_v7();
        let up_secs = view.uptime.as_secs();
        let boot = view.now_unix - i64::try_from(up_secs).unwrap_or(i64::MAX);
        (0..n)
            .map(|i| {
                let status = Status::of(i, n);
                let kind = TYPES[i % TYPES.len()];
                let host = format!("192.0.2.{}", i % 250 + 1);
                let mut r: SimRow = Vec::with_capacity(24);
                push(&mut r, ".id", id(i as u64 + 1));
                if v7 {
                    push(&mut r, "name", format!("watch{}", i + 1));
                    push(&mut r, "type", kind);
                }
                push(&mut r, "host", host);
                push(&mut r, "interval", "10s");
                push(&mut r, "timeout", "1s");
                push(&mut r, "status", status.word());
                if status != Status::Unknown {
                    let changed = (30 + 7 * i as u64).min(up_secs);
                    let since = boot + i64::try_from(changed).unwrap_or(0);
                    push(
                        &mut r,
                        "since",
                        format::date(since, DateStyle::of(view.personality)),
                    );
                    if v7 {
                        Self::results(view, &mut r, i, kind, status);
                    }
                }
                if i % 2 == 0 {
                    push(&mut r, "comment", format!("uplink {}", i / 2 + 1));
                }
                push(&mut r, "disabled", boolean(false));
                r
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, text};

    #[test]
    fn v7_hosts_of_every_type_one_down_one_unknown() {
        let f = Fixture::v7();
        let rows = Netwatch.rows(&f.view(0, 3_600));
        assert_eq!(rows.len(), 5);
        let types: Vec<_> = rows.iter().map(|r| text(r, "type").unwrap()).collect();
        assert_eq!(types, ["simple", "tcp-conn", "icmp", "http-get", "simple"]);
        let status: Vec<_> = rows.iter().map(|r| text(r, "status").unwrap()).collect();
        assert_eq!(status, ["up", "down", "up", "up", "unknown"]);
        assert_eq!(text(&rows[1], "tcp-connect-time"), None, "down");
        assert_eq!(text(&rows[2], "loss-percent"), Some("0%"));
        assert!(text(&rows[2], "rtt-avg").unwrap().ends_with("us"));
        assert_eq!(text(&rows[3], "http-status-code"), Some("200"));
        assert_eq!(text(&rows[0], "since"), Some("2026-03-01 11:00:30"));
        assert_eq!(text(&rows[4], "since"), None);
        assert_eq!(text(&rows[0], "comment"), Some("uplink 1"));
        assert_eq!(text(&rows[1], "comment"), None);
    }

    #[test]
    fn v6_rows_have_no_type_and_no_results() {
        let f = Fixture::v6();
        let rows = Netwatch.rows(&f.view(0, 3_600));
        assert_eq!(text(&rows[0], "since"), Some("mar/01/2026 11:00:30"));
        for r in &rows {
            assert_eq!(text(r, "type"), None);
            assert_eq!(text(r, "name"), None);
            assert_eq!(text(r, "done-tests"), None);
        }
    }

    #[test]
    fn durations_in_routeros_style() {
        assert_eq!(micros(363), "363us");
        assert_eq!(micros(2_363), "2ms363us");
        assert_eq!(micros(12_000), "12ms");
    }
}
