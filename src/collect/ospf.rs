//! `ospf`: OSPF neighbours per instance, area and state, and per neighbour its
//! state as a state set, its state changes and the age of its adjacency.
//!
//! Commands: one `/routing/ospf/neighbor/print =.proplist=instance,area,
//! address,router-id,interface,state,state-changes,adjacency`, on both
//! versions (the menu has the same path on RouterOS 6 and 7, and a property a
//! version lacks is simply absent from its rows). The neighbour table is small
//! (one row per adjacent router), so one print serves both the counts and the
//! per-neighbour series; a `=count-only=` per state would walk it eight times.
//!
//! Shapes assumed (not in the captured reference, from RouterOS
//! documentation and CLI output): RouterOS 7 rows carry `instance`, `area`,
//! `address`, `router-id`, `state`, `state-changes`, `adjacency` and, on the
//! versions that have it, `interface`; RouterOS 6 rows carry `instance`,
//! `router-id`, `address`, `interface`, `state`, `state-changes`,
//! `adjacency` but no `area` (the `area` label is then empty). States are
//! the RFC 2328 names as RouterOS prints them: `Down`, `Attempt`, `Init`,
//! `2-Way`, `ExStart`, `Exchange`, `Loading`, `Full`; a state spelled
//! otherwise is kept as a series of its own. `adjacency` is the time since the
//! adjacency came up (absent or empty until it is `Full`).
//!
//! A neighbour is keyed by `instance`, `area`, `router_id`, `interface` and
//! `address`: the address keeps two adjacencies to one router apart on
//! versions whose rows lack `interface`. These are configuration-stable, so
//! the per-neighbour series are on by default (not subject to `clients`). A
//! row repeating all five keeps its first occurrence.
//!
//! Limits: an instance or area counts only the neighbours the router lists; a
//! neighbour on a broadcast link whose dead interval expired leaves the table
//! (RouterOS forgets it), so its series go away rather than read `Down`. The
//! per-state counts of an instance and area that still has neighbours keep
//! every known state, 0 included.

use super::family::{Family, MetricDesc, metric};
use super::{Context, Group, GroupFuture, parse};
use routeros::{Command, Row};
use std::collections::{BTreeMap, HashSet};

/// The `ospf` group.
pub struct Ospf;

metric!(
    NEIGHBORS,
    "mikrotik_ospf_neighbors",
    Gauge,
    "OSPF neighbours of the instance and area (empty on RouterOS 6) in this state; every known state is present, 0 included.",
    ["instance", "area", "state"]
);
metric!(
    NEIGHBOR_STATE,
    "mikrotik_ospf_neighbor_state",
    Gauge,
    "OSPF neighbour state as a state set: 1 for the current state, 0 for the other known states.",
    [
        "instance",
        "area",
        "router_id",
        "interface",
        "address",
        "state"
    ]
);
metric!(
    STATE_CHANGES,
    "mikrotik_ospf_neighbor_state_changes_total",
    Counter,
    "State changes of the OSPF neighbour since the router learnt it.",
    ["instance", "area", "router_id", "interface", "address"]
);
metric!(
    ADJACENCY,
    "mikrotik_ospf_neighbor_adjacency_seconds",
    Gauge,
    "Seconds since the adjacency with the OSPF neighbour came up (Full neighbours only).",
    ["instance", "area", "router_id", "interface", "address"]
);

static METRICS: &[&MetricDesc] = &[&NEIGHBORS, &NEIGHBOR_STATE, &STATE_CHANGES, &ADJACENCY];

/// The neighbour table.
const PRINT: &str = "/routing/ospf/neighbor/print";

/// Properties of a neighbour row.
const PROPLIST: &[&str] = &[
    "instance",
    "area",
    "address",
    "router-id",
    "interface",
    "state",
    "state-changes",
    "adjacency",
];

/// The neighbour states of RFC 2328 as RouterOS spells them.
const STATES: &[&str] = &[
    "Down", "Attempt", "Init", "2-Way", "ExStart", "Exchange", "Loading", "Full",
];

impl Group for Ospf {
    fn name(&self) -> &'static str {
        "ospf"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let rows = ctx.rows(Command::new(PRINT).proplist(PROPLIST)).await?;
            let (families, repeated) = build(&rows);
            if repeated > 0 {
                ctx.trace
                    .note(|| format!("ospf: {repeated} neighbour rows repeat a key; first kept"));
            }
            Ok(families)
        })
    }
}

/// A row's value of `key` as label text; empty when absent.
fn text(row: &Row, key: &str) -> String {
    row.text(key)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

/// Converts neighbour rows into families (pure, unit-tested on fixtures), and
/// says how many rows repeated an earlier neighbour's key.
fn build(rows: &[Row]) -> (Vec<Family>, usize) {
    let mut counts: BTreeMap<(String, String), BTreeMap<String, u64>> = BTreeMap::new();
    let mut state = Family::new(&NEIGHBOR_STATE);
    let mut changes = Family::new(&STATE_CHANGES);
    let mut adjacency = Family::new(&ADJACENCY);
    let mut seen = HashSet::new();
    let mut repeated = 0;
    for row in rows {
        let key = vec![
            text(row, "instance"),
            text(row, "area"),
            text(row, "router-id"),
            text(row, "interface"),
            text(row, "address"),
        ];
        if !seen.insert(key.clone()) {
            repeated += 1;
            continue;
        }
        let current = text(row, "state");
        let area = (key[0].clone(), key[1].clone());
        let by_state = counts.entry(area).or_default();
        let counted = if current.is_empty() {
            "unknown"
        } else {
            &current
        };
        *by_state.entry(counted.to_owned()).or_default() += 1;
        state.push_state_set(&key, STATES, &current);
        if let Some(n) = row.str("state-changes").and_then(parse::unsigned) {
            changes.push(key.clone(), n);
        }
        if let Some(up) = row.str("adjacency").and_then(parse::duration) {
            adjacency.push(key, up.as_secs_f64());
        }
    }
    let mut neighbors = Family::new(&NEIGHBORS);
    for ((instance, area), by_state) in counts {
        let label = |s: &str| vec![instance.clone(), area.clone(), s.to_owned()];
        for known in STATES {
            neighbors.push(label(known), by_state.get(*known).copied().unwrap_or(0));
        }
        for (other, n) in by_state
            .iter()
            .filter(|(s, _)| !STATES.contains(&s.as_str()))
        {
            neighbors.push(label(other), *n);
        }
    }
    (vec![neighbors, state, changes, adjacency], repeated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::samples_named;
    use crate::collect::fixture::{assert_no_duplicate_series, rows, samples};

    /// The value of `name` whose labels are exactly `labels`.
    fn value(families: &[Family], name: &str, labels: &[&str]) -> Option<f64> {
        samples_named(families, name)
            .find(|s| s.labels == labels)
            .map(|s| s.value.as_f64())
    }

    const V7: &str = "
        instance=default-v2  area=backbone  address=10.0.0.2  router-id=10.255.0.2  interface=ether2  state=Full  state-changes=6  adjacency=1h2m3s
        instance=default-v2  area=backbone  address=10.0.0.3  router-id=10.255.0.3  interface=ether2  state=2-Way  state-changes=2
        instance=default-v2  area=area1  address=10.0.1.2  router-id=10.255.0.4  interface=ether3  state=Init  state-changes=41
    ";

    #[test]
    fn v7_counts_per_area_and_states_per_neighbour() {
        let (f, repeated) = build(&rows(V7));
        assert_eq!(repeated, 0);
        assert_no_duplicate_series(&f);
        let n = |area, state| value(&f, "mikrotik_ospf_neighbors", &["default-v2", area, state]);
        assert_eq!(n("backbone", "Full"), Some(1.0));
        assert_eq!(n("backbone", "2-Way"), Some(1.0));
        assert_eq!(n("backbone", "Init"), Some(0.0));
        assert_eq!(n("area1", "Init"), Some(1.0));
        assert_eq!(n("area1", "Full"), Some(0.0));
        assert_eq!(samples(&f, "mikrotik_ospf_neighbors").len(), 16);
        let init = ["default-v2", "area1", "10.255.0.4", "ether3", "10.0.1.2"];
        let with = |state: &str| {
            let mut l = init.to_vec();
            l.push(state);
            value(&f, "mikrotik_ospf_neighbor_state", &l)
        };
        assert_eq!(with("Init"), Some(1.0));
        assert_eq!(with("Full"), Some(0.0));
        assert_eq!(samples(&f, "mikrotik_ospf_neighbor_state").len(), 24);
        assert_eq!(
            value(&f, "mikrotik_ospf_neighbor_state_changes_total", &init),
            Some(41.0)
        );
        let adj = samples(&f, "mikrotik_ospf_neighbor_adjacency_seconds");
        assert_eq!(adj.len(), 1, "only the Full neighbour has an adjacency");
        assert_eq!(adj[0].1.as_f64(), 3_723.0);
    }

    #[test]
    fn v7_rows_without_interface_keep_two_links_to_one_router_apart() {
        let (f, repeated) = build(&rows(
            "
            instance=default-v2  area=backbone  address=10.0.0.2  router-id=10.255.0.2  state=Full
            instance=default-v2  area=backbone  address=10.0.9.2  router-id=10.255.0.2  state=Full
            instance=default-v2  area=backbone  address=10.0.9.2  router-id=10.255.0.2  state=Init
            ",
        ));
        assert_eq!(repeated, 1);
        assert_no_duplicate_series(&f);
        assert_eq!(
            value(
                &f,
                "mikrotik_ospf_neighbors",
                &["default-v2", "backbone", "Full"]
            ),
            Some(2.0)
        );
        assert_eq!(samples(&f, "mikrotik_ospf_neighbor_state")[0].0[3], "");
    }

    #[test]
    fn v6_rows_without_area_and_clock_style_adjacency() {
        let (f, _) = build(&rows(
            "
            instance=default  router-id=10.255.0.2  address=10.0.0.2  interface=ether2  priority=1  dr-address=10.0.0.1  backup-dr-address=10.0.0.2  state=Full  state-changes=6  ls-retransmits=0  ls-requests=0  db-summaries=0  adjacency=1d02:00:05
            instance=default  router-id=10.255.0.9  address=10.0.0.9  interface=ether2  state=Init  state-changes=15
            ",
        ));
        assert_no_duplicate_series(&f);
        let n = |state| value(&f, "mikrotik_ospf_neighbors", &["default", "", state]);
        assert_eq!(n("Full"), Some(1.0));
        assert_eq!(n("Init"), Some(1.0));
        assert_eq!(n("Down"), Some(0.0));
        let adj = samples(&f, "mikrotik_ospf_neighbor_adjacency_seconds");
        assert_eq!(
            adj[0].0,
            ["default", "", "10.255.0.2", "ether2", "10.0.0.2"]
        );
        assert_eq!(adj[0].1.as_f64(), f64::from(86_400 + 2 * 3_600 + 5));
    }

    #[test]
    fn unknown_states_and_garbage_cost_one_sample() {
        let (f, _) = build(&rows(
            "
            instance=i  area=a  router-id=1.1.1.1  state=Graceful-Restart  state-changes=lots  adjacency=soon
            instance=i  area=a  router-id=2.2.2.2  state-changes=3
            ",
        ));
        assert_no_duplicate_series(&f);
        let n = |state| value(&f, "mikrotik_ospf_neighbors", &["i", "a", state]);
        assert_eq!(n("Graceful-Restart"), Some(1.0));
        assert_eq!(
            n("unknown"),
            Some(1.0),
            "a row without a state still counts"
        );
        let states = samples(&f, "mikrotik_ospf_neighbor_state");
        assert_eq!(
            states.len(),
            STATES.len() + 1,
            "no state set without a state"
        );
        assert_eq!(states[STATES.len()].0[5], "Graceful-Restart");
        let changes = samples(&f, "mikrotik_ospf_neighbor_state_changes_total");
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].0[2], "2.2.2.2");
        assert!(samples(&f, "mikrotik_ospf_neighbor_adjacency_seconds").is_empty());
    }

    #[test]
    fn no_duplicate_series_on_simulator_data() {
        use routeros_sim::menus::registry;
        use routeros_sim::menus::testkit::Fixture;
        let menu = registry()
            .into_iter()
            .find(|m| m.path() == "/routing/ospf/neighbor")
            .expect("ospf neighbour menu");
        for mut f in [Fixture::v6(), Fixture::v7()] {
            f.scale.ospf_neighbors = 300;
            let rows: Vec<Row> = menu
                .rows(&f.view(2, 7_200))
                .into_iter()
                .map(Row::from_pairs)
                .collect();
            let (families, repeated) = build(&rows);
            assert_eq!(repeated, 0);
            assert_no_duplicate_series(&families);
            assert_eq!(
                samples(&families, "mikrotik_ospf_neighbor_state").len(),
                300 * STATES.len()
            );
        }
    }
}
