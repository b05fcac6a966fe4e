//! What every request passes before the routes: the URI length limit (414),
//! basic authentication (401) and the configured response headers.

use super::ServerStats;
use crate::http::basic_auth::BasicAuth;
use axum::Router;
use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, HeaderName, HeaderValue, WWW_AUTHENTICATE};
use axum::http::{Request, Response, StatusCode};
use std::sync::Arc;
use tower::ServiceExt;

/// Paths `--web.healthy-without-auth` leaves open: liveness and readiness
/// probes (a kubelet cannot send credentials it does not have).
pub const OPEN_PATHS: [&str; 2] = ["/-/healthy", "/-/ready"];

/// The request-level settings of `--web.config.file` and the server limits.
#[derive(Clone, Default)]
pub struct Front {
    /// `basic_auth_users`, when there are any.
    pub auth: Option<Arc<BasicAuth>>,
    /// Serve [`OPEN_PATHS`] without credentials.
    pub open_health: bool,
    /// `http_server_config.headers`, set on every response the routes give.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Longer request targets (path and query) are answered 414.
    pub max_uri_bytes: usize,
    /// Where 401s are counted.
    pub(crate) stats: Arc<ServerStats>,
}

impl std::fmt::Debug for Front {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Front")
            .field("auth", &self.auth.is_some())
            .field("open_health", &self.open_health)
            .field("headers", &self.headers)
            .field("max_uri_bytes", &self.max_uri_bytes)
            .finish()
    }
}

impl Front {
    /// Answers `request` with `router` unless a check refuses it first.
    pub async fn handle<B>(&self, router: Router, request: Request<B>) -> Response<Body>
    where
        B: http_body::Body<Data = axum::body::Bytes> + Send + 'static,
        B::Error: Into<axum::BoxError>,
    {
        let mut response = match self.refusal(&request).await {
            Some(refusal) => refusal,
            None => match router.oneshot(request.map(Body::new)).await {
                Ok(response) => response,
                Err(never) => match never {},
            },
        };
        for (name, value) in &self.headers {
            response.headers_mut().insert(name.clone(), value.clone());
        }
        response
    }

    async fn refusal<B>(&self, request: &Request<B>) -> Option<Response<Body>> {
        let uri_len = request
            .uri()
            .path_and_query()
            .map_or(0, |p| p.as_str().len());
        if uri_len > self.max_uri_bytes {
            return Some(plain(
                StatusCode::URI_TOO_LONG,
                format!(
                    "request target of {uri_len} bytes is longer than the limit of {} bytes\n",
                    self.max_uri_bytes
                ),
            ));
        }
        let auth = self.auth.as_ref()?;
        if self.open_health && OPEN_PATHS.contains(&request.uri().path()) {
            return None;
        }
        let header = request.headers().get(axum::http::header::AUTHORIZATION);
        if auth.verify(header).await {
            return None;
        }
        // Never the header or the user name: either may hold the password.
        tracing::debug!(path = request.uri().path(), "unauthorized request");
        self.stats.unauthorized();
        let mut response = plain(StatusCode::UNAUTHORIZED, "Unauthorized\n".to_string());
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
        Some(response)
    }
}

fn plain(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
