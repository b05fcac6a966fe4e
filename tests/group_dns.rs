//! The `dns` group against the simulator: cache sizes with a unit (RouterOS
//! 7) and as bare KiB (RouterOS 6), remote requests allowed on even router
//! indexes, and a user without the policy.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::family::Family;
use routeros_exporter::collect::{GroupError, Trace};
use routeros_sim::{RouterConfig, SimConfig, Simulator};
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe, samples};
use tokio::time::Instant;

fn value(f: &[Family], name: &str) -> Option<f64> {
    let all = samples(f, name);
    assert!(all.len() <= 1, "{name}: {all:?}");
    all.first().map(|(_, v)| v.as_f64())
}

#[tokio::test]
async fn v7_and_v6_give_bytes_and_the_remote_requests_flag() {
    let kinds: [fn(String) -> RouterConfig; 2] = [RouterConfig::v7, RouterConfig::v6];
    for kind in kinds {
        let routers = (0..2)
            .map(|i| RouterConfig {
                initial_uptime: Duration::from_secs(7_200),
                ..kind(format!("r{i}"))
            })
            .collect();
        let sim = Simulator::start(SimConfig { routers })
            .await
            .expect("simulator starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        for (index, open) in [(0, 1.0), (1, 0.0)] {
            let trace = Arc::new(Trace::new(false));
            let f = group::collect_on(&sim, index, "dns", deadline, trace).await;
            group::assert_no_duplicate_series(&f);
            assert_eq!(
                value(&f, "mikrotik_dns_cache_size_bytes"),
                Some(2_097_152.0)
            );
            let used = value(&f, "mikrotik_dns_cache_used_bytes").expect("cache used");
            assert!(
                used > 0.0 && used < 2_097_152.0 && used % 1024.0 == 0.0,
                "{used}"
            );
            assert_eq!(value(&f, "mikrotik_dns_allow_remote_requests"), Some(open));
        }
    }
}

#[tokio::test]
async fn a_user_without_the_policy_fails_with_the_routers_reason() {
    let mut router = RouterConfig::v7("r7");
    router.faults.denied_menus = vec!["/ip/dns".into()];
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::start(router, deadline).await;
    let ctx = probe.context(
        group::module("dns"),
        deadline,
        Arc::new(Trace::new(false)),
        group::now_unix(),
    );
    match group::collect("dns", &ctx).await {
        Err(GroupError::Failed(e)) => {
            assert!(e.to_string().contains("not enough permissions"), "{e}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}
