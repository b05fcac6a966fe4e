//! `certificate`: days until and time of certificate expiry.
//!
//! Commands (run concurrently on the probe's session):
//! `/certificate/print` (name, common name, `invalid-after`, fingerprint: no
//! private material) and `/system/clock/print` (the router's local date, time and
//! GMT offset).
//!
//! RouterOS dates carry no zone: they are router local time. Comparing
//! `invalid-after` with the router's own clock avoids the time-zone trap
//! (`days = (invalid_after − router_now) / 86400`), and the expiry timestamp is
//! `invalid_after − gmt_offset`. Without a usable clock the probe's own time is
//! used as UTC (noted in the trace). Unsigned templates (`invalid-after` at the
//! epoch, no fingerprint) are not certificates and are skipped.

use super::family::{Family, MetricDesc, Value, metric};
use super::{Context, Group, GroupFuture, parse};
use routeros::{Command, Row};

/// The `certificate` group.
pub struct Certificate;

metric!(
    DAYS,
    "mikrotik_certificate_days_until_expiry",
    Gauge,
    "Days until the certificate expires by the router's clock (negative once expired).",
    ["name", "common_name"]
);
metric!(
    EXPIRY,
    "mikrotik_certificate_expiry_timestamp_seconds",
    Gauge,
    "Unix timestamp at which the certificate expires.",
    ["name", "common_name"]
);

static METRICS: &[&MetricDesc] = &[&DAYS, &EXPIRY];

impl Group for Certificate {
    fn name(&self) -> &'static str {
        "certificate"
    }

    fn metrics(&self) -> &'static [&'static MetricDesc] {
        METRICS
    }

    fn collect<'a>(&'a self, ctx: &'a Context) -> GroupFuture<'a> {
        Box::pin(async move {
            let (certificates, clock) = tokio::join!(
                ctx.rows(Command::new("/certificate/print").proplist(&[
                    "name",
                    "common-name",
                    "invalid-after",
                    "fingerprint",
                ])),
                RouterClock::read(ctx, "certificate"),
            );
            let certificates = certificates?;
            Ok(build(&certificates, clock))
        })
    }
}

/// The router's notion of "now", for the groups that read router-local dates
/// (`certificate`, `users`, `netwatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RouterClock {
    /// Router local time as if it were UTC, seconds since the epoch (the same
    /// scale [`parse::datetime`] gives dates).
    local: i64,
    /// Local time minus UTC, in seconds.
    gmt_offset: i64,
}

impl RouterClock {
    /// Reads `/system/clock/print =.proplist=date,time,gmt-offset`. A clock
    /// that cannot be read costs accuracy (the router's zone), not the group:
    /// the probe's own time is used as UTC instead, noted in the trace as
    /// `group`'s.
    pub(super) async fn read(ctx: &Context, group: &str) -> Self {
        let command = Command::new("/system/clock/print").proplist(&["date", "time", "gmt-offset"]);
        let clock = match ctx.rows(command).await {
            Ok(rows) => rows
                .first()
                .ok_or_else(|| "empty /system/clock reply".to_string())
                .and_then(RouterClock::from_row),
            Err(e) => Err(format!("no /system/clock ({e})")),
        };
        clock.unwrap_or_else(|why| {
            tracing::debug!(why, group, "falling back to the probe's time");
            ctx.trace
                .note(|| format!("{group}: {why}; using the probe's time as UTC"));
            RouterClock::utc(ctx.now_unix)
        })
    }

    /// The router's local time, on the scale [`parse::datetime`] gives
    /// router-local dates.
    pub(super) fn local(self) -> i64 {
        self.local
    }

    /// The Unix time of a router-local date (as [`parse::datetime`] gives it).
    pub(super) fn unix(self, local: i64) -> i64 {
        local - self.gmt_offset
    }

    /// The probe's time, taken as UTC.
    pub(super) fn utc(now_unix: i64) -> Self {
        Self {
            local: now_unix,
            gmt_offset: 0,
        }
    }

    /// Reads a `/system/clock` row; an absent `gmt-offset` means UTC.
    pub(super) fn from_row(row: &Row) -> Result<Self, String> {
        let date = row.str("date").unwrap_or_default().trim();
        let time = row.str("time").unwrap_or_default().trim();
        let local = parse::datetime(&format!("{date} {time}"))
            .filter(|_| !date.is_empty() && !time.is_empty())
            .ok_or_else(|| format!("unparseable router clock date={date:?} time={time:?}"))?;
        let gmt_offset = match row.str("gmt-offset").map(str::trim) {
            None | Some("") => 0,
            Some(raw) => {
                gmt_offset(raw).ok_or_else(|| format!("unparseable gmt-offset {raw:?}"))?
            }
        };
        Ok(Self { local, gmt_offset })
    }
}

/// A GMT offset in seconds: `+01:00`, `-05:00`, `+05:30`, `+0100`, or a plain
/// number of seconds (`3600`, `-18000`).
fn gmt_offset(text: &str) -> Option<i64> {
    let text = text.trim();
    let (sign, rest) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let number = |digits: &str| -> Option<i64> {
        let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        all_digits.then(|| digits.parse().ok()).flatten()
    };
    let hours_minutes = |h: &str, m: &str| -> Option<i64> {
        let (h, m) = (number(h)?, number(m)?);
        (m < 60).then_some(h * 3_600 + m * 60)
    };
    let seconds = if let Some((h, m)) = rest.split_once(':') {
        hours_minutes(h, m)?
    } else if rest.len() == 4 && rest.len() < text.len() {
        // `+0100`: a signed four-digit offset.
        hours_minutes(&rest[..2], &rest[2..])?
    } else {
        number(rest)?
    };
    // Real offsets lie within -12:00..+14:00.
    (seconds <= 15 * 3_600).then_some(sign * seconds)
}

/// Converts the certificate rows into families (pure, unit-tested on fixtures).
fn build(certificates: &[Row], clock: RouterClock) -> Vec<Family> {
    let mut days = Family::new(&DAYS);
    let mut expiry = Family::new(&EXPIRY);
    for cert in certificates {
        let name = cert.text("name").unwrap_or_default().into_owned();
        let raw = cert.str("invalid-after").unwrap_or_default();
        let Some(after) = parse::datetime(raw) else {
            tracing::debug!(name, raw, "certificate invalid-after does not parse");
            continue;
        };
        let signed = cert
            .str("fingerprint")
            .is_some_and(|f| !f.trim().is_empty());
        if after <= 0 || !signed {
            tracing::debug!(name, raw, "skipping unsigned certificate template");
            continue;
        }
        let labels = vec![
            name,
            cert.text("common-name").unwrap_or_default().into_owned(),
        ];
        let left = (after - clock.local) as f64 / 86_400.0;
        days.push(labels.clone(), Value::Float(left));
        expiry.push(labels, Value::Signed(clock.unix(after)));
    }
    vec![days, expiry]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::family::samples_named;
    use crate::collect::fixture::assert_no_duplicate_series;
    use crate::collect::fixture::rows;

    /// 2026-03-01 12:00:00.
    const NOW: i64 = 1_772_366_400;
    /// 2027-01-02 12:00:00.
    const CA_AFTER: i64 = 1_798_891_200;

    fn samples(families: &[Family], name: &str) -> Vec<(Vec<String>, f64)> {
        samples_named(families, name)
            .map(|s| (s.label_strings(), s.value.as_f64()))
            .collect()
    }

    const V7: &str = "
        name=local-ca  common-name=Example CA  invalid-after=2027-01-02 12:00:00  fingerprint=ad9b32
        name=old-vpn-server  common-name=vpn.example.net  invalid-after=2026-01-20 12:27:17  fingerprint=2561aa
        name=server-template  common-name=server.example.net  invalid-after=1970-01-01 00:00:00
        name=broken  common-name=x  invalid-after=someday  fingerprint=00
    ";
    const V6: &str = "
        name=local-ca  common-name=Example CA  invalid-after=jan/02/2027 12:00:00  fingerprint=ad9b32
        name=old-vpn-server  common-name=vpn.example.net  invalid-after=jan/20/2026 12:27:17  fingerprint=2561aa
        name=server-template  common-name=server.example.net  invalid-after=jan/01/1970 00:00:00
        name=broken  common-name=x  invalid-after=someday  fingerprint=00
    ";

    #[test]
    fn v6_and_v7_dates_give_the_same_values() {
        let utc = RouterClock::utc(NOW);
        let (f6, f7) = (build(&rows(V6), utc), build(&rows(V7), utc));
        assert_eq!(f6, f7);
        let days = samples(&f7, "mikrotik_certificate_days_until_expiry");
        assert_eq!(days.len(), 2, "template and unparseable row skipped");
        assert_eq!(days[0].0, ["local-ca", "Example CA"]);
        assert_eq!(days[0].1, (CA_AFTER - NOW) as f64 / 86_400.0);
        assert_eq!(days[0].1, 307.0);
        // Expired 40 days before now, plus 27m17s: negative, and the time counts.
        let expected = -40.0 + (27.0 * 60.0 + 17.0) / 86_400.0;
        assert!((days[1].1 - expected).abs() < 1e-9, "{}", days[1].1);
        let expiry = samples(&f7, "mikrotik_certificate_expiry_timestamp_seconds");
        assert_eq!(expiry[0].1, CA_AFTER as f64);
        assert!(
            samples(&f6, "mikrotik_certificate_days_until_expiry")
                .iter()
                .all(|(l, _)| l[0] != "server-template" && l[0] != "broken")
        );
    }

    #[test]
    fn router_clock_with_offset() {
        // The router runs at UTC+01:00 and reads 13:00 when UTC is 12:00.
        let clock =
            RouterClock::from_row(&rows("time=13:00:00  date=mar/01/2026  gmt-offset=+01:00")[0])
                .unwrap();
        assert_eq!(clock.local, NOW + 3_600);
        assert_eq!(clock.gmt_offset, 3_600);
        let f = build(&rows(V7), clock);
        let days = samples(&f, "mikrotik_certificate_days_until_expiry");
        // Local 2027-01-02 12:00 is UTC 11:00: one hour less than at UTC.
        assert_eq!(days[0].1, ((CA_AFTER - NOW) as f64 - 3_600.0) / 86_400.0);
        let expiry = samples(&f, "mikrotik_certificate_expiry_timestamp_seconds");
        assert_eq!(expiry[0].1, (CA_AFTER - 3_600) as f64);

        let v7 =
            RouterClock::from_row(&rows("time=07:00:00  date=2026-03-01  gmt-offset=-05:00")[0])
                .unwrap();
        assert_eq!(v7.local, NOW - 5 * 3_600);
        assert_eq!(v7.gmt_offset, -5 * 3_600);
        let f = build(&rows(V7), v7);
        let expiry = samples(&f, "mikrotik_certificate_expiry_timestamp_seconds");
        assert_eq!(expiry[0].1, (CA_AFTER + 5 * 3_600) as f64);
    }

    #[test]
    fn clock_without_offset_is_utc_and_bad_clocks_are_errors() {
        let clock = RouterClock::from_row(&rows("time=12:00:00  date=2026-03-01")[0]).unwrap();
        assert_eq!(clock, RouterClock::utc(NOW));
        for bad in [
            "time=12:00:00",
            "date=2026-03-01",
            "time=noon  date=2026-03-01",
            "time=12:00:00  date=2026-03-01  gmt-offset=CET",
        ] {
            assert!(RouterClock::from_row(&rows(bad)[0]).is_err(), "{bad}");
        }
    }

    #[test]
    fn gmt_offsets() {
        assert_eq!(gmt_offset("+01:00"), Some(3_600));
        assert_eq!(gmt_offset("-05:00"), Some(-18_000));
        assert_eq!(gmt_offset("+05:30"), Some(19_800));
        assert_eq!(gmt_offset("+00:00"), Some(0));
        assert_eq!(gmt_offset("+0100"), Some(3_600));
        assert_eq!(gmt_offset("-0930"), Some(-34_200));
        assert_eq!(gmt_offset("3600"), Some(3_600));
        assert_eq!(gmt_offset("-18000"), Some(-18_000));
        for bad in ["", "+", "CET", "+1:99", "+99:00", "1:2:3:4", "+01:00:30"] {
            assert_eq!(gmt_offset(bad), None, "{bad}");
        }
    }

    #[test]
    fn no_duplicate_series_on_simulator_data() {
        use routeros_sim::menus::registry;
        use routeros_sim::menus::testkit::{Fixture, NOW as SIM_NOW};
        let menu = registry()
            .into_iter()
            .find(|m| m.path() == "/certificate")
            .expect("certificate menu");
        for mut f in [Fixture::v6(), Fixture::v7()] {
            f.scale.certificates = 12;
            let certs: Vec<Row> = menu
                .rows(&f.view(2, 100))
                .into_iter()
                .map(Row::from_pairs)
                .collect();
            let families = build(&certs, RouterClock::utc(SIM_NOW));
            assert_no_duplicate_series(&families);
            for family in &families {
                assert_eq!(family.samples.len(), certs.len() - 1, "template skipped");
            }
            let days = samples(&families, "mikrotik_certificate_days_until_expiry");
            assert_eq!(days.iter().filter(|(_, d)| *d < 0.0).count(), 1);
        }
    }
}
