//! `/interface/wireguard` and `/interface/wireguard/peers` (RouterOS 7 only).
//!
//! Peer 1 (`*1`) has no comment; the last peer (when there are at least two)
//! never completed a handshake: no `last-handshake`, an empty
//! `current-endpoint-address`, `current-endpoint-port=0`, `rx=0` and a `tx` of
//! handshake initiations only. Every third peer from the second on is a site
//! with a configured endpoint, where it stays; the others are road warriors
//! without one, which roam: their current address changes every [`ROAM`]
//! seconds and their port (a NAT rebinding) every [`REBIND`] seconds.

use super::format::{self, boolean, id};
use super::synth::{counter_since, hash, mix};
use super::{Menu, RouterView, SimRow, push};
use crate::personality::{Personality, Version};
use std::sync::Arc;
use std::time::Duration;

/// The WireGuard menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Interfaces), Arc::new(Peers)]
}

/// The one WireGuard interface (also listed in `/interface`).
const IFACE: &str = "wireguard1";

/// Seconds between handshakes of an active peer.
const REKEY: u64 = 120;

/// Seconds a road warrior stays on one network (its current address).
const ROAM: u64 = 3_600;

/// Seconds between NAT rebindings of a road warrior (its current port).
const REBIND: u64 = 600;

/// A 32-byte key in standard base64 (44 characters, one `=`).
fn key(seed: u64) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bytes = Vec::with_capacity(33);
    let mut h = seed;
    for _ in 0..4 {
        h = mix(h);
        bytes.extend_from_slice(&h.to_be_bytes());
    }
    bytes.push(0);
    let mut out = String::with_capacity(44);
    for c in bytes.chunks(3) {
        let n = c.iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b));
        for shift in [18, 12, 6, 0] {
            out.push(char::from(ALPHABET[(n >> shift & 63) as usize]));
        }
    }
    out.pop();
    out.push('=');
    out
}

/// `/interface/wireguard`.
struct Interfaces;

impl Menu for Interfaces {
    fn path(&self) -> &'static str {
        "/interface/wireguard"
    }

    fn available(&self, personality: &Personality) -> bool {
        personality.is_v7()
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let seed = hash(&[view.index as u64, 0x3C]);
        let mut r: SimRow = Vec::with_capacity(8);
        // Same `.id` as in `/interface`: after lo, the ethers, the SFP cages,
        // bridge1 and vlan100.
        let before = view.scale.interfaces + view.scale.sfp_ports;
        push(&mut r, ".id", id(before as u64 + 4));
        push(&mut r, "name", IFACE);
        push(&mut r, "mtu", "1420");
        push(&mut r, "listen-port", "13231");
        push(&mut r, "private-key", key(seed));
        push(&mut r, "public-key", key(seed ^ 1));
        push(&mut r, "running", "true");
        push(&mut r, "disabled", "false");
        vec![r]
    }
}

/// `/interface/wireguard/peers`.
struct Peers;

impl Menu for Peers {
    fn path(&self) -> &'static str {
        "/interface/wireguard/peers"
    }

    fn available(&self, personality: &Personality) -> bool {
        personality.is_v7()
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let n = view.scale.wireguard_peers;
        let idx = view.index as u64;
        let named = view.personality.version >= Version::new(7, 15, 0);
        let up = view.uptime.as_secs();
        (0..n)
            .map(|i| {
                let k = i as u64;
                let seed = hash(&[idx, k, 0x9EE5]);
                let start = 5 + k * 3;
                let never = (n >= 2 && i == n - 1) || up < start;
                let site = i % 3 == 1;
                let mut r: SimRow = Vec::with_capacity(18);
                push(&mut r, ".id", id(k + 1));
                push(&mut r, "interface", IFACE);
                if named {
                    push(&mut r, "name", format!("peer{}", i + 1));
                }
                push(&mut r, "public-key", key(seed));
                push(&mut r, "preshared-key", "");
                let (endpoint, port) = if site {
                    (format!("203.0.113.{}", i % 250 + 1), 51_820)
                } else {
                    (String::new(), 0)
                };
                push(&mut r, "endpoint-address", endpoint.as_str());
                push(&mut r, "endpoint-port", port.to_string());
                let (current, current_port) = if never {
                    (String::new(), 0)
                } else if site {
                    (endpoint, port)
                } else {
                    let (network, binding) = (hash(&[seed, up / ROAM]), hash(&[seed, up / REBIND]));
                    (
                        format!("198.51.100.{}", network % 200 + 20),
                        1_024 + binding % 64_000,
                    )
                };
                push(&mut r, "current-endpoint-address", current);
                push(&mut r, "current-endpoint-port", current_port.to_string());
                push(
                    &mut r,
                    "allowed-address",
                    format!(
                        "10.{}.{}.{}/32,fd00:{:x}::{:x}/128",
                        idx % 250,
                        i / 250,
                        i % 250 + 2,
                        idx,
                        i + 2
                    ),
                );
                if site {
                    push(&mut r, "persistent-keepalive", "25s");
                }
                let since = Duration::from_secs(start);
                let (rx, tx) = if never {
                    // Only handshake initiations (148 bytes every 5 s) go out.
                    (0, counter_since(30, view.uptime, since, seed))
                } else {
                    (
                        counter_since(20_000 + seed % 400_000, view.uptime, since, seed),
                        counter_since(5_000 + (seed >> 20) % 90_000, view.uptime, since, !seed),
                    )
                };
                push(&mut r, "rx", rx.to_string());
                push(&mut r, "tx", tx.to_string());
                if !never {
                    let alive = up - start;
                    let ago = (alive + seed % REKEY) % REKEY;
                    push(&mut r, "last-handshake", format::secs(ago.min(alive)));
                }
                push(&mut r, "disabled", boolean(false));
                match i {
                    0 => {}
                    _ if site => push(&mut r, "comment", format!("site {}", i + 1)),
                    _ => push(&mut r, "comment", format!("road warrior {}", i + 1)),
                }
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
    fn absent_on_v6() {
        assert!(!Interfaces.available(&Personality::v6()));
        assert!(!Peers.available(&Personality::v6()));
        assert!(Peers.available(&Personality::v7()));
    }

    #[test]
    fn keys_look_like_wireguard_keys() {
        let k = key(42);
        assert_eq!(k.len(), 44);
        assert!(k.ends_with('=') && !k.ends_with("=="));
        assert!(
            k[..43]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        );
        assert_ne!(key(1), key(2));
    }

    #[test]
    fn interface_row() {
        let f = Fixture::v7();
        let rows = Interfaces.rows(&f.view(0, 100));
        assert_eq!(rows.len(), 1);
        assert_eq!(text(&rows[0], "name"), Some(IFACE));
        assert_eq!(text(&rows[0], "listen-port"), Some("13231"));
        let ifaces = crate::menus::interface::menus();
        let all = ifaces[0].rows(&f.view(0, 100));
        let wg = all
            .iter()
            .find(|r| get(r, "name") == Some(IFACE.as_bytes()))
            .expect("wireguard1 in /interface");
        assert_eq!(get(wg, ".id"), get(&rows[0], ".id"));
    }

    #[test]
    fn peers_shapes() {
        let f = Fixture::v7();
        let peers = Peers.rows(&f.view(0, 3_600));
        assert_eq!(peers.len(), f.scale.wireguard_peers);
        assert!(get(&peers[0], "comment").is_none());
        assert!(get(&peers[1], "comment").is_some());
        assert_eq!(text(&peers[0], "name"), Some("peer1"));
        assert_eq!(text(&peers[0], "public-key").map(str::len), Some(44));
        assert!(text(&peers[0], "allowed-address").is_some_and(|a| a.contains(',')));
        let hs = text(&peers[0], "last-handshake").unwrap_or_default();
        assert!(hs.ends_with('s') && !hs.contains(':'), "{hs}");
        assert!(num(&peers[1], "current-endpoint-port") > 0);
        let never = &peers[peers.len() - 1];
        assert!(get(never, "last-handshake").is_none());
        assert_eq!(text(never, "current-endpoint-address"), Some(""));
        assert_eq!(num(never, "current-endpoint-port"), 0);
        assert_eq!(num(never, "rx"), 0);
        let old = Fixture::with(Personality::for_version(Version::new(7, 12, 1)));
        assert!(get(&Peers.rows(&old.view(0, 100))[0], "name").is_none());
    }

    #[test]
    fn road_warriors_roam_and_sites_stay() {
        let f = Fixture::v7();
        let current = |uptime| {
            Peers
                .rows(&f.view(0, uptime))
                .iter()
                .map(|p| {
                    let address = text(p, "current-endpoint-address").unwrap_or_default();
                    (address.to_owned(), num(p, "current-endpoint-port"))
                })
                .collect::<Vec<_>>()
        };
        let (a, b, c) = (
            current(1_000),
            current(1_000 + REBIND),
            current(1_000 + ROAM),
        );
        // Peer 1 roams, peer 2 is a site, the last one never connected.
        assert_eq!(a[0].0, b[0].0);
        assert_ne!(a[0].1, b[0].1);
        assert_ne!(a[0].0, c[0].0);
        assert_eq!(a[1], c[1]);
        assert_eq!(a[1].0, "203.0.113.2");
        assert_eq!(a[2], c[2]);
        assert_eq!(current(1_000), a);
    }

    #[test]
    fn peer_counters_grow_and_reset() {
        let f = Fixture::v7();
        let (a, b) = (Peers.rows(&f.view(1, 1_000)), Peers.rows(&f.view(1, 5_000)));
        for (pa, pb) in a.iter().zip(&b) {
            assert!(num(pb, "tx") > num(pa, "tx"));
        }
        assert!(num(&b[0], "rx") > num(&a[0], "rx"));
        assert!(num(&b[0], "rx") > u64::from(u32::MAX) / 100);
        let rebooted = Peers.rows(&f.view(1, 3));
        assert_eq!(num(&rebooted[0], "rx"), 0);
        assert!(get(&rebooted[0], "last-handshake").is_none());
        assert_eq!(Peers.rows(&f.view(1, 5_000)), b);
    }
}
