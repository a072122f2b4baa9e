//! OpenTelemetry in: `specsim import otel` on hand-made OTLP JSON (GenAI and OpenInference
//! dialects, every documented rule), its errors, `specsim collect` as a process, and the
//! example Python agent end to end (agent -> collect -> import -> replay under `none`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Proc, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use assert_cmd::Command;
use serde_json::{json, Value};
use specsim::io::otel::{import, ImportOptions, OtelError};
use specsim::io::replay::load_trace;
use specsim::io::trace::{read_trace, TraceAction};
use specsim::scenario::Scenario;
use specsim::sim::policy::Policy;
use specsim::sim::rng::StreamKey;
use specsim::sim::sampled::{Sim, Workload};
use specsim::sim::time::SimTime;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/otel")
        .join(name)
}

fn ms(x: u64) -> u64 {
    x * 1_000_000
}

/// Each session's simulated latency under policy `none`, run alone, nanoseconds.
fn replayed_none(trace: &Path) -> Vec<(String, u64)> {
    let replay = load_trace(trace).unwrap();
    let scenario = Scenario::for_trace(trace).unwrap();
    let mut sim = Sim::new(&scenario.model);
    replay
        .trajectories
        .iter()
        .zip(&replay.sessions)
        .map(|(t, id)| {
            let m = sim.run(
                Policy::None,
                Workload {
                    trajectories: std::slice::from_ref(t),
                    arrivals: &[SimTime::ZERO],
                    key: StreamKey::root(1),
                },
            );
            (
                id.clone(),
                m.session_latencies.exact().expect("one session is exact")[0],
            )
        })
        .collect()
}

#[test]
fn genai_spans_become_iterations_and_every_second_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.jsonl");
    let opts = ImportOptions {
        draft_models: vec!["gpt-d".into()],
        ..Default::default()
    };
    let imported = import(&[fixture("genai.jsonl")], &opts).unwrap();
    imported.write(&out).unwrap();
    let s = &imported.summary;
    assert_eq!(s.target_model, "gpt-t", "the model with the most calls");
    assert_eq!((s.requests, s.spans, s.traces), (3, 27, 2));
    assert_eq!((s.sessions, s.iterations, s.answers), (3, 7, 3));
    let r = &s.rules;
    assert_eq!(r.duplicate_spans, 1);
    assert_eq!(r.spans_with_missing_parent, 1);
    assert_eq!(r.http_spans_in_llm_calls, 1);
    assert_eq!(r.calls_outside_sessions, 1);
    assert_eq!(r.thinking_steps_merged, 2);
    assert_eq!(r.overlapping_target_calls, 1);
    assert!((r.answer_stage_and_web_s - 0.04).abs() < 1e-12);
    assert_eq!(
        (s.web_actions, s.http_errors, s.response_bytes),
        (5, 1, 1234)
    );
    assert_eq!(s.ignored_attributes["user_agent.original"], 1);
    // Session time 1.0 + 0.3 + 0.3 s, split exactly.
    assert!((s.session_s - 1.6).abs() < 1e-9);
    assert!((s.target_s + s.stages_s + s.web_s + s.other_s - s.session_s).abs() < 1e-9);
    assert!((s.other_s - 0.36).abs() < 1e-9, "{}", s.other_s);

    let t = read_trace(&out).unwrap();
    let a = &t.sessions[0];
    assert_eq!(a.session.session, "a".repeat(32));
    assert_eq!(a.session.root_fetch_s, Some(0.05));
    assert_eq!(a.session.root_out_degree, Some(12));
    let it: Vec<_> = a.iterations.iter().map(|(_, i)| i).collect();
    assert_eq!(
        it.iter().map(|i| i.action).collect::<Vec<_>>(),
        vec![TraceAction::Click, TraceAction::Back, TraceAction::Answer]
    );
    // Iteration 0: target 200 ms, critic 50 ms, fetch 50 ms, other 20 ms + 20 ms carried from
    // before the first target call; the draft call is recorded, off the critical path.
    let t0 = it[0].target.as_ref().unwrap();
    assert_eq!(
        (t0.latency_s, t0.output_tokens, t0.input_tokens),
        (0.2, Some(20), Some(100))
    );
    assert_eq!(it[0].stages[0].name, "critic");
    assert_eq!(it[0].stages[0].latency_s, 0.05);
    assert_eq!(
        (it[0].fetch_s, it[0].other_s, it[0].out_degree),
        (Some(0.05), Some(0.04), Some(5))
    );
    assert_eq!(it[0].drafts[0].latency_s, 0.05);
    // Iteration 1 merges a thinking step: 100 + 105 ms of target; the calculator is other.
    assert_eq!(it[1].target.as_ref().unwrap().latency_s, 0.205);
    assert_eq!(it[1].target.as_ref().unwrap().output_tokens, Some(22));
    assert_eq!((it[1].fetch_s, it[1].other_s), (Some(0.04), Some(0.07)));
    // The answer: overlapping target calls count once (705..850 ms); the critic is other.
    assert_eq!(it[2].target.as_ref().unwrap().latency_s, 0.145);
    assert_eq!(it[2].other_s, Some(0.15));
    // Two agent runs in one trace, the orphan request assigned to the run containing it.
    assert_eq!(
        t.sessions[1].session.session,
        format!("{}/{:016x}", "b".repeat(32), 2)
    );
    assert_eq!(
        t.sessions[1].session.root,
        specsim::io::trace::PageRef::Name("about:blank".into())
    );
    assert_eq!(
        t.sessions[2].iterations[0].1.page,
        Some(specsim::io::trace::PageRef::Name(
            "https://shop.example/orphan".into()
        ))
    );
    // Replayed under `none`, each session lasts exactly as recorded.
    let got = replayed_none(&out);
    let want = [ms(1000), ms(300), ms(300)];
    assert_eq!(got.iter().map(|x| x.1).collect::<Vec<_>>(), want);
}

#[test]
fn openinference_spans_and_pretty_printed_json_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.jsonl");
    Command::cargo_bin("specsim")
        .unwrap()
        .args(["import", "otel"])
        .arg(fixture("openinference.json"))
        .arg("--out")
        .arg(&out)
        .args(["--out-degree", "9"])
        .assert()
        .success()
        .stderr(predicates::str::contains("target model `llama`"))
        .stderr(predicates::str::contains(
            "session time 0.500 s = target 0.190 s (38.0 %) + other models 0.000 s (0.0 %) + web 0.080 s (16.0 %) + other 0.230 s (46.0 %)",
        ));
    let t = read_trace(&out).unwrap();
    let s = &t.sessions[0];
    assert_eq!(
        s.session.root_out_degree,
        Some(4),
        "specsim.page.out_degree wins"
    );
    let (_, i0) = &s.iterations[0];
    assert_eq!(i0.out_degree, Some(9), "--out-degree fills in");
    assert_eq!(i0.target.as_ref().unwrap().output_tokens, Some(5));
    assert_eq!((i0.fetch_s, i0.other_s), (Some(0.04), Some(0.03)));
    assert_eq!(
        s.iterations[1].1.other_s,
        Some(0.2),
        "the judge call after the answer is other"
    );
    assert_eq!(replayed_none(&out)[0].1, ms(500));
}

fn span(trace: &str, id: &str, parent: &str, a: u64, b: u64, attrs: Value) -> Value {
    json!({"traceId": trace, "spanId": id, "parentSpanId": parent, "name": "s", "kind": 3,
           "startTimeUnixNano": a.to_string(), "endTimeUnixNano": b.to_string(),
           "attributes": attrs})
}

fn request(spans: Vec<Value>) -> String {
    json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}).to_string()
}

fn chat(model: &str) -> Value {
    json!([{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
           {"key": "gen_ai.request.model", "value": {"stringValue": model}}])
}

fn import_text(lines: &[String], opts: &ImportOptions) -> Result<(), OtelError> {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.jsonl");
    std::fs::write(&f, lines.join("\n")).unwrap();
    import(&[f], opts).map(|_| ()).map_err(|e| match e {
        OtelError::At {
            file,
            line,
            ids,
            message,
        } => OtelError::At {
            file: Path::new(&file)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into(),
            line,
            ids,
            message,
        },
        e => e,
    })
}

const T: &str = "0123456789abcdef0123456789abcdef";
const S1: &str = "00000000000000a1";
const S2: &str = "00000000000000a2";

#[test]
fn bad_input_names_the_line_trace_and_span() {
    let ok = request(vec![span(T, S1, "", 10, 20, chat("m"))]);
    let fails = |lines: &[String], opts: &ImportOptions, needle: &str| {
        let e = import_text(lines, opts).unwrap_err().to_string();
        assert!(e.contains(needle), "{e}\nshould contain: {needle}");
    };
    let d = ImportOptions::default();
    fails(
        &[ok.clone(), "{\"resourceSpans\": [".into()],
        &d,
        "bad.jsonl:2: not valid JSON",
    );
    fails(
        &[ok.clone(), "{\"resourceSpans\": 3}".into()],
        &d,
        "bad.jsonl:2: not an OTLP ExportTraceServiceRequest: resourceSpans: invalid type",
    );
    fails(
        &[request(vec![span(T, S1, "", 30, 20, chat("m"))])],
        &d,
        &format!("bad.jsonl:1: trace {T} span {S1}: span `s` ends before it starts: endTimeUnixNano 20 < startTimeUnixNano 30"),
    );
    fails(
        &[request(vec![span("abcd", S1, "", 10, 20, chat("m"))])],
        &d,
        "traceId: must be 16 bytes",
    );
    fails(
        &[request(vec![span(T, S1, "", 0, 20, chat("m"))])],
        &d,
        "startTimeUnixNano: missing or 0",
    );
    let mut attrs = chat("m");
    attrs
        .as_array_mut()
        .unwrap()
        .push(json!({"key": "gen_ai.usage.output_tokens", "value": {"stringValue": "many"}}));
    fails(
        &[request(vec![span(T, S1, "", 10, 20, attrs)])],
        &d,
        &format!("trace {T} span {S1}: attribute `gen_ai.usage.output_tokens` of span `s`: must be a token count (a non-negative integer), got the string \"many\""),
    );
    fails(
        &[request(vec![
            span(T, S1, S2, 10, 20, chat("m")),
            span(T, S2, S1, 10, 20, json!([])),
        ])],
        &d,
        "parent chain (parentSpanId) forms a cycle",
    );
    fails(
        &[request(vec![span(T, S1, "", 10, 20, json!([]))])],
        &d,
        "no LLM call spans found (1 spans read)",
    );
    let target = |m: &str| ImportOptions {
        target_model: Some(m.into()),
        ..Default::default()
    };
    fails(
        std::slice::from_ref(&ok),
        &target("gpt-x"),
        "--target-model: no LLM call of model `gpt-x`; models seen: m (1 calls)",
    );
    let draft = ImportOptions {
        draft_models: vec!["m".into()],
        ..Default::default()
    };
    fails(
        std::slice::from_ref(&ok),
        &draft,
        "--draft-model `m` is the target model",
    );
    // Through the CLI: exit code 2 and the message.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.jsonl");
    std::fs::write(&f, format!("{ok}\n{{nope\n")).unwrap();
    Command::cargo_bin("specsim")
        .unwrap()
        .args(["import", "otel"])
        .arg(&f)
        .arg("--out")
        .arg(dir.path().join("t.jsonl"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("x.jsonl:2: not valid JSON"));
    assert!(
        !dir.path().join("t.jsonl").exists(),
        "nothing written on error"
    );
}

/// A process started by the test, killed (by its own handle) when dropped.
struct Spawned {
    child: Child,
    url: String,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(args: &[&std::ffi::OsStr]) -> Spawned {
    let mut child = Proc::cargo_bin("specsim")
        .unwrap()
        .args(args)
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().trim_end_matches('/').to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "printed {url:?}");
    Spawned { child, url }
}

fn post(url: &str, ctype: &str, gzip: bool, body: &[u8]) -> u16 {
    let mut r = ureq::post(url).set("Content-Type", ctype);
    let body = if gzip {
        r = r.set("Content-Encoding", "gzip");
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(body).unwrap();
        e.finish().unwrap()
    } else {
        body.to_vec()
    };
    match r.send_bytes(&body) {
        Ok(resp) => resp.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("transport error: {e}"),
    }
}

#[test]
fn collect_appends_what_it_accepts_and_the_import_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let spans = dir.path().join("spans.jsonl");
    let c = spawn(&[
        "collect".as_ref(),
        "--out".as_ref(),
        spans.as_os_str(),
        "--max-body-mib".as_ref(),
        "1".as_ref(),
    ]);
    let url = format!("{}/v1/traces", c.url);
    let ok = request(vec![
        span(T, S1, "", 10, 20, chat("m")),
        span(T, S2, "", 30, 40, chat("m")),
    ]);
    assert_eq!(post(&url, "application/json", false, ok.as_bytes()), 200);
    assert_eq!(post(&url, "application/json", true, ok.as_bytes()), 200);
    assert_eq!(post(&url, "text/plain", false, ok.as_bytes()), 415);
    assert_eq!(
        post(&url, "application/x-protobuf", false, b"\x0a\xff"),
        400
    );
    assert_eq!(post(&url, "application/json", false, b"[1,"), 400);
    assert_eq!(
        post(&url, "application/json", false, &vec![b' '; 2 << 20]),
        413
    );
    assert_eq!(
        post(&url, "application/json", true, &vec![b' '; 3 << 20]),
        413
    );
    assert_eq!(
        post(&url, "application/json", false, ok.as_bytes()),
        200,
        "still up"
    );
    let text = std::fs::read_to_string(&spans).unwrap();
    assert_eq!(text.lines().count(), 3);
    // The same spans three times: the import keeps them once.
    let imported = import(&[spans], &ImportOptions::default()).unwrap();
    assert_eq!(imported.summary.rules.duplicate_spans, 4);
    assert_eq!(imported.summary.iterations, 1);
}

/// The example agent's virtual environment (made by `.ci/run`).
fn agent_python() -> Option<PathBuf> {
    let venv = std::env::var_os("SPECSIM_AGENT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/agent-venv"));
    let python = venv.join("bin/python");
    python.exists().then_some(python)
}

#[test]
fn the_example_agent_is_replayed_within_two_percent() {
    let Some(python) = agent_python() else {
        eprintln!(
            "SKIPPED the_example_agent_is_replayed_within_two_percent: no virtual environment at \
             target/agent-venv (or $SPECSIM_AGENT_VENV); `.ci/run` creates it from \
             examples/agent/requirements.txt"
        );
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = root.join("examples/agent/scenario.json");
    let dir = tempfile::tempdir().unwrap();
    let spans = dir.path().join("spans.jsonl");
    let measured = dir.path().join("measured.jsonl");
    let site = spawn(&["serve-site".as_ref(), scenario.as_os_str()]);
    let llm = spawn(&["serve-llm".as_ref(), scenario.as_os_str()]);
    let collector = spawn(&["collect".as_ref(), "--out".as_ref(), spans.as_os_str()]);
    let status = Proc::new(python)
        .arg(root.join("examples/agent/agent.py"))
        .args(["--site", &format!("{}/", site.url)])
        .args(["--llm", &format!("{}/v1", llm.url)])
        .args(["--sessions", "4"])
        .arg("--measured")
        .arg(&measured)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.url)
        .env("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
        .status()
        .expect("the agent runs");
    assert!(status.success(), "the agent failed: {status}");
    let trace = dir.path().join("agent.jsonl");
    Command::cargo_bin("specsim")
        .unwrap()
        .args(["import", "otel"])
        .arg(&spans)
        .arg("--out")
        .arg(&trace)
        .assert()
        .success()
        .stderr(predicates::str::contains("4 sessions"))
        .stderr(predicates::str::contains("target model `target`"));
    let rows: Vec<Value> = std::fs::read_to_string(&measured)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4);
    let replayed = replayed_none(&trace);
    let t = read_trace(&trace).unwrap();
    for row in &rows {
        let id = row["session"].as_str().unwrap();
        let want = row["latency_s"].as_f64().unwrap();
        let (_, got) = replayed
            .iter()
            .find(|(s, _)| s == id)
            .expect("session imported");
        let got = *got as f64 / 1e9;
        let err = (got - want).abs() / want;
        eprintln!(
            "session {id}: measured {want:.4} s, replayed under none {got:.4} s, error {:.3} %",
            100.0 * err
        );
        assert!(
            err < 0.02,
            "session {id}: measured {want} s, replayed {got} s"
        );
        // One iteration per LLM call: each call but the last is followed by a page fetch.
        let s = t.sessions.iter().find(|s| s.session.session == id).unwrap();
        assert_eq!(
            s.iterations.len() as u64,
            row["llm_calls"].as_u64().unwrap()
        );
        assert!(s.iterations.iter().all(|(_, i)| i.other_s.is_some()));
    }
    // The third command: a what-if table of the agent's own trace.
    let w = whatif_json(&trace, &[]);
    let points = w["points"].as_array().unwrap();
    let at = |a: f64| {
        points
            .iter()
            .find(|p| p["width"] == 1 && p["accuracy"].as_f64() == Some(a))
            .map(|p| p["speedup"].as_f64().unwrap())
            .unwrap()
    };
    assert!(at(1.0) > at(0.0) && at(1.0) > 1.0, "{w}");
}

fn whatif_json(trace: &Path, extra: &[&str]) -> Value {
    let out = Command::cargo_bin("specsim")
        .unwrap()
        .arg("whatif")
        .arg(trace)
        .args([
            "--widths",
            "1,3",
            "--caches",
            "10",
            "--accuracy-step",
            "0.25",
        ])
        .args(["--replications", "4", "--json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn whatif_sweeps_accuracy_and_finds_break_even_points() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    import(&[fixture("genai.jsonl")], &ImportOptions::default())
        .unwrap()
        .write(&trace)
        .unwrap();
    let w = whatif_json(&trace, &["--threads", "1"]);
    assert_eq!(
        w,
        whatif_json(&trace, &["--threads", "2"]),
        "thread count changes nothing"
    );
    let points = w["points"].as_array().unwrap();
    assert_eq!(points.len(), 2 * 5, "2 widths x 5 accuracies x 1 cache");
    assert_eq!(w["sessions"], 3);
    // Without speculation the replay is the recorded trace: (1.0 + 0.3 + 0.3) / 3 s.
    assert!((w["session_latency_none_s"].as_f64().unwrap() - 1.6 / 3.0).abs() < 1e-9);
    for k in [1, 3] {
        let curve: Vec<(f64, f64, f64)> = points
            .iter()
            .filter(|p| p["width"] == k)
            .map(|p| {
                (
                    p["accuracy"].as_f64().unwrap(),
                    p["speedup"].as_f64().unwrap(),
                    p["web_time_reduction"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            curve.iter().map(|c| c.0).collect::<Vec<_>>(),
            vec![0.0, 0.25, 0.5, 0.75, 1.0]
        );
        // A perfect draft hides web time a useless one cannot.
        assert!(curve[4].1 > curve[0].1, "{curve:?}");
        assert!(curve[4].2 > 0.5 && curve[0].2 < curve[4].2, "{curve:?}");
        let be: Vec<&Value> = w["break_even"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["width"] == k)
            .collect();
        assert_eq!(be.len(), 2);
        assert_eq!(
            (be[0]["speedup"].as_f64(), be[1]["speedup"].as_f64()),
            (Some(1.1), Some(1.2))
        );
        // Where reached, the interpolated accuracy lies between the grid points around it.
        for b in be {
            if let Some(a) = b["accuracy"].as_f64() {
                let level = b["speedup"].as_f64().unwrap();
                let i = curve.iter().position(|c| c.1 >= level).unwrap();
                assert!(
                    a <= curve[i].0 && (i == 0 || a >= curve[i - 1].0),
                    "{a} {curve:?}"
                );
            }
        }
    }
}

#[test]
fn whatif_table_plots_and_bad_options() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    import(&[fixture("genai.jsonl")], &ImportOptions::default())
        .unwrap()
        .write(&trace)
        .unwrap();
    let figs = dir.path().join("figs");
    Command::cargo_bin("specsim")
        .unwrap()
        .arg("whatif")
        .arg(&trace)
        .args([
            "--widths",
            "2",
            "--caches",
            "10",
            "--accuracy-step",
            "0.5",
            "--replications",
            "2",
        ])
        .arg("--plots")
        .arg(&figs)
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "speedup (x) by draft accuracy P(k)",
        ))
        .stdout(predicates::str::contains("P(k) for 1.1x"))
        .stdout(predicates::str::contains("interpolated linearly"));
    for f in [
        "whatif_speedup_cache10.svg",
        "whatif_speedup_cache10.png",
        "whatif_web_cache10.svg",
        "whatif_web_cache10.png",
    ] {
        assert!(figs.join(f).metadata().unwrap().len() > 1000, "{f}");
    }
    let svg = std::fs::read_to_string(figs.join("whatif_speedup_cache10.svg")).unwrap();
    assert!(svg.contains("draft accuracy P(k)"));
    let fails = |args: &[&str], needle: &str| {
        Command::cargo_bin("specsim")
            .unwrap()
            .arg("whatif")
            .arg(&trace)
            .args(args)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(needle.to_string()));
    };
    fails(
        &["--accuracy-step", "0.3"],
        "--accuracy-step: must divide 1 evenly",
    );
    fails(&["--widths", "0"], "--widths: 0 is not allowed (1 to 64)");
    fails(
        &["--draft-fraction", "0"],
        "--draft-fraction: must be > 0, got 0",
    );
    fails(
        &["--draft-profile", "no-such-profile"],
        "--draft-profile: no file `no-such-profile`",
    );
    let fetch_profile =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/profiles/fetch/har_requests.json");
    fails(
        &["--draft-profile", fetch_profile.to_str().unwrap()],
        "not an LLM profile",
    );
    let profile = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("traces/profiles/thefastest/thefastest_openai_gpt-4-turbo.json");
    let w = whatif_json(&trace, &["--draft-profile", profile.to_str().unwrap()]);
    assert!(w["draft_latency"].as_str().unwrap().starts_with("profile "));
}
