//! Every file in `tests/testdata` but `good.yml` is broken in one way; the error
//! must say where (file, line) and what (field path, suggestion).

use routeros_exporter::collect::group_names;
use routeros_exporter::config::{
    ClientSeries, ConfigError, ConfigSource, ConntrackKey, load_file, load_file_with_env, load_str,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/testdata")
        .join(name)
}

/// Loads a broken file and returns its error message.
fn error_of(name: &str) -> String {
    match load_file(&testdata(name), &group_names()) {
        Ok(config) => panic!("{name} loaded but should fail: {config:?}"),
        Err(e) => e.to_string(),
    }
}

/// Asserts the message names the file, the line, and contains every part.
fn assert_error(name: &str, line: usize, parts: &[&str]) {
    let message = error_of(name);
    assert!(
        message.starts_with(&testdata(name).display().to_string()),
        "file name missing: {message}"
    );
    assert!(
        message.contains(&format!(": line {line} column ")),
        "expected line {line}: {message}"
    );
    for part in parts {
        assert!(message.contains(part), "expected {part:?} in: {message}");
    }
}

#[test]
fn unknown_field_suggests_closest_name() {
    assert_error(
        "unknown_field.yml",
        7,
        &[
            "targets.core1.adress: ",
            "unknown field `adress`, did you mean `address`?",
        ],
    );
}

#[test]
fn unknown_auth() {
    assert_error(
        "unknown_auth.yml",
        8,
        &[
            "targets.core1.auth: ",
            "unknown auth `monitorin`, did you mean `monitoring`?",
        ],
    );
}

#[test]
fn unknown_group() {
    assert_error(
        "unknown_group.yml",
        5,
        &[
            "modules.light.groups[1]: ",
            "unknown group `interfaces`, did you mean `interface`?",
        ],
    );
}

#[test]
fn duplicate_target_points_at_second_definition() {
    assert_error(
        "duplicate_target.yml",
        9,
        &["targets.core1: ", "`core1` is defined more than once"],
    );
}

#[test]
fn bad_duration() {
    assert_error(
        "bad_duration.yml",
        2,
        &[
            "global.default_timeout: ",
            "\"10 parsecs\"",
            "expected a duration",
        ],
    );
}

#[test]
fn builtin_module() {
    assert_error(
        "builtin_module.yml",
        4,
        &["modules.full: ", "`full` is a built-in module"],
    );
}

#[test]
fn bad_fingerprint() {
    assert_error(
        "bad_fingerprint.yml",
        10,
        &[
            "targets.core1.tls.fingerprint_sha256: ",
            "invalid SHA-256 fingerprint",
        ],
    );
}

#[test]
fn password_and_password_file() {
    assert_error(
        "password_and_file.yml",
        5,
        &[
            "auths.monitoring.password_file: ",
            "either `password` or `password_file`, not both",
        ],
    );
}

#[test]
fn neither_password_nor_file() {
    assert_error(
        "no_password.yml",
        2,
        &["auths.monitoring: ", "set `password` or `password_file`"],
    );
}

#[test]
fn missing_password_file() {
    assert_error(
        "missing_password_file.yml",
        4,
        &[
            "auths.monitoring.password_file: ",
            "cannot read `",
            "does-not-exist.secret`",
        ],
    );
}

#[test]
fn missing_ca_file() {
    assert_error(
        "missing_ca_file.yml",
        10,
        &[
            "targets.core1.tls.ca_file: ",
            "cannot read CA file `",
            "no-such-ca.pem`",
        ],
    );
}

#[test]
fn bad_label_name() {
    assert_error(
        "bad_label_name.yml",
        11,
        &[
            "targets.core1.labels.rack-row: ",
            "invalid label name `rack-row`",
        ],
    );
}

#[test]
fn unknown_target_module() {
    assert_error(
        "unknown_target_module.yml",
        9,
        &[
            "targets.core1.module: ",
            "unknown module `cor`, did you mean `core`?",
        ],
    );
}

#[test]
fn address_targets_bad_cidr() {
    assert_error(
        "address_targets_bad_cidr.yml",
        8,
        &[
            "address_targets.allow[1]: ",
            "`172.16.1.0/12` has host bits set; the range is 172.16.0.0/12",
        ],
    );
}

#[test]
fn address_targets_unknown_auth() {
    assert_error(
        "address_targets_unknown_auth.yml",
        9,
        &[
            "address_targets.auths[1]: ",
            "unknown auth `flet`, did you mean `fleet`?",
        ],
    );
}

#[test]
fn address_targets_without_allow_list() {
    assert_error(
        "address_targets_no_allow.yml",
        5,
        &["address_targets.allow: ", "list at least one address range"],
    );
}

#[test]
fn address_targets_zero_max_targets() {
    assert_error(
        "address_targets_zero_max.yml",
        8,
        &["address_targets.max_targets: ", "must be at least 1"],
    );
}

#[test]
fn address_targets_unknown_module() {
    assert_error(
        "address_targets_unknown_module.yml",
        8,
        &[
            "address_targets.module: ",
            "unknown module `ful`, did you mean `full`?",
        ],
    );
}

#[test]
fn address_targets_are_off_unless_written() {
    let auth = "auths:\n  a:\n    username: u\n    password: p\n";
    let config = load_str(auth, "a.yml", &group_names()).expect("loads");
    assert_eq!(config.address_targets, None);
    let text = format!("{auth}address_targets:\n  allow: [10.0.0.0/8]\n  auths: [a]\n");
    let config = load_str(&text, "a.yml", &group_names()).expect("loads");
    let section = config.address_targets.expect("on");
    assert_eq!(section.max_targets, 1024);
    assert_eq!((section.tls, section.module), (None, None));
    // Written but empty is a mistake, not "off".
    let text = format!("{auth}address_targets:\n");
    let err = load_str(&text, "a.yml", &group_names()).expect_err("empty section");
    assert!(err.to_string().contains("address_targets.allow"), "{err}");
    let text = format!("{auth}address_targets:\n  allow: [10.0.0.0/8]\n");
    let err = load_str(&text, "a.yml", &group_names()).expect_err("no auths");
    assert!(
        err.to_string()
            .contains("address_targets.auths: list at least one"),
        "{err}"
    );
}

#[test]
fn bad_port() {
    assert_error(
        "bad_port.yml",
        7,
        &["targets.core1.address: ", "port 70000 is out of range"],
    );
}

#[test]
fn bad_connectivity_port() {
    assert_error(
        "bad_connectivity_port.yml",
        12,
        &[
            "targets.core1.connectivity[1].port: ",
            "port 0 is not allowed",
        ],
    );
}

#[test]
fn empty_address() {
    assert_error(
        "empty_address.yml",
        7,
        &["targets.core1.address: ", "address is empty"],
    );
}

#[test]
fn bad_conntrack_key() {
    assert_error(
        "bad_conntrack_key.yml",
        5,
        &[
            "modules.conns.conntrack.group_by[0]: ",
            "unknown value `src_adress`, did you mean `src_address`?",
        ],
    );
}

#[test]
fn bad_clients_mode() {
    assert_error(
        "bad_clients_mode.yml",
        4,
        &[
            "modules.edge.clients: ",
            "unknown value `per-client`, did you mean `per_client`?",
        ],
    );
}

#[test]
fn bad_skip_dynamic() {
    assert_error(
        "bad_skip_dynamic.yml",
        5,
        &[
            "modules.edge.firewall.skip_dynamic: ",
            "invalid type: string \"sometimes\", expected a boolean",
        ],
    );
}

#[test]
fn unset_env_names_variable_and_line() {
    assert_error(
        "unset_env.yml",
        5,
        &["environment variable `ROUTEROS_EXPORTER_TEST_UNSET_VARIABLE` is not set"],
    );
    // The variable on line 4 is in a comment and is not expanded.
    let vars = |name: &str| {
        (name == "ROUTEROS_EXPORTER_TEST_UNSET_VARIABLE").then(|| "now-set".to_string())
    };
    let config =
        load_file_with_env(&testdata("unset_env.yml"), &group_names(), &vars).expect("loads");
    assert_eq!(config.auths["monitoring"].password.expose(), "now-set");
}

#[test]
fn missing_config_file() {
    let err = load_file(&testdata("no-such-config.yml"), &group_names()).expect_err("missing");
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(
        err.to_string()
            .contains("no-such-config.yml: cannot read config file")
    );
}

#[test]
fn good_file_loads_everything() {
    let path = testdata("good.yml");
    let config = load_file(&path, &group_names()).expect("good.yml loads");
    assert_eq!(config.source, ConfigSource::File(path.clone()));

    let g = &config.global;
    assert_eq!(g.gap_reset_threshold, Some(Duration::from_secs(120)));
    assert_eq!(g.default_timeout, Duration::from_secs(8));
    assert_eq!(g.health.stale_after, Duration::from_secs(600));
    assert_eq!(g.health.max_consecutive_errors, 5);
    assert_eq!(g.limits.max_concurrent_probes, 32);
    assert_eq!(g.limits.max_concurrent_per_target, 1);

    assert_eq!(config.auths["monitoring"].password.expose(), "from-default");
    let filed = &config.auths["filed"];
    assert_eq!(filed.password.expose(), "the-router-password");
    assert_eq!(
        filed.password_file.as_deref(),
        Some(testdata("router.secret").as_path())
    );

    let core1 = &config.targets["core1"];
    assert_eq!(core1.name, "core1");
    assert_eq!(core1.address, "192.168.88.1:8728");
    assert!(core1.tls.is_none());
    assert_eq!(core1.labels["site"], "hq");
    assert_eq!(core1.labels["rack"], "12");
    assert_eq!(core1.sessions.max, 2);
    assert_eq!(core1.sessions.idle_timeout, Duration::from_secs(60));
    assert_eq!(core1.module, None);
    assert_eq!(config.targets["edge"].module.as_deref(), Some("light"));
    assert_eq!(core1.connectivity.len(), 2);
    assert_eq!(core1.connectivity[0].name, "winbox");
    assert_eq!(core1.connectivity[0].timeout, Duration::from_secs(1));
    assert_eq!(core1.connectivity[1].port, 22);
    assert_eq!(core1.connectivity[1].timeout, Duration::from_secs(2));

    let core2 = &config.targets["core2"];
    assert_eq!(core2.address, "[2001:db8::2]:8729");
    let tls = core2.tls.as_ref().expect("tls");
    assert_eq!(
        tls.ca_file.as_deref(),
        Some(testdata("test-ca.pem").as_path())
    );
    assert_eq!(tls.server_name.as_deref(), Some("core2.example"));
    assert_eq!(config.targets["edge"].address, "edge.example:18729");
    assert!(
        config.targets["lab"]
            .tls
            .as_ref()
            .expect("tls")
            .insecure_skip_verify
    );

    let e = config.endpoint("core2").expect("endpoint");
    assert_eq!(e.username, "reader");
    assert_eq!(e.password, "the-router-password");
    assert_eq!(e.tls, core2.tls);

    let light = &config.modules["light"];
    assert_eq!(light.name, "light");
    assert_eq!(light.groups, ["system", "interface"]);
    assert_eq!(light.timeout, Some(Duration::from_secs(5)));
    assert!(light.interface.accepts("ether1", "ether", false));
    assert!(!light.interface.accepts("ether1", "ether", true));
    assert!(!light.interface.accepts("ether-test", "ether", false));
    assert!(!light.interface.accepts("bridge1", "bridge", false));
    assert_eq!(light.conntrack.top_n, 50);
    assert_eq!(light.interface.skip_dynamic, Some(false));
    assert!(!light.skips_dynamic_interfaces());
    assert!(light.firewall.skip_dynamic);
    let conns = &config.modules["conns"];
    assert_eq!(conns.interface.skip_dynamic, None);
    assert!(!conns.firewall.skip_dynamic);
    assert_eq!(conns.conntrack.group_by, [ConntrackKey::DstAddress]);
    assert_eq!(conns.conntrack.top_n, 0);
    assert_eq!(config.modules["full"].groups, group_names());
    assert_eq!(config.modules["connectivity"].groups, ["connectivity"]);

    // The /config view shows file paths but never a password.
    let json = serde_json::to_string(&config).expect("serialize");
    assert!(!json.contains("the-router-password"), "{json}");
    assert!(!json.contains("from-default"), "{json}");
    assert!(json.contains("router.secret"), "{json}");
    assert!(!format!("{config:?}").contains("the-router-password"));
}

#[test]
fn good_file_loads_address_targets() {
    let config = load_file(&testdata("good.yml"), &group_names()).expect("good.yml loads");
    let addresses = config.address_targets.as_ref().expect("address_targets");
    let allow: Vec<String> = addresses.allow.iter().map(|c| c.to_string()).collect();
    assert_eq!(allow, ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"]);
    assert_eq!(addresses.auths, ["monitoring", "filed"]);
    assert_eq!(addresses.max_targets, 100);
    assert_eq!(addresses.module.as_deref(), Some("light"));
    let tls = addresses.tls.as_ref().expect("address_targets.tls");
    assert_eq!(
        tls.ca_file.as_deref(),
        Some(testdata("test-ca.pem").as_path())
    );
}

#[test]
fn good_file_takes_password_from_env() {
    let vars = |name: &str| (name == "GOOD_TEST_PASSWORD").then(|| "env-pass".to_string());
    let config = load_file_with_env(&testdata("good.yml"), &group_names(), &vars).expect("loads");
    assert_eq!(config.auths["monitoring"].password.expose(), "env-pass");
}

#[test]
fn example_config_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.yaml");
    let text = std::fs::read_to_string(&path).expect("read config.example.yaml");
    let vars = |name: &str| (name == "ROUTER_PASSWORD").then(|| "example".to_string());
    let config = routeros_exporter::config::load_str_with_env(
        &text,
        "config.example.yaml",
        &group_names(),
        &vars,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.targets["core1"].address, "192.168.88.1:8728");
    assert_eq!(config.targets["core1"].connectivity.len(), 2);
    assert_eq!(config.targets["core1"].module.as_deref(), Some("core"));
    assert_eq!(config.targets["branch1"].address, "[2001:db8::2]:8729");
    assert!(config.targets["branch1"].tls.is_some());
    assert_eq!(config.auths["monitoring"].password.expose(), "example");
    assert_eq!(config.modules["light"].groups, ["system", "interface"]);
    assert_eq!(config.modules["light"].interface.skip_dynamic, Some(true));
    assert!(!config.modules["core"].firewall.skip_dynamic);
    assert_eq!(config.modules["connections"].conntrack.top_n, 50);
    assert_eq!(
        config.modules["connections"].clients,
        ClientSeries::Aggregate
    );
    assert_eq!(
        config.modules["subscribers"].clients,
        ClientSeries::PerClient
    );
    // The ready-made modules are there (an unknown group would not load) and
    // `full` is still every group, in registry order.
    for module in ["light", "edge", "core", "access"] {
        assert!(config.modules.contains_key(module), "no module {module}");
    }
    assert_eq!(
        config.modules["core"].groups[4..7],
        ["bgp", "ospf", "route"]
    );
    assert_eq!(config.modules["full"].groups, group_names());
    // Shipped commented out: a copy of the example must not open address
    // targets by accident.
    assert_eq!(config.address_targets, None);
}

#[test]
fn example_address_targets_load_when_uncommented() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.yaml");
    let text = std::fs::read_to_string(&path).expect("read config.example.yaml");
    let mut inside = false;
    let uncommented: Vec<&str> = text
        .lines()
        .map(|line| {
            inside = line == "# address_targets:" || (inside && line.starts_with("#   "));
            if inside { &line[2..] } else { line }
        })
        .collect();
    let vars = |name: &str| (name == "ROUTER_PASSWORD").then(|| "example".to_string());
    let config = routeros_exporter::config::load_str_with_env(
        &uncommented.join("\n"),
        "config.example.yaml",
        &group_names(),
        &vars,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let addresses = config.address_targets.expect("address_targets");
    let allow: Vec<String> = addresses.allow.iter().map(|c| c.to_string()).collect();
    assert_eq!(allow, ["10.0.0.0/8", "2001:db8::/32"]);
    assert_eq!(addresses.auths, ["monitoring"]);
    assert_eq!(addresses.max_targets, 1024);
    assert_eq!(addresses.module.as_deref(), Some("light"));
}

#[test]
fn empty_file_is_an_empty_config() {
    let config = load_str("# nothing yet\n", "empty.yml", &group_names()).expect("loads");
    assert!(config.targets.is_empty());
    assert_eq!(config.modules.len(), 2);
    let config = load_str("", "empty.yml", &group_names()).expect("loads");
    assert!(config.auths.is_empty());
}

/// `global.max_timeout` bounds every deadline, so a timeout above it is an
/// error naming both, not a limit silently lowered; `gap_reset_threshold`
/// unset means the threshold from the probes' cadence.
#[test]
fn timeouts_above_max_timeout_are_errors() {
    let load = |text: &str| load_str(text, "t.yml", &group_names());
    let config = load("global:\n  max_timeout: 30s\n").expect("loads");
    assert_eq!(config.global.max_timeout, Duration::from_secs(30));
    assert_eq!(config.global.gap_reset_threshold, None);
    let defaults = load("").expect("loads");
    assert_eq!(defaults.global.max_timeout, Duration::from_secs(120));
    for (text, path) in [
        (
            "global:\n  max_timeout: 5s\n",
            "global.default_timeout: 10s is longer than global.max_timeout (5s)",
        ),
        (
            "global:\n  max_timeout: 30s\nmodules:\n  m:\n    groups: [system]\n    timeout: 1m\n",
            "modules.m.timeout: 1m is longer than global.max_timeout (30s)",
        ),
        (
            "global:\n  max_timeout: 0s\n",
            "global.max_timeout: must be greater than 0s",
        ),
    ] {
        let e = load(text).expect_err(text).to_string();
        assert!(e.contains(path), "{e}");
    }
}

/// Loads `name` with `vars` as the environment and returns its error.
fn error_with_env(name: &str, vars: &dyn Fn(&str) -> Option<String>) -> String {
    match load_file_with_env(&testdata(name), &group_names(), vars) {
        Ok(config) => panic!("{name} loaded but should fail: {config:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn password_file_that_is_a_device() {
    assert_error(
        "password_file_device.yml",
        5,
        &[
            "auths.monitoring.password_file: ",
            "cannot read `/dev/zero`: it is a character device, not a regular file",
        ],
    );
}

#[test]
fn password_file_that_is_a_directory() {
    assert_error(
        "password_file_directory.yml",
        4,
        &[
            "auths.monitoring.password_file: ",
            "it is a directory, not a regular file",
        ],
    );
}

#[test]
fn ca_file_that_is_a_device() {
    assert_error(
        "ca_file_device.yml",
        10,
        &[
            "targets.core1.tls.ca_file: ",
            "cannot read CA file `/dev/zero`: it is a character device, not a regular file",
        ],
    );
}

#[test]
fn ca_file_without_a_certificate() {
    assert_error(
        "ca_file_not_pem.yml",
        10,
        &[
            "targets.core1.tls.ca_file: ",
            "router.secret` holds no certificate",
        ],
    );
}

/// A secret of the wrong type is an error that names the field and its line,
/// never the value; a number is a password spelled in digits.
#[test]
fn secrets_are_never_in_errors() {
    assert_error(
        "secret_not_a_string.yml",
        4,
        &["auths.monitoring.password: ", "invalid type: sequence"],
    );
    assert_error(
        "secret_next_to_bad_field.yml",
        3,
        &["auths.monitoring.usernme: ", "did you mean `username`?"],
    );
    for name in ["secret_not_a_string.yml", "secret_next_to_bad_field.yml"] {
        let message = error_of(name);
        assert!(!message.contains("123456789"), "{message}");
    }
    let config = load_str(
        "auths:\n  a:\n    username: u\n    password: 0123456789\n",
        "digits.yml",
        &group_names(),
    )
    .expect("digits load");
    assert_eq!(config.auths["a"].password.expose(), "0123456789");
}

#[test]
fn deep_flow_nesting_fails_fast() {
    assert_error(
        "deep_nesting.yml",
        9,
        &["collections nest deeper than 64 levels"],
    );
    // 200 KB of `[` once took the parser 50 s; now the scan stops at the 65th.
    let text = format!("targets: {}", "[".repeat(200_000));
    let e = load_str(&text, "deep.yml", &group_names()).expect_err("too deep");
    assert!(
        e.to_string()
            .starts_with("deep.yml: line 1 column 74: collections nest deeper than 64"),
        "{e}"
    );
}

#[test]
fn deep_block_nesting() {
    assert_error(
        "deep_block_nesting.yml",
        10,
        &[
            "targets.core1.connectivity[0][0]",
            "collections nest deeper than 64 levels",
        ],
    );
}

#[test]
fn alias_bombs() {
    // serde_yaml's own bound on alias uses stops this one; it knows no line.
    let message = error_of("billion_laughs.yml");
    assert!(
        message.ends_with(
            "billion_laughs.yml: YAML aliases (`*name`) are used too often: more \
                           than 100 times the number of values written"
        ),
        "{message}"
    );
    // The path is where the alias is; the line, what it refers to.
    assert_error(
        "alias_bomb.yml",
        5,
        &[
            "modules.m.groups[1][4094]: ",
            "more than 16 MiB of text once aliases (`*name`) are expanded",
        ],
    );
}

#[test]
fn env_expansion_is_bounded() {
    let mib = "x".repeat(1 << 20);
    let vars = |name: &str| (name == "ROUTEROS_EXPORTER_TEST_1MIB").then(|| mib.clone());
    let message = error_with_env("env_expansion_bomb.yml", &vars);
    assert!(
        message.contains(
            ": line 11 column 40: the configuration is larger than 4 MiB once \
                          `${ROUTEROS_EXPORTER_TEST_1MIB}` is expanded here"
        ),
        "{message}"
    );
    assert!(message.len() < 400, "{message}");
}

#[test]
fn bom_is_accepted() {
    let config = load_file(&testdata("bom.yml"), &group_names()).expect("bom.yml loads");
    assert_eq!(config.auths["monitoring"].username, "prometheus");
    assert_eq!(config.targets["core1"].labels["site"], "hq");
    let text = std::fs::read_to_string(testdata("bom.yml")).expect("read");
    assert!(text.starts_with('\u{feff}'));
    let config = load_str(&text, "bom.yml", &group_names()).expect("text with a BOM loads");
    assert_eq!(config.targets["core1"].labels["site"], "hq");
    // Lines are counted as written: the BOM takes no line.
    let e = load_str(
        &text.replace("site: hq", "__site: hq"),
        "bom.yml",
        &group_names(),
    )
    .expect_err("reserved label");
    assert!(e.to_string().contains("bom.yml: line 10 column 7: "), "{e}");
}

#[test]
fn not_utf8() {
    assert_error(
        "not_utf8.yml",
        4,
        &["line 4 column 18: the file is not valid UTF-8 here"],
    );
}

/// Loads `config` from a file in `dir` on its own thread and returns its
/// error; a load that blocks fails the test after 10 s instead of hanging it.
fn error_within_deadline(dir: &Path, config: &str) -> String {
    let path = dir.join("config.yml");
    std::fs::write(&path, config).expect("write config");
    error_of_path_within_deadline(&path)
}

fn error_of_path_within_deadline(path: &Path) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(load_file(&path, &group_names()).map(|_| ()));
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(())) => panic!("loaded but should fail"),
        Ok(Err(e)) => e.to_string(),
        Err(_) => panic!("loading blocked for 10 s"),
    }
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A FIFO as `password_file` once blocked `/-/reload` for good: opening it
/// waited for a writer. It is refused at once, naming file, line and field.
#[test]
fn password_file_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().expect("tempdir");
    mkfifo(&dir.path().join("pipe"));
    let message = error_within_deadline(
        dir.path(),
        "auths:\n  monitoring:\n    username: prometheus\n    password_file: pipe\n",
    );
    assert!(
        message
            .contains("config.yml: line 4 column 5: auths.monitoring.password_file: cannot read `"),
        "{message}"
    );
    assert!(
        message.ends_with("pipe`: it is a FIFO (named pipe), not a regular file"),
        "{message}"
    );
}

#[test]
fn ca_file_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().expect("tempdir");
    mkfifo(&dir.path().join("ca.pem"));
    let message = error_within_deadline(
        dir.path(),
        "auths:\n  a:\n    username: u\n    password: p\ntargets:\n  r:\n    address: x\n    \
         auth: a\n    tls:\n      ca_file: ca.pem\n",
    );
    assert!(
        message.contains("line 10 column 7: targets.r.tls.ca_file: cannot read CA file `"),
        "{message}"
    );
    assert!(message.contains("it is a FIFO"), "{message}");
}

#[test]
fn password_file_socket_and_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("sock")).expect("bind");
    let config = "auths:\n  a:\n    username: u\n    password_file: sock\n";
    let message = error_within_deadline(dir.path(), config);
    assert!(message.contains("auths.a.password_file: "), "{message}");
    assert!(
        message.ends_with("it is a socket, not a regular file"),
        "{message}"
    );

    let secret = dir.path().join("secret");
    std::fs::write(&secret, vec![b'p'; 64 << 10]).expect("write");
    let config = "auths:\n  a:\n    username: u\n    password_file: secret\n";
    std::fs::write(dir.path().join("ok.yml"), config).expect("write");
    let loaded = load_file(&dir.path().join("ok.yml"), &group_names()).expect("64 KiB loads");
    assert_eq!(loaded.auths["a"].password.expose().len(), 64 << 10);
    std::fs::write(&secret, vec![b'p'; (64 << 10) + 1]).expect("write");
    let message = error_within_deadline(dir.path(), config);
    assert!(
        message.ends_with("it is larger than 64 KiB, the limit for this file"),
        "{message}"
    );
    std::fs::write(&secret, b"caf\xe9\n").expect("write");
    let message = error_within_deadline(dir.path(), config);
    assert!(message.ends_with("it is not UTF-8 text"), "{message}");
}

/// The config file itself: only a regular file, at most 4 MiB.
#[test]
fn config_file_must_be_a_small_regular_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo.yml");
    mkfifo(&fifo);
    let message = error_of_path_within_deadline(&fifo);
    assert!(
        message.ends_with(
            "fifo.yml: cannot read config file: it is a FIFO (named pipe), not a regular file"
        ),
        "{message}"
    );
    let message = error_of_path_within_deadline(dir.path());
    assert!(message.contains("it is a directory"), "{message}");
    let message = error_of_path_within_deadline(Path::new("/dev/zero"));
    assert!(message.contains("it is a character device"), "{message}");

    let big = dir.path().join("big.yml");
    let mut text = "# padding\n".repeat((4 << 20) / 10);
    text.push_str(&" ".repeat((4 << 20) - text.len()));
    std::fs::write(&big, &text).expect("write");
    load_file(&big, &group_names()).expect("4 MiB loads");
    text.push(' ');
    std::fs::write(&big, &text).expect("write");
    let message = error_of_path_within_deadline(&big);
    assert!(
        message.ends_with(
            "big.yml: cannot read config file: it is larger than 4 MiB, the limit for this file"
        ),
        "{message}"
    );
    let e = load_str(&text, "big.yml", &group_names()).expect_err("text too large");
    assert!(
        e.to_string()
            .ends_with("larger than 4 MiB, the limit for a configuration"),
        "{e}"
    );
}
