//! The legacy CAPsMAN of the `wireless` package: `/caps-man/interface` (one
//! dynamic `capN` per managed access point, with `current-channel` and
//! `current-registered-clients`), `/caps-man/registration-table` (`ssid`,
//! `rx-signal`, `tx,rx` pairs) and `/caps-man/remote-cap`. The menus exist
//! wherever the legacy package runs, and are empty unless the router manages
//! access points.
//!
//! Of three or more CAP interfaces the last one takes its SSID from a named
//! configuration only (`configuration=cfg-guest`, no `configuration.ssid`):
//! its SSID is then only known from its clients' rows.

use super::{Band, Client, Radio, cap_radios, clients};
use crate::menus::format::{boolean, id, secs};
use crate::menus::{Menu, RouterView, SimRow, WifiStack, push};
use std::sync::Arc;

/// The legacy CAPsMAN menus.
pub(super) fn menus() -> Vec<Arc<dyn Menu>> {
    vec![
        Arc::new(Interfaces),
        Arc::new(Registrations),
        Arc::new(RemoteCaps),
    ]
}

/// MAC prefix of the CAP interfaces' clients.
const CAP_OUI: [u8; 2] = [0x5C, 0xE9];

/// Whether the legacy package (and so `/caps-man`) runs.
fn installed(view: &RouterView<'_>) -> bool {
    view.wifi() == WifiStack::Wireless
}

fn caps(view: &RouterView<'_>) -> Vec<Radio> {
    cap_radios(view, WifiStack::Wireless, "cap")
}

/// The clients of `caps`.
fn cap_clients<'r>(view: &RouterView<'_>, caps: &'r [Radio]) -> Vec<Client<'r>> {
    clients(view, caps, view.scale.capsman_clients, CAP_OUI)
}

/// `/caps-man/interface`.
struct Interfaces;

impl Interfaces {
    fn render(r: &Radio, n: usize, registered: usize) -> SimRow {
        let mut row: SimRow = Vec::with_capacity(22);
        push(&mut row, ".id", id(r.index as u64 + 1));
        push(&mut row, "name", r.name.as_str());
        push(&mut row, "mtu", "1500");
        push(&mut row, "l2mtu", "1600");
        push(&mut row, "radio-mac", r.mac(1));
        push(&mut row, "mac-address", r.mac(0));
        push(&mut row, "master-interface", "none");
        push(&mut row, "configuration", format!("cfg-{}", r.ssid));
        if n < 3 || r.index != n - 1 {
            push(&mut row, "configuration.mode", "ap");
            push(&mut row, "configuration.ssid", r.ssid);
        }
        let (band, channel) = match r.band {
            Band::Ghz2 => ("2ghz-b/g/n", format!("{}/20-Ce/gn(17dBm)", r.frequency)),
            Band::Ghz5 => ("5ghz-a/n/ac", format!("{}/20-Ceee/ac(23dBm)", r.frequency)),
        };
        push(&mut row, "channel.band", band);
        push(&mut row, "current-state", "Running AP");
        push(&mut row, "current-channel", channel);
        push(
            &mut row,
            "current-rate-set",
            "OFDM:6-54 BW:1x-2x SGI:1x-2x HT:0-15",
        );
        push(
            &mut row,
            "current-registered-clients",
            registered.to_string(),
        );
        push(
            &mut row,
            "current-authorized-clients",
            registered.to_string(),
        );
        push(&mut row, "dynamic", "true");
        push(&mut row, "master", "true");
        push(&mut row, "bound", "true");
        push(&mut row, "inactive", "false");
        push(&mut row, "running", boolean(r.enabled));
        push(&mut row, "disabled", "false");
        row
    }
}

impl Menu for Interfaces {
    fn path(&self) -> &'static str {
        "/caps-man/interface"
    }

    fn installed(&self, view: &RouterView<'_>) -> bool {
        installed(view)
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let caps = caps(view);
        let clients = cap_clients(view, &caps);
        caps.iter()
            .map(|r| {
                let registered = clients.iter().filter(|c| c.radio.name == r.name).count();
                Self::render(r, caps.len(), registered)
            })
            .collect()
    }
}

/// `/caps-man/registration-table`.
struct Registrations;

impl Menu for Registrations {
    fn path(&self) -> &'static str {
        "/caps-man/registration-table"
    }

    fn installed(&self, view: &RouterView<'_>) -> bool {
        installed(view)
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let caps = caps(view);
        cap_clients(view, &caps)
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let (tx, rx) = c.bytes(view);
                let rates: &[&str] = match c.radio.band {
                    Band::Ghz2 => &["130Mbps-20MHz/2S", "65Mbps-20MHz/1S"],
                    Band::Ghz5 => &["866.7Mbps-80MHz/2S/SGI", "585Mbps-80MHz/2S"],
                };
                let mut row: SimRow = Vec::with_capacity(13);
                push(&mut row, ".id", id(k as u64 + 1));
                push(&mut row, "interface", c.radio.name.as_str());
                push(&mut row, "ssid", c.radio.ssid);
                push(&mut row, "mac-address", c.mac.as_str());
                push(&mut row, "eap-identity", "");
                push(&mut row, "rx-signal", c.signal(view).to_string());
                push(&mut row, "uptime", secs(c.uptime(view)));
                push(&mut row, "packets", c.packets(view));
                push(&mut row, "bytes", format!("{tx},{rx}"));
                push(&mut row, "tx-rate", c.rate(view, rates, 2));
                push(&mut row, "rx-rate", c.rate(view, rates, 1));
                push(&mut row, "tx-rate-set", "OFDM:6-54 BW:1x SGI:1x HT:0-15");
                push(&mut row, "comment", "");
                row
            })
            .collect()
    }
}

/// `/caps-man/remote-cap`: the access points connected to the controller.
struct RemoteCaps;

impl Menu for RemoteCaps {
    fn path(&self) -> &'static str {
        "/caps-man/remote-cap"
    }

    fn installed(&self, view: &RouterView<'_>) -> bool {
        installed(view)
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        caps(view)
            .iter()
            .map(|cap| {
                let mut row: SimRow = Vec::with_capacity(8);
                push(&mut row, ".id", id(cap.index as u64 + 1));
                push(&mut row, "address", format!("{}/Layer2", cap.mac(2)));
                push(&mut row, "identity", format!("ap-{}", cap.index + 1));
                push(&mut row, "version", view.personality.version.to_string());
                push(&mut row, "board", "RBcAPGi-5acD2nD");
                push(&mut row, "base-mac", cap.mac(2));
                push(&mut row, "state", "Run");
                push(&mut row, "radios", "1");
                row
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::Board;
    use crate::menus::testkit::{Fixture, get, named, num, text};

    #[test]
    fn v6_controller_lists_its_access_points_and_their_clients() {
        let mut f = Fixture::v6();
        f.scale = Board::CapsmanController.scale();
        let view = f.view(0, 900);
        assert!(Interfaces.installed(&view));
        let rows = Interfaces.rows(&view);
        assert_eq!(rows.len(), 4);
        let cap1 = named(&rows, "cap1");
        assert_eq!(text(cap1, "configuration.ssid"), Some("office"));
        assert!(text(cap1, "current-channel").is_some_and(|c| c.starts_with("24")));
        assert!(get(named(&rows, "cap4"), "configuration.ssid").is_none());
        let reg = Registrations.rows(&view);
        assert_eq!(reg.len(), f.scale.capsman_clients);
        let listed: u64 = rows
            .iter()
            .map(|r| num(r, "current-registered-clients"))
            .sum();
        assert_eq!(listed, reg.len() as u64);
        assert!(text(&reg[0], "rx-signal").is_some_and(|s| s.starts_with('-')));
        assert!(
            reg.iter()
                .any(|r| get(r, "interface") == Some(b"cap4") && get(r, "ssid") == Some(b"office"))
        );
        assert_eq!(RemoteCaps.rows(&view).len(), 4);
    }

    #[test]
    fn an_access_point_is_no_controller() {
        let mut f = Fixture::v6();
        f.scale = Board::WirelessAp.scale();
        let view = f.view(0, 900);
        assert!(Interfaces.installed(&view));
        assert!(Interfaces.rows(&view).is_empty());
        assert!(Registrations.rows(&view).is_empty());
        assert!(RemoteCaps.rows(&view).is_empty());
        let v7 = Fixture::v7();
        assert!(!Interfaces.installed(&v7.view(0, 900)));
    }
}
