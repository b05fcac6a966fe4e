//! The `connectivity` group on 127.0.0.1: the simulator's API port is up when
//! its API answers a bare `/login` (plain and through TLS), down when it
//! accepts and closes (a service restricted by `address=`), stays silent or is
//! closed; plain extra ports are TCP connects; all without a session, and a
//! down port is a 0 sample, not a failure.

#[allow(dead_code)]
mod support;

use routeros::Error;
use routeros::TlsSettings;
use routeros_exporter::collect::family::Value;
use routeros_exporter::collect::{ApiEvidence, Context, Trace, group};
use routeros_exporter::config::{ExtraPort, Module, Target};
use routeros_sim::{BareLogin, Faults, RouterConfig, RouterHandle, SimConfig, Simulator};
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

    // A TLS target names its API check `api-ssl`: the handshake (with the
    // target's certificate settings), then the same `/login`.
    let pinned = TlsSettings {
        fingerprint_sha256: handle.tls_fingerprint_sha256(),
        ..TlsSettings::default()
    };
    let ctx = context(format!("127.0.0.1:{tls}"), Some(pinned), Vec::new());
    let f = group.collect(&ctx).await.expect("collects");
    assert_eq!(
        samples(&f, "mikrotik_connection_status_up"),
        [(labels("api-ssl", tls), Value::Int(1))]
    );
    // A certificate the target's settings reject is no answering API.
    let ctx = context(
        format!("127.0.0.1:{tls}"),
        Some(TlsSettings::default()),
        Vec::new(),
    );
    let f = group.collect(&ctx).await.expect("collects");
    assert_eq!(
        samples(&f, "mikrotik_connection_status_up"),
        [(labels("api-ssl", tls), Value::Int(0))]
    );
    // Only bare `/login`s: no credentials, no login counted by the router.
    let stats = handle.stats();
    assert_eq!((stats.logins_ok, stats.logins_failed), (0, 0));
    assert_eq!(stats.commands.get("/login"), Some(&2));
}

/// A RouterOS service restricted with `/ip service set api address=…`
/// accepts the TCP connection from a source outside its list and closes it:
/// the API did not answer, so `api` and `api-ssl` read 0 there, while the
/// same check on a normal router reads 1. A TCP connect would say 1 for both.
#[tokio::test]
async fn a_service_restricted_by_address_is_down_and_a_normal_one_up() {
    let mut config = RouterConfig::v7("normal");
    config.tls_port = Some(0);
    let mut restricted = config.clone();
    restricted.name = "restricted".into();
    restricted.faults = Faults {
        refuse: true,
        ..Faults::default()
    };
    let sim = Simulator::start(SimConfig {
        routers: vec![config, restricted],
    })
    .await
    .expect("simulator starts");
    let group = group("connectivity").expect("registered");
    for (router, expected) in [(&sim.routers()[0], 1), (&sim.routers()[1], 0)] {
        assert_api_port(router, expected).await;
        let tls = router.tls_addr().expect("tls listener").port();
        let pinned = TlsSettings {
            fingerprint_sha256: router.tls_fingerprint_sha256(),
            ..TlsSettings::default()
        };
        let ctx = context(format!("127.0.0.1:{tls}"), Some(pinned), Vec::new());
        let f = group.collect(&ctx).await.expect("never a group failure");
        assert_eq!(
            samples(&f, "mikrotik_connection_status_up"),
            [(labels("api-ssl", tls), Value::Int(expected))],
            "{}",
            router.name()
        );
    }
    let restricted = sim.routers()[1].stats();
    assert_eq!(restricted.connections_accepted, 2, "TCP was accepted");
}

/// Checks `router`'s API port alone and expects `up` (1 or 0).
async fn assert_api_port(router: &RouterHandle, up: u64) {
    let api = router.addr().port();
    let ctx = context(format!("127.0.0.1:{api}"), None, Vec::new());
    let group = group("connectivity").expect("registered");
    let f = group.collect(&ctx).await.expect("never a group failure");
    assert_eq!(
        samples(&f, "mikrotik_connection_status_up"),
        [(labels("api", api), Value::Int(up))],
        "{}: {:?}",
        router.name(),
        ctx.trace.lines()
    );
}

/// An API port that accepts and never answers is down once its 2 s timeout
/// passes, well inside the probe deadline; 6.x's challenge and 7.x's
/// `!fatal` both count as answers.
#[tokio::test]
async fn silence_is_down_and_every_reply_word_is_up() {
    let mut fatal = RouterConfig::v7("fatal");
    fatal.personality.bare_login = BareLogin::Fatal;
    let mut silent = RouterConfig::v7("silent");
    silent.faults = Faults {
        hang_login: true,
        ..Faults::default()
    };
    let sim = Simulator::start(SimConfig {
        routers: vec![RouterConfig::v6("r6"), fatal, silent],
    })
    .await
    .expect("simulator starts");
    for (router, expected) in sim.routers().iter().zip([1, 1, 0]) {
        assert_api_port(router, expected).await;
    }
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

/// `ctx` for the API port at `address`, told by a collection that logs in.
fn with_evidence(address: String, evidence: ApiEvidence) -> Context {
    let (tx, rx) = tokio::sync::watch::channel(Some(evidence));
    // A sent value stays readable after the sender is gone.
    drop(tx);
    context(address, None, Vec::new()).with_api_evidence(rx)
}

async fn api_up(ctx: &Context) -> (Value, usize) {
    let f = group("connectivity")
        .expect("registered")
        .collect(ctx)
        .await
        .expect("never a group failure");
    let up = samples(&f, "mikrotik_connection_status_up")[0].1;
    let durations = samples(&f, "mikrotik_connection_status_duration_seconds").len();
    (up, durations)
}

/// In a collection that logs in, the API port's status is the session's:
/// no connection of its own; up when the router answers on the session, down
/// when it went silent (a pooled session to a router that vanished) or the
/// login never got an answer, up when the router refused the login.
#[tokio::test]
async fn a_logged_in_collection_reads_the_api_port_from_its_session() {
    let probe = support::group::Probe::start(
        RouterConfig::v7("r"),
        Instant::now() + Duration::from_secs(10),
    )
    .await;
    let router = probe.sim.routers()[0].clone();
    let accepted = router.stats().connections_accepted;
    let ctx = with_evidence(
        probe.address.clone(),
        ApiEvidence::Session(probe.session.clone()),
    );
    // Another group's command on the session, as in a real probe.
    let identity = routeros::Command::new("/system/identity/print");
    let (up, _) = tokio::join!(api_up(&ctx), async {
        probe.session.rows(&identity, ctx.deadline).await
    })
    .0;
    assert_eq!(up, Value::Int(1));
    // The router stops answering: nothing arrives on the session.
    router.set_faults(Faults {
        hang: true,
        ..Faults::default()
    });
    let (down, _) = tokio::join!(api_up(&ctx), async {
        let short = Instant::now() + Duration::from_millis(500);
        probe.session.rows(&identity, short).await
    })
    .0;
    assert_eq!(down, Value::Int(0), "{:?}", ctx.trace.lines());
    assert_eq!(
        router.stats().connections_accepted,
        accepted,
        "no connection of its own"
    );

    let auth = Error::Auth {
        message: "invalid user name or password (6)".into(),
    };
    let cases = [
        (ApiEvidence::LoginFailed(auth.clone()), Value::Int(1), 1),
        (ApiEvidence::LoginFailed(Error::Eof), Value::Int(0), 0),
        (
            ApiEvidence::LoginFailed(Error::Backoff {
                retry_in: Duration::from_secs(3),
                last: Arc::new(auth),
            }),
            Value::Int(1),
            0,
        ),
    ];
    for (evidence, expected, durations) in cases {
        let ctx = with_evidence(probe.address.clone(), evidence.clone());
        assert_eq!(api_up(&ctx).await, (expected, durations), "{evidence:?}");
    }
    assert_eq!(router.stats().connections_accepted, accepted);
}
