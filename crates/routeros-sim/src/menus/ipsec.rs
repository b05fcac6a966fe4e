//! `/ip/ipsec/active-peers` and `/ip/ipsec/policy` (`scale.ipsec_peers`).
//!
//! Peers are site-to-site tunnels `site-N` to `203.0.113.(N+10)`, one policy
//! each (`10.<router>.0.0/24` to `10.100.<N>.0/24`, tunnel mode). The last
//! peer is down: it has no active-peer row and its policy is `no-phase2`,
//! inactive. From two peers on, two road warriors are connected to the
//! passive peer `rw` from addresses that change on every reconnect (hourly),
//! each with a dynamic policy. The default template policy is always there.
//!
//! RouterOS 7 names the configured peer of an active peer (`peer`); RouterOS 6
//! does not, and writes uptimes in clock style.

use super::format::{boolean, id, session_uptime};
use super::synth::{counter_since, hash, session};
use super::{Menu, RouterView, SimRow, push};
use std::sync::Arc;
use std::time::Duration;

/// The IPsec menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(ActivePeers), Arc::new(Policies)]
}

/// Road warriors connected when there are at least two peers.
const ROAD_WARRIORS: usize = 2;

/// Seconds a road warrior stays connected before it reconnects.
const RW_PERIOD: u64 = 3_600;

/// The router's own public address.
const LOCAL: &str = "198.51.100.1";

/// Road warriors on this router.
fn road_warriors(view: &RouterView<'_>) -> usize {
    if view.scale.ipsec_peers >= 2 {
        ROAD_WARRIORS
    } else {
        0
    }
}

/// `/ip/ipsec/active-peers`.
struct ActivePeers;

impl Menu for ActivePeers {
    fn path(&self) -> &'static str {
        "/ip/ipsec/active-peers"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let n = view.scale.ipsec_peers;
        let mut rows: Vec<SimRow> = (0..n.saturating_sub(1))
            .map(|i| {
                let seed = hash(&[view.index as u64, i as u64, 0x1E5]);
                let remote = format!("203.0.113.{}", i % 240 + 11);
                let start = 3 + i as u64 % 20;
                let up = view.uptime.as_secs().saturating_sub(start);
                peer_row(view, i, &format!("site-{}", i + 1), &remote, up, seed)
            })
            .collect();
        for w in 0..road_warriors(view) {
            let seed = hash(&[view.index as u64, w as u64, 0x2A]);
            let (up, generation) = session(view.uptime, RW_PERIOD, seed);
            let remote = format!("192.0.2.{}", hash(&[seed, generation]) % 250 + 1);
            rows.push(peer_row(view, n + w, "rw", &remote, up, seed));
        }
        rows
    }
}

/// One active peer, up for `up` seconds (counters since then).
fn peer_row(
    view: &RouterView<'_>,
    i: usize,
    peer: &str,
    remote: &str,
    up: u64,
    seed: u64,
) -> SimRow {
    let responder = peer == "rw";
    let since = view.uptime.saturating_sub(Duration::from_secs(up));
    let rx = counter_since(3_000 + seed % 50_000, view.uptime, since, seed);
    let tx = counter_since(2_000 + (seed >> 16) % 40_000, view.uptime, since, !seed);
    let mut r: SimRow = Vec::with_capacity(14);
    push(&mut r, ".id", id(i as u64 + 1));
    push(&mut r, "id", if responder { remote } else { peer });
    if view.personality.is_v7() {
        push(&mut r, "peer", peer);
    }
    push(&mut r, "local-address", LOCAL);
    push(&mut r, "remote-address", remote);
    push(&mut r, "state", "established");
    push(
        &mut r,
        "side",
        if responder { "responder" } else { "initiator" },
    );
    push(&mut r, "uptime", session_uptime(up, view.personality));
    push(&mut r, "last-seen", "1s");
    push(&mut r, "ph2-total", "1");
    push(&mut r, "rx-bytes", rx.to_string());
    push(&mut r, "tx-bytes", tx.to_string());
    push(&mut r, "rx-packets", (rx / 700).to_string());
    push(&mut r, "tx-packets", (tx / 700).to_string());
    r
}

/// `/ip/ipsec/policy`.
struct Policies;

impl Menu for Policies {
    fn path(&self) -> &'static str {
        "/ip/ipsec/policy"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let n = view.scale.ipsec_peers;
        let mut rows = vec![template()];
        for i in 0..n {
            let up = i + 1 < n;
            let mut r = policy_row(
                i + 1,
                &format!("10.{}.0.0/24", view.index % 250),
                &format!("10.100.{}.0/24", i % 250),
                &format!("site-{}", i + 1),
                false,
            );
            push(&mut r, "sa-src-address", LOCAL);
            push(
                &mut r,
                "sa-dst-address",
                format!("203.0.113.{}", i % 240 + 11),
            );
            push(
                &mut r,
                "ph2-state",
                if up { "established" } else { "no-phase2" },
            );
            push(&mut r, "active", boolean(up));
            if i == 0 {
                push(&mut r, "comment", "head office");
            }
            rows.push(r);
        }
        for w in 0..road_warriors(view) {
            let mut r = policy_row(
                n + w + 1,
                "0.0.0.0/0",
                &format!("172.16.99.{}/32", w + 2),
                "rw",
                true,
            );
            push(&mut r, "ph2-state", "established");
            push(&mut r, "active", boolean(true));
            rows.push(r);
        }
        rows
    }
}

/// The configuration part of a policy row.
fn policy_row(n: usize, src: &str, dst: &str, peer: &str, dynamic: bool) -> SimRow {
    let mut r: SimRow = Vec::with_capacity(16);
    push(&mut r, ".id", id(n as u64));
    push(&mut r, "peer", peer);
    push(&mut r, "tunnel", boolean(true));
    push(&mut r, "src-address", src);
    push(&mut r, "src-port", "any");
    push(&mut r, "dst-address", dst);
    push(&mut r, "dst-port", "any");
    push(&mut r, "protocol", "all");
    push(&mut r, "action", "encrypt");
    push(&mut r, "level", "require");
    push(&mut r, "ipsec-protocols", "esp");
    push(&mut r, "proposal", "default");
    push(&mut r, "template", boolean(false));
    push(&mut r, "invalid", boolean(false));
    push(&mut r, "dynamic", boolean(dynamic));
    push(&mut r, "disabled", boolean(false));
    r
}

/// The default template policy every router has (`*10000` in RouterOS).
fn template() -> SimRow {
    let mut r: SimRow = Vec::with_capacity(10);
    push(&mut r, ".id", "*10000");
    push(&mut r, "group", "default");
    push(&mut r, "src-address", "::/0");
    push(&mut r, "dst-address", "::/0");
    push(&mut r, "protocol", "all");
    push(&mut r, "proposal", "default");
    push(&mut r, "template", boolean(true));
    push(&mut r, "invalid", boolean(false));
    push(&mut r, "dynamic", boolean(false));
    push(&mut r, "disabled", boolean(false));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, get, num, text};

    #[test]
    fn v7_peers_name_their_configuration_and_one_site_is_down() {
        let f = Fixture::v7();
        let peers = ActivePeers.rows(&f.view(0, 7_200));
        // Two sites, one of them down, and two road warriors.
        assert_eq!(f.scale.ipsec_peers, 2);
        assert_eq!(peers.len(), 1 + ROAD_WARRIORS);
        assert_eq!(text(&peers[0], "peer"), Some("site-1"));
        assert_eq!(text(&peers[0], "state"), Some("established"));
        assert_eq!(text(&peers[1], "peer"), Some("rw"));
        assert_eq!(text(&peers[1], "side"), Some("responder"));
        assert!(num(&peers[0], "rx-bytes") > 0);
        assert!(text(&peers[0], "uptime").is_some_and(|u| u.contains('h')));
        let policies = Policies.rows(&f.view(0, 7_200));
        assert_eq!(policies.len(), 1 + 2 + ROAD_WARRIORS);
        assert_eq!(text(&policies[0], "template"), Some("true"));
        assert_eq!(text(&policies[1], "ph2-state"), Some("established"));
        assert_eq!(text(&policies[2], "ph2-state"), Some("no-phase2"));
        assert_eq!(text(&policies[2], "active"), Some("false"));
        assert_eq!(text(&policies[3], "dynamic"), Some("true"));
    }

    #[test]
    fn v6_peers_have_no_peer_name_and_clock_uptimes() {
        let f = Fixture::v6();
        let peers = ActivePeers.rows(&f.view(0, 7_200));
        assert!(get(&peers[0], "peer").is_none());
        assert!(text(&peers[0], "uptime").is_some_and(|u| u.contains(':')));
    }

    #[test]
    fn road_warriors_move_and_counters_grow() {
        let f = Fixture::v7();
        let a = ActivePeers.rows(&f.view(1, 1_000));
        let b = ActivePeers.rows(&f.view(1, 9_000));
        assert!(num(&b[0], "tx-bytes") > num(&a[0], "tx-bytes"));
        assert_ne!(
            (get(&a[1], "remote-address"), get(&a[2], "remote-address")),
            (get(&b[1], "remote-address"), get(&b[2], "remote-address"))
        );
        assert_eq!(ActivePeers.rows(&f.view(1, 9_000)), b);
    }

    #[test]
    fn no_peers_leave_only_the_template() {
        let mut f = Fixture::v7();
        f.scale.ipsec_peers = 0;
        assert!(ActivePeers.rows(&f.view(0, 100)).is_empty());
        assert_eq!(Policies.rows(&f.view(0, 100)).len(), 1);
    }
}
