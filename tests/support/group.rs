//! Setup for the group tests (`tests/group_*.rs`), which run one collector
//! group directly, without the HTTP layer: a simulator with one router, a
//! pooled session to it, the [`Target`] and [`Context`] a group collects
//! through, and look-ups in the families it returns.

use routeros::Session;
use routeros::pool::{Endpoint, Pool, PoolConfig};
use routeros_exporter::collect::family::{Family, Value, samples_named};
use routeros_exporter::collect::{Context, GroupError, Trace, group};
use routeros_exporter::config::{Module, Target};
use routeros_sim::menus::Board;
use routeros_sim::{RouterConfig, RouterHandle, SimConfig, Simulator};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// A running simulator with one router and a logged-in session to it. The
/// simulator and the pool live as long as this value.
pub struct Probe {
    /// The simulator (kept running).
    pub sim: Simulator,
    _pool: Pool,
    /// A session from the pool, logged in as `admin` with an empty password.
    pub session: Session,
    /// The router's API address (`127.0.0.1:port`).
    pub address: String,
}

impl Probe {
    /// Starts a simulator with `router` and logs in before `deadline`.
    pub async fn start(router: RouterConfig, deadline: Instant) -> Self {
        Self::connect(simulator(router).await, deadline).await
    }

    /// Logs in to the first router of `sim` before `deadline`.
    pub async fn connect(sim: Simulator, deadline: Instant) -> Self {
        let address = sim.routers()[0].addr().to_string();
        let endpoint = Endpoint {
            address: address.clone(),
            username: "admin".into(),
            password: String::new(),
            tls: None,
        };
        let pool = Pool::new(PoolConfig::default());
        let session = pool.acquire(&endpoint, deadline).await.expect("session");
        Self {
            sim,
            _pool: pool,
            session,
            address,
        }
    }

    /// A context on this probe's session and router (see [`context`]).
    pub fn context(
        &self,
        module: Module,
        deadline: Instant,
        trace: Arc<Trace>,
        now_unix: i64,
    ) -> Context {
        context(
            Some(self.session.clone()),
            module,
            target(self.address.clone()),
            deadline,
            trace,
            now_unix,
        )
    }
}

/// Commands (not logins) `router` has received so far: what a group cost it.
pub fn commands_sent(router: &RouterHandle) -> u64 {
    router
        .stats()
        .commands
        .iter()
        .filter(|(command, _)| *command != "/login")
        .map(|(_, n)| n)
        .sum()
}

/// Starts a simulator with the one router `router`.
pub async fn simulator(router: RouterConfig) -> Simulator {
    Simulator::start(SimConfig {
        routers: vec![router],
    })
    .await
    .expect("simulator starts")
}

/// A plain-API target named `r` at `address`: no TLS, no extra labels, default
/// session limits and no extra connectivity ports.
pub fn target(address: String) -> Target {
    Target::new("r", address, "a")
}

/// A module named `m` that runs only the group `name`.
pub fn module(name: &str) -> Module {
    Module::with_groups("m", &[name])
}

/// The context a group collects through.
pub fn context(
    session: Option<Session>,
    module: Module,
    target: Target,
    deadline: Instant,
    trace: Arc<Trace>,
    now_unix: i64,
) -> Context {
    Context::new(
        session,
        deadline,
        Arc::new(module),
        Arc::new(target),
        trace,
        now_unix,
    )
}

/// Wall-clock time, whole seconds since the Unix epoch.
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Runs the registered group `name` in `ctx`.
pub async fn collect(name: &str, ctx: &Context) -> Result<Vec<Family>, GroupError> {
    group(name)
        .unwrap_or_else(|| panic!("{name} group registered"))
        .collect(ctx)
        .await
}

/// Runs the registered group `name` on router `index` of `sim` (a simulator
/// with several routers, unlike [`Probe`]) through a pool and session of its
/// own, logged in as `admin` with an empty password.
pub async fn collect_on(
    sim: &Simulator,
    index: usize,
    name: &str,
    deadline: Instant,
    trace: Arc<Trace>,
) -> Vec<Family> {
    let address = sim.routers()[index].addr().to_string();
    let pool = Pool::new(PoolConfig::default());
    let endpoint = Endpoint {
        address: address.clone(),
        username: "admin".into(),
        password: String::new(),
        tls: None,
    };
    let session = pool.acquire(&endpoint, deadline).await.expect("session");
    let ctx = context(
        Some(session),
        module(name),
        target(address),
        deadline,
        trace,
        now_unix(),
    );
    collect(name, &ctx)
        .await
        .unwrap_or_else(|e| panic!("{name} collects: {e:?}"))
}

/// Asserts that no two samples share a metric name and label values.
pub fn assert_no_duplicate_series(families: &[Family]) {
    let mut seen = HashSet::new();
    for f in families {
        for s in &f.samples {
            assert!(
                seen.insert((f.desc.name, s.label_strings())),
                "duplicate {} {:?}",
                f.desc.name,
                s.labels
            );
        }
    }
}

/// Every sample of the family `name` as (label values, value), in order.
pub fn samples(families: &[Family], name: &str) -> Vec<(Vec<String>, Value)> {
    samples_named(families, name)
        .map(|s| (s.label_strings(), s.value))
        .collect()
}

/// The value of the first sample of `metric` whose first label value is
/// `first` (a sensor, a certificate name).
pub fn value_by_first_label(families: &[Family], metric: &str, first: &str) -> Option<f64> {
    samples_named(families, metric)
        .find(|s| s.labels[0] == first)
        .map(|s| s.value.as_f64())
}

/// `router` with the hardware of `board`.
pub fn with_board(mut router: RouterConfig, board: Board) -> RouterConfig {
    router.scale = board.scale();
    router
}

/// One collection of a group against a fresh simulator: its result and the
/// commands the router saw (the login left out).
pub struct GroupRun {
    pub result: Result<Vec<Family>, GroupError>,
    pub commands: BTreeMap<String, u64>,
}

/// Runs the group `name` once on `router`, up for a day (so counters and
/// uptimes are non-zero), within 30 s.
pub async fn run_once(name: &str, mut router: RouterConfig) -> GroupRun {
    router.initial_uptime = std::time::Duration::from_secs(86_400);
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    let probe = Probe::start(router, deadline).await;
    let ctx = probe.context(
        module(name),
        deadline,
        Arc::new(Trace::new(false)),
        now_unix(),
    );
    let result = collect(name, &ctx).await;
    let mut commands = probe.sim.routers()[0].stats().commands;
    commands.remove("/login");
    GroupRun { result, commands }
}
