//! What every figure shares: the title block, the legend column, dashed lines, hatching.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, Dash};

/// The result of drawing on backend `DB`.
pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Height of the title block (title and one subtitle line).
pub const TITLE_BLOCK: u32 = 78;

/// What a legend entry shows beside its label.
#[derive(Clone, Debug)]
pub enum Swatch {
    /// A line of this colour and dash.
    Line(RGBColor, Dash),
    /// A line over a light band (a mean with its confidence interval).
    LineBand(RGBColor, Dash),
    /// A filled box.
    Box(RGBColor),
    /// A light, hatched box (hidden or overlapped quantities).
    Hatch(RGBColor),
    /// A marker (points of a scatter plot).
    Dot(RGBColor),
    /// An error bar (whisker).
    Whisker(RGBColor),
}

/// One legend entry; `label` may hold `\n` for line breaks.
#[derive(Clone, Debug)]
pub struct LegendEntry {
    pub label: String,
    pub swatch: Swatch,
}

impl LegendEntry {
    pub fn new(label: impl Into<String>, swatch: Swatch) -> Self {
        LegendEntry {
            label: label.into(),
            swatch,
        }
    }
}

/// Splits `root` into the title block, the chart area and the legend column, and draws the
/// title and subtitle. Returns `(chart, legend)`.
#[allow(clippy::type_complexity)]
pub fn layout<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    legend_width: u32,
) -> Result<(DrawingArea<DB, Shift>, DrawingArea<DB, Shift>), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (top, body) = root.split_vertically(TITLE_BLOCK);
    top.draw(&Text::new(
        title.to_string(),
        (24, 14),
        style::font(style::TITLE_SIZE).color(&style::TEXT),
    ))?;
    if !subtitle.is_empty() {
        top.draw(&Text::new(
            subtitle.to_string(),
            (24, 50),
            style::font(style::SUBTITLE_SIZE).color(&style::GREY),
        ))?;
    }
    let (w, _) = body.dim_in_pixel();
    let (chart, legend) = body.split_horizontally(w.saturating_sub(legend_width));
    Ok((chart, legend))
}

/// The `(dash, gap)` lengths in pixels of a dash pattern; `None` for solid.
fn pattern(dash: Dash) -> Option<(u32, u32)> {
    match dash {
        Dash::Solid => None,
        Dash::Dashed => Some((12, 7)),
        Dash::Dotted => Some((3, 5)),
        Dash::DashDot => Some((22, 6)),
    }
}

/// Draws a polyline with a dash pattern in the coordinates of `area`.
pub fn draw_line<DB, CT>(
    area: &DrawingArea<DB, CT>,
    points: Vec<CT::From>,
    color: RGBColor,
    dash: Dash,
    width: u32,
) -> DrawResult<DB>
where
    DB: DrawingBackend,
    CT: plotters::coord::CoordTranslate,
    CT::From: Clone + 'static,
{
    if points.len() < 2 {
        return Ok(());
    }
    let style = color.stroke_width(width);
    match pattern(dash) {
        None => area.draw(&PathElement::new(points, style)),
        Some((d, g)) => area.draw(&plotters::element::DashedPathElement::new(
            points, d, g, style,
        )),
    }
}

/// Draws diagonal hatching inside the pixel rectangle `(x0, y0)-(x1, y1)` of `area`.
pub fn hatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
    color: RGBColor,
) -> DrawResult<DB> {
    let (x0, x1) = (x0.min(x1), x0.max(x1));
    let (y0, y1) = (y0.min(y1), y0.max(y1));
    area.draw(&Rectangle::new(
        [(x0, y0), (x1, y1)],
        color.mix(0.12).filled(),
    ))?;
    // Lines x - y = c for c stepping across the rectangle, clipped to it.
    let step = 9;
    let mut c = x0 - y1;
    while c <= x1 - y0 {
        let (ax, ay) = if c + y1 <= x1 {
            (c + y1, y1)
        } else {
            (x1, x1 - c)
        };
        let (bx, by) = if c + y0 >= x0 {
            (c + y0, y0)
        } else {
            (x0, x0 - c)
        };
        if ax >= x0 && bx <= x1 && ay >= y0 && by <= y1 {
            area.draw(&PathElement::new(
                vec![(ax, ay), (bx, by)],
                color.mix(0.8).stroke_width(2),
            ))?;
        }
        c += step;
    }
    area.draw(&Rectangle::new([(x0, y0), (x1, y1)], color.stroke_width(2)))
}

/// Draws a legend column: an optional heading, then one row per entry, from `top` pixels.
pub fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    heading: Option<&str>,
    entries: &[LegendEntry],
    top: i32,
) -> DrawResult<DB> {
    // Shrink the legend (to at most 70 %) when its entries would not fit the height.
    let lines_total: usize = entries.iter().map(|e| e.label.split('\n').count()).sum();
    let needed = (lines_total + usize::from(heading.is_some())) as f64 * style::LEGEND_SIZE * 1.3
        + entries.len() as f64 * 10.0;
    let (_, avail) = area.dim_in_pixel();
    let fit = ((avail as f64 - top as f64 - 10.0) / needed).clamp(0.7, 1.0);
    let size = style::LEGEND_SIZE * fit;
    let line_h = (size * 1.3) as i32;
    let gap = (10.0 * fit) as i32;
    let mut y = top;
    let x = 10;
    let text = style::font(size).color(&style::TEXT);
    if let Some(h) = heading {
        area.draw(&Text::new(h.to_string(), (x, y), text.clone()))?;
        y += line_h + gap;
    }
    for e in entries {
        let lines: Vec<&str> = e.label.split('\n').collect();
        let mid = y + line_h / 2 - 2;
        let sx = x;
        let sw = 40;
        match &e.swatch {
            Swatch::Line(c, d) => draw_line(
                area,
                vec![(sx, mid), (sx + sw, mid)],
                *c,
                *d,
                style::LINE_WIDTH,
            )?,
            Swatch::LineBand(c, d) => {
                area.draw(&Rectangle::new(
                    [(sx, mid - 8), (sx + sw, mid + 8)],
                    c.mix(style::BAND_ALPHA).filled(),
                ))?;
                draw_line(
                    area,
                    vec![(sx, mid), (sx + sw, mid)],
                    *c,
                    *d,
                    style::LINE_WIDTH,
                )?;
            }
            Swatch::Box(c) => area.draw(&Rectangle::new(
                [(sx + 6, mid - 9), (sx + sw - 6, mid + 9)],
                c.filled(),
            ))?,
            Swatch::Dot(c) => area.draw(&Circle::new((sx + sw / 2, mid), 5, c.filled()))?,
            Swatch::Hatch(c) => hatch(area, (sx + 6, mid - 9), (sx + sw - 6, mid + 9), *c)?,
            Swatch::Whisker(c) => {
                let s = c.stroke_width(2);
                area.draw(&PathElement::new(
                    vec![(sx + 20, mid - 10), (sx + 20, mid + 10)],
                    s,
                ))?;
                area.draw(&PathElement::new(
                    vec![(sx + 12, mid - 10), (sx + 28, mid - 10)],
                    s,
                ))?;
                area.draw(&PathElement::new(
                    vec![(sx + 12, mid + 10), (sx + 28, mid + 10)],
                    s,
                ))?;
            }
        }
        let tx = x + sw + 10;
        for (i, l) in lines.iter().enumerate() {
            let st = text.clone();
            area.draw(&Text::new(
                l.to_string(),
                (tx, y + i as i32 * line_h),
                st.pos(Pos::new(HPos::Left, VPos::Top)),
            ))?;
        }
        y += line_h * lines.len() as i32 + gap;
    }
    Ok(())
}

/// The width a legend column needs for `heading` and `entries`, within `[160, 40 %]` of
/// the figure's width.
pub fn legend_width<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    heading: Option<&str>,
    entries: &[LegendEntry],
) -> u32 {
    let font = style::font(style::LEGEND_SIZE).color(&style::TEXT);
    let width = |t: &str| root.estimate_text_size(t, &font).map_or(0, |(w, _)| w);
    let labels = entries
        .iter()
        .flat_map(|e| e.label.split('\n'))
        .map(|l| width(l) + 60)
        .max()
        .unwrap_or(0);
    let head = heading.map_or(0, width);
    let (w, _) = root.dim_in_pixel();
    (labels.max(head) + 30).clamp(160, w * 2 / 5)
}

/// `label` cut with an ellipsis to about `max_px` pixels at `size` (DejaVu Sans averages
/// about 0.6 em per character), so that category labels never run into each other.
pub fn fit_label(label: &str, max_px: i32, size: f64) -> String {
    let per_char = size * 0.6;
    let fits = (max_px.max(0) as f64 / per_char).floor() as usize;
    let n = label.chars().count();
    if n <= fits.max(1) {
        label.to_string()
    } else {
        let keep = fits.saturating_sub(1).max(1);
        let mut out: String = label.chars().take(keep).collect();
        out.push('…');
        out
    }
}

/// A compact number for tick labels and cell values: `12`, `1.5`, `0.25`, `1.2e-3`.
pub fn short_number(x: f64) -> String {
    if !x.is_finite() {
        return "–".to_string();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        return format!("{x:.1e}");
    }
    let s = if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::short_number;

    #[test]
    fn labels_fit() {
        assert_eq!(super::fit_label("lru", 200, 18.0), "lru");
        let cut = super::fit_label("{\"cumulative\":[0.6,0.7,0.8]}", 108, 18.0);
        assert_eq!(cut.chars().count(), 10);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short_number(10.0), "10");
        assert_eq!(short_number(2.5), "2.5");
        assert_eq!(short_number(1.234), "1.23");
        assert_eq!(short_number(0.25), "0.25");
        assert_eq!(short_number(0.0), "0");
        assert_eq!(short_number(123.4), "123");
        assert_eq!(short_number(0.0001), "1.0e-4");
        assert_eq!(short_number(f64::NAN), "–");
    }
}
