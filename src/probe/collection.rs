//! One collection: the target's session, every planned group concurrently under
//! the deadline, outcomes in plan order, and the state update.

use super::state::Observation;
use super::*;
use crate::collect::family::{Value, samples_of};

impl Prober {
    /// One collection: session, groups concurrently, state update.
    pub(super) async fn collect(
        self: Arc<Self>,
        config: Arc<Config>,
        target: Target,
        modules: Vec<Arc<Module>>,
        deadline: Instant,
        budget: Duration,
        debug: bool,
    ) -> Arc<Collection> {
        let start = Instant::now();
        let trace = Arc::new(Trace::new(debug));
        let plan = plan(&modules);
        trace.note(|| {
            format!(
                "target {} ({}), deadline {budget:?}, groups: {}",
                target.name,
                target.address,
                plan.iter()
                    .map(|(g, _)| g.name())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        });
        let semaphore =
            self.target_semaphore(&target.name, config.global.limits.max_concurrent_per_target);
        let _permit = match tokio::time::timeout_at(deadline, semaphore.acquire_owned()).await {
            Ok(Ok(permit)) => Some(permit),
            _ => None,
        };
        let mut collection = if _permit.is_none() {
            failed_collection(
                "too many concurrent collections for this target; deadline passed while waiting",
                budget,
            )
        } else {
            self.run_groups(&config, &target, plan, deadline, budget, &trace)
                .await
        };
        collection.duration = start.elapsed();
        collection.trace = trace.lines();
        let observation = observe(&collection);
        self.lock_states()
            .entry(target.name.clone())
            .or_default()
            .record(
                observation,
                SystemTime::now(),
                config.global.gap_reset_threshold,
            );
        Arc::new(collection)
    }

    async fn run_groups(
        &self,
        config: &Config,
        target: &Target,
        plan: Vec<(&'static dyn Group, Arc<Module>)>,
        deadline: Instant,
        budget: Duration,
        trace: &Arc<Trace>,
    ) -> Collection {
        let mut outcomes: Vec<GroupOutcome> = Vec::new();
        let mut families = Vec::new();
        let target = Arc::new(target.clone());
        let mut tasks = tokio::task::JoinSet::new();
        let spawn = |tasks: &mut tokio::task::JoinSet<_>,
                     index: usize,
                     group: &'static dyn Group,
                     module: Arc<Module>,
                     session: Option<Session>| {
            let ctx = Context {
                session,
                deadline,
                module,
                target: target.clone(),
                trace: trace.clone(),
                now_unix: now_unix(),
            };
            tasks
                .spawn(async move {
                    let start = Instant::now();
                    let result = tokio::time::timeout_at(deadline, group.collect(&ctx)).await;
                    (index, group, result, start.elapsed())
                })
                .id()
        };
        // Which plan entry each task runs, so a panicking collector is still
        // reported (as failed) rather than vanishing from the output.
        let mut task_groups = HashMap::new();
        // Groups that need no login start at once: a slow or hanging login must
        // not eat their share of the deadline.
        let mut needs_session = Vec::new();
        for (index, (group, module)) in plan.into_iter().enumerate() {
            if group.needs_session() {
                needs_session.push((index, group, module));
            } else {
                let id = spawn(&mut tasks, index, group, module, None);
                task_groups.insert(id, (index, group));
            }
        }
        let mut session: Option<Session> = None;
        let mut login_error: Option<Error> = None;
        if !needs_session.is_empty() {
            match config.endpoint(&target.name) {
                Some(endpoint) => match self.pool.acquire(&endpoint, deadline).await {
                    Ok(s) => session = Some(s),
                    Err(e) => {
                        trace.note(|| format!("session: {e}"));
                        login_error = Some(e);
                    }
                },
                None => {
                    login_error = Some(Error::Auth {
                        message: format!("target {:?} has no usable auth", target.name),
                    })
                }
            }
        }
        let mut skipped = Vec::new();
        for (index, group, module) in needs_session {
            match &session {
                Some(s) => {
                    let id = spawn(&mut tasks, index, group, module, Some(s.clone()));
                    task_groups.insert(id, (index, group));
                }
                None => {
                    let message = login_error
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    skipped.push((index, group.name(), message));
                }
            }
        }
        let mut finished = Vec::new();
        let mut panicked = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(done) => finished.push(done),
                Err(e) => {
                    tracing::error!(error = %e, "collector task panicked");
                    if let Some(&(index, group)) = task_groups.get(&e.id()) {
                        panicked.push((index, group.name(), format!("collector panicked: {e}")));
                    }
                }
            }
        }
        skipped.extend(panicked);
        skipped.sort_by_key(|(index, ..)| *index);
        finished.sort_by_key(|(index, ..)| *index);
        let mut skipped = skipped.into_iter().peekable();
        for (index, group, result, duration) in finished {
            while let Some((_, name, message)) = skipped.next_if(|(i, ..)| *i < index) {
                outcomes.push(GroupOutcome {
                    name,
                    status: GroupStatus::Failed(message),
                    duration: Duration::ZERO,
                });
            }
            let status = match result {
                Ok(Ok(group_families)) => {
                    families.extend(group_families);
                    GroupStatus::Ok
                }
                Ok(Err(GroupError::Unsupported(m))) => GroupStatus::Unsupported(m),
                Ok(Err(GroupError::Failed(e))) if matches!(e.root(), Error::Timeout(..)) => {
                    GroupStatus::Timeout
                }
                Ok(Err(GroupError::Failed(e))) => GroupStatus::Failed(e.to_string()),
                Err(_) => GroupStatus::Timeout,
            };
            trace.note(|| format!("collector {} -> {status:?} in {duration:?}", group.name()));
            outcomes.push(GroupOutcome {
                name: group.name(),
                status,
                duration,
            });
        }
        for (_, name, message) in skipped {
            outcomes.push(GroupOutcome {
                name,
                status: GroupStatus::Failed(message),
                duration: Duration::ZERO,
            });
        }
        let families = merge(families);
        let reachable = if session.is_some() {
            true
        } else {
            login_error.is_none() && collect::api_port_answered(&families)
        };
        let errors: Vec<String> = outcomes
            .iter()
            .filter_map(|o| match &o.status {
                GroupStatus::Failed(m) => Some(format!("{}: {m}", o.name)),
                GroupStatus::Timeout => Some(format!("{}: timed out after {budget:?}", o.name)),
                _ => None,
            })
            .collect();
        let mut error = login_error.map(|e| e.to_string());
        if error.is_none() && !reachable {
            error = Some("API port unreachable".into());
        }
        if error.is_none() && !errors.is_empty() {
            error = Some(errors.join("; "));
        }
        Collection {
            success: error.is_none(),
            error,
            families,
            groups: outcomes,
            duration: Duration::ZERO,
            budget,
            trace: Vec::new(),
        }
    }
}

/// Groups to run, each with the first module that lists it (for its options).
fn plan(modules: &[Arc<Module>]) -> Vec<(&'static dyn Group, Arc<Module>)> {
    let mut plan: Vec<(&'static dyn Group, Arc<Module>)> = Vec::new();
    for module in modules {
        for name in &module.groups {
            if plan.iter().any(|(g, _)| g.name() == name) {
                continue;
            }
            if let Some(group) = collect::group(name) {
                plan.push((group, module.clone()));
            }
        }
    }
    plan
}

pub(super) fn failed_collection(reason: &str, budget: Duration) -> Collection {
    Collection {
        families: Vec::new(),
        groups: Vec::new(),
        success: false,
        error: Some(reason.to_string()),
        duration: Duration::ZERO,
        budget,
        trace: Vec::new(),
    }
}

/// What the state tracker needs from a collection: uptime and interface counters.
fn observe(collection: &Collection) -> Observation {
    let families = &collection.families;
    let uptime_seconds = samples_of(families, &collect::SYSTEM_UPTIME)
        .next()
        .map(|s| s.value.as_f64());
    let counters = samples_of(families, &collect::INTERFACE_RX_BYTES)
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
    use crate::config::{ConfigSource, SessionLimits};

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
        let target = Target {
            name: "t".into(),
            address: "127.0.0.1:1".into(),
            auth: "a".into(),
            tls: None,
            labels: Default::default(),
            sessions: SessionLimits::default(),
            connectivity: Vec::new(),
        };
        let plan: Vec<(&'static dyn Group, Arc<Module>)> =
            vec![(&PANICS, Arc::new(Module::with_groups("m", &["panics"])))];
        let budget = Duration::from_secs(5);
        let collection = prober
            .run_groups(
                &config,
                &target,
                plan,
                Instant::now() + budget,
                budget,
                &Arc::new(Trace::new(false)),
            )
            .await;
        assert!(!collection.success);
        assert_eq!(collection.groups.len(), 1);
        match &collection.groups[0].status {
            GroupStatus::Failed(message) => assert!(message.contains("panicked"), "{message}"),
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}
