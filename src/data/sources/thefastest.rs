//! fixie-ai/thefastest.ai measurements as JSON Lines: one request per line with `time`
//! (ISO 8601), `region`, `cmd`, `model`, `ttr`, `ttft`, `tps`, `num_tokens` and
//! `total_time` (seconds). A line with no tokens or a zero total time is a failed
//! measurement.

use std::path::Path;

use serde::Deserialize;

use super::{read_text, Dataset};
use crate::data::fit::profile::LlmSample;
use crate::data::fit::samples::DataError;

/// The dataset.
pub const DATASET: Dataset = Dataset {
    name: "fixie-ai/thefastest.ai website/public/data (measurements.jsonl)",
    upstream: "https://github.com/fixie-ai/thefastest.ai",
    licence: "MIT",
};

#[derive(Debug, Deserialize)]
struct RawMeasurement {
    time: String,
    region: String,
    #[serde(default)]
    cmd: String,
    model: String,
    ttft: f64,
    num_tokens: f64,
    total_time: f64,
}

/// One measured request.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// Line in the file.
    pub line: usize,
    /// Day of the measurement, `YYYY-MM-DD`.
    pub day: String,
    /// Region the request was sent from (`cdg`, `iad`, `sea`).
    pub region: String,
    /// The benchmark command line (request settings).
    pub cmd: String,
    /// Model endpoint, e.g. `groq.com/llama3-70b-8192`.
    pub model: String,
    /// Time to first token, seconds.
    pub ttft: f64,
    /// Output tokens.
    pub tokens: f64,
    /// End-to-end latency, seconds.
    pub total: f64,
}

impl Measurement {
    /// A failed measurement (no tokens or no time).
    pub fn failed(&self) -> bool {
        self.tokens <= 0.0 || self.total <= 0.0
    }

    /// As an LLM sample for fitting.
    pub fn sample(&self) -> LlmSample {
        LlmSample {
            ttft: self.ttft,
            e2e: self.total,
            tokens: self.tokens,
        }
    }
}

/// Reads a measurements file.
pub fn read(path: &Path) -> Result<Vec<Measurement>, DataError> {
    let text = read_text(path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let r: RawMeasurement = super::parse_record(path, n, line, "measurement")?;
        let day = r.time.get(..10).unwrap_or("");
        let valid_day = day.len() == 10
            && day.bytes().enumerate().all(|(k, b)| {
                if k == 4 || k == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        if !valid_day {
            return Err(DataError::at(
                path,
                n,
                format!(
                    "field `time` is {:?}; expected an ISO 8601 time such as 2024-04-15T08:04:59",
                    r.time
                ),
            ));
        }
        for (name, v) in [
            ("ttft", r.ttft),
            ("num_tokens", r.num_tokens),
            ("total_time", r.total_time),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(DataError::at(
                    path,
                    n,
                    format!("field `{name}` is {v}; must be a finite number >= 0"),
                ));
            }
        }
        out.push(Measurement {
            line: n,
            day: day.to_string(),
            region: r.region,
            cmd: r.cmd,
            model: r.model,
            ttft: r.ttft,
            tokens: r.num_tokens,
            total: r.total_time,
        });
    }
    if out.is_empty() {
        return Err(DataError::file(path, "no measurements found"));
    }
    Ok(out)
}
