//! Whole-probe benchmarks (run with `cargo bench --bench probe`):
//!
//! 1. latency of a `full` probe (every group, rendered to text) of a RouterOS 7
//!    router with default-scale data, sequential probes on a kept session;
//! 2. a `conntrack` probe over a 200,000-row connection table: duration and the
//!    exporter's peak-memory growth, against buffering the same rows whole.
//!
//! The simulator runs as a separate process (`routeros-sim`) so its memory does
//! not count against the exporter's.

use routeros_exporter::collect;
use routeros_exporter::config::{self, Config};
use routeros_exporter::probe::render::{self, Format};
use routeros_exporter::probe::{ProbeRequest, Prober, ProberOptions};
use routeros_exporter::routeros::{Command, Endpoint, Pool, PoolConfig};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command as Process, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

fn start_sim(extra: &[&str]) -> Sim {
    let mut child = Process::new(env!("CARGO_BIN_EXE_routeros-sim"))
        .args(["--listen", "127.0.0.1:0", "--uptime", "3d"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("routeros-sim starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("router line");
    // "router r1 version 7.16 api 127.0.0.1:PORT"
    let addr = line
        .split_whitespace()
        .skip_while(|w| *w != "api")
        .nth(1)
        .and_then(|a| a.parse().ok())
        .expect("api address on the first line");
    Sim { child, addr }
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let small = start_sim(&[]);
        let prober = Arc::new(Prober::new(config_for(small.addr), ProberOptions::default(), None));
        let request = |module: &str| ProbeRequest {
            target: "bench".into(),
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
            let text = render::render(output.families, &output.extra_labels, Format::Text);
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

        let big = start_sim(&["--scale-conntrack", "200000"]);
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
