//! Figure: speedup or web-overhead reduction against a sweep axis, with 95 % CI bands and
//! a reference line at 1 (no change). One line per policy, or per value of a second axis.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::frame::{self, DrawResult, LegendEntry, Swatch};
use super::style::{self, Dash};
use super::sweep::{AxisScale, Line, Metric, Plan, Point};
use super::ticks::{Scale, TickAxis, Ticks};
use super::{Figure, PlotError};

pub(crate) struct Curve {
    metric: Metric,
    x: AxisScale,
    lines: Vec<Line>,
    by_second: bool,
    /// Legend heading: `policy`, or the second axis.
    heading: String,
    subtitle: String,
    /// The value axis (logarithmic when the ratios span a factor of [`super::ticks::LOG_SPAN`]).
    y: Ticks,
}

impl Curve {
    pub fn new(plan: &Plan, metric: Metric) -> Result<Curve, PlotError> {
        let policies: Vec<&str> = plan
            .policies
            .iter()
            .map(String::as_str)
            .filter(|p| *p != "none")
            .collect();
        let lines = plan.lines(&policies, |r| metric.value(&r.row))?;
        if lines
            .iter()
            .all(|l| l.points.iter().all(|p| !p.mean.is_finite()))
        {
            return Err(PlotError::usage(format!(
                "{}: no finite values to draw against {}",
                metric.name(),
                plan.x.path
            )));
        }
        let by_second = plan.second.is_some();
        let mut subtitle = format!("lines: {}; bands: 95% CI", metric.aggregation());
        if by_second {
            subtitle = format!("policy {}; {subtitle}", plan.policy);
        }
        let y = Ticks::ratio(line_values(&lines).chain([1.0]), 8);
        if y.scale == Scale::Log {
            subtitle.push_str("; log y axis");
        }
        subtitle.push_str(&plan.fixed_note());
        let gaps = lines
            .iter()
            .any(|l| l.points.iter().any(|p| !p.mean.is_finite()));
        if metric == Metric::WebReduction && gaps {
            subtitle.push_str("; gaps: all web time hidden (infinite reduction)");
        }
        let heading = match &plan.second {
            Some(s) => s.label(),
            None => "policy".to_string(),
        };
        Ok(Curve {
            heading,
            metric,
            x: plan.x.clone(),
            lines,
            by_second,
            subtitle,
            y,
        })
    }
}

/// Splits points into runs of consecutive finite values.
pub(crate) fn runs(points: &[Point], f: impl Fn(&Point) -> bool) -> Vec<Vec<Point>> {
    let mut out: Vec<Vec<Point>> = vec![Vec::new()];
    for p in points {
        if f(p) {
            if let Some(v) = out.last_mut() {
                v.push(*p);
            }
        } else if out.last().is_some_and(|v| !v.is_empty()) {
            out.push(Vec::new());
        }
    }
    out.retain(|v| !v.is_empty());
    out
}

/// Draws the 95 % CI band of a line (whiskers where a point stands alone). Bands go down
/// before any line, so that no band tints another series' line.
pub(crate) fn draw_band<DB: DrawingBackend>(
    chart: &mut Chart2d<DB>,
    line: &[Point],
    color: RGBColor,
) -> DrawResult<DB> {
    for run in runs(line, |p| {
        p.lo.is_finite() && p.hi.is_finite() && p.mean.is_finite()
    }) {
        if run.len() >= 2 {
            let mut poly: Vec<(f64, f64)> = run.iter().map(|p| (p.x, p.lo)).collect();
            poly.extend(run.iter().rev().map(|p| (p.x, p.hi)));
            chart.draw_series(std::iter::once(Polygon::new(
                poly,
                color.mix(style::BAND_ALPHA).filled(),
            )))?;
        } else {
            let p = run[0];
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(p.x, p.lo), (p.x, p.hi)],
                color.stroke_width(2),
            )))?;
        }
    }
    Ok(())
}

/// Draws the means of a line, with markers when `markers`; NaN means break the line.
pub(crate) fn draw_means<DB: DrawingBackend>(
    chart: &mut Chart2d<DB>,
    line: &[Point],
    color: RGBColor,
    dash: Dash,
    width: u32,
    markers: bool,
) -> DrawResult<DB> {
    for run in runs(line, |p| p.mean.is_finite()) {
        let pts: Vec<(f64, f64)> = run.iter().map(|p| (p.x, p.mean)).collect();
        frame::draw_line(chart.plotting_area(), pts.clone(), color, dash, width)?;
        if markers {
            chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 5, color.filled())))?;
        }
    }
    Ok(())
}

/// The chart type of line figures: positions on both axes, ticks from [`Ticks`].
pub(crate) type Chart2d<'a, DB> = ChartContext<'a, DB, Cartesian2d<TickAxis, TickAxis>>;

/// Most axis values that get a tick each; beyond that, round ticks.
const VALUE_TICKS: usize = 15;

/// The x axis of a sweep figure: labelled at its values (categories, or few numbers), or at
/// round numbers.
pub(crate) fn x_axis(x: &AxisScale) -> (TickAxis, Option<Ticks>) {
    let (x0, x1) = x.range();
    if value_ticks(x) {
        (TickAxis::bare(x0..x1), None)
    } else {
        let t = Ticks::linear(x0, x1, 8);
        (t.axis(), Some(t))
    }
}

/// Builds a line chart over sweep axis `x` and value axis `y` on `area`.
pub(crate) fn line_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: &AxisScale,
    y: &Ticks,
) -> Result<Chart2d<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    ChartBuilder::on(area)
        .margin_top(20)
        .margin_right(30)
        .margin_left(10)
        .x_label_area_size(90)
        .y_label_area_size(90)
        .build_cartesian_2d(x_axis(x).0, y.axis())
}

/// Draws the grid, the axis descriptions and the tick labels of a chart over a sweep axis.
pub(crate) fn draw_axes<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &mut Chart2d<DB>,
    x: &AxisScale,
    y: &Ticks,
    y_desc: &str,
) -> DrawResult<DB> {
    let x_ticks = x_axis(x).1;
    let x_label = move |v: &f64| x_ticks.as_ref().map_or_else(String::new, |t| t.label(*v));
    let y_label = |v: &f64| y.label(*v);
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(TRANSPARENT)
        .bold_line_style(style::LIGHT_GREY)
        .x_desc(x.label())
        .y_desc(y_desc)
        .axis_desc_style(style::font(style::LABEL_SIZE).color(&style::TEXT))
        .label_style(style::font(style::TICK_SIZE).color(&style::TEXT))
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label);
    if value_ticks(x) {
        mesh.x_labels(0).disable_x_mesh();
    }
    mesh.draw()?;
    draw_value_ticks(root, chart, x)
}

pub(crate) fn value_ticks(x: &AxisScale) -> bool {
    !x.numeric || x.values.len() <= VALUE_TICKS
}

/// Labels the x axis at its values, with vertical grid lines; skips a label that would
/// overlap the previous one.
pub(crate) fn draw_value_ticks<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &Chart2d<DB>,
    x: &AxisScale,
) -> DrawResult<DB> {
    if !value_ticks(x) {
        return Ok(());
    }
    let (y0, y1) = (chart.y_range().start, chart.y_range().end);
    // Labels that would overlap the previous one go to a second row below it; a label that
    // fits neither row is left out (its tick and grid line stay).
    let mut right_edges = [i32::MIN; 2];
    let row_height = (style::TICK_SIZE * 1.25) as i32;
    for v in &x.values {
        let pos = x.position(v);
        let (px, py) = chart.backend_coord(&(pos, y0));
        let (_, top) = chart.backend_coord(&(pos, y1));
        root.draw(&PathElement::new(
            vec![(px, top), (px, py)],
            style::LIGHT_GREY.stroke_width(1),
        ))?;
        root.draw(&PathElement::new(
            vec![(px, py), (px, py + 6)],
            style::TEXT.stroke_width(1),
        ))?;
        let mut label = v.to_string();
        if !x.numeric {
            // Categories are evenly spaced: cut each label to its slot rather than drop it.
            let slot =
                (chart.backend_coord(&(1.0, y0)).0 - chart.backend_coord(&(0.0, y0)).0).abs();
            label = frame::fit_label(&label, slot - 10, style::TICK_SIZE);
        }
        let half = (label.chars().count() as f64 * style::TICK_SIZE * 0.3) as i32;
        let Some(row) = (0..2).find(|&r| px - half > right_edges[r] + 8) else {
            continue;
        };
        right_edges[row] = px + half;
        let y = py + 10 + row as i32 * row_height;
        if row > 0 {
            // A short leader from the tick to the label of the second row.
            root.draw(&PathElement::new(
                vec![(px, py + 6), (px, y - 2)],
                style::LIGHT_GREY.stroke_width(1),
            ))?;
        }
        root.draw(&Text::new(
            label,
            (px, y),
            style::font(style::TICK_SIZE)
                .color(&style::TEXT)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
    }
    Ok(())
}

/// Every finite mean and interval bound of `lines`.
pub(crate) fn line_values(lines: &[Line]) -> impl Iterator<Item = f64> + '_ {
    lines
        .iter()
        .flat_map(|l| l.points.iter())
        .flat_map(|p| [p.mean, p.lo, p.hi])
        .filter(|v| v.is_finite())
}

/// `line` with its values moved to positions of `y`.
pub(crate) fn to_positions(line: &[Point], y: &Ticks) -> Vec<Point> {
    line.iter()
        .map(|p| Point {
            x: p.x,
            mean: y.pos(p.mean),
            lo: y.pos(p.lo),
            hi: y.pos(p.hi),
        })
        .collect()
}

impl Figure for Curve {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let title = format!("{} vs {}", self.metric.title(), self.x.name());
        let styles: Vec<(RGBColor, Dash)> = self
            .lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                if self.by_second {
                    (style::series_color(i), Dash::Solid)
                } else {
                    style::policy_style(&line.policy, i)
                }
            })
            .collect();
        let mut entries: Vec<LegendEntry> = self
            .lines
            .iter()
            .zip(&styles)
            .map(|(line, &(c, d))| LegendEntry::new(line.label.clone(), Swatch::LineBand(c, d)))
            .collect();
        entries.push(LegendEntry::new(
            "1× (no change)",
            Swatch::Line(style::GREY, Dash::Dashed),
        ));
        let width = frame::legend_width(root, Some(&self.heading), &entries);
        let (area, legend) = frame::layout(root, &title, &self.subtitle, width)?;
        let (x0, x1) = self.x.range();
        let y = &self.y;
        let mut chart = line_chart(&area, &self.x, y)?;
        draw_axes(root, &mut chart, &self.x, y, &self.metric.label())?;
        frame::draw_line(
            chart.plotting_area(),
            vec![(x0, y.pos(1.0)), (x1, y.pos(1.0))],
            style::GREY,
            Dash::Dashed,
            2,
        )?;
        let shown: Vec<Vec<Point>> = self
            .lines
            .iter()
            .map(|l| to_positions(&l.points, y))
            .collect();
        for (line, (color, _)) in shown.iter().zip(&styles) {
            draw_band(&mut chart, line, *color)?;
        }
        for (line, &(color, dash)) in shown.iter().zip(&styles) {
            draw_means(&mut chart, line, color, dash, style::LINE_WIDTH, true)?;
        }
        frame::legend(&legend, Some(&self.heading), &entries, 20)
    }
}
