//! The SpecCache model: `shared/spec/model.md`'s rules as event handlers, written once.
//!
//! [`SpecCache`] holds the state of a run (sessions, caches, fetches, the fetch pool, the
//! metrics) and reacts to [`Event`]s. It reads the clock and schedules its own timers through
//! a [`Context`], and acts on the outside through a [`World`]: it asks the world to call the
//! target and the drafts, to fetch pages and to run the extra stages, and reads their results
//! when their completions are delivered. It never samples a latency nor reads a trajectory:
//! under the sampled world ([`crate::sim::sampled`]) it is the simulator, under the live world
//! (`specsim::live::world`) it is the live agent's prefetching.
//!
//! [`Model`] is the validated description of a simulated system (what a scenario builds):
//! the rules' parameters ([`Rules`]) plus what the sampled world draws from.

use std::sync::Arc;

use crate::sim::cache::{Cache, EvictionKind, ListOrder};
use crate::sim::dist::Dist;
use crate::sim::draft::{pick_distinct, Draft};
use crate::sim::engine::{Deferred, EventKey};
use crate::sim::fetch::{FetchId, FetchPool, RateLimit};
use crate::sim::llm::Llm;
use crate::sim::metrics::{IterationRecord, Outcome, RunMetrics};
use crate::sim::policy::Policy;
use crate::sim::rng::{Purpose, StreamKey};
use crate::sim::site::{PageId, Site};
use crate::sim::time::{Nanos, SimTime};
use crate::sim::world::{Context, Decision, Event, SessionId, World};

/// Most drafts a scenario may run side by side.
pub const MAX_DRAFTS: usize = 4;

const NIL: u32 = u32::MAX;

/// The validated, immutable description of a simulated system: the rules' parameters and
/// the site and samplers the sampled world draws from.
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
    /// The parameters of SpecCache's rules (`rules.drafts` is `drafts.len()`, capped).
    pub rules: Rules,
}

/// Largest `fetcher.rate_limit_per_s`: one fetch start per nanosecond.
pub const MAX_RATE_LIMIT_PER_S: f64 = 1e9;

/// Largest `fetcher.rate_limit_burst`.
pub const MAX_RATE_LIMIT_BURST: u32 = 1_000_000;

/// The fetcher parameters [`check_rules`] validates.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FetcherRules {
    /// `fetcher.slots`.
    pub slots: Option<u32>,
    /// `fetcher.rate_limit_per_s`.
    pub rate_limit_per_s: Option<f64>,
    /// `fetcher.rate_limit_burst`.
    pub rate_limit_burst: Option<u32>,
}

impl FetcherRules {
    /// The rate limit these parameters ask for (once [`check_rules`] found no problem).
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.rate_limit_per_s
            .map(|r| RateLimit::new(r, self.rate_limit_burst.unwrap_or(RateLimit::DEFAULT_BURST)))
    }
}

/// Validates the parameters that scenario files and live configurations share, naming each
/// problem by its field.
pub fn check_rules(
    width: u32,
    drafts: usize,
    speccache: bool,
    fetcher: FetcherRules,
    p: &mut crate::problems::Problems,
) {
    let slots = fetcher.slots;
    if width == 0 {
        p.push("width", "must be at least 1 (the prefetch width k), got 0");
    }
    let max_width = crate::limits::MAX_WIDTH;
    if width > max_width {
        p.push(
            "width",
            format!(
                "must be at most {max_width} (a limit of this build, docs/scenario.md), got {width}"
            ),
        );
    }
    if speccache && drafts == 0 {
        p.push(
            "drafts",
            "policy `speccache` needs at least one draft, got none",
        );
    }
    if drafts > MAX_DRAFTS {
        p.push(
            "drafts",
            format!("at most {MAX_DRAFTS} drafts are supported, got {drafts}"),
        );
    }
    if slots == Some(0) {
        p.push(
            "fetcher.slots",
            "must be at least 1, or absent for unlimited, got 0",
        );
    }
    if let Some(r) = fetcher.rate_limit_per_s {
        if !(r.is_finite() && r > 0.0 && r <= MAX_RATE_LIMIT_PER_S) {
            p.push(
                "fetcher.rate_limit_per_s",
                format!(
                    "must be a number of fetch starts per second above 0 and at most {MAX_RATE_LIMIT_PER_S:e}, or absent for unlimited, got {r}"
                ),
            );
        }
    }
    if let Some(b) = fetcher.rate_limit_burst {
        if fetcher.rate_limit_per_s.is_none() {
            p.push(
                "fetcher.rate_limit_burst",
                format!("needs `fetcher.rate_limit_per_s` (a burst of a rate limit), got {b} without a rate"),
            );
        }
        if b == 0 || b > MAX_RATE_LIMIT_BURST {
            p.push(
                "fetcher.rate_limit_burst",
                format!("must be from 1 to {MAX_RATE_LIMIT_BURST} fetch starts, got {b}"),
            );
        }
    }
}

/// The parameters of SpecCache's rules: what the simulator and a live run share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
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
    /// Limit on the rate of fetch starts to the site (`None` = unlimited).
    pub rate_limit: Option<RateLimit>,
    /// Demand fetches jump the queue of prefetches.
    pub demand_priority: bool,
    /// Queued prefetches of a session are cancelled when its target decides.
    pub cancel_stale: bool,
    /// The order a draft's list enters the cache.
    pub list_order: ListOrder,
    /// Cost of serving a hit from the cache.
    pub lookup_cost: Nanos,
    /// Drafts called per iteration under `speccache` (at most [`MAX_DRAFTS`]).
    pub drafts: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FetchState {
    Queued,
    Running,
    Done,
    /// A stale prefetch cancelled before it got a slot.
    Cancelled,
}

#[derive(Clone, Copy, Debug)]
struct Fetch {
    page: PageId,
    session: SessionId,
    demand: bool,
    cache: u32,
    in_cache: bool,
    state: FetchState,
    requested: SimTime,
    started: SimTime,
    waiters: u32,
    /// The place of its completion, for a fetch started deferred whose
    /// [`Event::Fetched`] is not scheduled (yet).
    deferred: Option<Deferred>,
}

/// A cache entry: the fetch that fills it, complete (`ready`) or in flight.
#[derive(Clone, Copy, Debug)]
struct Entry {
    fetch: FetchId,
    ready: bool,
    web: Nanos,
    prefetched_unused: bool,
}

#[derive(Clone, Copy, Debug)]
struct Session {
    key: StreamKey,
    arrival: SimTime,
    iter: u32,
    at_root: bool,
    /// The page the session is on (or, while it waits for the observation, going to).
    page: PageId,
    /// The page visited in the current iteration (`None` for an answer).
    visiting: Option<PageId>,
    t0: SimTime,
    decided: SimTime,
    observed_at: SimTime,
    think: Nanos,
    outcome: Outcome,
    web: Nanos,
    exposed: Nanos,
    queue: Nanos,
    stages: Nanos,
    other: Nanos,
    /// The stages are over; a [`Event::StagesDone`] now ends the other work.
    in_other: bool,
    /// The fetch whose page the session observes.
    fetch: FetchId,
    next_waiter: u32,
    drafts: [Option<EventKey>; MAX_DRAFTS],
}

/// The state of one run of SpecCache's rules under one policy.
#[derive(Debug)]
pub struct SpecCache {
    rules: Rules,
    policy: Policy,
    sessions: Vec<Session>,
    fetches: Vec<Fetch>,
    caches: Vec<Cache<Entry>>,
    /// Caches of this run (`caches[..ncaches]`).
    ncaches: usize,
    /// The driver runs the sessions one at a time ([`SpecCache::run_alone`]): sessions with
    /// caches of their own take turns with one, emptied between two sessions.
    alone: bool,
    pool: FetchPool,
    /// An [`Event::Token`] is pending (the rate limit holds a queued fetch back).
    token_timer: bool,
    /// Prefetches may start deferred ([`World::start_fetch_deferred`]): unlimited slots and
    /// no rate limit, so a completion frees nothing another fetch waits for.
    defer: bool,
    /// Completions of deferred fetches never scheduled, and the latest deferred completion.
    deferred: (u64, SimTime),
    scratch: Vec<PageId>,
    metrics: RunMetrics,
    records: Option<Vec<IterationRecord>>,
}

impl SpecCache {
    /// The rules with parameters `rules`, ready for [`SpecCache::reset`].
    pub fn new(rules: Rules) -> Self {
        SpecCache {
            rules,
            policy: Policy::None,
            sessions: Vec::new(),
            fetches: Vec::new(),
            caches: Vec::new(),
            ncaches: 0,
            alone: false,
            pool: FetchPool::new(rules.fetch_slots, rules.demand_priority)
                .with_rate_limit(rules.rate_limit),
            token_timer: false,
            defer: rules.fetch_slots.is_none() && rules.rate_limit.is_none(),
            deferred: (0, SimTime::ZERO),
            scratch: Vec::with_capacity(rules.width * MAX_DRAFTS + 1),
            metrics: RunMetrics::default(),
            records: None,
        }
    }

    /// The parameters.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Keeps one [`IterationRecord`] per iteration of the next runs.
    pub fn record_iterations(&mut self, on: bool) {
        self.records = on.then(Vec::new);
    }

    /// The per-iteration records of the last run (empty unless recording is on).
    pub fn records(&self) -> &[IterationRecord] {
        self.records.as_deref().unwrap_or(&[])
    }

    /// The metrics so far.
    pub fn metrics(&self) -> &RunMetrics {
        &self.metrics
    }

    /// Mutable metrics, for the driver to add what the world counted.
    pub fn metrics_mut(&mut self) -> &mut RunMetrics {
        &mut self.metrics
    }

    /// Starts a run of `policy` with `sessions` sessions whose streams are `key.child(s)`;
    /// `iterations` (a capacity hint) is how many iterations are expected in all. Keeps
    /// allocations, so a warm model runs without allocating.
    pub fn reset(&mut self, policy: Policy, key: StreamKey, sessions: usize, iterations: usize) {
        self.policy = policy;
        self.fetches.clear();
        self.pool.reset();
        self.token_timer = false;
        self.deferred = (0, SimTime::ZERO);
        self.sessions.clear();
        self.sessions.extend((0..sessions).map(|s| Session {
            key: key.child(s as u64),
            arrival: SimTime::ZERO,
            iter: 0,
            at_root: true,
            page: 0,
            visiting: None,
            t0: SimTime::ZERO,
            decided: SimTime::ZERO,
            observed_at: SimTime::ZERO,
            think: 0,
            outcome: Outcome::Answer,
            web: 0,
            exposed: 0,
            queue: 0,
            stages: 0,
            other: 0,
            in_other: false,
            fetch: NIL,
            next_waiter: NIL,
            drafts: [None; MAX_DRAFTS],
        }));
        let wanted = if !policy.has_cache() {
            0
        } else if self.rules.shared_cache || self.alone {
            1
        } else {
            sessions
        };
        // Caches beyond `wanted` are kept (unused, not cleared) with their allocations, for
        // the next run that needs them: rebuilding them per run was a tenth of its cost.
        for c in self.caches.iter_mut().take(wanted) {
            c.clear();
        }
        self.ncaches = wanted;
        // Room for the entries a cache can receive in this run: every fetch of its sessions.
        let fetches = self.expected_fetches(policy, sessions, iterations);
        let expected = fetches.div_ceil(wanted.max(1));
        while self.caches.len() < wanted {
            self.caches.push(Cache::with_room(
                self.rules.cache_capacity,
                self.rules.eviction,
                expected,
            ));
        }
        self.metrics.reset(iterations, sessions);
        if let Some(r) = &mut self.records {
            r.clear();
        }
    }

    /// About how many fetches a run of `policy` asks for: one per visit and the prefetches
    /// of each iteration (a capacity hint).
    pub fn expected_fetches(&self, policy: Policy, sessions: usize, iterations: usize) -> usize {
        let per_iteration = match policy {
            Policy::None | Policy::Cache => 1,
            Policy::Oracle => 2,
            Policy::Random => 1 + self.rules.width,
            Policy::Speccache => 1 + self.rules.width * self.rules.drafts,
        };
        sessions.saturating_add(iterations.saturating_mul(per_iteration))
    }

    /// Makes room for `n` fetches at once (a sweep builds a new model per cell: growing
    /// the table fetch by fetch was 3 % of its instructions).
    pub fn reserve_fetches(&mut self, n: usize) {
        self.fetches.reserve(n);
    }

    /// Tells the next runs (from the next [`SpecCache::reset`]) whether the driver runs their
    /// sessions alone, one after another, calling [`SpecCache::next_session_alone`] before each
    /// (the sessions cannot interact: no shared cache, unlimited fetch slots, no rate
    /// limit). Sessions with caches of their own then take turns with one cache, emptied
    /// between two sessions, instead of one each: the same entries in the same slots, as
    /// a fresh cache would have, and one cache's memory for the run, however many sessions.
    pub fn run_alone(&mut self, alone: bool) {
        self.alone = alone;
    }

    /// Ends the previous session of a run whose sessions run alone ([`SpecCache::run_alone`]),
    /// if any, before the next one starts: forgets the fetches asked for so far, so that the
    /// next session's fetch ids start again from 0 and its fetch table stays as small as one
    /// session's, and counts the unused prefetches in the cache the sessions take turns with
    /// as wasted (as [`SpecCache::finish`] does for the last session's) before emptying it.
    /// Nothing then refers to an ended session's fetches or cache entries.
    pub fn next_session_alone(&mut self) {
        debug_assert!(self.alone, "only for runs whose sessions run alone");
        debug_assert!(
            !self.pool.has_queued(),
            "sessions that run alone queue nothing"
        );
        self.fetches.clear();
        self.metrics.prefetch_wasted += self.unused_prefetches();
        self.caches[..self.ncaches]
            .iter_mut()
            .for_each(Cache::clear);
    }

    /// Reacts to one event.
    #[inline]
    pub fn handle<C: Context, W: World<C>>(&mut self, ev: Event, cx: &mut C, w: &mut W) {
        match ev {
            Event::Arrive(s) => self.arrive(s, cx, w),
            Event::Decided(s) => self.decide(s, cx, w),
            Event::Drafted(s, d) => self.draft_answer(s, d, cx, w),
            Event::Fetched(f) => self.fetch_done(f, cx, w),
            Event::Observed(s) => self.observed(s, cx, w),
            Event::StagesDone(s) => self.stages_done(s, cx, w),
            Event::Token => {
                self.token_timer = false;
                self.start_waiting(cx, w);
            }
        }
    }

    /// The completions of deferred fetches that were never scheduled (each is an event of the
    /// run all the same) and the latest time a deferred fetch completed.
    pub fn deferred_completions(&self) -> (u64, SimTime) {
        self.deferred
    }

    /// Ends the run: prefetches still unused in the caches count as wasted.
    pub fn finish(&mut self) {
        self.metrics.prefetch_wasted += self.unused_prefetches();
    }

    /// Caches allocated (in use by this run or kept for the next).
    pub(crate) fn caches_allocated(&self) -> usize {
        self.caches.len()
    }

    /// Prefetched entries never used, in the caches of this run.
    fn unused_prefetches(&self) -> u64 {
        let mut unused = 0;
        for c in &self.caches[..self.ncaches] {
            c.for_each(|_, e| unused += u64::from(e.prefetched_unused));
        }
        unused
    }

    fn cache_of(&self, s: SessionId) -> u32 {
        if !self.policy.has_cache() {
            NIL
        } else if self.rules.shared_cache || self.alone {
            0
        } else {
            s
        }
    }

    fn arrive<C: Context, W: World<C>>(&mut self, s: SessionId, cx: &mut C, w: &mut W) {
        let now = cx.now();
        let root = w.root(s);
        let sess = &mut self.sessions[s as usize];
        sess.arrival = now;
        sess.t0 = now;
        sess.decided = now;
        self.visit(s, root, 0, cx, w);
    }

    fn begin_iteration<C: Context, W: World<C>>(&mut self, s: SessionId, cx: &mut C, w: &mut W) {
        let now = cx.now();
        let i = self.sessions[s as usize].iter;
        if !w.has_iteration(s, i) {
            let sess = &self.sessions[s as usize];
            self.metrics.session_done(now.since(sess.arrival));
            w.session_done(cx, s);
            return;
        }
        let sess = &mut self.sessions[s as usize];
        sess.t0 = now;
        sess.stages = 0;
        sess.other = 0;
        sess.in_other = false;
        sess.web = 0;
        sess.exposed = 0;
        sess.queue = 0;
        let (key, u) = (sess.key, sess.page);
        w.start_target(cx, s, i);
        match self.policy {
            Policy::None | Policy::Cache => {}
            Policy::Random => {
                let mut picks = std::mem::take(&mut self.scratch);
                picks.clear();
                let mut rng = key.rng(u64::from(i), 0, Purpose::RandomPick);
                pick_distinct(w.links(s, u), self.rules.width, None, &mut rng, &mut picks);
                for &p in &picks {
                    self.prefetch(s, p, cx, w);
                }
                self.scratch = picks;
            }
            Policy::Oracle => {
                if let Some(v) = w.next_page(s, i) {
                    self.prefetch(s, v, cx, w);
                }
            }
            Policy::Speccache => {
                for d in 0..self.rules.drafts {
                    let (ev, tokens) = w.start_draft(cx, s, i, d as u8, u);
                    self.metrics.draft_calls += 1;
                    self.metrics.draft_tokens += tokens;
                    self.sessions[s as usize].drafts[d] = Some(ev);
                }
            }
        }
    }

    fn draft_answer<C: Context, W: World<C>>(
        &mut self,
        s: SessionId,
        d: u8,
        cx: &mut C,
        w: &mut W,
    ) {
        let sess = &mut self.sessions[s as usize];
        sess.drafts[d as usize] = None;
        let (i, u) = (sess.iter, sess.page);
        let mut picks = std::mem::take(&mut self.scratch);
        w.draft_list(s, i, d, u, self.rules.width, &mut picks);
        match self.rules.list_order {
            ListOrder::WorstFirst => self.prefetch_ranked(s, &picks, cx, w),
            ListOrder::BestFirst => {
                for &p in &picks {
                    self.prefetch(s, p, cx, w);
                }
            }
        }
        self.scratch = picks;
    }

    /// A ranked list (best first) enters the cache worst rank first: a cached page is touched,
    /// a new one gets an entry; then the entries still waiting are fetched best rank first. A
    /// page the list itself evicted before its fetch began is never fetched.
    fn prefetch_ranked<C: Context, W: World<C>>(
        &mut self,
        s: SessionId,
        picks: &[PageId],
        cx: &mut C,
        w: &mut W,
    ) {
        let c = self.cache_of(s);
        for &p in picks.iter().rev() {
            if self.caches[c as usize].get(p).is_some() {
                continue; // a use: refreshes its LRU position
            }
            let reserved = Entry {
                fetch: NIL,
                ready: false,
                web: 0,
                prefetched_unused: false,
            };
            if let Some((_, old)) = self.caches[c as usize].insert_absent(p, reserved) {
                self.dropped(old);
            }
        }
        let step = self.sessions[s as usize].iter + 1;
        for &p in picks {
            if self.caches[c as usize]
                .peek(p)
                .is_none_or(|e| e.fetch != NIL)
            {
                continue; // cached before, evicted by the list itself, or a repeat
            }
            self.metrics.prefetch_issued += 1;
            let f = self.create_fetch(s, p, step, false, c, cx, w);
            if let Some(e) = self.caches[c as usize].peek_mut(p) {
                e.fetch = f;
                e.prefetched_unused = true;
            }
            self.admit(f, false, cx, w);
        }
    }

    fn decide<C: Context, W: World<C>>(&mut self, s: SessionId, cx: &mut C, w: &mut W) {
        let now = cx.now();
        let sess = &mut self.sessions[s as usize];
        sess.decided = now;
        sess.think = now.since(sess.t0);
        for d in 0..MAX_DRAFTS {
            if let Some(k) = sess.drafts[d].take() {
                // The draft answered too late: its list is for a page the target has left.
                if cx.cancel(k) {
                    self.metrics.drafts_late += 1;
                }
            }
        }
        let i = sess.iter;
        match w.decision(s, i) {
            Decision::Visit { page, .. } => {
                self.sessions[s as usize].visiting = Some(page);
                self.visit(s, page, i + 1, cx, w);
                self.drop_stale(s);
            }
            Decision::Answer => {
                self.drop_stale(s);
                let sess = &mut self.sessions[s as usize];
                sess.visiting = None;
                sess.outcome = Outcome::Answer;
                self.end_iteration(s, cx, w);
            }
            Decision::Abort => {
                self.drop_stale(s);
                w.session_done(cx, s);
            }
        }
    }

    #[inline]
    fn drop_stale(&mut self, s: SessionId) {
        if self.rules.cancel_stale && self.pool.has_queued() {
            self.cancel_stale(s);
        }
    }

    /// The target (or the session start) needs page `v`: hit, partial hit or miss.
    fn visit<C: Context, W: World<C>>(
        &mut self,
        s: SessionId,
        v: PageId,
        step: u32,
        cx: &mut C,
        w: &mut W,
    ) {
        self.sessions[s as usize].page = v;
        let c = self.cache_of(s);
        let lookup = self.rules.lookup_cost;
        let entry = if c == NIL {
            None
        } else {
            self.caches[c as usize].get(v).map(|e| {
                let was_unused = e.prefetched_unused;
                e.prefetched_unused = false;
                (*e, was_unused)
            })
        };
        let entry = match entry {
            Some((e, unused)) if !e.ready && e.fetch != NIL => {
                Some((self.settle(c, v, e, cx), unused))
            }
            other => other,
        };
        if let Some((_, true)) = entry {
            self.metrics.prefetch_used += 1;
        }
        let sess = &mut self.sessions[s as usize];
        match entry {
            Some((e, _)) if e.ready => {
                sess.outcome = Outcome::Hit;
                sess.web = e.web + lookup;
                sess.exposed = lookup;
                sess.fetch = e.fetch;
                if lookup == 0 {
                    self.observed(s, cx, w);
                } else {
                    cx.schedule_in(lookup, Event::Observed(s));
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
                let f = self.new_fetch(s, v, step, true, c, cx, w);
                self.wait_on(s, f);
            }
        }
    }

    /// A lookup finds the entry `e` of `page` in flight. If its fetch started deferred, the
    /// completion's place decides: passed, the fetch completed before this event
    /// (as its [`Event::Fetched`] would have been delivered first) and the entry is ready;
    /// not yet, its completion is scheduled in that place, for the session about to wait.
    fn settle<C: Context>(&mut self, c: u32, page: PageId, mut e: Entry, cx: &mut C) -> Entry {
        let fetch = &mut self.fetches[e.fetch as usize];
        let Some(d) = fetch.deferred.take() else {
            return e;
        };
        if cx.passed(d) {
            fetch.state = FetchState::Done;
            e.ready = true;
            e.web = d.at().since(fetch.requested);
            if let Some(x) = self.caches[c as usize].peek_mut(page) {
                x.ready = true;
                x.web = e.web;
            }
        } else {
            cx.schedule_deferred(d, Event::Fetched(e.fetch));
            self.deferred.0 -= 1;
        }
        e
    }

    fn wait_on(&mut self, s: SessionId, f: FetchId) {
        let fetch = &mut self.fetches[f as usize];
        self.sessions[s as usize].next_waiter = fetch.waiters;
        fetch.waiters = s;
    }

    fn prefetch<C: Context, W: World<C>>(
        &mut self,
        s: SessionId,
        p: PageId,
        cx: &mut C,
        w: &mut W,
    ) {
        let c = self.cache_of(s);
        // A page already cached (or in flight) is not fetched again, but the prediction counts
        // as a use: without it the list's other pages can evict it (its own best guess) and a
        // larger LRU cache can hit less than a smaller one.
        if self.caches[c as usize].get(p).is_some() {
            return;
        }
        let step = self.sessions[s as usize].iter + 1;
        self.metrics.prefetch_issued += 1;
        self.new_fetch(s, p, step, false, c, cx, w);
    }

    /// A fetch of `page` for session `s` enters the cache (if there is one) and asks for a
    /// slot. Inlined into its two callers (a miss and a prefetch): as a call it cost about
    /// 2 % of the default scenario's instructions in register saves alone.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn new_fetch<C: Context, W: World<C>>(
        &mut self,
        s: SessionId,
        page: PageId,
        step: u32,
        demand: bool,
        c: u32,
        cx: &mut C,
        w: &mut W,
    ) -> FetchId {
        let f = self.create_fetch(s, page, step, demand, c, cx, w);
        if c != NIL {
            let entry = Entry {
                fetch: f,
                ready: false,
                web: 0,
                prefetched_unused: !demand,
            };
            // Absent: `visit` and `prefetch` looked it up just before.
            if let Some((_, old)) = self.caches[c as usize].insert_absent(page, entry) {
                self.dropped(old);
            }
        }
        self.admit(f, demand, cx, w);
        f
    }

    /// Records a fetch asked for now (not yet in the cache, not yet queued).
    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn create_fetch<C: Context, W: World<C>>(
        &mut self,
        s: SessionId,
        page: PageId,
        step: u32,
        demand: bool,
        c: u32,
        cx: &mut C,
        w: &mut W,
    ) -> FetchId {
        let now = cx.now();
        let f = self.fetches.len() as FetchId;
        w.request_fetch(f, s, page, step, demand);
        self.fetches.push(Fetch {
            page,
            session: s,
            demand,
            cache: c,
            in_cache: c != NIL,
            state: FetchState::Queued,
            requested: now,
            started: now,
            waiters: NIL,
            deferred: None,
        });
        if demand {
            self.metrics.demand_fetches += 1;
        }
        f
    }

    /// Asks the pool for a slot (and a token under a rate limit); starts the fetch if it
    /// may start now.
    #[inline]
    fn admit<C: Context, W: World<C>>(&mut self, f: FetchId, demand: bool, cx: &mut C, w: &mut W) {
        if self.pool.request(f, demand, cx.now()) {
            self.start(f, cx, w);
        } else if self.rules.rate_limit.is_some() {
            self.arm_token(cx);
        }
    }

    /// Under a rate limit: starts the queued fetches that a free slot and a token allow now,
    /// in queue order, then sets the timer for the next token if one still waits.
    fn start_waiting<C: Context, W: World<C>>(&mut self, cx: &mut C, w: &mut W) {
        let now = cx.now();
        loop {
            let fetches = &self.fetches;
            let next = self
                .pool
                .start_next(now, |id| fetches[id as usize].state == FetchState::Queued);
            match next {
                Some(f) => self.start(f, cx, w),
                None => break,
            }
        }
        self.arm_token(cx);
    }

    /// Schedules [`Event::Token`] at the next token when a queued fetch waits for one only.
    fn arm_token<C: Context>(&mut self, cx: &mut C) {
        if !self.token_timer && self.pool.waits_for_token() {
            let delay = self.pool.next_token().since(cx.now());
            cx.schedule_in(delay, Event::Token);
            self.token_timer = true;
        }
    }

    /// Cancels session `s`'s prefetches still waiting for a slot: they were for the page its
    /// target has just left. A queued fetch someone waits on (promoted) is kept.
    fn cancel_stale(&mut self, s: SessionId) {
        let (fetches, caches, metrics) = (&mut self.fetches, &mut self.caches, &mut self.metrics);
        for f in self.pool.queued() {
            let fetch = &mut fetches[f as usize];
            if fetch.state != FetchState::Queued
                || fetch.session != s
                || fetch.demand
                || fetch.waiters != NIL
            {
                continue;
            }
            fetch.state = FetchState::Cancelled;
            // An entry evicted while queued was counted as wasted already.
            if fetch.in_cache {
                caches[fetch.cache as usize].remove(fetch.page);
                fetch.in_cache = false;
                metrics.prefetch_cancelled += 1;
            }
        }
    }

    /// An entry left the cache (evicted, or never stored at capacity 0).
    fn dropped(&mut self, e: Entry) {
        if e.prefetched_unused {
            self.metrics.prefetch_wasted += 1;
        }
        if !e.ready && e.fetch != NIL {
            self.fetches[e.fetch as usize].in_cache = false;
        }
    }

    #[inline]
    fn start<C: Context, W: World<C>>(&mut self, f: FetchId, cx: &mut C, w: &mut W) {
        let fetch = &mut self.fetches[f as usize];
        fetch.state = FetchState::Running;
        fetch.started = cx.now();
        // A prefetch nobody waits on, whose completion frees no slot: its completion need
        // not be an event unless someone comes to wait (`settle`).
        if !(self.defer && !fetch.demand && fetch.waiters == NIL) {
            w.start_fetch(cx, f);
            return;
        }
        if let Some(d) = w.start_fetch_deferred(cx, f) {
            self.fetches[f as usize].deferred = Some(d);
            self.deferred.0 += 1;
            self.deferred.1 = self.deferred.1.max(d.at());
        }
    }

    fn fetch_done<C: Context, W: World<C>>(&mut self, f: FetchId, cx: &mut C, w: &mut W) {
        let now = cx.now();
        let fetch = &mut self.fetches[f as usize];
        fetch.state = FetchState::Done;
        let fetch = *fetch;
        let web = now.since(fetch.requested);
        if fetch.demand {
            self.metrics.demand_work = self
                .metrics
                .demand_work
                .saturating_add(now.since(fetch.started));
        }
        if fetch.in_cache {
            let ok = w.fetch_ok(f);
            let cache = &mut self.caches[fetch.cache as usize];
            let mut failed = false;
            if let Some(e) = cache.peek_mut(fetch.page).filter(|e| e.fetch == f) {
                if ok {
                    e.ready = true;
                    e.web = web;
                } else {
                    failed = true;
                }
            }
            if failed {
                // A failed fetch (live) is not kept: the next visit fetches again.
                cache.remove(fetch.page);
            }
        }
        let fetches = &self.fetches;
        if let Some(next) = self
            .pool
            .release(now, |id| fetches[id as usize].state == FetchState::Queued)
        {
            self.start(next, cx, w);
        }
        if self.rules.rate_limit.is_some() {
            self.arm_token(cx);
        }
        let mut waiter = fetch.waiters;
        while waiter != NIL {
            let sess = &mut self.sessions[waiter as usize];
            let next = sess.next_waiter;
            sess.next_waiter = NIL;
            sess.web = web;
            sess.exposed = now.since(sess.decided);
            sess.queue = fetch.started.since(fetch.requested.max(sess.decided));
            sess.fetch = f;
            self.observed(waiter, cx, w);
            waiter = next;
        }
    }

    fn observed<C: Context, W: World<C>>(&mut self, s: SessionId, cx: &mut C, w: &mut W) {
        let now = cx.now();
        let sess = &self.sessions[s as usize];
        w.observed(s, sess.page, sess.fetch);
        let sess = &mut self.sessions[s as usize];
        if sess.at_root {
            sess.at_root = false;
            self.metrics.root_web = self.metrics.root_web.saturating_add(sess.exposed);
            self.begin_iteration(s, cx, w);
            return;
        }
        sess.observed_at = now;
        let i = sess.iter;
        if !w.start_stages(cx, s, i) {
            self.sessions[s as usize].stages = 0;
            self.after_stages(s, cx, w);
        }
    }

    fn stages_done<C: Context, W: World<C>>(&mut self, s: SessionId, cx: &mut C, w: &mut W) {
        let now = cx.now();
        let sess = &mut self.sessions[s as usize];
        if sess.in_other {
            sess.other = now.since(sess.observed_at) - sess.stages;
            self.end_iteration(s, cx, w);
        } else {
            sess.stages = now.since(sess.observed_at);
            self.after_stages(s, cx, w);
        }
    }

    /// The stages are over: the other work, if any, then the end of the iteration.
    fn after_stages<C: Context, W: World<C>>(&mut self, s: SessionId, cx: &mut C, w: &mut W) {
        let i = self.sessions[s as usize].iter;
        self.sessions[s as usize].in_other = true;
        if !w.start_other(cx, s, i) {
            self.end_iteration(s, cx, w);
        }
    }

    fn end_iteration<C: Context, W: World<C>>(&mut self, s: SessionId, cx: &mut C, w: &mut W) {
        let now = cx.now();
        let sess = &mut self.sessions[s as usize];
        let rec = IterationRecord {
            session: s,
            iteration: sess.iter,
            page: sess.visiting,
            outcome: sess.outcome,
            start: sess.t0,
            latency: now.since(sess.t0),
            llm: sess.think + sess.stages,
            stages: sess.stages,
            other: sess.other,
            web: sess.web,
            exposed: sess.exposed,
            queue: sess.queue,
        };
        sess.iter += 1;
        self.metrics.iteration(&rec);
        w.iteration_done(cx, &rec);
        if let Some(r) = &mut self.records {
            r.push(rec);
        }
        self.begin_iteration(s, cx, w);
    }
}

#[cfg(test)]
mod tests {
    //! Handler-level tests: the rules against a fake context and a scripted world, with every
    //! completion delivered by hand.

    use super::*;
    use crate::sim::engine::Engine;
    use crate::sim::trajectory::Action;

    /// A context whose clock the test sets; it records what the rules schedule and cancel.
    #[derive(Default)]
    struct FakeCx {
        now: SimTime,
        keys: Engine<()>,
        scheduled: Vec<(SimTime, Event)>,
        cancelled: Vec<EventKey>,
    }

    impl Context for FakeCx {
        fn now(&self) -> SimTime {
            self.now
        }
        fn schedule_in(&mut self, delay: Nanos, ev: Event) -> EventKey {
            self.scheduled.push((self.now + delay, ev));
            self.keys.reserve()
        }
        fn cancel(&mut self, key: EventKey) -> bool {
            self.cancelled.push(key);
            self.keys.cancel(key)
        }
    }

    /// Page 0 links to 1..=4; the target clicks `script[i]` in iteration `i`, then answers;
    /// the draft lists `lists[i]`.
    struct Script {
        links: Vec<PageId>,
        script: Vec<PageId>,
        lists: Vec<Vec<PageId>>,
        started: Vec<FetchId>,
        /// When each fetch of `started` started.
        at: Vec<SimTime>,
        drafts: Vec<EventKey>,
    }

    impl Script {
        fn new(script: &[PageId], lists: &[&[PageId]]) -> Self {
            Script {
                links: vec![1, 2, 3, 4],
                script: script.to_vec(),
                lists: lists.iter().map(|l| l.to_vec()).collect(),
                started: Vec::new(),
                at: Vec::new(),
                drafts: Vec::new(),
            }
        }
    }

    impl World<FakeCx> for Script {
        fn root(&mut self, _s: SessionId) -> PageId {
            0
        }
        fn has_iteration(&mut self, _s: SessionId, i: u32) -> bool {
            i as usize <= self.script.len()
        }
        fn links(&self, _s: SessionId, _p: PageId) -> &[PageId] {
            &self.links
        }
        fn next_page(&self, _s: SessionId, i: u32) -> Option<PageId> {
            self.script.get(i as usize).copied()
        }
        fn start_target(&mut self, _cx: &mut FakeCx, _s: SessionId, _i: u32) {}
        fn decision(&mut self, _s: SessionId, i: u32) -> Decision {
            match self.script.get(i as usize) {
                Some(&page) => Decision::Visit {
                    page,
                    action: Action::Click,
                },
                None => Decision::Answer,
            }
        }
        fn start_draft(
            &mut self,
            cx: &mut FakeCx,
            s: SessionId,
            _i: u32,
            d: u8,
            _p: PageId,
        ) -> (EventKey, u64) {
            let k = cx.schedule_in(1, Event::Drafted(s, d));
            self.drafts.push(k);
            (k, 7)
        }
        fn draft_list(
            &mut self,
            _s: SessionId,
            i: u32,
            _d: u8,
            _p: PageId,
            width: usize,
            out: &mut Vec<PageId>,
        ) {
            out.clear();
            out.extend(self.lists[i as usize].iter().take(width));
        }
        fn request_fetch(&mut self, _f: FetchId, _s: SessionId, _p: PageId, _st: u32, _d: bool) {}
        fn start_fetch(&mut self, cx: &mut FakeCx, f: FetchId) {
            self.started.push(f);
            self.at.push(cx.now);
        }
        fn start_stages(&mut self, _cx: &mut FakeCx, _s: SessionId, _i: u32) -> bool {
            false
        }
    }

    fn rules(width: usize, capacity: usize, slots: Option<u32>) -> Rules {
        Rules {
            width,
            cache_capacity: capacity,
            eviction: EvictionKind::Lru,
            shared_cache: false,
            fetch_slots: slots,
            rate_limit: None,
            demand_priority: true,
            cancel_stale: true,
            list_order: ListOrder::WorstFirst,
            lookup_cost: 0,
            drafts: 1,
        }
    }

    /// One session of `policy` that has fetched its start page (fetch 0) at time 10.
    fn started(r: Rules, policy: Policy, w: &mut Script) -> (SpecCache, FakeCx) {
        let mut m = SpecCache::new(r);
        m.record_iterations(true);
        m.reset(policy, StreamKey::root(1), 1, 4);
        let mut cx = FakeCx::default();
        m.handle(Event::Arrive(0), &mut cx, w);
        assert_eq!(w.started, vec![0], "the start page is a demand fetch");
        cx.now = SimTime(10);
        m.handle(Event::Fetched(0), &mut cx, w);
        assert_eq!(m.metrics().root_web, 10);
        (m, cx)
    }

    #[test]
    fn a_draft_answering_after_the_target_is_cancelled_and_the_visit_misses() {
        let mut w = Script::new(&[2], &[&[2]]);
        let (mut m, mut cx) = started(rules(1, 10, None), Policy::Speccache, &mut w);
        assert_eq!(w.drafts.len(), 1, "the draft starts with the target");
        cx.now = SimTime(50);
        m.handle(Event::Decided(0), &mut cx, &mut w);
        assert_eq!(cx.cancelled, w.drafts, "its answer is cancelled");
        assert_eq!(m.metrics().drafts_late, 1);
        assert_eq!(w.started, vec![0, 1], "the target's page is a demand fetch");
        cx.now = SimTime(80);
        m.handle(Event::Fetched(1), &mut cx, &mut w);
        let r = m.records()[0];
        assert_eq!(r.outcome, Outcome::Miss);
        assert_eq!((r.latency, r.exposed, r.llm), (70, 30, 40));
        // The answer iteration has begun with a second draft call; the late one is paid too.
        assert_eq!(m.metrics().draft_calls, 2);
        assert_eq!(m.metrics().draft_tokens, 14);
    }

    #[test]
    fn a_prefetch_in_flight_is_a_partial_hit_and_a_complete_one_a_hit() {
        let mut w = Script::new(&[2, 3], &[&[2], &[3]]);
        let (mut m, mut cx) = started(rules(1, 10, None), Policy::Speccache, &mut w);
        cx.now = SimTime(12);
        m.handle(Event::Drafted(0, 0), &mut cx, &mut w);
        assert_eq!(w.started, vec![0, 1], "the listed page is prefetched");
        cx.now = SimTime(20);
        m.handle(Event::Decided(0), &mut cx, &mut w);
        cx.now = SimTime(25);
        m.handle(Event::Fetched(1), &mut cx, &mut w);
        let r = m.records()[0];
        assert_eq!(r.outcome, Outcome::PartialHit);
        assert_eq!((r.web, r.exposed), (13, 5), "waits 5 of its 13");
        // Iteration 1: the draft lists 3, it lands before the target decides.
        cx.now = SimTime(26);
        m.handle(Event::Drafted(0, 0), &mut cx, &mut w);
        cx.now = SimTime(27);
        m.handle(Event::Fetched(2), &mut cx, &mut w);
        cx.now = SimTime(40);
        m.handle(Event::Decided(0), &mut cx, &mut w);
        let r = m.records()[1];
        assert_eq!((r.outcome, r.exposed, r.latency), (Outcome::Hit, 0, 15));
        assert_eq!(m.metrics().prefetch_used, 2);
    }

    #[test]
    fn predicting_a_cached_page_is_a_use_so_the_next_prefetch_evicts_another() {
        // Capacity 2: the root and page 1 are cached; the list [1, 3] touches 1 and fetches
        // 3, which evicts the root (least recently used), not 1.
        let mut w = Script::new(&[1], &[&[1]]);
        let (mut m, mut cx) = started(rules(2, 2, None), Policy::Speccache, &mut w);
        m.handle(Event::Drafted(0, 0), &mut cx, &mut w);
        cx.now = SimTime(11);
        m.handle(Event::Fetched(1), &mut cx, &mut w);
        m.handle(Event::Decided(0), &mut cx, &mut w);
        assert_eq!(m.records()[0].outcome, Outcome::Hit);
        w.lists.push(vec![1, 3]);
        m.handle(Event::Drafted(0, 0), &mut cx, &mut w);
        assert_eq!(w.started, vec![0, 1, 2], "only page 3 is fetched");
        let cache = &m.caches[0];
        assert!(cache.contains(1) && cache.contains(3) && !cache.contains(0));
        assert_eq!(
            m.metrics().prefetch_wasted,
            0,
            "the root was a demand fetch"
        );
    }

    #[test]
    fn with_one_slot_a_demand_for_a_queued_prefetch_promotes_it() {
        // Width 2, one slot: the list [1, 2] starts 1 and queues 2; the target wants 2, which
        // jumps ahead of nothing else but keeps its place as a partial hit.
        let mut w = Script::new(&[2], &[&[1, 2]]);
        let (mut m, mut cx) = started(rules(2, 10, Some(1)), Policy::Speccache, &mut w);
        m.handle(Event::Drafted(0, 0), &mut cx, &mut w);
        assert_eq!(w.started, vec![0, 1], "page 2 waits for the slot");
        cx.now = SimTime(15);
        m.handle(Event::Decided(0), &mut cx, &mut w);
        assert_eq!(w.started, vec![0, 1], "no second fetch of page 2");
        cx.now = SimTime(30);
        m.handle(Event::Fetched(1), &mut cx, &mut w);
        assert_eq!(w.started, vec![0, 1, 2], "the slot passes to page 2");
        cx.now = SimTime(36);
        m.handle(Event::Fetched(2), &mut cx, &mut w);
        let r = m.records()[0];
        assert_eq!(r.outcome, Outcome::PartialHit);
        assert_eq!(
            (r.exposed, r.queue),
            (21, 15),
            "queued from the decision to t=30"
        );
    }

    #[test]
    fn queued_prefetches_of_a_session_are_cancelled_when_its_target_decides() {
        // One slot: [1, 2, 3] starts 1 and queues 2 and 3. The target wants 4: a demand fetch
        // that waits for the slot; 2 and 3 are stale and dropped, so the slot goes to 4.
        let mut w = Script::new(&[4], &[&[1, 2, 3]]);
        let mut r = rules(3, 10, Some(1));
        let (mut m, mut cx) = started(r, Policy::Speccache, &mut w);
        m.handle(Event::Drafted(0, 0), &mut cx, &mut w);
        assert_eq!(w.started, vec![0, 1]);
        cx.now = SimTime(20);
        m.handle(Event::Decided(0), &mut cx, &mut w);
        assert_eq!(m.metrics().prefetch_cancelled, 2);
        assert!(!m.caches[0].contains(2) && !m.caches[0].contains(3));
        cx.now = SimTime(25);
        m.handle(Event::Fetched(1), &mut cx, &mut w);
        assert_eq!(
            w.started,
            vec![0, 1, 4],
            "the slot passes to the demand fetch (id 4)"
        );
        let mt = m.metrics();
        assert_eq!(
            mt.prefetch_issued,
            mt.prefetch_used + mt.prefetch_wasted + mt.prefetch_cancelled + 1,
            "page 1 is still in the cache, unused"
        );
        // With the option off, the stale prefetches keep their place in the queue.
        r.cancel_stale = false;
        let mut w = Script::new(&[4], &[&[1, 2, 3]]);
        let (mut m, mut cx) = started(r, Policy::Speccache, &mut w);
        m.handle(Event::Drafted(0, 0), &mut cx, &mut w);
        cx.now = SimTime(20);
        m.handle(Event::Decided(0), &mut cx, &mut w);
        cx.now = SimTime(25);
        m.handle(Event::Fetched(1), &mut cx, &mut w);
        assert_eq!(m.metrics().prefetch_cancelled, 0);
        assert_eq!(w.started, vec![0, 1, 4], "demand priority still wins");
    }

    #[test]
    fn a_list_longer_than_the_cache_keeps_its_best_guesses() {
        // Capacity 2, list [1, 2, 3] (best first): worst first, 3 then 2 then 1 enter, so 3 is
        // evicted before its fetch starts and is never fetched; best first, 1 is evicted.
        let mut w = Script::new(&[1], &[&[1, 2, 3]]);
        let (mut m, mut cx) = started(rules(3, 2, None), Policy::Speccache, &mut w);
        m.handle(Event::Drafted(0, 0), &mut cx, &mut w);
        assert!(m.caches[0].contains(1) && m.caches[0].contains(2) && !m.caches[0].contains(3));
        assert_eq!(w.started, vec![0, 1, 2], "fetched best first; 3 never");
        assert_eq!(m.metrics().prefetch_issued, 2);
        let mut r = rules(3, 2, None);
        r.list_order = ListOrder::BestFirst;
        let mut w = Script::new(&[1], &[&[1, 2, 3]]);
        let (mut m, mut cx) = started(r, Policy::Speccache, &mut w);
        m.handle(Event::Drafted(0, 0), &mut cx, &mut w);
        assert!(
            !m.caches[0].contains(1),
            "the best guess was evicted by the worst"
        );
        assert_eq!(m.metrics().prefetch_wasted, 1);
    }

    /// Rules with a rate limit of one fetch start per 100 ns (bucket of `burst`).
    fn limited(width: usize, burst: u32, cancel_stale: bool) -> Rules {
        let mut r = rules(width, 10, None);
        r.rate_limit = Some(RateLimit {
            interval: 100,
            burst,
        });
        r.cancel_stale = cancel_stale;
        r
    }

    /// Delivers the pending [`Event::Token`] at its time.
    fn token(m: &mut SpecCache, cx: &mut FakeCx, w: &mut Script) {
        let (at, ev) = cx
            .scheduled
            .iter()
            .rev()
            .find(|(_, e)| *e == Event::Token)
            .copied()
            .expect("a token timer is pending");
        cx.now = at;
        m.handle(ev, cx, w);
    }

    #[test]
    fn a_demand_fetch_waiting_for_a_token_exposes_the_wait() {
        // The start page took the only token at 0; the next is at 100. The target decides
        // at 50: its demand fetch waits 50 for the token, then takes 30.
        let mut w = Script::new(&[2], &[&[2]]);
        let (mut m, mut cx) = started(limited(1, 1, true), Policy::None, &mut w);
        cx.now = SimTime(50);
        m.handle(Event::Decided(0), &mut cx, &mut w);
        assert_eq!(w.started, vec![0], "no token before 100");
        token(&mut m, &mut cx, &mut w);
        assert_eq!(
            (w.started.clone(), w.at.clone()),
            (vec![0, 1], vec![SimTime(0), SimTime(100)])
        );
        cx.now = SimTime(130);
        m.handle(Event::Fetched(1), &mut cx, &mut w);
        let r = m.records()[0];
        assert_eq!(r.outcome, Outcome::Miss);
        assert_eq!(
            (r.exposed, r.queue, r.web, r.latency),
            (80, 50, 80, 120),
            "exposed = token wait 50 + fetch 30; latency = think 40 + exposed 80"
        );
    }

    #[test]
    fn prefetches_waiting_for_a_token_are_stale_when_the_target_decides() {
        // The list [1, 2, 3] arrives at 12 with no token until 100: all three wait. The
        // target wants 4 at 20: the three are cancelled, the demand fetch gets the token.
        let mut w = Script::new(&[4], &[&[1, 2, 3]]);
        let (mut m, mut cx) = started(limited(3, 1, true), Policy::Speccache, &mut w);
        cx.now = SimTime(12);
        m.handle(Event::Drafted(0, 0), &mut cx, &mut w);
        assert_eq!(w.started, vec![0]);
        cx.now = SimTime(20);
        m.handle(Event::Decided(0), &mut cx, &mut w);
        assert_eq!(m.metrics().prefetch_cancelled, 3);
        token(&mut m, &mut cx, &mut w);
        assert_eq!(
            w.started,
            vec![0, 4],
            "the demand fetch (id 4) starts at 100"
        );
        assert_eq!(w.at[1], SimTime(100));
        // Kept (cancel_stale off), they wait behind the demand fetch, one per token.
        let mut w = Script::new(&[4], &[&[1, 2, 3]]);
        let (mut m, mut cx) = started(limited(3, 1, false), Policy::Speccache, &mut w);
        cx.now = SimTime(12);
        m.handle(Event::Drafted(0, 0), &mut cx, &mut w);
        cx.now = SimTime(20);
        m.handle(Event::Decided(0), &mut cx, &mut w);
        for _ in 0..4 {
            token(&mut m, &mut cx, &mut w);
        }
        assert_eq!(
            w.started,
            vec![0, 4, 1, 2, 3],
            "demand first, then the list best first"
        );
        assert_eq!(
            w.at,
            vec![
                SimTime(0),
                SimTime(100),
                SimTime(200),
                SimTime(300),
                SimTime(400)
            ]
        );
    }

    #[test]
    fn a_bucket_of_three_starts_three_at_once_then_one_per_interval() {
        // Burst 3: the start page and the first two of [1, 2, 3, 4] start at once (the bucket
        // was full); 3 waits until 100, 4 until 200.
        let mut w = Script::new(&[1], &[&[1, 2, 3, 4]]);
        w.links = vec![1, 2, 3, 4];
        let (mut m, mut cx) = started(limited(4, 3, true), Policy::Speccache, &mut w);
        m.handle(Event::Drafted(0, 0), &mut cx, &mut w);
        assert_eq!(w.started, vec![0, 1, 2]);
        token(&mut m, &mut cx, &mut w);
        token(&mut m, &mut cx, &mut w);
        assert_eq!(w.started, vec![0, 1, 2, 3, 4]);
        assert_eq!(
            w.at,
            vec![
                SimTime(0),
                SimTime(10),
                SimTime(10),
                SimTime(100),
                SimTime(200)
            ]
        );
    }
}
