//! Board presets: the hardware of real router kinds, as [`Scale`]s.
//!
//! The default scale is a "lab" board with a little of every piece of hardware,
//! so a demo shows every metric group. Real boards lack most of it, and a group
//! must treat the missing piece as "nothing to report" (or unsupported), never
//! as a failure: these presets are what the tests probe for that.

use super::{Scale, WifiStack};
use std::fmt;
use std::str::FromStr;

/// A kind of router, from `--board`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Board {
    /// A little of everything (the default scale).
    Lab,
    /// A core router (CCR2004-like): ethernet and two SFP+ cages, one holding
    /// a module and one empty; no PoE, LTE or radio.
    Ccr,
    /// A 24-port PoE switch with two SFP cages (CRS328-24P-like).
    PoeSwitch,
    /// An LTE CPE with one modem, one radio and a few ethernet ports.
    LteCpe,
    /// A wireless access point (`wireless` on RouterOS 6, `wifi` on 7.13+).
    WirelessAp,
    /// A CAPsMAN controller managing four access points, no local radio.
    CapsmanController,
    /// A PPPoE concentrator with 2,000 subscribers' sessions.
    PppoeConcentrator,
    /// A cloud router (CHR): ethernet only, no sensors, SFP, PoE, LTE or radio.
    Chr,
    /// A core router: two full BGP tables (2,000,000 routes), 50 BGP
    /// sessions, 20 OSPF neighbours, 500 simple queues, 50 netwatch hosts,
    /// 20 IPsec peers, four SFP+ cages; no PoE, LTE or radio.
    Core,
    /// A branch edge router: an LTE uplink, a few IPsec peers and netwatch
    /// hosts, a default route per uplink, no BGP or OSPF.
    Edge,
}

impl Board {
    /// Every board, in documentation order.
    pub const ALL: [Board; 10] = [
        Board::Lab,
        Board::Ccr,
        Board::PoeSwitch,
        Board::LteCpe,
        Board::WirelessAp,
        Board::CapsmanController,
        Board::PppoeConcentrator,
        Board::Chr,
        Board::Core,
        Board::Edge,
    ];

    /// The board's name on the command line (`poe-switch`).
    pub fn name(self) -> &'static str {
        match self {
            Board::Lab => "lab",
            Board::Ccr => "ccr",
            Board::PoeSwitch => "poe-switch",
            Board::LteCpe => "lte-cpe",
            Board::WirelessAp => "wireless-ap",
            Board::CapsmanController => "capsman",
            Board::PppoeConcentrator => "pppoe",
            Board::Chr => "chr",
            Board::Core => "core",
            Board::Edge => "edge",
        }
    }

    /// The board's hardware and data sizes.
    pub fn scale(self) -> Scale {
        let bare = bare();
        match self {
            Board::Lab => Scale::default(),
            Board::Ccr => Scale {
                sfp_ports: 2,
                dhcp_leases: 20,
                ..bare
            },
            Board::PoeSwitch => Scale {
                interfaces: 24,
                sfp_ports: 2,
                poe_ports: 24,
                ..bare
            },
            Board::LteCpe => Scale {
                interfaces: 4,
                lte_modems: 1,
                wifi: WifiStack::Auto,
                wireless_radios: 1,
                wireless_clients: 3,
                dhcp_leases: 5,
                ..bare
            },
            Board::WirelessAp => Scale {
                interfaces: 2,
                wifi: WifiStack::Auto,
                wireless_radios: 2,
                wireless_clients: 20,
                dhcp_leases: 20,
                hotspot_users: 10,
                ..bare
            },
            Board::CapsmanController => Scale {
                wifi: WifiStack::Auto,
                capsman_caps: 4,
                capsman_clients: 30,
                dhcp_leases: 40,
                ..bare
            },
            Board::PppoeConcentrator => Scale {
                interfaces: 4,
                sfp_ports: 2,
                ppp_sessions: 2_000,
                ..bare
            },
            Board::Chr => Scale {
                interfaces: 2,
                ..bare
            },
            Board::Core => core(bare),
            Board::Edge => edge(bare),
        }
    }
}

/// A board with none of the optional hardware and small tables.
fn bare() -> Scale {
    Scale {
        sfp_ports: 0,
        poe_ports: 0,
        lte_modems: 0,
        wifi: WifiStack::None,
        wireless_radios: 0,
        wireless_clients: 0,
        capsman_caps: 0,
        capsman_clients: 0,
        dhcp_leases: 0,
        ppp_sessions: 0,
        hotspot_users: 0,
        bgp_sessions: 0,
        ospf_neighbors: 0,
        routes: 20,
        routes_v6: 5,
        vrrp_instances: 0,
        netwatch_hosts: 0,
        simple_queues: 0,
        queue_tree: 0,
        ipsec_peers: 0,
        containers: 0,
        ..Scale::default()
    }
}

/// [`Board::Core`].
fn core(bare: Scale) -> Scale {
    Scale {
        sfp_ports: 4,
        bgp_sessions: 50,
        ospf_neighbors: 20,
        routes: 2_000_000,
        routes_v6: 400_000,
        vrrp_instances: 4,
        netwatch_hosts: 50,
        simple_queues: 500,
        queue_tree: 20,
        ipsec_peers: 20,
        ..bare
    }
}

/// [`Board::Edge`].
fn edge(bare: Scale) -> Scale {
    Scale {
        interfaces: 5,
        lte_modems: 1,
        dhcp_leases: 30,
        netwatch_hosts: 4,
        simple_queues: 10,
        ipsec_peers: 2,
        containers: 1,
        ..bare
    }
}

impl fmt::Display for Board {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `--board` value that names no board.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown board {0:?}; boards: lab, ccr, poe-switch, lte-cpe, wireless-ap, capsman, pppoe, chr, core, \
     edge"
)]
pub struct UnknownBoard(pub String);

impl FromStr for Board {
    type Err = UnknownBoard;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Board::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| UnknownBoard(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_the_error_lists_them() {
        for board in Board::ALL {
            assert_eq!(board.name().parse::<Board>(), Ok(board));
            assert!(
                UnknownBoard(String::new())
                    .to_string()
                    .contains(board.name())
            );
        }
        assert!("ccr2004".parse::<Board>().is_err());
    }

    #[test]
    fn boards_lack_what_they_should() {
        assert_eq!(Board::Lab.scale(), Scale::default());
        let ccr = Board::Ccr.scale();
        assert_eq!((ccr.sfp_ports, ccr.poe_ports, ccr.lte_modems), (2, 0, 0));
        assert_eq!(ccr.wifi, WifiStack::None);
        assert_eq!(Board::PoeSwitch.scale().poe_ports, 24);
        assert_eq!(Board::PppoeConcentrator.scale().ppp_sessions, 2_000);
        let chr = Board::Chr.scale();
        assert_eq!(chr.sfp_ports + chr.poe_ports + chr.lte_modems, 0);
        assert_eq!(chr.wireless_radios + chr.capsman_caps + chr.ppp_sessions, 0);
    }
}
