//! Environment variables, all read here: `${VAR}` expansion in the YAML text,
//! the `ROUTERS_CONFIG` / legacy `ROUTEROS_*` contract when there is no file,
//! overrides that apply to every configuration, and the process settings of
//! the original exporter's contract ([`ProcessSettings`]).
//!
//! Every function takes the lookup as `vars` so tests inject their own;
//! [`process_env`] is the real one.

use crate::config::address::normalize;
use crate::config::limits::MAX_CONFIG_BYTES;
use crate::config::locate::Location;
use crate::config::model::Secret;
use crate::config::model::{Auth, Config, ConfigSource, DEFAULT_API_PORT, Target};
use routeros::file::size;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;
use std::time::Duration;

/// Path of the YAML configuration file when `--config.file` is not given
/// (clap reads it in `main.rs`; named here with every other variable). Lets a
/// container image keep one command line and still be pointed at a mounted file.
pub const CONFIG_FILE: &str = "CONFIG_FILE";
/// JSON array of `{name, address, username, password}`.
pub const ROUTERS_CONFIG: &str = "ROUTERS_CONFIG";
/// Legacy single-router address.
pub const ROUTEROS_ADDRESS: &str = "ROUTEROS_ADDRESS";
/// Legacy single-router user name (default `admin`).
pub const ROUTEROS_USERNAME: &str = "ROUTEROS_USERNAME";
/// Legacy single-router password (default empty).
pub const ROUTEROS_PASSWORD: &str = "ROUTEROS_PASSWORD";
/// Overrides `global.gap_reset_threshold` (whole seconds).
pub const GAP_RESET_THRESHOLD_SECONDS: &str = "GAP_RESET_THRESHOLD_SECONDS";
/// Accepted for compatibility and ignored, with a warning.
pub const COLLECTION_INTERVAL_SECONDS: &str = "COLLECTION_INTERVAL_SECONDS";
/// Name of the target (and its auth) built from the legacy variables.
pub const LEGACY_TARGET: &str = "default";
/// Listen address when `--web.listen-address` is not given.
pub const SERVER_ADDR: &str = "SERVER_ADDR";
/// Log filter when `--log.level` is not given.
pub const RUST_LOG: &str = "RUST_LOG";
/// `1`/`true`/`yes`: log in to every target before serving.
pub const STARTUP_CONNECTIVITY_TEST: &str = "STARTUP_CONNECTIVITY_TEST";
/// Whole seconds each startup login may take (default 10).
pub const STARTUP_CONNECTIVITY_TIMEOUT_SECS: &str = "STARTUP_CONNECTIVITY_TIMEOUT_SECS";
/// `1`/`true`/`yes`: exit when a startup login fails.
pub const STRICT_STARTUP_MODE: &str = "STRICT_STARTUP_MODE";

/// The process environment, as every `vars` parameter here expects it.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Something in the environment that was not used as written. The
/// configuration is still usable; [`EnvWarning::drops_a_router`] tells which
/// ones lose a router (logged as errors, and `--config.check` fails on them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvWarning {
    /// `ROUTERS_CONFIG` is not a JSON array of routers; the legacy variables
    /// are used instead, as the original exporter did.
    #[error(
        "{ROUTERS_CONFIG} cannot be parsed ({0}); falling back to \
         {ROUTEROS_ADDRESS}/{ROUTEROS_USERNAME}/{ROUTEROS_PASSWORD}"
    )]
    RoutersConfigUnparseable(String),
    /// One router of `ROUTERS_CONFIG` is unusable and left out.
    #[error("{ROUTERS_CONFIG}[{index}]: {reason}; router skipped")]
    RouterSkipped {
        /// Its position in the JSON array.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// `ROUTEROS_ADDRESS` is unusable, so there is no target.
    #[error("{ROUTEROS_ADDRESS}: {0}; no target configured")]
    LegacyAddressUnusable(String),
    /// `GAP_RESET_THRESHOLD_SECONDS` is not a positive whole number.
    #[error(
        "{GAP_RESET_THRESHOLD_SECONDS}={value:?} is not a positive whole number of \
         seconds; keeping {}",
        kept_threshold(kept)
    )]
    GapThresholdInvalid {
        /// The variable's value.
        value: String,
        /// The threshold still in force; `None` for the one from the cadence.
        kept: Option<Duration>,
    },
    /// `COLLECTION_INTERVAL_SECONDS` is set; nothing here collects on an interval.
    #[error(
        "{COLLECTION_INTERVAL_SECONDS} is ignored: this exporter has no background \
         collection loop; each /probe collects fresh data, so set scrape_interval in \
         Prometheus instead"
    )]
    CollectionIntervalIgnored,
}

/// The gap threshold in force, in words.
fn kept_threshold(kept: &Option<Duration>) -> String {
    match kept {
        Some(d) => humantime::format_duration(*d).to_string(),
        None => "the threshold from the probes' cadence".to_string(),
    }
}

impl EnvWarning {
    /// Whether a router of the environment contract was lost.
    pub fn drops_a_router(&self) -> bool {
        matches!(
            self,
            EnvWarning::RoutersConfigUnparseable(_)
                | EnvWarning::RouterSkipped { .. }
                | EnvWarning::LegacyAddressUnusable(_)
        )
    }
}

/// Process settings from the original exporter's environment contract that
/// are not part of the configuration (flags override the first two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSettings {
    /// `SERVER_ADDR`.
    pub listen_address: Option<String>,
    /// `RUST_LOG`.
    pub log_filter: Option<String>,
    /// `STARTUP_CONNECTIVITY_TEST`: log in to every target before serving.
    pub startup_connectivity_test: bool,
    /// `STARTUP_CONNECTIVITY_TIMEOUT_SECS` (default 10 s; unparseable = default).
    pub startup_connectivity_timeout: Duration,
    /// `STRICT_STARTUP_MODE`: exit if a startup login fails.
    pub strict_startup_mode: bool,
}

impl ProcessSettings {
    /// Reads the settings; empty variables count as unset.
    pub fn from_env(vars: &dyn Fn(&str) -> Option<String>) -> Self {
        let flag = |name: &str| {
            non_empty(vars(name))
                .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
        };
        Self {
            listen_address: non_empty(vars(SERVER_ADDR)),
            log_filter: non_empty(vars(RUST_LOG)),
            startup_connectivity_test: flag(STARTUP_CONNECTIVITY_TEST),
            startup_connectivity_timeout: non_empty(vars(STARTUP_CONNECTIVITY_TIMEOUT_SECS))
                .and_then(|v| v.parse::<u64>().ok())
                .map_or(Duration::from_secs(10), Duration::from_secs),
            strict_startup_mode: flag(STRICT_STARTUP_MODE),
        }
    }
}

/// A problem found while expanding `${VAR}` references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExpandError {
    pub(crate) location: Location,
    pub(crate) message: String,
}

/// Replaces `${VAR}` and `${VAR:-default}` (default used when VAR is unset or
/// empty) everywhere except in comments; `$${` gives a literal `${`.
///
/// The result may not be larger than [`MAX_CONFIG_BYTES`]: the reference that
/// would make it larger is an error (8 MB of `${X}` once grew to 6 GB). No
/// message shows a value or default, nor more than the start of a long name.
pub(crate) fn expand(
    text: &str,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ExpandError> {
    let mut out = String::with_capacity(text.len());
    let mut line_start = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let fail = |byte: usize, message: String| ExpandError {
            location: Location {
                line: index + 1,
                column: line[..byte].chars().count() + 1,
            },
            message,
        };
        let mut quote: Option<char> = None;
        let mut prev: Option<char> = None;
        let mut i = 0;
        while let Some(c) = line[i..].chars().next() {
            let rest = &line[i..];
            let starts_scalar = prev.is_none_or(|p| p.is_whitespace() || "[{,:-".contains(p));
            match quote {
                None if c == '#' && prev.is_none_or(char::is_whitespace) => {
                    out.push_str(rest);
                    break;
                }
                None if (c == '"' || c == '\'') && starts_scalar => quote = Some(c),
                Some(q) if c == q && !(q == '"' && prev == Some('\\')) => quote = None,
                _ => {}
            }
            if let Some(after) = rest.strip_prefix("$${") {
                out.push_str("${");
                i = line.len() - after.len();
                prev = Some('{');
                continue;
            }
            if let Some(after) = rest.strip_prefix("${") {
                let (value, len) = reference(after, vars).map_err(|m| fail(i, m))?;
                let unread = text.len() - (line_start + i + len);
                if (out.len() + value.len() + unread) as u64 > MAX_CONFIG_BYTES {
                    return Err(fail(i, too_large_after(after)));
                }
                out.push_str(&value);
                i += len;
                prev = Some('}');
                continue;
            }
            out.push(c);
            prev = Some(c);
            i += c.len_utf8();
        }
        line_start += line.len();
    }
    Ok(out)
}

/// The value of the reference whose text follows `${`, and the length of
/// the whole reference (`${`, name, default, `}`).
fn reference(
    after: &str,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, usize), String> {
    let Some(end) = after.find('}') else {
        return Err("unterminated `${` (missing `}`)".to_string());
    };
    let inner = &after[..end];
    let (name, default) = match inner.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (inner, None),
    };
    if !is_var_name(name) {
        // The text is not shown: it may be a password that happens to hold `${`.
        return Err(
            "not a valid environment variable name after `${` (letters, digits \
                    and `_`, not starting with a digit; write `$${` for a literal `${`)"
                .to_string(),
        );
    }
    let value = match (vars(name), default) {
        (Some(v), Some(d)) if v.is_empty() => d.to_string(),
        (Some(v), _) => v,
        (None, Some(d)) => d.to_string(),
        (None, None) => {
            let name = shown(name);
            return Err(format!(
                "environment variable `{name}` is not set \
                 (write `${{{name}:-default}}` to give a default)"
            ));
        }
    };
    Ok((value, 2 + end + 1))
}

fn too_large_after(after: &str) -> String {
    let name = after.split(['}', ':']).next().unwrap_or_default();
    format!(
        "the configuration is larger than {} once `${{{}}}` is expanded here; that is \
         the limit for a configuration",
        size(MAX_CONFIG_BYTES),
        shown(name)
    )
}

/// A name as errors show it: at most its first 64 characters.
fn shown(name: &str) -> String {
    match name.char_indices().nth(64) {
        Some((at, _)) => format!("{}…", &name[..at]),
        None => name.to_string(),
    }
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One router of `ROUTERS_CONFIG`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvRouter {
    name: String,
    address: String,
    #[serde(default = "default_username", deserialize_with = "unshown_string")]
    username: String,
    #[serde(default, deserialize_with = "unshown_secret")]
    password: Secret,
}

/// A credential of `ROUTERS_CONFIG`: a JSON string, and an error that never
/// shows the value. serde_json's own message for a value of another type
/// quotes it (`invalid type: integer `123456789`, expected a string`), and
/// the warning with that message is logged.
fn unshown_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct Unshown;

    impl<'de> Visitor<'de> for Unshown {
        type Value = String;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON string")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }

        fn visit_bool<E: de::Error>(self, _: bool) -> Result<String, E> {
            Err(not_a_string())
        }

        fn visit_i64<E: de::Error>(self, _: i64) -> Result<String, E> {
            Err(not_a_string())
        }

        fn visit_u64<E: de::Error>(self, _: u64) -> Result<String, E> {
            Err(not_a_string())
        }

        fn visit_i128<E: de::Error>(self, _: i128) -> Result<String, E> {
            Err(not_a_string())
        }

        fn visit_u128<E: de::Error>(self, _: u128) -> Result<String, E> {
            Err(not_a_string())
        }

        fn visit_f64<E: de::Error>(self, _: f64) -> Result<String, E> {
            Err(not_a_string())
        }

        fn visit_unit<E: de::Error>(self) -> Result<String, E> {
            Err(not_a_string())
        }
    }

    deserializer.deserialize_any(Unshown)
}

fn not_a_string<E: de::Error>() -> E {
    E::custom("username and password must be JSON strings (the value is not shown)")
}

fn unshown_secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
    unshown_string(deserializer).map(Secret::new)
}

fn default_username() -> String {
    "admin".to_string()
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// Builds the configuration from environment variables alone (no file).
///
/// `ROUTERS_CONFIG` (JSON array of `{name, address, username, password}`)
/// gives one target per router, each with an auth of the same name. If it is
/// set but cannot be parsed, a warning is returned and the legacy variables
/// are used, as the original exporter did. The legacy
/// `ROUTEROS_ADDRESS`/`ROUTEROS_USERNAME` (default `admin`)/`ROUTEROS_PASSWORD`
/// (default empty) give target `default` when `ROUTEROS_ADDRESS` is set;
/// otherwise there are no targets. Empty values count as unset.
/// [`apply_env_overrides`] is applied too.
pub fn from_env(
    vars: &dyn Fn(&str) -> Option<String>,
    known_groups: &[&str],
) -> (Config, Vec<EnvWarning>) {
    let mut config = Config::empty(ConfigSource::Env, known_groups);
    let mut warnings = Vec::new();
    let routers = non_empty(vars(ROUTERS_CONFIG)).and_then(|json| {
        match serde_json::from_str::<Vec<EnvRouter>>(&json) {
            Ok(routers) => Some(routers),
            Err(e) => {
                warnings.push(EnvWarning::RoutersConfigUnparseable(e.to_string()));
                None
            }
        }
    });
    match routers {
        Some(routers) => {
            for (index, router) in routers.into_iter().enumerate() {
                if let Err(reason) = add_router(&mut config, router) {
                    warnings.push(EnvWarning::RouterSkipped { index, reason });
                }
            }
        }
        None => {
            if let Some(address) = non_empty(vars(ROUTEROS_ADDRESS)) {
                let router = EnvRouter {
                    name: LEGACY_TARGET.to_string(),
                    address,
                    username: non_empty(vars(ROUTEROS_USERNAME)).unwrap_or_else(default_username),
                    password: Secret::new(vars(ROUTEROS_PASSWORD).unwrap_or_default()),
                };
                if let Err(reason) = add_router(&mut config, router) {
                    warnings.push(EnvWarning::LegacyAddressUnusable(reason));
                }
            }
        }
    }
    warnings.extend(apply_env_overrides(&mut config, vars));
    (config, warnings)
}

fn add_router(config: &mut Config, router: EnvRouter) -> Result<(), String> {
    let name = router.name.trim().to_string();
    if name.is_empty() {
        return Err("empty name".to_string());
    }
    if config.targets.contains_key(&name) {
        return Err(format!("duplicate name `{name}`"));
    }
    let address = normalize(&router.address, DEFAULT_API_PORT)?;
    config.auths.insert(
        name.clone(),
        Auth {
            username: router.username,
            password: router.password,
            password_file: None,
        },
    );
    config
        .targets
        .insert(name.clone(), Target::new(name.clone(), address, name));
    Ok(())
}

/// Applies the environment overrides that hold for every configuration source:
/// `GAP_RESET_THRESHOLD_SECONDS` (whole seconds, at least 1) replaces
/// `global.gap_reset_threshold`; `COLLECTION_INTERVAL_SECONDS` only earns a
/// warning. Bad values keep the current setting.
pub fn apply_env_overrides(
    config: &mut Config,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Vec<EnvWarning> {
    let mut warnings = Vec::new();
    if let Some(value) = non_empty(vars(GAP_RESET_THRESHOLD_SECONDS)) {
        match value.trim().parse::<u64>() {
            Ok(secs) if secs > 0 => {
                config.global.gap_reset_threshold = Some(Duration::from_secs(secs));
            }
            _ => warnings.push(EnvWarning::GapThresholdInvalid {
                value,
                kept: config.global.gap_reset_threshold,
            }),
        }
    }
    if non_empty(vars(COLLECTION_INTERVAL_SECONDS)).is_some() {
        warnings.push(EnvWarning::CollectionIntervalIgnored);
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const GROUPS: &[&str] = &["system", "interface", "connectivity"];

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn expands_variables() {
        let vars = env(&[("PASS", "s3cret"), ("EMPTY", "")]);
        let text =
            "a: ${PASS}\nb: \"${MISSING:-fallback}\"\nc: ${EMPTY:-d}\nd: x${PASS}y\ne: ${EMPTY}.\n";
        assert_eq!(
            expand(text, &vars).expect("expand"),
            "a: s3cret\nb: \"fallback\"\nc: d\nd: xs3crety\ne: .\n"
        );
        assert_eq!(expand("a: ${X:-}\n", &vars).expect("expand"), "a: \n");
        assert_eq!(
            expand("a: $${PASS} $x $\n", &vars).expect("expand"),
            "a: ${PASS} $x $\n"
        );
    }

    #[test]
    fn skips_comments() {
        let vars = env(&[("P", "v")]);
        let text = "# password: ${UNSET}\na: ${P} # or ${UNSET}\nb: \"x # ${P}\"\nc: a#${P}\n";
        assert_eq!(
            expand(text, &vars).expect("expand"),
            "# password: ${UNSET}\na: v # or ${UNSET}\nb: \"x # v\"\nc: a#v\n"
        );
    }

    #[test]
    fn unset_variable_names_variable_and_line() {
        let err = expand("a: 1\nb:  ${NOPE}\n", &env(&[])).expect_err("unset");
        assert_eq!(err.location, Location { line: 2, column: 5 });
        assert!(err.message.contains("`NOPE` is not set"), "{}", err.message);
        let err = expand("a: ${NOPE\n", &env(&[])).expect_err("unterminated");
        assert!(err.message.contains("unterminated"), "{}", err.message);
        let err = expand("a: ${1X}\n", &env(&[])).expect_err("bad name");
        assert!(err.message.contains("not a valid"), "{}", err.message);
    }

    #[test]
    fn expansion_is_bounded() {
        let big = "v".repeat(1 << 20);
        let pairs = [("X", big.as_str())];
        let vars = env(&pairs);
        let e = expand("a: ${X}${X}${X}\nb: ${X}\n", &vars).expect_err("too large");
        assert_eq!(e.location, Location { line: 2, column: 4 });
        assert!(
            e.message
                .contains("larger than 4 MiB once `${X}` is expanded"),
            "{}",
            e.message
        );
        // Up to the limit is fine, the text after the reference included.
        let text = format!("a: ${{X}}${{X}}${{X}}\n{}", "#".repeat((1 << 20) - 4));
        assert_eq!(expand(&text, &vars).expect("at the limit").len(), 4 << 20);
        let e = expand(&format!("{text}#"), &vars).expect_err("one byte more");
        assert_eq!(
            e.location,
            Location {
                line: 1,
                column: 12
            }
        );
        // A long name is shown cut; the text of an invalid one, not at all.
        let long = "N".repeat(10_000);
        let e = expand(&format!("a: ${{{long}}}\n"), &vars).expect_err("unset");
        assert!(e.message.len() < 300, "{}", e.message);
        let e = expand("password: pa${ss word}\n", &vars).expect_err("invalid name");
        assert!(!e.message.contains("ss word"), "{}", e.message);
        assert!(e.message.contains("$${"), "{}", e.message);
    }

    #[test]
    fn routers_config_never_shows_a_credential() {
        for json in [
            r#"[{"name":"r1","address":"10.0.0.1","password":123456789}]"#,
            r#"[{"name":"r1","address":"10.0.0.1","password":-123456789.5}]"#,
            r#"[{"name":"r1","address":"10.0.0.1","username":123456789}]"#,
            r#"[{"name":"r1","address":"10.0.0.1","password":[123456789]}]"#,
            r#"[{"name":"r1","address":"10.0.0.1","password":{"x":123456789}}]"#,
            r#"[{"name":"r1","address":"10.0.0.1","password":true}]"#,
        ] {
            let (config, warnings) = from_env(&env(&[(ROUTERS_CONFIG, json)]), GROUPS);
            assert!(config.targets.is_empty(), "{json}");
            let text = warnings[0].to_string();
            assert!(!text.contains("123456789"), "{text}");
            assert!(!text.contains("true"), "{text}");
            assert!(text.contains("line 1 column "), "{text}");
        }
        let (_, warnings) = from_env(
            &env(&[(
                ROUTERS_CONFIG,
                r#"[{"name":"r1","address":"x","password":1}]"#,
            )]),
            GROUPS,
        );
        assert!(
            warnings[0].to_string().contains("must be JSON strings"),
            "{}",
            warnings[0]
        );
    }

    #[test]
    fn routers_config() {
        let json = r#"[{"name":"r1","address":"192.168.88.1:8728","username":"u","password":"p"},
                       {"name":"r2","address":"10.0.0.2"}]"#;
        let (config, warnings) = from_env(&env(&[(ROUTERS_CONFIG, json)]), GROUPS);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config.source, ConfigSource::Env);
        assert_eq!(config.targets.len(), 2);
        let e = config.endpoint("r1").expect("r1");
        assert_eq!(
            (e.address.as_str(), e.username.as_str(), e.password.as_str()),
            ("192.168.88.1:8728", "u", "p")
        );
        let e = config.endpoint("r2").expect("r2");
        assert_eq!(
            (e.address.as_str(), e.username.as_str(), e.password.as_str()),
            ("10.0.0.2:8728", "admin", "")
        );
        assert_eq!(config.targets["r1"].auth, "r1");
        assert!(config.modules.contains_key("full"));
    }

    #[test]
    fn routers_config_bad_entries_are_skipped() {
        let json = r#"[{"name":"r1","address":"10.0.0.1"},{"name":"r1","address":"10.0.0.2"},
                       {"name":"r3","address":"10.0.0.3:0"}]"#;
        let (config, warnings) = from_env(&env(&[(ROUTERS_CONFIG, json)]), GROUPS);
        assert_eq!(config.targets.keys().collect::<Vec<_>>(), ["r1"]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings.iter().all(EnvWarning::drops_a_router));
        assert!(warnings[0].to_string().contains("duplicate name `r1`"));
        assert!(warnings[1].to_string().contains("port 0"));
    }

    #[test]
    fn invalid_json_falls_back_to_legacy() {
        let vars = env(&[
            (ROUTERS_CONFIG, "[{not json"),
            (ROUTEROS_ADDRESS, "10.1.1.1"),
            (ROUTEROS_USERNAME, "mon"),
            (ROUTEROS_PASSWORD, "pw"),
        ]);
        let (config, warnings) = from_env(&vars, GROUPS);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(matches!(
            warnings[0],
            EnvWarning::RoutersConfigUnparseable(_)
        ));
        assert!(warnings[0].drops_a_router());
        assert!(
            warnings[0]
                .to_string()
                .starts_with("ROUTERS_CONFIG cannot be parsed")
        );
        assert!(warnings[0].to_string().contains("falling back"));
        let e = config.endpoint(LEGACY_TARGET).expect("legacy target");
        assert_eq!(
            (e.address.as_str(), e.username.as_str(), e.password.as_str()),
            ("10.1.1.1:8728", "mon", "pw")
        );
    }

    #[test]
    fn legacy_defaults() {
        let (config, warnings) = from_env(&env(&[(ROUTEROS_ADDRESS, "192.168.88.1:8728")]), GROUPS);
        assert!(warnings.is_empty());
        let e = config.endpoint("default").expect("default target");
        assert_eq!(e.username, "admin");
        assert_eq!(e.password, "");
        assert_eq!(e.address, "192.168.88.1:8728");
    }

    #[test]
    fn nothing_set_means_no_targets() {
        let (config, warnings) = from_env(&env(&[]), GROUPS);
        assert!(warnings.is_empty());
        assert!(config.targets.is_empty());
        assert!(config.auths.is_empty());
        let (config, _) = from_env(
            &env(&[(ROUTERS_CONFIG, " "), (ROUTEROS_ADDRESS, "")]),
            GROUPS,
        );
        assert!(config.targets.is_empty());
    }

    #[test]
    fn overrides() {
        let (config, warnings) = from_env(
            &env(&[
                (GAP_RESET_THRESHOLD_SECONDS, "120"),
                (COLLECTION_INTERVAL_SECONDS, "30"),
            ]),
            GROUPS,
        );
        assert_eq!(
            config.global.gap_reset_threshold,
            Some(Duration::from_secs(120))
        );
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0], EnvWarning::CollectionIntervalIgnored);
        assert!(!warnings[0].drops_a_router());
        assert!(
            warnings[0]
                .to_string()
                .starts_with("COLLECTION_INTERVAL_SECONDS is ignored")
        );
        assert!(
            warnings[0]
                .to_string()
                .contains("set scrape_interval in Prometheus")
        );

        for bad in ["abc", "0", "-5", "1.5"] {
            let (config, warnings) = from_env(&env(&[(GAP_RESET_THRESHOLD_SECONDS, bad)]), GROUPS);
            assert_eq!(config.global.gap_reset_threshold, None);
            assert_eq!(warnings.len(), 1, "{bad}");
            assert!(
                warnings[0]
                    .to_string()
                    .contains(GAP_RESET_THRESHOLD_SECONDS),
                "{}",
                warnings[0]
            );
            assert!(warnings[0].to_string().contains(bad), "{}", warnings[0]);
        }
    }

    #[test]
    fn process_settings() {
        let s = ProcessSettings::from_env(&env(&[
            (SERVER_ADDR, ":9999"),
            (RUST_LOG, ""),
            (STARTUP_CONNECTIVITY_TEST, "Yes"),
            (STARTUP_CONNECTIVITY_TIMEOUT_SECS, "3"),
            (STRICT_STARTUP_MODE, "0"),
        ]));
        assert_eq!(s.listen_address.as_deref(), Some(":9999"));
        assert_eq!(s.log_filter, None, "empty counts as unset");
        assert!(s.startup_connectivity_test);
        assert_eq!(s.startup_connectivity_timeout, Duration::from_secs(3));
        assert!(!s.strict_startup_mode);
        let s = ProcessSettings::from_env(&env(&[(STARTUP_CONNECTIVITY_TIMEOUT_SECS, "soon")]));
        assert_eq!(s.startup_connectivity_timeout, Duration::from_secs(10));
        assert!(!s.startup_connectivity_test);
    }
}
