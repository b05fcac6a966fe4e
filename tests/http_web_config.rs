//! `--web.config.file` (exporter-toolkit format) on 127.0.0.1: TLS with a
//! certificate from a test CA (rcgen), mTLS refusing a client without a
//! certificate or with one from another CA, `min_version`, basic auth (401
//! with `WWW-Authenticate: Basic`, right password 200), the configured
//! headers, `--web.healthy-without-auth`; and the built binary with TLS and
//! basic auth at trace level: the password never reaches its logs, and
//! SIGTERM does not wait for idle keep-alive connections.

#[allow(dead_code)]
mod support;

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use routeros_exporter::collect::group_names;
use routeros_exporter::config::{Config, ConfigSource};
use routeros_exporter::http::App;
use routeros_exporter::http::server::ServerOptions;
use routeros_exporter::http::web_config::WebConfig;
use routeros_exporter::probe::ProberOptions;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use support::harness::serve_with;
use support::process::{Running, exporter};
use tempfile::TempDir;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const BOUND: Duration = Duration::from_secs(30);
const PASSWORD: &str = "canary-Pa55word-7f3a";
const WRONG: &str = "wrong-Pa55word-9c1e";

/// A CA, a server certificate for localhost/127.0.0.1 and a client
/// certificate, as PEM files in a temp dir (with the web config beside them).
struct Pki {
    dir: TempDir,
    ca: String,
    client: (String, String),
    /// A client certificate from a CA the server does not trust.
    stranger: (String, String),
}

/// A CA certificate and key.
fn ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().expect("CA key");
    (params.self_signed(&key).expect("CA cert"), key)
}

/// A certificate for `names` signed by `issuer`: (cert PEM, key PEM).
fn leaf(
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
    issuer: &(rcgen::Certificate, KeyPair),
) -> (String, String) {
    let names: Vec<String> = names.iter().map(ToString::to_string).collect();
    let mut params = CertificateParams::new(names).expect("leaf params");
    params.extended_key_usages = vec![usage];
    let key = KeyPair::generate().expect("leaf key");
    let cert = params
        .signed_by(&key, &issuer.0, &issuer.1)
        .expect("signed");
    (cert.pem(), key.serialize_pem())
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().expect("temp dir");
    let authority = ca("test CA");
    let server = leaf(
        &["localhost", "127.0.0.1"],
        ExtendedKeyUsagePurpose::ServerAuth,
        &authority,
    );
    let client = leaf(
        &["prometheus"],
        ExtendedKeyUsagePurpose::ClientAuth,
        &authority,
    );
    let stranger = leaf(
        &["prometheus"],
        ExtendedKeyUsagePurpose::ClientAuth,
        &ca("another CA"),
    );
    std::fs::create_dir(dir.path().join("tls")).expect("mkdir");
    let write = |name: &str, text: &str| {
        std::fs::write(dir.path().join("tls").join(name), text).expect("write PEM");
    };
    write("ca.crt", &authority.0.pem());
    write("server.crt", &server.0);
    write("server.key", &server.1);
    Pki {
        ca: authority.0.pem(),
        dir,
        client,
        stranger,
    }
}

impl Pki {
    /// Writes `text` as the web config beside the certificates (whose paths
    /// in it are relative: `tls/server.crt`).
    fn web_config(&self, text: &str) -> PathBuf {
        let path = self.dir.path().join("web.yml");
        std::fs::write(&path, text).expect("write web config");
        path
    }
}

const TLS: &str = "tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n";

fn hash(password: &str) -> String {
    // Cost 4: these tests check behaviour, not bcrypt's strength.
    bcrypt::hash(password, 4).expect("bcrypt")
}

fn app() -> Arc<App> {
    App::new(
        Config::empty(ConfigSource::Demo, &group_names()),
        ProberOptions::default(),
    )
}

/// Serves an exporter with the web config at `path`.
async fn serve(path: &Path, open_health: bool) -> (Arc<App>, SocketAddr) {
    let web = WebConfig::load(path).unwrap_or_else(|e| panic!("{e}"));
    let app = app();
    let addr = serve_with(
        app.clone(),
        ServerOptions::default(),
        web.security(open_health),
    )
    .await;
    (app, addr)
}

/// A TLS client trusting `ca`, with an optional client certificate and
/// only the given protocol versions.
fn connector(
    ca: &str,
    client: Option<&(String, String)>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
        roots.add(cert.expect("CA PEM")).expect("add CA");
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .expect("versions")
    .with_root_certificates(roots);
    let config = match client {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(cert.as_bytes()).expect("cert")],
                PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("key"),
            )
            .expect("client cert"),
        None => builder.with_no_client_auth(),
    };
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// A response's status and lower-cased head.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
}

/// `GET path` with `Connection: close` and optional basic credentials on
/// `stream`; the answer, or why there is none.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    path: &str,
    credentials: Option<(&str, &str)>,
) -> Result<Answer, String> {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some((user, password)) = credentials {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        request.push_str(&format!("Authorization: Basic {encoded}\r\n"));
    }
    request.push_str("\r\n");
    let io = async {
        stream.write_all(request.as_bytes()).await?;
        let mut data = Vec::new();
        stream.read_to_end(&mut data).await?;
        Ok::<_, std::io::Error>(data)
    };
    let data = tokio::time::timeout(BOUND, io)
        .await
        .map_err(|_| "no answer in time".to_string())?
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&data).to_string();
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_lowercase();
    let status = head
        .strip_prefix("http/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {text:?}"))?;
    Ok(Answer { status, head })
}

async fn plain_get(
    addr: SocketAddr,
    path: &str,
    credentials: Option<(&str, &str)>,
) -> Result<Answer, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    exchange(stream, path, credentials).await
}

async fn tls_get(
    addr: SocketAddr,
    connector: &tokio_rustls::TlsConnector,
    path: &str,
    credentials: Option<(&str, &str)>,
) -> Result<Answer, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = ServerName::try_from("localhost").expect("server name");
    let stream = tokio::time::timeout(BOUND, connector.connect(name, tcp))
        .await
        .map_err(|_| "handshake timed out".to_string())?
        .map_err(|e| format!("handshake: {e}"))?;
    exchange(stream, path, credentials).await
}

const ALL: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

#[tokio::test]
async fn tls_serves_a_client_that_trusts_the_ca_with_the_configured_headers() {
    let pki = pki();
    let path = pki.web_config(&format!(
        "{TLS}http_server_config:\n  headers:\n    X-Frame-Options: deny\n    X-Content-Type-Options: nosniff\n"
    ));
    let (_app, addr) = serve(&path, false).await;
    let client = connector(&pki.ca, None, ALL);
    for path in ["/-/healthy", "/metrics", "/nowhere"] {
        let answer = tls_get(addr, &client, path, None).await.expect("an answer");
        assert!(answer.head.contains("x-frame-options: deny"), "{answer:?}");
        assert!(
            answer.head.contains("x-content-type-options: nosniff"),
            "{answer:?}"
        );
        assert_eq!(answer.status, if path == "/nowhere" { 404 } else { 200 });
    }
    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = plain_get(addr, "/-/healthy", None).await;
    assert!(plain.is_err(), "{plain:?}");
    // A client that does not trust the CA gets no answer either.
    let other = pki::other_ca_pem();
    let untrusting = connector(&other, None, ALL);
    assert!(
        tls_get(addr, &untrusting, "/-/healthy", None)
            .await
            .is_err()
    );
}

/// A CA certificate nobody signed anything with.
mod pki {
    pub fn other_ca_pem() -> String {
        super::ca("unrelated CA").0.pem()
    }
}

#[tokio::test]
async fn min_version_tls13_refuses_a_tls12_client() {
    let pki = pki();
    let path = pki.web_config(&format!("{TLS}  min_version: TLS13\n"));
    let (_app, addr) = serve(&path, false).await;
    let tls12 = connector(&pki.ca, None, &[&rustls::version::TLS12]);
    assert!(tls_get(addr, &tls12, "/-/healthy", None).await.is_err());
    let tls13 = connector(&pki.ca, None, &[&rustls::version::TLS13]);
    assert_eq!(
        tls_get(addr, &tls13, "/-/healthy", None)
            .await
            .map(|a| a.status),
        Ok(200)
    );
}

#[tokio::test]
async fn mtls_requires_a_certificate_from_the_client_ca() {
    let pki = pki();
    let path = pki.web_config(&format!(
        "{TLS}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: tls/ca.crt\n"
    ));
    let (_app, addr) = serve(&path, false).await;
    let without = connector(&pki.ca, None, ALL);
    let refused = tls_get(addr, &without, "/-/healthy", None).await;
    assert!(refused.is_err(), "no certificate, no answer: {refused:?}");
    let stranger = connector(&pki.ca, Some(&pki.stranger), ALL);
    let refused = tls_get(addr, &stranger, "/-/healthy", None).await;
    assert!(refused.is_err(), "a certificate of another CA: {refused:?}");
    let with = connector(&pki.ca, Some(&pki.client), ALL);
    let answer = tls_get(addr, &with, "/-/healthy", None).await;
    assert_eq!(answer.map(|a| a.status), Ok(200));
}

#[tokio::test]
async fn basic_auth_answers_401_with_the_challenge_unless_the_password_is_right() {
    let pki = pki();
    let path = pki.web_config(&format!(
        "basic_auth_users:\n  prometheus: {}\nhttp_server_config:\n  headers:\n    X-Frame-Options: sameorigin\n",
        hash(PASSWORD)
    ));
    let (app, addr) = serve(&path, false).await;
    for (path, credentials) in [
        ("/metrics", None),
        ("/metrics", Some(("prometheus", WRONG))),
        ("/metrics", Some(("nobody", PASSWORD))),
        ("/-/healthy", None),
        ("/probe?target=x", Some(("prometheus", ""))),
    ] {
        let answer = plain_get(addr, path, credentials).await.expect("an answer");
        assert_eq!(answer.status, 401, "{path} {credentials:?}");
        assert!(
            answer.head.contains("www-authenticate: basic"),
            "{answer:?}"
        );
        assert!(
            answer.head.contains("x-frame-options: sameorigin"),
            "{answer:?}"
        );
        assert!(!answer.head.contains(&PASSWORD.to_lowercase()));
    }
    for _ in 0..3 {
        let answer = plain_get(addr, "/metrics", Some(("prometheus", PASSWORD))).await;
        assert_eq!(answer.map(|a| a.status), Ok(200));
    }
    let metrics = plain_get(addr, "/metrics", Some(("prometheus", PASSWORD)))
        .await
        .expect("metrics");
    assert_eq!(metrics.status, 200);
    assert_eq!(app.metrics.server_stats().read().unauthorized, 5);
}

#[tokio::test]
async fn healthy_without_auth_opens_only_the_probe_endpoints() {
    let pki = pki();
    let path = pki.web_config(&format!(
        "basic_auth_users:\n  prometheus: {}\n",
        hash(PASSWORD)
    ));
    let (_app, addr) = serve(&path, true).await;
    for open in ["/-/healthy", "/-/ready"] {
        let answer = plain_get(addr, open, None).await.expect("an answer");
        assert_eq!(answer.status, 200, "{open}");
    }
    for closed in [
        "/metrics",
        "/health",
        "/config",
        "/",
        "/-/healthy/../config",
    ] {
        let answer = plain_get(addr, closed, None).await.expect("an answer");
        assert_eq!(answer.status, 401, "{closed}");
    }
}

/// The built binary with TLS and basic auth at `--log.level trace`; its
/// plain-HTTP client is unused (it speaks TLS), its secret check included.
fn start_exporter(web_config: &Path) -> Running {
    let mut command = exporter();
    command
        .args([
            "--demo",
            "--log.level",
            "trace",
            "--web.healthy-without-auth",
        ])
        .arg("--web.config.file")
        .arg(web_config);
    Running::start(command, PASSWORD)
}

#[tokio::test]
async fn the_binary_serves_tls_with_auth_never_logs_the_password_and_stops_with_idle_connections() {
    let pki = pki();
    let path = pki.web_config(&format!(
        "{TLS}basic_auth_users:\n  prometheus: {}\n",
        hash(PASSWORD)
    ));
    let mut exporter = start_exporter(&path);
    let client = connector(&pki.ca, None, ALL);
    let mut up = false;
    for _ in 0..300 {
        if let Ok(a) = tls_get(exporter.addr, &client, "/-/healthy", None).await {
            up = a.status == 200;
            break;
        }
        assert!(
            exporter.child.try_wait().expect("try_wait").is_none(),
            "{}",
            exporter.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the exporter never answered: {}", exporter.stderr());
    let wrong = tls_get(
        exporter.addr,
        &client,
        "/metrics",
        Some(("prometheus", WRONG)),
    )
    .await;
    assert_eq!(wrong.map(|a| a.status), Ok(401));
    let right = tls_get(
        exporter.addr,
        &client,
        "/probe?target=demo&module=connectivity",
        Some(("prometheus", PASSWORD)),
    )
    .await;
    assert_eq!(right.map(|a| a.status), Ok(200));
    // Idle keep-alive connections (a request answered, then nothing).
    let mut idle = Vec::new();
    for _ in 0..20 {
        let tcp = TcpStream::connect(exporter.addr).await.expect("connect");
        let name = ServerName::try_from("localhost").expect("name");
        let mut tls = client.connect(name, tcp).await.expect("handshake");
        tls.write_all(b"GET /-/healthy HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .expect("send");
        let mut buf = [0u8; 512];
        let n = tls.read(&mut buf).await.expect("answer");
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        idle.push(tls);
    }
    exporter.signal("TERM");
    exporter.wait_exit(BOUND).await;
    let logs = exporter.stderr();
    assert!(logs.contains("tls=true basic_auth=true"), "{logs}");
    assert!(logs.contains("stopped"), "{logs}");
    assert!(
        !logs.contains("did not finish"),
        "SIGTERM waited for idle connections: {logs}"
    );
    for secret in [PASSWORD, WRONG] {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("prometheus:{secret}"));
        assert!(!logs.contains(secret), "{secret} in the logs: {logs}");
        assert!(
            !logs.contains(&encoded),
            "{secret} (base64) in the logs: {logs}"
        );
    }
    drop(idle);
}

#[test]
fn config_check_validates_the_web_config_too() {
    let pki = pki();
    let path = pki.web_config(
        "tls_server_config:\n  cert_file: tls/server.crt\n  key_file: tls/missing.key\n",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_routeros-exporter"))
        .args(["--demo", "--config.check", "--web.config.file"])
        .arg(&path)
        .env_remove("RUST_LOG")
        .output()
        .expect("run --config.check");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("web.yml: tls_server_config.cert_file: "),
        "{stderr}"
    );
    assert!(stderr.contains("missing.key"), "{stderr}");
    let good = pki.web_config(TLS);
    let output = Command::new(env!("CARGO_BIN_EXE_routeros-exporter"))
        .args(["--demo", "--config.check", "--web.config.file"])
        .arg(&good)
        .env_remove("RUST_LOG")
        .output()
        .expect("run --config.check");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("web configuration OK: TLS on, basic auth off"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_rotated_certificate_is_served_without_a_restart() {
    let pki = pki();
    let path = pki.web_config(TLS);
    let (_app, addr) = serve(&path, false).await;
    let old = connector(&pki.ca, None, ALL);
    assert_eq!(
        tls_get(addr, &old, "/-/healthy", None)
            .await
            .map(|a| a.status),
        Ok(200)
    );
    // A broken key first: the old pair stays in service.
    let tls_dir = pki.dir.path().join("tls");
    std::fs::write(tls_dir.join("server.key"), "not a key").expect("write");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(
        tls_get(addr, &old, "/-/healthy", None)
            .await
            .map(|a| a.status),
        Ok(200)
    );
    // Then a new certificate from a new CA, as cert-manager would rotate it.
    let authority = ca("rotated CA");
    let (cert, key) = leaf(
        &["localhost"],
        ExtendedKeyUsagePurpose::ServerAuth,
        &authority,
    );
    std::fs::write(tls_dir.join("server.key"), key).expect("write key");
    std::fs::write(tls_dir.join("server.crt"), cert).expect("write cert");
    let new = connector(&authority.0.pem(), None, ALL);
    let mut served = false;
    for _ in 0..300 {
        if tls_get(addr, &new, "/-/healthy", None).await.is_ok() {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "the new certificate was never served");
    // A new client (no session to resume) that trusts only the old CA.
    let fresh = connector(&pki.ca, None, ALL);
    assert!(tls_get(addr, &fresh, "/-/healthy", None).await.is_err());
}
