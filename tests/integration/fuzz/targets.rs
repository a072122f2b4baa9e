//! Fuzz targets: each takes arbitrary bytes and must return without panicking, whatever the
//! bytes; errors are fine, panics and aborts are bugs. They depend on specsim and the
//! standard library only, so that the stable harness (`tests/integration/fuzz.rs`, run by
//! `cargo test`) and a coverage-guided fuzzer (`fuzz/`, cargo-fuzz on nightly) share them.

use std::path::{Path, PathBuf};

use specsim::io::replay::Replay;
use specsim::io::report::Report;
use specsim::io::trace::parse_trace;
use specsim::runner;
use specsim::scenario::limits::estimate;
use specsim::scenario::problems::Problems;
use specsim::scenario::{Scenario, ScenarioFile};
use specsim::sim::site::GraphFile;
use specsim::sweep::Sweep;

/// Largest run a target simulates (session iterations over every replication and policy)
/// once its input validated: enough to reach every rule of the model, small enough for
/// hundreds of thousands of cases.
const RUN_ITERATIONS: u64 = 3_000;
/// Largest estimated memory of a run a target simulates.
const RUN_BYTES: u64 = 64 << 20;

/// The repository root (relative references in shipped scenarios resolve from it), from the
/// integration tests or from the cargo-fuzz crate in `fuzz/`.
pub fn root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if dir.join("scenarios").is_dir() {
        dir
    } else {
        dir.parent().map_or(dir.clone(), Path::to_path_buf)
    }
}

/// Runs a validated scenario when it is small, and renders its report.
fn run_if_small(s: &Scenario) {
    let e = estimate(s, 1);
    if e.iterations <= RUN_ITERATIONS && e.bytes <= RUN_BYTES {
        let outcome = runner::run(s);
        let report = Report::new(s, &outcome);
        let _ = report.to_json();
        let _ = report.to_table();
    }
}

/// Scenario parser and validator: parse, validate (reading the files it names from the
/// `scenarios/` directory), estimate, run when small; a sweep section is validated and its
/// first cells built.
pub fn scenario(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok(file) = ScenarioFile::parse(text, "fuzz.json") else {
        return;
    };
    let base = root().join("scenarios");
    if file.sweep.is_some() {
        if let Ok(sweep) = Sweep::new(file.clone(), "fuzz.json", Some(&base)) {
            for cell in sweep.cells.iter().take(2) {
                if let Ok(s) = sweep.scenario(cell) {
                    let _ = estimate(&s, 2);
                }
            }
        }
    }
    if let Ok(s) = Scenario::build(file, "fuzz.json", Some(&base)) {
        let _ = estimate(&s, 2).summary();
        if let Ok(other) = s.with_seed(s.seed.wrapping_add(1)) {
            let _ = estimate(&other, 1);
        }
        run_if_small(&s);
    }
}

/// Trace reader: parse and validate the lines, build the replay (a header's graph resolves
/// against `tests/fixtures/replay`), replay it with the default distributions when small.
pub fn trace(bytes: &[u8]) {
    let Ok(trace) = parse_trace(bytes, "fuzz.jsonl") else {
        return;
    };
    let base = root().join("tests/fixtures/replay");
    let Ok(replay) = Replay::from_trace(&trace, Some(&base)) else {
        return;
    };
    for s in 0..replay.trajectories.len().min(3) {
        let _ = replay.recorded_session_latency(s);
    }
    if let Ok(s) = Scenario::for_replay(Path::new("fuzz.jsonl"), std::sync::Arc::new(replay)) {
        run_if_small(&s);
    }
}

/// Graph files: parse the edge-list JSON and build the site.
pub fn graph(bytes: &[u8]) {
    let Ok(g) = serde_json::from_slice::<GraphFile>(bytes) else {
        return;
    };
    let mut p = Problems::new();
    if let Some(site) = g.build("graph", &mut p) {
        let _ = site.median_out_degree();
        for u in 0..site.page_count().min(100) as u32 {
            let _ = site.links(u);
            let _ = site.fetch_override(u);
        }
    }
}

/// A scratch file per thread that a file-reading target rewrites for each case.
fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    thread_local! {
        // In memory where the system offers it: a disk write per case would dominate.
        static DIR: tempfile::TempDir = tempfile::tempdir_in("/dev/shm")
            .or_else(|_| tempfile::tempdir())
            .expect("a scratch directory");
    }
    DIR.with(|d| {
        let p = d.path().join(name);
        std::fs::write(&p, bytes).expect("scratch file written");
        p
    })
}

/// Fields the sample reader is asked for.
const FIELDS: [Option<&str>; 6] = [
    None,
    Some("latency_s"),
    Some("timing.ttft"),
    Some("a"),
    Some("x[0].y"),
    Some("target.latency_s"),
];

/// The CSV / JSON / JSON Lines sample reader (`specsim fit`): the first byte picks the file
/// extension and the field, the rest is the file.
pub fn samples(bytes: &[u8]) {
    use specsim::data::fit::samples::{check_latencies, read_samples_with};
    let Some((&pick, body)) = bytes.split_first() else {
        return;
    };
    let ext = ["csv", "json", "jsonl", "txt"][usize::from(pick & 3)];
    let field = FIELDS[usize::from(pick >> 2) % FIELDS.len()];
    let path = scratch(&format!("samples.{ext}"), body);
    for skip in [false, true] {
        if let Ok((xs, _)) = read_samples_with(&path, None, field, skip) {
            let _ = check_latencies(&path, "value", &xs);
        }
    }
}

/// The public-data importers (`specsim fit --from ...`): HAR, HTTP Archive quantile CSV,
/// LLMPerf and TheFastest; the first byte picks the importer.
pub fn sources(bytes: &[u8]) {
    use specsim::data::sources::{har, httparchive, llmperf, thefastest};
    let Some((&pick, body)) = bytes.split_first() else {
        return;
    };
    match pick % 4 {
        0 => {
            if let Ok(h) = har::read_file(&scratch("page.har", body)) {
                let _ = h.get(har::What::Requests);
            }
        }
        1 => {
            if let Ok(rows) = httparchive::read(&scratch("speed.csv", body)) {
                let _ = httparchive::latest(&rows, "mobile");
                for r in &rows {
                    let _ = r.describe(&[]);
                }
            }
        }
        2 => {
            if let Ok(p) = llmperf::read_file(&scratch("provider.json", body)) {
                let _ = p.failed_total();
            }
        }
        _ => {
            if let Ok(ms) = thefastest::read(&scratch("measurements.jsonl", body)) {
                for m in &ms {
                    if !m.failed() {
                        let _ = m.sample();
                    }
                }
            }
        }
    }
}

/// The OTLP JSON importer (`specsim import otel`): import the spans, then read the trace it
/// writes back and replay it, as a user's next command would.
pub fn otel(bytes: &[u8]) {
    use specsim::io::otel::{import, ImportOptions};
    let path = scratch("spans.jsonl", bytes);
    let Ok(imported) = import(&[path], &ImportOptions::default()) else {
        return;
    };
    let mut text = Vec::new();
    for l in &imported.lines {
        if let Ok(s) = serde_json::to_string(l) {
            text.extend_from_slice(s.as_bytes());
            text.push(b'\n');
        }
    }
    trace(&text);
}
