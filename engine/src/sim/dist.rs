//! Latency distributions: a serde spec in scenario files, a validated sampler in memory.
//!
//! Every value is in seconds in files and reports. A [`DistSpec`] is checked once by
//! [`DistSpec::build`], which reports impossible parameters with their field path; the
//! resulting [`Dist`] wraps `rand_distr` objects and cannot fail while sampling.

use rand::distr::weighted::WeightedIndex;
use rand::distr::Uniform;
use rand::Rng;
use rand_distr::{Distribution, Exp, Gamma, LogNormal, Normal, Pareto, Weibull};
use serde::{Deserialize, Serialize};

use crate::problems::{index, join, Problems};
use crate::sim::time::{round_non_negative, secs_to_nanos, Nanos};

/// A distribution as written in a scenario file (seconds). Tagged by `"dist"`.
///
/// ```json
/// {"dist": "lognormal", "median": 6.0, "sigma": 0.6}
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum DistSpec {
    /// Always `value`.
    Constant { value: f64 },
    /// Uniform on `[low, high)`.
    Uniform { low: f64, high: f64 },
    /// Exponential with the given mean.
    Exponential { mean: f64 },
    /// Normal, truncated at 0 by rejection (requires `mean >= 0`).
    Normal { mean: f64, std: f64 },
    /// Lognormal with the given median (`exp(mu)`) and log-space `sigma`.
    Lognormal { median: f64, sigma: f64 },
    /// Gamma with `shape` (k) and `scale` (theta); mean = shape x scale.
    Gamma { shape: f64, scale: f64 },
    /// Weibull with `shape` (k) and `scale` (lambda).
    Weibull { shape: f64, scale: f64 },
    /// Pareto (type I) with minimum `scale` and tail index `shape`.
    Pareto { scale: f64, shape: f64 },
    /// Resamples recorded values uniformly (bootstrap).
    Empirical { samples: Vec<f64> },
    /// Draws a component by weight, then samples it.
    Mixture { components: Vec<MixtureComponent> },
}

/// One weighted component of a mixture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixtureComponent {
    /// Relative weight (> 0; weights need not sum to 1).
    pub weight: f64,
    /// The component distribution.
    pub dist: DistSpec,
}

/// A validated distribution over non-negative values (seconds, or counts for tokens).
#[derive(Clone, Debug)]
pub enum Dist {
    /// A fixed value.
    Constant(f64),
    /// Uniform.
    Uniform(Uniform<f64>),
    /// Exponential.
    Exponential(Exp<f64>),
    /// Normal truncated at 0.
    TruncNormal(Normal<f64>),
    /// Lognormal.
    Lognormal(LogNormal<f64>),
    /// Gamma.
    Gamma(Gamma<f64>),
    /// Weibull.
    Weibull(Weibull<f64>),
    /// Pareto.
    Pareto(Pareto<f64>),
    /// Bootstrap from samples.
    Empirical(Vec<f64>),
    /// Weighted mixture.
    Mixture(WeightedIndex<f64>, Vec<Dist>),
}

/// A sampler's constructor result; a refusal the checks above did not foresee is recorded
/// as a problem at `path` (never silently dropped, so validation cannot succeed without it).
fn sampler<T, E: std::fmt::Display>(p: &mut Problems, path: &str, r: Result<T, E>) -> Option<T> {
    match r {
        Ok(d) => Some(d),
        Err(e) => {
            p.push(
                path,
                format!("parameters the sampler cannot use ({e}): choose values of ordinary size"),
            );
            None
        }
    }
}

impl DistSpec {
    /// The mean of the distribution (infinite for heavy tails without one, e.g. a Pareto
    /// shape <= 1); for validated specs only. Used to estimate sizes before building.
    pub fn mean(&self) -> f64 {
        match self {
            DistSpec::Constant { value } => *value,
            DistSpec::Uniform { low, high } => low / 2.0 + high / 2.0,
            DistSpec::Exponential { mean } => *mean,
            // Truncation at 0 raises the mean by at most the std.
            DistSpec::Normal { mean, std } => mean + std,
            DistSpec::Lognormal { median, sigma } => median * (sigma * sigma / 2.0).exp(),
            DistSpec::Gamma { shape, scale } => shape * scale,
            DistSpec::Weibull { shape, scale } => {
                scale * statrs::function::gamma::gamma(1.0 + 1.0 / shape)
            }
            DistSpec::Pareto { scale, shape } => {
                if *shape > 1.0 {
                    scale * shape / (shape - 1.0)
                } else {
                    f64::INFINITY
                }
            }
            DistSpec::Empirical { samples } => {
                samples.iter().map(|x| x / samples.len() as f64).sum()
            }
            DistSpec::Mixture { components } => {
                let total: f64 = components.iter().map(|c| c.weight).sum();
                components
                    .iter()
                    .map(|c| c.weight / total * c.dist.mean())
                    .sum()
            }
        }
    }

    /// A constant distribution.
    pub fn constant(value: f64) -> Self {
        DistSpec::Constant { value }
    }

    /// Validates the parameters; records problems under `path` and returns `None` if any.
    pub fn build(&self, path: &str, p: &mut Problems) -> Option<Dist> {
        let before = p.items().len();
        let f = |name: &str| join(path, name);
        let dist = match self {
            DistSpec::Constant { value } => {
                p.non_negative(&f("value"), *value);
                Dist::Constant(*value)
            }
            DistSpec::Uniform { low, high } => {
                p.non_negative(&f("low"), *low);
                if !(high.is_finite() && high > low) {
                    p.push(
                        f("high"),
                        format!("must be finite and > low ({low}), got {high}"),
                    );
                    return None;
                }
                Dist::Uniform(sampler(p, path, Uniform::new(*low, *high))?)
            }
            DistSpec::Exponential { mean } => {
                if !p.positive(&f("mean"), *mean) {
                    return None;
                }
                Dist::Exponential(sampler(p, &f("mean"), Exp::new(1.0 / mean))?)
            }
            DistSpec::Normal { mean, std } => {
                let ok = p.non_negative(&f("mean"), *mean) & p.non_negative(&f("std"), *std);
                if !ok {
                    return None;
                }
                Dist::TruncNormal(sampler(p, path, Normal::new(*mean, *std))?)
            }
            DistSpec::Lognormal { median, sigma } => {
                let ok = p.positive(&f("median"), *median) & p.non_negative(&f("sigma"), *sigma);
                if !ok {
                    return None;
                }
                Dist::Lognormal(sampler(p, path, LogNormal::new(median.ln(), *sigma))?)
            }
            DistSpec::Gamma { shape, scale } => {
                let ok = p.positive(&f("shape"), *shape) & p.positive(&f("scale"), *scale);
                if !ok {
                    return None;
                }
                Dist::Gamma(sampler(p, path, Gamma::new(*shape, *scale))?)
            }
            DistSpec::Weibull { shape, scale } => {
                let ok = p.positive(&f("shape"), *shape) & p.positive(&f("scale"), *scale);
                if !ok {
                    return None;
                }
                Dist::Weibull(sampler(p, path, Weibull::new(*scale, *shape))?)
            }
            DistSpec::Pareto { scale, shape } => {
                let ok = p.positive(&f("scale"), *scale) & p.positive(&f("shape"), *shape);
                if !ok {
                    return None;
                }
                Dist::Pareto(sampler(p, path, Pareto::new(*scale, *shape))?)
            }
            DistSpec::Empirical { samples } => {
                if samples.is_empty() {
                    p.push(
                        f("samples"),
                        "must hold at least one value, got an empty list",
                    );
                    return None;
                }
                for (i, s) in samples.iter().enumerate() {
                    p.non_negative(&index(&f("samples"), i), *s);
                }
                Dist::Empirical(samples.clone())
            }
            DistSpec::Mixture { components } => {
                if components.is_empty() {
                    p.push(
                        f("components"),
                        "must hold at least one component, got none",
                    );
                    return None;
                }
                let mut parts = Vec::with_capacity(components.len());
                for (i, c) in components.iter().enumerate() {
                    let cp = index(&f("components"), i);
                    p.positive(&join(&cp, "weight"), c.weight);
                    if let Some(d) = c.dist.build(&join(&cp, "dist"), p) {
                        parts.push(d);
                    }
                }
                if p.items().len() > before {
                    return None;
                }
                // Each weight is finite, but their sum may not be (1e308 + 1e308): the
                // sampler needs a finite total.
                let total: f64 = components.iter().map(|c| c.weight).sum();
                if !total.is_finite() {
                    p.push(
                        f("components"),
                        format!(
                            "the weights sum to {total}, past the largest number: scale them down (only their ratios matter)"
                        ),
                    );
                    return None;
                }
                let w = sampler(
                    p,
                    &f("components"),
                    WeightedIndex::new(components.iter().map(|c| c.weight)),
                )?;
                Dist::Mixture(w, parts)
            }
        };
        (p.items().len() == before).then_some(dist)
    }

    /// Multiplies every time scale of the distribution by `factor` (> 0).
    pub fn scaled(&self, factor: f64) -> DistSpec {
        use DistSpec::*;
        match self {
            Constant { value } => Constant {
                value: value * factor,
            },
            Uniform { low, high } => Uniform {
                low: low * factor,
                high: high * factor,
            },
            Exponential { mean } => Exponential {
                mean: mean * factor,
            },
            Normal { mean, std } => Normal {
                mean: mean * factor,
                std: std * factor,
            },
            Lognormal { median, sigma } => Lognormal {
                median: median * factor,
                sigma: *sigma,
            },
            Gamma { shape, scale } => Gamma {
                shape: *shape,
                scale: scale * factor,
            },
            Weibull { shape, scale } => Weibull {
                shape: *shape,
                scale: scale * factor,
            },
            Pareto { scale, shape } => Pareto {
                scale: scale * factor,
                shape: *shape,
            },
            Empirical { samples } => Empirical {
                samples: samples.iter().map(|s| s * factor).collect(),
            },
            Mixture { components } => Mixture {
                components: components
                    .iter()
                    .map(|c| MixtureComponent {
                        weight: c.weight,
                        dist: c.dist.scaled(factor),
                    })
                    .collect(),
            },
        }
    }
}

impl Dist {
    /// Draws one value (>= 0).
    ///
    /// Lognormal and constant distributions, the ones nearly every scenario's latencies
    /// use, are drawn inline at the call site; the others through one out-of-line call.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Lognormal(d) => d.sample(rng).max(0.0),
            Dist::Constant(v) => v.max(0.0),
            _ => self.sample_other(rng),
        }
    }

    /// [`Dist::sample`] of the other distributions.
    #[inline(never)]
    fn sample_other<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let v = match self {
            Dist::Constant(v) => *v,
            Dist::Uniform(d) => d.sample(rng),
            Dist::Exponential(d) => d.sample(rng),
            Dist::TruncNormal(d) => {
                // mean >= 0, so each draw is accepted with probability >= 1/2; the cap
                // only guards against a degenerate std of 0 at mean 0.
                let mut x = d.sample(rng);
                let mut tries = 0;
                while x < 0.0 && tries < 64 {
                    x = d.sample(rng);
                    tries += 1;
                }
                x
            }
            Dist::Lognormal(d) => d.sample(rng),
            Dist::Gamma(d) => d.sample(rng),
            Dist::Weibull(d) => d.sample(rng),
            Dist::Pareto(d) => d.sample(rng),
            Dist::Empirical(s) => s[rng.random_range(0..s.len())],
            Dist::Mixture(w, parts) => parts[w.sample(rng)].sample(rng),
        };
        v.max(0.0)
    }

    /// Draws one span of virtual time (the value read as seconds).
    #[inline]
    pub fn sample_nanos<R: Rng + ?Sized>(&self, rng: &mut R) -> Nanos {
        secs_to_nanos(self.sample(rng))
    }

    /// Draws a count (tokens): the value rounded to the nearest integer, at least `min`.
    #[inline]
    pub fn sample_count<R: Rng + ?Sized>(&self, rng: &mut R, min: u64) -> u64 {
        // `sample` is never negative (nor NaN: `max` drops it); values from 2^63 on, where
        // floats are integers already, go through `round` as before.
        let v = self.sample(rng);
        if v < (1u64 << 63) as f64 {
            round_non_negative(v).max(min)
        } else {
            let v = v.round();
            if v.is_finite() && v < u64::MAX as f64 {
                (v as u64).max(min)
            } else {
                min
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Purpose, StreamKey};

    fn build(spec: &str) -> Result<Dist, Vec<String>> {
        let s: DistSpec = serde_json::from_str(spec).expect("spec parses");
        let mut p = Problems::new();
        s.build("fetch", &mut p)
            .ok_or_else(|| p.into_vec().iter().map(|x| x.to_string()).collect())
    }

    fn mean_of(d: &Dist, n: usize) -> f64 {
        let mut r = StreamKey::root(9).rng(0, 0, Purpose::Other);
        (0..n).map(|_| d.sample(&mut r)).sum::<f64>() / n as f64
    }

    #[test]
    fn impossible_parameters_name_the_field() {
        let e = build(r#"{"dist":"lognormal","median":-1,"sigma":0.5}"#).unwrap_err();
        assert_eq!(e, vec!["fetch.median: must be a finite number > 0, got -1"]);
        let e = build(r#"{"dist":"uniform","low":2,"high":1}"#).unwrap_err();
        assert_eq!(e, vec!["fetch.high: must be finite and > low (2), got 1"]);
        let e = build(r#"{"dist":"mixture","components":[{"weight":0,"dist":{"dist":"constant","value":1}}]}"#)
            .unwrap_err();
        assert_eq!(
            e,
            vec!["fetch.components[0].weight: must be a finite number > 0, got 0"]
        );
        let e = build(r#"{"dist":"empirical","samples":[]}"#).unwrap_err();
        assert_eq!(
            e[0],
            "fetch.samples: must hold at least one value, got an empty list"
        );
    }

    /// Issue 14: weights that pass "finite > 0" but overflow when summed panicked in rand.
    #[test]
    fn mixture_weights_that_overflow_when_summed_are_a_problem_not_a_panic() {
        let e = build(r#"{"dist":"mixture","components":[{"weight":1e308,"dist":{"dist":"constant","value":1}},{"weight":1e308,"dist":{"dist":"constant","value":2}}]}"#)
            .unwrap_err();
        assert_eq!(
            e,
            vec!["fetch.components: the weights sum to inf, past the largest number: scale them down (only their ratios matter)"]
        );
        // Huge but summable weights are fine: only ratios matter.
        let d = build(r#"{"dist":"mixture","components":[{"weight":1e307,"dist":{"dist":"constant","value":1}},{"weight":3e307,"dist":{"dist":"constant","value":5}}]}"#)
            .unwrap();
        assert!((mean_of(&d, 20_000) - 4.0).abs() < 0.1);
    }

    #[test]
    fn a_sampler_refusal_is_always_recorded() {
        // 1 / 5e-324 overflows to an infinite rate: the sampler's own check must surface.
        let e = build(r#"{"dist":"exponential","mean":5e-324}"#);
        match e {
            Ok(d) => assert!(d.sample(&mut StreamKey::root(1).rng(0, 0, Purpose::Other)) >= 0.0),
            Err(e) => assert_eq!(e.len(), 1, "{e:?}"),
        }
    }

    #[test]
    fn means_of_specs() {
        let mean = |s: &str| serde_json::from_str::<DistSpec>(s).unwrap().mean();
        assert_eq!(
            mean(r#"{"dist":"constant","value":4294967296}"#),
            4294967296.0
        );
        assert_eq!(mean(r#"{"dist":"uniform","low":2,"high":10}"#), 6.0);
        assert_eq!(
            mean(r#"{"dist":"pareto","scale":1,"shape":0.5}"#),
            f64::INFINITY
        );
        assert!((mean(r#"{"dist":"weibull","shape":1,"scale":2}"#) - 2.0).abs() < 1e-12);
        assert_eq!(
            mean(
                r#"{"dist":"mixture","components":[{"weight":3,"dist":{"dist":"constant","value":1}},{"weight":1,"dist":{"dist":"constant","value":5}}]}"#
            ),
            2.0
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let r: Result<DistSpec, _> =
            serde_json::from_str(r#"{"dist":"constant","value":1,"sigma":2}"#);
        assert!(r.unwrap_err().to_string().contains("unknown field `sigma`"));
    }

    #[test]
    fn sample_means_match_theory() {
        // 200k draws: standard error of the mean is well under 1 % for these spreads;
        // the tolerance is 2 %.
        let cases = [
            (r#"{"dist":"exponential","mean":2.0}"#, 2.0),
            (
                r#"{"dist":"lognormal","median":1.0,"sigma":0.5}"#,
                (0.125f64).exp(),
            ),
            (r#"{"dist":"gamma","shape":2.0,"scale":1.5}"#, 3.0),
            (r#"{"dist":"uniform","low":1.0,"high":3.0}"#, 2.0),
            (r#"{"dist":"pareto","scale":1.0,"shape":3.0}"#, 1.5),
            (r#"{"dist":"weibull","shape":1.0,"scale":2.0}"#, 2.0),
            (r#"{"dist":"empirical","samples":[1,2,3,6]}"#, 3.0),
            (
                r#"{"dist":"mixture","components":[{"weight":3,"dist":{"dist":"constant","value":1}},{"weight":1,"dist":{"dist":"constant","value":5}}]}"#,
                2.0,
            ),
        ];
        for (spec, want) in cases {
            let got = mean_of(&build(spec).unwrap(), 200_000);
            assert!(
                (got - want).abs() / want < 0.02,
                "{spec}: mean {got}, want {want}"
            );
        }
    }

    #[test]
    fn truncated_normal_is_never_negative() {
        let d = build(r#"{"dist":"normal","mean":0.1,"std":1.0}"#).unwrap();
        let mut r = StreamKey::root(3).rng(0, 0, Purpose::Other);
        assert!((0..10_000).all(|_| d.sample(&mut r) >= 0.0));
    }

    #[test]
    fn scaling_multiplies_the_mean() {
        let s: DistSpec = serde_json::from_str(r#"{"dist":"gamma","shape":2,"scale":1}"#).unwrap();
        let d = s.scaled(3.0).build("x", &mut Problems::new()).unwrap();
        let m = mean_of(&d, 100_000);
        assert!((m - 6.0).abs() < 0.12, "mean {m}");
    }
}
