//! Requested sizes and what they make of an image's dimensions: vipsthumbnail's syntax (`200`,
//! `x150`, `200x150`), fit or fill, enlargement, and the guard on absurd shapes.

use std::fmt;
use std::str::FromStr;

/// No side of a thumbnail exceeds this, whatever the input's shape.
pub const MAX_SIDE: u32 = 16_384;

/// A requested size: a width, a height, or a box (both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Size {
    pub width: Option<u32>,
    pub height: Option<u32>,
}

impl Size {
    pub const fn width(width: u32) -> Self {
        Size {
            width: Some(width),
            height: None,
        }
    }
}

/// As the user writes it, and as `{size}` names files: `200`, `x150`, `200x150`.
impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(w) = self.width {
            write!(f, "{w}")?;
        }
        if let Some(h) = self.height {
            write!(f, "x{h}")?;
        }
        Ok(())
    }
}

impl FromStr for Size {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("'{text}' is not a size (examples: 200, x150, 200x150)");
        let side = |part: &str| -> Result<Option<u32>, String> {
            if part.is_empty() {
                return Ok(None);
            }
            let n: u32 = part.parse().map_err(|_| bad())?;
            if n == 0 || n > MAX_SIDE {
                return Err(format!(
                    "size {text}: {n} is out of range (1 to {MAX_SIDE})"
                ));
            }
            Ok(Some(n))
        };
        let text = text.trim();
        let (w, h) = match text.split_once(['x', 'X']) {
            Some((w, h)) => (side(w)?, side(h)?),
            None => (side(text)?, None),
        };
        if w.is_none() && h.is_none() {
            return Err(bad());
        }
        Ok(Size {
            width: w,
            height: h,
        })
    }
}

/// How a box is filled when `--crop` asks for it, instead of fitting the image inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crop {
    /// Keep the middle.
    Centre,
    /// Keep the window with the most detail (Shannon entropy of its luma), as libvips's
    /// `entropy`: it finds the subject of most photos without a saliency model.
    Entropy,
}

/// How to turn a decoded image into one thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// The size the whole image is resized to.
    pub resized: (u32, u32),
    /// The part of it that is kept: smaller than `resized` only when cropping.
    pub kept: (u32, u32),
}

/// The geometry for `size`: a width or a height keeps the aspect ratio; a box is fitted inside,
/// or, with `crop`, filled and its overflow cut off. See [`thumbnail_size`] for rounding,
/// enlargement and the [`MAX_SIDE`] guard.
pub fn geometry(
    src_width: u32,
    src_height: u32,
    size: Size,
    crop: bool,
    enlarge: bool,
) -> Geometry {
    let by_width = |w| thumbnail_size(src_width, src_height, w, enlarge);
    let by_height = |h| {
        let (h, w) = thumbnail_size(src_height, src_width, h, enlarge);
        (w, h)
    };
    let resized = match (size.width, size.height) {
        (Some(w), None) => by_width(w),
        (None, Some(h)) => by_height(h),
        (Some(w), Some(h)) => {
            // Wider than the box, in exact integers: a fit is bounded by the box's width, a
            // crop by its height.
            let wider = u64::from(src_width) * u64::from(h) >= u64::from(src_height) * u64::from(w);
            if wider != crop {
                by_width(w)
            } else {
                by_height(h)
            }
        }
        (None, None) => (src_width.max(1), src_height.max(1)),
    };
    let kept = match (crop, size.width, size.height) {
        (true, Some(w), Some(h)) => (w.min(resized.0), h.min(resized.1)),
        _ => resized,
    };
    Geometry { resized, kept }
}

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

#[cfg(test)]
mod tests {
    use super::{geometry, thumbnail_size, Geometry, Size};

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
    fn sizes_parse_as_vipsthumbnail_writes_them() {
        let parse = |t: &str| t.parse::<Size>();
        assert_eq!(parse("200").unwrap(), Size::width(200));
        assert_eq!(
            parse("x150").unwrap(),
            Size {
                width: None,
                height: Some(150)
            }
        );
        assert_eq!(
            parse("200x150").unwrap(),
            Size {
                width: Some(200),
                height: Some(150)
            }
        );
        for text in ["200", "x150", "200x150"] {
            assert_eq!(parse(text).unwrap().to_string(), text);
        }
        assert!(parse("x").unwrap_err().contains("not a size"));
        assert!(parse("200x").is_ok(), "a trailing x is a width");
        assert!(parse("0x10").unwrap_err().contains("out of range"));
        assert!(parse("20000").unwrap_err().contains("out of range"));
        assert!(parse("ax3").unwrap_err().contains("'ax3' is not a size"));
    }

    #[test]
    fn boxes_fit_inside_or_fill_and_crop() {
        let g = |w, h, size: &str, crop| geometry(w, h, size.parse().unwrap(), crop, true);
        let same = |r: (u32, u32)| Geometry {
            resized: r,
            kept: r,
        };
        // Landscape 1600x1200 (4:3).
        assert_eq!(g(1600, 1200, "x150", false), same((200, 150)));
        assert_eq!(g(1600, 1200, "200x200", false), same((200, 150)));
        assert_eq!(g(1600, 1200, "100x300", false), same((100, 75)));
        assert_eq!(
            g(1600, 1200, "200x200", true),
            Geometry {
                resized: (266, 200),
                kept: (200, 200)
            }
        );
        // Portrait 1065x1600.
        assert_eq!(g(1065, 1600, "200x200", false), same((133, 200)));
        assert_eq!(
            g(1065, 1600, "200x200", true),
            Geometry {
                resized: (200, 300),
                kept: (200, 200)
            }
        );
        // A width or height alone is not cropped.
        assert_eq!(g(1065, 1600, "200", true), same((200, 300)));
        // Without enlargement a small image keeps its size and the box only cuts it.
        assert_eq!(
            geometry(100, 50, "80x80".parse().unwrap(), true, false),
            Geometry {
                resized: (100, 50),
                kept: (80, 50)
            }
        );
        assert_eq!(
            geometry(100, 50, "x80".parse().unwrap(), false, false),
            same((100, 50))
        );
        // A strip crops to the box without a 1.5-million-pixel-wide intermediate.
        let strip = g(10_000, 1, "200x150", true);
        assert!(
            strip.resized.0 <= super::MAX_SIDE && strip.kept.0 <= 200,
            "{strip:?}"
        );
    }
}
