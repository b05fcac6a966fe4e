//! Protocol benchmarks (run with `cargo bench -p routeros --bench protocol`):
//!
//! 1. per-command round trip on loopback against the simulator, for our session
//!    and for a naive client that writes word by word with Nagle on (what other
//!    exporters do), measured in the same run;
//! 2. decoding a realistic large `print` reply (MB/s);
//! 3. streaming a 200,000-row conntrack print through a session (rows/s).
//!
//! Figures are medians; BENCHMARKS.md records them with this command.

use bytes::BytesMut;
use routeros::codec::{Decoder, encode_sentence};
use routeros::connection::connect;
use routeros::login::login;
use routeros::session::{Counters, Session, SessionOptions};
use routeros::{Command, Reply};
use routeros_sim::menus::Scale;
use routeros_sim::{RouterConfig, SimConfig, Simulator};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn percentile(mut samples: Vec<f64>, p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i]
}

async fn session_to(addr: &str) -> Session {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let transport = connect(addr, None, deadline).await.expect("connect");
    let session = Session::start(
        transport,
        SessionOptions::default(),
        Arc::new(Counters::default()),
    );
    login(&session, "admin", "", deadline).await.expect("login");
    session
}

/// Our client: one write per sentence, TCP_NODELAY, kept session.
async fn round_trips(session: &Session, n: usize) -> Vec<f64> {
    let command = Command::new("/system/identity/print").proplist(&["name"]);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let rows = session.rows(&command, deadline).await.expect("print");
        out.push(start.elapsed().as_secs_f64() * 1e3);
        assert_eq!(rows.len(), 1);
    }
    out
}

/// The anchor: Nagle left on and every word written separately.
async fn naive_round_trips(addr: &str, n: usize) -> Vec<f64> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut buf = BytesMut::new();
    let mut decoder = Decoder::default();
    let words: [&[u8]; 3] = [b"/login", b"=name=admin", b"=password="];
    naive_exchange(&mut stream, &words, &mut buf, &mut decoder).await;
    let words: [&[u8]; 2] = [b"/system/identity/print", b"=.proplist=name"];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        naive_exchange(&mut stream, &words, &mut buf, &mut decoder).await;
        out.push(start.elapsed().as_secs_f64() * 1e3);
    }
    out
}

async fn naive_exchange(
    stream: &mut TcpStream,
    words: &[&[u8]],
    buf: &mut BytesMut,
    decoder: &mut Decoder,
) {
    for word in words {
        let mut one = Vec::new();
        routeros::codec::encode_length(word.len(), &mut one).expect("len");
        one.extend_from_slice(word);
        stream.write_all(&one).await.expect("write");
    }
    stream.write_all(&[0]).await.expect("write");
    loop {
        while let Some(sentence) = decoder.decode(buf).expect("decode") {
            if sentence.word(0) == Some(b"!done") {
                return;
            }
        }
        let n = stream.read_buf(buf).await.expect("read");
        assert!(n > 0, "closed");
    }
}

/// A realistic large `/interface/print` reply: `rows` sentences of ~30 words.
fn large_reply(rows: usize) -> Vec<u8> {
    let mut wire = Vec::new();
    for i in 0..rows {
        let words = vec![
            "!re".to_string(),
            format!("=.id=*{:X}", i + 1),
            format!("=name=ether{i}"),
            format!("=default-name=ether{i}"),
            "=type=ether".into(),
            "=mtu=1500".into(),
            "=actual-mtu=1500".into(),
            "=l2mtu=1580".into(),
            "=max-l2mtu=10222".into(),
            format!(
                "=mac-address=E4:8D:8C:3F:{:02X}:{:02X}",
                (i >> 8) & 0xFF,
                i & 0xFF
            ),
            "=last-link-up-time=2026-02-25 04:29:31".into(),
            "=link-downs=3".into(),
            format!("=rx-byte={}", 14_603_085_579u64 + i as u64 * 7),
            format!("=tx-byte={}", 11_018_034_038u64 + i as u64 * 5),
            format!("=rx-packet={}", 132_936_525 + i),
            format!("=tx-packet={}", 170_628_564 + i),
            "=rx-drop=0".into(),
            "=tx-drop=0".into(),
            "=tx-queue-drop=0".into(),
            "=rx-error=0".into(),
            "=tx-error=0".into(),
            format!("=fp-rx-byte={}", 14_603_085_579u64 + i as u64),
            format!("=fp-tx-byte={}", 11_018_034_038u64 + i as u64),
            "=fp-rx-packet=132936525".into(),
            "=fp-tx-packet=170628564".into(),
            "=running=true".into(),
            "=disabled=false".into(),
            format!("=comment=Config restored 2017-07-25 {i}"),
            ".tag=17".into(),
        ];
        encode_sentence(&words, &mut wire).expect("encode");
    }
    encode_sentence(["!done", ".tag=17"], &mut wire).expect("encode");
    wire
}

/// Decodes `wire` fed in 64 KiB reads, parsing every reply and touching a value.
fn decode_all(wire: &[u8]) -> usize {
    let mut decoder = Decoder::default();
    let mut buf = BytesMut::with_capacity(128 * 1024);
    let mut rows = 0;
    for chunk in wire.chunks(64 * 1024) {
        buf.extend_from_slice(chunk);
        while let Some(sentence) = decoder.decode(&mut buf).expect("decode") {
            let reply = Reply::parse(sentence).expect("reply");
            if reply.get("rx-byte").is_some() {
                rows += 1;
            }
        }
    }
    rows
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut config = RouterConfig::v7("bench");
        config.scale = Scale {
            conntrack: 200_000,
            ..Scale::default()
        };
        let sim = Simulator::start(SimConfig {
            routers: vec![config],
        })
        .await
        .expect("simulator");
        let addr = sim.routers()[0].addr().to_string();

        let session = session_to(&addr).await;
        round_trips(&session, 200).await;
        let ours = round_trips(&session, 5_000).await;
        let naive = naive_round_trips(&addr, 40).await;
        let (ours_median, naive_median) = (median(ours.clone()), median(naive.clone()));
        println!("## per-command round trip (loopback, /system/identity/print)");
        println!("| client | commands | median ms | p90 ms |");
        println!("|---|---|---|---|");
        println!(
            "| routeros-exporter session (TCP_NODELAY, one write per sentence) | {} | {:.3} | {:.3} |",
            ours.len(),
            ours_median,
            percentile(ours, 0.9)
        );
        println!(
            "| naive client (Nagle on, word-by-word writes) | {} | {:.3} | {:.3} |",
            naive.len(),
            naive_median,
            percentile(naive, 0.9)
        );
        println!("ratio naive/ours: {:.0}x\n", naive_median / ours_median);

        let wire = large_reply(20_000);
        let mut rates = Vec::new();
        for _ in 0..15 {
            let start = Instant::now();
            let rows = decode_all(&wire);
            let secs = start.elapsed().as_secs_f64();
            assert_eq!(rows, 20_000);
            rates.push(wire.len() as f64 / secs / 1e6);
        }
        println!("## decoding a large print reply");
        println!(
            "{} rows, {:.1} MB, 15 runs: median {:.0} MB/s (min {:.0}, max {:.0})\n",
            20_000,
            wire.len() as f64 / 1e6,
            median(rates.clone()),
            rates.iter().copied().fold(f64::INFINITY, f64::min),
            rates.iter().copied().fold(0.0, f64::max)
        );

        let command = Command::new("/ip/firewall/connection/print").proplist(&["src-address", "protocol"]);
        let mut rows_per_sec = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            let mut stream = session.command(&command).expect("command");
            let mut rows = 0usize;
            while stream.next().await.expect("row").is_some() {
                rows += 1;
            }
            assert_eq!(rows, 200_000);
            rows_per_sec.push(rows as f64 / start.elapsed().as_secs_f64());
        }
        println!("## streaming a 200,000-row conntrack print through a session");
        println!(
            "5 runs: median {:.0} rows/s ({:.0} ms per print)",
            median(rows_per_sec.clone()),
            200_000.0 / median(rows_per_sec) * 1e3
        );
    });
}
