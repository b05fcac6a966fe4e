//! `tls_server_config`: a rustls server configuration (ring provider) from
//! exporter-toolkit's keys.
//!
//! Differences from exporter-toolkit (Go's crypto/tls), each an error at start
//! rather than a silent change, except the first:
//! * rustls speaks TLS 1.2 and 1.3 only: `min_version: TLS10`/`TLS11` serves
//!   TLS 1.2 and up (logged); a `max_version` below TLS12 is an error.
//! * `client_auth_type` `RequestClientCert` and `RequireAnyClientCert` accept
//!   a certificate without verifying it: refused (use
//!   `RequireAndVerifyClientCert`, or `VerifyClientCertIfGiven`).
//! * `cipher_suites` names the TLS 1.2 suites rustls has (the ECDHE AEAD
//!   ones); TLS 1.3 suites are always on, as in Go. `curve_preferences`:
//!   `X25519`, `CurveP256`, `CurveP384`.
//! * `client_allowed_sans` is not implemented.
//!
//! The certificate and key, when given as files, are read again when either
//! file changes (checked at most once a second, on a handshake); a change that
//! does not load keeps the previous pair and is logged.

use super::WebConfigError;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig, SupportedProtocolVersion};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// `tls_server_config` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct TlsFile {
    cert: Option<String>,
    key: Option<String>,
    client_ca: Option<String>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    client_ca_file: Option<PathBuf>,
    client_auth_type: Option<String>,
    min_version: Option<String>,
    max_version: Option<String>,
    cipher_suites: Option<Vec<String>>,
    curve_preferences: Option<Vec<String>>,
    prefer_server_cipher_suites: Option<bool>,
    client_allowed_sans: Option<Vec<String>>,
}

impl TlsFile {
    /// exporter-toolkit serves plain HTTP when none of these is set.
    fn is_enabled(&self) -> bool {
        self.cert.is_some()
            || self.key.is_some()
            || self.client_ca.is_some()
            || self.cert_file.is_some()
            || self.key_file.is_some()
            || self.client_ca_file.is_some()
            || self
                .client_auth_type
                .as_deref()
                .is_some_and(|s| !s.is_empty())
    }
}

/// PEM text inline in the file, or a file of it.
#[derive(Debug, Clone)]
enum Pem {
    Inline(String),
    File(PathBuf),
}

impl Pem {
    /// The one of `inline` and `file` that is set (`name` and `name_file`).
    fn pick(
        inline: Option<String>,
        file: Option<PathBuf>,
        name: &str,
        ctx: &Ctx,
    ) -> Result<Option<Pem>, WebConfigError> {
        match (
            inline.filter(|s| !s.is_empty()),
            file.filter(|p| !p.as_os_str().is_empty()),
        ) {
            (Some(_), Some(_)) => {
                Err(ctx.error(name, format!("set {name} or {name}_file, not both")))
            }
            (Some(text), None) => Ok(Some(Pem::Inline(text))),
            (None, Some(path)) => Ok(Some(Pem::File(ctx.dir.join(path)))),
            (None, None) => Ok(None),
        }
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        match self {
            Pem::Inline(text) => Ok(text.as_bytes().to_vec()),
            Pem::File(path) => {
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
            }
        }
    }

    /// Modification time and length of a file; `None` inline.
    fn stamp(&self) -> Option<(SystemTime, u64)> {
        match self {
            Pem::Inline(_) => None,
            Pem::File(path) => {
                let meta = std::fs::metadata(path).ok()?;
                Some((meta.modified().ok()?, meta.len()))
            }
        }
    }
}

/// The file and its directory, for errors and relative paths.
struct Ctx<'a> {
    file: &'a Path,
    dir: &'a Path,
}

impl Ctx<'_> {
    fn error(&self, field: &str, message: impl Into<String>) -> WebConfigError {
        WebConfigError::new(self.file, &format!("tls_server_config.{field}"), message)
    }
}

/// The rustls configuration, or `None` (plain HTTP) when no TLS key is set.
pub(super) fn server_config(
    t: TlsFile,
    file: &Path,
    dir: &Path,
) -> Result<Option<Arc<ServerConfig>>, WebConfigError> {
    if !t.is_enabled() {
        return Ok(None);
    }
    let ctx = Ctx { file, dir };
    if t.client_allowed_sans.is_some() {
        return Err(ctx.error(
            "client_allowed_sans",
            "not supported by routeros-exporter (issue client certificates from a CA of their own instead)",
        ));
    }
    let provider = Arc::new(provider(&t, &ctx)?);
    let versions = versions(&t, &ctx)?;
    let verifier = client_verifier(&t, &ctx, &provider)?;
    let cert = Pem::pick(t.cert, t.cert_file, "cert", &ctx)?
        .ok_or_else(|| ctx.error("cert_file", "missing one of cert or cert_file"))?;
    let key = Pem::pick(t.key, t.key_file, "key", &ctx)?
        .ok_or_else(|| ctx.error("key_file", "missing one of key or key_file"))?;
    let resolver =
        ReloadingCert::new(cert, key, provider.clone()).map_err(|e| ctx.error("cert_file", e))?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| ctx.error("min_version", e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.ignore_client_order = t.prefer_server_cipher_suites.unwrap_or(true);
    Ok(Some(Arc::new(config)))
}

/// ring with the configured TLS 1.2 suites and key exchange groups.
fn provider(t: &TlsFile, ctx: &Ctx) -> Result<CryptoProvider, WebConfigError> {
    let mut provider = rustls::crypto::ring::default_provider();
    if let Some(names) = t.cipher_suites.as_ref().filter(|n| !n.is_empty()) {
        let name_of = |s: &rustls::SupportedCipherSuite| s.suite().as_str().unwrap_or_default();
        for name in names {
            let known = provider.cipher_suites.iter().any(|s| name_of(s) == name);
            // Go's names of the TLS 1.3 suites: always on there, as here.
            let tls13 = name.starts_with("TLS_AES_") || name.starts_with("TLS_CHACHA20_");
            if !known && !tls13 {
                let supported: Vec<&str> = provider
                    .cipher_suites
                    .iter()
                    .filter(|s| s.tls13().is_none())
                    .map(name_of)
                    .collect();
                return Err(ctx.error(
                    "cipher_suites",
                    format!(
                        "unknown or unsupported cipher suite {name:?} (supported: {})",
                        supported.join(", ")
                    ),
                ));
            }
        }
        provider
            .cipher_suites
            .retain(|s| s.tls13().is_some() || names.iter().any(|n| n == name_of(s)));
    }
    if let Some(curves) = t.curve_preferences.as_ref().filter(|c| !c.is_empty()) {
        use rustls::crypto::ring::kx_group;
        let mut groups = Vec::new();
        for curve in curves {
            groups.push(match curve.as_str() {
                "X25519" => kx_group::X25519,
                "CurveP256" => kx_group::SECP256R1,
                "CurveP384" => kx_group::SECP384R1,
                other => {
                    return Err(ctx.error(
                        "curve_preferences",
                        format!("unknown or unsupported curve {other:?} (supported: X25519, CurveP256, CurveP384)"),
                    ));
                }
            });
        }
        provider.kx_groups = groups;
    }
    Ok(provider)
}

/// `min_version`/`max_version` (default TLS12..TLS13) as rustls versions.
fn versions(
    t: &TlsFile,
    ctx: &Ctx,
) -> Result<Vec<&'static SupportedProtocolVersion>, WebConfigError> {
    let parse = |field: &str, text: Option<&str>, default: u8| -> Result<u8, WebConfigError> {
        match text {
            None | Some("") => Ok(default),
            Some("TLS10") => Ok(10),
            Some("TLS11") => Ok(11),
            Some("TLS12") => Ok(12),
            Some("TLS13") => Ok(13),
            Some(other) => Err(ctx.error(
                field,
                format!("unknown TLS version {other:?} (expected TLS10, TLS11, TLS12 or TLS13)"),
            )),
        }
    };
    let min = parse("min_version", t.min_version.as_deref(), 12)?;
    let max = parse("max_version", t.max_version.as_deref(), 13)?;
    if max < 12 {
        return Err(ctx.error(
            "max_version",
            "TLS 1.0 and 1.1 are not supported (rustls speaks TLS12 and TLS13)",
        ));
    }
    if min > max {
        return Err(ctx.error("min_version", "is above max_version"));
    }
    if min < 12 {
        tracing::warn!(
            file = %ctx.file.display(),
            "tls_server_config.min_version below TLS12: serving TLS 1.2 and up (rustls has no TLS 1.0/1.1)"
        );
    }
    let mut versions = Vec::new();
    if min <= 12 {
        versions.push(&rustls::version::TLS12);
    }
    versions.push(&rustls::version::TLS13);
    if max == 12 {
        versions.retain(|v| v.version != rustls::ProtocolVersion::TLSv1_3);
    }
    Ok(versions)
}

/// `client_auth_type` with `client_ca`/`client_ca_file`.
fn client_verifier(
    t: &TlsFile,
    ctx: &Ctx,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, WebConfigError> {
    let ca = Pem::pick(
        t.client_ca.clone(),
        t.client_ca_file.clone(),
        "client_ca",
        ctx,
    )?;
    let kind = t.client_auth_type.as_deref().unwrap_or("");
    let optional = match kind {
        "" | "NoClientCert" => {
            if ca.is_some() {
                return Err(ctx.error(
                    "client_auth_type",
                    "a client CA is configured without a client auth policy (set RequireAndVerifyClientCert)",
                ));
            }
            return Ok(WebPkiClientVerifier::no_client_auth());
        }
        "RequireAndVerifyClientCert" => false,
        "VerifyClientCertIfGiven" => true,
        "RequestClientCert" | "RequireAnyClientCert" | "RequireClientCert" => {
            return Err(ctx.error(
                "client_auth_type",
                format!("{kind} accepts certificates without verifying them; not supported (use RequireAndVerifyClientCert)"),
            ));
        }
        other => {
            return Err(ctx.error(
                "client_auth_type",
                format!("unknown {other:?} (expected NoClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert)"),
            ));
        }
    };
    let ca = ca.ok_or_else(|| {
        ctx.error(
            "client_ca_file",
            format!("{kind} needs client_ca_file (or client_ca)"),
        )
    })?;
    let bytes = ca.bytes().map_err(|e| ctx.error("client_ca_file", e))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        let cert = cert.map_err(|e| ctx.error("client_ca_file", format!("invalid PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| ctx.error("client_ca_file", format!("invalid CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(ctx.error("client_ca_file", "no certificate found"));
    }
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
    let builder = if optional {
        builder.allow_unauthenticated()
    } else {
        builder
    };
    builder
        .build()
        .map_err(|e| ctx.error("client_ca_file", e.to_string()))
}

/// How often the certificate files are looked at, at most.
const RECHECK: Duration = Duration::from_secs(1);

/// The server certificate, read again when its files change.
#[derive(Debug)]
struct ReloadingCert {
    cert: Pem,
    key: Pem,
    provider: Arc<CryptoProvider>,
    current: Mutex<Current>,
}

#[derive(Debug)]
struct Current {
    key: Arc<CertifiedKey>,
    stamp: [Option<(SystemTime, u64)>; 2],
    checked: Instant,
}

impl ReloadingCert {
    fn new(cert: Pem, key: Pem, provider: Arc<CryptoProvider>) -> Result<Self, String> {
        let stamp = [cert.stamp(), key.stamp()];
        let loaded = certified_key(&cert, &key, &provider)?;
        Ok(Self {
            cert,
            key,
            provider,
            current: Mutex::new(Current {
                key: Arc::new(loaded),
                stamp,
                checked: Instant::now(),
            }),
        })
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if current.checked.elapsed() >= RECHECK {
            current.checked = Instant::now();
            let stamp = [self.cert.stamp(), self.key.stamp()];
            if stamp != current.stamp {
                // Remembered either way: a broken pair is logged once, not
                // on every handshake, and retried when the files change again.
                current.stamp = stamp;
                match certified_key(&self.cert, &self.key, &self.provider) {
                    Ok(key) => {
                        current.key = Arc::new(key);
                        tracing::info!("TLS certificate reloaded");
                    }
                    Err(e) => tracing::error!(
                        error = %e,
                        "TLS certificate changed but does not load; keeping the previous one"
                    ),
                }
            }
        }
        Some(current.key.clone())
    }
}

/// Certificate chain and matching private key. Errors never quote the key.
fn certified_key(cert: &Pem, key: &Pem, provider: &CryptoProvider) -> Result<CertifiedKey, String> {
    let cert_bytes = cert.bytes()?;
    let chain = CertificateDer::pem_slice_iter(&cert_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("certificate: invalid PEM: {e}"))?;
    if chain.is_empty() {
        return Err("certificate: no CERTIFICATE block found".to_string());
    }
    let key_bytes = key.bytes()?;
    let private = PrivateKeyDer::from_pem_slice(&key_bytes)
        .map_err(|e| format!("key: no usable private key: {e}"))?;
    CertifiedKey::from_der(chain, private, provider)
        .map_err(|e| format!("certificate and key: {e}"))
}
