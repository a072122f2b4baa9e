//! `specsim tune`: the cheapest configuration reaching a target speedup, and the Pareto front.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::str::FromStr;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use super::{failure, CliError, EXIT_BAD_INPUT};
use crate::sweep::Shard;
use crate::tune::{
    slots_text, tune, Base, Catalogue, Config, Execution, Goal, Grid, Outcome, Settings, TuneError,
    Tuning, DEFAULT_DRAFT_INPUT_TOKENS,
};

/// Exit code when no configuration meets the goal (the front is still printed).
pub const EXIT_UNREACHABLE: i32 = 3;

#[derive(Debug, clap::Args)]
pub struct TuneArgs {
    /// The scenario (default: the embedded WebWalkerQA-like default).
    scenario: Option<PathBuf>,
    /// The speedup to reach: the cheapest configuration reaching it is chosen.
    #[arg(long, allow_hyphen_values = true)]
    target_speedup: Option<f64>,
    /// Dollars per 1,000 sessions of draft tokens at most (alone: the fastest configuration
    /// within it is chosen).
    #[arg(
        long,
        value_name = "DOLLARS_PER_1000_SESSIONS",
        allow_hyphen_values = true
    )]
    budget: Option<f64>,
    /// Fetches per second to the site at most: simulated as fetcher.rate_limit_per_s in
    /// every configuration, and configurations whose measured request rate exceeds it are
    /// left out.
    #[arg(long, value_name = "R", allow_hyphen_values = true)]
    max_request_rate: Option<f64>,
    /// The draft catalogue (docs/tune.md).
    #[arg(long, default_value = "traces/drafts/catalogue.json")]
    catalogue: PathBuf,
    /// Catalogue drafts to try, comma-separated (default: all).
    #[arg(long)]
    drafts: Option<String>,
    /// Prefetch widths to try, comma-separated.
    #[arg(long, default_value = "1,2,3,5")]
    widths: String,
    /// Cache capacities to try, comma-separated.
    #[arg(long, default_value = "10,30")]
    capacities: String,
    /// Fetch slots to try, comma-separated numbers or `unlimited`.
    #[arg(long, default_value = "unlimited,4")]
    slots: String,
    /// Input tokens of one draft call (default: the llmperf prompt length, docs/tune.md).
    #[arg(long, default_value_t = DEFAULT_DRAFT_INPUT_TOKENS, allow_hyphen_values = true)]
    draft_input_tokens: f64,
    /// Seed of every configuration (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Replications per configuration (default: the scenario's; >= 2).
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..))]
    replications: Option<u32>,
    /// Sessions per replication (default: the scenario's; >= 1).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    sessions: Option<u32>,
    /// Directory for the sweep (sweep.json, sweep/) and tune.json (default: a temporary
    /// directory, removed at the end).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the sweep in --out.
    #[arg(long, requires = "out")]
    resume: bool,
    /// Run only shard I of N, into --out/sweep-shard-I-of-N (merge them into --out/sweep
    /// with `specsim merge`, then run again with --resume).
    #[arg(long, requires = "out")]
    shard: Option<String>,
    /// Stop after this many configurations (continue with --resume).
    #[arg(long, requires = "out")]
    max_cells: Option<usize>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    threads: Option<u32>,
    /// Refuse to start when the configurations in flight need more memory than this.
    #[arg(long, value_parser = crate::scenario::limits::parse_size)]
    max_memory: Option<u64>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Also draw the Pareto figure (SVG and PNG) into this directory.
    #[arg(long, value_name = "DIR")]
    plots: Option<PathBuf>,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
}

fn bad_input(message: String) -> CliError {
    CliError {
        code: EXIT_BAD_INPUT,
        message,
    }
}

fn from_tune(e: TuneError) -> CliError {
    CliError::classified(e.is_bad_input(), e)
}

/// A comma-separated list; an empty text is an empty list.
fn list<T: FromStr>(flag: &str, text: &str, what: &str) -> Result<Vec<T>, CliError> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| bad_input(format!("{flag}: `{s}` is not {what}")))
        })
        .collect()
}

fn slots(text: &str) -> Result<Vec<Option<u32>>, CliError> {
    let words: Vec<String> = list("--slots", text, "a word")?;
    words
        .iter()
        .map(|w| match w.as_str() {
            "unlimited" => Ok(None),
            n => match n.parse::<u32>() {
                Ok(k) if k >= 1 => Ok(Some(k)),
                _ => Err(bad_input(format!(
                    "--slots: `{n}` is not a number of fetch slots (1 or more) or `unlimited`"
                ))),
            },
        })
        .collect()
}

fn table(configs: &[Config], chosen: Option<&Config>) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "",
        "draft",
        "width",
        "cache",
        "slots",
        "speedup [95% CI]",
        "hit rate",
        "$ / 1000 sessions",
        "fetches/s",
        "extra fetches/s",
    ]);
    for c in configs {
        let mark = if chosen.is_some_and(|x| x.index == c.index) {
            "*"
        } else {
            ""
        };
        t.add_row(vec![
            Cell::new(mark),
            Cell::new(&c.draft),
            Cell::new(c.width),
            Cell::new(c.cache_capacity),
            Cell::new(if c.fetch_overloaded {
                format!("{} !", slots_text(c.fetch_slots))
            } else {
                slots_text(c.fetch_slots)
            }),
            Cell::new(format!(
                "{:.3}x [{:.3}, {:.3}]",
                c.speedup, c.speedup_ci_lo, c.speedup_ci_hi
            )),
            Cell::new(format!("{:.1}%", 100.0 * c.hit_rate)),
            Cell::new(format!("{:.4}", c.cost_per_1000_sessions)),
            Cell::new(format!("{:.3}", c.request_rate_per_s)),
            Cell::new(format!("{:+.3}", c.extra_request_rate_per_s)),
        ]);
    }
    for i in 2..10 {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    t.to_string()
}

/// The human-readable answer.
pub fn render(t: &Tuning) -> String {
    let mut out = format!(
        "tune {} ({}): {} configurations ({} drafts x widths {:?} x caches {:?} x slots {}), seed {}, {} replications x {} sessions each\n",
        t.scenario,
        t.scenario_source,
        t.configurations.len(),
        t.grid.drafts.len(),
        t.grid.widths,
        t.grid.capacities,
        t.grid
            .slots
            .iter()
            .map(|s| slots_text(*s))
            .collect::<Vec<_>>()
            .join(","),
        t.seed,
        t.replications,
        t.sessions
    );
    out.push_str(&format!(
        "cost: dollars per 1,000 sessions of draft tokens ({} input tokens per call, prices from {}); fetches/s: fetches per second the site received from all sessions (site_request_rate_per_s); extra: minus the same without prefetching\n",
        t.settings.draft_input_tokens, t.catalogue_source
    ));
    if let Some(r) = t.goal.max_request_rate {
        out.push_str(&format!(
            "simulated with fetcher.rate_limit_per_s = {r}; {} of {} configurations within {r} fetches/s\n",
            t.within_rate,
            t.configurations.len()
        ));
    }
    out.push_str(&format!(
        "\nPareto front (speedup up, cost down, extra fetches/s down; * = chosen), {} configurations:\n",
        t.front.len()
    ));
    out.push_str(&table(&t.front, t.chosen.as_ref()));
    if t.front.iter().any(|c| c.fetch_overloaded) {
        out.push_str("\n! fetch slots overloaded (fetch_overloaded, docs/report.md): no steady state, the numbers hold for this session count only");
    }
    out.push_str(&format!("\n\n{}\n", t.verdict));
    out
}

pub fn run(a: TuneArgs) -> Result<(), CliError> {
    let base = Base::load(a.scenario.as_deref())?;
    let catalogue = Catalogue::load(&a.catalogue).map_err(|e| from_tune(e.into()))?;
    let grid = Grid {
        drafts: match &a.drafts {
            Some(d) => list("--drafts", d, "a name")?,
            None => Vec::new(),
        },
        widths: list("--widths", &a.widths, "a prefetch width (a whole number)")?,
        capacities: list(
            "--capacities",
            &a.capacities,
            "a cache capacity (a whole number)",
        )?,
        slots: slots(&a.slots)?,
    };
    let goal = Goal {
        target_speedup: a.target_speedup,
        budget: a.budget,
        max_request_rate: a.max_request_rate,
    };
    let settings = Settings {
        draft_input_tokens: a.draft_input_tokens,
        seed: a.seed,
        replications: a.replications,
        sessions: a.sessions,
    };
    let shard = a
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(|e| bad_input(format!("--shard: {e}")))?;
    let execution = Execution {
        out: a.out.clone(),
        resume: a.resume,
        shard,
        threads: a.threads.map(|t| t as usize),
        max_cells: a.max_cells,
        max_memory: a.max_memory,
    };
    let show = !a.quiet && std::io::stderr().is_terminal();
    let outcome = tune(
        &base,
        &catalogue,
        &grid,
        &goal,
        &settings,
        &execution,
        &mut |p| {
            if show {
                eprint!("\rtune: {}/{} configurations", p.done, p.total);
            }
        },
    )
    .map_err(from_tune)?;
    if show {
        eprintln!();
    }
    let t = match outcome {
        Outcome::Done(t) => t,
        Outcome::Stopped(message) => {
            eprintln!("tune: {message}");
            return Ok(());
        }
    };
    let text = if a.json { t.to_json() } else { render(&t) };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| failure(format!("cannot write to stdout: {e}")))?;
    if let Some(dir) = &a.plots {
        super::write_plots(dir, || {
            crate::plot::pareto::plot_pareto(&t, dir, &crate::plot::Format::ALL)
        })?;
    }
    if let (Some(out), false) = (&a.out, a.quiet) {
        eprintln!("tune: wrote {}", out.join("tune.json").display());
    }
    if !t.reached() {
        return Err(CliError {
            code: EXIT_UNREACHABLE,
            message: t.verdict.clone(),
        });
    }
    Ok(())
}
