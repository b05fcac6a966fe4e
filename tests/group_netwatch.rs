//! The `netwatch` group against the simulator: hosts of every RouterOS 7
//! probe type and RouterOS 6's plain ones, a down host that keeps its series
//! at 0, an unknown one without a status, boards without netwatch, the
//! restricted user, and two commands whatever the number of hosts.

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

/// One collection: the result, the commands the router saw (`/login` left
/// out) and the probe's time.
async fn run(mut router: RouterConfig) -> (Result<Vec<Family>, GroupError>, u64, i64) {
    // Every simulated host has changed status by then.
    router.initial_uptime = Duration::from_secs(3_600);
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::start(router, deadline).await;
    let now = group::now_unix();
    let ctx = probe.context(
        group::module("netwatch"),
        deadline,
        Arc::new(Trace::new(false)),
        now,
    );
    let result = group::collect("netwatch", &ctx).await;
    let stats = probe.sim.routers()[0].stats();
    let commands = stats
        .commands
        .iter()
        .filter(|(c, _)| *c != "/login")
        .map(|(_, n)| n)
        .sum();
    (result, commands, now)
}

#[tokio::test]
async fn v7_hosts_of_every_probe_type() {
    let (result, commands, now) = run(RouterConfig::v7("r7")).await;
    let f = result.expect("netwatch collects");
    group::assert_no_duplicate_series(&f);
    assert_eq!(commands, 2);
    let up = samples(&f, "mikrotik_netwatch_host_up");
    // Five hosts: the last is unknown (no sample), the second is down.
    assert_eq!(up.len(), 4);
    assert_eq!(up[0].0, ["192.0.2.1", "watch1", "simple"]);
    assert_eq!(up[1].0, ["192.0.2.2", "watch2", "tcp-conn"]);
    assert_eq!(up[1].1.as_f64(), 0.0, "a down host keeps its series");
    assert!(
        up.iter()
            .filter(|(l, _)| l[0] != "192.0.2.2")
            .all(|(_, v)| v.as_f64() == 1.0)
    );
    let since = samples(&f, "mikrotik_netwatch_host_status_since_timestamp_seconds");
    assert_eq!(since.len(), 4);
    assert!(since.iter().all(|(_, v)| {
        let t = v.as_f64();
        t <= now as f64 + 1.0 && t > (now - 3_600) as f64
    }));
    let loss = samples(&f, "mikrotik_netwatch_icmp_loss_ratio");
    assert_eq!(loss.len(), 1);
    assert_eq!(loss[0].1.as_f64(), 0.0);
    let rtt = samples(&f, "mikrotik_netwatch_icmp_rtt_average_seconds");
    assert!(
        rtt[0].1.as_f64() > 0.001 && rtt[0].1.as_f64() < 0.01,
        "{rtt:?}"
    );
    assert!(
        samples(&f, "mikrotik_netwatch_tcp_connect_seconds").is_empty(),
        "the down TCP host has no connect time"
    );
    let code = samples(&f, "mikrotik_netwatch_http_status_code");
    assert_eq!(code.len(), 1);
    assert_eq!(code[0].1.as_f64(), 200.0);
    assert_eq!(samples(&f, "mikrotik_netwatch_host_info").len(), 5);
}

#[tokio::test]
async fn v6_hosts_are_simple_pings() {
    let (result, _, _) = run(RouterConfig::v6("r6")).await;
    let f = result.expect("netwatch collects");
    group::assert_no_duplicate_series(&f);
    let up = samples(&f, "mikrotik_netwatch_host_up");
    assert_eq!(up.len(), 4);
    assert!(up.iter().all(|(l, _)| l[1].is_empty() && l[2] == "simple"));
    assert_eq!(up[1].1.as_f64(), 0.0);
    assert!(samples(&f, "mikrotik_netwatch_icmp_rtt_average_seconds").is_empty());
    let info = samples(&f, "mikrotik_netwatch_host_info");
    assert_eq!(info[0].0[3], "uplink 1");
}

#[tokio::test]
async fn boards_without_netwatch_have_no_series_and_big_ones_the_same_commands() {
    for router in [RouterConfig::v7("chr"), RouterConfig::v6("chr6")] {
        let (result, commands, _) = run(with_board(router, Board::Chr)).await;
        let f = result.expect("no hosts is not a failure");
        assert!(f.iter().all(|f| f.samples.is_empty()));
        assert_eq!(commands, 2);
    }
    let (result, commands, _) = run(with_board(RouterConfig::v7("core"), Board::Core)).await;
    let f = result.expect("netwatch collects");
    assert_eq!(samples(&f, "mikrotik_netwatch_host_info").len(), 50);
    assert_eq!(samples(&f, "mikrotik_netwatch_host_up").len(), 49);
    assert_eq!(commands, 2);
}

#[tokio::test]
async fn a_restricted_user_fails_with_the_routers_reason() {
    let mut router = RouterConfig::v7("r7");
    router.faults.denied_menus = vec!["/tool/netwatch".into()];
    match run(router).await.0 {
        Err(GroupError::Failed(e)) => {
            assert!(e.to_string().contains("not enough permissions"), "{e}")
        }
        other => panic!("expected Failed, got {other:?}"),
    }
}
