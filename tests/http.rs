//! The HTTP layer in-process: `/probe` (status codes, parameter errors, deadline,
//! coalescing, limits, content negotiation, gzip, strict exposition), `/health`,
//! `/metrics`, `/config`, `/-/reload`, `/-/healthy`, `/-/ready` and `/`, against
//! the project's simulator (a RouterOS 7 and a RouterOS 6 router) on 127.0.0.1.
//!
//! Every response body is checked for the routers' password.

use routeros_exporter::collect::group_names;
use routeros_exporter::config::{self, Config};
use routeros_exporter::http::{App, router};
use routeros_exporter::probe::ProberOptions;
use routeros_sim::{Faults, RouterConfig, RouterHandle, SimConfig, Simulator};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PASSWORD: &str = "s3cr3t-pass";
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const RESOURCE_PRINT: &str = "/system/resource/print";

// ---------------------------------------------------------------------------
// A tiny HTTP/1.1 client.

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = find(body, b"\r\n").expect("chunk size line");
        let size_line = std::str::from_utf8(&body[..end]).expect("chunk size");
        let size = usize::from_str_radix(size_line.split(';').next().unwrap().trim(), 16)
            .expect("hex chunk size");
        body = &body[end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[..size]);
        assert_eq!(&body[size..size + 2], b"\r\n", "chunk terminator");
        body = &body[size + 2..];
    }
}

async fn raw_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Response {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.expect("connect to exporter");
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        if method == "POST" {
            request.push_str("Content-Length: 0\r\n");
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read to EOF");
        raw
    };
    let raw = tokio::time::timeout(Duration::from_secs(60), exchange)
        .await
        .expect("exporter answered within 60s");
    let split = find(&raw, b"\r\n\r\n").expect("end of headers");
    let head = std::str::from_utf8(&raw[..split]).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').expect("header line");
            (k.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body);
    } else if let Some((_, len)) = headers.iter().find(|(k, _)| k == "content-length") {
        assert_eq!(body.len(), len.parse::<usize>().unwrap(), "content-length");
    }
    let response = Response {
        status,
        headers,
        body,
    };
    assert!(
        find(&response.body, PASSWORD.as_bytes()).is_none(),
        "the password leaked in {method} {path}: {}",
        String::from_utf8_lossy(&response.body)
    );
    response
}

async fn get(addr: SocketAddr, path: &str) -> Response {
    raw_request(addr, "GET", path, &[]).await
}

async fn get_with(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Response {
    raw_request(addr, "GET", path, headers).await
}

async fn post(addr: SocketAddr, path: &str) -> Response {
    raw_request(addr, "POST", path, &[]).await
}

/// GET that must answer 200 with a body.
async fn probe(addr: SocketAddr, query: &str) -> String {
    let r = get(addr, &format!("/probe?{query}")).await;
    assert_eq!(r.status, 200, "{query}: {}", r.text());
    r.text()
}

// ---------------------------------------------------------------------------
// A strict exposition parser.

type LabelSet = BTreeMap<String, String>;

#[derive(Debug, Default)]
struct Exposition {
    /// Sample name → (labels, value).
    samples: HashMap<String, Vec<(LabelSet, f64)>>,
    /// Family names in order.
    families: Vec<String>,
}

impl Exposition {
    fn all(&self, name: &str) -> &[(LabelSet, f64)] {
        self.samples
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The one sample of `name` whose labels include `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
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

    fn must(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
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
fn parse_exposition(body: &str, openmetrics: bool) -> Exposition {
    let mut out = Exposition::default();
    let mut declared: BTreeSet<String> = BTreeSet::new();
    let mut helped: BTreeSet<String> = BTreeSet::new();
    let mut current: Option<(String, String)> = None;
    let mut seen: BTreeSet<(String, Vec<(String, String)>)> = BTreeSet::new();
    let mut eof = false;
    assert!(body.ends_with('\n'), "exposition ends with a newline");
    for line in body.lines() {
        assert!(!eof, "content after # EOF: {line}");
        if line.is_empty() {
            assert!(!openmetrics, "empty line in OpenMetrics");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            if rest == "EOF" {
                assert!(openmetrics, "# EOF in the text format");
                eof = true;
                continue;
            }
            let mut parts = rest.splitn(3, ' ');
            let keyword = parts.next().unwrap();
            let name = parts.next().unwrap_or_else(|| panic!("bad line {line}"));
            assert!(valid_name(name, false), "bad family name in {line}");
            match keyword {
                "HELP" => {
                    assert!(helped.insert(name.to_string()), "HELP twice: {line}");
                    assert!(!declared.contains(name), "HELP after TYPE of {name}");
                }
                "TYPE" => {
                    let kind = parts.next().unwrap_or_else(|| panic!("no type: {line}"));
                    assert!(
                        declared.insert(name.to_string()),
                        "family {name} declared twice (not contiguous)"
                    );
                    suffixes(kind, openmetrics);
                    if openmetrics && kind == "counter" {
                        assert!(
                            !name.ends_with("_total"),
                            "OpenMetrics counter family {name}"
                        );
                    }
                    out.families.push(name.to_string());
                    current = Some((name.to_string(), kind.to_string()));
                }
                "UNIT" => assert!(openmetrics, "UNIT in text format"),
                other => panic!("unknown comment {other}: {line}"),
            }
            continue;
        }
        assert!(!line.starts_with('#'), "bad comment {line}");
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
        let value = parse_value(fields.next().unwrap(), line);
        if let Some(ts) = fields.next() {
            ts.parse::<f64>()
                .unwrap_or_else(|_| panic!("bad timestamp in {line}"));
        }
        assert!(fields.next().is_none(), "trailing fields: {line}");
        let (family, kind) = current
            .as_ref()
            .unwrap_or_else(|| panic!("sample before any # TYPE: {line}"));
        let belongs = suffixes(kind, openmetrics)
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
        assert!(seen.insert(key), "duplicate series: {line}");
        out.samples
            .entry(name.to_string())
            .or_default()
            .push((labels, value));
    }
    assert_eq!(eof, openmetrics, "# EOF present exactly in OpenMetrics");
    out
}

#[test]
fn the_parser_is_strict() {
    let ok = "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"1\"} 1\na_total{l=\"2\"} 2\n";
    assert_eq!(
        parse_exposition(ok, false).must("a_total", &[("l", "2")]),
        2.0
    );
    for bad in [
        "a 1\n",
        "# TYPE a gauge\na 1\na 2\n",
        "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\na{x=\"1\"} 1\n",
        "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"1\"} 1\n",
        "# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n",
    ] {
        assert!(
            std::panic::catch_unwind(|| parse_exposition(bad, false)).is_err(),
            "accepted {bad:?}"
        );
    }
    assert!(std::panic::catch_unwind(|| parse_exposition("# TYPE a gauge\na 1\n", true)).is_err());
}

// ---------------------------------------------------------------------------
// Fixtures.

static DIRS: AtomicUsize = AtomicUsize::new(0);

fn temp_dir(tag: &str) -> PathBuf {
    let n = DIRS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "routeros-exporter-http-{}-{tag}-{n}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

struct Harness {
    _sim: Simulator,
    v7: RouterHandle,
    v6: RouterHandle,
    addr: SocketAddr,
    app: Arc<App>,
    path: PathBuf,
}

fn router_config(router: RouterConfig) -> RouterConfig {
    RouterConfig {
        password: PASSWORD.into(),
        // Long up, so a reboot makes the uptime go backwards for sure.
        initial_uptime: Duration::from_secs(86_400),
        ..router
    }
}

/// The config file text for the two routers; `global` is YAML for `global:`.
fn config_text(v7: SocketAddr, v6: SocketAddr, global: &str) -> String {
    format!(
        r#"global:
{global}
auths:
  main:
    username: admin
    password: "{PASSWORD}"
  other:
    username: admin
    password: "{PASSWORD}"
targets:
  r7:
    address: "{v7}"
    auth: main
    labels: {{site: lab}}
  r6:
    address: "{v6}"
    auth: main
modules:
  sys:
    groups: [system]
  wg:
    groups: [wireguard]
  cut:
    groups: [system, connectivity]
"#
    )
}

fn load(path: &std::path::Path) -> Config {
    config::load_file(path, &group_names()).expect("test config loads")
}

async fn serve(app: Arc<App>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        axum::serve(listener, router(app)).await.expect("serve");
    });
    addr
}

async fn harness_with(global: &str) -> Harness {
    let sim = Simulator::start(SimConfig {
        routers: vec![
            router_config(RouterConfig::v7("r7")),
            router_config(RouterConfig::v6("r6")),
        ],
    })
    .await
    .expect("simulator starts");
    let (v7, v6) = (sim.routers()[0].clone(), sim.routers()[1].clone());
    let path = temp_dir("cfg").join("exporter.yml");
    std::fs::write(&path, config_text(v7.addr(), v6.addr(), global)).expect("write config");
    let app = App::new(load(&path), ProberOptions::default());
    let addr = serve(app.clone()).await;
    Harness {
        _sim: sim,
        v7,
        v6,
        addr,
        app,
        path,
    }
}

async fn harness() -> Harness {
    harness_with("  default_timeout: 10s").await
}

fn command_count(router: &RouterHandle, command: &str) -> u64 {
    router
        .stats()
        .commands
        .get(command)
        .copied()
        .unwrap_or_default()
}

/// Waits (bounded) until `router` has received `command` `count` times.
async fn wait_for_command(router: &RouterHandle, command: &str, count: u64) {
    let waited = tokio::time::timeout(Duration::from_secs(30), async {
        while command_count(router, command) < count {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "{command} never reached {count}");
}

// ---------------------------------------------------------------------------
// /probe: parameters and status codes.

#[tokio::test]
async fn probe_parameter_errors_are_400_with_a_message() {
    let h = harness().await;
    let before = (h.v7.stats(), h.v6.stats());
    for (query, expect) in [
        ("", "missing target"),
        ("module=full", "missing target"),
        ("target=", "missing target"),
        ("target=r7&target=r6", "more than once"),
        ("target=r7&modul=full", "unknown parameter \"modul\""),
        ("target=r7&debug=maybe", "debug must be true or false"),
        ("target=r7&module=%zz", "percent-encoding"),
        ("target=r%+7", "percent-encoding"),
        ("target=r7&module=nope", "unknown module \"nope\""),
        ("target=r7&module=sys,nope", "unknown module \"nope\""),
        (
            "target=r7&module=sys&module=nope",
            "unknown module \"nope\"",
        ),
    ] {
        let r = get(h.addr, &format!("/probe?{query}")).await;
        assert_eq!(r.status, 400, "{query}: {}", r.text());
        assert!(r.text().contains(expect), "{query}: {}", r.text());
    }
    // The unknown module lists the valid ones.
    let r = get(h.addr, "/probe?target=r7&module=nope").await;
    for valid in ["connectivity", "cut", "full", "sys", "wg"] {
        assert!(r.text().contains(valid), "{}", r.text());
    }
    // A malformed scrape timeout header is a 400 too.
    for bad in ["abc", "0", "-1"] {
        let r = get_with(
            h.addr,
            "/probe?target=r7",
            &[("X-Prometheus-Scrape-Timeout-Seconds", bad)],
        )
        .await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(
            r.text().contains("X-Prometheus-Scrape-Timeout-Seconds"),
            "{}",
            r.text()
        );
    }
    // None of these touched a router.
    assert_eq!(
        h.v7.stats().connections_accepted,
        before.0.connections_accepted
    );
    assert_eq!(
        h.v6.stats().connections_accepted,
        before.1.connections_accepted
    );
}

#[tokio::test]
async fn unknown_target_is_404_and_nothing_is_contacted() {
    let h = harness().await;
    let before = (h.v7.stats(), h.v6.stats());
    for target in [
        "nope",
        // An address is not a target: credentials never go to a URL's address.
        &h.v7.addr().to_string(),
        "127.0.0.1",
    ] {
        let r = get(h.addr, &format!("/probe?target={target}&module=full")).await;
        assert_eq!(r.status, 404, "{target}");
        let text = r.text();
        assert!(text.contains("unknown target"), "{text}");
        assert!(text.contains("r6, r7"), "lists configured targets: {text}");
    }
    // Unknown target wins over unknown module, and debug does not change it.
    let r = get(h.addr, "/probe?target=nope&module=nope&debug=true").await;
    assert_eq!(r.status, 404);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = (h.v7.stats(), h.v6.stats());
    assert_eq!(after.0.connections_accepted, before.0.connections_accepted);
    assert_eq!(after.1.connections_accepted, before.1.connections_accepted);
    assert_eq!(after.0.logins_ok + after.1.logins_ok, 0);
}

#[tokio::test]
async fn other_routes_and_methods() {
    let h = harness().await;
    assert_eq!(get(h.addr, "/nope").await.status, 404);
    assert_eq!(post(h.addr, "/probe?target=r7").await.status, 405);
    assert_eq!(get(h.addr, "/-/reload").await.status, 405);
    let r = get(h.addr, "/-/healthy").await;
    assert_eq!((r.status, r.text().as_str()), (200, "OK\n"));
    let r = get(h.addr, "/-/ready").await;
    assert_eq!(r.status, 200);
    h.app.set_not_ready();
    assert_eq!(get(h.addr, "/-/ready").await.status, 503);
    assert_eq!(
        get(h.addr, "/-/healthy").await.status,
        200,
        "liveness stays up"
    );
    // The landing page links every target and module.
    let r = get(h.addr, "/").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let page = r.text();
    for needle in [
        "/probe?target=r7&amp;module=full",
        "/probe?target=r6&amp;module=sys&amp;debug=true",
        "/metrics",
        "/health",
        "/config",
    ] {
        assert!(page.contains(needle), "{needle} missing in {page}");
    }
}

// ---------------------------------------------------------------------------
// /probe: output.

async fn full_exposition(h: &Harness, target: &str) {
    let text = get(h.addr, &format!("/probe?target={target}&module=full")).await;
    assert_eq!(text.status, 200, "{}", text.text());
    assert_eq!(text.header("content-type"), Some(TEXT));
    let om = get_with(
        h.addr,
        &format!("/probe?target={target}&module=full"),
        &[("Accept", PROMETHEUS_ACCEPT)],
    )
    .await;
    assert_eq!(om.status, 200);
    assert_eq!(om.header("content-type"), Some(OPENMETRICS));
    for (body, openmetrics) in [(text.text(), false), (om.text(), true)] {
        let e = parse_exposition(&body, openmetrics);
        assert_eq!(
            e.must("mikrotik_probe_success", &[]),
            1.0,
            "{target}: {body}"
        );
        for group in group_names() {
            assert!(
                e.value("mikrotik_collector_success", &[("collector", group)])
                    .is_some(),
                "{target}: no collector_success for {group}"
            );
            assert!(
                e.value(
                    "mikrotik_collector_duration_seconds",
                    &[("collector", group)]
                )
                .is_some()
            );
        }
        for family in [
            "mikrotik_probe_duration_seconds",
            "mikrotik_probe_timeout_seconds",
            "mikrotik_scrape_duration_milliseconds",
            "mikrotik_scrape_last_success_timestamp_seconds",
            "mikrotik_connection_consecutive_errors",
            "mikrotik_connection_pool_size",
            "mikrotik_connection_pool_active",
            "mikrotik_system_uptime_seconds",
            "mikrotik_interface_rx_bytes_total",
        ] {
            assert!(!e.all(family).is_empty(), "{target}: no {family}");
        }
        assert!(!e.all("mikrotik_scrape_success_total").is_empty());
        assert!(!e.all("mikrotik_scrape_errors_total").is_empty());
        assert_eq!(
            e.must("mikrotik_target_resets_total", &[("reason", "reboot")]),
            0.0
        );
    }
}

#[tokio::test]
async fn full_output_of_v7_and_v6_is_strictly_valid_in_both_formats() {
    let h = harness().await;
    full_exposition(&h, "r7").await;
    full_exposition(&h, "r6").await;
    // The target's extra labels are on every sample.
    let e = parse_exposition(&probe(h.addr, "target=r7&module=sys").await, false);
    for (name, samples) in &e.samples {
        for (labels, _) in samples {
            assert_eq!(
                labels.get("site").map(String::as_str),
                Some("lab"),
                "{name}"
            );
        }
    }
}

#[tokio::test]
async fn v6_has_no_wireguard_which_is_unsupported_not_failed() {
    let h = harness().await;
    for module in ["wg", "full"] {
        let e = parse_exposition(
            &probe(h.addr, &format!("target=r6&module={module}")).await,
            false,
        );
        let wg = [("collector", "wireguard")];
        assert_eq!(e.must("mikrotik_collector_success", &wg), 1.0, "{module}");
        assert_eq!(e.must("mikrotik_collector_supported", &wg), 0.0, "{module}");
        assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0, "{module}");
    }
    let e = parse_exposition(&probe(h.addr, "target=r7&module=wg").await, false);
    let wg = [("collector", "wireguard")];
    assert_eq!(e.must("mikrotik_collector_supported", &wg), 1.0);
    assert_eq!(e.must("mikrotik_collector_success", &wg), 1.0);
    // Unsupported menus never degrade a target.
    let r = get(h.addr, "/health?target=r6").await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn modules_repeated_or_comma_separated_are_merged() {
    let h = harness().await;
    for query in [
        "target=r7&module=sys,wg",
        "target=r7&module=sys&module=wg",
        "target=r7&module=wg,sys&module=sys",
        "target=r7&module=sys%2Cwg",
    ] {
        let e = parse_exposition(&probe(h.addr, query).await, false);
        let collectors: BTreeSet<&str> = e
            .all("mikrotik_collector_success")
            .iter()
            .map(|(l, _)| l["collector"].as_str())
            .collect();
        assert_eq!(
            collectors,
            BTreeSet::from(["system", "wireguard"]),
            "{query}"
        );
        assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);
    }
    // No module means full.
    let e = parse_exposition(&probe(h.addr, "target=r7").await, false);
    assert_eq!(
        e.all("mikrotik_collector_success").len(),
        group_names().len()
    );
}

#[tokio::test]
async fn gzip_when_asked() {
    let h = harness().await;
    let plain = get(h.addr, "/probe?target=r7&module=sys").await;
    assert_eq!(plain.header("content-encoding"), None);
    let zipped = get_with(
        h.addr,
        "/probe?target=r7&module=sys",
        &[("Accept-Encoding", "gzip")],
    )
    .await;
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(zipped.header("content-type"), Some(TEXT));
    assert_eq!(&zipped.body[..2], &[0x1f, 0x8b], "gzip magic");
    assert!(zipped.body.len() < plain.body.len());
    let zipped = get_with(h.addr, "/metrics", &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(&zipped.body[..2], &[0x1f, 0x8b]);
}

#[tokio::test]
async fn router_down_is_still_200_with_the_reason() {
    let h = harness().await;
    // Wrong password (as the router says it) ...
    h.v7.set_faults(Faults {
        auth_failure: true,
        ..Faults::default()
    });
    let e = parse_exposition(&probe(h.addr, "target=r7&module=cut").await, false);
    assert_eq!(e.must("mikrotik_probe_success", &[]), 0.0);
    assert_eq!(
        e.must("mikrotik_collector_success", &[("collector", "system")]),
        0.0
    );
    // The no-login group still reports.
    assert_eq!(
        e.must(
            "mikrotik_collector_success",
            &[("collector", "connectivity")]
        ),
        1.0
    );
    assert_eq!(e.must("mikrotik_scrape_errors_total", &[]), 1.0);
    assert_eq!(e.must("mikrotik_connection_consecutive_errors", &[]), 1.0);
    let debug = probe(h.addr, "target=r7&module=sys&debug=true").await;
    assert!(
        debug.contains("invalid user name or password (6)"),
        "router message verbatim: {debug}"
    );
    // ... and /health says why.
    let r = get(h.addr, "/health?target=r7").await;
    assert_eq!(r.status, 503);
    assert!(
        r.text().contains("invalid user name or password"),
        "{}",
        r.text()
    );

    // A router that closes every connection.
    h.v6.set_faults(Faults {
        refuse: true,
        ..Faults::default()
    });
    let e = parse_exposition(&probe(h.addr, "target=r6&module=sys").await, false);
    assert_eq!(e.must("mikrotik_probe_success", &[]), 0.0);
    assert_eq!(
        e.must("mikrotik_collector_success", &[("collector", "system")]),
        0.0
    );
}

#[tokio::test]
async fn debug_report_has_trace_and_config_but_no_secret() {
    let h = harness().await;
    let r = get(h.addr, "/probe?target=r7&module=sys,wg&debug=true").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    let text = r.text();
    for needle in [
        "Probe succeeded",
        "Trace:",
        RESOURCE_PRINT,
        "Collectors:",
        "system",
        "wireguard",
        "auth: main",
        "Effective modules:",
        "mikrotik_probe_success 1",
    ] {
        assert!(text.contains(needle), "{needle} missing in {text}");
    }
    let r = get(h.addr, "/probe?target=r6&debug=1").await;
    assert_eq!(r.status, 200);
    let text = r.text();
    assert!(
        text.contains(
            "wireguard      Unsupported(\"router trap: no such command or directory (peers); no such command prefix\")"
        ),
        "the trap message verbatim: {text}"
    );
}

// ---------------------------------------------------------------------------
// Deadline.

#[tokio::test]
async fn the_deadline_cuts_a_slow_group_while_the_others_report() {
    let h = harness().await;
    // Logged in, then commands are never answered: system hangs, while
    // connectivity (no session) still reports.
    h.v7.set_faults(Faults {
        hang: true,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let r = get_with(
        h.addr,
        "/probe?target=r7&module=cut",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "1.5")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // A correctness bound (Prometheus would have given up), not a speed test.
    assert!(started.elapsed() < Duration::from_secs(20));
    let e = parse_exposition(&r.text(), false);
    assert_eq!(e.must("mikrotik_probe_timeout_seconds", &[]), 1.0);
    assert_eq!(e.must("mikrotik_probe_success", &[]), 0.0);
    assert_eq!(
        e.must("mikrotik_collector_success", &[("collector", "system")]),
        0.0
    );
    assert_eq!(
        e.must(
            "mikrotik_collector_success",
            &[("collector", "connectivity")]
        ),
        1.0
    );
    assert_eq!(
        e.must(
            "mikrotik_connection_status_up",
            &[("name", "api"), ("protocol", "tcp")]
        ),
        1.0
    );
    assert!(e.all("mikrotik_system_uptime_seconds").is_empty());
    let debug = get_with(
        h.addr,
        "/probe?target=r7&module=cut&debug=true",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "1.5")],
    )
    .await
    .text();
    assert!(
        debug.contains("system: timed out after"),
        "the reason is in the debug report: {debug}"
    );
    // A header at or below the offset uses a fraction of it, never more.
    let e = parse_exposition(
        &get_with(
            h.addr,
            "/probe?target=r7&module=cut",
            &[("X-Prometheus-Scrape-Timeout-Seconds", "0.4")],
        )
        .await
        .text(),
        false,
    );
    let budget = e.must("mikrotik_probe_timeout_seconds", &[]);
    assert!(budget > 0.0 && budget < 0.4, "{budget}");
    // Without the header: the default timeout.
    h.v7.set_faults(Faults::default());
    let e = parse_exposition(&probe(h.addr, "target=r7&module=sys").await, false);
    assert_eq!(e.must("mikrotik_probe_timeout_seconds", &[]), 10.0);
    assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);
}

#[tokio::test]
async fn a_hanging_login_does_not_cost_the_no_login_groups() {
    let h = harness().await;
    h.v7.set_faults(Faults {
        hang_login: true,
        ..Faults::default()
    });
    let r = get_with(
        h.addr,
        "/probe?target=r7&module=cut",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "1.5")],
    )
    .await;
    assert_eq!(r.status, 200);
    let e = parse_exposition(&r.text(), false);
    assert_eq!(e.must("mikrotik_probe_success", &[]), 0.0);
    assert_eq!(
        e.must("mikrotik_collector_success", &[("collector", "system")]),
        0.0
    );
    assert_eq!(
        e.must(
            "mikrotik_collector_success",
            &[("collector", "connectivity")]
        ),
        1.0,
        "{}",
        r.text()
    );
    assert_eq!(
        e.must("mikrotik_connection_status_up", &[("name", "api")]),
        1.0
    );
}

// ---------------------------------------------------------------------------
// Coalescing and limits.

fn uptime_line(body: &str) -> String {
    body.lines()
        .find(|l| l.starts_with("mikrotik_system_uptime_seconds"))
        .unwrap_or_else(|| panic!("no uptime in {body}"))
        .to_string()
}

#[tokio::test]
async fn identical_concurrent_probes_share_one_collection() {
    let h = harness().await;
    // Warm the session so only the command counts differ.
    probe(h.addr, "target=r7&module=sys").await;
    let base = command_count(&h.v7, RESOURCE_PRINT);
    h.v7.set_faults(Faults {
        latency_ms: 2_000,
        ..Faults::default()
    });
    let addr = h.addr;
    let first = tokio::spawn(async move { get(addr, "/probe?target=r7&module=sys").await });
    // The first collection is in flight once the router has the command.
    wait_for_command(&h.v7, RESOURCE_PRINT, base + 1).await;
    // Same module set, spelled differently: still the same probe.
    let second =
        tokio::spawn(async move { get(addr, "/probe?target=r7&module=sys&module=sys").await });
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    assert_eq!((first.status, second.status), (200, 200));
    assert_eq!(uptime_line(&first.text()), uptime_line(&second.text()));
    assert_eq!(
        command_count(&h.v7, RESOURCE_PRINT),
        base + 1,
        "two probes, one collection"
    );
    let metrics = get(h.addr, "/metrics").await.text();
    assert!(
        metrics.contains("routeros_exporter_probes_coalesced_total 1\n"),
        "{metrics}"
    );

    // A different module set is its own collection.
    let first = tokio::spawn(async move { get(addr, "/probe?target=r7&module=sys").await });
    wait_for_command(&h.v7, RESOURCE_PRINT, base + 2).await;
    let other = tokio::spawn(async move { get(addr, "/probe?target=r7&module=sys,wg").await });
    let (first, other) = (first.await.unwrap(), other.await.unwrap());
    assert_eq!((first.status, other.status), (200, 200));
    assert_eq!(command_count(&h.v7, RESOURCE_PRINT), base + 3);
    // So is another target.
    assert_eq!(command_count(&h.v6, RESOURCE_PRINT), 0);
}

#[tokio::test]
async fn the_global_limit_sheds_with_503() {
    let h = harness_with("  limits: {max_concurrent_probes: 1}").await;
    probe(h.addr, "target=r7&module=sys").await;
    let base = command_count(&h.v7, RESOURCE_PRINT);
    h.v7.set_faults(Faults {
        latency_ms: 2_000,
        ..Faults::default()
    });
    let addr = h.addr;
    let slow = tokio::spawn(async move { get(addr, "/probe?target=r7&module=sys").await });
    wait_for_command(&h.v7, RESOURCE_PRINT, base + 1).await;
    let r = get(h.addr, "/probe?target=r6&module=sys").await;
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(
        r.text().contains("too many concurrent probes (1)"),
        "{}",
        r.text()
    );
    assert_eq!(slow.await.unwrap().status, 200);
    // The permit is back.
    h.v7.set_faults(Faults::default());
    probe(h.addr, "target=r6&module=sys").await;
    let metrics = get(h.addr, "/metrics").await.text();
    assert!(
        metrics.contains("routeros_exporter_probes_shed_total 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_reload_applies_a_new_global_limit() {
    let h = harness().await;
    let text = config_text(
        h.v7.addr(),
        h.v6.addr(),
        "  limits: {max_concurrent_probes: 1}",
    );
    std::fs::write(&h.path, text).unwrap();
    assert_eq!(post(h.addr, "/-/reload").await.status, 200);
    probe(h.addr, "target=r7&module=sys").await;
    let base = command_count(&h.v7, RESOURCE_PRINT);
    h.v7.set_faults(Faults {
        latency_ms: 2_000,
        ..Faults::default()
    });
    let addr = h.addr;
    let slow = tokio::spawn(async move { get(addr, "/probe?target=r7&module=sys").await });
    wait_for_command(&h.v7, RESOURCE_PRINT, base + 1).await;
    let r = get(h.addr, "/probe?target=r6&module=sys").await;
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.text().contains("(1)"), "{}", r.text());
    assert_eq!(slow.await.unwrap().status, 200);
}

// ---------------------------------------------------------------------------
// Per-target state.

#[tokio::test]
async fn scrape_counters_and_reboot_resets() {
    let h = harness().await;
    let e = parse_exposition(&probe(h.addr, "target=r7&module=sys").await, false);
    assert_eq!(e.must("mikrotik_scrape_success_total", &[]), 1.0);
    assert_eq!(e.must("mikrotik_scrape_errors_total", &[]), 0.0);
    assert!(e.all("mikrotik_target_gap_seconds").is_empty());
    let e = parse_exposition(&probe(h.addr, "target=r7&module=sys").await, false);
    assert_eq!(e.must("mikrotik_scrape_success_total", &[]), 2.0);
    assert!(e.must("mikrotik_target_gap_seconds", &[]) >= 0.0);
    assert_eq!(
        e.must("mikrotik_target_resets_total", &[("reason", "reboot")]),
        0.0
    );
    assert_eq!(e.must("mikrotik_connection_pool_size", &[]), 1.0);

    h.v7.reboot();
    // The pooled session died with the reboot; the exporter logs in again
    // (within one or two probes) and sees the uptime go backwards.
    let mut probes = 3.0;
    let mut e = parse_exposition(&probe(h.addr, "target=r7&module=sys").await, false);
    if e.must("mikrotik_probe_success", &[]) == 0.0 {
        probes += 1.0;
        e = parse_exposition(&probe(h.addr, "target=r7&module=sys").await, false);
    }
    assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);
    assert_eq!(
        e.must("mikrotik_target_resets_total", &[("reason", "reboot")]),
        1.0
    );
    assert!(
        e.value(
            "mikrotik_target_last_reset_timestamp_seconds",
            &[("reason", "reboot")]
        )
        .is_some()
    );
    let successes = e.must("mikrotik_scrape_success_total", &[]);
    let errors = e.must("mikrotik_scrape_errors_total", &[]);
    assert_eq!(successes + errors, probes);

    // Errors count, consecutively.
    h.v7.set_faults(Faults {
        auth_failure: true,
        ..Faults::default()
    });
    h.v7.reboot();
    for _ in 0..2 {
        probe(h.addr, "target=r7&module=sys").await;
    }
    let e = parse_exposition(&probe(h.addr, "target=r7&module=sys").await, false);
    assert_eq!(e.must("mikrotik_scrape_errors_total", &[]), errors + 3.0);
    assert_eq!(e.must("mikrotik_connection_consecutive_errors", &[]), 3.0);
    assert_eq!(e.must("mikrotik_scrape_success_total", &[]), successes);

    // /health shows the state.
    let health = get(h.addr, "/health?target=r7").await;
    assert_eq!(health.status, 503);
    let json: serde_json::Value = serde_json::from_slice(&health.body).unwrap();
    let r7 = &json["targets"]["r7"];
    assert_eq!(r7["status"], "degraded");
    assert_eq!(r7["consecutive_errors"], 3);
    assert_eq!(r7["resets"]["reboot"], 1);
    assert_eq!(r7["last_reset"]["reason"], "reboot");
}

#[tokio::test]
async fn a_gap_over_the_threshold_is_a_baseline_reset() {
    let h = harness_with("  gap_reset_threshold: 1s").await;
    probe(h.addr, "target=r7&module=sys").await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let e = parse_exposition(&probe(h.addr, "target=r7&module=sys").await, false);
    assert!(e.must("mikrotik_target_gap_seconds", &[]) > 1.0);
    assert_eq!(
        e.must("mikrotik_target_resets_total", &[("reason", "gap")]),
        1.0
    );
    assert_eq!(
        e.must("mikrotik_target_resets_total", &[("reason", "reboot")]),
        0.0
    );
}

// ---------------------------------------------------------------------------
// /health.

#[tokio::test]
async fn health_is_200_only_when_every_target_is_healthy() {
    let h = harness().await;
    let r = get(h.addr, "/health").await;
    assert_eq!(r.status, 503, "never probed");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let json: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(json["targets"]["r7"]["status"], "unknown");
    assert_eq!(get(h.addr, "/health?target=nope").await.status, 404);
    assert_eq!(get(h.addr, "/health?bogus=1").await.status, 400);
    assert_eq!(get(h.addr, "/health?target=%zz").await.status, 400);
    assert_eq!(
        get(h.addr, "/health?target=r7&target=nope").await.status,
        400,
        "ambiguous, not the last one silently"
    );

    probe(h.addr, "target=r7&module=sys").await;
    assert_eq!(get(h.addr, "/health?target=r7").await.status, 200);
    assert_eq!(get(h.addr, "/health?target=r6").await.status, 503);
    let r = get(h.addr, "/health").await;
    assert_eq!(r.status, 503);
    assert!(r.text().contains("not healthy: r6"), "{}", r.text());

    probe(h.addr, "target=r6&module=sys").await;
    let r = get(h.addr, "/health").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let json: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(json["status"], "healthy");
    assert_eq!(json["targets"]["r6"]["success_total"], 1);
    // One failure is not yet degraded (threshold 3).
    h.v6.set_faults(Faults {
        refuse: true,
        ..Faults::default()
    });
    h.v6.reboot();
    probe(h.addr, "target=r6&module=sys").await;
    assert_eq!(get(h.addr, "/health").await.status, 200);
}

#[tokio::test]
async fn health_with_no_targets_is_503() {
    let path = temp_dir("empty").join("empty.yml");
    std::fs::write(&path, "targets: {}\n").unwrap();
    let app = App::new(load(&path), ProberOptions::default());
    let addr = serve(app).await;
    let r = get(addr, "/health").await;
    assert_eq!(r.status, 503);
    assert!(r.text().contains("no targets configured"), "{}", r.text());
    assert_eq!(get(addr, "/-/healthy").await.status, 200);
    assert_eq!(get(addr, "/probe?target=r7").await.status, 404);
}

// ---------------------------------------------------------------------------
// /config, /metrics, secrets.

#[tokio::test]
async fn config_shows_secret_placeholders_only() {
    let h = harness().await;
    let r = get(h.addr, "/config").await;
    assert_eq!(r.status, 200);
    let text = r.text();
    assert!(text.contains("password: <secret>"), "{text}");
    assert!(text.contains(&h.v7.addr().to_string()), "{text}");
    assert!(text.contains("r6:") && text.contains("r7:"), "{text}");
    // Self metrics are OpenMetrics and name no secret either.
    probe(h.addr, "target=r7&module=sys").await;
    let r = get(h.addr, "/metrics").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some(OPENMETRICS));
    parse_exposition(&r.text(), true);
    assert!(
        r.text().contains("routeros_exporter_probes_total{"),
        "{}",
        r.text()
    );
}

// ---------------------------------------------------------------------------
// Reload.

#[tokio::test]
async fn reload_applies_a_valid_file_and_keeps_the_old_one_on_error() {
    let h = harness().await;
    probe(h.addr, "target=r7&module=sys").await;
    probe(h.addr, "target=r6&module=sys").await;
    let logins = (h.v7.stats().logins_ok, h.v6.stats().logins_ok);
    assert_eq!(logins, (1, 1));

    // r7 moves to another auth (same credentials), r6 stays, r9 appears.
    let text = config_text(h.v7.addr(), h.v6.addr(), "  default_timeout: 10s")
        .replace(
            "  r7:\n    address",
            &format!(
                "  r9:\n    address: \"{}\"\n    auth: main\n  r7:\n    address",
                h.v6.addr()
            ),
        )
        .replacen("auth: main\n    labels", "auth: other\n    labels", 1);
    std::fs::write(&h.path, text).unwrap();
    let r = post(h.addr, "/-/reload").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let config = get(h.addr, "/config").await.text();
    assert!(config.contains("r9:"), "{config}");
    assert!(config.contains("auth: other"), "{config}");
    probe(h.addr, "target=r7&module=sys").await;
    probe(h.addr, "target=r6&module=sys").await;
    assert_eq!(
        h.v7.stats().logins_ok,
        logins.0 + 1,
        "the changed target logged in again"
    );
    let e = parse_exposition(&probe(h.addr, "target=r9&module=sys").await, false);
    assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);

    // An invalid file: 500 with the file, line and field; the old config stays.
    std::fs::write(
        &h.path,
        format!(
            "auths:\n  main:\n    username: admin\n    password: \"{PASSWORD}\"\ntargets:\n  r7:\n    adress: 127.0.0.1\n    auth: main\n"
        ),
    )
    .unwrap();
    let r = post(h.addr, "/-/reload").await;
    assert_eq!(r.status, 500);
    let text = r.text();
    assert!(text.contains("previous configuration kept"), "{text}");
    assert!(text.contains(&h.path.display().to_string()), "{text}");
    assert!(text.contains("line 7"), "{text}");
    assert!(text.contains("targets.r7.adress"), "{text}");
    let metrics = get(h.addr, "/metrics").await.text();
    assert!(
        metrics.contains("routeros_exporter_config_last_reload_successful 0"),
        "{metrics}"
    );
    let e = parse_exposition(&probe(h.addr, "target=r9&module=sys").await, false);
    assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);
    assert!(get(h.addr, "/config").await.text().contains("r9:"));

    // A missing file is a failed reload too.
    std::fs::remove_file(&h.path).unwrap();
    let r = post(h.addr, "/-/reload").await;
    assert_eq!(r.status, 500);
    assert!(r.text().contains("cannot read config file"), "{}", r.text());

    // Removing a target drops it: 404, and its state is gone.
    std::fs::write(
        &h.path,
        config_text(h.v7.addr(), h.v6.addr(), "  default_timeout: 10s"),
    )
    .unwrap();
    assert_eq!(post(h.addr, "/-/reload").await.status, 200);
    assert_eq!(get(h.addr, "/probe?target=r9").await.status, 404);
    assert_eq!(get(h.addr, "/health?target=r9").await.status, 404);
    let metrics = get(h.addr, "/metrics").await.text();
    assert!(
        metrics.contains("routeros_exporter_config_last_reload_successful 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn reload_drops_the_session_when_the_address_changes() {
    let h = harness().await;
    probe(h.addr, "target=r7&module=sys").await;
    assert_eq!(h.v6.stats().logins_ok, 0);
    // r7 now points at the v6 router.
    let text = config_text(h.v6.addr(), h.v6.addr(), "  default_timeout: 10s");
    std::fs::write(&h.path, text).unwrap();
    assert_eq!(post(h.addr, "/-/reload").await.status, 200);
    let e = parse_exposition(&probe(h.addr, "target=r7&module=sys").await, false);
    assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);
    assert_eq!(h.v6.stats().logins_ok, 1);
    assert_eq!(e.must("mikrotik_system_info", &[]), 1.0);
    // The old session to the v7 router was closed.
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while h.v7.stats().connections_open > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(closed.is_ok(), "old session still open");
}

#[tokio::test]
async fn env_config_cannot_be_reloaded_but_probes() {
    let sim = Simulator::start(SimConfig {
        routers: vec![router_config(RouterConfig::v7("env"))],
    })
    .await
    .unwrap();
    let router = sim.routers()[0].clone();
    let json = format!(
        r#"[{{"name":"r1","address":"{}","username":"admin","password":"{PASSWORD}"}}]"#,
        router.addr()
    );
    let vars = move |name: &str| match name {
        "ROUTERS_CONFIG" => Some(json.clone()),
        "COLLECTION_INTERVAL_SECONDS" => Some("30".to_string()),
        _ => None,
    };
    let (config, warnings) = config::from_env(&vars, &group_names());
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0]
            .to_string()
            .contains("COLLECTION_INTERVAL_SECONDS is ignored")
    );
    let app = App::new(config, ProberOptions::default());
    let addr = serve(app).await;
    let e = parse_exposition(&probe(addr, "target=r1&module=full").await, false);
    assert_eq!(e.must("mikrotik_probe_success", &[]), 1.0);
    let r = post(addr, "/-/reload").await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("nothing to reload"), "{}", r.text());
    assert!(get(addr, "/config").await.text().contains("source: env"));
}
