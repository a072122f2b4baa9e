//! The fetcher pool: `W` concurrent fetch slots (unlimited by default) and FIFO queues.
//!
//! Demand fetches (the target is waiting) may be served before prefetches; a queued
//! prefetch that the target starts waiting for is promoted to the demand queue.

use std::collections::VecDeque;

/// Identifier of a fetch in the model's fetch table.
pub type FetchId = u32;

/// Slots and queues. The pool only orders fetch ids; the model owns the fetches.
#[derive(Clone, Debug, Default)]
pub struct FetchPool {
    slots: Option<u32>,
    busy: u32,
    demand_priority: bool,
    demand: VecDeque<FetchId>,
    background: VecDeque<FetchId>,
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
        }
    }

    /// Forgets all fetches, keeping allocations.
    pub fn reset(&mut self) {
        self.busy = 0;
        self.demand.clear();
        self.background.clear();
    }

    /// Fetches running now.
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// Asks for a slot. Returns true if `id` may start now; otherwise it is queued.
    #[inline]
    pub fn request(&mut self, id: FetchId, demand: bool) -> bool {
        if self.slots.is_none_or(|w| self.busy < w) {
            self.busy += 1;
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

    /// A running fetch finished. Returns the next fetch to start, if any; `still_queued`
    /// tells whether a queued id has not started yet (promoted ids appear twice).
    pub fn release(&mut self, mut still_queued: impl FnMut(FetchId) -> bool) -> Option<FetchId> {
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
        assert!(p.request(0, false));
        assert!(!p.request(1, false));
        assert!(!p.request(2, true));
        assert_eq!(p.release(|_| true), Some(2));
        assert_eq!(p.release(|_| true), Some(1));
        assert_eq!(p.release(|_| true), None);
        assert_eq!(p.busy(), 0);
    }

    #[test]
    fn fifo_without_priority_and_promotion_skips_stale_copies() {
        let mut p = FetchPool::new(Some(1), false);
        p.request(0, false);
        p.request(1, false);
        p.request(2, true);
        assert_eq!(p.release(|_| true), Some(1));
        let mut q = FetchPool::new(Some(1), true);
        q.request(0, false);
        q.request(1, false);
        q.request(2, false);
        q.promote(2);
        let mut started = vec![];
        let mut next = q.release(|id| !started.contains(&id));
        while let Some(id) = next {
            started.push(id);
            next = q.release(|id| !started.contains(&id));
        }
        assert_eq!(started, vec![2, 1]);
    }

    #[test]
    fn unlimited_pool_never_queues() {
        let mut p = FetchPool::new(None, true);
        assert!((0..1000).all(|i| p.request(i, false)));
        assert_eq!(p.busy(), 1000);
    }
}
