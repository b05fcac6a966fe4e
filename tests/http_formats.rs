//! The exposition formats of `/probe` through the HTTP layer: the text format
//! by default and OpenMetrics when Prometheus asks for it, both strictly valid
//! (the parser in `support/exposition.rs`, whose own test is here) for the full
//! module on RouterOS 7 and 6, the target's labels on every sample, and gzip
//! when asked.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::group_names;
use support::exposition::parse_exposition;
use support::harness::{Harness, OPENMETRICS, PROMETHEUS_ACCEPT, TEXT, harness, probe_exposition};
use support::http::gunzip;

#[test]
fn the_parser_is_strict() {
    let ok = "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"1\"} 1\na_total{l=\"2\"} 2\n";
    assert_eq!(
        parse_exposition(ok, false).must("a_total", &[("l", "2")]),
        2.0
    );
    for bad in [
        "a 1\n",
        "# TYPE a gauge\na 1\na 2\n",
        "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\na{x=\"1\"} 1\n",
        "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"1\"} 1\n",
        "# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n",
    ] {
        assert!(
            std::panic::catch_unwind(|| parse_exposition(bad, false)).is_err(),
            "accepted {bad:?}"
        );
    }
    assert!(std::panic::catch_unwind(|| parse_exposition("# TYPE a gauge\na 1\n", true)).is_err());
}

/// Probes `target` with the full module in both formats; both must be strictly
/// valid and report every group and the exporter's own families.
async fn full_exposition(h: &Harness, target: &str) {
    let text = h
        .http
        .get(&format!("/probe?target={target}&module=full"))
        .await;
    assert_eq!(text.status, 200, "{}", text.text());
    assert_eq!(text.header("content-type"), Some(TEXT));
    let om = h
        .http
        .get_with(
            &format!("/probe?target={target}&module=full"),
            &[("Accept", PROMETHEUS_ACCEPT)],
        )
        .await;
    assert_eq!(om.status, 200);
    assert_eq!(om.header("content-type"), Some(OPENMETRICS));
    for (body, openmetrics) in [(text.text(), false), (om.text(), true)] {
        let e = parse_exposition(&body, openmetrics);
        assert_eq!(
            e.must("mikrotik_probe_success", &[]),
            1.0,
            "{target}: {body}"
        );
        for group in group_names() {
            assert!(
                e.value("mikrotik_collector_success", &[("collector", group)])
                    .is_some(),
                "{target}: no collector_success for {group}"
            );
            assert!(
                e.value(
                    "mikrotik_collector_duration_seconds",
                    &[("collector", group)]
                )
                .is_some()
            );
        }
        for family in [
            "mikrotik_probe_duration_seconds",
            "mikrotik_probe_timeout_seconds",
            "mikrotik_scrape_duration_milliseconds",
            "mikrotik_scrape_last_success_timestamp_seconds",
            "mikrotik_connection_consecutive_errors",
            "mikrotik_connection_pool_size",
            "mikrotik_connection_pool_active",
            "mikrotik_system_uptime_seconds",
            "mikrotik_interface_rx_bytes_total",
        ] {
            assert!(!e.all(family).is_empty(), "{target}: no {family}");
        }
        assert!(!e.all("mikrotik_scrape_success_total").is_empty());
        assert!(!e.all("mikrotik_scrape_errors_total").is_empty());
        assert_eq!(
            e.must("mikrotik_target_resets_total", &[("reason", "reboot")]),
            0.0
        );
    }
}

#[tokio::test]
async fn full_output_of_v7_and_v6_is_strictly_valid_in_both_formats() {
    let h = harness().await;
    full_exposition(&h, "r7").await;
    full_exposition(&h, "r6").await;
    // The target's extra labels are on every sample.
    let e = probe_exposition(&h.http, "target=r7&module=system_only").await;
    for (name, samples) in &e.samples {
        for (labels, _) in samples {
            assert_eq!(
                labels.get("site").map(String::as_str),
                Some("lab"),
                "{name}"
            );
        }
    }
}

#[tokio::test]
async fn gzip_when_asked() {
    let h = harness().await;
    let plain = h.http.get("/probe?target=r7&module=system_only").await;
    assert_eq!(plain.header("content-encoding"), None);
    let zipped = h
        .http
        .get_with(
            "/probe?target=r7&module=system_only",
            &[("Accept-Encoding", "gzip")],
        )
        .await;
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(zipped.header("content-type"), Some(TEXT));
    assert_eq!(&zipped.body[..2], &[0x1f, 0x8b], "gzip magic");
    assert!(zipped.body.len() < plain.body.len());
    let unzipped = String::from_utf8(gunzip(&zipped.body)).expect("UTF-8 exposition");
    let e = parse_exposition(&unzipped, false);
    assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0, "{unzipped}");
    let zipped = h
        .http
        .get_with("/metrics", &[("Accept-Encoding", "gzip")])
        .await;
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(&zipped.body[..2], &[0x1f, 0x8b]);
    let unzipped = String::from_utf8(gunzip(&zipped.body)).expect("UTF-8 exposition");
    parse_exposition(&unzipped, true);
}
