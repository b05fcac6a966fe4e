//! `address_targets:`: probing routers by address, the snmp_exporter way
//! (`/probe?target=10.1.2.3&auth=fleet`), and the CIDR type of its allow-list.
//!
//! Off unless the section is written. What the prober does with it (the
//! allow-list check, reserved addresses, resolution, the LRU of targets) is in
//! `src/probe/address.rs`; this file only parses and validates the section.

use crate::config::de::present;
use crate::config::load::{Check, RawTls, unknown};
use crate::config::locate::KeyPath;
use crate::config::model::{Auth, Module, serialize_tls};
use routeros::tls::TlsSettings;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How many address targets are kept (state, pooled session) by default.
pub const DEFAULT_MAX_TARGETS: usize = 1024;

/// The validated `address_targets:` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressTargets {
    /// Address ranges a target may be in. IPv4 entries match IPv4 addresses
    /// (and IPv4-mapped IPv6 ones), IPv6 entries IPv6 addresses.
    pub allow: Vec<Cidr>,
    /// Names of the `auths` entries a request may name in `auth=`.
    pub auths: Vec<String>,
    /// API-SSL settings for every address target; `None` for the plain API.
    #[serde(serialize_with = "serialize_tls")]
    pub tls: Option<TlsSettings>,
    /// How many distinct address targets (address, port and auth) are kept;
    /// the least recently probed one is forgotten beyond it.
    pub max_targets: usize,
    /// The module a request without `module=` runs (`full` when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
}

/// The section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAddressTargets {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    auths: Vec<String>,
    #[serde(default, deserialize_with = "present")]
    tls: Option<RawTls>,
    #[serde(default = "default_max_targets")]
    max_targets: usize,
    module: Option<String>,
}

fn default_max_targets() -> usize {
    DEFAULT_MAX_TARGETS
}

/// Validates the section; `tls` checks its `tls:` as a target's is checked.
pub(super) fn check(
    raw: RawAddressTargets,
    auths: &BTreeMap<String, Auth>,
    modules: &BTreeMap<String, Module>,
    tls: impl FnOnce(&KeyPath, RawTls) -> Check<TlsSettings>,
) -> Check<AddressTargets> {
    let path = KeyPath::of(&["address_targets"]);
    if raw.allow.is_empty() {
        return Err((
            path.key("allow"),
            "list at least one address range, e.g. [10.0.0.0/8]: address targets \
             outside it are refused"
                .to_string(),
        ));
    }
    let allow = raw
        .allow
        .iter()
        .enumerate()
        .map(|(i, text)| Cidr::parse(text).map_err(|e| (path.key("allow").index(i), e)))
        .collect::<Check<Vec<Cidr>>>()?;
    if raw.auths.is_empty() {
        return Err((
            path.key("auths"),
            "list at least one name under `auths` that address targets may log in with".to_string(),
        ));
    }
    let names: Vec<&str> = auths.keys().map(String::as_str).collect();
    let mut seen = BTreeSet::new();
    for (i, name) in raw.auths.iter().enumerate() {
        let item = path.key("auths").index(i);
        if !auths.contains_key(name) {
            return Err((item, unknown("auth", name, &names, "defined")));
        }
        if !seen.insert(name.as_str()) {
            return Err((item, format!("auth `{name}` is listed twice")));
        }
    }
    if raw.max_targets == 0 {
        return Err((path.key("max_targets"), "must be at least 1".to_string()));
    }
    if let Some(module) = &raw.module
        && !modules.contains_key(module)
    {
        let names: Vec<&str> = modules.keys().map(String::as_str).collect();
        return Err((
            path.key("module"),
            unknown("module", module, &names, "defined"),
        ));
    }
    let tls = match raw.tls {
        Some(raw_tls) => Some(tls(&path.key("tls"), raw_tls)?),
        None => None,
    };
    Ok(AddressTargets {
        allow,
        auths: raw.auths,
        tls,
        max_targets: raw.max_targets,
        module: raw.module,
    })
}

/// An address range: a network address and a prefix length (`10.0.0.0/8`,
/// `2001:db8::/32`; a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// The IPv4 range `a.b.c.d/prefix`; `prefix` must be at most 32 and the
    /// address must have no host bits set (checked by the unit tests of the
    /// constants built with it).
    pub const fn v4(octets: [u8; 4], prefix: u8) -> Self {
        let [a, b, c, d] = octets;
        Cidr {
            network: IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
            prefix,
        }
    }

    /// The IPv6 range of `segments/prefix`, as [`Cidr::v4`].
    pub const fn v6(segments: [u16; 8], prefix: u8) -> Self {
        let [a, b, c, d, e, f, g, h] = segments;
        Cidr {
            network: IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h)),
            prefix,
        }
    }

    /// Parses `address/prefix` or a bare address. Refuses host bits (naming
    /// the network meant) and IPv4-mapped IPv6 ranges (they are written as
    /// the IPv4 range, which is what mapped addresses are checked against).
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let ip: IpAddr = address.parse().map_err(|_| {
            format!(
                "`{text}` is not an address range: write a CIDR such as 10.0.0.0/8 or \
                 2001:db8::/32"
            )
        })?;
        if let IpAddr::V6(v6) = ip
            && let Some(v4) = v6.to_ipv4_mapped()
        {
            return Err(format!(
                "`{text}` is an IPv4-mapped IPv6 range; write the IPv4 range instead \
                 (e.g. {v4}/32): ::ffff:a.b.c.d addresses are checked as a.b.c.d"
            ));
        }
        let max = max_prefix(ip);
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{text}`: the prefix length must be 0-{max}"))?,
        };
        let network = masked(ip, prefix);
        if network != ip {
            return Err(format!(
                "`{text}` has host bits set; the range is {network}/{prefix}"
            ));
        }
        Ok(Cidr { network, prefix })
    }

    /// Whether `ip` is in this range (never across address families).
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.network.is_ipv4() && masked(ip, self.prefix) == self.network
    }

    /// Whether all of `other` lies inside this range.
    pub fn covers(&self, other: &Cidr) -> bool {
        other.prefix >= self.prefix && self.contains(other.network)
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl Serialize for Cidr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

fn max_prefix(ip: IpAddr) -> u8 {
    if ip.is_ipv4() { 32 } else { 128 }
}

/// `ip` with every bit after the first `prefix` cleared.
fn masked(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    #[test]
    fn parses_ranges_and_bare_addresses() {
        let c = Cidr::parse("10.0.0.0/8").expect("v4");
        assert_eq!(c.to_string(), "10.0.0.0/8");
        assert_eq!(c, Cidr::v4([10, 0, 0, 0], 8));
        assert_eq!(
            Cidr::parse(" 2001:DB8::/32 ").expect("v6").to_string(),
            "2001:db8::/32"
        );
        assert_eq!(
            Cidr::parse("192.0.2.7").expect("bare").to_string(),
            "192.0.2.7/32"
        );
        assert_eq!(Cidr::parse("::1").expect("bare v6").to_string(), "::1/128");
        assert_eq!(Cidr::parse("0.0.0.0/0").expect("all").prefix(), 0);
        assert_eq!(Cidr::parse("::/0").expect("all v6").prefix(), 0);
    }

    #[test]
    fn refuses_bad_ranges_with_the_reason() {
        for (text, needle) in [
            ("10.0.0.0/33", "0-32"),
            ("2001:db8::/129", "0-128"),
            ("10.0.0.0/-1", "0-32"),
            ("10.0.0.0/x", "0-32"),
            ("10.1.2.3/8", "host bits set; the range is 10.0.0.0/8"),
            ("2001:db8::1/32", "the range is 2001:db8::/32"),
            ("10.0.0/8", "not an address range"),
            ("router.lan/24", "not an address range"),
            ("", "not an address range"),
            ("::ffff:10.0.0.0/104", "IPv4-mapped"),
        ] {
            let err = Cidr::parse(text).expect_err(text);
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn contains_and_covers() {
        let net = Cidr::parse("10.0.0.0/8").expect("v4");
        assert!(net.contains(ip("10.255.1.2")));
        assert!(!net.contains(ip("11.0.0.0")));
        assert!(!net.contains(ip("::ffff:10.1.2.3")), "families never mix");
        let all = Cidr::parse("0.0.0.0/0").expect("all");
        assert!(all.contains(ip("255.255.255.255")));
        assert!(!all.contains(ip("::1")));
        let v6 = Cidr::parse("2001:db8::/32").expect("v6");
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        let host = Cidr::parse("127.0.0.1").expect("host");
        assert!(net.covers(&Cidr::parse("10.1.0.0/16").expect("sub")));
        assert!(!Cidr::parse("10.1.0.0/16").expect("sub").covers(&net));
        assert!(Cidr::parse("127.0.0.0/8").expect("lo").covers(&host));
        assert!(!net.covers(&host));
        assert!(net.covers(&net));
    }
}
