//! specsim's integration tests, one module per behaviour.

mod calibrate;
mod cli;
mod closed_form;
mod common;
mod determinism;
mod fitting;
mod fuzz;
mod golden;
mod importers;
mod invariants;
mod limits;
mod live;
mod model_rules;
mod navigation;
mod otel;
mod parity;
mod plots;
mod real_data;
mod replay;
mod reproduce;
mod statistics;
mod studies;
mod sweep;
mod utilisation;
mod validation;
