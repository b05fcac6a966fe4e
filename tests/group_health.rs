//! The `health` group against the simulator: RouterOS 7 per-sensor rows,
//! the RouterOS 6 flat row, and CHR/x86 routers without sensors (router index
//! 3 of 4; on 7.18+ the empty reply is `!empty` + `!done`).

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::Trace;
use routeros_exporter::collect::family::Family;
use routeros_exporter::collect::family::samples_named;
use routeros_sim::{Personality, RouterConfig, SimConfig, Simulator, Version};
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe, value_by_first_label};
use tokio::time::Instant;

/// Runs the group on router `index` of `sim`; returns the families and trace.
async fn collect_on(
    sim: &Simulator,
    index: usize,
    deadline: Instant,
) -> (Vec<Family>, Vec<String>) {
    let trace = Arc::new(Trace::new(true));
    let families = group::collect_on(sim, index, "health", deadline, trace.clone()).await;
    (families, trace.lines())
}

async fn collect(router: RouterConfig) -> Vec<Family> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::start(router, deadline).await;
    let ctx = probe.context(
        group::module("health"),
        deadline,
        Arc::new(Trace::new(false)),
        group::now_unix(),
    );
    group::collect("health", &ctx)
        .await
        .expect("health collects")
}

fn states(families: &[Family]) -> Vec<(String, String)> {
    samples_named(families, "mikrotik_health_state")
        .map(|s| (s.labels[0].to_string(), s.labels[1].to_string()))
        .collect()
}

/// Router 0 is a CCR (v7: CCR2004-16G-2S+, v6: CCR1036-8G-2S+) with fans, a
/// fan state sensor and two PSUs, the second one failed.
#[tokio::test]
async fn v6_flat_and_v7_rows_give_the_same_metrics() {
    let temperature = "mikrotik_health_temperature_celsius";
    let fan = "mikrotik_health_fan_speed_rpm";
    let expected_states = vec![
        ("fan-state".to_string(), "ok".to_string()),
        ("psu1-state".to_string(), "ok".to_string()),
        ("psu2-state".to_string(), "fail".to_string()),
    ];
    for router in [RouterConfig::v6("r6"), RouterConfig::v7("r7")] {
        let v7 = router.personality.is_v7();
        let f = collect(router).await;
        group::assert_no_duplicate_series(&f);
        let cpu =
            value_by_first_label(&f, temperature, "cpu-temperature").expect("cpu-temperature");
        assert!((30.0..70.0).contains(&cpu), "{cpu}");
        let rpm = value_by_first_label(&f, fan, "fan1-speed").expect("fan1-speed");
        assert!(rpm > 1000.0, "{rpm}");
        assert!(value_by_first_label(&f, fan, "fan2-speed").is_some());
        assert_eq!(states(&f), expected_states, "v7={v7}");
        assert_eq!(
            value_by_first_label(&f, "mikrotik_health_ok", "psu1-state"),
            Some(1.0)
        );
        assert_eq!(
            value_by_first_label(&f, "mikrotik_health_ok", "psu2-state"),
            Some(0.0)
        );
        if v7 {
            assert!(value_by_first_label(&f, temperature, "board-temperature2").is_some());
        } else {
            let volts = value_by_first_label(&f, "mikrotik_health_voltage_volts", "voltage")
                .expect("voltage");
            assert!((20.0..30.0).contains(&volts), "{volts}");
        }
    }
}

/// Index 3 of every four routers is a CHR/x86 without sensors: the group
/// succeeds with no samples, on 6.x, 7.16 (`!done` only) and 7.18 (`!empty`).
#[tokio::test]
async fn chr_without_sensors_succeeds_empty() {
    let personalities = [
        Personality::v6(),
        Personality::v7(),
        Personality::for_version(Version::new(7, 18, 2)),
    ];
    for personality in personalities {
        let routers = (0..4)
            .map(|i| {
                let mut router = RouterConfig::v7(format!("r{i}"));
                router.personality = personality.clone();
                router
            })
            .collect();
        let sim = Simulator::start(SimConfig { routers })
            .await
            .expect("simulator starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        let (chr, trace) = collect_on(&sim, 3, deadline).await;
        assert!(chr.is_empty(), "{chr:?}");
        assert!(
            trace
                .iter()
                .any(|l| l.contains("/system/health/print") && l.contains("-> 0 rows")),
            "{trace:?}"
        );
        // A board with sensors on the same simulator (hAP: voltage, temperature).
        let (hap, _) = collect_on(&sim, 1, deadline).await;
        assert!(
            value_by_first_label(&hap, "mikrotik_health_temperature_celsius", "temperature")
                .is_some(),
            "{hap:?}"
        );
        assert!(value_by_first_label(&hap, "mikrotik_health_voltage_volts", "voltage").is_some());
    }
}
