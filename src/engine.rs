//! The discrete-event engine: virtual time, a priority queue and cancellation.
//!
//! It knows nothing of webs, caches or LLMs. Events pop in `(time, insertion sequence)`
//! order, so two events scheduled for the same instant pop first-in first-out and a run is
//! reproducible bit for bit. Payloads live in a slab so that a pending event can be cancelled
//! in O(1); the queue and slab keep their capacity across [`Engine::reset`], so a warmed-up
//! engine schedules without allocating.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::time::{Nanos, SimTime};

/// Handle of a scheduled event, used to cancel it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventKey {
    slot: u32,
    seq: u64,
}

#[derive(Debug)]
struct Slot<E> {
    seq: u64,
    payload: Option<E>,
}

/// A virtual-clock event queue holding payloads of type `E`.
#[derive(Debug)]
pub struct Engine<E> {
    now: SimTime,
    next_seq: u64,
    heap: BinaryHeap<Reverse<(SimTime, u64, u32)>>,
    slots: Vec<Slot<E>>,
    free: Vec<u32>,
    popped: u64,
}

impl<E> Default for Engine<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Engine<E> {
    /// An empty engine at time zero.
    pub fn new() -> Self {
        Engine {
            now: SimTime::ZERO,
            next_seq: 0,
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            popped: 0,
        }
    }

    /// Empties the queue and rewinds the clock, keeping allocated capacity.
    pub fn reset(&mut self) {
        self.now = SimTime::ZERO;
        self.next_seq = 0;
        self.heap.clear();
        self.slots.clear();
        self.free.clear();
        self.popped = 0;
    }

    /// The current virtual time: the time of the last popped event.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Number of events delivered by [`Engine::pop`] since the last reset.
    #[inline]
    pub fn events_processed(&self) -> u64 {
        self.popped
    }

    /// Number of events scheduled and neither delivered nor cancelled.
    pub fn pending(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Schedules `payload` at absolute time `at` (clamped to now: the past is closed).
    pub fn schedule_at(&mut self, at: SimTime, payload: E) -> EventKey {
        let at = at.max(self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = match self.free.pop() {
            Some(i) => {
                let s = &mut self.slots[i as usize];
                s.seq = seq;
                s.payload = Some(payload);
                i
            }
            None => {
                self.slots.push(Slot {
                    seq,
                    payload: Some(payload),
                });
                (self.slots.len() - 1) as u32
            }
        };
        self.heap.push(Reverse((at, seq, slot)));
        EventKey { slot, seq }
    }

    /// Schedules `payload` after `delay` from now.
    #[inline]
    pub fn schedule_in(&mut self, delay: Nanos, payload: E) -> EventKey {
        self.schedule_at(self.now + delay, payload)
    }

    /// Cancels a pending event; returns its payload, or `None` if it already popped or was
    /// cancelled.
    pub fn cancel(&mut self, key: EventKey) -> Option<E> {
        let s = self.slots.get_mut(key.slot as usize)?;
        if s.seq != key.seq {
            return None;
        }
        let payload = s.payload.take()?;
        self.free.push(key.slot);
        Some(payload)
    }

    /// Pops the next live event, advancing the clock to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        while let Some(Reverse((at, seq, slot))) = self.heap.pop() {
            let s = &mut self.slots[slot as usize];
            if s.seq != seq {
                continue;
            }
            if let Some(payload) = s.payload.take() {
                self.free.push(slot);
                self.now = at;
                self.popped += 1;
                return Some((at, payload));
            }
        }
        None
    }

    /// Delivers every event to `handler` until the queue is empty.
    pub fn run<F: FnMut(&mut Engine<E>, SimTime, E)>(&mut self, mut handler: F) {
        while let Some((at, ev)) = self.pop() {
            handler(self, at, ev);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_fifo() {
        let mut e = Engine::new();
        e.schedule_at(SimTime(5), 'a');
        e.schedule_at(SimTime(1), 'b');
        e.schedule_at(SimTime(5), 'c');
        e.schedule_at(SimTime(1), 'd');
        let order: Vec<char> = std::iter::from_fn(|| e.pop().map(|(_, c)| c)).collect();
        assert_eq!(order, vec!['b', 'd', 'a', 'c']);
        assert_eq!(e.now(), SimTime(5));
        assert_eq!(e.events_processed(), 4);
    }

    #[test]
    fn cancel_removes_only_that_event() {
        let mut e = Engine::new();
        let a = e.schedule_at(SimTime(2), 1);
        e.schedule_at(SimTime(3), 2);
        assert_eq!(e.cancel(a), Some(1));
        assert_eq!(e.cancel(a), None, "double cancel is a no-op");
        assert_eq!(e.pending(), 1);
        // The freed slot is reused; the stale key must not cancel the new event.
        let b = e.schedule_at(SimTime(1), 3);
        assert_eq!(e.cancel(a), None);
        assert_eq!(e.pop(), Some((SimTime(1), 3)));
        assert_eq!(e.cancel(b), None, "popped events cannot be cancelled");
        assert_eq!(e.pop(), Some((SimTime(3), 2)));
        assert_eq!(e.pop(), None);
    }

    #[test]
    fn scheduling_in_the_past_clamps_to_now() {
        let mut e = Engine::new();
        e.schedule_at(SimTime(10), 0);
        e.pop();
        e.schedule_at(SimTime(4), 1);
        assert_eq!(e.pop(), Some((SimTime(10), 1)));
    }

    #[test]
    fn run_delivers_events_scheduled_by_handlers() {
        let mut e = Engine::new();
        e.schedule_in(1, 3u32);
        let mut seen = Vec::new();
        e.run(|eng, at, n| {
            seen.push((at.as_nanos(), n));
            if n > 0 {
                eng.schedule_in(10, n - 1);
            }
        });
        assert_eq!(seen, vec![(1, 3), (11, 2), (21, 1), (31, 0)]);
    }
}
