//! `/container` (RouterOS 7 with the `container` package).
//!
//! A router whose scale has no containers lacks the package: the menu traps
//! `no such command prefix`, as on a real router without it, rather than
//! printing an empty table (so [`Scale::containers`](super::Scale) of 0 means
//! "no package"). RouterOS 6 has no containers at all. Container `k` cycles
//! through running, stopped, running, error, so the default two are one
//! running and one stopped; the third is still extracting its image in the
//! first minute after boot.

use super::format::id;
use super::{Menu, RouterView, SimRow, row};
use crate::personality::Personality;
use std::sync::Arc;

/// The container menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Containers)]
}

/// Images the containers run: name, repository and tag, OS, architecture.
const IMAGES: [(&str, &str); 4] = [
    ("pihole", "pihole/pihole:2024.07.0"),
    ("adguard", "adguard/adguardhome:v0.107.52"),
    ("unifi", "jacobalberty/unifi:v8.3"),
    ("tailscale", "tailscale/tailscale:stable"),
];

/// `/container`.
struct Containers;

impl Menu for Containers {
    fn path(&self) -> &'static str {
        "/container"
    }

    fn available(&self, personality: &Personality) -> bool {
        personality.is_v7()
    }

    fn installed(&self, view: &RouterView<'_>) -> bool {
        view.scale.containers > 0
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        (0..view.scale.containers)
            .map(|k| container_row(view, k))
            .collect()
    }
}

/// The row of container `k`.
fn container_row(view: &RouterView<'_>, k: usize) -> SimRow {
    let (base, image) = IMAGES[k % IMAGES.len()];
    let name = if k < IMAGES.len() {
        base.to_owned()
    } else {
        format!("{base}{}", k / IMAGES.len() + 1)
    };
    let status = match k % 4 {
        2 if view.uptime.as_secs() < 60 => "extracting",
        0 | 2 => "running",
        1 => "stopped",
        _ => "error",
    };
    row([
        (".id", id(k as u64 + 1)),
        ("name", name.clone()),
        ("tag", image.to_owned()),
        ("os", "linux".to_owned()),
        ("arch", "arm64".to_owned()),
        ("interface", format!("veth{}", k + 1)),
        ("root-dir", format!("disk1/containers/{name}")),
        ("mounts", String::new()),
        ("dns", String::new()),
        ("logging", "false".to_owned()),
        ("start-on-boot", "true".to_owned()),
        ("status", status.to_owned()),
        ("comment", String::new()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, text};

    #[test]
    fn v7_containers_cycle_through_their_states() {
        let mut f = Fixture::v7();
        f.scale.containers = 5;
        let rows = Containers.rows(&f.view(0, 30));
        let states: Vec<_> = rows.iter().filter_map(|r| text(r, "status")).collect();
        assert_eq!(
            states,
            ["running", "stopped", "extracting", "error", "running"]
        );
        assert_eq!(text(&rows[4], "name"), Some("pihole2"));
        assert_eq!(text(&rows[0], "tag"), Some("pihole/pihole:2024.07.0"));
        let later = Containers.rows(&f.view(0, 3_600));
        assert_eq!(text(&later[2], "status"), Some("running"));
    }

    #[test]
    fn no_containers_is_no_package_and_v6_has_none() {
        let mut f = Fixture::v7();
        assert!(Containers.installed(&f.view(0, 60)));
        f.scale.containers = 0;
        assert!(!Containers.installed(&f.view(0, 60)));
        assert!(!Containers.available(&Personality::v6()));
    }
}
