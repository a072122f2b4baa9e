//! `specsim reproduce`: rows are computed from the calibrated scenarios, never stored.

use assert_cmd::Command;
use specsim::io::stats::ratio_of_sums;
use specsim::reproduce::{run, scenario, table, Kind, Row, PAPER_SCENARIOS};
use specsim::sim::metrics::RunMetrics;

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
    assert_eq!(rows[1]["kind"], "consistency_check");
    assert_eq!(rows[0]["kind"], "prediction");
}

/// Regression (issue 11): the reference code's web reduction counts the start page on both
/// sides and takes the page-cache agent (`cache`) as its baseline; specsim used to book
/// `none`'s exposed web time over `speccache`'s misses without the start page (5.24x).
#[test]
fn reference_code_reduction_counts_the_start_page_against_cache() {
    let r = rows(|_| {});
    let row = r
        .iter()
        .find(|r| r.figure.contains("as the reference code books it"))
        .expect("reference-code row");
    assert_eq!(row.kind, Kind::Prediction);
    // Recompute it from the runs of the same (reduced) scenarios, for the benchmark the row
    // names.
    let (bench, file, text) = PAPER_SCENARIOS
        .iter()
        .find(|(b, _, _)| *b == row.benchmark)
        .unwrap();
    let sc = scenario(text, file, true).unwrap();
    let o = specsim::runner::run(&sc);
    let column = |name: &str| -> Vec<&RunMetrics> {
        let i = o.policies.iter().position(|p| p.name() == name).unwrap();
        o.runs.iter().map(|r| &r[i]).collect()
    };
    let num: Vec<f64> = column("cache")
        .iter()
        .map(|m| (m.root_web + m.exposed) as f64)
        .collect();
    let den: Vec<f64> = column("speccache")
        .iter()
        .map(|m| (m.root_web + m.miss_exposed) as f64)
        .collect();
    let want = ratio_of_sums(&num, &den).unwrap();
    assert_eq!(row.simulated, want.mean, "{bench}");
    assert_eq!((row.ci_lo, row.ci_hi), (Some(want.lo), Some(want.hi)));
    // The old accounting (no start page, `none` as baseline) is larger.
    let none_exposed: f64 = column("none").iter().map(|m| m.exposed as f64).sum();
    let misses: f64 = column("speccache")
        .iter()
        .map(|m| m.miss_exposed as f64)
        .sum();
    assert!(none_exposed / misses > row.simulated * 1.2, "{row:?}");
}

/// Regression (issue 11): the SpecCache hit rates are set from the paper (the draft's top-3
/// accuracy), so they are consistency checks; every other row is a prediction.
#[test]
fn rows_say_which_are_predictions() {
    let r = rows(|_| {});
    for row in &r {
        let want = if row.figure == "SpecCache hit rate" {
            Kind::ConsistencyCheck
        } else {
            Kind::Prediction
        };
        assert_eq!(row.kind, want, "{}", row.figure);
    }
    assert_eq!(
        r.iter()
            .filter(|r| r.kind == Kind::ConsistencyCheck)
            .count(),
        2
    );
}

fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The committed calibrations of the paper scenarios are current (their inputs' hash is that
/// of the shipped scenario, observe file and recorded settings), and `reproduce` prints them:
/// the stored verdict and each parameter's estimate, with the command that regenerates them.
#[test]
fn calibration_section_prints_the_committed_answers() {
    use specsim::calibrate::record::Record;
    use specsim::calibrate::text::num;
    use specsim::reproduce::calibration::{check, Status, PAPER_CALIBRATIONS};
    let out = Command::cargo_bin("specsim")
        .unwrap()
        .args(["reproduce", "--reduced"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains("Is one parameter set consistent with every figure?"),
        "{stdout}"
    );
    for ((bench, _, scenario_text), c) in PAPER_SCENARIOS.iter().zip(&PAPER_CALIBRATIONS) {
        assert_eq!(*bench, c.benchmark);
        // The built-in copies are the files in scenarios/paper/calibrate/.
        let dir = repo("scenarios/paper/calibrate");
        assert_eq!(
            std::fs::read_to_string(dir.join(c.observe)).unwrap(),
            c.observe_text
        );
        assert_eq!(
            std::fs::read_to_string(dir.join(c.result)).unwrap(),
            c.result_text
        );
        let stored = check(
            bench,
            scenario_text,
            Ok(c.observe_text),
            ("stored", Ok(c.result_text)),
        );
        let Status::Current(record) = &stored.status else {
            panic!("{bench}: {:?}", stored.status);
        };
        let r = Record::parse(c.result_text, c.result).unwrap();
        assert_eq!(**record, r);
        let cal = &r.calibration;
        assert!(cal.points_run >= 1900, "{bench}: {} points", cal.points_run);
        assert_eq!((cal.method.replications, cal.method.sessions), (20, 100));
        assert!(r.command.starts_with("specsim calibrate scenarios/paper/"));
        assert!(stdout.contains(&format!(
            "{bench}: from scenarios/paper/calibrate/{} (inputs hash {}, current; regenerate: {})",
            c.result, cal.inputs_hash, r.command
        )));
        for p in &cal.parameters {
            let line = stdout
                .lines()
                .find(|l| l.contains(&p.name) && l.contains(&num(p.estimate)))
                .unwrap_or_else(|| panic!("{bench}: no row for {} = {}", p.name, p.estimate));
            assert!(
                line.contains(&format!("{} – {}", num(p.min), num(p.max))),
                "{line}"
            );
        }
        let verdict = if cal.consistent {
            "verdict: CONSISTENT"
        } else {
            "verdict: INCONSISTENT"
        };
        assert!(stdout.contains(verdict), "{bench}");
    }
    // The committed answers (docs/reproduce.md): WebWalkerQA is consistent; MuWC is not,
    // because of its random hit rate alone.
    let wwqa = Record::parse(PAPER_CALIBRATIONS[0].result_text, "wwqa").unwrap();
    let w = &wwqa.calibration;
    assert!(w.consistent && w.points_consistent > 0 && w.conflicts.is_empty());
    assert!(w.best_max_implausibility.unwrap() <= 3.0);
    let muwc = Record::parse(PAPER_CALIBRATIONS[1].result_text, "muwc").unwrap();
    let m = &muwc.calibration;
    assert!(!m.consistent && m.points_consistent == 0);
    let unmet: Vec<&str> = m
        .observations
        .iter()
        .filter(|o| !o.met_alone)
        .map(|o| o.name.as_str())
        .collect();
    assert_eq!(unmet, ["random hit rate"]);
    let random = &m.observations[1];
    assert!(random.consistent_without && random.best_alone.unwrap() > 3.0);
    assert!(stdout.contains("no parameter set run meets, even alone: random hit rate"));
}

/// An edited observe file makes that benchmark's stored answer stale: the section says so
/// with the command to rerun and prints no numbers for it; the other benchmark's answer is
/// still current; a missing answer is named.
#[test]
fn a_changed_observe_file_makes_the_stored_calibration_stale() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    std::fs::create_dir_all(dir.join("calibrate")).unwrap();
    for f in ["webwalkerqa.json", "muwc.json"] {
        std::fs::copy(repo("scenarios/paper").join(f), dir.join(f)).unwrap();
    }
    for f in ["webwalkerqa", "muwc"] {
        for kind in ["observe", "result"] {
            let name = format!("{f}.{kind}.json");
            std::fs::copy(
                repo("scenarios/paper/calibrate").join(&name),
                dir.join("calibrate").join(&name),
            )
            .unwrap();
        }
    }
    let observe = dir.join("calibrate/webwalkerqa.observe.json");
    let text = std::fs::read_to_string(&observe).unwrap();
    assert!(text.contains("\"value\": 0.089"));
    std::fs::write(
        &observe,
        text.replace("\"value\": 0.089", "\"value\": 0.09"),
    )
    .unwrap();
    let run = |dir: &std::path::Path| {
        let out = Command::cargo_bin("specsim")
            .unwrap()
            .args(["reproduce", "--reduced", "--scenarios"])
            .arg(dir)
            .assert()
            .success();
        String::from_utf8_lossy(&out.get_output().stdout).to_string()
    };
    let stdout = run(dir);
    let result = dir.join("calibrate/webwalkerqa.result.json");
    let stale = stdout
        .lines()
        .find(|l| l.starts_with("WebWalkerQA: stale: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(stale.contains(&result.display().to_string()), "{stale}");
    assert!(
        stale.contains(": rerun specsim calibrate scenarios/paper/webwalkerqa.json --observe scenarios/paper/calibrate/webwalkerqa.observe.json"),
        "{stale}"
    );
    assert!(
        !stdout.contains("calibration of paper: WebWalkerQA"),
        "{stdout}"
    );
    assert!(stdout.contains("MuWC: from "), "{stdout}");
    assert!(stdout.contains("calibration of paper: MuWC"), "{stdout}");
    // No stored answer at all.
    std::fs::remove_file(dir.join("calibrate/muwc.result.json")).unwrap();
    let stdout = run(dir);
    let missing = stdout
        .lines()
        .find(|l| l.starts_with("MuWC: no stored calibration: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        missing.contains("muwc.result.json: cannot read"),
        "{missing}"
    );
}
