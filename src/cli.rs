//! The command-line interface: argument parsing, exit codes, where output goes.
//!
//! Exit codes: 0 success, 1 the run failed, 2 bad usage or bad input; `tune` also exits 3
//! when no configuration meets its goal.

use std::path::Path;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::scenario::{Scenario, ScenarioError};

mod calibrate;
mod collect;
mod crawl;
mod fit;
mod import;
mod live;
mod otel;
mod plot;
mod reproduce;
mod run;
mod serve;
mod study;
mod sweep;
mod tune;
mod validate;
mod whatif;

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
    after_help = "Examples:\n  specsim run                         # the embedded WebWalkerQA-like default\n  specsim run scenarios/default.json --json > report.json\n  specsim run my.json --seed 7 --threads 2 --plots figs/\n  specsim sweep scenarios/paper-grid.json --out results/grid\n  specsim plot results/grid --out figs/ --axis width\n  specsim reproduce\n  specsim fit latencies.csv --field fetch_s --out fetch.json\n  specsim live live.json -o run.jsonl && specsim validate run.jsonl --baseline none.jsonl\n  specsim collect --out spans.jsonl    # then: specsim import otel spans.jsonl --out agent.jsonl && specsim whatif agent.jsonl\n\nDocs: README.md and docs/ in the source tree."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario and print one row per policy.
    #[command(
        after_help = "Examples:\n  specsim run\n  specsim run scenarios/default.json --json\n  specsim run my.json --seed 7 --out report.json\n  specsim run traces/example.jsonl      # replay a recorded trace (docs/trace.md)"
    )]
    Run(run::RunArgs),
    /// Run the agent for real (HTTP site, OpenAI-compatible LLMs) and record a trace.
    #[command(
        after_help = "Examples:\n  specsim live live.json -o run.jsonl\n  specsim live live.json -o none.jsonl --policy none --sessions 5\n  specsim live live.json -o spec.jsonl --site http://127.0.0.1:8080/ --llm http://127.0.0.1:8081/v1\nSee docs/live.md for the configuration file."
    )]
    Live(live::LiveArgs),
    /// Serve a site as HTML pages on loopback, each after a delay from a latency profile.
    #[command(
        after_help = "Examples:\n  specsim serve-site --port 0                       # the default scenario's site\n  specsim serve-site my.json --port 8080\n  specsim serve-site --graph graph.json --latency '{\"dist\":\"constant\",\"value\":0.05}'\n  specsim serve-site --upstream http://127.0.0.1:8090 --profile traces/validation/profiles/fetch_har_documents.json --port 0"
    )]
    ServeSite(serve::ServeSiteArgs),
    /// Answer the Chat Completions API as a target and a draft that know a site.
    #[command(
        after_help = "Examples:\n  specsim serve-llm --port 0\n  specsim serve-llm my.json --port 8081 --accuracy '{\"top1\":0.6}'\n  specsim serve-llm my.json --target-model gpt-4.1 --draft-model gpt-4.1-mini\n  specsim serve-llm crawled.json --buttons g.buttons.json --target-replay measurements.jsonl --target-replay-model openai/gpt-4-turbo"
    )]
    ServeLlm(serve::ServeLlmArgs),
    /// Crawl a site into a graph file, with the live agent's link rules.
    #[command(
        after_help = "Examples:\n  specsim crawl http://127.0.0.1:8090/ --out site.graph.json --delay 0\n  specsim crawl https://docs.example.org/ --out docs.json --max-pages 300 --delay 2\n  specsim crawl URL --out g.json --buttons g.buttons.json --config live.json\n  specsim serve-llm scenario.json --buttons g.buttons.json   # scenario site: {\"generator\": \"file\", \"path\": \"g.json\"}\nRules and output: docs/live.md (Crawling a site)."
    )]
    Crawl(crawl::CrawlArgs),
    /// Compare a live trace with its replay in the simulator.
    #[command(
        after_help = "Examples:\n  specsim validate spec.jsonl --baseline none.jsonl\n  specsim validate spec.jsonl --baseline none.jsonl --json --max-error 0.05"
    )]
    Validate(validate::ValidateArgs),
    /// Import recorded navigation paths (Wikispeedia, wiki_speedrun) as traces.
    #[command(
        after_help = "Examples:\n  specsim import wikispeedia ../shared/data/wikispeedia --out /tmp/wsp.jsonl --summary wsp-summary.json\n  specsim import wiki-speedrun ../shared/data/wiki_speedrun/benchmark_results.jsonl --out /tmp/sr.jsonl --out-degree 81\n  specsim run /tmp/wsp.jsonl\n\nFormats and what is recorded: docs/import.md; the trace format: docs/trace.md."
    )]
    Import(import::ImportArgs),
    /// Run every cell of a scenario's sweep, in parallel, sharded and resumable.
    #[command(
        after_help = "Examples:\n  specsim sweep scenarios/paper-grid.json --out results/grid\n  specsim sweep grid.json --out results/grid --resume\n  specsim sweep grid.json --out results/s2 --shard 2/8\n  SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_COUNT=8 specsim sweep grid.json --out results/task3\n      (Slurm task IDs are read as 0-based: task 3 of 8 runs shard 4/8)"
    )]
    Sweep(sweep::SweepArgs),
    /// Join the outputs of sweep shards into one results directory.
    #[command(
        after_help = "Examples:\n  specsim merge results/s1 results/s2 results/s3 --out results/all"
    )]
    Merge(sweep::MergeArgs),
    /// Compare the paper's published figures with the calibrated scenarios' results.
    #[command(
        after_help = "Examples:\n  specsim reproduce\n  specsim reproduce --reduced --json\n  specsim reproduce --scenarios my-calibration/"
    )]
    Reproduce(reproduce::ReproduceArgs),
    /// Fit latency distributions to samples or a public dataset; write profiles.
    #[command(
        after_help = "Examples:\n  specsim fit latencies.csv --field fetch_s --out traces/profiles/fetch.json\n  specsim fit runs.jsonl --field timing.ttft --json\n  specsim fit calls.csv --ttft ttft_s --e2e latency_s --tokens output_tokens --out llm.json\n  specsim fit speed.csv --quantiles --row 1 --out speed.json\n  specsim fit --from llmperf ../shared/data/llmperf --out-dir traces/profiles\n  specsim fit --from thefastest ../shared/data/thefastest/measurements.jsonl --model gpt-4-turbo\n  specsim fit --from har ../shared/data/har --har requests --out har.json\n  specsim fit --from httparchive ../shared/data/httparchive/speed_index_2022.csv --client mobile --out si.json\n\nSee docs/fitting.md and docs/data.md."
    )]
    Fit(Box<fit::FitArgs>),
    /// Latency variability per model (median, p95, CV, max/min), by region and day.
    #[command(
        after_help = "Examples:\n  specsim latency-study ../shared/data/thefastest/measurements.jsonl\n  specsim latency-study ../shared/data/thefastest/measurements.jsonl --by model-region --cmd=--max-tokens=20\n  specsim latency-study ../shared/data/llmperf --metric ttft --json"
    )]
    LatencyStudy(study::StudyArgs),
    /// Receive OTLP/HTTP traces from an instrumented agent and append them to a file.
    #[command(
        after_help = "Examples:\n  specsim collect --port 4318 --out spans.jsonl\n  OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 python my_agent.py\n  specsim import otel spans.jsonl --out agent.jsonl && specsim whatif agent.jsonl\n\nAccepts POST /v1/traces with application/x-protobuf or application/json bodies, optionally\ngzip; a batch is acknowledged only once written and synced. See docs/otel.md."
    )]
    Collect(collect::CollectArgs),
    /// How much would SpecCache speed up a recorded agent? Speedup vs draft accuracy.
    #[command(
        after_help = "Examples:\n  specsim whatif agent.jsonl\n  specsim whatif agent.jsonl --draft-profile thefastest_openai_gpt-4-turbo --plots figs/\n  specsim whatif agent.jsonl --draft-fraction 0.1 --widths 1,3 --caches 10 --json\n\nThe trace's recorded latencies are replayed; the draft's accuracy is swept from 0 to 1.\nSee docs/otel.md."
    )]
    Whatif(whatif::WhatIfArgs),
    /// Which scenario parameters are consistent with observed metrics? (history matching)
    #[command(
        after_help = "Examples:\n  specsim calibrate scenarios/paper/webwalkerqa.json --observe scenarios/paper/calibrate/webwalkerqa.observe.json --points 400 --waves 5 --out results/cal-wwqa\n  specsim calibrate scenarios/paper/muwc.json --observe scenarios/paper/calibrate/muwc.observe.json --json\n  specsim calibrate scenarios/default.json --observe scenarios/default.observe.json --param fetch.median=2:12:log\n  specsim calibrate scenarios/paper/webwalkerqa.json --observe scenarios/paper/calibrate/webwalkerqa.observe.json --points 400 --waves 5 --out results/cal-wwqa --resume   # after an interruption\n\nA trace recorded by `specsim live` can replace the observe file (--observe run.jsonl): its hit rate, iteration latency and exposed web time become the observations. The observe file, the method and its cost: docs/calibrate.md."
    )]
    Calibrate(calibrate::CalibrateArgs),
    /// Draw figures (SVG and PNG) of a run report or of a sweep's results.
    #[command(
        after_help = "Examples:\n  specsim run --out report.json && specsim plot report.json --out figures/\n  specsim plot sweep-out/ --out figures/ --axis cache.capacity\n  specsim plot sweep-out/results.jsonl --out figs --axis width --second-axis cache.capacity --metric speedup\n  specsim plot report.json --out figs --format png"
    )]
    Plot(plot::PlotArgs),
    /// The cheapest draft, width, cache and fetch slots reaching a target speedup.
    #[command(
        args_override_self = true,
        after_help = "Examples:\n  specsim tune --target-speedup 1.3\n  specsim tune scenarios/paper/webwalkerqa.json --target-speedup 1.2 --replications 4 --sessions 20\n  specsim tune my.json --budget 0.5 --max-request-rate 2 --json\n  specsim tune my.json --target-speedup 1.2 --drafts claude-3-haiku,gpt-4-turbo --widths 1,3 --slots unlimited --out runs/tune --plots figs/\n  specsim tune my.json --target-speedup 1.2 --out runs/tune --resume\n\nExit code 3: no configuration of the grid meets the goal (the front is still printed).\nCatalogue, cost and rate definitions: docs/tune.md."
    )]
    Tune(tune::TuneArgs),
}

/// Top-level `--help` lists the commands by task, in this order. A command missing here is
/// still listed, under "Other commands" (and a unit test fails until it is placed): when
/// adding a command, add its name to one group.
const COMMAND_GROUPS: &[(&str, &[&str])] = &[
    ("Simulate", &["run", "whatif", "reproduce"]),
    ("Sweep and plot", &["sweep", "merge", "plot"]),
    ("Infer and decide", &["calibrate", "tune"]),
    ("Data", &["import", "collect", "fit", "latency-study"]),
    (
        "Live",
        &["live", "serve-site", "serve-llm", "crawl", "validate"],
    ),
];

/// The commands of `cmd` under the headings of [`COMMAND_GROUPS`], one per line with its
/// one-line description, as clap aligns them.
fn grouped_commands(cmd: &clap::Command) -> String {
    let subs: Vec<&clap::Command> = cmd.get_subcommands().filter(|c| !c.is_hide_set()).collect();
    let width = subs.iter().map(|c| c.get_name().len()).max().unwrap_or(0);
    let line = |c: &clap::Command| {
        let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
        format!("  {:width$}  {about}\n", c.get_name())
    };
    let mut out = String::new();
    for (heading, names) in COMMAND_GROUPS {
        out.push_str(&format!("{heading}:\n"));
        for name in *names {
            if let Some(c) = subs.iter().find(|c| c.get_name() == *name) {
                out.push_str(&line(c));
            }
        }
        out.push('\n');
    }
    let others: Vec<&&clap::Command> = subs
        .iter()
        .filter(|c| {
            !COMMAND_GROUPS
                .iter()
                .any(|(_, n)| n.contains(&c.get_name()))
        })
        .collect();
    if !others.is_empty() {
        out.push_str("Other commands:\n");
        for c in others {
            out.push_str(&line(c));
        }
        out.push('\n');
    }
    out
}

/// The command-line interface, its top-level help listing commands by task.
pub fn command() -> clap::Command {
    let cmd = Cli::command();
    let groups = grouped_commands(&cmd);
    cmd.help_template(format!(
        "{{before-help}}{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{groups}Options:\n{{options}}{{after-help}}"
    ))
}

/// An error with the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    /// Exit code.
    pub code: i32,
    /// Message for stderr.
    pub message: String,
}

impl CliError {
    /// An error that is the input's fault (exit 2) or the run's (exit 1).
    pub fn classified(bad_input: bool, error: impl std::fmt::Display) -> CliError {
        CliError {
            code: if bad_input {
                EXIT_BAD_INPUT
            } else {
                EXIT_FAILURE
            },
            message: error.to_string(),
        }
    }
}

impl From<ScenarioError> for CliError {
    fn from(e: ScenarioError) -> Self {
        CliError {
            code: EXIT_BAD_INPUT,
            message: e.to_string(),
        }
    }
}

pub(crate) fn failure(message: impl Into<String>) -> CliError {
    CliError {
        code: EXIT_FAILURE,
        message: message.into(),
    }
}

/// Entry point of the binary; returns the process exit code.
pub fn main() -> i32 {
    let parsed = command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
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
        Command::Run(a) => run::run(a),
        Command::Live(a) => live::run(a),
        Command::ServeSite(a) => serve::serve_site(a),
        Command::ServeLlm(a) => serve::serve_llm(a),
        Command::Crawl(a) => crawl::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Import(a) => import::run(a),
        Command::Sweep(a) => sweep::sweep(a),
        Command::Merge(a) => sweep::merge_cmd(a),
        Command::Reproduce(a) => reproduce::reproduce(a),
        Command::Fit(a) => fit::run(*a),
        Command::LatencyStudy(a) => study::run(a),
        Command::Plot(a) => plot::run(a),
        Command::Collect(a) => collect::run(a),
        Command::Whatif(a) => whatif::run(a),
        Command::Calibrate(a) => calibrate::run(a),
        Command::Tune(a) => tune::run(a),
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

/// Draws figures with `draw` into `dir`, reporting the files written on stderr.
pub(crate) fn write_plots(
    dir: &Path,
    draw: impl FnOnce() -> Result<Vec<std::path::PathBuf>, crate::plot::PlotError>,
) -> Result<(), CliError> {
    match draw() {
        Ok(paths) => {
            eprintln!("wrote {} figure files to {}", paths.len(), dir.display());
            Ok(())
        }
        Err(e) => Err(CliError {
            code: if e.is_bad_input() {
                EXIT_BAD_INPUT
            } else {
                EXIT_FAILURE
            },
            message: format!("plots: {e}"),
        }),
    }
}

/// Loads a scenario file, or the embedded default when `path` is `None`.
pub fn load_scenario(path: Option<&Path>, seed: Option<u64>) -> Result<Scenario, CliError> {
    let mut scenario = match path {
        Some(p) => Scenario::load(p)?,
        None => Scenario::default_scenario(),
    };
    if let Some(s) = seed {
        scenario = scenario.with_seed(s)?;
    }
    Ok(scenario)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_in_one_help_group() {
        let cmd = Cli::command();
        let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
        for n in &names {
            let groups = COMMAND_GROUPS.iter().filter(|(_, g)| g.contains(n)).count();
            assert_eq!(groups, 1, "command `{n}`: add it to one of COMMAND_GROUPS");
        }
        for (heading, group) in COMMAND_GROUPS {
            for n in *group {
                assert!(names.contains(n), "{heading}: no command `{n}`");
            }
        }
        assert!(!grouped_commands(&cmd).contains("Other commands"));
    }
}
