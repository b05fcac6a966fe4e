//! `hotspot`: users logged in per hotspot server; per user traffic and uptime
//! only with `clients: per_client`.
//!
//! Commands: `/ip/hotspot/print =.proplist=name` (the servers), then by the
//! module's `clients`:
//! * `aggregate` (default): one `/ip/hotspot/active/print =count-only=
//!   ?server=<name>` per server, one after another (a router has one server
//!   or a few): a number each, however many users a campus hotspot holds;
//! * `per_client`: one `/ip/hotspot/active/print` with
//!   `.proplist=.id,server,user,mac-address,bytes-in,bytes-out,uptime`,
//!   streamed; the counts come from the same rows.
//!
//! The hotspot is part of RouterOS, so a router without one configured has an
//! empty `/ip/hotspot`: no servers, no further command, no series, and the
//! group succeeds. A router whose hotspot menu is missing (RouterOS 6 with the
//! `hotspot` package disabled) traps, and the group is unsupported.
//!
//! A user is keyed by `server`, `user` and `mac_address`: one account logged
//! in from two devices is two series, and a trial user's name (`T-<MAC>`)
//! already holds its MAC. Entries sharing all three (a device with two
//! addresses) get ` (<.id>)` appended to `user`. `bytes-in` (received from the
//! user) and `bytes-out` (sent to the user) are counters of the session: they
//! start from 0 when the user logs in again, which Prometheus reads as a
//! counter reset.

use super::family::{Family, MetricDesc, metric};
use super::{Context, Group, GroupError, GroupFuture, parse};
use crate::config::ClientSeries;
use routeros::{Command, Row};
use std::collections::HashMap;

/// The `hotspot` group.
pub struct Hotspot;

metric!(
    ACTIVE,
    "mikrotik_hotspot_active_users",
    Gauge,
    "Users logged in through the hotspot server.",
    ["server"]
);
metric!(
    RX,
    "mikrotik_hotspot_user_rx_bytes_total",
    Counter,
    "Bytes received from the hotspot user this session (bytes-in; clients: per_client).",
    ["server", "user", "mac_address"]
);
metric!(
    TX,
    "mikrotik_hotspot_user_tx_bytes_total",
    Counter,
    "Bytes sent to the hotspot user this session (bytes-out; clients: per_client).",
    ["server", "user", "mac_address"]
);
metric!(
    UPTIME,
    "mikrotik_hotspot_user_uptime_seconds",
    Gauge,
    "Time since the hotspot user logged in (clients: per_client).",
    ["server", "user", "mac_address"]
);

static METRICS: &[&MetricDesc] = &[&ACTIVE, &RX, &TX, &UPTIME];

/// Properties of the per-user print.
const PROPLIST: &[&str] = &[
    ".id",
    "server",
    "user",
    "mac-address",
    "bytes-in",
    "bytes-out",
    "uptime",
];

const ACTIVE_PRINT: &str = "/ip/hotspot/active/print";

impl Group for Hotspot {
    fn name(&self) -> &'static str {
        "hotspot"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let servers: Vec<String> = ctx
                .rows(Command::new("/ip/hotspot/print").proplist(&["name"]))
                .await?
                .iter()
                .map(|row| text(row, "name"))
                .collect();
            if servers.is_empty() {
                return Ok(Vec::new());
            }
            if ctx.module.clients == ClientSeries::PerClient {
                let mut users = Vec::new();
                let print = Command::new(ACTIVE_PRINT).proplist(PROPLIST);
                ctx.for_each_row(print, |row| users.push(row.clone()))
                    .await?;
                return Ok(build_users(&servers, &users));
            }
            Ok(vec![active(count_users(ctx, &servers).await?)])
        })
    }
}

/// Each server with the `=count-only=` of its users (concurrently).
async fn count_users(ctx: &Context, servers: &[String]) -> Result<Vec<(String, u64)>, GroupError> {
    let commands = servers
        .iter()
        .map(|server| Command::new(ACTIVE_PRINT).query(format!("server={server}")))
        .collect();
    let counts = ctx.counts(commands).await?;
    Ok(servers.iter().cloned().zip(counts).collect())
}

/// The per-server family.
fn active(counts: Vec<(String, u64)>) -> Family {
    let mut family = Family::new(&ACTIVE);
    for (server, n) in counts {
        family.push(vec![server], n);
    }
    family
}

/// A row's value of `key` as label text; empty when absent.
fn text(row: &Row, key: &str) -> String {
    row.text(key)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

/// The label values of every user row, unique across rows.
fn user_labels(users: &[Row]) -> Vec<[String; 3]> {
    let keys: Vec<[String; 3]> = users
        .iter()
        .map(|u| [text(u, "server"), text(u, "user"), text(u, "mac-address")])
        .collect();
    let mut uses: HashMap<&[String; 3], usize> = HashMap::new();
    for key in &keys {
        *uses.entry(key).or_default() += 1;
    }
    keys.iter()
        .zip(users)
        .enumerate()
        .map(|(i, (key, row))| {
            let mut labels = key.clone();
            if uses.get(key).copied().unwrap_or_default() > 1 {
                let id = text(row, ".id");
                let suffix = if id.is_empty() { format!("#{i}") } else { id };
                labels[1] = format!("{} ({suffix})", key[1]);
            }
            labels
        })
        .collect()
}

/// Converts the servers and the per-user rows into the per-server counts and
/// the per-user families (pure, unit-tested on fixtures). A user of a server
/// missing from `servers` (renamed between the two prints) is counted under
/// its own server name.
fn build_users(servers: &[String], users: &[Row]) -> Vec<Family> {
    let mut counts: Vec<(String, u64)> = servers.iter().map(|s| (s.clone(), 0)).collect();
    let mut rx = Family::new(&RX);
    let mut tx = Family::new(&TX);
    let mut uptime = Family::new(&UPTIME);
    for (row, labels) in users.iter().zip(user_labels(users)) {
        match counts.iter_mut().find(|(s, _)| *s == labels[0]) {
            Some((_, n)) => *n += 1,
            None => counts.push((labels[0].clone(), 1)),
        }
        let value = |key: &str| {
            let raw = row.str(key)?;
            let value = parse::unsigned(raw);
            if value.is_none() {
                tracing::debug!(key, raw, user = labels[1], "unparseable hotspot counter");
            }
            value
        };
        if let Some(v) = value("bytes-in") {
            rx.push(labels.to_vec(), v);
        }
        if let Some(v) = value("bytes-out") {
            tx.push(labels.to_vec(), v);
        }
        if let Some(up) = row.str("uptime").and_then(parse::duration) {
            uptime.push(labels.to_vec(), up.as_secs_f64());
        }
    }
    vec![active(counts), rx, tx, uptime]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::Value;
    use crate::collect::fixture::samples;
    use crate::collect::fixture::{assert_no_duplicate_series, rows};

    fn servers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    fn counts(families: &[Family]) -> Vec<(String, f64)> {
        samples(families, "mikrotik_hotspot_active_users")
            .into_iter()
            .map(|(l, v)| (l[0].clone(), v.as_f64()))
            .collect()
    }

    const V7: &str = "
        .id=*1  server=hotspot1  user=alice  mac-address=3C:22:FB:01:02:03  bytes-in=123456  bytes-out=9876543210  uptime=1h2m3s
        .id=*2  server=hotspot1  user=T-3C:22:FB:0A:0B:0C  mac-address=3C:22:FB:0A:0B:0C  bytes-in=0  bytes-out=0  uptime=0s
        .id=*3  server=hotspot1  user=alice  mac-address=3C:22:FB:0D:0E:0F  bytes-in=5  bytes-out=6  uptime=45s
    ";

    const V6: &str = "
        .id=*A  server=guest  user=bob  mac-address=3C:22:FB:01:02:04  bytes-in=100  bytes-out=200  uptime=01:22:53
        .id=*B  server=guest  user=carol  mac-address=3C:22:FB:01:02:05  bytes-in=300  bytes-out=400  uptime=1d02:15:30
    ";

    #[test]
    fn v7_users() {
        let f = build_users(&servers(&["hotspot1", "guest"]), &rows(V7));
        assert_eq!(
            counts(&f),
            [("hotspot1".to_owned(), 3.0), ("guest".to_owned(), 0.0)]
        );
        let rx = samples(&f, "mikrotik_hotspot_user_rx_bytes_total");
        assert_eq!(
            rx[0],
            (
                vec![
                    "hotspot1".into(),
                    "alice".into(),
                    "3C:22:FB:01:02:03".into()
                ],
                Value::Int(123_456)
            )
        );
        let tx = samples(&f, "mikrotik_hotspot_user_tx_bytes_total");
        assert_eq!(tx[0].1, Value::Int(9_876_543_210));
        assert_eq!(tx.len(), 3);
        let up = samples(&f, "mikrotik_hotspot_user_uptime_seconds");
        assert_eq!(up[0].1, Value::Float(3_723.0));
        assert_eq!(up[2].0[1], "alice", "another device of the same account");
        assert_no_duplicate_series(&f);
    }

    #[test]
    fn v6_clock_style_uptimes() {
        let f = build_users(&servers(&["guest"]), &rows(V6));
        assert_eq!(counts(&f), [("guest".to_owned(), 2.0)]);
        let up: Vec<f64> = samples(&f, "mikrotik_hotspot_user_uptime_seconds")
            .iter()
            .map(|(_, v)| v.as_f64())
            .collect();
        assert_eq!(up, [4_973.0, (86_400 + 2 * 3_600 + 15 * 60 + 30) as f64]);
    }

    #[test]
    fn odd_values_cost_one_sample() {
        let users = rows(
            "
            .id=*1  server=hs  user=a  mac-address=M1  bytes-in=lots  bytes-out=7  uptime=later
            .id=*2  server=hs  user=b  mac-address=M2
            .id=*3  server=renamed  user=c  mac-address=M3  bytes-in=1  bytes-out=1  uptime=1s
            ",
        );
        let f = build_users(&servers(&["hs"]), &users);
        assert!(
            samples(&f, "mikrotik_hotspot_user_rx_bytes_total")
                .iter()
                .all(|(l, _)| l[1] != "a")
        );
        assert_eq!(samples(&f, "mikrotik_hotspot_user_tx_bytes_total").len(), 2);
        assert_eq!(samples(&f, "mikrotik_hotspot_user_uptime_seconds").len(), 1);
        assert_eq!(
            counts(&f),
            [("hs".to_owned(), 2.0), ("renamed".to_owned(), 1.0)]
        );
    }

    #[test]
    fn the_same_user_and_mac_twice_are_told_apart_by_id() {
        let users = rows(
            "
            .id=*1  server=hs  user=a  mac-address=M1  bytes-in=1  bytes-out=1
            .id=*2  server=hs  user=a  mac-address=M1  bytes-in=2  bytes-out=2
            .id=*3  server=hs2  user=a  mac-address=M1  bytes-in=3  bytes-out=3
            ",
        );
        let f = build_users(&servers(&["hs", "hs2"]), &users);
        let users: Vec<String> = samples(&f, "mikrotik_hotspot_user_rx_bytes_total")
            .into_iter()
            .map(|(l, _)| l[1].clone())
            .collect();
        assert_eq!(users, ["a (*1)", "a (*2)", "a"]);
        assert_no_duplicate_series(&f);
    }

    #[test]
    fn no_duplicate_series_on_simulator_data() {
        use routeros_sim::menus::registry;
        use routeros_sim::menus::testkit::Fixture;
        let menus = registry();
        let menu = |path: &str| {
            menus
                .iter()
                .find(|m| m.path() == path)
                .unwrap_or_else(|| panic!("{path} menu"))
        };
        for mut f in [Fixture::v7(), Fixture::v6()] {
            f.scale.hotspot_users = 500;
            let view = f.view(3, 50_000);
            let to_rows = |path: &str| -> Vec<Row> {
                menu(path)
                    .rows(&view)
                    .into_iter()
                    .map(Row::from_pairs)
                    .collect()
            };
            let names: Vec<String> = to_rows("/ip/hotspot")
                .iter()
                .map(|r| text(r, "name"))
                .collect();
            let families = build_users(&names, &to_rows("/ip/hotspot/active"));
            assert_no_duplicate_series(&families);
            let total: f64 = counts(&families).iter().map(|(_, n)| n).sum();
            assert_eq!(total, 500.0);
            let up = samples(&families, "mikrotik_hotspot_user_uptime_seconds");
            assert_eq!(up.len(), 500);
        }
    }
}
