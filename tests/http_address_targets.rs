//! Address targets (`/probe?target=ADDRESS&auth=NAME` with `address_targets:`)
//! through the HTTP layer, against simulated routers on 127.0.0.1. Loopback
//! is reserved (refused unless an allow entry within 127.0.0.0/8 names it),
//! so the configs that must reach the simulator list 127.0.0.0/8 explicitly.
//! The allow-list logic itself (IPv6, mapped addresses, metadata) has unit
//! tests in `src/probe/address.rs`.

#[allow(dead_code)]
mod support;

use routeros_exporter::http::App;
use routeros_exporter::probe::ProberOptions;
use routeros_sim::{RouterConfig, RouterHandle, SimConfig, Simulator};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;
use support::exposition::{Exposition, parse_exposition};
use support::harness::{PASSWORD, load, router_config, serve};
use support::http::Client;
use tempfile::TempDir;

/// An exporter whose config has the `address_targets:` section `section`
/// (YAML lines indented two spaces, or none), and simulated routers.
struct Fixture {
    _sim: Simulator,
    routers: Vec<RouterHandle>,
    http: Client,
    /// The config file, rewritten by [`Fixture::reload`].
    path: PathBuf,
    dir: TempDir,
}

/// The auths `fleet` and `other` (the routers' credentials both), the
/// configured target `named` (the first router) and module `system_only`.
fn config_text(named: &RouterHandle, section: Option<&str>) -> String {
    let section = section
        .map(|s| format!("address_targets:\n{s}\n"))
        .unwrap_or_default();
    format!(
        r#"auths:
  fleet:
    username: admin
    password: "{PASSWORD}"
  other:
    username: admin
    password: "{PASSWORD}"
targets:
  named:
    address: "{addr}"
    auth: fleet
modules:
  system_only:
    groups: [system]
{section}"#,
        addr = named.addr()
    )
}

impl Fixture {
    async fn start(routers: usize, section: Option<&str>) -> Self {
        let routers = (0..routers)
            .map(|i| router_config(RouterConfig::v7(format!("r{i}"))))
            .collect();
        Fixture::with_routers(routers, section).await
    }

    async fn with_routers(routers: Vec<RouterConfig>, section: Option<&str>) -> Self {
        let sim = Simulator::start(SimConfig { routers })
            .await
            .expect("simulator starts");
        let routers = sim.routers().to_vec();
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("exporter.yml");
        std::fs::write(&path, config_text(&routers[0], section)).expect("write config");
        let app = App::new(load(&path), ProberOptions::default());
        let http = Client::new(serve(app).await, PASSWORD);
        Fixture {
            _sim: sim,
            routers,
            http,
            path,
            dir,
        }
    }

    /// Rewrites the config with `section` and reloads it, which must work.
    async fn reload(&self, section: Option<&str>) {
        let text = config_text(&self.routers[0], section);
        std::fs::write(&self.path, text).expect("write config");
        let r = self.http.post("/-/reload").await;
        assert_eq!(r.status, 200, "{}", r.text());
    }

    /// `address_targets` allowing `allow` with auth `fleet`, at most `max`.
    async fn allowing(routers: usize, allow: &str, max: usize) -> Self {
        let section = format!("  allow: {allow}\n  auths: [fleet]\n  max_targets: {max}");
        Fixture::start(routers, Some(&section)).await
    }

    /// GET `/probe?{query}&module=system_only`: status and body.
    async fn probe(&self, query: &str) -> (u16, String) {
        let r = self
            .http
            .get(&format!("/probe?{query}&module=system_only"))
            .await;
        (r.status, r.text())
    }

    /// A probe that must answer 200, parsed.
    async fn probe_ok(&self, query: &str) -> Exposition {
        let (status, body) = self.probe(query).await;
        assert_eq!(status, 200, "{query}: {body}");
        parse_exposition(&body, false)
    }

    async fn self_metrics(&self) -> Exposition {
        parse_exposition(&self.http.get("/metrics").await.text(), true)
    }

    /// `routeros_exporter_address_targets_refused_total{reason}`.
    async fn refused(&self, reason: &str) -> f64 {
        self.self_metrics().await.must(
            "routeros_exporter_address_targets_refused_total",
            &[("reason", reason)],
        )
    }

    fn connections(&self) -> u64 {
        self.routers
            .iter()
            .map(|r| r.stats().connections_accepted)
            .sum()
    }
}

/// `auth=fleet&target=127.0.0.1:PORT` for `router`.
fn at(router: &RouterHandle) -> String {
    format!("auth=fleet&target={}", router.addr())
}

#[tokio::test]
async fn an_allowed_address_is_probed_over_one_pooled_session() {
    let f = Fixture::allowing(1, "[127.0.0.0/8]", 10).await;
    let router = &f.routers[0];
    for round in 1..=3 {
        let e = f.probe_ok(&at(router)).await;
        assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0, "round {round}");
        // The target's own state and pool figures, as for a named target.
        assert_eq!(
            e.must("mikrotik_scrape_success_total", &[]),
            f64::from(round)
        );
        assert_eq!(e.must("mikrotik_connection_pool_size", &[]), 1.0);
    }
    // The same address written as an IPv4-mapped IPv6 one is the same target.
    let mapped = format!(
        "auth=fleet&target=[::ffff:127.0.0.1]:{}",
        router.addr().port()
    );
    let e = f.probe_ok(&mapped).await;
    assert_eq!(e.must("mikrotik_scrape_success_total", &[]), 4.0);
    let stats = router.stats();
    assert_eq!(
        (stats.logins_ok, stats.connections_accepted),
        (1, 1),
        "one login and one connection over four probes"
    );
    // The exporter's own metrics count address targets per auth, not per
    // address.
    let metrics = f.self_metrics().await;
    let probes = [
        ("target", "fleet@*"),
        ("module", "system_only"),
        ("result", "success"),
    ];
    assert_eq!(metrics.must("routeros_exporter_probes_total", &probes), 4.0);
    assert_eq!(metrics.must("routeros_exporter_address_targets", &[]), 1.0);
}

#[tokio::test]
async fn an_address_outside_the_allow_list_is_403_before_any_connection() {
    let f = Fixture::allowing(1, "[10.0.0.0/8, \"2001:db8::/32\"]", 10).await;
    assert_eq!(f.refused("not_allowed").await, 0.0);
    let (status, body) = f.probe(&at(&f.routers[0])).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("not in address_targets.allow"), "{body}");
    assert!(
        !body.contains("10.0.0.0"),
        "the allow-list is not shown: {body}"
    );
    assert_eq!(f.refused("not_allowed").await, 1.0);
    assert_eq!(f.connections(), 0, "the router saw no connection");
    // Unlabelled samples carry no empty `{}`.
    let text = f.http.get("/metrics").await.text();
    for sample in [
        "\nrouteros_exporter_address_targets 0\n",
        "\nrouteros_exporter_address_targets_evicted_total 0\n",
    ] {
        assert!(text.contains(sample), "{sample:?} in {text}");
    }
}

#[tokio::test]
async fn loopback_needs_an_allow_entry_that_names_it() {
    // Everything IPv4 is allowed, but 0.0.0.0/0 does not name loopback.
    let f = Fixture::allowing(1, "[0.0.0.0/0]", 10).await;
    let port = f.routers[0].addr().port();
    for target in [
        format!("127.0.0.1:{port}"),
        format!("[::ffff:127.0.0.1]:{port}"),
        format!("0.0.0.0:{port}"),
    ] {
        let (status, body) = f.probe(&format!("auth=fleet&target={target}")).await;
        assert_eq!(status, 403, "{target}: {body}");
    }
    assert_eq!(f.refused("reserved").await, 3.0);
    assert_eq!(f.refused("not_allowed").await, 0.0);
    assert_eq!(f.connections(), 0);
}

#[tokio::test]
async fn auth_must_be_listed_and_given() {
    let f = Fixture::allowing(1, "[127.0.0.0/8]", 10).await;
    let target = format!("target={}", f.routers[0].addr());
    // `other` exists (with working credentials) but is not listed.
    for auth in ["other", "nope"] {
        let (status, body) = f.probe(&format!("{target}&auth={auth}")).await;
        assert_eq!(status, 403, "{auth}: {body}");
        assert!(body.contains("not one of address_targets.auths"), "{body}");
    }
    assert_eq!(f.refused("auth").await, 2.0);
    let (status, body) = f.probe(&target).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("missing auth parameter"), "{body}");
    let (status, body) = f.probe(&format!("{target}&auth=fleet&auth=fleet")).await;
    assert_eq!(status, 400, "{body}");
    // A configured target has its own auth.
    let (status, body) = f.probe("target=named&auth=fleet").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("configured with its own auth"), "{body}");
    assert_eq!(f.connections(), 0);
    assert_eq!(
        f.refused("not_allowed").await + f.refused("reserved").await,
        0.0
    );
}

#[tokio::test]
async fn without_address_targets_an_address_is_an_unknown_target() {
    let f = Fixture::start(1, None).await;
    for query in [at(&f.routers[0]), format!("target={}", f.routers[0].addr())] {
        let (status, body) = f.probe(&query).await;
        assert_eq!(status, 404, "{query}: {body}");
    }
    assert_eq!(f.connections(), 0);
    // The named target still works, through the same router.
    f.probe_ok("target=named").await;
    assert_eq!(f.connections(), 1);
}

/// What `localhost` resolves to here (IPv4-mapped answers as IPv4).
async fn localhost() -> Vec<IpAddr> {
    tokio::net::lookup_host(("localhost", 80))
        .await
        .expect("localhost resolves")
        .map(|a| a.ip().to_canonical())
        .collect()
}

#[tokio::test]
async fn localhost_is_allowed_only_when_loopback_is_listed() {
    let f = Fixture::allowing(1, "[10.0.0.0/8]", 10).await;
    let query = format!("auth=fleet&target=localhost:{}", f.routers[0].addr().port());
    let (status, body) = f.probe(&query).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("localhost:"), "names the host: {body}");
    assert_eq!(f.connections(), 0);

    let f = Fixture::allowing(1, "[127.0.0.0/8]", 10).await;
    let query = format!("auth=fleet&target=localhost:{}", f.routers[0].addr().port());
    let resolved = localhost().await;
    let elsewhere: Vec<&IpAddr> = resolved
        .iter()
        .filter(|ip| !matches!(ip, IpAddr::V4(v4) if v4.is_loopback()))
        .collect();
    if elsewhere.is_empty() {
        let e = f.probe_ok(&query).await;
        assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);
        assert_eq!(f.routers[0].stats().logins_ok, 1);
    } else {
        // Where localhost also resolves to ::1, the name resolves outside
        // 127.0.0.0/8: every address must pass, so it is refused.
        let (status, body) = f.probe(&query).await;
        assert_eq!(status, 403, "{resolved:?}: {body}");
        assert_eq!(f.connections(), 0);
    }
}

#[tokio::test]
async fn at_most_max_targets_are_kept_least_recently_used_first() {
    let f = Fixture::allowing(4, "[127.0.0.0/8]", 2).await;
    let [a, b, c] = [&f.routers[1], &f.routers[2], &f.routers[3]];
    f.probe_ok(&at(a)).await;
    f.probe_ok(&at(b)).await;
    f.probe_ok(&at(a)).await;
    // Three distinct targets (different ports), room for two: b, the least
    // recently probed, is forgotten.
    f.probe_ok(&at(c)).await;
    let metrics = f.self_metrics().await;
    assert_eq!(metrics.must("routeros_exporter_address_targets", &[]), 2.0);
    assert_eq!(
        metrics.must("routeros_exporter_address_targets_evicted_total", &[]),
        1.0
    );
    // Its pooled session is closed...
    let closed = tokio::time::timeout(Duration::from_secs(30), async {
        while b.stats().connections_open > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(closed.is_ok(), "b's session was never closed");
    assert_eq!(a.stats().connections_open, 1, "a kept its session");
    // ... and its state is gone: it starts over, with a new login.
    let e = f.probe_ok(&at(b)).await;
    assert_eq!(e.must("mikrotik_scrape_success_total", &[]), 1.0);
    assert_eq!(b.stats().logins_ok, 2);
    // a, the least recently used now, made room for b.
    let e = f.probe_ok(&at(c)).await;
    assert_eq!(e.must("mikrotik_scrape_success_total", &[]), 2.0);
    let e = f.probe_ok(&at(a)).await;
    assert_eq!(e.must("mikrotik_scrape_success_total", &[]), 1.0);
    assert_eq!(a.stats().logins_ok, 2);
    assert_eq!(c.stats().logins_ok, 1);
}

#[tokio::test]
async fn forgetting_an_address_target_keeps_a_session_a_configured_target_shares() {
    let f = Fixture::allowing(2, "[127.0.0.0/8]", 1).await;
    let [shared, other] = [&f.routers[0], &f.routers[1]];
    // `named` is `shared` with the same credentials: one pooled session.
    f.probe_ok("target=named").await;
    f.probe_ok(&at(shared)).await;
    assert_eq!(shared.stats().logins_ok, 1);
    // Room for one address target: probing `other` forgets `shared`'s
    // address target, but `named` keeps its session.
    f.probe_ok(&at(other)).await;
    assert_eq!(
        f.self_metrics()
            .await
            .must("routeros_exporter_address_targets_evicted_total", &[]),
        1.0
    );
    f.probe_ok("target=named").await;
    assert_eq!(shared.stats().logins_ok, 1, "no second login for `named`");
}

#[tokio::test]
async fn a_reload_keeps_address_targets_unless_their_section_changes() {
    let section = "  allow: [127.0.0.0/8]\n  auths: [fleet]";
    // Router 1: router 0 is also the configured `named`, whose session
    // every reload keeps.
    let f = Fixture::start(2, Some(section)).await;
    let router = &f.routers[1];
    f.probe_ok(&at(router)).await;
    // Unchanged section and credentials: same session, same state.
    f.reload(Some(section)).await;
    let e = f.probe_ok(&at(router)).await;
    assert_eq!(e.must("mikrotik_scrape_success_total", &[]), 2.0);
    assert_eq!(router.stats().logins_ok, 1);
    // A changed section starts every address target over.
    let wider = "  allow: [127.0.0.0/8, 10.0.0.0/8]\n  auths: [fleet]";
    f.reload(Some(wider)).await;
    let e = f.probe_ok(&at(router)).await;
    assert_eq!(e.must("mikrotik_scrape_success_total", &[]), 1.0);
    assert_eq!(router.stats().logins_ok, 2);
    // Switched off: the address is an unknown target again.
    f.reload(None).await;
    let (status, body) = f.probe(&at(router)).await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn address_targets_use_the_sections_tls_settings() {
    let router = RouterConfig {
        tls_port: Some(0),
        ..router_config(RouterConfig::v7("tls"))
    };
    let f = Fixture::with_routers(vec![router], None).await;
    let handle = &f.routers[0];
    let ca = f.dir.path().join("router-ca.pem");
    std::fs::write(&ca, handle.tls_ca_pem().expect("CA")).expect("write CA");
    let tls = handle.tls_addr().expect("API-SSL listener");
    let query = format!("auth=fleet&target={tls}");
    let section = |server_name: &str| {
        format!(
            "  allow: [127.0.0.0/8]\n  auths: [fleet]\n  tls:\n    ca_file: \"{}\"\n{server_name}",
            ca.display()
        )
    };
    // Verified against the certificate's IP address.
    f.reload(Some(&section(""))).await;
    let e = f.probe_ok(&query).await;
    assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);
    assert_eq!(handle.stats().logins_ok, 1);
    // A name the certificate does not carry fails before any login.
    f.reload(Some(&section("    server_name: other.example")))
        .await;
    let e = f.probe_ok(&query).await;
    assert_eq!(e.must("mikrotik_probe_success", &[]), 0.0);
    assert_eq!(handle.stats().logins_ok, 1);
}

#[tokio::test]
async fn a_request_with_an_unknown_module_makes_no_room() {
    let f = Fixture::allowing(2, "[127.0.0.0/8]", 1).await;
    let [kept, other] = [&f.routers[0], &f.routers[1]];
    f.probe_ok(&at(kept)).await;
    let r = f
        .http
        .get(&format!("/probe?{}&module=nope", at(other)))
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let metrics = f.self_metrics().await;
    assert_eq!(
        metrics.must("routeros_exporter_address_targets_evicted_total", &[]),
        0.0
    );
    let e = f.probe_ok(&at(kept)).await;
    assert_eq!(e.must("mikrotik_scrape_success_total", &[]), 2.0);
    assert_eq!(other.stats().connections_accepted, 0);
}
