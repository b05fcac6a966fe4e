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

pub mod address;
mod collection;
use collection::{Job, failed_collection};
pub mod deadline;
pub mod metrics;
pub mod render;
pub mod state;

use crate::collect::family::{Family, merge};
use crate::collect::{self, Context, Group, GroupError, Trace};
use crate::config::{Config, Module, Target};
use routeros::{Error, Pool, PoolConfig, PoolStats, Session};
use state::{HealthStatus, TargetState, Verdict};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

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
    /// No such target in the config.
    #[error("unknown target {name:?}; configured targets: {known}")]
    UnknownTarget {
        /// What was asked for.
        name: String,
        /// The configured names, comma-separated.
        known: String,
    },
    /// No such module.
    #[error("unknown module {name:?}; valid modules: {valid}")]
    UnknownModule {
        /// What was asked for.
        name: String,
        /// The valid names, comma-separated.
        valid: String,
    },
    /// The global probe limit is reached.
    #[error("too many concurrent probes ({0}); try again later")]
    Overloaded(usize),
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
    /// Families to render, probe and state families included.
    pub families: Vec<Family>,
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

type Flight = watch::Receiver<Option<Arc<Collection>>>;

/// Observer of finished probes (the self-metrics registry implements it).
pub trait ProbeObserver: Send + Sync {
    /// Called once per probe request, after it finished.
    fn probe_finished(&self, target: &str, modules: &str, collection: &Collection, shared: bool);
}

/// The probe engine. One per process; cheap to share with `Arc`.
pub struct Prober {
    config: RwLock<Arc<Config>>,
    options: ProberOptions,
    pool: Pool,
    states: Mutex<HashMap<String, TargetState>>,
    flights: Mutex<HashMap<(String, String), Flight>>,
    per_target: Mutex<HashMap<String, (usize, Arc<Semaphore>)>>,
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

    /// State of `target` (default when never probed).
    pub fn state(&self, target: &str) -> TargetState {
        self.lock_states().get(target).cloned().unwrap_or_default()
    }

    fn lock_states(&self) -> std::sync::MutexGuard<'_, HashMap<String, TargetState>> {
        self.states.lock().unwrap_or_else(|e| e.into_inner())
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
        self.lock_states().retain(|name, _| kept(name));
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
            .acquire(&endpoint, Instant::now() + timeout)
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
        let module_timeout = modules.iter().filter_map(|m| m.timeout).min();
        let timeout = deadline::probe_timeout(
            request.scrape_timeout,
            self.options.timeout_offset,
            module_timeout,
            config.global.default_timeout,
        );
        let job = Job {
            config,
            target,
            modules,
            deadline: Instant::now() + timeout,
            timeout,
        };
        let module_key = job.module_key();
        let (collection, shared) = if request.debug {
            // Never coalesced: the trace is this request's own.
            let _slot = self.global_permit()?;
            (self.clone().collect(job.clone(), true).await, false)
        } else {
            self.coalesced(job.clone(), &module_key).await?
        };
        if let Some(observer) = &self.observer {
            let name = address::observed_name(&job.target);
            observer.probe_finished(&name, &module_key, &collection, shared);
        }
        let mut families = collection.families.clone();
        families.extend(self.probe_families(&job.config, &job.target, &collection));
        Ok(ProbeOutput {
            families,
            extra_labels: job
                .target
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            collection,
            target: request
                .debug
                .then(|| serde_yaml::to_string(job.target.as_ref()).unwrap_or_default()),
            modules: job.modules,
        })
    }

    /// A slot under the global probe limit. Only probes that start a collection
    /// take one: joining a collection in flight adds no load.
    fn global_permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ProbeError> {
        let (limit, global) = self
            .global
            .lock()
            .map(|g| g.clone())
            .unwrap_or_else(|e| e.into_inner().clone());
        global
            .try_acquire_owned()
            .map_err(|_| ProbeError::Overloaded(limit))
    }

    /// Starts a collection of `job` or joins the identical one in flight.
    /// Returns it and whether it was joined.
    async fn coalesced(
        self: &Arc<Self>,
        job: Job,
        module_key: &str,
    ) -> Result<(Arc<Collection>, bool), ProbeError> {
        let (deadline, timeout) = (job.deadline, job.timeout);
        let key = (job.target.name.clone(), module_key.to_string());
        let (mut rx, leader) = {
            let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
            match flights.get(&key) {
                Some(rx) => (rx.clone(), false),
                None => {
                    let permit = self.global_permit()?;
                    let (tx, rx) = watch::channel(None);
                    flights.insert(key.clone(), rx.clone());
                    let this = self.clone();
                    tokio::spawn(async move {
                        let _slot = permit;
                        let collection = this.clone().collect(job, false).await;
                        this.flights
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(&key);
                        let _ = tx.send(Some(collection));
                    });
                    (rx, true)
                }
            }
        };
        // Joiners wait for the leader's collection, but never past their own
        // deadline (plus a little to let the leader's deadline fire first).
        let wait_until = deadline + Duration::from_millis(200);
        let result = tokio::time::timeout_at(wait_until, rx.wait_for(Option::is_some)).await;
        let collection = match result {
            Ok(Ok(value)) => match value.as_ref() {
                Some(collection) => collection.clone(),
                None => Arc::new(failed_collection("collection vanished", timeout)),
            },
            Ok(Err(_)) => Arc::new(failed_collection(
                "collection task ended without a result",
                timeout,
            )),
            Err(_) => Arc::new(failed_collection(
                "timed out waiting for the shared collection",
                timeout,
            )),
        };
        Ok((collection, !leader))
    }

    fn target_semaphore(&self, target: &str, limit: usize) -> Arc<Semaphore> {
        let limit = limit.max(1);
        let mut per_target = self.per_target.lock().unwrap_or_else(|e| e.into_inner());
        let entry = per_target
            .entry(target.to_string())
            .or_insert_with(|| (limit, Arc::new(Semaphore::new(limit))));
        if entry.0 != limit {
            *entry = (limit, Arc::new(Semaphore::new(limit)));
        }
        entry.1.clone()
    }

    fn probe_families(
        &self,
        config: &Config,
        target: &Target,
        collection: &Collection,
    ) -> Vec<Family> {
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
        let pool = config
            .endpoint_of(target)
            .map(|e| self.pool.stats(&e.key()))
            .unwrap_or_default();
        out.extend(metrics::state_families(&self.state(&target.name), &pool));
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
                    known: names(config.targets.keys().collect()),
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

    #[test]
    fn no_module_asked_means_the_targets_module_else_full() {
        assert_eq!(modules_for(&config_with(None), &[]), ["full"]);
        let own = config_with(Some("connectivity"));
        assert_eq!(modules_for(&own, &[]), ["connectivity"]);
        // A module in the request always wins over the target's.
        assert_eq!(modules_for(&own, &["full"]), ["full"]);
    }
}
