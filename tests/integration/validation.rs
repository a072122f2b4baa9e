//! The real-site validation tooling: `specsim crawl` (the agent's link rules, robots.txt,
//! BFS order, politeness), `serve-llm` replaying recorded latencies in order, the quick start
//! of docs/live.md as written, and the reduced protocol of scripts/validation/run.sh.
//! No nginx here: sites are in-process servers or `serve-site`'s own HTML.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Proc, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{json, Value};
use specsim::io::trace::read_trace;
use specsim::live::config::WebSpec;
use specsim::live::retry::{BackoffSpec, Stop};
use specsim::live::web::Fetcher;
use specsim::sim::site::GraphFile;
use tiny_http::{Header, Response, Server};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("specsim")
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

/// An HTML site in this process; records the paths requested, in order.
struct Site {
    server: Arc<Server>,
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Drop for Site {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

fn header(k: &str, v: &str) -> Header {
    Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap()
}

type Pages = BTreeMap<&'static str, (u16, &'static str, String)>;

fn site(pages: Pages) -> Site {
    let server = Arc::new(Server::http("127.0.0.1:0").unwrap());
    let url = format!("http://{}", server.server_addr().to_ip().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (s, log) = (server.clone(), seen.clone());
    std::thread::spawn(move || {
        while let Ok(req) = s.recv() {
            log.lock().unwrap().push(req.url().to_string());
            let resp = match pages.get(req.url()) {
                Some((301, _, to)) => Response::from_data(Vec::new())
                    .with_status_code(301)
                    .with_header(header("Location", to)),
                Some((code, ctype, body)) => Response::from_data(body.clone().into_bytes())
                    .with_status_code(*code)
                    .with_header(header("Content-Type", ctype)),
                None => Response::from_data(b"no".to_vec()).with_status_code(404),
            };
            let _ = req.respond(resp);
        }
    });
    Site { server, url, seen }
}

fn html(links: &[&str]) -> (u16, &'static str, String) {
    let a: String = links
        .iter()
        .map(|l| format!("<a href=\"{l}\">{l}</a>\n"))
        .collect();
    (
        200,
        "text/html; charset=utf-8",
        format!("<html><head><title>t</title></head><body>{a}</body></html>"),
    )
}

fn crawl(args: &[&str]) -> (std::process::Output, GraphFile, Value) {
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("g.json");
    let b = dir.path().join("b.json");
    let out = Proc::new(bin())
        .arg("crawl")
        .args(args)
        .arg("--out")
        .arg(&g)
        .arg("--buttons")
        .arg(&b)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let graph = GraphFile::read(&g).unwrap();
    let buttons: Value = serde_json::from_str(&std::fs::read_to_string(&b).unwrap()).unwrap();
    (out, graph, buttons)
}

#[test]
fn crawl_follows_the_agents_link_rules_and_robots_txt() {
    let mut pages: Pages = BTreeMap::new();
    pages.insert(
        "/robots.txt",
        (
            200,
            "text/plain",
            "User-agent: *\nDisallow: /private/\n".into(),
        ),
    );
    let root = html(&[
        "a.html#top",
        "/a.html",
        "/private/x.html",
        "data.txt",
        "missing.html",
        "/redir",
        "http://elsewhere.example/",
        "mailto:x@y.z",
    ]);
    let root_bytes = root.2.len() as u64;
    pages.insert("/", root);
    pages.insert("/a.html", html(&["/", "b.html"]));
    pages.insert("/redir", (301, "", "/b.html".into()));
    pages.insert("/b.html", html(&["a.html", "b.html#self"]));
    pages.insert("/data.txt", (200, "text/plain", "not a page".into()));
    pages.insert("/private/x.html", html(&["/"]));
    let s = site(pages);
    let (out, g, buttons) = crawl(&[&format!("{}/", s.url), "--delay", "0"]);
    let u = |p: &str| format!("{}{p}", s.url);
    let names: Vec<&str> = g.pages.iter().map(|p| p.name.as_str()).collect();
    // Breadth first in document order; a redirected page keeps the URL it was linked by.
    assert_eq!(
        names,
        vec![&u("/")[..], &u("/a.html"), &u("/redir"), &u("/b.html")]
    );
    assert_eq!(g.root, 0);
    assert_eq!(
        g.edges,
        vec![
            [0, 1],
            [0, 2],
            [1, 0],
            [1, 3],
            [2, 1],
            [2, 3],
            [3, 1],
            [3, 3]
        ]
    );
    // The agent's buttons of `/`: fragments dropped and deduplicated, other origins and
    // mailto left out; robots-excluded, non-HTML and failed pages are not pages.
    assert_eq!(
        buttons["pages"],
        json!([[1, null, null, null, 2], [0, 3], [1, 3], [1, 3]])
    );
    let sizes: Vec<u64> = g.pages.iter().map(|p| p.bytes).collect();
    assert_eq!(sizes[0], root_bytes, "the whole body");
    assert_eq!(sizes[2], sizes[3], "the redirect's target body");
    let seen = s.seen.lock().unwrap().clone();
    assert_eq!(seen[0], "/robots.txt", "robots.txt first");
    assert!(!seen.iter().any(|p| p.starts_with("/private")), "{seen:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("crawled 4 pages") && err.contains("left out: 1 failed, 1 not html, 1 robots"),
        "{err}"
    );
    // The same buttons as the live agent's fetcher offers for each page.
    let fetcher = Fetcher::with(
        WebSpec::default(),
        BackoffSpec::default(),
        vec![s.url.clone()],
        1,
        None,
        Stop::new(),
    );
    for (i, p) in g.pages.iter().enumerate() {
        let agent: Vec<String> = fetcher
            .fetch(&p.name, 0)
            .unwrap()
            .parsed
            .links
            .into_iter()
            .map(|l| l.url)
            .collect();
        let crawled: Vec<String> = buttons["pages"][i]
            .as_array()
            .unwrap()
            .iter()
            .zip(&agent)
            .filter_map(|(b, url)| b.as_u64().map(|v| (v, url)))
            .map(|(v, url)| {
                assert_eq!(g.pages[v as usize].name, *url, "button of page {i}");
                url.clone()
            })
            .collect();
        assert_eq!(
            buttons["pages"][i].as_array().unwrap().len(),
            agent.len(),
            "page {i}: as many buttons as the agent sees"
        );
        assert!(!crawled.is_empty());
    }
}

#[test]
fn crawl_of_serve_site_reproduces_its_graph_politely() {
    // A 40-page graph served by serve-site; the crawl (names /p/N) gives back its edges.
    let dir = tempfile::tempdir().unwrap();
    let n = 40u32;
    let mut edges = Vec::new();
    for u in 0..n {
        for k in [1, 7, 13] {
            edges.push([u, (u * 3 + k) % n]);
        }
    }
    let file = dir.path().join("served.json");
    std::fs::write(&file, json!({"root": 0, "edges": edges}).to_string()).unwrap();
    let served = spawn_server(&["serve-site", "--graph", file.to_str().unwrap()]);
    let t0 = Instant::now();
    let (out, g, _) = crawl(&[&served.url, "--delay", "0.02", "--max-pages", "100"]);
    let took = t0.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    // `/` redirects to /p/0: the root is named `/` and /p/0 is a page of its own.
    let id = |name: &str| -> u32 {
        let path = name.split_once("//").unwrap().1.split_once('/').unwrap().1;
        match path {
            "" => n,
            p => p.strip_prefix("p/").unwrap().parse().unwrap(),
        }
    };
    let ids: Vec<u32> = g.pages.iter().map(|p| id(&p.name)).collect();
    let mut got: Vec<[u32; 2]> = g
        .edges
        .iter()
        .filter(|e| ids[e[0] as usize] != n)
        .map(|e| [ids[e[0] as usize], ids[e[1] as usize]])
        .collect();
    got.sort_unstable();
    let mut want = edges.clone();
    want.sort_unstable();
    want.dedup();
    assert_eq!(got, want);
    assert_eq!(g.pages.len(), 41, "{err}");
    // Politeness: 0.02 s between requests (robots.txt and a redirect hop included).
    let requests: u64 = err
        .split(" requests")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no request count in {err}"));
    assert!(requests >= 43, "{err}");
    assert!(
        took >= Duration::from_secs_f64(0.02 * (requests - 1) as f64),
        "{took:?} for {requests} requests"
    );
    // A page limit keeps the first pages in BFS order.
    let (out, small, _) = crawl(&[&served.url, "--delay", "0", "--max-pages", "5"]);
    assert_eq!(small.pages.len(), 5);
    assert_eq!(
        small.pages[..],
        g.pages[..5],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn crawl_rejects_bad_input_with_exit_code_2() {
    let out = Proc::new(bin())
        .args(["crawl", "ftp://x/", "--out", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be http or https"));
    let out = Proc::new(bin())
        .args([
            "crawl",
            "http://127.0.0.1:1/",
            "--out",
            "/dev/null",
            "--allow",
            "nope",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow: must be an origin"));
}

fn post(url: &str, model: &str, page: u32, k: Option<usize>) -> Value {
    let mut text = format!("Task: t\nStep: 0\nURL: http://h/p/{page}\nTitle: x\nPage text:\nx\n\nButtons:\n[0] Page 1\n[1] Page 2\n");
    if let Some(k) = k {
        text.push_str(&format!("\nList exactly {k} buttons, most likely first."));
    }
    let body = json!({"model": model, "messages": [{"role": "user", "content": text}]});
    let text = ureq::post(&format!("{url}v1/chat/completions"))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string())
        .unwrap()
        .into_string()
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn serve_llm_replays_recorded_latencies_in_order_per_role() {
    let dir = tempfile::tempdir().unwrap();
    // Rows of two models, tokens marking their order; the failed row (0 tokens) is skipped.
    let rows = [
        ("m/target", 0.05, 11),
        ("m/draft", 0.01, 21),
        ("m/target", 0.30, 12),
        ("m/target", 0.0, 0),
        ("m/draft", 0.01, 22),
        ("m/target", 0.05, 13),
    ];
    let lines: String = rows
        .iter()
        .map(|(m, t, n)| {
            json!({"time": "2024-04-15T08:00:00", "region": "iad", "cmd": "", "model": m,
                   "ttr": t, "ttft": t, "tps": 1.0, "num_tokens": n, "total_time": t})
            .to_string()
                + "\n"
        })
        .collect();
    let file = dir.path().join("rows.jsonl");
    std::fs::write(&file, lines).unwrap();
    let f = file.to_str().unwrap();
    let scenario = repo().join("tests/fixtures/live/standin.json");
    let llm = spawn_server(&[
        "serve-llm",
        scenario.to_str().unwrap(),
        "--target-replay",
        f,
        "--target-replay-model",
        "m/target",
        "--draft-replay",
        f,
        "--draft-replay-model",
        "m/draft",
        "--replay-scale",
        "2",
    ]);
    let tokens = |v: &Value| v["usage"]["completion_tokens"].as_u64().unwrap();
    let mut target = Vec::new();
    let mut slow = Duration::ZERO;
    for i in 0..4 {
        let t0 = Instant::now();
        target.push(tokens(&post(&llm.url, "target", 0, None)));
        if i == 1 {
            slow = t0.elapsed();
        }
        if i == 0 {
            // The draft role has its own position.
            assert_eq!(tokens(&post(&llm.url, "draft", 0, Some(1))), 21);
        }
    }
    assert_eq!(
        target,
        vec![11, 12, 13, 11],
        "recorded order, wrapping around"
    );
    assert_eq!(tokens(&post(&llm.url, "draft", 0, Some(1))), 22);
    assert!(slow >= Duration::from_millis(600), "0.30 s x 2: {slow:?}");
    // An ambiguous model filter is refused, naming the candidates.
    let out = Proc::new(bin())
        .args([
            "serve-llm",
            scenario.to_str().unwrap(),
            "--target-replay",
            f,
        ])
        .args(["--target-replay-model", "m/", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2 models match \"m/\"") && err.contains("m/draft, m/target"),
        "{err}"
    );
}

#[test]
fn serve_llm_replays_llmperf_rows_skipping_failures() {
    let dir = tempfile::tempdir().unwrap();
    let rows = json!([
        {"error_code": null, "ttft_s": 0.1, "end_to_end_latency_s": 0.02, "inter_token_latency_s": 0.01,
         "number_output_tokens": 5, "number_input_tokens": 9},
        {"error_code": 429, "ttft_s": 0.0, "end_to_end_latency_s": 0.0, "inter_token_latency_s": 0.0,
         "number_output_tokens": 0, "number_input_tokens": 9},
        {"error_code": null, "ttft_s": 0.1, "end_to_end_latency_s": 0.02, "inter_token_latency_s": 0.01,
         "number_output_tokens": 6, "number_input_tokens": 9}
    ]);
    let file = dir.path().join("p_7b.json");
    std::fs::write(&file, rows.to_string()).unwrap();
    let scenario = repo().join("tests/fixtures/live/standin.json");
    let llm = spawn_server(&[
        "serve-llm",
        scenario.to_str().unwrap(),
        "--target-replay",
        file.to_str().unwrap(),
    ]);
    let got: Vec<u64> = (0..3)
        .map(|_| {
            post(&llm.url, "target", 0, None)["usage"]["completion_tokens"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(got, vec![5, 6, 5]);
}

/// Runs `script` with `sh -e` in `dir`, `specsim` first on the PATH; kills it after `limit`.
fn run_sh(script: &str, dir: &Path, limit: Duration) -> (bool, String, String) {
    let path = format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Proc::new("sh")
        .args(["-e", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let o = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let e = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!("the script ran longer than {limit:?}:\n{script}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status.success(), o.join().unwrap(), e.join().unwrap())
}

#[test]
fn quick_start_of_docs_live_runs_as_written() {
    let doc = std::fs::read_to_string(repo().join("docs/live.md")).unwrap();
    let start = doc.find("## Quick start on loopback").expect("the section");
    let block = &doc[start..];
    let code = &block[block.find("```sh\n").unwrap() + 6..];
    let code = &code[..code.find("```").unwrap()];
    assert!(code.contains("--sessions 20") && code.contains("wait $runs"));
    let fixtures = format!("{}/tests/fixtures/", repo().display());
    let script = code
        .replace("--sessions 20", "--sessions 2")
        .replace("tests/fixtures/", &fixtures);
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run_sh(&script, dir.path(), Duration::from_secs(180));
    assert!(ok, "the quick start failed:\n{err}");
    for p in ["none", "speccache"] {
        let t = read_trace(&dir.path().join(format!("{p}.jsonl"))).unwrap();
        assert_eq!(t.sessions.len(), 2, "{p}");
    }
    assert!(
        out.contains("speedup over none"),
        "validate printed:\n{out}"
    );
}

fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let head: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            head.iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

fn num(row: &BTreeMap<String, String>, k: &str) -> f64 {
    row[k].parse().unwrap_or_else(|_| panic!("{k} in {row:?}"))
}

#[test]
fn reduced_protocol_predicts_then_runs_and_compares() {
    // scripts/validation/run.sh --quick on serve-site's own HTML (no nginx), the fixture
    // measurements replayed x0.05, 4 sessions per run: 2 configurations plus the none run.
    let work = tempfile::tempdir().unwrap();
    let w = work.path().join("quick");
    let script = format!(
        "SPECSIM={bin} {repo}/scripts/validation/run.sh --quick --site standin --sessions 4 \
         --measurements {repo}/tests/fixtures/thefastest/measurements.jsonl \
         --target-model zeta/slow-2 --draft-model acme/fast-1 --work {w}",
        bin = bin().display(),
        repo = repo().display(),
        w = w.display()
    );
    let (ok, _, err) = run_sh(&script, work.path(), Duration::from_secs(300));
    assert!(ok, "run.sh --quick failed:\n{err}");
    let header = std::fs::read_to_string(w.join("summary.csv")).unwrap();
    assert_eq!(
        header.lines().next(),
        Some("config,policy,width,cache,llm,metric,predicted,live,rel_error")
    );
    let rows = csv_rows(&w.join("summary.csv"));
    let configs: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["config"].as_str(), r["metric"].as_str()))
        .collect();
    let metrics = [
        "mean iteration latency",
        "speedup over none",
        "hit rate",
        "exposed web time",
    ];
    let want: Vec<(&str, &str)> = ["speccache-w3-c10-llm1", "random-w3-c3-llm1"]
        .iter()
        .flat_map(|c| metrics.iter().map(move |m| (*c, *m)))
        .collect();
    assert_eq!(configs, want);
    for r in &rows {
        let (p, l, e) = (num(r, "predicted"), num(r, "live"), num(r, "rel_error"));
        assert!(p > 0.0 && l > 0.0, "{r:?}");
        assert!(((p - l) / l - e).abs() < 1e-4 * (1.0 + e.abs()), "{r:?}");
        // Predicted values are the reports' own numbers.
        let report: Value = serde_json::from_str(
            &std::fs::read_to_string(w.join(format!("predict/{}.report.json", r["config"])))
                .unwrap(),
        )
        .unwrap();
        let row = report["policies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["policy"] == r["policy"].as_str())
            .unwrap();
        let field = match r["metric"].as_str() {
            "mean iteration latency" => "iter_latency_s",
            "speedup over none" => "speedup",
            "hit rate" => "hit_rate",
            _ => "exposed_web_s",
        };
        let want = row[field].as_f64().unwrap();
        assert!((p - want).abs() <= 1e-5 * want, "{r:?} vs report {want}");
    }
    // Live values agree with specsim validate's live column (same definitions).
    for c in ["speccache-w3-c10-llm1", "random-w3-c3-llm1"] {
        let out = Proc::new(bin())
            .arg("validate")
            .arg(w.join(format!("live/{c}.jsonl")))
            .arg("--baseline")
            .arg(w.join("live/none-llm1.jsonl"))
            .arg("--json")
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        for (metric, ours) in [
            ("mean iteration latency", "mean iteration latency"),
            ("hit rate", "hit rate"),
        ] {
            let live = v["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["metric"] == metric)
                .unwrap()["live"]
                .as_f64()
                .unwrap();
            let r = rows
                .iter()
                .find(|r| r["config"] == c && r["metric"] == ours)
                .unwrap();
            assert!(
                (num(r, "live") - live).abs() <= 1e-5 * live,
                "{c} {metric}: {r:?} vs {live}"
            );
        }
    }
    // Predictions were written before any configuration ran live.
    let predicted_at = std::fs::metadata(w.join("predictions.csv"))
        .unwrap()
        .modified()
        .unwrap();
    for c in ["speccache-w3-c10-llm1", "random-w3-c3-llm1"] {
        let t = std::fs::metadata(w.join(format!("live/{c}.jsonl"))).unwrap();
        assert!(
            t.created().or_else(|_| t.modified()).unwrap() >= predicted_at,
            "{c}"
        );
    }
    // The calibration used the none run alone: its 4 sessions' rounds.
    let facts: Value =
        serde_json::from_str(&std::fs::read_to_string(w.join("calibration.json")).unwrap())
            .unwrap();
    assert_eq!(facts["trace"], "none-llm1.jsonl");
    assert_eq!(facts["walker"]["rounds"].as_array().unwrap().len(), 4);
    let graph = GraphFile::read(&w.join("graph.json")).unwrap();
    assert_eq!(
        graph.pages.len(),
        301,
        "the 300 pages of the stand-in, and `/`"
    );
}

#[test]
fn stand_in_flags_are_checked_with_exit_code_2() {
    let standin = repo().join("tests/fixtures/live/standin.json");
    let llm_profile = repo().join("traces/profiles/llmperf/llmperf_groq_70b.json");
    let dir = tempfile::tempdir().unwrap();
    let buttons = dir.path().join("b.json");
    std::fs::write(&buttons, r#"{"specsim_buttons": 1, "pages": [[0]]}"#).unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["serve-site".into(), "--upstream".into(), "ftp://x".into()],
            "--upstream: \"ftp://x\": only http and https upstreams are allowed",
        ),
        (
            vec![
                "serve-site".into(),
                "--upstream".into(),
                "http://127.0.0.1:1".into(),
                "--profile".into(),
                llm_profile.display().to_string(),
            ],
            "profile: an LLM profile",
        ),
        (
            vec![
                "serve-site".into(),
                "--upstream".into(),
                "http://127.0.0.1:1".into(),
                "--latency-scale=0".into(),
            ],
            "--latency-scale: must be a finite number > 0, got 0",
        ),
        (
            vec![
                "serve-llm".into(),
                standin.display().to_string(),
                "--buttons".into(),
                buttons.display().to_string(),
            ],
            "pages: 1 rows, but the scenario's site has 300 pages",
        ),
        (
            vec![
                "serve-llm".into(),
                standin.display().to_string(),
                "--target-replay".into(),
                repo()
                    .join("tests/fixtures/thefastest/measurements.jsonl")
                    .display()
                    .to_string(),
            ],
            "2 models match (no filter); give text that matches exactly one, e.g. one of: acme/fast-1, zeta/slow-2",
        ),
        (
            vec![
                "serve-llm".into(),
                standin.display().to_string(),
                "--target-replay".into(),
                repo().join("Cargo.toml").display().to_string(),
            ],
            "expected thefastest.ai measurements (.jsonl) or llmperf results (.json)",
        ),
    ];
    for (args, want) in cases {
        let out = Proc::new(bin())
            .args(&args)
            .args(["--port", "0"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
