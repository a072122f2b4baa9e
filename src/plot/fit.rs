//! Figure: fit diagnostics. Left, the ECDF of the samples (or the published quantiles, as
//! points) with the ECDF of each fitted distribution; right, a Q-Q plot of the chosen family
//! against the samples (or the quantiles). The title names the data and the quantity; axes
//! carry the quantity's unit (seconds for latencies, tokens for token counts).
//!
//! Fitted curves come from draws, not closed forms, so every distribution the simulator can
//! sample (mixtures and empirical ones included) can be drawn: 20 000 draws from a fixed
//! stream make the curves deterministic and smooth to within about 1 % of probability.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::curve::Chart2d;
use super::frame::{self, DrawResult, LegendEntry, Swatch};
use super::style::{self, Dash};
use super::ticks::Ticks;
use super::{Figure, PlotError};
use crate::scenario::fields::FieldLabel;
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

/// What a fit figure is of: named in its title and on its axes.
#[derive(Clone, Debug, PartialEq)]
pub struct FitSubject {
    /// The data: a file and field, a dataset and profile (`latencies.csv, field fetch_s`).
    pub source: String,
    /// The fitted quantity, with its unit (see [`crate::scenario::fields::profile_quantity`]).
    pub quantity: FieldLabel,
}

impl FitSubject {
    /// `text (unit)`, or the text alone for a quantity without a unit.
    fn with_unit(&self, text: &str) -> String {
        match self.quantity.unit {
            Some(u) => format!("{text} ({u})"),
            None => text.to_string(),
        }
    }
}

/// What was fitted: samples, or published quantiles.
#[derive(Clone, Debug)]
pub(crate) enum Observed {
    /// Samples, sorted.
    Samples(Vec<f64>),
    /// `(probability, value)` pairs, by probability.
    Quantiles(Vec<(f64, f64)>),
}

pub(crate) struct Fit {
    observed: Observed,
    /// `(name, sorted draws)`, the highlighted family first.
    fitted: Vec<(String, Vec<f64>)>,
    /// The highlighted family and what it is (`chosen`, `best AIC`).
    best: String,
    best_is: String,
    /// A note for the subtitle (e.g. what the profile uses instead).
    note: Option<String>,
    subject: FitSubject,
}

impl Fit {
    /// Fit diagnostics of `observed` against `fitted` distributions; `best` (one of them)
    /// is highlighted as `best_is`.
    pub fn new(
        observed: Observed,
        fitted: &[(String, Dist)],
        best: &str,
        best_is: &str,
        note: Option<String>,
        subject: &FitSubject,
    ) -> Result<Fit, PlotError> {
        let values: Vec<f64> = match &observed {
            Observed::Samples(s) => s.clone(),
            Observed::Quantiles(q) => q.iter().map(|&(_, v)| v).collect(),
        };
        if values.is_empty() {
            return Err(PlotError::usage("fit plot: no samples"));
        }
        if let Some(i) = values.iter().position(|x| !x.is_finite()) {
            return Err(PlotError::usage(format!(
                "fit plot: sample {i} is {} (samples must be finite)",
                values[i]
            )));
        }
        if !fitted.iter().any(|(n, _)| n == best) {
            let names: Vec<&str> = fitted.iter().map(|(n, _)| n.as_str()).collect();
            return Err(PlotError::usage(format!(
                "fit plot: the chosen family `{best}` is not among the fitted ones ({})",
                names.join(", ")
            )));
        }
        let observed = match observed {
            Observed::Samples(mut s) => {
                s.sort_by(f64::total_cmp);
                Observed::Samples(s)
            }
            Observed::Quantiles(mut q) => {
                q.sort_by(|a, b| a.0.total_cmp(&b.0));
                Observed::Quantiles(q)
            }
        };
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
            observed,
            fitted: draws,
            best: best.to_string(),
            best_is: best_is.to_string(),
            note,
            subject: subject.clone(),
        })
    }

    /// The smallest and largest observed value.
    fn extent(&self) -> (f64, f64) {
        match &self.observed {
            Observed::Samples(s) => (s[0], s[s.len() - 1]),
            Observed::Quantiles(q) => q
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, v)| {
                    (a.min(v), b.max(v))
                }),
        }
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

/// A chart over `x` and `y` ticks on `area`, its grid and axis descriptions drawn.
pub(super) fn panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: &Ticks,
    y: &Ticks,
    x_desc: &str,
    y_desc: &str,
) -> Result<Chart2d<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(40)
        .margin_right(30)
        .margin_left(10)
        .x_label_area_size(70)
        .y_label_area_size(90)
        .build_cartesian_2d(x.axis(), y.axis())?;
    let x_label = |v: &f64| x.label(*v);
    let y_label = |v: &f64| y.label(*v);
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(style::LIGHT_GREY)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style(style::font(style::LABEL_SIZE).color(&style::TEXT))
        .label_style(style::font(style::TICK_SIZE).color(&style::TEXT))
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .draw()?;
    Ok(chart)
}

impl Figure for Fit {
    fn size(&self) -> (u32, u32) {
        (style::FIT_WIDTH, style::FIT_HEIGHT)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let observed = match &self.observed {
            Observed::Samples(s) => format!("{} samples", s.len()),
            Observed::Quantiles(q) => format!("{} published quantiles", q.len()),
        };
        let mut subtitle = format!(
            "{observed}; fitted curves from {DRAWS} draws each; {}: {}",
            self.best_is, self.best
        );
        if let Some(note) = &self.note {
            subtitle.push_str("; ");
            subtitle.push_str(note);
        }
        let title = format!(
            "Fit of {}: {}",
            self.subject.quantity.label, self.subject.source
        );
        let styles: Vec<(RGBColor, Dash, u32)> = self
            .fitted
            .iter()
            .enumerate()
            .map(|(i, (name, _))| {
                if *name == self.best {
                    (style::VERMILLION, Dash::Solid, style::LINE_WIDTH)
                } else {
                    // The highlighted family is first; the others take the palette without
                    // its vermillion.
                    (OTHERS[(i.max(1) - 1) % OTHERS.len()], Dash::Dashed, 2)
                }
            })
            .collect();
        let mut entries = vec![match &self.observed {
            Observed::Samples(s) => LegendEntry::new(
                format!("samples (n = {})", s.len()),
                Swatch::Line(SAMPLE_GREY, Dash::Solid),
            ),
            Observed::Quantiles(q) => LegendEntry::new(
                format!("published quantiles\n({})", q.len()),
                Swatch::Dot(style::BLACK),
            ),
        }];
        for ((name, _), &(c, d, _)) in self.fitted.iter().zip(&styles) {
            let label = if *name == self.best {
                format!("{name} ({})", self.best_is)
            } else {
                name.clone()
            };
            entries.push(LegendEntry::new(label, Swatch::Line(c, d)));
        }
        entries.push(LegendEntry::new(
            format!("Q-Q: quantiles of\n{}", self.best),
            Swatch::Dot(style::VERMILLION),
        ));
        entries.push(LegendEntry::new(
            "y = x (perfect fit)",
            Swatch::Line(style::GREY, Dash::Dashed),
        ));
        let width = frame::legend_width(root, None, &entries);
        let (body, legend) = frame::layout(root, &title, &subtitle, width)?;
        let (w, _) = body.dim_in_pixel();
        let (left, right) = body.split_horizontally(w * 55 / 100);

        // ECDF panel.
        let (min, max) = self.extent();
        let lo = min.min(0.0);
        let hi = match self.observed {
            // Room for the tail beyond the highest published quantile.
            Observed::Quantiles(_) => lo + (max - lo) * 1.25,
            Observed::Samples(_) => lo + (max - lo) * 1.05,
        };
        let hi = if hi > lo { hi } else { lo + 1.0 };
        left.draw(&Text::new(
            "cumulative distribution: data and fits",
            (100, 8),
            style::font(style::LEGEND_SIZE).color(&style::TEXT),
        ))?;
        let xt = Ticks::linear(lo, hi, 6);
        let yt = Ticks::linear(0.0, 1.0, 6);
        let x_desc = self.subject.with_unit(&self.subject.quantity.label);
        let mut chart = panel(&left, &xt, &yt, &x_desc, "cumulative fraction ≤ value")?;
        match &self.observed {
            Observed::Samples(s) => {
                let n = s.len();
                let mut steps = Vec::with_capacity(2 * n + 1);
                steps.push((lo, 0.0));
                for (i, &x) in s.iter().enumerate() {
                    steps.push((x, i as f64 / n as f64));
                    steps.push((x, (i + 1) as f64 / n as f64));
                }
                steps.push((hi, 1.0));
                frame::draw_line(chart.plotting_area(), steps, SAMPLE_GREY, Dash::Solid, 7)?;
            }
            Observed::Quantiles(_) => {}
        }
        let grid: Vec<f64> = (0..=400)
            .map(|k| lo + (hi - lo) * k as f64 / 400.0)
            .collect();
        // The highlighted family last, on top.
        for ((_, draws), &(color, dash, width)) in self.fitted.iter().zip(&styles).rev() {
            let pts: Vec<(f64, f64)> = grid.iter().map(|&x| (x, ecdf(draws, x))).collect();
            frame::draw_line(chart.plotting_area(), pts, color, dash, width)?;
        }
        if let Observed::Quantiles(q) = &self.observed {
            chart.draw_series(
                q.iter()
                    .map(|&(p, v)| Circle::new((v, p), 6, style::BLACK.filled())),
            )?;
        }

        // Q-Q panel of the highlighted family.
        let best = &self.fitted[0].1;
        let pts: Vec<(f64, f64)> = match &self.observed {
            Observed::Samples(s) => {
                let m = s.len().min(QQ_POINTS);
                (0..m)
                    .map(|k| {
                        let p = (k as f64 + 0.5) / m as f64;
                        (quantile(best, p), quantile(s, p))
                    })
                    .collect()
            }
            Observed::Quantiles(q) => q.iter().map(|&(p, v)| (quantile(best, p), v)).collect(),
        };
        let (qlo, qhi) = pts
            .iter()
            .flat_map(|&(a, b)| [a, b])
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        let pad = ((qhi - qlo) * 0.04).max(1e-9);
        let (qlo, qhi) = (qlo - pad, qhi + pad);
        right.draw(&Text::new(
            format!("Q-Q plot: {} against the data", self.best),
            (100, 8),
            style::font(style::LEGEND_SIZE).color(&style::TEXT),
        ))?;
        let qt = Ticks::linear(qlo, qhi, 6);
        let mut qq = panel(
            &right,
            &qt,
            &qt,
            &self.subject.with_unit(&format!("{} quantile", self.best)),
            &self.subject.with_unit(match self.observed {
                Observed::Samples(_) => "sample quantile",
                Observed::Quantiles(_) => "published quantile",
            }),
        )?;
        frame::draw_line(
            qq.plotting_area(),
            vec![(qlo, qlo), (qhi, qhi)],
            style::GREY,
            Dash::Dashed,
            2,
        )?;
        let radius = match self.observed {
            Observed::Samples(_) => 3,
            Observed::Quantiles(_) => 6,
        };
        qq.draw_series(
            pts.iter()
                .map(|&p| Circle::new(p, radius, style::VERMILLION.filled())),
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
