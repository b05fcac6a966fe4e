//! Glob patterns for interface names and types: `*` matches any run of
//! characters (including none), `?` matches exactly one character, everything
//! else matches itself. Matching is case-sensitive, like RouterOS names, and
//! done by the `wildmatch` crate; this type adds the pattern as written, for
//! `/config` and error messages.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use wildmatch::WildMatch;

/// A compiled glob pattern (`ether*`, `sfp?`, `*test*`).
#[derive(Clone)]
pub struct Glob {
    pattern: String,
    matcher: WildMatch,
}

impl Glob {
    /// Builds a glob from its pattern text.
    pub fn new(pattern: &str) -> Self {
        Glob {
            pattern: pattern.to_string(),
            matcher: WildMatch::new(pattern),
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        self.matcher.matches(text)
    }
}

impl PartialEq for Glob {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
    }
}

impl Eq for Glob {}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Glob({:?})", self.pattern)
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pattern)
    }
}

impl Serialize for Glob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.pattern)
    }
}

impl<'de> Deserialize<'de> for Glob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pattern = String::deserialize(deserializer)?;
        Ok(Glob::new(&pattern))
    }
}

/// Whether any of `globs` matches `text`.
pub fn any_matches(globs: &[Glob], text: &str) -> bool {
    globs.iter().any(|g| g.matches(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        Glob::new(pattern).matches(text)
    }

    #[test]
    fn literal() {
        assert!(m("ether1", "ether1"));
        assert!(!m("ether1", "ether10"));
        assert!(!m("ether1", "ether"));
        assert!(m("", ""));
        assert!(!m("", "x"));
    }

    #[test]
    fn star() {
        assert!(m("ether*", "ether"));
        assert!(m("ether*", "ether1"));
        assert!(m("ether*", "ether10-uplink"));
        assert!(!m("ether*", "sfp1"));
        assert!(m("*test*", "test"));
        assert!(m("*test*", "my-test-port"));
        assert!(!m("*test*", "tes"));
        assert!(m("*", ""));
        assert!(m("**", "anything"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(m("a*b*c", "abcbc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("*.100", "vlan.100"));
        assert!(!m("*.100", "vlan.1000"));
    }

    #[test]
    fn question_mark() {
        assert!(m("sfp?", "sfp1"));
        assert!(!m("sfp?", "sfp"));
        assert!(!m("sfp?", "sfp10"));
        assert!(m("sfp??", "sfp10"));
        assert!(m("?*", "x"));
        assert!(!m("?*", ""));
    }

    #[test]
    fn unicode_and_case() {
        assert!(m("wlan-?", "wlan-ü"));
        assert!(!m("Ether*", "ether1"));
    }

    #[test]
    fn serde_round_trip() {
        let g: Glob = serde_yaml::from_str("\"sfp*\"").expect("parse glob");
        assert_eq!(g.as_str(), "sfp*");
        assert_eq!(serde_json::to_string(&g).expect("serialize"), "\"sfp*\"");
        assert!(any_matches(&[Glob::new("x"), g], "sfp-sfpplus1"));
    }
}
