//! The `ppp` group against the simulator: six counts by default however many
//! sessions the router terminates (a 5,000-session concentrator included),
//! per-session series only with `clients: per_client`, zero counts on a board
//! without PPP, and the router's refusal for a user without the `/ppp` policy.

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

const UPTIME: &str = "mikrotik_ppp_session_uptime_seconds";
const INFO: &str = "mikrotik_ppp_session_info";

/// What one collection returned and what the router saw.
struct Outcome {
    result: Result<Vec<Family>, GroupError>,
    trace: Vec<String>,
    /// `/ppp/active/print` commands the router received.
    prints: u64,
}

async fn collect(router: RouterConfig, clients: ClientSeries) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::start(router, deadline).await;
    let trace = Arc::new(Trace::new(true));
    let mut module = group::module("ppp");
    module.clients = clients;
    let ctx = probe.context(module, deadline, trace.clone(), group::now_unix());
    let result = group::collect("ppp", &ctx).await;
    let stats = probe.sim.routers()[0].stats();
    Outcome {
        result,
        trace: trace.lines(),
        prints: stats
            .commands
            .get("/ppp/active/print")
            .copied()
            .unwrap_or_default(),
    }
}

/// The per-service counts, by service.
fn counts(families: &[Family]) -> Vec<(String, f64)> {
    samples(families, "mikrotik_ppp_active_sessions")
        .into_iter()
        .map(|(l, v)| (l[0].clone(), v.as_f64()))
        .collect()
}

fn expected(counts: [f64; 6]) -> Vec<(String, f64)> {
    ["pppoe", "l2tp", "sstp", "ovpn", "pptp", "other"]
        .iter()
        .zip(counts)
        .map(|(s, n)| ((*s).to_owned(), n))
        .collect()
}

fn series(families: &[Family]) -> usize {
    families.iter().map(|f| f.samples.len()).sum()
}

#[tokio::test]
async fn v7_and_v6_lab_sessions_are_counted_by_service() {
    for router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        let out = collect(router, ClientSeries::Aggregate).await;
        let f = out.result.expect("ppp collects");
        assert_eq!(counts(&f), expected([1.0, 1.0, 1.0, 0.0, 0.0, 0.0]));
        assert_eq!(series(&f), 6);
        assert_eq!(out.prints, 6);
    }
}

#[tokio::test]
async fn a_5000_session_concentrator_yields_six_series_by_default() {
    let mut router = RouterConfig::v7("bras");
    router.scale = Board::PppoeConcentrator.scale();
    router.scale.ppp_sessions = 5_000;
    let out = collect(router, ClientSeries::Aggregate).await;
    let f = out.result.expect("ppp collects");
    assert_eq!(series(&f), 6, "bounded whatever the number of sessions");
    // Every 25 sessions hold one of each tunnel; the last is `async`.
    assert_eq!(
        counts(&f),
        expected([
            (5_000 - 4 * 200 - 1) as f64,
            200.0,
            200.0,
            200.0,
            200.0,
            1.0
        ])
    );
    assert_eq!(out.prints, 6);
    let commands: Vec<&String> = out
        .trace
        .iter()
        .filter(|l| l.starts_with("command "))
        .collect();
    assert_eq!(commands.len(), 6);
    assert!(
        commands.iter().all(|l| l.contains("=count-only=")),
        "{commands:?}"
    );
}

#[tokio::test]
async fn per_client_adds_one_uptime_and_one_info_series_per_session() {
    for router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        let mut router = router;
        router.scale = Board::PppoeConcentrator.scale();
        let out = collect(router, ClientSeries::PerClient).await;
        let f = out.result.expect("ppp collects");
        group::assert_no_duplicate_series(&f);
        assert_eq!(out.prints, 1, "one streamed print, counts from its rows");
        assert_eq!(
            counts(&f),
            expected([(2_000 - 4 * 80 - 1) as f64, 80.0, 80.0, 80.0, 80.0, 1.0])
        );
        assert_eq!(samples(&f, UPTIME).len(), 2_000);
        let info = samples(&f, INFO);
        assert_eq!(info.len(), 2_000);
        assert_eq!(info[0].0[..2], ["sub-00001", "pppoe"]);
        assert!(
            info[0].0[2].contains(':'),
            "a MAC caller id: {:?}",
            info[0].0
        );
        assert_eq!(info[0].0[3], "100.64.0.2");
        let line = out
            .trace
            .iter()
            .find(|l| l.starts_with("command "))
            .expect("traced");
        assert!(
            line.contains(".proplist=.id,name,service,caller-id,address,uptime"),
            "{line}"
        );
    }
}

#[tokio::test]
async fn a_router_without_ppp_sessions_reports_zero_counts() {
    let mut router = RouterConfig::v7("chr");
    router.scale = Board::Chr.scale();
    for clients in [ClientSeries::Aggregate, ClientSeries::PerClient] {
        let out = collect(router.clone(), clients).await;
        let f = out.result.expect("zero sessions are not a failure");
        assert_eq!(counts(&f), expected([0.0; 6]));
        assert_eq!(series(&f), 6);
    }
}

#[tokio::test]
async fn a_user_without_the_ppp_policy_fails_with_the_routers_reason() {
    let mut router = RouterConfig::v7("restricted");
    router.faults.denied_menus = vec!["/ppp".into()];
    let out = collect(router, ClientSeries::Aggregate).await;
    match out.result {
        Err(GroupError::Failed(e)) => {
            assert!(e.to_string().contains("not enough permissions"), "{e}")
        }
        other => panic!("expected a permission failure, got {other:?}"),
    }
}
