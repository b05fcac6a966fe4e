//! How the exporter bounds its work: identical concurrent probes share one
//! collection; `global.limits.max_concurrent_probes` sheds the excess with a
//! 503, also after a reload sets it; and, without the HTTP layer,
//! `global.limits.max_concurrent_per_target` makes a second collection against
//! a busy router wait for the first, failing with the reason when its own
//! deadline passes while waiting, and the router never sees the second
//! collection's commands.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect;
use routeros_exporter::config;
use routeros_exporter::probe::{ProbeRequest, Prober, ProberOptions};
use routeros_sim::{Faults, RouterConfig, SimConfig, Simulator};
use std::sync::Arc;
use std::time::Duration;
use support::harness::{
    Harness, RESOURCE_PRINT, command_count, config_text, harness, harness_with, probe,
    wait_for_command,
};
use support::http::Response;
use tokio::task::JoinHandle;

/// Starts a GET of `path` in the background.
fn spawn_get(h: &Harness, path: &str) -> JoinHandle<Response> {
    let (http, path) = (h.http.clone(), path.to_string());
    tokio::spawn(async move { http.get(&path).await })
}

/// Waits for a request started by [`spawn_get`].
async fn answer(request: JoinHandle<Response>) -> Response {
    request.await.expect("the request task completes")
}

/// The uptime sample line: equal in two bodies only if they come from the same
/// collection (the simulator's uptime advances).
fn uptime_line(body: &str) -> String {
    body.lines()
        .find(|l| l.starts_with("mikrotik_system_uptime_seconds"))
        .unwrap_or_else(|| panic!("no uptime in {body}"))
        .to_string()
}

#[tokio::test]
async fn identical_concurrent_probes_share_one_collection() {
    let h = harness().await;
    // Warm the session so only the command counts differ.
    probe(&h.http, "target=r7&module=system_only").await;
    let base = command_count(&h.v7, RESOURCE_PRINT);
    h.v7.set_faults(Faults {
        latency_ms: 2_000,
        ..Faults::default()
    });
    let first = spawn_get(&h, "/probe?target=r7&module=system_only");
    // The first collection is in flight once the router has the command.
    wait_for_command(&h.v7, RESOURCE_PRINT, base + 1).await;
    // Same module set, spelled differently: still the same probe.
    let second = spawn_get(&h, "/probe?target=r7&module=system_only&module=system_only");
    let (first, second) = (answer(first).await, answer(second).await);
    assert_eq!((first.status, second.status), (200, 200));
    assert_eq!(uptime_line(&first.text()), uptime_line(&second.text()));
    assert_eq!(
        command_count(&h.v7, RESOURCE_PRINT),
        base + 1,
        "two probes, one collection"
    );
    let metrics = h.http.get("/metrics").await.text();
    assert!(
        metrics.contains("routeros_exporter_probes_coalesced_total 1\n"),
        "{metrics}"
    );

    // A different module set is its own collection.
    let first = spawn_get(&h, "/probe?target=r7&module=system_only");
    wait_for_command(&h.v7, RESOURCE_PRINT, base + 2).await;
    let other = spawn_get(&h, "/probe?target=r7&module=system_only,wireguard_only");
    let (first, other) = (answer(first).await, answer(other).await);
    assert_eq!((first.status, other.status), (200, 200));
    assert_eq!(command_count(&h.v7, RESOURCE_PRINT), base + 3);
    // So is another target.
    assert_eq!(command_count(&h.v6, RESOURCE_PRINT), 0);
}

/// Under a global limit of one probe: while a slow probe of `r7` holds the
/// only slot, a probe of `r6` is shed with 503 naming the limit; the slow one
/// still answers.
async fn assert_a_second_probe_is_shed(h: &Harness) {
    probe(&h.http, "target=r7&module=system_only").await;
    let base = command_count(&h.v7, RESOURCE_PRINT);
    h.v7.set_faults(Faults {
        latency_ms: 2_000,
        ..Faults::default()
    });
    let slow = spawn_get(h, "/probe?target=r7&module=system_only");
    wait_for_command(&h.v7, RESOURCE_PRINT, base + 1).await;
    let r = h.http.get("/probe?target=r6&module=system_only").await;
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(
        r.text().contains("too many concurrent probes (1)"),
        "{}",
        r.text()
    );
    assert_eq!(answer(slow).await.status, 200);
}

#[tokio::test]
async fn the_global_limit_sheds_with_503() {
    let h = harness_with("  limits: {max_concurrent_probes: 1}").await;
    assert_a_second_probe_is_shed(&h).await;
    // The permit is back.
    h.v7.set_faults(Faults::default());
    probe(&h.http, "target=r6&module=system_only").await;
    let metrics = h.http.get("/metrics").await.text();
    assert!(
        metrics.contains("routeros_exporter_probes_shed_total 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_reload_applies_a_new_global_limit() {
    let h = harness().await;
    let text = config_text(
        h.v7.addr(),
        h.v6.addr(),
        "  limits: {max_concurrent_probes: 1}",
    );
    assert_eq!(h.reload_with(&text).await.status, 200);
    assert_a_second_probe_is_shed(&h).await;
}

// ---------------------------------------------------------------------------
// Per target, through the prober directly (no HTTP layer, its own config).

/// A probe of the target `r` with one module and its own scrape timeout.
fn request(module: &str, timeout: Duration) -> ProbeRequest {
    ProbeRequest {
        target: "r".into(),
        auth: None,
        modules: vec![module.into()],
        scrape_timeout: Some(timeout),
        debug: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_target_makes_the_next_collection_wait_within_its_deadline() {
    let sim = Simulator::start(SimConfig {
        routers: vec![RouterConfig::v7("r")],
    })
    .await
    .expect("simulator starts");
    let router = sim.routers()[0].clone();
    let text = format!(
        "global:\n  limits:\n    max_concurrent_per_target: 1\n\
         auths:\n  a:\n    username: admin\n    password: \"\"\n\
         targets:\n  r:\n    address: \"{}\"\n    auth: a\n\
         modules:\n  sys:\n    groups: [system]\n  fw:\n    groups: [firewall]\n",
        router.addr()
    );
    let config = config::load_str(&text, "limits.yml", &collect::group_names())
        .unwrap_or_else(|e| panic!("{e}"));
    let prober = Arc::new(Prober::new(config, ProberOptions::default(), None));
    router.set_faults(Faults {
        latency_ms: 1_500,
        ..Faults::default()
    });

    let first = tokio::spawn({
        let prober = prober.clone();
        async move { prober.probe(request("sys", Duration::from_secs(10))).await }
    });
    // Start the second only once the first is talking to the router.
    wait_for_command(&router, RESOURCE_PRINT, 1).await;
    let second = prober
        .probe(request("fw", Duration::from_millis(900)))
        .await
        .expect("valid request");
    assert!(!second.collection.success);
    let reason = second.collection.error.clone().unwrap_or_default();
    assert!(
        reason.contains("too many concurrent collections"),
        "{reason}"
    );
    assert!(
        !router
            .stats()
            .commands
            .contains_key("/ip/firewall/filter/print"),
        "the waiting collection sent nothing"
    );

    let first = first.await.expect("task").expect("valid request");
    assert!(first.collection.success, "{:?}", first.collection.error);
}
