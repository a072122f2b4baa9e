//! The SpecCache model: sessions, target and draft calls, cache and fetches as events.
//!
//! This is `shared/spec/model.md` turned into event handlers. A [`Sim`] runs one
//! replication of one policy over a fixed workload (trajectories and arrival times); it is
//! reset and reused across runs so that, once warm, the event loop does not allocate.
//!
//! Random draws come from [`StreamKey`] streams named by `(session, step, item, purpose)`,
//! never from a shared generator, so every policy sees the same target latencies, draft
//! answers and fetch times (common random numbers).

use std::sync::Arc;

use crate::sim::cache::{Cache, EvictionKind};
use crate::sim::dist::Dist;
use crate::sim::draft::{pick_distinct, Draft};
use crate::sim::engine::{Engine, EventKey};
use crate::sim::fetch::{FetchId, FetchPool};
use crate::sim::llm::{Call, Llm};
use crate::sim::metrics::{IterationRecord, Outcome, RunMetrics};
use crate::sim::policy::Policy;
use crate::sim::rng::{Purpose, StreamKey};
use crate::sim::site::{PageId, Site};
use crate::sim::time::{Nanos, SimTime};
use crate::sim::trajectory::{Recorded, Trajectory};

/// Most drafts a scenario may run side by side.
pub const MAX_DRAFTS: usize = 4;

const NIL: u32 = u32::MAX;

/// The validated, immutable parameters of the simulated system.
#[derive(Clone, Debug)]
pub struct Model {
    /// The website.
    pub site: Arc<Site>,
    /// Default fetch + parse latency of a page.
    pub fetch: Dist,
    /// The target LLM.
    pub target: Llm,
    /// Extra LLM stages after each observation (extraction, critic, ...), in order.
    pub stages: Vec<Llm>,
    /// Draft LLMs (the union of their lists is prefetched).
    pub drafts: Vec<Draft>,
    /// Prefetch width `k`.
    pub width: usize,
    /// Cache capacity `C` in entries.
    pub cache_capacity: usize,
    /// Eviction policy.
    pub eviction: EvictionKind,
    /// One cache for all sessions (true) or one per session.
    pub shared_cache: bool,
    /// Concurrent fetch slots `W` (`None` = unlimited).
    pub fetch_slots: Option<u32>,
    /// Demand fetches jump the queue of prefetches.
    pub demand_priority: bool,
    /// Cost of serving a hit from the cache.
    pub lookup_cost: Nanos,
}

/// What a replication simulates: the sessions' paths and start times.
#[derive(Clone, Copy, Debug)]
pub struct Workload<'a> {
    /// One trajectory per session.
    pub trajectories: &'a [Trajectory],
    /// One arrival time per session.
    pub arrivals: &'a [SimTime],
    /// The replication's stream key (session `s` uses `key.child(s)`).
    pub key: StreamKey,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ev {
    Arrive(u32),
    Decide(u32),
    DraftAnswer(u32, u8),
    FetchDone(FetchId),
    Observed(u32),
    IterationEnd(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FetchState {
    Queued,
    Running,
    Done,
}

#[derive(Clone, Copy, Debug)]
struct Fetch {
    page: PageId,
    cache: u32,
    in_cache: bool,
    state: FetchState,
    requested: SimTime,
    started: SimTime,
    duration: Nanos,
    waiters: u32,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    fetch: FetchId,
    web: Nanos,
    prefetched_unused: bool,
}

#[derive(Clone, Copy, Debug)]
struct Session {
    key: StreamKey,
    arrival: SimTime,
    iter: u32,
    at_root: bool,
    t0: SimTime,
    decided: SimTime,
    think: Nanos,
    outcome: Outcome,
    web: Nanos,
    exposed: Nanos,
    queue: Nanos,
    stages: Nanos,
    next_waiter: u32,
    drafts: [Option<EventKey>; MAX_DRAFTS],
}

/// A reusable simulator of one policy over one workload.
#[derive(Debug)]
pub struct Sim<'m> {
    model: &'m Model,
    policy: Policy,
    engine: Engine<Ev>,
    sessions: Vec<Session>,
    fetches: Vec<Fetch>,
    caches: Vec<Cache<Entry>>,
    pool: FetchPool,
    scratch: Vec<PageId>,
    metrics: RunMetrics,
    records: Option<Vec<IterationRecord>>,
}

impl<'m> Sim<'m> {
    /// A simulator of `model`.
    pub fn new(model: &'m Model) -> Self {
        Sim {
            model,
            policy: Policy::None,
            engine: Engine::new(),
            sessions: Vec::new(),
            fetches: Vec::new(),
            caches: Vec::new(),
            pool: FetchPool::new(model.fetch_slots, model.demand_priority),
            scratch: Vec::with_capacity(model.width * MAX_DRAFTS + 1),
            metrics: RunMetrics::default(),
            records: None,
        }
    }

    /// Keeps one [`IterationRecord`] per iteration of the next runs (for tests and traces).
    pub fn record_iterations(&mut self, on: bool) {
        self.records = on.then(Vec::new);
    }

    /// The per-iteration records of the last run (empty unless recording is on).
    pub fn records(&self) -> &[IterationRecord] {
        self.records.as_deref().unwrap_or(&[])
    }

    /// Runs `policy` over `work` and returns its metrics.
    pub fn run(&mut self, policy: Policy, work: Workload<'_>) -> &RunMetrics {
        self.reset(policy, work);
        for (s, &at) in work.arrivals.iter().enumerate() {
            self.engine.schedule_at(at, Ev::Arrive(s as u32));
        }
        while let Some((_, ev)) = self.engine.pop() {
            self.handle(ev, work);
        }
        self.finish();
        &self.metrics
    }

    fn reset(&mut self, policy: Policy, work: Workload<'_>) {
        self.policy = policy;
        self.engine.reset();
        self.fetches.clear();
        self.pool.reset();
        let n = work.trajectories.len();
        assert_eq!(n, work.arrivals.len(), "one arrival per trajectory");
        self.sessions.clear();
        self.sessions.extend((0..n).map(|s| Session {
            key: work.key.child(s as u64),
            arrival: work.arrivals[s],
            iter: 0,
            at_root: true,
            t0: work.arrivals[s],
            decided: work.arrivals[s],
            think: 0,
            outcome: Outcome::Answer,
            web: 0,
            exposed: 0,
            queue: 0,
            stages: 0,
            next_waiter: NIL,
            drafts: [None; MAX_DRAFTS],
        }));
        let wanted = if !policy.has_cache() {
            0
        } else if self.model.shared_cache {
            1
        } else {
            n
        };
        for c in &mut self.caches {
            c.clear();
        }
        self.caches.truncate(wanted);
        while self.caches.len() < wanted {
            self.caches.push(Cache::with_kind(
                self.model.cache_capacity,
                self.model.eviction,
            ));
        }
        let iterations: usize = work.trajectories.iter().map(|t| t.iterations()).sum();
        self.metrics.reset(iterations, n);
        if let Some(r) = &mut self.records {
            r.clear();
        }
    }

    fn handle(&mut self, ev: Ev, work: Workload<'_>) {
        match ev {
            Ev::Arrive(s) => {
                let root = work.trajectories[s as usize].root;
                self.visit(s, root, 0, work);
            }
            Ev::Decide(s) => self.decide(s, work),
            Ev::DraftAnswer(s, d) => self.draft_answer(s, d as usize, work),
            Ev::FetchDone(f) => self.fetch_done(f, work),
            Ev::Observed(s) => self.observed(s, work),
            Ev::IterationEnd(s) => self.end_iteration(s, work),
        }
    }

    fn cache_of(&self, s: u32) -> u32 {
        if !self.policy.has_cache() {
            NIL
        } else if self.model.shared_cache {
            0
        } else {
            s
        }
    }

    fn recorded<'w>(&self, s: u32, work: Workload<'w>) -> Option<&'w Recorded> {
        let t = &work.trajectories[s as usize];
        let i = self.sessions[s as usize].iter as usize;
        match t.steps.get(i) {
            Some(step) => step.recorded.as_deref(),
            None => t.answer_recorded.as_deref(),
        }
    }

    fn begin_iteration(&mut self, s: u32, work: Workload<'_>) {
        let now = self.engine.now();
        let traj = &work.trajectories[s as usize];
        let sess = &mut self.sessions[s as usize];
        let i = sess.iter as usize;
        if i >= traj.iterations() {
            self.metrics.session_done(now.since(sess.arrival));
            return;
        }
        sess.t0 = now;
        sess.stages = 0;
        sess.web = 0;
        sess.exposed = 0;
        sess.queue = 0;
        let key = sess.key;
        let recorded = self.recorded(s, work);
        let call = match recorded.and_then(|r| r.target) {
            Some((latency, tokens)) => {
                self.metrics.replayed += 1;
                Call { latency, tokens }
            }
            None => {
                self.metrics.drawn += 1;
                self.model
                    .target
                    .call(&mut key.rng(i as u64, 0, Purpose::Target))
            }
        };
        self.sessions[s as usize].think = call.latency;
        self.engine.schedule_in(call.latency, Ev::Decide(s));
        let u = traj.page_before(i);
        let truth = traj.steps.get(i).map(|st| st.page);
        match self.policy {
            Policy::None | Policy::Cache => {}
            Policy::Random => {
                let mut picks = std::mem::take(&mut self.scratch);
                picks.clear();
                let mut rng = key.rng(i as u64, 0, Purpose::RandomPick);
                pick_distinct(
                    self.model.site.links(u),
                    self.model.width,
                    None,
                    &mut rng,
                    &mut picks,
                );
                for &p in &picks {
                    self.prefetch(s, p, work);
                }
                self.scratch = picks;
            }
            Policy::Oracle => {
                if let Some(v) = truth {
                    self.prefetch(s, v, work);
                }
            }
            Policy::Speccache => {
                for (d, draft) in self.model.drafts.iter().enumerate() {
                    let call = match recorded.and_then(|r| r.drafts.get(d)) {
                        Some(r) => {
                            self.metrics.replayed += 1;
                            Call {
                                latency: r.latency,
                                tokens: r.tokens,
                            }
                        }
                        None => {
                            self.metrics.drawn += 1;
                            draft
                                .llm
                                .call(&mut key.rng(i as u64, d as u64, Purpose::DraftLatency))
                        }
                    };
                    self.metrics.draft_calls += 1;
                    self.metrics.draft_tokens += call.tokens;
                    let ev = self
                        .engine
                        .schedule_in(call.latency, Ev::DraftAnswer(s, d as u8));
                    self.sessions[s as usize].drafts[d] = Some(ev);
                }
            }
        }
    }

    fn draft_answer(&mut self, s: u32, d: usize, work: Workload<'_>) {
        let sess = &mut self.sessions[s as usize];
        sess.drafts[d] = None;
        let i = sess.iter as usize;
        let key = sess.key;
        let traj = &work.trajectories[s as usize];
        let u = traj.page_before(i);
        let truth = traj.steps.get(i).map(|st| st.page);
        let mut picks = std::mem::take(&mut self.scratch);
        // A recorded call without predictions recorded its latency only: draw the list.
        match self
            .recorded(s, work)
            .and_then(|r| r.drafts.get(d))
            .filter(|r| !r.predictions.is_empty())
        {
            Some(r) => {
                self.metrics.replayed += 1;
                picks.clear();
                picks.extend(r.predictions.iter().take(self.model.width));
            }
            None => {
                self.metrics.drawn += 1;
                let mut rng = key.rng(i as u64, d as u64, Purpose::DraftPick);
                self.model.drafts[d].predict(
                    self.model.site.links(u),
                    truth,
                    self.model.width,
                    &mut rng,
                    &mut picks,
                );
            }
        }
        for &p in &picks {
            self.prefetch(s, p, work);
        }
        self.scratch = picks;
    }

    fn decide(&mut self, s: u32, work: Workload<'_>) {
        let now = self.engine.now();
        let sess = &mut self.sessions[s as usize];
        sess.decided = now;
        for d in 0..MAX_DRAFTS {
            if let Some(k) = sess.drafts[d].take() {
                // The draft answered too late: its list is for a page the target has left.
                if self.engine.cancel(k) {
                    self.metrics.drafts_late += 1;
                }
            }
        }
        let i = sess.iter as usize;
        match work.trajectories[s as usize].steps.get(i) {
            Some(step) => {
                let v = step.page;
                self.visit(s, v, i as u64 + 1, work);
            }
            None => {
                self.sessions[s as usize].outcome = Outcome::Answer;
                self.end_iteration(s, work);
            }
        }
    }

    /// The target (or the session start) needs page `v`: hit, partial hit or miss.
    fn visit(&mut self, s: u32, v: PageId, step: u64, work: Workload<'_>) {
        let c = self.cache_of(s);
        let lookup = self.model.lookup_cost;
        let entry = if c == NIL {
            None
        } else {
            self.caches[c as usize].get(v).map(|e| {
                let was_unused = e.prefetched_unused;
                e.prefetched_unused = false;
                (*e, was_unused)
            })
        };
        if let Some((_, true)) = entry {
            self.metrics.prefetch_used += 1;
        }
        let sess = &mut self.sessions[s as usize];
        match entry {
            Some((e, _)) if e.fetch == NIL => {
                sess.outcome = Outcome::Hit;
                sess.web = e.web + lookup;
                sess.exposed = lookup;
                if lookup == 0 {
                    self.observed(s, work);
                } else {
                    self.engine.schedule_in(lookup, Ev::Observed(s));
                }
            }
            Some((e, _)) => {
                sess.outcome = Outcome::PartialHit;
                self.wait_on(s, e.fetch);
                if self.fetches[e.fetch as usize].state == FetchState::Queued {
                    self.pool.promote(e.fetch);
                }
            }
            None => {
                sess.outcome = Outcome::Miss;
                let f = self.new_fetch(s, v, step, true, c, work);
                self.wait_on(s, f);
            }
        }
    }

    fn wait_on(&mut self, s: u32, f: FetchId) {
        let fetch = &mut self.fetches[f as usize];
        self.sessions[s as usize].next_waiter = fetch.waiters;
        fetch.waiters = s;
    }

    fn prefetch(&mut self, s: u32, p: PageId, work: Workload<'_>) {
        let c = self.cache_of(s);
        // A page already cached (or in flight) is not fetched again, but the prediction counts
        // as a use: without it the list's other pages can evict it (its own best guess) and a
        // larger LRU cache can hit less than a smaller one.
        if self.caches[c as usize].get(p).is_some() {
            return;
        }
        let step = u64::from(self.sessions[s as usize].iter) + 1;
        self.metrics.prefetch_issued += 1;
        self.new_fetch(s, p, step, false, c, work);
    }

    fn fetch_latency(&mut self, s: u32, page: PageId, step: u64, work: Workload<'_>) -> Nanos {
        let traj = &work.trajectories[s as usize];
        let recorded = match step {
            0 => traj.root_fetch.filter(|_| page == traj.root),
            _ => traj
                .steps
                .get(step as usize - 1)
                .filter(|st| st.page == page)
                .and_then(|st| st.recorded.as_ref())
                .and_then(|r| r.fetch),
        };
        if let Some(ns) = recorded {
            self.metrics.replayed += 1;
            return ns;
        }
        self.metrics.drawn += 1;
        let dist = self
            .model
            .site
            .fetch_override(page)
            .unwrap_or(&self.model.fetch);
        let key = self.sessions[s as usize].key;
        dist.sample_nanos(&mut key.rng(step, u64::from(page), Purpose::Fetch))
    }

    fn new_fetch(
        &mut self,
        s: u32,
        page: PageId,
        step: u64,
        demand: bool,
        c: u32,
        work: Workload<'_>,
    ) -> FetchId {
        let now = self.engine.now();
        let duration = self.fetch_latency(s, page, step, work);
        let f = self.fetches.len() as FetchId;
        self.fetches.push(Fetch {
            page,
            cache: c,
            in_cache: c != NIL,
            state: FetchState::Queued,
            requested: now,
            started: now,
            duration,
            waiters: NIL,
        });
        self.metrics.bytes_fetched += self.model.site.page(page).bytes;
        self.metrics.fetch_work += duration;
        if demand {
            self.metrics.demand_fetches += 1;
        }
        if c != NIL {
            let entry = Entry {
                fetch: f,
                web: 0,
                prefetched_unused: !demand,
            };
            if let Some((_, old)) = self.caches[c as usize].insert(page, entry) {
                self.dropped(old);
            }
        }
        if self.pool.request(f, demand) {
            self.start(f);
        }
        f
    }

    /// An entry left the cache (evicted, or never stored at capacity 0).
    fn dropped(&mut self, e: Entry) {
        if e.prefetched_unused {
            self.metrics.prefetch_wasted += 1;
        }
        if e.fetch != NIL {
            self.fetches[e.fetch as usize].in_cache = false;
        }
    }

    fn start(&mut self, f: FetchId) {
        let now = self.engine.now();
        let fetch = &mut self.fetches[f as usize];
        fetch.state = FetchState::Running;
        fetch.started = now;
        let d = fetch.duration;
        self.engine.schedule_in(d, Ev::FetchDone(f));
    }

    fn fetch_done(&mut self, f: FetchId, work: Workload<'_>) {
        let now = self.engine.now();
        let fetch = &mut self.fetches[f as usize];
        fetch.state = FetchState::Done;
        let fetch = *fetch;
        let web = fetch.started.since(fetch.requested) + fetch.duration;
        if fetch.in_cache {
            if let Some(e) = self.caches[fetch.cache as usize].peek_mut(fetch.page) {
                if e.fetch == f {
                    e.fetch = NIL;
                    e.web = web;
                }
            }
        }
        let fetches = &self.fetches;
        if let Some(next) = self
            .pool
            .release(|id| fetches[id as usize].state == FetchState::Queued)
        {
            self.start(next);
        }
        let mut w = fetch.waiters;
        while w != NIL {
            let sess = &mut self.sessions[w as usize];
            let next = sess.next_waiter;
            sess.next_waiter = NIL;
            sess.web = web;
            sess.exposed = now.since(sess.decided);
            sess.queue = fetch.started.since(fetch.requested.max(sess.decided));
            self.observed(w, work);
            w = next;
        }
    }

    fn observed(&mut self, s: u32, work: Workload<'_>) {
        let sess = &mut self.sessions[s as usize];
        if sess.at_root {
            sess.at_root = false;
            self.metrics.root_web += sess.exposed;
            self.begin_iteration(s, work);
            return;
        }
        let i = sess.iter as usize;
        let key = sess.key;
        let recorded = self.recorded(s, work).and_then(|r| r.stages);
        let total = match recorded {
            Some(ns) => {
                self.metrics.replayed += 1;
                ns
            }
            None => {
                let mut t: Nanos = 0;
                for (j, st) in self.model.stages.iter().enumerate() {
                    self.metrics.drawn += 1;
                    t += st
                        .call(&mut key.rng(i as u64, j as u64, Purpose::Stage))
                        .latency;
                }
                t
            }
        };
        self.sessions[s as usize].stages = total;
        if total == 0 {
            self.end_iteration(s, work);
        } else {
            self.engine.schedule_in(total, Ev::IterationEnd(s));
        }
    }

    fn end_iteration(&mut self, s: u32, work: Workload<'_>) {
        let now = self.engine.now();
        let sess = &mut self.sessions[s as usize];
        let traj = &work.trajectories[s as usize];
        let i = sess.iter as usize;
        let rec = IterationRecord {
            session: s,
            iteration: sess.iter,
            page: traj.steps.get(i).map(|st| st.page),
            outcome: sess.outcome,
            start: sess.t0,
            latency: now.since(sess.t0),
            llm: sess.think + sess.stages,
            stages: sess.stages,
            web: sess.web,
            exposed: sess.exposed,
            queue: sess.queue,
        };
        sess.iter += 1;
        self.metrics.iteration(&rec);
        if let Some(r) = &mut self.records {
            r.push(rec);
        }
        self.begin_iteration(s, work);
    }

    fn finish(&mut self) {
        let mut wasted = 0;
        for c in &self.caches {
            c.for_each(|_, e| wasted += u64::from(e.prefetched_unused));
        }
        self.metrics.prefetch_wasted += wasted;
        self.metrics.events = self.engine.events_processed();
        self.metrics.end_time = self.engine.now();
    }
}
