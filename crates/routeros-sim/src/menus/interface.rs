//! `/interface` and `/interface/ethernet` (with `monitor`).
//!
//! Every router has `scale.interfaces` ethernet ports with fixed roles:
//! `ether1` is the uplink (comment `uplink=isp1`, fast enough that its byte
//! counters pass 2^32 within two minutes of boot), `ether2` has a CP1251
//! comment (invalid UTF-8), `ether3` a UTF-8 comment, a 100 Mbps link and
//! link flaps, `ether4` a 10 Mbps half-duplex link; the second-to-last port
//! never came up and the last one is disabled. Then come the
//! `scale.sfp_ports` SFP+ cages `sfp-sfpplus1`, … (type `ether`, 10 Gbps,
//! auto-negotiation off; the second cage is empty and never up, see
//! [`sfp`](super::sfp) for their monitor fields), `bridge1`, `vlan100`, a
//! loopback, `wireguard1` (v7) and, for every PPP session of `/ppp/active`
//! but dial-up ones, the dynamic interface of its server binding
//! (`<pppoe-sub-00001>`, type `pppoe-in`, `<l2tp-vpn-2>`, …): a new `.id`
//! and counters from zero at every reconnect.

use super::format::{self, DateStyle, boolean, cp1251, id};
use super::synth::{counter_since, hash, pick};
use super::{Menu, RouterView, SimRow, ppp, push, sfp};
use std::sync::Arc;
use std::time::Duration;

/// The interface menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Interfaces), Arc::new(Ethernet)]
}

/// Link flaps of the flapping port: (seconds after boot of going down, back up).
const FLAPS: [(u64, u64); 3] = [(120, 125), (3_720, 3_731), (86_520, 86_522)];

/// What an ethernet port is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Uplink,
    Cp1251,
    Flappy,
    /// A 10 Mbps half-duplex link (an old device).
    HalfDuplex,
    Normal,
    NeverUp,
    Disabled,
}

fn role(i: usize, n: usize) -> Role {
    match i {
        0 => Role::Uplink,
        _ if n >= 3 && i == n - 1 => Role::Disabled,
        _ if n >= 4 && i == n - 2 => Role::NeverUp,
        1 => Role::Cp1251,
        2 => Role::Flappy,
        3 => Role::HalfDuplex,
        _ => Role::Normal,
    }
}

/// Interface type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ether(Role),
    /// SFP+ cage number `.0` (0-based).
    Sfp(usize),
    Bridge,
    Vlan,
    Loopback,
    Wg,
    /// The dynamic interface of a PPP server binding.
    Ppp,
}

impl Kind {
    /// Ethernet ports and SFP cages (both in `/interface/ethernet`).
    fn is_ethernet(self) -> bool {
        matches!(self, Kind::Ether(_) | Kind::Sfp(_))
    }
}

/// One simulated interface, before rendering.
#[derive(Debug)]
struct Iface {
    id: u64,
    name: String,
    kind: Kind,
    type_name: &'static str,
    mtu: String,
    actual_mtu: u64,
    l2mtu: Option<u64>,
    mac: Option<String>,
    comment: Option<Vec<u8>>,
    dynamic: Option<bool>,
    slave: bool,
    /// Seconds after boot the link first came up (`None`: never, or disabled).
    up_at: Option<u64>,
    /// Receive rate in bytes/s (transmit derives from it).
    rx_rate: u64,
    tx_rate: u64,
    seed: u64,
}

/// The state of a link at the view's uptime.
struct LinkState {
    running: bool,
    link_downs: u64,
    last_up: Option<u64>,
    last_down: Option<u64>,
}

impl Iface {
    fn disabled(&self) -> bool {
        self.kind == Kind::Ether(Role::Disabled)
    }

    fn link(&self, up: u64) -> LinkState {
        let Some(first) = self.up_at.filter(|&t| t <= up) else {
            return LinkState {
                running: false,
                link_downs: 0,
                last_up: None,
                last_down: None,
            };
        };
        let mut st = LinkState {
            running: true,
            link_downs: 0,
            last_up: Some(first),
            last_down: None,
        };
        if self.kind == Kind::Ether(Role::Flappy) {
            for (down, back) in FLAPS.iter().filter(|(d, _)| *d <= up) {
                st.link_downs += 1;
                st.last_down = Some(*down);
                st.running = *back <= up;
                if st.running {
                    st.last_up = Some(*back);
                }
            }
        }
        st
    }

    /// Counter of `rate` units/s since the link came up (0 when never up).
    fn count(&self, view: &RouterView<'_>, rate: u64, salt: u64) -> u64 {
        match self.up_at {
            Some(start) => counter_since(
                rate,
                view.uptime,
                Duration::from_secs(start),
                self.seed ^ salt,
            ),
            None => 0,
        }
    }
}

/// Builds the router's interfaces in `.id` order.
fn interfaces(view: &RouterView<'_>) -> Vec<Iface> {
    let v7 = view.personality.is_v7();
    let n = view.scale.interfaces;
    let idx = view.index as u64;
    let mut out = Vec::with_capacity(n + 6);
    if v7 {
        out.push(Iface {
            id: 0,
            name: "lo".to_owned(),
            kind: Kind::Loopback,
            type_name: "loopback",
            mtu: "65536".to_owned(),
            actual_mtu: 65_536,
            l2mtu: None,
            mac: Some(format::mac([0; 6])),
            comment: None,
            dynamic: None,
            slave: false,
            up_at: Some(0),
            rx_rate: 40,
            tx_rate: 40,
            seed: hash(&[idx, 0x10]),
        });
    }
    out.extend((0..n).map(|i| ether(idx, i, n)));
    out.extend((0..view.scale.sfp_ports).map(|c| sfp_cage(idx, c, n)));
    out.extend(bridge_and_vlan(idx, v7));
    out.push(if v7 { wireguard(idx) } else { v6_loopback(idx) });
    for (i, f) in out.iter_mut().enumerate() {
        f.id = i as u64 + 1;
    }
    out.extend(ppp::sessions(view).filter_map(|s| ppp_binding(view, &s)));
    out
}

/// The MAC address of ethernet port `port` (1-based) of router `idx`.
fn mac_of(idx: u64, port: u64) -> String {
    let [_, _, _, _, _, _, a, b] = (idx << 16 | port).to_be_bytes();
    format::mac([0xE4, 0x8D, 0x8C, a, b, 0xA0])
}

/// Ethernet port `i` (0-based) of `n` on router `idx`.
fn ether(idx: u64, i: usize, n: usize) -> Iface {
    let role = role(i, n);
    let seed = hash(&[idx, i as u64]);
    let (rx_rate, tx_rate) = match role {
        Role::Uplink => (
            40_000_000 * (1 + idx % 3),
            6_000_000 + pick(seed, 0, 1_000_000),
        ),
        Role::NeverUp | Role::Disabled => (0, 0),
        _ => (
            pick(seed, 20_000, 900_000),
            pick(seed >> 20, 50_000, 4_000_000),
        ),
    };
    let comment = match role {
        Role::Uplink => Some(b"uplink=isp1".to_vec()),
        Role::Cp1251 => Some(cp1251("апартамент 12")),
        Role::Flappy => Some("Склад – 2 этаж".as_bytes().to_vec()),
        _ => None,
    };
    Iface {
        id: 0,
        name: format!("ether{}", i + 1),
        kind: Kind::Ether(role),
        type_name: "ether",
        mtu: "1500".to_owned(),
        actual_mtu: 1500,
        l2mtu: Some(1592),
        mac: Some(mac_of(idx, i as u64 + 1)),
        comment,
        dynamic: None,
        slave: i > 0,
        up_at: match role {
            Role::NeverUp | Role::Disabled => None,
            _ => Some(3 + i as u64),
        },
        rx_rate,
        tx_rate,
        seed,
    }
}

/// SFP+ cage `c` (0-based) on router `idx`, after its `n` ethernet ports:
/// up at 10 Gbps when it holds a module, never up when empty.
fn sfp_cage(idx: u64, c: usize, n: usize) -> Iface {
    let module = sfp::holds_module(c);
    let seed = hash(&[idx, 0x60, c as u64]);
    let (rx_rate, tx_rate) = if module {
        (
            pick(seed, 2_000_000, 60_000_000),
            pick(seed >> 24, 1_000_000, 30_000_000),
        )
    } else {
        (0, 0)
    };
    Iface {
        id: 0,
        name: format!("sfp-sfpplus{}", c + 1),
        kind: Kind::Sfp(c),
        type_name: "ether",
        mtu: "1500".to_owned(),
        actual_mtu: 1500,
        l2mtu: Some(1592),
        mac: Some(mac_of(idx, (n + c + 1) as u64)),
        comment: None,
        dynamic: None,
        slave: false,
        up_at: module.then_some(3 + (n + c) as u64),
        rx_rate,
        tx_rate,
        seed,
    }
}

/// `bridge1` (MTU `auto` on v7) and `vlan100` on it, sharing its MAC.
fn bridge_and_vlan(idx: u64, v7: bool) -> [Iface; 2] {
    let bridge_mac = mac_of(idx, 2);
    [
        Iface {
            id: 0,
            name: "bridge1".to_owned(),
            kind: Kind::Bridge,
            type_name: "bridge",
            mtu: (if v7 { "auto" } else { "1500" }).to_owned(),
            actual_mtu: 1500,
            l2mtu: Some(1592),
            mac: Some(bridge_mac.clone()),
            comment: None,
            dynamic: v7.then_some(false),
            slave: false,
            up_at: Some(5),
            rx_rate: 1_500_000,
            tx_rate: 9_000_000,
            seed: hash(&[idx, 0x20]),
        },
        Iface {
            id: 0,
            name: "vlan100".to_owned(),
            kind: Kind::Vlan,
            type_name: "vlan",
            mtu: "1500".to_owned(),
            actual_mtu: 1500,
            l2mtu: Some(1588),
            mac: Some(bridge_mac),
            comment: Some(b"mgmt".to_vec()),
            dynamic: None,
            slave: false,
            up_at: Some(6),
            rx_rate: 2_000,
            tx_rate: 12_000,
            seed: hash(&[idx, 0x30]),
        },
    ]
}

/// `wireguard1` (v7 only).
fn wireguard(idx: u64) -> Iface {
    Iface {
        id: 0,
        name: "wireguard1".to_owned(),
        kind: Kind::Wg,
        type_name: "wg",
        mtu: "1420".to_owned(),
        actual_mtu: 1420,
        l2mtu: None,
        mac: None,
        comment: None,
        dynamic: None,
        slave: false,
        up_at: Some(4),
        rx_rate: 250_000,
        tx_rate: 60_000,
        seed: hash(&[idx, 0x40]),
    }
}

/// The v6 habit of a loopback made from an empty bridge.
fn v6_loopback(idx: u64) -> Iface {
    Iface {
        id: 0,
        name: "loopback".to_owned(),
        kind: Kind::Loopback,
        type_name: "bridge",
        mtu: "1500".to_owned(),
        actual_mtu: 1500,
        l2mtu: Some(65_535),
        mac: Some(format::mac([0x42, 0xCB, 0x8A, 0x1D, 0xB3, idx as u8])),
        comment: Some(b"Loopback1".to_vec()),
        dynamic: None,
        slave: false,
        up_at: Some(2),
        rx_rate: 40,
        tx_rate: 40,
        seed: hash(&[idx, 0x10]),
    }
}

/// The dynamic interface of PPP session `s` (`None` for dial-up, which the
/// simulator gives no interface): up since the session connected, with an
/// `.id` that is new at every reconnect, as RouterOS makes the interface anew.
fn ppp_binding(view: &RouterView<'_>, s: &ppp::Session) -> Option<Iface> {
    if s.service == "async" {
        return None;
    }
    let seed = hash(&[s.seed, s.generation, 0x50]);
    let mtu: u64 = if s.service == "pppoe" { 1480 } else { 1450 };
    Some(Iface {
        id: 0x100 + (s.index as u64) * 0x40 + s.generation % 0x40,
        name: format!("<{}-{}>", s.service, s.name),
        kind: Kind::Ppp,
        type_name: match s.service {
            "pppoe" => "pppoe-in",
            "l2tp" => "l2tp-in",
            "sstp" => "sstp-in",
            "ovpn" => "ovpn-in",
            _ => "pptp-in",
        },
        mtu: mtu.to_string(),
        actual_mtu: mtu,
        l2mtu: None,
        mac: None,
        comment: None,
        dynamic: Some(true),
        slave: false,
        up_at: Some(view.uptime.as_secs().saturating_sub(s.uptime)),
        rx_rate: pick(seed, 5_000, 60_000),
        tx_rate: pick(seed >> 20, 50_000, 900_000),
        seed,
    })
}

/// `/interface`: all interfaces with their counters.
struct Interfaces;

impl Interfaces {
    fn render(view: &RouterView<'_>, f: &Iface) -> SimRow {
        let up = view.uptime.as_secs();
        let link = f.link(up);
        let mut r: SimRow = Vec::with_capacity(32);
        push(&mut r, ".id", id(f.id));
        push(&mut r, "name", f.name.as_str());
        if f.kind.is_ethernet() {
            push(&mut r, "default-name", f.name.as_str());
        }
        push(&mut r, "type", f.type_name);
        push(&mut r, "mtu", f.mtu.as_str());
        push(&mut r, "actual-mtu", f.actual_mtu.to_string());
        if let Some(l2) = f.l2mtu {
            push(&mut r, "l2mtu", l2.to_string());
        }
        if f.kind.is_ethernet() {
            push(&mut r, "max-l2mtu", "9578");
        }
        if let Some(mac) = &f.mac {
            push(&mut r, "mac-address", mac.as_str());
        }
        let boot = view.now_unix - up as i64;
        let style = DateStyle::of(view.personality);
        for (key, at) in [
            ("last-link-down-time", link.last_down),
            ("last-link-up-time", link.last_up),
        ] {
            if let Some(t) = at {
                push(&mut r, key, format::date(boot + t as i64, style));
            }
        }
        push(&mut r, "link-downs", link.link_downs.to_string());
        Self::push_counters(&mut r, view, f);
        if !view.personality.is_v7() && f.kind.is_ethernet() {
            push(&mut r, "fast-path", "true");
        }
        push(&mut r, "running", boolean(link.running));
        if f.slave {
            push(&mut r, "slave", "true");
        }
        if let Some(d) = f.dynamic {
            push(&mut r, "dynamic", boolean(d));
        }
        push(&mut r, "disabled", boolean(f.disabled()));
        if let Some(c) = &f.comment {
            push(&mut r, "comment", c.clone());
        }
        r
    }

    /// Byte, packet, drop and error counters, then their fast-path shares.
    fn push_counters(r: &mut SimRow, view: &RouterView<'_>, f: &Iface) {
        let rx = f.count(view, f.rx_rate, 1);
        let tx = f.count(view, f.tx_rate, 2);
        let (rx_size, tx_size) = if f.kind == Kind::Ether(Role::Uplink) {
            (1_200, 400)
        } else {
            (700, 900)
        };
        let (rxp, txp) = (rx / rx_size, tx / tx_size);
        let uplink = f.kind == Kind::Ether(Role::Uplink);
        let flappy = f.kind == Kind::Ether(Role::Flappy);
        let slow = |per: u64, on: bool| if on { f.count(view, 2, 3) / per } else { 0 };
        for (k, v) in [
            ("rx-byte", rx),
            ("tx-byte", tx),
            ("rx-packet", rxp),
            ("tx-packet", txp),
            ("rx-drop", slow(40, uplink)),
            ("tx-drop", 0),
            ("tx-queue-drop", slow(25, uplink)),
            ("rx-error", slow(1_200, flappy)),
            ("tx-error", 0),
        ] {
            push(r, k, v.to_string());
        }
        let fast = f.kind.is_ethernet() || matches!(f.kind, Kind::Bridge | Kind::Vlan);
        let fp = |v: u64| if fast { v / 10 * 9 } else { 0 };
        for (k, v) in [
            ("fp-rx-byte", fp(rx)),
            ("fp-tx-byte", fp(tx)),
            ("fp-rx-packet", fp(rxp)),
            ("fp-tx-packet", fp(txp)),
        ] {
            push(r, k, v.to_string());
        }
    }
}

impl Menu for Interfaces {
    fn path(&self) -> &'static str {
        "/interface"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        interfaces(view)
            .iter()
            .map(|f| Self::render(view, f))
            .collect()
    }
}

/// `/interface/ethernet`: the ethernet ports and SFP cages, and their `monitor`.
struct Ethernet;

/// The link modes a port (or its link partner) offers.
#[derive(Debug, Clone, Copy)]
enum Modes {
    /// 10/100/1000 copper.
    Gigabit,
    /// 10/100 copper.
    Fast,
    /// 10 Mbps half duplex only.
    TenHalf,
    /// An SFP+ cage: 1G and 10G.
    SfpPlus,
}

impl Modes {
    /// The modes as RouterOS lists them (v6 and v7 spell them differently).
    fn list(self, v7: bool) -> &'static str {
        match (self, v7) {
            (Modes::Gigabit, true) => {
                "10M-baseT-half,10M-baseT-full,100M-baseT-half,100M-baseT-full,1G-baseT-half,1G-baseT-full"
            }
            (Modes::Fast, true) => "10M-baseT-half,10M-baseT-full,100M-baseT-half,100M-baseT-full",
            (Modes::TenHalf, true) => "10M-baseT-half",
            (Modes::SfpPlus, true) => "1G-baseX,10G-baseSR-LR,10G-baseCR",
            (Modes::Gigabit, false) => {
                "10M-half,10M-full,100M-half,100M-full,1000M-half,1000M-full"
            }
            (Modes::Fast, false) => "10M-half,10M-full,100M-half,100M-full",
            (Modes::TenHalf, false) => "10M-half",
            (Modes::SfpPlus, false) => "1000M-full,10000M-full",
        }
    }

    /// What the port's hardware supports.
    fn of_port(kind: Kind) -> Self {
        match kind {
            Kind::Sfp(_) => Modes::SfpPlus,
            _ => Modes::Gigabit,
        }
    }
}

/// The link a running port negotiated: `rate`, full duplex, and the modes of
/// its link partner.
fn negotiated(kind: Kind) -> (&'static str, bool, Modes) {
    match kind {
        Kind::Sfp(_) => ("10Gbps", true, Modes::SfpPlus),
        Kind::Ether(Role::Flappy) => ("100Mbps", true, Modes::Fast),
        Kind::Ether(Role::HalfDuplex) => ("10Mbps", false, Modes::TenHalf),
        _ => ("1Gbps", true, Modes::Gigabit),
    }
}

impl Ethernet {
    fn render(view: &RouterView<'_>, f: &Iface) -> SimRow {
        let v7 = view.personality.is_v7();
        let cage = matches!(f.kind, Kind::Sfp(_));
        let link = f.link(view.uptime.as_secs());
        let mac = f.mac.clone().unwrap_or_default();
        let rx = f.count(view, f.rx_rate, 1);
        let tx = f.count(view, f.tx_rate, 2);
        let mut r: SimRow = Vec::with_capacity(24);
        push(&mut r, ".id", id(f.id));
        push(&mut r, "name", f.name.as_str());
        push(&mut r, "default-name", f.name.as_str());
        push(&mut r, "mtu", f.mtu.as_str());
        push(&mut r, "l2mtu", "1592");
        push(&mut r, "mac-address", mac.as_str());
        push(&mut r, "orig-mac-address", mac);
        push(&mut r, "arp", "enabled");
        push(&mut r, "auto-negotiation", boolean(!cage));
        push(&mut r, "advertise", Modes::of_port(f.kind).list(v7));
        if !v7 {
            push(&mut r, "speed", if cage { "10Gbps" } else { "1Gbps" });
            push(&mut r, "full-duplex", "true");
        }
        push(&mut r, "loop-protect", "default");
        for (k, v) in [
            ("rx-bytes", rx),
            ("tx-bytes", tx),
            ("rx-packet", rx / 700),
            ("tx-packet", tx / 900),
            ("rx-broadcast", rx / 70_000),
            ("rx-multicast", rx / 35_000),
            ("tx-broadcast", tx / 90_000),
            ("tx-multicast", tx / 45_000),
        ] {
            push(&mut r, k, v.to_string());
        }
        push(&mut r, "running", boolean(link.running));
        if f.slave {
            push(&mut r, "slave", "true");
        }
        push(&mut r, "disabled", boolean(f.disabled()));
        if let Some(c) = &f.comment {
            push(&mut r, "comment", c.clone());
        }
        r
    }
}

impl Menu for Ethernet {
    fn path(&self) -> &'static str {
        "/interface/ethernet"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        interfaces(view)
            .iter()
            .filter(|f| f.kind.is_ethernet())
            .map(|f| Self::render(view, f))
            .collect()
    }

    /// Link state of a port; SFP cages add their `sfp-*` fields.
    fn monitor(&self, view: &RouterView<'_>, item: &str) -> Option<SimRow> {
        let ifaces = interfaces(view);
        let f = ifaces
            .iter()
            .find(|f| f.kind.is_ethernet() && f.name == item)?;
        let v7 = view.personality.is_v7();
        let own = Modes::of_port(f.kind).list(v7);
        let cage = match f.kind {
            Kind::Sfp(c) => Some(c),
            _ => None,
        };
        let autoneg = if cage.is_some() { "disabled" } else { "done" };
        let mut r: SimRow = Vec::with_capacity(28);
        push(&mut r, "name", f.name.as_str());
        if f.link(view.uptime.as_secs()).running {
            let (rate, full, partner) = negotiated(f.kind);
            push(&mut r, "status", "link-ok");
            push(&mut r, "auto-negotiation", autoneg);
            push(&mut r, "rate", rate);
            push(&mut r, "full-duplex", boolean(full));
            push(&mut r, "tx-flow-control", "false");
            push(&mut r, "rx-flow-control", "false");
            push(&mut r, "advertising", own);
            push(&mut r, "link-partner-advertising", partner.list(v7));
        } else {
            push(&mut r, "status", "no-link");
            push(&mut r, "auto-negotiation", autoneg);
            push(&mut r, "advertising", own);
            push(&mut r, "link-partner-advertising", "");
        }
        push(&mut r, "supported", own);
        if let Some(c) = cage {
            sfp::push_fields(&mut r, view, c);
        }
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, get, named, num, text};

    #[test]
    fn v7_interface_set() {
        let f = Fixture::v7();
        let rows = Interfaces.rows(&f.view(0, 3_600));
        let sessions = f.scale.ppp_sessions;
        assert_eq!(
            rows.len(),
            f.scale.interfaces + f.scale.sfp_ports + 4 + sessions
        );
        let lo = &rows[0];
        assert_eq!(text(lo, "name"), Some("lo"));
        assert_eq!(text(lo, "type"), Some("loopback"));
        assert_eq!(text(lo, ".id"), Some("*1"));
        assert_eq!(text(named(&rows, "bridge1"), "mtu"), Some("auto"));
        assert_eq!(text(named(&rows, "wireguard1"), "type"), Some("wg"));
        let ppp = named(&rows, "<pppoe-sub-00001>");
        assert_eq!(text(ppp, "type"), Some("pppoe-in"));
        assert_eq!(text(ppp, "dynamic"), Some("true"));
        assert_eq!(text(named(&rows, "<l2tp-vpn-2>"), "type"), Some("l2tp-in"));
        // Configured interfaces have no `dynamic` flag but bridge1's.
        assert!(get(named(&rows, "ether1"), "dynamic").is_none());
        assert!(get(ppp, "mac-address").is_none());
        assert!(get(ppp, "l2mtu").is_none());
        assert!(get(ppp, "comment").is_none());
        let e1 = named(&rows, "ether1");
        assert_eq!(text(e1, "default-name"), Some("ether1"));
        assert_eq!(text(e1, "comment"), Some("uplink=isp1"));
        let mac = text(e1, "mac-address").unwrap_or_default();
        assert_eq!(mac, mac.to_uppercase());
        assert!(
            text(e1, "last-link-up-time").is_some_and(|d| d.starts_with("2026-03-01 ")),
            "{e1:?}"
        );
    }

    #[test]
    fn v6_interface_set() {
        let f = Fixture::v6();
        let rows = Interfaces.rows(&f.view(0, 100_000));
        let sessions = f.scale.ppp_sessions;
        assert_eq!(
            rows.len(),
            f.scale.interfaces + f.scale.sfp_ports + 3 + sessions
        );
        assert!(rows.iter().all(|r| get(r, "type") != Some(b"wg")));
        assert_eq!(text(named(&rows, "bridge1"), "mtu"), Some("1500"));
        assert_eq!(text(named(&rows, "loopback"), "type"), Some("bridge"));
        let e3 = named(&rows, "ether3");
        let down = text(e3, "last-link-down-time").unwrap_or_default();
        assert!(down.starts_with("mar/01/2026 08:15:20"), "{down}");
        assert_eq!(num(e3, "link-downs"), 3);
        assert_eq!(text(e3, "fast-path"), Some("true"));
    }

    #[test]
    fn comments_absent_present_and_encoded() {
        let f = Fixture::v7();
        let rows = Interfaces.rows(&f.view(1, 600));
        let e2 = named(&rows, "ether2");
        let c = get(e2, "comment").unwrap_or_default();
        assert!(std::str::from_utf8(c).is_err());
        assert_eq!(c, cp1251("апартамент 12"));
        assert_eq!(
            text(named(&rows, "ether3"), "comment"),
            Some("Склад – 2 этаж")
        );
        assert!(get(named(&rows, "ether4"), "comment").is_none());
    }

    #[test]
    fn special_ports() {
        let f = Fixture::v7();
        let rows = Interfaces.rows(&f.view(0, 5_000));
        let never = named(&rows, "ether7");
        assert_eq!(text(never, "running"), Some("false"));
        assert_eq!(text(never, "disabled"), Some("false"));
        assert!(get(never, "last-link-up-time").is_none());
        assert_eq!(num(never, "rx-byte"), 0);
        let off = named(&rows, "ether8");
        assert_eq!(text(off, "running"), Some("false"));
        assert_eq!(text(off, "disabled"), Some("true"));
        assert_eq!(num(off, "tx-byte"), 0);
        // Inside a flap window the port is down.
        let flapping = Interfaces.rows(&f.view(0, 122));
        assert_eq!(text(named(&flapping, "ether3"), "running"), Some("false"));
    }

    #[test]
    fn counters_grow_then_reset_on_reboot() {
        let f = Fixture::v7();
        let at = |s| Interfaces.rows(&f.view(2, s));
        let (a, b) = (at(3_600), at(7_200));
        for name in ["ether1", "ether2", "bridge1", "wireguard1"] {
            for key in ["rx-byte", "tx-byte", "rx-packet", "tx-packet"] {
                assert!(
                    num(named(&b, name), key) > num(named(&a, name), key),
                    "{name} {key}"
                );
            }
        }
        assert!(num(named(&b, "ether1"), "rx-byte") > u64::from(u32::MAX));
        let rebooted = at(60);
        assert!(num(named(&rebooted, "ether1"), "rx-byte") < num(named(&a, "ether1"), "rx-byte"));
        assert!(num(named(&at(10), "ether2"), "rx-byte") < 10_000_000);
        assert_eq!(at(7_200), b);
        assert_ne!(Interfaces.rows(&f.view(3, 7_200)), b);
    }

    #[test]
    fn ppp_bindings_follow_the_sessions_and_restart_with_them() {
        let mut f = Fixture::v7();
        f.scale.ppp_sessions = 2_000;
        let rows = Interfaces.rows(&f.view(0, 7_200));
        let bindings: Vec<&SimRow> = rows
            .iter()
            .filter(|r| text(r, "dynamic") == Some("true"))
            .collect();
        // Every session but the dial-up one, by type as by service.
        assert_eq!(bindings.len(), 1_999);
        let of_type = |t: &str| {
            bindings
                .iter()
                .filter(|r| text(r, "type") == Some(t))
                .count()
        };
        assert_eq!(of_type("pppoe-in"), 2_000 - 4 * 80 - 1);
        for t in ["l2tp-in", "sstp-in", "ovpn-in", "pptp-in"] {
            assert_eq!(of_type(t), 80, "{t}");
        }
        let ids: std::collections::HashSet<_> = rows.iter().filter_map(|r| get(r, ".id")).collect();
        assert_eq!(ids.len(), rows.len());
        // Within a day and an hour every session reconnects: at that moment
        // a new .id, counters anew, while ether1 keeps counting.
        let f = Fixture::v7();
        let at = |s| Interfaces.rows(&f.view(0, s));
        for name in ["<pppoe-sub-00001>", "<l2tp-vpn-2>", "<sstp-vpn-3>"] {
            let mut t = 3 * 86_400;
            let mut before = at(t);
            let after = loop {
                t += 300;
                assert!(t < 4 * 86_400 + 3_900, "{name} never reconnects");
                let now = at(t);
                if get(named(&now, name), ".id") != get(named(&before, name), ".id") {
                    break now;
                }
                before = now;
            };
            let (a, b) = (named(&before, name), named(&after, name));
            assert!(num(b, "rx-byte") < num(a, "rx-byte"), "{name}");
            assert!(
                num(named(&after, "ether1"), "rx-byte") > num(named(&before, "ether1"), "rx-byte")
            );
        }
    }

    #[test]
    fn ethernet_rows_and_monitor() {
        let f = Fixture::v7();
        let view = f.view(0, 1_000);
        let rows = Ethernet.rows(&view);
        assert_eq!(rows.len(), f.scale.interfaces + f.scale.sfp_ports);
        assert!(num(named(&rows, "ether1"), "rx-bytes") > 0);
        let m = Ethernet.monitor(&view, "ether1").unwrap_or_default();
        assert_eq!(m[0].0, "name");
        assert_eq!(text(&m, "status"), Some("link-ok"));
        assert_eq!(text(&m, "rate"), Some("1Gbps"));
        assert_eq!(text(&m, "full-duplex"), Some("true"));
        assert!(text(&m, "advertising").is_some_and(|a| a.contains("1G-baseT-full")));
        let m = Ethernet.monitor(&view, "ether3").unwrap_or_default();
        assert_eq!(text(&m, "rate"), Some("100Mbps"));
        let m = Ethernet.monitor(&view, "ether4").unwrap_or_default();
        assert_eq!(text(&m, "rate"), Some("10Mbps"));
        assert_eq!(text(&m, "full-duplex"), Some("false"));
        assert!(get(&m, "sfp-module-present").is_none());
        let m = Ethernet.monitor(&view, "ether7").unwrap_or_default();
        assert_eq!(text(&m, "status"), Some("no-link"));
        assert!(get(&m, "rate").is_none() && get(&m, "full-duplex").is_none());
        assert!(Ethernet.monitor(&view, "bridge1").is_none());
        assert!(Ethernet.monitor(&view, "nope").is_none());
        let f6 = Fixture::v6();
        let m = Ethernet
            .monitor(&f6.view(0, 1_000), "ether1")
            .unwrap_or_default();
        assert!(text(&m, "advertising").is_some_and(|a| a.contains("1000M-full")));
    }

    #[test]
    fn sfp_cages_follow_the_ethers_and_report_their_modules() {
        let f = Fixture::v7();
        let view = f.view(0, 1_000);
        let all = Interfaces.rows(&view);
        let names: Vec<&str> = all.iter().filter_map(|r| text(r, "name")).collect();
        let n = f.scale.interfaces;
        assert_eq!(names[n + 1..n + 3], ["sfp-sfpplus1", "sfp-sfpplus2"]);
        assert_eq!(names[n + 3], "bridge1");
        let empty = named(&all, "sfp-sfpplus2");
        assert_eq!(text(empty, "type"), Some("ether"));
        assert_eq!(text(empty, "running"), Some("false"));
        assert_eq!(text(empty, "disabled"), Some("false"));
        assert_eq!(text(named(&all, "sfp-sfpplus1"), "running"), Some("true"));
        let ports = Ethernet.rows(&view);
        assert_eq!(
            text(named(&ports, "sfp-sfpplus1"), "auto-negotiation"),
            Some("false")
        );

        let m = Ethernet.monitor(&view, "sfp-sfpplus1").unwrap_or_default();
        assert_eq!(text(&m, "status"), Some("link-ok"));
        assert_eq!(text(&m, "rate"), Some("10Gbps"));
        assert_eq!(text(&m, "auto-negotiation"), Some("disabled"));
        assert_eq!(text(&m, "sfp-module-present"), Some("true"));
        assert!(text(&m, "sfp-rx-power").is_some());
        let m = Ethernet.monitor(&view, "sfp-sfpplus2").unwrap_or_default();
        assert_eq!(text(&m, "status"), Some("no-link"));
        assert_eq!(text(&m, "sfp-module-present"), Some("false"));
        assert!(get(&m, "sfp-temperature").is_none());
        let m6 = Ethernet.monitor(&Fixture::v6().view(0, 1_000), "sfp-sfpplus1");
        let temperature = m6.as_ref().and_then(|m| text(m, "sfp-temperature"));
        assert!(
            temperature.is_some_and(|t| t.ends_with('C')),
            "{temperature:?}"
        );

        let mut chr = Fixture::v7();
        chr.scale = crate::menus::Board::Chr.scale();
        let rows = Ethernet.rows(&chr.view(0, 1_000));
        assert_eq!(rows.len(), chr.scale.interfaces);
        assert!(
            Ethernet
                .monitor(&chr.view(0, 1_000), "sfp-sfpplus1")
                .is_none()
        );
    }
}
