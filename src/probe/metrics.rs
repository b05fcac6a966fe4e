//! The probe's own families: outcome, timing, per-collector results and the
//! original exporter's scrape metrics rendered from per-target state.

use super::state::{ModuleState, ResetReason, TargetState};
use crate::collect::family::{Family, MetricDesc, metric};
use routeros::PoolStats;

metric!(
    pub PROBE_SUCCESS,
    "mikrotik_probe_success",
    Gauge,
    "1 when the router answered and every supported collector succeeded.",
    []
);
metric!(
    pub PROBE_DURATION,
    "mikrotik_probe_duration_seconds",
    Gauge,
    "Time the probe took.",
    []
);
metric!(
    pub PROBE_TIMEOUT,
    "mikrotik_probe_timeout_seconds",
    Gauge,
    "Deadline the probe ran under.",
    []
);
metric!(
    pub COLLECTOR_SUCCESS,
    "mikrotik_collector_success",
    Gauge,
    "1 when the collector succeeded or its menu is absent on this router (see mikrotik_collector_supported).",
    ["collector"]
);
metric!(
    pub COLLECTOR_SUPPORTED,
    "mikrotik_collector_supported",
    Gauge,
    "0 when the router lacks the collector's menu (older/newer RouterOS, missing package, user policy).",
    ["collector"]
);
metric!(
    pub COLLECTOR_DURATION,
    "mikrotik_collector_duration_seconds",
    Gauge,
    "Time the collector took.",
    ["collector"]
);
metric!(
    pub SCRAPE_SUCCESS,
    "mikrotik_scrape_success_total",
    Counter,
    "Successful probes of this target and module set since the exporter started.",
    []
);
metric!(
    pub SCRAPE_ERRORS,
    "mikrotik_scrape_errors_total",
    Counter,
    "Failed probes of this target and module set since the exporter started.",
    []
);
metric!(
    pub SCRAPE_DURATION,
    "mikrotik_scrape_duration_milliseconds",
    Gauge,
    "Duration of the last probe of this module set in milliseconds.",
    []
);
metric!(
    pub SCRAPE_LAST_SUCCESS,
    "mikrotik_scrape_last_success_timestamp_seconds",
    Gauge,
    "Unix time of the last successful probe of this module set.",
    []
);
metric!(
    pub CONSECUTIVE_ERRORS,
    "mikrotik_connection_consecutive_errors",
    Gauge,
    "Failed probes of this module set since its last success.",
    []
);
metric!(
    pub POOL_SIZE,
    "mikrotik_connection_pool_size",
    Gauge,
    "API sessions pooled for this target.",
    []
);
metric!(
    pub POOL_ACTIVE,
    "mikrotik_connection_pool_active",
    Gauge,
    "Pooled API sessions with commands in flight.",
    []
);
metric!(
    pub TARGET_GAP,
    "mikrotik_target_gap_seconds",
    Gauge,
    "Seconds between the starts of the two most recent successful probes of this module set.",
    []
);
metric!(
    pub TARGET_RESETS,
    "mikrotik_target_resets_total",
    Counter,
    "Counter baseline resets by reason (gap of this module set, reboot, counter reset).",
    ["reason"]
);
metric!(
    pub TARGET_LAST_RESET,
    "mikrotik_target_last_reset_timestamp_seconds",
    Gauge,
    "Unix time of the most recent baseline reset.",
    ["reason"]
);

/// Every family the probe itself can emit (for the metric reference).
pub static PROBE_METRICS: &[&MetricDesc] = &[
    &PROBE_SUCCESS,
    &PROBE_DURATION,
    &PROBE_TIMEOUT,
    &COLLECTOR_SUCCESS,
    &COLLECTOR_SUPPORTED,
    &COLLECTOR_DURATION,
    &SCRAPE_SUCCESS,
    &SCRAPE_ERRORS,
    &SCRAPE_DURATION,
    &SCRAPE_LAST_SUCCESS,
    &CONSECUTIVE_ERRORS,
    &POOL_SIZE,
    &POOL_ACTIVE,
    &TARGET_GAP,
    &TARGET_RESETS,
    &TARGET_LAST_RESET,
];

/// The scrape/state families of one probe: results and gaps of its module
/// set, reboots and counter resets of its target.
pub fn state_families(module: &ModuleState, target: &TargetState, pool: &PoolStats) -> Vec<Family> {
    let mut out = vec![
        Family::single(&SCRAPE_SUCCESS, module.success_total),
        Family::single(&SCRAPE_ERRORS, module.error_total),
        Family::single(&CONSECUTIVE_ERRORS, module.consecutive_errors),
        Family::single(&POOL_SIZE, pool.sessions_open as u64),
        Family::single(&POOL_ACTIVE, pool.sessions_busy as u64),
    ];
    if let Some(d) = module.last_duration_seconds {
        out.push(Family::single(&SCRAPE_DURATION, d * 1e3));
    }
    if let Some(t) = module.last_success_unix {
        out.push(Family::single(&SCRAPE_LAST_SUCCESS, t));
    }
    if let Some(g) = module.gap_seconds {
        out.push(Family::single(&TARGET_GAP, g));
    }
    let mut resets = Family::new(&TARGET_RESETS);
    for reason in ResetReason::ALL {
        let count = match reason {
            ResetReason::Gap => module.resets_for(reason),
            _ => target.resets_for(reason),
        };
        resets.push([reason.as_str()], count);
    }
    out.push(resets);
    let last = [&module.last_reset, &target.last_reset]
        .into_iter()
        .flatten()
        .max_by(|a, b| a.at_unix.total_cmp(&b.at_unix));
    if let Some(last) = last {
        let mut family = Family::new(&TARGET_LAST_RESET);
        family.push([last.reason.as_str()], last.at_unix);
        out.push(family);
    }
    out
}
