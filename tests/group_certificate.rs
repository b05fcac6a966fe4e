//! The `certificate` group against the simulator: both date formats, the router
//! clock, the expired certificate and the skipped template.

use routeros_exporter::collect::family::Family;
use routeros_exporter::collect::{Context, Trace, group};
use routeros_exporter::config::{Module, SessionLimits, Target};
use routeros_exporter::routeros::pool::{Endpoint, Pool, PoolConfig};
use routeros_exporter::sim::{RouterConfig, SimConfig, Simulator};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// 2027-01-02 12:00:00 UTC, when the simulator's local CA expires.
const CA_AFTER: i64 = 1_798_891_200;

async fn collect(router: RouterConfig) -> (Vec<Family>, Vec<String>, i64) {
    let sim = Simulator::start(SimConfig {
        routers: vec![router],
    })
    .await
    .expect("simulator starts");
    let address = sim.routers()[0].addr().to_string();
    let endpoint = Endpoint {
        address: address.clone(),
        username: "admin".into(),
        password: String::new(),
        tls: None,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let pool = Pool::new(PoolConfig::default());
    let session = pool.acquire(&endpoint, deadline).await.expect("session");
    let now_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let trace = Arc::new(Trace::new(true));
    let ctx = Context {
        session: Some(session),
        deadline,
        module: Arc::new(Module::with_groups("m", &["certificate"])),
        target: Arc::new(Target {
            name: "r".into(),
            address,
            auth: "a".into(),
            tls: None,
            labels: BTreeMap::new(),
            sessions: SessionLimits::default(),
            connectivity: Vec::new(),
        }),
        trace: trace.clone(),
        now_unix,
    };
    let families = group("certificate")
        .expect("registered")
        .collect(&ctx)
        .await
        .expect("certificate collects");
    (families, trace.lines(), now_unix)
}

fn value(families: &[Family], metric: &str, name: &str) -> Option<f64> {
    families
        .iter()
        .filter(|f| f.desc.name == metric)
        .flat_map(|f| &f.samples)
        .find(|s| s.labels[0] == name)
        .map(|s| s.value.as_f64())
}

#[tokio::test]
async fn v6_and_v7_agree_on_expiry() {
    for router in [RouterConfig::v6("r6"), RouterConfig::v7("r7")] {
        let certificates = router.scale.certificates;
        let (f, trace, now) = collect(router).await;
        let mut seen = HashSet::new();
        for family in &f {
            assert_eq!(family.samples.len(), certificates - 1, "template skipped");
            for s in &family.samples {
                assert!(seen.insert((family.desc.name, s.labels.clone())));
            }
        }
        let days = "mikrotik_certificate_days_until_expiry";
        let stamp = "mikrotik_certificate_expiry_timestamp_seconds";
        assert_eq!(value(&f, stamp, "local-ca"), Some(CA_AFTER as f64));
        // The router clock and the probe's clock are the same machine's, read
        // moments apart.
        let ca_days = value(&f, days, "local-ca").expect("local-ca sample");
        let expected = (CA_AFTER - now) as f64 / 86_400.0;
        assert!((ca_days - expected).abs() < 60.0 / 86_400.0, "{ca_days}");
        let old = value(&f, days, "old-vpn-server").expect("expired sample");
        assert!(old < -39.0 && old > -41.0, "{old}");
        assert!(value(&f, days, "server-template").is_none());
        assert!(
            trace.iter().any(|l| l.contains("/system/clock/print")),
            "{trace:?}"
        );
        assert!(
            trace.iter().all(|l| !l.contains("probe's time")),
            "{trace:?}"
        );
        assert!(trace.iter().all(|l| !l.contains("private")), "{trace:?}");
    }
}
