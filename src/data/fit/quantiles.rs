//! Fitting a distribution from published quantiles only (e.g. HTTP Archive's p10..p90).
//!
//! Least squares on the log of the quantile function: each family's parameters minimise
//! `sum_i (ln Q(p_i) - ln q_i)^2`, i.e. relative errors, so p90 does not outweigh p10.
//! For the lognormal, Weibull, Pareto and exponential `ln Q(p)` is linear in a transform
//! of `p` and the fit is an ordinary regression; the gamma's shape is found by a
//! golden-section search with its scale in closed form. The best family has the smallest
//! root-mean-square log error.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Gamma, Normal};

use super::family::{Family, Params};
use crate::sim::dist::DistSpec;

/// One family fitted to quantiles.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuantileFit {
    /// The family.
    pub family: Family,
    /// Fitted parameters as a scenario distribution.
    pub spec: DistSpec,
    /// Root-mean-square of `ln Q(p) - ln q` over the given quantiles.
    pub rms_log_error: f64,
    /// Largest relative error `|Q(p) / q - 1|`.
    pub max_rel_error: f64,
    #[serde(skip)]
    params: Params,
}

impl QuantileFit {
    /// The fitted parameters.
    pub fn params(&self) -> Params {
        self.params
    }
}

/// Quantiles that cannot be fitted.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum QuantileError {
    /// Fewer than two quantiles.
    #[error("need at least 2 quantiles, got {0}")]
    TooFew(usize),
    /// A probability outside (0, 1) or a value that is not > 0.
    #[error("quantile p={p} = {q}: needs 0 < p < 1 and a finite value > 0")]
    Invalid {
        /// Probability.
        p: f64,
        /// Value.
        q: f64,
    },
    /// Values that decrease while probabilities increase.
    #[error("quantiles must not decrease: p={p1} is {q1} but p={p2} is {q2}")]
    Decreasing {
        /// Lower probability.
        p1: f64,
        /// Its value.
        q1: f64,
        /// Higher probability.
        p2: f64,
        /// Its (smaller) value.
        q2: f64,
    },
}

/// Fits every family to `(p, q)` pairs; sorted by `rms_log_error`, best first.
pub fn fit_quantiles(points: &[(f64, f64)]) -> Result<Vec<QuantileFit>, QuantileError> {
    if points.len() < 2 {
        return Err(QuantileError::TooFew(points.len()));
    }
    for &(p, q) in points {
        if !(p > 0.0 && p < 1.0 && q.is_finite() && q > 0.0) {
            return Err(QuantileError::Invalid { p, q });
        }
    }
    let mut pts = points.to_vec();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    for w in pts.windows(2) {
        if w[1].1 < w[0].1 {
            return Err(QuantileError::Decreasing {
                p1: w[0].0,
                q1: w[0].1,
                p2: w[1].0,
                q2: w[1].1,
            });
        }
    }
    let mut fits: Vec<QuantileFit> = Family::ALL
        .iter()
        .filter_map(|&f| fit_one(f, &pts))
        .collect();
    fits.sort_by(|a, b| a.rms_log_error.total_cmp(&b.rms_log_error));
    Ok(fits)
}

fn fit_one(family: Family, pts: &[(f64, f64)]) -> Option<QuantileFit> {
    let lq: Vec<f64> = pts.iter().map(|(_, q)| q.ln()).collect();
    let xs = |t: fn(f64) -> f64| pts.iter().map(|(p, _)| t(*p)).collect::<Vec<f64>>();
    let params = match family {
        Family::Lognormal => {
            let normal = Normal::new(0.0, 1.0).ok()?;
            let z: Vec<f64> = pts.iter().map(|(p, _)| normal.inverse_cdf(*p)).collect();
            let (a, b) = regress(&z, &lq)?;
            Params::Lognormal {
                median: a.exp(),
                sigma: b,
            }
        }
        Family::Weibull => {
            let (a, b) = regress(&xs(|p| (-(1.0 - p).ln()).ln()), &lq)?;
            Params::Weibull {
                shape: 1.0 / b,
                scale: a.exp(),
            }
        }
        Family::Pareto => {
            let (a, b) = regress(&xs(|p| -(1.0 - p).ln()), &lq)?;
            Params::Pareto {
                scale: a.exp(),
                shape: 1.0 / b,
            }
        }
        Family::Exponential => {
            let x = xs(|p| (-(1.0 - p).ln()).ln());
            let a = lq.iter().zip(&x).map(|(l, x)| l - x).sum::<f64>() / x.len() as f64;
            Params::Exponential { mean: a.exp() }
        }
        Family::Gamma => gamma_fit(pts, &lq)?,
    };
    let mut sse = 0.0;
    let mut max_rel: f64 = 0.0;
    for ((p, q), l) in pts.iter().zip(&lq) {
        let fitted = params.quantile(*p)?;
        if !(fitted.is_finite() && fitted > 0.0) {
            return None;
        }
        sse += (fitted.ln() - l).powi(2);
        max_rel = max_rel.max((fitted / q - 1.0).abs());
    }
    Some(QuantileFit {
        family,
        spec: params.to_spec(),
        rms_log_error: (sse / pts.len() as f64).sqrt(),
        max_rel_error: max_rel,
        params,
    })
}

/// Ordinary least squares `y = a + b x`; `None` unless the slope is finite and > 0.
fn regress(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let b = sxy / sxx;
    (b.is_finite() && b > 0.0).then_some((my - b * mx, b))
}

/// Gamma: for a shape k the best log-scale is the mean of `ln q - ln Q_k(p)` (Q_k the
/// unit-scale quantile); the shape minimises the remaining squared error, searched by
/// golden section on `ln k` in [ln 0.05, ln 500].
fn gamma_fit(pts: &[(f64, f64)], lq: &[f64]) -> Option<Params> {
    let cost = |lnk: f64| -> Option<(f64, f64)> {
        let g = Gamma::new(lnk.exp(), 1.0).ok()?;
        let lu: Vec<f64> = pts.iter().map(|(p, _)| g.inverse_cdf(*p).ln()).collect();
        let ln_scale = lq.iter().zip(&lu).map(|(a, b)| a - b).sum::<f64>() / lq.len() as f64;
        let sse = lq
            .iter()
            .zip(&lu)
            .map(|(a, b)| (a - b - ln_scale).powi(2))
            .sum();
        Some((sse, ln_scale))
    };
    let (mut a, mut b) = (0.05f64.ln(), 500f64.ln());
    let r = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - r * (b - a);
    let mut d = a + r * (b - a);
    let (mut fc, mut fd) = (cost(c)?.0, cost(d)?.0);
    for _ in 0..80 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - r * (b - a);
            fc = cost(c)?.0;
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + r * (b - a);
            fd = cost(d)?.0;
        }
    }
    let lnk = (a + b) / 2.0;
    let (_, ln_scale) = cost(lnk)?;
    Some(Params::Gamma {
        shape: lnk.exp(),
        scale: ln_scale.exp(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PS: [f64; 5] = [0.1, 0.25, 0.5, 0.75, 0.9];

    fn exact(params: Params) -> Vec<(f64, f64)> {
        PS.iter()
            .map(|&p| (p, params.quantile(p).unwrap()))
            .collect()
    }

    #[test]
    fn recovers_lognormal_from_exact_quantiles() {
        let fits = fit_quantiles(&exact(Params::Lognormal {
            median: 3.88,
            sigma: 0.9,
        }))
        .unwrap();
        assert_eq!(fits[0].family, Family::Lognormal);
        match fits[0].params() {
            Params::Lognormal { median, sigma } => {
                assert!((median - 3.88).abs() < 1e-9, "{median}");
                assert!((sigma - 0.9).abs() < 1e-9, "{sigma}");
            }
            p => panic!("{p:?}"),
        }
        assert!(fits[0].rms_log_error < 1e-9);
    }

    #[test]
    fn recovers_lognormal_from_rounded_quantiles() {
        // Quantiles rounded to 2 decimals (as HTTP Archive publishes them): parameters
        // within 1 %.
        let pts: Vec<(f64, f64)> = exact(Params::Lognormal {
            median: 4.0,
            sigma: 0.7,
        })
        .into_iter()
        .map(|(p, q)| (p, (q * 100.0).round() / 100.0))
        .collect();
        let fits = fit_quantiles(&pts).unwrap();
        let ln = fits.iter().find(|f| f.family == Family::Lognormal).unwrap();
        match ln.params() {
            Params::Lognormal { median, sigma } => {
                assert!((median / 4.0 - 1.0).abs() < 0.01, "{median}");
                assert!((sigma / 0.7 - 1.0).abs() < 0.01, "{sigma}");
            }
            p => panic!("{p:?}"),
        }
    }

    #[test]
    fn recovers_weibull_and_gamma() {
        let w = fit_quantiles(&exact(Params::Weibull {
            shape: 1.5,
            scale: 2.0,
        }))
        .unwrap();
        assert_eq!(w[0].family, Family::Weibull);
        assert!(w[0].rms_log_error < 1e-9);
        let g = fit_quantiles(&exact(Params::Gamma {
            shape: 3.0,
            scale: 0.5,
        }))
        .unwrap();
        assert_eq!(g[0].family, Family::Gamma);
        match g[0].params() {
            Params::Gamma { shape, scale } => {
                assert!((shape - 3.0).abs() < 1e-4, "{shape}");
                assert!((scale - 0.5).abs() < 1e-4, "{scale}");
            }
            p => panic!("{p:?}"),
        }
    }

    #[test]
    fn rejects_bad_quantiles() {
        assert_eq!(fit_quantiles(&[(0.5, 1.0)]), Err(QuantileError::TooFew(1)));
        assert_eq!(
            fit_quantiles(&[(0.5, 1.0), (1.0, 2.0)]),
            Err(QuantileError::Invalid { p: 1.0, q: 2.0 })
        );
        assert!(matches!(
            fit_quantiles(&[(0.1, 3.0), (0.9, 2.0)]),
            Err(QuantileError::Decreasing { .. })
        ));
    }
}
