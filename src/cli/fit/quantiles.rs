//! Fits from quantile tables (`--quantiles`, `--from httparchive`).

use super::tables::paste_hint;
use super::*;

pub(super) fn quantile_table(a: &FitArgs, dataset: Option<Dataset>) -> Result<(), CliError> {
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
    if let Some(dir) = &a.plots {
        // The row --out writes, else every row.
        let rows: Vec<&(&httparchive::QuantileRow, Vec<QuantileFit>)> = match chosen {
            Some(c) => vec![c],
            None => fitted.iter().collect(),
        };
        super::super::write_plots(dir, || {
            let mut written = Vec::new();
            for (r, fits) in rows {
                let labels = r.describe(&["timestamp"]);
                let mut source = format!("{} line {}", sources::base_name(path), r.line);
                if !labels.is_empty() {
                    source = format!("{source} ({labels})");
                }
                let stem = match (&doc, chosen) {
                    (Some(d), Some(_)) => d.name.clone(),
                    _ => format!("{}_line{}", stem(path), r.line),
                };
                written.extend(crate::plot::plot_quantile_fit(
                    &r.points,
                    fits,
                    &subject(source, "latency"),
                    dir,
                    &stem,
                )?);
            }
            Ok(written)
        })?;
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
            .find(|f| f.family == crate::data::fit::Family::Lognormal)
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
        None => crate::data::fit::profile::Source {
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
