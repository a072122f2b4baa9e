//! Summary statistics: means with Student-t 95 % confidence intervals, ratios of pooled sums
//! with log-scale intervals, percentiles.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Mean and 95 % confidence interval of independent replications.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Sample mean.
    pub mean: f64,
    /// Lower bound of the 95 % CI.
    pub lo: f64,
    /// Upper bound of the 95 % CI.
    pub hi: f64,
}

/// Two-sided 95 % Student-t quantile for `n` observations (`n - 1` degrees of freedom).
pub fn t95(n: usize) -> f64 {
    if n < 2 {
        return f64::NAN;
    }
    StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(f64::NAN)
}

/// Mean and t-interval of `xs` (NaN bounds for fewer than 2 values; `None` if empty).
pub fn estimate(xs: &[f64]) -> Option<Estimate> {
    if xs.is_empty() {
        return None;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return Some(Estimate {
            mean,
            lo: f64::NAN,
            hi: f64::NAN,
        });
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let half = t95(xs.len()) * (var / n).sqrt();
    Some(Estimate {
        mean,
        lo: mean - half,
        hi: mean + half,
    })
}

/// The ratio `Σ num / Σ den` of paired replications (`num[r]` and `den[r]` measured on the
/// same sessions) with a 95 % interval on the log scale.
///
/// The interval is the delta method for the log of a ratio of means: with `N̄`, `D̄` the means
/// and `d_r = num_r / N̄ - den_r / D̄`, the standard error of `ln R` is `sd(d) / √n`, and the
/// interval is `R · exp(± t(0.975, n-1) · se)`. It is never below zero, keeps every
/// replication (a replication with `den_r = 0` only widens it), and pairing enters through the
/// covariance term hidden in `d_r`. `ratio(num, den)` and `ratio(den, num)` give reciprocal
/// intervals.
///
/// Returns `None` when there is no replication or `Σ den = 0` (the ratio is undefined or
/// infinite). When `Σ num = 0` the ratio is 0 with the interval `[0, 0]` (every replication
/// is exactly zero). Bounds are NaN with fewer than 2 replications.
pub fn ratio_of_sums(num: &[f64], den: &[f64]) -> Option<Estimate> {
    assert_eq!(num.len(), den.len(), "paired replications");
    let n = num.len();
    let (sn, sd) = (num.iter().sum::<f64>(), den.iter().sum::<f64>());
    if n == 0 || sd <= 0.0 {
        return None;
    }
    let ratio = sn / sd;
    if sn <= 0.0 {
        return Some(Estimate {
            mean: 0.0,
            lo: 0.0,
            hi: 0.0,
        });
    }
    if n < 2 {
        return Some(Estimate {
            mean: ratio,
            lo: f64::NAN,
            hi: f64::NAN,
        });
    }
    let (mn, md) = (sn / n as f64, sd / n as f64);
    // Σ d_r = 0 by construction, so the sample variance needs no centring.
    let ss: f64 = num
        .iter()
        .zip(den)
        .map(|(a, b)| (a / mn - b / md).powi(2))
        .sum();
    let se = (ss / (n - 1) as f64 / n as f64).sqrt();
    let f = (t95(n) * se).exp();
    Some(Estimate {
        mean: ratio,
        lo: ratio / f,
        hi: ratio * f,
    })
}

/// Nearest-rank percentile (`q` in [0, 1]) of sorted values; 0 for an empty slice.
pub fn percentile_sorted(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[nearest_rank(sorted.len(), q)]
}

/// The 0-based position of the nearest-rank percentile `q` (in [0, 1]) among `n > 0` sorted
/// values: `ceil(q n)`, 1-based, clamped to the values.
pub fn nearest_rank(n: usize, q: f64) -> usize {
    ((q * n as f64).ceil() as usize).clamp(1, n) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        assert!((t95(2) - 12.706).abs() < 1e-3);
        assert!((t95(11) - 2.228).abs() < 1e-3);
        assert!((t95(1000) - 1.962).abs() < 1e-3);
    }

    #[test]
    fn interval_of_known_sample() {
        let e = estimate(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(e.mean, 2.5);
        // sd = 1.2910, se = 0.6455, t(3) = 3.1824 -> half-width 2.0543
        assert!((e.hi - e.mean - 2.0543).abs() < 1e-3);
        assert!((e.mean - e.lo - 2.0543).abs() < 1e-3);
        assert!(estimate(&[]).is_none());
    }

    #[test]
    fn ratio_of_known_sample() {
        // R = 6 / 2 = 3; d = [2/3 - 1, 4/3 - 1] = [-1/3, 1/3]; var = (2/9) / 1;
        // se = sqrt(2/9 / 2) = 1/3; t(1) = 12.706 -> factor exp(4.2354) = 69.09.
        let e = ratio_of_sums(&[2.0, 4.0], &[1.0, 1.0]).unwrap();
        assert_eq!(e.mean, 3.0);
        let f = (t95(2) / 3.0).exp();
        assert!((f - 69.09).abs() < 0.01, "{f}");
        assert!((e.lo - 3.0 / f).abs() < 1e-12 && (e.hi - 3.0 * f).abs() < 1e-9);
        // Reciprocal intervals.
        let r = ratio_of_sums(&[1.0, 1.0], &[2.0, 4.0]).unwrap();
        assert!((r.mean - 1.0 / 3.0).abs() < 1e-15);
        assert!((r.lo - 1.0 / e.hi).abs() < 1e-12 && (r.hi - 1.0 / e.lo).abs() < 1e-9);
        // Proportional replications: no spread, a zero-width interval.
        let z = ratio_of_sums(&[2.0, 4.0, 6.0], &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!((z.mean, z.lo, z.hi), (2.0, 2.0, 2.0));
    }

    #[test]
    fn ratio_keeps_zero_denominators_and_reports_degenerate_cases() {
        // A replication with a zero denominator stays in: (10 + 10 + 10) / (0 + 2 + 3) = 6.
        let e = ratio_of_sums(&[10.0, 10.0, 10.0], &[0.0, 2.0, 3.0]).unwrap();
        assert_eq!(e.mean, 6.0);
        assert!(e.lo > 0.0 && e.lo < 6.0 && e.hi > 6.0, "{e:?}");
        // Zero denominator everywhere: undefined; zero numerator everywhere: exactly 0.
        assert!(ratio_of_sums(&[1.0, 2.0], &[0.0, 0.0]).is_none());
        assert!(ratio_of_sums(&[], &[]).is_none());
        let z = ratio_of_sums(&[0.0, 0.0], &[1.0, 3.0]).unwrap();
        assert_eq!((z.mean, z.lo, z.hi), (0.0, 0.0, 0.0));
        // One replication: the ratio, no interval.
        let one = ratio_of_sums(&[3.0], &[2.0]).unwrap();
        assert_eq!(one.mean, 1.5);
        assert!(one.lo.is_nan() && one.hi.is_nan());
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile_sorted(&v, 0.5), 50);
        assert_eq!(percentile_sorted(&v, 0.95), 95);
        assert_eq!(percentile_sorted(&v, 0.99), 99);
        assert_eq!(percentile_sorted(&v, 1.0), 100);
        assert_eq!(percentile_sorted(&v, 0.0), 1);
        assert_eq!(percentile_sorted(&[], 0.5), 0);
    }
}
