//! Importers of navigation paths: fixtures, corrupted fixtures, and the real data sets.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use specsim::data::navigation::{wiki_speedrun, wikispeedia};

use super::common::data_dir;
use specsim::io::replay::load_trace;
use specsim::sim::trajectory::Action;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/navigation")
}

#[test]
fn wikispeedia_fixture_becomes_a_graph_a_trace_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = wikispeedia::Outputs {
        trace: dir.path().join("w.jsonl"),
        graph: dir.path().join("w.graph.json"),
        summary: Some(dir.path().join("s.json")),
    };
    let s = wikispeedia::import(&fixtures().join("wikispeedia"), &out, None, true).unwrap();
    let o = &s.overall;
    assert_eq!((o.paths, o.actions, o.clicks, o.backs), (4, 12, 10, 2));
    assert_eq!(s.skipped["no click"], 1);
    assert_eq!(s.groups["finished"].won_rate, Some(1.0));
    assert_eq!(s.groups["unfinished"].won_rate, Some(0.0));
    assert_eq!(s.extra["graph_pages"], 5.0);
    assert_eq!(s.extra["graph_links"], 7.0);
    assert_eq!(s.extra["clicks_not_in_links_tsv"], 1.0);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("s.json")).unwrap()).unwrap();
    assert_eq!(summary["overall"]["backs"], 2);

    let r = load_trace(&out.trace).unwrap();
    assert_eq!(
        r.sessions,
        vec!["finished:3", "finished:4", "unfinished:3", "unfinished:5"]
    );
    assert_eq!(
        r.site.page_count(),
        6,
        "5 articles + `Nowhere`, clicked but not in links.tsv"
    );
    assert_eq!(r.stats.clicks_off_links, 1);
    // h2: A;C;<;B;D, 40 s over 4 actions.
    let t = &r.trajectories[1];
    let name = |p| r.site.page(p).name.as_str();
    let steps: Vec<(Action, &str)> = t.steps.iter().map(|s| (s.action, name(s.page))).collect();
    assert_eq!(
        steps,
        vec![
            (Action::Click, "C"),
            (Action::Back, "A"),
            (Action::Click, "B"),
            (Action::Click, "D")
        ]
    );
    let target = t.steps[0].recorded.as_ref().unwrap().target.unwrap();
    assert_eq!(target.0, 10_000_000_000);
    // The timeout game's 1800 idle seconds are not spread over its clicks: 30 s / 3.
    let target = r.trajectories[2].steps[0]
        .recorded
        .as_ref()
        .unwrap()
        .target
        .unwrap();
    assert_eq!(target.0, 10_000_000_000);
    // The graph's links are the site's: A links to B and C.
    let a = r.trajectories[0].root;
    let links: Vec<&str> = r.site.links(a).iter().map(|&p| name(p)).collect();
    assert_eq!(links, vec!["B", "C"]);
}

#[test]
fn corrupted_wikispeedia_files_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = wikispeedia::Outputs {
        trace: dir.path().join("w.jsonl"),
        graph: dir.path().join("w.graph.json"),
        summary: None,
    };
    let e = wikispeedia::import(&fixtures().join("wikispeedia_bad"), &out, None, true)
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with(
            "paths_unfinished.tsv:4: path: back click `<` at position 1 with no page to go back to"
        ),
        "{e}"
    );
    std::fs::write(dir.path().join("links.tsv"), "# c\nA\tB\nA\tB\tC\n").unwrap();
    let e = wikispeedia::import(dir.path(), &out, None, true)
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("links.tsv:3: expected 2 tab-separated fields (linkSource, linkTarget), got 3"),
        "{e}"
    );
    std::fs::write(dir.path().join("links.tsv"), "A\tB\n").unwrap();
    std::fs::write(
        dir.path().join("paths_finished.tsv"),
        "h\t1\tsoon\tA;B\tNULL\n",
    )
    .unwrap();
    let e = wikispeedia::import(dir.path(), &out, None, true)
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with(
            "paths_finished.tsv:1: durationInSec: must be a number of seconds >= 0, got `soon`"
        ),
        "{e}"
    );
    assert!(!out.trace.exists(), "nothing is written on bad input");
}

#[test]
fn wiki_speedrun_fixture_becomes_a_trace_per_agent() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("s.jsonl");
    let s = wiki_speedrun::import(
        &fixtures().join("speedrun.jsonl"),
        &trace,
        None,
        &[],
        Some(4),
    )
    .unwrap();
    assert_eq!(s.overall.paths, 2);
    assert_eq!(s.skipped["error"], 1);
    assert_eq!(s.skipped["no click"], 1);
    assert_eq!(
        s.groups["llm-b"].click_revisit_rate, 0.5,
        "Potato -> Food -> Potato"
    );
    let r = load_trace(&trace).unwrap();
    assert_eq!(r.sessions, vec!["llm-a:1", "llm-b:2"]);
    // 6 s over 3 clicks.
    let rec = r.trajectories[0].steps[2].recorded.as_ref().unwrap();
    assert_eq!(rec.target.unwrap().0, 2_000_000_000);
    // out_degree 4: every page has 4 links, the clicked one among them.
    let root = r.trajectories[0].root;
    assert_eq!(r.site.links(root).len(), 4);
    assert_eq!(r.site.links(root)[0], r.trajectories[0].steps[0].page);
    // One agent only.
    let s = wiki_speedrun::import(
        &fixtures().join("speedrun.jsonl"),
        &trace,
        None,
        &["llm-b".to_string()],
        None,
    )
    .unwrap();
    assert_eq!(s.overall.paths, 1);
    assert_eq!(s.groups.keys().collect::<Vec<_>>(), vec!["llm-b"]);
}

#[test]
fn corrupted_wiki_speedrun_lines_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let e = wiki_speedrun::import(
        &fixtures().join("speedrun_bad.jsonl"),
        &dir.path().join("x.jsonl"),
        None,
        &[],
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.ends_with("speedrun_bad.jsonl:2: missing field `time_seconds`"),
        "{e}"
    );
}

#[test]
fn cli_imports_and_replays_and_rejects_bad_input_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("w.jsonl");
    Command::cargo_bin("specsim")
        .unwrap()
        .args(["import", "wikispeedia"])
        .arg(fixtures().join("wikispeedia"))
        .arg("--out")
        .arg(&trace)
        .assert()
        .success()
        .stderr(predicate::str::contains("4 paths, 12 actions (2 back"));
    assert!(dir.path().join("w.graph.json").exists());
    Command::cargo_bin("specsim")
        .unwrap()
        .args(["run", "--json"])
        .arg(&trace)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"site_pages\": 6"));
    Command::cargo_bin("specsim")
        .unwrap()
        .args(["import", "wiki-speedrun"])
        .arg(fixtures().join("speedrun_bad.jsonl"))
        .arg("--out")
        .arg(dir.path().join("x.jsonl"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "speedrun_bad.jsonl:2: missing field `time_seconds`",
        ));
}

#[test]
fn real_data_sets_import_and_replay() {
    let data = data_dir();
    let wsp = data.join("wikispeedia");
    let speedrun = data.join("wiki_speedrun/benchmark_results.jsonl");
    if !wsp.join("links.tsv").exists() || !speedrun.exists() {
        println!(
            "skipped: data not found at {} (set SPECSIM_DATA_DIR)",
            data.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = wikispeedia::Outputs {
        trace: dir.path().join("w.jsonl"),
        graph: dir.path().join("w.graph.json"),
        summary: None,
    };
    let s = wikispeedia::import(&wsp, &out, Some(300), true).unwrap();
    // The README's counts: 4,604 articles, 119,882 links, 24,875 unfinished paths.
    assert_eq!(s.extra["graph_pages"], 4604.0);
    assert_eq!(s.extra["graph_links"], 119_882.0);
    let total = s.overall.paths + s.skipped.values().sum::<u64>();
    let finished = wsp.join("paths_finished.tsv").exists();
    if !finished {
        assert_eq!(total, 24_875);
    }
    assert!(
        s.overall.backs > 0 && s.overall.back_rate < 0.5,
        "{:?}",
        s.overall
    );
    let r = load_trace(&out.trace).unwrap();
    assert_eq!(r.trajectories.len(), 300);
    assert!(r.site.page_count() >= 4604);
    let s =
        wiki_speedrun::import(&speedrun, &dir.path().join("s.jsonl"), None, &[], Some(81)).unwrap();
    assert_eq!(s.overall.paths + s.skipped.values().sum::<u64>(), 420);
    assert_eq!(s.groups.len(), 12, "12 agents");
    let r = load_trace(&dir.path().join("s.jsonl")).unwrap();
    assert_eq!(r.trajectories.len() as u64, s.overall.paths);
}

/// Four games of agents named as the benchmark file names them.
fn speedrun_agents_file(dir: &std::path::Path) -> std::path::PathBuf {
    let game = |agent: &str, error: &str| {
        format!(
            r#"{{"agent": "{agent}", "start": "A", "target": "C", "won": true, "clicks": 2, "time_seconds": 4.0, "path": ["A", "B", "C"], "error": "{error}"}}"#
        )
    };
    let file = dir.join("benchmark_results.jsonl");
    let lines = [
        game("llm-gpt-4o-mini", ""),
        game("llm-gemini-2.0-flash-001", ""),
        game("llm-gpt-5-mini", ""),
        game("llm-gpt-5-nano", ""),
        game("live-bge-large-en-v1.5", "timeout"),
    ];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    file
}

#[test]
fn speedrun_agents_by_the_readme_names() {
    // Regression: `--agent gpt-4o-mini` (the data README's name) matched nothing and wrote
    // an empty trace with exit 0.
    let dir = tempfile::tempdir().unwrap();
    let file = speedrun_agents_file(dir.path());
    let out = dir.path().join("s.jsonl");
    for (wanted, agent) in [
        ("gpt-4o-mini", "llm-gpt-4o-mini"),
        ("llm-gpt-4o-mini", "llm-gpt-4o-mini"),
        ("gemini-2.0-flash", "llm-gemini-2.0-flash-001"),
        ("GPT-5-Nano", "llm-gpt-5-nano"),
    ] {
        let s = wiki_speedrun::import(&file, &out, None, &[wanted.to_string()], None).unwrap();
        assert_eq!(s.groups.keys().collect::<Vec<_>>(), [agent], "{wanted}");
        assert_eq!(s.overall.paths, 1);
    }
}

#[test]
fn speedrun_selection_that_keeps_nothing_is_an_error_listing_the_agents() {
    let dir = tempfile::tempdir().unwrap();
    let file = speedrun_agents_file(dir.path());
    let out = dir.path().join("s.jsonl");
    let err = |wanted: &str| {
        wiki_speedrun::import(&file, &out, None, &[wanted.to_string()], None)
            .unwrap_err()
            .to_string()
    };
    let e = err("gpt-4o");
    assert!(
        e.contains(
            "--agent gpt-4o: no such agent; the file's agents are: live-bge-large-en-v1.5 (1 games), llm-gemini-2.0-flash-001 (1 games), llm-gpt-4o-mini (1 games), llm-gpt-5-mini (1 games), llm-gpt-5-nano (1 games)"
        ),
        "{e}"
    );
    let e = err("gpt-5");
    assert!(e.contains("--agent gpt-5: no such agent"), "{e}");
    // Every game of the agent has an error: nothing to import.
    let e = err("bge-large-en-v1.5");
    assert!(
        e.contains("no game to import: the 1 game(s) of live-bge-large-en-v1.5 were all skipped (1 error); nothing written"),
        "{e}"
    );
    assert!(!out.exists(), "no empty trace");
    // Through the binary: exit 2 and the agents on stderr.
    Command::cargo_bin("specsim")
        .unwrap()
        .args(["import", "wiki-speedrun"])
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .args(["--agent", "claude"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--agent claude: no such agent"))
        .stderr(predicate::str::contains("llm-gpt-4o-mini (1 games)"));
    Command::cargo_bin("specsim")
        .unwrap()
        .args(["import", "wiki-speedrun"])
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .args(["--agent", "gpt-4o-mini"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "agents: llm-gpt-4o-mini (1 paths)",
        ));
}

#[test]
fn replaying_an_empty_trace_names_the_file_once() {
    // Regression: `e.jsonl: trajectories.trace: e.jsonl: the trace has no sessions`.
    let dir = tempfile::tempdir().unwrap();
    let file = speedrun_agents_file(dir.path());
    let out = dir.path().join("s.jsonl");
    wiki_speedrun::import(&file, &out, None, &[], None).unwrap();
    let header = std::fs::read_to_string(&out).unwrap();
    let empty = dir.path().join("e.jsonl");
    std::fs::write(&empty, header.lines().next().unwrap().to_string() + "\n").unwrap();
    let assert = Command::cargo_bin("specsim")
        .unwrap()
        .arg("run")
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "e.jsonl: the trace has no sessions: nothing to replay",
        ));
    let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert_eq!(err.matches("e.jsonl").count(), 1, "{err}");
}
