//! `/routing/bfd/session` (RouterOS 7): one BFD session per BGP peer
//! ([`Scale::bgp_sessions`](super::Scale), the connections use `use-bfd`).
//!
//! The session of the BGP peer that never comes up is `state=down` with no
//! `uptime`, no packets received and transmitted packets growing (it keeps
//! trying); the others are `up` from `20 + 7·i` seconds after boot, their
//! packet counters growing at five per second each way. RouterOS 6 has
//! `/routing/bfd/neighbor` instead, which the simulator does not serve.

use super::format::{self, id};
use super::synth::{counter, counter_since, hash};
use super::{Menu, RouterView, SimRow, push};
use crate::personality::Personality;
use std::sync::Arc;
use std::time::Duration;

/// The BFD menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Sessions)]
}

/// `/routing/bfd/session`.
struct Sessions;

impl Menu for Sessions {
    fn path(&self) -> &'static str {
        "/routing/bfd/session"
    }

    fn available(&self, personality: &Personality) -> bool {
        personality.is_v7()
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let n = view.scale.bgp_sessions;
        let up = view.uptime.as_secs();
        (0..n)
            .map(|i| {
                let k = i as u64;
                let seed = hash(&[view.index as u64, k, 0xBFD]);
                let start = 20 + 7 * k;
                let is_up = i + 1 < n && up >= start;
                let mut r: SimRow = Vec::with_capacity(16);
                push(&mut r, ".id", id(k + 1));
                push(&mut r, "multihop", "no");
                push(
                    &mut r,
                    "remote-address",
                    format!("172.16.{}.{}%ether1", i / 250, i % 250 + 1),
                );
                push(&mut r, "local-address", "172.16.255.1");
                push(&mut r, "state", if is_up { "up" } else { "down" });
                push(&mut r, "state-changes", if is_up { "1" } else { "0" });
                if is_up {
                    push(&mut r, "uptime", format::secs(up - start));
                }
                push(&mut r, "desired-tx-interval", "200ms");
                push(&mut r, "required-min-rx", "200ms");
                push(&mut r, "remote-min-rx", if is_up { "200ms" } else { "1us" });
                push(&mut r, "multiplier", "5");
                let since = Duration::from_secs(start);
                let rx = if is_up {
                    counter_since(5, view.uptime, since, seed)
                } else {
                    0
                };
                push(&mut r, "packets-rx", rx.to_string());
                push(
                    &mut r,
                    "packets-tx",
                    counter(5, view.uptime, !seed).to_string(),
                );
                r
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, get, num, text};

    #[test]
    fn only_on_v7() {
        assert!(Sessions.available(&Personality::v7()));
        assert!(!Sessions.available(&Personality::v6()));
    }

    #[test]
    fn one_session_per_bgp_peer_the_last_down() {
        let f = Fixture::v7();
        let rows = Sessions.rows(&f.view(0, 3_600));
        assert_eq!(rows.len(), f.scale.bgp_sessions);
        assert_eq!(text(&rows[0], "state"), Some("up"));
        assert!(text(&rows[0], "remote-address").is_some_and(|a| a.ends_with("%ether1")));
        let down = &rows[rows.len() - 1];
        assert_eq!(text(down, "state"), Some("down"));
        assert!(get(down, "uptime").is_none());
        assert_eq!(num(down, "packets-rx"), 0);
        assert!(num(down, "packets-tx") > 0);
    }

    #[test]
    fn packets_grow_with_uptime() {
        let f = Fixture::v7();
        let (a, b) = (
            Sessions.rows(&f.view(2, 600)),
            Sessions.rows(&f.view(2, 6_000)),
        );
        for key in ["packets-rx", "packets-tx"] {
            assert!(num(&b[0], key) > num(&a[0], key), "{key}");
        }
    }
}
