//! Opening the byte stream to a router: TCP (with `TCP_NODELAY`) and optionally TLS.
//!
//! Nagle's algorithm is the reason other exporters spend ~44 ms per command: a
//! request written in pieces waits for the router's delayed ACK. We disable it and
//! also write each sentence in one buffer (see the session's writer).

use crate::error::{Error, Result};
use crate::tls::{TlsSettings, explain_handshake_error};
use rustls::ClientConfig;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// A bidirectional byte stream to a router (plain TCP or TLS).
pub trait Transport: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Transport for T {}

/// A boxed [`Transport`].
pub type BoxedTransport = Box<dyn Transport>;

/// TLS to use on a connection: the settings (for the server name) and the
/// prepared rustls configuration.
#[derive(Clone)]
pub struct TlsConnect {
    /// How the router's certificate is verified.
    pub settings: TlsSettings,
    /// Built once per target from `settings`.
    pub config: Arc<ClientConfig>,
}

/// Connects to `address` (`host:port`), trying each resolved address until one
/// answers, all before `deadline`.
pub async fn connect(
    address: &str,
    tls: Option<&TlsConnect>,
    deadline: Instant,
) -> Result<BoxedTransport> {
    let allowed = deadline.saturating_duration_since(Instant::now());
    let tcp = tokio::time::timeout_at(deadline, connect_tcp(address))
        .await
        .map_err(|_| Error::Timeout(allowed, "connect"))??;
    let Some(tls) = tls else {
        return Ok(Box::new(tcp));
    };
    let name = tls.settings.server_name(address)?;
    let connector = tokio_rustls::TlsConnector::from(tls.config.clone());
    let stream = tokio::time::timeout_at(deadline, connector.connect(name, tcp))
        .await
        .map_err(|_| Error::Timeout(allowed, "tls handshake"))?
        .map_err(explain_handshake_error)?;
    Ok(Box::new(stream))
}

async fn connect_tcp(address: &str) -> Result<TcpStream> {
    let connect_error = |e: std::io::Error| Error::Connect {
        address: address.to_string(),
        source: Arc::new(e),
    };
    let mut last = None;
    for addr in tokio::net::lookup_host(address)
        .await
        .map_err(connect_error)?
    {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                stream.set_nodelay(true).map_err(connect_error)?;
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(connect_error(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "address resolved to nothing")
    })))
}
