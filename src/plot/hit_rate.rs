//! Figure: cache hit rate against a sweep axis. Solid lines: all hits (full and partial,
//! 95 % CI band); dashed lines: full hits only, so the gap between them is the partial hits
//! (the page was still arriving). The random and oracle policies are drawn as references.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::curve::{draw_axes, draw_band, draw_means, line_chart, line_values};
use super::frame::{self, DrawResult, LegendEntry, Swatch};
use super::style::{self, Dash};
use super::sweep::{AxisScale, Line, Metric, Plan};
use super::ticks::Ticks;
use super::{Figure, PlotError};

const REFERENCES: [&str; 2] = ["random", "oracle"];

struct Group {
    label: String,
    color: RGBColor,
    all: Line,
    full: Line,
    reference: bool,
}

pub(crate) struct HitRate {
    x: AxisScale,
    groups: Vec<Group>,
    /// Legend heading: `policy`, or the second axis.
    heading: String,
    subtitle: String,
}

impl HitRate {
    pub fn new(plan: &Plan) -> Result<HitRate, PlotError> {
        let all_value = |r: &super::input::SweepRow| {
            Some((r.row.hit_rate, r.row.hit_rate_ci_lo, r.row.hit_rate_ci_hi))
        };
        let full_value =
            |r: &super::input::SweepRow| Some((r.row.full_hit_rate, f64::NAN, f64::NAN));
        let mut groups = Vec::new();
        if plan.second.is_some() {
            let all = plan.lines(&[], all_value)?;
            let full = plan.lines(&[], full_value)?;
            for (i, (a, f)) in all.into_iter().zip(full).enumerate() {
                groups.push(Group {
                    label: a.label.clone(),
                    color: style::series_color(i),
                    all: a,
                    full: f,
                    reference: false,
                });
            }
        } else {
            let main: Vec<&str> = plan
                .policies
                .iter()
                .map(String::as_str)
                .filter(|p| *p != "none" && !REFERENCES.contains(p))
                .collect();
            let refs: Vec<&str> = plan
                .policies
                .iter()
                .map(String::as_str)
                .filter(|p| REFERENCES.contains(p))
                .collect();
            for (names, reference) in [(main, false), (refs, true)] {
                let all = plan.lines(&names, all_value)?;
                let full = plan.lines(&names, full_value)?;
                for (i, (a, f)) in all.into_iter().zip(full).enumerate() {
                    groups.push(Group {
                        label: a.label.clone(),
                        color: style::policy_style(&a.policy, i).0,
                        all: a,
                        full: f,
                        reference,
                    });
                }
            }
        }
        if groups.is_empty() {
            return Err(PlotError::usage(
                "hit_rate: the sweep has no policy with a cache (only `none`)",
            ));
        }
        let mut subtitle = String::from(
            "solid: all hits (band: 95% CI); dashed: full hits only; gap: partial hits",
        );
        if plan.second.is_some() {
            subtitle = format!("policy {}; {subtitle}", plan.policy);
        }
        subtitle.push_str(&plan.fixed_note());
        let heading = match &plan.second {
            Some(s) => s.label(),
            None => "policy".to_string(),
        };
        Ok(HitRate {
            heading,
            x: plan.x.clone(),
            groups,
            subtitle,
        })
    }
}

impl Figure for HitRate {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let title = format!("{} vs {}", Metric::HitRate.title(), self.x.name());
        let mut entries: Vec<LegendEntry> = self
            .groups
            .iter()
            .map(|g| {
                let label = if g.reference {
                    format!("{} (reference)", g.label)
                } else {
                    g.label.clone()
                };
                LegendEntry::new(label, Swatch::LineBand(g.color, Dash::Solid))
            })
            .collect();
        entries.push(LegendEntry::new(
            "all hits\n(full + partial)",
            Swatch::Line(style::GREY, Dash::Solid),
        ));
        entries.push(LegendEntry::new(
            "full hits only",
            Swatch::Line(style::GREY, Dash::Dashed),
        ));
        let width = frame::legend_width(root, Some(&self.heading), &entries);
        let (area, legend) = frame::layout(root, &title, &self.subtitle, width)?;
        let lines: Vec<Line> = self
            .groups
            .iter()
            .flat_map(|g| [g.all.clone(), g.full.clone()])
            .collect();
        let top = line_values(&lines).fold(0.0, f64::max);
        let y = Ticks::linear(0.0, (top + (top * 0.08).max(0.02)).min(1.02), 8);
        let mut chart = line_chart(&area, &self.x, &y)?;
        draw_axes(root, &mut chart, &self.x, &y, &Metric::HitRate.label())?;
        for g in &self.groups {
            draw_band(&mut chart, &g.all.points, g.color)?;
        }
        for g in &self.groups {
            let width = if g.reference { 2 } else { style::LINE_WIDTH };
            draw_means(&mut chart, &g.all.points, g.color, Dash::Solid, width, true)?;
            draw_means(&mut chart, &g.full.points, g.color, Dash::Dashed, 2, false)?;
        }
        frame::legend(&legend, Some(&self.heading), &entries, 20)
    }
}
