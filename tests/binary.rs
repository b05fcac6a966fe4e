//! The built `routeros-exporter` binary: `--config.check`, `--demo`, the
//! original exporter's environment contract, `CONFIG_FILE`, SIGHUP reload, SIGTERM shutdown and
//! passwords kept out of the logs. The simulator runs in this test process on
//! 127.0.0.1; the binary connects to it. Every answer is checked for the
//! router's password (see `support/http.rs`).

#[allow(dead_code)]
mod support;

use routeros_sim::{RouterConfig, RouterHandle, SimConfig, Simulator};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::http::Client;
use support::net::free_port;
use support::process::{Running, exporter};

const PASSWORD: &str = "s3cr3t";

fn manifest(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// GET `/probe?{query}`, which must answer 200 with a successful probe.
async fn probe_succeeds(http: &Client, query: &str) -> String {
    let r = http.get(&format!("/probe?{query}")).await;
    let body = r.text();
    assert_eq!(r.status, 200, "{query}: {body}");
    assert!(
        body.lines()
            .any(|l| l.starts_with("mikrotik_probe_success") && l.ends_with(" 1")),
        "{query}: {body}"
    );
    body
}

/// A simulator with one RouterOS 7 router whose password is [`PASSWORD`].
async fn sim_router() -> (Simulator, RouterHandle) {
    let sim = Simulator::start(SimConfig {
        routers: vec![RouterConfig {
            password: PASSWORD.into(),
            ..RouterConfig::v7("r1")
        }],
    })
    .await
    .expect("simulator");
    let router = sim.routers()[0].clone();
    (sim, router)
}

/// `ROUTERS_CONFIG` for one router named `r1` at `address`.
fn routers_config(address: &str) -> String {
    format!(r#"[{{"name":"r1","address":"{address}","username":"admin","password":"{PASSWORD}"}}]"#)
}

/// A config file with one target named `target` at `router`.
fn file_config(router: SocketAddr, target: &str) -> String {
    format!(
        "auths:\n  a:\n    username: admin\n    password: \"{PASSWORD}\"\ntargets:\n  {target}:\n    address: \"{router}\"\n    auth: a\n"
    )
}

// ---------------------------------------------------------------------------

#[test]
fn config_check_accepts_the_example_and_names_the_problem_in_a_bad_file() {
    let out = exporter()
        .env("ROUTER_PASSWORD", "x")
        .arg("--config.check")
        .arg("--config.file")
        .arg(manifest("config.example.yaml"))
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("configuration OK"));

    let bad = manifest("tests/testdata/unknown_field.yml");
    let out = exporter()
        .arg("--config.check")
        .arg("--config.file")
        .arg(&bad)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        bad.display().to_string().as_str(),
        "line 7",
        "targets.core1.adress",
        "did you mean `address`?",
    ] {
        assert!(stderr.contains(needle), "{needle} missing in {stderr}");
    }
    // The example's password never shows, even in an error.
    assert!(!stderr.contains("password: secret"), "{stderr}");

    let out = exporter()
        .arg("--config.check")
        .arg("--config.file")
        .arg(manifest("tests/testdata/does-not-exist.yml"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read config file"));

    // The environment contract is checked too: an unparseable ROUTERS_CONFIG fails.
    let out = exporter()
        .env("ROUTERS_CONFIG", "[{not json")
        .arg("--config.check")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ROUTERS_CONFIG cannot be parsed"));
    let out = exporter()
        .env(
            "ROUTERS_CONFIG",
            r#"[{"name":"r1","address":"127.0.0.1:8728"}]"#,
        )
        .arg("--config.check")
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serves_real_metrics() {
    let mut command = exporter();
    command.arg("--demo");
    let mut running = Running::start(command, PASSWORD);
    running.ready().await;
    let body = probe_succeeds(&running.http, "target=demo&module=full").await;
    assert!(body.contains("mikrotik_system_uptime_seconds"), "{body}");
    probe_succeeds(&running.http, "target=demo-v6&module=full").await;
    running.signal("TERM");
    let status = running.wait_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "{status}: {}", running.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routers_config_env_without_a_file() {
    let (_sim, router) = sim_router().await;
    let mut command = exporter();
    command
        .env("ROUTERS_CONFIG", routers_config(&router.addr().to_string()))
        .arg("--log.level")
        .arg("debug");
    let mut running = Running::start(command, PASSWORD);
    running.ready().await;
    probe_succeeds(&running.http, "target=r1&module=full").await;
    assert_eq!(running.http.get("/health?target=r1").await.status, 200);
    let r = running.http.get("/probe?target=default").await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(router.stats().logins_ok, 1);
    running.signal("TERM");
    let status = running.wait_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "{status}");
    let stderr = running.stderr();
    assert!(stderr.contains("debug"), "debug logging on: {stderr}");
    assert!(!stderr.contains(PASSWORD), "password in the log: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_routers_config_falls_back_to_the_legacy_variables() {
    let (_sim, router) = sim_router().await;
    let mut command = exporter();
    command
        .env("ROUTERS_CONFIG", "[{not json")
        .env("ROUTEROS_ADDRESS", router.addr().to_string())
        .env("ROUTEROS_PASSWORD", PASSWORD)
        .env("COLLECTION_INTERVAL_SECONDS", "30")
        .arg("--log.level")
        .arg("debug");
    let mut running = Running::start(command, PASSWORD);
    running.ready().await;
    probe_succeeds(&running.http, "target=default&module=full").await;
    let config = running.http.get("/config").await.text();
    assert!(config.contains("<secret>"), "{config}");
    let stderr = running.stderr();
    assert!(
        stderr.contains("ROUTERS_CONFIG cannot be parsed"),
        "the error is logged: {stderr}"
    );
    assert_eq!(
        stderr
            .matches("COLLECTION_INTERVAL_SECONDS is ignored")
            .count(),
        1,
        "logged once: {stderr}"
    );
    assert!(
        stderr.contains("level=warn target=routeros_exporter msg=\"COLLECTION_INTERVAL_SECONDS"),
        "a warning, not an error: {stderr}"
    );
    assert!(!stderr.contains(PASSWORD), "password in the log: {stderr}");
}

/// `CONFIG_FILE` is how the container image is pointed at a mounted file
/// without changing its command line: the file wins over `ROUTERS_CONFIG`,
/// `--config.file` wins over it, an empty one counts as unset, and a file given
/// this way reloads on SIGHUP like one given by the flag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_file_env_var_is_used_and_the_flag_wins() {
    let (_sim, router) = sim_router().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("mounted.yml");
    std::fs::write(&path, file_config(router.addr(), "from_file")).unwrap();

    let check = |config_file: &str, args: &[&str]| {
        exporter()
            .env("CONFIG_FILE", config_file)
            .env("ROUTERS_CONFIG", routers_config("127.0.0.1:8728"))
            .arg("--config.check")
            .args(args)
            .output()
            .expect("run")
    };
    let missing = dir.path().join("missing.yml");
    let out = check(&missing.display().to_string(), &[]);
    assert_eq!(out.status.code(), Some(1), "CONFIG_FILE is read");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing.yml: cannot read config file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let given = path.display().to_string();
    let out = check(&missing.display().to_string(), &["--config.file", &given]);
    assert_eq!(out.status.code(), Some(0), "the flag wins over CONFIG_FILE");
    let out = check("", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "empty: the environment contract"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 target(s)"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let mut command = exporter();
    command
        .env("CONFIG_FILE", &path)
        .env("ROUTERS_CONFIG", routers_config(&router.addr().to_string()));
    let mut running = Running::start(command, PASSWORD);
    running.ready().await;
    probe_succeeds(&running.http, "target=from_file&module=full").await;
    let r = running.http.get("/probe?target=r1").await;
    assert_eq!(r.status, 404, "ROUTERS_CONFIG is not used: {}", r.text());

    std::fs::write(&path, file_config(router.addr(), "reloaded")).unwrap();
    running.signal("HUP");
    let mut reloaded = false;
    for _ in 0..100 {
        if running
            .http
            .get("/config")
            .await
            .text()
            .contains("reloaded:")
        {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reloaded, "SIGHUP did not reload: {}", running.stderr());
    probe_succeeds(&running.http, "target=reloaded&module=full").await;
    running.signal("TERM");
    let status = running.wait_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "{status}: {}", running.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_and_sigterm_stops() {
    let (_sim, router) = sim_router().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("exporter.yml");
    std::fs::write(&path, file_config(router.addr(), "first")).unwrap();
    let mut command = exporter();
    command
        .env("COLLECTION_INTERVAL_SECONDS", "30")
        .arg("--config.file")
        .arg(&path)
        .arg("--log.level")
        .arg("debug");
    let mut running = Running::start(command, PASSWORD);
    running.ready().await;
    probe_succeeds(&running.http, "target=first&module=full").await;
    let stderr = running.stderr();
    assert_eq!(
        stderr
            .matches("COLLECTION_INTERVAL_SECONDS is ignored")
            .count(),
        1,
        "logged once: {stderr}"
    );

    std::fs::write(&path, file_config(router.addr(), "second")).unwrap();
    running.signal("HUP");
    let mut reloaded = false;
    for _ in 0..100 {
        let config = running.http.get("/config").await.text();
        if config.contains("second:") {
            assert!(!config.contains("first:"), "{config}");
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reloaded, "SIGHUP did not reload: {}", running.stderr());
    probe_succeeds(&running.http, "target=second&module=full").await;
    assert_eq!(running.http.get("/probe?target=first").await.status, 404);

    // An invalid file on SIGHUP: logged, old config kept.
    std::fs::write(&path, "targets: [\n").unwrap();
    running.signal("HUP");
    let mut logged = false;
    for _ in 0..100 {
        if running.stderr().contains("SIGHUP reload failed") {
            logged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(logged, "{}", running.stderr());
    probe_succeeds(&running.http, "target=second&module=full").await;

    running.signal("TERM");
    let status = running.wait_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "{status}: {}", running.stderr());
    let stderr = running.stderr();
    assert!(stderr.contains("stopped"), "{stderr}");
    assert_eq!(
        stderr
            .matches("COLLECTION_INTERVAL_SECONDS is ignored")
            .count(),
        1,
        "logged once, not again on reload: {stderr}"
    );
    assert!(
        stderr.contains("level=warn target=routeros_exporter msg=\"COLLECTION_INTERVAL_SECONDS"),
        "a warning: {stderr}"
    );
    assert!(!stderr.contains(PASSWORD), "password in the log: {stderr}");
    // Sessions were closed with /quit.
    let quit = tokio::time::timeout(Duration::from_secs(10), async {
        while router
            .stats()
            .commands
            .get("/quit")
            .copied()
            .unwrap_or_default()
            == 0
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(quit.is_ok(), "no /quit on shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_connectivity_test_logs_in_early_and_strict_mode_exits_on_failure() {
    let (_sim, router) = sim_router().await;
    let mut command = exporter();
    command
        .env("ROUTERS_CONFIG", routers_config(&router.addr().to_string()))
        .env("STARTUP_CONNECTIVITY_TEST", "true")
        .env("STRICT_STARTUP_MODE", "true");
    let mut running = Running::start(command, PASSWORD);
    running.ready().await;
    assert_eq!(router.stats().logins_ok, 1, "the startup test logged in");
    probe_succeeds(&running.http, "target=r1&module=full").await;
    assert_eq!(router.stats().logins_ok, 1, "the probe reused the session");
    running.signal("TERM");
    assert!(running.wait_exit(Duration::from_secs(30)).await.success());

    // A router that refuses: strict mode exits non-zero with the reason.
    let closed = format!("127.0.0.1:{}", free_port());
    let mut command = exporter();
    command
        .env("ROUTERS_CONFIG", routers_config(&closed))
        .env("STARTUP_CONNECTIVITY_TEST", "true")
        .env("STARTUP_CONNECTIVITY_TIMEOUT_SECS", "2")
        .env("STRICT_STARTUP_MODE", "true");
    let mut running = Running::start(command, PASSWORD);
    let status = running.wait_exit(Duration::from_secs(30)).await;
    assert!(!status.success());
    let stderr = running.stderr();
    assert!(
        stderr.contains("STRICT_STARTUP_MODE") && stderr.contains("r1"),
        "{stderr}"
    );

    // Without strict mode the exporter serves anyway and reports the router down.
    let mut command = exporter();
    command
        .env("ROUTERS_CONFIG", routers_config(&closed))
        .env("STARTUP_CONNECTIVITY_TEST", "true")
        .env("STARTUP_CONNECTIVITY_TIMEOUT_SECS", "2");
    let mut running = Running::start(command, PASSWORD);
    running.ready().await;
    let r = running.http.get("/probe?target=r1&module=full").await;
    let body = r.text();
    assert_eq!(r.status, 200, "{body}");
    assert!(body.contains("mikrotik_probe_success 0"), "{body}");
    assert!(
        running
            .stderr()
            .contains("startup connectivity test failed")
    );
}

/// 20 routers that take the connection and never answer the login (a
/// listener that never accepts: the kernel completes the handshake) and a
/// 2 s startup timeout: checked one after the other, the port would be
/// bound after 40 s; in parallel, after about one timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_connectivity_tests_run_in_parallel() {
    let silent: Vec<std::net::TcpListener> = (0..20)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    let routers: Vec<String> = silent
        .iter()
        .enumerate()
        .map(|(i, listener)| {
            let address = listener.local_addr().expect("local addr");
            format!(
                r#"{{"name":"r{i}","address":"{address}","username":"admin","password":"{PASSWORD}"}}"#
            )
        })
        .collect();
    let mut command = exporter();
    command
        .env("ROUTERS_CONFIG", format!("[{}]", routers.join(",")))
        .env("STARTUP_CONNECTIVITY_TEST", "true")
        .env("STARTUP_CONNECTIVITY_TIMEOUT_SECS", "2");
    let started = std::time::Instant::now();
    let mut running = Running::start(command, PASSWORD);
    running.ready().await;
    let took = started.elapsed();
    let stderr = running.stderr();
    assert_eq!(
        stderr.matches("startup connectivity test failed").count(),
        20,
        "{stderr}"
    );
    assert!(took < Duration::from_secs(20), "serving after {took:?}");
    running.signal("TERM");
    assert!(running.wait_exit(Duration::from_secs(30)).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_addr_is_honoured_and_json_logs_are_json() {
    let (_sim, router) = sim_router().await;
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let child = exporter()
        .env("ROUTERS_CONFIG", routers_config(&router.addr().to_string()))
        .env("SERVER_ADDR", addr.to_string())
        .args(["--log.format", "json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn exporter");
    let http = Client::new(addr, PASSWORD);
    let mut served = false;
    for _ in 0..300 {
        let healthy = tokio::time::timeout(Duration::from_secs(5), http.try_get("/-/healthy"));
        if let Ok(Ok(r)) = healthy.await
            && r.status == 200
        {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let output = child.wait_with_output().expect("exporter exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(served, "nothing listened on SERVER_ADDR {addr}: {stderr}");
    assert!(output.status.success(), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for line in lines {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(value.get("level").is_some(), "{line}");
    }
}
