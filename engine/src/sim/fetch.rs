//! The fetcher pool: `W` concurrent fetch slots (unlimited by default), an optional request
//! rate limit on fetch starts (a token bucket), and FIFO queues.
//!
//! Demand fetches (the target is waiting) may be served before prefetches; a queued
//! prefetch that the target starts waiting for is promoted to the demand queue. A fetch
//! starts when it holds a slot and, under a rate limit, a token: one waiting for either sits
//! in the same queues, in the same order.

use std::collections::VecDeque;

use crate::sim::time::{Nanos, SimTime, NANOS_PER_SEC};

/// Identifier of a fetch in the model's fetch table.
pub type FetchId = u32;

/// A limit on the rate of fetch starts to the site's origin: a token bucket of `burst`
/// tokens refilled one every `interval` nanoseconds, full when a run starts. A fetch takes a
/// token when it starts; in any time window of length `L` at most `burst + floor(L /
/// interval)` fetches start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RateLimit {
    /// Nanoseconds per token: `round(1e9 / rate_per_s)`, at least 1.
    pub interval: Nanos,
    /// Tokens the bucket holds (starts allowed back to back after a quiet period), >= 1.
    pub burst: u32,
}

impl RateLimit {
    /// Default bucket size: one token, i.e. fetch starts at least `1 / rate` apart.
    pub const DEFAULT_BURST: u32 = 1;

    /// A limit of `rate_per_s` fetch starts per second with a bucket of `burst` tokens
    /// (validated by [`crate::sim::model::check_rules`]: `rate_per_s` positive and finite,
    /// `burst` at least 1).
    pub fn new(rate_per_s: f64, burst: u32) -> RateLimit {
        let interval = (NANOS_PER_SEC / rate_per_s).round();
        let interval = if interval.is_finite() && interval >= 1.0 {
            interval.min(u64::MAX as f64) as Nanos
        } else {
            1
        };
        RateLimit {
            interval,
            burst: burst.max(1),
        }
    }

    /// The rate in fetch starts per second that `interval` stands for.
    pub fn rate_per_s(&self) -> f64 {
        NANOS_PER_SEC / self.interval as f64
    }
}

/// Slots and queues. The pool only orders fetch ids; the model owns the fetches.
#[derive(Clone, Debug, Default)]
pub struct FetchPool {
    slots: Option<u32>,
    busy: u32,
    demand_priority: bool,
    demand: VecDeque<FetchId>,
    background: VecDeque<FetchId>,
    limit: Option<RateLimit>,
    /// The bucket as a virtual scheduling time (GCRA): a start at `t` conforms when
    /// `t + (burst - 1) * interval >= tat`, and moves `tat` to `max(tat, t) + interval`.
    tat: SimTime,
}

impl FetchPool {
    /// A pool of `slots` concurrent fetches (`None` = unlimited).
    pub fn new(slots: Option<u32>, demand_priority: bool) -> Self {
        FetchPool {
            slots,
            busy: 0,
            demand_priority,
            demand: VecDeque::new(),
            background: VecDeque::new(),
            limit: None,
            tat: SimTime::ZERO,
        }
    }

    /// The same pool with fetch starts limited by `limit` (`None` = unlimited).
    pub fn with_rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.limit = limit;
        self
    }

    /// Forgets all fetches and refills the bucket, keeping allocations.
    pub fn reset(&mut self) {
        self.busy = 0;
        self.demand.clear();
        self.background.clear();
        self.tat = SimTime::ZERO;
    }

    /// The rate limit, if any.
    #[inline]
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.limit
    }

    #[inline]
    fn slot_free(&self) -> bool {
        self.slots.is_none_or(|w| self.busy < w)
    }

    /// The earliest time a fetch may start as far as the bucket is concerned.
    #[inline]
    pub fn next_token(&self) -> SimTime {
        match self.limit {
            None => SimTime::ZERO,
            Some(l) => SimTime(
                self.tat
                    .0
                    .saturating_sub(u64::from(l.burst - 1).saturating_mul(l.interval)),
            ),
        }
    }

    /// Takes a token for a start at `now` (the caller checked [`FetchPool::next_token`]).
    #[inline]
    fn take_token(&mut self, now: SimTime) {
        if let Some(l) = self.limit {
            self.tat = self.tat.max(now) + l.interval;
        }
    }

    /// True when a fetch waits, a slot is free and only the bucket holds it back: the model
    /// then sets a timer for [`FetchPool::next_token`].
    #[inline]
    pub fn waits_for_token(&self) -> bool {
        self.limit.is_some() && self.has_queued() && self.slot_free()
    }

    /// Under a rate limit, the next fetch that may start at `now` (a slot is free and a
    /// token available), taken from the queues in order; ids that `still_queued` rejects
    /// are dropped on the way.
    pub fn start_next(
        &mut self,
        now: SimTime,
        mut still_queued: impl FnMut(FetchId) -> bool,
    ) -> Option<FetchId> {
        if !self.slot_free() || self.next_token() > now {
            return None;
        }
        while let Some(id) = self
            .demand
            .pop_front()
            .or_else(|| self.background.pop_front())
        {
            if still_queued(id) {
                self.busy += 1;
                self.take_token(now);
                return Some(id);
            }
        }
        None
    }

    /// Fetches running now.
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// Asks for a slot (and, under a rate limit, a token) at `now`. Returns true if `id` may
    /// start now; otherwise it is queued. Under a rate limit a fetch never overtakes one
    /// already queued in the same queue: it queues behind it.
    #[inline]
    pub fn request(&mut self, id: FetchId, demand: bool, now: SimTime) -> bool {
        if self.slot_free()
            && (self.limit.is_none() || (!self.has_queued() && self.next_token() <= now))
        {
            self.busy += 1;
            self.take_token(now);
            return true;
        }
        if demand && self.demand_priority {
            self.demand.push_back(id);
        } else {
            self.background.push_back(id);
        }
        false
    }

    /// True when some fetch waits for a slot.
    #[inline]
    pub fn has_queued(&self) -> bool {
        !self.demand.is_empty() || !self.background.is_empty()
    }

    /// The fetches waiting for a slot, in queue order (a promoted id appears twice;
    /// ids that started or were dropped may still be listed: the caller checks).
    pub fn queued(&self) -> impl Iterator<Item = FetchId> + '_ {
        self.demand.iter().chain(self.background.iter()).copied()
    }

    /// Moves a queued fetch ahead of prefetches (when the target starts waiting on it).
    /// The stale copy left in the background queue is skipped by [`FetchPool::release`].
    pub fn promote(&mut self, id: FetchId) {
        if self.demand_priority {
            self.demand.push_back(id);
        }
    }

    /// A running fetch finished at `now`. Returns the next fetch to start, if any;
    /// `still_queued` tells whether a queued id has not started yet (promoted ids appear
    /// twice). Under a rate limit with no token left the slot is freed and nothing starts
    /// ([`FetchPool::waits_for_token`] then tells the model to set a timer).
    pub fn release(
        &mut self,
        now: SimTime,
        mut still_queued: impl FnMut(FetchId) -> bool,
    ) -> Option<FetchId> {
        if self.limit.is_some() {
            self.busy = self.busy.saturating_sub(1);
            return self.start_next(now, still_queued);
        }
        while let Some(id) = self
            .demand
            .pop_front()
            .or_else(|| self.background.pop_front())
        {
            if still_queued(id) {
                return Some(id); // the slot passes straight to the next fetch
            }
        }
        self.busy = self.busy.saturating_sub(1);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demand_jumps_the_queue_when_prioritised() {
        let mut p = FetchPool::new(Some(1), true);
        assert!(p.request(0, false, SimTime::ZERO));
        assert!(!p.request(1, false, SimTime::ZERO));
        assert!(!p.request(2, true, SimTime::ZERO));
        assert_eq!(p.release(SimTime::ZERO, |_| true), Some(2));
        assert_eq!(p.release(SimTime::ZERO, |_| true), Some(1));
        assert_eq!(p.release(SimTime::ZERO, |_| true), None);
        assert_eq!(p.busy(), 0);
    }

    #[test]
    fn fifo_without_priority_and_promotion_skips_stale_copies() {
        let mut p = FetchPool::new(Some(1), false);
        p.request(0, false, SimTime::ZERO);
        p.request(1, false, SimTime::ZERO);
        p.request(2, true, SimTime::ZERO);
        assert_eq!(p.release(SimTime::ZERO, |_| true), Some(1));
        let mut q = FetchPool::new(Some(1), true);
        q.request(0, false, SimTime::ZERO);
        q.request(1, false, SimTime::ZERO);
        q.request(2, false, SimTime::ZERO);
        q.promote(2);
        let mut started = vec![];
        let mut next = q.release(SimTime::ZERO, |id| !started.contains(&id));
        while let Some(id) = next {
            started.push(id);
            next = q.release(SimTime::ZERO, |id| !started.contains(&id));
        }
        assert_eq!(started, vec![2, 1]);
    }

    #[test]
    fn unlimited_pool_never_queues() {
        let mut p = FetchPool::new(None, true);
        assert!((0..1000).all(|i| p.request(i, false, SimTime::ZERO)));
        assert_eq!(p.busy(), 1000);
    }
}
