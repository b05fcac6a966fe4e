//! `/interface/lte`: `scale.lte_modems` modems (`lte1`, …), with RouterOS 7's
//! `monitor =numbers=… =once=` and RouterOS 6's `info =number=… =once=` (each
//! version traps `no such command` on the other's verb). No modems: an empty
//! print.
//!
//! Modem roles by 0-based index: the first is registered on LTE; the second
//! is on 5G NSA with the `nr-*` fields on RouterOS 7 (roaming on LTE on 6);
//! the third is disabled; the fourth is enabled but searching (not running);
//! any further ones are registered on LTE. The serving cell changes every
//! hour of uptime (a handover), signals wander every 10 s.
//!
//! Value format (**UNVERIFIED** by a capture): RouterOS 7 rows carry units
//! (`-67dBm`, `-9dB`), RouterOS 6 rows plain numbers, so clients are
//! exercised on both. Rows also hold the identifiers (`imei`, `imsi`, `uicc`)
//! an exporter must never ask for.

use super::format::{self, id};
use super::synth::{hash, wander};
use super::{Menu, RouterView, SimRow, push};
use crate::personality::Personality;
use std::sync::Arc;
use std::time::Duration;

/// The LTE menu.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Lte)]
}

/// What a modem is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Lte,
    /// 5G NSA on RouterOS 7, roaming on RouterOS 6.
    NrOrRoaming,
    Disabled,
    Searching,
}

fn role(m: usize) -> Role {
    match m {
        1 => Role::NrOrRoaming,
        2 => Role::Disabled,
        3 => Role::Searching,
        _ => Role::Lte,
    }
}

/// `/interface/lte`.
struct Lte;

impl Lte {
    /// The modem named `item`: its index and role.
    fn find(view: &RouterView<'_>, item: &str) -> Option<(usize, Role)> {
        let m = item
            .strip_prefix("lte")?
            .parse::<usize>()
            .ok()?
            .checked_sub(1)?;
        (m < view.scale.lte_modems).then(|| (m, role(m)))
    }

    /// The serving cell's id (28 bits: eNB id and sector), changing hourly.
    fn cell_id(view: &RouterView<'_>, m: usize) -> u64 {
        let enb = 0x1_0000 + hash(&[view.index as u64, m as u64, 0xCE11]) % 0x8_0000;
        let sector = 1 + view.uptime.as_secs() / 3_600 % 2;
        enb << 8 | sector
    }

    /// Registration, operator and technology fields.
    fn push_network(r: &mut SimRow, view: &RouterView<'_>, role: Role) {
        let v7 = view.personality.is_v7();
        let registration = match role {
            Role::Searching => "searching",
            Role::NrOrRoaming if !v7 => "roaming",
            _ => "registered",
        };
        push(r, "pin-status", "ok");
        push(r, "registration-status", registration);
        push(r, "functionality", "full");
        push(r, "manufacturer", "MikroTik");
        push(r, "model", "R11e-LTE6");
        if role == Role::Searching {
            return;
        }
        let operator = if role == Role::NrOrRoaming {
            "Roam Mobile"
        } else {
            "Sim Telecom"
        };
        push(r, "current-operator", operator);
        let technology = match role {
            Role::NrOrRoaming if v7 => "5G NSA",
            _ if v7 => "LTE",
            _ => "Evolved 3G (LTE)",
        };
        push(r, "access-technology", technology);
        let session = view.uptime.saturating_sub(Duration::from_secs(20));
        push(r, "session-uptime", format::duration(session));
    }

    /// Serving cell, band and signal fields of a connected modem.
    fn push_radio(r: &mut SimRow, view: &RouterView<'_>, m: usize) {
        let v7 = view.personality.is_v7();
        let cell = Self::cell_id(view, m);
        let phy = cell % 504;
        push(r, "current-cellid", cell.to_string());
        push(r, "enb-id", (cell >> 8).to_string());
        push(r, "sector-id", (cell & 0xFF).to_string());
        push(r, "phy-cellid", phy.to_string());
        push(
            r,
            "primary-band",
            format!("B3@20Mhz earfcn: 1300 phy-cellid: {phy}"),
        );
        if v7 {
            push(
                r,
                "ca-band",
                format!("B7@20Mhz earfcn: 3100 phy-cellid: {phy}"),
            );
        }
        let seed = hash(&[view.index as u64, m as u64, 0x5161]);
        let signal = |base: u64, spread: u64, salt: u64| -> i64 {
            wander(base, spread, view.uptime, 10, seed ^ salt) as i64
        };
        let with = |v: i64, unit: &str| {
            if v7 {
                format!("{v}{unit}")
            } else {
                v.to_string()
            }
        };
        push(r, "rssi", with(-signal(67, 5, 1), "dBm"));
        push(r, "rsrp", with(-signal(95, 6, 2), "dBm"));
        push(r, "rsrq", with(-signal(9, 2, 3), "dB"));
        push(r, "sinr", with(signal(12, 4, 4), "dB"));
        push(r, "cqi", signal(11, 2, 5).to_string());
        if v7 && role(m) == Role::NrOrRoaming {
            push(r, "nr-arfcn", "636666");
            push(r, "nr-band", "n78@100Mhz");
            push(r, "nr-rsrp", with(-signal(88, 6, 6), "dBm"));
            push(r, "nr-rsrq", with(-signal(11, 2, 7), "dB"));
            push(r, "nr-sinr", with(signal(18, 4, 8), "dB"));
        }
    }
}

impl Menu for Lte {
    fn path(&self) -> &'static str {
        "/interface/lte"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        (0..view.scale.lte_modems)
            .map(|m| {
                let name = format!("lte{}", m + 1);
                let mut r: SimRow = Vec::with_capacity(10);
                push(&mut r, ".id", id(m as u64 + 1));
                push(&mut r, "name", name.as_str());
                push(&mut r, "default-name", name);
                push(&mut r, "mtu", "1500");
                push(&mut r, "allow-roaming", "true");
                push(&mut r, "apn-profiles", "default");
                let running = matches!(role(m), Role::Lte | Role::NrOrRoaming);
                push(&mut r, "running", format::boolean(running));
                push(
                    &mut r,
                    "disabled",
                    format::boolean(role(m) == Role::Disabled),
                );
                r
            })
            .collect()
    }

    fn monitor(&self, view: &RouterView<'_>, item: &str) -> Option<SimRow> {
        let (m, role) = Self::find(view, item)?;
        if role == Role::Disabled {
            return None;
        }
        let mut r: SimRow = Vec::with_capacity(32);
        push(&mut r, "name", item);
        Self::push_network(&mut r, view, role);
        let serial = hash(&[view.index as u64, m as u64]) % 1_000_000_000;
        push(&mut r, "imei", format!("35{serial:013}"));
        push(&mut r, "imsi", format!("26201{serial:010}"));
        push(&mut r, "uicc", format!("8949{serial:016}"));
        if role != Role::Searching {
            Self::push_radio(&mut r, view, m);
        }
        Some(r)
    }

    fn has_monitor_verb(&self, verb: &str, personality: &Personality) -> bool {
        verb == if personality.is_v7() {
            "monitor"
        } else {
            "info"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, get, named, text};

    fn fixture(v7: bool, modems: usize) -> Fixture {
        let mut f = if v7 { Fixture::v7() } else { Fixture::v6() };
        f.scale.lte_modems = modems;
        f
    }

    #[test]
    fn v7_modems_with_units_and_one_on_5g() {
        let f = fixture(true, 5);
        let view = f.view(0, 4_000);
        let rows = Lte.rows(&view);
        assert_eq!(rows.len(), 5);
        assert_eq!(text(&rows[0], ".id"), Some("*1"));
        assert_eq!(text(named(&rows, "lte3"), "disabled"), Some("true"));
        assert_eq!(text(named(&rows, "lte4"), "running"), Some("false"));
        let m = Lte.monitor(&view, "lte1").expect("lte1");
        assert_eq!(m[0].0, "name");
        assert_eq!(text(&m, "registration-status"), Some("registered"));
        assert_eq!(text(&m, "access-technology"), Some("LTE"));
        assert!(text(&m, "rsrp").is_some_and(|v| v.starts_with('-') && v.ends_with("dBm")));
        assert!(text(&m, "sinr").is_some_and(|v| v.ends_with("dB")));
        assert!(get(&m, "nr-rsrp").is_none());
        let nr = Lte.monitor(&view, "lte2").expect("lte2");
        assert_eq!(text(&nr, "access-technology"), Some("5G NSA"));
        assert_eq!(text(&nr, "nr-band"), Some("n78@100Mhz"));
        assert!(text(&nr, "nr-sinr").is_some());
        assert!(Lte.monitor(&view, "lte3").is_none(), "disabled");
        let searching = Lte.monitor(&view, "lte4").expect("lte4");
        assert_eq!(text(&searching, "registration-status"), Some("searching"));
        assert!(get(&searching, "rsrp").is_none());
        assert!(Lte.monitor(&view, "lte6").is_none());
        assert!(Lte.monitor(&view, "ether1").is_none());
    }

    #[test]
    fn v6_info_rows_are_plain_numbers() {
        let f = fixture(false, 2);
        let view = f.view(1, 4_000);
        let m = Lte.monitor(&view, "lte1").expect("lte1");
        assert_eq!(text(&m, "access-technology"), Some("Evolved 3G (LTE)"));
        let rsrp: i64 = text(&m, "rsrp").and_then(|v| v.parse().ok()).expect("rsrp");
        assert!((-101..=-89).contains(&rsrp), "{rsrp}");
        assert!(get(&m, "ca-band").is_none());
        let roaming = Lte.monitor(&view, "lte2").expect("lte2");
        assert_eq!(text(&roaming, "registration-status"), Some("roaming"));
        assert!(get(&roaming, "nr-rsrp").is_none());
    }

    #[test]
    fn the_cell_changes_hourly_and_the_verbs_follow_the_version() {
        let f = fixture(true, 1);
        let cell = |s| {
            text(
                &Lte.monitor(&f.view(0, s), "lte1").expect("lte1"),
                "current-cellid",
            )
            .map(str::to_owned)
        };
        assert_eq!(cell(100), cell(3_000));
        assert_ne!(cell(100), cell(4_000));
        assert!(Lte.has_monitor_verb("monitor", &Personality::v7()));
        assert!(!Lte.has_monitor_verb("info", &Personality::v7()));
        assert!(Lte.has_monitor_verb("info", &Personality::v6()));
        assert!(!Lte.has_monitor_verb("monitor", &Personality::v6()));
        assert!(Lte.rows(&fixture(true, 0).view(0, 10)).is_empty());
    }
}
