//! Replaying traces: round trips, malformed traces through the CLI, trace-driven scenarios.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use rand::Rng;
use specsim::io::replay::load_trace;
use specsim::io::report::Report;
use specsim::io::trace::{
    DraftCall, Header, IterationLine, LlmCall, PageRef, SessionLine, StageCall, TraceAction,
    TraceLine, TraceWriter,
};
use specsim::runner;
use specsim::scenario::{Scenario, ScenarioFile};
use specsim::sim::policy::Policy;
use specsim::sim::rng::{Purpose, StreamKey};
use specsim::sim::sampled::{Sim, Workload};
use specsim::sim::time::SimTime;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/replay")
        .join(name)
}

/// A trace of `sessions` sessions with every latency recorded, values drawn from a
/// seeded stream with awkward fractions of seconds.
fn full_trace(sessions: u32, seed: u64) -> Vec<u8> {
    let mut rng = StreamKey::root(seed).rng(0, 0, Purpose::Other);
    let mut w = TraceWriter::new(Vec::new(), Header::new("round-trip test")).unwrap();
    for s in 0..sessions {
        let id = format!("s{s}");
        w.write(&TraceLine::Session(SessionLine {
            session: id.clone(),
            task: String::new(),
            site: String::new(),
            root: PageRef::Id(0),
            root_fetch_s: Some(rng.random_range(0.1..9.0)),
            root_links: Some((1..6).map(PageRef::Id).collect()),
            root_out_degree: None,
            started_at: None,
        }))
        .unwrap();
        let n = rng.random_range(1..9u32);
        let mut history = vec![0u32];
        for i in 0..n {
            let last = i + 1 == n;
            let back = !last && history.len() > 1 && rng.random::<f64>() < 0.3;
            let (action, page) = if last {
                (TraceAction::Answer, None)
            } else if back {
                history.pop();
                (TraceAction::Back, Some(*history.last().unwrap()))
            } else {
                let p = rng.random_range(0..40u32);
                history.push(p);
                (TraceAction::Click, Some(p))
            };
            w.write(&TraceLine::Iteration(IterationLine {
                session: id.clone(),
                iteration: i,
                action,
                page: page.map(PageRef::Id),
                links: None,
                out_degree: page.map(|_| rng.random_range(1..100)),
                target: Some(LlmCall {
                    latency_s: rng.random_range(0.5..20.0),
                    output_tokens: Some(rng.random_range(10..900)),
                    input_tokens: None,
                }),
                stages: if last {
                    vec![]
                } else {
                    vec![
                        StageCall {
                            name: "extract".into(),
                            latency_s: rng.random_range(0.0..3.0),
                        },
                        StageCall {
                            name: "critic".into(),
                            latency_s: rng.random_range(0.0..3.0),
                        },
                    ]
                },
                fetch_s: page.map(|_| rng.random_range(0.01..12.0)),
                drafts: vec![DraftCall {
                    latency_s: rng.random_range(0.1..2.0),
                    output_tokens: Some(50),
                    predictions: vec![PageRef::Id(rng.random_range(0..40))],
                }],
                outcome: None,
                iteration_s: None,
                exposed_web_s: None,
                other_s: None,
            }))
            .unwrap();
        }
    }
    w.into_inner()
}

fn trace_scenario(dir: &Path, trace: &str, extra: &str) -> Scenario {
    let text = format!(
        r#"{{"replications": 2, "trajectories": {{"trace": "{trace}"}},
            "fetch": {{"dist": "lognormal", "median": 6, "sigma": 0.5}},
            "target": {{"latency": {{"dist": "constant", "value": 100}}}},
            "stages": [{{"name": "extract", "latency": {{"latency": {{"dist": "constant", "value": 50}}}}}}],
            "drafts": [{{"latency": {{"latency": {{"dist": "constant", "value": 0.5}}}},
                        "accuracy": {{"top1": 0.6}}}}]{extra}}}"#
    );
    let path = dir.join("scenario.json");
    std::fs::write(&path, text).unwrap();
    Scenario::load(&path).unwrap()
}

#[test]
fn policy_none_reproduces_the_traces_own_latency_exactly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.jsonl"), full_trace(30, 5)).unwrap();
    let replay = load_trace(&dir.path().join("t.jsonl")).unwrap();
    assert_eq!(replay.trajectories.len(), 30);
    let scenario = trace_scenario(dir.path(), "t.jsonl", "");
    let arrivals = vec![SimTime::ZERO; 30];
    let mut sim = Sim::new(&scenario.model);
    sim.record_iterations(true);
    let m = sim
        .run(
            Policy::None,
            Workload {
                trajectories: &replay.trajectories,
                arrivals: &arrivals,
                key: runner::replication_key(1, 0),
            },
        )
        .clone();
    assert_eq!(m.drawn, 0, "every value of policy none is in the trace");
    let mut got = m.session_latencies.exact().unwrap().to_vec();
    let mut want: Vec<u64> = (0..30)
        .map(|s| replay.recorded_session_latency(s))
        .collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(
        got, want,
        "session latency = root fetch + sum(target + fetch + stages)"
    );
    // The same through the scenario runner and its report, in every replication.
    let outcome = runner::run(&scenario);
    let report = Report::new(&scenario, &outcome);
    let none = &report.policies[0];
    let mean = want.iter().sum::<u64>() as f64 / 30.0 / 1e9;
    assert!(
        (none.session_latency_s - mean).abs() < 1e-9,
        "{} vs {mean}",
        none.session_latency_s
    );
    assert_eq!(none.values_drawn, 0);
    assert!(none.values_replayed > 0);
    assert_eq!(report.sessions, 30);
}

#[test]
fn what_the_trace_lacks_is_drawn_and_counted() {
    // Session q2 of the example records no stages and no fetch at its first click.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/example.jsonl");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&example, dir.path().join("ex.jsonl")).unwrap();
    let scenario = trace_scenario(
        dir.path(),
        "ex.jsonl",
        r#", "policies": ["none", "speccache"]"#,
    );
    let report = Report::new(&scenario, &runner::run(&scenario));
    let none = &report.policies[0];
    // Per replication, replayed: q1 root fetch + 3 x (target, fetch, stages) + answer
    // target = 11; q2 root fetch + 3 targets + 1 fetch = 5. Drawn: q2's first fetch and
    // its two visits' stages (one stage in this scenario) = 3.
    assert_eq!(none.values_replayed, 2 * 16);
    assert_eq!(none.values_drawn, 2 * 3);
    let spec = &report.policies[1];
    // speccache adds 7 draft calls per replication: q1's first three recorded (latency and
    // list replayed), q1's answer and q2's three iterations drawn (latency and list);
    // prefetched pages other than the recorded next page have their fetch drawn.
    assert!(
        spec.values_replayed >= none.values_replayed + 2 * 3,
        "{}",
        spec.values_replayed
    );
    assert!(
        spec.values_drawn >= 2 * (3 + 4 * 2),
        "{}",
        spec.values_drawn
    );
    assert!(report.to_table().contains("values replayed from the trace"));
}

#[test]
fn sessions_cap_and_source_conflicts_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.jsonl"), full_trace(10, 2)).unwrap();
    let s = trace_scenario(dir.path(), "t.jsonl", "");
    assert_eq!(s.sessions, 10, "every session of the trace");
    let capped = trace_scenario(dir.path(), "t.jsonl", "").file().clone();
    let mut v = serde_json::to_value(capped).unwrap();
    v["trajectories"]["sessions"] = 4.into();
    let f = ScenarioFile::from_value(v.clone(), "x").unwrap();
    let s = Scenario::build(f, "x", Some(dir.path())).unwrap();
    assert_eq!(s.sessions, 4);
    assert_eq!(runner::workload(&s, 0).0.len(), 4);
    v["agent"] = serde_json::json!({"rounds": {"dist": "constant", "value": 3}});
    let f = ScenarioFile::from_value(v, "x").unwrap();
    let e = Scenario::build(f, "x", Some(dir.path()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("x: agent: remove it"), "{e}");
    // Neither source.
    let f = ScenarioFile::parse(
        r#"{"policies": ["none"], "fetch": {"dist": "constant", "value": 1}, "target": {"latency": {"dist": "constant", "value": 1}}}"#,
        "y",
    )
    .unwrap();
    let e = Scenario::build(f, "y", None).unwrap_err().to_string();
    assert_eq!(
        e,
        "y: site: missing: give a `site` and an `agent`, or `trajectories` naming a trace\n\
         y: agent: missing: give a `site` and an `agent`, or `trajectories` naming a trace"
    );
}

#[test]
fn a_bad_trace_in_a_scenario_names_scenario_trace_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("negative_fetch.jsonl"),
        dir.path().join("bad.jsonl"),
    )
    .unwrap();
    let text = r#"{"trajectories": {"trace": "bad.jsonl"}, "fetch": {"dist": "constant", "value": 1},
                   "target": {"latency": {"dist": "constant", "value": 1}}, "policies": ["none"]}"#;
    let path = dir.path().join("s.json");
    std::fs::write(&path, text).unwrap();
    let e = Scenario::load(&path).unwrap_err().to_string();
    assert!(e.contains("trajectories.trace: "), "{e}");
    assert!(
        e.contains("bad.jsonl:3: fetch_s: must be a latency in seconds >= 0, got -2"),
        "{e}"
    );
}

#[test]
fn cli_replays_a_trace_and_rejects_malformed_ones_with_exit_2() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/example.jsonl");
    Command::cargo_bin("specsim")
        .unwrap()
        .args(["run", "--json"])
        .arg(&example)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"values_replayed\""));
    for (file, want) in [
        (
            "negative_fetch.jsonl",
            "negative_fetch.jsonl:3: fetch_s: must be a latency in seconds >= 0, got -2",
        ),
        (
            "missing_root.jsonl",
            "missing_root.jsonl:2: root: missing field `root`",
        ),
        (
            "version_9.jsonl",
            "version_9.jsonl:1: version: unsupported version 9",
        ),
    ] {
        Command::cargo_bin("specsim")
            .unwrap()
            .arg("run")
            .arg("--trace")
            .arg(fixture(file))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(want));
    }
}

#[test]
fn the_example_replay_scenario_runs_and_speccache_beats_none() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/replay-example.json");
    let scenario = Scenario::load(&path).unwrap();
    assert_eq!(scenario.sessions, 2);
    let report = Report::new(&scenario, &runner::run(&scenario));
    let row = |name: &str| report.policies.iter().find(|r| r.policy == name).unwrap();
    assert!(
        row("speccache").speedup > 1.0,
        "{}",
        row("speccache").speedup
    );
    assert!(row("oracle").speedup >= row("speccache").speedup);
    assert_eq!(
        row("none").values_drawn,
        10 * 5,
        "q2: 1 fetch + 2 visits x 2 stages"
    );
}

#[test]
fn a_replay_is_deterministic_across_thread_counts() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/example.jsonl");
    let run = |threads: &str| {
        Command::cargo_bin("specsim")
            .unwrap()
            .args(["run", "--json", "--threads", threads])
            .arg(&example)
            .output()
            .unwrap()
            .stdout
    };
    let one = run("1");
    assert!(!one.is_empty());
    assert_eq!(one, run("2"));
}

#[test]
fn sweep_cells_share_one_loaded_trace() {
    use specsim::sweep::SiteCache;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.jsonl"), full_trace(5, 3)).unwrap();
    let file = trace_scenario(dir.path(), "t.jsonl", "").file().clone();
    let cache = SiteCache::default();
    let build = |width: u32| {
        let mut f = file.clone();
        f.width = width;
        Scenario::build_with(f, "cell", Some(dir.path()), &cache).unwrap()
    };
    let (a, b) = (build(1), build(3));
    assert!(std::sync::Arc::ptr_eq(
        a.replay.as_ref().unwrap(),
        b.replay.as_ref().unwrap()
    ));
    assert!(std::sync::Arc::ptr_eq(&a.model.site, &b.model.site));
    assert_eq!(b.model.rules.width, 3);
}
