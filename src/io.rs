//! File formats in and out of the simulator, and writing them safely.
//!
//! - [`trace`]: the JSON Lines trace of recorded runs; [`replay`]: a trace turned into a site
//!   and trajectories to replay.
//! - [`report`]: the run report (one flat row per policy); [`stats`]: the estimators behind it.
//! - [`results`]: sweep results (CSV, JSONL, manifest), merged across shards.
//! - [`otel`]: OpenTelemetry (OTLP JSON) spans of an instrumented agent imported as a trace.
//! - [`input`]: reading input files with a size cap; [`output`]: atomic file writes.

pub use specsim_engine::input;
pub mod otel;
pub mod output;
pub mod replay;
pub mod report;
pub mod results;
pub use specsim_engine::stats;
pub mod trace;
