//! `netwatch`: the hosts the router watches with `/tool/netwatch`: up or down,
//! since when, and the results of RouterOS 7's probe types.
//!
//! Commands (2, run concurrently): `/tool/netwatch/print ?disabled=false` with
//! `.proplist` of the key, status and result fields below, and
//! `/system/clock/print =.proplist=date,time,gmt-offset` (shared with the
//! `certificate` group's clock reading) to turn `since`, a router-local date in
//! either format, into a Unix timestamp. Disabled entries are left out by the
//! query: RouterOS stops probing them, so their status says nothing.
//!
//! A host is keyed by `host`, `name` (RouterOS 7; empty on 6) and `type`
//! (`simple` on RouterOS 6, whose netwatch is the simple ping of 7's
//! `simple`); `comment` is on the info series only. An entry repeating the key
//! of an earlier one is dropped (noted in the trace). Status `up` is 1,
//! `down` 0; `unknown` (not probed yet) and any other status have no sample,
//! so `down` never hides behind "no data yet".
//!
//! Results, each only where the host's type gives it: ICMP loss (`0`, `0%`,
//! `100%`, as a ratio) and RTT average, minimum, maximum and jitter; the TCP
//! connect time; the HTTP status code and response time. Each family is
//! emitted once, whatever mix of types the router runs (mktxp emits
//! `tcp_connect_time` twice; the most popular exporter answers 500 to every
//! scrape once `loss-percent` carries its `%`).

use super::certificate::RouterClock;
use super::family::{Family, MetricDesc, Value, metric};
use super::{Context, Group, GroupFuture, parse};
use parse::Bare;
use routeros::{Command, Row};
use std::collections::HashSet;

/// The `netwatch` group.
pub struct Netwatch;

metric!(
    UP,
    "mikrotik_netwatch_host_up",
    Gauge,
    "Whether netwatch finds the host up (1) or down (0); no sample while its status is unknown.",
    ["host", "name", "type"]
);
metric!(
    SINCE,
    "mikrotik_netwatch_host_status_since_timestamp_seconds",
    Gauge,
    "Unix timestamp of the host's last status change.",
    ["host", "name", "type"]
);
metric!(
    INFO,
    "mikrotik_netwatch_host_info",
    Gauge,
    "Netwatch entry metadata (value 1).",
    ["host", "name", "type", "comment"]
);
metric!(
    LOSS,
    "mikrotik_netwatch_icmp_loss_ratio",
    Gauge,
    "Share of the last ICMP probe's packets lost, 0 to 1 (type icmp).",
    ["host", "name", "type"]
);
metric!(
    RTT_AVG,
    "mikrotik_netwatch_icmp_rtt_average_seconds",
    Gauge,
    "Average round-trip time of the last ICMP probe (type icmp).",
    ["host", "name", "type"]
);
metric!(
    RTT_MIN,
    "mikrotik_netwatch_icmp_rtt_min_seconds",
    Gauge,
    "Shortest round-trip time of the last ICMP probe (type icmp).",
    ["host", "name", "type"]
);
metric!(
    RTT_MAX,
    "mikrotik_netwatch_icmp_rtt_max_seconds",
    Gauge,
    "Longest round-trip time of the last ICMP probe (type icmp).",
    ["host", "name", "type"]
);
metric!(
    RTT_JITTER,
    "mikrotik_netwatch_icmp_rtt_jitter_seconds",
    Gauge,
    "Round-trip time jitter of the last ICMP probe (type icmp).",
    ["host", "name", "type"]
);
metric!(
    TCP_CONNECT,
    "mikrotik_netwatch_tcp_connect_seconds",
    Gauge,
    "Time the last TCP connect took (type tcp-conn).",
    ["host", "name", "type"]
);
metric!(
    HTTP_STATUS,
    "mikrotik_netwatch_http_status_code",
    Gauge,
    "HTTP status code of the last HTTP probe (types http-get, https-get).",
    ["host", "name", "type"]
);
metric!(
    HTTP_RESPONSE,
    "mikrotik_netwatch_http_response_seconds",
    Gauge,
    "Response time of the last HTTP probe (types http-get, https-get).",
    ["host", "name", "type"]
);

static METRICS: &[&MetricDesc] = &[
    &UP,
    &SINCE,
    &INFO,
    &LOSS,
    &RTT_AVG,
    &RTT_MIN,
    &RTT_MAX,
    &RTT_JITTER,
    &TCP_CONNECT,
    &HTTP_STATUS,
    &HTTP_RESPONSE,
];

/// Reads one result value; `None` costs that sample.
type Parser = fn(&str) -> Option<f64>;

/// The result fields: (property, family, parser). Absent fields cost nothing.
const RESULTS: [(&str, &MetricDesc, Parser); 8] = [
    ("loss-percent", &LOSS, loss_ratio),
    ("rtt-avg", &RTT_AVG, seconds),
    ("rtt-min", &RTT_MIN, seconds),
    ("rtt-max", &RTT_MAX, seconds),
    ("rtt-jitter", &RTT_JITTER, seconds),
    ("tcp-connect-time", &TCP_CONNECT, seconds),
    ("http-status-code", &HTTP_STATUS, status_code),
    ("http-resp-time", &HTTP_RESPONSE, seconds),
];

/// The `type` of a row without one (RouterOS 6).
const DEFAULT_TYPE: &str = "simple";

impl Group for Netwatch {
    fn name(&self) -> &'static str {
        "netwatch"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let mut proplist = vec!["host", "name", "type", "status", "since", "comment"];
            proplist.extend(RESULTS.iter().map(|(field, _, _)| *field));
            let print = Command::new("/tool/netwatch/print")
                .query("disabled=false")
                .proplist(&proplist);
            let (hosts, clock) = tokio::join!(ctx.rows(print), RouterClock::read(ctx, "netwatch"));
            let hosts = hosts?;
            let (families, repeated) = build(&hosts, clock);
            if repeated > 0 {
                ctx.trace.note(|| {
                    format!("netwatch: {repeated} entries repeat a host, name and type; first kept")
                });
            }
            Ok(families)
        })
    }
}

/// A loss percentage (`0`, `0%`, `12.5%`) as a ratio; `None` outside 0–100 %.
fn loss_ratio(text: &str) -> Option<f64> {
    parse::measure(text, "%", Bare::Unit)
        .filter(|p| (0.0..=100.0).contains(p))
        .map(|p| p / 100.0)
}

/// A duration (`2ms363us`) in seconds.
fn seconds(text: &str) -> Option<f64> {
    parse::duration(text).map(|d| d.as_secs_f64())
}

/// An HTTP status code (100–999; RouterOS reports 0 before any answer, which
/// is no status).
fn status_code(text: &str) -> Option<f64> {
    parse::unsigned(text)
        .filter(|code| (100..1_000).contains(code))
        .map(|code| code as f64)
}

/// A row's value of `key` as label text; empty when absent.
fn text(row: &Row, key: &str) -> String {
    row.text(key)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

/// Converts the netwatch rows into families (pure, unit-tested on fixtures),
/// and the number of rows dropped for repeating an earlier key.
fn build(hosts: &[Row], clock: RouterClock) -> (Vec<Family>, usize) {
    let mut families: Vec<Family> = METRICS.iter().map(|d| Family::new(d)).collect();
    let mut seen = HashSet::new();
    let mut repeated = 0;
    for row in hosts {
        let mut kind = text(row, "type");
        if kind.is_empty() {
            kind = DEFAULT_TYPE.to_owned();
        }
        let key = vec![text(row, "host"), text(row, "name"), kind];
        if !seen.insert(key.clone()) {
            repeated += 1;
            continue;
        }
        let mut push = |desc: &MetricDesc, labels: Vec<String>, value: Value| {
            if let Some(f) = families.iter_mut().find(|f| f.desc.name == desc.name) {
                f.push(labels, value);
            }
        };
        match row.str("status").map(str::trim) {
            Some("up") => push(&UP, key.clone(), Value::from(1u64)),
            Some("down") => push(&UP, key.clone(), Value::from(0u64)),
            status => tracing::debug!(?status, host = key[0], "netwatch status without a sample"),
        }
        if let Some(since) = row.str("since").and_then(parse::datetime) {
            push(&SINCE, key.clone(), Value::Signed(clock.unix(since)));
        }
        for (field, desc, parser) in RESULTS {
            let Some(raw) = row.str(field).filter(|r| !r.trim().is_empty()) else {
                continue;
            };
            match parser(raw) {
                Some(v) => push(desc, key.clone(), Value::Float(v)),
                None => tracing::debug!(field, raw, host = key[0], "unparseable netwatch result"),
            }
        }
        let mut info = key;
        info.push(text(row, "comment"));
        push(&INFO, info, Value::from(1u64));
    }
    (families, repeated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixture::{assert_no_duplicate_series, rows, samples};

    /// 2026-03-01 12:00:00.
    const NOW: i64 = 1_772_366_400;

    fn value(families: &[Family], name: &str, host: &str) -> Option<f64> {
        samples(families, name)
            .into_iter()
            .find(|(l, _)| l[0] == host)
            .map(|(_, v)| v.as_f64())
    }

    const V7: &str = "
        host=10.0.0.1  name=gw  type=simple  status=up  since=2026-03-01 11:00:00  comment=gateway
        host=1.1.1.1  name=dns  type=icmp  status=up  since=2026-02-28 12:00:00  loss-percent=0%  rtt-avg=2ms363us  rtt-min=1ms  rtt-max=9ms445us  rtt-jitter=800us
        host=8.8.8.8  name=lost  type=icmp  status=down  since=2026-03-01 11:59:00  loss-percent=100%
        host=192.0.2.9  name=web  type=tcp-conn  status=up  since=2026-03-01 10:00:00  tcp-connect-time=1ms520us
        host=example.com  name=site  type=http-get  status=up  since=2026-03-01 10:00:00  http-status-code=200  http-resp-time=35ms
        host=192.0.2.10  name=new  type=icmp  status=unknown
    ";

    #[test]
    fn v7_every_probe_type() {
        let (f, repeated) = build(&rows(V7), RouterClock::utc(NOW));
        assert_eq!(repeated, 0);
        assert_no_duplicate_series(&f);
        assert_eq!(f.len(), METRICS.len(), "each family once");
        let up = samples(&f, "mikrotik_netwatch_host_up");
        assert_eq!(up.len(), 5, "unknown has no status sample");
        assert_eq!(value(&f, "mikrotik_netwatch_host_up", "8.8.8.8"), Some(0.0));
        assert_eq!(up[0].0, ["10.0.0.1", "gw", "simple"]);
        let since = "mikrotik_netwatch_host_status_since_timestamp_seconds";
        assert_eq!(value(&f, since, "10.0.0.1"), Some((NOW - 3_600) as f64));
        assert_eq!(value(&f, since, "192.0.2.10"), None);
        let loss = "mikrotik_netwatch_icmp_loss_ratio";
        assert_eq!(value(&f, loss, "1.1.1.1"), Some(0.0));
        assert_eq!(value(&f, loss, "8.8.8.8"), Some(1.0));
        let avg = value(&f, "mikrotik_netwatch_icmp_rtt_average_seconds", "1.1.1.1");
        assert_eq!(avg, Some(0.002_363));
        let max = value(&f, "mikrotik_netwatch_icmp_rtt_max_seconds", "1.1.1.1");
        assert_eq!(max, Some(0.009_445));
        assert_eq!(
            samples(&f, "mikrotik_netwatch_icmp_rtt_jitter_seconds").len(),
            1
        );
        let tcp = value(&f, "mikrotik_netwatch_tcp_connect_seconds", "192.0.2.9");
        assert_eq!(tcp, Some(0.001_52));
        let code = value(&f, "mikrotik_netwatch_http_status_code", "example.com");
        assert_eq!(code, Some(200.0));
        let resp = value(&f, "mikrotik_netwatch_http_response_seconds", "example.com");
        assert_eq!(resp, Some(0.035));
        let info = samples(&f, "mikrotik_netwatch_host_info");
        assert_eq!(info.len(), 6);
        assert_eq!(info[0].0, ["10.0.0.1", "gw", "simple", "gateway"]);
    }

    #[test]
    fn v6_rows_with_old_dates_and_a_router_zone() {
        let v6 = "
            host=10.0.0.1  status=up  since=mar/01/2026 12:00:00  comment=gw
            host=10.0.0.2  status=down  since=feb/28/2026 13:00:00
        ";
        // The router runs at UTC+01:00: its 12:00 is 11:00 UTC.
        let clock =
            RouterClock::from_row(&rows("date=mar/01/2026  time=13:00:00  gmt-offset=+01:00")[0])
                .unwrap();
        let (f, _) = build(&rows(v6), clock);
        let since = "mikrotik_netwatch_host_status_since_timestamp_seconds";
        assert_eq!(value(&f, since, "10.0.0.1"), Some((NOW - 3_600) as f64));
        let up = samples(&f, "mikrotik_netwatch_host_up");
        assert_eq!(up[1].0, ["10.0.0.2", "", "simple"]);
        assert_eq!(up[1].1.as_f64(), 0.0);
        assert_eq!(samples(&f, "mikrotik_netwatch_icmp_loss_ratio").len(), 0);
    }

    #[test]
    fn odd_values_cost_one_sample() {
        let odd = "
            host=a  type=icmp  status=up  since=someday  loss-percent=lots  rtt-avg=fast  rtt-min=1ms
            host=b  type=icmp  status=flapping  loss-percent=250%  http-status-code=0
            host=a  type=icmp  status=down
            host=c  type=icmp  status=up  loss-percent=12.5
        ";
        let (f, repeated) = build(&rows(odd), RouterClock::utc(NOW));
        assert_eq!(repeated, 1, "second `a` dropped");
        assert_no_duplicate_series(&f);
        assert_eq!(value(&f, "mikrotik_netwatch_host_up", "a"), Some(1.0));
        assert_eq!(value(&f, "mikrotik_netwatch_host_up", "b"), None);
        let since = "mikrotik_netwatch_host_status_since_timestamp_seconds";
        assert!(samples(&f, since).is_empty());
        let loss = samples(&f, "mikrotik_netwatch_icmp_loss_ratio");
        assert_eq!(loss.len(), 1);
        assert_eq!(loss[0].1.as_f64(), 0.125);
        assert_eq!(
            value(&f, "mikrotik_netwatch_icmp_rtt_min_seconds", "a"),
            Some(0.001)
        );
        assert!(samples(&f, "mikrotik_netwatch_icmp_rtt_average_seconds").is_empty());
        assert!(samples(&f, "mikrotik_netwatch_http_status_code").is_empty());
        assert_eq!(samples(&f, "mikrotik_netwatch_host_info").len(), 3);
    }

    #[test]
    fn no_duplicate_series_on_simulator_data() {
        use routeros_sim::menus::registry;
        use routeros_sim::menus::testkit::{Fixture, NOW as SIM_NOW};
        let menu = registry()
            .into_iter()
            .find(|m| m.path() == "/tool/netwatch")
            .expect("netwatch menu");
        for mut f in [Fixture::v6(), Fixture::v7()] {
            f.scale.netwatch_hosts = 50;
            let hosts: Vec<Row> = menu
                .rows(&f.view(1, 3_600))
                .into_iter()
                .map(Row::from_pairs)
                .collect();
            let (families, repeated) = build(&hosts, RouterClock::utc(SIM_NOW));
            assert_eq!(repeated, 0);
            assert_no_duplicate_series(&families);
            assert_eq!(samples(&families, "mikrotik_netwatch_host_up").len(), 49);
        }
    }
}
