//! specsim: a deterministic discrete-event simulator of speculative prefetching
//! (SpecCache, arXiv 2510.16276) for LLM web agents.
//!
//! # Code map
//! - [`time`], [`engine`]: virtual time in integer nanoseconds and the event queue. The engine
//!   knows nothing of webs or LLMs.
//! - [`rng`]: named random streams (the determinism and common-random-numbers contract).
//! - [`dist`], [`llm`]: latency distributions and LLM profiles (TTFT + tokens x TPOT).
//! - [`site`], [`trajectory`]: link graphs and the agents' paths through them.
//! - [`draft`], [`cache`], [`fetch`], [`policy`]: the parts of SpecCache.
//! - [`model`]: the SpecCache system model (`shared/spec/model.md`) as event handlers.
//! - [`metrics`], [`stats`], [`report`]: what a run measures and how it is summarised.
//! - [`scenario`], [`problems`]: scenario files and their validation.
//! - [`runner`]: replications in parallel; [`output`]: atomic file writes.
//! - [`plot`]: figures (SVG and PNG) of reports, sweeps and fits; reads results only.
//! - [`trace`]: the JSON Lines trace format of recorded runs.
//! - [`replay`]: a trace turned into a site and trajectories to replay.
//! - [`live`]: live mode (real HTTP and LLM APIs), its local stand-in servers, and
//!   `validate` (live trace vs simulator).
//! - [`navigation`]: importers of recorded navigation paths (Wikispeedia, wiki_speedrun).
//! - [`fit`]: fitting distributions to measurements (MLE, KS, AIC, quantile fits, profiles).
//! - [`sources`]: importers of public latency datasets (llmperf, thefastest.ai, HAR, HTTP Archive).
//! - [`study`]: the latency-variability study (per model medians, p95, CV, max/min).
//! - [`cli`]: the command-line interface (the binary only calls [`cli::main`]).
//!
//! # Determinism contract
//! The same scenario and seed produce byte-identical reports on any machine and with any
//! number of threads:
//! - events pop in `(time, insertion sequence)` order; time is an integer;
//! - every random draw comes from a Xoshiro256++ stream keyed by
//!   `(seed, replication, session, step, item, purpose)` ([`rng::StreamKey`]);
//! - replications are independent jobs collected in index order;
//! - nothing that reaches output iterates a hash map.
//!
//! Every policy of a replication replays the same trajectories and sees the same target
//! latencies, draft answers and fetch times for the same `(session, step, page)`: speedups
//! are paired (common random numbers).

pub mod cache;
pub mod cli;
pub mod dist;
pub mod draft;
pub mod engine;
pub mod fetch;
pub mod fit;
pub mod live;
pub mod llm;
pub mod metrics;
pub mod model;
pub mod navigation;
pub mod output;
pub mod plot;
pub mod policy;
pub mod problems;
pub mod replay;
pub mod report;
pub mod reproduce;
pub mod results;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod site;
pub mod sources;
pub mod stats;
pub mod study;
pub mod sweep;
pub mod time;
pub mod trace;
pub mod trajectory;
