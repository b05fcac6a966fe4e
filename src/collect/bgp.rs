//! `bgp`: BGP sessions: established or not, state, uptime, received prefixes
//! and message counters, RouterOS 6 and 7 behind one metric set.
//!
//! Commands, by the version (`/system/resource` once per target, remembered
//! until the router reboots, so no probe tries both menus):
//! * RouterOS 6: one `/routing/bgp/peer/print` with `.proplist` of the fields
//!   used. The peer table is the configuration and the state at once, so a
//!   peer that is down is a row like the others (`established=false`).
//! * RouterOS 7: `/routing/bgp/connection/print` (the configuration) and
//!   `/routing/bgp/session/print` (the sessions), both with `.proplist`, sent
//!   concurrently. RouterOS 7 lists a session only once it has started, so a
//!   connection that never came up has no session row at all: the
//!   connections are what says which sessions should exist. A session
//!   belongs to the connection whose name it carries (RouterOS names the
//!   sessions of connection `c` `c-1`, `c-2`, …); a connection without a
//!   session gets its series from its configuration with every value 0 and
//!   state `idle`; a session without a connection (one being torn down) keeps
//!   its own name.
//!
//! So a configured peer that is down always has its series, 0 where it has no
//! value, and `mikrotik_bgp_session_established == 0` alerts on it without
//! `absent()`. Disabled peers and connections (`disabled=true`, read as a
//! column rather than a query so a router that omits it still answers) are
//! left out: they are meant to be down.
//!
//! Labels: `name` (the v6 peer or the v7 connection), `remote_address`,
//! `remote_as`, `instance` (v6; the v7 connection's `instance` from 7.20) and
//! `vrf` (v7). On RouterOS 7 `remote_address` is the session's, and the
//! connection's (its `/32` or `/128` dropped) while there is none, so one
//! peer keeps one series through flaps. Counters differ by version: v6 counts
//! updates and withdrawals, v7 messages and bytes; each version's series of
//! the other's counters are absent. RouterOS 7 reports no BGP FSM state:
//! there the state is `established` or `idle`. A field that does not parse
//! costs its sample; a field a down peer lacks (`uptime`) is 0.

use super::family::{Family, MetricDesc, Value, metric};
use super::{Context, Group, GroupFuture, parse};
use routeros::{Command, Row};
use std::collections::HashSet;

/// The `bgp` group.
pub struct Bgp;

const PEER: &[&str] = &["name", "remote_address", "remote_as", "instance", "vrf"];

metric!(
    ESTABLISHED,
    "mikrotik_bgp_session_established",
    Gauge,
    "1 when the BGP session is established, 0 when the peer is configured but its session is not.",
    PEER
);
metric!(
    STATE,
    "mikrotik_bgp_session_state",
    Gauge,
    "BGP session state (1 for the current state): the FSM state on RouterOS 6, established or idle on RouterOS 7.",
    [
        "name",
        "remote_address",
        "remote_as",
        "instance",
        "vrf",
        "state"
    ]
);
metric!(
    UPTIME,
    "mikrotik_bgp_session_uptime_seconds",
    Gauge,
    "Seconds the BGP session has been established (0 while it is not).",
    PEER
);
metric!(
    PREFIXES,
    "mikrotik_bgp_session_received_prefixes",
    Gauge,
    "Prefixes received from the peer (prefix-count).",
    PEER
);
metric!(
    UPDATES_SENT,
    "mikrotik_bgp_session_sent_updates_total",
    Counter,
    "Updates sent to the peer (RouterOS 6).",
    PEER
);
metric!(
    UPDATES_RECEIVED,
    "mikrotik_bgp_session_received_updates_total",
    Counter,
    "Updates received from the peer (RouterOS 6).",
    PEER
);
metric!(
    WITHDRAWALS_SENT,
    "mikrotik_bgp_session_sent_withdrawals_total",
    Counter,
    "Withdrawals sent to the peer (RouterOS 6).",
    PEER
);
metric!(
    WITHDRAWALS_RECEIVED,
    "mikrotik_bgp_session_received_withdrawals_total",
    Counter,
    "Withdrawals received from the peer (RouterOS 6).",
    PEER
);
metric!(
    MESSAGES_SENT,
    "mikrotik_bgp_session_sent_messages_total",
    Counter,
    "BGP messages sent to the peer in this session (RouterOS 7).",
    PEER
);
metric!(
    MESSAGES_RECEIVED,
    "mikrotik_bgp_session_received_messages_total",
    Counter,
    "BGP messages received from the peer in this session (RouterOS 7).",
    PEER
);
metric!(
    BYTES_SENT,
    "mikrotik_bgp_session_sent_bytes_total",
    Counter,
    "Bytes of BGP messages sent to the peer in this session (RouterOS 7).",
    PEER
);
metric!(
    BYTES_RECEIVED,
    "mikrotik_bgp_session_received_bytes_total",
    Counter,
    "Bytes of BGP messages received from the peer in this session (RouterOS 7).",
    PEER
);

static METRICS: &[&MetricDesc] = &[
    &ESTABLISHED,
    &STATE,
    &UPTIME,
    &PREFIXES,
    &UPDATES_SENT,
    &UPDATES_RECEIVED,
    &WITHDRAWALS_SENT,
    &WITHDRAWALS_RECEIVED,
    &MESSAGES_SENT,
    &MESSAGES_RECEIVED,
    &BYTES_SENT,
    &BYTES_RECEIVED,
];

/// The BGP FSM states (RFC 4271), as RouterOS 6 writes them; any other state
/// the router reports is kept as its own series.
const STATES: [&str; 6] = [
    "idle",
    "connect",
    "active",
    "opensent",
    "openconfirm",
    "established",
];

/// A counter family and the field it comes from.
type CounterField = (&'static MetricDesc, &'static str);

const V6_COUNTERS: &[CounterField] = &[
    (&UPDATES_SENT, "updates-sent"),
    (&UPDATES_RECEIVED, "updates-received"),
    (&WITHDRAWALS_SENT, "withdrawn-sent"),
    (&WITHDRAWALS_RECEIVED, "withdrawn-received"),
];

const V7_COUNTERS: &[CounterField] = &[
    (&MESSAGES_SENT, "local.messages"),
    (&MESSAGES_RECEIVED, "remote.messages"),
    (&BYTES_SENT, "local.bytes"),
    (&BYTES_RECEIVED, "remote.bytes"),
];

/// Fields read from both a v6 peer and a v7 session.
const STATUS: [&str; 4] = ["established", "state", "uptime", "prefix-count"];

impl Group for Bgp {
    fn name(&self) -> &'static str {
        "bgp"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            if ctx.ros_version().await?.major < 7 {
                let mut fields = vec!["name", "instance", "remote-address", "remote-as"];
                fields.extend(STATUS);
                fields.extend(V6_COUNTERS.iter().map(|(_, f)| *f));
                fields.push("disabled");
                let rows = ctx
                    .rows(Command::new("/routing/bgp/peer/print").proplist(&fields))
                    .await?;
                return Ok(build(&v6_peers(&rows), V6_COUNTERS));
            }
            let mut fields = vec!["name", "remote.address", "remote.as"];
            fields.extend(STATUS.iter().filter(|f| **f != "state"));
            fields.extend(V7_COUNTERS.iter().map(|(_, f)| *f));
            let connection = ["name", "remote.address", "remote.as", "instance", "vrf"];
            let (connections, sessions) = tokio::join!(
                ctx.rows(
                    Command::new("/routing/bgp/connection/print")
                        .proplist(&[&connection[..], &["disabled"]].concat())
                ),
                ctx.rows(Command::new("/routing/bgp/session/print").proplist(&fields)),
            );
            Ok(build(&v7_peers(&connections?, &sessions?), V7_COUNTERS))
        })
    }
}

/// One configured peer, read and ready to become samples.
#[derive(Debug)]
struct Peer {
    /// Values of [`PEER`].
    labels: Vec<String>,
    state: String,
    established: bool,
    uptime: Option<f64>,
    prefixes: Option<u64>,
    /// Aligned with the version's counter table.
    counters: Vec<Option<u64>>,
}

/// A row's value of `key` as label text; empty when absent.
fn text(row: &Row, key: &str) -> String {
    row.text(key)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

/// False for rows that say `disabled=true` (absent: enabled).
fn enabled(row: &Row) -> bool {
    row.str("disabled").and_then(parse::boolean) != Some(true)
}

/// `established`: absent is false, a flag without value (`established=`)
/// is true.
fn is_established(row: &Row) -> bool {
    match row.str("established").map(str::trim) {
        None => false,
        Some("") => true,
        Some(v) => parse::boolean(v) == Some(true),
    }
}

/// A value of a row: parsed when present (`None`, with a debug line, when it
/// does not parse); when absent 0 for a session that is not established
/// (nothing to count yet) and `None` for one that is.
fn value<T: From<u8>>(
    row: &Row,
    key: &str,
    established: bool,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    match row.str(key).map(str::trim).filter(|v| !v.is_empty()) {
        Some(raw) => {
            let v = parse(raw);
            if v.is_none() {
                tracing::debug!(key, raw, "unparseable bgp value");
            }
            v
        }
        None => (!established).then(|| T::from(0)),
    }
}

/// The status and counters of a v6 peer or a v7 session row.
fn read(row: &Row, labels: Vec<String>, counters: &[CounterField]) -> Peer {
    let established = is_established(row);
    let state = match text(row, "state").to_lowercase() {
        s if s.is_empty() && established => "established".to_owned(),
        s if s.is_empty() => "idle".to_owned(),
        s => s,
    };
    Peer {
        labels,
        state,
        established,
        uptime: value(row, "uptime", established, |raw| {
            parse::duration(raw).map(|d| d.as_secs_f64())
        }),
        prefixes: value(row, "prefix-count", established, parse::unsigned),
        counters: counters
            .iter()
            .map(|(_, key)| value(row, key, established, parse::unsigned))
            .collect(),
    }
}

/// The peers of a RouterOS 6 `/routing/bgp/peer` print.
fn v6_peers(rows: &[Row]) -> Vec<Peer> {
    rows.iter()
        .filter(|r| enabled(r))
        .map(|r| {
            let labels = vec![
                text(r, "name"),
                text(r, "remote-address"),
                text(r, "remote-as"),
                text(r, "instance"),
                String::new(),
            ];
            read(r, labels, V6_COUNTERS)
        })
        .collect()
}

/// The connection a v7 session belongs to: the one named as the session, or
/// as the session without its `-N` suffix.
fn owner(session: &str, connections: &[String]) -> Option<usize> {
    let base = match session.rsplit_once('-') {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => session,
    };
    connections
        .iter()
        .position(|c| c == session)
        .or_else(|| connections.iter().position(|c| c == base))
}

/// A configured address as a session would show it: `/32` and `/128` dropped.
fn host_address(address: &str) -> &str {
    address
        .strip_suffix("/32")
        .or_else(|| address.strip_suffix("/128"))
        .unwrap_or(address)
}

/// The peers of RouterOS 7: every session of an enabled connection (or of
/// none), and every enabled connection without a session as a peer that is
/// down.
fn v7_peers(connections: &[Row], sessions: &[Row]) -> Vec<Peer> {
    let names: Vec<String> = connections.iter().map(|c| text(c, "name")).collect();
    let mut owned: Vec<Vec<&Row>> = vec![Vec::new(); connections.len()];
    let mut orphans = Vec::new();
    for session in sessions {
        match owner(&text(session, "name"), &names) {
            Some(i) => owned[i].push(session),
            None => orphans.push(session),
        }
    }
    let mut peers = Vec::new();
    for ((connection, name), sessions) in connections.iter().zip(&names).zip(&owned) {
        if !enabled(connection) {
            continue;
        }
        let labels = |address: String| {
            vec![
                name.clone(),
                address,
                text(connection, "remote.as"),
                text(connection, "instance"),
                text(connection, "vrf"),
            ]
        };
        if sessions.is_empty() {
            let configured = host_address(&text(connection, "remote.address")).to_owned();
            let nothing = Row::from_pairs(std::iter::empty::<(&str, &str)>());
            peers.push(read(&nothing, labels(configured), V7_COUNTERS));
        }
        for session in sessions {
            let address = host_address(&text(session, "remote.address")).to_owned();
            peers.push(read(session, labels(address), V7_COUNTERS));
        }
    }
    for session in orphans {
        let labels = vec![
            text(session, "name"),
            host_address(&text(session, "remote.address")).to_owned(),
            text(session, "remote.as"),
            String::new(),
            String::new(),
        ];
        peers.push(read(session, labels, V7_COUNTERS));
    }
    peers
}

/// The families of `peers`, with the counters of `counters`; a peer whose
/// labels repeat an earlier one's is left out.
fn build(peers: &[Peer], counters: &[CounterField]) -> Vec<Family> {
    let mut established = Family::new(&ESTABLISHED);
    let mut state = Family::new(&STATE);
    let mut uptime = Family::new(&UPTIME);
    let mut prefixes = Family::new(&PREFIXES);
    let mut counted: Vec<Family> = counters.iter().map(|(d, _)| Family::new(d)).collect();
    let mut seen = HashSet::new();
    for peer in peers.iter().filter(|p| seen.insert(p.labels.clone())) {
        let labels = || peer.labels.clone();
        established.push(labels(), peer.established);
        state.push_state_set(&peer.labels, &STATES, &peer.state);
        if let Some(v) = peer.uptime {
            uptime.push(labels(), Value::Float(v));
        }
        if let Some(v) = peer.prefixes {
            prefixes.push(labels(), v);
        }
        for (family, v) in counted.iter_mut().zip(&peer.counters) {
            if let Some(v) = v {
                family.push(labels(), *v);
            }
        }
    }
    let mut families = vec![established, state, uptime, prefixes];
    families.extend(counted);
    families
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixture::{assert_no_duplicate_series, rows, samples};

    /// Samples of `name` as (peer name, value).
    fn by_name(families: &[Family], name: &str) -> Vec<(String, f64)> {
        samples(families, name)
            .into_iter()
            .map(|(l, v)| (l[0].clone(), v.as_f64()))
            .collect()
    }

    fn states(families: &[Family], peer: &str) -> Vec<(String, f64)> {
        samples(families, "mikrotik_bgp_session_state")
            .into_iter()
            .filter(|(l, _)| l[0] == peer)
            .map(|(l, v)| (l[5].clone(), v.as_f64()))
            .collect()
    }

    const V6: &str = "
        .id=*0  name=A Peer  instance=default  remote-address=10.0.0.2  remote-as=65535  state=established  established=true  uptime=19w4d13h22m21s  prefix-count=1  updates-sent=1  updates-received=9  withdrawn-sent=0  withdrawn-received=0  disabled=false
        .id=*1  name=down  instance=default  remote-address=10.0.0.3  remote-as=65001  state=active  established=false  prefix-count=0  updates-sent=0  updates-received=0  withdrawn-sent=0  withdrawn-received=0  disabled=false
        .id=*2  name=off  instance=default  remote-address=10.0.0.4  remote-as=65002  state=idle  established=false  disabled=true
    ";

    #[test]
    fn v6_peers_with_the_down_one_at_zero() {
        let f = build(&v6_peers(&rows(V6)), V6_COUNTERS);
        assert_no_duplicate_series(&f);
        assert_eq!(
            by_name(&f, "mikrotik_bgp_session_established"),
            [("A Peer".to_owned(), 1.0), ("down".to_owned(), 0.0)]
        );
        let up = samples(&f, "mikrotik_bgp_session_uptime_seconds");
        assert_eq!(up[0].0, ["A Peer", "10.0.0.2", "65535", "default", ""]);
        assert_eq!(
            up[0].1.as_f64(),
            (19 * 7 * 86_400 + 4 * 86_400 + 13 * 3_600 + 22 * 60 + 21) as f64
        );
        assert_eq!(up[1].1.as_f64(), 0.0);
        assert_eq!(
            by_name(&f, "mikrotik_bgp_session_received_updates_total")[0].1,
            9.0
        );
        assert_eq!(
            by_name(&f, "mikrotik_bgp_session_received_prefixes")[1].1,
            0.0
        );
        assert_eq!(states(&f, "down").len(), 6);
        assert!(states(&f, "down").contains(&("active".to_owned(), 1.0)));
        assert!(samples(&f, "mikrotik_bgp_session_sent_messages_total").is_empty());
    }

    const V7_CONNECTIONS: &str = "
        .id=*1  name=bogon  remote.address=10.10.100.56/32  remote.as=65533  vrf=main  disabled=false
        .id=*2  name=transit  remote.address=192.0.2.1  remote.as=64500  vrf=main  disabled=false
        .id=*3  name=listen  remote.address=10.20.0.0/24  remote.as=65000  instance=bgp1  vrf=cust  disabled=false
        .id=*4  name=off  remote.address=192.0.2.9  remote.as=64509  disabled=true
    ";

    const V7_SESSIONS: &str = "
        .id=*2800001  name=bogon-1  remote.address=10.10.100.56  remote.as=65533  remote.messages=54  remote.bytes=1026  remote.eor=  local.messages=55  local.bytes=1109  ebgp=  uptime=53m10s720ms  prefix-count=0  established=true
        .id=*2800002  name=listen-1  remote.address=10.20.0.7  remote.as=65000  remote.messages=3  local.messages=4  uptime=5s  prefix-count=12  established=true
        .id=*2800003  name=listen-2  remote.address=10.20.0.8  remote.as=65000  remote.messages=2  local.messages=2  prefix-count=0
        .id=*2800004  name=off-1  remote.address=192.0.2.9  remote.as=64509  remote.messages=1  local.messages=1
        .id=*2800005  name=ghost-1  remote.address=198.51.100.1  remote.as=64999  established=true  uptime=1s
    ";

    #[test]
    fn v7_sessions_joined_with_their_connections() {
        let peers = v7_peers(&rows(V7_CONNECTIONS), &rows(V7_SESSIONS));
        let f = build(&peers, V7_COUNTERS);
        assert_no_duplicate_series(&f);
        let established = samples(&f, "mikrotik_bgp_session_established");
        let got: Vec<(&str, &str, f64)> = established
            .iter()
            .map(|(l, v)| (l[0].as_str(), l[1].as_str(), v.as_f64()))
            .collect();
        assert_eq!(
            got,
            [
                ("bogon", "10.10.100.56", 1.0),
                ("transit", "192.0.2.1", 0.0),
                ("listen", "10.20.0.7", 1.0),
                ("listen", "10.20.0.8", 0.0),
                ("ghost-1", "198.51.100.1", 1.0),
            ]
        );
        assert_eq!(
            established[2].0,
            ["listen", "10.20.0.7", "65000", "bgp1", "cust"]
        );
        assert_eq!(established[4].0[3..], ["", ""]);
        let up = by_name(&f, "mikrotik_bgp_session_uptime_seconds");
        assert_eq!(up[0], ("bogon".to_owned(), 3_190.72));
        assert_eq!(up[1], ("transit".to_owned(), 0.0));
        let sent = by_name(&f, "mikrotik_bgp_session_sent_messages_total");
        assert_eq!(sent[0].1, 55.0);
        assert_eq!(sent[1], ("transit".to_owned(), 0.0));
        assert_eq!(
            by_name(&f, "mikrotik_bgp_session_received_bytes_total")[0].1,
            1026.0
        );
        assert!(states(&f, "transit").contains(&("idle".to_owned(), 1.0)));
        assert!(states(&f, "bogon").contains(&("established".to_owned(), 1.0)));
        assert!(samples(&f, "mikrotik_bgp_session_sent_updates_total").is_empty());
    }

    #[test]
    fn session_names_find_their_connection() {
        let names = ["a".to_owned(), "a-b".to_owned(), "c-1".to_owned()];
        assert_eq!(owner("a-1", &names), Some(0));
        assert_eq!(owner("a-b-12", &names), Some(1));
        assert_eq!(owner("c-1", &names), Some(2));
        assert_eq!(owner("a-x", &names), None);
        assert_eq!(owner("z-1", &names), None);
        assert_eq!(host_address("fd00::1/128"), "fd00::1");
        assert_eq!(host_address("10.0.0.0/24"), "10.0.0.0/24");
    }

    #[test]
    fn odd_values_cost_one_sample_and_unknown_states_are_kept() {
        let peers = rows(
            "
            name=p  state=Graceful-Restart  established=true  uptime=soon  prefix-count=many  updates-sent=5  updates-received=x
            name=q  established=  prefix-count=7
            name=r  established=maybe
            ",
        );
        let f = build(&v6_peers(&peers), V6_COUNTERS);
        assert_no_duplicate_series(&f);
        assert_eq!(states(&f, "p").len(), 7);
        assert!(states(&f, "p").contains(&("graceful-restart".to_owned(), 1.0)));
        let up = by_name(&f, "mikrotik_bgp_session_uptime_seconds");
        assert_eq!(
            up,
            [("r".to_owned(), 0.0)],
            "p unparseable, q established without uptime"
        );
        assert_eq!(
            by_name(&f, "mikrotik_bgp_session_sent_updates_total")[0],
            ("p".to_owned(), 5.0)
        );
        assert!(
            by_name(&f, "mikrotik_bgp_session_received_updates_total")
                .iter()
                .all(|(n, _)| n != "p")
        );
        assert_eq!(
            by_name(&f, "mikrotik_bgp_session_established"),
            [
                ("p".to_owned(), 1.0),
                ("q".to_owned(), 1.0),
                ("r".to_owned(), 0.0)
            ]
        );
        assert!(states(&f, "q").contains(&("established".to_owned(), 1.0)));
    }

    #[test]
    fn no_duplicate_series_on_simulator_data() {
        use routeros_sim::menus::registry;
        use routeros_sim::menus::testkit::Fixture;
        let menus = registry();
        let print = |path: &str, view: &routeros_sim::menus::RouterView<'_>| -> Vec<Row> {
            let menu = menus.iter().find(|m| m.path() == path).expect(path);
            menu.rows(view).into_iter().map(Row::from_pairs).collect()
        };
        let mut v7 = Fixture::v7();
        v7.scale.bgp_sessions = 50;
        let view = v7.view(0, 86_400);
        let connections = print("/routing/bgp/connection", &view);
        let sessions = print("/routing/bgp/session", &view);
        let f = build(&v7_peers(&connections, &sessions), V7_COUNTERS);
        assert_no_duplicate_series(&f);
        let established = by_name(&f, "mikrotik_bgp_session_established");
        assert_eq!(established.len(), 50);
        assert_eq!(established[49], ("peer50".to_owned(), 0.0));
        let mut v6 = Fixture::v6();
        v6.scale.bgp_sessions = 50;
        let peers = print("/routing/bgp/peer", &v6.view(0, 86_400));
        let f = build(&v6_peers(&peers), V6_COUNTERS);
        assert_no_duplicate_series(&f);
        assert_eq!(
            by_name(&f, "mikrotik_bgp_session_received_prefixes").len(),
            50
        );
    }
}
