//! `specsim calibrate`: which scenario parameters are consistent with what was observed?
//!
//! The method is history matching (Craig et al. 1997; Vernon et al. 2010), a
//! simulation-based inference that answers "is there any parameter set consistent with
//! these observations, and where?" rather than fitting one best point:
//!
//! 1. **Waves of designs.** Wave 1 is a Latin hypercube of `points` parameter sets over
//!    every parameter's whole range ([`design`]). Each later wave is a Latin hypercube of
//!    the same size inside the box of the points still in play (the consistent points of
//!    every earlier wave, or, when fewer than `max(4, points / 10)` are consistent, that
//!    many points with the smallest implausibility), widened by a quarter of its width and
//!    2 % of the range on each side.
//! 2. **Runs.** A wave is a sweep with one case per parameter set, run by
//!    [`crate::sweep::run::run`] into `OUT/waveN`: parallel, committed batch by batch,
//!    resumable, shardable, and with every cell on the same seed (common random numbers
//!    across parameter sets).
//! 3. **Implausibility.** For observation `j` with value `y`, standard deviation `σ`, and
//!    the simulated value `s` with standard deviation `τ` (the report's 95 % interval over
//!    the t quantile), `I_j = |s - y| / sqrt(σ² + τ²)` ([`judge`]; log scale for ratios;
//!    one-sided for `at_most` / `at_least`).
//! 4. **Verdict.** A parameter set is consistent when every `I_j <= cutoff` (3 by default:
//!    Pukelsheim's three-sigma rule puts 95 % of any unimodal distribution within 3 sd).
//!    The estimate is the consistent point with the smallest `Σ I_j²`, its interval the
//!    range of the consistent points; with none consistent, the point with the smallest
//!    largest `I_j` is reported as the closest, and the observations that cannot be met
//!    alone, the pairs that cannot be met together and the ones whose removal leaves a
//!    consistent set are named.
//!
//! Everything depends only on the inputs and the seed: the designs on the seed and the
//! earlier waves' rows, the rows on the sweep's determinism.

pub mod design;
pub mod judge;
pub mod observe;
pub mod record;
pub mod text;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use design::{latin_hypercube, Region};
use judge::{implausibility, simulated, Simulated};
use observe::{coordinates, Bound, Metric, Observe, Scale};

use crate::io::results::Results;
use crate::scenario::{ScenarioError, ScenarioFile};
use crate::sim::policy::Policy;
use crate::sweep::base::completed;
pub use crate::sweep::base::{Base, Execution};
use crate::sweep::run::{run, Progress, RunOptions, SweepError};
use crate::sweep::{Shard, Sweep};

/// How much to simulate and how strictly to judge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Parameter sets per wave.
    pub points: usize,
    /// Waves (the first over the whole ranges).
    pub waves: usize,
    /// Largest implausibility of a consistent point.
    pub cutoff: f64,
    /// Seed of the designs and of every simulation (default: the scenario's).
    pub seed: Option<u64>,
    /// Replications per parameter set (default: the scenario's).
    pub replications: Option<u32>,
    /// Sessions per replication (default: the scenario's).
    pub sessions: Option<u32>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            points: 200,
            waves: 3,
            cutoff: 3.0,
            seed: None,
            replications: None,
            sessions: None,
        }
    }
}

/// A calibration that could not run.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    /// The scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The observations or parameters are invalid.
    #[error(transparent)]
    Observe(#[from] observe::ObserveError),
    /// A wave's sweep failed.
    #[error("wave {wave}: {source}")]
    Sweep {
        /// The wave.
        wave: usize,
        /// Why.
        source: Box<SweepError>,
    },
    /// Settings out of range.
    #[error("{0}")]
    Settings(String),
    /// A results directory that does not belong to this calibration.
    #[error("{}: {message}", dir.display())]
    Directory {
        /// The directory.
        dir: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The temporary directory or the result file could not be written.
    #[error("{0}")]
    Write(String),
}

impl CalibrateError {
    /// True for problems with the input (exit code 2) rather than failures of the run.
    pub fn is_bad_input(&self) -> bool {
        match self {
            CalibrateError::Sweep { source, .. } => source.is_bad_input(),
            CalibrateError::Write(_) => false,
            _ => true,
        }
    }
}

/// Where a running calibration stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaveProgress {
    /// The wave running (1-based).
    pub wave: usize,
    /// Waves in all.
    pub waves: usize,
    /// The wave's sweep progress.
    pub cells: Progress,
}

/// One simulated parameter set, judged.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Wave (1-based).
    pub wave: usize,
    /// Position in the unit cube.
    pub unit: Vec<f64>,
    /// Parameter values.
    pub values: Vec<f64>,
    /// Each observation's simulated value.
    pub simulated: Vec<Option<Simulated>>,
    /// Each observation's implausibility.
    pub implausibility: Vec<f64>,
}

impl Point {
    /// The largest implausibility.
    pub fn max(&self) -> f64 {
        self.implausibility.iter().copied().fold(0.0, f64::max)
    }

    /// The sum of squared implausibilities.
    pub fn sumsq(&self) -> f64 {
        self.implausibility.iter().map(|x| x * x).sum()
    }

    fn max_without(&self, j: usize) -> f64 {
        self.implausibility
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != j)
            .map(|(_, x)| *x)
            .fold(0.0, f64::max)
    }
}

/// How the calibration was run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Method {
    /// Always `history matching: Latin-hypercube waves, implausibility cutoff`.
    pub design: String,
    /// Waves run.
    pub waves: usize,
    /// Parameter sets per wave (before removing duplicates).
    pub points_per_wave: usize,
    /// Largest implausibility of a consistent point.
    pub cutoff: f64,
    /// Seed of the designs and simulations.
    pub seed: u64,
    /// Replications per parameter set.
    pub replications: u32,
    /// Sessions per replication.
    pub sessions: u32,
    /// Policies simulated.
    pub policies: Vec<String>,
}

/// A wave's design and outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaveSummary {
    /// Wave (1-based).
    pub wave: usize,
    /// Parameter sets run.
    pub points: usize,
    /// Consistent ones.
    pub consistent: usize,
    /// The box sampled: per parameter, smallest and largest value.
    pub region: Vec<[f64; 2]>,
}

/// A parameter's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParameterResult {
    /// Label.
    pub name: String,
    /// Fields it sets.
    pub paths: Vec<String>,
    /// Range searched.
    pub min: f64,
    /// Range searched.
    pub max: f64,
    /// Scale of the range.
    pub scale: Scale,
    /// Best estimate: its value at the consistent point with the smallest sum of squared
    /// implausibilities (at the closest point when none is consistent).
    pub estimate: f64,
    /// Smallest value among the consistent points (`None`: no consistent point).
    pub consistent_lo: Option<f64>,
    /// Largest value among the consistent points.
    pub consistent_hi: Option<f64>,
}

/// An observation's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObservationResult {
    /// Label.
    pub name: String,
    /// Policy.
    pub policy: String,
    /// Metric.
    pub metric: String,
    /// How it constrains.
    pub bound: Bound,
    /// Observed value.
    pub value: f64,
    /// Its standard deviation.
    pub sd: f64,
    /// Where it comes from.
    pub source: String,
    /// Simulated at the estimate (`None`: the report has no value there).
    pub simulated: Option<f64>,
    /// Its standard deviation, in the metric's unit.
    pub simulated_sd: Option<f64>,
    /// Implausibility at the estimate (`None`: infinite).
    pub implausibility: Option<f64>,
    /// The smallest implausibility of this observation alone over every point run.
    pub best_alone: Option<f64>,
    /// Some point meets it alone.
    pub met_alone: bool,
    /// The smallest largest implausibility of the other observations over every point run.
    pub best_without: Option<f64>,
    /// Some point meets every other observation.
    pub consistent_without: bool,
}

/// Two observations that each can be met, but not together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    /// One observation.
    pub a: String,
    /// The other.
    pub b: String,
    /// The smallest larger implausibility of the two over every point run.
    pub best_joint: Option<f64>,
}

/// The answer of a calibration (`calibration.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Always `specsim`.
    pub tool: String,
    /// Tool version.
    pub version: String,
    /// Scenario name.
    pub scenario: String,
    /// Scenario file.
    pub scenario_source: String,
    /// Observe file (or trace).
    pub observe_source: String,
    /// Hash of the scenario text, the observations and parameters, and the settings: a
    /// stored result whose inputs changed no longer matches.
    pub inputs_hash: String,
    /// How it ran.
    pub method: Method,
    /// Some parameter set is consistent with every observation.
    pub consistent: bool,
    /// Parameter sets simulated.
    pub points_run: usize,
    /// Consistent ones.
    pub points_consistent: usize,
    /// The largest implausibility at the estimate.
    pub best_max_implausibility: Option<f64>,
    /// Per wave.
    pub waves: Vec<WaveSummary>,
    /// Per parameter.
    pub parameters: Vec<ParameterResult>,
    /// Per observation.
    pub observations: Vec<ObservationResult>,
    /// Pairs of observations met alone but not together.
    pub conflicts: Vec<Conflict>,
}

/// A calibration that finished, or stopped early on purpose.
#[derive(Debug)]
pub enum Outcome {
    /// Every wave ran.
    Done(Box<Calibration>),
    /// Stopped: `--max-cells` reached, or a shard of a wave finished (its directory must be
    /// merged before the next wave). The message says what to do next.
    Stopped(String),
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Hash of the inputs: scenario text, observations and parameters, settings.
pub fn inputs_hash(base_text: &str, observe_text: &str, settings: &Settings) -> String {
    let mut h = Sha256::new();
    for part in [
        base_text,
        observe_text,
        &serde_json::to_string(settings).expect("settings serialise"),
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The policies a calibration simulates: `none`, those observed, and `cache` when the
/// reference-booked reduction is observed, in report order.
pub fn policies(observe: &Observe) -> Vec<Policy> {
    Policy::ALL
        .iter()
        .copied()
        .filter(|p| {
            *p == Policy::None
                || observe.observations.iter().any(|o| o.policy == *p)
                || (*p == Policy::Cache
                    && observe
                        .observations
                        .iter()
                        .any(|o| o.metric == Metric::ReferenceWebReduction))
        })
        .collect()
}

/// The scenario JSON every cell starts from: `base` with the settings' seed, replications
/// and sessions, and only the policies needed.
pub fn cell_base(base: &Base, observe: &Observe, settings: &Settings) -> Value {
    let mut v = base.json.clone();
    if let Some(s) = settings.seed {
        v["seed"] = json!(s);
    }
    if let Some(r) = settings.replications {
        v["replications"] = json!(r);
    }
    if let Some(n) = settings.sessions {
        v["sessions"] = json!(n);
    }
    v["policies"] = json!(policies(observe)
        .iter()
        .map(|p| p.name())
        .collect::<Vec<_>>());
    v
}

fn check_settings(s: &Settings) -> Result<(), CalibrateError> {
    let bad = |m: String| Err(CalibrateError::Settings(m));
    if s.points < 2 {
        return bad(format!("--points: at least 2 per wave, got {}", s.points));
    }
    if s.waves < 1 {
        return bad("--waves: at least 1".into());
    }
    if !(s.cutoff.is_finite() && s.cutoff > 0.0) {
        return bad(format!("--cutoff: must be > 0, got {}", s.cutoff));
    }
    Ok(())
}

/// A parameter set of a design.
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterSet {
    /// Position in the unit cube.
    pub unit: Vec<f64>,
    /// Parameter values.
    pub values: Vec<f64>,
}

/// The parameter sets of `wave`, given the points judged so far,
/// duplicates (after snapping to levels and whole numbers) removed, and the box sampled.
pub fn wave_design(
    wave: usize,
    observe: &Observe,
    settings: &Settings,
    seed: u64,
    judged: &[Point],
) -> (Region, Vec<ParameterSet>) {
    let dims = observe.parameters.len();
    let region = if wave == 1 || judged.is_empty() {
        Region::whole(dims)
    } else {
        let mut keep: Vec<&Point> = judged
            .iter()
            .filter(|p| p.max() <= settings.cutoff)
            .collect();
        let least = (settings.points / 10).max(4);
        if keep.len() < least {
            let mut all: Vec<&Point> = judged.iter().collect();
            all.sort_by(|a, b| {
                a.max()
                    .total_cmp(&b.max())
                    .then(a.sumsq().total_cmp(&b.sumsq()))
            });
            keep = all.into_iter().take(least).collect();
        }
        let units: Vec<&[f64]> = keep.iter().map(|p| p.unit.as_slice()).collect();
        Region::around(&units, 0.25, 0.02).unwrap_or_else(|| Region::whole(dims))
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for u in latin_hypercube(settings.points, &region, seed, wave as u64) {
        let values: Vec<f64> = observe
            .parameters
            .iter()
            .zip(&u)
            .map(|(p, &x)| p.value_at(x))
            .collect();
        let key = serde_json::to_string(&values).expect("numbers serialise");
        if seen.insert(key) {
            let unit = observe
                .parameters
                .iter()
                .zip(&values)
                .map(|(p, &x)| p.position(x))
                .collect();
            out.push(ParameterSet { unit, values });
        }
    }
    (region, out)
}

/// The sweep of one wave: `cell` (see [`cell_base`]) with one case per parameter set.
pub fn wave_sweep(
    cell: &Value,
    base: &Base,
    observe: &Observe,
    wave: usize,
    sets: &[ParameterSet],
) -> Result<Sweep, ScenarioError> {
    let cases: Vec<Value> = sets
        .iter()
        .map(|set| {
            let assignments: Vec<(String, Value)> = observe
                .parameters
                .iter()
                .zip(&set.values)
                .flat_map(|(p, &x)| p.assign(x))
                .collect();
            let coords = coordinates(cell, &assignments);
            Value::Object(coords.into_iter().collect())
        })
        .collect();
    let mut v = cell.clone();
    v["sweep"] = json!({"cases": cases, "seeds": "shared"});
    let source = format!("{} (calibration wave {wave})", base.source);
    let file = ScenarioFile::from_value(v, &source)?;
    Sweep::new(file, &source, base.dir.as_deref())
}

fn judge_rows(
    observe: &Observe,
    sweep: &Sweep,
    results: &Results,
    replications: u32,
    wave: usize,
    sets: Vec<ParameterSet>,
) -> Vec<Point> {
    let mut by_cell: std::collections::BTreeMap<&str, Vec<(&str, &Value)>> = Default::default();
    for r in results.rows() {
        if let (Some(c), Some(p)) = (r["cell"].as_str(), r["policy"].as_str()) {
            by_cell.entry(c).or_default().push((p, r));
        }
    }
    sweep
        .cells
        .iter()
        .zip(sets)
        .map(|(cell, ParameterSet { unit, values })| {
            let rows = by_cell
                .get(cell.id.as_str())
                .map_or(&[][..], |v| v.as_slice());
            let sims: Vec<Option<Simulated>> = observe
                .observations
                .iter()
                .map(|o| simulated(o, rows, replications))
                .collect();
            let implausibility = observe
                .observations
                .iter()
                .zip(&sims)
                .map(|(o, s)| implausibility(o, s.as_ref()))
                .collect();
            Point {
                wave,
                unit,
                values,
                simulated: sims,
                implausibility,
            }
        })
        .collect()
}

/// A wave directory that holds every cell of `sweep`, read; `None` when it does not exist
/// or is not complete.
fn complete_wave(dir: &Path, sweep: &Sweep) -> Result<Option<Results>, CalibrateError> {
    completed(dir, sweep).map_err(|message| CalibrateError::Directory {
        dir: dir.to_path_buf(),
        message: message.unwrap_or_else(|| "holds a wave of another calibration (the scenario, observations, parameters or settings changed): use another --out".into()),
    })
}

/// Runs a calibration: every wave, then the verdict.
pub fn calibrate(
    base: &Base,
    observe: &Observe,
    settings: &Settings,
    execution: &Execution,
    progress: &mut dyn FnMut(WaveProgress),
) -> Result<Outcome, CalibrateError> {
    check_settings(settings)?;
    let cell = cell_base(base, observe, settings);
    let seed = cell["seed"].as_u64().unwrap_or(42);
    let replications = cell["replications"].as_u64().unwrap_or(2) as u32;
    let sessions = cell["sessions"].as_u64().unwrap_or(0) as u32;
    let temp;
    let out: PathBuf = match &execution.out {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::tempdir().map_err(|e| {
                CalibrateError::Write(format!("cannot make a temporary directory: {e}"))
            })?;
            temp.path().to_path_buf()
        }
    };
    let mut judged: Vec<Point> = Vec::new();
    let mut summaries = Vec::new();
    let mut budget = execution.max_cells;
    for wave in 1..=settings.waves {
        let (region, sets) = wave_design(wave, observe, settings, seed, &judged);
        let sweep =
            wave_sweep(&cell, base, observe, wave, &sets).map_err(|e| CalibrateError::Sweep {
                wave,
                source: Box::new(SweepError::Scenario(e)),
            })?;
        let dir = out.join(format!("wave{wave}"));
        let results = match execution.shard {
            Some(shard) if shard != Shard::ALL => match complete_wave(&dir, &sweep)? {
                Some(r) => r,
                None => {
                    let part = out.join(format!(
                        "wave{wave}-shard-{}-of-{}",
                        shard.index, shard.count
                    ));
                    let opts = RunOptions {
                        shard,
                        resume: execution.resume,
                        max_cells: budget,
                        threads: execution.threads,
                        max_memory: execution.max_memory,
                    };
                    let f = run(&sweep, &part, &opts, &mut |p| {
                        progress(WaveProgress {
                            wave,
                            waves: settings.waves,
                            cells: p,
                        })
                    })
                    .map_err(|e| CalibrateError::Sweep {
                        wave,
                        source: Box::new(e),
                    })?;
                    let done = f.results.len() == f.cells_in_shard;
                    return Ok(Outcome::Stopped(if done {
                        format!(
                            "shard {shard} of wave {wave} is done in {}; when every shard is, merge them (specsim merge {}/wave{wave}-shard-*-of-{} --out {}) and run the same command again with --resume",
                            part.display(),
                            out.display(),
                            shard.count,
                            dir.display()
                        )
                    } else {
                        format!(
                            "stopped after {} cells of shard {shard} of wave {wave} (--max-cells); continue with --resume",
                            f.cells_run
                        )
                    }));
                }
            },
            _ => {
                let opts = RunOptions {
                    shard: Shard::ALL,
                    resume: execution.resume,
                    max_cells: budget,
                    threads: execution.threads,
                    max_memory: execution.max_memory,
                };
                let f = run(&sweep, &dir, &opts, &mut |p| {
                    progress(WaveProgress {
                        wave,
                        waves: settings.waves,
                        cells: p,
                    })
                })
                .map_err(|e| CalibrateError::Sweep {
                    wave,
                    source: Box::new(e),
                })?;
                if let Some(b) = budget.as_mut() {
                    *b = b.saturating_sub(f.cells_run);
                }
                if f.results.len() < f.cells_in_shard {
                    return Ok(Outcome::Stopped(format!(
                        "stopped in wave {wave} after {} of its {} cells (--max-cells); the results in {} stay valid: continue with --resume",
                        f.results.len(),
                        f.cells_in_shard,
                        out.display()
                    )));
                }
                f.results
            }
        };
        let points = judge_rows(observe, &sweep, &results, replications, wave, sets);
        summaries.push(WaveSummary {
            wave,
            points: points.len(),
            consistent: points.iter().filter(|p| p.max() <= settings.cutoff).count(),
            region: observe
                .parameters
                .iter()
                .enumerate()
                .map(|(d, p)| [p.value_at(region.lo[d]), p.value_at(region.hi[d])])
                .collect(),
        });
        judged.extend(points);
    }
    let method = Method {
        design: "history matching: Latin-hypercube waves, implausibility cutoff".into(),
        waves: settings.waves,
        points_per_wave: settings.points,
        cutoff: settings.cutoff,
        seed,
        replications,
        sessions,
        policies: policies(observe)
            .iter()
            .map(|p| p.name().to_string())
            .collect(),
    };
    let calibration = verdict(base, observe, settings, method, summaries, &judged);
    if execution.out.is_some() {
        let text =
            serde_json::to_string_pretty(&calibration).expect("calibration serialises") + "\n";
        let path = out.join("calibration.json");
        crate::io::output::write_atomic(&path, text.as_bytes())
            .map_err(|e| CalibrateError::Write(format!("{}: cannot write: {e}", path.display())))?;
    }
    Ok(Outcome::Done(Box::new(calibration)))
}

/// The answer from every judged point.
pub fn verdict(
    base: &Base,
    observe: &Observe,
    settings: &Settings,
    method: Method,
    waves: Vec<WaveSummary>,
    points: &[Point],
) -> Calibration {
    let cutoff = settings.cutoff;
    let consistent: Vec<&Point> = points.iter().filter(|p| p.max() <= cutoff).collect();
    let best = if consistent.is_empty() {
        points.iter().min_by(|a, b| {
            a.max()
                .total_cmp(&b.max())
                .then(a.sumsq().total_cmp(&b.sumsq()))
        })
    } else {
        consistent
            .iter()
            .copied()
            .min_by(|a, b| a.sumsq().total_cmp(&b.sumsq()))
    };
    let parameters = observe
        .parameters
        .iter()
        .enumerate()
        .map(|(d, p)| {
            let vals = consistent.iter().map(|q| q.values[d]);
            ParameterResult {
                name: p.name.clone(),
                paths: p.paths(),
                min: p.min,
                max: p.max,
                scale: p.scale,
                estimate: best.map_or(f64::NAN, |b| b.values[d]),
                consistent_lo: vals.clone().reduce(f64::min),
                consistent_hi: vals.reduce(f64::max),
            }
        })
        .collect();
    let min_over = |f: &dyn Fn(&Point) -> f64| points.iter().map(f).fold(f64::INFINITY, f64::min);
    let observations: Vec<ObservationResult> = observe
        .observations
        .iter()
        .enumerate()
        .map(|(j, o)| {
            let sim = best.and_then(|b| b.simulated[j]);
            let alone = min_over(&|p: &Point| p.implausibility[j]);
            let without = min_over(&|p: &Point| p.max_without(j));
            ObservationResult {
                name: o.name.clone(),
                policy: o.policy.name().to_string(),
                metric: o.metric.name().to_string(),
                bound: o.bound,
                value: o.value,
                sd: o.sd,
                source: o.source.clone(),
                simulated: sim.map(|s| s.value),
                simulated_sd: sim.map(|s| {
                    if o.metric.is_log() {
                        s.value * s.sd
                    } else {
                        s.sd
                    }
                }),
                implausibility: best.and_then(|b| finite(b.implausibility[j])),
                best_alone: finite(alone),
                met_alone: alone <= cutoff,
                best_without: finite(without),
                consistent_without: without <= cutoff,
            }
        })
        .collect();
    let mut conflicts = Vec::new();
    for a in 0..observations.len() {
        for b in a + 1..observations.len() {
            if !(observations[a].met_alone && observations[b].met_alone) {
                continue;
            }
            let joint = min_over(&|p: &Point| p.implausibility[a].max(p.implausibility[b]));
            if joint > cutoff {
                conflicts.push(Conflict {
                    a: observations[a].name.clone(),
                    b: observations[b].name.clone(),
                    best_joint: finite(joint),
                });
            }
        }
    }
    Calibration {
        tool: "specsim".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        scenario: base.name.clone(),
        scenario_source: base.source.clone(),
        observe_source: observe.source.clone(),
        inputs_hash: inputs_hash(&base.text, &observe.text, settings),
        method,
        consistent: !consistent.is_empty(),
        points_run: points.len(),
        points_consistent: consistent.len(),
        best_max_implausibility: best.and_then(|b| finite(b.max())),
        waves,
        parameters,
        observations,
        conflicts,
    }
}
