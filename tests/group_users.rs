//! The `users` group against the simulator: sessions by login method in one
//! small print (the exporter's own API session counted like any other), per
//! user login times only with `clients: per_client`, on both versions, and the
//! router's refusal for a user without the policy to read `/user`.

#[allow(dead_code)]
mod support;

use routeros::pool::{Endpoint, Pool, PoolConfig};
use routeros_exporter::collect::family::Family;
use routeros_exporter::collect::{GroupError, Trace};
use routeros_exporter::config::ClientSeries;
use routeros_sim::RouterConfig;
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe, samples};
use tokio::time::Instant;

/// What one collection returned and what the router saw.
struct Outcome {
    result: Result<Vec<Family>, GroupError>,
    trace: Vec<String>,
    /// Commands the router received, `/login` aside.
    commands: Vec<(String, u64)>,
    now_unix: i64,
}

/// Collects `users` on `router` with `extra_sessions` more API connections
/// open to it than the probe's own.
async fn collect(router: RouterConfig, clients: ClientSeries, extra_sessions: usize) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(30);
    let probe = Probe::start(router, deadline).await;
    let endpoint = Endpoint {
        address: probe.address.clone(),
        username: "admin".into(),
        password: String::new(),
        tls: None,
    };
    let mut others = Vec::new();
    for _ in 0..extra_sessions {
        let pool = Pool::new(PoolConfig::default());
        let session = pool.acquire(&endpoint, deadline).await.expect("session");
        others.push((pool, session));
    }
    let trace = Arc::new(Trace::new(true));
    let mut module = group::module("users");
    module.clients = clients;
    let now_unix = group::now_unix();
    let ctx = probe.context(module, deadline, trace.clone(), now_unix);
    let result = group::collect("users", &ctx).await;
    let stats = probe.sim.routers()[0].stats();
    Outcome {
        result,
        trace: trace.lines(),
        commands: stats
            .commands
            .into_iter()
            .filter(|(c, _)| c != "/login")
            .collect(),
        now_unix,
    }
}

fn counts(families: &[Family]) -> Vec<(String, f64)> {
    samples(families, "mikrotik_users_active_sessions")
        .into_iter()
        .map(|(l, v)| (l[0].clone(), v.as_f64()))
        .collect()
}

fn expected(api: f64) -> Vec<(String, f64)> {
    [
        ("api", api),
        ("winbox", 1.0),
        ("ssh", 1.0),
        ("web", 1.0),
        ("telnet", 0.0),
        ("ftp", 0.0),
    ]
    .iter()
    .map(|(v, n)| ((*v).to_owned(), *n))
    .collect()
}

#[tokio::test]
async fn v7_and_v6_sessions_by_method_in_one_print() {
    for router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        let out = collect(router, ClientSeries::Aggregate, 0).await;
        let f = out.result.expect("users collects");
        assert_eq!(
            counts(&f),
            expected(1.0),
            "the exporter's own session is an api session"
        );
        assert!(samples(&f, "mikrotik_users_session_login_timestamp_seconds").is_empty());
        assert_eq!(out.commands, [("/user/active/print".to_owned(), 1)]);
        assert!(
            out.trace
                .iter()
                .any(|l| l.contains("/user/active/print =.proplist=via ")),
            "{:?}",
            out.trace
        );
    }
}

#[tokio::test]
async fn every_open_api_connection_is_an_api_session() {
    let out = collect(RouterConfig::v7("r7"), ClientSeries::Aggregate, 2).await;
    let f = out.result.expect("users collects");
    assert_eq!(counts(&f), expected(3.0));
}

#[tokio::test]
async fn per_client_adds_the_login_time_of_each_user_method_and_address() {
    for router in [RouterConfig::v7("r7"), RouterConfig::v6("r6")] {
        let mut router = router;
        router.initial_uptime = Duration::from_secs(7_200);
        let out = collect(router, ClientSeries::PerClient, 0).await;
        let f = out.result.expect("users collects");
        group::assert_no_duplicate_series(&f);
        assert_eq!(counts(&f), expected(1.0));
        let logins = samples(&f, "mikrotik_users_session_login_timestamp_seconds");
        assert_eq!(logins.len(), 4);
        let winbox = logins
            .iter()
            .find(|(l, _)| l[1] == "winbox")
            .expect("winbox");
        assert_eq!(winbox.0, ["admin", "winbox", "full", "192.168.88.10"]);
        // Booted two hours ago, WinBox login ten minutes after boot.
        let expected_login = (out.now_unix - 7_200 + 600) as f64;
        assert!(
            (winbox.1.as_f64() - expected_login).abs() <= 2.0,
            "{winbox:?}"
        );
        let web = logins.iter().find(|(l, _)| l[1] == "web").expect("web");
        assert_eq!(web.0, ["noc", "web", "read", "192.168.88.20"]);
        let commands: Vec<&str> = out.commands.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(commands, ["/system/clock/print", "/user/active/print"]);
    }
}

#[tokio::test]
async fn a_user_without_the_policy_to_read_users_fails_with_the_routers_reason() {
    let mut router = RouterConfig::v7("restricted");
    router.faults.denied_menus = vec!["/user".into()];
    let out = collect(router, ClientSeries::Aggregate, 0).await;
    match out.result {
        Err(GroupError::Failed(e)) => {
            assert!(e.to_string().contains("not enough permissions"), "{e}")
        }
        other => panic!("expected a permission failure, got {other:?}"),
    }
}
