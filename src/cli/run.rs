//! `specsim run`: one scenario, one report.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use super::{failure, load_scenario, with_threads, CliError};
use crate::io::output::write_atomic;
use crate::io::report::Report;
use crate::runner;
use crate::scenario::Scenario;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario file (JSON), or a trace (`.jsonl`) to replay. Without it, the embedded
    /// default scenario runs.
    scenario: Option<PathBuf>,
    /// Replay this trace (JSON Lines, docs/trace.md) with the default scenario's
    /// distributions for what it did not record.
    #[arg(long, conflicts_with = "scenario")]
    trace: Option<PathBuf>,
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
    /// Also draw the report's figures (SVG and PNG) into this directory.
    #[arg(long)]
    plots: Option<PathBuf>,
    /// Refuse a run estimated to need more memory than this (e.g. 512M, 8G; default: the
    /// memory this machine has available).
    #[arg(long, value_parser = crate::scenario::limits::parse_size)]
    max_memory: Option<u64>,
}

pub fn run(a: RunArgs) -> Result<(), CliError> {
    let trace = a.trace.clone().or_else(|| {
        a.scenario
            .clone()
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
    });
    let scenario = match &trace {
        Some(t) => trace_scenario(t, a.seed)?,
        None => load_scenario(a.scenario.as_deref(), a.seed)?,
    };
    super::sweep::check_memory(&scenario, a.threads, a.max_memory)?;
    let started = Instant::now();
    let outcome = with_threads(a.threads, || runner::run(&scenario))?;
    let report = Report::new(&scenario, &outcome);
    let wall = started.elapsed();
    if let Some(out) = &a.out {
        write_atomic(out, report.to_json().as_bytes())
            .map_err(|e| failure(format!("{}: cannot write report: {e}", out.display())))?;
    }
    if let Some(dir) = &a.plots {
        super::write_plots(dir, || crate::plot::plot_report(&report, dir))?;
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

/// The default scenario replaying `trace`, with its seed overridden.
fn trace_scenario(trace: &std::path::Path, seed: Option<u64>) -> Result<Scenario, CliError> {
    let replay = crate::io::replay::load_trace(trace)?;
    let s = &replay.stats;
    eprintln!(
        "trace {}: {} sessions, {} iterations ({} clicks, {} backs, {} answers); recorded: {} target calls, {} fetches, {} root fetches, {} stage sets, {} draft calls; {} pages, {} placeholders for recorded out-degrees, {} pages with unknown links",
        trace.display(),
        s.sessions,
        s.iterations,
        s.clicks,
        s.backs,
        s.answers,
        s.recorded_target,
        s.recorded_fetch,
        s.recorded_root_fetch,
        s.recorded_stages,
        s.recorded_drafts,
        s.pages,
        s.placeholder_pages,
        s.pages_unknown_degree
    );
    let mut scenario = Scenario::for_replay(trace, std::sync::Arc::new(replay))?;
    if let Some(s) = seed {
        scenario = scenario.with_seed(s)?;
    }
    Ok(scenario)
}

impl From<crate::io::trace::TraceError> for CliError {
    fn from(e: crate::io::trace::TraceError) -> Self {
        CliError {
            code: super::EXIT_BAD_INPUT,
            message: e.to_string(),
        }
    }
}
