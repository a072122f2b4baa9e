//! The latency-variability study.
