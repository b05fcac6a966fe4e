//! Prometheus gives up mid-probe: its scrape timeout passes and it closes the
//! connection while the router has not answered. The collection, detached from
//! the request so identical probes can share it, must still end by its own
//! deadline, count as a failure in the target's state, leave the pooled session
//! clean or closed, and leak no descriptor; the next probe works on one session.

#[allow(dead_code)]
mod support;

use routeros_sim::Faults;
use std::time::Duration;
use support::harness::{harness, probe};

/// The scrape timeout the abandoned probes announce.
const SCRAPE_TIMEOUT: &str = "3";
/// When the client gives up, well before that.
const GIVE_UP: Duration = Duration::from_millis(300);

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .count()
}

/// Sum of every `key` number anywhere under `node`, whatever the nesting.
fn sum_of(node: &serde_json::Value, key: &str) -> u64 {
    match node {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                if k == key {
                    v.as_u64().unwrap_or_default()
                } else {
                    sum_of(v, key)
                }
            })
            .sum(),
        serde_json::Value::Array(items) => items.iter().map(|v| sum_of(v, key)).sum(),
        _ => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_gives_up_leaves_nothing_behind() {
    let h = harness().await;
    probe(&h.http, "target=r7&module=system_only").await;
    let logins_before = h.v7.stats().logins_ok;
    let descriptors_before = open_descriptors();

    h.v7.set_faults(Faults {
        hang: true,
        ..Faults::default()
    });
    let modules = [
        "system_only",
        "full",
        "wireguard_only",
        "system_and_connectivity",
    ];
    let mut abandoned = Vec::new();
    for i in 0..24 {
        let http = h.http.clone();
        let path = format!("/probe?target=r7&module={}", modules[i % modules.len()]);
        abandoned.push(tokio::spawn(async move {
            let request = http.get_with(
                &path,
                &[("X-Prometheus-Scrape-Timeout-Seconds", SCRAPE_TIMEOUT)],
            );
            tokio::time::timeout(GIVE_UP, request).await.is_err()
        }));
    }
    for request in abandoned {
        assert!(
            request.await.expect("request task"),
            "the router hangs, so no answer comes before the client gives up"
        );
    }

    // Every collection's deadline (3 s − the 0.5 s offset) has passed by now.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let health = h.http.get("/health?target=r7").await.json();
    assert!(
        sum_of(&health, "error_total") >= 1,
        "the abandoned probes' failures are in the state: {health}"
    );
    let commands_after_deadline = h.v7.stats().commands.values().sum::<u64>();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        h.v7.stats().commands.values().sum::<u64>(),
        commands_after_deadline,
        "no collection is still talking to the router past its deadline"
    );

    h.v7.set_faults(Faults::default());
    let body = probe(&h.http, "target=r7&module=full").await;
    assert!(
        body.lines()
            .any(|l| l.starts_with("mikrotik_probe_success") && l.ends_with(" 1")),
        "the pooled session works after the abandoned probes: {body}"
    );
    // The `full` module's connectivity check opens (and closes) a connection
    // of its own: wait, bounded, for the simulator to see it closed.
    let settled = tokio::time::timeout(Duration::from_secs(5), async {
        while h.v7.stats().connections_open > 1 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let stats = h.v7.stats();
    assert!(
        settled.is_ok() && stats.connections_open == 1,
        "hung sessions are closed, one clean session is pooled: {} open",
        stats.connections_open
    );
    assert!(
        stats.logins_ok <= logins_before + 1,
        "at most one new login after the abandoned probes: {} → {}",
        logins_before,
        stats.logins_ok
    );
    // A little slack for the runtime's own descriptors (timers, blocking pool).
    let descriptors_after = open_descriptors();
    assert!(
        descriptors_after <= descriptors_before + 2,
        "descriptors leaked: {descriptors_before} → {descriptors_after}"
    );
}
