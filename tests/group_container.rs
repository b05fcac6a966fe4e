//! The `container` group against the simulator: containers on RouterOS 7 with
//! the package, unsupported on RouterOS 6 and on boards without the package,
//! and a user without the policy.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::family::{Family, Value};
use routeros_exporter::collect::{GroupError, Trace};
use routeros_sim::RouterConfig;
use routeros_sim::menus::Board;
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe, samples};
use tokio::time::Instant;

/// The group's result on `router`, up an hour.
async fn collect(mut router: RouterConfig) -> Result<Vec<Family>, GroupError> {
    router.initial_uptime = Duration::from_secs(3_600);
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::start(router, deadline).await;
    let ctx = probe.context(
        group::module("container"),
        deadline,
        Arc::new(Trace::new(false)),
        group::now_unix(),
    );
    group::collect("container", &ctx).await
}

fn current(f: &[Family], name: &str) -> Vec<String> {
    samples(f, "mikrotik_container_status")
        .into_iter()
        .filter(|(l, v)| l[0] == name && *v == Value::Int(1))
        .map(|(l, _)| l[1].clone())
        .collect()
}

#[tokio::test]
async fn v7_containers_with_their_state_and_image() {
    let mut router = RouterConfig::v7("r7");
    router.scale.containers = 4;
    let f = collect(router).await.expect("container collects on v7");
    group::assert_no_duplicate_series(&f);
    assert_eq!(current(&f, "pihole"), ["running"]);
    assert_eq!(current(&f, "adguard"), ["stopped"]);
    assert_eq!(current(&f, "unifi"), ["running"]);
    assert_eq!(current(&f, "tailscale"), ["error"]);
    // Every known state of every container: 4 × 4.
    assert_eq!(samples(&f, "mikrotik_container_status").len(), 16);
    let info = samples(&f, "mikrotik_container_info");
    assert_eq!(info.len(), 4);
    assert_eq!(
        info[0].0,
        [
            "pihole",
            "pihole/pihole:2024.07.0",
            "linux",
            "arm64",
            "veth1"
        ]
    );
}

#[tokio::test]
async fn the_edge_board_runs_one_container() {
    let router = RouterConfig {
        scale: Board::Edge.scale(),
        ..RouterConfig::v7("edge")
    };
    let f = collect(router).await.expect("container collects on edge");
    assert_eq!(samples(&f, "mikrotik_container_info").len(), 1);
}

#[tokio::test]
async fn unsupported_on_v6_and_without_the_package() {
    let ccr = RouterConfig {
        scale: Board::Ccr.scale(),
        ..RouterConfig::v7("ccr")
    };
    for router in [RouterConfig::v6("r6"), ccr] {
        let result = collect(router).await;
        assert!(
            matches!(result, Err(GroupError::Unsupported(_))),
            "{result:?}"
        );
    }
}

#[tokio::test]
async fn a_user_without_the_policy_fails_with_the_routers_reason() {
    let mut router = RouterConfig::v7("r7");
    router.faults.denied_menus = vec!["/container".into()];
    match collect(router).await {
        Err(GroupError::Failed(e)) => {
            assert!(e.to_string().contains("not enough permissions"), "{e}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}
