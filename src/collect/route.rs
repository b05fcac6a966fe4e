//! `route`: routes in the IPv4 and IPv6 routing tables per protocol, all of
//! them and the active ones, counted by the router.
//!
//! Commands: 14 `=count-only=` prints per table, `/ip/route/print` and
//! `/ipv6/route/print` (28 in all, run concurrently,
//! [`COUNTS_IN_FLIGHT`](super::COUNTS_IN_FLIGHT) per table at a time): no
//! query, `?active=true`, and `?<flag>=true` alone and with `?active=true`
//! for the flags `connect`, `static`, `bgp`, `ospf`, `rip` and `dynamic`.
//! The table itself is never printed: a full BGP table is a million routes,
//! and the number of commands is the same whatever its size.
//!
//! The flags are boolean route properties on RouterOS 6 and 7, and a query
//! compares a boolean with `true` or `yes` alike; `=true` is what both
//! versions print, so it is what the group asks. (mktxp asks `?bgp=yes`;
//! nshttpd's bare `?bgp` asks whether the property exists, which every route's
//! `bgp=false` satisfies.)
//!
//! Protocols: a route carries exactly one of the five flags; `other` is all
//! routes minus those (RouterOS 7's `copy`, `vpn`, `modem`, `dhcp` routes and
//! anything later versions add), so the protocols of a table sum to its size.
//! The counts are taken one after the other by the router, so a table that
//! changes in between can make `other` briefly off; it is never negative.
//! `dynamic` (every route not configured by hand) overlaps the protocols and
//! has families of its own. Totals include inactive and disabled routes; the
//! `active` families are the routes in use.
//!
//! A router without the IPv6 menu (RouterOS 6 with the ipv6 package disabled)
//! reports IPv4 only; without either menu the group is unsupported.

use super::family::{Family, MetricDesc, metric};
use super::{Context, Group, GroupError, GroupFuture};
use routeros::Command;

/// The `route` group.
pub struct Route;

metric!(
    ROUTES,
    "mikrotik_route_routes",
    Gauge,
    "Routes in the routing table from this protocol, active or not; `other` is every route none of the listed protocols flags.",
    ["family", "protocol"]
);
metric!(
    ACTIVE,
    "mikrotik_route_active_routes",
    Gauge,
    "Active routes (in use for forwarding) from this protocol.",
    ["family", "protocol"]
);
metric!(
    DYNAMIC,
    "mikrotik_route_dynamic_routes",
    Gauge,
    "Dynamic routes (from any protocol or an address, not configured by hand), active or not.",
    ["family"]
);
metric!(
    DYNAMIC_ACTIVE,
    "mikrotik_route_dynamic_active_routes",
    Gauge,
    "Active dynamic routes.",
    ["family"]
);

static METRICS: &[&MetricDesc] = &[&ROUTES, &ACTIVE, &DYNAMIC, &DYNAMIC_ACTIVE];

/// The protocol flags counted on their own: (route property, `protocol` label).
const PROTOCOLS: [(&str, &str); 5] = [
    ("connect", "connected"),
    ("static", "static"),
    ("bgp", "bgp"),
    ("ospf", "ospf"),
    ("rip", "rip"),
];

/// The `protocol` label of routes no listed protocol flags.
const OTHER: &str = "other";

/// One routing table: its `family` label and its print command.
const TABLES: [(&str, &str); 2] = [("ipv4", "/ip/route/print"), ("ipv6", "/ipv6/route/print")];

impl Group for Route {
    fn name(&self) -> &'static str {
        "route"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let [(f4, p4), (f6, p6)] = TABLES;
            let (v4, v6) = tokio::join!(ctx.counts(commands(p4)), ctx.counts(commands(p6)));
            if let (Err(GroupError::Unsupported(a)), Err(GroupError::Unsupported(b))) = (&v4, &v6) {
                return Err(GroupError::Unsupported(format!("{a}; {b}")));
            }
            let mut families = vec![
                Family::new(&ROUTES),
                Family::new(&ACTIVE),
                Family::new(&DYNAMIC),
                Family::new(&DYNAMIC_ACTIVE),
            ];
            for (family, result) in [(f4, v4), (f6, v6)] {
                match result {
                    Ok(counts) => build(&mut families, family, &counts),
                    Err(GroupError::Unsupported(why)) => {
                        ctx.trace.note(|| format!("route: {family} skipped: {why}"));
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok(families)
        })
    }
}

/// The counts of one table, in the order [`build`] reads them: all routes,
/// then per protocol of [`PROTOCOLS`] and then `dynamic`, its routes and its
/// active routes.
fn commands(print: &str) -> Vec<Command> {
    let all = Command::new(print);
    let flags = PROTOCOLS.iter().map(|(flag, _)| *flag).chain(["dynamic"]);
    let mut commands = vec![all.clone(), all.clone().query("active=true")];
    for flag in flags {
        let flagged = all.clone().query(format!("{flag}=true"));
        commands.push(flagged.clone());
        commands.push(flagged.query("active=true"));
    }
    commands
}

/// Adds one table's counts (in the order of [`commands`]) to `families`
/// (`ROUTES`, `ACTIVE`, `DYNAMIC`, `DYNAMIC_ACTIVE`). Pure, unit-tested.
fn build(families: &mut [Family], family: &str, counts: &[u64]) {
    let [routes, active, dynamic, dynamic_active] = families else {
        return;
    };
    let pair = |i: usize| {
        let at = |j: usize| counts.get(j).copied().unwrap_or_default();
        (at(2 * i), at(2 * i + 1))
    };
    let label = |protocol: &str| vec![family.to_owned(), protocol.to_owned()];
    let (all, all_active) = pair(0);
    let (mut counted, mut counted_active) = (0u64, 0u64);
    for (i, (_, protocol)) in PROTOCOLS.iter().enumerate() {
        let (n, a) = pair(i + 1);
        routes.push(label(protocol), n);
        active.push(label(protocol), a);
        counted += n;
        counted_active += a;
    }
    routes.push(label(OTHER), all.saturating_sub(counted));
    active.push(label(OTHER), all_active.saturating_sub(counted_active));
    let (n, a) = pair(PROTOCOLS.len() + 1);
    dynamic.push(vec![family.to_owned()], n);
    dynamic_active.push(vec![family.to_owned()], a);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::samples_named;
    use crate::collect::fixture::assert_no_duplicate_series;

    fn empty() -> Vec<Family> {
        METRICS.iter().map(|d| Family::new(d)).collect()
    }

    fn value(families: &[Family], name: &str, labels: &[&str]) -> Option<f64> {
        samples_named(families, name)
            .find(|s| s.labels == labels)
            .map(|s| s.value.as_f64())
    }

    #[test]
    fn commands_are_counts_of_flags() {
        let words: Vec<String> = commands("/ip/route/print")
            .iter()
            .map(Command::display)
            .collect();
        assert_eq!(words.len(), 14);
        assert_eq!(words[0], "/ip/route/print");
        assert_eq!(words[1], "/ip/route/print ?active=true");
        assert_eq!(words[6], "/ip/route/print ?bgp=true");
        assert_eq!(words[7], "/ip/route/print ?bgp=true ?active=true");
        assert_eq!(words[13], "/ip/route/print ?dynamic=true ?active=true");
        assert!(words.iter().all(|w| !w.contains("proplist")));
    }

    /// Counts a RouterOS 7 core router answers: a full BGP table with backup
    /// paths, a few connected, static and OSPF routes, 40 VRF copies.
    const V7_COUNTS: [u64; 14] = [
        1_000_060, 900_050, 4, 4, 3, 3, 1_000_000, 900_000, 13, 3, 0, 0, 1_000_057, 900_047,
    ];

    #[test]
    fn v7_protocols_sum_to_the_table() {
        let mut f = empty();
        build(&mut f, "ipv4", &V7_COUNTS);
        build(&mut f, "ipv6", &[0; 14]);
        assert_no_duplicate_series(&f);
        let n = |p| value(&f, "mikrotik_route_routes", &["ipv4", p]);
        assert_eq!(n("connected"), Some(4.0));
        assert_eq!(n("bgp"), Some(1_000_000.0));
        assert_eq!(n("ospf"), Some(13.0));
        assert_eq!(n("rip"), Some(0.0));
        assert_eq!(n("other"), Some(40.0));
        let a = |p| value(&f, "mikrotik_route_active_routes", &["ipv4", p]);
        assert_eq!(a("bgp"), Some(900_000.0));
        assert_eq!(a("other"), Some(40.0));
        assert_eq!(
            value(&f, "mikrotik_route_dynamic_routes", &["ipv4"]),
            Some(1_000_057.0)
        );
        assert_eq!(
            value(&f, "mikrotik_route_dynamic_active_routes", &["ipv6"]),
            Some(0.0)
        );
        assert_eq!(samples_named(&f, "mikrotik_route_routes").count(), 12);
    }

    #[test]
    fn v6_small_router_and_short_or_odd_counts() {
        // RouterOS 6 branch router: connected and static routes only.
        let mut f = empty();
        build(&mut f, "ipv4", &[5, 5, 2, 2, 3, 3, 0, 0, 0, 0, 0, 0, 2, 2]);
        assert_eq!(
            value(&f, "mikrotik_route_routes", &["ipv4", "other"]),
            Some(0.0)
        );
        // Protocols that add up to more than the total (the table changed
        // between counts): `other` is 0, never negative; missing counts are 0.
        let mut f = empty();
        build(&mut f, "ipv6", &[3, 3, 2, 2, 2, 2]);
        assert_eq!(
            value(&f, "mikrotik_route_routes", &["ipv6", "other"]),
            Some(0.0)
        );
        assert_eq!(
            value(&f, "mikrotik_route_dynamic_routes", &["ipv6"]),
            Some(0.0)
        );
    }

    #[test]
    fn no_duplicate_series_on_simulator_data() {
        use routeros_sim::menus::registry;
        use routeros_sim::menus::testkit::Fixture;
        use routeros_sim::query::Query;
        let f = Fixture::v7();
        let view = f.view(0, 100);
        let mut families = empty();
        for (family, print) in TABLES {
            let path = print.trim_end_matches("/print");
            let menu = registry().into_iter().find(|m| m.path() == path).unwrap();
            let counts: Vec<u64> = commands(print)
                .iter()
                .map(|c| {
                    let words = c.words().iter().filter(|w| w.starts_with(b"?"));
                    let query = Query::parse(words.map(Vec::as_slice)).unwrap();
                    menu.count(&view, &query).unwrap() as u64
                })
                .collect();
            build(&mut families, family, &counts);
        }
        assert_no_duplicate_series(&families);
        let total: f64 = samples_named(&families, "mikrotik_route_routes")
            .filter(|s| s.labels[0] == "ipv4")
            .map(|s| s.value.as_f64())
            .sum();
        assert_eq!(total, f.scale.routes as f64);
    }
}
