//! Address targets (`address_targets:`): how many are kept, how many were
//! forgotten to stay within `max_targets`, and how many requests were refused,
//! read from the prober when `/metrics` is scraped. Always present (zeros
//! when address targets are off), so `rate()` and alerts need no `absent()`.

use super::encode_const;
use crate::probe::Prober;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use std::sync::{Arc, OnceLock, Weak};

/// Reads the address book of the prober it is attached to.
#[derive(Debug)]
pub struct AddressCollector {
    pub(super) prober: Arc<OnceLock<Weak<Prober>>>,
}

impl Collector for AddressCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(prober) = self.prober.get().and_then(Weak::upgrade) else {
            return Ok(());
        };
        let stats = prober.address_target_stats();
        // Unlabelled: encoded without a label set, which would render `{}`.
        ConstGauge::new(stats.kept as i64).encode(encoder.encode_descriptor(
            "routeros_exporter_address_targets",
            "Address targets kept (state and pooled sessions), at most address_targets.max_targets.",
            None,
            MetricType::Gauge,
        )?)?;
        ConstCounter::new(stats.evicted).encode(encoder.encode_descriptor(
            "routeros_exporter_address_targets_evicted",
            "Address targets forgotten, least recently probed first, to stay within address_targets.max_targets.",
            None,
            MetricType::Counter,
        )?)?;
        let refused = stats
            .refused
            .iter()
            .map(|(reason, n)| {
                let labels = vec![("reason".to_string(), reason.as_str().to_string())];
                (labels, ConstCounter::new(*n))
            })
            .collect();
        encode_const(
            &mut encoder,
            "routeros_exporter_address_targets_refused",
            "Address target probes refused with 403 before any connection, by reason.",
            MetricType::Counter,
            refused,
        )
    }
}
