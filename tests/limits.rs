//! `global.limits.max_concurrent_per_target`: a second collection against a busy
//! router waits for the first, and fails with the reason when its own deadline
//! passes while waiting; the router never sees the second collection's commands.

use routeros_exporter::collect;
use routeros_exporter::config;
use routeros_exporter::probe::{ProbeRequest, Prober, ProberOptions};
use routeros_sim::{Faults, RouterConfig, SimConfig, Simulator};
use std::sync::Arc;
use std::time::Duration;

fn request(module: &str, timeout: Duration) -> ProbeRequest {
    ProbeRequest {
        target: "r".into(),
        modules: vec![module.into()],
        scrape_timeout: Some(timeout),
        debug: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_target_makes_the_next_collection_wait_within_its_deadline() {
    let sim = Simulator::start(SimConfig {
        routers: vec![RouterConfig::v7("r")],
    })
    .await
    .expect("simulator starts");
    let router = sim.routers()[0].clone();
    let text = format!(
        "global:\n  limits:\n    max_concurrent_per_target: 1\n\
         auths:\n  a:\n    username: admin\n    password: \"\"\n\
         targets:\n  r:\n    address: \"{}\"\n    auth: a\n\
         modules:\n  sys:\n    groups: [system]\n  fw:\n    groups: [firewall]\n",
        router.addr()
    );
    let config = config::load_str(&text, "limits.yml", &collect::group_names())
        .unwrap_or_else(|e| panic!("{e}"));
    let prober = Arc::new(Prober::new(config, ProberOptions::default(), None));
    router.set_faults(Faults {
        latency_ms: 1_500,
        ..Faults::default()
    });

    let first = tokio::spawn({
        let prober = prober.clone();
        async move { prober.probe(request("sys", Duration::from_secs(10))).await }
    });
    // Start the second only once the first is talking to the router.
    for _ in 0..200 {
        if router
            .stats()
            .commands
            .contains_key("/system/resource/print")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let second = prober
        .probe(request("fw", Duration::from_millis(900)))
        .await
        .expect("valid request");
    assert!(!second.collection.success);
    let reason = second.collection.error.clone().unwrap_or_default();
    assert!(
        reason.contains("too many concurrent collections"),
        "{reason}"
    );
    assert!(
        !router
            .stats()
            .commands
            .contains_key("/ip/firewall/filter/print"),
        "the waiting collection sent nothing"
    );

    let first = first.await.expect("task").expect("valid request");
    assert!(first.collection.success, "{:?}", first.collection.error);
}
