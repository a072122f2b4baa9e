//! The draft catalogue `specsim tune` chooses from: per draft model a latency profile, an
//! accuracy and list prices, each with its source (`traces/drafts/catalogue.json`,
//! `docs/tune.md`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::sim::draft::AccuracySpec;

/// The catalogue file as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueFile {
    /// Format version, 1.
    pub specsim_catalogue: u32,
    /// What the catalogue is and how its figures were chosen.
    #[serde(default)]
    pub about: String,
    /// The drafts.
    pub drafts: Vec<DraftEntry>,
}

/// One draft model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftEntry {
    /// Unique name (`--drafts` picks by it).
    pub name: String,
    /// A derived LLM latency profile (`specsim fit` output), relative to the catalogue file.
    pub latency_profile: String,
    /// Where the profile's measurements come from.
    pub latency_source: String,
    /// The draft's accuracy, as in a scenario's `drafts[].accuracy`.
    pub accuracy: AccuracySpec,
    /// Where the accuracy comes from (or that it is an assumption).
    pub accuracy_source: String,
    /// Dollars per million input tokens.
    pub price_input_per_mtok: f64,
    /// Dollars per million output tokens.
    pub price_output_per_mtok: f64,
    /// Where the prices come from, with the date they were read.
    pub price_source: String,
    /// The profile's `profile` object, read on load.
    #[serde(skip)]
    pub profile: Value,
}

/// A validated catalogue.
#[derive(Clone, Debug, PartialEq)]
pub struct Catalogue {
    /// Where it was read from.
    pub source: String,
    /// Its drafts, in file order.
    pub drafts: Vec<DraftEntry>,
}

/// Why a catalogue cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The file cannot be read.
    #[error("{file}: cannot read: {message}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
    /// The file is not a catalogue.
    #[error("{file}: {path}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// Field path, or line and column.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Values out of range, one line per problem.
    #[error("{file}: invalid catalogue:\n  {}", problems.join("\n  "))]
    Invalid {
        /// The file.
        file: String,
        /// Each problem as `field: message`.
        problems: Vec<String>,
    },
    /// A draft asked for that the catalogue lacks.
    #[error("{file}: no draft `{name}` in the catalogue (it has: {known})")]
    UnknownDraft {
        /// The file.
        file: String,
        /// The name asked for.
        name: String,
        /// The names it has.
        known: String,
    },
}

fn parse_error(file: &str, e: serde_path_to_error::Error<serde_json::Error>) -> CatalogueError {
    let (path, message) = crate::scenario::file::json_error_at(e);
    CatalogueError::Parse {
        file: file.to_string(),
        path,
        message,
    }
}

/// Reads a profile's `profile` object, or says why not.
fn read_profile(path: &Path) -> Result<Value, String> {
    let text = crate::io::input::read_text(path).map_err(|e| e.reason())?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON ({e})"))?;
    let profile = doc
        .get("profile")
        .cloned()
        .ok_or("has no `profile` object (a specsim fit profile)")?;
    serde_json::from_value::<crate::sim::llm::LlmSpec>(profile.clone())
        .map_err(|e| format!("`profile` is not an LLM profile ({e})"))?;
    Ok(profile)
}

impl Catalogue {
    /// Reads and validates a catalogue file; profiles resolve against its directory.
    pub fn load(path: &Path) -> Result<Catalogue, CatalogueError> {
        let file = path.display().to_string();
        let text = crate::io::input::read_text(path).map_err(|e| CatalogueError::Io {
            file: file.clone(),
            message: e.reason(),
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Catalogue::parse(&text, &file, &dir)
    }

    /// A catalogue from its text; `dir` is where relative profile paths start.
    pub fn parse(text: &str, file: &str, dir: &Path) -> Result<Catalogue, CatalogueError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let mut raw: CatalogueFile =
            serde_path_to_error::deserialize(de).map_err(|e| parse_error(file, e))?;
        let mut p: Vec<String> = Vec::new();
        if raw.specsim_catalogue != 1 {
            p.push(format!(
                "specsim_catalogue: version 1 is the only one this build reads, got {}",
                raw.specsim_catalogue
            ));
        }
        if raw.drafts.is_empty() {
            p.push("drafts: needs at least one draft, got none".into());
        }
        for i in 0..raw.drafts.len() {
            let at = format!("drafts[{i}]");
            let d = &raw.drafts[i];
            if d.name.trim().is_empty() {
                p.push(format!("{at}.name: must not be empty"));
            }
            if raw.drafts[..i].iter().any(|o| o.name == d.name) {
                p.push(format!("{at}.name: `{}` appears twice", d.name));
            }
            for (f, v) in [
                ("price_input_per_mtok", d.price_input_per_mtok),
                ("price_output_per_mtok", d.price_output_per_mtok),
            ] {
                if !(v.is_finite() && v >= 0.0) {
                    p.push(format!(
                        "{at}.{f}: must be a price in dollars per million tokens, 0 or more, got {v}"
                    ));
                }
            }
            for (f, v) in [
                ("latency_source", &d.latency_source),
                ("accuracy_source", &d.accuracy_source),
                ("price_source", &d.price_source),
            ] {
                if v.trim().is_empty() {
                    p.push(format!(
                        "{at}.{f}: must say where the figure comes from (or that it is an assumption)"
                    ));
                }
            }
            let profile: PathBuf = dir.join(&d.latency_profile);
            match read_profile(&profile) {
                Ok(v) => raw.drafts[i].profile = v,
                Err(m) => p.push(format!("{at}.latency_profile: {}: {m}", profile.display())),
            }
        }
        if !p.is_empty() {
            return Err(CatalogueError::Invalid {
                file: file.to_string(),
                problems: p,
            });
        }
        Ok(Catalogue {
            source: file.to_string(),
            drafts: raw.drafts,
        })
    }

    /// The draft called `name`.
    pub fn get(&self, name: &str) -> Option<&DraftEntry> {
        self.drafts.iter().find(|d| d.name == name)
    }

    /// The scenario `drafts[]` entry of draft `name`: its profile's latency, with the output
    /// tokens per call of `template` (the scenario's first draft) where it states them (the
    /// profiles' own token counts are those of their benchmarks' prompts, not of a draft's
    /// short ranked list), and its accuracy.
    pub fn draft_json(&self, name: &str, template: &Value) -> Result<Value, CatalogueError> {
        let d = self.get(name).ok_or_else(|| CatalogueError::UnknownDraft {
            file: self.source.clone(),
            name: name.to_string(),
            known: self
                .drafts
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        let mut latency = d.profile.clone();
        if let Some(t) = template.get("latency").and_then(|l| l.get("output_tokens")) {
            latency["output_tokens"] = t.clone();
        }
        Ok(serde_json::json!({
            "name": d.name,
            "latency": latency,
            "accuracy": serde_json::to_value(&d.accuracy).expect("accuracy serialises"),
        }))
    }
}
