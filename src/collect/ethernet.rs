//! `ethernet`: link state, rate, duplex and auto-negotiation of the ethernet
//! ports, and the SFP/QSFP optics (module presence, DOM readings, inventory).
//!
//! Two commands per probe, on RouterOS 6 and 7 alike (same menus; only the
//! value forms differ, and every value is read with or without its unit):
//!
//! 1. `/interface/ethernet/print =.proplist=.id,name,default-name,running,disabled`,
//!    one small print that names the ports and says which can answer;
//! 2. ONE `/interface/ethernet/monitor =numbers=<.id>,… =once=` with `.proplist`
//!    of the fields used, for every enabled port that is running or is an
//!    SFP/QSFP/combo cage (`default-name`, else `name`, starting with `sfp`,
//!    `qsfp` or `combo`). Nothing is sent when no port qualifies.
//!
//! Why the cages that are not running are monitored too: an enabled copper port
//! that is not running has nothing to say beyond the print's `running=false`
//! (its link-up sample is 0 from the print), but a cage is down exactly when
//! the operator needs its optics: an empty cage answers
//! `sfp-module-present=false` (module present 0), and a module whose fibre is
//! cut answers `sfp-rx-loss=true` and its rx power. The print cannot tell an
//! empty cage from a dark one, so presence comes from the monitor, and the
//! cages ride in the one monitor command the running ports need anyway. Disabled
//! ports are not monitored and get no series.
//!
//! Optics come from any monitored port whose row carries `sfp-*` fields (combo
//! and QSFP ports too, whatever their name), never from the name alone.

use super::family::{Family, MetricDesc, metric};
use super::parse::Bare;
use super::{Context, Group, GroupFuture, parse};
use routeros::{Command, Row};
use std::collections::{HashMap, HashSet};

/// The `ethernet` group.
pub struct Ethernet;

const IFACE: &[&str] = &["interface"];

metric!(
    LINK_UP,
    "mikrotik_ethernet_link_up",
    Gauge,
    "1 when the ethernet port has link (monitor status link-ok), else 0.",
    IFACE
);
metric!(
    RATE,
    "mikrotik_ethernet_rate_bps",
    Gauge,
    "Negotiated link rate in bits per second.",
    IFACE
);
metric!(
    FULL_DUPLEX,
    "mikrotik_ethernet_full_duplex",
    Gauge,
    "1 when the link runs full duplex, 0 for half duplex.",
    IFACE
);
metric!(
    AUTO_NEGOTIATION,
    "mikrotik_ethernet_auto_negotiation",
    Gauge,
    "Auto-negotiation state of the port: 1 for the current state, 0 for the others.",
    ["interface", "state"]
);
metric!(
    MODULE_PRESENT,
    "mikrotik_ethernet_sfp_module_present",
    Gauge,
    "1 when the SFP/QSFP cage holds a module, 0 when it is empty.",
    IFACE
);
metric!(
    RX_LOSS,
    "mikrotik_ethernet_sfp_rx_loss",
    Gauge,
    "1 when the SFP module signals loss of received light.",
    IFACE
);
metric!(
    TX_FAULT,
    "mikrotik_ethernet_sfp_tx_fault",
    Gauge,
    "1 when the SFP module signals a transmitter fault.",
    IFACE
);
metric!(
    TEMPERATURE,
    "mikrotik_ethernet_sfp_temperature_celsius",
    Gauge,
    "SFP module temperature in degrees Celsius.",
    IFACE
);
metric!(
    SUPPLY_VOLTAGE,
    "mikrotik_ethernet_sfp_supply_voltage_volts",
    Gauge,
    "SFP module supply voltage in volts.",
    IFACE
);
metric!(
    TX_BIAS,
    "mikrotik_ethernet_sfp_tx_bias_current_amperes",
    Gauge,
    "SFP laser bias current in amperes.",
    IFACE
);
metric!(
    TX_POWER,
    "mikrotik_ethernet_sfp_tx_power_dbm",
    Gauge,
    "SFP transmit optical power in dBm.",
    IFACE
);
metric!(
    RX_POWER,
    "mikrotik_ethernet_sfp_rx_power_dbm",
    Gauge,
    "SFP receive optical power in dBm.",
    IFACE
);
metric!(
    MODULE_INFO,
    "mikrotik_ethernet_sfp_info",
    Gauge,
    "SFP module inventory (value 1).",
    [
        "interface",
        "type",
        "connector_type",
        "vendor_name",
        "vendor_part_number",
        "vendor_revision",
        "vendor_serial",
        "manufacturing_date",
        "wavelength_nm",
    ]
);

static METRICS: &[&MetricDesc] = &[
    &LINK_UP,
    &RATE,
    &FULL_DUPLEX,
    &AUTO_NEGOTIATION,
    &MODULE_PRESENT,
    &RX_LOSS,
    &TX_FAULT,
    &TEMPERATURE,
    &SUPPLY_VOLTAGE,
    &TX_BIAS,
    &TX_POWER,
    &RX_POWER,
    &MODULE_INFO,
];

/// The print's properties: names and who can answer the monitor.
const PRINT_PROPLIST: &[&str] = &[".id", "name", "default-name", "running", "disabled"];

/// Auto-negotiation states always given a series (1 or 0); another state the
/// router reports gets a series of its own.
const AUTO_NEGOTIATION_STATES: [&str; 3] = ["done", "incomplete", "disabled"];

/// Default-name prefixes of the cages that take a pluggable module.
const CAGE_PREFIXES: [&str; 3] = ["sfp", "qsfp", "combo"];

/// DOM readings: field, family, the unit RouterOS may append, and the factor
/// to the base unit (the bias current comes in milliamperes either way).
static READINGS: [(&str, &MetricDesc, &str, f64); 5] = [
    ("sfp-temperature", &TEMPERATURE, "C", 1.0),
    ("sfp-supply-voltage", &SUPPLY_VOLTAGE, "V", 1.0),
    ("sfp-tx-bias-current", &TX_BIAS, "mA", 1e-3),
    ("sfp-tx-power", &TX_POWER, "dBm", 1.0),
    ("sfp-rx-power", &RX_POWER, "dBm", 1.0),
];

/// Module status flags.
static FLAGS: [(&str, &MetricDesc); 2] = [("sfp-rx-loss", &RX_LOSS), ("sfp-tx-fault", &TX_FAULT)];

/// Inventory fields, in the order of [`MODULE_INFO`]'s labels after
/// `interface` (`sfp-wavelength` last, normalised to nanometres).
const INVENTORY: [&str; 8] = [
    "sfp-type",
    "sfp-connector-type",
    "sfp-vendor-name",
    "sfp-vendor-part-number",
    "sfp-vendor-revision",
    "sfp-vendor-serial",
    "sfp-manufacturing-date",
    "sfp-wavelength",
];

const PRESENT: &str = "sfp-module-present";

/// The monitor's properties: `name` to match rows to ports, then the fields used.
fn monitor_proplist() -> Vec<&'static str> {
    let link = [
        "name",
        "status",
        "rate",
        "full-duplex",
        "auto-negotiation",
        PRESENT,
    ];
    let readings = READINGS.iter().map(|(field, ..)| *field);
    let flags = FLAGS.iter().map(|(field, _)| *field);
    link.into_iter()
        .chain(flags)
        .chain(readings)
        .chain(INVENTORY)
        .collect()
}

impl Group for Ethernet {
    fn name(&self) -> &'static str {
        "ethernet"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let print = Command::new("/interface/ethernet/print").proplist(PRINT_PROPLIST);
            let ports = ports(&ctx.rows(print).await?);
            let ids: Vec<String> = ports
                .iter()
                .filter(|p| p.worth_monitoring())
                .map(|p| p.id.clone())
                .collect();
            let monitor = ctx
                .monitor("/interface/ethernet", &ids, &monitor_proplist())
                .await?;
            Ok(build(&ports, &monitor))
        })
    }
}

/// An enabled port from the print.
#[derive(Debug)]
struct Port {
    id: String,
    name: String,
    /// `running` from the print (`None` when absent or odd).
    running: Option<bool>,
    /// Takes a pluggable module (by its default name).
    cage: bool,
}

impl Port {
    /// The link is up, or the port is a cage whose optics matter even when
    /// it is down (see the module comment); and it has an `.id` to ask by.
    fn worth_monitoring(&self) -> bool {
        !self.id.is_empty() && (self.running == Some(true) || self.cage)
    }
}

/// Whether a port named `name` by default takes a pluggable module.
fn is_cage(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    CAGE_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The enabled, named ports of the print, each name once (the first wins).
fn ports(rows: &[Row]) -> Vec<Port> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(name) = row.text("name").map(|n| n.into_owned()) else {
            tracing::debug!(?row, "ethernet port without a name");
            continue;
        };
        if flag(row, "disabled") == Some(true) || !seen.insert(name.clone()) {
            continue;
        }
        let default_name = row.text("default-name").filter(|d| !d.is_empty());
        out.push(Port {
            id: row.text(".id").map(|i| i.into_owned()).unwrap_or_default(),
            cage: is_cage(default_name.as_deref().unwrap_or(&name)),
            running: flag(row, "running"),
            name,
        });
    }
    out
}

/// Converts the ports and their monitor rows into families (pure,
/// unit-tested on fixtures). Only non-empty families are returned.
fn build(ports: &[Port], monitor: &[Row]) -> Vec<Family> {
    let mut rows: HashMap<String, &Row> = HashMap::with_capacity(monitor.len());
    for row in monitor {
        if let Some(name) = row.text("name") {
            rows.entry(name.into_owned()).or_insert(row);
        }
    }
    let mut families = Families::new();
    for port in ports {
        let row = rows.get(&port.name).copied();
        families.link(port, row);
        if let Some(row) = row {
            families.optics(&port.name, row);
        }
    }
    families.finish()
}

/// The families being filled.
struct Families {
    link_up: Family,
    rate: Family,
    full_duplex: Family,
    auto_negotiation: Family,
    present: Family,
    flags: Vec<Family>,
    readings: Vec<Family>,
    info: Family,
}

impl Families {
    fn new() -> Self {
        Self {
            link_up: Family::new(&LINK_UP),
            rate: Family::new(&RATE),
            full_duplex: Family::new(&FULL_DUPLEX),
            auto_negotiation: Family::new(&AUTO_NEGOTIATION),
            present: Family::new(&MODULE_PRESENT),
            flags: FLAGS.iter().map(|(_, d)| Family::new(d)).collect(),
            readings: READINGS.iter().map(|(_, d, ..)| Family::new(d)).collect(),
            info: Family::new(&MODULE_INFO),
        }
    }

    /// Link state from the monitor row, else (a port not monitored because
    /// it is down) from the print's `running`.
    fn link(&mut self, port: &Port, row: Option<&Row>) {
        let labels = || vec![port.name.clone()];
        let status = row.and_then(|r| r.text("status"));
        match (status, port.running) {
            (Some(status), _) => self.link_up.push(labels(), status.trim() == "link-ok"),
            (None, Some(running)) => self.link_up.push(labels(), running),
            (None, None) => {}
        }
        let Some(row) = row else { return };
        if let Some(rate) = value(row, "rate", parse::rate_bps) {
            self.rate.push(labels(), rate);
        }
        if let Some(full) = flag(row, "full-duplex") {
            self.full_duplex.push(labels(), full);
        }
        let state = row.text("auto-negotiation").unwrap_or_default();
        self.auto_negotiation
            .push_state_set(&labels(), &AUTO_NEGOTIATION_STATES, &state);
    }

    /// The optics of a port whose monitor row carries `sfp-*` fields. A row
    /// without `sfp-module-present` but with other `sfp-*` fields holds a
    /// module; a row with none is a copper port and gets no optics series.
    fn optics(&mut self, name: &str, row: &Row) {
        let any_sfp = row.attributes().any(|(key, _)| key.starts_with(b"sfp-"));
        if !any_sfp {
            return;
        }
        let labels = || vec![name.to_owned()];
        let present = match row.get(PRESENT) {
            Some(_) => flag(row, PRESENT),
            None => Some(true),
        };
        if let Some(present) = present {
            self.present.push(labels(), present);
        }
        if present == Some(false) {
            return;
        }
        for ((field, _), family) in FLAGS.iter().zip(&mut self.flags) {
            if let Some(on) = flag(row, field) {
                family.push(labels(), on);
            }
        }
        for ((field, _, unit, factor), family) in READINGS.iter().zip(&mut self.readings) {
            if let Some(v) = value(row, field, |t| parse::measure(t, unit, Bare::Unit)) {
                family.push(labels(), v * factor);
            }
        }
        self.inventory(name, row);
    }

    /// The module's inventory series, when the row carries any of it.
    fn inventory(&mut self, name: &str, row: &Row) {
        let text = |key: &str| {
            row.text(key)
                .map(|t| t.trim().to_owned())
                .unwrap_or_default()
        };
        let mut labels: Vec<String> = INVENTORY.iter().map(|key| text(key)).collect();
        if labels.iter().all(String::is_empty) {
            return;
        }
        if let Some(wavelength) = labels.last_mut() {
            *wavelength = nanometres(wavelength);
        }
        labels.insert(0, name.to_owned());
        self.info.push(labels, 1u64);
    }

    fn finish(self) -> Vec<Family> {
        let mut out = vec![
            self.link_up,
            self.rate,
            self.full_duplex,
            self.auto_negotiation,
            self.present,
        ];
        out.extend(self.flags);
        out.extend(self.readings);
        out.push(self.info);
        out.retain(|f| !f.samples.is_empty());
        out
    }
}

/// A wavelength label in nanometres without unit or trailing zeros (`1310nm`,
/// `1310` and `1310.00` all give `1310`); text that is no number is kept.
fn nanometres(text: &str) -> String {
    match parse::measure(text, "nm", Bare::Unit) {
        Some(nm) => nm.to_string(),
        None => text.to_owned(),
    }
}

/// A boolean property; `None` when absent or odd (logged).
fn flag(row: &Row, key: &str) -> Option<bool> {
    value(row, key, parse::boolean)
}

/// Parses `key` with `parse`; `None` (logged unless empty) when it does not parse.
fn value<T>(row: &Row, key: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
    let raw = row.get(key)?;
    let text = std::str::from_utf8(raw).ok();
    let parsed = text.and_then(&parse);
    if parsed.is_none() && text.is_none_or(|t| !t.trim().is_empty()) {
        tracing::debug!(key, raw = %String::from_utf8_lossy(raw), "unparseable ethernet value");
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::{Value, samples_named};
    use crate::collect::fixture::{assert_no_duplicate_series, rows};

    fn value_of(families: &[Family], name: &str, port: &str) -> Option<f64> {
        samples_named(families, name)
            .find(|s| s.labels[0] == port)
            .map(|s| s.value.as_f64())
    }

    fn ports_of(families: &[Family], name: &str) -> Vec<String> {
        samples_named(families, name)
            .map(|s| s.labels[0].to_string())
            .collect()
    }

    /// The monitored `.id`s of a print.
    fn monitored(print: &[Row]) -> Vec<String> {
        ports(print)
            .into_iter()
            .filter(Port::worth_monitoring)
            .map(|p| p.id)
            .collect()
    }

    /// A CCR-like v7 router: copper up, down and disabled; a renamed SFP+
    /// cage with link, an empty one, a dark QSFP28 lane and a combo port on copper.
    const V7_PRINT: &str = "
        .id=*1  name=ether1  default-name=ether1  running=true  disabled=false
        .id=*2  name=ether2  default-name=ether2  running=false  disabled=false
        .id=*3  name=ether3  default-name=ether3  running=false  disabled=true
        .id=*9  name=uplink-fibre  default-name=sfp-sfpplus1  running=true  disabled=false
        .id=*A  name=sfp-sfpplus2  default-name=sfp-sfpplus2  running=false  disabled=false
        .id=*B  name=qsfp28-1-1  default-name=qsfp28-1-1  running=false  disabled=false
        .id=*C  name=combo1  default-name=combo1  running=true  disabled=false
    ";

    const V7_MONITOR: &str = "
        name=ether1  status=link-ok  auto-negotiation=done  rate=1Gbps  full-duplex=true
        name=uplink-fibre  status=link-ok  auto-negotiation=disabled  rate=10Gbps  full-duplex=true  sfp-module-present=true  sfp-rx-loss=false  sfp-tx-fault=false  sfp-type=SFP/SFP+/SFP28  sfp-connector-type=LC  sfp-vendor-name=MikroTik  sfp-vendor-part-number=S+31DLC10D  sfp-vendor-revision=1.0  sfp-vendor-serial=STST31C10C00123  sfp-manufacturing-date=21-05-17  sfp-wavelength=1310  sfp-temperature=38  sfp-supply-voltage=3.291  sfp-tx-bias-current=31  sfp-tx-power=-2.1  sfp-rx-power=-4.3
        name=sfp-sfpplus2  status=no-link  auto-negotiation=disabled  sfp-module-present=false
        name=qsfp28-1-1  status=no-link  auto-negotiation=done  sfp-module-present=true  sfp-rx-loss=true  sfp-tx-fault=false  sfp-vendor-name=FS  sfp-wavelength=1311.00  sfp-temperature=41  sfp-tx-power=-1.2  sfp-rx-power=-40
        name=combo1  status=link-ok  auto-negotiation=done  rate=100Mbps  full-duplex=false  sfp-module-present=false
    ";

    #[test]
    fn v7_monitors_running_ports_and_cages_only() {
        assert_eq!(monitored(&rows(V7_PRINT)), ["*1", "*9", "*A", "*B", "*C"]);
    }

    #[test]
    fn v7_links_and_optics() {
        let f = build(&ports(&rows(V7_PRINT)), &rows(V7_MONITOR));
        assert_no_duplicate_series(&f);
        let up = "mikrotik_ethernet_link_up";
        // ether2 from the print (not monitored); disabled ether3 has no series.
        assert_eq!(
            ports_of(&f, up),
            [
                "ether1",
                "ether2",
                "uplink-fibre",
                "sfp-sfpplus2",
                "qsfp28-1-1",
                "combo1"
            ]
        );
        assert_eq!(value_of(&f, up, "ether1"), Some(1.0));
        assert_eq!(value_of(&f, up, "ether2"), Some(0.0));
        assert_eq!(value_of(&f, up, "qsfp28-1-1"), Some(0.0));
        let rate = "mikrotik_ethernet_rate_bps";
        assert_eq!(value_of(&f, rate, "uplink-fibre"), Some(10e9));
        assert_eq!(value_of(&f, rate, "combo1"), Some(100e6));
        assert_eq!(ports_of(&f, rate).len(), 3, "only links that are up");
        let duplex = "mikrotik_ethernet_full_duplex";
        assert_eq!(value_of(&f, duplex, "combo1"), Some(0.0));
        let autoneg: Vec<(&str, &str, f64)> =
            samples_named(&f, "mikrotik_ethernet_auto_negotiation")
                .filter(|s| s.labels[0] == "uplink-fibre")
                .map(|s| (s.labels[0].as_str(), s.labels[1].as_str(), s.value.as_f64()))
                .collect();
        let expect = |state, v| ("uplink-fibre", state, v);
        let want = [
            expect("done", 0.0),
            expect("incomplete", 0.0),
            expect("disabled", 1.0),
        ];
        assert_eq!(autoneg, want);
        let present = "mikrotik_ethernet_sfp_module_present";
        assert_eq!(
            ports_of(&f, present),
            ["uplink-fibre", "sfp-sfpplus2", "qsfp28-1-1", "combo1"]
        );
        assert_eq!(value_of(&f, present, "sfp-sfpplus2"), Some(0.0));
        assert_eq!(value_of(&f, present, "combo1"), Some(0.0));
        let t = "mikrotik_ethernet_sfp_temperature_celsius";
        assert_eq!(value_of(&f, t, "uplink-fibre"), Some(38.0));
        let v = "mikrotik_ethernet_sfp_supply_voltage_volts";
        assert_eq!(value_of(&f, v, "uplink-fibre"), Some(3.291));
        let bias = "mikrotik_ethernet_sfp_tx_bias_current_amperes";
        assert_eq!(value_of(&f, bias, "uplink-fibre"), Some(0.031));
        let rx = "mikrotik_ethernet_sfp_rx_power_dbm";
        assert_eq!(value_of(&f, rx, "uplink-fibre"), Some(-4.3));
        // The dark QSFP lane: optics although its link is down.
        assert_eq!(value_of(&f, rx, "qsfp28-1-1"), Some(-40.0));
        let loss = "mikrotik_ethernet_sfp_rx_loss";
        assert_eq!(value_of(&f, loss, "qsfp28-1-1"), Some(1.0));
        assert_eq!(value_of(&f, loss, "uplink-fibre"), Some(0.0));
        assert_eq!(ports_of(&f, t), ["uplink-fibre", "qsfp28-1-1"]);
        let info: Vec<&Vec<crate::collect::family::Label>> =
            samples_named(&f, "mikrotik_ethernet_sfp_info")
                .map(|s| &s.labels)
                .collect();
        assert_eq!(
            info[0],
            &[
                "uplink-fibre",
                "SFP/SFP+/SFP28",
                "LC",
                "MikroTik",
                "S+31DLC10D",
                "1.0",
                "STST31C10C00123",
                "21-05-17",
                "1310"
            ]
        );
        assert_eq!(info[1][0], "qsfp28-1-1");
        assert_eq!(info[1][3], "FS");
        assert_eq!(info[1][8], "1311");
        assert_eq!(info.len(), 2);
    }

    /// RouterOS 6 keeps the CLI units on the DOM readings; an older build
    /// without `sfp-module-present` still holds a module.
    #[test]
    fn v6_values_with_units_read_as_v7_plain_ones() {
        let print = rows(".id=*5  name=sfp1  default-name=sfp1  running=true  disabled=false");
        let v6 = rows(
            "name=sfp1  status=link-ok  auto-negotiation=done  rate=1Gbps  full-duplex=true  \
             sfp-rx-loss=false  sfp-tx-fault=false  sfp-vendor-name=OEM  sfp-wavelength=1310nm  \
             sfp-temperature=38C  sfp-supply-voltage=3.291V  sfp-tx-bias-current=31mA  \
             sfp-tx-power=-2.1dBm  sfp-rx-power=-4.3dBm",
        );
        let v7 = rows(
            "name=sfp1  status=link-ok  auto-negotiation=done  rate=1Gbps  full-duplex=true  \
             sfp-module-present=true  sfp-rx-loss=false  sfp-tx-fault=false  sfp-vendor-name=OEM  \
             sfp-wavelength=1310  sfp-temperature=38  sfp-supply-voltage=3.291  \
             sfp-tx-bias-current=31  sfp-tx-power=-2.1  sfp-rx-power=-4.3",
        );
        let ports = ports(&print);
        let f6 = build(&ports, &v6);
        assert_eq!(f6, build(&ports, &v7));
        assert_eq!(
            value_of(&f6, "mikrotik_ethernet_sfp_module_present", "sfp1"),
            Some(1.0)
        );
        assert_eq!(
            value_of(&f6, "mikrotik_ethernet_sfp_tx_power_dbm", "sfp1"),
            Some(-2.1)
        );
        assert_eq!(f6.len(), METRICS.len());
    }

    #[test]
    fn odd_values_cost_one_sample() {
        let print = rows(
            "
            .id=*1  name=ether1  running=true  disabled=false
            .id=*2  name=ether1  running=true  disabled=false
            .id=*3  running=true
            .id=*4  name=ether4  running=perhaps  disabled=false
            .id=*5  name=sfp1  running=true  disabled=false
            ",
        );
        let ports = ports(&print);
        assert_eq!(ports.len(), 3, "nameless and repeated names skipped");
        // Without a default-name the name tells a cage.
        assert!(ports[2].cage);
        let monitor = rows(
            "
            name=ether1  status=initializing  auto-negotiation=failed  rate=fast  full-duplex=maybe
            name=sfp1  status=link-ok  rate=10Gbps  sfp-module-present=perhaps  sfp-temperature=hot  sfp-rx-power=-4.3dBm  sfp-tx-power=  sfp-wavelength=n/a  sfp-vendor-name= FS
            name=sfp1  status=no-link
            ",
        );
        let f = build(&ports, &monitor);
        assert_no_duplicate_series(&f);
        assert_eq!(
            value_of(&f, "mikrotik_ethernet_link_up", "ether1"),
            Some(0.0)
        );
        assert!(
            ports_of(&f, "mikrotik_ethernet_link_up").len() == 2,
            "ether4: odd running"
        );
        assert!(ports_of(&f, "mikrotik_ethernet_rate_bps") == ["sfp1"]);
        assert!(ports_of(&f, "mikrotik_ethernet_full_duplex").is_empty());
        let states: Vec<(String, Value)> = samples_named(&f, "mikrotik_ethernet_auto_negotiation")
            .map(|s| (s.labels[1].to_string(), s.value))
            .collect();
        let expected = [
            ("done", 0u64),
            ("incomplete", 0),
            ("disabled", 0),
            ("failed", 1),
        ]
        .map(|(s, v)| (s.to_owned(), Value::Int(v)));
        assert_eq!(states, expected);
        // The first of two monitor rows for one port wins.
        assert_eq!(value_of(&f, "mikrotik_ethernet_link_up", "sfp1"), Some(1.0));
        assert!(ports_of(&f, "mikrotik_ethernet_sfp_module_present").is_empty());
        assert!(ports_of(&f, "mikrotik_ethernet_sfp_temperature_celsius").is_empty());
        assert!(ports_of(&f, "mikrotik_ethernet_sfp_tx_power_dbm").is_empty());
        assert_eq!(
            value_of(&f, "mikrotik_ethernet_sfp_rx_power_dbm", "sfp1"),
            Some(-4.3)
        );
        let info = samples_named(&f, "mikrotik_ethernet_sfp_info").next();
        let labels = info.map(|s| s.label_strings()).unwrap_or_default();
        assert_eq!((labels[3].as_str(), labels[8].as_str()), ("FS", "n/a"));
    }

    #[test]
    fn nothing_to_monitor_and_no_ports() {
        let print = rows(".id=*1  name=ether1  running=false  disabled=false");
        assert!(monitored(&print).is_empty());
        let f = build(&ports(&print), &[]);
        assert_eq!(f.len(), 1);
        assert!(build(&[], &[]).is_empty());
    }

    /// `print` and one `monitor` of the ports that can answer, as the
    /// simulator serves them to the group.
    fn simulator_families(f: &routeros_sim::menus::testkit::Fixture) -> Vec<Family> {
        let menu = routeros_sim::menus::registry()
            .into_iter()
            .find(|m| m.path() == "/interface/ethernet")
            .expect("ethernet menu");
        let view = f.view(1, 3_600);
        let print: Vec<Row> = menu.rows(&view).into_iter().map(Row::from_pairs).collect();
        let ports = ports(&print);
        let monitor: Vec<Row> = ports
            .iter()
            .filter(|p| p.worth_monitoring())
            .filter_map(|p| menu.monitor(&view, &p.name))
            .map(Row::from_pairs)
            .collect();
        build(&ports, &monitor)
    }

    #[test]
    fn simulator_boards_on_v6_and_v7() {
        use routeros_sim::menus::Board;
        use routeros_sim::menus::testkit::Fixture;
        let mut readings = Vec::new();
        for mut f in [Fixture::v6(), Fixture::v7()] {
            f.scale = Board::Ccr.scale();
            let families = simulator_families(&f);
            assert_no_duplicate_series(&families);
            let present = "mikrotik_ethernet_sfp_module_present";
            assert_eq!(value_of(&families, present, "sfp-sfpplus1"), Some(1.0));
            assert_eq!(value_of(&families, present, "sfp-sfpplus2"), Some(0.0));
            let rate = "mikrotik_ethernet_rate_bps";
            assert_eq!(value_of(&families, rate, "sfp-sfpplus1"), Some(10e9));
            assert_eq!(value_of(&families, rate, "ether3"), Some(100e6));
            assert_eq!(value_of(&families, rate, "ether4"), Some(10e6));
            // Every DOM reading parsed, with or without units.
            for (_, desc, ..) in &READINGS {
                assert_eq!(
                    ports_of(&families, desc.name),
                    ["sfp-sfpplus1"],
                    "{}",
                    desc.name
                );
            }
            readings.push(
                READINGS
                    .iter()
                    .map(|(_, desc, ..)| value_of(&families, desc.name, "sfp-sfpplus1"))
                    .collect::<Vec<_>>(),
            );

            f.scale = Board::Chr.scale();
            let families = simulator_families(&f);
            assert!(ports_of(&families, present).is_empty());
            assert_eq!(ports_of(&families, "mikrotik_ethernet_link_up").len(), 2);
        }
        // The same module reads the same on both versions.
        assert_eq!(readings[0], readings[1]);
    }
}
