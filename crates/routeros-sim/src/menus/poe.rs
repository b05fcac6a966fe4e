//! `/interface/ethernet/poe` (with `monitor`): PoE out on the first
//! `scale.poe_ports` ethernet ports (never more than there are ports).
//!
//! Port roles by 0-based index: most ports power a device (`powered-on`,
//! with voltage, current and power) or wait for one (`waiting-for-load`,
//! without numeric fields), every third from the second; the fourth port is
//! `short-circuit`, the sixth has `poe-out=off` (status `disabled`), the
//! third is `forced-on`, and the thirty-second reports `power-reset`, a state
//! an exporter may not know. A board without PoE lists no items.
//!
//! Value format (**UNVERIFIED** by a capture, reference §2.18): RouterOS 7
//! sends plain numbers (`53.4`, `449` milliamperes, `24.0`); the RouterOS 6
//! personality sends the CLI's forms (`53.4V`, `449mA`, `24.0W`), so clients
//! are exercised on both.

use super::format::id;
use super::synth::{hash, wander};
use super::{Menu, RouterView, SimRow, push};
use std::sync::Arc;

/// The PoE menu.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Poe)]
}

/// What a PoE port is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Powered,
    Waiting,
    ShortCircuit,
    Off,
    /// `power-reset`: a state outside the usual list.
    Resetting,
}

fn role(i: usize) -> Role {
    match i {
        3 => Role::ShortCircuit,
        5 => Role::Off,
        31 => Role::Resetting,
        _ if i % 3 == 1 => Role::Waiting,
        _ => Role::Powered,
    }
}

/// The PoE ports of a view: `(0-based index, name)`.
fn ports(view: &RouterView<'_>) -> impl Iterator<Item = (usize, String)> {
    let n = view.scale.poe_ports.min(view.scale.interfaces);
    (0..n).map(|i| (i, format!("ether{}", i + 1)))
}

/// `poe-out` setting of port `i`.
fn mode(i: usize) -> &'static str {
    match role(i) {
        Role::Off => "off",
        _ if i == 2 => "forced-on",
        _ => "auto-on",
    }
}

/// `/interface/ethernet/poe`.
struct Poe;

impl Poe {
    /// Voltage (tenths of a volt) and current (mA) of a powered port.
    fn reading(view: &RouterView<'_>, i: usize) -> (u64, u64) {
        let seed = hash(&[view.index as u64, i as u64, 0x90E]);
        let deci_volts = wander(534, 6, view.uptime, 30, seed);
        let base_ma = 60 + seed % 400;
        let milli_amps = wander(base_ma, base_ma / 5, view.uptime, 10, seed >> 8);
        (deci_volts, milli_amps)
    }

    /// Appends voltage, current and power in the personality's format.
    fn push_reading(r: &mut SimRow, view: &RouterView<'_>, i: usize) {
        let (dv, ma) = Self::reading(view, i);
        let deci_watts = dv * ma / 1_000;
        let units = !view.personality.is_v7();
        let unit = |u: &'static str| if units { u } else { "" };
        let tenths = |v: u64| format!("{}.{}", v / 10, v % 10);
        push(r, "poe-out-voltage", format!("{}{}", tenths(dv), unit("V")));
        push(r, "poe-out-current", format!("{ma}{}", unit("mA")));
        push(
            r,
            "poe-out-power",
            format!("{}{}", tenths(deci_watts), unit("W")),
        );
    }
}

impl Menu for Poe {
    fn path(&self) -> &'static str {
        "/interface/ethernet/poe"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        ports(view)
            .map(|(i, name)| {
                let mut r: SimRow = Vec::with_capacity(8);
                push(&mut r, ".id", id(i as u64 + 1));
                push(&mut r, "name", name);
                push(&mut r, "poe-out", mode(i));
                push(&mut r, "poe-priority", "10");
                push(&mut r, "poe-voltage", "auto");
                push(&mut r, "power-cycle-ping-enabled", "false");
                push(&mut r, "power-cycle-interval", "none");
                if view.personality.is_v7() {
                    push(&mut r, "poe-lldp-enabled", "false");
                }
                r
            })
            .collect()
    }

    fn monitor(&self, view: &RouterView<'_>, item: &str) -> Option<SimRow> {
        let (i, name) = ports(view).find(|(_, name)| name == item)?;
        let mut r: SimRow = Vec::with_capacity(6);
        push(&mut r, "name", name);
        push(&mut r, "poe-out", mode(i));
        let status = match role(i) {
            Role::Powered => "powered-on",
            Role::Waiting => "waiting-for-load",
            Role::ShortCircuit => "short-circuit",
            Role::Off => "disabled",
            Role::Resetting => "power-reset",
        };
        push(&mut r, "poe-out-status", status);
        if role(i) == Role::Powered {
            Self::push_reading(&mut r, view, i);
        }
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, get, text};

    fn monitored(f: &Fixture, uptime: u64) -> Vec<SimRow> {
        let view = f.view(1, uptime);
        Poe.rows(&view)
            .iter()
            .filter_map(|r| Poe.monitor(&view, text(r, "name")?))
            .collect()
    }

    #[test]
    fn v7_mix_of_states_with_plain_numbers() {
        let mut f = Fixture::v7();
        f.scale.interfaces = 50;
        f.scale.poe_ports = 40;
        let view = f.view(1, 600);
        let rows = Poe.rows(&view);
        assert_eq!(rows.len(), 40);
        assert_eq!(text(&rows[0], ".id"), Some("*1"));
        assert_eq!(text(&rows[5], "poe-out"), Some("off"));
        assert_eq!(text(&rows[2], "poe-out"), Some("forced-on"));
        let m = monitored(&f, 600);
        let status = |i: usize| text(&m[i], "poe-out-status");
        assert_eq!(status(0), Some("powered-on"));
        assert_eq!(status(1), Some("waiting-for-load"));
        assert_eq!(status(3), Some("short-circuit"));
        assert_eq!(status(5), Some("disabled"));
        assert_eq!(status(31), Some("power-reset"));
        let volts: f64 = text(&m[0], "poe-out-voltage").unwrap().parse().unwrap();
        assert!((52.0..=55.0).contains(&volts), "{volts}");
        let ma: u64 = text(&m[0], "poe-out-current").unwrap().parse().unwrap();
        assert!((40..=600).contains(&ma), "{ma}");
        assert!(text(&m[0], "poe-out-power").unwrap().parse::<f64>().is_ok());
        for i in [1, 3, 5, 31] {
            assert!(get(&m[i], "poe-out-voltage").is_none(), "{i}");
            assert!(get(&m[i], "poe-out-current").is_none(), "{i}");
        }
        assert_eq!(m, monitored(&f, 600));
        assert!(Poe.monitor(&view, "ether41").is_none());
        assert!(Poe.monitor(&view, "sfp1").is_none());
    }

    #[test]
    fn v6_sends_units() {
        let f = Fixture::v6();
        let m = monitored(&f, 600);
        assert_eq!(m.len(), 2);
        assert!(text(&m[0], "poe-out-voltage").is_some_and(|v| v.ends_with('V')));
        assert!(text(&m[0], "poe-out-current").is_some_and(|v| v.ends_with("mA")));
        assert!(text(&m[0], "poe-out-power").is_some_and(|v| v.ends_with('W')));
    }

    #[test]
    fn no_more_ports_than_interfaces_and_none_without_poe() {
        let mut f = Fixture::v7();
        f.scale.interfaces = 3;
        f.scale.poe_ports = 24;
        assert_eq!(Poe.rows(&f.view(0, 10)).len(), 3);
        f.scale.poe_ports = 0;
        assert!(Poe.rows(&f.view(0, 10)).is_empty());
        assert!(Poe.monitor(&f.view(0, 10), "ether1").is_none());
    }
}
