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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WebConfig, WebConfigError> {
        WebConfig::parse(Path::new("/etc/exporter/web.yml"), text)
    }

    fn error(text: &str) -> WebConfigError {
        match parse(text) {
            Ok(config) => panic!("accepted {text:?}: {config:?}"),
            Err(e) => e,
        }
    }

    const HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

    #[test]
    fn empty_or_tls_free_files_serve_plain_http() {
        for text in [
            "",
            "# nothing\n",
            "tls_server_config:\n  min_version: TLS13\n",
        ] {
            let config = parse(text).expect("valid");
            assert!(!config.is_tls() && !config.has_auth(), "{text:?}");
        }
        let config = parse(&format!("basic_auth_users:\n  prometheus: {HASH}\n")).expect("valid");
        assert!(config.has_auth());
    }

    #[test]
    fn unknown_keys_name_the_file_and_the_field() {
        let e = error("tls_server_config:\n  cert_fil: a.crt\n");
        assert_eq!(e.field, "tls_server_config.cert_fil");
        let text = e.to_string();
        assert!(
            text.starts_with("/etc/exporter/web.yml: tls_server_config.cert_fil: "),
            "{text}"
        );
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("unknown field `cert_fil`"), "{text}");
        let e = error("basic_auth_user:\n  a: b\n");
        assert!(
            e.to_string().contains("unknown field `basic_auth_user`"),
            "{e}"
        );
        let e = error("http_server_config:\n  header:\n    X-Frame-Options: deny\n");
        assert_eq!(e.field, "http_server_config.header");
    }

    #[test]
    fn only_the_headers_exporter_toolkit_allows() {
        let ok = parse(
            "http_server_config:\n  headers:\n    X-Frame-Options: deny\n    \
             X-Content-Type-Options: nosniff\n    Content-Security-Policy: \"default-src 'self'\"\n    \
             Strict-Transport-Security: \"\"\n",
        )
        .expect("valid");
        let names: Vec<&str> = ok.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "content-security-policy",
                "x-content-type-options",
                "x-frame-options"
            ],
            "blank values are unset"
        );
        let e = error("http_server_config:\n  headers:\n    Server: mine\n");
        assert_eq!(e.field, "http_server_config.headers.Server");
        let e = error("http_server_config:\n  headers:\n    X-Frame-Options: allow\n");
        assert!(e.message.contains("deny, sameorigin"), "{e}");
        let e = error("http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n");
        assert!(e.message.contains("nosniff"), "{e}");
    }

    #[test]
    fn passwords_must_be_bcrypt_hashes_and_are_never_quoted() {
        let e = error("basic_auth_users:\n  alice: plain-text-secret\n");
        assert_eq!(e.field, "basic_auth_users.alice");
        assert!(!e.to_string().contains("plain-text-secret"), "{e}");
        let e = error("basic_auth_users:\n  alice: 123456789\n");
        assert!(!e.to_string().contains("123456789"), "{e}");
        let e = error("basic_auth_users:\n  alice:\n    nested: 987654321\n");
        assert!(!e.to_string().contains("987654321"), "{e}");
        let e = error(&format!("basic_auth_users:\n  \"a:b\": {HASH}\n"));
        assert!(e.message.contains("':'"), "{e}");
    }

    #[test]
    fn what_rustls_cannot_do_is_refused_at_start() {
        let tls = |extra: &str| {
            format!("tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n{extra}")
        };
        let cases = [
            (
                "  client_auth_type: RequireAnyClientCert\n  client_ca_file: ca.crt\n",
                "client_auth_type",
                "without verifying",
            ),
            (
                "  client_auth_type: RequestClientCert\n",
                "client_auth_type",
                "without verifying",
            ),
            (
                "  client_auth_type: Sometimes\n",
                "client_auth_type",
                "unknown",
            ),
            (
                "  client_ca_file: ca.crt\n",
                "client_auth_type",
                "without a client auth policy",
            ),
            (
                "  client_auth_type: RequireAndVerifyClientCert\n",
                "client_ca_file",
                "needs client_ca_file",
            ),
            ("  max_version: TLS11\n", "max_version", "not supported"),
            (
                "  min_version: TLS13\n  max_version: TLS12\n",
                "min_version",
                "above max_version",
            ),
            (
                "  min_version: SSL3\n",
                "min_version",
                "unknown TLS version",
            ),
            (
                "  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n",
                "cipher_suites",
                "unsupported",
            ),
            (
                "  curve_preferences: [CurveP521]\n",
                "curve_preferences",
                "unsupported",
            ),
            (
                "  client_allowed_sans: [a.example]\n",
                "client_allowed_sans",
                "not supported",
            ),
            ("  cert: inline\n", "cert", "not both"),
        ];
        for (extra, field, message) in cases {
            let e = error(&tls(extra));
            assert_eq!(
                e.field,
                format!("tls_server_config.{field}"),
                "{extra}: {e}"
            );
            assert!(e.message.contains(message), "{extra}: {e}");
        }
        let e = error("tls_server_config:\n  cert_file: a.crt\n");
        assert_eq!(e.field, "tls_server_config.key_file");
        let e = error("tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n");
        assert!(
            e.message.contains("/etc/exporter/missing.crt"),
            "relative to the file: {e}"
        );
        let e = error("rate_limit:\n  interval: 1s\n  burst: 5\n");
        assert_eq!(e.field, "rate_limit");
    }
}
