//! `conntrack`: connection-tracking totals and the busiest connection groups.
//!
//! Commands (run concurrently on the probe's session):
//! `/ip/firewall/connection/tracking/print` (one row of totals),
//! `/ipv6/firewall/connection/print =count-only=` (the IPv6 total; skipped when the
//! menu is missing) and `/ip/firewall/connection/print` with `.proplist` of only the
//! fields in the module's `conntrack.group_by`.
//!
//! The connection table can hold hundreds of thousands of rows, so it is streamed
//! and aggregated row by row into one counter per distinct key; memory grows with
//! the number of keys, never with the number of rows. Ports are stripped from the
//! addresses (`192.168.88.10:51000` → `192.168.88.10`, `[2001:db8::1]:443` →
//! `2001:db8::1`), the `top_n` largest groups are kept and the rest summed into one
//! `other` group.

use super::family::{Family, MetricDesc, Value, metric};
use super::{Context, Group, GroupError, GroupFuture, parse};
use crate::config::{ConntrackKey, ConntrackOptions};
use routeros::{Command, Row};
use std::collections::HashMap;
use tokio::time::Instant;

/// The `conntrack` group.
pub struct Conntrack;

metric!(
    COUNT,
    "mikrotik_connection_tracking_count",
    Gauge,
    "Tracked IPv4 connections by the module's group_by fields (the rest summed as `other`).",
    ["src_address", "dst_address", "protocol"]
);
metric!(
    ENTRIES,
    "mikrotik_conntrack_entries",
    Gauge,
    "Connection-tracking entries by address family.",
    ["family"]
);
metric!(
    MAX_ENTRIES,
    "mikrotik_conntrack_max_entries",
    Gauge,
    "Maximum number of connection-tracking entries.",
    []
);
metric!(
    ACTIVE_SERIES,
    "mikrotik_conntrack_active_series",
    Gauge,
    "Number of mikrotik_connection_tracking_count series emitted.",
    []
);
metric!(
    UPDATE_DURATION,
    "mikrotik_conntrack_update_duration_milliseconds",
    Gauge,
    "Time spent streaming and aggregating the connection table, in milliseconds.",
    []
);

static METRICS: &[&MetricDesc] = &[
    &COUNT,
    &ENTRIES,
    &MAX_ENTRIES,
    &ACTIVE_SERIES,
    &UPDATE_DURATION,
];

/// Label values of the bucket holding everything outside the top N.
const OTHER: &str = "other";

/// Separates the key fields inside an aggregation key.
const SEP: char = '\0';

/// The label columns of [`COUNT`], in label order.
const COLUMNS: [ConntrackKey; 3] = [
    ConntrackKey::SrcAddress,
    ConntrackKey::DstAddress,
    ConntrackKey::Protocol,
];

impl Group for Conntrack {
    fn name(&self) -> &'static str {
        "conntrack"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let options = &ctx.module.conntrack;
            let (tracking, ipv6, counts) = tokio::join!(
                ctx.rows(
                    Command::new("/ip/firewall/connection/tracking/print").proplist(&[
                        "total-entries",
                        "max-entries",
                        "total-ip4-entries",
                        "total-ip6-entries",
                    ])
                ),
                ctx.count(Command::new("/ipv6/firewall/connection/print")),
                aggregate_table(ctx, options),
            );
            let ipv6 = match ipv6 {
                Ok(n) => Some(n),
                Err(GroupError::Unsupported(_)) => None,
                Err(e) => return Err(e),
            };
            let (counts, took) = counts?;
            let mut out = totals(tracking?.first(), ipv6);
            out.extend(groups(counts, options));
            out.push(Family::single(
                &UPDATE_DURATION,
                took.as_secs_f64() * 1_000.0,
            ));
            Ok(out)
        })
    }
}

/// Connection counts by aggregation key (see [`Aggregator`]); foldhash, as
/// the key of each of up to 200,000 rows is hashed.
type Counts = HashMap<String, u64, foldhash::fast::RandomState>;

/// Streams the IPv4 connection table into per-key counts; also returns how long
/// streaming and aggregating took.
async fn aggregate_table(
    ctx: &Context,
    options: &ConntrackOptions,
) -> Result<(Counts, std::time::Duration), GroupError> {
    let start = Instant::now();
    let command = Command::new("/ip/firewall/connection/print");
    let mut aggregator = Aggregator::new(&options.group_by);
    if options.group_by.is_empty() {
        // Nothing to group by: one group holding every connection, counted by
        // the router instead of streaming the table.
        let n = ctx.count(command).await?;
        aggregator.counts.insert(aggregator.empty_key(), n);
    } else {
        let fields: Vec<&str> = options
            .group_by
            .iter()
            .map(|k| k.routeros_field())
            .collect();
        ctx.for_each_row(command.proplist(&fields), |row| aggregator.add(row))
            .await?;
    }
    Ok((aggregator.counts, start.elapsed()))
}

/// Counts rows by their key: the grouped fields in label order (ungrouped ones
/// empty), joined by [`SEP`]. Looking a key up reuses one buffer, so a row whose
/// key was seen before allocates nothing.
struct Aggregator {
    grouped: [bool; 3],
    buffer: String,
    counts: Counts,
}

impl Aggregator {
    fn new(group_by: &[ConntrackKey]) -> Self {
        Self {
            grouped: COLUMNS.map(|c| group_by.contains(&c)),
            buffer: String::with_capacity(64),
            counts: Counts::default(),
        }
    }

    /// The key of a row with no grouped fields.
    fn empty_key(&self) -> String {
        std::iter::repeat_n(SEP, COLUMNS.len() - 1).collect()
    }

    fn add(&mut self, row: &Row) {
        self.buffer.clear();
        for (i, column) in COLUMNS.iter().enumerate() {
            if i > 0 {
                self.buffer.push(SEP);
            }
            if !self.grouped[i] {
                continue;
            }
            let value = row.text(column.routeros_field()).unwrap_or_default();
            let value: &str = match column {
                ConntrackKey::Protocol => value.trim(),
                _ => strip_port(&value),
            };
            // A separator inside a value would shift the fields.
            if value.contains(SEP) {
                self.buffer
                    .extend(value.chars().map(|c| if c == SEP { '\u{FFFD}' } else { c }));
            } else {
                self.buffer.push_str(value);
            }
        }
        match self.counts.get_mut(self.buffer.as_str()) {
            Some(n) => *n += 1,
            None => {
                self.counts.insert(self.buffer.clone(), 1);
            }
        }
    }
}

/// The address part of a conntrack address: `a.b.c.d:port` → `a.b.c.d`,
/// `[v6]:port` and `[v6]` → `v6`; bare IPv4 and IPv6 addresses are returned as is.
fn strip_port(address: &str) -> &str {
    let address = address.trim();
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(inside, _)| inside);
    }
    match address.split_once(':') {
        // Exactly one colon followed by digits: IPv4 (or host) with a port.
        Some((host, port))
            if !port.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            host
        }
        _ => address,
    }
}

/// The totals from the tracking row and the IPv6 count.
fn totals(tracking: Option<&Row>, ipv6: Option<u64>) -> Vec<Family> {
    let num = |key: &str| {
        let raw = tracking.and_then(|r| r.str(key))?;
        let value = parse::unsigned(raw);
        if value.is_none() {
            tracing::debug!(key, raw, "unparseable conntrack total");
        }
        value
    };
    let mut out = Vec::new();
    let mut entries = Family::new(&ENTRIES);
    // RouterOS 7 splits the total by family. RouterOS 6 has only
    // `total-entries`, the one netfilter table holding both families, so the
    // IPv6 count (when known) is taken out of it.
    let ipv4 = num("total-ip4-entries").or_else(|| {
        num("total-entries").map(|total| total.saturating_sub(ipv6.unwrap_or_default()))
    });
    if let Some(v4) = ipv4 {
        entries.push(["ipv4"], v4);
    }
    if let Some(v6) = ipv6 {
        entries.push(["ipv6"], v6);
    }
    if !entries.samples.is_empty() {
        out.push(entries);
    }
    if let Some(max) = num("max-entries") {
        out.push(Family::single(&MAX_ENTRIES, max));
    }
    out
}

/// The top-N groups plus `other`, and the number of series emitted.
fn groups(counts: Counts, options: &ConntrackOptions) -> Vec<Family> {
    let grouped = COLUMNS.map(|c| options.group_by.contains(&c));
    let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
    // Heaviest first; ties broken by key so the cut is deterministic.
    ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let keep = match options.top_n {
        0 => ranked.len(),
        n => n.min(ranked.len()),
    };
    let other_labels: Vec<String> = grouped
        .iter()
        .map(|g| if *g { OTHER.into() } else { String::new() })
        .collect();
    let mut other: u64 = ranked[keep..].iter().map(|(_, n)| n).sum();
    let mut has_other = keep < ranked.len();
    let mut family = Family::new(&COUNT);
    for (key, n) in ranked.into_iter().take(keep) {
        let labels: Vec<String> = key.split(SEP).map(str::to_owned).collect();
        if labels == other_labels {
            // A real group literally named `other` joins the `other` bucket
            // rather than duplicating its series.
            other += n;
            has_other = true;
            continue;
        }
        family.push(labels, n);
    }
    if has_other {
        family.push(other_labels, other);
    }
    let series = family.samples.len() as u64;
    vec![family, Family::single(&ACTIVE_SERIES, Value::Int(series))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::samples_named;
    use crate::collect::fixture::assert_no_duplicate_series;
    use crate::collect::fixture::rows;

    fn options(group_by: &[ConntrackKey], top_n: usize) -> ConntrackOptions {
        ConntrackOptions {
            group_by: group_by.to_vec(),
            top_n,
        }
    }

    fn aggregate(table: &str, options: &ConntrackOptions) -> Vec<Family> {
        let mut aggregator = Aggregator::new(&options.group_by);
        for row in rows(table) {
            aggregator.add(&row);
        }
        groups(aggregator.counts, options)
    }

    fn samples(families: &[Family], name: &str) -> Vec<(Vec<String>, f64)> {
        samples_named(families, name)
            .map(|s| (s.label_strings(), s.value.as_f64()))
            .collect()
    }

    fn labels(values: [&str; 3]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn ports_are_stripped() {
        assert_eq!(strip_port("192.168.88.10:51000"), "192.168.88.10");
        assert_eq!(strip_port("[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(strip_port("[2001:db8::1]"), "2001:db8::1");
        assert_eq!(strip_port("2001:db8::1"), "2001:db8::1");
        assert_eq!(strip_port("fe80::1:443"), "fe80::1:443");
        assert_eq!(strip_port("192.168.88.10"), "192.168.88.10");
        assert_eq!(strip_port(""), "");
    }

    const V7_TABLE: &str = "
        src-address=192.168.88.10:51000  dst-address=1.1.1.1:443  protocol=tcp
        src-address=192.168.88.10:51001  dst-address=1.1.1.1:443  protocol=tcp
        src-address=192.168.88.10  dst-address=8.8.8.8  protocol=icmp
        src-address=192.168.88.11:40000  dst-address=8.8.8.8:53  protocol=udp
        src-address=192.168.88.12:40000  dst-address=8.8.8.8:53  protocol=udp
        src-address=192.168.88.12:40001  dst-address=9.9.9.9:53  protocol=udp
        src-address=192.168.88.13:40001  dst-address=9.9.9.9:53  protocol=udp
    ";

    #[test]
    fn groups_by_source_and_protocol_with_other_bucket() {
        let f = aggregate(
            V7_TABLE,
            &options(&[ConntrackKey::SrcAddress, ConntrackKey::Protocol], 2),
        );
        let count = samples(&f, "mikrotik_connection_tracking_count");
        assert_eq!(
            count,
            vec![
                (labels(["192.168.88.10", "", "tcp"]), 2.0),
                (labels(["192.168.88.12", "", "udp"]), 2.0),
                (labels(["other", "", "other"]), 3.0),
            ]
        );
        assert_eq!(
            samples(&f, "mikrotik_conntrack_active_series"),
            vec![(vec![], 3.0)]
        );
    }

    #[test]
    fn unlimited_top_n_and_ipv6_addresses() {
        let table = "
            src-address=[2001:db8::10]:51000  dst-address=[2a00:1450:4001::1]:443  protocol=tcp
            src-address=[2001:db8::10]:51001  dst-address=[2a00:1450:4001::1]:443  protocol=tcp
            src-address=2001:db8::10  dst-address=2a00:1450:4001::1  protocol=icmpv6
        ";
        let f = aggregate(table, &options(&[ConntrackKey::DstAddress], 0));
        assert_eq!(
            samples(&f, "mikrotik_connection_tracking_count"),
            vec![(labels(["", "2a00:1450:4001::1", ""]), 3.0)]
        );
    }

    #[test]
    fn ties_are_cut_by_key() {
        let f = aggregate(V7_TABLE, &options(&[ConntrackKey::SrcAddress], 1));
        let count = samples(&f, "mikrotik_connection_tracking_count");
        // .10 has 3; then .12 (2); .11 and .13 (1 each) go to other.
        assert_eq!(count[0], (labels(["192.168.88.10", "", ""]), 3.0));
        assert_eq!(count[1], (labels(["other", "", ""]), 4.0));
        let f = aggregate(V7_TABLE, &options(&[ConntrackKey::DstAddress], 1));
        let count = samples(&f, "mikrotik_connection_tracking_count");
        // 8.8.8.8 has 3; 1.1.1.1 and 9.9.9.9 tie at 2, cut by key.
        assert_eq!(count[0], (labels(["", "8.8.8.8", ""]), 3.0));
        let f = aggregate(V7_TABLE, &options(&[ConntrackKey::DstAddress], 2));
        let count = samples(&f, "mikrotik_connection_tracking_count");
        assert_eq!(count[1], (labels(["", "1.1.1.1", ""]), 2.0));
        assert_eq!(count[2], (labels(["", "other", ""]), 2.0));
    }

    #[test]
    fn a_group_named_other_does_not_duplicate_the_bucket() {
        let table = "
            protocol=other
            protocol=other
            protocol=tcp
            protocol=udp
        ";
        let f = aggregate(table, &options(&[ConntrackKey::Protocol], 1));
        assert_eq!(
            samples(&f, "mikrotik_connection_tracking_count"),
            vec![(labels(["", "", "other"]), 4.0)]
        );
    }

    #[test]
    fn odd_bytes_and_missing_fields() {
        let mut aggregator = Aggregator::new(&[ConntrackKey::SrcAddress, ConntrackKey::Protocol]);
        aggregator.add(&Row::from_pairs([("src-address", &b"10.0.0.1:1\0x"[..])]));
        aggregator.add(&Row::from_pairs([("protocol", &b"\xff"[..])]));
        let f = groups(aggregator.counts, &options(&[ConntrackKey::SrcAddress], 0));
        let count = samples(&f, "mikrotik_connection_tracking_count");
        assert_eq!(count.len(), 2);
        assert!(count.iter().all(|(l, _)| l.len() == 3));
    }

    #[test]
    fn empty_table() {
        let f = groups(Counts::default(), &options(&[ConntrackKey::SrcAddress], 20));
        assert!(samples(&f, "mikrotik_connection_tracking_count").is_empty());
        assert_eq!(
            samples(&f, "mikrotik_conntrack_active_series"),
            vec![(vec![], 0.0)]
        );
    }

    #[test]
    fn v7_and_v6_totals() {
        let v7 = rows(
            "total-entries=519  max-entries=1048576  total-ip4-entries=499  total-ip6-entries=20",
        );
        let f = totals(v7.first(), Some(20));
        assert_eq!(
            samples(&f, "mikrotik_conntrack_entries"),
            vec![(vec!["ipv4".into()], 499.0), (vec!["ipv6".into()], 20.0)]
        );
        assert_eq!(
            samples(&f, "mikrotik_conntrack_max_entries"),
            vec![(vec![], 1_048_576.0)]
        );
        let v6 = rows("total-entries=87  max-entries=many");
        let f = totals(v6.first(), None);
        assert_eq!(
            samples(&f, "mikrotik_conntrack_entries"),
            vec![(vec!["ipv4".into()], 87.0)]
        );
        assert!(samples(&f, "mikrotik_conntrack_max_entries").is_empty());
        let f = totals(v6.first(), Some(7));
        assert_eq!(
            samples(&f, "mikrotik_conntrack_entries"),
            vec![(vec!["ipv4".into()], 80.0), (vec!["ipv6".into()], 7.0)]
        );
    }

    #[test]
    fn no_duplicate_series_on_simulator_data() {
        use routeros_sim::menus::registry;
        use routeros_sim::menus::testkit::Fixture;
        for f in [Fixture::v6(), Fixture::v7()] {
            let view = f.view(0, 1_000);
            let menu = registry()
                .into_iter()
                .find(|m| m.path() == "/ip/firewall/connection")
                .expect("conntrack menu");
            let table: Vec<Row> = menu.rows(&view).into_iter().map(Row::from_pairs).collect();
            for (group_by, top_n) in [
                (COLUMNS.to_vec(), 0),
                (vec![ConntrackKey::SrcAddress, ConntrackKey::Protocol], 20),
                (vec![ConntrackKey::DstAddress], 3),
            ] {
                let options = options(&group_by, top_n);
                let mut aggregator = Aggregator::new(&options.group_by);
                table.iter().for_each(|r| aggregator.add(r));
                let families = groups(aggregator.counts, &options);
                assert_no_duplicate_series(&families);
                let count = &families[0];
                let total: f64 = count.samples.iter().map(|s| s.value.as_f64()).sum();
                assert_eq!(total as usize, table.len());
                assert!(count.samples.iter().all(|s| !s.labels[0].contains(':')));
            }
        }
    }
}
