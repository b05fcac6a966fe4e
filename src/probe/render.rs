//! Rendering a probe's snapshot as OpenMetrics 1.0.0 (what Prometheus asks
//! for) or the classic text format 0.0.4 (curl and older scrapers).
//!
//! Written straight from the snapshot into one buffer sized up front: a
//! prometheus-client registry per probe cost a `Vec` of label pairs per sample
//! and a dynamic call per word, a third of a large router's probe. The
//! OpenMetrics output is the one prometheus-client writes (same names, same
//! number formatting: `itoa` and `dtoa`), checked against it in the tests,
//! except that infinities read `+Inf`/`-Inf` as the format requires.
//! Families come out in the order the groups produced them, each once and
//! contiguously.

use super::gzip::GzipWriter;
use crate::collect::family::{Family, MetricDesc, MetricKind, Sample, Value};

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
        for (media, q) in weighted(accept) {
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

/// The entries of an `Accept`-style header (`name;param;q=0.5, …`) as
/// lower-cased names with their q-values (1 when absent or unreadable).
fn weighted(header: Option<&str>) -> impl Iterator<Item = (String, f64)> + '_ {
    header.unwrap_or_default().split(',').map(|entry| {
        let mut parts = entry.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.strip_prefix("q="))
            .and_then(|q| q.parse::<f64>().ok())
            .unwrap_or(1.0);
        (name, q)
    })
}

/// True when an `Accept-Encoding` header takes gzip (`gzip`, `x-gzip` or `*`
/// with a q-value above 0; an explicit `gzip;q=0` refuses it).
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    let mut gzip = None;
    let mut any = None;
    for (name, q) in weighted(accept_encoding) {
        match name.as_str() {
            "gzip" | "x-gzip" => gzip = Some(q > 0.0),
            "*" => any = Some(q > 0.0),
            _ => {}
        }
    }
    gzip.or(any).unwrap_or(false)
}

/// Renders `families` in `format`, adding `extra` labels (the target's
/// configured labels) to every sample whose family does not already have them.
/// Labels with empty values are left out: Prometheus treats them as absent.
pub fn render<'a, I>(families: I, extra: &[(String, String)], format: Format) -> String
where
    I: IntoIterator<Item = &'a Family>,
    I::IntoIter: Clone,
{
    let families = families.into_iter();
    let mut out = String::with_capacity(rendered_size(families.clone(), extra));
    for family in families {
        render_family(
            &mut out,
            family,
            &extra_labels(family, extra),
            format,
            &mut |_| {},
        );
    }
    end(&mut out, format);
    out
}

/// What [`render`] writes, gzipped as it is written: pieces of [`CHUNK`]
/// bytes are compressed as soon as they fill, so a large router's 10 MB
/// exposition never exists whole.
pub fn render_gzip<'a, I>(families: I, extra: &[(String, String)], format: Format) -> Vec<u8>
where
    I: IntoIterator<Item = &'a Family>,
    I::IntoIter: Clone,
{
    let families = families.into_iter();
    // A first guess at the compressed size (about 10 bytes a series at
    // level 1), without walking every label as the plain size would.
    let series: usize = families.clone().map(|f| f.samples.len()).sum();
    let mut gzip = GzipWriter::new(series * 12);
    let mut out = String::with_capacity(CHUNK + 1024);
    let mut flush = |text: &mut String| {
        if text.len() >= CHUNK {
            gzip.write(text.as_bytes());
            text.clear();
        }
    };
    for family in families {
        render_family(
            &mut out,
            family,
            &extra_labels(family, extra),
            format,
            &mut flush,
        );
        flush(&mut out);
    }
    end(&mut out, format);
    gzip.write(out.as_bytes());
    gzip.finish()
}

/// Size of the pieces [`render_gzip`] compresses: large enough that deflate
/// sees long runs, small enough to stay in cache.
const CHUNK: usize = 64 * 1024;

/// The extra labels `family` does not have itself, empty values left out.
fn extra_labels<'a>(family: &Family, extra: &'a [(String, String)]) -> Vec<(&'a str, &'a str)> {
    extra
        .iter()
        .filter(|(k, v)| !v.is_empty() && !family.desc.labels.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

fn end(out: &mut String, format: Format) {
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
}

/// An upper bound of the rendered size (escapes aside), so the buffer is
/// allocated once instead of doubling through a 10 MB body.
fn rendered_size<'a>(
    families: impl Iterator<Item = &'a Family>,
    extra: &[(String, String)],
) -> usize {
    let extra_len: usize = extra.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
    families
        .map(|family| {
            let desc = family.desc;
            let names: usize = desc.labels.iter().map(|l| l.len() + 4).sum();
            let per_sample = desc.name.len() + names + extra_len + 26;
            let values: usize = family
                .samples
                .iter()
                .map(|s| s.labels.iter().map(smol_str::SmolStr::len).sum::<usize>())
                .sum();
            2 * desc.name.len() + desc.help.len() + 32 + family.samples.len() * per_sample + values
        })
        .sum::<usize>()
        + 8
}

/// The family's `# HELP`/`# TYPE` lines and its samples; `flush` sees `out`
/// after every sample (to compress and empty it when it is full).
fn render_family(
    out: &mut String,
    family: &Family,
    extra: &[(&str, &str)],
    format: Format,
    flush: &mut impl FnMut(&mut String),
) {
    let desc = family.desc;
    // OpenMetrics names a counter family without the `_total` its samples carry.
    let family_name = match (format, desc.kind) {
        (Format::OpenMetrics, MetricKind::Counter) => {
            desc.name.strip_suffix("_total").unwrap_or(desc.name)
        }
        _ => desc.name,
    };
    out.push_str("# HELP ");
    out.push_str(family_name);
    out.push(' ');
    escape_help_into(desc.help, format, out);
    out.push_str("\n# TYPE ");
    out.push_str(family_name);
    out.push(' ');
    out.push_str(desc.kind.as_str());
    out.push('\n');
    for sample in &family.samples {
        out.push_str(family_name);
        if family_name.len() != desc.name.len() {
            out.push_str("_total");
        }
        write_labels(out, desc, sample, extra);
        out.push(' ');
        write_value(out, desc.kind, sample.value, format);
        out.push('\n');
        flush(out);
    }
}

/// `{name="value",...}` with empty values left out; nothing at all when no
/// label is left (a bare `{}` is valid but reads as a different series to
/// some tools). A plain loop rather than an iterator chain: this runs for
/// every label of every sample (800,000 on a large router).
fn write_labels(out: &mut String, desc: &MetricDesc, sample: &Sample, extra: &[(&str, &str)]) {
    let mut separator = '{';
    for (name, value) in desc.labels.iter().zip(&sample.labels) {
        if !value.is_empty() {
            out.push(separator);
            separator = ',';
            write_pair(out, name, value);
        }
    }
    for (name, value) in extra {
        out.push(separator);
        separator = ',';
        write_pair(out, name, value);
    }
    if separator == ',' {
        out.push('}');
    }
}

fn write_pair(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str("=\"");
    escape_label_into(value, out);
    out.push('"');
}

fn escape_help_into(help: &str, format: Format, out: &mut String) {
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if format == Format::OpenMetrics => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// Label values are almost never escaped: check the bytes first and copy the
/// whole value at once.
fn escape_label_into(value: &str, out: &mut String) {
    if !value.bytes().any(|b| matches!(b, b'\\' | b'"' | b'\n')) {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A sample value. Integers print exactly; OpenMetrics floats print as
/// prometheus-client prints them (`dtoa`: `1.0`), text floats as Rust does
/// (`1`); a counter never goes below zero in OpenMetrics.
fn write_value(out: &mut String, kind: MetricKind, value: Value, format: Format) {
    let float = match (format, kind, value) {
        (_, _, Value::Int(v)) => return out.push_str(itoa::Buffer::new().format(v)),
        (Format::OpenMetrics, MetricKind::Counter, v) => v.as_f64().max(0.0),
        (_, _, Value::Signed(v)) => return out.push_str(itoa::Buffer::new().format(v)),
        (_, _, Value::Float(v)) => v,
    };
    if float.is_nan() {
        out.push_str("NaN");
    } else if float.is_infinite() {
        out.push_str(if float > 0.0 { "+Inf" } else { "-Inf" });
    } else if format == Format::OpenMetrics {
        out.push_str(dtoa::Buffer::new().format_finite(float));
    } else {
        use std::fmt::Write;
        let _ = write!(out, "{float}");
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
        rx.push(["ether1"], 18_446_744_073_709_551_000u64);
        let mut info = Family::new(&INFO);
        info.push(["ether1", "uplink \"isp\"\nline2 \\"], 1u64);
        vec![rx, info]
    }

    #[test]
    fn text_format_keeps_u64_precision_and_escapes_labels() {
        let text = render(&snapshot(), &[("site".into(), "hq".into())], Format::Text);
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
        let text = render(&snapshot(), &[], Format::OpenMetrics);
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
            let text = render(&[Family::single(&UP, true)], &[], format);
            assert!(text.contains("\nmikrotik_probe_success 1\n"), "{text}");
        }
    }

    #[test]
    fn empty_label_values_are_left_out() {
        let mut info = Family::new(&INFO);
        info.push(vec!["ether2".into(), String::new()], 1u64);
        let text = render(&[info], &[("site".into(), String::new())], Format::Text);
        assert!(
            text.contains("mikrotik_interface_info{interface=\"ether2\"} 1\n"),
            "{text}"
        );
    }

    #[test]
    fn infinities_and_nan_are_spelled_as_the_formats_require() {
        metric!(G, "g", Gauge, "g", ["k"]);
        let mut g = Family::new(&G);
        g.push(["a"], f64::INFINITY);
        g.push(["b"], f64::NEG_INFINITY);
        g.push(["c"], f64::NAN);
        g.push(["d"], 1.5);
        for format in [Format::OpenMetrics, Format::Text] {
            let text = render(std::slice::from_ref(&g), &[], format);
            for line in ["g{k=\"a\"} +Inf\n", "g{k=\"b\"} -Inf\n", "g{k=\"c\"} NaN\n"] {
                assert!(text.contains(line), "{format:?}: {text}");
            }
        }
    }

    /// The OpenMetrics rendering as prometheus-client writes it: the renderer
    /// of the releases before the hand-written one, kept as the reference.
    mod reference {
        use crate::collect::family::{Family, MetricKind, Sample, Value};
        use prometheus_client::collector::Collector;
        use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder};
        use prometheus_client::metrics::MetricType;
        use prometheus_client::registry::Registry;

        pub fn openmetrics(families: Vec<Family>, extra: Vec<(String, String)>) -> String {
            let mut registry = Registry::default();
            registry.register_collector(Box::new(Snapshot { families, extra }));
            let mut out = String::new();
            prometheus_client::encoding::text::encode(&mut out, &registry).unwrap();
            out
        }

        #[derive(Debug)]
        struct Snapshot {
            families: Vec<Family>,
            extra: Vec<(String, String)>,
        }

        fn pairs<'s>(
            family: &'s Family,
            sample: &'s Sample,
            extra: &'s [(String, String)],
        ) -> Vec<(&'s str, &'s str)> {
            let desc = family.desc;
            desc.labels
                .iter()
                .copied()
                .zip(sample.labels.iter().map(smol_str::SmolStr::as_str))
                .filter(|(_, v)| !v.is_empty())
                .chain(
                    extra
                        .iter()
                        .filter(|(k, v)| !v.is_empty() && !desc.labels.contains(&k.as_str()))
                        .map(|(k, v)| (k.as_str(), v.as_str())),
                )
                .collect()
        }

        impl Collector for Snapshot {
            fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
                for family in &self.families {
                    let desc = family.desc;
                    let (name, metric_type) = match desc.kind {
                        MetricKind::Counter => (
                            desc.name.strip_suffix("_total").unwrap_or(desc.name),
                            MetricType::Counter,
                        ),
                        MetricKind::Gauge => (desc.name, MetricType::Gauge),
                    };
                    let mut metric =
                        encoder.encode_descriptor(name, desc.help, None, metric_type)?;
                    if let [sample] = &family.samples[..]
                        && pairs(family, sample, &self.extra).is_empty()
                    {
                        Point(desc.kind, sample.value).encode(metric)?;
                        continue;
                    }
                    for sample in &family.samples {
                        let labels = pairs(family, sample, &self.extra);
                        Point(desc.kind, sample.value).encode(metric.encode_family(&labels)?)?;
                    }
                }
                Ok(())
            }
        }

        struct Point(MetricKind, Value);

        impl EncodeMetric for Point {
            fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
                let none: Option<
                    &prometheus_client::metrics::exemplar::Exemplar<Vec<(String, String)>, f64>,
                > = None;
                match (self.0, self.1) {
                    (MetricKind::Counter, Value::Int(v)) => encoder.encode_counter(&v, none),
                    (MetricKind::Counter, v) => encoder.encode_counter(&v.as_f64().max(0.0), none),
                    (MetricKind::Gauge, Value::Int(v)) => encoder.encode_gauge(&v),
                    (MetricKind::Gauge, Value::Signed(v)) => encoder.encode_gauge(&v),
                    (MetricKind::Gauge, Value::Float(v)) => encoder.encode_gauge(&v),
                }
            }

            fn metric_type(&self) -> MetricType {
                match self.0 {
                    MetricKind::Counter => MetricType::Counter,
                    MetricKind::Gauge => MetricType::Gauge,
                }
            }
        }
    }

    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    /// Families of random shape: counters and gauges, 0–3 labels, values of
    /// every kind (finite: prometheus-client writes `inf` for infinities).
    fn families() -> impl proptest::strategy::Strategy<Value = Vec<Family>> {
        use proptest::prelude::*;
        let value = prop_oneof![
            any::<u64>().prop_map(Value::Int),
            any::<i64>().prop_map(Value::Signed),
            (-1e30f64..1e30).prop_map(Value::Float),
        ];
        let family =
            (any::<bool>(), 0usize..4, 1usize..5).prop_flat_map(move |(counter, n, len)| {
                let label_value = "[a-z0-9\"\\\\\n =é-]{0,6}";
                let samples = proptest::collection::vec(
                    (proptest::collection::vec(label_value, n), value.clone()),
                    len,
                );
                (Just(counter), Just(n), samples, "[a-z_]{1,12}")
            });
        proptest::collection::vec(family, 1..5).prop_map(|families| {
            families
                .into_iter()
                .enumerate()
                .map(|(i, (counter, n, samples, name))| {
                    let labels: Vec<&'static str> = (0..n).map(|j| leak(format!("l{j}"))).collect();
                    let desc: &'static MetricDesc = Box::leak(Box::new(MetricDesc {
                        name: leak(format!(
                            "m{i}_{name}{}",
                            if counter { "_total" } else { "" }
                        )),
                        help: "Help text.",
                        kind: if counter {
                            MetricKind::Counter
                        } else {
                            MetricKind::Gauge
                        },
                        labels: Box::leak(labels.into_boxed_slice()),
                    }));
                    let mut family = Family::new(desc);
                    for (labels, value) in samples {
                        family.push(labels, value);
                    }
                    family
                })
                .collect()
        })
    }

    proptest::proptest! {
        #[test]
        fn openmetrics_is_what_prometheus_client_writes(
            families in families(),
            site in "[a-z]{0,3}",
        ) {
            let extra = vec![("site".to_string(), site), ("l0".to_string(), "x".to_string())];
            let ours = render(&families, &extra, Format::OpenMetrics);
            // prometheus-client writes `name{} 1` for a sample left without
            // labels in a family of several; ours leaves the braces out.
            let reference = reference::openmetrics(families, extra).replace("{} ", " ");
            proptest::prop_assert_eq!(ours, reference);
        }
    }

    proptest::proptest! {
        #[test]
        fn gzip_rendering_inflates_to_the_plain_one(families in families(), big in 0usize..3) {
            use std::io::Read;
            // Repeated families make bodies past a few compression chunks.
            let families: Vec<Family> = (0..1 + big * 400).flat_map(|_| families.clone()).collect();
            let extra = [("site".to_string(), "hq".to_string())];
            for format in [Format::OpenMetrics, Format::Text] {
                let plain = render(&families, &extra, format);
                let gzip = render_gzip(&families, &extra, format);
                let mut inflated = String::new();
                flate2::read::GzDecoder::new(&gzip[..]).read_to_string(&mut inflated).unwrap();
                proptest::prop_assert_eq!(&inflated, &plain);
            }
        }
    }

    #[test]
    fn gzip_is_what_accept_encoding_allows() {
        for yes in [
            "gzip",
            "deflate, gzip;q=1.0, *;q=0.5",
            "x-gzip",
            "*",
            "br, GZIP;q=0.1",
        ] {
            assert!(accepts_gzip(Some(yes)), "{yes}");
        }
        for no in ["", "identity", "gzip;q=0", "*;q=0", "br", "*, gzip;q=0"] {
            assert!(!accepts_gzip(Some(no)), "{no}");
        }
        assert!(!accepts_gzip(None));
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
