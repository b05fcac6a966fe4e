//! The `firewall` group against the simulator (RouterOS 6 and 7): all eight
//! tables where they exist (`/ipv6/firewall/nat` is skipped on RouterOS 6),
//! counters match a raw print on the same session, identical rules and the
//! dynamic fasttrack dummy rule stay distinct series.

use routeros_exporter::collect::family::{Family, Sample, Value};
use routeros_exporter::collect::{Context, GroupError, Trace, group};
use routeros_exporter::config::{Module, Target};
use routeros_exporter::routeros::pool::{Endpoint, Pool, PoolConfig};
use routeros_exporter::routeros::{Command, Session};
use routeros_exporter::sim::{RouterConfig, SimConfig, Simulator};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

struct Probe {
    _sim: Simulator,
    _pool: Pool,
    session: Session,
    address: String,
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

async fn probe(router: RouterConfig) -> Probe {
    let sim = Simulator::start(SimConfig {
        routers: vec![router],
    })
    .await
    .expect("simulator starts");
    let address = sim.routers()[0].addr().to_string();
    let pool = Pool::new(PoolConfig::default());
    let endpoint = Endpoint {
        address: address.clone(),
        username: "admin".into(),
        password: String::new(),
        tls: None,
    };
    let session = pool.acquire(&endpoint, deadline()).await.expect("session");
    Probe {
        _sim: sim,
        _pool: pool,
        session,
        address,
    }
}

impl Probe {
    async fn collect(&self, trace: Arc<Trace>) -> Result<Vec<Family>, GroupError> {
        let ctx = Context {
            session: Some(self.session.clone()),
            deadline: deadline(),
            module: Arc::new(Module::with_groups("m", &["firewall"])),
            target: Arc::new(Target {
                name: "r".into(),
                address: self.address.clone(),
                auth: "default".into(),
                tls: None,
                labels: BTreeMap::new(),
                sessions: Default::default(),
                connectivity: Vec::new(),
            }),
            trace,
            now_unix: 0,
        };
        group("firewall")
            .expect("firewall group registered")
            .collect(&ctx)
            .await
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

    let mut seen = HashSet::new();
    for fam in &f {
        for s in &fam.samples {
            assert!(
                seen.insert((fam.desc.name, s.labels.clone())),
                "duplicate {} {:?}",
                fam.desc.name,
                s.labels
            );
        }
    }
}

#[tokio::test]
async fn v7_all_eight_tables() {
    check(RouterConfig::v7("r7"), true).await;
}

#[tokio::test]
async fn v6_skips_missing_ipv6_nat() {
    check(RouterConfig::v6("r6"), false).await;
}
