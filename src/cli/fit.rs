//! `specsim fit`: fit distributions to samples or to a public dataset, write profiles.

use std::io::Write;
use std::path::{Path, PathBuf};

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use super::{failure, CliError, EXIT_BAD_INPUT};
use crate::data::fit::family::sig;
use crate::data::fit::profile::{
    choose, error_rate, fit_llm, Choice, FitSummary, LlmFit, LlmSample, Profile, ProfileDoc,
    EMPIRICAL_POINTS, PROFILE_VERSION,
};
use crate::data::fit::quantiles::{fit_quantiles, QuantileFit};
use crate::data::fit::samples::{
    check_latencies, read_samples, read_samples_with, DataError, Format, Located,
};
use crate::data::fit::{fit, FitReport};
use crate::data::sources::{self, har, httparchive, llmperf, thefastest, Dataset};
use crate::io::output::write_atomic;
use crate::sim::dist::DistSpec;

mod llm;
mod quantiles;
mod tables;

use llm::{from_llmperf, from_thefastest, plain_llm};
use quantiles::quantile_table;
use tables::{fit_table, paste_hint};

/// Datasets `--from` understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum From {
    /// ray-project/llmperf-leaderboard raw results (*.json per provider): LLM profiles.
    Llmperf,
    /// fixie-ai/thefastest.ai measurements.jsonl: LLM profiles per model.
    Thefastest,
    /// HAR files (*.har): fetch-latency samples.
    Har,
    /// HTTP Archive quantile CSV (speed_index): fetch latency from quantiles.
    Httparchive,
}

#[derive(Debug, clap::Args)]
pub struct FitArgs {
    /// Samples to fit (CSV, JSON or JSON Lines), or with --from the dataset's files or
    /// directories.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// CSV column (by header) or JSON field path (`a.b`, `runs.0.t`) holding the samples.
    #[arg(long)]
    field: Option<String>,
    /// Input format (default: from the extension, else from the content).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Skip records where the field is absent, null or empty (e.g. a trace's header and
    /// session lines) instead of failing; the count is printed.
    #[arg(long, conflicts_with = "ttft")]
    skip_missing: bool,
    /// Multiply every sample by this factor first (e.g. 0.001 for milliseconds).
    #[arg(long)]
    scale: Option<f64>,
    /// The file holds quantiles, not samples: CSV columns p10, p25, ... one distribution
    /// per row.
    #[arg(long)]
    quantiles: bool,
    /// With --quantiles: the data row (1 = first row after the header) to write with --out.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    row: Option<u64>,
    /// Import a public dataset instead of plain samples (see docs/data.md).
    #[arg(long, value_enum)]
    from: Option<From>,
    /// With --from thefastest: only models whose name contains this text (repeatable).
    #[arg(long)]
    model: Vec<String>,
    /// With --from thefastest: only requests run with exactly this `cmd` (request settings).
    #[arg(long, allow_hyphen_values = true)]
    cmd: Option<String>,
    /// With --from thefastest: one profile per model and region instead of per model.
    #[arg(long)]
    per_region: bool,
    /// Fit an LLM profile from three fields of each record: time to first token (s).
    #[arg(long, requires_all = ["e2e", "tokens"], conflicts_with_all = ["field", "from", "quantiles"])]
    ttft: Option<String>,
    /// With --ttft: end-to-end latency field (s).
    #[arg(long, requires = "ttft")]
    e2e: Option<String>,
    /// With --ttft: output-token count field.
    #[arg(long, requires = "ttft")]
    tokens: Option<String>,
    /// With --from har: which timing to fit.
    #[arg(long, value_enum, default_value_t = har::What::Requests)]
    har: har::What,
    /// With --from httparchive: the client (desktop or mobile) whose latest row --out writes.
    #[arg(long)]
    client: Option<String>,
    /// Write the empirical distribution (100 quantiles of the sample) instead of the chosen
    /// parametric family (see docs/fitting.md for how it is chosen).
    #[arg(long)]
    empirical: bool,
    /// Profile name recorded in the output (default: from the input).
    #[arg(long)]
    name: Option<String>,
    /// Write the profile (one fit) to this file, atomically.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write one profile per provider or model into this directory (--from llmperf,
    /// thefastest).
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Also draw fit diagnostics (ECDF with fitted distributions, Q-Q plot) into this
    /// directory: one figure per fitted quantity (LLM profiles: ttft, tpot, output tokens)
    /// or quantile row.
    #[arg(long, value_name = "DIR")]
    plots: Option<PathBuf>,
}

/// A bad-input error (exit 2).
pub(super) fn bad_input(message: impl Into<String>) -> CliError {
    bad(message)
}

fn bad(message: impl Into<String>) -> CliError {
    CliError {
        code: EXIT_BAD_INPUT,
        message: message.into(),
    }
}

impl std::convert::From<DataError> for CliError {
    fn from(e: DataError) -> Self {
        bad(e.to_string())
    }
}

/// Writes `text` to stdout, ignoring a closed pipe.
pub(super) fn print_out(text: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(failure(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

fn write_doc(path: &Path, doc: &ProfileDoc) -> Result<(), CliError> {
    write_atomic(path, doc.to_json().as_bytes())
        .map_err(|e| failure(format!("{}: cannot write profile: {e}", path.display())))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// One fit diagnostics figure to draw with `--plots`.
struct FitFigure<'a> {
    /// File name without extension.
    stem: String,
    samples: Vec<f64>,
    report: &'a FitReport,
    /// What the profile uses (`lognormal`, `empirical`, ...).
    chosen: &'a str,
    subject: crate::plot::FitSubject,
}

/// The subject of a figure: `source`, and the profile quantity `quantity` with its unit.
fn subject(source: String, quantity: &str) -> crate::plot::FitSubject {
    crate::plot::FitSubject {
        source,
        quantity: crate::scenario::fields::profile_quantity(quantity).unwrap_or_else(|| {
            crate::scenario::fields::FieldLabel {
                label: quantity.to_string(),
                unit: None,
            }
        }),
    }
}

/// Draws `figures` into the `--plots` directory, if one was given.
fn draw_fits(a: &FitArgs, figures: &[FitFigure]) -> Result<(), CliError> {
    let Some(dir) = &a.plots else {
        return Ok(());
    };
    super::write_plots(dir, || {
        let mut written = Vec::new();
        for f in figures {
            if f.report.best.is_none() {
                eprintln!(
                    "plots: no figure for {}: all {} samples equal {} (nothing to compare)",
                    f.stem,
                    f.report.n,
                    sig(f.report.median)
                );
                continue;
            }
            written.extend(crate::plot::plot_fit_report(
                &f.samples,
                f.report,
                Some(f.chosen),
                &f.subject,
                dir,
                &f.stem,
            )?);
        }
        Ok(written)
    })
}

pub fn run(a: FitArgs) -> Result<(), CliError> {
    if let Some(s) = a.scale {
        if !(s.is_finite() && s > 0.0) {
            return Err(bad(format!(
                "--scale: must be a finite number > 0, got {s}"
            )));
        }
    }
    if a.out.is_some() && a.out_dir.is_some() {
        return Err(bad("give either --out or --out-dir, not both"));
    }
    match a.from {
        None if a.quantiles => quantile_table(&a, None),
        None if a.ttft.is_some() => plain_llm(&a),
        None => plain(&a),
        Some(From::Llmperf) => from_llmperf(&a),
        Some(From::Thefastest) => from_thefastest(&a),
        Some(From::Har) => from_har(&a),
        Some(From::Httparchive) => quantile_table(&a, Some(httparchive::DATASET)),
    }
}

fn single_file(a: &FitArgs) -> Result<&Path, CliError> {
    match a.files.as_slice() {
        [one] => Ok(one),
        many => Err(bad(format!(
            "this mode reads one file, got {}: {}",
            many.len(),
            many.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map_or_else(|| "profile".into(), |s| s.to_string_lossy().into_owned())
}

/// Checks, scales and fits samples read from `path`.
fn fit_located(
    path: &Path,
    what: &str,
    xs: &[Located],
    scale: Option<f64>,
) -> Result<FitReport, CliError> {
    check_latencies(path, what, xs)?;
    let values: Vec<f64> = xs.iter().map(|x| x.value * scale.unwrap_or(1.0)).collect();
    fit(&values).map_err(|e| bad(format!("{}: {what}: {e}", path.display())))
}

fn latency_doc(
    name: String,
    source: crate::data::fit::profile::Source,
    report: &FitReport,
    values: &[f64],
    empirical: bool,
) -> ProfileDoc {
    let choice = if empirical {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Choice {
            spec: FitReport::empirical_spec(&sorted, EMPIRICAL_POINTS),
            chosen: "empirical".into(),
            reason: format!("--empirical: {EMPIRICAL_POINTS} quantiles of the sample"),
            ks_aic: None,
        }
    } else {
        choose(report, values)
    };
    let spec = choice.spec.clone();
    let summary = FitSummary::new("latency", "s", report, &choice);
    ProfileDoc {
        specsim_profile: PROFILE_VERSION,
        name,
        source,
        n: report.n,
        failed: None,
        error_rate: None,
        profile: Profile::Latency(spec),
        fits: vec![summary],
    }
}

fn plain(a: &FitArgs) -> Result<(), CliError> {
    let path = single_file(a)?;
    let (xs, skipped) = read_samples_with(path, a.format, a.field.as_deref(), a.skip_missing)?;
    if skipped > 0 {
        eprintln!("skipped {skipped} records without a value (--skip-missing)");
    }
    let what = a
        .field
        .as_deref()
        .map_or_else(|| "value".to_string(), |f| format!("`{f}`"));
    let report = fit_located(path, &what, &xs, a.scale)?;
    let values: Vec<f64> = xs
        .iter()
        .map(|x| x.value * a.scale.unwrap_or(1.0))
        .collect();
    let source = crate::data::fit::profile::Source {
        dataset: sources::base_name(path),
        upstream: String::new(),
        licence: String::new(),
        files: vec![sources::base_name(path)],
        note: match &a.field {
            Some(f) => format!("field `{f}`"),
            None => String::new(),
        },
    };
    let name = a.name.clone().unwrap_or_else(|| stem(path));
    let doc = latency_doc(name, source, &report, &values, a.empirical);
    if let Some(out) = &a.out {
        write_doc(out, &doc)?;
    }
    let source = match &a.field {
        Some(f) => format!("{}, field `{f}`", sources::base_name(path)),
        None => sources::base_name(path),
    };
    draw_fits(
        a,
        &[FitFigure {
            stem: stem(path),
            samples: values,
            report: &report,
            chosen: &doc.fits[0].chosen,
            subject: subject(source, "latency"),
        }],
    )?;
    if a.json {
        print_out(&to_json(
            &serde_json::json!({"fit": report, "profile": doc}),
        ))
    } else {
        let title = format!("{} ({what})", path.display());
        print_out(&fit_table(&title, &report))?;
        print_out(&paste_hint(&doc))
    }
}

fn from_har(a: &FitArgs) -> Result<(), CliError> {
    let files = har::read(&a.files)?;
    let what = match a.har {
        har::What::Requests => "request time",
        har::What::Documents => "HTML document request time",
        har::What::Onload => "page onLoad",
    };
    let mut values = Vec::new();
    let mut zero = 0;
    let mut no_onload = 0;
    for f in &files {
        values.extend(f.get(a.har).iter().map(|x| x.value));
        zero += f.zero_requests;
        no_onload += f.pages_without_onload;
    }
    let paths: Vec<PathBuf> = files.iter().map(|f| f.file.clone()).collect();
    let report =
        fit(&values).map_err(|e| bad(format!("{} HAR file(s), {what}: {e}", files.len())))?;
    let note = format!(
        "{what}, seconds, pooled over {} HAR files; {zero} zero-time requests (cache) and {no_onload} pages without onLoad left out",
        files.len()
    );
    let name = a.name.clone().unwrap_or_else(|| {
        format!(
            "har_{}",
            match a.har {
                har::What::Requests => "requests",
                har::What::Documents => "documents",
                har::What::Onload => "onload",
            }
        )
    });
    let doc = latency_doc(
        name,
        har::DATASET.source(&paths, note),
        &report,
        &values,
        a.empirical,
    );
    if let Some(out) = &a.out {
        write_doc(out, &doc)?;
    }
    draw_fits(
        a,
        &[FitFigure {
            stem: doc.name.clone(),
            samples: values,
            report: &report,
            chosen: &doc.fits[0].chosen,
            subject: subject(format!("HAR {what} ({} files)", files.len()), "latency"),
        }],
    )?;
    if a.json {
        print_out(&to_json(
            &serde_json::json!({"fit": report, "profile": doc}),
        ))
    } else {
        print_out(&fit_table(
            &format!("HAR {what} ({} files)", files.len()),
            &report,
        ))?;
        print_out(&paste_hint(&doc))
    }
}
