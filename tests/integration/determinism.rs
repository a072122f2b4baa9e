//! Same inputs and seed, byte-identical outputs, whatever the thread count; common random
//! numbers across policies.

use assert_cmd::Command;
use specsim::io::report::{PolicyRow, Report};
use specsim::runner::run;

use super::common::build;

fn run_json(threads: &str, extra: &[&str]) -> Vec<u8> {
    let out = Command::cargo_bin("specsim")
        .unwrap()
        .env("RAYON_NUM_THREADS", threads)
        .args(["run", "--json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn same_seed_gives_identical_json_with_one_or_two_threads() {
    let a = run_json("1", &[]);
    let b = run_json("2", &[]);
    let c = run_json("2", &["--threads", "1"]);
    assert!(a.len() > 1000);
    assert_eq!(a, b, "RAYON_NUM_THREADS=1 vs 2");
    assert_eq!(a, c, "--threads 1");
    let other = run_json("2", &["--seed", "43"]);
    assert_ne!(a, other, "the seed matters");
}

fn default_value() -> serde_json::Value {
    serde_json::from_str(specsim::scenario::DEFAULT_SCENARIO).unwrap()
}

fn rows(v: serde_json::Value) -> Vec<PolicyRow> {
    let mut v = v;
    v["replications"] = 3.into();
    v["sessions"] = 20.into();
    let sc = build(v);
    Report::new(&sc, &run(&sc)).policies
}

fn row<'a>(rows: &'a [PolicyRow], p: &str) -> &'a PolicyRow {
    rows.iter().find(|r| r.policy == p).unwrap()
}

#[test]
fn changing_the_draft_leaves_other_policies_untouched() {
    let base = rows(default_value());
    let mut v = default_value();
    v["drafts"][0]["accuracy"] = serde_json::json!({"top1": 0.2, "decay": 0.3});
    v["drafts"][0]["latency"] = serde_json::json!({"latency": {"dist": "constant", "value": 0.1}});
    let changed = rows(v);
    for p in ["none", "cache", "random", "oracle"] {
        assert_eq!(row(&base, p), row(&changed, p), "policy {p} changed");
    }
    assert_ne!(row(&base, "speccache"), row(&changed, "speccache"));
}

#[test]
fn changing_the_width_leaves_width_free_policies_untouched() {
    // A large cache, so that wider prefetching cannot evict the pages back-clicks revisit
    // (with the default 10 entries, width 5 evicts them and the hit rate falls).
    let mut v = default_value();
    v["cache"]["capacity"] = 200.into();
    let base = rows(v.clone());
    v["width"] = 5.into();
    let changed = rows(v);
    for p in ["none", "cache", "oracle"] {
        assert_eq!(row(&base, p), row(&changed, p), "policy {p} changed");
    }
    assert_ne!(row(&base, "random"), row(&changed, "random"));
    assert!(row(&changed, "random").hit_rate > row(&base, "random").hit_rate);
}

#[test]
fn dropping_a_policy_does_not_change_the_others() {
    let base = rows(default_value());
    let mut v = default_value();
    v["policies"] = serde_json::json!(["speccache"]);
    let only = rows(v);
    assert_eq!(only.len(), 1);
    assert_eq!(row(&base, "speccache"), row(&only, "speccache"));
}
