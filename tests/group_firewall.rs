//! The `firewall` group against the simulator (RouterOS 6 and 7): all eight
//! tables where they exist (`/ipv6/firewall/nat` is skipped on RouterOS 6),
//! counters match a raw print on the same session, identical rules and the
//! dynamic fasttrack dummy rule stay distinct series; a rule inserted at the
//! top changes no other rule's series (positions are values); dynamic rules
//! are left out with `firewall.skip_dynamic`.

#[allow(dead_code)]
mod support;

use routeros::Command;
use routeros_exporter::collect::family::{Family, Sample, Value};
use routeros_exporter::collect::{GroupError, Trace};
use routeros_exporter::config::{FirewallOptions, Module};
use routeros_sim::menus::{Menu, RouterView, SimRow, registry};
use routeros_sim::{RouterConfig, SimConfig, Simulator};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use support::group::{self, Probe};
use tokio::time::Instant;

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

async fn probe(router: RouterConfig) -> Probe {
    Probe::start(router, deadline()).await
}

// Firewall-specific helpers on the shared probe.
impl Probe {
    async fn collect(&self, trace: Arc<Trace>) -> Result<Vec<Family>, GroupError> {
        self.collect_module(group::module("firewall"), trace).await
    }

    async fn collect_module(
        &self,
        module: Module,
        trace: Arc<Trace>,
    ) -> Result<Vec<Family>, GroupError> {
        let ctx = self.context(module, deadline(), trace, 0);
        group::collect("firewall", &ctx).await
    }

    /// `.id` → bytes of a raw print of `path`.
    async fn raw_bytes(&self, path: &str) -> BTreeMap<String, u64> {
        let rows = self
            .session
            .rows(
                &Command::new(&format!("{path}/print")).proplist(&[".id", "bytes"]),
                deadline(),
            )
            .await
            .expect("raw print");
        rows.iter()
            .map(|r| {
                let id = r.str(".id").expect(".id").to_string();
                let bytes = r.str("bytes").and_then(|b| b.parse().ok()).expect("bytes");
                (id, bytes)
            })
            .collect()
    }
}

fn family<'f>(f: &'f [Family], name: &str) -> &'f Family {
    f.iter()
        .find(|f| f.desc.name == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

fn samples<'f>(f: &'f [Family], name: &str, fam: &str, table: &str) -> Vec<&'f Sample> {
    family(f, name)
        .samples
        .iter()
        .filter(|s| s.labels[0] == fam && s.labels[1] == table)
        .collect()
}

async fn check(router: RouterConfig, with_ipv6_nat: bool) {
    let p = probe(router).await;
    let trace = Arc::new(Trace::new(true));
    let before = p.raw_bytes("/ip/firewall/filter").await;
    let f = p.collect(trace.clone()).await.expect("collect");
    let after = p.raw_bytes("/ip/firewall/filter").await;

    // Counters as the router reports them (bracketed: they advance with time).
    let bytes = samples(&f, "mikrotik_firewall_rule_bytes_total", "ipv4", "filter");
    assert_eq!(bytes.len(), before.len());
    for s in &bytes {
        let id = s.labels[3].as_str();
        let Value::Int(v) = s.value else {
            panic!("{id}: not an exact integer");
        };
        assert!(before[id] <= v && v <= after[id], "{id}: {v}");
    }

    // Every table the router has, and only those.
    for fam in ["ipv4", "ipv6"] {
        for table in ["filter", "nat", "mangle", "raw"] {
            let present = !samples(&f, "mikrotik_firewall_rule_info", fam, table).is_empty();
            let expected = with_ipv6_nat || (fam, table) != ("ipv6", "nat");
            assert_eq!(present, expected, "{fam} {table}");
        }
    }
    let skipped = trace
        .lines()
        .iter()
        .filter(|l| l.contains("skipped"))
        .count();
    assert_eq!(skipped, usize::from(!with_ipv6_nat), "{:?}", trace.lines());

    // Identical rules and the fasttrack dummy rule are distinct series.
    let info = samples(&f, "mikrotik_firewall_rule_info", "ipv4", "filter");
    let drop_invalid: Vec<_> = info
        .iter()
        .filter(|s| s.labels[4] == "drop" && s.labels[5] == "drop invalid")
        .collect();
    assert_eq!(drop_invalid.len(), 2);
    let dummy = info
        .iter()
        .find(|s| s.labels[7] == "true")
        .expect("dynamic fasttrack dummy rule");
    assert_eq!(dummy.labels[4], "passthrough");
    let positions = samples(&f, "mikrotik_firewall_rule_position", "ipv4", "filter");
    let position = |id: &str| {
        positions
            .iter()
            .find(|s| s.labels[3] == id)
            .map(|s| s.value)
    };
    assert_eq!(position(&dummy.labels[3]), Some(Value::Int(0)));
    assert_eq!(position("*1"), Some(Value::Int(1)));
    assert_eq!(positions.len(), before.len());
    let disabled = info
        .iter()
        .find(|s| s.labels[6] == "true")
        .expect("disabled rule");
    assert!(bytes.iter().any(|b| b.labels[3] == disabled.labels[3]));

    group::assert_no_duplicate_series(&f);
}

#[tokio::test]
async fn v7_all_eight_tables() {
    check(RouterConfig::v7("r7"), true).await;
}

#[tokio::test]
async fn v6_skips_missing_ipv6_nat() {
    check(RouterConfig::v6("r6"), false).await;
}

/// Every series of `f` as (metric, labels).
fn series(f: &[Family]) -> BTreeSet<(String, Vec<String>)> {
    f.iter()
        .flat_map(|f| {
            f.samples
                .iter()
                .map(|s| (f.desc.name.to_string(), s.label_strings()))
        })
        .collect()
}

#[tokio::test]
async fn skip_dynamic_leaves_out_the_dummy_rule_and_nothing_else() {
    for router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        let p = probe(router).await;
        let trace = Arc::new(Trace::new(false));
        let all = series(&p.collect(trace.clone()).await.expect("collect"));
        let mut module = group::module("firewall");
        module.firewall = FirewallOptions { skip_dynamic: true };
        let f = p.collect_module(module, trace).await.expect("collect");
        let skipped = series(&f);
        let gone: Vec<_> = all.difference(&skipped).collect();
        // bytes, packets, position and info of the one dynamic rule.
        assert_eq!(gone.len(), 4, "{gone:?}");
        assert!(
            gone.iter()
                .all(|(_, l)| l[1] == "filter" && l[3] == "*FFFFFFFF")
        );
        assert!(skipped.is_subset(&all));
        // The others keep the positions the router gives them.
        let positions = samples(&f, "mikrotik_firewall_rule_position", "ipv4", "filter");
        assert_eq!(positions[0].labels[3], "*1");
        assert_eq!(positions[0].value, Value::Int(1));
    }
}

/// The IPv4 filter table with a rule inserted at the top once `on` is set.
struct Inserted {
    inner: Arc<dyn Menu>,
    on: Arc<AtomicBool>,
}

impl Menu for Inserted {
    fn path(&self) -> &'static str {
        self.inner.path()
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let mut rows = self.inner.rows(view);
        if self.on.load(Ordering::SeqCst) {
            let new: SimRow = [
                (".id", "*64"),
                ("chain", "input"),
                ("action", "drop"),
                ("comment", "inserted on top"),
                ("bytes", "0"),
                ("packets", "0"),
                ("dynamic", "false"),
                ("disabled", "false"),
                ("log", "false"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect();
            rows.insert(0, new);
        }
        rows
    }
}

#[tokio::test]
async fn a_rule_inserted_at_the_top_changes_no_other_series() {
    let on = Arc::new(AtomicBool::new(false));
    let mut menus = registry();
    let filter = menus
        .iter()
        .find(|m| m.path() == "/ip/firewall/filter")
        .cloned()
        .expect("filter menu");
    menus.push(Arc::new(Inserted {
        inner: filter,
        on: on.clone(),
    }));
    let sim = Simulator::start_with_menus(
        SimConfig {
            routers: vec![RouterConfig::v7("r7")],
        },
        menus,
    )
    .await
    .expect("simulator starts");
    let p = Probe::connect(sim, deadline()).await;
    let trace = Arc::new(Trace::new(false));
    let before = p.collect(trace.clone()).await.expect("collect");
    on.store(true, Ordering::SeqCst);
    let after = p.collect(trace).await.expect("collect");
    let (old, new) = (series(&before), series(&after));
    assert!(
        old.is_subset(&new),
        "{:?}",
        old.difference(&new).collect::<Vec<_>>()
    );
    let added: Vec<_> = new.difference(&old).collect();
    assert_eq!(added.len(), 4, "{added:?}");
    assert!(added.iter().all(|(_, l)| l[3] == "*64"));
    // Every rule of the table moved down by one: a value.
    let position = |f: &[Family], id: &str| {
        samples(f, "mikrotik_firewall_rule_position", "ipv4", "filter")
            .into_iter()
            .find(|s| s.labels[3] == id)
            .map(|s| s.value)
    };
    assert_eq!(position(&before, "*3"), Some(Value::Int(3)));
    assert_eq!(position(&after, "*3"), Some(Value::Int(4)));
    assert_eq!(position(&after, "*64"), Some(Value::Int(0)));
}
