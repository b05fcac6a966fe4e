//! Per-target state across probes ("gap-reset state") and the health policy.
//!
//! Counters are exported raw, exactly as the router reports them, so Prometheus'
//! `rate()` handles resets and nothing is lost during a scrape gap (the original
//! exporter's delta counters dropped gap traffic and re-added it as a spike). What
//! this state adds is *knowledge* about the series: how long since the previous
//! successful probe (the gap), and a **baseline reset** whenever that gap exceeds
//! `gap_reset_threshold`, the router's uptime went backwards (a reboot) or an
//! interface counter went backwards without a reboot (a counter reset). Each reset
//! is recorded with its reason and time, in `/health` and as metrics.

use crate::collect::facts::TargetFacts;
use crate::config::HealthPolicy;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
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

/// A recorded baseline reset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResetEvent {
    /// What reset the baseline; one probe can record a gap and a reboot.
    pub reason: ResetReason,
    /// When the probe that saw it finished, in Unix seconds.
    pub at_unix: f64,
}

/// Everything kept about one target between probes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TargetState {
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
    /// Seconds between the two most recent successful probes.
    pub gap_seconds: Option<f64>,
    /// Baseline resets by reason.
    pub resets: BTreeMap<ResetReason, u64>,
    /// The most recent baseline reset.
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

impl TargetState {
    /// Folds one collection into the state.
    pub fn record(&mut self, observation: Observation, at: SystemTime, gap_threshold: Duration) {
        let now = unix(at);
        self.last_probe_unix = Some(now);
        self.last_success = Some(observation.success);
        self.last_duration_seconds = Some(observation.duration.as_secs_f64());
        self.last_error = observation.error;
        if !observation.success {
            self.consecutive_errors += 1;
            self.error_total += 1;
            return;
        }
        self.success_total += 1;
        self.consecutive_errors = 0;
        let mut reasons = Vec::new();
        if let Some(previous) = self.last_success_unix {
            let gap = (now - previous).max(0.0);
            self.gap_seconds = Some(gap);
            if gap > gap_threshold.as_secs_f64() {
                reasons.push(ResetReason::Gap);
            }
        }
        let rebooted = matches!(
            (self.last_uptime, observation.uptime_seconds),
            (Some(before), Some(after)) if after < before
        );
        if rebooted {
            reasons.push(ResetReason::Reboot);
        } else if observation.counters.iter().any(|(series, value)| {
            self.last_counters
                .get(series)
                .is_some_and(|before| value < before)
        }) {
            reasons.push(ResetReason::CounterReset);
        }
        // A reboot can change the version and the packages: detect again. A
        // gap hides a reboot only when no uptime tells (a module without the
        // system group); with an uptime, a reboot in the gap shows as one.
        let blind_gap = reasons.contains(&ResetReason::Gap) && observation.uptime_seconds.is_none();
        if rebooted || blind_gap {
            self.facts.forget();
        }
        for reason in reasons {
            *self.resets.entry(reason).or_default() += 1;
            self.last_reset = Some(ResetEvent {
                reason,
                at_unix: now,
            });
        }
        self.last_success_unix = Some(now);
        if observation.uptime_seconds.is_some() {
            self.last_uptime = observation.uptime_seconds;
        }
        if !observation.counters.is_empty() {
            self.last_counters = observation.counters;
        }
    }

    /// Resets by `reason` so far.
    pub fn resets_for(&self, reason: ResetReason) -> u64 {
        self.resets.get(&reason).copied().unwrap_or_default()
    }

    /// The health verdict under `policy` at `now`.
    pub fn verdict(&self, policy: &HealthPolicy, now: SystemTime) -> Verdict {
        if self.last_probe_unix.is_none() {
            return Verdict {
                status: HealthStatus::Unknown,
                reason: "not probed yet".into(),
            };
        }
        if self.consecutive_errors >= u64::from(policy.max_consecutive_errors) {
            return Verdict {
                status: HealthStatus::Degraded,
                reason: format!(
                    "{} consecutive failed probes (threshold {}): {}",
                    self.consecutive_errors,
                    policy.max_consecutive_errors,
                    self.last_error.as_deref().unwrap_or("unknown error")
                ),
            };
        }
        let Some(last_success) = self.last_success_unix else {
            return Verdict {
                status: HealthStatus::Degraded,
                reason: format!(
                    "no successful probe yet: {}",
                    self.last_error.as_deref().unwrap_or("unknown error")
                ),
            };
        };
        let age = (unix(now) - last_success).max(0.0);
        if age > policy.stale_after.as_secs_f64() {
            return Verdict {
                status: HealthStatus::Degraded,
                reason: format!(
                    "last successful probe {age:.0}s ago (stale after {}s)",
                    policy.stale_after.as_secs()
                ),
            };
        }
        Verdict {
            status: HealthStatus::Healthy,
            reason: if self.consecutive_errors > 0 {
                format!(
                    "recent success; {} failure(s) since",
                    self.consecutive_errors
                )
            } else {
                "last probe succeeded".into()
            },
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::facts::RosVersion;

    const THRESHOLD: Duration = Duration::from_secs(60);

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_000_000 + secs)
    }

    fn ok(uptime: f64, rx: u64) -> Observation {
        Observation {
            success: true,
            uptime_seconds: Some(uptime),
            counters: HashMap::from([("ether1".to_string(), rx)]),
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
        s.record(ok(100.0, 10), at(0), THRESHOLD);
        s.record(ok(115.0, 20), at(15), THRESHOLD);
        assert_eq!(s.gap_seconds, Some(15.0));
        assert!(s.resets.is_empty());
        assert_eq!(s.success_total, 2);
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
        s.record(ok(100.0, 10), at(0), THRESHOLD);
        learn(&s);
        s.record(ok(115.0, 5), at(15), THRESHOLD);
        assert!(remembered(&s), "a counter reset does not change packages");
        s.record(failed("timeout"), at(20), THRESHOLD);
        assert!(remembered(&s), "a failed probe alone proves nothing");
        s.record(ok(10.0, 1), at(30), THRESHOLD);
        assert!(!remembered(&s), "forgotten on a reboot");
        learn(&s);
        s.record(ok(300.0, 2), at(300), THRESHOLD);
        assert!(remembered(&s), "a gap whose uptime shows no reboot");
        let blind = Observation {
            success: true,
            ..Observation::default()
        };
        s.record(blind, at(600), THRESHOLD);
        assert!(!remembered(&s), "forgotten after a gap without an uptime");
    }

    #[test]
    fn a_long_gap_is_a_baseline_reset() {
        let mut s = TargetState::default();
        s.record(ok(100.0, 10), at(0), THRESHOLD);
        s.record(failed("timeout"), at(15), THRESHOLD);
        s.record(ok(190.0, 30), at(90), THRESHOLD);
        assert_eq!(s.gap_seconds, Some(90.0));
        assert_eq!(s.resets_for(ResetReason::Gap), 1);
        assert_eq!(
            s.last_reset.as_ref().map(|r| r.reason),
            Some(ResetReason::Gap)
        );
        assert_eq!(s.error_total, 1);
        assert_eq!(s.consecutive_errors, 0);
    }

    #[test]
    fn uptime_backwards_is_a_reboot_and_counters_backwards_a_counter_reset() {
        let mut s = TargetState::default();
        s.record(ok(1_000.0, 500), at(0), THRESHOLD);
        s.record(ok(5.0, 1), at(15), THRESHOLD);
        assert_eq!(s.resets_for(ResetReason::Reboot), 1);
        assert_eq!(
            s.resets_for(ResetReason::CounterReset),
            0,
            "a reboot explains the counters"
        );
        s.record(ok(20.0, 0), at(30), THRESHOLD);
        assert_eq!(s.resets_for(ResetReason::CounterReset), 1);
    }

    #[test]
    fn health_policy() {
        let policy = HealthPolicy {
            stale_after: Duration::from_secs(300),
            max_consecutive_errors: 3,
        };
        let mut s = TargetState::default();
        assert_eq!(s.verdict(&policy, at(0)).status, HealthStatus::Unknown);
        s.record(
            failed("invalid user name or password (6)"),
            at(0),
            THRESHOLD,
        );
        let h = s.verdict(&policy, at(0));
        assert_eq!(h.status, HealthStatus::Degraded);
        assert!(h.reason.contains("invalid user name or password (6)"));
        s.record(ok(1.0, 1), at(10), THRESHOLD);
        assert_eq!(s.verdict(&policy, at(10)).status, HealthStatus::Healthy);
        assert_eq!(s.verdict(&policy, at(400)).status, HealthStatus::Degraded);
        for i in 0..3 {
            s.record(failed("timeout"), at(20 + i), THRESHOLD);
        }
        let h = s.verdict(&policy, at(30));
        assert_eq!(h.status, HealthStatus::Degraded);
        assert!(h.reason.contains("3 consecutive"), "{}", h.reason);
    }
}
