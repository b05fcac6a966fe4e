//! `ipsec`: IKE state, uptime and traffic per active peer, and the phase 2
//! state of every policy, so "the tunnel is down" is one query
//! (`mikrotik_ipsec_policy_ph2_state{state="established"} == 0`).
//!
//! Commands, two per probe whatever the number of peers, both streamed (a VPN
//! concentrator may hold thousands of road warriors):
//! * `/ip/ipsec/active-peers/print` with `.proplist` of the eleven fields used;
//! * `/ip/ipsec/policy/print ?dynamic=false ?disabled=false` with `.proplist`
//!   of the nine fields used. Dynamic policies are generated per road warrior
//!   (mode config) and come and go with them: with `clients: per_client` the
//!   `?dynamic=false` is dropped and they are reported too. Template policies
//!   (`template=true`, matching rules for responders) have no state and are
//!   skipped.
//!
//! Peers: a peer is keyed (`peer` label) by the configured peer it belongs to
//! (RouterOS 7 names it in `peer`), else by its remote address (RouterOS 6,
//! where a site-to-site peer's address is its configuration). Road warriors
//! all belong to one passive peer: when several active peers share a key,
//! only their number is reported (`mikrotik_ipsec_peer_sessions`), never one
//! series per remote address, which changes with every reconnect. On
//! RouterOS 6 each road warrior is keyed by its own address, so its series
//! follow its address: there the group's cardinality grows with road
//! warriors. The active-peers menu only lists peers that are up, so a
//! site-to-site peer that is down has no peer series: alert on the policies,
//! which are configuration and always listed. Policies are keyed by source,
//! destination and peer; a policy repeated on all three (differing only in
//! protocol or port) keeps its first row. A policy without `ph2-state` counts
//! as `no-phase2`.

use super::family::{Family, MetricDesc, Value, metric};
use super::{Context, Group, GroupFuture, parse};
use crate::config::ClientSeries;
use routeros::{Command, Row};
use std::collections::{HashMap, HashSet};

/// The `ipsec` group.
pub struct Ipsec;

/// Labels of the per-peer series.
const PEER_LABELS: &[&str] = &["peer"];

/// Labels of the per-policy series.
const POLICY_LABELS: &[&str] = &["src_address", "dst_address", "peer"];

metric!(
    PEER_SESSIONS,
    "mikrotik_ipsec_peer_sessions",
    Gauge,
    "Active peers (IKE SAs) belonging to the configured peer (several for the road warriors of a passive peer).",
    PEER_LABELS
);
metric!(
    PEER_STATE,
    "mikrotik_ipsec_peer_state",
    Gauge,
    "IKE state of the active peer (1 for the current state).",
    ["peer", "state"]
);
metric!(
    PEER_UPTIME,
    "mikrotik_ipsec_peer_uptime_seconds",
    Gauge,
    "Seconds since the active peer's IKE SA was established.",
    PEER_LABELS
);
metric!(
    PEER_RX_BYTES,
    "mikrotik_ipsec_peer_rx_bytes_total",
    Counter,
    "Bytes received from the active peer.",
    PEER_LABELS
);
metric!(
    PEER_TX_BYTES,
    "mikrotik_ipsec_peer_tx_bytes_total",
    Counter,
    "Bytes sent to the active peer.",
    PEER_LABELS
);
metric!(
    PEER_RX_PACKETS,
    "mikrotik_ipsec_peer_rx_packets_total",
    Counter,
    "Packets received from the active peer.",
    PEER_LABELS
);
metric!(
    PEER_TX_PACKETS,
    "mikrotik_ipsec_peer_tx_packets_total",
    Counter,
    "Packets sent to the active peer.",
    PEER_LABELS
);
metric!(
    PEER_PH2_SAS,
    "mikrotik_ipsec_peer_ph2_sas",
    Gauge,
    "Phase 2 SAs of the active peer (ph2-total).",
    PEER_LABELS
);
metric!(
    POLICY_PH2_STATE,
    "mikrotik_ipsec_policy_ph2_state",
    Gauge,
    "Phase 2 state of the policy (1 for the current state).",
    ["src_address", "dst_address", "peer", "state"]
);
metric!(
    POLICY_ACTIVE,
    "mikrotik_ipsec_policy_active",
    Gauge,
    "Whether the policy is active (1) or not (0).",
    POLICY_LABELS
);
metric!(
    POLICY_INFO,
    "mikrotik_ipsec_policy_info",
    Gauge,
    "IPsec policy metadata (value 1).",
    [
        "src_address",
        "dst_address",
        "peer",
        "tunnel",
        "dynamic",
        "comment"
    ]
);

static METRICS: &[&MetricDesc] = &[
    &PEER_SESSIONS,
    &PEER_STATE,
    &PEER_UPTIME,
    &PEER_RX_BYTES,
    &PEER_TX_BYTES,
    &PEER_RX_PACKETS,
    &PEER_TX_PACKETS,
    &PEER_PH2_SAS,
    &POLICY_PH2_STATE,
    &POLICY_ACTIVE,
    &POLICY_INFO,
];

const PEERS_PRINT: &str = "/ip/ipsec/active-peers/print";
const POLICIES_PRINT: &str = "/ip/ipsec/policy/print";

/// Properties of an active peer row.
const PEER_PROPLIST: &[&str] = &[
    "peer",
    "remote-address",
    "local-address",
    "state",
    "side",
    "uptime",
    "rx-bytes",
    "tx-bytes",
    "rx-packets",
    "tx-packets",
    "ph2-total",
];

/// Properties of a policy row.
const POLICY_PROPLIST: &[&str] = &[
    "src-address",
    "dst-address",
    "peer",
    "tunnel",
    "ph2-state",
    "active",
    "template",
    "dynamic",
    "comment",
];

/// IKE states with a series of their own (others the router reports are
/// kept as their own series while current).
const PEER_STATES: &[&str] = &["established"];

/// Phase 2 states with a series of their own.
const PH2_STATES: &[&str] = &["established", "expired", "no-phase2"];

/// Counters of an active peer: field and family.
static PEER_COUNTERS: &[(&str, &MetricDesc)] = &[
    ("rx-bytes", &PEER_RX_BYTES),
    ("tx-bytes", &PEER_TX_BYTES),
    ("rx-packets", &PEER_RX_PACKETS),
    ("tx-packets", &PEER_TX_PACKETS),
    ("ph2-total", &PEER_PH2_SAS),
];

impl Group for Ipsec {
    fn name(&self) -> &'static str {
        "ipsec"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let peers_print = Command::new(PEERS_PRINT).proplist(PEER_PROPLIST);
            let mut policies_print = Command::new(POLICIES_PRINT).proplist(POLICY_PROPLIST);
            if ctx.module.clients != ClientSeries::PerClient {
                policies_print = policies_print.query("dynamic=false");
            }
            policies_print = policies_print.query("disabled=false");
            let mut peers = Vec::new();
            let mut policies = Policies::default();
            let (a, b) = tokio::join!(
                ctx.for_each_row(peers_print, |row| peers.push(Peer::of(row))),
                ctx.for_each_row(policies_print, |row| policies.add(row)),
            );
            a?;
            b?;
            if policies.repeated > 0 {
                let n = policies.repeated;
                ctx.trace.note(|| {
                    format!("ipsec: {n} policies repeat a source, destination and peer; first kept")
                });
            }
            let mut families = peer_families(&peers);
            families.extend(policies.families());
            Ok(families)
        })
    }
}

/// What the group keeps of an active peer row.
#[derive(Debug)]
struct Peer {
    /// The configured peer's name, else the remote address.
    key: String,
    state: String,
    uptime: Option<f64>,
    /// Values of [`PEER_COUNTERS`], in order.
    counters: Vec<Option<u64>>,
}

impl Peer {
    fn of(row: &Row) -> Self {
        let key = [row.text("peer"), row.text("remote-address")]
            .into_iter()
            .flatten()
            .map(|t| t.trim().to_owned())
            .find(|t| !t.is_empty())
            .unwrap_or_default();
        let uptime = row.str("uptime").and_then(|raw| {
            let up = parse::duration(raw);
            if up.is_none() {
                tracing::debug!(raw, "unparseable IPsec peer uptime");
            }
            up.map(|d| d.as_secs_f64())
        });
        Self {
            key,
            state: row
                .text("state")
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
            uptime,
            counters: PEER_COUNTERS
                .iter()
                .map(|(field, _)| row.str(field).and_then(parse::unsigned))
                .collect(),
        }
    }
}

/// The peer families: sessions per key always, the rest for keys with one
/// session only (see the module comment).
fn peer_families(peers: &[Peer]) -> Vec<Family> {
    let mut sessions: Vec<(&str, u64)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for peer in peers.iter().filter(|p| !p.key.is_empty()) {
        let i = *index.entry(&peer.key).or_insert_with(|| {
            sessions.push((&peer.key, 0));
            sessions.len() - 1
        });
        sessions[i].1 += 1;
    }
    let mut count = Family::new(&PEER_SESSIONS);
    for (key, n) in &sessions {
        count.push(vec![(*key).to_owned()], *n);
    }
    let mut state = Family::new(&PEER_STATE);
    let mut uptime = Family::new(&PEER_UPTIME);
    let mut counters: Vec<Family> = PEER_COUNTERS.iter().map(|(_, d)| Family::new(d)).collect();
    let single = |key: &str| index.get(key).is_some_and(|&i| sessions[i].1 == 1);
    for peer in peers.iter().filter(|p| single(&p.key)) {
        let labels = vec![peer.key.clone()];
        state.push_state_set(&labels, PEER_STATES, &peer.state);
        if let Some(up) = peer.uptime {
            uptime.push(labels.clone(), up);
        }
        for (family, value) in counters.iter_mut().zip(&peer.counters) {
            if let Some(v) = value {
                family.push(labels.clone(), Value::Int(*v));
            }
        }
    }
    let mut families = vec![count, state, uptime];
    families.extend(counters);
    families
}

/// The policy families, built one row at a time.
struct Policies {
    state: Family,
    active: Family,
    info: Family,
    seen: HashSet<Vec<String>>,
    repeated: usize,
}

impl Default for Policies {
    fn default() -> Self {
        Self {
            state: Family::new(&POLICY_PH2_STATE),
            active: Family::new(&POLICY_ACTIVE),
            info: Family::new(&POLICY_INFO),
            seen: HashSet::new(),
            repeated: 0,
        }
    }
}

impl Policies {
    /// Adds one policy row (templates skipped).
    fn add(&mut self, row: &Row) {
        if row.str("template").and_then(parse::boolean) == Some(true) {
            return;
        }
        let labels: Vec<String> = ["src-address", "dst-address", "peer"]
            .iter()
            .map(|k| text(row, k))
            .collect();
        if !self.seen.insert(labels.clone()) {
            self.repeated += 1;
            return;
        }
        let ph2 = text(row, "ph2-state");
        let ph2 = if ph2.is_empty() { "no-phase2" } else { &ph2 };
        self.state.push_state_set(&labels, PH2_STATES, ph2);
        match row.str("active").and_then(parse::boolean) {
            Some(active) => self.active.push(labels.clone(), active),
            None => tracing::debug!(?labels, "IPsec policy without a readable `active`"),
        }
        let mut info = labels;
        for key in ["tunnel", "dynamic"] {
            let raw = text(row, key);
            info.push(parse::boolean(&raw).map_or(raw, |b| b.to_string()));
        }
        info.push(text(row, "comment"));
        self.info.push(info, 1u64);
    }

    fn families(self) -> Vec<Family> {
        vec![self.state, self.active, self.info]
    }
}

/// A row's value of `key` as label text; empty when absent.
fn text(row: &Row, key: &str) -> String {
    row.text(key)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixture::{assert_no_duplicate_series, rows, samples};

    fn peers_of(text: &str) -> Vec<Family> {
        let peers: Vec<Peer> = rows(text).iter().map(Peer::of).collect();
        peer_families(&peers)
    }

    fn policies_of(text: &str) -> Policies {
        let mut policies = Policies::default();
        for row in &rows(text) {
            policies.add(row);
        }
        policies
    }

    /// The value of `name` whose labels are exactly `labels`.
    fn value_of(f: &[Family], name: &str, labels: &[&str]) -> Option<f64> {
        samples(f, name)
            .into_iter()
            .find(|(l, _)| l == labels)
            .map(|(_, v)| v.as_f64())
    }

    const V7_PEERS: &str = "
        peer=site-1  remote-address=203.0.113.11  local-address=198.51.100.1  state=established  side=initiator  uptime=1h2m3s  rx-bytes=5000000000  tx-bytes=42  rx-packets=7000000  tx-packets=3  ph2-total=2
        peer=rw  remote-address=192.0.2.7  local-address=198.51.100.1  state=established  side=responder  uptime=5m  rx-bytes=1  tx-bytes=1  rx-packets=1  tx-packets=1  ph2-total=1
        peer=rw  remote-address=192.0.2.99  local-address=198.51.100.1  state=established  side=responder  uptime=9m  rx-bytes=1  tx-bytes=1  rx-packets=1  tx-packets=1  ph2-total=1
    ";

    #[test]
    fn v7_peers_keyed_by_configured_peer_road_warriors_only_counted() {
        let f = peers_of(V7_PEERS);
        assert_no_duplicate_series(&f);
        let sessions = samples(&f, "mikrotik_ipsec_peer_sessions");
        let sessions: Vec<(String, f64)> = sessions
            .into_iter()
            .map(|(l, v)| (l[0].clone(), v.as_f64()))
            .collect();
        assert_eq!(
            sessions,
            [("site-1".to_owned(), 1.0), ("rw".to_owned(), 2.0)]
        );
        let v = |name, labels: &[&str]| value_of(&f, name, labels);
        assert_eq!(
            v("mikrotik_ipsec_peer_state", &["site-1", "established"]),
            Some(1.0)
        );
        assert_eq!(
            v("mikrotik_ipsec_peer_uptime_seconds", &["site-1"]),
            Some(3_723.0)
        );
        assert_eq!(
            samples(&f, "mikrotik_ipsec_peer_rx_bytes_total")[0].1,
            Value::Int(5_000_000_000)
        );
        assert_eq!(v("mikrotik_ipsec_peer_ph2_sas", &["site-1"]), Some(2.0));
        for family in &f {
            if family.desc.name != "mikrotik_ipsec_peer_sessions" {
                assert!(
                    family.samples.iter().all(|s| s.labels[0] != "rw"),
                    "{}",
                    family.desc.name
                );
            }
        }
    }

    #[test]
    fn v6_peers_keyed_by_remote_address_with_clock_uptime() {
        let f = peers_of(
            "
            remote-address=203.0.113.11  local-address=198.51.100.1  state=established  uptime=1d02:00:05  rx-bytes=10  tx-bytes=20
            remote-address=203.0.113.12  state=message-1-sent  uptime=garbage  rx-bytes=-1
            ",
        );
        assert_no_duplicate_series(&f);
        let v = |name, labels: &[&str]| value_of(&f, name, labels);
        assert_eq!(
            v("mikrotik_ipsec_peer_uptime_seconds", &["203.0.113.11"]),
            Some(93_605.0)
        );
        assert_eq!(
            v("mikrotik_ipsec_peer_uptime_seconds", &["203.0.113.12"]),
            None
        );
        let state = "mikrotik_ipsec_peer_state";
        assert_eq!(v(state, &["203.0.113.12", "established"]), Some(0.0));
        assert_eq!(
            v(state, &["203.0.113.12", "message-1-sent"]),
            Some(1.0),
            "unknown kept"
        );
        assert_eq!(samples(&f, "mikrotik_ipsec_peer_rx_bytes_total").len(), 1);
        assert!(
            samples(&f, "mikrotik_ipsec_peer_ph2_sas").is_empty(),
            "absent"
        );
    }

    #[test]
    fn v7_policies_one_down_template_skipped() {
        let p = policies_of(
            "
            template=true  src-address=::/0  dst-address=::/0  dynamic=false
            src-address=10.1.0.0/24  dst-address=10.100.0.0/24  peer=site-1  tunnel=true  ph2-state=established  active=true  template=false  dynamic=false  comment=head office
            src-address=10.1.0.0/24  dst-address=10.100.1.0/24  peer=site-2  tunnel=true  ph2-state=no-phase2  active=false  template=false  dynamic=false
            src-address=10.1.0.0/24  dst-address=10.100.1.0/24  peer=site-2  tunnel=true  ph2-state=established  active=true  template=false  dynamic=false
            ",
        );
        assert_eq!(p.repeated, 1);
        let f = p.families();
        assert_no_duplicate_series(&f);
        let state = "mikrotik_ipsec_policy_ph2_state";
        let site =
            |dst: &'static str, peer: &'static str, s: &'static str| ["10.1.0.0/24", dst, peer, s];
        assert_eq!(
            value_of(&f, state, &site("10.100.0.0/24", "site-1", "established")),
            Some(1.0)
        );
        assert_eq!(
            value_of(&f, state, &site("10.100.1.0/24", "site-2", "established")),
            Some(0.0)
        );
        assert_eq!(
            value_of(&f, state, &site("10.100.1.0/24", "site-2", "no-phase2")),
            Some(1.0)
        );
        assert_eq!(samples(&f, state).len(), 6);
        let active = samples(&f, "mikrotik_ipsec_policy_active");
        assert_eq!(
            active.iter().map(|(_, v)| v.as_f64()).collect::<Vec<_>>(),
            [1.0, 0.0]
        );
        let info = samples(&f, "mikrotik_ipsec_policy_info");
        assert_eq!(
            info[0].0,
            [
                "10.1.0.0/24",
                "10.100.0.0/24",
                "site-1",
                "true",
                "false",
                "head office"
            ]
        );
    }

    #[test]
    fn v6_policies_odd_values_cost_one_sample() {
        let f = policies_of(
            "
            src-address=10.1.0.0/24  dst-address=10.2.0.0/24  tunnel=yes  active=maybe  dynamic=no
            src-address=10.1.0.0/24  dst-address=10.3.0.0/24  ph2-state=rekeying  active=yes
            ",
        )
        .families();
        let state = "mikrotik_ipsec_policy_ph2_state";
        let labels = |dst: &'static str, s: &'static str| ["10.1.0.0/24", dst, "", s];
        assert_eq!(
            value_of(&f, state, &labels("10.2.0.0/24", "no-phase2")),
            Some(1.0),
            "absent"
        );
        assert_eq!(
            value_of(&f, state, &labels("10.3.0.0/24", "rekeying")),
            Some(1.0)
        );
        assert_eq!(samples(&f, "mikrotik_ipsec_policy_active").len(), 1);
        assert_eq!(samples(&f, "mikrotik_ipsec_policy_info")[0].0[3], "true");
    }

    #[test]
    fn no_duplicate_series_on_simulator_data() {
        use routeros_sim::menus::registry;
        use routeros_sim::menus::testkit::Fixture;
        let menu = |path: &str| {
            registry()
                .into_iter()
                .find(|m| m.path() == path)
                .unwrap_or_else(|| panic!("{path} menu"))
        };
        for mut f in [Fixture::v6(), Fixture::v7()] {
            f.scale.ipsec_peers = 20;
            let view = f.view(1, 7_200);
            let peers: Vec<Peer> = menu("/ip/ipsec/active-peers")
                .rows(&view)
                .into_iter()
                .map(|r| Peer::of(&Row::from_pairs(r)))
                .collect();
            let mut families = peer_families(&peers);
            let mut policies = Policies::default();
            for row in menu("/ip/ipsec/policy").rows(&view) {
                policies.add(&Row::from_pairs(row));
            }
            families.extend(policies.families());
            assert_no_duplicate_series(&families);
            assert_eq!(samples(&families, "mikrotik_ipsec_policy_active").len(), 22);
        }
    }
}
