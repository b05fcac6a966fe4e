//! `GET /health[?target=NAME]`: per-target status as JSON; 200 only when every
//! configured target is healthy, 503 otherwise (and for an empty target list, so
//! deployments fail loudly). Liveness probes must use `/-/healthy` instead: a
//! router outage must not restart the exporter.

use super::App;
use super::probe::parse_query;
use crate::probe::state::{
    HealthStatus, ModuleState, ResetEvent, ResetReason, TargetState, Verdict,
};
use crate::probe::{clip, overall_status};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

/// One target in the report: its verdict, what is kept about the router, and
/// each module set it was probed with.
#[derive(Serialize)]
struct TargetReport {
    #[serde(flatten)]
    verdict: Verdict,
    /// Reboots and counter resets (gaps are per module set).
    resets: BTreeMap<ResetReason, u64>,
    last_reset: Option<ResetEvent>,
    /// By module set: the probe's sorted module names, comma-separated.
    modules: BTreeMap<String, ModuleReport>,
}

/// One module set of a target: its verdict and everything kept about it.
#[derive(Serialize)]
struct ModuleReport {
    #[serde(flatten)]
    verdict: Verdict,
    /// Whether it was probed within `global.health.stale_after`, so its
    /// verdict counts for the target's.
    counted: bool,
    #[serde(flatten)]
    state: ModuleState,
}

impl TargetReport {
    fn new(verdict: Verdict, state: TargetState, app: &App) -> Self {
        let policy = app.prober.config().global.health.clone();
        let module_verdicts = state.module_verdicts(&policy, SystemTime::now());
        let mut states = state.modules;
        let modules = module_verdicts
            .into_iter()
            .map(|(key, verdict, counted)| {
                let state = states.remove(&key).unwrap_or_default();
                let report = ModuleReport {
                    verdict,
                    counted,
                    state,
                };
                (key, report)
            })
            .collect();
        TargetReport {
            verdict,
            resets: state.resets,
            last_reset: state.last_reset,
            modules,
        }
    }
}

#[derive(Serialize)]
struct Report {
    status: HealthStatus,
    reason: String,
    targets: BTreeMap<String, TargetReport>,
}

/// The one optional `target` parameter; anything else is a 400 message.
fn only_target(raw: Option<&str>) -> Result<Option<String>, String> {
    let mut only = None;
    for (key, value) in parse_query(raw.unwrap_or_default())? {
        if key != "target" {
            return Err(format!("unknown parameter {}; valid: target", clip(&key)));
        }
        if only.is_some() {
            return Err("target given more than once".to_string());
        }
        only = Some(value);
    }
    Ok(only)
}

/// Why the overall status is what it is.
fn reason(verdicts: &[(String, Verdict, TargetState)]) -> String {
    if verdicts.is_empty() {
        return "no targets configured".to_string();
    }
    let degraded: Vec<&str> = verdicts
        .iter()
        .filter(|(_, v, _)| v.status != HealthStatus::Healthy)
        .map(|(name, _, _)| name.as_str())
        .collect();
    if degraded.is_empty() {
        "all targets healthy".to_string()
    } else {
        format!("not healthy: {}", degraded.join(", "))
    }
}

/// The `/health` handler.
pub async fn health(State(app): State<Arc<App>>, RawQuery(raw): RawQuery) -> Response {
    let only = match only_target(raw.as_deref()) {
        Ok(only) => only,
        Err(message) => return (StatusCode::BAD_REQUEST, format!("{message}\n")).into_response(),
    };
    if let Some(name) = &only
        && !app.prober.config().targets.contains_key(name)
    {
        let message = format!(
            "unknown target {}: the target parameter must name a target of the configuration\n",
            clip(name)
        );
        return (StatusCode::NOT_FOUND, message).into_response();
    }
    let verdicts = app.prober.verdicts(only.as_deref());
    let status = overall_status(&verdicts);
    let code = if status == HealthStatus::Healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let report = Report {
        status,
        reason: reason(&verdicts),
        targets: verdicts
            .into_iter()
            .map(|(name, verdict, state)| {
                let report = TargetReport::new(verdict, state, &app);
                (name, report)
            })
            .collect(),
    };
    (code, Json(report)).into_response()
}
