//! LLM latency profiles: a plain latency, or TTFT + output tokens x time per token.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::problems::{join, Problems};
use crate::sim::dist::{Dist, DistSpec};
use crate::sim::time::{secs_to_nanos, Nanos};

/// An LLM call's latency as written in a scenario file.
///
/// Either `latency` alone, or all of `ttft`, `tpot` and `output_tokens`
/// (latency = TTFT + output tokens x time per output token). `output_tokens` may be given
/// with `latency` too, to count tokens (cost) without tying latency to them.
///
/// ```json
/// {"ttft": {"dist": "lognormal", "median": 0.6, "sigma": 0.4},
///  "tpot": {"dist": "constant", "value": 0.012},
///  "output_tokens": {"dist": "lognormal", "median": 300, "sigma": 0.5}}
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmSpec {
    /// End-to-end latency of a call, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<DistSpec>,
    /// Time to first token, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft: Option<DistSpec>,
    /// Time per output token after the first, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpot: Option<DistSpec>,
    /// Output tokens per call (rounded, at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<DistSpec>,
}

/// How a validated profile produces a latency.
#[derive(Clone, Debug)]
enum Shape {
    Plain(Dist),
    Tokens { ttft: Dist, tpot: Dist },
}

/// A validated LLM latency profile.
#[derive(Clone, Debug)]
pub struct Llm {
    shape: Shape,
    tokens: Option<Dist>,
}

/// One simulated call: its latency and output tokens (0 when tokens are not modelled).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    /// Latency of the call.
    pub latency: Nanos,
    /// Output tokens produced.
    pub tokens: u64,
}

impl LlmSpec {
    /// A profile with a plain latency distribution.
    pub fn plain(latency: DistSpec) -> Self {
        LlmSpec {
            latency: Some(latency),
            ..Default::default()
        }
    }

    /// Validates the profile; problems are recorded under `path`.
    pub fn build(&self, path: &str, p: &mut Problems) -> Option<Llm> {
        let tokens = self
            .output_tokens
            .as_ref()
            .and_then(|t| t.build(&join(path, "output_tokens"), p));
        let shape = match (&self.latency, &self.ttft, &self.tpot) {
            (Some(l), None, None) => Shape::Plain(l.build(&join(path, "latency"), p)?),
            (None, Some(ttft), Some(tpot)) => {
                if self.output_tokens.is_none() {
                    p.push(
                        join(path, "output_tokens"),
                        "is required with ttft and tpot (latency = ttft + tokens x tpot)",
                    );
                    return None;
                }
                let ttft = ttft.build(&join(path, "ttft"), p);
                let tpot = tpot.build(&join(path, "tpot"), p);
                Shape::Tokens {
                    ttft: ttft?,
                    tpot: tpot?,
                }
            }
            _ => {
                p.push(
                    path,
                    "give either `latency`, or all of `ttft`, `tpot` and `output_tokens`",
                );
                return None;
            }
        };
        if self.output_tokens.is_some() && tokens.is_none() {
            return None;
        }
        Some(Llm { shape, tokens })
    }
}

impl Llm {
    /// A profile of constant latency (seconds) without tokens; handy in tests.
    pub fn constant(secs: f64) -> Self {
        Llm {
            shape: Shape::Plain(Dist::Constant(secs)),
            tokens: None,
        }
    }

    /// Draws one call.
    #[inline]
    pub fn call<R: Rng + ?Sized>(&self, rng: &mut R) -> Call {
        match &self.shape {
            Shape::Plain(d) => {
                let latency = d.sample_nanos(rng);
                let tokens = self.tokens.as_ref().map_or(0, |t| t.sample_count(rng, 1));
                Call { latency, tokens }
            }
            Shape::Tokens { ttft, tpot } => {
                let tokens = self.tokens.as_ref().map_or(1, |t| t.sample_count(rng, 1));
                let first = ttft.sample(rng);
                let per = tpot.sample(rng);
                let secs = first + per * (tokens.saturating_sub(1)) as f64;
                Call {
                    latency: secs_to_nanos(secs),
                    tokens,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Purpose, StreamKey};

    #[test]
    fn token_latency_is_ttft_plus_tokens_times_tpot() {
        let spec: LlmSpec = serde_json::from_str(
            r#"{"ttft":{"dist":"constant","value":0.5},
                "tpot":{"dist":"constant","value":0.01},
                "output_tokens":{"dist":"constant","value":101}}"#,
        )
        .unwrap();
        let llm = spec.build("target", &mut Problems::new()).unwrap();
        let c = llm.call(&mut StreamKey::root(0).rng(0, 0, Purpose::Target));
        assert_eq!(c.tokens, 101);
        assert_eq!(c.latency, 1_500_000_000);
    }

    #[test]
    fn half_specified_profiles_are_rejected() {
        let spec: LlmSpec =
            serde_json::from_str(r#"{"ttft":{"dist":"constant","value":0.5}}"#).unwrap();
        let mut p = Problems::new();
        assert!(spec.build("drafts[0].latency", &mut p).is_none());
        assert_eq!(
            p.items()[0].to_string(),
            "drafts[0].latency: give either `latency`, or all of `ttft`, `tpot` and `output_tokens`"
        );
    }
}
