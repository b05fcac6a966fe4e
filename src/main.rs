//! `routeros-exporter`: command line, logging, startup checks, signals.

use clap::{Parser, ValueEnum};
use routeros_exporter::config::{self, Config, ProcessSettings};
use routeros_exporter::http::App;
use routeros_exporter::http::server::{self, Security, ServerOptions};
use routeros_exporter::http::web_config::WebConfig;
use routeros_exporter::probe::ProberOptions;
use routeros_exporter::{collect, logging};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Prometheus exporter for MikroTik RouterOS (blackbox style: `/probe?target=NAME&module=M`).
#[derive(Debug, Parser)]
#[command(name = "routeros-exporter", version, about)]
struct Cli {
    /// YAML configuration file; also taken from CONFIG_FILE (the flag wins; empty
    /// counts as unset), so a container can be pointed at a mounted file without
    /// changing its command. Without either, the original exporter's environment
    /// variables (ROUTERS_CONFIG, ROUTEROS_ADDRESS, ...) are used.
    #[arg(
        long = "config.file",
        value_name = "PATH",
        env = config::CONFIG_FILE,
        value_parser = config_path
    )]
    config_file: Option<PathBuf>,
    /// Validate the configuration and exit (0 valid, 1 invalid).
    #[arg(long = "config.check")]
    config_check: bool,
    /// Address to listen on (`:PORT` means all interfaces). Defaults to
    /// SERVER_ADDR, else `:9436`.
    #[arg(long = "web.listen-address", value_name = "ADDR")]
    listen_address: Option<String>,
    /// Subtracted from Prometheus' scrape timeout to leave time for the response
    /// (`0.5s`, `500ms` or seconds).
    #[arg(long = "timeout-offset", default_value = "0.5s", value_parser = parse_duration)]
    timeout_offset: Duration,
    /// Log level or filter (`info`, `debug`, `routeros_exporter=debug`); defaults
    /// to RUST_LOG, else `info`.
    #[arg(long = "log.level", value_name = "LEVEL")]
    log_level: Option<String>,
    /// Log line format.
    #[arg(long = "log.format", value_enum, default_value_t = LogFormat::Logfmt)]
    log_format: LogFormat,
    /// Start an in-process simulator (a RouterOS 7 and a RouterOS 6 router) and
    /// probe it: `curl 'localhost:9436/probe?target=demo&module=full'`.
    #[arg(long)]
    demo: bool,
    /// TLS, basic auth and response headers for this exporter's own endpoints,
    /// in the Prometheus exporter-toolkit format (see
    /// deploy/web-config.example.yml). Checked by --config.check too.
    #[arg(long = "web.config.file", value_name = "PATH")]
    web_config_file: Option<PathBuf>,
    /// Serve /-/healthy and /-/ready without basic auth (for liveness and
    /// readiness probes that have no credentials). TLS still applies.
    #[arg(long = "web.healthy-without-auth")]
    healthy_without_auth: bool,
    /// Close a connection whose request head (and TLS handshake) is not
    /// complete this long after it connected or, on keep-alive, after its
    /// first byte.
    #[arg(long = "web.read-header-timeout", default_value = "10s", value_parser = parse_duration)]
    read_header_timeout: Duration,
    /// Close a keep-alive connection idle for this long, or one whose client
    /// stops reading a response for this long.
    #[arg(long = "web.idle-timeout", default_value = "90s", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// Serve at most this many connections at once; more wait in the
    /// kernel's accept backlog until one closes.
    #[arg(long = "web.max-connections", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Logfmt,
    Json,
}

/// Accepts an empty path, which [`Cli::config_file`] treats as no file: an
/// empty `CONFIG_FILE` (`docker run -e CONFIG_FILE= ...`, a blank line in an
/// env file) means "not set", as every other empty variable of the
/// environment contract does, instead of clap's "a value is required".
fn config_path(text: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(text))
}

impl Cli {
    /// `--config.file` or `CONFIG_FILE`, unless empty.
    fn config_file(&self) -> Option<&std::path::Path> {
        self.config_file
            .as_deref()
            .filter(|path| !path.as_os_str().is_empty())
    }
}

impl Cli {
    fn server_options(&self) -> ServerOptions {
        ServerOptions {
            header_read_timeout: self.read_header_timeout,
            idle_timeout: self.idle_timeout,
            max_connections: self.max_connections as usize,
            ..ServerOptions::default()
        }
    }

    /// `--web.config.file`, loaded and checked (certificates included).
    fn web_config(&self) -> Result<Option<WebConfig>, String> {
        let Some(path) = &self.web_config_file else {
            if self.healthy_without_auth {
                tracing::warn!(
                    "--web.healthy-without-auth has no effect without --web.config.file"
                );
            }
            return Ok(None);
        };
        let web = WebConfig::load(path).map_err(|e| e.to_string())?;
        if self.healthy_without_auth && !web.has_auth() {
            tracing::warn!(
                "--web.healthy-without-auth has no effect: the web config has no basic_auth_users"
            );
        }
        Ok(Some(web))
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|e| e.to_string());
    }
    humantime::parse_duration(text).map_err(|e| format!("{e} (use e.g. 0.5s or 500ms)"))
}

/// `:9436` → `0.0.0.0:9436`; `host:port` and `[v6]:port` as given.
fn listen_address(text: &str) -> Result<SocketAddr, String> {
    let full = if text.starts_with(':') {
        format!("0.0.0.0{text}")
    } else {
        text.to_string()
    };
    full.parse()
        .map_err(|e| format!("invalid listen address {text:?}: {e}"))
}

/// Loads the configuration and logs what the environment did not supply as
/// written. With `--config.check`, a router the environment contract lost
/// (an unparseable `ROUTERS_CONFIG`, a bad router in it) fails the check.
fn load(cli: &Cli) -> Result<Config, String> {
    let loaded = config::load(
        cli.config_file(),
        &collect::group_names(),
        &config::process_env,
    )
    .map_err(|e| e.to_string())?;
    if cli.config_check {
        let lost: Vec<String> = loaded
            .warnings
            .iter()
            .filter(|w| w.drops_a_router())
            .map(ToString::to_string)
            .collect();
        if !lost.is_empty() {
            return Err(lost.join("; "));
        }
    }
    for warning in &loaded.warnings {
        if warning.drops_a_router() {
            tracing::error!("{warning}");
        } else {
            tracing::warn!("{warning}");
        }
    }
    Ok(loaded.config)
}

/// `--demo`: simulated routers in this process, and a config that probes them.
#[cfg(feature = "demo")]
mod demo {
    use routeros_exporter::{collect, config};
    use routeros_sim::{RouterConfig, SimConfig, Simulator};
    use std::net::SocketAddr;
    use std::time::Duration;

    /// How long the demo routers pretend to have been up, so counters and
    /// WireGuard handshakes show.
    const DEMO_UPTIME: Duration = Duration::from_secs(3 * 86_400 + 4 * 3_600);

    /// Keeps the simulated routers running while it lives.
    pub struct Demo {
        _simulator: Simulator,
    }

    /// Starts a RouterOS 7 router `demo` and a RouterOS 6 router `demo-v6`.
    pub async fn start() -> Result<(Demo, config::Config), String> {
        let mut routers = vec![RouterConfig::v7("demo"), RouterConfig::v6("demo-v6")];
        for router in &mut routers {
            router.initial_uptime = DEMO_UPTIME;
        }
        let simulator = Simulator::start(SimConfig { routers })
            .await
            .map_err(|e| format!("demo simulator: {e}"))?;
        let addresses: Vec<(String, SocketAddr)> = simulator
            .routers()
            .iter()
            .map(|r| (r.name().to_string(), r.addr()))
            .collect();
        for (name, addr) in &addresses {
            tracing::info!(target_name = %name, %addr, "demo router started");
        }
        let config = config::demo(&addresses, &collect::group_names());
        Ok((
            Demo {
                _simulator: simulator,
            },
            config,
        ))
    }
}

/// A build without the `demo` feature has no simulator to start.
#[cfg(not(feature = "demo"))]
mod demo {
    /// Never built: there is nothing to keep running.
    pub enum Demo {}

    pub async fn start() -> Result<(Demo, routeros_exporter::config::Config), String> {
        Err(
            "--demo is not available: this binary was built without the `demo` feature \
             (cargo build --release builds it with the feature)"
                .to_string(),
        )
    }
}

/// Startup connectivity tests running at once: 50 unreachable routers delay
/// binding the port by about 4 × the timeout, not 50 ×.
const STARTUP_CHECKS_AT_ONCE: usize = 16;

/// Runs `check` for every target, at most `at_once` at a time; the names of
/// those that failed, sorted.
async fn check_all<F, Fut>(targets: Vec<String>, at_once: usize, check: F) -> Vec<String>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = bool>,
{
    use futures_util::StreamExt;
    let checks = targets.into_iter().map(|target| {
        let done = check(target.clone());
        async move { (target, done.await) }
    });
    let mut failed: Vec<String> = futures_util::stream::iter(checks)
        .buffer_unordered(at_once.max(1))
        .filter_map(|(target, ok)| std::future::ready((!ok).then_some(target)))
        .collect()
        .await;
    failed.sort();
    failed
}

/// `STARTUP_CONNECTIVITY_TEST` / `STRICT_STARTUP_MODE`, as the original
/// exporter: log in to every target before serving (the sessions stay
/// pooled), [`STARTUP_CHECKS_AT_ONCE`] at a time.
async fn startup_check(app: &App, settings: &ProcessSettings) -> Result<(), String> {
    if !settings.startup_connectivity_test {
        return Ok(());
    }
    let targets: Vec<String> = app.prober.config().targets.keys().cloned().collect();
    let timeout = settings.startup_connectivity_timeout;
    let failed = check_all(targets, STARTUP_CHECKS_AT_ONCE, |target| async move {
        match app.prober.check(&target, timeout).await {
            Ok(()) => {
                tracing::info!(target_name = %target, "startup connectivity test passed");
                true
            }
            Err(e) => {
                tracing::warn!(target_name = %target, error = %e, "startup connectivity test failed");
                false
            }
        }
    })
    .await;
    if !failed.is_empty() && settings.strict_startup_mode {
        return Err(format!(
            "STRICT_STARTUP_MODE: unavailable at startup: {}",
            failed.join(", ")
        ));
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(unix)]
fn reload_on_sighup(app: Arc<App>) {
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hup.recv().await.is_some() {
            if let Err(e) = app.reload().await {
                tracing::error!(error = %e, "SIGHUP reload failed");
            }
        }
    });
}

/// In-flight probes may finish for this long after SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

async fn run(cli: Cli, settings: ProcessSettings) -> Result<(), String> {
    // The demo routers (if any) serve until `run` returns.
    let (_demo, config) = if cli.demo {
        let (demo, config) = demo::start().await?;
        (Some(demo), config)
    } else {
        (None, load(&cli)?)
    };
    let web = cli.web_config()?;
    if cli.config_check {
        println!(
            "configuration OK: {} target(s), {} auth(s), {} module(s)",
            config.targets.len(),
            config.auths.len(),
            config.modules.len()
        );
        if let Some(web) = &web {
            println!(
                "web configuration OK: TLS {}, basic auth {}",
                on_off(web.is_tls()),
                on_off(web.has_auth())
            );
        }
        return Ok(());
    }
    if config.targets.is_empty() {
        tracing::warn!(
            "no targets configured: /health will answer 503 until a configuration with targets is loaded"
        );
    }
    let listen = cli
        .listen_address
        .clone()
        .or(settings.listen_address.clone())
        .unwrap_or_else(|| ":9436".into());
    let addr = listen_address(&listen)?;
    let app = App::new(
        config,
        ProberOptions {
            timeout_offset: cli.timeout_offset,
        },
    );
    startup_check(&app, &settings).await?;
    #[cfg(unix)]
    raise_open_files_limit();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let security = web
        .as_ref()
        .map(|w| w.security(cli.healthy_without_auth))
        .unwrap_or_default();
    tracing::info!(
        %addr,
        tls = web.as_ref().is_some_and(WebConfig::is_tls),
        basic_auth = web.as_ref().is_some_and(WebConfig::has_auth),
        "listening"
    );
    #[cfg(unix)]
    reload_on_sighup(app.clone());
    routeros_exporter::memory::return_free_memory_periodically();
    serve_until_signalled(listener, app.clone(), cli.server_options(), security).await;
    let now = tokio::time::Instant::now();
    app.prober
        .shutdown(routeros_exporter::probe::deadline::after(
            now,
            Duration::from_secs(2),
        ))
        .await;
    tracing::info!("stopped");
    Ok(())
}

/// Serves until SIGTERM/SIGINT, then lets in-flight requests finish for at
/// most [`SHUTDOWN_GRACE`] while `/-/ready` answers 503; idle connections
/// are closed at once.
async fn serve_until_signalled(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    options: ServerOptions,
    security: Security,
) {
    let shutdown_app = app.clone();
    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
    let server = server::serve(listener, app, options, security, async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight probes");
        shutdown_app.set_not_ready();
        let _ = signalled_tx.send(());
    });
    let bounded = async move {
        match signalled_rx.await {
            Ok(()) => tokio::time::sleep(SHUTDOWN_GRACE).await,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = server => {}
        () = bounded => {
            tracing::warn!("in-flight probes did not finish in {SHUTDOWN_GRACE:?}; stopping anyway");
        }
    }
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// Raises the soft open-file limit to the hard one, as Go programs do at
/// start: each HTTP connection and router session is a descriptor, and a
/// soft limit of 1024 is reached long before the hard one.
#[cfg(unix)]
fn raise_open_files_limit() {
    let before = rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft);
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::info!(
            open_files_limit = limit,
            previous = before.unwrap_or(limit),
            "open-file limit"
        ),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
    }
}

/// Runtime worker threads: `TOKIO_WORKER_THREADS` when set, else half the
/// cores (at least one). A probe is a burst of short tasks (a hundred command
/// replies) that wake each other: on one thread that costs nothing, across
/// threads every wake-up is a futex call and a context switch (measured in
/// BENCHMARKS.md, "Fast at scale": a fifth of a default router's probe CPU
/// on two cores). The other half of the cores stays for rendering large
/// bodies (the blocking pool) and, next to the exporter, everything else.
fn worker_threads() -> usize {
    std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)))
}

fn main() -> ExitCode {
    routeros_exporter::memory::tune_allocator();
    let cli = Cli::parse();
    let settings = ProcessSettings::from_env(&config::process_env);
    let filter = cli
        .log_level
        .clone()
        .or(settings.log_filter.clone())
        .unwrap_or_else(|| "info".into());
    if let Err(e) = logging::init(&filter, cli.log_format == LogFormat::Json) {
        eprintln!("invalid --log.level {filter:?}: {e}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads())
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("routeros-exporter: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// 50 checks that each take a while run 16 at a time, not one after
    /// the other, and the failed ones are named.
    #[tokio::test]
    async fn startup_checks_run_in_parallel_bounded() {
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let targets: Vec<String> = (0..50).map(|i| format!("r{i:02}")).collect();
        let started = std::time::Instant::now();
        let failed = check_all(targets, STARTUP_CHECKS_AT_ONCE, |target| {
            let (running, peak) = (&running, &peak);
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(200)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                !target.ends_with('7')
            }
        })
        .await;
        assert_eq!(peak.load(Ordering::SeqCst), STARTUP_CHECKS_AT_ONCE);
        assert_eq!(failed, ["r07", "r17", "r27", "r37", "r47"]);
        // One after the other: 10 s.
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{:?}",
            started.elapsed()
        );
    }
}
