//! The `bfd` group against the simulator: the lab's three sessions and the
//! core board's fifty on RouterOS 7, the session that is down keeping its
//! series at 0, one print per probe, RouterOS 6 unsupported without a
//! command, a board without BFD sessions, and the restricted user.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::GroupError;
use routeros_exporter::collect::family::Family;
use routeros_sim::RouterConfig;
use routeros_sim::menus::Board;
use support::group::{self, GroupRun, assert_no_duplicate_series, samples, with_board};

async fn run(router: RouterConfig) -> GroupRun {
    group::run_once("bfd", router).await
}

fn values(f: &[Family], metric: &str) -> Vec<f64> {
    samples(f, metric)
        .into_iter()
        .map(|(_, v)| v.as_f64())
        .collect()
}

#[tokio::test]
async fn lab_sessions_on_v7_with_the_down_one_at_zero() {
    let run = run(RouterConfig::v7("r7")).await;
    let f = run.result.expect("bfd collects");
    assert_no_duplicate_series(&f);
    assert_eq!(values(&f, "mikrotik_bfd_session_up"), [1.0, 1.0, 0.0]);
    let uptime = values(&f, "mikrotik_bfd_session_uptime_seconds");
    assert!(uptime[0] > 80_000.0 && uptime[2] == 0.0, "{uptime:?}");
    let rx = values(&f, "mikrotik_bfd_session_received_packets_total");
    assert!(rx[0] > 0.0 && rx[2] == 0.0, "{rx:?}");
    assert!(values(&f, "mikrotik_bfd_session_sent_packets_total")[2] > 0.0);
    let down: Vec<String> = samples(&f, "mikrotik_bfd_session_state")
        .into_iter()
        .filter(|(l, v)| l[0] == "172.16.0.3%ether1" && v.as_f64() == 1.0)
        .map(|(l, _)| l[3].clone())
        .collect();
    assert_eq!(down, ["down"]);
    assert_eq!(run.commands.get("/routing/bfd/session/print"), Some(&1));
}

#[tokio::test]
async fn core_board_fifty_sessions_in_one_print() {
    let run = run(with_board(RouterConfig::v7("core"), Board::Core)).await;
    let f = run.result.expect("bfd collects");
    assert_no_duplicate_series(&f);
    let up = values(&f, "mikrotik_bfd_session_up");
    assert_eq!((up.len(), up.iter().sum::<f64>()), (50, 49.0));
    assert_eq!(samples(&f, "mikrotik_bfd_session_state").len(), 50 * 4);
    assert_eq!(run.commands.get("/routing/bfd/session/print"), Some(&1));
}

#[tokio::test]
async fn routeros_6_is_unsupported_without_asking() {
    let run = run(RouterConfig::v6("r6")).await;
    assert!(
        matches!(run.result, Err(GroupError::Unsupported(_))),
        "{:?}",
        run.result
    );
    assert!(
        run.commands.keys().all(|c| !c.starts_with("/routing")),
        "{:?}",
        run.commands
    );
}

#[tokio::test]
async fn a_board_without_bfd_has_no_series() {
    let f = run(with_board(RouterConfig::v7("chr"), Board::Chr))
        .await
        .result
        .expect("bfd collects");
    assert!(f.iter().all(|f| f.samples.is_empty()));
}

#[tokio::test]
async fn restricted_user_fails_with_the_routers_reason() {
    let mut router = RouterConfig::v7("r7");
    router.faults.denied_menus = vec!["/routing".into()];
    match run(router).await.result {
        Err(GroupError::Failed(e)) => {
            assert!(e.to_string().contains("not enough permissions"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}
