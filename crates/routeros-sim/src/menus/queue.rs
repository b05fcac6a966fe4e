//! `/queue/simple` (`scale.simple_queues`) and `/queue/tree`
//! (`scale.queue_tree`), the same shape on RouterOS 6 and 7.
//!
//! Simple queues are customer queues `cust-N` on a `/32` target; every fifth
//! one (positions 4, 9, …) is a dynamic queue `<pppoe-sub-0000N>` that a PPP
//! profile's rate limit creates. The first queue has no limit (`max-limit=0/0`),
//! the third is disabled (no traffic). Values are `upload/download` pairs;
//! `max-limit` and `limit-at` are raw bits per second on RouterOS 6 and in the
//! suffixed form (`10M/50M`) on 7, so a collector meets both spellings (which
//! one a real router sends is not verified).
//!
//! The queue tree is a `download` root on `global` with classes
//! `class-N` under it, each matching packet mark `mark-N`.

use super::format::{boolean, id};
use super::synth::{counter, hash, wander};
use super::{Menu, RouterView, SimRow, push};
use std::sync::Arc;

/// The queue menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Simple), Arc::new(Tree)]
}

/// Every this-many simple queues, the last is dynamic.
const DYNAMIC_EVERY: usize = 5;

/// Whether simple queue `i` is a dynamic PPPoE queue.
pub fn is_dynamic(i: usize) -> bool {
    i % DYNAMIC_EVERY == DYNAMIC_EVERY - 1
}

/// A limit in bits per second as this version writes it.
fn limit(bps: u64, v7: bool) -> String {
    if !v7 || bps == 0 {
        return bps.to_string();
    }
    match bps {
        b if b % 1_000_000_000 == 0 => format!("{}G", b / 1_000_000_000),
        b if b % 1_000_000 == 0 => format!("{}M", b / 1_000_000),
        b if b % 1_000 == 0 => format!("{}k", b / 1_000),
        b => b.to_string(),
    }
}

/// Traffic of one queue direction: bytes, packets, dropped, rate (bits/s),
/// packet rate, queued bytes, queued packets.
fn traffic(view: &RouterView<'_>, bytes_per_sec: u64, seed: u64) -> [u64; 7] {
    let bytes = counter(bytes_per_sec, view.uptime, seed);
    let packets = bytes / 900;
    let rate = wander(bytes_per_sec * 8, bytes_per_sec * 4, view.uptime, 10, seed);
    let queued = wander(3, 3, view.uptime, 10, !seed);
    [
        bytes,
        packets,
        packets / 2_000,
        rate,
        rate / 7_200,
        queued * 1_400,
        queued,
    ]
}

/// The fields carrying traffic values, in [`traffic`]'s order.
const TRAFFIC_FIELDS: [&str; 7] = [
    "bytes",
    "packets",
    "dropped",
    "rate",
    "packet-rate",
    "queued-bytes",
    "queued-packets",
];

/// `/queue/simple`.
struct Simple;

impl Menu for Simple {
    fn path(&self) -> &'static str {
        "/queue/simple"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        (0..view.scale.simple_queues)
            .map(|i| simple_row(view, i))
            .collect()
    }
}

/// Simple queue `i`.
fn simple_row(view: &RouterView<'_>, i: usize) -> SimRow {
    let seed = hash(&[view.index as u64, i as u64, 0x0_5EE]);
    let v7 = view.personality.is_v7();
    let dynamic = is_dynamic(i);
    let disabled = i == 2;
    let (up_limit, down_limit) = match i {
        0 => (0, 0),
        _ => (
            5_000_000 * (i as u64 % 4 + 1),
            25_000_000 * (i as u64 % 4 + 1),
        ),
    };
    let mut r: SimRow = Vec::with_capacity(24);
    push(&mut r, ".id", id(i as u64 + 1));
    let name = if dynamic {
        format!("<pppoe-sub-{:05}>", i + 1)
    } else {
        format!("cust-{}", i + 1)
    };
    push(&mut r, "name", name);
    push(
        &mut r,
        "target",
        format!("10.{}.{}.{}/32", 20 + view.index % 50, i / 250, i % 250 + 2),
    );
    push(&mut r, "parent", "none");
    push(&mut r, "packet-marks", "");
    push(&mut r, "priority", "8/8");
    push(&mut r, "queue", "default-small/default-small");
    push(
        &mut r,
        "limit-at",
        format!("{}/{}", limit(up_limit / 2, v7), limit(down_limit / 2, v7)),
    );
    push(
        &mut r,
        "max-limit",
        format!("{}/{}", limit(up_limit, v7), limit(down_limit, v7)),
    );
    push(&mut r, "burst-limit", "0/0");
    push(&mut r, "burst-threshold", "0/0");
    push(&mut r, "burst-time", "0s/0s");
    push(&mut r, "bucket-size", "0.1/0.1");
    let (up, down) = if disabled {
        ([0; 7], [0; 7])
    } else {
        (
            traffic(view, 2_000 + seed % 20_000, seed),
            traffic(view, 20_000 + (seed >> 20) % 200_000, !seed),
        )
    };
    for (k, field) in TRAFFIC_FIELDS.iter().enumerate() {
        push(&mut r, field, format!("{}/{}", up[k], down[k]));
    }
    // The `total-*` fields (both directions together, for a queue with a
    // single queue type) are left out: no collector reads them.
    push(&mut r, "invalid", boolean(false));
    push(&mut r, "dynamic", boolean(dynamic));
    push(&mut r, "disabled", boolean(disabled));
    if i == 1 {
        push(&mut r, "comment", "business line");
    }
    r
}

/// `/queue/tree`.
struct Tree;

impl Menu for Tree {
    fn path(&self) -> &'static str {
        "/queue/tree"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        (0..view.scale.queue_tree)
            .map(|i| tree_row(view, i))
            .collect()
    }
}

/// Queue tree entry `i`: the root when 0, a class under it otherwise.
fn tree_row(view: &RouterView<'_>, i: usize) -> SimRow {
    let seed = hash(&[view.index as u64, i as u64, 0x7EE]);
    let v7 = view.personality.is_v7();
    let mut r: SimRow = Vec::with_capacity(18);
    push(&mut r, ".id", id(0x0100_0000 + i as u64));
    let (name, parent, mark, max) = match i {
        0 => (
            "download".to_owned(),
            "global",
            String::new(),
            1_000_000_000,
        ),
        _ => (
            format!("class-{i}"),
            "download",
            format!("mark-{i}"),
            100_000_000 * (i as u64 % 5 + 1),
        ),
    };
    push(&mut r, "name", name);
    push(&mut r, "parent", parent);
    push(&mut r, "packet-mark", mark);
    push(&mut r, "limit-at", "0");
    push(&mut r, "queue", "default-small");
    push(&mut r, "priority", "8");
    push(&mut r, "max-limit", limit(max, v7));
    push(&mut r, "burst-limit", "0");
    push(&mut r, "burst-threshold", "0");
    push(&mut r, "burst-time", "0s");
    push(&mut r, "bucket-size", "0.1");
    let values = traffic(view, 50_000 + seed % 500_000, seed);
    for (field, value) in TRAFFIC_FIELDS.iter().zip(values) {
        push(&mut r, field, value.to_string());
    }
    push(&mut r, "invalid", boolean(false));
    push(&mut r, "disabled", boolean(false));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, get, text};
    use crate::personality::Personality;

    fn pair(row: &SimRow, key: &str) -> (u64, u64) {
        let v = text(row, key).unwrap_or_else(|| panic!("no {key}"));
        let (a, b) = v.split_once('/').expect("a pair");
        (a.parse().expect("up"), b.parse().expect("down"))
    }

    #[test]
    fn simple_queues_with_dynamic_ones_on_both_versions() {
        for f in [Fixture::v7(), Fixture::v6()] {
            let rows = Simple.rows(&f.view(0, 3_600));
            assert_eq!(rows.len(), f.scale.simple_queues);
            assert_eq!(text(&rows[0], "name"), Some("cust-1"));
            assert_eq!(text(&rows[0], "max-limit"), Some("0/0"));
            assert_eq!(text(&rows[4], "name"), Some("<pppoe-sub-00005>"));
            assert_eq!(text(&rows[4], "dynamic"), Some("true"));
            assert_eq!(text(&rows[1], "dynamic"), Some("false"));
            assert_eq!(pair(&rows[2], "bytes"), (0, 0), "disabled");
            let (up, down) = pair(&rows[1], "bytes");
            assert!(up > 0 && down > up, "{up} {down}");
            assert!(pair(&rows[1], "rate").1 > 0);
            assert_eq!(get(&rows[1], "comment"), Some(&b"business line"[..]));
        }
        let v6 = Simple.rows(&Fixture::v6().view(0, 10));
        assert_eq!(text(&v6[1], "max-limit"), Some("10000000/50000000"));
        let v7 = Simple.rows(&Fixture::v7().view(0, 10));
        assert_eq!(text(&v7[1], "max-limit"), Some("10M/50M"));
        assert_eq!(text(&v7[1], "limit-at"), Some("5M/25M"));
    }

    #[test]
    fn counters_grow_and_reset() {
        let f = Fixture::v7();
        let (a, b) = (Simple.rows(&f.view(1, 100)), Simple.rows(&f.view(1, 5_000)));
        assert!(pair(&b[1], "bytes").1 > pair(&a[1], "bytes").1);
        assert!(pair(&b[1], "packets").1 > pair(&a[1], "packets").1);
        assert_eq!(pair(&Simple.rows(&f.view(1, 0))[1], "bytes"), (0, 0));
        assert_eq!(Simple.rows(&f.view(1, 5_000)), b);
    }

    #[test]
    fn tree_root_and_classes() {
        let mut f = Fixture::with(Personality::v7());
        f.scale.queue_tree = 4;
        let rows = Tree.rows(&f.view(0, 3_600));
        assert_eq!(rows.len(), 4);
        assert_eq!(text(&rows[0], "parent"), Some("global"));
        assert_eq!(text(&rows[0], "max-limit"), Some("1G"));
        assert_eq!(text(&rows[2], "parent"), Some("download"));
        assert_eq!(text(&rows[2], "packet-mark"), Some("mark-2"));
        assert!(text(&rows[2], "bytes").is_some_and(|b| b.parse::<u64>().is_ok_and(|b| b > 0)));
        f.scale.queue_tree = 0;
        assert!(Tree.rows(&f.view(0, 10)).is_empty());
    }
}
