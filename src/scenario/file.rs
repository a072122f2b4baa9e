//! The serde mirror of a scenario file: every field as written, defaults filled in, unknown
//! fields rejected. Nothing here checks ranges or reads other files: that is
//! [`crate::scenario::load`] (referenced files) and [`crate::scenario::Scenario`] (validation).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::io::input::{read_text, InputError};
use crate::scenario::ScenarioError;
use crate::sim::cache::{EvictionKind, ListOrder};
use crate::sim::dist::DistSpec;
use crate::sim::draft::DraftSpec;
use crate::sim::llm::LlmSpec;
use crate::sim::policy::Policy;
use crate::sim::site::SiteSpec;
use crate::sim::trajectory::AgentSpec;

/// A scenario file as written (see `docs/scenario.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Name shown in reports.
    #[serde(default)]
    pub name: String,
    /// Free text for humans.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Master seed of every random stream.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Seed of site generation (default: `seed`). Sweeps pin it so that cells share a site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_seed: Option<u64>,
    /// Independent replications (>= 2, for confidence intervals).
    #[serde(default = "default_replications")]
    pub replications: u32,
    /// Agent sessions per replication.
    #[serde(default = "default_sessions")]
    pub sessions: u32,
    /// The website (absent when `trajectories` names a trace: the trace's pages are the site).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<SiteSpec>,
    /// Default fetch + parse latency of a page, seconds.
    pub fetch: DistSpec,
    /// How agents walk the site (absent when `trajectories` names a trace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentSpec>,
    /// Sessions replayed from a recorded trace instead of walked (see `docs/trace.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trajectories: Option<TrajectorySource>,
    /// The target LLM.
    pub target: LlmSpec,
    /// Extra LLM stages after each observation.
    #[serde(default)]
    pub stages: Vec<StageSpec>,
    /// Draft LLMs (required by `speccache`).
    #[serde(default)]
    pub drafts: Vec<DraftSpec>,
    /// Policies to compare (`none` always runs as the baseline).
    #[serde(default = "default_policies")]
    pub policies: Vec<Policy>,
    /// Prefetch width `k`.
    #[serde(default = "default_width")]
    pub width: u32,
    /// The action-observation cache.
    #[serde(default)]
    pub cache: CacheSpec,
    /// The fetcher pool.
    #[serde(default)]
    pub fetcher: FetcherSpec,
    /// Cost of serving a cache hit, seconds.
    #[serde(default)]
    pub lookup_cost: f64,
    /// When sessions start.
    #[serde(default)]
    pub arrivals: ArrivalSpec,
    /// Parameter sweep (used by `specsim sweep`; `specsim run` runs the base scenario).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepSpec>,
}

/// Where a scenario's sessions come from when not from the walker.
///
/// ```json
/// {"trace": "traces/example.jsonl", "sessions": 100}
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrajectorySource {
    /// A trace file (JSON Lines); relative paths are relative to the scenario file.
    pub trace: PathBuf,
    /// Replay only the first `sessions` sessions of the trace (default: all of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<u32>,
}

/// An extra LLM stage run after each observation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    /// Label (e.g. `extract`, `critic`).
    #[serde(default)]
    pub name: String,
    /// Latency profile.
    pub latency: LlmSpec,
}

/// Cache parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSpec {
    /// Capacity in entries (default 10, the reference code's `cache_size`).
    #[serde(default = "default_capacity")]
    pub capacity: u32,
    /// Eviction policy.
    #[serde(default)]
    pub eviction: EvictionKind,
    /// `session` (one cache per session) or `shared` (one for all sessions).
    #[serde(default)]
    pub scope: CacheScope,
    /// The order a draft's list enters the cache: `worst_first` (default) or `best_first`.
    #[serde(default)]
    pub list_order: ListOrder,
}

/// Who shares a cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheScope {
    /// One cache per session.
    #[default]
    Session,
    /// One cache shared by every session of a replication.
    Shared,
}

/// Fetcher pool parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetcherSpec {
    /// Concurrent fetch slots (absent = unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots: Option<u32>,
    /// Demand fetches are served before queued prefetches.
    #[serde(default = "default_true")]
    pub demand_priority: bool,
    /// When the target decides, its session's prefetches still waiting for a slot are
    /// cancelled (they were for the page it is leaving). Default true.
    #[serde(default = "default_true")]
    pub cancel_stale: bool,
    /// Most fetch starts per second to the site (absent = unlimited): a token bucket shared
    /// by every fetch of the run, demand and prefetch alike (docs/model.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_s: Option<f64>,
    /// Tokens of the rate limit's bucket (default 1: starts at least `1 / rate` apart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_burst: Option<u32>,
}

/// The rules' parameters of the sections a scenario file and a live configuration share
/// (`width`, `cache`, `fetcher`), with the cost of a hit and the number of drafts called.
pub fn rules_of(
    width: u32,
    cache: &CacheSpec,
    fetcher: &FetcherSpec,
    lookup_cost: crate::sim::time::Nanos,
    drafts: usize,
) -> crate::sim::model::Rules {
    crate::sim::model::Rules {
        width: width as usize,
        cache_capacity: cache.capacity as usize,
        eviction: cache.eviction,
        shared_cache: cache.scope == CacheScope::Shared,
        fetch_slots: fetcher.slots,
        rate_limit: fetcher.rules().rate_limit(),
        demand_priority: fetcher.demand_priority,
        cancel_stale: fetcher.cancel_stale,
        list_order: cache.list_order,
        lookup_cost,
        drafts: drafts.min(crate::sim::model::MAX_DRAFTS),
    }
}

impl FetcherSpec {
    /// The parameters the shared rule validation ([`crate::sim::model::check_rules`]) reads.
    pub fn rules(&self) -> crate::sim::model::FetcherRules {
        crate::sim::model::FetcherRules {
            slots: self.slots,
            rate_limit_per_s: self.rate_limit_per_s,
            rate_limit_burst: self.rate_limit_burst,
        }
    }
}

/// Session arrival process. Tagged by `"process"`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "process", rename_all = "snake_case", deny_unknown_fields)]
pub enum ArrivalSpec {
    /// Every session starts at time 0.
    #[default]
    AllAtStart,
    /// Poisson arrivals at `rate_per_s` sessions per second.
    Poisson {
        /// Mean arrivals per second.
        rate_per_s: f64,
    },
    /// One session every `every_s` seconds.
    Interval {
        /// Seconds between arrivals.
        every_s: f64,
    },
    /// Gaps between arrivals drawn from a distribution (e.g. fitted to a production trace).
    Gaps {
        /// Inter-arrival time, seconds.
        gap: DistSpec,
    },
}

/// The `sweep` section of a scenario file.
///
/// ```json
/// "sweep": {
///   "grid": [{"path": "cache.capacity", "values": [5, 10, 20]},
///            {"path": "width", "values": [1, 3, 5]}],
///   "cases": [{"drafts[0].accuracy.top1": 0.5}, {"drafts[0].accuracy.top1": 0.8}],
///   "seeds": "per_cell"
/// }
/// ```
/// Cells are every case (default: one empty case) crossed with the Cartesian product of the
/// grid axes (see [`crate::sweep`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// Axes crossed as a Cartesian product, first axis outermost.
    #[serde(default)]
    pub grid: Vec<Axis>,
    /// Explicit cases: each maps field paths to values.
    #[serde(default)]
    pub cases: Vec<Map<String, Value>>,
    /// How cell seeds are chosen.
    #[serde(default)]
    pub seeds: CellSeeds,
}

/// One grid axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    /// Field path in the scenario, e.g. `drafts[0].latency.latency.median`.
    pub path: String,
    /// Values the field takes (any JSON: numbers, names, whole tables).
    pub values: Vec<Value>,
}

/// Seed of each cell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellSeeds {
    /// Derived from the scenario seed and the cell's coordinates (independent cells).
    #[default]
    PerCell,
    /// Every cell uses the scenario seed: common random numbers across cells too.
    Shared,
}

fn default_seed() -> u64 {
    42
}
fn default_replications() -> u32 {
    20
}
fn default_sessions() -> u32 {
    50
}
fn default_width() -> u32 {
    3
}
fn default_capacity() -> u32 {
    10
}
fn default_true() -> bool {
    true
}
fn default_policies() -> Vec<Policy> {
    Policy::ALL.to_vec()
}

impl Default for CacheSpec {
    fn default() -> Self {
        CacheSpec {
            capacity: default_capacity(),
            eviction: EvictionKind::Lru,
            scope: CacheScope::Session,
            list_order: ListOrder::WorstFirst,
        }
    }
}

impl Default for FetcherSpec {
    fn default() -> Self {
        FetcherSpec {
            slots: None,
            demand_priority: true,
            cancel_stale: true,
            rate_limit_per_s: None,
            rate_limit_burst: None,
        }
    }
}

impl ScenarioFile {
    /// Parses JSON text; errors name the field path or the line and column.
    pub fn parse(text: &str, source: &str) -> Result<ScenarioFile, ScenarioError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| parse_error(source, e))
    }

    /// Reads and parses a scenario file (not yet validated). Files larger than
    /// [`crate::io::input::max_input_bytes`] and anything but a regular file are refused.
    pub fn read(path: &Path) -> Result<ScenarioFile, ScenarioError> {
        let source = path.display().to_string();
        let text = read_text(path).map_err(|e| ScenarioError::Io {
            file: source.clone(),
            message: match e {
                InputError::Io { message, .. } => message,
                other => other.reason(),
            },
        })?;
        ScenarioFile::parse(&text, &source)
    }

    /// Parses an already-decoded JSON value (used by sweeps after applying overrides).
    pub fn from_value(value: Value, source: &str) -> Result<ScenarioFile, ScenarioError> {
        serde_path_to_error::deserialize(value).map_err(|e| parse_error(source, e))
    }

    /// The file as a JSON value, defaults filled in.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a scenario file serialises")
    }

    /// `path` resolved against `base` when it is relative.
    pub fn resolve(base: Option<&Path>, path: &Path) -> PathBuf {
        match base {
            Some(b) if path.is_relative() => b.join(path),
            _ => path.to_path_buf(),
        }
    }
}

/// Where a JSON file failed to deserialise (the field path, or the line and column of a
/// syntax error) and the message without serde_json's own position suffix.
pub fn json_error_at(e: serde_path_to_error::Error<serde_json::Error>) -> (String, String) {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let path = if inner.is_syntax() || inner.is_eof() || path == "." {
        format!("line {} column {}", inner.line(), inner.column())
    } else {
        path
    };
    let mut message = inner.to_string();
    // serde_json appends " at line L column C"; the path already says where.
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    (path, message)
}

fn parse_error(source: &str, e: serde_path_to_error::Error<serde_json::Error>) -> ScenarioError {
    let (path, message) = json_error_at(e);
    ScenarioError::Parse {
        file: source.to_string(),
        path,
        message,
    }
}
