//! Public measurements in, distributions and traces out.
//!
//! - [`sources`]: importers of latency datasets (llmperf, thefastest.ai, HAR, HTTP Archive).
//! - [`navigation`]: importers of recorded navigation paths (Wikispeedia, wiki_speedrun).
//! - [`fit`]: fitting distributions to measurements (MLE, KS, AIC, quantile fits, profiles).
//! - [`study`]: the latency-variability study (per model medians, p95, CV, max/min).

pub mod fit;
pub mod navigation;
pub mod sources;
pub mod study;
