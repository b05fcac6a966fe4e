//! The `interface` group against the simulator (RouterOS 6 and 7): counters
//! match a raw `/interface/print` on the same session, `auto` MTU costs only
//! the MTU sample, the module's filters apply; dynamic PPP interfaces are
//! counted by type always and reported only when the module asks (a PPPoE
//! concentrator's subscribers cost the router a few bytes each otherwise), and
//! their reconnects are not the router's counter resets.

#[allow(dead_code)]
mod support;

use routeros::{Command, Row};
use routeros_exporter::collect::family::{Family, Value};
use routeros_exporter::collect::{GroupError, Trace};
use routeros_exporter::config::{ClientSeries, Glob, InterfaceOptions, Module};
use routeros_exporter::http::App;
use routeros_exporter::probe::ProberOptions;
use routeros_sim::menus::Board;
use routeros_sim::{RouterConfig, SimConfig, Simulator};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::exposition::Exposition;
use support::group::{self, Probe};
use support::harness;
use support::http::Client;
use support::menus;
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
        self.collect_module(module).await
    }

    async fn collect_module(&self, module: Module) -> Result<Vec<Family>, GroupError> {
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
        .map(|f| f.samples.iter().map(|s| s.labels[0].to_string()).collect())
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
    let families = p.collect(EVERY).await.expect("collect");
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
    assert!(names(&families).iter().any(|n| n == "<pppoe-sub-00001>"));
}

/// Every interface, dynamic ones included.
const EVERY: InterfaceOptions = InterfaceOptions {
    include: Vec::new(),
    exclude: Vec::new(),
    include_types: Vec::new(),
    exclude_types: Vec::new(),
    skip_disabled: false,
    skip_dynamic: Some(false),
};

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
    let all = names(&p.collect(EVERY).await.unwrap());

    let include = InterfaceOptions {
        include: globs(&["ether*", "<pppoe-*"]),
        exclude: globs(&["ether2"]),
        ..EVERY
    };
    let f = names(&p.collect(include).await.unwrap());
    assert!(f.iter().any(|n| n == "<pppoe-sub-00001>"), "{f:?}");
    assert!(
        f.iter()
            .all(|n| n != "ether2" && (n.starts_with("ether") || n.starts_with("<pppoe-")))
    );

    let types = InterfaceOptions {
        exclude_types: globs(&["pppoe-in"]),
        skip_disabled: true,
        ..EVERY
    };
    let f = names(&p.collect(types).await.unwrap());
    assert_eq!(f.len(), all.len() - 2, "{f:?}");
    assert!(!f.iter().any(|n| n == "<pppoe-sub-00001>" || n == "ether8"));
}

/// The dynamic interface counts by type.
fn dynamic_counts(families: &[Family]) -> BTreeMap<String, u64> {
    families
        .iter()
        .filter(|f| f.desc.name == "mikrotik_interface_dynamic_interfaces")
        .flat_map(|f| &f.samples)
        .map(|s| match s.value {
            Value::Int(n) => (s.labels[0].to_string(), n),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// What collecting with `module` cost the router: `/interface/print`
/// commands and bytes sent.
async fn cost(p: &Probe, module: Module) -> (Vec<Family>, u64, u64) {
    let router = &p.sim.routers()[0];
    let before = router.stats();
    let families = p.collect_module(module).await.expect("collect");
    let after = router.stats();
    let prints = |s: &routeros_sim::Stats| s.commands.get("/interface/print").copied().unwrap_or(0);
    (
        families,
        prints(&after) - prints(&before),
        after.bytes_sent - before.bytes_sent,
    )
}

#[tokio::test]
async fn a_concentrator_counts_its_subscribers_instead_of_reporting_each() {
    let mut router = RouterConfig::v7("pppoe");
    router.scale = Board::PppoeConcentrator.scale();
    let p = probe(router).await;
    let sessions = p
        .session
        .rows(
            &Command::new("/ppp/active/print").proplist(&["service"]),
            deadline(),
        )
        .await
        .expect("ppp sessions");
    let mut by_type = BTreeMap::new();
    for s in sessions.iter().filter_map(|r| r.str("service")) {
        if s != "async" {
            *by_type.entry(format!("{s}-in")).or_insert(0u64) += 1;
        }
    }
    assert_eq!(by_type.values().sum::<u64>(), 1_999);

    // Default: no subscriber's series, their count by type; two prints, the
    // second of the subscribers' type alone.
    let (families, prints, skipped_bytes) = cost(&p, group::module("interface")).await;
    assert_eq!(prints, 2);
    assert!(
        names(&families).iter().all(|n| !n.starts_with('<')),
        "{:?}",
        names(&families)
    );
    assert_eq!(
        names(&families).len(),
        4 + 2 + 3 + 1,
        "ports, cages, bridge, vlan, wg, lo"
    );
    assert_eq!(dynamic_counts(&families), by_type);
    let series: usize = families.iter().map(|f| f.samples.len()).sum();
    assert!(series < 200, "{series} series");

    // `clients: per_client` reports each subscriber: one print.
    let mut per_client = group::module("interface");
    per_client.clients = ClientSeries::PerClient;
    let (families, prints, all_bytes) = cost(&p, per_client).await;
    assert_eq!(prints, 1);
    let subscribers = names(&families)
        .iter()
        .filter(|n| n.starts_with('<'))
        .count();
    assert_eq!(subscribers, 1_999);
    assert_eq!(dynamic_counts(&families), by_type);
    group::assert_no_duplicate_series(&families);
    // What leaving them out saves on the wire (and the router's formatting).
    assert!(
        skipped_bytes * 5 < all_bytes,
        "{skipped_bytes} vs {all_bytes} bytes"
    );

    // An explicit `skip_dynamic` wins over `clients`.
    let mut forced = group::module("interface");
    forced.clients = ClientSeries::PerClient;
    forced.interface.skip_dynamic = Some(true);
    let (families, prints, _) = cost(&p, forced).await;
    assert_eq!((prints, names(&families).len()), (2, 10));
}

#[tokio::test]
async fn v6_leaves_out_dynamic_interfaces_too() {
    let p = probe(RouterConfig::v6("r6")).await;
    let f = p
        .collect(InterfaceOptions::default())
        .await
        .expect("collect");
    let all = p.raw().await;
    assert_eq!(names(&f).len(), all.len() - 3);
    assert!(!names(&f).iter().any(|n| n.starts_with('<')));
    let want = BTreeMap::from([
        ("l2tp-in".to_string(), 1),
        ("pppoe-in".to_string(), 1),
        ("sstp-in".to_string(), 1),
    ]);
    assert_eq!(dynamic_counts(&f), want);
}

/// Probes `module` of target `r` and returns the exposition.
async fn probe_r(http: &Client, module: &str) -> Exposition {
    harness::probe_exposition(http, &format!("target=r&module={module}")).await
}

/// A subscriber reconnecting starts its interface's counters from zero: with
/// dynamic interfaces reported, that is no counter reset of the router (a
/// PPPoE concentrator would otherwise record one on nearly every probe). A
/// configured interface's counter going back still is one.
#[tokio::test]
async fn subscriber_reconnects_are_not_counter_resets() {
    let (menus, shift) = menus::with_shifted("/interface");
    let router = harness::router_config(RouterConfig::v7("r"));
    let sim = Simulator::start_with_menus(
        SimConfig {
            routers: vec![router],
        },
        menus,
    )
    .await
    .expect("simulator starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("exporter.yml");
    let config = format!(
        "auths:\n  main:\n    username: admin\n    password: \"{}\"\ntargets:\n  r:\n    address: \"{}\"\n    auth: main\nmodules:\n  subscribers:\n    groups: [system, interface]\n    clients: per_client\n",
        harness::PASSWORD,
        sim.routers()[0].addr()
    );
    std::fs::write(&path, config).expect("write config");
    let app = App::new(harness::load(&path), ProberOptions::default());
    let http = Client::new(harness::serve(app).await, harness::PASSWORD);

    let rx = "mikrotik_interface_rx_bytes_total";
    let resets = |e: &Exposition, reason: &str| {
        e.must("mikrotik_target_resets_total", &[("reason", reason)])
    };
    let sub = [("interface", "<pppoe-sub-00001>")];
    let mut last = probe_r(&http, "subscribers").await;
    // Move the interfaces' clock an hour per probe until the subscriber has
    // reconnected (each does about once a day).
    let mut reconnected = false;
    for hour in 1..=30 {
        shift.store(hour * 3_600, Ordering::SeqCst);
        let e = probe_r(&http, "subscribers").await;
        assert!(e.must(rx, &[("interface", "ether1")]) > last.must(rx, &[("interface", "ether1")]));
        reconnected = e.must(rx, &sub) < last.must(rx, &sub);
        last = e;
        if reconnected {
            break;
        }
    }
    assert!(reconnected, "the subscriber never reconnected");
    assert_eq!(resets(&last, "counter_reset"), 0.0);
    assert_eq!(resets(&last, "reboot"), 0.0);

    // A configured interface's counter going back is still a counter reset.
    shift.store(0, Ordering::SeqCst);
    let e = probe_r(&http, "subscribers").await;
    assert_eq!(resets(&e, "counter_reset"), 1.0);
}
