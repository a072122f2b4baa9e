//! The seam between SpecCache's rules and everything outside them.
//!
//! The rules ([`crate::sim::model::SpecCache`]) know nothing of where time and latencies come
//! from. They see two narrow interfaces:
//! - a [`Context`]: the clock, and scheduling and cancelling the rules' own events;
//! - a [`World`]: the outside they act on. They ask it to call the target, call a draft,
//!   fetch a page and run the extra LLM stages; each call's completion comes back later as an
//!   [`Event`], and what the call produced (the target's decision, the draft's list) is read
//!   from the world when that event is delivered.
//!
//! Two worlds ship. The sampled world ([`crate::sim::sampled`]) schedules each completion
//! after a replayed or drawn delay on the virtual-clock engine. The live world
//! (`specsim::live::world`) performs real HTTP and LLM calls and injects their completions
//! under a wall clock. The rules are the same code in both.

use crate::sim::engine::{Deferred, Engine, EventKey};
use crate::sim::fetch::FetchId;
use crate::sim::metrics::IterationRecord;
use crate::sim::site::PageId;
use crate::sim::time::{Nanos, SimTime};
use crate::sim::trajectory::Action;

/// A session's index in a run.
pub type SessionId = u32;

/// What the rules react to. Completions of the world's calls carry only who they are for;
/// their results are read from the world on delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A session starts: it visits its start page.
    Arrive(SessionId),
    /// The target's call completed: its decision is ready ([`World::decision`]).
    Decided(SessionId),
    /// Draft `d`'s call completed: its list is ready ([`World::draft_list`]).
    Drafted(SessionId, u8),
    /// A fetch completed.
    Fetched(FetchId),
    /// A cache hit's lookup cost elapsed (the rules' own timer).
    Observed(SessionId),
    /// The extra LLM stages after an observation completed (and then, where there is any,
    /// the iteration's other work).
    StagesDone(SessionId),
    /// Under a fetch rate limit, the bucket holds the next token (the rules' own timer).
    Token,
}

/// What the target chose at the end of its think time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Visit `page` (a click, or a back action to an earlier page).
    Visit {
        /// The page.
        page: PageId,
        /// How the target got there.
        action: Action,
    },
    /// Answer the task: no page is visited and the session ends.
    Answer,
    /// The call failed for good (live runs): the session ends without this iteration.
    Abort,
}

/// The clock and the rules' own events.
pub trait Context {
    /// The current time.
    fn now(&self) -> SimTime;
    /// Schedules `ev` after `delay`.
    fn schedule_in(&mut self, delay: Nanos, ev: Event) -> EventKey;
    /// Cancels a pending event (or a completion not yet delivered). False if it already
    /// happened or was cancelled.
    fn cancel(&mut self, key: EventKey) -> bool;
    /// Defers an event `delay` from now: takes its place without scheduling it, where the
    /// context can (see [`crate::sim::engine::SmallQueue::defer_in`]); `None` (the default)
    /// when every event must be scheduled.
    #[inline]
    fn defer_in(&mut self, _delay: Nanos) -> Option<Deferred> {
        None
    }
    /// Whether a deferred event would have been delivered before the event being handled.
    #[inline]
    fn passed(&self, _d: Deferred) -> bool {
        unreachable!("a context that defers nothing has no deferred events")
    }
    /// Schedules `ev` in the place `d` of a deferred event, not [`Context::passed`] yet.
    #[inline]
    fn schedule_deferred(&mut self, _d: Deferred, _ev: Event) -> EventKey {
        unreachable!("a context that defers nothing has no deferred events")
    }
}

impl Context for Engine<Event> {
    #[inline]
    fn now(&self) -> SimTime {
        Engine::now(self)
    }

    #[inline]
    fn schedule_in(&mut self, delay: Nanos, ev: Event) -> EventKey {
        Engine::schedule_in(self, delay, ev)
    }

    #[inline]
    fn cancel(&mut self, key: EventKey) -> bool {
        Engine::cancel(self, key)
    }
}

/// The outside the rules act on. `step` numbers the page visits of a session: the start page
/// is step 0, the visit chosen in iteration `i` is step `i + 1` (random streams and recorded
/// fetch times are keyed by it).
pub trait World<C: Context> {
    /// The session's start page.
    fn root(&mut self, s: SessionId) -> PageId;

    /// Whether the session runs iteration `iteration` (0-based); false ends it.
    fn has_iteration(&mut self, s: SessionId, iteration: u32) -> bool;

    /// The out-links of `page` as session `s` sees it (the random policy's choices).
    fn links(&self, s: SessionId, page: PageId) -> &[PageId];

    /// The page the target will choose in `iteration`, where the world knows it in advance
    /// (the oracle policy's prefetch); `None` otherwise.
    fn next_page(&self, s: SessionId, iteration: u32) -> Option<PageId>;

    /// The target starts thinking; [`Event::Decided`] follows.
    fn start_target(&mut self, cx: &mut C, s: SessionId, iteration: u32);

    /// The target's decision, read when [`Event::Decided`] is delivered.
    fn decision(&mut self, s: SessionId, iteration: u32) -> Decision;

    /// Draft `d` starts on the page `page`; [`Event::Drafted`] follows unless cancelled.
    /// Returns the key that cancels it and the call's output tokens where known now (0 if
    /// they are only known on completion).
    fn start_draft(
        &mut self,
        cx: &mut C,
        s: SessionId,
        iteration: u32,
        d: u8,
        page: PageId,
    ) -> (EventKey, u64);

    /// Draft `d`'s ranked list (at most `width` pages, best first) for the page `page`,
    /// written into `out` (cleared first); read when [`Event::Drafted`] is delivered.
    fn draft_list(
        &mut self,
        s: SessionId,
        iteration: u32,
        d: u8,
        page: PageId,
        width: usize,
        out: &mut Vec<PageId>,
    );

    /// A fetch of `page` for session `s` is asked for (demand or prefetch). It starts later,
    /// when the fetch pool has a slot ([`World::start_fetch`]).
    fn request_fetch(&mut self, f: FetchId, s: SessionId, page: PageId, step: u32, demand: bool);

    /// A requested fetch gets its slot and starts; [`Event::Fetched`] follows.
    fn start_fetch(&mut self, cx: &mut C, f: FetchId);

    /// A requested fetch nobody waits on yet starts, in a run where its completion frees no
    /// slot anyone needs. Where the context can defer the completion instead of
    /// scheduling it ([`Context::defer_in`]), returns its place: the rules then read the
    /// completion from it at a lookup and schedule [`Event::Fetched`] only if someone comes to
    /// wait. Otherwise starts it as [`World::start_fetch`] does and returns `None` (the
    /// default).
    fn start_fetch_deferred(&mut self, cx: &mut C, f: FetchId) -> Option<Deferred> {
        self.start_fetch(cx, f);
        None
    }

    /// Whether a completed fetch produced a page worth caching (a live fetch can fail).
    fn fetch_ok(&self, _f: FetchId) -> bool {
        true
    }

    /// Session `s` observes `page`, served by fetch `f`.
    fn observed(&mut self, _s: SessionId, _page: PageId, _f: FetchId) {}

    /// The extra LLM stages after the observation start. Returns true if
    /// [`Event::StagesDone`] follows, false if there are none (they take no time).
    fn start_stages(&mut self, cx: &mut C, s: SessionId, iteration: u32) -> bool;

    /// After the stages, the iteration's other work (neither LLM nor web: tool calls, the
    /// agent's own code) starts. Returns true if [`Event::StagesDone`] follows again, false if
    /// there is none (recorded traces may carry it; nothing else does).
    fn start_other(&mut self, _cx: &mut C, _s: SessionId, _iteration: u32) -> bool {
        false
    }

    /// An iteration ended.
    fn iteration_done(&mut self, _cx: &mut C, _rec: &IterationRecord) {}

    /// A session ended (after its last iteration, or aborted).
    fn session_done(&mut self, _cx: &mut C, _s: SessionId) {}
}
