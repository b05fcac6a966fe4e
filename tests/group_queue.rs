//! The `queue` group against the simulator: two streamed prints whatever the
//! number of queues, dynamic (per-subscriber) simple queues left out by the
//! router unless `clients: per_client`, both versions, the core board's 500
//! queues, a board without queues, and a user who may not read `/queue`.

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

async fn collect(router: RouterConfig, clients: ClientSeries) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::start(router, deadline).await;
    let trace = Arc::new(Trace::new(true));
    let mut module = group::module("queue");
    module.clients = clients;
    let ctx = probe.context(module, deadline, trace.clone(), group::now_unix());
    let result = group::collect("queue", &ctx).await;
    let stats = probe.sim.routers()[0].stats();
    Outcome {
        result,
        trace: trace.lines(),
        commands: stats
            .commands
            .into_iter()
            .filter(|(c, _)| c != "/login")
            .collect(),
    }
}

/// The `name` labels of the simple queue info series.
fn simple_names(f: &[Family]) -> Vec<String> {
    samples(f, "mikrotik_queue_simple_info")
        .into_iter()
        .map(|(l, _)| l[0].clone())
        .collect()
}

#[tokio::test]
async fn v7_and_v6_static_queues_in_two_prints() {
    for mut router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        router.initial_uptime = Duration::from_secs(3_600);
        let out = collect(router, ClientSeries::Aggregate).await;
        let f = out.result.expect("queue collects");
        group::assert_no_duplicate_series(&f);
        // Five simple queues, the fifth dynamic and left out by the router.
        assert_eq!(simple_names(&f), ["cust-1", "cust-2", "cust-3", "cust-4"]);
        assert!(
            out.trace
                .iter()
                .any(|l| l.contains("/queue/simple/print") && l.contains("?dynamic=false")),
            "{:?}",
            out.trace
        );
        let bytes = samples(&f, "mikrotik_queue_simple_bytes_total");
        assert_eq!(bytes.len(), 8, "upload and download of four queues");
        let down = bytes
            .iter()
            .find(|(l, _)| l == &["cust-2", "download"])
            .expect("cust-2 download");
        assert!(down.1.as_f64() > 0.0);
        let max = samples(&f, "mikrotik_queue_simple_max_limit_bps");
        let cust2 = max.iter().find(|(l, _)| l == &["cust-2", "download"]);
        assert_eq!(
            cust2.map(|(_, v)| v.as_f64()),
            Some(50e6),
            "10M/50M or raw bps"
        );
        assert!(max.iter().all(|(l, _)| l[0] != "cust-1"), "no limit");
        assert_eq!(samples(&f, "mikrotik_queue_tree_info").len(), 3);
        assert_eq!(
            samples(&f, "mikrotik_queue_tree_max_limit_bps")[0]
                .1
                .as_f64(),
            1e9
        );
        let mut commands = out.commands;
        commands.sort();
        assert_eq!(
            commands,
            [
                ("/queue/simple/print".to_owned(), 1),
                ("/queue/tree/print".to_owned(), 1)
            ]
        );
    }
}

#[tokio::test]
async fn per_client_adds_the_dynamic_subscriber_queues() {
    let out = collect(RouterConfig::v7("r7"), ClientSeries::PerClient).await;
    let f = out.result.expect("queue collects");
    let names = simple_names(&f);
    assert_eq!(names.len(), 5);
    assert_eq!(names[4], "<pppoe-sub-00005>");
    let info = samples(&f, "mikrotik_queue_simple_info");
    assert_eq!(info[4].0[3], "true", "dynamic");
    assert!(!out.trace.iter().any(|l| l.contains("?dynamic=false")));
}

#[tokio::test]
async fn the_core_board_streams_five_hundred_queues() {
    let mut router = RouterConfig::v7("core");
    router.scale = Board::Core.scale();
    let out = collect(router, ClientSeries::Aggregate).await;
    let f = out.result.expect("queue collects");
    group::assert_no_duplicate_series(&f);
    assert_eq!(simple_names(&f).len(), 400, "500 less every fifth, dynamic");
    assert_eq!(samples(&f, "mikrotik_queue_tree_info").len(), 20);
    assert_eq!(out.commands.len(), 2);
}

#[tokio::test]
async fn a_board_without_queues_has_no_series() {
    let mut router = RouterConfig::v6("chr");
    router.scale = Board::Chr.scale();
    let out = collect(router, ClientSeries::PerClient).await;
    let f = out.result.expect("no queues is not a failure");
    assert!(f.iter().all(|family| family.samples.is_empty()), "{f:?}");
}

#[tokio::test]
async fn a_user_who_may_not_read_queues_fails_with_the_routers_reason() {
    let mut router = RouterConfig::v7("restricted");
    router.faults.denied_menus = vec!["/queue".into()];
    match collect(router, ClientSeries::Aggregate).await.result {
        Err(GroupError::Failed(e)) => {
            assert!(e.to_string().contains("not enough permissions"), "{e}")
        }
        other => panic!("expected a permission failure, got {other:?}"),
    }
}
