//! Rendering a probe's snapshot: OpenMetrics (through a fresh prometheus-client
//! registry holding one collector over the snapshot) or the classic text format
//! 0.0.4 for curl and older scrapers.
//!
//! One collector over a finished snapshot is cheaper than filling labelled metric
//! families per request, and deterministic: families come out in the order the
//! groups produced them, each once and contiguously.

use crate::collect::family::{Family, MetricKind, Value};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::fmt::Write;

/// Content type of the OpenMetrics rendering.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Content type of the classic text rendering.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Which exposition format to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OpenMetrics 1.0.0 text.
    OpenMetrics,
    /// Prometheus text format 0.0.4.
    Text,
}

impl Format {
    /// Picks the format from an `Accept` header: OpenMetrics when the scraper
    /// accepts it at least as much as plain text (q-values honoured; Prometheus
    /// prefers it), text otherwise.
    pub fn negotiate(accept: Option<&str>) -> Self {
        let mut openmetrics = 0.0f64;
        let mut text = 0.0f64;
        for range in accept.unwrap_or_default().split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .and_then(|q| q.parse::<f64>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                "application/openmetrics-text" => openmetrics = openmetrics.max(q),
                "text/plain" | "text/*" | "*/*" => text = text.max(q),
                _ => {}
            }
        }
        if openmetrics > 0.0 && openmetrics >= text {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }

    /// The `Content-Type` for this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
            Format::Text => TEXT_CONTENT_TYPE,
        }
    }
}

/// Renders `families` in `format`, adding `extra` labels (the target's
/// configured labels) to every sample whose family does not already have them.
/// Labels with empty values are left out: Prometheus treats them as absent.
pub fn render(families: Vec<Family>, extra: &[(String, String)], format: Format) -> String {
    let families = with_labels(families, extra);
    match format {
        Format::Text => render_text(&families),
        Format::OpenMetrics => render_openmetrics(families),
    }
}

/// A family's samples as (name, value) label pairs, empty values dropped and
/// extra labels appended.
struct Labelled<'a> {
    family: &'a Family,
    extra: &'a [(String, String)],
}

fn with_labels(
    families: Vec<Family>,
    extra: &[(String, String)],
) -> Vec<(Family, Vec<(String, String)>)> {
    families
        .into_iter()
        .map(|f| {
            let extra = extra
                .iter()
                .filter(|(k, v)| !v.is_empty() && !f.desc.labels.contains(&k.as_str()))
                .cloned()
                .collect();
            (f, extra)
        })
        .collect()
}

impl Labelled<'_> {
    fn pairs<'s>(
        &'s self,
        sample: &'s crate::collect::family::Sample,
    ) -> impl Iterator<Item = (&'s str, &'s str)> {
        self.family
            .desc
            .labels
            .iter()
            .copied()
            .zip(sample.labels.iter().map(String::as_str))
            .filter(|(_, v)| !v.is_empty())
            .chain(self.extra.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }
}

/// Classic text format 0.0.4.
fn render_text(families: &[(Family, Vec<(String, String)>)]) -> String {
    let mut out = String::with_capacity(
        families
            .iter()
            .map(|(f, _)| 64 + f.samples.len() * 64)
            .sum(),
    );
    for (family, extra) in families {
        let desc = family.desc;
        let labelled = Labelled { family, extra };
        let _ = writeln!(out, "# HELP {} {}", desc.name, escape_help(desc.help));
        let _ = writeln!(out, "# TYPE {} {}", desc.name, desc.kind.as_str());
        for sample in &family.samples {
            out.push_str(desc.name);
            let mut pairs = labelled.pairs(sample).peekable();
            if pairs.peek().is_some() {
                out.push('{');
                for (i, (name, value)) in pairs.enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(name);
                    out.push_str("=\"");
                    escape_label_into(value, &mut out);
                    out.push('"');
                }
                out.push('}');
            }
            out.push(' ');
            write_value(sample.value, &mut out);
            out.push('\n');
        }
    }
    out
}

fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label_into(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn write_value(value: Value, out: &mut String) {
    let _ = match value {
        Value::Int(v) => write!(out, "{v}"),
        Value::Signed(v) => write!(out, "{v}"),
        Value::Float(v) if v.is_nan() => write!(out, "NaN"),
        Value::Float(v) if v.is_infinite() => {
            write!(out, "{}", if v > 0.0 { "+Inf" } else { "-Inf" })
        }
        Value::Float(v) => write!(out, "{v}"),
    };
}

/// OpenMetrics through prometheus-client.
fn render_openmetrics(families: Vec<(Family, Vec<(String, String)>)>) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(SnapshotCollector { families }));
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}

/// The single collector of a probe's registry.
#[derive(Debug)]
struct SnapshotCollector {
    families: Vec<(Family, Vec<(String, String)>)>,
}

impl Collector for SnapshotCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for (family, extra) in &self.families {
            let desc = family.desc;
            let labelled = Labelled { family, extra };
            let (name, metric_type) = match desc.kind {
                // prometheus-client appends `_total` to counter samples itself.
                MetricKind::Counter => (
                    desc.name.strip_suffix("_total").unwrap_or(desc.name),
                    MetricType::Counter,
                ),
                MetricKind::Gauge => (desc.name, MetricType::Gauge),
            };
            let mut metric = encoder.encode_descriptor(name, desc.help, None, metric_type)?;
            let point = |sample: &crate::collect::family::Sample| SamplePoint {
                kind: desc.kind,
                value: sample.value,
            };
            // encode_family writes `{}` even for an empty label set: a lone
            // unlabelled sample (probe_success, uptime) is encoded bare.
            if let [sample] = &family.samples[..]
                && labelled.pairs(sample).next().is_none()
            {
                point(sample).encode(metric)?;
                continue;
            }
            for sample in &family.samples {
                let labels: Vec<(&str, &str)> = labelled.pairs(sample).collect();
                point(sample).encode(metric.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

struct SamplePoint {
    kind: MetricKind,
    value: Value,
}

impl EncodeMetric for SamplePoint {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let no_exemplar: Option<
            &prometheus_client::metrics::exemplar::Exemplar<Vec<(String, String)>, f64>,
        > = None;
        match (self.kind, self.value) {
            (MetricKind::Counter, Value::Int(v)) => encoder.encode_counter(&v, no_exemplar),
            (MetricKind::Counter, v) => encoder.encode_counter(&v.as_f64().max(0.0), no_exemplar),
            (MetricKind::Gauge, Value::Int(v)) => encoder.encode_gauge(&v),
            (MetricKind::Gauge, Value::Signed(v)) => encoder.encode_gauge(&v),
            (MetricKind::Gauge, Value::Float(v)) => encoder.encode_gauge(&v),
        }
    }

    fn metric_type(&self) -> MetricType {
        match self.kind {
            MetricKind::Counter => MetricType::Counter,
            MetricKind::Gauge => MetricType::Gauge,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::metric;

    metric!(
        RX,
        "mikrotik_interface_rx_bytes_total",
        Counter,
        "Received bytes",
        ["interface"]
    );
    metric!(
        INFO,
        "mikrotik_interface_info",
        Gauge,
        "Interface metadata",
        ["interface", "comment"]
    );

    fn snapshot() -> Vec<Family> {
        let mut rx = Family::new(&RX);
        rx.push(vec!["ether1".into()], 18_446_744_073_709_551_000u64);
        let mut info = Family::new(&INFO);
        info.push(
            vec!["ether1".into(), "uplink \"isp\"\nline2 \\".into()],
            1u64,
        );
        vec![rx, info]
    }

    #[test]
    fn text_format_keeps_u64_precision_and_escapes_labels() {
        let text = render(snapshot(), &[("site".into(), "hq".into())], Format::Text);
        assert!(text.contains("# TYPE mikrotik_interface_rx_bytes_total counter\n"));
        assert!(text.contains(
            "mikrotik_interface_rx_bytes_total{interface=\"ether1\",site=\"hq\"} 18446744073709551000\n"
        ));
        assert!(
            text.contains(r#"comment="uplink \"isp\"\nline2 \\""#),
            "{text}"
        );
    }

    #[test]
    fn openmetrics_names_counters_by_family_and_ends_with_eof() {
        let text = render(snapshot(), &[], Format::OpenMetrics);
        assert!(
            text.contains("# TYPE mikrotik_interface_rx_bytes counter\n"),
            "{text}"
        );
        assert!(text.contains(
            "mikrotik_interface_rx_bytes_total{interface=\"ether1\"} 18446744073709551000\n"
        ));
        assert!(text.contains("# TYPE mikrotik_interface_info gauge\n"));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn unlabelled_samples_have_no_braces_in_either_format() {
        metric!(UP, "mikrotik_probe_success", Gauge, "Probe result", []);
        for format in [Format::OpenMetrics, Format::Text] {
            let text = render(vec![Family::single(&UP, true)], &[], format);
            assert!(text.contains("\nmikrotik_probe_success 1\n"), "{text}");
        }
    }

    #[test]
    fn empty_label_values_are_left_out() {
        let mut info = Family::new(&INFO);
        info.push(vec!["ether2".into(), String::new()], 1u64);
        let text = render(vec![info], &[("site".into(), String::new())], Format::Text);
        assert!(
            text.contains("mikrotik_interface_info{interface=\"ether2\"} 1\n"),
            "{text}"
        );
    }

    #[test]
    fn negotiation_follows_accept() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prometheus)), Format::OpenMetrics);
        assert_eq!(Format::negotiate(Some("*/*")), Format::Text);
        assert_eq!(Format::negotiate(None), Format::Text);
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text;q=0,text/plain")),
            Format::Text
        );
        assert_eq!(
            Format::negotiate(Some("text/plain;q=0.9, application/openmetrics-text;q=0.5")),
            Format::Text
        );
    }
}
