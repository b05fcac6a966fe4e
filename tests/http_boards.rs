//! `/probe?module=full` through the HTTP layer on every simulated board kind
//! (a CHR without sensors, SFP, PoE, LTE or radio; a PoE switch; an LTE CPE;
//! access points; a CAPsMAN controller; a PPPoE concentrator) and on RouterOS
//! 7.16, 7.12 (the wifiwave2 era) and 6.49: hardware a board lacks makes a
//! group unsupported or empty, never failed, so every probe succeeds. A user
//! whose group policy denies the access menus gets those groups failed with
//! the router's `not enough permissions`, and the others still report.

#[allow(dead_code)]
mod support;

use routeros_exporter::http::App;
use routeros_exporter::probe::ProberOptions;
use routeros_sim::menus::Board;
use routeros_sim::{RouterConfig, SimConfig, Simulator, Version};
use std::collections::BTreeSet;
use std::fmt::Write;
use support::exposition::parse_exposition;
use support::group::commands_sent;
use support::harness::{PASSWORD, load, router_config, serve};
use support::http::Client;

const VERSIONS: [Version; 3] = [
    Version::new(7, 16, 0),
    Version::new(7, 12, 1),
    Version::new(6, 49, 10),
];

/// Menus a restricted user may not read in [`a_restricted_user_fails_only_the_denied_groups`].
const DENIED: &[&str] = &["/ip/dhcp-server", "/ppp", "/interface/ethernet/poe"];

/// A config naming every router of `sim` as a target of the same name.
fn config_for(sim: &Simulator) -> String {
    let mut text =
        format!("auths:\n  main:\n    username: admin\n    password: \"{PASSWORD}\"\ntargets:\n");
    for router in sim.routers() {
        let _ = write!(
            text,
            "  {}:\n    address: \"{}\"\n    auth: main\n",
            router.name(),
            router.addr()
        );
    }
    text
}

/// Starts `routers`, serves an exporter for them and returns a client.
async fn exporter(routers: Vec<RouterConfig>) -> (Simulator, Client, tempfile::TempDir) {
    let sim = Simulator::start(SimConfig { routers })
        .await
        .expect("simulator starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("exporter.yml");
    std::fs::write(&path, config_for(&sim)).expect("write config");
    let app = App::new(load(&path), ProberOptions::default());
    let addr = serve(app).await;
    (sim, Client::new(addr, PASSWORD), dir)
}

#[tokio::test]
async fn full_succeeds_on_every_board_and_version() {
    let mut routers = Vec::new();
    for board in Board::ALL {
        for version in VERSIONS {
            let name = format!("{board}-{version}");
            let mut router = router_config(RouterConfig::v7(name).with_version(version));
            router.scale = board.scale();
            routers.push(router);
        }
    }
    let (sim, http, _dir) = exporter(routers).await;
    for router in sim.routers() {
        let name = router.name();
        let r = http.get(&format!("/probe?target={name}&module=full")).await;
        assert_eq!(r.status, 200, "{name}: {}", r.text());
        let exposition = parse_exposition(&r.text(), false);
        assert_eq!(
            exposition.must("mikrotik_probe_success", &[]),
            1.0,
            "{name}: {}",
            r.text()
        );
        let failed: Vec<&String> = exposition
            .all("mikrotik_collector_success")
            .iter()
            .filter(|(_, v)| *v != 1.0)
            .filter_map(|(labels, _)| labels.get("collector"))
            .collect();
        assert!(failed.is_empty(), "{name}: failed collectors {failed:?}");
    }
}

#[tokio::test]
async fn a_restricted_user_fails_only_the_denied_groups() {
    let mut router = router_config(RouterConfig::v7("restricted"));
    router.faults.denied_menus = DENIED.iter().map(|m| m.to_string()).collect();
    let (_sim, http, _dir) = exporter(vec![router]).await;
    let r = http
        .get("/probe?target=restricted&module=full&debug=true")
        .await;
    assert_eq!(r.status, 200);
    let report = r.text();
    assert!(report.contains("not enough permissions"), "{report}");
    let r = http.get("/probe?target=restricted&module=full").await;
    let exposition = parse_exposition(&r.text(), false);
    assert_eq!(exposition.must("mikrotik_probe_success", &[]), 0.0);
    let failed: BTreeSet<&str> = exposition
        .all("mikrotik_collector_success")
        .iter()
        .filter(|(_, v)| *v == 0.0)
        .filter_map(|(labels, _)| labels.get("collector").map(String::as_str))
        .collect();
    assert_eq!(failed, BTreeSet::from(["dhcp", "poe", "ppp"]));
    assert_eq!(
        exposition.must("mikrotik_collector_success", &[("collector", "system")]),
        1.0
    );
}

/// Which menus a router has (its version, its wireless package) is asked once
/// per target: later probes send fewer commands than the first, until the
/// router reboots; the probe after the one that saw the reboot asks again.
#[tokio::test]
async fn menu_detection_is_remembered_until_the_router_reboots() {
    let (sim, http, _dir) = exporter(vec![router_config(RouterConfig::v7("r"))]).await;
    let router = sim.routers()[0].clone();
    let mut per_probe = Vec::new();
    for i in 0..5 {
        if i == 2 {
            router.reboot();
        }
        let before = commands_sent(&router);
        let r = http.get("/probe?target=r&module=full").await;
        assert_eq!(r.status, 200);
        per_probe.push(commands_sent(&router) - before);
    }
    // 0: detects; 1: remembers; 2: sees the reboot (still remembers while it
    // runs); 3: detects again; 4: remembers.
    let [first, second, third, fourth, fifth] = per_probe[..] else {
        unreachable!()
    };
    assert!(first > second, "{per_probe:?}");
    assert_eq!(
        (third, fourth, fifth),
        (second, first, second),
        "{per_probe:?}"
    );
}

/// How many samples of `name` have the value `value`.
fn count_valued(exposition: &support::exposition::Exposition, name: &str, value: f64) -> usize {
    exposition
        .all(name)
        .iter()
        .filter(|(_, v)| *v == value)
        .count()
}

/// The core board through `/probe` on RouterOS 7 and 6: two full BGP tables
/// are counted, and what is down (a BGP peer, an OSPF neighbour stuck in
/// Init, a netwatch host, an IPsec policy) keeps its series at 0.
#[tokio::test]
async fn a_core_router_reports_what_is_down_and_counts_two_million_routes() {
    let mut routers = Vec::new();
    for version in [VERSIONS[0], VERSIONS[2]] {
        let mut router = router_config(RouterConfig::v7(format!("core-{version}")));
        router = router.with_version(version);
        router.scale = Board::Core.scale();
        routers.push(router);
    }
    let (sim, http, _dir) = exporter(routers).await;
    for router in sim.routers() {
        let name = router.name();
        let r = http.get(&format!("/probe?target={name}&module=full")).await;
        let e = parse_exposition(&r.text(), false);
        assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0, "{name}");
        let established = "mikrotik_bgp_session_established";
        assert_eq!(e.all(established).len(), 50, "{name}");
        assert_eq!(
            count_valued(&e, established, 0.0),
            1,
            "{name}: one peer down"
        );
        let init = e
            .all("mikrotik_ospf_neighbor_state")
            .iter()
            .filter(|(l, v)| *v == 1.0 && l.get("state").map(String::as_str) == Some("Init"))
            .count();
        assert_eq!(init, 1, "{name}: one neighbour stuck in Init");
        assert!(
            count_valued(&e, "mikrotik_netwatch_host_up", 0.0) >= 1,
            "{name}"
        );
        let not_established = e
            .all("mikrotik_ipsec_policy_ph2_state")
            .iter()
            .filter(|(l, v)| *v == 0.0 && l.get("state").map(String::as_str) == Some("established"))
            .count();
        assert!(not_established >= 1, "{name}: one policy not established");
        let routes: f64 = e
            .all("mikrotik_route_routes")
            .iter()
            .filter(|(l, _)| l.get("family").map(String::as_str) == Some("ipv4"))
            .map(|(_, v)| v)
            .sum();
        assert_eq!(routes, 2_000_000.0, "{name}");
    }
}
