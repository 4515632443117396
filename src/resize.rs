//! One decoded image in, one resized image per requested width out.
//!
//! Resizing is fast_image_resize's Lanczos3 convolution; the SIMD variant (AVX2, SSE4.1, NEON) is
//! picked at run time by the crate. A [`Thumbnailer`] owns a `Resizer` and its buffers so each
//! worker thread reuses one. Alpha is premultiplied during the resize (fast_image_resize's
//! default), so transparent edges do not darken.

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;

/// No side of a thumbnail exceeds this, whatever the input's shape.
pub const MAX_SIDE: u32 = 16_384;

/// The size of a thumbnail `width` pixels wide: the height keeps the aspect ratio, rounded down
/// as the original service computed it, and never reaches zero (a 10000x1 strip still gets a
/// 1-pixel-high thumbnail). Without `enlarge` an image narrower than `width` keeps its size.
///
/// A thumbnail that would be taller than [`MAX_SIDE`] is not enlarged either (a 1x10000 strip
/// would otherwise become 32x320000 at width 32), and is shrunk to fit if even that is too tall.
pub fn thumbnail_size(src_width: u32, src_height: u32, width: u32, enlarge: bool) -> (u32, u32) {
    let src_width = src_width.max(1);
    let at = |w: u32| {
        let h = u64::from(src_height) * u64::from(w) / u64::from(src_width);
        (w, h.clamp(1, u64::from(u32::MAX)) as u32)
    };
    let (w, h) = at(if enlarge { width } else { width.min(src_width) });
    if h <= MAX_SIDE {
        return (w, h);
    }
    let (w, h) = at(w.min(src_width));
    if h <= MAX_SIDE {
        return (w, h);
    }
    let w = (u64::from(MAX_SIDE) * u64::from(src_width) / u64::from(src_height.max(1))).max(1);
    let (w, h) = at(w as u32);
    (w, h.min(MAX_SIDE))
}

#[derive(Debug, thiserror::Error)]
#[error("resize to {width}x{height} failed")]
pub struct ResizeError {
    pub width: u32,
    pub height: u32,
    #[source]
    pub source: fast_image_resize::ResizeError,
}

pub struct Thumbnailer {
    resizer: Resizer,
    options: ResizeOptions,
}

impl Default for Thumbnailer {
    fn default() -> Self {
        Thumbnailer {
            resizer: Resizer::new(),
            options: ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)),
        }
    }
}

impl Thumbnailer {
    /// Resizes `src` (8-bit L, LA, RGB or RGBA) to `width` (see [`thumbnail_size`]), keeping
    /// its pixel type.
    pub fn resize(
        &mut self,
        src: &DynamicImage,
        width: u32,
        enlarge: bool,
    ) -> Result<DynamicImage, ResizeError> {
        let (width, height) = thumbnail_size(src.width(), src.height(), width, enlarge);
        let mut dst = DynamicImage::new(width, height, src.color());
        self.resizer
            .resize(src, &mut dst, &self.options)
            .map_err(|source| ResizeError {
                width,
                height,
                source,
            })?;
        Ok(dst)
    }
}

#[cfg(test)]
mod tests {
    use super::{thumbnail_size, Thumbnailer};
    use image::{DynamicImage, Rgba, RgbaImage};

    #[test]
    fn height_keeps_aspect_rounded_down_and_never_zero() {
        assert_eq!(thumbnail_size(1600, 1200, 200, true), (200, 150));
        assert_eq!(thumbnail_size(1600, 1065, 200, true), (200, 133));
        assert_eq!(thumbnail_size(1000, 677, 32, true), (32, 21));
        assert_eq!(thumbnail_size(10_000, 1, 32, true), (32, 1));
        assert_eq!(thumbnail_size(1, 1, 200, true), (200, 200));
    }

    #[test]
    fn no_enlarge_keeps_small_images_and_strips_never_explode() {
        assert_eq!(thumbnail_size(1, 1, 200, false), (1, 1));
        assert_eq!(thumbnail_size(100, 50, 200, false), (100, 50));
        assert_eq!(thumbnail_size(1600, 1200, 200, false), (200, 150));
        // 32x320000 would be absurd: the strip keeps its own size.
        assert_eq!(thumbnail_size(1, 10_000, 32, true), (1, 10_000));
        // Taller than MAX_SIDE even at its own size: shrunk to fit.
        assert_eq!(thumbnail_size(2, 40_000, 200, true), (1, 16_384));
    }

    #[test]
    fn transparent_edges_do_not_darken() {
        // Left half opaque white, right half fully transparent *black*: without premultiplied
        // resizing the black leaks into the edge pixels as a dark fringe.
        let mut img = RgbaImage::new(64, 8);
        for (x, _, p) in img.enumerate_pixels_mut() {
            *p = if x < 32 {
                Rgba([255, 255, 255, 255])
            } else {
                Rgba([0, 0, 0, 0])
            };
        }
        let out = Thumbnailer::default()
            .resize(&DynamicImage::ImageRgba8(img), 16, true)
            .unwrap()
            .to_rgba8();
        for p in out.pixels().filter(|p| p[3] > 16) {
            assert!(p[0] > 240, "dark fringe: {p:?}");
        }
    }
}
