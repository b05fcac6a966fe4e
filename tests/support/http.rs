//! The HTTP client the tests talk to an exporter with (reqwest): to 127.0.0.1
//! only, never through a proxy, a new connection per request, 60 s for the
//! whole exchange, and no automatic decompression, so a test asserting gzip
//! sees the encoded body and `Content-Encoding: gzip` as sent. Every answer is
//! checked for a secret (the routers' password) before a test sees it.

use flate2::read::GzDecoder;
use reqwest::Method;
use reqwest::header::HeaderMap;
use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

/// Covers connecting, the exporter's work and reading the whole body.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A response with its whole body read.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    /// As sent: still compressed when there is a `Content-Encoding`.
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("a visible-ASCII header value"))
    }

    /// The body as sent, which must be UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.decoded()).expect("a JSON body")
    }

    /// The body with its `Content-Encoding` (gzip or none) undone.
    pub fn decoded(&self) -> Vec<u8> {
        match self.header("content-encoding") {
            None => self.body.clone(),
            Some("gzip") => gunzip(&self.body),
            Some(other) => panic!("unexpected Content-Encoding {other}"),
        }
    }
}

/// Decompresses a whole gzip stream.
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a valid gzip stream");
    out
}

/// A client for the exporter at `addr` that fails the test if an answer
/// contains `secret`, in a header or in the (decoded) body.
#[derive(Clone, Debug)]
pub struct Client {
    addr: SocketAddr,
    secret: String,
    inner: reqwest::Client,
}

impl Client {
    pub fn new(addr: SocketAddr, secret: &str) -> Self {
        assert!(addr.ip().is_loopback(), "tests talk to 127.0.0.1 only");
        assert!(!secret.is_empty(), "an empty secret is in every body");
        let inner = reqwest::Client::builder()
            .no_proxy()
            .timeout(TIMEOUT)
            .pool_max_idle_per_host(0)
            .build()
            .expect("the HTTP client builds");
        Self {
            addr,
            secret: secret.into(),
            inner,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, &[]).await
    }

    /// A GET with extra request headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        self.send(Method::GET, path, headers).await
    }

    /// A POST without a body.
    pub async fn post(&self, path: &str) -> Response {
        self.send(Method::POST, path, &[]).await
    }

    /// A GET that may fail to connect (an exporter still starting); an answer
    /// is still checked for the secret.
    pub async fn try_get(&self, path: &str) -> reqwest::Result<Response> {
        self.try_send(Method::GET, path, &[]).await
    }

    async fn send(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Response {
        self.try_send(method.clone(), path, headers)
            .await
            .unwrap_or_else(|e| {
                panic!("{method} {path}: no complete answer within {TIMEOUT:?}: {e:?}")
            })
    }

    async fn try_send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Result<Response> {
        let url = format!("http://{}{path}", self.addr);
        let mut request = self.inner.request(method.clone(), &url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let answer = request.send().await?;
        let status = answer.status().as_u16();
        let headers = answer.headers().clone();
        let body = answer.bytes().await?.to_vec();
        let response = Response {
            status,
            headers,
            body,
        };
        self.assert_no_secret(&method, path, &response);
        Ok(response)
    }

    fn assert_no_secret(&self, method: &Method, path: &str, response: &Response) {
        let secret = self.secret.as_bytes();
        let contains = |bytes: &[u8]| bytes.windows(secret.len()).any(|w| w == secret);
        for (name, value) in &response.headers {
            assert!(
                !contains(value.as_bytes()),
                "the password leaked in the {name} header of {method} {path}"
            );
        }
        let body = response.decoded();
        assert!(
            !contains(&body),
            "the password leaked in {method} {path}: {}",
            String::from_utf8_lossy(&body)
        );
    }
}
