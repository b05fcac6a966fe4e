//! The exporter's own metrics at `/metrics`: probes, durations, sessions and
//! traffic per target, config reloads, build info and process CPU/memory.
//!
//! Probe counters are updated as probes finish ([`ProbeObserver`]); pool and
//! process figures are read when `/metrics` is scraped, so nothing is counted
//! twice.

use crate::probe::{Collection, GroupStatus, ProbeObserver, Prober};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use routeros::pool::CloseReason;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

type Labels = Vec<(String, String)>;

/// Name, help and per-target values of one pool-derived family.
type PoolFamily<'a> = (&'a str, &'a str, Vec<(Labels, u64)>);

fn histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

/// The self-metrics registry and the handles the exporter updates.
pub struct SelfMetrics {
    registry: Registry,
    probes: Family<Labels, Counter>,
    probe_duration: Family<Labels, Histogram, fn() -> Histogram>,
    collector_duration: Family<Labels, Histogram, fn() -> Histogram>,
    coalesced: Counter,
    shed: Counter,
    reload_success: Gauge,
    reload_timestamp: Gauge<f64, AtomicU64>,
    prober: Arc<OnceLock<Weak<Prober>>>,
}

// `Registry::register` appends the final period of help texts itself.
impl SelfMetrics {
    /// Builds the registry. Call [`SelfMetrics::attach`] once the prober exists.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let probes = Family::<Labels, Counter>::default();
        registry.register(
            "routeros_exporter_probes",
            "Probes by target, module set and result",
            probes.clone(),
        );
        let probe_duration = Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(
            histogram as fn() -> Histogram,
        );
        registry.register(
            "routeros_exporter_probe_duration_seconds",
            "Probe duration by target",
            probe_duration.clone(),
        );
        let collector_duration =
            Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(
                histogram as fn() -> Histogram,
            );
        registry.register(
            "routeros_exporter_collector_duration_seconds",
            "Collector duration by collector",
            collector_duration.clone(),
        );
        let coalesced = Counter::default();
        registry.register(
            "routeros_exporter_probes_coalesced",
            "Probes answered from an identical collection already in flight",
            coalesced.clone(),
        );
        let shed = Counter::default();
        registry.register(
            "routeros_exporter_probes_shed",
            "Probes refused with 503 because the global probe limit was reached",
            shed.clone(),
        );
        let reload_success = Gauge::default();
        registry.register(
            "routeros_exporter_config_last_reload_successful",
            "1 when the last configuration (re)load succeeded",
            reload_success.clone(),
        );
        let reload_timestamp = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "routeros_exporter_config_last_reload_success_timestamp_seconds",
            "Unix time of the last successful configuration load",
            reload_timestamp.clone(),
        );
        let prober = Arc::new(OnceLock::new());
        registry.register_collector(Box::new(RuntimeCollector {
            prober: prober.clone(),
        }));
        Self {
            registry,
            probes,
            probe_duration,
            collector_duration,
            coalesced,
            shed,
            reload_success,
            reload_timestamp,
            prober,
        }
    }

    /// Lets `/metrics` read pool statistics from `prober`.
    pub fn attach(&self, prober: &Arc<Prober>) {
        let _ = self.prober.set(Arc::downgrade(prober));
    }

    /// Records a configuration (re)load.
    pub fn config_loaded(&self, ok: bool) {
        self.reload_success.set(i64::from(ok));
        if ok {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or_default();
            self.reload_timestamp.set(now);
        }
    }

    /// Records a probe refused for load.
    pub fn probe_shed(&self) {
        self.shed.inc();
    }

    /// OpenMetrics text of every self metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for SelfMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl ProbeObserver for SelfMetrics {
    fn probe_finished(&self, target: &str, modules: &str, collection: &Collection, shared: bool) {
        let result = if collection.success {
            "success"
        } else {
            "failure"
        };
        self.probes
            .get_or_create(&vec![
                ("target".into(), target.into()),
                ("module".into(), modules.into()),
                ("result".into(), result.into()),
            ])
            .inc();
        if shared {
            self.coalesced.inc();
            return;
        }
        self.probe_duration
            .get_or_create(&vec![("target".into(), target.into())])
            .observe(collection.duration.as_secs_f64());
        for group in &collection.groups {
            if group.status != GroupStatus::Ok {
                continue;
            }
            self.collector_duration
                .get_or_create(&vec![("collector".into(), group.name.into())])
                .observe(group.duration.as_secs_f64());
        }
    }
}

/// Reads pool and process figures at scrape time.
#[derive(Debug)]
struct RuntimeCollector {
    prober: Arc<OnceLock<Weak<Prober>>>,
}

fn encode_const<M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    samples: Vec<(Labels, M)>,
) -> Result<(), std::fmt::Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, value) in samples {
        value.encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

/// Encodes pool-derived families of one type, each value wrapped by `metric`.
fn encode_pool<'a, M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    kind: MetricType,
    families: impl IntoIterator<Item = PoolFamily<'a>>,
    metric: impl Fn(u64) -> M,
) -> Result<(), std::fmt::Error> {
    for (name, help, samples) in families {
        let samples = samples.into_iter().map(|(l, v)| (l, metric(v))).collect();
        encode_const(encoder, name, help, kind, samples)?;
    }
    Ok(())
}

impl Collector for RuntimeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        encode_const(
            &mut encoder,
            "routeros_exporter_build_info",
            "Build information (value 1).",
            MetricType::Gauge,
            vec![(
                vec![("version".to_string(), env!("CARGO_PKG_VERSION").to_string())],
                ConstGauge::new(1i64),
            )],
        )?;
        if let Some(prober) = self.prober.get().and_then(Weak::upgrade) {
            let config = prober.config();
            let stats: Vec<(String, routeros::PoolStats)> = config
                .targets
                .keys()
                .map(|t| (t.clone(), prober.pool_stats(t)))
                .collect();
            let per_target = |f: &dyn Fn(&routeros::PoolStats) -> u64| -> Vec<(Labels, u64)> {
                stats
                    .iter()
                    .map(|(t, s)| (vec![("target".to_string(), t.clone())], f(s)))
                    .collect()
            };
            let gauges: [PoolFamily; 2] = [
                (
                    "routeros_exporter_sessions_open",
                    "Pooled API sessions.",
                    per_target(&|s| s.sessions_open as u64),
                ),
                (
                    "routeros_exporter_sessions_active",
                    "Pooled API sessions with commands in flight.",
                    per_target(&|s| s.sessions_busy as u64),
                ),
            ];
            encode_pool(&mut encoder, MetricType::Gauge, gauges, |v| {
                ConstGauge::new(v as i64)
            })?;
            let counters: [PoolFamily; 5] = [
                (
                    "routeros_exporter_sessions_opened",
                    "API sessions opened (connected and logged in).",
                    per_target(&|s| s.sessions_opened),
                ),
                (
                    "routeros_exporter_connect_failures",
                    "Failed connection attempts (TCP, TLS, timeout before login).",
                    per_target(&|s| s.connect_failures),
                ),
                (
                    "routeros_exporter_commands",
                    "API commands sent.",
                    per_target(&|s| s.commands),
                ),
                (
                    "routeros_exporter_sent_bytes",
                    "Bytes sent to routers.",
                    per_target(&|s| s.bytes_sent),
                ),
                (
                    "routeros_exporter_received_bytes",
                    "Bytes received from routers.",
                    per_target(&|s| s.bytes_received),
                ),
            ];
            encode_pool(
                &mut encoder,
                MetricType::Counter,
                counters,
                ConstCounter::new,
            )?;
            let mut logins = Vec::new();
            let mut closed = Vec::new();
            for (target, s) in &stats {
                for (result, n) in [("success", s.logins_ok), ("failure", s.logins_failed)] {
                    logins.push((
                        vec![
                            ("target".to_string(), target.clone()),
                            ("result".to_string(), result.to_string()),
                        ],
                        ConstCounter::new(n),
                    ));
                }
                for reason in CloseReason::ALL {
                    closed.push((
                        vec![
                            ("target".to_string(), target.clone()),
                            ("reason".to_string(), reason.as_str().to_string()),
                        ],
                        ConstCounter::new(s.closed(reason)),
                    ));
                }
            }
            encode_const(
                &mut encoder,
                "routeros_exporter_logins",
                "RouterOS API logins by result.",
                MetricType::Counter,
                logins,
            )?;
            encode_const(
                &mut encoder,
                "routeros_exporter_sessions_closed",
                "API sessions closed by reason.",
                MetricType::Counter,
                closed,
            )?;
        }
        if let Some(process) = ProcessStats::read() {
            encode_const(
                &mut encoder,
                "process_cpu_seconds",
                "User and system CPU time spent in seconds.",
                MetricType::Counter,
                vec![(Vec::new(), ConstCounter::new(process.cpu_seconds))],
            )?;
            let gauges = [
                (
                    "process_resident_memory_bytes",
                    "Resident memory size in bytes.",
                    process.resident_bytes as f64,
                ),
                (
                    "process_virtual_memory_bytes",
                    "Virtual memory size in bytes.",
                    process.virtual_bytes as f64,
                ),
                (
                    "process_open_fds",
                    "Number of open file descriptors.",
                    process.open_fds as f64,
                ),
                (
                    "process_start_time_seconds",
                    "Start time of the process since the Unix epoch in seconds.",
                    process.start_time_seconds,
                ),
            ];
            for (name, help, value) in gauges {
                encode_const(
                    &mut encoder,
                    name,
                    help,
                    MetricType::Gauge,
                    vec![(Vec::new(), ConstGauge::new(value))],
                )?;
            }
        }
        Ok(())
    }
}

/// Process figures from `/proc` (Linux; absent elsewhere).
#[derive(Debug, Clone, PartialEq)]
struct ProcessStats {
    cpu_seconds: f64,
    resident_bytes: u64,
    virtual_bytes: u64,
    open_fds: usize,
    start_time_seconds: f64,
}

/// Kernel clock ticks per second (`sysconf(_SC_CLK_TCK)` is 100 on Linux).
const CLOCK_TICKS: f64 = 100.0;

impl ProcessStats {
    fn read() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let boot = std::fs::read_to_string("/proc/stat").ok()?;
        let open_fds = std::fs::read_dir("/proc/self/fd")
            .map(|d| d.count())
            .unwrap_or_default();
        Self::parse(&stat, &status, &boot, open_fds)
    }

    fn parse(stat: &str, status: &str, proc_stat: &str, open_fds: usize) -> Option<Self> {
        // Fields after the parenthesised command name, which may contain spaces.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
        let cpu_seconds = (ticks(11)? + ticks(12)?) / CLOCK_TICKS;
        let start_ticks = ticks(19)?;
        let kb = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
                .map(|v| v * 1024)
        };
        let boot_time: f64 = proc_stat
            .lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse().ok())?;
        Some(Self {
            cpu_seconds,
            resident_bytes: kb("VmRSS:").unwrap_or_default(),
            virtual_bytes: kb("VmSize:").unwrap_or_default(),
            open_fds,
            start_time_seconds: boot_time + start_ticks / CLOCK_TICKS,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_parse() {
        let stat = "4242 (routeros exporter) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 8 0 12345 100000 2000 18446744073709551615";
        let status = "Name:\trouteros\nVmSize:\t  204800 kB\nVmRSS:\t   10240 kB\n";
        let proc_stat = "cpu  1 2 3\nbtime 1700000000\n";
        let p = ProcessStats::parse(stat, status, proc_stat, 12).unwrap();
        assert_eq!(p.cpu_seconds, 3.0);
        assert_eq!(p.resident_bytes, 10_485_760);
        assert_eq!(p.virtual_bytes, 209_715_200);
        assert_eq!(p.start_time_seconds, 1_700_000_123.45);
        assert!(ProcessStats::read().is_some(), "this test runs on Linux");
    }

    #[test]
    fn registry_renders_build_info_and_reload_state() {
        let metrics = SelfMetrics::new();
        metrics.config_loaded(true);
        let text = metrics.render();
        assert!(
            text.contains("routeros_exporter_build_info{version=\""),
            "{text}"
        );
        assert!(text.contains("routeros_exporter_config_last_reload_successful 1"));
        assert!(text.contains("# TYPE process_cpu_seconds counter"));
        assert!(text.ends_with("# EOF\n"));
        assert!(
            !text.contains("..\n"),
            "help texts end in one period: {text}"
        );
    }
}
