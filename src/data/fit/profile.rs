//! Latency profiles derived from measurements: LLM fits (TTFT + time per output token +
//! output tokens) and the profile document written to `traces/profiles/`.
//!
//! A profile document carries the fitted distribution in `profile` (a [`DistSpec`] for a
//! fetch or plain latency, an [`LlmSpec`] for an LLM), ready to paste into a scenario's
//! `fetch`, `target`, `stages[].latency` or `drafts[].latency`, together with where the
//! numbers came from and how well each quantity fits. It never holds raw measurements.

use serde::{Deserialize, Serialize};

use super::{fit, FitError, FitReport};
use crate::sim::dist::DistSpec;
use crate::sim::llm::LlmSpec;

/// Version of the profile document format.
pub const PROFILE_VERSION: u32 = 1;

/// One LLM request as measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LlmSample {
    /// Time to first token, seconds.
    pub ttft: f64,
    /// End-to-end latency, seconds.
    pub e2e: f64,
    /// Output tokens.
    pub tokens: f64,
}

impl LlmSample {
    /// Time per output token after the first: `(e2e - ttft) / (tokens - 1)`, so that the
    /// simulator's `ttft + (tokens - 1) x tpot` reproduces the measured end-to-end latency.
    /// `None` for fewer than 2 tokens.
    pub fn tpot(&self) -> Option<f64> {
        (self.tokens >= 2.0).then(|| ((self.e2e - self.ttft) / (self.tokens - 1.0)).max(0.0))
    }
}

/// Largest KS statistic at which a profile keeps a parametric family; when no
/// acceptable family fits this well (e.g. output tokens, a count concentrated on a few
/// values) the profile holds an empirical summary of [`EMPIRICAL_POINTS`] quantiles.
pub const KS_MAX: f64 = 0.2;

/// Quantiles kept by an empirical summary.
pub const EMPIRICAL_POINTS: usize = 100;

/// A Pareto fit with a tail index at or below this has infinite variance, so simulated
/// means and their confidence intervals would not settle: profiles skip it.
pub const PARETO_MIN_SHAPE: f64 = 2.0;

/// The distribution chosen for one quantity of a profile.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// The distribution.
    pub spec: DistSpec,
    /// `constant`, a family name, or `empirical`.
    pub chosen: String,
    /// Why, e.g. `smallest AIC`.
    pub reason: String,
    /// KS statistic and AIC of the chosen family (parametric choices only).
    pub ks_aic: Option<(f64, f64)>,
}

/// The profile's distribution for a sample: the family with the smallest AIC among those
/// that fit acceptably (KS <= [`KS_MAX`], and for the Pareto a tail index above
/// [`PARETO_MIN_SHAPE`]); a constant when all samples are equal; otherwise an empirical
/// summary of [`EMPIRICAL_POINTS`] quantiles.
pub fn choose(report: &FitReport, values: &[f64]) -> Choice {
    let Some(best) = report.best_fit() else {
        return Choice {
            spec: report.best_spec(),
            chosen: "constant".into(),
            reason: format!("all {} samples are equal", report.n),
            ks_aic: None,
        };
    };
    let mut by_aic: Vec<&super::FamilyFit> = report.fits.iter().collect();
    by_aic.sort_by(|a, b| a.aic.total_cmp(&b.aic));
    let mut rejected = Vec::new();
    for f in by_aic {
        let heavy =
            matches!(f.params(), super::Params::Pareto { shape, .. } if shape <= PARETO_MIN_SHAPE);
        if heavy {
            rejected.push(format!(
                "{} (tail index <= {PARETO_MIN_SHAPE}: infinite variance)",
                f.family.name()
            ));
        } else if f.ks > KS_MAX {
            rejected.push(format!("{} (KS {:.3} > {KS_MAX})", f.family.name(), f.ks));
        } else {
            let reason = if f.family == best.family {
                "smallest AIC".to_string()
            } else {
                format!("smallest AIC after rejecting {}", rejected.join(", "))
            };
            return Choice {
                spec: f.spec.clone(),
                chosen: f.family.name().into(),
                reason,
                ks_aic: Some((f.ks, f.aic)),
            };
        }
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Choice {
        spec: FitReport::empirical_spec(&sorted, EMPIRICAL_POINTS),
        chosen: "empirical".into(),
        reason: format!(
            "{EMPIRICAL_POINTS} quantiles of the sample; no family fits acceptably: {}",
            rejected.join(", ")
        ),
        ks_aic: None,
    }
}

/// Fits of an LLM's three quantities and the resulting profile.
#[derive(Clone, Debug, PartialEq)]
pub struct LlmFit {
    /// Time to first token, seconds.
    pub ttft: FitReport,
    /// Time per output token, seconds.
    pub tpot: FitReport,
    /// Output tokens per request.
    pub tokens: FitReport,
    /// End-to-end latency, seconds (for reference; the profile rebuilds it).
    pub e2e: FitReport,
    /// What the profile uses for ttft, tpot and output tokens.
    pub choices: [Choice; 3],
}

impl LlmFit {
    /// The profile: the chosen distribution of each quantity (see [`choose`]).
    pub fn spec(&self) -> LlmSpec {
        LlmSpec {
            latency: None,
            ttft: Some(self.choices[0].spec.clone()),
            tpot: Some(self.choices[1].spec.clone()),
            output_tokens: Some(self.choices[2].spec.clone()),
        }
    }

    /// One summary line per quantity (end-to-end latency for reference, as by [`choose`]).
    pub fn summaries(&self) -> Vec<FitSummary> {
        let e2e = choose(&self.e2e, &[]);
        vec![
            FitSummary::new("ttft", "s", &self.ttft, &self.choices[0]),
            FitSummary::new("tpot", "s", &self.tpot, &self.choices[1]),
            FitSummary::new("output_tokens", "tokens", &self.tokens, &self.choices[2]),
            FitSummary::new("e2e", "s", &self.e2e, &e2e),
        ]
    }
}

/// Fits TTFT, time per output token, output tokens and end-to-end latency of successful
/// requests.
pub fn fit_llm(samples: &[LlmSample]) -> Result<LlmFit, FitError> {
    let ttft: Vec<f64> = samples.iter().map(|s| s.ttft).collect();
    let tpot: Vec<f64> = samples.iter().filter_map(LlmSample::tpot).collect();
    let tokens: Vec<f64> = samples.iter().map(|s| s.tokens).collect();
    let e2e: Vec<f64> = samples.iter().map(|s| s.e2e).collect();
    let (rt, rp, rk) = (fit(&ttft)?, fit(&tpot)?, fit(&tokens)?);
    let choices = [choose(&rt, &ttft), choose(&rp, &tpot), choose(&rk, &tokens)];
    Ok(LlmFit {
        ttft: rt,
        tpot: rp,
        tokens: rk,
        e2e: fit(&e2e)?,
        choices,
    })
}

/// Where a profile's numbers come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The dataset, e.g. `ray-project/llmperf-leaderboard raw_data/individual`.
    pub dataset: String,
    /// Where to fetch the originals.
    pub upstream: String,
    /// The dataset's licence.
    pub licence: String,
    /// Input files (base names) the profile was derived from.
    pub files: Vec<String>,
    /// How the numbers were derived (selection, units).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A fitted distribution: a plain one or an LLM profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Profile {
    /// A latency distribution (e.g. page fetch), seconds.
    Latency(DistSpec),
    /// An LLM profile.
    Llm(LlmSpec),
}

/// How well one quantity fits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitSummary {
    /// What was fitted (`ttft`, `tpot`, `output_tokens`, `e2e`, `latency`, ...).
    pub quantity: String,
    /// Unit of the samples (`s` or `tokens`).
    pub unit: String,
    /// Samples fitted.
    pub n: usize,
    /// Sample median.
    pub median: f64,
    /// What the profile uses (see [`choose`]): a family, `constant` or `empirical`; or
    /// the family of a quantile fit.
    pub chosen: String,
    /// Why it was chosen.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Kolmogorov-Smirnov statistic of the chosen family (absent for constants and
    /// quantile fits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ks: Option<f64>,
    /// AIC of the chosen family (absent for constants and quantile fits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aic: Option<f64>,
    /// Root-mean-square log error of a quantile fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rms_log_error: Option<f64>,
}

impl FitSummary {
    /// The summary of a maximum-likelihood fit and the choice made from it.
    pub fn new(quantity: &str, unit: &str, r: &FitReport, c: &Choice) -> Self {
        FitSummary {
            quantity: quantity.into(),
            unit: unit.into(),
            n: r.n,
            median: r.median,
            chosen: c.chosen.clone(),
            reason: c.reason.clone(),
            ks: c.ks_aic.map(|x| x.0),
            aic: c.ks_aic.map(|x| x.1),
            rms_log_error: None,
        }
    }
}

/// A profile file: the fitted distribution and where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileDoc {
    /// Format version ([`PROFILE_VERSION`]).
    pub specsim_profile: u32,
    /// Name, e.g. `llmperf_groq_70b`.
    pub name: String,
    /// Provenance.
    pub source: Source,
    /// Measurements used (successful requests, or samples).
    pub n: usize,
    /// Failed requests seen (LLM measurements only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<usize>,
    /// `failed / (n + failed)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<f64>,
    /// The distribution to paste into a scenario.
    pub profile: Profile,
    /// Goodness of fit per quantity.
    pub fits: Vec<FitSummary>,
}

impl ProfileDoc {
    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// `failed / total`, 0 for no requests.
pub fn error_rate(ok: usize, failed: usize) -> f64 {
    if ok + failed == 0 {
        0.0
    } else {
        failed as f64 / (ok + failed) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::problems::Problems;

    #[test]
    fn tpot_reproduces_end_to_end_latency() {
        let s = LlmSample {
            ttft: 0.5,
            e2e: 2.0,
            tokens: 151.0,
        };
        let tpot = s.tpot().unwrap();
        assert!((s.ttft + (s.tokens - 1.0) * tpot - s.e2e).abs() < 1e-12);
        assert_eq!(LlmSample { tokens: 1.0, ..s }.tpot(), None);
    }

    #[test]
    fn llm_profile_is_a_valid_llm_spec() {
        let samples: Vec<LlmSample> = (0..50)
            .map(|i| {
                let t = 0.3 + 0.01 * (i % 7) as f64;
                LlmSample {
                    ttft: t,
                    e2e: t + 150.0 * (0.02 + 0.001 * (i % 5) as f64),
                    tokens: 151.0,
                }
            })
            .collect();
        let f = fit_llm(&samples).unwrap();
        // Every request has 151 tokens: a constant, not a degenerate fit.
        assert_eq!(
            f.spec().output_tokens,
            Some(DistSpec::Constant { value: 151.0 })
        );
        let spec = f.spec();
        let mut p = Problems::new();
        assert!(spec.build("target", &mut p).is_some(), "{:?}", p.items());
        let doc = ProfileDoc {
            specsim_profile: PROFILE_VERSION,
            name: "x".into(),
            source: Source {
                dataset: "d".into(),
                upstream: "u".into(),
                licence: "MIT".into(),
                files: vec!["a.json".into()],
                note: String::new(),
            },
            n: 50,
            failed: Some(2),
            error_rate: Some(error_rate(50, 2)),
            profile: Profile::Llm(spec),
            fits: f.summaries(),
        };
        // serde_json's default float parser may differ in the last bit, so compare the
        // fields that are exact and the profile's type.
        let back: ProfileDoc = serde_json::from_str(&doc.to_json()).unwrap();
        assert_eq!(
            (back.n, back.failed, &back.source),
            (50, Some(2), &doc.source)
        );
        assert_eq!(back.fits.len(), 4);
        assert_eq!(back.fits[2].chosen, "constant");
        assert!(matches!(back.profile, Profile::Llm(_)));
        assert!((error_rate(50, 2) - 2.0 / 52.0).abs() < 1e-15);
    }
}

#[cfg(test)]
mod choice_tests {
    use super::*;

    #[test]
    fn poor_fits_fall_back_to_empirical_quantiles() {
        // 90 % of the sample at 150, 10 % at 120: no continuous family gets KS <= 0.2.
        // (The e2e summary passes an empty slice: its empirical summary is never used.)
        let xs: Vec<f64> = (0..200)
            .map(|i| if i % 10 == 0 { 120.0 } else { 150.0 })
            .collect();
        let r = fit(&xs).unwrap();
        assert!(r.best_fit().unwrap().ks > KS_MAX);
        let c = choose(&r, &xs);
        assert_eq!(c.chosen, "empirical");
        match c.spec {
            DistSpec::Empirical { samples } => {
                assert_eq!(samples.len(), EMPIRICAL_POINTS);
                assert_eq!(samples.iter().filter(|v| **v == 120.0).count(), 10);
            }
            s => panic!("{s:?}"),
        }
    }
}

#[cfg(test)]
mod heavy_tail_tests {
    use super::*;
    use crate::sim::rng::{Purpose, StreamKey};
    use rand_distr::Distribution;

    #[test]
    fn infinite_variance_pareto_is_not_chosen() {
        // Pareto with tail index 1.5: AIC picks the Pareto, the profile must not.
        let d = rand_distr::Pareto::new(1.0, 1.5).unwrap();
        let mut r = StreamKey::root(7).rng(0, 0, Purpose::Other);
        let xs: Vec<f64> = (0..2000).map(|_| d.sample(&mut r)).collect();
        let rep = fit(&xs).unwrap();
        assert_eq!(rep.best, Some(super::super::Family::Pareto));
        let c = choose(&rep, &xs);
        assert_ne!(c.chosen, "pareto");
        assert!(
            c.reason
                .contains("pareto (tail index <= 2: infinite variance)"),
            "{}",
            c.reason
        );
    }
}
