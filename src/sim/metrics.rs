//! What one run measures: per-iteration records and the per-run totals built from them.

use serde::{Deserialize, Serialize};

use crate::sim::site::PageId;
use crate::sim::time::{Nanos, SimTime};

/// How an iteration's observation was served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Served from a complete cache entry.
    Hit,
    /// The page was being fetched already; the target waited for the rest.
    PartialHit,
    /// A demand fetch.
    Miss,
    /// The target answered; no page was visited.
    Answer,
}

/// One iteration of one session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IterationRecord {
    /// Session index.
    pub session: u32,
    /// Iteration index within the session (0-based).
    pub iteration: u32,
    /// The page visited (`None` for the answer iteration).
    pub page: Option<PageId>,
    /// How the observation was served.
    pub outcome: Outcome,
    /// When the target started thinking.
    pub start: SimTime,
    /// End-to-end latency of the iteration.
    pub latency: Nanos,
    /// Target plus extra-stage LLM time.
    pub llm: Nanos,
    /// Extra-stage LLM time (part of `llm`).
    pub stages: Nanos,
    /// Time that is neither LLM nor web (replayed from traces that record it), after the
    /// stages; `latency = llm + exposed + other`.
    pub other: Nanos,
    /// Web time of the observation's fetch (queueing + fetch, + lookup for a hit).
    pub web: Nanos,
    /// Part of `web` on the critical path (after the target decided).
    pub exposed: Nanos,
    /// Queueing for a fetch slot on the critical path.
    pub queue: Nanos,
}

impl IterationRecord {
    /// Web time overlapped with thinking (or saved by an earlier fetch).
    pub fn hidden(&self) -> Nanos {
        self.web.saturating_sub(self.exposed)
    }
}

/// Totals of one run (one policy, one replication). Times in nanoseconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunMetrics {
    /// Iterations simulated.
    pub iterations: u64,
    /// Page-visit iterations (iterations minus answers).
    pub visits: u64,
    /// Full hits.
    pub hits: u64,
    /// Partial hits.
    pub partial_hits: u64,
    /// Misses.
    pub misses: u64,
    /// Sum of iteration latencies.
    pub iteration_latency: u64,
    /// Sum of LLM time.
    pub llm: u64,
    /// Sum of extra-stage LLM time (part of `llm`).
    pub stages: u64,
    /// Sum of time that is neither LLM nor web.
    pub other: u64,
    /// Sum of web time of visits.
    pub web: u64,
    /// Sum of exposed web time.
    pub exposed: u64,
    /// Sum of exposed queueing delay.
    pub queue: u64,
    /// Sum of exposed web time of misses alone (what a simulator that books zero web time
    /// for every predicted page, like the reference code, would report).
    pub miss_exposed: u64,
    /// Sum of session end-to-end latencies (root fetch included).
    pub session_latency: u64,
    /// Exposed web time of the sessions' root fetches.
    pub root_web: u64,
    /// Prefetches started.
    pub prefetch_issued: u64,
    /// Prefetches a later visit used.
    pub prefetch_used: u64,
    /// Prefetches evicted before use or never used.
    pub prefetch_wasted: u64,
    /// Prefetches cancelled while waiting for a slot (stale: the target had moved on).
    pub prefetch_cancelled: u64,
    /// Demand fetches (misses and root fetches).
    pub demand_fetches: u64,
    /// Bytes of all fetches.
    pub bytes_fetched: u64,
    /// Fetch slot time used: the sum of the service times of every fetch that started (demand
    /// and prefetch; a stale prefetch cancelled in the queue never starts), nanoseconds. The
    /// fetch load a run offers is this per session times the session arrival rate, over the
    /// slots.
    pub fetch_work: u64,
    /// Fetch slot time used by demand fetches (start pages and misses): the part of
    /// `fetch_work` that cancelling stale prefetches cannot shed, nanoseconds.
    pub demand_work: u64,
    /// Draft calls.
    pub draft_calls: u64,
    /// Draft output tokens.
    pub draft_tokens: u64,
    /// Draft answers that arrived after the target decided (cancelled).
    pub drafts_late: u64,
    /// Values replayed from a trace.
    pub replayed: u64,
    /// Values drawn from distributions.
    pub drawn: u64,
    /// Events the engine delivered.
    pub events: u64,
    /// Virtual time when the last event ran.
    pub end_time: SimTime,
    /// Every iteration's latency, in completion order.
    pub iteration_latencies: Vec<Nanos>,
    /// Every session's end-to-end latency, in completion order.
    pub session_latencies: Vec<Nanos>,
}

impl RunMetrics {
    /// Zeroes the totals, keeping the latency vectors' allocations.
    pub fn reset(&mut self, iterations: usize, sessions: usize) {
        let mut il = std::mem::take(&mut self.iteration_latencies);
        let mut sl = std::mem::take(&mut self.session_latencies);
        il.clear();
        sl.clear();
        il.reserve(iterations);
        sl.reserve(sessions);
        *self = RunMetrics {
            iteration_latencies: il,
            session_latencies: sl,
            ..Default::default()
        };
    }

    /// Adds one finished iteration. Sums saturate: scenarios may hold latencies of years.
    #[inline]
    pub fn iteration(&mut self, r: &IterationRecord) {
        self.iterations += 1;
        self.iteration_latency = self.iteration_latency.saturating_add(r.latency);
        self.llm = self.llm.saturating_add(r.llm);
        self.stages = self.stages.saturating_add(r.stages);
        self.other = self.other.saturating_add(r.other);
        self.iteration_latencies.push(r.latency);
        match r.outcome {
            Outcome::Answer => return,
            Outcome::Hit => self.hits += 1,
            Outcome::PartialHit => self.partial_hits += 1,
            Outcome::Miss => {
                self.misses += 1;
                self.miss_exposed = self.miss_exposed.saturating_add(r.exposed);
            }
        }
        self.visits += 1;
        self.web = self.web.saturating_add(r.web);
        self.exposed = self.exposed.saturating_add(r.exposed);
        self.queue = self.queue.saturating_add(r.queue);
    }

    /// Adds one finished session.
    #[inline]
    pub fn session_done(&mut self, latency: Nanos) {
        self.session_latency = self.session_latency.saturating_add(latency);
        self.session_latencies.push(latency);
    }

    /// Hidden web time: web time of visits not on the critical path.
    pub fn hidden(&self) -> u64 {
        self.web.saturating_sub(self.exposed)
    }
}
