//! The binary: exit codes, error messages naming file, field and value.

use assert_cmd::Command;
use predicates::prelude::*;
use std::io::Write;

fn specsim() -> Command {
    Command::cargo_bin("specsim").unwrap()
}

#[test]
fn default_run_prints_one_row_per_policy() {
    let out = specsim().arg("run").assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for p in ["none", "cache", "random", "speccache", "oracle"] {
        assert!(text.contains(&format!(" {p} ")), "row {p} missing:\n{text}");
    }
    assert!(text.contains("speedup [95% CI]"));
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("wall time"), "wall time goes to stderr: {err}");
}

#[test]
fn json_report_has_documented_fields() {
    let out = specsim()
        .args(["run", "--json", "--seed", "3"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["tool"], "specsim");
    assert_eq!(v["seed"], 3);
    let rows = v["policies"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    let spec = rows.iter().find(|r| r["policy"] == "speccache").unwrap();
    for f in [
        "iter_latency_s",
        "speedup_ci_lo",
        "hit_rate",
        "web_reduction",
        "exposed_web_s",
    ] {
        assert!(spec[f].is_number(), "field {f}");
    }
    assert!(spec["speedup"].as_f64().unwrap() > 1.0);
}

fn with_file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

/// The default scenario with one field replaced (a JSON pointer) by `value`.
fn default_with(pointer: &str, value: serde_json::Value) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(specsim::scenario::DEFAULT_SCENARIO).unwrap();
    *v.pointer_mut(pointer).unwrap() = value;
    v.to_string()
}

fn rejects(text: &str, expected: &str) {
    let f = with_file(text);
    let name = f.path().display().to_string();
    specsim()
        .arg("run")
        .arg(f.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{name}: {expected}")));
}

#[test]
fn negative_latency_is_rejected() {
    rejects(
        &default_with(
            "/fetch",
            serde_json::json!({"dist": "constant", "value": -1}),
        ),
        "fetch.value: must be a finite number >= 0, got -1",
    );
}

#[test]
fn probability_out_of_range_is_rejected() {
    rejects(
        &default_with("/agent/back_prob", 1.5.into()),
        "agent.back_prob: must be a probability in [0, 1], got 1.5",
    );
    rejects(
        &default_with("/drafts/0/accuracy", serde_json::json!({"top1": -0.1})),
        "drafts[0].accuracy.top1: must be a probability in [0, 1], got -0.1",
    );
}

#[test]
fn width_zero_is_rejected() {
    rejects(
        &default_with("/width", 0.into()),
        "width: must be at least 1 (the prefetch width k), got 0",
    );
}

#[test]
fn impossible_distribution_is_rejected() {
    rejects(
        &default_with(
            "/target",
            serde_json::json!({"latency": {"dist": "gamma", "shape": 0, "scale": 1}}),
        ),
        "target.latency.shape: must be a finite number > 0, got 0",
    );
}

#[test]
fn edge_to_missing_page_is_rejected() {
    rejects(
        &default_with(
            "/site",
            serde_json::json!({"generator": "inline", "edges": [[0, 1]], "pages": [{}, {}],
                               "root": 0}),
        )
        .replace("[[0,1]]", "[[0,1],[1,9]]"),
        "site.edges[1][1]: page 9 does not exist (the site has pages 0..1)",
    );
}

#[test]
fn unknown_field_is_rejected_with_its_path() {
    rejects(
        &default_with("/cache", serde_json::json!({"capacity": 10, "size": 3})),
        "cache.size: unknown field `size`, expected one of `capacity`, `eviction`, `scope`",
    );
}

#[test]
fn wrong_type_is_rejected_with_its_path() {
    rejects(
        &default_with("/width", "three".into()),
        "width: invalid type: string \"three\", expected u32",
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut v: serde_json::Value =
        serde_json::from_str(specsim::scenario::DEFAULT_SCENARIO).unwrap();
    v["width"] = 0.into();
    v["replications"] = 1.into();
    let f = with_file(&v.to_string());
    specsim()
        .arg("run")
        .arg(f.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("replications: must be at least 2"))
        .stderr(predicate::str::contains("width: must be at least 1"));
}

#[test]
fn malformed_json_names_line_and_column() {
    rejects(
        "{\n  \"name\": \"x\",\n  oops\n}",
        "line 3 column 3: key must be a string",
    );
}

#[test]
fn missing_file_is_a_clear_error() {
    specsim()
        .args(["run", "/nonexistent/scenario.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "/nonexistent/scenario.json: cannot read scenario",
        ));
}

#[test]
fn bad_flag_is_a_usage_error() {
    specsim()
        .args(["run", "--threads", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--threads"));
}

#[test]
fn help_has_examples() {
    specsim()
        .args(["run", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"));
}

#[test]
fn run_and_sweep_draw_figures_with_plots() {
    let t = tempfile::tempdir().unwrap();
    let figs = t.path().join("figs");
    specsim()
        .args(["run", "--seed", "5", "--plots"])
        .arg(&figs)
        .assert()
        .success()
        .stderr(predicate::str::contains("figure files to"));
    for f in [
        "breakdown.png",
        "breakdown.svg",
        "cdf_iteration.svg",
        "cdf_session.png",
    ] {
        let len = std::fs::metadata(figs.join(f))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 1000, "{f} missing or empty");
    }
    let svg = std::fs::read_to_string(figs.join("breakdown.svg")).unwrap();
    assert!(svg.contains("speccache") && svg.contains("oracle"));

    let mut v: serde_json::Value =
        serde_json::from_str(specsim::scenario::DEFAULT_SCENARIO).unwrap();
    v["replications"] = 2.into();
    v["sessions"] = 5.into();
    v["sweep"] = serde_json::json!({"grid": [{"path": "width", "values": [1, 3]}]});
    let scn = t.path().join("s.json");
    std::fs::write(&scn, v.to_string()).unwrap();
    let sfigs = t.path().join("sweep-figs");
    specsim()
        .arg("sweep")
        .arg(&scn)
        .arg("--out")
        .arg(t.path().join("out"))
        .arg("--quiet")
        .arg("--plots")
        .arg(&sfigs)
        .assert()
        .success();
    let drawn: Vec<_> = std::fs::read_dir(&sfigs).unwrap().collect();
    assert!(drawn.len() >= 4, "sweep figures: {}", drawn.len());
}

#[test]
fn run_progress_stays_off_pipes_and_quiet_silences_stderr() {
    // Piped (as here): no progress bar, only the wall-time line.
    let out = specsim().args(["run", "--seed", "5"]).assert().success();
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("wall time"), "{err}");
    assert!(!err.contains("replications"), "no bar when piped: {err:?}");
    assert!(!err.contains('\r') && !err.contains('\u{1b}'), "{err:?}");
    // --quiet: nothing on stderr, the same report on stdout.
    let quiet = specsim()
        .args(["run", "--seed", "5", "--quiet"])
        .assert()
        .success();
    assert_eq!(
        String::from_utf8_lossy(&quiet.get_output().stderr),
        "",
        "--quiet"
    );
    assert_eq!(quiet.get_output().stdout, out.get_output().stdout);
    specsim()
        .args(["run", "-q", "--trace"])
        .arg(format!(
            "{}/traces/example.jsonl",
            env!("CARGO_MANIFEST_DIR")
        ))
        .assert()
        .success()
        .stderr("");
}

#[test]
fn run_with_a_scenario_and_a_trace_says_how_to_combine_them() {
    // Regression: clap's bare "cannot be used with '--trace <TRACE>'".
    let root = env!("CARGO_MANIFEST_DIR");
    let trace = format!("{root}/traces/example.jsonl");
    let out = specsim()
        .args([
            "run",
            &format!("{root}/scenarios/default.json"),
            "--trace",
            &trace,
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "--trace {trace}: not with a scenario file"
        )))
        .stderr(predicate::str::contains(format!(
            "\"trajectories\": {{\"trace\": \"{trace}\"}}"
        )))
        .stderr(predicate::str::contains(format!(
            "run `specsim run {trace}`"
        )));
    // The hint works: the scenario with the trace pasted in replays it.
    let msg = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(msg.contains("replace its `site` and `agent`"), "{msg}");
    let mut v: serde_json::Value =
        serde_json::from_str(specsim::scenario::DEFAULT_SCENARIO).unwrap();
    let obj = v.as_object_mut().unwrap();
    obj.remove("site");
    obj.remove("agent");
    obj.insert("trajectories".into(), serde_json::json!({ "trace": trace }));
    let f = with_file(&v.to_string());
    specsim()
        .arg("run")
        .arg(f.path())
        .arg("-q")
        .assert()
        .success();
}

#[test]
fn top_level_help_groups_commands_by_task() {
    // Regression: the commands were listed in no order.
    for flag in ["--help", "-h"] {
        let out = specsim().arg(flag).assert().success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        let at = |s: &str| {
            text.find(s)
                .unwrap_or_else(|| panic!("{flag}: no {s:?} in\n{text}"))
        };
        let groups = [
            ("Simulate:", &["run", "reproduce"][..]),
            ("Sweep and plot:", &["sweep", "merge", "plot"][..]),
            ("Data:", &["import", "fit", "latency-study"][..]),
            (
                "Live:",
                &["live", "serve-site", "serve-llm", "validate"][..],
            ),
        ];
        let mut previous = 0;
        for (i, (heading, commands)) in groups.iter().enumerate() {
            let start = at(&format!("\n{heading}\n"));
            assert!(start > previous, "{heading} out of order");
            let end = groups
                .get(i + 1)
                .map_or_else(|| at("\nOptions:"), |(h, _)| at(&format!("\n{h}\n")));
            for c in *commands {
                let line = format!("\n  {c} ");
                let pos = text[start..end]
                    .find(&line)
                    .unwrap_or_else(|| panic!("{c} not under {heading}:\n{text}"));
                assert!(pos > 0);
            }
            previous = start;
        }
        assert!(!text.contains("Other commands"), "{text}");
        assert!(text.contains("Examples:"), "the examples stay");
    }
}

#[test]
fn readme_says_how_to_put_specsim_on_path() {
    // Regression: every example used the bare name `specsim`, and the README never said
    // how to get it, nor that the first build takes minutes.
    let readme =
        std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let two = readme
        .find("## The two commands")
        .expect("the two commands");
    let install = readme.find("cargo install --path .").expect("install");
    assert!(install > two, "after the two commands");
    assert!(readme[two..install].contains("The first build"));
    assert!(readme.contains("cargo run --release -- run    # the embedded"));
    assert!(readme.contains("cargo test                    # the test suite"));
}
