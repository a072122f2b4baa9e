//! A calibration's answer as text: the verdict, a table of parameters (estimate and
//! consistent range) and one of observations (observed, simulated, implausibility), then,
//! when nothing is consistent, what cannot be met and which pairs conflict.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use super::observe::Bound;
use super::Calibration;

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
