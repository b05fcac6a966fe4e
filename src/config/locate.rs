//! Finds where a dotted key path (`targets` → `core1` → `auth`) sits in
//! block-style YAML text, by indentation.
//!
//! serde_yaml reports positions only for errors raised while parsing; checks done
//! afterwards (unknown auth, bad fingerprint, …) use this to point at a line. It
//! is a heuristic for the block style people write by hand: keys inside flow
//! collections (`{port: 22}`) are not seen, and the position of the deepest key
//! that *was* found is returned instead.

use std::fmt;

/// One step of a path into the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// An item of a sequence, counted from 0.
    Index(usize),
}

/// A path into the document, e.g. `targets.core1.connectivity[0].port`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Segment>);

impl KeyPath {
    /// The path with one more key.
    pub fn key(&self, key: &str) -> KeyPath {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.to_string()));
        KeyPath(segments)
    }

    /// The path with one more sequence index.
    pub fn index(&self, index: usize) -> KeyPath {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        KeyPath(segments)
    }

    /// A path of keys.
    pub fn of(keys: &[&str]) -> KeyPath {
        KeyPath(keys.iter().map(|k| Segment::Key(k.to_string())).collect())
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(k) if i == 0 => f.write_str(k)?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Line number, starting at 1.
    pub line: usize,
    /// Column number, starting at 1.
    pub column: usize,
}

/// One meaningful line: its indentation, and the key or sequence dash on it.
#[derive(Debug)]
struct Entry {
    line: usize,
    indent: usize,
    /// `- ` at `indent` (a sequence item starts here).
    dash: bool,
    /// The key on this line and its indentation (after a dash, if any).
    key: Option<(String, usize)>,
}

fn scan(text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let content = raw.trim_start_matches(' ');
        let indent = raw.len() - content.len();
        let trimmed = content.trim_end();
        if trimmed.is_empty()
            || trimmed.starts_with('#')
            || trimmed.starts_with("---")
            || trimmed.starts_with("...")
            || trimmed.starts_with('%')
        {
            continue;
        }
        let (dash, rest, key_indent) = match trimmed.strip_prefix('-') {
            Some(after) if after.is_empty() || after.starts_with(' ') => {
                let body = after.trim_start_matches(' ');
                (true, body, indent + (trimmed.len() - body.len()))
            }
            _ => (false, trimmed, indent),
        };
        let key = parse_key(rest).map(|k| (k, key_indent));
        entries.push(Entry {
            line: i + 1,
            indent,
            dash,
            key,
        });
    }
    entries
}

/// The key of `key: value` / `key:` / `"quoted key": …`, if the text starts with one.
fn parse_key(text: &str) -> Option<String> {
    let (key, after) = match text.chars().next()? {
        q @ ('"' | '\'') => {
            let end = text[1..].find(q)? + 1;
            (text[1..end].to_string(), &text[end + 1..])
        }
        '{' | '[' | '#' | '&' | '*' | '!' | '|' | '>' => return None,
        _ => {
            let mut split = None;
            for (i, _) in text.match_indices(':') {
                let next = text[i + 1..].chars().next();
                if next.is_none() || next == Some(' ') {
                    split = Some(i);
                    break;
                }
            }
            let i = split?;
            (text[..i].trim_end().to_string(), &text[i..])
        }
    };
    let after = after.trim_start_matches(' ');
    let rest = after.strip_prefix(':')?;
    (rest.is_empty() || rest.starts_with(' ')).then_some(key)
}

/// Indices (into `entries`) of the keys directly inside `range`, by key name.
fn child_keys(entries: &[Entry], range: std::ops::Range<usize>) -> Vec<(usize, &str)> {
    let Some(first) = range
        .clone()
        .find_map(|i| entries[i].key.as_ref().map(|k| k.1))
    else {
        return Vec::new();
    };
    range
        .filter_map(|i| match &entries[i].key {
            Some((k, ind)) if *ind == first => Some((i, k.as_str())),
            _ => None,
        })
        .collect()
}

/// The entries belonging to the value of the key at `at`.
fn block_of_key(entries: &[Entry], at: usize) -> std::ops::Range<usize> {
    let Some((_, indent)) = entries[at].key.as_ref() else {
        return at + 1..at + 1;
    };
    let mut end = at + 1;
    while end < entries.len() {
        let e = &entries[end];
        // A sequence may sit at the same indentation as its key ("indentless").
        if e.indent > *indent || (e.indent == *indent && e.dash) {
            end += 1;
        } else {
            break;
        }
    }
    at + 1..end
}

/// The `n`-th sequence item inside `range`, as (entry index, its range).
fn item(
    entries: &[Entry],
    range: std::ops::Range<usize>,
    n: usize,
) -> Option<(usize, std::ops::Range<usize>)> {
    let dash_indent = range.clone().find(|&i| entries[i].dash)?;
    let dash_indent = entries[dash_indent].indent;
    let starts: Vec<usize> = range
        .clone()
        .filter(|&i| entries[i].dash && entries[i].indent == dash_indent)
        .collect();
    let start = *starts.get(n)?;
    let end = starts.get(n + 1).copied().unwrap_or(range.end);
    Some((start, start..end))
}

fn position(entry: &Entry, column_indent: usize) -> Location {
    Location {
        line: entry.line,
        column: column_indent + 1,
    }
}

/// Every position of the last key of `path` (duplicates included), after
/// walking to its parent. Empty when the parent cannot be found.
fn walk(text: &str, path: &KeyPath) -> (Option<Location>, Vec<Location>) {
    let entries = scan(text);
    let mut range = 0..entries.len();
    let mut found: Option<Location> = None;
    let last = path.0.len().saturating_sub(1);
    for (depth, segment) in path.0.iter().enumerate() {
        match segment {
            Segment::Key(key) => {
                let matches: Vec<usize> = child_keys(&entries, range.clone())
                    .into_iter()
                    .filter(|(_, k)| *k == key)
                    .map(|(i, _)| i)
                    .collect();
                if depth == last {
                    let all = matches
                        .iter()
                        .filter_map(|&i| {
                            let e = &entries[i];
                            e.key.as_ref().map(|(_, ind)| position(e, *ind))
                        })
                        .collect();
                    return (found, all);
                }
                let Some(&at) = matches.first() else {
                    return (found, Vec::new());
                };
                let e = &entries[at];
                found = e.key.as_ref().map(|(_, ind)| position(e, *ind));
                range = block_of_key(&entries, at);
            }
            Segment::Index(n) => {
                let Some((at, item_range)) = item(&entries, range.clone(), *n) else {
                    return (found, Vec::new());
                };
                let e = &entries[at];
                let here = position(e, e.indent);
                if depth == last {
                    return (found, vec![here]);
                }
                found = Some(here);
                range = item_range;
            }
        }
    }
    (found, Vec::new())
}

/// Where `path` is written, or the deepest enclosing key that could be found.
pub fn locate(text: &str, path: &KeyPath) -> Option<Location> {
    let (parent, all) = walk(text, path);
    all.first().copied().or(parent)
}

/// Where the second occurrence of the last key of `path` is written (for
/// duplicate keys), else what [`locate`] finds.
pub fn locate_duplicate(text: &str, path: &KeyPath) -> Option<Location> {
    let (parent, all) = walk(text, path);
    all.get(1).or(all.first()).copied().or(parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
# comment
global:
  default_timeout: 10s
auths:
  monitoring:
    username: prometheus
    password: x
targets:
  core1:
    address: 10.0.0.1
    auth: monitoring   # trailing comment
    labels: {site: hq}
    connectivity:
      - port: 8291
        name: winbox
      - {port: 22, name: ssh}
  \"edge 2\":
    address: 10.0.0.2
    auth: monitoring
    connectivity:
    - port: 23
      name: telnet
modules:
  light:
    groups: [system]
";

    fn at(path: &KeyPath) -> Option<(usize, usize)> {
        locate(DOC, path).map(|l| (l.line, l.column))
    }

    #[test]
    fn finds_nested_keys() {
        assert_eq!(at(&KeyPath::of(&["global"])), Some((2, 1)));
        assert_eq!(at(&KeyPath::of(&["targets", "core1"])), Some((9, 3)));
        assert_eq!(
            at(&KeyPath::of(&["targets", "core1", "auth"])),
            Some((11, 5))
        );
        assert_eq!(
            at(&KeyPath::of(&["auths", "monitoring", "password"])),
            Some((7, 5))
        );
        assert_eq!(
            at(&KeyPath::of(&["modules", "light", "groups"])),
            Some((25, 5))
        );
    }

    #[test]
    fn does_not_confuse_same_key_in_other_blocks() {
        assert_eq!(
            at(&KeyPath::of(&["targets", "edge 2", "auth"])),
            Some((19, 5))
        );
        assert_eq!(
            at(&KeyPath::of(&["targets", "edge 2", "address"])),
            Some((18, 5))
        );
    }

    #[test]
    fn sequence_items() {
        let c = KeyPath::of(&["targets", "core1", "connectivity"]);
        assert_eq!(at(&c.index(0)), Some((14, 7)));
        assert_eq!(at(&c.index(0).key("port")), Some((14, 9)));
        assert_eq!(at(&c.index(0).key("name")), Some((15, 9)));
        // Flow mapping: the item line is the best we can do.
        assert_eq!(at(&c.index(1).key("port")), Some((16, 7)));
        let e = KeyPath::of(&["targets", "edge 2", "connectivity"]);
        assert_eq!(at(&e.index(0).key("name")), Some((22, 7)));
    }

    #[test]
    fn falls_back_to_deepest_found() {
        // `site` is inside a flow mapping.
        assert_eq!(
            at(&KeyPath::of(&["targets", "core1", "labels", "site"])),
            Some((12, 5))
        );
        // Missing key: point at its parent.
        assert_eq!(at(&KeyPath::of(&["targets", "core1", "tls"])), Some((9, 3)));
        assert_eq!(at(&KeyPath::of(&["nothing", "here"])), None);
    }

    #[test]
    fn duplicates() {
        let doc = "targets:\n  a:\n    address: x\n  a:\n    address: y\n";
        let path = KeyPath::of(&["targets", "a"]);
        assert_eq!(locate(doc, &path).map(|l| l.line), Some(2));
        assert_eq!(locate_duplicate(doc, &path).map(|l| l.line), Some(4));
    }

    #[test]
    fn key_parsing() {
        assert_eq!(parse_key("address: 1.2.3.4:8728"), Some("address".into()));
        assert_eq!(parse_key("url: http://x"), Some("url".into()));
        assert_eq!(parse_key("'a: b': 1"), Some("a: b".into()));
        assert_eq!(parse_key("core1:"), Some("core1".into()));
        assert_eq!(parse_key("just a scalar"), None);
        assert_eq!(parse_key("{a: 1}"), None);
        assert_eq!(parse_key("http://x"), None);
    }

    #[test]
    fn display() {
        let p = KeyPath::of(&["targets", "core1", "connectivity"])
            .index(1)
            .key("port");
        assert_eq!(p.to_string(), "targets.core1.connectivity[1].port");
    }
}
