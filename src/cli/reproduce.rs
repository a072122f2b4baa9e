//! `specsim reproduce`: the paper's figures next to the calibrated scenarios' results.

use std::path::PathBuf;

use super::{with_threads, CliError};
use crate::reproduce::calibration::{check, render_section, Stored, PAPER_CALIBRATIONS};
use crate::reproduce::{render, run, scenario, table, PAPER_SCENARIOS};

#[derive(Debug, clap::Args)]
pub struct ReproduceArgs {
    /// Directory with webwalkerqa.json and muwc.json, and calibrate/ with their observe files
    /// and stored calibrations (default: the ones built into the tool, the same as
    /// scenarios/paper/).
    #[arg(long)]
    scenarios: Option<PathBuf>,
    /// Few replications and sessions (a quick check, e.g. in CI).
    #[arg(long)]
    reduced: bool,
    /// Print the table as JSON (the rows only; the calibration section is text).
    #[arg(long)]
    json: bool,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    threads: Option<u32>,
}

pub fn reproduce(a: ReproduceArgs) -> Result<(), CliError> {
    let mut scenarios = Vec::new();
    let mut texts = Vec::new();
    for (bench, file, text) in PAPER_SCENARIOS {
        let s = match &a.scenarios {
            Some(dir) => {
                let p = dir.join(file);
                let text = std::fs::read_to_string(&p).map_err(|e| CliError {
                    code: super::EXIT_BAD_INPUT,
                    message: format!("{}: cannot read scenario: {e}", p.display()),
                })?;
                let s = scenario(&text, &p.display().to_string(), a.reduced)?;
                texts.push(text);
                s
            }
            None => {
                texts.push(text.to_string());
                scenario(
                    text,
                    &format!("<built-in scenarios/paper/{file}>"),
                    a.reduced,
                )?
            }
        };
        scenarios.push((bench.to_string(), s));
    }
    let runs = with_threads(a.threads, || run(&scenarios))?;
    let rows = table(&runs);
    if a.json {
        let mut s = serde_json::to_string_pretty(&rows).expect("rows serialise");
        s.push('\n');
        print!("{s}");
    } else {
        print!("{}", render(&rows));
        print!("{}", render_section(&stored_calibrations(&a, &texts)));
    }
    Ok(())
}

/// The stored calibrations of the paper scenarios, judged against `scenario_texts` (in the
/// order of [`PAPER_SCENARIOS`]) and the observe files next to them.
fn stored_calibrations(a: &ReproduceArgs, scenario_texts: &[String]) -> Vec<Stored> {
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| format!("{}: cannot read: {e}", p.display()))
    };
    PAPER_CALIBRATIONS
        .iter()
        .zip(scenario_texts)
        .map(|(c, scenario_text)| match &a.scenarios {
            Some(dir) => {
                let observe = read(&dir.join("calibrate").join(c.observe));
                let result = dir.join("calibrate").join(c.result);
                let text = read(&result);
                check(
                    c.benchmark,
                    scenario_text,
                    observe.as_deref().map_err(Clone::clone),
                    (
                        &result.display().to_string(),
                        text.as_deref().map_err(Clone::clone),
                    ),
                )
            }
            None => check(
                c.benchmark,
                scenario_text,
                Ok(c.observe_text),
                (
                    &format!("scenarios/paper/calibrate/{}", c.result),
                    Ok(c.result_text),
                ),
            ),
        })
        .collect()
}
