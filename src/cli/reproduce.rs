//! `specsim reproduce`: the paper's figures next to the calibrated scenarios' results.

use std::path::PathBuf;

use super::{with_threads, CliError};
use crate::reproduce::{render, run, scenario, table, PAPER_SCENARIOS};

#[derive(Debug, clap::Args)]
pub struct ReproduceArgs {
    /// Directory with webwalkerqa.json and muwc.json (default: the calibrated scenarios
    /// built into the tool, the same as scenarios/paper/).
    #[arg(long)]
    scenarios: Option<PathBuf>,
    /// Few replications and sessions (a quick check, e.g. in CI).
    #[arg(long)]
    reduced: bool,
    /// Print the table as JSON.
    #[arg(long)]
    json: bool,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    threads: Option<u32>,
}

pub fn reproduce(a: ReproduceArgs) -> Result<(), CliError> {
    let mut scenarios = Vec::new();
    for (bench, file, text) in PAPER_SCENARIOS {
        let s = match &a.scenarios {
            Some(dir) => {
                let p = dir.join(file);
                let text = std::fs::read_to_string(&p).map_err(|e| CliError {
                    code: super::EXIT_BAD_INPUT,
                    message: format!("{}: cannot read scenario: {e}", p.display()),
                })?;
                scenario(&text, &p.display().to_string(), a.reduced)?
            }
            None => scenario(
                text,
                &format!("<built-in scenarios/paper/{file}>"),
                a.reduced,
            )?,
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
    }
    Ok(())
}
