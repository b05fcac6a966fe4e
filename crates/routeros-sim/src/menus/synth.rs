//! Deterministic synthetic numbers: hashing for per-router variation and
//! counters that are a pure function of uptime (so they reset on reboot).

use std::time::Duration;

/// SplitMix64 finaliser: a cheap, well-mixed hash of one word.
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of several words (order matters).
pub fn hash(parts: &[u64]) -> u64 {
    parts.iter().fold(0x5EED_u64, |acc, &p| mix(acc ^ mix(p)))
}

/// A value in `lo..=hi` picked by `h`.
pub fn pick(h: u64, lo: u64, hi: u64) -> u64 {
    lo + h % (hi - lo + 1)
}

/// A monotonic counter after `uptime` at about `rate` units per second,
/// starting at 0 at boot. The rate wobbles (±50 %, 10-minute period, phase from
/// `phase`) but the counter never decreases; with `rate >= 2` it grows by at
/// least one every second.
pub fn counter(rate: u64, uptime: Duration, phase: u64) -> u64 {
    counter_since(rate, uptime, Duration::ZERO, phase)
}

/// Like [`counter`] for something that started `start` after boot (0 before).
pub fn counter_since(rate: u64, uptime: Duration, start: Duration, phase: u64) -> u64 {
    let Some(t) = uptime.checked_sub(start) else {
        return 0;
    };
    let t = t.as_secs_f64();
    let r = rate as f64;
    let w = std::f64::consts::TAU / 600.0;
    let p = (phase % 1_000) as f64 / 1_000.0 * std::f64::consts::TAU;
    // f(t) = r·t + A·(sin(wt+p) − sin p) with A·w = r/2: f(0) = 0, f' ≥ r/2.
    let a = r / 2.0 / w;
    let v = r * t + a * ((w * t + p).sin() - p.sin());
    v.max(0.0) as u64
}

/// A session that reconnects every `period` seconds (a forced daily PPPoE
/// reconnect, a hotspot session timeout), its cycle shifted by `phase`: its
/// uptime now (never more than the router's) and which connection it is
/// (0 for the first since boot, +1 per reconnect).
pub fn session(uptime: Duration, period: u64, phase: u64) -> (u64, u64) {
    let up = uptime.as_secs();
    let period = period.max(1);
    let shifted = up + phase % period;
    ((shifted % period).min(up), shifted / period)
}

/// A gauge that wanders deterministically around `base` by up to `spread`
/// as uptime passes, changing every `step` seconds.
pub fn wander(base: u64, spread: u64, uptime: Duration, step: u64, seed: u64) -> u64 {
    let slot = uptime.as_secs() / step.max(1);
    let h = hash(&[seed, slot]);
    (base + h % (2 * spread + 1)).saturating_sub(spread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_start_at_zero_and_grow() {
        assert_eq!(counter(1_000, Duration::ZERO, 7), 0);
        let mut last = 0;
        for s in 1..3_000 {
            let v = counter(2, Duration::from_secs(s), 123);
            assert!(v > last, "at {s}s: {v} <= {last}");
            last = v;
        }
        let day = counter(50_000_000, Duration::from_secs(86_400), 1);
        assert!(day > u64::from(u32::MAX));
    }

    #[test]
    fn delayed_counters() {
        let start = Duration::from_secs(30);
        assert_eq!(counter_since(100, Duration::from_secs(10), start, 0), 0);
        assert!(counter_since(100, Duration::from_secs(40), start, 0) > 0);
    }

    #[test]
    fn sessions_reconnect_every_period() {
        let at = |s| session(Duration::from_secs(s), 100, 30);
        assert_eq!(at(0), (0, 0));
        assert_eq!(at(50), (50, 0));
        assert_eq!(at(69), (69, 0));
        assert_eq!(at(70), (0, 1));
        assert_eq!(at(75), (5, 1));
        assert_eq!(at(170), (0, 2));
        assert_eq!(session(Duration::from_secs(7), 0, 0), (0, 7));
    }

    #[test]
    fn hashing_and_wandering_are_deterministic() {
        assert_eq!(hash(&[1, 2]), hash(&[1, 2]));
        assert_ne!(hash(&[1, 2]), hash(&[2, 1]));
        assert_eq!(pick(10, 5, 5), 5);
        for s in 0..500 {
            let v = wander(50, 10, Duration::from_secs(s), 10, 3);
            assert!((40..=60).contains(&v));
            assert_eq!(v, wander(50, 10, Duration::from_secs(s), 10, 3));
        }
    }
}
