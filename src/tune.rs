//! `specsim tune`: the cheapest SpecCache deployment reaching a target speedup.
//!
//! The search is exhaustive over a small grid: every draft of a catalogue
//! ([`catalogue::Catalogue`]: latency profile, accuracy, prices, each with its source) times
//! every prefetch width, cache capacity and number of fetch slots asked for. The grid is one
//! sweep ([`tune_sweep`]): one case per draft, grid axes `width`, `cache.capacity` and
//! `fetcher.slots`, every cell on the scenario's seed (common random numbers across
//! configurations: every configuration replays the same trajectories and latency samples of
//! the target and the site), policies `none` and `speccache`. It runs through
//! [`crate::sweep::run::run`], so it is parallel, committed batch by batch, resumable and
//! shardable, and its rows depend only on the inputs.
//!
//! From each cell's two rows ([`Config::from_rows`]):
//! - **speedup**: the `speccache` row's `speedup`, a ratio of sums: total session latency
//!   of `none` over that of `speccache`, over the same sessions of every replication;
//! - **cost**: dollars per 1,000 sessions of draft tokens,
//!   `1000 · (calls · input_tokens · p_in + output_tokens · p_out) / 1e6`, with `calls` and
//!   `output_tokens` the simulated draft calls and output tokens per session (late drafts
//!   included: they are paid for) and `input_tokens` the tokens of one draft prompt;
//! - **request rate**: the fetches per second the site received, the report's
//!   `site_request_rate_per_s` (a ratio of sums over replications: fetches started, from
//!   start pages, misses and prefetches less those cancelled in the queue, over the time from
//!   a replication's first arrival to its last event; every session of the scenario is an
//!   agent on the site); the **extra request rate** is the `speccache` rate minus the `none`
//!   rate of the same cell, the politeness cost.
//!
//! The Pareto front ([`pareto_front`]) keeps every configuration no other beats on all three
//! (speedup up, cost down, extra rate down) and strictly on one. With a target speedup the
//! answer ([`choose`]) is the cheapest configuration reaching it (ties: higher speedup, then
//! lower extra rate, then grid order); with only a budget, the fastest within it. A
//! `max_request_rate` both sets `fetcher.rate_limit_per_s` in every cell (the limit is
//! simulated) and keeps only configurations whose request rate stays within it.

pub mod catalogue;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::io::results::Results;
use crate::scenario::{ScenarioError, ScenarioFile};
use crate::sweep::base::completed;
pub use crate::sweep::base::{Base, Execution};
use crate::sweep::run::{run, Progress, RunOptions, SweepError};
use crate::sweep::{Shard, Sweep};
pub use catalogue::{Catalogue, CatalogueError, DraftEntry};

/// Input tokens of one draft call when none is given: the prompt length of every request in
/// the llmperf leaderboard data (`../shared/data/llmperf`, 2,306 successful requests, all
/// with 550 input tokens). A real SpecCache draft prompt holds the page and its buttons and
/// is likely longer (the reference code crops context at 24k tokens): pass yours.
pub const DEFAULT_DRAFT_INPUT_TOKENS: f64 = 550.0;

/// The grid searched.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// Catalogue drafts by name (all of them when empty).
    pub drafts: Vec<String>,
    /// Prefetch widths.
    pub widths: Vec<u32>,
    /// Cache capacities (entries).
    pub capacities: Vec<u32>,
    /// Fetch slots (`None` = unlimited).
    pub slots: Vec<Option<u32>>,
}

impl Default for Grid {
    fn default() -> Self {
        Grid {
            drafts: Vec::new(),
            widths: vec![1, 2, 3, 5],
            capacities: vec![10, 30],
            slots: vec![None, Some(4)],
        }
    }
}

/// What the answer must satisfy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Goal {
    /// Smallest speedup accepted.
    pub target_speedup: Option<f64>,
    /// Largest cost accepted, dollars per 1,000 sessions.
    pub budget: Option<f64>,
    /// Largest request rate to the site, fetches per second; also simulated as
    /// `fetcher.rate_limit_per_s`.
    pub max_request_rate: Option<f64>,
}

/// How the cells are simulated and costed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Input tokens of one draft call.
    pub draft_input_tokens: f64,
    /// Seed of every cell (default: the scenario's).
    pub seed: Option<u64>,
    /// Replications per cell (default: the scenario's).
    pub replications: Option<u32>,
    /// Sessions per replication (default: the scenario's).
    pub sessions: Option<u32>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            draft_input_tokens: DEFAULT_DRAFT_INPUT_TOKENS,
            seed: None,
            replications: None,
            sessions: None,
        }
    }
}

/// Why a tuning cannot run.
#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    /// The scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The catalogue is invalid.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    /// The sweep failed.
    #[error(transparent)]
    Sweep(#[from] SweepError),
    /// Options out of range.
    #[error("{0}")]
    Options(String),
    /// A results directory that does not belong to this tuning, or unreadable rows.
    #[error("{}: {message}", dir.display())]
    Directory {
        /// The directory.
        dir: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file could not be written.
    #[error("{0}")]
    Write(String),
}

impl TuneError {
    /// True for problems with the input (exit code 2) rather than failures of the run.
    pub fn is_bad_input(&self) -> bool {
        match self {
            TuneError::Sweep(e) => e.is_bad_input(),
            TuneError::Write(_) => false,
            _ => true,
        }
    }
}

/// One configuration, simulated and costed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Position in the grid (the sweep's cell index).
    pub index: usize,
    /// The sweep cell id.
    pub cell: String,
    /// Catalogue draft.
    pub draft: String,
    /// Prefetch width.
    pub width: u32,
    /// Cache capacity, entries.
    pub cache_capacity: u32,
    /// Fetch slots (`None` = unlimited).
    pub fetch_slots: Option<u32>,
    /// Speedup of session latency over `none` (ratio of sums), with its 95 % interval.
    pub speedup: f64,
    /// Lower bound.
    pub speedup_ci_lo: f64,
    /// Upper bound.
    pub speedup_ci_hi: f64,
    /// Hit rate of `speccache` (hits and partial hits per page visit).
    pub hit_rate: f64,
    /// Draft calls per session.
    pub draft_calls_per_session: f64,
    /// Draft output tokens per session (simulated).
    pub draft_output_tokens_per_session: f64,
    /// Dollars per 1,000 sessions of draft tokens.
    pub cost_per_1000_sessions: f64,
    /// Fetches per second the site received under `speccache` (the report's
    /// `site_request_rate_per_s`: every session of the scenario counts).
    pub request_rate_per_s: f64,
    /// The same under `none`.
    pub baseline_request_rate_per_s: f64,
    /// `request_rate_per_s - baseline_request_rate_per_s`.
    pub extra_request_rate_per_s: f64,
    /// The report's `fetch_overloaded` for `speccache` or `none`: the fetch slots have no
    /// steady state, so the cell's numbers hold for its session count only.
    pub fetch_overloaded: bool,
}

fn field(row: &Value, name: &str) -> Option<f64> {
    row.get(name).and_then(Value::as_f64)
}

/// Fetches per second the site received in one report row (`site_request_rate_per_s`, the
/// rate `fetcher.rate_limit_per_s` caps; docs/report.md).
fn request_rate(row: &Value) -> Option<f64> {
    field(row, "site_request_rate_per_s")
}

impl Config {
    /// A configuration from its cell's `none` and `speccache` rows; `None` when a field
    /// is missing.
    pub fn from_rows(
        index: usize,
        cell: &str,
        coords: &BTreeMap<String, Value>,
        none: &Value,
        spec: &Value,
        entry: &DraftEntry,
        input_tokens: f64,
    ) -> Option<Config> {
        let calls = field(spec, "draft_calls_per_session")?;
        let out_tokens = field(spec, "draft_tokens_per_session")?;
        let cost = 1000.0
            * (calls * input_tokens * entry.price_input_per_mtok
                + out_tokens * entry.price_output_per_mtok)
            / 1e6;
        let rate = request_rate(spec)?;
        let base = request_rate(none)?;
        let num = |k: &str| coords.get(k).and_then(Value::as_u64).map(|v| v as u32);
        Some(Config {
            index,
            cell: cell.to_string(),
            draft: entry.name.clone(),
            width: num("width")?,
            cache_capacity: num("cache.capacity")?,
            fetch_slots: num("fetcher.slots"),
            speedup: field(spec, "speedup")?,
            speedup_ci_lo: field(spec, "speedup_ci_lo").unwrap_or(f64::NAN),
            speedup_ci_hi: field(spec, "speedup_ci_hi").unwrap_or(f64::NAN),
            hit_rate: field(spec, "hit_rate")?,
            draft_calls_per_session: calls,
            draft_output_tokens_per_session: out_tokens,
            cost_per_1000_sessions: cost,
            request_rate_per_s: rate,
            baseline_request_rate_per_s: base,
            extra_request_rate_per_s: rate - base,
            fetch_overloaded: [spec, none]
                .iter()
                .any(|r| r.get("fetch_overloaded").and_then(Value::as_bool) == Some(true)),
        })
    }

    /// True when `self` is at least as good as `other` on speedup, cost and extra request
    /// rate, and strictly better on one.
    pub fn dominates(&self, other: &Config) -> bool {
        let ge = self.speedup >= other.speedup
            && self.cost_per_1000_sessions <= other.cost_per_1000_sessions
            && self.extra_request_rate_per_s <= other.extra_request_rate_per_s;
        let gt = self.speedup > other.speedup
            || self.cost_per_1000_sessions < other.cost_per_1000_sessions
            || self.extra_request_rate_per_s < other.extra_request_rate_per_s;
        ge && gt
    }
}

/// The configurations no other dominates, by cost ascending (ties: speedup descending,
/// then extra request rate ascending, then grid order).
pub fn pareto_front(configs: &[Config]) -> Vec<Config> {
    let mut front: Vec<Config> = configs
        .iter()
        .filter(|c| !configs.iter().any(|o| o.dominates(c)))
        .cloned()
        .collect();
    front.sort_by(|a, b| rank(a, b, true));
    front
}

/// Orders configurations cheapest first (`by_cost`) or fastest first, then by the other of
/// the two, then by extra request rate, then by grid order.
fn rank(a: &Config, b: &Config, by_cost: bool) -> std::cmp::Ordering {
    let cheaper = a
        .cost_per_1000_sessions
        .total_cmp(&b.cost_per_1000_sessions);
    let faster = b.speedup.total_cmp(&a.speedup);
    let (first, second) = if by_cost {
        (cheaper, faster)
    } else {
        (faster, cheaper)
    };
    first
        .then(second)
        .then(
            a.extra_request_rate_per_s
                .total_cmp(&b.extra_request_rate_per_s),
        )
        .then(a.index.cmp(&b.index))
}

/// The answer among `configs` (already filtered by the request rate): with a target, the
/// cheapest reaching it within the budget; with only a budget, the fastest within it.
pub fn choose(configs: &[Config], goal: &Goal) -> Option<Config> {
    let by_cost = goal.target_speedup.is_some();
    configs
        .iter()
        .filter(|c| {
            goal.budget.is_none_or(|b| c.cost_per_1000_sessions <= b)
                && goal.target_speedup.is_none_or(|t| c.speedup >= t)
        })
        .min_by(|a, b| rank(a, b, by_cost))
        .cloned()
}

/// The answer of a tuning (`tune.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tuning {
    /// Always `specsim`.
    pub tool: String,
    /// Tool version.
    pub version: String,
    /// Scenario name.
    pub scenario: String,
    /// Scenario file.
    pub scenario_source: String,
    /// Catalogue file.
    pub catalogue_source: String,
    /// What was asked.
    pub goal: Goal,
    /// The grid searched.
    pub grid: Grid,
    /// How cells were simulated and costed.
    pub settings: Settings,
    /// Seed of every cell.
    pub seed: u64,
    /// Replications per cell.
    pub replications: u32,
    /// Sessions per replication.
    pub sessions: u32,
    /// Every configuration, in grid order.
    pub configurations: Vec<Config>,
    /// Configurations within `goal.max_request_rate` (all without one).
    pub within_rate: usize,
    /// The Pareto front of those, by cost.
    pub front: Vec<Config>,
    /// The answer (`None`: no configuration meets the goal).
    pub chosen: Option<Config>,
    /// The answer in words, or why there is none.
    pub verdict: String,
}

/// A tuning that finished, or stopped early on purpose.
#[derive(Debug)]
pub enum Outcome {
    /// Every cell ran.
    Done(Box<Tuning>),
    /// Stopped: `--max-cells` reached, or a shard finished. The message says what next.
    Stopped(String),
}

fn check(grid: &Grid, goal: &Goal, settings: &Settings) -> Result<(), TuneError> {
    let bad = |m: String| Err(TuneError::Options(m));
    for (name, empty) in [
        ("--widths", grid.widths.is_empty()),
        ("--capacities", grid.capacities.is_empty()),
        ("--slots", grid.slots.is_empty()),
    ] {
        if empty {
            return bad(format!(
                "{name}: the grid needs at least one value, got none"
            ));
        }
    }
    if goal.target_speedup.is_none() && goal.budget.is_none() {
        return bad("give --target-speedup X (the cheapest configuration reaching it) or --budget DOLLARS_PER_1000_SESSIONS (the fastest within it), or both".into());
    }
    if let Some(t) = goal.target_speedup {
        if !(t.is_finite() && t > 0.0) {
            return bad(format!(
                "--target-speedup: must be a number above 0 (a ratio of session latencies, e.g. 1.2), got {t}"
            ));
        }
    }
    if let Some(b) = goal.budget {
        if !(b.is_finite() && b >= 0.0) {
            return bad(format!(
                "--budget: must be a number of dollars per 1,000 sessions, 0 or more, got {b}"
            ));
        }
    }
    if let Some(r) = goal.max_request_rate {
        if !(r.is_finite() && r > 0.0) {
            return bad(format!(
                "--max-request-rate: must be a number of fetches per second above 0, got {r}"
            ));
        }
    }
    let t = settings.draft_input_tokens;
    if !(t.is_finite() && t >= 0.0) {
        return bad(format!(
            "--draft-input-tokens: must be a number of tokens, 0 or more, got {t}"
        ));
    }
    Ok(())
}

/// The scenario JSON every cell starts from: `base` with the settings' seed, replications
/// and sessions, policies `none` and `speccache`, and the rate limit of `goal`.
pub fn cell_base(base: &Base, goal: &Goal, settings: &Settings) -> Value {
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
    v["policies"] = json!(["none", "speccache"]);
    if let Some(r) = goal.max_request_rate {
        v["fetcher"]["rate_limit_per_s"] = json!(r);
    }
    v
}

/// The sweep scenario of a tuning: `cell` with one case per draft and the grid axes.
pub fn tune_sweep(cell: &Value, drafts: &[Value], grid: &Grid) -> Value {
    let mut v = cell.clone();
    let cases: Vec<Value> = drafts.iter().map(|d| json!({"drafts": [d]})).collect();
    v["sweep"] = json!({
        "cases": cases,
        "grid": [
            {"path": "width", "values": grid.widths},
            {"path": "cache.capacity", "values": grid.capacities},
            {"path": "fetcher.slots", "values": grid.slots},
        ],
        "seeds": "shared",
    });
    v
}

fn write(path: &Path, text: &str) -> Result<(), TuneError> {
    crate::io::output::write_atomic(path, text.as_bytes())
        .map_err(|e| TuneError::Write(format!("{}: cannot write: {e}", path.display())))
}

/// Reads the configurations back from a complete sweep's rows.
fn configurations(
    sweep: &Sweep,
    results: &Results,
    catalogue: &Catalogue,
    settings: &Settings,
    dir: &Path,
) -> Result<Vec<Config>, TuneError> {
    let mut by_cell: BTreeMap<&str, (Option<&Value>, Option<&Value>)> = BTreeMap::new();
    for r in results.rows() {
        if let (Some(c), Some(p)) = (r["cell"].as_str(), r["policy"].as_str()) {
            let e = by_cell.entry(c).or_default();
            match p {
                "none" => e.0 = Some(r),
                "speccache" => e.1 = Some(r),
                _ => {}
            }
        }
    }
    let missing = |cell: &str, what: &str| TuneError::Directory {
        dir: dir.to_path_buf(),
        message: format!("cell {cell}: {what}"),
    };
    sweep
        .cells
        .iter()
        .map(|cell| {
            let coords: BTreeMap<String, Value> = cell.coords.iter().cloned().collect();
            let name = coords
                .get("drafts")
                .and_then(|d| d[0]["name"].as_str())
                .ok_or_else(|| missing(&cell.id, "no draft in its coordinates"))?;
            let entry = catalogue.get(name).ok_or_else(|| {
                missing(&cell.id, &format!("draft `{name}` is not in the catalogue"))
            })?;
            let (Some(none), Some(spec)) =
                by_cell.get(cell.id.as_str()).copied().unwrap_or_default()
            else {
                return Err(missing(&cell.id, "no `none` and `speccache` rows"));
            };
            Config::from_rows(
                cell.index,
                &cell.id,
                &coords,
                none,
                spec,
                entry,
                settings.draft_input_tokens,
            )
            .ok_or_else(|| missing(&cell.id, "a row lacks a field tune reads"))
        })
        .collect()
}

fn verdict(goal: &Goal, chosen: Option<&Config>, within: &[Config], total: usize) -> String {
    let rate = goal
        .max_request_rate
        .map(|r| format!(" with at most {r} fetches/s"))
        .unwrap_or_default();
    let what = |c: &Config| {
        format!(
            "draft {}, width {}, cache {}, slots {}: {:.3}x for ${:.4} per 1,000 sessions, {:+.3} fetches/s",
            c.draft,
            c.width,
            c.cache_capacity,
            slots_text(c.fetch_slots),
            c.speedup,
            c.cost_per_1000_sessions,
            c.extra_request_rate_per_s
        )
    };
    match (chosen, goal.target_speedup) {
        (Some(c), Some(t)) => format!("cheapest configuration reaching {t}x{rate}: {}", what(c)),
        (Some(c), None) => format!(
            "fastest configuration within ${} per 1,000 sessions{rate}: {}",
            goal.budget.unwrap_or(f64::NAN),
            what(c)
        ),
        (None, _) => {
            let best = within.iter().map(|c| c.speedup).fold(f64::NAN, f64::max);
            let mut what = Vec::new();
            if let Some(t) = goal.target_speedup {
                what.push(format!("speedup >= {t}"));
            }
            if let Some(b) = goal.budget {
                what.push(format!("cost <= ${b} per 1,000 sessions"));
            }
            if let Some(r) = goal.max_request_rate {
                what.push(format!("request rate <= {r}/s"));
            }
            format!(
                "unreachable: no configuration of the grid meets {} ({} of {} within the request rate; best speedup among them {})",
                what.join(" and "),
                within.len(),
                total,
                if best.is_finite() { format!("{best:.3}x") } else { "-".into() }
            )
        }
    }
}

/// `unlimited` or the number of fetch slots.
pub fn slots_text(s: Option<u32>) -> String {
    s.map_or_else(|| "unlimited".into(), |w| w.to_string())
}

/// Runs a tuning: the sweep of the grid, then the front and the answer.
pub fn tune(
    base: &Base,
    catalogue: &Catalogue,
    grid: &Grid,
    goal: &Goal,
    settings: &Settings,
    execution: &Execution,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome, TuneError> {
    check(grid, goal, settings)?;
    let names: Vec<String> = if grid.drafts.is_empty() {
        catalogue.drafts.iter().map(|d| d.name.clone()).collect()
    } else {
        grid.drafts.clone()
    };
    let template = base
        .json
        .get("drafts")
        .and_then(|d| d.get(0))
        .cloned()
        .unwrap_or(Value::Null);
    let drafts = names
        .iter()
        .map(|n| catalogue.draft_json(n, &template))
        .collect::<Result<Vec<_>, _>>()?;
    let cell = cell_base(base, goal, settings);
    let sweep_json = tune_sweep(&cell, &drafts, grid);
    let source = format!("{} (tune)", base.source);
    let file = ScenarioFile::from_value(sweep_json.clone(), &source)?;
    let sweep = Sweep::new(file, &source, base.dir.as_deref())?;
    let temp;
    let out: PathBuf = match &execution.out {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::tempdir()
                .map_err(|e| TuneError::Write(format!("cannot make a temporary directory: {e}")))?;
            temp.path().to_path_buf()
        }
    };
    std::fs::create_dir_all(&out)
        .map_err(|e| TuneError::Write(format!("{}: cannot create: {e}", out.display())))?;
    let sweep_text = serde_json::to_string_pretty(&sweep_json).expect("JSON serialises") + "\n";
    write(&out.join("sweep.json"), &sweep_text)?;
    let dir = out.join("sweep");
    let results = match execution.shard {
        Some(shard) if shard != Shard::ALL && !complete(&dir, &sweep)? => {
            let part = out.join(format!("sweep-shard-{}-of-{}", shard.index, shard.count));
            let opts = RunOptions {
                shard,
                resume: execution.resume,
                max_cells: execution.max_cells,
                threads: execution.threads,
                max_memory: execution.max_memory,
            };
            let f = run(&sweep, &part, &opts, progress)?;
            return Ok(Outcome::Stopped(if f.results.len() == f.cells_in_shard {
                format!(
                    "shard {shard} is done in {}; when every shard is, merge them (specsim merge {}/sweep-shard-*-of-{} --out {}) and run the same command again with --resume",
                    part.display(),
                    out.display(),
                    shard.count,
                    dir.display()
                )
            } else {
                format!(
                    "stopped after {} cells of shard {shard} (--max-cells); continue with --resume",
                    f.cells_run
                )
            }));
        }
        _ => {
            let opts = RunOptions {
                shard: Shard::ALL,
                resume: execution.resume || complete(&dir, &sweep)?,
                max_cells: execution.max_cells,
                threads: execution.threads,
                max_memory: execution.max_memory,
            };
            let f = run(&sweep, &dir, &opts, progress)?;
            if f.results.len() < sweep.cells.len() {
                return Ok(Outcome::Stopped(format!(
                    "stopped after {} cells ({} of {} done, --max-cells); continue with --resume",
                    f.cells_run,
                    f.results.len(),
                    sweep.cells.len()
                )));
            }
            f.results
        }
    };
    let configs = configurations(&sweep, &results, catalogue, settings, &dir)?;
    let within: Vec<Config> = configs
        .iter()
        .filter(|c| {
            goal.max_request_rate
                .is_none_or(|r| c.request_rate_per_s <= r)
        })
        .cloned()
        .collect();
    let front = pareto_front(&within);
    let chosen = choose(&within, goal);
    let scenario = ScenarioFile::from_value(cell.clone(), &source)?;
    let tuning = Tuning {
        tool: "specsim".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        scenario: base.name.clone(),
        scenario_source: base.source.clone(),
        catalogue_source: catalogue.source.clone(),
        goal: goal.clone(),
        grid: Grid {
            drafts: names,
            ..grid.clone()
        },
        settings: settings.clone(),
        seed: scenario.seed,
        replications: scenario.replications,
        sessions: scenario.sessions,
        verdict: verdict(goal, chosen.as_ref(), &within, configs.len()),
        within_rate: within.len(),
        configurations: configs,
        front,
        chosen,
    };
    if execution.out.is_some() {
        write(&out.join("tune.json"), &tuning.to_json())?;
    }
    Ok(Outcome::Done(Box::new(tuning)))
}

/// True when `dir` holds every cell of `sweep`; an error when it holds another sweep.
fn complete(dir: &Path, sweep: &Sweep) -> Result<bool, TuneError> {
    let done = completed(dir, sweep).map_err(|message| TuneError::Directory {
        dir: dir.to_path_buf(),
        message: message.unwrap_or_else(|| "holds the sweep of another tuning (the scenario, catalogue, grid or settings changed): use another --out".into()),
    })?;
    Ok(done.is_some())
}

impl Tuning {
    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("tuning serialises");
        s.push('\n');
        s
    }

    /// True when a configuration meets the goal.
    pub fn reached(&self) -> bool {
        self.chosen.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(index: usize, speedup: f64, cost: f64, extra: f64) -> Config {
        Config {
            index,
            cell: format!("c{index}"),
            draft: "d".into(),
            width: 1,
            cache_capacity: 10,
            fetch_slots: None,
            speedup,
            speedup_ci_lo: speedup,
            speedup_ci_hi: speedup,
            hit_rate: 0.5,
            draft_calls_per_session: 1.0,
            draft_output_tokens_per_session: 1.0,
            cost_per_1000_sessions: cost,
            request_rate_per_s: extra,
            baseline_request_rate_per_s: 0.0,
            extra_request_rate_per_s: extra,
            fetch_overloaded: false,
        }
    }

    #[test]
    fn the_front_drops_dominated_configurations_and_keeps_ties() {
        let all = vec![
            c(0, 1.2, 1.0, 0.5),
            c(1, 1.1, 1.0, 0.5), // dominated by 0
            c(2, 1.3, 2.0, 0.5),
            c(3, 1.3, 2.0, 0.5), // equal to 2: both kept
            c(4, 1.05, 0.5, 0.9),
            c(5, 1.25, 3.0, 0.1),
        ];
        let idx: Vec<usize> = pareto_front(&all).iter().map(|c| c.index).collect();
        assert_eq!(idx, vec![4, 0, 2, 3, 5]);
    }

    #[test]
    fn the_answer_is_the_cheapest_reaching_the_target_or_the_fastest_in_budget() {
        let all = vec![
            c(0, 1.2, 1.0, 0.5),
            c(1, 1.3, 2.0, 0.5),
            c(2, 1.2, 1.0, 0.2),
        ];
        let goal = |t: Option<f64>, b: Option<f64>| Goal {
            target_speedup: t,
            budget: b,
            max_request_rate: None,
        };
        assert_eq!(choose(&all, &goal(Some(1.15), None)).unwrap().index, 2);
        assert_eq!(choose(&all, &goal(Some(1.25), None)).unwrap().index, 1);
        assert!(choose(&all, &goal(Some(1.4), None)).is_none());
        assert_eq!(choose(&all, &goal(None, Some(1.5))).unwrap().index, 2);
        assert!(choose(&all, &goal(Some(1.25), Some(1.5))).is_none());
    }
}
