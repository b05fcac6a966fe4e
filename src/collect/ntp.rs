//! `ntp`: whether the router's clock is synchronised, and how well.
//!
//! Commands: one `/system/ntp/client/print` with `.proplist` of the version's
//! fields; the version comes from the context (read once per target and
//! remembered until the router reboots), so no probe tries both shapes.
//!
//! RouterOS 7 reports `status` (`synchronized`, `reached`, `waiting`,
//! `started`, `error`…) and, once synchronised, `synced-stratum` and
//! `system-offset`: synchronised means `status=synchronized`. RouterOS 6's SNTP
//! client has no status: it reports the server it last updated from
//! (`last-update-from`), how long ago (`last-update-before`) and the last
//! step it applied (`last-adjustment`, unsigned). There, synchronised means
//! enabled with a last update no older than two poll intervals
//! (`poll-interval`, 15 minutes when absent), since a client that lost its
//! server keeps its last `last-update-from`; the offset is the last
//! adjustment and there is no stratum. RouterOS 7 has no age of the last
//! update, so that series is RouterOS 6 only.
//!
//! Formats the reference does not pin down, read defensively: `system-offset`
//! as bare milliseconds (`-0.123`) or with a unit (`-412us`, `1.5ms`, `2s`);
//! durations in both styles. A field that does not parse costs its sample.

use super::family::{Family, MetricDesc, metric};
use super::{Context, Group, GroupFuture, parse};
use routeros::{Command, Row};
use std::time::Duration;

/// The `ntp` group.
pub struct Ntp;

metric!(
    ENABLED,
    "mikrotik_ntp_enabled",
    Gauge,
    "1 when the NTP/SNTP client is enabled.",
    []
);
metric!(
    SYNCHRONIZED,
    "mikrotik_ntp_synchronized",
    Gauge,
    "1 when the clock is synchronised to an NTP server.",
    []
);
metric!(
    STRATUM,
    "mikrotik_ntp_stratum",
    Gauge,
    "Stratum of the server the clock is synchronised to (RouterOS 7).",
    []
);
metric!(
    OFFSET,
    "mikrotik_ntp_offset_seconds",
    Gauge,
    "System clock offset from the server (RouterOS 7), or the last adjustment (RouterOS 6), in seconds.",
    []
);
metric!(
    LAST_UPDATE_AGE,
    "mikrotik_ntp_last_update_age_seconds",
    Gauge,
    "Seconds since the last successful update from a server (RouterOS 6).",
    []
);

static METRICS: &[&MetricDesc] = &[&ENABLED, &SYNCHRONIZED, &STRATUM, &OFFSET, &LAST_UPDATE_AGE];

const MENU: &str = "/system/ntp/client/print";

/// RouterOS 7's fields.
const V7_FIELDS: &[&str] = &["enabled", "status", "synced-stratum", "system-offset"];

/// RouterOS 6's fields.
const V6_FIELDS: &[&str] = &[
    "enabled",
    "poll-interval",
    "last-update-from",
    "last-update-before",
    "last-adjustment",
];

/// RouterOS 6's poll interval when the router does not say.
const DEFAULT_POLL: Duration = Duration::from_secs(15 * 60);

impl Group for Ntp {
    fn name(&self) -> &'static str {
        "ntp"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let v7 = ctx.ros_version().await?.is_v7();
            let fields = if v7 { V7_FIELDS } else { V6_FIELDS };
            let rows = ctx.rows(Command::new(MENU).proplist(fields)).await?;
            Ok(match rows.first() {
                Some(row) if v7 => build_v7(row),
                Some(row) => build_v6(row),
                None => Vec::new(),
            })
        })
    }
}

/// A signed offset in seconds: `-0.123` (bare: milliseconds), `-412us`,
/// `1.5ms`, `+2s`, `1m3s`.
fn offset_seconds(text: &str) -> Option<f64> {
    let text = text.trim();
    let (sign, magnitude) = match text.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, text.strip_prefix('+').unwrap_or(text)),
    };
    let seconds = if magnitude.ends_with(|c: char| c.is_ascii_digit()) {
        parse::float(magnitude)? / 1e3
    } else {
        parse::duration(magnitude)?.as_secs_f64()
    };
    Some(sign * seconds)
}

fn seconds(row: &Row, key: &str) -> Option<f64> {
    row.str(key)
        .and_then(parse::duration)
        .map(|d| d.as_secs_f64())
}

fn enabled(row: &Row) -> Option<bool> {
    row.str("enabled").and_then(parse::boolean)
}

/// Families for a RouterOS 7 row (pure, unit-tested on fixtures).
fn build_v7(row: &Row) -> Vec<Family> {
    let mut out: Vec<Family> = enabled(row)
        .map(|e| Family::single(&ENABLED, e))
        .into_iter()
        .collect();
    let status = row.str("status").map(str::trim).unwrap_or_default();
    out.push(Family::single(&SYNCHRONIZED, status == "synchronized"));
    out.extend(
        row.str("synced-stratum")
            .and_then(parse::unsigned)
            .map(|s| Family::single(&STRATUM, s)),
    );
    out.extend(
        row.str("system-offset")
            .and_then(offset_seconds)
            .map(|o| Family::single(&OFFSET, o)),
    );
    out
}

/// Families for a RouterOS 6 row (pure, unit-tested on fixtures).
fn build_v6(row: &Row) -> Vec<Family> {
    let enabled = enabled(row);
    let mut out: Vec<Family> = enabled
        .map(|e| Family::single(&ENABLED, e))
        .into_iter()
        .collect();
    let poll = row
        .str("poll-interval")
        .and_then(parse::duration)
        .unwrap_or(DEFAULT_POLL);
    let updated_from = row
        .str("last-update-from")
        .is_some_and(|s| !s.trim().is_empty());
    let age = seconds(row, "last-update-before");
    let fresh = age.is_some_and(|a| a <= 2.0 * poll.as_secs_f64());
    let synchronized = enabled == Some(true) && updated_from && fresh;
    out.push(Family::single(&SYNCHRONIZED, synchronized));
    out.extend(age.map(|a| Family::single(&LAST_UPDATE_AGE, a)));
    out.extend(seconds(row, "last-adjustment").map(|a| Family::single(&OFFSET, a)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixture::{assert_no_duplicate_series, rows, samples};

    fn value(f: &[Family], name: &str) -> Option<f64> {
        samples(f, name).first().map(|(_, v)| v.as_f64())
    }

    fn v7(text: &str) -> Vec<Family> {
        build_v7(&rows(text)[0])
    }

    fn v6(text: &str) -> Vec<Family> {
        build_v6(&rows(text)[0])
    }

    #[test]
    fn v7_synchronized_client() {
        let f = v7(
            "enabled=true  mode=unicast  servers=time.cloudflare.com  status=synchronized  synced-server=162.159.200.1  synced-stratum=3  system-offset=-0.123  freq-drift=-12.3",
        );
        assert_no_duplicate_series(&f);
        assert_eq!(value(&f, "mikrotik_ntp_enabled"), Some(1.0));
        assert_eq!(value(&f, "mikrotik_ntp_synchronized"), Some(1.0));
        assert_eq!(value(&f, "mikrotik_ntp_stratum"), Some(3.0));
        let offset = value(&f, "mikrotik_ntp_offset_seconds").unwrap();
        assert!((offset + 0.000_123).abs() < 1e-12, "{offset}");
        assert_eq!(value(&f, "mikrotik_ntp_last_update_age_seconds"), None);
    }

    #[test]
    fn v7_waiting_or_odd_values_cost_one_sample() {
        let f = v7("enabled=true  status=waiting");
        assert_eq!(value(&f, "mikrotik_ntp_synchronized"), Some(0.0));
        assert_eq!(value(&f, "mikrotik_ntp_stratum"), None);
        let f = v7("enabled=maybe  status=synchronized  synced-stratum=x  system-offset=fast");
        assert_eq!(value(&f, "mikrotik_ntp_enabled"), None);
        assert_eq!(value(&f, "mikrotik_ntp_synchronized"), Some(1.0));
        assert_eq!(value(&f, "mikrotik_ntp_stratum"), None);
        assert_eq!(value(&f, "mikrotik_ntp_offset_seconds"), None);
    }

    #[test]
    fn v7_offsets_with_and_without_units() {
        let cases = [
            ("-0.123", -0.000_123),
            ("1.5ms", 0.0015),
            ("-412us", -0.000_412),
            ("+2s", 2.0),
            ("0", 0.0),
        ];
        for (text, want) in cases {
            let got = offset_seconds(text).unwrap();
            assert!((got - want).abs() < 1e-12, "{text}: {got}");
        }
        assert_eq!(offset_seconds("-"), None);
        assert_eq!(offset_seconds("1.5 light years"), None);
    }

    #[test]
    fn v6_sntp_client_with_a_recent_update() {
        let f = v6(
            "enabled=true  primary-ntp=0.0.0.0  server-dns-names=pool.ntp.org  mode=unicast  poll-interval=15m  active-server=162.159.200.1  last-update-from=162.159.200.1  last-update-before=1m30s  last-adjustment=7ms630us",
        );
        assert_no_duplicate_series(&f);
        assert_eq!(value(&f, "mikrotik_ntp_enabled"), Some(1.0));
        assert_eq!(value(&f, "mikrotik_ntp_synchronized"), Some(1.0));
        assert_eq!(
            value(&f, "mikrotik_ntp_last_update_age_seconds"),
            Some(90.0)
        );
        let offset = value(&f, "mikrotik_ntp_offset_seconds").unwrap();
        assert!((offset - 0.007_63).abs() < 1e-12, "{offset}");
        assert_eq!(value(&f, "mikrotik_ntp_stratum"), None);
    }

    #[test]
    fn v6_stale_never_updated_or_disabled_is_not_synchronized() {
        let stale = v6("enabled=true  last-update-from=1.2.3.4  last-update-before=00:45:00");
        assert_eq!(value(&stale, "mikrotik_ntp_synchronized"), Some(0.0));
        assert_eq!(
            value(&stale, "mikrotik_ntp_last_update_age_seconds"),
            Some(2_700.0)
        );
        let never = v6("enabled=true  active-server=1.2.3.4");
        assert_eq!(value(&never, "mikrotik_ntp_synchronized"), Some(0.0));
        assert_eq!(value(&never, "mikrotik_ntp_last_update_age_seconds"), None);
        let off = v6(
            "enabled=false  last-update-from=1.2.3.4  last-update-before=10s  last-adjustment=soon",
        );
        assert_eq!(value(&off, "mikrotik_ntp_enabled"), Some(0.0));
        assert_eq!(value(&off, "mikrotik_ntp_synchronized"), Some(0.0));
        assert_eq!(value(&off, "mikrotik_ntp_offset_seconds"), None);
    }
}
