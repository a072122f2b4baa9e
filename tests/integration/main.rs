//! specsim's integration tests, one module per behaviour.

mod cli;
mod closed_form;
mod common;
mod determinism;
mod invariants;
mod live;
mod navigation;
mod replay;
mod statistics;
mod sweep;
