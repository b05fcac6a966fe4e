//! What every group reads through its `Context`, against the simulator: the
//! version and menu variants detected once per target, and the batched
//! `monitor` (one command for every port of a kind, none for no ports).

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::facts::{RosVersion, TargetFacts};
use routeros_exporter::collect::{Context, GroupError, Trace};
use routeros_sim::RouterConfig;
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe};
use tokio::time::Instant;

const CANDIDATES: &[&str] = &["/routing/bgp/session", "/interface/wireguard/peers"];

fn context(probe: &Probe, deadline: Instant, facts: &Arc<TargetFacts>) -> Context {
    probe
        .context(
            group::module("system"),
            deadline,
            Arc::new(Trace::new(false)),
            group::now_unix(),
        )
        .with_facts(facts.clone())
}

fn commands(probe: &Probe) -> u64 {
    group::commands_sent(&probe.sim.routers()[0])
}

#[tokio::test]
async fn version_and_menu_are_detected_once_per_target() {
    let deadline = Instant::now() + Duration::from_secs(20);
    for (router, version, menu) in [
        (
            RouterConfig::v7("r7"),
            RosVersion::new(7, 16, 0),
            Some("/interface/wireguard/peers"),
        ),
        (RouterConfig::v6("r6"), RosVersion::new(6, 49, 10), None),
    ] {
        let probe = Probe::start(router, deadline).await;
        let facts = Arc::new(TargetFacts::default());
        let first = context(&probe, deadline, &facts);
        assert_eq!(first.ros_version().await.expect("version"), version);
        assert_eq!(first.present_menu(CANDIDATES).await.expect("menu"), menu);
        let detecting = commands(&probe);
        assert_eq!(
            detecting, 3,
            "one resource print and one count per candidate"
        );
        // A later probe of the same target asks nothing again.
        let later = context(&probe, deadline, &facts);
        assert_eq!(later.ros_version().await.expect("version"), version);
        assert_eq!(later.present_menu(CANDIDATES).await.expect("menu"), menu);
        assert_eq!(commands(&probe), detecting);
        // Once forgotten (a reboot), detected afresh.
        facts.forget();
        assert_eq!(later.present_menu(CANDIDATES).await.expect("menu"), menu);
        assert_eq!(commands(&probe), detecting + 2);
    }
}

#[tokio::test]
async fn a_menu_the_user_may_not_read_is_an_error_not_absent() {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut router = RouterConfig::v7("r7");
    router.faults.denied_menus = vec!["/interface/wireguard".into()];
    let probe = Probe::start(router, deadline).await;
    let facts = Arc::new(TargetFacts::default());
    let ctx = context(&probe, deadline, &facts);
    match ctx.present_menu(CANDIDATES).await {
        Err(GroupError::Failed(e)) => {
            assert!(e.to_string().contains("not enough permissions"), "{e}")
        }
        other => panic!("expected a permission error, got {other:?}"),
    }
    assert!(facts.is_empty(), "a failed detection is not remembered");
}

#[tokio::test]
async fn monitor_is_one_command_for_all_ports_and_none_for_no_ports() {
    let deadline = Instant::now() + Duration::from_secs(20);
    let probe = Probe::start(RouterConfig::v7("r7"), deadline).await;
    let facts = Arc::new(TargetFacts::default());
    let ctx = context(&probe, deadline, &facts);
    assert!(
        ctx.monitor("/interface/ethernet", &[], &["name"])
            .await
            .expect("nothing to monitor")
            .is_empty()
    );
    assert_eq!(commands(&probe), 0);
    let ids: Vec<String> = ["*2", "*3", "*4"].map(String::from).to_vec();
    let rows = ctx
        .monitor("/interface/ethernet", &ids, &["name", "status"])
        .await
        .expect("monitor");
    let names: Vec<&str> = rows.iter().filter_map(|r| r.str("name")).collect();
    assert_eq!(names, ["ether1", "ether2", "ether3"]);
    assert!(
        rows.iter().all(|r| r.str("rate").is_none()),
        "proplist kept"
    );
    let stats = probe.sim.routers()[0].stats();
    assert_eq!(stats.commands.get("/interface/ethernet/monitor"), Some(&1));
}
