//! The live world: SpecCache's rules ([`crate::sim::model::SpecCache`], the simulator's own
//! code) run against real pages and real LLM calls under a wall clock.
//!
//! [`LiveWorld`] is the [`World`] of a live run. Where the sampled world draws a delay, it
//! starts a job on its executor ([`super::exec`]): it builds the prompt from the page the
//! session observes, and reads the reply when the completion is delivered. Completions arrive
//! as the rules' ordinary events, under event keys reserved when the call started, so a draft
//! that answers after the target decided is cancelled exactly as in the simulator. The fetch
//! pool, the cache and its scope, back actions, wasted-prefetch accounting and every other rule
//! of `docs/model.md` are therefore the simulator's.
//!
//! Every iteration is written to the trace as it ends; the session line when the start page is
//! observed. Fallbacks: a target reply naming no valid action is re-asked
//! `unparseable_retries` times, then the session ends with an `answer` iteration; a target
//! call that fails after its retries ends the session (counted as failed, the iteration not
//! written); a failed draft call gives no predictions; a failed fetch yields an error page
//! without links, which the cache does not keep.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::chat::Message;
use super::config::{redact_url, LiveSetup};
use super::exec::{CallId, Done, Exec, Job, Role, TargetAnswer};
use super::html::{Link, Parsed};
use super::prompt::{self, Decision as Reply, Pick, View};
use super::retry::Stop;
use super::web::Page;
use super::LiveError;
use crate::io::trace::{
    DraftCall, Header, IterationLine, LlmCall, PageRef, SessionLine, TraceAction, TraceLine,
    TraceWriter,
};
use crate::runner::replication_key;
use crate::sim::engine::{Engine, EventKey};
use crate::sim::fetch::FetchId;
use crate::sim::metrics::{IterationRecord, Outcome, RunMetrics};
use crate::sim::model::{Rules, SpecCache};
use crate::sim::site::PageId;
use crate::sim::time::{nanos_to_secs, SimTime};
use crate::sim::trajectory::Action;
use crate::sim::world::{Decision, Event, SessionId, World};

/// How a live run went.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Sessions started.
    pub sessions: u32,
    /// Sessions that ended because the target call failed.
    pub failed: u32,
    /// Iterations written.
    pub iterations: u64,
    /// Page-visit iterations.
    pub visits: u64,
    /// Full hits.
    pub hits: u64,
    /// Partial hits.
    pub partial_hits: u64,
    /// Back actions.
    pub backs: u64,
    /// Target replies that stayed unparseable (session ended by the fallback).
    pub unparseable: u64,
    /// Draft calls that failed.
    pub draft_failures: u64,
    /// Draft answers that came after the target decided.
    pub drafts_late: u64,
    /// Page fetches that failed.
    pub fetch_failures: u64,
    /// Sum of iteration latencies, seconds.
    pub iteration_s: f64,
    /// Ctrl-C stopped the run.
    pub interrupted: bool,
    /// First error of each failed session.
    pub errors: Vec<String>,
}

impl Summary {
    /// A one-paragraph account for stderr.
    pub fn describe(&self) -> String {
        let hit_rate = if self.visits == 0 {
            0.0
        } else {
            (self.hits + self.partial_hits) as f64 / self.visits as f64
        };
        let mean = if self.iterations == 0 {
            0.0
        } else {
            self.iteration_s / self.iterations as f64
        };
        format!(
            "{} sessions ({} failed{}), {} iterations, mean iteration {:.3} s, hit rate {:.1} % ({} hits, {} partial), {} back actions, {} unparseable target replies, {} draft failures, {} late drafts, {} failed fetches",
            self.sessions,
            self.failed,
            if self.interrupted { ", interrupted" } else { "" },
            self.iterations,
            mean,
            hit_rate * 100.0,
            self.hits,
            self.partial_hits,
            self.backs,
            self.unparseable,
            self.draft_failures,
            self.drafts_late,
            self.fetch_failures
        )
    }
}

/// The rules' parameters of a live configuration.
pub fn rules_of(setup: &LiveSetup) -> Rules {
    let f = &setup.file;
    crate::scenario::file::rules_of(f.width, &f.cache, &f.fetcher, 0, setup.drafts.len())
}

/// The trace header of a live run (models and URLs, passwords redacted; never keys).
pub fn header(setup: &LiveSetup) -> Header {
    let f = &setup.file;
    let mut h = Header::new(format!("specsim live {}", env!("CARGO_PKG_VERSION")));
    h.policy = Some(f.policy.name().to_string());
    h.width = Some(f.width);
    h.cache_capacity = Some(f.cache.capacity);
    let mut m = serde_json::Map::new();
    m.insert("site".into(), redact_url(&f.site).into());
    m.insert("seed".into(), f.seed.into());
    m.insert("max_rounds".into(), f.max_rounds.into());
    m.insert("parallel".into(), f.parallel.into());
    m.insert(
        "cache_scope".into(),
        serde_json::to_value(f.cache.scope).unwrap_or_default(),
    );
    m.insert(
        "eviction".into(),
        serde_json::to_value(f.cache.eviction).unwrap_or_default(),
    );
    if let Some(w) = f.fetcher.slots {
        m.insert("fetch_slots".into(), w.into());
    }
    if let Some(r) = f.fetcher.rate_limit_per_s {
        m.insert("rate_limit_per_s".into(), r.into());
    }
    if let Some(b) = f.fetcher.rate_limit_burst {
        m.insert("rate_limit_burst".into(), b.into());
    }
    m.insert("demand_priority".into(), f.fetcher.demand_priority.into());
    m.insert("cancel_stale".into(), f.fetcher.cancel_stale.into());
    m.insert(
        "list_order".into(),
        serde_json::to_value(f.cache.list_order).unwrap_or_default(),
    );
    m.insert("target_model".into(), f.target.model.clone().into());
    m.insert(
        "target_base_url".into(),
        redact_url(&f.target.base_url).into(),
    );
    let drafts: Vec<serde_json::Value> = f
        .drafts
        .iter()
        .map(|d| serde_json::json!({"model": d.model, "base_url": redact_url(&d.base_url)}))
        .collect();
    m.insert("drafts".into(), drafts.into());
    h.meta = m;
    h
}

/// A draft's reply: its ranked actions and output tokens, or why the call failed.
type DraftReply = Result<(Vec<Pick>, Option<u64>), String>;

/// A draft call of the current iteration.
#[derive(Clone, Debug, Default)]
struct DraftSlot {
    /// The call was made this iteration.
    started: bool,
    /// When the answer came back and what it said.
    answer: Option<(SimTime, DraftReply)>,
    /// The rules read it (it came before the target decided), as these pages.
    delivered: bool,
    pages: Vec<PageId>,
}

#[derive(Debug)]
struct LiveSession {
    task: String,
    name: String,
    started_at: f64,
    /// Pages from the start page to the current one (back actions pop it).
    history: Vec<PageId>,
    /// What the session observes now: the page and its buttons (as page ids too).
    page: Option<Arc<Page>>,
    buttons: Arc<Vec<Link>>,
    button_ids: Vec<PageId>,
    /// The fetch that served the current observation.
    fetch: Option<FetchId>,
    t0: SimTime,
    target: Option<(SimTime, Result<TargetAnswer, String>)>,
    tokens: (Option<u64>, Option<u64>),
    action: TraceAction,
    drafts: Vec<DraftSlot>,
    answered: bool,
    over: bool,
    written_start: bool,
    iterations: u64,
    visits: u64,
    served: u64,
}

#[derive(Debug)]
struct LiveFetch {
    page: PageId,
    session: SessionId,
    step: u32,
    started: SimTime,
    done: Option<(SimTime, Result<Arc<Page>, String>)>,
}

/// The live world: pages seen, calls under way, sessions, and the trace being written.
pub struct LiveWorld<W: Write, X: Exec> {
    setup: LiveSetup,
    exec: X,
    stop: Stop,
    writer: TraceWriter<W>,
    urls: Vec<String>,
    ids: BTreeMap<String, PageId>,
    fetches: Vec<LiveFetch>,
    sessions: Vec<LiveSession>,
    next_session: u32,
    active: u32,
    summary: Summary,
    error: Option<LiveError>,
    /// Print one line per finished session on stderr.
    pub progress: bool,
}

fn secs(ns: u64) -> f64 {
    nanos_to_secs(ns)
}

fn error_page(url: &str, e: &str) -> Arc<Page> {
    Arc::new(Page {
        url: url.to_string(),
        parsed: Parsed {
            title: "error".into(),
            text: format!("The page could not be fetched: {e}"),
            links: Vec::new(),
        },
        bytes: 0,
        truncated: false,
    })
}

impl<W: Write, X: Exec> LiveWorld<W, X> {
    /// A world running `setup`'s tasks on `exec`, writing the trace to `writer`.
    pub fn new(setup: LiveSetup, exec: X, writer: TraceWriter<W>, stop: Stop) -> Self {
        let n = setup.tasks.len();
        let sessions = setup
            .tasks
            .iter()
            .enumerate()
            .map(|(s, task)| LiveSession {
                task: task.clone(),
                name: format!("s{s}"),
                started_at: 0.0,
                history: Vec::new(),
                page: None,
                buttons: Arc::new(Vec::new()),
                button_ids: Vec::new(),
                fetch: None,
                t0: SimTime::ZERO,
                target: None,
                tokens: (None, None),
                action: TraceAction::Answer,
                drafts: vec![DraftSlot::default(); setup.drafts.len()],
                answered: false,
                over: false,
                written_start: false,
                iterations: 0,
                visits: 0,
                served: 0,
            })
            .collect();
        debug_assert_eq!(n, setup.tasks.len());
        LiveWorld {
            setup,
            exec,
            stop,
            writer,
            urls: Vec::new(),
            ids: BTreeMap::new(),
            fetches: Vec::new(),
            sessions,
            next_session: 0,
            active: 0,
            summary: Summary::default(),
            error: None,
            progress: true,
        }
    }

    /// The URL of a page id.
    pub fn url(&self, page: PageId) -> &str {
        &self.urls[page as usize]
    }

    /// The summary so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    fn page_id(&mut self, url: &str) -> PageId {
        if let Some(&id) = self.ids.get(url) {
            return id;
        }
        let id = self.urls.len() as PageId;
        self.urls.push(url.to_string());
        self.ids.insert(url.to_string(), id);
        id
    }

    fn refs(&self, pages: &[PageId]) -> Vec<PageRef> {
        pages
            .iter()
            .map(|&p| PageRef::Name(self.urls[p as usize].clone()))
            .collect()
    }

    fn link_refs(links: &[Link]) -> Vec<PageRef> {
        links.iter().map(|l| PageRef::Name(l.url.clone())).collect()
    }

    fn write(&mut self, line: TraceLine) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.writer.write(&line) {
            self.error = Some(LiveError::WriteTrace(e));
        }
    }

    /// Starts the next waiting session, if any, now.
    fn admit(&mut self, cx: &mut Engine<Event>) {
        if (self.next_session as usize) < self.sessions.len() && !self.stop.raised() {
            cx.schedule_in(0, Event::Arrive(self.next_session));
            self.next_session += 1;
            self.active += 1;
        }
    }

    /// Stores a completion; returns the event to deliver under its reserved key, if any.
    fn complete(&mut self, done: Done, at: SimTime) -> Option<(EventKey, Event)> {
        match done {
            Done::Fetch { key, fetch, result } => {
                let f = &mut self.fetches[fetch as usize];
                let page = match result {
                    Ok(p) => Ok(Arc::new(p)),
                    Err(e) => {
                        self.summary.fetch_failures += 1;
                        eprintln!("warning: fetch failed: {e}");
                        Err(e)
                    }
                };
                f.done = Some((at, page));
                Some((key, Event::Fetched(fetch)))
            }
            Done::Target { key, call, result } => {
                let sess = &mut self.sessions[call.session as usize];
                sess.target = Some((at, result.map_err(|e| e.to_string())));
                Some((key, Event::Decided(call.session)))
            }
            Done::Draft { key, call, result } => {
                let Role::Draft(d) = call.role else {
                    return None;
                };
                let s = call.session;
                let sess = &mut self.sessions[s as usize];
                if sess.iterations != u64::from(call.iteration) || sess.over {
                    return None; // an answer for an iteration that is over
                }
                if let Err(e) = &result {
                    self.summary.draft_failures += 1;
                    eprintln!("warning: draft {d} failed: {e}");
                }
                sess.drafts[usize::from(d)].answer = Some((at, result.map_err(|e| e.to_string())));
                Some((key, Event::Drafted(s, d)))
            }
        }
    }

    fn view_messages(&self, s: SessionId, iteration: u32, role: Role) -> Vec<Message> {
        let sess = &self.sessions[s as usize];
        let page = sess.page.as_deref();
        let url = page.map_or(self.setup.start.as_str(), |p| p.url.as_str());
        let view = View {
            task: &sess.task,
            step: iteration,
            url,
            title: page.map_or("", |p| p.parsed.title.as_str()),
            text: page.map_or("", |p| p.parsed.text.as_str()),
            buttons: &sess.buttons,
            back: sess.history.len() > 1,
            max_chars: self.setup.file.web.max_page_chars as usize,
        };
        match role {
            Role::Target => prompt::target_messages(&view),
            Role::Draft(_) => prompt::draft_messages(&view, self.setup.file.width as usize),
        }
    }

    fn nonce(s: SessionId, iteration: u32) -> u64 {
        (u64::from(s) << 32) | u64::from(iteration)
    }

    fn pick_page(&self, s: SessionId, pick: Pick) -> Option<PageId> {
        let sess = &self.sessions[s as usize];
        match pick {
            Pick::Button(n) => sess.button_ids.get(n).copied(),
            Pick::Back => sess.history.len().checked_sub(2).map(|i| sess.history[i]),
        }
    }
}

impl<W: Write, X: Exec> World<Engine<Event>> for LiveWorld<W, X> {
    fn root(&mut self, s: SessionId) -> PageId {
        let start = self.setup.start.to_string();
        let root = self.page_id(&start);
        let sess = &mut self.sessions[s as usize];
        sess.history = vec![root];
        sess.started_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.summary.sessions += 1;
        root
    }

    fn has_iteration(&mut self, s: SessionId, iteration: u32) -> bool {
        let sess = &self.sessions[s as usize];
        !sess.answered && iteration < self.setup.file.max_rounds && !self.stop.raised()
    }

    fn links(&self, s: SessionId, _page: PageId) -> &[PageId] {
        &self.sessions[s as usize].button_ids
    }

    fn next_page(&self, _s: SessionId, _iteration: u32) -> Option<PageId> {
        None // a live run cannot know the target's choice in advance (no oracle)
    }

    fn start_target(&mut self, cx: &mut Engine<Event>, s: SessionId, iteration: u32) {
        let messages = self.view_messages(s, iteration, Role::Target);
        let key = cx.reserve();
        let now = cx.now();
        let sess = &mut self.sessions[s as usize];
        sess.t0 = now;
        sess.target = None;
        for d in &mut sess.drafts {
            *d = DraftSlot::default();
        }
        let job = Job::Target {
            key,
            call: CallId {
                role: Role::Target,
                session: s,
                iteration,
            },
            messages,
            buttons: Arc::clone(&sess.buttons),
            back: sess.history.len() > 1,
            retries: self.setup.file.unparseable_retries,
            nonce: Self::nonce(s, iteration),
        };
        self.exec.submit(now, job);
    }

    fn decision(&mut self, s: SessionId, iteration: u32) -> Decision {
        let Some((_, result)) = self.sessions[s as usize].target.take() else {
            return Decision::Abort;
        };
        let answer = match result {
            Ok(a) => a,
            Err(e) => {
                eprintln!("warning: session {s} failed: target: {e}");
                self.summary.failed += 1;
                self.summary.errors.push(format!("target: {e}"));
                self.sessions[s as usize].over = true;
                return Decision::Abort;
            }
        };
        let sess = &mut self.sessions[s as usize];
        sess.tokens = (answer.input_tokens, answer.output_tokens);
        let visit = match answer.decision {
            Reply::Click(n) => sess.buttons.get(n).map(|l| (l.url.clone(), Action::Click)),
            Reply::Back if sess.history.len() > 1 => {
                sess.history.pop();
                let back = *sess.history.last().expect("checked len > 1");
                Some((self.urls[back as usize].clone(), Action::Back))
            }
            Reply::Back | Reply::Answer(_) => None,
            Reply::Unparseable => {
                self.summary.unparseable += 1;
                eprintln!(
                    "warning: session {s} step {iteration}: the target named no valid button (nor BACK nor ANSWER); the session ends (documented fallback)"
                );
                None
            }
        };
        match visit {
            Some((url, action)) => {
                let page = self.page_id(&url);
                let sess = &mut self.sessions[s as usize];
                if action == Action::Click {
                    sess.history.push(page);
                }
                sess.action = match action {
                    Action::Click => TraceAction::Click,
                    Action::Back => TraceAction::Back,
                };
                Decision::Visit { page, action }
            }
            None => {
                let sess = &mut self.sessions[s as usize];
                sess.answered = true;
                sess.action = TraceAction::Answer;
                Decision::Answer
            }
        }
    }

    fn start_draft(
        &mut self,
        cx: &mut Engine<Event>,
        s: SessionId,
        iteration: u32,
        d: u8,
        _page: PageId,
    ) -> (EventKey, u64) {
        let messages = self.view_messages(s, iteration, Role::Draft(d));
        let key = cx.reserve();
        self.sessions[s as usize].drafts[usize::from(d)].started = true;
        let sess = &self.sessions[s as usize];
        let job = Job::Draft {
            key,
            call: CallId {
                role: Role::Draft(d),
                session: s,
                iteration,
            },
            messages,
            buttons: Arc::clone(&sess.buttons),
            back: sess.history.len() > 1,
            width: self.setup.file.width as usize,
            nonce: Self::nonce(s, iteration) ^ ((u64::from(d) + 1) << 60),
        };
        self.exec.submit(cx.now(), job);
        (key, 0)
    }

    fn draft_list(
        &mut self,
        s: SessionId,
        _iteration: u32,
        d: u8,
        _page: PageId,
        width: usize,
        out: &mut Vec<PageId>,
    ) {
        out.clear();
        let slot = &mut self.sessions[s as usize].drafts[usize::from(d)];
        slot.delivered = true;
        let picks = match &slot.answer {
            Some((_, Ok((picks, _)))) => picks.clone(),
            _ => return,
        };
        for p in picks.into_iter().take(width) {
            if let Some(page) = self.pick_page(s, p) {
                if !out.contains(&page) {
                    out.push(page);
                }
            }
        }
        self.sessions[s as usize].drafts[usize::from(d)].pages = out.clone();
    }

    fn request_fetch(&mut self, f: FetchId, s: SessionId, page: PageId, step: u32, _d: bool) {
        debug_assert_eq!(f as usize, self.fetches.len(), "fetch ids are dense");
        self.fetches.push(LiveFetch {
            page,
            session: s,
            step,
            started: SimTime::ZERO,
            done: None,
        });
    }

    fn start_fetch(&mut self, cx: &mut Engine<Event>, f: FetchId) {
        let key = cx.reserve();
        let now = cx.now();
        let fetch = &mut self.fetches[f as usize];
        fetch.started = now;
        let job = Job::Fetch {
            key,
            fetch: f,
            session: fetch.session,
            step: fetch.step,
            url: self.urls[fetch.page as usize].clone(),
        };
        self.exec.submit(now, job);
    }

    fn fetch_ok(&self, f: FetchId) -> bool {
        matches!(self.fetches[f as usize].done, Some((_, Ok(_))))
    }

    fn observed(&mut self, s: SessionId, page: PageId, f: FetchId) {
        let fetch = &self.fetches[f as usize];
        let (content, took) = match &fetch.done {
            Some((at, Ok(p))) => (Arc::clone(p), at.since(fetch.started)),
            Some((at, Err(e))) => (
                error_page(&self.urls[page as usize], e),
                at.since(fetch.started),
            ),
            None => (error_page(&self.urls[page as usize], "not fetched"), 0),
        };
        let ids: Vec<PageId> = content
            .parsed
            .links
            .iter()
            .map(|l| self.page_id(&l.url))
            .collect();
        let sess = &mut self.sessions[s as usize];
        sess.buttons = Arc::new(content.parsed.links.clone());
        sess.button_ids = ids;
        sess.page = Some(Arc::clone(&content));
        sess.fetch = Some(f);
        if !sess.written_start {
            sess.written_start = true;
            let line = TraceLine::Session(SessionLine {
                session: sess.name.clone(),
                task: sess.task.clone(),
                site: self.setup.file.site.clone(),
                root: PageRef::Name(self.urls[page as usize].clone()),
                root_fetch_s: Some(secs(took)),
                root_links: Some(Self::link_refs(&content.parsed.links)),
                root_out_degree: None,
                started_at: Some(sess.started_at),
            });
            self.write(line);
        }
    }

    fn start_stages(&mut self, _cx: &mut Engine<Event>, _s: SessionId, _iteration: u32) -> bool {
        false // live runs have no extra LLM stages
    }

    fn iteration_done(&mut self, _cx: &mut Engine<Event>, rec: &IterationRecord) {
        let s = rec.session;
        let think = rec.llm - rec.stages;
        let sess = &self.sessions[s as usize];
        let drafts: Vec<DraftCall> = sess
            .drafts
            .iter()
            .filter(|slot| slot.started)
            .map(|slot| match (&slot.answer, slot.delivered) {
                (Some((at, result)), true) => DraftCall {
                    latency_s: secs(at.since(sess.t0)),
                    output_tokens: result.as_ref().ok().and_then(|(_, t)| *t),
                    predictions: self.refs(&slot.pages),
                },
                // Too late: the rules cancelled it when the target decided.
                _ => DraftCall {
                    latency_s: secs(think),
                    output_tokens: None,
                    predictions: Vec::new(),
                },
            })
            .collect();
        let late = sess
            .drafts
            .iter()
            .filter(|d| d.started && !d.delivered)
            .count() as u64;
        let fetch_s = match (rec.outcome, sess.fetch) {
            (Outcome::Answer, _) | (_, None) => None,
            (_, Some(f)) => {
                let fetch = &self.fetches[f as usize];
                fetch
                    .done
                    .as_ref()
                    .map(|(at, _)| secs(at.since(fetch.started)))
            }
        };
        let visit = rec.outcome != Outcome::Answer;
        let line = IterationLine {
            session: sess.name.clone(),
            iteration: rec.iteration,
            action: sess.action,
            page: rec
                .page
                .map(|p| PageRef::Name(self.urls[p as usize].clone())),
            links: visit.then(|| Self::link_refs(&sess.buttons)),
            out_degree: None,
            target: Some(LlmCall {
                latency_s: secs(think),
                output_tokens: sess.tokens.1,
                input_tokens: sess.tokens.0,
            }),
            stages: Vec::new(),
            fetch_s,
            drafts,
            outcome: match rec.outcome {
                Outcome::Hit => Some("hit".to_string()),
                Outcome::PartialHit => Some("partial_hit".to_string()),
                Outcome::Miss => Some("miss".to_string()),
                Outcome::Answer => None,
            },
            iteration_s: Some(secs(rec.latency)),
            exposed_web_s: visit.then(|| secs(rec.exposed)),
            other_s: None,
        };
        self.summary.drafts_late += late;
        self.summary.iterations += 1;
        self.summary.iteration_s += secs(rec.latency);
        match rec.outcome {
            Outcome::Hit => self.summary.hits += 1,
            Outcome::PartialHit => self.summary.partial_hits += 1,
            Outcome::Miss | Outcome::Answer => {}
        }
        if visit {
            self.summary.visits += 1;
        }
        if sess.action == TraceAction::Back && visit {
            self.summary.backs += 1;
        }
        let sess = &mut self.sessions[s as usize];
        sess.iterations += 1;
        if visit {
            sess.visits += 1;
            sess.served += u64::from(rec.outcome != Outcome::Miss);
        }
        self.write(TraceLine::Iteration(line));
    }

    fn session_done(&mut self, cx: &mut Engine<Event>, s: SessionId) {
        let n = self.sessions.len();
        let sess = &mut self.sessions[s as usize];
        sess.over = true;
        self.active -= 1;
        if self.progress {
            eprintln!(
                "session {}/{}: {} iterations, {} of {} visits served from the cache",
                s + 1,
                n,
                sess.iterations,
                sess.served,
                sess.visits
            );
        }
        self.admit(cx);
    }
}

/// What a finished live run leaves: its summary, the trace writer, and the rules' metrics
/// and per-iteration records (records only when asked for).
pub struct Finished<W> {
    /// How the run went.
    pub summary: Summary,
    /// The trace writer, flushed.
    pub writer: W,
    /// The rules' metrics.
    pub metrics: RunMetrics,
    /// One record per iteration, in completion order (empty unless recorded).
    pub records: Vec<IterationRecord>,
    /// The URL of each page id the rules saw.
    pub urls: Vec<String>,
}

/// Runs every task of `setup` on `exec` under SpecCache's rules, writing the trace to
/// `writer`; at most `parallel` sessions at a time (a new one starts when one ends).
pub fn run<W: Write, X: Exec>(
    setup: LiveSetup,
    exec: X,
    writer: TraceWriter<W>,
    stop: Stop,
    progress: bool,
    record: bool,
) -> Result<Finished<W>, LiveError> {
    let rules = rules_of(&setup);
    let policy = setup.file.policy;
    let key = replication_key(setup.file.seed, 0);
    let parallel = setup.file.parallel.max(1);
    let n = setup.tasks.len();
    let rounds = setup.file.max_rounds as usize;
    let mut world = LiveWorld::new(setup, exec, writer, stop.clone());
    world.progress = progress;
    let mut model = SpecCache::new(rules);
    model.record_iterations(record);
    model.reset(policy, key, n, n * rounds);
    let mut engine: Engine<Event> = Engine::new();
    for _ in 0..parallel {
        world.admit(&mut engine);
    }
    drive(&mut world, &mut model, &mut engine);
    model.finish();
    if stop.raised() {
        world.summary.interrupted = true;
    }
    if let Some(e) = world.error.take() {
        return Err(e);
    }
    let metrics = model.metrics_mut();
    metrics.events = engine.events_processed();
    metrics.end_time = engine.now();
    Ok(Finished {
        summary: world.summary.clone(),
        writer: world.writer.into_inner(),
        metrics: model.metrics().clone(),
        records: model.records().to_vec(),
        urls: world.urls,
    })
}

/// The event loop of a live run: completions become events at the time they happened;
/// events are handed to the rules in time order as the clock reaches them.
pub fn drive<W: Write, X: Exec>(
    world: &mut LiveWorld<W, X>,
    model: &mut SpecCache,
    engine: &mut Engine<Event>,
) {
    loop {
        while let Some((at, done)) = world.exec.poll() {
            if let Some((key, ev)) = world.complete(done, at) {
                engine.schedule_reserved(key, at, ev);
            }
        }
        if world.stop.raised() || world.error.is_some() {
            return;
        }
        if !world.exec.is_virtual() && world.active == 0 {
            return; // every session is over; prefetches still under way are not waited for
        }
        let next = engine.next_time();
        match next {
            Some(t) if t <= world.exec.now() => {
                if let Some((_, ev)) = engine.pop() {
                    model.handle(ev, engine, world);
                }
            }
            None if world.exec.is_virtual() => return,
            _ => world.exec.wait(next),
        }
    }
}
