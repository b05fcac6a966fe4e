//! `health`: hardware sensors (temperatures, voltages, currents, power, fans,
//! PSU states).
//!
//! Command: `/system/health/print` with `.proplist` of the RouterOS 7 columns
//! (`name`, `value`, `type`) plus the RouterOS 6 flat sensor properties
//! ([`V6_SENSORS`]); each version ignores the names it does not have.
//!
//! RouterOS 7 answers one row per sensor (`name`, `value`, `type` = `C`, `V`,
//! `A`, `W`, `RPM`, or empty for states such as `psu1-state=ok`). RouterOS 6
//! answers one flat row (`voltage=24.1`, `cpu-temperature=41`, …), turned into
//! the same sensors by inferring the unit from the property name. CHR/x86 has no
//! sensors: no rows, no samples, and the group still succeeds.

use super::family::{Family, MetricDesc, metric};
use super::{Context, Group, GroupFuture, parse};
use routeros::{Command, Row};
use std::collections::HashSet;

/// The `health` group: the sensors of RouterOS's `/system/health`.
pub struct Sensors;

metric!(
    TEMPERATURE,
    "mikrotik_health_temperature_celsius",
    Gauge,
    "Temperature sensor reading in degrees Celsius.",
    ["sensor"]
);
metric!(
    VOLTAGE,
    "mikrotik_health_voltage_volts",
    Gauge,
    "Voltage sensor reading in volts.",
    ["sensor"]
);
metric!(
    CURRENT,
    "mikrotik_health_current_amperes",
    Gauge,
    "Current sensor reading in amperes.",
    ["sensor"]
);
metric!(
    POWER,
    "mikrotik_health_power_watts",
    Gauge,
    "Power sensor reading in watts.",
    ["sensor"]
);
metric!(
    FAN_SPEED,
    "mikrotik_health_fan_speed_rpm",
    Gauge,
    "Fan speed in revolutions per minute.",
    ["sensor"]
);
metric!(
    STATE,
    "mikrotik_health_state",
    Gauge,
    "State sensor (e.g. PSU): 1 for its current state.",
    ["sensor", "state"]
);
metric!(
    OK,
    "mikrotik_health_ok",
    Gauge,
    "State sensor: 1 when its state is ok, 0 otherwise.",
    ["sensor"]
);

static METRICS: &[&MetricDesc] = &[
    &TEMPERATURE,
    &VOLTAGE,
    &CURRENT,
    &POWER,
    &FAN_SPEED,
    &STATE,
    &OK,
];

/// The RouterOS 7 per-sensor columns.
const V7_COLUMNS: [&str; 3] = ["name", "value", "type"];

/// RouterOS 6 flat health properties that are sensors (the names seen across
/// routers and exporters). Settings on the same row (`fan-mode`, `use-fan`,
/// `active-fan`) are left out.
const V6_SENSORS: &[&str] = &[
    "voltage",
    "current",
    "temperature",
    "cpu-temperature",
    "board-temperature1",
    "board-temperature2",
    "phy-temperature",
    "switch-temperature",
    "sfp-temperature",
    "power-consumption",
    "poe-out-consumption",
    "jack-voltage",
    "2pin-voltage",
    "poe-in-voltage",
    "fan1-speed",
    "fan2-speed",
    "fan3-speed",
    "fan4-speed",
    "fan-state",
    "psu1-state",
    "psu2-state",
    "psu1-voltage",
    "psu2-voltage",
    "psu1-current",
    "psu2-current",
];

impl Group for Sensors {
    fn name(&self) -> &'static str {
        "health"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let fields: Vec<&str> = V7_COLUMNS.iter().chain(V6_SENSORS).copied().collect();
            let rows = ctx
                .rows(Command::new("/system/health/print").proplist(&fields))
                .await?;
            Ok(build(&rows))
        })
    }
}

/// What a sensor measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Celsius,
    Volts,
    Amperes,
    Watts,
    Rpm,
    /// A state word (`ok`, `fail`).
    State,
}

impl Kind {
    /// From a RouterOS 7 `type` (non-empty); `None` for units we do not know.
    fn from_type(unit: &str) -> Option<Self> {
        match unit.trim() {
            "C" | "c" => Some(Kind::Celsius),
            "V" | "v" => Some(Kind::Volts),
            "A" | "a" => Some(Kind::Amperes),
            "W" | "w" => Some(Kind::Watts),
            u if u.eq_ignore_ascii_case("rpm") => Some(Kind::Rpm),
            _ => None,
        }
    }

    /// The unit of a numeric sensor, inferred from its name.
    fn numeric_from_name(name: &str) -> Option<Self> {
        let name = name.to_ascii_lowercase();
        if name.contains("temperature") {
            Some(Kind::Celsius)
        } else if name.contains("voltage") {
            Some(Kind::Volts)
        } else if name.contains("current") {
            Some(Kind::Amperes)
        } else if name.contains("power") || name.contains("consumption") {
            Some(Kind::Watts)
        } else if name.ends_with("-speed") || name.starts_with("fan") {
            Some(Kind::Rpm)
        } else {
            None
        }
    }

    /// The kind of a sensor from its name, its `type` (`None` on RouterOS 6,
    /// where only the name is known) and its value.
    ///
    /// A non-empty `type` decides. Without one, a numeric value takes its unit
    /// from the name (so a numeric reading never becomes a churning state
    /// label); a word is a state when the `type` is empty (RouterOS 7) or the
    /// name ends in `-state` (RouterOS 6).
    fn of(name: &str, unit: Option<&str>, value: &str) -> Option<Self> {
        match unit.map(str::trim) {
            Some(u) if !u.is_empty() => Self::from_type(u),
            _ if parse::float(value).is_some() => Self::numeric_from_name(name),
            Some(_) => Some(Kind::State),
            None if name.to_ascii_lowercase().ends_with("-state") => Some(Kind::State),
            None => None,
        }
    }
}

/// One sensor reading, whichever RouterOS shape it came from.
struct Sensor<'a> {
    name: String,
    value: &'a [u8],
    unit: Option<&'a str>,
}

/// The sensors of the reply: RouterOS 7 rows carry `name`; any other row is a
/// RouterOS 6 flat row whose every property is one sensor.
fn sensors(rows: &[Row]) -> Vec<Sensor<'_>> {
    let mut out = Vec::new();
    for row in rows {
        if let Some(name) = row.text("name") {
            let Some(value) = row.get("value") else {
                tracing::debug!(?row, "health row without a value");
                continue;
            };
            out.push(Sensor {
                name: name.into_owned(),
                value,
                unit: Some(row.str("type").unwrap_or_default()),
            });
        } else {
            out.extend(
                row.attributes()
                    .filter(|(key, _)| !key.starts_with(b"."))
                    .map(|(key, value)| Sensor {
                        name: String::from_utf8_lossy(key).into_owned(),
                        value,
                        unit: None,
                    }),
            );
        }
    }
    out
}

/// Converts the `/system/health/print` reply into families (pure, unit-tested
/// on fixtures). Only non-empty families are returned.
fn build(rows: &[Row]) -> Vec<Family> {
    let mut temperature = Family::new(&TEMPERATURE);
    let mut voltage = Family::new(&VOLTAGE);
    let mut current = Family::new(&CURRENT);
    let mut power = Family::new(&POWER);
    let mut fan = Family::new(&FAN_SPEED);
    let mut state = Family::new(&STATE);
    let mut ok = Family::new(&OK);
    let mut seen = HashSet::new();

    for sensor in sensors(rows) {
        let raw = String::from_utf8_lossy(sensor.value);
        let value = raw.trim();
        let Some(kind) = Kind::of(&sensor.name, sensor.unit, value) else {
            tracing::debug!(
                sensor = %sensor.name,
                unit = ?sensor.unit,
                value,
                "health sensor of unknown unit skipped"
            );
            continue;
        };
        if !seen.insert(sensor.name.clone()) {
            tracing::debug!(sensor = %sensor.name, "duplicate health sensor skipped");
            continue;
        }
        let family = match kind {
            Kind::State => {
                if value.is_empty() {
                    tracing::debug!(sensor = %sensor.name, "health state without a value");
                    continue;
                }
                state.push(vec![sensor.name.clone(), value.to_owned()], 1.0);
                ok.push(vec![sensor.name], value.eq_ignore_ascii_case("ok"));
                continue;
            }
            Kind::Celsius => &mut temperature,
            Kind::Volts => &mut voltage,
            Kind::Amperes => &mut current,
            Kind::Watts => &mut power,
            Kind::Rpm => &mut fan,
        };
        match parse::float(value) {
            Some(v) => family.push(vec![sensor.name], v),
            None => tracing::debug!(sensor = %sensor.name, value, "unparseable health value"),
        }
    }

    [temperature, voltage, current, power, fan, state, ok]
        .into_iter()
        .filter(|f| !f.samples.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::samples_named;
    use crate::collect::fixture::assert_no_duplicate_series;
    use crate::collect::fixture::rows;
    use routeros_sim::menus::testkit::Fixture;

    fn value(families: &[Family], name: &str, sensor: &str) -> Option<f64> {
        samples_named(families, name)
            .find(|s| s.labels[0] == sensor)
            .map(|s| s.value.as_f64())
    }

    fn states(families: &[Family]) -> Vec<(String, String)> {
        samples_named(families, "mikrotik_health_state")
            .map(|s| (s.labels[0].to_string(), s.labels[1].to_string()))
            .collect()
    }

    fn sample_count(families: &[Family]) -> usize {
        families.iter().map(|f| f.samples.len()).sum()
    }

    /// CRS312-4C+8XG on 7.1beta6 (reference §2.4), plus `W`/`A` rows.
    #[test]
    fn v7_rows_per_sensor() {
        let f = build(&rows(
            "
            .id=*11  name=cpu-temperature  value=38  type=C
            .id=*34  name=phy-temperature  value=39  type=C
            .id=*1B59  name=fan1-speed  value=3165  type=RPM
            .id=*1B5A  name=fan2-speed  value=3225  type=RPM
            .id=*1B5B  name=fan3-speed  value=3315  type=RPM
            .id=*1B5C  name=fan4-speed  value=3270  type=RPM
            .id=*1CE9  name=psu1-state  value=ok  type=
            .id=*1CEA  name=psu2-state  value=fail  type=
            .id=*40  name=psu1-voltage  value=12.1  type=V
            .id=*41  name=psu1-current  value=1.5  type=A
            .id=*42  name=power-consumption  value=18.4  type=W
            ",
        ));
        let t = "mikrotik_health_temperature_celsius";
        assert_eq!(value(&f, t, "cpu-temperature"), Some(38.0));
        assert_eq!(value(&f, t, "phy-temperature"), Some(39.0));
        let fan = "mikrotik_health_fan_speed_rpm";
        assert_eq!(value(&f, fan, "fan1-speed"), Some(3165.0));
        assert_eq!(value(&f, fan, "fan4-speed"), Some(3270.0));
        assert_eq!(
            value(&f, "mikrotik_health_voltage_volts", "psu1-voltage"),
            Some(12.1)
        );
        assert_eq!(
            value(&f, "mikrotik_health_current_amperes", "psu1-current"),
            Some(1.5)
        );
        assert_eq!(
            value(&f, "mikrotik_health_power_watts", "power-consumption"),
            Some(18.4)
        );
        assert_eq!(
            states(&f),
            vec![
                ("psu1-state".into(), "ok".into()),
                ("psu2-state".into(), "fail".into())
            ]
        );
        assert_eq!(value(&f, "mikrotik_health_state", "psu2-state"), Some(1.0));
        assert_eq!(value(&f, "mikrotik_health_ok", "psu1-state"), Some(1.0));
        assert_eq!(value(&f, "mikrotik_health_ok", "psu2-state"), Some(0.0));
        assert_eq!(sample_count(&f), 13);
        assert_no_duplicate_series(&f);
    }

    #[test]
    fn v6_flat_row() {
        let f = build(&rows(
            "voltage=24.1  current=1.2  temperature=35  cpu-temperature=41  fan1-speed=4200  \
             fan2-speed=4260  psu1-state=ok  psu2-state=fail  power-consumption=28.9  \
             poe-out-consumption=0  psu1-voltage=12.0",
        ));
        assert_eq!(
            value(&f, "mikrotik_health_voltage_volts", "voltage"),
            Some(24.1)
        );
        assert_eq!(
            value(&f, "mikrotik_health_voltage_volts", "psu1-voltage"),
            Some(12.0)
        );
        assert_eq!(
            value(&f, "mikrotik_health_current_amperes", "current"),
            Some(1.2)
        );
        let t = "mikrotik_health_temperature_celsius";
        assert_eq!(value(&f, t, "temperature"), Some(35.0));
        assert_eq!(value(&f, t, "cpu-temperature"), Some(41.0));
        let fan = "mikrotik_health_fan_speed_rpm";
        assert_eq!(value(&f, fan, "fan1-speed"), Some(4200.0));
        assert_eq!(value(&f, fan, "fan2-speed"), Some(4260.0));
        let w = "mikrotik_health_power_watts";
        assert_eq!(value(&f, w, "power-consumption"), Some(28.9));
        assert_eq!(value(&f, w, "poe-out-consumption"), Some(0.0));
        assert_eq!(
            states(&f),
            vec![
                ("psu1-state".into(), "ok".into()),
                ("psu2-state".into(), "fail".into())
            ]
        );
        assert_eq!(value(&f, "mikrotik_health_ok", "psu2-state"), Some(0.0));
        assert_no_duplicate_series(&f);
    }

    #[test]
    fn v6_and_v7_shapes_agree() {
        let v6 = build(&rows("voltage=23.9  temperature=42  psu1-state=ok"));
        let v7 = build(&rows(
            "name=voltage  value=23.9  type=V\nname=temperature  value=42  type=C\nname=psu1-state  value=ok  type=",
        ));
        assert_eq!(v6, v7);
    }

    /// CHR/x86: `!done` only (or `!empty` + `!done`, which the client folds into
    /// no rows).
    #[test]
    fn chr_without_sensors() {
        assert!(build(&[]).is_empty());
        // A v6 router whose sensors all lie outside the `.proplist`: a bare `!re`.
        assert!(build(&[Row::from_pairs(Vec::<(String, String)>::new())]).is_empty());
    }

    #[test]
    fn odd_values_cost_one_sample() {
        let f = build(&rows(
            "
            name=cpu-temperature  value=hot  type=C
            name=temperature  value=40  type=C
            name=humidity  value=40  type=%
            name=fan1-speed  value=  type=RPM
            name=psu1-state  value=  type=
            name=psu2-state  value=ok  type=
            name=temperature  value=41  type=C
            name=mystery  value=7  type=
            name=board-temperature1  value=37
            name=no-value  type=C
            ",
        ));
        let t = "mikrotik_health_temperature_celsius";
        assert_eq!(value(&f, t, "cpu-temperature"), None);
        // The first of two rows with one name wins.
        assert_eq!(value(&f, t, "temperature"), Some(40.0));
        // Without a `type` the unit comes from the name.
        assert_eq!(value(&f, t, "board-temperature1"), Some(37.0));
        assert_eq!(states(&f), vec![("psu2-state".into(), "ok".into())]);
        // A number with an empty type is not a state; no unit in the name: skipped.
        assert_eq!(sample_count(&f), 4);
        assert_no_duplicate_series(&f);
    }

    #[test]
    fn v6_settings_on_the_row_are_skipped() {
        let f = build(&rows(
            "fan-mode=auto  use-fan=main  active-fan=main  fan-state=ok  state=enabled  temperature=30",
        ));
        assert_eq!(states(&f), vec![("fan-state".into(), "ok".into())], "{f:?}");
        assert_eq!(sample_count(&f), 3);
    }

    #[test]
    fn unit_inference_from_names() {
        let cases = [
            ("temperature", Kind::Celsius),
            ("sfp-temperature", Kind::Celsius),
            ("board-temperature2", Kind::Celsius),
            ("2pin-voltage", Kind::Volts),
            ("poe-in-voltage", Kind::Volts),
            ("psu2-current", Kind::Amperes),
            ("power-consumption", Kind::Watts),
            ("poe-out-consumption", Kind::Watts),
            ("fan3-speed", Kind::Rpm),
            ("fan1", Kind::Rpm),
        ];
        for (name, kind) in cases {
            assert_eq!(Kind::of(name, None, "12"), Some(kind), "{name}");
        }
        assert_eq!(Kind::of("psu1-state", None, "ok"), Some(Kind::State));
        assert_eq!(Kind::of("fan-mode", None, "auto"), None);
        assert_eq!(Kind::of("x", Some("RPM"), "1"), Some(Kind::Rpm));
        assert_eq!(Kind::of("x", Some("dBm"), "1"), None);
    }

    /// The simulator's boards: every sensor of every board becomes one sample
    /// (the `.proplist` covers every simulated v6 sensor), with no duplicate
    /// series; CHR/x86 (index 3) has none.
    #[test]
    fn simulator_boards() {
        let menu = routeros_sim::menus::registry()
            .into_iter()
            .find(|m| m.path() == "/system/health")
            .expect("health menu");
        let wanted: HashSet<&str> = V7_COLUMNS.iter().chain(V6_SENSORS).copied().collect();
        for fixture in [Fixture::v6(), Fixture::v7()] {
            for index in 0..4 {
                let sim = menu.rows(&fixture.view(index, 100));
                let sensors = if fixture.personality.is_v7() {
                    sim.len()
                } else {
                    sim.iter().map(Vec::len).sum()
                };
                let data: Vec<Row> = sim
                    .into_iter()
                    .map(|row| {
                        Row::from_pairs(
                            row.into_iter().filter(|(k, _)| wanted.contains(k.as_str())),
                        )
                    })
                    .collect();
                let f = build(&data);
                assert_no_duplicate_series(&f);
                let states = states(&f).len();
                assert_eq!(sample_count(&f), sensors + states, "{index}: {f:?}");
                if index == 3 {
                    assert!(f.is_empty(), "CHR/x86 has no sensors");
                }
            }
        }
    }
}
