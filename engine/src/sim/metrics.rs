//! What one run measures: per-iteration records and the per-run totals built from them.
//!
//! Latencies are kept for percentiles ([`Latencies`]): every value while the runs pooled in a
//! report hold at most [`EXACT_POOL_MAX`] of them, a quantile sketch beyond (relative error
//! at most [`SKETCH_ALPHA`]), so that memory stays bounded however long a run is.

use serde::{Deserialize, Serialize};
use sketches_ddsketch::{Config, DDSketch};

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
    /// Every iteration's latency (or a sketch of them, see [`Latencies`]).
    pub iteration_latencies: Latencies,
    /// Every session's end-to-end latency (or a sketch of them).
    pub session_latencies: Latencies,
}

impl RunMetrics {
    /// Zeroes the totals, keeping the latency lists' allocations; the lists keep every value
    /// (see [`Latencies::plan`] for long runs).
    pub fn reset(&mut self, iterations: usize, sessions: usize) {
        let mut il = std::mem::take(&mut self.iteration_latencies);
        let mut sl = std::mem::take(&mut self.session_latencies);
        il.plan(iterations, 1);
        sl.plan(sessions, 1);
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

/// Most latencies a report pools exactly, per policy and kind (iterations or sessions): 8 MiB
/// of values. Beyond, percentiles come from a sketch.
pub const EXACT_POOL_MAX: u64 = 1 << 20;

/// Relative error of a sketched percentile: the reported value `v'` of the nearest-rank
/// percentile `v` satisfies `|v' - v| <= SKETCH_ALPHA * v` (plus half a nanosecond of
/// rounding); `tests` in this module check it.
pub const SKETCH_ALPHA: f64 = 0.005;

/// Sketch bins: with [`SKETCH_ALPHA`] they span 1 ns to about 10^35 ns, more than any span.
const SKETCH_BINS: u32 = 8192;

/// A DDSketch of latencies in nanoseconds (values under 0.5 ns count as 0).
#[derive(Clone)]
pub struct Sketch(DDSketch);

impl Sketch {
    fn new() -> Self {
        Sketch(DDSketch::new(Config::new(SKETCH_ALPHA, SKETCH_BINS, 0.5)))
    }
}

impl std::fmt::Debug for Sketch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sketch({} values)", self.0.count())
    }
}

/// The latencies of one run, for percentiles: every value, or a DDSketch (Masson, Rim and
/// Lee, VLDB 2019; crate `sketches-ddsketch`) when the run is too long to pool exactly.
///
/// A run keeps every value when `values x pooled runs <= EXACT_POOL_MAX` ([`Latencies::plan`]),
/// so the exact values of all the runs of a report fit in that budget whatever their number.
/// Both forms are deterministic and independent of the order of completion.
#[derive(Clone, Debug, Default)]
pub struct Latencies {
    exact: Vec<Nanos>,
    sketch: Option<Box<Sketch>>,
    count: u64,
}

impl PartialEq for Latencies {
    /// Equal counts and equal values (in order) or, for sketches, equal sketched percentiles.
    fn eq(&self, other: &Self) -> bool {
        self.count == other.count
            && match (&self.sketch, &other.sketch) {
                (None, None) => self.exact == other.exact,
                (Some(_), Some(_)) => (0..=100).all(|q| {
                    let q = f64::from(q) / 100.0;
                    Pooled::of([self]).percentile(q) == Pooled::of([other]).percentile(q)
                }),
                _ => false,
            }
    }
}

impl Latencies {
    /// Empties the list for a run of about `expected` values whose report pools `runs` runs:
    /// exact when `expected x runs <= EXACT_POOL_MAX`, a sketch otherwise.
    pub fn plan(&mut self, expected: usize, runs: u64) {
        self.exact.clear();
        self.count = 0;
        if (expected as u64).saturating_mul(runs.max(1)) <= EXACT_POOL_MAX {
            self.sketch = None;
            self.exact.reserve(expected);
        } else {
            self.exact = Vec::new();
            self.sketch = Some(Box::new(Sketch::new()));
        }
    }

    /// Adds one value.
    #[inline]
    pub fn push(&mut self, v: Nanos) {
        self.count += 1;
        match &mut self.sketch {
            None => self.exact.push(v),
            Some(s) => s.0.add(v as f64),
        }
    }

    /// Number of values added.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True when no value was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Every value, in the order added, unless the run is sketched.
    pub fn exact(&self) -> Option<&[Nanos]> {
        self.sketch.is_none().then_some(&self.exact[..])
    }

    /// Sorts the exact values (the order of completion is an accident of scheduling).
    pub fn sort(&mut self) {
        self.exact.sort_unstable();
    }
}

/// Latencies of several runs pooled for percentiles: sorted values, or a merged sketch.
#[derive(Clone, Debug)]
pub enum Pooled {
    /// Every value, sorted.
    Exact(Vec<Nanos>),
    /// A sketch of every value.
    Sketch(Box<Sketch>),
}

impl Pooled {
    /// Pools `runs`: exactly when every run kept its values and they number at most
    /// [`EXACT_POOL_MAX`], else in one sketch (exact runs are added to it value by value).
    pub fn of<'a>(runs: impl IntoIterator<Item = &'a Latencies> + Clone) -> Pooled {
        match Self::gather(runs) {
            Ok(mut v) => {
                v.sort_unstable();
                Pooled::Exact(v)
            }
            Err(sketch) => Pooled::Sketch(sketch),
        }
    }

    /// The nearest-rank percentiles `qs` of `runs` pooled: what [`Pooled::of`] then
    /// [`Pooled::percentile`] give, without sorting. A few order statistics of exact values
    /// are selected in linear time (each selection partitions the values above the one
    /// before), where a sort costs `n log n`: for the rows of a sweep cell, which show three
    /// percentiles and no distribution.
    pub fn percentiles_of<'a, const N: usize>(
        runs: impl IntoIterator<Item = &'a Latencies> + Clone,
        qs: [f64; N],
    ) -> [Nanos; N] {
        let mut v = match Self::gather(runs) {
            Ok(v) => v,
            Err(sketch) => {
                let pooled = Pooled::Sketch(sketch);
                return qs.map(|q| pooled.percentile(q));
            }
        };
        if v.is_empty() {
            return [0; N];
        }
        let ranks = qs.map(|q| crate::stats::nearest_rank(v.len(), q));
        let mut order: [usize; N] = std::array::from_fn(|i| i);
        order.sort_unstable_by_key(|&i| ranks[i]);
        let mut out = [0; N];
        // `v[..lo]` holds the values ranked below every rank still to select.
        let mut lo = 0;
        for i in order {
            let r = ranks[i];
            if r >= lo {
                v[lo..].select_nth_unstable(r - lo);
                lo = r + 1;
            }
            out[i] = v[r];
        }
        out
    }

    /// Every value of `runs`, unsorted, while every run kept its values and they number at
    /// most [`EXACT_POOL_MAX`]; else one sketch of them all (exact runs added value by value).
    fn gather<'a>(
        runs: impl IntoIterator<Item = &'a Latencies> + Clone,
    ) -> Result<Vec<Nanos>, Box<Sketch>> {
        let (mut total, mut exact) = (0u64, true);
        for r in runs.clone() {
            total += r.count;
            exact &= r.sketch.is_none();
        }
        if exact && total <= EXACT_POOL_MAX {
            let mut v: Vec<Nanos> = Vec::with_capacity(total as usize);
            for r in runs {
                v.extend_from_slice(&r.exact);
            }
            return Ok(v);
        }
        let mut all = Sketch::new();
        for r in runs {
            match &r.sketch {
                Some(s) => all.0.merge(&s.0).expect("one sketch configuration"),
                None => r.exact.iter().for_each(|&v| all.0.add(v as f64)),
            }
        }
        Err(Box::new(all))
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Pooled::Exact(v) => v.len(),
            Pooled::Sketch(s) => s.0.count(),
        }
    }

    /// True when there is no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The nearest-rank percentile `q` in [0, 1] (0 when empty): exact, or within
    /// [`SKETCH_ALPHA`] of it.
    pub fn percentile(&self, q: f64) -> Nanos {
        match self {
            Pooled::Exact(v) => crate::stats::percentile_sorted(v, q),
            Pooled::Sketch(s) => {
                let n = s.0.count();
                if n == 0 {
                    return 0;
                }
                // The sketch answers rank floor(q' (n - 1)) (0-based); ask for the rank of the
                // nearest-rank definition, ceil(q n) (1-based), half a rank inside.
                let rank = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
                let q = if rank == 0 {
                    0.0 // the exact minimum
                } else if rank + 1 == n {
                    1.0 // the exact maximum
                } else {
                    (rank as f64 + 0.5) / (n - 1) as f64
                };
                let v = s.0.quantile(q).ok().flatten().unwrap_or(0.0);
                v.round().max(0.0) as Nanos
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::dist::Dist;
    use crate::sim::rng::{Purpose, StreamKey};
    use crate::stats::percentile_sorted;

    fn values(n: usize, seed: u64) -> Vec<Nanos> {
        let d = Dist::Lognormal(rand_distr::LogNormal::new(16.0, 1.2).unwrap());
        let mut r = StreamKey::root(seed).rng(0, 0, Purpose::Other);
        (0..n).map(|_| d.sample_nanos(&mut r)).collect()
    }

    #[test]
    fn small_runs_pool_exactly_and_long_ones_in_a_sketch() {
        let mut a = Latencies::default();
        a.plan(100, 20);
        (0..100).for_each(|v| a.push(v));
        assert_eq!(a.exact().map(<[_]>::len), Some(100));
        let mut b = Latencies::default();
        b.plan(100_000, 20); // 2 M values pooled: over the budget
        assert!(b.exact().is_none());
        b.push(5);
        assert_eq!(b.len(), 1);
        assert!(matches!(Pooled::of([&a, &a]), Pooled::Exact(_)));
        assert!(matches!(Pooled::of([&a, &b]), Pooled::Sketch(_)));
    }

    /// The stated bound: over 101 percentiles of 300k lognormal values (four orders of
    /// magnitude) pooled from three runs, each sketched value is within SKETCH_ALPHA
    /// (relative) of the exact nearest-rank percentile, and 0 and 100 are exact.
    #[test]
    fn sketched_percentiles_are_within_the_stated_relative_error() {
        let runs: Vec<Vec<Nanos>> = (0..3).map(|s| values(100_000, s)).collect();
        let mut sorted: Vec<Nanos> = runs.concat();
        sorted.sort_unstable();
        let sketched: Vec<Latencies> = runs
            .iter()
            .map(|r| {
                let mut l = Latencies::default();
                l.plan(r.len(), EXACT_POOL_MAX); // forced into a sketch
                r.iter().for_each(|&v| l.push(v));
                l
            })
            .collect();
        let pooled = Pooled::of(&sketched);
        assert!(matches!(pooled, Pooled::Sketch(_)));
        assert_eq!(pooled.len(), 300_000);
        let mut worst = 0.0f64;
        for i in 0..=100 {
            let q = f64::from(i) / 100.0;
            let want = percentile_sorted(&sorted, q) as f64;
            let got = pooled.percentile(q) as f64;
            let err = (got - want).abs() / want;
            worst = worst.max(err);
            assert!(
                (got - want).abs() <= SKETCH_ALPHA * want + 0.5,
                "percentile {i}: sketch {got}, exact {want}"
            );
        }
        assert_eq!(pooled.percentile(0.0), sorted[0]);
        assert_eq!(pooled.percentile(1.0), *sorted.last().unwrap());
        assert!(worst > 0.0, "the sketch is not exact by accident");
    }

    fn exact_run(values: &[Nanos]) -> Latencies {
        let mut l = Latencies::default();
        l.plan(values.len(), 1);
        values.iter().for_each(|&v| l.push(v));
        l
    }

    proptest::proptest! {
        /// Selected percentiles are the sorted ones, for any values (ties included: they are
        /// drawn from a few dozen), any number of runs, and percentiles in any order, repeated
        /// or at the ends.
        #[test]
        fn selected_percentiles_are_the_sorted_ones(
            runs in proptest::collection::vec(proptest::collection::vec(0u64..40, 0..60), 0..4),
            qs in proptest::array::uniform4(proptest::prop_oneof![
                proptest::strategy::Just(0.0),
                proptest::strategy::Just(1.0),
                0.0f64..=1.0,
            ]),
        ) {
            let runs: Vec<Latencies> = runs.iter().map(|r| exact_run(r)).collect();
            let pooled = Pooled::of(&runs);
            proptest::prop_assert!(matches!(pooled, Pooled::Exact(_)));
            let want = qs.map(|q| pooled.percentile(q));
            proptest::prop_assert_eq!(Pooled::percentiles_of(&runs, qs), want);
        }
    }

    #[test]
    fn selected_percentiles_of_sketches_are_the_sketched_ones() {
        let mut l = Latencies::default();
        l.plan(1_000, EXACT_POOL_MAX); // forced into a sketch
        values(1_000, 7).iter().for_each(|&v| l.push(v));
        let pooled = Pooled::of([&l]);
        assert!(matches!(pooled, Pooled::Sketch(_)));
        let qs = [0.99, 0.5, 0.0, 0.95];
        let got = Pooled::percentiles_of([&l], qs);
        assert_eq!(got, qs.map(|q| pooled.percentile(q)));
        assert!(
            got[0] > got[3] && got[3] > got[1] && got[1] > got[2],
            "{got:?}"
        );
    }
}
