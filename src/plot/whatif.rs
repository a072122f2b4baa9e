//! Figure: a recorded agent's what-if (`specsim whatif`). Speedup (with 95 % CI bands and
//! reference lines at 1x, 1.1x and 1.2x) or exposed web-time reduction against the draft's
//! accuracy P(k), one line per prefetch width, one figure per cache size.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::curve::{draw_axes, draw_band, draw_means, line_chart, line_values, to_positions};
use super::frame::{self, DrawResult, LegendEntry, Swatch};
use super::input::AxisValue;
use super::style::{self, Dash};
use super::sweep::{AxisScale, Line, Point};
use super::ticks::Ticks;
use super::{ensure_dir, render, Figure, Format, PlotError};
use crate::whatif::WhatIf;

/// Which quantity a what-if figure shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quantity {
    Speedup,
    WebReduction,
}

struct WhatIfFigure {
    quantity: Quantity,
    cache: u32,
    x: AxisScale,
    lines: Vec<Line>,
    subtitle: String,
}

impl WhatIfFigure {
    fn new(w: &WhatIf, cache: u32, quantity: Quantity) -> WhatIfFigure {
        let mut widths: Vec<u32> = w.points.iter().map(|p| p.width).collect();
        widths.sort_unstable();
        widths.dedup();
        let mut accs: Vec<f64> = w.points.iter().map(|p| p.accuracy).collect();
        accs.sort_by(f64::total_cmp);
        accs.dedup();
        let lines = widths
            .iter()
            .map(|&k| Line {
                label: format!("k = {k}"),
                policy: "speccache".into(),
                points: w
                    .points
                    .iter()
                    .filter(|p| p.width == k && p.cache == cache)
                    .map(|p| match quantity {
                        Quantity::Speedup => Point {
                            x: p.accuracy,
                            mean: p.speedup,
                            lo: p.speedup_ci_lo,
                            hi: p.speedup_ci_hi,
                        },
                        Quantity::WebReduction => Point {
                            x: p.accuracy,
                            mean: 100.0 * p.web_time_reduction,
                            lo: f64::NAN,
                            hi: f64::NAN,
                        },
                    })
                    .collect(),
            })
            .collect();
        WhatIfFigure {
            quantity,
            cache,
            x: AxisScale {
                path: "draft accuracy P(k)".into(),
                values: accs.into_iter().map(AxisValue::Num).collect(),
                numeric: true,
            },
            lines,
            subtitle: format!(
                "{} sessions replayed, {} replications per point; draft latency: {}",
                w.sessions, w.replications, w.draft_latency
            ),
        }
    }
}

impl Figure for WhatIfFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (title, y_desc, refs): (String, &str, Vec<f64>) = match self.quantity {
            Quantity::Speedup => (
                format!("What if: speedup vs draft accuracy (cache {})", self.cache),
                "speedup of session latency (×, vs no prefetch)",
                vec![1.0, 1.1, 1.2],
            ),
            Quantity::WebReduction => (
                format!(
                    "What if: exposed web time saved vs draft accuracy (cache {})",
                    self.cache
                ),
                "exposed web time saved (%)",
                vec![0.0],
            ),
        };
        let colors: Vec<RGBColor> = (0..self.lines.len()).map(style::series_color).collect();
        let mut entries: Vec<LegendEntry> = self
            .lines
            .iter()
            .zip(&colors)
            .map(|(l, &c)| LegendEntry::new(l.label.clone(), Swatch::LineBand(c, Dash::Solid)))
            .collect();
        if self.quantity == Quantity::Speedup {
            entries.push(LegendEntry::new(
                "1×, 1.1×, 1.2×",
                Swatch::Line(style::GREY, Dash::Dashed),
            ));
        }
        let heading = "width";
        let width = frame::legend_width(root, Some(heading), &entries);
        let (area, legend) = frame::layout(root, &title, &self.subtitle, width)?;
        let (x0, x1) = self.x.range();
        let values = line_values(&self.lines).chain(refs.iter().copied());
        let y = match self.quantity {
            Quantity::Speedup => Ticks::ratio(values, 8),
            Quantity::WebReduction => {
                let (lo, hi) = values.fold((0.0f64, 1.0f64), |(a, b), v| (a.min(v), b.max(v)));
                Ticks::linear(lo, hi * 1.05, 8)
            }
        };
        let mut chart = line_chart(&area, &self.x, &y)?;
        draw_axes(root, &mut chart, &self.x, &y, y_desc)?;
        for r in refs {
            frame::draw_line(
                chart.plotting_area(),
                vec![(x0, y.pos(r)), (x1, y.pos(r))],
                style::GREY,
                Dash::Dashed,
                2,
            )?;
        }
        let shown: Vec<Vec<Point>> = self
            .lines
            .iter()
            .map(|l| to_positions(&l.points, &y))
            .collect();
        for (line, &c) in shown.iter().zip(&colors) {
            draw_band(&mut chart, line, c)?;
        }
        for (line, &c) in shown.iter().zip(&colors) {
            draw_means(&mut chart, line, c, Dash::Solid, style::LINE_WIDTH, true)?;
        }
        frame::legend(&legend, Some(heading), &entries, 20)
    }
}

/// Draws the what-if figures into `dir`: per cache size, `whatif_speedup_cache<C>` and
/// `whatif_web_cache<C>`, in each format; returns the files written.
pub fn plot_whatif(w: &WhatIf, dir: &Path, formats: &[Format]) -> Result<Vec<PathBuf>, PlotError> {
    if w.points.is_empty() {
        return Err(PlotError::usage("what-if: no points to draw"));
    }
    ensure_dir(dir)?;
    let mut caches: Vec<u32> = w.points.iter().map(|p| p.cache).collect();
    caches.sort_unstable();
    caches.dedup();
    let mut out = Vec::new();
    for c in caches {
        for (q, stem) in [
            (Quantity::Speedup, "whatif_speedup"),
            (Quantity::WebReduction, "whatif_web"),
        ] {
            let fig = WhatIfFigure::new(w, c, q);
            out.extend(render(&fig, dir, &format!("{stem}_cache{c}"), formats)?);
        }
    }
    Ok(out)
}
