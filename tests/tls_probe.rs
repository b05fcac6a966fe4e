//! API-SSL end to end through the config and the prober: a target with `tls:`
//! and a pinned fingerprint probes successfully over the simulator's API-SSL
//! port; a wrong fingerprint is a failed probe whose reason says so.

use routeros_exporter::collect;
use routeros_exporter::config;
use routeros_exporter::probe::{ProbeRequest, Prober, ProberOptions};
use routeros_sim::{RouterConfig, SimConfig, Simulator};
use std::sync::Arc;
use std::time::Duration;

fn config_text(address: &str, fingerprint: &str) -> String {
    format!(
        "auths:\n  a:\n    username: admin\n    password: \"\"\n\
         targets:\n  secure:\n    address: \"{address}\"\n    auth: a\n    tls:\n      fingerprint_sha256: \"{fingerprint}\"\n\
         modules:\n  sys:\n    groups: [system]\n"
    )
}

async fn probe(address: &str, fingerprint: &str) -> (bool, Option<String>) {
    let text = config_text(address, fingerprint);
    let config = config::load_str(&text, "tls.yml", &collect::group_names())
        .unwrap_or_else(|e| panic!("{e}"));
    let prober = Arc::new(Prober::new(config, ProberOptions::default(), None));
    let output = prober
        .probe(ProbeRequest {
            target: "secure".into(),
            auth: None,
            modules: vec!["sys".into()],
            scrape_timeout: Some(Duration::from_secs(5)),
            debug: false,
        })
        .await
        .expect("valid request");
    (output.collection.success, output.collection.error.clone())
}

#[tokio::test]
async fn pinned_api_ssl_target_probes_and_a_wrong_pin_fails_with_the_reason() {
    let mut router = RouterConfig::v7("tls");
    router.tls_port = Some(0);
    let sim = Simulator::start(SimConfig {
        routers: vec![router],
    })
    .await
    .expect("simulator starts");
    let handle = &sim.routers()[0];
    let address = handle.tls_addr().expect("API-SSL listener").to_string();
    let fingerprint = handle.tls_fingerprint_sha256().expect("certificate");

    let (ok, error) = probe(&address, &fingerprint).await;
    assert!(ok, "pinned probe failed: {error:?}");
    assert_eq!(handle.stats().logins_ok, 1);

    let (ok, error) = probe(&address, &"11".repeat(32)).await;
    assert!(!ok);
    let error = error.expect("a reason");
    assert!(error.contains("fingerprint mismatch"), "{error}");
    assert_eq!(
        handle.stats().logins_ok,
        1,
        "no login over an unverified channel"
    );
}
