//! Figures of run reports, sweeps and fits, drawn with plotters as SVG and PNG.
//!
//! Figures only read result records ([`Report`], sweep rows, fitted samples); they never
//! rerun a simulation. Text uses the bundled DejaVu Sans (registered once, no system font
//! lookup), so a PNG is byte-identical on every machine; SVG files keep their text as text
//! and name DejaVu Sans first. Each figure kind lives in its own file; the style (palette,
//! sizes, font) is in [`style`]. See `docs/plots.md`.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::io::output::write_atomic;
use crate::io::report::Report;
use crate::sim::dist::{Dist, DistSpec};

mod breakdown;
mod cdf;
mod curve;
mod fit;
mod frame;
mod heatmap;
mod hit_rate;
pub mod input;
pub mod pareto;
pub mod style;
pub mod sweep;
mod text;
mod ticks;
pub mod whatif;

pub use fit::FitSubject;
pub use input::{
    read_results, rows_from_values, AxisValue, PlotReport, PlotRow, Results, SweepRow,
};
pub use sweep::{scenario_values, Metric, SweepOptions};

/// Why a figure could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// A results file that cannot be read or lacks what a figure needs.
    #[error("{source_name}: {message}")]
    Input {
        source_name: String,
        message: String,
    },
    /// Options that do not fit the data (an unknown axis or policy).
    #[error("{0}")]
    Usage(String),
    /// The drawing library failed.
    #[error("drawing {figure}: {message}")]
    Draw { figure: String, message: String },
    /// A figure file could not be written.
    #[error("{path}: cannot write figure: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

impl PlotError {
    pub(crate) fn input(source: impl Into<String>, message: impl Into<String>) -> Self {
        PlotError::Input {
            source_name: source.into(),
            message: message.into(),
        }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        PlotError::Usage(message.into())
    }

    /// Bad input or options (exit code 2), as opposed to a failure to draw or write.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, PlotError::Input { .. } | PlotError::Usage(_))
    }
}

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

impl Format {
    pub const ALL: [Format; 2] = [Format::Svg, Format::Png];

    fn ext(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "svg" => Ok(Format::Svg),
            "png" => Ok(Format::Png),
            _ => Err(format!("unknown format `{s}` (allowed: svg, png)")),
        }
    }
}

/// A figure that can draw itself on any plotters backend.
pub(crate) trait Figure {
    /// Size in pixels.
    fn size(&self) -> (u32, u32) {
        (style::WIDTH, style::HEIGHT)
    }

    /// Draws the whole figure on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> frame::DrawResult<DB>;
}

/// Registers the bundled font (once per process) under its own name and as `sans-serif`,
/// the family plotters falls back to.
fn register_font() -> Result<(), PlotError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(style::FONT, FontStyle::Normal, style::FONT_BYTES).is_ok()
            && plotters::style::register_font("sans-serif", FontStyle::Normal, style::FONT_BYTES)
                .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Draw {
            figure: "font".into(),
            message: "the bundled font could not be loaded".into(),
        })
    }
}

fn draw_error(stem: &str, e: impl std::fmt::Display) -> PlotError {
    PlotError::Draw {
        figure: stem.to_string(),
        message: e.to_string(),
    }
}

/// Renders `fig` as an SVG document.
pub(crate) fn render_svg(fig: &impl Figure, stem: &str) -> Result<String, PlotError> {
    register_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, fig.size()).into_drawing_area();
        fig.draw(&root).map_err(|e| draw_error(stem, e))?;
        root.present().map_err(|e| draw_error(stem, e))?;
    }
    Ok(svg.replace(
        &format!("font-family=\"{}\"", style::FONT),
        &format!("font-family=\"{}\"", style::SVG_FONT_FAMILY),
    ))
}

/// Renders `fig` as RGB pixels, row by row.
pub(crate) fn render_rgb(fig: &impl Figure, stem: &str) -> Result<Vec<u8>, PlotError> {
    register_font()?;
    let (w, h) = fig.size();
    let mut buf = vec![255u8; w as usize * h as usize * 3];
    {
        let root = text::Typeset(BitMapBackend::with_buffer(&mut buf, (w, h))).into_drawing_area();
        fig.draw(&root).map_err(|e| draw_error(stem, e))?;
        root.present().map_err(|e| draw_error(stem, e))?;
    }
    Ok(buf)
}

/// Encodes RGB pixels as PNG (fast deflate, adaptive filters).
fn encode_png(rgb: &[u8], (w, h): (u32, u32), stem: &str) -> Result<Vec<u8>, PlotError> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    enc.set_filter(png::FilterType::Sub);
    enc.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    enc.write_header()
        .and_then(|mut writer| writer.write_image_data(rgb))
        .map_err(|e| draw_error(stem, e))?;
    Ok(out)
}

/// Writes `fig` as `dir/stem.<ext>` in every format; returns the paths written.
pub(crate) fn render(
    fig: &impl Figure,
    dir: &Path,
    stem: &str,
    formats: &[Format],
) -> Result<Vec<PathBuf>, PlotError> {
    let mut written = Vec::new();
    for &f in formats {
        let bytes = match f {
            Format::Svg => render_svg(fig, stem)?.into_bytes(),
            Format::Png => encode_png(&render_rgb(fig, stem)?, fig.size(), stem)?,
        };
        let path = dir.join(format!("{stem}.{}", f.ext()));
        write_atomic(&path, &bytes).map_err(|e| PlotError::Write {
            path: path.display().to_string(),
            source: e,
        })?;
        written.push(path);
    }
    Ok(written)
}

fn ensure_dir(dir: &Path) -> Result<(), PlotError> {
    std::fs::create_dir_all(dir).map_err(|e| PlotError::Write {
        path: dir.display().to_string(),
        source: e,
    })
}

/// A file-name-safe form of a field path: `drafts[0].accuracy.top1` → `drafts_0_accuracy_top1`.
pub fn slug(path: &str) -> String {
    let mut s = String::new();
    for c in path.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('_') {
            s.push('_');
        }
    }
    s.trim_matches('_').to_string()
}

/// The figures of a run report (latency breakdown, CDFs of iteration and session latency)
/// in SVG and PNG; returns the files written.
pub fn plot_report(report: &Report, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    plot_report_data(&PlotReport::from(report), dir, &Format::ALL)
}

/// [`plot_report`] for a report read from a file, in the given formats.
pub fn plot_report_data(
    report: &PlotReport,
    dir: &Path,
    formats: &[Format],
) -> Result<Vec<PathBuf>, PlotError> {
    report.validate("report")?;
    ensure_dir(dir)?;
    let mut out = render(
        &breakdown::Breakdown::new(report),
        dir,
        "breakdown",
        formats,
    )?;
    if !report.distributions.is_empty() {
        for kind in [cdf::Kind::Iteration, cdf::Kind::Session] {
            out.extend(render(
                &cdf::Cdf::new(report, kind),
                dir,
                kind.stem(),
                formats,
            )?);
        }
    }
    Ok(out)
}

/// The figures of a sweep: speedup, web-overhead reduction and hit rate against an axis,
/// and a heatmap over two axes when the sweep has two; returns the files written.
pub fn plot_sweep(
    rows: &[SweepRow],
    dir: &Path,
    options: &SweepOptions,
    formats: &[Format],
) -> Result<Vec<PathBuf>, PlotError> {
    let plan = sweep::Plan::new(
        rows,
        options.axis.as_deref(),
        options.second_axis.as_deref(),
        options.policy.as_deref(),
        &options.at,
        &options.base,
    )?;
    ensure_dir(dir)?;
    let metrics: Vec<Metric> = match options.metric {
        Some(m) => vec![m],
        None => Metric::ALL.to_vec(),
    };
    let x = slug(&plan.x.path);
    let mut out = Vec::new();
    for &m in &metrics {
        let stem = format!("{}_vs_{x}", m.name());
        if m == Metric::HitRate {
            out.extend(render(
                &hit_rate::HitRate::new(&plan)?,
                dir,
                &stem,
                formats,
            )?);
        } else {
            out.extend(render(&curve::Curve::new(&plan, m)?, dir, &stem, formats)?);
        }
    }
    // The heatmap's second axis: the one given, else the next axis that varies and is not
    // held by --at.
    let second = options.second_axis.clone().or_else(|| {
        sweep::varying_axes(rows)
            .into_iter()
            .find(|a| *a != plan.x.path && !options.at.iter().any(|(k, _)| k == a))
    });
    if let Some(second) = second {
        let hplan = sweep::Plan::new(
            rows,
            Some(&plan.x.path),
            Some(&second),
            options.policy.as_deref(),
            &options.at,
            &options.base,
        )?;
        let m = options.metric.unwrap_or(Metric::Speedup);
        let stem = format!("heatmap_{}_{x}_{}", m.name(), slug(&second));
        out.extend(render(
            &heatmap::Heatmap::new(&hplan, m)?,
            dir,
            &stem,
            formats,
        )?);
    }
    Ok(out)
}

/// Fit diagnostics of `samples` (of `subject`'s quantity, in its unit): their ECDF with the
/// ECDF of each fitted distribution (from 20 000 draws of a fixed stream), and a Q-Q plot of
/// the chosen family `best`. Writes `dir/<stem>.svg` and `.png`; returns the files written.
pub fn plot_fit(
    samples: &[f64],
    fitted: &[(String, Dist)],
    best: &str,
    subject: &FitSubject,
    dir: &Path,
    stem: &str,
) -> Result<Vec<PathBuf>, PlotError> {
    let observed = fit::Observed::Samples(samples.to_vec());
    let fig = fit::Fit::new(observed, fitted, best, "chosen", None, subject)?;
    ensure_dir(dir)?;
    render(&fig, dir, stem, &Format::ALL)
}

/// Every fitted family of `families` as a distribution to draw from.
fn buildable<'a>(families: impl Iterator<Item = (&'a str, &'a DistSpec)>) -> Vec<(String, Dist)> {
    let mut problems = crate::scenario::problems::Problems::new();
    families
        .filter_map(|(name, spec)| {
            spec.build(name, &mut problems)
                .map(|d| (name.to_string(), d))
        })
        .collect()
}

/// [`plot_fit`] for a [`crate::data::fit::FitReport`] of `samples`: every fitted family, with
/// `chosen` (the family the profile uses, see [`crate::data::fit::profile::choose`])
/// highlighted. When the profile uses no fitted family (`empirical`, `constant`) or
/// `chosen` is `None`, the family with the smallest AIC is highlighted and the subtitle says
/// what the profile uses. Writes `dir/<stem>.svg` and `.png`.
pub fn plot_fit_report(
    samples: &[f64],
    report: &crate::data::fit::FitReport,
    chosen: Option<&str>,
    subject: &FitSubject,
    dir: &Path,
    stem: &str,
) -> Result<Vec<PathBuf>, PlotError> {
    let fitted = buildable(report.fits.iter().map(|f| (f.family.name(), &f.spec)));
    let Some(best_aic) = report.best.map(|b| b.name()) else {
        return Err(PlotError::usage(
            "fit plot: no family was chosen (every sample is equal)",
        ));
    };
    let (best, best_is, note) = match chosen {
        Some(c) if fitted.iter().any(|(n, _)| n == c) => (c, "chosen", None),
        Some(c) => (
            best_aic,
            "best AIC",
            Some(format!("the profile uses {c} (no family fits acceptably)")),
        ),
        None => (best_aic, "chosen", None),
    };
    let observed = fit::Observed::Samples(samples.to_vec());
    let fig = fit::Fit::new(observed, &fitted, best, best_is, note, subject)?;
    ensure_dir(dir)?;
    render(&fig, dir, stem, &Format::ALL)
}

/// Fit diagnostics of published quantiles `(probability, value)`: the quantiles as points
/// on the fitted distributions' CDFs, and a Q-Q plot of the best fit (the first of `fits`,
/// which [`crate::data::fit::quantiles::fit_quantiles`] sorts by error). Writes
/// `dir/<stem>.svg` and `.png`.
pub fn plot_quantile_fit(
    points: &[(f64, f64)],
    fits: &[crate::data::fit::quantiles::QuantileFit],
    subject: &FitSubject,
    dir: &Path,
    stem: &str,
) -> Result<Vec<PathBuf>, PlotError> {
    let fitted = buildable(fits.iter().map(|f| (f.family.name(), &f.spec)));
    let Some(best) = fits.first().map(|f| f.family.name()) else {
        return Err(PlotError::usage("fit plot: no family was fitted"));
    };
    let observed = fit::Observed::Quantiles(points.to_vec());
    let fig = fit::Fit::new(
        observed,
        &fitted,
        best,
        "chosen",
        Some("least squares on ln(quantile)".into()),
        subject,
    )?;
    ensure_dir(dir)?;
    render(&fig, dir, stem, &Format::ALL)
}

/// Reads `path` (a run report, a sweep directory or its `results.jsonl`) and writes its
/// figures to `dir`.
pub fn plot_path(
    path: &Path,
    dir: &Path,
    options: &SweepOptions,
    formats: &[Format],
) -> Result<Vec<PathBuf>, PlotError> {
    plot_results(&read_results(path)?, path, dir, options, formats)
}

/// Writes the figures of `results` (read from `path`, named in errors) to `dir`.
pub fn plot_results(
    results: &Results,
    path: &Path,
    dir: &Path,
    options: &SweepOptions,
    formats: &[Format],
) -> Result<Vec<PathBuf>, PlotError> {
    match results {
        Results::Report(r) => {
            if options.axis.is_some()
                || options.second_axis.is_some()
                || options.metric.is_some()
                || options.policy.is_some()
                || !options.at.is_empty()
                || !options.base.is_empty()
            {
                return Err(PlotError::usage(format!(
                    "{}: a run report has no sweep axes; --axis, --second-axis, --metric, --policy, --at and --scenario apply to sweep results",
                    path.display()
                )));
            }
            plot_report_data(r, dir, formats)
        }
        Results::Sweep(rows) => plot_sweep(rows, dir, options, formats),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_safe() {
        assert_eq!(slug("drafts[0].accuracy.top1"), "drafts_0_accuracy_top1");
        assert_eq!(slug("cache.capacity"), "cache_capacity");
        assert_eq!(slug("Width"), "width");
    }

    #[test]
    fn formats_parse() {
        assert_eq!("svg".parse::<Format>().unwrap(), Format::Svg);
        assert!("pdf"
            .parse::<Format>()
            .unwrap_err()
            .contains("allowed: svg, png"));
    }
}
