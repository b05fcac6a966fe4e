//! Whole-probe benchmarks (run with `cargo bench --bench probe`):
//!
//! 1. latency of a `full` probe (every group, rendered to text) of a RouterOS 7
//!    router with default-scale data, sequential probes on a kept session;
//! 2. a `conntrack` probe over a 200,000-row connection table: duration and the
//!    exporter's peak-memory growth, against buffering the same rows whole.
//!
//! The simulator runs in a separate process (this binary re-executed) so its
//! memory does not count against the exporter's.

use routeros::{Command, Endpoint, Pool, PoolConfig};
use routeros_exporter::collect;
use routeros_exporter::config::{self, Config};
use routeros_exporter::probe::render::{self, Format};
use routeros_exporter::probe::{ProbeRequest, Prober, ProberOptions};
use routeros_sim::menus::Scale;
use routeros_sim::{RouterConfig, SimConfig, Simulator};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command as Process, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The simulator, in a child process of its own so that its memory does not
/// count against the exporter's: this bench binary re-executed with
/// `--simulator CONNTRACK_ROWS` (the `routeros-sim` binary belongs to another
/// package, so Cargo does not build it for this bench).
struct Sim {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// First argument of the child process that runs the simulator.
const SIMULATOR_ARG: &str = "--simulator";

fn start_sim(conntrack_rows: usize) -> Sim {
    let exe = std::env::current_exe().expect("bench executable path");
    let mut child = Process::new(exe)
        .args([SIMULATOR_ARG, &conntrack_rows.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("simulator child starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("api address line");
    let addr = line
        .trim()
        .parse()
        .expect("the child prints its API address");
    Sim { child, addr }
}

/// The child: one RouterOS 7 router, up for 3 days, with `conntrack_rows`
/// connections; prints its API address, then serves until killed.
fn run_simulator(conntrack_rows: usize) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let mut router = RouterConfig::v7("r1");
        router.initial_uptime = Duration::from_secs(3 * 86_400);
        router.scale.conntrack = conntrack_rows;
        let sim = Simulator::start(SimConfig {
            routers: vec![router],
        })
        .await
        .expect("simulator starts");
        println!("{}", sim.routers()[0].addr());
        std::future::pending::<()>().await;
    });
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or_default()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn config_for(addr: SocketAddr) -> Config {
    config::demo(&[("bench".to_string(), addr)], &collect::group_names())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(SIMULATOR_ARG) {
        let rows = args.get(2).and_then(|n| n.parse().ok()).expect("row count");
        return run_simulator(rows);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let small = start_sim(Scale::default().conntrack);
        let prober = Arc::new(Prober::new(config_for(small.addr), ProberOptions::default(), None));
        let request = |module: &str| ProbeRequest {
            target: "bench".into(),
            auth: None,
            modules: vec![module.into()],
            scrape_timeout: Some(Duration::from_secs(10)),
            debug: false,
        };
        let mut samples = Vec::new();
        let mut lines = 0;
        for i in 0..220 {
            let start = Instant::now();
            let output = prober.probe(request("full")).await.expect("probe");
            assert!(output.collection.success, "{:?}", output.collection.error);
            let text = render::render(output.families(), &output.extra_labels, Format::Text);
            if i >= 20 {
                samples.push(start.elapsed().as_secs_f64() * 1e3);
            }
            lines = text.lines().count();
        }
        println!("## full probe, RouterOS 7 simulator, default scale ({lines} exposition lines)");
        println!(
            "200 sequential probes on a kept session: median {:.2} ms, p90 {:.2} ms",
            median(samples.clone()),
            {
                let mut s = samples.clone();
                s.sort_by(f64::total_cmp);
                s[s.len() * 9 / 10]
            }
        );
        drop(small);

        let big = start_sim(200_000);
        let endpoint = Endpoint {
            address: big.addr.to_string(),
            username: "admin".into(),
            password: String::new(),
            tls: None,
        };
        // Warm the simulator's row cache so its first-render cost is not measured.
        let pool = Pool::new(PoolConfig::default());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let session = pool.acquire(&endpoint, deadline).await.expect("session");
        let print = Command::new("/ip/firewall/connection/print").proplist(&["src-address", "protocol"]);
        session.done(&print, deadline).await.expect("warm-up");

        let prober = Arc::new(Prober::new(config_for(big.addr), ProberOptions::default(), None));
        let before = peak_rss_kib();
        let mut durations = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            let output = prober.probe(request("full")).await.expect("probe");
            assert!(output.collection.success, "{:?}", output.collection.error);
            durations.push(start.elapsed().as_secs_f64() * 1e3);
        }
        let streamed = peak_rss_kib().saturating_sub(before);

        let before = peak_rss_kib();
        let rows = session.rows(&print, deadline).await.expect("buffered print");
        let buffered = peak_rss_kib().saturating_sub(before);
        assert_eq!(rows.len(), 200_000);
        drop(rows);

        println!("\n## full probe with a 200,000-row conntrack table");
        println!("5 probes: median {:.0} ms", median(durations));
        println!(
            "exporter peak RSS growth: streamed aggregation {} KiB; buffering the same print whole {} KiB; ratio {:.0}x",
            streamed,
            buffered,
            buffered as f64 / streamed.max(1) as f64
        );
    });
}
