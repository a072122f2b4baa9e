//! `specsim calibrate`: scenario parameters consistent with observed metrics.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use super::{failure, CliError, EXIT_BAD_INPUT, EXIT_FAILURE};
use crate::calibrate::observe::{self, Bound};
use crate::calibrate::{
    calibrate, Base, CalibrateError, Calibration, Execution, Outcome, Settings,
};
use crate::sweep::Shard;

#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// The scenario (default: the embedded WebWalkerQA-like default).
    scenario: Option<PathBuf>,
    /// What was observed: an observe file (JSON, docs/calibrate.md) or a live trace (.jsonl)
    /// whose measured hit rate, iteration latency and exposed web time become the
    /// observations.
    #[arg(long)]
    observe: PathBuf,
    /// A parameter to infer, PATH=MIN:MAX or PATH=MIN:MAX:log (repeatable; added to the
    /// observe file's parameters).
    #[arg(long = "param", value_name = "PATH=MIN:MAX[:log]")]
    params: Vec<String>,
    /// Parameter sets per wave.
    #[arg(long, default_value_t = 200)]
    points: usize,
    /// Waves: the first over the whole ranges, each later one inside the region still in
    /// play.
    #[arg(long, default_value_t = 3)]
    waves: usize,
    /// Largest implausibility (standard deviations) of a consistent parameter set.
    #[arg(long, default_value_t = 3.0)]
    cutoff: f64,
    /// Seed of the designs and of every simulation (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Replications per parameter set (default: the scenario's; >= 2).
    #[arg(long)]
    replications: Option<u32>,
    /// Sessions per replication (default: the scenario's).
    #[arg(long)]
    sessions: Option<u32>,
    /// Directory for the waves' results (waveN/) and calibration.json (default: a
    /// temporary directory, removed at the end).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the calibration in --out.
    #[arg(long, requires = "out")]
    resume: bool,
    /// Run only shard I of N of each wave, into --out/waveW-shard-I-of-N (merge them into
    /// --out/waveW with `specsim merge`, then run again with --resume).
    #[arg(long, requires = "out")]
    shard: Option<String>,
    /// Stop after this many simulated parameter sets (continue with --resume).
    #[arg(long, requires = "out")]
    max_cells: Option<usize>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    threads: Option<u32>,
    /// Refuse a wave whose cells, run --threads at a time, need more memory than this.
    #[arg(long, value_parser = crate::scenario::limits::parse_size)]
    max_memory: Option<u64>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
}

fn bad(e: CalibrateError) -> CliError {
    CliError {
        code: if e.is_bad_input() {
            EXIT_BAD_INPUT
        } else {
            EXIT_FAILURE
        },
        message: e.to_string(),
    }
}

/// A number with four significant digits.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or("-".into(), num)
}

/// The answer as text.
pub fn render(c: &Calibration) -> String {
    let m = &c.method;
    let mut out = format!(
        "calibration of {} ({}) against {}\n{} waves of up to {} Latin-hypercube parameter sets, seed {}, {} replications x {} sessions each (policies {}); consistent = every implausibility <= {}\n{} parameter sets run, {} consistent\n\n",
        c.scenario,
        c.scenario_source,
        c.observe_source,
        m.waves,
        m.points_per_wave,
        m.seed,
        m.replications,
        m.sessions,
        m.policies.join(", "),
        m.cutoff,
        c.points_run,
        c.points_consistent
    );
    out.push_str(&if c.consistent {
        "verdict: CONSISTENT: parameter sets in the ranges reproduce every observation.\n\n".to_string()
    } else {
        format!(
            "verdict: INCONSISTENT: no parameter set run reproduces every observation (the closest has a largest implausibility of {}).\n\n",
            opt(c.best_max_implausibility)
        )
    });
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "parameter",
        "range searched",
        if c.consistent { "estimate" } else { "closest" },
        "consistent range",
    ]);
    for p in &c.parameters {
        let range = match (p.consistent_lo, p.consistent_hi) {
            (Some(a), Some(b)) => format!("{} – {}", num(a), num(b)),
            _ => "none".into(),
        };
        t.add_row(vec![
            Cell::new(&p.name),
            Cell::new(format!("{} – {}", num(p.min), num(p.max))),
            Cell::new(num(p.estimate)).set_alignment(CellAlignment::Right),
            Cell::new(range),
        ]);
    }
    out.push_str(&format!("{t}\n\n"));
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "observation",
        "observed",
        "simulated there",
        "implausibility",
        "best alone",
        "best without it",
    ]);
    for o in &c.observations {
        let bound = match o.bound {
            Bound::Equal => "",
            Bound::AtMost => "at most ",
            Bound::AtLeast => "at least ",
        };
        let sim = match (o.simulated, o.simulated_sd) {
            (Some(v), Some(s)) if s > 0.0 => format!("{} ± {}", num(v), num(s)),
            (Some(v), _) => num(v),
            _ => "no value".into(),
        };
        let plain = format!("{} {}", o.policy, o.metric);
        let label = if o.name == plain {
            plain
        } else {
            format!("{} ({plain})", o.name)
        };
        t.add_row(vec![
            Cell::new(label),
            Cell::new(format!("{bound}{} ± {}", num(o.value), num(o.sd))),
            Cell::new(sim),
            Cell::new(opt(o.implausibility)).set_alignment(CellAlignment::Right),
            Cell::new(opt(o.best_alone)).set_alignment(CellAlignment::Right),
            Cell::new(opt(o.best_without)).set_alignment(CellAlignment::Right),
        ]);
    }
    out.push_str(&format!("{t}\n"));
    if !c.consistent {
        let unmet: Vec<&str> = c
            .observations
            .iter()
            .filter(|o| !o.met_alone)
            .map(|o| o.name.as_str())
            .collect();
        if !unmet.is_empty() {
            out.push_str(&format!(
                "\nno parameter set run meets, even alone: {}\n",
                unmet.join("; ")
            ));
        }
        for k in &c.conflicts {
            out.push_str(&format!(
                "conflict: {} and {} are each met, never together (best joint implausibility {})\n",
                k.a,
                k.b,
                opt(k.best_joint)
            ));
        }
        let freeing: Vec<&str> = c
            .observations
            .iter()
            .filter(|o| o.consistent_without)
            .map(|o| o.name.as_str())
            .collect();
        if !freeing.is_empty() {
            out.push_str(&format!(
                "dropping any one of these leaves a consistent set: {}\n",
                freeing.join("; ")
            ));
        }
    }
    out.push_str(
        "\nimplausibility: |simulated - observed| / sqrt(sd_observed² + sd_simulated²) (log scale for ratios); \
         best alone / without it: the smallest implausibility of this observation alone, and the smallest largest \
         implausibility of the others, over every parameter set run. Method: docs/calibrate.md.\n",
    );
    out
}

struct Bar {
    bar: Option<indicatif::ProgressBar>,
    quiet: bool,
    wave: usize,
    last: Instant,
}

impl Bar {
    fn update(&mut self, p: crate::calibrate::WaveProgress) {
        if self.quiet {
            return;
        }
        if p.wave != self.wave {
            if let Some(b) = self.bar.take() {
                b.finish_and_clear();
            }
            self.wave = p.wave;
            if std::io::stderr().is_terminal() {
                let b = indicatif::ProgressBar::new(p.cells.total as u64);
                b.set_style(
                    indicatif::ProgressStyle::with_template(&format!(
                        "wave {}/{} {{bar:40}} {{pos}}/{{len}} parameter sets  ETA {{eta}}",
                        p.wave, p.waves
                    ))
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                self.bar = Some(b);
            }
        }
        match &self.bar {
            Some(b) => b.set_position(p.cells.done as u64),
            None => {
                if self.last.elapsed() >= Duration::from_secs(10) || p.cells.done == p.cells.total {
                    self.last = Instant::now();
                    eprintln!(
                        "calibrate: wave {}/{}: {}/{} parameter sets",
                        p.wave, p.waves, p.cells.done, p.cells.total
                    );
                }
            }
        }
    }
}

pub fn run(a: CalibrateArgs) -> Result<(), CliError> {
    let base = Base::load(a.scenario.as_deref())?;
    let flags = a
        .params
        .iter()
        .map(|p| observe::parse_param_flag(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.into()))?;
    let settings = Settings {
        points: a.points,
        waves: a.waves,
        cutoff: a.cutoff,
        seed: a.seed,
        replications: a.replications,
        sessions: a.sessions,
    };
    // Parameters are checked against the scenario as the cells will run it.
    let shard = a
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(|e| CliError {
            code: EXIT_BAD_INPUT,
            message: format!("--shard: {e}"),
        })?;
    let mut probe = base.json.clone();
    if let Some(r) = a.replications {
        probe["replications"] = r.into();
    }
    if let Some(n) = a.sessions {
        probe["sessions"] = n.into();
    }
    let obs = observe::load(
        &a.observe,
        &flags,
        &probe,
        &base.source,
        base.dir.as_deref(),
    )
    .map_err(|e| bad(e.into()))?;
    let execution = Execution {
        out: a.out.clone(),
        resume: a.resume,
        shard,
        threads: a.threads.map(|t| t as usize),
        max_cells: a.max_cells,
        max_memory: a.max_memory,
    };
    let mut bar = Bar {
        bar: None,
        quiet: a.quiet,
        wave: 0,
        last: Instant::now(),
    };
    let outcome =
        calibrate(&base, &obs, &settings, &execution, &mut |p| bar.update(p)).map_err(bad)?;
    if let Some(b) = bar.bar.take() {
        b.finish_and_clear();
    }
    let c = match outcome {
        Outcome::Done(c) => c,
        Outcome::Stopped(message) => {
            eprintln!("calibrate: {message}");
            return Ok(());
        }
    };
    let text = if a.json {
        serde_json::to_string_pretty(&c).map_err(|e| failure(e.to_string()))? + "\n"
    } else {
        render(&c)
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| failure(format!("cannot write to stdout: {e}")))?;
    if let (Some(out), false) = (&a.out, a.quiet) {
        eprintln!(
            "calibrate: wrote {}",
            out.join("calibration.json").display()
        );
    }
    Ok(())
}
