//! Metric groups: one file per group, each with its API commands (always with
//! `.proplist`), its value parsing and its metric families.
//!
//! A group is one file implementing [`Group`] plus its line in [`REGISTRY`];
//! the whole recipe (simulator menu, fixtures, tests, documentation) is in
//! CONTRIBUTING.md and checked by `tests/group_recipe.rs`. A group reads through
//! its [`Context`], which runs commands on the probe's pooled session under the
//! probe deadline and records a trace for `debug=true`. A group whose menu the
//! router lacks returns [`GroupError::Unsupported`]; one odd field costs one
//! sample, never the group.

pub mod facts;
pub mod family;
pub mod parse;

mod bfd;
mod bgp;
mod certificate;
mod connectivity;
mod conntrack;
mod container;
mod dhcp;
mod dns;
mod ethernet;
mod firewall;
mod health;
mod hotspot;
mod interface;
mod ipsec;
mod lte;
mod netwatch;
mod ntp;
mod ospf;
mod poe;
mod pool;
mod ppp;
mod queue;
mod route;
mod system;
mod users;
mod vrrp;
mod wireguard;
mod wireless;

use crate::config::{Module, Target};
use facts::{Fact, RosVersion, TargetFacts};
use family::{Family, MetricDesc};
use routeros::{Command, Error, Row, Session};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Families the probe reads back from a collection (reboot and counter-reset
/// detection, reachability of modules that do not log in): referenced as
/// descriptors, so renaming a metric cannot silently break what reads it.
pub use connectivity::{ApiEvidence, api_port_answered};
pub use interface::{INFO as INTERFACE_INFO, RX_BYTES as INTERFACE_RX_BYTES, dynamic_interfaces};
pub use system::UPTIME as SYSTEM_UPTIME;

/// Every group, in the order `full` runs them. One line per group.
pub static REGISTRY: &[&dyn Group] = &[
    &system::System,
    &health::Sensors,
    &interface::Interface,
    &ethernet::Ethernet,
    &poe::Poe,
    &wireless::Wireless,
    &lte::Lte,
    &firewall::Firewall,
    &conntrack::Conntrack,
    &wireguard::Wireguard,
    &dhcp::Dhcp,
    &pool::Pool,
    &ppp::Ppp,
    &hotspot::Hotspot,
    &users::Users,
    &bgp::Bgp,
    &ospf::Ospf,
    &route::Route,
    &bfd::Bfd,
    &vrrp::Vrrp,
    &netwatch::Netwatch,
    &queue::Queue,
    &ipsec::Ipsec,
    &container::Container,
    &ntp::Ntp,
    &dns::Dns,
    &certificate::Certificate,
    &connectivity::Connectivity,
];

/// Names of every group (for config validation).
pub fn group_names() -> Vec<&'static str> {
    REGISTRY.iter().map(|g| g.name()).collect()
}

/// The group named `name`.
pub fn group(name: &str) -> Option<&'static dyn Group> {
    REGISTRY.iter().copied().find(|g| g.name() == name)
}

/// The future a group's collection returns.
pub type GroupFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Family>, GroupError>> + Send + 'a>>;

/// A metric group.
pub trait Group: Send + Sync {
    /// The group's name in module configs and the `collector` label.
    fn name(&self) -> &'static str;

    /// False for groups that need no RouterOS login (connectivity).
    fn needs_session(&self) -> bool {
        true
    }

    /// Every family the group can emit (checked against the README reference).
    fn metrics(&self) -> &'static [&'static MetricDesc];

    /// Fetches and converts the group's data.
    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a>;
}

/// Why a group produced no metrics.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GroupError {
    /// The router lacks the menu (older/newer RouterOS, missing package, policy).
    #[error("unsupported on this router: {0}")]
    Unsupported(String),
    /// Talking to the router failed.
    #[error("{0}")]
    Failed(Error),
}

impl From<Error> for GroupError {
    fn from(error: Error) -> Self {
        if error.is_missing_menu() {
            GroupError::Unsupported(error.to_string())
        } else {
            GroupError::Failed(error)
        }
    }
}

/// What a group sees of the probe.
pub struct Context {
    /// The pooled, logged-in session: absent for groups that need none
    /// ([`Context::session`] says why when a group asks anyway).
    session: Option<Session>,
    /// When the probe must be done; every command runs against it.
    pub deadline: Instant,
    /// The module the group runs for: its options.
    pub module: Arc<Module>,
    /// The target: its address, TLS settings and extra ports.
    pub target: Arc<Target>,
    /// Records commands and outcomes for `debug=true`.
    pub trace: Arc<Trace>,
    /// Wall-clock time of the probe, seconds since the Unix epoch (for ages
    /// and expiries the router reports as dates).
    pub now_unix: i64,
    /// What earlier probes learnt about this router (version, menu variants).
    facts: Arc<TargetFacts>,
    /// In a collection that logs in: where `connectivity` learns whether the
    /// API answered, from the pooled session instead of a connection of its
    /// own (see [`ApiEvidence`]).
    api_evidence: Option<tokio::sync::watch::Receiver<Option<ApiEvidence>>>,
}

impl Context {
    /// The context of one group in one probe.
    pub fn new(
        session: Option<Session>,
        deadline: Instant,
        module: Arc<Module>,
        target: Arc<Target>,
        trace: Arc<Trace>,
        now_unix: i64,
    ) -> Self {
        Self {
            session,
            deadline,
            module,
            target,
            trace,
            now_unix,
            facts: Arc::default(),
            api_evidence: None,
        }
    }

    /// The same context with the login's outcome to come (see
    /// [`ApiEvidence`]); the collection sends it once the session is there.
    pub fn with_api_evidence(
        mut self,
        evidence: tokio::sync::watch::Receiver<Option<ApiEvidence>>,
    ) -> Self {
        self.api_evidence = Some(evidence);
        self
    }

    /// The same context sharing the target's remembered facts (the probe
    /// passes them; a context without them detects afresh).
    pub fn with_facts(mut self, facts: Arc<TargetFacts>) -> Self {
        self.facts = facts;
        self
    }

    /// The session, or the reason there is none.
    pub fn session(&self) -> Result<&Session, GroupError> {
        self.session
            .as_ref()
            .ok_or(GroupError::Failed(Error::NoSession))
    }

    /// Runs `command` and returns its rows.
    pub async fn rows(&self, command: Command) -> Result<Vec<Row>, GroupError> {
        let start = Instant::now();
        let result = self.session()?.rows(&command, self.deadline).await;
        self.trace
            .command(&command, start.elapsed(), &result.as_ref().map(Vec::len));
        Ok(result?)
    }

    /// Runs `command` and feeds each row to `each` as it arrives, without
    /// buffering the reply (large tables). Returns the number of rows.
    pub async fn for_each_row(
        &self,
        command: Command,
        mut each: impl FnMut(&Row),
    ) -> Result<usize, GroupError> {
        let start = Instant::now();
        let session = self.session()?;
        let allowed = self.deadline.saturating_duration_since(start);
        let result = tokio::time::timeout_at(self.deadline, async {
            let mut stream = session.command(&command)?;
            let mut n = 0;
            while let Some(row) = stream.next().await? {
                each(&row);
                n += 1;
            }
            Ok::<usize, Error>(n)
        })
        .await
        .unwrap_or(Err(Error::Timeout(allowed, "command")));
        self.trace
            .command(&command, start.elapsed(), &result.as_ref().map(|n| *n));
        Ok(result?)
    }

    /// Runs `command` with `=count-only=` and returns the router's count
    /// ([`Session::count`]: `=ret=`, or 0 for `!empty` without `=ret=` as
    /// RouterOS 7.18+ may answer on an empty table). Every `=count-only=` of
    /// the groups goes through here.
    pub async fn count(&self, command: Command) -> Result<u64, GroupError> {
        let start = Instant::now();
        let count = self.session()?.count(&command, self.deadline).await;
        let took = start.elapsed();
        self.trace.note(|| match &count {
            Ok(n) => format!(
                "command {} =count-only= -> {n} in {took:?}",
                command.display()
            ),
            Err(e) => format!(
                "command {} =count-only= -> error after {took:?}: {e}",
                command.display()
            ),
        });
        Ok(count?)
    }

    /// Runs [`Context::count`] for every command, [`COUNTS_IN_FLIGHT`] at a
    /// time on the session (tagged, so the router answers them concurrently),
    /// and returns the counts in the order of `commands`. The first failure
    /// fails the whole batch.
    pub async fn counts(&self, commands: Vec<Command>) -> Result<Vec<u64>, GroupError> {
        let mut counts = Vec::with_capacity(commands.len());
        let mut commands = commands.into_iter().peekable();
        while commands.peek().is_some() {
            let batch = commands
                .by_ref()
                .take(COUNTS_IN_FLIGHT)
                .map(|c| self.count(c));
            for count in futures_util::future::join_all(batch).await {
                counts.push(count?);
            }
        }
        Ok(counts)
    }
}

/// How many `=count-only=` commands [`Context::counts`] keeps in flight at once:
/// enough to hide the round trips of a router with a few dozen DHCP servers or
/// pools, few enough not to queue a burst of commands on a small router's CPU.
pub const COUNTS_IN_FLIGHT: usize = 16;

/// Per-target detection (see [`facts`]) and the batched `monitor`.
impl Context {
    /// The router's RouterOS version, read once per target
    /// (`/system/resource/print =.proplist=version`) and remembered until it
    /// reboots.
    pub async fn ros_version(&self) -> Result<RosVersion, GroupError> {
        const KEY: &str = "version";
        if let Some(Fact::Version(version)) = self.facts.get(KEY) {
            return Ok(version);
        }
        let command = Command::new("/system/resource/print").proplist(&["version"]);
        let rows = self.rows(command).await?;
        let raw = rows.first().and_then(|r| r.str("version")).unwrap_or("");
        let version = RosVersion::parse(raw).ok_or_else(|| {
            GroupError::Failed(Error::UnknownReply(format!(
                "unreadable RouterOS version {raw:?}"
            )))
        })?;
        self.facts.remember(KEY.into(), Fact::Version(version));
        Ok(version)
    }

    /// Which of `candidates` (menu paths, most preferred first) this router
    /// has: the first that holds items, else the first that exists at all,
    /// else `None`. Found with one `<menu>/print =count-only=` per candidate
    /// the first time, then remembered per target until the router reboots.
    /// A candidate the user may not read (`not enough permissions`) is an
    /// error, not an absent menu.
    pub async fn present_menu(
        &self,
        candidates: &[&'static str],
    ) -> Result<Option<&'static str>, GroupError> {
        let key = format!("menu:{}", candidates.join(","));
        if let Some(Fact::Menu(menu)) = self.facts.get(&key) {
            return Ok(menu);
        }
        let mut existing = None;
        for &menu in candidates {
            match self.count(Command::new(&format!("{menu}/print"))).await {
                Ok(0) => existing = existing.or(Some(menu)),
                Ok(_) => {
                    existing = Some(menu);
                    break;
                }
                Err(GroupError::Unsupported(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.facts.remember(key, Fact::Menu(existing));
        Ok(existing)
    }

    /// One `<menu>/monitor =numbers=<ids> =once=` for every item in `ids`
    /// (their `.id`s, which never contain the commas or spaces a name may),
    /// with `.proplist`; include `name` to tell the rows apart. Sends nothing
    /// when `ids` is empty: a router with no such ports costs no command.
    pub async fn monitor(
        &self,
        menu: &str,
        ids: &[String],
        proplist: &[&str],
    ) -> Result<Vec<Row>, GroupError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let command = Command::new(&format!("{menu}/monitor"))
            .attr("numbers", ids.join(","))
            .flag("once")
            .proplist(proplist);
        self.rows(command).await
    }
}

/// The probe's debug trace: commands sent, how long they took, what came back.
#[derive(Debug, Default)]
pub struct Trace {
    enabled: bool,
    lines: Mutex<Vec<String>>,
}

impl Trace {
    /// A trace that records (`true`) or ignores everything.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            lines: Mutex::new(Vec::new()),
        }
    }

    /// Adds a free-form line.
    pub fn note(&self, line: impl FnOnce() -> String) {
        if self.enabled
            && let Ok(mut lines) = self.lines.lock()
        {
            lines.push(line());
        }
    }

    fn command<E: std::fmt::Display>(
        &self,
        command: &Command,
        took: Duration,
        result: &Result<usize, E>,
    ) {
        self.note(|| match result {
            Ok(n) => format!("command {} -> {n} rows in {took:?}", command.display()),
            Err(e) => format!("command {} -> error after {took:?}: {e}", command.display()),
        });
    }

    /// The recorded lines.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// Helpers shared by the groups' unit tests: recorded reply fixtures as rows,
/// and the check that no two samples are the same series.
#[cfg(test)]
pub(crate) mod fixture {
    use super::family::{Family, Value};
    use routeros::Row;
    use std::collections::HashSet;

    /// Every sample of `name` as `(labels, value)`, in emission order.
    pub fn samples(families: &[Family], name: &str) -> Vec<(Vec<String>, Value)> {
        super::family::samples_named(families, name)
            .map(|s| (s.label_strings(), s.value))
            .collect()
    }

    /// Every series as `(metric, labels)`, sorted: what a change of the
    /// router's data may or may not add.
    pub fn series(families: &[Family]) -> Vec<(&'static str, Vec<String>)> {
        let mut out: Vec<_> = families
            .iter()
            .flat_map(|f| f.samples.iter().map(|s| (f.desc.name, s.label_strings())))
            .collect();
        out.sort();
        out
    }

    /// Panics naming the first metric and label set that appears twice.
    pub fn assert_no_duplicate_series(families: &[Family]) {
        let mut seen = HashSet::new();
        for family in families {
            for s in &family.samples {
                assert!(
                    seen.insert((family.desc.name, s.label_strings())),
                    "duplicate {} {:?}",
                    family.desc.name,
                    s.labels
                );
            }
        }
    }

    /// Parses a compact fixture: one row per line, `key=value` words separated by
    /// two spaces (so values may contain single spaces).
    pub fn rows(text: &str) -> Vec<Row> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|line| {
                Row::from_pairs(line.split("  ").filter(|w| !w.is_empty()).map(|w| {
                    let (k, v) = w.split_once('=').unwrap_or((w, ""));
                    (k.trim().to_string(), v.to_string())
                }))
            })
            .collect()
    }
}
