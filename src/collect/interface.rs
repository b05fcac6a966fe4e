//! `interface`: traffic counters, link state and metadata of every interface.
//!
//! Command: `/interface/print` with `.proplist`, streamed row by row.
//! Interfaces are identified by `name`, which is unique and stable; the `.id` of
//! dynamic interfaces changes across reboots and reconnects. The module's
//! [`InterfaceOptions`](crate::config::InterfaceOptions) select which interfaces
//! are reported.
//!
//! Dynamic interfaces (`dynamic=true`: one `<pppoe-user>`, `<l2tp-user>`, …
//! per PPP subscriber, thousands on a concentrator, each coming and going with
//! its session) are left out unless the module asks for them
//! ([`Module::skips_dynamic_interfaces`](crate::config::Module::skips_dynamic_interfaces)):
//! 15 series each would be 75,000 series for 5,000 subscribers, all renewed
//! at every reconnect. They are always counted by type. When they are left
//! out, the router does the filtering: one print of the configured interfaces
//! (`?dynamic=true ?#!`, which also matches rows without the flag) with every
//! field, and one of the dynamic ones with `=.proplist=type` only, so a
//! subscriber costs a few bytes instead of a row of counters. Rows are still
//! checked here, so a router that answers a query differently costs no
//! correctness.

use super::family::{Family, MetricDesc, metric, samples_of};
use super::{Context, Group, GroupFuture, parse};
use crate::config::InterfaceOptions;
use routeros::{Command, Row};
use std::collections::{BTreeMap, HashSet};

/// The `interface` group.
pub struct Interface;

const IFACE: &[&str] = &["interface"];

metric!(
    pub RX_BYTES,
    "mikrotik_interface_rx_bytes_total",
    Counter,
    "Bytes received on the interface.",
    IFACE
);
metric!(
    TX_BYTES,
    "mikrotik_interface_tx_bytes_total",
    Counter,
    "Bytes transmitted on the interface.",
    IFACE
);
metric!(
    RX_PACKETS,
    "mikrotik_interface_rx_packets_total",
    Counter,
    "Packets received on the interface.",
    IFACE
);
metric!(
    TX_PACKETS,
    "mikrotik_interface_tx_packets_total",
    Counter,
    "Packets transmitted on the interface.",
    IFACE
);
metric!(
    RX_ERRORS,
    "mikrotik_interface_rx_errors_total",
    Counter,
    "Receive errors on the interface.",
    IFACE
);
metric!(
    TX_ERRORS,
    "mikrotik_interface_tx_errors_total",
    Counter,
    "Transmit errors on the interface.",
    IFACE
);
metric!(
    RX_DROPS,
    "mikrotik_interface_rx_drops_total",
    Counter,
    "Received packets dropped on the interface.",
    IFACE
);
metric!(
    TX_DROPS,
    "mikrotik_interface_tx_drops_total",
    Counter,
    "Transmitted packets dropped on the interface.",
    IFACE
);
metric!(
    TX_QUEUE_DROPS,
    "mikrotik_interface_tx_queue_drops_total",
    Counter,
    "Packets dropped by the interface's transmit queue.",
    IFACE
);
metric!(
    LINK_DOWNS,
    "mikrotik_interface_link_downs_total",
    Counter,
    "Times the interface's link went down since boot.",
    IFACE
);

metric!(
    RUNNING,
    "mikrotik_interface_running",
    Gauge,
    "1 when the interface is running (link up), 0 otherwise.",
    IFACE
);
metric!(
    pub INFO,
    "mikrotik_interface_info",
    Gauge,
    "Interface metadata (value 1).",
    [
        "interface",
        "comment",
        "type",
        "mac_address",
        "disabled",
        "dynamic"
    ]
);
metric!(
    DYNAMIC,
    "mikrotik_interface_dynamic_interfaces",
    Gauge,
    "Dynamic interfaces (PPP server bindings and others the router made) by type, reported or not.",
    ["type"]
);
metric!(
    MTU,
    "mikrotik_interface_mtu",
    Gauge,
    "Configured MTU in bytes (absent when set to auto).",
    IFACE
);
metric!(
    ACTUAL_MTU,
    "mikrotik_interface_actual_mtu",
    Gauge,
    "MTU in effect, in bytes.",
    IFACE
);
metric!(
    LAST_LINK_UP,
    "mikrotik_interface_last_link_up_timestamp_seconds",
    Gauge,
    "When the link last came up, seconds since the Unix epoch (router local time read as UTC).",
    IFACE
);

/// The raw counters: `(RouterOS property, family)`.
static COUNTERS: [(&str, &MetricDesc); 10] = [
    ("rx-byte", &RX_BYTES),
    ("tx-byte", &TX_BYTES),
    ("rx-packet", &RX_PACKETS),
    ("tx-packet", &TX_PACKETS),
    ("rx-error", &RX_ERRORS),
    ("tx-error", &TX_ERRORS),
    ("rx-drop", &RX_DROPS),
    ("tx-drop", &TX_DROPS),
    ("tx-queue-drop", &TX_QUEUE_DROPS),
    ("link-downs", &LINK_DOWNS),
];

static METRICS: &[&MetricDesc] = &[
    &RX_BYTES,
    &TX_BYTES,
    &RX_PACKETS,
    &TX_PACKETS,
    &RX_ERRORS,
    &TX_ERRORS,
    &RX_DROPS,
    &TX_DROPS,
    &TX_QUEUE_DROPS,
    &LINK_DOWNS,
    &RUNNING,
    &INFO,
    &MTU,
    &ACTUAL_MTU,
    &LAST_LINK_UP,
    &DYNAMIC,
];

/// The position of `dynamic` in [`INFO`]'s labels.
const INFO_DYNAMIC: usize = 5;

/// The properties requested (only those used).
const PROPLIST: &[&str] = &[
    "name",
    "type",
    "comment",
    "running",
    "disabled",
    "dynamic",
    "mtu",
    "actual-mtu",
    "mac-address",
    "last-link-up-time",
    "rx-byte",
    "tx-byte",
    "rx-packet",
    "tx-packet",
    "rx-error",
    "tx-error",
    "rx-drop",
    "tx-drop",
    "tx-queue-drop",
    "link-downs",
];

impl Group for Interface {
    fn name(&self) -> &'static str {
        "interface"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let skip_dynamic = ctx.module.skips_dynamic_interfaces();
            let mut builder = Builder::new(&ctx.module.interface, skip_dynamic);
            let full = Command::new("/interface/print").proplist(PROPLIST);
            if !skip_dynamic {
                ctx.for_each_row(full, |row| builder.add(row)).await?;
                return Ok(builder.finish());
            }
            let configured = full.query("dynamic=true").query("#!");
            let dynamic = Command::new("/interface/print")
                .proplist(&["type"])
                .query("dynamic=true");
            let mut types = DynamicTypes::default();
            let (a, b) = tokio::join!(
                ctx.for_each_row(configured, |row| builder.add(row)),
                ctx.for_each_row(dynamic, |row| types.add(row)),
            );
            a?;
            b?;
            builder.dynamic.merge(types);
            Ok(builder.finish())
        })
    }
}

/// Names of the dynamic interfaces reported in `families` (their info's
/// `dynamic` label). Their counters restart with every session, so the state
/// tracker must not take a lower value for a counter reset of the router.
pub fn dynamic_interfaces(families: &[Family]) -> HashSet<&str> {
    samples_of(families, &INFO)
        .filter(|s| s.labels.get(INFO_DYNAMIC).is_some_and(|d| d == "true"))
        .filter_map(|s| s.labels.first().map(smol_str::SmolStr::as_str))
        .collect()
}

/// Dynamic interfaces counted by type.
#[derive(Debug, Default)]
struct DynamicTypes(BTreeMap<String, u64>);

impl DynamicTypes {
    fn add(&mut self, row: &Row) {
        let type_ = row.text("type").unwrap_or_default();
        *self.0.entry(type_.into_owned()).or_default() += 1;
    }

    fn merge(&mut self, other: DynamicTypes) {
        for (type_, n) in other.0 {
            *self.0.entry(type_).or_default() += n;
        }
    }
}

/// Turns `/interface/print` rows into families, one row at a time (pure,
/// unit-tested on fixtures).
struct Builder<'o> {
    options: &'o InterfaceOptions,
    /// Leave out dynamic interfaces (they are still counted).
    skip_dynamic: bool,
    dynamic: DynamicTypes,
    seen: HashSet<String>,
    counters: Vec<Family>,
    running: Family,
    info: Family,
    mtu: Family,
    actual_mtu: Family,
    last_link_up: Family,
}

impl<'o> Builder<'o> {
    fn new(options: &'o InterfaceOptions, skip_dynamic: bool) -> Self {
        Self {
            options,
            skip_dynamic,
            dynamic: DynamicTypes::default(),
            seen: HashSet::new(),
            counters: COUNTERS.iter().map(|(_, d)| Family::new(d)).collect(),
            running: Family::new(&RUNNING),
            info: Family::new(&INFO),
            mtu: Family::new(&MTU),
            actual_mtu: Family::new(&ACTUAL_MTU),
            last_link_up: Family::new(&LAST_LINK_UP),
        }
    }

    fn add(&mut self, row: &Row) {
        // Without the flag an interface is a configured one (RouterOS 7 leaves
        // it out on most rows).
        let dynamic = flag(row, "dynamic") == Some(true);
        if dynamic {
            self.dynamic.add(row);
            if self.skip_dynamic {
                return;
            }
        }
        let Some(name) = row.text("name").map(|n| n.into_owned()) else {
            tracing::debug!(?row, "interface row without a name");
            return;
        };
        let type_ = row.text("type").unwrap_or_default();
        let disabled = flag(row, "disabled");
        if !self
            .options
            .accepts(&name, &type_, disabled.unwrap_or(false))
        {
            return;
        }
        if !self.seen.insert(name.clone()) {
            tracing::debug!(interface = %name, "duplicate interface name, keeping the first");
            return;
        }
        let labels = || vec![name.clone()];

        for ((key, _), family) in COUNTERS.iter().zip(&mut self.counters) {
            if let Some(v) = number(row, key, parse::unsigned) {
                family.push(labels(), v);
            }
        }
        if let Some(running) = flag(row, "running") {
            self.running.push(labels(), running);
        }
        if let Some(mtu) = number(row, "mtu", parse::mtu) {
            self.mtu.push(labels(), mtu);
        }
        if let Some(mtu) = number(row, "actual-mtu", parse::unsigned) {
            self.actual_mtu.push(labels(), mtu);
        }
        if let Some(t) = number(row, "last-link-up-time", parse::datetime) {
            self.last_link_up.push(labels(), t);
        }
        let text = |key| row.text(key).map(|t| t.into_owned()).unwrap_or_default();
        let disabled = match disabled {
            Some(d) => d.to_string(),
            None => text("disabled"),
        };
        self.info.push(
            vec![
                name.clone(),
                text("comment"),
                type_.into_owned(),
                text("mac-address"),
                disabled,
                dynamic.to_string(),
            ],
            1u64,
        );
    }

    fn finish(self) -> Vec<Family> {
        let mut dynamic = Family::new(&DYNAMIC);
        for (type_, n) in self.dynamic.0 {
            dynamic.push(vec![type_], n);
        }
        let mut out = self.counters;
        out.extend([
            self.running,
            self.info,
            self.mtu,
            self.actual_mtu,
            self.last_link_up,
            dynamic,
        ]);
        out.retain(|f| !f.samples.is_empty());
        out
    }
}

/// A boolean property; `None` when absent or odd (logged).
fn flag(row: &Row, key: &str) -> Option<bool> {
    number(row, key, parse::boolean)
}

/// Parses `key` with `parse`. Absent and `auto` (MTU) values give `None`
/// silently; anything else unparseable is logged and gives `None`.
fn number<T>(row: &Row, key: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
    let raw = row.get(key)?;
    let text = std::str::from_utf8(raw).ok();
    let value = text.and_then(&parse);
    if value.is_none() && text.is_none_or(|t| !t.is_empty() && t != "auto") {
        tracing::debug!(key, raw = %String::from_utf8_lossy(raw), "unparseable interface value");
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::Value;
    use crate::collect::fixture::assert_no_duplicate_series;
    use crate::collect::fixture::rows;
    use crate::config::Glob;
    use routeros_sim::menus::testkit::Fixture;

    /// Every interface the options accept, dynamic ones included.
    fn build(rows: &[Row], options: &InterfaceOptions) -> Vec<Family> {
        build_with(rows, options, false)
    }

    fn build_with(rows: &[Row], options: &InterfaceOptions, skip_dynamic: bool) -> Vec<Family> {
        let mut b = Builder::new(options, skip_dynamic);
        rows.iter().for_each(|r| b.add(r));
        b.finish()
    }

    /// The dynamic interface counts by type.
    fn dynamic_counts(f: &[Family]) -> Vec<(String, u64)> {
        samples_of(f, &DYNAMIC)
            .map(|s| match s.value {
                Value::Int(n) => (s.labels[0].to_string(), n),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    fn sample<'f>(f: &'f [Family], name: &str, iface: &str) -> Option<&'f Value> {
        f.iter()
            .find(|f| f.desc.name == name)?
            .samples
            .iter()
            .find(|s| s.labels[0] == iface)
            .map(|s| &s.value)
    }

    fn names(f: &[Family]) -> Vec<String> {
        let mut v: Vec<String> = f
            .iter()
            .find(|f| f.desc.name == "mikrotik_interface_info")
            .map(|f| f.samples.iter().map(|s| s.labels[0].to_string()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// The simulator's `/interface` rows at `uptime` seconds after boot.
    fn sim_rows(f: &Fixture, uptime: u64) -> Vec<Row> {
        let menu = routeros_sim::menus::registry()
            .into_iter()
            .find(|m| m.path() == "/interface")
            .expect("interface menu");
        menu.rows(&f.view(0, uptime))
            .into_iter()
            .map(Row::from_pairs)
            .collect()
    }

    const V6: &str = "
        name=ether1  type=ether  mtu=1500  actual-mtu=1500  mac-address=E4:8D:8C:3F:92:A0  comment=Config restored 2017-07-25 23:30  last-link-up-time=dec/18/2018 03:57:48  link-downs=0  rx-byte=14603085579  tx-byte=11018034038  rx-packet=132936525  tx-packet=170628564  rx-drop=0  tx-drop=0  tx-queue-drop=0  rx-error=0  tx-error=0  running=true  disabled=false
        name=<pppoe-AldeaGolf_421>  type=pppoe-in  mtu=1480  actual-mtu=1480  last-link-up-time=jan/03/2019 16:48:28  link-downs=0  rx-byte=3689  tx-byte=1207999420435  running=true  disabled=false  dynamic=true
        name=vpls19-Traiguera  type=vpls  mtu=1500  actual-mtu=1500  link-downs=21  rx-byte=226907987113  tx-byte=18446744073709551615  running=false  disabled=true
    ";

    const V7: &str = "
        name=lo  type=loopback  mtu=65536  actual-mtu=65536  mac-address=00:00:00:00:00:00  rx-byte=1024  tx-byte=1024  running=true  disabled=false
        name=ether1  type=ether  mtu=1500  actual-mtu=1500  mac-address=0C:00:0F:87:79:00  last-link-up-time=2026-02-25 04:29:31  link-downs=0  rx-byte=206490  tx-byte=3977976  rx-packet=2183  tx-packet=14628  rx-drop=0  tx-drop=0  tx-queue-drop=0  rx-error=0  tx-error=0  running=true  disabled=false
        name=bridge1  type=bridge  mtu=auto  actual-mtu=1500  rx-byte=12  tx-byte=huge  running=yes  disabled=false
    ";

    #[test]
    fn v6_reply_keeps_64_bit_counters_exact() {
        let f = build(&rows(V6), &InterfaceOptions::default());
        let tx = "mikrotik_interface_tx_bytes_total";
        assert_eq!(
            sample(&f, tx, "<pppoe-AldeaGolf_421>"),
            Some(&Value::Int(1_207_999_420_435))
        );
        assert_eq!(
            sample(&f, tx, "vpls19-Traiguera"),
            Some(&Value::Int(u64::MAX))
        );
        assert_eq!(
            sample(
                &f,
                "mikrotik_interface_link_downs_total",
                "vpls19-Traiguera"
            ),
            Some(&Value::Int(21))
        );
        assert_eq!(
            sample(
                &f,
                "mikrotik_interface_last_link_up_timestamp_seconds",
                "ether1"
            ),
            Some(&Value::Signed(1_545_105_468))
        );
        assert_eq!(
            sample(
                &f,
                "mikrotik_interface_last_link_up_timestamp_seconds",
                "vpls19-Traiguera"
            ),
            None
        );
        assert_eq!(
            sample(&f, "mikrotik_interface_running", "vpls19-Traiguera"),
            Some(&Value::Int(0))
        );
        // Counters absent on a row cost only those samples.
        assert_eq!(
            sample(
                &f,
                "mikrotik_interface_rx_packets_total",
                "<pppoe-AldeaGolf_421>"
            ),
            None
        );
        let info = f.iter().find(|f| f.desc == &INFO).unwrap();
        assert_eq!(
            info.samples[0].labels,
            vec![
                "ether1",
                "Config restored 2017-07-25 23:30",
                "ether",
                "E4:8D:8C:3F:92:A0",
                "false",
                "false"
            ]
        );
        assert_eq!(info.samples[1].labels[3], "");
        assert_eq!(info.samples[1].labels[5], "true");
        assert_eq!(info.samples[2].labels[4], "true");
        assert_eq!(dynamic_counts(&f), [("pppoe-in".to_string(), 1)]);
    }

    #[test]
    fn v7_reply_with_auto_mtu_and_odd_values() {
        let f = build(&rows(V7), &InterfaceOptions::default());
        // `auto` costs only the mtu sample.
        assert_eq!(sample(&f, "mikrotik_interface_mtu", "bridge1"), None);
        assert_eq!(
            sample(&f, "mikrotik_interface_actual_mtu", "bridge1"),
            Some(&Value::Int(1500))
        );
        assert_eq!(
            sample(&f, "mikrotik_interface_mtu", "lo"),
            Some(&Value::Int(65_536))
        );
        // An unparseable counter costs that one sample.
        assert_eq!(
            sample(&f, "mikrotik_interface_tx_bytes_total", "bridge1"),
            None
        );
        assert_eq!(
            sample(&f, "mikrotik_interface_rx_bytes_total", "bridge1"),
            Some(&Value::Int(12))
        );
        assert_eq!(
            sample(&f, "mikrotik_interface_running", "bridge1"),
            Some(&Value::Int(1))
        );
        assert_eq!(
            sample(
                &f,
                "mikrotik_interface_last_link_up_timestamp_seconds",
                "ether1"
            ),
            Some(&Value::Signed(1_771_993_771))
        );
        assert_eq!(names(&f), vec!["bridge1", "ether1", "lo"]);
    }

    #[test]
    fn simulator_rows_on_both_versions() {
        for (fixture, v7) in [(Fixture::v6(), false), (Fixture::v7(), true)] {
            // Long after boot: the uplink's byte counters are far beyond 2^32.
            let raw = sim_rows(&fixture, 100_000);
            let f = build(&raw, &InterfaceOptions::default());
            for row in &raw {
                let name = row.text("name").unwrap().into_owned();
                for (key, desc) in &COUNTERS {
                    let expected = row.str(key).and_then(parse::unsigned).map(Value::Int);
                    assert_eq!(
                        sample(&f, desc.name, &name).copied(),
                        expected,
                        "{name} {key}"
                    );
                }
            }
            let uplink = sample(&f, "mikrotik_interface_rx_bytes_total", "ether1");
            assert!(matches!(uplink, Some(Value::Int(v)) if *v > u64::from(u32::MAX)));
            assert!(names(&f).contains(&"<pppoe-sub-00001>".to_string()));
            assert_eq!(
                sample(&f, "mikrotik_interface_mtu", "bridge1").is_none(),
                v7,
                "bridge1 mtu is auto on v7 only"
            );
            assert!(sample(&f, "mikrotik_interface_actual_mtu", "bridge1").is_some());
            let info = f.iter().find(|f| f.desc == &INFO).unwrap();
            let ether2 = info
                .samples
                .iter()
                .find(|s| s.labels[0] == "ether2")
                .unwrap();
            // CP1251 bytes survive as Latin-1 characters.
            assert_eq!(
                ether2.labels[1],
                "\u{e0}\u{ef}\u{e0}\u{f0}\u{f2}\u{e0}\u{ec}\u{e5}\u{ed}\u{f2} 12"
            );
            assert_no_duplicate_series(&f);
        }
    }

    #[test]
    fn filters_by_name_type_and_disabled() {
        let raw = sim_rows(&Fixture::v7(), 3_600);
        let all = names(&build(&raw, &InterfaceOptions::default()));
        assert!(all.contains(&"ether8".to_string()), "{all:?}");

        let globs = |p: &[&str]| p.iter().map(|p| Glob::new(p)).collect::<Vec<_>>();
        let only_ether = InterfaceOptions {
            include: globs(&["ether*"]),
            exclude: globs(&["ether1"]),
            ..InterfaceOptions::default()
        };
        let f = names(&build(&raw, &only_ether));
        assert_eq!(f.len(), 7, "{f:?}");
        assert!(f.iter().all(|n| n.starts_with("ether") && n != "ether1"));

        let no_dynamic_ppp = InterfaceOptions {
            exclude_types: globs(&["pppoe-*", "loopback"]),
            ..InterfaceOptions::default()
        };
        let f = names(&build(&raw, &no_dynamic_ppp));
        assert!(
            !f.iter().any(|n| n == "<pppoe-sub-00001>" || n == "lo"),
            "{f:?}"
        );
        assert_eq!(f.len(), all.len() - 2);

        let types = InterfaceOptions {
            include_types: globs(&["wg", "vlan"]),
            ..InterfaceOptions::default()
        };
        assert_eq!(names(&build(&raw, &types)), vec!["vlan100", "wireguard1"]);

        // The last ethernet port is disabled in the simulator.
        let skip = InterfaceOptions {
            skip_disabled: true,
            ..InterfaceOptions::default()
        };
        let f = build(&raw, &skip);
        assert_eq!(names(&f).len(), all.len() - 1);
        assert!(!names(&f).contains(&"ether8".to_string()));
        assert!(sample(&f, "mikrotik_interface_rx_bytes_total", "ether8").is_none());
    }

    #[test]
    fn rows_without_name_and_duplicates_are_skipped() {
        let f = build(
            &rows("type=ether  rx-byte=1\nname=a  rx-byte=2\nname=a  rx-byte=3"),
            &InterfaceOptions::default(),
        );
        assert_eq!(names(&f), vec!["a"]);
        assert_eq!(
            sample(&f, "mikrotik_interface_rx_bytes_total", "a"),
            Some(&Value::Int(2))
        );
        // Info still carries an empty comment/mac and the raw disabled flag.
        let info = f.iter().find(|f| f.desc == &INFO).unwrap();
        assert_eq!(info.samples[0].labels, vec!["a", "", "", "", "", "false"]);
    }

    #[test]
    fn dynamic_interfaces_are_counted_and_left_out_when_skipped() {
        let mut fixture = Fixture::v7();
        fixture.scale.ppp_sessions = 30;
        let raw = sim_rows(&fixture, 3_600);
        let all = build_with(&raw, &InterfaceOptions::default(), false);
        let skipped = build_with(&raw, &InterfaceOptions::default(), true);
        let want = vec![
            ("l2tp-in".to_string(), 2),
            ("ovpn-in".to_string(), 2),
            ("pppoe-in".to_string(), 22),
            ("pptp-in".to_string(), 2),
            ("sstp-in".to_string(), 2),
        ];
        // Counted either way, whatever else the options filter.
        assert_eq!(dynamic_counts(&all), want);
        assert_eq!(dynamic_counts(&skipped), want);
        let only_ether = InterfaceOptions {
            include_types: vec![Glob::new("ether")],
            ..InterfaceOptions::default()
        };
        assert_eq!(dynamic_counts(&build_with(&raw, &only_ether, false)), want);
        assert_eq!(names(&all).len(), names(&skipped).len() + 30);
        assert!(names(&skipped).iter().all(|n| !n.starts_with('<')));
        let series = |f: &[Family]| f.iter().map(|f| f.samples.len()).sum::<usize>();
        // 14 series per subscriber (no MAC, so no `mac_address`, but info).
        assert!(
            series(&all) >= series(&skipped) + 30 * 12,
            "{} {}",
            series(&all),
            series(&skipped)
        );
        // What the state tracker must not read as counter resets.
        let dynamic = dynamic_interfaces(&all);
        assert_eq!(dynamic.len(), 30);
        assert!(dynamic.contains("<pppoe-sub-00001>") && !dynamic.contains("ether1"));
        assert!(dynamic_interfaces(&skipped).is_empty());
    }

    #[test]
    fn rows_of_the_dynamic_print_count_by_type_and_merge() {
        // With dynamic interfaces left out, the router sends their type alone.
        let mut types = DynamicTypes::default();
        for row in rows("type=pppoe-in\ntype=pppoe-in\ntype=l2tp-in\nx=y") {
            types.add(&row);
        }
        let options = InterfaceOptions::default();
        let mut b = Builder::new(&options, true);
        // A dynamic row the router sent in the configured print all the same.
        b.add(&rows("name=<sstp-a>  type=sstp-in  dynamic=true  rx-byte=1")[0]);
        b.add(&rows("name=ether1  type=ether  rx-byte=1")[0]);
        b.dynamic.merge(types);
        let f = b.finish();
        assert_eq!(names(&f), ["ether1"]);
        assert_eq!(
            dynamic_counts(&f),
            [
                (String::new(), 1),
                ("l2tp-in".to_string(), 1),
                ("pppoe-in".to_string(), 2),
                ("sstp-in".to_string(), 1)
            ]
        );
    }
}
