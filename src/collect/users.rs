//! `users`: who is logged in to the router right now, by login method — a
//! security signal (an unexpected `telnet` or `ftp` session, a WinBox login
//! at night); per user series only with `clients: per_client`.
//!
//! Commands, by the module's `clients`:
//! * `aggregate` (default): one `/user/active/print =.proplist=via`. The table
//!   holds a handful of rows (one per open admin session), so one print of one
//!   short column costs the router less than a `=count-only=` per method (six
//!   or more round trips, each walking the same table), and it also shows
//!   methods this exporter does not know, which a count per known method
//!   cannot;
//! * `per_client`: the same print with `.proplist=name,via,group,address,when`,
//!   and concurrently `/system/clock/print` (the clock reading the
//!   `certificate` group uses).
//!
//! The six methods RouterOS documents (`api`, `winbox`, `ssh`, `web`, `telnet`,
//! `ftp`) always have a series, 0 when nobody uses them; any other `via` the
//! router reports (`console`, `dude`, …) gets a series of its own while it is
//! in use, and a row without `via` counts as `unknown`. The exporter's own API
//! session is an active `api` session like any other, so `via="api"` is at
//! least 1 whenever the exporter asks.
//!
//! Per user: the Unix time of the most recent login still active, keyed by
//! `name`, `via`, `group` and the source `address`. The address is a label on
//! purpose: where an administrator logs in from is what the security question
//! asks, it is fixed for the life of a session, and the sessions of a router
//! are few (bounded by its service `max-sessions`), so it cannot grow into the
//! cardinality of subscriber tables. Sessions sharing all four labels (two
//! WinBox windows) are one series with the latest login. `when` is router local
//! time without a zone; it is turned into Unix time by its age on the router's
//! own clock (`probe time − (router clock − when)`), right whatever the
//! router's time zone, and falls back to reading `when` as UTC when the clock
//! cannot be read (noted in the trace).

use super::certificate::RouterClock;
use super::family::{Family, MetricDesc, Value, metric};
use super::{Context, Group, GroupFuture, parse};
use crate::config::ClientSeries;
use routeros::{Command, Row};
use std::collections::BTreeMap;

/// The `users` group.
pub struct Users;

metric!(
    ACTIVE,
    "mikrotik_users_active_sessions",
    Gauge,
    "Sessions logged in to the router by method (via), the exporter's own API session included.",
    ["via"]
);
metric!(
    LOGIN,
    "mikrotik_users_session_login_timestamp_seconds",
    Gauge,
    "Unix time of the user's latest login still active, per method, group and source address (clients: per_client).",
    ["name", "via", "group", "address"]
);

static METRICS: &[&MetricDesc] = &[&ACTIVE, &LOGIN];

/// The login methods that always have a series.
const METHODS: [&str; 6] = ["api", "winbox", "ssh", "web", "telnet", "ftp"];

/// The `via` label of a session whose method the router did not say.
const UNKNOWN: &str = "unknown";

const PRINT: &str = "/user/active/print";

impl Group for Users {
    fn name(&self) -> &'static str {
        "users"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            if ctx.module.clients != ClientSeries::PerClient {
                let sessions = ctx.rows(Command::new(PRINT).proplist(&["via"])).await?;
                return Ok(vec![active(&sessions)]);
            }
            let (sessions, clock) = tokio::join!(
                ctx.rows(
                    Command::new(PRINT).proplist(&["name", "via", "group", "address", "when"])
                ),
                RouterClock::read(ctx, "users"),
            );
            let sessions = sessions?;
            Ok(vec![
                active(&sessions),
                logins(&sessions, clock.local(), ctx.now_unix),
            ])
        })
    }
}

/// A row's value of `key` as label text; empty when absent.
fn text(row: &Row, key: &str) -> String {
    row.text(key)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

/// The session's method, [`UNKNOWN`] when the row has none.
fn via(row: &Row) -> String {
    Some(text(row, "via"))
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| UNKNOWN.to_owned())
}

/// Sessions per method: the six [`METHODS`] always, then any other method
/// in use, by name.
fn active(sessions: &[Row]) -> Family {
    let mut known = [0u64; METHODS.len()];
    let mut others: BTreeMap<String, u64> = BTreeMap::new();
    for row in sessions {
        let via = via(row);
        match METHODS.iter().position(|m| *m == via) {
            Some(k) => known[k] += 1,
            None => *others.entry(via).or_default() += 1,
        }
    }
    let mut family = Family::new(&ACTIVE);
    for (method, n) in METHODS.iter().zip(known) {
        family.push(vec![(*method).to_owned()], n);
    }
    for (method, n) in others {
        family.push(vec![method], n);
    }
    family
}

/// The latest login per name, method, group and address, as Unix time:
/// `now_unix` minus the login's age on the router's clock `router_now`.
fn logins(sessions: &[Row], router_now: i64, now_unix: i64) -> Family {
    let mut latest: BTreeMap<[String; 4], i64> = BTreeMap::new();
    for row in sessions {
        let raw = row.str("when").unwrap_or_default();
        let Some(when) = parse::datetime(raw) else {
            tracing::debug!(raw, "unparseable /user/active when");
            continue;
        };
        let login = now_unix - (router_now - when);
        let key = [
            text(row, "name"),
            via(row),
            text(row, "group"),
            text(row, "address"),
        ];
        let entry = latest.entry(key).or_insert(login);
        *entry = (*entry).max(login);
    }
    let mut family = Family::new(&LOGIN);
    for (labels, login) in latest {
        family.push(labels.to_vec(), Value::Signed(login));
    }
    family
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::samples_named;
    use crate::collect::fixture::{assert_no_duplicate_series, rows};

    /// 2026-03-01 12:00:00.
    const NOW: i64 = 1_772_366_400;

    fn samples(family: &Family) -> Vec<(Vec<String>, Value)> {
        samples_named(std::slice::from_ref(family), family.desc.name)
            .map(|s| (s.label_strings(), s.value))
            .collect()
    }

    fn counts(sessions: &[Row]) -> Vec<(String, f64)> {
        samples(&active(sessions))
            .into_iter()
            .map(|(l, v)| (l[0].clone(), v.as_f64()))
            .collect()
    }

    fn expected(pairs: &[(&str, f64)]) -> Vec<(String, f64)> {
        pairs.iter().map(|(v, n)| ((*v).to_owned(), *n)).collect()
    }

    const V7: &str = "
        .id=*1  when=2026-03-01 11:50:00  name=admin  address=192.168.88.10  via=winbox  group=full
        .id=*2  when=2026-03-01 11:00:00  name=admin  address=10.0.0.5  via=ssh  group=full
        .id=*3  when=2026-03-01 11:59:58  name=prometheus  address=192.0.2.7  via=api  group=read
    ";

    const V6: &str = "
        .id=*1  when=feb/28/2026 23:10:00  name=admin  address=192.168.88.10  via=winbox  group=full
        .id=*2  when=mar/01/2026 11:59:58  name=prometheus  address=192.0.2.7  via=api  group=read
        .id=*3  when=mar/01/2026 09:00:00  name=ops  address=0.0.0.0  via=console  group=full
    ";

    #[test]
    fn v7_sessions_by_method_and_login_time() {
        let sessions = rows(V7);
        assert_eq!(
            counts(&sessions),
            expected(&[
                ("api", 1.0),
                ("winbox", 1.0),
                ("ssh", 1.0),
                ("web", 0.0),
                ("telnet", 0.0),
                ("ftp", 0.0)
            ])
        );
        let f = logins(&sessions, NOW, NOW);
        let got = samples(&f);
        assert_eq!(got.len(), 3);
        // Sorted by labels: admin/ssh, admin/winbox, prometheus/api.
        assert_eq!(
            got[1],
            (
                vec![
                    "admin".into(),
                    "winbox".into(),
                    "full".into(),
                    "192.168.88.10".into()
                ],
                Value::Signed(NOW - 600)
            )
        );
        assert_eq!(got[0].1, Value::Signed(NOW - 3_600));
        assert_no_duplicate_series(&[active(&sessions), f]);
    }

    #[test]
    fn v6_dates_and_an_unknown_method_kept_as_its_own_series() {
        let sessions = rows(V6);
        let counted = counts(&sessions);
        assert_eq!(counted.len(), 7);
        assert_eq!(counted[6], ("console".to_owned(), 1.0));
        assert_eq!(counted[0], ("api".to_owned(), 1.0));
        let got = samples(&logins(&sessions, NOW, NOW));
        let winbox = got.iter().find(|(l, _)| l[1] == "winbox").expect("winbox");
        assert_eq!(winbox.1, Value::Signed(NOW - (12 * 3_600 + 50 * 60)));
    }

    #[test]
    fn login_times_follow_the_routers_clock_not_its_zone() {
        // The router runs at UTC+2: its clock and `when` are both two hours
        // ahead of the probe's Unix time.
        let sessions = rows("name=admin  via=ssh  group=full  address=a  when=2026-03-01 13:50:00");
        let got = samples(&logins(&sessions, NOW + 7_200, NOW));
        assert_eq!(got[0].1, Value::Signed(NOW - 600));
    }

    #[test]
    fn sessions_sharing_every_label_are_one_series_with_the_latest_login() {
        let sessions = rows(
            "
            name=admin  via=winbox  group=full  address=a  when=2026-03-01 10:00:00
            name=admin  via=winbox  group=full  address=a  when=2026-03-01 11:00:00
            name=admin  via=winbox  group=full  address=b  when=2026-03-01 09:00:00
            ",
        );
        let got = samples(&logins(&sessions, NOW, NOW));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1, Value::Signed(NOW - 3_600));
        assert_eq!(counts(&sessions)[1], ("winbox".to_owned(), 3.0));
    }

    #[test]
    fn odd_values_cost_one_sample() {
        let sessions = rows(
            "
            name=a  via=ssh  group=full  address=x  when=yesterday
            name=b  group=full  address=y  when=2026-03-01 11:00:00
            name=c  via=  when=2026-03-01 11:30:00
            ",
        );
        let counted = counts(&sessions);
        assert_eq!(counted[2], ("ssh".to_owned(), 1.0));
        assert_eq!(counted[6], ("unknown".to_owned(), 2.0));
        let got = samples(&logins(&sessions, NOW, NOW));
        let names: Vec<&str> = got.iter().map(|(l, _)| l[0].as_str()).collect();
        assert_eq!(names, ["b", "c"]);
        assert_eq!(got[1].0, ["c", "unknown", "", ""]);
    }

    #[test]
    fn the_router_clock_or_a_reason_to_do_without() {
        let local = |text: &str| RouterClock::from_row(&rows(text)[0]).map(RouterClock::local);
        assert_eq!(
            local("date=2026-03-01  time=14:00:00  gmt-offset=+02:00"),
            Ok(NOW + 7_200)
        );
        assert_eq!(local("date=mar/01/2026  time=12:00:00"), Ok(NOW));
        assert!(local("date=2026-03-01").is_err());
    }

    #[test]
    fn no_duplicate_series_on_simulator_data() {
        use routeros_sim::menus::testkit::Fixture;
        use routeros_sim::menus::{RouterView, registry};
        let menu = registry()
            .into_iter()
            .find(|m| m.path() == "/user/active")
            .expect("users menu");
        for f in [Fixture::v7(), Fixture::v6()] {
            let view = RouterView {
                api_sessions: 4,
                ..f.view(0, 86_400)
            };
            let sessions: Vec<Row> = menu.rows(&view).into_iter().map(Row::from_pairs).collect();
            let families = [active(&sessions), logins(&sessions, NOW, NOW)];
            assert_no_duplicate_series(&families);
            assert_eq!(counts(&sessions)[0], ("api".to_owned(), 4.0));
            assert_eq!(
                samples(&families[1]).len(),
                4,
                "the api sessions share labels"
            );
        }
    }
}
