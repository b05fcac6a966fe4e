//! The `certificate` group against the simulator: both date formats, the router
//! clock, the expired certificate and the skipped template.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::Trace;
use routeros_exporter::collect::family::Family;
use routeros_sim::RouterConfig;
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe, value_by_first_label};
use tokio::time::Instant;

/// 2027-01-02 12:00:00 UTC, when the simulator's local CA expires.
const CA_AFTER: i64 = 1_798_891_200;

async fn collect(router: RouterConfig) -> (Vec<Family>, Vec<String>, i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::start(router, deadline).await;
    let now_unix = group::now_unix();
    let trace = Arc::new(Trace::new(true));
    let ctx = probe.context(
        group::module("certificate"),
        deadline,
        trace.clone(),
        now_unix,
    );
    let families = group::collect("certificate", &ctx)
        .await
        .expect("certificate collects");
    (families, trace.lines(), now_unix)
}

#[tokio::test]
async fn v6_and_v7_agree_on_expiry() {
    for router in [RouterConfig::v6("r6"), RouterConfig::v7("r7")] {
        let certificates = router.scale.certificates;
        let (f, trace, now) = collect(router).await;
        for family in &f {
            assert_eq!(family.samples.len(), certificates - 1, "template skipped");
        }
        group::assert_no_duplicate_series(&f);
        let days = "mikrotik_certificate_days_until_expiry";
        let stamp = "mikrotik_certificate_expiry_timestamp_seconds";
        assert_eq!(
            value_by_first_label(&f, stamp, "local-ca"),
            Some(CA_AFTER as f64)
        );
        // The router clock and the probe's clock are the same machine's, read
        // moments apart.
        let ca_days = value_by_first_label(&f, days, "local-ca").expect("local-ca sample");
        let expected = (CA_AFTER - now) as f64 / 86_400.0;
        assert!((ca_days - expected).abs() < 60.0 / 86_400.0, "{ca_days}");
        let old = value_by_first_label(&f, days, "old-vpn-server").expect("expired sample");
        assert!(old < -39.0 && old > -41.0, "{old}");
        assert!(value_by_first_label(&f, days, "server-template").is_none());
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
