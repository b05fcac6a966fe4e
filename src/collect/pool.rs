//! `pool`: per IP pool, IPv4 and IPv6, the entries in use and the pool's size.
//!
//! Commands, with `P4` IPv4 and `P6` IPv6 pools (the `=count-only=` ones run
//! concurrently, [`COUNTS_IN_FLIGHT`](super::COUNTS_IN_FLIGHT) at a time):
//! * `/ip/pool/print =.proplist=name,ranges`, then per pool
//!   `/ip/pool/used/print ?pool=P =count-only=`;
//! * `/ipv6/pool/print =.proplist=name,prefix,prefix-length`, then per pool
//!   `/ipv6/pool/used/print ?pool=P =count-only=`.
//!
//! That is `2 + P4 + P6` commands, whatever the number of addresses in use:
//! the used tables (one row per DHCP lease, PPP session, hotspot user…) are
//! never pulled.
//!
//! Units: an IPv4 pool holds addresses, the size of its `ranges`
//! (`10.0.0.10-10.0.0.250,10.0.1.0/24` = 241 + 256); an IPv6 pool holds
//! prefixes of its `prefix-length` cut from its `prefix`, 2^(`prefix-length` −
//! the prefix's length), and its used entries are such prefixes. So
//! `used / size` is the pool's fill ratio in either family, left to PromQL.
//! A pool whose ranges do not parse (reversed, garbage) costs its size sample
//! only.
//!
//! `next-pool` chains are not followed: each pool reports its own size and
//! use, so a pool that overflowed shows `used == size` and the overflow is
//! counted in the pool it chains to.
//!
//! A router without the IPv6 menu (IPv6 package disabled) reports IPv4 only;
//! without either menu the group is unsupported.

use super::family::{Family, MetricDesc, Value, metric};
use super::{Context, Group, GroupError, GroupFuture, parse};
use routeros::{Command, Row};

/// The `pool` group.
pub struct Pool;

metric!(
    SIZE,
    "mikrotik_pool_size",
    Gauge,
    "Addresses (ipv4) or delegated prefixes (ipv6) the IP pool holds.",
    ["family", "pool"]
);
metric!(
    USED,
    "mikrotik_pool_used",
    Gauge,
    "Addresses (ipv4) or delegated prefixes (ipv6) of the IP pool in use.",
    ["family", "pool"]
);

static METRICS: &[&MetricDesc] = &[&SIZE, &USED];

/// Where the pools of one address family are.
#[derive(Debug)]
struct Stack {
    /// The `family` label.
    family: &'static str,
    /// Prints the pools.
    pools: &'static str,
    /// Properties of a pool row.
    proplist: &'static [&'static str],
    /// Prints (counts) the entries in use.
    used: &'static str,
    /// The size of a pool row.
    size: fn(&Row) -> Option<Value>,
}

const V4: Stack = Stack {
    family: "ipv4",
    pools: "/ip/pool/print",
    proplist: V4_PROPLIST,
    used: "/ip/pool/used/print",
    size: v4_size,
};

const V6: Stack = Stack {
    family: "ipv6",
    pools: "/ipv6/pool/print",
    proplist: V6_PROPLIST,
    used: "/ipv6/pool/used/print",
    size: v6_size,
};

/// The `/ip/pool` properties [`v4_size`] reads (plus `name`).
pub(super) const V4_PROPLIST: &[&str] = &["name", "ranges"];

/// The `/ipv6/pool` properties [`v6_size`] reads (plus `name`).
pub(super) const V6_PROPLIST: &[&str] = &["name", "prefix", "prefix-length"];

/// Addresses in an `/ip/pool` row (also the `dhcp` group's pool size).
pub(super) fn v4_size(row: &Row) -> Option<Value> {
    parse::ipv4_ranges_size(row.str("ranges")?).map(Value::Int)
}

/// Delegated prefixes in an `/ipv6/pool` row (also the `dhcp` group's).
pub(super) fn v6_size(row: &Row) -> Option<Value> {
    parse::ipv6_pool_prefixes(row.str("prefix")?, row.str("prefix-length")?).map(Value::Float)
}

impl Group for Pool {
    fn name(&self) -> &'static str {
        "pool"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let (v4, v6) = tokio::join!(collect_stack(ctx, &V4), collect_stack(ctx, &V6));
            match (v4, v6) {
                (Err(GroupError::Unsupported(a)), Err(GroupError::Unsupported(b))) => {
                    Err(GroupError::Unsupported(format!("{a}; {b}")))
                }
                (Err(e @ GroupError::Failed(_)), _) | (_, Err(e @ GroupError::Failed(_))) => Err(e),
                (v4, v6) => Ok([v4, v6].into_iter().flatten().flatten().collect()),
            }
        })
    }
}

/// The pools of one family and their used counts.
async fn collect_stack(ctx: &Context, stack: &Stack) -> Result<Vec<Family>, GroupError> {
    let pools = ctx
        .rows(Command::new(stack.pools).proplist(stack.proplist))
        .await
        .inspect_err(|e| {
            if let GroupError::Unsupported(why) = e {
                ctx.trace
                    .note(|| format!("pool: {} skipped: {why}", stack.pools));
            }
        })?;
    let pools: Vec<&Row> = pools.iter().filter(|p| p.get("name").is_some()).collect();
    let commands = pools
        .iter()
        .map(|pool| {
            let mut word = b"pool=".to_vec();
            word.extend_from_slice(pool.get("name").unwrap_or_default());
            Command::new(stack.used).query(word)
        })
        .collect();
    let used = ctx.counts(commands).await?;
    Ok(build(stack, &pools, &used))
}

/// Converts one family's pools and their used counts (in the same order)
/// into families (pure, unit-tested on fixtures).
fn build(stack: &Stack, pools: &[&Row], used: &[u64]) -> Vec<Family> {
    let mut size = Family::new(&SIZE);
    let mut in_use = Family::new(&USED);
    for (pool, used) in pools.iter().zip(used) {
        let name = pool
            .text("name")
            .map(|t| t.trim().to_owned())
            .unwrap_or_default();
        let labels = || vec![stack.family.to_owned(), name.clone()];
        match (stack.size)(pool) {
            Some(value) => size.push(labels(), value),
            None => tracing::debug!(pool = %name, "unparseable pool ranges"),
        }
        in_use.push(labels(), *used);
    }
    vec![size, in_use]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::samples_named;
    use crate::collect::fixture::{assert_no_duplicate_series, rows};

    fn samples(families: &[Family], name: &str) -> Vec<(Vec<String>, f64)> {
        samples_named(families, name)
            .map(|s| (s.label_strings(), s.value.as_f64()))
            .collect()
    }

    fn build_rows(stack: &Stack, pools: &str, used: &[u64]) -> Vec<Family> {
        let pools = rows(pools);
        let refs: Vec<&Row> = pools.iter().collect();
        build(stack, &refs, used)
    }

    fn pair(family: &str, pool: &str, value: f64) -> (Vec<String>, f64) {
        (vec![family.to_owned(), pool.to_owned()], value)
    }

    #[test]
    fn v7_ranges_mixing_spans_prefixes_and_single_addresses() {
        let f = build_rows(
            &V4,
            "
            name=default-dhcp  ranges=192.168.88.10-192.168.88.254
            name=guest  ranges=10.0.0.10-10.0.0.250,10.0.1.0/24
            name=one  ranges=10.9.9.9
            ",
            &[12, 300, 1],
        );
        assert_no_duplicate_series(&f);
        assert_eq!(
            samples(&f, "mikrotik_pool_size"),
            [
                pair("ipv4", "default-dhcp", 245.0),
                pair("ipv4", "guest", 497.0),
                pair("ipv4", "one", 1.0)
            ]
        );
        assert_eq!(
            samples(&f, "mikrotik_pool_used"),
            [
                pair("ipv4", "default-dhcp", 12.0),
                pair("ipv4", "guest", 300.0),
                pair("ipv4", "one", 1.0)
            ]
        );
    }

    #[test]
    fn v6_router_pools_of_both_families() {
        // RouterOS 6 default configuration plus a DHCPv6-PD pool.
        let v4 = build_rows(&V4, "name=dhcp  ranges=192.168.88.10-192.168.88.254", &[7]);
        assert_eq!(
            samples(&v4, "mikrotik_pool_size"),
            [pair("ipv4", "dhcp", 245.0)]
        );
        assert_eq!(
            samples(&v4, "mikrotik_pool_used"),
            [pair("ipv4", "dhcp", 7.0)]
        );
        let v6 = build_rows(
            &V6,
            "
            name=pd  prefix=2001:db8:100::/48  prefix-length=56
            name=isp  prefix=2001:db8::/32  prefix-length=64
            ",
            &[4, 0],
        );
        assert_eq!(
            samples(&v6, "mikrotik_pool_size"),
            [
                pair("ipv6", "pd", 256.0),
                pair("ipv6", "isp", 2f64.powi(32))
            ]
        );
        assert_eq!(
            samples(&v6, "mikrotik_pool_used")[0],
            pair("ipv6", "pd", 4.0)
        );
    }

    #[test]
    fn odd_ranges_cost_the_size_sample_only() {
        let f = build_rows(
            &V4,
            "
            name=reversed  ranges=10.0.0.250-10.0.0.10
            name=garbage  ranges=lots
            name=empty  ranges=
            name=missing
            name=ok  ranges=10.0.0.0/30
            ",
            &[1, 2, 3, 4, 5],
        );
        assert_eq!(samples(&f, "mikrotik_pool_size"), [pair("ipv4", "ok", 4.0)]);
        assert_eq!(samples(&f, "mikrotik_pool_used").len(), 5);
        let f = build_rows(
            &V6,
            "name=bad  prefix=2001:db8::/64  prefix-length=48",
            &[0],
        );
        assert!(samples(&f, "mikrotik_pool_size").is_empty());
    }

    #[test]
    fn no_duplicate_series_on_simulator_data() {
        use routeros_sim::menus::registry;
        use routeros_sim::menus::testkit::Fixture;
        for f in [Fixture::v6(), Fixture::v7()] {
            let view = f.view(2, 3_600);
            let mut families = Vec::new();
            for (stack, path) in [(&V4, "/ip/pool"), (&V6, "/ipv6/pool")] {
                let menu = registry()
                    .into_iter()
                    .find(|m| m.path() == path)
                    .unwrap_or_else(|| panic!("{path} menu"));
                let pools: Vec<Row> = menu.rows(&view).into_iter().map(Row::from_pairs).collect();
                let refs: Vec<&Row> = pools.iter().collect();
                families.extend(build(stack, &refs, &vec![0; refs.len()]));
            }
            assert_no_duplicate_series(&families);
            let sizes = samples(&families, "mikrotik_pool_size");
            assert_eq!(sizes.len(), 5, "every simulated pool's ranges parse");
        }
    }
}
