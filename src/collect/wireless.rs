//! `wireless`: clients per interface and SSID, interface configuration,
//! channel frequency and noise floor, for every wireless package and both
//! CAPsMANs; with `clients: per_client` also signal, SNR, CCQ, rates, bytes
//! and uptime of each client.
//!
//! Which package the router runs is asked once per target and remembered until
//! it reboots ([`Context::present_menu`]): of `/interface/wifi` (7.13+, present
//! even without radios because CAPsMAN is in the base package there),
//! `/interface/wifiwave2` (7.1–7.12) and the legacy `/interface/wireless`, the
//! first that lists interfaces, else the first that exists; and, separately,
//! whether the legacy CAPsMAN `/caps-man` exists. That is one to four
//! `=count-only=` prints on the first probe and none after.
//!
//! Every probe then sends, for the package found:
//! 1. `<menu>/print` with `.proplist` of the configuration (SSID, band, mode)
//!    and state; when it lists nothing, nothing more (a router without
//!    radios costs this one command).
//! 2. One `<menu>/monitor =numbers=<.id>,… =once=` for the running, enabled
//!    interfaces that are not dynamic (legacy: `channel`, `noise-floor`,
//!    `overall-tx-ccq`; wifi and wifiwave2: `channel`). A controller's CAP
//!    interfaces are dynamic, and their access points, not the controller,
//!    monitor them.
//! 3. `<menu>/registration-table/print`, streamed, with `.proplist=interface`
//!    (legacy, whose table has no SSID) or `interface,ssid`, plus the client
//!    fields with `clients: per_client`.
//!
//! With the legacy CAPsMAN, `/caps-man/interface/print` (its `current-channel`
//! gives the frequency) and, when it lists access points, the streamed
//! `/caps-man/registration-table/print` the same way.
//!
//! Clients are counted from the rows of that one print rather than with one
//! `=count-only=` per interface: a CAPsMAN controller has hundreds of
//! interfaces and thousands of clients, and one print of ~30 bytes a client
//! costs less than hundreds of commands. On RouterOS 7 a controller's CAP
//! clients are in the same `/interface/wifi/registration-table` as its local
//! ones, read once, so no client is counted twice. A RouterOS 7 board running
//! the legacy radio package and also controlling wifi access points reports
//! the access points only (`/interface/wifi` lists interfaces, so it wins).

use super::family::{Family, MetricDesc, metric};
use super::parse::Bare;
use super::{Context, Group, GroupError, GroupFuture, parse};
use crate::config::ClientSeries;
use routeros::{Command, Row};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The `wireless` group.
pub struct Wireless;

const IFACE: &[&str] = &["interface"];
const CLIENT: &[&str] = &["interface", "mac_address"];

metric!(
    CLIENTS,
    "mikrotik_wireless_clients",
    Gauge,
    "Clients registered to the wireless interface, by SSID.",
    ["interface", "ssid"]
);
metric!(
    INFO,
    "mikrotik_wireless_interface_info",
    Gauge,
    "Wireless interface configuration (value 1).",
    ["interface", "ssid", "band", "mode", "source"]
);
metric!(
    FREQUENCY,
    "mikrotik_wireless_interface_frequency_hertz",
    Gauge,
    "Centre frequency of the channel the interface is on, in hertz.",
    IFACE
);
metric!(
    NOISE_FLOOR,
    "mikrotik_wireless_interface_noise_floor_dbm",
    Gauge,
    "Noise floor the radio measures, in dBm.",
    IFACE
);
metric!(
    TX_CCQ,
    "mikrotik_wireless_interface_tx_ccq_ratio",
    Gauge,
    "Overall transmit client connection quality of the interface (0-1).",
    IFACE
);
metric!(
    CLIENT_SIGNAL,
    "mikrotik_wireless_client_signal_dbm",
    Gauge,
    "Signal strength of the client at the access point, in dBm.",
    CLIENT
);
metric!(
    CLIENT_SNR,
    "mikrotik_wireless_client_snr_db",
    Gauge,
    "Signal-to-noise ratio of the client, in dB.",
    CLIENT
);
metric!(
    CLIENT_TX_CCQ,
    "mikrotik_wireless_client_tx_ccq_ratio",
    Gauge,
    "Transmit client connection quality to the client (0-1).",
    CLIENT
);
metric!(
    CLIENT_TX_RATE,
    "mikrotik_wireless_client_tx_rate_bps",
    Gauge,
    "PHY data rate the access point sends to the client at, in bits per second.",
    CLIENT
);
metric!(
    CLIENT_RX_RATE,
    "mikrotik_wireless_client_rx_rate_bps",
    Gauge,
    "PHY data rate the access point receives from the client at, in bits per second.",
    CLIENT
);
metric!(
    CLIENT_TX_BYTES,
    "mikrotik_wireless_client_tx_bytes_total",
    Counter,
    "Bytes sent to the client since it registered.",
    CLIENT
);
metric!(
    CLIENT_RX_BYTES,
    "mikrotik_wireless_client_rx_bytes_total",
    Counter,
    "Bytes received from the client since it registered.",
    CLIENT
);
metric!(
    CLIENT_UPTIME,
    "mikrotik_wireless_client_uptime_seconds",
    Gauge,
    "Time since the client registered, in seconds.",
    CLIENT
);

static METRICS: &[&MetricDesc] = &[
    &CLIENTS,
    &INFO,
    &FREQUENCY,
    &NOISE_FLOOR,
    &TX_CCQ,
    &CLIENT_SIGNAL,
    &CLIENT_SNR,
    &CLIENT_TX_CCQ,
    &CLIENT_TX_RATE,
    &CLIENT_RX_RATE,
    &CLIENT_TX_BYTES,
    &CLIENT_RX_BYTES,
    &CLIENT_UPTIME,
];

/// What one package calls the properties the group reads.
struct Shape {
    ssid: &'static str,
    band: &'static str,
    mode: &'static str,
    /// The interface property naming the channel in use, where the interface
    /// print has one (legacy CAPsMAN); elsewhere `monitor` tells.
    current_channel: Option<&'static str>,
    /// `monitor` properties; empty for a menu that is not monitored.
    monitor: &'static [&'static str],
    /// Registration-table properties for the counts.
    counted: &'static [&'static str],
    /// Registration-table properties for per-client series.
    per_client: &'static [&'static str],
    /// The client's signal strength in the registration table.
    signal: &'static str,
}

/// The legacy `wireless` package.
static LEGACY: Shape = Shape {
    ssid: "ssid",
    band: "band",
    mode: "mode",
    current_channel: None,
    monitor: &["name", "channel", "noise-floor", "overall-tx-ccq"],
    counted: &["interface"],
    per_client: &[
        "interface",
        "mac-address",
        "signal-strength",
        "signal-to-noise",
        "tx-ccq",
        "tx-rate",
        "rx-rate",
        "bytes",
        "uptime",
    ],
    signal: "signal-strength",
};

/// `wifi` and `wifiwave2`.
static WIFI: Shape = Shape {
    ssid: "configuration.ssid",
    band: "channel.band",
    mode: "configuration.mode",
    current_channel: None,
    monitor: &["name", "channel"],
    counted: &["interface", "ssid"],
    per_client: &[
        "interface",
        "ssid",
        "mac-address",
        "signal",
        "tx-rate",
        "rx-rate",
        "bytes",
        "uptime",
    ],
    signal: "signal",
};

/// The legacy CAPsMAN (`/caps-man`).
static CAPSMAN: Shape = Shape {
    ssid: "configuration.ssid",
    band: "channel.band",
    mode: "configuration.mode",
    current_channel: Some("current-channel"),
    monitor: &[],
    counted: &["interface", "ssid"],
    per_client: &[
        "interface",
        "ssid",
        "mac-address",
        "rx-signal",
        "tx-rate",
        "rx-rate",
        "bytes",
        "uptime",
    ],
    signal: "rx-signal",
};

/// Where one package keeps its interfaces and clients.
struct Table {
    /// The interface menu.
    interfaces: &'static str,
    /// Its registration table.
    registrations: &'static str,
    /// The `source` label of its interfaces.
    source: &'static str,
    shape: &'static Shape,
}

/// The local packages' interface menus, most preferred first (the
/// candidates of `present_menu`, in the order of [`LOCAL_TABLES`]).
const LOCAL_MENUS: &[&str] = &[
    "/interface/wifi",
    "/interface/wifiwave2",
    "/interface/wireless",
];

static LOCAL_TABLES: [Table; 3] = [
    Table {
        interfaces: "/interface/wifi",
        registrations: "/interface/wifi/registration-table",
        source: "wifi",
        shape: &WIFI,
    },
    Table {
        interfaces: "/interface/wifiwave2",
        registrations: "/interface/wifiwave2/registration-table",
        source: "wifiwave2",
        shape: &WIFI,
    },
    Table {
        interfaces: "/interface/wireless",
        registrations: "/interface/wireless/registration-table",
        source: "wireless",
        shape: &LEGACY,
    },
];

static CAPSMAN_TABLE: Table = Table {
    interfaces: "/caps-man/interface",
    registrations: "/caps-man/registration-table",
    source: "capsman",
    shape: &CAPSMAN,
};

impl Group for Wireless {
    fn name(&self) -> &'static str {
        "wireless"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let local = ctx.present_menu(LOCAL_MENUS).await?;
            let capsman = ctx.present_menu(&[CAPSMAN_TABLE.interfaces]).await?;
            let local = local.and_then(|m| LOCAL_TABLES.iter().find(|t| t.interfaces == m));
            let tables: Vec<&Table> = local
                .into_iter()
                .chain(capsman.map(|_| &CAPSMAN_TABLE))
                .collect();
            if tables.is_empty() {
                return Err(GroupError::Unsupported(
                    "no wireless package (/interface/wifi, /interface/wifiwave2, \
                     /interface/wireless and /caps-man are all absent)"
                        .into(),
                ));
            }
            let mut builder = Builder::new(ctx.module.clients == ClientSeries::PerClient);
            for table in tables {
                collect_table(ctx, table, &mut builder).await?;
            }
            Ok(builder.finish())
        })
    }
}

/// The interface print, the monitor and the registration table of one
/// package, into `builder`.
async fn collect_table(
    ctx: &Context,
    table: &'static Table,
    builder: &mut Builder,
) -> Result<(), GroupError> {
    let shape = table.shape;
    let mut fields = vec!["name", shape.ssid, shape.band, shape.mode];
    fields.extend(shape.current_channel);
    if !shape.monitor.is_empty() {
        fields.extend([".id", "running", "disabled", "dynamic"]);
    }
    let print = Command::new(&format!("{}/print", table.interfaces)).proplist(&fields);
    let interfaces = ctx.rows(print).await?;
    if interfaces.is_empty() {
        return Ok(());
    }
    builder.interfaces(table, &interfaces);
    if !shape.monitor.is_empty() {
        let (ids, names) = monitored(&interfaces);
        let rows = ctx.monitor(table.interfaces, &ids, shape.monitor).await?;
        builder.monitor(&rows, &names);
    }
    let fields = if builder.per_client {
        shape.per_client
    } else {
        shape.counted
    };
    let print = Command::new(&format!("{}/print", table.registrations)).proplist(fields);
    ctx.for_each_row(print, |row| builder.registration(shape, row))
        .await?;
    Ok(())
}

/// The `.id`s and names of the interfaces a monitor can answer for: running,
/// not disabled, not dynamic.
fn monitored(interfaces: &[Row]) -> (Vec<String>, Vec<String>) {
    let flag = |row: &Row, key: &str| row.str(key).and_then(parse::boolean);
    interfaces
        .iter()
        .filter(|r| flag(r, "running") == Some(true))
        .filter(|r| flag(r, "disabled") != Some(true) && flag(r, "dynamic") != Some(true))
        .map(|r| (text(r, ".id"), text(r, "name")))
        .filter(|(id, name)| !id.is_empty() && !name.is_empty())
        .unzip()
}

/// The per-client families.
struct PerClient {
    signal: Family,
    snr: Family,
    tx_ccq: Family,
    tx_rate: Family,
    rx_rate: Family,
    tx_bytes: Family,
    rx_bytes: Family,
    uptime: Family,
    /// Clients already reported, by interface and MAC address.
    seen: HashSet<(String, String)>,
}

impl PerClient {
    fn new() -> Self {
        Self {
            signal: Family::new(&CLIENT_SIGNAL),
            snr: Family::new(&CLIENT_SNR),
            tx_ccq: Family::new(&CLIENT_TX_CCQ),
            tx_rate: Family::new(&CLIENT_TX_RATE),
            rx_rate: Family::new(&CLIENT_RX_RATE),
            tx_bytes: Family::new(&CLIENT_TX_BYTES),
            rx_bytes: Family::new(&CLIENT_RX_BYTES),
            uptime: Family::new(&CLIENT_UPTIME),
            seen: HashSet::new(),
        }
    }

    /// The series of one registration row; each odd value costs its sample.
    fn add(&mut self, shape: &Shape, interface: &str, row: &Row) {
        let mac = text(row, "mac-address");
        if mac.is_empty() {
            tracing::debug!(interface, "wireless client without a mac-address");
            return;
        }
        if !self.seen.insert((interface.to_owned(), mac.clone())) {
            tracing::debug!(
                interface,
                mac,
                "wireless client listed twice, keeping the first"
            );
            return;
        }
        let labels = || vec![interface.to_owned(), mac.clone()];
        let gauges = [
            (&mut self.signal, value(row, shape.signal, signal_dbm)),
            (&mut self.snr, value(row, "signal-to-noise", decibels)),
            (&mut self.tx_ccq, value(row, "tx-ccq", percent_ratio)),
            (&mut self.tx_rate, value(row, "tx-rate", parse::rate_bps)),
            (&mut self.rx_rate, value(row, "rx-rate", parse::rate_bps)),
            (&mut self.uptime, value(row, "uptime", seconds)),
        ];
        for (family, sample) in gauges {
            if let Some(v) = sample {
                family.push(labels(), v);
            }
        }
        // `bytes=tx,rx`, the access point's view.
        if let Some(tx) = value(row, "bytes", |t| pair(t, 0)) {
            self.tx_bytes.push(labels(), tx);
        }
        if let Some(rx) = value(row, "bytes", |t| pair(t, 1)) {
            self.rx_bytes.push(labels(), rx);
        }
    }

    fn families(self) -> [Family; 8] {
        [
            self.signal,
            self.snr,
            self.tx_ccq,
            self.tx_rate,
            self.rx_rate,
            self.tx_bytes,
            self.rx_bytes,
            self.uptime,
        ]
    }
}

/// Turns the interface prints, monitor rows and registration rows of every
/// package into families (pure, unit-tested on fixtures).
struct Builder {
    /// Whether per-client series are wanted.
    per_client: bool,
    /// Interfaces in print order with their configured SSID.
    interfaces: Vec<(String, String)>,
    /// The configured SSID of each interface.
    ssid_of: HashMap<String, String>,
    /// Clients by interface and SSID.
    counts: BTreeMap<(String, String), u64>,
    /// Interfaces whose frequency is already reported.
    tuned: HashSet<String>,
    /// Interfaces whose monitor row is already read.
    monitored: HashSet<String>,
    info: Family,
    frequency: Family,
    noise_floor: Family,
    tx_ccq: Family,
    clients: PerClient,
}

impl Builder {
    fn new(per_client: bool) -> Self {
        Self {
            per_client,
            interfaces: Vec::new(),
            ssid_of: HashMap::new(),
            counts: BTreeMap::new(),
            tuned: HashSet::new(),
            monitored: HashSet::new(),
            info: Family::new(&INFO),
            frequency: Family::new(&FREQUENCY),
            noise_floor: Family::new(&NOISE_FLOOR),
            tx_ccq: Family::new(&TX_CCQ),
            clients: PerClient::new(),
        }
    }

    /// The rows of an interface print.
    fn interfaces(&mut self, table: &Table, rows: &[Row]) {
        let shape = table.shape;
        for row in rows {
            let name = text(row, "name");
            if name.is_empty() || self.ssid_of.contains_key(&name) {
                tracing::debug!(
                    interface = name,
                    "wireless interface unnamed or listed twice"
                );
                continue;
            }
            let ssid = text(row, shape.ssid);
            let info = vec![
                name.clone(),
                ssid.clone(),
                text(row, shape.band),
                text(row, shape.mode),
                table.source.to_owned(),
            ];
            self.info.push(info, 1u64);
            if let Some(hz) = shape.current_channel.and_then(|k| value(row, k, hertz)) {
                self.tune(&name, hz);
            }
            self.ssid_of.insert(name.clone(), ssid.clone());
            self.interfaces.push((name, ssid));
        }
    }

    fn tune(&mut self, interface: &str, hz: u64) {
        if self.tuned.insert(interface.to_owned()) {
            self.frequency.push(vec![interface.to_owned()], hz);
        }
    }

    /// The rows of one batched monitor; `names` are the monitored interfaces
    /// in the order asked, for rows that do not carry their `name`.
    fn monitor(&mut self, rows: &[Row], names: &[String]) {
        for (i, row) in rows.iter().enumerate() {
            let name = Some(text(row, "name"))
                .filter(|n| !n.is_empty())
                .or_else(|| names.get(i).cloned());
            let Some(name) = name.filter(|n| self.monitored.insert(n.clone())) else {
                continue;
            };
            if let Some(hz) = value(row, "channel", hertz) {
                self.tune(&name, hz);
            }
            let labels = || vec![name.clone()];
            if let Some(v) = value(row, "noise-floor", signal_dbm) {
                self.noise_floor.push(labels(), v);
            }
            if let Some(v) = value(row, "overall-tx-ccq", percent_ratio) {
                self.tx_ccq.push(labels(), v);
            }
        }
    }

    /// One registration-table row: counted always, its series per client.
    fn registration(&mut self, shape: &Shape, row: &Row) {
        let interface = text(row, "interface");
        let ssid = Some(text(row, "ssid"))
            .filter(|s| !s.is_empty())
            .or_else(|| self.ssid_of.get(&interface).cloned())
            .unwrap_or_default();
        if self.per_client {
            self.clients.add(shape, &interface, row);
        }
        *self.counts.entry((interface, ssid)).or_default() += 1;
    }

    /// The families with samples; an interface without clients counts 0
    /// under its configured SSID.
    fn finish(mut self) -> Vec<Family> {
        let busy: HashSet<&String> = self.counts.keys().map(|(i, _)| i).collect();
        let idle: Vec<(String, String)> = self
            .interfaces
            .iter()
            .filter(|(name, _)| !busy.contains(name))
            .cloned()
            .collect();
        self.counts.extend(idle.into_iter().map(|key| (key, 0)));
        let mut clients = Family::new(&CLIENTS);
        for ((interface, ssid), n) in self.counts {
            clients.push(vec![interface, ssid], n);
        }
        let mut out = vec![
            clients,
            self.info,
            self.frequency,
            self.noise_floor,
            self.tx_ccq,
        ];
        out.extend(self.clients.families());
        out.retain(|f| !f.samples.is_empty());
        out
    }
}

/// A row's value of `key` as label text; empty when absent.
fn text(row: &Row, key: &str) -> String {
    row.text(key)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

/// Parses `key` with `parse`: `None` when absent or empty, and when odd
/// (logged).
fn value<T>(row: &Row, key: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
    let raw = row.text(key)?;
    let raw = raw.trim();
    let parsed = parse(raw);
    if parsed.is_none() && !raw.is_empty() {
        tracing::debug!(key, raw, "unparseable wireless value");
    }
    parsed
}

/// The centre frequency in hertz of a channel as RouterOS writes it: MHz
/// first (`2412/20-Ce/gn(17dBm)`, `5180/ax/Ceee`, `5180`).
fn hertz(channel: &str) -> Option<u64> {
    let mhz = channel.split(['/', '(', ',', '-']).next()?;
    parse::unsigned(mhz)?.checked_mul(1_000_000)
}

/// A level in dBm, with or without the unit and the `@rate` the legacy
/// package appends (`-51@1Mbps`, `-65dBm@HT20-7`, `-51`).
fn signal_dbm(text: &str) -> Option<f64> {
    let level = text.split('@').next()?;
    parse::measure(level, "dBm", Bare::Unit)
}

/// A ratio in dB (`43`, `43dB`).
fn decibels(text: &str) -> Option<f64> {
    parse::measure(text, "dB", Bare::Unit)
}

/// A percentage (`91`, `91%`) as a ratio. The legacy package reports CCQs
/// above 100 now and then; they are kept, not clamped.
fn percent_ratio(text: &str) -> Option<f64> {
    parse::measure(text, "%", Bare::Unit).map(|p| p / 100.0)
}

/// A duration in seconds.
fn seconds(text: &str) -> Option<f64> {
    parse::duration(text).map(|d| d.as_secs_f64())
}

/// Half `index` (0 = tx, 1 = rx) of a `tx,rx` pair; `None` unless the value
/// is exactly two numbers.
fn pair(text: &str, index: usize) -> Option<u64> {
    let (tx, rx) = text.split_once(',')?;
    if rx.contains(',') {
        return None;
    }
    [tx, rx].get(index).and_then(|half| parse::unsigned(half))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::{Value, samples_named};
    use crate::collect::fixture::samples;
    use crate::collect::fixture::{assert_no_duplicate_series, rows};

    /// The value of `name` whose labels start with `first`.
    fn value_of(families: &[Family], name: &str, first: &[&str]) -> Option<f64> {
        samples_named(families, name)
            .find(|s| s.labels.iter().zip(first).all(|(l, f)| l == f))
            .map(|s| s.value.as_f64())
    }

    /// One package's replies: interface print, monitor, registration table.
    struct Replies<'a> {
        table: &'static Table,
        interfaces: &'a str,
        monitor: &'a str,
        registrations: &'a str,
    }

    /// What `collect_table` does with the replies of each package, in order.
    fn build(packages: &[Replies<'_>], per_client: bool) -> Vec<Family> {
        let mut b = Builder::new(per_client);
        for p in packages {
            let interfaces = rows(p.interfaces);
            b.interfaces(p.table, &interfaces);
            let (_, names) = monitored(&interfaces);
            b.monitor(&rows(p.monitor), &names);
            for row in rows(p.registrations) {
                b.registration(p.table.shape, &row);
            }
        }
        b.finish()
    }

    fn table(menu: &str) -> &'static Table {
        LOCAL_TABLES
            .iter()
            .chain([&CAPSMAN_TABLE])
            .find(|t| t.interfaces == menu)
            .expect("known table")
    }

    const V6_INTERFACES: &str = "
        .id=*1  name=wlan1  ssid=office  band=2ghz-b/g/n  mode=ap-bridge  running=true  disabled=false
        .id=*2  name=wlan2  ssid=office-5  band=5ghz-a/n/ac  mode=ap-bridge  running=true  disabled=false
        .id=*3  name=wlan3  ssid=guest  band=2ghz-b/g/n  mode=ap-bridge  running=false  disabled=true
    ";
    const V6_MONITOR: &str = "
        name=wlan1  channel=2412/20-Ce/gn(17dBm)  noise-floor=-108  overall-tx-ccq=91
        name=wlan2  channel=5180/20/40/80-Ceee/ac(23dBm)  noise-floor=-104dBm  overall-tx-ccq=87%
    ";
    const V6_REGISTRATIONS: &str = "
        .id=*1  interface=wlan1  mac-address=00:11:22:3E:1C:EE  rx-rate=65Mbps-20MHz/1S  tx-rate=48Mbps  bytes=6689896,2094536  uptime=5d9m11s  signal-strength=-51@1Mbps  signal-to-noise=50  tx-ccq=113
        .id=*2  interface=wlan1  mac-address=00:11:22:3E:1C:EF  rx-rate=117Mbps-20MHz/2S  tx-rate=130Mbps-20MHz/2S/SGI  bytes=10,20  uptime=1d22:36:21  signal-strength=-65dBm@HT20-7  signal-to-noise=43dB  tx-ccq=96%
        .id=*3  interface=wlan2  mac-address=A4:83:E7:00:00:01  rx-rate=433.3Mbps-80MHz/1S/SGI  tx-rate=866.6Mbps-80MHz/2S/SGI  bytes=0,0  uptime=3s  signal-strength=-70@6Mbps  signal-to-noise=34  tx-ccq=55
    ";

    fn v6(per_client: bool) -> Vec<Family> {
        build(
            &[Replies {
                table: table("/interface/wireless"),
                interfaces: V6_INTERFACES,
                monitor: V6_MONITOR,
                registrations: V6_REGISTRATIONS,
            }],
            per_client,
        )
    }

    #[test]
    fn v6_legacy_radios_counted_monitored_and_described() {
        let f = v6(false);
        assert_eq!(
            samples(&f, "mikrotik_wireless_clients"),
            [
                (vec!["wlan1".into(), "office".into()], Value::Int(2)),
                (vec!["wlan2".into(), "office-5".into()], Value::Int(1)),
                (vec!["wlan3".into(), "guest".into()], Value::Int(0)),
            ]
        );
        let info = samples(&f, "mikrotik_wireless_interface_info");
        assert_eq!(
            info[0].0,
            ["wlan1", "office", "2ghz-b/g/n", "ap-bridge", "wireless"]
        );
        assert_eq!(info.len(), 3);
        let hz = "mikrotik_wireless_interface_frequency_hertz";
        assert_eq!(
            samples(&f, hz),
            [
                (vec!["wlan1".into()], Value::Int(2_412_000_000)),
                (vec!["wlan2".into()], Value::Int(5_180_000_000)),
            ]
        );
        let noise = "mikrotik_wireless_interface_noise_floor_dbm";
        assert_eq!(value_of(&f, noise, &["wlan1"]), Some(-108.0));
        assert_eq!(value_of(&f, noise, &["wlan2"]), Some(-104.0));
        let ccq = "mikrotik_wireless_interface_tx_ccq_ratio";
        assert_eq!(value_of(&f, ccq, &["wlan2"]), Some(0.87));
        assert!(
            f.iter().all(|f| !f.desc.name.contains("_client_")),
            "no per-client series by default"
        );
        assert_eq!(
            monitored(&rows(V6_INTERFACES)).0,
            ["*1", "*2"],
            "the disabled radio is not monitored"
        );
    }

    #[test]
    fn v6_per_client_series_from_the_access_points_view() {
        let f = v6(true);
        let first = ["wlan1", "00:11:22:3E:1C:EE"];
        let second = ["wlan1", "00:11:22:3E:1C:EF"];
        let v = |name: &str, client: &[&str]| value_of(&f, name, client);
        assert_eq!(
            v("mikrotik_wireless_client_signal_dbm", &first),
            Some(-51.0)
        );
        assert_eq!(
            v("mikrotik_wireless_client_signal_dbm", &second),
            Some(-65.0)
        );
        assert_eq!(v("mikrotik_wireless_client_snr_db", &second), Some(43.0));
        // A CCQ above 100 % as the router reported it.
        assert_eq!(
            v("mikrotik_wireless_client_tx_ccq_ratio", &first),
            Some(1.13)
        );
        assert_eq!(
            v("mikrotik_wireless_client_tx_ccq_ratio", &second),
            Some(0.96)
        );
        let tx_rate = "mikrotik_wireless_client_tx_rate_bps";
        assert_eq!(v(tx_rate, &first), Some(48e6));
        let rx_rate = "mikrotik_wireless_client_rx_rate_bps";
        assert_eq!(v(rx_rate, &first), Some(65e6));
        let tx = samples(&f, "mikrotik_wireless_client_tx_bytes_total");
        assert_eq!(tx[0].1, Value::Int(6_689_896));
        let rx = samples(&f, "mikrotik_wireless_client_rx_bytes_total");
        assert_eq!(rx[0].1, Value::Int(2_094_536));
        let uptime = "mikrotik_wireless_client_uptime_seconds";
        assert_eq!(v(uptime, &first), Some((5 * 86_400 + 9 * 60 + 11) as f64));
        assert_eq!(
            v(uptime, &second),
            Some((86_400 + 22 * 3_600 + 36 * 60 + 21) as f64)
        );
        assert_eq!(samples(&f, uptime).len(), 3);
        assert_no_duplicate_series(&f);
    }

    const V7_INTERFACES: &str = "
        .id=*1  name=wifi1  configuration.ssid=office  configuration.mode=ap  channel.band=5ghz-ax  running=true  disabled=false
        .id=*2  name=wifi2  configuration.ssid=office  channel.band=2ghz-ax  running=true  disabled=false
        .id=*3  name=cap-wifi1  configuration.ssid=branch  configuration.mode=ap  channel.band=5ghz-ax  running=true  disabled=false  dynamic=true
    ";
    const V7_MONITOR: &str = "
        name=wifi1  channel=5180/ax/Ceee
        name=wifi2  channel=2437/ax
    ";
    const V7_REGISTRATIONS: &str = "
        .id=*1  interface=wifi1  ssid=office  mac-address=A4:83:E7:00:00:01  signal=-48  tx-rate=1.2Gbps-80MHz/2S  rx-rate=864.8Mbps-80MHz/2S  bytes=100,200  uptime=1h2m3s
        .id=*2  interface=cap-wifi1  ssid=branch  mac-address=3C:22:FB:00:00:01  signal=-71  tx-rate=286.7Mbps-20MHz/2S  rx-rate=143.4Mbps-20MHz/1S  bytes=5,6  uptime=10s
        .id=*3  interface=cap-wifi1  ssid=branch-guest  mac-address=3C:22:FB:00:00:02  signal=-60dBm  tx-rate=54Mbps  rx-rate=6Mbps  bytes=7,8  uptime=4m
    ";

    fn v7(per_client: bool) -> Vec<Family> {
        build(
            &[Replies {
                table: table("/interface/wifi"),
                interfaces: V7_INTERFACES,
                monitor: V7_MONITOR,
                registrations: V7_REGISTRATIONS,
            }],
            per_client,
        )
    }

    #[test]
    fn v7_wifi_radios_and_cap_interfaces_in_one_table() {
        let f = v7(false);
        assert_eq!(
            samples(&f, "mikrotik_wireless_clients"),
            [
                (vec!["cap-wifi1".into(), "branch".into()], Value::Int(1)),
                (
                    vec!["cap-wifi1".into(), "branch-guest".into()],
                    Value::Int(1)
                ),
                (vec!["wifi1".into(), "office".into()], Value::Int(1)),
                (vec!["wifi2".into(), "office".into()], Value::Int(0)),
            ]
        );
        let info = samples(&f, "mikrotik_wireless_interface_info");
        assert_eq!(info[0].0, ["wifi1", "office", "5ghz-ax", "ap", "wifi"]);
        assert_eq!(info[1].0, ["wifi2", "office", "2ghz-ax", "", "wifi"]);
        let hz = "mikrotik_wireless_interface_frequency_hertz";
        assert_eq!(value_of(&f, hz, &["wifi1"]), Some(5.18e9));
        assert_eq!(value_of(&f, hz, &["wifi2"]), Some(2.437e9));
        assert_eq!(samples(&f, hz).len(), 2, "no frequency of a CAP interface");
        // The wifi packages give no noise floor or CCQ.
        assert!(samples(&f, "mikrotik_wireless_interface_noise_floor_dbm").is_empty());
        assert!(samples(&f, "mikrotik_wireless_interface_tx_ccq_ratio").is_empty());
        assert_eq!(monitored(&rows(V7_INTERFACES)).1, ["wifi1", "wifi2"]);
    }

    #[test]
    fn v7_per_client_series_without_snr_or_ccq() {
        let f = v7(true);
        let client = ["wifi1", "A4:83:E7:00:00:01"];
        let v = |name: &str, client: &[&str]| value_of(&f, name, client);
        assert_eq!(
            v("mikrotik_wireless_client_signal_dbm", &client),
            Some(-48.0)
        );
        let dbm = ["cap-wifi1", "3C:22:FB:00:00:02"];
        assert_eq!(v("mikrotik_wireless_client_signal_dbm", &dbm), Some(-60.0));
        let tx_rate = "mikrotik_wireless_client_tx_rate_bps";
        assert_eq!(v(tx_rate, &client), Some(1.2e9));
        assert_eq!(
            v("mikrotik_wireless_client_uptime_seconds", &client),
            Some(3_723.0)
        );
        assert_eq!(
            samples(&f, "mikrotik_wireless_client_tx_bytes_total").len(),
            3
        );
        assert!(samples(&f, "mikrotik_wireless_client_snr_db").is_empty());
        assert!(samples(&f, "mikrotik_wireless_client_tx_ccq_ratio").is_empty());
        assert_no_duplicate_series(&f);
    }

    #[test]
    fn v6_legacy_capsman_beside_local_radios() {
        let capsman = Replies {
            table: table("/caps-man/interface"),
            interfaces: "
                name=cap1  configuration.ssid=office  configuration.mode=ap  channel.band=2ghz-b/g/n  current-channel=2437/20-Ce/gn(17dBm)  running=true  dynamic=true
                name=cap2  channel.band=5ghz-a/n/ac  current-channel=5500/20-Ceee/ac(23dBm)  running=true  dynamic=true
                name=cap3  configuration.ssid=office  current-channel=auto  running=false
            ",
            monitor: "",
            registrations: "
                interface=cap1  ssid=office  mac-address=5C:E9:00:00:00:01  rx-signal=-62  bytes=1,2
                interface=cap2  ssid=guest  mac-address=5C:E9:00:00:00:02  rx-signal=-58  bytes=3,4
            ",
        };
        let local = Replies {
            table: table("/interface/wireless"),
            interfaces: V6_INTERFACES,
            monitor: V6_MONITOR,
            registrations: V6_REGISTRATIONS,
        };
        let f = build(&[local, capsman], true);
        let clients = samples(&f, "mikrotik_wireless_clients");
        let cap = |name: &str| -> Vec<(Vec<String>, Value)> {
            clients
                .iter()
                .filter(|(l, _)| l[0] == name)
                .cloned()
                .collect()
        };
        assert_eq!(
            cap("cap1"),
            [(vec!["cap1".into(), "office".into()], Value::Int(1))]
        );
        // cap2's SSID comes from a named configuration: only its client says it.
        assert_eq!(
            cap("cap2"),
            [(vec!["cap2".into(), "guest".into()], Value::Int(1))]
        );
        assert_eq!(
            cap("cap3"),
            [(vec!["cap3".into(), "office".into()], Value::Int(0))]
        );
        assert_eq!(clients.len(), 6);
        let info = samples(&f, "mikrotik_wireless_interface_info");
        assert_eq!(info[3].0, ["cap1", "office", "2ghz-b/g/n", "ap", "capsman"]);
        assert_eq!(info[4].0, ["cap2", "", "5ghz-a/n/ac", "", "capsman"]);
        let hz = "mikrotik_wireless_interface_frequency_hertz";
        assert_eq!(value_of(&f, hz, &["cap2"]), Some(5.5e9));
        assert_eq!(value_of(&f, hz, &["cap3"]), None);
        let signal = "mikrotik_wireless_client_signal_dbm";
        assert_eq!(value_of(&f, signal, &["cap2"]), Some(-58.0));
        assert_no_duplicate_series(&f);
    }

    #[test]
    fn odd_values_cost_one_sample() {
        let f = build(
            &[Replies {
                table: table("/interface/wireless"),
                interfaces: "
                    .id=*1  name=wlan1  ssid=a  running=true
                    name=wlan1  ssid=again  running=true
                    ssid=nameless
                ",
                monitor: "channel=auto  noise-floor=n/a  overall-tx-ccq=91",
                registrations: "
                    interface=wlan1  mac-address=02:00:00:00:00:01  signal-strength=strong  signal-to-noise=40  bytes=1,x  tx-rate=fast  rx-rate=6Mbps  uptime=soon
                    interface=wlan1  mac-address=02:00:00:00:00:02  bytes=5  tx-ccq=  uptime=1s
                    interface=wlan1  mac-address=02:00:00:00:00:02  signal-strength=-40
                    interface=wlan1  signal-strength=-41
                    interface=wlan9  ssid=elsewhere  mac-address=02:00:00:00:00:03  signal-strength=-42@1Mbps
                ",
            }],
            true,
        );
        assert_eq!(
            samples(&f, "mikrotik_wireless_clients"),
            [
                (vec!["wlan1".into(), "a".into()], Value::Int(4)),
                (vec!["wlan9".into(), "elsewhere".into()], Value::Int(1)),
            ],
            "every row counts, whatever its values"
        );
        assert_eq!(samples(&f, "mikrotik_wireless_interface_info").len(), 1);
        // The monitor row without a name is the first interface asked about.
        assert!(samples(&f, "mikrotik_wireless_interface_frequency_hertz").is_empty());
        assert!(samples(&f, "mikrotik_wireless_interface_noise_floor_dbm").is_empty());
        let ccq = "mikrotik_wireless_interface_tx_ccq_ratio";
        assert_eq!(value_of(&f, ccq, &["wlan1"]), Some(0.91));
        let signal = samples(&f, "mikrotik_wireless_client_signal_dbm");
        let macs: Vec<&str> = signal.iter().map(|(l, _)| l[1].as_str()).collect();
        // The second row of a client and the row without a MAC give no series.
        assert_eq!(macs, ["02:00:00:00:00:03"]);
        assert_eq!(samples(&f, "mikrotik_wireless_client_snr_db").len(), 1);
        assert_eq!(
            samples(&f, "mikrotik_wireless_client_tx_bytes_total").len(),
            1
        );
        assert!(samples(&f, "mikrotik_wireless_client_rx_bytes_total").is_empty());
        assert!(samples(&f, "mikrotik_wireless_client_tx_rate_bps").is_empty());
        assert_eq!(samples(&f, "mikrotik_wireless_client_rx_rate_bps").len(), 1);
        assert_eq!(
            samples(&f, "mikrotik_wireless_client_uptime_seconds").len(),
            1
        );
        assert!(samples(&f, "mikrotik_wireless_client_tx_ccq_ratio").is_empty());
        assert_no_duplicate_series(&f);
    }

    #[test]
    fn detection_candidates_are_the_local_tables_in_order() {
        let tables: Vec<&str> = LOCAL_TABLES.iter().map(|t| t.interfaces).collect();
        assert_eq!(tables, LOCAL_MENUS);
    }

    #[test]
    fn channels_levels_and_pairs_parse_with_or_without_units() {
        assert_eq!(hertz("2412/20-Ce/gn(17dBm)"), Some(2_412_000_000));
        assert_eq!(hertz("5180/ax/Ceee"), Some(5_180_000_000));
        assert_eq!(hertz("5180"), Some(5_180_000_000));
        assert_eq!(hertz("5180-Ceee"), Some(5_180_000_000));
        assert_eq!(hertz("auto"), None);
        assert_eq!(hertz(""), None);
        assert_eq!(signal_dbm("-51@1Mbps"), Some(-51.0));
        assert_eq!(signal_dbm("-65dBm@HT20-7"), Some(-65.0));
        assert_eq!(signal_dbm("-48"), Some(-48.0));
        assert_eq!(signal_dbm("@1Mbps"), None);
        assert_eq!(percent_ratio("113"), Some(1.13));
        assert_eq!(percent_ratio("96%"), Some(0.96));
        assert_eq!(decibels("43dB"), Some(43.0));
        assert_eq!(pair("6689896,2094536", 0), Some(6_689_896));
        assert_eq!(pair("6689896,2094536", 1), Some(2_094_536));
        assert_eq!(pair("1,2,3", 0), None);
        assert_eq!(pair("7", 0), None);
        assert_eq!(pair("1,2", 2), None);
    }

    /// Collects every package the simulator serves with `scale`, as the group
    /// would: the interface print, a monitor of the monitored interfaces and
    /// the registration table.
    fn simulated(f: &routeros_sim::menus::testkit::Fixture, per_client: bool) -> Vec<Family> {
        let menus = routeros_sim::menus::registry();
        let menu = |path: &str| menus.iter().find(|m| m.path() == path).cloned();
        let view = f.view(1, 7_200);
        let mut b = Builder::new(per_client);
        for table in LOCAL_TABLES.iter().chain([&CAPSMAN_TABLE]) {
            let Some(interfaces) = menu(table.interfaces) else {
                continue;
            };
            if !interfaces.available(&f.personality) || !interfaces.installed(&view) {
                continue;
            }
            let to_rows = |rows: Vec<routeros_sim::menus::SimRow>| -> Vec<Row> {
                rows.into_iter().map(Row::from_pairs).collect()
            };
            let rows = to_rows(interfaces.rows(&view));
            b.interfaces(table, &rows);
            let (_, names) = monitored(&rows);
            if !table.shape.monitor.is_empty() {
                let monitor: Vec<_> = names
                    .iter()
                    .filter_map(|n| interfaces.monitor(&view, n))
                    .collect();
                assert_eq!(monitor.len(), names.len(), "{}", table.interfaces);
                b.monitor(&to_rows(monitor), &names);
            }
            let registrations = menu(table.registrations).expect("registration table");
            for row in to_rows(registrations.rows(&view)) {
                b.registration(table.shape, &row);
            }
        }
        b.finish()
    }

    #[test]
    fn simulator_data_of_every_package_counts_each_client_once() {
        use routeros_sim::menus::WifiStack;
        use routeros_sim::menus::testkit::Fixture;
        use routeros_sim::personality::{Personality, Version};
        // (version, package, interfaces with a known frequency): the local
        // radios but the disabled fifth, and the legacy CAPsMAN's access
        // points (a wifi controller does not monitor its CAP interfaces).
        for (personality, wifi, tuned) in [
            (Personality::v6(), WifiStack::Auto, 4 + 6),
            (
                Personality::for_version(Version::new(7, 12, 1)),
                WifiStack::Auto,
                4,
            ),
            (Personality::v7(), WifiStack::Auto, 4),
            (Personality::v7(), WifiStack::None, 0),
            (Personality::v7(), WifiStack::Wireless, 4 + 6),
        ] {
            let mut f = Fixture::with(personality);
            f.scale.wifi = wifi;
            f.scale.wireless_radios = 5;
            f.scale.wireless_clients = 40;
            f.scale.capsman_caps = 6;
            f.scale.capsman_clients = 90;
            let families = simulated(&f, true);
            assert_no_duplicate_series(&families);
            let counted: f64 = samples(&families, "mikrotik_wireless_clients")
                .iter()
                .map(|(_, v)| v.as_f64())
                .sum();
            let local = if wifi == WifiStack::None { 0 } else { 40 };
            assert_eq!(
                counted,
                f64::from(local + 90),
                "{wifi:?} {:?}",
                f.personality
            );
            let signals = samples(&families, "mikrotik_wireless_client_signal_dbm");
            assert_eq!(signals.len(), local as usize + 90);
            assert!(
                signals
                    .iter()
                    .all(|(_, v)| (-90.0..-30.0).contains(&v.as_f64()))
            );
            let hz = samples(&families, "mikrotik_wireless_interface_frequency_hertz");
            assert_eq!(hz.len(), tuned, "{wifi:?} {:?}", f.personality);
        }
    }
}
