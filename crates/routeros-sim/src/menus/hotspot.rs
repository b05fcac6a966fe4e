//! `/ip/hotspot` (the hotspot servers) and `/ip/hotspot/active` (the users
//! logged in through them, `scale.hotspot_users`).
//!
//! A router with no hotspot users has no hotspot configured: both menus exist
//! (the hotspot is part of RouterOS) and are empty. Otherwise there are two
//! servers, `hotspot1` and `guest`; every third user is on `guest`, so with
//! fewer than three users `guest` has none. The second user (when there are
//! several) is a trial login (`T-<MAC>`). A user's session ends after a
//! session timeout of a few hours and starts again at once: bytes grow with
//! the session's uptime and start from 0 with it. Uptimes are clock style on
//! RouterOS 6, unit style on 7.

use super::format::{self, boolean, id, mac};
use super::synth::{counter, hash, session};
use super::{Menu, RouterView, SimRow, push};
use std::sync::Arc;
use std::time::Duration;

/// The hotspot menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Servers), Arc::new(Active)]
}

/// The servers of a router with any hotspot users.
const SERVERS: [&str; 2] = ["hotspot1", "guest"];

/// Session timeout, before a per-user jitter of up to an hour.
const SESSION_TIMEOUT: u64 = 4 * 3_600;

/// The server of user `i`.
fn server_of(i: usize) -> &'static str {
    SERVERS[usize::from(i % 3 == 2)]
}

/// `/ip/hotspot`.
struct Servers;

impl Menu for Servers {
    fn path(&self) -> &'static str {
        "/ip/hotspot"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        if view.scale.hotspot_users == 0 {
            return Vec::new();
        }
        SERVERS
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let mut r: SimRow = Vec::with_capacity(9);
                push(&mut r, ".id", id(k as u64 + 1));
                push(&mut r, "name", *name);
                push(&mut r, "interface", format!("vlan{}", 300 + k));
                push(&mut r, "address-pool", format!("hs-pool-{}", k + 1));
                push(&mut r, "profile", format!("hsprof{}", k + 1));
                push(&mut r, "idle-timeout", "5m");
                push(&mut r, "keepalive-timeout", "none");
                push(&mut r, "addresses-per-mac", "2");
                push(&mut r, "disabled", boolean(false));
                r
            })
            .collect()
    }
}

/// `/ip/hotspot/active`.
struct Active;

impl Menu for Active {
    fn path(&self) -> &'static str {
        "/ip/hotspot/active"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        (0..view.scale.hotspot_users)
            .map(|i| user_row(view, i))
            .collect()
    }
}

/// One logged-in user's row.
fn user_row(view: &RouterView<'_>, i: usize) -> SimRow {
    let seed = hash(&[view.index as u64, i as u64, 0x4057]);
    let (uptime, _) = session(view.uptime, SESSION_TIMEOUT + seed % 3_600, seed);
    let b = seed.to_be_bytes();
    let mac = mac([0x3C, 0x22, b[2], b[3], b[4], b[5]]);
    let (user, login_by) = match i {
        1 => (format!("T-{mac}"), "trial"),
        _ => (format!("guest{}", i + 1), "http-chap"),
    };
    let up = Duration::from_secs(uptime);
    let bytes_in = counter(2_000 + seed % 30_000, up, seed);
    let bytes_out = counter(20_000 + (seed >> 16) % 300_000, up, !seed);
    let mut r: SimRow = Vec::with_capacity(15);
    push(&mut r, ".id", id(i as u64 + 1));
    push(&mut r, "server", server_of(i));
    push(&mut r, "user", user);
    push(&mut r, "domain", "");
    push(
        &mut r,
        "address",
        format!("10.5.{}.{}", i / 250, i % 250 + 2),
    );
    push(&mut r, "mac-address", mac);
    push(&mut r, "login-by", login_by);
    push(
        &mut r,
        "uptime",
        format::session_uptime(uptime, view.personality),
    );
    push(&mut r, "idle-time", "0s");
    push(&mut r, "keepalive-timeout", "2m");
    push(&mut r, "bytes-in", bytes_in.to_string());
    push(&mut r, "bytes-out", bytes_out.to_string());
    push(&mut r, "packets-in", (bytes_in / 600).to_string());
    push(&mut r, "packets-out", (bytes_out / 1_200).to_string());
    push(&mut r, "radius", boolean(false));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, num, text};

    #[test]
    fn no_users_means_no_hotspot() {
        let mut f = Fixture::v7();
        f.scale.hotspot_users = 0;
        assert!(Servers.rows(&f.view(0, 100)).is_empty());
        assert!(Active.rows(&f.view(0, 100)).is_empty());
    }

    #[test]
    fn users_spread_over_two_servers() {
        let mut f = Fixture::v7();
        f.scale.hotspot_users = 10;
        let servers = Servers.rows(&f.view(0, 100));
        let names: Vec<&str> = servers.iter().filter_map(|r| text(r, "name")).collect();
        assert_eq!(names, SERVERS);
        let users = Active.rows(&f.view(0, 100));
        let on = |s: &str| {
            users
                .iter()
                .filter(|r| text(r, "server") == Some(s))
                .count()
        };
        assert_eq!((on("hotspot1"), on("guest")), (7, 3));
        assert!(text(&users[1], "user").is_some_and(|u| u.starts_with("T-")));
        assert_eq!(text(&users[1], "login-by"), Some("trial"));
        // The lab's two users are both on hotspot1.
        let lab = Fixture::v7();
        let users = Active.rows(&lab.view(0, 100));
        assert!(users.iter().all(|r| text(r, "server") == Some("hotspot1")));
    }

    #[test]
    fn bytes_grow_with_the_session_and_uptimes_follow_the_version() {
        let f = Fixture::v7();
        let (a, b) = (Active.rows(&f.view(2, 100)), Active.rows(&f.view(2, 200)));
        for (ua, ub) in a.iter().zip(&b) {
            assert!(num(ub, "bytes-in") > num(ua, "bytes-in"));
            assert!(num(ub, "bytes-out") > num(ua, "bytes-out"));
        }
        assert_eq!(text(&a[0], "uptime"), Some("1m40s"));
        let f6 = Fixture::v6();
        let v6 = Active.rows(&f6.view(2, 100));
        assert_eq!(text(&v6[0], "uptime"), Some("00:01:40"));
        // A session timeout (at most five hours) restarts every session.
        let day_later = Active.rows(&f.view(2, 30 * 3_600));
        assert!(
            day_later
                .iter()
                .all(|r| text(r, "uptime").is_some_and(|u| !u.contains('d')))
        );
    }
}
