//! specsim: a deterministic discrete-event simulator of speculative prefetching
//! (SpecCache, arXiv 2510.16276) for LLM web agents.
//!
//! # Code map
//! - [`sim`]: the simulator core, in its own crate (`engine/`, `specsim-engine`, re-exported
//!   here) so that it compiles as one codegen unit. [`sim::time`] and [`sim::engine`] (virtual time, the event
//!   queue), [`sim::rng`] (named random streams), SpecCache's rules ([`sim::model`]) and the
//!   seam they act through ([`sim::world`]), the simulated world ([`sim::sampled`]) and the
//!   parts (site, trajectory, draft, cache, fetch pool, policy, distributions, LLM profiles,
//!   metrics). The same rules run live in [`live::world`].
//! - [`scenario`]: scenario files (the serde mirror) and their validation into a frozen
//!   [`scenario::Scenario`]; [`scenario::problems`] collects every problem with its field path.
//! - [`runner`]: the replications of a scenario, in parallel; [`sweep`]: parameter sweeps.
//! - [`io`]: formats in and out: traces and their replay, the run report, sweep results,
//!   atomic writes.
//! - [`data`]: public measurements: latency datasets, navigation paths, fitting.
//! - [`live`]: live mode (real HTTP and LLM APIs), its local stand-in servers, and
//!   `validate` (live trace vs simulator).
//! - [`plot`]: figures (SVG and PNG) of reports, sweeps and fits; reads results only.
//! - [`reproduce`]: the paper's figures next to calibrated scenarios' results.
//! - [`whatif`]: a recorded agent's speedup against draft accuracy, width and cache size.
//! - [`calibrate`]: scenario parameters consistent with observed metrics (history matching
//!   over sweeps).
//! - [`tune`]: the cheapest draft, width, cache and fetch slots reaching a target speedup,
//!   and the Pareto front of speedup, draft cost and extra requests to the site.
//! - [`cli`]: the command-line interface (the binary only calls [`cli::main`]).
//!
//! # Determinism contract
//! The same scenario and seed produce byte-identical reports on any machine and with any
//! number of threads:
//! - events pop in `(time, insertion sequence)` order; time is an integer;
//! - every random draw comes from a Xoshiro256++ stream keyed by
//!   `(seed, replication, session, step, item, purpose)` ([`sim::rng::StreamKey`]);
//! - replications are independent jobs collected in index order;
//! - nothing that reaches output iterates a hash map.
//!
//! Every policy of a replication replays the same trajectories and sees the same target
//! latencies, draft answers and fetch times for the same `(session, step, page)`: speedups
//! are paired (common random numbers).

pub mod calibrate;
pub mod cli;
pub mod data;
pub mod io;
pub mod live;
pub mod plot;
pub mod reproduce;
pub mod runner;
pub mod scenario;
pub use specsim_engine::sim;
pub mod sweep;
pub mod tune;
pub mod whatif;
