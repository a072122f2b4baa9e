//! `specsim calibrate`: scenario parameters consistent with observed metrics.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{failure, CliError, EXIT_BAD_INPUT};
use crate::calibrate::observe;
use crate::calibrate::record::Record;
use crate::calibrate::text::render;
use crate::calibrate::{calibrate, Base, CalibrateError, Execution, Outcome, Settings};
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
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..))]
    replications: Option<u32>,
    /// Sessions per replication (default: the scenario's; >= 1).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
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
    /// Also write the answer with the command that regenerates it and its settings (what
    /// `specsim reproduce` reads from scenarios/paper/calibrate/*.result.json).
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
}

fn bad(e: CalibrateError) -> CliError {
    CliError::classified(e.is_bad_input(), e)
}

/// The command that regenerates a calibration: the scenario, the observations and every
/// setting that changes the answer (not threads, output or progress).
fn command_line(a: &CalibrateArgs) -> String {
    let mut words = vec!["specsim".to_string(), "calibrate".to_string()];
    if let Some(s) = &a.scenario {
        words.push(s.display().to_string());
    }
    words.push(format!("--observe {}", a.observe.display()));
    for p in &a.params {
        words.push(format!("--param {p}"));
    }
    words.push(format!("--points {} --waves {}", a.points, a.waves));
    if a.cutoff != 3.0 {
        words.push(format!("--cutoff {}", a.cutoff));
    }
    for (flag, v) in [
        ("--seed", a.seed),
        ("--replications", a.replications.map(u64::from)),
        ("--sessions", a.sessions.map(u64::from)),
    ] {
        if let Some(v) = v {
            words.push(format!("{flag} {v}"));
        }
    }
    if let Some(r) = &a.record {
        words.push(format!("--record {}", r.display()));
    }
    words.join(" ")
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
    if let Some(path) = &a.record {
        let record = Record {
            command: command_line(&a),
            settings: settings.clone(),
            calibration: (*c).clone(),
        };
        crate::io::output::write_atomic(path, record.to_text().as_bytes())
            .map_err(|e| failure(format!("{}: cannot write: {e}", path.display())))?;
    }
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
