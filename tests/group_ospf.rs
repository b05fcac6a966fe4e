//! The `ospf` group against the simulator: neighbours per instance, area and
//! state in one print on both versions, the neighbour stuck in `Init`
//! reported, the core board's twenty neighbours, a board without OSPF, and a
//! user without the policy to read `/routing`.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::family::Family;
use routeros_exporter::collect::{GroupError, Trace};
use routeros_sim::RouterConfig;
use routeros_sim::menus::Board;
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe, samples, with_board};
use tokio::time::Instant;

/// What one collection returned and the commands the router received.
async fn collect(
    mut router: RouterConfig,
) -> (Result<Vec<Family>, GroupError>, Vec<(String, u64)>) {
    router.initial_uptime = Duration::from_secs(3_600);
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::start(router, deadline).await;
    let trace = Arc::new(Trace::new(true));
    let ctx = probe.context(group::module("ospf"), deadline, trace, group::now_unix());
    let result = group::collect("ospf", &ctx).await;
    let commands = probe.sim.routers()[0]
        .stats()
        .commands
        .into_iter()
        .filter(|(c, _)| c != "/login")
        .collect();
    (result, commands)
}

/// The per-state count of `state` in `instance` and `area`.
fn count(f: &[Family], instance: &str, area: &str, state: &str) -> Option<f64> {
    samples(f, "mikrotik_ospf_neighbors")
        .into_iter()
        .find(|(l, _)| l == &[instance, area, state])
        .map(|(_, v)| v.as_f64())
}

#[tokio::test]
async fn v7_and_v6_lab_neighbours_with_the_init_one_in_one_print() {
    for (router, instance, areas) in [
        (RouterConfig::v7("r7"), "default-v2", ["backbone", "area1"]),
        (RouterConfig::v6("r6"), "default", ["", ""]),
    ] {
        let (result, commands) = collect(router).await;
        let f = result.expect("ospf collects");
        group::assert_no_duplicate_series(&f);
        assert_eq!(commands, [("/routing/ospf/neighbor/print".to_owned(), 1)]);
        assert_eq!(count(&f, instance, areas[0], "Full"), Some(1.0));
        assert_eq!(count(&f, instance, areas[0], "2-Way"), Some(1.0));
        assert_eq!(count(&f, instance, areas[1], "Init"), Some(1.0));
        assert_eq!(count(&f, instance, areas[0], "Down"), Some(0.0));
        let states = samples(&f, "mikrotik_ospf_neighbor_state");
        assert_eq!(states.len(), 3 * 8);
        let init: Vec<_> = states
            .iter()
            .filter(|(l, v)| l[5] == "Init" && v.as_f64() == 1.0)
            .collect();
        assert_eq!(init.len(), 1, "the neighbour stuck in Init is reported");
        assert_eq!(init[0].0[2], "10.255.0.3");
        assert_eq!(init[0].0[3], "ether4");
        let changes = samples(&f, "mikrotik_ospf_neighbor_state_changes_total");
        assert_eq!(changes.len(), 3);
        assert!(changes[2].1.as_f64() > changes[0].1.as_f64(), "Init flaps");
        let adjacency = samples(&f, "mikrotik_ospf_neighbor_adjacency_seconds");
        assert_eq!(adjacency.len(), 1, "only the Full neighbour");
        assert!(adjacency[0].1.as_f64() > 3_000.0);
    }
}

#[tokio::test]
async fn core_board_twenty_neighbours_and_none_on_a_ccr() {
    for router in [RouterConfig::v7("core7"), RouterConfig::v6("core6")] {
        let (result, _) = collect(with_board(router, Board::Core)).await;
        let f = result.expect("ospf collects");
        group::assert_no_duplicate_series(&f);
        assert_eq!(samples(&f, "mikrotik_ospf_neighbor_state").len(), 20 * 8);
        let total: f64 = samples(&f, "mikrotik_ospf_neighbors")
            .iter()
            .map(|(_, v)| v.as_f64())
            .sum();
        assert_eq!(total, 20.0);
    }
    let (result, _) = collect(with_board(RouterConfig::v7("ccr"), Board::Ccr)).await;
    let f = result.expect("a router without neighbours is not a failure");
    assert!(f.iter().all(|family| family.samples.is_empty()));
}

#[tokio::test]
async fn a_user_without_the_policy_to_read_routing_fails_with_the_routers_reason() {
    for router in [
        RouterConfig::v7("restricted7"),
        RouterConfig::v6("restricted6"),
    ] {
        let mut router = router;
        router.faults.denied_menus = vec!["/routing".into()];
        match collect(router).await.0 {
            Err(GroupError::Failed(e)) => {
                assert!(e.to_string().contains("not enough permissions"), "{e}")
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}
