//! `specsim serve-llm`: a stand-in for an OpenAI-compatible Chat Completions API that plays
//! the target and the draft over a known site, after delays drawn from latency profiles.
//!
//! It reads the page from the prompt ([`super::prompt`]: `Task`, `Step`, `URL` and the
//! numbered buttons), maps the URL and button labels back to pages of the site, and answers:
//! - as the **target** (the request's `model` is the target model name): each task has a
//!   hidden goal path, the scenario's walker run on the site with a stream keyed by the task
//!   text. On the path it clicks the path's next page; past the path's end it answers; off the
//!   path (or if that page is not a button) it clicks a button picked by a stream keyed by
//!   (task, step, page).
//! - as the **draft** (the draft model name): a ranked list of `k` buttons that contains the
//!   target's choice with the scenario draft's accuracy ([`crate::sim::draft::Draft::predict`]).
//!
//! Delays come from the scenario's target and draft latency profiles, drawn from streams keyed
//! by (task, step), so a `none` run and a `speccache` run of the same tasks see the same
//! thinking times; or, per role, from a recorded sequence replayed in order ([`replay`]).
//! Unknown models get a 404 in the API's error format.
//!
//! Pages and buttons: a `URL:` names the page whose name is that URL (compared by path and
//! query, so a crawl through another port still matches), else `/p/N`. Button `n` leads to
//! the page given by the crawl's buttons table (`--buttons`) when its row has as many buttons
//! as the prompt; else, on a site named by URLs, to the page's `n`-th link when the counts
//! agree; else to the page whose label is the button's text. Off the hidden path the target
//! clicks among the buttons that lead to known pages (all buttons when none does).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use rand::Rng;
use serde_json::{json, Value};

pub mod replay;

use replay::Replay;

use super::server::Running;
use super::site_server::{label, page_of_path};
use super::LiveError;
use crate::sim::draft::Draft;
use crate::sim::llm::Llm;
use crate::sim::rng::{Purpose, StreamKey};
use crate::sim::site::{PageId, Site};
use crate::sim::time::nanos_to_secs;
use crate::sim::trajectory::{Action, Agent};

/// Tag of the task streams under the seed.
const TASK_TAG: u64 = 0x7461_736b; // "task"

/// What `serve-llm` knows and how it behaves.
#[derive(Clone, Debug)]
pub struct LlmStandIn {
    /// The site the agent browses.
    pub site: Arc<Site>,
    /// The walker that draws each task's hidden path.
    pub agent: Agent,
    /// Target latency profile.
    pub target: Llm,
    /// Draft latency and accuracy (`None`: draft requests get a 404).
    pub draft: Option<Draft>,
    /// Model name answered as the target.
    pub target_model: String,
    /// Model name answered as the draft.
    pub draft_model: String,
    /// Seed of every stream.
    pub seed: u64,
    /// When set, requests must carry `Authorization: Bearer <this>`.
    pub require_key: Option<String>,
    /// Per page, where each of the agent's buttons leads (`crawl --buttons`).
    pub buttons: Option<Arc<Vec<Vec<Option<PageId>>>>>,
    /// Recorded target latencies replayed in order instead of drawn.
    pub target_replay: Option<Replay>,
    /// Recorded draft latencies replayed in order instead of drawn.
    pub draft_replay: Option<Replay>,
    /// A buttons-table mismatch has been reported (once).
    pub warned: Arc<AtomicBool>,
}

/// How the stand-in finds pages: by label, and by URL path and query.
#[derive(Clone, Debug, Default)]
pub struct Index {
    labels: BTreeMap<String, PageId>,
    targets: BTreeMap<String, PageId>,
}

/// A URL's path and query (`/a/b.html?x=1`).
pub fn path_and_query(u: &url::Url) -> String {
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

/// The page a prompt shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    /// Task text.
    pub task: String,
    /// Step.
    pub step: u32,
    /// Current page.
    pub page: PageId,
    /// Buttons as pages (`None` when a label names no page).
    pub buttons: Vec<Option<PageId>>,
    /// Button labels.
    pub labels: Vec<String>,
    /// The `k` a draft is asked for.
    pub k: Option<usize>,
    /// The prompt offers the back action (`Back: yes`).
    pub back: bool,
}

/// What the stand-in target does on a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// Press button `n`.
    Click(usize),
    /// Go back to the previous page.
    Back,
    /// Answer the task.
    Answer,
}

fn task_hash(task: &str) -> u64 {
    // FNV-1a: a fixed, documented hash (std's hasher may change between releases).
    task.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

impl LlmStandIn {
    /// The site's labels and URL paths (the first page of a name wins).
    pub fn index(&self) -> Index {
        let mut ix = Index::default();
        for p in 0..self.site.page_count() as PageId {
            ix.labels.entry(label(&self.site, p)).or_insert(p);
            if let Ok(u) = url::Url::parse(&self.site.page(p).name) {
                if u.scheme() == "http" || u.scheme() == "https" {
                    ix.targets.entry(path_and_query(&u)).or_insert(p);
                }
            }
        }
        ix
    }

    /// The page a URL names.
    fn page_of_url(&self, ix: &Index, u: &url::Url) -> Option<PageId> {
        ix.targets
            .get(&path_and_query(u))
            .copied()
            .or_else(|| page_of_path(&self.site, u.path()))
    }

    /// Where the buttons of `page` lead (see the module docs for the order of the rules).
    fn map_buttons(&self, ix: &Index, page: PageId, labels: &[String]) -> Vec<Option<PageId>> {
        if let Some(row) = self.buttons.as_ref().and_then(|t| t.get(page as usize)) {
            if row.len() == labels.len() {
                return row.clone();
            }
            if !self.warned.swap(true, Ordering::SeqCst) {
                eprintln!(
                    "warning: the buttons table has {} buttons for page {page} ({}) but the prompt shows {}; matching by label (is the agent's web.max_buttons the crawl's?)",
                    row.len(),
                    self.site.page(page).name,
                    labels.len()
                );
            }
        }
        let links = self.site.links(page);
        if !ix.targets.is_empty() && links.len() == labels.len() {
            return links.iter().map(|&v| Some(v)).collect();
        }
        labels.iter().map(|l| ix.labels.get(l).copied()).collect()
    }

    /// Reads the page message of a prompt (the last user message with a `URL:` line).
    pub fn read_prompt(&self, messages: &[Value], ix: &Index) -> Option<Shown> {
        let text = messages.iter().rev().find_map(|m| {
            let c = m.get("content")?.as_str()?;
            (m.get("role")?.as_str()? == "user" && c.contains("\nURL: ")).then_some(c)
        })?;
        let mut task = String::new();
        let mut step = 0;
        let mut page = None;
        let mut k = None;
        let mut back = false;
        let mut in_buttons = false;
        let mut names = Vec::new();
        for line in text.lines() {
            if let Some(t) = line.strip_prefix("Task: ") {
                task = t.to_string();
            } else if let Some(s) = line.strip_prefix("Step: ") {
                step = s.trim().parse().ok()?;
            } else if let Some(u) = line.strip_prefix("URL: ") {
                let url = url::Url::parse(u.trim()).ok()?;
                page = self.page_of_url(ix, &url);
            } else if line.starts_with("Back: yes") && !in_buttons {
                back = true;
            } else if line == "Buttons:" {
                in_buttons = true;
            } else if let Some(rest) = line.strip_prefix("List exactly ") {
                k = rest.split_whitespace().next().and_then(|n| n.parse().ok());
            } else if in_buttons && line.starts_with('[') {
                if let Some((_, l)) = line.split_once("] ") {
                    names.push(l.to_string());
                }
            }
        }
        let page = page?;
        Some(Shown {
            task,
            step,
            page,
            buttons: self.map_buttons(ix, page, &names),
            labels: names,
            k,
            back,
        })
    }

    fn task_key(&self, task: &str) -> StreamKey {
        StreamKey::root(self.seed)
            .child(TASK_TAG)
            .child(task_hash(task))
    }

    /// The target's choice. On its hidden path it takes the path's next action (a back step
    /// only where the prompt offers it); past the path's end it answers; off the path it
    /// clicks a button leading to a known page (any button when none does), picked by a
    /// stream keyed by (task, step, page).
    pub fn choose(&self, shown: &Shown) -> Choice {
        let key = self.task_key(&shown.task);
        let path = self.agent.walk(&self.site, key);
        let i = shown.step as usize;
        if i >= path.steps.len() {
            return Choice::Answer;
        }
        if path.page_before(i) == shown.page {
            let step = &path.steps[i];
            if step.action == Action::Back && shown.back {
                return Choice::Back;
            }
            if let Some(n) = shown.buttons.iter().position(|&b| b == Some(step.page)) {
                return Choice::Click(n);
            }
        }
        if shown.buttons.is_empty() {
            return if shown.back {
                Choice::Back
            } else {
                Choice::Answer
            };
        }
        // Off the path: a button leading to a known page (any button when none does). With
        // every button known this is a uniform pick among all of them.
        let known: Vec<usize> = (0..shown.buttons.len())
            .filter(|&n| shown.buttons[n].is_some())
            .collect();
        let mut rng = key.rng(i as u64, u64::from(shown.page), Purpose::Other);
        if known.is_empty() {
            Choice::Click(rng.random_range(0..shown.buttons.len()))
        } else {
            Choice::Click(known[rng.random_range(0..known.len())])
        }
    }

    fn target_reply(&self, shown: &Shown) -> (String, Duration, u64) {
        let text = match self.choose(shown) {
            Choice::Click(n) => format!("CLICK [{n}]"),
            Choice::Back => "BACK".to_string(),
            Choice::Answer => "ANSWER: done".to_string(),
        };
        if let Some(r) = &self.target_replay {
            let (d, tokens) = r.next();
            return (text, d, tokens.max(1));
        }
        let key = self.task_key(&shown.task);
        let call = self
            .target
            .call(&mut key.rng(u64::from(shown.step), 0, Purpose::Target));
        let d = Duration::from_secs_f64(nanos_to_secs(call.latency));
        (text, d, call.tokens.max(1))
    }

    fn draft_reply(&self, draft: &Draft, shown: &Shown) -> (String, Duration, u64) {
        let key = self.task_key(&shown.task);
        let step = u64::from(shown.step);
        let call = draft.llm.call(&mut key.rng(step, 0, Purpose::DraftLatency));
        // Buttons as ids; a label unknown to the site gets an id past the site's pages.
        let ids: Vec<PageId> = shown
            .buttons
            .iter()
            .enumerate()
            .map(|(n, b)| b.unwrap_or(self.site.page_count() as PageId + n as PageId))
            .collect();
        // The back action as one more id, past the buttons'.
        let back = self.site.page_count() as PageId + ids.len() as PageId;
        let truth = match self.choose(shown) {
            Choice::Click(n) => Some(ids[n]),
            Choice::Back => Some(back),
            Choice::Answer => None,
        };
        let mut out = Vec::new();
        let k = shown.k.unwrap_or(3).max(1);
        draft.predict(
            &ids,
            truth,
            k,
            &mut key.rng(step, 0, Purpose::DraftPick),
            &mut out,
        );
        let lines: Vec<String> = out
            .iter()
            .filter_map(|&p| {
                if p == back {
                    return Some("BACK".to_string());
                }
                ids.iter()
                    .position(|&x| x == p)
                    .map(|n| format!("[{n}] {}", shown.labels[n]))
            })
            .collect();
        let (d, tokens) = match &self.draft_replay {
            Some(r) => r.next(),
            None => (
                Duration::from_secs_f64(nanos_to_secs(call.latency)),
                call.tokens,
            ),
        };
        (lines.join("\n"), d, tokens.max(1))
    }

    /// Answers one request: status, JSON body, and how long to wait before sending it.
    pub fn answer(
        &self,
        ix: &Index,
        post: bool,
        path: &str,
        auth: Option<&str>,
        body: &[u8],
    ) -> (u16, Value, Duration) {
        let error = |code: u16, m: String| {
            (
                code,
                json!({"error": {"message": m, "type": "invalid_request_error"}}),
                Duration::ZERO,
            )
        };
        if let Some(k) = &self.require_key {
            if auth != Some(format!("Bearer {k}").as_str()) {
                return error(401, "missing or wrong API key".into());
            }
        }
        if !post || !path.ends_with("/chat/completions") {
            return error(404, format!("no route {path} (POST .../chat/completions)"));
        }
        let v: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return error(400, format!("the body is not JSON: {e}")),
        };
        let model = v.get("model").and_then(Value::as_str).unwrap_or("");
        let messages = v
            .get("messages")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let Some(shown) = self.read_prompt(&messages, ix) else {
            return error(
                400,
                "the prompt shows no page of this site (no `URL:` line naming /p/N)".into(),
            );
        };
        let (text, delay, tokens) = if model == self.target_model {
            self.target_reply(&shown)
        } else if let (true, Some(d)) = (model == self.draft_model, &self.draft) {
            self.draft_reply(d, &shown)
        } else {
            return error(404, format!("the model `{model}` does not exist"));
        };
        let prompt_tokens = body.len() as u64 / 4;
        let reply = json!({
            "id": "chatcmpl-specsim",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [{"index": 0,
                         "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": tokens,
                      "total_tokens": prompt_tokens + tokens}
        });
        (200, reply, delay)
    }
}

type Shared = Arc<(LlmStandIn, Index)>;

async fn respond(
    State(st): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let (code, v, delay) =
        st.0.answer(&st.1, method == Method::POST, uri.path(), auth, &body);
    tokio::time::sleep(delay).await;
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// Starts serving `standin` on `bind`.
pub fn serve(standin: LlmStandIn, bind: &str, workers: usize) -> Result<Running, LiveError> {
    let ix = standin.index();
    let router = Router::new()
        .fallback(respond)
        .with_state(Arc::new((standin, ix)));
    Running::start(bind, workers, router)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::problems::Problems;
    use crate::sim::draft::Accuracy;
    use crate::sim::site::GraphFile;
    use crate::sim::trajectory::AgentSpec;

    fn standin(acc: f64) -> LlmStandIn {
        let site = GraphFile {
            root: 0,
            pages: vec![],
            edges: vec![[0, 1], [0, 2], [0, 3], [1, 0], [2, 0], [3, 0]],
        }
        .build("site", &mut Problems::new())
        .unwrap();
        let agent: AgentSpec = serde_json::from_str(
            r#"{"rounds": {"dist": "constant", "value": 4}, "final_answer": true}"#,
        )
        .unwrap();
        LlmStandIn {
            site: Arc::new(site),
            agent: agent.build("agent", &mut Problems::new()).unwrap(),
            target: Llm::constant(0.0),
            draft: Some(Draft::new(
                "d",
                Llm::constant(0.0),
                Accuracy::Cumulative(vec![acc]),
            )),
            target_model: "t".into(),
            draft_model: "d".into(),
            seed: 1,
            require_key: None,
            buttons: None,
            target_replay: None,
            draft_replay: None,
            warned: Arc::new(AtomicBool::new(false)),
        }
    }

    fn prompt(step: u32, page: u32, buttons: &[u32]) -> Vec<Value> {
        let mut s = format!("Task: find it\nStep: {step}\nURL: http://h/p/{page}\nTitle: x\nPage text:\nx\n\nButtons:\n");
        for (i, b) in buttons.iter().enumerate() {
            s.push_str(&format!("[{i}] Page {b}\n"));
        }
        s.push_str("\nList exactly 1 buttons, most likely first.");
        vec![json!({"role": "user", "content": s})]
    }

    #[test]
    fn requests_are_checked_like_an_api_would() {
        let mut st = standin(1.0);
        st.require_key = Some("k1".into());
        let labels = st.index();
        let body = json!({"model": "t", "messages": prompt(0, 0, &[1, 2, 3])}).to_string();
        let path = "/v1/chat/completions";
        let (code, v, _) = st.answer(&labels, true, path, Some("Bearer k2"), body.as_bytes());
        assert_eq!(code, 401, "{v}");
        let (code, _, _) = st.answer(&labels, false, path, Some("Bearer k1"), body.as_bytes());
        assert_eq!(code, 404);
        let other = body.replace("\"model\":\"t\"", "\"model\":\"gpt-x\"");
        let (code, v, _) = st.answer(&labels, true, path, Some("Bearer k1"), other.as_bytes());
        assert_eq!(code, 404);
        assert_eq!(v["error"]["message"], "the model `gpt-x` does not exist");
        let (code, v, _) = st.answer(&labels, true, path, Some("Bearer k1"), b"{nope");
        assert_eq!(code, 400, "{v}");
        let (code, v, _) = st.answer(&labels, true, path, Some("Bearer k1"), body.as_bytes());
        assert_eq!(code, 200);
        let text = v["choices"][0]["message"]["content"].as_str().unwrap();
        assert!(text.starts_with("CLICK ["), "{text}");
    }

    #[test]
    fn target_follows_its_hidden_path_then_answers() {
        let st = standin(1.0);
        let labels = st.index();
        let path = st.agent.walk(&st.site, st.task_key("find it"));
        assert_eq!(path.steps.len(), 3, "4 rounds: 3 clicks and the answer");
        let mut page = 0;
        for (i, step) in path.steps.iter().enumerate() {
            let links = st.site.links(page).to_vec();
            let shown = st
                .read_prompt(&prompt(i as u32, page, &links), &labels)
                .unwrap();
            assert_eq!(shown.k, Some(1));
            let Choice::Click(n) = st.choose(&shown) else {
                panic!("clicks on the path")
            };
            assert_eq!(links[n], step.page);
            // A draft of accuracy 1 at k = 1 names exactly the target's choice.
            let (text, _, _) = st.draft_reply(st.draft.as_ref().unwrap(), &shown);
            assert_eq!(text, format!("[{n}] Page {}", step.page));
            page = step.page;
        }
        let links = st.site.links(page).to_vec();
        let shown = st.read_prompt(&prompt(3, page, &links), &labels).unwrap();
        assert_eq!(st.choose(&shown), Choice::Answer, "the last round answers");
    }

    #[test]
    fn crawled_pages_are_found_by_url_and_buttons_by_the_table() {
        let mut st = standin(1.0);
        let names = ["http://h:1/", "http://h:1/a.html", "http://h:1/b.html?x=1"];
        st.site = Arc::new(
            GraphFile {
                root: 0,
                pages: names
                    .iter()
                    .map(|n| crate::sim::site::PageSpec {
                        name: n.to_string(),
                        ..Default::default()
                    })
                    .collect(),
                edges: vec![[0, 1], [0, 2], [1, 0], [2, 0]],
            }
            .build("site", &mut Problems::new())
            .unwrap(),
        );
        let shown_with = |st: &LlmStandIn, url: &str, labels: &[&str]| {
            let mut s =
                format!("Task: t\nStep: 0\nURL: {url}\nTitle: x\nPage text:\nx\n\nButtons:\n");
            for (i, l) in labels.iter().enumerate() {
                s.push_str(&format!("[{i}] {l}\n"));
            }
            st.read_prompt(&[json!({"role": "user", "content": s})], &st.index())
        };
        // Another origin (the crawl went through another port): matched by path and query.
        let s = shown_with(&st, "http://127.0.0.1:9/b.html?x=1", &["Home"]).unwrap();
        assert_eq!(
            (s.page, s.buttons.clone()),
            (2, vec![Some(0)]),
            "positional"
        );
        // A broken link the graph leaves out: the counts differ, labels name no page.
        let three = ["A", "Broken", "B"];
        let s = shown_with(&st, "http://127.0.0.1:9/", &three).unwrap();
        assert_eq!(s.buttons, vec![None, None, None]);
        st.buttons = Some(Arc::new(vec![vec![Some(1), None, Some(2)], vec![], vec![]]));
        let s = shown_with(&st, "http://127.0.0.1:9/", &three).unwrap();
        assert_eq!(s.buttons, vec![Some(1), None, Some(2)]);
        // Off the hidden path the target clicks only buttons that lead to known pages.
        for task in ["a", "b", "c", "d", "e", "f", "g", "h"] {
            let off = Shown {
                task: task.into(),
                step: 0,
                page: 1,
                buttons: vec![None, Some(2), None],
                labels: vec!["x".into(), "y".into(), "z".into()],
                k: None,
                back: false,
            };
            assert_eq!(st.choose(&off), Choice::Click(1), "task {task}");
        }
    }
}
