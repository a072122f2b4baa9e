//! Offered fetch load per slot: its definition, its flag, and the warnings of `run` and `sweep`.

use assert_cmd::Command;
use specsim::io::report::Report;
use specsim::runner::run;

use super::common::{build, tree_scenario};

/// `none` on a tree, 3 visits per session, constant 2 s fetches and 5 s think, sessions
/// every `every` seconds sharing `slots` fetch slots.
fn scenario(every: f64, slots: u32, sessions: u32) -> serde_json::Value {
    let mut v = tree_scenario(10, 3, 5.0, 0.0, 2.0, 0.0);
    v["policies"] = serde_json::json!(["none"]);
    v["drafts"] = serde_json::json!([]);
    v["sessions"] = sessions.into();
    v["replications"] = 2.into();
    v["fetcher"] = serde_json::json!({"slots": slots});
    v["arrivals"] = serde_json::json!({"process": "interval", "every_s": every});
    v
}

fn none_row(v: serde_json::Value) -> specsim::io::report::PolicyRow {
    let sc = build(v);
    Report::new(&sc, &run(&sc)).policies[0].clone()
}

/// Regression (issue 11): rho = arrival rate x fetch work per session / slots. A session
/// fetches its start page and 3 pages, 2 s each: 8 s of work; one session every 4 s on
/// 4 slots offers 0.5; on 1 slot 2.0, which must not saturate at 1 however long the queue.
#[test]
fn fetch_load_is_offered_work_per_slot() {
    let row = none_row(scenario(4.0, 4, 20));
    assert!(
        (row.fetch_load.unwrap() - 0.5).abs() < 1e-9,
        "{:?}",
        row.fetch_load
    );
    assert!(!row.fetch_overloaded);
    let row = none_row(scenario(4.0, 1, 20));
    assert!(
        (row.fetch_load.unwrap() - 2.0).abs() < 1e-9,
        "{:?}",
        row.fetch_load
    );
    assert!(row.fetch_overloaded);
    // Unlimited slots: no load.
    let mut v = scenario(4.0, 1, 20);
    v["fetcher"] = serde_json::json!({});
    let row = none_row(v);
    assert_eq!((row.fetch_load, row.fetch_overloaded), (None, false));
    // Every session at once on limited slots: a batch, flagged, no finite load.
    let mut v = scenario(4.0, 4, 20);
    v["arrivals"] = serde_json::json!({"process": "all_at_start"});
    let row = none_row(v);
    assert_eq!((row.fetch_load, row.fetch_overloaded), (None, true));
}

/// What the flag means: below 1 the mean session latency does not depend on how many
/// sessions run; at or above 1 it grows with them (the queue has no steady state).
#[test]
fn overloaded_results_grow_with_the_number_of_sessions() {
    let latency = |every, slots, n| none_row(scenario(every, slots, n)).session_latency_s;
    let (short, long) = (latency(4.0, 4, 10), latency(4.0, 4, 40));
    assert!(
        (long / short - 1.0).abs() < 0.01,
        "rho 0.5: {short} -> {long}"
    );
    let (short, long) = (latency(4.0, 1, 10), latency(4.0, 1, 40));
    assert!(long > 2.0 * short, "rho 2: {short} -> {long}");
}

fn write(v: &serde_json::Value) -> tempfile::NamedTempFile {
    let f = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    std::fs::write(f.path(), v.to_string()).unwrap();
    f
}

#[test]
fn run_warns_on_stderr_when_overloaded() {
    let stderr = |v: serde_json::Value| {
        let f = write(&v);
        let out = Command::cargo_bin("specsim")
            .unwrap()
            .args(["run", f.path().to_str().unwrap()])
            .assert()
            .success();
        let o = out.get_output();
        (
            String::from_utf8_lossy(&o.stdout).to_string(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let (out, err) = stderr(scenario(4.0, 1, 10));
    assert!(
        err.contains("warning: none: offered fetch load 2.00 per slot with 1 fetch slots"),
        "{err}"
    );
    assert!(
        out.contains("offered fetch load per slot (1 slots"),
        "{out}"
    );
    let (_, err) = stderr(scenario(4.0, 4, 10));
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn sweep_counts_overloaded_cells_and_has_the_column() {
    let mut v = scenario(4.0, 1, 10);
    v["sweep"] = serde_json::json!({"grid": [{"path": "fetcher.slots", "values": [1, 2, 4]}]});
    let f = write(&v);
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("specsim")
        .unwrap()
        .args(["sweep", f.path().to_str().unwrap(), "--quiet", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    // rho = 2, 1 and 0.5: two cells have no steady state.
    assert!(err.contains("sweep: warning: 2 of 3 cells"), "{err}");
    let csv = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (load, flag) = (col("fetch_load"), col("fetch_overloaded"));
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let loads: Vec<f64> = rows.iter().map(|r| r[load].parse().unwrap()).collect();
    assert!(
        (loads[0] - 2.0).abs() < 1e-9 && (loads[2] - 0.5).abs() < 1e-9,
        "{loads:?}"
    );
    let flags: Vec<&str> = rows.iter().map(|r| r[flag]).collect();
    assert_eq!(flags, ["true", "true", "false"]);
}
