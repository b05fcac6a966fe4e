//! The `bgp` group against the simulator: the lab's three peers and the core
//! board's fifty on both versions, the peer that is configured but down
//! keeping its series at 0 (on RouterOS 7 it has no session, only a
//! connection), the commands each version sends, a board without BGP, and the
//! restricted user.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::GroupError;
use routeros_exporter::collect::family::Family;
use routeros_sim::RouterConfig;
use routeros_sim::menus::Board;
use support::group::{self, GroupRun, assert_no_duplicate_series, samples, with_board};

async fn run(router: RouterConfig) -> GroupRun {
    group::run_once("bgp", router).await
}

/// `(name, value)` of every sample of `metric`.
fn by_peer(f: &[Family], metric: &str) -> Vec<(String, f64)> {
    samples(f, metric)
        .into_iter()
        .map(|(l, v)| (l[0].clone(), v.as_f64()))
        .collect()
}

fn value(f: &[Family], metric: &str, peer: &str) -> Option<f64> {
    by_peer(f, metric)
        .into_iter()
        .find(|(n, _)| n == peer)
        .map(|(_, v)| v)
}

#[tokio::test]
async fn lab_peers_on_both_versions_with_the_down_one_at_zero() {
    for router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        let v7 = router.personality.is_v7();
        let run = run(router).await;
        let f = run.result.expect("bgp collects");
        assert_no_duplicate_series(&f);
        assert_eq!(
            by_peer(&f, "mikrotik_bgp_session_established"),
            [
                ("peer1".to_owned(), 1.0),
                ("peer2".to_owned(), 1.0),
                ("peer3".to_owned(), 0.0)
            ]
        );
        let counters = if v7 {
            [
                "mikrotik_bgp_session_sent_messages_total",
                "mikrotik_bgp_session_received_bytes_total",
            ]
        } else {
            [
                "mikrotik_bgp_session_sent_updates_total",
                "mikrotik_bgp_session_received_withdrawals_total",
            ]
        };
        for metric in counters.into_iter().chain([
            "mikrotik_bgp_session_uptime_seconds",
            "mikrotik_bgp_session_received_prefixes",
        ]) {
            assert_eq!(value(&f, metric, "peer3"), Some(0.0), "{metric}");
            assert!(
                value(&f, metric, "peer1").is_some_and(|v| v > 0.0),
                "{metric}"
            );
        }
        let down_state: Vec<String> = samples(&f, "mikrotik_bgp_session_state")
            .into_iter()
            .filter(|(l, v)| l[0] == "peer3" && v.as_f64() == 1.0)
            .map(|(l, _)| l[5].clone())
            .collect();
        assert_eq!(down_state, [if v7 { "idle" } else { "active" }]);
        let labels = &samples(&f, "mikrotik_bgp_session_established")[2].0;
        assert_eq!(labels[1..3], ["172.16.0.3", "64514"]);
        let sent = |path: &str| run.commands.get(path).copied().unwrap_or_default();
        if v7 {
            assert_eq!(sent("/routing/bgp/connection/print"), 1);
            assert_eq!(sent("/routing/bgp/session/print"), 1);
            assert_eq!(sent("/routing/bgp/peer/print"), 0);
        } else {
            assert_eq!(sent("/routing/bgp/peer/print"), 1);
            assert_eq!(sent("/routing/bgp/session/print"), 0);
        }
    }
}

#[tokio::test]
async fn core_board_fifty_peers_one_down() {
    for router in [RouterConfig::v7("core7"), RouterConfig::v6("core6")] {
        let run = run(with_board(router, Board::Core)).await;
        let f = run.result.expect("bgp collects");
        assert_no_duplicate_series(&f);
        let established = by_peer(&f, "mikrotik_bgp_session_established");
        assert_eq!(established.len(), 50);
        assert_eq!(established.iter().filter(|(_, v)| *v == 1.0).count(), 49);
        assert_eq!(established[49], ("peer50".to_owned(), 0.0));
        assert_eq!(samples(&f, "mikrotik_bgp_session_state").len(), 50 * 6);
        let full_table = value(&f, "mikrotik_bgp_session_received_prefixes", "peer1");
        assert!(full_table.is_some_and(|p| p > 900_000.0));
        let commands: u64 = run.commands.values().sum();
        assert!(commands <= 3, "{:?}", run.commands);
    }
}

#[tokio::test]
async fn a_board_without_bgp_has_no_series() {
    for router in [RouterConfig::v7("chr"), RouterConfig::v6("chr6")] {
        let f = run(with_board(router, Board::Chr))
            .await
            .result
            .expect("bgp collects");
        assert!(f.iter().all(|f| f.samples.is_empty()));
    }
}

#[tokio::test]
async fn restricted_user_fails_with_the_routers_reason() {
    for mut router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        router.faults.denied_menus = vec!["/routing".into()];
        match run(router).await.result {
            Err(GroupError::Failed(e)) => {
                assert!(e.to_string().contains("not enough permissions"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }
}
