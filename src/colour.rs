//! Colour: embedded ICC profiles converted to sRGB, and CMYK to RGB.
//!
//! Thumbnails are for the web, where an image without a profile is taken as sRGB: a photo in
//! Display P3 or Adobe RGB whose profile is dropped (as we drop metadata) would come out dull.
//! So the pixels are converted to sRGB once, after the shrink-on-load decode and before the
//! resize, with moxcms (pure Rust, already in `image`'s tree; measured 4 to 6 times faster than
//! lcms2 and as close to it as one level in 255, see README "Colour"). The rendering intent is
//! relative colorimetric, vipsthumbnail's default. An unreadable profile is ignored, as browsers
//! do, rather than failing the image.

use image::{DynamicImage, RgbImage};
use moxcms::{ColorProfile, DataColorSpace, Layout, RenderingIntent, TransformOptions};

/// Relative colorimetric first (vipsthumbnail's default); a profile that lacks it (a LUT
/// profile with only a perceptual A2B0 table, as JPEG XL's XYB JPEGs and many printer and
/// camera profiles have) is converted with the intent it does carry, the ICC spec's rule and
/// what lcms2 and Pillow do. moxcms refuses a missing intent instead, and the pixels were
/// left unconverted: a red-blue or green-purple picture, and no word said.
const INTENTS: [RenderingIntent; 3] = [
    RenderingIntent::RelativeColorimetric,
    RenderingIntent::Perceptual,
    RenderingIntent::Saturation,
];

/// The first transform from `from` to `to` an intent of [`INTENTS`] allows.
fn transform_8bit(
    from: &ColorProfile,
    from_layout: Layout,
    to: &ColorProfile,
    to_layout: Layout,
) -> Option<std::sync::Arc<moxcms::Transform8BitExecutor>> {
    INTENTS.iter().find_map(|&rendering_intent| {
        let options = TransformOptions {
            rendering_intent,
            ..TransformOptions::default()
        };
        from.create_transform_8bit(from_layout, to, to_layout, options)
            .ok()
    })
}

/// `image` (8-bit, as the decoder left it) converted from the colour space `icc` describes to
/// sRGB. Grey images and profiles that do not describe RGB are left as they are. The profile
/// comes from an untrusted file: should moxcms panic on it, the pixels stay as they were.
pub fn to_srgb(image: DynamicImage, icc: &[u8]) -> DynamicImage {
    match crate::catch::quietly(|| convert(&image, icc)) {
        Ok(Some(converted)) => converted,
        _ => image,
    }
}

/// The converted image, or `None` where there is nothing (or nothing safe) to do.
fn convert(image: &DynamicImage, icc: &[u8]) -> Option<DynamicImage> {
    let profile = ColorProfile::new_from_slice(icc).ok()?;
    if profile.color_space != DataColorSpace::Rgb {
        return None;
    }
    let srgb = ColorProfile::new_srgb();
    let transform = |layout| transform_8bit(&profile, layout, &srgb, layout);
    match image {
        DynamicImage::ImageRgb8(rgb) => {
            let mut out = RgbImage::new(rgb.width(), rgb.height());
            transform(Layout::Rgb)?.transform(rgb, &mut out).ok()?;
            Some(DynamicImage::ImageRgb8(out))
        }
        DynamicImage::ImageRgba8(rgba) => {
            let mut out = image::RgbaImage::new(rgba.width(), rgba.height());
            transform(Layout::Rgba)?.transform(rgba, &mut out).ok()?;
            Some(DynamicImage::ImageRgba8(out))
        }
        _ => None,
    }
}

/// RGB from CMYK samples (0 = no ink) through the file's CMYK profile or, without a usable one,
/// the naive formula Pillow and `image` use, `(255 - C)(255 - K) / 255`.
pub fn cmyk_to_rgb(cmyk: &[u8], width: u32, height: u32, icc: Option<&[u8]>) -> RgbImage {
    let mut rgb = RgbImage::new(width, height);
    let profiled = crate::catch::quietly(|| through_profile(cmyk, icc, &mut rgb)).unwrap_or(false);
    if !profiled {
        for (out, ink) in rgb.pixels_mut().zip(cmyk.chunks_exact(4)) {
            let white = 255 - u32::from(ink[3]);
            for c in 0..3 {
                out[c] = (((255 - u32::from(ink[c])) * white + 127) / 255) as u8;
            }
        }
    }
    rgb
}

/// Whether the CMYK profile converted `cmyk` into `rgb`.
fn through_profile(cmyk: &[u8], icc: Option<&[u8]>, rgb: &mut RgbImage) -> bool {
    icc.and_then(|icc| ColorProfile::new_from_slice(icc).ok())
        .filter(|p| p.color_space == DataColorSpace::Cmyk)
        .and_then(|p| transform_8bit(&p, Layout::Rgba, &ColorProfile::new_srgb(), Layout::Rgb))
        .is_some_and(|t| t.transform(cmyk, rgb).is_ok())
}

#[cfg(test)]
mod tests {
    use super::{cmyk_to_rgb, to_srgb};
    use image::{DynamicImage, Rgb, RgbImage};
    use moxcms::ColorProfile;

    #[test]
    fn display_p3_pixels_become_their_srgb_values() {
        // P3's pure green lies outside sRGB and clips; a P3 mid-tone maps to a known sRGB one
        // (Pillow's ImageCms with lcms2 gives (220, 92, 46) for P3 (205, 100, 60)).
        let p3 = ColorProfile::new_display_p3().encode().unwrap();
        let image = DynamicImage::ImageRgb8(RgbImage::from_pixel(4, 4, Rgb([205, 100, 60])));
        let out = to_srgb(image, &p3).to_rgb8();
        let px = out.get_pixel(1, 1).0;
        for (got, want) in px.iter().zip([220u8, 92, 46]) {
            assert!(got.abs_diff(want) <= 1, "{px:?}");
        }
    }

    #[test]
    fn srgb_and_broken_profiles_leave_pixels_alone() {
        let image = || DynamicImage::ImageRgb8(RgbImage::from_pixel(2, 2, Rgb([205, 100, 60])));
        let srgb = ColorProfile::new_srgb().encode().unwrap();
        let same = to_srgb(image(), &srgb).to_rgb8();
        assert!(same
            .get_pixel(0, 0)
            .0
            .iter()
            .zip([205u8, 100, 60])
            .all(|(a, b)| a.abs_diff(b) <= 1));
        assert_eq!(
            to_srgb(image(), b"not a profile")
                .to_rgb8()
                .get_pixel(0, 0)
                .0,
            [205, 100, 60]
        );
    }

    #[test]
    fn cmyk_without_profile_is_the_naive_conversion() {
        let ink = [0u8, 255, 255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 128, 0, 0, 0];
        let rgb = cmyk_to_rgb(&ink, 4, 1, None);
        let px: Vec<[u8; 3]> = rgb.pixels().map(|p| p.0).collect();
        assert_eq!(
            px,
            [[255, 0, 0], [0, 0, 0], [255, 255, 255], [127, 255, 255]]
        );
    }
}
