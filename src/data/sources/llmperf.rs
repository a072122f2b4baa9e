//! ray-project/llmperf-leaderboard `raw_data/individual/*.json`: one file per provider and
//! model, a JSON array of requests with `ttft_s`, `end_to_end_latency_s`,
//! `inter_token_latency_s`, token counts and `error_code` (null when the request succeeded).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{read_text, Dataset};
use crate::data::fit::profile::LlmSample;
use crate::data::fit::samples::{line_of, DataError};

/// The dataset.
pub const DATASET: Dataset = Dataset {
    name: "ray-project/llmperf-leaderboard raw_data/individual",
    upstream: "https://github.com/ray-project/llmperf-leaderboard",
    licence: "Apache-2.0",
};

/// One request as recorded (extra fields such as `GEN_TEXT` are ignored).
#[derive(Debug, Deserialize)]
struct RawRequest {
    error_code: Option<i64>,
    ttft_s: f64,
    end_to_end_latency_s: f64,
    inter_token_latency_s: f64,
    number_output_tokens: f64,
    number_input_tokens: f64,
}

/// One successful request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Request {
    /// Line of the request in its file.
    pub line: usize,
    /// Time to first token, seconds.
    pub ttft: f64,
    /// End-to-end latency, seconds.
    pub e2e: f64,
    /// llmperf's own inter-token latency, seconds.
    pub itl: f64,
    /// Output tokens.
    pub output_tokens: f64,
    /// Input tokens.
    pub input_tokens: f64,
}

impl Request {
    /// As an LLM sample for fitting.
    pub fn sample(&self) -> LlmSample {
        LlmSample {
            ttft: self.ttft,
            e2e: self.e2e,
            tokens: self.output_tokens,
        }
    }
}

/// One provider-model file.
#[derive(Clone, Debug, PartialEq)]
pub struct Provider {
    /// Name: the file stem, e.g. `groq_70b`.
    pub name: String,
    /// The file.
    pub file: PathBuf,
    /// Successful requests.
    pub ok: Vec<Request>,
    /// Failed requests (non-null `error_code`), by code, sorted.
    pub failed: Vec<(i64, usize)>,
}

impl Provider {
    /// Number of failed requests.
    pub fn failed_total(&self) -> usize {
        self.failed.iter().map(|(_, n)| n).sum()
    }
}

/// Reads one llmperf results file.
pub fn read_file(path: &Path) -> Result<Provider, DataError> {
    let text = read_text(path)?;
    let items: Vec<&RawValue> = serde_json::from_str(&text).map_err(|e| {
        DataError::at(
            path,
            e.line(),
            format!("expected a JSON array of llmperf requests: {e}"),
        )
    })?;
    let mut ok = Vec::new();
    let mut failed: std::collections::BTreeMap<i64, usize> = Default::default();
    for (i, item) in items.iter().enumerate() {
        let line = line_of(&text, item);
        let r: RawRequest = super::parse_record(path, line, item.get(), &format!("request [{i}]"))?;
        if let Some(code) = r.error_code {
            *failed.entry(code).or_default() += 1;
            continue;
        }
        for (name, v) in [
            ("ttft_s", r.ttft_s),
            ("end_to_end_latency_s", r.end_to_end_latency_s),
            ("number_output_tokens", r.number_output_tokens),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(DataError::at(
                    path,
                    line,
                    format!("request [{i}]: field `{name}` is {v}; must be a finite number >= 0"),
                ));
            }
        }
        ok.push(Request {
            line,
            ttft: r.ttft_s,
            e2e: r.end_to_end_latency_s,
            itl: r.inter_token_latency_s,
            output_tokens: r.number_output_tokens,
            input_tokens: r.number_input_tokens,
        });
    }
    Ok(Provider {
        name: path
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
        file: path.to_path_buf(),
        ok,
        failed: failed.into_iter().collect(),
    })
}

/// Reads files and directories of llmperf results (`*.json` in directories).
pub fn read(paths: &[PathBuf]) -> Result<Vec<Provider>, DataError> {
    super::expand(paths, "json")?
        .iter()
        .map(|p| read_file(p))
        .collect()
}
