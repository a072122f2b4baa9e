//! What if a recorded agent speculated? Speedup and web-time reduction of SpecCache on a
//! trace, against the draft's accuracy, for several prefetch widths and cache sizes.
//!
//! The draft's accuracy on an agent nobody has run speculatively is unknown, so the answer
//! is a curve: a sweep over a scenario that replays the trace, with the draft's list
//! holding the next page with probability P(k) (as its first entry, whatever the width k)
//! for P(k) on a grid from 0 to 1. Recorded latencies (target calls, fetches, stages,
//! other time) are replayed as recorded; only what the trace lacks is drawn: the fetch
//! time of a page prefetched but not visited (from the trace's own fetch times), the
//! draft's latency (a named LLM profile, or a fraction of the trace's target latencies) and
//! its lists. Break-even accuracies are interpolated linearly between grid points.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};

use crate::io::report::{PolicyRow, Report};
use crate::io::trace::read_trace;
use crate::runner;
use crate::scenario::{ScenarioError, ScenarioFile};
use crate::sim::llm::LlmSpec;
use crate::sweep::{Cell, Sweep};

/// Where the draft's latency comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum DraftLatency {
    /// A latency profile (a `traces/profiles/` document's `profile`), with its name.
    Profile {
        /// The profile's name or file.
        name: String,
        /// The LLM profile.
        spec: LlmSpec,
    },
    /// This fraction of the target's recorded latencies (drawn from them, scaled).
    Fraction(f64),
}

/// What to sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Prefetch widths k.
    pub widths: Vec<u32>,
    /// Draft accuracies P(k), in [0, 1], increasing.
    pub accuracies: Vec<f64>,
    /// Cache capacities, entries per session.
    pub caches: Vec<u32>,
    /// The draft's latency.
    pub draft: DraftLatency,
    /// Replications per cell (>= 2).
    pub replications: u32,
    /// Master seed (shared by every cell: common random numbers along the curves).
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            widths: (1..=5).collect(),
            accuracies: (0..=10).map(|i| f64::from(i) / 10.0).collect(),
            caches: vec![5, 10, 20],
            draft: DraftLatency::Fraction(0.2),
            replications: 10,
            seed: 42,
        }
    }
}

/// One cell: a width, a cache size and an accuracy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Point {
    /// Prefetch width k.
    pub width: u32,
    /// Cache capacity, entries.
    pub cache: u32,
    /// Draft accuracy P(k).
    pub accuracy: f64,
    /// Speedup of session latency vs no speculation (mean over replications, paired).
    pub speedup: f64,
    /// 95 % CI of the speedup.
    pub speedup_ci_lo: f64,
    /// 95 % CI of the speedup.
    pub speedup_ci_hi: f64,
    /// 1 - exposed web time with SpecCache / without, per iteration means.
    pub web_time_reduction: f64,
    /// Exposed web time per iteration with SpecCache, s.
    pub exposed_web_s: f64,
    /// Page visits served from the cache (full or partial hits).
    pub hit_rate: f64,
}

/// The accuracy P(k) at which a curve first reaches a speedup.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BreakEven {
    /// Prefetch width k.
    pub width: u32,
    /// Cache capacity.
    pub cache: u32,
    /// The speedup sought (1.1, 1.2).
    pub speedup: f64,
    /// P(k) interpolated linearly between the grid points around the first crossing; 0
    /// when even P(k) = 0 reaches it (cache hits of revisited pages); `None` when P(k) = 1
    /// does not.
    pub accuracy: Option<f64>,
}

/// The whole answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WhatIf {
    /// The trace.
    pub trace: String,
    /// Sessions and iterations replayed.
    pub sessions: u64,
    /// Iterations replayed.
    pub iterations: u64,
    /// Mean session latency without speculation, s (the replayed trace).
    pub session_latency_none_s: f64,
    /// Exposed web time per iteration without speculation, s.
    pub exposed_web_none_s: f64,
    /// Share of session time that is web time without speculation.
    pub web_share_none: f64,
    /// Where the draft's latency came from.
    pub draft_latency: String,
    /// Replications per cell and the seed.
    pub replications: u32,
    /// Master seed.
    pub seed: u64,
    /// Every cell, by cache, width, accuracy.
    pub points: Vec<Point>,
    /// Break-even accuracies for 1.1x and 1.2x.
    pub break_even: Vec<BreakEven>,
}

/// A failure: bad options, a bad trace or profile.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WhatIfError(pub String);

impl From<ScenarioError> for WhatIfError {
    fn from(e: ScenarioError) -> Self {
        WhatIfError(e.to_string())
    }
}

/// The speedups whose break-even accuracies are reported.
pub const BREAK_EVEN: [f64; 2] = [1.1, 1.2];

/// Reads an LLM latency profile: a file, or a name under `traces/profiles/` (searched in
/// its subdirectories) relative to the working directory.
pub fn read_profile(name: &str) -> Result<DraftLatency, WhatIfError> {
    let direct = PathBuf::from(name);
    let path = if direct.is_file() {
        direct
    } else {
        let root = Path::new("traces/profiles");
        let file = format!("{}.json", name.trim_end_matches(".json"));
        let mut found = None;
        let dirs = std::iter::once(root.to_path_buf()).chain(
            std::fs::read_dir(root)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir()),
        );
        let mut dirs: Vec<PathBuf> = dirs.collect();
        dirs.sort();
        for d in dirs {
            if d.join(&file).is_file() {
                found = Some(d.join(&file));
                break;
            }
        }
        found.ok_or_else(|| {
            WhatIfError(format!(
                "--draft-profile: no file `{name}` and no profile `{file}` under traces/profiles/ (run from the repository, or give a path)"
            ))
        })?
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| WhatIfError(format!("{}: cannot read: {e}", path.display())))?;
    let doc: Value = serde_json::from_str(&text)
        .map_err(|e| WhatIfError(format!("{}: not JSON: {e}", path.display())))?;
    let spec: LlmSpec = serde_json::from_value(doc.get("profile").cloned().unwrap_or(Value::Null))
        .map_err(|e| {
            WhatIfError(format!(
                "{}: profile: not an LLM profile (latency, or ttft + tpot + output_tokens): {e}",
                path.display()
            ))
        })?;
    Ok(DraftLatency::Profile {
        name: path.display().to_string(),
        spec,
    })
}

fn empirical(mut v: Vec<f64>) -> Value {
    v.sort_by(f64::total_cmp);
    json!({"dist": "empirical", "samples": v})
}

/// The scenario, as JSON, replaying `trace` with a sweep over cache, width and accuracy.
pub fn scenario(trace: &Path, o: &Options) -> Result<Value, WhatIfError> {
    let t = read_trace(trace).map_err(|e| WhatIfError(e.to_string()))?;
    let its = t
        .sessions
        .iter()
        .flat_map(|s| s.iterations.iter().map(|x| &x.1));
    let targets: Vec<f64> = its
        .clone()
        .filter_map(|i| i.target.as_ref().map(|c| c.latency_s))
        .collect();
    let fetches: Vec<f64> = its
        .filter_map(|i| i.fetch_s)
        .chain(t.sessions.iter().filter_map(|s| s.session.root_fetch_s))
        .filter(|&x| x > 0.0)
        .collect();
    let file = trace.display();
    if targets.is_empty() {
        return Err(WhatIfError(format!(
            "{file}: no iteration records a target latency: nothing to replay"
        )));
    }
    if fetches.is_empty() {
        return Err(WhatIfError(format!(
            "{file}: no page fetch time is recorded: there is no web time to hide"
        )));
    }
    let check = |what: &str, v: &[f64], ok: fn(f64) -> bool, allowed: &str| match v
        .iter()
        .find(|&&x| !ok(x))
    {
        Some(x) => Err(WhatIfError(format!(
            "{what}: {x} is not allowed ({allowed})"
        ))),
        None if v.is_empty() => Err(WhatIfError(format!("{what}: give at least one value"))),
        None => Ok(()),
    };
    check(
        "--widths",
        &o.widths.iter().map(|&w| f64::from(w)).collect::<Vec<_>>(),
        |x| (1.0..=64.0).contains(&x),
        "1 to 64",
    )?;
    check(
        "--caches",
        &o.caches.iter().map(|&w| f64::from(w)).collect::<Vec<_>>(),
        |x| x >= 1.0,
        "at least 1",
    )?;
    check(
        "--accuracies",
        &o.accuracies,
        |x| (0.0..=1.0).contains(&x),
        "a probability in [0, 1]",
    )?;
    if o.accuracies.windows(2).any(|w| w[1] <= w[0]) {
        return Err(WhatIfError("--accuracies: must increase".into()));
    }
    let latency = match &o.draft {
        DraftLatency::Profile { spec, .. } => serde_json::to_value(spec).expect("serialises"),
        DraftLatency::Fraction(f) if *f > 0.0 && f.is_finite() => {
            json!({"latency": empirical(targets.iter().map(|x| x * f).collect())})
        }
        DraftLatency::Fraction(f) => {
            return Err(WhatIfError(format!(
                "--draft-fraction: must be > 0, got {f}"
            )))
        }
    };
    let accuracy: Vec<Value> = o
        .accuracies
        .iter()
        .map(|p| json!({"cumulative": [p]}))
        .collect();
    Ok(json!({
        "name": format!("what-if of {file}"),
        "description": "the trace replayed as recorded; SpecCache's draft swept over accuracy, width and cache size",
        "seed": o.seed,
        "replications": o.replications,
        "trajectories": {"trace": trace},
        "fetch": empirical(fetches),
        "target": {"latency": empirical(targets)},
        "stages": [],
        "drafts": [{"name": "draft", "latency": latency, "accuracy": {"cumulative": [0.5]}}],
        "policies": ["none", "speccache"],
        "width": o.widths[0],
        "cache": {"capacity": o.caches[0]},
        "sweep": {
            "grid": [
                {"path": "cache.capacity", "values": o.caches},
                {"path": "width", "values": o.widths},
                {"path": "drafts[0].accuracy", "values": accuracy}
            ],
            "seeds": "shared"
        }
    }))
}

/// Runs every cell of `sweep`. This is the one place that runs cells (today's
/// [`Sweep`] + [`runner`] API); it switches to the library sweep runner when that lands.
pub fn run_cells(sweep: &Sweep) -> Result<Vec<(Cell, Report)>, WhatIfError> {
    sweep
        .cells
        .par_iter()
        .map(|c| {
            let sc = sweep.scenario(c)?;
            Ok((c.clone(), Report::new(&sc, &runner::run(&sc))))
        })
        .collect()
}

fn coord(cell: &Cell, path: &str) -> Option<Value> {
    cell.coords
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, v)| v.clone())
}

/// Linear interpolation of the first crossing of `level` along `(x, y)` points.
pub fn crossing(points: &[(f64, f64)], level: f64) -> Option<f64> {
    let i = points.iter().position(|&(_, y)| y >= level)?;
    if i == 0 {
        return Some(points[0].0);
    }
    let ((x0, y0), (x1, y1)) = (points[i - 1], points[i]);
    Some(if y1 > y0 {
        x0 + (level - y0) / (y1 - y0) * (x1 - x0)
    } else {
        x1
    })
}

/// The what-if of the trace at `trace`.
pub fn whatif(trace: &Path, o: &Options) -> Result<WhatIf, WhatIfError> {
    let v = scenario(trace, o)?;
    let source = format!("what-if of {}", trace.display());
    let file = ScenarioFile::from_value(v, &source)?;
    let sweep = Sweep::new(file, &source, None)?;
    let cells = run_cells(&sweep)?;
    let mut points = Vec::new();
    let mut none: Option<PolicyRow> = None;
    let mut sessions = 0;
    for (cell, report) in &cells {
        let width = coord(cell, "width").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
        let cache = coord(cell, "cache.capacity")
            .and_then(|v| v.as_u64())
            .unwrap_or(0) as u32;
        let accuracy = coord(cell, "drafts[0].accuracy")
            .and_then(|v| v["cumulative"][0].as_f64())
            .unwrap_or(f64::NAN);
        let row = |p: &str| report.policies.iter().find(|r| r.policy == p).cloned();
        let (Some(base), Some(spec)) = (row("none"), row("speccache")) else {
            return Err(WhatIfError(format!(
                "cell {}: missing policy rows",
                cell.id
            )));
        };
        let reduction = if base.exposed_web_s > 0.0 {
            1.0 - spec.exposed_web_s / base.exposed_web_s
        } else {
            0.0
        };
        points.push(Point {
            width,
            cache,
            accuracy,
            speedup: spec.speedup,
            speedup_ci_lo: spec.speedup_ci_lo,
            speedup_ci_hi: spec.speedup_ci_hi,
            web_time_reduction: reduction,
            exposed_web_s: spec.exposed_web_s,
            hit_rate: spec.hit_rate,
        });
        sessions = report.sessions;
        none.get_or_insert(base);
    }
    let mut break_even = Vec::new();
    for &cache in &o.caches {
        for &width in &o.widths {
            let curve: Vec<(f64, f64)> = points
                .iter()
                .filter(|p| p.cache == cache && p.width == width)
                .map(|p| (p.accuracy, p.speedup))
                .collect();
            for level in BREAK_EVEN {
                break_even.push(BreakEven {
                    width,
                    cache,
                    speedup: level,
                    accuracy: crossing(&curve, level),
                });
            }
        }
    }
    let none = none.unwrap_or_default();
    let replay = crate::io::replay::load_trace(trace).map_err(|e| WhatIfError(e.to_string()))?;
    Ok(WhatIf {
        trace: trace.display().to_string(),
        sessions: u64::from(sessions),
        iterations: replay.stats.iterations,
        session_latency_none_s: none.session_latency_s,
        exposed_web_none_s: none.exposed_web_s,
        web_share_none: none.web_share,
        draft_latency: match &o.draft {
            DraftLatency::Profile { name, .. } => format!("profile {name}"),
            DraftLatency::Fraction(f) => {
                format!("{f} x the trace's target latencies (drawn from them)")
            }
        },
        replications: o.replications,
        seed: o.seed,
        points,
        break_even,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossings_interpolate_between_grid_points() {
        let c = [(0.0, 1.0), (0.5, 1.05), (1.0, 1.25)];
        assert_eq!(crossing(&c, 1.0), Some(0.0));
        assert!((crossing(&c, 1.1).unwrap() - 0.625).abs() < 1e-12);
        assert!((crossing(&c, 1.2).unwrap() - 0.875).abs() < 1e-12);
        assert_eq!(crossing(&c, 1.3), None);
    }
}
