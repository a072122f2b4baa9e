//! Figure: CDF of iteration latency or of end-to-end session latency, one curve per policy.
//!
//! Curves join the report's 101 percentiles (0..=100, pooled over every replication).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::frame::{self, DrawResult, LegendEntry, Swatch};
use super::input::PlotReport;
use super::style;
use super::ticks::Ticks;
use super::Figure;

/// Which latency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Iteration,
    Session,
}

impl Kind {
    pub fn stem(self) -> &'static str {
        match self {
            Kind::Iteration => "cdf_iteration",
            Kind::Session => "cdf_session",
        }
    }
}

pub(crate) struct Cdf<'a> {
    report: &'a PlotReport,
    kind: Kind,
}

impl<'a> Cdf<'a> {
    pub fn new(report: &'a PlotReport, kind: Kind) -> Self {
        Cdf { report, kind }
    }

    fn quantiles(&self) -> Vec<(&str, &[f64])> {
        self.report
            .distributions
            .iter()
            .map(|d| {
                let q = match self.kind {
                    Kind::Iteration => &d.iter_latency_percentiles_s,
                    Kind::Session => &d.session_latency_percentiles_s,
                };
                (d.policy.as_str(), q.as_slice())
            })
            .collect()
    }
}

impl Figure for Cdf<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let r = self.report;
        let (title, what, x_desc) = match self.kind {
            Kind::Iteration => (
                "CDF of iteration latency",
                "iterations",
                "iteration latency (s)",
            ),
            Kind::Session => (
                "CDF of end-to-end session latency",
                "sessions",
                "session latency (s)",
            ),
        };
        let subtitle = format!(
            "{}: all {what} of {} replications × {} sessions, pooled",
            r.scenario, r.replications, r.sessions
        );
        let curves = self.quantiles();
        let styles: Vec<_> = curves
            .iter()
            .enumerate()
            .map(|(i, (policy, _))| style::policy_style(policy, i))
            .collect();
        let entries: Vec<LegendEntry> = curves
            .iter()
            .zip(&styles)
            .map(|((policy, _), &(c, d))| LegendEntry::new(*policy, Swatch::Line(c, d)))
            .collect();
        let width = frame::legend_width(root, Some("policy"), &entries);
        let (area, legend) = frame::layout(root, title, &subtitle, width)?;
        let x_max = curves
            .iter()
            .flat_map(|(_, q)| q.iter().copied())
            .filter(|x| x.is_finite())
            .fold(0.0_f64, f64::max);
        let x_max = if x_max > 0.0 { x_max * 1.03 } else { 1.0 };
        let xt = Ticks::linear(0.0, x_max, 8);
        let yt = Ticks::linear(0.0, 1.0, 11);
        let mut chart = ChartBuilder::on(&area)
            .margin_top(20)
            .margin_right(30)
            .margin_left(10)
            .x_label_area_size(70)
            .y_label_area_size(90)
            .build_cartesian_2d(xt.axis(), yt.axis())?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(style::LIGHT_GREY)
            .x_desc(x_desc)
            .y_desc(format!("fraction of {what} ≤ latency"))
            .axis_desc_style(style::font(style::LABEL_SIZE).color(&style::TEXT))
            .label_style(style::font(style::TICK_SIZE).color(&style::TEXT))
            .x_label_formatter(&|x| xt.label(*x))
            .y_label_formatter(&|y| yt.label(*y))
            .draw()?;
        for ((_, q), &(color, dash)) in curves.iter().zip(&styles) {
            let pts: Vec<(f64, f64)> = q
                .iter()
                .enumerate()
                .filter(|(_, x)| x.is_finite())
                .map(|(k, x)| (*x, k as f64 / 100.0))
                .collect();
            frame::draw_line(chart.plotting_area(), pts, color, dash, style::LINE_WIDTH)?;
        }
        frame::legend(&legend, Some("policy"), &entries, 20)
    }
}
