//! The in-process exporter for the HTTP tests (`tests/http_*.rs`): the
//! project's simulator with a RouterOS 7 and a RouterOS 6 router, a config file
//! naming them, and the exporter served on 127.0.0.1 by its own server (as the
//! binary serves it) with a client that fails on any answer containing the
//! routers' password.

use super::exposition::{Exposition, parse_exposition};
use super::http::{Client, Response};
use routeros_exporter::collect::group_names;
use routeros_exporter::config::{self, Config};
use routeros_exporter::http::App;
use routeros_exporter::http::server::{self, Security, ServerOptions};
use routeros_exporter::probe::ProberOptions;
use routeros_sim::{RouterConfig, RouterHandle, SimConfig, Simulator};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;
use tokio::net::TcpListener;

/// Both routers' password; no answer may contain it.
pub const PASSWORD: &str = "s3cr3t-pass";
/// What Prometheus sends, preferring OpenMetrics.
pub const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The command the `system` group sends first: a count of collections.
pub const RESOURCE_PRINT: &str = "/system/resource/print";

/// The exporter serving [`config_text`] for two simulated routers.
pub struct Harness {
    _sim: Simulator,
    /// The RouterOS 7 router, target `r7`.
    pub v7: RouterHandle,
    /// The RouterOS 6 router, target `r6`.
    pub v6: RouterHandle,
    /// A client for the exporter, checking for [`PASSWORD`].
    pub http: Client,
    pub app: Arc<App>,
    /// The config file; rewrite it and POST `/-/reload` to change the config.
    pub path: PathBuf,
    _dir: TempDir,
}

/// `router` with [`PASSWORD`], up for a day (so a reboot makes the uptime go
/// backwards for sure).
pub fn router_config(router: RouterConfig) -> RouterConfig {
    RouterConfig {
        password: PASSWORD.into(),
        initial_uptime: Duration::from_secs(86_400),
        ..router
    }
}

/// The config file for target `r7` at `v7` (label `site: lab`) and target
/// `r6` at `v6`, both with the auth `main`; `global` is the YAML under
/// `global:`. The auth `other` has the same credentials as `main`, for
/// `reload_applies_a_valid_file_and_keeps_the_old_one_on_error` to move `r7`
/// to. Besides the built-in `full` (every group) and `connectivity`, the
/// modules are:
///
/// - `system_only`: one quick group that needs a login; most tests probe it.
/// - `wireguard_only`: a group RouterOS 6 does not have
///   (`v6_has_no_wireguard_which_is_unsupported_not_failed`), and a second
///   module to combine with `system_only`
///   (`modules_repeated_or_comma_separated_are_merged`,
///   `debug_report_has_trace_and_config_but_no_secret`,
///   `identical_concurrent_probes_share_one_collection`).
/// - `system_and_connectivity`: a group that needs a login next to one that
///   does not, which must report whatever happens to the login
///   (`router_down_is_still_200_with_the_reason`,
///   `the_deadline_cuts_a_slow_group_while_the_others_report`,
///   `a_hanging_login_does_not_cost_the_no_login_groups`).
pub fn config_text(v7: SocketAddr, v6: SocketAddr, global: &str) -> String {
    format!(
        r#"global:
{global}
auths:
  main:
    username: admin
    password: "{PASSWORD}"
  other:
    username: admin
    password: "{PASSWORD}"
targets:
  r7:
    address: "{v7}"
    auth: main
    labels: {{site: lab}}
  r6:
    address: "{v6}"
    auth: main
modules:
  system_only:
    groups: [system]
  wireguard_only:
    groups: [wireguard]
  system_and_connectivity:
    groups: [system, connectivity]
"#
    )
}

/// Loads the config file at `path`, which must be valid.
pub fn load(path: &Path) -> Config {
    config::load_file(path, &group_names()).expect("test config loads")
}

/// Serves `app` on a free port of 127.0.0.1 until the test ends, with the
/// server's default bounds.
pub async fn serve(app: Arc<App>) -> SocketAddr {
    serve_with(app, ServerOptions::default(), Security::default()).await
}

/// Serves `app` with `options` and `security` until the test ends.
pub async fn serve_with(app: Arc<App>, options: ServerOptions, security: Security) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(server::serve(
        listener,
        app,
        options,
        security,
        std::future::pending(),
    ));
    addr
}

impl Harness {
    /// Writes `text` to the config file and POSTs `/-/reload`.
    pub async fn reload_with(&self, text: &str) -> Response {
        std::fs::write(&self.path, text).expect("write config");
        self.http.post("/-/reload").await
    }
}

/// A harness whose config has `global` (YAML lines, indented two spaces)
/// under `global:`.
pub async fn harness_with(global: &str) -> Harness {
    let sim = Simulator::start(SimConfig {
        routers: vec![
            router_config(RouterConfig::v7("r7")),
            router_config(RouterConfig::v6("r6")),
        ],
    })
    .await
    .expect("simulator starts");
    let (v7, v6) = (sim.routers()[0].clone(), sim.routers()[1].clone());
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("exporter.yml");
    std::fs::write(&path, config_text(v7.addr(), v6.addr(), global)).expect("write config");
    let app = App::new(load(&path), ProberOptions::default());
    let addr = serve(app.clone()).await;
    Harness {
        _sim: sim,
        v7,
        v6,
        http: Client::new(addr, PASSWORD),
        app,
        path,
        _dir: dir,
    }
}

/// A harness with a 10 s default probe timeout.
pub async fn harness() -> Harness {
    harness_with("  default_timeout: 10s").await
}

/// How many times `router` has received `command`.
pub fn command_count(router: &RouterHandle, command: &str) -> u64 {
    router
        .stats()
        .commands
        .get(command)
        .copied()
        .unwrap_or_default()
}

/// Waits (bounded) until `router` has received `command` `count` times.
pub async fn wait_for_command(router: &RouterHandle, command: &str, count: u64) {
    let waited = tokio::time::timeout(Duration::from_secs(30), async {
        while command_count(router, command) < count {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "{command} never reached {count}");
}

/// GET `/probe?{query}`, which must answer 200; returns the body.
pub async fn probe(http: &Client, query: &str) -> String {
    let r = http.get(&format!("/probe?{query}")).await;
    assert_eq!(r.status, 200, "{query}: {}", r.text());
    r.text()
}

/// [`probe`] in the text format, strictly parsed.
pub async fn probe_exposition(http: &Client, query: &str) -> Exposition {
    parse_exposition(&probe(http, query).await, false)
}
