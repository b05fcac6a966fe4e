//! The `firewall` group against the simulator (RouterOS 6 and 7): all eight
//! tables where they exist (`/ipv6/firewall/nat` is skipped on RouterOS 6),
//! counters match a raw print on the same session, identical rules and the
//! dynamic fasttrack dummy rule stay distinct series.

#[allow(dead_code)]
mod support;

use routeros::Command;
use routeros_exporter::collect::family::{Family, Sample, Value};
use routeros_exporter::collect::{GroupError, Trace};
use routeros_sim::RouterConfig;
use std::collections::BTreeMap;
use std::sync::Arc;
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
        let ctx = self.context(group::module("firewall"), deadline(), trace, 0);
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
        let id = &s.labels[3];
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
        .filter(|s| s.labels[5] == "drop" && s.labels[6] == "drop invalid")
        .collect();
    assert_eq!(drop_invalid.len(), 2);
    let dummy = info
        .iter()
        .find(|s| s.labels[8] == "true")
        .expect("dynamic fasttrack dummy rule");
    assert_eq!(dummy.labels[4], "0");
    assert_eq!(dummy.labels[5], "passthrough");
    let disabled = info
        .iter()
        .find(|s| s.labels[7] == "true")
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
