//! `bfd`: BFD sessions (RouterOS 7): up or not, state, uptime, packets and
//! state changes.
//!
//! Command: one `/routing/bfd/session/print` with `.proplist` of the fields
//! used, on RouterOS 7. RouterOS 6 keeps its BFD neighbours in another menu
//! (`/routing/bfd/neighbor`) of another shape, which this group does not read:
//! on RouterOS 6 (the version read once per target and remembered) it is
//! unsupported without sending anything.
//!
//! RouterOS lists a session for every BFD-enabled peer (BGP `use-bfd`, OSPF
//! interface templates), also while it is down, so a session that is down
//! keeps its series: `mikrotik_bfd_session_up` 0, uptime 0. A session BFD is
//! forbidden for is listed with the `inactive` flag and no state: its state
//! is `inactive`, kept as a state of its own; a row with no state at all is
//! `down`. Sessions are keyed by `remote_address` (as RouterOS writes it,
//! `10.0.0.1%ether1@vrf1` with interface and VRF), `local_address` and
//! `vrf`; a row repeating an earlier one's labels is left out.

use super::family::{Family, MetricDesc, Value, metric};
use super::{Context, Group, GroupError, GroupFuture, parse};
use routeros::{Command, Row};
use std::collections::HashSet;

/// The `bfd` group.
pub struct Bfd;

const SESSION: &[&str] = &["remote_address", "local_address", "vrf"];

metric!(
    UP,
    "mikrotik_bfd_session_up",
    Gauge,
    "1 when the BFD session is up, 0 otherwise.",
    SESSION
);
metric!(
    STATE,
    "mikrotik_bfd_session_state",
    Gauge,
    "BFD session state (1 for the current state; unknown states kept).",
    ["remote_address", "local_address", "vrf", "state"]
);
metric!(
    UPTIME,
    "mikrotik_bfd_session_uptime_seconds",
    Gauge,
    "Seconds the BFD session has been up (0 while it is not).",
    SESSION
);
metric!(
    RX,
    "mikrotik_bfd_session_received_packets_total",
    Counter,
    "BFD control packets received from the neighbour.",
    SESSION
);
metric!(
    TX,
    "mikrotik_bfd_session_sent_packets_total",
    Counter,
    "BFD control packets sent to the neighbour.",
    SESSION
);
metric!(
    STATE_CHANGES,
    "mikrotik_bfd_session_state_changes_total",
    Counter,
    "State changes of the BFD session.",
    SESSION
);

static METRICS: &[&MetricDesc] = &[&UP, &STATE, &UPTIME, &RX, &TX, &STATE_CHANGES];

/// The BFD states (RFC 5880) as RouterOS writes them.
const STATES: [&str; 4] = ["up", "down", "init", "admin-down"];

/// Counter families and their fields.
const COUNTERS: [(&MetricDesc, &str); 3] = [
    (&RX, "packets-rx"),
    (&TX, "packets-tx"),
    (&STATE_CHANGES, "state-changes"),
];

const PROPLIST: &[&str] = &[
    "remote-address",
    "local-address",
    "vrf",
    "state",
    "inactive",
    "uptime",
    "packets-rx",
    "packets-tx",
    "state-changes",
];

impl Group for Bfd {
    fn name(&self) -> &'static str {
        "bfd"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            if ctx.ros_version().await?.major < 7 {
                return Err(GroupError::Unsupported(
                    "RouterOS 6 keeps BFD in /routing/bfd/neighbor, which the bfd group does not read"
                        .into(),
                ));
            }
            let sessions = ctx
                .rows(Command::new("/routing/bfd/session/print").proplist(PROPLIST))
                .await?;
            Ok(build(&sessions))
        })
    }
}

/// A row's value of `key` as label text; empty when absent.
fn text(row: &Row, key: &str) -> String {
    row.text(key)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

/// The session's state: `state`, else `inactive` for a session with that
/// flag, else `down`.
fn state(row: &Row) -> String {
    let state = text(row, "state").to_lowercase();
    if !state.is_empty() {
        return state;
    }
    // A flag: `inactive=true`, or present without a value.
    let inactive = row
        .str("inactive")
        .map(str::trim)
        .is_some_and(|v| v.is_empty() || parse::boolean(v) == Some(true));
    if inactive { "inactive" } else { "down" }.to_owned()
}

/// `key` parsed when present (`None`, logged, when it does not parse); when
/// absent `absent`.
fn value<T>(
    row: &Row,
    key: &str,
    absent: Option<T>,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    match row.str(key).map(str::trim).filter(|v| !v.is_empty()) {
        Some(raw) => {
            let v = parse(raw);
            if v.is_none() {
                tracing::debug!(key, raw, "unparseable bfd value");
            }
            v
        }
        None => absent,
    }
}

/// Converts the session rows into families (pure, unit-tested on fixtures).
fn build(sessions: &[Row]) -> Vec<Family> {
    let mut up = Family::new(&UP);
    let mut states = Family::new(&STATE);
    let mut uptime = Family::new(&UPTIME);
    let mut counters: Vec<Family> = COUNTERS.iter().map(|(d, _)| Family::new(d)).collect();
    let mut seen = HashSet::new();
    for row in sessions {
        let labels = vec![
            text(row, "remote-address"),
            text(row, "local-address"),
            text(row, "vrf"),
        ];
        if !seen.insert(labels.clone()) {
            tracing::debug!(?labels, "bfd session repeating another's labels left out");
            continue;
        }
        let state = state(row);
        let is_up = state == "up";
        up.push(labels.clone(), is_up);
        states.push_state_set(&labels, &STATES, &state);
        // An up session without `uptime` has no sample; one that is not up has 0.
        let seconds = value(row, "uptime", (!is_up).then_some(0.0), |raw| {
            parse::duration(raw).map(|d| d.as_secs_f64())
        });
        if let Some(v) = seconds {
            uptime.push(labels.clone(), Value::Float(v));
        }
        for (family, (_, key)) in counters.iter_mut().zip(COUNTERS) {
            if let Some(v) = value(row, key, Some(0), parse::unsigned) {
                family.push(labels.clone(), v);
            }
        }
    }
    let mut families = vec![up, states, uptime];
    families.extend(counters);
    families
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixture::{assert_no_duplicate_series, rows, samples};

    /// `(remote_address, value)` of every sample of `name`.
    fn by_remote(families: &[Family], name: &str) -> Vec<(String, f64)> {
        samples(families, name)
            .into_iter()
            .map(|(l, v)| (l[0].clone(), v.as_f64()))
            .collect()
    }

    fn current_state(families: &[Family], remote: &str) -> Vec<String> {
        samples(families, "mikrotik_bfd_session_state")
            .into_iter()
            .filter(|(l, v)| l[0] == remote && v.as_f64() == 1.0)
            .map(|(l, _)| l[3].clone())
            .collect()
    }

    /// The two sessions of the RouterOS manual's `print`, plus one up.
    const V7: &str = "
        .id=*1  inactive=true  multihop=yes  remote-address=10.155.101.183  local-address=  desired-tx-interval=0ms  required-min-rx=0ms  multiplier=0
        .id=*2  multihop=no  remote-address=111.111.11.11%ovpn-out1@vrf1  local-address=111.111.11.12@vrf1  vrf=vrf1  state=down  state-changes=0  desired-tx-interval=200ms  required-min-rx=200ms  remote-min-rx=1us  multiplier=5  packets-rx=0  packets-tx=7674
        .id=*3  multihop=no  remote-address=172.16.0.1%ether1  local-address=172.16.255.1  state=up  state-changes=3  uptime=1h2m3s  packets-rx=18000  packets-tx=18010
    ";

    #[test]
    fn v7_sessions_up_down_and_inactive() {
        let f = build(&rows(V7));
        assert_no_duplicate_series(&f);
        assert_eq!(
            by_remote(&f, "mikrotik_bfd_session_up"),
            [
                ("10.155.101.183".to_owned(), 0.0),
                ("111.111.11.11%ovpn-out1@vrf1".to_owned(), 0.0),
                ("172.16.0.1%ether1".to_owned(), 1.0)
            ]
        );
        assert_eq!(current_state(&f, "10.155.101.183"), ["inactive"]);
        assert_eq!(current_state(&f, "111.111.11.11%ovpn-out1@vrf1"), ["down"]);
        assert_eq!(current_state(&f, "172.16.0.1%ether1"), ["up"]);
        assert_eq!(
            samples(&f, "mikrotik_bfd_session_state").len(),
            4 + 1 + 4 + 4
        );
        let up = by_remote(&f, "mikrotik_bfd_session_uptime_seconds");
        assert_eq!(up[1].1, 0.0);
        assert_eq!(up[2].1, 3_723.0);
        let tx = by_remote(&f, "mikrotik_bfd_session_sent_packets_total");
        assert_eq!(
            tx.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
            [0.0, 7_674.0, 18_010.0]
        );
        let labels = &samples(&f, "mikrotik_bfd_session_up")[1].0;
        assert_eq!(labels[1..], ["111.111.11.12@vrf1", "vrf1"]);
        assert_eq!(
            by_remote(&f, "mikrotik_bfd_session_state_changes_total")[2].1,
            3.0
        );
    }

    #[test]
    fn odd_values_cost_one_sample_and_unknown_states_are_kept() {
        let sessions = rows(
            "
            remote-address=a  state=Up  uptime=later  packets-rx=x  packets-tx=5
            remote-address=b  state=fancy  packets-rx=1
            remote-address=a  state=down
            remote-address=c  state=up
            ",
        );
        let f = build(&sessions);
        assert_no_duplicate_series(&f);
        assert_eq!(current_state(&f, "a"), ["up"]);
        assert_eq!(current_state(&f, "b"), ["fancy"]);
        assert_eq!(samples(&f, "mikrotik_bfd_session_state").len(), 4 + 5 + 4);
        // a: unparseable uptime; c: up without uptime.
        assert_eq!(
            by_remote(&f, "mikrotik_bfd_session_uptime_seconds"),
            [("b".to_owned(), 0.0)]
        );
        let rx = by_remote(&f, "mikrotik_bfd_session_received_packets_total");
        assert_eq!(rx, [("b".to_owned(), 1.0), ("c".to_owned(), 0.0)]);
        assert_eq!(
            by_remote(&f, "mikrotik_bfd_session_sent_packets_total")[0].1,
            5.0
        );
    }

    #[test]
    fn no_duplicate_series_on_simulator_data() {
        use routeros_sim::menus::registry;
        use routeros_sim::menus::testkit::Fixture;
        let menu = registry()
            .into_iter()
            .find(|m| m.path() == "/routing/bfd/session")
            .expect("bfd menu");
        let mut f = Fixture::v7();
        f.scale.bgp_sessions = 50;
        let sessions: Vec<Row> = menu
            .rows(&f.view(0, 86_400))
            .into_iter()
            .map(Row::from_pairs)
            .collect();
        let families = build(&sessions);
        assert_no_duplicate_series(&families);
        let up = by_remote(&families, "mikrotik_bfd_session_up");
        assert_eq!(up.len(), 50);
        assert_eq!(up.iter().filter(|(_, v)| *v == 1.0).count(), 49);
    }
}
