//! The parametric families the fitter knows, with fitted parameters and their densities.

use serde::{Deserialize, Serialize};
use statrs::distribution::{Continuous, ContinuousCDF, Exp, Gamma, LogNormal, Pareto, Weibull};

use crate::sim::dist::DistSpec;

/// A distribution family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Exponential (1 parameter: mean).
    Exponential,
    /// Lognormal (2: median, sigma).
    Lognormal,
    /// Gamma (2: shape, scale).
    Gamma,
    /// Weibull (2: shape, scale).
    Weibull,
    /// Pareto type I (2: scale = minimum, shape = tail index).
    Pareto,
}

impl Family {
    /// Every parametric family, in the order tables list them.
    pub const ALL: [Family; 5] = [
        Family::Exponential,
        Family::Lognormal,
        Family::Gamma,
        Family::Weibull,
        Family::Pareto,
    ];

    /// The family's name as in `DistSpec` (`"dist"` tag).
    pub fn name(self) -> &'static str {
        match self {
            Family::Exponential => "exponential",
            Family::Lognormal => "lognormal",
            Family::Gamma => "gamma",
            Family::Weibull => "weibull",
            Family::Pareto => "pareto",
        }
    }

    /// Number of free parameters (for AIC).
    pub fn n_params(self) -> usize {
        match self {
            Family::Exponential => 1,
            _ => 2,
        }
    }
}

/// A family with its parameters, in the units of the samples (seconds for latencies).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Params {
    /// Exponential with the given mean.
    Exponential { mean: f64 },
    /// Lognormal: `ln x ~ Normal(ln median, sigma)`.
    Lognormal { median: f64, sigma: f64 },
    /// Gamma with shape k and scale theta.
    Gamma { shape: f64, scale: f64 },
    /// Weibull with shape k and scale lambda.
    Weibull { shape: f64, scale: f64 },
    /// Pareto with minimum `scale` and tail index `shape`.
    Pareto { scale: f64, shape: f64 },
}

/// A validated statrs distribution for densities and CDFs.
enum Law {
    Exp(Exp),
    LogNormal(LogNormal),
    Gamma(Gamma),
    Weibull(Weibull),
    Pareto(Pareto),
}

impl Params {
    /// The family of these parameters.
    pub fn family(&self) -> Family {
        match self {
            Params::Exponential { .. } => Family::Exponential,
            Params::Lognormal { .. } => Family::Lognormal,
            Params::Gamma { .. } => Family::Gamma,
            Params::Weibull { .. } => Family::Weibull,
            Params::Pareto { .. } => Family::Pareto,
        }
    }

    /// The parameters as a scenario distribution.
    pub fn to_spec(&self) -> DistSpec {
        match *self {
            Params::Exponential { mean } => DistSpec::Exponential { mean },
            Params::Lognormal { median, sigma } => DistSpec::Lognormal { median, sigma },
            Params::Gamma { shape, scale } => DistSpec::Gamma { shape, scale },
            Params::Weibull { shape, scale } => DistSpec::Weibull { shape, scale },
            Params::Pareto { scale, shape } => DistSpec::Pareto { scale, shape },
        }
    }

    /// `name=value` pairs for tables, in `DistSpec` field names.
    pub fn describe(&self) -> String {
        match *self {
            Params::Exponential { mean } => format!("mean={}", sig(mean)),
            Params::Lognormal { median, sigma } => {
                format!("median={} sigma={}", sig(median), sig(sigma))
            }
            Params::Gamma { shape, scale } | Params::Weibull { shape, scale } => {
                format!("shape={} scale={}", sig(shape), sig(scale))
            }
            Params::Pareto { scale, shape } => {
                format!("scale={} shape={}", sig(scale), sig(shape))
            }
        }
    }

    fn law(&self) -> Option<Law> {
        Some(match *self {
            Params::Exponential { mean } => Law::Exp(Exp::new(1.0 / mean).ok()?),
            Params::Lognormal { median, sigma } => {
                Law::LogNormal(LogNormal::new(median.ln(), sigma).ok()?)
            }
            Params::Gamma { shape, scale } => Law::Gamma(Gamma::new(shape, 1.0 / scale).ok()?),
            Params::Weibull { shape, scale } => Law::Weibull(Weibull::new(shape, scale).ok()?),
            Params::Pareto { scale, shape } => Law::Pareto(Pareto::new(scale, shape).ok()?),
        })
    }

    /// Cumulative distribution function; `None` if the parameters are degenerate.
    pub fn cdf(&self, x: f64) -> Option<f64> {
        Some(match self.law()? {
            Law::Exp(d) => d.cdf(x),
            Law::LogNormal(d) => d.cdf(x),
            Law::Gamma(d) => d.cdf(x),
            // statrs precomputes scale^-shape, which underflows for large shapes (nearly
            // constant samples such as token counts); the closed form in x / scale does not.
            Law::Weibull(_) => match *self {
                Params::Weibull { shape, scale } if x > 0.0 => -(-(x / scale).powf(shape)).exp_m1(),
                _ => 0.0,
            },
            Law::Pareto(d) => d.cdf(x),
        })
    }

    /// Quantile function at `p` in (0, 1); `None` if the parameters are degenerate.
    pub fn quantile(&self, p: f64) -> Option<f64> {
        Some(match self.law()? {
            Law::Exp(d) => d.inverse_cdf(p),
            Law::LogNormal(d) => d.inverse_cdf(p),
            Law::Gamma(d) => d.inverse_cdf(p),
            Law::Weibull(d) => d.inverse_cdf(p),
            Law::Pareto(d) => d.inverse_cdf(p),
        })
    }

    /// Log-likelihood of `xs`; `None` if the parameters are degenerate, `-inf` if a
    /// sample lies outside the support.
    pub fn log_likelihood(&self, xs: &[f64]) -> Option<f64> {
        let law = self.law()?;
        let ln_pdf = |x: f64| match &law {
            Law::Exp(d) => d.ln_pdf(x),
            Law::LogNormal(d) => d.ln_pdf(x),
            Law::Gamma(d) => d.ln_pdf(x),
            Law::Weibull(_) => match *self {
                Params::Weibull { shape, scale } if x > 0.0 => {
                    let z = (x / scale).ln();
                    shape.ln() - scale.ln() + (shape - 1.0) * z - (shape * z).exp()
                }
                _ => f64::NEG_INFINITY,
            },
            Law::Pareto(d) => d.ln_pdf(x),
        };
        Some(xs.iter().map(|&x| ln_pdf(x)).sum())
    }
}

/// Formats a number with 4 significant digits for tables.
pub fn sig(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = 3 - x.abs().log10().floor() as i32;
    if (0..=8).contains(&digits) {
        format!("{:.*}", digits as usize, x)
    } else {
        format!("{x:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameterisations_match_dist_spec() {
        // Medians in closed form pin each family's parameter convention to DistSpec's.
        let ln = Params::Lognormal {
            median: 3.0,
            sigma: 0.7,
        };
        assert!((ln.quantile(0.5).unwrap() - 3.0).abs() < 1e-9);
        let ex = Params::Exponential { mean: 2.0 };
        assert!((ex.quantile(0.5).unwrap() - 2.0 * 2f64.ln()).abs() < 1e-9);
        let wb = Params::Weibull {
            shape: 2.0,
            scale: 5.0,
        };
        assert!((wb.quantile(0.5).unwrap() - 5.0 * 2f64.ln().sqrt()).abs() < 1e-9);
        let pa = Params::Pareto {
            scale: 1.5,
            shape: 3.0,
        };
        assert!((pa.quantile(0.5).unwrap() - 1.5 * 2f64.powf(1.0 / 3.0)).abs() < 1e-9);
        // Gamma(shape 1, scale 4) is exponential with mean 4.
        let ga = Params::Gamma {
            shape: 1.0,
            scale: 4.0,
        };
        assert!((ga.cdf(4.0).unwrap() - (1.0 - (-1f64).exp())).abs() < 1e-9);
    }

    #[test]
    fn significant_digits() {
        assert_eq!(sig(5.43219), "5.432");
        assert_eq!(sig(0.0123456), "0.01235");
        assert_eq!(sig(1234.4), "1234");
        assert_eq!(sig(0.0), "0");
    }
}
