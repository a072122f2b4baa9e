//! Summary statistics: means with Student-t 95 % confidence intervals, percentiles.

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

/// Nearest-rank percentile (`q` in [0, 1]) of sorted values; 0 for an empty slice.
pub fn percentile_sorted(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
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
