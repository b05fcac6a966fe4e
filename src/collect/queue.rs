//! `queue`: traffic, drops, current rates, backlog and limits of every simple
//! queue (per direction) and every queue tree entry.
//!
//! Commands, two per probe whatever the number of queues, both streamed (a
//! router shaping its subscribers holds hundreds of simple queues):
//! * `/queue/simple/print ?dynamic=false` with `.proplist` of the fourteen
//!   fields used; the query makes the router leave out the dynamic queues
//!   that PPP and hotspot rate limits create, one per subscriber, which come
//!   and go with every login. With `clients: per_client` the query is
//!   dropped and they are reported too (keyed by their name,
//!   `<pppoe-user>`), like the other per-subscriber series;
//! * `/queue/tree/print` with `.proplist` of its eleven fields.
//!
//! A simple queue's values are `upload/download` pairs (`bytes=123/456`):
//! upload is traffic from its target, download traffic to it; each half is
//! one sample with `direction` `upload` or `download`. Bytes, packets and
//! drops are the router's counters (they reset when the queue is changed or
//! the router reboots); `rate` (bits/s), `packet-rate` and the backlog are
//! gauges, never counters (mktxp types its rates as counters). A limit of 0
//! means no limit and gives no `max_limit`/`limit_at` sample, so
//! `rate / max_limit` never divides by zero; a limit is read as raw bits per
//! second or with a `k`/`M`/`G` suffix (`10M`), as the spelling RouterOS uses
//! over the API is not verified. A half that does not parse costs that one
//! sample. A name seen twice keeps its first row.

use super::family::{Family, MetricDesc, Value, metric};
use super::{Context, Group, GroupFuture, parse};
use crate::config::ClientSeries;
use routeros::{Command, Row};
use std::collections::HashSet;

/// The `queue` group.
pub struct Queue;

metric!(
    SIMPLE_BYTES,
    "mikrotik_queue_simple_bytes_total",
    Counter,
    "Bytes through the simple queue in this direction.",
    ["name", "direction"]
);
metric!(
    SIMPLE_PACKETS,
    "mikrotik_queue_simple_packets_total",
    Counter,
    "Packets through the simple queue in this direction.",
    ["name", "direction"]
);
metric!(
    SIMPLE_DROPPED,
    "mikrotik_queue_simple_dropped_packets_total",
    Counter,
    "Packets the simple queue dropped in this direction.",
    ["name", "direction"]
);
metric!(
    SIMPLE_RATE,
    "mikrotik_queue_simple_rate_bps",
    Gauge,
    "Current rate through the simple queue in this direction, bits per second (the router's average).",
    ["name", "direction"]
);
metric!(
    SIMPLE_PACKET_RATE,
    "mikrotik_queue_simple_packets_per_second",
    Gauge,
    "Current packet rate through the simple queue in this direction.",
    ["name", "direction"]
);
metric!(
    SIMPLE_QUEUED_BYTES,
    "mikrotik_queue_simple_queued_bytes",
    Gauge,
    "Bytes waiting in the simple queue in this direction.",
    ["name", "direction"]
);
metric!(
    SIMPLE_QUEUED_PACKETS,
    "mikrotik_queue_simple_queued_packets",
    Gauge,
    "Packets waiting in the simple queue in this direction.",
    ["name", "direction"]
);
metric!(
    SIMPLE_MAX_LIMIT,
    "mikrotik_queue_simple_max_limit_bps",
    Gauge,
    "The simple queue's max-limit in this direction, bits per second (absent when unlimited).",
    ["name", "direction"]
);
metric!(
    SIMPLE_LIMIT_AT,
    "mikrotik_queue_simple_limit_at_bps",
    Gauge,
    "The simple queue's guaranteed rate (limit-at) in this direction, bits per second (absent when 0).",
    ["name", "direction"]
);
metric!(
    SIMPLE_INFO,
    "mikrotik_queue_simple_info",
    Gauge,
    "Simple queue metadata (value 1).",
    ["name", "target", "parent", "dynamic", "disabled"]
);
metric!(
    TREE_BYTES,
    "mikrotik_queue_tree_bytes_total",
    Counter,
    "Bytes through the queue tree entry.",
    ["name"]
);
metric!(
    TREE_PACKETS,
    "mikrotik_queue_tree_packets_total",
    Counter,
    "Packets through the queue tree entry.",
    ["name"]
);
metric!(
    TREE_DROPPED,
    "mikrotik_queue_tree_dropped_packets_total",
    Counter,
    "Packets the queue tree entry dropped.",
    ["name"]
);
metric!(
    TREE_RATE,
    "mikrotik_queue_tree_rate_bps",
    Gauge,
    "Current rate through the queue tree entry, bits per second.",
    ["name"]
);
metric!(
    TREE_PACKET_RATE,
    "mikrotik_queue_tree_packets_per_second",
    Gauge,
    "Current packet rate through the queue tree entry.",
    ["name"]
);
metric!(
    TREE_QUEUED_BYTES,
    "mikrotik_queue_tree_queued_bytes",
    Gauge,
    "Bytes waiting in the queue tree entry.",
    ["name"]
);
metric!(
    TREE_QUEUED_PACKETS,
    "mikrotik_queue_tree_queued_packets",
    Gauge,
    "Packets waiting in the queue tree entry.",
    ["name"]
);
metric!(
    TREE_MAX_LIMIT,
    "mikrotik_queue_tree_max_limit_bps",
    Gauge,
    "The queue tree entry's max-limit, bits per second (absent when unlimited).",
    ["name"]
);
metric!(
    TREE_INFO,
    "mikrotik_queue_tree_info",
    Gauge,
    "Queue tree entry metadata (value 1).",
    ["name", "parent", "packet_mark", "disabled"]
);

static METRICS: &[&MetricDesc] = &[
    &SIMPLE_BYTES,
    &SIMPLE_PACKETS,
    &SIMPLE_DROPPED,
    &SIMPLE_RATE,
    &SIMPLE_PACKET_RATE,
    &SIMPLE_QUEUED_BYTES,
    &SIMPLE_QUEUED_PACKETS,
    &SIMPLE_MAX_LIMIT,
    &SIMPLE_LIMIT_AT,
    &SIMPLE_INFO,
    &TREE_BYTES,
    &TREE_PACKETS,
    &TREE_DROPPED,
    &TREE_RATE,
    &TREE_PACKET_RATE,
    &TREE_QUEUED_BYTES,
    &TREE_QUEUED_PACKETS,
    &TREE_MAX_LIMIT,
    &TREE_INFO,
];

/// How a field's value is read.
#[derive(Debug, Clone, Copy)]
enum Read {
    /// A counter or count: an unsigned integer.
    Count,
    /// A rate or limit in bits per second, 0 dropped (no limit).
    Limit,
    /// A rate in bits or packets per second, 0 kept.
    Rate,
}

/// The value fields of a simple queue, each with its family and reading.
static SIMPLE_FIELDS: &[(&str, &MetricDesc, Read)] = &[
    ("bytes", &SIMPLE_BYTES, Read::Count),
    ("packets", &SIMPLE_PACKETS, Read::Count),
    ("dropped", &SIMPLE_DROPPED, Read::Count),
    ("rate", &SIMPLE_RATE, Read::Rate),
    ("packet-rate", &SIMPLE_PACKET_RATE, Read::Rate),
    ("queued-bytes", &SIMPLE_QUEUED_BYTES, Read::Count),
    ("queued-packets", &SIMPLE_QUEUED_PACKETS, Read::Count),
    ("max-limit", &SIMPLE_MAX_LIMIT, Read::Limit),
    ("limit-at", &SIMPLE_LIMIT_AT, Read::Limit),
];

/// The value fields of a queue tree entry.
static TREE_FIELDS: &[(&str, &MetricDesc, Read)] = &[
    ("bytes", &TREE_BYTES, Read::Count),
    ("packets", &TREE_PACKETS, Read::Count),
    ("dropped", &TREE_DROPPED, Read::Count),
    ("rate", &TREE_RATE, Read::Rate),
    ("packet-rate", &TREE_PACKET_RATE, Read::Rate),
    ("queued-bytes", &TREE_QUEUED_BYTES, Read::Count),
    ("queued-packets", &TREE_QUEUED_PACKETS, Read::Count),
    ("max-limit", &TREE_MAX_LIMIT, Read::Limit),
];

/// Label fields of the simple queue info series (after `name`).
const SIMPLE_INFO_FIELDS: &[&str] = &["target", "parent", "dynamic", "disabled"];

/// Label fields of the queue tree info series (after `name`).
const TREE_INFO_FIELDS: &[&str] = &["parent", "packet-mark", "disabled"];

/// The `direction` labels of the two halves of a simple queue's pair.
const DIRECTIONS: [&str; 2] = ["upload", "download"];

/// A kind of queue: its fields and families.
struct Kind {
    /// The print command.
    print: &'static str,
    fields: &'static [(&'static str, &'static MetricDesc, Read)],
    info: &'static MetricDesc,
    info_fields: &'static [&'static str],
    /// Values are `upload/download` pairs.
    pairs: bool,
}

const SIMPLE: Kind = Kind {
    print: "/queue/simple/print",
    fields: SIMPLE_FIELDS,
    info: &SIMPLE_INFO,
    info_fields: SIMPLE_INFO_FIELDS,
    pairs: true,
};

const TREE: Kind = Kind {
    print: "/queue/tree/print",
    fields: TREE_FIELDS,
    info: &TREE_INFO,
    info_fields: TREE_INFO_FIELDS,
    pairs: false,
};

impl Kind {
    /// The `.proplist` of the print: name, values and info fields.
    fn proplist(&self) -> Vec<&'static str> {
        let mut props = vec!["name"];
        props.extend(self.fields.iter().map(|(field, _, _)| *field));
        props.extend(self.info_fields);
        props
    }
}

impl Group for Queue {
    fn name(&self) -> &'static str {
        "queue"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let mut simple_print = Command::new(SIMPLE.print).proplist(&SIMPLE.proplist());
            if ctx.module.clients != ClientSeries::PerClient {
                simple_print = simple_print.query("dynamic=false");
            }
            let tree_print = Command::new(TREE.print).proplist(&TREE.proplist());
            let mut simple = Series::new(&SIMPLE);
            let mut tree = Series::new(&TREE);
            let (a, b) = tokio::join!(
                ctx.for_each_row(simple_print, |row| simple.add(row)),
                ctx.for_each_row(tree_print, |row| tree.add(row)),
            );
            a?;
            b?;
            for series in [&simple, &tree] {
                if series.repeated > 0 {
                    let (n, print) = (series.repeated, series.kind.print);
                    ctx.trace
                        .note(|| format!("queue: {n} rows of {print} repeat a name; first kept"));
                }
            }
            let mut families = simple.families();
            families.extend(tree.families());
            Ok(families)
        })
    }
}

/// The families of one kind of queue, built one row at a time.
struct Series {
    kind: &'static Kind,
    /// One family per entry of `kind.fields`, in that order.
    values: Vec<Family>,
    info: Family,
    seen: HashSet<String>,
    repeated: usize,
}

impl Series {
    fn new(kind: &'static Kind) -> Self {
        Self {
            kind,
            values: kind.fields.iter().map(|(_, d, _)| Family::new(d)).collect(),
            info: Family::new(kind.info),
            seen: HashSet::new(),
            repeated: 0,
        }
    }

    /// Adds one queue row.
    fn add(&mut self, row: &Row) {
        let Some(name) = row.text("name").map(|n| n.into_owned()) else {
            return;
        };
        if !self.seen.insert(name.clone()) {
            self.repeated += 1;
            return;
        }
        for ((field, _, read), family) in self.kind.fields.iter().zip(&mut self.values) {
            let Some(raw) = row.str(field) else { continue };
            if self.kind.pairs {
                let mut halves = raw.splitn(2, '/');
                for direction in DIRECTIONS {
                    let half = halves.next().unwrap_or_default();
                    if let Some(v) = value(half, *read) {
                        family.push(vec![name.clone(), direction.to_owned()], v);
                    }
                }
            } else if let Some(v) = value(raw, *read) {
                family.push(vec![name.clone()], v);
            }
        }
        let mut labels = vec![name];
        for field in self.kind.info_fields {
            labels.push(label(row, field));
        }
        self.info.push(labels, 1u64);
    }

    fn families(self) -> Vec<Family> {
        let mut families = self.values;
        families.push(self.info);
        families
    }
}

/// One value as `read` says (counters exact); `None` when it does not parse
/// or is a 0 limit.
fn value(raw: &str, read: Read) -> Option<Value> {
    let parsed = match read {
        Read::Count => parse::unsigned(raw).map(Value::Int),
        Read::Rate | Read::Limit => parse::rate_bps(raw).map(Value::Float),
    };
    if parsed.is_none() {
        tracing::debug!(raw, "unparseable queue value");
    }
    parsed.filter(|v| !matches!(read, Read::Limit) || v.as_f64() > 0.0)
}

/// A row's value of `key` as a label, empty when absent; the flags
/// `dynamic` and `disabled` normalised to `true`/`false` (RouterOS 6 may
/// write `yes`/`no`).
fn label(row: &Row, key: &str) -> String {
    let text = row
        .text(key)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default();
    if !matches!(key, "dynamic" | "disabled") {
        return text;
    }
    parse::boolean(&text).map_or(text, |b| b.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixture::{assert_no_duplicate_series, rows, samples};

    fn build(kind: &'static Kind, text: &str) -> Vec<Family> {
        let mut series = Series::new(kind);
        for row in &rows(text) {
            series.add(row);
        }
        series.families()
    }

    /// The value of `name` whose labels are exactly `labels`.
    fn value_of(f: &[Family], name: &str, labels: &[&str]) -> Option<Value> {
        samples(f, name)
            .into_iter()
            .find(|(l, _)| l == labels)
            .map(|(_, v)| v)
    }

    /// RouterOS 7 rows (the REST shape of the reference, a limit in the
    /// suffixed form).
    const V7_SIMPLE: &str = "
        name=cust-1  target=10.0.0.2/32  parent=none  bytes=1000/20000  packets=10/200  dropped=0/3  rate=8000/160000  packet-rate=1/20  queued-bytes=0/1400  queued-packets=0/1  max-limit=10M/50M  limit-at=0/0  dynamic=false  disabled=false
        name=<pppoe-sub-00005>  target=<pppoe-sub-00005>  parent=none  bytes=5/6  packets=1/1  dropped=0/0  rate=0/0  packet-rate=0/0  queued-bytes=0/0  queued-packets=0/0  max-limit=1G/1G  limit-at=512k/1M  dynamic=true  disabled=false
    ";

    #[test]
    fn v7_simple_queues_split_by_direction() {
        let f = build(&SIMPLE, V7_SIMPLE);
        assert_no_duplicate_series(&f);
        let v = |name, labels: &[&str]| value_of(&f, name, labels);
        let bytes = "mikrotik_queue_simple_bytes_total";
        assert_eq!(v(bytes, &["cust-1", "upload"]), Some(Value::Int(1000)));
        assert_eq!(v(bytes, &["cust-1", "download"]), Some(Value::Int(20000)));
        let dropped = "mikrotik_queue_simple_dropped_packets_total";
        assert_eq!(v(dropped, &["cust-1", "download"]), Some(Value::Int(3)));
        let rate = "mikrotik_queue_simple_rate_bps";
        assert_eq!(
            v(rate, &["cust-1", "download"]),
            Some(Value::Float(160_000.0))
        );
        let max = "mikrotik_queue_simple_max_limit_bps";
        assert_eq!(v(max, &["cust-1", "upload"]), Some(Value::Float(10e6)));
        assert_eq!(v(max, &["cust-1", "download"]), Some(Value::Float(50e6)));
        let at = "mikrotik_queue_simple_limit_at_bps";
        assert!(
            samples(&f, at).iter().all(|(l, _)| l[0] != "cust-1"),
            "0 is no limit"
        );
        assert_eq!(
            v(at, &["<pppoe-sub-00005>", "upload"]),
            Some(Value::Float(512e3))
        );
        let queued = "mikrotik_queue_simple_queued_packets";
        assert_eq!(v(queued, &["cust-1", "download"]), Some(Value::Int(1)));
        let info = samples(&f, "mikrotik_queue_simple_info");
        assert_eq!(
            info[1].0,
            [
                "<pppoe-sub-00005>",
                "<pppoe-sub-00005>",
                "none",
                "true",
                "false"
            ]
        );
        assert_eq!(samples(&f, bytes).len(), 4);
    }

    #[test]
    fn v6_simple_queue_limits_in_bits_per_second_and_yes_no_flags() {
        let f = build(
            &SIMPLE,
            "name=q  target=ether2  parent=none  bytes=1/2  max-limit=10000000/50000000  dynamic=no  disabled=yes",
        );
        let max = "mikrotik_queue_simple_max_limit_bps";
        assert_eq!(
            value_of(&f, max, &["q", "download"]),
            Some(Value::Float(50e6))
        );
        assert_eq!(
            samples(&f, "mikrotik_queue_simple_info")[0].0,
            ["q", "ether2", "none", "false", "true"]
        );
        assert!(
            samples(&f, "mikrotik_queue_simple_rate_bps").is_empty(),
            "absent field"
        );
    }

    #[test]
    fn odd_values_cost_one_sample() {
        let f = build(
            &SIMPLE,
            "
            name=a  bytes=12  packets=x/4  rate=1M/fast  max-limit=0/0
            name=a  bytes=99/99
            target=no-name  bytes=1/1
            ",
        );
        let bytes = samples(&f, "mikrotik_queue_simple_bytes_total");
        assert_eq!(
            bytes,
            [(vec!["a".to_owned(), "upload".to_owned()], Value::Int(12))]
        );
        let packets = samples(&f, "mikrotik_queue_simple_packets_total");
        assert_eq!(packets.len(), 1);
        assert_eq!(packets[0].0[1], "download");
        let rate = samples(&f, "mikrotik_queue_simple_rate_bps");
        assert_eq!(
            rate,
            [(vec!["a".to_owned(), "upload".to_owned()], Value::Float(1e6))]
        );
        assert!(samples(&f, "mikrotik_queue_simple_max_limit_bps").is_empty());
        assert_eq!(
            samples(&f, "mikrotik_queue_simple_info").len(),
            1,
            "repeat and nameless skipped"
        );
    }

    #[test]
    fn v7_and_v6_queue_tree() {
        for (max, expected) in [("1G", 1e9), ("1000000000", 1e9)] {
            let f = build(
                &TREE,
                &format!(
                    "
                    name=download  parent=global  packet-mark=  bytes=123456789012  packets=5  dropped=1  rate=4000000  packet-rate=350  queued-bytes=2800  queued-packets=2  max-limit={max}  disabled=false
                    name=class-1  parent=download  packet-mark=mark-1  bytes=7  max-limit=0  disabled=false
                    "
                ),
            );
            assert_no_duplicate_series(&f);
            let v = |name, q: &str| value_of(&f, name, &[q]);
            assert_eq!(
                v("mikrotik_queue_tree_bytes_total", "download"),
                Some(Value::Int(123_456_789_012))
            );
            assert_eq!(
                v("mikrotik_queue_tree_rate_bps", "download"),
                Some(Value::Float(4e6))
            );
            assert_eq!(
                v("mikrotik_queue_tree_packets_per_second", "download"),
                Some(Value::Float(350.0))
            );
            assert_eq!(
                v("mikrotik_queue_tree_max_limit_bps", "download"),
                Some(Value::Float(expected))
            );
            assert_eq!(v("mikrotik_queue_tree_max_limit_bps", "class-1"), None);
            let info = samples(&f, "mikrotik_queue_tree_info");
            assert_eq!(info[1].0, ["class-1", "download", "mark-1", "false"]);
        }
    }

    #[test]
    fn no_duplicate_series_on_simulator_data() {
        use routeros_sim::menus::registry;
        use routeros_sim::menus::testkit::Fixture;
        for mut f in [Fixture::v6(), Fixture::v7()] {
            f.scale.simple_queues = 60;
            f.scale.queue_tree = 6;
            let view = f.view(1, 3_600);
            for (path, kind) in [("/queue/simple", &SIMPLE), ("/queue/tree", &TREE)] {
                let menu = registry()
                    .into_iter()
                    .find(|m| m.path() == path)
                    .expect("menu");
                let mut series = Series::new(kind);
                for row in menu.rows(&view).into_iter().map(Row::from_pairs) {
                    series.add(&row);
                }
                assert_eq!(series.repeated, 0);
                let families = series.families();
                assert_no_duplicate_series(&families);
                let info = families.last().expect("info");
                assert_eq!(info.samples.len(), if kind.pairs { 60 } else { 6 });
            }
        }
    }
}
