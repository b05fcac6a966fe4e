//! `process_*` metrics of the exporter itself, read from `/proc` when
//! `/metrics` is scraped (Linux only: elsewhere there are none).

use super::encode_const;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// The standard process metrics of the Prometheus client libraries.
#[derive(Debug)]
pub struct ProcessCollector;

/// What `/proc` says about this process.
#[derive(Debug, Clone, PartialEq)]
struct ProcessStats {
    cpu_seconds: f64,
    resident_bytes: u64,
    virtual_bytes: u64,
    open_fds: usize,
    start_time_seconds: f64,
}

impl ProcessStats {
    #[cfg(target_os = "linux")]
    fn read() -> Option<Self> {
        use procfs::WithCurrentSystemInfo;
        let me = procfs::process::Process::myself().ok()?;
        let stat = me.stat().ok()?;
        let ticks = procfs::ticks_per_second() as f64;
        Some(Self {
            cpu_seconds: (stat.utime + stat.stime) as f64 / ticks,
            resident_bytes: stat.rss_bytes().get(),
            virtual_bytes: stat.vsize,
            open_fds: me.fd_count().unwrap_or_default(),
            start_time_seconds: procfs::boot_time_secs().ok()? as f64
                + stat.starttime as f64 / ticks,
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn read() -> Option<Self> {
        None
    }
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(process) = ProcessStats::read() else {
            return Ok(());
        };
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
        Ok(())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_read() {
        let p = ProcessStats::read().expect("this test runs on Linux");
        assert!(p.cpu_seconds >= 0.0);
        assert!(p.resident_bytes > 1 << 20, "{p:?}");
        assert!(p.virtual_bytes >= p.resident_bytes, "{p:?}");
        assert!(p.open_fds >= 3, "{p:?}");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        assert!(
            p.start_time_seconds <= now + 1.0 && p.start_time_seconds > now - 86_400.0,
            "{p:?} vs {now}"
        );
    }
}
