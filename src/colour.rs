//! Colour: embedded ICC profiles converted to sRGB, CMYK to RGB, and CIE L*a*b* to sRGB.
//!
//! Thumbnails are for the web, where an image without a profile is taken as sRGB: a photo in
//! Display P3 or Adobe RGB whose profile is dropped (as we drop metadata) would come out dull.
//! So the pixels are converted to sRGB once, after the shrink-on-load decode and before the
//! resize, with moxcms (pure Rust, already in `image`'s tree; measured 4 to 6 times faster than
//! lcms2 and as close to it as one level in 255, see README "Colour"). The rendering intent is
//! relative colorimetric, vipsthumbnail's default, for RGB; CMYK is converted as current libvips
//! does it, perceptual with black point compensation. A profile that cannot be used (unreadable, or
//! no transform from it) fails nothing: the pixels are shown as they are, as browsers do, and the
//! caller is told why, for a warning in the log and the report.

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
/// sRGB, and why not when it could not be. Grey images are left as they are. The profile comes
/// from an untrusted file: should moxcms panic on it, the pixels stay as they were.
pub fn to_srgb(image: DynamicImage, icc: &[u8]) -> (DynamicImage, Option<String>) {
    let grey = matches!(
        image,
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageLumaA8(_)
    );
    if grey {
        return (image, None);
    }
    match crate::catch::quietly(|| convert(&image, icc)) {
        Ok(Ok(converted)) => (converted, None),
        Ok(Err(why)) => (image, Some(format!("colours left unconverted: {why}"))),
        Err(panic) => (
            image,
            Some(format!(
                "colours left unconverted: the profile broke the converter ({panic})"
            )),
        ),
    }
}

/// The RGB(A) `image` converted to sRGB, or why it could not be.
fn convert(image: &DynamicImage, icc: &[u8]) -> Result<DynamicImage, String> {
    let profile = ColorProfile::new_from_slice(icc)
        .map_err(|e| format!("the embedded ICC profile is unreadable ({e})"))?;
    if profile.color_space != DataColorSpace::Rgb {
        return Err(format!(
            "the embedded ICC profile is for {:?}, the pixels are RGB",
            profile.color_space
        ));
    }
    let srgb = ColorProfile::new_srgb();
    let no_transform = || "no rendering intent of the ICC profile converts to sRGB".to_string();
    let transform =
        |layout| transform_8bit(&profile, layout, &srgb, layout).ok_or_else(no_transform);
    let failed = |e: moxcms::CmsError| format!("the ICC conversion failed ({e})");
    match image {
        DynamicImage::ImageRgb8(rgb) => {
            let mut out = RgbImage::new(rgb.width(), rgb.height());
            transform(Layout::Rgb)?
                .transform(rgb, &mut out)
                .map_err(failed)?;
            Ok(DynamicImage::ImageRgb8(out))
        }
        DynamicImage::ImageRgba8(rgba) => {
            let mut out = image::RgbaImage::new(rgba.width(), rgba.height());
            transform(Layout::Rgba)?
                .transform(rgba, &mut out)
                .map_err(failed)?;
            Ok(DynamicImage::ImageRgba8(out))
        }
        other => Err(format!("pixels of type {:?}", other.color())),
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

/// Whether the CMYK profile converted `cmyk` into `rgb`: with its perceptual table and black
/// point compensation, as libvips converts CMYK (README, "CMYK intent, against libvips").
fn through_profile(cmyk: &[u8], icc: Option<&[u8]>, rgb: &mut RgbImage) -> bool {
    let Some(profile) = icc
        .and_then(|icc| ColorProfile::new_from_slice(icc).ok())
        .filter(|p| p.color_space == DataColorSpace::Cmyk)
    else {
        return false;
    };
    let srgb = ColorProfile::new_srgb();
    let options = |rendering_intent| TransformOptions {
        rendering_intent,
        ..TransformOptions::default()
    };
    let Some(transform) = [
        RenderingIntent::Perceptual,
        RenderingIntent::RelativeColorimetric,
    ]
    .into_iter()
    .find_map(|intent| {
        profile
            .create_transform_8bit(Layout::Rgba, &srgb, Layout::Rgb, options(intent))
            .ok()
    }) else {
        return false;
    };
    if transform.transform(cmyk, rgb).is_err() {
        return false;
    }
    // The profile's black: every ink at full, lcms2's "darker colorant".
    let mut black = [0u8; 3];
    if transform.transform(&[255; 4], &mut black).is_ok() {
        compensate_black(rgb, black);
    }
    true
}

/// lcms2's black point compensation into sRGB (whose black is 0): the source's black point, a
/// neutral as light as `black` (at most L* 50), is scaled to sRGB's black and white stays white.
/// In XYZ that is `(XYZ - k D50) / (1 - k)` with `k` the black's luminance, which in linear sRGB
/// is the same per channel: one table for all three. Without it a print profile's black (ink on
/// paper, about L* 12) would stay a dark grey, as lcms2 and libvips do not leave it.
fn compensate_black(rgb: &mut RgbImage, black: [u8; 3]) {
    // lcms2 takes the black's lightness (as a neutral's); luminance in the D50-adapted sRGB
    // matrix, the PCS being D50. L* 50, the most lcms2 compensates, is a luminance of 0.1842.
    let [r, g, b] = black.map(srgb_to_linear);
    let k = (0.2225 * r + 0.7169 * g + 0.0606 * b).min(0.1842);
    if k <= 0.0 {
        return;
    }
    let table: Vec<u8> = (0..=255u8)
        .map(|v| linear_to_srgb((srgb_to_linear(v) - k) / (1.0 - k)))
        .collect();
    for sample in rgb.iter_mut() {
        *sample = table[usize::from(*sample)];
    }
}

/// sRGB's curve, 8-bit to linear light (0..1). `libm`'s `pow`, the same on every platform:
/// the placeholders' hashes must equal the reference implementations' to the bit.
pub fn srgb_to_linear(value: u8) -> f64 {
    let v = f64::from(value) / 255.0;
    if v <= 0.04045 {
        v / 12.92
    } else {
        libm::pow((v + 0.055) / 1.055, 2.4)
    }
}

/// sRGB's curve, linear light (clamped to 0..1) to 8 bits, rounded.
pub fn linear_to_srgb(value: f64) -> u8 {
    let v = value.clamp(0.0, 1.0);
    if v <= 0.003_130_8 {
        (v * 12.92 * 255.0 + 0.5).trunc() as u8
    } else {
        ((1.055 * libm::pow(v, 0.416_666_666_666_666_7) - 0.055) * 255.0 + 0.5).trunc() as u8
    }
}

/// CIE L*a*b* relative to a white point, to sRGB: the white adapted to sRGB's D65 by the
/// Bradford transform, as ICC profiles and lcms2 adapt whites.
pub struct LabToSrgb {
    /// XYZ of the Lab white, then the matrix from XYZ (relative to it) to linear sRGB.
    white: [f64; 3],
    to_rgb: [[f64; 3]; 3],
}

impl LabToSrgb {
    /// For Lab relative to the white of chromaticity `xy` (x, y).
    pub fn new(xy: [f64; 2]) -> Self {
        let [x, y] = xy;
        let white = [x / y, 1.0, (1.0 - x - y) / y];
        let d65 = moxcms::Chromaticity::D65.to_xyz();
        let bradford =
            moxcms::adaption_matrix_d(moxcms::Xyz::new(white[0] as f32, 1.0, white[2] as f32), d65);
        // IEC 61966-2-1's XYZ (D65) to linear sRGB.
        const XYZ_TO_SRGB: [[f64; 3]; 3] = [
            [3.240_454_2, -1.537_138_5, -0.498_531_4],
            [-0.969_266_0, 1.876_010_8, 0.041_556_0],
            [0.055_643_4, -0.204_025_9, 1.057_225_2],
        ];
        let to_rgb = XYZ_TO_SRGB
            .map(|row| std::array::from_fn(|j| (0..3).map(|k| row[k] * bradford.v[k][j]).sum()));
        Self { white, to_rgb }
    }

    /// One colour: L* 0..100, a* and b* about -128..127.
    pub fn convert(&self, l: f64, a: f64, b: f64) -> [u8; 3] {
        // CIE 15's inverse of f: t^3 above 6/29, the linear segment below.
        let finv = |t: f64| {
            if t > 6.0 / 29.0 {
                t * t * t
            } else {
                3.0 * (6.0f64 / 29.0).powi(2) * (t - 4.0 / 29.0)
            }
        };
        let fy = (l + 16.0) / 116.0;
        let f = [fy + a / 500.0, fy, fy - b / 200.0].map(finv);
        let xyz: [f64; 3] = std::array::from_fn(|i| f[i] * self.white[i]);
        self.to_rgb
            .map(|row| linear_to_srgb(row.iter().zip(xyz).map(|(m, v)| m * v).sum()))
    }
}

#[cfg(test)]
mod tests {
    use super::{cmyk_to_rgb, compensate_black, to_srgb};
    use image::{DynamicImage, Rgb, RgbImage};
    use moxcms::ColorProfile;

    #[test]
    fn display_p3_pixels_become_their_srgb_values() {
        // P3's pure green lies outside sRGB and clips; a P3 mid-tone maps to a known sRGB one
        // (Pillow's ImageCms with lcms2 gives (220, 92, 46) for P3 (205, 100, 60)).
        let p3 = ColorProfile::new_display_p3().encode().unwrap();
        let image = DynamicImage::ImageRgb8(RgbImage::from_pixel(4, 4, Rgb([205, 100, 60])));
        let (out, warning) = to_srgb(image, &p3);
        assert_eq!(warning, None);
        let px = out.to_rgb8().get_pixel(1, 1).0;
        for (got, want) in px.iter().zip([220u8, 92, 46]) {
            assert!(got.abs_diff(want) <= 1, "{px:?}");
        }
    }

    #[test]
    fn srgb_leaves_pixels_alone_and_an_unusable_profile_says_why() {
        let image = || DynamicImage::ImageRgb8(RgbImage::from_pixel(2, 2, Rgb([205, 100, 60])));
        let srgb = ColorProfile::new_srgb().encode().unwrap();
        let (same, warning) = to_srgb(image(), &srgb);
        assert_eq!(warning, None);
        assert!(same
            .to_rgb8()
            .get_pixel(0, 0)
            .0
            .iter()
            .zip([205u8, 100, 60])
            .all(|(a, b)| a.abs_diff(b) <= 1));
        let (kept, warning) = to_srgb(image(), b"not a profile");
        assert_eq!(kept.to_rgb8().get_pixel(0, 0).0, [205, 100, 60]);
        let warning = warning.unwrap();
        assert!(
            warning.starts_with("colours left unconverted: the embedded ICC profile is unreadable"),
            "{warning}"
        );
        // A grey profile on RGB pixels is said too; a grey image's profile is left quietly.
        let grey_profile = ColorProfile::new_gray_with_gamma(2.2).encode().unwrap();
        let (_, warning) = to_srgb(image(), &grey_profile);
        let warning = warning.unwrap();
        assert!(
            warning.contains("for Gray, the pixels are RGB"),
            "{warning}"
        );
        let grey = DynamicImage::ImageLuma8(image::GrayImage::new(2, 2));
        assert_eq!(to_srgb(grey, b"not a profile").1, None);
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

    #[test]
    fn black_point_compensation_gives_lcms2s_perceptual_values() {
        // ghostscript's SWOP profile (default_cmyk.icc) into lcms2's sRGB, Pillow's ImageCms:
        // relative intent gives the left colours, perceptual (which compensates the black
        // point) the right ones; all inks at full, the profile's black, is (32, 31, 31).
        // Left alone, the darks would stay up to 12 levels lighter.
        let pairs = [
            ([55, 53, 53], [43, 41, 42]),
            ([150, 152, 155], [148, 150, 153]),
            ([146, 133, 129], [144, 130, 126]),
            ([99, 100, 102], [94, 95, 98]),
            ([32, 31, 31], [0, 0, 0]),
            ([255, 255, 255], [255, 255, 255]),
        ];
        let mut image = RgbImage::new(pairs.len() as u32, 1);
        for (x, (relative, _)) in pairs.iter().enumerate() {
            image.put_pixel(x as u32, 0, Rgb(*relative));
        }
        compensate_black(&mut image, [32, 31, 31]);
        for (x, (_, perceptual)) in pairs.iter().enumerate() {
            let got = image.get_pixel(x as u32, 0).0;
            let off = got
                .iter()
                .zip(perceptual)
                .map(|(g, w)| g.abs_diff(*w))
                .max();
            // lcms2 works on 16-bit values, these are 8-bit ones: two levels in the darks.
            assert!(off <= Some(2), "{got:?} against lcms2's {perceptual:?}");
        }
    }
}
