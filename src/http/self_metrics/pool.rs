//! Per-target session pool figures, read from the prober when `/metrics` is
//! scraped so nothing is counted twice.

use super::{Labels, encode_const};
use crate::probe::Prober;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use routeros::PoolStats;
use routeros::pool::CloseReason;
use std::sync::{Arc, OnceLock, Weak};

/// Reads the pool of the prober it is attached to (none before that, and
/// none once the prober is gone: the registry outlives nothing it reads).
#[derive(Debug)]
pub struct PoolCollector {
    pub(super) prober: Arc<OnceLock<Weak<Prober>>>,
}

/// Name, help and the value each target's stats give.
type PoolFamily = (&'static str, &'static str, fn(&PoolStats) -> u64);

const GAUGES: [PoolFamily; 2] = [
    (
        "routeros_exporter_sessions_open",
        "Pooled API sessions.",
        |s| s.sessions_open as u64,
    ),
    (
        "routeros_exporter_sessions_active",
        "Pooled API sessions with commands in flight.",
        |s| s.sessions_busy as u64,
    ),
];

const COUNTERS: [PoolFamily; 5] = [
    (
        "routeros_exporter_sessions_opened",
        "API sessions opened (connected and logged in).",
        |s| s.sessions_opened,
    ),
    (
        "routeros_exporter_connect_failures",
        "Failed connection attempts (TCP, TLS, timeout before login).",
        |s| s.connect_failures,
    ),
    ("routeros_exporter_commands", "API commands sent.", |s| {
        s.commands
    }),
    (
        "routeros_exporter_sent_bytes",
        "Bytes sent to routers.",
        |s| s.bytes_sent,
    ),
    (
        "routeros_exporter_received_bytes",
        "Bytes received from routers.",
        |s| s.bytes_received,
    ),
];

fn target(name: &str) -> Labels {
    vec![("target".to_string(), name.to_string())]
}

/// One family per entry of `families`, one sample per target.
fn encode_per_target<M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    kind: MetricType,
    families: &[PoolFamily],
    stats: &[(String, PoolStats)],
    metric: impl Fn(u64) -> M,
) -> Result<(), std::fmt::Error> {
    for (name, help, value) in families {
        let samples = stats
            .iter()
            .map(|(t, s)| (target(t), metric(value(s))))
            .collect();
        encode_const(encoder, name, help, kind, samples)?;
    }
    Ok(())
}

/// Logins by result and closed sessions by reason, per target.
fn encode_by_outcome(
    encoder: &mut DescriptorEncoder,
    stats: &[(String, PoolStats)],
) -> Result<(), std::fmt::Error> {
    let mut logins = Vec::new();
    let mut closed = Vec::new();
    for (name, s) in stats {
        for (result, n) in [("success", s.logins_ok), ("failure", s.logins_failed)] {
            let mut labels = target(name);
            labels.push(("result".to_string(), result.to_string()));
            logins.push((labels, ConstCounter::new(n)));
        }
        for reason in CloseReason::ALL {
            let mut labels = target(name);
            labels.push(("reason".to_string(), reason.as_str().to_string()));
            closed.push((labels, ConstCounter::new(s.closed(reason))));
        }
    }
    encode_const(
        encoder,
        "routeros_exporter_logins",
        "RouterOS API logins by result.",
        MetricType::Counter,
        logins,
    )?;
    encode_const(
        encoder,
        "routeros_exporter_sessions_closed",
        "API sessions closed by reason.",
        MetricType::Counter,
        closed,
    )
}

impl Collector for PoolCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(prober) = self.prober.get().and_then(Weak::upgrade) else {
            return Ok(());
        };
        let stats: Vec<(String, PoolStats)> = prober
            .config()
            .targets
            .keys()
            .map(|t| (t.clone(), prober.pool_stats(t)))
            .collect();
        encode_per_target(&mut encoder, MetricType::Gauge, &GAUGES, &stats, |v| {
            ConstGauge::new(v as i64)
        })?;
        encode_per_target(
            &mut encoder,
            MetricType::Counter,
            &COUNTERS,
            &stats,
            ConstCounter::new,
        )?;
        encode_by_outcome(&mut encoder, &stats)
    }
}
