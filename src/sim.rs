//! The simulator core: virtual time, the event engine, random streams, and the SpecCache
//! model with its parts. Nothing here reads files or knows where latencies come from beyond
//! the [`dist`] and [`llm`] samplers.
//!
//! - [`time`], [`engine`]: integer-nanosecond time and the event queue.
//! - [`rng`]: named random streams (determinism and common random numbers).
//! - [`dist`], [`llm`]: latency distributions and LLM profiles (TTFT + tokens x TPOT).
//! - [`site`], [`trajectory`]: link graphs and the agents' paths through them.
//! - [`draft`], [`cache`], [`fetch`], [`policy`]: the parts of SpecCache.
//! - [`model`]: the rules of `shared/spec/model.md` as event handlers.
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
