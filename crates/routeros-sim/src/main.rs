//! `routeros-sim`: run simulated MikroTik RouterOS routers on loopback.
//!
//! Prints one line per router (`router r1 version 7.16 api 127.0.0.1:8728`, plus
//! `api-ssl <addr>` when enabled) and `control <addr>` when the control endpoint is
//! on, then serves until Ctrl-C or SIGTERM.

use clap::Parser;
use routeros_sim::menus::{Board, Scale};
use routeros_sim::{Faults, RouterConfig, SimConfig, Simulator, Version};
use std::net::SocketAddr;
use std::process::ExitCode;

/// Simulated MikroTik RouterOS API routers.
#[derive(Debug, Parser)]
#[command(name = "routeros-sim", about)]
struct Args {
    /// Address of the first router; router i listens on port+i (port 0: ephemeral).
    #[arg(long, default_value = "127.0.0.1:8728")]
    listen: SocketAddr,
    /// Number of routers (named r1, r2, ...).
    #[arg(long, default_value_t = 1)]
    routers: usize,
    /// RouterOS version of every router.
    #[arg(long = "version", default_value = "7.16", value_parser = parse_version)]
    ros_version: Version,
    /// Comma-separated versions, one per router, cycling (overrides --version).
    #[arg(long, value_delimiter = ',', value_parser = parse_version)]
    versions: Vec<Version>,
    /// User name accepted by every router.
    #[arg(long, default_value = "admin")]
    username: String,
    /// Password of that user.
    #[arg(long, default_value = "")]
    password: String,
    /// Base port for API-SSL listeners (router i uses port+i; 0: ephemeral).
    #[arg(long)]
    tls_port: Option<u16>,
    /// Address of the HTTP control endpoint.
    #[arg(long)]
    control: Option<SocketAddr>,
    /// The hardware every router has: lab (a little of everything), ccr,
    /// poe-switch, lte-cpe, wireless-ap, capsman, pppoe, chr. The --scale-*
    /// flags override its sizes.
    #[arg(long, default_value = "lab")]
    board: Board,
    /// Ethernet-style interfaces per router.
    #[arg(long)]
    scale_interfaces: Option<usize>,
    /// SFP cages per router.
    #[arg(long)]
    scale_sfp_ports: Option<usize>,
    /// Ethernet ports with PoE out per router.
    #[arg(long)]
    scale_poe_ports: Option<usize>,
    /// Clients registered to the local radios.
    #[arg(long)]
    scale_wireless_clients: Option<usize>,
    /// DHCP leases per router.
    #[arg(long)]
    scale_dhcp_leases: Option<usize>,
    /// Active PPP sessions per router.
    #[arg(long)]
    scale_ppp_sessions: Option<usize>,
    /// Active hotspot users per router.
    #[arg(long)]
    scale_hotspot_users: Option<usize>,
    /// BGP sessions per router.
    #[arg(long)]
    scale_bgp_sessions: Option<usize>,
    /// OSPF neighbours per router.
    #[arg(long)]
    scale_ospf_neighbors: Option<usize>,
    /// IPv4 routes per router (counted lazily: a million is cheap).
    #[arg(long)]
    scale_routes: Option<usize>,
    /// Simple queues per router.
    #[arg(long)]
    scale_simple_queues: Option<usize>,
    /// Netwatch hosts per router.
    #[arg(long)]
    scale_netwatch_hosts: Option<usize>,
    /// IPsec peers per router.
    #[arg(long)]
    scale_ipsec_peers: Option<usize>,
    /// Menus the user may not read (repeatable, e.g. `/interface/lte`): they
    /// answer `not enough permissions (9)`, as for a restricted user group.
    #[arg(long = "deny-menu")]
    deny_menus: Vec<String>,
    /// IPv4 connection-tracking rows per router.
    #[arg(long)]
    scale_conntrack: Option<usize>,
    /// Rules per firewall table.
    #[arg(long)]
    scale_firewall_rules: Option<usize>,
    /// WireGuard peers per router (v7).
    #[arg(long)]
    scale_wireguard_peers: Option<usize>,
    /// Sessions allowed at once per router.
    #[arg(long, default_value_t = routeros_sim::DEFAULT_MAX_SESSIONS)]
    max_sessions: usize,
    /// Uptime the routers report at start, as if booted that long ago (`3d4h`).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "0s")]
    uptime: std::time::Duration,
}

fn parse_version(s: &str) -> Result<Version, String> {
    Version::parse(s).ok_or_else(|| format!("not a RouterOS version: {s:?}"))
}

fn offset_port(base: u16, index: usize) -> Result<u16, String> {
    if base == 0 {
        return Ok(0);
    }
    u16::try_from(usize::from(base) + index)
        .map_err(|_| format!("port {base}+{index} is out of range"))
}

/// The board's scale with the `--scale-*` overrides applied.
fn scale(args: &Args) -> Scale {
    let mut scale = args.board.scale();
    let overrides = [
        (args.scale_interfaces, &mut scale.interfaces),
        (args.scale_conntrack, &mut scale.conntrack),
        (args.scale_firewall_rules, &mut scale.firewall_rules),
        (args.scale_wireguard_peers, &mut scale.wireguard_peers),
        (args.scale_sfp_ports, &mut scale.sfp_ports),
        (args.scale_poe_ports, &mut scale.poe_ports),
        (args.scale_wireless_clients, &mut scale.wireless_clients),
        (args.scale_dhcp_leases, &mut scale.dhcp_leases),
        (args.scale_ppp_sessions, &mut scale.ppp_sessions),
        (args.scale_hotspot_users, &mut scale.hotspot_users),
        (args.scale_bgp_sessions, &mut scale.bgp_sessions),
        (args.scale_ospf_neighbors, &mut scale.ospf_neighbors),
        (args.scale_routes, &mut scale.routes),
        (args.scale_simple_queues, &mut scale.simple_queues),
        (args.scale_netwatch_hosts, &mut scale.netwatch_hosts),
        (args.scale_ipsec_peers, &mut scale.ipsec_peers),
    ];
    for (value, field) in overrides {
        if let Some(n) = value {
            *field = n;
        }
    }
    scale
}

fn config(args: &Args) -> Result<SimConfig, String> {
    let scale = scale(args);
    let mut routers = Vec::with_capacity(args.routers);
    for index in 0..args.routers {
        let version = match args.versions.as_slice() {
            [] => args.ros_version,
            versions => versions[index % versions.len()],
        };
        let mut router = RouterConfig::v7(format!("r{}", index + 1)).with_version(version);
        router.username = args.username.clone();
        router.password = args.password.clone();
        router.scale = scale.clone();
        router.bind_ip = args.listen.ip();
        router.port = offset_port(args.listen.port(), index)?;
        router.tls_port = args
            .tls_port
            .map(|base| offset_port(base, index))
            .transpose()?;
        router.max_sessions = args.max_sessions;
        router.initial_uptime = args.uptime;
        router.faults = Faults {
            denied_menus: args.deny_menus.clone(),
            ..Faults::default()
        };
        routers.push(router);
    }
    Ok(SimConfig { routers })
}

async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = match config(&args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("routeros-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let simulator = match Simulator::start(config).await {
        Ok(simulator) => simulator,
        Err(e) => {
            eprintln!("routeros-sim: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    for router in simulator.routers() {
        let mut line = format!(
            "router {} version {} api {}",
            router.name(),
            router.personality().version,
            router.addr()
        );
        if let Some(tls) = router.tls_addr() {
            line.push_str(&format!(" api-ssl {tls}"));
        }
        println!("{line}");
    }
    if let Some(control) = args.control {
        match simulator.serve_control(control).await {
            Ok(addr) => println!("control {addr}"),
            Err(e) => {
                eprintln!("routeros-sim: cannot serve control endpoint on {control}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    wait_for_shutdown().await;
    tracing::info!("shutting down");
    simulator.shutdown();
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routers_get_consecutive_ports_and_cycling_versions() {
        let args = Args::parse_from([
            "routeros-sim",
            "--listen",
            "127.0.0.1:9000",
            "--routers",
            "3",
            "--versions",
            "7.18,6.42",
            "--tls-port",
            "0",
        ]);
        let config = config(&args).unwrap();
        let ports: Vec<u16> = config.routers.iter().map(|r| r.port).collect();
        assert_eq!(ports, [9000, 9001, 9002]);
        let versions: Vec<String> = config
            .routers
            .iter()
            .map(|r| r.personality.version.to_string())
            .collect();
        assert_eq!(versions, ["7.18", "6.42", "7.18"]);
        assert!(config.routers.iter().all(|r| r.tls_port == Some(0)));
        assert_eq!(config.routers[2].name, "r3");
    }

    #[test]
    fn board_and_scale_flags() {
        let args = Args::parse_from([
            "routeros-sim",
            "--board",
            "pppoe",
            "--scale-ppp-sessions",
            "5000",
            "--deny-menu",
            "/interface/lte",
        ]);
        let config = config(&args).unwrap();
        let router = &config.routers[0];
        assert_eq!(router.scale.ppp_sessions, 5000);
        assert_eq!(
            router.scale.sfp_ports,
            Board::PppoeConcentrator.scale().sfp_ports
        );
        assert!(router.faults.denies("/interface/lte"));
        assert!(Args::try_parse_from(["routeros-sim", "--board", "nope"]).is_err());
    }

    #[test]
    fn ephemeral_ports_stay_ephemeral_and_overflow_is_an_error() {
        assert_eq!(offset_port(0, 5), Ok(0));
        assert!(offset_port(65535, 1).is_err());
    }
}
