//! The recipe for adding a metric group (CONTRIBUTING.md) holds for every
//! registered group: each step a group can skip by mistake fails here with the
//! step's number.
//!
//! Steps 1–2 (the file and its registry line) are what makes a group appear in
//! `collect::REGISTRY` at all; the README's metric reference rows (step 7) are
//! checked by `tests/metric_reference.rs`.

use routeros_exporter::collect::family::samples_of;
use routeros_exporter::collect::{REGISTRY, group_names};
use routeros_exporter::config;
use routeros_exporter::probe::{GroupStatus, ProbeRequest, Prober, ProberOptions};
use routeros_sim::{RouterConfig, SimConfig, Simulator};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The comma-separated names that follow `marker` in `text`, up to the first
/// `.` or `)`, with comment markers, parentheses and backticks removed.
fn list_after(text: &str, marker: &str, file: &str) -> Vec<String> {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("{file} no longer says {marker:?}"))
        + marker.len();
    let rest = &text[start..];
    let end = rest.find(['.', ')']).unwrap_or(rest.len());
    rest[..end]
        .replace(['#', '(', '`'], " ")
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(String::from)
        .collect()
}

/// The first column of the table under the README heading `heading`.
fn readme_table(heading: &str) -> Vec<String> {
    let readme = read("README.md");
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("README.md has no {heading:?} section"));
    readme[start..]
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2)
        .filter_map(|line| line.trim_matches('|').split('|').next())
        .map(|cell| cell.trim().trim_matches('`').to_string())
        .collect()
}

/// Step 6: every place that lists the groups for a reader lists all of them,
/// in registry order.
#[test]
fn step_6_every_group_list_for_readers_is_complete() {
    let groups: Vec<String> = group_names().into_iter().map(String::from).collect();
    let lists = [
        (
            "config.example.yaml",
            list_after(
                &read("config.example.yaml"),
                "Collector groups to run:",
                "config.example.yaml",
            ),
        ),
        (
            "prometheus.example.yml",
            list_after(
                &read("prometheus.example.yml"),
                "runs every collector group",
                "prometheus.example.yml",
            ),
        ),
        ("README.md (### Groups)", readme_table("### Groups")),
    ];
    for (file, listed) in lists {
        assert_eq!(
            listed, groups,
            "{file} lists other groups than collect::REGISTRY (step 6 of CONTRIBUTING.md)"
        );
    }
}

/// Steps 1 and 5: one file per group, named after it, with its integration
/// test named after it too.
#[test]
fn steps_1_and_5_the_group_file_and_its_integration_test() {
    for group in REGISTRY {
        let name = group.name();
        let source = read(&format!("src/collect/{name}.rs"));
        assert!(
            source.contains(&format!("\"{name}\"")),
            "src/collect/{name}.rs does not name its group `{name}` (step 1)"
        );
        read(&format!("tests/group_{name}.rs"));
        // merge() trusts a vouching family blindly: the group's own tests
        // must hold it to its word.
        assert!(
            !source.contains(".vouch_distinct()") || source.contains("assert_no_duplicate_series("),
            "src/collect/{name}.rs vouches for distinct series but no test of it calls \
             assert_no_duplicate_series (step 1)"
        );
    }
}

/// The names of the unit tests in a group file.
fn unit_test_names(source: &str) -> Vec<&str> {
    let tests = source.find("#[cfg(test)]").map_or("", |at| &source[at..]);
    tests
        .split("#[test]")
        .skip(1)
        .filter_map(|after| after.split("fn ").nth(1))
        .filter_map(|rest| rest.split('(').next())
        .collect()
}

/// Runs `full` once against `router` and returns each group's outcome and
/// whether it emitted a sample.
async fn probe_full(router: RouterConfig) -> Vec<(&'static str, GroupStatus, bool)> {
    let sim = Simulator::start(SimConfig {
        routers: vec![router],
    })
    .await
    .expect("simulator starts");
    let address = sim.routers()[0].addr();
    let config = config::demo(&[("r".to_string(), address)], &group_names());
    let prober = Arc::new(Prober::new(config, ProberOptions::default(), None));
    let output = prober
        .probe(ProbeRequest {
            target: "r".into(),
            auth: None,
            modules: vec!["full".into()],
            scrape_timeout: Some(Duration::from_secs(10)),
            debug: false,
        })
        .await
        .expect("probe runs");
    let collection = &output.collection;
    REGISTRY
        .iter()
        .map(|group| {
            let outcome = collection
                .groups
                .iter()
                .find(|o| o.name == group.name())
                .unwrap_or_else(|| panic!("`full` did not run {}", group.name()));
            let emitted = group
                .metrics()
                .iter()
                .any(|desc| samples_of(&collection.families, desc).next().is_some());
            (group.name(), outcome.status.clone(), emitted)
        })
        .collect()
}

/// Steps 3 and 4: the simulator serves every group on RouterOS 7 (a group
/// that needs a menu it lacks fails here), RouterOS 6 at least reports it
/// as unsupported, and the group's unit tests cover the reply shape of each
/// version the simulator serves it on (a test name with `v6`, one with `v7`).
#[tokio::test]
async fn steps_3_and_4_simulator_menus_and_fixtures_of_both_versions() {
    let v7 = probe_full(RouterConfig::v7("r")).await;
    let v6 = probe_full(RouterConfig::v6("r")).await;
    for ((name, v7_status, v7_emitted), (_, v6_status, _)) in v7.into_iter().zip(v6) {
        assert_eq!(
            v7_status,
            GroupStatus::Ok,
            "{name} on the RouterOS 7 simulator (step 3: its simulator menu)"
        );
        assert!(
            v7_emitted,
            "{name} emitted nothing on the RouterOS 7 simulator (step 3)"
        );
        assert!(
            matches!(v6_status, GroupStatus::Ok | GroupStatus::Unsupported(_)),
            "{name} on the RouterOS 6 simulator: {v6_status:?} (step 3)"
        );
        let group = REGISTRY
            .iter()
            .find(|g| g.name() == name)
            .expect("registered");
        if !group.needs_session() {
            continue;
        }
        let source = read(&format!("src/collect/{name}.rs"));
        let tests = unit_test_names(&source);
        let mut versions = vec!["v7"];
        if v6_status == GroupStatus::Ok {
            versions.push("v6");
        }
        for version in versions {
            assert!(
                tests.iter().any(|t| t.contains(version)),
                "src/collect/{name}.rs has no unit test named for a RouterOS {version} \
                 reply fixture (step 4); its tests: {tests:?}"
            );
        }
    }
}
