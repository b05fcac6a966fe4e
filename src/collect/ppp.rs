//! `ppp`: active PPP sessions by service; per session uptime and identity only
//! with `clients: per_client`.
//!
//! Commands, by the module's `clients`:
//! * `aggregate` (default): six `/ppp/active/print =count-only=`, run
//!   concurrently: one with `?service=<s>` for each of [`SERVICES`] and one
//!   without a query for the total. Each answers one number however many
//!   thousands of subscribers a concentrator terminates, where a print of even
//!   the `service` column alone would stream one sentence per session.
//! * `per_client`: one `/ppp/active/print` with
//!   `.proplist=.id,name,service,caller-id,address,uptime`, streamed; the counts
//!   come from the same rows, so the router walks its table once.
//!
//! A service outside [`SERVICES`] (`async`, a future one) is counted as
//! `service="other"`: the total minus the known services, never below 0 (the
//! counts are taken a moment apart, and sessions come and go between them). The
//! default is thus six series on any router, from a home office to a BRAS.
//!
//! Per session: `mikrotik_ppp_session_uptime_seconds` keyed by `name` and
//! `service`, and an info series adding `caller_id` (the subscriber's MAC for
//! PPPoE, public IP for tunnels) and `address` (the address assigned to the
//! session). Both are fixed for the life of a session, so the info series
//! changes only when a subscriber reconnects with another address, the moment
//! the uptime starts from 0 anyway, and answers "which subscriber had this IP".
//! Sessions sharing a name and service (a user allowed several sessions) get
//! ` (<.id>)` appended to `name`. Traffic is not in `/ppp/active`: it is on the
//! dynamic `<pppoe-NAME>` interfaces of the `interface` group.

use super::family::{Family, MetricDesc, metric};
use super::{Context, Group, GroupError, GroupFuture, parse};
use crate::config::ClientSeries;
use routeros::{Command, Row};
use std::collections::HashMap;

/// The `ppp` group.
pub struct Ppp;

metric!(
    ACTIVE,
    "mikrotik_ppp_active_sessions",
    Gauge,
    "Active PPP sessions by service (services this exporter does not know as `other`).",
    ["service"]
);
metric!(
    UPTIME,
    "mikrotik_ppp_session_uptime_seconds",
    Gauge,
    "Time since the PPP session was established (clients: per_client).",
    ["name", "service"]
);
metric!(
    INFO,
    "mikrotik_ppp_session_info",
    Gauge,
    "PPP session caller id and assigned address, value 1 (clients: per_client).",
    ["name", "service", "caller_id", "address"]
);

static METRICS: &[&MetricDesc] = &[&ACTIVE, &UPTIME, &INFO];

/// The services counted by name, each with a `?service=` count.
const SERVICES: [&str; 5] = ["pppoe", "l2tp", "sstp", "ovpn", "pptp"];

/// The `service` label of sessions of any other service.
const OTHER: &str = "other";

/// Properties of the per-session print.
const PROPLIST: &[&str] = &[".id", "name", "service", "caller-id", "address", "uptime"];

const MENU: &str = "/ppp/active/print";

impl Group for Ppp {
    fn name(&self) -> &'static str {
        "ppp"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            if ctx.module.clients == ClientSeries::PerClient {
                let mut sessions = Vec::new();
                ctx.for_each_row(Command::new(MENU).proplist(PROPLIST), |row| {
                    sessions.push(row.clone());
                })
                .await?;
                return Ok(build_sessions(&sessions));
            }
            let (known, total) = count_services(ctx).await?;
            Ok(vec![active(known, total)])
        })
    }
}

/// The `=count-only=` of each known service and of all sessions, concurrently.
async fn count_services(ctx: &Context) -> Result<([u64; 5], u64), GroupError> {
    let mut commands: Vec<Command> = SERVICES
        .iter()
        .map(|service| Command::new(MENU).query(format!("service={service}")))
        .collect();
    commands.push(Command::new(MENU));
    let counts = ctx.counts(commands).await?;
    let mut known = [0; SERVICES.len()];
    for (slot, count) in known.iter_mut().zip(&counts) {
        *slot = *count;
    }
    let total = counts.get(SERVICES.len()).copied().unwrap_or_default();
    Ok((known, total))
}

/// The per-service family: the known services in [`SERVICES`] order, then
/// `other` (what the total holds beyond them).
fn active(known: [u64; 5], total: u64) -> Family {
    let mut family = Family::new(&ACTIVE);
    for (service, n) in SERVICES.iter().zip(known) {
        family.push(vec![(*service).to_owned()], n);
    }
    let other = total.saturating_sub(known.iter().sum());
    family.push(vec![OTHER.to_owned()], other);
    family
}

/// A row's value of `key` as label text; empty when absent.
fn text(row: &Row, key: &str) -> String {
    row.text(key)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

/// The `name` label of every session, unique within its service.
fn session_names(sessions: &[Row]) -> Vec<String> {
    let keys: Vec<(String, String)> = sessions
        .iter()
        .map(|s| (text(s, "name"), text(s, "service")))
        .collect();
    let mut uses: HashMap<&(String, String), usize> = HashMap::new();
    for key in &keys {
        *uses.entry(key).or_default() += 1;
    }
    keys.iter()
        .zip(sessions)
        .enumerate()
        .map(|(i, (key, row))| {
            if uses.get(key).copied().unwrap_or_default() < 2 {
                return key.0.clone();
            }
            let id = text(row, ".id");
            let suffix = if id.is_empty() { format!("#{i}") } else { id };
            format!("{} ({suffix})", key.0)
        })
        .collect()
}

/// Converts the per-session rows into the per-service counts and the
/// per-session families (pure, unit-tested on fixtures).
fn build_sessions(sessions: &[Row]) -> Vec<Family> {
    let mut known = [0u64; 5];
    let mut uptime = Family::new(&UPTIME);
    let mut info = Family::new(&INFO);
    for (row, name) in sessions.iter().zip(session_names(sessions)) {
        let service = text(row, "service");
        if let Some(k) = SERVICES.iter().position(|s| *s == service) {
            known[k] += 1;
        }
        match row.str("uptime").map(|raw| (raw, parse::duration(raw))) {
            Some((_, Some(up))) => {
                uptime.push(vec![name.clone(), service.clone()], up.as_secs_f64())
            }
            Some((raw, None)) => tracing::debug!(raw, name, "unparseable ppp uptime"),
            None => {}
        }
        info.push(
            vec![name, service, text(row, "caller-id"), text(row, "address")],
            1u64,
        );
    }
    vec![active(known, sessions.len() as u64), uptime, info]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::Value;
    use crate::collect::fixture::samples;
    use crate::collect::fixture::{assert_no_duplicate_series, rows};

    /// The `service` label and value of each per-service sample.
    fn counts(families: &[Family]) -> Vec<(String, f64)> {
        samples(families, "mikrotik_ppp_active_sessions")
            .into_iter()
            .map(|(l, v)| (l[0].clone(), v.as_f64()))
            .collect()
    }

    fn by(expected: [(&str, f64); 6]) -> Vec<(String, f64)> {
        expected
            .iter()
            .map(|(s, n)| ((*s).to_owned(), *n))
            .collect()
    }

    /// The shape RouterOS 7 returns (`uptime` in units, a hex `session-id`).
    const V7: &str = "
        .id=*8  name=marksilas  address=192.168.89.254  uptime=44m55s  caller-id=D0:D0:4B:36:7C:C1  service=pppoe
        .id=*9  name=branch  address=10.200.0.2  uptime=1w2d3h4m5s  caller-id=198.51.100.7  service=l2tp
        .id=*A  name=laptop  address=10.200.0.3  uptime=5s  caller-id=203.0.113.9  service=sstp
        .id=*B  name=modem  address=10.99.0.2  uptime=3h  caller-id=  service=async
    ";

    /// RouterOS 6 clock-style uptimes.
    const V6: &str = "
        .id=*1  name=sub-00001  address=100.64.0.2  uptime=1d02:15:30  caller-id=D0:D0:4B:36:7C:C1  service=pppoe
        .id=*2  name=vpn-2  address=10.200.0.2  uptime=14:40:26  caller-id=198.51.100.7  service=pptp
        .id=*3  name=vpn-3  address=10.200.0.3  uptime=00:00:05  caller-id=198.51.100.8  service=ovpn
    ";

    #[test]
    fn counts_keep_unknown_services_as_other_and_never_go_negative() {
        let f = vec![active([1900, 20, 20, 20, 20], 1_981)];
        assert_eq!(
            counts(&f),
            by([
                ("pppoe", 1900.0),
                ("l2tp", 20.0),
                ("sstp", 20.0),
                ("ovpn", 20.0),
                ("pptp", 20.0),
                ("other", 1.0)
            ])
        );
        // A session came up between the service counts and the total.
        let f = vec![active([3, 0, 0, 0, 0], 2)];
        assert_eq!(counts(&f)[5], ("other".to_owned(), 0.0));
    }

    #[test]
    fn v7_sessions() {
        let f = build_sessions(&rows(V7));
        assert_eq!(
            counts(&f),
            by([
                ("pppoe", 1.0),
                ("l2tp", 1.0),
                ("sstp", 1.0),
                ("ovpn", 0.0),
                ("pptp", 0.0),
                ("other", 1.0)
            ])
        );
        let up = samples(&f, "mikrotik_ppp_session_uptime_seconds");
        assert_eq!(
            up[0],
            (
                vec!["marksilas".into(), "pppoe".into()],
                Value::Float(2_695.0)
            )
        );
        assert_eq!(
            up[1].1,
            Value::Float((9 * 86_400 + 3 * 3_600 + 4 * 60 + 5) as f64)
        );
        assert_eq!(up[3].0, ["modem", "async"]);
        let info = samples(&f, "mikrotik_ppp_session_info");
        assert_eq!(
            info[0].0,
            ["marksilas", "pppoe", "D0:D0:4B:36:7C:C1", "192.168.89.254"]
        );
        assert_eq!(info[3].0, ["modem", "async", "", "10.99.0.2"]);
        assert!(info.iter().all(|(_, v)| *v == Value::Int(1)));
        assert_no_duplicate_series(&f);
    }

    #[test]
    fn v6_clock_style_uptimes() {
        let f = build_sessions(&rows(V6));
        let up: Vec<f64> = samples(&f, "mikrotik_ppp_session_uptime_seconds")
            .iter()
            .map(|(_, v)| v.as_f64())
            .collect();
        assert_eq!(
            up,
            [(86_400 + 2 * 3_600 + 15 * 60 + 30) as f64, 52_826.0, 5.0]
        );
        assert_eq!(
            counts(&f),
            by([
                ("pppoe", 1.0),
                ("l2tp", 0.0),
                ("sstp", 0.0),
                ("ovpn", 1.0),
                ("pptp", 1.0),
                ("other", 0.0)
            ])
        );
    }

    #[test]
    fn odd_values_cost_one_sample() {
        let f = build_sessions(&rows(
            "
            .id=*1  name=a  service=pppoe  uptime=soon  caller-id=x
            .id=*2  name=b  service=pppoe
            .id=*3  service=  uptime=1s
            ",
        ));
        let up = samples(&f, "mikrotik_ppp_session_uptime_seconds");
        assert_eq!(
            up,
            [(vec![String::new(), String::new()], Value::Float(1.0))]
        );
        let info = samples(&f, "mikrotik_ppp_session_info");
        assert_eq!(info.len(), 3);
        assert_eq!(info[1].0, ["b", "pppoe", "", ""]);
        assert_eq!(counts(&f)[0].1, 2.0);
        assert_eq!(counts(&f)[5].1, 1.0);
    }

    #[test]
    fn sessions_sharing_a_name_and_service_are_told_apart_by_id() {
        let f = build_sessions(&rows(
            "
            .id=*1  name=shop  service=pppoe  uptime=1s
            .id=*2  name=shop  service=pppoe  uptime=2s
            .id=*3  name=shop  service=l2tp  uptime=3s
            ",
        ));
        let names: Vec<String> = samples(&f, "mikrotik_ppp_session_uptime_seconds")
            .into_iter()
            .map(|(l, _)| l[0].clone())
            .collect();
        assert_eq!(names, ["shop (*1)", "shop (*2)", "shop"]);
        assert_no_duplicate_series(&f);
    }

    #[test]
    fn no_duplicate_series_on_simulator_data() {
        use routeros_sim::menus::registry;
        use routeros_sim::menus::testkit::Fixture;
        let menu = registry()
            .into_iter()
            .find(|m| m.path() == "/ppp/active")
            .expect("ppp menu");
        for mut f in [Fixture::v7(), Fixture::v6()] {
            f.scale.ppp_sessions = 2_000;
            let sessions: Vec<Row> = menu
                .rows(&f.view(1, 200_000))
                .into_iter()
                .map(Row::from_pairs)
                .collect();
            let families = build_sessions(&sessions);
            assert_no_duplicate_series(&families);
            assert_eq!(
                samples(&families, "mikrotik_ppp_session_uptime_seconds").len(),
                2_000
            );
            assert_eq!(counts(&families)[5].1, 1.0, "the simulator's async session");
        }
    }
}
