//! `/ip/dhcp-server`, its `/lease` table, `/ipv6/dhcp-server` and its
//! `/binding` table.
//!
//! Two DHCPv4 servers on every board: `defconf` on `bridge1` (pool
//! `dhcp-lan`, lease time 3 days) and `guest` on `vlan100` (pool
//! `dhcp-guest`, 1 hour). `scale.dhcp_leases` leases: every third one
//! (index 2, 5, 8, …) on `guest`, the rest on `defconf`, addresses taken in
//! order from the server's pool. Statuses by index: `i % 10` 6 `waiting` (a
//! static lease whose client is away: no `expires-after`, no `active-*`,
//! `last-seen=never`), 7 `offered`, 8 `busy`, `i % 20 == 19` `testing`, the
//! rest `bound`. Lease 2's host name is CP1251 (`ноутбук-Маши`); every fifth
//! lease has none. `expires-after` counts down with uptime: clock style on
//! RouterOS 6 (`2d09:29:51`, `14:40:26`), units on 7 (`2d9h29m51s`).
//!
//! One DHCPv6 server, `dhcpv6-lan` on `bridge1` (prefix pool `pd-lan`), with
//! `dhcp_leases / 4` bindings: `k % 5` 1 `offered`, 3 `waiting` (static), the
//! rest `bound`, each binding the `k`-th /56 of the pool.

use super::format::{self, cp1251, id, mac};
use super::pool::{self, V4Pool};
use super::synth::hash;
use super::{Menu, RouterView, SimRow, push};
use std::net::Ipv4Addr;
use std::sync::Arc;

/// The DHCP menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![
        Arc::new(Servers),
        Arc::new(Leases),
        Arc::new(V6Servers),
        Arc::new(Bindings),
    ]
}

/// A DHCPv4 server.
struct Server {
    name: &'static str,
    interface: &'static str,
    pool: &'static V4Pool,
    /// Lease time, seconds.
    lease_time: u64,
}

const SERVERS: [Server; 2] = [
    Server {
        name: "defconf",
        interface: "bridge1",
        pool: &pool::LAN,
        lease_time: 3 * 86_400,
    },
    Server {
        name: "guest",
        interface: "vlan100",
        pool: &pool::GUEST,
        lease_time: 3_600,
    },
];

/// The DHCPv6 server.
const V6_SERVER: &str = "dhcpv6-lan";

/// A lease's (or binding's) `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Bound,
    Waiting,
    Offered,
    Busy,
    Testing,
}

impl Status {
    /// The status of lease `i`.
    fn of_lease(i: usize) -> Self {
        match i % 10 {
            6 => Status::Waiting,
            7 => Status::Offered,
            8 => Status::Busy,
            _ if i % 20 == 19 => Status::Testing,
            _ => Status::Bound,
        }
    }

    /// The status of binding `k`.
    fn of_binding(k: usize) -> Self {
        match k % 5 {
            1 => Status::Offered,
            3 => Status::Waiting,
            _ => Status::Bound,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Status::Bound => "bound",
            Status::Waiting => "waiting",
            Status::Offered => "offered",
            Status::Busy => "busy",
            Status::Testing => "testing",
        }
    }

    /// Whether the item holds an address (prefix) of its pool: what the
    /// pool's `used` table lists.
    pub fn holds_address(self) -> bool {
        matches!(self, Status::Bound | Status::Offered)
    }
}

/// One DHCPv4 lease, as the lease table and the pool's `used` table see it.
#[derive(Debug, Clone)]
pub(super) struct Lease {
    /// Print position.
    index: usize,
    /// Index into [`SERVERS`].
    server: usize,
    /// The address (from the server's pool).
    pub address: Ipv4Addr,
    /// The client's MAC address.
    pub mac: String,
    /// Its status.
    pub status: Status,
    seed: u64,
}

impl Lease {
    /// The pool the lease's address comes from.
    pub fn pool(&self) -> &'static V4Pool {
        SERVERS[self.server].pool
    }
}

/// The leases of router `view`, in print order.
pub(super) fn leases(view: &RouterView<'_>) -> Vec<Lease> {
    let idx = view.index as u64;
    let mut taken = [0usize; SERVERS.len()];
    (0..view.scale.dhcp_leases)
        .map(|i| {
            let server = usize::from(i % 3 == 2);
            let k = taken[server];
            taken[server] += 1;
            Lease {
                index: i,
                server,
                address: SERVERS[server].pool.address(k),
                mac: mac([0x4C, 0x5E, 0x0C, idx as u8, (i >> 8) as u8, i as u8]),
                status: Status::of_lease(i),
                seed: hash(&[idx, i as u64, 0xD4C9]),
            }
        })
        .collect()
}

/// The statuses of the DHCPv6 bindings of router `view`, in print order
/// (binding `k` holds [`pool::delegated_prefix`]`(k)`).
pub(super) fn bindings(view: &RouterView<'_>) -> Vec<Status> {
    (0..view.scale.dhcp_leases / 4)
        .map(Status::of_binding)
        .collect()
}

/// A time left as RouterOS writes `expires-after`: clock style on RouterOS 6
/// (`2d09:29:51`, `14:40:26`), units on 7 (`2d9h29m51s`).
fn expiry(view: &RouterView<'_>, secs: u64) -> String {
    if view.personality.is_v7() {
        return format::secs(secs);
    }
    let (days, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    if days > 0 {
        format!("{days}d{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// Seconds left of a `period` that restarts every `period` seconds.
fn countdown(view: &RouterView<'_>, period: u64, seed: u64) -> u64 {
    period - (view.uptime.as_secs() + seed) % period
}

/// The client's host name, if it sent one.
fn host_name(lease: &Lease) -> Option<Vec<u8>> {
    const KINDS: [&str; 4] = ["android-", "DESKTOP-", "iPhone-", "printer-"];
    match lease.index {
        2 => Some(cp1251("ноутбук-Маши")),
        i if i % 5 == 4 => None,
        i => Some(format!("{}{:06X}", KINDS[i % 4], lease.seed % 0xFF_FFFF).into_bytes()),
    }
}

/// `/ip/dhcp-server`.
struct Servers;

impl Menu for Servers {
    fn path(&self) -> &'static str {
        "/ip/dhcp-server"
    }

    fn rows(&self, _view: &RouterView<'_>) -> Vec<SimRow> {
        SERVERS
            .iter()
            .enumerate()
            .map(|(i, server)| {
                let mut r: SimRow = Vec::with_capacity(9);
                push(&mut r, ".id", id(i as u64 + 1));
                push(&mut r, "name", server.name);
                push(&mut r, "interface", server.interface);
                push(&mut r, "lease-time", format::secs(server.lease_time));
                push(&mut r, "address-pool", server.pool.name);
                push(&mut r, "authoritative", "yes");
                push(&mut r, "invalid", "false");
                push(&mut r, "dynamic", "false");
                push(&mut r, "disabled", "false");
                r
            })
            .collect()
    }
}

/// `/ip/dhcp-server/lease`.
struct Leases;

impl Leases {
    /// One lease row in the shape of the router's version.
    fn row(view: &RouterView<'_>, lease: &Lease) -> SimRow {
        let v7 = view.personality.is_v7();
        let server = &SERVERS[lease.server];
        let client_id = format!("1:{}", lease.mac.to_ascii_lowercase());
        let mut r: SimRow = Vec::with_capacity(20);
        push(&mut r, ".id", id(lease.index as u64 + 1));
        push(&mut r, "address", lease.address.to_string());
        push(&mut r, "mac-address", lease.mac.as_str());
        push(&mut r, "client-id", client_id.as_str());
        if v7 {
            push(&mut r, "address-lists", "");
        }
        push(&mut r, "server", server.name);
        if v7 {
            push(&mut r, "dhcp-option", "");
        }
        push(&mut r, "status", lease.status.word());
        let left = match lease.status {
            Status::Bound => Some(countdown(view, server.lease_time, lease.seed)),
            Status::Offered => Some(countdown(view, 30, lease.seed)),
            Status::Busy => Some(countdown(view, 600, lease.seed)),
            Status::Waiting | Status::Testing => None,
        };
        if let Some(left) = left {
            push(&mut r, "expires-after", expiry(view, left));
        }
        if lease.status == Status::Waiting {
            push(&mut r, "last-seen", "never");
        } else {
            let seen = (view.uptime.as_secs() + lease.seed) % 300;
            push(&mut r, "last-seen", format::secs(seen));
            push(&mut r, "active-address", lease.address.to_string());
            push(&mut r, "active-mac-address", lease.mac.as_str());
            push(&mut r, "active-client-id", client_id);
            push(&mut r, "active-server", server.name);
        }
        if lease.status != Status::Busy
            && lease.status != Status::Waiting
            && let Some(name) = host_name(lease)
        {
            push(&mut r, "host-name", name);
        }
        push(&mut r, "radius", "false");
        let dynamic = lease.status != Status::Waiting;
        push(&mut r, "dynamic", format::boolean(dynamic));
        push(&mut r, "blocked", "false");
        push(&mut r, "disabled", "false");
        if !v7 {
            push(&mut r, "comment", "");
        }
        r
    }
}

impl Menu for Leases {
    fn path(&self) -> &'static str {
        "/ip/dhcp-server/lease"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        leases(view).iter().map(|l| Self::row(view, l)).collect()
    }
}

/// `/ipv6/dhcp-server`.
struct V6Servers;

impl Menu for V6Servers {
    fn path(&self) -> &'static str {
        "/ipv6/dhcp-server"
    }

    fn rows(&self, _view: &RouterView<'_>) -> Vec<SimRow> {
        let mut r: SimRow = Vec::with_capacity(8);
        push(&mut r, ".id", id(1));
        push(&mut r, "name", V6_SERVER);
        push(&mut r, "interface", "bridge1");
        push(&mut r, "address-pool", pool::PD_POOL);
        push(&mut r, "lease-time", "1d");
        push(&mut r, "invalid", "false");
        push(&mut r, "dynamic", "false");
        push(&mut r, "disabled", "false");
        vec![r]
    }
}

/// `/ipv6/dhcp-server/binding`.
struct Bindings;

impl Menu for Bindings {
    fn path(&self) -> &'static str {
        "/ipv6/dhcp-server/binding"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let idx = view.index as u64;
        bindings(view)
            .into_iter()
            .enumerate()
            .map(|(k, status)| {
                let seed = hash(&[idx, k as u64, 0xB1D6]);
                let mac = format!("4c5e0c{:02x}{:04x}", idx as u8, k as u16);
                let mut r: SimRow = Vec::with_capacity(12);
                push(&mut r, ".id", id(k as u64 + 1));
                push(&mut r, "address", pool::delegated_prefix(k));
                push(&mut r, "duid", format!("0x00030001{mac}"));
                push(&mut r, "iaid", (k + 1).to_string());
                push(&mut r, "server", V6_SERVER);
                push(&mut r, "status", status.word());
                match status {
                    Status::Bound => {
                        let left = countdown(view, 86_400, seed);
                        push(&mut r, "expires-after", expiry(view, left));
                    }
                    Status::Offered => push(&mut r, "expires-after", expiry(view, 30)),
                    _ => {}
                }
                let seen = if status == Status::Waiting {
                    "never".to_owned()
                } else {
                    format::secs((view.uptime.as_secs() + seed) % 600)
                };
                push(&mut r, "last-seen", seen);
                push(
                    &mut r,
                    "dynamic",
                    format::boolean(status != Status::Waiting),
                );
                push(&mut r, "disabled", "false");
                r
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, get, named, text};
    use crate::menus::{Board, Scale};

    fn count(rows: &[SimRow], key: &str, value: &str) -> usize {
        rows.iter()
            .filter(|r| get(r, key) == Some(value.as_bytes()))
            .count()
    }

    #[test]
    fn two_servers_with_pools() {
        for f in [Fixture::v6(), Fixture::v7()] {
            let rows = Servers.rows(&f.view(0, 100));
            assert_eq!(rows.len(), 2);
            assert_eq!(
                text(named(&rows, "defconf"), "address-pool"),
                Some("dhcp-lan")
            );
            assert_eq!(text(named(&rows, "guest"), "interface"), Some("vlan100"));
            let v6 = V6Servers.rows(&f.view(0, 100));
            assert_eq!(text(named(&v6, V6_SERVER), "address-pool"), Some("pd-lan"));
        }
    }

    #[test]
    fn leases_spread_over_servers_and_statuses() {
        let f = Fixture::v7();
        let rows = Leases.rows(&f.view(0, 5_000));
        assert_eq!(rows.len(), 20);
        assert_eq!(count(&rows, "server", "guest"), 6);
        assert_eq!(count(&rows, "server", "defconf"), 14);
        let statuses = [
            ("bound", 13),
            ("waiting", 2),
            ("offered", 2),
            ("busy", 2),
            ("testing", 1),
        ];
        for (status, n) in statuses {
            assert_eq!(count(&rows, "status", status), n, "{status}");
        }
        let waiting = &rows[6];
        assert!(get(waiting, "expires-after").is_none());
        assert!(get(waiting, "active-address").is_none());
        assert_eq!(text(waiting, "last-seen"), Some("never"));
        assert_eq!(text(&rows[0], "address"), Some("192.168.88.10"));
        assert_eq!(text(&rows[2], "address"), Some("10.10.0.100"));
        let macs: std::collections::HashSet<_> =
            rows.iter().map(|r| get(r, "mac-address")).collect();
        assert_eq!(macs.len(), rows.len());
    }

    #[test]
    fn expiry_styles_and_host_names() {
        let (v6, v7) = (Fixture::v6(), Fixture::v7());
        let r6 = Leases.rows(&v6.view(0, 5_000));
        let r7 = Leases.rows(&v7.view(0, 5_000));
        let e6 = text(&r6[0], "expires-after").unwrap_or_default();
        let e7 = text(&r7[0], "expires-after").unwrap_or_default();
        assert!(e6.contains(':') && e6.contains('d'), "{e6}");
        assert!(!e7.contains(':') && e7.ends_with('s'), "{e7}");
        let guest = text(&r6[5], "expires-after").unwrap_or_default();
        assert!(guest.contains(':') && !guest.contains('d'), "{guest}");
        assert_eq!(get(&r6[2], "host-name"), Some(&cp1251("ноутбук-Маши")[..]));
        assert!(std::str::from_utf8(get(&r6[2], "host-name").unwrap_or_default()).is_err());
        assert!(get(&r7[4], "host-name").is_none());
        assert_eq!(text(&r6[0], "comment"), Some(""));
        assert!(get(&r7[0], "comment").is_none());
        // Expiry counts down.
        let later = Leases.rows(&v7.view(0, 5_010));
        assert_ne!(
            get(&later[0], "expires-after"),
            get(&r7[0], "expires-after")
        );
    }

    #[test]
    fn bindings_follow_the_lease_scale() {
        let mut f = Fixture::v6();
        let rows = Bindings.rows(&f.view(0, 100));
        assert_eq!(rows.len(), 5);
        assert_eq!(count(&rows, "status", "bound"), 3);
        assert_eq!(count(&rows, "status", "offered"), 1);
        assert_eq!(text(&rows[0], "address"), Some("2001:db8:100:0::/56"));
        assert!(get(&rows[3], "expires-after").is_none());
        f.scale = Scale {
            dhcp_leases: 200,
            ..Board::Chr.scale()
        };
        assert_eq!(Bindings.rows(&f.view(0, 100)).len(), 50);
        f.scale = Board::Chr.scale();
        assert!(Leases.rows(&f.view(0, 100)).is_empty());
        assert!(Bindings.rows(&f.view(0, 100)).is_empty());
        assert_eq!(Servers.rows(&f.view(0, 100)).len(), 2);
    }

    #[test]
    fn clock_style_expiry() {
        let f = Fixture::v6();
        let view = f.view(0, 0);
        assert_eq!(
            expiry(&view, 86_400 + 22 * 3_600 + 36 * 60 + 21),
            "1d22:36:21"
        );
        assert_eq!(expiry(&view, 14 * 3_600 + 40 * 60 + 26), "14:40:26");
        let f = Fixture::v7();
        assert_eq!(expiry(&f.view(0, 0), 570), "9m30s");
    }
}
