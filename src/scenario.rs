//! Scenarios in two layers: [`file`], the serde mirror of the JSON (unknown fields
//! rejected), and the validated, frozen [`Scenario`] built from it, reporting every problem
//! as `file: field.path: message`.
//!
//! Building a scenario is three steps: parse ([`ScenarioFile::parse`] or
//! [`ScenarioFile::read`]), read the files it refers to ([`load::load_references`], through a
//! [`Loader`] that a sweep serves from its cache), then validate each part.
//! [`limits`] bounds every size field and estimates what a run will cost before it starts.

pub mod fields;
pub mod file;
pub mod limits;
pub mod load;
pub use specsim_engine::problems;
mod validate;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::scenario::file::{
    ArrivalSpec, Axis, CacheScope, CacheSpec, CellSeeds, FetcherSpec, ScenarioFile, StageSpec,
    SweepSpec, TrajectorySource,
};
pub use crate::scenario::load::{FromDisk, LoadedTrace, Loader};

use crate::io::replay::{load_trace, Replay};
use crate::scenario::load::{load_references, Preloaded};
use crate::scenario::problems::{Problem, Problems};
use crate::sim::dist::Dist;
use crate::sim::model::Model;
use crate::sim::policy::Policy;
use crate::sim::rng::{Purpose, StreamKey};
use crate::sim::time::{Nanos, SimTime};
use crate::sim::trajectory::Agent;

/// The scenario the tool runs when none is given: the paper's WebWalkerQA setup.
pub const DEFAULT_SCENARIO: &str = include_str!("../scenarios/default.json");

/// A scenario that failed to load: where, and every problem found.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{file}: cannot read scenario: {message}")]
    Io {
        /// The file.
        file: String,
        /// The OS error.
        message: String,
    },
    /// The file is not valid JSON or a field has the wrong type or an unknown name.
    #[error("{file}: {path}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// The field path (or `line L column C` for syntax errors).
        path: String,
        /// What serde said.
        message: String,
    },
    /// Values are out of range or inconsistent.
    #[error("{}", render(file, problems))]
    Invalid {
        /// The file.
        file: String,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

fn render(file: &str, problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(|p| format!("{file}: {p}")).collect();
    lines.join("\n")
}

impl ScenarioError {
    /// The message without the file name: the problems joined by `; ` (for one line of a
    /// longer message, e.g. a sweep axis value).
    pub fn problems_text(&self) -> String {
        match self {
            ScenarioError::Parse { path, message, .. } => format!("{path}: {message}"),
            ScenarioError::Invalid { problems, .. } => problems
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("; "),
            ScenarioError::Io { message, .. } => message.clone(),
        }
    }
}

/// When the sessions of a replication start.
#[derive(Clone, Debug)]
pub enum Arrivals {
    /// Every session at time 0.
    AllAtStart,
    /// Session `i` at `i` times this span.
    Interval(Nanos),
    /// The first at 0, then gaps drawn from the distribution (Poisson arrivals draw
    /// exponential gaps).
    Random(Dist),
}

/// A validated scenario, ready to run. Built only by validation, so every value in it is in
/// range; to change one, change the [`ScenarioFile`] and build again (or use
/// [`Scenario::with_seed`]).
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Where it came from (file path or `<default>`).
    pub source: String,
    /// The file's `name`, or its source when the file has none.
    pub name: String,
    /// Master seed of every random stream.
    pub seed: u64,
    /// Independent replications.
    pub replications: u32,
    /// Sessions per replication (for a replayed trace: how many of its sessions replay).
    pub sessions: u32,
    /// The simulated system.
    pub model: Model,
    /// The walker generating trajectories (`None` when they come from a trace).
    pub agent: Option<Agent>,
    /// The recorded sessions replayed instead of walked, when the scenario names a trace.
    pub replay: Option<Arc<Replay>>,
    /// Policies to run, `none` first (it is every speedup's baseline).
    pub policies: Vec<Policy>,
    /// Policies the file asked for, in run order: the report shows these.
    pub requested: Vec<Policy>,
    /// When sessions start.
    pub arrival_process: Arrivals,
    /// The file as parsed, defaults filled in: to build variants (seed, sweep cells).
    file: ScenarioFile,
    /// The directory relative paths resolve against.
    base: Option<PathBuf>,
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let file = ScenarioFile::read(path)?;
        Scenario::build(file, &path.display().to_string(), path.parent())
    }

    /// The embedded default scenario.
    pub fn default_scenario() -> Scenario {
        let file =
            ScenarioFile::parse(DEFAULT_SCENARIO, "<default>").expect("default scenario parses");
        Scenario::build(file, "<default>", None).expect("default scenario is valid")
    }

    /// Validates a parsed file, reading the files it names from disk; `base` resolves
    /// relative paths inside it.
    pub fn build(
        file: ScenarioFile,
        source: &str,
        base: Option<&Path>,
    ) -> Result<Scenario, ScenarioError> {
        Scenario::build_with(file, source, base, &FromDisk)
    }

    /// Validates a parsed file, taking the files it names (and its generated site) from
    /// `loader`: a sweep's cache, or a trace already loaded.
    pub fn build_with(
        file: ScenarioFile,
        source: &str,
        base: Option<&Path>,
        loader: &dyn Loader,
    ) -> Result<Scenario, ScenarioError> {
        let refs = load_references(&file, base, loader);
        let mut p = Problems::new();
        let parts = validate::validate(&file, refs, loader, &mut p);
        let Some(parts) = parts.filter(|_| p.is_empty()) else {
            return Err(ScenarioError::Invalid {
                file: source.to_string(),
                problems: p.into_vec(),
            });
        };
        Ok(Scenario {
            source: source.to_string(),
            name: if file.name.is_empty() {
                source.to_string()
            } else {
                file.name.clone()
            },
            seed: file.seed,
            replications: file.replications,
            sessions: parts.sessions,
            model: parts.model,
            agent: parts.agent,
            replay: parts.replay,
            policies: parts.policies,
            requested: parts.requested,
            arrival_process: parts.arrivals,
            file,
            base: base.map(Path::to_path_buf),
        })
    }

    /// The default scenario replaying the trace at `trace`: its sessions, pages and links and
    /// every recorded latency; the default scenario's distributions for the rest (fetch,
    /// target, draft latency and accuracy, and its extraction and critic stages unless the
    /// trace records no stage at all, in which case there are none); all five policies.
    pub fn for_trace(trace: &Path) -> Result<Scenario, ScenarioError> {
        let replay = load_trace(trace).map_err(|e| ScenarioError::Invalid {
            file: trace.display().to_string(),
            problems: vec![Problem {
                path: "trace".into(),
                message: e.to_string(),
            }],
        })?;
        Scenario::for_replay(trace, Arc::new(replay))
    }

    /// [`Scenario::for_trace`] with the trace at `trace` already loaded as `replay`.
    pub fn for_replay(trace: &Path, replay: Arc<Replay>) -> Result<Scenario, ScenarioError> {
        let source = trace.display().to_string();
        let mut file =
            ScenarioFile::parse(DEFAULT_SCENARIO, "<default>").expect("default scenario parses");
        file.name = format!("replay of {source}");
        file.description = format!(
            "the trace {source} replayed with the default scenario's distributions for what it did not record"
        );
        file.site = None;
        file.agent = None;
        file.trajectories = Some(TrajectorySource {
            trace: trace.to_path_buf(),
            sessions: None,
        });
        if replay.stats.recorded_stages == 0 {
            file.stages.clear();
        }
        let loader = Preloaded {
            trace: LoadedTrace::new(replay),
            rest: &FromDisk,
        };
        Scenario::build_with(file, &source, None, &loader)
    }

    /// The same scenario under another master seed (the site too, unless the file pins
    /// `site_seed`). A replayed trace is not read again.
    pub fn with_seed(&self, seed: u64) -> Result<Scenario, ScenarioError> {
        let mut file = self.file.clone();
        file.seed = seed;
        let base = self.base.as_deref();
        match (&self.replay, &self.model.site) {
            (Some(r), site) => {
                let loader = Preloaded {
                    trace: LoadedTrace {
                        replay: Arc::clone(r),
                        site: Arc::clone(site),
                    },
                    rest: &FromDisk,
                };
                Scenario::build_with(file, &self.source, base, &loader)
            }
            (None, _) => Scenario::build_with(file, &self.source, base, &FromDisk),
        }
    }

    /// The scenario's name (the file's `name`, or its source).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file this scenario was built from, defaults filled in.
    pub fn file(&self) -> &ScenarioFile {
        &self.file
    }

    /// Arrival times of the sessions of a replication.
    pub fn arrivals(&self, key: StreamKey) -> Vec<SimTime> {
        let n = self.sessions as usize;
        match &self.arrival_process {
            Arrivals::AllAtStart => vec![SimTime::ZERO; n],
            Arrivals::Interval(gap) => (0..n as u64)
                .map(|i| SimTime(i.saturating_mul(*gap)))
                .collect(),
            Arrivals::Random(gap) => gaps(gap, n, key),
        }
    }

    /// The directory relative paths in the scenario resolve against.
    pub fn base_dir(&self) -> Option<PathBuf> {
        Path::new(&self.source).parent().map(Path::to_path_buf)
    }
}

/// Arrival times of `n` sessions: the first at 0, then gaps drawn from `gap`.
fn gaps(gap: &Dist, n: usize, key: StreamKey) -> Vec<SimTime> {
    let mut rng = key.rng(0, 0, Purpose::Arrival);
    let mut t = SimTime::ZERO;
    (0..n)
        .map(|i| {
            if i > 0 {
                t += gap.sample_nanos(&mut rng);
            }
            t
        })
        .collect()
}
