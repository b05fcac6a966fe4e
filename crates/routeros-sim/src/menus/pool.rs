//! `/ip/pool` and `/ipv6/pool`: the address pools the DHCP servers (and PPP)
//! hand addresses out of.
//!
//! IPv4 pools, the same on every board: `dhcp-lan` (`192.168.88.10-192.168.88.254`,
//! 245 addresses) for the `defconf` DHCP server; `dhcp-guest`
//! (`10.10.0.100-10.10.0.199,10.10.1.0/25`, a range and a prefix, 228
//! addresses) for `guest`, chained with `next-pool` to `guest-overflow`
//! (`10.10.2.0/24`); `ppp` (`100.64.0.0/20`, 4096) for PPP sessions. IPv6:
//! `pd-lan`, `2001:db8:100::/48` cut into /56 prefixes (256) for the DHCPv6
//! server.
//!
//! The `used` tables agree with the DHCP menus: `/ip/pool/used` lists the
//! address of every `bound` or `offered` lease (owner `DHCP`, info its MAC)
//! plus one `ppp` address per PPP session, `/ipv6/pool/used` the prefix of
//! every `bound` or `offered` DHCPv6 binding.

use super::dhcp;
use super::format::id;
use super::{Menu, RouterView, SimRow, push};
use std::net::Ipv4Addr;
use std::sync::Arc;

/// The pool menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![
        Arc::new(V4Pools),
        Arc::new(V4Used),
        Arc::new(V6Pools),
        Arc::new(V6Used),
    ]
}

/// One part of an IPv4 pool's `ranges`.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// `first-last`, inclusive.
    Span(Ipv4Addr, Ipv4Addr),
    /// `network/length`: every address of the prefix.
    Prefix(Ipv4Addr, u8),
}

impl Part {
    fn first(self) -> u32 {
        match self {
            Part::Span(first, _) | Part::Prefix(first, _) => u32::from(first),
        }
    }

    fn size(self) -> u32 {
        match self {
            Part::Span(first, last) => u32::from(last) - u32::from(first) + 1,
            Part::Prefix(_, length) => 1 << (32 - u32::from(length)),
        }
    }

    fn render(self) -> String {
        match self {
            Part::Span(first, last) => format!("{first}-{last}"),
            Part::Prefix(network, length) => format!("{network}/{length}"),
        }
    }
}

/// An IPv4 pool.
#[derive(Debug)]
pub(super) struct V4Pool {
    /// Its `name`.
    pub name: &'static str,
    ranges: &'static [Part],
    next_pool: Option<&'static str>,
}

impl V4Pool {
    /// Number of addresses in the pool.
    pub fn size(&self) -> u32 {
        self.ranges.iter().map(|p| p.size()).sum()
    }

    /// The `k`-th address of the pool (wrapping around when `k` is past its
    /// end, so an oversized scale still renders).
    pub fn address(&self, k: usize) -> Ipv4Addr {
        let mut k = (k as u64 % u64::from(self.size())) as u32;
        for part in self.ranges {
            if k < part.size() {
                return Ipv4Addr::from(part.first() + k);
            }
            k -= part.size();
        }
        Ipv4Addr::UNSPECIFIED
    }

    fn ranges(&self) -> String {
        let parts: Vec<String> = self.ranges.iter().map(|p| p.render()).collect();
        parts.join(",")
    }
}

/// The pool of the `defconf` DHCP server.
pub(super) const LAN: V4Pool = V4Pool {
    name: "dhcp-lan",
    ranges: &[Part::Span(
        Ipv4Addr::new(192, 168, 88, 10),
        Ipv4Addr::new(192, 168, 88, 254),
    )],
    next_pool: None,
};

/// The pool of the `guest` DHCP server.
pub(super) const GUEST: V4Pool = V4Pool {
    name: "dhcp-guest",
    ranges: &[
        Part::Span(Ipv4Addr::new(10, 10, 0, 100), Ipv4Addr::new(10, 10, 0, 199)),
        Part::Prefix(Ipv4Addr::new(10, 10, 1, 0), 25),
    ],
    next_pool: Some("guest-overflow"),
};

/// Where `guest` continues when `dhcp-guest` is full (unused here).
const GUEST_OVERFLOW: V4Pool = V4Pool {
    name: "guest-overflow",
    ranges: &[Part::Prefix(Ipv4Addr::new(10, 10, 2, 0), 24)],
    next_pool: None,
};

/// The pool PPP sessions take their remote addresses from.
pub(super) const PPP: V4Pool = V4Pool {
    name: "ppp",
    ranges: &[Part::Prefix(Ipv4Addr::new(100, 64, 0, 0), 20)],
    next_pool: None,
};

/// Every IPv4 pool, in print order.
pub(super) const V4_POOLS: [&V4Pool; 4] = [&LAN, &GUEST, &GUEST_OVERFLOW, &PPP];

/// The DHCPv6 server's prefix pool.
pub(super) const PD_POOL: &str = "pd-lan";
/// `pd-lan`'s prefix: 2001:db8:100::/48, as its first 48 bits.
const PD_PREFIX: &str = "2001:db8:100::/48";
/// Length of the prefixes `pd-lan` hands out.
pub(super) const PD_LENGTH: u8 = 56;

/// The `k`-th /56 of `pd-lan` (wrapping after 256).
pub(super) fn delegated_prefix(k: usize) -> String {
    format!("2001:db8:100:{:x}::/{PD_LENGTH}", (k % 256) << 8)
}

/// `/ip/pool`.
struct V4Pools;

impl Menu for V4Pools {
    fn path(&self) -> &'static str {
        "/ip/pool"
    }

    fn rows(&self, _view: &RouterView<'_>) -> Vec<SimRow> {
        V4_POOLS
            .iter()
            .enumerate()
            .map(|(i, pool)| {
                let mut r: SimRow = Vec::with_capacity(4);
                push(&mut r, ".id", id(i as u64 + 1));
                push(&mut r, "name", pool.name);
                push(&mut r, "ranges", pool.ranges());
                if let Some(next) = pool.next_pool {
                    push(&mut r, "next-pool", next);
                }
                r
            })
            .collect()
    }
}

/// `/ipv6/pool`.
struct V6Pools;

impl Menu for V6Pools {
    fn path(&self) -> &'static str {
        "/ipv6/pool"
    }

    fn rows(&self, _view: &RouterView<'_>) -> Vec<SimRow> {
        let mut r: SimRow = Vec::with_capacity(5);
        push(&mut r, ".id", id(1));
        push(&mut r, "name", PD_POOL);
        push(&mut r, "prefix", PD_PREFIX);
        push(&mut r, "prefix-length", PD_LENGTH.to_string());
        push(&mut r, "dynamic", "false");
        vec![r]
    }
}

/// `/ip/pool/used`.
struct V4Used;

impl Menu for V4Used {
    fn path(&self) -> &'static str {
        "/ip/pool/used"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let used = |pool: &V4Pool, address: Ipv4Addr, owner: &str, info: String| {
            let mut r: SimRow = Vec::with_capacity(4);
            push(&mut r, "pool", pool.name);
            push(&mut r, "address", address.to_string());
            push(&mut r, "owner", owner);
            push(&mut r, "info", info);
            r
        };
        let leases = dhcp::leases(view)
            .into_iter()
            .filter(|l| l.status.holds_address())
            .map(|l| used(l.pool(), l.address, "DHCP", l.mac));
        let sessions = view.scale.ppp_sessions.min(PPP.size() as usize);
        let ppp =
            (0..sessions).map(|k| used(&PPP, PPP.address(k), "PPP", format!("user{}", k + 1)));
        leases.chain(ppp).collect()
    }
}

/// `/ipv6/pool/used`.
struct V6Used;

impl Menu for V6Used {
    fn path(&self) -> &'static str {
        "/ipv6/pool/used"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        dhcp::bindings(view)
            .into_iter()
            .enumerate()
            .filter(|(_, status)| status.holds_address())
            .map(|(k, _)| {
                let mut r: SimRow = Vec::with_capacity(4);
                push(&mut r, "pool", PD_POOL);
                push(&mut r, "prefix", delegated_prefix(k));
                push(&mut r, "owner", "DHCPv6");
                push(&mut r, "info", "dhcpv6-lan");
                r
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, get, named, text};
    use crate::menus::{Board, Scale};

    fn used_in(rows: &[SimRow], pool: &str) -> usize {
        rows.iter()
            .filter(|r| get(r, "pool") == Some(pool.as_bytes()))
            .count()
    }

    #[test]
    fn v4_pools_mix_ranges_and_prefixes() {
        for f in [Fixture::v6(), Fixture::v7()] {
            let rows = V4Pools.rows(&f.view(0, 100));
            assert_eq!(rows.len(), V4_POOLS.len());
            assert_eq!(
                text(named(&rows, "dhcp-lan"), "ranges"),
                Some("192.168.88.10-192.168.88.254")
            );
            let guest = named(&rows, "dhcp-guest");
            assert_eq!(
                text(guest, "ranges"),
                Some("10.10.0.100-10.10.0.199,10.10.1.0/25")
            );
            assert_eq!(text(guest, "next-pool"), Some("guest-overflow"));
            assert!(text(named(&rows, "ppp"), "next-pool").is_none());
        }
        assert_eq!((LAN.size(), GUEST.size(), PPP.size()), (245, 228, 4096));
    }

    #[test]
    fn addresses_walk_the_ranges_in_order() {
        assert_eq!(LAN.address(0), Ipv4Addr::new(192, 168, 88, 10));
        assert_eq!(GUEST.address(99), Ipv4Addr::new(10, 10, 0, 199));
        assert_eq!(GUEST.address(100), Ipv4Addr::new(10, 10, 1, 0));
        assert_eq!(GUEST.address(227), Ipv4Addr::new(10, 10, 1, 127));
        assert_eq!(GUEST.address(228), GUEST.address(0));
    }

    #[test]
    fn v6_prefix_pool() {
        let f = Fixture::v7();
        let rows = V6Pools.rows(&f.view(0, 100));
        let pool = named(&rows, PD_POOL);
        assert_eq!(text(pool, "prefix"), Some("2001:db8:100::/48"));
        assert_eq!(text(pool, "prefix-length"), Some("56"));
        assert_eq!(delegated_prefix(0), "2001:db8:100:0::/56");
        assert_eq!(delegated_prefix(1), "2001:db8:100:100::/56");
        assert_eq!(delegated_prefix(255), "2001:db8:100:ff00::/56");
    }

    #[test]
    fn used_tables_follow_leases_bindings_and_sessions() {
        let f = Fixture::v7();
        let view = f.view(0, 100);
        let used = V4Used.rows(&view);
        // Lab: 20 leases, of them 13 bound and 2 offered; 3 PPP sessions.
        assert_eq!(
            used_in(&used, "dhcp-lan") + used_in(&used, "dhcp-guest"),
            15
        );
        assert_eq!(used_in(&used, "dhcp-guest"), 5);
        assert_eq!(used_in(&used, "ppp"), 3);
        assert_eq!(used_in(&used, "guest-overflow"), 0);
        assert_eq!(text(&used[0], "address"), Some("192.168.88.10"));
        assert_eq!(text(&used[0], "owner"), Some("DHCP"));
        let v6 = V6Used.rows(&view);
        assert_eq!(used_in(&v6, PD_POOL), 4);
        assert_eq!(text(&v6[0], "prefix"), Some("2001:db8:100:0::/56"));
        let mut chr = Fixture::v6();
        chr.scale = Board::Chr.scale();
        assert!(V4Used.rows(&chr.view(0, 100)).is_empty());
        assert!(V6Used.rows(&chr.view(0, 100)).is_empty());
        chr.scale = Scale {
            ppp_sessions: 5_000,
            ..Board::Chr.scale()
        };
        assert_eq!(V4Used.rows(&chr.view(0, 100)).len(), 4_096);
    }
}
