//! A strict parser for the Prometheus text format (0.0.4) and OpenMetrics 1.0:
//! it panics on anything a scraper could reject or misread (see
//! [`parse_exposition`]). Its own test, `the_parser_is_strict`, is in
//! `tests/http_formats.rs` so that it runs once, not in every test crate that
//! includes `support`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

pub type LabelSet = BTreeMap<String, String>;

#[derive(Debug, Default)]
pub struct Exposition {
    /// Sample name → (labels, value).
    pub samples: HashMap<String, Vec<(LabelSet, f64)>>,
    /// Family names in order.
    pub families: Vec<String>,
}

impl Exposition {
    /// Every sample named `name` (empty if none).
    pub fn all(&self, name: &str) -> &[(LabelSet, f64)] {
        self.samples
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The one sample of `name` whose labels include `labels`; panics if more
    /// than one matches.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let matching: Vec<f64> = self
            .all(name)
            .iter()
            .filter(|(set, _)| {
                labels
                    .iter()
                    .all(|(k, v)| set.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, v)| *v)
            .collect();
        assert!(
            matching.len() <= 1,
            "{name}{labels:?} matches {} samples",
            matching.len()
        );
        matching.first().copied()
    }

    /// [`Exposition::value`], which must exist.
    pub fn must(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels)
            .unwrap_or_else(|| panic!("no sample {name}{labels:?}"))
    }
}

fn valid_name(name: &str, label: bool) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (!label && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (!label && c == ':'))
}

fn parse_labels(text: &str, line: &str) -> (LabelSet, usize) {
    // `text` starts after `{`; returns the labels and the length consumed incl. `}`.
    let bytes: Vec<char> = text.chars().collect();
    let mut labels = LabelSet::new();
    let mut i = 0;
    loop {
        if bytes.get(i) == Some(&'}') {
            let consumed: usize = bytes[..=i].iter().map(|c| c.len_utf8()).sum();
            return (labels, consumed);
        }
        let start = i;
        while i < bytes.len() && bytes[i] != '=' {
            i += 1;
        }
        let name: String = bytes[start..i].iter().collect();
        assert!(valid_name(&name, true), "bad label name {name:?} in {line}");
        assert_eq!(bytes.get(i + 1), Some(&'"'), "label value quote in {line}");
        i += 2;
        let mut value = String::new();
        loop {
            match bytes.get(i) {
                Some('\\') => {
                    match bytes.get(i + 1) {
                        Some('\\') => value.push('\\'),
                        Some('"') => value.push('"'),
                        Some('n') => value.push('\n'),
                        other => panic!("bad escape {other:?} in {line}"),
                    }
                    i += 2;
                }
                Some('"') => {
                    i += 1;
                    break;
                }
                Some('\n') | None => panic!("unterminated label value in {line}"),
                Some(c) => {
                    value.push(*c);
                    i += 1;
                }
            }
        }
        assert!(
            labels.insert(name.clone(), value).is_none(),
            "label {name} repeated in {line}"
        );
        match bytes.get(i) {
            Some(',') => i += 1,
            Some('}') => {}
            other => panic!("expected , or }} after a label, got {other:?} in {line}"),
        }
    }
}

fn parse_value(text: &str, line: &str) -> f64 {
    match text {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        _ => text
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("bad value {text:?} in {line}")),
    }
}

/// The sample-name suffixes a family of type `kind` may use; panics on a type
/// the format does not have.
fn suffixes(kind: &str, openmetrics: bool) -> &'static [&'static str] {
    match (kind, openmetrics) {
        ("counter", true) => &["_total", "_created"],
        ("counter", false) | ("gauge", _) | ("untyped", false) | ("unknown", true) => &[""],
        ("histogram", _) => &["_bucket", "_sum", "_count", "_created"],
        ("summary", _) => &["", "_sum", "_count", "_created"],
        ("info", true) => &["_info"],
        ("stateset", true) => &[""],
        (other, _) => panic!("unknown metric type {other}"),
    }
}

/// Parses a whole exposition strictly: every sample's family declared once by
/// `# TYPE` before it, families contiguous, no duplicate (name, labelset),
/// OpenMetrics ending with `# EOF`.
pub fn parse_exposition(body: &str, openmetrics: bool) -> Exposition {
    let mut parser = Parser {
        openmetrics,
        ..Parser::default()
    };
    assert!(body.ends_with('\n'), "exposition ends with a newline");
    for line in body.lines() {
        assert!(!parser.eof, "content after # EOF: {line}");
        if line.is_empty() {
            assert!(!openmetrics, "empty line in OpenMetrics");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            parser.comment(line, rest);
            continue;
        }
        assert!(!line.starts_with('#'), "bad comment {line}");
        parser.sample(line);
    }
    assert_eq!(
        parser.eof, openmetrics,
        "# EOF present exactly in OpenMetrics"
    );
    parser.out
}

/// The state of [`parse_exposition`] between lines.
#[derive(Default)]
struct Parser {
    openmetrics: bool,
    out: Exposition,
    /// Families with a `# TYPE`.
    declared: BTreeSet<String>,
    /// Families with a `# HELP`.
    helped: BTreeSet<String>,
    /// The family (name, type) samples must belong to now.
    current: Option<(String, String)>,
    /// Every (sample name, labels) so far.
    seen: BTreeSet<(String, Vec<(String, String)>)>,
    eof: bool,
}

impl Parser {
    /// A line starting with `# `; `rest` is what follows.
    fn comment(&mut self, line: &str, rest: &str) {
        let openmetrics = self.openmetrics;
        if rest == "EOF" {
            assert!(openmetrics, "# EOF in the text format");
            self.eof = true;
            return;
        }
        let mut parts = rest.splitn(3, ' ');
        let keyword = parts.next().expect("splitn yields a first part");
        let name = parts.next().unwrap_or_else(|| panic!("bad line {line}"));
        assert!(valid_name(name, false), "bad family name in {line}");
        match keyword {
            "HELP" => {
                assert!(self.helped.insert(name.to_string()), "HELP twice: {line}");
                assert!(!self.declared.contains(name), "HELP after TYPE of {name}");
            }
            "TYPE" => {
                let kind = parts.next().unwrap_or_else(|| panic!("no type: {line}"));
                assert!(
                    self.declared.insert(name.to_string()),
                    "family {name} declared twice (not contiguous)"
                );
                suffixes(kind, openmetrics);
                if openmetrics && kind == "counter" {
                    assert!(
                        !name.ends_with("_total"),
                        "OpenMetrics counter family {name}"
                    );
                }
                self.out.families.push(name.to_string());
                self.current = Some((name.to_string(), kind.to_string()));
            }
            "UNIT" => assert!(openmetrics, "UNIT in text format"),
            other => panic!("unknown comment {other}: {line}"),
        }
    }

    /// A sample line: `name{labels} value [timestamp]`.
    fn sample(&mut self, line: &str) {
        let name_end = line
            .find(['{', ' '])
            .unwrap_or_else(|| panic!("no value: {line}"));
        let name = &line[..name_end];
        let (labels, rest) = if line[name_end..].starts_with('{') {
            let (labels, used) = parse_labels(&line[name_end + 1..], line);
            (labels, &line[name_end + 1 + used..])
        } else {
            (LabelSet::new(), &line[name_end..])
        };
        let rest = rest
            .strip_prefix(' ')
            .unwrap_or_else(|| panic!("no space before value: {line}"));
        let mut fields = rest.split(' ');
        let value = parse_value(fields.next().expect("split yields a first part"), line);
        if let Some(ts) = fields.next() {
            ts.parse::<f64>()
                .unwrap_or_else(|_| panic!("bad timestamp in {line}"));
        }
        assert!(fields.next().is_none(), "trailing fields: {line}");
        let (family, kind) = self
            .current
            .as_ref()
            .unwrap_or_else(|| panic!("sample before any # TYPE: {line}"));
        let belongs = suffixes(kind, self.openmetrics)
            .iter()
            .any(|s| name.strip_suffix(s) == Some(family.as_str()));
        assert!(
            belongs,
            "sample {name} is not in the current family {family} ({kind}): not declared before it or not contiguous"
        );
        let key = (
            name.to_string(),
            labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>(),
        );
        assert!(self.seen.insert(key), "duplicate series: {line}");
        self.out
            .samples
            .entry(name.to_string())
            .or_default()
            .push((labels, value));
    }
}
