//! Choosing what a sweep figure shows: the x axis, the series, the cells held fixed.

use std::str::FromStr;

use super::input::{AxisValue, SweepRow};
use super::PlotError;

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

    /// The name used on the command line and in file names.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Speedup => "speedup",
            Metric::WebReduction => "web_reduction",
            Metric::HitRate => "hit_rate",
        }
    }

    /// Axis label, with unit.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Speedup => "speedup of session latency (×, vs no prefetch)",
            Metric::WebReduction => "exposed web time reduction (×, vs no prefetch)",
            Metric::HitRate => "hit rate (fraction of page visits)",
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
    /// Values at which other varying axes are held (`(path, value)`); default: the value
    /// of the first cell.
    pub at: Vec<(String, String)>,
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

    /// Axis label with a unit guessed from the field path.
    pub fn label(&self) -> String {
        axis_label(&self.path)
    }
}

/// A field path with its unit: `cache.capacity` → `cache.capacity (pages)`.
pub fn axis_label(path: &str) -> String {
    let last = path.rsplit('.').next().unwrap_or(path);
    let p = path.to_ascii_lowercase();
    let unit = if last == "capacity" {
        Some("pages")
    } else if last == "width" {
        Some("links prefetched per step")
    } else if p.contains("accuracy") || last.starts_with("top") || last.ends_with("_prob") {
        Some("fraction")
    } else if p.contains("latency")
        || p.contains("fetch")
        || [
            "median", "mean", "ttft", "tpot", "value", "scale", "low", "high",
        ]
        .contains(&last)
    {
        Some("s")
    } else if last == "sessions" || last == "replications" || last == "pages" {
        Some("count")
    } else {
        None
    };
    match unit {
        Some(u) => format!("{path} ({u})"),
        None => path.to_string(),
    }
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
    /// Other varying axes, held at the value of the first cell.
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
        let mut fixed: Vec<(String, AxisValue)> = Vec::new();
        for k in varying
            .iter()
            .filter(|k| **k != x && Some(k.as_str()) != second)
        {
            let value = match at.iter().find(|(a, _)| a == k) {
                Some((_, want)) => held_value(rows, k, want)?,
                None => match first.axes.get(k) {
                    Some(v) => v.clone(),
                    None => continue,
                },
            };
            fixed.push((k.clone(), value));
        }
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
                .map(|(k, v)| format!("{k} = {v}"))
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
    fn axis_labels_carry_units() {
        assert_eq!(axis_label("cache.capacity"), "cache.capacity (pages)");
        assert_eq!(axis_label("width"), "width (links prefetched per step)");
        assert_eq!(
            axis_label("drafts[0].accuracy.top1"),
            "drafts[0].accuracy.top1 (fraction)"
        );
        assert_eq!(axis_label("fetch.median"), "fetch.median (s)");
        assert_eq!(axis_label("cache.eviction"), "cache.eviction");
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
