//! Configuration: the YAML file (with `${VAR}` expansion), the environment-only
//! contract of the original mikrotik-exporter, and demo mode.
//!
//! Every path ends in a validated [`Config`]; errors name the file, line, column
//! and field ([`ConfigError`]).

mod address;
mod de;
mod env;
mod error;
mod glob;
mod load;
mod locate;
mod model;

pub use address::normalize as normalize_address;
pub use env::{
    COLLECTION_INTERVAL_SECONDS, GAP_RESET_THRESHOLD_SECONDS, LEGACY_TARGET, ROUTEROS_ADDRESS,
    ROUTEROS_PASSWORD, ROUTEROS_USERNAME, ROUTERS_CONFIG, apply_env_overrides, from_env,
};
pub use error::{ConfigError, Diagnostic};
pub use glob::Glob;
pub use load::{demo, load_file, load_file_with_env, load_str, load_str_with_env};
pub use locate::Location;
pub use model::{
    Auth, Config, ConfigSource, ConntrackKey, ConntrackOptions, DEFAULT_API_PORT,
    DEFAULT_API_SSL_PORT, ExtraPort, GROUP_CONNECTIVITY, Global, HealthPolicy, InterfaceOptions,
    Limits, MODULE_CONNECTIVITY, MODULE_FULL, Module, Secret, SessionLimits, Target,
};
