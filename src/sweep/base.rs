//! The scenario file that generated sweeps (`specsim calibrate`, `specsim tune`) start from.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::io::results::{Results, MANIFEST};
use crate::scenario::{Scenario, ScenarioError, ScenarioFile};
use crate::sweep::Sweep;

/// The scenario a sweep of generated cells starts from (`calibrate`, `tune`): its file as
/// JSON (defaults filled in, no `sweep`), its text and origin.
#[derive(Clone, Debug)]
pub struct Base {
    /// The scenario file's JSON, defaults filled in, without a `sweep`.
    pub json: Value,
    /// Its text as read (part of the inputs' hash).
    pub text: String,
    /// Its path (or `<default>`).
    pub source: String,
    /// The directory its relative paths resolve against.
    pub dir: Option<PathBuf>,
    /// Its name.
    pub name: String,
}

impl Base {
    /// Reads and validates a scenario file, or the embedded default for `None`.
    pub fn load(path: Option<&Path>) -> Result<Base, ScenarioError> {
        let (text, source, dir) = match path {
            Some(p) => {
                let text = crate::io::input::read_text(p).map_err(|e| ScenarioError::Io {
                    file: p.display().to_string(),
                    message: e.reason(),
                })?;
                (
                    text,
                    p.display().to_string(),
                    p.parent().map(Path::to_path_buf),
                )
            }
            None => (
                crate::scenario::DEFAULT_SCENARIO.to_string(),
                "<default>".to_string(),
                None,
            ),
        };
        Base::from_text(text, &source, dir)
    }

    /// A scenario from its text.
    pub fn from_text(
        text: String,
        source: &str,
        dir: Option<PathBuf>,
    ) -> Result<Base, ScenarioError> {
        let mut file = ScenarioFile::parse(&text, source)?;
        file.sweep = None;
        let scenario = Scenario::build(file.clone(), source, dir.as_deref())?;
        Ok(Base {
            json: file.to_value(),
            text,
            source: source.to_string(),
            dir,
            name: scenario.name().to_string(),
        })
    }
}

/// Where and how a generated sweep runs.
#[derive(Clone, Debug, Default)]
pub struct Execution {
    /// Results directory (its layout is the command's: docs/calibrate.md, docs/tune.md);
    /// a temporary one if `None`.
    pub out: Option<PathBuf>,
    /// Continue the sweeps already in `out`.
    pub resume: bool,
    /// Run only this shard of each sweep (then stop for the merge).
    pub shard: Option<crate::sweep::Shard>,
    /// Worker threads.
    pub threads: Option<usize>,
    /// Stop after this many cells (continue with `resume`).
    pub max_cells: Option<usize>,
    /// Memory budget of the cells in flight, bytes.
    pub max_memory: Option<u64>,
}

/// The results of `sweep` in `dir` when every cell has run, `None` when `dir` holds none yet
/// or only some. Errors: `Err(Some(reason))` when the directory cannot be read, `Err(None)`
/// when it holds the results of another sweep (the caller says which kind).
pub fn completed(dir: &Path, sweep: &Sweep) -> Result<Option<Results>, Option<String>> {
    if !dir.join(MANIFEST).exists() {
        return Ok(None);
    }
    let (m, r) = Results::read(dir).map_err(|e| Some(e.to_string()))?;
    if m.scenario_hash != sweep.scenario_hash {
        return Err(None);
    }
    Ok((r.len() == sweep.cells.len()).then_some(r))
}
