//! Retries with jittered exponential backoff, `Retry-After`, and the stop flag (Ctrl-C).
//!
//! Transient failures (connection errors, timeouts, HTTP 429 and 5xx, a 200 whose body is not
//! what the API promises) are retried up to `retries` times. Attempt `n` (0-based) waits
//! `d = min(max_s, base_s * 2^n)` with "equal jitter" (`d/2 + U(0, d/2)`), or the server's
//! `Retry-After` when it is longer. A `Retry-After` beyond `max_retry_after_s` is not waited
//! for: the call fails at once with a message saying so. Jitter comes from a named stream
//! ([`crate::sim::rng::StreamKey`]), never from a time-based seed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::scenario::problems::{join, Problems};
use crate::sim::rng::StreamRng;

/// Backoff parameters as written in a live config (`backoff` section). Seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackoffSpec {
    /// First wait before jitter (default 0.5 s).
    #[serde(default = "default_base")]
    pub base_s: f64,
    /// Longest wait between attempts (default 30 s).
    #[serde(default = "default_max")]
    pub max_s: f64,
    /// Longest `Retry-After` honoured; a longer one fails the call (default 60 s).
    #[serde(default = "default_retry_after")]
    pub max_retry_after_s: f64,
}

fn default_base() -> f64 {
    0.5
}
fn default_max() -> f64 {
    30.0
}
fn default_retry_after() -> f64 {
    60.0
}

impl Default for BackoffSpec {
    fn default() -> Self {
        BackoffSpec {
            base_s: default_base(),
            max_s: default_max(),
            max_retry_after_s: default_retry_after(),
        }
    }
}

impl BackoffSpec {
    /// Validates the section.
    pub fn check(&self, path: &str, p: &mut Problems) {
        p.non_negative(&join(path, "base_s"), self.base_s);
        p.non_negative(&join(path, "max_s"), self.max_s);
        p.non_negative(&join(path, "max_retry_after_s"), self.max_retry_after_s);
    }

    /// The wait before retry number `attempt` (0-based), jittered.
    pub fn delay(&self, attempt: u32, rng: &mut StreamRng) -> Duration {
        let d = (self.base_s * 2f64.powi(attempt.min(30) as i32)).min(self.max_s);
        let jittered = d / 2.0 + rng.random::<f64>() * d / 2.0;
        Duration::from_secs_f64(jittered.max(0.0))
    }
}

/// Reads a `Retry-After` value given in seconds (`"2"`, `"1.5"`). HTTP dates are not
/// honoured (`None`): the backoff applies instead.
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    let s = value?.trim().parse::<f64>().ok()?;
    (s.is_finite() && s >= 0.0).then(|| Duration::from_secs_f64(s))
}

/// What to do after a failed attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    /// Wait this long, then try again.
    Wait(Duration),
    /// Give up with this reason.
    GiveUp(String),
}

/// Decides whether attempt `attempt` (0-based) may be retried, and after how long.
pub fn next_step(
    spec: &BackoffSpec,
    retries: u32,
    attempt: u32,
    retry_after: Option<Duration>,
    rng: &mut StreamRng,
) -> Next {
    if attempt >= retries {
        return Next::GiveUp(format!("gave up after {} attempts", attempt + 1));
    }
    let backoff = spec.delay(attempt, rng);
    match retry_after {
        Some(ra) if ra.as_secs_f64() > spec.max_retry_after_s => Next::GiveUp(format!(
            "the server asked to retry after {:.1} s, more than backoff.max_retry_after_s ({} s)",
            ra.as_secs_f64(),
            spec.max_retry_after_s
        )),
        Some(ra) => Next::Wait(ra.max(backoff)),
        None => Next::Wait(backoff),
    }
}

/// A shared flag set by Ctrl-C: loops and waits check it and wind down.
#[derive(Clone, Debug, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// A flag not yet raised.
    pub fn new() -> Self {
        Stop::default()
    }

    /// Raises the flag.
    pub fn raise(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// True once raised.
    pub fn raised(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sleeps `d`, waking early (returning false) when the flag is raised.
    pub fn sleep(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        loop {
            if self.raised() {
                return false;
            }
            let now = Instant::now();
            if now >= end {
                return true;
            }
            std::thread::sleep((end - now).min(Duration::from_millis(20)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Purpose, StreamKey};

    #[test]
    fn backoff_doubles_with_equal_jitter_and_caps() {
        let spec = BackoffSpec {
            base_s: 1.0,
            max_s: 4.0,
            max_retry_after_s: 10.0,
        };
        let mut r = StreamKey::root(1).rng(0, 0, Purpose::Other);
        for (attempt, d) in [(0, 1.0), (1, 2.0), (2, 4.0), (5, 4.0)] {
            for _ in 0..50 {
                let w = spec.delay(attempt, &mut r).as_secs_f64();
                assert!(w >= d / 2.0 && w <= d, "attempt {attempt}: {w}");
            }
        }
    }

    #[test]
    fn retry_after_is_honoured_capped_and_parsed() {
        let spec = BackoffSpec {
            base_s: 0.01,
            max_s: 0.01,
            max_retry_after_s: 5.0,
        };
        let mut r = StreamKey::root(1).rng(0, 0, Purpose::Other);
        assert_eq!(parse_retry_after(Some(" 2 ")), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(
            next_step(&spec, 3, 0, Some(Duration::from_secs(2)), &mut r),
            Next::Wait(Duration::from_secs(2))
        );
        let Next::GiveUp(m) = next_step(&spec, 3, 0, Some(Duration::from_secs(9)), &mut r) else {
            panic!("a long Retry-After gives up")
        };
        assert!(m.contains("retry after 9.0 s"), "{m}");
        assert_eq!(
            next_step(&spec, 2, 2, None, &mut r),
            Next::GiveUp("gave up after 3 attempts".into())
        );
    }
}
