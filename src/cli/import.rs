//! `specsim import`: recorded navigation paths (Wikispeedia, wiki_speedrun) as traces.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{CliError, EXIT_BAD_INPUT, EXIT_FAILURE};
use crate::data::navigation::{wiki_speedrun, wikispeedia, ImportError, Summary};

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    source: Source,
}

#[derive(Debug, Subcommand)]
enum Source {
    /// SNAP Wikispeedia: links.tsv as a site graph, human paths ('<' = back) as a trace.
    #[command(
        after_help = "Writes the trace, the graph it names (default: beside the trace, `.graph.json`) and, \
with --summary, path statistics (back-click rate, revisit rate, path lengths) per file.\n\n\
Examples:\n  specsim import wikispeedia ../shared/data/wikispeedia --out /tmp/wikispeedia.jsonl\n  \
specsim import wikispeedia DIR --out wsp.jsonl --summary traces/wikispeedia-summary.json --max-paths 2000\n  \
specsim run /tmp/wikispeedia.jsonl"
    )]
    Wikispeedia(WikispeediaArgs),
    /// wiki_speedrun benchmark_results.jsonl: LLM-agent games as a trace (seconds per click).
    #[command(
        after_help = "Examples:\n  specsim import wiki-speedrun ../shared/data/wiki_speedrun/benchmark_results.jsonl --out /tmp/speedrun.jsonl\n  \
specsim import wiki-speedrun FILE --out gpt.jsonl --agent gpt-5-mini --out-degree 81\n  \
specsim import wiki-speedrun FILE --out all.jsonl --summary traces/wiki_speedrun-summary.json"
    )]
    WikiSpeedrun(SpeedrunArgs),
    /// OpenTelemetry spans (OTLP JSON) of an instrumented agent: GenAI or OpenInference LLM
    /// spans, HTTP client and execute_tool spans (docs/otel.md).
    #[command(
        after_help = "Examples:\n  specsim import otel spans.jsonl --out agent.jsonl\n  \
specsim import otel a.jsonl b.jsonl --out agent.jsonl --target-model gpt-4.1 --draft-model gpt-4.1-mini\n  \
specsim import otel spans.jsonl --out agent.jsonl --out-degree 40 --summary import-summary.json\n  \
specsim whatif agent.jsonl"
    )]
    Otel(super::otel::OtelArgs),
}

#[derive(Debug, Args)]
struct WikispeediaArgs {
    /// Directory with links.tsv and optionally articles.tsv, paths_finished.tsv, paths_unfinished.tsv.
    dir: PathBuf,
    /// The trace to write (JSON Lines).
    #[arg(long)]
    out: PathBuf,
    /// The graph to write (default: the trace's path with extension `.graph.json`).
    #[arg(long)]
    graph: Option<PathBuf>,
    /// Also write a summary of the paths (JSON).
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Write only the first N paths to the trace (the summary covers all).
    #[arg(long)]
    max_paths: Option<usize>,
    /// Do not record durations as target latencies.
    #[arg(long)]
    no_durations: bool,
}

#[derive(Debug, Args)]
struct SpeedrunArgs {
    /// The benchmark_results.jsonl file.
    file: PathBuf,
    /// The trace to write (JSON Lines).
    #[arg(long)]
    out: PathBuf,
    /// Also write a summary of the games per agent (JSON).
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Keep only this agent's games (repeatable; default: every agent). The file's name
    /// (`llm-gpt-4o-mini`) or the README's (`gpt-4o-mini`, `gemini-2.0-flash`) when it names
    /// one agent; an unknown name is an error listing the agents.
    #[arg(long)]
    agent: Vec<String>,
    /// Record this out-degree for every page (links were not recorded; without it a replay
    /// only knows the links the agents clicked).
    #[arg(long)]
    out_degree: Option<u32>,
}

impl From<ImportError> for CliError {
    fn from(e: ImportError) -> Self {
        let code = match e {
            ImportError::Write { .. } => EXIT_FAILURE,
            _ => EXIT_BAD_INPUT,
        };
        CliError {
            code,
            message: e.to_string(),
        }
    }
}

fn print(summary: &Summary, trace: &std::path::Path) {
    let o = &summary.overall;
    eprintln!(
        "wrote {}: {} paths, {} actions ({} back, back rate {:.3}, revisit rate {:.3}), median {} actions per path",
        trace.display(),
        o.paths,
        o.actions,
        o.backs,
        o.back_rate,
        o.revisit_rate,
        o.actions_p10_p25_p50_p75_p90_max[2]
    );
    for (why, n) in &summary.skipped {
        eprintln!("skipped {n} paths: {why}");
    }
}

pub fn run(a: ImportArgs) -> Result<(), CliError> {
    match a.source {
        Source::Wikispeedia(w) => {
            let graph = w
                .graph
                .unwrap_or_else(|| w.out.with_extension("graph.json"));
            let out = wikispeedia::Outputs {
                trace: w.out,
                graph,
                summary: w.summary,
            };
            let s = wikispeedia::import(&w.dir, &out, w.max_paths, !w.no_durations)?;
            print(&s, &out.trace);
            eprintln!("wrote {}", out.graph.display());
        }
        Source::WikiSpeedrun(w) => {
            let s = wiki_speedrun::import(
                &w.file,
                &w.out,
                w.summary.as_deref(),
                &w.agent,
                w.out_degree,
            )?;
            print(&s, &w.out);
            if !w.agent.is_empty() {
                let agents: Vec<String> = s
                    .groups
                    .iter()
                    .map(|(a, g)| format!("{a} ({} paths)", g.paths))
                    .collect();
                eprintln!("agents: {}", agents.join(", "));
            }
        }
        Source::Otel(o) => super::otel::run(o)?,
    }
    Ok(())
}
