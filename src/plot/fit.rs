//! Figure: fit diagnostics. Left, the ECDF of the samples with the ECDF of each fitted
//! distribution; right, a Q-Q plot of the chosen family against the samples.
//!
//! Fitted curves come from draws, not closed forms, so every distribution the simulator can
//! sample (mixtures and empirical ones included) can be drawn: 20 000 draws from a fixed
//! stream make the curves deterministic and smooth to within about 1 % of probability.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::frame::{self, DrawResult, LegendEntry, Swatch};
use super::style::{self, Dash};
use super::{Figure, PlotError};
use crate::sim::dist::Dist;
use crate::sim::rng::{Purpose, StreamKey};

/// Draws per fitted distribution.
const DRAWS: usize = 20_000;
/// Most points on the Q-Q plot.
const QQ_POINTS: usize = 400;
/// Colours of the families not chosen (vermillion marks the chosen one).
const OTHERS: [RGBColor; 6] = [
    style::BLUE,
    style::BLUISH_GREEN,
    style::ORANGE,
    style::REDDISH_PURPLE,
    style::SKY_BLUE,
    style::BLACK,
];
/// The samples' ECDF: a wide, light line under the fitted curves.
const SAMPLE_GREY: RGBColor = RGBColor(175, 175, 175);

pub(crate) struct Fit {
    samples: Vec<f64>,
    /// `(name, sorted draws)`, the chosen family first.
    fitted: Vec<(String, Vec<f64>)>,
    best: String,
}

impl Fit {
    pub fn new(samples: &[f64], fitted: &[(String, Dist)], best: &str) -> Result<Fit, PlotError> {
        if samples.is_empty() {
            return Err(PlotError::usage("fit plot: no samples"));
        }
        if let Some(i) = samples.iter().position(|x| !x.is_finite()) {
            return Err(PlotError::usage(format!(
                "fit plot: sample {i} is {} (samples must be finite)",
                samples[i]
            )));
        }
        if !fitted.iter().any(|(n, _)| n == best) {
            let names: Vec<&str> = fitted.iter().map(|(n, _)| n.as_str()).collect();
            return Err(PlotError::usage(format!(
                "fit plot: the chosen family `{best}` is not among the fitted ones ({})",
                names.join(", ")
            )));
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let key = StreamKey::root(0x0f17_d1a6);
        let mut draws: Vec<(String, Vec<f64>)> = fitted
            .iter()
            .enumerate()
            .map(|(i, (name, d))| {
                let mut rng = key.rng(0, i as u64, Purpose::Other);
                let mut v: Vec<f64> = (0..DRAWS).map(|_| d.sample(&mut rng)).collect();
                v.sort_by(f64::total_cmp);
                (name.clone(), v)
            })
            .collect();
        draws.sort_by_key(|(n, _)| n != best);
        Ok(Fit {
            samples: s,
            fitted: draws,
            best: best.to_string(),
        })
    }
}

/// The `p`-quantile of sorted values (nearest rank).
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let i = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
    sorted[i]
}

/// The fraction of sorted values `<= x`.
fn ecdf(sorted: &[f64], x: f64) -> f64 {
    sorted.partition_point(|v| *v <= x) as f64 / sorted.len() as f64
}

fn axis_style<DB: DrawingBackend, X, Y>(
    chart: &mut ChartContext<DB, Cartesian2d<X, Y>>,
    x_desc: &str,
    y_desc: &str,
) -> DrawResult<DB>
where
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>
        + plotters::coord::ranged1d::ValueFormatter<f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>
        + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(style::LIGHT_GREY)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style(style::font(style::LABEL_SIZE).color(&style::TEXT))
        .label_style(style::font(style::TICK_SIZE).color(&style::TEXT))
        .x_label_formatter(&|x| frame::short_number(*x))
        .y_label_formatter(&|y| frame::short_number(*y))
        .x_labels(6)
        .draw()
}

impl Figure for Fit {
    fn size(&self) -> (u32, u32) {
        (style::FIT_WIDTH, style::FIT_HEIGHT)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let n = self.samples.len();
        let subtitle = format!(
            "{n} samples; fitted curves from {DRAWS} draws each; chosen family: {}",
            self.best
        );
        let styles: Vec<(RGBColor, Dash, u32)> = self
            .fitted
            .iter()
            .enumerate()
            .map(|(i, (name, _))| {
                if *name == self.best {
                    (style::VERMILLION, Dash::Solid, style::LINE_WIDTH)
                } else {
                    // The chosen family is first; the others take the palette without
                    // its vermillion.
                    (OTHERS[(i.max(1) - 1) % OTHERS.len()], Dash::Dashed, 2)
                }
            })
            .collect();
        let mut entries = vec![LegendEntry::new(
            format!("samples (n = {n})"),
            Swatch::Line(SAMPLE_GREY, Dash::Solid),
        )];
        for ((name, _), &(c, d, _)) in self.fitted.iter().zip(&styles) {
            let label = if *name == self.best {
                format!("{name} (chosen)")
            } else {
                name.clone()
            };
            entries.push(LegendEntry::new(label, Swatch::Line(c, d)));
        }
        entries.push(LegendEntry::new(
            "Q-Q: quantiles of\nthe chosen family",
            Swatch::Dot(style::VERMILLION),
        ));
        entries.push(LegendEntry::new(
            "y = x (perfect fit)",
            Swatch::Line(style::GREY, Dash::Dashed),
        ));
        let width = frame::legend_width(root, None, &entries);
        let (body, legend) = frame::layout(root, "Fit diagnostics", &subtitle, width)?;
        let (w, _) = body.dim_in_pixel();
        let (left, right) = body.split_horizontally(w * 55 / 100);

        // ECDF panel.
        let lo = self.samples[0].min(0.0);
        let hi = self.samples[n - 1];
        let hi = if hi > lo {
            lo + (hi - lo) * 1.05
        } else {
            lo + 1.0
        };
        left.draw(&Text::new(
            "cumulative distribution: samples and fits",
            (100, 8),
            style::font(style::LEGEND_SIZE).color(&style::TEXT),
        ))?;
        let mut chart = ChartBuilder::on(&left)
            .margin_top(40)
            .margin_right(30)
            .margin_left(10)
            .x_label_area_size(70)
            .y_label_area_size(90)
            .build_cartesian_2d(lo..hi, 0.0..1.0)?;
        axis_style(&mut chart, "value (s)", "cumulative fraction ≤ value")?;
        let mut steps = Vec::with_capacity(2 * n + 1);
        steps.push((lo, 0.0));
        for (i, &x) in self.samples.iter().enumerate() {
            steps.push((x, i as f64 / n as f64));
            steps.push((x, (i + 1) as f64 / n as f64));
        }
        steps.push((hi, 1.0));
        frame::draw_line(chart.plotting_area(), steps, SAMPLE_GREY, Dash::Solid, 7)?;

        let grid: Vec<f64> = (0..=400)
            .map(|k| lo + (hi - lo) * k as f64 / 400.0)
            .collect();
        // The chosen family last, on top.
        for ((_, draws), &(color, dash, width)) in self.fitted.iter().zip(&styles).rev() {
            let pts: Vec<(f64, f64)> = grid.iter().map(|&x| (x, ecdf(draws, x))).collect();
            frame::draw_line(chart.plotting_area(), pts, color, dash, width)?;
        }

        // Q-Q panel of the chosen family.
        let best = &self.fitted[0].1;
        let m = n.min(QQ_POINTS);
        let pts: Vec<(f64, f64)> = (0..m)
            .map(|k| {
                let p = (k as f64 + 0.5) / m as f64;
                (quantile(best, p), quantile(&self.samples, p))
            })
            .collect();
        let (qlo, qhi) = pts
            .iter()
            .flat_map(|&(a, b)| [a, b])
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        let pad = ((qhi - qlo) * 0.04).max(1e-9);
        let (qlo, qhi) = (qlo - pad, qhi + pad);
        right.draw(&Text::new(
            format!("Q-Q plot: {} against the samples", self.best),
            (100, 8),
            style::font(style::LEGEND_SIZE).color(&style::TEXT),
        ))?;
        let mut qq = ChartBuilder::on(&right)
            .margin_top(40)
            .margin_right(30)
            .margin_left(10)
            .x_label_area_size(70)
            .y_label_area_size(90)
            .build_cartesian_2d(qlo..qhi, qlo..qhi)?;
        axis_style(
            &mut qq,
            &format!("{} quantile (s)", self.best),
            "sample quantile (s)",
        )?;
        frame::draw_line(
            qq.plotting_area(),
            vec![(qlo, qlo), (qhi, qhi)],
            style::GREY,
            Dash::Dashed,
            2,
        )?;
        qq.draw_series(
            pts.iter()
                .map(|&p| Circle::new(p, 3, style::VERMILLION.filled())),
        )?;
        frame::legend(&legend, None, &entries, 20)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_ecdf() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 2.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(ecdf(&v, 2.5), 0.5);
        assert_eq!(ecdf(&v, 0.0), 0.0);
        assert_eq!(ecdf(&v, 4.0), 1.0);
    }
}
