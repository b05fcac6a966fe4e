//! API-SSL (port 8729) client configuration.
//!
//! Router certificates are usually self-signed and rarely name the address the
//! exporter dials, so besides normal verification (webpki roots or a CA file) this
//! offers SHA-256 fingerprint pinning and an explicit insecure opt-in. Handshake
//! signatures are verified in every mode; only the chain/name check changes.
//!
//! RouterOS API-SSL *without* a certificate only speaks anonymous Diffie-Hellman,
//! which rustls does not implement (and which authenticates nobody). Such a router
//! answers our ClientHello with a `handshake_failure` alert; [`explain_handshake_error`]
//! turns that into an error that says how to fix it on the router.

use crate::error::Error;
use crate::file;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How to verify a router's API-SSL certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TlsSettings {
    /// PEM file with the CA (or the router's own self-signed certificate) to trust
    /// instead of the built-in webpki roots.
    pub ca_file: Option<PathBuf>,
    /// Pin the router's certificate by the SHA-256 of its DER encoding (hex, colons
    /// and case ignored). Chain and name are then not checked.
    pub fingerprint_sha256: Option<String>,
    /// Name to verify and send as SNI instead of the address' host.
    pub server_name: Option<String>,
    /// Accept any certificate. Explicit opt-in for labs; traffic is still
    /// encrypted but the router is not authenticated.
    pub insecure_skip_verify: bool,
}

/// Normalises a fingerprint to 32 bytes (accepts `AA:BB:..` or plain hex).
pub fn parse_fingerprint(text: &str) -> Result<[u8; 32], String> {
    let hex_digits: String = text
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect();
    let bytes = hex::decode(&hex_digits).map_err(|e| format!("not hex: {e}"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("expected 32 bytes (64 hex digits), got {}", b.len()))
}

/// The most a `ca_file` may hold. Every public root CA together is about
/// 200 KiB of PEM; a file beyond this is not a CA bundle.
pub const MAX_CA_FILE_BYTES: u64 = 1 << 20;

/// The certificates of a PEM `ca_file`, read as [`file::read_regular`] reads
/// (a regular file of at most [`MAX_CA_FILE_BYTES`], opened without blocking).
/// The config loader calls this at load so a bad file is reported there, with
/// its line; [`TlsSettings::client_config`] reads the file again at connect.
/// The error names the file and says what is wrong with it.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = file::read_regular(path, MAX_CA_FILE_BYTES)
        .map_err(|e| format!("cannot read CA file `{}`: {e}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("CA file `{}` is not valid PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "CA file `{}` holds no certificate (no `-----BEGIN CERTIFICATE-----` block)",
            path.display()
        ));
    }
    Ok(certs)
}

impl TlsSettings {
    /// Builds the rustls client configuration (reads `ca_file` once).
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls(e.to_string()))?;
        let config = if let Some(fp) = &self.fingerprint_sha256 {
            let expected = parse_fingerprint(fp)
                .map_err(|e| Error::Tls(format!("fingerprint_sha256: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(RelaxedVerifier {
                    pinned: Some(expected),
                    algorithms: provider.signature_verification_algorithms,
                }))
                .with_no_client_auth()
        } else if self.insecure_skip_verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(RelaxedVerifier {
                    pinned: None,
                    algorithms: provider.signature_verification_algorithms,
                }))
                .with_no_client_auth()
        } else {
            let mut roots = RootCertStore::empty();
            match &self.ca_file {
                Some(path) => {
                    for cert in read_ca_file(path).map_err(Error::Tls)? {
                        roots
                            .add(cert)
                            .map_err(|e| Error::Tls(format!("ca_file {}: {e}", path.display())))?;
                    }
                }
                None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        Ok(Arc::new(config))
    }

    /// The name to verify/send: `server_name`, else the host part of `address`.
    pub fn server_name(&self, address: &str) -> Result<ServerName<'static>, Error> {
        let host = self
            .server_name
            .clone()
            .unwrap_or_else(|| host_of(address).to_string());
        ServerName::try_from(host.clone())
            .map_err(|_| Error::Tls(format!("invalid TLS server name {host:?}")))
    }
}

/// Whether `name` can be verified and sent as SNI: a DNS name or an IP address.
pub fn is_valid_server_name(name: &str) -> bool {
    ServerName::try_from(name).is_ok()
}

/// The host part of `host:port`, `[v6]:port` or a bare host.
pub fn host_of(address: &str) -> &str {
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match address.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.parse::<u16>().is_ok() => host,
        _ => address,
    }
}

/// Turns a failed handshake into an actionable error.
pub fn explain_handshake_error(err: std::io::Error) -> Error {
    let inner = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
        .cloned();
    match inner {
        Some(rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure)) => {
            Error::Tls(
                "router rejected every cipher suite offered (handshake_failure): RouterOS \
                 API-SSL without a certificate only offers anonymous Diffie-Hellman, which is \
                 unauthenticated and not supported. Add a certificate to the api-ssl service on \
                 the router (/certificate add name=api common-name=<router>; /certificate sign \
                 api; /ip service set api-ssl certificate=api) or use the plain API port"
                    .to_string(),
            )
        }
        Some(e) => Error::Tls(e.to_string()),
        None => Error::Tls(err.to_string()),
    }
}

/// Verifier for pinned or explicitly insecure mode: skips chain and name
/// validation, keeps handshake signature checks.
#[derive(Debug)]
struct RelaxedVerifier {
    pinned: Option<[u8; 32]>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for RelaxedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(expected) = self.pinned {
            let actual: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
            if actual != expected {
                return Err(rustls::Error::General(format!(
                    "certificate fingerprint mismatch: router presented sha256 {}",
                    hex::encode(actual)
                )));
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_accept_colons_and_case() {
        let hex64 = "AB".repeat(32);
        let colons = vec!["ab"; 32].join(":");
        assert_eq!(parse_fingerprint(&hex64).unwrap(), [0xAB; 32]);
        assert_eq!(parse_fingerprint(&colons).unwrap(), [0xAB; 32]);
        assert!(parse_fingerprint("abcd").unwrap_err().contains("32 bytes"));
        assert!(parse_fingerprint("zz").unwrap_err().contains("not hex"));
    }

    #[test]
    fn host_extraction() {
        assert_eq!(host_of("192.168.88.1:8729"), "192.168.88.1");
        assert_eq!(host_of("[2001:db8::1]:8729"), "2001:db8::1");
        assert_eq!(host_of("router.example"), "router.example");
        assert_eq!(host_of("2001:db8::1"), "2001:db8::1");
    }

    #[test]
    fn missing_ca_file_is_a_clear_error() {
        let settings = TlsSettings {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        };
        let err = settings.client_config().unwrap_err().to_string();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn ca_file_must_be_a_small_regular_pem_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = |path: &Path| match read_ca_file(path) {
            Ok(certs) => panic!("{} certificates from {}", certs.len(), path.display()),
            Err(e) => e,
        };
        let e = err(Path::new("/dev/zero"));
        assert!(
            e.starts_with("cannot read CA file `/dev/zero`: it is a character device"),
            "{e}"
        );
        let e = err(dir.path());
        assert!(e.contains("it is a directory, not a regular file"), "{e}");
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "no certificate here\n").expect("write");
        let e = err(&text);
        assert!(e.contains("holds no certificate"), "{e}");
        let big = dir.path().join("big.pem");
        std::fs::write(&big, vec![b'#'; MAX_CA_FILE_BYTES as usize + 1]).expect("write");
        let e = err(&big);
        assert!(e.contains("larger than 1 MiB"), "{e}");
        // The connect path reads through the same function.
        let settings = TlsSettings {
            ca_file: Some("/dev/zero".into()),
            ..Default::default()
        };
        let e = settings.client_config().unwrap_err().to_string();
        assert!(e.contains("character device"), "{e}");
    }
}
