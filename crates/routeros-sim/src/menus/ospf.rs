//! `/routing/ospf/neighbor`, in the RouterOS 7 shape (`instance`, `area`,
//! `router-id`, `interface`, `state`, `state-changes`, `adjacency`) and the
//! RouterOS 6 one (no `area`; `dr-address`, `backup-dr-address`,
//! `ls-retransmits`, `ls-requests`, `db-summaries`).
//!
//! `scale.ospf_neighbors` neighbours: with two or more, the last is stuck in
//! `Init` (it hears us, we do not hear it: a one-way link), with three or more
//! the one before it sits in `2-Way` (two DROthers on a broadcast segment); the
//! rest are `Full`. Neighbours are configuration-stable: they keep their rows
//! whatever the uptime. `state-changes` grows with the uptime (the `Init` one
//! fastest, as it keeps resetting) and restarts on reboot; only a `Full`
//! neighbour has an `adjacency` time. The first half are in `backbone`, the
//! others in `area1` (RouterOS 7).

use super::format;
use super::synth::hash;
use super::{Menu, RouterView, SimRow, push};
use std::sync::Arc;

/// The OSPF menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Neighbors)]
}

/// Seconds after boot at which neighbour `i` reached `Full`.
fn full_since(i: u64) -> u64 {
    40 + 3 * i
}

/// Neighbour `i`'s state out of `n`.
fn state(i: usize, n: usize) -> &'static str {
    match n - i {
        1 if n >= 2 => "Init",
        2 if n >= 3 => "2-Way",
        _ => "Full",
    }
}

/// `/routing/ospf/neighbor`.
struct Neighbors;

impl Menu for Neighbors {
    fn path(&self) -> &'static str {
        "/routing/ospf/neighbor"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let n = view.scale.ospf_neighbors;
        (0..n).map(|i| neighbor(view, i, n)).collect()
    }
}

/// One neighbour row.
fn neighbor(view: &RouterView<'_>, i: usize, n: usize) -> SimRow {
    let k = i as u64;
    let idx = view.index % 250;
    let up = view.uptime.as_secs();
    let seed = hash(&[view.index as u64, k, 0x05BF]);
    let state = state(i, n);
    let v7 = view.personality.is_v7();
    let mut r: SimRow = Vec::with_capacity(14);
    push(&mut r, ".id", format::id(k + 1));
    push(
        &mut r,
        "instance",
        if v7 { "default-v2" } else { "default" },
    );
    if v7 {
        push(
            &mut r,
            "area",
            if i < n.div_ceil(2) {
                "backbone"
            } else {
                "area1"
            },
        );
    }
    let segment = i % 4;
    push(
        &mut r,
        "address",
        format!("10.{idx}.{segment}.{}", i / 4 + 2),
    );
    push(&mut r, "interface", format!("ether{}", segment + 2));
    if !v7 {
        push(&mut r, "priority", "1");
    }
    push(
        &mut r,
        "router-id",
        format!("10.255.{}.{}", i / 250, i % 250 + 1),
    );
    if !v7 {
        push(&mut r, "dr-address", format!("10.{idx}.{segment}.1"));
        push(&mut r, "backup-dr-address", format!("10.{idx}.{segment}.2"));
    }
    push(&mut r, "state", state);
    // Full: Down → Init → 2-Way → ExStart → Exchange → Loading → Full once,
    // plus a flap now and then; Init: back to Down and Init every dead interval.
    let changes = match state {
        "Init" => 1 + 2 * (up / 40),
        "2-Way" => 2 + up / (3_600 + seed % 3_600),
        _ if up >= full_since(k) => 6 + 6 * (up / (86_400 + seed % 86_400)),
        _ => 1,
    };
    push(&mut r, "state-changes", changes.to_string());
    if !v7 {
        push(&mut r, "ls-retransmits", "0");
        push(&mut r, "ls-requests", "0");
        push(&mut r, "db-summaries", "0");
    }
    if state == "Full" && up >= full_since(k) {
        let period = 86_400 + seed % 86_400;
        let adjacency = (up - full_since(k)) % period;
        push(&mut r, "adjacency", format::secs(adjacency));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, get, num, text};
    use std::collections::HashSet;

    #[test]
    fn v7_rows_with_one_init_and_one_two_way() {
        let f = Fixture::v7();
        let rows = Neighbors.rows(&f.view(0, 3_600));
        assert_eq!(rows.len(), f.scale.ospf_neighbors);
        let states: Vec<_> = rows.iter().map(|r| text(r, "state")).collect();
        assert_eq!(states, [Some("Full"), Some("2-Way"), Some("Init")]);
        assert_eq!(text(&rows[0], "area"), Some("backbone"));
        assert_eq!(text(&rows[2], "area"), Some("area1"));
        assert_eq!(text(&rows[0], "instance"), Some("default-v2"));
        assert!(text(&rows[0], "adjacency").is_some_and(|a| a.ends_with('s')));
        assert!(get(&rows[2], "adjacency").is_none());
        assert!(get(&rows[0], "dr-address").is_none());
    }

    #[test]
    fn v6_rows_have_no_area_and_dr_fields() {
        let f = Fixture::v6();
        let rows = Neighbors.rows(&f.view(0, 3_600));
        assert!(get(&rows[0], "area").is_none());
        assert_eq!(text(&rows[0], "instance"), Some("default"));
        assert!(get(&rows[0], "dr-address").is_some());
        assert_eq!(num(&rows[1], "ls-requests"), 0);
    }

    #[test]
    fn state_changes_grow_and_restart() {
        let f = Fixture::v7();
        let (a, b) = (
            Neighbors.rows(&f.view(1, 1_000)),
            Neighbors.rows(&f.view(1, 100_000)),
        );
        for (ra, rb) in a.iter().zip(&b) {
            assert!(num(rb, "state-changes") >= num(ra, "state-changes"));
        }
        assert!(num(&b[2], "state-changes") > num(&a[2], "state-changes"));
        let booted = Neighbors.rows(&f.view(1, 5));
        assert_eq!(num(&booted[0], "state-changes"), 1);
        assert!(get(&booted[0], "adjacency").is_none());
    }

    #[test]
    fn neighbours_are_unique_at_core_scale() {
        let mut f = Fixture::v7();
        f.scale.ospf_neighbors = 600;
        let rows = Neighbors.rows(&f.view(3, 3_600));
        let keys: HashSet<_> = rows
            .iter()
            .map(|r| (get(r, "router-id"), get(r, "interface")))
            .collect();
        assert_eq!(keys.len(), 600);
        f.scale.ospf_neighbors = 1;
        assert_eq!(
            text(&Neighbors.rows(&f.view(3, 3_600))[0], "state"),
            Some("Full")
        );
    }
}
