//! The `ntp` group against the simulator: RouterOS 7's `status` and RouterOS
//! 6's SNTP fields behind one metric set, a router that never reaches its
//! servers (index 3), one just booted, and a user without the policy.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::family::Family;
use routeros_exporter::collect::{GroupError, Trace};
use routeros_sim::{RouterConfig, SimConfig, Simulator};
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe, samples};
use tokio::time::Instant;

/// A router of one kind: `RouterConfig::v7` or `RouterConfig::v6`.
type Kind = fn(String) -> RouterConfig;

/// The group on every router of `count` of one `kind`, up `uptime`.
async fn collect_all(kind: Kind, count: usize, uptime: Duration) -> Vec<Vec<Family>> {
    let routers = (0..count)
        .map(|i| RouterConfig {
            initial_uptime: uptime,
            ..kind(format!("r{i}"))
        })
        .collect();
    let sim = Simulator::start(SimConfig { routers })
        .await
        .expect("simulator starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut out = Vec::new();
    for index in 0..count {
        let trace = Arc::new(Trace::new(false));
        out.push(group::collect_on(&sim, index, "ntp", deadline, trace).await);
    }
    out
}

fn value(f: &[Family], name: &str) -> Option<f64> {
    let all = samples(f, name);
    assert!(all.len() <= 1, "{name}: {all:?}");
    all.first().map(|(_, v)| v.as_f64())
}

#[tokio::test]
async fn v7_synchronized_with_stratum_and_offset_and_4k3_waiting() {
    let routers = collect_all(RouterConfig::v7, 4, Duration::from_secs(3_600)).await;
    for f in &routers[..3] {
        group::assert_no_duplicate_series(f);
        assert_eq!(value(f, "mikrotik_ntp_enabled"), Some(1.0));
        assert_eq!(value(f, "mikrotik_ntp_synchronized"), Some(1.0));
        assert_eq!(value(f, "mikrotik_ntp_stratum"), Some(3.0));
        let offset = value(f, "mikrotik_ntp_offset_seconds").expect("offset");
        assert!(offset.abs() <= 0.001, "{offset}");
        assert_eq!(value(f, "mikrotik_ntp_last_update_age_seconds"), None);
    }
    let waiting = &routers[3];
    assert_eq!(value(waiting, "mikrotik_ntp_synchronized"), Some(0.0));
    assert_eq!(value(waiting, "mikrotik_ntp_stratum"), None);
}

#[tokio::test]
async fn v6_sntp_last_update_and_4k3_never_updated() {
    let routers = collect_all(RouterConfig::v6, 4, Duration::from_secs(1_000)).await;
    for f in &routers[..3] {
        group::assert_no_duplicate_series(f);
        assert_eq!(value(f, "mikrotik_ntp_synchronized"), Some(1.0));
        let age = value(f, "mikrotik_ntp_last_update_age_seconds").expect("age");
        assert!((90.0..200.0).contains(&age), "{age}");
        assert!(value(f, "mikrotik_ntp_offset_seconds").is_some_and(|o| o > 0.0));
        assert_eq!(value(f, "mikrotik_ntp_stratum"), None);
    }
    let never = &routers[3];
    assert_eq!(value(never, "mikrotik_ntp_enabled"), Some(1.0));
    assert_eq!(value(never, "mikrotik_ntp_synchronized"), Some(0.0));
    assert_eq!(value(never, "mikrotik_ntp_last_update_age_seconds"), None);
}

#[tokio::test]
async fn v7_just_booted_is_not_yet_synchronized() {
    let routers = collect_all(RouterConfig::v7, 1, Duration::ZERO).await;
    assert_eq!(value(&routers[0], "mikrotik_ntp_synchronized"), Some(0.0));
}

#[tokio::test]
async fn a_user_without_the_policy_fails_with_the_routers_reason() {
    for mut router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        router.faults.denied_menus = vec!["/system/ntp".into()];
        let deadline = Instant::now() + Duration::from_secs(30);
        let probe = Probe::start(router, deadline).await;
        let ctx = probe.context(
            group::module("ntp"),
            deadline,
            Arc::new(Trace::new(false)),
            group::now_unix(),
        );
        match group::collect("ntp", &ctx).await {
            Err(GroupError::Failed(e)) => {
                assert!(e.to_string().contains("not enough permissions"), "{e}");
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}
