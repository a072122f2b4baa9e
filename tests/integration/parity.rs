//! Parity of the live world with the simulator: SpecCache's rules are one piece of code, so
//! the live agent (prompts, reply parsing, page ids, back actions, the fetch pool, the cache)
//! run against mock pages and mock LLMs on a virtual clock must produce the simulator's
//! iterations exactly, for every policy a live run supports.
//!
//! The mocks answer as the simulator's sampled world would: the target clicks (or goes back
//! to) the trajectory's next page, the draft lists what the simulated draft lists, and every
//! call completes after the latency the sampled world draws for it. Any difference is then a
//! difference between the two worlds' handling of the same rules.

use std::sync::Arc;

use serde_json::{json, Value};
use specsim::io::trace::{read_trace, TraceWriter};
use specsim::live::chat::{ChatError, Message, Reply};
use specsim::live::config::LiveConfig;
use specsim::live::exec::{CallId, Chat, Clients, Job, Role, Virtual, Web};
use specsim::live::html::{Link, Parsed};
use specsim::live::retry::Stop;
use specsim::live::web::{Page, WebError};
use specsim::live::world;
use specsim::runner::workload;
use specsim::sim::metrics::{IterationRecord, RunMetrics};
use specsim::sim::model::Model;
use specsim::sim::policy::Policy;
use specsim::sim::rng::StreamKey;
use specsim::sim::sampled::{SampledWorld, Sim, Workload};
use specsim::sim::site::PageId;
use specsim::sim::time::{Nanos, SimTime};
use specsim::sim::trajectory::{Action, Trajectory};
use specsim::sim::world::World;

use super::common::build;

fn url(p: PageId) -> String {
    format!("http://mock/p/{p}")
}

fn page_of(u: &str) -> PageId {
    u.rsplit('/').next().unwrap().parse().unwrap()
}

/// What the simulator knows, shared by the mock clients and the mock clock.
struct Truth {
    model: Model,
    trajectories: Vec<Trajectory>,
    arrivals: Vec<SimTime>,
    key: StreamKey,
}

impl Truth {
    fn world(&self) -> SampledWorld<'_> {
        let work = Workload {
            trajectories: &self.trajectories,
            arrivals: &self.arrivals,
            key: self.key,
        };
        SampledWorld::new(&self.model, work, Vec::new())
    }

    fn latency(&self, job: &Job) -> Nanos {
        let mut w = self.world();
        match job {
            Job::Target { call, .. } => w.target_latency(call.session, call.iteration),
            Job::Draft { call, .. } => {
                let Role::Draft(d) = call.role else { panic!() };
                w.draft_call(call.session, call.iteration, d).latency
            }
            Job::Fetch {
                session, step, url, ..
            } => w.fetch_latency(*session, page_of(url), *step),
        }
    }

    /// The button line for `page` among the links of `u`, or BACK for the previous page.
    fn action_line(&self, u: PageId, page: PageId, back: bool) -> Option<String> {
        if back {
            return Some("BACK".into());
        }
        let n = self.model.site.links(u).iter().position(|&x| x == page)?;
        Some(format!("[{n}] p{page}"))
    }
}

fn reply(text: String) -> Result<Reply, ChatError> {
    Ok(Reply {
        text,
        input_tokens: Some(10),
        output_tokens: Some(1),
        attempts: 1,
    })
}

struct MockTarget(Arc<Truth>);

impl Chat for MockTarget {
    fn chat(&self, call: CallId, _m: &[Message], _nonce: u64) -> Result<Reply, ChatError> {
        let t = &self.0.trajectories[call.session as usize];
        let i = call.iteration as usize;
        let text = match t.steps.get(i) {
            Some(step) => self
                .0
                .action_line(t.page_before(i), step.page, step.action == Action::Back)
                .map(|l| format!("CLICK {l}"))
                .unwrap(),
            None => "ANSWER: done".into(),
        };
        reply(text)
    }
}

struct MockDraft(Arc<Truth>);

impl Chat for MockDraft {
    fn chat(&self, call: CallId, _m: &[Message], _nonce: u64) -> Result<Reply, ChatError> {
        let Role::Draft(d) = call.role else { panic!() };
        let (s, i) = (call.session, call.iteration);
        let t = &self.0.trajectories[s as usize];
        let u = t.page_before(i as usize);
        // The previous page of the walker's history, for a back prediction.
        let mut history = vec![t.root];
        for st in &t.steps[..i as usize] {
            match st.action {
                Action::Click => history.push(st.page),
                Action::Back => {
                    history.pop();
                }
            }
        }
        let prev = history.len().checked_sub(2).map(|k| history[k]);
        let mut out = Vec::new();
        World::<specsim::sim::engine::Engine<specsim::sim::world::Event>>::draft_list(
            &mut self.0.world(),
            s,
            i,
            d,
            u,
            self.0.model.rules.width,
            &mut out,
        );
        let lines: Vec<String> = out
            .iter()
            .filter_map(|&p| {
                let on_page = self.0.model.site.links(u).contains(&p);
                self.0.action_line(u, p, !on_page && Some(p) == prev)
            })
            .collect();
        reply(lines.join("\n"))
    }
}

struct MockWeb(Arc<Truth>);

impl Web for MockWeb {
    fn fetch(&self, u: &str, _nonce: u64) -> Result<Page, WebError> {
        let p = page_of(u);
        let links = self
            .0
            .model
            .site
            .links(p)
            .iter()
            .map(|&x| Link {
                url: url(x),
                label: format!("p{x}"),
            })
            .collect();
        Ok(Page {
            url: u.to_string(),
            parsed: Parsed {
                title: format!("p{p}"),
                text: String::new(),
                links,
            },
            bytes: 100,
            truncated: false,
        })
    }
}

/// The fetcher both worlds use unless a test says otherwise.
fn fetcher() -> Value {
    json!({"slots": 3, "demand_priority": true})
}

fn scenario(scope: &str, fetcher: &Value) -> Value {
    json!({
        "name": "parity", "seed": 11, "replications": 2, "sessions": 8,
        "site": {"generator": "hierarchical", "pages": 200,
                 "out_degree": {"dist": "uniform", "low": 3, "high": 7}, "cross_link_prob": 0.2},
        "fetch": {"dist": "lognormal", "median": 1.0, "sigma": 0.6},
        "agent": {"rounds": {"dist": "uniform", "low": 3, "high": 9}, "max_rounds": 10,
                  "back_prob": 0.25, "final_answer": true},
        "target": {"latency": {"dist": "lognormal", "median": 2.0, "sigma": 0.4}},
        "drafts": [{"name": "d", "latency": {"latency": {"dist": "lognormal", "median": 0.9, "sigma": 0.9}},
                    "accuracy": {"top1": 0.6, "decay": 0.6}}],
        "width": 2,
        "cache": {"capacity": 3, "scope": scope},
        "fetcher": fetcher
    })
}

fn live_config(policy: Policy, root: PageId, scope: &str, fetcher: &Value) -> Value {
    json!({
        "site": url(root),
        "tasks": (0..8).map(|i| format!("task {i}")).collect::<Vec<_>>(),
        "policy": policy.name(), "width": 2,
        "cache": {"capacity": 3, "scope": scope},
        "fetcher": fetcher,
        "max_rounds": 10, "seed": 11, "parallel": 8, "unparseable_retries": 0,
        "target": {"base_url": "http://mock-llm/v1", "model": "target"},
        "drafts": [{"base_url": "http://mock-llm/v1", "model": "draft"}]
    })
}

/// The fields of a record that both worlds must agree on, with the page as the simulator's id.
fn record_key(r: &IterationRecord, page: impl Fn(PageId) -> PageId) -> String {
    format!(
        "s{} i{} {:?} page {:?} start {} latency {} llm {} web {} exposed {} queue {}",
        r.session,
        r.iteration,
        r.outcome,
        r.page.map(page),
        r.start.as_nanos(),
        r.latency,
        r.llm,
        r.web,
        r.exposed,
        r.queue
    )
}

fn counts(m: &RunMetrics) -> [u64; 11] {
    [
        m.iterations,
        m.hits,
        m.partial_hits,
        m.misses,
        m.prefetch_issued,
        m.prefetch_used,
        m.prefetch_wasted,
        m.demand_fetches,
        m.drafts_late,
        m.session_latency,
        m.events,
    ]
}

fn check_parity(scope: &str) {
    check_parity_with(scope, &fetcher());
}

/// Checks parity for every live policy with `fetcher`; returns the live metrics of each.
fn check_parity_with(scope: &str, fetcher: &Value) -> Vec<RunMetrics> {
    let mut live = Vec::new();
    let sc = build(scenario(scope, fetcher));
    let (trajectories, arrivals, key) = workload(&sc, 0);
    let root = trajectories[0].root;
    let truth = Arc::new(Truth {
        model: sc.model.clone(),
        trajectories: trajectories.clone(),
        arrivals: arrivals.clone(),
        key,
    });
    assert!(
        trajectories
            .iter()
            .any(|t| t.steps.iter().any(|s| s.action == Action::Back)),
        "the workload exercises back actions"
    );
    for policy in [
        Policy::None,
        Policy::Cache,
        Policy::Random,
        Policy::Speccache,
    ] {
        let mut sim = Sim::new(&sc.model);
        sim.record_iterations(true);
        let work = Workload {
            trajectories: &trajectories,
            arrivals: &arrivals,
            key,
        };
        let sim_metrics = sim.run(policy, work).clone();
        let sim_records: Vec<String> = sim.records().iter().map(|r| record_key(r, |p| p)).collect();

        let cfg = LiveConfig::parse(
            &live_config(policy, root, scope, fetcher).to_string(),
            "parity",
        )
        .unwrap()
        .build("parity")
        .unwrap();
        let clients = Clients {
            target: Arc::new(MockTarget(Arc::clone(&truth))),
            drafts: vec![Arc::new(MockDraft(Arc::clone(&truth)))],
            web: Arc::new(MockWeb(Arc::clone(&truth))),
        };
        let clock = Arc::clone(&truth);
        let exec = Virtual::new(clients, move |job: &Job| clock.latency(job));
        let writer = TraceWriter::new(Vec::new(), world::header(&cfg)).unwrap();
        let done = world::run(cfg, exec, writer, Stop::new(), false, true).unwrap();
        let trace_text = String::from_utf8(done.writer.clone()).unwrap();
        // Live page ids are numbered as URLs are discovered: compare by URL.
        let live_records: Vec<String> = done
            .records
            .iter()
            .map(|r| record_key(r, |p| page_of(&done.urls[p as usize])))
            .collect();
        assert_eq!(
            live_records.len(),
            sim_records.len(),
            "{policy}: iteration count"
        );
        for (l, s) in live_records.iter().zip(&sim_records) {
            assert_eq!(
                l, s,
                "{policy} ({scope} cache): live vs simulated iteration"
            );
        }
        if policy == Policy::Speccache {
            let m = &sim_metrics;
            eprintln!("{scope}: {:?}", counts(m));
            assert!(
                m.hits > 0 && m.partial_hits > 0 && m.drafts_late > 0 && m.prefetch_wasted > 0,
                "the workload exercises hits, partial hits, late drafts and evictions: {m:?}"
            );
            assert!(
                sim.records().iter().any(|r| r.queue > 0),
                "and queueing for fetch slots"
            );
        }
        assert_eq!(
            counts(&done.metrics),
            counts(&sim_metrics),
            "{policy}: iterations, hits, partial hits, misses, prefetches issued/used/wasted, demand fetches, late drafts, session latency, events"
        );
        // The trace the live world wrote says the same, iteration by iteration.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, &trace_text).unwrap();
        let t = read_trace(&path).unwrap();
        let mut written: Vec<(u32, u32, f64)> = t
            .sessions
            .iter()
            .flat_map(|s| {
                let id: u32 = s.session.session[1..].parse().unwrap();
                s.iterations
                    .iter()
                    .map(move |(_, it)| (id, it.iteration, it.iteration_s.unwrap()))
            })
            .collect();
        written.sort_by_key(|a| (a.0, a.1));
        let mut recorded: Vec<(u32, u32, f64)> = done
            .records
            .iter()
            .map(|r| (r.session, r.iteration, r.latency as f64 / 1e9))
            .collect();
        recorded.sort_by_key(|a| (a.0, a.1));
        assert_eq!(
            written, recorded,
            "{policy}: the trace holds every iteration"
        );
        live.push(done.metrics.clone());
    }
    live
}

#[test]
fn live_world_matches_the_simulator_iteration_by_iteration_per_session_cache() {
    check_parity("session");
}

#[test]
fn live_world_matches_the_simulator_with_one_shared_cache() {
    check_parity("shared");
}

#[test]
fn live_world_honours_the_fetch_rate_limit_as_the_simulator_does() {
    // One fetch start per 0.8 s, bursts of 2, shared by 8 sessions: the limit binds, and the
    // live world's iterations (their queueing and exposed web time included) are the
    // simulator's, whose start times obey the bucket (tests/integration/rate_limit.rs).
    let limited = json!({"slots": 3, "demand_priority": true,
                         "rate_limit_per_s": 1.25, "rate_limit_burst": 2});
    let slow = check_parity_with("session", &limited);
    let free = check_parity_with("session", &fetcher());
    for (l, f) in slow.iter().zip(&free) {
        assert!(
            l.queue > f.queue && l.session_latency > f.session_latency,
            "the limit delays fetches: queue {} vs {}, latency {} vs {}",
            l.queue,
            f.queue,
            l.session_latency,
            f.session_latency
        );
    }
}
