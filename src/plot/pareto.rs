//! Figure: a tuning's configurations (`specsim tune`), speedup against dollars per 1,000
//! sessions of draft tokens; the Pareto front in colour by draft, the rest in grey, the
//! chosen configuration ringed, the target speedup dashed.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::frame::{self, DrawResult, LegendEntry, Swatch};
use super::style::{self, Dash};
use super::ticks::Ticks;
use super::{ensure_dir, render, Figure, Format, PlotError};
use crate::tune::Tuning;

struct ParetoFigure<'a> {
    t: &'a Tuning,
}

impl ParetoFigure<'_> {
    fn x_ticks(&self) -> Ticks {
        let costs = self
            .t
            .configurations
            .iter()
            .map(|c| c.cost_per_1000_sessions);
        let (lo, hi) = costs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if lo > 0.0 && hi / lo >= super::ticks::LOG_SPAN {
            Ticks::log(lo, hi, 8, 0.06)
        } else if lo.is_finite() {
            let pad = ((hi - lo) * 0.06).max(1e-6);
            Ticks::linear((lo - pad).max(0.0), hi + pad, 8)
        } else {
            Ticks::linear(0.0, 1.0, 8)
        }
    }
}

impl Figure for ParetoFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let t = self.t;
        let drafts = &t.grid.drafts;
        let color = |name: &str| {
            let i = drafts.iter().position(|d| d == name).unwrap_or(0);
            style::series_color(i)
        };
        let mut entries: Vec<LegendEntry> = drafts
            .iter()
            .map(|d| LegendEntry::new(d.clone(), Swatch::Dot(color(d))))
            .collect();
        entries.push(LegendEntry::new(
            "not on the front",
            Swatch::Dot(style::LIGHT_GREY),
        ));
        if let Some(target) = t.goal.target_speedup {
            entries.push(LegendEntry::new(
                format!("target {target}x"),
                Swatch::Line(style::GREY, Dash::Dashed),
            ));
        }
        let title = format!("tune: speedup vs draft cost ({})", t.scenario);
        let subtitle = format!(
            "{} configurations, {} on the Pareto front (also minimising extra fetches/s); {} replications x {} sessions",
            t.configurations.len(),
            t.front.len(),
            t.replications,
            t.sessions
        );
        let width = frame::legend_width(root, Some("draft"), &entries);
        let (area, legend) = frame::layout(root, &title, &subtitle, width)?;
        let x = self.x_ticks();
        let y = Ticks::ratio(
            t.configurations
                .iter()
                .map(|c| c.speedup)
                .chain([1.0])
                .chain(t.goal.target_speedup),
            8,
        );
        let mut chart = super::fit::panel(
            &area,
            &x,
            &y,
            "draft cost, dollars per 1,000 sessions",
            "speedup of session latency (×, vs no prefetch)",
        )?;
        let (x0, x1) = x.range;
        if let Some(target) = t.goal.target_speedup {
            frame::draw_line(
                chart.plotting_area(),
                vec![(x0, y.pos(target)), (x1, y.pos(target))],
                style::GREY,
                Dash::Dashed,
                2,
            )?;
        }
        let on_front = |i: usize| t.front.iter().any(|c| c.index == i);
        let pos = |c: &crate::tune::Config| (x.pos(c.cost_per_1000_sessions), y.pos(c.speedup));
        chart.draw_series(
            t.configurations
                .iter()
                .filter(|c| !on_front(c.index))
                .map(|c| Circle::new(pos(c), 5, style::LIGHT_GREY.filled())),
        )?;
        chart.draw_series(
            t.front
                .iter()
                .map(|c| Circle::new(pos(c), 7, color(&c.draft).filled())),
        )?;
        if let Some(c) = &t.chosen {
            chart.draw_series(std::iter::once(Circle::new(
                pos(c),
                12,
                style::BLACK.stroke_width(2),
            )))?;
        }
        frame::legend(&legend, Some("draft"), &entries, 20)
    }
}

/// Draws `tune_pareto` into `dir` in each format; returns the files written.
pub fn plot_pareto(t: &Tuning, dir: &Path, formats: &[Format]) -> Result<Vec<PathBuf>, PlotError> {
    if t.configurations.is_empty() {
        return Err(PlotError::usage("tune: no configurations to draw"));
    }
    ensure_dir(dir)?;
    render(&ParetoFigure { t }, dir, "tune_pareto", formats)
}
