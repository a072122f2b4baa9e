//! The discrete-event engine: virtual time, a priority queue and cancellation.
//!
//! It knows nothing of webs, caches or LLMs. Events pop in `(time, insertion sequence)`
//! order, so two events scheduled for the same instant pop first-in first-out and a run is
//! reproducible bit for bit. Payloads live in the heap itself; cancellation marks the event's
//! sequence number in a bit set, and the mark is checked when the event reaches the top (lazy
//! deletion). The heap and the bit sets keep their capacity across [`Engine::reset`], so a
//! warmed-up engine schedules without allocating.
//!
//! [`SmallQueue`] has the same contract for a queue that never holds more than a few events
//! (one session simulated alone): a short sorted vector instead of a heap and bit sets.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::sim::time::{Nanos, SimTime};

/// Handle of a scheduled event, used to cancel it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventKey {
    seq: u64,
}

/// The place in delivery order, `(time, sequence)`, of a deferred event: one whose place is
/// taken but which is not scheduled (see [`SmallQueue::defer_in`]; unlike
/// [`Engine::reserve`], its time is known). It keeps its place should it be scheduled later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deferred(u128);

impl Deferred {
    /// When the event falls.
    #[inline]
    pub fn at(self) -> SimTime {
        SimTime((self.0 >> 64) as u64)
    }
}

#[derive(Debug)]
struct Entry<E> {
    at: SimTime,
    seq: u64,
    payload: E,
}

impl<E> Entry<E> {
    /// `(time, sequence)` as one integer: a single comparison instead of two.
    #[inline]
    fn key(&self) -> u128 {
        (u128::from(self.at.as_nanos()) << 64) | u128::from(self.seq)
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    /// Reversed, so that the max-heap pops the earliest `(time, sequence)` first.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

/// A growable bit set over sequence numbers.
#[derive(Debug, Default)]
struct Bits(Vec<u64>);

impl Bits {
    #[inline]
    fn get(&self, i: u64) -> bool {
        self.0
            .get((i >> 6) as usize)
            .is_some_and(|w| w & (1 << (i & 63)) != 0)
    }

    #[inline]
    fn set(&mut self, i: u64) {
        let w = (i >> 6) as usize;
        if w >= self.0.len() {
            self.0.resize(w + 1, 0);
        }
        self.0[w] |= 1 << (i & 63);
    }

    #[inline]
    fn unset(&mut self, i: u64) {
        if let Some(w) = self.0.get_mut((i >> 6) as usize) {
            *w &= !(1 << (i & 63));
        }
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

/// A virtual-clock event queue holding payloads of type `E`.
#[derive(Debug)]
pub struct Engine<E> {
    now: SimTime,
    next_seq: u64,
    heap: BinaryHeap<Entry<E>>,
    cancelled: Bits,
    done: Bits,
    /// Reserved keys not yet scheduled (live completions still under way).
    reserved: Bits,
    ncancelled: usize,
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
            cancelled: Bits::default(),
            done: Bits::default(),
            reserved: Bits::default(),
            ncancelled: 0,
            popped: 0,
        }
    }

    /// Empties the queue and rewinds the clock, keeping allocated capacity.
    pub fn reset(&mut self) {
        self.now = SimTime::ZERO;
        self.next_seq = 0;
        self.heap.clear();
        self.cancelled.clear();
        self.done.clear();
        self.reserved.clear();
        self.ncancelled = 0;
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
        self.heap.len() - self.ncancelled
    }

    /// Schedules `payload` at absolute time `at` (clamped to now: the past is closed).
    #[inline]
    pub fn schedule_at(&mut self, at: SimTime, payload: E) -> EventKey {
        let at = at.max(self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { at, seq, payload });
        EventKey { seq }
    }

    /// Schedules `payload` after `delay` from now.
    #[inline]
    pub fn schedule_in(&mut self, delay: Nanos, payload: E) -> EventKey {
        self.schedule_at(self.now + delay, payload)
    }

    /// A key for an event whose time is not known yet: a completion that the outside world
    /// (a live HTTP or LLM call) will deliver later with [`Engine::schedule_reserved`]. It can
    /// be cancelled before it is scheduled; scheduling it then does nothing.
    pub fn reserve(&mut self) -> EventKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.reserved.set(seq);
        EventKey { seq }
    }

    /// Schedules a reserved event at `at` (clamped to now). Returns false, and schedules
    /// nothing, if the key was cancelled meanwhile.
    pub fn schedule_reserved(&mut self, key: EventKey, at: SimTime, payload: E) -> bool {
        if !self.reserved.get(key.seq) {
            return false; // cancelled meanwhile, or never reserved
        }
        self.reserved.unset(key.seq);
        let at = at.max(self.now);
        self.heap.push(Entry {
            at,
            seq: key.seq,
            payload,
        });
        true
    }

    /// The time of the next live event, without popping it.
    pub fn next_time(&mut self) -> Option<SimTime> {
        while let Some(e) = self.heap.peek() {
            if self.ncancelled > 0 && self.cancelled.get(e.seq) {
                self.heap.pop();
                self.ncancelled -= 1;
                continue;
            }
            return Some(e.at);
        }
        None
    }

    /// Cancels a pending event. Returns false if it already popped or was cancelled.
    pub fn cancel(&mut self, key: EventKey) -> bool {
        if key.seq >= self.next_seq || self.done.get(key.seq) || self.cancelled.get(key.seq) {
            return false;
        }
        self.cancelled.set(key.seq);
        if self.reserved.get(key.seq) {
            self.reserved.unset(key.seq); // not in the heap: nothing to skip later
        } else {
            self.ncancelled += 1;
        }
        true
    }

    /// Pops the next live event, advancing the clock to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        while let Some(e) = self.heap.pop() {
            if self.ncancelled > 0 && self.cancelled.get(e.seq) {
                self.ncancelled -= 1;
                continue;
            }
            self.done.set(e.seq);
            self.now = e.at;
            self.popped += 1;
            return Some((e.at, e.payload));
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

/// A virtual-clock queue for a few pending events at a time (one session's): a vector kept
/// sorted latest first, so that pop is a `Vec::pop` and scheduling a short insertion from the
/// end. Same contract as [`Engine`]: `(time, insertion sequence)` order, cancellation of
/// pending events only. Cancelling removes the entry at once, so nothing is left to skip.
#[derive(Debug)]
pub struct SmallQueue<E> {
    now: SimTime,
    next_seq: u64,
    /// Pending events, latest `(time, sequence)` first.
    pending: Vec<(u128, E)>,
    popped: u64,
    /// `(time, sequence)` of the event delivered last.
    current: u128,
}

impl<E> Default for SmallQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> SmallQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        SmallQueue {
            now: SimTime::ZERO,
            next_seq: 0,
            pending: Vec::new(),
            popped: 0,
            current: 0,
        }
    }

    /// Empties the queue and rewinds the clock, keeping allocated capacity.
    pub fn reset(&mut self) {
        self.now = SimTime::ZERO;
        self.next_seq = 0;
        self.pending.clear();
        self.popped = 0;
        self.current = 0;
    }

    /// The current virtual time: the time of the last popped event.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Number of events delivered by [`SmallQueue::pop`] since the last reset.
    #[inline]
    pub fn events_processed(&self) -> u64 {
        self.popped
    }

    /// Number of events scheduled and neither delivered nor cancelled.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Schedules `payload` at absolute time `at` (clamped to now: the past is closed).
    #[inline]
    pub fn schedule_at(&mut self, at: SimTime, payload: E) -> EventKey {
        let at = at.max(self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        let key = (u128::from(at.as_nanos()) << 64) | u128::from(seq);
        self.insert(key, payload);
        EventKey { seq }
    }

    /// Places `(key, payload)` in the pending list, which stays sorted latest first.
    /// Swapped into place: for a few entries this is cheaper than `Vec::insert`'s call to
    /// move memory. Sequence numbers are unique, so keys never tie.
    #[inline]
    fn insert(&mut self, key: u128, payload: E) {
        self.pending.push((key, payload));
        let p = &mut self.pending[..];
        let mut i = p.len() - 1;
        while i > 0 && p[i - 1].0 < key {
            p.swap(i - 1, i);
            i -= 1;
        }
    }

    /// Defers an event: takes the place an event scheduled now `delay` from now would take, without
    /// scheduling it: the sequence number is used up, so every later event gets the number
    /// it would have had. [`SmallQueue::schedule_deferred`] schedules it in that place
    /// while [`SmallQueue::passed`] is false; an event never scheduled is never delivered.
    #[inline]
    pub fn defer_in(&mut self, delay: Nanos) -> Deferred {
        let at = self.now + delay;
        let seq = self.next_seq;
        self.next_seq += 1;
        Deferred((u128::from(at.as_nanos()) << 64) | u128::from(seq))
    }

    /// Whether a deferred event would have been delivered before the event delivered last.
    #[inline]
    pub fn passed(&self, d: Deferred) -> bool {
        d.0 < self.current
    }

    /// Schedules `payload` in the place `d` of a deferred event (not [`SmallQueue::passed`] yet).
    #[inline]
    pub fn schedule_deferred(&mut self, d: Deferred, payload: E) -> EventKey {
        debug_assert!(!self.passed(d), "the past is closed");
        self.insert(d.0, payload);
        EventKey { seq: d.0 as u64 }
    }

    /// Schedules `payload` after `delay` from now.
    #[inline]
    pub fn schedule_in(&mut self, delay: Nanos, payload: E) -> EventKey {
        self.schedule_at(self.now + delay, payload)
    }

    /// Cancels a pending event. Returns false if it already popped or was cancelled.
    pub fn cancel(&mut self, key: EventKey) -> bool {
        match self.pending.iter().position(|e| e.0 as u64 == key.seq) {
            Some(i) => {
                self.pending.remove(i);
                true
            }
            None => false,
        }
    }

    /// Pops the next event, advancing the clock to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let (key, payload) = self.pending.pop()?;
        let at = SimTime((key >> 64) as u64);
        self.now = at;
        self.current = key;
        self.popped += 1;
        Some((at, payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reproducible stream of pseudo-random numbers for schedules.
    fn numbers(seed: u64) -> impl FnMut() -> u64 {
        let mut x = seed;
        move || {
            x = crate::sim::rng::mix64(x);
            x
        }
    }

    /// The small queue against the engine: the same random schedule, with cancellations,
    /// pops in the same order with the same cancellation results.
    #[test]
    fn small_queue_behaves_as_the_engine() {
        let mut big = Engine::new();
        let mut small = SmallQueue::new();
        let mut next = numbers(0x9E37_79B9_7F4A_7C15);
        let mut keys = Vec::new();
        for round in 0..2000u32 {
            match next() % 4 {
                0 | 1 => {
                    let at = SimTime(big.now().as_nanos() + next() % 8);
                    let a = big.schedule_at(at, round);
                    let b = small.schedule_at(at, round);
                    assert_eq!(a, b);
                    keys.push(a);
                }
                2 if !keys.is_empty() => {
                    let k = keys[(next() % keys.len() as u64) as usize];
                    assert_eq!(big.cancel(k), small.cancel(k));
                }
                _ => assert_eq!(big.pop(), small.pop()),
            }
            assert_eq!(big.pending(), small.pending());
            assert_eq!(big.now(), small.now());
        }
        while let Some(e) = big.pop() {
            assert_eq!(Some(e), small.pop());
        }
        assert_eq!(small.pop(), None);
        assert_eq!(big.events_processed(), small.events_processed());
    }

    /// Deferred events against scheduled ones: a queue that schedules everything and one
    /// that defers some of them (scheduling a few later, while not passed) deliver the
    /// other events in the same order at the same times, and a deferred event counts as
    /// passed exactly once the full queue has delivered it and the deferring queue has
    /// delivered the next event. Times from a small range, so ties are common.
    #[test]
    fn deferred_events_keep_their_place() {
        let mut full = SmallQueue::new();
        let mut lazy = SmallQueue::new();
        let mut next = numbers(0x5151_2727_8383_9191);
        // Deferred in `lazy` and never scheduled there: (payload, place, delivered by `full`).
        let mut deferred: Vec<(u32, Deferred, bool)> = Vec::new();
        let mut passed_seen = 0;
        for round in 0..5000u32 {
            match next() % 5 {
                0 | 1 => {
                    let delay = next() % 6;
                    full.schedule_in(delay, round);
                    lazy.schedule_in(delay, round);
                }
                2 => {
                    let delay = next() % 6;
                    full.schedule_in(delay, round);
                    deferred.push((round, lazy.defer_in(delay), false));
                }
                3 if !deferred.is_empty() => {
                    let i = (next() % deferred.len() as u64) as usize;
                    let (payload, d, delivered) = deferred[i];
                    if !lazy.passed(d) {
                        assert!(!delivered, "not passed, so not delivered yet");
                        lazy.schedule_deferred(d, payload);
                        deferred.swap_remove(i);
                    }
                }
                _ => {
                    // `full` delivers the deferred events first, then the one `lazy` delivers.
                    let want = loop {
                        let Some((at, p)) = full.pop() else {
                            break None;
                        };
                        match deferred.iter_mut().find(|r| r.0 == p) {
                            Some(r) => r.2 = true,
                            None => break Some((at, p)),
                        }
                    };
                    assert_eq!(lazy.pop(), want);
                    if want.is_some() {
                        for &(_, d, delivered) in &deferred {
                            assert_eq!(lazy.passed(d), delivered);
                            passed_seen += usize::from(delivered);
                        }
                    }
                }
            }
        }
        assert!(passed_seen > 100, "the test saw passed deferred events");
    }

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
        assert!(e.cancel(a));
        assert!(!e.cancel(a), "double cancel is a no-op");
        assert_eq!(e.pending(), 1);
        let b = e.schedule_at(SimTime(1), 3);
        assert_eq!(e.pop(), Some((SimTime(1), 3)));
        assert!(!e.cancel(b), "popped events cannot be cancelled");
        assert_eq!(e.pop(), Some((SimTime(3), 2)));
        assert_eq!(e.pop(), None);
        assert_eq!(e.pending(), 0);
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
    fn reset_forgets_cancellations() {
        let mut e = Engine::new();
        let k = e.schedule_at(SimTime(1), 0);
        assert!(e.cancel(k));
        e.reset();
        e.schedule_at(SimTime(1), 7); // the same sequence number as before
        assert_eq!(e.pop(), Some((SimTime(1), 7)));
    }

    #[test]
    fn reserved_events_are_scheduled_later_unless_cancelled() {
        let mut e = Engine::new();
        let a = e.reserve();
        let b = e.reserve();
        e.schedule_at(SimTime(5), 'x');
        assert!(e.cancel(b));
        assert!(e.schedule_reserved(a, SimTime(3), 'a'));
        assert!(
            !e.schedule_reserved(b, SimTime(1), 'b'),
            "cancelled before it arrived"
        );
        assert_eq!(e.next_time(), Some(SimTime(3)));
        assert_eq!(e.pop(), Some((SimTime(3), 'a')));
        assert_eq!(e.pending(), 1);
        assert_eq!(e.pop(), Some((SimTime(5), 'x')));
        assert_eq!(e.pop(), None);
        assert_eq!(e.next_time(), None);
        assert_eq!(e.pending(), 0);
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
