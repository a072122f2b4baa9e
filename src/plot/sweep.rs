//! Choosing what a sweep figure shows: the x axis, the series, the cells held fixed.

use std::str::FromStr;

use super::input::{AxisValue, SweepRow};
use super::PlotError;
use crate::scenario::fields;

/// A metric drawn against a sweep axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Session-latency speedup over no prefetching (`speedup`).
    Speedup,
    /// Reduction of exposed web time over no prefetching (`web_reduction`).
    WebReduction,
    /// Cache hit rate (`hit_rate`, `full_hit_rate`, `partial_hit_rate`).
    HitRate,
}

impl Metric {
    pub const ALL: [Metric; 3] = [Metric::Speedup, Metric::WebReduction, Metric::HitRate];

    /// How the value of a cell pools its replications (docs/report.md).
    pub fn aggregation(self) -> &'static str {
        match self {
            Metric::Speedup | Metric::WebReduction => "ratio of sums pooled over replications",
            Metric::HitRate => "mean over replications",
        }
    }

    /// The name used on the command line and in file names.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Speedup => "speedup",
            Metric::WebReduction => "web_reduction",
            Metric::HitRate => "hit_rate",
        }
    }

    /// Axis label, with unit (from [`fields::metric`]).
    pub fn label(self) -> String {
        fields::metric(self.name()).map_or_else(|| self.name().to_string(), |l| l.with_unit())
    }

    /// A short label with its unit, for a colour bar.
    pub fn short_label(self) -> &'static str {
        match self {
            Metric::Speedup => "speedup (×)",
            Metric::WebReduction => "web reduction (×)",
            Metric::HitRate => "hit rate",
        }
    }

    /// Title words.
    pub fn title(self) -> &'static str {
        match self {
            Metric::Speedup => "Speedup",
            Metric::WebReduction => "Web-overhead reduction",
            Metric::HitRate => "Cache hit rate",
        }
    }

    /// `(mean, ci_lo, ci_hi)` of this metric in `r`; `None` where it is undefined
    /// (web reduction when every web wait was hidden).
    pub fn value(self, r: &super::input::PlotRow) -> Option<(f64, f64, f64)> {
        match self {
            Metric::Speedup => Some((r.speedup, r.speedup_ci_lo, r.speedup_ci_hi)),
            Metric::WebReduction => r.web_reduction.map(|m| {
                (
                    m,
                    r.web_reduction_ci_lo.unwrap_or(f64::NAN),
                    r.web_reduction_ci_hi.unwrap_or(f64::NAN),
                )
            }),
            Metric::HitRate => Some((r.hit_rate, r.hit_rate_ci_lo, r.hit_rate_ci_hi)),
        }
        .filter(|(m, _, _)| m.is_finite())
    }
}

impl FromStr for Metric {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Metric::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                format!("unknown metric `{s}` (allowed: speedup, web_reduction, hit_rate)")
            })
    }
}

/// What `plot_sweep` draws; `None` fields take the defaults documented in `docs/plots.md`.
#[derive(Clone, Debug, Default)]
pub struct SweepOptions {
    /// The x axis (a field path of the sweep); default: the first axis that varies.
    pub axis: Option<String>,
    /// One line per value of this axis (for `policy`) instead of one line per policy; also
    /// the heatmap's second axis. Default for the heatmap: the second axis that varies.
    pub second_axis: Option<String>,
    /// Draw only this metric (and the heatmap of it); default: all, heatmap of speedup.
    pub metric: Option<Metric>,
    /// The policy of second-axis lines and of the heatmap; default `speccache`.
    pub policy: Option<String>,
    /// Values at which other varying axes are held (`(path, value)`); default: see `base`.
    pub at: Vec<(String, String)>,
    /// The scenario's own values of the sweep's axes ([`scenario_values`]): other varying
    /// axes are held at them where the axis has that value (at the nearest value of a
    /// numeric axis otherwise); axes without one are held at their middle value.
    pub base: Vec<(String, AxisValue)>,
}

/// A sweep axis and its distinct values, in drawing order.
#[derive(Clone, Debug)]
pub struct AxisScale {
    pub path: String,
    pub values: Vec<AxisValue>,
    /// All values are numbers: positions are the values; else positions are indices.
    pub numeric: bool,
}

impl AxisScale {
    fn of(rows: &[&SweepRow], path: &str) -> AxisScale {
        let mut values: Vec<AxisValue> = Vec::new();
        for r in rows {
            if let Some(v) = r.axes.get(path) {
                if !values.contains(v) {
                    values.push(v.clone());
                }
            }
        }
        let numeric = values
            .iter()
            .all(|v| v.as_num().is_some_and(f64::is_finite));
        if numeric {
            values.sort_by(|a, b| {
                a.as_num()
                    .unwrap_or(0.0)
                    .total_cmp(&b.as_num().unwrap_or(0.0))
            });
        }
        AxisScale {
            path: path.to_string(),
            values,
            numeric,
        }
    }

    /// Where value `v` goes on the axis.
    pub fn position(&self, v: &AxisValue) -> f64 {
        match (self.numeric, v.as_num()) {
            (true, Some(x)) => x,
            _ => self.values.iter().position(|w| w == v).unwrap_or(0) as f64,
        }
    }

    /// The axis range, padded for categorical axes.
    pub fn range(&self) -> (f64, f64) {
        if self.numeric {
            let lo = self
                .values
                .first()
                .and_then(AxisValue::as_num)
                .unwrap_or(0.0);
            let hi = self
                .values
                .last()
                .and_then(AxisValue::as_num)
                .unwrap_or(1.0);
            if hi > lo {
                let pad = (hi - lo) * 0.03;
                (lo - pad, hi + pad)
            } else {
                (lo - 0.5, lo + 0.5)
            }
        } else {
            (-0.5, self.values.len() as f64 - 0.5)
        }
    }

    /// The tick label at position `x` (categorical axes label only their categories).
    pub fn tick(&self, x: f64) -> String {
        if self.numeric {
            super::frame::short_number(x)
        } else {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                self.values
                    .get(i as usize)
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            } else {
                String::new()
            }
        }
    }

    /// Axis label with its unit, from the field registry ([`crate::scenario::fields`]).
    pub fn label(&self) -> String {
        axis_label(&self.path)
    }

    /// The axis's name without its unit (for titles).
    pub fn name(&self) -> String {
        fields::label(&self.path).label
    }
}

/// A field path's label with its unit: `cache.capacity` → `cache capacity (pages)`; a path
/// the registry does not know is shown as it is.
pub fn axis_label(path: &str) -> String {
    fields::label(path).with_unit()
}

/// One point of a line: position, mean and 95 % interval (NaN bounds: no band there).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

/// A line of a sweep figure.
#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    /// The policy the line belongs to (for its style).
    pub policy: String,
    pub points: Vec<Point>,
}

/// The rows a sweep figure draws and how they are arranged.
#[derive(Clone, Debug)]
pub struct Plan<'a> {
    pub x: AxisScale,
    pub second: Option<AxisScale>,
    /// Other varying axes and the values they are held at (see [`SweepOptions::at`] and
    /// [`SweepOptions::base`]).
    pub fixed: Vec<(String, AxisValue)>,
    /// The policy of second-axis lines and heatmaps.
    pub policy: String,
    /// Every policy, in file order.
    pub policies: Vec<String>,
    pub rows: Vec<&'a SweepRow>,
}

/// The sweep's axes that take more than one value, in file order.
pub fn varying_axes(rows: &[SweepRow]) -> Vec<String> {
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    first
        .axes
        .0
        .iter()
        .filter(|(k, v)| rows.iter().any(|r| r.axes.get(k) != Some(v)))
        .map(|(k, _)| k.clone())
        .collect()
}

fn check_axis(rows: &[SweepRow], path: &str, flag: &str) -> Result<(), PlotError> {
    let names: Vec<&str> = rows
        .first()
        .map(|r| r.axes.0.iter().map(|(k, _)| k.as_str()).collect())
        .unwrap_or_default();
    if names.contains(&path) {
        Ok(())
    } else {
        Err(PlotError::usage(format!(
            "{flag} {path}: not an axis of this sweep (axes: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        )))
    }
}

impl<'a> Plan<'a> {
    /// Plans figures against `axis` (and `second`, if any) for `rows`.
    pub fn new(
        rows: &'a [SweepRow],
        axis: Option<&str>,
        second: Option<&str>,
        policy: Option<&str>,
        at: &[(String, String)],
        base: &[(String, AxisValue)],
    ) -> Result<Plan<'a>, PlotError> {
        let Some(first) = rows.first() else {
            return Err(PlotError::usage("the sweep has no rows"));
        };
        if first.axes.0.is_empty() {
            return Err(PlotError::usage(
                "the sweep rows have no axes: nothing to draw against (plot a run report instead)",
            ));
        }
        let varying = varying_axes(rows);
        let x = match axis {
            Some(a) => {
                check_axis(rows, a, "--axis")?;
                a.to_string()
            }
            None => varying
                .first()
                .cloned()
                .unwrap_or_else(|| first.axes.0[0].0.clone()),
        };
        if let Some(s) = second {
            check_axis(rows, s, "--second-axis")?;
            if s == x {
                return Err(PlotError::usage(format!(
                    "--second-axis {s}: the same as the x axis; pick another axis"
                )));
            }
        }
        for (k, _) in at {
            check_axis(rows, k, "--at")?;
            if *k == x || Some(k.as_str()) == second {
                return Err(PlotError::usage(format!(
                    "--at {k}: the axis is drawn, not held fixed; drop --at for it"
                )));
            }
        }
        let held: Vec<&String> = varying
            .iter()
            .filter(|k| **k != x && Some(k.as_str()) != second)
            .collect();
        let fixed = hold(rows, &held, at, base)?;
        let kept: Vec<&SweepRow> = rows
            .iter()
            .filter(|r| fixed.iter().all(|(k, v)| r.axes.get(k) == Some(v)))
            .collect();
        let mut policies: Vec<String> = Vec::new();
        for r in &kept {
            if !policies.contains(&r.row.policy) {
                policies.push(r.row.policy.clone());
            }
        }
        let policy = match policy {
            Some(p) if policies.iter().any(|q| q == p) => p.to_string(),
            Some(p) => {
                return Err(PlotError::usage(format!(
                    "--policy {p}: not in the sweep (policies: {})",
                    policies.join(", ")
                )))
            }
            None => default_policy(&policies),
        };
        let x_scale = AxisScale::of(&kept, &x);
        let second = second.map(|s| AxisScale::of(&kept, s));
        Ok(Plan {
            x: x_scale,
            second,
            fixed,
            policy,
            policies,
            rows: kept,
        })
    }

    /// `"held fixed: a = 1, b = lru"`, or empty.
    pub fn fixed_note(&self) -> String {
        if self.fixed.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = self
                .fixed
                .iter()
                .map(|(k, v)| format!("{} = {v}", fields::label(k).label))
                .collect();
            format!("; held fixed: {}", parts.join(", "))
        }
    }

    /// Lines of `value` against the x axis: one per policy in `policies` (second axis
    /// absent), or one per second-axis value for the plan's policy.
    pub fn lines(
        &self,
        policies: &[&str],
        value: impl Fn(&SweepRow) -> Option<(f64, f64, f64)>,
    ) -> Result<Vec<Line>, PlotError> {
        let mut out = Vec::new();
        match &self.second {
            None => {
                for p in policies {
                    let rows: Vec<&SweepRow> = self
                        .rows
                        .iter()
                        .copied()
                        .filter(|r| r.row.policy == *p)
                        .collect();
                    out.push(Line {
                        label: p.to_string(),
                        policy: p.to_string(),
                        points: self.points(&rows, &value)?,
                    });
                }
            }
            Some(s) => {
                for v in &s.values {
                    let rows: Vec<&SweepRow> = self
                        .rows
                        .iter()
                        .copied()
                        .filter(|r| r.row.policy == self.policy && r.axes.get(&s.path) == Some(v))
                        .collect();
                    out.push(Line {
                        label: v.to_string(),
                        policy: self.policy.clone(),
                        points: self.points(&rows, &value)?,
                    });
                }
            }
        }
        Ok(out)
    }

    fn points(
        &self,
        rows: &[&SweepRow],
        value: &impl Fn(&SweepRow) -> Option<(f64, f64, f64)>,
    ) -> Result<Vec<Point>, PlotError> {
        let mut pts: Vec<(Point, &str)> = Vec::new();
        for r in rows {
            let Some(v) = r.axes.get(&self.x.path) else {
                continue;
            };
            let x = self.x.position(v);
            if let Some((_, other)) = pts.iter().find(|(p, _)| p.x == x) {
                return Err(PlotError::usage(format!(
                    "cells {other} and {} have the same axes for policy {}: \
                     pick the axes that tell them apart with --axis/--second-axis",
                    r.cell, r.row.policy
                )));
            }
            if let Some((mean, lo, hi)) = value(r) {
                pts.push((Point { x, mean, lo, hi }, &r.cell));
            } else {
                // Keep the cell to detect duplicates, but draw nothing there.
                pts.push((
                    Point {
                        x,
                        mean: f64::NAN,
                        lo: f64::NAN,
                        hi: f64::NAN,
                    },
                    &r.cell,
                ));
            }
        }
        let mut pts: Vec<Point> = pts.into_iter().map(|(p, _)| p).collect();
        pts.sort_by(|a, b| a.x.total_cmp(&b.x));
        Ok(pts)
    }
}

/// The values the `held` axes are held at: the value given with `--at`, else the one
/// preferred (the scenario's own value, the nearest one on a numeric axis, or the axis's
/// middle value). A sweep's `cases` need not combine every value of their axes, so the
/// values are those of one cell: the first that matches every `--at` value and the most
/// preferred values.
fn hold(
    rows: &[SweepRow],
    held: &[&String],
    at: &[(String, String)],
    base: &[(String, AxisValue)],
) -> Result<Vec<(String, AxisValue)>, PlotError> {
    let mut required: Vec<(&str, AxisValue)> = Vec::new();
    let mut preferred: Vec<(&str, AxisValue)> = Vec::new();
    for k in held {
        if let Some((_, want)) = at.iter().find(|(a, _)| a == *k) {
            required.push((k, held_value(rows, k, want)?));
        } else {
            let scale = AxisScale::of(&rows.iter().collect::<Vec<_>>(), k);
            let own = base.iter().find(|(b, _)| b == *k).map(|(_, v)| v);
            if let Some(v) = preferred_value(&scale, own) {
                preferred.push((k, v));
            }
        }
    }
    let matches = |r: &SweepRow, (k, v): &(&str, AxisValue)| r.axes.get(k) == Some(v);
    let best = rows
        .iter()
        .filter(|r| required.iter().all(|c| matches(r, c)))
        .fold(None::<(&SweepRow, usize)>, |best, r| {
            let score = preferred.iter().filter(|c| matches(r, c)).count();
            match best {
                Some((_, s)) if s >= score => best,
                _ => Some((r, score)),
            }
        });
    let Some((cell, _)) = best else {
        let given: Vec<String> = at.iter().map(|(k, v)| format!("{k}={v}")).collect();
        return Err(PlotError::usage(format!(
            "--at {}: no cell of the sweep has these values together",
            given.join(" --at ")
        )));
    };
    Ok(held
        .iter()
        .filter_map(|k| cell.axes.get(k).map(|v| ((*k).clone(), v.clone())))
        .collect())
}

/// The value of an axis a figure holds by default: `own` (the scenario's value) when the
/// axis has it, else the value nearest to it on a numeric axis, else the middle value.
fn preferred_value(scale: &AxisScale, own: Option<&AxisValue>) -> Option<AxisValue> {
    if let Some(own) = own {
        if scale.values.contains(own) {
            return Some(own.clone());
        }
        if let (true, Some(x)) = (scale.numeric, own.as_num()) {
            return scale
                .values
                .iter()
                .min_by(|a, b| {
                    let d = |v: &AxisValue| (v.as_num().unwrap_or(f64::NAN) - x).abs();
                    d(a).total_cmp(&d(b))
                })
                .cloned();
        }
    }
    scale
        .values
        .get(scale.values.len().saturating_sub(1) / 2)
        .cloned()
}

/// The scenario's own values of `axes`: the value at each field path of the scenario file
/// at `path`, defaults filled in (what the sweep varied around). Paths the file does not
/// have are left out.
pub fn scenario_values(
    path: &std::path::Path,
    axes: &[String],
) -> Result<Vec<(String, AxisValue)>, PlotError> {
    let file = crate::scenario::ScenarioFile::read(path)
        .map_err(|e| PlotError::input(path.display().to_string(), e.to_string()))?;
    let json = serde_json::to_value(&file).map_err(|e| {
        PlotError::input(path.display().to_string(), format!("cannot read back: {e}"))
    })?;
    Ok(axes
        .iter()
        .filter_map(|a| value_at(&json, a).map(|v| (a.clone(), AxisValue::from_json(v))))
        .collect())
}

/// The value at field path `path` (`a.b[0].c`) of `root`.
fn value_at<'v>(root: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    let mut cur = root;
    for part in path.split('.') {
        let (key, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        cur = cur.get(key)?;
        while let Some(r) = rest.strip_prefix('[') {
            let (n, tail) = r.split_once(']')?;
            cur = cur.get(n.parse::<usize>().ok()?)?;
            rest = tail;
        }
    }
    Some(cur)
}

/// The value of axis `path` written `want` (`10`, `10.0` and `lru` all match by meaning).
fn held_value(rows: &[SweepRow], path: &str, want: &str) -> Result<AxisValue, PlotError> {
    let scale = AxisScale::of(&rows.iter().collect::<Vec<_>>(), path);
    let parsed = want.trim().parse::<f64>().ok();
    scale
        .values
        .iter()
        .find(|v| match (v, parsed) {
            (AxisValue::Num(a), Some(b)) => *a == b,
            _ => v.to_string() == want.trim(),
        })
        .cloned()
        .ok_or_else(|| {
            let all: Vec<String> = scale.values.iter().map(|v| v.to_string()).collect();
            PlotError::usage(format!(
                "--at {path}={want}: the sweep has no such value (values: {})",
                all.join(", ")
            ))
        })
}

/// Parses `PATH=VALUE` of `--at`.
pub fn parse_at(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
            Ok((k.trim().to_string(), v.trim().to_string()))
        }
        _ => Err(format!(
            "`{s}` is not PATH=VALUE (e.g. drafts[0].accuracy.top1=0.8)"
        )),
    }
}

/// `speccache` if present, else the first policy that is not a baseline or reference.
pub fn default_policy(policies: &[String]) -> String {
    if policies.iter().any(|p| p == "speccache") {
        return "speccache".into();
    }
    policies
        .iter()
        .find(|p| !["none", "random", "oracle", "cache"].contains(&p.as_str()))
        .or(policies.first())
        .cloned()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_labels_come_from_the_field_registry() {
        assert_eq!(axis_label("cache.capacity"), "cache capacity (pages)");
        assert_eq!(axis_label("fetcher.slots"), "concurrent fetch slots");
        assert_eq!(
            axis_label("drafts[0].latency.latency.median"),
            "draft latency, median (s)"
        );
        // Unknown: the raw path, no unit guessed from `latency`.
        assert_eq!(axis_label("my.latency.median"), "my.latency.median");
        assert_eq!(
            Metric::Speedup.label(),
            "speedup of session latency (× vs no prefetch)"
        );
    }

    #[test]
    fn metric_names_round_trip() {
        for m in Metric::ALL {
            assert_eq!(m.name().parse::<Metric>().unwrap(), m);
        }
        let e = "latency".parse::<Metric>().unwrap_err();
        assert!(
            e.contains("allowed: speedup, web_reduction, hit_rate"),
            "{e}"
        );
    }

    #[test]
    fn default_policy_prefers_speccache() {
        let p = |v: &[&str]| default_policy(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(p(&["none", "random", "speccache"]), "speccache");
        assert_eq!(p(&["none", "random", "mine"]), "mine");
        assert_eq!(p(&["none"]), "none");
    }
}
