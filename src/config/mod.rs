//! Configuration: the YAML file (with `${VAR}` expansion), the environment-only
//! contract of the original mikrotik-exporter, and demo mode.
//!
//! [`load`] is the one entry point for startup and reload; every path ends in a
//! validated [`Config`]; errors name the file, line, column and field
//! ([`ConfigError`]). Environment variables are read only in `env.rs`.

mod address;
mod address_targets;
mod de;
mod env;
mod error;
mod glob;
mod limits;
mod load;
mod locate;
mod model;

pub use address::normalize as normalize_address;
pub use address_targets::{AddressTargets, Cidr, DEFAULT_MAX_TARGETS};
pub use env::{
    COLLECTION_INTERVAL_SECONDS, CONFIG_FILE, EnvWarning, GAP_RESET_THRESHOLD_SECONDS,
    LEGACY_TARGET, ProcessSettings, ROUTEROS_ADDRESS, ROUTEROS_PASSWORD, ROUTEROS_USERNAME,
    ROUTERS_CONFIG, apply_env_overrides, from_env, process_env,
};
pub use error::{ConfigError, Diagnostic};
pub use glob::Glob;
pub use limits::{
    MAX_CONFIG_BYTES, MAX_DEPTH, MAX_EXPANDED_TEXT, MAX_NODES, MAX_PASSWORD_FILE_BYTES,
};
pub use load::{Loaded, demo, load, load_file, load_file_with_env, load_str, load_str_with_env};
pub use locate::Location;
pub use model::{
    Auth, ClientSeries, ConcurrencyLimits, Config, ConfigSource, ConntrackKey, ConntrackOptions,
    DEFAULT_API_PORT, DEFAULT_API_SSL_PORT, ExtraPort, FirewallOptions, GROUP_CONNECTIVITY, Global,
    HealthPolicy, InterfaceOptions, MODULE_CONNECTIVITY, MODULE_FULL, Module, Secret, Target,
    TargetSessions,
};
