//! Running a sweep into a results directory: cells in parallel batches, each batch committed
//! to disk, resumable, sharded, with progress reported through a callback.
//!
//! Any command that needs many variants of a scenario (`sweep`, and calibration or tuning
//! commands) runs them through [`run`], and gets resume, shards and determinism for free:
//!
//! ```no_run
//! use std::path::Path;
//! use specsim::sweep::{run::{run, RunOptions}, Sweep};
//!
//! let sweep = Sweep::load(Path::new("scenarios/paper-grid.json"))?;
//! let options = RunOptions { resume: true, threads: Some(2), ..RunOptions::default() };
//! let finished = run(&sweep, Path::new("results/grid"), &options, &mut |p| {
//!     eprintln!("{}/{} cells", p.done, p.total);
//! })?;
//! assert_eq!(finished.results.len(), finished.cells_in_shard);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Determinism: a cell's rows depend only on the scenario and the cell (never on the thread
//! count, the batch size, the shard or what ran before), and rows are kept in enumeration
//! order, so a resumed or merged sweep is byte-identical to one uninterrupted run.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;

use crate::io::report::Report;
use crate::io::results::{row_value, Manifest, Results, ResultsError, MANIFEST};
use crate::runner;
use crate::scenario::limits::{estimate, prepared_bytes, Budget, LimitError};
use crate::scenario::{Scenario, ScenarioError};
use crate::sweep::{Cell, Shard, Sweep};

/// How to run a sweep.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The part of the cells to run.
    pub shard: Shard,
    /// Continue the results already in the directory (else a directory holding results is
    /// refused).
    pub resume: bool,
    /// Stop after this many cells (the results stay valid; continue with `resume`).
    pub max_cells: Option<usize>,
    /// Worker threads (default: the current rayon pool). Results do not depend on it.
    pub threads: Option<usize>,
    /// Refuse to start when the cells to run, `threads` at a time, are estimated to need
    /// more memory than this many bytes (default: what the machine has available).
    pub max_memory: Option<u64>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            shard: Shard::ALL,
            resume: false,
            max_cells: None,
            threads: None,
            max_memory: None,
        }
    }
}

/// Where a running sweep stands, after each committed batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Cells of the shard finished (earlier runs included).
    pub done: usize,
    /// Cells in the shard.
    pub total: usize,
    /// Cells that were finished before this run started.
    pub resumed: usize,
}

/// A sweep run that ended without error.
#[derive(Debug)]
pub struct Finished {
    /// Every finished cell's rows (as committed in the directory).
    pub results: Results,
    /// Cells in the shard.
    pub cells_in_shard: usize,
    /// Cells run by this call.
    pub cells_run: usize,
}

/// Why a sweep cannot run or stopped.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The scenario (or its sweep section) is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// One cell's scenario is invalid (validation of every axis value should have caught it).
    #[error("sweep cell {cell} ({coords}): {source}")]
    Cell {
        /// Cell id.
        cell: String,
        /// Its coordinates, `path=value, ...`.
        coords: String,
        /// What is wrong.
        source: ScenarioError,
    },
    /// The directory holds results and `resume` was not asked for.
    #[error("{}: holds results already; pass --resume to continue them or choose another --out", dir.display())]
    Exists {
        /// The directory.
        dir: PathBuf,
    },
    /// The directory holds results of another scenario.
    #[error("{}: results of a different scenario (hash {found} vs {expected}): cannot resume", dir.display())]
    OtherScenario {
        /// The directory.
        dir: PathBuf,
        /// Hash in the directory.
        found: String,
        /// Hash of this scenario.
        expected: String,
    },
    /// The directory holds results of another shard.
    #[error("{}: results of shard {found} but this run is shard {expected}", dir.display())]
    OtherShard {
        /// The directory.
        dir: PathBuf,
        /// Shard in the directory.
        found: String,
        /// This run's shard.
        expected: Shard,
    },
    /// The cells would not fit in memory.
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// Reading or writing the results failed.
    #[error(transparent)]
    Results(#[from] ResultsError),
    /// The worker threads could not start.
    #[error("cannot start {threads} threads: {message}")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// Why not.
        message: String,
    },
}

impl SweepError {
    /// True for problems with the input (exit code 2) rather than failures of the run.
    pub fn is_bad_input(&self) -> bool {
        match self {
            SweepError::Results(e) => e.is_bad_input(),
            SweepError::Threads { .. } => false,
            _ => true,
        }
    }
}

/// The scenario of one cell.
fn cell_scenario(sweep: &Sweep, cell: &Cell) -> Result<Scenario, SweepError> {
    sweep.scenario(cell).map_err(|e| SweepError::Cell {
        cell: cell.id.clone(),
        coords: cell.describe(),
        source: e,
    })
}

/// The rows of one cell from its outcome: one row per policy the scenario reports.
fn rows_of(cell: &Cell, scenario: &Scenario, outcome: &runner::Outcome) -> Vec<Value> {
    Report::rows(scenario, outcome)
        .iter()
        .map(|r| row_value(&cell.id, &cell.coords, r))
        .collect()
}

/// The rows of one cell: its scenario run, one row per policy the scenario reports.
pub fn cell_rows(sweep: &Sweep, cell: &Cell) -> Result<Vec<Value>, SweepError> {
    let scenario = cell_scenario(sweep, cell)?;
    Ok(rows_of(cell, &scenario, &runner::run(&scenario)))
}

/// Most memory a family's prepared replications may take, a larger family's cells running
/// each on its own; and most memory the policy runs its members share may take, the rest
/// running in each member.
const FAMILY_MAX_BYTES: u64 = 256 << 20;

/// The rows of a batch of cells, in order. Cells of one family ([`Sweep::family`]) share
/// their prepared replications and the policy runs their rules allow ([`runner::Family`]);
/// the rows are the same as [`cell_rows`] gives cell by cell.
fn batch_rows(sweep: &Sweep, chunk: &[&Cell]) -> Vec<Result<Vec<Value>, SweepError>> {
    let scenarios: Vec<Result<Scenario, SweepError>> =
        chunk.par_iter().map(|c| cell_scenario(sweep, c)).collect();
    // Families with two or more members whose preparation fits the budget, in order of
    // their first cell; every other cell runs alone.
    let mut families: Vec<(String, Vec<(usize, &Scenario)>)> = Vec::new();
    for (i, c) in chunk.iter().enumerate() {
        let Ok(sc) = &scenarios[i] else { continue };
        let Some(key) = sweep.family(c) else { continue };
        if prepared_bytes(sc) > FAMILY_MAX_BYTES {
            continue;
        }
        match families.iter_mut().find(|f| f.0 == key) {
            Some(f) => f.1.push((i, sc)),
            None => families.push((key, vec![(i, sc)])),
        }
    }
    families.retain(|f| f.1.len() > 1);
    let mut rows: Vec<Option<Result<Vec<Value>, SweepError>>> =
        (0..chunk.len()).map(|_| None).collect();
    for (_, members) in &families {
        let scs: Vec<&Scenario> = members.iter().map(|&(_, sc)| sc).collect();
        let family = runner::Family::prepare(&scs, FAMILY_MAX_BYTES);
        let done: Vec<Vec<Value>> = members
            .par_iter()
            .map(|&(i, sc)| rows_of(chunk[i], sc, &family.run(sc)))
            .collect();
        for (&(i, _), r) in members.iter().zip(done) {
            rows[i] = Some(Ok(r));
        }
    }
    let alone: Vec<(usize, Result<Scenario, SweepError>)> = scenarios
        .into_iter()
        .enumerate()
        .filter(|(i, _)| rows[*i].is_none())
        .collect();
    let done: Vec<(usize, Result<Vec<Value>, SweepError>)> = alone
        .into_par_iter()
        .map(|(i, sc)| (i, sc.map(|sc| rows_of(chunk[i], &sc, &runner::run(&sc)))))
        .collect();
    for (i, r) in done {
        rows[i] = Some(r);
    }
    rows.into_iter()
        .map(|r| r.expect("every cell of the batch ran"))
        .collect()
}

/// The manifest of `shard` of `sweep` (cells done and checksums are filled in on write).
pub fn manifest(sweep: &Sweep, shard: Shard) -> Manifest {
    Manifest {
        tool: "specsim".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        scenario: sweep.name.clone(),
        scenario_hash: sweep.scenario_hash.clone(),
        axes: sweep.axes.clone(),
        cells_total: sweep.cells.len(),
        shard: shard.to_string(),
        cells_in_shard: sweep.cells_of(shard).count(),
        cells_done: 0,
        complete: false,
        cell_ids: sweep.cells.iter().map(|c| c.id.clone()).collect(),
        committed: None,
    }
}

/// The results already in `out` for this sweep and shard (none when `out` holds no
/// manifest); refuses a directory with results unless `resume`.
pub fn existing(
    sweep: &Sweep,
    out: &Path,
    shard: Shard,
    resume: bool,
) -> Result<Results, SweepError> {
    if !out.join(MANIFEST).exists() {
        return Ok(Results::new(&sweep.axes));
    }
    if !resume {
        return Err(SweepError::Exists {
            dir: out.to_path_buf(),
        });
    }
    let (m, r) = Results::read(out)?;
    if m.scenario_hash != sweep.scenario_hash {
        return Err(SweepError::OtherScenario {
            dir: out.to_path_buf(),
            found: m.scenario_hash,
            expected: sweep.scenario_hash.clone(),
        });
    }
    if m.shard != shard.to_string() {
        return Err(SweepError::OtherShard {
            dir: out.to_path_buf(),
            found: m.shard,
            expected: shard,
        });
    }
    Ok(r)
}

fn in_pool<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> Result<T, SweepError> {
    match threads {
        None => Ok(f()),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map(|pool| pool.install(f))
            .map_err(|e| SweepError::Threads {
                threads: n,
                message: e.to_string(),
            }),
    }
}

/// Refuses cells that, `threads` at a time, would need more memory than the budget: the
/// largest cell's estimate times the cells in flight.
pub fn check_memory(
    sweep: &Sweep,
    cells: &[&Cell],
    threads: usize,
    max_memory: Option<u64>,
) -> Result<(), SweepError> {
    let budget = Budget::new(max_memory);
    let in_flight = threads.clamp(1, cells.len().max(1)) as u64;
    let mut worst: Option<(&Cell, crate::scenario::limits::Estimate)> = None;
    for c in cells {
        let scenario = sweep.scenario(c).map_err(|e| SweepError::Cell {
            cell: c.id.clone(),
            coords: c.describe(),
            source: e,
        })?;
        let e = estimate(&scenario, threads);
        if worst.as_ref().is_none_or(|(_, w)| e.bytes > w.bytes) {
            worst = Some((c, e));
        }
    }
    let Some((cell, mut e)) = worst else {
        return Ok(());
    };
    if in_flight > 1 {
        e.bytes = e.bytes.saturating_mul(in_flight);
        e.parts.insert(
            0,
            (
                format!("{in_flight} cells in flight at once (--threads), each"),
                e.bytes / in_flight,
            ),
        );
    }
    let name = format!(
        "{} (largest cell {}: {})",
        sweep.source,
        cell.id,
        cell.describe()
    );
    e.check(&name, &budget)?;
    Ok(())
}

/// Runs the cells of `options.shard` that `out` does not hold yet, committing the results
/// of every batch (while the next one runs); `progress` hears after each commit.
pub fn run(
    sweep: &Sweep,
    out: &Path,
    options: &RunOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Finished, SweepError> {
    let shard = options.shard;
    let mut results = existing(sweep, out, shard, options.resume)?;
    let mine: Vec<&Cell> = sweep.cells_of(shard).collect();
    let mut todo: Vec<&Cell> = mine
        .iter()
        .copied()
        .filter(|c| !results.has(c.index))
        .collect();
    if let Some(max) = options.max_cells {
        todo.truncate(max);
    }
    let threads = options.threads.unwrap_or_else(rayon::current_num_threads);
    check_memory(sweep, &todo, threads, options.max_memory)?;
    let base = manifest(sweep, shard);
    results.write(out, &base)?;
    let resumed = results.len();
    progress(Progress {
        done: resumed,
        total: mine.len(),
        resumed,
    });
    // Batches only set how often results are committed: large enough to keep every thread
    // busy and to commit at most ~20 times, small enough to lose little to a kill.
    let batch = (threads * 4).max(todo.len() / 20 + 1).min(256);
    let total = mine.len();
    let mut committed = |results: &Results| {
        progress(Progress {
            done: results.len(),
            total,
            resumed,
        })
    };
    // Rows inserted since the last write.
    let mut pending = false;
    for chunk in todo.chunks(batch) {
        // The previous batch is written while this one runs: writing is copying and I/O
        // that the simulation need not wait for (with 2 threads it was 5-8 % of the bench
        // sweep's wall time). A kill may then lose the batch being written too.
        let (written, rows) = std::thread::scope(|scope| {
            let writer = pending.then(|| scope.spawn(|| results.write(out, &base)));
            let rows = in_pool(options.threads, || batch_rows(sweep, chunk));
            let written = writer.map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            (written, rows)
        });
        if let Some(w) = written {
            w?;
            committed(&results);
        }
        for (c, r) in chunk.iter().zip(rows?) {
            results.insert(c.index, &c.id, r?);
        }
        pending = true;
    }
    if pending {
        results.write(out, &base)?;
        committed(&results);
    }
    Ok(Finished {
        results,
        cells_in_shard: mine.len(),
        cells_run: todo.len(),
    })
}
