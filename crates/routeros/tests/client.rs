//! The RouterOS client (session, login, pool, TLS) against the project's simulator
//! on 127.0.0.1: both logins, many tagged commands on one session, cancel, every
//! fault mode ending in a typed error within the caller's deadline, and pooled
//! sessions never reused after an interrupted exchange.

use routeros::connection::{TlsConnect, connect};
use routeros::login::{LoginMethod, knock, login};
use routeros::pool::{CloseReason, Endpoint, Pool, PoolConfig};
use routeros::session::{Counters, Session, SessionOptions};
use routeros::{Command, Error, ProtocolError, SizeLimits, TlsSettings};
use routeros_sim::personality::Version;
use routeros_sim::{Faults, OverLimit, RouterConfig, RouterHandle, SimConfig, Simulator};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

async fn sim(router: RouterConfig) -> (Simulator, RouterHandle) {
    let sim = Simulator::start(SimConfig {
        routers: vec![router],
    })
    .await
    .expect("simulator starts");
    let handle = sim.routers()[0].clone();
    (sim, handle)
}

fn endpoint(router: &RouterHandle) -> Endpoint {
    Endpoint {
        address: router.addr().to_string(),
        username: "admin".into(),
        password: String::new(),
        tls: None,
    }
}

fn secs(n: u64) -> Instant {
    Instant::now() + Duration::from_secs(n)
}

fn millis(n: u64) -> Instant {
    Instant::now() + Duration::from_millis(n)
}

async fn open(router: &RouterHandle, limits: SizeLimits) -> Session {
    let transport = connect(&router.addr().to_string(), None, secs(5))
        .await
        .unwrap();
    let options = SessionOptions {
        limits,
        ..SessionOptions::default()
    };
    Session::start(transport, options, Arc::new(Counters::default()))
}

async fn logged_in(router: &RouterHandle) -> Session {
    let session = open(router, SizeLimits::default()).await;
    login(&session, "admin", "", secs(5)).await.unwrap();
    session
}

fn identity() -> Command {
    Command::new("/system/identity/print").proplist(&["name"])
}

/// Runs `fut`, checking that it ends by `deadline` plus a generous scheduling slack
/// (a correctness bound, not a performance target).
async fn within<T>(deadline: Instant, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout_at(deadline + Duration::from_secs(3), fut)
        .await
        .expect("operation overran the caller's deadline")
}

#[tokio::test]
async fn plain_login_on_v7_and_challenge_login_before_6_43() {
    let (_sim, v7) = sim(RouterConfig::v7("r7")).await;
    let session = open(&v7, SizeLimits::default()).await;
    assert_eq!(
        login(&session, "admin", "", secs(5)).await.unwrap(),
        LoginMethod::Plain
    );
    let rows = session.rows(&identity(), secs(5)).await.unwrap();
    assert_eq!(rows[0].str("name"), Some("r7"));

    let mut old = RouterConfig::v6("r642").with_version(Version::new(6, 42, 0));
    old.password = "passTest".into();
    let (_sim6, v642) = sim(old).await;
    let session = open(&v642, SizeLimits::default()).await;
    assert_eq!(
        login(&session, "admin", "passTest", secs(5)).await.unwrap(),
        LoginMethod::Challenge
    );
    assert_eq!(session.rows(&identity(), secs(5)).await.unwrap().len(), 1);
    assert_eq!(v642.stats().logins_ok, 1);
}

#[tokio::test]
async fn rejected_login_carries_the_router_message() {
    let (_sim, router) = sim(RouterConfig::v7("r")).await;
    let session = open(&router, SizeLimits::default()).await;
    match login(&session, "admin", "wrong", secs(5)).await {
        Err(Error::Auth { message }) => assert_eq!(message, "invalid user name or password (6)"),
        other => panic!("expected an auth error, got {other:?}"),
    }
    let mut legacy = RouterConfig::v6("old").with_version(Version::new(6, 40, 0));
    legacy.password = "right".into();
    let (_sim6, old) = sim(legacy).await;
    let session = open(&old, SizeLimits::default()).await;
    assert!(matches!(
        login(&session, "admin", "wrong", secs(5)).await,
        Err(Error::Auth { .. })
    ));
}

#[tokio::test]
async fn a_hundred_concurrent_tagged_commands_share_one_session() {
    let (_sim, router) = sim(RouterConfig::v7("r")).await;
    let session = logged_in(&router).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100 {
        let session = session.clone();
        tasks.spawn(async move {
            let command = if i % 2 == 0 {
                identity()
            } else {
                Command::new("/interface/print").proplist(&["name", "rx-byte"])
            };
            (i, session.rows(&command, secs(10)).await)
        });
    }
    while let Some(done) = tasks.join_next().await {
        let (i, rows) = done.unwrap();
        let rows = rows.unwrap();
        if i % 2 == 0 {
            assert_eq!(rows.len(), 1);
            assert_eq!(rows[0].str("name"), Some("r"));
        } else {
            assert!(rows.len() > 3);
            assert!(rows.iter().all(|r| r.get("name").is_some()));
        }
    }
    let stats = router.stats();
    assert_eq!(stats.connections_accepted, 1);
    assert_eq!(stats.commands.get("/system/identity/print"), Some(&50));
    assert!(session.is_reusable());
}

#[tokio::test]
async fn dropping_a_streaming_command_cancels_and_drains_it() {
    let (_sim, router) = sim(RouterConfig::v7("r")).await;
    let session = logged_in(&router).await;
    let mut monitor = session
        .command(&Command::new("/interface/ethernet/monitor").attr("numbers", "ether1"))
        .unwrap();
    let first = within(secs(5), monitor.next()).await.unwrap().unwrap();
    assert_eq!(first.str("name"), Some("ether1"));
    drop(monitor);
    assert!(within(secs(5), session.wait_drained(secs(5))).await);
    assert!(session.is_reusable());
    assert_eq!(router.stats().cancels, 1);
    assert_eq!(session.rows(&identity(), secs(5)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn traps_of_a_missing_menu_and_count_only() {
    let (_sim, router) = sim(RouterConfig::v6("r6")).await;
    let session = logged_in(&router).await;
    let err = session
        .rows(&Command::new("/interface/wireguard/peers/print"), secs(5))
        .await
        .unwrap_err();
    assert!(err.is_missing_menu(), "{err:?}");
    let done = session
        .done(
            &Command::new("/ip/firewall/connection/print").flag("count-only"),
            secs(5),
        )
        .await
        .unwrap();
    assert!(
        done.str("ret")
            .and_then(|n| n.parse::<u64>().ok())
            .is_some()
    );
    assert!(session.is_reusable());
}

#[tokio::test]
async fn latency_beyond_the_deadline_is_a_timeout_and_the_command_drains() {
    let (_sim, router) = sim(RouterConfig::v7("r")).await;
    let session = logged_in(&router).await;
    router.set_faults(Faults {
        latency_ms: 400,
        ..Faults::default()
    });
    let deadline = millis(100);
    let err = within(deadline, session.rows(&identity(), deadline))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(..)), "{err:?}");
    assert!(
        !session.is_reusable(),
        "an abandoned command is still draining"
    );
    assert!(within(secs(5), session.wait_drained(secs(5))).await);
}

#[tokio::test]
async fn drip_feed_still_yields_correct_rows() {
    let (_sim, router) = sim(RouterConfig::v7("r")).await;
    let session = logged_in(&router).await;
    router.set_faults(Faults {
        drip_chunk_bytes: 3,
        drip_delay_ms: 1,
        ..Faults::default()
    });
    let rows = session
        .rows(
            &Command::new("/interface/print").proplist(&["name"]),
            secs(20),
        )
        .await
        .unwrap();
    assert!(rows.iter().any(|r| r.str("name") == Some("ether1")));
}

#[tokio::test]
async fn each_fault_ends_in_a_typed_error_within_the_deadline() {
    type Check = fn(&Error) -> bool;
    let cases: Vec<(&str, Faults, Check)> = vec![
        (
            "hang",
            Faults {
                hang: true,
                ..Faults::default()
            },
            |e| matches!(e, Error::Timeout(..)),
        ),
        (
            "drop mid-reply",
            Faults {
                drop_mid_reply: true,
                ..Faults::default()
            },
            |e| matches!(e, Error::Eof | Error::Io(_)),
        ),
        (
            "fatal",
            Faults {
                fatal: Some("out of memory".into()),
                ..Faults::default()
            },
            |e| matches!(e, Error::Fatal(reason) if reason == "out of memory"),
        ),
        (
            "garbage",
            Faults {
                garbage: true,
                ..Faults::default()
            },
            |e| matches!(e, Error::Protocol(ProtocolError::ReservedControlByte(_))),
        ),
        (
            "huge word",
            Faults {
                huge_word: true,
                ..Faults::default()
            },
            |e| matches!(e, Error::Protocol(ProtocolError::WordTooLarge { .. })),
        ),
    ];
    for (name, faults, check) in cases {
        let (_sim, router) = sim(RouterConfig::v7("r")).await;
        let session = logged_in(&router).await;
        router.set_faults(faults);
        let deadline = millis(500);
        let err = within(
            deadline,
            session.rows(
                &Command::new("/interface/print").proplist(&["name"]),
                deadline,
            ),
        )
        .await
        .unwrap_err();
        assert!(check(&err), "{name}: unexpected {err:?}");
        assert!(
            !session.is_reusable(),
            "{name}: session must not be reusable"
        );
    }
}

#[tokio::test]
async fn connect_time_faults_are_typed_errors() {
    let (_sim, router) = sim(RouterConfig::v7("r")).await;
    let pool = Pool::new(PoolConfig {
        backoff_initial: Duration::ZERO,
        ..PoolConfig::default()
    });

    router.set_faults(Faults {
        auth_failure: true,
        ..Faults::default()
    });
    let err = within(secs(2), pool.acquire(&endpoint(&router), secs(2)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "auth: {err:?}");

    router.set_faults(Faults {
        refuse: true,
        ..Faults::default()
    });
    let err = within(secs(2), pool.acquire(&endpoint(&router), secs(2)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Eof | Error::Io(_)), "refuse: {err:?}");

    router.set_faults(Faults {
        hang_login: true,
        ..Faults::default()
    });
    let deadline = millis(300);
    let err = within(deadline, pool.acquire(&endpoint(&router), deadline))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(..)), "hang login: {err:?}");

    let stats = pool.stats(&endpoint(&router).key());
    assert_eq!(stats.logins_failed, 1);
    assert_eq!(stats.sessions_opened, 0);
}

/// A login answered by a reply no login gets (an unknown reply word, or rows
/// without end) fails with a protocol error as soon as that reply arrives,
/// never by waiting out the deadline (an hour here, so only a protocol error
/// can end the login before the test's own bound), and the socket is closed.
#[tokio::test]
async fn a_login_answered_with_an_unknown_word_or_endless_rows_fails_at_once() {
    let cases = [
        (
            Faults {
                login_unknown_reply: Some("!future".into()),
                ..Faults::default()
            },
            "!future",
        ),
        (
            Faults {
                login_re_flood: true,
                ..Faults::default()
            },
            "!re",
        ),
    ];
    for (faults, expected) in cases {
        let (_sim, router) = sim(RouterConfig::v7("r")).await;
        router.set_faults(faults);
        let session = open(&router, SizeLimits::default()).await;
        let deadline = secs(3600);
        let err = tokio::time::timeout(
            Duration::from_secs(20),
            login(&session, "admin", "", deadline),
        )
        .await
        .unwrap_or_else(|_| panic!("{expected}: the login waited for its deadline"))
        .unwrap_err();
        match &err {
            Error::Protocol(ProtocolError::UnexpectedReply { word, command }) => {
                assert_eq!((word.as_str(), command.as_str()), (expected, "/login"));
            }
            other => panic!("{expected}: expected a protocol error, got {other:?}"),
        }
        assert!(err.to_string().contains("unexpected"), "{err}");
        assert!(!session.is_healthy());
        // The router sees us leave: its session count drops back to zero.
        within(secs(10), async {
            while router.stats().connections_open > 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert_eq!(router.stats().logins_ok + router.stats().logins_failed, 0);
    }
}

#[tokio::test]
async fn max_sessions_exceeded_both_behaviours() {
    for over_limit in [
        OverLimit::Close,
        OverLimit::Fatal("too many sessions".into()),
    ] {
        let mut config = RouterConfig::v7("r");
        config.max_sessions = 1;
        config.over_limit = over_limit.clone();
        let (_sim, router) = sim(config).await;
        let _first = logged_in(&router).await;
        let second = open(&router, SizeLimits::default()).await;
        let err = within(secs(2), login(&second, "admin", "", secs(2)))
            .await
            .unwrap_err();
        match over_limit {
            OverLimit::Close => assert!(matches!(err, Error::Eof | Error::Io(_)), "{err:?}"),
            OverLimit::Fatal(_) => {
                assert!(
                    matches!(&err, Error::Fatal(r) if r == "too many sessions"),
                    "{err:?}"
                )
            }
        }
    }
}

#[tokio::test]
async fn reboot_fails_in_flight_work_and_the_pool_reconnects() {
    let (_sim, router) = sim(RouterConfig::v7("r")).await;
    let pool = Pool::new(PoolConfig::default());
    let first = pool.acquire(&endpoint(&router), secs(5)).await.unwrap();
    let uptime_before = first
        .rows(
            &Command::new("/system/resource/print").proplist(&["uptime"]),
            secs(5),
        )
        .await
        .unwrap();
    assert!(uptime_before[0].get("uptime").is_some());
    router.reboot();
    // The router closes the connection; once the reader has seen it, the next
    // acquire opens a fresh session.
    within(secs(5), async {
        while first.is_healthy() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let second = within(secs(5), pool.acquire(&endpoint(&router), secs(5)))
        .await
        .unwrap();
    assert_ne!(first.id(), second.id());
    assert!(!first.is_healthy());
    assert_eq!(router.stats().connections_accepted, 2);
    let stats = pool.stats(&endpoint(&router).key());
    assert_eq!(stats.sessions_opened, 2);
    assert_eq!(stats.closed(CloseReason::Failed), 1);
}

/// TCP states, from `/proc/net/tcp`, of client sockets connected to
/// 127.0.0.1:`port` (`08` is `CLOSE_WAIT`: the peer closed, we did not).
///
/// The table is the whole network namespace's, and listening ports and
/// ephemeral client ports come from one range: a socket another test's
/// simulator accepted from client port `port` also has `port` as its remote
/// port. Sockets whose local port is listening are such server ends, so they
/// are left out.
#[cfg(target_os = "linux")]
fn states_of_sockets_to(port: u16) -> Vec<String> {
    const LISTEN: &str = "0A";
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect())
        .filter(|fields: &Vec<&str>| fields.len() > 3)
        .collect();
    let port_of = |address: &str| address.rsplit(':').next().unwrap_or_default().to_string();
    let listening: std::collections::HashSet<String> = rows
        .iter()
        .filter(|fields| fields[3] == LISTEN)
        .map(|fields| port_of(fields[1]))
        .collect();
    let remote = format!("0100007F:{port:04X}");
    rows.iter()
        .filter(|fields| fields[2] == remote && !listening.contains(&port_of(fields[1])))
        .map(|fields| fields[3].to_string())
        .collect()
}

/// A router that closes a pooled session (here: a reboot) must not leave our
/// socket in `CLOSE_WAIT` until the next acquire: the session closes its end
/// as soon as its reader sees the EOF, although the pool and this test still
/// hold the session.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_session_closed_by_the_router_closes_our_socket_at_once() {
    let (_sim, router) = sim(RouterConfig::v7("r")).await;
    let port = router.addr().port();
    let pool = Pool::new(PoolConfig::default());
    let session = pool.acquire(&endpoint(&router), secs(5)).await.unwrap();
    assert_eq!(states_of_sockets_to(port), ["01"], "one established socket");
    router.reboot();
    within(secs(5), async {
        while session.is_healthy() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(matches!(session.failure(), Some(Error::Eof)));
    // Closing is asynchronous (the session's tasks end); the bound only keeps
    // a broken build from hanging. Without the fix the socket stays `08`.
    let gone = async {
        while states_of_sockets_to(port)
            .iter()
            .any(|s| s == "01" || s == "08")
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let closed = tokio::time::timeout(Duration::from_secs(10), gone).await;
    assert!(
        closed.is_ok(),
        "our socket is still open after the router closed it: {:?}",
        states_of_sockets_to(port)
    );
    drop(session);
    drop(pool);
}

#[tokio::test]
async fn pool_reuses_one_session_and_never_an_interrupted_one() {
    let (_sim, router) = sim(RouterConfig::v7("r")).await;
    let pool = Pool::new(PoolConfig {
        drain_grace: Duration::from_millis(100),
        ..PoolConfig::default()
    });
    let a = pool.acquire(&endpoint(&router), secs(5)).await.unwrap();
    let b = pool.acquire(&endpoint(&router), secs(5)).await.unwrap();
    assert_eq!(a.id(), b.id());
    assert_eq!(router.stats().logins_ok, 1);

    // A command interrupted by its deadline on a hung router leaves the session
    // in an unknown state: the pool must hand out a new one.
    router.set_faults(Faults {
        hang: true,
        ..Faults::default()
    });
    let deadline = millis(200);
    assert!(matches!(
        a.rows(&identity(), deadline).await,
        Err(Error::Timeout(..))
    ));
    router.set_faults(Faults::default());
    let c = within(secs(5), pool.acquire(&endpoint(&router), secs(5)))
        .await
        .unwrap();
    assert_ne!(c.id(), a.id());
    assert_eq!(c.rows(&identity(), secs(5)).await.unwrap().len(), 1);
    let stats = pool.stats(&endpoint(&router).key());
    assert_eq!(stats.closed(CloseReason::Interrupted), 1);
    assert_eq!(stats.sessions_opened, 2);
    assert!(stats.commands >= 4);
    assert!(stats.bytes_sent > 0 && stats.bytes_received > 0);
}

#[tokio::test]
async fn idle_sessions_are_validated_and_replaced_transparently() {
    let (_sim, router) = sim(RouterConfig::v7("r")).await;
    let pool = Pool::new(PoolConfig {
        validate_after_idle: Duration::ZERO,
        validate_timeout: Duration::from_millis(200),
        ..PoolConfig::default()
    });
    let a = pool.acquire(&endpoint(&router), secs(5)).await.unwrap();
    // The router stops answering without closing the socket (a vanished NAT path).
    router.set_faults(Faults {
        hang: true,
        ..Faults::default()
    });
    let pending = tokio::spawn({
        let pool_router = router.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            pool_router.set_faults(Faults::default());
        }
    });
    let b = within(secs(5), pool.acquire(&endpoint(&router), secs(5)))
        .await
        .unwrap();
    pending.await.unwrap();
    assert_ne!(a.id(), b.id());
    assert_eq!(b.rows(&identity(), secs(5)).await.unwrap().len(), 1);
    assert_eq!(
        pool.stats(&endpoint(&router).key())
            .closed(CloseReason::ValidationFailed),
        1
    );
}

#[tokio::test]
async fn backoff_never_holds_a_caller_past_its_deadline() {
    let (_sim, router) = sim(RouterConfig::v7("r")).await;
    let pool = Pool::new(PoolConfig {
        backoff_initial: Duration::from_secs(30),
        ..PoolConfig::default()
    });
    router.set_faults(Faults {
        refuse: true,
        ..Faults::default()
    });
    assert!(pool.acquire(&endpoint(&router), secs(2)).await.is_err());
    let deadline = secs(1);
    let err = within(deadline, pool.acquire(&endpoint(&router), deadline))
        .await
        .unwrap_err();
    match err {
        Error::Backoff { retry_in, last } => {
            assert!(retry_in > Duration::from_secs(1));
            assert!(matches!(*last, Error::Eof | Error::Io(_)));
        }
        other => panic!("expected backoff, got {other:?}"),
    }
    assert_eq!(
        router.stats().connections_accepted,
        1,
        "no second attempt during backoff"
    );
}

async fn tls_sim() -> (Simulator, RouterHandle) {
    let mut config = RouterConfig::v7("tls");
    config.tls_port = Some(0);
    sim(config).await
}

async fn tls_login(router: &RouterHandle, settings: TlsSettings) -> Result<Session, Error> {
    let address = router.tls_addr().expect("tls listener").to_string();
    let tls = TlsConnect {
        config: settings.client_config()?,
        settings,
    };
    let transport = connect(&address, Some(&tls), secs(5)).await?;
    let session = Session::start(
        transport,
        SessionOptions::default(),
        Arc::new(Counters::default()),
    );
    login(&session, "admin", "", secs(5)).await?;
    Ok(session)
}

#[tokio::test]
async fn api_ssl_pinning_ca_file_insecure_and_default_roots() {
    let (_sim, router) = tls_sim().await;
    let fingerprint = router.tls_fingerprint_sha256().unwrap();

    let pinned = tls_login(
        &router,
        TlsSettings {
            fingerprint_sha256: Some(fingerprint.to_uppercase()),
            ..TlsSettings::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(pinned.rows(&identity(), secs(5)).await.unwrap().len(), 1);

    let wrong = tls_login(
        &router,
        TlsSettings {
            fingerprint_sha256: Some("00".repeat(32)),
            ..TlsSettings::default()
        },
    )
    .await
    .unwrap_err();
    assert!(
        wrong.to_string().contains("fingerprint mismatch"),
        "{wrong}"
    );

    let dir = std::env::temp_dir().join(format!("routeros-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, router.tls_ca_pem().unwrap()).unwrap();
    let with_ca = tls_login(
        &router,
        TlsSettings {
            ca_file: Some(ca),
            server_name: Some("localhost".into()),
            ..TlsSettings::default()
        },
    )
    .await;
    assert!(with_ca.is_ok(), "{:?}", with_ca.err());

    let insecure = tls_login(
        &router,
        TlsSettings {
            insecure_skip_verify: true,
            ..TlsSettings::default()
        },
    )
    .await;
    assert!(insecure.is_ok());

    let default_roots = tls_login(&router, TlsSettings::default())
        .await
        .unwrap_err();
    assert!(matches!(default_roots, Error::Tls(_)), "{default_roots:?}");
}

#[tokio::test]
async fn api_ssl_without_a_certificate_explains_the_fix() {
    let (_sim, router) = tls_sim().await;
    router.set_faults(Faults {
        anon_dh_only: true,
        ..Faults::default()
    });
    let err = tls_login(
        &router,
        TlsSettings {
            insecure_skip_verify: true,
            ..TlsSettings::default()
        },
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Tls(_)), "{err:?}");
    assert!(text.contains("anonymous Diffie-Hellman"), "{text}");
    assert!(text.contains("certificate"), "{text}");
}

/// The API-port check: one bare `/login` gets a reply sentence from a router
/// whose API answers (the challenge on 6.x, a trap or `!fatal` on 7.x), and no
/// login is counted; a service that accepts and closes (restricted by
/// `address=`), one that never answers, or a closed port is an error.
#[tokio::test]
async fn knock_tells_an_answering_api_from_one_that_closes_or_is_silent() {
    let mut fatal = RouterConfig::v7("fatal");
    fatal.personality.bare_login = routeros_sim::BareLogin::Fatal;
    let mut with_tls = RouterConfig::v7("tls");
    with_tls.tls_port = Some(0);
    let sim = Simulator::start(SimConfig {
        routers: vec![RouterConfig::v6("r6"), with_tls, fatal],
    })
    .await
    .expect("simulator starts");
    let [v6, v7, fatal] = [0, 1, 2].map(|i| sim.routers()[i].clone());
    let knock_at = |address: String| async move { knock(&address, None, secs(5)).await };
    assert_eq!(knock_at(v6.addr().to_string()).await.unwrap(), "!done");
    assert_eq!(knock_at(v7.addr().to_string()).await.unwrap(), "!trap");
    assert_eq!(knock_at(fatal.addr().to_string()).await.unwrap(), "!fatal");
    let settings = TlsSettings {
        fingerprint_sha256: v7.tls_fingerprint_sha256(),
        ..TlsSettings::default()
    };
    let tls = TlsConnect {
        config: settings.client_config().unwrap(),
        settings,
    };
    let tls_address = v7.tls_addr().unwrap().to_string();
    assert_eq!(
        knock(&tls_address, Some(&tls), secs(5)).await.unwrap(),
        "!trap"
    );
    for router in [&v6, &v7, &fatal] {
        let stats = router.stats();
        assert_eq!((stats.logins_ok, stats.logins_failed), (0, 0));
        assert!(stats.commands.get("/login").is_some_and(|n| *n >= 1));
    }

    v7.set_faults(Faults {
        refuse: true,
        ..Faults::default()
    });
    let err = knock_at(v7.addr().to_string()).await.unwrap_err();
    assert!(
        matches!(err, Error::Eof | Error::Io(_)),
        "restricted: {err:?}"
    );
    v7.set_faults(Faults {
        hang_login: true,
        ..Faults::default()
    });
    let deadline = millis(300);
    let err = within(deadline, knock(&v7.addr().to_string(), None, deadline))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(..)), "silent: {err:?}");
    v7.set_faults(Faults {
        login_unknown_reply: Some("!future".into()),
        ..Faults::default()
    });
    let err = knock_at(v7.addr().to_string()).await.unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "unknown word: {err:?}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap().to_string();
    drop(closed);
    let err = knock_at(address).await.unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "closed port: {err:?}");
}
