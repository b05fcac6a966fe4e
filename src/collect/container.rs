//! `container`: the containers of RouterOS 7's `container` package: each
//! one's status as a state set and its image as an info series.
//!
//! Commands: one `/container/print =.proplist=name,tag,os,arch,interface,root-dir,status`.
//! RouterOS 6, and RouterOS 7 without the `container` package, lack the menu:
//! the print traps `no such command prefix` and the group is unsupported, so
//! no version check is needed. A container is keyed by its `name`; containers
//! created before RouterOS named them have none, and are keyed by their
//! `root-dir` instead (unique and stable, unlike the `.id`). The image (`tag`),
//! OS, architecture and interface change only when the container is
//! recreated, so they form one info series per container that does not churn.

use super::family::{Family, MetricDesc, metric};
use super::{Context, Group, GroupFuture};
use routeros::{Command, Row};
use std::collections::HashSet;

/// The `container` group.
pub struct Container;

metric!(
    STATUS,
    "mikrotik_container_status",
    Gauge,
    "Container status: 1 for the current state, 0 for the other known states.",
    ["name", "status"]
);
metric!(
    INFO,
    "mikrotik_container_info",
    Gauge,
    "Image and placement of a container (value 1).",
    ["name", "image", "os", "arch", "interface"]
);

static METRICS: &[&MetricDesc] = &[&STATUS, &INFO];

/// `status` values RouterOS reports; others are kept as their own series.
const KNOWN_STATUS: &[&str] = &["running", "stopped", "extracting", "error"];

/// The info series' properties, in label order after `name`.
const INFO_FIELDS: [&str; 4] = ["tag", "os", "arch", "interface"];

impl Group for Container {
    fn name(&self) -> &'static str {
        "container"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let print = Command::new("/container/print").proplist(&[
                "name",
                "tag",
                "os",
                "arch",
                "interface",
                "root-dir",
                "status",
            ]);
            Ok(build(&ctx.rows(print).await?))
        })
    }
}

/// The container's key: its name, else its root directory.
fn key(row: &Row) -> Option<String> {
    ["name", "root-dir"]
        .iter()
        .filter_map(|k| row.text(k))
        .map(|t| t.trim().to_owned())
        .find(|t| !t.is_empty())
}

/// Converts `/container/print` rows into families (pure, unit-tested on
/// fixtures).
fn build(rows: &[Row]) -> Vec<Family> {
    let mut status = Family::new(&STATUS);
    let mut info = Family::new(&INFO);
    let mut seen = HashSet::new();
    for row in rows {
        let Some(name) = key(row) else {
            tracing::debug!(?row, "container without name or root-dir");
            continue;
        };
        if !seen.insert(name.clone()) {
            tracing::debug!(container = %name, "duplicate container, keeping the first");
            continue;
        }
        let labels = vec![name];
        status.push_state_set(
            &labels,
            KNOWN_STATUS,
            &row.text("status").unwrap_or_default(),
        );
        let details = INFO_FIELDS
            .iter()
            .map(|k| row.text(k).map(|t| t.trim().to_owned()).unwrap_or_default());
        info.push(labels.iter().cloned().chain(details), 1u64);
    }
    vec![status, info]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::Value;
    use crate::collect::fixture::{assert_no_duplicate_series, rows, samples};

    fn current(f: &[Family], name: &str) -> Vec<String> {
        samples(f, "mikrotik_container_status")
            .into_iter()
            .filter(|(l, v)| l[0] == name && *v == Value::Int(1))
            .map(|(l, _)| l[1].clone())
            .collect()
    }

    #[test]
    fn v7_containers_give_a_state_set_and_their_image() {
        let f = build(&rows(
            "name=pihole  tag=pihole/pihole:2024.07.0  os=linux  arch=arm64  interface=veth1  root-dir=disk1/pihole  status=running
             name=adguard  tag=adguard/adguardhome:v0.107.52  os=linux  arch=arm64  interface=veth2  root-dir=disk1/adguard  status=stopped",
        ));
        assert_no_duplicate_series(&f);
        assert_eq!(current(&f, "pihole"), ["running"]);
        assert_eq!(current(&f, "adguard"), ["stopped"]);
        assert_eq!(samples(&f, "mikrotik_container_status").len(), 8);
        let info = samples(&f, "mikrotik_container_info");
        assert_eq!(
            info[0].0,
            [
                "pihole",
                "pihole/pihole:2024.07.0",
                "linux",
                "arm64",
                "veth1"
            ]
        );
    }

    #[test]
    fn v7_odd_rows_cost_only_their_own_samples() {
        let f = build(&rows(
            "tag=old:1  root-dir=disk1/old  status=exporting
             name=dup  status=running
             name=dup  status=error
             name=quiet  tag=a:1
             os=linux  status=running",
        ));
        assert_no_duplicate_series(&f);
        // No name: keyed by root-dir; an unknown state is kept.
        assert_eq!(current(&f, "disk1/old"), ["exporting"]);
        assert_eq!(current(&f, "dup"), ["running"]);
        // No status: no state series, the info series stays.
        assert!(current(&f, "quiet").is_empty());
        assert_eq!(samples(&f, "mikrotik_container_info").len(), 3);
    }

    #[test]
    fn v7_no_containers_no_series() {
        assert!(build(&[]).iter().all(|f| f.samples.is_empty()));
    }
}
