//! `specsim reproduce`: the paper's published figures next to what the calibrated scenarios
//! produce. Every simulated value of the table is computed by running the scenarios; nothing
//! is stored. Each row says whether it is a prediction or a consistency check (a figure the
//! calibration was set from). A last section ([`calibration`]) prints the stored answers of
//! `specsim calibrate` on the same scenarios, checked against their current inputs.

pub mod calibration;

use serde::Serialize;

use crate::io::report::{PolicyRow, Report};
use crate::io::stats::{ratio_of_sums, Estimate};
use crate::runner::{self, Outcome};
use crate::scenario::{Scenario, ScenarioError, ScenarioFile};
use crate::sim::metrics::RunMetrics;
use crate::sim::policy::Policy;

/// The calibrated scenarios shipped with the tool: (benchmark, file name, JSON).
pub const PAPER_SCENARIOS: [(&str, &str, &str); 2] = [
    (
        "WebWalkerQA",
        "webwalkerqa.json",
        include_str!("../scenarios/paper/webwalkerqa.json"),
    ),
    (
        "MuWC",
        "muwc.json",
        include_str!("../scenarios/paper/muwc.json"),
    ),
];

/// How a published number is stated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Claim {
    /// A value for one benchmark.
    Exact,
    /// "Up to": the largest value over the benchmarks.
    UpTo,
}

/// What a row tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The simulated value emerges from inputs that were not set from this figure.
    Prediction,
    /// An input was set from this very figure (the draft's accuracy from the paper's hit
    /// rate): the row checks that the simulator turns the input back into the figure, it
    /// does not reproduce it.
    ConsistencyCheck,
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// What is compared.
    pub figure: String,
    /// The benchmark (for `up_to` rows: the one giving the largest value).
    pub benchmark: String,
    /// How the paper states it.
    pub claim: Claim,
    /// Prediction or consistency check.
    pub kind: Kind,
    /// Unit: `percent` or `ratio`.
    pub unit: String,
    /// The paper's value.
    pub paper: f64,
    /// The simulated value (mean over replications).
    pub simulated: f64,
    /// 95 % CI of the simulated value, when it has one.
    pub ci_lo: Option<f64>,
    /// Upper bound.
    pub ci_hi: Option<f64>,
    /// simulated - paper.
    pub difference: f64,
}

/// A simulated value with its optional 95 % CI bounds.
type Value = (f64, Option<f64>, Option<f64>);

/// A benchmark's report.
pub struct BenchmarkRun {
    /// Benchmark name.
    pub benchmark: String,
    /// Its report.
    pub report: Report,
    /// SpecCache's web-overhead reduction booked as the reference code books it (see
    /// [`reference_reduction`]); `None` without the `cache` and `speccache` policies.
    pub reference_reduction: Option<Estimate>,
}

/// SpecCache's web-overhead reduction as the reference code computes it:
/// (start page + fetch time of every page fetched) / (start page + fetch time of the visits
/// the draft did not predict), pooled over replications (log-scale interval).
///
/// The reference agent fetches a page when its 10-entry page cache misses, so "every page
/// fetched" is the web time of the `cache` policy on the same sessions; it books zero web
/// time for a predicted page, as if every prefetch finished in time, so the denominator is
/// the fetch time of `speccache`'s misses. Both sides count the start page.
pub fn reference_reduction(outcome: &Outcome) -> Option<Estimate> {
    let column = |p: Policy| -> Option<Vec<&RunMetrics>> {
        let i = outcome.policies.iter().position(|&q| q == p)?;
        Some(outcome.runs.iter().map(|r| &r[i]).collect())
    };
    let (cache, spec) = (column(Policy::Cache)?, column(Policy::Speccache)?);
    let num: Vec<f64> = cache
        .iter()
        .map(|m| (m.root_web + m.exposed) as f64)
        .collect();
    let den: Vec<f64> = spec
        .iter()
        .map(|m| (m.root_web + m.miss_exposed) as f64)
        .collect();
    ratio_of_sums(&num, &den)
}

fn policy<'a>(r: &'a Report, p: &str) -> Option<&'a PolicyRow> {
    r.policies.iter().find(|x| x.policy == p)
}

/// Loads a paper scenario from JSON text, optionally reduced in size (for CI).
pub fn scenario(text: &str, source: &str, reduced: bool) -> Result<Scenario, ScenarioError> {
    let mut file = ScenarioFile::parse(text, source)?;
    if reduced {
        file.replications = file.replications.min(3);
        file.sessions = file.sessions.min(12);
    }
    Scenario::build(file, source, None)
}

/// Runs each benchmark's scenario.
pub fn run(scenarios: &[(String, Scenario)]) -> Vec<BenchmarkRun> {
    scenarios
        .iter()
        .map(|(b, s)| {
            let outcome = runner::run(s);
            BenchmarkRun {
                benchmark: b.clone(),
                report: Report::new(s, &outcome),
                reference_reduction: reference_reduction(&outcome),
            }
        })
        .collect()
}

fn row(
    figure: &str,
    bench: &str,
    (claim, kind): (Claim, Kind),
    unit: &str,
    paper: f64,
    sim: Value,
) -> Row {
    Row {
        figure: figure.into(),
        benchmark: bench.into(),
        claim,
        kind,
        unit: unit.into(),
        paper,
        simulated: sim.0,
        ci_lo: sim.1,
        ci_hi: sim.2,
        difference: sim.0 - paper,
    }
}

/// The comparison table (paper figures from `shared/spec/paper-facts.md`).
pub fn table(runs: &[BenchmarkRun]) -> Vec<Row> {
    let paper_hit = |b: &str| match b {
        "WebWalkerQA" => Some((8.9, 83.3)),
        "MuWC" => Some((1.0, 54.0)),
        _ => None,
    };
    let mut rows = Vec::new();
    let pct = |r: &PolicyRow| {
        (
            100.0 * r.hit_rate,
            Some(100.0 * r.hit_rate_ci_lo),
            Some(100.0 * r.hit_rate_ci_hi),
        )
    };
    for b in runs {
        let Some((random_hit, spec_hit)) = paper_hit(&b.benchmark) else {
            continue;
        };
        if let Some(r) = policy(&b.report, "random") {
            rows.push(row(
                "random-prefetch hit rate",
                &b.benchmark,
                (Claim::Exact, Kind::Prediction),
                "percent",
                random_hit,
                pct(r),
            ));
        }
        if let Some(r) = policy(&b.report, "speccache") {
            rows.push(row(
                "SpecCache hit rate",
                &b.benchmark,
                (Claim::Exact, Kind::ConsistencyCheck),
                "percent",
                spec_hit,
                pct(r),
            ));
        }
    }
    let best = |f: &dyn Fn(&BenchmarkRun) -> Option<Value>| {
        runs.iter()
            .filter_map(|b| f(b).map(|v| (b.benchmark.clone(), v)))
            .max_by(|a, b| a.1 .0.total_cmp(&b.1 .0))
    };
    if let Some((b, v)) = best(&|r| {
        let s = policy(&r.report, "speccache")?;
        let q = policy(&r.report, "random")?;
        (q.hit_rate > 0.0).then(|| (s.hit_rate / q.hit_rate, None, None))
    }) {
        rows.push(row(
            "SpecCache / random hit rate",
            &b,
            (Claim::UpTo, Kind::Prediction),
            "ratio",
            58.0,
            v,
        ));
    }
    if let Some((b, v)) = best(&|r| {
        let s = policy(&r.report, "speccache")?;
        Some((
            s.web_reduction?,
            s.web_reduction_ci_lo,
            s.web_reduction_ci_hi,
        ))
    }) {
        rows.push(row(
            "web-environment overhead reduction (prefetch timing modelled)",
            &b,
            (Claim::UpTo, Kind::Prediction),
            "ratio",
            3.2,
            v,
        ));
    }
    if let Some((b, v)) = best(&|r| {
        let e = r.reference_reduction?;
        Some((e.mean, Some(e.lo), Some(e.hi)))
    }) {
        rows.push(row(
            "  same, as the reference code books it: predicted pages free, start page in both",
            &b,
            (Claim::UpTo, Kind::Prediction),
            "ratio",
            3.2,
            v,
        ));
    }
    if let Some((b, v)) = best(&|r| {
        let s = policy(&r.report, "none")?;
        Some((
            100.0 * s.web_share,
            Some(100.0 * s.web_share_ci_lo),
            Some(100.0 * s.web_share_ci_hi),
        ))
    }) {
        rows.push(row(
            "web share of end-to-end latency",
            &b,
            (Claim::UpTo, Kind::Prediction),
            "percent",
            53.7,
            v,
        ));
    }
    rows
}

/// The table as text.
pub fn render(rows: &[Row]) -> String {
    use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "figure",
        "benchmark",
        "paper",
        "simulated [95% CI]",
        "difference",
        "kind",
    ]);
    let fmt = |unit: &str, v: f64| {
        if unit == "percent" {
            format!("{v:.1}%")
        } else {
            format!("{v:.2}x")
        }
    };
    for r in rows {
        let paper = match r.claim {
            Claim::Exact => fmt(&r.unit, r.paper),
            Claim::UpTo => format!("up to {}", fmt(&r.unit, r.paper)),
        };
        let sim = match (r.ci_lo, r.ci_hi) {
            (Some(lo), Some(hi)) => format!(
                "{} [{}, {}]",
                fmt(&r.unit, r.simulated),
                fmt(&r.unit, lo),
                fmt(&r.unit, hi)
            ),
            _ => fmt(&r.unit, r.simulated),
        };
        let diff = if r.unit == "percent" {
            format!("{:+.1} pt", r.difference)
        } else {
            format!("{:+.2}x", r.difference)
        };
        t.add_row(vec![
            r.figure.clone(),
            r.benchmark.clone(),
            paper,
            sim,
            diff,
            match r.kind {
                Kind::Prediction => "prediction".to_string(),
                Kind::ConsistencyCheck => "consistency check".to_string(),
            },
        ]);
    }
    format!("{t}\n")
}
