//! One collection: the target's session, every planned group concurrently under
//! the deadline, outcomes in plan order, and the state update.

use super::state::Observation;
use super::*;
use crate::collect::ApiEvidence;
use crate::collect::facts::TargetFacts;
use crate::collect::family::{Value, samples_of};
use crate::probe::deadline;
use tokio::task::{Id as TaskId, JoinSet};

/// What one collection runs, resolved when the probe arrived; probes that join
/// it share it.
#[derive(Clone)]
pub(super) struct Job {
    /// The configuration in force when the probe arrived.
    pub config: Arc<Config>,
    pub target: Arc<Target>,
    /// Distinct modules in request order; a group takes the options of the
    /// first module that lists it.
    pub modules: Vec<Arc<Module>>,
    pub deadline: Instant,
    /// `deadline` as a duration from the probe's arrival.
    pub timeout: Duration,
    /// When the probe arrived (the state measures gaps between starts).
    pub started: SystemTime,
}

impl Job {
    /// The job of a probe arriving now with Prometheus' scrape timeout
    /// `header`: its deadline is [`deadline::probe_timeout`] from now.
    pub fn new(
        config: Arc<Config>,
        target: Arc<Target>,
        modules: Vec<Arc<Module>>,
        header: Option<Duration>,
        offset: Duration,
    ) -> Self {
        let global = &config.global;
        let timeout = deadline::probe_timeout(
            header,
            offset,
            modules.iter().filter_map(|m| m.timeout).min(),
            global.default_timeout,
            global.max_timeout,
        );
        Job {
            deadline: deadline::after(Instant::now(), timeout),
            timeout,
            started: SystemTime::now(),
            config,
            target,
            modules,
        }
    }

    /// Identifies the module set regardless of order: identical probes
    /// coalesce on (target, this key).
    pub fn module_key(&self) -> String {
        let mut names: Vec<&str> = self.modules.iter().map(|m| m.name.as_str()).collect();
        names.sort_unstable();
        names.join(",")
    }
}

/// A group to run, its place in the plan, and the module it runs for.
type Planned = (usize, &'static dyn Group, Arc<Module>);

/// How one group's task ended: its place in the plan, its outcome and, when
/// it succeeded, its families.
type Finished = (usize, GroupOutcome, Vec<Family>);

impl Prober {
    /// One collection: gets its slots (see [`Slots`]), runs the groups,
    /// records the outcome in the target's state.
    pub(super) async fn collect(
        self: Arc<Self>,
        job: Job,
        slots: Slots,
        debug: bool,
    ) -> Arc<Collection> {
        let start = Instant::now();
        let trace = Arc::new(Trace::new(debug));
        let plan = plan(&job.modules);
        trace.note(|| {
            let names: Vec<&str> = plan.iter().map(|(_, g, _)| g.name()).collect();
            format!(
                "target {} ({}), deadline {:?}, groups: {}",
                job.target.name,
                job.target.address,
                job.timeout,
                names.join(",")
            )
        });
        let held = match slots {
            Slots::Held(target, global) => Ok((target, global)),
            Slots::Wait(target, place) => {
                trace.note(|| "waiting for a slot of this target".to_string());
                let held = self.wait_for_slots(target, &job).await;
                drop(place);
                held
            }
        };
        let mut collection = match held {
            Ok(_held) => self.run_groups(&job, plan, &trace).await,
            Err(reason) => failed_collection(&reason, job.timeout),
        };
        collection.duration = start.elapsed();
        collection.trace = trace.lines();
        self.record(&job, observe(&collection));
        Arc::new(collection)
    }

    /// Waits (until the deadline) for a slot of the busy `target`, holding
    /// nothing meanwhile, then takes a global one; why not, if it cannot.
    async fn wait_for_slots(
        &self,
        target: Arc<Semaphore>,
        job: &Job,
    ) -> Result<(OwnedSemaphorePermit, OwnedSemaphorePermit), String> {
        match tokio::time::timeout_at(job.deadline, target.acquire_owned()).await {
            Ok(Ok(slot)) => Ok((slot, self.global_permit().map_err(|e| e.to_string())?)),
            _ => Err(
                "too many concurrent collections for this target; deadline passed while waiting"
                    .to_string(),
            ),
        }
    }

    /// Runs every planned group concurrently under the job's deadline. Groups
    /// that need no login start at once, so a slow or hanging login does not
    /// eat their share of the deadline; the others share the pooled session.
    async fn run_groups(&self, job: &Job, plan: Vec<Planned>, trace: &Arc<Trace>) -> Collection {
        let facts = self
            .lock_states()
            .entry(job.target.name.clone())
            .or_default()
            .facts
            .clone();
        let mut tasks = GroupTasks::new(job, trace, facts);
        let (no_login, with_login): (Vec<Planned>, Vec<Planned>) =
            plan.into_iter().partition(|(_, g, _)| !g.needs_session());
        // Issue 12: when the collection logs in, `connectivity` learns the API
        // port's status from the session (no connection of its own).
        let (api_tx, api_rx) = tokio::sync::watch::channel(None);
        if !with_login.is_empty() {
            tasks.api_evidence = Some(api_rx);
        }
        for planned in no_login {
            tasks.spawn(planned, None);
        }
        let login = if with_login.is_empty() {
            None
        } else {
            let login = self.session(job, trace).await;
            let _ = api_tx.send(Some(api_evidence(job, &login)));
            Some(login)
        };
        let mut finished = Vec::new();
        for planned in with_login {
            match &login {
                Some(Ok(session)) => tasks.spawn(planned, Some(session.clone())),
                Some(Err(e)) => finished.push(not_run(&planned, e.to_string())),
                None => {}
            }
        }
        finished.extend(tasks.join_all().await);
        finished.sort_by_key(|(index, ..)| *index);
        let mut families = Vec::new();
        let mut outcomes = Vec::with_capacity(finished.len());
        for (_, outcome, group_families) in finished {
            let (name, status, took) = (outcome.name, &outcome.status, outcome.duration);
            trace.note(|| format!("collector {name} -> {status:?} in {took:?}"));
            families.extend(group_families);
            outcomes.push(outcome);
        }
        let families = merge(families);
        let (logged_in, login_error) = match login {
            Some(Ok(_)) => (true, None),
            Some(Err(e)) => (false, Some(e)),
            None => (false, None),
        };
        let reachable =
            logged_in || (login_error.is_none() && collect::api_port_answered(&families));
        let error = probe_error(&outcomes, login_error, reachable, job.timeout);
        Collection {
            success: error.is_none(),
            error,
            families,
            groups: outcomes,
            duration: Duration::ZERO,
            timeout: job.timeout,
            trace: Vec::new(),
        }
    }

    /// The target's pooled, logged-in session.
    async fn session(&self, job: &Job, trace: &Trace) -> Result<Session, Error> {
        let result = match job.config.endpoint_of(&job.target) {
            Some(endpoint) => self.pool.acquire(&endpoint, job.deadline).await,
            None => Err(Error::Auth {
                message: format!("target {:?} has no usable auth", job.target.name),
            }),
        };
        if let Err(e) = &result {
            trace.note(|| format!("session: {e}"));
        }
        result
    }
}

/// Issue 12: what the login tells `connectivity` about the API port (see
/// [`ApiEvidence`]); a target without a usable auth tried no login.
fn api_evidence(job: &Job, login: &Result<Session, Error>) -> ApiEvidence {
    match login {
        Ok(session) => ApiEvidence::Session(session.clone()),
        Err(_) if job.config.endpoint(&job.target.name).is_none() => ApiEvidence::NotTried,
        Err(e) => ApiEvidence::LoginFailed(e.clone()),
    }
}

/// The groups' tasks of one collection. A task that panics is still reported
/// (as failed), so the group does not vanish from the output.
struct GroupTasks<'a> {
    job: &'a Job,
    /// Issue 12: the login's outcome for `connectivity`, when there is a login.
    api_evidence: Option<tokio::sync::watch::Receiver<Option<ApiEvidence>>>,
    trace: &'a Arc<Trace>,
    /// The target's remembered facts, shared by every group's context.
    facts: Arc<TargetFacts>,
    set: JoinSet<Finished>,
    /// Which planned group each task runs, to report the panicking ones.
    running: HashMap<TaskId, (usize, &'static str)>,
}

impl<'a> GroupTasks<'a> {
    fn new(job: &'a Job, trace: &'a Arc<Trace>, facts: Arc<TargetFacts>) -> Self {
        Self {
            job,
            api_evidence: None,
            trace,
            facts,
            set: JoinSet::new(),
            running: HashMap::new(),
        }
    }

    fn spawn(&mut self, (index, group, module): Planned, session: Option<Session>) {
        let ctx = Context::new(
            session,
            self.job.deadline,
            module,
            self.job.target.clone(),
            self.trace.clone(),
            now_unix(),
        )
        .with_facts(self.facts.clone());
        let ctx = match &self.api_evidence {
            Some(evidence) => ctx.with_api_evidence(evidence.clone()),
            None => ctx,
        };
        let deadline = self.job.deadline;
        let id = self
            .set
            .spawn(async move {
                let start = Instant::now();
                let result = tokio::time::timeout_at(deadline, group.collect(&ctx)).await;
                let duration = start.elapsed();
                let (status, families) = match result {
                    Ok(Ok(families)) => (GroupStatus::Ok, families),
                    Ok(Err(e)) => (status_of(e), Vec::new()),
                    Err(_) => (GroupStatus::Timeout, Vec::new()),
                };
                let outcome = GroupOutcome {
                    name: group.name(),
                    status,
                    duration,
                };
                (index, outcome, families)
            })
            .id();
        self.running.insert(id, (index, group.name()));
    }

    /// Every task's result, panicked ones as failures.
    async fn join_all(mut self) -> Vec<Finished> {
        let mut finished = Vec::with_capacity(self.running.len());
        while let Some(joined) = self.set.join_next().await {
            match joined {
                Ok(done) => finished.push(done),
                Err(e) => {
                    tracing::error!(error = %e, "collector task panicked");
                    if let Some(&(index, name)) = self.running.get(&e.id()) {
                        let outcome = GroupOutcome {
                            name,
                            status: GroupStatus::Failed(format!("collector panicked: {e}")),
                            duration: Duration::ZERO,
                        };
                        finished.push((index, outcome, Vec::new()));
                    }
                }
            }
        }
        finished
    }
}

/// A group's error as its status: a client timeout is reported as a timeout.
fn status_of(error: GroupError) -> GroupStatus {
    match error {
        GroupError::Unsupported(m) => GroupStatus::Unsupported(m),
        GroupError::Failed(e) if matches!(e.root(), Error::Timeout(..)) => GroupStatus::Timeout,
        GroupError::Failed(e) => GroupStatus::Failed(e.to_string()),
    }
}

/// A group that never ran because there was no session.
fn not_run((index, group, _): &Planned, reason: String) -> Finished {
    let outcome = GroupOutcome {
        name: group.name(),
        status: GroupStatus::Failed(reason),
        duration: Duration::ZERO,
    };
    (*index, outcome, Vec::new())
}

/// Why the probe failed, if it did: the login error, else an unreachable API
/// port, else every failed or timed-out group.
fn probe_error(
    outcomes: &[GroupOutcome],
    login_error: Option<Error>,
    reachable: bool,
    timeout: Duration,
) -> Option<String> {
    if let Some(e) = login_error {
        return Some(e.to_string());
    }
    if !reachable {
        return Some("API port unreachable".into());
    }
    let errors: Vec<String> = outcomes
        .iter()
        .filter_map(|o| match &o.status {
            GroupStatus::Failed(m) => Some(format!("{}: {m}", o.name)),
            GroupStatus::Timeout => Some(format!("{}: timed out after {timeout:?}", o.name)),
            _ => None,
        })
        .collect();
    (!errors.is_empty()).then(|| errors.join("; "))
}

/// Groups to run in plan order, each with the first module that lists it
/// (for its options).
fn plan(modules: &[Arc<Module>]) -> Vec<Planned> {
    let mut plan: Vec<Planned> = Vec::new();
    for module in modules {
        for name in &module.groups {
            if plan.iter().any(|(_, g, _)| g.name() == name) {
                continue;
            }
            if let Some(group) = collect::group(name) {
                plan.push((plan.len(), group, module.clone()));
            }
        }
    }
    plan
}

pub(super) fn failed_collection(reason: &str, timeout: Duration) -> Collection {
    Collection {
        families: Vec::new(),
        groups: Vec::new(),
        success: false,
        error: Some(reason.to_string()),
        duration: Duration::ZERO,
        timeout,
        trace: Vec::new(),
    }
}

/// What the state tracker needs from a collection: uptime and interface
/// counters. Dynamic interfaces (PPP subscribers, when the module reports
/// them) are left out: each reconnect starts their counters from zero, which
/// says nothing about the router's counters.
pub(super) fn observe(collection: &Collection) -> Observation {
    let families = &collection.families;
    let uptime_seconds = samples_of(families, &collect::SYSTEM_UPTIME)
        .next()
        .map(|s| s.value.as_f64());
    let dynamic = collect::dynamic_interfaces(families);
    let counters = samples_of(families, &collect::INTERFACE_RX_BYTES)
        .filter(|s| {
            !s.labels
                .first()
                .is_some_and(|name| dynamic.contains(name.as_str()))
        })
        .filter_map(|s| match s.value {
            Value::Int(v) => Some((s.labels.join("\u{1f}"), v)),
            _ => None,
        })
        .collect();
    Observation {
        success: collection.success,
        duration: collection.duration,
        error: collection.error.clone(),
        uptime_seconds,
        counters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::MetricDesc;
    use crate::config::ConfigSource;

    /// A collector with a bug.
    struct Panics;

    impl Group for Panics {
        fn name(&self) -> &'static str {
            "panics"
        }

        fn needs_session(&self) -> bool {
            false
        }

        fn metrics(&self) -> &'static [&'static MetricDesc] {
            &[]
        }

        fn collect<'a>(&'a self, _ctx: &'a Context) -> collect::GroupFuture<'a> {
            Box::pin(async { panic!("collector bug") })
        }
    }

    static PANICS: Panics = Panics;

    #[tokio::test]
    async fn a_panicking_collector_is_reported_as_failed() {
        let config = Config::empty(ConfigSource::Demo, &[]);
        let prober = Prober::new(config.clone(), ProberOptions::default(), None);
        let target = Target::new("t", "127.0.0.1:1", "a");
        let module = Arc::new(Module::with_groups("m", &["panics"]));
        let plan: Vec<Planned> = vec![(0, &PANICS, module.clone())];
        let timeout = Duration::from_secs(5);
        let job = Job {
            config: Arc::new(config),
            target: Arc::new(target),
            modules: vec![module],
            deadline: deadline::after(Instant::now(), timeout),
            timeout,
            started: SystemTime::now(),
        };
        let collection = prober
            .run_groups(&job, plan, &Arc::new(Trace::new(false)))
            .await;
        assert!(!collection.success);
        assert_eq!(collection.groups.len(), 1);
        match &collection.groups[0].status {
            GroupStatus::Failed(message) => assert!(message.contains("panicked"), "{message}"),
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn dynamic_interfaces_are_not_counters_the_tracker_compares() {
        let mut rx = Family::new(&collect::INTERFACE_RX_BYTES);
        let mut info = Family::new(&collect::INTERFACE_INFO);
        for (name, dynamic) in [("ether1", "false"), ("<pppoe-sub-00001>", "true")] {
            rx.push(vec![name.to_string()], 1_000u64);
            let labels = [name, "", "ether", "", "false", dynamic];
            info.push(labels.iter().copied(), 1u64);
        }
        let collection = Collection {
            families: vec![rx, info],
            ..failed_collection("", Duration::ZERO)
        };
        let counters = observe(&collection).counters;
        assert_eq!(counters.keys().collect::<Vec<_>>(), ["ether1"]);
    }
}
