//! Virtual time: an integer count of nanoseconds, never a float.
//!
//! Scenario files speak seconds (`f64`); everything inside the simulator is [`SimTime`]
//! (an instant) or [`Nanos`] (a span), so that event ordering is exact and portable.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A span of virtual time in nanoseconds.
pub type Nanos = u64;

/// Nanoseconds per second.
pub const NANOS_PER_SEC: f64 = 1e9;

/// Largest span a sampler may return (about 31 years); keeps sums far from overflow.
pub const MAX_SPAN: Nanos = 1_000_000_000 * 1_000_000_000;

/// Converts seconds to nanoseconds, rounding to nearest; negative and NaN become 0,
/// huge values saturate at [`MAX_SPAN`].
#[inline]
pub fn secs_to_nanos(secs: f64) -> Nanos {
    if secs.is_nan() || secs <= 0.0 {
        return 0;
    }
    let ns = secs * NANOS_PER_SEC;
    // `MAX_SPAN` is a float exactly and floats near it are 128 apart, so comparing before
    // rounding decides as comparing after; infinity saturates too.
    if ns >= MAX_SPAN as f64 {
        MAX_SPAN
    } else {
        round_non_negative(ns)
    }
}

/// `x.round() as u64` for `0 <= x < 2^63` without the call to libm's `round` (a hot path:
/// every sampled latency passes here). Exact: `x as u64` truncates, the truncation is a
/// float exactly, and `x - trunc(x)` is exact (both share `x`'s exponent, or `x` is an
/// integer past 2^52), so ties round away from zero as `round` does. The conversions go
/// through `i64`, exact on this range: one instruction each way on x86-64, where the
/// unsigned ones take a branch and about ten.
#[inline]
pub fn round_non_negative(x: f64) -> u64 {
    debug_assert!((0.0..(1u64 << 63) as f64).contains(&x), "{x} out of range");
    let n = x as i64;
    (n + i64::from(x - n as f64 >= 0.5)) as u64
}

/// Converts nanoseconds to seconds.
#[inline]
pub fn nanos_to_secs(ns: Nanos) -> f64 {
    ns as f64 / NANOS_PER_SEC
}

/// An instant of virtual time, in nanoseconds since the start of the simulation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

impl SimTime {
    /// The start of every simulation.
    pub const ZERO: SimTime = SimTime(0);

    /// Nanoseconds since the start.
    #[inline]
    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds since the start.
    #[inline]
    pub fn as_secs(self) -> f64 {
        nanos_to_secs(self.0)
    }

    /// The span from `earlier` to `self`, or 0 when `earlier` is later.
    #[inline]
    pub fn since(self, earlier: SimTime) -> Nanos {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<Nanos> for SimTime {
    type Output = SimTime;
    #[inline]
    fn add(self, rhs: Nanos) -> SimTime {
        SimTime(self.0.saturating_add(rhs))
    }
}

impl AddAssign<Nanos> for SimTime {
    #[inline]
    fn add_assign(&mut self, rhs: Nanos) {
        self.0 = self.0.saturating_add(rhs);
    }
}

impl Sub for SimTime {
    type Output = Nanos;
    #[inline]
    fn sub(self, rhs: SimTime) -> Nanos {
        self.since(rhs)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.9}s", self.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rounding without libm agrees with `f64::round` bit for bit: ties, the last
    /// fractions below a half, the edges of the exact-integer range, and a sweep of values.
    #[test]
    fn rounding_without_libm_is_round() {
        let half_below = 0.5f64.next_down();
        let mut xs = vec![
            0.0,
            -0.0,
            half_below,
            0.5,
            1.5,
            2.5,
            1.0 + half_below,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9_007_199_254_740_993.0,
            MAX_SPAN as f64 - 64.0,
            9.223_372_036_854_775e18,
        ];
        let mut z = 1u64;
        for _ in 0..100_000 {
            z = crate::sim::rng::mix64(z);
            let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
            xs.push(unit * 10f64.powi((z % 19) as i32));
        }
        for x in xs {
            assert_eq!(round_non_negative(x), x.round() as u64, "{x:e}");
        }
    }

    #[test]
    fn seconds_round_trip_and_clamp() {
        assert_eq!(secs_to_nanos(1.5), 1_500_000_000);
        assert_eq!(secs_to_nanos(-3.0), 0);
        assert_eq!(secs_to_nanos(f64::NAN), 0);
        assert_eq!(secs_to_nanos(f64::INFINITY), MAX_SPAN);
        assert_eq!(nanos_to_secs(250_000_000), 0.25);
    }

    #[test]
    fn time_arithmetic_saturates() {
        let t = SimTime(10) + 5;
        assert_eq!(t, SimTime(15));
        assert_eq!(SimTime(3) - SimTime(7), 0);
        assert_eq!(SimTime(u64::MAX) + 1, SimTime(u64::MAX));
    }
}
