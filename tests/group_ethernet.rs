//! The `ethernet` group against the simulator: link state and SFP optics on
//! RouterOS 6 (values with units) and 7 (plain numbers), boards with and
//! without SFP cages, a user without the policy, and ONE monitor command per
//! probe however many ports the router has.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::family::Family;
use routeros_exporter::collect::{GroupError, Trace};
use routeros_sim::RouterConfig;
use routeros_sim::menus::Board;
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe, samples, value_by_first_label};
use tokio::time::Instant;

const LINK_UP: &str = "mikrotik_ethernet_link_up";
const RATE: &str = "mikrotik_ethernet_rate_bps";
const PRESENT: &str = "mikrotik_ethernet_sfp_module_present";
const RX_POWER: &str = "mikrotik_ethernet_sfp_rx_power_dbm";
const TEMPERATURE: &str = "mikrotik_ethernet_sfp_temperature_celsius";
const INFO: &str = "mikrotik_ethernet_sfp_info";

/// The optics families (all but the link ones).
const OPTICS: [&str; 9] = [
    PRESENT,
    "mikrotik_ethernet_sfp_rx_loss",
    "mikrotik_ethernet_sfp_tx_fault",
    TEMPERATURE,
    "mikrotik_ethernet_sfp_supply_voltage_volts",
    "mikrotik_ethernet_sfp_tx_bias_current_amperes",
    "mikrotik_ethernet_sfp_tx_power_dbm",
    RX_POWER,
    INFO,
];

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(20)
}

/// Starts `router` ten minutes after its boot (every link that comes up is
/// up, no flap under way) and runs the group `probes` times on one session;
/// returns the last result, its debug trace and the router's monitor command
/// count.
async fn collect(
    mut router: RouterConfig,
    probes: usize,
) -> (Result<Vec<Family>, GroupError>, Vec<String>, u64) {
    router.initial_uptime = Duration::from_secs(600);
    let probe = Probe::start(router, deadline()).await;
    let mut last = Err(GroupError::Unsupported("not run".into()));
    let mut trace = Vec::new();
    for _ in 0..probes {
        let t = Arc::new(Trace::new(true));
        let ctx = probe.context(
            group::module("ethernet"),
            deadline(),
            t.clone(),
            group::now_unix(),
        );
        last = group::collect("ethernet", &ctx).await;
        trace = t.lines();
    }
    let stats = probe.sim.routers()[0].stats();
    let monitors = stats
        .commands
        .get("/interface/ethernet/monitor")
        .copied()
        .unwrap_or_default();
    (last, trace, monitors)
}

fn names(families: &[Family], metric: &str) -> Vec<String> {
    samples(families, metric)
        .into_iter()
        .map(|(labels, _)| labels[0].clone())
        .collect()
}

async fn lab_router(router: RouterConfig) {
    let (result, trace, monitors) = collect(router, 1).await;
    let f = result.expect("ethernet collects");
    group::assert_no_duplicate_series(&f);
    assert_eq!(monitors, 1);
    // ether8 is disabled: no series; ether7 never came up: 0 from the print.
    let up = names(&f, LINK_UP);
    assert_eq!(up.len(), 7 + 2, "{up:?}");
    assert!(!up.contains(&"ether8".to_string()));
    assert_eq!(value_by_first_label(&f, LINK_UP, "ether7"), Some(0.0));
    assert_eq!(value_by_first_label(&f, LINK_UP, "ether1"), Some(1.0));
    assert_eq!(value_by_first_label(&f, RATE, "ether1"), Some(1e9));
    assert_eq!(value_by_first_label(&f, RATE, "ether3"), Some(100e6));
    assert_eq!(value_by_first_label(&f, RATE, "sfp-sfpplus1"), Some(10e9));
    assert_eq!(value_by_first_label(&f, PRESENT, "sfp-sfpplus1"), Some(1.0));
    assert_eq!(value_by_first_label(&f, PRESENT, "sfp-sfpplus2"), Some(0.0));
    let temperature = value_by_first_label(&f, TEMPERATURE, "sfp-sfpplus1");
    assert!(
        temperature.is_some_and(|t| (30.0..50.0).contains(&t)),
        "{temperature:?}"
    );
    let rx = value_by_first_label(&f, RX_POWER, "sfp-sfpplus1");
    assert!(rx.is_some_and(|p| (-5.0..-3.0).contains(&p)), "{rx:?}");
    let info = samples(&f, INFO);
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].0[3], "MikroTik");
    assert_eq!(info[0].0[8], "1310", "wavelength without unit");
    // The print names the ports with a small proplist; the monitor covers the
    // running ports and the empty cage, by `.id`, with its proplist.
    let print = trace
        .iter()
        .find(|l| l.contains("/interface/ethernet/print"));
    assert!(
        print.is_some_and(|l| l.contains("=.proplist=.id,name,default-name,running,disabled")),
        "{trace:?}"
    );
    let monitor = trace
        .iter()
        .find(|l| l.contains("/interface/ethernet/monitor"))
        .expect("monitor in trace");
    assert!(monitor.contains("=numbers=*"), "by .id: {monitor}");
    assert!(monitor.contains("=once=") && monitor.contains("=.proplist=name,status"));
    assert!(
        monitor.contains("-> 8 rows"),
        "6 running ethers, 2 cages: {monitor}"
    );
}

#[tokio::test]
async fn v7_lab_router_links_and_optics() {
    lab_router(RouterConfig::v7("r7")).await;
}

#[tokio::test]
async fn v6_lab_router_reads_values_with_units() {
    lab_router(RouterConfig::v6("r6")).await;
}

#[tokio::test]
async fn one_monitor_per_probe_at_fifty_ports() {
    let mut router = RouterConfig::v7("r7");
    router.scale.interfaces = 50;
    let (result, _, monitors) = collect(router, 3).await;
    let f = result.expect("ethernet collects");
    assert_eq!(monitors, 3, "one monitor per probe");
    assert_eq!(names(&f, LINK_UP).len(), 49 + 2);
}

#[tokio::test]
async fn chr_has_links_but_no_optics() {
    for mut router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        router.scale = Board::Chr.scale();
        let (result, _, _) = collect(router, 1).await;
        let f = result.expect("ethernet collects on CHR");
        assert_eq!(names(&f, LINK_UP), ["ether1", "ether2"]);
        assert_eq!(names(&f, RATE).len(), 2);
        for metric in OPTICS {
            assert!(samples(&f, metric).is_empty(), "{metric} on CHR");
        }
    }
}

#[tokio::test]
async fn ccr_has_one_full_and_one_empty_cage() {
    for mut router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        router.scale = Board::Ccr.scale();
        let (result, _, monitors) = collect(router, 1).await;
        let f = result.expect("ethernet collects on a CCR");
        assert_eq!(monitors, 1);
        let present: Vec<(String, f64)> = samples(&f, PRESENT)
            .into_iter()
            .map(|(l, v)| (l[0].clone(), v.as_f64()))
            .collect();
        assert_eq!(
            present,
            [("sfp-sfpplus1".into(), 1.0), ("sfp-sfpplus2".into(), 0.0)]
        );
        assert_eq!(value_by_first_label(&f, LINK_UP, "sfp-sfpplus2"), Some(0.0));
        for metric in &OPTICS[1..] {
            assert_eq!(names(&f, metric), ["sfp-sfpplus1"], "{metric}");
        }
    }
}

#[tokio::test]
async fn a_user_without_the_policy_fails_with_the_routers_reason() {
    let mut router = RouterConfig::v7("r7");
    router.faults.denied_menus = vec!["/interface/ethernet".into()];
    let (result, _, monitors) = collect(router, 1).await;
    match result {
        Err(GroupError::Failed(e)) => {
            assert!(e.to_string().contains("not enough permissions"), "{e}")
        }
        other => panic!("expected a permission failure, got {other:?}"),
    }
    assert_eq!(monitors, 0);
}
