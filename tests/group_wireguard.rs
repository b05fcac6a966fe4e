//! The `wireguard` group against the simulator: peers on RouterOS 7, unsupported
//! on RouterOS 6, and never a key column in the command; a roaming peer keeps
//! its series (the info's endpoint is the configured one).

#[allow(dead_code)]
mod support;

use routeros::Command;
use routeros_exporter::collect::family::Family;
use routeros_exporter::collect::{GroupError, Trace};
use routeros_sim::{RouterConfig, SimConfig, Simulator};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::group::{self, Probe, samples};
use support::menus;
use tokio::time::Instant;

async fn collect(
    mut router: RouterConfig,
    settle: Duration,
) -> (Result<Vec<Family>, GroupError>, Vec<String>, i64) {
    // Simulated peer `k` completes its first handshake 5 s + 3k s after boot:
    // start the router as if it had been up that long.
    router.initial_uptime = settle;
    let sim = group::simulator(router).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::connect(sim, deadline).await;
    let now_unix = group::now_unix();
    let trace = Arc::new(Trace::new(true));
    let ctx = probe.context(
        group::module("wireguard"),
        deadline,
        trace.clone(),
        now_unix,
    );
    let result = group::collect("wireguard", &ctx).await;
    (result, trace.lines(), now_unix)
}

#[tokio::test]
async fn v7_peers_with_a_never_handshook_one() {
    let router = RouterConfig::v7("r7");
    let peers = router.scale.wireguard_peers;
    // Wait until all but the never-connecting last peer have shaken hands.
    let settle = Duration::from_secs(5 + 3 * (peers as u64 - 2) + 1);
    let (result, trace, now) = collect(router, settle).await;
    let f = result.expect("wireguard collects on v7");
    group::assert_no_duplicate_series(&f);
    let rx = samples(&f, "mikrotik_wireguard_peer_rx_bytes");
    assert_eq!(rx.len(), peers);
    assert_eq!(rx[0].0, ["wireguard1", "peer1"]);
    assert_eq!(samples(&f, "mikrotik_wireguard_peer_tx_bytes").len(), peers);
    // The simulator's last peer never completed a handshake.
    let hs = samples(&f, "mikrotik_wireguard_peer_latest_handshake");
    assert_eq!(hs.len(), peers - 1);
    assert!(hs.iter().all(|(l, _)| l[1] != format!("peer{peers}")));
    assert!(
        hs.iter()
            .all(|(_, v)| v.as_f64() <= now as f64 && v.as_f64() > 0.0)
    );
    let info = samples(&f, "mikrotik_wireguard_peer_info");
    assert_eq!(info.len(), peers);
    let site = info
        .iter()
        .find(|(l, _)| l[4] == "site 2")
        .expect("site peer");
    assert_eq!(site.0[3], "203.0.113.2:51820");
    // Road warriors have no configured endpoint, wherever they are now.
    assert!(info[0].0[3].is_empty(), "{:?}", info[0]);
    assert!(info[peers - 1].0[3].is_empty(), "no endpoint known");
    assert!(info.iter().all(|(l, _)| l[6] == "false"));
    assert!(!trace.is_empty());
    assert!(trace.iter().all(|line| !line.contains("key")), "{trace:?}");
}

#[tokio::test]
async fn unsupported_on_v6() {
    let (result, _, _) = collect(RouterConfig::v6("r6"), Duration::ZERO).await;
    assert!(
        matches!(result, Err(GroupError::Unsupported(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn roaming_peers_keep_their_series() {
    let (menus, shift) = menus::with_shifted("/interface/wireguard/peers");
    let mut router = RouterConfig::v7("r7");
    router.initial_uptime = Duration::from_secs(3_600);
    let sim = Simulator::start_with_menus(
        SimConfig {
            routers: vec![router],
        },
        menus,
    )
    .await
    .expect("simulator starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::connect(sim, deadline).await;
    let raw = Command::new("/interface/wireguard/peers/print")
        .proplist(&["current-endpoint-address", "current-endpoint-port"]);
    let mut series = Vec::new();
    let mut current = Vec::new();
    for later in [0, 3_600] {
        shift.store(later, Ordering::SeqCst);
        let rows = probe.session.rows(&raw, deadline).await.expect("raw print");
        current.push(rows.iter().map(|r| format!("{r:?}")).collect::<Vec<_>>());
        let ctx = probe.context(
            group::module("wireguard"),
            deadline,
            Arc::new(Trace::new(false)),
            group::now_unix(),
        );
        let f = group::collect("wireguard", &ctx).await.expect("collects");
        let mut names: Vec<_> = f
            .iter()
            .flat_map(|f| f.samples.iter().map(|s| (f.desc.name, s.label_strings())))
            .collect();
        names.sort();
        series.push(names);
    }
    assert_ne!(current[0], current[1], "the road warrior moved");
    assert_eq!(series[0], series[1]);
}
