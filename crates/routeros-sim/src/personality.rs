//! Which RouterOS a simulated router pretends to be.
//!
//! A personality changes reply *shapes*, not just numbers: v6 has flat health and
//! no WireGuard, 7.18+ sends `!empty`, dates switch format around 7.10, pre-6.43
//! answers `/login` with an MD5 challenge. Where the reference material marks a
//! behaviour UNVERIFIED (what 7.x answers to a bare `/login`, whether 7.18+ keeps
//! `=ret=` on an empty `=count-only=`), it is a field to switch, defaulting to
//! the shape that is hardest on a client.

use std::fmt;

/// A RouterOS version `major.minor[.patch]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// Major version (6 or 7).
    pub major: u16,
    /// Minor version.
    pub minor: u16,
    /// Patch level (0 when absent).
    pub patch: u16,
}

impl Version {
    /// Builds a version.
    pub const fn new(major: u16, minor: u16, patch: u16) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// Parses `7.16`, `6.49.10`, `7.18.2`.
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next().unwrap_or("0").parse().ok()?;
        let patch = parts.next().unwrap_or("0").parse().ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(Self::new(major, minor, patch))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.patch == 0 {
            write!(f, "{}.{}", self.major, self.minor)
        } else {
            write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
        }
    }
}

/// What a router answers to a bare `/login` (no `=name=`, no credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareLogin {
    /// `!done =ret=<32 hex>`: the MD5 challenge. Every 6.x does this (a 6.47.6
    /// trace shows it after 6.45.1 stopped accepting the answer).
    Challenge,
    /// `!trap =message=invalid user name or password (6)` then `!done`.
    Trap,
    /// `!fatal` with a bare reason, then close.
    Fatal,
}

/// The behaviour switches derived from a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Personality {
    /// The version reported in `/system/resource`.
    pub version: Version,
    /// The answer to a bare `/login`: the challenge on 6.x; on 7.x unverified,
    /// [`BareLogin::Trap`] by default.
    pub bare_login: BareLogin,
    /// `=count-only=` with nothing to count answers `!empty` and a `!done`
    /// without `=ret=` instead of `!done =ret=0`. Unverified; on by default
    /// from 7.18 (the first version with `!empty`).
    pub empty_count_without_ret: bool,
}

impl Personality {
    /// The default RouterOS 7 personality (7.16: plain login, no `!empty`).
    pub fn v7() -> Self {
        Self::for_version(Version::new(7, 16, 0))
    }

    /// The default RouterOS 6 personality (6.49.10).
    pub fn v6() -> Self {
        Self::for_version(Version::new(6, 49, 10))
    }

    /// A personality for an explicit version, with the defaults of that
    /// version for the unverified switches.
    pub fn for_version(version: Version) -> Self {
        let v7 = version.major >= 7;
        Self {
            version,
            bare_login: if v7 {
                BareLogin::Trap
            } else {
                BareLogin::Challenge
            },
            empty_count_without_ret: version >= Version::new(7, 18, 0),
        }
    }

    /// RouterOS 7 or later.
    pub fn is_v7(&self) -> bool {
        self.version.major >= 7
    }

    /// Before 6.43 `/login` answers with an MD5 challenge (`!done =ret=`).
    pub fn legacy_login(&self) -> bool {
        self.version < Version::new(6, 43, 0)
    }

    /// Whether a challenge response still logs in: up to 6.45 (6.45.1 removed
    /// the old method, though a bare `/login` still gets a challenge).
    pub fn accepts_challenge_response(&self) -> bool {
        self.version < Version::new(6, 45, 1)
    }

    /// 7.18+ sends `!empty` before `!done` when a command has no data.
    pub fn sends_empty(&self) -> bool {
        self.version >= Version::new(7, 18, 0)
    }

    /// From ~7.10 dates are `yyyy-mm-dd HH:MM:SS`; before, `mmm/dd/yyyy HH:MM:SS`.
    pub fn iso_dates(&self) -> bool {
        self.version >= Version::new(7, 10, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        assert_eq!(Version::parse("7.18.2"), Some(Version::new(7, 18, 2)));
        assert_eq!(Version::parse("6.42"), Some(Version::new(6, 42, 0)));
        assert_eq!(Version::parse("x"), None);
        assert!(Version::new(6, 49, 10) < Version::new(7, 1, 0));
        assert_eq!(Version::new(7, 16, 0).to_string(), "7.16");
    }

    #[test]
    fn switches_follow_the_version() {
        assert!(Personality::for_version(Version::new(6, 42, 0)).legacy_login());
        assert!(!Personality::v6().legacy_login());
        assert!(!Personality::v7().sends_empty());
        assert!(Personality::for_version(Version::new(7, 18, 0)).sends_empty());
        assert!(!Personality::v6().iso_dates());
        assert!(Personality::v7().iso_dates());
        assert_eq!(Personality::v6().bare_login, BareLogin::Challenge);
        assert_eq!(Personality::v7().bare_login, BareLogin::Trap);
        assert!(!Personality::v7().empty_count_without_ret);
        assert!(Personality::for_version(Version::new(7, 18, 0)).empty_count_without_ret);
        assert!(Personality::for_version(Version::new(6, 44, 0)).accepts_challenge_response());
        assert!(!Personality::v6().accepts_challenge_response());
    }
}
