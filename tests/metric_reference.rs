//! The README's metric reference and the code must agree: every metric the code
//! can emit is listed with its type, labels and group, and nothing else is
//! (step 7 of the group recipe in CONTRIBUTING.md).

use routeros_exporter::collect::REGISTRY;
use routeros_exporter::collect::family::MetricDesc;
use routeros_exporter::probe::metrics::PROBE_METRICS;
use std::collections::BTreeMap;

/// One row of the README table.
struct Row {
    kind: String,
    labels: Vec<String>,
    group: String,
}

/// The rows of the README table by metric name.
fn reference() -> BTreeMap<String, Row> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).expect("README.md is readable");
    let start = readme
        .find("## Metric reference")
        .expect("README has a metric reference");
    let section = &readme[start..];
    let end = section.find("\n### ").unwrap_or(section.len());
    let mut out = BTreeMap::new();
    for line in section[..end].lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let name = cells[0].trim_matches('`').to_string();
        let labels = match cells[2] {
            "—" | "-" | "" => Vec::new(),
            list => list
                .split(',')
                .map(|l| l.trim().trim_matches('`').to_string())
                .collect(),
        };
        let row = Row {
            kind: cells[1].to_string(),
            labels,
            group: cells[4].to_string(),
        };
        assert!(
            out.insert(name.clone(), row).is_none(),
            "{name} is listed twice in the README"
        );
    }
    out
}

/// Every metric the code declares, with the group that emits it (`probe` for
/// the probe's own).
fn code() -> BTreeMap<String, (&'static MetricDesc, &'static str)> {
    let mut out = BTreeMap::new();
    let groups = REGISTRY
        .iter()
        .flat_map(|g| g.metrics().iter().map(|desc| (*desc, g.name())));
    let probe = PROBE_METRICS.iter().map(|desc| (*desc, "probe"));
    for (desc, group) in groups.chain(probe) {
        assert!(
            out.insert(desc.name.to_string(), (desc, group)).is_none(),
            "{} is declared by two groups",
            desc.name
        );
    }
    out
}

#[test]
fn every_emittable_metric_is_documented_and_nothing_else() {
    let reference = reference();
    let code = code();
    let undocumented: Vec<&String> = code
        .keys()
        .filter(|k| !reference.contains_key(*k))
        .collect();
    let phantom: Vec<&String> = reference
        .keys()
        .filter(|k| !code.contains_key(*k))
        .collect();
    assert!(
        undocumented.is_empty(),
        "emitted but not in README: {undocumented:?}"
    );
    assert!(
        phantom.is_empty(),
        "in README but never emitted: {phantom:?}"
    );
    for (name, (desc, group)) in &code {
        let row = &reference[name];
        assert_eq!(row.kind, desc.kind.as_str(), "type of {name}");
        let expected: Vec<String> = desc.labels.iter().map(|l| l.to_string()).collect();
        assert_eq!(row.labels, expected, "labels of {name}");
        assert!(
            row.group.split_whitespace().next() == Some(*group),
            "{name} is emitted by {group}, the README says {:?}",
            row.group
        );
    }
}

#[test]
fn counters_end_in_total_and_gauges_do_not() {
    for (name, (desc, _)) in code() {
        let is_counter = desc.kind.as_str() == "counter";
        assert_eq!(name.ends_with("_total"), is_counter, "{name}");
    }
}

/// The `### Series per group` table: group → (RouterOS 7, RouterOS 6) series.
fn documented_series() -> BTreeMap<String, (usize, usize)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).expect("README.md is readable");
    let start = readme
        .find("### Series per group")
        .expect("README has a series-per-group table");
    let section = &readme[start..];
    let end = section[4..].find("\n#").map_or(section.len(), |i| i + 4);
    section[..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let number = |cell: &str| {
                cell.replace(',', "")
                    .parse()
                    .unwrap_or_else(|_| panic!("not a series count: {cell:?} in {line}"))
            };
            (
                cells[0].trim_matches('`').to_string(),
                (number(cells[1]), number(cells[2])),
            )
        })
        .collect()
}

/// Series per group of one `full` probe of the simulator's default router.
async fn series_per_group(router: routeros_sim::RouterConfig) -> BTreeMap<String, usize> {
    use routeros_exporter::collect::group_names;
    use routeros_exporter::config;
    use routeros_exporter::probe::{ProbeRequest, Prober, ProberOptions};
    let sim = routeros_sim::Simulator::start(routeros_sim::SimConfig {
        routers: vec![router],
    })
    .await
    .expect("simulator starts");
    let addr = sim.routers()[0].addr();
    let config = config::demo(&[("r".to_string(), addr)], &group_names());
    let prober = std::sync::Arc::new(Prober::new(config, ProberOptions::default(), None));
    let request = ProbeRequest {
        target: "r".into(),
        auth: None,
        modules: vec!["full".into()],
        scrape_timeout: Some(std::time::Duration::from_secs(20)),
        debug: false,
    };
    let output = prober.probe(request).await.expect("probe");
    assert!(output.collection.success, "{:?}", output.collection.error);
    let code = code();
    let mut counts: BTreeMap<String, usize> = group_names()
        .into_iter()
        .map(|g| (g.to_string(), 0))
        .collect();
    for family in output.families() {
        if let Some((_, group)) = code.get(family.desc.name)
            && *group != "probe"
        {
            *counts.entry(group.to_string()).or_default() += family.samples.len();
        }
    }
    counts
}

/// The README documents how many series each group gives on a typical
/// router (the simulator's default board, up three days): the numbers must
/// be what a probe really returns.
#[tokio::test]
async fn series_per_group_on_the_default_router_are_documented() {
    let up = |mut router: routeros_sim::RouterConfig| {
        router.initial_uptime = std::time::Duration::from_secs(3 * 86_400);
        router
    };
    let v7 = series_per_group(up(routeros_sim::RouterConfig::v7("r7"))).await;
    let v6 = series_per_group(up(routeros_sim::RouterConfig::v6("r6"))).await;
    let actual: BTreeMap<String, (usize, usize)> = v7
        .iter()
        .map(|(group, n)| (group.clone(), (*n, v6.get(group).copied().unwrap_or(0))))
        .collect();
    let table: String = actual
        .iter()
        .map(|(g, (a, b))| format!("| `{g}` | {a} | {b} |\n"))
        .collect();
    assert_eq!(
        documented_series(),
        actual,
        "README ### Series per group should say (group | v7 | v6):\n{table}"
    );
}
