//! RouterOS value formats shared by the menus: durations, dates, booleans,
//! `.id`s and the CP1251 code page WinBox writes comments in.

use crate::personality::Personality;
use std::fmt::Write as _;
use std::time::Duration;

/// Formats a duration the way RouterOS does: largest unit weeks, zero units
/// omitted (`1w2d3h4m5s`, `3m`, `0s`), with a millisecond part when the
/// duration has one (`53m10s720ms`).
pub fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    let ms = d.subsec_millis();
    if secs == 0 && ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    let units = [
        (secs / 604_800, 'w'),
        (secs / 86_400 % 7, 'd'),
        (secs / 3_600 % 24, 'h'),
        (secs / 60 % 60, 'm'),
        (secs % 60, 's'),
    ];
    for (n, unit) in units {
        if n > 0 {
            let _ = write!(out, "{n}{unit}");
        }
    }
    if ms > 0 {
        let _ = write!(out, "{ms}ms");
    }
    out
}

/// Shorthand for [`duration`] of whole seconds.
pub fn secs(s: u64) -> String {
    duration(Duration::from_secs(s))
}

/// Whole seconds in the clock style some RouterOS 6 durations use: `14:40:26`
/// under a day, `1d02:15:30` from a day on (days never grow into weeks).
pub fn clock(s: u64) -> String {
    let (days, h, m, sec) = (s / 86_400, s / 3_600 % 24, s / 60 % 60, s % 60);
    if days > 0 {
        format!("{days}d{h:02}:{m:02}:{sec:02}")
    } else {
        format!("{h:02}:{m:02}:{sec:02}")
    }
}

/// A session's uptime in the style of `personality`: clock style on
/// RouterOS 6 (`1d02:15:30`), units on 7 (`44m55s`).
pub fn session_uptime(s: u64, personality: &Personality) -> String {
    if personality.is_v7() {
        secs(s)
    } else {
        clock(s)
    }
}

/// How a date is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateStyle {
    /// `2025-11-27 08:17:04` (RouterOS ~7.10 and later).
    Iso,
    /// `dec/18/2018 03:57:48` (RouterOS 6 and early 7).
    Lower,
    /// `Jul/19/2022 11:25:54` (`build-time` before ~7.10).
    Capital,
}

impl DateStyle {
    /// The style of ordinary date properties for a personality.
    pub fn of(p: &Personality) -> Self {
        if p.iso_dates() {
            Self::Iso
        } else {
            Self::Lower
        }
    }

    /// The style of `build-time` for a personality (capitalised month before ~7.10).
    pub fn build_time(p: &Personality) -> Self {
        if p.iso_dates() {
            Self::Iso
        } else {
            Self::Capital
        }
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Year, month (1–12) and day (1–31) of a day count since 1970-01-01
/// (H. Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // `month` is 1..=12 and `day` 1..=31 by construction.
    (year, month as u32, day as u32)
}

/// Days since 1970-01-01 of a civil date (inverse of [`civil_from_days`]).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let m = i64::from(month);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix seconds of a civil date and time (router local time, no zone).
pub fn unix_of(year: i64, month: u32, day: u32, hms: (u32, u32, u32)) -> i64 {
    days_from_civil(year, month, day) * 86_400
        + i64::from(hms.0) * 3_600
        + i64::from(hms.1) * 60
        + i64::from(hms.2)
}

/// Formats unix seconds as a RouterOS date in `style`.
pub fn date(unix: i64, style: DateStyle) -> String {
    let (y, mo, d) = civil_from_days(unix.div_euclid(86_400));
    let sod = unix.rem_euclid(86_400);
    let (h, mi, s) = (sod / 3_600, sod / 60 % 60, sod % 60);
    let mon = MONTHS[(mo as usize).saturating_sub(1) % 12];
    match style {
        DateStyle::Iso => format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"),
        DateStyle::Lower => format!("{mon}/{d:02}/{y:04} {h:02}:{mi:02}:{s:02}"),
        DateStyle::Capital => {
            let mut cap = mon.to_owned();
            cap[..1].make_ascii_uppercase();
            format!("{cap}/{d:02}/{y:04} {h:02}:{mi:02}:{s:02}")
        }
    }
}

/// A RouterOS API boolean.
pub fn boolean(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// An item id: `*` and upper-case hex (`*1`, `*1B59`).
pub fn id(n: u64) -> String {
    format!("*{n:X}")
}

/// Encodes text in Windows-1251 (Cyrillic), as WinBox on a Russian PC would
/// store it. Characters outside ASCII and Cyrillic become `?`.
pub fn cp1251(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            c if c.is_ascii() => c as u8,
            // А..я map contiguously onto 0xC0..0xFF.
            'А'..='я' => (u32::from(c) - 0x410 + 0xC0) as u8,
            'Ё' => 0xA8,
            'ё' => 0xB8,
            '№' => 0xB9,
            _ => b'?',
        })
        .collect()
}

/// Upper-case MAC address from six bytes.
pub fn mac(bytes: [u8; 6]) -> String {
    let [a, b, c, d, e, f] = bytes;
    format!("{a:02X}:{b:02X}:{c:02X}:{d:02X}:{e:02X}:{f:02X}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_routeros_units() {
        assert_eq!(secs(0), "0s");
        assert_eq!(secs(10), "10s");
        assert_eq!(secs(180), "3m");
        assert_eq!(secs(86_400), "1d");
        assert_eq!(secs(4_360), "1h12m40s");
        assert_eq!(
            secs(604_800 + 2 * 86_400 + 3 * 3_600 + 4 * 60 + 5),
            "1w2d3h4m5s"
        );
        assert_eq!(secs(15 * 604_800 + 3 * 86_400), "15w3d");
        assert_eq!(duration(Duration::from_millis(3_190_720)), "53m10s720ms");
        assert_eq!(duration(Duration::from_millis(9)), "9ms");
    }

    #[test]
    fn clock_durations_and_session_uptimes() {
        assert_eq!(clock(0), "00:00:00");
        assert_eq!(clock(14 * 3_600 + 40 * 60 + 26), "14:40:26");
        assert_eq!(clock(86_400 + 2 * 3_600 + 15 * 60 + 30), "1d02:15:30");
        assert_eq!(clock(15 * 86_400), "15d00:00:00");
        assert_eq!(session_uptime(2_695, &Personality::v7()), "44m55s");
        assert_eq!(session_uptime(2_695, &Personality::v6()), "00:44:55");
    }

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn dates_in_all_styles() {
        let t = unix_of(2018, 12, 18, (3, 57, 48));
        assert_eq!(date(t, DateStyle::Lower), "dec/18/2018 03:57:48");
        assert_eq!(date(t, DateStyle::Iso), "2018-12-18 03:57:48");
        let b = unix_of(2022, 7, 19, (11, 25, 54));
        assert_eq!(date(b, DateStyle::Capital), "Jul/19/2022 11:25:54");
        assert_eq!(date(0, DateStyle::Iso), "1970-01-01 00:00:00");
        assert_eq!(
            date(unix_of(2027, 1, 2, (12, 0, 0)), DateStyle::Lower),
            "jan/02/2027 12:00:00"
        );
    }

    #[test]
    fn date_style_follows_personality() {
        assert_eq!(DateStyle::of(&Personality::v6()), DateStyle::Lower);
        assert_eq!(
            DateStyle::build_time(&Personality::v6()),
            DateStyle::Capital
        );
        assert_eq!(DateStyle::of(&Personality::v7()), DateStyle::Iso);
        assert_eq!(DateStyle::build_time(&Personality::v7()), DateStyle::Iso);
    }

    #[test]
    fn small_helpers() {
        assert_eq!(boolean(true), "true");
        assert_eq!(boolean(false), "false");
        assert_eq!(id(0x1B59), "*1B59");
        assert_eq!(id(1), "*1");
        assert_eq!(
            mac([0xe4, 0x8d, 0x8c, 0x3f, 0x92, 0xa0]),
            "E4:8D:8C:3F:92:A0"
        );
    }

    #[test]
    fn cp1251_is_not_utf8() {
        let b = cp1251("апартамент");
        assert_eq!(
            b,
            [0xE0, 0xEF, 0xE0, 0xF0, 0xF2, 0xE0, 0xEC, 0xE5, 0xED, 0xF2]
        );
        assert!(std::str::from_utf8(&b).is_err());
        assert_eq!(cp1251("Ёж 1"), [0xA8, 0xE6, b' ', b'1']);
    }
}
