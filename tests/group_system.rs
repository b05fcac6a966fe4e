//! The `system` group against the simulator: RouterOS 7 and 6 resource
//! replies give the same metric set; routers 4k+1 have a RouterBOOT upgrade
//! pending; CHR/x86 (index 3) has no RouterBOARD, so no firmware metric;
//! routers 4k+2 have a RouterOS update available, 4k+3 never checked.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::Trace;
use routeros_exporter::collect::family::{Family, samples_named};
use routeros_sim::{RouterConfig, SimConfig, Simulator};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use support::group;
use tokio::time::Instant;

/// Runs the group on router `index` of `sim`.
async fn collect_on(sim: &Simulator, index: usize) -> Vec<Family> {
    let deadline = Instant::now() + Duration::from_secs(30);
    group::collect_on(sim, index, "system", deadline, Arc::new(Trace::new(false))).await
}

/// A router of one kind: `RouterConfig::v7` or `RouterConfig::v6`.
type Kind = fn(String) -> RouterConfig;

/// `count` routers of one kind, named r0, r1, …, up for `uptime`.
async fn simulator(kind: Kind, count: usize, uptime: Duration) -> Simulator {
    let routers = (0..count)
        .map(|i| RouterConfig {
            initial_uptime: uptime,
            ..kind(format!("r{i}"))
        })
        .collect();
    Simulator::start(SimConfig { routers })
        .await
        .expect("simulator starts")
}

fn single(families: &[Family], name: &str) -> f64 {
    let samples: Vec<_> = samples_named(families, name).collect();
    assert_eq!(samples.len(), 1, "{name}: {samples:?}");
    samples[0].value.as_f64()
}

fn info(families: &[Family]) -> BTreeMap<&'static str, String> {
    let family = families
        .iter()
        .find(|f| f.desc.name == "mikrotik_system_info")
        .expect("mikrotik_system_info");
    assert_eq!(family.samples.len(), 1);
    family
        .desc
        .labels
        .iter()
        .copied()
        .zip(family.samples[0].labels.iter().map(ToString::to_string))
        .collect()
}

#[tokio::test]
async fn v6_and_v7_resource_replies_give_the_same_metrics() {
    let uptime = Duration::from_secs(3 * 86_400 + 3_600);
    let kinds: [(Kind, &str); 2] = [(RouterConfig::v7, "7.16"), (RouterConfig::v6, "6.49.10")];
    for (kind, version) in kinds {
        let sim = simulator(kind, 1, uptime).await;
        let f = collect_on(&sim, 0).await;
        group::assert_no_duplicate_series(&f);
        let up = single(&f, "mikrotik_system_uptime_seconds");
        assert!(
            (uptime.as_secs_f64()..uptime.as_secs_f64() + 120.0).contains(&up),
            "{version}: uptime {up}"
        );
        let total = single(&f, "mikrotik_system_total_memory_bytes");
        let free = single(&f, "mikrotik_system_free_memory_bytes");
        assert!(free > 0.0 && free < total, "{version}: {free} of {total}");
        assert!((0.0..=100.0).contains(&single(&f, "mikrotik_system_cpu_load")));
        assert!(single(&f, "mikrotik_system_cpu_cores") >= 1.0);
        assert!(single(&f, "mikrotik_system_cpu_frequency_hertz") >= 1e8);
        assert!(single(&f, "mikrotik_system_total_hdd_bytes") > 0.0);
        let info = info(&f);
        assert_eq!(info["version"], version, "without the channel");
        assert_eq!(info["identity"], "r0");
        assert!(!info["board"].is_empty() && !info["architecture"].is_empty());
        assert!(!info["firmware"].is_empty(), "{version}: a RouterBOARD");
        assert!(
            samples_named(&f, "mikrotik_system_package_enabled").count() >= 1,
            "{version}: packages"
        );
    }
}

/// Routers 4k+1 run an older RouterBOOT than they could; index 3 is a CHR
/// (no RouterBOARD: no firmware metric, an empty `firmware` label).
#[tokio::test]
async fn firmware_upgrade_pending_and_chr_without_routerboard() {
    let sim = simulator(RouterConfig::v7, 4, Duration::ZERO).await;
    let pending = |f: &[Family]| -> Vec<f64> {
        samples_named(f, "mikrotik_system_firmware_upgrade_available")
            .map(|s| s.value.as_f64())
            .collect()
    };
    assert_eq!(pending(&collect_on(&sim, 0).await), [0.0]);
    assert_eq!(pending(&collect_on(&sim, 1).await), [1.0]);
    let chr = collect_on(&sim, 3).await;
    assert_eq!(pending(&chr), Vec::<f64>::new());
    assert_eq!(info(&chr)["board"], "CHR");
    assert_eq!(info(&chr)["firmware"], "");
    assert!(single(&chr, "mikrotik_system_uptime_seconds") >= 0.0);
}

/// Router 4k+2 has a newer RouterOS available, 4k+3 never checked (no
/// sample), the others are up to date; the group never asks the router to
/// check for updates.
#[tokio::test]
async fn package_update_available_only_from_what_the_router_knows() {
    for kind in [RouterConfig::v7 as Kind, RouterConfig::v6] {
        let sim = simulator(kind, 4, Duration::ZERO).await;
        let update = |f: &[Family]| -> Vec<(Vec<String>, f64)> {
            samples_named(f, "mikrotik_system_package_update_available")
                .map(|s| (s.label_strings(), s.value.as_f64()))
                .collect()
        };
        let current = update(&collect_on(&sim, 0).await);
        assert_eq!(current.len(), 1);
        assert_eq!(current[0].0[0], current[0].0[1]);
        assert_eq!(current[0].1, 0.0);
        let newer = update(&collect_on(&sim, 2).await);
        assert_eq!(newer.len(), 1);
        assert_ne!(newer[0].0[0], newer[0].0[1]);
        assert_eq!(newer[0].1, 1.0);
        assert!(update(&collect_on(&sim, 3).await).is_empty());
        let commands = sim.routers()[2].stats().commands;
        assert_eq!(commands.get("/system/package/update/print"), Some(&1));
        assert!(
            commands.keys().all(|c| !c.contains("check-for-updates")),
            "{commands:?}"
        );
    }
}
