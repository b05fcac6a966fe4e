//! The HTTP server's own figures (`routeros_exporter_http_*`), read from
//! [`ServerStats`] when `/metrics` is scraped.

use super::{Labels, encode_const};
use crate::http::server::ServerStats;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use std::sync::Arc;

/// Reads the server's counters.
#[derive(Debug)]
pub struct ServerCollector(pub(super) Arc<ServerStats>);

impl Collector for ServerCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counts = self.0.read();
        let gauge = |v: u64| vec![(Labels::new(), ConstGauge::new(v as i64))];
        let counter = |v: u64| vec![(Labels::new(), ConstCounter::new(v))];
        encode_const(
            &mut encoder,
            "routeros_exporter_http_connections_open",
            "HTTP connections open now.",
            MetricType::Gauge,
            gauge(counts.open),
        )?;
        encode_const(
            &mut encoder,
            "routeros_exporter_http_connections_limit",
            "Most HTTP connections served at once (--web.max-connections); more wait in the accept backlog.",
            MetricType::Gauge,
            gauge(counts.limit),
        )?;
        encode_const(
            &mut encoder,
            "routeros_exporter_http_connections_accepted",
            "HTTP connections accepted.",
            MetricType::Counter,
            counter(counts.accepted),
        )?;
        let timed_out = counts
            .timed_out
            .iter()
            .map(|(phase, n)| {
                (
                    vec![("phase".to_string(), (*phase).to_string())],
                    ConstCounter::new(*n),
                )
            })
            .collect();
        encode_const(
            &mut encoder,
            "routeros_exporter_http_connections_timed_out",
            "HTTP connections closed by a timeout: header (request head not complete in time), idle (keep-alive), write (client stopped reading).",
            MetricType::Counter,
            timed_out,
        )?;
        encode_const(
            &mut encoder,
            "routeros_exporter_http_unauthorized_requests",
            "Requests answered 401 (basic_auth_users of --web.config.file).",
            MetricType::Counter,
            counter(counts.unauthorized),
        )
    }
}
