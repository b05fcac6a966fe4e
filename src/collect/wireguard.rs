//! `wireguard`: WireGuard peer traffic, last handshake and metadata (RouterOS 7).
//!
//! Command: `/interface/wireguard/peers/print` with `.proplist` of the fields used
//! and never a key column (`public-key`, `private-key`, `preshared-key`). RouterOS 6
//! has no WireGuard menu: the group is then unsupported.
//!
//! A peer is identified by `interface` plus `peer`: its `name` (7.15+), else its
//! `comment`, else its `allowed-address`, else its `.id`. Peers of one interface
//! sharing an identity get their `.id` appended so no two series collide.
//!
//! The info's `endpoint` is the *configured* `endpoint-address:endpoint-port`
//! (empty for a peer that only answers). The current endpoint
//! (`current-endpoint-address`/`-port`) is not fetched: a roaming peer or a
//! NAT rebinding changes it at any time, and as a label it would start a new
//! info series each time; an address has no numeric form worth a value.

use super::family::{Family, MetricDesc, Value, metric};
use super::{Context, Group, GroupFuture, parse};
use routeros::{Command, Row};
use std::collections::HashMap;

/// The `wireguard` group.
pub struct Wireguard;

metric!(
    RX,
    "mikrotik_wireguard_peer_rx_bytes",
    Gauge,
    "Bytes received from the WireGuard peer.",
    ["interface", "peer"]
);
metric!(
    TX,
    "mikrotik_wireguard_peer_tx_bytes",
    Gauge,
    "Bytes sent to the WireGuard peer.",
    ["interface", "peer"]
);
metric!(
    HANDSHAKE,
    "mikrotik_wireguard_peer_latest_handshake",
    Gauge,
    "Unix timestamp of the peer's last handshake (absent when it never shook hands).",
    ["interface", "peer"]
);
metric!(
    INFO,
    "mikrotik_wireguard_peer_info",
    Gauge,
    "WireGuard peer metadata (value 1).",
    [
        "interface",
        "peer",
        "name",
        "endpoint",
        "comment",
        "allowed_address",
        "disabled",
    ]
);

static METRICS: &[&MetricDesc] = &[&RX, &TX, &HANDSHAKE, &INFO];

/// Properties fetched (no key material).
const PROPLIST: &[&str] = &[
    ".id",
    "interface",
    "name",
    "comment",
    "endpoint-address",
    "endpoint-port",
    "allowed-address",
    "rx",
    "tx",
    "last-handshake",
    "disabled",
];

impl Group for Wireguard {
    fn name(&self) -> &'static str {
        "wireguard"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let peers = ctx
                .rows(Command::new("/interface/wireguard/peers/print").proplist(PROPLIST))
                .await?;
            Ok(build(&peers, ctx.now_unix))
        })
    }
}

/// A row's value of `key` as label text; empty when absent.
fn text(row: &Row, key: &str) -> String {
    row.text(key)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

/// The peer's identity before disambiguation.
fn identity(row: &Row) -> String {
    ["name", "comment", "allowed-address", ".id"]
        .iter()
        .map(|key| text(row, key))
        .find(|v| !v.is_empty())
        .unwrap_or_default()
}

/// `address:port` (`[v6]:port`), or the address alone without a port.
fn join_endpoint(address: &str, port: Option<u64>) -> String {
    match port.filter(|p| *p != 0) {
        Some(port) if address.contains(':') => format!("[{address}]:{port}"),
        Some(port) => format!("{address}:{port}"),
        None => address.to_owned(),
    }
}

/// The configured endpoint; empty when the peer has none (it only answers).
/// Never the current one, which moves with a roaming peer.
fn endpoint(row: &Row) -> String {
    let configured = text(row, "endpoint-address");
    if configured.is_empty() {
        return String::new();
    }
    let port = row.str("endpoint-port").and_then(parse::unsigned);
    join_endpoint(&configured, port)
}

/// The `peer` label of every row, unique within each interface.
fn peer_labels(peers: &[Row]) -> Vec<String> {
    let base: Vec<(String, String)> = peers
        .iter()
        .map(|p| (text(p, "interface"), identity(p)))
        .collect();
    let mut uses: HashMap<&(String, String), usize> = HashMap::new();
    for key in &base {
        *uses.entry(key).or_default() += 1;
    }
    base.iter()
        .zip(peers)
        .enumerate()
        .map(|(i, (key, row))| {
            if uses.get(key).copied().unwrap_or_default() < 2 {
                return key.1.clone();
            }
            let id = text(row, ".id");
            let suffix = if id.is_empty() { format!("#{i}") } else { id };
            if key.1 == suffix {
                suffix
            } else {
                format!("{} ({suffix})", key.1)
            }
        })
        .collect()
}

/// Converts the peer rows into families (pure, unit-tested on fixtures).
fn build(peers: &[Row], now_unix: i64) -> Vec<Family> {
    let mut rx = Family::new(&RX);
    let mut tx = Family::new(&TX);
    let mut handshake = Family::new(&HANDSHAKE);
    let mut info = Family::new(&INFO);
    for (row, peer) in peers.iter().zip(peer_labels(peers)) {
        let interface = text(row, "interface");
        let labels = || vec![interface.clone(), peer.clone()];
        let counter = |key: &str| {
            let raw = row.str(key)?;
            let value = parse::unsigned(raw);
            if value.is_none() {
                tracing::debug!(key, raw, peer, "unparseable wireguard counter");
            }
            value
        };
        if let Some(v) = counter("rx") {
            rx.push(labels(), v);
        }
        if let Some(v) = counter("tx") {
            tx.push(labels(), v);
        }
        // Absent (or empty) `last-handshake` means the peer never shook hands.
        if let Some(raw) = row.str("last-handshake").filter(|r| !r.trim().is_empty()) {
            match parse::duration(raw) {
                Some(ago) => {
                    let ago = i64::try_from(ago.as_secs()).unwrap_or(i64::MAX);
                    handshake.push(labels(), Value::Signed(now_unix.saturating_sub(ago)));
                }
                None => tracing::debug!(raw, peer, "unparseable wireguard last-handshake"),
            }
        }
        let disabled = row
            .str("disabled")
            .and_then(parse::boolean)
            .map_or_else(|| text(row, "disabled"), |d| d.to_string());
        info.push(
            vec![
                interface.clone(),
                peer.clone(),
                text(row, "name"),
                endpoint(row),
                text(row, "comment"),
                text(row, "allowed-address"),
                disabled,
            ],
            1u64,
        );
    }
    vec![rx, tx, handshake, info]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fixture::assert_no_duplicate_series;
    use crate::collect::fixture::rows;
    use crate::collect::fixture::{samples, series};

    const NOW: i64 = 1_772_366_400;

    fn peers_of(families: &[Family], name: &str) -> Vec<String> {
        samples(families, name)
            .into_iter()
            .map(|(l, _)| l[1].clone())
            .collect()
    }

    const V7: &str = "
        .id=*1  interface=wireguard1  name=peer1  endpoint-address=  endpoint-port=0  current-endpoint-address=198.51.100.91  current-endpoint-port=43248  allowed-address=10.0.0.2/32,fd00::2/128  rx=2536747860  tx=18446744073709551615  last-handshake=1m6s  disabled=false
        .id=*2  interface=wireguard1  name=peer2  endpoint-address=203.0.113.2  endpoint-port=51820  current-endpoint-address=2001:db8::7  current-endpoint-port=51820  allowed-address=10.0.0.3/32  rx=10  tx=20  last-handshake=1w2d3h4m5s  disabled=false  comment=site 2
        .id=*3  interface=wireguard1  name=peer3  endpoint-address=vpn.example.net  endpoint-port=51820  current-endpoint-address=  current-endpoint-port=0  allowed-address=10.0.0.4/32  rx=0  tx=4440  disabled=true  comment=road warrior 3
    ";

    #[test]
    fn v7_peers() {
        let f = build(&rows(V7), NOW);
        let rx = samples(&f, "mikrotik_wireguard_peer_rx_bytes");
        assert_eq!(
            rx[0],
            (
                vec!["wireguard1".into(), "peer1".into()],
                Value::Int(2_536_747_860)
            )
        );
        let tx = samples(&f, "mikrotik_wireguard_peer_tx_bytes");
        assert_eq!(tx[0].1, Value::Int(u64::MAX));
        let hs = samples(&f, "mikrotik_wireguard_peer_latest_handshake");
        assert_eq!(hs.len(), 2, "the never-handshook peer has no sample");
        assert_eq!(hs[0].1, Value::Signed(NOW - 66));
        assert_eq!(
            hs[1].1,
            Value::Signed(NOW - (9 * 86_400 + 3 * 3_600 + 4 * 60 + 5))
        );
        let info = samples(&f, "mikrotik_wireguard_peer_info");
        // A peer without a configured endpoint (a road warrior) has none,
        // wherever it connects from.
        assert_eq!(
            info[0].0,
            [
                "wireguard1",
                "peer1",
                "peer1",
                "",
                "",
                "10.0.0.2/32,fd00::2/128",
                "false"
            ]
        );
        // The configured endpoint, not where the peer currently is.
        assert_eq!(info[1].0[3], "203.0.113.2:51820");
        assert_eq!(info[1].0[4], "site 2");
        assert_eq!(info[2].0[3], "vpn.example.net:51820");
        assert_eq!(info[2].0[6], "true");
        assert!(info.iter().all(|(_, v)| *v == Value::Int(1)));
    }

    #[test]
    fn configured_v6_endpoint_in_brackets_and_without_port() {
        let f = build(
            &rows(
                "
                .id=*1  interface=wg0  name=a  endpoint-address=2001:db8::1  endpoint-port=13231
                .id=*2  interface=wg0  name=b  endpoint-address=vpn.example.net  endpoint-port=0
                ",
            ),
            NOW,
        );
        let info = samples(&f, "mikrotik_wireguard_peer_info");
        assert_eq!(info[0].0[3], "[2001:db8::1]:13231");
        assert_eq!(info[1].0[3], "vpn.example.net");
    }

    #[test]
    fn a_roaming_peer_keeps_its_series() {
        // The road warrior moved network (address and port) between probes;
        // the site peer's NAT rebound its port.
        let before = rows(V7);
        let after = rows(
            &V7.replace(
                "198.51.100.91  current-endpoint-port=43248",
                "192.0.2.77  current-endpoint-port=60001",
            )
            .replace(
                "2001:db8::7  current-endpoint-port=51820",
                "2001:db8::7  current-endpoint-port=4500",
            ),
        );
        let current = |rows: &[Row]| -> Vec<String> {
            rows.iter()
                .map(|r| text(r, "current-endpoint-port"))
                .collect()
        };
        assert_ne!(current(&before), current(&after));
        assert_eq!(series(&build(&before, NOW)), series(&build(&after, NOW)));
    }

    #[test]
    fn identity_falls_back_from_name_to_comment_to_allowed_address_to_id() {
        // Before 7.15 peers have no name.
        let peers = rows(
            "
            .id=*1  interface=wg0  allowed-address=10.0.0.2/32  rx=1  tx=1
            .id=*2  interface=wg0  comment=office  allowed-address=10.0.0.3/32  rx=1  tx=1
            .id=*3  interface=wg0  name=  comment=  rx=1  tx=1
            .id=*4  interface=wg0  name=laptop  comment=ignored  rx=1  tx=1
            ",
        );
        let f = build(&peers, NOW);
        assert_eq!(
            peers_of(&f, "mikrotik_wireguard_peer_rx_bytes"),
            ["10.0.0.2/32", "office", "*3", "laptop"]
        );
        assert!(
            samples(&f, "mikrotik_wireguard_peer_info")
                .iter()
                .all(|(l, _)| l[3].is_empty())
        );
    }

    #[test]
    fn equal_identities_are_disambiguated_by_id() {
        let peers = rows(
            "
            .id=*A  interface=wg0  comment=phone  rx=1  tx=1  last-handshake=5s
            .id=*B  interface=wg0  comment=phone  rx=2  tx=2  last-handshake=6s
            .id=*C  interface=wg1  comment=phone  rx=3  tx=3
            .id=*D  interface=wg0  comment=tablet  rx=4  tx=4
            ",
        );
        let f = build(&peers, NOW);
        let expected = ["phone (*A)", "phone (*B)", "phone", "tablet"];
        for name in METRICS.iter().map(|m| m.name) {
            let got = peers_of(&f, name);
            let want: Vec<&str> = match name {
                "mikrotik_wireguard_peer_latest_handshake" => expected[..2].to_vec(),
                _ => expected.to_vec(),
            };
            assert_eq!(got, want, "{name}");
        }
        // Deterministic across calls.
        assert_eq!(build(&peers, NOW), f);
    }

    #[test]
    fn odd_values_cost_one_sample() {
        let peers = rows(
            ".id=*1  interface=wg0  name=x  rx=lots  tx=5  last-handshake=soon  disabled=maybe",
        );
        let f = build(&peers, NOW);
        assert!(samples(&f, "mikrotik_wireguard_peer_rx_bytes").is_empty());
        assert_eq!(samples(&f, "mikrotik_wireguard_peer_tx_bytes").len(), 1);
        assert!(samples(&f, "mikrotik_wireguard_peer_latest_handshake").is_empty());
        assert_eq!(samples(&f, "mikrotik_wireguard_peer_info")[0].0[6], "maybe");
    }

    #[test]
    fn simulated_roaming_peers_keep_their_series() {
        use routeros_sim::menus::registry;
        use routeros_sim::menus::testkit::Fixture;
        let menu = registry()
            .into_iter()
            .find(|m| m.path() == "/interface/wireguard/peers")
            .expect("peers menu");
        let f = Fixture::v7();
        let at = |uptime| -> Vec<Row> {
            menu.rows(&f.view(1, uptime))
                .into_iter()
                .map(Row::from_pairs)
                .collect()
        };
        // Two probes an hour and a bit apart: the road warriors have moved.
        let (a, b) = (at(3_600), at(7_500));
        let current = |rows: &[Row]| -> Vec<String> {
            rows.iter()
                .map(|r| {
                    format!(
                        "{}:{}",
                        text(r, "current-endpoint-address"),
                        text(r, "current-endpoint-port")
                    )
                })
                .collect()
        };
        assert_ne!(current(&a), current(&b), "the simulator's peers roam");
        assert_eq!(series(&build(&a, NOW)), series(&build(&b, NOW)));
    }

    #[test]
    fn no_duplicate_series_on_simulator_data() {
        use routeros_sim::menus::registry;
        use routeros_sim::menus::testkit::Fixture;
        use routeros_sim::personality::{Personality, Version};
        let menu = registry()
            .into_iter()
            .find(|m| m.path() == "/interface/wireguard/peers")
            .expect("peers menu");
        for personality in [
            Personality::v7(),
            Personality::for_version(Version::new(7, 12, 1)),
        ] {
            let mut f = Fixture::with(personality);
            f.scale.wireguard_peers = 40;
            let peers: Vec<Row> = menu
                .rows(&f.view(1, 3_600))
                .into_iter()
                .map(Row::from_pairs)
                .collect();
            let families = build(&peers, NOW);
            assert_no_duplicate_series(&families);
            let hs = samples(&families, "mikrotik_wireguard_peer_latest_handshake");
            assert_eq!(hs.len(), peers.len() - 1);
        }
    }
}
