//! `/ip/firewall/{filter,nat,mangle,raw}` and the same under `/ipv6/firewall`.
//!
//! Each table holds `scale.firewall_rules` rules cycled from a template list
//! (repeats get a ` #k` comment suffix). Deliberate quirks: the IPv4 filter
//! starts with the dynamic fasttrack dummy rule; its rules 4 and 5 (`*4`, `*5`)
//! share chain, action and comment (`drop invalid`); rule 3 has a CP1251
//! comment; rule 6 has no comment and is disabled; NAT rule 2 has `=` in its
//! comment. `/ipv6/firewall/nat` exists only on RouterOS 7.

use super::format::{boolean, cp1251, id};
use super::synth::{counter, hash, mix};
use super::{Menu, RouterView, SimRow, push};
use crate::personality::Personality;
use std::sync::Arc;

/// The firewall tables.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    let t = |path, rules, v7_only, dummy| -> Arc<dyn Menu> {
        Arc::new(Table {
            path,
            rules,
            v7_only,
            dummy,
        })
    };
    vec![
        t("/ip/firewall/filter", &V4_FILTER, false, true),
        t("/ip/firewall/nat", &V4_NAT, false, false),
        t("/ip/firewall/mangle", &V4_MANGLE, false, false),
        t("/ip/firewall/raw", &V4_RAW, false, false),
        t("/ipv6/firewall/filter", &V6_FILTER, false, false),
        t("/ipv6/firewall/nat", &V6_NAT, true, false),
        t("/ipv6/firewall/mangle", &V6_MANGLE, false, false),
        t("/ipv6/firewall/raw", &V6_RAW, false, false),
    ]
}

/// A rule comment.
#[derive(Debug, Clone, Copy)]
enum Comment {
    /// No `comment` property.
    Absent,
    /// Plain text.
    Text(&'static str),
    /// Text stored in CP1251 by WinBox (not UTF-8 on the wire).
    Cp1251(&'static str),
}

/// One rule template.
#[derive(Debug)]
struct Rule {
    chain: &'static str,
    action: &'static str,
    /// Match and action properties, only those that are set.
    props: &'static [(&'static str, &'static str)],
    comment: Comment,
    /// Rough bytes per second the rule sees.
    rate: u64,
    disabled: bool,
    /// `log=true` with this prefix.
    log: Option<&'static str>,
}

const fn rule(
    chain: &'static str,
    action: &'static str,
    props: &'static [(&'static str, &'static str)],
    comment: Comment,
    rate: u64,
) -> Rule {
    Rule {
        chain,
        action,
        props,
        comment,
        rate,
        disabled: false,
        log: None,
    }
}

use Comment::{Absent, Cp1251, Text};

const V4_FILTER: [Rule; 8] = [
    rule(
        "input",
        "accept",
        &[("connection-state", "established,related,untracked")],
        Text("defconf: accept established,related,untracked"),
        40_000,
    ),
    rule(
        "input",
        "drop",
        &[("in-interface-list", "!LAN")],
        Text("defconf: drop all not coming from LAN"),
        3_000,
    ),
    rule(
        "forward",
        "accept",
        &[
            ("protocol", "tcp"),
            ("dst-port", "80,443"),
            ("src-address-list", "LAN"),
        ],
        Cp1251("веб-доступ для квартир"),
        900_000,
    ),
    rule(
        "forward",
        "drop",
        &[("connection-state", "invalid")],
        Text("drop invalid"),
        500,
    ),
    rule(
        "forward",
        "drop",
        &[
            ("connection-state", "invalid"),
            ("in-interface-list", "!LAN"),
        ],
        Text("drop invalid"),
        300,
    ),
    Rule {
        disabled: true,
        ..rule(
            "forward",
            "accept",
            &[("protocol", "udp"), ("dst-port", "53")],
            Absent,
            0,
        )
    },
    Rule {
        log: Some("ssh-drop"),
        ..rule(
            "input",
            "drop",
            &[
                ("protocol", "tcp"),
                ("dst-port", "22"),
                ("in-interface-list", "!LAN"),
            ],
            Text("block ssh"),
            200,
        )
    },
    rule(
        "forward",
        "fasttrack-connection",
        &[
            ("connection-state", "established,related"),
            ("hw-offload", "true"),
        ],
        Text("defconf: fasttrack"),
        2_000_000,
    ),
];

const V4_NAT: [Rule; 5] = [
    rule(
        "srcnat",
        "masquerade",
        &[("out-interface-list", "WAN"), ("ipsec-policy", "out,none")],
        Text("defconf: masquerade"),
        1_200_000,
    ),
    rule(
        "dstnat",
        "dst-nat",
        &[
            ("protocol", "tcp"),
            ("dst-port", "8080"),
            ("in-interface-list", "WAN"),
            ("to-addresses", "192.168.88.10"),
            ("to-ports", "80"),
        ],
        Text("web=server:80"),
        20_000,
    ),
    rule(
        "srcnat",
        "src-nat",
        &[
            ("src-address", "10.10.0.0/16"),
            ("to-addresses", "198.51.100.2"),
        ],
        Absent,
        60_000,
    ),
    rule(
        "dstnat",
        "dst-nat",
        &[
            ("protocol", "udp"),
            ("dst-port", "51820"),
            ("to-addresses", "192.168.88.2"),
        ],
        Cp1251("проброс wg"),
        5_000,
    ),
    rule(
        "srcnat",
        "masquerade",
        &[
            ("src-address-list", "LAN"),
            ("out-interface", "all-wireless"),
        ],
        Absent,
        100,
    ),
];

const V4_MANGLE: [Rule; 5] = [
    rule("prerouting", "accept", &[], Absent, 300_000),
    rule(
        "prerouting",
        "mark-connection",
        &[
            ("connection-state", "new"),
            ("in-interface", "ether1"),
            ("new-connection-mark", "isp1"),
            ("passthrough", "true"),
        ],
        Text("mark isp1"),
        4_000,
    ),
    rule(
        "prerouting",
        "mark-routing",
        &[
            ("connection-mark", "isp1"),
            ("src-address-list", "LAN"),
            ("new-routing-mark", "to-isp1"),
            ("passthrough", "false"),
        ],
        Text("route isp1"),
        200_000,
    ),
    rule(
        "forward",
        "change-mss",
        &[
            ("protocol", "tcp"),
            ("tcp-flags", "syn"),
            ("new-mss", "clamp-to-pmtu"),
            ("passthrough", "true"),
        ],
        Text("clamp mss"),
        800,
    ),
    rule(
        "postrouting",
        "mark-packet",
        &[
            ("protocol", "udp"),
            ("dst-port", "5060"),
            ("new-packet-mark", "voip"),
            ("passthrough", "true"),
        ],
        Cp1251("телефония"),
        9_000,
    ),
];

const V4_RAW: [Rule; 4] = [
    rule(
        "prerouting",
        "drop",
        &[("src-address-list", "blacklist")],
        Text("drop blacklisted"),
        2_500,
    ),
    rule(
        "prerouting",
        "notrack",
        &[
            ("dst-address", "192.168.88.1"),
            ("protocol", "udp"),
            ("dst-port", "53"),
        ],
        Text("notrack dns"),
        3_000,
    ),
    rule(
        "prerouting",
        "drop",
        &[("src-address-list", "bogons"), ("in-interface-list", "WAN")],
        Text("defconf: drop bogon IP's"),
        700,
    ),
    rule("output", "accept", &[], Absent, 50_000),
];

const V6_FILTER: [Rule; 6] = [
    rule(
        "input",
        "accept",
        &[("connection-state", "established,related,untracked")],
        Text("defconf: accept established,related,untracked"),
        8_000,
    ),
    rule(
        "input",
        "accept",
        &[("protocol", "icmpv6")],
        Text("defconf: accept ICMPv6"),
        600,
    ),
    rule(
        "input",
        "accept",
        &[("protocol", "udp"), ("dst-port", "33434-33534")],
        Text("defconf: accept UDP traceroute"),
        20,
    ),
    rule(
        "input",
        "drop",
        &[("in-interface-list", "!LAN")],
        Text("defconf: drop everything else not coming from LAN"),
        900,
    ),
    rule(
        "forward",
        "drop",
        &[("src-address-list", "bad_ipv6")],
        Text("defconf: drop packets with bad src ipv6"),
        40,
    ),
    rule(
        "forward",
        "accept",
        &[
            ("protocol", "tcp"),
            ("dst-port", "80,443"),
            ("dst-address", "2001:db8::/32"),
        ],
        Absent,
        150_000,
    ),
];

const V6_NAT: [Rule; 2] = [
    rule(
        "srcnat",
        "masquerade",
        &[("src-address", "fd00::/8"), ("out-interface-list", "WAN")],
        Text("nat66"),
        40_000,
    ),
    rule(
        "dstnat",
        "dst-nat",
        &[
            ("protocol", "tcp"),
            ("dst-port", "443"),
            ("to-address", "fd00::10/128"),
        ],
        Absent,
        3_000,
    ),
];

const V6_MANGLE: [Rule; 2] = [
    rule(
        "forward",
        "change-mss",
        &[
            ("protocol", "tcp"),
            ("tcp-flags", "syn"),
            ("new-mss", "clamp-to-pmtu"),
            ("passthrough", "true"),
        ],
        Text("clamp mss v6"),
        300,
    ),
    rule("prerouting", "accept", &[], Absent, 60_000),
];

const V6_RAW: [Rule; 2] = [
    rule(
        "prerouting",
        "drop",
        &[("src-address-list", "bad_ipv6")],
        Text("defconf: drop bad src IPs"),
        30,
    ),
    rule("prerouting", "accept", &[], Absent, 70_000),
];

/// Comment of the dynamic fasttrack counter rule.
const DUMMY_COMMENT: &str = "special dummy rule to show fasttrack counters";

/// One firewall table.
struct Table {
    path: &'static str,
    rules: &'static [Rule],
    v7_only: bool,
    /// Starts with the dynamic fasttrack dummy rule.
    dummy: bool,
}

/// Appends the common tail of a rule row.
fn counters(r: &mut SimRow, log: Option<&str>, bytes: u64, dynamic: bool, disabled: bool) {
    push(r, "log", boolean(log.is_some()));
    push(r, "log-prefix", log.unwrap_or_default());
    push(r, "bytes", bytes.to_string());
    push(r, "packets", (bytes / 800).to_string());
    push(r, "invalid", "false");
    push(r, "dynamic", boolean(dynamic));
    push(r, "disabled", boolean(disabled));
}

impl Menu for Table {
    fn path(&self) -> &'static str {
        self.path
    }

    fn available(&self, personality: &Personality) -> bool {
        !self.v7_only || personality.is_v7()
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let n = view.scale.firewall_rules;
        let path_seed = self.path.bytes().fold(0u64, |h, b| mix(h ^ u64::from(b)));
        let table_seed = hash(&[view.index as u64, path_seed]);
        let mut out = Vec::with_capacity(n + 1);
        if self.dummy {
            let mut r: SimRow = Vec::with_capacity(12);
            push(&mut r, ".id", id(0xFFFF_FFFF));
            push(&mut r, "chain", "forward");
            push(&mut r, "action", "passthrough");
            let bytes = counter(
                3_000_000 + view.index as u64 * 100_000,
                view.uptime,
                table_seed,
            );
            counters(&mut r, None, bytes, true, false);
            push(&mut r, "comment", DUMMY_COMMENT);
            out.push(r);
        }
        for i in 0..n {
            let Some(t) = self.rules.get(i % self.rules.len().max(1)) else {
                break;
            };
            let rep = i / self.rules.len();
            let seed = hash(&[table_seed, i as u64]);
            let mut r: SimRow = Vec::with_capacity(16);
            push(&mut r, ".id", id(i as u64 + 1));
            push(&mut r, "chain", t.chain);
            push(&mut r, "action", t.action);
            for (k, v) in t.props {
                push(&mut r, k, *v);
            }
            let bytes = if t.disabled {
                0
            } else {
                counter(t.rate * (1 + seed % 4), view.uptime, seed)
            };
            counters(&mut r, t.log, bytes, false, t.disabled);
            let suffix = if rep > 0 {
                format!(" #{rep}")
            } else {
                String::new()
            };
            match t.comment {
                Absent => {}
                Text(c) => push(&mut r, "comment", format!("{c}{suffix}")),
                Cp1251(c) => push(&mut r, "comment", cp1251(&format!("{c}{suffix}"))),
            }
            out.push(r);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, get, num, text};

    fn table(path: &str) -> Arc<dyn Menu> {
        menus()
            .into_iter()
            .find(|m| m.path() == path)
            .unwrap_or_else(|| panic!("{path}"))
    }

    #[test]
    fn filter_starts_with_fasttrack_dummy_on_both_versions() {
        for f in [Fixture::v6(), Fixture::v7()] {
            let rows = table("/ip/firewall/filter").rows(&f.view(0, 600));
            assert_eq!(rows.len(), f.scale.firewall_rules + 1);
            let d = &rows[0];
            assert_eq!(text(d, "chain"), Some("forward"));
            assert_eq!(text(d, "action"), Some("passthrough"));
            assert_eq!(text(d, "dynamic"), Some("true"));
            assert_eq!(text(d, "comment"), Some(DUMMY_COMMENT));
            assert!(num(d, "bytes") > 0);
            assert!(
                rows[1..]
                    .iter()
                    .all(|r| text(r, "dynamic") == Some("false"))
            );
        }
    }

    #[test]
    fn rule_quirks() {
        let f = Fixture::v7();
        let rows = table("/ip/firewall/filter").rows(&f.view(0, 600));
        // Duplicates: same chain/action/comment.
        for k in ["chain", "action", "comment"] {
            assert_eq!(get(&rows[4], k), get(&rows[5], k), "{k}");
        }
        assert_eq!(text(&rows[4], "comment"), Some("drop invalid"));
        // CP1251 comment.
        assert!(get(&rows[3], "comment").is_some_and(|c| std::str::from_utf8(c).is_err()));
        // Match properties only when set.
        assert_eq!(text(&rows[3], "dst-port"), Some("80,443"));
        assert_eq!(text(&rows[2], "in-interface-list"), Some("!LAN"));
        assert_eq!(
            text(&rows[1], "connection-state"),
            Some("established,related,untracked")
        );
        assert!(get(&rows[1], "dst-port").is_none());
        // Absent comment, disabled, log-prefix present but empty.
        assert!(get(&rows[6], "comment").is_none());
        assert_eq!(text(&rows[6], "disabled"), Some("true"));
        assert_eq!(num(&rows[6], "bytes"), 0);
        assert_eq!(text(&rows[1], "log-prefix"), Some(""));
        let nat = table("/ip/firewall/nat").rows(&f.view(0, 600));
        assert_eq!(text(&nat[1], "comment"), Some("web=server:80"));
        assert_eq!(text(&nat[0], "src-address-list"), None);
    }

    #[test]
    fn many_rules_cycle_templates() {
        let mut f = Fixture::v7();
        f.scale.firewall_rules = 20;
        let rows = table("/ip/firewall/filter").rows(&f.view(0, 600));
        assert_eq!(rows.len(), 21);
        assert_eq!(text(&rows[20], ".id"), Some("*14"));
        assert_eq!(
            text(&rows[9], "comment"),
            Some("defconf: accept established,related,untracked #1")
        );
    }

    #[test]
    fn counters_grow_and_reset() {
        let f = Fixture::v6();
        let m = table("/ip/firewall/mangle");
        let (a, b, c) = (
            m.rows(&f.view(1, 1_000)),
            m.rows(&f.view(1, 2_000)),
            m.rows(&f.view(1, 10)),
        );
        for i in 0..a.len() {
            assert!(num(&b[i], "bytes") > num(&a[i], "bytes"));
            assert!(num(&c[i], "bytes") < num(&a[i], "bytes"));
        }
        assert_eq!(m.rows(&f.view(1, 2_000)), b);
    }

    #[test]
    fn ipv6_nat_only_on_v7() {
        let nat6 = table("/ipv6/firewall/nat");
        assert!(!nat6.available(&Personality::v6()));
        assert!(nat6.available(&Personality::v7()));
        assert!(table("/ipv6/firewall/filter").available(&Personality::v6()));
        let f = Fixture::v6();
        let rows = table("/ipv6/firewall/filter").rows(&f.view(0, 60));
        assert_eq!(rows.len(), f.scale.firewall_rules);
        assert_eq!(text(&rows[0], ".id"), Some("*1"));
    }
}
