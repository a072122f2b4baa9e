//! Recorded LLM latencies replayed in their recorded order (`serve-llm --target-replay`,
//! `--draft-replay`), so a live run carries a real sequence with its correlations and
//! outliers instead of independent draws.
//!
//! Mapping (documented in `docs/live.md`):
//! - thefastest.ai `measurements.jsonl` (a `.jsonl` file): one row per request; the latency
//!   is `total_time` (request sent to last token, seconds), the output tokens `num_tokens`.
//!   Rows of one model (the model named exactly by the filter text, else the only model whose
//!   name contains it), optionally one `region`; failed rows (no tokens or no time) are skipped.
//! - llmperf results (a `.json` file, one provider and model): the latency is
//!   `end_to_end_latency_s`, the tokens `number_output_tokens`; rows with an `error_code`
//!   are skipped.
//!
//! Rows are kept in file order. The `n`-th request of the role (counting from 0, in the
//! order requests arrive) gets row `n mod rows`: at the end of the file the replay wraps
//! around to the first row. Every latency is multiplied by `scale`.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::data::sources::{llmperf, thefastest};

/// One recorded request: latency (seconds) and output tokens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    /// End-to-end latency, seconds.
    pub latency: f64,
    /// Output tokens.
    pub tokens: u64,
}

/// A replayed sequence with its position.
#[derive(Clone, Debug)]
pub struct Replay {
    /// Where the rows come from (file, filter, count), for messages.
    pub source: String,
    /// The rows in recorded order.
    pub rows: Arc<Vec<Row>>,
    /// Every latency is multiplied by this.
    pub scale: f64,
    next: Arc<AtomicU64>,
}

impl Replay {
    /// A replay of `rows` (at least one), scaled by `scale`.
    pub fn new(source: String, rows: Vec<Row>, scale: f64) -> Replay {
        Replay {
            source,
            rows: Arc::new(rows),
            scale,
            next: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The next row's latency (scaled) and tokens; wraps around at the end.
    pub fn next(&self) -> (Duration, u64) {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let r = self.rows[(n % self.rows.len() as u64) as usize];
        let s = (r.latency * self.scale).clamp(0.0, 3600.0);
        (Duration::from_secs_f64(s), r.tokens)
    }

    /// Requests served so far.
    pub fn served(&self) -> u64 {
        self.next.load(Ordering::SeqCst)
    }
}

/// A measurement file that cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The file could not be read or parsed.
    #[error(transparent)]
    Data(#[from] crate::data::fit::samples::DataError),
    /// No model name contains the filter.
    #[error("{file}: no model name contains {filter:?}")]
    NoModel {
        /// The file.
        file: String,
        /// The `--*-model` filter.
        filter: String,
    },
    /// Several models match the filter.
    #[error("{file}: {count} models match {filter}; give text that matches exactly one, e.g. one of: {examples}")]
    Ambiguous {
        /// The file.
        file: String,
        /// How many match.
        count: usize,
        /// The filter as given.
        filter: String,
        /// Up to eight of them.
        examples: String,
    },
    /// A model or region filter on an llmperf file, which holds one provider and model.
    #[error("{file}: an llmperf file holds one provider and model; choose the file instead of a model or region filter")]
    Filtered {
        /// The file.
        file: String,
    },
    /// Neither a thefastest.ai nor an llmperf file.
    #[error("{file}: expected thefastest.ai measurements (.jsonl) or llmperf results (.json), got extension {ext:?}")]
    Extension {
        /// The file.
        file: String,
        /// Its extension.
        ext: String,
    },
    /// The selection has no successful rows.
    #[error("{file}: no successful rows for {what}")]
    Empty {
        /// The file.
        file: String,
        /// The selection.
        what: String,
    },
}

/// Reads the rows of `path` (see the module docs for the formats and filters).
pub fn read(path: &Path, model: Option<&str>, region: Option<&str>) -> Result<Replay, ReplayError> {
    let name = path.display().to_string();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let (rows, what) = match ext {
        "jsonl" => {
            let all = thefastest::read(path)?;
            let mut models: Vec<&str> = all
                .iter()
                .map(|m| m.model.as_str())
                .filter(|m| model.is_none_or(|f| m.contains(f)))
                .collect();
            models.sort_unstable();
            models.dedup();
            // A name given in full wins over the longer names that contain it.
            if let Some(exact) = model.filter(|f| models.contains(f)) {
                models = vec![exact];
            }
            let chosen = match models.as_slice() {
                [one] => one.to_string(),
                [] => {
                    return Err(ReplayError::NoModel {
                        file: name,
                        filter: model.unwrap_or("").to_string(),
                    })
                }
                many => {
                    let shown: Vec<&str> = many.iter().take(8).copied().collect();
                    return Err(ReplayError::Ambiguous {
                        file: name,
                        count: many.len(),
                        filter: model.map_or("(no filter)".to_string(), |f| format!("{f:?}")),
                        examples: shown.join(", "),
                    });
                }
            };
            let rows: Vec<Row> = all
                .iter()
                .filter(|m| m.model == chosen && !m.failed())
                .filter(|m| region.is_none_or(|r| m.region == r))
                .map(|m| Row {
                    latency: m.total,
                    tokens: m.tokens.round() as u64,
                })
                .collect();
            let what = match region {
                Some(r) => format!("model {chosen}, region {r}, total_time"),
                None => format!("model {chosen}, total_time"),
            };
            (rows, what)
        }
        "json" => {
            if model.is_some() || region.is_some() {
                return Err(ReplayError::Filtered { file: name });
            }
            let p = llmperf::read_file(path)?;
            let rows =
                p.ok.iter()
                    .map(|r| Row {
                        latency: r.e2e,
                        tokens: r.output_tokens.round() as u64,
                    })
                    .collect();
            (rows, format!("llmperf {}, end_to_end_latency_s", p.name))
        }
        _ => {
            return Err(ReplayError::Extension {
                file: name,
                ext: ext.to_string(),
            })
        }
    };
    if rows.is_empty() {
        return Err(ReplayError::Empty { file: name, what });
    }
    let source = format!("{name} ({what}, {} rows)", rows.len());
    Ok(Replay::new(source, rows, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_come_in_order_and_wrap_around() {
        let rows = vec![
            Row {
                latency: 0.5,
                tokens: 3,
            },
            Row {
                latency: 2.0,
                tokens: 7,
            },
        ];
        let r = Replay::new("t".into(), rows, 0.5);
        let twin = r.clone();
        assert_eq!(r.next(), (Duration::from_millis(250), 3));
        assert_eq!(
            twin.next(),
            (Duration::from_secs(1), 7),
            "clones share the position"
        );
        assert_eq!(r.next(), (Duration::from_millis(250), 3), "wraps around");
        assert_eq!(r.served(), 3);
    }
}
