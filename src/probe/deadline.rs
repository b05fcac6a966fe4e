//! How long a probe may take.
//!
//! Prometheus tells us its scrape timeout in `X-Prometheus-Scrape-Timeout-Seconds`.
//! We finish `--timeout-offset` earlier so the response (with partial results and
//! the reasons for what is missing) arrives before Prometheus gives up. When the
//! header is at or below the offset, blackbox_exporter falls back to the module
//! timeout, which can exceed what Prometheus waits: we use a fraction of the
//! header instead, never more than Prometheus will wait.
//!
//! Whatever the header says, no deadline exceeds `global.max_timeout`: a
//! client asking for three years (`99999999`) would otherwise hold a
//! collection against a hung router, and its slots, for that long. Deadlines
//! are computed with checked arithmetic ([`after`]), so no header value can
//! overflow an `Instant`.

use crate::probe::clip;
use std::time::Duration;
use tokio::time::Instant;

/// Share of the scrape timeout used when it is no longer than the offset.
const SHORT_TIMEOUT_SHARE: f64 = 0.75;

/// Used by [`after`] when `now + timeout` does not fit an `Instant`: far
/// enough to be "never" for a probe, near enough to fit.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365);

/// A malformed `X-Prometheus-Scrape-Timeout-Seconds` header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid X-Prometheus-Scrape-Timeout-Seconds {}: expected a positive, finite number of seconds",
    clip(.0)
)]
pub struct BadTimeoutHeader(pub String);

/// Parses the header value (seconds, possibly fractional). A value too large
/// for a `Duration` (`1e20`) saturates: [`probe_timeout`] caps it anyway.
/// Infinity (also `1e309`, which parses as infinity), NaN, zero, negative
/// values and values below a nanosecond are errors.
pub fn parse_header(value: &str) -> Result<Duration, BadTimeoutHeader> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX))
        // `1e-300` is positive but rounds to no time at all.
        .filter(|d| !d.is_zero())
        .ok_or_else(|| BadTimeoutHeader(value.to_string()))
}

/// How long a probe may take: min(module timeout, header − offset); the
/// default when neither is given; a fraction of the header when it is ≤ the
/// offset; never more than `max`.
pub fn probe_timeout(
    header: Option<Duration>,
    offset: Duration,
    module_timeout: Option<Duration>,
    default: Duration,
    max: Duration,
) -> Duration {
    let from_header = header.map(|h| {
        if h > offset {
            h - offset
        } else {
            h.mul_f64(SHORT_TIMEOUT_SHARE)
        }
    });
    let timeout = match (from_header, module_timeout) {
        (Some(h), Some(m)) => h.min(m),
        (Some(h), None) => h,
        (None, Some(m)) => m,
        (None, None) => default,
    };
    timeout.min(max)
}

/// `now + timeout`, or a year from now when that does not fit an `Instant`
/// (or `now` itself, if even that does not): never a panic.
pub fn after(now: Instant, timeout: Duration) -> Instant {
    now.checked_add(timeout)
        .or_else(|| now.checked_add(FAR_FUTURE))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALF: Duration = Duration::from_millis(500);
    const TEN: Duration = Duration::from_secs(10);
    const MAX: Duration = Duration::from_secs(120);

    #[test]
    fn header_minus_offset_capped_by_module() {
        let h = Some(Duration::from_secs(15));
        assert_eq!(
            probe_timeout(h, HALF, None, TEN, MAX),
            Duration::from_millis(14_500)
        );
        assert_eq!(
            probe_timeout(h, HALF, Some(Duration::from_secs(5)), TEN, MAX),
            Duration::from_secs(5)
        );
        assert_eq!(
            probe_timeout(None, HALF, Some(Duration::from_secs(5)), TEN, MAX),
            Duration::from_secs(5)
        );
        assert_eq!(probe_timeout(None, HALF, None, TEN, MAX), TEN);
    }

    #[test]
    fn short_header_never_exceeds_what_prometheus_waits() {
        let h = Duration::from_millis(400);
        let b = probe_timeout(Some(h), HALF, Some(TEN), TEN, MAX);
        assert!(b < h && b > Duration::ZERO, "{b:?}");
        assert_eq!(
            probe_timeout(Some(HALF), HALF, None, TEN, MAX),
            Duration::from_millis(375)
        );
    }

    #[test]
    fn a_huge_header_is_capped_at_the_maximum() {
        for text in ["99999999", "1e19", "1e20", "1.7976931348623157e308"] {
            let header = parse_header(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(probe_timeout(Some(header), HALF, None, TEN, MAX), MAX);
            // No module timeout raises it either.
            let module = Some(Duration::from_secs(3_600));
            assert_eq!(probe_timeout(Some(header), HALF, module, TEN, MAX), MAX);
        }
        assert_eq!(probe_timeout(None, HALF, None, Duration::MAX, MAX), MAX);
    }

    #[test]
    fn deadlines_never_overflow() {
        let now = Instant::now();
        assert!(after(now, Duration::MAX) > now);
        assert!(after(now, Duration::from_secs(u64::MAX / 2)) > now);
        assert_eq!(after(now, TEN), now + TEN);
    }

    #[test]
    fn header_parsing() {
        assert_eq!(parse_header("14.5"), Ok(Duration::from_millis(14_500)));
        assert_eq!(parse_header(" 10 "), Ok(TEN));
        for bad in [
            "", "abc", "-1", "0", "NaN", "inf", "1e309", "-1e309", "1e-300",
        ] {
            assert!(parse_header(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bad_header_is_reflected_at_most_64_characters() {
        let long = "x".repeat(65_536);
        let message = parse_header(&long).expect_err("not a number").to_string();
        assert!(message.len() < 300, "{} bytes", message.len());
        assert!(
            message.contains(&format!("{}…", "x".repeat(64))),
            "{message}"
        );
    }

    /// The header is Prometheus' word, but anyone can send anything: no
    /// value panics, an accepted one is positive, the timeout it yields never
    /// exceeds the maximum, and its deadline is always representable.
    mod fuzzed {
        use super::*;
        use proptest::prelude::*;

        /// Numbers in the shapes a header may take, near the edges of `f64`
        /// and `Duration`, plus arbitrary text.
        fn header_text() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<f64>().prop_map(|f| f.to_string()),
                any::<f64>().prop_map(|f| format!("{f:e}")),
                (any::<i64>(), -400i32..400).prop_map(|(m, e)| format!("{m}e{e}")),
                Just("NaN".to_string()),
                Just("-inf".to_string()),
                Just("1e309".to_string()),
                Just("-0".to_string()),
                "\\PC{0,40}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2048))]

            #[test]
            fn any_header_is_a_bounded_timeout_or_a_short_error(text in header_text()) {
                match parse_header(&text) {
                    Ok(header) => {
                        prop_assert!(header > Duration::ZERO);
                        let timeout = probe_timeout(Some(header), HALF, None, TEN, MAX);
                        prop_assert!(timeout <= MAX && timeout > Duration::ZERO);
                        let now = Instant::now();
                        prop_assert!(after(now, timeout) >= now);
                    }
                    Err(e) => prop_assert!(e.to_string().chars().count() < 400),
                }
            }

            #[test]
            fn any_durations_give_a_capped_timeout(
                header in proptest::option::of(any::<u64>()),
                offset in any::<u64>(),
                module in proptest::option::of(any::<u64>()),
                default in any::<u64>(),
                max in 1u64..,
            ) {
                let nanos = Duration::from_nanos;
                let timeout = probe_timeout(
                    header.map(nanos),
                    nanos(offset),
                    module.map(nanos),
                    nanos(default),
                    nanos(max),
                );
                prop_assert!(timeout <= nanos(max));
                let now = Instant::now();
                prop_assert!(after(now, timeout) >= now);
            }
        }
    }
}
