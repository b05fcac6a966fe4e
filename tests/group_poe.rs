//! The `poe` group against the simulator: PoE ports of the lab board and a
//! 24-port switch on RouterOS 6 and 7, none on boards without PoE, one
//! batched `monitor` per probe however many ports, and a restricted user.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::family::{Family, Value};
use routeros_exporter::collect::{GroupError, Trace};
use routeros_sim::RouterConfig;
use routeros_sim::menus::{Board, Scale};
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe, samples, value_by_first_label};
use tokio::time::Instant;

const MONITOR: &str = "/interface/ethernet/poe/monitor";

/// Runs the group `probes` times on one router; the last result, the debug
/// trace and how many PoE monitor commands the router saw.
async fn collect(
    router: RouterConfig,
    probes: usize,
) -> (Result<Vec<Family>, GroupError>, Vec<String>, u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::start(router, deadline).await;
    let trace = Arc::new(Trace::new(true));
    let mut result = Err(GroupError::Unsupported("not run".into()));
    for _ in 0..probes {
        let ctx = probe.context(
            group::module("poe"),
            deadline,
            trace.clone(),
            group::now_unix(),
        );
        result = group::collect("poe", &ctx).await;
    }
    let stats = probe.sim.routers()[0].stats();
    let monitors = stats.commands.get(MONITOR).copied().unwrap_or_default();
    (result, trace.lines(), monitors)
}

fn on_board(router: RouterConfig, scale: Scale) -> RouterConfig {
    RouterConfig { scale, ..router }
}

/// The status whose sample is 1 for each port, in port order.
fn states(f: &[Family]) -> Vec<(String, String)> {
    samples(f, "mikrotik_poe_out_status")
        .into_iter()
        .filter(|(_, v)| *v == Value::Int(1))
        .map(|(l, _)| (l[0].clone(), l[1].clone()))
        .collect()
}

#[tokio::test]
async fn lab_board_on_v7_and_v6() {
    for router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        let (result, trace, monitors) = collect(router, 1).await;
        let f = result.expect("poe collects");
        group::assert_no_duplicate_series(&f);
        assert_eq!(
            states(&f),
            [
                ("ether1".into(), "powered-on".into()),
                ("ether2".into(), "waiting-for-load".into())
            ]
        );
        let volts = value_by_first_label(&f, "mikrotik_poe_out_voltage_volts", "ether1");
        assert!(
            volts.is_some_and(|v| (50.0..56.0).contains(&v)),
            "{volts:?}"
        );
        let amps = value_by_first_label(&f, "mikrotik_poe_out_current_amperes", "ether1");
        assert!(amps.is_some_and(|a| a > 0.01 && a < 1.0), "{amps:?}");
        let watts = value_by_first_label(&f, "mikrotik_poe_out_power_watts", "ether1");
        assert!(watts.is_some_and(|w| w > 0.5 && w < 60.0), "{watts:?}");
        assert!(value_by_first_label(&f, "mikrotik_poe_out_voltage_volts", "ether2").is_none());
        assert_eq!(monitors, 1);
        assert!(
            trace.iter().any(|l| l.contains("=numbers=*1,*2")),
            "{trace:?}"
        );
    }
}

#[tokio::test]
async fn poe_switch_reports_every_state_and_skips_ports_that_are_off() {
    let router = on_board(RouterConfig::v7("sw"), Board::PoeSwitch.scale());
    let (result, trace, monitors) = collect(router, 1).await;
    let f = result.expect("poe collects");
    group::assert_no_duplicate_series(&f);
    let states = states(&f);
    assert_eq!(states.len(), 24);
    assert_eq!(states[3], ("ether4".into(), "short-circuit".into()));
    assert_eq!(states[5], ("ether6".into(), "disabled".into()));
    assert_eq!(monitors, 1);
    let monitor = trace
        .iter()
        .find(|l| l.contains(MONITOR))
        .expect("monitor traced");
    // The port set to `poe-out=off` is not asked about.
    assert!(monitor.contains("*5,*7"), "{monitor}");
    assert!(
        monitor.contains(".proplist=name,poe-out-status"),
        "{monitor}"
    );
    let info = samples(&f, "mikrotik_poe_out_info");
    assert_eq!(info[2].0, ["ether3", "forced-on"]);
    assert_eq!(info[5].0, ["ether6", "off"]);
}

#[tokio::test]
async fn fifty_ports_cost_one_monitor_per_probe_and_unknown_states_are_kept() {
    let mut router = RouterConfig::v7("big");
    router.scale.interfaces = 50;
    router.scale.poe_ports = 50;
    let (result, _, monitors) = collect(router, 3).await;
    let f = result.expect("poe collects");
    assert_eq!(monitors, 3, "one monitor per probe for 50 ports");
    let states = states(&f);
    assert_eq!(states.len(), 50);
    assert_eq!(states[31], ("ether32".into(), "power-reset".into()));
}

#[tokio::test]
async fn boards_without_poe_emit_nothing_and_send_no_monitor() {
    for board in [Board::Ccr, Board::Chr] {
        for router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
            let (result, _, monitors) = collect(on_board(router, board.scale()), 1).await;
            match result {
                Ok(f) => assert!(f.iter().all(|f| f.samples.is_empty()), "{board}"),
                Err(GroupError::Unsupported(_)) => {}
                Err(e) => panic!("{board}: {e:?}"),
            }
            assert_eq!(monitors, 0, "{board}");
        }
    }
}

#[tokio::test]
async fn a_user_without_the_policy_fails_with_the_routers_reason() {
    let mut router = RouterConfig::v7("r");
    router.faults.denied_menus = vec!["/interface/ethernet/poe".into()];
    let (result, _, _) = collect(router, 1).await;
    match result {
        Err(GroupError::Failed(e)) => {
            assert!(e.to_string().contains("not enough permissions"), "{e}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}
