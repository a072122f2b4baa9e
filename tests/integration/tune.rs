//! `specsim tune`: its Pareto front against a brute-force front of an exhaustive
//! `specsim sweep`, the choice, an unreachable target, the simulated request-rate limit,
//! determinism (threads, resume), bad input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{json, Value};

fn specsim() -> Command {
    Command::cargo_bin("specsim").unwrap()
}

fn catalogue() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/drafts/catalogue.json")
}

/// Three drafts x widths 1, 3 x caches 3, 10 x slots unlimited, 2: 24 configurations.
const DRAFTS: &str = "claude-3-haiku,gpt-4-turbo,llama-2-7b-together";

fn scenario(dir: &Path) -> PathBuf {
    let v = json!({
        "name": "tune test", "seed": 5, "replications": 3, "sessions": 8,
        "site": {"generator": "hierarchical", "pages": 400,
                 "out_degree": {"dist": "lognormal", "median": 12, "sigma": 0.5}},
        "fetch": {"dist": "lognormal", "median": 3.0, "sigma": 0.5},
        "agent": {"rounds": {"dist": "uniform", "low": 2, "high": 9}, "back_prob": 0.2},
        "target": {"latency": {"dist": "lognormal", "median": 4.0, "sigma": 0.4}},
        "drafts": [{"latency": {"latency": {"dist": "constant", "value": 0.8},
                                "output_tokens": {"dist": "constant", "value": 60}},
                    "accuracy": {"top1": 0.6}}]
    });
    let p = dir.join("s.json");
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

fn tune_cmd(scenario: &Path) -> Command {
    let mut c = specsim();
    c.arg("tune")
        .arg(scenario)
        .arg("--catalogue")
        .arg(catalogue())
        .args([
            "--drafts",
            DRAFTS,
            "--widths",
            "1,3",
            "--capacities",
            "3,10",
        ])
        .args(["--slots", "unlimited,2", "--quiet"]);
    c
}

fn json_of(out: &[u8]) -> Value {
    serde_json::from_slice(out).unwrap()
}

/// Prices per million tokens (input, output) of the catalogue, by draft name.
fn prices() -> BTreeMap<String, (f64, f64)> {
    let c: Value = serde_json::from_str(&std::fs::read_to_string(catalogue()).unwrap()).unwrap();
    c["drafts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_string(),
                (
                    d["price_input_per_mtok"].as_f64().unwrap(),
                    d["price_output_per_mtok"].as_f64().unwrap(),
                ),
            )
        })
        .collect()
}

#[derive(Debug, PartialEq)]
struct Point {
    cell: String,
    speedup: f64,
    cost: f64,
    extra: f64,
}

fn rate(row: &Value) -> f64 {
    row["site_request_rate_per_s"].as_f64().unwrap()
}

/// The front from scratch: every cell of an exhaustive sweep's rows, costed with the
/// catalogue's prices and 550 input tokens per call, kept unless another cell is at least as
/// good on speedup, cost and extra rate and strictly better on one.
fn brute_force_front(results: &Path) -> Vec<Point> {
    let prices = prices();
    let mut cells: BTreeMap<String, (Option<Value>, Option<Value>)> = BTreeMap::new();
    for line in std::fs::read_to_string(results).unwrap().lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        let e = cells
            .entry(r["cell"].as_str().unwrap().to_string())
            .or_default();
        match r["policy"].as_str().unwrap() {
            "none" => e.0 = Some(r),
            "speccache" => e.1 = Some(r),
            p => panic!("unexpected policy {p}"),
        }
    }
    let points: Vec<Point> = cells
        .into_iter()
        .map(|(cell, (none, spec))| {
            let (none, spec) = (none.unwrap(), spec.unwrap());
            let name = spec["axes"]["drafts"][0]["name"].as_str().unwrap();
            let (pin, pout) = prices[name];
            let calls = spec["draft_calls_per_session"].as_f64().unwrap();
            let tokens = spec["draft_tokens_per_session"].as_f64().unwrap();
            Point {
                cell,
                speedup: spec["speedup"].as_f64().unwrap(),
                cost: 1000.0 * (calls * 550.0 * pin + tokens * pout) / 1e6,
                extra: rate(&spec) - rate(&none),
            }
        })
        .collect();
    let beats = |a: &Point, b: &Point| {
        a.speedup >= b.speedup
            && a.cost <= b.cost
            && a.extra <= b.extra
            && (a.speedup > b.speedup || a.cost < b.cost || a.extra < b.extra)
    };
    let mut front: Vec<Point> = Vec::new();
    for p in &points {
        if !points.iter().any(|o| beats(o, p)) {
            front.push(Point {
                cell: p.cell.clone(),
                ..*p
            });
        }
    }
    front.sort_by(|a, b| a.cell.cmp(&b.cell));
    front
}

fn front_of(t: &Value) -> Vec<Point> {
    let mut f: Vec<Point> = t["front"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Point {
            cell: c["cell"].as_str().unwrap().to_string(),
            speedup: c["speedup"].as_f64().unwrap(),
            cost: c["cost_per_1000_sessions"].as_f64().unwrap(),
            extra: c["extra_request_rate_per_s"].as_f64().unwrap(),
        })
        .collect();
    f.sort_by(|a, b| a.cell.cmp(&b.cell));
    f
}

#[test]
fn the_front_equals_a_brute_force_front_of_an_exhaustive_sweep_and_the_choice_is_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path());
    let out = dir.path().join("t");
    let run = tune_cmd(&sc)
        .args(["--target-speedup", "1.0", "--json", "--out"])
        .arg(&out)
        .assert()
        .success();
    let t = json_of(&run.get_output().stdout);
    assert_eq!(t["configurations"].as_array().unwrap().len(), 24);
    // The same grid as an ordinary sweep, run separately and judged from scratch.
    let grid = dir.path().join("grid");
    specsim()
        .arg("sweep")
        .arg(out.join("sweep.json"))
        .arg("--out")
        .arg(&grid)
        .arg("--quiet")
        .assert()
        .success();
    let brute = brute_force_front(&grid.join("results.jsonl"));
    let tuned = front_of(&t);
    assert!(
        brute.len() >= 2 && brute.len() < 24,
        "a front of {}",
        brute.len()
    );
    assert_eq!(tuned.len(), brute.len());
    for (a, b) in tuned.iter().zip(&brute) {
        assert_eq!(a.cell, b.cell);
        assert_eq!(a.speedup, b.speedup);
        assert!(
            (a.cost - b.cost).abs() <= 1e-12 * b.cost.max(1.0),
            "{a:?} {b:?}"
        );
        assert!((a.extra - b.extra).abs() <= 1e-12, "{a:?} {b:?}");
    }
    // A target between the front's slowest and fastest: the chosen configuration is on the
    // front, reaches it, and no configuration of the front reaching it is cheaper.
    let mut speeds: Vec<f64> = tuned.iter().map(|p| p.speedup).collect();
    speeds.sort_by(f64::total_cmp);
    let target = (speeds[0] + speeds[speeds.len() - 1]) / 2.0;
    let run = tune_cmd(&sc)
        .args([
            "--target-speedup",
            &target.to_string(),
            "--json",
            "--resume",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let t = json_of(&run.get_output().stdout);
    let chosen = &t["chosen"];
    let cell = chosen["cell"].as_str().unwrap();
    let on_front = tuned
        .iter()
        .find(|p| p.cell == cell)
        .expect("chosen is on the front");
    assert!(on_front.speedup >= target);
    let cheapest = tuned
        .iter()
        .filter(|p| p.speedup >= target)
        .map(|p| p.cost)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(on_front.cost, cheapest);
    assert!(t["verdict"]
        .as_str()
        .unwrap()
        .starts_with("cheapest configuration reaching"));
}

#[test]
fn an_unreachable_target_exits_3_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path());
    tune_cmd(&sc)
        .args([
            "--target-speedup",
            "50",
            "--widths",
            "1",
            "--capacities",
            "10",
        ])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("Pareto front"))
        .stderr(predicate::str::contains(
            "unreachable: no configuration of the grid meets speedup >= 50",
        ));
}

#[test]
fn the_request_rate_limit_is_simulated_and_the_choice_stays_within_it() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path());
    let free = tune_cmd(&sc)
        .args(["--budget", "1000", "--json"])
        .assert()
        .success();
    let free = json_of(&free.get_output().stdout);
    let rates: Vec<f64> = free["configurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["request_rate_per_s"].as_f64().unwrap())
        .collect();
    let top = rates.iter().copied().fold(0.0, f64::max);
    let limit = top / 2.0;
    let out = dir.path().join("limited");
    let run = tune_cmd(&sc)
        .args(["--budget", "1000", "--json", "--max-request-rate"])
        .arg(limit.to_string())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let t = json_of(&run.get_output().stdout);
    let sweep: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(sweep["fetcher"]["rate_limit_per_s"].as_f64(), Some(limit));
    let chosen = t["chosen"]["request_rate_per_s"].as_f64().unwrap();
    assert!(chosen <= limit, "chosen {chosen} > limit {limit}");
    for c in t["front"].as_array().unwrap() {
        assert!(c["request_rate_per_s"].as_f64().unwrap() <= limit);
    }
    // Simulated, not only filtered: the limit slows the configurations that fetched fastest.
    let limited: Vec<f64> = t["configurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["request_rate_per_s"].as_f64().unwrap())
        .collect();
    assert!(limited.iter().zip(&rates).any(|(l, f)| l < f));
    // The site's rate over a run is at most the bucket's: rate + burst / run time.
    assert!(
        limited.iter().all(|&r| r <= limit * 1.02),
        "{limited:?} vs {limit}"
    );
}

#[test]
fn tuning_is_byte_identical_across_threads_and_after_resume() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path());
    let run = |threads: &str, extra: &[&str], out: Option<&Path>| {
        let mut c = tune_cmd(&sc);
        c.args(["--target-speedup", "1.1", "--json", "--threads", threads])
            .args(extra);
        if let Some(o) = out {
            c.arg("--out").arg(o);
        }
        c.assert().success().get_output().stdout.clone()
    };
    let one = run("1", &[], None);
    let two = run("2", &[], None);
    assert_eq!(one, two, "1 vs 2 threads");
    let out = dir.path().join("r");
    let stopped = run("2", &["--max-cells", "5"], Some(&out));
    assert!(stopped.is_empty(), "a stopped run prints no answer");
    let resumed = run("2", &["--resume"], Some(&out));
    assert_eq!(resumed, one, "stopped after 5 cells, then resumed");
    // The answer file and the sweep file deleted: resuming writes them again, the same.
    let tune_json = std::fs::read(out.join("tune.json")).unwrap();
    assert_eq!(tune_json, one);
    std::fs::remove_file(out.join("tune.json")).unwrap();
    std::fs::remove_file(out.join("sweep.json")).unwrap();
    let again = run("1", &["--resume"], Some(&out));
    assert_eq!(again, one);
    assert_eq!(std::fs::read(out.join("tune.json")).unwrap(), one);
}

fn fails(c: &mut Command, code: i32, needle: &str) {
    let a = c.assert().code(code);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_inputs_are_named_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path());
    let target = ["--target-speedup", "1.1"];
    fails(
        tune_cmd(&sc)
            .args(target)
            .args(["--drafts", "claude-3-haiku,nope"]),
        2,
        "no draft `nope` in the catalogue (it has: claude-3-haiku, ",
    );
    fails(
        tune_cmd(&sc).args(["--target-speedup", "0"]),
        2,
        "--target-speedup: must be a number above 0",
    );
    fails(tune_cmd(&sc).args(["--target-speedup", "-2"]), 2, "got -2");
    fails(
        tune_cmd(&sc).args(target).args(["--widths", ""]),
        2,
        "--widths: the grid needs at least one value, got none",
    );
    fails(
        tune_cmd(&sc).args(target).args(["--slots", "0"]),
        2,
        "--slots: `0` is not a number of fetch slots",
    );
    fails(
        tune_cmd(&sc).args(["--widths", "1"]),
        2,
        "give --target-speedup X",
    );
    // Named as the flags they are, not as every draft case the sweep would build.
    fails(
        tune_cmd(&sc).args(target).args(["--sessions", "0"]),
        2,
        "invalid value '0' for '--sessions <SESSIONS>': 0 is not in 1..",
    );
    fails(
        tune_cmd(&sc).args(target).args(["--replications", "1"]),
        2,
        "invalid value '1' for '--replications <REPLICATIONS>': 1 is not in 2..",
    );
    // Catalogues: a negative price, a field of the wrong type, a missing profile, not JSON.
    let good: Value = serde_json::from_str(&std::fs::read_to_string(catalogue()).unwrap()).unwrap();
    let write = |name: &str, v: &Value| {
        let mut v = v.clone();
        for d in v["drafts"].as_array_mut().unwrap() {
            let p = d["latency_profile"].as_str().unwrap().to_string();
            d["latency_profile"] = json!(catalogue().parent().unwrap().join(p));
        }
        let p = dir.path().join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p
    };
    let cases = [
        (
            "neg.json",
            1,
            "price_input_per_mtok",
            json!(-1.5),
            "neg.json: invalid catalogue:\n  drafts[1].price_input_per_mtok: must be a price in dollars per million tokens, 0 or more, got -1.5",
        ),
        (
            "typo.json",
            0,
            "price_output_per_mtok",
            json!("cheap"),
            "typo.json: drafts[0].price_output_per_mtok: invalid type: string \"cheap\"",
        ),
        (
            "lost.json",
            2,
            "latency_profile",
            json!("no/such/profile.json"),
            "drafts[2].latency_profile: ",
        ),
    ];
    let with = |p: &Path, needle: &str| {
        fails(
            specsim()
                .arg("tune")
                .arg(&sc)
                .arg("--catalogue")
                .arg(p)
                .args(target),
            2,
            needle,
        )
    };
    for (name, i, field, value, needle) in cases {
        let mut bad = good.clone();
        bad["drafts"][i][field] = value;
        with(&write(name, &bad), needle);
    }
    let p = dir.path().join("broken.json");
    std::fs::write(&p, "{\"specsim_catalogue\": 1, \"drafts\": [").unwrap();
    with(&p, "broken.json: line 1 column");
}
