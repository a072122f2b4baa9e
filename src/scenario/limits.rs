//! Limits by design: a documented bound on every size field, and an estimate of what a run
//! will cost, computed from the validated scenario before anything runs.
//!
//! The bounds are 20 to 1000 times the largest shipped scenario; past them a run would not
//! fit any ordinary machine, or a size would overflow the simulator's 32-bit page ids.
//! They are constants: to go past one, raise it here and rebuild. The memory a run will
//! use is estimated by [`estimate`] and checked against the memory the machine has
//! available or a `--max-memory` budget by [`Estimate::check`]. `docs/scenario.md` lists
//! both.

use std::fmt::Write as _;

use crate::scenario::Scenario;
use crate::sim::model::MAX_DRAFTS;

pub use specsim_engine::limits::{MAX_LINKS, MAX_PAGES, MAX_WIDTH};

/// Most replications of one scenario.
pub const MAX_REPLICATIONS: u32 = 100_000;
/// Most sessions per replication.
pub const MAX_SESSIONS: u32 = 1_000_000;
/// Largest `agent.max_rounds` (iterations of one session).
pub const MAX_ROUNDS: u32 = 100_000;
/// Largest out-degree a trace may record for one page (`root_out_degree`, `out_degree`).
pub const MAX_OUT_DEGREE: u32 = 100_000;

/// What a run will cost, roughly: memory at its peak and iterations simulated.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Peak bytes (an upper estimate, within a factor of about 2).
    pub bytes: u64,
    /// Session iterations simulated over every replication and policy.
    pub iterations: u64,
    /// The parts of `bytes`, largest first: what, and how many bytes.
    pub parts: Vec<(String, u64)>,
}

/// A run that would not fit.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{source_name}: {}", self.message())]
pub struct LimitError {
    /// The scenario (file or sweep cell).
    pub source_name: String,
    /// The estimate.
    pub estimate: Estimate,
    /// The budget, bytes.
    pub budget: u64,
    /// Where the budget comes from (`--max-memory` or the machine's available memory).
    pub budget_from: String,
}

impl LimitError {
    fn message(&self) -> String {
        let mut s = format!(
            "the run would need about {} of memory, more than the {} budget ({}): ",
            human(self.estimate.bytes),
            human(self.budget),
            self.budget_from
        );
        let parts: Vec<String> = self
            .estimate
            .parts
            .iter()
            .take(3)
            .map(|(what, b)| format!("{} for {what}", human(*b)))
            .collect();
        s.push_str(&parts.join(", "));
        s.push_str(
            "; lower replications, sessions or agent.max_rounds, or give a larger --max-memory",
        );
        s
    }
}

/// Bytes in human units (`1.5 GiB`).
pub fn human(bytes: u64) -> String {
    bytesize::ByteSize(bytes).display().iec().to_string()
}

/// Bytes of one stored latency.
const LATENCY: u64 = 8;
/// Bytes of the metrics of one run, besides its latency lists.
const RUN_METRICS: u64 = 256;
/// Bytes of one page of a site (attributes, graph node, link offsets).
const PAGE: u64 = 96;
/// Bytes of one link (graph edge and link array).
const LINK: u64 = 24;
/// Bytes of one step of a trajectory.
const STEP: u64 = 24;
/// Bytes of one session's state in the simulator and its trajectory header.
const SESSION: u64 = 256;
/// Bytes of one fetch record or cache entry.
const FETCH: u64 = 64;

fn mul(xs: &[u64]) -> u64 {
    xs.iter().fold(1u64, |a, &x| a.saturating_mul(x))
}

/// Iterations per session: recorded for a replay, else at most `agent.max_rounds`.
fn iterations_per_session(scenario: &Scenario) -> u64 {
    match (&scenario.replay, &scenario.agent) {
        (Some(r), _) => {
            let n = r.trajectories.len().max(1) as u64;
            let total: u64 = r.trajectories.iter().map(|t| t.iterations() as u64).sum();
            total.div_ceil(n).max(1)
        }
        _ => u64::from(scenario.file().agent.as_ref().map_or(10, |a| a.max_rounds)).max(1),
    }
}

/// Estimates the memory of every replication of `scenario` prepared at once (trajectories,
/// arrivals and the three shared samples of each step: [`crate::runner::Family`]).
pub fn prepared_bytes(scenario: &Scenario) -> u64 {
    let steps = iterations_per_session(scenario).saturating_add(1);
    mul(&[
        u64::from(scenario.replications),
        u64::from(scenario.sessions),
        steps
            .saturating_mul(STEP + 3 * LATENCY)
            .saturating_add(SESSION),
    ])
}

/// Estimates the memory of one policy's runs of every replication of `scenario`: the
/// latencies each keeps for the report, and its other metrics.
pub fn run_bytes(scenario: &Scenario) -> u64 {
    let steps = iterations_per_session(scenario).saturating_add(1);
    mul(&[
        u64::from(scenario.replications),
        u64::from(scenario.sessions),
        steps,
        LATENCY,
    ])
    .saturating_add(mul(&[u64::from(scenario.replications), RUN_METRICS]))
}

/// Estimates the memory and work of running `scenario` with `threads` replications at a
/// time: the site, the latencies every run keeps for the report, and the state of the
/// replications in flight (trajectories, sessions, fetches, caches).
pub fn estimate(scenario: &Scenario, threads: usize) -> Estimate {
    let m = &scenario.model;
    let reps = u64::from(scenario.replications);
    let sessions = u64::from(scenario.sessions);
    let policies = scenario.policies.len() as u64;
    let per_session = iterations_per_session(scenario);
    let iterations = mul(&[reps, policies, sessions, per_session]);
    let in_flight = (threads.max(1) as u64).min(reps.max(1));
    let fan_out =
        1 + (m.rules.width as u64).saturating_mul(MAX_DRAFTS.min(m.drafts.len().max(1)) as u64);
    let cache_entries = (m.rules.cache_capacity as u64).min(per_session.saturating_mul(fan_out));
    let caches = if m.rules.shared_cache { 1 } else { sessions };
    let mut parts = vec![
        (
            format!(
                "the latencies kept for the report ({reps} replications x {policies} policies x {sessions} sessions x {per_session} iterations)"
            ),
            run_bytes(scenario).saturating_mul(policies),
        ),
        (
            format!(
                "the replications in flight ({in_flight} at a time: trajectories, sessions, fetches and caches of {sessions} sessions)"
            ),
            mul(&[
                in_flight,
                mul(&[sessions, per_session, STEP + FETCH * fan_out])
                    .saturating_add(mul(&[sessions, SESSION]))
                    .saturating_add(mul(&[caches, cache_entries, FETCH])),
            ]),
        ),
        (
            format!(
                "the site ({} pages, {} links)",
                m.site.page_count(),
                m.site.link_count()
            ),
            mul(&[m.site.page_count() as u64, PAGE])
                .saturating_add(mul(&[m.site.link_count() as u64, LINK])),
        ),
    ];
    parts.sort_by_key(|p| std::cmp::Reverse(p.1));
    Estimate {
        bytes: parts.iter().fold(0u64, |a, p| a.saturating_add(p.1)),
        iterations,
        parts,
    }
}

/// The memory available to a run: `MemAvailable` of `/proc/meminfo`, where there is one.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// A memory budget: `--max-memory` when given, else the machine's available memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Bytes (`None`: unknown, nothing is refused).
    pub bytes: Option<u64>,
    /// Where it comes from, for messages.
    pub from: String,
}

impl Budget {
    /// `max_memory` (from the flag) or the machine's available memory.
    pub fn new(max_memory: Option<u64>) -> Budget {
        match max_memory {
            Some(b) => Budget {
                bytes: Some(b),
                from: "--max-memory".into(),
            },
            None => Budget {
                bytes: available_memory(),
                from: "the memory this machine has available; --max-memory sets another".into(),
            },
        }
    }
}

/// Parses a `--max-memory` value: a byte count with an optional unit (`512M`, `8G`,
/// `8 GiB`, `1.5GB`).
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    text.trim()
        .parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .map_err(|e| SizeError {
            text: text.to_string(),
            reason: e.to_string(),
        })
}

/// A `--max-memory` value that is not a size.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a size ({reason}); write e.g. 512M, 8G or 8GiB")]
pub struct SizeError {
    /// What was given.
    pub text: String,
    /// Why it does not parse.
    pub reason: String,
}

impl Estimate {
    /// Refuses the run when the estimate exceeds the budget.
    pub fn check(&self, source: &str, budget: &Budget) -> Result<(), LimitError> {
        match budget.bytes {
            Some(b) if self.bytes > b => Err(LimitError {
                source_name: source.to_string(),
                estimate: self.clone(),
                budget: b,
                budget_from: budget.from.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// One line for humans: `about 1.2 GiB, 3000000 iterations`.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            "about {} of memory, {} simulated iterations",
            human(self.bytes),
            self.iterations
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("512M").unwrap(), 512_000_000);
        assert_eq!(parse_size("8GiB").unwrap(), 8 << 30);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert!(parse_size("lots")
            .unwrap_err()
            .to_string()
            .contains("`lots` is not a size"));
    }

    #[test]
    fn the_default_scenario_is_small_and_a_tiny_budget_refuses_it() {
        let s = Scenario::default_scenario();
        let e = estimate(&s, 2);
        assert!(e.bytes < 64 << 20, "{}", e.summary());
        assert_eq!(e.iterations % u64::from(s.replications), 0);
        let err = e
            .check(
                "<default>",
                &Budget {
                    bytes: Some(1000),
                    from: "--max-memory".into(),
                },
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("<default>: the run would need about "),
            "{err}"
        );
        assert!(
            err.contains("more than the 1000 B budget (--max-memory)"),
            "{err}"
        );
        assert!(e.check("x", &Budget::new(None)).is_ok());
    }
}
