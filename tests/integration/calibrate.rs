//! `specsim calibrate`: recovery of known parameters, inconsistent observations, resume,
//! shards and determinism, bad input.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{json, Value};
use specsim::calibrate::observe::{self, Bound};
use specsim::calibrate::{calibrate, Base, Calibration, Execution, Outcome, Settings};
use specsim::io::report::Report;
use specsim::io::stats::t95;
use specsim::runner;
use specsim::scenario::{Scenario, ScenarioFile};

fn specsim() -> Command {
    Command::cargo_bin("specsim").unwrap()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/calibrate")
        .join(name)
}

fn small() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("small.json")).unwrap()).unwrap()
}

/// The small scenario with the draft's top-1 accuracy and the back-tracking rate set, run
/// under `seed`: the rows of its report.
fn truth(top1: f64, back: f64, seed: u64) -> Report {
    let mut v = small();
    v["drafts"][0]["accuracy"]["top1"] = json!(top1);
    v["agent"]["back_prob"] = json!(back);
    v["seed"] = json!(seed);
    let s = Scenario::build(ScenarioFile::from_value(v, "truth").unwrap(), "truth", None).unwrap();
    Report::new(&s, &runner::run(&s))
}

/// An observation of `metric` of `policy` in `r`, with the standard deviation of its 95 %
/// interval (the observation is itself a simulation with its own noise).
fn observed(r: &Report, policy: &str, metric: &str) -> Value {
    let row =
        serde_json::to_value(r.policies.iter().find(|p| p.policy == policy).unwrap()).unwrap();
    let (v, lo, hi) = (
        row[metric].as_f64().unwrap(),
        row[format!("{metric}_ci_lo")].as_f64().unwrap(),
        row[format!("{metric}_ci_hi")].as_f64().unwrap(),
    );
    json!({"policy": policy, "metric": metric, "value": v,
           "sd": (hi - lo) / (2.0 * t95(r.replications as usize))})
}

fn parameters() -> Value {
    json!([
        {"name": "top-1 accuracy", "path": "drafts[0].accuracy.top1", "min": 0.1, "max": 0.95},
        {"name": "back-tracking", "path": "agent.back_prob", "min": 0.0, "max": 0.5}
    ])
}

fn run_lib(observe_file: &Value, dir: &Path, settings: &Settings) -> Calibration {
    let obs_path = dir.join("observe.json");
    std::fs::write(&obs_path, observe_file.to_string()).unwrap();
    let base = Base::load(Some(&fixture("small.json"))).unwrap();
    let obs = observe::load(
        &obs_path,
        &[],
        &base.json,
        &base.source,
        base.dir.as_deref(),
    )
    .unwrap();
    match calibrate(&base, &obs, settings, &Execution::default(), &mut |_| {}).unwrap() {
        Outcome::Done(c) => *c,
        Outcome::Stopped(m) => panic!("stopped: {m}"),
    }
}

/// Metrics simulated with known parameters (top-1 accuracy 0.6, back-tracking 0.2) under 4
/// seeds (101-104) other than the calibration's (11): every time, both true values lie in
/// the consistent ranges, the verdict is consistent, and the ranges are informative
/// (narrower than 60 % of the range searched). Tolerance: the consistent range itself
/// (3-sigma cutoff); 3 waves of 30 points.
#[test]
fn calibration_recovers_known_parameters() {
    let t = tempfile::tempdir().unwrap();
    for seed in 101..=104 {
        let r = truth(0.6, 0.2, seed);
        let o = json!({
            "observations": [
                observed(&r, "speccache", "hit_rate"),
                observed(&r, "random", "hit_rate"),
                observed(&r, "cache", "hit_rate"),
                observed(&r, "speccache", "speedup")
            ],
            "parameters": parameters()
        });
        let settings = Settings {
            points: 30,
            ..Settings::default()
        };
        let c = run_lib(&o, t.path(), &settings);
        assert!(c.consistent, "seed {seed}: {c:#?}");
        for (p, truth) in c.parameters.iter().zip([0.6, 0.2]) {
            let (lo, hi) = (p.consistent_lo.unwrap(), p.consistent_hi.unwrap());
            assert!(
                lo <= truth && truth <= hi,
                "seed {seed}: {} = {truth} outside [{lo}, {hi}] (estimate {})",
                p.name,
                p.estimate
            );
            assert!(
                hi - lo < 0.6 * (p.max - p.min),
                "seed {seed}: {}: [{lo}, {hi}] says little",
                p.name
            );
        }
        assert_eq!(c.points_run, 90, "3 waves of 30 distinct points");
        assert_eq!(c.method.policies, ["none", "cache", "random", "speccache"]);
    }
}

/// The random policy's hit rate rises with back-tracking (revisits hit the cache) while
/// the page cache's stays near 0 without it: 45 % random and 2 % cache hits can each be
/// met, never together. The verdict says so and names the pair.
#[test]
fn inconsistent_observations_are_reported_with_their_conflict() {
    let t = tempfile::tempdir().unwrap();
    let o = json!({
        "observations": [
            {"name": "random hits", "policy": "random", "metric": "hit_rate", "value": 0.45, "sd": 0.01},
            {"name": "cache hits", "policy": "cache", "metric": "hit_rate", "value": 0.02, "sd": 0.01}
        ],
        "parameters": [{"path": "agent.back_prob", "min": 0.0, "max": 0.5}]
    });
    let c = run_lib(
        &o,
        t.path(),
        &Settings {
            points: 20,
            waves: 2,
            ..Settings::default()
        },
    );
    assert!(!c.consistent);
    assert_eq!(c.points_consistent, 0);
    assert!(c.parameters[0].consistent_lo.is_none());
    assert!(c.observations.iter().all(|o| o.met_alone), "{c:#?}");
    assert!(c.observations.iter().all(|o| o.consistent_without));
    assert_eq!(c.conflicts.len(), 1);
    assert_eq!(
        (c.conflicts[0].a.as_str(), c.conflicts[0].b.as_str()),
        ("random hits", "cache hits")
    );
    assert!(c.conflicts[0].best_joint.unwrap() > 3.0);
    assert!(c.best_max_implausibility.unwrap() > 3.0);
    // The text says it.
    let path = t.path().join("observe.json");
    specsim()
        .arg("calibrate")
        .arg(fixture("small.json"))
        .arg("--observe")
        .arg(&path)
        .args(["--points", "20", "--waves", "2", "--quiet"])
        .assert()
        .success()
        .stdout(predicate::str::contains("verdict: INCONSISTENT"))
        .stdout(predicate::str::contains(
            "conflict: random hits and cache hits are each met, never together",
        ));
}

fn cli_calibrate(observe: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    specsim()
        .arg("calibrate")
        .arg(fixture("small.json"))
        .arg("--observe")
        .arg(observe)
        .arg("--out")
        .arg(out)
        .args(["--points", "16", "--waves", "2", "--quiet"])
        .args(extra)
        .output()
        .unwrap()
}

fn observe_fixture(dir: &Path) -> PathBuf {
    let p = dir.join("observe.json");
    let o = json!({
        "observations": [
            {"policy": "speccache", "metric": "hit_rate", "value": 0.7, "sd": 0.03},
            {"policy": "random", "metric": "hit_rate", "value": 0.3, "sd": 0.03}
        ],
        "parameters": parameters()
    });
    std::fs::write(&p, o.to_string()).unwrap();
    p
}

/// Interrupted after 10 parameter sets (--max-cells) and resumed, sharded into two halves
/// per wave and merged, or run with 1 and 2 threads: the same calibration.json, byte for
/// byte.
#[test]
fn resumed_sharded_and_threaded_calibrations_are_identical() {
    let t = tempfile::tempdir().unwrap();
    let obs = observe_fixture(t.path());
    let whole = t.path().join("whole");
    assert!(cli_calibrate(&obs, &whole, &["--threads", "1"])
        .status
        .success());
    let expected = std::fs::read(whole.join("calibration.json")).unwrap();

    let two = t.path().join("two");
    assert!(cli_calibrate(&obs, &two, &["--threads", "2"])
        .status
        .success());
    assert_eq!(
        std::fs::read(two.join("calibration.json")).unwrap(),
        expected
    );

    let cut = t.path().join("cut");
    let o = cli_calibrate(&obs, &cut, &["--max-cells", "10"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--max-cells"));
    assert!(!cut.join("calibration.json").exists());
    // Without --resume the directory is refused.
    let o = cli_calibrate(&obs, &cut, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--resume"));
    assert!(cli_calibrate(&obs, &cut, &["--resume"]).status.success());
    assert_eq!(
        std::fs::read(cut.join("calibration.json")).unwrap(),
        expected
    );

    let sharded = t.path().join("sharded");
    for wave in 1..=2 {
        for shard in ["1/2", "2/2"] {
            let o = cli_calibrate(&obs, &sharded, &["--shard", shard, "--resume"]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            assert!(String::from_utf8_lossy(&o.stderr).contains("merge"));
        }
        specsim()
            .arg("merge")
            .arg(sharded.join(format!("wave{wave}-shard-1-of-2")))
            .arg(sharded.join(format!("wave{wave}-shard-2-of-2")))
            .arg("--out")
            .arg(sharded.join(format!("wave{wave}")))
            .assert()
            .success();
    }
    assert!(cli_calibrate(&obs, &sharded, &["--resume"])
        .status
        .success());
    assert_eq!(
        std::fs::read(sharded.join("calibration.json")).unwrap(),
        expected
    );
}

fn expect_bad(observe: Value, extra: &[&str], needles: &[&str]) {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("bad.json");
    std::fs::write(&p, serde_json::to_string_pretty(&observe).unwrap()).unwrap();
    let o = specsim()
        .arg("calibrate")
        .arg(fixture("small.json"))
        .arg("--observe")
        .arg(&p)
        .args(["--quiet"])
        .args(extra)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.json"), "names the file: {err}");
    for n in needles {
        assert!(err.contains(n), "expected `{n}` in: {err}");
    }
}

fn one_obs() -> Value {
    json!([{"policy": "speccache", "metric": "hit_rate", "value": 0.7, "sd": 0.03}])
}

#[test]
fn bad_inputs_name_the_file_and_field() {
    // An unknown field path.
    expect_bad(
        json!({"observations": one_obs(),
               "parameters": [{"path": "agent.bak_prob", "min": 0, "max": 0.3}]}),
        &[],
        &["parameters[0]", "bak_prob"],
    );
    expect_bad(
        json!({"observations": one_obs(),
               "parameters": [{"path": "agnt.back_prob", "min": 0, "max": 0.3}]}),
        &[],
        &[
            "parameters[0]",
            "field path `agnt.back_prob` does not exist",
        ],
    );
    // An empty range.
    expect_bad(
        json!({"observations": one_obs(),
               "parameters": [{"path": "agent.back_prob", "min": 0.3, "max": 0.3}]}),
        &[],
        &[
            "parameters[0]",
            "empty range: min 0.3 must be below max 0.3",
        ],
    );
    // A metric the report does not have.
    expect_bad(
        json!({"observations": [{"policy": "speccache", "metric": "hit_ratio", "value": 0.7, "sd": 0.1}],
               "parameters": parameters()}),
        &[],
        &[
            "observations[0].metric",
            "`hit_ratio` is not a metric of the report",
        ],
    );
    // An unknown policy, a field of the file misspelt, a ratio of 0, a range out of bounds.
    expect_bad(
        json!({"observations": [{"policy": "specache", "metric": "hit_rate", "value": 0.7, "sd": 0.1}],
               "parameters": parameters()}),
        &[],
        &["observations[0].policy", "`specache` is not a policy"],
    );
    expect_bad(
        json!({"observations": [{"policy": "speccache", "metric": "hit_rate", "valeu": 0.7}],
               "parameters": parameters()}),
        &[],
        &["observations[0]", "unknown field `valeu`"],
    );
    expect_bad(
        json!({"observations": [{"policy": "speccache", "metric": "speedup", "value": 0.0, "sd": 0.1}],
               "parameters": parameters()}),
        &[],
        &["observations[0].value", "log scale: must be > 0"],
    );
    expect_bad(
        json!({"observations": one_obs(),
               "parameters": [{"path": "agent.back_prob", "min": 0, "max": 1.5}]}),
        &[],
        &[
            "parameters[0].max",
            "at 1.5 the scenario is invalid",
            "agent.back_prob",
        ],
    );
    // A metric without an interval needs an observed sd.
    expect_bad(
        json!({"observations": [{"policy": "speccache", "metric": "prefetches_per_session", "value": 3.0}],
               "parameters": parameters()}),
        &[],
        &["observations[0].sd", "give `sd` > 0"],
    );
    // No parameters at all; a malformed --param.
    expect_bad(
        json!({"observations": one_obs()}),
        &[],
        &["parameters: is empty"],
    );
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("ok.json");
    std::fs::write(&p, json!({"observations": one_obs()}).to_string()).unwrap();
    // Regression: a bad --replications was blamed on the first parameter's range.
    let obs = observe_fixture(t.path());
    for (flag, value, allowed) in [("--replications", "1", "2.."), ("--sessions", "0", "1..")] {
        specsim()
            .arg("calibrate")
            .arg(fixture("small.json"))
            .arg("--observe")
            .arg(&obs)
            .args([flag, value])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "'{flag} <{}>'",
                &flag[2..].to_uppercase()
            )))
            .stderr(predicate::str::contains(allowed))
            .stderr(predicate::str::contains("parameters[0]").not());
    }
    specsim()
        .arg("calibrate")
        .arg(fixture("small.json"))
        .arg("--observe")
        .arg(&p)
        .args(["--param", "agent.back_prob=0-0.3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--param: agent.back_prob=0-0.3: expected PATH=MIN:MAX",
        ));
}

/// `--param` adds parameters, and `at_most` bounds are one-sided: 35 % random hits as an
/// upper bound leave every small back-tracking rate consistent (implausibility 0) and rule
/// out the large ones (about 50 % random hits at 0.5).
#[test]
fn flags_add_parameters_and_bounds_are_one_sided() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("o.json");
    std::fs::write(
        &p,
        json!({"observations": [{"policy": "random", "metric": "hit_rate", "value": 0.35,
                                  "sd": 0.01, "bound": "at_most"}]})
        .to_string(),
    )
    .unwrap();
    let out = specsim()
        .arg("calibrate")
        .arg(fixture("small.json"))
        .arg("--observe")
        .arg(&p)
        .args([
            "--param",
            "agent.back_prob=0:0.5",
            "--points",
            "12",
            "--waves",
            "1",
            "--json",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c: Calibration = serde_json::from_slice(&out.stdout).unwrap();
    assert!(c.consistent);
    assert_eq!(c.observations[0].bound, Bound::AtMost);
    assert_eq!(c.parameters[0].paths, ["agent.back_prob"]);
    assert!(c.parameters[0].consistent_lo.unwrap() < 0.05, "{c:#?}");
    assert!(c.parameters[0].consistent_hi.unwrap() < 0.4, "{c:#?}");
    assert_eq!(c.observations[0].implausibility, Some(0.0));
}

/// `--record FILE` stores the answer with its settings and the command that regenerates it;
/// the record is current for its inputs and stale once the observe file changes, and running
/// its command again reproduces it byte for byte.
#[test]
fn records_store_the_command_and_know_their_inputs() {
    use specsim::calibrate::record::{Freshness, Record};
    let t = tempfile::tempdir().unwrap();
    let obs = observe_fixture(t.path());
    let rec = t.path().join("rec.json");
    let run = || {
        specsim()
            .arg("calibrate")
            .arg(fixture("small.json"))
            .arg("--observe")
            .arg(&obs)
            .args([
                "--points",
                "8",
                "--waves",
                "1",
                "--sessions",
                "10",
                "--quiet",
                "--record",
            ])
            .arg(&rec)
            .assert()
            .success();
        std::fs::read_to_string(&rec).unwrap()
    };
    let text = run();
    let r = Record::parse(&text, "rec.json").unwrap();
    assert_eq!(
        r.command,
        format!(
            "specsim calibrate {} --observe {} --points 8 --waves 1 --sessions 10 --record {}",
            fixture("small.json").display(),
            obs.display(),
            rec.display()
        )
    );
    assert_eq!(r.settings.sessions, Some(10));
    assert_eq!(r.settings.replications, None);
    assert_eq!(
        (r.calibration.method.sessions, r.calibration.points_run),
        (10, 8)
    );
    let scenario = std::fs::read_to_string(fixture("small.json")).unwrap();
    let observe = std::fs::read_to_string(&obs).unwrap();
    assert_eq!(r.freshness(&scenario, &observe), Freshness::Current);
    let edited = observe.replace("0.3", "0.31");
    assert_ne!(edited, observe);
    match r.freshness(&scenario, &edited) {
        Freshness::Stale { recorded, now } => {
            assert_eq!(recorded, r.calibration.inputs_hash);
            assert_ne!(now, recorded);
        }
        f => panic!("{f:?}"),
    }
    assert_eq!(run(), text, "the same command, the same record");
    let e = Record::parse("{\"command\": 1}", "bad.json").unwrap_err();
    assert!(e.starts_with("bad.json: command: invalid type"), "{e}");
    let e = Record::parse("{}", "empty.json").unwrap_err();
    assert_eq!(e, "empty.json: missing field `command` at line 1 column 2");
}

/// Every repository file the examples of `specsim calibrate --help` name exists.
#[test]
fn help_examples_name_files_that_exist() {
    let out = specsim().args(["calibrate", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let examples = help.split_once("Examples:").expect("examples").1;
    let files: Vec<&str> = examples
        .split_whitespace()
        .filter(|w| w.contains('/') && (w.ends_with(".json") || w.ends_with(".jsonl")))
        .collect();
    assert!(files.len() >= 7, "{help}");
    for f in files {
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(f).exists(),
            "--help names {f}, which does not exist"
        );
    }
}
