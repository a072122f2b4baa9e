//! Runs a scenario: replications in parallel (rayon), every policy on the same workload.
//!
//! Each replication is a job seeded from its own index; results are collected in index
//! order, so the output does not depend on the number of threads.

use rayon::prelude::*;

use crate::scenario::Scenario;
use crate::sim::metrics::RunMetrics;
use crate::sim::policy::Policy;
use crate::sim::rng::StreamKey;
use crate::sim::sampled::{Shared, Sim, Workload};
use crate::sim::trajectory::Trajectory;

/// Tag separating replication keys from the site's key under the scenario seed.
const REPLICATION_TAG: u64 = 0x7265_706c; // "repl"

/// The raw results of a scenario: `runs[r][p]` is replication `r` of `policies[p]`.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Policies in report order (`none` first).
    pub policies: Vec<Policy>,
    /// Per replication, per policy.
    pub runs: Vec<Vec<RunMetrics>>,
}

/// The stream key of replication `r`.
pub fn replication_key(seed: u64, r: u32) -> StreamKey {
    StreamKey::root(seed)
        .child(REPLICATION_TAG)
        .child(u64::from(r))
}

/// The workload of replication `r`: trajectories and arrivals.
pub fn workload(
    scenario: &Scenario,
    r: u32,
) -> (Vec<Trajectory>, Vec<crate::sim::time::SimTime>, StreamKey) {
    let key = replication_key(scenario.seed, r);
    let site = &scenario.model.site;
    let n = scenario.sessions as usize;
    let trajectories = match (&scenario.replay, &scenario.agent) {
        // Recorded sessions are the same in every replication; only what the trace lacks
        // is drawn, from the replication's streams.
        (Some(r), _) => r.trajectories[..n.min(r.trajectories.len())].to_vec(),
        (None, Some(agent)) => (0..n as u64)
            .map(|s| agent.walk(site, key.child(s)))
            .collect(),
        (None, None) => unreachable!("a scenario has a walker or a trace"),
    };
    let arrivals = scenario.arrivals(key);
    (trajectories, arrivals, key)
}

/// Runs replication `r` of every policy.
pub fn run_replication(scenario: &Scenario, r: u32) -> Vec<RunMetrics> {
    run_replication_with(&mut Sim::new(&scenario.model), scenario, r)
}

/// Runs replication `r` of every policy on `sim` (a simulator of `scenario.model`, reused
/// across replications so that its allocations are too).
pub fn run_replication_with(sim: &mut Sim<'_>, scenario: &Scenario, r: u32) -> Vec<RunMetrics> {
    let (trajectories, arrivals, key) = workload(scenario, r);
    let work = Workload {
        trajectories: &trajectories,
        arrivals: &arrivals,
        key,
    };
    // The samples every policy reads, drawn once (the same numbers each would draw).
    let shared = Shared::draw(&scenario.model, work);
    scenario
        .policies
        .iter()
        .map(|&p| sim.run_shared(p, work, &shared).clone())
        .collect()
}

/// Runs every replication in parallel on the current rayon pool.
pub fn run(scenario: &Scenario) -> Outcome {
    run_observed(scenario, || {})
}

/// [`run`], calling `done` each time a replication finishes (in any order: for progress
/// only; the outcome does not depend on it).
pub fn run_observed(scenario: &Scenario, done: impl Fn() + Sync) -> Outcome {
    // A simulator per rayon job, reused by its replications: results depend only on the
    // replication's index, never on which simulator ran it.
    let runs = (0..scenario.replications)
        .into_par_iter()
        .map_init(
            || {
                let mut sim = Sim::new(&scenario.model);
                sim.pool_runs(u64::from(scenario.replications));
                sim
            },
            |sim, r| {
                let metrics = run_replication_with(sim, scenario, r);
                done();
                metrics
            },
        )
        .collect();
    Outcome {
        policies: scenario.policies.clone(),
        runs,
    }
}
