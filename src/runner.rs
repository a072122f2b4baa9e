//! Runs a scenario: replications in parallel (rayon), every policy on the same workload.
//!
//! Each replication is a job seeded from its own index; results are collected in index
//! order, so the output does not depend on the number of threads.

use rayon::prelude::*;

use crate::scenario::{limits, Scenario};
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

    /// Runs every policy of `scenario` on this replication.
    fn run(&self, sim: &mut Sim<'_>, scenario: &Scenario) -> Vec<RunMetrics> {
        scenario
            .policies
            .iter()
            .map(|&p| sim.run_shared(p, self.work(), &self.shared).clone())
            .collect()
    }
}

/// Runs replication `r` of every policy on `sim` (a simulator of `scenario.model`, reused
/// across replications so that its allocations are too).
pub fn run_replication_with(sim: &mut Sim<'_>, scenario: &Scenario, r: u32) -> Vec<RunMetrics> {
    Prepared::new(scenario, r).run(sim, scenario)
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
/// those fields) walk the same workloads and read the same shared samples; and two members
/// whose rules agree on everything a policy reads (see [`run_rules`]) get the same runs of
/// that policy. A family prepares each replication once, runs each such policy once per
/// distinct rules that two or more members share, and its members then run only what is
/// left (`speccache`, and runs no other member shares). Results are those of [`run`] on each
/// member, byte for byte (`sweep::cells_sharing_a_family_give_the_rows_they_give_alone` in
/// `tests/integration/sweep.rs`).
#[derive(Debug)]
pub struct Family {
    prepared: Vec<Prepared>,
    /// Per shared run: its policy, its rules as [`run_rules`] gives them, and its run of
    /// each replication.
    shared: Vec<(Policy, Rules, Vec<RunMetrics>)>,
}

/// The rules a run of `policy` depends on, with those its code never reads set to fixed
/// values, so that two members of a family whose runs of `policy` are the same have equal
/// `run_rules`:
/// - `none` has no cache and no prefetches: only the fetcher's rules count;
/// - `cache` never prefetches: the prefetch width does not count either;
/// - `oracle` prefetches the one page the target will visit, `random` `width` random links:
///   neither calls a draft, so the drafts and the order of their lists do not count (nor
///   does the width for `oracle`: it sizes allocations only).
///
/// `None` for `speccache`: its runs read the drafts' latencies and accuracy, which are not
/// rules, so they are never shared.
pub fn run_rules(policy: Policy, rules: &Rules) -> Option<Rules> {
    let no_drafts = Rules {
        list_order: Default::default(),
        drafts: 0,
        ..*rules
    };
    match policy {
        Policy::None => Some(Rules {
            width: 1,
            cache_capacity: 0,
            eviction: Default::default(),
            shared_cache: false,
            lookup_cost: 0,
            ..no_drafts
        }),
        Policy::Cache | Policy::Oracle => Some(Rules {
            width: 1,
            ..no_drafts
        }),
        Policy::Random => Some(no_drafts),
        Policy::Speccache => None,
    }
}

impl Family {
    /// Prepares the replications of `members` (scenarios of one family: the caller
    /// guarantees that they differ only in prefetching parameters) in parallel, and runs once
    /// each policy run that two or more members share, in order of first use, as long as
    /// their latency lists fit in `max_shared_bytes` (the others run in each member).
    pub fn prepare(members: &[&Scenario], max_shared_bytes: u64) -> Family {
        let first = members[0];
        let prepared: Vec<Prepared> = (0..first.replications)
            .into_par_iter()
            .map(|r| Prepared::new(first, r))
            .collect();
        let mut classes: Vec<(Policy, Rules, &Scenario, usize)> = Vec::new();
        for &m in members {
            for &p in &m.policies {
                let Some(rules) = run_rules(p, &m.model.rules) else {
                    continue;
                };
                match classes.iter_mut().find(|c| c.0 == p && c.1 == rules) {
                    Some(c) => c.3 += 1,
                    None => classes.push((p, rules, m, 1)),
                }
            }
        }
        let mut budget = max_shared_bytes;
        classes.retain(|c| {
            let bytes = limits::run_bytes(c.2);
            let keep = c.3 > 1 && bytes <= budget;
            if keep {
                budget -= bytes;
            }
            keep
        });
        let shared = classes
            .into_par_iter()
            .map(|(p, rules, sc, _)| {
                let runs = prepared
                    .par_iter()
                    .map_init(
                        || simulator(sc),
                        |sim, r| sim.run_shared(p, r.work(), &r.shared).clone(),
                    )
                    .collect();
                (p, rules, runs)
            })
            .collect();
        Family { prepared, shared }
    }

    /// How many policy runs of each replication the family shares among its members.
    pub fn shared_runs(&self) -> usize {
        self.shared.len()
    }

    /// Runs `member` (one of the scenarios this family was prepared for) on the prepared
    /// replications: the same outcome as [`run`].
    pub fn run(&self, member: &Scenario) -> Outcome {
        // Per policy of the member, its shared runs if any.
        let shared: Vec<Option<&Vec<RunMetrics>>> = member
            .policies
            .iter()
            .map(|&p| {
                let rules = run_rules(p, &member.model.rules)?;
                self.shared
                    .iter()
                    .find(|c| c.0 == p && c.1 == rules)
                    .map(|c| &c.2)
            })
            .collect();
        let runs = self
            .prepared
            .par_iter()
            .enumerate()
            .map_init(
                || simulator(member),
                |sim, (r, p)| {
                    member
                        .policies
                        .iter()
                        .zip(&shared)
                        .map(|(&policy, runs)| match runs {
                            Some(runs) => runs[r].clone(),
                            None => sim.run_shared(policy, p.work(), &p.shared).clone(),
                        })
                        .collect()
                },
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{ScenarioFile, DEFAULT_SCENARIO};

    fn member(width: u32, accuracy: f64) -> Scenario {
        let mut v: serde_json::Value = serde_json::from_str(DEFAULT_SCENARIO).unwrap();
        v["sessions"] = 6.into();
        v["replications"] = 3.into();
        v["width"] = width.into();
        v["drafts"][0]["accuracy"] = serde_json::json!({"top1": accuracy});
        Scenario::build(ScenarioFile::from_value(v, "t").unwrap(), "t", None).unwrap()
    }

    /// Two widths x two accuracies, five policies: `none`, `cache` and `oracle` are shared by
    /// all four members, `random` by the two of each width, `speccache` by none (5 shared
    /// runs); with no memory to keep them nothing is shared. Either way every member's
    /// outcome is the one it gets alone.
    #[test]
    fn a_family_shares_the_runs_whose_rules_agree_and_changes_no_result() {
        let members = [
            member(1, 0.3),
            member(1, 0.9),
            member(3, 0.3),
            member(3, 0.9),
        ];
        let refs: Vec<&Scenario> = members.iter().collect();
        for (budget, shared) in [(u64::MAX, 5), (0, 0)] {
            let family = Family::prepare(&refs, budget);
            assert_eq!(family.shared_runs(), shared, "budget {budget}");
            for m in &members {
                let (a, b) = (family.run(m), run(m));
                assert_eq!(a.policies, b.policies);
                assert_eq!(a.runs, b.runs);
            }
        }
        // A budget for one policy's runs shares only the first: `none`.
        let one = limits::run_bytes(&members[0]);
        assert_eq!(Family::prepare(&refs, one).shared_runs(), 1);
    }
}

/// The sampled simulator's driver against its reference (in `specsim-engine`'s
/// `sim::sampled`; here because it builds scenarios).
#[cfg(test)]
mod sampled_driver {
    use crate::runner::workload;
    use crate::scenario::{Scenario, ScenarioFile, DEFAULT_SCENARIO};
    use crate::sim::metrics::RunMetrics;
    use crate::sim::policy::Policy;
    use crate::sim::sampled::{Shared, Sim, Workload};

    fn scenario(edit: impl FnOnce(&mut serde_json::Value)) -> Scenario {
        let mut v: serde_json::Value = serde_json::from_str(DEFAULT_SCENARIO).unwrap();
        v["sessions"] = 30.into();
        edit(&mut v);
        Scenario::build(ScenarioFile::from_value(v, "t").unwrap(), "t", None).unwrap()
    }

    /// Metrics with the latency lists sorted: the one thing the order of sessions changes.
    fn sorted(m: &RunMetrics) -> RunMetrics {
        let mut m = m.clone();
        m.iteration_latencies.sort();
        m.session_latencies.sort();
        m
    }

    /// The driver's economies change nothing: one queue for all sessions drawing every
    /// sample on demand, and sessions one at a time reading the shared samples, give the
    /// same metrics for every policy; with interacting sessions the shared samples alone.
    #[test]
    fn sessions_one_at_a_time_and_shared_samples_change_nothing() {
        let independent = scenario(|_| {});
        let shared_cache = scenario(|v| {
            v["cache"] = serde_json::json!({"capacity": 20, "scope": "shared"});
            v["fetcher"] = serde_json::json!({"slots": 4});
        });
        // Constant latencies make completions tie with decisions (a prefetch listed at 1 s
        // lands at 2 s, when the target decides) or land just before them (0.5 s drafts):
        // deferred completions must keep their place in both cases.
        let ties = |draft: f64| {
            scenario(move |v| {
                v["fetch"] = serde_json::json!({"dist": "constant", "value": 1.0});
                v["target"] = serde_json::json!({"latency": {"dist": "constant", "value": 2.0}});
                v["drafts"][0]["latency"] =
                    serde_json::json!({"latency": {"dist": "constant", "value": draft}});
            })
        };
        let cases = [
            (independent, false),
            (shared_cache, true),
            (ties(1.0), false),
            (ties(0.5), false),
        ];
        for (sc, interact) in cases {
            for r in 0..2 {
                let (traj, arrivals, key) = workload(&sc, r);
                let work = Workload {
                    trajectories: &traj,
                    arrivals: &arrivals,
                    key,
                };
                let shared = Shared::draw(&sc.model, work);
                let mut reference = Sim::new(&sc.model);
                reference.record_iterations(true); // one queue, in completion order
                let mut fast = Sim::new(&sc.model);
                for &p in &Policy::ALL {
                    assert_eq!(fast.sessions_interact(p), interact, "policy {p}");
                    let want = sorted(reference.run(p, work));
                    assert_eq!(reference.records().len() as u64, want.iterations);
                    let got = sorted(fast.run_shared(p, work, &shared));
                    assert_eq!(got, want, "policy {p}, replication {r}");
                    assert!(got.events > 0 && got.drawn > 0);
                }
                // Sessions one at a time take turns with one cache; one queue needs one each
                // (or the one they share).
                let one_each = if interact { 1 } else { traj.len() };
                assert_eq!(reference.caches_allocated(), one_each);
                assert_eq!(fast.caches_allocated(), 1);
            }
        }
    }
}
