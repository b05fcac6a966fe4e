//! The `wireless` group against the simulator: the legacy package on
//! RouterOS 6, wifiwave2 on 7.12 and wifi on 7.16; both CAPsMANs; boards
//! without radios; a user without the policy; per-client series only when
//! asked; package detection once per target; one monitor for all radios.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::facts::TargetFacts;
use routeros_exporter::collect::family::{Family, samples_named};
use routeros_exporter::collect::{GroupError, Trace};
use routeros_exporter::config::ClientSeries;
use routeros_sim::menus::Board;
use routeros_sim::{Personality, RouterConfig, Version};
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe, samples};
use tokio::time::Instant;

/// A router pretending to be `personality`, with the hardware of `board`.
fn router(personality: Personality, board: Board) -> RouterConfig {
    let mut router = RouterConfig::v7("r");
    router.personality = personality;
    router.scale = board.scale();
    router
}

fn v6(board: Board) -> RouterConfig {
    router(Personality::v6(), board)
}

fn v7(board: Board) -> RouterConfig {
    router(Personality::v7(), board)
}

fn v7_12(board: Board) -> RouterConfig {
    router(Personality::for_version(Version::new(7, 12, 1)), board)
}

/// A running router and what the probes of one target remember about it.
struct Target {
    probe: Probe,
    facts: Arc<TargetFacts>,
    deadline: Instant,
}

impl Target {
    async fn start(router: RouterConfig) -> Self {
        let deadline = Instant::now() + Duration::from_secs(30);
        Self {
            probe: Probe::start(router, deadline).await,
            facts: Arc::new(TargetFacts::default()),
            deadline,
        }
    }

    /// One collection; its result and debug trace.
    async fn collect(
        &self,
        clients: ClientSeries,
    ) -> (Result<Vec<Family>, GroupError>, Vec<String>) {
        let mut module = group::module("wireless");
        module.clients = clients;
        let trace = Arc::new(Trace::new(true));
        let ctx = self
            .probe
            .context(module, self.deadline, trace.clone(), group::now_unix())
            .with_facts(self.facts.clone());
        (group::collect("wireless", &ctx).await, trace.lines())
    }

    async fn families(&self, clients: ClientSeries) -> Vec<Family> {
        let (result, _) = self.collect(clients).await;
        let families = result.expect("wireless collects");
        group::assert_no_duplicate_series(&families);
        families
    }

    /// How many times the router received `command`.
    fn sent(&self, command: &str) -> u64 {
        let stats = self.probe.sim.routers()[0].stats();
        stats.commands.get(command).copied().unwrap_or_default()
    }
}

fn total_clients(families: &[Family]) -> f64 {
    samples_named(families, "mikrotik_wireless_clients")
        .map(|s| s.value.as_f64())
        .sum()
}

fn count(families: &[Family], name: &str) -> usize {
    samples_named(families, name).count()
}

/// The `source` label of every interface.
fn sources(families: &[Family]) -> Vec<String> {
    samples(families, "mikrotik_wireless_interface_info")
        .into_iter()
        .map(|(labels, _)| labels[4].clone())
        .collect()
}

#[tokio::test]
async fn v6_access_point_with_the_legacy_package() {
    let target = Target::start(v6(Board::WirelessAp)).await;
    let (result, trace) = target.collect(ClientSeries::Aggregate).await;
    let f = result.expect("wireless collects on v6");
    group::assert_no_duplicate_series(&f);
    assert_eq!(total_clients(&f), 20.0);
    assert_eq!(sources(&f), ["wireless", "wireless"]);
    assert_eq!(count(&f, "mikrotik_wireless_interface_frequency_hertz"), 2);
    assert_eq!(count(&f, "mikrotik_wireless_interface_noise_floor_dbm"), 2);
    assert_eq!(count(&f, "mikrotik_wireless_interface_tx_ccq_ratio"), 2);
    assert_eq!(count(&f, "mikrotik_wireless_client_signal_dbm"), 0);
    assert_eq!(target.sent("/interface/wireless/monitor"), 1);
    // Counting needs the interface column only.
    assert!(
        trace
            .iter()
            .any(|l| l
                .contains("/interface/wireless/registration-table/print =.proplist=interface ->")),
        "{trace:#?}"
    );
    // The legacy CAPsMAN exists but manages nothing: one empty print.
    assert_eq!(target.sent("/caps-man/interface/print"), 2);
    assert_eq!(target.sent("/caps-man/registration-table/print"), 0);
}

#[tokio::test]
async fn v7_access_point_with_wifi_on_7_16_and_wifiwave2_on_7_12() {
    for (router, source) in [
        (v7(Board::WirelessAp), "wifi"),
        (v7_12(Board::WirelessAp), "wifiwave2"),
    ] {
        let target = Target::start(router).await;
        let f = target.families(ClientSeries::Aggregate).await;
        assert_eq!(total_clients(&f), 20.0, "{source}");
        assert_eq!(sources(&f), [source, source]);
        let hz: Vec<f64> = samples(&f, "mikrotik_wireless_interface_frequency_hertz")
            .iter()
            .map(|(_, v)| v.as_f64())
            .collect();
        assert!(hz[0] < 2.5e9 && hz[1] > 5e9, "{hz:?}");
        assert_eq!(count(&f, "mikrotik_wireless_interface_noise_floor_dbm"), 0);
        assert_eq!(target.sent(&format!("/interface/{source}/monitor")), 1);
        let clients = samples(&f, "mikrotik_wireless_clients");
        assert!(clients.iter().all(|(l, _)| l[1] == "office"), "{clients:?}");
    }
}

#[tokio::test]
async fn per_client_series_only_when_the_module_asks() {
    for router in [v6(Board::WirelessAp), v7(Board::WirelessAp)] {
        let legacy = !router.personality.is_v7();
        let target = Target::start(router).await;
        let off = target.families(ClientSeries::Aggregate).await;
        assert!(off.iter().all(|f| !f.desc.name.contains("_client_")));
        let on = target.families(ClientSeries::PerClient).await;
        assert_eq!(total_clients(&on), 20.0);
        for name in [
            "mikrotik_wireless_client_signal_dbm",
            "mikrotik_wireless_client_tx_rate_bps",
            "mikrotik_wireless_client_rx_rate_bps",
            "mikrotik_wireless_client_tx_bytes_total",
            "mikrotik_wireless_client_rx_bytes_total",
            "mikrotik_wireless_client_uptime_seconds",
        ] {
            assert_eq!(count(&on, name), 20, "{name}");
        }
        // SNR and CCQ only where the package reports them.
        let expected = if legacy { 20 } else { 0 };
        assert_eq!(count(&on, "mikrotik_wireless_client_snr_db"), expected);
        assert_eq!(
            count(&on, "mikrotik_wireless_client_tx_ccq_ratio"),
            expected
        );
        let signal = samples(&on, "mikrotik_wireless_client_signal_dbm");
        assert!(
            signal
                .iter()
                .all(|(l, v)| l[1].len() == 17 && v.as_f64() < -30.0)
        );
    }
}

#[tokio::test]
async fn capsman_controllers_legacy_on_v6_and_wifi_on_v7() {
    let legacy = Target::start(v6(Board::CapsmanController)).await;
    let f = legacy.families(ClientSeries::PerClient).await;
    assert_eq!(total_clients(&f), 30.0);
    assert_eq!(sources(&f), ["capsman"; 4]);
    assert_eq!(count(&f, "mikrotik_wireless_interface_frequency_hertz"), 4);
    assert_eq!(count(&f, "mikrotik_wireless_client_signal_dbm"), 30);
    assert_eq!(legacy.sent("/caps-man/registration-table/print"), 1);

    let wifi = Target::start(v7(Board::CapsmanController)).await;
    let f = wifi.families(ClientSeries::PerClient).await;
    assert_eq!(total_clients(&f), 30.0);
    assert_eq!(sources(&f), ["wifi"; 4]);
    let clients = samples(&f, "mikrotik_wireless_clients");
    assert!(clients.iter().all(|(l, _)| l[0].starts_with("cap-wifi")));
    // Each client once: the controller's one table, no second CAPsMAN copy.
    assert_eq!(count(&f, "mikrotik_wireless_client_signal_dbm"), 30);
    // CAP interfaces are the access points' to monitor.
    assert_eq!(wifi.sent("/interface/wifi/monitor"), 0);
}

#[tokio::test]
async fn boards_without_radios_are_unsupported_or_empty_never_failed() {
    for (router, supported) in [
        (v6(Board::Ccr), false),
        (v6(Board::Chr), false),
        (v7_12(Board::Chr), false),
        (v7(Board::Ccr), true),
        (v7(Board::Chr), true),
    ] {
        let version = router.personality.version;
        let target = Target::start(router).await;
        let (result, _) = target.collect(ClientSeries::PerClient).await;
        match result {
            Ok(f) => {
                assert!(supported, "{version}");
                assert!(f.is_empty(), "{version}: {f:?}");
                // 7.13+: /interface/wifi exists for CAPsMAN; empty, so one print.
                let (again, trace) = target.collect(ClientSeries::PerClient).await;
                assert!(again.is_ok_and(|f| f.is_empty()));
                assert_eq!(trace.len(), 1, "{trace:#?}");
            }
            Err(GroupError::Unsupported(_)) => assert!(!supported, "{version}"),
            Err(e) => panic!("{version}: {e:?}"),
        }
    }
}

#[tokio::test]
async fn a_user_without_the_policy_gets_the_routers_reason() {
    for (mut router, denied) in [
        (v6(Board::WirelessAp), "/interface/wireless"),
        (v7(Board::WirelessAp), "/interface/wifi/registration-table"),
        (v6(Board::CapsmanController), "/caps-man"),
    ] {
        router.faults.denied_menus = vec![denied.into()];
        let target = Target::start(router).await;
        match target.collect(ClientSeries::Aggregate).await.0 {
            Err(GroupError::Failed(e)) => {
                assert!(e.to_string().contains("not enough permissions"), "{e}")
            }
            other => panic!("{denied}: expected a permission failure, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_package_is_detected_once_per_target() {
    let target = Target::start(v6(Board::WirelessAp)).await;
    let (first, trace) = target.collect(ClientSeries::Aggregate).await;
    first.expect("first collection");
    let detections = |trace: &[String]| trace.iter().filter(|l| l.contains("count-only")).count();
    // wifi and wifiwave2 trap, wireless answers, then /caps-man.
    assert_eq!(detections(&trace), 4, "{trace:#?}");
    let (second, trace) = target.collect(ClientSeries::Aggregate).await;
    second.expect("second collection");
    assert_eq!(detections(&trace), 0, "{trace:#?}");
    assert_eq!(target.sent("/interface/wifi/print"), 1);
    assert_eq!(target.sent("/interface/wifiwave2/print"), 1);
    assert_eq!(target.sent("/interface/wireless/print"), 3);
    // Print, monitor, registration table and the empty CAPsMAN print.
    assert_eq!(trace.len(), 4, "{trace:#?}");
}

#[tokio::test]
async fn one_monitor_for_fifty_radios() {
    for mut router in [v6(Board::WirelessAp), v7(Board::WirelessAp)] {
        router.scale.wireless_radios = 50;
        router.scale.wireless_clients = 500;
        let target = Target::start(router).await;
        let f = target.families(ClientSeries::Aggregate).await;
        assert_eq!(total_clients(&f), 500.0);
        // The fiftieth radio is disabled: not monitored, no frequency.
        assert_eq!(count(&f, "mikrotik_wireless_interface_frequency_hertz"), 49);
        let monitors: u64 = ["/interface/wireless/monitor", "/interface/wifi/monitor"]
            .iter()
            .map(|m| target.sent(m))
            .sum();
        assert_eq!(monitors, 1);
    }
}
