//! In-repository fuzzing on stable Rust: every fuzz target of [`targets`] runs on inputs
//! mutated from a corpus of real files (structure-aware JSON mutations with extreme numbers,
//! wrong types, deleted and unknown keys, duplicated items, then byte flips and cuts).
//! proptest generates the mutations, catches panics and shrinks a failing case.
//!
//! `cargo test` runs a bounded number of cases per target (256, seeded so CI is
//! reproducible). A long run is one command (docs/scenario.md, "Fuzzing"):
//!
//! ```sh
//! SPECSIM_FUZZ_CASES=1000000 SPECSIM_FUZZ_SEED=$RANDOM cargo test --release --test integration fuzz::
//! ```

#[path = "fuzz/targets.rs"]
pub mod targets;

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use serde_json::Value;

/// Cases per target: `SPECSIM_FUZZ_CASES`, default 256.
fn cases() -> u32 {
    std::env::var("SPECSIM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Seed of the case generator: `SPECSIM_FUZZ_SEED`, default fixed (CI reproducible).
fn seed() -> u64 {
    std::env::var("SPECSIM_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed)
}

/// Numbers that break things: zero and signs, subnormals and overflow, 32- and 64-bit
/// edges, and values just past this build's limits.
const NUMBERS: [&str; 26] = [
    "0",
    "1",
    "2",
    "3",
    "-1",
    "0.5",
    "-0.0",
    "1e-300",
    "5e-324",
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "9007199254740993",
    "1000000000",
    "1e12",
    "18446744073709551615",
    "1e19",
    "100000",
    "100001",
    "1000001",
    "10000001",
    "20000001",
];

/// Strings that break things: empty, paths to devices and missing files, names of enums.
const STRINGS: [&str; 12] = [
    "",
    "/dev/zero",
    "/nonexistent/x.jsonl",
    "../traces/example.jsonl",
    ".",
    "speccache",
    "shared",
    "mixture",
    "click",
    "back",
    "answer",
    "\u{0}\u{ffff}",
];

/// One mutation. Node and value choices are indices taken modulo what exists.
#[derive(Clone, Debug)]
enum Mutation {
    Number(usize, usize),
    Text(usize, usize),
    Delete(usize),
    Duplicate(usize),
    Retype(usize, u8),
    Unknown(usize),
    Nest(usize),
    FlipByte(usize, u8),
    Cut(usize),
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Number(a, b)),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Text(a, b)),
        2 => any::<usize>().prop_map(Mutation::Delete),
        2 => any::<usize>().prop_map(Mutation::Duplicate),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::Retype(a, b)),
        1 => any::<usize>().prop_map(Mutation::Unknown),
        1 => any::<usize>().prop_map(Mutation::Nest),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::FlipByte(a, b)),
        1 => any::<usize>().prop_map(Mutation::Cut),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

/// JSON pointers of every node of `v`, in document order.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        _ => {}
    }
}

/// Applies a structural mutation to one JSON document.
fn mutate_json(v: &mut Value, m: &Mutation) {
    let mut ps = Vec::new();
    pointers(v, String::new(), &mut ps);
    if ps.is_empty() {
        return;
    }
    let pick = |i: usize| ps[i % ps.len()].clone();
    let parent_and_key = |p: &str| {
        let i = p.rfind('/').unwrap_or(0);
        (
            p[..i].to_string(),
            p[i + 1..].replace("~1", "/").replace("~0", "~"),
        )
    };
    match *m {
        Mutation::Number(n, k) => {
            if let Some(x) = v.pointer_mut(&pick(n)) {
                *x = serde_json::from_str(NUMBERS[k % NUMBERS.len()]).unwrap_or(Value::Null);
            }
        }
        Mutation::Text(n, k) => {
            if let Some(x) = v.pointer_mut(&pick(n)) {
                *x = Value::String(STRINGS[k % STRINGS.len()].to_string());
            }
        }
        Mutation::Retype(n, t) => {
            if let Some(x) = v.pointer_mut(&pick(n)) {
                *x = match t % 5 {
                    0 => Value::Null,
                    1 => Value::Bool(true),
                    2 => Value::Array(vec![]),
                    3 => Value::Object(Default::default()),
                    _ => Value::String("x".repeat(usize::from(t))),
                };
            }
        }
        Mutation::Delete(n) | Mutation::Duplicate(n) | Mutation::Unknown(n) => {
            let (parent, key) = parent_and_key(&pick(n));
            let Some(p) = v.pointer_mut(&parent) else {
                return;
            };
            match (p, m) {
                (Value::Object(o), Mutation::Delete(_)) => {
                    o.remove(&key);
                }
                (Value::Object(o), Mutation::Unknown(_)) => {
                    o.insert(format!("{key}_typo"), Value::from(1));
                }
                (Value::Array(a), Mutation::Delete(_)) => {
                    if let Ok(i) = key.parse::<usize>() {
                        if i < a.len() {
                            a.remove(i);
                        }
                    }
                }
                (Value::Array(a), Mutation::Duplicate(_)) => {
                    if let Some(x) = key.parse::<usize>().ok().and_then(|i| a.get(i)).cloned() {
                        // A few copies: enough to cross small limits, not to blow up.
                        for _ in 0..3 {
                            a.push(x.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        Mutation::Nest(n) => {
            if let Some(x) = v.pointer_mut(&pick(n)) {
                let inner = x.take();
                *x = Value::Array(vec![inner]);
            }
        }
        _ => {}
    }
}

/// Applies mutations to a text made of JSON documents (one, or one per line), then the
/// byte-level ones.
fn mutate_text(text: &str, muts: &[Mutation], lines: bool) -> Vec<u8> {
    let mut docs: Vec<Option<Value>> = if lines {
        text.lines().map(|l| serde_json::from_str(l).ok()).collect()
    } else {
        vec![serde_json::from_str(text).ok()]
    };
    let mut raw: Vec<String> = if lines {
        text.lines().map(String::from).collect()
    } else {
        vec![text.to_string()]
    };
    for m in muts {
        match *m {
            Mutation::SwapLines(a, b) if raw.len() > 1 => {
                let (a, b) = (a % raw.len(), b % raw.len());
                raw.swap(a, b);
                docs.swap(a, b);
            }
            Mutation::FlipByte(..) | Mutation::Cut(_) | Mutation::SwapLines(..) => {}
            _ => {
                let n = docs.len().max(1);
                let target = match m {
                    Mutation::Number(a, _)
                    | Mutation::Text(a, _)
                    | Mutation::Delete(a)
                    | Mutation::Duplicate(a)
                    | Mutation::Retype(a, _)
                    | Mutation::Unknown(a)
                    | Mutation::Nest(a) => a / 7 % n,
                    _ => 0,
                };
                if let Some(Some(d)) = docs.get_mut(target) {
                    mutate_json(d, m);
                    raw[target] = d.to_string();
                }
            }
        }
    }
    let mut bytes = raw.join("\n").into_bytes();
    for m in muts {
        match *m {
            Mutation::FlipByte(i, b) if !bytes.is_empty() => {
                let i = i % bytes.len();
                bytes[i] ^= b | 1;
            }
            Mutation::Cut(i) if !bytes.is_empty() => bytes.truncate(i % bytes.len()),
            _ => {}
        }
    }
    bytes
}

fn read_corpus(files: &[&str]) -> Vec<String> {
    let root = targets::root();
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(root.join(f)).ok())
        .collect()
}

fn files_under(dir: &str, ext: &str) -> Vec<String> {
    let root = targets::root();
    let mut out = Vec::new();
    let mut stack = vec![root.join(dir)];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p.strip_prefix(&root).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// Runs `target` on `cases()` mutants of `corpus`; `prefix` prepends a selector byte.
fn fuzz(name: &str, corpus: Vec<String>, lines: bool, prefix: bool, target: fn(&[u8])) {
    assert!(!corpus.is_empty(), "{name}: empty corpus");
    let config = Config {
        cases: cases(),
        rng_seed: RngSeed::Fixed(seed()),
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let n = corpus.len();
    let strategy = (
        0..n,
        proptest::collection::vec(mutation(), 0..6),
        any::<u8>(),
    );
    let started = std::time::Instant::now();
    let result = runner.run(&strategy, |(i, muts, pick)| {
        let mut bytes = mutate_text(&corpus[i], &muts, lines);
        if prefix {
            bytes.insert(0, pick);
        }
        target(&bytes);
        Ok(())
    });
    if let Err(e) = result {
        panic!("fuzz target {name} failed: {e}");
    }
    if std::env::var_os("SPECSIM_FUZZ_CASES").is_some() {
        eprintln!(
            "fuzz {name}: {} cases, 0 crashes, {:.1} s ({:.0} cases/s)",
            cases(),
            started.elapsed().as_secs_f64(),
            f64::from(cases()) / started.elapsed().as_secs_f64()
        );
    }
}

/// A shipped scenario made small (few replications, sessions and pages, two values per
/// sweep axis), so that a case takes milliseconds: mutations still reach every field.
fn small_scenario(text: &str) -> String {
    let Ok(mut v) = serde_json::from_str::<Value>(text) else {
        return text.to_string();
    };
    v["replications"] = 2.into();
    v["sessions"] = 4.into();
    if let Some(p) = v.pointer_mut("/site/pages") {
        *p = p.as_u64().unwrap_or(2).min(300).into();
    }
    if let Some(grid) = v.pointer_mut("/sweep/grid").and_then(Value::as_array_mut) {
        for axis in grid {
            if let Some(values) = axis["values"].as_array_mut() {
                values.truncate(2);
            }
        }
    }
    if let Some(cases) = v.pointer_mut("/sweep/cases").and_then(Value::as_array_mut) {
        cases.truncate(2);
    }
    v.to_string()
}

#[test]
fn fuzz_scenario_parser_and_validator() {
    let files = files_under("scenarios", "json");
    let mut corpus = read_corpus(&files.iter().map(String::as_str).collect::<Vec<_>>());
    corpus.extend(read_corpus(&["tests/fixtures/plots/scenario.json"]));
    let corpus = corpus.iter().map(|t| small_scenario(t)).collect();
    fuzz("scenario", corpus, false, false, targets::scenario);
}

#[test]
fn fuzz_trace_reader() {
    let corpus = read_corpus(&[
        "traces/example.jsonl",
        "tests/fixtures/replay/missing_root.jsonl",
        "tests/fixtures/fit/trace.jsonl",
    ]);
    fuzz("trace", corpus, true, false, targets::trace);
}

#[test]
fn fuzz_graph_files() {
    let corpus = vec![
        r#"{"root": 0, "pages": [{"name": "/"}, {"name": "/a", "bytes": 52000, "fetch": {"dist": "constant", "value": 1.5}}, {"name": "/b"}], "edges": [[0, 1], [0, 2], [1, 0]]}"#.to_string(),
        r#"{"edges": [[0, 2], [0, 1], [2, 0], [0, 3]]}"#.to_string(),
        r#"{"root": 1, "pages": [{}, {}], "edges": []}"#.to_string(),
    ];
    fuzz("graph", corpus, false, false, targets::graph);
}

#[test]
fn fuzz_sample_readers() {
    let mut files = files_under("tests/fixtures/fit", "csv");
    files.extend(files_under("tests/fixtures/fit", "json"));
    files.extend(files_under("tests/fixtures/fit", "jsonl"));
    let corpus = read_corpus(&files.iter().map(String::as_str).collect::<Vec<_>>());
    // Line-wise mutation keeps CSV rows and JSON Lines records apart.
    fuzz("samples", corpus, true, true, targets::samples);
}

#[test]
fn fuzz_data_importers() {
    let mut files = files_under("tests/fixtures/har", "har");
    files.extend(files_under("tests/fixtures/httparchive", "csv"));
    files.extend(files_under("tests/fixtures/llmperf", "json"));
    files.extend(files_under("tests/fixtures/thefastest", "jsonl"));
    let corpus = read_corpus(&files.iter().map(String::as_str).collect::<Vec<_>>());
    fuzz("sources", corpus, false, true, targets::sources);
}

#[test]
fn fuzz_otel_import() {
    let corpus = read_corpus(&[
        "tests/fixtures/otel/genai.jsonl",
        "tests/fixtures/otel/openinference.json",
    ]);
    // Line-wise mutation: one export request per line.
    fuzz("otel", corpus, true, false, targets::otel);
}

/// The mutator reaches what it must: extreme numbers land in scenario fields.
#[test]
fn mutations_change_the_documents() {
    let text = r#"{"a": {"b": [1, 2]}, "c": "x"}"#;
    // Nodes in document order: /a, /a/b, /a/b/0, /a/b/1, /c; node 1 is /a/b.
    let out = mutate_text(text, &[Mutation::Number(1, 15)], false);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"a":{"b":4294967296},"c":"x"}"#
    );
    let out = mutate_text(text, &[Mutation::Delete(4)], false);
    assert_eq!(String::from_utf8(out).unwrap(), r#"{"a":{"b":[1,2]}}"#);
    let out = mutate_text("{\"k\":1}\n{\"k\":2}", &[Mutation::SwapLines(0, 1)], true);
    assert_eq!(out, b"{\"k\":2}\n{\"k\":1}");
    assert!(Path::new(&targets::root())
        .join("scenarios/default.json")
        .exists());
}
