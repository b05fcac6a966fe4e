//! BGP: RouterOS 6 `/routing/bgp/peer` (configuration and state in one
//! table), RouterOS 7 `/routing/bgp/connection` (configuration) and
//! `/routing/bgp/session` (only sessions that are up, or were since boot).
//!
//! [`Scale::bgp_sessions`](super::Scale) peers `peer1`, `peer2`, …; the last
//! one is configured but never comes up: on RouterOS 6 its peer row says
//! `state=active established=false` with zero counters, on RouterOS 7 it has
//! a connection but no session at all. Peer `i` establishes `30 + 7·i`
//! seconds after boot (no v7 session before that, `state=connect` on v6);
//! from then its update, withdrawal, message and byte counters grow with
//! uptime. RouterOS 7 session names are the connection's name plus `-1`, as a
//! real router names them.

use super::format::{self, DateStyle, boolean, id};
use super::synth::{counter_since, hash, pick};
use super::{Menu, RouterView, SimRow, push};
use crate::personality::Personality;
use std::sync::Arc;
use std::time::Duration;

/// The BGP menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Peers), Arc::new(Connections), Arc::new(Sessions)]
}

/// The router's own AS.
const LOCAL_AS: u64 = 65_530;

/// One configured peer as the menus render it.
struct Peer {
    k: u64,
    name: String,
    address: String,
    remote_as: u64,
    seed: u64,
    /// Seconds the session has been established, `None` while it is not.
    up_for: Option<u64>,
}

/// Every configured peer of the router in `view`.
fn peers(view: &RouterView<'_>) -> Vec<Peer> {
    let n = view.scale.bgp_sessions;
    let up = view.uptime.as_secs();
    (0..n)
        .map(|i| {
            let k = i as u64;
            let start = 30 + 7 * k;
            let down = i + 1 == n;
            Peer {
                k,
                name: format!("peer{}", i + 1),
                address: format!("172.16.{}.{}", i / 250, i % 250 + 1),
                remote_as: 64_512 + k,
                seed: hash(&[view.index as u64, k, 0xB6F]),
                up_for: (!down && up >= start).then(|| up - start),
            }
        })
        .collect()
}

impl Peer {
    fn start(&self) -> Duration {
        Duration::from_secs(30 + 7 * self.k)
    }

    /// Prefixes received while established: a few full tables on larger
    /// routers, customer-sized announcements otherwise.
    fn prefixes(&self) -> u64 {
        match self.k {
            0 | 1 => pick(self.seed, 950_000, 1_000_000),
            _ => pick(self.seed, 1, 5_000),
        }
    }

    /// A counter growing at about `rate` per second while established.
    fn counter(&self, view: &RouterView<'_>, rate: u64, salt: u64) -> u64 {
        if self.up_for.is_none() {
            return 0;
        }
        counter_since(rate, view.uptime, self.start(), self.seed ^ salt)
    }
}

/// `/routing/bgp/peer` (RouterOS 6).
struct Peers;

impl Menu for Peers {
    fn path(&self) -> &'static str {
        "/routing/bgp/peer"
    }

    fn available(&self, personality: &Personality) -> bool {
        !personality.is_v7()
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let up = view.uptime.as_secs();
        peers(view)
            .into_iter()
            .map(|p| {
                let mut r: SimRow = Vec::with_capacity(20);
                push(&mut r, ".id", id(p.k + 1));
                push(&mut r, "name", p.name.as_str());
                push(&mut r, "instance", "default");
                push(&mut r, "remote-address", p.address.as_str());
                push(&mut r, "remote-as", p.remote_as.to_string());
                push(&mut r, "local-address", "172.16.255.1");
                let state = match p.up_for {
                    Some(_) => "established",
                    None if up >= p.start().as_secs() => "active",
                    None => "connect",
                };
                push(&mut r, "state", state);
                push(&mut r, "established", boolean(p.up_for.is_some()));
                if let Some(s) = p.up_for {
                    push(&mut r, "uptime", format::secs(s));
                    push(&mut r, "prefix-count", p.prefixes().to_string());
                } else {
                    push(&mut r, "prefix-count", "0");
                }
                push(&mut r, "updates-sent", p.counter(view, 2, 1).to_string());
                push(
                    &mut r,
                    "updates-received",
                    p.counter(view, 40, 2).to_string(),
                );
                push(&mut r, "withdrawn-sent", p.counter(view, 1, 3).to_string());
                push(
                    &mut r,
                    "withdrawn-received",
                    p.counter(view, 8, 4).to_string(),
                );
                push(&mut r, "hold-time", "3m");
                push(&mut r, "keepalive-time", "1m");
                push(&mut r, "address-families", "ip");
                push(&mut r, "disabled", boolean(false));
                r
            })
            .collect()
    }
}

/// `/routing/bgp/connection` (RouterOS 7): the configuration.
struct Connections;

impl Menu for Connections {
    fn path(&self) -> &'static str {
        "/routing/bgp/connection"
    }

    fn available(&self, personality: &Personality) -> bool {
        personality.is_v7()
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        peers(view)
            .into_iter()
            .map(|p| {
                let mut r: SimRow = Vec::with_capacity(12);
                push(&mut r, ".id", id(p.k + 1));
                push(&mut r, "name", p.name.as_str());
                push(&mut r, "as", LOCAL_AS.to_string());
                push(&mut r, "remote.address", p.address.as_str());
                push(&mut r, "remote.as", p.remote_as.to_string());
                push(&mut r, "local.role", "ebgp");
                push(&mut r, "routing-table", "main");
                push(&mut r, "vrf", "main");
                push(&mut r, "hold-time", "3m");
                push(&mut r, "use-bfd", "yes");
                push(&mut r, "disabled", boolean(false));
                r
            })
            .collect()
    }
}

/// `/routing/bgp/session` (RouterOS 7): established sessions only.
struct Sessions;

impl Menu for Sessions {
    fn path(&self) -> &'static str {
        "/routing/bgp/session"
    }

    fn available(&self, personality: &Personality) -> bool {
        personality.is_v7()
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        peers(view)
            .into_iter()
            .filter_map(|p| Some((p.up_for?, p)))
            .map(|(up_for, p)| session(view, &p, up_for))
            .collect()
    }
}

/// One `/routing/bgp/session` row of an established peer.
fn session(view: &RouterView<'_>, p: &Peer, up_for: u64) -> SimRow {
    let (rx_msgs, tx_msgs) = (p.counter(view, 48, 5), p.counter(view, 3, 6));
    let mut r: SimRow = Vec::with_capacity(28);
    push(&mut r, ".id", format!("*{:X}", 0x280_0001 + p.k));
    push(&mut r, "name", format!("{}-1", p.name));
    push(&mut r, "remote.address", p.address.as_str());
    push(&mut r, "remote.as", p.remote_as.to_string());
    push(&mut r, "remote.id", p.address.as_str());
    push(&mut r, "remote.capabilities", "mp,rr,gr,as4");
    push(&mut r, "remote.messages", rx_msgs.to_string());
    push(&mut r, "remote.bytes", (rx_msgs * 61).to_string());
    push(&mut r, "remote.eor", "");
    push(&mut r, "local.address", "172.16.255.1");
    push(&mut r, "local.as", LOCAL_AS.to_string());
    push(&mut r, "local.id", "172.16.255.1");
    push(&mut r, "local.capabilities", "mp,rr,gr,as4");
    push(&mut r, "local.messages", tx_msgs.to_string());
    push(&mut r, "local.bytes", (tx_msgs * 23).to_string());
    push(&mut r, "local.eor", "");
    push(&mut r, "output.procid", (20 + p.k).to_string());
    push(&mut r, "input.procid", (20 + p.k).to_string());
    push(&mut r, "ebgp", "");
    push(&mut r, "hold-time", "3m");
    push(&mut r, "keepalive-time", "1m");
    let millis = Duration::from_millis(up_for * 1_000 + p.seed % 1_000);
    push(&mut r, "uptime", format::duration(millis));
    let started = view.now_unix - up_for as i64;
    let style = DateStyle::of(view.personality);
    push(&mut r, "last-started", format::date(started, style));
    push(&mut r, "prefix-count", p.prefixes().to_string());
    push(&mut r, "established", boolean(true));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, get, named, num, text};

    #[test]
    fn versions_have_their_own_menus() {
        let (v6, v7) = (Personality::v6(), Personality::v7());
        assert!(Peers.available(&v6) && !Peers.available(&v7));
        assert!(Sessions.available(&v7) && !Sessions.available(&v6));
        assert!(Connections.available(&v7) && !Connections.available(&v6));
    }

    #[test]
    fn v6_peers_with_the_last_one_down() {
        let f = Fixture::v6();
        let rows = Peers.rows(&f.view(0, 3_600));
        assert_eq!(rows.len(), 3);
        assert_eq!(text(&rows[0], "state"), Some("established"));
        assert!(num(&rows[0], "prefix-count") > 900_000);
        assert!(text(&rows[0], "uptime").is_some_and(|u| u.ends_with('s')));
        let down = named(&rows, "peer3");
        assert_eq!(text(down, "state"), Some("active"));
        assert_eq!(text(down, "established"), Some("false"));
        assert!(get(down, "uptime").is_none());
        assert_eq!(num(down, "updates-received"), 0);
        let early = Peers.rows(&f.view(0, 10));
        assert_eq!(text(&early[0], "state"), Some("connect"));
    }

    #[test]
    fn v7_sessions_only_while_up_and_connections_for_all() {
        let f = Fixture::v7();
        let view = f.view(0, 3_600);
        assert_eq!(Connections.rows(&view).len(), 3);
        let sessions = Sessions.rows(&view);
        assert_eq!(sessions.len(), 2);
        let s = named(&sessions, "peer1-1");
        assert_eq!(text(s, "remote.address"), Some("172.16.0.1"));
        assert_eq!(text(s, "established"), Some("true"));
        assert_eq!(text(s, "ebgp"), Some(""));
        assert!(text(s, "uptime").is_some_and(|u| u.ends_with("ms")));
        assert!(Sessions.rows(&f.view(0, 10)).is_empty());
    }

    #[test]
    fn counters_grow_with_uptime() {
        let f = Fixture::v7();
        let (a, b) = (
            Sessions.rows(&f.view(1, 600)),
            Sessions.rows(&f.view(1, 6_000)),
        );
        for key in ["remote.messages", "local.messages", "remote.bytes"] {
            assert!(num(&b[0], key) > num(&a[0], key), "{key}");
        }
        let f = Fixture::v6();
        let (a, b) = (Peers.rows(&f.view(1, 600)), Peers.rows(&f.view(1, 6_000)));
        assert!(num(&b[1], "updates-received") > num(&a[1], "updates-received"));
    }
}
