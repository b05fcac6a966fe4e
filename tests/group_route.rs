//! The `route` group against the simulator: routes per protocol on both
//! versions, the core board's two million routes, the restricted user, and
//! only `=count-only=` commands, as many at 1,000,000 routes as at 1,000.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::family::Family;
use routeros_exporter::collect::{GroupError, Trace};
use routeros_sim::RouterConfig;
use routeros_sim::menus::Board;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe, samples};
use tokio::time::Instant;

/// One collection of the group: its result, the commands the router saw
/// (by path, `/login` left out) and the trace.
struct Run {
    result: Result<Vec<Family>, GroupError>,
    commands: BTreeMap<String, u64>,
    trace: Vec<String>,
}

async fn run(router: RouterConfig) -> Run {
    let deadline = Instant::now() + Duration::from_secs(60);
    let probe = Probe::start(router, deadline).await;
    let trace = Arc::new(Trace::new(true));
    let ctx = probe.context(
        group::module("route"),
        deadline,
        trace.clone(),
        group::now_unix(),
    );
    let result = group::collect("route", &ctx).await;
    let mut commands = probe.sim.routers()[0].stats().commands;
    commands.remove("/login");
    Run {
        result,
        commands,
        trace: trace.lines(),
    }
}

/// The routes of `family` and `protocol`, or of every protocol with `None`.
fn routes(f: &[Family], metric: &str, family: &str, protocol: Option<&str>) -> f64 {
    samples(f, metric)
        .into_iter()
        .filter(|(l, _)| l[0] == family && protocol.is_none_or(|p| l[1] == p))
        .map(|(_, v)| v.as_f64())
        .sum()
}

#[tokio::test]
async fn lab_routes_per_protocol_on_both_versions() {
    for router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        let scale = router.scale.clone();
        let f = run(router).await.result.expect("route collects");
        group::assert_no_duplicate_series(&f);
        let all = |family| routes(&f, "mikrotik_route_routes", family, None);
        assert_eq!(all("ipv4"), scale.routes as f64);
        assert_eq!(all("ipv6"), scale.routes_v6 as f64);
        // The lab's three OSPF neighbours give five routes each.
        let ospf = routes(&f, "mikrotik_route_routes", "ipv4", Some("ospf"));
        assert_eq!(ospf, 15.0);
        let bgp = routes(&f, "mikrotik_route_routes", "ipv4", Some("bgp"));
        let bgp_active = routes(&f, "mikrotik_route_active_routes", "ipv4", Some("bgp"));
        assert!(bgp > 900.0 && bgp_active < bgp, "{bgp} {bgp_active}");
        assert_eq!(
            routes(&f, "mikrotik_route_routes", "ipv4", Some("other")),
            0.0
        );
        assert_eq!(samples(&f, "mikrotik_route_dynamic_routes").len(), 2);
    }
}

#[tokio::test]
async fn a_router_without_bgp_keeps_its_bgp_series_at_zero() {
    let mut router = RouterConfig::v7("chr");
    router.scale = Board::Chr.scale();
    let f = run(router).await.result.expect("route collects");
    assert_eq!(routes(&f, "mikrotik_route_routes", "ipv4", None), 20.0);
    let bgp = samples(&f, "mikrotik_route_routes")
        .into_iter()
        .find(|(l, _)| l == &["ipv4", "bgp"])
        .expect("bgp series kept");
    assert_eq!(bgp.1.as_f64(), 0.0);
}

#[tokio::test]
async fn only_count_only_commands_as_many_at_a_million_routes_as_at_a_thousand() {
    let mut seen = Vec::new();
    for size in [1_000, 1_000_000] {
        let mut router = RouterConfig::v7("core");
        router.scale = Board::Core.scale();
        router.scale.routes = size;
        let run = run(router).await;
        let f = run.result.expect("route collects");
        assert_eq!(
            routes(&f, "mikrotik_route_routes", "ipv4", None),
            size as f64
        );
        let sent: Vec<&String> = run
            .trace
            .iter()
            .filter(|l| l.starts_with("command "))
            .collect();
        assert_eq!(sent.len(), 28, "{sent:?}");
        assert!(
            sent.iter()
                .all(|l| l.contains("/route/print") && l.contains("=count-only=")),
            "{sent:?}"
        );
        seen.push(run.commands);
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0].values().sum::<u64>(), 28);
    assert_eq!(seen[0].get("/ip/route/print"), Some(&14));
}

#[tokio::test]
async fn the_core_board_counts_two_million_routes() {
    let mut router = RouterConfig::v6("core6");
    router.scale = Board::Core.scale();
    let f = run(router).await.result.expect("route collects");
    assert_eq!(
        routes(&f, "mikrotik_route_routes", "ipv4", None),
        2_000_000.0
    );
    assert_eq!(routes(&f, "mikrotik_route_routes", "ipv6", None), 400_000.0);
}

#[tokio::test]
async fn a_restricted_user_fails_with_the_routers_reason() {
    let mut router = RouterConfig::v7("r7");
    router.faults.denied_menus = vec!["/ip/route".into()];
    let result = run(router).await.result;
    match result {
        Err(GroupError::Failed(e)) => {
            assert!(e.to_string().contains("not enough permissions"), "{e}")
        }
        other => panic!("expected Failed, got {other:?}"),
    }
}
