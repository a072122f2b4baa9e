//! The studies of `docs/studies.md` (`scenarios/studies/`): every scenario loads, a cell of
//! each sweep runs at reduced size (2 replications x 5 sessions), and each study's key
//! finding holds on a small run of its own scenario. Every run is deterministic (fixed seeds),
//! so each assertion either always holds or always fails for a given build; each test states
//! its run size and the full-run numbers from `figures/studies/STUDY/tables.md`, and its
//! tolerances are several times the seed-to-seed spread seen at these sizes.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use specsim::data::navigation::{wiki_speedrun, wikispeedia};

use super::common::data_dir;
use specsim::io::report::{PolicyRow, Report};
use specsim::runner;
use specsim::scenario::{Scenario, ScenarioFile};
use specsim::sweep::{set_path, Sweep};

fn studies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/studies")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A study scenario as JSON, reduced to `replications` x `sessions`.
fn reduced(name: &str, replications: u32, sessions: u32) -> Value {
    let mut v = read_json(&studies_dir().join(format!("{name}.json")));
    v["replications"] = json!(replications);
    v["sessions"] = json!(sessions);
    v
}

fn sweep_of(v: Value, source: &str) -> Sweep {
    let file = ScenarioFile::from_value(v, source).unwrap();
    Sweep::new(file, source, Some(&studies_dir())).unwrap()
}

/// Runs study scenario `v` without its sweep, with the field paths of `at` set.
fn run_at(v: &Value, source: &str, at: &[(&str, Value)]) -> Report {
    let mut cell = v.clone();
    cell.as_object_mut().unwrap().remove("sweep");
    for (path, value) in at {
        set_path(&mut cell, path, value.clone()).unwrap();
    }
    let file = ScenarioFile::from_value(cell, source).unwrap();
    let scenario = Scenario::build(file, source, Some(&studies_dir())).unwrap();
    Report::new(&scenario, &runner::run(&scenario))
}

/// Equal JSON values, numbers compared as numbers (`16` is `16.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Runs the first cell whose coordinates include every `(path, value)` of `at`.
fn run_cell(sweep: &Sweep, at: &[(&str, Value)]) -> Report {
    let cell = sweep
        .cells
        .iter()
        .find(|c| {
            at.iter()
                .all(|(p, v)| c.coords.iter().any(|(cp, cv)| cp == p && same(cv, v)))
        })
        .unwrap_or_else(|| panic!("{}: no cell at {at:?}", sweep.name));
    let scenario = sweep.scenario(cell).unwrap();
    Report::new(&scenario, &runner::run(&scenario))
}

fn row<'r>(report: &'r Report, policy: &str) -> &'r PolicyRow {
    report
        .policies
        .iter()
        .find(|r| r.policy == policy)
        .unwrap_or_else(|| panic!("no row for policy {policy}"))
}

/// Rows come out for exactly the scenario's policies, `none` first, with finite speedups and
/// hit rates that are fractions.
fn check_rows(name: &str, scenario: &Value, report: &Report) {
    let policies: Vec<&str> = scenario["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    let got: Vec<&str> = report.policies.iter().map(|r| r.policy.as_str()).collect();
    assert_eq!(got, policies, "{name}: policies of the report");
    assert_eq!(got[0], "none", "{name}: the baseline comes first");
    for r in &report.policies {
        assert!(
            r.speedup.is_finite() && r.speedup > 0.5 && r.speedup < 10.0,
            "{name}: {} speedup {}",
            r.policy,
            r.speedup
        );
        assert!(
            (0.0..=1.0).contains(&r.hit_rate),
            "{name}: {} hit rate {}",
            r.policy,
            r.hit_rate
        );
        assert!(r.session_latency_s.is_finite() && r.session_latency_s > 0.0);
    }
    assert_eq!(row(report, "none").speedup, 1.0);
}

/// Imports the two navigation data sets as the real-graphs study does (small), into `dir`,
/// and points the scenario's trace axis at them, replaying `sessions` of each. `None` when the
/// data is absent.
fn real_graphs_traces(v: &mut Value, dir: &Path, sessions: u32) -> Option<()> {
    let data = data_dir();
    let wsp = data.join("wikispeedia");
    let speedrun = data.join("wiki_speedrun/benchmark_results.jsonl");
    if !wsp.join("links.tsv").exists() || !speedrun.exists() {
        println!(
            "skipped: data not found at {} (set SPECSIM_DATA_DIR)",
            data.display()
        );
        return None;
    }
    let w = wikispeedia::Outputs {
        trace: dir.join("wikispeedia.jsonl"),
        graph: dir.join("wikispeedia.graph.json"),
        summary: None,
    };
    wikispeedia::import(&wsp, &w, Some(sessions as usize + 10), false).unwrap();
    let raw = dir.join("speedrun-raw.jsonl");
    wiki_speedrun::import(&speedrun, &raw, None, &[], Some(81)).unwrap();
    // As scripts/studies/run.sh does with jq: drop the recorded seconds per click.
    let stripped: String = std::fs::read_to_string(&raw)
        .unwrap()
        .lines()
        .map(|l| {
            let mut x: Value = serde_json::from_str(l).unwrap();
            if let Some(o) = x.as_object_mut() {
                o.remove("target");
            }
            x.to_string() + "\n"
        })
        .collect();
    std::fs::write(dir.join("speedrun.jsonl"), stripped).unwrap();
    let traces = json!([
        dir.join("wikispeedia.jsonl").to_str().unwrap(),
        dir.join("speedrun.jsonl").to_str().unwrap()
    ]);
    v["trajectories"]["trace"] = traces[0].clone();
    v["trajectories"]["sessions"] = json!(sessions);
    v["sweep"]["grid"][0]["values"] = traces;
    Some(())
}

#[test]
fn every_study_scenario_loads_and_a_cell_of_its_sweep_runs() {
    let mut names: Vec<String> = std::fs::read_dir(studies_dir())
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "json").then(|| p.file_stem().unwrap().to_string_lossy().into())
        })
        .collect();
    names.sort();
    assert!(names.len() >= 8, "studies found: {names:?}");
    let tmp = tempfile::tempdir().unwrap();
    for name in &names {
        let mut v = reduced(name, 2, 5);
        if v.get("trajectories").is_some() && real_graphs_traces(&mut v, tmp.path(), 30).is_none() {
            continue;
        }
        assert!(
            v["description"]
                .as_str()
                .unwrap()
                .contains("docs/studies.md"),
            "{name}: the description says where the findings are"
        );
        // An axis over the session count (shared-sessions-count) is reduced too.
        let grid = v.pointer_mut("/sweep/grid").and_then(Value::as_array_mut);
        for axis in grid.into_iter().flatten() {
            if axis["path"] == "sessions" {
                axis["values"] = json!([5, 10]);
            }
        }
        let sweep = sweep_of(v.clone(), name);
        assert!(
            sweep.cells.len() >= 4,
            "{name}: {} cells",
            sweep.cells.len()
        );
        let cell = &sweep.cells[sweep.cells.len() / 2];
        let scenario = sweep.scenario(cell).unwrap();
        let report = Report::new(&scenario, &runner::run(&scenario));
        assert_eq!(report.replications, 2, "{name}");
        check_rows(name, &v, &report);
    }
}

/// Study 1a at 2 replications x 10 sessions, think time 8 s. Full run (10 x 50): a 0.5 s
/// draft 1.313x, hit rate 85.0 %, no late drafts; a 16 s draft 1.047x, hit rate 16.1 %,
/// 6.7 late drafts per session, `cache` 1.044x.
#[test]
fn draft_latency_a_draft_slower_than_the_think_time_stops_paying() {
    let v = reduced("draft-latency", 2, 10);
    let sweep = sweep_of(v, "draft-latency");
    let at = |d: f64| {
        run_cell(
            &sweep,
            &[
                ("drafts[0].latency.latency.median", json!(d)),
                ("target.latency.median", json!(8.0)),
            ],
        )
    };
    let (fast, slow) = (at(0.5), at(16.0));
    let (f, s) = (row(&fast, "speccache"), row(&slow, "speccache"));
    assert!(
        f.speedup > s.speedup + 0.1,
        "{} vs {}",
        f.speedup,
        s.speedup
    );
    assert!(
        f.hit_rate > s.hit_rate + 0.3,
        "{} vs {}",
        f.hit_rate,
        s.hit_rate
    );
    assert_eq!(f.drafts_late_per_session, 0.0);
    assert!(
        s.drafts_late_per_session > 3.0,
        "{}",
        s.drafts_late_per_session
    );
    // A draft slower than the think time is no better than caching revisits alone.
    let floor = row(&slow, "cache").speedup;
    assert!((s.speedup - floor).abs() < 0.05, "{} vs {floor}", s.speedup);
}

/// Study 1b at 2 replications x 20 sessions: the share of SpecCache's gain over `cache` that
/// a 4 s draft keeps (against a 0.5 s draft) falls as fetches get slower. Full run (10 x 50):
/// 85.6 % with 1.5 s fetches, 50.8 % with 12 s fetches.
#[test]
fn draft_fetch_slower_fetches_make_the_draft_speed_matter_more() {
    let v = reduced("draft-fetch", 2, 20);
    let sweep = sweep_of(v, "draft-fetch");
    let gain = |d: f64, f: f64| {
        let r = run_cell(
            &sweep,
            &[
                ("drafts[0].latency.latency.median", json!(d)),
                ("fetch.median", json!(f)),
            ],
        );
        row(&r, "speccache").speedup - row(&r, "cache").speedup
    };
    let kept = |f: f64| gain(4.0, f) / gain(0.5, f);
    let (fast, slow) = (kept(1.5), kept(12.0));
    assert!(
        fast > slow + 0.2,
        "gain kept at D = 4 s: 1.5 s fetches {fast}, 12 s fetches {slow}"
    );
}

/// Study 2, random prefetching, 2 replications x 30 sessions: between a visit to page p and
/// the back-click to it a session inserts up to 2k + 1 pages (k prefetches at each of two
/// steps and the page between), so p survives an LRU cache of capacity C only if
/// C >= 2k + 2. Full run (10 x 50), hit rate at C = 2k + 1 -> 2k + 2: k = 1 1.3 % -> 12.8 %,
/// k = 2 2.4 % -> 13.7 %, k = 3 (C = 6 -> 8) 3.4 % -> 15.0 %.
#[test]
fn cache_width_random_keeps_back_click_targets_only_from_capacity_2k_plus_2() {
    let mut v = reduced("cache-width", 2, 30);
    v["policies"] = json!(["none", "random"]);
    for k in [1u32, 2, 3] {
        let hit = |c: u32| {
            let r = run_at(
                &v,
                "cache-width",
                &[("width", json!(k)), ("cache.capacity", json!(c))],
            );
            row(&r, "random").hit_rate
        };
        let (below, at) = (hit(2 * k + 1), hit(2 * k + 2));
        assert!(
            at > below + 0.05,
            "width {k}: hit rate {below} at capacity {}, {at} at {}",
            2 * k + 1,
            2 * k + 2
        );
    }
}

/// Study 2, SpecCache, 2 replications x 30 sessions: with the default list order (worst rank
/// enters the cache first) a cache smaller than the list keeps the draft's best C guesses, so
/// width 5 in a cache of 2 hits as often as width 2 (full run: 76.2 % both; 83.1 % at
/// capacity 3). The rule before version 0.2 (`best_first`) keeps the worst C instead: width 5
/// in a cache of 3 keeps ranks 3-5 (6.9 %), in a cache of 2 ranks 4-5, which the draft's
/// accuracy table never gets right (exactly 0).
#[test]
fn cache_width_a_cache_smaller_than_the_list_keeps_the_best_guesses() {
    let mut v = reduced("cache-width", 2, 30);
    v["policies"] = json!(["none", "speccache"]);
    let hit = |order: &str, c: u32, k: u32| {
        let r = run_at(
            &v,
            "cache-width",
            &[
                ("cache.list_order", json!(order)),
                ("cache.capacity", json!(c)),
                ("width", json!(k)),
            ],
        );
        row(&r, "speccache").hit_rate
    };
    let (k2, k5) = (hit("worst_first", 2, 2), hit("worst_first", 2, 5));
    assert!(
        (k5 - k2).abs() < 0.02,
        "capacity 2: width 2 {k2}, width 5 {k5}"
    );
    let c3 = hit("worst_first", 3, 5);
    assert!(c3 > 0.7, "worst first, capacity 3, width 5: {c3}");
    let old = hit("best_first", 3, 5);
    assert!(old < 0.2, "best first, capacity 3, width 5: {old}");
    assert_eq!(hit("best_first", 2, 5), 0.0);
}

/// Study 2, SpecCache, 2 replications x 50 sessions: below 2k + 2 the cache loses only the
/// back-click targets the draft did not predict. Width 5, capacity 10 vs 1000, full run
/// (10 x 50): hit rate 83.2 % vs 85.1 %, speedup 1.271x vs 1.283x.
#[test]
fn cache_width_speccache_loses_only_unpredicted_revisits_below_2k_plus_2() {
    let mut v = reduced("cache-width", 2, 50);
    v["policies"] = json!(["none", "speccache"]);
    let at = |c: u32| {
        let r = run_at(
            &v,
            "cache-width",
            &[("width", json!(5)), ("cache.capacity", json!(c))],
        );
        row(&r, "speccache").clone()
    };
    let (small, big) = (at(10), at(1000));
    let lost = big.hit_rate - small.hit_rate;
    assert!(
        (0.005..0.04).contains(&lost),
        "hit rate lost at capacity 10: {lost}"
    );
    assert!(
        big.speedup - small.speedup < 0.03,
        "{} vs {}",
        small.speedup,
        big.speedup
    );
}

/// Regression: a prediction of a page already in the cache did not count as a use, so the
/// draft's other picks could evict it and a larger LRU cache hit less than a smaller one
/// (capacity 5 at width 3 hit 75 % against 83 % at capacity 3). Per-session LRU caches see the
/// same accesses whatever their size, so hits can only grow with capacity.
#[test]
fn speccache_hits_never_fall_when_the_lru_cache_grows() {
    let mut v = reduced("cache-width", 2, 20);
    v["policies"] = json!(["none", "speccache"]);
    for k in [3, 5] {
        let mut prev = -1.0;
        for c in [2, 3, 4, 5, 6, 8, 10, 12, 16] {
            let report = run_at(
                &v,
                "cache-width",
                &[("width", json!(k)), ("cache.capacity", json!(c))],
            );
            let hit = row(&report, "speccache").hit_rate;
            assert!(
                hit >= prev - 1e-12,
                "width {k}: hit rate {hit} at capacity {c} below {prev} at the capacity before"
            );
            prev = hit;
        }
    }
}

/// Study 3 at 2 replications x 100 sessions, 128 slots (no queueing): one shared cache serves
/// other sessions' pages. Full run (20 x 2000): `cache` hits 41.4 % shared vs 12.0 % per
/// session (21.7 % shared at 100 sessions: the cache is still warming up).
#[test]
fn shared_sessions_one_cache_serves_other_sessions_pages() {
    let v = reduced("shared-sessions", 2, 100);
    let sweep = sweep_of(v, "shared-sessions");
    let at = |scope: &str| {
        run_cell(
            &sweep,
            &[
                ("cache.scope", json!(scope)),
                ("fetcher.cancel_stale", json!(true)),
                ("fetcher.slots", json!(128)),
            ],
        )
    };
    let (shared, own) = (at("shared"), at("session"));
    let (a, b) = (row(&shared, "cache").hit_rate, row(&own, "cache").hit_rate);
    assert!(a > b + 0.05, "shared {a} vs per-session {b}");
}

/// Study 3 at 2 replications x 400 sessions, one shared cache, 32 slots: SpecCache asks for
/// about 1.5 times what the pool serves. With stale prefetches cancelled it stays above
/// caching alone; with them kept (the rule before version 0.2, the old study's dip) their
/// queue grows without bound and SpecCache falls below caching alone. Full run (20 x 2000):
/// 1.282x cancelled, 1.221x `cache`, 1.147x kept; at this size 1.287x, 1.195x (the shared
/// cache is still warming up) and 1.165x, so the margins below are 0.01 on each side of
/// `cache` and 0.08 between the rules (0.135 in the full run).
#[test]
fn shared_sessions_kept_stale_prefetches_fall_below_caching_alone() {
    let v = reduced("shared-sessions", 2, 400);
    let sweep = sweep_of(v, "shared-sessions");
    let at = |cancel: bool| {
        run_cell(
            &sweep,
            &[
                ("cache.scope", json!("shared")),
                ("fetcher.cancel_stale", json!(cancel)),
                ("fetcher.slots", json!(32)),
            ],
        )
    };
    let (cancelled, kept) = (at(true), at(false));
    let floor = row(&cancelled, "cache").speedup;
    let (c, k) = (
        row(&cancelled, "speccache").speedup,
        row(&kept, "speccache").speedup,
    );
    assert!(c > floor + 0.01, "cancelled {c} vs cache {floor}");
    assert!(k < floor - 0.01, "kept {k} vs cache {floor}");
    assert!(c > k + 0.08, "cancelled {c} vs kept {k}");
    assert!(row(&cancelled, "speccache").prefetch_cancelled_per_session > 1.0);
    assert!(row(&kept, "speccache").fetch_overloaded);
}

/// Study 3's session-count check at 2 replications x 100 and 200 sessions: where `none`'s
/// offered load per slot is >= 1 (16 slots) its latency grows with the number of sessions
/// (full run, 10 replications: 165.8 s at 100, 239.9 s at 200; here 163.3 s and 227.0 s,
/// asserted with a factor of 1.2); at 32 slots (rho 0.74) it
/// does not, and neither does SpecCache's although its fetch load is flagged: it saturates
/// the pool and sheds stale prefetches, which is a steady state (102.5 s and 102.4 s; 3 %
/// tolerance, here both move by under 1 %).
#[test]
fn shared_sessions_overloaded_cells_grow_with_the_session_count() {
    let v = reduced("shared-sessions-count", 2, 100);
    let at = |slots: u32, n: u32| {
        run_at(
            &v,
            "shared-sessions-count",
            &[("fetcher.slots", json!(slots)), ("sessions", json!(n))],
        )
    };
    let (a, b) = (at(16, 100), at(16, 200));
    let (na, nb) = (row(&a, "none"), row(&b, "none"));
    assert!(na.fetch_overloaded && nb.fetch_overloaded);
    assert!(
        nb.session_latency_s > 1.2 * na.session_latency_s,
        "16 slots: {} -> {}",
        na.session_latency_s,
        nb.session_latency_s
    );
    let (a, b) = (at(32, 100), at(32, 200));
    for p in ["none", "speccache"] {
        let (x, y) = (row(&a, p).session_latency_s, row(&b, p).session_latency_s);
        assert!((y / x - 1.0).abs() < 0.03, "32 slots, {p}: {x} -> {y}");
    }
    assert!(!row(&a, "none").fetch_overloaded);
    assert!(row(&a, "speccache").fetch_load.unwrap() >= 1.0);
}

/// Study 3's rate check at 2 replications x 400 sessions: at the same offered load per slot
/// for `none` (0.37), 0.5 sessions/s on 64 slots and 1 session/s on 128 give the same
/// speedups (full run, 10 x 2000: speccache 1.429x and 1.430x), while a small pool queues at a
/// lower load (rho 0.74: `none` waits 0.82 s per iteration for one of 8 slots at 1 session per
/// 8 s, 0.04 s for one of 32 at 0.5 sessions/s; here 0.46 s and 0.007 s).
#[test]
fn shared_sessions_the_load_per_slot_decides_for_large_pools() {
    let v = reduced("shared-sessions-rates", 2, 400);
    let sweep = sweep_of(v, "shared-sessions-rates");
    let at = |scale: f64, slots: u32| {
        run_cell(
            &sweep,
            &[
                ("arrivals.gap.scale", json!(scale)),
                ("fetcher.slots", json!(slots)),
            ],
        )
    };
    let (half, one) = (at(2.296, 64), at(1.148, 128));
    let (a, b) = (
        row(&half, "speccache").speedup,
        row(&one, "speccache").speedup,
    );
    assert!((a - b).abs() < 0.02, "{a} vs {b}");
    let (small, large) = (
        row(&at(9.185, 8), "none").queue_s,
        row(&at(2.296, 32), "none").queue_s,
    );
    assert!(
        small > 0.2 && small > 5.0 * large,
        "none's queue: 8 slots {small} s, 32 slots {large} s"
    );
}

/// Study 4 at 2 replications x 10 sessions, top-1 accuracy 0.7. Full run (10 x 50): 0.08
/// extra fetches per second saved at width 1, 1.64 at width 8.
#[test]
fn cost_extra_fetches_per_second_saved_grow_with_width() {
    let v = reduced("cost", 2, 10);
    let sweep = sweep_of(v, "cost");
    // The formula of docs/studies.md and scripts/studies/tables/cost.jq.
    let fetches_per_s_saved = |k: u32| {
        let r = run_cell(
            &sweep,
            &[("width", json!(k)), ("drafts[0].accuracy.top1", json!(0.7))],
        );
        let (none, spec) = (row(&r, "none"), row(&r, "speccache"));
        let saved = none.session_latency_s - spec.session_latency_s;
        let extra = spec.prefetches_per_session + spec.demand_fetches_per_session
            - none.demand_fetches_per_session;
        assert!(saved > 0.0, "width {k}: saved {saved} s");
        extra / saved
    };
    let (one, eight) = (fetches_per_s_saved(1), fetches_per_s_saved(8));
    assert!(eight > 4.0 * one, "width 1: {one}, width 8: {eight}");
}

/// Study 5 at 2 replications x 100 sessions of each trace, width 3. Full run (5 replications,
/// 2000 Wikispeedia paths, 315 games): speccache hits 80.8 % and 77.7 %, random 20.5 % and
/// 3.6 %; on LLM agents that never go back random's hit rate is width / out-degree
/// (3/81 = 3.7 %; tolerance 2 points, about 3 standard deviations at ~1,000 visits).
#[test]
fn real_graphs_speccache_beats_random_on_both_traces() {
    let tmp = tempfile::tempdir().unwrap();
    let mut v = reduced("real-graphs", 2, 5);
    if real_graphs_traces(&mut v, tmp.path(), 100).is_none() {
        return;
    }
    let traces: Vec<Value> = v["sweep"]["grid"][0]["values"].as_array().unwrap().clone();
    let sweep = sweep_of(v, "real-graphs");
    for t in traces {
        let r = run_cell(
            &sweep,
            &[("trajectories.trace", t.clone()), ("width", json!(3))],
        );
        let (spec, random) = (row(&r, "speccache"), row(&r, "random"));
        assert!(
            spec.hit_rate > random.hit_rate + 0.3,
            "{t}: speccache {} vs random {}",
            spec.hit_rate,
            random.hit_rate
        );
        assert_eq!(r.sessions, 100, "{t}");
        if t.as_str().unwrap().contains("speedrun") {
            assert!(
                (random.hit_rate - 3.0 / 81.0).abs() < 0.02,
                "{t}: random {}",
                random.hit_rate
            );
        }
    }
}
