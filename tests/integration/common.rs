//! Helpers shared by the integration tests.

use serde_json::{json, Value};
use specsim::scenario::{Scenario, ScenarioFile};

/// A small scenario as a JSON value: a tree site of constant out-degree `degree` deep enough
/// that `visits` forward clicks never revisit a page, constant latencies (seconds).
pub fn tree_scenario(degree: u32, visits: u32, t: f64, d: f64, f: f64, s: f64) -> Value {
    let pages: u32 = (0..=visits).map(|i| degree.pow(i)).sum();
    json!({
        "name": "tree",
        "seed": 7,
        "replications": 4,
        "sessions": 50,
        "site": {"generator": "hierarchical", "pages": pages,
                 "out_degree": {"dist": "constant", "value": degree}},
        "fetch": {"dist": "constant", "value": f},
        "agent": {"rounds": {"dist": "constant", "value": visits}, "max_rounds": visits,
                  "back_prob": 0.0, "final_answer": false},
        "target": {"latency": {"dist": "constant", "value": t}},
        "stages": [{"name": "extract", "latency": {"latency": {"dist": "constant", "value": s}}}],
        "drafts": [{"name": "d", "latency": {"latency": {"dist": "constant", "value": d}},
                    "accuracy": {"cumulative": [0.5]}}],
        "width": 1
    })
}

/// Validates a scenario given as a JSON value.
pub fn build(v: Value) -> Scenario {
    let file = ScenarioFile::from_value(v, "test").expect("scenario parses");
    Scenario::build(file, "test", None).expect("scenario is valid")
}

/// The shared data directory: `SPECSIM_DATA_DIR`, else `../shared/data` beside the crate.
pub fn data_dir() -> std::path::PathBuf {
    std::env::var_os("SPECSIM_DATA_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}
