//! Operational endpoints: landing page, self metrics, effective config, reload,
//! liveness and readiness.

use super::{App, ReloadError};
use crate::probe::render::OPENMETRICS_CONTENT_TYPE;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::fmt::Write;
use std::sync::Arc;

/// `GET /-/healthy`: 200 while the process serves (use this for liveness).
pub async fn healthy() -> &'static str {
    "OK\n"
}

/// `GET /-/ready`: 200 once the config is loaded, 503 while shutting down.
pub async fn ready(State(app): State<Arc<App>>) -> Response {
    if app.is_ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response()
    }
}

/// `GET /metrics`: the exporter's own metrics.
pub async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(header::CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE)],
        app.metrics.render(),
    )
        .into_response()
}

/// `GET /config`: the effective configuration, secrets shown as `<secret>`.
pub async fn config(State(app): State<Arc<App>>) -> Response {
    match serde_yaml::to_string(app.prober.config().as_ref()) {
        Ok(yaml) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], yaml).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot render config: {e}\n"),
        )
            .into_response(),
    }
}

/// `POST /-/reload`: re-read the config file; 500 with the reason on failure.
pub async fn reload(State(app): State<Arc<App>>) -> Response {
    match app.reload().await {
        Ok(()) => (StatusCode::OK, "configuration reloaded\n").into_response(),
        Err(e @ ReloadError::NoFile) => (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Everything but RFC 3986's unreserved characters is escaped in query values.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn url_encode(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// `GET /`: targets and modules with probe links and each target's last status.
pub async fn landing(State(app): State<Arc<App>>) -> Html<String> {
    let config = app.prober.config();
    let mut page = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>routeros-exporter</title></head><body>\
         <h1>routeros-exporter</h1>\
         <p><a href=\"/metrics\">Exporter metrics</a> · <a href=\"/health\">Health</a> · <a href=\"/config\">Configuration</a> · <a href=\"/sd\">Service discovery</a></p>\
         <h2>Targets</h2><table border=\"1\" cellpadding=\"4\"><tr><th>target</th><th>address</th><th>status</th><th>last probe error</th><th>probe</th></tr>",
    );
    let verdicts = app.prober.verdicts(None);
    for (name, verdict, state) in &verdicts {
        let address = config
            .targets
            .get(name)
            .map(|t| t.address.as_str())
            .unwrap_or_default();
        let links: String = config
            .modules
            .keys()
            .map(|m| {
                format!(
                    "<a href=\"/probe?target={t}&amp;module={mu}\">{me}</a> (<a href=\"/probe?target={t}&amp;module={mu}&amp;debug=true\">debug</a>) ",
                    t = url_encode(name),
                    mu = url_encode(m),
                    me = escape(m)
                )
            })
            .collect();
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{:?}: {}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            escape(address),
            verdict.status,
            escape(&verdict.reason),
            escape(state.last_error().unwrap_or("")),
            links
        );
    }
    page.push_str("</table><h2>Modules</h2><ul>");
    for (name, module) in &config.modules {
        let _ = write!(
            page,
            "<li><b>{}</b>: {}</li>",
            escape(name),
            escape(&module.groups.join(", "))
        );
    }
    page.push_str("</ul></body></html>");
    Html(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_text_are_escaped() {
        assert_eq!(url_encode("core 1/ü-_.~&"), "core%201%2F%C3%BC-_.~%26");
        assert_eq!(
            escape("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
