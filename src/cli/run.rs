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
    /// distributions for what it did not record. With your own scenario's distributions:
    /// name the trace in its `"trajectories": {"trace": FILE}` instead.
    #[arg(long)]
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
    /// No progress bar, trace summary or wall time on stderr (errors are still printed).
    #[arg(long, short)]
    quiet: bool,
    /// Refuse a run estimated to need more memory than this (e.g. 512M, 8G; default: the
    /// memory this machine has available).
    #[arg(long, value_parser = crate::scenario::limits::parse_size)]
    max_memory: Option<u64>,
}

/// Whether a run shows a progress bar: on a terminal, unless quiet (piped output stays
/// clean for logs and scripts).
fn shows_progress(quiet: bool, stderr_is_terminal: bool) -> bool {
    !quiet && stderr_is_terminal
}

/// Whether `NO_COLOR` asks for no colour (set and not empty, as no-color.org says).
fn no_color(value: Option<std::ffi::OsString>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// The progress bar's template: coloured unless `no_color`.
fn bar_template(no_color: bool) -> &'static str {
    if no_color {
        "{spinner} {bar:30} {pos}/{len} replications  {elapsed} elapsed, ETA {eta}"
    } else {
        "{spinner:.cyan} {bar:30.cyan/blue} {pos}/{len} replications  {elapsed} elapsed, ETA {eta}"
    }
}

/// A progress bar over `replications` on stderr, or `None` when it is not to be shown.
fn progress(replications: u32, quiet: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !shows_progress(quiet, std::io::stderr().is_terminal()) {
        return None;
    }
    let style = indicatif::ProgressStyle::with_template(bar_template(no_color(std::env::var_os(
        "NO_COLOR",
    ))))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    let bar = indicatif::ProgressBar::new(u64::from(replications)).with_style(style);
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}

pub fn run(a: RunArgs) -> Result<(), CliError> {
    if let (Some(scenario), Some(trace)) = (&a.scenario, &a.trace) {
        // The path to paste: absolute, since a scenario's relative paths resolve against
        // its own directory.
        let pasted = std::path::absolute(trace).unwrap_or_else(|_| trace.clone());
        return Err(CliError {
            code: super::EXIT_BAD_INPUT,
            message: format!(
                "--trace {t}: not with a scenario file ({s}). To replay the trace with {s}'s \
                 distributions, replace its `site` and `agent` by \"trajectories\": {{\"trace\": {p}}} \
                 (docs/scenario.md) and run `specsim run {s}`; to replay it with the default \
                 scenario's distributions, run `specsim run {t}`",
                t = trace.display(),
                s = scenario.display(),
                p = serde_json::Value::String(pasted.display().to_string()),
            ),
        });
    }
    let trace = a.trace.clone().or_else(|| {
        a.scenario
            .clone()
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
    });
    let scenario = match &trace {
        Some(t) => trace_scenario(t, a.seed, a.quiet)?,
        None => load_scenario(a.scenario.as_deref(), a.seed)?,
    };
    super::sweep::check_memory(&scenario, a.threads, a.max_memory)?;
    let started = Instant::now();
    let bar = progress(scenario.replications, a.quiet);
    let outcome = with_threads(a.threads, || {
        runner::run_observed(&scenario, || {
            if let Some(b) = &bar {
                b.inc(1);
            }
        })
    })?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
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
    for w in report.overload_warnings() {
        eprintln!("warning: {w}");
    }
    if a.quiet {
        return Ok(());
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
fn trace_scenario(
    trace: &std::path::Path,
    seed: Option<u64>,
    quiet: bool,
) -> Result<Scenario, CliError> {
    let replay = crate::io::replay::load_trace(trace)?;
    if replay.trajectories.is_empty() {
        // Said here, once: the scenario's check would name the file twice (as the scenario
        // and as its `trajectories.trace`).
        return Err(CliError {
            code: super::EXIT_BAD_INPUT,
            message: format!(
                "{}: the trace has no sessions: nothing to replay (a trace needs at least one `session` line; see docs/trace.md)",
                trace.display()
            ),
        });
    }
    let s = &replay.stats;
    if !quiet {
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
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_only_on_a_terminal_and_not_quiet() {
        assert!(shows_progress(false, true));
        assert!(!shows_progress(true, true), "--quiet");
        assert!(!shows_progress(false, false), "piped");
    }

    #[test]
    fn no_color_drops_the_colours() {
        assert!(no_color(Some("1".into())));
        assert!(
            !no_color(Some("".into())),
            "empty means unset (no-color.org)"
        );
        assert!(!no_color(None));
        assert!(!bar_template(true).contains(".cyan"));
        assert!(bar_template(false).contains(".cyan"));
        for t in [bar_template(true), bar_template(false)] {
            assert!(indicatif::ProgressStyle::with_template(t).is_ok(), "{t}");
        }
    }
}
