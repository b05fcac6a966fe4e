//! `dns`: the router's DNS resolver: cache size and use, and whether it
//! answers remote requests (an open resolver on a WAN-facing router is a
//! security problem and a DDoS amplifier).
//!
//! Commands: one `/ip/dns/print =.proplist=allow-remote-requests,cache-size,cache-used`,
//! the same on RouterOS 6 and 7 (no version check). The cache sizes are kept
//! in KiB: RouterOS 7 sends them with the unit (`2048KiB`), older versions may
//! send the bare number of KiB (`2048`); both become bytes. A field that does
//! not parse costs its sample.

use super::family::{Family, MetricDesc, metric};
use super::{Context, Group, GroupFuture, parse};
use routeros::{Command, Row};

/// The `dns` group.
pub struct Dns;

metric!(
    CACHE_SIZE,
    "mikrotik_dns_cache_size_bytes",
    Gauge,
    "Configured size of the DNS cache in bytes.",
    []
);
metric!(
    CACHE_USED,
    "mikrotik_dns_cache_used_bytes",
    Gauge,
    "Bytes of the DNS cache in use.",
    []
);
metric!(
    ALLOW_REMOTE,
    "mikrotik_dns_allow_remote_requests",
    Gauge,
    "1 when the resolver answers requests from other hosts (allow-remote-requests).",
    []
);

static METRICS: &[&MetricDesc] = &[&CACHE_SIZE, &CACHE_USED, &ALLOW_REMOTE];

/// Bytes in the unit of a bare cache size: KiB.
const KIB: u64 = 1024;

impl Group for Dns {
    fn name(&self) -> &'static str {
        "dns"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let print = Command::new("/ip/dns/print").proplist(&[
                "allow-remote-requests",
                "cache-size",
                "cache-used",
            ]);
            Ok(ctx
                .rows(print)
                .await?
                .first()
                .map(build)
                .unwrap_or_default())
        })
    }
}

/// Converts the `/ip/dns/print` row into families (pure, unit-tested on
/// fixtures).
fn build(row: &Row) -> Vec<Family> {
    let size = |key| row.str(key).and_then(|t| parse::size_bytes(t, KIB));
    let mut out = Vec::new();
    out.extend(size("cache-size").map(|b| Family::single(&CACHE_SIZE, b)));
    out.extend(size("cache-used").map(|b| Family::single(&CACHE_USED, b)));
    out.extend(
        row.str("allow-remote-requests")
            .and_then(parse::boolean)
            .map(|b| Family::single(&ALLOW_REMOTE, b)),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixture::{assert_no_duplicate_series, rows, samples};

    fn value(f: &[Family], name: &str) -> Option<f64> {
        samples(f, name).first().map(|(_, v)| v.as_f64())
    }

    #[test]
    fn v7_sizes_with_units() {
        let f = build(
            &rows(
                "servers=1.1.1.1,8.8.8.8  dynamic-servers=  allow-remote-requests=true  cache-size=2048KiB  cache-max-ttl=1w  cache-used=34KiB",
            )[0],
        );
        assert_no_duplicate_series(&f);
        assert_eq!(
            value(&f, "mikrotik_dns_cache_size_bytes"),
            Some(2_097_152.0)
        );
        assert_eq!(value(&f, "mikrotik_dns_cache_used_bytes"), Some(34_816.0));
        assert_eq!(value(&f, "mikrotik_dns_allow_remote_requests"), Some(1.0));
    }

    #[test]
    fn v6_bare_kib_and_odd_values_cost_one_sample() {
        let f = build(&rows("allow-remote-requests=false  cache-size=2048  cache-used=12")[0]);
        assert_eq!(
            value(&f, "mikrotik_dns_cache_size_bytes"),
            Some(2_097_152.0)
        );
        assert_eq!(value(&f, "mikrotik_dns_cache_used_bytes"), Some(12_288.0));
        assert_eq!(value(&f, "mikrotik_dns_allow_remote_requests"), Some(0.0));
        let odd = build(&rows("allow-remote-requests=perhaps  cache-size=big  cache-used=1MiB")[0]);
        assert_eq!(value(&odd, "mikrotik_dns_cache_size_bytes"), None);
        assert_eq!(value(&odd, "mikrotik_dns_allow_remote_requests"), None);
        assert_eq!(
            value(&odd, "mikrotik_dns_cache_used_bytes"),
            Some(1_048_576.0)
        );
    }
}
