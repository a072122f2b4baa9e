//! Runs a scenario: replications in parallel (rayon), every policy on the same workload.
//!
//! Each replication is a job seeded from its own index; results are collected in index
//! order, so the output does not depend on the number of threads.

use rayon::prelude::*;

use crate::scenario::Scenario;
use crate::sim::metrics::RunMetrics;
use crate::sim::model::Rules;
use crate::sim::policy::Policy;
use crate::sim::rng::StreamKey;
use crate::sim::sampled::{Shared, Sim, Workload};
use crate::sim::time::SimTime;
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
pub fn workload(scenario: &Scenario, r: u32) -> (Vec<Trajectory>, Vec<SimTime>, StreamKey) {
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

/// What the policies of one replication read before they run: its workload (trajectories,
/// arrivals, stream key) and the samples they share, drawn once.
#[derive(Debug)]
pub struct Prepared {
    trajectories: Vec<Trajectory>,
    arrivals: Vec<SimTime>,
    key: StreamKey,
    shared: Shared,
}

impl Prepared {
    /// Walks the workload of replication `r` of `scenario` and draws its shared samples.
    pub fn new(scenario: &Scenario, r: u32) -> Self {
        let (trajectories, arrivals, key) = workload(scenario, r);
        let mut p = Prepared {
            trajectories,
            arrivals,
            key,
            shared: Shared::default(),
        };
        // The samples every policy reads, drawn once (the same numbers each would draw).
        p.shared = Shared::draw(&scenario.model, p.work());
        p
    }

    /// The workload, for the simulator.
    pub fn work(&self) -> Workload<'_> {
        Workload {
            trajectories: &self.trajectories,
            arrivals: &self.arrivals,
            key: self.key,
        }
    }

    /// Runs every policy of `scenario` on this replication, taking the `none` run from
    /// `baseline` when given (see [`Family`]).
    fn run(
        &self,
        sim: &mut Sim<'_>,
        scenario: &Scenario,
        baseline: Option<&RunMetrics>,
    ) -> Vec<RunMetrics> {
        scenario
            .policies
            .iter()
            .map(|&p| match (p, baseline) {
                (Policy::None, Some(b)) => b.clone(),
                _ => sim.run_shared(p, self.work(), &self.shared).clone(),
            })
            .collect()
    }
}

/// Runs replication `r` of every policy on `sim` (a simulator of `scenario.model`, reused
/// across replications so that its allocations are too).
pub fn run_replication_with(sim: &mut Sim<'_>, scenario: &Scenario, r: u32) -> Vec<RunMetrics> {
    Prepared::new(scenario, r).run(sim, scenario, None)
}

/// A simulator of `scenario`'s model, as each rayon job keeps one, reused across
/// replications.
pub fn simulator(scenario: &Scenario) -> Sim<'_> {
    let mut sim = Sim::new(&scenario.model);
    sim.pool_runs(u64::from(scenario.replications));
    sim
}

/// Scenarios that differ only in how they prefetch (cache, width, drafts, fetcher, lookup
/// cost, policies: what [`crate::sweep`] calls a family, e.g. the cells of a sweep over
/// those fields) walk the same workloads and read the same shared samples, and those whose
/// baseline rules are equal (see [`baseline_rules`]) get the same `none` runs. A family
/// prepares each replication once, and runs `none` once per distinct baseline; its members
/// then run only their other policies. Results are those of [`run`] on each member, byte for
/// byte (`sweep::cells_sharing_a_family_give_the_rows_they_give_alone` in
/// `tests/integration/sweep.rs`).
#[derive(Debug)]
pub struct Family {
    prepared: Vec<Prepared>,
    /// Per distinct baseline, its `none` run of each replication.
    baselines: Vec<(Rules, Vec<RunMetrics>)>,
}

/// The rules a `none` run depends on: a run without a cache or prefetches never reads the
/// others, so they are set to fixed values.
pub fn baseline_rules(rules: &Rules) -> Rules {
    Rules {
        width: 1,
        cache_capacity: 0,
        eviction: Default::default(),
        shared_cache: false,
        list_order: Default::default(),
        lookup_cost: 0,
        drafts: 0,
        ..*rules
    }
}

impl Family {
    /// Prepares the replications of `members` (scenarios of one family: the caller
    /// guarantees that they differ only in prefetching parameters) in parallel, and runs
    /// `none` once for each baseline that two or more members share.
    pub fn prepare(members: &[&Scenario]) -> Family {
        let first = members[0];
        let prepared: Vec<Prepared> = (0..first.replications)
            .into_par_iter()
            .map(|r| Prepared::new(first, r))
            .collect();
        // Every scenario runs `none` (its first policy, the baseline).
        let mut classes: Vec<(Rules, &Scenario, usize)> = Vec::new();
        for &m in members {
            let b = baseline_rules(&m.model.rules);
            match classes.iter_mut().find(|c| c.0 == b) {
                Some(c) => c.2 += 1,
                None => classes.push((b, m, 1)),
            }
        }
        let baselines = classes
            .into_iter()
            .filter(|c| c.2 > 1)
            .map(|(b, sc, _)| {
                let runs = prepared
                    .par_iter()
                    .map_init(
                        || simulator(sc),
                        |sim, p| sim.run_shared(Policy::None, p.work(), &p.shared).clone(),
                    )
                    .collect();
                (b, runs)
            })
            .collect();
        Family {
            prepared,
            baselines,
        }
    }

    /// Runs `member` (one of the scenarios this family was prepared for) on the prepared
    /// replications: the same outcome as [`run`].
    pub fn run(&self, member: &Scenario) -> Outcome {
        let b = baseline_rules(&member.model.rules);
        let baseline = self.baselines.iter().find(|c| c.0 == b).map(|c| &c.1);
        let runs = self
            .prepared
            .par_iter()
            .enumerate()
            .map_init(
                || simulator(member),
                |sim, (r, p)| p.run(sim, member, baseline.map(|b| &b[r])),
            )
            .collect();
        Outcome {
            policies: member.policies.clone(),
            runs,
        }
    }
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
            || simulator(scenario),
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
