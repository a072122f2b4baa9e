//! LLM profiles from the user's records, llmperf and thefastest.ai.

use super::tables::short;
use super::*;

/// An LLM profile from three fields of the user's own records.
pub(super) fn plain_llm(a: &FitArgs) -> Result<(), CliError> {
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
    let source = format!("{} ({})", doc.name, sources::base_name(path));
    emit_llm(
        a,
        &path.display().to_string(),
        vec![(doc, f, samples, source)],
        Vec::new(),
    )
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

/// A fitted LLM profile: its document, fits, samples and a description of its source.
type Fitted = (ProfileDoc, LlmFit, Vec<LlmSample>, String);

/// Fit diagnostics of an LLM profile: time to first token, time per output token and output
/// tokens, each with its unit.
fn llm_figures<'a>(
    doc: &ProfileDoc,
    f: &'a LlmFit,
    samples: &[LlmSample],
    source: &str,
) -> Vec<FitFigure<'a>> {
    let columns: [(&str, &FitReport, Vec<f64>); 3] = [
        ("ttft", &f.ttft, samples.iter().map(|s| s.ttft).collect()),
        (
            "tpot",
            &f.tpot,
            samples.iter().filter_map(LlmSample::tpot).collect(),
        ),
        (
            "output_tokens",
            &f.tokens,
            samples.iter().map(|s| s.tokens).collect(),
        ),
    ];
    columns
        .into_iter()
        .zip(&f.choices)
        .map(|((quantity, report, values), choice)| FitFigure {
            stem: format!("{}_{quantity}", doc.name),
            samples: values,
            report,
            chosen: &choice.chosen,
            subject: subject(source.to_string(), quantity),
        })
        .collect()
}

/// Writes LLM profiles, draws their diagnostics and prints their table or JSON.
fn emit_llm(
    a: &FitArgs,
    title: &str,
    docs: Vec<Fitted>,
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
        for (d, ..) in &docs {
            write_doc(&dir.join(format!("{}.json", d.name)), d)?;
        }
    }
    let figures: Vec<FitFigure> = docs
        .iter()
        .flat_map(|(d, f, samples, source)| llm_figures(d, f, samples, source))
        .collect();
    draw_fits(a, &figures)?;
    for s in &skipped {
        eprintln!("skipped: {s}");
    }
    if a.json {
        let list: Vec<&ProfileDoc> = docs.iter().map(|(d, ..)| d).collect();
        return print_out(&to_json(&list));
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    // Quantities by their labels and units (scenario::fields).
    let label = |q: &str| subject(String::new(), q).quantity;
    let e2e = label("e2e");
    let mut header: Vec<String> = ["profile", "ok", "failed", "error rate"]
        .map(String::from)
        .to_vec();
    header.extend(["ttft", "tpot", "output_tokens"].map(|q| label(q).with_unit()));
    header.push(match e2e.unit {
        Some(u) => format!("{}, median ({u})", e2e.label),
        None => format!("{}, median", e2e.label),
    });
    t.set_header(header);
    for (d, f, ..) in &docs {
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

pub(super) fn from_llmperf(a: &FitArgs) -> Result<(), CliError> {
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
                let source = format!("{name} (llmperf {})", sources::base_name(&p.file));
                let doc = llm_doc(
                    name,
                    &llmperf::DATASET,
                    std::slice::from_ref(&p.file),
                    note,
                    &f,
                    failed,
                );
                docs.push((doc, f, samples, source));
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

pub(super) fn from_thefastest(a: &FitArgs) -> Result<(), CliError> {
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
    if by_model.is_empty() && (!a.model.is_empty() || a.cmd.is_some()) {
        let models: std::collections::BTreeSet<&str> =
            all.iter().map(|m| m.model.as_str()).collect();
        let mut shown: Vec<&str> = models.iter().copied().take(30).collect();
        if models.len() > shown.len() {
            shown.push("...");
        }
        return Err(bad(format!(
            "{}: no request matches{}{} ({} models: {})",
            path.display(),
            if a.model.is_empty() {
                String::new()
            } else {
                format!(" --model {}", a.model.join(" / "))
            },
            a.cmd
                .as_deref()
                .map_or_else(String::new, |c| format!(" --cmd {c:?}")),
            models.len(),
            shown.join(", ")
        )));
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
                let source = format!("{name} (thefastest.ai)");
                let doc = llm_doc(name, &thefastest::DATASET, &a.files, note, &f, failed);
                docs.push((doc, f, samples, source));
            }
            Err(e) => skipped.push(format!("{model} {region}: {e}")),
        }
    }
    emit_llm(a, "thefastest", docs, skipped)
}
