//! The `conntrack` group against the simulator: totals on v6 and v7, and a
//! 200,000-row table streamed and aggregated into a bounded set of series.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::Trace;
use routeros_exporter::collect::family::samples_named;
use routeros_exporter::collect::family::{Family, Label};
use routeros_exporter::config::{ConntrackKey, ConntrackOptions};
use routeros_sim::{RouterConfig, Version};
use std::sync::Arc;
use std::time::Duration;
use support::group::{self, Probe, assert_no_duplicate_series};
use tokio::time::Instant;

async fn collect(router: RouterConfig, options: ConntrackOptions) -> Vec<Family> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let probe = Probe::start(router, deadline).await;
    let mut module = group::module("conntrack");
    module.conntrack = options;
    let ctx = probe.context(module, deadline, Arc::new(Trace::new(true)), 1_772_366_400);
    group::collect("conntrack", &ctx)
        .await
        .expect("conntrack collects")
}

fn samples<'a>(families: &'a [Family], name: &str) -> Vec<(&'a [Label], f64)> {
    samples_named(families, name)
        .map(|s| (s.labels.as_slice(), s.value.as_f64()))
        .collect()
}

fn value(families: &[Family], name: &str, labels: &[&str]) -> Option<f64> {
    samples(families, name)
        .into_iter()
        .find(|(l, _)| l.iter().map(Label::as_str).eq(labels.iter().copied()))
        .map(|(_, v)| v)
}

#[tokio::test]
async fn v7_totals_and_default_grouping() {
    let router = RouterConfig::v7("r7");
    let (v4, v6) = (router.scale.conntrack, router.scale.conntrack_v6);
    let f = collect(router, ConntrackOptions::default()).await;
    assert_no_duplicate_series(&f);
    let entries = "mikrotik_conntrack_entries";
    assert_eq!(value(&f, entries, &["ipv4"]), Some(v4 as f64));
    assert_eq!(value(&f, entries, &["ipv6"]), Some(v6 as f64));
    assert_eq!(
        value(&f, "mikrotik_conntrack_max_entries", &[]),
        Some(1_048_576.0)
    );
    let count = samples(&f, "mikrotik_connection_tracking_count");
    assert_eq!(count.len(), 21, "top 20 plus other");
    assert_eq!(count.iter().map(|(_, v)| v).sum::<f64>(), v4 as f64);
    assert!(
        count
            .iter()
            .all(|(l, _)| l[1].is_empty() && !l[0].contains(':'))
    );
    assert_eq!(count[20].0, ["other", "", "other"]);
    assert_eq!(
        value(&f, "mikrotik_conntrack_active_series", &[]),
        Some(21.0)
    );
    assert!(value(&f, "mikrotik_conntrack_update_duration_milliseconds", &[]).is_some());
}

#[tokio::test]
async fn v6_totals_and_full_grouping() {
    let router = RouterConfig::v6("r6");
    let (v4, v6) = (router.scale.conntrack, router.scale.conntrack_v6);
    let options = ConntrackOptions {
        group_by: vec![
            ConntrackKey::SrcAddress,
            ConntrackKey::DstAddress,
            ConntrackKey::Protocol,
        ],
        top_n: 0,
    };
    let f = collect(router, options).await;
    assert_no_duplicate_series(&f);
    // RouterOS 6 has only `total-entries` (both families): IPv4 is the rest
    // once the IPv6 count is taken out.
    let entries = "mikrotik_conntrack_entries";
    assert_eq!(value(&f, entries, &["ipv4"]), Some(v4 as f64));
    assert_eq!(value(&f, entries, &["ipv6"]), Some(v6 as f64));
    let count = samples(&f, "mikrotik_connection_tracking_count");
    assert_eq!(count.iter().map(|(_, v)| v).sum::<f64>(), v4 as f64);
    assert!(count.iter().all(|(l, _)| l.iter().all(|v| !v.is_empty())));
    assert!(count.iter().all(|(l, _)| l[0] != "other"));
}

#[tokio::test]
async fn two_hundred_thousand_connections_stream_into_top_n() {
    let mut router = RouterConfig::v7("big");
    router.scale.conntrack = 200_000;
    let options = ConntrackOptions {
        group_by: vec![ConntrackKey::SrcAddress],
        top_n: 10,
    };
    let f = collect(router, options).await;
    assert_no_duplicate_series(&f);
    let count = samples(&f, "mikrotik_connection_tracking_count");
    assert_eq!(count.len(), 11);
    assert_eq!(count.iter().map(|(_, v)| v).sum::<f64>(), 200_000.0);
    // Ranked heaviest first; the other bucket holds the long tail.
    let (top_labels, top) = count[0];
    assert!(top_labels[0].starts_with("192.168.88."), "{top_labels:?}");
    assert!(count[1..10].iter().all(|(_, v)| *v <= top));
    assert_eq!(count[10].0[0], "other");
    assert_eq!(
        value(&f, "mikrotik_conntrack_entries", &["ipv4"]),
        Some(200_000.0)
    );
}

#[tokio::test]
async fn top_bucket_is_the_heaviest_source_of_a_big_table() {
    // Unlimited top N: every source gets its own series and the first one is the
    // busiest host of the simulator's skewed distribution (the sum still matches).
    let mut router = RouterConfig::v7("big");
    router.scale.conntrack = 200_000;
    let options = ConntrackOptions {
        group_by: vec![ConntrackKey::SrcAddress],
        top_n: 0,
    };
    let f = collect(router, options).await;
    let count = samples(&f, "mikrotik_connection_tracking_count");
    assert!(count.len() > 200 && count.len() < 1_000, "{}", count.len());
    assert_eq!(count.iter().map(|(_, v)| v).sum::<f64>(), 200_000.0);
    let max = count.iter().map(|(_, v)| *v).fold(0.0, f64::max);
    assert_eq!(count[0].1, max);
    assert!(max > 200_000.0 / 10.0, "{max}");
}

/// RouterOS 7.18+ may answer `=count-only=` on an empty table with `!empty`
/// and a `!done` without `=ret=`: that is a count of 0, not a failed group
/// (a router with no IPv6 connections).
#[tokio::test]
async fn no_ipv6_connections_on_7_18_count_as_zero() {
    let mut router = RouterConfig::v7("r718").with_version(Version::new(7, 18, 0));
    assert!(router.personality.empty_count_without_ret);
    router.scale.conntrack_v6 = 0;
    let v4 = router.scale.conntrack;
    let f = collect(router, ConntrackOptions::default()).await;
    let entries = "mikrotik_conntrack_entries";
    assert_eq!(value(&f, entries, &["ipv6"]), Some(0.0));
    assert_eq!(value(&f, entries, &["ipv4"]), Some(v4 as f64));
}
