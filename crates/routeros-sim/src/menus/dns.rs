//! `/ip/dns`: the resolver's settings and cache (one row, no `.id`).
//!
//! RouterOS 7 sends the cache sizes with their unit (`cache-size=2048KiB`,
//! `cache-used=34KiB`); RouterOS 6 as the bare number of KiB (`2048`), so the
//! exporter sees both forms. Even router indexes allow remote requests (an
//! open resolver, the security signal the group reports). The cache fills
//! during the first hour after boot, then wanders.

use super::synth::wander;
use super::{Menu, RouterView, SimRow, row};
use std::sync::Arc;

/// The DNS menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Dns)]
}

/// `cache-size` in KiB (the RouterOS default).
const CACHE_KIB: u64 = 2_048;

/// `/ip/dns`.
struct Dns;

impl Menu for Dns {
    fn path(&self) -> &'static str {
        "/ip/dns"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let seed = view.index as u64;
        let full = 200 + seed % 4 * 100;
        let used = if view.uptime.as_secs() < 3_600 {
            full * view.uptime.as_secs() / 3_600
        } else {
            wander(full, 20, view.uptime, 60, seed ^ 0xD5)
        };
        let kib = |n: u64| {
            if view.personality.is_v7() {
                format!("{n}KiB")
            } else {
                n.to_string()
            }
        };
        vec![row([
            ("servers", "1.1.1.1,8.8.8.8".to_owned()),
            ("dynamic-servers", "192.168.1.1".to_owned()),
            (
                "allow-remote-requests",
                view.index.is_multiple_of(2).to_string(),
            ),
            ("max-udp-packet-size", "4096".to_owned()),
            ("cache-size", kib(CACHE_KIB)),
            ("cache-max-ttl", "1w".to_owned()),
            ("cache-used", kib(used.max(1))),
        ])]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, text};

    #[test]
    fn v7_sizes_carry_kib_and_v6_sizes_are_bare() {
        let f7 = Fixture::v7();
        let r7 = &Dns.rows(&f7.view(0, 7_200))[0];
        assert_eq!(text(r7, "cache-size"), Some("2048KiB"));
        assert!(text(r7, "cache-used").is_some_and(|u| u.ends_with("KiB")));
        assert_eq!(text(r7, "allow-remote-requests"), Some("true"));
        let f6 = Fixture::v6();
        let r6 = &Dns.rows(&f6.view(1, 7_200))[0];
        assert_eq!(text(r6, "cache-size"), Some("2048"));
        assert_eq!(text(r6, "allow-remote-requests"), Some("false"));
    }

    #[test]
    fn the_cache_fills_after_boot() {
        let f = Fixture::v6();
        let used = |up| {
            text(&Dns.rows(&f.view(0, up))[0], "cache-used")
                .and_then(|u| u.parse::<u64>().ok())
                .unwrap_or_default()
        };
        assert!(used(60) < used(1_800));
        assert!(used(1_800) < used(7_200));
    }
}
