//! `specsim whatif`: a recorded agent's speedup under SpecCache against draft accuracy.

use std::io::Write;
use std::path::PathBuf;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use super::{failure, with_threads, CliError, EXIT_BAD_INPUT};
use crate::whatif::{read_profile, whatif, DraftLatency, Options, WhatIf, WhatIfError, BREAK_EVEN};

#[derive(Debug, clap::Args)]
pub struct WhatIfArgs {
    /// The trace (JSON Lines, docs/trace.md), e.g. from `specsim import otel`.
    trace: PathBuf,
    /// The draft's latency profile: a file, or a name under traces/profiles/ (e.g.
    /// thefastest_openai_gpt-4-turbo).
    #[arg(long, conflicts_with = "draft_fraction")]
    draft_profile: Option<String>,
    /// The draft's latency as this fraction of the trace's target latencies.
    #[arg(long, default_value_t = 0.2)]
    draft_fraction: f64,
    /// Prefetch widths k.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5")]
    widths: Vec<u32>,
    /// Cache capacities (pages per session).
    #[arg(long, value_delimiter = ',', default_value = "5,10,20")]
    caches: Vec<u32>,
    /// Step of the accuracy grid from 0 to 1.
    #[arg(long, default_value_t = 0.1)]
    accuracy_step: f64,
    /// Replications per point (>= 2).
    #[arg(long, default_value_t = 10)]
    replications: u32,
    /// Seed of what is drawn (shared by every point).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    threads: Option<u32>,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Also draw the figures (SVG and PNG) into this directory.
    #[arg(long)]
    plots: Option<PathBuf>,
}

fn bad(e: WhatIfError) -> CliError {
    CliError {
        code: EXIT_BAD_INPUT,
        message: e.0,
    }
}

fn grid(step: f64) -> Result<Vec<f64>, CliError> {
    if !(step > 0.0 && step <= 1.0) {
        return Err(bad(WhatIfError(format!(
            "--accuracy-step: must be in (0, 1], got {step}"
        ))));
    }
    let n = (1.0 / step).round() as u32;
    if ((f64::from(n) * step) - 1.0).abs() > 1e-9 {
        return Err(bad(WhatIfError(format!(
            "--accuracy-step: must divide 1 evenly (0.1, 0.05, 0.25, ...), got {step}"
        ))));
    }
    Ok((0..=n).map(|i| f64::from(i) / f64::from(n)).collect())
}

/// The tables and notes printed on stdout.
pub fn render(w: &WhatIf) -> String {
    let mut out = format!(
        "what-if of {}: {} sessions ({} iterations) replayed, {} replications per point, seed {}\n\
         without speculation: session latency {:.3} s, web time {:.1} % of it, exposed web {:.3} s per iteration\n\
         draft latency: {}; the draft's list holds the next page with probability P(k)\n\n",
        w.trace,
        w.sessions,
        w.iterations,
        w.replications,
        w.seed,
        w.session_latency_none_s,
        100.0 * w.web_share_none,
        w.exposed_web_none_s,
        w.draft_latency
    );
    let mut accs: Vec<f64> = w.points.iter().map(|p| p.accuracy).collect();
    accs.sort_by(f64::total_cmp);
    accs.dedup();
    let mut keys: Vec<(u32, u32)> = w.points.iter().map(|p| (p.cache, p.width)).collect();
    keys.dedup();
    for (title, speedup) in [
        ("speedup (x) by draft accuracy P(k)", true),
        ("exposed web time saved (%) by draft accuracy P(k)", false),
    ] {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
        let mut head = vec![Cell::new("cache"), Cell::new("k")];
        head.extend(accs.iter().map(|a| Cell::new(format!("{a}"))));
        if speedup {
            head.extend(
                BREAK_EVEN
                    .iter()
                    .map(|b| Cell::new(format!("P(k) for {b}x"))),
            );
        }
        t.set_header(head);
        for &(c, k) in &keys {
            let mut row = vec![Cell::new(c), Cell::new(k)];
            for a in &accs {
                let p = w
                    .points
                    .iter()
                    .find(|p| p.cache == c && p.width == k && p.accuracy == *a);
                let text = match p {
                    Some(p) if speedup => format!("{:.2}", p.speedup),
                    Some(p) => format!("{:.0}", 100.0 * p.web_time_reduction),
                    None => "-".into(),
                };
                row.push(Cell::new(text).set_alignment(CellAlignment::Right));
            }
            if speedup {
                for b in BREAK_EVEN {
                    let e = w
                        .break_even
                        .iter()
                        .find(|e| e.cache == c && e.width == k && e.speedup == b);
                    let text = match e.and_then(|e| e.accuracy) {
                        Some(a) => format!("{a:.2}"),
                        None => "not reached".into(),
                    };
                    row.push(Cell::new(text).set_alignment(CellAlignment::Right));
                }
            }
            t.add_row(row);
        }
        out.push_str(&format!("{title}\n{t}\n\n"));
    }
    out.push_str(
        "speedup: mean over replications of session latency without / with SpecCache (paired);\n\
         web time saved: 1 - exposed web time with / without SpecCache (per-iteration means);\n\
         P(k) for 1.1x, 1.2x: where the speedup first reaches it, interpolated linearly between\n\
         grid points (0 = reached without a right guess, through cache hits on revisited pages).\n",
    );
    out
}

pub fn run(a: WhatIfArgs) -> Result<(), CliError> {
    let draft = match &a.draft_profile {
        Some(name) => read_profile(name).map_err(bad)?,
        None => DraftLatency::Fraction(a.draft_fraction),
    };
    let opts = Options {
        widths: a.widths.clone(),
        accuracies: grid(a.accuracy_step)?,
        caches: a.caches.clone(),
        draft,
        replications: a.replications,
        seed: a.seed,
    };
    let w = with_threads(a.threads, || whatif(&a.trace, &opts))?.map_err(bad)?;
    let text = if a.json {
        serde_json::to_string_pretty(&w).map_err(|e| failure(e.to_string()))? + "\n"
    } else {
        render(&w)
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| failure(format!("cannot write to stdout: {e}")))?;
    if let Some(dir) = &a.plots {
        super::write_plots(dir, || {
            crate::plot::whatif::plot_whatif(&w, dir, &crate::plot::Format::ALL)
        })?;
    }
    Ok(())
}
