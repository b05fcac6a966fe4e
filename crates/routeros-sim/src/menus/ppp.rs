//! `/ppp/active`: the PPP sessions the router terminates (`scale.ppp_sessions`).
//!
//! Most sessions are PPPoE subscribers (`sub-00001`, a MAC as `caller-id`,
//! RADIUS-authenticated); in every 25 sessions positions 1–4 are L2TP, SSTP,
//! OpenVPN and PPTP tunnels (`vpn-N`, a public IP as `caller-id`). From 100
//! sessions on the last one is a dial-up `async` session with no `caller-id`,
//! a service a collector may not know. Each session reconnects about once a
//! day (a new `session-id`, uptime from 0); uptimes are clock style on
//! RouterOS 6 (`1d02:15:30`) and unit style on 7 (`44m55s`). Every session
//! but the dial-up one is also a dynamic interface in `/interface`
//! ([`sessions`]), whose counters restart with each reconnect.

use super::format::{self, boolean, id, mac};
use super::synth::{hash, session};
use super::{Menu, RouterView, SimRow, push};
use crate::query::{Query, QueryWord};
use std::sync::Arc;

/// The PPP menus.
pub fn menus() -> Vec<Arc<dyn Menu>> {
    vec![Arc::new(Active)]
}

/// Sessions from which the last one is an `async` dial-up session.
const ASYNC_FROM: usize = 100;

/// Seconds between forced reconnects, before a per-session jitter of up to an hour.
const RECONNECT: u64 = 86_400;

/// The service of session `i` of `n`.
fn service(i: usize, n: usize) -> &'static str {
    if n >= ASYNC_FROM && i == n - 1 {
        return "async";
    }
    match i % 25 {
        1 => "l2tp",
        2 => "sstp",
        3 => "ovpn",
        4 => "pptp",
        _ => "pppoe",
    }
}

/// `/ppp/active`.
struct Active;

impl Menu for Active {
    fn path(&self) -> &'static str {
        "/ppp/active"
    }

    fn rows(&self, view: &RouterView<'_>) -> Vec<SimRow> {
        sessions(view).map(|s| session_row(view, &s)).collect()
    }

    /// Counts by service without rendering a row: a concentrator's sessions
    /// are counted on every probe, once per service.
    fn count(&self, view: &RouterView<'_>, query: &Query) -> Option<usize> {
        let n = view.scale.ppp_sessions;
        match query.words() {
            [] => Some(n),
            [QueryWord::Equals(key, value)] if key == b"service" => Some(
                (0..n)
                    .filter(|&i| service(i, n).as_bytes() == value)
                    .count(),
            ),
            _ => None,
        }
    }
}

/// One active session: what `/ppp/active` lists, and what the dynamic
/// interface of its server binding is made of.
pub(crate) struct Session {
    /// 0-based position in `/ppp/active`.
    pub index: usize,
    /// The PPP user (`sub-00001`, `vpn-2`, `dialup-1`).
    pub name: String,
    /// `pppoe`, `l2tp`, `sstp`, `ovpn`, `pptp` or `async`.
    pub service: &'static str,
    /// Seconds since this session connected.
    pub uptime: u64,
    /// Which connection of the user since boot (0, then +1 per reconnect).
    pub generation: u64,
    /// The session's deterministic seed (the same across reconnects).
    pub seed: u64,
}

/// The router's active sessions, in `/ppp/active` order.
pub(crate) fn sessions<'v>(view: &'v RouterView<'_>) -> impl Iterator<Item = Session> + 'v {
    let n = view.scale.ppp_sessions;
    (0..n).map(move |i| {
        let seed = hash(&[view.index as u64, i as u64, 0x999]);
        let period = RECONNECT + seed % 3_600;
        let (uptime, generation) = session(view.uptime, period, seed);
        let service = service(i, n);
        let name = match service {
            "pppoe" => format!("sub-{:05}", i + 1),
            "async" => "dialup-1".to_owned(),
            _ => format!("vpn-{}", i + 1),
        };
        Session {
            index: i,
            name,
            service,
            uptime,
            generation,
            seed,
        }
    })
}

/// One session's row.
fn session_row(view: &RouterView<'_>, s: &Session) -> SimRow {
    let (i, seed, service, uptime, generation) =
        (s.index, s.seed, s.service, s.uptime, s.generation);
    let (caller_id, address) = match service {
        "pppoe" => {
            let b = seed.to_be_bytes();
            (
                mac([0xD0, 0xD0, b[2], b[3], b[4], b[5]]),
                format!("100.64.{}.{}", i / 250, i % 250 + 2),
            )
        }
        "async" => (String::new(), "10.99.0.2".to_owned()),
        _ => (
            format!("198.51.100.{}", seed % 250 + 1),
            format!("10.{}.{}.{}", 200 + view.index % 50, i / 250, i % 250 + 2),
        ),
    };
    let encoding = match service {
        "pptp" | "sstp" => "MPPE128 stateless",
        "l2tp" => "cbc(aes) + hmac(sha1)",
        "ovpn" => "AES-256-CBC/SHA1",
        _ => "",
    };
    let session_id = 0x8100_0000 | (hash(&[seed, generation]) & 0x00FF_FFFF);
    let mut r: SimRow = Vec::with_capacity(11);
    push(&mut r, ".id", id(i as u64 + 1));
    push(&mut r, "name", s.name.as_str());
    push(&mut r, "service", service);
    push(&mut r, "caller-id", caller_id);
    push(&mut r, "address", address);
    push(
        &mut r,
        "uptime",
        format::session_uptime(uptime, view.personality),
    );
    push(&mut r, "encoding", encoding);
    push(&mut r, "session-id", format!("0x{session_id:08X}"));
    push(&mut r, "limit-bytes-in", "0");
    push(&mut r, "limit-bytes-out", "0");
    push(&mut r, "radius", boolean(service == "pppoe"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menus::testkit::{Fixture, text};
    use std::collections::{BTreeMap, HashSet};

    fn services(rows: &[SimRow]) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for r in rows {
            *out.entry(text(r, "service").unwrap_or_default().to_owned())
                .or_default() += 1;
        }
        out
    }

    #[test]
    fn a_concentrator_is_mostly_pppoe_with_one_unusual_service() {
        let mut f = Fixture::v7();
        f.scale.ppp_sessions = 2_000;
        let rows = Active.rows(&f.view(0, 7_200));
        assert_eq!(rows.len(), 2_000);
        let by = services(&rows);
        assert_eq!(by["pppoe"], 2_000 - 4 * 80 - 1);
        for tunnel in ["l2tp", "sstp", "ovpn", "pptp"] {
            assert_eq!(by[tunnel], 80, "{tunnel}");
        }
        assert_eq!(by["async"], 1);
        let last = &rows[1_999];
        assert_eq!(text(last, "caller-id"), Some(""));
        let names: HashSet<&str> = rows.iter().filter_map(|r| text(r, "name")).collect();
        assert_eq!(names.len(), rows.len());
        let first = &rows[0];
        assert_eq!(text(first, "name"), Some("sub-00001"));
        assert!(text(first, "caller-id").is_some_and(|c| c.len() == 17 && c.contains(':')));
        assert_eq!(text(first, "radius"), Some("true"));
        assert!(text(&rows[1], "caller-id").is_some_and(|c| c.starts_with("198.51.100.")));
        let sid = text(first, "session-id").unwrap_or_default();
        assert!(sid.starts_with("0x81") && sid.len() == 10, "{sid}");
    }

    #[test]
    fn counts_by_service_match_the_rendered_rows() {
        let mut f = Fixture::v7();
        f.scale.ppp_sessions = 2_000;
        let view = f.view(0, 3_600);
        let rows = Active.rows(&view);
        for service in ["pppoe", "l2tp", "sstp", "ovpn", "pptp", "async", "x"] {
            let word = format!("?service={service}");
            let query = Query::parse([word.as_bytes()]).expect("query");
            let rendered = rows.iter().filter(|r| query.matches(r)).count();
            assert_eq!(Active.count(&view, &query), Some(rendered), "{service}");
        }
        assert_eq!(Active.count(&view, &Query::default()), Some(2_000));
        let other = Query::parse([b"?name=x".as_slice()]).expect("query");
        assert_eq!(Active.count(&view, &other), None);
    }

    #[test]
    fn few_sessions_have_no_unusual_service_and_none_is_empty() {
        let f = Fixture::v7();
        let rows = Active.rows(&f.view(0, 60));
        assert_eq!(rows.len(), f.scale.ppp_sessions);
        assert!(!services(&rows).contains_key("async"));
        let mut none = Fixture::v6();
        none.scale.ppp_sessions = 0;
        assert!(Active.rows(&none.view(0, 60)).is_empty());
    }

    #[test]
    fn uptimes_follow_the_version_and_reconnects_renew_the_session() {
        let (f7, f6) = (Fixture::v7(), Fixture::v6());
        let v7 = Active.rows(&f7.view(0, 3 * 3_600));
        let v6 = Active.rows(&f6.view(0, 3 * 3_600));
        let up7 = text(&v7[0], "uptime").unwrap_or_default();
        let up6 = text(&v6[0], "uptime").unwrap_or_default();
        assert!(up7.ends_with('s') && !up7.contains(':'), "{up7}");
        assert!(up6.len() == 8 && up6.contains(':'), "{up6}");
        // After a few days every session has reconnected at least once.
        let later = Active.rows(&f7.view(0, 3 * 86_400));
        for (a, b) in v7.iter().zip(&later) {
            assert_ne!(text(a, "session-id"), text(b, "session-id"));
            assert_eq!(text(a, "address"), text(b, "address"));
        }
        let long = text(&later[0], "uptime").unwrap_or_default();
        assert!(!long.contains('w'), "{long}");
        assert_eq!(Active.rows(&f7.view(0, 3 * 86_400)), later);
    }
}
