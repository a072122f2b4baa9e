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

use crate::sim::engine::{Engine, EventKey};
use crate::sim::fetch::FetchId;
use crate::sim::llm::Call;
use crate::sim::metrics::{IterationRecord, RunMetrics};
use crate::sim::model::{Model, SpecCache};
use crate::sim::policy::Policy;
use crate::sim::rng::{Purpose, StreamKey};
use crate::sim::site::PageId;
use crate::sim::time::{Nanos, SimTime};
use crate::sim::trajectory::{Recorded, Trajectory};
use crate::sim::world::{Decision, Event, SessionId, World};

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
    keys: Vec<StreamKey>,
    /// Service time of each fetch, by fetch id, set when the fetch is requested.
    durations: Vec<Nanos>,
    tally: Tally,
}

impl<'a> SampledWorld<'a> {
    /// The world of `work` under `model`; `durations` is a buffer to reuse.
    pub fn new(model: &'a Model, work: Workload<'a>, mut durations: Vec<Nanos>) -> Self {
        durations.clear();
        SampledWorld {
            model,
            keys: (0..work.trajectories.len() as u64)
                .map(|s| work.key.child(s))
                .collect(),
            work,
            durations,
            tally: Tally::default(),
        }
    }

    /// What was counted so far.
    pub fn tally(&self) -> Tally {
        self.tally
    }

    /// Gives the fetch-duration buffer back for reuse.
    pub fn into_buffer(self) -> Vec<Nanos> {
        self.durations
    }

    fn trajectory(&self, s: SessionId) -> &'a Trajectory {
        &self.work.trajectories[s as usize]
    }

    /// The values a trace recorded for iteration `i` of session `s`.
    fn recorded(&self, s: SessionId, i: u32) -> Option<&'a Recorded> {
        let t = self.trajectory(s);
        match t.steps.get(i as usize) {
            Some(step) => step.recorded.as_deref(),
            None => t.answer_recorded.as_deref(),
        }
    }

    /// The one place where a value is replayed when the trace recorded it and drawn from
    /// `draw` otherwise.
    #[inline]
    fn replayed_or_drawn<T>(&mut self, recorded: Option<T>, draw: impl FnOnce(&Self) -> T) -> T {
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
            0 => traj.root_fetch.filter(|_| page == traj.root),
            _ => traj
                .steps
                .get(step as usize - 1)
                .filter(|st| st.page == page)
                .and_then(|st| st.recorded.as_ref())
                .and_then(|r| r.fetch),
        };
        let key = self.keys[s as usize];
        self.replayed_or_drawn(recorded, |w| {
            let dist = w.model.site.fetch_override(page).unwrap_or(&w.model.fetch);
            dist.sample_nanos(&mut key.rng(u64::from(step), u64::from(page), Purpose::Fetch))
        })
    }

    /// The target's think time in iteration `iteration` of session `s`.
    pub fn target_latency(&mut self, s: SessionId, iteration: u32) -> Nanos {
        let recorded = self.recorded(s, iteration).and_then(|r| r.target);
        let key = self.keys[s as usize];
        self.replayed_or_drawn(recorded.map(|(l, _)| l), |w| {
            w.model
                .target
                .call(&mut key.rng(u64::from(iteration), 0, Purpose::Target))
                .latency
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
        let key = self.keys[s as usize];
        self.replayed_or_drawn(recorded, |w| {
            w.model.drafts[usize::from(d)].llm.call(&mut key.rng(
                u64::from(iteration),
                u64::from(d),
                Purpose::DraftLatency,
            ))
        })
    }
}

impl World<Engine<Event>> for SampledWorld<'_> {
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
        self.trajectory(s)
            .steps
            .get(iteration as usize)
            .map(|st| st.page)
    }

    fn start_target(&mut self, cx: &mut Engine<Event>, s: SessionId, iteration: u32) {
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
        cx: &mut Engine<Event>,
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
                let key = self.keys[s as usize];
                let truth = self.next_page(s, iteration);
                let mut rng = key.rng(u64::from(iteration), u64::from(d), Purpose::DraftPick);
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
        self.tally.bytes = self
            .tally
            .bytes
            .saturating_add(self.model.site.page(page).bytes);
    }

    #[inline]
    fn start_fetch(&mut self, cx: &mut Engine<Event>, f: FetchId) {
        let d = self.durations[f as usize];
        self.tally.fetch_work = self.tally.fetch_work.saturating_add(d);
        cx.schedule_in(d, Event::Fetched(f));
    }

    fn start_stages(&mut self, cx: &mut Engine<Event>, s: SessionId, iteration: u32) -> bool {
        let total = match self.recorded(s, iteration).and_then(|r| r.stages) {
            Some(ns) => {
                self.tally.replayed += 1;
                ns
            }
            None => {
                let key = self.keys[s as usize];
                let mut t: Nanos = 0;
                for (j, st) in self.model.stages.iter().enumerate() {
                    self.tally.drawn += 1;
                    t = t.saturating_add(
                        st.call(&mut key.rng(u64::from(iteration), j as u64, Purpose::Stage))
                            .latency,
                    );
                }
                t
            }
        };
        if total == 0 {
            return false;
        }
        cx.schedule_in(total, Event::StagesDone(s));
        true
    }

    fn start_other(&mut self, cx: &mut Engine<Event>, s: SessionId, iteration: u32) -> bool {
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
    rules: SpecCache,
    durations: Vec<Nanos>,
}

impl<'m> Sim<'m> {
    /// A simulator of `model`.
    pub fn new(model: &'m Model) -> Self {
        Sim {
            model,
            engine: Engine::new(),
            rules: SpecCache::new(model.rules()),
            durations: Vec::new(),
        }
    }

    /// Keeps one [`IterationRecord`] per iteration of the next runs (for tests and traces).
    pub fn record_iterations(&mut self, on: bool) {
        self.rules.record_iterations(on);
    }

    /// The per-iteration records of the last run (empty unless recording is on).
    pub fn records(&self) -> &[IterationRecord] {
        self.rules.records()
    }

    /// Runs `policy` over `work` and returns its metrics.
    pub fn run(&mut self, policy: Policy, work: Workload<'_>) -> &RunMetrics {
        let n = work.trajectories.len();
        assert_eq!(n, work.arrivals.len(), "one arrival per trajectory");
        let iterations: usize = work.trajectories.iter().map(|t| t.iterations()).sum();
        self.engine.reset();
        self.rules.reset(policy, work.key, n, iterations);
        let mut world = SampledWorld::new(self.model, work, std::mem::take(&mut self.durations));
        for (s, &at) in work.arrivals.iter().enumerate() {
            self.engine.schedule_at(at, Event::Arrive(s as SessionId));
        }
        while let Some((_, ev)) = self.engine.pop() {
            self.rules.handle(ev, &mut self.engine, &mut world);
        }
        self.rules.finish();
        let tally = world.tally();
        self.durations = world.into_buffer();
        let m = self.rules.metrics_mut();
        m.replayed = tally.replayed;
        m.drawn = tally.drawn;
        m.fetch_work = tally.fetch_work;
        m.bytes_fetched = tally.bytes;
        m.events = self.engine.events_processed();
        m.end_time = self.engine.now();
        self.rules.metrics()
    }
}
