//! Figure: a metric (speedup by default) of one policy over two sweep axes, as a heatmap
//! with the value written in every cell and a colour bar.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::frame::{self, DrawResult};
use super::style;
use super::sweep::{AxisScale, Metric, Plan};
use super::ticks::Ticks;
use super::{Figure, PlotError};

pub(crate) struct Heatmap {
    metric: Metric,
    x: AxisScale,
    y: AxisScale,
    /// `cells[yi][xi]`: the mean, NaN where the sweep has no value.
    cells: Vec<Vec<f64>>,
    subtitle: String,
}

impl Heatmap {
    pub fn new(plan: &Plan, metric: Metric) -> Result<Heatmap, PlotError> {
        let Some(y) = plan.second.clone() else {
            return Err(PlotError::usage(
                "a heatmap needs a second axis (--second-axis)",
            ));
        };
        let x = plan.x.clone();
        let mut cells = vec![vec![f64::NAN; x.values.len()]; y.values.len()];
        let mut seen = vec![vec![None::<&str>; x.values.len()]; y.values.len()];
        for r in plan.rows.iter().filter(|r| r.row.policy == plan.policy) {
            let (Some(xv), Some(yv)) = (r.axes.get(&x.path), r.axes.get(&y.path)) else {
                continue;
            };
            let xi = x.values.iter().position(|v| v == xv).unwrap_or(0);
            let yi = y.values.iter().position(|v| v == yv).unwrap_or(0);
            if let Some(other) = seen[yi][xi] {
                return Err(PlotError::usage(format!(
                    "cells {other} and {} have the same {} and {} for policy {}: \
                     the sweep has more axes than the heatmap shows",
                    r.cell, x.path, y.path, plan.policy
                )));
            }
            seen[yi][xi] = Some(&r.cell);
            cells[yi][xi] = metric.value(&r.row).map_or(f64::NAN, |v| v.0);
        }
        if cells.iter().flatten().all(|v| !v.is_finite()) {
            return Err(PlotError::usage(format!(
                "{}: no finite values of policy {} to draw",
                metric.name(),
                plan.policy
            )));
        }
        let subtitle = format!(
            "policy {}; cells: {}{}",
            plan.policy,
            metric.aggregation(),
            plan.fixed_note()
        );
        Ok(Heatmap {
            metric,
            x,
            y,
            cells,
            subtitle,
        })
    }

    fn cell_text(&self, v: f64) -> String {
        if !v.is_finite() {
            return "–".into();
        }
        match self.metric {
            Metric::HitRate => format!("{v:.2}"),
            _ => format!("{v:.2}×"),
        }
    }
}

impl Figure for Heatmap {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let title = format!(
            "{} over {} and {}",
            self.metric.title(),
            self.x.name(),
            self.y.name()
        );
        let (area, legend) = frame::layout(root, &title, &self.subtitle, 170)?;
        let (nx, ny) = (self.x.values.len(), self.y.values.len());
        let mut chart = ChartBuilder::on(&area)
            .margin_top(20)
            .margin_right(20)
            .margin_left(10)
            .x_label_area_size(70)
            .y_label_area_size(110)
            .build_cartesian_2d(-0.5..(nx as f64 - 0.5), -0.5..(ny as f64 - 0.5))?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(0)
            .y_labels(0)
            .x_desc(self.x.label())
            .y_desc(self.y.label())
            .axis_desc_style(style::font(style::LABEL_SIZE).color(&style::TEXT))
            .draw()?;
        let finite = || {
            self.cells
                .iter()
                .flatten()
                .copied()
                .filter(|v| v.is_finite())
        };
        let lo = finite().fold(f64::INFINITY, f64::min);
        let hi = finite().fold(f64::NEG_INFINITY, f64::max);
        let scale = |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
        // Shrink the cell text until the widest value fits its cell (down to 11 px).
        let cell_w = (chart.backend_coord(&(1.0, 0.0)).0 - chart.backend_coord(&(0.0, 0.0)).0)
            .unsigned_abs();
        let widest = self
            .cells
            .iter()
            .flatten()
            .map(|v| {
                area.estimate_text_size(
                    &self.cell_text(*v),
                    &style::font(style::CELL_SIZE).color(&style::TEXT),
                )
                .map_or(0, |(w, _)| w)
            })
            .max()
            .unwrap_or(0)
            .max(1);
        let fit = (cell_w.saturating_sub(8)) as f64 / widest as f64;
        let cell_font = (style::CELL_SIZE * fit.min(1.0)).max(11.0);
        for (yi, row) in self.cells.iter().enumerate() {
            for (xi, &v) in row.iter().enumerate() {
                let (cx, cy) = (xi as f64, yi as f64);
                let color = if v.is_finite() {
                    style::viridis(scale(v))
                } else {
                    style::LIGHT_GREY
                };
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(cx - 0.5, cy - 0.5), (cx + 0.5, cy + 0.5)],
                    color.filled(),
                )))?;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(cx - 0.5, cy - 0.5), (cx + 0.5, cy + 0.5)],
                    WHITE.stroke_width(2),
                )))?;
                let text_color = if v.is_finite() && style::needs_light_text(color) {
                    WHITE
                } else {
                    style::BLACK
                };
                let (px, py) = chart.backend_coord(&(cx, cy));
                root.draw(&Text::new(
                    self.cell_text(v),
                    (px, py),
                    style::font(cell_font)
                        .color(&text_color)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                ))?;
            }
        }
        let tick = style::font(style::TICK_SIZE).color(&style::TEXT);
        for (i, v) in self.x.values.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(i as f64, -0.5));
            root.draw(&Text::new(
                frame::fit_label(&v.to_string(), cell_w as i32 - 6, style::TICK_SIZE),
                (px, py + 10),
                tick.clone().pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        for (i, v) in self.y.values.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(-0.5, i as f64));
            root.draw(&Text::new(
                frame::fit_label(&v.to_string(), 95, style::TICK_SIZE),
                (px - 10, py),
                tick.clone().pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
        }
        // Colour bar.
        let (_, h) = legend.dim_in_pixel();
        let (bx0, bx1) = (20, 50);
        let (by0, by1) = (40, (h as i32 - 90).max(80));
        let steps = (by1 - by0).max(1);
        for s in 0..steps {
            let t = 1.0 - s as f64 / steps as f64;
            legend.draw(&Rectangle::new(
                [(bx0, by0 + s), (bx1, by0 + s + 1)],
                style::viridis(t).filled(),
            ))?;
        }
        legend.draw(&Rectangle::new(
            [(bx0, by0), (bx1, by1)],
            style::GREY.stroke_width(1),
        ))?;
        legend.draw(&Text::new(
            self.metric.short_label().to_string(),
            (bx0, by0 - 30),
            tick.clone(),
        ))?;
        // Round ticks at one precision within the colour range (the cells keep 2 decimals).
        let ticks: Vec<(f64, String)> = if hi > lo {
            let t = Ticks::linear(lo, hi, 6);
            let unit = if self.metric == Metric::HitRate {
                ""
            } else {
                "×"
            };
            t.values
                .iter()
                .map(|&v| (v, format!("{}{unit}", t.label(v))))
                .collect()
        } else {
            vec![(lo, self.cell_text(lo))]
        };
        for (v, text) in ticks {
            let t = scale(v);
            let y = by1 - ((by1 - by0) as f64 * t).round() as i32;
            legend.draw(&PathElement::new(
                vec![(bx1, y), (bx1 + 6, y)],
                style::GREY.stroke_width(1),
            ))?;
            legend.draw(&Text::new(
                text,
                (bx1 + 10, y),
                tick.clone().pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        Ok(())
    }
}
