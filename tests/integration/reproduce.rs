//! `specsim reproduce`: rows are computed from the calibrated scenarios, never stored.

use assert_cmd::Command;
use specsim::reproduce::{run, scenario, table, Row, PAPER_SCENARIOS};

fn rows(edit: impl Fn(&mut serde_json::Value)) -> Vec<Row> {
    let scenarios: Vec<_> = PAPER_SCENARIOS
        .iter()
        .map(|(bench, file, text)| {
            let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
            if *bench == "WebWalkerQA" {
                edit(&mut v);
            }
            (
                bench.to_string(),
                scenario(&v.to_string(), file, true).unwrap(),
            )
        })
        .collect();
    table(&run(&scenarios))
}

fn find<'a>(rows: &'a [Row], figure: &str, bench: &str) -> &'a Row {
    rows.iter()
        .find(|r| r.figure == figure && r.benchmark == bench)
        .unwrap_or_else(|| panic!("row {figure} / {bench} missing"))
}

#[test]
fn calibrated_scenarios_run_reduced_and_give_every_row() {
    let r = rows(|_| {});
    assert_eq!(r.len(), 8);
    let random = find(&r, "random-prefetch hit rate", "WebWalkerQA");
    assert_eq!(random.paper, 8.9);
    assert!(random.simulated > 0.0 && random.simulated < 50.0);
    assert_eq!(random.difference, random.simulated - random.paper);
    let spec = find(&r, "SpecCache hit rate", "MuWC");
    assert_eq!(spec.paper, 54.0);
    assert!(spec.simulated > 20.0, "{}", spec.simulated);
}

#[test]
fn rows_move_when_a_scenario_input_moves() {
    let base = rows(|_| {});
    // Without back-tracking, revisits vanish and the random policy's hit rate falls.
    let no_back = rows(|v| v["agent"]["back_prob"] = 0.0.into());
    let a = find(&base, "random-prefetch hit rate", "WebWalkerQA").simulated;
    let b = find(&no_back, "random-prefetch hit rate", "WebWalkerQA").simulated;
    assert!(b < a, "random hit rate {a} -> {b}");
    // A perfect, instant draft drives the SpecCache hit rate to (nearly) 100 %.
    let perfect = rows(|v| {
        v["drafts"][0]["accuracy"] = serde_json::json!({"cumulative": [1.0]});
        v["drafts"][0]["latency"] =
            serde_json::json!({"latency": {"dist": "constant", "value": 0.0}});
    });
    let s = find(&perfect, "SpecCache hit rate", "WebWalkerQA").simulated;
    assert!(s > 99.0, "perfect draft hit rate {s}");
}

#[test]
fn cli_prints_the_table() {
    let out = Command::cargo_bin("specsim")
        .unwrap()
        .args(["reproduce", "--reduced", "--json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 8);
    assert!(rows
        .iter()
        .any(|r| r["figure"] == "web share of end-to-end latency"));
}
