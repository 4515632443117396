//! One decoded image in, one resized image per requested size out.
//!
//! Resizing is fast_image_resize's Lanczos3 convolution; the SIMD variant (AVX2, SSE4.1, NEON) is
//! picked at run time by the crate. A [`Thumbnailer`] owns a `Resizer` and its buffers so each
//! worker thread reuses one. Alpha is premultiplied during the resize (fast_image_resize's
//! default), so transparent edges do not darken. Sizes follow vipsthumbnail's syntax (`200`,
//! `x150`, `200x150`); a box is fitted inside, or filled and cropped with [`Crop`].

use std::sync::OnceLock;

use fast_image_resize::{
    create_srgb_mapper, Filter, FilterType, PixelComponentMapper, ResizeAlg, ResizeOptions, Resizer,
};
use image::DynamicImage;

mod cascade;
mod size;

pub use cascade::{order, sources};
pub use size::{geometry, thumbnail_size, Crop, Geometry, Size, MAX_SIDE};

#[derive(Debug, thiserror::Error)]
#[error("resize to {width}x{height} failed")]
pub struct ResizeError {
    pub width: u32,
    pub height: u32,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

pub struct Thumbnailer {
    resizer: Resizer,
    options: ResizeOptions,
    /// Set for `--linear`: sRGB to linear light and back around the resize.
    linear: Option<PixelComponentMapper>,
}

impl Default for Thumbnailer {
    fn default() -> Self {
        Thumbnailer::new(false)
    }
}

impl Thumbnailer {
    /// With `linear`, resizing happens in linear light: fine bright and dark detail keeps its
    /// true weight (thin lines do not darken), at a measured cost (README, Performance).
    pub fn new(linear: bool) -> Self {
        Thumbnailer {
            resizer: Resizer::new(),
            options: ResizeOptions::new().resize_alg(ResizeAlg::Convolution(lanczos3())),
            linear: linear.then(create_srgb_mapper),
        }
    }

    /// Resizes `src` (8-bit L, LA, RGB or RGBA) as `geometry` says, keeping its pixel type,
    /// and cuts the kept window out where `crop` chooses. The geometry comes from the
    /// original's dimensions ([`geometry`]), not from `src`'s: a JPEG decoded at 2/8 scale
    /// rounds its own size, and the thumbnail's shape must not depend on that.
    pub fn resize(
        &mut self,
        src: &DynamicImage,
        geometry: Geometry,
        crop: Option<Crop>,
    ) -> Result<DynamicImage, ResizeError> {
        let resized = self.resize_whole(src, geometry.resized)?;
        Ok(cut(resized, geometry, crop))
    }

    /// [`Thumbnailer::resize`] for `size`, with the geometry taken from `src` itself.
    pub fn resize_to_size(
        &mut self,
        src: &DynamicImage,
        size: Size,
        crop: Option<Crop>,
        enlarge: bool,
    ) -> Result<DynamicImage, ResizeError> {
        let g = geometry(src.width(), src.height(), size, crop.is_some(), enlarge);
        self.resize(src, g, crop)
    }

    /// Resizes all of `src` to `width` x `height`, keeping its pixel type; no crop.
    pub fn resize_whole(
        &mut self,
        src: &DynamicImage,
        (width, height): (u32, u32),
    ) -> Result<DynamicImage, ResizeError> {
        let err = |source: Box<dyn std::error::Error + Send + Sync>| ResizeError {
            width,
            height,
            source,
        };
        let Some(mapper) = &self.linear else {
            let mut dst = DynamicImage::new(width, height, src.color());
            self.resizer
                .resize(src, &mut dst, &self.options)
                .map_err(|e| err(e.into()))?;
            return Ok(dst);
        };
        // 16 bits per channel in linear light: 8 would band the shadows.
        let wide = |w, h| match src {
            DynamicImage::ImageLuma8(_) => DynamicImage::new_luma16(w, h),
            DynamicImage::ImageLumaA8(_) => DynamicImage::new_luma_a16(w, h),
            DynamicImage::ImageRgba8(_) => DynamicImage::new_rgba16(w, h),
            _ => DynamicImage::new_rgb16(w, h),
        };
        let src = match src {
            DynamicImage::ImageLuma8(_)
            | DynamicImage::ImageLumaA8(_)
            | DynamicImage::ImageRgb8(_)
            | DynamicImage::ImageRgba8(_) => std::borrow::Cow::Borrowed(src),
            other => std::borrow::Cow::Owned(DynamicImage::ImageRgba8(other.to_rgba8())),
        };
        let mapping = |e: fast_image_resize::MappingError| err(e.into());
        let mut light = wide(src.width(), src.height());
        mapper
            .forward_map(src.as_ref(), &mut light)
            .map_err(mapping)?;
        let mut resized = wide(width, height);
        self.resizer
            .resize(&light, &mut resized, &self.options)
            .map_err(|e| err(e.into()))?;
        let mut dst = DynamicImage::new(width, height, src.color());
        mapper.backward_map(&resized, &mut dst).map_err(mapping)?;
        Ok(dst)
    }
}

/// The part of a whole resize that `geometry` keeps, chosen by `crop`: the image itself when
/// nothing is cut.
pub fn cut(resized: DynamicImage, geometry: Geometry, crop: Option<Crop>) -> DynamicImage {
    let g = geometry;
    if g.kept == g.resized {
        return resized;
    }
    let (x, y) = match crop {
        Some(Crop::Entropy) => entropy_window(&resized, g.kept),
        _ => ((g.resized.0 - g.kept.0) / 2, (g.resized.1 - g.kept.1) / 2),
    };
    resized.crop_imm(x, y, g.kept.0, g.kept.1)
}

/// Samples of the Lanczos3 kernel per unit of distance.
const LANCZOS_STEPS: usize = 2048;

/// Lanczos3, read from a table instead of computed. fast_image_resize evaluates the kernel for
/// every tap of every output row and column of every thumbnail: two `sin` calls each, 8% of
/// the whole run on small images (perf, `scripts/make-small-set.py`). Linear interpolation
/// between 2,048 samples a unit is within 1.1e-7 of the exact kernel (the error of a linear
/// fit, h²/8 times the kernel's largest second derivative, 3.66), far below the 1/16384 steps
/// the weights are then rounded to, so thumbnails come out as with the exact kernel.
fn lanczos3() -> FilterType {
    let filter = Filter::new("Lanczos3", lanczos3_from_table, 3.0).expect("support 3 is valid");
    FilterType::Custom(filter)
}

fn lanczos3_exact(x: f64) -> f64 {
    let sinc = |x: f64| {
        if x == 0.0 {
            1.0
        } else {
            let x = x * std::f64::consts::PI;
            x.sin() / x
        }
    };
    if (-3.0..3.0).contains(&x) {
        sinc(x) * sinc(x / 3.0)
    } else {
        0.0
    }
}

fn lanczos3_from_table(x: f64) -> f64 {
    static TABLE: OnceLock<Vec<f64>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..=3 * LANCZOS_STEPS + 1)
            .map(|i| lanczos3_exact(i as f64 / LANCZOS_STEPS as f64))
            .collect()
    });
    let at = x.abs() * LANCZOS_STEPS as f64;
    if at >= (3 * LANCZOS_STEPS) as f64 {
        return 0.0;
    }
    let i = at as usize;
    let fraction = at - i as f64;
    table[i] + (table[i + 1] - table[i]) * fraction
}

/// The top-left corner of the `kept`-sized window of `image` whose luma has the most entropy.
/// Only one axis has room to move (the image was resized to cover the box), so the window
/// slides along it, a row or column at a time, with its histogram updated incrementally.
fn entropy_window(image: &DynamicImage, kept: (u32, u32)) -> (u32, u32) {
    let luma = image.to_luma8();
    let (w, h) = luma.dimensions();
    let horizontal = w > kept.0;
    let (room, span) = if horizontal {
        (w - kept.0, kept.0)
    } else {
        (h - kept.1, kept.1)
    };
    // Adds (or takes away) line `i`: a column when sliding sideways, a row otherwise.
    let update = |histogram: &mut [u32; 256], i: u32, add: bool| {
        let mut count = |v: u8| {
            let bin = &mut histogram[usize::from(v)];
            *bin = if add { *bin + 1 } else { *bin - 1 };
        };
        if horizontal {
            (0..h).for_each(|y| count(luma.get_pixel(i, y)[0]));
        } else {
            (0..w).for_each(|x| count(luma.get_pixel(x, i)[0]));
        }
    };
    let mut histogram = [0u32; 256];
    for i in 0..span {
        update(&mut histogram, i, true);
    }
    let (mut best, mut best_at) = (entropy(&histogram), 0);
    for start in 1..=room {
        update(&mut histogram, start - 1, false);
        update(&mut histogram, start + span - 1, true);
        let e = entropy(&histogram);
        if e > best + 1e-9 {
            (best, best_at) = (e, start);
        }
    }
    if horizontal {
        (best_at, 0)
    } else {
        (0, best_at)
    }
}

fn entropy(histogram: &[u32; 256]) -> f64 {
    let total: u32 = histogram.iter().sum();
    let total = f64::from(total.max(1));
    histogram
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            let p = f64::from(n) / total;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod lanczos_tests {
    use super::{lanczos3_exact, lanczos3_from_table};

    #[test]
    fn the_table_is_within_2e7_of_the_exact_kernel() {
        let worst = (-40_000..=40_000)
            .map(|i| f64::from(i) * 3.1 / 40_000.0)
            .map(|x| (lanczos3_from_table(x) - lanczos3_exact(x)).abs())
            .fold(0.0, f64::max);
        assert!(worst < 2e-7, "worst error {worst}");
        assert_eq!(lanczos3_from_table(0.0), 1.0);
        assert_eq!(lanczos3_from_table(3.0), 0.0);
        assert_eq!(lanczos3_from_table(-3.5), 0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::{Crop, Size, Thumbnailer};
    use image::{DynamicImage, Rgba, RgbaImage};

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
            .resize_to_size(&DynamicImage::ImageRgba8(img), Size::width(16), None, true)
            .unwrap()
            .to_rgba8();
        for p in out.pixels().filter(|p| p[3] > 16) {
            assert!(p[0] > 240, "dark fringe: {p:?}");
        }
    }

    fn two_halves() -> DynamicImage {
        // Left: flat grey. Right: noise, all the detail.
        let img = image::RgbImage::from_fn(400, 100, |x, y| {
            if x < 200 {
                image::Rgb([128, 128, 128])
            } else {
                let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)).to_le_bytes()[1];
                image::Rgb([v, v, v])
            }
        });
        DynamicImage::ImageRgb8(img)
    }

    #[test]
    fn crop_fills_the_box_from_the_centre_or_the_detail() {
        let src = two_halves();
        let size = "100x100".parse().unwrap();
        let mut t = Thumbnailer::default();
        let centre = t
            .resize_to_size(&src, size, Some(Crop::Centre), true)
            .unwrap()
            .to_rgb8();
        assert_eq!(centre.dimensions(), (100, 100));
        // The centre straddles both halves: grey on the left edge, checks on the right.
        assert_eq!(centre.get_pixel(0, 50).0, [128, 128, 128]);
        let entropy = t
            .resize_to_size(&src, size, Some(Crop::Entropy), true)
            .unwrap()
            .to_rgb8();
        assert_eq!(entropy.dimensions(), (100, 100));
        // Entropy keeps the noise: no flat grey column survives.
        let grey = (0..100)
            .filter(|&x| entropy.get_pixel(x, 50).0 == [128, 128, 128])
            .count();
        assert_eq!(grey, 0, "the entropy crop kept the flat half");
    }

    #[test]
    fn linear_light_keeps_the_brightness_of_fine_detail() {
        // One-pixel black and white lines: their average brightness is 50% light, which is
        // 188 in sRGB; averaging the stored values gives 128, visibly too dark.
        let img = image::GrayImage::from_fn(64, 64, |x, _| {
            image::Luma([if x % 2 == 0 { 0 } else { 255 }])
        });
        let src = DynamicImage::ImageLuma8(img);
        let size = Size::width(8);
        let plain = Thumbnailer::default()
            .resize_to_size(&src, size, None, true)
            .unwrap()
            .to_luma8();
        let linear = Thumbnailer::new(true)
            .resize_to_size(&src, size, None, true)
            .unwrap()
            .to_luma8();
        let mid = |i: &image::GrayImage| i.get_pixel(4, 4)[0];
        assert!(
            (i32::from(mid(&plain)) - 128).abs() <= 2,
            "plain {}",
            mid(&plain)
        );
        assert!(
            (i32::from(mid(&linear)) - 188).abs() <= 2,
            "linear {}",
            mid(&linear)
        );
    }
}
