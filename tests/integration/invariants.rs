//! Invariants over many random scenarios (proptest).

use proptest::prelude::*;
use serde_json::json;
use specsim::runner::workload;
use specsim::sim::engine::Engine;
use specsim::sim::metrics::Outcome;
use specsim::sim::policy::Policy;
use specsim::sim::sampled::{Sim, Workload};
use specsim::sim::time::SimTime;

use super::common::build;

fn scenario(
    degree: f64,
    back: f64,
    cap: u32,
    width: u32,
    slots: Option<u32>,
    shared: bool,
    seed: u64,
) -> serde_json::Value {
    let mut v = json!({
        "seed": seed,
        "replications": 2,
        "sessions": 6,
        "site": {"generator": "hierarchical", "pages": 300,
                 "out_degree": {"dist": "lognormal", "median": degree, "sigma": 0.7},
                 "cross_link_prob": 0.2},
        "fetch": {"dist": "exponential", "mean": 2.0},
        "agent": {"rounds": {"dist": "uniform", "low": 1, "high": 12}, "max_rounds": 10,
                  "back_prob": back},
        "target": {"latency": {"dist": "gamma", "shape": 2.0, "scale": 1.5}},
        "stages": [{"latency": {"latency": {"dist": "exponential", "mean": 0.5}}}],
        "drafts": [{"latency": {"latency": {"dist": "exponential", "mean": 1.0}},
                    "accuracy": {"top1": 0.5, "decay": 0.6}},
                   {"latency": {"latency": {"dist": "uniform", "low": 0.1, "high": 4.0}},
                    "accuracy": {"cumulative": [0.2, 0.3]}}],
        "width": width,
        "cache": {"capacity": cap, "scope": if shared { "shared" } else { "session" }},
        "arrivals": {"process": "poisson", "rate_per_s": 0.5}
    });
    if let Some(w) = slots {
        v["fetcher"] = json!({"slots": w, "demand_priority": seed % 2 == 0});
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn accounting_holds_for_every_policy(
        degree in 2.0f64..40.0,
        back in 0.0f64..0.5,
        cap in 0u32..30,
        width in 1u32..6,
        slots in proptest::option::of(1u32..4),
        shared in any::<bool>(),
        seed in 0u64..1000,
    ) {
        let sc = build(scenario(degree, back, cap, width, slots, shared, seed));
        let (traj, arrivals, key) = workload(&sc, 0);
        let work = Workload { trajectories: &traj, arrivals: &arrivals, key };
        let mut sim = Sim::new(&sc.model);
        sim.record_iterations(true);
        for p in Policy::ALL {
            let m = sim.run(p, work).clone();
            prop_assert_eq!(m.hits + m.partial_hits + m.misses, m.visits);
            prop_assert!(m.exposed <= m.web);
            prop_assert_eq!(
                m.prefetch_used + m.prefetch_wasted + m.prefetch_cancelled,
                m.prefetch_issued,
                "every prefetch is used, wasted or cancelled"
            );
            let expected_iters: usize = traj.iter().map(|t| t.iterations()).sum();
            prop_assert_eq!(m.iterations as usize, expected_iters);
            prop_assert_eq!(m.session_latencies.len(), traj.len());
            for r in sim.records() {
                prop_assert!(r.latency >= r.llm, "iteration latency >= think time");
                prop_assert_eq!(r.latency, r.llm + r.exposed + r.other, "latency = LLM + exposed web + other");
                prop_assert!(r.exposed <= r.web);
                prop_assert!(r.queue <= r.exposed);
                if p == Policy::None {
                    prop_assert!(matches!(r.outcome, Outcome::Miss | Outcome::Answer));
                }
            }
            if slots.is_none() {
                prop_assert_eq!(m.queue, 0, "unlimited slots never queue");
            }
        }
    }

    #[test]
    fn engine_pops_in_time_then_sequence_order(times in proptest::collection::vec(0u64..50, 1..200),
                                              cancel in proptest::collection::vec(any::<bool>(), 200)) {
        let mut e = Engine::new();
        let mut keys = Vec::new();
        for (i, &t) in times.iter().enumerate() {
            keys.push(e.schedule_at(SimTime(t), i));
        }
        let mut live: Vec<(u64, usize)> = Vec::new();
        for (i, k) in keys.into_iter().enumerate() {
            if cancel[i] {
                prop_assert!(e.cancel(k));
            } else {
                live.push((times[i], i));
            }
        }
        live.sort();
        let popped: Vec<(u64, usize)> =
            std::iter::from_fn(|| e.pop().map(|(t, i)| (t.as_nanos(), i))).collect();
        prop_assert_eq!(popped, live);
    }
}
