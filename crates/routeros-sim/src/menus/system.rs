//! `/system/...` menus: identity, resource, routerboard, packages, health.
//!
//! The hardware is picked by router index from a small board table (one per
//! RouterOS major version); index `4k+3` is a CHR/x86 without routerboard or
//! sensors.

use super::format::{self, DateStyle, boolean, id};
use super::synth::{counter, hash, wander};
use super::{Menu, RouterView, SimRow, push, row};
use crate::personality::{Personality, Version};
use std::sync::Arc;

/// The `/system` menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![
        Arc::new(Identity),
        Arc::new(Resource),
        Arc::new(Routerboard),
        Arc::new(Package),
        Arc::new(PackageUpdate),
        Arc::new(Health),
    ]
}

/// What a sensor measures and its nominal reading.
#[derive(Debug, Clone, Copy)]
enum Reading {
    /// Degrees Celsius.
    Celsius(u64),
    /// Volts, in tenths.
    DeciVolt(u64),
    /// Fan speed.
    Rpm(u64),
    /// A PSU state: `ok` (true) or `fail`.
    State(bool),
}

/// One health sensor: name, v7 `.id`, reading.
type Sensor = (&'static str, u64, Reading);

/// A simulated piece of hardware.
#[derive(Debug)]
pub(super) struct Board {
    /// `board-name` (and routerboard `model`).
    name: &'static str,
    /// False for CHR/x86 (`routerboard=false`).
    routerboard: bool,
    architecture: &'static str,
    cpu: &'static str,
    cpu_count: u64,
    cpu_frequency: u64,
    total_memory: u64,
    total_hdd: u64,
    firmware_type: &'static str,
    revision: &'static str,
    factory_software: &'static str,
    /// Has a wireless chip (v6 `wireless` package enabled, v7 `wifi-qcom`).
    wireless: bool,
    sensors: &'static [Sensor],
}

const V7_BOARDS: [Board; 4] = [
    Board {
        name: "CCR2004-16G-2S+",
        routerboard: true,
        architecture: "arm64",
        cpu: "ARM64",
        cpu_count: 4,
        cpu_frequency: 1700,
        total_memory: 4_227_858_432,
        total_hdd: 134_217_728,
        firmware_type: "al2",
        revision: "r2",
        factory_software: "7.0.4",
        wireless: false,
        sensors: &[
            ("temperature", 0xD, Reading::Celsius(41)),
            ("cpu-temperature", 0x11, Reading::Celsius(52)),
            ("sfp-temperature", 0x12, Reading::Celsius(44)),
            ("board-temperature1", 0x20, Reading::Celsius(38)),
            ("board-temperature2", 0x21, Reading::Celsius(36)),
            ("fan1-speed", 0x1B59, Reading::Rpm(3165)),
            ("fan2-speed", 0x1B5A, Reading::Rpm(3225)),
            ("fan-state", 0x1B5B, Reading::State(true)),
            ("psu1-state", 0x1CE9, Reading::State(true)),
            ("psu2-state", 0x1CEA, Reading::State(false)),
        ],
    },
    Board {
        name: "hAP ax^2",
        routerboard: true,
        architecture: "arm64",
        cpu: "ARM64",
        cpu_count: 4,
        cpu_frequency: 864,
        total_memory: 1_073_741_824,
        total_hdd: 134_217_728,
        firmware_type: "ipq6000",
        revision: "r1",
        factory_software: "7.5",
        wireless: true,
        sensors: &[
            ("voltage", 0xA, Reading::DeciVolt(239)),
            ("temperature", 0xB, Reading::Celsius(42)),
        ],
    },
    Board {
        name: "RB5009UG+S+",
        routerboard: true,
        architecture: "arm64",
        cpu: "ARM64",
        cpu_count: 4,
        cpu_frequency: 1400,
        total_memory: 1_073_741_824,
        total_hdd: 1_073_741_824,
        firmware_type: "7040",
        revision: "r3",
        factory_software: "7.1.5",
        wireless: false,
        sensors: &[
            ("voltage", 0xA, Reading::DeciVolt(241)),
            ("temperature", 0xB, Reading::Celsius(35)),
            ("cpu-temperature", 0x11, Reading::Celsius(47)),
        ],
    },
    Board {
        name: "CHR",
        routerboard: false,
        architecture: "x86_64",
        cpu: "Common",
        cpu_count: 2,
        cpu_frequency: 2099,
        total_memory: 1_073_741_824,
        total_hdd: 17_179_869_184,
        firmware_type: "",
        revision: "",
        factory_software: "7.1",
        wireless: false,
        sensors: &[],
    },
];

const V6_BOARDS: [Board; 4] = [
    Board {
        name: "CCR1036-8G-2S+",
        routerboard: true,
        architecture: "tile",
        cpu: "tilegx",
        cpu_count: 36,
        cpu_frequency: 1200,
        total_memory: 4_294_967_296,
        total_hdd: 1_073_741_824,
        firmware_type: "tilegx",
        revision: "r2",
        factory_software: "6.18",
        wireless: false,
        sensors: &[
            ("voltage", 0, Reading::DeciVolt(241)),
            ("temperature", 0, Reading::Celsius(35)),
            ("cpu-temperature", 0, Reading::Celsius(41)),
            ("fan1-speed", 0, Reading::Rpm(6540)),
            ("fan2-speed", 0, Reading::Rpm(6600)),
            ("fan-state", 0, Reading::State(true)),
            ("psu1-state", 0, Reading::State(true)),
            ("psu2-state", 0, Reading::State(false)),
        ],
    },
    Board {
        name: "hAP ac^2",
        routerboard: true,
        architecture: "arm",
        cpu: "ARMv7",
        cpu_count: 4,
        cpu_frequency: 716,
        total_memory: 134_217_728,
        total_hdd: 16_777_216,
        firmware_type: "ipq4000L",
        revision: "r1",
        factory_software: "6.41.3",
        wireless: true,
        sensors: &[
            ("voltage", 0, Reading::DeciVolt(239)),
            ("temperature", 0, Reading::Celsius(39)),
        ],
    },
    Board {
        name: "RB4011iGS+",
        routerboard: true,
        architecture: "arm",
        cpu: "ARMv7",
        cpu_count: 4,
        cpu_frequency: 1400,
        total_memory: 1_073_741_824,
        total_hdd: 536_870_912,
        firmware_type: "al2",
        revision: "r2",
        factory_software: "6.43.8",
        wireless: false,
        sensors: &[
            ("voltage", 0, Reading::DeciVolt(242)),
            ("temperature", 0, Reading::Celsius(33)),
            ("cpu-temperature", 0, Reading::Celsius(45)),
        ],
    },
    Board {
        name: "x86",
        routerboard: false,
        architecture: "x86",
        cpu: "Intel(R)",
        cpu_count: 2,
        cpu_frequency: 2600,
        total_memory: 1_073_741_824,
        total_hdd: 2_147_483_648,
        firmware_type: "",
        revision: "",
        factory_software: "6.33.3",
        wireless: false,
        sensors: &[],
    },
];

/// The hardware of a router.
pub(super) fn board(view: &RouterView<'_>) -> &'static Board {
    let table = if view.personality.is_v7() {
        &V7_BOARDS
    } else {
        &V6_BOARDS
    };
    &table[view.index % table.len()]
}

/// When a RouterOS version was built (plausible, deterministic).
fn build_unix(v: Version) -> i64 {
    let (minor, patch) = (i64::from(v.minor), i64::from(v.patch));
    let day = if v.major >= 7 {
        format::days_from_civil(2021, 12, 2) + minor.saturating_sub(1) * 62 + patch * 9
    } else {
        format::days_from_civil(2013, 6, 3) + minor * 75 + patch * 20
    };
    let sod = hash(&[u64::from(v.major), u64::from(v.minor), u64::from(v.patch)]) % 86_400;
    // `sod` < 86 400 always fits.
    day * 86_400 + sod as i64
}

/// `build-time` of the running version in the personality's format.
fn build_time(p: &Personality, style: DateStyle) -> String {
    format::date(build_unix(p.version), style)
}

/// An older version than `v` (what the RouterBOOT still runs before upgrade).
fn older(v: Version) -> Version {
    Version::new(v.major, v.minor.saturating_sub(1), 3)
}

/// `/system/identity`: one row, the router's name.
struct Identity;

impl Menu for Identity {
    fn path(&self) -> &'static str {
        "/system/identity"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        vec![row([("name", view.name)])]
    }
}

/// `/system/resource`: one row, no `.id`.
struct Resource;

impl Menu for Resource {
    fn path(&self) -> &'static str {
        "/system/resource"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let b = board(view);
        let p = view.personality;
        let seed = view.index as u64;
        let uptime = format::secs(view.uptime.as_secs());
        let used_pct = 20 + (seed % 4) * 10;
        let used = wander(
            b.total_memory / 100 * used_pct,
            b.total_memory / 50,
            view.uptime,
            30,
            seed,
        );
        let free_memory = b.total_memory.saturating_sub(used);
        let cpu_load = wander(4 + (seed % 4) * 8, 4, view.uptime, 10, seed ^ 0xC0).min(100);
        let free_hdd = b.total_hdd / 100 * (60 + seed % 30);
        let since_reboot = counter(2, view.uptime, seed);
        let mut r = row([
            ("uptime", uptime),
            ("version", format!("{} (stable)", p.version)),
            ("build-time", build_time(p, DateStyle::build_time(p))),
            ("factory-software", b.factory_software.to_owned()),
            ("free-memory", free_memory.to_string()),
            ("total-memory", b.total_memory.to_string()),
            ("cpu", b.cpu.to_owned()),
            ("cpu-count", b.cpu_count.to_string()),
            ("cpu-frequency", b.cpu_frequency.to_string()),
            ("cpu-load", cpu_load.to_string()),
            ("free-hdd-space", free_hdd.to_string()),
            ("total-hdd-space", b.total_hdd.to_string()),
            ("write-sect-since-reboot", since_reboot.to_string()),
            (
                "write-sect-total",
                (91_274 + seed * 7_919 + since_reboot).to_string(),
            ),
        ]);
        if b.routerboard {
            push(&mut r, "bad-blocks", "0");
        }
        push(&mut r, "architecture-name", b.architecture);
        push(&mut r, "board-name", b.name);
        push(&mut r, "platform", "MikroTik");
        vec![r]
    }
}

/// `/system/routerboard`: RouterBOOT versions; `routerboard=false` only on CHR/x86.
/// Routers `4k+1` run an older RouterBOOT than `upgrade-firmware`.
struct Routerboard;

impl Menu for Routerboard {
    fn path(&self) -> &'static str {
        "/system/routerboard"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let b = board(view);
        if !b.routerboard {
            return vec![row([("routerboard", "false")])];
        }
        let v = view.personality.version;
        let current = if view.index % 4 == 1 { older(v) } else { v };
        let serial = format!(
            "{:012X}",
            hash(&[view.index as u64, 0x5E]) & 0xFFFF_FFFF_FFFF
        );
        vec![row([
            ("routerboard", "true".to_owned()),
            ("model", b.name.to_owned()),
            ("revision", b.revision.to_owned()),
            ("serial-number", serial),
            ("firmware-type", b.firmware_type.to_owned()),
            ("factory-firmware", b.factory_software.to_owned()),
            ("current-firmware", current.to_string()),
            ("upgrade-firmware", v.to_string()),
        ])]
    }
}

/// `/system/package`: the v6 split packages or the v7 `routeros` bundle.
struct Package;

impl Menu for Package {
    fn path(&self) -> &'static str {
        "/system/package"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let b = board(view);
        let p = view.personality;
        let version = p.version.to_string();
        let built = build_time(p, DateStyle::of(p));
        let mut list: Vec<(String, bool)> = Vec::new();
        if p.is_v7() {
            list.push(("routeros".to_owned(), false));
            if b.wireless {
                list.push(("wifi-qcom".to_owned(), false));
            }
            if b.cpu_count >= 4 && !b.wireless {
                list.push(("container".to_owned(), view.index.is_multiple_of(2)));
            }
        } else {
            list.push((format!("routeros-{}", b.architecture), false));
            for name in [
                "system",
                "ipv6",
                "wireless",
                "hotspot",
                "mpls",
                "routing",
                "ppp",
                "dhcp",
                "security",
                "advanced-tools",
            ] {
                let disabled = name == "wireless" && !b.wireless;
                list.push((name.to_owned(), disabled));
            }
        }
        list.into_iter()
            .enumerate()
            .map(|(i, (name, disabled))| {
                row([
                    (".id", id(i as u64 + 1)),
                    ("name", name),
                    ("version", version.clone()),
                    ("build-time", built.clone()),
                    ("scheduled", String::new()),
                    ("disabled", boolean(disabled).to_owned()),
                ])
            })
            .collect()
    }
}

/// `/system/package/update`: routers `4k+2` have a newer version available;
/// routers `4k+3` never checked (empty `latest-version` and `status`).
struct PackageUpdate;

impl Menu for PackageUpdate {
    fn path(&self) -> &'static str {
        "/system/package/update"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let v = view.personality.version;
        let (latest, status) = match view.index % 4 {
            2 => (
                Version::new(v.major, v.minor, v.patch + 1).to_string(),
                "New version is available",
            ),
            3 => (String::new(), ""),
            _ => (v.to_string(), "System is already up to date"),
        };
        vec![row([
            ("channel", "stable".to_owned()),
            ("installed-version", v.to_string()),
            ("latest-version", latest),
            ("status", status.to_owned()),
        ])]
    }
}

/// `/system/health`: v6 one flat row, v7 one row per sensor; nothing on CHR/x86.
struct Health;

impl Health {
    /// A sensor's current value (wandering a little) and its v7 `type`.
    fn reading(view: &RouterView<'_>, n: usize, r: Reading) -> (String, &'static str) {
        let seed = hash(&[view.index as u64, n as u64]);
        match r {
            Reading::Celsius(c) => (wander(c, 2, view.uptime, 60, seed).to_string(), "C"),
            Reading::DeciVolt(dv) => {
                let v = wander(dv, 1, view.uptime, 60, seed);
                (format!("{}.{}", v / 10, v % 10), "V")
            }
            Reading::Rpm(rpm) => (wander(rpm, 60, view.uptime, 20, seed).to_string(), "RPM"),
            Reading::State(ok) => ((if ok { "ok" } else { "fail" }).to_owned(), ""),
        }
    }
}

impl Menu for Health {
    fn path(&self) -> &'static str {
        "/system/health"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let sensors = board(view).sensors;
        if sensors.is_empty() {
            return Vec::new();
        }
        if view.personality.is_v7() {
            sensors
                .iter()
                .enumerate()
                .map(|(n, &(name, sid, r))| {
                    let (value, kind) = Self::reading(view, n, r);
                    row([
                        (".id", id(sid)),
                        ("name", name.to_owned()),
                        ("value", value),
                        ("type", kind.to_owned()),
                    ])
                })
                .collect()
        } else {
            let flat = sensors
                .iter()
                .enumerate()
                .map(|(n, &(name, _, r))| (name, Self::reading(view, n, r).0));
            vec![row(flat)]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, get, named, num, text};

    fn one(menu: &dyn Menu, view: &RouterView<'_>) -> SimRow {
        let mut rows = menu.rows(view);
        assert_eq!(rows.len(), 1, "{}", menu.path());
        rows.remove(0)
    }

    #[test]
    fn resource_v7_and_v6_shapes() {
        let f7 = Fixture::v7();
        let r = one(
            &Resource,
            &f7.view(0, 604_800 + 2 * 86_400 + 3_600 * 3 + 245),
        );
        assert_eq!(text(&r, "uptime"), Some("1w2d3h4m5s"));
        assert_eq!(text(&r, "version"), Some("7.16 (stable)"));
        let bt = text(&r, "build-time").unwrap_or_default();
        assert!(bt.starts_with("2024-") && bt.len() == 19, "{bt}");
        assert_eq!(text(&r, "platform"), Some("MikroTik"));
        assert!(get(&r, ".id").is_none());
        assert!(num(&r, "free-memory") < num(&r, "total-memory"));
        assert!(num(&r, "cpu-load") <= 100);

        let f6 = Fixture::v6();
        let r = one(&Resource, &f6.view(1, 90));
        assert_eq!(text(&r, "uptime"), Some("1m30s"));
        assert_eq!(text(&r, "version"), Some("6.49.10 (stable)"));
        let bt = text(&r, "build-time").unwrap_or_default();
        let month = bt.split('/').next().unwrap_or_default();
        assert!(
            month.len() == 3 && month.as_bytes()[0].is_ascii_uppercase(),
            "{bt}"
        );
        assert_eq!(text(&r, "board-name"), Some("hAP ac^2"));
    }

    #[test]
    fn resource_wiggles_and_is_deterministic() {
        let f = Fixture::v7();
        let loads: std::collections::BTreeSet<u64> = (0..50)
            .map(|m| num(&one(&Resource, &f.view(2, m * 10)), "cpu-load"))
            .collect();
        assert!(loads.len() > 1);
        assert_eq!(
            Resource.rows(&f.view(2, 777)),
            Resource.rows(&f.view(2, 777))
        );
        let w1 = num(
            &one(&Resource, &f.view(2, 1_000)),
            "write-sect-since-reboot",
        );
        let w2 = num(
            &one(&Resource, &f.view(2, 2_000)),
            "write-sect-since-reboot",
        );
        assert!(w2 > w1);
        assert!(num(&one(&Resource, &f.view(3, 60)), "free-hdd-space") > 0);
        assert!(get(&one(&Resource, &f.view(3, 60)), "bad-blocks").is_none());
    }

    #[test]
    fn routerboard_upgrade_pending_on_one_index() {
        let f = Fixture::v7();
        let rb0 = one(&Routerboard, &f.view(0, 10));
        assert_eq!(text(&rb0, "routerboard"), Some("true"));
        assert_eq!(
            text(&rb0, "current-firmware"),
            text(&rb0, "upgrade-firmware")
        );
        let rb1 = one(&Routerboard, &f.view(1, 10));
        assert_eq!(text(&rb1, "current-firmware"), Some("7.15.3"));
        assert_eq!(text(&rb1, "upgrade-firmware"), Some("7.16"));
        let chr = one(&Routerboard, &f.view(3, 10));
        assert_eq!(chr, row([("routerboard", "false")]));
    }

    #[test]
    fn packages_per_version() {
        let f6 = Fixture::v6();
        let v6 = Package.rows(&f6.view(0, 10));
        assert!(v6.len() > 5);
        assert_eq!(text(&v6[0], "name"), Some("routeros-tile"));
        assert_eq!(text(named(&v6, "wireless"), "disabled"), Some("true"));
        assert!(text(&v6[0], "build-time").is_some_and(|b| b.contains('/')));
        let f7 = Fixture::v7();
        let v7 = Package.rows(&f7.view(1, 10));
        assert_eq!(text(&v7[0], "name"), Some("routeros"));
        assert_eq!(text(&v7[1], "name"), Some("wifi-qcom"));
        assert_eq!(text(&v7[1], ".id"), Some("*2"));
        let up = one(&PackageUpdate, &f7.view(2, 10));
        assert_eq!(text(&up, "latest-version"), Some("7.16.1"));
        let up = one(&PackageUpdate, &f7.view(0, 10));
        assert_eq!(text(&up, "latest-version"), text(&up, "installed-version"));
        let never_checked = one(&PackageUpdate, &f7.view(3, 10));
        assert_eq!(text(&never_checked, "latest-version"), Some(""));
    }

    #[test]
    fn health_flat_on_v6_list_on_v7() {
        let f6 = Fixture::v6();
        let h6 = one(&Health, &f6.view(0, 100));
        assert!(get(&h6, "name").is_none());
        assert!(get(&h6, ".id").is_none());
        assert!(text(&h6, "voltage").is_some_and(|v| v.parse::<f64>().is_ok()));
        assert!(text(&h6, "temperature").is_some_and(|v| v.parse::<u64>().is_ok()));
        assert_eq!(text(&h6, "psu1-state"), Some("ok"));

        let f7 = Fixture::v7();
        let h7 = Health.rows(&f7.view(0, 100));
        assert!(h7.len() > 5);
        let fan = named(&h7, "fan1-speed");
        assert_eq!(text(fan, ".id"), Some("*1B59"));
        assert_eq!(text(fan, "type"), Some("RPM"));
        let psu = named(&h7, "psu2-state");
        assert_eq!(text(psu, "value"), Some("fail"));
        assert_eq!(text(psu, "type"), Some(""));
        let hap = Health.rows(&f7.view(1, 100));
        assert_eq!(text(named(&hap, "voltage"), "type"), Some("V"));
        assert!(Health.rows(&f7.view(3, 100)).is_empty());
    }
}
