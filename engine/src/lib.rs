//! specsim's simulator, a crate of its own so that it compiles as one codegen unit beside
//! the rest of specsim (README, Build times): the event engine and the SpecCache model
//! ([`sim`]), with what they need of the scenario and input layers: the problem list that
//! validation fills ([`problems`]), the size bounds ([`limits`]), capped file reads
//! ([`input`]) and the report's estimators ([`stats`]). The `specsim` crate re-exports each
//! where it always was (`specsim::sim`, `specsim::scenario::problems`, `specsim::io::input`,
//! `specsim::io::stats`).

pub mod input;
pub mod limits;
pub mod problems;
pub mod sim;
pub mod stats;
