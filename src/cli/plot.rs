//! `specsim plot`: figures of a run report or of a sweep's results.

use std::path::PathBuf;

use super::{CliError, EXIT_BAD_INPUT};
use crate::plot::{plot_results, read_results, scenario_values, Format, Metric, Results};
use crate::plot::{PlotError, SweepOptions};

#[derive(Debug, clap::Args)]
pub struct PlotArgs {
    /// A run report (`specsim run --out FILE`), a sweep directory, or its results.jsonl.
    results: PathBuf,
    /// Directory for the figures (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Sweep axis (field path) on the x axis; default: the first axis that varies.
    #[arg(long, value_name = "PATH")]
    axis: Option<String>,
    /// One line per value of this axis (for --policy) instead of one per policy; also the
    /// heatmap's second axis (default: the next axis that varies).
    #[arg(long, value_name = "PATH")]
    second_axis: Option<String>,
    /// Draw only this metric against the axis, and the heatmap of it: speedup, web_reduction
    /// or hit_rate [default: all three, heatmap of speedup].
    #[arg(long, value_parser = parse_metric)]
    metric: Option<Metric>,
    /// The policy of second-axis lines and of the heatmap [default: speccache].
    #[arg(long)]
    policy: Option<String>,
    /// Hold another varying axis at this value (repeatable) [default: the --scenario's own
    /// value, else the axis's middle value].
    #[arg(long, value_name = "PATH=VALUE", value_parser = parse_at)]
    at: Vec<(String, String)>,
    /// The scenario file the sweep ran: axes a figure does not draw are held at its own
    /// values (the nearest value the sweep has) unless --at says otherwise.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Output formats, comma-separated: svg, png.
    #[arg(long, value_delimiter = ',', default_value = "svg,png", value_parser = parse_format)]
    format: Vec<Format>,
}

fn parse_metric(s: &str) -> Result<Metric, String> {
    s.parse()
}

fn parse_at(s: &str) -> Result<(String, String), String> {
    crate::plot::sweep::parse_at(s)
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

pub fn run(a: PlotArgs) -> Result<(), CliError> {
    let to_cli = |e: PlotError| CliError::classified(e.is_bad_input(), e);
    let results = read_results(&a.results).map_err(to_cli)?;
    let base = match (&a.scenario, &results) {
        (Some(file), Results::Sweep(rows)) => {
            let axes: Vec<String> = rows
                .first()
                .map(|r| r.axes.0.iter().map(|(k, _)| k.clone()).collect())
                .unwrap_or_default();
            scenario_values(file, &axes).map_err(to_cli)?
        }
        (Some(file), Results::Report(_)) => {
            return Err(CliError {
                code: EXIT_BAD_INPUT,
                message: format!(
                    "--scenario {}: {} is a run report; --scenario applies to sweep results",
                    file.display(),
                    a.results.display()
                ),
            })
        }
        (None, _) => Vec::new(),
    };
    let options = SweepOptions {
        axis: a.axis,
        second_axis: a.second_axis,
        metric: a.metric,
        policy: a.policy,
        at: a.at,
        base,
    };
    let mut formats = a.format;
    formats.dedup();
    let written = plot_results(&results, &a.results, &a.out, &options, &formats).map_err(to_cli)?;
    for p in written {
        println!("{}", p.display());
    }
    Ok(())
}
