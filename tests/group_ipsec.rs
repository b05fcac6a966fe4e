//! The `ipsec` group against the simulator: two streamed prints, a site that
//! is down keeping its policy series at 0, road warriors counted (RouterOS 7)
//! rather than itemised by address, dynamic policies only with
//! `clients: per_client`, both versions, the core board, a board without
//! IPsec, and a user who may not read `/ip/ipsec`.

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

/// What one collection returned and what the router saw.
struct Outcome {
    result: Result<Vec<Family>, GroupError>,
    trace: Vec<String>,
    commands: Vec<(String, u64)>,
}

async fn collect(mut router: RouterConfig, clients: ClientSeries) -> Outcome {
    router.initial_uptime = Duration::from_secs(7_200);
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::start(router, deadline).await;
    let trace = Arc::new(Trace::new(true));
    let mut module = group::module("ipsec");
    module.clients = clients;
    let ctx = probe.context(module, deadline, trace.clone(), group::now_unix());
    let result = group::collect("ipsec", &ctx).await;
    let stats = probe.sim.routers()[0].stats();
    let mut commands: Vec<(String, u64)> = stats
        .commands
        .into_iter()
        .filter(|(c, _)| c != "/login")
        .collect();
    commands.sort();
    Outcome {
        result,
        trace: trace.lines(),
        commands,
    }
}

/// `(labels, value)` of the policies' `established` state.
fn established(f: &[Family]) -> Vec<(Vec<String>, f64)> {
    samples(f, "mikrotik_ipsec_policy_ph2_state")
        .into_iter()
        .filter(|(l, _)| l[3] == "established")
        .map(|(l, v)| (l[..3].to_vec(), v.as_f64()))
        .collect()
}

fn policy(dst: &str, peer: &str) -> Vec<String> {
    ["10.0.0.0/24", dst, peer].map(String::from).to_vec()
}

#[tokio::test]
async fn v7_and_v6_a_down_site_is_one_query_in_two_prints() {
    for router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        let v7 = router.personality.is_v7();
        let out = collect(router, ClientSeries::Aggregate).await;
        let f = out.result.expect("ipsec collects");
        group::assert_no_duplicate_series(&f);
        assert_eq!(
            established(&f),
            [
                (policy("10.100.0.0/24", "site-1"), 1.0),
                (policy("10.100.1.0/24", "site-2"), 0.0)
            ],
            "the dynamic road-warrior policies are left out"
        );
        assert!(
            out.trace
                .iter()
                .any(|l| l.contains("?dynamic=false") && l.contains("?disabled=false")),
            "{:?}",
            out.trace
        );
        let sessions = samples(&f, "mikrotik_ipsec_peer_sessions");
        let site = if v7 { "site-1" } else { "203.0.113.11" };
        assert!(
            sessions
                .iter()
                .any(|(l, v)| l[0] == site && v.as_f64() == 1.0)
        );
        let rx = samples(&f, "mikrotik_ipsec_peer_rx_bytes_total");
        assert!(rx.iter().any(|(l, v)| l[0] == site && v.as_f64() > 0.0));
        let uptime = samples(&f, "mikrotik_ipsec_peer_uptime_seconds");
        assert!(
            uptime
                .iter()
                .any(|(l, v)| l[0] == site && v.as_f64() > 7_000.0)
        );
        if v7 {
            // The two road warriors share the passive peer `rw`: counted only.
            assert!(
                sessions
                    .iter()
                    .any(|(l, v)| l[0] == "rw" && v.as_f64() == 2.0)
            );
            assert_eq!(rx.len(), 1);
        } else {
            // RouterOS 6 names no peer: each road warrior is keyed by its address.
            assert_eq!(sessions.len(), 3);
        }
        assert_eq!(
            out.commands,
            [
                ("/ip/ipsec/active-peers/print".to_owned(), 1),
                ("/ip/ipsec/policy/print".to_owned(), 1)
            ]
        );
    }
}

#[tokio::test]
async fn per_client_adds_the_dynamic_policies_of_road_warriors() {
    let out = collect(RouterConfig::v7("r7"), ClientSeries::PerClient).await;
    let f = out.result.expect("ipsec collects");
    group::assert_no_duplicate_series(&f);
    let policies = established(&f);
    assert_eq!(policies.len(), 4);
    assert_eq!(policies[2].0, ["0.0.0.0/0", "172.16.99.2/32", "rw"]);
    let info = samples(&f, "mikrotik_ipsec_policy_info");
    assert_eq!(info[2].0[4], "true", "dynamic");
}

#[tokio::test]
async fn the_core_board_has_nineteen_sites_up_and_one_down() {
    let mut router = RouterConfig::v7("core");
    router.scale = Board::Core.scale();
    let out = collect(router, ClientSeries::Aggregate).await;
    let f = out.result.expect("ipsec collects");
    group::assert_no_duplicate_series(&f);
    let policies = established(&f);
    assert_eq!(policies.len(), 20);
    assert_eq!(policies.iter().filter(|(_, v)| *v == 0.0).count(), 1);
    assert_eq!(samples(&f, "mikrotik_ipsec_peer_state").len(), 19);
}

#[tokio::test]
async fn a_board_without_ipsec_has_no_series() {
    for router in [RouterConfig::v7("chr7"), RouterConfig::v6("chr6")] {
        let mut router = router;
        router.scale = Board::Chr.scale();
        let out = collect(router, ClientSeries::PerClient).await;
        let f = out.result.expect("no tunnels is not a failure");
        assert!(f.iter().all(|family| family.samples.is_empty()), "{f:?}");
    }
}

#[tokio::test]
async fn a_user_who_may_not_read_ipsec_fails_with_the_routers_reason() {
    let mut router = RouterConfig::v6("restricted");
    router.faults.denied_menus = vec!["/ip/ipsec".into()];
    match collect(router, ClientSeries::Aggregate).await.result {
        Err(GroupError::Failed(e)) => {
            assert!(e.to_string().contains("not enough permissions"), "{e}")
        }
        other => panic!("expected a permission failure, got {other:?}"),
    }
}
