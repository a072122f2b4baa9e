//! Figure: latency breakdown per iteration, one stacked bar per policy.
//!
//! The bar stacks target LLM time, extra LLM stages and exposed web time, which add up to
//! the mean iteration latency (whiskers: its 95 % CI). The web time hidden behind LLM time
//! is not part of the latency; it is drawn hatched, in a separate bar beside the stack.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::frame::{self, DrawResult, LegendEntry, Swatch};
use super::input::PlotReport;
use super::style;
use super::ticks::Ticks;
use super::Figure;

pub(crate) struct Breakdown<'a> {
    report: &'a PlotReport,
}

impl<'a> Breakdown<'a> {
    pub fn new(report: &'a PlotReport) -> Self {
        Breakdown { report }
    }
}

/// Left and right edges of the stacked bar and of the hidden-web bar of slot `i`.
fn bar_edges(i: usize) -> ((f64, f64), (f64, f64)) {
    let c = i as f64;
    ((c - 0.36, c + 0.12), (c + 0.16, c + 0.36))
}

fn finite_or(x: f64, d: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        d
    }
}

impl Figure for Breakdown<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let r = self.report;
        let rows = &r.policies;
        let subtitle = format!(
            "{}: {} replications × {} sessions; whiskers: 95% CI of the mean",
            r.scenario, r.replications, r.sessions
        );
        let entries = vec![
            LegendEntry::new("target LLM", Swatch::Box(style::TARGET_LLM)),
            LegendEntry::new("extra LLM stages", Swatch::Box(style::STAGES_LLM)),
            LegendEntry::new("exposed web wait", Swatch::Box(style::EXPOSED_WEB)),
            LegendEntry::new("95% CI of total", Swatch::Whisker(style::BLACK)),
            LegendEntry::new(
                "web time hidden\nbehind LLM time\n(overlapped: not\npart of the total)",
                Swatch::Hatch(style::HIDDEN_WEB),
            ),
        ];
        let width = frame::legend_width(root, None, &entries);
        let (area, legend) =
            frame::layout(root, "Latency breakdown per iteration", &subtitle, width)?;
        let top = rows
            .iter()
            .map(|p| {
                finite_or(p.iter_latency_s_ci_hi, 0.0)
                    .max(finite_or(p.iter_latency_s, 0.0))
                    .max(finite_or(p.hidden_web_s, 0.0))
                    .max(finite_or(p.target_s + p.stages_s + p.exposed_web_s, 0.0))
            })
            .fold(0.0_f64, f64::max);
        let y_max = if top > 0.0 { top * 1.15 } else { 1.0 };
        let yt = Ticks::linear(0.0, y_max, 8);
        let n = rows.len();
        let mut chart = ChartBuilder::on(&area)
            .margin_top(20)
            .margin_right(20)
            .margin_left(10)
            .x_label_area_size(70)
            .y_label_area_size(90)
            .build_cartesian_2d(-0.6..(n as f64 - 0.4), yt.axis())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .light_line_style(TRANSPARENT)
            .bold_line_style(style::LIGHT_GREY)
            .y_desc("mean time per iteration (s)")
            .x_desc("policy")
            .axis_desc_style(style::font(style::LABEL_SIZE).color(&style::TEXT))
            .label_style(style::font(style::TICK_SIZE).color(&style::TEXT))
            .y_label_formatter(&|y| yt.label(*y))
            .draw()?;

        let segments = |p: &super::input::PlotRow| {
            [
                (finite_or(p.target_s, 0.0), style::TARGET_LLM),
                (finite_or(p.stages_s, 0.0), style::STAGES_LLM),
                (finite_or(p.exposed_web_s, 0.0), style::EXPOSED_WEB),
            ]
        };
        for (i, p) in rows.iter().enumerate() {
            let ((l, rr), (hl, hr)) = bar_edges(i);
            let mut base = 0.0;
            for (h, color) in segments(p) {
                if h > 0.0 {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(l, base), (rr, base + h)],
                        color.filled(),
                    )))?;
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(l, base), (rr, base + h)],
                        WHITE.stroke_width(1),
                    )))?;
                }
                base += h;
            }
            // Hidden web time: hatched, beside the stack, starting at zero.
            let hidden = finite_or(p.hidden_web_s, 0.0);
            if hidden > 0.0 {
                let a = chart.backend_coord(&(hl, 0.0));
                let b = chart.backend_coord(&(hr, hidden));
                frame::hatch(root, a, b, style::HIDDEN_WEB)?;
            }
            // Whisker on the total.
            let c = (l + rr) / 2.0;
            let (lo, hi) = (p.iter_latency_s_ci_lo, p.iter_latency_s_ci_hi);
            let mut label_y = finite_or(p.iter_latency_s, base);
            if lo.is_finite() && hi.is_finite() {
                let ws = style::BLACK.stroke_width(2);
                let cap = 0.07;
                for pts in [
                    vec![(c, lo), (c, hi)],
                    vec![(c - cap, lo), (c + cap, lo)],
                    vec![(c - cap, hi), (c + cap, hi)],
                ] {
                    chart.draw_series(std::iter::once(PathElement::new(pts, ws)))?;
                }
                label_y = label_y.max(hi);
            }
            // The total, written above the bar.
            let (tx, ty) = chart.backend_coord(&(c, label_y));
            root.draw(&Text::new(
                format!("{} s", frame::short_number(p.iter_latency_s)),
                (tx, ty - 6),
                style::font(style::TICK_SIZE)
                    .color(&style::TEXT)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            ))?;
            // The policy name under its slot.
            let (px, py) = chart.backend_coord(&(i as f64, 0.0));
            root.draw(&Text::new(
                p.policy.clone(),
                (px, py + 10),
                style::font(style::TICK_SIZE)
                    .color(&style::TEXT)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        frame::legend(&legend, None, &entries, 20)
    }
}
