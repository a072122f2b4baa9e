//! The live agent loop: the target thinks over real HTTP while the draft's predictions (or
//! random links) are prefetched into the simulator's [`Cache`], with in-flight tracking,
//! exactly as `shared/spec/model.md` describes; every iteration is written to the trace.
//!
//! One thread per LLM call and per fetch reports to the session's event loop over a channel;
//! the loop owns the cache and all bookkeeping, so there is no shared mutable state. Times
//! are wall-clock durations measured by the loop itself (issue to arrival of the result), so
//! a replay of the trace in the simulator sees the same latencies the agent saw.
//!
//! Semantics, as in the simulator:
//! - `none`: no cache; `cache`: demand fetches enter the cache; `random`: at the start of an
//!   iteration `k` links picked by the same stream as the simulator's; `speccache`: each draft
//!   answers with a ranked list, each page not cached and not in flight is prefetched.
//! - A draft that answers after the target has decided is ignored (recorded with no
//!   predictions and the latency at which it was given up).
//! - The target's page: complete in the cache = hit, in flight = partial hit (wait for the
//!   rest), otherwise a demand fetch = miss. Prefetches still running continue.
//!
//! Fallbacks: a target reply naming no valid button is re-asked `unparseable_retries` times,
//! then the session ends with an `answer` iteration. A failed target call (after retries)
//! ends the session (counted as failed). A failed draft call gives no predictions. A failed
//! page fetch yields an error page without links (not cached).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::chat::{ChatClient, ChatError, Message};
use super::config::LiveSetup;
use super::html::{Link, Parsed};
use super::prompt::{self, Decision, View};
use super::retry::Stop;
use super::web::{Fetcher, Page};
use super::LiveError;
use crate::io::trace::{
    DraftCall, Header, IterationLine, LlmCall, PageRef, SessionLine, TraceAction, TraceLine,
    TraceWriter,
};
use crate::runner::replication_key;
use crate::scenario::CacheScope;
use crate::sim::cache::Cache;
use crate::sim::draft::pick_distinct;
use crate::sim::policy::Policy;
use crate::sim::rng::{Purpose, StreamKey};
use crate::sim::site::PageId;

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
            "{} sessions ({} failed{}), {} iterations, mean iteration {:.3} s, hit rate {:.1} % ({} hits, {} partial), {} unparseable target replies, {} draft failures, {} late drafts, {} failed fetches",
            self.sessions,
            self.failed,
            if self.interrupted { ", interrupted" } else { "" },
            self.iterations,
            mean,
            hit_rate * 100.0,
            self.hits,
            self.partial_hits,
            self.unparseable,
            self.draft_failures,
            self.drafts_late,
            self.fetch_failures
        )
    }
}

type Fetched = Result<Page, String>;

enum Event {
    Target {
        session: u32,
        iter: u32,
        result: Result<TargetAnswer, ChatError>,
    },
    Draft {
        session: u32,
        iter: u32,
        d: usize,
        result: Result<(Vec<usize>, Option<u64>), ChatError>,
    },
    Fetched {
        id: usize,
        result: Fetched,
    },
}

struct TargetAnswer {
    decision: Decision,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
}

#[derive(Clone, Debug)]
enum Slot {
    Pending(usize),
    Ready(Arc<Page>, Duration),
}

#[derive(Clone, Debug)]
struct Entry {
    slot: Slot,
}

struct FetchRec {
    url: String,
    page: PageId,
    issued: Instant,
    in_cache: bool,
}

/// How a visit was served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Served {
    Hit,
    Partial,
    Miss,
}

impl Served {
    fn name(self) -> &'static str {
        match self {
            Served::Hit => "hit",
            Served::Partial => "partial_hit",
            Served::Miss => "miss",
        }
    }
}

enum SessionEnd {
    Done,
    Failed(String),
    Interrupted,
}

/// A live run: clients, cache, pages seen, and the channel all workers report to.
pub struct LiveRun {
    setup: LiveSetup,
    fetcher: Arc<Fetcher>,
    target: Arc<ChatClient>,
    drafts: Vec<Arc<ChatClient>>,
    stop: Stop,
    cache: Cache<Entry>,
    pages: BTreeMap<String, PageId>,
    fetches: Vec<FetchRec>,
    tx: Sender<Event>,
    rx: Receiver<Event>,
    summary: Summary,
    /// Print one line per finished session on stderr.
    pub progress: bool,
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn refs(links: &[Link]) -> Vec<PageRef> {
    links.iter().map(|l| PageRef::Name(l.url.clone())).collect()
}

impl LiveRun {
    /// Prepares a run: reads API keys (errors name the variable, never the value).
    pub fn new(setup: LiveSetup, stop: Stop) -> Result<LiveRun, LiveError> {
        let backoff = setup.file.backoff.clone();
        let seed = setup.file.seed;
        let proxy = setup.proxy.clone();
        let target = ChatClient::new(
            &setup.target,
            "target",
            backoff.clone(),
            seed,
            proxy.clone(),
            stop.clone(),
        )
        .map_err(LiveError::Config)?;
        let drafts = setup
            .drafts
            .iter()
            .enumerate()
            .map(|(i, e)| {
                ChatClient::new(
                    e,
                    &format!("drafts[{i}]"),
                    backoff.clone(),
                    seed,
                    proxy.clone(),
                    stop.clone(),
                )
                .map(Arc::new)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(LiveError::Config)?;
        let fetcher = Arc::new(Fetcher::new(&setup, stop.clone()));
        let cache = Cache::with_kind(
            setup.file.cache.capacity as usize,
            setup.file.cache.eviction,
        );
        let (tx, rx) = channel();
        Ok(LiveRun {
            setup,
            fetcher,
            target: Arc::new(target),
            drafts,
            stop,
            cache,
            pages: BTreeMap::new(),
            fetches: Vec::new(),
            tx,
            rx,
            summary: Summary::default(),
            progress: true,
        })
    }

    /// The trace header of this run (models and URLs; never keys).
    pub fn header(&self) -> Header {
        let f = &self.setup.file;
        let mut h = Header::new(format!("specsim live {}", env!("CARGO_PKG_VERSION")));
        h.policy = Some(f.policy.name().to_string());
        h.width = Some(f.width);
        h.cache_capacity = Some(f.cache.capacity);
        let mut m = serde_json::Map::new();
        m.insert("site".into(), f.site.clone().into());
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
        m.insert("target_model".into(), f.target.model.clone().into());
        m.insert("target_base_url".into(), f.target.base_url.clone().into());
        let drafts: Vec<serde_json::Value> = f
            .drafts
            .iter()
            .map(|d| serde_json::json!({"model": d.model, "base_url": d.base_url}))
            .collect();
        m.insert("drafts".into(), drafts.into());
        h.meta = m;
        h
    }

    fn page_id(&mut self, url: &str) -> PageId {
        let n = self.pages.len() as PageId;
        *self.pages.entry(url.to_string()).or_insert(n)
    }

    fn has_cache(&self) -> bool {
        self.setup.file.policy.has_cache()
    }

    /// Starts a fetch on its own thread; it enters the cache (in flight) when there is one.
    fn start_fetch(&mut self, url: &str, page: PageId) -> usize {
        let id = self.fetches.len();
        let in_cache = self.has_cache();
        self.fetches.push(FetchRec {
            url: url.to_string(),
            page,
            issued: Instant::now(),
            in_cache,
        });
        if in_cache {
            let _ = self.cache.insert(
                page,
                Entry {
                    slot: Slot::Pending(id),
                },
            );
        }
        let fetcher = Arc::clone(&self.fetcher);
        let tx = self.tx.clone();
        let url = url.to_string();
        std::thread::spawn(move || {
            let result = fetcher.fetch(&url, id as u64).map_err(|e| e.to_string());
            let _ = tx.send(Event::Fetched { id, result });
        });
        id
    }

    fn prefetch(&mut self, link: &Link) {
        let page = self.page_id(&link.url);
        if self.cache.contains(page) {
            return;
        }
        self.start_fetch(&link.url.clone(), page);
    }

    /// A fetch finished: the cache entry (if it is still this fetch's) becomes complete, or
    /// goes on failure. Returns the page and fetch duration.
    fn fetched(&mut self, id: usize, result: Fetched) -> (Arc<Page>, Duration) {
        let rec = &self.fetches[id];
        let took = rec.issued.elapsed();
        let (page_id, in_cache) = (rec.page, rec.in_cache);
        let page = match result {
            Ok(p) => Arc::new(p),
            Err(e) => {
                self.summary.fetch_failures += 1;
                eprintln!("warning: fetch failed: {e}");
                let url = rec.url.clone();
                if in_cache {
                    if let Some(Entry {
                        slot: Slot::Pending(f),
                    }) = self.cache.peek(page_id)
                    {
                        if *f == id {
                            self.cache.remove(page_id);
                        }
                    }
                }
                return (
                    Arc::new(Page {
                        url,
                        parsed: Parsed {
                            title: "error".into(),
                            text: format!("The page could not be fetched: {e}"),
                            links: Vec::new(),
                        },
                        bytes: 0,
                        truncated: false,
                    }),
                    took,
                );
            }
        };
        if in_cache {
            if let Some(e) = self.cache.peek_mut(page_id) {
                if matches!(e.slot, Slot::Pending(f) if f == id) {
                    e.slot = Slot::Ready(Arc::clone(&page), took);
                }
            }
        }
        (page, took)
    }

    /// Waits for the next event, checking the stop flag; `None` when stopped.
    fn next_event(&self) -> Option<Event> {
        loop {
            if self.stop.raised() {
                return None;
            }
            match self.rx.recv_timeout(Duration::from_millis(20)) {
                Ok(e) => return Some(e),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Visits `url`: hit, partial hit or miss; returns when the page is observed.
    fn visit(&mut self, url: &str) -> Option<(Arc<Page>, Duration, Served)> {
        let page = self.page_id(url);
        let slot = if self.has_cache() {
            self.cache.get(page).map(|e| e.slot.clone())
        } else {
            None
        };
        let (wait_for, served) = match slot {
            Some(Slot::Ready(p, took)) => return Some((p, took, Served::Hit)),
            Some(Slot::Pending(f)) => (f, Served::Partial),
            None => (self.start_fetch(url, page), Served::Miss),
        };
        loop {
            match self.next_event()? {
                Event::Fetched { id, result } => {
                    let (p, took) = self.fetched(id, result);
                    if id == wait_for {
                        return Some((p, took, served));
                    }
                }
                Event::Draft { .. } | Event::Target { .. } => {}
            }
        }
    }

    /// Runs tasks taken from the shared counter `next` until none is left, writing the
    /// shared trace line by line.
    fn run_tasks<W: Write>(
        &mut self,
        next: &AtomicUsize,
        w: &Mutex<TraceWriter<W>>,
    ) -> Result<Summary, LiveError> {
        let tasks = self.setup.tasks.clone();
        loop {
            let s = next.fetch_add(1, Ordering::SeqCst);
            let Some(task) = tasks.get(s) else {
                break;
            };
            if self.stop.raised() {
                self.summary.interrupted = true;
                break;
            }
            self.summary.sessions += 1;
            let (iters, visits, hits) = (
                self.summary.iterations,
                self.summary.visits,
                self.summary.hits + self.summary.partial_hits,
            );
            let end = self.session(s as u32, task, w)?;
            if self.progress {
                eprintln!(
                    "session {}/{}: {} iterations, {} of {} visits served from the cache",
                    s + 1,
                    tasks.len(),
                    self.summary.iterations - iters,
                    self.summary.hits + self.summary.partial_hits - hits,
                    self.summary.visits - visits
                );
            }
            match end {
                SessionEnd::Done => {}
                SessionEnd::Failed(e) => {
                    eprintln!("warning: session {s} failed: {e}");
                    self.summary.failed += 1;
                    self.summary.errors.push(e);
                }
                SessionEnd::Interrupted => {
                    self.summary.interrupted = true;
                    break;
                }
            }
        }
        Ok(self.summary.clone())
    }

    fn write<W: Write>(w: &Mutex<TraceWriter<W>>, line: TraceLine) -> Result<(), LiveError> {
        w.lock()
            .map_err(|_| LiveError::Run("the trace writer failed in another session".into()))?
            .write(&line)
            .map_err(|e| LiveError::Run(format!("cannot write the trace: {e}")))
    }

    fn session<W: Write>(
        &mut self,
        s: u32,
        task: &str,
        w: &Mutex<TraceWriter<W>>,
    ) -> Result<SessionEnd, LiveError> {
        if self.setup.file.cache.scope == CacheScope::Session {
            self.cache.clear();
        }
        let name = format!("s{s}");
        let key = replication_key(self.setup.file.seed, 0).child(u64::from(s));
        let started_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let start = self.setup.start.to_string();
        let Some((mut page, root_took, _)) = self.visit(&start) else {
            return Ok(SessionEnd::Interrupted);
        };
        Self::write(
            w,
            TraceLine::Session(SessionLine {
                session: name.clone(),
                task: task.to_string(),
                site: self.setup.file.site.clone(),
                root: PageRef::Name(start.clone()),
                root_fetch_s: Some(secs(root_took)),
                root_links: Some(refs(&page.parsed.links)),
                root_out_degree: None,
                started_at: Some(started_at),
            }),
        )?;
        let mut url = start;
        for i in 0..self.setup.file.max_rounds {
            if self.stop.raised() {
                return Ok(SessionEnd::Interrupted);
            }
            match self.iteration(s, i, task, &name, &url, &page, key, w)? {
                Step::Moved(u, p) => {
                    url = u;
                    page = p;
                }
                Step::End(e) => return Ok(e),
            }
        }
        Ok(SessionEnd::Done)
    }

    #[allow(clippy::too_many_arguments)]
    fn iteration<W: Write>(
        &mut self,
        s: u32,
        i: u32,
        task: &str,
        name: &str,
        url: &str,
        page: &Arc<Page>,
        key: StreamKey,
        w: &Mutex<TraceWriter<W>>,
    ) -> Result<Step, LiveError> {
        let f = &self.setup.file;
        let width = f.width as usize;
        let buttons: Arc<Vec<Link>> = Arc::new(page.parsed.links.clone());
        let view = View {
            task,
            step: i,
            url,
            title: &page.parsed.title,
            text: &page.parsed.text,
            buttons: &buttons,
            max_chars: f.web.max_page_chars as usize,
        };
        let target_msgs = prompt::target_messages(&view);
        let draft_msgs = prompt::draft_messages(&view, width);
        let nonce = (u64::from(s) << 32) | u64::from(i);
        let t0 = Instant::now();
        {
            let client = Arc::clone(&self.target);
            let tx = self.tx.clone();
            let b = Arc::clone(&buttons);
            let retries = f.unparseable_retries;
            std::thread::spawn(move || {
                let result = ask_target(&client, target_msgs, &b, retries, nonce);
                let _ = tx.send(Event::Target {
                    session: s,
                    iter: i,
                    result,
                });
            });
        }
        let n_drafts = if f.policy == Policy::Speccache {
            self.drafts.len()
        } else {
            0
        };
        let mut drafts: Vec<Option<DraftCall>> = vec![None; n_drafts];
        match f.policy {
            Policy::Random => {
                let ids: Vec<PageId> = buttons.iter().map(|l| self.page_id(&l.url)).collect();
                let mut picks = Vec::with_capacity(width);
                let mut rng = key.rng(u64::from(i), 0, Purpose::RandomPick);
                pick_distinct(&ids, width, None, &mut rng, &mut picks);
                for p in picks {
                    let n = ids.iter().position(|&x| x == p).expect("picked from ids");
                    self.prefetch(&buttons[n]);
                }
            }
            Policy::Speccache => {
                for (d, client) in self.drafts.iter().enumerate() {
                    let client = Arc::clone(client);
                    let tx = self.tx.clone();
                    let b = Arc::clone(&buttons);
                    let msgs = draft_msgs.clone();
                    let nonce = nonce ^ ((d as u64 + 1) << 60);
                    std::thread::spawn(move || {
                        let result = client
                            .chat(&msgs, nonce)
                            .map(|r| (prompt::read_draft(&r.text, &b, width), r.output_tokens));
                        let _ = tx.send(Event::Draft {
                            session: s,
                            iter: i,
                            d,
                            result,
                        });
                    });
                }
            }
            Policy::None | Policy::Cache | Policy::Oracle => {}
        }
        // Until the target decides: drafts answer and prefetch, fetches land in the cache.
        let answer = loop {
            let Some(ev) = self.next_event() else {
                return Ok(Step::End(SessionEnd::Interrupted));
            };
            match ev {
                Event::Fetched { id, result } => {
                    self.fetched(id, result);
                }
                Event::Draft {
                    session,
                    iter,
                    d,
                    result,
                } if session == s && iter == i => {
                    let latency_s = secs(t0.elapsed());
                    match result {
                        Ok((picks, tokens)) => {
                            let links: Vec<Link> =
                                picks.iter().map(|&n| buttons[n].clone()).collect();
                            for l in &links {
                                self.prefetch(l);
                            }
                            drafts[d] = Some(DraftCall {
                                latency_s,
                                output_tokens: tokens,
                                predictions: refs(&links),
                            });
                        }
                        Err(e) => {
                            self.summary.draft_failures += 1;
                            eprintln!("warning: draft {d} failed: {e}");
                            drafts[d] = Some(DraftCall {
                                latency_s,
                                output_tokens: None,
                                predictions: Vec::new(),
                            });
                        }
                    }
                }
                Event::Draft { .. } => {}
                Event::Target {
                    session,
                    iter,
                    result,
                } if session == s && iter == i => break result,
                Event::Target { .. } => {}
            }
        };
        let decided = Instant::now();
        let think = decided - t0;
        let drafts: Vec<DraftCall> = drafts
            .into_iter()
            .map(|d| {
                d.unwrap_or_else(|| {
                    // Too late: the simulator cancels a draft that answers after the target.
                    self.summary.drafts_late += 1;
                    DraftCall {
                        latency_s: secs(think),
                        output_tokens: None,
                        predictions: Vec::new(),
                    }
                })
            })
            .collect();
        let answer = match answer {
            Ok(a) => a,
            Err(e) => return Ok(Step::End(SessionEnd::Failed(format!("target: {e}")))),
        };
        let target = Some(LlmCall {
            latency_s: secs(think),
            output_tokens: answer.output_tokens,
            input_tokens: answer.input_tokens,
        });
        let mut line = IterationLine {
            session: name.to_string(),
            iteration: i,
            action: TraceAction::Answer,
            page: None,
            links: None,
            out_degree: None,
            target,
            stages: Vec::new(),
            fetch_s: None,
            drafts,
            outcome: None,
            iteration_s: None,
            exposed_web_s: None,
            other_s: None,
        };
        let n = match answer.decision {
            Decision::Click(n) => n,
            other => {
                if other == Decision::Unparseable {
                    self.summary.unparseable += 1;
                    eprintln!(
                        "warning: session {s} step {i}: the target named no valid button; the session ends (documented fallback)"
                    );
                }
                line.iteration_s = Some(secs(t0.elapsed()));
                self.count(&line);
                Self::write(w, TraceLine::Iteration(line))?;
                return Ok(Step::End(SessionEnd::Done));
            }
        };
        let next = buttons[n].url.clone();
        let Some((p, took, served)) = self.visit(&next) else {
            return Ok(Step::End(SessionEnd::Interrupted));
        };
        let observed = Instant::now();
        line.action = TraceAction::Click;
        line.page = Some(PageRef::Name(next.clone()));
        line.links = Some(refs(&p.parsed.links));
        line.fetch_s = Some(secs(took));
        line.outcome = Some(served.name().to_string());
        line.iteration_s = Some(secs(observed - t0));
        line.exposed_web_s = Some(secs(observed - decided));
        match served {
            Served::Hit => self.summary.hits += 1,
            Served::Partial => self.summary.partial_hits += 1,
            Served::Miss => {}
        }
        self.summary.visits += 1;
        self.count(&line);
        Self::write(w, TraceLine::Iteration(line))?;
        Ok(Step::Moved(next, p))
    }

    fn count(&mut self, line: &IterationLine) {
        self.summary.iterations += 1;
        self.summary.iteration_s += line.iteration_s.unwrap_or(0.0);
    }
}

/// One worker per concurrent session (`parallel` in the configuration); each reads the API
/// keys. Create them before the trace file, so a bad key leaves no empty trace behind.
pub fn workers(setup: &LiveSetup, stop: &Stop) -> Result<Vec<LiveRun>, LiveError> {
    (0..setup.file.parallel.max(1))
        .map(|_| LiveRun::new(setup.clone(), stop.clone()))
        .collect()
}

/// Runs every task on `workers` (sessions in parallel, each with its own cache), writing
/// one trace whose sessions interleave line by line. Returns the summed summary.
pub fn run_all<W: Write + Send>(
    workers: &mut [LiveRun],
    w: TraceWriter<W>,
) -> Result<Summary, LiveError> {
    let next = AtomicUsize::new(0);
    let shared = Mutex::new(w);
    let results: Vec<Result<Summary, LiveError>> = std::thread::scope(|sc| {
        let handles: Vec<_> = workers
            .iter_mut()
            .map(|wk| {
                let (next, shared) = (&next, &shared);
                sc.spawn(move || wk.run_tasks(next, shared))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(LiveError::Run("a session worker panicked".into())))
            })
            .collect()
    });
    let mut total = Summary::default();
    for r in results {
        let s = r?;
        total.sessions += s.sessions;
        total.failed += s.failed;
        total.iterations += s.iterations;
        total.visits += s.visits;
        total.hits += s.hits;
        total.partial_hits += s.partial_hits;
        total.unparseable += s.unparseable;
        total.draft_failures += s.draft_failures;
        total.drafts_late += s.drafts_late;
        total.fetch_failures += s.fetch_failures;
        total.iteration_s += s.iteration_s;
        total.interrupted |= s.interrupted;
        total.errors.extend(s.errors);
    }
    Ok(total)
}

enum Step {
    Moved(String, Arc<Page>),
    End(SessionEnd),
}

/// Asks the target, re-asking up to `retries` times while the reply names no valid button.
fn ask_target(
    client: &ChatClient,
    mut messages: Vec<Message>,
    buttons: &[Link],
    retries: u32,
    nonce: u64,
) -> Result<TargetAnswer, ChatError> {
    let mut input = None;
    let mut output = None;
    let add = |a: &mut Option<u64>, b: Option<u64>| {
        if let Some(b) = b {
            *a = Some(a.unwrap_or(0) + b);
        }
    };
    let mut attempt = 0;
    loop {
        let r = client.chat(&messages, nonce ^ (u64::from(attempt) << 56))?;
        add(&mut input, r.input_tokens);
        add(&mut output, r.output_tokens);
        let decision = prompt::read_target(&r.text, buttons);
        if decision != Decision::Unparseable || attempt >= retries {
            return Ok(TargetAnswer {
                decision,
                input_tokens: input,
                output_tokens: output,
            });
        }
        messages.extend(prompt::reminder(&r.text, buttons.len()));
        attempt += 1;
    }
}
