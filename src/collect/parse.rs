//! Parsing RouterOS value formats defensively.
//!
//! Every API value is a string, and formats drift across versions: durations come
//! as `1w2d3h4m5s`, `53m10s720ms`, `9ms445us` or v6 clock style `1d22:36:21`;
//! dates as `2027-01-02 12:00:00` (7.10+) or `jan/02/2027 12:00:00` (older);
//! booleans as `true`/`false` or `yes`/`no`; IP pools as address ranges
//! (`10.0.0.10-10.0.0.250,10.0.1.0/24`) or an IPv6 prefix cut into delegated
//! prefixes. Each parser returns `None` on anything odd so a caller drops one
//! sample, never the group.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// Parses a RouterOS duration. `never`, `infinity` and empty give `None`.
pub fn duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() || text == "never" || text == "infinity" {
        return None;
    }
    if text.contains(':') {
        return clock_duration(text);
    }
    let bytes = text.as_bytes();
    let mut total_us: u128 = 0;
    let mut i = 0;
    let mut any = false;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        if start == i {
            return None;
        }
        let number: f64 = text[start..i].parse().ok()?;
        let unit_start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit_us: f64 = match &text[unit_start..i] {
            "w" => 7.0 * 86_400e6,
            "d" => 86_400e6,
            "h" => 3_600e6,
            "m" => 60e6,
            "s" | "" => 1e6,
            "ms" => 1e3,
            "us" => 1.0,
            _ => return None,
        };
        // `as` saturates, and so does the sum: an absurd value is huge, never
        // a panic.
        total_us = total_us.saturating_add((number * unit_us).round() as u128);
        any = true;
    }
    any.then(|| Duration::from_micros(u64::try_from(total_us).unwrap_or(u64::MAX)))
}

/// `1d22:36:21`, `14:40:26`, `2d09:29:51`, `01:22:53`.
fn clock_duration(text: &str) -> Option<Duration> {
    let (days, clock) = match text.split_once('d') {
        Some((d, rest)) => (d.parse::<u64>().ok()?, rest),
        None => (0, text),
    };
    let mut parts = clock.split(':');
    let h: u64 = parts.next()?.parse().ok()?;
    let m: u64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || m >= 60 || !(0.0..60.0).contains(&s) {
        return None;
    }
    // Checked: a day count of 20 digits overflows seconds.
    let whole = days
        .checked_mul(86_400)?
        .checked_add(h.checked_mul(3_600)?)?
        .checked_add(m * 60)?;
    Duration::from_secs(whole).checked_add(Duration::from_secs_f64(s))
}

/// Parses a RouterOS date-time in either format into seconds since the Unix
/// epoch, reading the router's local time as UTC (RouterOS sends no zone).
pub fn datetime(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, time) = text.split_once(' ').unwrap_or((text, "00:00:00"));
    let (year, month, day) = if date.contains('/') {
        let mut p = date.split('/');
        let month = month_number(p.next()?)?;
        let day: u32 = p.next()?.parse().ok()?;
        let year: i64 = p.next()?.parse().ok()?;
        (year, month, day)
    } else {
        let mut p = date.split('-');
        let year: i64 = p.next()?.parse().ok()?;
        let month: u32 = p.next()?.parse().ok()?;
        let day: u32 = p.next()?.parse().ok()?;
        (year, month, day)
    };
    // Years beyond four digits are no router's clock (and would overflow the
    // day arithmetic).
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || !(0..=9999).contains(&year) {
        return None;
    }
    let mut t = time.trim().split(':');
    let h: i64 = t.next()?.parse().ok()?;
    let m: i64 = t.next()?.parse().ok()?;
    let s: i64 = t.next().unwrap_or("0").parse().ok()?;
    if !(0..24).contains(&h) || !(0..60).contains(&m) || !(0..61).contains(&s) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3_600 + m * 60 + s)
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = name.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| *m == lower)
        .map(|i| i as u32 + 1)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `true`/`yes` → true, `false`/`no` → false, anything else `None`.
pub fn boolean(text: &str) -> Option<bool> {
    match text.trim() {
        "true" | "yes" => Some(true),
        "false" | "no" => Some(false),
        _ => None,
    }
}

/// An unsigned integer (counters, sizes).
pub fn unsigned(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// A floating-point number (loads, temperatures, voltages).
pub fn float(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// An MTU: a number, or `None` for `auto`.
pub fn mtu(text: &str) -> Option<u64> {
    match text.trim() {
        "auto" => None,
        t => unsigned(t),
    }
}

/// A rate such as `1Gbps`, `2.5Gbps`, `100Mbps`, `65Mbps-20MHz/1S` in bits per
/// second (the part before any `-` qualifier); also a queue limit written
/// with a bare suffix (`512k`, `10M`, `1G`) or as plain bits per second.
pub fn rate_bps(text: &str) -> Option<f64> {
    let head = text.trim().split(['-', '@']).next()?;
    let number_end = head
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(head.len());
    let value: f64 = head[..number_end].parse().ok()?;
    let scale = match &head[number_end..] {
        "" | "bps" => 1.0,
        "k" | "K" | "kbps" | "Kbps" => 1e3,
        "M" | "Mbps" => 1e6,
        "G" | "Gbps" => 1e9,
        "T" | "Tbps" => 1e12,
        _ => return None,
    };
    Some(value * scale).filter(|v| v.is_finite())
}

/// A size such as `2048KiB`, `1.5MiB`, `512B` or `34k` in bytes (binary
/// multiples: RouterOS means 1024 by `k`, `KiB` and the like); a bare number
/// is in units of `bare` bytes (1024 for settings RouterOS keeps in KiB).
/// `None` for a negative number or an unknown unit.
pub fn size_bytes(text: &str, bare: u64) -> Option<u64> {
    let text = text.trim();
    let number_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let value = float(&text[..number_end])?;
    let scale = match text[number_end..].trim() {
        "" => bare,
        "B" => 1,
        "k" | "K" | "KiB" | "kiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "T" | "TiB" => 1 << 40,
        _ => return None,
    };
    Some((value * scale as f64).round() as u64)
}

/// What a bare number (no unit suffix) is measured in, for [`measure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bare {
    /// The unit itself (`54.2` volts).
    Unit,
    /// Thousandths of the unit (`449` milliamperes, as PoE currents come).
    Milli,
}

/// A measurement that RouterOS may send with or without its unit: `54.2V` or
/// `54.2`, `449mA` or `449`, `-67dBm` or `-67`, `-9 dB`, in `unit` (`V`, `A`,
/// `W`, `dBm`, `dB`, `C`, `nm`; compared without case). A suffix of `m` or `k`
/// plus the unit is scaled (`449mA` is 0.449 A); a bare number is read as
/// `bare` says. Any other suffix gives `None`, so a `dBm` value is never read
/// as `dB`. RouterOS keeps the CLI's unit on some values over the API and drops
/// it on others, differently across versions.
pub fn measure(text: &str, unit: &str, bare: Bare) -> Option<f64> {
    let text = text.trim();
    let number_end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && matches!(c, '-' | '+'))))
        .map_or(text.len(), |(i, _)| i);
    let value = float(&text[..number_end])?;
    let milli = match text[number_end..].trim() {
        "" => bare == Bare::Milli,
        suffix if suffix.eq_ignore_ascii_case(unit) => false,
        suffix => match suffix.strip_suffix(unit)? {
            "m" => true,
            "k" => return Some(value * 1e3),
            _ => return None,
        },
    };
    Some(if milli { value / 1e3 } else { value })
}

/// The number of addresses in an IPv4 pool's `ranges`: a comma-separated list
/// of inclusive ranges (`10.0.0.10-10.0.0.250`), prefixes (`10.0.1.0/24`, every
/// address of it, as RouterOS hands them all out) and single addresses. `None`
/// when the list is empty or any part is odd (a reversed range, a non-address):
/// a size that leaves out a part would understate the pool.
pub fn ipv4_ranges_size(text: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let mut any = false;
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        total = total.checked_add(ipv4_range_size(part)?)?;
        any = true;
    }
    any.then_some(total)
}

/// The size of one part of [`ipv4_ranges_size`].
fn ipv4_range_size(part: &str) -> Option<u64> {
    let address = |text: &str| text.trim().parse::<Ipv4Addr>().ok().map(u32::from);
    if let Some((first, last)) = part.split_once('-') {
        let (first, last) = (address(first)?, address(last)?);
        return (last >= first).then(|| u64::from(last - first) + 1);
    }
    if let Some((network, length)) = part.split_once('/') {
        address(network)?;
        let length: u32 = length.trim().parse().ok()?;
        return (length <= 32).then(|| 1u64 << (32 - length));
    }
    address(part).map(|_| 1)
}

/// The number of prefixes an IPv6 pool hands out: its `prefix`
/// (`2001:db8:100::/48`) cut into prefixes of `prefix-length` (`56`), i.e.
/// 2^(56 − 48). A float, exact for every power of two, because a pool can hold
/// more than 2^64 prefixes. `None` when either value is odd or the pool's
/// prefix is longer than the prefixes it hands out.
pub fn ipv6_pool_prefixes(prefix: &str, prefix_length: &str) -> Option<f64> {
    let (network, length) = prefix.trim().split_once('/')?;
    network.trim().parse::<Ipv6Addr>().ok()?;
    let length: i32 = length.trim().parse().ok()?;
    let handed_out: i32 = prefix_length.trim().parse().ok()?;
    if !(0..=128).contains(&length) || !(length..=128).contains(&handed_out) {
        return None;
    }
    Some(2f64.powi(handed_out - length))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_limits_with_and_without_a_suffix() {
        assert_eq!(rate_bps("10M"), Some(10e6));
        assert_eq!(rate_bps("1G"), Some(1e9));
        assert_eq!(rate_bps("512k"), Some(512e3));
        assert_eq!(rate_bps("1.5M"), Some(1.5e6));
        assert_eq!(rate_bps("10000000"), Some(10e6));
        assert_eq!(rate_bps("0"), Some(0.0));
        assert_eq!(rate_bps("10X"), None);
        assert_eq!(rate_bps(""), None);
    }

    fn secs(text: &str) -> Option<f64> {
        duration(text).map(|d| d.as_secs_f64())
    }

    #[test]
    fn unit_durations() {
        assert_eq!(
            secs("1w2d3h4m5s"),
            Some((9 * 86_400 + 3 * 3_600 + 4 * 60 + 5) as f64)
        );
        assert_eq!(secs("15w3d3h42m53s"), Some(9_344_573.0));
        assert_eq!(secs("53m10s720ms"), Some(3_190.72));
        assert_eq!(secs("9ms445us"), Some(0.009445));
        assert_eq!(secs("4s750ms"), Some(4.75));
        assert_eq!(secs("0s"), Some(0.0));
        assert_eq!(secs("3m"), Some(180.0));
        assert_eq!(secs("1d"), Some(86_400.0));
        assert_eq!(secs("1.5s"), Some(1.5));
    }

    #[test]
    fn clock_durations() {
        assert_eq!(
            secs("1d22:36:21"),
            Some((86_400 + 22 * 3_600 + 36 * 60 + 21) as f64)
        );
        assert_eq!(secs("14:40:26"), Some((14 * 3_600 + 40 * 60 + 26) as f64));
        assert_eq!(
            secs("2d09:29:51"),
            Some((2 * 86_400 + 9 * 3_600 + 29 * 60 + 51) as f64)
        );
        assert_eq!(secs("01:22:53"), Some(4_973.0));
    }

    #[test]
    fn odd_durations_are_none() {
        for text in [
            "never", "infinity", "", "abc", "5x", "1:2", "10:99:00", "m5",
        ] {
            assert_eq!(duration(text), None, "{text}");
        }
    }

    #[test]
    fn absurd_values_never_panic() {
        // Found by the property tests below: sums, products and years that
        // overflow.
        assert_eq!(
            duration("1w1000000000000000000000000000w"),
            Some(Duration::from_micros(u64::MAX))
        );
        assert_eq!(duration("999999999999999999d00:00:00"), None);
        assert_eq!(duration("1d999999999999999999:00:00"), None);
        assert_eq!(datetime("9223372036854775807-01-01 00:00:00"), None);
        assert_eq!(datetime("jan/01/-9223372036854775807 00:00:00"), None);
        let digits = "9".repeat(400);
        assert_eq!(rate_bps(&format!("{digits}Gbps")), None);
        assert_eq!(size_bytes(&format!("{digits}KiB"), 1), None);
    }

    #[test]
    fn both_date_formats() {
        let v7 = datetime("2027-01-02 12:00:00").unwrap();
        let v6 = datetime("jan/02/2027 12:00:00").unwrap();
        assert_eq!(v7, v6);
        assert_eq!(v7, 1_798_891_200);
        assert_eq!(datetime("Jul/19/2022 11:25:54"), Some(1_658_229_954));
        assert_eq!(datetime("1970-01-01 00:00:00"), Some(0));
        assert_eq!(datetime("dec/18/2018 03:57:48"), Some(1_545_105_468));
        for bad in [
            "",
            "2027-13-01 00:00:00",
            "foo/02/2027 12:00:00",
            "2027-01-02 25:00:00",
        ] {
            assert_eq!(datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn booleans_numbers_mtu_rates() {
        assert_eq!(boolean("yes"), Some(true));
        assert_eq!(boolean("false"), Some(false));
        assert_eq!(boolean("auto"), None);
        assert_eq!(unsigned("1207999420435"), Some(1_207_999_420_435));
        assert_eq!(unsigned("-1"), None);
        assert_eq!(float("23.9"), Some(23.9));
        assert_eq!(float("NaN"), None);
        assert_eq!(mtu("auto"), None);
        assert_eq!(mtu("1500"), Some(1500));
        assert_eq!(rate_bps("1Gbps"), Some(1e9));
        assert_eq!(rate_bps("2.5Gbps"), Some(2.5e9));
        assert_eq!(rate_bps("65Mbps-20MHz/1S"), Some(65e6));
        assert_eq!(rate_bps("fast"), None);
        assert_eq!(rate_bps("10Gbps"), Some(10e9));
        assert_eq!(rate_bps("100Gbps"), Some(100e9));
        assert_eq!(rate_bps("10Mbps"), Some(10e6));
    }

    #[test]
    fn measures_with_and_without_units() {
        assert_eq!(measure("54.2V", "V", Bare::Unit), Some(54.2));
        assert_eq!(measure("54.2", "V", Bare::Unit), Some(54.2));
        assert_eq!(measure("449mA", "A", Bare::Milli), Some(0.449));
        assert_eq!(measure("449", "A", Bare::Milli), Some(0.449));
        assert_eq!(measure("1.2A", "A", Bare::Milli), Some(1.2));
        assert_eq!(measure("24.3W", "W", Bare::Unit), Some(24.3));
        assert_eq!(measure("-67dBm", "dBm", Bare::Unit), Some(-67.0));
        assert_eq!(measure(" -9 dB", "dB", Bare::Unit), Some(-9.0));
        assert_eq!(measure("+3dB", "dB", Bare::Unit), Some(3.0));
        assert_eq!(measure("2kW", "W", Bare::Unit), Some(2000.0));
        assert_eq!(measure("38C", "C", Bare::Unit), Some(38.0));
        assert_eq!(measure("-4.3 dbm", "dBm", Bare::Unit), Some(-4.3));
        assert_eq!(measure("1310nm", "nm", Bare::Unit), Some(1310.0));
        assert_eq!(measure("100%", "%", Bare::Unit), Some(100.0));
        assert_eq!(measure("91", "%", Bare::Unit), Some(91.0));
        assert_eq!(measure("-51dB", "dBm", Bare::Unit), None);
        // A multi-byte character where the unit would start is no panic.
        assert_eq!(measure("3é", "mA", Bare::Unit), None);
        for (text, unit) in [
            ("-67dBm", "dB"),
            ("54.2V", "A"),
            ("", "V"),
            ("V", "V"),
            ("5-3", "V"),
            ("1.2.3V", "V"),
            ("NaN", "V"),
            ("38F", "C"),
            ("38CC", "C"),
            ("hot", "C"),
        ] {
            assert_eq!(measure(text, unit, Bare::Unit), None, "{text} in {unit}");
        }
    }

    #[test]
    fn ipv4_pool_ranges() {
        assert_eq!(ipv4_ranges_size("10.0.0.10-10.0.0.250"), Some(241));
        assert_eq!(
            ipv4_ranges_size("10.0.0.10-10.0.0.250,10.0.1.0/24"),
            Some(241 + 256)
        );
        assert_eq!(ipv4_ranges_size("192.168.88.5"), Some(1));
        assert_eq!(
            ipv4_ranges_size(" 10.0.0.1 - 10.0.0.2 , 10.1.0.0/31 "),
            Some(4)
        );
        assert_eq!(ipv4_ranges_size("0.0.0.0/0"), Some(1 << 32));
        assert_eq!(ipv4_ranges_size("10.0.0.0/32"), Some(1));
        for odd in [
            "",
            "10.0.0.250-10.0.0.10",
            "10.0.0.1-",
            "pool",
            "10.0.0.0/33",
            "10.0.0.0/x",
            "10.0.0.1-10.0.0.5,garbage",
            "2001:db8::1-2001:db8::5",
        ] {
            assert_eq!(ipv4_ranges_size(odd), None, "{odd}");
        }
    }

    #[test]
    fn ipv6_pool_sizes_in_prefixes() {
        assert_eq!(ipv6_pool_prefixes("2001:db8:100::/48", "56"), Some(256.0));
        assert_eq!(ipv6_pool_prefixes("2001:db8::/64", "64"), Some(1.0));
        assert_eq!(ipv6_pool_prefixes("::/0", "128"), Some(2f64.powi(128)));
        for (prefix, length) in [
            ("2001:db8::/64", "48"),
            ("2001:db8::", "64"),
            ("2001:db8::/129", "130"),
            ("garbage/48", "64"),
            ("2001:db8::/48", ""),
        ] {
            assert_eq!(
                ipv6_pool_prefixes(prefix, length),
                None,
                "{prefix} {length}"
            );
        }
    }

    /// Property tests: no input makes a parser panic, and values written the
    /// way RouterOS writes them read back exactly (or within float rounding).
    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// The inverse of [`days_from_civil`] (Howard Hinnant's
        /// `civil_from_days`), to write dates for the round trip.
        fn civil_from_days(days: i64) -> (i64, u32, u32) {
            let z = days + 719_468;
            let era = z.div_euclid(146_097);
            let doe = z - era * 146_097;
            let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
            let mp = (5 * doy + 2) / 153;
            let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
            let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
            let year = yoe + era * 400 + i64::from(month <= 2);
            (year, month, day)
        }

        const MONTHS: [&str; 12] = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];

        /// Text made of what RouterOS values are made of, numbers of any
        /// length included (they overflow naive arithmetic).
        fn value_like() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<String>(),
                "[0-9]{0,30}(\\.[0-9]{0,5})?[a-zA-Z%@:/ .-]{0,4}([0-9]{0,25}[a-z:]{0,3}){0,4}",
                "([0-9]{1,30}(\\.[0-9]{1,3})?(w|d|h|m|s|ms|us)){1,5}",
                "[0-9]{1,25}d[0-9]{1,25}:[0-9]{1,25}:[0-9]{1,25}(\\.[0-9]{0,5})?",
                "[a-zA-Z]{3}/[0-9]{1,25}/-?[0-9]{1,25} [0-9]{1,4}:[0-9]{1,4}:[0-9]{1,4}",
                "-?[0-9]{1,25}-[0-9]{1,25}-[0-9]{1,25}( [0-9]{1,3}:[0-9]{1,3}(:[0-9]{1,3})?)?",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn no_value_makes_a_parser_panic(text in value_like()) {
                let _ = duration(&text);
                let _ = datetime(&text);
                let _ = boolean(&text);
                let _ = unsigned(&text);
                let _ = float(&text);
                let _ = mtu(&text);
                prop_assert!(rate_bps(&text).is_none_or(f64::is_finite), "{text}");
                let _ = size_bytes(&text, 1024);
                for unit in ["V", "A", "W", "dBm", "dB", "C", "nm", "%"] {
                    for bare in [Bare::Unit, Bare::Milli] {
                        prop_assert!(measure(&text, unit, bare).is_none_or(f64::is_finite));
                    }
                }
                let _ = ipv4_ranges_size(&text);
                let _ = ipv6_pool_prefixes(&text, &text);
                let _ = ipv6_pool_prefixes(&text, "64");
            }

            #[test]
            fn unit_durations_round_trip(
                parts in proptest::collection::vec(0u64..100_000, 7),
                skip in proptest::collection::vec(any::<bool>(), 7),
            ) {
                // w d h m s ms us, each part present or not (at least one).
                let units = ["w", "d", "h", "m", "s", "ms", "us"];
                let micros = [604_800_000_000u64, 86_400_000_000, 3_600_000_000, 60_000_000, 1_000_000, 1_000, 1];
                let mut text = String::new();
                let mut total = 0u64;
                for i in 0..7 {
                    if skip[i] && !(i == 6 && text.is_empty()) {
                        continue;
                    }
                    text.push_str(&format!("{}{}", parts[i], units[i]));
                    total += parts[i] * micros[i];
                }
                prop_assert_eq!(duration(&text), Some(Duration::from_micros(total)), "{}", text);
            }

            #[test]
            fn clock_durations_round_trip(
                days in proptest::option::of(0u64..10_000),
                h in 0u64..24, m in 0u64..60, s in 0u64..60,
            ) {
                let clock = format!("{h:02}:{m:02}:{s:02}");
                let text = match days {
                    Some(d) => format!("{d}d{clock}"),
                    None => clock,
                };
                let expected = days.unwrap_or(0) * 86_400 + h * 3_600 + m * 60 + s;
                prop_assert_eq!(duration(&text), Some(Duration::from_secs(expected)), "{}", text);
            }

            #[test]
            fn dates_round_trip_in_both_formats(epoch in 0i64..4_102_444_800) {
                let (year, month, day) = civil_from_days(epoch.div_euclid(86_400));
                let secs = epoch.rem_euclid(86_400);
                let time = format!("{:02}:{:02}:{:02}", secs / 3_600, secs / 60 % 60, secs % 60);
                let name = MONTHS[month as usize - 1];
                let capitalised = format!("{}{}", name[..1].to_uppercase(), &name[1..]);
                for text in [
                    format!("{year:04}-{month:02}-{day:02} {time}"),
                    format!("{name}/{day:02}/{year:04} {time}"),
                    format!("{capitalised}/{day:02}/{year:04} {time}"),
                ] {
                    prop_assert_eq!(datetime(&text), Some(epoch), "{}", text);
                }
            }

            #[test]
            fn rates_round_trip(whole in 0u64..100_000, tenths in 0u64..10, unit in 0usize..5) {
                let (suffix, scale) = [("bps", 1.0), ("kbps", 1e3), ("Mbps", 1e6), ("Gbps", 1e9), ("M", 1e6)][unit];
                let text = format!("{whole}.{tenths}{suffix}");
                let expected = (whole as f64 + tenths as f64 / 10.0) * scale;
                let got = rate_bps(&text).unwrap_or(f64::NAN);
                prop_assert!((got - expected).abs() <= expected * 1e-12, "{} -> {}", text, got);
            }

            #[test]
            fn sizes_and_measures_round_trip(n in 0u64..1_000_000, hundredths in -100_000i64..100_000) {
                for (suffix, scale) in [("B", 1u64), ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30)] {
                    prop_assert_eq!(size_bytes(&format!("{n}{suffix}"), 1), Some(n * scale));
                }
                let value = hundredths as f64 / 100.0;
                for unit in ["V", "dBm", "dB", "W"] {
                    let got = measure(&format!("{value}{unit}"), unit, Bare::Unit);
                    prop_assert_eq!(got, Some(value), "{}{}", value, unit);
                }
                let milli = measure(&format!("{hundredths}mA"), "A", Bare::Unit);
                prop_assert!(milli.is_some_and(|a| (a - hundredths as f64 / 1e3).abs() < 1e-12));
            }

            #[test]
            fn numbers_round_trip(n in any::<u64>(), x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
                prop_assert_eq!(unsigned(&n.to_string()), Some(n));
                prop_assert_eq!(float(&x.to_string()), Some(x));
            }
        }
    }

    #[test]
    fn sizes_with_and_without_units() {
        assert_eq!(size_bytes("2048KiB", 1024), Some(2_097_152));
        assert_eq!(size_bytes("2048", 1024), Some(2_097_152));
        assert_eq!(size_bytes(" 34 KiB ", 1), Some(34_816));
        assert_eq!(size_bytes("1.5MiB", 1), Some(1_572_864));
        assert_eq!(size_bytes("512B", 1024), Some(512));
        assert_eq!(size_bytes("2G", 1), Some(1 << 31));
        assert_eq!(size_bytes("0", 1024), Some(0));
        for odd in ["", "KiB", "-5KiB", "12 parsecs", "1.2.3"] {
            assert_eq!(size_bytes(odd, 1024), None, "{odd}");
        }
    }
}
