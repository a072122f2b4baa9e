//! The command-line interface: argument parsing, exit codes, where output goes.
//!
//! Exit codes: 0 success, 1 the run failed, 2 bad usage or bad input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Parser, Subcommand};

use crate::report::Report;
use crate::runner;
use crate::scenario::{Scenario, ScenarioError};

/// Exit code for a failed run.
pub const EXIT_FAILURE: i32 = 1;
/// Exit code for bad usage or bad input.
pub const EXIT_BAD_INPUT: i32 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "specsim",
    version,
    about = "How much would speculative prefetching (SpecCache) speed up your LLM web agent?",
    long_about = "specsim is a deterministic discrete-event simulator of SpecCache (arXiv 2510.16276): \
a draft LLM predicts the target LLM's next clicks and prefetches the pages into a small cache while \
the target thinks. It replays agent trajectories under several policies and reports speedups with \
95% confidence intervals.",
    after_help = "Examples:\n  specsim run                         # the embedded WebWalkerQA-like default\n  specsim run scenarios/default.json --json > report.json\n  specsim run my.json --seed 7 --threads 2"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario and print one row per policy.
    #[command(
        after_help = "Examples:\n  specsim run\n  specsim run scenarios/default.json --json\n  specsim run my.json --seed 7 --out report.json"
    )]
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Scenario file (JSON). Without it, the embedded default scenario runs.
    scenario: Option<PathBuf>,
    /// Print the report as JSON (fields documented in docs/report.md) instead of a table.
    #[arg(long)]
    json: bool,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    threads: Option<u32>,
    /// Also write the JSON report to this file (atomically).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// An error with the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    /// Exit code.
    pub code: i32,
    /// Message for stderr.
    pub message: String,
}

impl From<ScenarioError> for CliError {
    fn from(e: ScenarioError) -> Self {
        let code = match e {
            ScenarioError::Io { .. } => EXIT_BAD_INPUT,
            _ => EXIT_BAD_INPUT,
        };
        CliError {
            code,
            message: e.to_string(),
        }
    }
}

fn failure(message: impl Into<String>) -> CliError {
    CliError {
        code: EXIT_FAILURE,
        message: message.into(),
    }
}

/// Entry point of the binary; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_BAD_INPUT } else { 0 };
        }
    };
    match dispatch(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {}", e.message);
            e.code
        }
    }
}

fn dispatch(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Run(a) => run(a),
    }
}

/// Runs `f` on a rayon pool of `threads` workers (or the global pool).
pub fn with_threads<T: Send>(
    threads: Option<u32>,
    f: impl FnOnce() -> T + Send,
) -> Result<T, CliError> {
    match threads {
        None => Ok(f()),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n as usize)
            .build()
            .map(|pool| pool.install(f))
            .map_err(|e| failure(format!("cannot start {n} threads: {e}"))),
    }
}

/// Loads a scenario file, or the embedded default when `path` is `None`.
pub fn load_scenario(path: Option<&Path>, seed: Option<u64>) -> Result<Scenario, CliError> {
    let mut scenario = match path {
        Some(p) => Scenario::load(p)?,
        None => Scenario::default_scenario(),
    };
    if let Some(s) = seed {
        let mut file = scenario.file.clone();
        file.seed = s;
        let base = path.and_then(Path::parent);
        scenario = Scenario::build(file, &scenario.source, base)?;
    }
    Ok(scenario)
}

fn run(a: RunArgs) -> Result<(), CliError> {
    let scenario = load_scenario(a.scenario.as_deref(), a.seed)?;
    let started = Instant::now();
    let outcome = with_threads(a.threads, || runner::run(&scenario))?;
    let report = Report::new(&scenario, &outcome);
    let wall = started.elapsed();
    if let Some(out) = &a.out {
        write_atomic(out, report.to_json().as_bytes())
            .map_err(|e| failure(format!("{}: cannot write report: {e}", out.display())))?;
    }
    let text = if a.json {
        report.to_json()
    } else {
        report.to_table()
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(failure(format!("cannot write to stdout: {e}")));
        }
    }
    let events = report.events();
    eprintln!(
        "wall time {:.3} s, {} simulated events ({:.1} M events/s)",
        wall.as_secs_f64(),
        events,
        events as f64 / wall.as_secs_f64().max(1e-9) / 1e6
    );
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, synced,
/// then renamed over the target. An interrupted write leaves the old file or none.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
