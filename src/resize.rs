//! One decoded image in, one resized image per requested width out.
//!
//! Resizing is fast_image_resize's Lanczos3 convolution; the SIMD variant (AVX2, SSE4.1, NEON) is
//! picked at run time by the crate. A [`Thumbnailer`] owns a `Resizer` and its buffers so each
//! worker thread reuses one. Alpha is premultiplied during the resize (fast_image_resize's
//! default), so transparent edges do not darken.

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;

/// The size of a thumbnail `width` pixels wide: the height keeps the aspect ratio, rounded down
/// as the original service computed it, and never reaches zero (a 10000x1 strip still gets a
/// 1-pixel-high thumbnail).
pub fn thumbnail_size(src_width: u32, src_height: u32, width: u32) -> (u32, u32) {
    let height = u64::from(src_height) * u64::from(width) / u64::from(src_width.max(1));
    (width, height.clamp(1, u64::from(u32::MAX)) as u32)
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
    /// Resizes `src` (8-bit L, LA, RGB or RGBA) to `width`, keeping its pixel type.
    pub fn resize(&mut self, src: &DynamicImage, width: u32) -> Result<DynamicImage, ResizeError> {
        let (width, height) = thumbnail_size(src.width(), src.height(), width);
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
        assert_eq!(thumbnail_size(1600, 1200, 200), (200, 150));
        assert_eq!(thumbnail_size(1600, 1065, 200), (200, 133));
        assert_eq!(thumbnail_size(1000, 677, 32), (32, 21));
        assert_eq!(thumbnail_size(10_000, 1, 32), (32, 1));
        assert_eq!(thumbnail_size(1, 10_000, 32), (32, 320_000));
        assert_eq!(thumbnail_size(1, 1, 200), (200, 200));
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
            .resize(&DynamicImage::ImageRgba8(img), 16)
            .unwrap()
            .to_rgba8();
        for p in out.pixels().filter(|p| p[3] > 16) {
            assert!(p[0] > 240, "dark fringe: {p:?}");
        }
    }
}
