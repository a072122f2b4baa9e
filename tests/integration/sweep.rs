//! `specsim sweep` and `specsim merge`: determinism, shards, resume, bad input.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{json, Value};

fn specsim() -> Command {
    Command::cargo_bin("specsim").unwrap()
}

/// A small, fast scenario with a 3 x 3 x 2 sweep (18 cells).
fn scenario(extra_capacity: bool) -> Value {
    let mut caps = vec![json!(2), json!(5), json!(10)];
    if extra_capacity {
        caps.insert(1, json!(3));
    }
    json!({
        "name": "sweep test",
        "replications": 3,
        "sessions": 8,
        "site": {"generator": "hierarchical", "pages": 400,
                 "out_degree": {"dist": "lognormal", "median": 12, "sigma": 0.5}},
        "fetch": {"dist": "lognormal", "median": 3.0, "sigma": 0.5},
        "agent": {"rounds": {"dist": "uniform", "low": 2, "high": 9}, "back_prob": 0.2},
        "target": {"latency": {"dist": "lognormal", "median": 4.0, "sigma": 0.4}},
        "drafts": [{"latency": {"latency": {"dist": "constant", "value": 0.8}},
                    "accuracy": {"top1": 0.6}}],
        "policies": ["none", "random", "speccache"],
        "sweep": {"grid": [
            {"path": "cache.capacity", "values": caps},
            {"path": "width", "values": [1, 3, 5]},
            {"path": "drafts[0].accuracy.top1", "values": [0.3, 0.9]}
        ]}
    })
}

fn write_scenario(dir: &Path, v: &Value) -> std::path::PathBuf {
    let p = dir.join("sweep.json");
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p
}

fn read(dir: &Path) -> (String, String, String) {
    let r = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    (r("results.csv"), r("results.jsonl"), r("manifest.json"))
}

fn sweep(scn: &Path, out: &Path, extra: &[&str]) {
    specsim()
        .arg("sweep")
        .arg(scn)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .assert()
        .success();
}

#[test]
fn threads_one_and_two_give_identical_files() {
    let t = tempfile::tempdir().unwrap();
    let scn = write_scenario(t.path(), &scenario(false));
    sweep(&scn, &t.path().join("a"), &["--threads", "1"]);
    sweep(&scn, &t.path().join("b"), &["--threads", "2"]);
    let a = read(&t.path().join("a"));
    assert_eq!(a, read(&t.path().join("b")));
    assert_eq!(a.1.lines().count(), 18 * 3, "one row per cell and policy");
    assert!(a
        .0
        .starts_with("cell,cache.capacity,width,drafts[0].accuracy.top1,policy,"));
}

#[test]
fn merged_shards_equal_the_single_run() {
    let t = tempfile::tempdir().unwrap();
    let scn = write_scenario(t.path(), &scenario(false));
    sweep(&scn, &t.path().join("all"), &[]);
    for i in 1..=3 {
        sweep(
            &scn,
            &t.path().join(format!("s{i}")),
            &["--shard", &format!("{i}/3")],
        );
    }
    // Slurm variables pick the shard when no flag is given.
    let s2 = t.path().join("slurm2");
    specsim()
        .args(["sweep", "--quiet", "--out"])
        .arg(&s2)
        .arg(&scn)
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .assert()
        .success();
    assert_eq!(read(&s2), read(&t.path().join("s2")));
    specsim()
        .arg("merge")
        .args(["s1", "s2", "s3"].map(|s| t.path().join(s)))
        .arg("--out")
        .arg(t.path().join("merged"))
        .assert()
        .success();
    assert_eq!(read(&t.path().join("all")), read(&t.path().join("merged")));
    // A missing shard is reported and the merge fails.
    specsim()
        .arg("merge")
        .args(["s1", "s3"].map(|s| t.path().join(s)))
        .arg("--out")
        .arg(t.path().join("partial"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("6 cells missing from every shard"));
}

#[test]
fn stopped_then_resumed_equals_uninterrupted() {
    let t = tempfile::tempdir().unwrap();
    let scn = write_scenario(t.path(), &scenario(false));
    sweep(&scn, &t.path().join("full"), &[]);
    let part = t.path().join("part");
    sweep(&scn, &part, &["--max-cells", "5"]);
    let m: Value = serde_json::from_str(&read(&part).2).unwrap();
    assert_eq!(m["cells_done"], 5);
    assert_eq!(m["complete"], false);
    specsim()
        .arg("sweep")
        .arg(&scn)
        .arg("--out")
        .arg(&part)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pass --resume"));
    sweep(&scn, &part, &["--resume"]);
    assert_eq!(read(&t.path().join("full")), read(&part));
}

/// The cell ids of a data file's rows, in file order, one per row.
fn row_cells(dir: &Path) -> (Vec<String>, Vec<String>) {
    let jsonl = std::fs::read_to_string(dir.join("results.jsonl")).unwrap_or_default();
    let from_jsonl = jsonl
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("every results.jsonl line is whole JSON");
            v["cell"].as_str().unwrap().to_string()
        })
        .collect();
    let mut from_csv = Vec::new();
    if let Ok(text) = std::fs::read_to_string(dir.join("results.csv")) {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        for rec in r.records() {
            from_csv.push(
                rec.expect("every results.csv row is whole")
                    .get(0)
                    .unwrap()
                    .to_string(),
            );
        }
    }
    (from_jsonl, from_csv)
}

/// Distinct consecutive values (the cells of a list of rows).
fn cells_of(rows: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rows {
        if out.last() != Some(r) {
            out.push(r.clone());
        }
    }
    out
}

/// Whatever instant a kill hit, the three files agree: the manifest commits `cells_done`
/// cells with a checksum each; both data files hold exactly those cells first, in the same
/// order, each with one row per policy; past them at most one batch a later write had begun
/// (rows the manifest does not commit, which readers ignore); and `--resume` accepts them.
fn check_consistent(dir: &Path, policies: usize, batch: usize) {
    let (jsonl, csv) = row_cells(dir);
    let Ok(man) = std::fs::read_to_string(dir.join("manifest.json")) else {
        // Killed before the first commit: nothing is committed and no row is written.
        assert!(
            jsonl.is_empty() && csv.is_empty(),
            "rows without a manifest"
        );
        return;
    };
    let m: Value = serde_json::from_str(&man).expect("the manifest is whole JSON");
    let committed: Vec<String> = m["committed"]
        .as_array()
        .expect("the manifest lists its committed cells")
        .iter()
        .map(|c| c["cell"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(m["cells_done"].as_u64().unwrap() as usize, committed.len());
    for rows in [&jsonl, &csv] {
        let cells = cells_of(rows);
        assert!(cells.len() >= committed.len(), "committed cells missing");
        assert_eq!(
            &cells[..committed.len()],
            &committed[..],
            "committed cells first, in order"
        );
        assert!(
            cells.len() - committed.len() <= batch,
            "more than one batch uncommitted"
        );
        assert_eq!(
            rows.len(),
            policies * cells.len(),
            "one row per cell and policy"
        );
    }
    let n = committed.len() * policies;
    assert_eq!(jsonl[..n], csv[..n], "both files hold the committed rows");
}

/// Temporary files an interrupted write may leave in `dir`.
fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".specsim-tmp"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn killed_at_many_instants_the_files_agree_and_resume_equals_uninterrupted() {
    let t = tempfile::tempdir().unwrap();
    let mut v = scenario(false);
    v["sessions"] = 30.into();
    v["replications"] = 4.into();
    // 24 cells: with one thread the sweep commits every 4 cells, 6 commits in all.
    v["sweep"]["grid"][0]["values"] = json!([2, 3, 5, 10]);
    let scn = write_scenario(t.path(), &v);
    let full = t.path().join("full");
    let started = std::time::Instant::now();
    sweep(&scn, &full, &["--threads", "1"]);
    let whole = started.elapsed();
    assert!(
        temp_files(&full).is_empty(),
        "a finished sweep leaves no temporary file"
    );
    let killed = t.path().join("killed");
    let bin = assert_cmd::cargo::cargo_bin("specsim");
    // Kill instants spread over a whole run (each run resumes the last one's results, so
    // later instants land in later batches, during resumes too).
    let instants = 16;
    let mut seen = std::collections::BTreeSet::new();
    for k in 0..instants {
        let mut child = std::process::Command::new(&bin)
            .arg("sweep")
            .arg(&scn)
            .arg("--out")
            .arg(&killed)
            .args(["--quiet", "--threads", "1", "--resume"])
            .spawn()
            .unwrap();
        let wait = whole.mul_f64((k as f64 + 0.5) / instants as f64 / 2.0);
        std::thread::sleep(wait);
        let _ = child.kill();
        let _ = child.wait();
        check_consistent(&killed, 3, 4);
        let (jsonl, _) = row_cells(&killed);
        seen.insert(cells_of(&jsonl).len());
        eprintln!(
            "kill {k} after {wait:?}: {} cells in results.jsonl, temporary files {:?}",
            cells_of(&jsonl).len(),
            temp_files(&killed)
        );
    }
    // The kills landed at several stages of the sweep, not all before or after it.
    assert!(
        seen.iter().filter(|&&n| n > 0 && n < 24).count() >= 2,
        "cells on disk at the kills: {seen:?}"
    );
    sweep(&scn, &killed, &["--resume", "--threads", "1"]);
    assert_eq!(read(&full), read(&killed));
    assert!(temp_files(&killed).is_empty(), "{:?}", temp_files(&killed));
}

/// `--resume` detects rows edited by hand, naming the file and the row.
#[test]
fn resume_detects_rows_edited_by_hand() {
    let t = tempfile::tempdir().unwrap();
    let scn = write_scenario(t.path(), &scenario(false));
    let out = t.path().join("o");
    sweep(&scn, &out, &["--max-cells", "5"]);
    let csv = out.join("results.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // Row 6 (after the header) is the second cell's second policy: change its speedup.
    let mut fields: Vec<String> = lines[5].split(',').map(String::from).collect();
    let last = fields.len() - 1;
    fields[last] = "9.99".into();
    lines[5] = fields.join(",");
    std::fs::write(&csv, lines.join("\n") + "\n").unwrap();
    specsim()
        .arg("sweep")
        .arg(&scn)
        .arg("--out")
        .arg(&out)
        .arg("--resume")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}: row 5: the rows of cell",
            csv.display()
        )))
        .stderr(predicate::str::contains(
            "differ from the ones manifest.json committed (checksum mismatch): edited or corrupted by hand?",
        ));
    // A corrupted JSON Lines row is named by its line.
    let jsonl = out.join("results.jsonl");
    let text = std::fs::read_to_string(&jsonl).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[7] = lines[7].replacen("\"policy\":\"", "\"policy\":\"x", 1);
    std::fs::write(&jsonl, lines.join("\n") + "\n").unwrap();
    specsim()
        .arg("sweep")
        .arg(&scn)
        .arg("--out")
        .arg(&out)
        .arg("--resume")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}: line 7: the rows of cell",
            jsonl.display()
        )));
}

#[test]
fn adding_an_axis_value_leaves_other_rows_unchanged() {
    let t = tempfile::tempdir().unwrap();
    let a = write_scenario(t.path(), &scenario(false));
    sweep(&a, &t.path().join("a"), &[]);
    let dir_b = t.path().join("more");
    std::fs::create_dir(&dir_b).unwrap();
    let b = write_scenario(&dir_b, &scenario(true));
    sweep(&b, &t.path().join("b"), &[]);
    let rows_a = read(&t.path().join("a")).1;
    let rows_b = read(&t.path().join("b")).1;
    assert_eq!(rows_b.lines().count(), 24 * 3);
    for line in rows_a.lines() {
        assert!(rows_b.lines().any(|l| l == line), "row changed: {line}");
    }
}

fn rejects(v: &Value, expected: &str) {
    let t = tempfile::tempdir().unwrap();
    let scn = write_scenario(t.path(), v);
    specsim()
        .arg("sweep")
        .arg(&scn)
        .arg("--out")
        .arg(t.path().join("o"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(expected));
}

#[test]
fn bad_axes_are_rejected_by_name() {
    let mut v = scenario(false);
    v["sweep"]["grid"][0]["path"] = "cache.capacty".into();
    rejects(
        &v,
        "sweep.grid[0].values[0]: value 2 for `cache.capacty` is invalid: cache.capacty: unknown field `capacty`",
    );
    let mut v = scenario(false);
    v["sweep"]["grid"][1]["path"] = "drafts[4].name".into();
    rejects(
        &v,
        "sweep.grid[1].values[0]: field path `drafts[4].name` does not exist: index 4 of a list of 1",
    );
    let mut v = scenario(false);
    v["sweep"]["grid"][1]["values"] = json!([]);
    rejects(&v, "sweep.grid[1].values: axis `width` has no values");
    let mut v = scenario(false);
    v["sweep"]["grid"][1]["values"] = json!([3, "wide"]);
    rejects(
        &v,
        "sweep.grid[1].values[1]: value \"wide\" for `width` is invalid: width: invalid type: string \"wide\", expected u32",
    );
    let mut v = scenario(false);
    v["sweep"]["grid"][2]["values"] = json!([0.5, 1.5]);
    rejects(
        &v,
        "value 1.5 for `drafts[0].accuracy.top1` is invalid: drafts[0].accuracy.top1: must be a probability in [0, 1], got 1.5",
    );
    let mut v = scenario(false);
    v.as_object_mut().unwrap().remove("sweep");
    rejects(&v, "sweep: is missing");
}

#[test]
fn bad_shard_and_mismatched_merge_are_rejected() {
    let t = tempfile::tempdir().unwrap();
    let scn = write_scenario(t.path(), &scenario(false));
    specsim()
        .arg("sweep")
        .arg(&scn)
        .args(["--out", "x", "--shard", "4/3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid shard `4/3`"));
    sweep(&scn, &t.path().join("a"), &["--shard", "1/2"]);
    let other = t.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let mut v = scenario(false);
    v["seed"] = 99.into();
    let scn2 = write_scenario(&other, &v);
    sweep(&scn2, &t.path().join("b"), &["--shard", "2/2"]);
    specsim()
        .arg("merge")
        .arg(t.path().join("a"))
        .arg(t.path().join("b"))
        .arg("--out")
        .arg(t.path().join("m"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "is a shard of a different scenario",
        ));
}

/// Issue 16: `merge` overwrote an existing `--out` while `sweep` refuses one.
#[test]
fn merge_refuses_an_existing_non_empty_out() {
    let t = tempfile::tempdir().unwrap();
    let mut v = scenario(false);
    v["sweep"]["grid"] = json!([{"path": "width", "values": [1, 2]}]);
    let scn = write_scenario(t.path(), &v);
    sweep(&scn, &t.path().join("s1"), &["--shard", "1/2"]);
    sweep(&scn, &t.path().join("s2"), &["--shard", "2/2"]);
    let out = t.path().join("merged");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    specsim()
        .arg("merge")
        .args(["s1", "s2"].map(|s| t.path().join(s)))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "exists and is not empty; merge writes results.jsonl, results.csv, manifest.json there and never overwrites results",
        ));
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(!out.join("manifest.json").exists());
    // An empty directory is fine.
    let empty = t.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    specsim()
        .arg("merge")
        .args(["s1", "s2"].map(|s| t.path().join(s)))
        .arg("--out")
        .arg(&empty)
        .assert()
        .success();
    assert_eq!(read(&empty).1.lines().count(), 2 * 3);
}

/// Issue 16: a missing shard was listed as every one of its raw cell ids.
#[test]
fn a_missing_shard_is_summarised_not_listed() {
    let t = tempfile::tempdir().unwrap();
    let scn = write_scenario(t.path(), &scenario(false));
    sweep(&scn, &t.path().join("s1"), &["--shard", "1/3"]);
    sweep(&scn, &t.path().join("s3"), &["--shard", "3/3"]);
    // Shard 2 stopped after 2 of its 6 cells.
    sweep(
        &scn,
        &t.path().join("s2"),
        &["--shard", "2/3", "--max-cells", "2"],
    );
    let out = specsim()
        .arg("merge")
        .args(["s1", "s3"].map(|s| t.path().join(s)))
        .arg("--out")
        .arg(t.path().join("m1"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("error: 6 cells missing from every shard: shard 2/3 was not given (6 cells) (cells are numbered 0..17 in enumeration order)"),
        "{err}"
    );
    let ids: Value = serde_json::from_str(&read(&t.path().join("s1")).2).unwrap();
    for id in ids["cell_ids"].as_array().unwrap() {
        assert!(!err.contains(id.as_str().unwrap()), "raw cell id in {err}");
    }
    let out = specsim()
        .arg("merge")
        .args(["s1", "s2", "s3"].map(|s| t.path().join(s)))
        .arg("--out")
        .arg(t.path().join("m2"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("4 cells missing from every shard: shard 2/3 is incomplete (4 of its 6 cells missing: cells 7, 10, 13, 16;"),
        "{err}"
    );
}

/// Issue 16: Slurm task 3 of a 3-task array blamed shard `4/3`, which the user never typed,
/// and the `--help` example named its output after the task but ran another shard.
#[test]
fn slurm_ids_are_explained_and_the_help_example_is_true() {
    let t = tempfile::tempdir().unwrap();
    let mut v = scenario(false);
    v["sweep"]["grid"] = json!([{"path": "width", "values": [1, 2, 3, 4, 5, 6, 7, 8]}]);
    v["replications"] = 2.into();
    v["sessions"] = 2.into();
    let scn = write_scenario(t.path(), &v);
    let out = specsim()
        .arg("sweep")
        .arg(&scn)
        .arg("--out")
        .arg(t.path().join("x"))
        .env("SLURM_ARRAY_TASK_ID", "3")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("SLURM_ARRAY_TASK_ID=3 is not a task of the array (SLURM_ARRAY_TASK_MIN unset (0), SLURM_ARRAY_TASK_COUNT=3): the task IDs run 0..=2, and the shard is read from the ID as 0-based"),
        "{err}"
    );
    assert!(!err.contains("4/3"), "{err}");
    // The help's example: task 3 of 8 runs shard 4/8, and the help says so.
    let help = specsim().args(["sweep", "--help"]).output().unwrap().stdout;
    let help = String::from_utf8(help).unwrap();
    assert!(
        help.contains("SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_COUNT=8 specsim sweep grid.json --out results/task3"),
        "{help}"
    );
    assert!(help.contains("task 3 of 8 runs shard 4/8"), "{help}");
    let dir = t.path().join("task3");
    specsim()
        .args(["sweep", "--quiet", "--out"])
        .arg(&dir)
        .arg(&scn)
        .env("SLURM_ARRAY_TASK_ID", "3")
        .env("SLURM_ARRAY_TASK_COUNT", "8")
        .assert()
        .success();
    let m: Value = serde_json::from_str(&read(&dir).2).unwrap();
    assert_eq!(m["shard"], "4/8");
}

/// Cells of one family (same workload, different prefetching) share their prepared
/// replications and the policy runs their rules allow (`runner::Family`, `runner::run_rules`):
/// every row equals the one the cell gives run on its own. The grid has two families
/// (`agent.back_prob`), each with two fetchers (`fetcher.slots`), plus axes the families
/// share, and every policy: `none` is shared across cache, width and draft, `cache` and
/// `oracle` across width and draft, `random` across draft, `speccache` never.
#[test]
fn cells_sharing_a_family_give_the_rows_they_give_alone() {
    use specsim::scenario::ScenarioFile;
    use specsim::sweep::run::{cell_rows, run, RunOptions};
    use specsim::sweep::Sweep;

    let mut v = scenario(false);
    v["policies"] = json!(["none", "cache", "random", "speccache", "oracle"]);
    v["sweep"] = json!({"seeds": "shared", "grid": [
        {"path": "agent.back_prob", "values": [0.0, 0.3]},
        {"path": "fetcher.slots", "values": [1, 3]},
        {"path": "cache.capacity", "values": [2, 10]},
        {"path": "width", "values": [1, 3]},
        {"path": "drafts[0].accuracy.top1", "values": [0.3, 0.9]}
    ]});
    let file = ScenarioFile::from_value(v, "family").unwrap();
    let sweep = Sweep::new(file, "family", None).unwrap();
    assert_eq!(sweep.cells.len(), 32);
    let families: std::collections::BTreeSet<_> = sweep
        .cells
        .iter()
        .map(|c| sweep.family(c).unwrap())
        .collect();
    assert_eq!(
        families.len(),
        2,
        "back_prob splits families, the other axes do not"
    );
    let dir = tempfile::tempdir().unwrap();
    let finished = run(&sweep, dir.path(), &RunOptions::default(), &mut |_| {}).unwrap();
    let shared: Vec<&Value> = finished.results.rows().collect();
    let alone: Vec<Value> = sweep
        .cells
        .iter()
        .flat_map(|c| cell_rows(&sweep, c).unwrap())
        .collect();
    assert_eq!(shared.len(), 32 * 5);
    for (a, b) in shared.iter().zip(&alone) {
        assert_eq!(*a, b, "cell {}", b["cell"]);
    }
    // What makes sharing sound, on the rows of cells run alone: a policy's row (without the
    // cell's name and coordinates) depends on no axis its rules leave out, and does on
    // those they keep (`fetcher.slots` queues the demand fetches of every policy).
    let result = |policy: &str, axes: &[(&str, Value)]| -> Vec<Value> {
        let mut rows: Vec<Value> = alone
            .iter()
            .filter(|r| r["policy"] == policy)
            .filter(|r| axes.iter().all(|(k, x)| r["axes"][*k] == *x))
            .map(|r| {
                let mut r = r.clone();
                let o = r.as_object_mut().unwrap();
                o.remove("cell");
                o.remove("axes");
                r
            })
            .collect();
        rows.dedup();
        rows
    };
    let family = |slots: u64| {
        vec![
            ("agent.back_prob", json!(0.3)),
            ("fetcher.slots", json!(slots)),
        ]
    };
    let with = |mut axes: Vec<(&'static str, Value)>, more: &[(&'static str, Value)]| {
        axes.extend_from_slice(more);
        axes
    };
    assert_eq!(
        result("none", &family(3)).len(),
        1,
        "none: one run per fetcher"
    );
    assert_ne!(result("none", &family(1)), result("none", &family(3)));
    for cache in [2, 10] {
        let at = with(family(3), &[("cache.capacity", json!(cache))]);
        assert_eq!(result("cache", &at).len(), 1, "cache: one run per capacity");
        assert_eq!(
            result("oracle", &at).len(),
            1,
            "oracle: one run per capacity"
        );
        for width in [1, 3] {
            let at = with(at.clone(), &[("width", json!(width))]);
            assert_eq!(result("random", &at).len(), 1, "random: one run per width");
            assert_eq!(
                result("speccache", &at).len(),
                2,
                "speccache: one per accuracy"
            );
        }
        let at = with(family(3), &[("width", json!(3))]);
        assert_ne!(
            result("random", &with(at.clone(), &[("cache.capacity", json!(2))])),
            result("random", &with(at, &[("cache.capacity", json!(10))]))
        );
    }
}
