//! How the exporter bounds its work: identical concurrent probes share one
//! collection, but only one that ends by the joining probe's own deadline;
//! `global.limits.max_concurrent_probes` sheds the excess with a 503 (counted
//! as a failed probe), also after a reload sets it; a hung router with
//! clients asking for years and giving up after a second wedges neither the
//! exporter nor its own later probes; probes whose client went away are
//! still counted; and, without the HTTP layer,
//! `global.limits.max_concurrent_per_target` makes a second collection against
//! a busy router wait for the first, failing with the reason when its own
//! deadline passes while waiting, and the router never sees the second
//! collection's commands.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect;
use routeros_exporter::config;
use routeros_exporter::probe::{
    MAX_WAITING_PER_TARGET, ProbeError, ProbeRequest, Prober, ProberOptions,
};
use routeros_sim::{Faults, RouterConfig, SimConfig, Simulator};
use std::sync::Arc;
use std::time::Duration;
use support::exposition::parse_exposition;
use support::harness::{
    Harness, RESOURCE_PRINT, command_count, config_text, harness, harness_with, probe,
    probe_exposition, wait_for_command,
};
use support::http::Response;
use tokio::task::JoinHandle;

/// The header in which Prometheus sends its scrape timeout, in seconds.
const SCRAPE_TIMEOUT: &str = "X-Prometheus-Scrape-Timeout-Seconds";

/// Starts a GET of `path` in the background.
fn spawn_get(h: &Harness, path: &str) -> JoinHandle<Response> {
    let (http, path) = (h.http.clone(), path.to_string());
    tokio::spawn(async move { http.get(&path).await })
}

/// GET `/probe?{query}` with a scrape timeout of `seconds`.
async fn probe_within(h: &Harness, query: &str, seconds: &str) -> Response {
    h.http
        .get_with(&format!("/probe?{query}"), &[(SCRAPE_TIMEOUT, seconds)])
        .await
}

/// Starts [`probe_within`] in the background.
fn spawn_probe_within(h: &Harness, query: &str, seconds: &str) -> JoinHandle<Response> {
    let (http, path) = (h.http.clone(), format!("/probe?{query}"));
    let seconds = seconds.to_string();
    tokio::spawn(async move { http.get_with(&path, &[(SCRAPE_TIMEOUT, &seconds)]).await })
}

/// `routeros_exporter_probes_total` of `target`, `module` and `result`
/// (0 when absent).
async fn probes_total(h: &Harness, target: &str, module: &str, result: &str) -> f64 {
    let metrics = h.http.get("/metrics").await.text();
    let series = format!(
        "routeros_exporter_probes_total{{target=\"{target}\",module=\"{module}\",result=\"{result}\"}} "
    );
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series.as_str()))
        .map(|value| value.parse().expect("a number"))
        .unwrap_or_default()
}

/// `/health?target=...` as JSON: the target's entry.
async fn health_of(h: &Harness, target: &str) -> serde_json::Value {
    let json = h.http.get(&format!("/health?target={target}")).await.json();
    json["targets"][target].clone()
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
    // The shed probe is a failed probe of r6, in its state and self metrics.
    let r6 = health_of(&h, "r6").await;
    let module = &r6["modules"]["system_only"];
    assert_eq!(module["error_total"], 1, "{r6}");
    let error = module["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("too many concurrent probes"), "{r6}");
    assert_eq!(r6["status"], "degraded", "never succeeded: {r6}");
    assert_eq!(probes_total(&h, "r6", "system_only", "failure").await, 1.0);
    // The permit is back.
    h.v7.set_faults(Faults::default());
    probe(&h.http, "target=r6&module=system_only").await;
    let metrics = h.http.get("/metrics").await.text();
    assert!(
        metrics.contains("routeros_exporter_probes_shed_total 1\n"),
        "{metrics}"
    );
    assert_eq!(probes_total(&h, "r6", "system_only", "success").await, 1.0);
}

#[tokio::test]
async fn a_probe_joins_only_a_collection_that_ends_by_its_own_deadline() {
    let h = harness().await;
    probe(&h.http, "target=r7&module=system_only").await;
    let base = command_count(&h.v7, RESOURCE_PRINT);
    h.v7.set_faults(Faults {
        latency_ms: 2_000,
        ..Faults::default()
    });
    let long = spawn_probe_within(&h, "target=r7&module=system_only", "10");
    wait_for_command(&h.v7, RESOURCE_PRINT, base + 1).await;
    // The collection in flight may run 9.5 s; this probe has 1 s. It runs
    // its own collection, which its own deadline cuts.
    let short = probe_within(&h, "target=r7&module=system_only", "1.5").await;
    assert_eq!(short.status, 200);
    let e = parse_exposition(&short.text(), false);
    assert_eq!(e.must("mikrotik_probe_success", &[]), 0.0);
    assert_eq!(e.must("mikrotik_probe_timeout_seconds", &[]), 1.0);
    assert_eq!(
        e.must("mikrotik_collector_success", &[("collector", "system")]),
        0.0,
        "cut by its own deadline, not failed waiting for the other"
    );
    assert_eq!(command_count(&h.v7, RESOURCE_PRINT), base + 2);
    // A probe whose deadline is later than the one in flight joins it.
    let joiner = spawn_probe_within(&h, "target=r7&module=system_only", "12");
    let (long, joiner) = (answer(long).await, answer(joiner).await);
    assert_eq!((long.status, joiner.status), (200, 200));
    assert_eq!(uptime_line(&long.text()), uptime_line(&joiner.text()));
    assert_eq!(command_count(&h.v7, RESOURCE_PRINT), base + 2);
}

/// The wedge of issue 12: against a hung router, clients asking for a
/// three-year deadline and giving up after a second used to leave
/// collections that never ended, holding both of the router's slots, and
/// collections queued behind them holding global slots, until every probe
/// of every target was a 503. Now deadlines are capped, queued collections
/// hold no global slot, and the router's own later probes fail by their own
/// deadline with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_router_and_impatient_clients_do_not_wedge_the_exporter() {
    let h = harness_with("  limits: {max_concurrent_probes: 4}").await;
    h.v7.set_faults(Faults {
        hang: true,
        ..Faults::default()
    });
    let module_sets = [
        "system_only",
        "wireguard_only",
        "system_and_connectivity",
        "full",
        "system_only,wireguard_only",
        "wireguard_only,system_and_connectivity",
    ];
    let mut impatient = Vec::new();
    for _ in 0..3 {
        for set in module_sets {
            let get = spawn_probe_within(&h, &format!("target=r7&module={set}"), "99999999");
            impatient.push(tokio::time::timeout(Duration::from_secs(1), get));
        }
    }
    for client in impatient {
        // They give up (before the fix, the later ones got a 503 at once).
        let _ = client.await;
    }
    // Every other target is still probed.
    for _ in 0..3 {
        let e = probe_exposition(&h.http, "target=r6&module=system_only").await;
        assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);
    }
    assert_eq!(h.http.get("/health?target=r6").await.status, 200);
    // The hung router's next probe ends by its own deadline, with the reason.
    let r = probe_within(&h, "target=r7&module=system_only", "2").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let e = parse_exposition(&r.text(), false);
    assert_eq!(e.must("mikrotik_probe_success", &[]), 0.0);
    assert_eq!(e.must("mikrotik_probe_timeout_seconds", &[]), 1.5);
    let r7 = health_of(&h, "r7").await;
    assert_eq!(r7["status"], "degraded", "{r7}");
    let error = r7["modules"]["system_only"]["last_error"]
        .as_str()
        .unwrap_or_default();
    assert!(error.contains("too many concurrent collections"), "{r7}");
    assert!(probes_total(&h, "r7", "system_only", "failure").await >= 1.0);
}

/// A client that goes away mid-probe drops the request, not the probe: it
/// still ends by its deadline and counts, in the target's state and in
/// `routeros_exporter_probes_total`; a `debug=true` one too.
#[tokio::test]
async fn probes_abandoned_by_their_client_are_counted() {
    let h = harness().await;
    h.v7.set_faults(Faults {
        hang: true,
        ..Faults::default()
    });
    for query in [
        "target=r7&module=system_only",
        "target=r7&module=wireguard_only&debug=true",
    ] {
        let get = probe_within(&h, query, "1.5");
        let gave_up = tokio::time::timeout(Duration::from_millis(300), get).await;
        assert!(gave_up.is_err(), "{query}: answered before its deadline");
    }
    let counted = tokio::time::timeout(Duration::from_secs(20), async {
        while probes_total(&h, "r7", "system_only", "failure").await < 1.0
            || probes_total(&h, "r7", "wireguard_only", "failure").await < 1.0
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(counted.is_ok(), "{}", h.http.get("/metrics").await.text());
    let r7 = health_of(&h, "r7").await;
    assert_eq!(r7["status"], "degraded", "{r7}");
    for module in ["system_only", "wireguard_only"] {
        assert_eq!(r7["modules"][module]["error_total"], 1, "{r7}");
    }
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

/// Collections that wait for a busy target hold no global slot, but each
/// waits until its deadline: probes with ever earlier deadlines (which join
/// no collection in flight) are refused once `MAX_WAITING_PER_TARGET` wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collections_waiting_for_a_hung_target_are_bounded() {
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
         modules:\n  sys:\n    groups: [system]\n",
        router.addr()
    );
    let config = config::load_str(&text, "limits.yml", &collect::group_names())
        .unwrap_or_else(|e| panic!("{e}"));
    let prober = Arc::new(Prober::new(config, ProberOptions::default(), None));
    router.set_faults(Faults {
        hang: true,
        ..Faults::default()
    });
    let spawn = |seconds: u64| {
        let prober = prober.clone();
        tokio::spawn(async move {
            let _ = prober
                .probe(request("sys", Duration::from_secs(seconds)))
                .await;
        })
    };
    let mut probes = vec![spawn(60)];
    wait_for_command(&router, RESOURCE_PRINT, 1).await;
    for i in 0..MAX_WAITING_PER_TARGET {
        // An earlier deadline than every collection in flight: it waits.
        probes.push(spawn(50 - i as u64));
        let queued = tokio::time::timeout(Duration::from_secs(10), async {
            while prober.collections_waiting("r") < i + 1 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(queued.is_ok(), "collection {i} never queued");
    }
    let refused = prober.probe(request("sys", Duration::from_secs(10))).await;
    assert_eq!(
        refused.err(),
        Some(ProbeError::TargetBusy(MAX_WAITING_PER_TARGET))
    );
    let state = prober.state("r").module("sys");
    assert_eq!(state.error_total, 1, "the refused probe counts");
    for probe in probes {
        probe.abort();
    }
}
