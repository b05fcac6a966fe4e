//! API-SSL: a self-signed certificate per router, and the anonymous-DH refusal.

use sha2::{Digest, Sha256};
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};

/// The TLS alert record a RouterOS API-SSL service without a certificate sends to
/// a client offering no anonymous-DH suite: fatal `handshake_failure` (40).
pub const HANDSHAKE_FAILURE_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];

/// How long the anonymous-DH refusal waits for the ClientHello.
const CLIENT_HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// A self-signed server identity and the acceptor using it.
#[derive(Clone)]
pub struct TlsMaterial {
    /// Accepts TLS connections with the certificate.
    pub acceptor: TlsAcceptor,
    /// Lowercase hex SHA-256 of the certificate's DER.
    pub fingerprint_sha256: String,
    /// The certificate in PEM form (it is its own CA).
    pub ca_pem: String,
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Generates a self-signed certificate for `localhost` and `127.0.0.1`.
pub fn self_signed() -> io::Result<TlsMaterial> {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let certified = rcgen::generate_simple_self_signed(names).map_err(other)?;
    let cert_der = certified.cert.der().clone();
    let fingerprint_sha256 = hex::encode(Sha256::digest(cert_der.as_ref()));
    let ca_pem = certified.cert.pem();
    let key = pki_types::PrivateKeyDer::Pkcs8(pki_types::PrivatePkcs8KeyDer::from(
        certified.key_pair.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(other)?
        .with_no_client_auth()
        .with_single_cert(vec![cert_der], key)
        .map_err(other)?;
    Ok(TlsMaterial {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        fingerprint_sha256,
        ca_pem,
    })
}

/// Reads the ClientHello record, answers with [`HANDSHAKE_FAILURE_ALERT`] and
/// closes, as an anonymous-DH-only API-SSL service does to a rustls client.
pub async fn refuse_like_anonymous_dh(mut stream: TcpStream) -> io::Result<()> {
    let mut header = [0u8; 5];
    tokio::time::timeout(CLIENT_HELLO_TIMEOUT, stream.read_exact(&mut header))
        .await
        .map_err(other)??;
    let record_len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let mut record = vec![0u8; record_len];
    tokio::time::timeout(CLIENT_HELLO_TIMEOUT, stream.read_exact(&mut record))
        .await
        .map_err(other)??;
    stream.write_all(&HANDSHAKE_FAILURE_ALERT).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificates_are_fresh_and_fingerprinted() {
        let a = self_signed().unwrap();
        let b = self_signed().unwrap();
        assert_eq!(a.fingerprint_sha256.len(), 64);
        assert_ne!(a.fingerprint_sha256, b.fingerprint_sha256);
        assert!(a.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    }
}
