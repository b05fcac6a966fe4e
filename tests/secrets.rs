//! One canary password through every output the exporter has: the logs at
//! `trace` in both formats, every page (`/probe` with and without
//! `debug=true`, `/health`, `/metrics`, `/config`, `/sd`, the landing page),
//! every error page (404, 400, a failed reload), `--config.check` on broken
//! files, and the failures a wrong password, a refused login and an
//! unreachable router produce, address targets included. The test fails if
//! the canary shows anywhere. A password given as a number (which cannot hold
//! the canary) has a test of its own.
//!
//! Both passwords share [`CANARY`], so the support client, which checks every
//! answer for it before a test sees the answer, catches either.

#[allow(dead_code)]
mod support;

use routeros_sim::{RouterConfig, Simulator};
use std::path::Path;
use std::time::Duration;
use support::net::free_port;
use support::process::{Running, exporter};

/// What no output may contain.
const CANARY: &str = "CANARY7f3a";
/// The routers' password.
const PASSWORD: &str = "CANARY7f3a-router-pw";
/// A password the routers refuse.
const WRONG: &str = "CANARY7f3a-wrong-pw";

async fn routers() -> Simulator {
    let router = |config: RouterConfig| RouterConfig {
        password: PASSWORD.into(),
        ..config
    };
    Simulator::start(routeros_sim::SimConfig {
        routers: vec![
            router(RouterConfig::v7("r7")),
            router(RouterConfig::v6("r6")),
        ],
    })
    .await
    .expect("simulator")
}

/// Four targets: RouterOS 7 with the password inline, RouterOS 6 (whose login
/// sends the password in plain text) with it from a file, one whose password
/// is wrong, one that is down; and address targets on 127.0.0.0/8 with the
/// right and the wrong password.
fn config(sim: &Simulator, dir: &Path) -> String {
    let file = dir.join("router.pw");
    std::fs::write(&file, format!("{PASSWORD}\n")).expect("write password file");
    let [r7, r6] = [0, 1].map(|i| sim.routers()[i].addr());
    format!(
        "auths:\n  inline:\n    username: admin\n    password: \"{PASSWORD}\"\n  \
         filed:\n    username: admin\n    password_file: {}\n  \
         wrong:\n    username: admin\n    password: \"{WRONG}\"\n\
         targets:\n  v7:\n    address: \"{r7}\"\n    auth: inline\n  \
         v6:\n    address: \"{r6}\"\n    auth: filed\n  \
         refused:\n    address: \"{r7}\"\n    auth: wrong\n  \
         down:\n    address: \"127.0.0.1:{}\"\n    auth: inline\n\
         address_targets:\n  allow: [127.0.0.0/8]\n  auths: [inline, wrong]\n",
        file.display(),
        free_port()
    )
}

/// The config with a mistake beside the password: an unknown field and a
/// password that is not a string.
fn broken_configs(good: &str) -> Vec<String> {
    vec![
        good.replacen("    username: admin\n", "    usernme: admin\n", 1),
        good.replacen(
            &format!("password: \"{PASSWORD}\""),
            &format!("password: [\"{PASSWORD}\"]"),
            1,
        ),
        good.replacen(
            &format!("password: \"{PASSWORD}\""),
            &format!("password: {{ value: \"{PASSWORD}\" }}"),
            1,
        ),
        format!("{good}  extra:\n    address: \"{PASSWORD}\n"),
    ]
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(CANARY), "the password is in {what}:\n{text}");
}

/// Every page and error page, each probe both ways, address targets (with
/// the right and a wrong password, and refused); each answer is checked for
/// the canary by the client.
async fn visit_everything(running: &Running, sim: &Simulator) {
    let http = &running.http;
    for target in ["v7", "v6", "refused", "down"] {
        for query in ["", "&debug=true", "&module=connectivity&debug=true"] {
            let r = http.get(&format!("/probe?target={target}{query}")).await;
            assert_eq!(r.status, 200, "{target}{query}: {}", r.text());
        }
    }
    let r7 = sim.routers()[0].addr();
    for (query, status) in [
        (format!("target={r7}&auth=inline"), 200),
        (format!("target={r7}&auth=wrong&debug=true"), 200),
        (format!("target={r7}&auth=nope"), 403),
        (format!("target={r7}"), 400),
        ("target=10.0.0.1&auth=inline".to_string(), 403),
        ("target=v7&auth=inline".to_string(), 400),
    ] {
        let r = http.get(&format!("/probe?{query}")).await;
        assert_eq!(r.status, status, "address target {query}: {}", r.text());
    }
    for (path, status) in [
        // Not a configured name and no `auth=`: with address targets on,
        // a 400 asking for one.
        ("/probe?target=nope", 400),
        ("/probe?target=v7&module=nope", 400),
        ("/probe", 400),
        ("/probe?target=v7&debug=maybe", 400),
        ("/health?target=nope", 404),
        ("/nope", 404),
    ] {
        assert_eq!(http.get(path).await.status, status, "{path}");
    }
    for path in [
        "/health",
        "/health?target=refused",
        "/metrics",
        "/config",
        "/sd",
        "/",
        "/-/healthy",
        "/-/ready",
    ] {
        http.get(path).await;
    }
}

async fn run_with_log_format(format: &str, sim: &Simulator) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("exporter.yml");
    let good = config(sim, dir.path());
    std::fs::write(&path, &good).expect("write config");
    let mut command = exporter();
    command
        .arg("--config.file")
        .arg(&path)
        .args(["--log.level", "trace", "--log.format", format]);
    let mut running = Running::start(command, CANARY);
    running.ready().await;
    visit_everything(&running, sim).await;
    for broken in broken_configs(&good) {
        std::fs::write(&path, &broken).expect("write broken config");
        let r = running.http.post("/-/reload").await;
        assert!(r.status >= 400, "a broken config reloads: {}", r.text());
    }
    std::fs::write(&path, &good).expect("write config");
    assert_eq!(running.http.post("/-/reload").await.status, 200);
    visit_everything(&running, sim).await;
    running.signal("TERM");
    running.wait_exit(Duration::from_secs(20)).await;
    let log = running.stderr();
    assert!(
        log.contains("refused") && log.lines().count() > 50,
        "the {format} trace log is not what this test expects to search:\n{log}"
    );
    assert_clean(&format!("the {format} log"), &log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_output_contains_the_password() {
    let sim = routers().await;
    for format in ["logfmt", "json"] {
        run_with_log_format(format, &sim).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_check_of_a_broken_file_does_not_print_the_password() {
    let sim = routers().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("exporter.yml");
    for broken in broken_configs(&config(&sim, dir.path())) {
        std::fs::write(&path, &broken).expect("write config");
        let out = exporter()
            .arg("--config.check")
            .arg("--config.file")
            .arg(&path)
            .output()
            .expect("run --config.check");
        assert_eq!(out.status.code(), Some(1), "{broken}");
        assert_clean(
            "--config.check's stdout",
            &String::from_utf8_lossy(&out.stdout),
        );
        assert_clean(
            "--config.check's stderr",
            &String::from_utf8_lossy(&out.stderr),
        );
    }
}

/// A password `ROUTERS_CONFIG` gives as a JSON number (not a string) makes
/// the variable unusable; the error saying so, at `trace` in both formats,
/// must not repeat the number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_numeric_password_in_routers_config_is_not_echoed() {
    const NUMERIC: &str = "8675309123";
    for format in ["logfmt", "json"] {
        let mut command = exporter();
        command
            .env(
                "ROUTERS_CONFIG",
                format!(r#"[{{"name":"r1","address":"127.0.0.1:1","username":"admin","password":{NUMERIC}}}]"#),
            )
            .args(["--log.level", "trace", "--log.format", format]);
        let mut running = Running::start(command, NUMERIC);
        running.ready().await;
        for path in ["/config", "/health", "/metrics", "/probe?target=r1"] {
            running.http.get(path).await;
        }
        running.signal("TERM");
        running.wait_exit(Duration::from_secs(20)).await;
        let log = running.stderr();
        assert!(
            log.contains("ROUTERS_CONFIG") && log.contains("must be JSON strings"),
            "the {format} log does not say why the router was skipped:\n{log}"
        );
        assert!(
            !log.contains(NUMERIC),
            "the password is in the {format} log:\n{log}"
        );
    }
}
