//! The loaded, validated configuration: what the rest of the exporter uses.

use crate::config::address_targets::AddressTargets;
use crate::config::glob::{Glob, any_matches};
use routeros::pool::Endpoint;
use routeros::tls::TlsSettings;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Name of the built-in module that runs every known group.
pub const MODULE_FULL: &str = "full";
/// Name of the built-in module that runs only the `connectivity` group.
pub const MODULE_CONNECTIVITY: &str = "connectivity";
/// The group the built-in `connectivity` module runs.
pub const GROUP_CONNECTIVITY: &str = "connectivity";
/// API port of a router without TLS.
pub const DEFAULT_API_PORT: u16 = 8728;
/// API-SSL port of a router with TLS.
pub const DEFAULT_API_SSL_PORT: u16 = 8729;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// Exporter-wide settings.
    pub global: Global,
    /// Credentials by name, referenced by `targets.NAME.auth`.
    pub auths: BTreeMap<String, Auth>,
    /// Routers by name (the `target` query parameter).
    pub targets: BTreeMap<String, Target>,
    /// Modules by name (the `module` query parameter), built-ins included.
    pub modules: BTreeMap<String, Module>,
    /// Probing by address (`/probe?target=10.1.2.3&auth=NAME`); `None`, the
    /// default, refuses every target that is not a name under `targets`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_targets: Option<AddressTargets>,
    /// Where this configuration came from.
    pub source: ConfigSource,
}

/// Where a configuration came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigSource {
    /// A YAML file (or text loaded under that name).
    File(PathBuf),
    /// `ROUTERS_CONFIG` or the legacy `ROUTEROS_*` environment variables.
    Env,
    /// Demo mode against built-in simulated routers.
    Demo,
}

/// Exporter-wide settings (`global:`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Global {
    /// A gap between the starts of two successful probes of a module set
    /// longer than this is recorded as a counter baseline reset (env
    /// `GAP_RESET_THRESHOLD_SECONDS` overrides). Unset (the default): judged
    /// against the module set's observed cadence (`probe::state::GapThreshold`).
    #[serde(
        with = "humantime_serde",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub gap_reset_threshold: Option<Duration>,
    /// Probe deadline when Prometheus sends no
    /// `X-Prometheus-Scrape-Timeout-Seconds`. Default 10s.
    #[serde(with = "humantime_serde")]
    pub default_timeout: Duration,
    /// No probe deadline is longer, whatever the scrape timeout header asks
    /// for. Default 2m.
    #[serde(with = "humantime_serde")]
    pub max_timeout: Duration,
    /// When a target counts as degraded.
    pub health: HealthPolicy,
    /// How many probes and collections may run at once.
    pub limits: ConcurrencyLimits,
}

impl Default for Global {
    fn default() -> Self {
        Global {
            gap_reset_threshold: None,
            default_timeout: Duration::from_secs(10),
            max_timeout: Duration::from_secs(120),
            health: HealthPolicy::default(),
            limits: ConcurrencyLimits::default(),
        }
    }
}

/// Health policy (`global.health`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthPolicy {
    /// A target whose last success is older than this is degraded. Default 5m.
    #[serde(with = "humantime_serde")]
    pub stale_after: Duration,
    /// At or above this many consecutive errors a target is degraded. Default 3.
    pub max_consecutive_errors: u32,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            stale_after: Duration::from_secs(300),
            max_consecutive_errors: 3,
        }
    }
}

/// Concurrency limits (`global.limits`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConcurrencyLimits {
    /// Probes running at once over all targets; beyond it `/probe` answers 503.
    /// Default 64.
    pub max_concurrent_probes: usize,
    /// Collections running at once per target. Default 2.
    pub max_concurrent_per_target: usize,
}

impl Default for ConcurrencyLimits {
    fn default() -> Self {
        ConcurrencyLimits {
            max_concurrent_probes: 64,
            max_concurrent_per_target: 2,
        }
    }
}

/// A secret string: `Debug` and `Serialize` show `<secret>`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("<secret>")
    }
}

/// Credentials for the RouterOS API (`auths.NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Auth {
    /// RouterOS user (a group with policy `api,read` is enough).
    pub username: String,
    /// API password (from `password`, or read from `password_file` at load).
    pub password: Secret,
    /// The file the password was read from, if any (shown; its content is not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
}

/// One router (`targets.NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// The target's name (its key in `targets`).
    pub name: String,
    /// Normalised `host:port` (`[v6]:port` for IPv6).
    pub address: String,
    /// Name of the entry in `auths` to log in with.
    pub auth: String,
    /// API-SSL settings; `None` for the plain API.
    #[serde(serialize_with = "serialize_tls")]
    pub tls: Option<TlsSettings>,
    /// Extra labels added to this target's metrics (and to its `/sd` entry).
    pub labels: BTreeMap<String, String>,
    /// The module `/probe` runs for this target when the request names none
    /// (`full` when unset); `/sd` hands it to Prometheus as `__param_module`.
    /// Validated at load: a built-in or configured module.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// How many API sessions the pool keeps to this router, and for how long.
    pub sessions: TargetSessions,
    /// Extra TCP ports checked by the connectivity group.
    pub connectivity: Vec<ExtraPort>,
    /// Built by the prober for a `/probe?target=ADDRESS&auth=AUTH` request
    /// from `address_targets` (named `AUTH@ADDRESS`, its `address` the one IP
    /// that passed the allow-list), not configured under `targets`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub address_target: bool,
}

impl Target {
    /// A plain-API target with no extra labels, no default module, default
    /// session limits and no extra ports: what the environment contract and
    /// `--demo` configure, and what the loader fills in from the file.
    pub fn new(
        name: impl Into<String>,
        address: impl Into<String>,
        auth: impl Into<String>,
    ) -> Self {
        Target {
            name: name.into(),
            address: address.into(),
            auth: auth.into(),
            tls: None,
            labels: BTreeMap::new(),
            module: None,
            sessions: TargetSessions::default(),
            connectivity: Vec::new(),
            address_target: false,
        }
    }
}

pub(super) fn serialize_tls<S: Serializer>(
    tls: &Option<TlsSettings>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct View<'a> {
        ca_file: &'a Option<PathBuf>,
        fingerprint_sha256: &'a Option<String>,
        server_name: &'a Option<String>,
        insecure_skip_verify: bool,
    }
    tls.as_ref()
        .map(|t| View {
            ca_file: &t.ca_file,
            fingerprint_sha256: &t.fingerprint_sha256,
            server_name: &t.server_name,
            insecure_skip_verify: t.insecure_skip_verify,
        })
        .serialize(serializer)
}

/// Session pool settings of a target (`targets.NAME.sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TargetSessions {
    /// Sessions kept open to the router. Default 1.
    pub max: usize,
    /// An unused session is closed after this long. Default 5m.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
}

impl Default for TargetSessions {
    fn default() -> Self {
        TargetSessions {
            max: 1,
            idle_timeout: Duration::from_secs(300),
        }
    }
}

/// An extra TCP port checked by the connectivity group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraPort {
    /// TCP port on the target's host.
    pub port: u16,
    /// Name used as a label value (`winbox`, `ssh`).
    pub name: String,
    /// Connect timeout. Default 2s.
    #[serde(with = "humantime_serde", default = "default_port_timeout")]
    pub timeout: Duration,
}

fn default_port_timeout() -> Duration {
    Duration::from_secs(2)
}

/// What a probe collects (`modules.NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Module {
    /// The module's name (its key in `modules`).
    #[serde(skip_deserializing)]
    pub name: String,
    /// Collector groups to run, in order.
    pub groups: Vec<String>,
    /// Probe deadline for this module, capped by Prometheus' scrape timeout.
    #[serde(with = "humantime_serde", default)]
    pub timeout: Option<Duration>,
    /// Which interfaces the interface group reports.
    #[serde(default)]
    pub interface: InterfaceOptions,
    /// How the conntrack group aggregates connections.
    #[serde(default)]
    pub conntrack: ConntrackOptions,
    /// Which rules the firewall group reports.
    #[serde(default)]
    pub firewall: FirewallOptions,
    /// Whether the access groups (wireless, dhcp, ppp, hotspot) add one series
    /// per client, lease or user to their aggregates, and whether the interface
    /// group reports dynamic interfaces (see [`Module::skips_dynamic_interfaces`]).
    /// Default `aggregate`.
    #[serde(default)]
    pub clients: ClientSeries,
}

/// Per-client series of the access groups (`modules.NAME.clients`).
///
/// Clients come and go (a PPPoE concentrator has thousands of subscribers, a
/// campus AP hundreds of phones), so per-client series are an opt-in: by
/// default the groups export counts per interface, SSID, server or service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientSeries {
    /// Only aggregates (per interface, SSID, server, service).
    #[default]
    Aggregate,
    /// Aggregates plus one series per client, lease or user.
    PerClient,
}

impl Module {
    /// A module running `groups` with default options.
    pub fn with_groups(name: &str, groups: &[&str]) -> Self {
        Module {
            name: name.to_string(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            timeout: None,
            interface: InterfaceOptions::default(),
            conntrack: ConntrackOptions::default(),
            firewall: FirewallOptions::default(),
            clients: ClientSeries::default(),
        }
    }

    /// Whether the interface group leaves out dynamic interfaces (one per PPP
    /// subscriber on a concentrator): `interface.skip_dynamic` when set, else
    /// unless `clients` is `per_client`, as dynamic queues and policies.
    pub fn skips_dynamic_interfaces(&self) -> bool {
        self.interface
            .skip_dynamic
            .unwrap_or(self.clients != ClientSeries::PerClient)
    }

    /// The built-in modules: `full` (every known group) and `connectivity`.
    pub fn builtins(known_groups: &[&str]) -> BTreeMap<String, Module> {
        let mut modules = BTreeMap::new();
        modules.insert(
            MODULE_FULL.to_string(),
            Module::with_groups(MODULE_FULL, known_groups),
        );
        modules.insert(
            MODULE_CONNECTIVITY.to_string(),
            Module::with_groups(MODULE_CONNECTIVITY, &[GROUP_CONNECTIVITY]),
        );
        modules
    }

    /// Whether this module runs `group`.
    pub fn has_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

/// Interface filter (`modules.NAME.interface`). Empty include lists accept all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InterfaceOptions {
    /// Name globs to report; empty = all.
    pub include: Vec<Glob>,
    /// Name globs never reported.
    pub exclude: Vec<Glob>,
    /// Type globs (`ether`, `vlan`, `wg`) to report; empty = all.
    pub include_types: Vec<Glob>,
    /// Type globs never reported.
    pub exclude_types: Vec<Glob>,
    /// Leave out disabled interfaces. Default false.
    pub skip_disabled: bool,
    /// Leave out dynamic interfaces (`dynamic=true`: PPP, L2TP, SSTP, OVPN and
    /// PPTP server bindings such as `<pppoe-user>`, CAPsMAN interfaces on the
    /// controller). Unset: left out unless the module's `clients` is
    /// `per_client`. Read through [`Module::skips_dynamic_interfaces`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_dynamic: Option<bool>,
}

impl InterfaceOptions {
    /// Whether an interface with this name, type and disabled flag is reported.
    pub fn accepts(&self, name: &str, type_: &str, disabled: bool) -> bool {
        !(self.skip_disabled && disabled)
            && (self.include.is_empty() || any_matches(&self.include, name))
            && !any_matches(&self.exclude, name)
            && (self.include_types.is_empty() || any_matches(&self.include_types, type_))
            && !any_matches(&self.exclude_types, type_)
    }
}

/// Firewall rule selection (`modules.NAME.firewall`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FirewallOptions {
    /// Leave out dynamic rules (`dynamic=true`: UPnP port mappings, hotspot
    /// rules, the fasttrack dummy rule that counts fasttracked traffic).
    /// Default false: the dummy rule's counters are the only count of
    /// fasttracked traffic, and most dynamic rules live as long as the service
    /// that made them.
    pub skip_dynamic: bool,
}

/// Conntrack aggregation (`modules.NAME.conntrack`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConntrackOptions {
    /// Connection fields to count by. Default `[src_address, protocol]`.
    pub group_by: Vec<ConntrackKey>,
    /// Keep only the largest N groups; 0 = unlimited. Default 20.
    pub top_n: usize,
}

impl Default for ConntrackOptions {
    fn default() -> Self {
        ConntrackOptions {
            group_by: vec![ConntrackKey::SrcAddress, ConntrackKey::Protocol],
            top_n: 20,
        }
    }
}

/// A connection-tracking field to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConntrackKey {
    /// Source address (without port).
    SrcAddress,
    /// Destination address (without port).
    DstAddress,
    /// IP protocol (`tcp`, `udp`, …).
    Protocol,
}

impl ConntrackKey {
    /// The name used in the configuration and as a label name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConntrackKey::SrcAddress => "src_address",
            ConntrackKey::DstAddress => "dst_address",
            ConntrackKey::Protocol => "protocol",
        }
    }

    /// The field name in `/ip/firewall/connection` replies.
    pub fn routeros_field(self) -> &'static str {
        match self {
            ConntrackKey::SrcAddress => "src-address",
            ConntrackKey::DstAddress => "dst-address",
            ConntrackKey::Protocol => "protocol",
        }
    }
}

impl Config {
    /// A configuration with no auths or targets and the built-in modules.
    pub fn empty(source: ConfigSource, known_groups: &[&str]) -> Self {
        Config {
            global: Global::default(),
            auths: BTreeMap::new(),
            targets: BTreeMap::new(),
            modules: Module::builtins(known_groups),
            address_targets: None,
            source,
        }
    }

    /// Where and as whom to log in to `target`; `None` for an unknown target.
    pub fn endpoint(&self, target: &str) -> Option<Endpoint> {
        self.endpoint_of(self.targets.get(target)?)
    }

    /// Where and as whom to log in to `target` (configured or an address
    /// target); `None` when its auth is not defined.
    pub fn endpoint_of(&self, target: &Target) -> Option<Endpoint> {
        let auth = self.auths.get(&target.auth)?;
        Some(Endpoint {
            address: target.address.clone(),
            username: auth.username.clone(),
            password: auth.password.expose().to_string(),
            tls: target.tls.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Config {
        let mut config = Config::empty(ConfigSource::Env, &["system", "connectivity"]);
        config.auths.insert(
            "a".into(),
            Auth {
                username: "prometheus".into(),
                password: Secret::new("hunter2-very-secret"),
                password_file: None,
            },
        );
        config.targets.insert(
            "r1".into(),
            Target {
                tls: Some(TlsSettings {
                    server_name: Some("r1.example".into()),
                    ..TlsSettings::default()
                }),
                ..Target::new("r1", "10.0.0.1:8729", "a")
            },
        );
        config
    }

    #[test]
    fn secrets_are_hidden() {
        let config = sample();
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("<secret>"));
        let json = serde_json::to_string(&config).expect("serialize json");
        assert!(!json.contains("hunter2"), "{json}");
        assert!(json.contains("\"password\":\"<secret>\""), "{json}");
        let yaml = serde_yaml::to_string(&config).expect("serialize yaml");
        assert!(!yaml.contains("hunter2"), "{yaml}");
        assert!(json.contains("\"server_name\":\"r1.example\""), "{json}");
        assert!(json.contains("\"source\":\"env\""), "{json}");
    }

    #[test]
    fn endpoint_joins_target_and_auth() {
        let config = sample();
        let e = config.endpoint("r1").expect("endpoint");
        assert_eq!(e.address, "10.0.0.1:8729");
        assert_eq!(e.username, "prometheus");
        assert_eq!(e.password, "hunter2-very-secret");
        assert!(e.tls.is_some());
        assert!(config.endpoint("nope").is_none());
    }

    #[test]
    fn builtins() {
        let m = Module::builtins(&["system", "interface", "connectivity"]);
        assert_eq!(
            m[MODULE_FULL].groups,
            ["system", "interface", "connectivity"]
        );
        assert_eq!(m[MODULE_CONNECTIVITY].groups, ["connectivity"]);
        assert!(m[MODULE_FULL].has_group("interface"));
        assert!(!m[MODULE_CONNECTIVITY].has_group("system"));
    }

    #[test]
    fn interface_filter() {
        let opts = InterfaceOptions {
            include: vec![Glob::new("ether*"), Glob::new("sfp*")],
            exclude: vec![Glob::new("*test*")],
            include_types: vec![Glob::new("ether")],
            exclude_types: Vec::new(),
            skip_disabled: true,
            skip_dynamic: None,
        };
        assert!(opts.accepts("ether1", "ether", false));
        assert!(!opts.accepts("ether1", "ether", true));
        assert!(!opts.accepts("ether-test", "ether", false));
        assert!(!opts.accepts("bridge", "ether", false));
        assert!(!opts.accepts("sfp1", "vlan", false));
        let all = InterfaceOptions::default();
        assert!(all.accepts("anything", "wg", true));
        let no_vlans = InterfaceOptions {
            exclude_types: vec![Glob::new("vlan")],
            ..InterfaceOptions::default()
        };
        assert!(!no_vlans.accepts("vlan10", "vlan", false));
        assert!(no_vlans.accepts("ether1", "ether", false));
    }

    #[test]
    fn dynamic_interfaces_follow_clients_unless_set() {
        let mut m = Module::with_groups("m", &["interface"]);
        assert!(m.skips_dynamic_interfaces());
        m.clients = ClientSeries::PerClient;
        assert!(!m.skips_dynamic_interfaces());
        m.interface.skip_dynamic = Some(true);
        assert!(m.skips_dynamic_interfaces());
        m.clients = ClientSeries::Aggregate;
        m.interface.skip_dynamic = Some(false);
        assert!(!m.skips_dynamic_interfaces());
    }

    #[test]
    fn conntrack_key_names() {
        assert_eq!(ConntrackKey::SrcAddress.as_str(), "src_address");
        assert_eq!(ConntrackKey::DstAddress.routeros_field(), "dst-address");
        let d = ConntrackOptions::default();
        assert_eq!(d.top_n, 20);
        assert_eq!(
            d.group_by,
            [ConntrackKey::SrcAddress, ConntrackKey::Protocol]
        );
    }
}
