//! `/interface/wifi` (7.13+) and `/interface/wifiwave2` (7.1–7.12): the
//! router's radios and, on a CAPsMAN controller, one dynamic `cap-wifiN`
//! interface per access point; their registration table (`signal`, `ssid`,
//! `band`, `tx,rx` pairs) and the controller's `capsman/remote-cap`.
//!
//! Configuration comes as dotted properties (`configuration.ssid`,
//! `channel.band`); the channel in use only from `monitor` (`5180/ax/Ceee`),
//! which answers for local radios: the access points themselves monitor the
//! CAP interfaces, so here `monitor` of one traps `no such item`.

use super::{Band, Client, OUI, Radio, cap_radios, clients, has_base_capsman, local_radios};
use crate::menus::format::{self, boolean, id};
use crate::menus::{Menu, RouterView, SimRow, WifiStack, push};
use crate::personality::Personality;
use std::sync::Arc;

/// The menus of both packages.
pub(super) fn menus() -> Vec<Arc<dyn Menu>> {
    let mut menus: Vec<Arc<dyn Menu>> = Vec::with_capacity(6);
    for package in [Package::Wifi, Package::Wifiwave2] {
        menus.push(Arc::new(Interfaces(package)));
        menus.push(Arc::new(Registrations(package)));
        menus.push(Arc::new(RemoteCaps(package)));
    }
    menus
}

/// MAC prefix of the clients of CAP interfaces.
const CAP_OUI: [u8; 2] = [0x3C, 0x22];

/// Which of the two packages a menu belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Package {
    Wifi,
    Wifiwave2,
}

impl Package {
    fn stack(self) -> WifiStack {
        match self {
            Package::Wifi => WifiStack::Wifi,
            Package::Wifiwave2 => WifiStack::Wifiwave2,
        }
    }

    fn installed(self, view: &RouterView<'_>) -> bool {
        view.wifi() == self.stack() || (self == Package::Wifi && has_base_capsman(view))
    }

    /// The local radios when this package drives them.
    fn local(self, view: &RouterView<'_>) -> Vec<Radio> {
        if view.wifi() == self.stack() {
            local_radios(view)
        } else {
            Vec::new()
        }
    }

    /// Local radios, then the CAP interfaces (numbered on after them).
    fn interfaces(self, view: &RouterView<'_>) -> (Vec<Radio>, Vec<Radio>) {
        let local = self.local(view);
        let mut caps = cap_radios(view, self.stack(), "cap-wifi");
        for cap in &mut caps {
            cap.index += local.len();
        }
        (local, caps)
    }
}

/// `/interface/wifi` or `/interface/wifiwave2`, with `monitor`.
struct Interfaces(Package);

impl Interfaces {
    fn render(r: &Radio, cap: bool) -> SimRow {
        let mut row: SimRow = Vec::with_capacity(20);
        push(&mut row, ".id", id(r.index as u64 + 1));
        push(&mut row, "name", r.name.as_str());
        if !cap {
            push(&mut row, "default-name", r.name.as_str());
        }
        push(&mut row, "l2mtu", "1560");
        push(&mut row, "mac-address", r.mac(0));
        push(&mut row, "arp-timeout", "auto");
        push(&mut row, "radio-mac", r.mac(1));
        if cap {
            push(&mut row, "configuration", format!("cfg-{}", r.ssid));
        }
        push(&mut row, "configuration.mode", "ap");
        push(&mut row, "configuration.ssid", r.ssid);
        let (band, width) = match r.band {
            Band::Ghz2 => ("2ghz-ax", "20/40mhz"),
            Band::Ghz5 => ("5ghz-ax", "20/40/80mhz"),
        };
        push(&mut row, "channel.band", band);
        push(&mut row, "channel.width", width);
        if r.fixed {
            push(&mut row, "channel.frequency", r.frequency.to_string());
        }
        push(
            &mut row,
            "security.authentication-types",
            "wpa2-psk,wpa3-psk",
        );
        if cap {
            push(&mut row, "dynamic", "true");
        }
        push(&mut row, "master", "true");
        push(&mut row, "bound", "true");
        push(&mut row, "inactive", boolean(!r.enabled));
        push(&mut row, "running", boolean(r.enabled));
        push(&mut row, "disabled", boolean(!r.enabled));
        row
    }
}

impl Menu for Interfaces {
    fn path(&self) -> &'static str {
        match self.0 {
            Package::Wifi => "/interface/wifi",
            Package::Wifiwave2 => "/interface/wifiwave2",
        }
    }

    fn available(&self, personality: &Personality) -> bool {
        personality.is_v7()
    }

    fn installed(&self, view: &RouterView<'_>) -> bool {
        self.0.installed(view)
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let (local, caps) = self.0.interfaces(view);
        let local = local.iter().map(|r| Self::render(r, false));
        local
            .chain(caps.iter().map(|r| Self::render(r, true)))
            .collect()
    }

    fn monitor(&self, view: &RouterView<'_>, item: &str) -> Option<SimRow> {
        let radios = self.0.local(view);
        let r = radios.iter().find(|r| r.name == item)?;
        let mut row: SimRow = Vec::with_capacity(7);
        push(&mut row, "name", r.name.as_str());
        if !r.enabled {
            push(&mut row, "state", "disabled");
            return Some(row);
        }
        let peers = clients(view, &radios, view.scale.wireless_clients, OUI)
            .iter()
            .filter(|c| c.radio.name == r.name)
            .count();
        push(&mut row, "state", "running-ap");
        let channel = match r.band {
            Band::Ghz2 => format!("{}/ax/Ce", r.frequency),
            Band::Ghz5 => format!("{}/ax/Ceee", r.frequency),
        };
        push(&mut row, "channel", channel);
        push(&mut row, "registered-peers", peers.to_string());
        push(&mut row, "authorized-peers", peers.to_string());
        push(&mut row, "tx-power", "17");
        Some(row)
    }
}

/// `…/registration-table` of either package: local clients, then those of
/// the CAP interfaces.
struct Registrations(Package);

impl Registrations {
    fn render(view: &RouterView<'_>, k: usize, c: &Client<'_>) -> SimRow {
        let (tx, rx) = c.bytes(view);
        let (band, rates): (&str, &[&str]) = match c.radio.band {
            Band::Ghz2 => ("2ghz-ax", &["286.7Mbps-20MHz/2S", "143.4Mbps-20MHz/1S"]),
            Band::Ghz5 => ("5ghz-ax", &["1.2Gbps-80MHz/2S", "864.8Mbps-80MHz/2S"]),
        };
        let mut row: SimRow = Vec::with_capacity(15);
        push(&mut row, ".id", id(k as u64 + 1));
        push(&mut row, "interface", c.radio.name.as_str());
        push(&mut row, "ssid", c.radio.ssid);
        push(&mut row, "mac-address", c.mac.as_str());
        push(&mut row, "uptime", format::secs(c.uptime(view)));
        push(&mut row, "last-activity", "0ms");
        push(&mut row, "signal", c.signal(view).to_string());
        push(&mut row, "auth-type", "wpa2-psk");
        push(&mut row, "band", band);
        push(&mut row, "tx-rate", c.rate(view, rates, 2));
        push(&mut row, "rx-rate", c.rate(view, rates, 1));
        push(&mut row, "packets", c.packets(view));
        push(&mut row, "bytes", format!("{tx},{rx}"));
        push(&mut row, "last-ip", c.last_ip());
        row
    }
}

impl Menu for Registrations {
    fn path(&self) -> &'static str {
        match self.0 {
            Package::Wifi => "/interface/wifi/registration-table",
            Package::Wifiwave2 => "/interface/wifiwave2/registration-table",
        }
    }

    fn available(&self, personality: &Personality) -> bool {
        personality.is_v7()
    }

    fn installed(&self, view: &RouterView<'_>) -> bool {
        self.0.installed(view)
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let (local, caps) = self.0.interfaces(view);
        let mut all = clients(view, &local, view.scale.wireless_clients, OUI);
        all.extend(clients(view, &caps, view.scale.capsman_clients, CAP_OUI));
        all.iter()
            .enumerate()
            .map(|(k, c)| Self::render(view, k, c))
            .collect()
    }
}

/// `…/capsman/remote-cap`: the access points a controller manages.
struct RemoteCaps(Package);

impl Menu for RemoteCaps {
    fn path(&self) -> &'static str {
        match self.0 {
            Package::Wifi => "/interface/wifi/capsman/remote-cap",
            Package::Wifiwave2 => "/interface/wifiwave2/capsman/remote-cap",
        }
    }

    fn available(&self, personality: &Personality) -> bool {
        personality.is_v7()
    }

    fn installed(&self, view: &RouterView<'_>) -> bool {
        self.0.installed(view)
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let (_, caps) = self.0.interfaces(view);
        caps.iter()
            .enumerate()
            .map(|(i, cap)| {
                let mut row: SimRow = Vec::with_capacity(9);
                push(&mut row, ".id", id(i as u64 + 1));
                push(&mut row, "address", format!("192.168.88.{}", 10 + i % 240));
                push(&mut row, "identity", format!("ap-{}", i + 1));
                push(&mut row, "version", view.personality.version.to_string());
                push(&mut row, "board-name", "cAPGi-5HaxD2HaxD");
                push(&mut row, "base-mac", cap.mac(2));
                push(&mut row, "state", "Ok");
                push(&mut row, "radios", "1");
                row
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, get, named, text};
    use crate::personality::Version;

    #[test]
    fn v7_radios_and_their_clients() {
        let mut f = Fixture::v7();
        f.scale.wireless_radios = 3;
        f.scale.wireless_clients = 6;
        let view = f.view(0, 600);
        let menu = Interfaces(Package::Wifi);
        let rows = menu.rows(&view);
        assert_eq!(rows.len(), 3);
        let wifi1 = named(&rows, "wifi1");
        assert_eq!(text(wifi1, "configuration.ssid"), Some("office"));
        assert_eq!(text(wifi1, "channel.band"), Some("2ghz-ax"));
        assert!(get(wifi1, "channel.frequency").is_none(), "auto channel");
        assert!(get(named(&rows, "wifi2"), "channel.frequency").is_some());
        assert_eq!(text(named(&rows, "wifi3"), "running"), Some("false"));
        let m = menu.monitor(&view, "wifi1").expect("monitor");
        assert!(text(&m, "channel").is_some_and(|c| c.starts_with("24") && c.contains("/ax")));
        assert_eq!(text(&m, "state"), Some("running-ap"));
        let reg = Registrations(Package::Wifi).rows(&view);
        assert_eq!(reg.len(), 6);
        let c = &reg[0];
        assert!(text(c, "signal").is_some_and(|s| s.parse::<i64>().is_ok_and(|v| v < -30)));
        assert_eq!(text(c, "ssid"), Some("office"));
        assert!(reg.iter().all(|r| get(r, "interface") != Some(b"wifi3")));
        assert!(RemoteCaps(Package::Wifi).rows(&view).is_empty());
    }

    #[test]
    fn v7_capsman_controller_lists_cap_interfaces_and_their_clients() {
        let mut f = Fixture::v7();
        f.scale = crate::menus::Board::CapsmanController.scale();
        let view = f.view(1, 600);
        let menu = Interfaces(Package::Wifi);
        assert!(menu.installed(&view));
        let rows = menu.rows(&view);
        assert_eq!(rows.len(), f.scale.capsman_caps);
        let cap = named(&rows, "cap-wifi1");
        assert_eq!(text(cap, "dynamic"), Some("true"));
        assert!(menu.monitor(&view, "cap-wifi1").is_none());
        let reg = Registrations(Package::Wifi).rows(&view);
        assert_eq!(reg.len(), f.scale.capsman_clients);
        assert!(
            reg.iter()
                .all(|r| text(r, "interface").is_some_and(|i| i.starts_with("cap-wifi")))
        );
        let caps = RemoteCaps(Package::Wifi).rows(&view);
        assert_eq!(caps.len(), f.scale.capsman_caps);
        assert_eq!(text(&caps[0], "state"), Some("Ok"));
        // The same board on 7.12 manages its access points with wifiwave2.
        let mut old = Fixture::with(Personality::for_version(Version::new(7, 12, 1)));
        old.scale = f.scale.clone();
        let view = old.view(1, 600);
        assert!(!menu.installed(&view));
        assert_eq!(Interfaces(Package::Wifiwave2).rows(&view).len(), 4);
    }
}
