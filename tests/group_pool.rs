//! The `pool` group against the simulator: sizes and used counts of IPv4 and
//! IPv6 pools on both versions, boards with and without clients, the
//! restricted user, and a number of commands that does not grow with the
//! addresses in use.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::family::Family;
use routeros_exporter::collect::{GroupError, Trace};
use routeros_sim::RouterConfig;
use routeros_sim::menus::Board;
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe, samples};
use tokio::time::Instant;

/// One collection of the group: its result and the commands the router saw.
struct Run {
    result: Result<Vec<Family>, GroupError>,
    commands: u64,
}

async fn run(router: RouterConfig) -> Run {
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::start(router, deadline).await;
    let ctx = probe.context(
        group::module("pool"),
        deadline,
        Arc::new(Trace::new(false)),
        group::now_unix(),
    );
    let result = group::collect("pool", &ctx).await;
    let commands = group::commands_sent(&probe.sim.routers()[0]);
    Run { result, commands }
}

/// The value of `metric` for `family`/`pool`.
fn value(f: &[Family], metric: &str, family: &str, pool: &str) -> Option<f64> {
    samples(f, metric)
        .into_iter()
        .find(|(l, _)| l == &[family, pool])
        .map(|(_, v)| v.as_f64())
}

#[tokio::test]
async fn lab_sizes_and_used_counts_on_both_versions() {
    for router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        let run = run(router).await;
        let f = run.result.expect("pool collects");
        group::assert_no_duplicate_series(&f);
        let expected = [
            // family, pool, size, used: the used counts follow the
            // simulator's leases (bound or offered), bindings and PPP sessions.
            ("ipv4", "dhcp-lan", 245.0, 10.0),
            ("ipv4", "dhcp-guest", 228.0, 5.0),
            ("ipv4", "guest-overflow", 256.0, 0.0),
            ("ipv4", "ppp", 4_096.0, 3.0),
            ("ipv6", "pd-lan", 256.0, 4.0),
        ];
        for (family, pool, size, used) in expected {
            let size_of = value(&f, "mikrotik_pool_size", family, pool);
            assert_eq!(size_of, Some(size), "{pool}");
            let used_of = value(&f, "mikrotik_pool_used", family, pool);
            assert_eq!(used_of, Some(used), "{pool}");
        }
        assert_eq!(samples(&f, "mikrotik_pool_size").len(), expected.len());
        // Two pool prints and one count per pool.
        assert_eq!(run.commands, 2 + 5);
    }
}

#[tokio::test]
async fn boards_with_and_without_clients() {
    let mut pppoe = RouterConfig::v7("pppoe");
    pppoe.scale = Board::PppoeConcentrator.scale();
    let f = run(pppoe).await.result.expect("pool collects");
    assert_eq!(
        value(&f, "mikrotik_pool_used", "ipv4", "ppp"),
        Some(2_000.0)
    );
    for router in [RouterConfig::v7("chr"), RouterConfig::v6("chr6")] {
        let mut chr = router;
        chr.scale = Board::Chr.scale();
        let f = run(chr)
            .await
            .result
            .expect("empty pools are not a failure");
        let used = samples(&f, "mikrotik_pool_used");
        assert_eq!(used.len(), 5);
        assert!(used.iter().all(|(_, v)| v.as_f64() == 0.0));
    }
}

#[tokio::test]
async fn commands_do_not_grow_with_addresses_in_use() {
    let mut big = RouterConfig::v7("big");
    big.scale.dhcp_leases = 200;
    big.scale.ppp_sessions = 2_000;
    let run = run(big).await;
    let f = run.result.expect("pool collects");
    assert_eq!(
        value(&f, "mikrotik_pool_used", "ipv4", "ppp"),
        Some(2_000.0)
    );
    assert_eq!(run.commands, 7);
}

#[tokio::test]
async fn restricted_user_fails_with_the_routers_reason() {
    for denied in ["/ip/pool", "/ipv6/pool/used"] {
        let mut router = RouterConfig::v7("r");
        router.faults.denied_menus = vec![denied.into()];
        match run(router).await.result {
            Err(GroupError::Failed(e)) => {
                assert!(e.to_string().contains("not enough permissions"), "{e}");
            }
            other => panic!("{denied}: {other:?}"),
        }
    }
}
