//! What groups learn about a router once and reuse until it reboots: its
//! RouterOS version and which of several menu variants it has.
//!
//! RouterOS 6 and 7 (and the wireless packages within 7) put the same data in
//! different menus. Trying each variant on every probe would cost the router a
//! failed command per variant per scrape, so a group asks its [`Context`]
//! (`ros_version`, `present_menu`) and the answer is kept per target. The probe
//! forgets a target's facts when it sees the router reboot (uptime going
//! backwards, also across a gap between probes), or after a gap when the module
//! reads no uptime: installing or removing a package or upgrading RouterOS
//! takes a reboot. The probe that first sees the reboot may still use the old
//! answer (the groups run concurrently with the uptime read); the next one does
//! not.
//!
//! [`Context`]: super::Context

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// A RouterOS version, as `/system/resource` reports it (`7.16.2 (stable)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RosVersion {
    /// 6 or 7.
    pub major: u16,
    /// Minor version.
    pub minor: u16,
    /// Patch level; 0 when absent.
    pub patch: u16,
}

impl RosVersion {
    /// A version from its parts.
    pub const fn new(major: u16, minor: u16, patch: u16) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// Parses `7.16`, `6.49.10 (long-term)`, `7.18beta2 (testing)`: the
    /// numbers before the first character that is neither a digit nor a dot.
    pub fn parse(raw: &str) -> Option<Self> {
        let numeric = raw
            .trim()
            .split(|c: char| !c.is_ascii_digit() && c != '.')
            .next()?;
        let mut parts = numeric.split('.').filter(|p| !p.is_empty());
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        Some(Self::new(major, minor, patch))
    }

    /// RouterOS 7 or later.
    pub fn is_v7(&self) -> bool {
        self.major >= 7
    }
}

impl fmt::Display for RosVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// One remembered answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fact {
    /// The router's version.
    Version(RosVersion),
    /// Which of a list of candidate menus the router has (`None`: none).
    Menu(Option<&'static str>),
}

/// The facts known about one target (shared by its probes).
#[derive(Debug, Default)]
pub struct TargetFacts {
    known: Mutex<HashMap<String, Fact>>,
}

impl TargetFacts {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Fact>> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets everything (the router rebooted, or may have).
    pub fn forget(&self) {
        self.lock().clear();
    }

    /// How many facts are known (for tests and `debug=true`).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn get(&self, key: &str) -> Option<Fact> {
        self.lock().get(key).cloned()
    }

    pub(crate) fn remember(&self, key: String, fact: Fact) {
        self.lock().insert(key, fact);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_with_channel_and_prerelease_suffixes() {
        assert_eq!(
            RosVersion::parse("7.16.2 (stable)"),
            Some(RosVersion::new(7, 16, 2))
        );
        assert_eq!(
            RosVersion::parse("6.49.10 (long-term)"),
            Some(RosVersion::new(6, 49, 10))
        );
        assert_eq!(
            RosVersion::parse("7.18beta2 (testing)"),
            Some(RosVersion::new(7, 18, 0))
        );
        assert_eq!(RosVersion::parse("7"), Some(RosVersion::new(7, 0, 0)));
        assert_eq!(RosVersion::parse(""), None);
        assert_eq!(RosVersion::parse("stable"), None);
        assert!(RosVersion::new(7, 12, 1) < RosVersion::new(7, 13, 0));
    }

    #[test]
    fn facts_are_kept_until_forgotten() {
        let facts = TargetFacts::default();
        facts.remember("a".into(), Fact::Menu(Some("/interface/wifi")));
        facts.remember("v".into(), Fact::Version(RosVersion::new(7, 16, 0)));
        assert_eq!(facts.get("a"), Some(Fact::Menu(Some("/interface/wifi"))));
        assert_eq!(facts.len(), 2);
        facts.forget();
        assert!(facts.is_empty());
        assert_eq!(facts.get("a"), None);
    }
}
