//! Axis ticks chosen here rather than by plotters: round values written at one precision
//! per axis (`1.00, 1.05, 1.10`, not `1, 1.05, 1.1`), on a linear or a logarithmic scale.
//!
//! A chart is built over *positions*: the values themselves on a linear scale, their natural
//! logarithms on a log scale. [`Ticks`] maps values to positions and labels positions with
//! values; [`TickAxis`] is the plotters coordinate that puts the grid lines at the ticks.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

/// A ratio axis is drawn on a log scale when its largest value is at least this many times
/// its smallest: at a span of 5 or more (e.g. the oracle's ~9x web reduction against
/// random's ~1.1x) a linear axis squeezes the small ratios into a few pixels above 1x.
pub const LOG_SPAN: f64 = 5.0;

/// How values map to positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Positions are the values.
    Linear,
    /// Positions are the values' natural logarithms (values > 0).
    Log,
}

/// The ticks of one axis and the range it shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticks {
    pub scale: Scale,
    /// Tick values (not positions), ascending.
    pub values: Vec<f64>,
    /// Decimals every tick label is written with.
    pub decimals: usize,
    /// The shown range, in positions.
    pub range: (f64, f64),
}

/// Decimals needed to write `step`-spaced round values: 0 for 1, 2, 5, 10; 2 for 0.05.
fn decimals_for(step: f64) -> usize {
    if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    }
}

impl Ticks {
    /// Round ticks over `[lo, hi]` on a linear scale: a step of 1, 2 or 5 times a power of
    /// ten, the smallest giving at most `max` ticks.
    pub fn linear(lo: f64, hi: f64, max: usize) -> Ticks {
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else {
            (lo - 0.5, lo + 0.5)
        };
        let max = max.max(2) as f64;
        let raw = (hi - lo) / max;
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * mag)
            .find(|s| ((hi - lo) / s).floor() + 1.0 <= max)
            .unwrap_or(10.0 * mag);
        let decimals = decimals_for(step);
        let round = |v: f64| {
            let f = 10f64.powi(decimals as i32);
            (v * f).round() / f
        };
        let first = (lo / step).ceil() as i64;
        let last = (hi / step).floor() as i64;
        let values = (first..=last).map(|k| round(k as f64 * step)).collect();
        Ticks {
            scale: Scale::Linear,
            values,
            decimals,
            range: (lo, hi),
        }
    }

    /// Ticks over `[lo, hi]` (both > 0) on a log scale: 1, 2 and 5 times powers of ten; only
    /// the powers of ten when those would be more than `max`; 1, 2, 3, 5 and 7 times them
    /// when they would be fewer than 4. The range is padded by
    /// `pad` of its width in positions.
    pub fn log(lo: f64, hi: f64, max: usize, pad: f64) -> Ticks {
        let (a, b) = (lo.ln(), hi.ln().max(lo.ln() + 1e-9));
        let w = b - a;
        let (a, b) = (a - w * pad, b + w * pad);
        let (d0, d1) = (
            (a / std::f64::consts::LN_10).floor() as i32,
            (b / std::f64::consts::LN_10).ceil() as i32,
        );
        let within = |mantissas: &[f64]| -> Vec<f64> {
            (d0..=d1)
                .flat_map(|d| mantissas.iter().map(move |m| m * 10f64.powi(d)))
                .filter(|v| (a..=b).contains(&v.ln()))
                .collect()
        };
        let mut values = within(&[1.0, 2.0, 5.0]);
        if values.len() > max {
            values = within(&[1.0]);
        } else if values.len() < 4 && within(&[1.0, 2.0, 3.0, 5.0, 7.0]).len() <= max {
            values = within(&[1.0, 2.0, 3.0, 5.0, 7.0]);
        }
        let decimals = values.iter().map(|v| decimals_for(*v)).max().unwrap_or(0);
        Ticks {
            scale: Scale::Log,
            values,
            decimals,
            range: (a, b),
        }
    }

    /// The ticks of a ratio axis covering `values` and `include` (finite values only): a log
    /// scale when they span a factor of [`LOG_SPAN`] or more, else linear; padded by 8 %.
    pub fn ratio(values: impl IntoIterator<Item = f64>, max: usize) -> Ticks {
        let (lo, hi) = values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        if !lo.is_finite() {
            return Ticks::linear(0.0, 1.0, max);
        }
        if lo > 0.0 && hi / lo >= LOG_SPAN {
            return Ticks::log(lo, hi, max, 0.06);
        }
        let pad = ((hi - lo) * 0.08).max(0.02);
        let lo = if lo - pad > 0.0 && lo - pad < 0.3 {
            0.0
        } else {
            lo - pad
        };
        Ticks::linear(lo, hi + pad, max)
    }

    /// The position of value `v` (NaN for a value a log scale cannot show).
    pub fn pos(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Linear => v,
            Scale::Log if v > 0.0 => v.ln(),
            Scale::Log => f64::NAN,
        }
    }

    /// The value at position `p`.
    pub fn value(&self, p: f64) -> f64 {
        match self.scale {
            Scale::Linear => p,
            Scale::Log => p.exp(),
        }
    }

    /// The label of the tick at position `p`: its value at the axis's precision.
    pub fn label(&self, p: f64) -> String {
        let v = self.value(p);
        if !v.is_finite() {
            return "–".into();
        }
        let big = self.values.iter().any(|t| t.abs() >= 1e6);
        if big || self.decimals > 6 {
            return super::frame::short_number(v);
        }
        let s = format!("{v:.*}", self.decimals);
        // No "-0.00".
        if s.trim_start_matches('-')
            .chars()
            .all(|c| c == '0' || c == '.')
        {
            s.trim_start_matches('-').to_string()
        } else {
            s
        }
    }

    /// The plotters coordinate of this axis: its range with grid lines at the ticks.
    pub fn axis(&self) -> TickAxis {
        TickAxis {
            range: self.range.0..self.range.1,
            ticks: self.values.iter().map(|v| self.pos(*v)).collect(),
        }
    }
}

/// A linear plotters coordinate over positions whose key points (bold grid lines and tick
/// labels) are given ticks instead of plotters' own choice.
#[derive(Clone, Debug)]
pub struct TickAxis {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl TickAxis {
    /// An axis over `range` with no ticks of its own (labels drawn separately).
    pub fn bare(range: Range<f64>) -> TickAxis {
        TickAxis {
            range,
            ticks: Vec::new(),
        }
    }
}

impl Ranged for TickAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let (a, b) = (self.range.start, self.range.end);
        if b == a {
            return (limit.0 + limit.1) / 2;
        }
        let t = (v - a) / (b - a);
        limit.0 + (t * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.max_num_points() == 0 || hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &Ticks) -> Vec<String> {
        t.values.iter().map(|v| t.label(t.pos(*v))).collect()
    }

    #[test]
    fn linear_ticks_share_one_precision() {
        let t = Ticks::linear(0.98, 1.33, 8);
        assert_eq!(
            labels(&t),
            ["1.00", "1.05", "1.10", "1.15", "1.20", "1.25", "1.30"]
        );
        let t = Ticks::linear(0.0, 10.3, 8);
        assert_eq!(labels(&t), ["0", "2", "4", "6", "8", "10"]);
        let t = Ticks::linear(0.9, 3.6, 8);
        assert_eq!(labels(&t), ["1.0", "1.5", "2.0", "2.5", "3.0", "3.5"]);
        let t = Ticks::linear(-0.05, 0.05, 4);
        assert_eq!(labels(&t), ["-0.05", "0.00", "0.05"]);
    }

    #[test]
    fn ratios_spanning_a_factor_of_five_are_logarithmic() {
        let t = Ticks::ratio([0.98, 1.1, 3.6, 9.7, 10.1], 8);
        assert_eq!(t.scale, Scale::Log);
        assert_eq!(labels(&t), ["1", "2", "5", "10"]);
        assert!((t.pos(10.0) - 10f64.ln()).abs() < 1e-12);
        // 1x and 2x are as far apart as 5x and 10x.
        assert!(((t.pos(2.0) - t.pos(1.0)) - (t.pos(10.0) - t.pos(5.0))).abs() < 1e-12);
        let t = Ticks::ratio([0.98, 1.1, 2.7], 8);
        assert_eq!(t.scale, Scale::Linear);
        let t = Ticks::ratio([0.4, 1.0, 3.0], 8);
        assert_eq!(t.scale, Scale::Log);
        assert_eq!(labels(&t), ["0.5", "0.7", "1.0", "2.0", "3.0"]);
        let t = Ticks::ratio([1.0, 6.6], 8);
        assert_eq!(labels(&t), ["1", "2", "3", "5", "7"]);
        assert_eq!(Ticks::ratio([f64::NAN], 8).scale, Scale::Linear);
    }

    #[test]
    fn tick_axis_puts_key_points_at_the_ticks() {
        use plotters::coord::ranged1d::{BoldPoints, LightPoints};
        let a = Ticks::linear(0.0, 1.0, 6).axis();
        assert_eq!(a.key_points(BoldPoints(6)), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert!(a.key_points(BoldPoints(0)).is_empty());
        assert!(a.key_points(LightPoints::new(6, 60)).is_empty());
        assert_eq!(a.map(&0.5, (0, 100)), 50);
    }
}
