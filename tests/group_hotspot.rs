//! The `hotspot` group against the simulator: users counted per server with
//! one count each by default, per-user traffic and uptime only with
//! `clients: per_client`, nothing (and no failure) on a router without a
//! hotspot, and the router's refusal for a user without the hotspot policy.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::family::Family;
use routeros_exporter::collect::{GroupError, Trace};
use routeros_exporter::config::ClientSeries;
use routeros_sim::RouterConfig;
use routeros_sim::menus::Board;
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe, samples};
use tokio::time::Instant;

/// What one collection returned and the commands the router saw.
struct Outcome {
    result: Result<Vec<Family>, GroupError>,
    trace: Vec<String>,
    servers_prints: u64,
    active_prints: u64,
}

async fn collect(router: RouterConfig, clients: ClientSeries) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::start(router, deadline).await;
    let trace = Arc::new(Trace::new(true));
    let mut module = group::module("hotspot");
    module.clients = clients;
    let ctx = probe.context(module, deadline, trace.clone(), group::now_unix());
    let result = group::collect("hotspot", &ctx).await;
    let stats = probe.sim.routers()[0].stats();
    let sent = |path: &str| stats.commands.get(path).copied().unwrap_or_default();
    Outcome {
        result,
        trace: trace.lines(),
        servers_prints: sent("/ip/hotspot/print"),
        active_prints: sent("/ip/hotspot/active/print"),
    }
}

fn counts(families: &[Family]) -> Vec<(String, f64)> {
    samples(families, "mikrotik_hotspot_active_users")
        .into_iter()
        .map(|(l, v)| (l[0].clone(), v.as_f64()))
        .collect()
}

fn expected(hotspot1: f64, guest: f64) -> Vec<(String, f64)> {
    vec![("hotspot1".into(), hotspot1), ("guest".into(), guest)]
}

#[tokio::test]
async fn v7_and_v6_users_are_counted_per_server() {
    for router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        let out = collect(router, ClientSeries::Aggregate).await;
        let f = out.result.expect("hotspot collects");
        assert_eq!(counts(&f), expected(2.0, 0.0));
        assert_eq!(f.iter().map(|f| f.samples.len()).sum::<usize>(), 2);
        assert_eq!((out.servers_prints, out.active_prints), (1, 2));
        let counted: Vec<&String> = out
            .trace
            .iter()
            .filter(|l| l.contains("/ip/hotspot/active/print"))
            .collect();
        assert!(
            counted
                .iter()
                .all(|l| l.contains("=count-only=") && l.contains("?server=")),
            "{counted:?}"
        );
    }
}

#[tokio::test]
async fn per_client_adds_traffic_and_uptime_per_user() {
    for router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        let mut router = router;
        router.scale = Board::WirelessAp.scale();
        router.initial_uptime = Duration::from_secs(600);
        let out = collect(router, ClientSeries::PerClient).await;
        let f = out.result.expect("hotspot collects");
        group::assert_no_duplicate_series(&f);
        assert_eq!((out.servers_prints, out.active_prints), (1, 1));
        assert_eq!(counts(&f), expected(7.0, 3.0));
        let rx = samples(&f, "mikrotik_hotspot_user_rx_bytes_total");
        let tx = samples(&f, "mikrotik_hotspot_user_tx_bytes_total");
        let up = samples(&f, "mikrotik_hotspot_user_uptime_seconds");
        assert_eq!((rx.len(), tx.len(), up.len()), (10, 10, 10));
        assert!(rx.iter().all(|(_, v)| v.as_f64() > 0.0));
        assert_eq!(rx[0].0[..2], ["hotspot1", "guest1"]);
        assert!(
            rx[1].0[1].starts_with("T-"),
            "the trial user: {:?}",
            rx[1].0
        );
        assert_eq!(rx[0].0[2].len(), 17, "a MAC: {:?}", rx[0].0);
    }
}

#[tokio::test]
async fn a_router_without_a_hotspot_has_no_series_and_sends_no_count() {
    let mut router = RouterConfig::v7("chr");
    router.scale = Board::Chr.scale();
    for clients in [ClientSeries::Aggregate, ClientSeries::PerClient] {
        let out = collect(router.clone(), clients).await;
        let f = out.result.expect("no hotspot is not a failure");
        assert!(f.iter().all(|f| f.samples.is_empty()), "{f:?}");
        assert_eq!((out.servers_prints, out.active_prints), (1, 0));
    }
}

#[tokio::test]
async fn a_user_without_the_hotspot_policy_fails_with_the_routers_reason() {
    let mut router = RouterConfig::v7("restricted");
    router.faults.denied_menus = vec!["/ip/hotspot".into()];
    let out = collect(router, ClientSeries::Aggregate).await;
    match out.result {
        Err(GroupError::Failed(e)) => {
            assert!(e.to_string().contains("not enough permissions"), "{e}")
        }
        other => panic!("expected a permission failure, got {other:?}"),
    }
}
