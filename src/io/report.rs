//! The run report: one flat row per policy (the stable output schema), as a table or JSON.
//!
//! Field names are documented in `docs/report.md` and are a public interface: other tools
//! (sweeps, plots, validation) read them. Times are seconds; rates are fractions in [0, 1];
//! `_ci_lo`/`_ci_hi` are the bounds of a Student-t 95 % confidence interval over
//! replications; percentiles pool every iteration (or session) of every replication, exactly
//! up to 2^20 values and from a quantile sketch (relative error at most 0.5 %) beyond.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use serde::{Deserialize, Serialize};

use crate::io::stats::{estimate, Estimate};
use crate::runner::Outcome;
use crate::scenario::Scenario;
use crate::sim::metrics::{Pooled, RunMetrics};
use crate::sim::time::nanos_to_secs;

/// Version of the report schema; bumped when a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole report of one scenario run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always `specsim`.
    pub tool: String,
    /// Version of the tool that wrote the report.
    pub version: String,
    /// Report schema version.
    pub schema: u32,
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// Replications.
    pub replications: u32,
    /// Sessions per replication.
    pub sessions: u32,
    /// Pages of the site.
    pub site_pages: u64,
    /// Median out-degree of the site's pages with links.
    pub site_median_out_degree: f64,
    /// Prefetch width.
    pub width: u32,
    /// Cache capacity.
    pub cache_capacity: u32,
    /// One row per policy, `none` first.
    pub policies: Vec<PolicyRow>,
    /// Latency distributions per policy (same order as `policies`), for CDF plots.
    pub distributions: Vec<Distribution>,
}

/// Quantiles of a policy's latencies: entry `i` is the nearest-rank `i`-th percentile
/// (`0..=100`), pooled over every replication.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    pub policy: String,
    pub iter_latency_percentiles_s: Vec<f64>,
    pub session_latency_percentiles_s: Vec<f64>,
}

/// The 101 percentiles 0..=100 of pooled latencies (exact, or sketched: see
/// [`crate::sim::metrics::Latencies`]), seconds.
fn pooled_percentiles(values: &Pooled) -> Vec<f64> {
    (0..=100)
        .map(|q| nanos_to_secs(values.percentile(f64::from(q) / 100.0)))
        .collect()
}

/// The metrics of one policy. Every field is documented in `docs/report.md`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyRow {
    pub policy: String,
    pub iterations: u64,
    pub visits: u64,
    pub iter_latency_s: f64,
    pub iter_latency_s_ci_lo: f64,
    pub iter_latency_s_ci_hi: f64,
    pub iter_latency_p50_s: f64,
    pub iter_latency_p95_s: f64,
    pub iter_latency_p99_s: f64,
    pub session_latency_s: f64,
    pub session_latency_s_ci_lo: f64,
    pub session_latency_s_ci_hi: f64,
    pub session_latency_p50_s: f64,
    pub session_latency_p95_s: f64,
    pub session_latency_p99_s: f64,
    pub llm_s: f64,
    pub llm_s_ci_lo: f64,
    pub llm_s_ci_hi: f64,
    pub target_s: f64,
    pub stages_s: f64,
    pub exposed_web_s: f64,
    pub exposed_web_s_ci_lo: f64,
    pub exposed_web_s_ci_hi: f64,
    pub hidden_web_s: f64,
    pub hidden_web_s_ci_lo: f64,
    pub hidden_web_s_ci_hi: f64,
    pub queue_s: f64,
    pub web_share: f64,
    pub web_share_ci_lo: f64,
    pub web_share_ci_hi: f64,
    pub hit_rate: f64,
    pub hit_rate_ci_lo: f64,
    pub hit_rate_ci_hi: f64,
    pub full_hit_rate: f64,
    pub partial_hit_rate: f64,
    pub speedup: f64,
    pub speedup_ci_lo: f64,
    pub speedup_ci_hi: f64,
    pub web_reduction: Option<f64>,
    pub web_reduction_ci_lo: Option<f64>,
    pub web_reduction_ci_hi: Option<f64>,
    pub web_reduction_instant_prefetch: Option<f64>,
    pub prefetches_per_session: f64,
    pub prefetch_used_per_session: f64,
    pub prefetch_wasted_per_session: f64,
    pub demand_fetches_per_session: f64,
    pub bytes_per_session: f64,
    pub draft_calls_per_session: f64,
    pub draft_tokens_per_session: f64,
    pub drafts_late_per_session: f64,
    pub values_drawn: u64,
    pub values_replayed: u64,
    pub events: u64,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn est(values: impl Iterator<Item = f64>) -> Estimate {
    let v: Vec<f64> = values.collect();
    estimate(&v).unwrap_or(Estimate {
        mean: f64::NAN,
        lo: f64::NAN,
        hi: f64::NAN,
    })
}

/// Summarises the runs of one policy, paired against `baseline` replication by replication.
pub fn policy_row(name: &str, runs: &[&RunMetrics], baseline: &[&RunMetrics]) -> PolicyRow {
    let per_iter = |f: fn(&RunMetrics) -> u64| {
        est(runs
            .iter()
            .map(|m| nanos_to_secs(f(m)) / m.iterations.max(1) as f64))
    };
    let iter_latency = per_iter(|m| m.iteration_latency);
    let session = est(runs
        .iter()
        .map(|m| nanos_to_secs(m.session_latency) / m.session_latencies.len().max(1) as f64));
    let llm = per_iter(|m| m.llm);
    let stages = per_iter(|m| m.stages);
    let target = per_iter(|m| m.llm - m.stages);
    let exposed = per_iter(|m| m.exposed);
    let hidden = per_iter(|m| m.hidden());
    let queue = per_iter(|m| m.queue);
    let share = est(runs
        .iter()
        .map(|m| ratio(m.exposed + m.root_web, m.session_latency)));
    let hit = est(runs
        .iter()
        .map(|m| ratio(m.hits + m.partial_hits, m.visits)));
    let full = est(runs.iter().map(|m| ratio(m.hits, m.visits)));
    let partial = est(runs.iter().map(|m| ratio(m.partial_hits, m.visits)));
    let speedup = est(runs
        .iter()
        .zip(baseline)
        .map(|(m, b)| ratio(b.session_latency, m.session_latency)));
    let reductions: Vec<f64> = runs
        .iter()
        .zip(baseline)
        .filter(|(m, _)| m.exposed > 0)
        .map(|(m, b)| ratio(b.exposed, m.exposed))
        .collect();
    let reduction = estimate(&reductions);
    let instant: Vec<f64> = runs
        .iter()
        .zip(baseline)
        .filter(|(m, _)| m.miss_exposed > 0)
        .map(|(m, b)| ratio(b.exposed, m.miss_exposed))
        .collect();
    let instant = estimate(&instant);
    let sessions: usize = runs.iter().map(|m| m.session_latencies.len()).sum();
    let per_session = |f: fn(&RunMetrics) -> u64| {
        runs.iter().map(|m| f(m)).sum::<u64>() as f64 / sessions.max(1) as f64
    };
    let iters = Pooled::of(runs.iter().map(|m| &m.iteration_latencies));
    let sess = Pooled::of(runs.iter().map(|m| &m.session_latencies));
    let pct = |v: &Pooled, q| nanos_to_secs(v.percentile(q));
    let finite = |x: f64| x.is_finite().then_some(x);
    PolicyRow {
        policy: name.to_string(),
        iterations: runs.iter().map(|m| m.iterations).sum(),
        visits: runs.iter().map(|m| m.visits).sum(),
        iter_latency_s: iter_latency.mean,
        iter_latency_s_ci_lo: iter_latency.lo,
        iter_latency_s_ci_hi: iter_latency.hi,
        iter_latency_p50_s: pct(&iters, 0.50),
        iter_latency_p95_s: pct(&iters, 0.95),
        iter_latency_p99_s: pct(&iters, 0.99),
        session_latency_s: session.mean,
        session_latency_s_ci_lo: session.lo,
        session_latency_s_ci_hi: session.hi,
        session_latency_p50_s: pct(&sess, 0.50),
        session_latency_p95_s: pct(&sess, 0.95),
        session_latency_p99_s: pct(&sess, 0.99),
        llm_s: llm.mean,
        llm_s_ci_lo: llm.lo,
        llm_s_ci_hi: llm.hi,
        target_s: target.mean,
        stages_s: stages.mean,
        exposed_web_s: exposed.mean,
        exposed_web_s_ci_lo: exposed.lo,
        exposed_web_s_ci_hi: exposed.hi,
        hidden_web_s: hidden.mean,
        hidden_web_s_ci_lo: hidden.lo,
        hidden_web_s_ci_hi: hidden.hi,
        queue_s: queue.mean,
        web_share: share.mean,
        web_share_ci_lo: share.lo,
        web_share_ci_hi: share.hi,
        hit_rate: hit.mean,
        hit_rate_ci_lo: hit.lo,
        hit_rate_ci_hi: hit.hi,
        full_hit_rate: full.mean,
        partial_hit_rate: partial.mean,
        speedup: speedup.mean,
        speedup_ci_lo: speedup.lo,
        speedup_ci_hi: speedup.hi,
        web_reduction: reduction.and_then(|e| finite(e.mean)),
        web_reduction_ci_lo: reduction.and_then(|e| finite(e.lo)),
        web_reduction_ci_hi: reduction.and_then(|e| finite(e.hi)),
        web_reduction_instant_prefetch: instant.and_then(|e| finite(e.mean)),
        prefetches_per_session: per_session(|m| m.prefetch_issued),
        prefetch_used_per_session: per_session(|m| m.prefetch_used),
        prefetch_wasted_per_session: per_session(|m| m.prefetch_wasted),
        demand_fetches_per_session: per_session(|m| m.demand_fetches),
        bytes_per_session: per_session(|m| m.bytes_fetched),
        draft_calls_per_session: per_session(|m| m.draft_calls),
        draft_tokens_per_session: per_session(|m| m.draft_tokens),
        drafts_late_per_session: per_session(|m| m.drafts_late),
        values_drawn: runs.iter().map(|m| m.drawn).sum(),
        values_replayed: runs.iter().map(|m| m.replayed).sum(),
        events: runs.iter().map(|m| m.events).sum(),
    }
}

impl Report {
    /// Builds the report of `outcome` for `scenario`.
    pub fn new(scenario: &Scenario, outcome: &Outcome) -> Report {
        let column =
            |p: usize| -> Vec<&RunMetrics> { outcome.runs.iter().map(|r| &r[p]).collect() };
        let baseline = column(0);
        let shown: Vec<(usize, &crate::sim::policy::Policy)> = outcome
            .policies
            .iter()
            .enumerate()
            .filter(|(_, p)| scenario.file.policies.contains(p))
            .collect();
        let policies = shown
            .iter()
            .map(|&(i, p)| policy_row(p.name(), &column(i), &baseline))
            .collect();
        let distributions = shown
            .iter()
            .map(|&(i, p)| {
                let runs = column(i);
                let it = Pooled::of(runs.iter().map(|m| &m.iteration_latencies));
                let se = Pooled::of(runs.iter().map(|m| &m.session_latencies));
                Distribution {
                    policy: p.name().to_string(),
                    iter_latency_percentiles_s: pooled_percentiles(&it),
                    session_latency_percentiles_s: pooled_percentiles(&se),
                }
            })
            .collect();
        Report {
            tool: "specsim".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            schema: SCHEMA_VERSION,
            scenario: scenario.name().to_string(),
            seed: scenario.file.seed,
            replications: scenario.file.replications,
            sessions: scenario.file.sessions,
            site_pages: scenario.model.site.page_count() as u64,
            site_median_out_degree: scenario.model.site.median_out_degree(),
            width: scenario.file.width,
            cache_capacity: scenario.file.cache.capacity,
            policies,
            distributions,
        }
    }

    /// Total simulated events across policies and replications.
    pub fn events(&self) -> u64 {
        self.policies.iter().map(|r| r.events).sum()
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("report serialises");
        s.push('\n');
        s
    }

    /// A human-readable table, one row per policy.
    pub fn to_table(&self) -> String {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
        t.set_header(vec![
            "policy",
            "iter mean s [95% CI]",
            "p50 s",
            "p95 s",
            "LLM s",
            "web exposed s",
            "web hidden s",
            "hit rate",
            "speedup [95% CI]",
            "web reduction [95% CI]",
        ]);
        for r in &self.policies {
            let reduction = match (
                r.web_reduction,
                r.web_reduction_ci_lo,
                r.web_reduction_ci_hi,
            ) {
                (Some(m), Some(lo), Some(hi)) => format!("{m:.2}x [{lo:.2}, {hi:.2}]"),
                (Some(m), _, _) => format!("{m:.2}x"),
                _ => "all hidden".to_string(),
            };
            let cells = vec![
                Cell::new(&r.policy),
                Cell::new(format!(
                    "{:.2} [{:.2}, {:.2}]",
                    r.iter_latency_s, r.iter_latency_s_ci_lo, r.iter_latency_s_ci_hi
                )),
                Cell::new(format!("{:.2}", r.iter_latency_p50_s)),
                Cell::new(format!("{:.2}", r.iter_latency_p95_s)),
                Cell::new(format!("{:.2}", r.llm_s)),
                Cell::new(format!("{:.2}", r.exposed_web_s)),
                Cell::new(format!("{:.2}", r.hidden_web_s)),
                Cell::new(format!("{:.1}%", 100.0 * r.hit_rate)),
                Cell::new(format!(
                    "{:.2}x [{:.2}, {:.2}]",
                    r.speedup, r.speedup_ci_lo, r.speedup_ci_hi
                )),
                Cell::new(reduction),
            ];
            t.add_row(cells);
        }
        for i in 1..10 {
            if let Some(c) = t.column_mut(i) {
                c.set_cell_alignment(CellAlignment::Right);
            }
        }
        // Trace replays: how much of each policy's run came from the trace.
        let mut note = String::new();
        if self.policies.iter().any(|r| r.values_replayed > 0) {
            let parts: Vec<String> = self
                .policies
                .iter()
                .map(|r| format!("{} {}/{}", r.policy, r.values_replayed, r.values_drawn))
                .collect();
            note = format!(
                "values replayed from the trace / drawn from distributions: {}\n",
                parts.join(", ")
            );
        }
        format!(
            "{} (seed {}, {} replications x {} sessions; site {} pages, median out-degree {}; width {}, cache {})\n{t}\n{note}",
            self.scenario,
            self.seed,
            self.replications,
            self.sessions,
            self.site_pages,
            self.site_median_out_degree,
            self.width,
            self.cache_capacity
        )
    }
}
