//! `/ip/firewall/connection`, `/ipv6/firewall/connection` and
//! `/ip/firewall/connection/tracking`.
//!
//! Connection tables are static (cached by the server) and may hold hundreds of
//! thousands of rows, so rows are built with little formatting. Sources are
//! skewed: host rank `⌊240·u⁴⌋` for uniform `u`, so the busiest LAN host owns
//! about a quarter of all connections and the long tail a tenth of a percent each.

use super::format::{boolean, id, secs};
use super::synth::{hash, mix};
use super::{Menu, RouterView, SimRow, push};
use std::sync::Arc;

/// The connection-tracking menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![
        Arc::new(Connections { v6: false }),
        Arc::new(Connections { v6: true }),
        Arc::new(Tracking),
    ]
}

/// Tables at least this long are generated on several threads.
const PARALLEL_FROM: u64 = 20_000;

/// LAN hosts that originate connections.
const HOSTS: u64 = 240;

/// Well-known remote servers, most popular first.
const REMOTES_V4: [[u8; 4]; 12] = [
    [1, 1, 1, 1],
    [8, 8, 8, 8],
    [203, 0, 113, 10],
    [203, 0, 113, 77],
    [198, 51, 100, 200],
    [192, 0, 2, 33],
    [9, 9, 9, 9],
    [203, 0, 113, 150],
    [198, 51, 100, 14],
    [192, 0, 2, 250],
    [203, 0, 113, 201],
    [198, 51, 100, 99],
];

const TCP_PORTS: [u16; 8] = [443, 443, 443, 80, 22, 993, 5223, 8443];
const UDP_PORTS: [u16; 5] = [53, 443, 123, 51820, 3478];

/// Skewed rank in `0..n` from hash bits: `⌊n·u^k⌋`.
fn skewed(h: u64, n: u64, k: i32) -> u64 {
    let u = (h >> 40) as f64 / (1u64 << 24) as f64;
    ((n as f64 * u.powi(k)) as u64).min(n - 1)
}

/// Appends the decimal digits of `n`.
fn digits(out: &mut Vec<u8>, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// An address as RouterOS prints it in conntrack (`a.b.c.d:p`, `[v6]:p`,
/// bare address without port).
#[derive(Debug, Clone, Copy)]
enum Addr {
    V4([u8; 4]),
    /// First three groups and the host part (`2001:db8:1::1f`).
    V6([u16; 3], u16),
}

fn render(a: Addr, port: Option<u16>) -> Vec<u8> {
    let mut v = Vec::with_capacity(48);
    match a {
        Addr::V4(o) => {
            for (i, b) in o.iter().enumerate() {
                if i > 0 {
                    v.push(b'.');
                }
                digits(&mut v, u64::from(*b));
            }
            if let Some(p) = port {
                v.push(b':');
                digits(&mut v, u64::from(p));
            }
        }
        Addr::V6([a, b, c], host) => {
            let text = if c == 0 {
                format!("{a:x}:{b:x}::{host:x}")
            } else {
                format!("{a:x}:{b:x}:{c:x}::{host:x}")
            };
            match port {
                Some(p) => {
                    v.push(b'[');
                    v.extend_from_slice(text.as_bytes());
                    v.extend_from_slice(b"]:");
                    digits(&mut v, u64::from(p));
                }
                None => v.extend_from_slice(text.as_bytes()),
            }
        }
    }
    v
}

/// `/ip/firewall/connection` or `/ipv6/firewall/connection`.
struct Connections {
    v6: bool,
}

/// The shape of one synthetic connection, derived from its two hashes.
struct Flow {
    proto: &'static str,
    /// Destination port (none for ICMP).
    port: Option<u16>,
    /// Source port (none for ICMP).
    sport: Option<u16>,
    /// Which LAN host; low numbers are the heavy hitters.
    host: u64,
    /// Which remote of [`REMOTES_V4`] (or its IPv6 counterpart).
    remote: usize,
    /// Came in through the port forward (IPv4 TCP only).
    dstnat: bool,
    tcp_state: &'static str,
    /// TCP in state `established`.
    established: bool,
}

/// `(src-address, dst-address, reply-src-address, reply-dst-address)`.
type Addresses = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);

impl Connections {
    fn row(&self, index: u64, n: u64) -> SimRow {
        let h = hash(&[index, u64::from(self.v6), n]);
        let h2 = mix(h);
        let flow = self.flow(h, h2);
        let (src, dst, rsrc, rdst) = self.addresses(index, &flow);
        let mut r: SimRow = Vec::with_capacity(21);
        push(&mut r, ".id", id(0x0100_0000 + n));
        push(&mut r, "protocol", flow.proto);
        push(&mut r, "src-address", src);
        push(&mut r, "dst-address", dst);
        push(&mut r, "reply-src-address", rsrc);
        push(&mut r, "reply-dst-address", rdst);
        if flow.proto == "tcp" {
            push(&mut r, "tcp-state", flow.tcp_state);
        }
        self.push_counters(&mut r, h, h2, &flow);
        r
    }

    fn flow(&self, h: u64, h2: u64) -> Flow {
        let host = skewed(h, HOSTS, 4);
        let remote = skewed(h2, REMOTES_V4.len() as u64, 2) as usize;
        let (proto, port) = match h % 20 {
            0 => (if self.v6 { "icmpv6" } else { "icmp" }, None),
            1..=5 => ("udp", Some(UDP_PORTS[(h2 % 5) as usize])),
            _ => ("tcp", Some(TCP_PORTS[(h2 % 8) as usize])),
        };
        let sport = port.map(|_| 1_024 + (h2 >> 8) as u16 % 64_000);
        // A few IPv4 connections come in through the port forward (dstnat).
        let dstnat = !self.v6 && proto == "tcp" && h2.is_multiple_of(33);
        let tcp_state = match (h2 >> 32) % 20 {
            0 => "syn-sent",
            1 | 2 => "time-wait",
            3 => "fin-wait",
            4 => "close",
            _ => "established",
        };
        Flow {
            proto,
            port,
            sport,
            host,
            remote,
            dstnat,
            tcp_state,
            established: proto == "tcp" && tcp_state == "established",
        }
    }

    fn addresses(&self, index: u64, flow: &Flow) -> Addresses {
        let (port, sport) = (flow.port, flow.sport);
        let wan = Addr::V4([198, 51, 100, (index % 250) as u8 + 2]);
        let lan = Addr::V4([192, 168, 88, 10 + flow.host as u8]);
        let far = Addr::V4(REMOTES_V4[flow.remote]);
        if self.v6 {
            let local = Addr::V6([0x2001, 0xdb8, index as u16], 0x10 + flow.host as u16);
            let remote6 = Addr::V6([0x2a00, 0x1450, 0x4001], flow.remote as u16 + 1);
            (
                render(local, sport),
                render(remote6, port),
                render(remote6, port),
                render(local, sport),
            )
        } else if flow.dstnat {
            (
                render(far, sport),
                render(wan, Some(8080)),
                render(Addr::V4([192, 168, 88, 10]), Some(80)),
                render(far, sport),
            )
        } else {
            (
                render(lan, sport),
                render(far, port),
                render(far, port),
                render(wan, sport),
            )
        }
    }

    /// `timeout`, packet/byte/rate counters and the connection flags.
    fn push_counters(&self, r: &mut SimRow, h: u64, h2: u64, flow: &Flow) {
        let timeout = match flow.proto {
            "tcp" if flow.established => 86_400 - (h2 >> 16) % 600,
            "tcp" => 5 + (h2 >> 16) % 115,
            "udp" => 1 + (h2 >> 16) % 180,
            _ => 1 + (h2 >> 16) % 10,
        };
        // Heavy hosts move more data; sizes span a few orders of magnitude.
        let scale = 1u64 << ((h >> 20) % 18 + if flow.host < 3 { 6 } else { 0 });
        let orig_bytes = 60 * scale + (h2 >> 44);
        let repl_bytes = if flow.tcp_state == "syn-sent" {
            0
        } else {
            orig_bytes * (1 + (h >> 8) % 12)
        };
        let (orig_rate, repl_rate) = if flow.established {
            ((h2 >> 24) % 40_000, (h2 >> 36) % 400_000)
        } else {
            (0, 0)
        };
        push(r, "timeout", secs(timeout));
        for (k, v) in [
            ("orig-packets", orig_bytes / 90 + 1),
            ("orig-bytes", orig_bytes),
            ("repl-packets", repl_bytes / 900),
            ("repl-bytes", repl_bytes),
            ("orig-rate", orig_rate),
            ("repl-rate", repl_rate),
        ] {
            let mut b = Vec::with_capacity(20);
            digits(&mut b, v);
            push(r, k, b);
        }
        let seen = repl_bytes > 0;
        let fasttrack = flow.established && !h.is_multiple_of(3);
        for (k, v) in [
            ("assured", seen && flow.proto != "icmp"),
            ("confirmed", true),
            ("dying", false),
            ("fasttrack", fasttrack),
            ("seen-reply", seen),
            ("srcnat", !self.v6 && !flow.dstnat),
            ("dstnat", flow.dstnat),
        ] {
            push(r, k, boolean(v));
        }
    }
}

impl Menu for Connections {
    fn path(&self) -> &'static str {
        if self.v6 {
            "/ipv6/firewall/connection"
        } else {
            "/ip/firewall/connection"
        }
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let count = if self.v6 {
            view.scale.conntrack_v6
        } else {
            view.scale.conntrack
        };
        let index = view.index as u64;
        let count = count as u64;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8)) as u64;
        if count < PARALLEL_FROM || threads < 2 {
            return (0..count).map(|n| self.row(index, n)).collect();
        }
        // Big tables: build chunks on all cores, then concatenate in order.
        let chunk = count.div_ceil(threads);
        std::thread::scope(|s| {
            let parts: Vec<_> = (0..threads)
                .map(|t| {
                    let range = t * chunk..((t + 1) * chunk).min(count);
                    s.spawn(move || range.map(|n| self.row(index, n)).collect::<Vec<_>>())
                })
                .collect();
            let mut out = Vec::with_capacity(count as usize);
            for part in parts {
                match part.join() {
                    Ok(mut rows) => out.append(&mut rows),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            out
        })
    }

    fn is_static(&self) -> bool {
        true
    }
}

/// `/ip/firewall/connection/tracking`: the settings and entry totals.
struct Tracking;

impl Menu for Tracking {
    fn path(&self) -> &'static str {
        "/ip/firewall/connection/tracking"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        let (v4, v6) = (view.scale.conntrack, view.scale.conntrack_v6);
        let mut r: SimRow = Vec::with_capacity(24);
        push(&mut r, "enabled", "yes");
        push(&mut r, "active-ipv4", "yes");
        push(&mut r, "active-ipv6", "yes");
        for (k, v) in [
            ("tcp-syn-sent-timeout", 5),
            ("tcp-syn-received-timeout", 5),
            ("tcp-established-timeout", 86_400),
            ("tcp-fin-wait-timeout", 10),
            ("tcp-close-wait-timeout", 10),
            ("tcp-last-ack-timeout", 10),
            ("tcp-time-wait-timeout", 10),
            ("tcp-close-timeout", 10),
            ("tcp-max-retrans-timeout", 300),
            ("tcp-unacked-timeout", 300),
            ("udp-timeout", 10),
            ("udp-stream-timeout", 180),
            ("icmp-timeout", 10),
            ("generic-timeout", 600),
        ] {
            push(&mut r, k, secs(v));
        }
        push(&mut r, "loose-tcp-tracking", "true");
        push(&mut r, "max-entries", "1048576");
        push(&mut r, "total-entries", (v4 + v6).to_string());
        if view.personality.is_v7() {
            push(&mut r, "total-ip4-entries", v4.to_string());
            push(&mut r, "total-ip6-entries", v6.to_string());
        }
        vec![r]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, get, num, text};
    use std::collections::HashMap;

    #[test]
    fn rows_have_ports_embedded() {
        let f = Fixture::v7();
        let rows = Connections { v6: false }.rows(&f.view(0, 10));
        assert_eq!(rows.len(), f.scale.conntrack);
        let tcp = rows
            .iter()
            .find(|r| text(r, "protocol") == Some("tcp") && text(r, "srcnat") == Some("true"))
            .expect("a tcp row");
        let src = text(tcp, "src-address").unwrap_or_default();
        assert!(src.starts_with("192.168.88.") && src.contains(':'), "{src}");
        assert!(text(tcp, "reply-dst-address").is_some_and(|a| a.starts_with("198.51.100.2:")));
        assert!(text(tcp, "tcp-state").is_some());
        assert!(text(tcp, "timeout").is_some_and(|t| t.ends_with('s')));
        let icmp = rows
            .iter()
            .find(|r| text(r, "protocol") == Some("icmp"))
            .expect("an icmp row");
        assert!(!text(icmp, "src-address").unwrap_or_default().contains(':'));
        assert!(get(icmp, "tcp-state").is_none());
        assert!(rows.iter().any(|r| text(r, "dstnat") == Some("true")));
        assert!(num(tcp, "orig-bytes") > 0);
    }

    #[test]
    fn ipv6_rows_use_brackets() {
        let f = Fixture::v6();
        let rows = Connections { v6: true }.rows(&f.view(1, 10));
        assert_eq!(rows.len(), f.scale.conntrack_v6);
        let with_port = rows
            .iter()
            .find(|r| text(r, "protocol") == Some("tcp"))
            .expect("a tcp row");
        let src = text(with_port, "src-address").unwrap_or_default();
        assert!(
            src.starts_with("[2001:db8:1::") && src.contains("]:"),
            "{src}"
        );
        let ok = rows.iter().all(|r| {
            let a = text(r, "dst-address").unwrap_or_default();
            (text(r, "protocol") == Some("icmpv6")) != a.starts_with('[')
        });
        assert!(ok);
        let f7 = Fixture::v7();
        let first = &Connections { v6: true }.rows(&f7.view(0, 10))[0];
        assert!(text(first, "src-address").is_some_and(|a| a.contains("[2001:db8::")));
    }

    #[test]
    fn two_hundred_thousand_skewed_rows() {
        let mut f = Fixture::v7();
        f.scale.conntrack = 200_000;
        let menu = Connections { v6: false };
        assert!(menu.is_static());
        let rows = menu.rows(&f.view(0, 10));
        assert_eq!(rows.len(), 200_000);
        let mut per_src: HashMap<&[u8], usize> = HashMap::new();
        for r in &rows {
            let src = get(r, "src-address").unwrap_or_default();
            let ip = src.split(|b| *b == b':').next().unwrap_or_default();
            *per_src.entry(ip).or_default() += 1;
        }
        let mut counts: Vec<usize> = per_src.values().copied().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        assert!(counts.len() > 200, "{}", counts.len());
        let top5: usize = counts[..5].iter().sum();
        assert!(top5 > 60_000, "top5 = {top5}");
        assert!(counts[counts.len() - 1] < counts[0] / 100);
        assert_eq!(menu.rows(&f.view(0, 99_999))[..50], rows[..50]);
    }

    #[test]
    fn tracking_totals() {
        let f = Fixture::v7();
        let t = &Tracking.rows(&f.view(0, 10))[0];
        assert_eq!(text(t, "enabled"), Some("yes"));
        assert_eq!(text(t, "loose-tcp-tracking"), Some("true"));
        assert_eq!(text(t, "tcp-established-timeout"), Some("1d"));
        assert_eq!(text(t, "generic-timeout"), Some("10m"));
        assert_eq!(
            num(t, "total-entries"),
            (f.scale.conntrack + f.scale.conntrack_v6) as u64
        );
        assert_eq!(num(t, "total-ip6-entries"), f.scale.conntrack_v6 as u64);
        let f6 = Fixture::v6();
        let t6 = &Tracking.rows(&f6.view(0, 10))[0];
        assert!(get(t6, "total-ip4-entries").is_none());
        assert_eq!(num(t6, "max-entries"), 1_048_576);
    }
}
