//! The simulated router's data, one file per menu family.
//!
//! A later metric group adds its menu here in one place: write a [`Menu`] in a new
//! file and list it in [`registry`]. Menus render rows from a [`RouterView`] (the
//! personality, the scale and the time since boot), so counters and uptime advance
//! with time and reset on a simulated reboot.

use crate::personality::{Personality, Version};
pub use board::{Board, UnknownBoard};
use std::sync::Arc;
use std::time::Duration;

mod bfd;
mod bgp;
mod board;
mod certificate;
mod clock;
mod conntrack;
mod container;
mod dhcp;
mod dns;
mod firewall;
pub mod format;
mod hotspot;
mod interface;
mod ipsec;
mod lte;
mod netwatch;
mod ntp;
mod ospf;
mod poe;
mod pool;
mod ppp;
mod queue;
mod route;
mod sfp;
pub mod synth;
mod system;
mod users;
mod vrrp;
mod wireguard;
mod wireless;

/// One simulated item: `(property, raw value)` pairs in print order. Values are
/// bytes so comments can carry non-UTF-8 code pages.
pub type SimRow = Vec<(String, Vec<u8>)>;

/// How much data a simulated router holds, and which hardware it has. The
/// default is a "lab" board with a little of everything (so `--demo` shows
/// every group); [`Board`] presets model real boards that lack hardware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scale {
    /// Number of ethernet-style interfaces (plus a few fixed special ones).
    pub interfaces: usize,
    /// Rules per firewall table (filter, nat, mangle, raw) and family.
    pub firewall_rules: usize,
    /// IPv4 connection-tracking rows.
    pub conntrack: usize,
    /// IPv6 connection-tracking rows.
    pub conntrack_v6: usize,
    /// WireGuard peers (v7 only).
    pub wireguard_peers: usize,
    /// Certificates (one of them always expired).
    pub certificates: usize,
    /// SFP/SFP+ cages (`sfp-sfpplus1`, …): the first holds a module, the
    /// second is empty, any further ones hold modules.
    pub sfp_ports: usize,
    /// Ethernet ports with PoE out: the first this many `etherN` ports.
    pub poe_ports: usize,
    /// LTE modems (`lte1`, …).
    pub lte_modems: usize,
    /// The wireless package the board runs.
    pub wifi: WifiStack,
    /// Local radios (`wlan1`… or `wifi1`…); none when `wifi` is `None`.
    pub wireless_radios: usize,
    /// Clients registered to the local radios.
    pub wireless_clients: usize,
    /// Access points this router manages as a CAPsMAN controller.
    pub capsman_caps: usize,
    /// Clients registered through those access points.
    pub capsman_clients: usize,
    /// DHCPv4 leases (spread over the DHCP servers).
    pub dhcp_leases: usize,
    /// Active PPP sessions (mostly PPPoE).
    pub ppp_sessions: usize,
    /// Active hotspot users.
    pub hotspot_users: usize,
    /// BGP sessions (one of them configured but down).
    pub bgp_sessions: usize,
    /// OSPF neighbours (one of them stuck in Init).
    pub ospf_neighbors: usize,
    /// IPv4 routes (a full BGP table is about 1,000,000; answered lazily for
    /// `=count-only=`).
    pub routes: usize,
    /// IPv6 routes.
    pub routes_v6: usize,
    /// VRRP instances.
    pub vrrp_instances: usize,
    /// Netwatch hosts, of every probe type the version has (one of them down).
    pub netwatch_hosts: usize,
    /// Simple queues.
    pub simple_queues: usize,
    /// Queue tree entries.
    pub queue_tree: usize,
    /// IPsec peers (one of their policies not established).
    pub ipsec_peers: usize,
    /// Containers (RouterOS 7 with the container package).
    pub containers: usize,
}

impl Default for Scale {
    fn default() -> Self {
        Self {
            interfaces: 8,
            firewall_rules: 6,
            conntrack: 200,
            conntrack_v6: 20,
            wireguard_peers: 3,
            certificates: 3,
            sfp_ports: 2,
            poe_ports: 2,
            lte_modems: 1,
            wifi: WifiStack::Auto,
            wireless_radios: 2,
            wireless_clients: 4,
            capsman_caps: 0,
            capsman_clients: 0,
            dhcp_leases: 20,
            ppp_sessions: 3,
            hotspot_users: 2,
            bgp_sessions: 3,
            ospf_neighbors: 3,
            routes: 1_000,
            routes_v6: 100,
            vrrp_instances: 2,
            netwatch_hosts: 5,
            simple_queues: 5,
            queue_tree: 3,
            ipsec_peers: 2,
            containers: 2,
        }
    }
}

/// The wireless package of a simulated router: it decides which menus exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WifiStack {
    /// No wireless package: none of the wireless menus exist (`/interface/wifi`
    /// still exists on 7.13+, where CAPsMAN is part of the base package, but
    /// has no local radios).
    None,
    /// The package a real board of this version would run: `wireless` on
    /// RouterOS 6, `wifiwave2` on 7.1–7.12, `wifi` from 7.13.
    Auto,
    /// The legacy `wireless` package: `/interface/wireless`, `/caps-man`.
    Wireless,
    /// `wifiwave2` (7.1–7.12): `/interface/wifiwave2`.
    Wifiwave2,
    /// `wifi` (7.13+): `/interface/wifi`, CAPsMAN in `/interface/wifi/capsman`.
    Wifi,
}

impl WifiStack {
    /// The package in force for `personality` (`Auto` resolved).
    pub fn resolve(self, personality: &Personality) -> WifiStack {
        match self {
            WifiStack::Auto if !personality.is_v7() => WifiStack::Wireless,
            WifiStack::Auto if personality.version < Version::new(7, 13, 0) => WifiStack::Wifiwave2,
            WifiStack::Auto => WifiStack::Wifi,
            WifiStack::Wifiwave2 | WifiStack::Wifi if !personality.is_v7() => WifiStack::None,
            other => other,
        }
    }
}

/// What a menu may look at when rendering rows.
#[derive(Debug, Clone)]
pub struct RouterView<'a> {
    /// Name of the simulated router (used in identity and to vary data).
    pub name: &'a str,
    /// Index of the router in its simulator (seeds deterministic variation).
    pub index: usize,
    /// Which RouterOS it pretends to be.
    pub personality: &'a Personality,
    /// Data sizes.
    pub scale: &'a Scale,
    /// Time since the (simulated) boot; counters derive from it.
    pub uptime: Duration,
    /// Current wall-clock time, seconds since the Unix epoch.
    pub now_unix: i64,
    /// API connections open to the router right now (the one asking included),
    /// each an `api` row of `/user/active`.
    pub api_sessions: usize,
}

impl RouterView<'_> {
    /// The wireless package in force on this router.
    pub fn wifi(&self) -> WifiStack {
        self.scale.wifi.resolve(self.personality)
    }
}

/// A menu of the simulated router, e.g. `/interface`.
pub trait Menu: Send + Sync {
    /// The menu path without verb, e.g. `/interface` or `/system/resource`.
    fn path(&self) -> &'static str;

    /// False when this personality lacks the menu (the router then traps
    /// `no such command prefix`).
    fn available(&self, personality: &Personality) -> bool {
        let _ = personality;
        true
    }

    /// False when this router lacks the menu although its version has it: a
    /// package its board does not run (the wireless packages follow
    /// [`RouterView::wifi`]). The router then traps as for [`Menu::available`].
    fn installed(&self, view: &RouterView<'_>) -> bool {
        let _ = view;
        true
    }

    /// The items `print` returns, in print order.
    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow>;

    /// `print =count-only=` answered without rendering the rows: `Some(n)`
    /// when the menu can count the rows `query` matches by itself (a table of
    /// a million routes that a real router counts without formatting them);
    /// `None`, the default, renders the rows and counts the matches.
    fn count(&self, view: &RouterView<'_>, query: &crate::query::Query) -> Option<usize> {
        let _ = (view, query);
        None
    }

    /// True when rows do not change with time, so the server may cache them and
    /// their encoded form (large tables such as conntrack).
    fn is_static(&self) -> bool {
        false
    }

    /// One round of `monitor =once=` for the item named `item` (by `name`), or
    /// `None` when the menu has no monitor or no such item. The row should carry
    /// `name` first, as RouterOS does.
    fn monitor(&self, view: &RouterView<'_>, item: &str) -> Option<SimRow> {
        let _ = (view, item);
        None
    }

    /// Whether this personality's menu has the monitor-style `verb`
    /// (`monitor`, `monitor-traffic`, or RouterOS 6's LTE `info`), all of which
    /// [`Menu::monitor`] answers; a verb it lacks traps `no such command`.
    /// By default every menu has `monitor` and `monitor-traffic` but not `info`.
    fn has_monitor_verb(&self, verb: &str, personality: &Personality) -> bool {
        let _ = personality;
        verb != "info"
    }
}

/// Every menu the simulator serves.
pub fn registry() -> Vec<Arc<dyn Menu>> {
    let mut menus = system::menus();
    menus.extend(interface::menus());
    menus.extend(poe::menus());
    menus.extend(lte::menus());
    menus.extend(wireless::menus());
    menus.extend(firewall::menus());
    menus.extend(conntrack::menus());
    menus.extend(wireguard::menus());
    menus.extend(dhcp::menus());
    menus.extend(pool::menus());
    menus.extend(ppp::menus());
    menus.extend(hotspot::menus());
    menus.extend(users::menus());
    menus.extend(bgp::menus());
    menus.extend(ospf::menus());
    menus.extend(route::menus());
    menus.extend(bfd::menus());
    menus.extend(vrrp::menus());
    menus.extend(netwatch::menus());
    menus.extend(queue::menus());
    menus.extend(ipsec::menus());
    menus.extend(container::menus());
    menus.extend(ntp::menus());
    menus.extend(dns::menus());
    menus.extend(certificate::menus());
    menus.extend(clock::menus());
    menus
}

/// Helper: builds a row from string pairs.
pub fn row<K: Into<String>, V: Into<Vec<u8>>>(pairs: impl IntoIterator<Item = (K, V)>) -> SimRow {
    pairs
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

/// Appends `(key, value)` to a row.
pub(crate) fn push(row: &mut SimRow, key: &str, value: impl Into<Vec<u8>>) {
    row.push((key.to_owned(), value.into()));
}

#[cfg(any(test, feature = "testkit"))]
pub mod testkit {
    //! Views and row accessors for the menu tests.

    use super::{RouterView, Scale, SimRow};
    use crate::personality::Personality;
    use std::time::Duration;

    /// 2026-03-01 12:00:00 (router local time).
    pub const NOW: i64 = 1_772_366_400;

    /// Owns what a [`RouterView`] borrows.
    pub struct Fixture {
        /// The personality the view borrows.
        pub personality: Personality,
        /// The scale the view borrows.
        pub scale: Scale,
    }

    impl Fixture {
        /// Default RouterOS 6 personality, default scale.
        pub fn v6() -> Self {
            Self::with(Personality::v6())
        }

        /// Default RouterOS 7 personality, default scale.
        pub fn v7() -> Self {
            Self::with(Personality::v7())
        }

        /// A personality with the default scale.
        pub fn with(personality: Personality) -> Self {
            Self {
                personality,
                scale: Scale::default(),
            }
        }

        /// Router `index` at `uptime_secs` after boot, at [`NOW`], asked
        /// over one API connection.
        pub fn view(&self, index: usize, uptime_secs: u64) -> RouterView<'_> {
            RouterView {
                name: "sim-router",
                index,
                personality: &self.personality,
                scale: &self.scale,
                uptime: Duration::from_secs(uptime_secs),
                now_unix: NOW,
                api_sessions: 1,
            }
        }
    }

    /// The raw value of `key`, if present.
    pub fn get<'a>(row: &'a SimRow, key: &str) -> Option<&'a [u8]> {
        row.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// The value of `key` as text (panics on non-UTF-8: test helper).
    pub fn text<'a>(row: &'a SimRow, key: &str) -> Option<&'a str> {
        get(row, key).map(|v| std::str::from_utf8(v).expect("utf-8 value"))
    }

    /// The value of `key` as a number (panics if absent: test helper).
    pub fn num(row: &SimRow, key: &str) -> u64 {
        text(row, key)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no numeric {key} in {row:?}"))
    }

    /// The row whose `name` is `name`.
    pub fn named<'a>(rows: &'a [SimRow], name: &str) -> &'a SimRow {
        rows.iter()
            .find(|r| get(r, "name") == Some(name.as_bytes()))
            .unwrap_or_else(|| panic!("no row named {name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::testkit::{Fixture, get};
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn paths_are_unique_and_versioned() {
        let menus = registry();
        let paths: HashSet<&str> = menus.iter().map(|m| m.path()).collect();
        assert_eq!(paths.len(), menus.len());
        let v6 = Personality::v6();
        let missing: Vec<&str> = menus
            .iter()
            .filter(|m| !m.available(&v6))
            .map(|m| m.path())
            .collect();
        assert_eq!(
            missing,
            [
                "/interface/wifi",
                "/interface/wifi/registration-table",
                "/interface/wifi/capsman/remote-cap",
                "/interface/wifiwave2",
                "/interface/wifiwave2/registration-table",
                "/interface/wifiwave2/capsman/remote-cap",
                "/ipv6/firewall/nat",
                "/interface/wireguard",
                "/interface/wireguard/peers",
                "/routing/bgp/connection",
                "/routing/bgp/session",
                "/routing/bfd/session",
                "/container"
            ]
        );
        let statics: Vec<&str> = menus
            .iter()
            .filter(|m| m.is_static())
            .map(|m| m.path())
            .collect();
        assert_eq!(
            statics,
            ["/ip/firewall/connection", "/ipv6/firewall/connection"]
        );
    }

    /// The default scale, a CHR, nothing at all, and one of everything.
    fn scales_to_render() -> [Scale; 4] {
        [
            Scale::default(),
            Board::Chr.scale(),
            Scale {
                interfaces: 0,
                firewall_rules: 0,
                conntrack: 0,
                conntrack_v6: 0,
                wireguard_peers: 0,
                certificates: 0,
                sfp_ports: 0,
                poe_ports: 0,
                lte_modems: 0,
                wifi: WifiStack::None,
                wireless_radios: 0,
                wireless_clients: 0,
                capsman_caps: 0,
                capsman_clients: 0,
                dhcp_leases: 0,
                ppp_sessions: 0,
                hotspot_users: 0,
                bgp_sessions: 0,
                ospf_neighbors: 0,
                routes: 0,
                routes_v6: 0,
                vrrp_instances: 0,
                netwatch_hosts: 0,
                simple_queues: 0,
                queue_tree: 0,
                ipsec_peers: 0,
                containers: 0,
            },
            Scale {
                interfaces: 2,
                firewall_rules: 1,
                conntrack: 1,
                conntrack_v6: 1,
                wireguard_peers: 1,
                certificates: 1,
                sfp_ports: 1,
                poe_ports: 1,
                lte_modems: 1,
                wifi: WifiStack::Auto,
                wireless_radios: 1,
                wireless_clients: 1,
                capsman_caps: 1,
                capsman_clients: 1,
                dhcp_leases: 1,
                ppp_sessions: 1,
                hotspot_users: 1,
                bgp_sessions: 1,
                ospf_neighbors: 1,
                routes: 1,
                routes_v6: 1,
                vrrp_instances: 1,
                netwatch_hosts: 1,
                simple_queues: 1,
                queue_tree: 1,
                ipsec_peers: 1,
                containers: 1,
            },
        ]
    }

    #[test]
    fn every_menu_renders_deterministically_at_any_scale() {
        let scales = scales_to_render();
        // Tables of a million rows are only ever counted (lazily), not
        // rendered twice per index here.
        let boards = Board::ALL
            .iter()
            .map(|b| b.scale())
            .filter(|s| s.routes <= 100_000);
        for scale in scales.into_iter().chain(boards) {
            for mut f in [Fixture::v6(), Fixture::v7()] {
                f.scale = scale.clone();
                for index in 0..5 {
                    let view = f.view(index, 12_345);
                    for m in registry().iter().filter(|m| m.available(&f.personality)) {
                        let rows = m.rows(&view);
                        assert_eq!(rows, m.rows(&view), "{}", m.path());
                        for r in &rows {
                            assert!(r.iter().all(|(k, _)| !k.is_empty() && !k.contains('=')));
                            if let Some(ident) = get(r, ".id") {
                                assert_eq!(ident.first(), Some(&b'*'), "{}", m.path());
                            }
                        }
                    }
                }
            }
        }
    }
}
