//! Plot style in one place: the bundled font, the colour-blind-safe palette, sizes.
//!
//! Colours are the Okabe-Ito palette (Okabe & Ito, "Color Universal Design", 2008), which
//! stays distinguishable under the common forms of colour blindness; lines also differ by
//! dash pattern where a figure could be printed in grey.

use plotters::style::{FontDesc, FontFamily, FontStyle, RGBColor};

/// The bundled font (DejaVu Sans 2.37, Bitstream Vera licence: `assets/fonts/`).
pub const FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The family name the bundled font is registered under (and that SVG files name).
pub const FONT: &str = "DejaVu Sans";
/// The `font-family` list written into SVG files: the bundled font first, then fonts with
/// similar metrics, so that a viewer without DejaVu Sans still lays text out closely.
pub const SVG_FONT_FAMILY: &str = "DejaVu Sans, Bitstream Vera Sans, Verdana, sans-serif";

/// Figure size in pixels (SVG user units), for single-panel figures.
pub const WIDTH: u32 = 1000;
pub const HEIGHT: u32 = 620;
/// Size of the two-panel fit diagnostics figure.
pub const FIT_WIDTH: u32 = 1400;
pub const FIT_HEIGHT: u32 = 620;
/// Width of the legend column at the right of a figure (outside the plot area, so that the
/// legend never covers data).
pub const LEGEND_WIDTH: u32 = 270;

/// Font sizes (pixels).
pub const TITLE_SIZE: f64 = 28.0;
pub const SUBTITLE_SIZE: f64 = 18.0;
pub const LABEL_SIZE: f64 = 22.0;
pub const TICK_SIZE: f64 = 18.0;
pub const LEGEND_SIZE: f64 = 18.0;
pub const CELL_SIZE: f64 = 22.0;

/// Line widths (pixels).
pub const LINE_WIDTH: u32 = 3;
pub const THIN: u32 = 1;
/// Opacity of confidence bands.
pub const BAND_ALPHA: f64 = 0.18;

/// Okabe-Ito.
pub const BLACK: RGBColor = RGBColor(0, 0, 0);
pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
pub const SKY_BLUE: RGBColor = RGBColor(86, 180, 233);
pub const BLUISH_GREEN: RGBColor = RGBColor(0, 158, 115);
pub const YELLOW: RGBColor = RGBColor(240, 228, 66);
pub const BLUE: RGBColor = RGBColor(0, 114, 178);
pub const VERMILLION: RGBColor = RGBColor(213, 94, 0);
pub const REDDISH_PURPLE: RGBColor = RGBColor(204, 121, 167);
/// Neutral greys for references, grids and text.
pub const GREY: RGBColor = RGBColor(110, 110, 110);
pub const LIGHT_GREY: RGBColor = RGBColor(225, 225, 225);
pub const TEXT: RGBColor = RGBColor(20, 20, 20);

/// Series colours in the order they are handed out (second-axis values, unknown policies).
pub const SERIES: [RGBColor; 7] = [
    BLUE,
    VERMILLION,
    BLUISH_GREEN,
    ORANGE,
    REDDISH_PURPLE,
    SKY_BLUE,
    BLACK,
];

/// Breakdown segments.
pub const TARGET_LLM: RGBColor = BLUE;
pub const STAGES_LLM: RGBColor = SKY_BLUE;
pub const EXPOSED_WEB: RGBColor = VERMILLION;
pub const HIDDEN_WEB: RGBColor = VERMILLION;

/// A line's dash pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dash {
    Solid,
    Dashed,
    Dotted,
    DashDot,
}

/// The fixed colour and dash of a policy, so that a policy looks the same in every figure.
pub fn policy_style(name: &str, fallback_index: usize) -> (RGBColor, Dash) {
    match name {
        "none" => (BLACK, Dash::Solid),
        "cache" => (SKY_BLUE, Dash::DashDot),
        "random" => (ORANGE, Dash::Dotted),
        "speccache" => (BLUE, Dash::Solid),
        "oracle" => (BLUISH_GREEN, Dash::Dashed),
        _ => (
            [VERMILLION, REDDISH_PURPLE, BLACK][fallback_index % 3],
            Dash::Solid,
        ),
    }
}

/// The colour of the `i`-th series of a figure.
pub fn series_color(i: usize) -> RGBColor {
    SERIES[i % SERIES.len()]
}

/// The bundled font at `size` pixels.
pub fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT), size, FontStyle::Normal)
}

/// A sequential, colour-blind-safe colour map (viridis) at `t` in [0, 1].
pub fn viridis(t: f64) -> RGBColor {
    // Eleven evenly spaced stops of matplotlib's viridis, interpolated linearly.
    const STOPS: [(u8, u8, u8); 11] = [
        (68, 1, 84),
        (72, 36, 117),
        (65, 68, 135),
        (53, 95, 141),
        (42, 120, 142),
        (33, 145, 140),
        (34, 168, 132),
        (68, 191, 112),
        (122, 209, 81),
        (189, 223, 38),
        (253, 231, 37),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let pos = t * (STOPS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(STOPS.len() - 2);
    let f = pos - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Whether text on `background` should be white (else black) for contrast.
pub fn needs_light_text(background: RGBColor) -> bool {
    let l =
        0.2126 * background.0 as f64 + 0.7152 * background.1 as f64 + 0.0722 * background.2 as f64;
    l < 140.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_and_contrast() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(f64::NAN), RGBColor(68, 1, 84));
        assert!(needs_light_text(viridis(0.0)));
        assert!(!needs_light_text(viridis(1.0)));
    }

    #[test]
    fn policies_keep_their_colour() {
        assert_eq!(policy_style("speccache", 0).0, BLUE);
        assert_eq!(policy_style("speccache", 5).0, BLUE);
        assert_ne!(policy_style("random", 0).0, policy_style("oracle", 0).0);
    }
}
