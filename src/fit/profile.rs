//! Latency profiles derived from measurements: LLM fits (TTFT + time per output token +
//! output tokens) and the profile document written to `traces/profiles/`.
//!
//! A profile document carries the fitted distribution in `profile` (a [`DistSpec`] for a
//! fetch or plain latency, an [`LlmSpec`] for an LLM), ready to paste into a scenario's
//! `fetch`, `target`, `stages[].latency` or `drafts[].latency`, together with where the
//! numbers came from and how well each quantity fits. It never holds raw measurements.

use serde::{Deserialize, Serialize};

use super::{fit, FitError, FitReport};
use crate::dist::DistSpec;
use crate::llm::LlmSpec;

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

/// Largest KS statistic at which an LLM profile keeps the best parametric family; above
/// it (e.g. output tokens, a count concentrated on a few values) the profile holds an
/// empirical summary of [`EMPIRICAL_POINTS`] quantiles instead.
pub const KS_MAX: f64 = 0.2;

/// Quantiles kept by an empirical summary.
pub const EMPIRICAL_POINTS: usize = 100;

/// The distribution chosen for one quantity of a profile.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// The distribution.
    pub spec: DistSpec,
    /// `constant`, a family name, or `empirical`.
    pub chosen: String,
}

/// The best family by AIC, unless its KS statistic exceeds [`KS_MAX`]: then an empirical
/// summary of the sample's quantiles.
pub fn choose(report: &FitReport, values: &[f64]) -> Choice {
    match report.best_fit() {
        None => Choice {
            spec: report.best_spec(),
            chosen: "constant".into(),
        },
        Some(b) if b.ks <= KS_MAX => Choice {
            spec: b.spec.clone(),
            chosen: b.family.name().into(),
        },
        Some(_) => {
            let mut sorted = values.to_vec();
            sorted.sort_by(f64::total_cmp);
            Choice {
                spec: FitReport::empirical_spec(&sorted, EMPIRICAL_POINTS),
                chosen: "empirical".into(),
            }
        }
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

    /// One summary line per quantity (KS and AIC are those of the best parametric family).
    pub fn summaries(&self) -> Vec<FitSummary> {
        let mut out = vec![
            FitSummary::new("ttft", "s", &self.ttft),
            FitSummary::new("tpot", "s", &self.tpot),
            FitSummary::new("output_tokens", "tokens", &self.tokens),
            FitSummary::new("e2e", "s", &self.e2e),
        ];
        for (s, c) in out.iter_mut().zip(&self.choices) {
            if c.chosen == "empirical" {
                s.chosen = format!("empirical (best parametric {} has KS > {KS_MAX})", s.chosen);
            }
        }
        out
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
    /// Chosen family (smallest AIC), or `constant` when all samples are equal, or
    /// the family of a quantile fit.
    pub chosen: String,
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
    /// The summary of a maximum-likelihood fit.
    pub fn new(quantity: &str, unit: &str, r: &FitReport) -> Self {
        let best = r.best_fit();
        FitSummary {
            quantity: quantity.into(),
            unit: unit.into(),
            n: r.n,
            median: r.median,
            chosen: best.map_or("constant", |f| f.family.name()).into(),
            ks: best.map(|f| f.ks),
            aic: best.map(|f| f.aic),
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
    use crate::problems::Problems;

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
