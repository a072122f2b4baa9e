//! The simulated world: every call completes after a replayed or drawn delay, on the
//! virtual-clock engine.
//!
//! [`SampledWorld`] is the [`World`] of a simulation. The target's decisions come from the
//! sessions' trajectories (walked before the run, or replayed from a trace: speculation never
//! changes what the target decides). Each latency is replayed where the trace recorded it and
//! drawn otherwise, in one place (`SampledWorld::replayed_or_drawn`); draws come from
//! [`StreamKey`] streams named by `(session, step, item, purpose)`, never from a shared
//! generator, so every policy sees the same target latencies, draft answers and fetch times
//! (common random numbers).
//!
//! [`Sim`] runs one replication of one policy: the engine, the rules ([`SpecCache`]) and this
//! world. It is reset and reused across runs, so once warm its event loop does not allocate.
//!
//! Two driver-side economies, invisible in the results:
//! - [`Shared`] draws once per replication the samples every policy asks for (the target's
//!   think times, the extra stages, the fetch time of each page a session visits), from the
//!   very streams the world would draw them from on demand, so each policy reads the same
//!   numbers instead of drawing them again;
//! - when sessions cannot interact (no cache or one cache per session, unlimited fetch slots),
//!   [`Sim`] runs them one after another, each on its own small event queue: the same events
//!   in the same per-session order, a queue of a few entries instead of one of every session's,
//!   and one cache the sessions take turns with, emptied between two, instead of one each.

use std::borrow::Cow;

use crate::sim::engine::{Deferred, Engine, EventKey, SmallQueue};
use crate::sim::fetch::FetchId;
use crate::sim::llm::Call;
use crate::sim::metrics::{IterationRecord, RunMetrics};
use crate::sim::model::{Model, SpecCache};
use crate::sim::policy::Policy;
use crate::sim::rng::{Purpose, PurposeKey, StepKey, StreamKey};
use crate::sim::site::PageId;
use crate::sim::time::{Nanos, SimTime};
use crate::sim::trajectory::{Recorded, Trajectory};
use crate::sim::world::{Context, Decision, Event, SessionId, World};

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

/// What the sampled world counted: values replayed or drawn, and the fetch work asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Values replayed from a trace.
    pub replayed: u64,
    /// Values drawn from distributions.
    pub drawn: u64,
    /// Sum of the service times of every fetch that started, nanoseconds.
    pub fetch_work: u64,
    /// Bytes of every fetch requested.
    pub bytes: u64,
}

/// The world of a simulation: trajectories, recorded values and samplers.
#[derive(Debug)]
pub struct SampledWorld<'a> {
    model: &'a Model,
    work: Workload<'a>,
    shared: Option<&'a Shared>,
    /// Per session, its stream keys: the replication's table when there is one.
    keys: Cow<'a, [SessionKeys]>,
    /// Per session, the step of its latest fetch draw and that step's key: the prefetches
    /// of an iteration all draw at one step.
    fetch_steps: Vec<(u32, StepKey)>,
    /// Service time of each fetch, by fetch id, set when the fetch is requested.
    durations: Vec<Nanos>,
    /// Some trajectory carries recorded values (a trace); without any, nothing is looked
    /// up for replay.
    traced: bool,
    tally: Tally,
}

impl<'a> SampledWorld<'a> {
    /// The world of `work` under `model`; `durations` is a buffer to reuse.
    pub fn new(model: &'a Model, work: Workload<'a>, durations: Vec<Nanos>) -> Self {
        Self::with_shared(model, work, None, durations)
    }

    /// The world of `work` reading the samples `shared` drew for it (see [`Shared`]).
    pub fn with_shared(
        model: &'a Model,
        work: Workload<'a>,
        shared: Option<&'a Shared>,
        mut durations: Vec<Nanos>,
    ) -> Self {
        durations.clear();
        SampledWorld {
            model,
            keys: match shared {
                Some(sh) => Cow::Borrowed(&sh.keys),
                None => Cow::Owned(session_keys(work.key, work.trajectories.len()).collect()),
            },
            fetch_steps: Vec::new(),
            shared,
            traced: work.trajectories.iter().any(Trajectory::has_recorded),
            work,
            durations,
            tally: Tally::default(),
        }
        .with_fetch_keys()
    }

    fn with_fetch_keys(mut self) -> Self {
        self.fetch_steps = self.keys.iter().map(|k| (0, k.fetch.step(0))).collect();
        self
    }

    /// What was counted so far.
    pub fn tally(&self) -> Tally {
        self.tally
    }

    /// Forgets the durations of the fetches so far, with [`SpecCache::next_session_alone`].
    pub fn forget_fetches(&mut self) {
        self.durations.clear();
    }

    /// Gives the fetch-duration buffer back for reuse.
    pub fn into_buffer(self) -> Vec<Nanos> {
        self.durations
    }

    fn trajectory(&self, s: SessionId) -> &'a Trajectory {
        &self.work.trajectories[s as usize]
    }

    /// The page the target chooses in iteration `iteration` (`None` for the answer).
    fn page_chosen(&self, s: SessionId, iteration: u32) -> Option<PageId> {
        self.trajectory(s)
            .steps
            .get(iteration as usize)
            .map(|st| st.page)
    }

    /// The values a trace recorded for iteration `i` of session `s`.
    #[inline]
    fn recorded(&self, s: SessionId, i: u32) -> Option<&'a Recorded> {
        if !self.traced {
            return None;
        }
        let t = self.trajectory(s);
        match t.steps.get(i as usize) {
            Some(step) => step.recorded.as_deref(),
            None => t.answer_recorded.as_deref(),
        }
    }

    /// The one place where a value is replayed when the trace recorded it and drawn from
    /// `draw` otherwise.
    #[inline]
    fn replayed_or_drawn<T>(
        &mut self,
        recorded: Option<T>,
        draw: impl FnOnce(&mut Self) -> T,
    ) -> T {
        match recorded {
            Some(v) => {
                self.tally.replayed += 1;
                v
            }
            None => {
                self.tally.drawn += 1;
                draw(self)
            }
        }
    }

    /// The fetch time of `page` when session `s` fetches it for step `step`: the recorded time
    /// when the trace fetched that very page at that step, else drawn.
    pub fn fetch_latency(&mut self, s: SessionId, page: PageId, step: u32) -> Nanos {
        let traj = self.trajectory(s);
        let recorded = match step {
            _ if !self.traced => None,
            0 => traj.root_fetch.filter(|_| page == traj.root),
            _ => traj
                .steps
                .get(step as usize - 1)
                .filter(|st| st.page == page)
                .and_then(|st| st.recorded.as_ref())
                .and_then(|r| r.fetch),
        };
        self.replayed_or_drawn(recorded, |w| {
            if let Some(sh) = w.shared {
                if sh.visited(w.work.trajectories, s, step) == Some(page) {
                    return sh.visit_fetch[sh.at(s, step)];
                }
            }
            // The step's key is derived once for the prefetches of an iteration.
            let slot = &mut w.fetch_steps[s as usize];
            if slot.0 != step {
                *slot = (step, w.keys[s as usize].fetch.step(u64::from(step)));
            }
            draw_fetch_by(w.model, slot.1, page)
        })
    }

    /// The target's think time in iteration `iteration` of session `s`.
    pub fn target_latency(&mut self, s: SessionId, iteration: u32) -> Nanos {
        let recorded = self.recorded(s, iteration).and_then(|r| r.target);
        self.replayed_or_drawn(recorded.map(|(l, _)| l), |w| match w.shared {
            Some(sh) => sh.target[sh.at(s, iteration)],
            None => draw_target(w.model, w.keys[s as usize].root, iteration),
        })
    }

    /// Draft `d`'s call (latency and output tokens) in iteration `iteration` of session `s`.
    pub fn draft_call(&mut self, s: SessionId, iteration: u32, d: u8) -> Call {
        let recorded = self
            .recorded(s, iteration)
            .and_then(|r| r.drafts.get(usize::from(d)))
            .map(|r| Call {
                latency: r.latency,
                tokens: r.tokens,
            });
        let key = self.keys[s as usize].draft_latency;
        self.replayed_or_drawn(recorded, |w| {
            w.model.drafts[usize::from(d)]
                .llm
                .call(&mut key.rng(u64::from(iteration), u64::from(d)))
        })
    }
}

/// The stream keys of one session, derived once per replication: its own, and those of the
/// purposes the world draws from in its handlers (each saves a hashing step per draw).
#[derive(Clone, Copy, Debug)]
struct SessionKeys {
    root: StreamKey,
    fetch: PurposeKey,
    draft_latency: PurposeKey,
    draft_pick: PurposeKey,
}

impl SessionKeys {
    fn of(root: StreamKey) -> Self {
        SessionKeys {
            root,
            fetch: root.purpose(Purpose::Fetch),
            draft_latency: root.purpose(Purpose::DraftLatency),
            draft_pick: root.purpose(Purpose::DraftPick),
        }
    }
}

/// The stream keys of sessions `0..sessions` under replication key `key`.
fn session_keys(key: StreamKey, sessions: usize) -> impl Iterator<Item = SessionKeys> {
    (0..sessions as u64).map(move |s| SessionKeys::of(key.child(s)))
}

/// The fetch time of `page` fetched for step `step`, drawn from its stream.
#[inline]
fn draw_fetch(model: &Model, key: PurposeKey, page: PageId, step: u32) -> Nanos {
    draw_fetch_by(model, key.step(u64::from(step)), page)
}

/// [`draw_fetch`] with the step's key.
#[inline(always)]
fn draw_fetch_by(model: &Model, key: StepKey, page: PageId) -> Nanos {
    let dist = model.site.fetch_override(page).unwrap_or(&model.fetch);
    dist.sample_nanos(&mut key.rng(u64::from(page)))
}

/// The target's think time in iteration `iteration`, drawn from its stream.
#[inline]
fn draw_target(model: &Model, key: StreamKey, iteration: u32) -> Nanos {
    draw_target_by(model, key.purpose(Purpose::Target), iteration)
}

#[inline]
fn draw_target_by(model: &Model, key: PurposeKey, iteration: u32) -> Nanos {
    model
        .target
        .call(&mut key.rng(u64::from(iteration), 0))
        .latency
}

/// The extra stages' total time in iteration `iteration`, each drawn from its stream.
#[inline]
fn draw_stages(model: &Model, key: StreamKey, iteration: u32) -> Nanos {
    draw_stages_by(model, key.purpose(Purpose::Stage), iteration)
}

#[inline]
fn draw_stages_by(model: &Model, key: PurposeKey, iteration: u32) -> Nanos {
    let key = key.step(u64::from(iteration));
    model
        .stages
        .iter()
        .enumerate()
        .map(|(j, st)| st.call(&mut key.rng(j as u64)).latency)
        .fold(0, Nanos::saturating_add) // scenarios may hold latencies of years
}

/// The samples every policy of a replication reads, drawn once: per session and iteration
/// the target's think time and the extra stages' total, and per session and step the fetch
/// time of the page visited at that step. Each comes from the stream the world draws it from
/// on demand, so a world reading this table and one drawing as it goes see the same numbers
/// (`tests/integration/determinism.rs` checks it). Values a trace recorded are still replayed
/// by the world; their entries here go unused.
#[derive(Clone, Debug, Default)]
pub struct Shared {
    keys: Vec<SessionKeys>,
    /// Per session, where its entries start: `iterations + 1` of them (steps 0..=visits).
    first: Vec<u32>,
    target: Vec<Nanos>,
    stages: Vec<Nanos>,
    visit_fetch: Vec<Nanos>,
}

impl Shared {
    /// Draws the shared samples of `work` under `model`.
    pub fn draw(model: &Model, work: Workload<'_>) -> Self {
        let mut sh = Shared::default();
        sh.redraw(model, work);
        sh
    }

    /// Draws the shared samples of `work` into this table, reusing its allocations.
    pub fn redraw(&mut self, model: &Model, work: Workload<'_>) {
        let n = work.trajectories.len();
        self.keys.clear();
        self.keys.extend(session_keys(work.key, n));
        self.first.clear();
        self.target.clear();
        self.stages.clear();
        self.visit_fetch.clear();
        let steps: usize = work.trajectories.iter().map(|t| t.iterations() + 1).sum();
        self.first.reserve(n);
        self.target.reserve(steps);
        self.stages.reserve(steps);
        self.visit_fetch.reserve(steps);
        let mut at = 0u32;
        for (s, t) in work.trajectories.iter().enumerate() {
            self.first.push(at);
            let key = self.keys[s];
            let (target_key, stage_key, fetch_key) = (
                key.root.purpose(Purpose::Target),
                key.root.purpose(Purpose::Stage),
                key.fetch,
            );
            let iterations = t.iterations() as u32;
            at += iterations + 1;
            for i in 0..=iterations {
                // Entry `iterations` (one past the answer) only pads the step table.
                let live = i < iterations;
                self.target.push(if live {
                    draw_target_by(model, target_key, i)
                } else {
                    0
                });
                let visit = (i as usize) < t.steps.len();
                self.stages.push(if visit && !model.stages.is_empty() {
                    draw_stages_by(model, stage_key, i)
                } else {
                    0
                });
                let page = match i {
                    0 => Some(t.root),
                    _ => t.steps.get(i as usize - 1).map(|st| st.page),
                };
                self.visit_fetch
                    .push(page.map_or(0, |p| draw_fetch(model, fetch_key, p, i)));
            }
        }
    }

    #[inline]
    fn at(&self, s: SessionId, i: u32) -> usize {
        (self.first[s as usize] + i) as usize
    }

    /// The page session `s` visits at step `step` (0 = its start page).
    #[inline]
    fn visited(&self, trajectories: &[Trajectory], s: SessionId, step: u32) -> Option<PageId> {
        let t = &trajectories[s as usize];
        match step {
            0 => Some(t.root),
            _ => t.steps.get(step as usize - 1).map(|st| st.page),
        }
    }
}

/// The small queue of a session simulated alone is a context of the rules like the engine.
impl Context for SmallQueue<Event> {
    #[inline]
    fn now(&self) -> SimTime {
        SmallQueue::now(self)
    }

    #[inline]
    fn schedule_in(&mut self, delay: Nanos, ev: Event) -> EventKey {
        SmallQueue::schedule_in(self, delay, ev)
    }

    #[inline]
    fn cancel(&mut self, key: EventKey) -> bool {
        SmallQueue::cancel(self, key)
    }

    #[inline]
    fn defer_in(&mut self, delay: Nanos) -> Option<Deferred> {
        Some(SmallQueue::defer_in(self, delay))
    }

    #[inline]
    fn passed(&self, d: Deferred) -> bool {
        SmallQueue::passed(self, d)
    }

    #[inline]
    fn schedule_deferred(&mut self, d: Deferred, ev: Event) -> EventKey {
        SmallQueue::schedule_deferred(self, d, ev)
    }
}

impl<C: Context> World<C> for SampledWorld<'_> {
    fn root(&mut self, s: SessionId) -> PageId {
        self.trajectory(s).root
    }

    #[inline]
    fn has_iteration(&mut self, s: SessionId, iteration: u32) -> bool {
        (iteration as usize) < self.trajectory(s).iterations()
    }

    #[inline]
    fn links(&self, _s: SessionId, page: PageId) -> &[PageId] {
        self.model.site.links(page)
    }

    fn next_page(&self, s: SessionId, iteration: u32) -> Option<PageId> {
        self.page_chosen(s, iteration)
    }

    fn start_target(&mut self, cx: &mut C, s: SessionId, iteration: u32) {
        let latency = self.target_latency(s, iteration);
        cx.schedule_in(latency, Event::Decided(s));
    }

    fn decision(&mut self, s: SessionId, iteration: u32) -> Decision {
        match self.trajectory(s).steps.get(iteration as usize) {
            Some(step) => Decision::Visit {
                page: step.page,
                action: step.action,
            },
            None => Decision::Answer,
        }
    }

    fn start_draft(
        &mut self,
        cx: &mut C,
        s: SessionId,
        iteration: u32,
        d: u8,
        _page: PageId,
    ) -> (EventKey, u64) {
        let call = self.draft_call(s, iteration, d);
        let ev = cx.schedule_in(call.latency, Event::Drafted(s, d));
        (ev, call.tokens)
    }

    fn draft_list(
        &mut self,
        s: SessionId,
        iteration: u32,
        d: u8,
        page: PageId,
        width: usize,
        out: &mut Vec<PageId>,
    ) {
        // A recorded call without predictions recorded its latency only: draw the list.
        let recorded = self
            .recorded(s, iteration)
            .and_then(|r| r.drafts.get(usize::from(d)))
            .filter(|r| !r.predictions.is_empty());
        match recorded {
            Some(r) => {
                self.tally.replayed += 1;
                out.clear();
                out.extend(r.predictions.iter().take(width));
            }
            None => {
                self.tally.drawn += 1;
                let key = self.keys[s as usize].draft_pick;
                let truth = self.page_chosen(s, iteration);
                let mut rng = key.rng(u64::from(iteration), u64::from(d));
                self.model.drafts[usize::from(d)].predict(
                    self.model.site.links(page),
                    truth,
                    width,
                    &mut rng,
                    out,
                );
            }
        }
    }

    fn request_fetch(&mut self, f: FetchId, s: SessionId, page: PageId, step: u32, _demand: bool) {
        debug_assert_eq!(f as usize, self.durations.len(), "fetch ids are dense");
        let duration = self.fetch_latency(s, page, step);
        self.durations.push(duration);
        self.tally.bytes = self.tally.bytes.saturating_add(self.model.site.bytes(page));
    }

    #[inline]
    fn start_fetch(&mut self, cx: &mut C, f: FetchId) {
        let d = self.durations[f as usize];
        self.tally.fetch_work = self.tally.fetch_work.saturating_add(d);
        cx.schedule_in(d, Event::Fetched(f));
    }

    #[inline]
    fn start_fetch_deferred(&mut self, cx: &mut C, f: FetchId) -> Option<Deferred> {
        let d = self.durations[f as usize];
        self.tally.fetch_work = self.tally.fetch_work.saturating_add(d);
        let deferred = cx.defer_in(d);
        if deferred.is_none() {
            cx.schedule_in(d, Event::Fetched(f));
        }
        deferred
    }

    fn start_stages(&mut self, cx: &mut C, s: SessionId, iteration: u32) -> bool {
        let total = match self.recorded(s, iteration).and_then(|r| r.stages) {
            Some(ns) => {
                self.tally.replayed += 1;
                ns
            }
            None => {
                self.tally.drawn += self.model.stages.len() as u64;
                match self.shared {
                    Some(sh) => sh.stages[sh.at(s, iteration)],
                    None => draw_stages(self.model, self.keys[s as usize].root, iteration),
                }
            }
        };
        if total == 0 {
            return false;
        }
        cx.schedule_in(total, Event::StagesDone(s));
        true
    }

    fn start_other(&mut self, cx: &mut C, s: SessionId, iteration: u32) -> bool {
        match self.recorded(s, iteration).and_then(|r| r.other) {
            Some(ns) if ns > 0 => {
                self.tally.replayed += 1;
                cx.schedule_in(ns, Event::StagesDone(s));
                true
            }
            _ => false,
        }
    }
}

/// A reusable simulator of one policy over one workload: engine, rules and sampled world.
#[derive(Debug)]
pub struct Sim<'m> {
    model: &'m Model,
    engine: Engine<Event>,
    /// The queue of a session simulated alone.
    small: SmallQueue<Event>,
    rules: SpecCache,
    durations: Vec<Nanos>,
    recording: bool,
    pooled_runs: u64,
}

impl<'m> Sim<'m> {
    /// A simulator of `model`.
    pub fn new(model: &'m Model) -> Self {
        Sim {
            model,
            engine: Engine::new(),
            small: SmallQueue::new(),
            rules: SpecCache::new(model.rules),
            durations: Vec::new(),
            recording: false,
            pooled_runs: 1,
        }
    }

    /// Keeps one [`IterationRecord`] per iteration of the next runs (for tests and traces),
    /// in completion order: the sessions then share one event queue.
    pub fn record_iterations(&mut self, on: bool) {
        self.recording = on;
        self.rules.record_iterations(on);
    }

    /// Caches this simulator holds (in use by the last run or kept for the next): one for
    /// sessions that take turns, one each for sessions that share a queue. For the parity
    /// test in `specsim::runner`, which needs scenarios and so lives in the `specsim` crate.
    #[doc(hidden)]
    pub fn caches_allocated(&self) -> usize {
        self.rules.caches_allocated()
    }

    /// The per-iteration records of the last run (empty unless recording is on).
    pub fn records(&self) -> &[IterationRecord] {
        self.rules.records()
    }

    /// Tells how many runs a report pools with each of this simulator's runs (the
    /// replications): a run keeps its latencies exactly while their total over those runs
    /// stays within [`crate::sim::metrics::EXACT_POOL_MAX`], and sketches them beyond.
    pub fn pool_runs(&mut self, runs: u64) {
        self.pooled_runs = runs;
    }

    /// Whether the sessions of a run of `policy` can affect one another: through a cache
    /// they share, fetch slots they compete for, or the fetch rate limit's bucket.
    pub fn sessions_interact(&self, policy: Policy) -> bool {
        let rules = self.rules.rules();
        (policy.has_cache() && rules.shared_cache)
            || rules.fetch_slots.is_some()
            || rules.rate_limit.is_some()
    }

    /// Runs `policy` over `work` and returns its metrics.
    pub fn run(&mut self, policy: Policy, work: Workload<'_>) -> &RunMetrics {
        self.run_inner(policy, work, None)
    }

    /// Runs `policy` over `work`, reading the samples `shared` drew for this workload (the
    /// same numbers [`Sim::run`] would draw).
    pub fn run_shared(
        &mut self,
        policy: Policy,
        work: Workload<'_>,
        shared: &Shared,
    ) -> &RunMetrics {
        self.run_inner(policy, work, Some(shared))
    }

    fn run_inner(
        &mut self,
        policy: Policy,
        work: Workload<'_>,
        shared: Option<&Shared>,
    ) -> &RunMetrics {
        let n = work.trajectories.len();
        assert_eq!(n, work.arrivals.len(), "one arrival per trajectory");
        let iterations: usize = work.trajectories.iter().map(|t| t.iterations()).sum();
        self.engine.reset();
        let alone = !(self.sessions_interact(policy) || self.recording);
        self.rules.run_alone(alone);
        self.rules.reset(policy, work.key, n, iterations);
        let m = self.rules.metrics_mut();
        m.iteration_latencies.plan(iterations, self.pooled_runs);
        m.session_latencies.plan(n, self.pooled_runs);
        // Room for the fetches the table holds at once: one session's when sessions run
        // alone (they forget the ended sessions' fetches), else the run's.
        let room = if alone {
            let longest = work.trajectories.iter().map(|t| t.iterations());
            self.rules
                .expected_fetches(policy, 1, longest.max().unwrap_or(0))
        } else {
            self.rules.expected_fetches(policy, n, iterations)
        };
        self.rules.reserve_fetches(room);
        let mut durations = std::mem::take(&mut self.durations);
        durations.clear();
        durations.reserve(room);
        let mut world = SampledWorld::with_shared(self.model, work, shared, durations);
        let (events, end) = if !alone {
            for (s, &at) in work.arrivals.iter().enumerate() {
                self.engine.schedule_at(at, Event::Arrive(s as SessionId));
            }
            while let Some((_, ev)) = self.engine.pop() {
                self.rules.handle(ev, &mut self.engine, &mut world);
            }
            (self.engine.events_processed(), self.engine.now())
        } else {
            // Independent sessions: each alone on a small queue, from arrival to end, with a
            // fetch table of its own fetches only (a working set of one session, whatever
            // their number).
            let (mut events, mut end) = (0, SimTime::ZERO);
            let q = &mut self.small;
            for (s, &at) in work.arrivals.iter().enumerate() {
                q.reset();
                self.rules.next_session_alone();
                world.forget_fetches();
                q.schedule_at(at, Event::Arrive(s as SessionId));
                while let Some((_, ev)) = q.pop() {
                    self.rules.handle(ev, q, &mut world);
                }
                events += q.events_processed();
                end = end.max(q.now());
            }
            (events, end)
        };
        self.rules.finish();
        // Deferred completions never scheduled were events all the same (README,
        // Performance: the definition of an event did not change).
        let (deferred, last) = self.rules.deferred_completions();
        let (events, end) = (events + deferred, end.max(last));
        let tally = world.tally();
        self.durations = world.into_buffer();
        let m = self.rules.metrics_mut();
        m.replayed = tally.replayed;
        m.drawn = tally.drawn;
        m.fetch_work = tally.fetch_work;
        m.bytes_fetched = tally.bytes;
        m.events = events;
        m.end_time = end;
        self.rules.metrics()
    }
}
