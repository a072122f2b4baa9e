//! The closed-form anchors of shared/spec/model.md: constant latencies, no revisits,
//! unlimited fetch slots.
//!
//! Per page visit, exposed web time is `F` on a miss and `max(0, D + F - T)` when the
//! draft's list held the page, so over all visits
//! `exposed = (1 - h) F + h max(0, D + F - T)` with `h` the fraction of visits the draft
//! predicted, and iteration latency = `T + exposed + stages`. These hold exactly, not within
//! sampling error. One correction to the spec's formula: when the draft answers after the
//! target decides (`D >= T`) its answer is cancelled and the visit is a plain miss, so the
//! hit term is `F`, not `D + F - T` (which would exceed `F`).

use specsim::runner::workload;
use specsim::sim::metrics::Outcome;
use specsim::sim::policy::Policy;
use specsim::sim::sampled::Sim;
use specsim::sim::time::secs_to_nanos;

use super::common::{build, tree_scenario};

fn check(p: f64, t: f64, d: f64, f: f64) {
    let stages = 0.25;
    let mut v = tree_scenario(10, 3, t, d, f, stages);
    v["drafts"][0]["accuracy"]["cumulative"] = serde_json::json!([p]);
    let sc = build(v);
    let (traj, arrivals, key) = workload(&sc, 0);
    let work = specsim::sim::sampled::Workload {
        trajectories: &traj,
        arrivals: &arrivals,
        key,
    };
    let mut sim = Sim::new(&sc.model);
    sim.record_iterations(true);
    sim.run(Policy::Speccache, work);
    let (tn, dn, fn_, sn) = (
        secs_to_nanos(t),
        secs_to_nanos(d),
        secs_to_nanos(f),
        secs_to_nanos(stages),
    );
    let hit_exposed = if dn >= tn {
        fn_
    } else {
        (dn + fn_).saturating_sub(tn)
    };
    let recs = sim.records();
    assert_eq!(recs.len(), 50 * 3);
    let mut predicted = 0u64;
    let mut exposed = 0u64;
    for r in recs {
        assert_eq!(r.llm, tn + sn);
        assert_eq!(
            r.latency,
            tn + r.exposed + sn,
            "iteration latency = T + exposed + stages"
        );
        if r.outcome == Outcome::Miss {
            assert_eq!(r.exposed, fn_, "a miss exposes the whole fetch");
        } else {
            assert_eq!(
                r.exposed, hit_exposed,
                "a predicted page costs max(0, D + F - T)"
            );
        }
        predicted += u64::from(r.outcome != Outcome::Miss);
        exposed += r.exposed;
    }
    let n = recs.len() as u64;
    let expect = (n - predicted) * fn_ + predicted * hit_exposed;
    assert_eq!(exposed, expect, "p={p} t={t} d={d} f={f}");
    // The draft's hit fraction follows P(k): 150 visits, tolerance 4 binomial sd.
    let h = predicted as f64 / n as f64;
    let sd = (p * (1.0 - p) / n as f64).sqrt();
    if d < t {
        assert!(
            (h - p).abs() <= 4.0 * sd + 1e-9,
            "hit fraction {h}, P(k) {p}"
        );
    } else {
        assert_eq!(predicted, 0, "a draft slower than the target never helps");
    }
}

#[test]
fn draft_always_right_and_fast_hides_all_web_time() {
    check(1.0, 5.0, 1.0, 3.0);
}

#[test]
fn partial_hit_when_draft_plus_fetch_exceeds_think_time() {
    check(1.0, 5.0, 2.0, 4.0); // D + F - T = 1
    check(0.7, 3.0, 1.5, 6.0); // D + F - T = 4.5
}

#[test]
fn imperfect_draft_mixes_hits_and_misses() {
    check(0.5, 5.0, 1.0, 3.0);
    check(0.833, 8.0, 1.2, 6.0);
}

#[test]
fn useless_or_late_draft_exposes_every_fetch() {
    check(0.0, 5.0, 1.0, 3.0);
    check(0.9, 5.0, 6.0, 3.0); // D > T: cancelled
    check(0.9, 5.0, 5.0, 3.0); // D = T: the target's decision pops first
}

#[test]
fn no_speculation_means_every_visit_is_a_miss() {
    let sc = build(tree_scenario(10, 3, 5.0, 1.0, 3.0, 0.0));
    let report = specsim::io::report::Report::new(&sc, &specsim::runner::run(&sc));
    let none = &report.policies[0];
    assert_eq!(none.policy, "none");
    assert_eq!(none.hit_rate, 0.0);
    assert_eq!(none.iter_latency_s, 8.0);
    assert_eq!(none.exposed_web_s, 3.0);
    let oracle = report
        .policies
        .iter()
        .find(|r| r.policy == "oracle")
        .unwrap();
    // The oracle prefetches at t0: F = 3 <= T = 5, so every visit is a full hit.
    assert_eq!(oracle.full_hit_rate, 1.0);
    assert_eq!(oracle.iter_latency_s, 5.0);
    // Session = root fetch (3) + 3 x 8 vs 3 + 3 x 5: speedup 27/18.
    assert!((oracle.speedup - 27.0 / 18.0).abs() < 1e-12);
}
