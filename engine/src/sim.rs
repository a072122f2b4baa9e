//! The simulator core: virtual time, the event engine, random streams, and the SpecCache
//! model with its parts. Nothing here reads files or knows where latencies come from beyond
//! the [`dist`] and [`llm`] samplers.
//!
//! - [`time`], [`engine`]: integer-nanosecond time and the event queue.
//! - [`rng`]: named random streams (determinism and common random numbers).
//! - [`dist`], [`llm`]: latency distributions and LLM profiles (TTFT + tokens x TPOT).
//! - [`site`], [`trajectory`]: link graphs and the agents' paths through them.
//! - [`draft`], [`cache`], [`fetch`], [`policy`]: the parts of SpecCache.
//! - [`model`]: SpecCache's rules (`shared/spec/model.md`) as event handlers, written once.
//! - [`world`]: the seam the rules act through: a [`world::Context`] (clock, own events) and
//!   a [`world::World`] (calls to the target, drafts and fetcher; their completions come back
//!   as events). [`sampled`] is the simulated world (replayed or drawn delays on the virtual
//!   clock); `specsim::live::world` is the live one (real HTTP and LLM calls, wall clock).
//! - [`metrics`]: what a run measures.

pub mod cache;
pub mod dist;
pub mod draft;
pub mod engine;
pub mod fetch;
pub mod llm;
pub mod metrics;
pub mod model;
pub mod policy;
pub mod rng;
pub mod sampled;
pub mod site;
pub mod time;
pub mod trajectory;
pub mod world;
