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
    let ns = (secs * NANOS_PER_SEC).round();
    if ns >= MAX_SPAN as f64 {
        MAX_SPAN
    } else {
        ns as Nanos
    }
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
