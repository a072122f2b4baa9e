//! The per-origin fetch rate limit (`fetcher.rate_limit_per_s`, `fetcher.rate_limit_burst`):
//! a token bucket on fetch starts, checked on the start times of whole simulations, in closed
//! form on constant latencies, and in the validation of scenario files.

use serde_json::json;
use specsim::runner::workload;
use specsim::sim::engine::{Engine, EventKey};
use specsim::sim::fetch::FetchId;
use specsim::sim::metrics::IterationRecord;
use specsim::sim::model::SpecCache;
use specsim::sim::policy::Policy;
use specsim::sim::sampled::{SampledWorld, Sim, Workload};
use specsim::sim::site::PageId;
use specsim::sim::time::{secs_to_nanos, SimTime};
use specsim::sim::world::{Decision, Event, SessionId, World};

use super::common::{build, tree_scenario};

type Cx = Engine<Event>;

/// The sampled world, noting when each fetch starts.
struct Starts<'a> {
    inner: SampledWorld<'a>,
    at: Vec<SimTime>,
}

impl World<Cx> for Starts<'_> {
    fn root(&mut self, s: SessionId) -> PageId {
        World::<Cx>::root(&mut self.inner, s)
    }
    fn has_iteration(&mut self, s: SessionId, i: u32) -> bool {
        World::<Cx>::has_iteration(&mut self.inner, s, i)
    }
    fn links(&self, s: SessionId, p: PageId) -> &[PageId] {
        World::<Cx>::links(&self.inner, s, p)
    }
    fn next_page(&self, s: SessionId, i: u32) -> Option<PageId> {
        World::<Cx>::next_page(&self.inner, s, i)
    }
    fn start_target(&mut self, cx: &mut Cx, s: SessionId, i: u32) {
        self.inner.start_target(cx, s, i)
    }
    fn decision(&mut self, s: SessionId, i: u32) -> Decision {
        World::<Cx>::decision(&mut self.inner, s, i)
    }
    fn start_draft(
        &mut self,
        cx: &mut Cx,
        s: SessionId,
        i: u32,
        d: u8,
        p: PageId,
    ) -> (EventKey, u64) {
        self.inner.start_draft(cx, s, i, d, p)
    }
    fn draft_list(
        &mut self,
        s: SessionId,
        i: u32,
        d: u8,
        p: PageId,
        k: usize,
        out: &mut Vec<PageId>,
    ) {
        World::<Cx>::draft_list(&mut self.inner, s, i, d, p, k, out)
    }
    fn request_fetch(&mut self, f: FetchId, s: SessionId, p: PageId, step: u32, demand: bool) {
        World::<Cx>::request_fetch(&mut self.inner, f, s, p, step, demand)
    }
    fn start_fetch(&mut self, cx: &mut Cx, f: FetchId) {
        self.at.push(cx.now());
        self.inner.start_fetch(cx, f)
    }
    fn fetch_ok(&self, f: FetchId) -> bool {
        World::<Cx>::fetch_ok(&self.inner, f)
    }
    fn observed(&mut self, s: SessionId, p: PageId, f: FetchId) {
        World::<Cx>::observed(&mut self.inner, s, p, f)
    }
    fn start_stages(&mut self, cx: &mut Cx, s: SessionId, i: u32) -> bool {
        self.inner.start_stages(cx, s, i)
    }
    fn start_other(&mut self, cx: &mut Cx, s: SessionId, i: u32) -> bool {
        self.inner.start_other(cx, s, i)
    }
    fn iteration_done(&mut self, cx: &mut Cx, rec: &IterationRecord) {
        self.inner.iteration_done(cx, rec)
    }
    fn session_done(&mut self, cx: &mut Cx, s: SessionId) {
        self.inner.session_done(cx, s)
    }
}

/// Runs `policy` on replication 0 of `v`, returning every fetch start time in order.
fn fetch_starts(v: serde_json::Value, policy: Policy) -> Vec<SimTime> {
    let sc = build(v);
    let (traj, arrivals, key) = workload(&sc, 0);
    let work = Workload {
        trajectories: &traj,
        arrivals: &arrivals,
        key,
    };
    let mut world = Starts {
        inner: SampledWorld::new(&sc.model, work, Vec::new()),
        at: Vec::new(),
    };
    let mut rules = SpecCache::new(sc.model.rules);
    rules.reset(policy, key, traj.len(), 0);
    let mut engine: Cx = Engine::new();
    for (s, &at) in arrivals.iter().enumerate() {
        engine.schedule_at(at, Event::Arrive(s as SessionId));
    }
    while let Some((_, ev)) = engine.pop() {
        rules.handle(ev, &mut engine, &mut world);
    }
    assert!(rules.metrics().iterations > 0);
    world.at
}

/// A site with random latencies where many sessions prefetch at once.
fn busy(rate: f64, burst: u32) -> serde_json::Value {
    json!({
        "name": "busy", "seed": 3, "replications": 2, "sessions": 12,
        "site": {"generator": "hierarchical", "pages": 300,
                 "out_degree": {"dist": "uniform", "low": 3, "high": 8}, "cross_link_prob": 0.2},
        "fetch": {"dist": "lognormal", "median": 0.8, "sigma": 0.7},
        "agent": {"rounds": {"dist": "uniform", "low": 3, "high": 8}, "max_rounds": 8,
                  "back_prob": 0.2, "final_answer": true},
        "target": {"latency": {"dist": "lognormal", "median": 2.0, "sigma": 0.5}},
        "drafts": [{"name": "d", "latency": {"latency": {"dist": "lognormal", "median": 0.5, "sigma": 0.5}},
                    "accuracy": {"top1": 0.6, "decay": 0.6}}],
        "width": 3,
        "fetcher": {"slots": 6, "rate_limit_per_s": rate, "rate_limit_burst": burst}
    })
}

#[test]
fn no_window_holds_more_fetch_starts_than_the_bucket_allows() {
    for (rate, burst) in [(2.0, 1), (3.0, 4), (0.7, 2)] {
        for policy in [Policy::Random, Policy::Speccache] {
            let starts = fetch_starts(busy(rate, burst), policy);
            let interval = secs_to_nanos(1.0 / rate);
            assert!(starts.windows(2).all(|w| w[0] <= w[1]));
            // Every window [start_i, start_j] holds at most burst + floor(len / interval)
            // starts; the bound is tight for a bucket kept busy.
            let mut tight = false;
            for i in 0..starts.len() {
                for j in i..starts.len() {
                    let len = starts[j].since(starts[i]);
                    let allowed = u64::from(burst) + len / interval;
                    let n = (j - i + 1) as u64;
                    assert!(
                        n <= allowed,
                        "{policy} rate {rate} burst {burst}: {n} starts in {len} ns"
                    );
                    tight |= n == allowed && n > u64::from(burst);
                }
            }
            assert!(tight, "{policy} rate {rate}: the limit binds somewhere");
        }
    }
    // Without a limit the same sessions start more fetches at once than any bucket above.
    let mut v = busy(1.0, 1);
    v["fetcher"] = json!({"slots": 6});
    let starts = fetch_starts(v, Policy::Speccache);
    let most_at_once = starts
        .iter()
        .map(|t| starts.iter().filter(|u| *u == t).count())
        .max()
        .unwrap();
    assert!(
        most_at_once > 4,
        "unlimited: {most_at_once} starts at one instant"
    );
}

fn records(v: serde_json::Value, policy: Policy) -> Vec<IterationRecord> {
    let sc = build(v);
    let (traj, arrivals, key) = workload(&sc, 0);
    let mut sim = Sim::new(&sc.model);
    sim.record_iterations(true);
    sim.run(
        policy,
        Workload {
            trajectories: &traj,
            arrivals: &arrivals,
            key,
        },
    );
    sim.records().to_vec()
}

#[test]
fn demand_slower_than_the_limit_is_unaffected() {
    // Constant T = 2, F = 1, stages 0.25: a session starts a fetch every 3.25 s at most (its
    // first one 3 s after the start page's); sessions arrive 20 s apart and end within
    // 1 + 3 * 3.25 s, so no two overlap. A limit of 0.5/s (one start per 2 s) never binds.
    let mut v = tree_scenario(10, 3, 2.0, 1.0, 1.0, 0.25);
    v["arrivals"] = json!({"process": "interval", "every_s": 20.0});
    let free = records(v.clone(), Policy::None);
    v["fetcher"] = json!({"rate_limit_per_s": 0.5});
    let limited = records(v, Policy::None);
    assert_eq!(free.len(), 150);
    assert_eq!(free, limited);
}

#[test]
fn demand_fetches_delayed_by_the_limit_expose_exactly_the_wait() {
    // Constant T = 1, F = 1, stages 0.5, `none`, one session per replication at a time, a
    // limit of 0.2/s (one start per 5 s). The start page's fetch takes the token at 0; the
    // first demand fetch is asked for at F + T = 2 and starts at 5: exposed 5 - 2 + 1 = 4 =
    // interval - T. Every later one is asked for T + stages after the previous observation,
    // which came F after the previous token: exposed = interval - T - stages = 3.5.
    let mut v = tree_scenario(10, 3, 1.0, 0.5, 1.0, 0.5);
    v["sessions"] = json!(1);
    v["fetcher"] = json!({"rate_limit_per_s": 0.2});
    let recs = records(v.clone(), Policy::None);
    assert_eq!(recs.len(), 3);
    let ns = secs_to_nanos;
    let exposed: Vec<u64> = recs.iter().map(|r| r.exposed).collect();
    assert_eq!(exposed, vec![ns(4.0), ns(3.5), ns(3.5)]);
    let queue: Vec<u64> = recs.iter().map(|r| r.queue).collect();
    assert_eq!(
        queue,
        vec![ns(3.0), ns(2.5), ns(2.5)],
        "the wait for a token is queueing"
    );
    for r in &recs {
        assert_eq!(r.latency, ns(1.0) + r.exposed + ns(0.5));
    }
    // Without the limit each exposes F.
    v["fetcher"] = json!({});
    assert!(records(v, Policy::None)
        .iter()
        .all(|r| r.exposed == ns(1.0)));
}

#[test]
fn bad_rate_limits_are_named_with_the_value_and_what_is_allowed() {
    for (fetcher, needle) in [
        (
            json!({"rate_limit_per_s": 0.0}),
            "fetcher.rate_limit_per_s: must be a number of fetch starts per second above 0",
        ),
        (json!({"rate_limit_per_s": -2.5}), "got -2.5"),
        (json!({"rate_limit_per_s": 1e12}), "at most 1e9"),
        (
            json!({"rate_limit_burst": 3}),
            "fetcher.rate_limit_burst: needs `fetcher.rate_limit_per_s`",
        ),
        (
            json!({"rate_limit_per_s": 1.0, "rate_limit_burst": 0}),
            "fetcher.rate_limit_burst: must be from 1 to 1000000 fetch starts, got 0",
        ),
    ] {
        let mut v = tree_scenario(3, 2, 1.0, 0.5, 1.0, 0.5);
        v["fetcher"] = fetcher.clone();
        let file = specsim::scenario::ScenarioFile::from_value(v, "t.json").unwrap();
        let err = specsim::scenario::Scenario::build(file, "t.json", None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(needle), "{fetcher}: {text}");
    }
}
