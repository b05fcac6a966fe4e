//! `/ip/route` and `/ipv6/route`: `scale.routes` and `scale.routes_v6` routes
//! whose protocol is a function of their place in the table.
//!
//! In table order: 2–4 connected routes (by router index), 3 static ones, five
//! OSPF routes per OSPF neighbour, one RIP route, and the rest BGP on a router
//! with BGP sessions (static otherwise). Every tenth BGP or static route and
//! every fifth OSPF route is inactive (a backup path); connected and RIP
//! routes are all active. Every route but the static ones is `dynamic`.
//!
//! `=count-only=` with a query of `?<flag>=true|yes|false|no` words on
//! `connect`, `static`, `bgp`, `ospf`, `rip`, `dynamic` and `active` (ANDed,
//! as RouterOS does) is answered arithmetically, so a table of millions of
//! routes is never rendered for a count; any other count renders the rows.
//! A `print` renders at most [`ROWS_RENDERED`] routes (the first ones): no
//! exporter group prints these tables, and the simulator would otherwise hold
//! gigabytes for a full BGP table.

use super::format::{boolean, id};
use super::{Menu, RouterView, Scale, SimRow, push};
use crate::query::{Query, QueryWord};
use std::ops::Range;
use std::sync::Arc;

/// The route menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![
        Arc::new(Routes { ipv6: false }),
        Arc::new(Routes { ipv6: true }),
    ]
}

/// The most routes a `print` renders.
pub const ROWS_RENDERED: usize = 100_000;

/// Where a route comes from: exactly one of these flags is true on a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Connect,
    Static,
    Ospf,
    Rip,
    Bgp,
}

impl Protocol {
    const ALL: [Protocol; 5] = [
        Protocol::Connect,
        Protocol::Static,
        Protocol::Ospf,
        Protocol::Rip,
        Protocol::Bgp,
    ];

    /// The route's flag property.
    fn flag(self) -> &'static str {
        match self {
            Protocol::Connect => "connect",
            Protocol::Static => "static",
            Protocol::Ospf => "ospf",
            Protocol::Rip => "rip",
            Protocol::Bgp => "bgp",
        }
    }

    /// Routes of the protocol are inactive every this many (0: never).
    fn inactive_every(self) -> usize {
        match self {
            Protocol::Connect | Protocol::Rip => 0,
            Protocol::Static | Protocol::Bgp => 10,
            Protocol::Ospf => 5,
        }
    }
}

/// A run of routes of one protocol, by table index.
#[derive(Debug, Clone)]
struct Segment {
    protocol: Protocol,
    range: Range<usize>,
}

impl Segment {
    /// Whether the route `k`-th in this segment is active.
    fn active(&self, k: usize) -> bool {
        let every = self.protocol.inactive_every();
        every == 0 || k % every != every - 1
    }

    /// Active routes in the segment.
    fn active_count(&self) -> usize {
        let len = self.range.len();
        match self.protocol.inactive_every() {
            0 => len,
            every => len - len / every,
        }
    }
}

/// The protocol runs of a table of `n` routes, in table order.
fn segments(n: usize, scale: &Scale, index: usize) -> Vec<Segment> {
    let bulk = if scale.bgp_sessions > 0 {
        Protocol::Bgp
    } else {
        Protocol::Static
    };
    let sizes = [
        (Protocol::Connect, 2 + index % 3),
        (Protocol::Static, 3),
        (Protocol::Ospf, 5 * scale.ospf_neighbors),
        (Protocol::Rip, 1),
        (bulk, usize::MAX),
    ];
    let mut start = 0;
    let mut out = Vec::with_capacity(sizes.len());
    for (protocol, size) in sizes {
        let end = start + size.min(n - start);
        if end > start {
            out.push(Segment {
                protocol,
                range: start..end,
            });
        }
        start = end;
    }
    out
}

/// What a count query asks of a route, when it is only flag comparisons.
#[derive(Debug, Default)]
struct FlagQuery {
    /// Required values of the protocol flags and `dynamic`.
    flags: Vec<(&'static str, bool)>,
    /// Required value of `active`.
    active: Option<bool>,
    /// Two words asked for opposite values: nothing matches.
    contradictory: bool,
}

impl FlagQuery {
    /// Parses `query`, or `None` when a word is anything but a flag
    /// compared with a boolean.
    fn parse(query: &Query) -> Option<Self> {
        const FLAGS: [&str; 6] = ["connect", "static", "ospf", "rip", "bgp", "dynamic"];
        let mut out = FlagQuery::default();
        for word in query.words() {
            let QueryWord::Equals(key, value) = word else {
                return None;
            };
            let value = match value.as_slice() {
                b"true" | b"yes" => true,
                b"false" | b"no" => false,
                _ => return None,
            };
            if key == b"active" {
                out.contradictory |= out.active.is_some_and(|a| a != value);
                out.active = Some(value);
            } else {
                let flag = FLAGS.into_iter().find(|f| f.as_bytes() == key)?;
                out.flags.push((flag, value));
            }
        }
        Some(out)
    }

    /// Routes of `segment` that match.
    fn count(&self, segment: &Segment) -> usize {
        let flag_of = |flag: &str| match flag {
            "dynamic" => segment.protocol != Protocol::Static,
            _ => segment.protocol.flag() == flag,
        };
        if self.contradictory || self.flags.iter().any(|&(f, v)| flag_of(f) != v) {
            return 0;
        }
        match self.active {
            None => segment.range.len(),
            Some(true) => segment.active_count(),
            Some(false) => segment.range.len() - segment.active_count(),
        }
    }
}

/// `/ip/route` or `/ipv6/route`.
struct Routes {
    ipv6: bool,
}

impl Routes {
    fn size(&self, scale: &Scale) -> usize {
        if self.ipv6 {
            scale.routes_v6
        } else {
            scale.routes
        }
    }

    /// The destination of route `i` (unique up to 2^24 routes).
    fn destination(&self, i: usize) -> String {
        let n = i as u32;
        if self.ipv6 {
            format!("2001:db8:{:x}:{:x}::/64", n >> 16, n & 0xFFFF)
        } else {
            let [_, a, b, c] = n.to_be_bytes();
            format!("{}.{b}.{c}.0/24", a.wrapping_add(1))
        }
    }

    fn row(&self, view: &RouterView<'_>, i: usize, segment: &Segment) -> SimRow {
        let k = i - segment.range.start;
        let protocol = segment.protocol;
        let active = segment.active(k);
        let mut r: SimRow = Vec::with_capacity(16);
        push(&mut r, ".id", id(i as u64 + 1));
        push(&mut r, "dst-address", self.destination(i));
        let gateway = match (protocol, self.ipv6) {
            (Protocol::Connect, _) => format!("ether{}", k + 1),
            (_, false) => format!("192.0.2.{}", k % 250 + 1),
            (_, true) => format!("fe80::{:x}%ether1", k % 250 + 1),
        };
        push(&mut r, "gateway", gateway);
        let distance = match protocol {
            Protocol::Connect => 0,
            Protocol::Static => 1,
            Protocol::Ospf => 110,
            Protocol::Rip => 120,
            Protocol::Bgp => 20,
        };
        push(&mut r, "distance", distance.to_string());
        if view.personality.is_v7() {
            push(&mut r, "routing-table", "main");
            push(&mut r, "inactive", boolean(!active));
            push(&mut r, "disabled", "false");
        }
        push(&mut r, "active", boolean(active));
        push(&mut r, "dynamic", boolean(protocol != Protocol::Static));
        for p in Protocol::ALL {
            push(&mut r, p.flag(), boolean(p == protocol));
        }
        r
    }
}

impl Menu for Routes {
    fn path(&self) -> &'static str {
        if self.ipv6 {
            "/ipv6/route"
        } else {
            "/ip/route"
        }
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let n = self.size(view.scale);
        let shown = n.min(ROWS_RENDERED);
        let mut rows = Vec::with_capacity(shown);
        for segment in segments(n, view.scale, view.index) {
            for i in segment.range.start..segment.range.end.min(shown) {
                rows.push(self.row(view, i, &segment));
            }
        }
        rows
    }

    fn count(&self, view: &RouterView<'_>, query: &Query) -> Option<usize> {
        let query = FlagQuery::parse(query)?;
        let n = self.size(view.scale);
        let segments = segments(n, view.scale, view.index);
        Some(segments.iter().map(|s| query.count(s)).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, text};

    fn query(words: &[&str]) -> Query {
        Query::parse(words.iter().map(|w| w.as_bytes())).expect("query")
    }

    /// Every count the `route` group sends, on both menus.
    fn group_queries() -> Vec<Vec<&'static str>> {
        let mut out = vec![vec![], vec!["?active=true"]];
        for flag in ["?connect=true", "?static=true", "?ospf=true", "?rip=true"] {
            out.push(vec![flag]);
            out.push(vec![flag, "?active=true"]);
        }
        for flag in ["?bgp=yes", "?dynamic=true", "?dynamic=no", "?bgp=false"] {
            out.push(vec![flag]);
            out.push(vec![flag, "?active=true"]);
            out.push(vec![flag, "?active=false"]);
        }
        out
    }

    #[test]
    fn counts_agree_with_the_rendered_rows() {
        for mut f in [Fixture::v6(), Fixture::v7()] {
            f.scale.routes = 1_234;
            f.scale.routes_v6 = 77;
            for index in 0..3 {
                let view = f.view(index, 100);
                for menu in menus() {
                    let rows = menu.rows(&view);
                    for words in group_queries() {
                        // The rows hold `true`/`false`: compare with those words.
                        let rendered: Vec<String> = words
                            .iter()
                            .map(|w| w.replace("=yes", "=true").replace("=no", "=false"))
                            .collect();
                        let rendered: Vec<&str> = rendered.iter().map(String::as_str).collect();
                        let expected = rows.iter().filter(|r| query(&rendered).matches(r)).count();
                        let counted = menu.count(&view, &query(&words));
                        assert_eq!(counted, Some(expected), "{} {words:?}", menu.path());
                    }
                }
            }
        }
    }

    #[test]
    fn a_full_table_is_counted_not_rendered() {
        let mut f = Fixture::v7();
        f.scale.routes = 1_000_000;
        f.scale.bgp_sessions = 2;
        f.scale.ospf_neighbors = 2;
        let view = f.view(0, 100);
        let menu = &menus()[0];
        let count = |words: &[&str]| menu.count(&view, &query(words));
        assert_eq!(count(&[]), Some(1_000_000));
        assert_eq!(count(&["?connect=true"]), Some(2));
        assert_eq!(count(&["?static=true"]), Some(3));
        assert_eq!(count(&["?ospf=true"]), Some(10));
        assert_eq!(count(&["?rip=true"]), Some(1));
        let bgp = 1_000_000 - 16;
        assert_eq!(count(&["?bgp=true"]), Some(bgp));
        assert_eq!(count(&["?bgp=true", "?active=true"]), Some(bgp - bgp / 10));
        assert_eq!(count(&["?active=true", "?active=false"]), Some(0));
        assert_eq!(count(&["?dynamic=true"]), Some(1_000_000 - 3));
        assert_eq!(count(&["?dst-address=10.0.0.0/8"]), None, "not a flag");
        assert_eq!(count(&["?bgp"]), None, "not a comparison");
        assert_eq!(menu.rows(&view).len(), ROWS_RENDERED);
    }

    #[test]
    fn a_router_without_bgp_has_static_routes_and_v7_shapes() {
        let mut f = Fixture::v7();
        f.scale.routes = 20;
        f.scale.bgp_sessions = 0;
        f.scale.ospf_neighbors = 0;
        let rows = menus()[0].rows(&f.view(1, 100));
        assert_eq!(rows.len(), 20);
        assert!(rows.iter().all(|r| text(r, "bgp") == Some("false")));
        assert_eq!(text(&rows[0], "connect"), Some("true"));
        assert_eq!(text(&rows[0], "dst-address"), Some("1.0.0.0/24"));
        assert_eq!(text(&rows[0], "routing-table"), Some("main"));
        assert_eq!(text(&rows[19], "static"), Some("true"));
        let v6 = Fixture::v6();
        let rows = menus()[1].rows(&v6.view(0, 100));
        assert_eq!(rows.len(), v6.scale.routes_v6);
        assert_eq!(text(&rows[0], "dst-address"), Some("2001:db8:0:0::/64"));
        assert_eq!(
            text(&rows[0], "routing-table"),
            None,
            "no named routing tables on 6"
        );
    }
}
