//! `GET /health[?target=NAME]`: per-target status as JSON; 200 only when every
//! configured target is healthy, 503 otherwise (and for an empty target list, so
//! deployments fail loudly). Liveness probes must use `/-/healthy` instead: a
//! router outage must not restart the exporter.

use super::App;
use super::probe::parse_query;
use crate::probe::overall;
use crate::probe::state::{Health, TargetState};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Serialize)]
struct TargetHealth {
    #[serde(flatten)]
    health: Health,
    #[serde(flatten)]
    state: TargetState,
}

#[derive(Serialize)]
struct Report {
    status: crate::probe::state::HealthStatus,
    reason: String,
    targets: BTreeMap<String, TargetHealth>,
}

/// The `/health` handler.
pub async fn health(State(app): State<Arc<App>>, RawQuery(raw): RawQuery) -> Response {
    let mut only = None;
    match parse_query(raw.as_deref().unwrap_or_default()) {
        Ok(pairs) => {
            for (key, value) in pairs {
                if key != "target" {
                    return (
                        StatusCode::BAD_REQUEST,
                        format!("unknown parameter {key:?}; valid: target\n"),
                    )
                        .into_response();
                }
                if only.is_some() {
                    return (
                        StatusCode::BAD_REQUEST,
                        "target given more than once\n".to_string(),
                    )
                        .into_response();
                }
                only = Some(value);
            }
        }
        Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    }
    let config = app.prober.config();
    if let Some(name) = &only
        && !config.targets.contains_key(name)
    {
        return (StatusCode::NOT_FOUND, format!("unknown target {name:?}\n")).into_response();
    }
    let entries = app.prober.health(only.as_deref());
    let status = overall(&entries);
    let reason = if entries.is_empty() {
        "no targets configured".to_string()
    } else {
        let degraded: Vec<&str> = entries
            .iter()
            .filter(|(_, h, _)| h.status != crate::probe::state::HealthStatus::Healthy)
            .map(|(n, _, _)| n.as_str())
            .collect();
        if degraded.is_empty() {
            "all targets healthy".to_string()
        } else {
            format!("not healthy: {}", degraded.join(", "))
        }
    };
    let code = if status == crate::probe::state::HealthStatus::Healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let targets = entries
        .into_iter()
        .map(|(name, health, state)| (name, TargetHealth { health, state }))
        .collect();
    (
        code,
        Json(Report {
            status,
            reason,
            targets,
        }),
    )
        .into_response()
}
