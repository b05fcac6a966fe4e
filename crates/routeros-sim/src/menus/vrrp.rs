//! `/interface/vrrp`: the same shape on RouterOS 6 and 7, the state in the
//! `master` and `backup` flags (`true`/`false`) and `running` true only on the
//! master, whose virtual address is up.
//!
//! `scale.vrrp_instances` instances, alternately master and backup (on
//! `bridge1` and `vlan100`, VRID 10, 11, …); with three or more, the last is
//! disabled: neither master nor backup, not running.

use super::format::{boolean, id};
use super::{Menu, RouterView, SimRow, push};
use std::sync::Arc;

/// The VRRP menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Vrrp)]
}

/// `/interface/vrrp`.
struct Vrrp;

impl Menu for Vrrp {
    fn path(&self) -> &'static str {
        "/interface/vrrp"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let n = view.scale.vrrp_instances;
        let v7 = view.personality.is_v7();
        (0..n)
            .map(|i| {
                let disabled = n >= 3 && i == n - 1;
                let master = !disabled && i % 2 == 0;
                let backup = !disabled && !master;
                let mut r: SimRow = Vec::with_capacity(16);
                push(&mut r, ".id", id(i as u64 + 1));
                push(&mut r, "name", format!("vrrp{}", i + 1));
                push(&mut r, "mtu", "1500");
                push(
                    &mut r,
                    "mac-address",
                    format!("00:00:5E:00:01:{:02X}", 10 + i % 240),
                );
                push(&mut r, "arp", "enabled");
                let interface = if i % 2 == 0 { "bridge1" } else { "vlan100" };
                push(&mut r, "interface", interface);
                push(&mut r, "vrid", (10 + i % 240).to_string());
                push(&mut r, "priority", if master { "200" } else { "100" });
                push(&mut r, "interval", "1s");
                push(&mut r, "preemption-mode", "true");
                push(&mut r, "authentication", "none");
                push(&mut r, "version", if v7 { "3" } else { "2" });
                push(&mut r, "invalid", "false");
                push(&mut r, "running", boolean(master));
                push(&mut r, "master", boolean(master));
                push(&mut r, "backup", boolean(backup));
                push(&mut r, "disabled", boolean(disabled));
                r
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, num, text};

    #[test]
    fn one_master_one_backup_and_a_disabled_one_at_larger_scale() {
        for mut f in [Fixture::v6(), Fixture::v7()] {
            let rows = Vrrp.rows(&f.view(0, 100));
            assert_eq!(rows.len(), 2);
            assert_eq!(text(&rows[0], "master"), Some("true"));
            assert_eq!(text(&rows[0], "running"), Some("true"));
            assert_eq!(text(&rows[1], "backup"), Some("true"));
            assert_eq!(text(&rows[1], "running"), Some("false"));
            assert_eq!(num(&rows[1], "vrid"), 11);
            f.scale.vrrp_instances = 4;
            let rows = Vrrp.rows(&f.view(0, 100));
            assert_eq!(text(&rows[3], "disabled"), Some("true"));
            assert_eq!(text(&rows[3], "master"), Some("false"));
            assert_eq!(text(&rows[3], "backup"), Some("false"));
            assert_eq!(text(&rows[2], "master"), Some("true"));
        }
    }
}
