//! The probe: module plan, deadline, concurrent groups over one pooled session,
//! per-target state and the snapshot the HTTP layer renders.
//!
//! There is no background loop. Each `/probe` resolves its target *by name from
//! the config* (credentials never go to an address taken from a URL, unless
//! `address_targets` allows that address: [`address`]), computes its deadline,
//! and either starts a collection or joins an identical one already in flight
//! (HA Prometheus pairs must not double a router's load). A collection runs in
//! its own task, bounded by the deadline, so a client that disconnects does not
//! abort work another client is waiting for.
//!
//! The rules that keep one hung router from wedging the exporter:
//!
//! * every deadline is capped by `global.max_timeout` ([`deadline`]);
//! * a probe joins a collection in flight only when that collection ends no
//!   later than the probe's own deadline, else it starts its own;
//! * a collection first waits for one of its target's slots
//!   (`max_concurrent_per_target`) holding nothing else, and takes a global one
//!   (`max_concurrent_probes`) only then, so collections queued behind a hung
//!   router cannot use up the global limit;
//! * each probe runs in a task of its own and is counted (target state and
//!   `routeros_exporter_probes_total`) however it ends: refused for load,
//!   abandoned by its client, or tired of waiting for a shared collection.

pub mod address;
mod collection;
use collection::{Job, failed_collection};
pub mod deadline;
pub mod gzip;
pub mod metrics;
pub mod render;
pub mod state;

use crate::collect::family::{Family, merge};
use crate::collect::{self, Context, Group, GroupError, Trace};
use crate::config::{Config, Module, Target};
use routeros::{Error, Pool, PoolConfig, PoolStats, Session};
use state::{GapThreshold, Observation, ProbeTimes};
use state::{HealthStatus, TargetState, Verdict};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;

/// The most characters of request text an error message repeats.
pub const REFLECTED_CHARS: usize = 64;

/// `text` quoted for an error message (Rust string escapes), cut after
/// [`REFLECTED_CHARS`] characters with an ellipsis: a 64 KB query value must
/// not come back as a 64 KB error page.
pub fn clip(text: &str) -> String {
    match text.char_indices().nth(REFLECTED_CHARS) {
        None => format!("{text:?}"),
        Some((cut, _)) => format!("{:?}", format!("{}…", &text[..cut])),
    }
}

/// A validated-on-arrival probe request.
#[derive(Debug, Clone)]
pub struct ProbeRequest {
    /// Target name (a key of `targets`), else an address target's
    /// `host[:port]` (with `address_targets`).
    pub target: String,
    /// `auth=`: the auth an address target logs in with.
    pub auth: Option<String>,
    /// Module names; empty means the target's `module`, else `full`.
    pub modules: Vec<String>,
    /// Prometheus' scrape timeout, from `X-Prometheus-Scrape-Timeout-Seconds`.
    pub scrape_timeout: Option<Duration>,
    /// Record a trace for `debug=true`.
    pub debug: bool,
}

/// A request the prober refuses (rendered as 4xx/503 by the HTTP layer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// No such target in the config. The message does not list the
    /// configured targets: with thousands of them that is a large page to
    /// anyone who asks.
    #[error(
        "unknown target {}: the target parameter must name a target of the configuration",
        clip(.name)
    )]
    UnknownTarget {
        /// What was asked for.
        name: String,
    },
    /// No such module.
    #[error("unknown module {}; valid modules: {valid}", clip(.name))]
    UnknownModule {
        /// What was asked for.
        name: String,
        /// The valid names, comma-separated.
        valid: String,
    },
    /// The global probe limit is reached.
    #[error("too many concurrent probes ({0}); try again later")]
    Overloaded(usize),
    /// As many collections as may wait for the target's slots already do.
    #[error("too many collections waiting for this target ({0}); try again later")]
    TargetBusy(usize),
    /// An address target that was refused or could not be resolved.
    #[error(transparent)]
    Address(#[from] address::AddressError),
}

/// What one group produced.
#[derive(Debug, Clone)]
pub struct GroupOutcome {
    /// The group, as the `collector` label names it.
    pub name: &'static str,
    /// Ok, unsupported, failed or timed out, with the reason.
    pub status: GroupStatus,
    /// How long it took.
    pub duration: Duration,
}

/// How a group ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupStatus {
    /// Metrics collected.
    Ok,
    /// The router lacks the menu; not a failure.
    Unsupported(String),
    /// Failed (router message or client error, verbatim).
    Failed(String),
    /// Ran out of time.
    Timeout,
}

/// The shared result of one collection.
#[derive(Debug)]
pub struct Collection {
    /// Families from all groups (merged, deduplicated).
    pub families: Vec<Family>,
    /// Per-group outcomes in plan order.
    pub groups: Vec<GroupOutcome>,
    /// Whether the probe succeeded.
    pub success: bool,
    /// Why not, if it did not.
    pub error: Option<String>,
    /// How long the collection took.
    pub duration: Duration,
    /// How long it was allowed to take.
    pub timeout: Duration,
    /// Debug trace lines (empty unless requested).
    pub trace: Vec<String>,
}

/// What the HTTP layer renders.
#[derive(Debug)]
pub struct ProbeOutput {
    /// The probe's own and the target state's families, rendered after the
    /// collection's.
    pub probe_families: Vec<Family>,
    /// Extra labels of the target, added to every sample.
    pub extra_labels: Vec<(String, String)>,
    /// The collection behind it.
    pub collection: Arc<Collection>,
    /// The effective modules, for `debug=true`.
    pub modules: Vec<Arc<Module>>,
    /// The target's effective config as YAML (auth by name; no secrets), only
    /// for `debug=true`.
    pub target: Option<String>,
}

impl ProbeOutput {
    /// Every family to render: the collection's (shared with probes that
    /// joined it, so borrowed rather than copied), then the probe's own.
    pub fn families(&self) -> impl Iterator<Item = &Family> + Clone {
        self.collection.families.iter().chain(&self.probe_families)
    }
}

/// Prober tunables that do not come from the config file.
#[derive(Debug, Clone, Copy)]
pub struct ProberOptions {
    /// Subtracted from Prometheus' scrape timeout.
    pub timeout_offset: Duration,
}

impl Default for ProberOptions {
    fn default() -> Self {
        Self {
            timeout_offset: Duration::from_millis(500),
        }
    }
}

/// Where a collection's result arrives, once.
type Outcome = watch::Receiver<Option<Arc<Collection>>>;

/// A collection in flight that later probes may join.
#[derive(Clone)]
struct Flight {
    /// Tells it apart from other flights of the same target and module set.
    id: u64,
    /// When it ends at the latest.
    deadline: Instant,
    /// Receives its collection.
    result: Outcome,
}

/// Flights by (target, module set).
type Flights = HashMap<(String, String), Vec<Flight>>;

/// Observer of finished probes (the self-metrics registry implements it).
pub trait ProbeObserver: Send + Sync {
    /// Called once per probe request, after it finished (also when its client
    /// went away before).
    fn probe_finished(&self, target: &str, modules: &str, collection: &Collection, shared: bool);

    /// Called once per probe refused because the global probe limit was
    /// reached.
    fn probe_refused(&self, target: &str, modules: &str);
}

/// How a probe got its collection.
enum Answer {
    /// It started the collection, which recorded itself in the state.
    Ran(Arc<Collection>),
    /// It shared one in flight, recorded by the probe that started it.
    Joined(Arc<Collection>),
    /// It waited for a shared one in vain: a failure of its own, not yet
    /// recorded.
    Unanswered(Arc<Collection>),
}

/// The slots a new collection needs, or where to wait for them.
enum Slots {
    /// The target's slot and a global one, both held.
    Held(OwnedSemaphorePermit, OwnedSemaphorePermit),
    /// The target is busy: wait for its slot (holding nothing but a place in
    /// the queue), then take a global one.
    Wait(Arc<Semaphore>, Waiting),
}

/// Collections that may wait for the slots of one target at once; beyond,
/// a new one is refused. Waiting costs no router anything, but each waits
/// until its deadline, so probes with ever earlier deadlines (which join no
/// collection in flight) must not pile up without bound.
pub const MAX_WAITING_PER_TARGET: usize = 16;

/// A target's collection slots (`max_concurrent_per_target`) and how many
/// collections wait for one.
#[derive(Clone)]
struct TargetSlots {
    limit: usize,
    semaphore: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
}

/// A collection's place in its target's queue, given up when dropped.
struct Waiting(Arc<AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Ends a flight when its task ends, however it ends (a panic included), so
/// no later probe joins a flight that will never answer.
struct FlightGuard {
    prober: Arc<Prober>,
    key: (String, String),
    id: u64,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        let mut flights = self.prober.lock_flights();
        if let Some(list) = flights.get_mut(&self.key) {
            list.retain(|f| f.id != self.id);
            if list.is_empty() {
                flights.remove(&self.key);
            }
        }
    }
}

/// The probe engine. One per process; cheap to share with `Arc`.
pub struct Prober {
    config: RwLock<Arc<Config>>,
    options: ProberOptions,
    pool: Pool,
    states: Mutex<HashMap<String, TargetState>>,
    flights: Mutex<Flights>,
    next_flight: AtomicU64,
    per_target: Mutex<HashMap<String, TargetSlots>>,
    /// The global probe limit and its semaphore (replaced when a reload
    /// changes `limits.max_concurrent_probes`).
    global: Mutex<(usize, Arc<Semaphore>)>,
    observer: Option<Arc<dyn ProbeObserver>>,
    /// The address targets kept (`address_targets:`), at most `max_targets`.
    addresses: address::AddressBook,
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

impl Prober {
    /// A prober over `config`.
    pub fn new(
        config: Config,
        options: ProberOptions,
        observer: Option<Arc<dyn ProbeObserver>>,
    ) -> Self {
        let limit = config.global.limits.max_concurrent_probes.max(1);
        let pool = Pool::new(PoolConfig::default());
        apply_session_limits(&pool, &config);
        Self {
            config: RwLock::new(Arc::new(config)),
            options,
            pool,
            states: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            next_flight: AtomicU64::new(0),
            per_target: Mutex::new(HashMap::new()),
            global: Mutex::new((limit, Arc::new(Semaphore::new(limit)))),
            observer,
            addresses: address::AddressBook::default(),
        }
    }

    /// The config in force.
    pub fn config(&self) -> Arc<Config> {
        self.config
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Pool counters of `target`.
    pub fn pool_stats(&self, target: &str) -> PoolStats {
        match self.config().endpoint(target) {
            Some(endpoint) => self.pool.stats(&endpoint.key()),
            None => PoolStats::default(),
        }
    }

    /// Collections of `target` waiting for one of its slots (at most
    /// [`MAX_WAITING_PER_TARGET`]).
    pub fn collections_waiting(&self, target: &str) -> usize {
        self.per_target
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(target)
            .map_or(0, |slots| slots.waiting.load(Ordering::Acquire))
    }

    /// State of `target` (default when never probed).
    pub fn state(&self, target: &str) -> TargetState {
        self.lock_states().get(target).cloned().unwrap_or_default()
    }

    fn lock_states(&self) -> std::sync::MutexGuard<'_, HashMap<String, TargetState>> {
        self.states.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_flights(&self) -> std::sync::MutexGuard<'_, Flights> {
        self.flights.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Folds one probe of `job` into its target's state, under its module set.
    fn record(&self, job: &Job, observation: Observation) {
        let gap = match job.config.global.gap_reset_threshold {
            Some(threshold) => GapThreshold::Fixed(threshold),
            None => GapThreshold::Cadence,
        };
        let times = ProbeTimes {
            started: job.started,
            finished: SystemTime::now(),
        };
        self.lock_states()
            .entry(job.target.name.clone())
            .or_default()
            .record(&job.module_key(), observation, times, gap);
    }

    /// Replaces the config: sessions of changed or removed targets are closed and
    /// the state of removed targets is dropped.
    pub fn reload(&self, config: Config) {
        let old = self.config();
        let (kept_addresses, mut keep) = self.address_targets_kept(&old, &config);
        keep.extend(
            config
                .targets
                .keys()
                .filter(|name| {
                    old.targets.get(*name) == config.targets.get(*name)
                        && old.endpoint(name) == config.endpoint(name)
                })
                .filter_map(|name| config.endpoint(name).map(|e| e.key())),
        );
        self.pool.retain(|key| keep.contains(key));
        apply_session_limits(&self.pool, &config);
        let kept =
            |name: &String| config.targets.contains_key(name) || kept_addresses.contains(name);
        {
            let mut states = self.lock_states();
            states.retain(|name, _| kept(name));
            for state in states.values_mut() {
                state.retain_modules(|module| config.modules.contains_key(module));
            }
        }
        // Semaphores of kept targets survive, so running collections stay
        // counted; a changed limit takes effect for new collections.
        if let Ok(mut per_target) = self.per_target.lock() {
            per_target.retain(|name, _| kept(name));
        }
        let limit = config.global.limits.max_concurrent_probes.max(1);
        {
            let mut global = self.global.lock().unwrap_or_else(|e| e.into_inner());
            if global.0 != limit {
                // Probes in flight keep their permits of the old semaphore.
                *global = (limit, Arc::new(Semaphore::new(limit)));
            }
        }
        let mut current = self.config.write().unwrap_or_else(|e| e.into_inner());
        *current = Arc::new(config);
    }

    /// The health verdict and state of every configured target (or only one).
    pub fn verdicts(&self, only: Option<&str>) -> Vec<(String, Verdict, TargetState)> {
        let config = self.config();
        let states = self.lock_states();
        let now = SystemTime::now();
        config
            .targets
            .keys()
            .filter(|name| only.is_none_or(|o| o == name.as_str()))
            .map(|name| {
                let state = states.get(name).cloned().unwrap_or_default();
                (
                    name.clone(),
                    state.verdict(&config.global.health, now),
                    state,
                )
            })
            .collect()
    }

    /// Logs in to `target` (the startup connectivity test); the session stays
    /// pooled for the first probe.
    pub async fn check(&self, target: &str, timeout: Duration) -> Result<(), Error> {
        let endpoint = self.config().endpoint(target).ok_or_else(|| Error::Auth {
            message: format!("target {target:?} is not configured or has no auth"),
        })?;
        self.pool
            .acquire(&endpoint, deadline::after(Instant::now(), timeout))
            .await
            .map(|_| ())
    }

    /// Sends `/quit` on every pooled session (graceful shutdown).
    pub async fn shutdown(&self, until: Instant) {
        self.pool.shutdown(until).await;
    }

    /// Runs (or joins) the probe described by `request`.
    pub async fn probe(self: &Arc<Self>, request: ProbeRequest) -> Result<ProbeOutput, ProbeError> {
        let config = self.config();
        let address = self.address_target(&config, &request).await?;
        let (target, modules) = resolve(&config, &request, address)?;
        let job = Job::new(
            config,
            target,
            modules,
            request.scrape_timeout,
            self.options.timeout_offset,
        );
        // In a task of its own: a client that goes away drops this future,
        // not the probe, which still ends by its deadline and is counted.
        let task = tokio::spawn(self.clone().run(job.clone(), request.debug));
        let collection = match task.await {
            Ok(result) => result?,
            Err(e) => Arc::new(failed_collection(
                &format!("probe task failed: {e}"),
                job.timeout,
            )),
        };
        Ok(self.output(job, collection, request.debug))
    }

    /// What the HTTP layer renders for `collection`.
    fn output(&self, job: Job, collection: Arc<Collection>, debug: bool) -> ProbeOutput {
        ProbeOutput {
            probe_families: self.probe_families(&job, &collection),
            extra_labels: job
                .target
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            collection,
            target: debug.then(|| serde_yaml::to_string(job.target.as_ref()).unwrap_or_default()),
            modules: job.modules,
        }
    }

    /// One probe from start to end, counted however it ends.
    async fn run(self: Arc<Self>, job: Job, debug: bool) -> Result<Arc<Collection>, ProbeError> {
        let key = job.module_key();
        let answer = if debug {
            // Never coalesced: the trace is this request's own.
            match self.slots(&job) {
                Ok(slots) => Ok(Answer::Ran(
                    self.clone().collect(job.clone(), slots, true).await,
                )),
                Err(e) => Err(e),
            }
        } else {
            self.coalesced(&job, &key).await
        };
        let name = address::observed_name(&job.target);
        match answer {
            Err(e) => {
                self.record(
                    &job,
                    Observation {
                        error: Some(e.to_string()),
                        ..Observation::default()
                    },
                );
                if let Some(observer) = &self.observer {
                    observer.probe_refused(&name, &key);
                }
                Err(e)
            }
            Ok(answer) => {
                let (collection, shared) = match answer {
                    Answer::Ran(c) => (c, false),
                    Answer::Joined(c) => (c, true),
                    Answer::Unanswered(c) => {
                        self.record(&job, collection::observe(&c));
                        (c, true)
                    }
                };
                if let Some(observer) = &self.observer {
                    observer.probe_finished(&name, &key, &collection, shared);
                }
                Ok(collection)
            }
        }
    }

    /// A slot under the global probe limit.
    fn global_permit(&self) -> Result<OwnedSemaphorePermit, ProbeError> {
        let (limit, global) = self
            .global
            .lock()
            .map(|g| g.clone())
            .unwrap_or_else(|e| e.into_inner().clone());
        global
            .try_acquire_owned()
            .map_err(|_| ProbeError::Overloaded(limit))
    }

    /// The slots for a new collection of `job`: both at once when its target
    /// has a free one (refused when the global limit is reached), else the
    /// target's semaphore to wait on (refused when
    /// [`MAX_WAITING_PER_TARGET`] already wait). Joining a collection in
    /// flight takes neither: it adds no load.
    fn slots(&self, job: &Job) -> Result<Slots, ProbeError> {
        let limit = job.config.global.limits.max_concurrent_per_target;
        let target = self.target_slots(&job.target.name, limit);
        if let Ok(slot) = target.semaphore.clone().try_acquire_owned() {
            return Ok(Slots::Held(slot, self.global_permit()?));
        }
        let queued = target
            .waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_WAITING_PER_TARGET).then_some(n + 1)
            });
        match queued {
            Ok(_) => Ok(Slots::Wait(target.semaphore, Waiting(target.waiting))),
            Err(_) => Err(ProbeError::TargetBusy(MAX_WAITING_PER_TARGET)),
        }
    }

    /// Starts a collection of `job` or joins one in flight that ends no later
    /// than `job`'s deadline.
    async fn coalesced(self: &Arc<Self>, job: &Job, key: &str) -> Result<Answer, ProbeError> {
        let (mut result, leader) = self.join_or_start(job, key)?;
        // Wait for the collection, but never long past the own deadline (a
        // little, to let the collection's own deadline fire first).
        let wait_until = deadline::after(job.deadline, Duration::from_millis(200));
        let waited = tokio::time::timeout_at(wait_until, result.wait_for(Option::is_some)).await;
        let failed = |reason: &str| Arc::new(failed_collection(reason, job.timeout));
        Ok(match waited {
            Ok(Ok(value)) => match (value.as_ref(), leader) {
                (Some(collection), true) => Answer::Ran(collection.clone()),
                (Some(collection), false) => Answer::Joined(collection.clone()),
                (None, _) => Answer::Unanswered(failed("collection vanished")),
            },
            Ok(Err(_)) => Answer::Unanswered(failed("collection task ended without a result")),
            // The collection records itself when it ends.
            Err(_) if leader => Answer::Ran(failed("the collection overran its deadline")),
            Err(_) => Answer::Unanswered(failed("timed out waiting for the shared collection")),
        })
    }

    /// Joins the flight of (target, module set) that ends last but no later
    /// than `job`'s deadline, or starts one; `true` when started.
    fn join_or_start(
        self: &Arc<Self>,
        job: &Job,
        key: &str,
    ) -> Result<(Outcome, bool), ProbeError> {
        let flight_key = (job.target.name.clone(), key.to_string());
        let mut flights = self.lock_flights();
        let joinable = flights.get(&flight_key).and_then(|list| {
            list.iter()
                .filter(|f| f.deadline <= job.deadline)
                .max_by_key(|f| f.deadline)
        });
        if let Some(flight) = joinable {
            return Ok((flight.result.clone(), false));
        }
        let slots = self.slots(job)?;
        let id = self.next_flight.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = watch::channel(None);
        flights.entry(flight_key.clone()).or_default().push(Flight {
            id,
            deadline: job.deadline,
            result: rx.clone(),
        });
        drop(flights);
        let guard = FlightGuard {
            prober: self.clone(),
            key: flight_key,
            id,
        };
        let job = job.clone();
        tokio::spawn(async move {
            let collection = guard.prober.clone().collect(job, slots, false).await;
            drop(guard);
            let _ = tx.send(Some(collection));
        });
        Ok((rx, true))
    }

    /// The slots of `target` under `limit` (a changed limit takes effect for
    /// new collections; the waiting count carries over).
    fn target_slots(&self, target: &str, limit: usize) -> TargetSlots {
        let limit = limit.max(1);
        let mut per_target = self.per_target.lock().unwrap_or_else(|e| e.into_inner());
        let entry = per_target
            .entry(target.to_string())
            .or_insert_with(|| TargetSlots {
                limit,
                semaphore: Arc::new(Semaphore::new(limit)),
                waiting: Arc::new(AtomicUsize::new(0)),
            });
        if entry.limit != limit {
            entry.limit = limit;
            entry.semaphore = Arc::new(Semaphore::new(limit));
        }
        entry.clone()
    }

    fn probe_families(&self, job: &Job, collection: &Collection) -> Vec<Family> {
        use metrics::*;
        let mut out = vec![
            Family::single(&PROBE_SUCCESS, collection.success),
            Family::single(&PROBE_DURATION, collection.duration.as_secs_f64()),
            Family::single(&PROBE_TIMEOUT, collection.timeout.as_secs_f64()),
        ];
        let mut success = Family::new(&COLLECTOR_SUCCESS);
        let mut supported = Family::new(&COLLECTOR_SUPPORTED);
        let mut duration = Family::new(&COLLECTOR_DURATION);
        for group in &collection.groups {
            let label = vec![group.name.to_string()];
            success.push(
                label.clone(),
                matches!(group.status, GroupStatus::Ok | GroupStatus::Unsupported(_)),
            );
            supported.push(
                label.clone(),
                !matches!(group.status, GroupStatus::Unsupported(_)),
            );
            duration.push(label, group.duration.as_secs_f64());
        }
        out.extend([success, supported, duration]);
        let state = self.state(&job.target.name);
        let pool = job
            .config
            .endpoint_of(&job.target)
            .map(|e| self.pool.stats(&e.key()))
            .unwrap_or_default();
        out.extend(metrics::state_families(
            &state.module(&job.module_key()),
            &state,
            &pool,
        ));
        out
    }
}

/// The target (`address`, else the configured one `request` names) and the
/// distinct modules `request` names (when it names none, the target's
/// `module`, else `full`).
fn resolve(
    config: &Config,
    request: &ProbeRequest,
    address: Option<Arc<Target>>,
) -> Result<(Arc<Target>, Vec<Arc<Module>>), ProbeError> {
    let names = |keys: Vec<&String>| {
        keys.into_iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let target = match address {
        Some(target) => target,
        None => Arc::new(
            config
                .targets
                .get(&request.target)
                .ok_or_else(|| ProbeError::UnknownTarget {
                    name: request.target.clone(),
                })?
                .clone(),
        ),
    };
    // No module asked for: the target's own `module:`, else `full`.
    let default = [target
        .module
        .clone()
        .unwrap_or_else(|| crate::config::MODULE_FULL.to_string())];
    let requested = if request.modules.is_empty() {
        &default[..]
    } else {
        &request.modules[..]
    };
    let mut modules: Vec<Arc<Module>> = Vec::new();
    for name in requested {
        let module = config
            .modules
            .get(name)
            .ok_or_else(|| ProbeError::UnknownModule {
                name: name.clone(),
                valid: names(config.modules.keys().collect()),
            })?;
        if !modules.iter().any(|m| m.name == module.name) {
            modules.push(Arc::new(module.clone()));
        }
    }
    Ok((target, modules))
}

/// Hands each target's `sessions:` settings to the pool.
fn apply_session_limits(pool: &Pool, config: &Config) {
    for (name, target) in &config.targets {
        if let Some(endpoint) = config.endpoint(name) {
            pool.set_limits(
                endpoint.key(),
                routeros::pool::EndpointLimits {
                    max_sessions: target.sessions.max.max(1),
                    idle_timeout: target.sessions.idle_timeout,
                },
            );
        }
    }
}

/// Overall health: healthy only when every configured target is (and there is
/// at least one).
pub fn overall_status(verdicts: &[(String, Verdict, TargetState)]) -> HealthStatus {
    if verdicts.is_empty()
        || verdicts
            .iter()
            .any(|(_, v, _)| v.status != HealthStatus::Healthy)
    {
        HealthStatus::Degraded
    } else {
        HealthStatus::Healthy
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigSource;

    fn config_with(module: Option<&str>) -> Config {
        let mut config = Config::empty(ConfigSource::Demo, &["system", "connectivity"]);
        config.targets.insert(
            "r".into(),
            Target {
                module: module.map(String::from),
                ..Target::new("r", "127.0.0.1:1", "a")
            },
        );
        config
    }

    fn modules_for(config: &Config, asked: &[&str]) -> Vec<String> {
        let request = ProbeRequest {
            target: "r".into(),
            auth: None,
            modules: asked.iter().map(|m| m.to_string()).collect(),
            scrape_timeout: None,
            debug: false,
        };
        let (_, modules) = resolve(config, &request, None).expect("resolves");
        modules.iter().map(|m| m.name.clone()).collect()
    }

    /// Remembers each probe it is told of: target, module set, success.
    #[derive(Default)]
    struct Seen(Mutex<Vec<(String, String, bool)>>);

    impl ProbeObserver for Seen {
        fn probe_finished(&self, target: &str, modules: &str, c: &Collection, _shared: bool) {
            let seen = (target.into(), modules.into(), c.success);
            self.0.lock().expect("not poisoned").push(seen);
        }

        fn probe_refused(&self, target: &str, modules: &str) {
            let seen = (target.into(), modules.into(), false);
            self.0.lock().expect("not poisoned").push(seen);
        }
    }

    #[tokio::test]
    async fn a_probe_that_waits_in_vain_for_a_shared_collection_is_counted() {
        let seen = Arc::new(Seen::default());
        let observer: Arc<dyn ProbeObserver> = seen.clone();
        let prober = Arc::new(Prober::new(
            config_with(None),
            ProberOptions::default(),
            Some(observer),
        ));
        // A collection in flight that claims to end before the probe's
        // deadline, and never answers.
        let (tx, rx) = watch::channel(None);
        let flight = Flight {
            id: u64::MAX,
            deadline: Instant::now(),
            result: rx,
        };
        let key = ("r".to_string(), "connectivity".to_string());
        prober.lock_flights().insert(key, vec![flight]);
        let request = ProbeRequest {
            target: "r".into(),
            auth: None,
            modules: vec!["connectivity".into()],
            scrape_timeout: Some(Duration::from_secs(1)),
            debug: false,
        };
        let output = prober.probe(request).await.expect("a valid request");
        let error = output.collection.error.clone().unwrap_or_default();
        assert!(
            error.contains("timed out waiting for the shared collection"),
            "{error}"
        );
        let state = prober.state("r").module("connectivity");
        assert_eq!((state.error_total, state.consecutive_errors), (1, 1));
        let told = seen.0.lock().expect("not poisoned").clone();
        assert_eq!(told, [("r".to_string(), "connectivity".to_string(), false)]);
        drop(tx);
    }

    #[test]
    fn no_module_asked_means_the_targets_module_else_full() {
        assert_eq!(modules_for(&config_with(None), &[]), ["full"]);
        let own = config_with(Some("connectivity"));
        assert_eq!(modules_for(&own, &[]), ["connectivity"]);
        // A module in the request always wins over the target's.
        assert_eq!(modules_for(&own, &["full"]), ["full"]);
    }
}
