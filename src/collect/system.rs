//! `system`: resource usage, identity, RouterBOARD firmware and packages.
//!
//! Commands (run concurrently on the probe's session):
//! `/system/resource/print`, `/system/identity/print`, `/system/routerboard/print`,
//! `/system/package/print`, `/system/package/update/print`, each with
//! `.proplist`.
//!
//! A pending RouterBOOT upgrade is `current-firmware` ≠ `upgrade-firmware`; an
//! available RouterOS update is `latest-version` ≠ `installed-version` of
//! `/system/package/update`, which holds what the router learnt at its last
//! check (its own schedule, or an operator's `check-for-updates`). The group
//! only prints it, never starts a check (that would make every router call
//! MikroTik's servers on every scrape); before the first check
//! `latest-version` is empty and there is no sample. Both carry their
//! versions as labels: they change only on an upgrade or a new release.

use super::family::{Family, MetricDesc, metric};
use super::{Context, Group, GroupError, GroupFuture, parse};
use routeros::{Command, Row};

/// The `system` group.
pub struct System;

metric!(
    CPU_LOAD,
    "mikrotik_system_cpu_load",
    Gauge,
    "CPU load in percent (all cores).",
    []
);
metric!(
    FREE_MEMORY,
    "mikrotik_system_free_memory_bytes",
    Gauge,
    "Free memory in bytes.",
    []
);
metric!(
    TOTAL_MEMORY,
    "mikrotik_system_total_memory_bytes",
    Gauge,
    "Total memory in bytes.",
    []
);
metric!(
    pub UPTIME,
    "mikrotik_system_uptime_seconds",
    Gauge,
    "Time since the router booted, in seconds.",
    []
);
metric!(
    FREE_HDD,
    "mikrotik_system_free_hdd_bytes",
    Gauge,
    "Free storage in bytes.",
    []
);
metric!(
    TOTAL_HDD,
    "mikrotik_system_total_hdd_bytes",
    Gauge,
    "Total storage in bytes.",
    []
);
metric!(
    CPU_COUNT,
    "mikrotik_system_cpu_cores",
    Gauge,
    "Number of CPU cores.",
    []
);
metric!(
    CPU_FREQUENCY,
    "mikrotik_system_cpu_frequency_hertz",
    Gauge,
    "CPU clock frequency in hertz.",
    []
);
metric!(
    INFO,
    "mikrotik_system_info",
    Gauge,
    "System information (value 1).",
    [
        "version",
        "board",
        "architecture",
        "identity",
        "serial_number",
        "firmware",
    ]
);
metric!(
    FIRMWARE_UPGRADE,
    "mikrotik_system_firmware_upgrade_available",
    Gauge,
    "1 when the RouterBOOT upgrade firmware differs from the current one.",
    ["current", "upgrade"]
);
metric!(
    PACKAGE,
    "mikrotik_system_package_enabled",
    Gauge,
    "Installed package, 1 when enabled and 0 when disabled.",
    ["name", "version"]
);
metric!(
    PACKAGE_UPDATE,
    "mikrotik_system_package_update_available",
    Gauge,
    "1 when the router's last update check found a RouterOS version other than the installed one.",
    ["installed_version", "latest_version"]
);

static METRICS: &[&MetricDesc] = &[
    &CPU_LOAD,
    &FREE_MEMORY,
    &TOTAL_MEMORY,
    &UPTIME,
    &FREE_HDD,
    &TOTAL_HDD,
    &CPU_COUNT,
    &CPU_FREQUENCY,
    &INFO,
    &FIRMWARE_UPGRADE,
    &PACKAGE,
    &PACKAGE_UPDATE,
];

impl Group for System {
    fn name(&self) -> &'static str {
        "system"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let (resource, identity, routerboard, packages, update) = tokio::join!(
                ctx.rows(Command::new("/system/resource/print").proplist(&[
                    "uptime",
                    "version",
                    "cpu-load",
                    "free-memory",
                    "total-memory",
                    "free-hdd-space",
                    "total-hdd-space",
                    "cpu-count",
                    "cpu-frequency",
                    "architecture-name",
                    "board-name",
                ])),
                ctx.rows(Command::new("/system/identity/print").proplist(&["name"])),
                ctx.rows(Command::new("/system/routerboard/print").proplist(&[
                    "routerboard",
                    "serial-number",
                    "current-firmware",
                    "upgrade-firmware",
                ])),
                ctx.rows(
                    Command::new("/system/package/print")
                        .proplist(&["name", "version", "disabled"])
                ),
                ctx.rows(
                    Command::new("/system/package/update/print")
                        .proplist(&["installed-version", "latest-version"])
                ),
            );
            let resource = resource?;
            let mut families = build(
                resource.first(),
                identity?.first(),
                optional(routerboard)?.as_deref().and_then(<[Row]>::first),
                optional(packages)?.as_deref().unwrap_or_default(),
            );
            let update = optional(update)?;
            families.extend(
                update
                    .as_deref()
                    .and_then(<[Row]>::first)
                    .and_then(package_update),
            );
            Ok(families)
        })
    }
}

/// A missing menu (e.g. `/system/routerboard` hidden by policy) is not fatal here.
fn optional(rows: Result<Vec<Row>, GroupError>) -> Result<Option<Vec<Row>>, GroupError> {
    match rows {
        Ok(rows) => Ok(Some(rows)),
        Err(GroupError::Unsupported(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn gauge(desc: &'static MetricDesc, value: Option<f64>) -> Option<Family> {
    value.map(|v| Family::single(desc, v))
}

/// Converts the replies into families (pure, unit-tested on fixtures).
fn build(
    resource: Option<&Row>,
    identity: Option<&Row>,
    routerboard: Option<&Row>,
    packages: &[Row],
) -> Vec<Family> {
    let mut out = Vec::new();
    let num = |row: Option<&Row>, key: &str| row.and_then(|r| r.str(key)).and_then(parse::float);
    out.extend(gauge(&CPU_LOAD, num(resource, "cpu-load")));
    out.extend(gauge(&FREE_MEMORY, num(resource, "free-memory")));
    out.extend(gauge(&TOTAL_MEMORY, num(resource, "total-memory")));
    out.extend(gauge(
        &UPTIME,
        resource
            .and_then(|r| r.str("uptime"))
            .and_then(parse::duration)
            .map(|d| d.as_secs_f64()),
    ));
    out.extend(gauge(&FREE_HDD, num(resource, "free-hdd-space")));
    out.extend(gauge(&TOTAL_HDD, num(resource, "total-hdd-space")));
    out.extend(gauge(&CPU_COUNT, num(resource, "cpu-count")));
    out.extend(gauge(
        &CPU_FREQUENCY,
        num(resource, "cpu-frequency").map(|mhz| mhz * 1e6),
    ));

    let text = |row: Option<&Row>, key: &str| {
        row.and_then(|r| r.text(key))
            .map(|t| t.into_owned())
            .unwrap_or_default()
    };
    let version = text(resource, "version");
    let version = version.split(' ').next().unwrap_or_default().to_string();
    let mut info = Family::new(&INFO);
    info.push(
        vec![
            version,
            text(resource, "board-name"),
            text(resource, "architecture-name"),
            text(identity, "name"),
            text(routerboard, "serial-number"),
            text(routerboard, "current-firmware"),
        ],
        1.0,
    );
    out.push(info);

    let current = routerboard.and_then(|r| r.str("current-firmware"));
    let upgrade = routerboard.and_then(|r| r.str("upgrade-firmware"));
    if let (Some(current), Some(upgrade)) = (current, upgrade) {
        let mut family = Family::new(&FIRMWARE_UPGRADE);
        family.push(
            vec![current.to_string(), upgrade.to_string()],
            current != upgrade,
        );
        out.push(family);
    }

    let mut family = Family::new(&PACKAGE);
    for package in packages {
        let (Some(name), Some(disabled)) = (
            package.text("name"),
            package.str("disabled").and_then(parse::boolean),
        ) else {
            tracing::debug!(?package, "package row without name or disabled flag");
            continue;
        };
        let version = package.text("version").unwrap_or_default();
        family.push(vec![name.into_owned(), version.into_owned()], !disabled);
    }
    if !family.samples.is_empty() {
        out.push(family);
    }
    out
}

/// `mikrotik_system_package_update_available` from the
/// `/system/package/update` row; `None` before the router's first check
/// (an empty `latest-version`).
fn package_update(row: &Row) -> Option<Family> {
    let version = |key| row.str(key).map(str::trim).filter(|v| !v.is_empty());
    let (installed, latest) = (version("installed-version")?, version("latest-version")?);
    let mut family = Family::new(&PACKAGE_UPDATE);
    family.push(
        vec![installed.to_owned(), latest.to_owned()],
        installed != latest,
    );
    Some(family)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::Value;
    use crate::collect::fixture::rows;

    fn value(families: &[Family], name: &str) -> Option<f64> {
        families
            .iter()
            .find(|f| f.desc.name == name)
            .and_then(|f| f.samples.first())
            .map(|s| s.value.as_f64())
    }

    #[test]
    fn v7_resource_reply() {
        let resource = rows(
            "uptime=1h12m40s  version=7.20.5 (stable)  cpu-load=7  free-memory=705699840  total-memory=1073741824  free-hdd-space=92979200  total-hdd-space=134217728  cpu-count=4  cpu-frequency=864  architecture-name=arm64  board-name=hAP ax^2",
        );
        let identity = rows("name=core1");
        let rb = rows(
            "routerboard=true  serial-number=HEX123  current-firmware=7.15.3  upgrade-firmware=7.16",
        );
        let packages = rows(
            "name=routeros  version=7.20.5  disabled=false\nname=container  version=7.20.5  disabled=true",
        );
        let f = build(resource.first(), identity.first(), rb.first(), &packages);
        assert_eq!(value(&f, "mikrotik_system_uptime_seconds"), Some(4360.0));
        assert_eq!(value(&f, "mikrotik_system_cpu_load"), Some(7.0));
        assert_eq!(
            value(&f, "mikrotik_system_cpu_frequency_hertz"),
            Some(864e6)
        );
        let info = f
            .iter()
            .find(|f| f.desc.name == "mikrotik_system_info")
            .unwrap();
        assert_eq!(
            info.samples[0].labels,
            vec!["7.20.5", "hAP ax^2", "arm64", "core1", "HEX123", "7.15.3"]
        );
        assert_eq!(
            value(&f, "mikrotik_system_firmware_upgrade_available"),
            Some(1.0)
        );
        let pkg = f
            .iter()
            .find(|f| f.desc.name == "mikrotik_system_package_enabled")
            .unwrap();
        assert_eq!(pkg.samples[1].value, Value::Int(0));
    }

    #[test]
    fn v6_chr_reply_with_odd_fields() {
        let resource =
            rows("uptime=1d22:36:21  version=6.49.10 (long-term)  cpu-load=high  board-name=x86");
        let rb = rows("routerboard=false");
        let f = build(resource.first(), None, rb.first(), &[]);
        assert_eq!(value(&f, "mikrotik_system_uptime_seconds"), Some(167_781.0));
        // An unparseable cpu-load costs that one sample only.
        assert_eq!(value(&f, "mikrotik_system_cpu_load"), None);
        assert!(
            f.iter()
                .all(|f| f.desc.name != "mikrotik_system_firmware_upgrade_available")
        );
        let info = f
            .iter()
            .find(|f| f.desc.name == "mikrotik_system_info")
            .unwrap();
        assert_eq!(info.samples[0].labels[0], "6.49.10");
    }

    #[test]
    fn v7_and_v6_package_update_only_after_a_check() {
        let newer = rows(
            "channel=stable  installed-version=7.16  latest-version=7.16.1  status=New version is available",
        );
        let f = package_update(&newer[0]).expect("a checked router");
        assert_eq!(f.samples[0].labels, ["7.16", "7.16.1"]);
        assert_eq!(f.samples[0].value, Value::Int(1));
        let current = rows("channel=long-term  installed-version=6.49.10  latest-version=6.49.10");
        let f = package_update(&current[0]).expect("a checked router");
        assert_eq!(f.samples[0].value, Value::Int(0));
        for unchecked in [
            "channel=stable  installed-version=6.49.10  latest-version=",
            "channel=stable  installed-version=7.5",
            "latest-version=7.16",
        ] {
            assert_eq!(package_update(&rows(unchecked)[0]), None, "{unchecked}");
        }
    }
}
