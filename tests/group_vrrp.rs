//! The `vrrp` group against the simulator: a master and a backup in one print
//! on both versions, the core board's disabled instance kept as `init`, a
//! board without VRRP, and a user without the policy to read interfaces.

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

/// What one collection returned and the commands the router received.
async fn collect(router: RouterConfig) -> (Result<Vec<Family>, GroupError>, Vec<(String, u64)>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::start(router, deadline).await;
    let trace = Arc::new(Trace::new(true));
    let ctx = probe.context(group::module("vrrp"), deadline, trace, group::now_unix());
    let result = group::collect("vrrp", &ctx).await;
    let commands = probe.sim.routers()[0]
        .stats()
        .commands
        .into_iter()
        .filter(|(c, _)| c != "/login")
        .collect();
    (result, commands)
}

/// The current state of instance `name` (the state whose sample is 1).
fn state_of(f: &[Family], name: &str) -> Vec<String> {
    samples(f, "mikrotik_vrrp_state")
        .into_iter()
        .filter(|(l, v)| l[0] == name && v.as_f64() == 1.0)
        .map(|(l, _)| l[1].clone())
        .collect()
}

#[tokio::test]
async fn v7_and_v6_master_and_backup_in_one_print() {
    for router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        let (result, commands) = collect(router).await;
        let f = result.expect("vrrp collects");
        group::assert_no_duplicate_series(&f);
        assert_eq!(commands, [("/interface/vrrp/print".to_owned(), 1)]);
        assert_eq!(state_of(&f, "vrrp1"), ["master"]);
        assert_eq!(state_of(&f, "vrrp2"), ["backup"]);
        assert_eq!(samples(&f, "mikrotik_vrrp_state").len(), 6);
        let priority = |name| value_by_first_label(&f, "mikrotik_vrrp_priority", name);
        assert_eq!(priority("vrrp1"), Some(200.0));
        assert_eq!(priority("vrrp2"), Some(100.0));
        let running = |name| value_by_first_label(&f, "mikrotik_vrrp_running", name);
        assert_eq!(running("vrrp1"), Some(1.0));
        assert_eq!(running("vrrp2"), Some(0.0));
        let info = samples(&f, "mikrotik_vrrp_info");
        assert_eq!(info[1].0, ["vrrp2", "vlan100", "11", "false"]);
    }
}

#[tokio::test]
async fn core_board_keeps_its_disabled_instance_and_a_ccr_has_none() {
    for router in [RouterConfig::v7("core7"), RouterConfig::v6("core6")] {
        let mut router = router;
        router.scale = Board::Core.scale();
        let (result, _) = collect(router).await;
        let f = result.expect("vrrp collects");
        group::assert_no_duplicate_series(&f);
        assert_eq!(samples(&f, "mikrotik_vrrp_state").len(), 4 * 3);
        assert_eq!(state_of(&f, "vrrp3"), ["master"]);
        assert_eq!(state_of(&f, "vrrp4"), ["init"], "disabled: neither flag");
        let info = samples(&f, "mikrotik_vrrp_info");
        assert_eq!(info[3].0[3], "true");
    }
    let mut ccr = RouterConfig::v7("ccr");
    ccr.scale = Board::Ccr.scale();
    let f = collect(ccr).await.0.expect("no VRRP is not a failure");
    assert!(f.iter().all(|family| family.samples.is_empty()));
}

#[tokio::test]
async fn a_user_without_the_policy_to_read_vrrp_fails_with_the_routers_reason() {
    let mut router = RouterConfig::v6("restricted");
    router.faults.denied_menus = vec!["/interface/vrrp".into()];
    match collect(router).await.0 {
        Err(GroupError::Failed(e)) => {
            assert!(e.to_string().contains("not enough permissions"), "{e}")
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}
