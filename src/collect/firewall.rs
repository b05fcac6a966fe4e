//! `firewall`: byte and packet counters of every firewall rule.
//!
//! Commands (run concurrently on the probe's session, each with `.proplist`):
//! `/ip/firewall/{filter,nat,mangle,raw}/print` and
//! `/ipv6/firewall/{filter,nat,mangle,raw}/print`. A table the router lacks
//! (`/ipv6/firewall/nat` on RouterOS 6, the IPv6 package disabled) is skipped;
//! only when every table is missing is the group unsupported.
//!
//! A rule is identified by its table and `.id` (`*5`), which is unique per
//! table and stable for the router's lifetime. Synthetic names built from
//! chain, action and comment collide for identical rules (mktxp's duplicate
//! samples), so comment and action go into the info metric only. The print
//! position is a value (`mikrotik_firewall_rule_position`), never a label:
//! inserting a rule moves every rule below it, and a label would start new
//! series for all of them.
//!
//! With the module's `firewall.skip_dynamic`, rules the router made itself
//! (`dynamic=true`: UPnP mappings, hotspot rules, the fasttrack dummy rule)
//! are left out; positions still count them, as the router numbers them.

use super::family::{Family, Label, MetricDesc, metric};
use super::{Context, Group, GroupError, GroupFuture, Trace, parse};
use crate::config::FirewallOptions;
use routeros::{Command, Row};
use std::collections::HashSet;

/// The `firewall` group.
pub struct Firewall;

const IDENTITY: &[&str] = &["family", "table", "chain", "rule_id"];

metric!(
    BYTES,
    "mikrotik_firewall_rule_bytes_total",
    Counter,
    "Bytes matched by the firewall rule.",
    IDENTITY
);
metric!(
    PACKETS,
    "mikrotik_firewall_rule_packets_total",
    Counter,
    "Packets matched by the firewall rule.",
    IDENTITY
);
metric!(
    POSITION,
    "mikrotik_firewall_rule_position",
    Gauge,
    "The rule's 0-based index in its table's print order (as the CLI numbers rules).",
    IDENTITY
);
metric!(
    INFO,
    "mikrotik_firewall_rule_info",
    Gauge,
    "Firewall rule metadata (value 1).",
    [
        "family", "table", "chain", "rule_id", "action", "comment", "disabled", "dynamic", "log",
    ]
);

static METRICS: &[&MetricDesc] = &[&BYTES, &PACKETS, &POSITION, &INFO];

/// One firewall table.
#[derive(Debug)]
struct Table {
    /// `ipv4` or `ipv6`.
    family: &'static str,
    /// `filter`, `nat`, `mangle` or `raw`.
    table: &'static str,
    /// The print command.
    command: &'static str,
}

const fn table(family: &'static str, table: &'static str, command: &'static str) -> Table {
    Table {
        family,
        table,
        command,
    }
}

static TABLES: [Table; 8] = [
    table("ipv4", "filter", "/ip/firewall/filter/print"),
    table("ipv4", "nat", "/ip/firewall/nat/print"),
    table("ipv4", "mangle", "/ip/firewall/mangle/print"),
    table("ipv4", "raw", "/ip/firewall/raw/print"),
    table("ipv6", "filter", "/ipv6/firewall/filter/print"),
    table("ipv6", "nat", "/ipv6/firewall/nat/print"),
    table("ipv6", "mangle", "/ipv6/firewall/mangle/print"),
    table("ipv6", "raw", "/ipv6/firewall/raw/print"),
];

/// The properties requested (only those used).
const PROPLIST: [&str; 9] = [
    ".id", "chain", "action", "comment", "bytes", "packets", "disabled", "dynamic", "log",
];

impl Group for Firewall {
    fn name(&self) -> &'static str {
        "firewall"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            // Each table is converted as its rows arrive: a router with
            // 40,000 rules never holds their replies whole.
            let print = |i: usize| async move {
                let table = &TABLES[i];
                let mut series = TableSeries::new(table, &ctx.module.firewall);
                let command = Command::new(table.command).proplist(&PROPLIST);
                let rows = ctx.for_each_row(command, |row| series.add(row)).await;
                rows.map(|_| series)
            };
            let (f4, n4, m4, r4, f6, n6, m6, r6) = tokio::join!(
                print(0),
                print(1),
                print(2),
                print(3),
                print(4),
                print(5),
                print(6),
                print(7),
            );
            assemble(
                TABLES.iter().zip([f4, n4, m4, r4, f6, n6, m6, r6]),
                &ctx.trace,
            )
        })
    }
}

/// Combines the tables' series: missing tables are skipped (and traced), any
/// other failure fails the group, and all tables missing means unsupported.
fn assemble<'t>(
    results: impl IntoIterator<Item = (&'t Table, Result<TableSeries, GroupError>)>,
    trace: &Trace,
) -> Result<Vec<Family>, GroupError> {
    let mut tables = Vec::new();
    let mut missing = Vec::new();
    for (table, result) in results {
        match result {
            Ok(series) => tables.push(series),
            Err(GroupError::Unsupported(why)) => {
                trace.note(|| format!("firewall: {} skipped: {why}", table.command));
                missing.push(table.command);
            }
            Err(e) => return Err(e),
        }
    }
    if tables.is_empty() {
        return Err(GroupError::Unsupported(format!(
            "no firewall table on this router ({})",
            missing.join(", ")
        )));
    }
    Ok(combine(tables))
}

/// The tables' series as four families, table after table, each table's
/// rules in print order.
fn combine(tables: Vec<TableSeries>) -> Vec<Family> {
    // Distinct: a table's ids are (`seen`), and each table is labelled apart.
    let mut all = [&BYTES, &PACKETS, &POSITION, &INFO].map(|d| Family::new(d).vouch_distinct());
    for (i, into) in all.iter_mut().enumerate() {
        into.samples
            .reserve_exact(tables.iter().map(|t| t.families[i].samples.len()).sum());
    }
    for table in tables {
        for (into, family) in all.iter_mut().zip(table.families) {
            into.samples.extend(family.samples);
        }
    }
    all.into_iter().filter(|f| !f.samples.is_empty()).collect()
}

/// One table's series, built row by row (pure, unit-tested on fixtures).
struct TableSeries {
    table: &'static Table,
    skip_dynamic: bool,
    /// Rows seen so far, dynamic and unidentifiable ones included: the next
    /// rule's position, as the router numbers rules.
    rows: u64,
    /// Rule ids seen in this table (a repeated one keeps the first row).
    seen: HashSet<Label, foldhash::fast::RandomState>,
    /// Bytes, packets, position, info.
    families: [Family; 4],
}

impl TableSeries {
    fn new(table: &'static Table, options: &FirewallOptions) -> Self {
        Self {
            table,
            skip_dynamic: options.skip_dynamic,
            rows: 0,
            seen: HashSet::default(),
            families: [&BYTES, &PACKETS, &POSITION, &INFO].map(Family::new),
        }
    }

    fn add(&mut self, row: &Row) {
        let position = self.rows;
        self.rows += 1;
        let table = self.table;
        let [
            id,
            chain,
            action,
            comment,
            bytes,
            packets,
            disabled,
            dynamic,
            log,
        ] = row.pick(PROPLIST);
        // A rule without the flag is a configured one.
        let is_dynamic = dynamic.and_then(boolean) == Some(true);
        if self.skip_dynamic && is_dynamic {
            return;
        }
        let Some(id) = id.filter(|id| !id.is_empty()).map(label) else {
            tracing::debug!(table = table.command, ?row, "firewall rule without .id");
            return;
        };
        if !self.seen.insert(id.clone()) {
            tracing::debug!(table = table.command, %id, "duplicate rule .id, keeping the first");
            return;
        }
        let identity = vec![
            Label::new_static(table.family),
            Label::new_static(table.table),
            chain.map(label).unwrap_or_default(),
            id,
        ];
        let [bytes_family, packets_family, positions, info] = &mut self.families;
        for (key, raw, family) in [
            ("bytes", bytes, bytes_family),
            ("packets", packets, packets_family),
        ] {
            if let Some(v) = raw.and_then(|raw| counter(key, raw)) {
                family.push(identity.clone(), v);
            }
        }
        let mut labels = Vec::with_capacity(INFO.labels.len());
        labels.extend(identity.iter().cloned());
        positions.push(identity, position);
        labels.extend([
            action.map(label).unwrap_or_default(),
            comment.map(label).unwrap_or_default(),
            flag(disabled),
            flag(dynamic),
            flag(log),
        ]);
        info.push(labels, 1u64);
    }
}

/// A label value from raw bytes (never fails on odd bytes).
fn label(raw: &[u8]) -> Label {
    Label::new(routeros::text::lossy(raw))
}

fn boolean(raw: &[u8]) -> Option<bool> {
    std::str::from_utf8(raw).ok().and_then(parse::boolean)
}

/// A counter; `None` when unparseable (logged).
fn counter(key: &str, raw: &[u8]) -> Option<u64> {
    let value = std::str::from_utf8(raw).ok().and_then(parse::unsigned);
    if value.is_none() {
        tracing::debug!(key, raw = %String::from_utf8_lossy(raw), "unparseable firewall counter");
    }
    value
}

/// A yes/no property as `true`/`false` (RouterOS 6 says `yes`/`no`), an odd
/// value as sent, absent as empty.
fn flag(raw: Option<&[u8]>) -> Label {
    match raw.map(|raw| (raw, boolean(raw))) {
        Some((_, Some(b))) => Label::new_static(if b { "true" } else { "false" }),
        Some((raw, None)) => label(raw),
        None => Label::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::Value;
    use crate::collect::fixture::rows;
    use crate::collect::fixture::{assert_no_duplicate_series, series};
    use routeros::Error;
    use routeros_sim::menus::testkit::Fixture;

    /// The default options: every rule, dynamic ones included.
    const KEEP: FirewallOptions = FirewallOptions {
        skip_dynamic: false,
    };

    /// The families of `tables`' rows, as a probe builds them.
    fn build(tables: &[(&'static Table, Vec<Row>)], options: &FirewallOptions) -> Vec<Family> {
        combine(
            tables
                .iter()
                .map(|(t, rows)| table_series(t, rows, options))
                .collect(),
        )
    }

    fn table_series(table: &'static Table, rows: &[Row], options: &FirewallOptions) -> TableSeries {
        let mut series = TableSeries::new(table, options);
        rows.iter().for_each(|row| series.add(row));
        series
    }

    /// `assemble` over prints that returned `results`.
    fn assembled(
        results: impl IntoIterator<Item = (&'static Table, Result<Vec<Row>, GroupError>)>,
        trace: &Trace,
    ) -> Result<Vec<Family>, GroupError> {
        let built: Vec<_> = results
            .into_iter()
            .map(|(t, r)| (t, r.map(|rows| table_series(t, &rows, &KEEP))))
            .collect();
        assemble(built, trace)
    }

    fn find<'f>(f: &'f [Family], name: &str) -> &'f Family {
        f.iter()
            .find(|f| f.desc.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
    }

    /// The sample of `name` for `family`/`table`/`rule_id`.
    fn rule<'f>(
        f: &'f [Family],
        name: &str,
        fam: &str,
        table: &str,
        id: &str,
    ) -> Option<&'f crate::collect::family::Sample> {
        find(f, name)
            .samples
            .iter()
            .find(|s| s.labels[0] == fam && s.labels[1] == table && s.labels[3] == id)
    }

    /// The simulator's rows of every table this personality has.
    fn sim_tables(f: &Fixture, uptime: u64) -> Vec<(&'static Table, Vec<Row>)> {
        let menus = routeros_sim::menus::registry();
        TABLES
            .iter()
            .filter_map(|t| {
                let path = t.command.trim_end_matches("/print");
                let menu = menus.iter().find(|m| m.path() == path)?;
                menu.available(&f.personality).then(|| {
                    let rows = menu.rows(&f.view(0, uptime));
                    (t, rows.into_iter().map(Row::from_pairs).collect())
                })
            })
            .collect()
    }

    const V7_FILTER: &str = "
        .id=*FFFFFFFF  chain=forward  action=passthrough  comment=special dummy rule to show fasttrack counters  bytes=9007199254740993  packets=12  dynamic=true  disabled=false  log=false
        .id=*1  chain=input  action=accept  comment=defconf: accept established,related,untracked  bytes=31611  packets=325  dynamic=false  disabled=false  log=false
        .id=*4  chain=forward  action=drop  comment=drop invalid  bytes=500  packets=5  dynamic=false  disabled=false  log=false
        .id=*5  chain=forward  action=drop  comment=drop invalid  bytes=300  packets=3  dynamic=false  disabled=false  log=false
        .id=*6  chain=forward  action=accept  bytes=0  packets=0  dynamic=false  disabled=true  log=false
    ";

    const V6_NAT: &str = "
        .id=*2  chain=srcnat  action=masquerade  bytes=0  packets=0  disabled=no  dynamic=no  log=no
        .id=*3  chain=dstnat  action=dst-nat  comment=web=server:80  bytes=many  packets=7  disabled=no  dynamic=no  log=yes
        chain=dstnat  action=dst-nat  bytes=1  packets=1
    ";

    #[test]
    fn v7_filter_keeps_identical_rules_and_64_bit_counters() {
        let f = build(&[(&TABLES[0], rows(V7_FILTER))], &KEEP);
        let bytes = "mikrotik_firewall_rule_bytes_total";
        // Above 2^53: must not pass through an f64.
        assert_eq!(
            rule(&f, bytes, "ipv4", "filter", "*FFFFFFFF").map(|s| s.value),
            Some(Value::Int(9_007_199_254_740_993))
        );
        let a = rule(&f, bytes, "ipv4", "filter", "*4").unwrap();
        let b = rule(&f, bytes, "ipv4", "filter", "*5").unwrap();
        assert_ne!(a.labels, b.labels);
        assert_eq!((a.value, b.value), (Value::Int(500), Value::Int(300)));
        let info = "mikrotik_firewall_rule_info";
        let dummy = rule(&f, info, "ipv4", "filter", "*FFFFFFFF").unwrap();
        assert_eq!(
            dummy.labels,
            vec![
                "ipv4",
                "filter",
                "forward",
                "*FFFFFFFF",
                "passthrough",
                "special dummy rule to show fasttrack counters",
                "false",
                "true",
                "false"
            ]
        );
        // Disabled rules are still exported, flagged in info.
        let disabled = rule(&f, info, "ipv4", "filter", "*6").unwrap();
        assert_eq!(
            &disabled.labels[4..],
            ["accept", "", "true", "false", "false"]
        );
        assert!(rule(&f, bytes, "ipv4", "filter", "*6").is_some());
        let position = |id| rule(&f, POSITION.name, "ipv4", "filter", id).map(|s| s.value);
        assert_eq!(position("*FFFFFFFF"), Some(Value::Int(0)));
        assert_eq!(position("*6"), Some(Value::Int(4)));
        assert_no_duplicate_series(&f);
    }

    #[test]
    fn inserting_a_rule_at_the_top_changes_no_other_series() {
        let before = build(&[(&TABLES[0], rows(V7_FILTER))], &KEEP);
        let inserted = format!(
            ".id=*9  chain=input  action=drop  comment=new  bytes=0  packets=0  dynamic=false  disabled=false  log=false\n{V7_FILTER}"
        );
        let after = build(&[(&TABLES[0], rows(&inserted))], &KEEP);
        let (before, after) = (series(&before), series(&after));
        let added: Vec<_> = after.iter().filter(|s| !before.contains(s)).collect();
        assert!(before.iter().all(|s| after.contains(s)), "{before:?}");
        assert_eq!(added.len(), 4, "only the new rule's series: {added:?}");
        assert!(added.iter().all(|(_, labels)| labels[3] == "*9"));
        // The others moved down by one: values, not identities.
        let f = build(&[(&TABLES[0], rows(&inserted))], &KEEP);
        let position = rule(&f, POSITION.name, "ipv4", "filter", "*6").map(|s| s.value);
        assert_eq!(position, Some(Value::Int(5)));
    }

    #[test]
    fn skip_dynamic_leaves_out_the_fasttrack_dummy_rule() {
        let skip = FirewallOptions { skip_dynamic: true };
        let f = build(&[(&TABLES[0], rows(V7_FILTER))], &skip);
        let info = find(&f, "mikrotik_firewall_rule_info");
        assert_eq!(info.samples.len(), 4);
        assert!(info.samples.iter().all(|s| s.labels[7] == "false"));
        assert!(
            rule(
                &f,
                "mikrotik_firewall_rule_bytes_total",
                "ipv4",
                "filter",
                "*FFFFFFFF"
            )
            .is_none()
        );
        // Positions still count it, as the router numbers the rules.
        let position = rule(&f, POSITION.name, "ipv4", "filter", "*1").map(|s| s.value);
        assert_eq!(position, Some(Value::Int(1)));
        // `yes` (RouterOS 6 habits) is dynamic too; a rule without the flag is not.
        let odd = rows(
            ".id=*1  chain=dstnat  action=dst-nat  comment=upnp 192.168.88.20: x  bytes=1  packets=1  dynamic=yes\n.id=*2  chain=dstnat  action=accept  bytes=1  packets=1",
        );
        let f = build(&[(&TABLES[1], odd)], &skip);
        let ids: Vec<&str> = find(&f, "mikrotik_firewall_rule_info")
            .samples
            .iter()
            .map(|s| s.labels[3].as_str())
            .collect();
        assert_eq!(ids, ["*2"]);
    }

    #[test]
    fn v6_nat_with_yes_no_flags_and_odd_values() {
        let f = build(&[(&TABLES[1], rows(V6_NAT))], &KEEP);
        let info = "mikrotik_firewall_rule_info";
        let r3 = rule(&f, info, "ipv4", "nat", "*3").unwrap();
        assert_eq!(
            &r3.labels[4..],
            ["dst-nat", "web=server:80", "false", "false", "true"]
        );
        assert_eq!(
            rule(&f, POSITION.name, "ipv4", "nat", "*3").map(|s| s.value),
            Some(Value::Int(1))
        );
        // An unparseable counter costs that one sample.
        assert!(
            rule(
                &f,
                "mikrotik_firewall_rule_bytes_total",
                "ipv4",
                "nat",
                "*3"
            )
            .is_none()
        );
        assert_eq!(
            rule(
                &f,
                "mikrotik_firewall_rule_packets_total",
                "ipv4",
                "nat",
                "*3"
            )
            .map(|s| s.value),
            Some(Value::Int(7))
        );
        // A rule without .id cannot be identified and is skipped.
        assert_eq!(find(&f, info).samples.len(), 2);
    }

    #[test]
    fn simulator_tables_on_both_versions() {
        for (fixture, tables) in [(Fixture::v6(), 7), (Fixture::v7(), 8)] {
            let raw = sim_tables(&fixture, 5_000);
            assert_eq!(raw.len(), tables);
            let f = build(&raw, &KEEP);
            let info = find(&f, "mikrotik_firewall_rule_info");
            let rules: usize = raw.iter().map(|(_, r)| r.len()).sum();
            assert_eq!(info.samples.len(), rules);
            assert_eq!(
                find(&f, "mikrotik_firewall_rule_bytes_total").samples.len(),
                rules
            );
            assert_no_duplicate_series(&f);
            // Counters exactly as the router reports them.
            for (t, rows) in &raw {
                for row in rows {
                    let id = row.str(".id").unwrap();
                    let want = row.str("bytes").and_then(parse::unsigned).map(Value::Int);
                    let got = rule(
                        &f,
                        "mikrotik_firewall_rule_bytes_total",
                        t.family,
                        t.table,
                        id,
                    );
                    assert_eq!(got.map(|s| s.value), want, "{} {id}", t.command);
                }
            }
            // The two `drop invalid` rules stay apart.
            let drop_invalid: Vec<_> = info
                .samples
                .iter()
                .filter(|s| s.labels[1] == "filter" && s.labels[5] == "drop invalid")
                .collect();
            assert_eq!(drop_invalid.len(), 2);
            assert_ne!(drop_invalid[0].labels[3], drop_invalid[1].labels[3]);
            // The dynamic fasttrack dummy rule is its own series.
            let dummy = rule(
                &f,
                "mikrotik_firewall_rule_info",
                "ipv4",
                "filter",
                "*FFFFFFFF",
            )
            .unwrap();
            assert_eq!(dummy.labels[7], "true");
            // CP1251 comments survive as Latin-1 characters.
            let cp = rule(&f, "mikrotik_firewall_rule_info", "ipv4", "filter", "*3").unwrap();
            assert!(
                cp.labels[5].starts_with("\u{e2}\u{e5}\u{e1}-"),
                "{:?}",
                cp.labels
            );
            let ipv6_nat = info
                .samples
                .iter()
                .any(|s| s.labels[0] == "ipv6" && s.labels[1] == "nat");
            assert_eq!(ipv6_nat, tables == 8);
        }
    }

    fn missing() -> Result<Vec<Row>, GroupError> {
        Err(Error::Trap {
            message: "no such command prefix".into(),
            category: None,
            more: Vec::new(),
        }
        .into())
    }

    #[test]
    fn missing_tables_are_skipped_and_all_missing_is_unsupported() {
        let trace = Trace::new(true);
        let results = TABLES.iter().enumerate().map(|(i, t)| {
            let r = if i == 0 {
                Ok(rows(V7_FILTER))
            } else {
                missing()
            };
            (t, r)
        });
        let f = assembled(results, &trace).unwrap();
        assert_eq!(find(&f, "mikrotik_firewall_rule_info").samples.len(), 5);
        assert_eq!(trace.lines().len(), 7);

        let none = assembled(TABLES.iter().map(|t| (t, missing())), &trace);
        assert!(matches!(none, Err(GroupError::Unsupported(_))), "{none:?}");

        let failed = TABLES.iter().enumerate().map(|(i, t)| {
            let r = if i == 3 {
                Err(GroupError::Failed(Error::Eof))
            } else {
                Ok(Vec::new())
            };
            (t, r)
        });
        assert!(matches!(
            assembled(failed, &trace),
            Err(GroupError::Failed(_))
        ));
        // Present but empty tables: supported, no samples.
        let empty = assembled(TABLES.iter().map(|t| (t, Ok(Vec::new()))), &trace).unwrap();
        assert!(empty.is_empty());
    }
}
