//! The `lte` group against the simulator: RouterOS 7's batched `monitor` and
//! RouterOS 6's per-modem `info`, 5G NR fields, boards with and without a
//! modem, and users without the policy `info` needs.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::family::{Family, Value};
use routeros_exporter::collect::{GroupError, Trace};
use routeros_sim::RouterConfig;
use routeros_sim::menus::Board;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe, samples, value_by_first_label};
use tokio::time::Instant;

const MONITOR: &str = "/interface/lte/monitor";
const INFO: &str = "/interface/lte/info";

/// The group's result on `router`, its debug trace and the commands the
/// router saw (by path).
async fn collect(
    router: RouterConfig,
) -> (
    Result<Vec<Family>, GroupError>,
    Vec<String>,
    BTreeMap<String, u64>,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::start(router, deadline).await;
    let trace = Arc::new(Trace::new(true));
    let ctx = probe.context(
        group::module("lte"),
        deadline,
        trace.clone(),
        group::now_unix(),
    );
    let result = group::collect("lte", &ctx).await;
    let commands = probe.sim.routers()[0].stats().commands;
    (result, trace.lines(), commands)
}

fn count(commands: &BTreeMap<String, u64>, path: &str) -> u64 {
    commands.get(path).copied().unwrap_or_default()
}

fn registration(f: &[Family], modem: &str) -> Option<String> {
    samples(f, "mikrotik_lte_registration_status")
        .into_iter()
        .find(|(l, v)| l[0] == modem && *v == Value::Int(1))
        .map(|(l, _)| l[1].clone())
}

fn with_modems(mut router: RouterConfig, modems: usize) -> RouterConfig {
    router.scale.lte_modems = modems;
    router
}

#[tokio::test]
async fn v7_one_monitor_for_all_modems_with_5g_on_the_second() {
    let (result, trace, commands) = collect(with_modems(RouterConfig::v7("r7"), 2)).await;
    let f = result.expect("lte collects on v7");
    group::assert_no_duplicate_series(&f);
    assert_eq!(count(&commands, MONITOR), 1);
    assert_eq!(count(&commands, INFO), 0);
    for modem in ["lte1", "lte2"] {
        let rsrp = value_by_first_label(&f, "mikrotik_lte_rsrp_dbm", modem);
        assert!(
            rsrp.is_some_and(|v| (-110.0..-80.0).contains(&v)),
            "{rsrp:?}"
        );
        assert_eq!(registration(&f, modem).as_deref(), Some("registered"));
        assert!(value_by_first_label(&f, "mikrotik_lte_cell_id", modem).is_some());
        assert_eq!(
            value_by_first_label(&f, "mikrotik_lte_primary_band", modem),
            Some(3.0)
        );
    }
    let nr = samples(&f, "mikrotik_lte_nr_sinr_db");
    assert_eq!(nr.len(), 1);
    assert_eq!(nr[0].0, ["lte2"]);
    assert_eq!(
        value_by_first_label(&f, "mikrotik_lte_nr_band", "lte2"),
        Some(78.0)
    );
    let info = samples(&f, "mikrotik_lte_info");
    assert_eq!(info[1].0, ["lte2", "Roam Mobile", "5G NSA", "full", "ok"]);
    let monitor = trace.iter().find(|l| l.contains(MONITOR)).expect("traced");
    assert!(monitor.contains("=numbers=*1,*2"), "{monitor}");
    assert!(
        trace
            .iter()
            .all(|l| !l.contains("imei") && !l.contains("imsi")),
        "{trace:?}"
    );
}

#[tokio::test]
async fn v6_one_info_per_running_modem() {
    let (result, trace, commands) = collect(with_modems(RouterConfig::v6("r6"), 4)).await;
    let f = result.expect("lte collects on v6");
    group::assert_no_duplicate_series(&f);
    // lte3 is disabled and lte4 searching: neither is asked.
    assert_eq!(count(&commands, INFO), 2);
    assert_eq!(count(&commands, MONITOR), 0);
    assert!(trace.iter().any(|l| l.contains("=number=*1")), "{trace:?}");
    assert_eq!(registration(&f, "lte1").as_deref(), Some("registered"));
    assert_eq!(registration(&f, "lte2").as_deref(), Some("roaming"));
    assert!(registration(&f, "lte3").is_none());
    let sinr = value_by_first_label(&f, "mikrotik_lte_sinr_db", "lte1");
    assert!(sinr.is_some_and(|v| (0.0..=20.0).contains(&v)), "{sinr:?}");
    assert!(samples(&f, "mikrotik_lte_nr_rsrp_dbm").is_empty());
    let info = samples(&f, "mikrotik_lte_info");
    assert_eq!(info[0].0[2], "Evolved 3G (LTE)");
}

#[tokio::test]
async fn the_lte_cpe_has_a_modem_and_the_ccr_none() {
    for router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        let cpe = RouterConfig {
            scale: Board::LteCpe.scale(),
            ..router.clone()
        };
        let (result, _, _) = collect(cpe).await;
        let f = result.expect("lte collects on the CPE");
        assert_eq!(samples(&f, "mikrotik_lte_rssi_dbm").len(), 1);

        let ccr = RouterConfig {
            scale: Board::Ccr.scale(),
            ..router
        };
        let (result, _, commands) = collect(ccr).await;
        match result {
            Ok(f) => assert!(f.iter().all(|f| f.samples.is_empty())),
            Err(GroupError::Unsupported(_)) => {}
            Err(e) => panic!("ccr: {e:?}"),
        }
        // Nothing but the print: no version look-up, no monitor or info.
        let sent: Vec<&String> = commands.keys().filter(|c| *c != "/login").collect();
        assert_eq!(sent, ["/interface/lte/print"]);
    }
}

#[tokio::test]
async fn a_user_without_the_policy_fails_with_the_routers_reason() {
    // RouterOS 6 lets only users with the `test` policy run `info`.
    let mut v6 = RouterConfig::v6("r6");
    v6.faults.denied_menus = vec![INFO.into()];
    let mut v7 = RouterConfig::v7("r7");
    v7.faults.denied_menus = vec!["/interface/lte".into()];
    for router in [v6, v7] {
        let (result, _, _) = collect(router).await;
        match result {
            Err(GroupError::Failed(e)) => {
                assert!(e.to_string().contains("not enough permissions"), "{e}");
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn each_version_traps_on_the_other_versions_verb() {
    let deadline = Instant::now() + Duration::from_secs(30);
    for (router, missing) in [
        (RouterConfig::v6("r6"), MONITOR),
        (RouterConfig::v7("r7"), INFO),
    ] {
        let probe = Probe::start(router, deadline).await;
        let command = routeros::Command::new(missing)
            .attr("numbers", "*1")
            .attr("number", "*1")
            .flag("once");
        let error = probe
            .session
            .rows(&command, deadline)
            .await
            .expect_err("the other version's verb traps");
        assert!(error.is_missing_menu(), "{missing}: {error}");
    }
}
