//! The HTTP server's bounds (`src/http/server/`), on 127.0.0.1 with raw
//! sockets: slow request heads and idle keep-alive connections are closed,
//! the connection limit holds while `/-/healthy` still answers, oversized
//! heads and targets get 431 and 414, and shutdown does not wait for idle
//! connections. Timeouts are short here (1 s) and every wait is bounded by a
//! generous deadline; no assertion is about how long something took.

#[allow(dead_code)]
mod support;

use routeros_exporter::collect::group_names;
use routeros_exporter::config::{Config, ConfigSource};
use routeros_exporter::http::App;
use routeros_exporter::http::server::{self, Security, ServerCounts, ServerOptions};
use routeros_exporter::probe::ProberOptions;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use support::harness::serve_with;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far longer than any timeout here; only a broken server reaches it.
const BOUND: Duration = Duration::from_secs(60);

const HEALTHY: &[u8] = b"GET /-/healthy HTTP/1.1\r\nHost: t\r\n\r\n";

/// An exporter with no targets: only the server is under test.
fn app() -> Arc<App> {
    let config = Config::empty(ConfigSource::Demo, &group_names());
    App::new(config, ProberOptions::default())
}

fn options(header_secs: u64, idle_secs: u64, max_connections: usize) -> ServerOptions {
    ServerOptions {
        header_read_timeout: Duration::from_secs(header_secs),
        idle_timeout: Duration::from_secs(idle_secs),
        max_connections,
        ..ServerOptions::default()
    }
}

fn counts(app: &App) -> ServerCounts {
    app.metrics.server_stats().read()
}

fn timed_out(app: &App, phase: &str) -> u64 {
    counts(app)
        .timed_out
        .iter()
        .find(|(p, _)| *p == phase)
        .map_or(0, |(_, n)| *n)
}

/// Reads one response (head and `content-length` body); its status.
async fn read_response(stream: &mut TcpStream) -> u16 {
    let read = async {
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&data[..end]).to_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().expect("a length"));
                if data.len() >= end + 4 + length {
                    let status = head.split(' ').nth(1).expect("a status line");
                    return status.parse().expect("a status code");
                }
            }
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed before a whole response: {data:?}");
            data.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(BOUND, read)
        .await
        .expect("a response in time")
}

/// The status of `request` sent on a new connection.
async fn status_of(addr: SocketAddr, request: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("send");
    read_response(&mut stream).await
}

/// Waits until the server closes `stream`; the bytes it sent before.
async fn until_closed(mut stream: TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(BOUND, read)
        .await
        .expect("the server closes the connection");
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_closed_while_healthy_answers() {
    let app = app();
    let addr = serve_with(app.clone(), options(2, 300, 512), Security::default()).await;
    let mut slow = Vec::new();
    for i in 0..200 {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"GET /-/healthy HTTP/1.1\r\nHost: t\r\n")
            .await
            .expect("send");
        // Half of them trickle a header line every 300 ms (slowloris proper):
        // bytes must not extend the deadline of an unfinished head.
        let trickle = i % 2 == 0;
        slow.push(tokio::spawn(async move {
            if trickle {
                let (mut read, mut write) = stream.into_split();
                let drip = async {
                    while write.write_all(b"X-Slow: 1\r\n").await.is_ok() {
                        tokio::time::sleep(Duration::from_millis(300)).await;
                    }
                };
                let mut buf = [0u8; 64];
                let closed = async { matches!(read.read(&mut buf).await, Ok(0) | Err(_)) };
                tokio::time::timeout(BOUND, async {
                    tokio::select! { () = drip => {}, _ = closed => {} }
                })
                .await
                .expect("the server closes a trickling connection");
                Vec::new()
            } else {
                until_closed(stream).await
            }
        }));
    }
    assert_eq!(status_of(addr, HEALTHY).await, 200);
    for task in slow {
        let got = task.await.expect("the client task");
        assert!(got.is_empty(), "no answer to an unfinished head: {got:?}");
    }
    assert_eq!(timed_out(&app, "header"), 200);
    assert_eq!(status_of(addr, HEALTHY).await, 200);
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let app = app();
    let addr = serve_with(app.clone(), options(300, 1, 512), Security::default()).await;
    let mut idle = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.write_all(HEALTHY).await.expect("send");
        assert_eq!(read_response(&mut stream).await, 200);
        idle.push(stream);
    }
    for stream in idle {
        assert!(until_closed(stream).await.is_empty());
    }
    assert_eq!(timed_out(&app, "idle"), 20);
    assert_eq!(timed_out(&app, "header"), 0);
}

#[tokio::test]
async fn the_header_timeout_does_not_cut_an_idle_keep_alive_connection() {
    let app = app();
    let addr = serve_with(app.clone(), options(1, 300, 512), Security::default()).await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(HEALTHY).await.expect("send");
    assert_eq!(read_response(&mut stream).await, 200);
    // Idle for longer than the header timeout: the next request still works,
    // because the header clock starts at its first byte.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    stream.write_all(HEALTHY).await.expect("send");
    assert_eq!(read_response(&mut stream).await, 200);
    assert_eq!(timed_out(&app, "header"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_connection_limit_clients_wait_and_are_served() {
    const LIMIT: usize = 8;
    let app = app();
    let addr = serve_with(app.clone(), options(1, 300, LIMIT), Security::default()).await;
    let most_open = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampler = {
        let (app, most_open) = (app.clone(), most_open.clone());
        tokio::spawn(async move {
            loop {
                let open = counts(&app).open;
                most_open.fetch_max(open, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    // Five times the limit of bare connections that never send a byte.
    let mut bare = Vec::new();
    for _ in 0..(LIMIT * 5) {
        bare.push(
            TcpStream::connect(addr)
                .await
                .expect("connect (the backlog)"),
        );
    }
    // Queued behind them; served once the header timeout frees slots.
    assert_eq!(status_of(addr, HEALTHY).await, 200);
    for stream in bare {
        assert!(until_closed(stream).await.is_empty());
    }
    sampler.abort();
    let most = most_open.load(std::sync::atomic::Ordering::Relaxed);
    assert!(most <= LIMIT as u64, "{most} connections open at once");
    assert!(most > 0, "the sampler saw the connections");
    let c = counts(&app);
    assert_eq!(c.limit, LIMIT as u64);
    assert!(c.accepted > (LIMIT * 5) as u64, "{c:?}");
}

#[tokio::test]
async fn oversized_heads_are_431_and_long_targets_414() {
    let app = app();
    let addr = serve_with(app, ServerOptions::default(), Security::default()).await;
    let limits = ServerOptions::default();
    let long_target = format!(
        "GET /probe?target={} HTTP/1.1\r\nHost: t\r\n\r\n",
        "a".repeat(limits.max_uri_bytes)
    );
    assert_eq!(status_of(addr, long_target.as_bytes()).await, 414);
    let big_header = format!(
        "GET /-/healthy HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
        "a".repeat(limits.max_header_bytes)
    );
    assert_eq!(status_of(addr, big_header.as_bytes()).await, 431);
    // A head that never ends grows no further than the limit.
    let mut endless = TcpStream::connect(addr).await.expect("connect");
    endless
        .write_all(b"GET /-/healthy HTTP/1.1\r\nHost: t\r\n")
        .await
        .expect("send");
    let filler = format!("X-More: {}\r\n", "a".repeat(1_000));
    for _ in 0..(limits.max_header_bytes * 3 / filler.len()) {
        if endless.write_all(filler.as_bytes()).await.is_err() {
            break;
        }
    }
    let got = String::from_utf8_lossy(&until_closed(endless).await).to_string();
    assert!(got.starts_with("HTTP/1.1 431"), "{got}");
    // Within the limits all is well.
    let fine = format!(
        "GET /-/healthy?{} HTTP/1.1\r\nHost: t\r\n\r\n",
        "a".repeat(limits.max_uri_bytes - 20)
    );
    assert_eq!(status_of(addr, fine.as_bytes()).await, 200);
}

#[tokio::test]
async fn shutdown_closes_idle_connections_at_once() {
    let app = app();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server::serve(
        listener,
        app,
        options(300, 300, 512),
        Security::default(),
        async move {
            let _ = stopped.await;
        },
    ));
    let mut open = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.write_all(HEALTHY).await.expect("send");
        assert_eq!(read_response(&mut stream).await, 200);
        open.push(stream);
    }
    for _ in 0..5 {
        open.push(TcpStream::connect(addr).await.expect("connect"));
    }
    let mut partial = TcpStream::connect(addr).await.expect("connect");
    partial.write_all(b"GET /-/he").await.expect("send");
    open.push(partial);
    // Let the server accept the last ones before it is told to stop.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = stop.send(());
    // With 300 s timeouts only the shutdown can end these connections.
    tokio::time::timeout(BOUND, serving)
        .await
        .expect("serve returns without waiting for idle connections")
        .expect("the server task");
    for stream in open {
        until_closed(stream).await;
    }
}
