//! Speculation policies compared by the simulator.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What happens while the target thinks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// No cache and no speculation: every visit is a demand fetch (the baseline).
    None,
    /// A cache of demand-fetched pages: only revisits hit.
    Cache,
    /// Prefetch `k` links of the current page chosen uniformly at random.
    Random,
    /// SpecCache: the draft's top-`k` predictions are prefetched when it answers.
    Speccache,
    /// Prefetch the true next page at the start of the iteration (an upper bound).
    Oracle,
}

impl Policy {
    /// Every policy, in report order.
    pub const ALL: [Policy; 5] = [
        Policy::None,
        Policy::Cache,
        Policy::Random,
        Policy::Speccache,
        Policy::Oracle,
    ];

    /// The name used in files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Policy::None => "none",
            Policy::Cache => "cache",
            Policy::Random => "random",
            Policy::Speccache => "speccache",
            Policy::Oracle => "oracle",
        }
    }

    /// Whether the policy keeps an action-observation cache.
    pub fn has_cache(self) -> bool {
        self != Policy::None
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
