//! `--web.config.file`: TLS, basic authentication and response headers for
//! the exporter's own endpoints, in the Prometheus exporter-toolkit format
//! (the file `node_exporter` and Prometheus take), so the same file and
//! `promtool check web-config` work here.
//!
//! Read once at start; the certificate and key *files* are read again when
//! they change (see [`tls`]), so a rotated certificate needs no restart.
//! Unknown keys are errors naming the file and the field; so are the
//! exporter-toolkit keys this exporter does not implement, rather than being
//! silently ignored.

mod tls;

use crate::http::basic_auth::BasicAuth;
use crate::http::server::Security;
use crate::http::server::front::Front;
use axum::http::{HeaderName, HeaderValue};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Largest web config file read.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// The file as written (exporter-toolkit's keys).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct WebFile {
    tls_server_config: Option<tls::TlsFile>,
    http_server_config: Option<HttpFile>,
    basic_auth_users: Option<BTreeMap<String, String>>,
    rate_limit: Option<serde_yaml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct HttpFile {
    /// Accepted for compatibility; this server speaks HTTP/1.1 only.
    http2: Option<bool>,
    headers: Option<BTreeMap<String, String>>,
}

/// The headers exporter-toolkit lets a web config set, with the values it
/// accepts (none listed: any value).
const EXTRA_HEADERS: [(&str, &[&str]); 5] = [
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
    ("Content-Security-Policy", &[]),
];

/// A loaded and checked `--web.config.file`.
pub struct WebConfig {
    tls: Option<Arc<rustls::ServerConfig>>,
    users: BTreeMap<String, String>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("tls", &self.tls.is_some())
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .field("headers", &self.headers)
            .finish()
    }
}

/// Why a web config cannot be used: the file, the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}{message}", file.display(), if field.is_empty() { String::new() } else { format!("{field}: ") })]
pub struct WebConfigError {
    /// The web config file.
    pub file: PathBuf,
    /// Dotted path of the field (`tls_server_config.min_version`), or empty.
    pub field: String,
    /// What is wrong; never a secret's value.
    pub message: String,
}

impl WebConfigError {
    fn new(file: &Path, field: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_path_buf(),
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl WebConfig {
    /// Reads and checks `path`, loading the certificates it names (paths
    /// relative to the file's directory, as exporter-toolkit resolves them).
    pub fn load(path: &Path) -> Result<Self, WebConfigError> {
        let text = read_text(path)?;
        Self::parse(path, &text)
    }

    fn parse(path: &Path, text: &str) -> Result<Self, WebConfigError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let file: WebFile = if text.trim().is_empty() {
            WebFile::default()
        } else {
            let de = serde_yaml::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|e| {
                let field = e.path().to_string();
                let field = if field == "." { String::new() } else { field };
                WebConfigError::new(path, &field, schema_message(&field, e.inner()))
            })?
        };
        if file.rate_limit.is_some() {
            return Err(WebConfigError::new(
                path,
                "rate_limit",
                "not supported by routeros-exporter (global.limits.max_concurrent_probes bounds the probes)",
            ));
        }
        let http = file.http_server_config.unwrap_or_default();
        let _ = http.http2;
        let dir = path.parent().unwrap_or(Path::new("."));
        Ok(Self {
            tls: match file.tls_server_config {
                Some(t) => tls::server_config(t, path, dir)?,
                None => None,
            },
            users: users(path, file.basic_auth_users.unwrap_or_default())?,
            headers: headers(path, http.headers.unwrap_or_default())?,
        })
    }

    /// True when the endpoints are served over TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// True when requests need basic auth credentials.
    pub fn has_auth(&self) -> bool {
        !self.users.is_empty()
    }

    /// How the server applies this config; `open_health` leaves
    /// `/-/healthy` and `/-/ready` without basic auth.
    pub fn security(&self, open_health: bool) -> Security {
        Security {
            tls: self.tls.clone().map(TlsAcceptor::from),
            front: Front {
                auth: self
                    .has_auth()
                    .then(|| Arc::new(BasicAuth::new(self.users.clone()))),
                open_health,
                headers: self.headers.clone(),
                ..Front::default()
            },
        }
    }
}

/// The file's text: a regular file of at most [`MAX_FILE_BYTES`], UTF-8.
fn read_text(path: &Path) -> Result<String, WebConfigError> {
    let io = |e: std::io::Error| WebConfigError::new(path, "", format!("cannot read: {e}"));
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(WebConfigError::new(path, "", "not a regular file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(WebConfigError::new(
            path,
            "",
            format!("larger than {MAX_FILE_BYTES} bytes"),
        ));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    String::from_utf8(bytes).map_err(|_| WebConfigError::new(path, "", "not UTF-8 text"))
}

/// serde's message, unless the field holds a secret (an inline key, a
/// password hash), whose value a type error could quote.
fn schema_message(field: &str, error: &serde_yaml::Error) -> String {
    let secret = field.starts_with("basic_auth_users.") || field == "tls_server_config.key";
    if secret {
        "invalid value (not shown: the field holds a secret); expected a string".to_string()
    } else {
        error.to_string()
    }
}

/// Each value must be a bcrypt hash (`$2a$`, `$2b$` or `$2y$`).
fn users(
    path: &Path,
    users: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, WebConfigError> {
    for (user, hash) in &users {
        let field = format!("basic_auth_users.{user}");
        if user.contains(':') {
            return Err(WebConfigError::new(
                path,
                &field,
                "a user name cannot contain ':' (Basic auth splits user and password there)",
            ));
        }
        if hash.parse::<bcrypt::HashParts>().is_err() {
            return Err(WebConfigError::new(
                path,
                &field,
                "not a bcrypt hash (e.g. from `htpasswd -nBC 10 \"\" | tr -d ':\\n'`)",
            ));
        }
    }
    Ok(users)
}

/// Only the headers (and values) exporter-toolkit allows; blank ones unset.
fn headers(
    path: &Path,
    headers: BTreeMap<String, String>,
) -> Result<Vec<(HeaderName, HeaderValue)>, WebConfigError> {
    let mut out = Vec::new();
    for (name, value) in headers {
        let field = format!("http_server_config.headers.{name}");
        let Some((_, allowed)) = EXTRA_HEADERS.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = EXTRA_HEADERS.iter().map(|(n, _)| *n).collect();
            return Err(WebConfigError::new(
                path,
                &field,
                format!(
                    "this header cannot be configured (allowed: {})",
                    names.join(", ")
                ),
            ));
        };
        if value.is_empty() {
            continue;
        }
        if !allowed.is_empty() && !allowed.contains(&value.as_str()) {
            return Err(WebConfigError::new(
                path,
                &field,
                format!(
                    "invalid value {value:?} (expected one of: {})",
                    allowed.join(", ")
                ),
            ));
        }
        let header_value = HeaderValue::from_str(&value).map_err(|_| {
            WebConfigError::new(
                path,
                &field,
                "not a valid header value (control characters)",
            )
        })?;
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| WebConfigError::new(path, &field, "not a valid header name"))?;
        out.push((header_name, header_value));
    }
    Ok(out)
}
