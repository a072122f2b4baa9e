//! The run report: one flat row per policy (the stable output schema), as a table or JSON.
//!
//! Field names are documented in `docs/report.md` and are a public interface: other tools
//! (sweeps, plots, validation) read them. Times are seconds; rates are fractions in [0, 1];
//! `_ci_lo`/`_ci_hi` are the bounds of a 95 % confidence interval over replications
//! (Student-t for means, log scale for ratios of pooled sums: see [`ratio_of_sums`]);
//! percentiles pool every iteration (or session) of every replication, exactly up to 2^20
//! values and from a quantile sketch (relative error at most 0.5 %) beyond.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use serde::{Deserialize, Serialize};

use crate::io::stats::{estimate, ratio_of_sums, Estimate};
use crate::runner::{replication_key, Outcome};
use crate::scenario::Scenario;
use crate::sim::metrics::{Pooled, RunMetrics};
use crate::sim::time::{nanos_to_secs, Nanos, SimTime};

/// Version of the report schema; bumped when a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 3;

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
    /// Concurrent fetch slots (`None` = unlimited).
    pub fetch_slots: Option<u32>,
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
    /// Absent from reports before other time was replayed (read as 0).
    #[serde(default)]
    pub other_s: f64,
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
    pub hidden_web_fraction: Option<f64>,
    pub hidden_web_fraction_ci_lo: Option<f64>,
    pub hidden_web_fraction_ci_hi: Option<f64>,
    pub fetch_load: Option<f64>,
    /// Absent from reports before it was reported (read as `null`).
    #[serde(default)]
    pub demand_fetch_load: Option<f64>,
    /// Absent from schema-1 reports (read as `false`).
    #[serde(default)]
    pub fetch_overloaded: bool,
    /// Fetches per second the site received over the run ([`site_request_rate`]); absent
    /// from reports before schema 3 (read as `null`).
    #[serde(default)]
    pub site_request_rate_per_s: Option<f64>,
    pub prefetches_per_session: f64,
    pub prefetch_used_per_session: f64,
    pub prefetch_wasted_per_session: f64,
    /// Absent from reports before stale prefetches were cancelled (read as 0).
    #[serde(default)]
    pub prefetch_cancelled_per_session: f64,
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
    let (iters, sess) = row_percentiles(runs);
    policy_row_pooled(name, runs, baseline, iters, sess)
}

/// The percentiles a row shows: p50, p95 and p99.
const ROW_PERCENTILES: [f64; 3] = [0.50, 0.95, 0.99];

/// The row's percentiles of the runs' iteration and session latencies, selected without
/// sorting them (a row shows no distribution).
fn row_percentiles(runs: &[&RunMetrics]) -> ([Nanos; 3], [Nanos; 3]) {
    (
        Pooled::percentiles_of(runs.iter().map(|m| &m.iteration_latencies), ROW_PERCENTILES),
        Pooled::percentiles_of(runs.iter().map(|m| &m.session_latencies), ROW_PERCENTILES),
    )
}

/// [`policy_row`] with the runs' iteration and session latency percentiles
/// ([`ROW_PERCENTILES`]) already taken.
fn policy_row_pooled(
    name: &str,
    runs: &[&RunMetrics],
    baseline: &[&RunMetrics],
    iters: [Nanos; 3],
    sess: [Nanos; 3],
) -> PolicyRow {
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
        .map(|m| ratio(m.exposed.saturating_add(m.root_web), m.session_latency)));
    let hit = est(runs
        .iter()
        .map(|m| ratio(m.hits + m.partial_hits, m.visits)));
    let full = est(runs.iter().map(|m| ratio(m.hits, m.visits)));
    let partial = est(runs.iter().map(|m| ratio(m.partial_hits, m.visits)));
    // Ratios of sums over the same sessions (paired), every replication kept.
    let pooled = |num: fn(&RunMetrics) -> u64,
                  num_runs: &[&RunMetrics],
                  den: fn(&RunMetrics) -> u64,
                  den_runs: &[&RunMetrics]| {
        let a: Vec<f64> = num_runs.iter().map(|m| num(m) as f64).collect();
        let b: Vec<f64> = den_runs.iter().map(|m| den(m) as f64).collect();
        ratio_of_sums(&a, &b)
    };
    let speedup =
        pooled(|m| m.session_latency, baseline, |m| m.session_latency, runs).unwrap_or(Estimate {
            mean: f64::NAN,
            lo: f64::NAN,
            hi: f64::NAN,
        });
    let reduction = pooled(|m| m.exposed, baseline, |m| m.exposed, runs);
    let exposed_fraction = pooled(|m| m.exposed, runs, |m| m.exposed, baseline);
    let instant = pooled(|m| m.exposed, baseline, |m| m.miss_exposed, runs);
    let sessions: usize = runs.iter().map(|m| m.session_latencies.len()).sum();
    let per_session = |f: fn(&RunMetrics) -> u64| {
        runs.iter().map(|m| f(m) as f64).sum::<f64>() / sessions.max(1) as f64
    };
    let finite = |x: f64| x.is_finite().then_some(x);
    PolicyRow {
        policy: name.to_string(),
        iterations: runs.iter().map(|m| m.iterations).sum(),
        visits: runs.iter().map(|m| m.visits).sum(),
        iter_latency_s: iter_latency.mean,
        iter_latency_s_ci_lo: iter_latency.lo,
        iter_latency_s_ci_hi: iter_latency.hi,
        iter_latency_p50_s: nanos_to_secs(iters[0]),
        iter_latency_p95_s: nanos_to_secs(iters[1]),
        iter_latency_p99_s: nanos_to_secs(iters[2]),
        session_latency_s: session.mean,
        session_latency_s_ci_lo: session.lo,
        session_latency_s_ci_hi: session.hi,
        session_latency_p50_s: nanos_to_secs(sess[0]),
        session_latency_p95_s: nanos_to_secs(sess[1]),
        session_latency_p99_s: nanos_to_secs(sess[2]),
        llm_s: llm.mean,
        llm_s_ci_lo: llm.lo,
        llm_s_ci_hi: llm.hi,
        target_s: target.mean,
        stages_s: stages.mean,
        other_s: per_iter(|m| m.other).mean,
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
        hidden_web_fraction: exposed_fraction.and_then(|e| finite(1.0 - e.mean)),
        hidden_web_fraction_ci_lo: exposed_fraction.and_then(|e| finite(1.0 - e.hi)),
        hidden_web_fraction_ci_hi: exposed_fraction.and_then(|e| finite(1.0 - e.lo)),
        fetch_load: None,
        demand_fetch_load: None,
        site_request_rate_per_s: None,
        fetch_overloaded: false,
        prefetches_per_session: per_session(|m| m.prefetch_issued),
        prefetch_used_per_session: per_session(|m| m.prefetch_used),
        prefetch_wasted_per_session: per_session(|m| m.prefetch_wasted),
        prefetch_cancelled_per_session: per_session(|m| m.prefetch_cancelled),
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

/// The offered fetch load per slot of `runs` (one per replication, `spans[r]` the time from
/// the first to the last arrival of replication `r`) with `slots` fetch slots, and whether
/// the fetcher has no steady state.
///
/// `rho = λ · w / W`: `λ` is the arrival rate `Σ (n_r - 1) / Σ span_r` of the sessions the
/// replications actually had, `w` the fetch work (service time of every fetch requested)
/// per session, `W` the slots. Neither depends on how long the fetches waited, so `rho`
/// keeps growing past 1 when the queues do (a busy fraction would stop at 1). `None` for
/// unlimited slots, a single session, or sessions that all arrive at once (an infinite
/// arrival rate: then the run is flagged, a batch sharing limited slots has no steady state).
///
/// With `sheds` (stale prefetches are cancelled), prefetch work adapts to the slots left and
/// cannot make the queue grow without bound: stability is then judged on the demand load
/// (`demand_work`, start pages and misses), the second value returned.
pub fn fetch_load(
    runs: &[&RunMetrics],
    slots: Option<u32>,
    spans: &[Nanos],
    sheds: bool,
) -> (Option<f64>, Option<f64>, bool) {
    let Some(slots) = slots else {
        return (None, None, false);
    };
    let sessions: u64 = runs.iter().map(|m| m.session_latencies.len() as u64).sum();
    let gaps: u64 = runs
        .iter()
        .map(|m| (m.session_latencies.len() as u64).saturating_sub(1))
        .sum();
    let span: u64 = spans.iter().fold(0u64, |a, &s| a.saturating_add(s));
    if gaps == 0 {
        return (None, None, false);
    }
    if span == 0 {
        return (None, None, true);
    }
    let rate = gaps as f64 / span as f64;
    let load = |work: u64| rate * (work as f64 / sessions as f64) / f64::from(slots);
    let sum = |f: fn(&RunMetrics) -> u64| runs.iter().fold(0u64, |a, m| a.saturating_add(f(m)));
    let rho = load(sum(|m| m.fetch_work));
    let demand = load(sum(|m| m.demand_work));
    let over = if sheds { demand >= 1.0 } else { rho >= 1.0 };
    (Some(rho), Some(demand), over)
}

/// Fetches the site received per second of the run, `Σ_r f_r / Σ_r (end_r - first_r)`: `f_r`
/// the fetches replication `r` started (start pages, misses and prefetches, less the
/// prefetches cancelled in the queue before they started), `first_r` its first arrival and
/// `end_r` its last event (an answer or a trailing prefetch's completion). Every session of
/// the scenario counts: they are the agents visiting the site. `None` without fetches' time.
pub fn site_request_rate(runs: &[&RunMetrics], firsts: &[Option<SimTime>]) -> Option<f64> {
    let (mut fetches, mut span) = (0u64, 0u64);
    for (m, first) in runs.iter().zip(firsts) {
        let Some(first) = first else { continue };
        let started = (m.prefetch_issued.saturating_sub(m.prefetch_cancelled))
            .saturating_add(m.demand_fetches);
        fetches = fetches.saturating_add(started);
        span = span.saturating_add(m.end_time.since(*first));
    }
    (span > 0).then(|| fetches as f64 / nanos_to_secs(span))
}

impl Report {
    /// Builds the report of `outcome` for `scenario`.
    pub fn new(scenario: &Scenario, outcome: &Outcome) -> Report {
        let (policies, distributions) = Self::rows_of(scenario, outcome, true);
        Report {
            tool: "specsim".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            schema: SCHEMA_VERSION,
            scenario: scenario.name().to_string(),
            seed: scenario.seed,
            replications: scenario.replications,
            sessions: scenario.sessions,
            site_pages: scenario.model.site.page_count() as u64,
            site_median_out_degree: scenario.model.site.median_out_degree(),
            width: scenario.model.rules.width as u32,
            cache_capacity: scenario.model.rules.cache_capacity as u32,
            fetch_slots: scenario.model.rules.fetch_slots,
            policies,
            distributions,
        }
    }

    /// The policy rows of [`Report::new`] alone (a sweep cell's): no distributions, so no
    /// latencies sorted.
    pub fn rows(scenario: &Scenario, outcome: &Outcome) -> Vec<PolicyRow> {
        Self::rows_of(scenario, outcome, false).0
    }

    /// The policy rows of `outcome`, and their distributions if `distributions`.
    fn rows_of(
        scenario: &Scenario,
        outcome: &Outcome,
        distributions: bool,
    ) -> (Vec<PolicyRow>, Vec<Distribution>) {
        let column =
            |p: usize| -> Vec<&RunMetrics> { outcome.runs.iter().map(|r| &r[p]).collect() };
        let baseline = column(0);
        let (spans, firsts): (Vec<Nanos>, Vec<Option<SimTime>>) = (0..outcome.runs.len() as u32)
            .map(|r| {
                let arrivals = scenario.arrivals(replication_key(scenario.seed, r));
                match (arrivals.first(), arrivals.last()) {
                    (Some(&a), Some(&b)) => (b.since(a), Some(a)),
                    _ => (0, None),
                }
            })
            .unzip();
        let slots = scenario.model.rules.fetch_slots;
        let shown: Vec<(usize, &crate::sim::policy::Policy)> = outcome
            .policies
            .iter()
            .enumerate()
            .filter(|(_, p)| scenario.requested.contains(p))
            .collect();
        let mut rows = Vec::with_capacity(shown.len());
        let mut dists = Vec::with_capacity(if distributions { shown.len() } else { 0 });
        for &(i, p) in &shown {
            let runs = column(i);
            // With distributions, each policy's latencies are pooled and sorted once, for its
            // row and its distribution; without, the row's percentiles are selected.
            let (iters, sess) = if distributions {
                let it = Pooled::of(runs.iter().map(|m| &m.iteration_latencies));
                let se = Pooled::of(runs.iter().map(|m| &m.session_latencies));
                dists.push(Distribution {
                    policy: p.name().to_string(),
                    iter_latency_percentiles_s: pooled_percentiles(&it),
                    session_latency_percentiles_s: pooled_percentiles(&se),
                });
                (
                    ROW_PERCENTILES.map(|q| it.percentile(q)),
                    ROW_PERCENTILES.map(|q| se.percentile(q)),
                )
            } else {
                row_percentiles(&runs)
            };
            let mut row = policy_row_pooled(p.name(), &runs, &baseline, iters, sess);
            (row.fetch_load, row.demand_fetch_load, row.fetch_overloaded) =
                fetch_load(&runs, slots, &spans, scenario.model.rules.cancel_stale);
            row.site_request_rate_per_s = site_request_rate(&runs, &firsts);
            rows.push(row);
        }
        (rows, dists)
    }

    /// Total simulated events across policies and replications.
    pub fn events(&self) -> u64 {
        self.policies.iter().map(|r| r.events).sum()
    }

    /// One line per policy whose fetcher has no steady state (see [`fetch_load`]), for stderr.
    pub fn overload_warnings(&self) -> Vec<String> {
        let slots = self.fetch_slots.unwrap_or(0);
        self.policies
            .iter()
            .filter(|r| r.fetch_overloaded)
            .map(|r| match r.fetch_load {
                Some(rho) => format!(
                    "{}: offered fetch load {rho:.2} per slot with {slots} fetch slots (>= 1): \
                     the queue has no steady state, results grow with the number of sessions",
                    r.policy
                ),
                None => format!(
                    "{}: every session arrives at once and shares {slots} fetch slots: \
                     a batch has no steady state, results depend on the number of sessions",
                    r.policy
                ),
            })
            .collect()
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
        if let Some(slots) = self.fetch_slots {
            let parts: Vec<String> = self
                .policies
                .iter()
                .map(|r| match r.fetch_load {
                    Some(rho) => format!("{} {rho:.2}", r.policy),
                    None => format!("{} -", r.policy),
                })
                .collect();
            note.push_str(&format!(
                "offered fetch load per slot ({slots} slots; >= 1 has no steady state): {}\n",
                parts.join(", ")
            ));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn run(exposed: u64, session_latency: u64, sessions: usize, work: u64) -> RunMetrics {
        let mut m = RunMetrics {
            iterations: 10,
            visits: 10,
            exposed,
            miss_exposed: exposed,
            session_latency,
            fetch_work: work,
            ..Default::default()
        };
        for _ in 0..sessions {
            m.session_latencies.push(session_latency / sessions as u64);
        }
        m
    }

    /// Regression (issue 11): a replication whose policy exposed no web time used to be
    /// dropped and the rest averaged as ratios ((10/2 + 10/3) / 2 = 4.17x); the ratio of
    /// sums keeps it: 30 / 5 = 6x, and the speedup is 300 / 240 = 1.25x, not the mean of
    /// 100/70, 100/80 and 100/90.
    #[test]
    fn ratios_are_of_pooled_sums() {
        let base = [run(10, 100, 2, 0), run(10, 100, 2, 0), run(10, 100, 2, 0)];
        let pol = [run(0, 70, 2, 0), run(2, 80, 2, 0), run(3, 90, 2, 0)];
        let b: Vec<&RunMetrics> = base.iter().collect();
        let p: Vec<&RunMetrics> = pol.iter().collect();
        let row = policy_row("speccache", &p, &b);
        assert_eq!(row.web_reduction, Some(6.0));
        assert_eq!(row.web_reduction_instant_prefetch, Some(6.0));
        assert!(row.web_reduction_ci_lo.unwrap() > 0.0);
        assert_eq!(row.speedup, 300.0 / 240.0);
        assert_eq!(row.hidden_web_fraction, Some(1.0 - 5.0 / 30.0));
    }

    /// A sweep cell's rows (percentiles selected) are the report's (percentiles from the
    /// sorted latencies), for every policy of the default scenario.
    #[test]
    fn rows_alone_are_the_reports_rows() {
        let sc = Scenario::default_scenario();
        let outcome = crate::runner::run(&sc);
        let report = Report::new(&sc, &outcome);
        assert_eq!(report.policies.len(), 5);
        assert!(report
            .policies
            .iter()
            .all(|r| r.iter_latency_p95_s > r.iter_latency_p50_s));
        assert_eq!(Report::rows(&sc, &outcome), report.policies);
    }

    /// Every field of the report is defined in docs/report.md.
    #[test]
    fn every_field_is_documented() {
        let doc = include_str!("../../docs/report.md");
        let documented = |k: &str| {
            let base = k.trim_end_matches("_ci_lo").trim_end_matches("_ci_hi");
            doc.contains(&format!("`{k}`"))
                || (base != k && doc.contains(&format!("`{base}` (+CI)")))
                || ["_p50_s", "_p95_s", "_p99_s"]
                    .iter()
                    .any(|p| k.ends_with(p) && doc.contains(&format!("`{p}`")))
        };
        let keys = |v: serde_json::Value| -> Vec<String> {
            v.as_object().unwrap().keys().cloned().collect()
        };
        let row = keys(serde_json::to_value(PolicyRow::default()).unwrap());
        let mut top = keys(
            serde_json::to_value(Report {
                tool: String::new(),
                version: String::new(),
                schema: 0,
                scenario: String::new(),
                seed: 0,
                replications: 0,
                sessions: 0,
                site_pages: 0,
                site_median_out_degree: 0.0,
                width: 0,
                cache_capacity: 0,
                fetch_slots: None,
                policies: Vec::new(),
                distributions: Vec::new(),
            })
            .unwrap(),
        );
        top.extend(row);
        let missing: Vec<&String> = top.iter().filter(|k| !documented(k)).collect();
        assert!(missing.is_empty(), "not in docs/report.md: {missing:?}");
    }

    #[test]
    fn site_request_rate_is_fetches_started_over_the_runs_time() {
        // Replication 0: first arrival at 2 s, last event at 12 s; 6 demand fetches and 5
        // prefetches of which 1 was cancelled in the queue: 10 fetches in 10 s. Replication
        // 1: arrivals from 0 s, last event at 30 s, 20 demand fetches. (10 + 20) / 40 s.
        let s = 1_000_000_000;
        let mut a = RunMetrics::default();
        (a.demand_fetches, a.prefetch_issued, a.prefetch_cancelled) = (6, 5, 1);
        a.end_time = SimTime(12 * s);
        let b = RunMetrics {
            demand_fetches: 20,
            end_time: SimTime(30 * s),
            ..RunMetrics::default()
        };
        let firsts = [Some(SimTime(2 * s)), Some(SimTime::ZERO)];
        let rate = site_request_rate(&[&a, &b], &firsts).unwrap();
        assert!((rate - 0.75).abs() < 1e-12, "{rate}");
        // No time at all: no rate rather than a division by zero.
        let c = RunMetrics::default();
        assert_eq!(site_request_rate(&[&c], &[Some(SimTime::ZERO)]), None);
        assert_eq!(site_request_rate(&[&a], &[None]), None);
    }

    #[test]
    fn fetch_load_is_arrival_rate_times_work_over_slots() {
        // 2 replications x 3 sessions, arrivals spanning 20 s each: rate 4 / 40 s = 0.1/s;
        // 6 s of fetch work per session; 2 slots: rho = 0.1 x 6 / 2 = 0.3.
        let s = 1_000_000_000;
        let runs = [run(0, 1, 3, 18 * s), run(0, 1, 3, 18 * s)];
        let r: Vec<&RunMetrics> = runs.iter().collect();
        let (rho, _, over) = fetch_load(&r, Some(2), &[20 * s, 20 * s], false);
        assert!((rho.unwrap() - 0.3).abs() < 1e-12 && !over);
        // Ten times the work: 3.0, far past 1 (a busy fraction would stop at 1).
        let runs = [run(0, 1, 3, 180 * s), run(0, 1, 3, 180 * s)];
        let r: Vec<&RunMetrics> = runs.iter().collect();
        let (rho, demand, over) = fetch_load(&r, Some(2), &[20 * s, 20 * s], false);
        assert!((rho.unwrap() - 3.0).abs() < 1e-12 && over);
        // Shedding stale prefetches: judged on the demand work (here none), not flagged.
        assert_eq!(demand, Some(0.0));
        let (_, _, over) = fetch_load(&r, Some(2), &[20 * s, 20 * s], true);
        assert!(!over, "prefetch work that can be shed does not overload");
        let mut heavy = [run(0, 1, 3, 180 * s), run(0, 1, 3, 180 * s)];
        for m in &mut heavy {
            m.demand_work = 60 * s;
        }
        let r2: Vec<&RunMetrics> = heavy.iter().collect();
        let (_, demand, over) = fetch_load(&r2, Some(2), &[20 * s, 20 * s], true);
        assert!(
            (demand.unwrap() - 1.0).abs() < 1e-12 && over,
            "demand alone fills them"
        );
        // Unlimited slots: no load; all at once with limited slots: a batch, flagged.
        assert_eq!(
            fetch_load(&r, None, &[20 * s, 20 * s], false),
            (None, None, false)
        );
        assert_eq!(fetch_load(&r, Some(2), &[0, 0], false), (None, None, true));
        // A single session per replication has no arrival rate.
        let one = [run(0, 1, 1, s)];
        let r: Vec<&RunMetrics> = one.iter().collect();
        assert_eq!(fetch_load(&r, Some(2), &[0], false), (None, None, false));
    }
}
