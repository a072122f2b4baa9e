//! Live mode end to end on loopback: the stand-in servers, `specsim live`, `specsim validate`,
//! and a misbehaving site and LLM API (500, 429 with Retry-After, garbage JSON, a slow body,
//! a redirect off-origin, an oversized page), each handled as docs/live.md says.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Proc, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use assert_cmd::Command;
use serde_json::{json, Value};
use specsim::io::trace::{read_trace, Trace, TraceAction};
use tiny_http::{Header, Response, Server};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/live")
        .join(name)
}

/// A server process started by the test, killed (by its own handle) when dropped.
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

fn spawn_server(args: &[&str]) -> Spawned {
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
    let url = line.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "printed {url:?}");
    Spawned { child, url }
}

fn live_cmd(config: &Path, trace: &Path, extra: &[&str]) -> Proc {
    let mut c = Proc::cargo_bin("specsim").unwrap();
    c.arg("live").arg(config).arg("-o").arg(trace).args(extra);
    c
}

fn validate_json(trace: &Path, baseline: &Path) -> Value {
    let out = Command::cargo_bin("specsim")
        .unwrap()
        .arg("validate")
        .arg(trace)
        .arg("--baseline")
        .arg(baseline)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rel_error(v: &Value, metric: &str) -> f64 {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == metric)
        .unwrap_or_else(|| panic!("no row {metric}"))["rel_error"]
        .as_f64()
        .unwrap()
}

#[test]
fn loopback_runs_are_predicted_within_five_percent() {
    // serve-site + serve-llm on loopback (latencies ~0.1 s), then `live` for none, random and
    // speccache at once (so they share the machine's load), then `validate`. Bounds: 5 % on
    // the mean iteration latency and on the speedup over none (issue 6).
    let site = spawn_server(&["serve-site", fixture("standin.json").to_str().unwrap()]);
    let llm = spawn_server(&["serve-llm", fixture("standin.json").to_str().unwrap()]);
    let dir = tempfile::tempdir().unwrap();
    let llm_v1 = format!("{}v1", llm.url);
    // The fourth run is speccache again with 3 sessions at a time (interleaved trace).
    let runs: Vec<(&str, PathBuf)> = ["none", "random", "speccache", "speccache"]
        .iter()
        .enumerate()
        .map(|(i, p)| (*p, dir.path().join(format!("{i}-{p}.jsonl"))))
        .collect();
    let children: Vec<Child> = runs
        .iter()
        .enumerate()
        .map(|(i, (p, t))| {
            let parallel = if i == 3 { "3" } else { "1" };
            live_cmd(
                &fixture("live.json"),
                t,
                &[
                    "--policy",
                    p,
                    "--sessions",
                    "6",
                    "--parallel",
                    parallel,
                    "--site",
                    &site.url,
                    "--llm",
                    &llm_v1,
                ],
            )
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for mut c in children {
        let status = c.wait().unwrap();
        let mut err = String::new();
        c.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        assert!(status.success(), "live failed: {err}");
        assert!(err.contains("6 sessions (0 failed)"), "{err}");
    }
    let none = read_trace(&runs[0].1).unwrap();
    let spec = read_trace(&runs[2].1).unwrap();
    // The same tasks follow the same hidden paths whatever the policy.
    let pages = |t: &Trace| -> Vec<Option<String>> {
        t.sessions
            .iter()
            .flat_map(|s| {
                s.iterations
                    .iter()
                    .map(|(_, it)| it.page.as_ref().map(|p| format!("{p:?}")))
            })
            .collect()
    };
    assert_eq!(pages(&none), pages(&spec));
    let parallel = read_trace(&runs[3].1).unwrap();
    assert_eq!(parallel.sessions.len(), 6);
    let mut by_id = parallel.sessions.clone();
    by_id.sort_by_key(|s| s.session.session[1..].parse::<u32>().unwrap());
    let sorted = Trace {
        sessions: by_id,
        ..parallel.clone()
    };
    assert_eq!(
        pages(&sorted),
        pages(&spec),
        "parallel sessions walk the same paths"
    );
    assert!(pages(&spec).len() >= 20, "enough iterations to compare");
    for (policy, trace) in &runs[1..] {
        let v = validate_json(trace, &runs[0].1);
        let mean = rel_error(&v, "mean iteration latency");
        let speedup = rel_error(&v, "speedup over none");
        let counterfactual = rel_error(&v, "speedup over none (counterfactual)");
        eprintln!(
            "{}: outcome agreement {}, mean iteration latency {:+.2} %, speedup {:+.2} %, counterfactual speedup {:+.2} %",
            trace.file_name().unwrap().to_string_lossy(),
            v["outcome_agreement"],
            mean * 100.0,
            speedup * 100.0,
            counterfactual * 100.0
        );
        // The live run and its replay share one clock: each iteration is served as live.
        let agreement = v["outcome_agreement"].as_f64().unwrap();
        assert!(agreement >= 0.95, "{policy}: outcome agreement {agreement}");
        assert!(mean.abs() < 0.05, "{policy}: mean latency error {mean}");
        assert!(speedup.abs() < 0.05, "{policy}: speedup error {speedup}");
        assert!(
            counterfactual.abs() < 0.05,
            "{policy}: counterfactual speedup error {counterfactual}"
        );
        if *policy == "speccache" {
            let hit = &v["rows"].as_array().unwrap()[3];
            assert_eq!(hit["metric"], "hit rate");
            assert!(
                hit["live"].as_f64().unwrap() > 0.5,
                "the draft helps: {hit}"
            );
            assert!(rel_error(&v, "hit rate").abs() < 0.05);
        }
    }
}

/// A scripted HTTP server in the test process.
struct Fake {
    server: Arc<Server>,
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

type Handler = dyn Fn(usize, &str, &str) -> Response<Box<dyn Read + Send>> + Send + Sync;

fn fake(handler: Box<Handler>) -> Fake {
    let server = Arc::new(Server::http("127.0.0.1:0").unwrap());
    let url = format!("http://{}", server.server_addr().to_ip().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let handler: Arc<Handler> = Arc::from(handler);
    for _ in 0..8 {
        let (server, seen, count, handler) =
            (server.clone(), seen.clone(), count.clone(), handler.clone());
        std::thread::spawn(move || {
            while let Ok(mut req) = server.recv() {
                let mut body = String::new();
                let _ = req.as_reader().read_to_string(&mut body);
                let auth = req
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("Authorization"))
                    .map(|h| h.value.to_string())
                    .unwrap_or_default();
                seen.lock().unwrap().push(auth.clone());
                let n = count.fetch_add(1, Ordering::SeqCst);
                let resp = handler(n, req.url(), &format!("{auth}\n{body}"));
                let _ = req.respond(resp);
            }
        });
    }
    Fake { server, url, seen }
}

impl Drop for Fake {
    fn drop(&mut self) {
        for _ in 0..8 {
            self.server.unblock();
        }
    }
}

fn h(k: &str, v: &str) -> Header {
    Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap()
}

fn text(code: u16, ctype: &str, body: String) -> Response<Box<dyn Read + Send>> {
    Response::new(
        code.into(),
        vec![h("Content-Type", ctype)],
        Box::new(std::io::Cursor::new(body.into_bytes())) as Box<dyn Read + Send>,
        None,
        None,
    )
}

fn completion(content: &str) -> Response<Box<dyn Read + Send>> {
    let v = json!({"choices": [{"message": {"role": "assistant", "content": content}}],
                   "usage": {"prompt_tokens": 10, "completion_tokens": 2}});
    text(200, "application/json", v.to_string())
}

/// A page with links to `hrefs` (label = href without the slash).
fn page(hrefs: &[&str]) -> Response<Box<dyn Read + Send>> {
    let links: String = hrefs
        .iter()
        .map(|l| format!("<a href=\"{l}\">{}</a> ", l.trim_start_matches('/')))
        .collect();
    text(
        200,
        "text/html",
        format!("<html><title>t</title><body>{links}</body></html>"),
    )
}

/// A small site: `/` links to a and b, which link back.
fn tiny_site() -> Fake {
    fake(Box::new(|_, url, _| match url {
        "/" => page(&["/a", "/b"]),
        _ => page(&["/"]),
    }))
}

fn config(dir: &Path, site: &str, llm: &str, extra: Value) -> PathBuf {
    let mut c = json!({
        "site": format!("{site}/"),
        "tasks": ["t"],
        "policy": "speccache",
        "max_rounds": 4,
        "target": {"base_url": format!("{llm}/v1"), "model": "target",
                   "api_key_env": "SPECSIM_TEST_KEY", "timeout_s": 5, "retries": 4},
        "drafts": [{"base_url": format!("{llm}/v1"), "model": "draft",
                    "api_key_env": "SPECSIM_TEST_KEY", "timeout_s": 5, "retries": 1}],
        "web": {"timeout_s": 0.5, "retries": 1},
        "backoff": {"base_s": 0.01, "max_s": 0.05, "max_retry_after_s": 5}
    });
    if let (Some(c), Some(e)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            c.insert(k.clone(), v.clone());
        }
    }
    let p = dir.join("live.json");
    std::fs::write(&p, c.to_string()).unwrap();
    p
}

const KEY: &str = "sk-test-5ecret-never-print";

#[test]
fn llm_errors_are_retried_and_the_key_never_leaks() {
    // Target: 500 echoing the Authorization header, 429 with Retry-After: 1, garbage JSON,
    // then a click; then an answer. Draft: always garbage (no predictions, run goes on).
    let llm = fake(Box::new(|_, _, body| {
        let draft = body.contains("\"model\":\"draft\"");
        if draft {
            return text(200, "application/json", "{\"choices\": oops".into());
        }
        static TARGET: AtomicUsize = AtomicUsize::new(0);
        match TARGET.fetch_add(1, Ordering::SeqCst) {
            0 => text(
                500,
                "text/plain",
                format!("internal error; you sent {}", body.lines().next().unwrap()),
            ),
            1 => {
                let mut r = text(429, "application/json", "{\"error\":\"slow down\"}".into());
                r.add_header(h("Retry-After", "1"));
                r
            }
            2 => text(200, "text/html", "<html>not json</html>".into()),
            3 => completion("Let me think.\nCLICK [1]"),
            _ => completion("ANSWER: found it"),
        }
    }));
    let site = tiny_site();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &site.url, &llm.url, json!({}));
    let trace = dir.path().join("t.jsonl");
    let out = live_cmd(&cfg, &trace, &[])
        .env("SPECSIM_TEST_KEY", KEY)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let raw = std::fs::read_to_string(&trace).unwrap();
    assert!(
        !raw.contains(KEY) && !stderr.contains(KEY),
        "the key leaked"
    );
    assert!(
        llm.seen
            .lock()
            .unwrap()
            .iter()
            .all(|a| a == &format!("Bearer {KEY}")),
        "every request carries the key"
    );
    assert!(stderr.contains("draft 0 failed"), "{stderr}");
    assert!(stderr.contains("not Chat Completions JSON"), "{stderr}");
    let t = read_trace(&trace).unwrap();
    let its: Vec<_> = t.sessions[0].iterations.iter().map(|(_, it)| it).collect();
    assert_eq!(its.len(), 2);
    assert_eq!(its[0].action, TraceAction::Click);
    assert_eq!(
        its[0].page,
        Some(specsim::io::trace::PageRef::Name(format!("{}/b", site.url)))
    );
    let think = its[0].target.as_ref().unwrap().latency_s;
    assert!(think >= 1.0, "Retry-After: 1 was honoured: {think}");
    assert!(its[0].drafts[0].predictions.is_empty());
    assert_eq!(its[1].action, TraceAction::Answer);
}

#[test]
fn missing_key_variable_is_a_config_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        json!({}),
    );
    Command::cargo_bin("specsim")
        .unwrap()
        .arg("live")
        .arg(&cfg)
        .arg("-o")
        .arg(dir.path().join("t.jsonl"))
        .env_remove("SPECSIM_TEST_KEY")
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "target.api_key_env: environment variable SPECSIM_TEST_KEY is not set",
        ));
}

#[test]
fn unparseable_and_failing_targets_fall_back_and_keep_the_trace_valid() {
    // Task "vague": the target never names a button: re-asked once, then the session ends
    // with an answer. Task "broken": the target always sends garbage JSON: the call fails
    // after its retries, the session fails (exit 1), the trace stays valid.
    let llm = fake(Box::new(|_, _, body| {
        if body.contains("Task: broken") {
            text(200, "application/json", "[1, 2".into())
        } else {
            completion("Hmm, maybe the third one?")
        }
    }));
    let site = tiny_site();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &site.url,
        &llm.url,
        json!({"tasks": ["vague", "broken"], "policy": "none", "drafts": []}),
    );
    let trace = dir.path().join("t.jsonl");
    let out = live_cmd(&cfg, &trace, &[])
        .env("SPECSIM_TEST_KEY", KEY)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("named no valid button"), "{stderr}");
    assert!(stderr.contains("1 of 2 sessions failed"), "{stderr}");
    assert!(stderr.contains("gave up after 5 attempts"), "{stderr}");
    let t = read_trace(&trace).unwrap();
    assert_eq!(t.sessions.len(), 2);
    let vague: Vec<_> = t.sessions[0].iterations.iter().map(|(_, it)| it).collect();
    assert_eq!(vague.len(), 1);
    assert_eq!(vague[0].action, TraceAction::Answer);
    assert!(t.sessions[1].iterations.is_empty());
}

/// A body that arrives in small pieces, `gap` apart.
struct Trickle {
    left: usize,
    gap: Duration,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        std::thread::sleep(self.gap);
        let n = buf.len().min(8).min(self.left);
        buf[..n].fill(b' ');
        self.left -= n;
        Ok(n)
    }
}

#[test]
fn site_failures_become_error_pages_and_the_run_goes_on() {
    // /slow trickles its body past web.timeout_s; /away redirects to another origin; /big is
    // larger than web.max_page_bytes (cut, its first links kept); the off-origin link on /
    // is never offered. Each task clicks the button of its name, then answers.
    let site = fake(Box::new(|_, url, _| match url {
        "/" => {
            let mut r = page(&["/slow", "/away", "/big"]);
            let body = "<a href=\"http://elsewhere.invalid/x\">elsewhere</a>";
            r = Response::new(
                r.status_code(),
                vec![h("Content-Type", "text/html")],
                Box::new(std::io::Cursor::new(
                    format!("<a href=\"/slow\">slow</a><a href=\"/away\">away</a><a href=\"/big\">big</a>{body}").into_bytes(),
                )) as Box<dyn Read + Send>,
                None,
                None,
            );
            r
        }
        "/slow" => Response::new(
            200.into(),
            vec![h("Content-Type", "text/html")],
            Box::new(Trickle {
                left: 4000,
                gap: Duration::from_millis(50),
            }) as Box<dyn Read + Send>,
            Some(4000),
            None,
        ),
        "/away" => {
            let mut r = text(302, "text/html", String::new());
            r.add_header(h("Location", "http://127.0.0.2:1/elsewhere"));
            r
        }
        "/big" => {
            let mut s = String::from("<a href=\"/first\">first</a>");
            s.push_str(&"x".repeat(5000));
            s.push_str("<a href=\"/late\">late</a>");
            text(200, "text/html", s)
        }
        _ => page(&[]),
    }));
    let llm = fake(Box::new(|_, _, body| {
        let task = body
            .split("Task: ")
            .nth(1)
            .and_then(|t| t.split("\\n").next())
            .unwrap_or("");
        if body.contains("Step: 0") {
            completion(&format!("CLICK {task}"))
        } else {
            completion("ANSWER: nothing there")
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &site.url,
        &llm.url,
        json!({"tasks": ["slow", "away", "big"], "policy": "cache", "drafts": [],
               "web": {"timeout_s": 0.5, "retries": 1, "max_page_bytes": 1000}}),
    );
    let trace = dir.path().join("t.jsonl");
    let started = Instant::now();
    let out = live_cmd(&cfg, &trace, &[])
        .env("SPECSIM_TEST_KEY", KEY)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(stderr.contains("redirect refused"), "{stderr}");
    assert!(stderr.contains("2 failed fetches"), "{stderr}");
    let t = read_trace(&trace).unwrap();
    let root_links = t.sessions[0].session.root_links.clone().unwrap();
    assert_eq!(root_links.len(), 3, "the off-origin link is not offered");
    for (s, want_links) in t.sessions.iter().zip([0, 0, 1]) {
        let its: Vec<_> = s.iterations.iter().map(|(_, it)| it).collect();
        assert_eq!(its.len(), 2, "{}: click then answer", s.session.task);
        assert_eq!(its[0].action, TraceAction::Click);
        assert_eq!(
            its[0].links.as_ref().unwrap().len(),
            want_links,
            "{}",
            s.session.task
        );
        assert_eq!(its[1].action, TraceAction::Answer);
    }
    let slow = t.sessions[0].iterations[0].1.fetch_s.unwrap();
    assert!(
        (0.5..5.0).contains(&slow),
        "timed out twice at 0.5 s: {slow}"
    );
}

#[test]
fn ctrl_c_keeps_the_trace_so_far() {
    let site = spawn_server(&["serve-site", fixture("standin.json").to_str().unwrap()]);
    let llm = spawn_server(&["serve-llm", fixture("standin.json").to_str().unwrap()]);
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    let llm_v1 = format!("{}v1", llm.url);
    let mut child = live_cmd(
        &fixture("live.json"),
        &trace,
        &["--sessions", "50", "--site", &site.url, "--llm", &llm_v1],
    )
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&trace).map_or(0, |s| s.lines().count()) < 4 {
        assert!(
            Instant::now() < deadline,
            "the run writes its trace as it goes"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let ok = Proc::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted: the trace so far is in"), "{err}");
    let t = read_trace(&trace).unwrap();
    assert!(!t.sessions.is_empty() && t.sessions.len() < 50);
}

#[test]
fn bad_input_is_named_with_exit_code_2() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/example.jsonl");
    Command::cargo_bin("specsim")
        .unwrap()
        .arg("validate")
        .arg(&example)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "iteration_s: missing; only traces written by `specsim live` can be validated",
        ));
    Command::cargo_bin("specsim")
        .unwrap()
        .args([
            "serve-site",
            "--port",
            "0",
            "--latency",
            r#"{"dist":"normal","mean":-1,"std":1}"#,
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--latency.mean: must be a finite number >= 0, got -1",
        ));
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.json");
    std::fs::write(
        &cfg,
        r#"{"site": "http://127.0.0.1:9/", "policy": "speccache",
            "target": {"base_url": "http://127.0.0.1:9/v1", "model": "t"}}"#,
    )
    .unwrap();
    Command::cargo_bin("specsim")
        .unwrap()
        .arg("live")
        .arg(&cfg)
        .arg("-o")
        .arg(dir.path().join("t.jsonl"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "c.json: drafts: policy `speccache` needs at least one draft, got none",
        ));
}

#[test]
fn every_request_goes_through_the_configured_proxy() {
    // The site and the LLM live at names that do not resolve; only the proxy can reach them.
    let proxy = fake(Box::new(|_, url, body| {
        if url.ends_with("/chat/completions") {
            completion(if body.contains("Step: 0") {
                "CLICK [0]"
            } else {
                "ANSWER: ok"
            })
        } else if url.starts_with("http://site.invalid/") {
            page(&["/a"])
        } else {
            text(502, "text/plain", format!("unexpected {url}"))
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "http://site.invalid",
        "http://llm.invalid",
        json!({"policy": "none", "drafts": [], "proxy": proxy.url}),
    );
    let trace = dir.path().join("t.jsonl");
    let out = live_cmd(&cfg, &trace, &[])
        .env("SPECSIM_TEST_KEY", KEY)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    let t = read_trace(&trace).unwrap();
    let its = &t.sessions[0].iterations;
    assert_eq!(its.len(), 2);
    assert_eq!(
        its[0].1.page,
        Some(specsim::io::trace::PageRef::Name(
            "http://site.invalid/a".into()
        ))
    );
}

#[test]
fn back_actions_go_through_http_and_replay_exactly() {
    // The stand-in's walker goes back with probability 0.4; the target replies BACK where its
    // hidden path steps back and the prompt offers it. The live trace records `back`
    // iterations, a back visit can hit the cache, and the replay serves every iteration as
    // the live run did.
    let dir = tempfile::tempdir().unwrap();
    let mut sc: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("standin.json")).unwrap()).unwrap();
    sc["agent"]["back_prob"] = 0.4.into();
    let standin = dir.path().join("standin.json");
    std::fs::write(&standin, sc.to_string()).unwrap();
    let site = spawn_server(&["serve-site", standin.to_str().unwrap()]);
    let llm = spawn_server(&["serve-llm", standin.to_str().unwrap()]);
    let trace = dir.path().join("spec.jsonl");
    let out = live_cmd(
        &fixture("live.json"),
        &trace,
        &[
            "--policy",
            "speccache",
            "--sessions",
            "6",
            "--site",
            &site.url,
            "--llm",
            &format!("{}v1", llm.url),
        ],
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let t = read_trace(&trace).unwrap();
    let actions: Vec<TraceAction> = t
        .sessions
        .iter()
        .flat_map(|s| s.iterations.iter().map(|(_, it)| it.action))
        .collect();
    let backs = actions.iter().filter(|a| **a == TraceAction::Back).count();
    assert!(backs >= 2, "back actions recorded: {actions:?}");
    assert!(
        stderr.contains(&format!("{backs} back actions")),
        "{stderr}"
    );
    let v = Command::cargo_bin("specsim")
        .unwrap()
        .args(["validate", "--json"])
        .arg(&trace)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(v["outcome_agreement"], 1.0, "{v}");
}
