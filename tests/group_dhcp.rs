//! The `dhcp` group against the simulator: lease counts per server and status
//! on both versions, DHCPv6 bindings, pool sizes, boards with and without
//! leases, the restricted user, the per-lease opt-in, and a number of
//! commands that does not grow with the leases.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::family::Family;
use routeros_exporter::collect::{GroupError, Trace};
use routeros_exporter::config::ClientSeries;
use routeros_sim::RouterConfig;
use routeros_sim::menus::Board;
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe, samples, with_board};
use tokio::time::Instant;

/// One collection of the group: its result and the commands the router saw.
struct Run {
    result: Result<Vec<Family>, GroupError>,
    commands: u64,
}

async fn run(router: RouterConfig, clients: ClientSeries) -> Run {
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::start(router, deadline).await;
    let mut module = group::module("dhcp");
    module.clients = clients;
    let ctx = probe.context(
        module,
        deadline,
        Arc::new(Trace::new(false)),
        group::now_unix(),
    );
    let result = group::collect("dhcp", &ctx).await;
    let commands = group::commands_sent(&probe.sim.routers()[0]);
    Run { result, commands }
}

/// The count of `family`/`server`/`status`.
fn leases(f: &[Family], family: &str, server: &str, status: &str) -> Option<f64> {
    samples(f, "mikrotik_dhcp_leases")
        .into_iter()
        .find(|(l, _)| l == &[family, server, status])
        .map(|(_, v)| v.as_f64())
}

#[tokio::test]
async fn lab_counts_per_server_and_status_on_both_versions() {
    for router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        let run = run(router, ClientSeries::Aggregate).await;
        let f = run.result.expect("dhcp collects");
        group::assert_no_duplicate_series(&f);
        // The simulator's 20 leases: 14 on defconf, 6 on guest.
        let defconf = [
            ("bound", 9.0),
            ("waiting", 2.0),
            ("offered", 1.0),
            ("busy", 1.0),
            ("other", 1.0),
        ];
        for (status, n) in defconf {
            assert_eq!(leases(&f, "ipv4", "defconf", status), Some(n), "{status}");
        }
        let guest = [
            ("bound", 4.0),
            ("offered", 1.0),
            ("busy", 1.0),
            ("other", 0.0),
        ];
        for (status, n) in guest {
            assert_eq!(leases(&f, "ipv4", "guest", status), Some(n), "{status}");
        }
        let v6 = [
            ("bound", 3.0),
            ("waiting", 1.0),
            ("offered", 1.0),
            ("other", 0.0),
        ];
        for (status, n) in v6 {
            assert_eq!(
                leases(&f, "ipv6", "dhcpv6-lan", status),
                Some(n),
                "{status}"
            );
        }
        let sizes = samples(&f, "mikrotik_dhcp_server_pool_size");
        let size = |family: &str, server: &str| {
            sizes
                .iter()
                .find(|(l, _)| l == &[family, server])
                .map(|(_, v)| v.as_f64())
        };
        assert_eq!(size("ipv4", "defconf"), Some(245.0));
        assert_eq!(size("ipv4", "guest"), Some(228.0));
        assert_eq!(size("ipv6", "dhcpv6-lan"), Some(256.0));
        let info = samples(&f, "mikrotik_dhcp_server_info");
        assert_eq!(info.len(), 3);
        assert!(
            info.iter()
                .any(|(l, _)| l[..4] == ["ipv4", "guest", "vlan100", "dhcp-guest"])
        );
        assert!(
            samples(&f, "mikrotik_dhcp_lease_info").is_empty(),
            "opt-in only"
        );
        // 2 server prints, 5 counts per DHCPv4 server, 4 for the DHCPv6 one,
        // 2 pool prints.
        assert_eq!(run.commands, 2 + 2 * 5 + 4 + 2);
    }
}

#[tokio::test]
async fn per_lease_series_are_an_opt_in() {
    for router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        let run = run(router, ClientSeries::PerClient).await;
        let f = run.result.expect("dhcp collects");
        group::assert_no_duplicate_series(&f);
        let info = samples(&f, "mikrotik_dhcp_lease_info");
        assert_eq!(info.len(), 20);
        // Bound, offered and busy leases expire; both duration styles parse.
        let expires = samples(&f, "mikrotik_dhcp_lease_expires_after_seconds");
        assert_eq!(expires.len(), 17);
        assert!(expires.iter().all(|(_, v)| v.as_f64() > 0.0));
        assert!(
            expires.iter().any(|(_, v)| v.as_f64() > 86_400.0),
            "3-day leases"
        );
        // Lease 2's CP1251 host name, its bytes kept as Latin-1.
        let cyrillic = info
            .iter()
            .find(|(l, _)| l[1] == "4C:5E:0C:00:00:02")
            .expect("lease 2");
        assert_eq!(
            cyrillic.0[2].chars().count(),
            "ноутбук-Маши".chars().count()
        );
        assert!(cyrillic.0[2].contains('í'), "{:?}", cyrillic.0[2]);
        assert_eq!(cyrillic.0[0], "guest");
        assert_eq!(run.commands, 2 + 2 * 5 + 4 + 2 + 1);
    }
}

#[tokio::test]
async fn boards_with_and_without_leases() {
    let ccr = run(
        with_board(RouterConfig::v7("ccr"), Board::Ccr),
        ClientSeries::Aggregate,
    )
    .await;
    let f = ccr.result.expect("dhcp collects on a CCR");
    assert_eq!(leases(&f, "ipv4", "defconf", "bound"), Some(9.0));
    // CHR: servers but no lease or binding: every count is a zero sample.
    for router in [RouterConfig::v7("chr"), RouterConfig::v6("chr6")] {
        let chr = run(with_board(router, Board::Chr), ClientSeries::PerClient).await;
        let f = chr.result.expect("no leases is not a failure");
        let counts = samples(&f, "mikrotik_dhcp_leases");
        assert_eq!(counts.len(), 2 * 5 + 4);
        assert!(counts.iter().all(|(_, v)| v.as_f64() == 0.0));
        assert!(samples(&f, "mikrotik_dhcp_lease_info").is_empty());
    }
}

#[tokio::test]
async fn commands_do_not_grow_with_leases() {
    let mut big = RouterConfig::v7("big");
    big.scale.dhcp_leases = 200;
    let aggregate = run(big.clone(), ClientSeries::Aggregate).await;
    let f = aggregate.result.expect("dhcp collects");
    let total: f64 = samples(&f, "mikrotik_dhcp_leases")
        .iter()
        .filter(|(l, _)| l[0] == "ipv4")
        .map(|(_, v)| v.as_f64())
        .sum();
    assert_eq!(total, 200.0, "the statuses of a server sum to its leases");
    assert_eq!(aggregate.commands, 18);
    let per_lease = run(big, ClientSeries::PerClient).await;
    let f = per_lease.result.expect("dhcp collects");
    assert_eq!(samples(&f, "mikrotik_dhcp_lease_info").len(), 200);
    assert_eq!(per_lease.commands, 19);
}

#[tokio::test]
async fn restricted_user_fails_with_the_routers_reason() {
    for denied in ["/ip/dhcp-server", "/ipv6/dhcp-server"] {
        let mut router = RouterConfig::v7("r");
        router.faults.denied_menus = vec![denied.into()];
        let run = run(router, ClientSeries::Aggregate).await;
        match run.result {
            Err(GroupError::Failed(e)) => {
                assert!(e.to_string().contains("not enough permissions"), "{e}");
            }
            other => panic!("{denied}: {other:?}"),
        }
    }
}
