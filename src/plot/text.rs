//! Text in PNG figures: a bitmap-backend wrapper that typesets with the bundled font.
//!
//! plotters' own ab_glyph text drawing ignores each glyph's side bearing and rounds glyph
//! positions to whole pixels, which leaves uneven gaps inside words. This wrapper lays text
//! out with kerning and sub-pixel glyph positions, and places it as the SVG backend does
//! (font size `size / 1.24`, the same baselines for each anchor, rotation about the anchor),
//! so that a figure's PNG and SVG look alike. Everything but text goes to the inner backend.

use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::prelude::DrawingBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontTransform,
};

use super::style::FONT_BYTES;

/// x-height of DejaVu Sans in ems (OS/2 `sxHeight` 1120 / 2048 units), for SVG's `ex`.
const X_HEIGHT_EM: f64 = 1120.0 / 2048.0;

fn font() -> Result<&'static FontRef<'static>, ab_glyph::InvalidFont> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).ok())
        .as_ref()
        .ok_or(ab_glyph::InvalidFont)
}

/// A backend whose text is typeset with the bundled font.
pub(crate) struct Typeset<B>(pub B);

impl<B: DrawingBackend> DrawingBackend for Typeset<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    /// Wide lines as one quadrilateral per segment with round joins: plotters' default
    /// outline of a whole polyline comes out thinner where many short segments turn.
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let width = style.stroke_width();
        if width <= 1 || style.color().alpha < 1.0 {
            return self.0.draw_path(path, style);
        }
        let pts: Vec<BackendCoord> = path.into_iter().collect();
        let half = width as f64 / 2.0;
        let color = style.color();
        for seg in pts.windows(2) {
            let (a, b) = (seg[0], seg[1]);
            let (dx, dy) = ((b.0 - a.0) as f64, (b.1 - a.1) as f64);
            let len = (dx * dx + dy * dy).sqrt();
            if len == 0.0 {
                continue;
            }
            let (nx, ny) = (-dy / len * half, dx / len * half);
            let at = |p: BackendCoord, s: f64| {
                (
                    (p.0 as f64 + s * nx).round() as i32,
                    (p.1 as f64 + s * ny).round() as i32,
                )
            };
            self.0
                .fill_polygon([at(a, 1.0), at(b, 1.0), at(b, -1.0), at(a, -1.0)], &color)?;
        }
        if width >= 3 && pts.len() > 2 {
            for &p in &pts[1..pts.len() - 1] {
                self.0.draw_circle(p, width / 2, &color, true)?;
            }
        }
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        self.0.estimate_text_size(text, style)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let font = font().map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let em = style.size() / 1.24;
        let scale = PxScale::from(
            (em * font.height_unscaled() as f64 / font.units_per_em().unwrap_or(2048.0) as f64)
                as f32,
        );
        let sf = font.as_scaled(scale);
        // Lay the glyphs out on a baseline at y = 0, starting at x = 0.
        let mut glyphs = Vec::with_capacity(text.len());
        let mut x = 0.0f32;
        let mut prev = None;
        for c in text.chars() {
            let id = sf.glyph_id(c);
            if let Some(p) = prev {
                x += sf.kern(p, id);
            }
            glyphs.push((id, x));
            x += sf.h_advance(id);
            prev = Some(id);
        }
        let width = x as f64;
        let dx = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let baseline = match style.anchor().v_pos {
            VPos::Top => 0.76 * em,
            VPos::Center => 0.5 * X_HEIGHT_EM * em,
            VPos::Bottom => -0.5 * X_HEIGHT_EM * em,
        };
        let rotate = |lx: i32, ly: i32| match style.transform() {
            FontTransform::Rotate90 => (-ly, lx),
            FontTransform::Rotate180 => (-lx, -ly),
            FontTransform::Rotate270 => (ly, -lx),
            _ => (lx, ly),
        };
        let (w, h) = self.get_size();
        let mut pixels = Vec::new();
        for (id, gx) in glyphs {
            let glyph = id.with_scale_and_position(scale, point(gx + dx as f32, baseline as f32));
            if let Some(outline) = font.outline_glyph(glyph) {
                let b = outline.px_bounds();
                outline.draw(|px, py, coverage| {
                    if coverage > 0.0 {
                        let lx = b.min.x as i32 + px as i32;
                        let ly = b.min.y as i32 + py as i32;
                        pixels.push((rotate(lx, ly), coverage.min(1.0) as f64));
                    }
                });
            }
        }
        for ((rx, ry), coverage) in pixels {
            let (x, y) = (pos.0 + rx, pos.1 + ry);
            if x >= 0 && y >= 0 && x < w as i32 && y < h as i32 {
                self.0.draw_pixel(
                    (x, y),
                    BackendColor {
                        alpha: color.alpha * coverage,
                        rgb: color.rgb,
                    },
                )?;
            }
        }
        Ok(())
    }
}
