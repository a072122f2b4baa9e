//! Tables and one-line summaries printed by `specsim fit`.

use super::*;

/// The per-family table of one fit.
pub(super) fn fit_table(title: &str, r: &FitReport) -> String {
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
    if let Some(crate::data::fit::Params::Pareto { shape, .. }) = r.best_fit().map(|b| b.params()) {
        if shape <= 1.0 {
            choice.push_str(&format!(
                "\nwarning: pareto shape {} <= 1 has an infinite mean; simulated means will not settle (consider --empirical)",
                sig(shape)
            ));
        }
    }
    if let Some(b) = r
        .best_fit()
        .filter(|b| b.ks > crate::data::fit::profile::KS_MAX)
    {
        choice.push_str(&format!(
            "\nwarning: KS {:.3} > {}: no family fits well (consider --empirical)",
            b.ks,
            crate::data::fit::profile::KS_MAX
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

pub(super) fn short(r: &FitReport, c: &Choice) -> String {
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

pub(super) fn paste_hint(doc: &ProfileDoc) -> String {
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
