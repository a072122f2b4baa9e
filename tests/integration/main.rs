//! The integration test binary: one module per behaviour.

mod fitting;
mod importers;
mod real_data;
