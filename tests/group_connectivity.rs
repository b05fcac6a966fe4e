//! The `connectivity` group on 127.0.0.1: the simulator's API port is up, a
//! just-closed port is down (a 0 sample, not a failure), all without a session.

#[allow(dead_code)]
mod support;

use routeros::TlsSettings;
use routeros_exporter::collect::family::Value;
use routeros_exporter::collect::{Context, Trace, group};
use routeros_exporter::config::{ExtraPort, Module, Target};
use routeros_sim::RouterConfig;
use std::sync::Arc;
use std::time::Duration;
use support::group::samples;
use support::net::free_port;
use tokio::time::Instant;

fn context(address: String, tls: Option<TlsSettings>, extra: Vec<ExtraPort>) -> Context {
    support::group::context(
        None,
        Module::with_groups("connectivity", &["connectivity"]),
        Target {
            tls,
            connectivity: extra,
            ..support::group::target(address)
        },
        Instant::now() + Duration::from_secs(10),
        Arc::new(Trace::new(true)),
        0,
    )
}

fn labels(name: &str, port: u16) -> Vec<String> {
    vec![name.into(), port.to_string(), "tcp".into()]
}

#[tokio::test]
async fn api_port_up_and_closed_port_down() {
    let mut router = RouterConfig::v7("r7");
    router.tls_port = Some(0);
    let sim = support::group::simulator(router).await;
    let handle = &sim.routers()[0];
    let api = handle.addr().port();
    let tls = handle.tls_addr().expect("tls listener").port();
    let closed = free_port();
    let extra = vec![
        ExtraPort {
            port: closed,
            name: "winbox".into(),
            timeout: Duration::from_secs(2),
        },
        ExtraPort {
            port: tls,
            name: "api-ssl".into(),
            timeout: Duration::from_secs(2),
        },
    ];
    let group = group("connectivity").expect("registered");
    assert!(!group.needs_session());
    let ctx = context(format!("127.0.0.1:{api}"), None, extra);
    let f = group.collect(&ctx).await.expect("never a group failure");
    assert_eq!(
        samples(&f, "mikrotik_connection_status_up"),
        [
            (labels("api", api), Value::Int(1)),
            (labels("winbox", closed), Value::Int(0)),
            (labels("api-ssl", tls), Value::Int(1)),
        ]
    );
    let durations = samples(&f, "mikrotik_connection_status_duration_seconds");
    let names: Vec<&str> = durations.iter().map(|(l, _)| l[0].as_str()).collect();
    assert_eq!(names, ["api", "api-ssl"], "only ports that are up");
    assert!(durations.iter().all(|(_, v)| v.as_f64() >= 0.0));
    assert_eq!(ctx.trace.lines().len(), 3);

    // A TLS target names its API check `api-ssl`.
    let ctx = context(
        format!("127.0.0.1:{tls}"),
        Some(TlsSettings::default()),
        Vec::new(),
    );
    let f = group.collect(&ctx).await.expect("collects");
    assert_eq!(
        samples(&f, "mikrotik_connection_status_up"),
        [(labels("api-ssl", tls), Value::Int(1))]
    );
}

#[tokio::test]
async fn a_closed_api_port_is_a_zero_sample() {
    let closed = free_port();
    let ctx = context(format!("127.0.0.1:{closed}"), None, Vec::new());
    let f = group("connectivity")
        .expect("registered")
        .collect(&ctx)
        .await
        .expect("a down port is not a failure");
    assert_eq!(
        samples(&f, "mikrotik_connection_status_up"),
        [(labels("api", closed), Value::Int(0))]
    );
    assert!(samples(&f, "mikrotik_connection_status_duration_seconds").is_empty());
}
