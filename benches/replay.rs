//! The replay ratio (issue 11): a `full` probe as Prometheus sees it against
//! the floor of the same router work, in one run. Run with
//! `cargo bench --bench replay` (`-- --large-only`, `--rounds N`,
//! `--growth-probes N`, `--no-growth`).
//!
//! Two simulated RouterOS 7 routers, `default` (the simulator's default scale)
//! and `large` (500 interfaces, 5,000 firewall rules per table, 50,000
//! connections, 200 WireGuard peers), run in a child process (this binary
//! re-executed) so that their CPU and memory are their own; the exporter binary
//! runs as another child with a config file, as in production. Per router:
//!
//! * warm-up (5 probes: the session is pooled, detection and caches are done);
//! * the simulator captures the request sentences of one probe
//!   (`/routers/{name}/capture`); those commands, with the `.tag`s the exporter
//!   gave them, are the replay;
//! * N alternating rounds of one probe, an HTTP GET `/probe` with the headers
//!   Prometheus sends (OpenMetrics `Accept`, `Accept-Encoding: gzip`), timed from
//!   the request to the last body byte; and one replay: the captured sentences in
//!   one write on a raw, logged-in TCP_NODELAY session, timed until the `!done`
//!   of every tag has arrived (the replay decodes nothing but the sentence
//!   framing, so it is what the router work costs any client).
//!
//! Then the exporter's RSS after 10 and after `--growth-probes` large probes,
//! and the renderer alone on each router's snapshot (in this process).
//! Everything is printed as Markdown for BENCHMARKS.md.

use flate2::read::GzDecoder;
use routeros::codec::{decode_length, encode_sentence};
use routeros_exporter::collect::{self, family::Family};
use routeros_exporter::config;
use routeros_exporter::probe::render::{self, Format};
use routeros_exporter::probe::{ProbeRequest, Prober, ProberOptions};
use routeros_sim::menus::Scale;
use routeros_sim::{RouterConfig, SimConfig, Simulator};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// First argument of the child process that runs the simulator.
const SIMULATOR_ARG: &str = "--simulator";
/// The routers' API password (a password is set, as on a real router).
const PASSWORD: &str = "bench";
/// What Prometheus 2.x/3.x sends.
const ACCEPT: &str = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
/// Probes before anything is measured.
const WARMUP_PROBES: usize = 5;
/// Large probes after which the baseline RSS is read.
const GROWTH_BASELINE: usize = 10;
/// Runs of each renderer measurement (the median is reported).
const RENDER_RUNS: usize = 11;

/// One simulated router of the bench.
struct RouterSpec {
    name: &'static str,
    description: &'static str,
    scale: fn() -> Scale,
    default_rounds: usize,
}

const ROUTERS: [RouterSpec; 2] = [
    RouterSpec {
        name: "default",
        description: "the simulator's default scale",
        scale: Scale::default,
        default_rounds: 30,
    },
    RouterSpec {
        name: "large",
        description: "500 interfaces, 5,000 firewall rules per table, 50,000 connections, \
                      200 WireGuard peers",
        scale: large_scale,
        default_rounds: 15,
    },
];

fn large_scale() -> Scale {
    Scale {
        interfaces: 500,
        firewall_rules: 5000,
        conntrack: 50_000,
        wireguard_peers: 200,
        ..Scale::default()
    }
}

// ---------------------------------------------------------------- arguments

/// The bench's flags (Cargo adds `--bench`, which is ignored).
struct Args {
    large_only: bool,
    rounds: Option<usize>,
    growth_probes: usize,
    growth: bool,
    /// The command line to print: `cargo bench --bench replay` and the flags.
    command: String,
}

fn parse_args(args: &[String]) -> Args {
    let mut parsed = Args {
        large_only: false,
        rounds: None,
        growth_probes: 1000,
        growth: true,
        command: String::new(),
    };
    let mut shown = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let mut number = |flag: &str| -> usize {
            let value = iter.next().and_then(|v| v.parse().ok());
            let value = value.unwrap_or_else(|| panic!("{flag} needs a number"));
            shown.push(format!("{flag} {value}"));
            value
        };
        match arg.as_str() {
            "--bench" => {}
            "--large-only" => {
                parsed.large_only = true;
                shown.push(arg.clone());
            }
            "--no-growth" => {
                parsed.growth = false;
                shown.push(arg.clone());
            }
            "--rounds" => parsed.rounds = Some(number("--rounds").max(1)),
            "--growth-probes" => parsed.growth_probes = number("--growth-probes"),
            other => panic!(
                "unknown argument {other:?}: --large-only, --rounds N, --growth-probes N, --no-growth"
            ),
        }
    }
    assert!(
        !parsed.growth || parsed.growth_probes > GROWTH_BASELINE,
        "--growth-probes must be over {GROWTH_BASELINE}"
    );
    parsed.command = if shown.is_empty() {
        "cargo bench --bench replay".to_string()
    } else {
        format!("cargo bench --bench replay -- {}", shown.join(" "))
    };
    parsed
}

// ---------------------------------------------------------------- child processes

/// A child process, killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Killed {
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

/// Where the simulator child listens.
struct SimAddrs {
    api: Vec<SocketAddr>,
    control: SocketAddr,
}

fn start_simulator() -> (Killed, SimAddrs) {
    let exe = std::env::current_exe().expect("bench executable path");
    let mut child = Process::new(exe)
        .arg(SIMULATOR_ARG)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("simulator child starts");
    let stdout = child.stdout.take().expect("stdout");
    let child = Killed(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("address line");
    let addrs: Vec<SocketAddr> = line
        .split_whitespace()
        .map(|a| a.parse().expect("the child prints socket addresses"))
        .collect();
    let (control, api) = addrs.split_last().expect("API and control addresses");
    let addrs = SimAddrs {
        api: api.to_vec(),
        control: *control,
    };
    (child, addrs)
}

/// The child: the routers of [`ROUTERS`] (RouterOS 7, up for 3 days, password
/// set) and the control endpoint; prints their addresses, then serves until
/// killed.
fn run_simulator() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let routers = ROUTERS
            .iter()
            .map(|spec| {
                let mut router = RouterConfig::v7(spec.name);
                router.password = PASSWORD.to_string();
                router.initial_uptime = Duration::from_secs(3 * 86_400);
                router.scale = (spec.scale)();
                router
            })
            .collect();
        let sim = Simulator::start(SimConfig { routers })
            .await
            .expect("simulator starts");
        let control = sim
            .serve_control(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("control endpoint");
        let api: Vec<String> = sim.routers().iter().map(|r| r.addr().to_string()).collect();
        println!("{} {control}", api.join(" "));
        std::future::pending::<()>().await;
    });
}

/// The exporter's config file: one target per router, logging in with
/// [`PASSWORD`].
fn write_config(dir: &Path, addrs: &SimAddrs) -> PathBuf {
    let mut yaml =
        format!("auths:\n  sim:\n    username: admin\n    password: {PASSWORD}\ntargets:\n");
    for (spec, addr) in ROUTERS.iter().zip(&addrs.api) {
        yaml += &format!("  {}:\n    address: {addr}\n    auth: sim\n", spec.name);
    }
    let path = dir.join("config.yml");
    std::fs::write(&path, yaml).expect("config file written");
    path
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local address").port()
}

/// The exporter binary of this package, with `config`; returns it and its base URL
/// once `/-/ready` answers 200.
async fn start_exporter(client: &reqwest::Client, config: &Path) -> (Killed, String) {
    let port = free_port();
    let child = Process::new(env!("CARGO_BIN_EXE_routeros-exporter"))
        .arg("--config.file")
        .arg(config)
        .args(["--web.listen-address", &format!("127.0.0.1:{port}")])
        .args(["--log.level", "warn"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("exporter starts");
    let child = Killed(child);
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let ready = client.get(format!("{base}/-/ready")).send().await;
        if ready.is_ok_and(|r| r.status() == 200) {
            return (child, base);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the exporter did not become ready");
}

// ---------------------------------------------------------------- /proc

/// CPU time (user + system, all threads, exited ones included) of process
/// `pid`, in seconds: the quantity of utime+stime in `/proc/PID/stat`, read
/// from the process CPU clock with nanosecond resolution rather than 10 ms
/// ticks, which would swamp a 1 ms probe.
fn cpu_seconds(pid: u32) -> f64 {
    let mut clock: libc::clockid_t = 0;
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: both pointers are to live locals of the right types.
    let ok = unsafe {
        libc::clock_getcpuclockid(pid as libc::pid_t, &mut clock) == 0
            && libc::clock_gettime(clock, &mut ts) == 0
    };
    if ok {
        return ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9;
    }
    stat_cpu_seconds(pid)
}

/// utime+stime from `/proc/PID/stat` (tick resolution), where the process CPU
/// clock is not available.
fn stat_cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("stat format")
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1);
    ticks as f64 / hz as f64
}

/// A `kB` field of `/proc/PID/status` (`VmHWM`, `VmRSS`), in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("status field")
}

// ---------------------------------------------------------------- HTTP

/// What one probe returned.
#[derive(Debug, Clone, Copy, Default)]
struct Probed {
    /// Seconds from sending the request to the last body byte.
    wall: f64,
    series: usize,
    gzip_bytes: usize,
    plain_bytes: usize,
}

/// One probe as Prometheus sends it. The client does not decompress, so the
/// time ends with the last compressed byte, as Prometheus' read does; the body
/// is checked afterwards.
async fn http_probe(client: &reqwest::Client, base: &str, target: &str) -> Probed {
    let url = format!("{base}/probe?target={target}&module=full");
    let start = Instant::now();
    let response = client
        .get(&url)
        .header("Accept", ACCEPT)
        .header("Accept-Encoding", "gzip")
        .header("X-Prometheus-Scrape-Timeout-Seconds", "20")
        .send()
        .await
        .expect("probe request");
    let status = response.status();
    let encoding = response.headers().get("content-encoding").cloned();
    let body = response.bytes().await.expect("probe body");
    let wall = start.elapsed().as_secs_f64();
    assert_eq!(status, 200, "{url}");
    assert_eq!(
        encoding.as_ref().map(|v| v.as_bytes()),
        Some(&b"gzip"[..]),
        "{url}: the body is not gzip"
    );
    let mut text = String::new();
    GzDecoder::new(&body[..])
        .read_to_string(&mut text)
        .expect("a gzip body of UTF-8");
    assert!(
        text.contains("mikrotik_probe_success 1"),
        "{url}: the probe failed"
    );
    let series = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count();
    Probed {
        wall,
        series,
        gzip_bytes: body.len(),
        plain_bytes: text.len(),
    }
}

/// A control-endpoint request to the simulator; returns the body.
async fn control(client: &reqwest::Client, method: reqwest::Method, url: String) -> Vec<u8> {
    let response = client
        .request(method, &url)
        .send()
        .await
        .expect("control request");
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.bytes().await.expect("control body").to_vec()
}

// ---------------------------------------------------------------- RouterOS framing

/// One sentence at the start of a buffer, decoded no further than its framing.
struct SentenceView<'a> {
    /// Wire bytes of the sentence, terminator included.
    len: usize,
    /// Its first word (empty for an empty sentence).
    first: &'a [u8],
    /// The value of its `.tag=` word.
    tag: Option<&'a [u8]>,
}

/// The complete sentence at the start of `buf`, or `None` while it is
/// incomplete.
fn next_sentence(buf: &[u8]) -> Option<SentenceView<'_>> {
    let mut pos = 0;
    let mut first: Option<&[u8]> = None;
    let mut tag = None;
    loop {
        let (len, prefix) = decode_length(&buf[pos..]).expect("valid framing")?;
        let start = pos + prefix;
        let word = buf.get(start..start + len as usize)?;
        pos = start + word.len();
        if word.is_empty() {
            let first = first.unwrap_or_default();
            return Some(SentenceView {
                len: pos,
                first,
                tag,
            });
        }
        match first {
            None => first = Some(word),
            Some(_) => tag = word.strip_prefix(b".tag=").or(tag),
        }
    }
}

/// The commands of one captured probe, ready to replay.
struct Replay {
    /// Their wire bytes, back to back.
    payload: Vec<u8>,
    /// Their `.tag`s (all distinct).
    tags: BTreeSet<Vec<u8>>,
    /// First words of captured sentences that are not replayed.
    left_out: Vec<String>,
}

/// The replayable part of a capture: tagged commands, without `/login` (the
/// replay session logs in beforehand) and session control.
fn replay_of(captured: &[u8]) -> Replay {
    let mut replay = Replay {
        payload: Vec::with_capacity(captured.len()),
        tags: BTreeSet::new(),
        left_out: Vec::new(),
    };
    let mut rest = captured;
    while !rest.is_empty() {
        let s = next_sentence(rest).expect("a capture holds whole sentences");
        let command =
            s.first.starts_with(b"/") && !matches!(s.first, b"/login" | b"/cancel" | b"/quit");
        match s.tag {
            Some(tag) if command => {
                assert!(replay.tags.insert(tag.to_vec()), "tags are distinct");
                replay.payload.extend_from_slice(&rest[..s.len]);
            }
            _ if s.first.is_empty() => {}
            _ => replay
                .left_out
                .push(String::from_utf8_lossy(s.first).into_owned()),
        }
        rest = &rest[s.len..];
    }
    assert!(
        !replay.tags.is_empty(),
        "the capture holds the probe's commands"
    );
    replay
}

/// A raw API session: writes bytes, reads replies only as far as framing.
struct RawSession {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// Spare room the read buffer keeps before each read.
const READ_ROOM: usize = 64 << 10;

impl RawSession {
    /// A TCP_NODELAY session logged in with a plain `/login`.
    async fn login(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("API connection");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        let mut session = RawSession {
            stream,
            buf: Vec::with_capacity(4 * READ_ROOM),
        };
        let mut login = Vec::new();
        let password = format!("=password={PASSWORD}");
        encode_sentence(["/login", "=name=admin", password.as_str()], &mut login)
            .expect("encodable");
        session.stream.write_all(&login).await.expect("write");
        session.read_dones(1, None).await;
        session
    }

    /// Reads until `expected` `!done` sentences have arrived (each command ends
    /// with exactly one); returns the bytes read. `tags` collects their tags.
    async fn read_dones(
        &mut self,
        expected: usize,
        mut tags: Option<&mut BTreeSet<Vec<u8>>>,
    ) -> usize {
        let (mut done, mut total) = (0, 0);
        while done < expected {
            if self.buf.capacity() - self.buf.len() < READ_ROOM {
                self.buf.reserve(4 * READ_ROOM);
            }
            let n = self.stream.read_buf(&mut self.buf).await.expect("read");
            assert!(n > 0, "the router closed the session");
            total += n;
            let mut pos = 0;
            while let Some(s) = next_sentence(&self.buf[pos..]) {
                assert!(s.first != b"!fatal", "the router sent !fatal");
                if s.first == b"!done" {
                    done += 1;
                    if let Some(tags) = tags.as_deref_mut() {
                        tags.insert(s.tag.unwrap_or_default().to_vec());
                    }
                }
                pos += s.len;
            }
            self.buf.drain(..pos);
        }
        assert!(self.buf.is_empty(), "nothing follows the last !done");
        total
    }

    /// Sends `replay` in one write; returns the seconds until the last `!done`
    /// and the bytes read.
    async fn replay(&mut self, replay: &Replay) -> (f64, usize) {
        let start = Instant::now();
        self.stream.write_all(&replay.payload).await.expect("write");
        let bytes = self.read_dones(replay.tags.len(), None).await;
        (start.elapsed().as_secs_f64(), bytes)
    }
}

// ---------------------------------------------------------------- measurement

/// The processes under measurement and the HTTP client that drives them.
struct Bench {
    client: reqwest::Client,
    base: String,
    exporter: Killed,
    sim: Killed,
    control: SocketAddr,
    /// Probes of the large router so far, and the exporter's RSS (KiB) after the
    /// [`GROWTH_BASELINE`]th.
    large_probes: usize,
    baseline_rss_kib: Option<u64>,
}

impl Bench {
    async fn probe(&mut self, target: &str) -> Probed {
        let probed = http_probe(&self.client, &self.base, target).await;
        if target == "large" {
            self.large_probes += 1;
            if self.large_probes == GROWTH_BASELINE {
                self.baseline_rss_kib = Some(status_kib(self.exporter.pid(), "VmRSS"));
            }
        }
        probed
    }

    /// The router's commands (`/login` left out) and bytes sent so far.
    async fn router_totals(&self, router: &str) -> (u64, u64) {
        let url = format!("http://{}/routers/{router}/stats", self.control);
        let body = control(&self.client, reqwest::Method::GET, url).await;
        let stats: routeros_sim::Stats = serde_json::from_slice(&body).expect("stats JSON");
        let commands = stats
            .commands
            .iter()
            .filter(|(command, _)| *command != "/login")
            .map(|(_, n)| n)
            .sum();
        (commands, stats.bytes_sent)
    }

    /// The request sentences the router receives during one probe.
    async fn capture_probe(&mut self, router: &str) -> Vec<u8> {
        let url = format!("http://{}/routers/{router}/capture", self.control);
        control(&self.client, reqwest::Method::POST, url.clone()).await;
        self.probe(router).await;
        control(&self.client, reqwest::Method::DELETE, url).await
    }

    fn cpu(&self) -> (f64, f64) {
        (
            cpu_seconds(self.exporter.pid()),
            cpu_seconds(self.sim.pid()),
        )
    }
}

/// Everything measured on one router.
#[derive(Default)]
struct RouterRun {
    name: &'static str,
    description: &'static str,
    probe_wall: Vec<f64>,
    replay_wall: Vec<f64>,
    /// CPU seconds summed over the probes (exporter, simulator) and over the
    /// replays (simulator).
    exporter_cpu: f64,
    sim_cpu: f64,
    sim_cpu_replay: f64,
    commands: Vec<f64>,
    bytes_sent: Vec<f64>,
    replay_bytes: Vec<f64>,
    replayed: usize,
    left_out: Vec<String>,
    last: Probed,
    peak_rss_kib: u64,
}

impl RouterRun {
    fn rounds(&self) -> f64 {
        self.probe_wall.len() as f64
    }
}

async fn measure_router(
    bench: &mut Bench,
    spec: &RouterSpec,
    addr: SocketAddr,
    rounds: usize,
) -> RouterRun {
    eprintln!("{}: warm-up, capture, {rounds} rounds", spec.name);
    for _ in 0..WARMUP_PROBES {
        bench.probe(spec.name).await;
    }
    let replay = replay_of(&bench.capture_probe(spec.name).await);
    let mut session = RawSession::login(addr).await;
    // One untimed replay checks that every command came back with its own tag.
    let mut seen = BTreeSet::new();
    session
        .stream
        .write_all(&replay.payload)
        .await
        .expect("write");
    session.read_dones(replay.tags.len(), Some(&mut seen)).await;
    assert_eq!(seen, replay.tags, "one !done per replayed tag");
    let mut run = RouterRun {
        name: spec.name,
        description: spec.description,
        replayed: replay.tags.len(),
        left_out: replay.left_out.clone(),
        ..RouterRun::default()
    };
    for _ in 0..rounds {
        measure_round(bench, &mut session, &replay, &mut run).await;
    }
    run.peak_rss_kib = status_kib(bench.exporter.pid(), "VmHWM");
    run
}

/// One probe, then one replay, each with its own CPU and router counters.
async fn measure_round(
    bench: &mut Bench,
    session: &mut RawSession,
    replay: &Replay,
    run: &mut RouterRun,
) {
    let (commands0, bytes0) = bench.router_totals(run.name).await;
    let (exporter0, sim0) = bench.cpu();
    let probed = bench.probe(run.name).await;
    let (exporter1, sim1) = bench.cpu();
    let (commands1, bytes1) = bench.router_totals(run.name).await;
    run.probe_wall.push(probed.wall);
    run.exporter_cpu += exporter1 - exporter0;
    run.sim_cpu += sim1 - sim0;
    run.commands.push((commands1 - commands0) as f64);
    run.bytes_sent.push((bytes1 - bytes0) as f64);
    run.last = probed;

    let sim0 = cpu_seconds(bench.sim.pid());
    let (wall, bytes) = session.replay(replay).await;
    run.sim_cpu_replay += cpu_seconds(bench.sim.pid()) - sim0;
    run.replay_wall.push(wall);
    run.replay_bytes.push(bytes as f64);
}

/// Large probes until `probes` in all; the exporter's RSS (KiB) after the
/// [`GROWTH_BASELINE`]th and after the last.
async fn measure_growth(bench: &mut Bench, probes: usize) -> (u64, u64) {
    eprintln!(
        "large: RSS growth, {} more probes",
        probes.saturating_sub(bench.large_probes)
    );
    while bench.large_probes < probes {
        bench.probe("large").await;
    }
    let baseline = bench
        .baseline_rss_kib
        .expect("RSS read after the baseline probes");
    (baseline, status_kib(bench.exporter.pid(), "VmRSS"))
}

// ---------------------------------------------------------------- renderer alone

/// The renderer timed on one snapshot.
struct RenderRow {
    router: &'static str,
    format: Format,
    gzip: bool,
    /// Median seconds per render (plus gzip).
    seconds: f64,
    plain_bytes: usize,
    gzip_bytes: usize,
}

/// A `full` probe of `router` in this process (its snapshot, not its text),
/// then the renderer timed on it in both formats, with and without gzip.
async fn render_alone(config_path: &Path, router: &'static str) -> Vec<RenderRow> {
    eprintln!("{router}: renderer alone");
    let config = config::load_file(config_path, &collect::group_names()).expect("config");
    let prober = std::sync::Arc::new(Prober::new(config, ProberOptions::default(), None));
    let request = ProbeRequest {
        target: router.into(),
        auth: None,
        modules: vec!["full".into()],
        scrape_timeout: Some(Duration::from_secs(20)),
        debug: false,
    };
    // The second probe: counters have a previous value, as in steady state.
    prober.probe(request.clone()).await.expect("probe");
    let output = prober.probe(request).await.expect("probe");
    assert!(output.collection.success, "{:?}", output.collection.error);
    let families: Vec<&Family> = output.families().collect();
    let mut rows = Vec::new();
    for format in [Format::Text, Format::OpenMetrics] {
        for gzip in [false, true] {
            let (seconds, plain_bytes, gzip_bytes) =
                time_render(&families, &output.extra_labels, format, gzip);
            rows.push(RenderRow {
                router,
                format,
                gzip,
                seconds,
                plain_bytes,
                gzip_bytes,
            });
        }
    }
    rows
}

/// Median seconds of [`RENDER_RUNS`] renders (`render::render_gzip` when
/// `gzip`: what the probe handler sends Prometheus), the text's size and the
/// gzip size.
fn time_render(
    families: &[&Family],
    extra: &[(String, String)],
    format: Format,
    gzip: bool,
) -> (f64, usize, usize) {
    let mut times = Vec::with_capacity(RENDER_RUNS);
    let plain = render::render(families.iter().copied(), extra, format).len();
    let mut compressed = 0;
    for _ in 0..RENDER_RUNS {
        let start = Instant::now();
        if gzip {
            let body = render::render_gzip(families.iter().copied(), extra, format);
            compressed = std::hint::black_box(body).len();
        } else {
            std::hint::black_box(render::render(families.iter().copied(), extra, format));
        }
        times.push(start.elapsed().as_secs_f64());
    }
    (percentile(&times, 50), plain, compressed)
}

// ---------------------------------------------------------------- report

/// The `p`th percentile (nearest rank) of `values`.
fn percentile(values: &[f64], p: usize) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn ms(seconds: f64) -> String {
    match seconds * 1e3 {
        v if v >= 100.0 => format!("{v:.0} ms"),
        v if v >= 10.0 => format!("{v:.1} ms"),
        v => format!("{v:.2} ms"),
    }
}

/// Bytes in kB/MB (powers of 1000), as the issue writes body sizes.
fn size(bytes: f64) -> String {
    match bytes {
        b if b >= 1e6 => format!("{:.2} MB", b / 1e6),
        b if b >= 1e3 => format!("{:.1} kB", b / 1e3),
        b => format!("{b:.0} B"),
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// `12345` as `12,345`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn print_ratio(runs: &[RouterRun]) {
    println!("## Probe vs replay of its own sentences\n");
    println!(
        "| router | probe wall p50 | probe wall p90 | replay wall p50 | **ratio** (probe p50 / replay p50) | \
         exporter CPU/probe | simulator CPU/probe | exporter peak RSS | commands/probe | \
         router bytes sent/probe | series | body gzip | body plain |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for run in runs {
        let (probe, replay) = (
            percentile(&run.probe_wall, 50),
            percentile(&run.replay_wall, 50),
        );
        println!(
            "| {} | {} | {} | {} | **{:.2}×** | {} | {} | {} | {:.0} | {} | {} | {} | {} |",
            run.name,
            ms(probe),
            ms(percentile(&run.probe_wall, 90)),
            ms(replay),
            probe / replay,
            ms(run.exporter_cpu / run.rounds()),
            ms(run.sim_cpu / run.rounds()),
            mib(run.peak_rss_kib),
            percentile(&run.commands, 50),
            size(percentile(&run.bytes_sent, 50)),
            thousands(run.last.series),
            size(run.last.gzip_bytes as f64),
            size(run.last.plain_bytes as f64),
        );
    }
    println!();
    for run in runs {
        println!("* **{}**: {}.", run.name, run.description);
    }
}

fn print_replay(runs: &[RouterRun]) {
    println!("\n## The replay\n");
    println!(
        "| router | commands replayed | replay wall p50 | replay wall p90 | bytes read/replay | \
         simulator CPU/replay | captured but not replayed |"
    );
    println!("|---|---|---|---|---|---|---|");
    for run in runs {
        let left_out = if run.left_out.is_empty() {
            "none".to_string()
        } else {
            run.left_out.join(", ")
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            run.name,
            run.replayed,
            ms(percentile(&run.replay_wall, 50)),
            ms(percentile(&run.replay_wall, 90)),
            size(percentile(&run.replay_bytes, 50)),
            ms(run.sim_cpu_replay / run.rounds()),
            left_out,
        );
    }
}

fn print_growth(growth: Option<(u64, u64)>, probes: usize) {
    let Some((baseline, last)) = growth else {
        return;
    };
    println!("\n## Exporter RSS on the large router\n");
    println!(
        "| RSS after {GROWTH_BASELINE} large probes | RSS after {} | growth |",
        thousands(probes)
    );
    println!("|---|---|---|");
    let growth = (last as f64 / baseline as f64 - 1.0) * 100.0;
    println!("| {} | {} | {growth:+.1}% |", mib(baseline), mib(last));
}

fn print_render(rows: &[RenderRow], runs: &[RouterRun]) {
    println!(
        "\n## Renderer alone (the snapshot of a `full` probe, in-process; median of {RENDER_RUNS})\n"
    );
    println!(
        "| router | format | gzip (level 1) | ms/render | MB/s of exposition | exposition | gzip |"
    );
    println!("|---|---|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {:.0} | {} | {} |",
            row.router,
            match row.format {
                Format::Text => "text 0.0.4",
                Format::OpenMetrics => "OpenMetrics",
            },
            if row.gzip { "on" } else { "off" },
            ms(row.seconds),
            row.plain_bytes as f64 / 1e6 / row.seconds,
            size(row.plain_bytes as f64),
            if row.gzip {
                size(row.gzip_bytes as f64)
            } else {
                "–".to_string()
            },
        );
    }
    println!();
    for run in runs {
        let row = rows
            .iter()
            .find(|r| r.router == run.name && r.format == Format::OpenMetrics && r.gzip);
        if let Some(row) = row {
            let cpu = run.exporter_cpu / run.rounds();
            println!(
                "* {}: rendering OpenMetrics + gzip takes {} of the exporter's {} CPU per probe ({:.0}%).",
                run.name,
                ms(row.seconds),
                ms(cpu),
                row.seconds / cpu * 100.0
            );
        }
    }
}

fn print_header(args: &Args, runs: &[RouterRun]) {
    println!("# Replay ratio\n");
    println!("```sh\n{}\n```\n", args.command);
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let rounds: Vec<String> = runs
        .iter()
        .map(|r| format!("{} {}", r.probe_wall.len(), r.name))
        .collect();
    println!(
        "One run on {cores} cores; RouterOS 7 simulator (up 3 days, password set) in a child \
         process, the exporter binary in another (config file, 127.0.0.1). After {WARMUP_PROBES} \
         warm-up probes per router, alternating rounds ({}) of one `full` probe as Prometheus \
         sends it (OpenMetrics `Accept`, `Accept-Encoding: gzip`; wall time from the request to \
         the last body byte) and one replay of the sentences that probe sent (captured by the \
         simulator; one write on a raw logged-in TCP_NODELAY session, until the last `!done`). \
         CPU is utime+stime of each process over the probes (or replays) only, per probe; \
         router figures are medians from the simulator's counters.\n",
        rounds.join(", ")
    );
}

async fn run(args: Args) {
    let (sim, addrs) = start_simulator();
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = write_config(dir.path(), &addrs);
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client");
    let (exporter, base) = start_exporter(&client, &config).await;
    let mut bench = Bench {
        client,
        base,
        exporter,
        sim,
        control: addrs.control,
        large_probes: 0,
        baseline_rss_kib: None,
    };
    let chosen: Vec<(&RouterSpec, SocketAddr)> = ROUTERS
        .iter()
        .zip(addrs.api.iter().copied())
        .filter(|(spec, _)| !args.large_only || spec.name == "large")
        .collect();
    let mut runs = Vec::new();
    for &(spec, addr) in &chosen {
        let rounds = args.rounds.unwrap_or(spec.default_rounds);
        runs.push(measure_router(&mut bench, spec, addr, rounds).await);
    }
    let growth = if args.growth {
        Some(measure_growth(&mut bench, args.growth_probes).await)
    } else {
        None
    };
    let mut renders = Vec::new();
    for &(spec, _) in &chosen {
        renders.extend(render_alone(&config, spec.name).await);
    }
    print_header(&args, &runs);
    print_ratio(&runs);
    print_replay(&runs);
    print_growth(growth, args.growth_probes);
    print_render(&renders, &runs);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(SIMULATOR_ARG) {
        return run_simulator();
    }
    let args = parse_args(&args);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(args));
}
