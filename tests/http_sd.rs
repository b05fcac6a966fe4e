//! `GET /sd`: Prometheus HTTP service discovery of the configured targets.
//! The answer is exactly what Prometheus' http_sd accepts (content type
//! `application/json`, an array of `{"targets": [...], "labels": {...}}`),
//! one entry per target sorted by name, with the target's extra labels and a
//! `__param_module` hint for a target naming its module; it follows reloads,
//! lists targets from the environment contract and demo mode too, and never
//! carries an address or a secret. A target's `module:` is also what `/probe`
//! runs when the request names no module, and `/config` shows it.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::group_names;
use routeros_exporter::config;
use routeros_exporter::http::App;
use routeros_exporter::probe::ProberOptions;
use serde_json::json;
use std::net::SocketAddr;
use support::harness::{Harness, PASSWORD, config_text, harness, probe_exposition, serve};
use support::http::{Client, Response};

/// GET `/sd`, which must be a 200 in the one content type Prometheus' http_sd
/// accepts (it refuses anything but `application/json`, optionally with a
/// UTF-8 charset); returns the parsed body.
async fn sd(http: &Client) -> serde_json::Value {
    let r = http.get("/sd").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    r.json()
}

/// The harness's config with `r7` naming `module` as its default.
fn with_r7_module(h: &Harness, module: &str) -> String {
    config_text(h.v7.addr(), h.v6.addr(), "  default_timeout: 10s").replace(
        "    labels: {site: lab}\n",
        &format!("    labels: {{site: lab}}\n    module: {module}\n"),
    )
}

async fn reload(h: &Harness, text: &str) {
    let r = h.reload_with(text).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn shape_labels_and_no_address() {
    let h = harness().await;
    let r = h.http.get("/sd").await;
    let body = r.text();
    assert_eq!(
        sd(&h.http).await,
        json!([
            {"targets": ["r6"], "labels": {}},
            {"targets": ["r7"], "labels": {"site": "lab"}},
        ])
    );
    // Names and labels only: no address, no auth, no password (the client
    // fails on the password by itself).
    for address in [h.v7.addr(), h.v6.addr()] {
        assert!(!body.contains(&address.to_string()), "{body}");
        assert!(!body.contains(&address.port().to_string()), "{body}");
    }
    assert!(!body.contains("main") && !body.contains("admin"), "{body}");
}

#[tokio::test]
async fn gzip_when_asked() {
    // Prometheus' HTTP client asks for gzip; the JSON must survive it.
    let h = harness().await;
    let r: Response = h.http.get_with("/sd", &[("accept-encoding", "gzip")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.json(), sd(&h.http).await);
}

#[tokio::test]
async fn module_hint_is_the_probe_default_and_follows_reloads() {
    let h = harness().await;
    // Before: no hint, and /probe without module= runs `full`.
    let e = probe_exposition(&h.http, "target=r7").await;
    assert!(
        e.value("mikrotik_collector_success", &[("collector", "interface")])
            .is_some(),
        "full runs the interface group"
    );

    reload(&h, &with_r7_module(&h, "system_only")).await;
    assert_eq!(
        sd(&h.http).await,
        json!([
            {"targets": ["r6"], "labels": {}},
            {"targets": ["r7"], "labels": {"__param_module": "system_only", "site": "lab"}},
        ])
    );
    // /config shows it with the target.
    let config = h.http.get("/config").await.text();
    assert!(config.contains("module: system_only"), "{config}");
    // /probe without module= now runs the target's module: the system group
    // only, as when Prometheus sends module=system_only from the hint.
    for query in ["target=r7", "target=r7&module=system_only"] {
        let e = probe_exposition(&h.http, query).await;
        let collectors: Vec<&str> = e
            .all("mikrotik_collector_success")
            .iter()
            .filter_map(|(labels, _)| labels.get("collector").map(String::as_str))
            .collect();
        assert_eq!(collectors, ["system"], "{query}");
        assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0, "{query}");
    }
    // A module in the request still wins over the target's.
    let e = probe_exposition(&h.http, "target=r7&module=wireguard_only").await;
    assert!(
        e.value("mikrotik_collector_success", &[("collector", "system")])
            .is_none()
    );
    // r6 names no module: still `full`.
    let e = probe_exposition(&h.http, "target=r6").await;
    assert!(
        e.value("mikrotik_collector_success", &[("collector", "interface")])
            .is_some()
    );
}

#[tokio::test]
async fn reload_changes_it_and_a_failed_reload_keeps_it() {
    let h = harness().await;
    let before = sd(&h.http).await;

    // An unknown module is refused with file, line and field; /sd unchanged.
    let r = h.reload_with(&with_r7_module(&h, "system_onyl")).await;
    assert_eq!(r.status, 500);
    let text = r.text();
    assert!(
        text.contains(
            "targets.r7.module: unknown module `system_onyl`, did you mean `system_only`?"
        ),
        "{text}"
    );
    assert!(text.contains("line 15 column 5"), "{text}");
    assert_eq!(sd(&h.http).await, before);

    // No targets at all: an empty array, not an error.
    reload(
        &h,
        &format!("auths:\n  main:\n    username: admin\n    password: \"{PASSWORD}\"\ntargets:\n"),
    )
    .await;
    let r = h.http.get("/sd").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.text(), "[]");

    // Back to two targets, then a third one in between: sorted by name.
    let text = config_text(h.v7.addr(), h.v6.addr(), "  default_timeout: 10s").replace(
        "targets:\n",
        &format!(
            "targets:\n  r65:\n    address: \"{}\"\n    auth: main\n    labels: {{tier: \"2\"}}\n",
            h.v6.addr()
        ),
    );
    reload(&h, &text).await;
    assert_eq!(
        sd(&h.http).await,
        json!([
            {"targets": ["r6"], "labels": {}},
            {"targets": ["r65"], "labels": {"tier": "2"}},
            {"targets": ["r7"], "labels": {"site": "lab"}},
        ])
    );
}

async fn serve_config(config: config::Config) -> Client {
    let app = App::new(config, ProberOptions::default());
    Client::new(serve(app).await, PASSWORD)
}

#[tokio::test]
async fn environment_and_demo_targets_are_listed() {
    // The original exporter's contract: ROUTERS_CONFIG.
    let json_text = format!(
        r#"[{{"name":"b","address":"192.0.2.7","username":"admin","password":"{PASSWORD}"}},
            {{"name":"a","address":"192.0.2.8:8729","username":"u","password":"{PASSWORD}"}}]"#
    );
    let vars = move |name: &str| (name == "ROUTERS_CONFIG").then(|| json_text.clone());
    let (config, warnings) = config::from_env(&vars, &group_names());
    assert!(warnings.is_empty(), "{warnings:?}");
    let http = serve_config(config).await;
    let r = http.get("/sd").await;
    assert!(!r.text().contains("192.0.2."), "{}", r.text());
    assert_eq!(
        sd(&http).await,
        json!([
            {"targets": ["a"], "labels": {}},
            {"targets": ["b"], "labels": {}},
        ])
    );

    // --demo's config (the simulated routers `demo` and `demo-v6`).
    let addr: SocketAddr = "127.0.0.1:18728".parse().expect("address");
    let v6: SocketAddr = "127.0.0.1:18729".parse().expect("address");
    let demo = config::demo(
        &[("demo".into(), addr), ("demo-v6".into(), v6)],
        &group_names(),
    );
    let http = serve_config(demo).await;
    assert_eq!(
        sd(&http).await,
        json!([
            {"targets": ["demo"], "labels": {}},
            {"targets": ["demo-v6"], "labels": {}},
        ])
    );
}

#[tokio::test]
async fn landing_page_links_it() {
    let h = harness().await;
    let page = h.http.get("/").await.text();
    assert!(page.contains("<a href=\"/sd\">"), "{page}");
}
