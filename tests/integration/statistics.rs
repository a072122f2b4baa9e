//! Statistical checks against independent implementations, with stated tolerances.

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use specsim::io::report::Report;
use specsim::runner::{run, workload};
use specsim::sim::policy::Policy;
use specsim::sim::sampled::{Sim, Workload};

use super::common::{build, tree_scenario};

/// Random prefetching of k links on a site of constant out-degree d, without revisits,
/// hits with probability k / d.
#[test]
fn random_prefetch_hit_rate_is_k_over_d() {
    for (d, k) in [(20u32, 3u32), (10, 5), (81, 3)] {
        let mut v = tree_scenario(d, 2, 5.0, 1.0, 3.0, 0.0);
        v["width"] = k.into();
        v["replications"] = 20.into();
        v["sessions"] = 100.into();
        v["policies"] = serde_json::json!(["none", "random"]);
        v["drafts"] = serde_json::json!([]);
        let sc = build(v);
        let report = Report::new(&sc, &run(&sc));
        let row = report
            .policies
            .iter()
            .find(|r| r.policy == "random")
            .unwrap();
        assert_eq!(row.visits, 20 * 100 * 2);
        // 4000 visits: binomial sd <= 0.008; tolerance 4 sd.
        let p = f64::from(k) / f64::from(d);
        let sd = (p * (1.0 - p) / row.visits as f64).sqrt();
        assert!(
            (row.hit_rate - p).abs() < 4.0 * sd,
            "d={d} k={k}: hit rate {} vs {p}",
            row.hit_rate
        );
    }
}

/// Lognormal T, D, F: the simulator's mean exposed web time matches a direct Monte Carlo
/// of the model page's formula (an independent implementation with its own generator).
#[test]
fn stochastic_exposed_web_time_matches_independent_monte_carlo() {
    let p = 0.7;
    let mut v = tree_scenario(10, 3, 0.0, 0.0, 0.0, 0.0);
    v["target"] =
        serde_json::json!({"latency": {"dist": "lognormal", "median": 5.0, "sigma": 0.5}});
    v["drafts"][0]["latency"] =
        serde_json::json!({"latency": {"dist": "lognormal", "median": 1.5, "sigma": 0.5}});
    v["drafts"][0]["accuracy"]["cumulative"] = serde_json::json!([p]);
    v["fetch"] = serde_json::json!({"dist": "lognormal", "median": 4.0, "sigma": 0.6});
    v["sessions"] = 400.into();
    let sc = build(v);
    let mut sum = 0.0;
    let mut n = 0usize;
    for r in 0..10 {
        let (traj, arrivals, key) = workload(&sc, r);
        let mut sim = Sim::new(&sc.model);
        sim.record_iterations(true);
        sim.run(
            Policy::Speccache,
            Workload {
                trajectories: &traj,
                arrivals: &arrivals,
                key,
            },
        );
        for rec in sim.records() {
            sum += rec.exposed as f64 / 1e9;
            n += 1;
        }
    }
    let sim_mean = sum / n as f64;

    let mut rng = Xoshiro256PlusPlus::seed_from_u64(12345);
    let t = LogNormal::new(5.0f64.ln(), 0.5).unwrap();
    let d = LogNormal::new(1.5f64.ln(), 0.5).unwrap();
    let f = LogNormal::new(4.0f64.ln(), 0.6).unwrap();
    let m = 400_000;
    let mut mc = 0.0;
    for _ in 0..m {
        let (tt, dd, ff) = (t.sample(&mut rng), d.sample(&mut rng), f.sample(&mut rng));
        let predicted = rng.random::<f64>() < p;
        mc += if predicted && dd < tt {
            (dd + ff - tt).max(0.0)
        } else {
            ff
        };
    }
    let mc_mean = mc / m as f64;
    // 12,000 simulated visits; the per-visit sd of exposed time is about 2.5 s, so the
    // simulator's standard error is ~0.023 s; tolerance 0.1 s (> 4 se).
    assert!(
        (sim_mean - mc_mean).abs() < 0.1,
        "simulated {sim_mean:.4} s vs Monte Carlo {mc_mean:.4} s"
    );
}

/// The log-scale interval of a ratio of pooled sums covers the true ratio of means about 95 %
/// of the time. Each replication sums `m` paired sessions: the baseline's value is lognormal
/// (sigma 1), the policy's is a correlated lognormal (correlation 0.7) with a third of the
/// baseline's median, zero with probability `zero` (the oracle regime: most sessions hide all
/// their web time). True ratio: E[B] / E[P] = 3 / (1 - zero).
///
/// 2,000 seeds per case; the binomial sd of a 95 % coverage is 0.49 pt, so we accept
/// [92.5 %, 97.5 %] (5 sd either way), and [91 %, 97.5 %] when 98 % of the policy's sessions
/// are zero (a replication sum is then often zero and the delta method is at its weakest;
/// an undefined ratio counts as a miss). A percentile bootstrap over replications covered
/// 73 % (3 replications), 84 % (5) and 91 % (10) on the first case (docs/report.md).
#[test]
fn ratio_interval_covers_the_ratio_of_means() {
    use rand_distr::StandardNormal;
    use specsim::io::stats::ratio_of_sums;
    let (m, sigma, rho) = (50, 1.0f64, 0.7f64);
    for (zero, floor) in [(0.0, 0.925), (0.9, 0.925), (0.98, 0.91)] {
        for n in [3usize, 5, 10, 20] {
            let seeds = 2000u64;
            let mut covered = 0;
            for seed in 0..seeds {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
                let (mut b, mut p) = (vec![0.0; n], vec![0.0; n]);
                for r in 0..n {
                    for _ in 0..m {
                        let z1: f64 = rng.sample(StandardNormal);
                        let z2: f64 = rng.sample(StandardNormal);
                        let hidden = rng.random::<f64>() < zero;
                        b[r] += (sigma * z1).exp();
                        if !hidden {
                            let z = rho * z1 + (1.0 - rho * rho).sqrt() * z2;
                            p[r] += ((1.0f64 / 3.0).ln() + sigma * z).exp();
                        }
                    }
                }
                let truth = 3.0 / (1.0 - zero);
                if let Some(e) = ratio_of_sums(&b, &p) {
                    assert!(e.lo > 0.0 && e.lo <= e.mean && e.mean <= e.hi, "{e:?}");
                    covered += u32::from(e.lo <= truth && truth <= e.hi);
                }
            }
            let coverage = f64::from(covered) / seeds as f64;
            assert!(
                (floor..=0.975).contains(&coverage),
                "zero {zero}, {n} replications: coverage {coverage}"
            );
        }
    }
}

/// A scenario where the oracle hides all web time in some replications and not in others:
/// fetches of 1.5 s (lognormal) under a target of 8 s, 4 sessions per replication.
fn fast_fetch_oracle() -> specsim::scenario::Scenario {
    let mut v = tree_scenario(10, 4, 0.0, 0.0, 0.0, 0.0);
    v["target"] =
        serde_json::json!({"latency": {"dist": "lognormal", "median": 8.0, "sigma": 0.5}});
    v["fetch"] = serde_json::json!({"dist": "lognormal", "median": 1.5, "sigma": 1.0});
    v["policies"] = serde_json::json!(["none", "speccache", "oracle"]);
    v["replications"] = 12.into();
    v["sessions"] = 4.into();
    build(v)
}

/// Regression (issue 11): `web_reduction` and `speedup` are ratios of sums pooled over the
/// replications (paired: the same sessions under both policies), every replication kept.
/// They used to be means of per-replication ratios with a symmetric t interval, and
/// replications whose policy exposed no web time were dropped: the oracle at 1.5 s fetches
/// read 1996x [-4482, 8473].
#[test]
fn ratios_pool_every_replication_and_stay_positive() {
    let sc = fast_fetch_oracle();
    let outcome = run(&sc);
    let report = Report::new(&sc, &outcome);
    let col = |p: usize| outcome.runs.iter().map(move |r| &r[p]);
    let oracle_zero = col(2).filter(|m| m.exposed == 0).count();
    assert!(
        oracle_zero > 0 && oracle_zero < 12,
        "the scenario must mix replications with and without exposed web time: {oracle_zero}"
    );
    let sum = |p: usize, f: fn(&specsim::sim::metrics::RunMetrics) -> u64| {
        col(p).map(f).sum::<u64>() as f64
    };
    for (p, name) in [(1, "speccache"), (2, "oracle")] {
        let row = report.policies.iter().find(|r| r.policy == name).unwrap();
        let reduction = sum(0, |m| m.exposed) / sum(p, |m| m.exposed);
        let speedup = sum(0, |m| m.session_latency) / sum(p, |m| m.session_latency);
        let hidden = 1.0 - sum(p, |m| m.exposed) / sum(0, |m| m.exposed);
        assert!(
            (row.web_reduction.unwrap() / reduction - 1.0).abs() < 1e-12,
            "{name}"
        );
        assert!((row.speedup / speedup - 1.0).abs() < 1e-12, "{name}");
        assert!(
            (row.hidden_web_fraction.unwrap() - hidden).abs() < 1e-12,
            "{name}"
        );
        let (lo, hi) = (
            row.web_reduction_ci_lo.unwrap(),
            row.web_reduction_ci_hi.unwrap(),
        );
        assert!(
            0.0 < lo && lo < reduction && reduction < hi,
            "{name}: [{lo}, {hi}]"
        );
        assert!(0.0 < row.speedup_ci_lo && row.speedup_ci_hi > row.speedup);
        // The hidden fraction's interval is the reduction's, mapped by h = 1 - 1/R.
        assert!((row.hidden_web_fraction_ci_lo.unwrap() - (1.0 - 1.0 / lo)).abs() < 1e-12);
        assert!((row.hidden_web_fraction_ci_hi.unwrap() - (1.0 - 1.0 / hi)).abs() < 1e-12);
        assert!(row.hidden_web_fraction_ci_hi.unwrap() <= 1.0);
    }
}

/// Regression (issue 11): when a policy exposes no web time in any replication, the
/// reduction is infinite: reported as `null` (the table says "all hidden"), and the hidden
/// fraction is exactly 1 with the interval [1, 1].
#[test]
fn zero_exposed_web_time_everywhere_is_all_hidden() {
    // Constant 0.5 s fetches, 5 s think, instant perfect oracle: every prefetch lands in time.
    let mut v = tree_scenario(10, 3, 5.0, 0.0, 0.5, 0.0);
    v["policies"] = serde_json::json!(["none", "oracle"]);
    let sc = build(v);
    let report = Report::new(&sc, &run(&sc));
    let oracle = &report.policies[1];
    assert_eq!(oracle.policy, "oracle");
    assert_eq!(oracle.exposed_web_s, 0.0);
    assert_eq!(oracle.web_reduction, None);
    assert_eq!(oracle.web_reduction_ci_lo, None);
    assert_eq!(oracle.web_reduction_ci_hi, None);
    assert_eq!(oracle.hidden_web_fraction, Some(1.0));
    assert_eq!(oracle.hidden_web_fraction_ci_lo, Some(1.0));
    assert_eq!(oracle.hidden_web_fraction_ci_hi, Some(1.0));
    let none = &report.policies[0];
    assert_eq!(none.hidden_web_fraction, Some(0.0));
    assert_eq!(none.web_reduction, Some(1.0));
    let table = report.to_table();
    assert!(table.contains("all hidden"), "{table}");
}
