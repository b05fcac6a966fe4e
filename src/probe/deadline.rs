//! How long a probe may take.
//!
//! Prometheus tells us its scrape timeout in `X-Prometheus-Scrape-Timeout-Seconds`.
//! We finish `--timeout-offset` earlier so the response (with partial results and
//! the reasons for what is missing) arrives before Prometheus gives up. When the
//! header is at or below the offset, blackbox_exporter falls back to the module
//! timeout, which can exceed what Prometheus waits: we use a fraction of the
//! header instead, never more than Prometheus will wait.

use std::time::Duration;

/// Share of the scrape timeout used when it is no longer than the offset.
const SHORT_TIMEOUT_SHARE: f64 = 0.75;

/// A malformed `X-Prometheus-Scrape-Timeout-Seconds` header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid X-Prometheus-Scrape-Timeout-Seconds {0:?}: expected a positive number of seconds")]
pub struct BadTimeoutHeader(pub String);

/// Parses the header value (seconds, possibly fractional).
pub fn parse_header(value: &str) -> Result<Duration, BadTimeoutHeader> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| BadTimeoutHeader(value.to_string()))
}

/// How long a probe may take: min(module timeout, header − offset); the
/// default when neither is given; a fraction of the header when it is ≤ the
/// offset.
pub fn probe_timeout(
    header: Option<Duration>,
    offset: Duration,
    module_timeout: Option<Duration>,
    default: Duration,
) -> Duration {
    let from_header = header.map(|h| {
        if h > offset {
            h - offset
        } else {
            h.mul_f64(SHORT_TIMEOUT_SHARE)
        }
    });
    match (from_header, module_timeout) {
        (Some(h), Some(m)) => h.min(m),
        (Some(h), None) => h,
        (None, Some(m)) => m,
        (None, None) => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALF: Duration = Duration::from_millis(500);
    const TEN: Duration = Duration::from_secs(10);

    #[test]
    fn header_minus_offset_capped_by_module() {
        let h = Some(Duration::from_secs(15));
        assert_eq!(
            probe_timeout(h, HALF, None, TEN),
            Duration::from_millis(14_500)
        );
        assert_eq!(
            probe_timeout(h, HALF, Some(Duration::from_secs(5)), TEN),
            Duration::from_secs(5)
        );
        assert_eq!(
            probe_timeout(None, HALF, Some(Duration::from_secs(5)), TEN),
            Duration::from_secs(5)
        );
        assert_eq!(probe_timeout(None, HALF, None, TEN), TEN);
    }

    #[test]
    fn short_header_never_exceeds_what_prometheus_waits() {
        let h = Duration::from_millis(400);
        let b = probe_timeout(Some(h), HALF, Some(TEN), TEN);
        assert!(b < h && b > Duration::ZERO, "{b:?}");
        assert_eq!(
            probe_timeout(Some(HALF), HALF, None, TEN),
            Duration::from_millis(375)
        );
    }

    #[test]
    fn header_parsing() {
        assert_eq!(parse_header("14.5"), Ok(Duration::from_millis(14_500)));
        assert_eq!(parse_header(" 10 "), Ok(TEN));
        for bad in ["", "abc", "-1", "0", "NaN", "inf"] {
            assert!(parse_header(bad).is_err(), "{bad}");
        }
    }
}
