//! The `interface` group against the simulator (RouterOS 6 and 7): counters
//! match a raw `/interface/print` on the same session, `auto` MTU costs only
//! the MTU sample, the module's filters apply, dynamic PPPoE interfaces appear.

#[allow(dead_code)]
mod support;

use routeros::{Command, Row};
use routeros_exporter::collect::family::{Family, Value};
use routeros_exporter::collect::{GroupError, Trace};
use routeros_exporter::config::{Glob, InterfaceOptions};
use routeros_sim::RouterConfig;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe};
use tokio::time::Instant;

const COUNTERS: [(&str, &str); 10] = [
    ("rx-byte", "mikrotik_interface_rx_bytes_total"),
    ("tx-byte", "mikrotik_interface_tx_bytes_total"),
    ("rx-packet", "mikrotik_interface_rx_packets_total"),
    ("tx-packet", "mikrotik_interface_tx_packets_total"),
    ("rx-error", "mikrotik_interface_rx_errors_total"),
    ("tx-error", "mikrotik_interface_tx_errors_total"),
    ("rx-drop", "mikrotik_interface_rx_drops_total"),
    ("tx-drop", "mikrotik_interface_tx_drops_total"),
    ("tx-queue-drop", "mikrotik_interface_tx_queue_drops_total"),
    ("link-downs", "mikrotik_interface_link_downs_total"),
];

async fn probe(router: RouterConfig) -> Probe {
    Probe::start(router, deadline()).await
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

// Interface-specific helpers on the shared probe.
impl Probe {
    async fn collect(&self, options: InterfaceOptions) -> Result<Vec<Family>, GroupError> {
        let mut module = group::module("interface");
        module.interface = options;
        let ctx = self.context(module, deadline(), Arc::new(Trace::new(true)), 0);
        group::collect("interface", &ctx).await
    }

    /// A raw print of the counters, by interface name.
    async fn raw(&self) -> BTreeMap<String, Row> {
        let mut props = vec!["name"];
        props.extend(COUNTERS.iter().map(|(k, _)| *k));
        let rows = self
            .session
            .rows(
                &Command::new("/interface/print").proplist(&props),
                deadline(),
            )
            .await
            .expect("raw print");
        rows.into_iter()
            .map(|r| (r.text("name").unwrap_or_default().into_owned(), r))
            .collect()
    }
}

fn value(families: &[Family], metric: &str, iface: &str) -> Option<Value> {
    families
        .iter()
        .find(|f| f.desc.name == metric)?
        .samples
        .iter()
        .find(|s| s.labels[0] == iface)
        .map(|s| s.value)
}

fn names(families: &[Family]) -> Vec<String> {
    families
        .iter()
        .find(|f| f.desc.name == "mikrotik_interface_info")
        .map(|f| f.samples.iter().map(|s| s.labels[0].clone()).collect())
        .unwrap_or_default()
}

fn raw_counter(row: &Row, key: &str) -> u64 {
    row.str(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("raw {key} in {row:?}"))
}

async fn counters_match_raw_print(router: RouterConfig) {
    let p = probe(router).await;
    // The simulator's counters advance continuously: bracket the collection
    // between two raw prints. Counters that did not move must match exactly.
    let before = p.raw().await;
    let families = p
        .collect(InterfaceOptions::default())
        .await
        .expect("collect");
    let after = p.raw().await;
    assert_eq!(names(&families).len(), before.len());
    for (name, row) in &before {
        for (key, metric) in COUNTERS {
            let (lo, hi) = (raw_counter(row, key), raw_counter(&after[name], key));
            let Some(Value::Int(v)) = value(&families, metric, name) else {
                panic!("{metric} of {name} missing or not an exact integer");
            };
            assert!(
                lo <= v && v <= hi,
                "{metric}{{{name}}}: {lo} <= {v} <= {hi}"
            );
        }
    }
    group::assert_no_duplicate_series(&families);
    assert!(names(&families).iter().any(|n| n == "<pppoe-user1>"));
}

#[tokio::test]
async fn v7_counters_match_raw_print() {
    counters_match_raw_print(RouterConfig::v7("r7")).await;
}

#[tokio::test]
async fn v6_counters_match_raw_print() {
    counters_match_raw_print(RouterConfig::v6("r6")).await;
}

#[tokio::test]
async fn auto_mtu_costs_only_the_mtu_sample() {
    let v7 = probe(RouterConfig::v7("r7")).await;
    let f = v7.collect(InterfaceOptions::default()).await.unwrap();
    assert_eq!(value(&f, "mikrotik_interface_mtu", "bridge1"), None);
    assert_eq!(
        value(&f, "mikrotik_interface_actual_mtu", "bridge1"),
        Some(Value::Int(1500))
    );
    assert!(value(&f, "mikrotik_interface_rx_bytes_total", "bridge1").is_some());
    assert!(value(&f, "mikrotik_interface_running", "bridge1").is_some());
    assert_eq!(
        value(&f, "mikrotik_interface_mtu", "ether1"),
        Some(Value::Int(1500))
    );

    let v6 = probe(RouterConfig::v6("r6")).await;
    let f = v6.collect(InterfaceOptions::default()).await.unwrap();
    assert_eq!(
        value(&f, "mikrotik_interface_mtu", "bridge1"),
        Some(Value::Int(1500))
    );
}

#[tokio::test]
async fn module_filters_apply() {
    let p = probe(RouterConfig::v7("r7")).await;
    let globs = |p: &[&str]| p.iter().map(|p| Glob::new(p)).collect::<Vec<_>>();
    let all = names(&p.collect(InterfaceOptions::default()).await.unwrap());

    let include = InterfaceOptions {
        include: globs(&["ether*", "<pppoe-*"]),
        exclude: globs(&["ether2"]),
        ..InterfaceOptions::default()
    };
    let f = names(&p.collect(include).await.unwrap());
    assert!(f.iter().any(|n| n == "<pppoe-user1>"), "{f:?}");
    assert!(
        f.iter()
            .all(|n| n != "ether2" && (n.starts_with("ether") || n.starts_with("<pppoe-")))
    );

    let types = InterfaceOptions {
        exclude_types: globs(&["pppoe-in"]),
        skip_disabled: true,
        ..InterfaceOptions::default()
    };
    let f = names(&p.collect(types).await.unwrap());
    assert_eq!(f.len(), all.len() - 2, "{f:?}");
    assert!(!f.iter().any(|n| n == "<pppoe-user1>" || n == "ether8"));
}
