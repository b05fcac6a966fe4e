//! Loading a YAML configuration: `${VAR}` expansion, strict parsing, then
//! semantic checks whose errors point at the offending line.

use crate::config::address::normalize;
use crate::config::address_targets::{self, RawAddressTargets};
use crate::config::de::{or_default, present, unique_map};
use crate::config::env::{EnvWarning, apply_env_overrides, expand, from_env, process_env};
use crate::config::error::{ConfigError, Diagnostic, suggestion};
use crate::config::limits::{
    MAX_CONFIG_BYTES, MAX_PASSWORD_FILE_BYTES, TextError, check_size, check_structure, decode,
    prescan_depth,
};
use crate::config::locate::KeyPath;
use crate::config::model::{
    Auth, Config, ConfigSource, DEFAULT_API_PORT, DEFAULT_API_SSL_PORT, ExtraPort, Global,
    MODULE_CONNECTIVITY, MODULE_FULL, Module, Secret, Target, TargetSessions,
};
use routeros::file;
use routeros::tls::{TlsSettings, is_valid_server_name, parse_fingerprint, read_ca_file};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default, deserialize_with = "or_default")]
    global: Global,
    #[serde(default, deserialize_with = "unique_map")]
    auths: BTreeMap<String, RawAuth>,
    #[serde(default, deserialize_with = "unique_map")]
    targets: BTreeMap<String, RawTarget>,
    #[serde(default, deserialize_with = "unique_map")]
    modules: BTreeMap<String, Module>,
    #[serde(default, deserialize_with = "present")]
    address_targets: Option<RawAddressTargets>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    username: String,
    password: Option<Secret>,
    password_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    address: String,
    auth: String,
    #[serde(default, deserialize_with = "present")]
    tls: Option<RawTls>,
    #[serde(default, deserialize_with = "unique_map")]
    labels: BTreeMap<String, String>,
    module: Option<String>,
    #[serde(default, deserialize_with = "or_default")]
    sessions: TargetSessions,
    #[serde(default, deserialize_with = "or_default")]
    connectivity: Vec<ExtraPort>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTls {
    ca_file: Option<PathBuf>,
    fingerprint_sha256: Option<String>,
    server_name: Option<String>,
    #[serde(default)]
    insecure_skip_verify: bool,
}

/// A configuration ready to use, and what the environment did not supply as
/// written (for the log).
#[derive(Debug)]
pub struct Loaded {
    /// The validated configuration, environment overrides applied.
    pub config: Config,
    /// Environment variables that were ignored or fell back.
    pub warnings: Vec<EnvWarning>,
}

/// The one way the exporter loads its configuration, at startup and on every
/// reload: the YAML `file` (with `${VAR}` expansion), or without one the
/// original exporter's environment contract; then the environment overrides
/// that hold for both ([`apply_env_overrides`]).
///
/// A broken file is an error; the environment contract never is (a bad
/// router there is a warning that [`EnvWarning::drops_a_router`]).
pub fn load(
    file: Option<&Path>,
    known_groups: &[&str],
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, ConfigError> {
    match file {
        Some(path) => {
            let mut config = load_file_with_env(path, known_groups, vars)?;
            let warnings = apply_env_overrides(&mut config, vars);
            Ok(Loaded { config, warnings })
        }
        None => {
            let (config, warnings) = from_env(vars, known_groups);
            Ok(Loaded { config, warnings })
        }
    }
}

/// Loads a YAML file, expanding `${VAR}` from the process environment.
///
/// Relative `password_file` and `ca_file` paths are relative to the file's
/// directory. [`apply_env_overrides`] is not applied: [`load`] does that.
pub fn load_file(path: &Path, known_groups: &[&str]) -> Result<Config, ConfigError> {
    load_file_with_env(path, known_groups, &process_env)
}

/// [`load_file`] with the environment lookup injected.
pub fn load_file_with_env(
    path: &Path,
    known_groups: &[&str],
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let bytes = file::read_regular(path, MAX_CONFIG_BYTES).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let loader = Loader {
        origin: path.display().to_string(),
        base_dir: path.parent().map(Path::to_path_buf),
        known_groups,
    };
    let text = decode(&bytes).map_err(|e| loader.text_error(e))?;
    loader.load(text, vars, ConfigSource::File(path.to_path_buf()))
}

/// Loads YAML text; `origin` names it in errors and becomes the
/// [`ConfigSource::File`] path. Relative paths are relative to the working
/// directory; `${VAR}` comes from the process environment.
pub fn load_str(text: &str, origin: &str, known_groups: &[&str]) -> Result<Config, ConfigError> {
    load_str_with_env(text, origin, known_groups, &process_env)
}

/// [`load_str`] with the environment lookup injected.
pub fn load_str_with_env(
    text: &str,
    origin: &str,
    known_groups: &[&str],
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let loader = Loader {
        origin: origin.to_string(),
        base_dir: None,
        known_groups,
    };
    loader.load(text, vars, ConfigSource::File(PathBuf::from(origin)))
}

/// The configuration for demo mode: one target per `(name, address)`, all
/// logging in through auth `demo` as `admin` with an empty password.
pub fn demo(addresses: &[(String, SocketAddr)], known_groups: &[&str]) -> Config {
    let mut config = Config::empty(ConfigSource::Demo, known_groups);
    config.auths.insert(
        "demo".to_string(),
        Auth {
            username: "admin".to_string(),
            password: Secret::default(),
            password_file: None,
        },
    );
    for (name, address) in addresses {
        config.targets.insert(
            name.clone(),
            Target::new(name.clone(), address.to_string(), "demo"),
        );
    }
    config
}

struct Loader<'a> {
    origin: String,
    base_dir: Option<PathBuf>,
    known_groups: &'a [&'a str],
}

/// A semantic check that failed: where and what.
pub(super) type Check<T> = Result<T, (KeyPath, String)>;

fn positive(path: KeyPath, value: Duration) -> Check<()> {
    if value.is_zero() {
        return Err((path, "must be greater than 0s".to_string()));
    }
    Ok(())
}

/// A timeout longer than `global.max_timeout` could never be used whole.
fn not_above_max_timeout(path: KeyPath, value: Duration, global: &Global) -> Check<()> {
    if value > global.max_timeout {
        return Err((
            path,
            format!(
                "{} is longer than global.max_timeout ({}); lower it or raise max_timeout",
                humantime::format_duration(value),
                humantime::format_duration(global.max_timeout)
            ),
        ));
    }
    Ok(())
}

fn at_least_one(path: KeyPath, value: u64) -> Check<()> {
    if value == 0 {
        return Err((path, "must be at least 1".to_string()));
    }
    Ok(())
}

impl Loader<'_> {
    /// The checks in order of cost: size, `${VAR}` expansion (bounded),
    /// flow depth, then a parse that counts depth and alias expansion, and
    /// only then the typed parse and the semantic checks.
    fn load(
        &self,
        text: &str,
        vars: &dyn Fn(&str) -> Option<String>,
        source: ConfigSource,
    ) -> Result<Config, ConfigError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        check_size(text).map_err(|e| self.text_error(e))?;
        let text =
            expand(text, vars).map_err(|e| self.text_error((Some(e.location), e.message)))?;
        prescan_depth(&text).map_err(|e| self.text_error(e))?;
        if let Err(e) = check_structure(&text) {
            return Err(Diagnostic::from_yaml(&self.origin, &text, &e).into());
        }
        let raw: RawConfig = match serde_yaml::from_str::<Option<RawConfig>>(&text) {
            Ok(raw) => raw.unwrap_or_default(),
            Err(e) => return Err(Diagnostic::from_yaml(&self.origin, &text, &e).into()),
        };
        self.build(raw, source)
            .map_err(|(path, message)| Diagnostic::at(&self.origin, &text, &path, message).into())
    }

    /// An error about the text as a whole or at a place in it.
    fn text_error(&self, (location, message): TextError) -> ConfigError {
        Diagnostic {
            origin: self.origin.clone(),
            location,
            path: String::new(),
            message,
        }
        .into()
    }

    fn resolve(&self, path: &Path) -> PathBuf {
        match &self.base_dir {
            Some(base) if path.is_relative() => base.join(path),
            _ => path.to_path_buf(),
        }
    }

    fn build(&self, raw: RawConfig, source: ConfigSource) -> Check<Config> {
        check_global(&raw.global)?;
        let mut auths = BTreeMap::new();
        for (name, auth) in raw.auths {
            let path = KeyPath::of(&["auths", &name]);
            let auth = self.auth(&path, auth)?;
            auths.insert(name, auth);
        }
        let mut targets = BTreeMap::new();
        for (name, target) in raw.targets {
            let path = KeyPath::of(&["targets", &name]);
            let target = self.target(&path, &name, target, &auths)?;
            targets.insert(name, target);
        }
        let mut modules = Module::builtins(self.known_groups);
        for (name, module) in raw.modules {
            let path = KeyPath::of(&["modules", &name]);
            let module = self.module(&path, &name, module)?;
            if let Some(timeout) = module.timeout {
                not_above_max_timeout(path.key("timeout"), timeout, &raw.global)?;
            }
            modules.insert(name, module);
        }
        // After the modules: a target may name one defined below it.
        for (name, target) in &targets {
            check_target_module(&KeyPath::of(&["targets", name]), target, &modules)?;
        }
        let address_targets = match raw.address_targets {
            Some(section) => Some(address_targets::check(
                section,
                &auths,
                &modules,
                |path, tls| self.tls(path, tls),
            )?),
            None => None,
        };
        Ok(Config {
            global: raw.global,
            auths,
            targets,
            modules,
            address_targets,
            source,
        })
    }

    fn auth(&self, path: &KeyPath, raw: RawAuth) -> Check<Auth> {
        if raw.username.trim().is_empty() {
            return Err((path.key("username"), "must not be empty".to_string()));
        }
        let (password, password_file) = match (raw.password, raw.password_file) {
            (Some(_), Some(_)) => {
                return Err((
                    path.key("password_file"),
                    "set either `password` or `password_file`, not both".to_string(),
                ));
            }
            (None, None) => {
                return Err((
                    path.clone(),
                    "set `password` or `password_file`".to_string(),
                ));
            }
            (Some(password), None) => (password, None),
            (None, Some(file)) => {
                let file = self.resolve(&file);
                let content = read_password_file(&file).map_err(|e| {
                    (
                        path.key("password_file"),
                        format!("cannot read `{}`: {e}", file.display()),
                    )
                })?;
                let trimmed = content.trim_end_matches(['\n', '\r']);
                (Secret::new(trimmed), Some(file))
            }
        };
        Ok(Auth {
            username: raw.username,
            password,
            password_file,
        })
    }

    fn target(
        &self,
        path: &KeyPath,
        name: &str,
        raw: RawTarget,
        auths: &BTreeMap<String, Auth>,
    ) -> Check<Target> {
        if name.trim().is_empty() {
            return Err((path.clone(), "target name must not be empty".to_string()));
        }
        let default_port = if raw.tls.is_some() {
            DEFAULT_API_SSL_PORT
        } else {
            DEFAULT_API_PORT
        };
        let address =
            normalize(&raw.address, default_port).map_err(|e| (path.key("address"), e))?;
        if !auths.contains_key(&raw.auth) {
            let names: Vec<&str> = auths.keys().map(String::as_str).collect();
            return Err((
                path.key("auth"),
                unknown("auth", &raw.auth, &names, "defined"),
            ));
        }
        let tls = match raw.tls {
            Some(tls) => Some(self.tls(&path.key("tls"), tls)?),
            None => None,
        };
        for label in raw.labels.keys() {
            check_label_name(label).map_err(|e| (path.key("labels").key(label), e))?;
        }
        at_least_one(path.key("sessions").key("max"), raw.sessions.max as u64)?;
        positive(
            path.key("sessions").key("idle_timeout"),
            raw.sessions.idle_timeout,
        )?;
        let mut ports = BTreeSet::new();
        let mut names = BTreeSet::new();
        for (i, extra) in raw.connectivity.iter().enumerate() {
            let item = path.key("connectivity").index(i);
            if extra.port == 0 {
                return Err((
                    item.key("port"),
                    "port 0 is not allowed (use 1-65535)".into(),
                ));
            }
            if !ports.insert(extra.port) {
                return Err((
                    item.key("port"),
                    format!("port {} is listed twice", extra.port),
                ));
            }
            if extra.name.trim().is_empty() {
                return Err((item.key("name"), "must not be empty".to_string()));
            }
            if !names.insert(extra.name.as_str()) {
                return Err((
                    item.key("name"),
                    format!("name `{}` is used twice", extra.name),
                ));
            }
            positive(item.key("timeout"), extra.timeout)?;
        }
        Ok(Target {
            name: name.to_string(),
            address,
            auth: raw.auth,
            tls,
            labels: raw.labels,
            module: raw.module,
            sessions: raw.sessions,
            connectivity: raw.connectivity,
            address_target: false,
        })
    }

    fn tls(&self, path: &KeyPath, raw: RawTls) -> Check<TlsSettings> {
        if let Some(fp) = &raw.fingerprint_sha256 {
            parse_fingerprint(fp).map_err(|e| {
                (
                    path.key("fingerprint_sha256"),
                    format!("invalid SHA-256 fingerprint: {e}"),
                )
            })?;
            if raw.ca_file.is_some() {
                return Err((
                    path.key("fingerprint_sha256"),
                    "set either `fingerprint_sha256` or `ca_file`, not both: a pinned \
                     fingerprint replaces chain verification"
                        .to_string(),
                ));
            }
        }
        if raw.insecure_skip_verify && (raw.ca_file.is_some() || raw.fingerprint_sha256.is_some()) {
            return Err((
                path.key("insecure_skip_verify"),
                "`insecure_skip_verify: true` cannot be combined with `ca_file` or \
                 `fingerprint_sha256`"
                    .to_string(),
            ));
        }
        if let Some(name) = &raw.server_name
            && !is_valid_server_name(name)
        {
            return Err((
                path.key("server_name"),
                format!("`{name}` is not a valid DNS name or IP address"),
            ));
        }
        let ca_file = match raw.ca_file {
            Some(file) => {
                let file = self.resolve(&file);
                read_ca_file(&file).map_err(|e| (path.key("ca_file"), e))?;
                Some(file)
            }
            None => None,
        };
        Ok(TlsSettings {
            ca_file,
            fingerprint_sha256: raw.fingerprint_sha256,
            server_name: raw.server_name,
            insecure_skip_verify: raw.insecure_skip_verify,
        })
    }

    fn module(&self, path: &KeyPath, name: &str, mut module: Module) -> Check<Module> {
        if name == MODULE_FULL || name == MODULE_CONNECTIVITY {
            return Err((
                path.clone(),
                format!(
                    "`{name}` is a built-in module and cannot be redefined; choose another name"
                ),
            ));
        }
        if name.trim().is_empty() {
            return Err((path.clone(), "module name must not be empty".to_string()));
        }
        let known = self.known_groups.join(", ");
        if module.groups.is_empty() {
            return Err((
                path.key("groups"),
                format!("list at least one group (known: {known})"),
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, group) in module.groups.iter().enumerate() {
            let item = path.key("groups").index(i);
            if !self.known_groups.contains(&group.as_str()) {
                return Err((item, unknown("group", group, self.known_groups, "known")));
            }
            if !seen.insert(group.as_str()) {
                return Err((item, format!("group `{group}` is listed twice")));
            }
        }
        if let Some(timeout) = module.timeout {
            positive(path.key("timeout"), timeout)?;
        }
        let mut keys = BTreeSet::new();
        for (i, key) in module.conntrack.group_by.iter().enumerate() {
            if !keys.insert(*key) {
                return Err((
                    path.key("conntrack").key("group_by").index(i),
                    format!("`{}` is listed twice", key.as_str()),
                ));
            }
        }
        module.name = name.to_string();
        Ok(module)
    }
}

/// The password in `file`: a regular file of at most
/// [`MAX_PASSWORD_FILE_BYTES`] of UTF-8 (the error never shows its content).
fn read_password_file(file: &Path) -> std::io::Result<String> {
    let bytes = file::read_regular(file, MAX_PASSWORD_FILE_BYTES)?;
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "it is not UTF-8 text"))
}

/// A target's `module` must name a built-in or configured module.
fn check_target_module(
    path: &KeyPath,
    target: &Target,
    modules: &BTreeMap<String, Module>,
) -> Check<()> {
    let Some(module) = &target.module else {
        return Ok(());
    };
    if modules.contains_key(module) {
        return Ok(());
    }
    let names: Vec<&str> = modules.keys().map(String::as_str).collect();
    Err((
        path.key("module"),
        unknown("module", module, &names, "defined"),
    ))
}

/// "unknown <kind> `<name>`" for a reference to something the config lacks,
/// with a did-you-mean when a name is close, else the names there are
/// (`(<listed>: a, b)`), or that there are none.
pub(super) fn unknown(kind: &str, name: &str, names: &[&str], listed: &str) -> String {
    let hint = match suggestion(name, names) {
        s if !s.is_empty() => s,
        _ if names.is_empty() => format!(" (no {kind}s are defined)"),
        _ => format!(" ({listed}: {})", names.join(", ")),
    };
    format!("unknown {kind} `{name}`{hint}")
}

fn check_global(global: &Global) -> Check<()> {
    let g = KeyPath::of(&["global"]);
    if let Some(threshold) = global.gap_reset_threshold {
        positive(g.key("gap_reset_threshold"), threshold)?;
    }
    positive(g.key("default_timeout"), global.default_timeout)?;
    positive(g.key("max_timeout"), global.max_timeout)?;
    not_above_max_timeout(g.key("default_timeout"), global.default_timeout, global)?;
    positive(
        g.key("health").key("stale_after"),
        global.health.stale_after,
    )?;
    at_least_one(
        g.key("health").key("max_consecutive_errors"),
        u64::from(global.health.max_consecutive_errors),
    )?;
    at_least_one(
        g.key("limits").key("max_concurrent_probes"),
        global.limits.max_concurrent_probes as u64,
    )?;
    at_least_one(
        g.key("limits").key("max_concurrent_per_target"),
        global.limits.max_concurrent_per_target as u64,
    )
}

/// Prometheus label names: `[a-zA-Z_][a-zA-Z0-9_]*`, `__` prefix reserved.
fn check_label_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "invalid label name `{name}`: must match [a-zA-Z_][a-zA-Z0-9_]*"
        ));
    }
    if name.starts_with("__") {
        return Err(format!(
            "invalid label name `{name}`: names starting with `__` are reserved"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::ConntrackOptions;

    const GROUPS: &[&str] = &["system", "interface", "conntrack", "connectivity"];
    const AUTH: &str = "auths:\n  a:\n    username: u\n    password: p4ssw0rd-value\n";

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn load(text: &str) -> Result<Config, ConfigError> {
        load_str_with_env(text, "t.yml", GROUPS, &no_env)
    }

    fn target(body: &str) -> Result<Config, ConfigError> {
        load(&format!("{AUTH}targets:\n  r:\n    auth: a\n{body}"))
    }

    fn err(result: Result<Config, ConfigError>) -> String {
        match result {
            Ok(c) => panic!("expected an error, got {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn address_normalisation() {
        let c = target("    address: 10.0.0.1\n").expect("plain");
        assert_eq!(c.targets["r"].address, "10.0.0.1:8728");
        let c =
            target("    address: 10.0.0.1\n    tls: {insecure_skip_verify: true}\n").expect("tls");
        assert_eq!(c.targets["r"].address, "10.0.0.1:8729");
        let c = target("    address: \"[2001:db8::1]\"\n").expect("v6");
        assert_eq!(c.targets["r"].address, "[2001:db8::1]:8728");
        let c = target("    address: router.lan:1234\n    tls: {}\n").expect("port kept");
        assert_eq!(c.targets["r"].address, "router.lan:1234");
    }

    #[test]
    fn empty_tls_section_enables_tls() {
        let c = target("    address: 10.0.0.1\n    tls:\n").expect("tls");
        assert_eq!(c.targets["r"].tls, Some(TlsSettings::default()));
        assert_eq!(c.targets["r"].address, "10.0.0.1:8729");
    }

    #[test]
    fn loaded_secrets_stay_hidden() {
        let c = target("    address: 10.0.0.1\n").expect("loads");
        for text in [
            serde_json::to_string(&c).expect("json"),
            serde_yaml::to_string(&c).expect("yaml"),
            format!("{c:?}"),
        ] {
            assert!(!text.contains("p4ssw0rd-value"), "{text}");
            assert!(text.contains("<secret>"), "{text}");
        }
        assert_eq!(
            c.endpoint("r").expect("endpoint").password,
            "p4ssw0rd-value"
        );
    }

    #[test]
    fn tls_conflicts_and_names() {
        let fp = "ab".repeat(32);
        let e = err(target(&format!(
            "    address: x\n    tls:\n      fingerprint_sha256: {fp}\n      insecure_skip_verify: true\n"
        )));
        assert!(
            e.contains("line 11 column 7: targets.r.tls.insecure_skip_verify"),
            "{e}"
        );
        let e = err(target(&format!(
            "    address: x\n    tls:\n      fingerprint_sha256: {fp}\n      ca_file: t.pem\n"
        )));
        assert!(e.contains("not both"), "{e}");
        let e = err(target(
            "    address: x\n    tls:\n      server_name: \"bad name!\"\n",
        ));
        assert!(
            e.contains("targets.r.tls.server_name: `bad name!` is not a valid"),
            "{e}"
        );
        let c = target(&format!(
            "    address: x\n    tls:\n      fingerprint_sha256: \"{fp}\"\n"
        ))
        .expect("pinned");
        assert_eq!(
            c.targets["r"]
                .tls
                .as_ref()
                .and_then(|t| t.fingerprint_sha256.as_deref()),
            Some(fp.as_str())
        );
    }

    #[test]
    fn target_checks() {
        let e = err(target("    address: x\n    labels:\n      __meta: y\n"));
        assert!(
            e.contains("line 10 column 7: targets.r.labels.__meta: "),
            "{e}"
        );
        assert!(e.contains("reserved"), "{e}");
        let e = err(target(
            "    address: x\n    labels:\n      a: 1\n      a: 2\n",
        ));
        assert!(e.contains("line 11 column 7: targets.r.labels.a: "), "{e}");
        // Plain scalars are taken as text: numbers keep their spelling.
        let c = target("    address: x\n    labels: {n: 05}\n").expect("numeric label");
        assert_eq!(c.targets["r"].labels["n"], "05");
        let e = err(target("    address: x\n    sessions: {max: 0}\n"));
        assert!(
            e.contains("targets.r.sessions.max: must be at least 1"),
            "{e}"
        );
        let e = err(target(
            "    address: x\n    connectivity:\n      - {port: 22, name: a}\n      - {port: 22, name: b}\n",
        ));
        assert!(
            e.contains("line 11 column 7: targets.r.connectivity[1].port: port 22 is listed twice"),
            "{e}"
        );
        let e = err(target(
            "    address: x\n    connectivity:\n      - {port: 70000, name: a}\n",
        ));
        assert!(e.contains("line 10"), "{e}");
        assert!(e.contains("70000"), "{e}");
        let e = err(target("    address: x\n    address: y\n"));
        assert!(e.contains("duplicate field `address`"), "{e}");
        let e = err(load(&format!(
            "{AUTH}  a:\n    username: v\n    password: w\n"
        )));
        assert!(
            e.contains("line 5 column 3: auths.a: `a` is defined more than once"),
            "{e}"
        );
        let e = err(target("    adress: x\n"));
        assert!(e.contains("did you mean `address`"), "{e}");
        let e = err(load(&format!(
            "{AUTH}targets:\n  r:\n    address: x\n    auth: b\n"
        )));
        assert!(e.contains("unknown auth `b` (defined: a)"), "{e}");
        let e = err(load("targets:\n  r:\n    address: x\n    auth: b\n"));
        assert!(e.contains("(no auths are defined)"), "{e}");
        let e = err(load("targets:\n  r:\n    address: x\n"));
        assert!(
            e.contains("line 3 column 5: targets.r: missing field `auth`"),
            "{e}"
        );
    }

    #[test]
    fn target_module() {
        let c = target("    address: x\n    module: connectivity\n").expect("built-in");
        assert_eq!(c.targets["r"].module.as_deref(), Some("connectivity"));
        let c = target("    address: x\n").expect("no module");
        assert_eq!(c.targets["r"].module, None);
        // A module defined below the target is known to it.
        let c = target("    address: x\n    module: m\nmodules:\n  m:\n    groups: [system]\n")
            .expect("configured");
        assert_eq!(c.targets["r"].module.as_deref(), Some("m"));
        let e = err(target("    address: x\n    module: ful\n"));
        assert!(
            e.contains(
                "line 9 column 5: targets.r.module: unknown module `ful`, did you mean `full`?"
            ),
            "{e}"
        );
        let e = err(target("    address: x\n    module: zzzzzz\n"));
        assert!(
            e.contains("unknown module `zzzzzz` (defined: connectivity, full)"),
            "{e}"
        );
    }

    #[test]
    fn global_checks() {
        let e = err(load("global:\n  limits:\n    max_concurrent_probes: 0\n"));
        assert!(
            e.contains("line 3 column 5: global.limits.max_concurrent_probes: must be at least 1"),
            "{e}"
        );
        let e = err(load("global:\n  default_timeout: 0s\n"));
        assert!(
            e.contains("global.default_timeout: must be greater than 0s"),
            "{e}"
        );
        let e = err(load("globl: {}\n"));
        assert!(
            e.contains("unknown field `globl`, did you mean `global`?"),
            "{e}"
        );
        let c = load("global:\nauths:\ntargets:\nmodules:\n").expect("empty sections");
        assert_eq!(c.global, Global::default());
    }

    #[test]
    fn module_checks() {
        let e = err(load("modules:\n  m:\n    groups: [system, system]\n"));
        assert!(
            e.contains("modules.m.groups[1]: group `system` is listed twice"),
            "{e}"
        );
        let e = err(load("modules:\n  m:\n    groups: []\n"));
        assert!(
            e.contains("list at least one group (known: system, interface"),
            "{e}"
        );
        let e = err(load("modules:\n  m:\n    groups: [bogus]\n"));
        assert!(
            e.contains("line 3 column 5: modules.m.groups[0]: unknown group `bogus` (known:"),
            "{e}"
        );
        let e = err(load("modules:\n  connectivity:\n    groups: [system]\n"));
        assert!(e.contains("built-in module"), "{e}");
        let e = err(load(
            "modules:\n  m:\n    groups: [conntrack]\n    conntrack: {group_by: [protocol, protocol]}\n",
        ));
        assert!(e.contains("`protocol` is listed twice"), "{e}");
        let e = err(load("modules:\n  m:\n    groups: [system]\n    name: x\n"));
        assert!(e.contains("unknown field `name`"), "{e}");
        let c = load("modules:\n  m:\n    groups: [conntrack]\n    conntrack: {top_n: 5}\n")
            .expect("partial conntrack");
        assert_eq!(
            c.modules["m"].conntrack.group_by,
            ConntrackOptions::default().group_by
        );
        assert_eq!(c.modules["m"].timeout, None);
    }

    #[test]
    fn syntax_errors_are_located() {
        let e = err(load("targets:\n  r: [\n"));
        assert!(e.starts_with("t.yml: line "), "{e}");
    }

    #[test]
    fn demo_config() {
        let addr: SocketAddr = "127.0.0.1:18728".parse().expect("addr");
        let v6: SocketAddr = "[::1]:18729".parse().expect("addr");
        let c = demo(&[("r1".into(), addr), ("r2".into(), v6)], GROUPS);
        assert_eq!(c.source, ConfigSource::Demo);
        let e = c.endpoint("r1").expect("r1");
        assert_eq!(
            (e.address.as_str(), e.username.as_str(), e.password.as_str()),
            ("127.0.0.1:18728", "admin", "")
        );
        assert_eq!(c.targets["r2"].address, "[::1]:18729");
        assert_eq!(c.targets["r2"].auth, "demo");
        assert_eq!(c.modules["full"].groups, GROUPS);
    }
}
