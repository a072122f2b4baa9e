//! `specsim sweep` and `specsim merge`: parameter sweeps, sharded, resumable.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{failure, CliError, EXIT_BAD_INPUT};
use crate::io::results::{ResultsError, FILES};
use crate::scenario::limits::{self, Budget, LimitError};
use crate::scenario::Scenario;
use crate::sweep::merge::merge;
use crate::sweep::run::{run, RunOptions, SweepError};
use crate::sweep::{Shard, Sweep};

#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Scenario file with a `sweep` section.
    scenario: PathBuf,
    /// Output directory (results.csv, results.jsonl, manifest.json).
    #[arg(long)]
    out: PathBuf,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    threads: Option<u32>,
    /// Run only shard I of N (1-based), e.g. 2/8. Default: from Slurm or Kubernetes
    /// array-job variables, else the whole sweep.
    #[arg(long)]
    shard: Option<String>,
    /// Number of shards when it comes from JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    shards: Option<u32>,
    /// Continue an interrupted sweep in --out, running only the missing cells.
    #[arg(long)]
    resume: bool,
    /// Stop after this many cells (the output stays valid; continue with --resume).
    #[arg(long)]
    max_cells: Option<usize>,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
    /// Also draw the sweep's figures (SVG and PNG) into this directory at the end.
    #[arg(long)]
    plots: Option<PathBuf>,
    /// Refuse a sweep whose cells, run --threads at a time, are estimated to need more
    /// memory than this (e.g. 512M, 8G; default: the memory this machine has available).
    #[arg(long, value_parser = crate::scenario::limits::parse_size)]
    max_memory: Option<u64>,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Shard output directories.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Directory for the merged results (new or empty: merge never overwrites results).
    #[arg(long)]
    out: PathBuf,
}

fn bad(message: impl Into<String>) -> CliError {
    CliError {
        code: EXIT_BAD_INPUT,
        message: message.into(),
    }
}

impl From<SweepError> for CliError {
    fn from(e: SweepError) -> Self {
        CliError::classified(e.is_bad_input(), e)
    }
}

impl From<LimitError> for CliError {
    fn from(e: LimitError) -> Self {
        bad(e.to_string())
    }
}

/// Refuses to run `scenario` when it is estimated to need more memory than `max_memory` (or
/// than the machine has available); mentions a long run on stderr.
pub(crate) fn check_memory(
    scenario: &Scenario,
    threads: Option<u32>,
    max_memory: Option<u64>,
) -> Result<(), CliError> {
    let threads = threads.map_or_else(rayon::current_num_threads, |t| t as usize);
    let estimate = limits::estimate(scenario, threads);
    estimate.check(&scenario.source, &Budget::new(max_memory))?;
    if estimate.iterations > LONG_RUN_ITERATIONS {
        eprintln!(
            "note: {}: {}; this may take a long time",
            scenario.source,
            estimate.summary()
        );
    }
    Ok(())
}

/// Simulated iterations past which a run is announced as long (about a minute at the
/// engine's speed on one core).
const LONG_RUN_ITERATIONS: u64 = 100_000_000;

impl From<ResultsError> for CliError {
    fn from(e: ResultsError) -> Self {
        SweepError::from(e).into()
    }
}

fn pick_shard(a: &SweepArgs) -> Result<Shard, CliError> {
    if let Some(s) = &a.shard {
        return Shard::parse(s).map_err(|e| bad(format!("--shard: {e}")));
    }
    Shard::from_env(|k| std::env::var(k).ok(), a.shards)
        .map(|s| s.unwrap_or(Shard::ALL))
        .map_err(|e| bad(e.to_string()))
}

/// Progress on stderr: a bar on a terminal, plain lines otherwise, nothing when quiet.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    plain: bool,
    total: usize,
    done: usize,
    initial: usize,
    started: Instant,
    last: Instant,
}

impl Progress {
    fn new(total: usize, done: usize, quiet: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let b = indicatif::ProgressBar::new(total as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} cells  {per_sec}  ETA {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.set_position(done as u64);
            b
        });
        Progress {
            bar,
            plain: !quiet && !terminal,
            total,
            done,
            initial: done,
            started: Instant::now(),
            last: Instant::now(),
        }
    }

    fn advance_to(&mut self, done: usize) {
        self.done = done;
        if let Some(b) = &self.bar {
            b.set_position(self.done as u64);
        } else if self.plain
            && (self.last.elapsed() >= Duration::from_secs(10) || self.done == self.total)
        {
            self.last = Instant::now();
            let secs = self.started.elapsed().as_secs_f64();
            eprintln!(
                "sweep: {}/{} cells, {:.1} cells/s",
                self.done,
                self.total,
                (self.done - self.initial) as f64 / secs.max(1e-9)
            );
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

pub fn sweep(a: SweepArgs) -> Result<(), CliError> {
    let started = Instant::now();
    let sweep = Sweep::load(&a.scenario)?;
    let shard = pick_shard(&a)?;
    let options = RunOptions {
        shard,
        resume: a.resume,
        max_cells: a.max_cells,
        threads: a.threads.map(|t| t as usize),
        max_memory: a.max_memory,
    };
    let mut bar: Option<Progress> = None;
    let finished = run(&sweep, &a.out, &options, &mut |p| match &mut bar {
        None => bar = Some(Progress::new(p.total, p.done, a.quiet)),
        Some(b) => b.advance_to(p.done),
    })?;
    if let Some(b) = &bar {
        b.finish();
    }
    let results = finished.results;
    let overloaded: std::collections::BTreeSet<&str> = results
        .rows()
        .filter(|r| r["fetch_overloaded"] == true)
        .filter_map(|r| r["cell"].as_str())
        .collect();
    if !overloaded.is_empty() {
        eprintln!("sweep: warning: {} of {} cells have a policy whose fetcher has no steady state (column fetch_overloaded: the fetch load that cannot be shed is >= 1 per slot, or a batch shares limited slots); their results grow with the number of sessions", overloaded.len(), results.len());
    }
    if let Some(dir) = &a.plots {
        super::write_plots(dir, || {
            let rows = crate::plot::rows_from_values(results.rows())?;
            crate::plot::plot_sweep(
                &rows,
                dir,
                &crate::plot::SweepOptions::default(),
                &crate::plot::Format::ALL,
            )
        })?;
    }
    if !a.quiet {
        eprintln!(
            "sweep: {} of {} cells of shard {shard} done ({} run now) in {:.2} s -> {}",
            results.len(),
            finished.cells_in_shard,
            finished.cells_run,
            started.elapsed().as_secs_f64(),
            a.out.display()
        );
    }
    Ok(())
}

/// Refuses an `--out` that exists and holds anything: merge writes the three result files
/// and, like `sweep`, never overwrites results.
fn fresh_out(out: &std::path::Path) -> Result<(), CliError> {
    match std::fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(bad(format!(
                    "{}: exists and is not empty; merge writes {} there and never overwrites results: choose a new --out or empty this one",
                    out.display(),
                    FILES.join(", ")
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Err(bad(format!(
            "{}: is a file; --out must be a new or empty directory",
            out.display()
        ))),
        Err(e) => Err(failure(format!("{}: cannot read: {e}", out.display()))),
    }
}

pub fn merge_cmd(a: MergeArgs) -> Result<(), CliError> {
    fresh_out(&a.out)?;
    let merged = merge(&a.dirs)?;
    merged.results.write(&a.out, &merged.manifest)?;
    if !merged.duplicated.is_empty() {
        eprintln!(
            "merge: {} cells appeared in more than one shard (identical, kept once): {}",
            merged.duplicated.len(),
            merged.duplicated.join(", ")
        );
    }
    eprintln!(
        "merge: {} of {} cells -> {}",
        merged.manifest.cells_done,
        merged.manifest.cells_total,
        a.out.display()
    );
    if !merged.missing.is_empty() {
        return Err(failure(merged.missing_summary()));
    }
    Ok(())
}
