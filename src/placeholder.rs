//! What a web page shows while a thumbnail loads: ThumbHash, BlurHash and the mean colour,
//! computed from pixels already in memory (the smallest thumbnail), never from another decode.

use image::{imageops, RgbaImage};

use crate::colour::{linear_to_srgb, srgb_to_linear};

/// ThumbHash is defined on images of at most 100x100; larger ones are shrunk to fit first.
const THUMBHASH_MAX_SIDE: u32 = 100;
/// BlurHash's components across and down: the common choice (its own demo's default).
pub const BLURHASH_COMPONENTS: (u32, u32) = (4, 3);

/// The placeholders of one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholders {
    /// ThumbHash's bytes in base64 without padding, as its author's demo page writes them.
    pub thumbhash: String,
    pub blurhash: Option<String>,
    /// `#rrggbb`: the mean of the pixels, weighted by their alpha.
    pub average: String,
}

pub fn placeholders(pixels: &RgbaImage, blurhash: bool) -> Placeholders {
    let small;
    let fitted = if pixels.width().max(pixels.height()) > THUMBHASH_MAX_SIDE {
        let scale = f64::from(THUMBHASH_MAX_SIDE) / f64::from(pixels.width().max(pixels.height()));
        let side = |n: u32| ((f64::from(n) * scale).round() as u32).clamp(1, THUMBHASH_MAX_SIDE);
        small = imageops::thumbnail(pixels, side(pixels.width()), side(pixels.height()));
        &small
    } else {
        pixels
    };
    Placeholders {
        thumbhash: thumbhash(fitted),
        blurhash: blurhash.then(|| blurhash_of(pixels)),
        average: average(pixels),
    }
}

/// ThumbHash of an image of at most 100x100, base64 without padding.
///
/// A port of its author's JavaScript encoder (npm `thumbhash`) in the same double precision and
/// the same order of operations, so the strings are equal; the Rust crate computes in `f32` and
/// differed in the last bits of images with alpha.
pub fn thumbhash(pixels: &RgbaImage) -> String {
    use std::f64::consts::PI;
    let (w, h) = (pixels.width() as usize, pixels.height() as usize);
    let rgba = pixels.as_raw();
    let (mut avg_r, mut avg_g, mut avg_b, mut avg_a) = (0.0, 0.0, 0.0, 0.0);
    for px in rgba.chunks_exact(4) {
        let alpha = f64::from(px[3]) / 255.0;
        avg_r += alpha / 255.0 * f64::from(px[0]);
        avg_g += alpha / 255.0 * f64::from(px[1]);
        avg_b += alpha / 255.0 * f64::from(px[2]);
        avg_a += alpha;
    }
    if avg_a != 0.0 {
        avg_r /= avg_a;
        avg_g /= avg_a;
        avg_b /= avg_a;
    }
    let has_alpha = avg_a < (w * h) as f64;
    let l_limit = if has_alpha { 5.0 } else { 7.0 };
    let longest = w.max(h) as f64;
    let lx = js_round(l_limit * w as f64 / longest).max(1.0) as usize;
    let ly = js_round(l_limit * h as f64 / longest).max(1.0) as usize;
    let (mut l, mut p, mut q, mut a) = (vec![], vec![], vec![], vec![]);
    for px in rgba.chunks_exact(4) {
        let alpha = f64::from(px[3]) / 255.0;
        let r = avg_r * (1.0 - alpha) + alpha / 255.0 * f64::from(px[0]);
        let g = avg_g * (1.0 - alpha) + alpha / 255.0 * f64::from(px[1]);
        let b = avg_b * (1.0 - alpha) + alpha / 255.0 * f64::from(px[2]);
        l.push((r + g + b) / 3.0);
        p.push((r + g) / 2.0 - b);
        q.push(r - g);
        a.push(alpha);
    }
    let encode_channel = |channel: &[f64], nx: usize, ny: usize| {
        let (mut dc, mut ac, mut scale) = (0.0, Vec::new(), 0.0f64);
        // The reference computes these cosines inside its loops, once per coefficient; the
        // same expressions computed once give the same values, at a fifth of the calls.
        let cosines = |n: usize, len: usize| -> Vec<Vec<f64>> {
            (0..n)
                .map(|c| {
                    (0..len)
                        .map(|i| libm::cos(PI / len as f64 * c as f64 * (i as f64 + 0.5)))
                        .collect()
                })
                .collect()
        };
        let (fxs, fys) = (cosines(nx, w), cosines(ny, h));
        for (cy, fys) in fys.iter().enumerate() {
            // The row's coefficients (cx * ny < nx * (ny - cy)) summed side by side: each sum
            // still adds the pixels in the reference's order, but the sums no longer wait on
            // each other, which was most of the time.
            let across = (0..nx).take_while(|cx| cx * ny < nx * (ny - cy)).count();
            let mut sums = vec![0.0f64; across];
            for (y, &fy) in fys.iter().enumerate() {
                let row = &channel[y * w..(y + 1) * w];
                for (x, &value) in row.iter().enumerate() {
                    for (sum, fx) in sums.iter_mut().zip(&fxs) {
                        *sum += value * fx[x] * fy;
                    }
                }
            }
            for (cx, f) in sums.into_iter().enumerate() {
                let f = f / (w * h) as f64;
                if cx > 0 || cy > 0 {
                    ac.push(f);
                    scale = scale.max(f.abs());
                } else {
                    dc = f;
                }
            }
        }
        if scale != 0.0 {
            for f in &mut ac {
                *f = 0.5 + 0.5 / scale * *f;
            }
        }
        (dc, ac, scale)
    };
    let (l_dc, l_ac, l_scale) = encode_channel(&l, lx.max(3), ly.max(3));
    let (p_dc, p_ac, p_scale) = encode_channel(&p, 3, 3);
    let (q_dc, q_ac, q_scale) = encode_channel(&q, 3, 3);
    let landscape = w > h;
    let header24 = js_round(63.0 * l_dc) as u32
        | (js_round(31.5 + 31.5 * p_dc) as u32) << 6
        | (js_round(31.5 + 31.5 * q_dc) as u32) << 12
        | (js_round(31.0 * l_scale) as u32) << 18
        | u32::from(has_alpha) << 23;
    let header16 = (if landscape { ly } else { lx }) as u32
        | (js_round(63.0 * p_scale) as u32) << 3
        | (js_round(63.0 * q_scale) as u32) << 9
        | u32::from(landscape) << 15;
    let mut hash = vec![
        header24 as u8,
        (header24 >> 8) as u8,
        (header24 >> 16) as u8,
        header16 as u8,
        (header16 >> 8) as u8,
    ];
    let mut factors = vec![l_ac, p_ac, q_ac];
    if has_alpha {
        let (a_dc, a_ac, a_scale) = encode_channel(&a, 5, 5);
        hash.push(js_round(15.0 * a_dc) as u8 | (js_round(15.0 * a_scale) as u8) << 4);
        factors.push(a_ac);
    }
    let start = hash.len();
    for (i, f) in factors.iter().flatten().enumerate() {
        if start + i / 2 == hash.len() {
            hash.push(0);
        }
        hash[start + i / 2] |= (js_round(15.0 * f) as u8) << ((i & 1) * 4);
    }
    base64(&hash)
}

/// JavaScript's `Math.round`: halves go up, towards positive infinity.
fn js_round(x: f64) -> f64 {
    (x + 0.5).floor()
}

/// BlurHash with 4x3 components: a port of Wolt's reference encoder (npm `blurhash`), in the
/// same double precision and order of sums, so the strings are equal.
pub fn blurhash_of(pixels: &RgbaImage) -> String {
    use std::f64::consts::PI;
    let (nx, ny) = BLURHASH_COMPONENTS;
    let (w, h) = (pixels.width() as usize, pixels.height() as usize);
    let rgba = pixels.as_raw();
    let mut factors: Vec<[f64; 3]> = Vec::new();
    for cy in 0..ny {
        for cx in 0..nx {
            let norm = if cx == 0 && cy == 0 { 1.0 } else { 2.0 };
            let mut sum = [0.0; 3];
            for x in 0..w {
                for y in 0..h {
                    let basis = norm
                        * libm::cos(PI * f64::from(cx) * x as f64 / w as f64)
                        * libm::cos(PI * f64::from(cy) * y as f64 / h as f64);
                    let at = 4 * x + y * w * 4;
                    for (c, s) in sum.iter_mut().enumerate() {
                        *s += basis * srgb_to_linear(rgba[at + c]);
                    }
                }
            }
            let scale = 1.0 / (w * h) as f64;
            factors.push(sum.map(|s| s * scale));
        }
    }
    let mut out = String::new();
    base83(&mut out, (nx - 1 + (ny - 1) * 9) as u64, 1);
    let (dc, ac) = factors.split_first().expect("at least one component");
    let max_value = if ac.is_empty() {
        base83(&mut out, 0, 1);
        1.0
    } else {
        let actual = ac
            .iter()
            .flatten()
            .fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let quantised = (actual * 166.0 - 0.5).floor().clamp(0.0, 82.0);
        base83(&mut out, quantised as u64, 1);
        (quantised + 1.0) / 166.0
    };
    let dc = dc.map(|c| u64::from(linear_to_srgb(c)));
    base83(&mut out, (dc[0] << 16) + (dc[1] << 8) + dc[2], 4);
    for factor in ac {
        let q = factor.map(|c| {
            let v = c / max_value;
            (v.signum() * libm::pow(v.abs(), 0.5) * 9.0 + 9.5)
                .floor()
                .clamp(0.0, 18.0) as u64
        });
        base83(&mut out, q[0] * 19 * 19 + q[1] * 19 + q[2], 2);
    }
    out
}

fn base83(out: &mut String, value: u64, digits: u32) {
    const ALPHABET: &[u8; 83] =
        b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";
    for i in 1..=digits {
        let digit = value / 83u64.pow(digits - i) % 83;
        out.push(ALPHABET[digit as usize] as char);
    }
}

fn average(pixels: &RgbaImage) -> String {
    let (mut sum, mut weight) = ([0u64; 3], 0u64);
    for p in pixels.pixels() {
        let a = u64::from(p[3]);
        for (s, &c) in sum.iter_mut().zip(&p.0[..3]) {
            *s += u64::from(c) * a;
        }
        weight += a;
    }
    let mean = |s: u64| (s + weight / 2).checked_div(weight).unwrap_or(0);
    format!(
        "#{:02x}{:02x}{:02x}",
        mean(sum[0]),
        mean(sum[1]),
        mean(sum[2])
    )
}

/// Standard base64 (RFC 4648, `+` and `/`), without the `=` padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_without_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg");
        assert_eq!(base64(b"fo"), "Zm8");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xfb, 0xff]), "+/8");
    }

    /// Goldens from the reference packages (npm `thumbhash` 0.1.1 by ThumbHash's author, npm
    /// `blurhash` 2.0.5 by Wolt), made by scripts/make-placeholder-goldens.mjs.
    #[test]
    fn thumbhash_and_blurhash_equal_the_reference_implementations() {
        let folder =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/placeholders");
        let goldens: serde_json::Value =
            serde_json::from_slice(&std::fs::read(folder.join("goldens.json")).unwrap()).unwrap();
        let goldens = goldens.as_object().unwrap();
        assert_eq!(goldens.len(), 3);
        for (name, want) in goldens {
            let size = name.rsplit('-').next().unwrap().trim_end_matches(".rgba");
            let (w, h) = size.split_once('x').unwrap();
            let raw = std::fs::read(folder.join(name)).unwrap();
            let image = RgbaImage::from_raw(w.parse().unwrap(), h.parse().unwrap(), raw).unwrap();
            let got = placeholders(&image, true);
            assert_eq!(got.thumbhash, want["thumbhash"], "{name}");
            assert_eq!(
                Some(want["blurhash"].as_str().unwrap()),
                got.blurhash.as_deref(),
                "{name}"
            );
        }
    }

    #[test]
    fn the_average_weighs_by_alpha() {
        let mut image = RgbaImage::new(2, 1);
        image.put_pixel(0, 0, image::Rgba([255, 0, 0, 255]));
        image.put_pixel(1, 0, image::Rgba([0, 0, 255, 0]));
        assert_eq!(average(&image), "#ff0000");
    }
}
