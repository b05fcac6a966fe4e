//! `/certificate`.
//!
//! Roles by position: `*1` the local CA valid until exactly
//! `2027-01-02 12:00:00`; `*2` an expired server certificate (expired 40 days
//! before `now`, `expired=true`, no `expires-after`); `*3` an unsigned template
//! with `1970-01-01 00:00:00` dates; further ones are valid server
//! certificates expiring over the coming months. Issuers contain `=` and `,`.

use super::format::{self, DateStyle, id};
use super::synth::{hash, mix};
use super::{Menu, RouterView, SimRow, push};
use std::fmt::Write as _;
use std::sync::Arc;

/// The certificate menu.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Certificates)]
}

const CA_DN: &str = "C=US,O=Example,CN=Example CA";
const DAY: i64 = 86_400;

/// `n` hex digits (lower case) derived from `seed`.
fn hex(seed: u64, n: usize) -> String {
    let mut out = String::with_capacity(n + 16);
    let mut h = seed;
    while out.len() < n {
        h = mix(h);
        let _ = write!(out, "{h:016x}");
    }
    out.truncate(n);
    out
}

/// `/certificate`.
struct Certificates;

/// What a certificate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Ca,
    Expired,
    Template,
    Server(u64),
}

impl Role {
    /// The role of the `n`-th certificate (0-based print order).
    fn at(n: u64) -> Self {
        match n {
            0 => Role::Ca,
            1 => Role::Expired,
            2 => Role::Template,
            k => Role::Server(k - 3),
        }
    }

    /// `(name, common-name)` on router `idx`.
    fn names(self, idx: u64) -> (String, String) {
        match self {
            Role::Ca => ("local-ca".to_owned(), "Example CA".to_owned()),
            Role::Expired => ("old-vpn-server".to_owned(), "vpn.example.net".to_owned()),
            Role::Template => (
                "server-template".to_owned(),
                "server.example.net".to_owned(),
            ),
            Role::Server(k) => (
                format!("server{}", k + 1),
                format!("router{idx}-{k}.example.net"),
            ),
        }
    }

    /// `(invalid-before, invalid-after)` as Unix times, relative to `today`
    /// (midnight of the router's day) where the role is time-relative.
    fn validity(self, idx: u64, today: i64) -> (i64, i64) {
        match self {
            Role::Ca => (
                format::unix_of(2017, 1, 2, (12, 0, 0)),
                format::unix_of(2027, 1, 2, (12, 0, 0)),
            ),
            Role::Expired => {
                let after = today - 40 * DAY + 27 * 60 + 17;
                (after - 365 * DAY, after)
            }
            Role::Template => (0, 0),
            Role::Server(k) => {
                let after = today + (20 + 45 * k as i64 + (idx % 7) as i64) * DAY + 3_723;
                (after - 365 * DAY, after)
            }
        }
    }

    /// Elliptic-curve key (the expired one and every second server), else RSA.
    fn is_ec(self) -> bool {
        matches!(self, Role::Expired) || matches!(self, Role::Server(k) if k % 2 == 1)
    }
}

impl Menu for Certificates {
    fn path(&self) -> &'static str {
        "/certificate"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let today = view.now_unix - view.now_unix.rem_euclid(DAY);
        (0..view.scale.certificates as u64)
            .map(|n| certificate(view, n, today))
            .collect()
    }
}

/// The `n`-th certificate of the router in `view`.
fn certificate(view: &RouterView<'_>, n: u64, today: i64) -> SimRow {
    let idx = view.index as u64;
    let role = Role::at(n);
    let seed = hash(&[idx, n, 0xCE27]);
    let (name, cn) = role.names(idx);
    let (before, after) = role.validity(idx, today);
    let signed = role != Role::Template;
    let mut r: SimRow = Vec::with_capacity(24);
    push(&mut r, ".id", id(n + 1));
    push(&mut r, "name", name);
    push(&mut r, "common-name", cn.as_str());
    push_key(&mut r, role, &cn);
    if signed {
        push(&mut r, "issuer", CA_DN);
        push(&mut r, "serial-number", hex(seed, 16).to_uppercase());
        push(&mut r, "fingerprint", hex(seed ^ 0xF1, 64));
        push(&mut r, "akid", hex(idx ^ 0xCA, 40));
        push(&mut r, "skid", hex(seed ^ 0x5C, 40));
    }
    let style = DateStyle::of(view.personality);
    push(&mut r, "invalid-before", format::date(before, style));
    push(&mut r, "invalid-after", format::date(after, style));
    if signed {
        match u64::try_from(after - view.now_unix) {
            Ok(left) if left > 0 => push(&mut r, "expires-after", format::secs(left)),
            _ => push(&mut r, "expired", "true"),
        }
    }
    if role == Role::Ca {
        push(&mut r, "authority", "true");
    }
    push(&mut r, "private-key", if signed { "true" } else { "false" });
    push(&mut r, "crl", "false");
    push(&mut r, "smart-card-key", "false");
    if signed {
        push(&mut r, "trusted", "true");
    }
    r
}

/// Key type, size, digest, usage and (for all but the CA) the SAN.
fn push_key(r: &mut SimRow, role: Role, cn: &str) {
    let ec = role.is_ec();
    push(r, "key-type", if ec { "ec" } else { "rsa" });
    push(r, "key-size", if ec { "secp384r1" } else { "2048" });
    push(
        r,
        "days-valid",
        if role == Role::Ca { "3650" } else { "365" },
    );
    push(r, "digest-algorithm", if ec { "sha384" } else { "sha256" });
    let usage = if role == Role::Ca {
        "key-cert-sign,crl-sign"
    } else {
        "digital-signature,key-encipherment,tls-server"
    };
    push(r, "key-usage", usage);
    if role != Role::Ca {
        push(r, "subject-alt-name", format!("DNS:{cn},IP:192.168.88.1"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, NOW, get, named, text};

    #[test]
    fn v7_dates_roles_and_quirks() {
        let mut f = Fixture::v7();
        f.scale.certificates = 5;
        let rows = Certificates.rows(&f.view(0, 10));
        assert_eq!(rows.len(), 5);
        let ca = named(&rows, "local-ca");
        assert_eq!(text(ca, "invalid-after"), Some("2027-01-02 12:00:00"));
        let left = (format::unix_of(2027, 1, 2, (12, 0, 0)) - NOW) as u64;
        assert_eq!(text(ca, "expires-after"), Some(format::secs(left).as_str()));
        assert_eq!(text(ca, "issuer"), Some("C=US,O=Example,CN=Example CA"));
        let old = named(&rows, "old-vpn-server");
        assert_eq!(text(old, "expired"), Some("true"));
        assert!(get(old, "expires-after").is_none());
        assert!(text(old, "invalid-after").unwrap_or_default() < "2026-03-01");
        assert_eq!(text(old, "key-size"), Some("secp384r1"));
        let tpl = named(&rows, "server-template");
        assert_eq!(text(tpl, "invalid-before"), Some("1970-01-01 00:00:00"));
        assert_eq!(text(tpl, "invalid-after"), Some("1970-01-01 00:00:00"));
        assert!(get(tpl, "expires-after").is_none());
        assert!(get(tpl, "trusted").is_none());
        assert_eq!(text(tpl, "private-key"), Some("false"));
        let s1 = named(&rows, "server1");
        assert!(text(s1, "expires-after").is_some_and(|e| e.contains('w')));
        assert_eq!(text(s1, "fingerprint").map(str::len), Some(64));
        assert_ne!(
            get(s1, "fingerprint"),
            get(
                named(&Certificates.rows(&f.view(1, 10)), "server1"),
                "fingerprint"
            )
        );
    }

    #[test]
    fn v6_dates_are_lower_case_month() {
        let f = Fixture::v6();
        let rows = Certificates.rows(&f.view(0, 10));
        assert_eq!(rows.len(), 3);
        assert_eq!(
            text(&rows[0], "invalid-after"),
            Some("jan/02/2027 12:00:00")
        );
        assert_eq!(
            text(&rows[0], "invalid-before"),
            Some("jan/02/2017 12:00:00")
        );
        assert_eq!(
            text(&rows[2], "invalid-before"),
            Some("jan/01/1970 00:00:00")
        );
        assert_eq!(Certificates.rows(&f.view(0, 99)), rows);
    }
}
