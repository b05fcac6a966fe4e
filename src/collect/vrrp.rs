//! `vrrp`: per VRRP instance its state (master, backup, init) as a state
//! set, its priority, whether it is running, and its interface and VRID.
//!
//! Commands: one `/interface/vrrp/print =.proplist=name,interface,vrid,
//! priority,running,disabled,master,backup,state` on both versions (same menu
//! and shape on RouterOS 6 and 7). A router has a handful of instances, so
//! one print is the whole cost; a router without any has an empty menu and
//! no series.
//!
//! Shapes assumed (not in the captured reference): the state comes as the
//! CLI's `M` and `B` flags, over the API the booleans `master` and `backup`;
//! an instance that is neither (disabled, or its interface down) is `init`.
//! Should a version print a `state` property instead, it wins, lower-cased
//! (`Master` → `master`), and a word other than the three known ones is kept
//! as its own series. A row with neither the flags nor `state` has no state
//! set (nothing is known), but keeps its other series. `running` is the
//! virtual interface's running flag: on RouterOS only the master's is up.
//! A disabled instance keeps its series (state `init`, running 0), so an
//! alert on `state="master"` needs no `absent()`.

use super::family::{Family, MetricDesc, metric};
use super::{Context, Group, GroupFuture, parse};
use routeros::{Command, Row};

/// The `vrrp` group.
pub struct Vrrp;

metric!(
    STATE,
    "mikrotik_vrrp_state",
    Gauge,
    "VRRP instance state as a state set: 1 for the current state (master, backup, init), 0 for the others.",
    ["name", "state"]
);
metric!(
    PRIORITY,
    "mikrotik_vrrp_priority",
    Gauge,
    "Configured VRRP priority of the instance (1-255, higher wins the master election).",
    ["name"]
);
metric!(
    RUNNING,
    "mikrotik_vrrp_running",
    Gauge,
    "1 when the VRRP interface is running (on RouterOS, the master), 0 otherwise.",
    ["name"]
);
metric!(
    INFO,
    "mikrotik_vrrp_info",
    Gauge,
    "VRRP instance metadata (value 1).",
    ["name", "interface", "vrid", "disabled"]
);

static METRICS: &[&MetricDesc] = &[&STATE, &PRIORITY, &RUNNING, &INFO];

/// Properties of an instance row.
const PROPLIST: &[&str] = &[
    "name",
    "interface",
    "vrid",
    "priority",
    "running",
    "disabled",
    "master",
    "backup",
    "state",
];

/// The states every instance has a series for.
const STATES: &[&str] = &["master", "backup", "init"];

impl Group for Vrrp {
    fn name(&self) -> &'static str {
        "vrrp"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let print = Command::new("/interface/vrrp/print").proplist(PROPLIST);
            Ok(build(&ctx.rows(print).await?))
        })
    }
}

/// A row's value of `key` as label text; empty when absent.
fn text(row: &Row, key: &str) -> String {
    row.text(key)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

/// A boolean property, `None` when absent or not a boolean.
fn flag(row: &Row, key: &str) -> Option<bool> {
    row.str(key).and_then(parse::boolean)
}

/// The instance's state: `state` when the row has one, else from the
/// `master` and `backup` flags; empty when the row says nothing of it.
fn state(row: &Row) -> String {
    let stated = text(row, "state");
    if !stated.is_empty() {
        return stated.to_lowercase();
    }
    match (flag(row, "master"), flag(row, "backup")) {
        (Some(true), _) => "master".into(),
        (_, Some(true)) => "backup".into(),
        (None, None) => String::new(),
        _ => "init".into(),
    }
}

/// Converts instance rows into families (pure, unit-tested on fixtures).
fn build(rows: &[Row]) -> Vec<Family> {
    let mut states = Family::new(&STATE);
    let mut priority = Family::new(&PRIORITY);
    let mut running = Family::new(&RUNNING);
    let mut info = Family::new(&INFO);
    for row in rows {
        let name = text(row, "name");
        if name.is_empty() {
            continue;
        }
        let key = vec![name.clone()];
        states.push_state_set(&key, STATES, &state(row));
        match row.str("priority").and_then(parse::unsigned) {
            Some(p) => priority.push(key.clone(), p),
            None => tracing::debug!(name, "unparseable VRRP priority"),
        }
        if let Some(up) = flag(row, "running") {
            running.push(key, up);
        }
        let disabled =
            flag(row, "disabled").map_or_else(|| text(row, "disabled"), |d| d.to_string());
        info.push(
            vec![name, text(row, "interface"), text(row, "vrid"), disabled],
            1u64,
        );
    }
    vec![states, priority, running, info]
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

    #[test]
    fn v7_master_backup_and_disabled_from_flags() {
        let f = build(&rows(
            "
            name=vrrp1  interface=bridge1  vrid=10  priority=200  running=true  master=true  backup=false  disabled=false
            name=vrrp2  interface=vlan100  vrid=11  priority=100  running=false  master=false  backup=true  disabled=false
            name=vrrp3  interface=bridge1  vrid=12  priority=100  running=false  master=false  backup=false  disabled=true
            ",
        ));
        assert_no_duplicate_series(&f);
        let s = |name, state| value(&f, "mikrotik_vrrp_state", &[name, state]);
        assert_eq!(s("vrrp1", "master"), Some(1.0));
        assert_eq!(s("vrrp1", "backup"), Some(0.0));
        assert_eq!(s("vrrp2", "backup"), Some(1.0));
        assert_eq!(s("vrrp3", "init"), Some(1.0));
        assert_eq!(s("vrrp3", "master"), Some(0.0));
        assert_eq!(samples(&f, "mikrotik_vrrp_state").len(), 9);
        assert_eq!(value(&f, "mikrotik_vrrp_priority", &["vrrp1"]), Some(200.0));
        assert_eq!(value(&f, "mikrotik_vrrp_running", &["vrrp1"]), Some(1.0));
        assert_eq!(value(&f, "mikrotik_vrrp_running", &["vrrp2"]), Some(0.0));
        assert_eq!(
            samples(&f, "mikrotik_vrrp_info")[2].0,
            ["vrrp3", "bridge1", "12", "true"]
        );
    }

    #[test]
    fn v6_yes_no_flags_and_a_state_property() {
        let f = build(&rows(
            "
            name=a  interface=ether1  vrid=1  priority=254  running=yes  master=yes  backup=no  disabled=no
            name=b  interface=ether1  vrid=2  priority=100  state=Backup
            ",
        ));
        let s = |name, state| value(&f, "mikrotik_vrrp_state", &[name, state]);
        assert_eq!(s("a", "master"), Some(1.0));
        assert_eq!(s("b", "backup"), Some(1.0), "state wins, lower-cased");
        assert_eq!(samples(&f, "mikrotik_vrrp_info")[0].0[3], "false");
        assert_eq!(value(&f, "mikrotik_vrrp_running", &["b"]), None);
    }

    #[test]
    fn unknown_states_and_garbage_cost_one_sample() {
        let f = build(&rows(
            "
            name=odd  priority=high  state=Transitioning  running=maybe  disabled=perhaps
            name=silent  priority=50
            vrid=9  priority=5  master=true
            ",
        ));
        assert_no_duplicate_series(&f);
        let states = samples(&f, "mikrotik_vrrp_state");
        assert_eq!(states.len(), 4, "odd: 3 known + its own; silent: none");
        assert_eq!(states[3].0, ["odd", "transitioning"]);
        let priority = samples(&f, "mikrotik_vrrp_priority");
        assert_eq!(priority.len(), 1);
        assert_eq!(priority[0].0, ["silent"]);
        assert!(samples(&f, "mikrotik_vrrp_running").is_empty());
        let info = samples(&f, "mikrotik_vrrp_info");
        assert_eq!(info.len(), 2, "a row without a name is skipped");
        assert_eq!(info[0].0[3], "perhaps");
    }

    #[test]
    fn no_duplicate_series_on_simulator_data() {
        use routeros_sim::menus::registry;
        use routeros_sim::menus::testkit::Fixture;
        let menu = registry()
            .into_iter()
            .find(|m| m.path() == "/interface/vrrp")
            .expect("vrrp menu");
        for mut f in [Fixture::v6(), Fixture::v7()] {
            f.scale.vrrp_instances = 50;
            let rows: Vec<Row> = menu
                .rows(&f.view(1, 600))
                .into_iter()
                .map(Row::from_pairs)
                .collect();
            let families = build(&rows);
            assert_no_duplicate_series(&families);
            assert_eq!(samples(&families, "mikrotik_vrrp_state").len(), 150);
            assert_eq!(samples(&families, "mikrotik_vrrp_running").len(), 50);
        }
    }
}
