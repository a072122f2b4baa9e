//! `specsim sweep` and `specsim merge`: parameter sweeps, sharded, resumable.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::{failure, with_threads, CliError, EXIT_BAD_INPUT};
use crate::io::report::Report;
use crate::io::results::{manifest, merge, Results, MANIFEST};
use crate::runner;
use crate::sweep::{Cell, Shard, Sweep};

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
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Shard output directories.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Directory for the merged results.
    #[arg(long)]
    out: PathBuf,
}

fn bad(message: impl Into<String>) -> CliError {
    CliError {
        code: EXIT_BAD_INPUT,
        message: message.into(),
    }
}

fn pick_shard(a: &SweepArgs) -> Result<Shard, CliError> {
    if let Some(s) = &a.shard {
        return Shard::parse(s).map_err(|e| bad(format!("--shard: {e}")));
    }
    Shard::from_env(|k| std::env::var(k).ok(), a.shards)
        .map(|s| s.unwrap_or(Shard::ALL))
        .map_err(bad)
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

    fn advance(&mut self, n: usize) {
        self.done += n;
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

fn run_cell(sweep: &Sweep, cell: &Cell) -> Result<Vec<serde_json::Value>, CliError> {
    let scenario = sweep.scenario(cell).map_err(|e| {
        bad(format!(
            "sweep cell {} ({}): {e}",
            cell.id,
            cell.coords
                .iter()
                .map(|(p, v)| format!("{p}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let report = Report::new(&scenario, &runner::run(&scenario));
    Ok(report
        .policies
        .iter()
        .map(|r| crate::io::results::row_value(cell, r))
        .collect())
}

pub fn sweep(a: SweepArgs) -> Result<(), CliError> {
    let started = Instant::now();
    let sweep = Sweep::load(&a.scenario)?;
    let shard = pick_shard(&a)?;
    let name = sweep.name.clone();
    let mut results = Results::new(&sweep.axes);
    if a.out.join(MANIFEST).exists() {
        if !a.resume {
            return Err(bad(format!(
                "{}: holds results already; pass --resume to continue them or choose another --out",
                a.out.display()
            )));
        }
        let (m, r, _) = Results::read(&a.out).map_err(|e| bad(e.to_string()))?;
        if m.scenario_hash != sweep.scenario_hash {
            return Err(bad(format!(
                "{}: results of a different scenario (hash {} vs {}): cannot resume",
                a.out.display(),
                m.scenario_hash,
                sweep.scenario_hash
            )));
        }
        if m.shard != shard.to_string() {
            return Err(bad(format!(
                "{}: results of shard {} but this run is shard {shard}",
                a.out.display(),
                m.shard
            )));
        }
        results = r;
    }
    let mine: Vec<&Cell> = sweep.cells.iter().filter(|c| shard.owns(c.index)).collect();
    let mut todo: Vec<&Cell> = mine
        .iter()
        .copied()
        .filter(|c| !results.has(c.index))
        .collect();
    if let Some(max) = a.max_cells {
        todo.truncate(max);
    }
    let write = |results: &Results| {
        let m = manifest(
            &name,
            &sweep.scenario_hash,
            &sweep.axes,
            &sweep.cells,
            shard,
            results.len(),
        );
        results
            .write(&a.out, &m)
            .map_err(|e| failure(e.to_string()))
    };
    write(&results)?;
    let already = mine.iter().filter(|c| results.has(c.index)).count();
    let mut progress = Progress::new(mine.len(), already, a.quiet);
    let threads = a
        .threads
        .map_or_else(rayon::current_num_threads, |t| t as usize);
    let batch = (threads * 4).max(todo.len() / 20 + 1).min(256);
    for chunk in todo.chunks(batch) {
        let rows: Vec<Result<Vec<serde_json::Value>, CliError>> = with_threads(a.threads, || {
            chunk.par_iter().map(|c| run_cell(&sweep, c)).collect()
        })?;
        for (c, r) in chunk.iter().zip(rows) {
            results.insert(c.index, r?);
        }
        write(&results)?;
        progress.advance(chunk.len());
    }
    progress.finish();
    let overloaded: std::collections::BTreeSet<&str> = results
        .rows()
        .filter(|r| r["fetch_overloaded"] == true)
        .filter_map(|r| r["cell"].as_str())
        .collect();
    if !overloaded.is_empty() {
        eprintln!("sweep: warning: {} of {} cells have a policy whose fetcher has no steady state (column fetch_overloaded: offered fetch load >= 1 per slot, or a batch sharing limited slots); their results grow with the number of sessions", overloaded.len(), results.len());
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
            mine.len(),
            todo.len(),
            started.elapsed().as_secs_f64(),
            a.out.display()
        );
    }
    Ok(())
}

pub fn merge_cmd(a: MergeArgs) -> Result<(), CliError> {
    let merged = merge(&a.dirs).map_err(|e| bad(e.to_string()))?;
    merged
        .results
        .write(&a.out, &merged.manifest)
        .map_err(|e| failure(e.to_string()))?;
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
        return Err(failure(format!(
            "{} cells missing from every shard: {}",
            merged.missing.len(),
            merged.missing.join(", ")
        )));
    }
    Ok(())
}
