//! `connectivity`: do the router's ports answer?
//!
//! Plain ports (each extra port in the target's `connectivity` list: winbox,
//! ssh, …) are TCP connects, like `nc -z host port` (after
//! connection-status-exporter). The target's API port (`api`, or `api-ssl` for
//! a TLS target) must do more than accept TCP: a RouterOS service restricted
//! with `/ip service set api address=…` accepts the connection from anyone and
//! closes it at once. There "up" means the API answered:
//!
//! * in a collection that logs in (`full`), the pooled session itself tells:
//!   up when the router sent any reply on it (the login, or any command of this
//!   probe) within the port's timeout, or when the login was refused by the
//!   router (it answered); no connection is opened for the check, so the router
//!   sees one connection per target for as long as the session lives;
//! * otherwise one bare `/login` (no name, no password: [`routeros::login::knock`])
//!   on a new connection, after the TLS handshake for `api-ssl`: up when a
//!   `!done` (6.x: the login challenge), `!trap` or `!fatal` comes back.
//!
//! A close, silence until the port's timeout, or anything that is not a reply
//! sentence is down. Checks run at once, each with its own timeout, and end a
//! little before the probe deadline so a port that does not answer is a `0`
//! sample, never a timed-out group.

use super::family::{Family, MetricDesc, Value, metric, samples_of};
use super::{Context, Group, GroupError, GroupFuture};
use crate::config::Target;
use routeros::connection::TlsConnect;
use routeros::{Error, Session};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The `connectivity` group.
pub struct Connectivity;

metric!(
    pub UP,
    "mikrotik_connection_status_up",
    Gauge,
    "1 when the port answered (a TCP connect; on the API port a RouterOS API reply), else 0.",
    ["name", "port", "protocol"]
);
metric!(
    DURATION,
    "mikrotik_connection_status_duration_seconds",
    Gauge,
    "Time until the port answered (the TCP connect; on the API port the API's reply), in seconds.",
    ["name", "port", "protocol"]
);

static METRICS: &[&MetricDesc] = &[&UP, &DURATION];

/// Timeout of the API port check (the default of extra ports).
const API_TIMEOUT: Duration = Duration::from_secs(2);

/// Checks stop this long before the probe deadline (at most a quarter of
/// what is left), so their `0` samples are reported, not cut with the group.
const REPORT_MARGIN: Duration = Duration::from_millis(100);

/// The `protocol` label value: every check runs over TCP.
const PROTOCOL: &str = "tcp";

/// The `name` of the check of the target's own API port, without and with TLS.
const API_CHECK: &str = "api";
const API_SSL_CHECK: &str = "api-ssl";

/// What a collection that logs in tells the `connectivity` group about the
/// API port, once its session is acquired (or not).
#[derive(Debug, Clone)]
pub enum ApiEvidence {
    /// The probe's logged-in session: the API is up once the router answers
    /// on it.
    Session(Session),
    /// Acquiring the session failed with this error.
    LoginFailed(Error),
    /// No login was tried (the target has no usable auth): check the port.
    NotTried,
}

/// Whether the target's API port answered, from a collection's families:
/// what tells a module that does not log in whether the router is reachable.
pub fn api_port_answered(families: &[Family]) -> bool {
    samples_of(families, &UP).any(|s| {
        let name = s.labels.first().map(smol_str::SmolStr::as_str);
        matches!(name, Some(API_CHECK | API_SSL_CHECK)) && s.value.as_f64() >= 1.0
    })
}

impl Group for Connectivity {
    fn name(&self) -> &'static str {
        "connectivity"
    }

    fn needs_session(&self) -> bool {
        false
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let target = &ctx.target;
            let Some((host, api_port)) = split_address(&target.address) else {
                return Err(GroupError::Failed(Error::Connect {
                    address: target.address.clone(),
                    source: Arc::new(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "address is not host:port",
                    )),
                }));
            };
            let checks = plan(
                api_port,
                target.tls.is_some(),
                target
                    .connectivity
                    .iter()
                    .map(|e| (e.name.as_str(), e.port, e.timeout)),
            );
            let mut tasks = tokio::task::JoinSet::new();
            for (index, check) in checks.iter().enumerate() {
                let until = check_until(check.timeout, ctx.deadline);
                // The first check is the API port's.
                let api = (index == 0).then(|| (target.clone(), ctx.api_evidence.clone()));
                let address = format!("{host}:{}", check.port);
                tasks.spawn(async move {
                    let outcome = match api {
                        Some((target, evidence)) => check_api(&target, evidence, until).await,
                        None => connect(&address, until).await,
                    };
                    (index, outcome)
                });
            }
            let mut results: Vec<Option<Outcome>> = vec![None; checks.len()];
            while let Some(joined) = tasks.join_next().await {
                if let Ok((index, outcome)) = joined
                    && let Some(slot) = results.get_mut(index)
                {
                    *slot = Some(outcome);
                }
            }
            for (check, outcome) in checks.iter().zip(&results) {
                ctx.trace.note(|| {
                    let outcome = outcome
                        .as_ref()
                        .map_or_else(|| "not run".to_string(), Outcome::to_string);
                    format!(
                        "connectivity {} {host}:{} -> {outcome}",
                        check.name, check.port
                    )
                });
            }
            Ok(build(&checks, &results))
        })
    }
}

/// When a check that starts now must end: after its timeout, and early
/// enough before the probe deadline to be reported.
fn check_until(timeout: Duration, deadline: Instant) -> Instant {
    let now = Instant::now();
    let margin = REPORT_MARGIN.min(deadline.saturating_duration_since(now) / 4);
    // A port's configured timeout is not bounded by `max_timeout`: a huge
    // one must end at the deadline, not overflow.
    now.checked_add(timeout)
        .unwrap_or(deadline)
        .min(deadline - margin)
}

/// `host:port` or `[v6]:port` split into the host (brackets kept, ready to be
/// joined with another port) and the port.
fn split_address(address: &str) -> Option<(&str, u16)> {
    let (host, port) = address.rsplit_once(':')?;
    let bracketed = host.starts_with('[') && host.ends_with(']');
    if host.is_empty() || (host.contains(':') && !bracketed) {
        return None;
    }
    Some((host, port.parse().ok()?))
}

/// One port to check.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Check {
    name: String,
    port: u16,
    timeout: Duration,
}

/// The API port check followed by the extra ports (an extra port repeating the
/// API check's name and port is left out: it would duplicate its series).
fn plan<'a>(
    api_port: u16,
    tls: bool,
    extra: impl IntoIterator<Item = (&'a str, u16, Duration)>,
) -> Vec<Check> {
    let api = Check {
        name: if tls { API_SSL_CHECK } else { API_CHECK }.to_string(),
        port: api_port,
        timeout: API_TIMEOUT,
    };
    let mut checks = vec![api];
    for (name, port, timeout) in extra {
        if checks.iter().any(|c| c.name == name && c.port == port) {
            continue;
        }
        checks.push(Check {
            name: name.to_string(),
            port,
            timeout,
        });
    }
    checks
}

/// How one check ended.
#[derive(Debug, Clone)]
enum Outcome {
    /// Answered after this long (`None`: no time measured in this probe, as
    /// when the session is backing off after the router refused the login).
    Up(Option<Duration>),
    /// Refused, closed, silent or not a RouterOS API.
    Down(String),
}

/// As the `debug=true` trace shows it.
impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Up(Some(took)) => write!(f, "up in {took:?}"),
            Outcome::Up(None) => write!(f, "up (no time measured in this probe)"),
            Outcome::Down(why) => write!(f, "down: {why}"),
        }
    }
}

/// Connects to `address` before `until`, then closes again.
async fn connect(address: &str, until: Instant) -> Outcome {
    let start = Instant::now();
    match tokio::time::timeout_at(until, TcpStream::connect(address)).await {
        Ok(Ok(_stream)) => Outcome::Up(Some(start.elapsed())),
        Ok(Err(e)) => Outcome::Down(e.to_string()),
        Err(_) => Outcome::Down(format!("timed out after {:?}", start.elapsed())),
    }
}

/// The API port's check: the collection's session when it logs in, else a
/// bare `/login` of our own (see the module comment).
async fn check_api(
    target: &Target,
    evidence: Option<tokio::sync::watch::Receiver<Option<ApiEvidence>>>,
    until: Instant,
) -> Outcome {
    let start = Instant::now();
    let Some(mut evidence) = evidence else {
        return knock(target, until).await;
    };
    let evidence = match tokio::time::timeout_at(until, evidence.wait_for(Option::is_some)).await {
        Ok(Ok(evidence)) => evidence.clone(),
        // The collection went away without a word: nothing is known.
        Ok(Err(_)) => None,
        Err(_) => {
            return Outcome::Down(format!(
                "no answer from the API within {:?} (login still in progress)",
                start.elapsed()
            ));
        }
    };
    match evidence {
        Some(ApiEvidence::Session(session)) => {
            if session.answered_since(start, until).await {
                Outcome::Up(Some(start.elapsed()))
            } else {
                match session.failure() {
                    Some(e) => Outcome::Down(format!("session failed: {e}")),
                    None => Outcome::Down(format!(
                        "no answer on the session within {:?}",
                        start.elapsed()
                    )),
                }
            }
        }
        Some(ApiEvidence::LoginFailed(e)) => match router_answered(&e) {
            Some(true) => Outcome::Up(Some(start.elapsed())),
            Some(false) => Outcome::Up(None),
            None => Outcome::Down(e.to_string()),
        },
        Some(ApiEvidence::NotTried) | None => knock(target, until).await,
    }
}

/// Whether a failed login still shows the API answering: the router refused
/// the credentials, trapped or sent `!fatal` (`Some(true)`), or did so on the
/// attempt a backoff is waiting out (`Some(false)`: answered, but not in
/// this probe). `None` when it never answered (closed, silent, not a
/// RouterOS API).
fn router_answered(error: &Error) -> Option<bool> {
    match error {
        Error::Auth { .. } | Error::Trap { .. } | Error::Fatal(_) => Some(true),
        Error::SessionFailed(inner) => router_answered(inner),
        Error::Backoff { last, .. } => router_answered(last).map(|_| false),
        _ => None,
    }
}

/// One bare `/login` to the target's API port, through TLS with the target's
/// certificate settings when it has them.
async fn knock(target: &Target, until: Instant) -> Outcome {
    let start = Instant::now();
    let tls = match &target.tls {
        None => None,
        Some(settings) => match settings.client_config() {
            Ok(config) => Some(TlsConnect {
                settings: settings.clone(),
                config,
            }),
            Err(e) => return Outcome::Down(e.to_string()),
        },
    };
    match routeros::login::knock(&target.address, tls.as_ref(), until).await {
        Ok(_reply) => Outcome::Up(Some(start.elapsed())),
        Err(Error::Eof) => Outcome::Down("connection closed without an API reply".into()),
        Err(e) => Outcome::Down(e.to_string()),
    }
}

/// Converts the outcomes into families; a check without an outcome (its task
/// failed) counts as down.
fn build(checks: &[Check], results: &[Option<Outcome>]) -> Vec<Family> {
    let mut up = Family::new(&UP);
    let mut duration = Family::new(&DURATION);
    for (check, outcome) in checks.iter().zip(results) {
        let labels = vec![
            check.name.clone(),
            check.port.to_string(),
            PROTOCOL.to_string(),
        ];
        match outcome {
            Some(Outcome::Up(took)) => {
                up.push(labels.clone(), Value::Int(1));
                if let Some(took) = took {
                    duration.push(labels, Value::Float(took.as_secs_f64()));
                }
            }
            Some(Outcome::Down(why)) => {
                tracing::debug!(name = check.name, port = check.port, why, "port down");
                up.push(labels, Value::Int(0));
            }
            None => up.push(labels, Value::Int(0)),
        }
    }
    vec![up, duration]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_host_and_port() {
        assert_eq!(
            split_address("192.168.88.1:8728"),
            Some(("192.168.88.1", 8728))
        );
        assert_eq!(
            split_address("[2001:db8::1]:8729"),
            Some(("[2001:db8::1]", 8729))
        );
        assert_eq!(
            split_address("router.example.net:8728"),
            Some(("router.example.net", 8728))
        );
        for bad in ["router", ":8728", "2001:db8::1:8728", "r:port", "r:70000"] {
            assert_eq!(split_address(bad), None, "{bad}");
        }
    }

    #[test]
    fn plan_names_the_api_port_and_skips_repeats() {
        let s = Duration::from_secs;
        let checks = plan(
            8728,
            false,
            [
                ("winbox", 8291, s(1)),
                ("api", 8728, s(5)),
                ("ssh", 22, s(3)),
            ],
        );
        let names: Vec<(&str, u16)> = checks.iter().map(|c| (c.name.as_str(), c.port)).collect();
        assert_eq!(names, [("api", 8728), ("winbox", 8291), ("ssh", 22)]);
        assert_eq!(checks[0].timeout, API_TIMEOUT);
        assert_eq!(checks[2].timeout, s(3));
        assert_eq!(plan(8729, true, [])[0].name, "api-ssl");
    }

    #[test]
    fn a_refused_login_is_an_answer_and_a_close_is_not() {
        let auth = Error::Auth {
            message: "invalid user name or password (6)".into(),
        };
        assert_eq!(router_answered(&auth), Some(true));
        assert_eq!(
            router_answered(&Error::Fatal("too many sessions".into())),
            Some(true)
        );
        let backoff = |last: Error| Error::Backoff {
            retry_in: Duration::from_secs(1),
            last: Arc::new(last),
        };
        assert_eq!(router_answered(&backoff(auth.clone())), Some(false));
        assert_eq!(router_answered(&backoff(Error::Eof)), None);
        assert_eq!(
            router_answered(&Error::SessionFailed(Arc::new(auth))),
            Some(true)
        );
        for silent in [
            Error::Eof,
            Error::Timeout(Duration::from_secs(2), "login"),
            Error::Tls("handshake".into()),
        ] {
            assert_eq!(router_answered(&silent), None, "{silent:?}");
        }
    }

    #[test]
    fn a_huge_port_timeout_ends_at_the_deadline() {
        let deadline = Instant::now() + Duration::from_secs(10);
        assert!(check_until(Duration::MAX, deadline) <= deadline);
    }

    #[test]
    fn checks_end_by_their_timeout_and_before_the_deadline() {
        let now = Instant::now();
        let far = now + Duration::from_secs(60);
        let until = check_until(Duration::from_secs(2), far);
        assert!(until >= now + Duration::from_secs(2) && until < far);
        let near = now + Duration::from_millis(400);
        let until = check_until(Duration::from_secs(2), near);
        assert!(until < near, "a margin before the deadline");
        assert!(until >= near - Duration::from_millis(100));
    }

    #[test]
    fn down_ports_are_zero_without_duration() {
        let checks = plan(8728, false, [("ssh", 22, Duration::from_secs(1))]);
        let results = [
            Some(Outcome::Up(Some(Duration::from_millis(1_500)))),
            Some(Outcome::Down("refused".into())),
        ];
        let f = build(&checks, &results);
        let up: Vec<(Vec<String>, Value)> = f[0]
            .samples
            .iter()
            .map(|s| (s.label_strings(), s.value))
            .collect();
        assert_eq!(
            up,
            [
                (
                    vec!["api".into(), "8728".into(), "tcp".into()],
                    Value::Int(1)
                ),
                (vec!["ssh".into(), "22".into(), "tcp".into()], Value::Int(0)),
            ]
        );
        assert_eq!(f[1].samples.len(), 1);
        assert_eq!(f[1].samples[0].value, Value::Float(1.5));
        let f = build(&checks, &[None, None]);
        assert!(f[0].samples.iter().all(|s| s.value == Value::Int(0)));
        assert!(f[1].samples.is_empty());
    }
}
