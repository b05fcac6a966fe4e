//! The wireless menus of every wireless package, driven by
//! [`RouterView::wifi`] and the scale's radio, client and CAPsMAN counts.
//!
//! * The legacy `wireless` package (RouterOS 6, and 7 where a board still runs
//!   it): `/interface/wireless` (with `monitor`) and its
//!   `/registration-table` here; its CAPsMAN, `/caps-man/…`, in
//!   [`capsman`].
//! * `wifiwave2` (7.1–7.12) and `wifi` (7.13+): `/interface/wifiwave2|wifi`
//!   (with `monitor`), `/registration-table` and `/capsman/remote-cap` in
//!   [`wifi`]. `/interface/wifi` exists on every 7.13+ router, radios or not,
//!   because CAPsMAN is part of the base package there.
//!
//! Local radios (`wlanN` or `wifiN`) alternate 2.4 and 5 GHz; with three or
//! more the last one is disabled. A CAPsMAN controller lists one interface per
//! access point (`capN`, `cap-wifiN`). Clients are spread over the running
//! interfaces, keep their MAC address for the router's lifetime, and their
//! byte counters grow with uptime.

use super::format::{self, boolean, id};
use super::synth::{counter_since, hash, pick, wander};
use super::{Menu, RouterView, SimRow, WifiStack, push};
use crate::personality::Version;
use std::sync::Arc;
use std::time::Duration;

mod capsman;
mod wifi;

/// The wireless menus of every package.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    let mut menus: Vec<Arc<dyn Menu>> = vec![Arc::new(Interfaces), Arc::new(Registrations)];
    menus.extend(wifi::menus());
    menus.extend(capsman::menus());
    menus
}

/// SSIDs by interface number (a dual-band `office` and a 2.4 GHz `guest`).
const SSIDS: [&str; 3] = ["office", "office", "guest"];

/// Salts that keep local radios, CAP interfaces and their clients apart.
const LOCAL: u64 = 0x11;
const CAPS: u64 = 0xCA;

/// The band of a radio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Band {
    Ghz2,
    Ghz5,
}

/// A wireless interface: a local radio, or an access point's radio as its
/// CAPsMAN controller lists it.
#[derive(Debug)]
struct Radio {
    /// Position in its menu (0-based); `.id` is one more.
    index: usize,
    name: String,
    ssid: &'static str,
    band: Band,
    /// Centre frequency in MHz.
    frequency: u64,
    /// Whether the frequency is configured (else chosen automatically).
    fixed: bool,
    enabled: bool,
    seed: u64,
}

impl Radio {
    fn mac(&self, salt: u64) -> String {
        let [_, _, _, _, _, a, b, c] = hash(&[self.seed, salt]).to_be_bytes();
        format::mac([0x48, 0xA9, 0x8A, a, b, c])
    }

    /// Noise floor in dBm at `uptime`.
    fn noise_floor(&self, uptime: Duration) -> i64 {
        -(wander(105, 3, uptime, 60, self.seed) as i64)
    }
}

/// Interface `i` of `n` named `<prefix><i+1>`. Of three or more local radios
/// (`salt` [`LOCAL`]) the last one is disabled; CAP interfaces all run.
fn radio(view: &RouterView<'_>, prefix: &str, i: usize, n: usize, salt: u64) -> Radio {
    let seed = hash(&[view.index as u64, i as u64, salt]);
    let band = if i.is_multiple_of(2) {
        Band::Ghz2
    } else {
        Band::Ghz5
    };
    let frequency = match band {
        Band::Ghz2 => [2412, 2437, 2462][(seed % 3) as usize],
        Band::Ghz5 => [5180, 5220, 5500, 5745][(seed % 4) as usize],
    };
    Radio {
        index: i,
        name: format!("{prefix}{}", i + 1),
        ssid: SSIDS[i % SSIDS.len()],
        band,
        frequency,
        fixed: band == Band::Ghz5,
        enabled: salt != LOCAL || n < 3 || i != n - 1,
        seed,
    }
}

/// The router's own radios: `wlanN` (legacy package) or `wifiN`; none
/// without a wireless package.
fn local_radios(view: &RouterView<'_>) -> Vec<Radio> {
    let prefix = match view.wifi() {
        WifiStack::Wireless => "wlan",
        WifiStack::Wifi | WifiStack::Wifiwave2 => "wifi",
        WifiStack::None | WifiStack::Auto => return Vec::new(),
    };
    let n = view.scale.wireless_radios;
    (0..n).map(|i| radio(view, prefix, i, n, LOCAL)).collect()
}

/// Which CAPsMAN manages the router's access points: `Wireless` for the
/// legacy `/caps-man`, `Wifiwave2` or `Wifi` for theirs, `None` when the
/// router manages none (or has no CAPsMAN: RouterOS 6 or 7.1–7.12 without
/// a wireless package).
fn controller(view: &RouterView<'_>) -> WifiStack {
    if view.scale.capsman_caps == 0 {
        return WifiStack::None;
    }
    match view.wifi() {
        WifiStack::None if has_base_capsman(view) => WifiStack::Wifi,
        stack => stack,
    }
}

/// From 7.13 CAPsMAN (in `/interface/wifi`) is part of the base package.
fn has_base_capsman(view: &RouterView<'_>) -> bool {
    view.personality.version >= Version::new(7, 13, 0)
}

/// The CAP interfaces the controller lists, when `stack` is its CAPsMAN.
fn cap_radios(view: &RouterView<'_>, stack: WifiStack, prefix: &str) -> Vec<Radio> {
    if controller(view) != stack {
        return Vec::new();
    }
    let n = view.scale.capsman_caps;
    (0..n).map(|i| radio(view, prefix, i, n, CAPS)).collect()
}

/// A registered client.
struct Client<'r> {
    radio: &'r Radio,
    mac: String,
    /// Seconds after boot it registered.
    start: u64,
    seed: u64,
}

impl Client<'_> {
    fn uptime(&self, view: &RouterView<'_>) -> u64 {
        view.uptime.as_secs().saturating_sub(self.start)
    }

    /// Signal strength in dBm.
    fn signal(&self, view: &RouterView<'_>) -> i64 {
        -(wander(62, 15, view.uptime, 30, self.seed) as i64)
    }

    /// Bytes sent to the client and received from it (the AP's `tx,rx`).
    fn bytes(&self, view: &RouterView<'_>) -> (u64, u64) {
        let since = Duration::from_secs(self.start);
        let down = 5_000 + self.seed % 400_000;
        let up = 1_000 + (self.seed >> 24) % 60_000;
        (
            counter_since(down, view.uptime, since, self.seed),
            counter_since(up, view.uptime, since, !self.seed),
        )
    }

    /// `packets=tx,rx` from the byte counters.
    fn packets(&self, view: &RouterView<'_>) -> String {
        let (tx, rx) = self.bytes(view);
        format!("{},{}", tx / 1_100, rx / 400)
    }

    /// One of `rates`, changing every minute.
    fn rate(&self, view: &RouterView<'_>, rates: &[&'static str], salt: u64) -> &'static str {
        let h = hash(&[self.seed, view.uptime.as_secs() / 60, salt]);
        rates[(h % rates.len() as u64) as usize]
    }

    fn last_ip(&self) -> String {
        let [.., a, b] = self.seed.to_be_bytes();
        format!("192.168.{}.{}", 88 + a % 4, 10 + b % 240)
    }
}

/// `n` clients spread over the enabled `radios`, MAC addresses starting with
/// `oui`.
fn clients<'r>(
    view: &RouterView<'_>,
    radios: &'r [Radio],
    n: usize,
    oui: [u8; 2],
) -> Vec<Client<'r>> {
    let up: Vec<&Radio> = radios.iter().filter(|r| r.enabled).collect();
    if up.is_empty() {
        return Vec::new();
    }
    let idx = view.index as u64;
    (0..n)
        .map(|k| {
            let seed = hash(&[idx, k as u64, u64::from(oui[0])]);
            let [.., a, b, c] = (k as u32).to_be_bytes();
            Client {
                radio: up[k % up.len()],
                mac: format::mac([oui[0], oui[1], idx as u8, a, b, c]),
                start: pick(seed, 2, 40),
                seed,
            }
        })
        .collect()
}

/// `/interface/wireless` (legacy package): radios and their `monitor`.
struct Interfaces;

impl Interfaces {
    fn render(r: &Radio) -> SimRow {
        let mut row: SimRow = Vec::with_capacity(18);
        push(&mut row, ".id", id(r.index as u64 + 1));
        push(&mut row, "name", r.name.as_str());
        push(&mut row, "default-name", r.name.as_str());
        push(&mut row, "mtu", "1500");
        push(&mut row, "l2mtu", "1600");
        push(&mut row, "mac-address", r.mac(0));
        push(&mut row, "arp", "enabled");
        push(&mut row, "interface-type", "Atheros AR9300");
        push(&mut row, "mode", "ap-bridge");
        push(&mut row, "ssid", r.ssid);
        let frequency = if r.fixed {
            r.frequency.to_string()
        } else {
            "auto".to_owned()
        };
        push(&mut row, "frequency", frequency);
        let (band, width) = match r.band {
            Band::Ghz2 => ("2ghz-b/g/n", "20/40mhz-XX"),
            Band::Ghz5 => ("5ghz-a/n/ac", "20/40/80mhz-XXXX"),
        };
        push(&mut row, "band", band);
        push(&mut row, "channel-width", width);
        push(&mut row, "wireless-protocol", "802.11");
        push(&mut row, "security-profile", "default");
        push(&mut row, "running", boolean(r.enabled));
        push(&mut row, "disabled", boolean(!r.enabled));
        row
    }
}

impl Menu for Interfaces {
    fn path(&self) -> &'static str {
        "/interface/wireless"
    }

    fn installed(&self, view: &RouterView<'_>) -> bool {
        view.wifi() == WifiStack::Wireless
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        local_radios(view).iter().map(Self::render).collect()
    }

    fn monitor(&self, view: &RouterView<'_>, item: &str) -> Option<SimRow> {
        let radios = local_radios(view);
        let r = radios.iter().find(|r| r.name == item)?;
        let mut row: SimRow = Vec::with_capacity(9);
        push(&mut row, "name", r.name.as_str());
        if !r.enabled {
            push(&mut row, "status", "disabled");
            return Some(row);
        }
        let registered = clients(view, &radios, view.scale.wireless_clients, OUI)
            .iter()
            .filter(|c| c.radio.index == r.index)
            .count();
        push(&mut row, "status", "running-ap");
        let channel = match r.band {
            Band::Ghz2 => format!("{}/20-Ce/gn(17dBm)", r.frequency),
            Band::Ghz5 => format!("{}/20/40/80-Ceee/ac(23dBm)", r.frequency),
        };
        push(&mut row, "channel", channel);
        push(&mut row, "wireless-protocol", "802.11");
        push(
            &mut row,
            "noise-floor",
            r.noise_floor(view.uptime).to_string(),
        );
        let ccq = wander(88, 8, view.uptime, 30, r.seed);
        push(&mut row, "overall-tx-ccq", ccq.to_string());
        push(&mut row, "registered-clients", registered.to_string());
        push(&mut row, "authenticated-clients", registered.to_string());
        Some(row)
    }
}

/// MAC prefix of the local radios' clients.
const OUI: [u8; 2] = [0xA4, 0x83];

/// `/interface/wireless/registration-table` (legacy package): the AP's view,
/// `tx,rx` pairs, `signal-strength` with its `@rate`, CCQ in percent without
/// the `%`.
struct Registrations;

impl Registrations {
    fn render(view: &RouterView<'_>, k: usize, c: &Client<'_>) -> SimRow {
        let (tx, rx) = c.bytes(view);
        let signal = c.signal(view);
        let rates: &[&str] = match c.radio.band {
            Band::Ghz2 => &["144.4Mbps-20MHz/2S/SGI", "65Mbps-20MHz/1S", "54Mbps"],
            Band::Ghz5 => &["866.6Mbps-80MHz/2S/SGI", "433.3Mbps-80MHz/1S/SGI"],
        };
        let at = if signal > -60 { "HT20-7" } else { "1Mbps" };
        let mut row: SimRow = Vec::with_capacity(20);
        push(&mut row, ".id", id(k as u64 + 1));
        push(&mut row, "interface", c.radio.name.as_str());
        push(&mut row, "mac-address", c.mac.as_str());
        push(&mut row, "ap", "false");
        push(&mut row, "wds", "false");
        push(&mut row, "bridge", "false");
        push(&mut row, "rx-rate", c.rate(view, rates, 1));
        push(&mut row, "tx-rate", c.rate(view, rates, 2));
        push(&mut row, "packets", c.packets(view));
        push(&mut row, "bytes", format!("{tx},{rx}"));
        push(&mut row, "uptime", format::secs(c.uptime(view)));
        push(&mut row, "last-activity", "10ms");
        push(&mut row, "signal-strength", format!("{signal}@{at}"));
        let snr = signal - c.radio.noise_floor(view.uptime);
        push(&mut row, "signal-to-noise", snr.to_string());
        push(&mut row, "signal-strength-ch0", (signal - 1).to_string());
        let ccq = wander(85, 12, view.uptime, 30, c.seed);
        push(&mut row, "tx-ccq", ccq.to_string());
        push(&mut row, "p-throughput", (ccq * 700).to_string());
        push(&mut row, "last-ip", c.last_ip());
        push(&mut row, "802.1x-port-enabled", "true");
        push(&mut row, "authentication-type", "wpa2-psk");
        row
    }
}

impl Menu for Registrations {
    fn path(&self) -> &'static str {
        "/interface/wireless/registration-table"
    }

    fn installed(&self, view: &RouterView<'_>) -> bool {
        view.wifi() == WifiStack::Wireless
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let radios = local_radios(view);
        clients(view, &radios, view.scale.wireless_clients, OUI)
            .iter()
            .enumerate()
            .map(|(k, c)| Self::render(view, k, c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, get, named, text};
    use crate::personality::Personality;

    fn v7_at(version: Version) -> Fixture {
        Fixture::with(Personality::for_version(version))
    }

    #[test]
    fn the_package_in_force_decides_which_menus_exist() {
        let all = menus();
        let installed = |f: &Fixture| -> Vec<&'static str> {
            all.iter()
                .filter(|m| m.available(&f.personality) && m.installed(&f.view(0, 60)))
                .map(|m| m.path())
                .collect()
        };
        let legacy = [
            "/interface/wireless",
            "/interface/wireless/registration-table",
            "/caps-man/interface",
            "/caps-man/registration-table",
            "/caps-man/remote-cap",
        ];
        let wifi = [
            "/interface/wifi",
            "/interface/wifi/registration-table",
            "/interface/wifi/capsman/remote-cap",
        ];
        assert_eq!(installed(&Fixture::v6()), legacy);
        assert_eq!(installed(&Fixture::v7()), wifi);
        let wave2 = installed(&v7_at(Version::new(7, 12, 1)));
        assert!(wave2.iter().all(|p| p.starts_with("/interface/wifiwave2")));
        assert_eq!(wave2.len(), 3);
        // No package: nothing on 6 or 7.12, CAPsMAN's wifi menus on 7.13+.
        for (mut f, expected) in [
            (Fixture::v6(), &[][..]),
            (v7_at(Version::new(7, 12, 1)), &[][..]),
            (Fixture::v7(), &wifi[..]),
        ] {
            f.scale.wifi = WifiStack::None;
            assert_eq!(installed(&f), expected);
        }
        // The legacy package on RouterOS 7 keeps its menus beside wifi's.
        let mut f = Fixture::v7();
        f.scale.wifi = WifiStack::Wireless;
        assert_eq!(installed(&f).len(), legacy.len() + wifi.len());
    }

    #[test]
    fn v6_radios_monitor_and_clients() {
        let mut f = Fixture::v6();
        f.scale.wireless_radios = 3;
        f.scale.wireless_clients = 7;
        let view = f.view(1, 3_600);
        let rows = Interfaces.rows(&view);
        assert_eq!(rows.len(), 3);
        let wlan1 = named(&rows, "wlan1");
        assert_eq!(text(wlan1, "frequency"), Some("auto"));
        assert_eq!(text(wlan1, "band"), Some("2ghz-b/g/n"));
        assert!(text(named(&rows, "wlan2"), "frequency").is_some_and(|f| f.starts_with('5')));
        assert_eq!(text(named(&rows, "wlan3"), "disabled"), Some("true"));
        let m = Interfaces.monitor(&view, "wlan1").expect("monitor");
        assert_eq!(m[0].0, "name");
        assert!(text(&m, "channel").is_some_and(|c| c.starts_with("24") && c.contains('/')));
        assert!(text(&m, "noise-floor").is_some_and(|n| n.starts_with("-10")));
        let off = Interfaces.monitor(&view, "wlan3").expect("monitor");
        assert_eq!(text(&off, "status"), Some("disabled"));
        assert!(Interfaces.monitor(&view, "wlan9").is_none());
        let reg = Registrations.rows(&view);
        assert_eq!(reg.len(), 7);
        assert!(reg.iter().all(|r| get(r, "interface") != Some(b"wlan3")));
        let registered: usize = ["wlan1", "wlan2"]
            .iter()
            .filter_map(|n| Interfaces.monitor(&view, n))
            .filter_map(|m| text(&m, "registered-clients").and_then(|v| v.parse::<usize>().ok()))
            .sum();
        assert_eq!(registered, 7);
        let c = &reg[0];
        assert!(text(c, "signal-strength").is_some_and(|s| s.starts_with('-') && s.contains('@')));
        assert!(text(c, "bytes").is_some_and(|b| b.split(',').count() == 2));
        assert!(get(c, "ssid").is_none(), "the legacy table has no ssid");
    }

    #[test]
    fn clients_keep_their_address_and_their_bytes_grow() {
        let f = Fixture::v6();
        let (a, b) = (
            Registrations.rows(&f.view(2, 1_000)),
            Registrations.rows(&f.view(2, 5_000)),
        );
        let bytes = |r: &SimRow| -> Vec<u64> {
            text(r, "bytes")
                .unwrap_or_default()
                .split(',')
                .filter_map(|v| v.parse().ok())
                .collect()
        };
        for (ra, rb) in a.iter().zip(&b) {
            assert_eq!(get(ra, "mac-address"), get(rb, "mac-address"));
            let (ba, bb) = (bytes(ra), bytes(rb));
            assert!(bb[0] > ba[0] && bb[1] > ba[1]);
        }
        assert_eq!(Registrations.rows(&f.view(2, 5_000)), b);
        assert_ne!(Registrations.rows(&f.view(3, 5_000)), b);
    }

    #[test]
    fn no_running_radio_no_clients() {
        let mut f = Fixture::v6();
        f.scale.wireless_radios = 0;
        assert!(Registrations.rows(&f.view(0, 100)).is_empty());
        f.scale.wireless_radios = 2;
        f.scale.wifi = WifiStack::None;
        assert!(Interfaces.rows(&f.view(0, 100)).is_empty());
        assert!(Registrations.rows(&f.view(0, 100)).is_empty());
    }
}
