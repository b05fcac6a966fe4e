//! Configuration errors that say where (file, line, column, field path) and what.

use crate::config::locate::{KeyPath, Location, Segment, locate, locate_duplicate};
use std::fmt;
use std::path::PathBuf;

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file itself could not be read.
    #[error("{}: cannot read config file: {source}", path.display())]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not a valid configuration (syntax, schema or semantics).
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
}

impl ConfigError {
    /// The diagnostic of an [`ConfigError::Invalid`] error.
    pub fn diagnostic(&self) -> Option<&Diagnostic> {
        match self {
            ConfigError::Invalid(d) => Some(d),
            ConfigError::Read { .. } => None,
        }
    }
}

/// One problem in a configuration text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// File name (or other origin) of the text.
    pub origin: String,
    /// Where in the text, when known.
    pub location: Option<Location>,
    /// Dotted field path such as `targets.core1.auth`; empty for the document.
    pub path: String,
    /// What is wrong, with the closest valid name when there is one.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(l) = self.location {
            write!(f, ": line {} column {}", l.line, l.column)?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl Diagnostic {
    /// A semantic error at `path`, located in `text` by indentation.
    pub(crate) fn at(origin: &str, text: &str, path: &KeyPath, message: String) -> Self {
        Diagnostic {
            origin: origin.to_string(),
            location: locate(text, path),
            path: clip_path(&path.to_string()),
            message: clip_quoted(&message),
        }
    }

    /// Converts a serde_yaml error, making its message friendlier.
    pub(crate) fn from_yaml(origin: &str, text: &str, err: &serde_yaml::Error) -> Self {
        let mut location = err.location().map(|l| Location {
            line: l.line(),
            column: l.column(),
        });
        let mut message = err.to_string();
        if let Some(l) = location {
            let suffix = format!(" at line {} column {}", l.line, l.column);
            if let Some(stripped) = message.strip_suffix(&suffix) {
                message = stripped.to_string();
            }
        }
        let mut path = String::new();
        if let Some((prefix, rest)) = message.split_once(": ")
            && !prefix.is_empty()
            && !prefix.contains([' ', '`', '"'])
        {
            path = prefix.to_string();
            message = rest.to_string();
        }

        if let Some((name, expected)) = unknown_name(&message, "unknown field `") {
            path = join(&path, &name);
            message = match closest(&name, &expected) {
                Some(best) => format!("unknown field `{name}`, did you mean `{best}`?"),
                None if expected.is_empty() => format!("unknown field `{name}`, no fields here"),
                None => format!(
                    "unknown field `{name}`, expected one of {}",
                    list(&expected)
                ),
            };
        } else if let Some((name, expected)) = unknown_name(&message, "unknown variant `") {
            message = match closest(&name, &expected) {
                Some(best) => format!("unknown value `{name}`, did you mean `{best}`?"),
                None => format!(
                    "unknown value `{name}`, expected one of {}",
                    list(&expected)
                ),
            };
        } else if let Some(key) = message
            .strip_prefix(DUPLICATE_KEY)
            .and_then(|rest| rest.strip_suffix('`'))
        {
            let key = key.to_string();
            path = join(&path, &key);
            let mut segments: Vec<Segment> = split_path(&path);
            if segments.is_empty() {
                segments.push(Segment::Key(key.clone()));
            }
            location = locate_duplicate(text, &KeyPath(segments)).or(location);
            message = format!("`{key}` is defined more than once (duplicate key)");
        } else if message == "repetition limit exceeded" {
            // serde_yaml's bound on alias uses (a "billion laughs" document).
            message = "YAML aliases (`*name`) are used too often: more than 100 times the \
                       number of values written"
                .to_string();
        } else if message.ends_with("expected a duration") {
            message.push_str(" such as `30s`, `5m` or `1h 30m`");
        }
        Diagnostic {
            origin: origin.to_string(),
            location,
            path: clip_path(&path),
            message: clip_quoted(&message),
        }
    }
}

/// How many characters of a name or value an error quotes.
const QUOTED: usize = 64;

/// `text` cut to its first [`QUOTED`] characters, marked with `…`.
fn clip(text: &str) -> String {
    match text.char_indices().nth(QUOTED) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The message with every `` `quoted` `` or `"quoted"` part cut to
/// [`QUOTED`] characters: a key or value of a megabyte (`${VAR}` can make
/// one) must not make a megabyte error.
fn clip_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    let mut rest = message;
    while let Some(open) = rest.find(['`', '"']) {
        let quote = rest[open..].chars().next().unwrap_or('`');
        out.push_str(&rest[..=open]);
        let inner = &rest[open + 1..];
        let (quoted, after) = match closing(inner, quote) {
            Some(close) => (&inner[..close], &inner[close..]),
            None => (inner, ""),
        };
        out.push_str(&clip(quoted));
        let Some(close) = after.chars().next() else {
            return out;
        };
        out.push(close);
        rest = &after[close.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// Where `quote` closes in `text`; inside `"…"` (serde's Debug form of a
/// string) a `\` escapes the next character.
fn closing(text: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quote == '"' => escaped = true,
            c if c == quote => return Some(i),
            _ => {}
        }
    }
    None
}

/// The path with every key cut to [`QUOTED`] characters.
fn clip_path(path: &str) -> String {
    if path.len() <= QUOTED {
        return path.to_string();
    }
    path.split('.').map(clip).collect::<Vec<_>>().join(".")
}

impl From<Diagnostic> for ConfigError {
    fn from(d: Diagnostic) -> Self {
        ConfigError::Invalid(Box::new(d))
    }
}

/// The message prefix used by the duplicate-key check of map fields.
pub(crate) const DUPLICATE_KEY: &str = "duplicate key `";

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// serde_yaml's path display (`a.b[0].c`) back to segments (keys with dots
/// cannot be told apart; the locator then just finds less).
fn split_path(path: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            segments.push(Segment::Key(rest[..i].to_string()));
            rest = &rest[i..];
            while let Some(end) = rest.find(']') {
                if let Ok(n) = rest[1..end].parse() {
                    segments.push(Segment::Index(n));
                }
                rest = &rest[end + 1..];
            }
        } else {
            segments.push(Segment::Key(rest.to_string()));
        }
    }
    segments
}

/// Parses serde's "unknown field `x`, expected one of `a`, `b`" family.
fn unknown_name(message: &str, prefix: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix(prefix)?;
    let (name, tail) = rest.split_once('`')?;
    let expected = tail
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((name.to_string(), expected))
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The candidate closest to `name` by edit distance, if it is close enough to
/// be a plausible typo.
///
/// Names longer than [`QUOTED`] characters get no suggestion: the edit
/// distance costs the product of the lengths, and a name of a megabyte is no
/// typo.
pub(crate) fn closest<S: AsRef<str>>(name: &str, candidates: &[S]) -> Option<String> {
    let len = name.chars().count();
    if len > QUOTED {
        return None;
    }
    let lower = name.to_lowercase();
    let limit = 2.max(len / 3);
    candidates
        .iter()
        .filter(|c| c.as_ref().len() <= 4 * QUOTED)
        .map(|c| (levenshtein(&lower, &c.as_ref().to_lowercase()), c.as_ref()))
        .filter(|(d, _)| *d <= limit && *d < name.chars().count())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

/// Edit distance (insertions, deletions, substitutions) between two strings.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

/// " Did you mean `x`?" for a name not among `candidates`, or nothing.
pub(crate) fn suggestion<S: AsRef<str>>(name: &str, candidates: &[S]) -> String {
    match closest(name, candidates) {
        Some(best) => format!(", did you mean `{best}`?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        assert_eq!(levenshtein("", ""), 0);
        assert_eq!(levenshtein("adress", "address"), 1);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("abc", ""), 3);
    }

    #[test]
    fn closest_name() {
        let fields = ["address", "auth", "tls", "labels"];
        assert_eq!(closest("adress", &fields).as_deref(), Some("address"));
        assert_eq!(closest("Labels", &fields).as_deref(), Some("labels"));
        assert_eq!(closest("tsl", &fields).as_deref(), Some("tls"));
        assert_eq!(closest("completely_else", &fields), None);
        assert_eq!(closest("x", &fields), None);
        assert_eq!(suggestion("auht", &fields), ", did you mean `auth`?");
        let long = "a".repeat(QUOTED + 1);
        assert_eq!(closest(&long, &[long.clone() + "b"]), None);
    }

    #[test]
    fn parses_unknown_field_message() {
        let (name, expected) = unknown_name(
            "unknown field `adress`, expected one of `address`, `auth`",
            "unknown field `",
        )
        .expect("parsed");
        assert_eq!(name, "adress");
        assert_eq!(expected, ["address", "auth"]);
    }

    #[test]
    fn splits_paths() {
        assert_eq!(
            split_path("targets.core1.connectivity[2]"),
            vec![
                Segment::Key("targets".into()),
                Segment::Key("core1".into()),
                Segment::Key("connectivity".into()),
                Segment::Index(2),
            ]
        );
    }

    #[test]
    fn long_names_are_clipped() {
        let long = "k".repeat(1000);
        let d = Diagnostic::at(
            "a.yml",
            "",
            &KeyPath::of(&["targets", &long]),
            format!("unknown auth `{long}` and \"{long}\" and `{long}"),
        );
        let clipped = format!("{}…", "k".repeat(QUOTED));
        assert_eq!(d.path, format!("targets.{clipped}"));
        assert_eq!(
            d.message,
            format!("unknown auth `{clipped}` and \"{clipped}\" and `{clipped}")
        );
        let short = "invalid type: string \"10 parsecs\", expected a duration";
        assert_eq!(clip_quoted(short), short);
        assert_eq!(clip_quoted("`é`"), "`é`");
        let escaped = format!("string \":-\\\"{long}\", expected");
        let e = clip_quoted(&escaped);
        assert_eq!(
            e,
            format!("string \":-\\\"{}…\", expected", "k".repeat(QUOTED - 4))
        );
    }

    #[test]
    fn display_formats() {
        let d = Diagnostic {
            origin: "a.yml".into(),
            location: Some(Location { line: 3, column: 5 }),
            path: "targets.x.auth".into(),
            message: "bad".into(),
        };
        assert_eq!(d.to_string(), "a.yml: line 3 column 5: targets.x.auth: bad");
        let d = Diagnostic {
            location: None,
            path: String::new(),
            ..d
        };
        assert_eq!(d.to_string(), "a.yml: bad");
    }
}
