//! Property tests of the configuration loader against hostile input: it never
//! panics, every rejection is an error naming the file (and, where there is
//! one, a line and column), no error grows with the input or shows a secret.
//!
//! Inputs: arbitrary bytes, YAML token soup, mutations of a valid file, deep
//! nesting, anchor/alias graphs, `${VAR}` edge cases, and secret fields of
//! every YAML and JSON type. The exact depth boundaries of the two depth
//! checks are property-tested beside them (`src/config/limits.rs`).

use proptest::prelude::*;
use routeros_exporter::collect::group_names;
use routeros_exporter::config::{
    ConfigError, ROUTERS_CONFIG, from_env, load_file, load_str_with_env,
};

const ORIGIN: &str = "fuzz.yml";
/// Digits that must never appear in an error when they are a password.
const CANARY: &str = "987654321";

/// A valid file that the mutation strategies break.
const TEMPLATE: &str = "\
global:
  default_timeout: 10s
  limits: {max_concurrent_probes: 8}
auths:
  main: &auth
    username: prometheus
    password: \"${PASS:-x}\"
targets:
  core1:
    address: 192.168.88.1
    auth: main
    labels: {site: hq, rack: \"12\"}
    connectivity:
      - {port: 22, name: ssh}
    tls:
      insecure_skip_verify: true
modules:
  light:
    groups: [system, interface]
    timeout: 5s
";

fn vars(name: &str) -> Option<String> {
    match name {
        "X" => Some("x".to_string()),
        "EMPTY" => Some(String::new()),
        "YAML" => Some("a\nb: [\"".to_string()),
        "BIG" => Some("m".repeat(256 << 10)),
        "PASS" => Some(CANARY.to_string()),
        _ => None,
    }
}

/// Loads `text`; an error must name the file first and say something.
fn load(text: &str) -> Result<(), String> {
    match load_str_with_env(text, ORIGIN, &group_names(), &vars) {
        Ok(_) => Ok(()),
        Err(e) => {
            check_error(&e, ORIGIN)?;
            Err(e.to_string())
        }
    }
}

fn check_error(e: &ConfigError, origin: &str) -> Result<(), String> {
    let text = e.to_string();
    if !text.starts_with(&format!("{origin}: ")) || text.len() <= origin.len() + 2 {
        return Err(format!("error without the file or a message: {text:?}"));
    }
    if let Some(d) = e.diagnostic() {
        if d.message.trim().is_empty() {
            return Err(format!("empty message: {text:?}"));
        }
        if let Some(l) = d.location
            && (l.line == 0 || l.column == 0)
        {
            return Err(format!("location not 1-based: {text:?}"));
        }
    }
    // Messages quote names and paths, never a large part of the input.
    if text.len() > 2_000 {
        return Err(format!("error of {} bytes", text.len()));
    }
    Ok(())
}

/// Runs `load` and turns a broken error into a test failure (a panic in the
/// loader fails the case by itself).
fn loads_or_fails_clearly(text: &str) -> Result<(), TestCaseError> {
    match load(text) {
        Ok(()) => Ok(()),
        Err(e) if e.starts_with(ORIGIN) => Ok(()),
        Err(e) => Err(TestCaseError::fail(e)),
    }
}

/// Pieces of YAML syntax, of `${VAR}` and of the schema, to glue at random.
fn token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "[",
        "]",
        "{",
        "}",
        ", ",
        ": ",
        ":",
        "- ",
        "? ",
        "\n",
        "\n  ",
        "\n    ",
        " ",
        "\t",
        "&a ",
        "*a",
        "&b ",
        "*b",
        "!t ",
        "!<x> ",
        "!!str ",
        "| \n",
        ">-\n",
        "\"",
        "'",
        "\\",
        "# c\n",
        "---\n",
        "...\n",
        "%YAML 1.2\n",
        "${X}",
        "${BIG}",
        "${YAML}",
        "${",
        "$${",
        "}",
        ":-",
        "${EMPTY:-d}",
        "${UNSET}",
        "${1}",
        "${}",
        "global",
        "auths",
        "targets",
        "modules",
        "username",
        "password",
        "password_file",
        "address",
        "auth",
        "tls",
        "ca_file",
        "labels",
        "groups",
        "system",
        "10s",
        "0",
        "-1",
        "1e309",
        "~",
        "null",
        "true",
        "\u{feff}",
        "é",
        "\u{0}",
        "\r\n",
    ])
}

/// A mutation of [`TEMPLATE`].
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, String),
    Delete(usize, usize),
    DuplicateLine(usize),
    Indent(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let n = TEMPLATE.len();
    let tokens = prop::collection::vec(token(), 1..4).prop_map(|t| t.concat());
    prop_oneof![
        (0..n, tokens).prop_map(|(at, s)| Edit::Insert(at, s)),
        (0..n, 1..20usize).prop_map(|(at, len)| Edit::Delete(at, len)),
        (0..25usize).prop_map(Edit::DuplicateLine),
        (0..25usize, 1..4usize).prop_map(|(line, by)| Edit::Indent(line, by)),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let boundary = |mut at: usize| {
        at = at.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    match edit {
        Edit::Insert(at, s) => {
            let at = boundary(*at);
            return format!("{}{s}{}", &text[..at], &text[at..]);
        }
        Edit::Delete(at, len) => {
            let (a, b) = (boundary(*at), boundary(at + len));
            return format!("{}{}", &text[..a], &text[b..]);
        }
        Edit::DuplicateLine(i) => {
            let i = i % lines.len();
            lines.insert(i, lines[i].clone());
        }
        Edit::Indent(i, by) => {
            let i = i % lines.len();
            lines[i] = format!("{}{}", " ".repeat(*by), lines[i]);
        }
    }
    lines.join("\n") + "\n"
}

/// A YAML value of any type that holds [`CANARY`] somewhere.
fn secret_value() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        format!("{CANARY}"),
        format!("-{CANARY}.5"),
        format!("0x{CANARY}"),
        format!("[{CANARY}]"),
        format!("[a, [{CANARY}]]"),
        format!("{{x: {CANARY}}}"),
        format!("{{{CANARY}: x}}"),
        format!("\n      - {CANARY}"),
        format!("\n      k: {CANARY}"),
        format!("!tag {CANARY}"),
        format!("!tag [{CANARY}]"),
        format!("&s [{CANARY}]"),
        format!("&s {CANARY}"),
        format!("*{CANARY}"),
        format!("\"{CANARY}"),
        format!("'{CANARY}"),
        format!("|\n  {CANARY}"),
        format!("{CANARY}: x"),
        format!("[{CANARY}"),
        format!("{{{CANARY}"),
        format!("${{{CANARY}}}"),
        format!("${{X:-{CANARY}}} ${{"),
        format!("x${{{CANARY} }}"),
        format!("!!binary {CANARY}"),
        format!("!!int {CANARY}"),
    ])
}

/// A JSON value for `password` or `username` in `ROUTERS_CONFIG`.
fn json_secret() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        format!("{CANARY}"),
        format!("-{CANARY}"),
        format!("{CANARY}.25"),
        format!("{CANARY}e3"),
        format!("{CANARY}{CANARY}{CANARY}{CANARY}"),
        format!("[{CANARY}]"),
        format!("{{\"{CANARY}\": {CANARY}}}"),
        format!("\"{CANARY}"),
        format!("\"\\u{CANARY}\""),
        format!("{CANARY}]"),
        "true".to_string(),
        "null".to_string(),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(ORIGIN);
        std::fs::write(&path, &bytes).expect("write");
        if let Err(e) = load_file(&path, &group_names()) {
            let origin = path.display().to_string();
            check_error(&e, &origin).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn token_soup(tokens in prop::collection::vec(token(), 0..64)) {
        loads_or_fails_clearly(&tokens.concat())?;
    }

    #[test]
    fn mutated_valid_file(edits in prop::collection::vec(edit(), 1..4)) {
        let text = edits.iter().fold(TEMPLATE.to_string(), |t, e| apply(&t, e));
        loads_or_fails_clearly(&text)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Openers of every kind, nested up to 3 times the limit, closed or not.
    #[test]
    fn deep_nesting(
        openers in prop::collection::vec(
            prop::sample::select(vec!["[", "{a: ", "[- ", "- ", "\n  a: ", "&x [", "!t {b: "]),
            0..200,
        ),
        close in any::<bool>(),
    ) {
        let mut text = format!("targets:\n  t:\n    labels: {}", openers.concat());
        if close {
            text.push('x');
            for o in openers.iter().rev() {
                text.push_str(if o.contains('{') { "}" } else if o.contains('[') { "]" } else { "" });
            }
        }
        let flow = openers.iter().filter(|o| o.contains(['[', '{'])).count();
        match load(&text) {
            Err(e) if flow > 64 && openers.iter().all(|o| o.contains(['[', '{'])) => {
                prop_assert!(e.contains("nest deeper than 64 levels"), "{}", e);
            }
            Err(e) => prop_assert!(e.starts_with(ORIGIN), "{}", e),
            Ok(()) => {}
        }
    }

    /// Anchors that refer to earlier anchors, each used many times.
    #[test]
    fn anchors_and_aliases(
        fan_out in prop::collection::vec(1..7usize, 1..6),
        base in 0..20usize,
        place in prop::sample::select(vec!["groups", "labels", "top"]),
    ) {
        let mut text = format!("a0: &a0 [{}]\n", vec!["s"; base.max(1)].join(", "));
        for (k, n) in fan_out.iter().enumerate() {
            let refs = vec![format!("*a{k}"); *n].join(", ");
            text.push_str(&format!("a{}: &a{} [{refs}]\n", k + 1, k + 1));
        }
        let last = fan_out.len();
        text = match place {
            "groups" => format!("modules:\n  m:\n    groups: *a{last}\n{text}"),
            "labels" => format!("targets:\n  t:\n    labels: *a{last}\n{text}"),
            _ => text,
        };
        loads_or_fails_clearly(&text)?;
    }

    #[test]
    fn env_references(
        pieces in prop::collection::vec(
            prop::sample::select(vec![
                "${", "}", "$${", "$", "{", ":-", "X", "BIG", "YAML", "EMPTY", "UNSET", "_",
                "1", "a", " ", "\n", "#", "\"", "'", "a: ", "- ", "${X}", "${BIG}",
                "${BIG:-d}", "${UNSET:-${X}}", "${ ${X} }",
            ]),
            0..40,
        ),
    ) {
        let text = format!("auths:\n  a:\n    username: u\n    password: {}\n", pieces.concat());
        loads_or_fails_clearly(&text)?;
    }

    /// A password of any YAML type is loaded as text or refused; the error
    /// never holds its digits.
    #[test]
    fn secret_of_any_yaml_type(value in secret_value(), bad_neighbour in any::<bool>()) {
        let username = if bad_neighbour { "usernme" } else { "username" };
        let text = format!("auths:\n  a:\n    {username}: u\n    password: {value}\n");
        if let Err(e) = load(&text) {
            prop_assert!(e.starts_with(ORIGIN), "{}", e);
            prop_assert!(!e.contains(CANARY), "{}", e);
        }
    }

    #[test]
    fn secret_of_any_json_type(value in json_secret(), field in prop::sample::select(vec!["password", "username"])) {
        let json = format!(r#"[{{"name":"r","address":"10.0.0.1","{field}":{value}}}]"#);
        let (_, warnings) = from_env(&|n: &str| (n == ROUTERS_CONFIG).then(|| json.clone()), &group_names());
        for w in warnings {
            prop_assert!(!w.to_string().contains(CANARY), "{}", w);
        }
    }
}

/// The template itself loads, so the mutations start from a valid file.
#[test]
fn template_loads() {
    load(TEMPLATE).expect("the template is valid");
}
