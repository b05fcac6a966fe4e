//! `poe`: PoE out per port: status, voltage, current and power.
//!
//! Commands, at most two per probe whatever the number of ports:
//! 1. `/interface/ethernet/poe/print =.proplist=.id,name,poe-out`: the PoE
//!    ports and their setting (`auto-on`, `forced-on`, `off`). A board without
//!    PoE lists none (or lacks the menu: unsupported); the group then sends
//!    nothing else and emits nothing.
//! 2. One `/interface/ethernet/poe/monitor =numbers=*1,*2,… =once=` with
//!    `.proplist=name,poe-out-status,poe-out-voltage,poe-out-current,poe-out-power`
//!    for every port whose `poe-out` is not `off`, by `.id` (names may hold
//!    commas); none when no port is on.
//!
//! A port set to `poe-out=off` is not monitored: it supplies nothing, and
//! RouterOS reports its status as `disabled`, so the group reports that state
//! itself and saves the router the work. Ports of a running PoE setting are
//! monitored whether or not their link is up: a port waiting for a device has
//! no link, and that is exactly the state to report.
//!
//! The status is a state set: one series per known state (1 for the current
//! one, 0 for the others) and a series of value 1 for a state this exporter
//! does not know (`power-reset`), so nothing the router says is lost. Numeric
//! fields come with or without units (`54.2` or `54.2V`; `449` or `449mA`, the
//! bare current being milliamperes; `24.3` or `24.3W`) and are exported in
//! volts, amperes and watts; ports without a load send none of them. A value
//! that does not parse costs that one sample.

use super::family::{Family, MetricDesc, metric};
use super::parse::{self, Bare};
use super::{Context, Group, GroupFuture};
use routeros::{Command, Row};
use std::collections::{HashMap, HashSet};

/// The `poe` group.
pub struct Poe;

metric!(
    STATUS,
    "mikrotik_poe_out_status",
    Gauge,
    "PoE out status of the port: 1 for the current state, 0 for the other known states.",
    ["interface", "status"]
);
metric!(
    VOLTAGE,
    "mikrotik_poe_out_voltage_volts",
    Gauge,
    "Voltage the port supplies, in volts.",
    ["interface"]
);
metric!(
    CURRENT,
    "mikrotik_poe_out_current_amperes",
    Gauge,
    "Current the port supplies, in amperes.",
    ["interface"]
);
metric!(
    POWER,
    "mikrotik_poe_out_power_watts",
    Gauge,
    "Power the port supplies, in watts.",
    ["interface"]
);
metric!(
    INFO,
    "mikrotik_poe_out_info",
    Gauge,
    "PoE out setting of the port (value 1).",
    ["interface", "poe_out"]
);

static METRICS: &[&MetricDesc] = &[&STATUS, &VOLTAGE, &CURRENT, &POWER, &INFO];

/// The menu whose print and monitor the group reads.
const MENU: &str = "/interface/ethernet/poe";

/// The properties of the print.
const PORT_FIELDS: &[&str] = &[".id", "name", "poe-out"];

/// The properties of the monitor.
const MONITOR_FIELDS: &[&str] = &[
    "name",
    "poe-out-status",
    "poe-out-voltage",
    "poe-out-current",
    "poe-out-power",
];

/// The `poe-out-status` values RouterOS documents; others are kept too.
const KNOWN_STATES: &[&str] = &[
    "powered-on",
    "waiting-for-load",
    "short-circuit",
    "overload",
    "voltage-too-low",
    "current-too-low",
    "disabled",
];

/// The status of a port set to `poe-out=off`, reported without asking.
const OFF_STATUS: &str = "disabled";

impl Group for Poe {
    fn name(&self) -> &'static str {
        "poe"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let print = Command::new(&format!("{MENU}/print")).proplist(PORT_FIELDS);
            let ports = ctx.rows(print).await?;
            let ids: Vec<String> = ports
                .iter()
                .filter(|p| !is_off(p))
                .filter_map(|p| p.str(".id").map(str::to_owned))
                .collect();
            let readings = ctx.monitor(MENU, &ids, MONITOR_FIELDS).await?;
            Ok(build(&ports, &readings))
        })
    }
}

/// The port's `poe-out` setting, trimmed; empty when absent.
fn setting(row: &Row) -> &str {
    row.str("poe-out").map(str::trim).unwrap_or_default()
}

/// Whether the port is set to `poe-out=off` (no monitor needed).
fn is_off(row: &Row) -> bool {
    setting(row) == "off"
}

/// Converts the print and monitor rows into families (pure, unit-tested on
/// fixtures). Monitor rows are matched to ports by `name`.
fn build(ports: &[Row], readings: &[Row]) -> Vec<Family> {
    let by_name: HashMap<String, &Row> = readings
        .iter()
        .filter_map(|r| Some((r.text("name")?.into_owned(), r)))
        .collect();
    let mut status = Family::new(&STATUS);
    let mut info = Family::new(&INFO);
    let mut measures = [
        ("poe-out-voltage", "V", Bare::Unit, Family::new(&VOLTAGE)),
        ("poe-out-current", "A", Bare::Milli, Family::new(&CURRENT)),
        ("poe-out-power", "W", Bare::Unit, Family::new(&POWER)),
    ];
    let mut seen = HashSet::new();
    for port in ports {
        let Some(name) = port.text("name").map(|n| n.into_owned()) else {
            tracing::debug!(?port, "PoE port without a name");
            continue;
        };
        if !seen.insert(name.clone()) {
            tracing::debug!(interface = %name, "duplicate PoE port, keeping the first");
            continue;
        }
        let labels = vec![name.clone()];
        if !setting(port).is_empty() {
            info.push(vec![name.clone(), setting(port).to_owned()], 1u64);
        }
        if is_off(port) {
            status.push_state_set(&labels, KNOWN_STATES, OFF_STATUS);
            continue;
        }
        let Some(reading) = by_name.get(&name) else {
            tracing::debug!(interface = %name, "no PoE monitor row for the port");
            continue;
        };
        let current = reading.text("poe-out-status").unwrap_or_default();
        status.push_state_set(&labels, KNOWN_STATES, &current);
        for (key, unit, bare, family) in &mut measures {
            let Some(raw) = reading.str(key) else {
                continue;
            };
            match parse::measure(raw, unit, *bare) {
                Some(v) => family.push(labels.clone(), v),
                None => tracing::debug!(interface = %name, key, raw, "unparseable PoE value"),
            }
        }
    }
    let [(.., voltage), (.., current), (.., power)] = measures;
    vec![status, voltage, current, power, info]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::{Value, samples_named};
    use crate::collect::fixture::{assert_no_duplicate_series, rows};

    fn value(families: &[Family], name: &str, interface: &str) -> Option<f64> {
        samples_named(families, name)
            .find(|s| s.labels[0] == interface)
            .map(|s| s.value.as_f64())
    }

    /// The state whose sample is 1 for `interface`, and how many series it has.
    fn state(families: &[Family], interface: &str) -> (Option<String>, usize) {
        let of_port: Vec<_> = samples_named(families, "mikrotik_poe_out_status")
            .filter(|s| s.labels[0] == interface)
            .collect();
        let on = of_port
            .iter()
            .find(|s| s.value == Value::Int(1))
            .map(|s| s.labels[1].to_string());
        (on, of_port.len())
    }

    const PORTS: &str = "
        .id=*1  name=ether1  poe-out=auto-on
        .id=*2  name=ether2  poe-out=auto-on
        .id=*3  name=ether3  poe-out=forced-on
        .id=*4  name=ether4  poe-out=off
    ";

    #[test]
    fn v7_plain_numbers() {
        let readings = rows(
            "
            name=ether1  poe-out-status=powered-on  poe-out-voltage=53.8  poe-out-current=449  poe-out-power=24.1
            name=ether2  poe-out-status=waiting-for-load
            name=ether3  poe-out-status=short-circuit
            ",
        );
        let f = build(&rows(PORTS), &readings);
        assert_no_duplicate_series(&f);
        assert_eq!(
            value(&f, "mikrotik_poe_out_voltage_volts", "ether1"),
            Some(53.8)
        );
        assert_eq!(
            value(&f, "mikrotik_poe_out_current_amperes", "ether1"),
            Some(0.449)
        );
        assert_eq!(
            value(&f, "mikrotik_poe_out_power_watts", "ether1"),
            Some(24.1)
        );
        assert_eq!(value(&f, "mikrotik_poe_out_voltage_volts", "ether2"), None);
        let known = KNOWN_STATES.len();
        assert_eq!(state(&f, "ether1"), (Some("powered-on".into()), known));
        assert_eq!(
            state(&f, "ether2"),
            (Some("waiting-for-load".into()), known)
        );
        assert_eq!(state(&f, "ether3"), (Some("short-circuit".into()), known));
        // Off: not monitored, reported as disabled.
        assert_eq!(state(&f, "ether4"), (Some("disabled".into()), known));
        let info: Vec<_> = samples_named(&f, "mikrotik_poe_out_info")
            .map(|s| s.labels[1].as_str())
            .collect();
        assert_eq!(info, ["auto-on", "auto-on", "forced-on", "off"]);
    }

    #[test]
    fn v6_values_with_units() {
        let readings = rows(
            "
            name=ether1  poe-out-status=powered-on  poe-out-voltage=54.2V  poe-out-current=449mA  poe-out-power=24.3W
            name=ether2  poe-out-status=powered-on  poe-out-voltage=23.9 V  poe-out-current=1.1A  poe-out-power=26W
            name=ether3  poe-out-status=overload
            ",
        );
        let f = build(&rows(PORTS), &readings);
        let v = "mikrotik_poe_out_voltage_volts";
        let a = "mikrotik_poe_out_current_amperes";
        let w = "mikrotik_poe_out_power_watts";
        assert_eq!(value(&f, v, "ether1"), Some(54.2));
        assert_eq!(value(&f, a, "ether1"), Some(0.449));
        assert_eq!(value(&f, w, "ether1"), Some(24.3));
        assert_eq!(value(&f, v, "ether2"), Some(23.9));
        assert_eq!(value(&f, a, "ether2"), Some(1.1));
        assert_eq!(value(&f, w, "ether2"), Some(26.0));
        assert_eq!(state(&f, "ether3").0.as_deref(), Some("overload"));
        assert_no_duplicate_series(&f);
    }

    #[test]
    fn unknown_states_are_kept_and_odd_values_cost_one_sample() {
        let ports = rows(
            "
            .id=*1  name=ether1  poe-out=auto-on
            .id=*2  name=ether2  poe-out=auto-on
            .id=*3  name=ether3
            .id=*4  poe-out=auto-on
            .id=*5  name=ether1  poe-out=off
            .id=*6  name=ether6  poe-out=auto-on
            ",
        );
        let readings = rows(
            "
            name=ether1  poe-out-status=power-reset  poe-out-voltage=lots  poe-out-current=12kV  poe-out-power=3.5
            name=ether2  poe-out-voltage=48
            name=ether3  poe-out-status=powered-on  poe-out-current=
            ",
        );
        let f = build(&ports, &readings);
        assert_no_duplicate_series(&f);
        // An unknown state is one more series, of value 1.
        assert_eq!(
            state(&f, "ether1"),
            (Some("power-reset".into()), KNOWN_STATES.len() + 1)
        );
        assert_eq!(value(&f, "mikrotik_poe_out_voltage_volts", "ether1"), None);
        assert_eq!(
            value(&f, "mikrotik_poe_out_current_amperes", "ether1"),
            None
        );
        assert_eq!(
            value(&f, "mikrotik_poe_out_power_watts", "ether1"),
            Some(3.5)
        );
        // No status: no state series, but the voltage it sent.
        assert_eq!(state(&f, "ether2"), (None, 0));
        assert_eq!(
            value(&f, "mikrotik_poe_out_voltage_volts", "ether2"),
            Some(48.0)
        );
        // Without a setting: monitored, no info.
        assert_eq!(state(&f, "ether3").0.as_deref(), Some("powered-on"));
        assert_eq!(value(&f, "mikrotik_poe_out_info", "ether3"), None);
        // No monitor row: nothing but its setting.
        assert_eq!(state(&f, "ether6"), (None, 0));
        assert_eq!(value(&f, "mikrotik_poe_out_info", "ether6"), Some(1.0));
    }

    #[test]
    fn no_ports_no_samples() {
        assert!(build(&[], &[]).iter().all(|f| f.samples.is_empty()));
    }

    /// The simulator's 50-port switch: every port has one state, powered
    /// ports their readings, and no series repeats.
    #[test]
    fn simulator_ports_on_v6_and_v7() {
        use routeros_sim::menus::{registry, testkit::Fixture};
        let menu = registry()
            .into_iter()
            .find(|m| m.path() == MENU)
            .expect("poe menu");
        for mut fixture in [Fixture::v6(), Fixture::v7()] {
            fixture.scale.interfaces = 50;
            fixture.scale.poe_ports = 50;
            let view = fixture.view(2, 900);
            let sim = menu.rows(&view);
            let ports: Vec<Row> = sim.iter().cloned().map(Row::from_pairs).collect();
            let readings: Vec<Row> = ports
                .iter()
                .filter(|p| !is_off(p))
                .filter_map(|p| menu.monitor(&view, p.str("name")?))
                .map(Row::from_pairs)
                .collect();
            let f = build(&ports, &readings);
            assert_no_duplicate_series(&f);
            for port in &ports {
                let name = port.str("name").unwrap_or_default();
                assert!(state(&f, name).0.is_some(), "{name}");
            }
            let powered = samples_named(&f, "mikrotik_poe_out_status")
                .filter(|s| s.labels[1] == "powered-on" && s.value == Value::Int(1))
                .count();
            assert!(powered > 10);
            for metric in [
                "mikrotik_poe_out_voltage_volts",
                "mikrotik_poe_out_current_amperes",
                "mikrotik_poe_out_power_watts",
            ] {
                assert_eq!(samples_named(&f, metric).count(), powered, "{metric}");
            }
        }
    }
}
