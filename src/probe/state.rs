//! Per-target state across probes ("gap-reset state") and the health policy.
//!
//! Counters are exported raw, exactly as the router reports them, so Prometheus'
//! `rate()` handles resets and nothing is lost during a scrape gap (the original
//! exporter's delta counters dropped gap traffic and re-added it as a spike). What
//! this state adds is *knowledge* about the series: how long since the previous
//! successful probe (the gap), and a **baseline reset** whenever that gap is
//! longer than the probes' cadence allows, the router's uptime went backwards (a
//! reboot) or an interface counter went backwards without a reboot (a counter
//! reset). Each reset is recorded with its reason and time, in `/health` and as
//! metrics.
//!
//! Two kinds of knowledge are kept apart:
//!
//! * **per module set** ([`ModuleState`], keyed by the sorted module names of
//!   the probe): last result, consecutive errors, success and error totals, the
//!   cadence and its gaps. A `connectivity` probe every 15 s says nothing about
//!   whether `full` can log in, so one must not reset the other's errors;
//! * **per target** ([`TargetState`]): reboots, counter resets and the
//!   [`TargetFacts`] the groups detected, which are facts about the router
//!   whichever module saw them.

use crate::collect::facts::TargetFacts;
use crate::config::HealthPolicy;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why a target's counter baseline was reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetReason {
    /// The time since the previous successful probe exceeded the threshold.
    Gap,
    /// The router's uptime went backwards.
    Reboot,
    /// A counter went backwards while uptime did not.
    CounterReset,
}

impl ResetReason {
    /// All reasons, for metrics that always show every label value.
    pub const ALL: [ResetReason; 3] = [
        ResetReason::Gap,
        ResetReason::Reboot,
        ResetReason::CounterReset,
    ];

    /// The `reason` label value (`gap`, `reboot`, `counter_reset`).
    pub fn as_str(self) -> &'static str {
        match self {
            ResetReason::Gap => "gap",
            ResetReason::Reboot => "reboot",
            ResetReason::CounterReset => "counter_reset",
        }
    }
}

/// When the time between two successful probes is a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapThreshold {
    /// Longer than this (`gap_reset_threshold`, `GAP_RESET_THRESHOLD_SECONDS`).
    Fixed(Duration),
    /// Longer than [`CADENCE_FACTOR`] × the upper quartile of the last
    /// [`CADENCE_HISTORY`] intervals between probe starts of the module set
    /// (see [`GapThreshold::seconds`]).
    Cadence,
}

/// Intervals between probe starts kept per module set.
pub const CADENCE_HISTORY: usize = 16;
/// Intervals needed before the upper quartile is used; with fewer, the
/// longest interval seen stands in for it.
pub const CADENCE_MIN_INTERVALS: usize = 4;
/// A gap is longer than this many times the usual interval. Not 2: one missed
/// scrape makes an interval of twice the cadence, which must count.
pub const CADENCE_FACTOR: f64 = 1.5;
/// The threshold before any interval of a module set is known (its second
/// probe): long enough for any usual `scrape_interval`.
pub const UNKNOWN_CADENCE_THRESHOLD: Duration = Duration::from_secs(300);

impl GapThreshold {
    /// The threshold in seconds, given the recent intervals between probe
    /// starts (oldest first). The upper quartile, not the median, so two
    /// interleaved schedules (an HA pair whose probes did not coalesce:
    /// intervals of 10 s and 50 s in turn) do not make every long one a gap;
    /// a module set whose probes often come late adapts to that.
    pub fn seconds(self, intervals: &VecDeque<f64>) -> f64 {
        match self {
            GapThreshold::Fixed(d) => d.as_secs_f64(),
            GapThreshold::Cadence if intervals.is_empty() => {
                UNKNOWN_CADENCE_THRESHOLD.as_secs_f64()
            }
            GapThreshold::Cadence => {
                let mut sorted: Vec<f64> = intervals.iter().copied().collect();
                sorted.sort_by(f64::total_cmp);
                let usual = if sorted.len() < CADENCE_MIN_INTERVALS {
                    sorted[sorted.len() - 1]
                } else {
                    // Nearest rank: the smallest value at or above 75 %.
                    sorted[(sorted.len() * 3).div_ceil(4) - 1]
                };
                CADENCE_FACTOR * usual
            }
        }
    }
}

/// What one collection observed, as input to [`TargetState::record`].
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// Whether the probe succeeded.
    pub success: bool,
    /// How long it took.
    pub duration: Duration,
    /// Why it failed (router messages verbatim), if it did.
    pub error: Option<String>,
    /// Router uptime in seconds, when the system group reported it.
    pub uptime_seconds: Option<f64>,
    /// Counter values by series (e.g. interface name → rx bytes), when reported.
    pub counters: HashMap<String, u64>,
}

/// When a probe started and ended.
#[derive(Debug, Clone, Copy)]
pub struct ProbeTimes {
    /// When the probe arrived: gaps and the cadence are measured between
    /// starts, so a probe that takes longer than the previous one does not
    /// look like a late one.
    pub started: SystemTime,
    /// When its result was recorded.
    pub finished: SystemTime,
}

/// A recorded baseline reset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResetEvent {
    /// What reset the baseline; one probe can record a gap and a reboot.
    pub reason: ResetReason,
    /// When the probe that saw it finished, in Unix seconds.
    pub at_unix: f64,
}

/// Module sets kept per target; the least recently probed one is forgotten
/// beyond this, so requests naming ever new module combinations cannot grow
/// memory.
pub const MAX_MODULE_SETS: usize = 32;

/// Everything kept about one module set of a target between probes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ModuleState {
    /// When the last probe finished (Unix seconds).
    pub last_probe_unix: Option<f64>,
    /// Whether the last probe succeeded; `None` before the first.
    pub last_success: Option<bool>,
    /// How long it took, in seconds.
    pub last_duration_seconds: Option<f64>,
    /// Its error, if any (router messages verbatim).
    pub last_error: Option<String>,
    /// When the last successful probe finished (Unix seconds).
    pub last_success_unix: Option<f64>,
    /// Failed probes since the last success.
    pub consecutive_errors: u64,
    /// Successful probes since the exporter started (`mikrotik_scrape_success_total`).
    pub success_total: u64,
    /// Failed probes since the exporter started (`mikrotik_scrape_errors_total`).
    pub error_total: u64,
    /// Seconds between the starts of the two most recent successful probes.
    pub gap_seconds: Option<f64>,
    /// The gap threshold the last successful probe was judged by, in seconds.
    pub gap_threshold_seconds: Option<f64>,
    /// Gap resets (`gap` is the only reason kept per module set).
    pub resets: BTreeMap<ResetReason, u64>,
    /// The most recent gap reset.
    pub last_reset: Option<ResetEvent>,
    /// Start of the most recent probe (Unix seconds).
    #[serde(skip)]
    last_start: Option<f64>,
    /// Start of the most recent successful probe (Unix seconds).
    #[serde(skip)]
    last_success_start: Option<f64>,
    /// Recent intervals between probe starts, oldest first.
    #[serde(skip)]
    intervals: VecDeque<f64>,
}

/// Everything kept about one target between probes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TargetState {
    /// Per module set, keyed by the probe's sorted module names (`full`,
    /// `connectivity`, `a,b`).
    pub modules: BTreeMap<String, ModuleState>,
    /// Baseline resets the router caused (reboot, counter reset); gaps are
    /// kept per module set.
    pub resets: BTreeMap<ResetReason, u64>,
    /// The most recent of them.
    pub last_reset: Option<ResetEvent>,
    #[serde(skip)]
    last_uptime: Option<f64>,
    #[serde(skip)]
    last_counters: HashMap<String, u64>,
    /// Version and menu variants the groups detected, forgotten on a reboot
    /// or a gap (see `collect::facts`). Shared with running collections.
    #[serde(skip)]
    pub facts: Arc<TargetFacts>,
}

fn unix(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

fn count(
    resets: &mut BTreeMap<ResetReason, u64>,
    last: &mut Option<ResetEvent>,
    event: ResetEvent,
) {
    *resets.entry(event.reason).or_default() += 1;
    *last = Some(event);
}

impl ModuleState {
    /// Folds one probe into the module set's state; returns whether it
    /// recorded a gap.
    pub fn record(
        &mut self,
        observation: &Observation,
        times: ProbeTimes,
        gap: GapThreshold,
    ) -> bool {
        let (start, now) = (unix(times.started), unix(times.finished));
        // Judged against the cadence before this probe, so a late probe does
        // not excuse itself.
        let threshold = gap.seconds(&self.intervals);
        match self.last_start {
            Some(previous) if start > previous => {
                if self.intervals.len() == CADENCE_HISTORY {
                    self.intervals.pop_front();
                }
                self.intervals.push_back(start - previous);
                self.last_start = Some(start);
            }
            // Probes finishing out of order: the cadence is about starts.
            Some(_) => {}
            None => self.last_start = Some(start),
        }
        self.last_probe_unix = Some(now);
        self.last_success = Some(observation.success);
        self.last_duration_seconds = Some(observation.duration.as_secs_f64());
        self.last_error = observation.error.clone();
        if !observation.success {
            self.consecutive_errors += 1;
            self.error_total += 1;
            return false;
        }
        self.success_total += 1;
        self.consecutive_errors = 0;
        self.last_success_unix = Some(now);
        let mut gap_found = false;
        if let Some(previous) = self.last_success_start {
            let gap = (start - previous).max(0.0);
            self.gap_seconds = Some(gap);
            self.gap_threshold_seconds = Some(threshold);
            if gap > threshold {
                gap_found = true;
                let event = ResetEvent {
                    reason: ResetReason::Gap,
                    at_unix: now,
                };
                count(&mut self.resets, &mut self.last_reset, event);
            }
        }
        if self
            .last_success_start
            .is_none_or(|previous| start > previous)
        {
            self.last_success_start = Some(start);
        }
        gap_found
    }

    /// Resets by `reason` so far (only `gap` is counted per module set).
    pub fn resets_for(&self, reason: ResetReason) -> u64 {
        self.resets.get(&reason).copied().unwrap_or_default()
    }

    /// Seconds since the last probe finished, at `now`.
    fn age(&self, now: SystemTime) -> Option<f64> {
        self.last_probe_unix.map(|t| (unix(now) - t).max(0.0))
    }

    /// The health verdict of this module set under `policy` at `now`.
    pub fn verdict(&self, policy: &HealthPolicy, now: SystemTime) -> Verdict {
        if self.last_probe_unix.is_none() {
            return Verdict::new(HealthStatus::Unknown, "not probed yet".into());
        }
        let error = || self.last_error.as_deref().unwrap_or("unknown error");
        if self.consecutive_errors >= u64::from(policy.max_consecutive_errors) {
            let reason = format!(
                "{} consecutive failed probes (threshold {}): {}",
                self.consecutive_errors,
                policy.max_consecutive_errors,
                error()
            );
            return Verdict::new(HealthStatus::Degraded, reason);
        }
        let Some(last_success) = self.last_success_unix else {
            let reason = format!("no successful probe yet: {}", error());
            return Verdict::new(HealthStatus::Degraded, reason);
        };
        let age = (unix(now) - last_success).max(0.0);
        if age > policy.stale_after.as_secs_f64() {
            let reason = format!(
                "last successful probe {age:.0}s ago (stale after {}s)",
                policy.stale_after.as_secs()
            );
            return Verdict::new(HealthStatus::Degraded, reason);
        }
        let reason = if self.consecutive_errors > 0 {
            format!(
                "recent success; {} failure(s) since: {}",
                self.consecutive_errors,
                error()
            )
        } else {
            "last probe succeeded".into()
        };
        Verdict::new(HealthStatus::Healthy, reason)
    }
}

impl TargetState {
    /// Folds one probe of the module set `module_key` into the state: its
    /// result and gap per module set, reboots and counter resets per target.
    pub fn record(
        &mut self,
        module_key: &str,
        observation: Observation,
        times: ProbeTimes,
        gap: GapThreshold,
    ) {
        let gap_found = self.module_mut(module_key).record(&observation, times, gap);
        if !observation.success {
            return;
        }
        let now = unix(times.finished);
        let rebooted = matches!(
            (self.last_uptime, observation.uptime_seconds),
            (Some(before), Some(after)) if after < before
        );
        let reason = if rebooted {
            Some(ResetReason::Reboot)
        } else if observation.counters.iter().any(|(series, value)| {
            self.last_counters
                .get(series)
                .is_some_and(|before| value < before)
        }) {
            Some(ResetReason::CounterReset)
        } else {
            None
        };
        if let Some(reason) = reason {
            let event = ResetEvent {
                reason,
                at_unix: now,
            };
            count(&mut self.resets, &mut self.last_reset, event);
        }
        // A reboot can change the version and the packages: detect again. A
        // gap hides a reboot only when no uptime tells (a module without the
        // system group); with an uptime, a reboot in the gap shows as one.
        if rebooted || (gap_found && observation.uptime_seconds.is_none()) {
            self.facts.forget();
        }
        if observation.uptime_seconds.is_some() {
            self.last_uptime = observation.uptime_seconds;
        }
        if !observation.counters.is_empty() {
            self.last_counters = observation.counters;
        }
    }

    /// The state of `module_key`, created when new; beyond
    /// [`MAX_MODULE_SETS`] the least recently probed set is forgotten.
    fn module_mut(&mut self, module_key: &str) -> &mut ModuleState {
        if !self.modules.contains_key(module_key) && self.modules.len() >= MAX_MODULE_SETS {
            let oldest = self
                .modules
                .iter()
                .min_by(|a, b| {
                    let at = |m: &ModuleState| m.last_probe_unix.unwrap_or_default();
                    at(a.1).total_cmp(&at(b.1))
                })
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                self.modules.remove(&oldest);
            }
        }
        self.modules.entry(module_key.to_string()).or_default()
    }

    /// The state of `module_key` (default when never probed).
    pub fn module(&self, module_key: &str) -> ModuleState {
        self.modules.get(module_key).cloned().unwrap_or_default()
    }

    /// Forgets module sets that name a module outside `known` (after a
    /// reload removed it).
    pub fn retain_modules(&mut self, known: impl Fn(&str) -> bool) {
        self.modules.retain(|key, _| key.split(',').all(&known));
    }

    /// Reboot and counter resets of the target by `reason` so far.
    pub fn resets_for(&self, reason: ResetReason) -> u64 {
        self.resets.get(&reason).copied().unwrap_or_default()
    }

    /// The error of the most recently probed module set, if it failed.
    pub fn last_error(&self) -> Option<&str> {
        self.modules
            .values()
            .max_by(|a, b| {
                let at = |m: &ModuleState| m.last_probe_unix.unwrap_or_default();
                at(a).total_cmp(&at(b))
            })
            .and_then(|m| m.last_error.as_deref())
    }

    /// Each module set's verdict, and whether it counts for the target: only
    /// module sets probed within `stale_after` do (one probed by hand a week
    /// ago says nothing about today).
    pub fn module_verdicts(
        &self,
        policy: &HealthPolicy,
        now: SystemTime,
    ) -> Vec<(String, Verdict, bool)> {
        self.modules
            .iter()
            .map(|(key, module)| {
                let counts = module
                    .age(now)
                    .is_some_and(|age| age <= policy.stale_after.as_secs_f64());
                (key.clone(), module.verdict(policy, now), counts)
            })
            .collect()
    }

    /// The target's verdict: healthy only when every module set probed
    /// within `stale_after` is; the reason names each one that is not.
    pub fn verdict(&self, policy: &HealthPolicy, now: SystemTime) -> Verdict {
        if self.modules.is_empty() {
            return Verdict::new(HealthStatus::Unknown, "not probed yet".into());
        }
        let verdicts = self.module_verdicts(policy, now);
        let counted: Vec<&(String, Verdict, bool)> =
            verdicts.iter().filter(|(_, _, counts)| *counts).collect();
        if counted.is_empty() {
            let reason = format!("no probe in the last {}s", policy.stale_after.as_secs());
            return Verdict::new(HealthStatus::Degraded, reason);
        }
        let unhealthy: Vec<String> = counted
            .iter()
            .filter(|(_, v, _)| v.status != HealthStatus::Healthy)
            .map(|(key, v, _)| format!("{key}: {}", v.reason))
            .collect();
        if !unhealthy.is_empty() {
            return Verdict::new(HealthStatus::Degraded, unhealthy.join("; "));
        }
        let reason = match counted.as_slice() {
            [(_, only, _)] => only.reason.clone(),
            _ => {
                let keys: Vec<&str> = counted.iter().map(|(k, _, _)| k.as_str()).collect();
                format!("every module set healthy ({})", keys.join("; "))
            }
        };
        Verdict::new(HealthStatus::Healthy, reason)
    }
}

/// How a target is doing, as `/health` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Recent success, few consecutive errors.
    Healthy,
    /// Stale, failing, or never successful.
    Degraded,
    /// Never probed.
    Unknown,
}

/// A target's health status and why (`/health`, the landing page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Healthy, degraded, or unknown before the first probe.
    pub status: HealthStatus,
    /// Why, in words; the router's message verbatim when one caused it.
    pub reason: String,
}

impl Verdict {
    fn new(status: HealthStatus, reason: String) -> Self {
        Verdict { status, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::facts::RosVersion;

    const FIXED: GapThreshold = GapThreshold::Fixed(Duration::from_secs(60));
    const KEY: &str = "full";

    fn at(secs: f64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs_f64(1_000_000.0 + secs)
    }

    /// A probe that started at `secs` and took a second.
    fn started(secs: f64) -> ProbeTimes {
        ProbeTimes {
            started: at(secs),
            finished: at(secs + 1.0),
        }
    }

    fn ok(uptime: f64, rx: u64) -> Observation {
        Observation {
            success: true,
            uptime_seconds: Some(uptime),
            counters: HashMap::from([("ether1".to_string(), rx)]),
            ..Observation::default()
        }
    }

    fn bare_ok() -> Observation {
        Observation {
            success: true,
            ..Observation::default()
        }
    }

    fn failed(error: &str) -> Observation {
        Observation {
            success: false,
            error: Some(error.into()),
            ..Observation::default()
        }
    }

    #[test]
    fn steady_probes_have_no_resets() {
        let mut s = TargetState::default();
        s.record(KEY, ok(100.0, 10), started(0.0), FIXED);
        s.record(KEY, ok(115.0, 20), started(15.0), FIXED);
        let m = s.module(KEY);
        assert_eq!(m.gap_seconds, Some(15.0));
        assert!(m.resets.is_empty() && s.resets.is_empty());
        assert_eq!(m.success_total, 2);
    }

    #[test]
    fn facts_are_forgotten_on_a_reboot_or_a_gap_without_uptime() {
        use crate::collect::facts::Fact;
        let remembered = |s: &TargetState| !s.facts.is_empty();
        let learn = |s: &TargetState| {
            let version = Fact::Version(RosVersion::new(7, 16, 0));
            s.facts.remember("version".into(), version);
        };
        let mut s = TargetState::default();
        s.record(KEY, ok(100.0, 10), started(0.0), FIXED);
        learn(&s);
        s.record(KEY, ok(115.0, 5), started(15.0), FIXED);
        assert!(remembered(&s), "a counter reset does not change packages");
        s.record(KEY, failed("timeout"), started(20.0), FIXED);
        assert!(remembered(&s), "a failed probe alone proves nothing");
        s.record(KEY, ok(10.0, 1), started(30.0), FIXED);
        assert!(!remembered(&s), "forgotten on a reboot");
        learn(&s);
        s.record(KEY, ok(300.0, 2), started(300.0), FIXED);
        assert!(remembered(&s), "a gap whose uptime shows no reboot");
        s.record(KEY, bare_ok(), started(600.0), FIXED);
        assert!(!remembered(&s), "forgotten after a gap without an uptime");
    }

    #[test]
    fn a_long_gap_is_a_baseline_reset() {
        let mut s = TargetState::default();
        s.record(KEY, ok(100.0, 10), started(0.0), FIXED);
        s.record(KEY, failed("timeout"), started(15.0), FIXED);
        s.record(KEY, ok(190.0, 30), started(90.0), FIXED);
        let m = s.module(KEY);
        assert_eq!(m.gap_seconds, Some(90.0));
        assert_eq!(m.resets_for(ResetReason::Gap), 1);
        assert_eq!(
            m.last_reset.as_ref().map(|r| r.reason),
            Some(ResetReason::Gap)
        );
        assert_eq!(m.error_total, 1);
        assert_eq!(m.consecutive_errors, 0);
    }

    #[test]
    fn gaps_are_measured_between_starts_not_ends() {
        let mut s = TargetState::default();
        // A quick probe, then one a minute later that takes 9 s: 68 s from
        // end to end, but the second started on time.
        s.record(KEY, bare_ok(), started(0.0), FIXED);
        let slow = ProbeTimes {
            started: at(60.0),
            finished: at(69.0),
        };
        s.record(KEY, bare_ok(), slow, FIXED);
        let m = s.module(KEY);
        assert_eq!(m.gap_seconds, Some(60.0));
        assert_eq!(m.resets_for(ResetReason::Gap), 0);
    }

    /// Deterministic jitter in [-5, 5] s (a linear congruential generator).
    fn jitter(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((*seed >> 33) as f64 / f64::from(1u32 << 31)) * 10.0 - 5.0
    }

    #[test]
    fn a_jittery_cadence_is_no_gap_and_a_missed_scrape_is_one() {
        let mut s = TargetState::default();
        let mut seed = 42;
        let (mut start, mut last) = (0.0, 0.0);
        for _ in 0..100 {
            s.record(KEY, bare_ok(), started(start), GapThreshold::Cadence);
            last = start;
            start += 60.0 + jitter(&mut seed);
        }
        let m = s.module(KEY);
        assert_eq!(m.resets_for(ResetReason::Gap), 0, "{m:?}");
        // The old fixed default of 60 s would have seen gaps in about half.
        let mut fixed = TargetState::default();
        let (mut seed, mut start) = (42, 0.0);
        for _ in 0..100 {
            fixed.record(KEY, bare_ok(), started(start), FIXED);
            start += 60.0 + jitter(&mut seed);
        }
        assert!(fixed.module(KEY).resets_for(ResetReason::Gap) > 20);

        // One scrape missed: 120 s since the previous start.
        s.record(KEY, bare_ok(), started(last + 120.0), GapThreshold::Cadence);
        let m = s.module(KEY);
        assert_eq!(m.resets_for(ResetReason::Gap), 1);
        assert!(m.gap_threshold_seconds.is_some_and(|t| t < 110.0), "{m:?}");
    }

    #[test]
    fn the_cadence_threshold_before_enough_intervals() {
        let none = VecDeque::new();
        assert_eq!(GapThreshold::Cadence.seconds(&none), 300.0);
        let few = VecDeque::from([15.0, 16.0]);
        assert_eq!(GapThreshold::Cadence.seconds(&few), 24.0);
        // Interleaved schedules: the upper quartile, not the median.
        let ha: VecDeque<f64> = (0..16)
            .map(|i| if i % 2 == 0 { 10.0 } else { 50.0 })
            .collect();
        assert_eq!(GapThreshold::Cadence.seconds(&ha), 75.0);
        let fixed = GapThreshold::Fixed(Duration::from_secs(7));
        assert_eq!(fixed.seconds(&ha), 7.0);
    }

    #[test]
    fn uptime_backwards_is_a_reboot_and_counters_backwards_a_counter_reset() {
        let mut s = TargetState::default();
        s.record(KEY, ok(1_000.0, 500), started(0.0), FIXED);
        // Seen by another module set: still the same router.
        s.record("system", ok(5.0, 1), started(15.0), FIXED);
        assert_eq!(s.resets_for(ResetReason::Reboot), 1);
        assert_eq!(
            s.resets_for(ResetReason::CounterReset),
            0,
            "a reboot explains the counters"
        );
        s.record(KEY, ok(20.0, 0), started(30.0), FIXED);
        assert_eq!(s.resets_for(ResetReason::CounterReset), 1);
    }

    fn policy() -> HealthPolicy {
        HealthPolicy {
            stale_after: Duration::from_secs(300),
            max_consecutive_errors: 3,
        }
    }

    #[test]
    fn health_policy() {
        let policy = policy();
        let mut s = TargetState::default();
        assert_eq!(s.verdict(&policy, at(0.0)).status, HealthStatus::Unknown);
        s.record(
            KEY,
            failed("invalid user name or password (6)"),
            started(0.0),
            FIXED,
        );
        let h = s.verdict(&policy, at(1.0));
        assert_eq!(h.status, HealthStatus::Degraded);
        assert!(h.reason.contains("invalid user name or password (6)"));
        s.record(KEY, ok(1.0, 1), started(10.0), FIXED);
        assert_eq!(s.verdict(&policy, at(11.0)).status, HealthStatus::Healthy);
        let stale = s.verdict(&policy, at(400.0));
        assert_eq!(stale.status, HealthStatus::Degraded, "{stale:?}");
        for i in 0..3 {
            s.record(KEY, failed("timeout"), started(20.0 + f64::from(i)), FIXED);
        }
        let h = s.verdict(&policy, at(30.0));
        assert_eq!(h.status, HealthStatus::Degraded);
        assert!(h.reason.contains("full: 3 consecutive"), "{}", h.reason);
    }

    #[test]
    fn a_succeeding_module_set_does_not_hide_a_failing_one() {
        let policy = policy();
        let mut s = TargetState::default();
        for i in 0..8 {
            let t = 15.0 * f64::from(i);
            s.record("connectivity", bare_ok(), started(t), FIXED);
            if i % 4 == 0 {
                let wrong = failed("invalid user name or password (6)");
                s.record("full", wrong, started(t), FIXED);
            }
        }
        let connectivity = s.module("connectivity");
        assert_eq!(
            (connectivity.success_total, connectivity.error_total),
            (8, 0)
        );
        let full = s.module("full");
        assert_eq!((full.consecutive_errors, full.error_total), (2, 2));
        let h = s.verdict(&policy, at(120.0));
        assert_eq!(h.status, HealthStatus::Degraded, "{h:?}");
        assert!(
            h.reason
                .starts_with("full: no successful probe yet: invalid user name"),
            "{h:?}"
        );
        assert!(!h.reason.contains("connectivity"), "{h:?}");
    }

    #[test]
    fn only_module_sets_probed_within_stale_after_count() {
        let policy = policy();
        let mut s = TargetState::default();
        s.record("full", failed("timeout"), started(0.0), FIXED);
        s.record("connectivity", bare_ok(), started(400.0), FIXED);
        let h = s.verdict(&policy, at(410.0));
        assert_eq!(h.status, HealthStatus::Healthy, "{h:?}");
        let counts: Vec<bool> = s
            .module_verdicts(&policy, at(410.0))
            .into_iter()
            .map(|(_, _, counts)| counts)
            .collect();
        assert_eq!(counts, [true, false], "connectivity, full");
        let h = s.verdict(&policy, at(800.0));
        assert_eq!(h.status, HealthStatus::Degraded);
        assert!(h.reason.contains("no probe in the last 300s"), "{h:?}");
    }

    #[test]
    fn module_sets_per_target_are_bounded() {
        let mut s = TargetState::default();
        for i in 0..(MAX_MODULE_SETS + 5) {
            s.record(&format!("m{i}"), bare_ok(), started(i as f64), FIXED);
        }
        assert_eq!(s.modules.len(), MAX_MODULE_SETS);
        assert!(!s.modules.contains_key("m0"), "the oldest went first");
        assert!(s.modules.contains_key(&format!("m{}", MAX_MODULE_SETS + 4)));
        s.retain_modules(|name| name != "m10");
        assert!(!s.modules.contains_key("m10"));
    }
}
