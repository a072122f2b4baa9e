//! `specsim validate`: how far is the simulator from a live run?

use std::io::Write;
use std::path::PathBuf;

use super::{CliError, EXIT_FAILURE};
use crate::live::validate::validate;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Trace of a live run (`specsim live -o TRACE`).
    trace: PathBuf,
    /// Trace of the same tasks under policy `none`, for the live speedup.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Fail (exit 1) when the relative error of the mean iteration latency or of the speedup
    /// exceeds this fraction (e.g. 0.05).
    #[arg(long)]
    max_error: Option<f64>,
}

pub fn run(a: ValidateArgs) -> Result<(), CliError> {
    let v = validate(&a.trace, a.baseline.as_deref())
        .map_err(|e| CliError::classified(e.is_bad_input(), e))?;
    let text = if a.json {
        serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
    } else {
        v.to_table()
    };
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(CliError {
                code: EXIT_FAILURE,
                message: format!("cannot write to stdout: {e}"),
            });
        }
    }
    if let Some(max) = a.max_error {
        for metric in ["mean iteration latency", "speedup over none"] {
            if let Some(e) = v.row(metric).and_then(|r| r.rel_error) {
                if e.abs() > max {
                    return Err(CliError {
                        code: EXIT_FAILURE,
                        message: format!(
                            "{metric}: relative error {:+.2} % exceeds --max-error {:.2} %",
                            e * 100.0,
                            max * 100.0
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}
