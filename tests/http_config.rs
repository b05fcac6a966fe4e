//! The configuration through the HTTP layer: `/config` (secrets shown as
//! placeholders, also none in `/metrics`), `/-/reload` of the config file
//! (applied, or refused with the old config kept; a changed address drops the
//! session), and a config from the environment, which cannot be reloaded.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::group_names;
use routeros_exporter::config;
use routeros_exporter::http::App;
use routeros_exporter::probe::ProberOptions;
use routeros_sim::{RouterConfig, SimConfig, Simulator};
use std::time::Duration;
use support::exposition::parse_exposition;
use support::harness::{
    Harness, OPENMETRICS, PASSWORD, config_text, harness, probe, probe_exposition, router_config,
    serve,
};
use support::http::Client;

#[tokio::test]
async fn config_shows_secret_placeholders_only() {
    let h = harness().await;
    let r = h.http.get("/config").await;
    assert_eq!(r.status, 200);
    let text = r.text();
    assert!(text.contains("password: <secret>"), "{text}");
    assert!(text.contains(&h.v7.addr().to_string()), "{text}");
    assert!(text.contains("r6:") && text.contains("r7:"), "{text}");
    // Self metrics are OpenMetrics and name no secret either.
    probe(&h.http, "target=r7&module=system_only").await;
    let r = h.http.get("/metrics").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some(OPENMETRICS));
    parse_exposition(&r.text(), true);
    assert!(
        r.text().contains("routeros_exporter_probes_total{"),
        "{}",
        r.text()
    );
}

/// The harness's config with `r7` moved to the auth `other` (same credentials)
/// and a new target `r9` at the v6 router; `r6` unchanged.
fn with_r9_and_r7_on_other_auth(h: &Harness) -> String {
    config_text(h.v7.addr(), h.v6.addr(), "  default_timeout: 10s")
        .replace(
            "  r7:\n    address",
            &format!(
                "  r9:\n    address: \"{}\"\n    auth: main\n  r7:\n    address",
                h.v6.addr()
            ),
        )
        .replacen("auth: main\n    labels", "auth: other\n    labels", 1)
}

#[tokio::test]
async fn reload_applies_a_valid_file_and_keeps_the_old_one_on_error() {
    let h = harness().await;
    probe(&h.http, "target=r7&module=system_only").await;
    probe(&h.http, "target=r6&module=system_only").await;
    let logins = (h.v7.stats().logins_ok, h.v6.stats().logins_ok);
    assert_eq!(logins, (1, 1));

    let r = h.reload_with(&with_r9_and_r7_on_other_auth(&h)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let config = h.http.get("/config").await.text();
    assert!(config.contains("r9:"), "{config}");
    assert!(config.contains("auth: other"), "{config}");
    probe(&h.http, "target=r7&module=system_only").await;
    probe(&h.http, "target=r6&module=system_only").await;
    assert_eq!(
        h.v7.stats().logins_ok,
        logins.0 + 1,
        "the changed target logged in again"
    );
    let e = probe_exposition(&h.http, "target=r9&module=system_only").await;
    assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);

    // An invalid file: 500 with the file, line and field; the old config stays.
    let r = h
        .reload_with(&format!(
            "auths:\n  main:\n    username: admin\n    password: \"{PASSWORD}\"\ntargets:\n  r7:\n    adress: 127.0.0.1\n    auth: main\n"
        ))
        .await;
    assert_eq!(r.status, 500);
    let text = r.text();
    assert!(text.contains("previous configuration kept"), "{text}");
    assert!(text.contains(&h.path.display().to_string()), "{text}");
    assert!(text.contains("line 7"), "{text}");
    assert!(text.contains("targets.r7.adress"), "{text}");
    let metrics = h.http.get("/metrics").await.text();
    assert!(
        metrics.contains("routeros_exporter_config_last_reload_successful 0"),
        "{metrics}"
    );
    let e = probe_exposition(&h.http, "target=r9&module=system_only").await;
    assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);
    assert!(h.http.get("/config").await.text().contains("r9:"));

    // A missing file is a failed reload too.
    std::fs::remove_file(&h.path).expect("remove config");
    let r = h.http.post("/-/reload").await;
    assert_eq!(r.status, 500);
    assert!(r.text().contains("cannot read config file"), "{}", r.text());

    // Removing a target drops it: 404, and its state is gone.
    let text = config_text(h.v7.addr(), h.v6.addr(), "  default_timeout: 10s");
    assert_eq!(h.reload_with(&text).await.status, 200);
    assert_eq!(h.http.get("/probe?target=r9").await.status, 404);
    assert_eq!(h.http.get("/health?target=r9").await.status, 404);
    let metrics = h.http.get("/metrics").await.text();
    assert!(
        metrics.contains("routeros_exporter_config_last_reload_successful 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn reload_drops_the_session_when_the_address_changes() {
    let h = harness().await;
    probe(&h.http, "target=r7&module=system_only").await;
    assert_eq!(h.v6.stats().logins_ok, 0);
    // r7 now points at the v6 router.
    let text = config_text(h.v6.addr(), h.v6.addr(), "  default_timeout: 10s");
    assert_eq!(h.reload_with(&text).await.status, 200);
    let e = probe_exposition(&h.http, "target=r7&module=system_only").await;
    assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);
    assert_eq!(h.v6.stats().logins_ok, 1);
    assert_eq!(e.must("mikrotik_system_info", &[]), 1.0);
    // The old session to the v7 router was closed.
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while h.v7.stats().connections_open > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(closed.is_ok(), "old session still open");
}

#[tokio::test]
async fn env_config_cannot_be_reloaded_but_probes() {
    let sim = Simulator::start(SimConfig {
        routers: vec![router_config(RouterConfig::v7("env"))],
    })
    .await
    .expect("simulator starts");
    let router = sim.routers()[0].clone();
    let json = format!(
        r#"[{{"name":"r1","address":"{}","username":"admin","password":"{PASSWORD}"}}]"#,
        router.addr()
    );
    let vars = move |name: &str| match name {
        "ROUTERS_CONFIG" => Some(json.clone()),
        "COLLECTION_INTERVAL_SECONDS" => Some("30".to_string()),
        _ => None,
    };
    let (config, warnings) = config::from_env(&vars, &group_names());
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0]
            .to_string()
            .contains("COLLECTION_INTERVAL_SECONDS is ignored")
    );
    let app = App::new(config, ProberOptions::default());
    let http = Client::new(serve(app).await, PASSWORD);
    let e = probe_exposition(&http, "target=r1&module=full").await;
    assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);
    let r = http.post("/-/reload").await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("nothing to reload"), "{}", r.text());
    assert!(http.get("/config").await.text().contains("source: env"));
}

/// A FIFO as `password_file` once blocked `/-/reload`, and every reload after
/// it (each waited for the reload lock): now each reload refuses the file at
/// once and a good file still reloads. On a regression the runtime is shut
/// down without waiting for the blocked thread, so the test fails (after
/// 20 s) instead of hanging.
#[test]
fn reload_with_a_fifo_password_file_does_not_block() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let outcome = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), reload_with_a_fifo()).await
    });
    runtime.shutdown_background();
    outcome.expect("a reload blocked on the FIFO");
}

async fn reload_with_a_fifo() {
    let h = harness().await;
    let fifo = h.path.with_file_name("pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let good = config_text(h.v7.addr(), h.v6.addr(), "  default_timeout: 10s");
    let bad = good.replacen(
        &format!("    password: \"{PASSWORD}\"\n"),
        "    password_file: pipe\n",
        1,
    );
    for _ in 0..2 {
        let r = h.reload_with(&bad).await;
        assert_eq!(r.status, 500, "{}", r.text());
        let text = r.text();
        assert!(
            text.contains("line 6 column 5: auths.main.password_file: "),
            "{text}"
        );
        assert!(
            text.contains("it is a FIFO (named pipe), not a regular file"),
            "{text}"
        );
    }
    let r = h.reload_with(&good).await;
    assert_eq!(r.status, 200, "{}", r.text());
    probe(&h.http, "target=r7&module=system_only").await;
}
