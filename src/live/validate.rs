//! `specsim validate`: replays a live trace in the simulator under the live run's
//! configuration and compares, metric by metric, what was measured with what is simulated.
//!
//! The trace's sessions, pages, links and every recorded latency (target, draft, fetch of
//! each visited page, predictions) become the simulator's workload ([`crate::io::replay`]); the
//! header gives the policy, width, cache capacity, scope, eviction and seed (the seed keys
//! the `random` policy's picks, which the live run drew from the same streams). Sessions
//! arrive in the simulator at their recorded start offsets (`started_at`), so sessions that
//! ran in parallel overlap there too.
//!
//! Speedup over `none`, live: the baseline trace's mean iteration latency over this trace's.
//! Simulated, two ways: `speedup over none` replays the baseline trace under `none` and this
//! trace under its policy (each run with its own recorded latencies); `speedup over none
//! (counterfactual)` runs this trace's workload under `none` too, so it predicts the baseline
//! from the policy run alone and its error includes the run-to-run variation of the live
//! environment between the two runs.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::LiveError;
use crate::io::replay::{load_trace, Replay};
use crate::io::stats::percentile_sorted;
use crate::io::trace::{read_trace, Trace, TraceAction};
use crate::runner::replication_key;
use crate::sim::cache::{EvictionKind, ListOrder};
use crate::sim::dist::Dist;
use crate::sim::draft::{Accuracy, Draft};
use crate::sim::llm::Llm;
use crate::sim::metrics::{IterationRecord, Outcome};
use crate::sim::model::{Model, MAX_DRAFTS};
use crate::sim::policy::Policy;
use crate::sim::sampled::{Sim, Workload};
use crate::sim::time::{nanos_to_secs, secs_to_nanos, SimTime};

/// Per-iteration values of one run, live or simulated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Measured {
    /// Iteration latencies, seconds.
    pub latencies: Vec<f64>,
    /// Exposed web time per page visit, seconds.
    pub exposed: Vec<f64>,
    /// Hits plus partial hits.
    pub hits: u64,
    /// Page visits.
    pub visits: u64,
    /// How each iteration was served (`hit`, `partial_hit`, `miss`, `answer`), by session in
    /// trace order, then iteration.
    pub outcomes: Vec<&'static str>,
}

impl Measured {
    /// Mean iteration latency, seconds.
    pub fn mean(&self) -> f64 {
        mean(&self.latencies)
    }
    /// 95th percentile (nearest rank) of iteration latency, seconds.
    pub fn p95(&self) -> f64 {
        let mut ns: Vec<u64> = self.latencies.iter().map(|&s| secs_to_nanos(s)).collect();
        ns.sort_unstable();
        nanos_to_secs(percentile_sorted(&ns, 0.95))
    }
    /// Mean exposed web time per page visit, seconds.
    pub fn exposed_mean(&self) -> f64 {
        mean(&self.exposed)
    }
    /// (hits + partial hits) / visits.
    pub fn hit_rate(&self) -> f64 {
        if self.visits == 0 {
            0.0
        } else {
            self.hits as f64 / self.visits as f64
        }
    }
}

fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// One row of the comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// Metric name.
    pub metric: String,
    /// Unit (`s` or `ratio`).
    pub unit: String,
    /// Measured in the live run (absent when the live run cannot say, e.g. no baseline).
    pub live: Option<f64>,
    /// Simulated.
    pub simulated: f64,
    /// (simulated - live) / live; absent without a live value or when it is 0.
    pub rel_error: Option<f64>,
}

/// The comparison of a live trace with its simulation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Validation {
    /// The trace.
    pub trace: String,
    /// Its policy.
    pub policy: String,
    /// The baseline trace, if given.
    pub baseline: Option<String>,
    /// Sessions and iterations compared.
    pub sessions: usize,
    /// Iterations compared.
    pub iterations: usize,
    /// Fraction of the live iterations whose outcome (hit, partial hit, miss, answer) the
    /// replay reproduces, in trace order. It is 1 up to timer granularity: a prefetch that
    /// completed within microseconds of the target's decision can land on either side of it.
    pub outcome_agreement: f64,
    /// The rows.
    pub rows: Vec<Row>,
}

/// The fraction of `live`'s outcomes that `sim` reproduces, position by position (a missing
/// position counts as a disagreement).
fn agreement(live: &Measured, sim: &Measured) -> f64 {
    if live.outcomes.is_empty() {
        return 1.0;
    }
    let same = live
        .outcomes
        .iter()
        .zip(&sim.outcomes)
        .filter(|(a, b)| a == b)
        .count();
    same as f64 / live.outcomes.len().max(sim.outcomes.len()) as f64
}

fn row(metric: &str, unit: &str, live: Option<f64>, simulated: f64) -> Row {
    let rel_error = live.filter(|l| *l != 0.0).map(|l| (simulated - l) / l);
    Row {
        metric: metric.into(),
        unit: unit.into(),
        live,
        simulated,
        rel_error,
    }
}

/// What a live trace measured, from its iteration lines. Every iteration must carry the live
/// fields (`iteration_s`, and `exposed_web_s` and `outcome` for page visits).
pub fn live_measured(trace: &Trace) -> Result<Measured, LiveError> {
    let mut m = Measured::default();
    for s in &trace.sessions {
        for (line, it) in &s.iterations {
            let missing = |field: &str| {
                bad(
                    &trace.file,
                    format!("line {line}: {field}: missing; only traces written by `specsim live` can be validated"),
                )
            };
            m.latencies
                .push(it.iteration_s.ok_or_else(|| missing("iteration_s"))?);
            if it.action == TraceAction::Answer {
                m.outcomes.push("answer");
            } else {
                m.visits += 1;
                m.exposed
                    .push(it.exposed_web_s.ok_or_else(|| missing("exposed_web_s"))?);
                match it.outcome.as_deref() {
                    Some("hit") => {
                        m.hits += 1;
                        m.outcomes.push("hit");
                    }
                    Some("partial_hit") => {
                        m.hits += 1;
                        m.outcomes.push("partial_hit");
                    }
                    Some("miss") => m.outcomes.push("miss"),
                    Some(o) => {
                        return Err(bad(
                            &trace.file,
                            format!(
                            "line {line}: outcome: expected hit, partial_hit or miss, got {o:?}"
                        ),
                        ))
                    }
                    None => return Err(missing("outcome")),
                }
            }
        }
    }
    Ok(m)
}

fn bad(file: &str, m: impl std::fmt::Display) -> LiveError {
    LiveError::NotLive {
        file: file.to_string(),
        message: m.to_string(),
    }
}

fn meta_str<'a>(trace: &'a Trace, k: &str) -> Option<&'a str> {
    trace.header.meta.get(k).and_then(|v| v.as_str())
}

/// The simulator's model of the live run described by `trace`'s header.
pub fn model_of(trace: &Trace, replay: &Replay) -> Result<(Model, Policy, u64), LiveError> {
    let file = trace.file.as_str();
    let h = &trace.header;
    let policy = match h.policy.as_deref() {
        Some("none") => Policy::None,
        Some("cache") => Policy::Cache,
        Some("random") => Policy::Random,
        Some("speccache") => Policy::Speccache,
        other => {
            return Err(bad(
                file,
                format!("header.policy: expected none, cache, random or speccache (a live run's trace), got {other:?}"),
            ))
        }
    };
    let shared = match meta_str(trace, "cache_scope") {
        None | Some("session") => false,
        Some("shared") => true,
        Some(o) => {
            return Err(bad(
                file,
                format!("header.meta.cache_scope: expected session or shared, got {o:?}"),
            ))
        }
    };
    let eviction = match meta_str(trace, "eviction") {
        None | Some("lru") => EvictionKind::Lru,
        Some("fifo") => EvictionKind::Fifo,
        Some(o) => {
            return Err(bad(
                file,
                format!("header.meta.eviction: expected lru or fifo, got {o:?}"),
            ))
        }
    };
    let seed = h.meta.get("seed").and_then(|v| v.as_u64()).unwrap_or(42);
    // Traces written before the list order was recorded inserted lists best rank first.
    let list_order = match meta_str(trace, "list_order") {
        None | Some("best_first") => ListOrder::BestFirst,
        Some("worst_first") => ListOrder::WorstFirst,
        Some(o) => {
            return Err(bad(
                file,
                format!("header.meta.list_order: expected worst_first or best_first, got {o:?}"),
            ))
        }
    };
    let n_drafts = trace
        .sessions
        .iter()
        .flat_map(|s| s.iterations.iter().map(|(_, it)| it.drafts.len()))
        .max()
        .unwrap_or(0)
        .min(MAX_DRAFTS);
    if policy == Policy::Speccache && n_drafts == 0 {
        return Err(bad(
            file,
            "policy speccache, but no iteration records a draft call",
        ));
    }
    // Every latency that matters is recorded; the distributions only fill what is not (the
    // fetch of a prefetched page never visited), from the recorded fetches.
    let fetches: Vec<f64> = trace
        .sessions
        .iter()
        .flat_map(|s| s.iterations.iter().filter_map(|(_, it)| it.fetch_s))
        .collect();
    let fetch = if fetches.is_empty() {
        Dist::Constant(0.0)
    } else {
        Dist::Empirical(fetches)
    };
    let drafts: Vec<Draft> = (0..n_drafts)
        .map(|d| {
            Draft::new(
                &format!("draft {d}"),
                Llm::constant(0.0),
                Accuracy::Cumulative(vec![0.0]),
            )
        })
        .collect();
    let model = Model {
        site: Arc::new(replay.site.clone()),
        fetch,
        target: Llm::constant(0.0),
        stages: Vec::new(),
        rules: crate::sim::model::Rules {
            drafts: drafts.len().min(crate::sim::model::MAX_DRAFTS),
            width: h.width.unwrap_or(3).max(1) as usize,
            cache_capacity: h.cache_capacity.unwrap_or(10) as usize,
            eviction,
            shared_cache: shared,
            fetch_slots: h
                .meta
                .get("fetch_slots")
                .and_then(|v| v.as_u64())
                .map(|w| w.clamp(1, u64::from(u32::MAX)) as u32),
            rate_limit: h
                .meta
                .get("rate_limit_per_s")
                .and_then(|v| v.as_f64())
                .filter(|r| r.is_finite() && *r > 0.0)
                .map(|r| {
                    let burst = h.meta.get("rate_limit_burst").and_then(|v| v.as_u64());
                    crate::sim::fetch::RateLimit::new(
                        r,
                        burst.map_or(crate::sim::fetch::RateLimit::DEFAULT_BURST, |b| {
                            b.clamp(1, u64::from(u32::MAX)) as u32
                        }),
                    )
                }),
            demand_priority: h
                .meta
                .get("demand_priority")
                .and_then(|v| v.as_bool())
                .unwrap_or(true),
            cancel_stale: h
                .meta
                .get("cancel_stale")
                .and_then(|v| v.as_bool())
                .unwrap_or(true),
            list_order,
            lookup_cost: 0,
        },
        drafts,
    };
    Ok((model, policy, seed))
}

fn arrivals(trace: &Trace) -> Vec<SimTime> {
    let starts: Vec<Option<f64>> = trace
        .sessions
        .iter()
        .map(|s| s.session.started_at)
        .collect();
    match starts.iter().copied().collect::<Option<Vec<f64>>>() {
        Some(v) if !v.is_empty() => {
            let first = v.iter().copied().fold(f64::INFINITY, f64::min);
            v.iter()
                .map(|t| SimTime(secs_to_nanos(t - first)))
                .collect()
        }
        _ => vec![SimTime::ZERO; trace.sessions.len()],
    }
}

fn simulate(
    model: &Model,
    policy: Policy,
    replay: &Replay,
    arrivals: &[SimTime],
    seed: u64,
) -> Measured {
    let mut sim = Sim::new(model);
    sim.record_iterations(true);
    let work = Workload {
        trajectories: &replay.trajectories,
        arrivals,
        key: replication_key(seed, 0),
    };
    sim.run(policy, work);
    let mut recs: Vec<IterationRecord> = sim.records().to_vec();
    recs.sort_by_key(|r| (r.session, r.iteration));
    let mut m = Measured::default();
    for r in &recs {
        m.outcomes.push(match r.outcome {
            Outcome::Hit => "hit",
            Outcome::PartialHit => "partial_hit",
            Outcome::Miss => "miss",
            Outcome::Answer => "answer",
        });
        m.latencies.push(nanos_to_secs(r.latency));
        if r.outcome != Outcome::Answer {
            m.visits += 1;
            m.exposed.push(nanos_to_secs(r.exposed));
            if matches!(r.outcome, Outcome::Hit | Outcome::PartialHit) {
                m.hits += 1;
            }
        }
    }
    m
}

fn load(path: &Path) -> Result<(Trace, Replay), LiveError> {
    let trace = read_trace(path)?;
    let replay = load_trace(path)?;
    Ok((trace, replay))
}

/// Compares the live run recorded in `trace` (and optionally its `none` baseline) with the
/// simulator.
pub fn validate(trace_path: &Path, baseline: Option<&Path>) -> Result<Validation, LiveError> {
    let (trace, replay) = load(trace_path)?;
    let (model, policy, seed) = model_of(&trace, &replay)?;
    let arr = arrivals(&trace);
    let live = live_measured(&trace)?;
    let sim = simulate(&model, policy, &replay, &arr, seed);
    let sim_none = simulate(&model, Policy::None, &replay, &arr, seed);
    let mut rows = vec![
        row("mean iteration latency", "s", Some(live.mean()), sim.mean()),
        row("p95 iteration latency", "s", Some(live.p95()), sim.p95()),
        row(
            "mean exposed web time per visit",
            "s",
            Some(live.exposed_mean()),
            sim.exposed_mean(),
        ),
        row("hit rate", "rate", Some(live.hit_rate()), sim.hit_rate()),
    ];
    let sim_speedup = if sim.mean() > 0.0 {
        sim_none.mean() / sim.mean()
    } else {
        0.0
    };
    let mut baseline_name = None;
    let live_speedup = match baseline {
        Some(b) => {
            let (bt, br) = load(b)?;
            if bt.header.policy.as_deref() != Some("none") {
                return Err(bad(
                    &bt.file,
                    format!(
                        "header.policy: the baseline must be a `none` run, got {:?}",
                        bt.header.policy
                    ),
                ));
            }
            let (bm, _, bseed) = model_of(&bt, &br)?;
            let blive = live_measured(&bt)?;
            let bsim = simulate(&bm, Policy::None, &br, &arrivals(&bt), bseed);
            rows.push(row(
                "baseline mean iteration latency",
                "s",
                Some(blive.mean()),
                bsim.mean(),
            ));
            baseline_name = Some(bt.file.clone());
            let live_speedup = (live.mean() > 0.0).then(|| blive.mean() / live.mean());
            let replayed = if sim.mean() > 0.0 {
                bsim.mean() / sim.mean()
            } else {
                0.0
            };
            rows.push(row("speedup over none", "ratio", live_speedup, replayed));
            live_speedup
        }
        None => None,
    };
    rows.push(row(
        "speedup over none (counterfactual)",
        "ratio",
        live_speedup,
        sim_speedup,
    ));
    Ok(Validation {
        trace: trace.file.clone(),
        policy: policy.name().to_string(),
        baseline: baseline_name,
        sessions: replay.trajectories.len(),
        iterations: live.latencies.len(),
        outcome_agreement: agreement(&live, &sim),
        rows,
    })
}

impl Validation {
    /// A table for humans.
    pub fn to_table(&self) -> String {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::ASCII_MARKDOWN);
        t.set_header(vec!["metric", "unit", "live", "simulated", "rel. error"]);
        for r in &self.rows {
            // Rates print as percentages, as `specsim run` prints them.
            let show = |v: f64| {
                if r.unit == "rate" {
                    format!("{:.1} %", v * 100.0)
                } else {
                    format!("{v:.4}")
                }
            };
            t.add_row(vec![
                r.metric.clone(),
                r.unit.clone(),
                r.live.map_or("-".into(), show),
                show(r.simulated),
                r.rel_error
                    .map_or("-".into(), |e| format!("{:+.2} %", e * 100.0)),
            ]);
        }
        format!(
            "validation of {} (policy {}, {} sessions, {} iterations{})\n{t}\noutcome agreement: {:.1} % of iterations served (hit, partial hit, miss) as live\n",
            self.trace,
            self.policy,
            self.sessions,
            self.iterations,
            self.baseline
                .as_ref()
                .map_or(String::new(), |b| format!(", baseline {b}")),
            self.outcome_agreement * 100.0
        )
    }

    /// The row named `metric`.
    pub fn row(&self, metric: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.metric == metric)
    }
}
