//! Maximum-likelihood estimators, one per family.
//!
//! Closed forms where they exist (exponential, lognormal, Pareto). Gamma and Weibull
//! shapes solve their score equation with a safeguarded Newton iteration: Newton steps
//! while they stay inside a bracket known to hold the root, bisection otherwise, so the
//! iteration cannot diverge. Every estimator expects finite samples, all `> 0` except the
//! exponential's (`>= 0`), and at least two distinct values.

use statrs::function::gamma::digamma;

use super::family::Params;

/// Exponential: the mean.
pub fn exponential(xs: &[f64]) -> Option<Params> {
    let mean = mean(xs);
    (mean > 0.0).then_some(Params::Exponential { mean })
}

/// Lognormal: mean and (biased, n-denominator) standard deviation of `ln x`.
pub fn lognormal(xs: &[f64]) -> Option<Params> {
    let logs: Vec<f64> = xs.iter().map(|x| x.ln()).collect();
    let mu = mean(&logs);
    let var = logs.iter().map(|l| (l - mu).powi(2)).sum::<f64>() / logs.len() as f64;
    let sigma = var.sqrt();
    (sigma > 0.0 && mu.is_finite()).then_some(Params::Lognormal {
        median: mu.exp(),
        sigma,
    })
}

/// Gamma: the shape solves `ln k - digamma(k) = ln(mean x) - mean(ln x)`; scale = mean / k.
/// Minka's closed-form approximation is the starting point.
pub fn gamma(xs: &[f64]) -> Option<Params> {
    let m = mean(xs);
    let s = m.ln() - xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64;
    if !(s.is_finite() && s > 0.0) {
        return None;
    }
    let start = (3.0 - s + ((s - 3.0).powi(2) + 24.0 * s).sqrt()) / (12.0 * s);
    // g(k) = ln k - digamma(k) - s decreases from +inf (k -> 0) to -s (k -> inf).
    let g = |k: f64| (k.ln() - digamma(k) - s, 1.0 / k - trigamma(k));
    let shape = newton_bracketed(g, start, 1e-8, 1e8, Slope::Decreasing)?;
    Some(Params::Gamma {
        shape,
        scale: m / shape,
    })
}

/// Weibull: with `y = ln x - mean(ln x)`, the shape solves
/// `sum(e^{ky} y) / sum(e^{ky}) - 1/k = 0`; scale = `(mean x^k)^{1/k}`.
/// Working with centred logs keeps `x^k` from overflowing for large shapes.
pub fn weibull(xs: &[f64]) -> Option<Params> {
    let logs: Vec<f64> = xs.iter().map(|x| x.ln()).collect();
    let m = mean(&logs);
    let ys: Vec<f64> = logs.iter().map(|l| l - m).collect();
    let ymax = ys.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if ymax.is_nan() || ymax <= 0.0 {
        return None;
    }
    // Weighted moments of y under weights e^{k (y - ymax)} (shifted for stability).
    let moments = |k: f64| {
        let (mut w, mut wy, mut wyy) = (0.0, 0.0, 0.0);
        for &y in &ys {
            let e = (k * (y - ymax)).exp();
            w += e;
            wy += e * y;
            wyy += e * y * y;
        }
        (w, wy / w, wyy / w)
    };
    // h(k) = E_w[y] - 1/k increases in k; h' = Var_w[y] + 1/k^2.
    let h = |k: f64| {
        let (_, ey, eyy) = moments(k);
        (ey - 1.0 / k, (eyy - ey * ey) + 1.0 / (k * k))
    };
    let sd = (ys.iter().map(|y| y * y).sum::<f64>() / ys.len() as f64).sqrt();
    // For a Weibull, sd(ln x) = pi / (k sqrt 6): the moment estimate starts Newton.
    let start = (std::f64::consts::PI / (sd * 6f64.sqrt())).clamp(1e-3, 1e3);
    let shape = newton_bracketed(h, start, 1e-6, 1e6, Slope::Increasing)?;
    let (w, _, _) = moments(shape);
    let ln_mean_xk = (w / ys.len() as f64).ln() + shape * ymax;
    Some(Params::Weibull {
        shape,
        scale: (m + ln_mean_xk / shape).exp(),
    })
}

/// Pareto: scale = min x, shape = n / sum ln(x / min).
pub fn pareto(xs: &[f64]) -> Option<Params> {
    let scale = xs.iter().cloned().fold(f64::INFINITY, f64::min);
    let sum: f64 = xs.iter().map(|x| (x / scale).ln()).sum();
    (scale > 0.0 && sum > 0.0).then_some(Params::Pareto {
        scale,
        shape: xs.len() as f64 / sum,
    })
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Trigamma function (derivative of digamma): recurrence up to 10, then the asymptotic
/// series; absolute error below 1e-10 for `x > 0`.
pub fn trigamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 10.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let r = 1.0 / (x * x);
    acc + 1.0 / x
        + r / 2.0
        + r / x * (1.0 / 6.0 - r * (1.0 / 30.0 - r * (1.0 / 42.0 - r * (1.0 / 30.0))))
}

#[derive(Clone, Copy)]
enum Slope {
    Increasing,
    Decreasing,
}

/// Root of a monotone `f` (value, derivative) on `[lo, hi]` by Newton steps kept inside a
/// shrinking bracket; bisection (in log space, the parameters are scales) when a step
/// leaves it. `None` if the root is not inside `[lo, hi]`.
fn newton_bracketed(
    f: impl Fn(f64) -> (f64, f64),
    start: f64,
    mut lo: f64,
    mut hi: f64,
    slope: Slope,
) -> Option<f64> {
    let sign = match slope {
        Slope::Increasing => 1.0,
        Slope::Decreasing => -1.0,
    };
    let below = |v: f64| sign * v < 0.0; // root lies above this point
    if !below(f(lo).0) || below(f(hi).0) {
        return None;
    }
    let mut x = start.clamp(lo, hi);
    for _ in 0..200 {
        let (v, d) = f(x);
        if !v.is_finite() {
            return None;
        }
        if v == 0.0 {
            return Some(x);
        }
        if below(v) {
            lo = x;
        } else {
            hi = x;
        }
        let newton = x - v / d;
        let next = if d != 0.0 && newton > lo && newton < hi {
            newton
        } else {
            (lo * hi).sqrt()
        };
        if (next - x).abs() <= 1e-12 * x.abs() || hi / lo - 1.0 < 1e-14 {
            return Some(next);
        }
        x = next;
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigamma_matches_known_values() {
        // trigamma(1) = pi^2/6, trigamma(1/2) = pi^2/2, trigamma(10) = 0.10516633568168575
        let pi2 = std::f64::consts::PI.powi(2);
        assert!((trigamma(1.0) - pi2 / 6.0).abs() < 1e-10);
        assert!((trigamma(0.5) - pi2 / 2.0).abs() < 1e-10);
        assert!((trigamma(10.0) - 0.105_166_335_681_685_75).abs() < 1e-10);
    }

    #[test]
    fn closed_forms_on_tiny_samples() {
        let xs = [1.0, 2.0, 4.0];
        assert_eq!(
            exponential(&xs),
            Some(Params::Exponential { mean: 7.0 / 3.0 })
        );
        match lognormal(&xs).unwrap() {
            Params::Lognormal { median, sigma } => {
                assert!((median - 2.0).abs() < 1e-12);
                // ln xs = 0, ln2, 2 ln2: biased sd = ln2 * sqrt(2/3)
                assert!((sigma - 2f64.ln() * (2.0f64 / 3.0).sqrt()).abs() < 1e-12);
            }
            p => panic!("{p:?}"),
        }
        match pareto(&xs).unwrap() {
            Params::Pareto { scale, shape } => {
                assert_eq!(scale, 1.0);
                assert!((shape - 3.0 / (3.0 * 2f64.ln())).abs() < 1e-12);
            }
            p => panic!("{p:?}"),
        }
    }

    #[test]
    fn shape_equations_are_solved() {
        let xs = [0.3, 0.9, 1.1, 2.5, 3.0, 7.2];
        let n = xs.len() as f64;
        if let Some(Params::Gamma { shape, scale }) = gamma(&xs) {
            let s = (xs.iter().sum::<f64>() / n).ln() - xs.iter().map(|x| x.ln()).sum::<f64>() / n;
            assert!((shape.ln() - digamma(shape) - s).abs() < 1e-9);
            assert!((shape * scale - xs.iter().sum::<f64>() / n).abs() < 1e-9);
        } else {
            panic!("gamma fit failed");
        }
        if let Some(Params::Weibull { shape: k, scale }) = weibull(&xs) {
            let sxk: f64 = xs.iter().map(|x| x.powf(k)).sum();
            let sxkl: f64 = xs.iter().map(|x| x.powf(k) * x.ln()).sum();
            let ml = xs.iter().map(|x| x.ln()).sum::<f64>() / n;
            assert!((sxkl / sxk - 1.0 / k - ml).abs() < 1e-9);
            assert!((scale - (sxk / n).powf(1.0 / k)).abs() < 1e-9);
        } else {
            panic!("weibull fit failed");
        }
    }

    #[test]
    fn constant_samples_have_no_fit() {
        let xs = [2.0, 2.0, 2.0];
        assert!(lognormal(&xs).is_none());
        assert!(gamma(&xs).is_none());
        assert!(weibull(&xs).is_none());
        assert!(pareto(&xs).is_none());
    }
}
