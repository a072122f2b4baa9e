//! `specsim fit`: fit distributions to samples or to a public dataset, write profiles.

use std::io::Write;
use std::path::{Path, PathBuf};

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use super::{failure, CliError, EXIT_BAD_INPUT};
use crate::dist::DistSpec;
use crate::fit::family::sig;
use crate::fit::profile::{
    choose, error_rate, fit_llm, Choice, FitSummary, LlmFit, LlmSample, Profile, ProfileDoc,
    EMPIRICAL_POINTS, PROFILE_VERSION,
};
use crate::fit::quantiles::{fit_quantiles, QuantileFit};
use crate::fit::samples::{
    check_latencies, read_samples, read_samples_with, DataError, Format, Located,
};
use crate::fit::{fit, FitReport};
use crate::output::write_atomic;
use crate::sources::{self, har, httparchive, llmperf, thefastest, Dataset};

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
    source: crate::fit::profile::Source,
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
    let source = crate::fit::profile::Source {
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

/// An LLM profile from three fields of the user's own records.
fn plain_llm(a: &FitArgs) -> Result<(), CliError> {
    let path = single_file(a)?;
    let fields = [
        a.ttft.as_deref().unwrap_or_default(),
        a.e2e.as_deref().unwrap_or_default(),
        a.tokens.as_deref().unwrap_or_default(),
    ];
    let mut cols = Vec::new();
    for f in fields {
        let xs = read_samples(path, a.format, Some(f))?;
        check_latencies(path, &format!("`{f}`"), &xs)?;
        cols.push(xs);
    }
    if cols[0].len() != cols[1].len() || cols[0].len() != cols[2].len() {
        return Err(bad(format!(
            "{}: fields give different counts (`{}` {}, `{}` {}, `{}` {}); every record needs all three",
            path.display(),
            fields[0],
            cols[0].len(),
            fields[1],
            cols[1].len(),
            fields[2],
            cols[2].len()
        )));
    }
    let samples: Vec<LlmSample> = (0..cols[0].len())
        .map(|i| LlmSample {
            ttft: cols[0][i].value,
            e2e: cols[1][i].value,
            tokens: cols[2][i].value,
        })
        .collect();
    let f = fit_llm(&samples).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    let dataset = Dataset {
        name: "",
        upstream: "",
        licence: "",
    };
    let mut doc = llm_doc(
        a.name.clone().unwrap_or_else(|| stem(path)),
        &dataset,
        &a.files,
        format!(
            "ttft `{}`, e2e `{}`, tokens `{}`; tpot = (e2e - ttft) / (tokens - 1)",
            fields[0], fields[1], fields[2]
        ),
        &f,
        0,
    );
    doc.source.dataset = sources::base_name(path);
    doc.failed = None;
    doc.error_rate = None;
    emit_llm(a, &path.display().to_string(), vec![(doc, f)], Vec::new())
}

fn paste_hint(doc: &ProfileDoc) -> String {
    let json = match &doc.profile {
        Profile::Latency(DistSpec::Empirical { samples }) => {
            format!(
                "{{\"dist\": \"empirical\", \"samples\": [{} values]}}",
                samples.len()
            )
        }
        Profile::Latency(d) => serde_json::to_string(d).unwrap_or_default(),
        Profile::Llm(l) => serde_json::to_string(l).unwrap_or_default(),
    };
    match doc.fits.first().filter(|f| !f.reason.is_empty()) {
        Some(f) => format!("profile ({}: {}): {json}\n", f.chosen, f.reason),
        None => format!(
            "profile ({}): {json}\n",
            doc.fits.first().map_or("", |f| f.chosen.as_str())
        ),
    }
}

/// The per-family table of one fit.
pub fn fit_table(title: &str, r: &FitReport) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "family",
        "parameters",
        "KS",
        "log-lik",
        "AIC",
        "chosen",
    ]);
    for f in &r.fits {
        let chosen = if Some(f.family) == r.best {
            "best AIC"
        } else {
            ""
        };
        t.add_row(vec![
            Cell::new(f.family.name()),
            Cell::new(f.params().describe()),
            Cell::new(format!("{:.4}", f.ks)),
            Cell::new(format!("{:.1}", f.log_likelihood)),
            Cell::new(format!("{:.1}", f.aic)),
            Cell::new(chosen),
        ]);
    }
    t.add_row(vec![
        Cell::new("empirical"),
        Cell::new(format!("{} samples (resampled)", r.n)),
        Cell::new("0"),
        Cell::new("n/a"),
        Cell::new("n/a"),
        Cell::new(""),
    ]);
    for s in &r.skipped {
        t.add_row(vec![
            Cell::new(s.family.name()),
            Cell::new(format!("skipped: {}", s.reason)),
            Cell::new(""),
            Cell::new(""),
            Cell::new(""),
            Cell::new(""),
        ]);
    }
    for i in 2..5 {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let choice = match r.best_fit() {
        Some(b) => format!(
            "best by AIC (smallest 2k - 2 ln L): {} ({})",
            b.family.name(),
            b.params().describe()
        ),
        None => format!("all samples equal: constant {}", r.median),
    };
    let mut choice = choice;
    if let Some(crate::fit::Params::Pareto { shape, .. }) = r.best_fit().map(|b| b.params()) {
        if shape <= 1.0 {
            choice.push_str(&format!(
                "\nwarning: pareto shape {} <= 1 has an infinite mean; simulated means will not settle (consider --empirical)",
                sig(shape)
            ));
        }
    }
    if let Some(b) = r.best_fit().filter(|b| b.ks > crate::fit::profile::KS_MAX) {
        choice.push_str(&format!(
            "\nwarning: KS {:.3} > {}: no family fits well (consider --empirical)",
            b.ks,
            crate::fit::profile::KS_MAX
        ));
    }
    format!(
        "{title}: n={} min={} median={} mean={} max={}\n{t}\n{choice}\n",
        r.n,
        sig(r.min),
        sig(r.median),
        sig(r.mean),
        sig(r.max)
    )
}

fn short(r: &FitReport, c: &Choice) -> String {
    let f = r.fits.iter().find(|f| f.family.name() == c.chosen);
    match f {
        Some(f) if Some(f.family) == r.best => {
            format!(
                "{} {} KS {:.3}",
                f.family.name(),
                f.params().describe(),
                f.ks
            )
        }
        Some(f) => format!(
            "{} {} KS {:.3} (*)",
            f.family.name(),
            f.params().describe(),
            f.ks
        ),
        None if c.chosen == "empirical" => "empirical (*)".to_string(),
        None => format!("constant {}", sig(r.median)),
    }
}

fn llm_doc(
    name: String,
    dataset: &Dataset,
    files: &[PathBuf],
    note: String,
    f: &LlmFit,
    failed: usize,
) -> ProfileDoc {
    ProfileDoc {
        specsim_profile: PROFILE_VERSION,
        name,
        source: dataset.source(files, note),
        n: f.ttft.n,
        failed: Some(failed),
        error_rate: Some(error_rate(f.ttft.n, failed)),
        profile: Profile::Llm(f.spec()),
        fits: f.summaries(),
    }
}

/// Writes LLM profiles and prints their table or JSON.
fn emit_llm(
    a: &FitArgs,
    title: &str,
    docs: Vec<(ProfileDoc, LlmFit)>,
    skipped: Vec<String>,
) -> Result<(), CliError> {
    if docs.is_empty() {
        return Err(bad(format!(
            "{title}: nothing to fit{}",
            if skipped.is_empty() {
                String::new()
            } else {
                format!(" ({})", skipped.join("; "))
            }
        )));
    }
    if let Some(out) = &a.out {
        if docs.len() != 1 {
            return Err(bad(format!(
                "--out writes one profile but {} were fitted; use --out-dir DIR, or select one (--model)",
                docs.len()
            )));
        }
        write_doc(out, &docs[0].0)?;
    }
    if let Some(dir) = &a.out_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| failure(format!("{}: cannot create directory: {e}", dir.display())))?;
        for (d, _) in &docs {
            write_doc(&dir.join(format!("{}.json", d.name)), d)?;
        }
    }
    for s in &skipped {
        eprintln!("skipped: {s}");
    }
    if a.json {
        let list: Vec<&ProfileDoc> = docs.iter().map(|(d, _)| d).collect();
        return print_out(&to_json(&list));
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "profile",
        "ok",
        "failed",
        "error rate",
        "ttft s",
        "tpot s",
        "output tokens",
        "e2e median s",
    ]);
    for (d, f) in &docs {
        t.add_row(vec![
            Cell::new(&d.name),
            Cell::new(d.n),
            Cell::new(d.failed.unwrap_or(0)),
            Cell::new(format!("{:.1}%", 100.0 * d.error_rate.unwrap_or(0.0))),
            Cell::new(short(&f.ttft, &f.choices[0])),
            Cell::new(short(&f.tpot, &f.choices[1])),
            Cell::new(short(&f.tokens, &f.choices[2])),
            Cell::new(sig(f.e2e.median)),
        ]);
    }
    print_out(&format!(
        "{title}: best family by AIC per quantity (tpot = (e2e - ttft) / (tokens - 1))\n{t}\n{}\n",
        "(*) not the smallest AIC: Pareto fits with tail index <= 2 and fits with KS > 0.2 are skipped; empirical = 100 quantiles when none is left"
    ))
}

fn from_llmperf(a: &FitArgs) -> Result<(), CliError> {
    let providers = llmperf::read(&a.files)?;
    let mut docs = Vec::new();
    let mut skipped = Vec::new();
    for p in &providers {
        let samples: Vec<LlmSample> = p.ok.iter().map(llmperf::Request::sample).collect();
        let failed = p.failed_total();
        let codes = p
            .failed
            .iter()
            .map(|(c, n)| format!("{n} x error_code {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        match fit_llm(&samples) {
            Ok(f) => {
                let note = format!(
                    "successful requests only (error_code null); failed: {}; tpot = (end_to_end_latency_s - ttft_s) / (number_output_tokens - 1)",
                    if codes.is_empty() { "none".to_string() } else { codes }
                );
                let name = format!("llmperf_{}", p.name);
                let doc = llm_doc(
                    name,
                    &llmperf::DATASET,
                    std::slice::from_ref(&p.file),
                    note,
                    &f,
                    failed,
                );
                docs.push((doc, f));
            }
            Err(e) => skipped.push(format!(
                "{}: {e} ({} ok, {failed} failed)",
                p.file.display(),
                samples.len()
            )),
        }
    }
    emit_llm(a, "llmperf", docs, skipped)
}

fn sanitize(model: &str) -> String {
    model
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn from_thefastest(a: &FitArgs) -> Result<(), CliError> {
    let path = single_file(a)?;
    let all = thefastest::read(path)?;
    let mut by_model: std::collections::BTreeMap<(&str, &str), (Vec<LlmSample>, usize)> =
        Default::default();
    for m in &all {
        if !a.model.is_empty() && !a.model.iter().any(|s| m.model.contains(s.as_str())) {
            continue;
        }
        if a.cmd.as_deref().is_some_and(|c| m.cmd != c) {
            continue;
        }
        let region = if a.per_region { m.region.as_str() } else { "" };
        let e = by_model.entry((&m.model, region)).or_default();
        if m.failed() {
            e.1 += 1;
        } else {
            e.0.push(m.sample());
        }
    }
    let mut docs = Vec::new();
    let mut skipped = Vec::new();
    for ((model, region), (samples, failed)) in by_model {
        match fit_llm(&samples) {
            Ok(f) => {
                let place = if region.is_empty() {
                    "all regions".to_string()
                } else {
                    format!("region {region}")
                };
                let note = format!(
                    "model {model}, {place}, all days{}; failed = no tokens or zero total_time; tpot = (total_time - ttft) / (num_tokens - 1)",
                    a.cmd.as_deref().map_or_else(String::new, |c| format!(", cmd {c:?}"))
                );
                let mut name = format!("thefastest_{}", sanitize(model));
                if !region.is_empty() {
                    name = format!("{name}_{region}");
                }
                let doc = llm_doc(name, &thefastest::DATASET, &a.files, note, &f, failed);
                docs.push((doc, f));
            }
            Err(e) => skipped.push(format!("{model} {region}: {e}")),
        }
    }
    emit_llm(a, "thefastest", docs, skipped)
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

fn quantile_table(a: &FitArgs, dataset: Option<Dataset>) -> Result<(), CliError> {
    let path = single_file(a)?;
    let rows = httparchive::read(path)?;
    let mut fitted = Vec::new();
    for r in &rows {
        let fits = fit_quantiles(&r.points)
            .map_err(|e| bad(format!("{}:{}: {e}", path.display(), r.line)))?;
        fitted.push((r, fits));
    }
    // The row --out writes.
    let chosen = match (a.row, a.client.as_deref()) {
        (Some(n), _) => Some(fitted.get(n as usize - 1).ok_or_else(|| {
            bad(format!(
                "--row {n}: {} has {} data rows",
                path.display(),
                rows.len()
            ))
        })?),
        (None, Some(c)) => {
            let latest = httparchive::latest(&rows, c).ok_or_else(|| {
                bad(format!(
                    "--client {c}: no row of {} has client={c}",
                    path.display()
                ))
            })?;
            fitted.iter().find(|(r, _)| r.line == latest.line)
        }
        (None, None) if rows.len() == 1 => fitted.first(),
        (None, None) => None,
    };
    if a.out.is_some() && chosen.is_none() {
        return Err(bad(format!(
            "--out writes one row but {} has {}; choose one with --row N or --client NAME",
            path.display(),
            rows.len()
        )));
    }
    let doc = chosen.map(|(r, fits)| quantile_doc(a, path, dataset, r, fits));
    if let (Some(out), Some(doc)) = (&a.out, &doc) {
        write_doc(out, doc)?;
    }
    if a.json {
        let all: Vec<serde_json::Value> = fitted
            .iter()
            .map(|(r, fits)| {
                serde_json::json!({"line": r.line, "labels": r.labels, "quantiles": r.points, "fits": fits})
            })
            .collect();
        return print_out(&to_json(&serde_json::json!({"rows": all, "profile": doc})));
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "line",
        "row",
        "best family",
        "parameters",
        "rms log err",
        "max rel err",
        "lognormal",
    ]);
    for (r, fits) in &fitted {
        let best = &fits[0];
        let ln = fits
            .iter()
            .find(|f| f.family == crate::fit::Family::Lognormal)
            .map_or_else(String::new, |f| f.params().describe());
        t.add_row(vec![
            Cell::new(r.line),
            Cell::new(r.describe(&["timestamp"])),
            Cell::new(best.family.name()),
            Cell::new(best.params().describe()),
            Cell::new(format!("{:.4}", best.rms_log_error)),
            Cell::new(format!("{:.1}%", 100.0 * best.max_rel_error)),
            Cell::new(ln),
        ]);
    }
    print_out(&format!(
        "{}: least squares on ln(quantile) per row; best = smallest rms log error\n{t}\n",
        path.display()
    ))?;
    if let Some(d) = &doc {
        print_out(&paste_hint(d))?;
    }
    Ok(())
}

fn quantile_doc(
    a: &FitArgs,
    path: &Path,
    dataset: Option<Dataset>,
    r: &httparchive::QuantileRow,
    fits: &[QuantileFit],
) -> ProfileDoc {
    let best = &fits[0];
    let note = format!(
        "quantile fit of line {} ({}): {}",
        r.line,
        r.describe(&["timestamp"]),
        r.points
            .iter()
            .map(|(p, q)| format!("p{}={q}", (p * 100.0).round()))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let files = vec![path.to_path_buf()];
    let source = match dataset {
        Some(d) => d.source(&files, note),
        None => crate::fit::profile::Source {
            dataset: sources::base_name(path),
            upstream: String::new(),
            licence: String::new(),
            files: vec![sources::base_name(path)],
            note,
        },
    };
    let name = a.name.clone().unwrap_or_else(|| {
        let label = [r.label("client"), r.label("date")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("_");
        if label.is_empty() {
            format!("{}_row{}", stem(path), r.line)
        } else {
            format!("{}_{label}", stem(path))
        }
    });
    let median = best.params().quantile(0.5).unwrap_or(f64::NAN);
    ProfileDoc {
        specsim_profile: PROFILE_VERSION,
        name,
        source,
        n: r.points.len(),
        failed: None,
        error_rate: None,
        profile: Profile::Latency(best.spec.clone()),
        fits: vec![FitSummary {
            quantity: "latency".into(),
            unit: "s".into(),
            n: r.points.len(),
            median,
            chosen: best.family.name().into(),
            reason: "smallest rms error of ln(quantile)".into(),
            ks: None,
            aic: None,
            rms_log_error: Some(best.rms_log_error),
        }],
    }
}
