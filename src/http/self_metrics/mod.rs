//! The exporter's own metrics at `/metrics`: probes, durations, config
//! reloads and build info (here, updated as they happen: probe counters as
//! probes finish, through [`ProbeObserver`]); sessions and traffic per target
//! ([`pool`]) and process CPU and memory ([`process`]), both read when
//! `/metrics` is scraped so nothing is counted twice.

mod address;
mod pool;
mod process;
mod server;

use crate::http::server::ServerStats;
use crate::probe::{Collection, GroupStatus, ProbeObserver, Prober};
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

/// Label pairs of one sample.
type Labels = Vec<(String, String)>;

/// Probe and collector durations: 5 ms to about 41 s.
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
    server: Arc<ServerStats>,
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
            "Probes refused with 503 because the global probe limit was reached, too many collections wait for the target, or every address target is in use",
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
        let build_info = Family::<Labels, Gauge>::default();
        build_info
            .get_or_create(&vec![(
                "version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            )])
            .set(1);
        registry.register(
            "routeros_exporter_build_info",
            "Build information (value 1)",
            build_info,
        );
        let (prober, server) = register_collectors(&mut registry);
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
            server,
        }
    }

    /// The counters the HTTP server ([`crate::http::server::serve`]) keeps.
    pub fn server_stats(&self) -> Arc<ServerStats> {
        self.server.clone()
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

impl SelfMetrics {
    /// Counts one probe in `routeros_exporter_probes_total`.
    fn count_probe(&self, target: &str, modules: &str, success: bool) {
        let result = if success { "success" } else { "failure" };
        self.probes
            .get_or_create(&vec![
                ("target".into(), target.into()),
                ("module".into(), modules.into()),
                ("result".into(), result.into()),
            ])
            .inc();
    }
}

impl ProbeObserver for SelfMetrics {
    fn probe_refused(&self, target: &str, modules: &str) {
        self.count_probe(target, modules, false);
        self.shed.inc();
    }

    fn probe_finished(&self, target: &str, modules: &str, collection: &Collection, shared: bool) {
        self.count_probe(target, modules, collection.success);
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

/// Registers the families read at scrape time (pool, address targets,
/// process, server), returning where the prober and the server's counters go.
fn register_collectors(registry: &mut Registry) -> (Arc<OnceLock<Weak<Prober>>>, Arc<ServerStats>) {
    let prober = Arc::new(OnceLock::new());
    registry.register_collector(Box::new(pool::PoolCollector {
        prober: prober.clone(),
    }));
    registry.register_collector(Box::new(address::AddressCollector {
        prober: prober.clone(),
    }));
    registry.register_collector(Box::new(process::ProcessCollector));
    let server = Arc::new(ServerStats::default());
    registry.register_collector(Box::new(server::ServerCollector(server.clone())));
    (prober, server)
}

/// Encodes one family of constant samples (read at scrape time).
fn encode_const<M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    samples: Vec<(Labels, M)>,
) -> Result<(), std::fmt::Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, kind)?;
    // A lone sample without labels is encoded on the family itself:
    // `encode_family(&[])` would render `name{} value`.
    if let [(labels, _)] = samples.as_slice()
        && labels.is_empty()
    {
        return match samples.into_iter().next() {
            Some((_, value)) => value.encode(metric),
            None => Ok(()),
        };
    }
    for (labels, value) in samples {
        value.encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
            !text.contains("{}"),
            "a sample without labels has no braces: {text}"
        );
        #[cfg(target_os = "linux")]
        for name in ["process_cpu_seconds_total", "process_resident_memory_bytes"] {
            assert!(
                text.lines().any(|l| l.starts_with(&format!("{name} "))),
                "{name} rendered without labels: {text}"
            );
        }
        assert!(
            !text.contains("..\n"),
            "help texts end in one period: {text}"
        );
    }
}
