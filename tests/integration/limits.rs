//! Robust under abuse (issue 14): every reproducer of the issue ends in seconds with a clean
//! exit 2 naming the field, never a panic (101) or an allocation abort (134); limits and the
//! memory estimate refuse what would not fit.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{json, Value};

fn specsim() -> Command {
    let mut c = Command::cargo_bin("specsim").unwrap();
    c.timeout(Duration::from_secs(30));
    c
}

const TARGET: &str = r#"{"latency": {"dist": "constant", "value": 1}}"#;

fn mixture() -> Value {
    json!({"dist": "mixture", "components": [
        {"weight": 1e308, "dist": {"dist": "constant", "value": 1}},
        {"weight": 1e308, "dist": {"dist": "constant", "value": 2}}]})
}

/// A small walkable scenario without speccache (so no draft is needed).
fn small() -> Value {
    json!({
        "replications": 2, "sessions": 3,
        "site": {"generator": "hierarchical", "pages": 50,
                 "out_degree": {"dist": "constant", "value": 3}},
        "agent": {"rounds": {"dist": "constant", "value": 3}},
        "fetch": {"dist": "constant", "value": 1},
        "target": serde_json::from_str::<Value>(TARGET).unwrap(),
        "policies": ["none", "cache", "random"]
    })
}

fn write(dir: &Path, name: &str, v: &Value) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p
}

/// Runs `specsim run FILE` and expects a clean exit 2 whose message contains `want`.
fn refused(v: &Value, want: &str) {
    let t = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/example.jsonl"),
        t.path().join("example.jsonl"),
    )
    .unwrap();
    let p = write(t.path(), "s.json", v);
    specsim()
        .arg("run")
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(want));
}

#[test]
fn mixture_weights_that_overflow_when_summed_are_refused_in_fetch_and_arrivals() {
    // The issue's reproducer as written (it has no draft, so that is reported too).
    let v = json!({"fetch": mixture(), "trajectories": {"trace": "example.jsonl"},
                   "target": {"latency": {"dist": "constant", "value": 1}}});
    refused(
        &v,
        "s.json: fetch.components: the weights sum to inf, past the largest number: scale them down",
    );
    let mut v = small();
    v["arrivals"] = json!({"process": "gaps", "gap": mixture()});
    refused(
        &v,
        "s.json: arrivals.gap.components: the weights sum to inf",
    );
}

#[test]
fn mixture_weights_that_overflow_as_a_sweep_axis_value_are_refused_before_anything_runs() {
    let t = tempfile::tempdir().unwrap();
    let mut v = small();
    v["sweep"] = json!({"grid": [{"path": "fetch", "values": [{"dist": "constant", "value": 1}, mixture()]}]});
    let p = write(t.path(), "s.json", &v);
    specsim()
        .arg("sweep")
        .arg(&p)
        .arg("--out")
        .arg(t.path().join("o"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "sweep.grid[0].values[1]: value {\"dist\":\"mixture\"",
        ))
        .stderr(predicate::str::contains(
            "fetch.components: the weights sum to inf",
        ));
    assert!(!t.path().join("o").exists(), "nothing is written");
}

#[test]
fn an_inline_site_implied_by_a_huge_page_index_is_refused_at_the_edge() {
    for page in [4294967295u64, 100_000_000] {
        let v = json!({"site": {"generator": "inline", "root": 0, "edges": [[0, page]]},
                       "agent": {"rounds": {"dist": "constant", "value": 3}},
                       "fetch": {"dist": "constant", "value": 1},
                       "target": {"latency": {"dist": "constant", "value": 1}},
                       "policies": ["none"]});
        refused(
            &v,
            &format!("s.json: site.edges[0][1]: page {page} makes a site of {} pages (without `pages`, the page count is one more than the largest index), over the limit of 10000000 pages", page + 1),
        );
    }
}

#[test]
fn trace_out_degrees_past_the_limit_are_refused_with_their_line() {
    let t = tempfile::tempdir().unwrap();
    let head = r#"{"type":"header","format":"specsim-trace","version":1}"#;
    for (session, iteration, line, field) in [
        (
            r#"{"type":"session","session":"a","root":"/","root_out_degree":4294967295}"#,
            r#"{"type":"iteration","session":"a","iteration":0,"action":"answer"}"#,
            2,
            "root_out_degree",
        ),
        (
            r#"{"type":"session","session":"a","root":"/"}"#,
            r#"{"type":"iteration","session":"a","iteration":0,"action":"click","page":"/x","out_degree":4294967295}"#,
            3,
            "out_degree",
        ),
    ] {
        let p = t.path().join(format!("{field}.jsonl"));
        std::fs::write(&p, format!("{head}\n{session}\n{iteration}\n")).unwrap();
        specsim()
            .arg("run")
            .arg(&p)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "{field}.jsonl:{line}: {field}: must be at most 100000"
            )));
    }
}

#[test]
fn huge_sizes_are_refused_by_field() {
    let cases = [
        (
            "sessions",
            json!(1_000_000_000u64),
            "sessions: must be at most 1000000 per replication",
        ),
        ("width", json!(2147483648u64), "width: must be at most 1000"),
        ("width", json!(4294967295u64), "width: must be at most 1000"),
        (
            "replications",
            json!(10_000_000u64),
            "replications: must be at most 100000",
        ),
    ];
    for (field, value, want) in cases {
        let mut v = small();
        v[field] = value;
        refused(&v, want);
    }
    // `rounds` of 1e9 is capped by max_rounds; a max_rounds past the limit is refused.
    let mut v = small();
    v["agent"] = json!({"rounds": {"dist": "constant", "value": 1e9}, "max_rounds": 4294967295u64});
    refused(&v, "agent.max_rounds: must be at most 100000");
    let mut v = small();
    v["agent"] = json!({"rounds": {"dist": "constant", "value": 1e9}});
    let t = tempfile::tempdir().unwrap();
    let p = write(t.path(), "s.json", &v);
    specsim().arg("run").arg(&p).assert().success();
}

#[test]
fn a_trace_at_dev_zero_is_refused_before_reading() {
    let mut v = small();
    v.as_object_mut().unwrap().remove("site");
    v.as_object_mut().unwrap().remove("agent");
    v["trajectories"] = json!({"trace": "/dev/zero"});
    refused(
        &v,
        "trajectories.trace: /dev/zero: cannot read trace: is a character device, not a regular file",
    );
    specsim()
        .args(["run", "--trace", "/dev/zero"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a character device"));
    specsim()
        .args(["run", "/dev/zero"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "/dev/zero: cannot read scenario: is a character device, not a regular file",
        ));
}

#[test]
fn an_out_degree_no_site_can_have_is_refused_not_generated_for_minutes() {
    let mut v = small();
    v["site"] = json!({"generator": "hierarchical", "pages": 5000,
                       "out_degree": {"dist": "constant", "value": 4294967296u64}});
    refused(
        &v,
        "site.out_degree: a mean out-degree of 4294967296 on 5000 pages makes about 24995000 links (a page links to at most the 4999 others), over the limit of 20000000 links",
    );
}

#[test]
fn a_run_over_the_memory_budget_is_refused_with_the_estimate() {
    let t = tempfile::tempdir().unwrap();
    let mut v = small();
    v["replications"] = json!(100_000);
    v["sessions"] = json!(1_000_000);
    let p = write(t.path(), "big.json", &v);
    // Within every field limit, but about 100 TB of latencies: refused whatever the machine.
    specsim()
        .arg("run")
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::is_match(
            r"big.json: the run would need about [0-9.]+ TiB of memory, more than the [0-9.]+ [KMGT]?i?B budget \(the memory this machine has available; --max-memory sets another\): [0-9.]+ TiB for the latencies kept for the report \(100000 replications x 3 policies x 1000000 sessions x 10 iterations\)",
        )
        .unwrap());
    // A small run under a tiny budget.
    let p = write(t.path(), "small.json", &small());
    specsim()
        .args(["run", "--max-memory", "10K"])
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "more than the 9.8 KiB budget (--max-memory)",
        ));
    specsim()
        .args(["run", "--max-memory", "1G"])
        .arg(&p)
        .assert()
        .success();
    specsim()
        .args(["run", "--max-memory", "lots"])
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`lots` is not a size"));
    // Sweeps check every cell before running any.
    let mut v = small();
    v["sweep"] = json!({"grid": [{"path": "sessions", "values": [3, 400000]}]});
    let p = write(t.path(), "sweep.json", &v);
    specsim()
        .args(["sweep", "--threads", "2", "--max-memory", "1G", "--out"])
        .arg(t.path().join("o"))
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sweep.json (largest cell "))
        .stderr(predicate::str::contains("sessions=400000"))
        .stderr(predicate::str::contains(
            "more than the 953.7 MiB budget (--max-memory)",
        ));
    assert!(!t.path().join("o").exists());
}
