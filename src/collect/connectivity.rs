//! `connectivity`: can the exporter open TCP connections to the router?
//!
//! No RouterOS session: a plain TCP connect (like `nc -z host port`, after
//! connection-status-exporter) to the target's API port (`api`, or `api-ssl` for a
//! TLS target; no TLS handshake) and to each extra port in the target's
//! `connectivity` list, all at once. Each check has its own timeout and is also
//! bounded by the probe deadline. A port that does not answer is a `0` sample, not
//! a group failure.

use super::family::{Family, MetricDesc, Value, metric, samples_of};
use super::{Context, Group, GroupError, GroupFuture};
use routeros::Error;
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
    "1 when a TCP connection to the port succeeded, else 0.",
    ["name", "port", "protocol"]
);
metric!(
    DURATION,
    "mikrotik_connection_status_duration_seconds",
    Gauge,
    "Time the successful TCP connect took, in seconds.",
    ["name", "port", "protocol"]
);

static METRICS: &[&MetricDesc] = &[&UP, &DURATION];

/// Connect timeout of the API port check (the default of extra ports).
const API_TIMEOUT: Duration = Duration::from_secs(2);

/// The `protocol` label value: every check is a TCP connect.
const PROTOCOL: &str = "tcp";

/// The `name` of the check of the target's own API port, without and with TLS.
const API_CHECK: &str = "api";
const API_SSL_CHECK: &str = "api-ssl";

/// Whether the target's API port answered, from a collection's families:
/// what tells a module that does not log in whether the router is reachable.
pub fn api_port_answered(families: &[Family]) -> bool {
    samples_of(families, &UP).any(|s| {
        let name = s.labels.first().map(String::as_str);
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
                let address = format!("{host}:{}", check.port);
                let (timeout, deadline) = (check.timeout, ctx.deadline);
                tasks.spawn(async move { (index, connect(&address, timeout, deadline).await) });
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
                    format!(
                        "connectivity {} {host}:{} -> {outcome:?}",
                        check.name, check.port
                    )
                });
            }
            Ok(build(&checks, &results))
        })
    }
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

/// How one connect attempt ended.
#[derive(Debug, Clone)]
enum Outcome {
    /// Connected after this long.
    Up(Duration),
    /// Refused, unreachable or timed out.
    Down(String),
}

/// Connects to `address` within `timeout` and `deadline`, then closes again.
async fn connect(address: &str, timeout: Duration, deadline: Instant) -> Outcome {
    let start = Instant::now();
    let until = (start + timeout).min(deadline);
    match tokio::time::timeout_at(until, TcpStream::connect(address)).await {
        Ok(Ok(_stream)) => Outcome::Up(start.elapsed()),
        Ok(Err(e)) => Outcome::Down(e.to_string()),
        Err(_) => Outcome::Down(format!("timed out after {:?}", start.elapsed())),
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
                duration.push(labels, Value::Float(took.as_secs_f64()));
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
    fn down_ports_are_zero_without_duration() {
        let checks = plan(8728, false, [("ssh", 22, Duration::from_secs(1))]);
        let results = [
            Some(Outcome::Up(Duration::from_millis(1_500))),
            Some(Outcome::Down("refused".into())),
        ];
        let f = build(&checks, &results);
        let up: Vec<(Vec<String>, Value)> = f[0]
            .samples
            .iter()
            .map(|s| (s.labels.clone(), s.value))
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
