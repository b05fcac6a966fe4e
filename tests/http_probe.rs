//! `/probe` through the HTTP layer, in process: query parameters and their
//! 400s, unknown targets (404, no router contacted), other routes and methods
//! (404/405, `/-/healthy`, `/-/ready`, the landing page), what a probe reports
//! (unsupported groups, merged modules, a router that is down), the
//! `debug=true` report, and the deadline from
//! `X-Prometheus-Scrape-Timeout-Seconds`. The exposition formats are in
//! `http_formats.rs`; the harness and its modules are in
//! `support/harness.rs`.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::group_names;
use routeros_sim::Faults;
use std::collections::BTreeSet;
use std::time::Duration;
use support::exposition::{Exposition, parse_exposition};
use support::harness::{Harness, RESOURCE_PRINT, harness, harness_with, probe, probe_exposition};
use support::http::Response;

/// The header in which Prometheus sends its scrape timeout, in seconds.
const SCRAPE_TIMEOUT: &str = "X-Prometheus-Scrape-Timeout-Seconds";

/// GET `/probe?{query}` with [`SCRAPE_TIMEOUT`] set to `seconds`.
async fn probe_within(h: &Harness, query: &str, seconds: &str) -> Response {
    h.http
        .get_with(&format!("/probe?{query}"), &[(SCRAPE_TIMEOUT, seconds)])
        .await
}

#[tokio::test]
async fn probe_parameter_errors_are_400_with_a_message() {
    let h = harness().await;
    let before = (h.v7.stats(), h.v6.stats());
    for (query, expect) in [
        ("", "missing target"),
        ("module=full", "missing target"),
        ("target=", "missing target"),
        ("target=r7&target=r6", "more than once"),
        ("target=r7&modul=full", "unknown parameter \"modul\""),
        ("target=r7&debug=maybe", "debug must be true or false"),
        ("target=r7&module=%zz", "percent-encoding"),
        ("target=r%+7", "percent-encoding"),
        ("target=r7&module=nope", "unknown module \"nope\""),
        (
            "target=r7&module=system_only,nope",
            "unknown module \"nope\"",
        ),
        (
            "target=r7&module=system_only&module=nope",
            "unknown module \"nope\"",
        ),
    ] {
        let r = h.http.get(&format!("/probe?{query}")).await;
        assert_eq!(r.status, 400, "{query}: {}", r.text());
        assert!(r.text().contains(expect), "{query}: {}", r.text());
    }
    // The unknown module lists the valid ones (as whole words: `connectivity`
    // is also part of `system_and_connectivity`).
    let text = h.http.get("/probe?target=r7&module=nope").await.text();
    let words: BTreeSet<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    for valid in [
        "connectivity",
        "system_and_connectivity",
        "full",
        "system_only",
        "wireguard_only",
    ] {
        assert!(words.contains(valid), "{valid} missing in {text}");
    }
    // A malformed scrape timeout header is a 400 too.
    for bad in ["abc", "0", "-1", "NaN", "1e309"] {
        let r = probe_within(&h, "target=r7", bad).await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.text().contains(SCRAPE_TIMEOUT), "{}", r.text());
    }
    // None of these touched a router.
    assert_eq!(
        h.v7.stats().connections_accepted,
        before.0.connections_accepted
    );
    assert_eq!(
        h.v6.stats().connections_accepted,
        before.1.connections_accepted
    );
}

#[tokio::test]
async fn unknown_target_is_404_and_nothing_is_contacted() {
    let h = harness().await;
    let before = (h.v7.stats(), h.v6.stats());
    for target in [
        "nope",
        // An address is not a target: credentials never go to a URL's address.
        &h.v7.addr().to_string(),
        "127.0.0.1",
    ] {
        let r = h
            .http
            .get(&format!("/probe?target={target}&module=full"))
            .await;
        assert_eq!(r.status, 404, "{target}");
        let text = r.text();
        assert!(text.contains("unknown target"), "{text}");
        assert!(text.contains("the target parameter"), "{text}");
        assert!(
            !text.contains("r6") && !text.contains("r7"),
            "lists configured targets: {text}"
        );
    }
    // Unknown target wins over unknown module, and debug does not change it.
    let r = h
        .http
        .get("/probe?target=nope&module=nope&debug=true")
        .await;
    assert_eq!(r.status, 404);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = (h.v7.stats(), h.v6.stats());
    assert_eq!(after.0.connections_accepted, before.0.connections_accepted);
    assert_eq!(after.1.connections_accepted, before.1.connections_accepted);
    assert_eq!(after.0.logins_ok + after.1.logins_ok, 0);
}

/// A scrape timeout header of years, or more seconds than a `Duration`
/// holds, is capped at `global.max_timeout`: never a panic, never a deadline
/// that outlives the exporter.
#[tokio::test]
async fn a_huge_scrape_timeout_is_capped_at_max_timeout() {
    let h = harness_with("  max_timeout: 20s").await;
    for huge in ["99999999", "1e19", "1e20", "1.7e308"] {
        let r = probe_within(&h, "target=r7&module=system_only", huge).await;
        assert_eq!(r.status, 200, "{huge}: {}", r.text());
        let e = parse_exposition(&r.text(), false);
        assert_eq!(
            e.must("mikrotik_probe_timeout_seconds", &[]),
            20.0,
            "{huge}"
        );
        assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0, "{huge}");
    }
    // Below the maximum the header still rules.
    let r = probe_within(&h, "target=r7&module=system_only", "5").await;
    let e = parse_exposition(&r.text(), false);
    assert_eq!(e.must("mikrotik_probe_timeout_seconds", &[]), 4.5);
}

/// Request text in a 4xx body is cut after 64 characters, whichever part of
/// the request it came from.
#[tokio::test]
async fn error_pages_reflect_at_most_64_characters_of_the_request() {
    let h = harness().await;
    // As long as the server lets a request target be (8 KiB; longer ones are
    // 414 and a head over 16 KiB is 431 before any handler, see
    // tests/http_server.rs); the header below is as long as fits in the head.
    let huge = "x".repeat(8_000);
    let clipped = format!("\"{}…\"", "x".repeat(64));
    let cases = [
        (format!("/probe?target={huge}"), 404, "unknown target"),
        (format!("/health?target={huge}"), 404, "unknown target"),
        (
            format!("/probe?target=r7&module={huge}"),
            400,
            "unknown module",
        ),
        (
            format!("/probe?target=r7&debug={huge}"),
            400,
            "debug must be",
        ),
        (
            format!("/probe?target=r7&{huge}=1"),
            400,
            "unknown parameter",
        ),
        (format!("/health?{huge}=1"), 400, "unknown parameter"),
        (
            format!("/probe?target={huge}%zz"),
            400,
            "bad percent-encoding",
        ),
    ];
    for (path, status, message) in &cases {
        let r = h.http.get(path).await;
        let text = r.text();
        assert_eq!(r.status, *status, "{message}: {text:.200}");
        assert!(text.contains(message), "{text:.200}");
        assert!(text.contains(&clipped), "{text:.200}");
        assert!(text.len() < 400, "{message}: {} bytes", text.len());
    }
    let r = probe_within(&h, "target=r7", &"x".repeat(15_000)).await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains(&clipped), "{:.200}", r.text());
    assert!(r.text().len() < 400, "{} bytes", r.text().len());
}

#[tokio::test]
async fn other_routes_and_methods() {
    let h = harness().await;
    assert_eq!(h.http.get("/nope").await.status, 404);
    assert_eq!(h.http.post("/probe?target=r7").await.status, 405);
    assert_eq!(h.http.get("/-/reload").await.status, 405);
    let r = h.http.get("/-/healthy").await;
    assert_eq!((r.status, r.text().as_str()), (200, "OK\n"));
    let r = h.http.get("/-/ready").await;
    assert_eq!(r.status, 200);
    h.app.set_not_ready();
    assert_eq!(h.http.get("/-/ready").await.status, 503);
    assert_eq!(
        h.http.get("/-/healthy").await.status,
        200,
        "liveness stays up"
    );
    // The landing page links every target and module.
    let r = h.http.get("/").await;
    assert_eq!(r.status, 200);
    let content_type = r.header("content-type").expect("a Content-Type");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = r.text();
    for needle in [
        "/probe?target=r7&amp;module=full",
        "/probe?target=r6&amp;module=system_only&amp;debug=true",
        "/metrics",
        "/health",
        "/config",
    ] {
        assert!(page.contains(needle), "{needle} missing in {page}");
    }
}

#[tokio::test]
async fn v6_has_no_wireguard_which_is_unsupported_not_failed() {
    let h = harness().await;
    for module in ["wireguard_only", "full"] {
        let e = probe_exposition(&h.http, &format!("target=r6&module={module}")).await;
        let wg = [("collector", "wireguard")];
        assert_eq!(e.must("mikrotik_collector_success", &wg), 1.0, "{module}");
        assert_eq!(e.must("mikrotik_collector_supported", &wg), 0.0, "{module}");
        assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0, "{module}");
    }
    let e = probe_exposition(&h.http, "target=r7&module=wireguard_only").await;
    let wg = [("collector", "wireguard")];
    assert_eq!(e.must("mikrotik_collector_supported", &wg), 1.0);
    assert_eq!(e.must("mikrotik_collector_success", &wg), 1.0);
    // Unsupported menus never degrade a target.
    let r = h.http.get("/health?target=r6").await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn modules_repeated_or_comma_separated_are_merged() {
    let h = harness().await;
    for query in [
        "target=r7&module=system_only,wireguard_only",
        "target=r7&module=system_only&module=wireguard_only",
        "target=r7&module=wireguard_only,system_only&module=system_only",
        "target=r7&module=system_only%2Cwireguard_only",
    ] {
        let e = probe_exposition(&h.http, query).await;
        let collectors: BTreeSet<&str> = e
            .all("mikrotik_collector_success")
            .iter()
            .map(|(l, _)| l["collector"].as_str())
            .collect();
        assert_eq!(
            collectors,
            BTreeSet::from(["system", "wireguard"]),
            "{query}"
        );
        assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);
    }
    // No module means full.
    let e = probe_exposition(&h.http, "target=r7").await;
    assert_eq!(
        e.all("mikrotik_collector_success").len(),
        group_names().len()
    );
}

/// A failed probe of module `system_and_connectivity`: `system` (which logs
/// in) failed, while `connectivity` (which does not) still reported.
fn assert_login_groups_failed_but_connectivity_reported(e: &Exposition) {
    assert_eq!(e.must("mikrotik_probe_success", &[]), 0.0);
    assert_eq!(
        e.must("mikrotik_collector_success", &[("collector", "system")]),
        0.0
    );
    assert_eq!(
        e.must(
            "mikrotik_collector_success",
            &[("collector", "connectivity")]
        ),
        1.0
    );
}

#[tokio::test]
async fn router_down_is_still_200_with_the_reason() {
    let h = harness().await;
    // Wrong password (as the router says it) ...
    h.v7.set_faults(Faults {
        auth_failure: true,
        ..Faults::default()
    });
    let e = probe_exposition(&h.http, "target=r7&module=system_and_connectivity").await;
    assert_login_groups_failed_but_connectivity_reported(&e);
    assert_eq!(e.must("mikrotik_scrape_errors_total", &[]), 1.0);
    assert_eq!(e.must("mikrotik_connection_consecutive_errors", &[]), 1.0);
    let debug = probe(&h.http, "target=r7&module=system_only&debug=true").await;
    assert!(
        debug.contains("invalid user name or password (6)"),
        "router message verbatim: {debug}"
    );
    // ... and /health says why.
    let r = h.http.get("/health?target=r7").await;
    assert_eq!(r.status, 503);
    assert!(
        r.text().contains("invalid user name or password"),
        "{}",
        r.text()
    );

    // A router that closes every connection.
    h.v6.set_faults(Faults {
        refuse: true,
        ..Faults::default()
    });
    let e = probe_exposition(&h.http, "target=r6&module=system_only").await;
    assert_eq!(e.must("mikrotik_probe_success", &[]), 0.0);
    assert_eq!(
        e.must("mikrotik_collector_success", &[("collector", "system")]),
        0.0
    );
}

#[tokio::test]
async fn debug_report_has_trace_and_config_but_no_secret() {
    let h = harness().await;
    let r = h
        .http
        .get("/probe?target=r7&module=system_only,wireguard_only&debug=true")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    let text = r.text();
    for needle in [
        "Probe succeeded",
        "Trace:",
        RESOURCE_PRINT,
        "Collectors:",
        "system",
        "wireguard",
        "auth: main",
        "Effective modules:",
        "mikrotik_probe_success 1",
    ] {
        assert!(text.contains(needle), "{needle} missing in {text}");
    }
    let r = h.http.get("/probe?target=r6&debug=1").await;
    assert_eq!(r.status, 200);
    let text = r.text();
    assert!(
        text.contains(
            "wireguard      Unsupported(\"router trap: no such command or directory (peers); no such command prefix\")"
        ),
        "the trap message verbatim: {text}"
    );
}

#[tokio::test]
async fn the_deadline_cuts_a_slow_group_while_the_others_report() {
    let h = harness().await;
    // Logged in, then commands are never answered: system hangs, while
    // connectivity (no session) still reports.
    h.v7.set_faults(Faults {
        hang: true,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let r = probe_within(&h, "target=r7&module=system_and_connectivity", "1.5").await;
    assert_eq!(r.status, 200, "{}", r.text());
    // A correctness bound (Prometheus would have given up), not a speed test.
    assert!(started.elapsed() < Duration::from_secs(20));
    let e = parse_exposition(&r.text(), false);
    assert_eq!(e.must("mikrotik_probe_timeout_seconds", &[]), 1.0);
    assert_login_groups_failed_but_connectivity_reported(&e);
    assert_eq!(
        e.must(
            "mikrotik_connection_status_up",
            &[("name", "api"), ("protocol", "tcp")]
        ),
        1.0
    );
    assert!(e.all("mikrotik_system_uptime_seconds").is_empty());
    let debug = probe_within(
        &h,
        "target=r7&module=system_and_connectivity&debug=true",
        "1.5",
    )
    .await
    .text();
    assert!(
        debug.contains("system: timed out after"),
        "the reason is in the debug report: {debug}"
    );
    // A header at or below the offset uses a fraction of it, never more.
    let e = parse_exposition(
        &probe_within(&h, "target=r7&module=system_and_connectivity", "0.4")
            .await
            .text(),
        false,
    );
    let budget = e.must("mikrotik_probe_timeout_seconds", &[]);
    assert!(budget > 0.0 && budget < 0.4, "{budget}");
    // Without the header: the default timeout.
    h.v7.set_faults(Faults::default());
    let e = probe_exposition(&h.http, "target=r7&module=system_only").await;
    assert_eq!(e.must("mikrotik_probe_timeout_seconds", &[]), 10.0);
    assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);
}

#[tokio::test]
async fn a_hanging_login_does_not_cost_the_no_login_groups() {
    let h = harness().await;
    h.v7.set_faults(Faults {
        hang_login: true,
        ..Faults::default()
    });
    let r = probe_within(&h, "target=r7&module=system_and_connectivity", "1.5").await;
    assert_eq!(r.status, 200);
    let e = parse_exposition(&r.text(), false);
    assert_eq!(e.must("mikrotik_probe_success", &[]), 0.0);
    assert_eq!(
        e.must("mikrotik_collector_success", &[("collector", "system")]),
        0.0
    );
    assert_eq!(
        e.must(
            "mikrotik_collector_success",
            &[("collector", "connectivity")]
        ),
        1.0,
        "{}",
        r.text()
    );
    // The API accepted TCP but never answered the login: it is not up.
    assert_eq!(
        e.must("mikrotik_connection_status_up", &[("name", "api")]),
        0.0
    );
}

/// In a module that logs in, the API port's status comes from the pooled
/// session: five `full` probes in steady state cost the router exactly one
/// TCP connection (the session's), and each says the API is up. A router
/// refusing the login still answered (up); one that accepts TCP and closes
/// at once (a service restricted by `address=`) did not (down).
#[tokio::test]
async fn full_probes_check_the_api_port_through_the_pooled_session() {
    let h = harness().await;
    let before = h.v7.stats().connections_accepted;
    for _ in 0..5 {
        let e = probe_exposition(&h.http, "target=r7&module=full").await;
        assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);
        assert_eq!(
            e.must("mikrotik_connection_status_up", &[("name", "api")]),
            1.0
        );
    }
    assert_eq!(h.v7.stats().connections_accepted - before, 1);
    assert_eq!(h.v7.stats().logins_ok, 1);

    h.v6.set_faults(Faults {
        auth_failure: true,
        ..Faults::default()
    });
    let e = probe_exposition(&h.http, "target=r6&module=system_and_connectivity").await;
    assert_eq!(e.must("mikrotik_probe_success", &[]), 0.0);
    assert_eq!(
        e.must("mikrotik_connection_status_up", &[("name", "api")]),
        1.0,
        "the router answered the login"
    );
    h.v7.set_faults(Faults {
        refuse: true,
        ..Faults::default()
    });
    h.v7.reboot();
    let e = probe_exposition(&h.http, "target=r7&module=system_and_connectivity").await;
    assert_eq!(e.must("mikrotik_probe_success", &[]), 0.0);
    assert_eq!(
        e.must("mikrotik_connection_status_up", &[("name", "api")]),
        0.0,
        "accepted and closed"
    );
}
