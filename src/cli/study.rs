//! `specsim latency-study`: per-model latency variability, as in the paper's section 2.

use std::path::PathBuf;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use super::fit::print_out;
use super::CliError;
use crate::data::fit::family::sig;
use crate::data::study::{extremes, load, study, GroupBy, Metric, StudyRow};

#[derive(Debug, clap::Args)]
pub struct StudyArgs {
    /// Measurements: thefastest.ai `*.jsonl` files and/or llmperf `*.json` files or
    /// directories.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The latency to study.
    #[arg(long, value_enum, default_value_t = Metric::Total)]
    metric: Metric,
    /// Rows per model, per model and region, or per model and day.
    #[arg(long, value_enum, default_value_t = GroupBy::Model)]
    by: GroupBy,
    /// Only thefastest.ai requests run with exactly this `cmd`, e.g. "--max-tokens=20"
    /// (same-size requests, as in the paper).
    #[arg(long, allow_hyphen_values = true)]
    cmd: Option<String>,
    /// Rows with fewer requests are left out of the summary of extremes.
    #[arg(long, default_value_t = 10)]
    min_n: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{v:.2}x"))
}

pub fn run(a: StudyArgs) -> Result<(), CliError> {
    let obs = load(&a.files, a.cmd.as_deref())?;
    if obs.ok.is_empty() {
        return Err(super::fit::bad_input(
            "no successful requests found in the input (check --cmd)",
        ));
    }
    let rows = study(&obs, a.metric, a.by);
    let (mm, cv) = extremes(&rows, a.min_n);
    if a.json {
        let v = serde_json::json!({
            "metric": a.metric,
            "by": a.by,
            "min_n": a.min_n,
            "rows": rows,
            "largest_max_min": mm,
            "largest_cv": cv,
        });
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        return print_out(&s);
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    let mut header = vec!["model"];
    match a.by {
        GroupBy::Model => {}
        GroupBy::ModelRegion => header.push("region"),
        GroupBy::ModelDay => header.push("day"),
    }
    header.extend(["n", "failed", "median s", "p95 s", "CV", "max/min"]);
    if a.by == GroupBy::Model {
        header.extend(["region spread", "day spread"]);
    }
    t.set_header(header.clone());
    for r in &rows {
        let mut cells = vec![Cell::new(&r.model)];
        match a.by {
            GroupBy::Model => {}
            GroupBy::ModelRegion => cells.push(Cell::new(r.region.as_deref().unwrap_or("-"))),
            GroupBy::ModelDay => cells.push(Cell::new(r.day.as_deref().unwrap_or("-"))),
        }
        cells.extend([
            Cell::new(r.n),
            Cell::new(r.failed),
            Cell::new(sig(r.median)),
            Cell::new(sig(r.p95)),
            Cell::new(if r.cv.is_nan() {
                "-".into()
            } else {
                format!("{:.1}%", 100.0 * r.cv)
            }),
            Cell::new(format!("{:.2}x", r.max_min)),
        ]);
        if a.by == GroupBy::Model {
            cells.push(Cell::new(opt(r.region_spread)));
            cells.push(Cell::new(opt(r.day_spread)));
        }
        t.add_row(cells);
    }
    let first_num = if a.by == GroupBy::Model { 1 } else { 2 };
    for i in first_num..header.len() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let describe = |r: Option<&StudyRow>, what: &str| match r {
        Some(r) => format!(
            "largest {what}: {} ({}{}n={}): max/min {:.2}x, CV {:.1}%\n",
            r.model,
            r.region
                .as_deref()
                .map_or_else(String::new, |x| format!("{x}, ")),
            r.day
                .as_deref()
                .map_or_else(String::new, |x| format!("{x}, ")),
            r.n,
            r.max_min,
            100.0 * r.cv
        ),
        None => format!("largest {what}: no row has {} or more requests\n", a.min_n),
    };
    let metric = match a.metric {
        Metric::Total => "end-to-end latency",
        Metric::Ttft => "time to first token",
    };
    print_out(&format!(
        "{metric}, {} successful requests, {} failed\n{t}\n{}{}",
        obs.ok.len(),
        obs.failed.values().sum::<usize>(),
        describe(mm, "max/min ratio"),
        describe(cv, "coefficient of variation")
    ))
}
