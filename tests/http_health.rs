//! Per-target state through the HTTP layer: the scrape counters, resets on a
//! reboot and on a gap between probes, and `/health` (overall and
//! `?target=`), which is 200 only when every target is healthy.

#[allow(dead_code)]
mod support;

use routeros_exporter::http::App;
use routeros_exporter::probe::ProberOptions;
use routeros_sim::Faults;
use std::time::Duration;
use support::harness::{PASSWORD, harness, harness_with, load, probe, probe_exposition, serve};
use support::http::Client;

#[tokio::test]
async fn scrape_counters_and_reboot_resets() {
    let h = harness().await;
    let e = probe_exposition(&h.http, "target=r7&module=system_only").await;
    assert_eq!(e.must("mikrotik_scrape_success_total", &[]), 1.0);
    assert_eq!(e.must("mikrotik_scrape_errors_total", &[]), 0.0);
    assert!(e.all("mikrotik_target_gap_seconds").is_empty());
    let e = probe_exposition(&h.http, "target=r7&module=system_only").await;
    assert_eq!(e.must("mikrotik_scrape_success_total", &[]), 2.0);
    assert!(e.must("mikrotik_target_gap_seconds", &[]) >= 0.0);
    assert_eq!(
        e.must("mikrotik_target_resets_total", &[("reason", "reboot")]),
        0.0
    );
    assert_eq!(e.must("mikrotik_connection_pool_size", &[]), 1.0);

    h.v7.reboot();
    // The pooled session died with the reboot; the exporter logs in again
    // (within one or two probes) and sees the uptime go backwards.
    let mut probes = 3.0;
    let mut e = probe_exposition(&h.http, "target=r7&module=system_only").await;
    if e.must("mikrotik_probe_success", &[]) == 0.0 {
        probes += 1.0;
        e = probe_exposition(&h.http, "target=r7&module=system_only").await;
    }
    assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);
    assert_eq!(
        e.must("mikrotik_target_resets_total", &[("reason", "reboot")]),
        1.0
    );
    assert!(
        e.value(
            "mikrotik_target_last_reset_timestamp_seconds",
            &[("reason", "reboot")]
        )
        .is_some()
    );
    let successes = e.must("mikrotik_scrape_success_total", &[]);
    let errors = e.must("mikrotik_scrape_errors_total", &[]);
    assert_eq!(successes + errors, probes);

    // Errors count, consecutively.
    h.v7.set_faults(Faults {
        auth_failure: true,
        ..Faults::default()
    });
    h.v7.reboot();
    for _ in 0..2 {
        probe(&h.http, "target=r7&module=system_only").await;
    }
    let e = probe_exposition(&h.http, "target=r7&module=system_only").await;
    assert_eq!(e.must("mikrotik_scrape_errors_total", &[]), errors + 3.0);
    assert_eq!(e.must("mikrotik_connection_consecutive_errors", &[]), 3.0);
    assert_eq!(e.must("mikrotik_scrape_success_total", &[]), successes);

    // /health shows the state.
    let health = h.http.get("/health?target=r7").await;
    assert_eq!(health.status, 503);
    let json = health.json();
    let r7 = &json["targets"]["r7"];
    assert_eq!(r7["status"], "degraded");
    assert_eq!(r7["resets"]["reboot"], 1);
    assert_eq!(r7["last_reset"]["reason"], "reboot");
    let module = &r7["modules"]["system_only"];
    assert_eq!(module["status"], "degraded");
    assert_eq!(module["counted"], true);
    assert_eq!(module["consecutive_errors"], 3);
    assert_eq!(module["error_total"], errors + 3.0);
}

/// State is kept per module set: a `connectivity` probe that succeeds every
/// time (a TCP connect, no login) does not make a target healthy whose `full`
/// probes fail on a wrong password, and each probe's scrape counters are
/// those of its own module set.
#[tokio::test]
async fn a_succeeding_module_does_not_hide_a_failing_one() {
    let h = harness().await;
    h.v7.set_faults(Faults {
        auth_failure: true,
        ..Faults::default()
    });
    for _ in 0..3 {
        let e = probe_exposition(&h.http, "target=r7&module=connectivity").await;
        assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);
    }
    let e = probe_exposition(&h.http, "target=r7&module=system_only").await;
    assert_eq!(e.must("mikrotik_probe_success", &[]), 0.0);
    assert_eq!(e.must("mikrotik_scrape_errors_total", &[]), 1.0);
    assert_eq!(e.must("mikrotik_scrape_success_total", &[]), 0.0);
    let e = probe_exposition(&h.http, "target=r7&module=connectivity").await;
    assert_eq!(e.must("mikrotik_scrape_success_total", &[]), 4.0);
    assert_eq!(e.must("mikrotik_scrape_errors_total", &[]), 0.0);
    assert_eq!(e.must("mikrotik_connection_consecutive_errors", &[]), 0.0);

    let r = h.http.get("/health?target=r7").await;
    assert_eq!(r.status, 503, "{}", r.text());
    let json = r.json();
    let r7 = &json["targets"]["r7"];
    assert_eq!(r7["status"], "degraded");
    let reason = r7["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("system_only: ") && reason.contains("invalid user name or password"),
        "{reason}"
    );
    assert!(!reason.contains("connectivity"), "{reason}");
    assert_eq!(r7["modules"]["connectivity"]["status"], "healthy");
    assert_eq!(r7["modules"]["connectivity"]["success_total"], 4);
    assert_eq!(r7["modules"]["system_only"]["status"], "degraded");
    assert_eq!(r7["modules"]["system_only"]["error_total"], 1);
}

#[tokio::test]
async fn a_gap_over_the_threshold_is_a_baseline_reset() {
    let h = harness_with("  gap_reset_threshold: 1s").await;
    probe(&h.http, "target=r7&module=system_only").await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let e = probe_exposition(&h.http, "target=r7&module=system_only").await;
    assert!(e.must("mikrotik_target_gap_seconds", &[]) > 1.0);
    assert_eq!(
        e.must("mikrotik_target_resets_total", &[("reason", "gap")]),
        1.0
    );
    assert_eq!(
        e.must("mikrotik_target_resets_total", &[("reason", "reboot")]),
        0.0
    );
}

#[tokio::test]
async fn health_is_200_only_when_every_target_is_healthy() {
    let h = harness().await;
    let r = h.http.get("/health").await;
    assert_eq!(r.status, 503, "never probed");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let json = r.json();
    assert_eq!(json["targets"]["r7"]["status"], "unknown");
    assert_eq!(h.http.get("/health?target=nope").await.status, 404);
    assert_eq!(h.http.get("/health?bogus=1").await.status, 400);
    assert_eq!(h.http.get("/health?target=%zz").await.status, 400);
    assert_eq!(
        h.http.get("/health?target=r7&target=nope").await.status,
        400,
        "ambiguous, not the last one silently"
    );

    probe(&h.http, "target=r7&module=system_only").await;
    assert_eq!(h.http.get("/health?target=r7").await.status, 200);
    assert_eq!(h.http.get("/health?target=r6").await.status, 503);
    let r = h.http.get("/health").await;
    assert_eq!(r.status, 503);
    assert!(r.text().contains("not healthy: r6"), "{}", r.text());

    probe(&h.http, "target=r6&module=system_only").await;
    let r = h.http.get("/health").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let json = r.json();
    assert_eq!(json["status"], "healthy");
    assert_eq!(
        json["targets"]["r6"]["modules"]["system_only"]["success_total"],
        1
    );
    // One failure is not yet degraded (threshold 3).
    h.v6.set_faults(Faults {
        refuse: true,
        ..Faults::default()
    });
    h.v6.reboot();
    probe(&h.http, "target=r6&module=system_only").await;
    assert_eq!(h.http.get("/health").await.status, 200);
}

#[tokio::test]
async fn health_with_no_targets_is_503() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("empty.yml");
    std::fs::write(&path, "targets: {}\n").expect("write config");
    let app = App::new(load(&path), ProberOptions::default());
    let http = Client::new(serve(app).await, PASSWORD);
    let r = http.get("/health").await;
    assert_eq!(r.status, 503);
    assert!(r.text().contains("no targets configured"), "{}", r.text());
    assert_eq!(http.get("/-/healthy").await.status, 200);
    assert_eq!(http.get("/probe?target=r7").await.status, 404);
}
