//! Golden outputs: every shipped scenario, a reduced sweep of every sweep scenario, the trace
//! replay and the reproduction, run through the real binary and compared byte for byte with
//! the files in `tests/golden/`.
//!
//! They pin the simulator's numbers across refactors: a change that moves any of them either
//! is a bug or changes the model on purpose. In the second case regenerate them in the same
//! commit (`SPECSIM_BLESS=1 cargo test golden`) and say in the commit message why they moved.
//!
//! Scenarios are reduced (at most 3 replications and 15 sessions; sweep axes cut to their first
//! and last values) so that the whole module runs in seconds.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn golden_dir() -> PathBuf {
    root().join("tests/golden")
}

/// Compares `actual` with the golden file `name`, or writes it under `SPECSIM_BLESS=1`.
fn check(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("SPECSIM_BLESS").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with SPECSIM_BLESS=1 cargo test golden",
            path.display()
        )
    });
    if want != actual {
        let (w, a): (Vec<&str>, Vec<&str>) = (want.lines().collect(), actual.lines().collect());
        let first = w
            .iter()
            .zip(&a)
            .position(|(x, y)| x != y)
            .unwrap_or(w.len().min(a.len()));
        panic!(
            "{name} differs from the golden file at line {}:\n  golden: {}\n  actual: {}\n(regenerate with SPECSIM_BLESS=1 only if the change is intended)",
            first + 1,
            w.get(first).unwrap_or(&"<end>"),
            a.get(first).unwrap_or(&"<end>")
        );
    }
}

/// Relative file references in a scenario, made absolute so a reduced copy runs elsewhere.
fn absolutize(v: &mut Value, base: &Path) {
    let fix = |s: &mut Value| {
        if let Some(p) = s.as_str() {
            if Path::new(p).is_relative() {
                *s = Value::String(base.join(p).display().to_string());
            }
        }
    };
    if let Some(t) = v.pointer_mut("/trajectories/trace") {
        fix(t);
    }
    if v.pointer("/site/generator").and_then(Value::as_str) == Some("file") {
        if let Some(p) = v.pointer_mut("/site/path") {
            fix(p);
        }
    }
}

/// The scenario at `rel`, reduced, written into `dir`; `None` if it needs data not present.
fn reduced(rel: &str, dir: &Path) -> Option<PathBuf> {
    let path = root().join(rel);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let base = path.parent().unwrap();
    absolutize(&mut v, base);
    let reps = v["replications"].as_u64().unwrap_or(20).min(3);
    v["replications"] = reps.into();
    if v.get("trajectories").is_none() {
        let s = v["sessions"].as_u64().unwrap_or(50).min(15);
        v["sessions"] = s.into();
    }
    if let Some(grid) = v.pointer_mut("/sweep/grid").and_then(Value::as_array_mut) {
        for axis in grid {
            let values = axis["values"].as_array().unwrap().clone();
            let cut: Vec<Value> = if values.len() > 2 {
                vec![values[0].clone(), values[values.len() - 1].clone()]
            } else {
                values
            };
            if cut
                .iter()
                .any(|x| x.as_str().is_some_and(|p| !base.join(p).exists()))
            {
                return None; // traces imported from ../shared/data at study time
            }
            axis["values"] = Value::Array(cut);
        }
    }
    if let Some(t) = v.pointer("/trajectories/trace").and_then(Value::as_str) {
        if !Path::new(t).exists() {
            return None;
        }
    }
    let out = dir.join(Path::new(rel).file_name().unwrap());
    std::fs::write(&out, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    Some(out)
}

fn specsim() -> Command {
    Command::cargo_bin("specsim").unwrap()
}

fn stdout(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The report without the fields that name the tool version.
fn stable_report(json: &str) -> String {
    let mut v: Value = serde_json::from_str(json).unwrap();
    if let Some(m) = v.as_object_mut() {
        m.remove("version");
    }
    serde_json::to_string_pretty(&v).unwrap() + "\n"
}

fn golden_name(rel: &str) -> String {
    rel.trim_end_matches(".json")
        .trim_end_matches(".jsonl")
        .replace('/', "__")
}

const RUN_SCENARIOS: [&str; 4] = [
    "scenarios/default.json",
    "scenarios/replay-example.json",
    "scenarios/paper/webwalkerqa.json",
    "scenarios/paper/muwc.json",
];

/// Every sweep scenario but `studies/real-graphs.json`, whose traces are imported from
/// ../shared/data at study time (not in a fresh clone); tests/integration/studies.rs covers it.
const SWEEP_SCENARIOS: [&str; 7] = [
    "scenarios/paper-grid.json",
    "scenarios/bench-sweep.json",
    "scenarios/studies/cache-width.json",
    "scenarios/studies/cost.json",
    "scenarios/studies/draft-fetch.json",
    "scenarios/studies/draft-latency.json",
    "scenarios/studies/shared-sessions.json",
];

#[test]
fn every_scenario_report_matches_its_golden_file() {
    let dir = tempfile::tempdir().unwrap();
    for rel in RUN_SCENARIOS {
        let file = reduced(rel, dir.path()).expect("run scenarios need no external data");
        let json = stdout(
            specsim()
                .args(["run", "--json", "--threads", "2"])
                .arg(&file),
        );
        check(
            &format!("{}.run.json", golden_name(rel)),
            &stable_report(&json),
        );
    }
    // The embedded default, unreduced: what `cargo run --release -- run` prints.
    let json = stdout(specsim().args(["run", "--json"]));
    check("default-embedded.run.json", &stable_report(&json));
    // A relative path, so the report (which names the trace) is the same in any checkout.
    let json =
        stdout(
            specsim()
                .current_dir(root())
                .args(["run", "--json", "traces/example.jsonl"]),
        );
    check("traces__example.run.json", &stable_report(&json));
}

#[test]
fn every_sweep_matches_its_golden_file() {
    let dir = tempfile::tempdir().unwrap();
    for rel in SWEEP_SCENARIOS {
        let Some(file) = reduced(rel, dir.path()) else {
            continue;
        };
        let out = dir.path().join(golden_name(rel));
        stdout(
            specsim()
                .args(["sweep", "--quiet", "--threads", "2", "--out"])
                .arg(&out)
                .arg(&file),
        );
        let rows = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
        check(&format!("{}.sweep.jsonl", golden_name(rel)), &rows);
    }
}

#[test]
fn the_reproduction_matches_its_golden_file() {
    let json = stdout(specsim().args(["reproduce", "--reduced", "--json"]));
    let v: Value = serde_json::from_str(&json).unwrap();
    check(
        "reproduce.reduced.json",
        &(serde_json::to_string_pretty(&v).unwrap() + "\n"),
    );
}
