//! `lte`: LTE and 5G NR modems: signal, serving cell, band, registration
//! state, operator and access technology.
//!
//! Commands:
//! 1. `/interface/lte/print =.proplist=.id,name,running,disabled`: the modems.
//!    Only running, enabled ones are asked further; with none (most boards:
//!    an empty print, or no LTE menu at all: unsupported) nothing else is sent.
//! 2. RouterOS 7: one `/interface/lte/monitor =numbers=*1,*2 =once=` for all
//!    of them. RouterOS 6 has no `monitor` but `info`, which takes a single
//!    `=number=`: one `/interface/lte/info =number=*1 =once=` per running
//!    modem (boards have one or two). Both with `.proplist` of [`FIELDS`].
//!    The version comes from the context (`/system/resource/print` once per
//!    target, remembered until the router reboots), so no probe tries both
//!    verbs. RouterOS 6 allows `info` only to users with the `test` policy:
//!    others get `not enough permissions`, the group's failure reason.
//!
//! The serving cell (`current-cellid`, `enb-id`, `sector-id`, `phy-cellid`)
//! changes on every handover, so it is exported as numeric gauges: an info
//! series keyed by it would start a new series at each handover, and as a
//! label on the signal gauges it would split every signal history. Bands are
//! gauges too (`primary-band` `B3@20Mhz earfcn: …` is 3, `nr-band` `n78@…`
//! is 78). Operator, access technology, functionality and PIN status change
//! only when the modem changes network, so they form one small info series;
//! the registration status is a state set (unknown states kept). The
//! subscriber identifiers on the same rows (`imei`, `imsi`, `uicc`) are
//! never fetched. Signal values come with or without units (`-67dBm` or
//! `-67`, `-9dB` or `-9`); a value that does not parse costs that sample.

use super::family::{Family, MetricDesc, Value, metric};
use super::parse::{self, Bare};
use super::{Context, Group, GroupFuture};
use routeros::{Command, Row};
use std::collections::HashSet;

/// The `lte` group.
pub struct Lte;

const MODEM: &[&str] = &["interface"];

metric!(
    RSSI,
    "mikrotik_lte_rssi_dbm",
    Gauge,
    "Received signal strength indicator in dBm.",
    MODEM
);
metric!(
    RSRP,
    "mikrotik_lte_rsrp_dbm",
    Gauge,
    "LTE reference signal received power in dBm.",
    MODEM
);
metric!(
    RSRQ,
    "mikrotik_lte_rsrq_db",
    Gauge,
    "LTE reference signal received quality in dB.",
    MODEM
);
metric!(
    SINR,
    "mikrotik_lte_sinr_db",
    Gauge,
    "LTE signal to interference and noise ratio in dB.",
    MODEM
);
metric!(
    CQI,
    "mikrotik_lte_cqi",
    Gauge,
    "Channel quality indicator (0-15).",
    MODEM
);
metric!(
    NR_RSRP,
    "mikrotik_lte_nr_rsrp_dbm",
    Gauge,
    "5G NR reference signal received power in dBm.",
    MODEM
);
metric!(
    NR_RSRQ,
    "mikrotik_lte_nr_rsrq_db",
    Gauge,
    "5G NR reference signal received quality in dB.",
    MODEM
);
metric!(
    NR_SINR,
    "mikrotik_lte_nr_sinr_db",
    Gauge,
    "5G NR signal to interference and noise ratio in dB.",
    MODEM
);
metric!(
    SESSION_UPTIME,
    "mikrotik_lte_session_uptime_seconds",
    Gauge,
    "Time since the modem's data session came up.",
    MODEM
);
metric!(
    CELL_ID,
    "mikrotik_lte_cell_id",
    Gauge,
    "Serving cell id (E-UTRAN cell identity); changes on handover.",
    MODEM
);
metric!(
    ENB_ID,
    "mikrotik_lte_enb_id",
    Gauge,
    "Serving eNodeB id.",
    MODEM
);
metric!(
    SECTOR_ID,
    "mikrotik_lte_sector_id",
    Gauge,
    "Serving sector id within the eNodeB.",
    MODEM
);
metric!(
    PHY_CELL_ID,
    "mikrotik_lte_phy_cell_id",
    Gauge,
    "Physical cell id of the serving cell.",
    MODEM
);
metric!(
    PRIMARY_BAND,
    "mikrotik_lte_primary_band",
    Gauge,
    "LTE band number of the primary carrier.",
    MODEM
);
metric!(
    NR_BAND,
    "mikrotik_lte_nr_band",
    Gauge,
    "5G NR band number.",
    MODEM
);
metric!(
    NR_ARFCN,
    "mikrotik_lte_nr_arfcn",
    Gauge,
    "5G NR absolute radio frequency channel number.",
    MODEM
);
metric!(
    REGISTRATION,
    "mikrotik_lte_registration_status",
    Gauge,
    "Network registration status: 1 for the current state, 0 for the other known states.",
    ["interface", "status"]
);
metric!(
    INFO,
    "mikrotik_lte_info",
    Gauge,
    "Network the modem uses (value 1).",
    [
        "interface",
        "operator",
        "access_technology",
        "functionality",
        "pin_status"
    ]
);

/// How a field's text becomes a number.
#[derive(Debug, Clone, Copy)]
enum Read {
    /// `-67dBm` or `-67`.
    Dbm,
    /// `-9dB` or `-9`.
    Db,
    /// A non-negative integer (ids, channel numbers, CQI).
    Integer,
    /// A RouterOS duration, in seconds.
    Duration,
    /// A band: the digits after the leading letters (`B3@20Mhz …` is 3).
    Band,
}

impl Read {
    fn value(self, raw: &str) -> Option<Value> {
        match self {
            Read::Dbm => parse::measure(raw, "dBm", Bare::Unit).map(Value::Float),
            Read::Db => parse::measure(raw, "dB", Bare::Unit).map(Value::Float),
            Read::Integer => parse::unsigned(raw).map(Value::Int),
            Read::Duration => parse::duration(raw).map(|d| Value::Float(d.as_secs_f64())),
            Read::Band => band(raw).map(Value::Int),
        }
    }
}

/// The numeric fields: (RouterOS property, how to read it, family).
static NUMERIC: [(&str, Read, &MetricDesc); 16] = [
    ("rssi", Read::Dbm, &RSSI),
    ("rsrp", Read::Dbm, &RSRP),
    ("rsrq", Read::Db, &RSRQ),
    ("sinr", Read::Db, &SINR),
    ("cqi", Read::Integer, &CQI),
    ("nr-rsrp", Read::Dbm, &NR_RSRP),
    ("nr-rsrq", Read::Db, &NR_RSRQ),
    ("nr-sinr", Read::Db, &NR_SINR),
    ("session-uptime", Read::Duration, &SESSION_UPTIME),
    ("current-cellid", Read::Integer, &CELL_ID),
    ("enb-id", Read::Integer, &ENB_ID),
    ("sector-id", Read::Integer, &SECTOR_ID),
    ("phy-cellid", Read::Integer, &PHY_CELL_ID),
    ("primary-band", Read::Band, &PRIMARY_BAND),
    ("nr-band", Read::Band, &NR_BAND),
    ("nr-arfcn", Read::Integer, &NR_ARFCN),
];

/// The properties of the info series, in label order after `interface`.
const INFO_FIELDS: [&str; 4] = [
    "current-operator",
    "access-technology",
    "functionality",
    "pin-status",
];

static METRICS: &[&MetricDesc] = &[
    &RSSI,
    &RSRP,
    &RSRQ,
    &SINR,
    &CQI,
    &NR_RSRP,
    &NR_RSRQ,
    &NR_SINR,
    &SESSION_UPTIME,
    &CELL_ID,
    &ENB_ID,
    &SECTOR_ID,
    &PHY_CELL_ID,
    &PRIMARY_BAND,
    &NR_BAND,
    &NR_ARFCN,
    &REGISTRATION,
    &INFO,
];

/// The properties of `monitor` (v7) and `info` (v6): only those used.
const FIELDS: &[&str] = &[
    "name",
    "registration-status",
    "current-operator",
    "access-technology",
    "functionality",
    "pin-status",
    "rssi",
    "rsrp",
    "rsrq",
    "sinr",
    "cqi",
    "nr-rsrp",
    "nr-rsrq",
    "nr-sinr",
    "session-uptime",
    "current-cellid",
    "enb-id",
    "sector-id",
    "phy-cellid",
    "primary-band",
    "nr-band",
    "nr-arfcn",
];

/// `registration-status` values of RouterOS 6 and 7; others are kept too.
const KNOWN_REGISTRATION: &[&str] = &[
    "registered",
    "roaming",
    "searching",
    "not-registered",
    "denied",
    "unknown",
];

const MENU: &str = "/interface/lte";

impl Group for Lte {
    fn name(&self) -> &'static str {
        "lte"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let print = Command::new(&format!("{MENU}/print"))
                .proplist(&[".id", "name", "running", "disabled"]);
            let modems = live_modems(&ctx.rows(print).await?);
            if modems.is_empty() {
                return Ok(build(&[]));
            }
            let readings = if ctx.ros_version().await?.is_v7() {
                let ids: Vec<String> = modems.iter().map(|(id, _)| id.clone()).collect();
                let rows = ctx.monitor(MENU, &ids, FIELDS).await?;
                rows.into_iter()
                    .filter_map(|row| Some((row.text("name")?.into_owned(), row)))
                    .collect()
            } else {
                let mut readings = Vec::with_capacity(modems.len());
                for (id, name) in modems {
                    let info = Command::new(&format!("{MENU}/info"))
                        .attr("number", &id)
                        .flag("once")
                        .proplist(FIELDS);
                    if let Some(row) = ctx.rows(info).await?.into_iter().next() {
                        readings.push((name, row));
                    }
                }
                readings
            };
            Ok(build(&readings))
        })
    }
}

/// `(.id, name)` of the running, enabled modems.
fn live_modems(rows: &[Row]) -> Vec<(String, String)> {
    let flag = |row: &Row, key: &str| row.str(key).and_then(parse::boolean);
    rows.iter()
        .filter(|r| flag(r, "running") == Some(true) && flag(r, "disabled") != Some(true))
        .filter_map(|r| Some((r.str(".id")?.to_owned(), r.text("name")?.into_owned())))
        .collect()
}

/// The band number of `B3@20Mhz earfcn: 1300 phy-cellid: 262`, `n78@100Mhz`
/// or `3`: the digits after any leading letters.
fn band(raw: &str) -> Option<u64> {
    let digits: String = raw
        .trim()
        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    parse::unsigned(&digits)
}

/// Converts `(modem name, monitor or info row)` pairs into families (pure,
/// unit-tested on fixtures).
fn build(readings: &[(String, Row)]) -> Vec<Family> {
    let mut numeric: Vec<Family> = NUMERIC.iter().map(|(_, _, d)| Family::new(d)).collect();
    let mut registration = Family::new(&REGISTRATION);
    let mut info = Family::new(&INFO);
    let mut seen = HashSet::new();
    for (name, row) in readings {
        if !seen.insert(name) {
            tracing::debug!(interface = %name, "duplicate LTE modem, keeping the first");
            continue;
        }
        let labels = vec![name.clone()];
        for ((key, read, _), family) in NUMERIC.iter().zip(&mut numeric) {
            let Some(raw) = row.str(key).filter(|r| !r.trim().is_empty()) else {
                continue;
            };
            match read.value(raw) {
                Some(v) => family.push(labels.clone(), v),
                None => tracing::debug!(interface = %name, key, raw, "unparseable LTE value"),
            }
        }
        let status = row.text("registration-status").unwrap_or_default();
        registration.push_state_set(&labels, KNOWN_REGISTRATION, &status);
        let network: Vec<String> = INFO_FIELDS
            .iter()
            .map(|key| {
                row.text(key)
                    .map(|t| t.trim().to_owned())
                    .unwrap_or_default()
            })
            .collect();
        if network.iter().any(|v| !v.is_empty()) {
            info.push([labels, network].concat(), 1u64);
        }
    }
    numeric.push(registration);
    numeric.push(info);
    numeric
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::samples_named;
    use crate::collect::fixture::{assert_no_duplicate_series, rows};

    fn named(text: &str) -> Vec<(String, Row)> {
        rows(text)
            .into_iter()
            .map(|r| (r.str("name").unwrap_or_default().to_owned(), r))
            .collect()
    }

    fn value(families: &[Family], metric: &str, modem: &str) -> Option<f64> {
        samples_named(families, metric)
            .find(|s| s.labels[0] == modem)
            .map(|s| s.value.as_f64())
    }

    fn registration(families: &[Family], modem: &str) -> (Option<String>, usize) {
        let of: Vec<_> = samples_named(families, "mikrotik_lte_registration_status")
            .filter(|s| s.labels[0] == modem)
            .collect();
        let on = of.iter().find(|s| s.value == Value::Int(1));
        (on.map(|s| s.labels[1].to_string()), of.len())
    }

    /// RouterOS 7 `monitor`: units on signals, a 5G NSA modem with NR fields.
    #[test]
    fn v7_monitor_rows() {
        let f = build(&named(
            "
            name=lte1  registration-status=registered  current-operator=Sim Telecom  access-technology=LTE  functionality=full  pin-status=ok  rssi=-67dBm  rsrp=-95dBm  rsrq=-9dB  sinr=12dB  cqi=11  session-uptime=1h2m3s  current-cellid=44668421  enb-id=174486  sector-id=5  phy-cellid=262  primary-band=B3@20Mhz earfcn: 1300 phy-cellid: 262
            name=lte2  registration-status=registered  current-operator=Roam Mobile  access-technology=5G NSA  functionality=full  pin-status=ok  rsrp=-101dBm  rsrq=-12dB  sinr=3dB  nr-rsrp=-88dBm  nr-rsrq=-11dB  nr-sinr=18dB  nr-arfcn=636666  nr-band=n78@100Mhz  primary-band=B20@10Mhz earfcn: 6300 phy-cellid: 7
            ",
        ));
        assert_no_duplicate_series(&f);
        assert_eq!(value(&f, "mikrotik_lte_rssi_dbm", "lte1"), Some(-67.0));
        assert_eq!(value(&f, "mikrotik_lte_rsrp_dbm", "lte1"), Some(-95.0));
        assert_eq!(value(&f, "mikrotik_lte_rsrq_db", "lte1"), Some(-9.0));
        assert_eq!(value(&f, "mikrotik_lte_sinr_db", "lte1"), Some(12.0));
        assert_eq!(value(&f, "mikrotik_lte_cqi", "lte1"), Some(11.0));
        assert_eq!(
            value(&f, "mikrotik_lte_session_uptime_seconds", "lte1"),
            Some(3_723.0)
        );
        assert_eq!(
            value(&f, "mikrotik_lte_cell_id", "lte1"),
            Some(44_668_421.0)
        );
        assert_eq!(value(&f, "mikrotik_lte_enb_id", "lte1"), Some(174_486.0));
        assert_eq!(value(&f, "mikrotik_lte_sector_id", "lte1"), Some(5.0));
        assert_eq!(value(&f, "mikrotik_lte_phy_cell_id", "lte1"), Some(262.0));
        assert_eq!(value(&f, "mikrotik_lte_primary_band", "lte1"), Some(3.0));
        assert_eq!(value(&f, "mikrotik_lte_nr_rsrp_dbm", "lte1"), None);
        assert_eq!(value(&f, "mikrotik_lte_primary_band", "lte2"), Some(20.0));
        assert_eq!(value(&f, "mikrotik_lte_nr_rsrp_dbm", "lte2"), Some(-88.0));
        assert_eq!(value(&f, "mikrotik_lte_nr_rsrq_db", "lte2"), Some(-11.0));
        assert_eq!(value(&f, "mikrotik_lte_nr_sinr_db", "lte2"), Some(18.0));
        assert_eq!(value(&f, "mikrotik_lte_nr_band", "lte2"), Some(78.0));
        assert_eq!(value(&f, "mikrotik_lte_nr_arfcn", "lte2"), Some(636_666.0));
        let states = KNOWN_REGISTRATION.len();
        assert_eq!(
            registration(&f, "lte1"),
            (Some("registered".into()), states)
        );
        let info: Vec<Vec<String>> = samples_named(&f, "mikrotik_lte_info")
            .map(|s| s.label_strings())
            .collect();
        assert_eq!(
            info,
            [
                ["lte1", "Sim Telecom", "LTE", "full", "ok"],
                ["lte2", "Roam Mobile", "5G NSA", "full", "ok"]
            ]
        );
    }

    /// RouterOS 6 `info`: plain numbers, no NR fields, no `name`.
    #[test]
    fn v6_info_rows() {
        let reading = rows(
            "pin-status=ok  registration-status=roaming  functionality=full  current-operator=26201  \
             access-technology=Evolved 3G (LTE)  session-uptime=2d03:04:05  current-cellid=2345  \
             rssi=-71  rsrp=-99  rsrq=-10  sinr=7  cqi=9  primary-band=B7@20Mhz earfcn: 3100 phy-cellid: 9",
        );
        let f = build(&[("lte1".to_string(), reading[0].clone())]);
        assert_no_duplicate_series(&f);
        assert_eq!(value(&f, "mikrotik_lte_rssi_dbm", "lte1"), Some(-71.0));
        assert_eq!(value(&f, "mikrotik_lte_rsrq_db", "lte1"), Some(-10.0));
        assert_eq!(value(&f, "mikrotik_lte_sinr_db", "lte1"), Some(7.0));
        assert_eq!(value(&f, "mikrotik_lte_primary_band", "lte1"), Some(7.0));
        assert_eq!(value(&f, "mikrotik_lte_cell_id", "lte1"), Some(2_345.0));
        assert_eq!(
            value(&f, "mikrotik_lte_session_uptime_seconds", "lte1"),
            Some((2 * 86_400 + 3 * 3_600 + 4 * 60 + 5) as f64)
        );
        assert_eq!(registration(&f, "lte1").0.as_deref(), Some("roaming"));
        let info = samples_named(&f, "mikrotik_lte_info").next().expect("info");
        assert_eq!(info.labels[2], "Evolved 3G (LTE)");
    }

    #[test]
    fn odd_values_cost_one_sample_and_unknown_states_are_kept() {
        let f = build(&named(
            "
            name=lte1  registration-status=emergency-only  rssi=-67dB  rsrp=strong  rsrq=-9dBm  sinr=  cqi=11  primary-band=Bx  current-cellid=-1  session-uptime=soon
            name=lte1  registration-status=registered  rssi=-50
            name=lte2
            ",
        ));
        assert_no_duplicate_series(&f);
        for metric in [
            "mikrotik_lte_rssi_dbm",
            "mikrotik_lte_rsrp_dbm",
            "mikrotik_lte_rsrq_db",
            "mikrotik_lte_sinr_db",
            "mikrotik_lte_primary_band",
            "mikrotik_lte_session_uptime_seconds",
            "mikrotik_lte_cell_id",
        ] {
            assert_eq!(value(&f, metric, "lte1"), None, "{metric}");
        }
        assert_eq!(value(&f, "mikrotik_lte_cqi", "lte1"), Some(11.0));
        assert_eq!(
            registration(&f, "lte1"),
            (Some("emergency-only".into()), KNOWN_REGISTRATION.len() + 1)
        );
        // A row with nothing: no samples at all.
        assert_eq!(registration(&f, "lte2"), (None, 0));
        assert!(samples_named(&f, "mikrotik_lte_info").next().is_none());
    }

    #[test]
    fn only_running_enabled_modems_are_asked() {
        let modems = rows(
            "
            .id=*1  name=lte1  running=true  disabled=false
            .id=*2  name=lte2  running=false  disabled=false
            .id=*3  name=lte3  running=true  disabled=true
            .id=*4  name=lte4  running=yes
            name=lte5  running=true  disabled=false
            ",
        );
        assert_eq!(
            live_modems(&modems),
            [
                ("*1".to_string(), "lte1".to_string()),
                ("*4".to_string(), "lte4".to_string())
            ]
        );
    }

    #[test]
    fn bands() {
        assert_eq!(band("B3@20Mhz earfcn: 1300 phy-cellid: 262"), Some(3));
        assert_eq!(band("n78@100Mhz"), Some(78));
        assert_eq!(band(" 41 "), Some(41));
        assert_eq!(band("B"), None);
        assert_eq!(band(""), None);
    }

    /// The simulator's modems on both versions: no duplicate series, signals
    /// for every connected modem, NR only on RouterOS 7's second modem.
    #[test]
    fn simulator_modems_on_v6_and_v7() {
        use routeros_sim::menus::{registry, testkit::Fixture};
        let menu = registry()
            .into_iter()
            .find(|m| m.path() == MENU)
            .expect("lte menu");
        for mut fixture in [Fixture::v6(), Fixture::v7()] {
            fixture.scale.lte_modems = 5;
            let view = fixture.view(0, 7_200);
            let modems: Vec<Row> = menu.rows(&view).into_iter().map(Row::from_pairs).collect();
            let readings: Vec<(String, Row)> = live_modems(&modems)
                .into_iter()
                .filter_map(|(_, name)| {
                    let row = menu.monitor(&view, &name)?;
                    Some((name, Row::from_pairs(row)))
                })
                .collect();
            assert_eq!(readings.len(), 3, "lte1, lte2 and lte5 run");
            let f = build(&readings);
            assert_no_duplicate_series(&f);
            assert_eq!(samples_named(&f, "mikrotik_lte_rsrp_dbm").count(), 3);
            let nr = samples_named(&f, "mikrotik_lte_nr_rsrp_dbm").count();
            assert_eq!(nr, usize::from(fixture.personality.is_v7()));
        }
    }
}
