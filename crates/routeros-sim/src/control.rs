//! The HTTP control endpoint: list routers, read stats, switch faults, reboot,
//! capture request sentences.
//!
//! | request | effect |
//! |---|---|
//! | `GET /routers` | `[{"name","address","tls_address","version"}]` |
//! | `GET /routers/{name}/stats` | [`Stats`](crate::Stats) as JSON |
//! | `GET /routers/{name}/faults` | [`Faults`] as JSON |
//! | `PUT /routers/{name}/faults` | replace the faults (JSON body; missing fields are off) |
//! | `DELETE /routers/{name}/faults` | reset all faults |
//! | `POST /routers/{name}/reboot` | simulated reboot |
//! | `POST /routers/{name}/capture` | forget any earlier capture and start capturing the request sentences the router receives (204) |
//! | `GET /routers/{name}/capture` | the sentences captured since, raw wire bytes in arrival order (`application/octet-stream`); capturing goes on |
//! | `DELETE /routers/{name}/capture` | stop capturing; the body is what was captured, as for `GET` |
//!
//! A capture answer carries `x-capture-truncated: true` when sentences were
//! dropped at [`MAX_CAPTURE_BYTES`](crate::capture::MAX_CAPTURE_BYTES).
//! Unknown routers answer 404, malformed fault JSON 400, both with a JSON
//! `{"error": "..."}` body.

use crate::capture::Captured;
use crate::faults::Faults;
use crate::server::RouterHandle;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use std::sync::Arc;

/// One entry of `GET /routers`.
#[derive(Debug, Clone, Serialize)]
pub struct RouterInfo {
    /// Router name (its `/system/identity`).
    pub name: String,
    /// Plain API address, `ip:port`.
    pub address: String,
    /// API-SSL address, if any.
    pub tls_address: Option<String>,
    /// RouterOS version of its personality.
    pub version: String,
}

type Routers = Arc<Vec<RouterHandle>>;

/// The control endpoint's routes for `routers`.
pub fn app(routers: Vec<RouterHandle>) -> Router {
    Router::new()
        .route("/routers", get(list))
        .route("/routers/{name}/stats", get(stats))
        .route(
            "/routers/{name}/faults",
            get(get_faults).put(put_faults).delete(reset_faults),
        )
        .route("/routers/{name}/reboot", post(reboot))
        .route(
            "/routers/{name}/capture",
            get(get_capture).post(start_capture).delete(stop_capture),
        )
        .with_state(Arc::new(routers))
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

/// Runs `action` on the router named `name`, or answers 404.
fn with_router(
    routers: &Routers,
    name: &str,
    action: impl FnOnce(&RouterHandle) -> Response,
) -> Response {
    match routers.iter().find(|r| r.name() == name) {
        Some(router) => action(router),
        None => error(StatusCode::NOT_FOUND, format!("no router named {name:?}")),
    }
}

async fn list(State(routers): State<Routers>) -> Json<Vec<RouterInfo>> {
    Json(
        routers
            .iter()
            .map(|r| RouterInfo {
                name: r.name().to_owned(),
                address: r.addr().to_string(),
                tls_address: r.tls_addr().map(|a| a.to_string()),
                version: r.personality().version.to_string(),
            })
            .collect(),
    )
}

async fn stats(State(routers): State<Routers>, Path(name): Path<String>) -> Response {
    with_router(&routers, &name, |router| {
        Json(router.stats()).into_response()
    })
}

async fn get_faults(State(routers): State<Routers>, Path(name): Path<String>) -> Response {
    with_router(&routers, &name, |router| {
        Json(router.faults()).into_response()
    })
}

async fn put_faults(
    State(routers): State<Routers>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    with_router(&routers, &name, |router| {
        match serde_json::from_slice::<Faults>(&body) {
            Ok(faults) => {
                router.set_faults(faults.clone());
                Json(faults).into_response()
            }
            Err(e) => error(StatusCode::BAD_REQUEST, format!("invalid faults JSON: {e}")),
        }
    })
}

async fn reset_faults(State(routers): State<Routers>, Path(name): Path<String>) -> Response {
    with_router(&routers, &name, |router| {
        router.set_faults(Faults::default());
        Json(Faults::default()).into_response()
    })
}

async fn reboot(State(routers): State<Routers>, Path(name): Path<String>) -> Response {
    with_router(&routers, &name, |router| {
        router.reboot();
        StatusCode::NO_CONTENT.into_response()
    })
}

async fn start_capture(State(routers): State<Routers>, Path(name): Path<String>) -> Response {
    with_router(&routers, &name, |router| {
        router.start_capture();
        StatusCode::NO_CONTENT.into_response()
    })
}

async fn get_capture(State(routers): State<Routers>, Path(name): Path<String>) -> Response {
    with_router(&routers, &name, |router| {
        capture_response(router.captured())
    })
}

async fn stop_capture(State(routers): State<Routers>, Path(name): Path<String>) -> Response {
    with_router(&routers, &name, |router| {
        capture_response(router.stop_capture())
    })
}

fn capture_response(captured: Captured) -> Response {
    let mut response = (
        [(header::CONTENT_TYPE, "application/octet-stream")],
        captured.bytes,
    )
        .into_response();
    if captured.truncated {
        response
            .headers_mut()
            .insert("x-capture-truncated", HeaderValue::from_static("true"));
    }
    response
}
