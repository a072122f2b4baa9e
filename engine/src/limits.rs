//! The size bounds the simulator itself relies on (its page ids are 32-bit); the scenario
//! layer (`specsim::scenario::limits`) holds them with the rest of its bounds.

/// Largest prefetch width `k`.
pub const MAX_WIDTH: u32 = 1_000;
/// Most pages of a site: generated, listed in a graph, implied by its largest index, or
/// made by a trace's replay (placeholders included).
pub const MAX_PAGES: u64 = 10_000_000;
/// Most links of a site (for a generated site: pages x mean out-degree, each page's degree
/// capped at `pages - 1`).
pub const MAX_LINKS: u64 = 20_000_000;
