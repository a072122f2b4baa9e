//! Scenario files: a serde mirror of the JSON (unknown fields rejected) and the validated,
//! frozen [`Scenario`] built from it, reporting every problem with its field path.

pub mod fields;
pub mod problems;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::io::replay::{load_trace, Replay};
use crate::io::trace::TraceError;
use crate::scenario::problems::{index, join, Problem, Problems};
use crate::sim::cache::{EvictionKind, ListOrder};
use crate::sim::dist::{Dist, DistSpec};
use crate::sim::draft::DraftSpec;
use crate::sim::llm::LlmSpec;
use crate::sim::model::{Model, MAX_DRAFTS};
use crate::sim::policy::Policy;
use crate::sim::rng::{Purpose, StreamKey};
use crate::sim::site::{Site, SiteSpec};
use crate::sim::time::{secs_to_nanos, SimTime};
use crate::sim::trajectory::{Agent, AgentSpec};
use crate::sweep::SweepSpec;

/// The scenario the tool runs when none is given: the paper's WebWalkerQA setup.
pub const DEFAULT_SCENARIO: &str = include_str!("../scenarios/default.json");

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
        }
    }
}

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

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Where it came from (file path or `<default>`).
    pub source: String,
    /// The file as parsed (with defaults filled in), for reports and hashing.
    pub file: ScenarioFile,
    /// The simulated system.
    pub model: Model,
    /// The walker generating trajectories (`None` when they come from a trace).
    pub agent: Option<Agent>,
    /// The recorded sessions replayed instead of walked, when the scenario names a trace.
    pub replay: Option<Arc<Replay>>,
    /// Policies to report, `none` first.
    pub policies: Vec<Policy>,
    arrivals: ArrivalSpec,
}

impl ScenarioFile {
    /// Parses JSON text; errors name the field path or the line and column.
    pub fn parse(text: &str, source: &str) -> Result<ScenarioFile, ScenarioError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| parse_error(source, e))
    }

    /// Reads and parses a scenario file (not yet validated).
    pub fn read(path: &Path) -> Result<ScenarioFile, ScenarioError> {
        let source = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Io {
            file: source.clone(),
            message: e.to_string(),
        })?;
        ScenarioFile::parse(&text, &source)
    }

    /// Parses an already-decoded JSON value (used by sweeps after applying overrides).
    pub fn from_value(
        value: serde_json::Value,
        source: &str,
    ) -> Result<ScenarioFile, ScenarioError> {
        serde_path_to_error::deserialize(value).map_err(|e| parse_error(source, e))
    }
}

fn parse_error(source: &str, e: serde_path_to_error::Error<serde_json::Error>) -> ScenarioError {
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
    ScenarioError::Parse {
        file: source.to_string(),
        path,
        message,
    }
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

    /// Validates a parsed file; `base` resolves relative paths inside it.
    pub fn build(
        file: ScenarioFile,
        source: &str,
        base: Option<&Path>,
    ) -> Result<Scenario, ScenarioError> {
        Scenario::build_with(file, source, base, None)
    }

    /// Like [`Scenario::build`], reusing sites already generated for the same site spec and
    /// site seed (sweeps build thousands of cells on one site).
    pub fn build_with(
        file: ScenarioFile,
        source: &str,
        base: Option<&Path>,
        sites: Option<&SiteCache>,
    ) -> Result<Scenario, ScenarioError> {
        Scenario::build_inner(file, source, base, sites, None)
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
        Scenario::build_replaying(file, &source, None, Some(replay))
    }

    /// [`Scenario::build`] with the trace named by `trajectories` already loaded.
    pub fn build_replaying(
        file: ScenarioFile,
        source: &str,
        base: Option<&Path>,
        replay: Option<Arc<Replay>>,
    ) -> Result<Scenario, ScenarioError> {
        Scenario::build_inner(file, source, base, None, replay)
    }

    fn build_inner(
        file: ScenarioFile,
        source: &str,
        base: Option<&Path>,
        sites: Option<&SiteCache>,
        preloaded: Option<Arc<Replay>>,
    ) -> Result<Scenario, ScenarioError> {
        let mut p = Problems::new();
        if file.replications < 2 {
            p.push(
                "replications",
                format!(
                    "must be at least 2 to form a confidence interval, got {}",
                    file.replications
                ),
            );
        }
        if file.sessions == 0 {
            p.push("sessions", "must be at least 1, got 0");
        }
        if file.width == 0 {
            p.push("width", "must be at least 1 (the prefetch width k), got 0");
        }
        if let Some(0) = file.fetcher.slots {
            p.push(
                "fetcher.slots",
                "must be at least 1, or absent for unlimited, got 0",
            );
        }
        p.non_negative("lookup_cost", file.lookup_cost);
        match &file.arrivals {
            ArrivalSpec::AllAtStart => {}
            ArrivalSpec::Poisson { rate_per_s } => {
                p.positive("arrivals.rate_per_s", *rate_per_s);
            }
            ArrivalSpec::Interval { every_s } => {
                p.non_negative("arrivals.every_s", *every_s);
            }
            ArrivalSpec::Gaps { gap } => {
                gap.build("arrivals.gap", &mut p);
            }
        }
        if file.policies.is_empty() {
            p.push(
                "policies",
                "must name at least one of none, cache, random, speccache, oracle",
            );
        }
        if file.policies.contains(&Policy::Speccache) && file.drafts.is_empty() {
            p.push(
                "drafts",
                "policy `speccache` needs at least one draft, got none",
            );
        }
        if file.drafts.len() > MAX_DRAFTS {
            p.push(
                "drafts",
                format!(
                    "at most {MAX_DRAFTS} drafts are supported, got {}",
                    file.drafts.len()
                ),
            );
        }
        let replay = match (&file.trajectories, &file.site, &file.agent) {
            (Some(src), site, agent) => {
                if site.is_some() {
                    p.push(
                        "site",
                        "remove it: the sessions come from `trajectories.trace`, whose pages and links are the site",
                    );
                }
                if agent.is_some() {
                    p.push(
                        "agent",
                        "remove it: the sessions come from `trajectories.trace`, not from the walker",
                    );
                }
                if src.sessions == Some(0) {
                    p.push(
                        "trajectories.sessions",
                        "must be at least 1, or absent for every session of the trace, got 0",
                    );
                }
                let full = match base {
                    Some(b) if src.trace.is_relative() => b.join(&src.trace),
                    _ => src.trace.clone(),
                };
                let loaded = match (preloaded, sites) {
                    (Some(r), _) => Ok(r),
                    (None, Some(cache)) => cache.replay(&full),
                    (None, None) => load_trace(&full).map(Arc::new),
                };
                match loaded {
                    Ok(r) if r.trajectories.is_empty() => {
                        p.push(
                            "trajectories.trace",
                            format!("{}: the trace has no sessions", full.display()),
                        );
                        None
                    }
                    Ok(r) => Some(r),
                    Err(e) => {
                        p.push("trajectories.trace", e.to_string());
                        None
                    }
                }
            }
            (None, None, _) | (None, _, None) => {
                if file.site.is_none() {
                    p.push(
                        "site",
                        "missing: give a `site` and an `agent`, or `trajectories` naming a trace",
                    );
                }
                if file.agent.is_none() {
                    p.push(
                        "agent",
                        "missing: give a `site` and an `agent`, or `trajectories` naming a trace",
                    );
                }
                None
            }
            (None, Some(_), Some(_)) => None,
        };
        let site_seed = file.site_seed.unwrap_or(file.seed);
        let site = match (&file.site, &replay, sites) {
            (_, Some(r), Some(cache)) => Some(cache.replay_site(r)),
            (_, Some(r), None) => Some(Arc::new(r.site.clone())),
            (Some(spec), None, Some(cache)) => cache.get_or_build(spec, site_seed, base, &mut p),
            (Some(spec), None, None) => spec
                .build("site", base, StreamKey::root(site_seed), &mut p)
                .map(Arc::new),
            (None, None, _) => None,
        };
        let fetch = file.fetch.build("fetch", &mut p);
        let agent = match (&file.agent, &replay) {
            (Some(spec), None) => spec.build("agent", &mut p).map(Some),
            (_, Some(_)) => Some(None),
            (None, None) => None,
        };
        let target = file.target.build("target", &mut p);
        let stages: Vec<_> = file
            .stages
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                s.latency
                    .build(&join(&index("stages", i), "latency"), &mut p)
            })
            .collect();
        let drafts: Vec<_> = file
            .drafts
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.build(&index("drafts", i), &mut p))
            .collect();
        if !p.is_empty() {
            return Err(ScenarioError::Invalid {
                file: source.to_string(),
                problems: p.into_vec(),
            });
        }
        let (Some(site), Some(fetch), Some(agent), Some(target)) = (site, fetch, agent, target)
        else {
            unreachable!("a missing part always records a problem")
        };
        let mut policies = vec![Policy::None];
        for &q in &Policy::ALL[1..] {
            if file.policies.contains(&q) {
                policies.push(q);
            }
        }
        let model = Model {
            site,
            fetch,
            target,
            stages,
            drafts,
            width: file.width as usize,
            cache_capacity: file.cache.capacity as usize,
            eviction: file.cache.eviction,
            shared_cache: file.cache.scope == CacheScope::Shared,
            fetch_slots: file.fetcher.slots,
            demand_priority: file.fetcher.demand_priority,
            cancel_stale: file.fetcher.cancel_stale,
            list_order: file.cache.list_order,
            lookup_cost: secs_to_nanos(file.lookup_cost),
        };
        let mut file = file;
        if let Some(r) = &replay {
            // The trace decides the sessions; `sessions` reports how many are replayed.
            let cap = file.trajectories.as_ref().and_then(|t| t.sessions);
            let n = r.trajectories.len() as u32;
            file.sessions = cap.map_or(n, |c| c.min(n));
        }
        Ok(Scenario {
            source: source.to_string(),
            arrivals: file.arrivals.clone(),
            file,
            model,
            agent,
            replay,
            policies,
        })
    }

    /// The scenario's name (the file's `name`, or its source).
    pub fn name(&self) -> &str {
        if self.file.name.is_empty() {
            &self.source
        } else {
            &self.file.name
        }
    }

    /// Arrival times of the sessions of a replication.
    pub fn arrivals(&self, key: StreamKey) -> Vec<SimTime> {
        let n = self.file.sessions as usize;
        match &self.arrivals {
            ArrivalSpec::AllAtStart => vec![SimTime::ZERO; n],
            ArrivalSpec::Interval { every_s } => {
                let gap = secs_to_nanos(*every_s);
                (0..n as u64).map(|i| SimTime(i * gap)).collect()
            }
            ArrivalSpec::Poisson { rate_per_s } => {
                let gap = Dist::Exponential(
                    rand_distr::Exp::new(*rate_per_s).expect("validated rate > 0"),
                );
                gaps(&gap, n, key)
            }
            ArrivalSpec::Gaps { gap } => {
                let gap = gap
                    .build("arrivals.gap", &mut Problems::new())
                    .expect("validated when the scenario was built");
                gaps(&gap, n, key)
            }
        }
    }

    /// The directory relative paths in the scenario resolve against.
    pub fn base_dir(&self) -> Option<PathBuf> {
        Path::new(&self.source).parent().map(Path::to_path_buf)
    }
}

/// A loaded trace and its site, shared by the cells of a sweep.
type LoadedTrace = (Arc<Replay>, Arc<Site>);

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

/// Sites already generated, by (site spec, site seed): cells of a sweep that do not change
/// the site share one.
#[derive(Debug, Default)]
pub struct SiteCache {
    sites: std::sync::Mutex<std::collections::BTreeMap<(String, u64), Arc<Site>>>,
    /// Traces already loaded, by path, with their site: cells replaying one trace share it.
    replays: std::sync::Mutex<std::collections::BTreeMap<PathBuf, LoadedTrace>>,
}

impl SiteCache {
    /// The replay of the trace at `path`, loaded on first use.
    pub fn replay(&self, path: &Path) -> Result<Arc<Replay>, TraceError> {
        if let Some((r, _)) = self.replays.lock().ok().and_then(|m| m.get(path).cloned()) {
            return Ok(r);
        }
        let r = Arc::new(load_trace(path)?);
        let site = Arc::new(r.site.clone());
        if let Ok(mut m) = self.replays.lock() {
            m.entry(path.to_path_buf())
                .or_insert((Arc::clone(&r), site));
        }
        Ok(r)
    }

    /// The shared site of a replay this cache loaded (a copy for any other replay).
    pub fn replay_site(&self, replay: &Arc<Replay>) -> Arc<Site> {
        if let Ok(m) = self.replays.lock() {
            if let Some((_, site)) = m.values().find(|(r, _)| Arc::ptr_eq(r, replay)) {
                return Arc::clone(site);
            }
        }
        Arc::new(replay.site.clone())
    }

    /// The site for `spec` and `seed`, generated on first use.
    pub fn get_or_build(
        &self,
        spec: &SiteSpec,
        seed: u64,
        base: Option<&Path>,
        p: &mut Problems,
    ) -> Option<Arc<Site>> {
        let key = (serde_json::to_string(spec).unwrap_or_default(), seed);
        if let Some(s) = self.sites.lock().ok()?.get(&key) {
            return Some(Arc::clone(s));
        }
        let site = Arc::new(spec.build("site", base, StreamKey::root(seed), p)?);
        if let Ok(mut m) = self.sites.lock() {
            m.entry(key).or_insert_with(|| Arc::clone(&site));
        }
        Some(site)
    }
}
